"""A department uploads the blank form it already uses and gets a template: its columns matched by their
Chinese labels within the department's grants, its layout the blank's own, nothing saved on a bad file."""

from __future__ import annotations

import asyncio
import base64
import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from hub.data.models import SavedTemplate
from hub.forms.onboarding import propose_from_upload
from tests.conftest import graphql
from tests.support.blank_forms import (
    COUNTY_FORMS,
    DIBAO,
    GAOLING,
    TEKUN,
    build,
    from_template,
)

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


# --- review and save ---------------------------------------------------------------------------

REVIEW = """mutation($f: String!, $id: String!, $m: [ColumnMappingInput!], $save: Boolean!, $v: Int) {
  proposeTemplate(file: $f, id: $id, mappings: $m, save: $save, version: $v) {
    columns { column header status path how open indicator message } requestColumns definition
    template { id version department } errors { field code message } } }"""
PERSONS = """query($c: String!) { persons(regionCode: $c, first: 500) { nodes { idNumber healthStatus phone } } }"""


async def test_an_analyst_maps_a_column_saves_and_the_export_fills_it(as_user, schemas):
    """特困 form: 生活自理能力 has no field of that name; the analyst maps it to 健康状况, leaves 联系电话 open, and saves."""
    mappings = [{"column": 9, "to": "healthStatus"}, {"header": "联系电话", "to": "open"}]
    async with as_user("minzheng") as civil_affairs:
        before = (await graphql(civil_affairs, PROPOSE, {"f": b64(build(TEKUN)), "id": "minzheng-tekun"}))["proposeTemplate"]
        answer = (await graphql(civil_affairs, REVIEW, {"f": b64(build(TEKUN)), "id": "minzheng-tekun", "m": mappings, "save": True}))
        answer = answer["proposeTemplate"]
        again = (await graphql(civil_affairs, REVIEW, {"f": b64(build(TEKUN)), "id": "minzheng-tekun", "m": mappings, "save": True, "v": 1}))
        exported = await civil_affairs.get("/exports/minzheng-tekun.xlsx", params={"region": VILLAGE})
        persons = (await graphql(civil_affairs, PERSONS, {"c": VILLAGE}))["persons"]["nodes"]
    assert before["columns"][8]["status"] == "UNMATCHED"
    assert answer["errors"] == [] and answer["template"] == {"id": "minzheng-tekun", "version": 1, "department": "minzheng"}
    assert again["proposeTemplate"]["template"]["version"] == 2  # saved again from the same blank: the next version
    reviewed = {c["column"]: c for c in answer["columns"]}
    assert reviewed[9] == {"column": 9, "header": "供养情况/生活自理能力", "status": "MATCHED", "path": "healthStatus", "how": "reviewed",
                           "open": False, "indicator": False, "message": "对应 healthStatus（健康状况），审核时指定，置信度 1.00"}
    assert reviewed[11] == {"column": 11, "header": "联系电话", "status": "UNMATCHED", "path": None, "how": "reviewed",
                            "open": False, "indicator": False, "message": "审核时指定：留作填报列"}
    # 供养方式 and 备注 are still new indicators; 生活自理能力 and 联系电话 are not.
    assert [c["define"]["label"] for c in answer["requestColumns"]] == ["供养方式", "备注"]
    assert "phone" not in answer["definition"].split("columns:")[0]
    assert exported.status_code == 200
    sheet = load_workbook(io.BytesIO(exported.content)).active
    first = 6  # title, subtitle, two header rows, the row of column numbers
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=first, max_col=12) if isinstance(row[0].value, int)]
    labels = schemas.full._schema.type_map["HealthStatus"].values  # the export writes an enum's Chinese label
    health = {p["idNumber"]: labels[p["healthStatus"]].description for p in persons}
    assert len(rows) == len(persons) > 3
    assert [row[8] for row in rows] == [health[row[6]] for row in rows]  # 生活自理能力, filled from 健康状况
    assert {row[10] for row in rows} == {None}  # 联系电话 left open


CANJI_FORM = next(f for n, _, f, _, _ in COUNTY_FORMS if n == "canji")
BAD_MAPPINGS = [
    # 残联 does not read birth dates: the same answer as for a path the hub does not have, so paths cannot be probed.
    ("not-granted", [{"column": 4, "to": "birthDate"}], "UNKNOWN_PATH",
     "第 4 栏“残疾人基本情况/出生年月”：本部门可读的人员字段中没有“birthDate”；请填字段路径（如 head.idNumber），或 open 留作填报列，或 indicator 作为填报任务的新指标"),
    ("no-such-field", [{"header": "补贴标准/生活补贴", "to": "household.subsidy"}], "UNKNOWN_PATH",
     "第 9 栏“补贴标准/生活补贴”：本部门可读的人员字段中没有“household.subsidy”；请填字段路径（如 head.idNumber），或 open 留作填报列，或 indicator 作为填报任务的新指标"),
    ("no-such-column", [{"column": 20, "to": "open"}], "UNKNOWN_COLUMN", "表样共 13 栏，没有第 20 栏"),
    ("no-such-header", [{"header": "补贴金额", "to": "open"}], "UNKNOWN_COLUMN",
     "表样中没有栏目“补贴金额”：按对应报告填写栏目名称，多级表头用 / 连接，如“保障情况/月保障金”"),
    ("twice", [{"column": 2, "to": "open"}, {"header": "残疾人基本情况/姓名", "to": "name"}], "DUPLICATE_MAPPING",
     "第 2 栏“残疾人基本情况/姓名”指定了两次"),
    ("neither", [{"to": "open"}], "INVALID_MAPPING", "对应关系“open”须指明第几栏（column）或栏目名称（header），二者选一"),
]


