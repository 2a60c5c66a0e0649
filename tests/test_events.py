"""Events: the town opens one, villages report (初报, 续报, 核报), the town passes or sends back, totals use the latest passed."""

from __future__ import annotations

import itertools

from sqlalchemy import func, select, text

from hub.access import accounts
from hub.data.models import DamageReport, EventOutbox, OrgUnitKind, Role
from tests.conftest import client_as, graphql
from tests.test_exports import data_rows, sheet_of

OPEN = """mutation($r: String!, $input: NewEventInput!) {
  openEvent(regionCode: $r, input: $input) { event { id name status version } errors { field code message } } }"""
CLOSE = """mutation($id: ID!, $v: Int!) { closeEvent(id: $id, version: $v) { event { status endedOn version } errors { field code message } } }"""
SUBMIT = """mutation($e: ID!, $v: String!, $input: DamageReportInput!) {
  submitDamageReport(eventId: $e, villageCode: $v, input: $input) {
    damageReport { id kind sequence reviewStatus affectedPopulation collapsedRooms severelyDamagedRooms generallyDamagedRooms affectedEnterpriseCount
                   houseBreakdown { damage category households rooms } affectedEnterprises { note enterprise { name } } }
    errors { field code message } } }"""
REVIEW = """mutation($id: ID!, $d: ReportReviewDecision!, $reason: String) {
  reviewDamageReport(id: $id, decision: $d, reason: $reason) { damageReport { reviewStatus reviewReason } errors { field code message } } }"""
TOTALS = """query($id: ID!) { event(id: $id) { totals { villagesCounted affectedPopulation relocatedPopulation collapsedRooms cropAffectedArea directLoss }
  board { village { name } reported latestReport { sequence } countedReport { sequence } } } }"""

_events = itertools.count(1)


def figures(**overrides) -> dict:
    base = {
        "kind": "INITIAL", "affectedPopulation": 120, "relocatedPopulation": 30, "reliefNeededPopulation": 10, "deaths": 0, "missing": 0,
        "cropAffectedArea": 80.0, "cropDisasterArea": 40.0, "cropLostArea": 5.0, "directLoss": 52.5, "notes": "东星社区低洼处进水",
    }
    return base | overrides


async def code_of(engine, name: str) -> str:
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT code FROM regions WHERE name = :n"), {"n": name})).scalar_one()


async def open_event(as_user, engine, town: str = "西天尾镇") -> dict:
    async with as_user("xitianwei") as town_centre:
        data = await graphql(town_centre, OPEN, {"r": await code_of(engine, town), "input": {
            "kind": "TYPHOON", "name": f"测试台风{next(_events)}号", "startedOn": "2026-11-10"}})
    assert data["openEvent"]["errors"] == [], data
    return data["openEvent"]["event"]


async def report_count(engine) -> tuple[int, int]:
    async with engine.connect() as conn:
        reports = (await conn.execute(select(func.count()).select_from(DamageReport.__table__))).scalar_one()
        announced = (await conn.execute(select(func.count()).select_from(EventOutbox.__table__))).scalar_one()
    return reports, announced


async def submit(client, event_id: str, village_code: str, input_: dict) -> dict:
    return (await graphql(client, SUBMIT, {"e": event_id, "v": village_code, "input": input_}))["submitDamageReport"]


async def low_income_household(client, village_code: str) -> str:
    data = await graphql(client, "query($c: String) { households(regionCode: $c, lowIncome: true, extremePoverty: false, first: 1) { nodes { id } } }", {"c": village_code})
    return data["households"]["nodes"][0]["id"]


