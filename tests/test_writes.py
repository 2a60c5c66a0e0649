"""The write path for every type: grants decide who changes what; bad values are refused by field."""

from __future__ import annotations

import pytest

from tests.conftest import graphql
from tests.test_queries import region_code

UPDATE_HOUSEHOLD = """mutation($id: ID!, $v: Int!, $input: HouseholdInput!) {
  updateHousehold(id: $id, version: $v, input: $input) { household { version lowIncome subsidyMonthly address } errors { field code message } } }"""
UPDATE_FLOOD_POINT = """mutation($id: ID!, $v: Int!, $input: FloodPointInput!) {
  updateFloodPoint(id: $id, version: $v, input: $input) { floodPoint { version riskLevel status } errors { field code message } } }"""
UPDATE_ENTERPRISE = """mutation($id: ID!, $v: Int!, $input: EnterpriseInput!) {
  updateEnterprise(id: $id, version: $v, input: $input) { enterprise { version phone floodRisk } errors { field code message } } }"""


async def household_in(client, village: str) -> dict:
    code = await region_code(client, village)
    data = await graphql(client, "query($c: String) { households(regionCode: $c, first: 1) { nodes { id version } } }", {"c": code})
    return data["households"]["nodes"][0]


async def refused_before_execution(client, query: str, variables: dict) -> list[str]:
    response = await client.post("/graphql", json={"query": query, "variables": variables}, headers={"accept": "application/graphql-response+json"})
    assert response.status_code == 400 and "data" not in response.json(), response.json()
    return [e["message"] for e in response.json()["errors"]]


async def flood_point_in(client, town: str) -> dict:
    code = await region_code(client, town)
    data = await graphql(client, "query($c: String) { floodPoints(regionCode: $c, first: 1) { nodes { id version village { name } } } }", {"c": code})
    return data["floodPoints"]["nodes"][0]


async def test_civil_affairs_approves_low_income_but_cannot_move_house(as_user, client):
    household = await household_in(client, "溪白村")  # not 东星社区: other tests count its 16 低保 households
    household_address = (await graphql(client, "query($id: ID!) { household(id: $id) { address } }", {"id": household["id"]}))["household"]["address"]
    async with as_user("minzheng") as civil_affairs:
        approved = await graphql(civil_affairs, UPDATE_HOUSEHOLD, {"id": household["id"], "v": household["version"], "input": {"lowIncome": True, "subsidyMonthly": 520}})
        assert approved["updateHousehold"]["errors"] == []
        assert approved["updateHousehold"]["household"]["lowIncome"] is True
        assert approved["updateHousehold"]["household"]["subsidyMonthly"] == 520.0
        # 民政局 reads the address but does not write it: its view's HouseholdInput has no such field.
        moved = await refused_before_execution(civil_affairs, UPDATE_HOUSEHOLD, {"id": household["id"], "v": household["version"] + 1, "input": {"address": "别处"}})
    assert moved == [
        "Variable '$input' has invalid value: Expected value of type 'HouseholdInput' not to include unknown field 'address', found: {'address': '别处'}."
    ]
    async with as_user("minzheng") as civil_affairs:
        after = await graphql(civil_affairs, "query($id: ID!) { household(id: $id) { address version } }", {"id": household["id"]})
    assert after["household"] == {"address": household_address, "version": household["version"] + 1}


async def test_district_analyst_cannot_reach_another_district(as_user, client):
    household = await household_in(client, "溪白村")  # 荔城区: reachable
    elsewhere = (await graphql(client, '{ households(regionCode: "350302000000", first: 1) { nodes { id version } } }'))["households"]["nodes"][0]
    async with as_user("licheng-minzheng") as analyst:
        ok = await graphql(analyst, UPDATE_HOUSEHOLD, {"id": household["id"], "v": household["version"], "input": {"subsidyMonthly": 480}})
        out = await graphql(analyst, UPDATE_HOUSEHOLD, {"id": elsewhere["id"], "v": elsewhere["version"], "input": {"subsidyMonthly": 480}})
    assert ok["updateHousehold"]["errors"] == []
    assert out["updateHousehold"]["errors"] == [{"field": "id", "code": "NOT_FOUND", "message": f"id: no Household has id {elsewhere['id']}"}]


