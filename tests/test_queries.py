"""The read API on the demo data: acceptance queries, relations, filters, pagination."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import TODAY, graphql


async def region_code(client, name: str) -> str:
    data = await graphql(client, "query($n: String) { regions(nameContains: $n) { nodes { code name } } }", {"n": name})
    (match,) = [r for r in data["regions"]["nodes"] if r["name"] == name]
    return match["code"]


@pytest.mark.parametrize(("level", "count"), [("CITY", 1), ("DISTRICT", 7), ("TOWN", 54), ("VILLAGE", 973)])
async def test_region_counts_per_level(client, level, count):
    data = await graphql(client, f"{{ regions(level: {level}) {{ totalCount }} }}")
    assert data["regions"]["totalCount"] == count


async def test_xitianwei_has_17_villages(client):
    code = await region_code(client, "西天尾镇")
    data = await graphql(client, "query($c: String!) { region(code: $c) { name level children { totalCount } parent { name } } }", {"c": code})
    assert data["region"] == {"name": "西天尾镇", "level": "TOWN", "children": {"totalCount": 17}, "parent": {"name": "荔城区"}}


async def test_dongxing_has_16_low_income_households(client):
    code = await region_code(client, "东星社区")
    data = await graphql(client, "query($c: String) { households(regionCode: $c, lowIncome: true) { totalCount nodes { lowIncome village { name } } } }", {"c": code})
    assert data["households"]["totalCount"] == 16
    assert {(h["lowIncome"], h["village"]["name"]) for h in data["households"]["nodes"]} == {(True, "东星社区")}


async def test_xitianwei_has_24_flood_points_one_beside_the_sports_goods_maker(client):
    code = await region_code(client, "西天尾镇")
    data = await graphql(
        client,
        "query($c: String) { floodPoints(regionCode: $c, first: 100) { totalCount nodes { name nearbyEnterprise { name village { parent { name } } } } } }",
        {"c": code},
    )
    assert data["floodPoints"]["totalCount"] == 24
    beside = [p["nearbyEnterprise"] for p in data["floodPoints"]["nodes"] if p["nearbyEnterprise"]]
    assert {"name": "青春之家（福建）体育用品有限公司", "village": {"parent": {"name": "西天尾镇"}}} in beside


async def test_subtree_filter_counts_add_up(client):
    """A town's households are exactly the sum of its villages' households."""
    code = await region_code(client, "西天尾镇")
    data = await graphql(
        client,
        "query($c: String!) { households(regionCode: $c) { totalCount } region(code: $c) { children(first: 50) { nodes { households { totalCount } } } } }",
        {"c": code},
    )
    per_village = [v["households"]["totalCount"] for v in data["region"]["children"]["nodes"]]
    assert len(per_village) == 17 and all(n > 0 for n in per_village)
    assert data["households"]["totalCount"] == sum(per_village)


async def test_household_members_and_head(client):
    data = await graphql(client, "{ households(first: 20) { nodes { id memberCount head { relationToHead household { id } } members { id relationToHead household { id } } } } }")
    assert data["households"]["nodes"]
    for household in data["households"]["nodes"]:
        assert household["memberCount"] == len(household["members"]) >= 1
        assert household["head"]["relationToHead"] == "户主"
        assert {m["household"]["id"] for m in household["members"]} == {household["id"]}


async def test_person_fields_derive_from_the_id_number(client):
    data = await graphql(client, "{ persons(first: 50) { nodes { idNumber gender birthDate age } } }")
    today = TODAY  # the hub's clock, pinned: the server computed the ages on this day too
    assert data["persons"]["nodes"]
    for person in data["persons"]["nodes"]:
        number = person["idNumber"]
        assert person["birthDate"] == f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
        assert person["gender"] == ("MALE" if int(number[16]) % 2 else "FEMALE")
        born = dt.date.fromisoformat(person["birthDate"])
        assert person["age"] == today.year - born.year - ((today.month, today.day) < (born.month, born.day))


async def test_person_lookup_by_id_number(client):
    data = await graphql(client, "{ persons(first: 1) { nodes { id idNumber name } } }")
    person = data["persons"]["nodes"][0]
    found = await graphql(client, "query($n: String) { person(idNumber: $n) { id name } }", {"n": person["idNumber"].lower()})
    assert found["person"] == {"id": person["id"], "name": person["name"]}


async def test_age_and_key_care_filters(client):
    code = await region_code(client, "西天尾镇")
    data = await graphql(
        client,
        "query($c: String) { persons(regionCode: $c, minAge: 60, maxAge: 79, first: 1000) { totalCount nodes { age } } "
        "keyCare: persons(regionCode: $c, keyCare: true, first: 1000) { totalCount nodes { keyCareReason healthStatus } } }",
        {"c": code},
    )
    ages = [p["age"] for p in data["persons"]["nodes"]]
    assert ages and all(60 <= a <= 79 for a in ages)
    reasons = {p["keyCareReason"] for p in data["keyCare"]["nodes"]}
    assert data["keyCare"]["totalCount"] > 0 and None not in reasons


async def test_name_search_treats_wildcards_literally(client):
    data = await graphql(client, '{ a: persons(nameContains: "%") { totalCount } b: persons(nameContains: "林") { totalCount } }')
    assert data["a"]["totalCount"] == 0
    assert data["b"]["totalCount"] > 0


async def test_enterprise_lookup_by_credit_code(client):
    data = await graphql(client, '{ enterprises(nameContains: "青春之家") { nodes { id creditCode name } } }')
    (enterprise,) = data["enterprises"]["nodes"]
    found = await graphql(client, "query($c: String) { enterprise(creditCode: $c) { id name } }", {"c": enterprise["creditCode"]})
    assert found["enterprise"] == {"id": enterprise["id"], "name": "青春之家（福建）体育用品有限公司"}


async def test_cursor_pagination_walks_every_row_once(client):
    code = await region_code(client, "西天尾镇")
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        data = await graphql(
            client,
            "query($c: String, $a: String) { regions(parentCode: $c, first: 5, after: $a) { totalCount edges { cursor node { code } } pageInfo { hasNextPage endCursor } } }",
            {"c": code, "a": after},
        )
        page = data["regions"]
        assert page["totalCount"] == 17
        seen += [e["node"]["code"] for e in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        after = page["pageInfo"]["endCursor"]
    assert pages == 4
    assert len(seen) == len(set(seen)) == 17
    assert seen == sorted(seen)


async def test_relation_connections_paginate_per_parent(client):
    code = await region_code(client, "西天尾镇")
    query = """query($c: String!, $a: String) { region(code: $c) { children(first: 3) { nodes { code
        households(first: 2, after: $a) { totalCount nodes { id } pageInfo { hasNextPage endCursor } } } } } }"""
    first_pages = (await graphql(client, query, {"c": code}))["region"]["children"]["nodes"]
    assert len(first_pages) == 3
    for village in first_pages:
        page = village["households"]
        assert len(page["nodes"]) == 2 and page["pageInfo"]["hasNextPage"] is True
    # Each village's own cursor continues its own list.
    village = first_pages[0]
    after = village["households"]["pageInfo"]["endCursor"]
    whole = await graphql(client, "query($c: String!) { region(code: $c) { households(first: 4) { nodes { id } } } }", {"c": village["code"]})
    second = await graphql(client, query.replace("children(first: 3)", "children(first: 1)"), {"c": code, "a": after})
    ids = [h["id"] for h in whole["region"]["households"]["nodes"]]
    assert [h["id"] for h in village["households"]["nodes"]] == ids[:2]
    assert [h["id"] for h in second["region"]["children"]["nodes"][0]["households"]["nodes"]] == ids[2:4]
