"""Every write leaves its history, read through the caller's grants; concurrent edits lose nothing."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from hub.data.models import Change
from tests.conftest import graphql
from tests.test_sql_batching import request_statements

UPDATE = """mutation($id: ID!, $v: Int!, $input: PersonInput!) {
  updatePerson(id: $id, version: $v, input: $input) { person { version } errors { code message currentVersion } } }"""
HISTORY = """query($id: ID!) { person(id: $id) { version history(first: 100) { totalCount nodes {
  field oldValue newValue version username orgUnit source } } } }"""


async def changes_count(engine) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(Change))).scalar_one()


async def test_history_records_each_changed_field(as_user, client, new_household):
    _, person = await new_household()
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


async def test_departments_see_only_history_they_may_read(as_user, client, new_household):
    _, person = await new_household()
    async with as_user("dongxing") as cadre:
        await graphql(cadre, UPDATE, {"id": person["id"], "v": person["version"], "input": {"phone": "13600000002", "employer": "东星电子厂"}})
    async with as_user("weijian") as health:  # phone masked, employer not granted
        seen = (await graphql(health, HISTORY.replace("version history", "history"), {"id": person["id"]}))["person"]["history"]["nodes"]
    # Its own record: everything in its history was written here, so what 卫健委 sees is known exactly.
    assert {c["field"] for c in seen} == {"name", "idNumber", "relationToHead", "phone", "recentStatus", "recentStatusDate"}
    assert [(c["oldValue"], c["newValue"]) for c in seen if c["field"] == "phone"] == [(None, "139****0000"), ("139****0000", "136****0002")]
    (id_number,) = [c["newValue"] for c in seen if c["field"] == "idNumber"]
    assert id_number[6:14] == "********"
    assert "13600000002" not in str(seen)
    async with as_user("renshe") as labour:  # employer granted
        seen = (await graphql(labour, HISTORY.replace("version history", "history"), {"id": person["id"]}))["person"]["history"]["nodes"]
    assert any(c["field"] == "employer" and c["newValue"] == "东星电子厂" for c in seen)


async def test_refused_writes_leave_no_history(as_user, client, engine, new_household):
    _, person = await new_household()
    before = await changes_count(engine)
    async with as_user("dongxing-wangge") as grid_worker:
        result = await graphql(grid_worker, UPDATE, {"id": person["id"], "v": person["version"], "input": {"employer": "x"}})
    assert result["updatePerson"]["errors"][0]["code"] == "FORBIDDEN"
    async with as_user("dongxing") as cadre:
        stale = await graphql(cadre, UPDATE, {"id": person["id"], "v": person["version"] - 1, "input": {"phone": "13600000003"}})
    assert stale["updatePerson"]["errors"][0]["code"] == "CONFLICT"
    assert await changes_count(engine) == before
    assert (await graphql(client, HISTORY, {"id": person["id"]}))["person"]["version"] == person["version"]


async def test_concurrent_edits_lose_no_update(as_user, client, new_household):
    """Eight grid visits of one person at once: each retries on conflict; all eight land."""
    _, person = await new_household()
    start = (await graphql(client, HISTORY, {"id": person["id"]}))["person"]

    async def visit(number: int) -> int:
        async with as_user("dongxing") as cadre:
            # Each loses at most once to each of the seven others: more tries than that is a lost update loop.
            for attempt in range(1, 9):
                current = (await graphql(cadre, "query($id: ID!) { person(id: $id) { version } }", {"id": person["id"]}))["person"]["version"]
                result = await graphql(cadre, UPDATE, {"id": person["id"], "v": current, "input": {"recentStatus": f"第{number}次走访：情况稳定"}})
                if not result["updatePerson"]["errors"]:
                    return attempt
                assert result["updatePerson"]["errors"][0]["code"] == "CONFLICT"
        pytest.fail(f"visit {number} still conflicting after 8 attempts")

    attempts = await asyncio.gather(*(visit(n) for n in range(8)))
    end = (await graphql(client, HISTORY, {"id": person["id"]}))["person"]
    assert end["version"] == start["version"] + 8
    visits = [c for c in end["history"]["nodes"][start["history"]["totalCount"]:] if c["field"] == "recentStatus"]
    assert sorted(c["newValue"] for c in visits) == sorted(f"第{n}次走访：情况稳定" for n in range(8))
    assert [c["version"] for c in visits] == list(range(start["version"] + 1, start["version"] + 9))
    # each old value is the value the previous winner wrote: none was read before a concurrent save
    assert [c["oldValue"] for c in visits[1:]] == [c["newValue"] for c in visits[:-1]]
    assert sum(attempts) > 8, "no visit ever met a conflict: the edits did not overlap, so the test proved nothing"


async def test_an_update_and_its_history_take_two_statements_on_postgresql_three_on_sqlite(as_user, client, engine, sql_counter, new_household):
    """PostgreSQL returns the old values from the UPDATE itself; SQLite cannot, so it reads the changed columns first."""
    _, person = await new_household()
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