@pytest.mark.parametrize(
    ("user", "change", "error"),
    [
        ("dongxing", {"lowIncome": False}, {"field": "lowIncome", "code": "FORBIDDEN", "message": "lowIncome: 村（社区）干部 may not change Household.lowIncome"}),
        ("dongxing", {"address": "  "}, {"field": "address", "code": "INVALID", "message": "address: cannot be empty"}),
        ("dongxing", {"phone": "010-1234"}, {"field": "phone", "code": "INVALID", "message": "phone: must be 11 digits, got 7"}),
        ("dongxing", {"address": "东" * 129}, {"field": "address", "code": "INVALID", "message": "address: must be at most 128 characters, got 129"}),
        ("minzheng", {"subsidyMonthly": -5}, {"field": "subsidyMonthly", "code": "INVALID", "message": "subsidyMonthly: must not be negative, got -5.0"}),
        ("minzheng", {"lowIncomeSince": "2999-01-01"}, {"field": "lowIncomeSince", "code": "INVALID", "message": "lowIncomeSince: 2999-01-01 is in the future"}),
    ],
)
async def test_bad_household_changes_name_the_field(as_user, client, user, change, error):
    household = await household_in(client, "东星社区")
    async with as_user(user) as writer:
        result = await graphql(writer, UPDATE_HOUSEHOLD, {"id": household["id"], "v": household["version"], "input": change})
    assert result["updateHousehold"] == {"household": None, "errors": [error]}
    assert (await household_in(client, "东星社区"))["version"] == household["version"]  # nothing written


async def test_flood_points_risk_by_emergency_status_by_the_village(as_user, client):
    point = await flood_point_in(client, "西天尾镇")
    async with as_user("yingji") as emergency:
        rated = await graphql(emergency, UPDATE_FLOOD_POINT, {"id": point["id"], "v": point["version"], "input": {"riskLevel": "HIGH"}})
        assert rated["updateFloodPoint"]["errors"] == []
        # 应急管理局 rates the risk, the village fixes it: its view's FloodPointInput has only riskLevel.
        refused = await refused_before_execution(emergency, UPDATE_FLOOD_POINT, {"id": point["id"], "v": point["version"] + 1, "input": {"status": "FIXED"}})
        assert refused == [
            "Variable '$input' has invalid value: Expected value of type 'FloodPointInput' not to include unknown field 'status', found: {'status': 'FIXED'}."
        ]
    async with as_user("xitianwei") as coordinator:  # reads the town, writes nothing
        result = await graphql(coordinator, UPDATE_FLOOD_POINT, {"id": point["id"], "v": point["version"] + 1, "input": {"status": "FIXING"}})
    assert result["updateFloodPoint"]["errors"] == [
        {"field": "status", "code": "FORBIDDEN", "message": "status: 乡镇协同中心工作人员 may not change FloodPoint.status"}
    ]


async def test_enterprise_contact_by_the_village_risk_by_emergency(as_user, client):
    code = await region_code(client, "东星社区")
    enterprise = (await graphql(client, "query($c: String) { enterprises(regionCode: $c, first: 1) { nodes { id version } } }", {"c": code}))["enterprises"]["nodes"]
    if not enterprise:
        pytest.fail("东星社区 should have an enterprise in the demo data")
    enterprise = enterprise[0]
    async with as_user("dongxing") as cadre:
        result = await graphql(cadre, UPDATE_ENTERPRISE, {"id": enterprise["id"], "v": enterprise["version"], "input": {"phone": "13912345678"}})
    assert result["updateEnterprise"]["errors"] == []
    async with as_user("yingji") as emergency:  # 应急管理局 does not read enterprises' phone numbers
        result = await graphql(
            emergency,
            UPDATE_ENTERPRISE.replace("version phone floodRisk", "version floodRisk"),
            {"id": enterprise["id"], "v": enterprise["version"] + 1, "input": {"floodRisk": "HIGH"}},
        )
    assert result["updateEnterprise"]["enterprise"] == {"version": enterprise["version"] + 2, "floodRisk": "HIGH"}


CREATE_PERSON = """mutation($h: ID!, $input: NewPersonInput!) {
  createPerson(householdId: $h, input: $input) { person { id name gender birthDate version household { id } } errors { field code message } } }"""
