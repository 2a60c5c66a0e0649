"""Village tasks: their base columns as each caller reads them, their fill sheet out and back, grid workers filling."""

from __future__ import annotations

import asyncio
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from hub.data.models import TaskStatus, VillageTask
from tests.conftest import graphql
from tests.test_fill_sheets import XLSX, upload
from tests.test_queries import region_code
from tests.test_requests import (
    FILE,
    FILL,
    INBOX,
    PROGRESS,
    REVIEW,
    SUBMIT,
    _numbers,
    one_village_request,
    request_input,
)
from tests.test_requests_refused import snapshot

ROWS = """query($t: ID!) { villageTask(id: $t) { id status fillSheetPath
  rows { entityId label base { header value granted } cells { key label value version lastPeriodValue } } } }"""
LOG = """query($u: String) { accessLog(username: $u, first: 2) { nodes { operationType operationName sensitiveFields rowCount outcome } } }"""


async def household_request(as_user, client) -> tuple[str, str]:
    """卫健委 asks 西天尾镇's low-income households whether they signed a family doctor: (request id, indicator key)."""
    town_code = await region_code(client, "西天尾镇")
    key = f"doctor_t{next(_numbers)}"
    columns = [{"path": "address"}, {"path": "head.name"}, {"path": "head.idNumber"},
               {"define": {"key": key, "label": "家庭医生签约", "entity": "HOUSEHOLD", "type": "BOOLEAN", "legalBasis": "《基本医疗卫生与健康促进法》第三十一条"}}]
    async with as_user("weijian") as health:
        filed = (await graphql(health, FILE, {"input": request_input(town_code, columns, entity="HOUSEHOLD", filters=["lowIncome"], title="低保户家庭医生签约")}))["fileRequest"]
    assert filed["errors"] == [] and filed["request"]["status"] == "IN_REVIEW", filed
    async with as_user("xitianwei") as town:
        assert (await graphql(town, REVIEW, {"id": filed["request"]["id"], "d": "APPROVE"}))["reviewRequest"]["errors"] == []
    return filed["request"]["id"], key


async def test_base_columns_as_each_reads_them_in_statements_that_do_not_grow_with_the_rows(as_user, client, cadre_of, sql_counter):
    request_id, key = await household_request(as_user, client)
    async with as_user("xitianwei") as town:
        tasks = {t["villageName"]: t["id"] for t in (await graphql(town, PROGRESS, {"id": request_id}))["dataRequest"]["tasks"]}
    async with as_user("dongxing") as cadre:
        await graphql(cadre, ROWS, {"t": tasks["东星社区"]})  # warm: signing in, the library
        sql_counter.reset()
        rows = (await graphql(cadre, ROWS, {"t": tasks["东星社区"]}))["villageTask"]["rows"]
        many = sql_counter.count
    assert len(rows) == 16
    assert [b["header"] for b in rows[0]["base"]] == ["家庭住址", "姓名", "公民身份号码"]
    assert all(b["granted"] and b["value"] for row in rows for b in row["base"])
    assert all(len(row["base"][2]["value"]) == 18 for row in rows)  # the committee reads its people's ID numbers in full
    other = next(name for name in tasks if name != "东星社区")
    async with cadre_of(other) as other_cadre:
        await graphql(other_cadre, ROWS, {"t": tasks[other]})
        sql_counter.reset()
        few = (await graphql(other_cadre, ROWS, {"t": tasks[other]}))["villageTask"]["rows"]
        assert sql_counter.count == many, (len(few), len(rows))
    assert len(few) != len(rows)
    async with as_user("weijian") as health:  # 卫健委 reads ID numbers masked: so in its task's rows
        seen = (await graphql(health, ROWS, {"t": tasks["东星社区"]}))["villageTask"]["rows"]
    assert [b["value"] for b in seen[0]["base"][:2]] == [b["value"] for b in rows[0]["base"][:2]]
    assert seen[0]["base"][2]["value"] == rows[0]["base"][2]["value"][:6] + "********" + rows[0]["base"][2]["value"][-4:]
    assert (await graphql(client, LOG, {"u": "weijian"}))["accessLog"]["nodes"][0]["sensitiveFields"] == ["Person.idNumber (masked)"]


async def sheet_of(client, task: dict):
    response = await client.get(task["fillSheetPath"])
    assert response.status_code == 200, response.text
    return load_workbook(io.BytesIO(response.content))


