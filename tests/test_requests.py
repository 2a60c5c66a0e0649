"""Data requests: the hub answers first; what it lacks goes through the town to the villages and back."""

from __future__ import annotations

import io
import itertools

from openpyxl import load_workbook
from sqlalchemy import func, select

from hub.data.models import (
    Change,
    ChangeSource,
    DataRequest,
    Indicator,
    RequestReview,
    VillageTask,
)
from tests.conftest import graphql
from tests.test_fill_sheets import upload
from tests.test_queries import region_code
from tests.test_sql_batching import request_statements

FILE = """mutation($input: RequestInput!) { fileRequest(input: $input) {
  request { id status hubCells villageCount template { id downloadPath } }
  columns { header status reason path indicator } errors { field code message } } }"""
REVIEW = """mutation($id: ID!, $d: ReviewDecision!, $reason: String, $dup: ID) {
  reviewRequest(requestId: $id, decision: $d, reason: $reason, duplicateOf: $dup) { errors { field code message } } }"""
INBOX = """{ inbox { message tasks { id title department departmentName villageName status overdue fillSheetPath
  rows { entityId label base { header value } cells { key value version lastPeriodValue } } } } }"""
FILL = """mutation($t: ID!, $values: [IndicatorValueInput!]!) { fillTask(taskId: $t, values: $values) {
  values { entityId value version } errors { field code message } } }"""
SUBMIT = "mutation($t: ID!) { submitTask(taskId: $t) { errors { field code message } } }"
PROGRESS = """query($id: ID!) { dataRequest(id: $id) { status progress { total notStarted inProgress submitted accepted overdue reportingRate }
  tasks { id villageName status } reviews { townName status reason } } }"""

_numbers = itertools.count(1)
DEADLINE = "2026-11-30"


def request_input(region: str, columns: list[dict], **extra) -> dict:
    return {"title": f"测试填报任务{next(_numbers)}", "purpose": "测试", "legalBasis": "测试依据", "regionCode": region,
            "entity": "VILLAGE", "columns": columns, "period": "2026-11", "deadline": DEADLINE} | extra


def xlsx(response) -> list[tuple]:
    assert response.status_code == 200, response.text
    ws = load_workbook(io.BytesIO(response.content)).active
    return [row for row in ws.iter_rows(min_row=4, values_only=True) if row[0] is not None and not str(row[0]).startswith(("填报", "合计"))]


async def table_counts(engine) -> tuple[int, ...]:
    async with engine.connect() as connection:
        return tuple([await connection.scalar(select(func.count()).select_from(m.__table__)) for m in (DataRequest, RequestReview, VillageTask, Indicator)])


async def test_civil_affairs_low_income_request_is_answered_from_the_hub(as_user, client, engine):
    dongxing = await region_code(client, "东星社区")
    columns = [{"label": "姓名"}, {"label": "公民身份号码"}, {"label": "家庭住址"}, {"label": "近期动态"}]
    async with as_user("minzheng") as civil_affairs:
        filed = (await graphql(civil_affairs, FILE, {"input": request_input(dongxing, columns, entity="HOUSEHOLD", filters=["lowIncome"], title="东星社区低保户信息核对")}))["fileRequest"]
        assert filed["errors"] == []
        assert [(c["header"], c["status"], c["path"]) for c in filed["columns"]] == [
            ("姓名", "HELD_GRANTED", "head.name"), ("公民身份号码", "HELD_GRANTED", "head.idNumber"),
            ("家庭住址", "HELD_GRANTED", "address"), ("近期动态", "HELD_GRANTED", "head.recentStatus"),
        ]
        request = filed["request"]
        assert (request["status"], request["hubCells"], request["villageCount"]) == ("ANSWERED_FROM_HUB", 16 * 4, 1)
        rows = xlsx(await civil_affairs.get(request["template"]["downloadPath"], params={"region": dongxing}))
        progress = (await graphql(civil_affairs, PROGRESS, {"id": request["id"]}))["dataRequest"]
    assert len(rows) == 16
    assert all(len(row[2]) == 18 for row in rows)  # the ID numbers in full: 民政局 reads them so
    assert progress["progress"]["total"] == 0 and progress["tasks"] == []  # no village ever sees it
    async with as_user("xitianwei") as town:
        assert (await graphql(town, PROGRESS, {"id": request["id"]}))["dataRequest"] is None  # nor the town