async def test_village_reports_twice_and_the_town_totals_use_the_latest_passed(app, as_user, engine, new_household):
    event = await open_event(as_user, engine)
    assert event["status"] == "OPEN"
    dongxing = await code_of(engine, "东星社区")
    ordinary, _ = await new_household()
    async with as_user("dongxing") as cadre:
        poor = await low_income_household(cadre, dongxing)
        enterprise = (await graphql(cadre, "query($c: String) { enterprises(regionCode: $c, first: 1) { nodes { id name } } }", {"c": dongxing}))["enterprises"]["nodes"][0]
        first = await submit(cadre, event["id"], dongxing, figures(
            houses=[{"householdId": poor, "damage": "COLLAPSED", "rooms": 2}, {"householdId": ordinary["id"], "damage": "GENERAL", "rooms": 1}],
            affectedEnterprises=[{"enterpriseId": enterprise["id"], "note": "厂房进水约 30 厘米"}],
        ))
    assert first["errors"] == []
    report = first["damageReport"]
    assert (report["kind"], report["sequence"], report["reviewStatus"]) == ("INITIAL", 1, "SUBMITTED")
    assert (report["collapsedRooms"], report["severelyDamagedRooms"], report["generallyDamagedRooms"]) == (2, 0, 1)
    assert report["houseBreakdown"] == [
        {"damage": "COLLAPSED", "category": "低保户", "households": 1, "rooms": 2},
        {"damage": "GENERAL", "category": "一般户", "households": 1, "rooms": 1},
    ]
    assert report["affectedEnterpriseCount"] == 1
    assert report["affectedEnterprises"] == [{"note": "厂房进水约 30 厘米", "enterprise": {"name": enterprise["name"]}}]

    async with as_user("xitianwei") as town_centre:
        # Submitted but not passed: nothing counts yet.
        board = (await graphql(town_centre, TOTALS, {"id": event["id"]}))["event"]
        assert board["totals"]["villagesCounted"] == 0
        passed = await graphql(town_centre, REVIEW, {"id": report["id"], "d": "PASS"})
        assert passed["reviewDamageReport"] == {"damageReport": {"reviewStatus": "PASSED", "reviewReason": None}, "errors": []}
    async with as_user("dongxing") as cadre:
        second = await submit(cadre, event["id"], dongxing, figures(
            kind="FOLLOW_UP", affectedPopulation=150, relocatedPopulation=45, cropAffectedArea=90.0, directLoss=60.0,
            explanation="复核后 1 户房屋由一般损坏改为严重损坏",
            houses=[{"householdId": poor, "damage": "COLLAPSED", "rooms": 2}, {"householdId": ordinary["id"], "damage": "SEVERE", "rooms": 1}],
        ))
    assert second["errors"] == [] and second["damageReport"]["sequence"] == 2
    async with as_user("xitianwei") as town_centre:
        board = (await graphql(town_centre, TOTALS, {"id": event["id"]}))["event"]
        assert board["totals"] == {"villagesCounted": 1, "affectedPopulation": 120, "relocatedPopulation": 30, "collapsedRooms": 2, "cropAffectedArea": 80.0, "directLoss": 52.5}
        await graphql(town_centre, REVIEW, {"id": second["damageReport"]["id"], "d": "PASS"})
        board = (await graphql(town_centre, TOTALS, {"id": event["id"]}))["event"]
    assert board["totals"] == {"villagesCounted": 1, "affectedPopulation": 150, "relocatedPopulation": 45, "collapsedRooms": 2, "cropAffectedArea": 90.0, "directLoss": 60.0}
    assert len(board["board"]) == 17
    reported = [row for row in board["board"] if row["reported"]]
    assert reported == [{"village": {"name": "东星社区"}, "reported": True, "latestReport": {"sequence": 2}, "countedReport": {"sequence": 2}}]

    # One click to 台风受灾摸排表: 17 villages, the base columns from the hub, the latest passed figures, the town's totals.
    async with as_user("yingji") as emergency:
        response = await emergency.get("/exports/taifeng-mopai.xlsx", params={"event": event["id"], "town": await code_of(engine, "西天尾镇")})
    sheet = sheet_of(response)
    template = app.state.templates.files["taifeng-mopai"]
    rows = data_rows(sheet, template)
    assert len(rows) == 17
    headers = [c.headers[-1] for c in template.columns]
    at = {h: i for i, h in enumerate(headers)}
    (dongxing_row,) = [r for r in rows if r[1] == "东星社区"]
    assert [dongxing_row[at[h]] for h in ("报告类型", "受灾人口（人）", "紧急转移安置（人）", "倒塌房屋（间）", "严重损坏房屋（间）", "农作物受灾面积（亩）", "受灾企业（家）", "直接经济损失（万元）")] == [
        "续报", 150, 45, 2, 1, 90, 0, 60]
    assert all(r[at["受灾人口（人）"]] is None for r in rows if r[1] != "东星社区")
    total = [c.value for c in sheet[3 + 2 + 17]]
    assert total[0] == "合计"
    assert (total[at["户籍人口（人）"]], total[at["受灾人口（人）"]], total[at["直接经济损失（万元）"]]) == (sum(r[at["户籍人口（人）"]] for r in rows), 150, 60)
    first = 3 + 2
    assert {sheet.row_dimensions[row].height for row in range(first, first + 17)} == {26}  # room to write in 备注