async def test_a_household_task_filled_by_sheet_bad_cells_come_back_red_and_nothing_is_written(as_user, client, engine):
    request_id, key = await household_request(as_user, client)
    async with as_user("xitianwei") as town:
        (task_id,) = [t["id"] for t in (await graphql(town, PROGRESS, {"id": request_id}))["dataRequest"]["tasks"] if t["villageName"] == "东星社区"]
    before = await snapshot(engine)
    async with as_user("dongxing") as cadre:
        task = (await graphql(cadre, ROWS, {"t": task_id}))["villageTask"]
        workbook = await sheet_of(cadre, task)
        ws = workbook.active
        assert [c.value for c in ws[3]] == ["序号", "家庭住址", "姓名", "公民身份号码", "家庭医生签约", f"__key__:task:{task_id}"]
        assert [c.value for c in ws[4]][1:5] == [b["value"] for b in task["rows"][0]["base"]] + [None]
        ws.protection.sheet = False  # anyone can lift it: there is no password
        ws["E4"], ws["E5"], ws["C6"] = "也许", "是", "改过的名字"
        status, report = await upload(cadre, workbook)
        marked = await cadre.post("/fill-sheets", params={"report": "xlsx"}, content=_bytes(workbook), headers={"content-type": XLSX})
        assert (status, report["applied"], report["changedCells"]) == (422, False, 0)
        assert report["problems"] == [
            {"row": 4, "column": "家庭医生签约", "field": key, "code": "INVALID", "message": "第4行「家庭医生签约」：应填“是”或“否”，填写的是“也许”"},
            {"row": 6, "column": "姓名", "field": None, "code": "LOCKED_CELL",
             "message": "第6行「姓名」列是锁定列，不能在填报表中修改；请改回原值，只填写黄色的填报列"},
        ]
        red = load_workbook(io.BytesIO(marked.content)).active
        assert red["E4"].fill.fgColor.rgb.endswith("FFC7CE") and red["E4"].comment.text == report["problems"][0]["message"]
        assert red["C6"].comment.text == report["problems"][1]["message"] and red["E5"].comment is None
        assert await snapshot(engine) == before  # nothing written, the task not even started
        assert (await graphql(cadre, ROWS, {"t": task_id}))["villageTask"]["status"] == "NOT_STARTED"

        # Corrected: written through the task's write, with the change history's source.
        ws["E4"], ws["C6"] = "否", task["rows"][2]["base"][1]["value"]
        status, report = await upload(cadre, workbook)
        assert (status, report["changedCells"], report["unchangedRows"], report["applied"]) == (200, 2, 14, True), report
        status, again = await upload(cadre, workbook)  # the same sheet twice writes once
        assert (status, again["changedCells"], again["unchangedRows"]) == (200, 0, 16)

        # Changed in the hub since this sheet was made: a conflict, nothing written.
        entity = task["rows"][1]["entityId"]
        assert (await graphql(cadre, FILL, {"t": task_id, "values": [{"key": key, "entityId": entity, "value": "否", "version": 1}]}))["fillTask"]["errors"] == []
        ws["E5"] = "有"  # 是, in other words: still a change from 否
        ws["E6"] = "是"
        status, report = await upload(cadre, workbook)
        assert (status, report["problems"]) == (422, [
            {"row": 5, "column": "家庭医生签约", "field": key, "code": "CONFLICT", "message": "第5行：这条记录在填报表导出后已在数据中心被修改，请重新下载填报表后再填写"},
        ])
        log = (await graphql(client, LOG, {"u": "dongxing"}))["accessLog"]["nodes"][0]
        assert log == {"operationType": "mutation", "operationName": f"fillSheetUpload task:{task_id}", "sensitiveFields": ["Person.idNumber"],
                       "rowCount": 16, "outcome": "refused"}
        rows = (await graphql(cadre, ROWS, {"t": task_id}))["villageTask"]["rows"]
    assert [c["value"] for row in rows[:3] for c in row["cells"]] == ["false", "false", None]
    history = await graphql(client, "query($t: ID!) { villageTask(id: $t) { history { toStatus username } } }", {"t": task_id})
    assert [h["toStatus"] for h in history["villageTask"]["history"]] == ["NOT_STARTED", "IN_PROGRESS"]


