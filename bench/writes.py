"""Writes (issue 5): single-field updates per second, and importing a 100,000-row legacy ledger.

1. `updatePerson` (one field, history included) as a client sees it: `hub serve`
   in its own process, one kept-alive HTTP connection, every request signed in
   with a bearer token, write-checked, version-checked, its history row written
   — against plain SQLAlchemy in this process, in the same run:
   - the same update, history included, as written by hand: read the old value,
     the version-checked UPDATE, the history row with old and new values, in one
     transaction. Target: ratio ≥ 0.5.
   - the bare version-checked UPDATE without history, for reference: how much
     keeping the history costs by itself.
2. `hub.legacy.importer` reading, planning and applying a 100,000-row messy
   ledger into an empty village, against reading the same file alone with
   openpyxl's read-only mode. Target: ratio ≤ 3.

    python -m bench.writes [--updates 500] [--rows 100000] [--rounds 2] [--database-url URL]

With --database-url (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/hub_bench)
the named database is emptied and used instead of a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import orjson
from openpyxl import load_workbook
from sqlalchemy import delete, func, insert, select, update

from bench.common import KeepAliveClient, hub_process, report, run
from hub import clock
from hub.access import accounts
from hub.data import migrate
from hub.data.database import create_engine
from hub.data.models import Base, Change, ChangeSource, Household, Person, Region
from hub.demo import seed_demo
from hub.domain.context import Context
from hub.legacy.importer import apply_import, built_in_mapping, plan_import, read_rows
from hub.settings import Settings
from hub.web.background_server import free_port
from schema.build import Schemas
from tests.support.messy_ledger import write_ledger

UPDATE = """mutation($id: ID!, $v: Int!, $s: String) {
  updatePerson(id: $id, version: $v, input: {recentStatus: $s}) { person { version } errors { message } } }"""
BATCH = 25  # updates per timed round


async def scratch_engine(directory: Path, database_url: str | None = None):
    url = database_url or f"sqlite+aiosqlite:///{directory / 'writes.sqlite3'}"
    settings = replace(Settings.from_env(), data_dir=directory, database_url=url)
    engine = create_engine(settings)
    if database_url:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.drop_all)
            await connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    await migrate.upgrade(engine)
    await seed_demo(engine, scale=1)
    return settings, engine


async def updates(settings, engine, count: int) -> dict[str, list[float]]:
    async with engine.connect() as conn:
        village = (await conn.execute(select(Region.id).where(Region.name == "东星社区"))).scalar_one()
        plain_person, history_person, hub_person = (
            await conn.execute(select(Person.id).join(Household, Household.id == Person.household_id).where(Household.village_id == village).limit(3))
        ).scalars().all()
    caller = await accounts.caller_named(engine, "dongxing")
    token = await accounts.issue_token(engine, "dongxing", days=1)
    versions = {plain_person: 1, history_person: 1, hub_person: 1}

    async def plain_update(person: int, status: str, with_history: bool) -> None:
        version = versions[person]
        async with engine.begin() as conn:
            # A history row holds the old value: written by hand, it is read first.
            old = (await conn.execute(select(Person.recent_status).where(Person.id == person))).scalar_one() if with_history else None
            updated = await conn.execute(
                update(Person)
                .where(Person.id == person, Person.version == version)
                # The hub dates a changed 近期动态 (Person.recentStatusDate): so does the baseline.
                .values(recent_status=status, recent_status_date=clock.today(), version=Person.version + 1, updated_at=dt.datetime.now(dt.UTC))
            )
            assert updated.rowcount == 1
            if with_history:
                await conn.execute(insert(Change).values(
                    entity="Person", record_id=person, field="recentStatus", old_value=old, new_value=status,
                    version=version + 1, user_id=caller.user_id, username=caller.username, org_unit=caller.org_unit,
                    at=dt.datetime.now(dt.UTC), source=ChangeSource.API, request_id="bench",
                ))
        versions[person] = version + 1

    times: dict[str, list[float]] = {"plain_update_with_history": [], "plain_bare_update": [], "hub_update_person_http": []}
    port = free_port()
    async with hub_process(settings, port), KeepAliveClient.connect("127.0.0.1", port, {"authorization": f"Bearer {token}"}) as client:

        async def hub_update(person: int, status: str) -> None:
            body = orjson.dumps({"query": UPDATE, "variables": {"id": person, "v": versions[person], "s": status}})
            status_code, answer = await client.post_json("/graphql", body)
            result = orjson.loads(answer)["data"]["updatePerson"]
            assert status_code == 200 and not result["errors"], answer
            versions[person] = result["person"]["version"]

        candidates = {
            "plain_update_with_history": lambda s: plain_update(history_person, s, with_history=True),
            "plain_bare_update": lambda s: plain_update(plain_person, s, with_history=False),
            "hub_update_person_http": lambda s: hub_update(hub_person, s),
        }
        for round_number in range(-2, count // BATCH):  # two rounds of warm-up
            for name, update_once in candidates.items():
                started = time.perf_counter()
                for i in range(BATCH):
                    await update_once(f"走访 {round_number}-{i}")
                if round_number >= 0:
                    times[name].append((time.perf_counter() - started) / BATCH)
    async with engine.connect() as conn:
        changes = (await conn.execute(
            select(func.count()).select_from(Change).where(Change.record_id == hub_person, Change.field == "recentStatus")
        )).scalar_one()
    assert changes == versions[hub_person] - 1, "every update left its history row"
    return times


async def imports(settings, engine, rows: int, rounds: int, directory: Path) -> dict[str, list[float]]:
    path = directory / "ledger.xlsx"
    started = time.perf_counter()
    ledger = write_ledger(path, rows=rows, seed=3, bad_rows=rows // 1000, duplicate_rows=rows // 1000, upgrade15=rows // 100)
    print(f"wrote a {rows:,}-row messy ledger in {time.perf_counter() - started:.1f} s ({len(ledger.people):,} people)")
    schemas = Schemas(settings)
    caller = await accounts.caller_named(engine, "dongxing")
    context = Context.for_caller(engine, settings, schemas.policy, caller, "bench")
    mapping = built_in_mapping("person")
    async with engine.connect() as conn:
        mapping = replace(mapping, village=(await conn.execute(select(Region.code).where(Region.name == "东星社区"))).scalar_one())
        last = {t: (await conn.execute(select(func.max(t.c.id)))).scalar_one() for t in (Person.__table__, Household.__table__)}
    times: dict[str, list[float]] = {"openpyxl_read_only": [], "hub_import_apply": []}
    for _ in range(rounds):
        started = time.perf_counter()
        workbook = load_workbook(path, read_only=True, data_only=True)
        cells = sum(len(row) for row in workbook.worksheets[0].iter_rows(values_only=True))
        workbook.close()
        times["openpyxl_read_only"].append(time.perf_counter() - started)
        started = time.perf_counter()
        read, rejected = read_rows(path, mapping)
        plan, village = await plan_import(context, mapping, read, rejected)
        await apply_import(context, plan, village)
        times["hub_import_apply"].append(time.perf_counter() - started)
        # A few generated ID numbers may already belong to demo people: in 东星社区 those rows
        # are updates; elsewhere they are refused (the cadre may not reach them).
        summary = plan.summary()
        taken = sum(1 for r in summary["rejectedRows"] if r["code"] == "ALREADY_REGISTERED")
        assert summary["new"] + summary["updated"] + summary["unchanged"] + taken == len(ledger.people), summary
        assert summary["rejected"] - taken == len(ledger.bad), summary
        async with engine.begin() as conn:  # back to empty for the next round
            await conn.execute(delete(Person).where(Person.id > last[Person.__table__]))
            await conn.execute(delete(Household).where(Household.id > last[Household.__table__]))
    print(f"read {cells:,} cells per pass")
    return times


async def main(update_count: int, rows: int, rounds: int, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as directory:
        settings, engine = await scratch_engine(Path(directory), database_url)
        print(f"database: {engine.url.render_as_string(hide_password=True)}")
        try:
            update_times = await updates(settings, engine, update_count)
            rates = {name: statistics.median(1 / t for t in values) for name, values in update_times.items()}
            print("\nsingle-field updates per second: " + ", ".join(f"{name} {rate:.0f}/s" for name, rate in rates.items()))
            ratios = report("update throughput (per-update time; lower is better)", update_times, "plain_update_with_history", "ratio ≤ 2, i.e. rate ≥ 0.5")
            print(
                f"RESULT updates throughput_ratio={1 / ratios['hub_update_person_http']:.2f} "
                f"(target ≥ 0.5, against the same update with its history, by hand; "
                f"{ratios['plain_bare_update'] / ratios['hub_update_person_http']:.2f} against a bare UPDATE without history)"
            )
            if not rows:
                return
            import_times = await imports(settings, engine, rows, rounds, Path(directory))
            ratios = report(f"import of a {rows:,}-row ledger", import_times, "openpyxl_read_only", "ratio ≤ 3")
            print(f"RESULT import ratio={ratios['hub_import_apply']:.2f}")
        finally:
            await engine.dispose()


async def suite(scale: int, rounds: int) -> None:
    """For `python -m bench`: a scratch SQLite database (this benchmark empties its database), 2 import rounds at most."""
    await main(1000, 100_000, min(rounds, 2), None)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=500)
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the ledger to import; 0 skips the import")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--database-url", help="an async SQLAlchemy URL; that database is emptied")
    args = parser.parse_args()
    run(main(args.updates, args.rows, args.rounds, args.database_url))