async def test_figures_are_checked_with_reasons_and_nothing_is_stored(as_user, engine):
    event = await open_event(as_user, engine)
    dongxing = await code_of(engine, "东星社区")
    before = await report_count(engine)
    async with as_user("dongxing") as cadre:
        negative = await submit(cadre, event["id"], dongxing, figures(affectedPopulation=-3, relocatedPopulation=0, reliefNeededPopulation=0))
        inconsistent = await submit(cadre, event["id"], dongxing, figures(cropDisasterArea=90.0, cropLostArea=95.0, relocatedPopulation=130))
        follow_up_first = await submit(cadre, event["id"], dongxing, figures(kind="FOLLOW_UP"))
    assert negative == {"damageReport": None, "errors": [
        {"field": "affectedPopulation", "code": "INVALID", "message": "affectedPopulation（受灾人口（人））：不能为负数，填写的是 -3"}]}
    assert inconsistent["errors"] == [
        {"field": "cropLostArea", "code": "INVALID", "message": "cropLostArea（农作物绝收面积（亩））：不能大于农作物成灾面积（亩）（90），填写的是 95"},
        {"field": "cropDisasterArea", "code": "INVALID", "message": "cropDisasterArea（农作物成灾面积（亩））：不能大于农作物受灾面积（亩）（80），填写的是 90"},
        {"field": "relocatedPopulation", "code": "INVALID", "message": "relocatedPopulation（紧急转移安置人口（人））：不能大于受灾人口（人）（120），填写的是 130"},
    ]
    assert follow_up_first["errors"] == [{"field": "kind", "code": "INVALID", "message": "kind（报告类型）：本事件还没有初报，请先报初报"}]
    assert await report_count(engine) == before


async def test_a_figure_that_falls_or_jumps_needs_an_explanation(as_user, engine):
    event = await open_event(as_user, engine)
    dongxing = await code_of(engine, "东星社区")
    async with as_user("dongxing") as cadre:
        assert (await submit(cadre, event["id"], dongxing, figures()))["errors"] == []
        before = await report_count(engine)
        unexplained = await submit(cadre, event["id"], dongxing, figures(kind="FOLLOW_UP", affectedPopulation=100, directLoss=500.0))
        assert await report_count(engine) == before
        second_initial = await submit(cadre, event["id"], dongxing, figures())
        explained = await submit(cadre, event["id"], dongxing, figures(kind="FOLLOW_UP", affectedPopulation=100, explanation="核实后 20 人为重复统计"))
    assert unexplained["errors"] == [
        {"field": "affectedPopulation", "code": "INVALID", "message": "affectedPopulation（受灾人口（人））：比上次报告（第 1 次，120）减少为 100，请在 explanation（数据变化说明）中说明原因"},
        {"field": "directLoss", "code": "INVALID", "message": "directLoss（直接经济损失（万元））：比上次报告（第 1 次，52.5）猛增为 500，请在 explanation（数据变化说明）中说明原因"},
    ]
    assert second_initial["errors"] == [{"field": "kind", "code": "INVALID", "message": "kind（报告类型）：本事件已有初报，请报续报或核报"}]
    assert explained["errors"] == [] and explained["damageReport"]["sequence"] == 2


