"""A department uploads the blank form it already uses and gets a template: its columns matched by their
Chinese labels within the department's grants, its layout the blank's own, nothing saved on a bad file."""

from __future__ import annotations

import base64
import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from hub.data.models import SavedTemplate
from hub.forms.onboarding import propose_from_upload
from tests.conftest import graphql
from tests.support.blank_forms import COUNTY_FORMS, DIBAO, build, from_template

PROPOSE = """mutation($f: String!, $id: String!) { proposeTemplate(file: $f, id: $id) {
  entity columns { column header status path value open confidence message } report definition requestColumns
  errors { field code message } } }"""
SAVE = """mutation($d: String!) { saveTemplate(definition: $d) { template { id version department } errors { code message } } }"""
VILLAGE = "350304100001"  # 东星社区


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def saved_count(engine) -> int:
    async with engine.connect() as connection:
        return (await connection.execute(select(func.count()).select_from(SavedTemplate))).scalar_one()


def header_block(sheet, rows: int) -> dict:
    """What a printed form's top looks like: texts, merges, widths, paper, orientation, print titles."""
    width = sheet.max_column
    return {
        "texts": [[sheet.cell(r, c).value for c in range(1, width + 1)] for r in range(1, rows + 1)],
        "merges": sorted(str(m) for m in sheet.merged_cells.ranges if m.max_row <= rows),
        "widths": [sheet.column_dimensions[chr(64 + c)].width for c in range(1, width + 1)],
        "paper": (str(sheet.page_setup.paperSize), sheet.page_setup.orientation),
        "print_titles": sheet.print_title_rows,
    }


async def test_the_dibao_dongtai_blank_becomes_the_same_form_with_the_data_in_it(as_user, app, engine):
    shipped = app.state.templates.files["dibao-dongtai"]
    blank = build(from_template(shipped))
    async with as_user("minzheng") as civil_affairs:
        proposal = (await graphql(civil_affairs, PROPOSE, {"f": b64(blank), "id": "minzheng-dongtai-paper"}))["proposeTemplate"]
        assert proposal["errors"] == [] and proposal["entity"] == "households"
        columns = proposal["columns"]
        bound = [c for c in columns if c["status"] in ("MATCHED", "COMPUTED") and not c["open"]]
        assert len(bound) == 11
        assert [(c["header"], c["path"], c["open"]) for c in columns if c["open"]] == [("近期动态", "head.recentStatus", True)]
        # The same fields as the hand-written template, column for column.
        assert [c["path"] or c["value"] for c in columns] == ["row_number"] + [".".join(c.path) for c in shipped.columns[1:]]

        saved = (await graphql(civil_affairs, SAVE, {"d": proposal["definition"]}))["saveTemplate"]
        assert saved == {"template": {"id": "minzheng-dongtai-paper", "version": 1, "department": "minzheng"}, "errors": []}
        exported = await civil_affairs.get("/exports/minzheng-dongtai-paper.xlsx", params={"region": VILLAGE})
        by_hand = await civil_affairs.get("/exports/dibao-dongtai.xlsx", params={"region": VILLAGE})
    assert exported.status_code == 200
    original = load_workbook(io.BytesIO(blank)).active
    form = load_workbook(io.BytesIO(exported.content)).active
    assert header_block(form, 4) == header_block(original, 4)
    assert original.cell(2, 1).value.startswith("填报单位（盖章）：")
    # The data rows are the hand-written template's, cell for cell; then 合计 and the blank's footer.
    written = load_workbook(io.BytesIO(by_hand.content)).active
    rows = [[c.value for c in row] for row in form.iter_rows(min_row=5)]
    by_hand_rows = [[c.value for c in row] for row in written.iter_rows(min_row=5)]
    assert len(rows) > 3 and rows[:-1] == by_hand_rows
    assert rows[0][0] == 1 and rows[0][1] and rows[-2][0] == "合计"
    assert rows[-1][0] == original.cell(original.max_row, 1).value
    assert f"A{form.max_row}:L{form.max_row}" in {str(m) for m in form.merged_cells.ranges}  # the footer merged as in the blank


