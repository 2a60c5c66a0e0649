"""Every write leaves its history, read through the caller's grants; concurrent edits lose nothing."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from hub.models import Change
from tests.conftest import graphql
from tests.test_sql_batching import request_statements
from tests.test_queries import region_code

UPDATE = """mutation($id: ID!, $v: Int!, $input: PersonInput!) {
  updatePerson(id: $id, version: $v, input: $input) { person { version } errors { code message currentVersion } } }"""
HISTORY = """query($id: ID!) { person(id: $id) { version history(first: 100) { totalCount nodes {
  field oldValue newValue version username orgUnit source } } } }"""


async def a_person(client, village: str = "东星社区") -> dict:
    code = await region_code(client, village)
    data = await graphql(client, "query($c: String) { persons(regionCode: $c, first: 1) { nodes { id version phone employer } } }", {"c": code})
    return data["persons"]["nodes"][0]


async def changes_count(engine) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(Change))).scalar_one()


async def test_history_records_each_changed_field(as_user, client):
    person = await a_person(client)
    async with as_user("dongxing") as cadre:
        result = await graphql(
            cadre, UPDATE, {"id": person["id"], "v": person["version"], "input": {"phone": "13600000001", "employer": "东星鞋业有限公司"}}
        )
    assert result["updatePerson"]["errors"] == []
    data = await graphql(client, HISTORY, {"id": person["id"]})
    recent = data["person"]["history"]["nodes"][-2:]
    # in the order of the input's fields
    assert recent == [
        {"field": "phone", "oldValue": person["phone"], "newValue": "13600000001", "version": person["version"] + 1,
         "username": "dongxing", "orgUnit": "东星社区居委会", "source": "API"},
        {"field": "employer", "oldValue": person["employer"], "newValue": "东星鞋业有限公司", "version": person["version"] + 1,
         "username": "dongxing", "orgUnit": "东星社区居委会", "source": "API"},
    ]


async def test_departments_see_only_history_they_may_read(as_user, client):
    person = await a_person(client)
    async with as_user("dongxing") as cadre:
        await graphql(cadre, UPDATE, {"id": person["id"], "v": person["version"], "input": {"phone": "13600000002", "employer": "东星电子厂"}})
    async with as_user("weijian") as health:  # phone masked, employer not granted
        seen = (await graphql(health, HISTORY.replace("version history", "history"), {"id": person["id"]}))["person"]["history"]["nodes"]
    assert {c["field"] for c in seen} <= {"phone", "recentStatus", "recentStatusDate", "healthStatus", "chronicDiseases", "keyCareReason", "name"}
    phones = [c for c in seen if c["field"] == "phone"]
    assert phones and all(c["newValue"] is None or "****" in c["newValue"] for c in phones)
    assert "13600000002" not in str(seen)
    async with as_user("renshe") as labour:  # employer granted
        seen = (await graphql(labour, HISTORY.replace("version history", "history"), {"id": person["id"]}))["person"]["history"]["nodes"]
    assert any(c["field"] == "employer" and c["newValue"] == "东星电子厂" for c in seen)


async def test_refused_writes_leave_no_history(as_user, client, engine):
    person = await a_person(client)
    before = await changes_count(engine)
    async with as_user("dongxing-wangge") as grid_worker:
        result = await graphql(grid_worker, UPDATE, {"id": person["id"], "v": person["version"], "input": {"employer": "x"}})
    assert result["updatePerson"]["errors"][0]["code"] == "FORBIDDEN"
    async with as_user("dongxing") as cadre:
        stale = await graphql(cadre, UPDATE, {"id": person["id"], "v": person["version"] - 1, "input": {"phone": "13600000003"}})
    assert stale["updatePerson"]["errors"][0]["code"] == "CONFLICT"
    assert await changes_count(engine) == before


async def test_concurrent_edits_lose_no_update(as_user, client):
    """Eight grid visits of one person at once: each retries on conflict; all eight land."""
    person = await a_person(client)
    start = (await graphql(client, HISTORY, {"id": person["id"]}))["person"]

    async def visit(number: int) -> int:
        attempts = 0
        async with as_user("dongxing") as cadre:
            while True:
                attempts += 1
                current = (await graphql(cadre, "query($id: ID!) { person(id: $id) { version } }", {"id": person["id"]}))["person"]["version"]
                result = await graphql(cadre, UPDATE, {"id": person["id"], "v": current, "input": {"recentStatus": f"第{number}次走访：情况稳定"}})
                if not result["updatePerson"]["errors"]:
                    return attempts
                assert result["updatePerson"]["errors"][0]["code"] == "CONFLICT"

    attempts = await asyncio.gather(*(visit(n) for n in range(8)))
    end = (await graphql(client, HISTORY, {"id": person["id"]}))["person"]
    assert end["version"] == start["version"] + 8
    visits = [c for c in end["history"]["nodes"][start["history"]["totalCount"]:] if c["field"] == "recentStatus"]
    assert sorted(c["newValue"] for c in visits) == sorted(f"第{n}次走访：情况稳定" for n in range(8))
    assert [c["version"] for c in visits] == list(range(start["version"] + 1, start["version"] + 9))
    # each old value is the value the previous winner wrote: none was read before a concurrent save
    assert [c["oldValue"] for c in visits[1:]] == [c["newValue"] for c in visits[:-1]]
    assert sum(attempts) >= 8


async def test_an_update_and_its_history_take_two_statements_on_postgresql_three_on_sqlite(as_user, client, engine, sql_counter):
    """PostgreSQL returns the old values from the UPDATE itself; SQLite cannot, so it reads the changed columns first."""
    person = await a_person(client)
    async with as_user("dongxing") as cadre:
        sql_counter.reset()
        result = await graphql(cadre, UPDATE, {"id": person["id"], "v": person["version"], "input": {"employer": "东星五金厂"}})
    assert result["updatePerson"]["errors"] == []
    statements = [s for s in request_statements(sql_counter) if "access_log" not in s]  # the log is written apart
    sent = [" ".join(s.split()[:3]) for s in statements]
    if engine.dialect.name == "postgresql":
        assert sent == ["UPDATE persons SET", "INSERT INTO changes"]
    else:
        assert sent == ["SELECT persons.id, persons.employer", "UPDATE persons SET", "INSERT INTO changes"]
    assert "persons.employer" in statements[0]  # the old value, for the history
    history = (await graphql(client, HISTORY, {"id": person["id"]}))["person"]["history"]["nodes"]
    assert history[-1] | {"username": None, "orgUnit": None} == {
        "field": "employer", "oldValue": person["employer"], "newValue": "东星五金厂", "version": person["version"] + 1,
        "username": None, "orgUnit": None, "source": "API",
    }
