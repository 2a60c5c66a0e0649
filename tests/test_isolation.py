"""The suite's own ground: what it tests does not depend on the shell's HUB_* variables or the real date."""

from __future__ import annotations

import datetime as dt

from hub import clock
from hub.settings import Settings
from tests.conftest import TODAY, graphql, settings_for_tests


def test_settings_ignore_the_shells_hub_variables(monkeypatch, tmp_path):
    for name, value in {"HUB_MAX_ALIASES": "50", "HUB_MAX_DEPTH": "3", "HUB_MAX_PAGE_SIZE": "7", "HUB_SECRET_KEY": "x",
                        "HUB_REQUEST_TIMEOUT": "0.01", "HUB_DATABASE_URL": "sqlite+aiosqlite:///elsewhere.sqlite3"}.items():
        monkeypatch.setenv(name, value)
    settings = settings_for_tests(tmp_path)
    defaults = Settings(data_dir=tmp_path, database_url=settings.database_url, assets_dir=settings.assets_dir)
    assert settings == defaults
    assert "elsewhere" not in settings.database_url


def test_the_hubs_clock_is_pinned_for_the_tests():
    assert clock.today() == TODAY
    with clock.pinned(dt.date(2030, 1, 2)):
        assert clock.today() == dt.date(2030, 1, 2)
    assert clock.today() == TODAY


async def test_the_server_counts_ages_on_the_pinned_day(client):
    """Ages computed by the test and by the server agree, across midnight too: both read the one clock."""
    data = await graphql(client, "{ persons(first: 1000) { nodes { birthDate age } } }")
    ages = {p["birthDate"]: p["age"] for p in data["persons"]["nodes"]}
    assert ages
    for birth_date, age in ages.items():
        day = dt.date.fromisoformat(birth_date)
        assert age == TODAY.year - day.year - ((TODAY.month, TODAY.day) < (day.month, day.day))
