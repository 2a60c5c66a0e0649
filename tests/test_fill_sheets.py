"""Fill once: the cadre fills only 近期动态 in a fill sheet; the hub takes it back, all or nothing."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import func, select

from hub.data.models import Change, Person
from hub.forms.untrusted_xlsx import NOT_XLSX_MESSAGE
from tests.conftest import client_as, graphql
from tests.test_queries import region_code
from tests.test_template_store import DELETE, SAVE

OPEN_COLOUR = "FFF2CC"  # light yellow: the cells to fill in

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def download(client, village_code: str):
    response = await client.get("/fill-sheets/dibao-dongtai.xlsx", params={"region": village_code})
    assert response.status_code == 200, response.text
    return load_workbook(io.BytesIO(response.content))


def status_column(ws) -> int:
    return next(c.column for c in ws[4] if c.value == "近期动态") if any(c.value == "近期动态" for c in ws[4]) else next(c.column for c in ws[3] if c.value == "近期动态")


async def upload(client, workbook) -> tuple[int, dict]:
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = await client.post("/fill-sheets", content=buffer.getvalue(), headers={"content-type": XLSX})
    return response.status_code, response.json()


async def changes_count(engine) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(Change))).scalar_one()


async def test_the_cadre_fills_recent_status_and_civil_affairs_sees_it(as_user, client):
    dongxing = await region_code(client, "东星社区")
    async with as_user("dongxing") as cadre:
        workbook = await download(cadre, dongxing)
        ws = workbook.active
        key_header = ws.cell(row=3, column=ws.max_column)
        assert key_header.value == "__key__:dibao-dongtai"
        assert ws.column_dimensions[key_header.column_letter].hidden
        assert ws.protection.sheet
        column = status_column(ws)
        first_data = 5
        assert ws.cell(row=first_data, column=column).protection.locked is False  # 近期动态 is open
        assert ws.cell(row=first_data, column=2).protection.locked is True  # base columns are locked
        ws.cell(row=first_data, column=column).value = "11月28日入户走访：身体好转，已申请临时救助。"
        ws.cell(row=first_data + 1, column=column).value = "=HYPERLINK(\"x\")"  # stays text
        name = ws.cell(row=first_data, column=2).value
        status, report = await upload(cadre, workbook)
        assert status == 200, report
        assert report == {"template": "dibao-dongtai", "rows": 16, "changedCells": 2, "unchangedRows": 14, "applied": True, "problems": []}
        status, again = await upload(cadre, workbook)  # the same sheet twice changes nothing the second time
        assert (status, again["changedCells"], again["unchangedRows"], again["problems"]) == (200, 0, 16, [])
    async with as_user("minzheng") as civil_affairs:
        export = load_workbook(io.BytesIO((await civil_affairs.get("/exports/dibao-dongtai.xlsx", params={"region": dongxing})).content)).active
        row = next(r for r in export.iter_rows(min_row=5, values_only=True) if r[1] == name)
        assert "身体好转" in row[-1]
        data = await graphql(
            civil_affairs,
            "query($r: String) { households(regionCode: $r, lowIncome: true, first: 1) { nodes { head { history { nodes { field newValue source username } } } } } }",
            {"r": dongxing},
        )
    history = data["households"]["nodes"][0]["head"]["history"]["nodes"]
    assert {"field": "recentStatus", "newValue": "11月28日入户走访：身体好转，已申请临时救助。", "source": "FILL_SHEET", "username": "dongxing"} in history


async def test_rows_edited_in_the_hub_meanwhile_are_conflicts_and_nothing_applies(as_user, client, engine):
    dongxing = await region_code(client, "东星社区")
    async with as_user("dongxing") as cadre:
        workbook = await download(cadre, dongxing)
        ws = workbook.active
        column = status_column(ws)
        key = ws.cell(row=5, column=ws.max_column).value
        person_id, version = key.split("|")[0].split(":")[1:]
        edited = await graphql(
            cadre,
            "mutation($id: ID!, $v: Int!) { updatePerson(id: $id, version: $v, input: {recentStatus: \"电话回访\"}) { errors { message } } }",
            {"id": person_id, "v": int(version)},
        )
        assert edited["updatePerson"]["errors"] == []
        before = await changes_count(engine)
        ws.cell(row=5, column=column).value = "表格里写的新情况"
        ws.cell(row=6, column=column).value = "另一户的新情况"
        status, report = await upload(cadre, workbook)
    assert status == 422
    assert report["applied"] is False and report["changedCells"] == 0
    (conflict,) = report["problems"]
    assert conflict["row"] == 5 and conflict["code"] == "CONFLICT" and conflict["column"] == "近期动态"
    # The record's current version is not told: only that it changed, and what to do.
    assert conflict["message"] == "第5行：这条记录在填报表导出后已在数据中心被修改，请重新下载填报表后再填写"
    assert await changes_count(engine) == before  # the other row's change was not applied either


async def test_bad_files_are_refused_with_reasons(as_user, client):
    async with as_user("dongxing") as cadre:
        not_xlsx = await cadre.post("/fill-sheets", content=b"name,phone\n", headers={"content-type": XLSX})
        wrong_type = await cadre.post("/fill-sheets", content=b"x", headers={"content-type": "text/csv"})
        printed = (await cadre.get("/exports/dibao-dongtai.xlsx")).content  # a printed form has no key column
        no_key = await cadre.post("/fill-sheets", content=printed, headers={"content-type": XLSX})
        too_big = await cadre.post("/fill-sheets", content=b"0" * (10 * 1024 * 1024 + 1), headers={"content-type": XLSX})
        no_fill = await cadre.get("/fill-sheets/yiqi-yidang.xlsx")
    assert (not_xlsx.status_code, not_xlsx.json()) == (400, {"errors": [{"message": NOT_XLSX_MESSAGE, "code": "NOT_XLSX"}]})
    assert wrong_type.status_code == 415
    assert (no_key.status_code, no_key.json()) == (400, {"errors": [{"message": "表中没有隐藏的关键列：请上传从 /fill-sheets/{模板}.xlsx 下载并填好的填报表", "code": "INVALID"}]})
    assert too_big.status_code == 413
    assert (no_fill.status_code, no_fill.json()) == (400, {"errors": [{"message": "表样 yiqi-yidang 没有可填报的列", "code": "INVALID"}]})


async def test_fill_sheet_cells_are_checked_like_any_write(as_user, client, engine):
    dongxing = await region_code(client, "东星社区")
    async with as_user("dongxing") as cadre:
        workbook = await download(cadre, dongxing)
    ws = workbook.active
    ws.cell(row=5, column=status_column(ws)).value = "协同中心代填的情况"
    person_id = key_parts(ws.cell(row=5, column=ws.max_column).value)["Person"][0]
    before, history_before = await person_row(engine, person_id), await history_rows(engine, person_id)
    async with as_user("xitianwei") as coordinator:  # reads the town, writes nothing
        status, report = await upload(coordinator, workbook)
    assert status == 422
    assert report["problems"] == [
        {"row": 5, "column": "近期动态", "field": "recentStatus", "code": "FORBIDDEN", "message": "recentStatus：乡镇协同中心工作人员无权修改 Person.recentStatus"}
    ]
    assert report["applied"] is False and report["changedCells"] == 0
    assert await person_row(engine, person_id) == before and await history_rows(engine, person_id) == history_before


async def test_refused_cells_come_back_marked_in_the_sheet(as_user, client):
    dongxing = await region_code(client, "东星社区")
    async with as_user("dongxing") as cadre:
        workbook = await download(cadre, dongxing)
    ws = workbook.active
    column = status_column(ws)
    ws.cell(row=6, column=column).value = "协同中心代填"
    buffer = io.BytesIO()
    workbook.save(buffer)
    async with as_user("xitianwei") as coordinator:
        response = await coordinator.post(
            "/fill-sheets", params={"report": "xlsx"}, content=buffer.getvalue(), headers={"content-type": XLSX}
        )
        (problem,) = (await coordinator.post("/fill-sheets", content=buffer.getvalue(), headers={"content-type": XLSX})).json()["problems"]
    assert response.status_code == 422
    assert response.headers["content-type"] == XLSX
    marked = load_workbook(io.BytesIO(response.content)).active
    cell = marked.cell(row=6, column=column)
    assert cell.fill.fgColor.rgb.endswith("FFC7CE")
    assert cell.comment.text == problem["message"] == "recentStatus：乡镇协同中心工作人员无权修改 Person.recentStatus"
    assert marked.cell(row=5, column=column).comment is None


# --- an upload is checked as the download is, and says nothing the caller cannot read ---------


async def person_row(engine, person_id: int):
    async with engine.connect() as conn:
        return (await conn.execute(select(Person.__table__).where(Person.__table__.c.id == person_id))).one()


async def history_rows(engine, person_id: int) -> int:
    async with engine.connect() as conn:
        stmt = select(func.count()).select_from(Change).where(Change.entity == "Person", Change.record_id == person_id)
        return (await conn.execute(stmt)).scalar_one()


def sheet_bytes(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def key_parts(key: str) -> dict[str, tuple[int, ...]]:
    return {p.split(":")[0]: tuple(int(x) for x in p.split(":")[1:]) for p in key.split("|")}


async def employment_sheet(client, village_code: str):
    response = await client.get("/fill-sheets/jiuye-shebao.xlsx", params={"region": village_code})
    assert response.status_code == 200, response.text
    workbook = load_workbook(io.BytesIO(response.content))
    ws = workbook.active
    headers = {c.value: c.column for c in ws[4] if c.value}
    return workbook, headers["就业状态"], headers["就业单位"]


async def test_a_department_that_may_not_run_the_template_learns_nothing_from_an_upload(as_user, client, engine):
    dongxing = await region_code(client, "东星社区")
    workbook, status_col, _ = await employment_sheet(client, dongxing)  # as admin: the real keys and values
    ws = workbook.active
    key = ws.cell(row=5, column=ws.max_column).value
    person_id = key_parts(key)["Person"][0]
    before, history_before = await person_row(engine, person_id), await history_rows(engine, person_id)
    right = ws.cell(row=5, column=status_col).value
    answers = []
    async with as_user("shichang") as market:  # 市场监管局: no Person grant at all
        for guess in (right, "务农" if right != "务农" else "失业"):
            ws.cell(row=5, column=status_col).value = guess
            response = await market.post("/fill-sheets", content=sheet_bytes(workbook), headers={"content-type": XLSX})
            answers.append((response.status_code, response.json()))
    assert answers[0] == answers[1]  # a right guess and a wrong one get the same answer
    status, body = answers[0]
    assert status == 403
    (error,) = body["errors"]
    assert error["code"] == "FORBIDDEN" and "jiuye-shebao" in error["message"]
    assert await person_row(engine, person_id) == before and await history_rows(engine, person_id) == history_before


MASKED_FILL = """\
id: weijian-phone-fill
title: 电话核对表
department: weijian
query: |
  query T($region: String!, $first: Int, $after: String) {
    persons(regionCode: $region, first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { name phone }
    }
  }