@pytest.mark.parametrize("name, mappings, code, message", BAD_MAPPINGS, ids=[b[0] for b in BAD_MAPPINGS])
async def test_bad_mappings_are_refused_and_nothing_is_saved(as_user, engine, name, mappings, code, message):
    before = await saved_count(engine)
    async with as_user("canlian") as disabled_persons:
        answer = (await graphql(disabled_persons, REVIEW, {"f": b64(build(CANJI_FORM)), "id": f"canlian-{name}", "m": mappings, "save": True}))
    assert answer["proposeTemplate"]["errors"] == [{"field": "mappings", "code": code, "message": message}]
    assert (answer["proposeTemplate"]["template"], answer["proposeTemplate"]["definition"]) == (None, None)
    assert await saved_count(engine) == before


# --- from the command line ---------------------------------------------------------------------

LOG = """query($u: String) { accessLog(username: $u, first: 3) { nodes { operationType operationName sensitiveFields rowCount outcome } } }"""
TEMPLATE = """query($id: String!) { template(id: $id) { id version department title } }"""


async def test_hub_template_import_saves_the_departments_template_and_is_in_the_access_log(
    as_user, client, settings, tmp_path, monkeypatch, capsys
):
    """`hub template import` is an entry point like proposeTemplate: a refused import and a saved one are both logged."""
    from hub.cli import main

    path = tmp_path / "高龄津贴.xlsx"
    path.write_bytes(build(GAOLING))
    monkeypatch.setenv("HUB_DATABASE_URL", settings.database_url)
    command = ["template", "import", str(path), "--department", "minzheng", "--id", "minzheng-gaoling-cli"]
    with pytest.raises(SystemExit) as refused:  # the command runs its own event loop: give it a thread
        await asyncio.to_thread(main, [*command, "--as", "canlian", "--save"])
    assert str(refused.value) == "[FORBIDDEN] 只有部门的分析员可以导入本部门的表样"
    await asyncio.to_thread(main, [*command, "--as", "minzheng", "--save", "--map", "备注=indicator"])
    out = capsys.readouterr()
    assert out.out.splitlines()[:3] == [
        "每行一条：人员（persons）；共 11 栏：已对应 8，计算 1，有歧义 0，未授权 0，未对应 2",
        "   1. 序号 — 计算栏：由数据中心计算：序号",
        "   2. 乡镇（街道） — 已对应：对应 household.village.parent.name（名称），同义词，置信度 1.00",
    ]
    assert "  11. 备注 — 未对应：审核时指定：作为填报任务的新指标" in out.out.splitlines()
    assert "已保存表样 minzheng-gaoling-cli（第 1 版）：/exports/minzheng-gaoling-cli.xlsx" in " ".join(out.err.split())

    assert (await graphql(client, LOG, {"u": "canlian"}))["accessLog"]["nodes"][0] == {
        "operationType": "mutation", "operationName": "templateImport minzheng-gaoling-cli", "sensitiveFields": [], "rowCount": 0,
        "outcome": "refused",
    }
    assert (await graphql(client, LOG, {"u": "minzheng"}))["accessLog"]["nodes"][0] == {
        "operationType": "mutation", "operationName": "templateImport minzheng-gaoling-cli", "sensitiveFields": [], "rowCount": 0,
        "outcome": "ok",
    }
    town = (await graphql(client, "query($c: String!) { region(code: $c) { parent { name } } }", {"c": VILLAGE}))["region"]["parent"]["name"]
    async with as_user("minzheng") as civil_affairs:
        saved = (await graphql(civil_affairs, TEMPLATE, {"id": "minzheng-gaoling-cli"}))["template"]
        exported = await civil_affairs.get("/exports/minzheng-gaoling-cli.xlsx", params={"region": VILLAGE})
    assert saved == {"id": "minzheng-gaoling-cli", "version": 1, "department": "minzheng", "title": GAOLING.title}
    sheet = load_workbook(io.BytesIO(exported.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=4, max_col=11) if isinstance(row[0].value, int)]
    assert rows and {(row[1], row[2]) for row in rows} == {(town, "东星社区")}  # 乡镇（街道） two steps away, filled
    assert all(row[6] >= 80 for row in rows)  # 高龄 in the title: persons of 80 and over
