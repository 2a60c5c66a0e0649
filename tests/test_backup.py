"""`hub backup` of a serving SQLite hub and `hub restore` into an empty data folder give the same answers."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import tarfile
from dataclasses import replace

import httpx
import pytest

from hub.data import migrate
from hub.data.backup import BackupError, restore
from hub.data.database import create_engine, is_sqlite
from hub.web.app import create_app
from tests.conftest import client_as, graphql
from tests.support.hub_process import hub_command, hub_env

ANSWERS = [
    ("{ regions(level: VILLAGE) { totalCount } }", {}),
    (
        """query($n: String) { households(regionCode: $n, first: 1000) { totalCount
             nodes { id version address lowIncome subsidyMonthly head { name idNumber age } members { id name relationToHead } } } }""",
        {"n": None},  # the village: 东星社区, where new_household registers (set by the test)
    ),
    ("{ enterprises(first: 50) { totalCount nodes { id name creditCode version } } }", {}),
    ("{ floodPoints(first: 50) { totalCount nodes { id name riskLevel status nearbyEnterprise { name } } } }", {}),
]


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(hub_command(*args), env=env, capture_output=True, text=True, timeout=120, check=False)


async def _answers(app, token: str, village: str) -> list[dict]:
    async with client_as(app, token) as client:
        return [await graphql(client, query, {k: village for k in variables}) for query, variables in ANSWERS]


async def test_a_backup_of_a_serving_hub_restores_to_the_same_answers(settings, app, schemas, tokens, live_server, new_household, tmp_path):
    if not is_sqlite(settings.database_url):
        pytest.skip("hub backup is for the embedded SQLite database (PostgreSQL: pg_dump, see README.md)")
    household, head = await new_household()  # written just before: the backup has it
    async with client_as(app, tokens["admin"]) as admin:
        found = await graphql(admin, '{ regions(nameContains: "东星社区") { nodes { code } } }')
    village = found["regions"]["nodes"][0]["code"]
    archive = tmp_path / "hub-backup.tar.gz"

    async def keep_reading(stop: asyncio.Event) -> int:
        # The serving hub answers meanwhile, and its access log writes a row batch every second.
        done = 0
        async with httpx.AsyncClient(base_url=live_server, headers={"authorization": f"Bearer {tokens['admin']}"}) as client:
            while not stop.is_set():
                response = await client.post("/graphql", json={"query": ANSWERS[1][0], "variables": {"n": village}})
                assert response.status_code == 200
                done += 1
        return done

    stop = asyncio.Event()
    reader = asyncio.create_task(keep_reading(stop))
    await asyncio.sleep(0.3)
    backed_up = await asyncio.to_thread(_run, "backup", str(archive), env=hub_env(settings.database_url, settings.data_dir))
    stop.set()
    assert await reader > 0
    assert backed_up.returncode == 0, backed_up.stderr
    assert f"to {archive}" in backed_up.stderr  # messages go to stderr, as every command's do

    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == ["hub.sqlite3", "manifest.json", "secret.key"]

    restored_dir = tmp_path / "restored"
    restored_url = f"sqlite+aiosqlite:///{restored_dir / 'hub.sqlite3'}"
    env = hub_env(restored_url, restored_dir)
    restored = await asyncio.to_thread(_run, "restore", str(archive), env=env)
    assert restored.returncode == 0, restored.stderr
    assert (restored_dir / "secret.key").read_bytes() == (settings.data_dir / "secret.key").read_bytes()

    with pytest.raises(BackupError) as again:
        restore(archive, restored_url, restored_dir)
    assert str(again.value) == f"{restored_dir} already holds a hub: restore only into an empty data folder"

    restored_settings = replace(settings, data_dir=restored_dir, database_url=restored_url)
    engine = create_engine(restored_settings)
    try:
        assert await migrate.current_revision(engine) == migrate.head_revision()
        restored_app = create_app(restored_settings, engine=engine, schemas=schemas)
        expected, found = await _answers(app, tokens["admin"], village), await _answers(restored_app, tokens["admin"], village)
        assert found == expected
        ids = [h["id"] for h in found[1]["households"]["nodes"]]
        assert household["id"] in ids  # the write made before the backup is there
        async with client_as(restored_app, tokens["dongxing"]) as cadre:  # and so are the tokens
            assert (await graphql(cadre, "{ regions(level: VILLAGE) { totalCount } }"))["regions"]["totalCount"] == 1
    finally:
        await engine.dispose()


def test_a_damaged_or_foreign_archive_is_refused_and_nothing_is_written(tmp_path, settings):
    if not is_sqlite(settings.database_url):
        pytest.skip("hub restore is for the embedded SQLite database")
    target = tmp_path / "data"
    url = f"sqlite+aiosqlite:///{target / 'hub.sqlite3'}"
    not_tar = tmp_path / "notes.txt"
    not_tar.write_text("hello")
    with pytest.raises(BackupError, match="is not a hub backup"):
        restore(not_tar, url, target)

    damaged = tmp_path / "damaged.tar.gz"  # a manifest whose database does not match it
    manifest = json.dumps({"format": "grassroots-hub-backup", "version": 1, "created": "x", "revision": None,
                           "members": {"hub.sqlite3": {"bytes": 5, "sha256": "0" * 64}}}).encode()
    with tarfile.open(damaged, "w:gz") as tar:
        for name, data in (("manifest.json", manifest), ("hub.sqlite3", b"hello")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with pytest.raises(BackupError) as refused:
        restore(damaged, url, target)
    assert str(refused.value) == f"{damaged}: hub.sqlite3 does not match its manifest (damaged archive)"
    assert not (target / "hub.sqlite3").exists() and list(target.iterdir()) == []


def test_backup_on_postgresql_points_to_pg_dump(tmp_path):
    ran = _run("backup", str(tmp_path / "x.tar.gz"), env=hub_env("postgresql+asyncpg://postgres@127.0.0.1:5432/nowhere", tmp_path))
    assert ran.returncode == 1
    assert ran.stderr.strip() == (
        "hub backup/restore is for the embedded SQLite database; for PostgreSQL use "
        "pg_dump --format=custom and pg_restore (see README.md, Backups)"
    )
    assert not (tmp_path / "x.tar.gz").exists()