async def test_flood_supplies_go_through_the_town_to_17_villages_and_come_back(as_user, client, engine, cadre_of, app):
    town_code = await region_code(client, "西天尾镇")
    stem = f"t{next(_numbers)}"
    columns = [
        {"path": "name"},
        {"define": {"key": f"sandbags_{stem}", "label": "沙袋（袋）", "entity": "VILLAGE", "type": "INTEGER", "unit": "袋", "minValue": 0,
                    "periodicity": "MONTH", "legalBasis": "《防汛条例》第十五条"}},
        {"define": {"key": f"pumps_{stem}", "label": "抽水泵（台）", "entity": "VILLAGE", "type": "INTEGER", "unit": "台", "minValue": 0,
                    "periodicity": "MONTH", "legalBasis": "《防汛条例》第十五条"}},
    ]
    async with as_user("yingji") as emergency:
        filed = (await graphql(emergency, FILE, {"input": request_input(town_code, columns, title="防汛物资储备", recurrence="MONTH")}))["fileRequest"]
    assert filed["errors"] == []
    assert [c["status"] for c in filed["columns"]] == ["HELD_GRANTED", "NOT_HELD", "NOT_HELD"]
    request = filed["request"]
    assert (request["status"], request["hubCells"], request["villageCount"]) == ("IN_REVIEW", 0, 17)
    async with as_user("dongxing") as cadre:
        assert (await graphql(cadre, INBOX))["inbox"]["tasks"] == [] or all(t["title"] != "防汛物资储备" for t in (await graphql(cadre, INBOX))["inbox"]["tasks"])
    async with as_user("xitianwei") as town:
        approved = await graphql(town, REVIEW, {"id": request["id"], "d": "APPROVE"})
        assert approved["reviewRequest"]["errors"] == []
        again = await graphql(town, REVIEW, {"id": request["id"], "d": "REJECT", "reason": "改主意了"})
        assert again["reviewRequest"]["errors"] == [{"field": "decision", "code": "ILLEGAL_TRANSITION", "message": "decision：这项填报任务在本镇的状态是“已通过”，不能再审核"}]
        progress = (await graphql(town, PROGRESS, {"id": request["id"]}))["dataRequest"]
    assert progress["status"] == "APPROVED"
    assert progress["progress"]["total"] == 17 and progress["progress"]["notStarted"] == 17

    # 东星社区 fills by its task's fill sheet, downloaded, typed into in Excel and uploaded; another village by mutation.
    async with as_user("dongxing") as cadre:
        inbox = (await graphql(cadre, INBOX))["inbox"]
        (task,) = [t for t in inbox["tasks"] if t["title"] == "防汛物资储备"]
        assert (task["department"], task["departmentName"]) == ("yingji", "应急管理局")  # the page shows the unit's name
        (row,) = task["rows"]
        assert row["base"] == [{"header": "名称", "value": "东星社区"}]
        assert [c["key"] for c in row["cells"]] == [f"sandbags_{stem}", f"pumps_{stem}"]
        sheet = await cadre.get(task["fillSheetPath"])
        assert sheet.status_code == 200, sheet.text
        workbook = load_workbook(io.BytesIO(sheet.content))
        ws = workbook.active
        assert [c.value for c in ws[3]] == ["序号", "名称", "沙袋（袋）", "抽水泵（台）", f"__key__:task:{task['id']}"]
        assert [c.value for c in ws[4]][:4] == [1, "东星社区", None, None]
        assert ws.protection.sheet and ws["B4"].protection.locked and not ws["C4"].protection.locked
        ws["C4"], ws["D4"] = 1200, 3
        uploaded = await upload(cadre, workbook)
        assert uploaded == (200, {"template": f"task:{task['id']}", "rows": 1, "changedCells": 2, "unchangedRows": 0, "applied": True, "problems": []})
        (row,) = [t for t in (await graphql(cadre, INBOX))["inbox"]["tasks"] if t["id"] == task["id"]][0]["rows"]
        assert [(c["value"], c["version"]) for c in row["cells"]] == [("1200", 1), ("3", 1)]
        assert (await graphql(cadre, SUBMIT, {"t": task["id"]}))["submitTask"]["errors"] == []
        refill = await graphql(cadre, FILL, {"t": task["id"], "values": [{"key": f"pumps_{stem}", "entityId": row["entityId"], "value": "4", "version": 1}]})
        assert refill["fillTask"]["errors"] == [{"field": "taskId", "code": "TASK_CLOSED", "message": "taskId：任务状态是“已报送”，不能再填写；被退回后才能修改"}]
    async with cadre_of("溪白村") as other:
        (task,) = [t for t in (await graphql(other, INBOX))["inbox"]["tasks"] if t["title"] == "防汛物资储备"]
        (row,) = task["rows"]
        filled = await graphql(other, FILL, {"t": task["id"], "values": [
            {"key": f"sandbags_{stem}", "entityId": row["entityId"], "value": "800", "version": 0},
            {"key": f"pumps_{stem}", "entityId": row["entityId"], "value": "2", "version": 0}]})
        assert filled["fillTask"]["errors"] == []
        assert (await graphql(other, SUBMIT, {"t": task["id"]}))["submitTask"]["errors"] == []
    async with as_user("yingji") as emergency:
        progress = (await graphql(emergency, PROGRESS, {"id": request["id"]}))["dataRequest"]["progress"]
        assert (progress["submitted"], progress["total"]) == (2, 17)
        rows = xlsx(await emergency.get(request["template"]["downloadPath"], params={"region": town_code}))
    assert len(rows) == 17
    by_village = {row[1]: row[2:] for row in rows}
    assert by_village["东星社区"] == ("1200", "3") and by_village["溪白村"] == ("800", "2")
    assert sum(1 for values in by_village.values() if values == (None, None)) == 15

    # Filed again the next month: the villages see last month's values offered.
    columns = [{"path": "name"}, {"indicator": f"sandbags_{stem}"}, {"indicator": f"pumps_{stem}"}]
    async with as_user("yingji") as emergency:
        again = (await graphql(emergency, FILE, {"input": request_input(town_code, columns, title="防汛物资储备（12月）", period="2026-12", deadline="2026-12-10", recurrence="MONTH")}))["fileRequest"]
    assert again["errors"] == [] and again["request"]["status"] == "IN_REVIEW"
    async with as_user("xitianwei") as town:
        assert (await graphql(town, REVIEW, {"id": again["request"]["id"], "d": "APPROVE"}))["reviewRequest"]["errors"] == []
    async with as_user("dongxing") as cadre:
        (task,) = [t for t in (await graphql(cadre, INBOX))["inbox"]["tasks"] if t["title"] == "防汛物资储备（12月）"]
    assert [(c["value"], c["lastPeriodValue"]) for c in task["rows"][0]["cells"]] == [(None, "1200"), (None, "3")]
    async with as_user("dongxing") as cadre:  # the fill sheet offers them in the open cells: confirmed as they are
        workbook = load_workbook(io.BytesIO((await cadre.get(task["fillSheetPath"])).content))
        assert [c.value for c in workbook.active[4]][:4] == [1, "东星社区", 1200, 3]
        assert (await upload(cadre, workbook))[1]["changedCells"] == 2
        (task,) = [t for t in (await graphql(cadre, INBOX))["inbox"]["tasks"] if t["title"] == "防汛物资储备（12月）"]
    assert [(c["value"], c["lastPeriodValue"]) for c in task["rows"][0]["cells"]] == [("1200", "1200"), ("3", "3")]


