"""Writes (issue 5): single-field updates per second, and importing a 100,000-row legacy ledger.

1. `updatePerson` (one field, history included) over HTTP — token check, write
   check, version check, the update, its history row, the access log — against
   the same UPDATE with plain SQLAlchemy, in the same run. Target: ratio ≥ 0.5.
2. `hub.legacy.importer` reading, planning and applying a 100,000-row messy
   ledger into an empty village, against reading the same file alone with
   openpyxl's read-only mode. Target: ratio ≤ 3.

    python -m bench.writes [--updates 300] [--rows 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import httpx
from openpyxl import load_workbook
from sqlalchemy import delete, func, select, update

from bench.common import report
from hub import accounts, migrate
from hub.app import create_app
from hub.background_server import serve_in_thread
from hub.db import create_engine
from hub.demo import seed_demo
from hub.legacy.importer import apply_import, default_mapping, plan_import, read_rows
from hub.legacy.messy import write_ledger
from hub.models import Change, Household, Person, Region
from hub.settings import Settings
from resolvers.context import Context
from resolvers.scope import jurisdiction
from schema.build import Schemas

UPDATE = """mutation($id: ID!, $v: Int!, $s: String) {
  updatePerson(id: $id, version: $v, input: {recentStatus: $s}) { person { version } errors { message } } }"""


async def scratch_engine(directory: Path):
    settings = replace(Settings.from_env(), data_dir=directory, database_url=f"sqlite+aiosqlite:///{directory / 'writes.sqlite3'}")
    engine = create_engine(settings)
    await migrate.upgrade(engine)
    await seed_demo(engine, scale=1)
    return settings, engine


async def updates(settings, engine, count: int) -> dict[str, list[float]]:
    async with engine.connect() as conn:
        village = (await conn.execute(select(Region.id).where(Region.name == "东星社区"))).scalar_one()
        person_ids = (
            await conn.execute(select(Person.id).join(Household, Household.id == Person.household_id).where(Household.village_id == village).limit(2))
        ).scalars().all()
    hub_person, plain_person = person_ids
    token = await accounts.issue_token(engine, "dongxing", days=1)
    times: dict[str, list[float]] = {"plain_sqlalchemy_update": [], "hub_update_person_http": []}
    with serve_in_thread(create_app(settings)) as url:
        async with httpx.AsyncClient(base_url=url, headers={"authorization": f"Bearer {token}"}) as client:
            version = 1
            plain_version = 1
            for round_number in range(count // 25):
                started = time.perf_counter()
                for i in range(25):  # the baseline: the same single-field update, version-checked
                    async with engine.begin() as conn:
                        await conn.execute(
                            update(Person)
                            .where(Person.id == plain_person, Person.version == plain_version)
                            .values(recent_status=f"走访 {round_number}-{i}", version=Person.version + 1)
                        )
                    plain_version += 1
                times["plain_sqlalchemy_update"].append((time.perf_counter() - started) / 25)
                started = time.perf_counter()
                for i in range(25):
                    response = await client.post("/graphql", json={"query": UPDATE, "variables": {"id": hub_person, "v": version, "s": f"走访 {round_number}-{i}"}})
                    body = response.json()["data"]["updatePerson"]
                    assert not body["errors"], body["errors"]
                    version = body["person"]["version"]
                times["hub_update_person_http"].append((time.perf_counter() - started) / 25)
    async with engine.connect() as conn:
        changes = (await conn.execute(select(func.count()).select_from(Change).where(Change.record_id == hub_person))).scalar_one()
    assert changes == version - 1, "every update left its history row"
    return times


async def imports(settings, engine, rows: int, rounds: int, directory: Path) -> dict[str, list[float]]:
    path = directory / "ledger.xlsx"
    started = time.perf_counter()
    ledger = write_ledger(path, rows=rows, seed=3, bad_rows=rows // 1000, duplicate_rows=rows // 1000, upgrade15=rows // 100)
    print(f"wrote a {rows:,}-row messy ledger in {time.perf_counter() - started:.1f} s ({len(ledger.people):,} people)")
    schemas = Schemas(settings)
    caller = await accounts.caller_named(engine, "dongxing")
    context = Context(engine, settings, "bench", caller=caller, policy=schemas.policy, scope=jurisdiction(caller.jurisdiction_code, caller.jurisdiction_level))
    mapping = default_mapping()
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
        # A few generated ID numbers may already belong to demo people: those rows are updates.
        summary = plan.summary()
        assert summary["new"] + summary["updated"] + summary["unchanged"] == len(ledger.people), summary
        assert summary["rejected"] == len(ledger.bad), summary
        async with engine.begin() as conn:  # back to empty for the next round
            await conn.execute(delete(Person).where(Person.id > last[Person.__table__]))
            await conn.execute(delete(Household).where(Household.id > last[Household.__table__]))
    print(f"read {cells:,} cells per pass")
    return times


async def main(update_count: int, rows: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        settings, engine = await scratch_engine(Path(directory))
        try:
            update_times = await updates(settings, engine, update_count)
            rates = {name: [1 / t for t in values] for name, values in update_times.items()}
            print(
                f"\nsingle-field updates per second: plain {statistics.median(rates['plain_sqlalchemy_update']):.0f}/s, "
                f"hub {statistics.median(rates['hub_update_person_http']):.0f}/s"
            )
            ratios = report("update throughput (per-update time; lower is better)", update_times, "plain_sqlalchemy_update")
            print(f"RESULT updates throughput_ratio={1 / ratios['hub_update_person_http']:.2f} (target ≥ 0.5)")
            import_times = await imports(settings, engine, rows, rounds, Path(directory))
            ratios = report(f"import of a {rows:,}-row ledger", import_times, "openpyxl_read_only", "ratio ≤ 3")
            print(f"RESULT import ratio={ratios['hub_import_apply']:.2f}")
        finally:
            await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=300)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(main(args.updates, args.rows, args.rounds))
