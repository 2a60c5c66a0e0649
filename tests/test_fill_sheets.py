"""Fill once: the cadre fills only 近期动态 in a fill sheet; the hub takes it back, all or nothing."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import func, select

from hub.models import Change
from hub.untrusted_xlsx import NOT_XLSX_MESSAGE
from tests.conftest import graphql
from tests.test_queries import region_code

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
    assert conflict["message"] == f"row 5: this Person was changed in the hub after the sheet was made (now version {int(version) + 1}, the sheet has {version}); download a new fill sheet"
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
    assert (no_fill.status_code, no_fill.json()) == (400, {"errors": [{"message": "template yiqi-yidang has no column to fill in"}]})


async def test_fill_sheet_cells_are_checked_like_any_write(as_user, client):
    dongxing = await region_code(client, "东星社区")
    async with as_user("dongxing") as cadre:
        workbook = await download(cadre, dongxing)
    ws = workbook.active
    ws.cell(row=5, column=status_column(ws)).value = "协同中心代填的情况"
    async with as_user("xitianwei") as coordinator:  # reads the town, writes nothing
        status, report = await upload(coordinator, workbook)
    assert status == 422
    assert report["problems"] == [
        {"row": 5, "column": "近期动态", "field": "recentStatus", "code": "FORBIDDEN", "message": "recentStatus: 乡镇协同中心工作人员 may not change Person.recentStatus"}
    ]


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
    assert response.status_code == 422
    assert response.headers["content-type"] == XLSX
    marked = load_workbook(io.BytesIO(response.content)).active
    cell = marked.cell(row=6, column=column)
    assert cell.fill.fgColor.rgb.endswith("FFC7CE")
    assert cell.comment.text == "recentStatus: 乡镇协同中心工作人员 may not change Person.recentStatus"
    assert marked.cell(row=5, column=column).comment is None