STATISTICS = """query($c: String!, $since: Date, $until: Date) { requestStatistics(townCode: $c, since: $since, until: $until) {
  townName received approved rejected returned inReview answeredFromHub cellsFromHub cellsEntered
  departments { department departmentName received approved rejected answeredFromHub cellsFromHub cellsEntered } } }"""


def burden(department: str, name: str, received: int, approved: int, rejected: int, from_hub: int, cells_from_hub: int, entered: int) -> dict:
    return {"department": department, "departmentName": name, "received": received, "approved": approved, "rejected": rejected,
            "answeredFromHub": from_hub, "cellsFromHub": cells_from_hub, "cellsEntered": entered}


async def test_statistics_of_xitianwei_on_the_demo_data(as_user, client):
    town_code = await region_code(client, "西天尾镇")
    async with as_user("xitianwei") as town:
        stats = (await graphql(town, STATISTICS, {"c": town_code, "since": "2024-05-01", "until": "2026-10-31"}))["requestStatistics"]
    # Cells the villages entered: 39 older requests accepted in all 17 villages (防汛物资储备情况 asks two cells a
    # village, the rest one), and the three latest handed in by 6, 7 and 8 villages (one cell each).
    departments = [
        burden("minzheng", "民政局", 8, 7, 1, 2, 64 + 40, 7 * 17),
        burden("nongye", "农业农村局", 8, 7, 1, 0, 0, 6 * 17 + 7),
        burden("renshe", "人社局", 8, 7, 1, 0, 0, 6 * 17 + 6),
        burden("weijian", "卫健委", 7, 7, 0, 0, 0, 7 * 17),
        burden("yingji", "应急管理局", 14, 14, 0, 2, 120 + 96, 7 * 2 * 17 + 6 * 17 + 8),
    ]
    assert stats == {"townName": "西天尾镇", "received": 45, "approved": 42, "rejected": 3, "returned": 0, "inReview": 0,
                     "answeredFromHub": 4, "cellsFromHub": 64 + 40 + 120 + 96, "cellsEntered": 803, "departments": departments}
    assert sum(d["cellsEntered"] for d in departments) == 803
    async with as_user("dongxing") as cadre, as_user("minzheng") as department:
        for caller in (cadre, department):  # the town's figures are the town's (and the admin's)
            response = await caller.post("/graphql", json={"query": STATISTICS, "variables": {"c": town_code}})
            assert response.json()["errors"][0]["message"] == f"townCode：找不到统计用区划代码为 {town_code} 的乡镇（街道）"