CREATE_HOUSEHOLD = """mutation($v: String!, $input: NewHouseholdInput!) {
  createHousehold(villageCode: $v, input: $input) { household { id address version village { name } } errors { field code message } } }"""


async def test_a_birth_registers_a_person_with_gender_and_birth_date_from_the_id(as_user, client):
    from hub.identifiers import id_number_check_char

    village = await region_code(client, "东星社区")
    async with as_user("dongxing") as cadre:
        created = await graphql(cadre, CREATE_HOUSEHOLD, {"v": village, "input": {"address": "莆田市荔城区西天尾镇东星社区新村路1号"}})
        household = created["createHousehold"]["household"]
        assert household["village"] == {"name": "东星社区"} and household["version"] == 1
        first17 = "35030420260301002"
        number = first17 + id_number_check_char(first17)
        born = await graphql(cadre, CREATE_PERSON, {"h": household["id"], "input": {"name": "林新生", "idNumber": number, "relationToHead": "子"}})
        assert born["createPerson"]["errors"] == []
        person = born["createPerson"]["person"]
        assert (person["gender"], person["birthDate"], person["version"]) == ("FEMALE", "2026-03-01", 1)  # 17th digit even
        assert person["household"] == {"id": household["id"]}
        again = await graphql(cadre, CREATE_PERSON, {"h": household["id"], "input": {"name": "林新生", "idNumber": number, "relationToHead": "子"}})
        assert again["createPerson"] == {"person": None, "errors": [{"field": "idNumber", "code": "CONFLICT", "message": "idNumber: already registered in the hub"}]}
        bad = await graphql(cadre, CREATE_PERSON, {"h": household["id"], "input": {"name": "林新生", "idNumber": first17 + "0", "relationToHead": "子"}})
        assert bad["createPerson"]["errors"][0]["field"] == "idNumber" and bad["createPerson"]["errors"][0]["code"] == "INVALID"
    elsewhere = await region_code(client, "溪白村")
    async with as_user("dongxing") as cadre:
        outside = await graphql(cadre, CREATE_HOUSEHOLD, {"v": elsewhere, "input": {"address": "溪白村1号"}})
    assert outside["createHousehold"] == {"household": None, "errors": [{"field": "villageCode", "code": "NOT_FOUND", "message": f"villageCode: no village has code {elsewhere}"}]}


RECORD_VISIT = """mutation($id: ID!, $v: Int!, $visit: VisitInput!) {
  recordVisit(id: $id, version: $v, visit: $visit) {
    person { version recentStatus recentStatusDate keyCareReason } errors { field code message currentVersion } } }"""
PERSON_NOW = """query($id: ID!) { person(id: $id) { version recentStatus recentStatusDate keyCareReason
  history(first: 100) { nodes { field oldValue newValue version username source } } } }"""


async def test_a_grid_workers_visit_dates_the_recent_status_and_may_mark_key_care(as_user, client):
    import datetime as dt

    code = await region_code(client, "东星社区")
    person = (await graphql(client, "query($c: String) { persons(regionCode: $c, keyCare: false, first: 1) { nodes { id } } }", {"c": code}))["persons"]["nodes"][0]
    before = (await graphql(client, PERSON_NOW, {"id": person["id"]}))["person"]
    today = dt.date.today().isoformat()
    async with as_user("dongxing-wangge") as grid_worker:
        visited = await graphql(grid_worker, RECORD_VISIT, {
            "id": person["id"], "v": before["version"], "visit": {"recentStatus": " 入户走访：术后在家休养，需定期复查 ", "keyCareReason": "ILLNESS"},
        })
        assert visited["recordVisit"] == {
            "person": {"version": before["version"] + 1, "recentStatus": "入户走访：术后在家休养，需定期复查", "recentStatusDate": today, "keyCareReason": "ILLNESS"},
            "errors": [],
        }
        # A later visit leaves key care as it is unless it is given; null ends it.
        again = await graphql(grid_worker, RECORD_VISIT, {
            "id": person["id"], "v": before["version"] + 1, "visit": {"recentStatus": "复查正常，已恢复务农", "recentStatusDate": "2026-01-05", "keyCareReason": None},
        })
        assert again["recordVisit"]["person"] == {"version": before["version"] + 2, "recentStatus": "复查正常，已恢复务农", "recentStatusDate": "2026-01-05", "keyCareReason": None}
    after = (await graphql(client, PERSON_NOW, {"id": person["id"]}))["person"]
    visits = [(c["field"], c["oldValue"], c["newValue"], c["version"]) for c in after["history"]["nodes"] if c["version"] > before["version"]]
    assert visits == [
        ("recentStatus", before["recentStatus"], "入户走访：术后在家休养，需定期复查", before["version"] + 1),
        ("keyCareReason", None, "ILLNESS", before["version"] + 1),
        ("recentStatusDate", before["recentStatusDate"], today, before["version"] + 1),
        ("recentStatus", "入户走访：术后在家休养，需定期复查", "复查正常，已恢复务农", before["version"] + 2),
        ("recentStatusDate", today, "2026-01-05", before["version"] + 2),
        ("keyCareReason", "ILLNESS", None, before["version"] + 2),
    ]
    assert {(c["username"], c["source"]) for c in after["history"]["nodes"] if c["version"] > before["version"]} == {("dongxing-wangge", "API")}