def _bytes(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def test_a_task_sheet_is_refused_as_fill_task_is(as_user, client, cadre_of, engine):
    _, task_id, key = await one_village_request(as_user, client, title="急救包（填报表）")
    path = f"/tasks/{task_id}/fill-sheet.xlsx"
    async with as_user("dongxing") as cadre:
        sheet = (await cadre.get(path)).content
    async with cadre_of("溪白村") as other:  # another village's task does not exist for this cadre
        for response in (await other.get(path), await other.post("/fill-sheets", content=sheet, headers={"content-type": XLSX})):
            assert (response.status_code, response.json()) == (404, {"errors": [{"code": "NOT_FOUND", "message": f"taskId：找不到 id 为 {task_id} 的村级任务"}]})
    async with as_user("xitianwei") as town:
        response = await town.get(path)
        assert (response.status_code, response.json()["errors"][0]["code"]) == (403, "FORBIDDEN")
    before = await snapshot(engine)
    async with as_user("dongxing") as cadre:
        entity = (await graphql(cadre, ROWS, {"t": task_id}))["villageTask"]["rows"][0]["entityId"]
        await graphql(cadre, FILL, {"t": task_id, "values": [{"key": key, "entityId": entity, "value": "20", "version": 0}]})
        assert (await graphql(cadre, SUBMIT, {"t": task_id}))["submitTask"]["errors"] == []
        before = await snapshot(engine)
        closed = {"errors": [{"code": "TASK_CLOSED", "message": "taskId：任务状态是“已报送”，不能再填写；被退回后才能修改"}]}
        response = await cadre.get(path)
        assert (response.status_code, response.json()) == (409, closed)
        response = await cadre.post("/fill-sheets", content=sheet, headers={"content-type": XLSX})
        assert (response.status_code, response.json()) == (409, closed)
    assert await snapshot(engine) == before
    log = (await graphql(client, LOG, {"u": "dongxing"}))["accessLog"]["nodes"]
    assert [(n["operationName"], n["outcome"]) for n in log] == [(f"fillSheetUpload task:{task_id}", "refused"), (f"taskFillSheet {task_id}", "refused")]


async def test_grid_workers_fill_by_mutation_and_sheet_and_the_cadre_submits(as_user, client):
    _, task_id, key = await one_village_request(as_user, client, title="急救包（网格员填）")
    async with as_user("dongxing-wangge") as grid_worker:
        (task,) = [t for t in (await graphql(grid_worker, INBOX))["inbox"]["tasks"] if t["id"] == task_id]
        entity = task["rows"][0]["entityId"]
        filled = await graphql(grid_worker, FILL, {"t": task_id, "values": [{"key": key, "entityId": entity, "value": "12", "version": 0}]})
        assert filled["fillTask"]["errors"] == []
        workbook = await sheet_of(grid_worker, task)
        assert workbook.active["C4"].value == 12
        workbook.active["C4"] = 14
        assert (await upload(grid_worker, workbook))[1]["changedCells"] == 1
        submitted = await graphql(grid_worker, SUBMIT, {"t": task_id})
        assert submitted["submitTask"]["errors"] == [{"field": "taskId", "code": "FORBIDDEN", "message": "taskId：网格员可以填写，但不能报送村级任务，由村（社区）干部报送"}]
    async with as_user("dongxing") as cadre:
        assert (await graphql(cadre, SUBMIT, {"t": task_id}))["submitTask"]["errors"] == []
    history = await graphql(client, "query($t: ID!) { villageTask(id: $t) { history { toStatus username } } }", {"t": task_id})
    assert [(h["toStatus"], h["username"]) for h in history["villageTask"]["history"]] == [
        ("NOT_STARTED", "xitianwei"), ("IN_PROGRESS", "dongxing-wangge"), ("SUBMITTED", "dongxing")]


async def test_a_fill_waits_for_a_submit_holding_the_task_and_then_is_refused(as_user, client, engine):
    """The task row is locked while a fill writes, so a fill never lands in a round that was just handed in."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: a fill and a submit never interleave")
    _, task_id, key = await one_village_request(as_user, client, title="急救包（同时报送）")
    task_table = VillageTask.__table__
    async with as_user("dongxing") as cadre:
        entity = (await graphql(cadre, ROWS, {"t": task_id}))["villageTask"]["rows"][0]["entityId"]
        first = await graphql(cadre, FILL, {"t": task_id, "values": [{"key": key, "entityId": entity, "value": "20", "version": 0}]})
        assert first["fillTask"]["errors"] == []
        async with engine.connect() as submitting, submitting.begin():  # a submit, between its check and its commit
            await submitting.execute(select(task_table.c.id).where(task_table.c.id == int(task_id)).with_for_update())
            second = asyncio.create_task(graphql(cadre, FILL, {"t": task_id, "values": [{"key": key, "entityId": entity, "value": "21", "version": 1}]}))
            await asyncio.sleep(0.5)
            assert not second.done()  # it waits for the task
            await submitting.execute(
                update(task_table).where(task_table.c.id == int(task_id)).values(status=TaskStatus.SUBMITTED, version=task_table.c.version + 1)
            )
        refused = (await second)["fillTask"]
        assert refused["errors"] == [{"field": "taskId", "code": "TASK_CLOSED", "message": "taskId：任务状态是“已报送”，不能再填写；被退回后才能修改"}]
        (row,) = (await graphql(cadre, ROWS, {"t": task_id}))["villageTask"]["rows"]
        assert [(c["value"], c["version"]) for c in row["cells"]] == [("20", 1)]  # nothing of the refused fill