async def test_boundary_markers_request_is_rejected_and_never_reaches_a_village(as_user, client, engine):
    town_code = await region_code(client, "西天尾镇")
    stem = f"t{next(_numbers)}"
    columns = [{"path": "name"}, {"define": {"key": f"markers_{stem}", "label": "界桩（个）", "entity": "VILLAGE", "type": "INTEGER",
                                             "minValue": 0, "legalBasis": "《行政区域界线管理条例》第十条"}}]
    async with as_user("nongye") as agriculture:
        filed = (await graphql(agriculture, FILE, {"input": request_input(town_code, columns, title="荔城区界线界桩管理维护")}))["fileRequest"]
    request_id = filed["request"]["id"]
    reason = "西天尾镇各村（社区）均不在区界沿线，辖区内没有界桩"
    async with as_user("xitianwei") as town:
        no_reason = await graphql(town, REVIEW, {"id": request_id, "d": "REJECT"})
        assert no_reason["reviewRequest"]["errors"] == [{"field": "reason", "code": "REASON_REQUIRED", "message": "reason：不予下发或退回修改须写明理由或建议"}]
        assert (await graphql(town, REVIEW, {"id": request_id, "d": "REJECT", "reason": reason}))["reviewRequest"]["errors"] == []
        approve = await graphql(town, REVIEW, {"id": request_id, "d": "APPROVE"})
        assert approve["reviewRequest"]["errors"] == [{"field": "decision", "code": "ILLEGAL_TRANSITION", "message": "decision：这项填报任务在本镇的状态是“已退回（不予下发）”，不能再审核"}]
        seen = (await graphql(town, PROGRESS, {"id": request_id}))["dataRequest"]
        history = (await graphql(town, "query($id: ID!) { dataRequest(id: $id) { history { fromStatus toStatus username orgUnit reason } } }", {"id": request_id}))["dataRequest"]["history"]
    assert seen["status"] == "REJECTED" and seen["reviews"] == [{"townName": "西天尾镇", "status": "REJECTED", "reason": reason}]
    assert seen["progress"]["total"] == 0
    assert [(h["fromStatus"], h["toStatus"], h["username"], h["reason"]) for h in history] == [
        (None, "FILED", "nongye", None), ("FILED", "IN_REVIEW", "nongye", None), ("IN_REVIEW", "REJECTED", "xitianwei", reason), ("IN_REVIEW", "REJECTED", "xitianwei", None),
    ]
    async with as_user("dongxing") as cadre:
        assert all(t["title"] != "荔城区界线界桩管理维护" for t in (await graphql(cadre, INBOX))["inbox"]["tasks"])
    async with engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(VillageTask.__table__).where(VillageTask.request_id == int(request_id))) == 0


CHECK = """mutation($t: ID!, $reason: String!, $cells: [TaskCellInput!]) { sendBackTask(taskId: $t, reason: $reason, cells: $cells) {
  errors { field code message } } }"""
ROUNDS = """query($t: ID!) { villageTask(id: $t) { rounds { number submittedBy sentBackBy sentBackReason sentBackCells { entityId key }
  acceptedBy changes { entityId key label oldValue newValue username } } } }"""
ACCEPT = "mutation($t: ID!) { acceptTask(taskId: $t) { errors { field code message } } }"


async def one_village_request(as_user, client, *, title: str, value_rule: dict | None = None) -> tuple[str, str, str]:
    """A request for 东星社区 alone, approved by 西天尾镇: (request id, task id, indicator key)."""
    dongxing = await region_code(client, "东星社区")
    key = f"kits_t{next(_numbers)}"
    definition = {"key": key, "label": "急救包（个）", "entity": "VILLAGE", "type": "INTEGER", "minValue": 0, "maxValue": 500,
                  "periodicity": "MONTH", "legalBasis": "《突发事件应对法》第三十二条"} | (value_rule or {})
    async with as_user("yingji") as emergency:
        filed = (await graphql(emergency, FILE, {"input": request_input(dongxing, [{"path": "name"}, {"define": definition}], title=title)}))["fileRequest"]
    assert filed["errors"] == [], filed
    async with as_user("xitianwei") as town:
        assert (await graphql(town, REVIEW, {"id": filed["request"]["id"], "d": "APPROVE"}))["reviewRequest"]["errors"] == []
        (task,) = (await graphql(town, PROGRESS, {"id": filed["request"]["id"]}))["dataRequest"]["tasks"]
    return filed["request"]["id"], task["id"], key