@pytest.mark.parametrize(
    ("visit", "error"),
    [
        ({"recentStatus": "   "}, {"field": "recentStatus", "code": "INVALID", "message": "recentStatus: say what the visit found", "currentVersion": None}),
        ({"recentStatus": "走访", "recentStatusDate": "2999-01-01"},
         {"field": "recentStatusDate", "code": "INVALID", "message": "recentStatusDate: 2999-01-01 is in the future", "currentVersion": None}),
        ({"recentStatus": "走访", "stale": True}, "CONFLICT"),
    ],
)
async def test_a_refused_visit_writes_nothing(as_user, client, visit, error):
    code = await region_code(client, "东星社区")
    person = (await graphql(client, "query($c: String) { persons(regionCode: $c, first: 1) { nodes { id version } } }", {"c": code}))["persons"]["nodes"][0]
    before = (await graphql(client, PERSON_NOW, {"id": person["id"]}))["person"]
    version = before["version"] - 1 if visit.pop("stale", False) else before["version"]
    async with as_user("dongxing-wangge") as grid_worker:
        refused = await graphql(grid_worker, RECORD_VISIT, {"id": person["id"], "v": version, "visit": visit})
    if error == "CONFLICT":
        error = {
            "field": "version", "code": "CONFLICT", "currentVersion": before["version"],
            "message": f"version: Person {person['id']} is at version {before['version']}, not {version}; reload it and apply your change again",
        }
    assert refused["recordVisit"] == {"person": None, "errors": [error]}
    assert (await graphql(client, PERSON_NOW, {"id": person["id"]}))["person"] == before


async def test_departments_that_write_no_person_field_have_no_visit_mutation(as_user):
    async with as_user("minzheng") as civil_affairs:
        response = await civil_affairs.post("/graphql", json={
            "query": 'mutation { recordVisit(id: "1", version: 1, visit: {recentStatus: "x"}) { errors { message } } }'})
    assert response.json()["errors"][0]["message"] == "Cannot query field 'recordVisit' on type 'Mutation'."


async def test_a_visit_outside_the_jurisdiction_is_not_found_and_writes_nothing(as_user, client):
    elsewhere = await region_code(client, "溪白村")
    person = (await graphql(client, "query($c: String) { persons(regionCode: $c, first: 1) { nodes { id } } }", {"c": elsewhere}))["persons"]["nodes"][0]
    before = (await graphql(client, PERSON_NOW, {"id": person["id"]}))["person"]
    async with as_user("dongxing-wangge") as grid_worker:
        refused = await graphql(grid_worker, RECORD_VISIT, {"id": person["id"], "v": before["version"], "visit": {"recentStatus": "走访"}})
    assert refused["recordVisit"] == {
        "person": None, "errors": [{"field": "id", "code": "NOT_FOUND", "message": f"id: no Person has id {person['id']}", "currentVersion": None}],
    }
    assert (await graphql(client, PERSON_NOW, {"id": person["id"]}))["person"] == before
