"""Load and faults, bounded: real hub processes on 127.0.0.1, each test stops by itself.

- two hub processes on PostgreSQL under a short mixed load: no 5xx, resident memory flat over the
  second half, no lost update;
- `kill -9` during `hub import --apply`: the import is all there or not at all, the hub starts cleanly;
- the database unavailable under load: a clear 503 while it is down, answers again after, same process.

They run on a throwaway database of their own (PostgreSQL: `<test database>_ops` on the test server;
SQLite: a file in a temporary folder), seeded small, so neither the load nor the outage touches the
session's database. The outage is simulated on that database alone: new connections are refused
(`ALTER DATABASE … ALLOW_CONNECTIONS false`) and its open ones terminated, which is what the hub sees
of a server restart, while the shared PostgreSQL server and every other database on it keep running.
The sizes are small here (HUB_LOAD_SECONDS, 15 s; HUB_KILL_LEDGER_ROWS, 2,000 rows); bench/load.py runs
the long variants (60 s, 50,000 rows) through these same tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from hub.access import accounts
from hub.data import migrate
from hub.data.database import UNAVAILABLE_MESSAGE, create_engine, is_sqlite
from hub.data.models import Household, Person, Region
from hub.demo import seed_demo
from hub.settings import Settings
from tests.support.hub_process import hub_command, hub_env, hub_process
from tests.support.messy_ledger import write_ledger

LOAD_SECONDS = float(os.environ.get("HUB_LOAD_SECONDS") or 15)
LEDGER_ROWS = int(os.environ.get("HUB_KILL_LEDGER_ROWS") or 2000)  # bench/load.py: 50,000
CLIENTS = 8
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
USERS = ("admin", "minzheng", "dongxing")
NESTED = """query Nested($town: String!) { regions(parentCode: $town, first: 50) { nodes { name
  households(first: 100) { totalCount nodes { address head { name } members { name relationToHead } } } } } }"""
COUNTER = "query Counter($id: ID!) { household(id: $id) { version incomePerPersonMonthly } }"
INCREMENT = """mutation Increment($id: ID!, $version: Int!, $value: Float!) {
  updateHousehold(id: $id, version: $version, input: {incomePerPersonMonthly: $value}) { household { version } errors { code } } }"""
NEW_HOUSEHOLD = """mutation($v: String!, $input: NewHouseholdInput!) { createHousehold(villageCode: $v, input: $input) { household { id } errors { message } } }"""


@dataclass
class OpsDatabase:
    url: str
    data_dir: Path
    tokens: dict[str, str]
    village: str  # 东星社区, the demo cadre's village
    town: str  # 西天尾镇


def _postgres_admin_url(test_url: str) -> str:
    return make_url(test_url).set(database="postgres").render_as_string(hide_password=False)


@pytest.fixture(scope="module")
async def ops(settings: Settings, tmp_path_factory) -> AsyncIterator[OpsDatabase]:
    data_dir = tmp_path_factory.mktemp("ops")
    if is_sqlite(settings.database_url):
        url = f"sqlite+aiosqlite:///{data_dir / 'ops.sqlite3'}"
        admin = None
    else:
        name = f"{make_url(settings.database_url).database}_ops"
        url = make_url(settings.database_url).set(database=name).render_as_string(hide_password=False)
        admin = create_async_engine(_postgres_admin_url(settings.database_url), isolation_level="AUTOCOMMIT")
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine = create_engine(Settings(data_dir=data_dir, database_url=url, assets_dir=settings.assets_dir))
    try:
        await migrate.upgrade(engine)
        await seed_demo(engine, scale=2)
        tokens = {user: await accounts.issue_token(engine, user) for user in USERS}
        async with engine.connect() as connection:
            village = (await connection.execute(select(Region.code).where(Region.name == "东星社区"))).scalar_one()
            town = (await connection.execute(select(Region.code).where(Region.name == "西天尾镇"))).scalar_one()
    finally:
        await engine.dispose()
    yield OpsDatabase(url, data_dir, tokens, village, town)
    if admin is not None:
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
        await admin.dispose()


def _postgres_only(ops: OpsDatabase) -> None:
    if is_sqlite(ops.url):
        pytest.skip("several hub processes and a database server going away: PostgreSQL (HUB_TEST_DATABASE_URL)")


async def _graphql(client: httpx.AsyncClient, query: str, variables: dict) -> httpx.Response:
    return await client.post("/graphql", json={"query": query, "variables": variables})


@contextlib.asynccontextmanager
async def _clients(urls: list[str], token: str) -> AsyncIterator[list[httpx.AsyncClient]]:
    async with contextlib.AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(httpx.AsyncClient(base_url=url, headers={"authorization": f"Bearer {token}"}, timeout=30))
            for url in urls
        ]


# --- two processes, mixed load -----------------------------------------------------------------


async def test_two_hubs_under_mixed_load_no_5xx_flat_memory_no_lost_update(ops: OpsDatabase, tmp_path):
    _postgres_only(ops)
    with (
        hub_process(ops.url, ops.data_dir, tmp_path / "a.log") as first,
        hub_process(ops.url, ops.data_dir, tmp_path / "b.log") as second,
    ):
        urls = [first.url, second.url]
        statuses: Counter[tuple[str, int]] = Counter()
        latencies: dict[str, list[float]] = {}
        successes = [0] * CLIENTS
        rss: list[tuple[float, int, int]] = []
        async with _clients(urls, ops.tokens["dongxing"]) as (cadre_a, cadre_b):
            counters = []
            for client in range(CLIENTS):
                created = (await _graphql(cadre_a, NEW_HOUSEHOLD, {"v": ops.village, "input": {"address": f"东星社区计数路{client}号"}})).json()
                counters.append(created["data"]["createHousehold"]["household"]["id"])
            sheet = await cadre_a.get("/fill-sheets/dibao-dongtai.xlsx", params={"region": ops.village})
            assert sheet.status_code == 200

        async def increment(client: httpx.AsyncClient, index: int) -> None:
            current = (await _graphql(client, COUNTER, {"id": counters[index]})).json()["data"]["household"]
            value = (current["incomePerPersonMonthly"] or 0) + 1
            answer = await _graphql(client, INCREMENT, {"id": counters[index], "version": current["version"], "value": value})
            statuses["update", answer.status_code] += 1
            payload = answer.json()["data"]["updateHousehold"]
            if payload["errors"]:
                assert [e["code"] for e in payload["errors"]] == ["CONFLICT"], payload  # lost the race: fine, not counted
            else:
                successes[index] += 1

        async def client_loop(index: int, warm_up: bool = False) -> None:
            async with _clients(urls, ops.tokens["admin"]) as admins, _clients(urls, ops.tokens["minzheng"]) as civil, \
                    _clients(urls, ops.tokens["dongxing"]) as cadres:
                step = 0
                while (step < 10) if warm_up else (time.monotonic() < deadline):
                    hub = step % 2  # every client alternates between the two processes
                    kind = ("read", "update", "export", "update", "upload")[step % 5]
                    asked = time.monotonic()
                    if kind == "update":
                        # Two read-modify-writes of this client's counter at once, one through each process:
                        # the version check must let exactly the successes through.
                        await asyncio.gather(increment(civil[0], index), increment(civil[1], index))
                    else:
                        if kind == "read":
                            response = await _graphql(admins[hub], NESTED, {"town": ops.town})
                        elif kind == "export":
                            response = await civil[hub].get("/exports/dibao-dongtai.xlsx", params={"region": ops.village})
                        else:
                            response = await cadres[hub].post("/fill-sheets", content=sheet.content, headers={"content-type": XLSX})
                        statuses[kind, response.status_code] += 1
                    latencies.setdefault(kind, []).append(time.monotonic() - asked)
                    step += 1

        async def sample_memory() -> None:
            while time.monotonic() < deadline:
                rss.append((time.monotonic() - started, first.rss_kib(), second.rss_kib()))
                await asyncio.sleep(0.25)

        # Warm up first (every kind of request through both processes), so that the second half
        # measures growth under steady load, not the first export's allocations.
        await asyncio.gather(*(client_loop(i, warm_up=True) for i in range(CLIENTS)))
        statuses.clear()
        latencies.clear()
        started = time.monotonic()
        deadline = started + LOAD_SECONDS
        await asyncio.gather(sample_memory(), *(client_loop(i) for i in range(CLIENTS)))

        async with _clients(urls, ops.tokens["minzheng"]) as (civil_a, _):
            finals = [(await _graphql(civil_a, COUNTER, {"id": c})).json()["data"]["household"]["incomePerPersonMonthly"] or 0 for c in counters]
    print(f"\nload: {LOAD_SECONDS:g} s ({time.monotonic() - started:.0f} s with the last answers), {CLIENTS} clients, two processes: "
          f"{dict(statuses)}; successful increments {successes}")
    for kind, times in sorted(latencies.items()):
        times.sort()
        print(f"  {kind}: {len(times)} done, median {times[len(times) // 2] * 1000:.0f} ms, slowest {times[-1] * 1000:.0f} ms")
    assert not [key for key in statuses if key[1] >= 500], statuses
    for kind in ("read", "update", "export", "upload"):
        assert statuses[kind, 200] > 0, (kind, statuses)
    assert finals == successes  # no lost update
    half = [sample for sample in rss if sample[0] >= LOAD_SECONDS / 2]
    for process in (1, 2):
        start, end, peak = half[0][process], half[-1][process], max(s[process] for s in half)
        print(f"process {process}: RSS {start / 1024:.0f} MiB at half time, {end / 1024:.0f} MiB at the end ({end / start - 1:+.1%}), "
              f"peak {peak / 1024:.0f} MiB")
        assert end <= start * 1.10, f"process {process} grew from {start} to {end} KiB over the second half"


# --- kill -9 during an import --------------------------------------------------------------------


async def _registered(url: str, id_numbers: list[str]) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            found = 0
            for start in range(0, len(id_numbers), 5000):  # PostgreSQL takes at most 32,767 parameters
                chunk = id_numbers[start:start + 5000]
                found += (await connection.execute(select(func.count()).select_from(Person).where(Person.id_number.in_(chunk)))).scalar_one()
            return found
    finally:
        await engine.dispose()


async def _village_people(url: str, village: str) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(
                select(func.count()).select_from(Person).join(Household).join(Region, Region.id == Household.village_id)
                .where(Region.code == village)
            )).scalar_one()
    finally:
        await engine.dispose()


def _writing(url: str) -> bool:
    """Has the import begun writing (a write transaction open, not yet committed)?"""
    if is_sqlite(url):
        connection = sqlite3.connect(make_url(url).database, timeout=0)
        try:
            connection.execute("BEGIN IMMEDIATE")  # taken at once unless a writer holds the lock
            connection.rollback()
            return False
        except sqlite3.OperationalError as error:
            assert "locked" in str(error)
            return True
        finally:
            connection.close()
    database = make_url(url).database
    found = subprocess.run(
        ["psql", "-h", make_url(url).host or "127.0.0.1", "-U", make_url(url).username or "postgres", "-d", database, "-tAc",
         f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{database}' AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()"],
        capture_output=True, text=True, check=True,
    )
    return int(found.stdout.strip()) > 0


async def test_kill_9_during_an_import_leaves_all_or_nothing_and_the_hub_starts(ops: OpsDatabase, tmp_path):
    ledger_path = tmp_path / "ledger.xlsx"
    ledger = await asyncio.to_thread(write_ledger, ledger_path, rows=LEDGER_ROWS, seed=17, village="东星社区")
    before = await _village_people(ops.url, ops.village)
    id_numbers = [person["id_number"] for person in ledger.people]
    known = await _registered(ops.url, id_numbers)  # a generated number may already be a demo person's: not new
    command = hub_command("import", str(ledger_path), "--as", "dongxing", "--village", ops.village, "--apply")
    env = hub_env(ops.url, ops.data_dir)

    launched = time.monotonic()
    importer = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90 + LEDGER_ROWS / 200  # reading and planning come before the first write
        while not await asyncio.to_thread(_writing, ops.url):
            assert importer.poll() is None, f"the import ended before it was killed: {importer.stderr.read().decode()}"
            assert time.monotonic() < deadline, "the import never began writing"
            await asyncio.sleep(0.05)
        writing_after = time.monotonic() - launched
        await asyncio.sleep(0.05)  # inside its transaction: a 2,000-row apply can commit within 0.3 s on a quiet machine
        importer.send_signal(signal.SIGKILL)
        importer.wait(10)
    finally:
        if importer.poll() is None:
            importer.kill()
            importer.wait()
    assert importer.returncode == -signal.SIGKILL
    assert await _village_people(ops.url, ops.village) == before  # nothing of it
    assert await _registered(ops.url, id_numbers) == known

    with hub_process(ops.url, ops.data_dir, tmp_path / "after.log") as hub:  # starts cleanly on what the kill left
        async with httpx.AsyncClient(base_url=hub.url) as client:
            ready = await client.get("/readyz")
    # Its database and schema are ready (GraphiQL's assets are another test's business).
    assert {k: v for k, v in ready.json()["checks"].items() if k != "assets"} == {"database": "ok", "migrations": "ok"}, ready.text

    rerun = time.monotonic()
    finished = await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True, timeout=300 + LEDGER_ROWS / 50, check=False)
    assert finished.returncode == 0, finished.stderr
    print(f"\nimport of {LEDGER_ROWS:,} rows: writing began {writing_after:.1f} s after the start, killed 0.05 s later; "
          f"nothing of it was there, the hub started ready; the rerun took {time.monotonic() - rerun:.1f} s and landed every person")
    assert await _village_people(ops.url, ops.village) - before == len(ledger.people) - known  # all of it
    assert await _registered(ops.url, id_numbers) == len(ledger.people)


# --- the database goes away under load --------------------------------------------------------------


async def _set_connections(ops: OpsDatabase, settings: Settings, allowed: bool) -> None:
    admin = create_async_engine(_postgres_admin_url(settings.database_url), isolation_level="AUTOCOMMIT")
    name = make_url(ops.url).database
    try:
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"true" if allowed else "false"}')
            if not allowed:
                await connection.exec_driver_sql(
                    f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                )
    finally:
        await admin.dispose()


async def test_database_outage_under_load_is_a_clear_503_and_passes_without_a_restart(ops: OpsDatabase, settings: Settings, tmp_path):
    _postgres_only(ops)
    phases = {"before": 3.0, "down": 5.0, "after": 5.0}
    with hub_process(ops.url, ops.data_dir, tmp_path / "hub.log") as hub:
        pid = hub.process.pid
        seen: list[tuple[str, float, int, dict, str | None]] = []
        phase = "before"
        stop = asyncio.Event()

        async def load(index: int) -> None:
            user = USERS[index % len(USERS)]
            async with httpx.AsyncClient(base_url=hub.url, headers={"authorization": f"Bearer {ops.tokens[user]}"}, timeout=30) as client:
                while not stop.is_set():
                    response = await _graphql(client, "query Villages { regions(level: VILLAGE) { totalCount } }", {})
                    seen.append((phase, time.monotonic(), response.status_code, response.json(), response.headers.get("retry-after")))
                    await asyncio.sleep(0.05)

        workers = [asyncio.create_task(load(i)) for i in range(4)]
        try:
            await asyncio.sleep(phases["before"])
            await _set_connections(ops, settings, allowed=False)
            phase, down_at = "down", time.monotonic()
            await asyncio.sleep(phases["down"])
            async with httpx.AsyncClient(base_url=hub.url) as probe:
                ready_down, alive_down = await probe.get("/readyz"), await probe.get("/healthz")
            await _set_connections(ops, settings, allowed=True)
            phase, up_at = "after", time.monotonic()
            await asyncio.sleep(phases["after"])
        finally:
            stop.set()
            await asyncio.gather(*workers)
            await _set_connections(ops, settings, allowed=True)
        assert hub.process.poll() is None and hub.process.pid == pid  # the same process throughout

    by_phase = {p: Counter(s[2] for s in seen if s[0] == p) for p in phases}
    print(f"\noutage: answers by phase {by_phase}")
    assert set(by_phase["before"]) == {200}
    assert set(by_phase["down"]) <= {200, 503} and by_phase["down"][503] > 0
    unavailable = [s for s in seen if s[2] == 503]
    for _, _, _, body, retry_after in unavailable:
        assert retry_after == "5"
        assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [(UNAVAILABLE_MESSAGE, "DATABASE_UNAVAILABLE")]
    # Requests already past the database when it went away may still answer 200; a second later none do.
    assert {s[2] for s in seen if s[0] == "down" and s[1] > down_at + 1} == {503}
    recovered = [s[1] - up_at for s in seen if s[0] == "after" and s[2] == 200]
    assert recovered and recovered[0] < 3, "answers again within seconds of the database coming back"
    assert {s[2] for s in seen if s[0] == "after" and s[1] > up_at + 3} == {200}
    assert ready_down.status_code == 503 and ready_down.json()["checks"]["database"].startswith("unreachable")
    assert alive_down.status_code == 200