async def test_sent_back_naming_a_cell_corrected_resubmitted_and_accepted_then_locked(as_user, client):
    _, task_id, key = await one_village_request(as_user, client, title="急救包配备情况")
    async with as_user("dongxing") as cadre:
        (task,) = [t for t in (await graphql(cadre, INBOX))["inbox"]["tasks"] if t["id"] == task_id]
        entity = task["rows"][0]["entityId"]
        empty = await graphql(cadre, SUBMIT, {"t": task_id})
        assert empty["submitTask"]["errors"] == [{"field": "taskId", "code": "INCOMPLETE", "message": "taskId：还有 1 个单元格没有填写：东星社区·急救包（个）"}]
        await graphql(cadre, FILL, {"t": task_id, "values": [{"key": key, "entityId": entity, "value": "50", "version": 0}]})
        assert (await graphql(cadre, SUBMIT, {"t": task_id}))["submitTask"]["errors"] == []
    reason = "东星社区·急救包（个）：50 个与库存台账不符，请核实"
    async with as_user("xitianwei") as town:
        elsewhere = await graphql(town, CHECK, {"t": task_id, "reason": reason, "cells": [{"entityId": "1", "key": key}]})
        assert elsewhere["sendBackTask"]["errors"] == [{"field": "cells[0]", "code": "NOT_IN_TASK", "message": f"cells[0]：这项任务没有这一格：对象 1 的“{key}”"}]
        named = [{"entityId": entity, "key": key}]
        assert (await graphql(town, CHECK, {"t": task_id, "reason": reason, "cells": named}))["sendBackTask"]["errors"] == []
    async with as_user("dongxing") as cadre:
        (task,) = [t for t in (await graphql(cadre, INBOX))["inbox"]["tasks"] if t["id"] == task_id]
        assert task["status"] == "SENT_BACK"
        await graphql(cadre, FILL, {"t": task_id, "values": [{"key": key, "entityId": entity, "value": "45", "version": 1}]})
        assert (await graphql(cadre, SUBMIT, {"t": task_id}))["submitTask"]["errors"] == []
    async with as_user("yingji") as emergency:
        assert (await graphql(emergency, ACCEPT, {"t": task_id}))["acceptTask"]["errors"] == []
        again = await graphql(emergency, CHECK, {"t": task_id, "reason": "再看看"})
        assert again["sendBackTask"]["errors"][0]["code"] == "ILLEGAL_TRANSITION"
        history = (await graphql(emergency, "query($t: ID!) { villageTask(id: $t) { round status history { fromStatus toStatus username reason } } }", {"t": task_id}))["villageTask"]
    assert (history["round"], history["status"]) == (2, "ACCEPTED")
    assert [(h["fromStatus"], h["toStatus"], h["username"]) for h in history["history"]] == [
        (None, "NOT_STARTED", "xitianwei"), ("NOT_STARTED", "IN_PROGRESS", "dongxing"), ("IN_PROGRESS", "SUBMITTED", "dongxing"),
        ("SUBMITTED", "SENT_BACK", "xitianwei"), ("SENT_BACK", "IN_PROGRESS", "dongxing"), ("IN_PROGRESS", "SUBMITTED", "dongxing"),
        ("SUBMITTED", "ACCEPTED", "yingji"),
    ]
    assert history["history"][3]["reason"] == "东星社区·急救包（个）：50 个与库存台账不符，请核实"
    # Each round kept with what changed: the correction is round 2's.
    rounds = (await graphql(client, ROUNDS, {"t": task_id}))["villageTask"]["rounds"]
    assert rounds == [
        {"number": 1, "submittedBy": "dongxing", "sentBackBy": "xitianwei", "sentBackReason": reason, "sentBackCells": named, "acceptedBy": None,
         "changes": [{"entityId": entity, "key": key, "label": "急救包（个）", "oldValue": None, "newValue": "50", "username": "dongxing"}]},
        {"number": 2, "submittedBy": "dongxing", "sentBackBy": None, "sentBackReason": None, "sentBackCells": [], "acceptedBy": "yingji",
         "changes": [{"entityId": entity, "key": key, "label": "急救包（个）", "oldValue": "50", "newValue": "45", "username": "dongxing"}]},
    ]
    async with as_user("dongxing") as cadre:  # accepted: locked, through the task, around it and by its fill sheet
        locked = await graphql(cadre, FILL, {"t": task_id, "values": [{"key": key, "entityId": entity, "value": "46", "version": 2}]})
        assert locked["fillTask"]["errors"][0]["code"] == "TASK_CLOSED"
        around = (await graphql(cadre, SET, {"period": "2026-11", "values": [{"key": key, "entityId": entity, "value": "46", "version": 2}]}))["setIndicatorValues"]
        assert [e["code"] for e in around["errors"]] == ["LOCKED"]
        sheet = await cadre.get(f"/tasks/{task_id}/fill-sheet.xlsx")
        assert (sheet.status_code, sheet.json()["errors"][0]["code"]) == (409, "TASK_CLOSED")