async def test_sent_back_with_a_reason_then_corrected(as_user, engine):
    event = await open_event(as_user, engine)
    dongxing = await code_of(engine, "东星社区")
    async with as_user("dongxing") as cadre:
        first = (await submit(cadre, event["id"], dongxing, figures()))["damageReport"]
    async with as_user("xitianwei") as town_centre:
        no_reason = await graphql(town_centre, REVIEW, {"id": first["id"], "d": "SEND_BACK"})
        sent_back = await graphql(town_centre, REVIEW, {"id": first["id"], "d": "SEND_BACK", "reason": "受灾人口含外出务工人员，请核减"})
        again = await graphql(town_centre, REVIEW, {"id": first["id"], "d": "PASS"})
    assert no_reason["reviewDamageReport"]["errors"] == [{"field": "reason", "code": "INVALID", "message": "reason（退回原因）：退回时须写明原因，村（社区）据此更正后重报"}]
    assert sent_back["reviewDamageReport"] == {"damageReport": {"reviewStatus": "SENT_BACK", "reviewReason": "受灾人口含外出务工人员，请核减"}, "errors": []}
    assert again["reviewDamageReport"]["errors"] == [{"field": "id", "code": "CONFLICT", "message": "id：该报告已审核（已退回），不能再审"}]
    async with as_user("dongxing") as cadre:
        # The 初报 was sent back: the corrected one is an 初报 again, and a fall from a sent-back report needs no explanation.
        corrected = await submit(cadre, event["id"], dongxing, figures(affectedPopulation=100))
    assert corrected["errors"] == [] and (corrected["damageReport"]["kind"], corrected["damageReport"]["sequence"]) == ("INITIAL", 2)


NEXT_KINDS = "query($id: ID!) { event(id: $id) { board { village { code } nextKinds } } }"


async def test_the_board_offers_the_kinds_a_village_may_report_next(as_user, engine):
    """The pages offer what the hub would take: 初报 first, 续报 or 核报 after it, nothing after the 核报; a sent-back report is not counted."""
    event = await open_event(as_user, engine)
    dongxing = await code_of(engine, "东星社区")

    async def offered() -> list[str]:
        async with as_user("dongxing") as cadre:
            (row,) = (await graphql(cadre, NEXT_KINDS, {"id": event["id"]}))["event"]["board"]  # the cadre's own village only
        assert row["village"]["code"] == dongxing
        return row["nextKinds"]

    assert await offered() == ["INITIAL"]
    async with as_user("dongxing") as cadre:
        first = (await submit(cadre, event["id"], dongxing, figures()))["damageReport"]
    assert await offered() == ["FOLLOW_UP", "FINAL"]
    async with as_user("xitianwei") as town_centre:
        await graphql(town_centre, REVIEW, {"id": first["id"], "d": "SEND_BACK", "reason": "受灾人口请核减"})
    assert await offered() == ["INITIAL"]
    async with as_user("dongxing") as cadre:
        assert (await submit(cadre, event["id"], dongxing, figures()))["errors"] == []
        assert (await submit(cadre, event["id"], dongxing, figures(kind="FINAL")))["errors"] == []
    assert await offered() == []


async def test_a_closed_event_freezes_its_reports(as_user, engine):
    event = await open_event(as_user, engine)
    dongxing = await code_of(engine, "东星社区")
    async with as_user("dongxing") as cadre:
        first = (await submit(cadre, event["id"], dongxing, figures()))["damageReport"]
        cannot_close = await graphql(cadre, CLOSE, {"id": event["id"], "v": event["version"]})
    async with as_user("yingji") as emergency:  # 应急管理局 closes events too
        closed = await graphql(emergency, CLOSE, {"id": event["id"], "v": event["version"]})
    assert cannot_close["closeEvent"]["errors"][0]["code"] == "FORBIDDEN"
    assert closed["closeEvent"] == {"event": {"status": "CLOSED", "endedOn": "2026-11-16", "version": event["version"] + 1}, "errors": []}
    before = await report_count(engine)
    async with as_user("dongxing") as cadre:
        late = await submit(cadre, event["id"], dongxing, figures(kind="FOLLOW_UP"))
    async with as_user("xitianwei") as town_centre:
        review = await graphql(town_centre, REVIEW, {"id": first["id"], "d": "PASS"})
    frozen = f"eventId：事件“{event['name']}”已结束，报告已冻结，不能再报或审核"
    assert late["errors"] == [{"field": "eventId", "code": "INVALID", "message": frozen}]
    assert review["reviewDamageReport"]["errors"] == [{"field": "eventId", "code": "INVALID", "message": frozen}]
    assert await report_count(engine) == before


