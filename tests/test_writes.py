"""The write path for every type: grants decide who changes what; bad values are refused by field."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import TODAY, graphql
from tests.test_queries import region_code

UPDATE_HOUSEHOLD = """mutation($id: ID!, $v: Int!, $input: HouseholdInput!) {
  updateHousehold(id: $id, version: $v, input: $input) { household { version lowIncome subsidyMonthly address } errors { field code message } } }"""
UPDATE_FLOOD_POINT = """mutation($id: ID!, $v: Int!, $input: FloodPointInput!) {
  updateFloodPoint(id: $id, version: $v, input: $input) { floodPoint { version riskLevel status } errors { field code message } } }"""
UPDATE_ENTERPRISE = """mutation($id: ID!, $v: Int!, $input: EnterpriseInput!) {
  updateEnterprise(id: $id, version: $v, input: $input) { enterprise { version phone floodRisk } errors { field code message } } }"""


UPDATE_PERSON = """mutation($id: ID!, $v: Int!, $input: PersonInput!) {
  updatePerson(id: $id, version: $v, input: $input) { person { version recentStatus recentStatusDate } errors { field code message } } }"""
HOUSEHOLD_FIELDS = "address phone lowIncome subsidyMonthly lowIncomeSince"


async def refused_before_execution(client, query: str, variables: dict) -> list[str]:
    response = await client.post("/graphql", json={"query": query, "variables": variables}, headers={"accept": "application/graphql-response+json"})
    assert response.status_code == 400 and "data" not in response.json(), response.json()
    return [e["message"] for e in response.json()["errors"]]


async def flood_point_in(client, town: str) -> dict:
    code = await region_code(client, town)
    data = await graphql(client, "query($c: String) { floodPoints(regionCode: $c, first: 1) { nodes { id version village { name } } } }", {"c": code})
    return data["floodPoints"]["nodes"][0]


async def enterprise_in(client, village: str) -> dict:
    code = await region_code(client, village)
    nodes = (await graphql(client, "query($c: String) { enterprises(regionCode: $c, first: 1) { nodes { id version } } }", {"c": code}))["enterprises"]["nodes"]
    assert nodes, f"{village} should have an enterprise in the demo data"
    return nodes[0]


async def stored(client, kind: str, record_id: str, fields: str) -> dict:
    """The record as admin reads it: the fields, its version and how many changes its history holds."""
    query = f"query($id: ID!) {{ r: {kind}(id: $id) {{ version {fields} history(first: 1) {{ totalCount }} }} }}"
    return (await graphql(client, query, {"id": record_id}))["r"]


async def test_civil_affairs_approves_low_income_but_cannot_move_house(as_user, client, new_household):
    household, _ = await new_household("溪白村")  # not 东星社区: other tests count its 16 低保 households
    async with as_user("minzheng") as civil_affairs:
        approved = await graphql(civil_affairs, UPDATE_HOUSEHOLD, {"id": household["id"], "v": household["version"], "input": {"lowIncome": True, "subsidyMonthly": 520}})
        assert approved["updateHousehold"]["errors"] == []
        assert approved["updateHousehold"]["household"]["lowIncome"] is True
        assert approved["updateHousehold"]["household"]["subsidyMonthly"] == 520.0
        before = await stored(client, "household", household["id"], HOUSEHOLD_FIELDS)
        # 民政局 reads the address but does not write it: its view's HouseholdInput has no such field.
        moved = await refused_before_execution(civil_affairs, UPDATE_HOUSEHOLD, {"id": household["id"], "v": household["version"] + 1, "input": {"address": "别处"}})
    assert moved == [
        "Variable '$input' has invalid value: Expected value of type 'HouseholdInput' not to include unknown field 'address', found: {'address': '别处'}."
    ]
    assert await stored(client, "household", household["id"], HOUSEHOLD_FIELDS) == before  # nothing written


async def test_district_analyst_cannot_reach_another_district(as_user, client, new_household):
    household, _ = await new_household("溪白村")  # 荔城区: reachable
    elsewhere = (await graphql(client, '{ households(regionCode: "350302000000", first: 1) { nodes { id version } } }'))["households"]["nodes"][0]
    before = await stored(client, "household", elsewhere["id"], HOUSEHOLD_FIELDS)
    async with as_user("licheng-minzheng") as analyst:
        ok = await graphql(analyst, UPDATE_HOUSEHOLD, {"id": household["id"], "v": household["version"], "input": {"subsidyMonthly": 480}})
        out = await graphql(analyst, UPDATE_HOUSEHOLD, {"id": elsewhere["id"], "v": elsewhere["version"], "input": {"subsidyMonthly": 480}})
    assert ok["updateHousehold"]["errors"] == []
    assert out["updateHousehold"] == {"household": None, "errors": [
        {"field": "id", "code": "NOT_FOUND", "message": f"id：找不到 id 为 {elsewhere['id']} 的 Household"}
    ]}
    assert await stored(client, "household", elsewhere["id"], HOUSEHOLD_FIELDS) == before


@pytest.mark.parametrize(
    ("user", "change", "error"),
    [
        ("dongxing", {"lowIncome": False}, {"field": "lowIncome", "code": "FORBIDDEN", "message": "lowIncome：村（社区）干部无权修改 Household.lowIncome"}),
        ("dongxing", {"address": "  "}, {"field": "address", "code": "INVALID", "message": "address（家庭住址）：不能为空"}),
        ("dongxing", {"phone": "010-1234"}, {"field": "phone", "code": "INVALID", "message": "phone（联系电话）：手机号码应为 11 位数字，填写了 7 位"}),
        ("dongxing", {"address": "东" * 129}, {"field": "address", "code": "INVALID", "message": "address（家庭住址）：最多 128 个字，填写了 129 个字"}),
        ("minzheng", {"subsidyMonthly": -5}, {"field": "subsidyMonthly", "code": "INVALID", "message": "subsidyMonthly（月保障金额（元））：不能为负数，填写的是 -5.0"}),
        ("minzheng", {"lowIncomeSince": "2026-11-17"},
         {"field": "lowIncomeSince", "code": "INVALID", "message": "lowIncomeSince（低保认定日期）：2026-11-17 晚于今天（2026-11-16），不能填将来的日期"}),
    ],
)
async def test_bad_household_changes_name_the_field(as_user, client, new_household, user, change, error):
    household, _ = await new_household()
    before = await stored(client, "household", household["id"], HOUSEHOLD_FIELDS)
    async with as_user(user) as writer:
        result = await graphql(writer, UPDATE_HOUSEHOLD, {"id": household["id"], "v": household["version"], "input": change})
    assert result["updateHousehold"] == {"household": None, "errors": [error]}
    assert await stored(client, "household", household["id"], HOUSEHOLD_FIELDS) == before  # nothing written


async def test_the_last_day_allowed_is_the_hubs_today(as_user, new_household):
    household, _ = await new_household()
    async with as_user("minzheng") as civil_affairs:
        result = await graphql(civil_affairs, UPDATE_HOUSEHOLD, {"id": household["id"], "v": household["version"], "input": {"lowIncomeSince": TODAY.isoformat()}})
    assert result["updateHousehold"]["errors"] == []


async def test_flood_points_risk_by_emergency_status_by_the_village(as_user, client):
    point = await flood_point_in(client, "西天尾镇")
    async with as_user("yingji") as emergency:
        rated = await graphql(emergency, UPDATE_FLOOD_POINT, {"id": point["id"], "v": point["version"], "input": {"riskLevel": "HIGH"}})
        assert rated["updateFloodPoint"]["errors"] == []
        before = await stored(client, "floodPoint", point["id"], "riskLevel status")
        # 应急管理局 rates the risk, the village fixes it: its view's FloodPointInput has only riskLevel.
        refused = await refused_before_execution(emergency, UPDATE_FLOOD_POINT, {"id": point["id"], "v": point["version"] + 1, "input": {"status": "FIXED"}})
        assert refused == [
            "Variable '$input' has invalid value: Expected value of type 'FloodPointInput' not to include unknown field 'status', found: {'status': 'FIXED'}."
        ]
    async with as_user("xitianwei") as coordinator:  # reads the town, writes nothing
        result = await graphql(coordinator, UPDATE_FLOOD_POINT, {"id": point["id"], "v": point["version"] + 1, "input": {"status": "FIXING"}})
    assert result["updateFloodPoint"] == {"floodPoint": None, "errors": [
        {"field": "status", "code": "FORBIDDEN", "message": "status：乡镇协同中心工作人员无权修改 FloodPoint.status"}
    ]}
    assert await stored(client, "floodPoint", point["id"], "riskLevel status") == before  # nothing written


async def test_enterprise_contact_by_the_village_risk_by_emergency(as_user, client):
    enterprise = await enterprise_in(client, "东星社区")
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


STALE_WRITES = {
    # type: (query field, mutation, payload field, first writer and change, second change, fields to compare)
    "Household": ("household", UPDATE_HOUSEHOLD, "updateHousehold", "dongxing", {"phone": "13700000001"}, {"address": "东星社区别处"}, HOUSEHOLD_FIELDS),
    "FloodPoint": ("floodPoint", UPDATE_FLOOD_POINT, "updateFloodPoint", "yingji", {"riskLevel": "MEDIUM"}, {"riskLevel": "LOW"}, "riskLevel status"),
    "Enterprise": ("enterprise", UPDATE_ENTERPRISE, "updateEnterprise", "dongxing", {"phone": "13700000002"}, {"phone": "13700000003"}, "phone floodRisk"),
}


@pytest.mark.parametrize("type_name", list(STALE_WRITES))
async def test_a_change_from_a_stale_version_is_a_conflict_and_writes_nothing(as_user, client, new_household, type_name):
    kind, mutation, payload, user, first, second, fields = STALE_WRITES[type_name]
    if type_name == "Household":
        record, _ = await new_household()
    elif type_name == "FloodPoint":
        record = await flood_point_in(client, "西天尾镇")
    else:
        record = await enterprise_in(client, "东星社区")
    read = record["version"]
    async with as_user(user) as writer:
        saved = await graphql(writer, mutation, {"id": record["id"], "v": read, "input": first})  # someone else saves first
        assert saved[payload]["errors"] == []
        before = await stored(client, kind, record["id"], fields)
        stale = await graphql(writer, mutation, {"id": record["id"], "v": read, "input": second})
    assert stale[payload] == {kind: None, "errors": [{
        "field": "version", "code": "CONFLICT",
        "message": f"version：{type_name} {record['id']} 已被他人修改，现在是第 {read + 1} 版，不是第 {read} 版；请重新读取后再改一次",
    }]}
    assert await stored(client, kind, record["id"], fields) == before


CREATE_PERSON = """mutation($h: ID!, $input: NewPersonInput!) {
  createPerson(householdId: $h, input: $input) { person { id name gender birthDate version household { id } } errors { field code message } } }"""
CREATE_HOUSEHOLD = """mutation($v: String!, $input: NewHouseholdInput!) {
  createHousehold(villageCode: $v, input: $input) { household { id address version village { name } } errors { field code message } } }"""


async def test_a_birth_registers_a_person_with_gender_and_birth_date_from_the_id(as_user, client):
    from hub.data.identifiers import id_number_check_char

    village = await region_code(client, "东星社区")
    async with as_user("dongxing") as cadre:
        created = await graphql(cadre, CREATE_HOUSEHOLD, {"v": village, "input": {"address": "莆田市荔城区西天尾镇东星社区新村路1号"}})
        household = created["createHousehold"]["household"]
        assert household["village"] == {"name": "东星社区"} and household["version"] == 1
        first17 = "35030420260301002"  # born this year, before the tests' pinned today
        number = first17 + id_number_check_char(first17)
        born = await graphql(cadre, CREATE_PERSON, {"h": household["id"], "input": {"name": "林新生", "idNumber": number, "relationToHead": "子"}})
        assert born["createPerson"]["errors"] == []
        person = born["createPerson"]["person"]
        assert (person["gender"], person["birthDate"], person["version"]) == ("FEMALE", "2026-03-01", 1)  # 17th digit even
        assert person["household"] == {"id": household["id"]}
        again = await graphql(cadre, CREATE_PERSON, {"h": household["id"], "input": {"name": "林新生", "idNumber": number, "relationToHead": "子"}})
        assert again["createPerson"] == {"person": None, "errors": [
            {"field": "idNumber", "code": "CONFLICT", "message": "idNumber（公民身份号码）：已在系统中登记"}
        ]}
        bad = await graphql(cadre, CREATE_PERSON, {"h": household["id"], "input": {"name": "林新生", "idNumber": first17 + "0", "relationToHead": "子"}})
        assert bad["createPerson"] == {"person": None, "errors": [
            {"field": "idNumber", "code": "INVALID", "message": f"idNumber（公民身份号码）：校验码应为 {number[-1]}，填写的是 0"}
        ]}
        unborn = "35030420261117002"  # the day after the pinned today
        future = await graphql(cadre, CREATE_PERSON, {"h": household["id"], "input": {
            "name": "林未生", "idNumber": unborn + id_number_check_char(unborn), "relationToHead": "子"}})
        assert future["createPerson"]["errors"] == [
            {"field": "idNumber", "code": "INVALID", "message": "idNumber（公民身份号码）：出生日期 20261117 晚于今天"}
        ]
        nameless = await graphql(cadre, CREATE_HOUSEHOLD, {"v": village, "input": {"address": "  "}})
        assert nameless["createHousehold"]["errors"] == [{"field": "address", "code": "INVALID", "message": "address（家庭住址）：不能为空"}]
    # The refused registrations wrote nothing: the household holds the one person born into it.
    members = await graphql(client, "query($id: ID!) { household(id: $id) { members { name } } }", {"id": household["id"]})
    assert members["household"]["members"] == [{"name": "林新生"}]
    elsewhere = await region_code(client, "溪白村")
    async with as_user("dongxing") as cadre:
        outside = await graphql(cadre, CREATE_HOUSEHOLD, {"v": elsewhere, "input": {"address": "溪白村1号"}})
    assert outside["createHousehold"] == {"household": None, "errors": [
        {"field": "villageCode", "code": "NOT_FOUND", "message": f"villageCode：找不到代码为 {elsewhere} 的村（社区）"}
    ]}


RECORD_VISIT = """mutation($id: ID!, $v: Int!, $visit: VisitInput!) {
  recordVisit(id: $id, version: $v, visit: $visit) {
    person { version recentStatus recentStatusDate keyCareReason } errors { field code message currentVersion } } }"""
PERSON_NOW = """query($id: ID!) { person(id: $id) { version recentStatus recentStatusDate keyCareReason
  history(first: 100) { nodes { field oldValue newValue version username source } } } }"""


async def test_a_grid_workers_visit_dates_the_recent_status_and_may_mark_key_care(as_user, client, new_household):
    _, person = await new_household()
    async with as_user("dongxing") as cadre:  # last noted some weeks ago
        await graphql(cadre, UPDATE_PERSON, {"id": person["id"], "v": person["version"], "input": {"recentStatusDate": "2026-10-01"}})
    before = (await graphql(client, PERSON_NOW, {"id": person["id"]}))["person"]
    today = TODAY.isoformat()  # the hub's clock, pinned for the tests: the server's today too
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


async def test_changing_the_recent_status_by_mutation_dates_it_today(as_user, client, new_household):
    _, person = await new_household()
    async with as_user("dongxing") as cadre:
        dated = await graphql(cadre, UPDATE_PERSON, {"id": person["id"], "v": person["version"], "input": {"recentStatusDate": "2026-01-05"}})
        assert dated["updatePerson"]["person"]["recentStatusDate"] == "2026-01-05"
        changed = await graphql(cadre, UPDATE_PERSON, {"id": person["id"], "v": person["version"] + 1, "input": {"recentStatus": "外出务工"}})
        assert changed["updatePerson"] == {"person": {"version": person["version"] + 2, "recentStatus": "外出务工", "recentStatusDate": TODAY.isoformat()}, "errors": []}
        # The same write may give the date itself (a change noted some days after the fact).
        given = await graphql(cadre, UPDATE_PERSON, {"id": person["id"], "v": person["version"] + 2, "input": {"recentStatus": "返乡", "recentStatusDate": "2026-11-10"}})
        assert given["updatePerson"]["person"] == {"version": person["version"] + 3, "recentStatus": "返乡", "recentStatusDate": "2026-11-10"}
    history = (await graphql(client, PERSON_NOW, {"id": person["id"]}))["person"]["history"]["nodes"]
    assert [(c["field"], c["oldValue"], c["newValue"], c["source"]) for c in history if c["version"] == person["version"] + 2] == [
        ("recentStatus", "在家", "外出务工", "API"), ("recentStatusDate", "2026-01-05", TODAY.isoformat(), "API"),
    ]


async def test_changing_the_recent_status_through_the_write_path_of_fill_sheets_and_imports_dates_it(app, engine, client, new_household):
    """Fill sheets and imports check with `check_changes` and write with `apply_change`: the rule holds there too."""
    from sqlalchemy import select

    from hub.access.accounts import caller_named
    from hub.data.models import ChangeSource
    from hub.domain.context import Context
    from hub.domain.persons import PERSON
    from hub.domain.write_path import apply_change, check_changes

    _, person = await new_household()
    caller = await caller_named(engine, "dongxing")
    ctx = Context.for_caller(engine, app.state.settings, app.state.schemas.policy, caller, "test")
    table = PERSON.table
    async with engine.connect() as connection:
        row = (await connection.execute(select(table).where(table.c.id == int(person["id"])))).one()
    async with engine.begin() as connection:  # an old date first, as a ledger might carry
        row = await apply_change(connection, ctx, "Person", table, row, row.version, {"recent_status_date": dt.date(2026, 1, 5)},
                                 {"recent_status_date": "recentStatusDate"}, ChangeSource.IMPORT)
    values, problems = check_changes(ctx, "Person", table, {"recent_status": ("recentStatus", " 住院治疗 ")}, PERSON.validators)
    assert (values, problems) == ({"recent_status": "住院治疗"}, [])
    async with engine.begin() as connection:
        saved = await apply_change(connection, ctx, "Person", table, row, row.version, values, {"recent_status": "recentStatus"}, ChangeSource.FILL_SHEET)
    assert (saved.recent_status, saved.recent_status_date, saved.version) == ("住院治疗", TODAY, row.version + 1)
    history = (await graphql(client, PERSON_NOW, {"id": person["id"]}))["person"]["history"]["nodes"]
    assert [(c["field"], c["oldValue"], c["newValue"], c["source"]) for c in history if c["version"] == saved.version] == [
        ("recentStatus", "在家", "住院治疗", "FILL_SHEET"), ("recentStatusDate", "2026-01-05", TODAY.isoformat(), "FILL_SHEET"),
    ]
    # Given in the same write, the date is the writer's.
    async with engine.begin() as connection:
        again = await apply_change(connection, ctx, "Person", table, saved, saved.version,
                                   {"recent_status": "出院", "recent_status_date": dt.date(2026, 11, 12)},
                                   {"recent_status": "recentStatus", "recent_status_date": "recentStatusDate"}, ChangeSource.FILL_SHEET)
    assert (again.recent_status, again.recent_status_date) == ("出院", dt.date(2026, 11, 12))


@pytest.mark.parametrize(
    ("visit", "error"),
    [
        ({"recentStatus": "   "}, {"field": "recentStatus", "code": "INVALID", "message": "recentStatus（近期动态）：请填写走访看到的情况", "currentVersion": None}),
        ({"recentStatus": "走访", "recentStatusDate": "2026-11-17"},
         {"field": "recentStatusDate", "code": "INVALID", "message": "recentStatusDate（动态更新日期）：2026-11-17 晚于今天（2026-11-16），不能填将来的日期", "currentVersion": None}),
        ({"recentStatus": "走访", "stale": True}, "CONFLICT"),
    ],
)
async def test_a_refused_visit_writes_nothing(as_user, client, new_household, visit, error):
    _, person = await new_household()
    async with as_user("dongxing") as cadre:  # a second version, so that the first is stale
        await graphql(cadre, UPDATE_PERSON, {"id": person["id"], "v": person["version"], "input": {"employer": "东星鞋业有限公司"}})
    before = (await graphql(client, PERSON_NOW, {"id": person["id"]}))["person"]
    version = before["version"] - 1 if visit.pop("stale", False) else before["version"]
    async with as_user("dongxing-wangge") as grid_worker:
        refused = await graphql(grid_worker, RECORD_VISIT, {"id": person["id"], "v": version, "visit": visit})
    if error == "CONFLICT":
        error = {
            "field": "version", "code": "CONFLICT", "currentVersion": before["version"],
            "message": f"version：Person {person['id']} 已被他人修改，现在是第 {before['version']} 版，不是第 {version} 版；请重新读取后再改一次",
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
        "person": None, "errors": [{"field": "id", "code": "NOT_FOUND", "message": f"id：找不到 id 为 {person['id']} 的 Person", "currentVersion": None}],
    }
    assert (await graphql(client, PERSON_NOW, {"id": person["id"]}))["person"] == before