SET = """mutation($values: [IndicatorValueInput!]!, $period: String) { setIndicatorValues(values: $values, period: $period) {
  values { value version } errors { field code message } } }"""


async def test_a_round_lists_its_own_fills_not_a_direct_write_to_the_same_cell_at_the_same_time(as_user, client, engine):
    """Each change a task's fill makes names its task and round in the change history; a round lists exactly those."""
    _, task_id, key = await one_village_request(as_user, client, title="急救包（同时直接改）")
    async with as_user("dongxing") as cadre:
        (task,) = [t for t in (await graphql(cadre, INBOX))["inbox"]["tasks"] if t["id"] == task_id]
        entity = task["rows"][0]["entityId"]
        assert (await graphql(cadre, FILL, {"t": task_id, "values": [{"key": key, "entityId": entity, "value": "50", "version": 0}]}))["fillTask"]["errors"] == []
        # The same village's same cell, written directly while the task is being filled: not the task's change.
        direct = (await graphql(cadre, SET, {"period": "2026-11", "values": [{"key": key, "entityId": entity, "value": "52", "version": 1}]}))["setIndicatorValues"]
        assert direct["errors"] == []
        assert (await graphql(cadre, SUBMIT, {"t": task_id}))["submitTask"]["errors"] == []
    async with as_user("xitianwei") as town:
        assert (await graphql(town, CHECK, {"t": task_id, "reason": "急救包（个）：请按库存台账重填"}))["sendBackTask"]["errors"] == []
    async with as_user("dongxing") as cadre:  # round 2 by the task's fill sheet
        workbook = load_workbook(io.BytesIO((await cadre.get(f"/tasks/{task_id}/fill-sheet.xlsx")).content))
        workbook.active["C4"] = 48
        assert (await upload(cadre, workbook))[1]["changedCells"] == 1
        assert (await graphql(cadre, SUBMIT, {"t": task_id}))["submitTask"]["errors"] == []
    rounds = (await graphql(client, ROUNDS, {"t": task_id}))["villageTask"]["rounds"]
    assert [[(c["oldValue"], c["newValue"]) for c in r["changes"]] for r in rounds] == [[(None, "50")], [("52", "48")]]
    async with engine.connect() as connection:
        kept = (await connection.execute(select(Change.source, Change.task_id, Change.task_round, Change.new_value).where(
            Change.entity == "IndicatorValue", Change.field == key).order_by(Change.id))).all()
    assert [tuple(k) for k in kept] == [
        (ChangeSource.TASK, int(task_id), 1, "50"), (ChangeSource.API, None, None, "52"), (ChangeSource.FILL_SHEET, int(task_id), 2, "48"),
    ]


async def test_once_collected_an_indicator_is_held_and_handed_in_values_are_locked(as_user, client):
    _, task_id, key = await one_village_request(as_user, client, title="急救包（首次采集）")
    dongxing = await region_code(client, "东星社区")
    async with as_user("dongxing") as cadre:
        (task,) = [t for t in (await graphql(cadre, INBOX))["inbox"]["tasks"] if t["id"] == task_id]
        entity = task["rows"][0]["entityId"]
        await graphql(cadre, FILL, {"t": task_id, "values": [{"key": key, "entityId": entity, "value": "30", "version": 0}]})
        assert (await graphql(cadre, SUBMIT, {"t": task_id}))["submitTask"]["errors"] == []
        # Handed in: the cell changes only through the task once it is sent back, not around it.
        around = (await graphql(cadre, SET, {"period": "2026-11", "values": [{"key": key, "entityId": entity, "value": "31", "version": 1}]}))["setIndicatorValues"]
        assert around["errors"] == [{"field": "values[0]", "code": "LOCKED", "message": "values[0]：这一格已随村级任务“急救包（首次采集）”报送，不能直接修改；须由乡镇或部门退回后在任务中改"}]
    async with as_user("yingji") as emergency:
        again = (await graphql(emergency, FILE, {"input": request_input(dongxing, [{"path": "name"}, {"indicator": key}], title="急救包（再问一次）")}))["fileRequest"]
    assert [c["status"] for c in again["columns"]] == ["HELD_GRANTED", "HELD_GRANTED"]
    assert (again["request"]["status"], again["request"]["hubCells"]) == ("ANSWERED_FROM_HUB", 2)


