"""SQL statements per request grow with the query's depth, never with the number of rows."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import delete, func, select

from hub.access.jurisdiction import Subtree
from hub.data.database import create_engine
from hub.data.identifiers import id_number_check_char
from hub.data.models import Household, Person, Region, RegionLevel
from hub.domain.context import Context
from hub.domain.persons import person_reachable
from resolvers.persons import PERSON_BY_ID
from tests.conftest import graphql
from tests.test_queries import region_code

NESTED = """
query($town: String!) {
  region(code: $town) {
    name
    children(first: 100) {
      nodes {
        name
        households(first: 1000) {
          nodes { address lowIncome members { name idNumber gender birthDate } }
        }
      }
    }
  }
}
"""

households = Household.__table__
persons = Person.__table__
regions = Region.__table__


def request_statements(sql_counter) -> list[str]:
    """What a request sent, but the token lookup: a verified token is remembered for
    HUB_TOKEN_CACHE_SECONDS, so whether a request looks it up depends on the clock."""
    return [s for s in sql_counter.statements if "api_tokens" not in s]


async def _run(client, sql_counter, town: str) -> tuple[int, int]:
    sql_counter.reset()
    data = await graphql(client, NESTED, {"town": town})
    members = sum(len(h["members"]) for v in data["region"]["children"]["nodes"] for h in v["households"]["nodes"])
    return len(request_statements(sql_counter)), members


async def _grow_tenfold(engine, town: str) -> list[int]:
    """Add nine copies of every household (and its members) of the town's villages; return the new ids."""
    async with engine.begin() as conn:
        village_ids = select(regions.c.id).where(regions.c.parent_id == select(regions.c.id).where(regions.c.code == town).scalar_subquery())
        originals = (await conn.execute(select(households).where(households.c.village_id.in_(village_ids)))).mappings().all()
        members = (await conn.execute(select(persons).where(persons.c.household_id.in_([h["id"] for h in originals])))).mappings().all()
        taken = set((await conn.execute(select(persons.c.id_number))).scalars())
        next_household = (await conn.execute(select(func.max(households.c.id)))).scalar_one() + 1
        next_person = (await conn.execute(select(func.max(persons.c.id)))).scalar_one() + 1
        by_household: dict[int, list] = {}
        for member in members:
            by_household.setdefault(member["household_id"], []).append(member)
        new_households, new_persons = [], []
        for _copy in range(9):
            for household in originals:
                new_households.append({**household, "id": next_household})
                for member in by_household.get(household["id"], []):
                    new_persons.append({**member, "id": next_person, "household_id": next_household, "id_number": _fresh_id(member["id_number"], taken)})
                    next_person += 1
                next_household += 1
        await conn.execute(households.insert(), new_households)
        await conn.execute(persons.insert(), new_persons)
    return [h["id"] for h in new_households]


def _fresh_id(number: str, taken: set[str]) -> str:
    """An unused, valid ID number with the same region, birth date and gender."""
    for sequence in range(1000):
        if sequence % 2 != int(number[16]) % 2:
            continue
        first17 = f"{number[:14]}{sequence:03d}"
        candidate = first17 + id_number_check_char(first17)
        if candidate not in taken:
            taken.add(candidate)
            return candidate
    raise AssertionError(f"no free ID number left for {number}")


async def test_nested_read_costs_four_statements_whatever_the_rows(client, engine, sql_counter):
    town = await region_code(client, "西天尾镇")
    statements, members = await _run(client, sql_counter, town)
    # region by code, villages page, households pages (all villages), members (all
    # households), and the access-log entry
    assert statements == 5, request_statements(sql_counter)
    added = await _grow_tenfold(engine, town)
    try:
        statements_after, members_after = await _run(client, sql_counter, town)
    finally:
        async with engine.begin() as conn:
            await conn.execute(delete(persons).where(persons.c.household_id.in_(added)))
            await conn.execute(delete(households).where(households.c.id.in_(added)))
    assert members_after == 10 * members
    assert statements_after == statements == 5


async def test_sibling_relations_share_batches(client, sql_counter):
    town = await region_code(client, "西天尾镇")
    sql_counter.reset()
    await graphql(
        client,
        """query($t: String!) { region(code: $t) { children(first: 100) { totalCount nodes {
             parent { name } enterprises { totalCount nodes { village { name } } }
             floodPoints { totalCount nodes { nearbyEnterprise { name } photos { fileName } } } } } } }""",
        {"t": town},
    )
    # region; children page + count; parents; enterprise pages + counts; their villages;
    # flood point pages + counts; nearby enterprises; photos; access log
    statements = request_statements(sql_counter)
    assert len(statements) == 12, "\n".join(" ".join(s.split())[:150] for s in statements)


async def test_a_person_found_by_key_is_checked_through_its_own_household(client, engine):
    """A district analyst's lookup of one person does not list the district's households first:
    SQLite builds an IN list whole before testing a row (9 ms for a district at the benchmark's scale)."""
    district = Subtree.of(await region_code(client, "荔城区"), RegionLevel.DISTRICT)
    inside = (await graphql(client, '{ persons(regionCode: "350304000000", first: 1) { nodes { id } } }'))["persons"]["nodes"][0]["id"]
    outside = (await graphql(client, '{ persons(regionCode: "350302000000", first: 1) { nodes { id } } }'))["persons"]["nodes"][0]["id"]

    def lookup(person_id: str):
        return select(persons.c.id).where(persons.c.id == int(person_id), person_reachable(district))

    async with engine.connect() as conn:
        assert (await conn.execute(lookup(inside))).scalar_one_or_none() == int(inside)
        assert (await conn.execute(lookup(outside))).scalar_one_or_none() is None
        if engine.dialect.name == "sqlite":
            sql = str(lookup(inside).compile(engine.sync_engine, compile_kwargs={"literal_binds": True}))
            plan = [row[-1] for row in (await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")).all()]
            assert "SEARCH households USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan
            assert not any("ix_households_village_id" in step for step in plan), plan


async def test_a_scoped_lookup_by_id_keeps_postgresqls_generic_plan(client, engine, settings):
    """One key is sent as `id = $1`, not `id = ANY($1)`: for an array of unknown length PostgreSQL's
    generic plan always looks dearer than a custom one, so the statement was planned anew on every
    lookup — for a district's scoped lookup, 0.26 ms of the database's CPU against 0.03 ms to run it."""
    if engine.dialect.name != "postgresql":
        pytest.skip("plan caching is PostgreSQL's")
    district = Subtree.of(await region_code(client, "荔城区"), RegionLevel.DISTRICT)
    inside = (await graphql(client, '{ persons(regionCode: "350304000000", first: 8) { nodes { id } } }'))["persons"]["nodes"]
    one_connection = create_engine(replace(settings, db_pool_size=1))  # so the plan cache we read is the lookups'
    try:
        for person in inside:  # a new request each time: nothing comes from a loader's cache
            context = Context(one_connection, settings, "test", scope=district)
            assert (await context.load(PERSON_BY_ID, int(person["id"]))).id == int(person["id"])
        async with one_connection.connect() as conn:
            plans = (await conn.exec_driver_sql(
                "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE 'SELECT persons.id,%'"
            )).all()
    finally:
        await one_connection.dispose()
    assert len(plans) == 1, plans
    statement, generic, custom = plans[0]
    assert "persons.id = $1" in statement, statement
    assert (generic, custom) == (len(inside) - 5, 5), plans  # PostgreSQL tries five custom plans, then keeps the generic one