async def test_outside_the_jurisdiction_is_not_found(app, as_user, engine, new_household):
    event = await open_event(as_user, engine)
    dongxing, other_village = await code_of(engine, "东星社区"), await code_of(engine, "溪白村")
    foreign, _ = await new_household("溪白村")
    before = await report_count(engine)
    async with as_user("dongxing") as cadre:
        other = await submit(cadre, event["id"], other_village, figures())
        their_house = await submit(cadre, event["id"], dongxing, figures(houses=[{"householdId": foreign["id"], "damage": "GENERAL", "rooms": 1}]))
    assert other["errors"] == [{"field": "villageCode", "code": "NOT_FOUND", "message": f"villageCode：事件“{event['name']}”涉及的村（社区）中找不到代码为 {other_village} 的"}]
    assert their_house["errors"] == [{"field": "houses[0].householdId", "code": "NOT_FOUND", "message": f"houses[0].householdId：本村（社区）找不到 id 为 {foreign['id']} 的户"}]
    # Another town's coordinator neither sees the event nor can review its reports.
    async with as_user("dongxing") as cadre:
        first = (await submit(cadre, event["id"], dongxing, figures()))["damageReport"]
    async with client_as(app, await other_town_coordinator(engine)) as stranger:
        seen = await graphql(stranger, "query($id: ID!) { event(id: $id) { name } }", {"id": event["id"]})
        review = await graphql(stranger, REVIEW, {"id": first["id"], "d": "PASS"})
    assert seen == {"event": None}
    assert review["reviewDamageReport"]["errors"] == [{"field": "id", "code": "NOT_FOUND", "message": f"id：找不到 id 为 {first['id']} 的灾情报告"}]
    assert await report_count(engine) == (before[0] + 1, before[1] + 1)


_other_town: list[str] = []


async def other_town_coordinator(engine) -> str:
    """A token of a coordinator of 新度镇, a town the demo event does not cover."""
    if not _other_town:
        code = await code_of(engine, "新度镇")
        await accounts.add_org_unit(engine, "新度镇基层治理协同中心（测试）", OrgUnitKind.TOWN_CENTRE, None, code)
        await accounts.add_user(engine, "xindu-test", "测试协调员", "新度镇基层治理协同中心（测试）", Role.TOWN_COORDINATOR, code)
        _other_town.append(await accounts.issue_token(engine, "xindu-test"))
    return _other_town[0]


async def test_after_the_event_the_archives_keep_it(as_user, engine):
    """A flood point shows its events' reports; a village's archive (一村一档) lists the events it reported."""
    gaemi = "2024年第3号台风“格美”"
    async with as_user("xitianwei") as town_centre:
        village = await graphql(town_centre, "query($c: String!) { region(code: $c) { reportedEvents { name status } } }", {"c": await code_of(engine, "东星社区")})
        points = await graphql(town_centre, """query($c: String) { floodPoints(regionCode: $c, first: 30) { nodes { name condition
            reports { condition waterDepthCm text event { name } } } } }""", {"c": await code_of(engine, "西天尾镇")})
    assert {"name": gaemi, "status": "CLOSED"} in village["region"]["reportedEvents"]
    nodes = points["floodPoints"]["nodes"]
    assert len(nodes) == 24
    for node in nodes:
        first = node["reports"][0]
        assert first["event"] == {"name": gaemi} and first["text"].endswith("。") and first["waterDepthCm"] is not None
    async with as_user("weijian") as health:  # 卫健委 is granted no event: the archive does not show it
        refused = await health.post("/graphql", json={"query": "{ regions(first: 1) { nodes { reportedEvents { name } } } }"})
    assert refused.json()["errors"][0]["message"] == "Cannot query field 'reportedEvents' on type 'Region'."