async def test_returned_with_a_suggestion_or_as_a_duplicate(as_user, client):
    town_code = await region_code(client, "西天尾镇")
    stem = f"t{next(_numbers)}"
    columns = [{"path": "name"}, {"define": {"key": f"wells_{stem}", "label": "机井（眼）", "entity": "VILLAGE", "type": "INTEGER", "legalBasis": "《水法》"}}]
    async with as_user("nongye") as agriculture:
        first = (await graphql(agriculture, FILE, {"input": request_input(town_code, columns, title="机井情况")}))["fileRequest"]["request"]["id"]
        second = (await graphql(agriculture, FILE, {"input": request_input(town_code, [{"path": "name"}, {"indicator": f"wells_{stem}"}], title="机井情况（又一次）")}))["fileRequest"]["request"]["id"]
    async with as_user("xitianwei") as town:
        suggestion = "“村（社区）”一栏数据中心已有，只需下发机井一栏"
        assert (await graphql(town, REVIEW, {"id": first, "d": "RETURN", "reason": suggestion}))["reviewRequest"]["errors"] == []
        approve_duplicate = await graphql(town, REVIEW, {"id": second, "d": "APPROVE", "dup": first})
        assert approve_duplicate["reviewRequest"]["errors"] == [{"field": "duplicateOf", "code": "INVALID", "message": "duplicateOf：标为重复的任务不能通过，请选择不予下发或退回修改"}]
        assert (await graphql(town, REVIEW, {"id": second, "d": "REJECT", "reason": "与机井情况重复", "dup": first}))["reviewRequest"]["errors"] == []
        returned = (await graphql(town, PROGRESS, {"id": first}))["dataRequest"]
        duplicate = (await graphql(town, "query($id: ID!) { dataRequest(id: $id) { reviews { status duplicateOfId } } }", {"id": second}))["dataRequest"]
    assert returned["status"] == "RETURNED" and returned["reviews"][0]["reason"] == suggestion and returned["progress"]["total"] == 0
    assert duplicate["reviews"] == [{"status": "REJECTED", "duplicateOfId": first}]


async def test_department_burden_figures_on_the_demo_data(as_user):
    query = """{ departmentRequestStatistics(since: "2024-05-01", until: "2026-10-31") {
      filed answeredFromHub needsGrant inReview approved rejected returned cellsFromHub cellsEntered } }"""
    async with as_user("minzheng") as civil_affairs:
        stats = (await graphql(civil_affairs, query))["departmentRequestStatistics"]
    # 民政局's demo requests: 7 志愿服务队伍情况 approved, 1 rejected, 2 answered by the hub (64 + 40 cells).
    assert stats == {"filed": 10, "answeredFromHub": 2, "needsGrant": 0, "inReview": 0, "approved": 7, "rejected": 1, "returned": 0,
                     "cellsFromHub": 104, "cellsEntered": 7 * 17}  # one cell a village, every village accepted


async def test_demo_progress_and_a_list_of_requests_costs_the_same_statements_however_long(as_user, sql_counter):
    query = "query($s: RequestStatus) { dataRequests(status: $s) { nodes { title template { id } reviews { status } history { toStatus } progress { total notStarted inProgress submitted sentBack accepted overdue } } } }"
    async with as_user("xitianwei") as town:
        await graphql(town, query, {"s": "REJECTED"})  # warm: the first request of a session signs in
        sql_counter.reset()
        rejected = (await graphql(town, query, {"s": "REJECTED"}))["dataRequests"]["nodes"]
        few = sql_counter.count
        sql_counter.reset()
        approved = (await graphql(town, query, {"s": "APPROVED"}))["dataRequests"]["nodes"]
        many = sql_counter.count
    assert len(approved) > 10 * len(rejected) // 3 and few == many, (len(rejected), len(approved), few, many)
    demo = [r for r in reversed(approved) if r["progress"]["total"] == 17]  # the newest first: oldest first here
    assert len(demo) >= 42
    latest = demo[41]["progress"]  # the newest demo request: villages in every state, the late ones overdue (deadline 2026-11-06)
    assert all(latest[state] > 0 for state in ("notStarted", "inProgress", "submitted", "sentBack", "accepted"))
    assert latest["overdue"] == latest["notStarted"] + latest["inProgress"] + latest["sentBack"]
    assert all(r["progress"]["accepted"] == 17 for r in demo[:39])


