"""Nested read over one town: towns → villages → households → members.

The hub over HTTP (uvicorn on 127.0.0.1, the real endpoint) against a floor
measured in the same run: the same rows fetched with one hand-written SQL join
and serialised to JSON, in process. Target: ratio ≤ 3.0.

    python -m bench.nested_read [--scale 300] [--rounds 10]
"""

from __future__ import annotations

import httpx
import orjson
from sqlalchemy import text

from bench.common import (
    bench_settings,
    interleaved,
    report,
    run_from_command_line,
    seeded_engine,
    token_for,
)
from hub.data.database import StatementCounter
from hub.web.app import create_app
from hub.web.background_server import serve_in_thread

TOWN = "西天尾镇"

QUERY = """
query NestedRead($town: String!) {
  region(code: $town) {
    code name
    children(first: 100) {
      nodes {
        code name
        households(first: 1000) {
          nodes {
            id address lowIncome
            members { id name idNumber gender birthDate relationToHead }
          }
        }
      }
    }
  }
}
"""

FLOOR_SQL = text(
    """
    SELECT v.code AS village_code, v.name AS village_name,
           h.id AS household_id, h.address, h.low_income,
           p.id AS person_id, p.name, p.id_number, p.gender, p.birth_date, p.relation_to_head
    FROM regions t
    JOIN regions v ON v.parent_id = t.id
    JOIN households h ON h.village_id = v.id
    JOIN persons p ON p.household_id = h.id
    WHERE t.code = :town
    ORDER BY v.code, h.id, p.id
    """
)


async def main(scale: int, rounds: int) -> None:
    settings = bench_settings(scale)
    engine = await seeded_engine(settings, scale)
    async with engine.connect() as connection:
        town = (await connection.execute(text("SELECT code FROM regions WHERE name = :n"), {"n": TOWN})).scalar_one()

    async def floor() -> bytes:
        async with engine.connect() as connection:
            rows = (await connection.execute(FLOOR_SQL, {"town": town})).mappings().all()
        return orjson.dumps([dict(row) for row in rows])

    persons = len(orjson.loads(await floor()))
    app = create_app(settings)
    counter = StatementCounter(app.state.engine)
    token = await token_for(engine, "admin")
    with serve_in_thread(app) as url:
        async with httpx.AsyncClient(base_url=url, timeout=120, headers={"authorization": f"Bearer {token}"}) as client:

            async def hub() -> bytes:
                response = await client.post("/graphql", json={"query": QUERY, "variables": {"town": town}})
                response.raise_for_status()
                return response.content

            body = orjson.loads(await hub())
            assert "errors" not in body, body["errors"]
            villages = body["data"]["region"]["children"]["nodes"]
            households = sum(len(v["households"]["nodes"]) for v in villages)
            members = sum(len(h["members"]) for v in villages for h in v["households"]["nodes"])
            assert members == persons, (members, persons)
            counter.reset()
            await hub()
            statements = counter.count
            times = await interleaved(rounds, warmup=2, floor_sql_json=floor, hub_graphql_http=hub)
    await engine.dispose()
    print(f"\n{TOWN}: {len(villages)} villages, {households:,} households, {members:,} persons; "
          f"database {engine.dialect.name}; SQL statements per hub request: {statements}")
    ratios = report("nested read (towns → villages → households → members)", times, "floor_sql_json", "ratio ≤ 3.0")
    print(f"RESULT nested_read ratio={ratios['hub_graphql_http']:.2f} statements={statements}")


if __name__ == "__main__":
    run_from_command_line(main, __doc__)