rows: persons
variables:
  region: {label: 区划}
columns:
  - header: 姓名
    path: name
  - header: 联系电话
    path: phone
    fill: true
"""


async def test_a_fill_column_the_caller_reads_masked_refuses_download_and_upload(as_user, client, engine):
    dongxing = await region_code(client, "东星社区")
    async with as_user("weijian") as health:  # reads Person.phone masked
        saved = await graphql(health, SAVE, {"d": MASKED_FILL})
        assert saved["saveTemplate"]["errors"] == [], saved
        download = await health.get("/fill-sheets/weijian-phone-fill.xlsx", params={"region": dongxing})
        response = await client.get("/fill-sheets/weijian-phone-fill.xlsx", params={"region": dongxing})  # admin reads all
        workbook = load_workbook(io.BytesIO(response.content))
        ws = workbook.active
        person_id = key_parts(ws.cell(row=4, column=ws.max_column).value)["Person"][0]
        before, history_before = await person_row(engine, person_id), await history_rows(engine, person_id)
        ws.cell(row=4, column=2).value = "13800000000"
        upload_ = await health.post("/fill-sheets", content=sheet_bytes(workbook), headers={"content-type": XLSX})
        version = (await graphql(health, "{ template(id: \"weijian-phone-fill\") { version } }"))["template"]["version"]
        await graphql(health, DELETE, {"id": "weijian-phone-fill", "v": version})
    message = "卫健委只能脱敏读取 Person.phone，不能用填报表 weijian-phone-fill 填写这一列"
    assert (download.status_code, download.json()) == (403, {"errors": [{"code": "FORBIDDEN", "message": message}]})
    assert (upload_.status_code, upload_.json()) == (403, {"errors": [{"code": "FORBIDDEN", "message": message}]})
    assert await person_row(engine, person_id) == before and await history_rows(engine, person_id) == history_before


async def test_hostile_keys_are_refused_and_nothing_is_written(as_user, client, engine):
    dongxing = await region_code(client, "东星社区")
    data = await graphql(client, "{ households(regionCode: \"350304100002\", first: 1) { nodes { id version head { id version } } } }")
    other = data["households"]["nodes"][0]
    async with as_user("dongxing") as cadre:
        workbook = await download(cadre, dongxing)
        ws = workbook.active
        column, key_col = status_column(ws), ws.max_column
        own = ws.cell(row=5, column=key_col).value
        own_person = key_parts(own)["Person"][0]
        before, history_before = await person_row(engine, own_person), await history_rows(engine, own_person)
        ws.cell(row=5, column=key_col).value = own.replace("Person:", "Person:x")  # tampered
        ws.cell(row=6, column=key_col).value = f"Person:{other['head']['id']}:{other['head']['version']}|Household:{other['id']}"
        ws.cell(row=7, column=key_col).value = f"Person:{other['head']['id']}:{other['head']['version']}|Household:{key_parts(own)['Household'][0]}"
        for row in (5, 6, 7):
            ws.cell(row=row, column=column).value = "不该写入的情况"
        status, report = await upload(cadre, workbook)
    assert status == 422 and report["applied"] is False and report["changedCells"] == 0
    assert [(p["row"], p["code"], p["message"]) for p in report["problems"]] == [
        (5, "INVALID", "第5行：隐藏的键列被改动，请重新下载填报表"),
        (6, "NOT_FOUND", "第6行：在您的管辖范围内找不到这一行的记录，请重新下载填报表"),
        (7, "NOT_FOUND", "第7行：在您的管辖范围内找不到这一行的记录，请重新下载填报表"),
    ]
    assert await person_row(engine, own_person) == before and await history_rows(engine, own_person) == history_before
    other_row = await person_row(engine, int(other["head"]["id"]))
    assert other_row.version == other["head"]["version"]


async def test_the_same_record_on_two_rows(as_user, client, engine):
    """Rows naming the same record must agree: one value is written once; two different ones are refused."""
    dongxing = await region_code(client, "东星社区")
    async with as_user("dongxing") as cadre:
        workbook = await download(cadre, dongxing)
        ws = workbook.active
        column, key_col = status_column(ws), ws.max_column
        person_id = key_parts(ws.cell(row=5, column=key_col).value)["Person"][0]
        ws.cell(row=6, column=key_col).value = ws.cell(row=5, column=key_col).value
        for row in range(2, ws.max_column):
            ws.cell(row=6, column=row).value = ws.cell(row=5, column=row).value
        before, history_before = await person_row(engine, person_id), await history_rows(engine, person_id)
        ws.cell(row=5, column=column).value = "第一种说法"
        ws.cell(row=6, column=column).value = "第二种说法"
        status, report = await upload(cadre, workbook)
        assert status == 422 and report["applied"] is False
        assert report["problems"] == [
            {"row": 6, "column": "近期动态", "field": "recentStatus", "code": "DUPLICATE_RECORD",
             "message": "第6行与第5行是同一条记录，填写的内容不一致，请只保留一行"}
        ]
        assert await person_row(engine, person_id) == before and await history_rows(engine, person_id) == history_before
        ws.cell(row=6, column=column).value = "第一种说法"
        status, report = await upload(cadre, workbook)
    assert (status, report["applied"], report["changedCells"], report["problems"]) == (200, True, 1, [])
    assert (await person_row(engine, person_id)).version == before.version + 1
    assert await history_rows(engine, person_id) == history_before + 1


async def test_no_token_is_401(app):
    async with client_as(app, None) as anonymous:
        response = await anonymous.post("/fill-sheets", content=b"x", headers={"content-type": XLSX})
    assert response.status_code == 401


# --- locked cells, open columns, empty cells, long text ---------------------------------------


async def test_changed_locked_cells_are_each_refused_and_nothing_applies(as_user, client, engine):
    dongxing = await region_code(client, "东星社区")
    async with as_user("dongxing") as cadre:
        workbook = await download(cadre, dongxing)
        ws = workbook.active
        column = status_column(ws)
        person_id = key_parts(ws.cell(row=5, column=ws.max_column).value)["Person"][0]
        before, history_before = await person_row(engine, person_id), await history_rows(engine, person_id)
        ws.protection.sheet = False  # anyone can lift it: there is no password
        ws.cell(row=5, column=column).value = "锁定列改动时不应写入"
        ws.cell(row=5, column=2).value = "改过的名字"
        ws.cell(row=6, column=6).value = "改过的地址"
        status, report = await upload(cadre, workbook)
        marked = await cadre.post("/fill-sheets", params={"report": "xlsx"}, content=sheet_bytes(workbook), headers={"content-type": XLSX})
    assert status == 422 and report["applied"] is False and report["changedCells"] == 0
    assert report["problems"] == [
        {"row": 5, "column": "户主基本信息/户主姓名", "field": "name", "code": "LOCKED_CELL",
         "message": "第5行「户主基本信息/户主姓名」列是锁定列，不能在填报表中修改；请改回原值，只填写黄色的填报列"},
        {"row": 6, "column": "家庭基本情况/家庭住址", "field": "address", "code": "LOCKED_CELL",
         "message": "第6行「家庭基本情况/家庭住址」列是锁定列，不能在填报表中修改；请改回原值，只填写黄色的填报列"},
    ]
    assert await person_row(engine, person_id) == before and await history_rows(engine, person_id) == history_before
    sheet = load_workbook(io.BytesIO(marked.content)).active
    assert sheet.cell(row=5, column=2).fill.fgColor.rgb.endswith("FFC7CE")
    assert sheet.cell(row=5, column=2).comment.text == report["problems"][0]["message"]
    assert sheet.cell(row=6, column=6).comment.text == report["problems"][1]["message"]


async def test_open_columns_are_marked_in_the_sheet(as_user, client):
    dongxing = await region_code(client, "东星社区")
    async with as_user("dongxing") as cadre:
        ws = (await download(cadre, dongxing)).active
    column = status_column(ws)
    header = ws.cell(row=3, column=column)
    assert header.fill.fgColor.rgb.endswith(OPEN_COLOUR) and ws.cell(row=5, column=column).fill.fgColor.rgb.endswith(OPEN_COLOUR)
    assert header.comment.text == "填报列：请在本列填写，其他列已锁定"
    assert not ws.cell(row=5, column=2).fill.fgColor.rgb.endswith(OPEN_COLOUR)
    assert ws.cell(row=3, column=2).comment is None


async def test_an_emptied_cell_stores_null(as_user, client, engine):
    dongxing = await region_code(client, "东星社区")
    async with as_user("dongxing") as cadre:
        workbook = await download(cadre, dongxing)
        ws = workbook.active
        column = status_column(ws)
        person_id = key_parts(ws.cell(row=7, column=ws.max_column).value)["Person"][0]
        ws.cell(row=7, column=column).value = "先写一条情况"
        assert (await upload(cadre, workbook))[0] == 200
        workbook = await download(cadre, dongxing)
        ws = workbook.active
        ws.cell(row=7, column=column).value = None
        status, report = await upload(cadre, workbook)
        assert (status, report["changedCells"]) == (200, 1)
        ws.cell(row=7, column=column).value = "   "  # blank is empty too, and now unchanged
        status, report = await upload(cadre, workbook)
    assert (status, report["changedCells"], report["problems"]) == (200, 0, [])
    assert (await person_row(engine, person_id)).recent_status is None


async def test_text_longer_than_the_column_is_refused(as_user, client, engine):
    dongxing = await region_code(client, "东星社区")
    async with as_user("dongxing") as cadre:
        workbook, _, employer_col = await employment_sheet(cadre, dongxing)
        ws = workbook.active
        person_id = key_parts(ws.cell(row=5, column=ws.max_column).value)["Person"][0]
        before, history_before = await person_row(engine, person_id), await history_rows(engine, person_id)
        ws.cell(row=5, column=employer_col).value = "很" * 129
        status, report = await upload(cadre, workbook)
    assert status == 422 and report["applied"] is False
    (problem,) = report["problems"]
    assert (problem["row"], problem["field"], problem["code"]) == (5, "employer", "INVALID") and "128" in problem["message"]
    assert await person_row(engine, person_id) == before and await history_rows(engine, person_id) == history_before