async def test_reporting_and_on_time_rates_per_request_on_the_demo_data(as_user):
    """Per request: handed in (submitted or accepted) / villages, and handed in by the deadline / villages."""
    query = "{ dataRequests(status: APPROVED) { nodes { title deadline progress { total submitted accepted reportingRate onTimeRate } } } }"
    async with as_user("xitianwei") as town:
        demo = [r for r in reversed((await graphql(town, query))["dataRequests"]["nodes"]) if r["progress"]["total"] == 17][:42]
    # The older 39: every village accepted, two of 17 a day or two after the deadline.
    assert {(r["progress"]["reportingRate"], r["progress"]["onTimeRate"]) for r in demo[:39]} == {(1.0, 15 / 17)}
    assert [(r["title"], r["progress"]["reportingRate"], r["progress"]["onTimeRate"]) for r in demo[39:]] == [
        ("农村劳动力技能培训情况", 6 / 17, 4 / 17), ("撂荒耕地整治进展", 7 / 17, 6 / 17), ("汛前隐患排查物资清点", 8 / 17, 8 / 17),
    ]


TASK_ROWS = """query($id: ID!) { dataRequest(id: $id) { tasks { villageName rows { entityId label base { header value granted }
  cells { key value version lastPeriodValue } } } } }"""


async def test_the_rows_of_a_list_of_tasks_cost_the_same_statements_however_many_tasks(as_user, client, sql_counter):
    """An inbox, and a request's villages, read every task's rows in one batch: the count does not grow with the tasks."""

    async def inbox_statements() -> tuple[int, int]:
        async with as_user("dongxing") as cadre:
            await graphql(cadre, INBOX)  # warm: the first request of a session signs in
            sql_counter.reset()
            tasks = (await graphql(cadre, INBOX))["inbox"]["tasks"]
            return len(tasks), len(request_statements(sql_counter))

    await one_village_request(as_user, client, title="急救包（一项）")
    few_tasks, few = await inbox_statements()
    for n in range(3):
        await one_village_request(as_user, client, title=f"急救包（又一项{n}）")
    many_tasks, many = await inbox_statements()
    assert (many_tasks, many) == (few_tasks + 3, few), (few_tasks, few, many_tasks, many)

    one, _, _ = await one_village_request(as_user, client, title="急救包（一个村）")
    async with as_user("xitianwei") as town:
        approved = (await graphql(town, "{ dataRequests(status: APPROVED) { nodes { id title } } }"))["dataRequests"]["nodes"]
        demo = next(r["id"] for r in reversed(approved) if r["title"] == "防汛物资储备情况")
        counts = []
        for request_id in (one, demo):
            await graphql(town, TASK_ROWS, {"id": request_id})
            sql_counter.reset()
            tasks = (await graphql(town, TASK_ROWS, {"id": request_id}))["dataRequest"]["tasks"]
            counts.append((len(tasks), len(request_statements(sql_counter))))
    assert [n for n, _ in counts] == [1, 17] and counts[0][1] == counts[1][1], counts
    dongxing = next(t for t in tasks if t["villageName"] == "东星社区")["rows"]
    assert [(b["header"], b["value"], b["granted"]) for b in dongxing[0]["base"]] == [("村（社区）", "东星社区", True)]
    assert [c["key"] for c in dongxing[0]["cells"]] == ["demo_sandbags", "demo_pumps"]


async def test_requests_come_a_page_at_a_time_newest_first(as_user):
    """A town's decided requests grow by some every month: they are paged (first/after), the newest first."""
    query = "query($after: String) { dataRequests(status: APPROVED, first: 10, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id } } }"
    async with as_user("xitianwei") as town:
        everything = (await graphql(town, "{ dataRequests(status: APPROVED, first: 1000) { totalCount nodes { id } } }"))["dataRequests"]
        pages, after = [], None
        while True:
            page = (await graphql(town, query, {"after": after}))["dataRequests"]
            pages.append(page)
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        too_many = await town.post("/graphql", json={"query": "{ dataRequests(first: 5000) { nodes { id } } }"})
        not_a_cursor = await town.post("/graphql", json={"query": '{ dataRequests(after: "not a cursor") { nodes { id } } }'})
    ids = [int(n["id"]) for n in everything["nodes"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == everything["totalCount"] >= 42
    assert [int(n["id"]) for page in pages for n in page["nodes"]] == ids
    assert [len(page["nodes"]) for page in pages] == [10] * (len(ids) // 10) + ([len(ids) % 10] if len(ids) % 10 else [])
    assert {page["totalCount"] for page in pages} == {len(ids)}
    assert too_many.json()["errors"][0]["message"] == "first 须在 0 到 1000 之间，收到 5000"
    assert not_a_cursor.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert not_a_cursor.json()["errors"][0]["message"] == "after：'not a cursor' 不是这个列表给出的游标"