@pytest.mark.parametrize("name, department, form, expected, entity", COUNTY_FORMS, ids=[f[0] for f in COUNTY_FORMS])
def test_county_forms_are_matched(schemas, name, department, form, expected, entity):
    views = {key: view._schema for key, view in schemas.departments.items()}
    proposal = propose_from_upload(build(form), schemas.full._schema, views[department], schemas.policy, department, f"{department}-{name}")
    report = proposal.report
    assert report.entity == entity
    found = {c.header: c.value if c.value == "row_number" else c.path for c in report.columns}
    base_data = [header for header, path in expected.items() if path is not None]
    right = [header for header in base_data if found[header] == expected[header]]
    assert len(right) / len(base_data) >= 0.8, (name, {h: found[h] for h in base_data if h not in right})
    assert found == expected  # every column as the fixture says, the hub's gaps included
    unmatched = [c.header for c in report.columns if c.status == "UNMATCHED"]
    assert [c["define"]["label"] for c in proposal.request_columns] == [h.split("/")[-1].split("（")[0] for h in unmatched]


def test_not_granted_fields_are_named_and_left_open(schemas):
    """残联 reads age, not birth dates: 出生年月 is named as the hub's field it may not read, and stays open."""
    views = {key: view._schema for key, view in schemas.departments.items()}
    canji = next(f for n, _, f, _, _ in COUNTY_FORMS if n == "canji")
    proposal = propose_from_upload(build(canji), schemas.full._schema, views["canlian"], schemas.policy, "canlian", "canlian-canji")
    column = next(c for c in proposal.report.columns if c.header == "残疾人基本情况/出生年月")
    assert (column.status, column.message) == (
        "NOT_GRANTED", "数据中心有此数据（Person.birthDate，出生日期），但本部门未获授权读取；暂作填报列，可申请授权"
    )
    assert "birthDate" not in proposal.definition.split("columns:")[0]  # not in the query
    masked = next(c for c in proposal.report.columns if c.header == "残疾人基本情况/身份证号")
    assert masked.message == "对应 idNumber（公民身份号码），同义词，置信度 1.00，脱敏显示"


def _overlapping_merges() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for column, text in enumerate(["序号", "姓名", "性别", "公民身份号码"], 1):
        sheet.cell(2, column, text)
    sheet.merge_cells("A1:C1")
    sheet.merge_cells("B1:D2")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _sheet(rows: list[list]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


BAD = [
    ("not-xlsx", "minzheng", b"%PDF-1.4 not a workbook", "NOT_XLSX",
     "文件不是 xlsx 工作簿或已损坏：请用 Excel 或 WPS 另存为 .xlsx 后上传"),
    ("empty", "minzheng", _sheet([]), "EMPTY_SHEET",
     "工作表是空的：请上传画好表头的空白表样（标题、表头，可留几行空行）"),
    ("no-header", "minzheng", _sheet([["低保户名册"], [], ["填报单位：", "日期："]]), "NO_HEADER",
     "没有找到表头：表头应是标题下方的一行或几行栏目名称（至少三栏），如“序号、姓名、公民身份号码……”"),
    ("wide", "minzheng", _sheet([["宽表"], [f"栏目{i}" for i in range(1, 201)]]), "HEADER_TOO_WIDE",
     "表头有 200 栏，超过上限 100 栏：请检查是否有多余的列，或把表拆成几张"),
    ("overlap", "minzheng", _overlapping_merges(), "OVERLAPPING_MERGES",
     "合并单元格 A1:C1 与 B1:D2 重叠，表格已损坏：请在 Excel 或 WPS 中取消这两处合并、重新合并后再上传"),
    ("not-granted", "shichang", build(DIBAO), "ONLY_NOT_GRANTED",
     "表中能对应数据中心的栏目 村（社区）（Household.village.name）、户主姓名（Household.head.name）、性别（Household.head.gender）、"
     "身份证号码（Household.head.idNumber）、"
     "家庭住址（Household.address）、保障人口（Household.memberCount）、家庭月人均收入（Household.incomePerPersonMonthly）、"
     "月保障金（Household.subsidyMonthly）、纳入保障时间（Household.lowIncomeSince）、联系方式（Household.phone） "
     "本部门均未获授权读取，无法生成表样，什么也没有保存：请先向数据中心申请授权"),
]


@pytest.mark.parametrize("name, user, data, code, message", BAD, ids=[b[0] for b in BAD])
async def test_bad_forms_are_refused_and_nothing_is_saved(as_user, engine, name, user, data, code, message):
    before = await saved_count(engine)
    async with as_user(user) as analyst:
        answer = (await graphql(analyst, PROPOSE, {"f": b64(data), "id": f"{user}-bad-{name}"}))["proposeTemplate"]
    assert answer["errors"] == [{"field": "file", "code": code, "message": message}]
    assert (answer["definition"], answer["columns"]) == (None, [])
    assert await saved_count(engine) == before
