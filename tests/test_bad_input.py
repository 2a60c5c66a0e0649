"""Out-of-range ids and cursor keys, and NUL characters, are the client's mistake on every database.

A record id or a cursor key that no INTEGER column can hold, and a string holding
NUL (which PostgreSQL text cannot store), are refused as `BAD_USER_INPUT` naming
the argument — before any SQL runs, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hub.data.models import Person
from resolvers.pagination import encode_cursor

GQL = "application/graphql-response+json"
HUGE = "99999999999999999999999"


async def post(client, query: str, variables: dict | None = None):
    response = await client.post("/graphql", json={"query": query, "variables": variables}, headers={"accept": GQL})
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (f'{{ person(id: "{HUGE}") {{ name }} }}', "id"),
        (f'{{ household(id: "{HUGE}") {{ address }} }}', "id"),
        (f'{{ enterprise(id: "{HUGE}") {{ name }} }}', "id"),
        (f'{{ floodPoint(id: "{HUGE}") {{ name }} }}', "id"),
        ('{ person(id: "2147483648") { name } }', "id"),
        ('{ person(id: "-1") { name } }', "id"),
        (f'mutation {{ updatePerson(id: "{HUGE}", version: 1, input: {{phone: "13800000000"}}) {{ errors {{ message }} }} }}', "id"),
        (f'mutation {{ recordVisit(id: "{HUGE}", version: 1, visit: {{recentStatus: "走访"}}) {{ errors {{ message }} }} }}', "id"),
        (f'mutation {{ createPerson(householdId: "{HUGE}", input: {{name: "王五", idNumber: "350304199001011231", relationToHead: "子"}}) {{ errors {{ message }} }} }}', "householdId"),
    ],
)
async def test_out_of_range_ids_are_bad_input(client, query, field):
    status, body = await post(client, query)
    assert status == 200, body
    [error] = body["errors"]
    value = query.split('"')[1]
    assert error["message"] == f"{field}：{value!r} 不是记录编号"
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


@pytest.mark.parametrize("key", [HUGE, str(2**31), "-99999999999999999999"])
@pytest.mark.parametrize(
    "query",
    [
        "query($a: String) { persons(after: $a) { totalCount nodes { id } } }",
        "query($a: String) { regions(first: 200) { nodes { households(after: $a) { nodes { id } } } } }",
    ],
)
async def test_out_of_range_cursor_keys_are_bad_input(client, query, key):
    cursor = encode_cursor(key)
    status, body = await post(client, query, {"a": cursor})
    assert status == 200, body
    assert {e["message"] for e in body["errors"]} == {f"after：{cursor!r} 不是这个列表给出的游标"}
    assert {tuple(sorted(e["extensions"].items())) for e in body["errors"]} == {(("code", "BAD_USER_INPUT"), ("field", "after"))}


async def test_a_nul_inside_a_cursor_is_bad_input(client):
    cursor = encode_cursor("1\x00")
    status, body = await post(client, "query($a: String) { persons(after: $a) { totalCount } }", {"a": cursor})
    assert body["errors"][0]["message"] == f"after：{cursor!r} 不是这个列表给出的游标"


NUL_CASES = [
    ('{ persons(nameContains: "张\\u0000") { totalCount } }', None, "nameContains"),
    ('{ persons(nameContains: "张\\u{0}") { totalCount } }', None, "nameContains"),  # the variable-width escape
    ("query($n: String) { persons(nameContains: $n) { totalCount } }", {"n": "张\x00"}, "nameContains"),
    ('{ person(idNumber: "\\u0000") { name } }', None, "idNumber"),
    ('{ households(regionCode: "3503\\u0000") { totalCount } }', None, "regionCode"),
    (
        'mutation($id: ID!) { updatePerson(id: $id, version: 1, input: {recentStatus: "走访\\u0000"}) { errors { message } } }',
        {"id": "1"},
        "input.recentStatus",
    ),
    (
        "mutation($id: ID!, $input: PersonInput!) { updatePerson(id: $id, version: 1, input: $input) { errors { message } } }",
        {"id": "1", "input": {"employer": "厂\x00"}},
        "input.employer",
    ),
    ("mutation($d: String!) { saveTemplate(definition: $d) { errors { message } } }", {"d": "id: x\x00"}, "definition"),
]


@pytest.mark.parametrize(("query", "variables", "field"), NUL_CASES)
async def test_nul_characters_are_refused_before_execution(client, engine, query, variables, field):
    async with engine.connect() as conn:
        before = (await conn.execute(select(Person.version, Person.recent_status, Person.employer).where(Person.id == 1))).one()
    status, body = await post(client, query, variables)
    assert status == 400, body
    assert "data" not in body
    assert body["errors"] == [
        {
            "message": f"{field}：不能包含 NUL 字符（U+0000）",
            "locations": body["errors"][0]["locations"],
            "extensions": {"code": "BAD_USER_INPUT", "field": field},
        }
    ]
    async with engine.connect() as conn:
        after = (await conn.execute(select(Person.version, Person.recent_status, Person.employer).where(Person.id == 1))).one()
    assert after == before
