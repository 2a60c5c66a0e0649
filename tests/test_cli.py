"""The first hour with the CLI: `hub serve --demo`'s sign-in and `hub policy show`."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from hub import cli
from hub.access import accounts
from hub.access.policy import describe
from hub.data.database import create_engine
from hub.settings import Settings


@pytest.fixture
def demo_settings(tmp_path: Path) -> Settings:
    """An embedded database of its own, as `hub serve --demo` makes on a fresh machine."""
    return replace(Settings.from_env(), data_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}")


async def _admin_tokens(settings: Settings) -> list[dict]:
    engine = create_engine(settings)
    try:
        return await accounts.list_tokens(engine, "admin")
    finally:
        await engine.dispose()


async def test_serve_demo_issues_the_admin_token_once(demo_settings, monkeypatch, capsys):
    monkeypatch.setattr(cli, "_default_scale", lambda: 1)  # a small city: the seeding is not under test
    first = await asyncio.to_thread(asyncio.run, cli._prepare_demo(demo_settings))
    cli.print_demo_sign_in(first)
    first_out = capsys.readouterr().err
    again = await asyncio.to_thread(asyncio.run, cli._prepare_demo(demo_settings))
    cli.print_demo_sign_in(again)
    again_out = capsys.readouterr().err

    assert first is not None and again is None
    assert len(await _admin_tokens(demo_settings)) == 1  # the second start issued none
    assert f'{{"Authorization": "Bearer {first}"}}' in first_out
    assert "hub token issue admin" in again_out and "Bearer hub_" not in again_out
    assert " ".join(again_out.split()) == (
        "Demo sign-in: `hub token issue admin` (or any demo user) prints a token; paste "
        '{"Authorization": "Bearer <token>"} into GraphiQL\'s Headers tab.'
    )


@pytest.mark.parametrize("width", [60, 100])
def test_policy_show_never_cuts_a_field_name_or_purpose(schemas, monkeypatch, capsys, width):
    monkeypatch.setenv("COLUMNS", str(width))
    for department in ("yingji", "minzheng"):
        cli.main(["policy", "show", department])
        shown = capsys.readouterr().out
        assert "…" not in shown
        lines = shown.splitlines()
        for field, mode, _purpose, line in describe(schemas.policy, department):
            assert any(field in row and mode in row and f" {line} " in row for row in lines), (width, field)
