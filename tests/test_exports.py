"""Templates exported to xlsx: read back with openpyxl, cell by cell."""

from __future__ import annotations

import datetime as dt
import io
import textwrap
from urllib.parse import quote

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from hub.forms.templates import PAPERS, load_template, templates_dir
from hub.forms.xlsx import SIGNATURE
from hub.yamlfile import DataFileError
from tests.conftest import TODAY, graphql
from tests.test_queries import region_code

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OWNERS = {"shuziban": "admin"}  # department -> a demo user of it (the others are named after their department)
UNITS = {"minzheng": "民政局", "weijian": "卫健委", "renshe": "人社局", "yingji": "应急管理局", "shichang": "市场监管局", "nongye": "农业农村局"}
REGION_NAMES = {"350304100001": "东星社区", "350304100000": "西天尾镇"}  # the shipped templates' default regions


async def demo_event(client) -> str:
    """The id of the demo's typhoon (台风受灾摸排表 takes an event)."""
    data = await graphql(client, "{ events(status: CLOSED, first: 50) { nodes { id name } } }")
    (event_id,) = [e["id"] for e in data["events"]["nodes"] if e["name"] == "2024年第3号台风“格美”"]
    return event_id


def owner(template) -> str:
    return OWNERS.get(template.department, template.department)


def sheet_of(response):
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    return load_workbook(io.BytesIO(response.content)).active


def anchor(ws, row: int, column: int):
    """The cell that shows the text at (row, column): itself, or its merged range's top-left."""
    for merged in ws.merged_cells.ranges:
        if merged.min_row <= row <= merged.max_row and merged.min_col <= column <= merged.max_col:
            return ws.cell(row=merged.min_row, column=merged.min_col)
    return ws.cell(row=row, column=column)


def header_rows(template) -> int:
    return max(len(c.headers) for c in template.columns)


def data_rows(ws, template) -> list[tuple]:
    """Rows between the headers and the first 合计/小计 or blank row."""
    first = 3 + header_rows(template)
    rows = []
    for row in ws.iter_rows(min_row=first, values_only=True):
        if row[0] is None or (isinstance(row[0], str) and ("合计" in row[0] or "小计" in row[0])):
            break
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def shipped(app):
    return app.state.templates.files


def test_all_nine_forms_ship(shipped):
    assert set(shipped) == {
        "dibao-dongtai", "dibao-shouru", "dibao-jiankang", "yinbing-yincan", "taifeng-mopai",
        "yilao-qingdan", "yicun-yidang", "yiqi-yidang", "jiuye-shebao",
    }
    assert len(shipped["dibao-dongtai"].columns) == 12
    assert shipped["dibao-dongtai"].columns[-1].headers[-1] == "近期动态"
    assert (shipped["dibao-shouru"].paper, shipped["dibao-shouru"].orientation) == ("A3", "landscape")
    assert (shipped["dibao-jiankang"].paper, shipped["dibao-jiankang"].orientation, shipped["dibao-jiankang"].department) == ("A4", "portrait", "weijian")


@pytest.mark.parametrize(
    "template_id",
    ["dibao-dongtai", "dibao-shouru", "dibao-jiankang", "yinbing-yincan", "taifeng-mopai", "yilao-qingdan", "yicun-yidang", "yiqi-yidang", "jiuye-shebao"],
)
async def test_each_form_exports_in_its_paper_format(as_user, shipped, template_id):
    template = shipped[template_id]
    async with as_user(owner(template)) as client:
        params = {"event": await demo_event(client)} if template_id == "taifeng-mopai" else {}
        response = await client.get(f"/exports/{template_id}.xlsx", params=params)
    ws = sheet_of(response)
    width = len(template.columns)
    last = get_column_letter(width)
    levels = header_rows(template)
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert ws["A1"].value == template.title
    assert f"A1:{last}1" in merged and f"A2:{last}2" in merged
    today = TODAY  # the hub's clock, pinned for the tests
    (region,) = [v.default for v in template.variables if v.name in ("region", "town")]
    assert ws["A2"].value == (
        f"填报单位（地区）：{REGION_NAMES[region]}        导出单位：{UNITS[template.department]}        "
        f"导出日期：{today.year}年{today.month}月{today.day}日"
    )
    for index, column in enumerate(template.columns, 1):
        for level, text in enumerate(column.headers):
            assert anchor(ws, 3 + level, index).value.replace("\n", "") == text  # a long header may break before its bracket
        cell = anchor(ws, 3, index)
        assert cell.font.b and cell.alignment.wrap_text and cell.border.left.style == "thin"
    assert ws.print_title_rows == f"$3:${2 + levels}"
    assert ws.freeze_panes == f"A{3 + levels}"
    assert ws.page_setup.paperSize == PAPERS[template.paper]
    assert ws.page_setup.orientation == template.orientation
    assert ws.oddFooter.center.text == "第 &P 页 共 &N 页"
    if template.signature:  # in the footer, so they print on every page with its rows
        gap = " " * 24
        assert (ws.oddFooter.left.text, ws.oddFooter.right.text) == (
            f"{SIGNATURE[0]}{gap}{SIGNATURE[1]}{gap}", f"{SIGNATURE[2]}{gap}{SIGNATURE[3]}{gap}"
        )
    assert data_rows(ws, template), "the form has rows on the demo data"
    disposition = response.headers["content-disposition"]
    assert disposition == f"attachment; filename=\"{template_id}.xlsx\"; filename*=UTF-8''{quote(template.title + '.xlsx')}"


async def test_printed_forms_keep_units_whole_and_leave_room_to_write(as_user, shipped):
    """A header breaks before its unit bracket, not inside it; rows with blank columns are tall enough to write in."""
    async with as_user("minzheng") as civil_affairs:
        income = sheet_of(await civil_affairs.get("/exports/dibao-shouru.xlsx"))
    async with as_user("yingji") as emergency:
        typhoon = sheet_of(await emergency.get("/exports/taifeng-mopai.xlsx", params={"event": await demo_event(emergency)}))
    headers = [c.value for row in income.iter_rows(min_row=3, max_row=4) for c in row if isinstance(c.value, str)]
    assert "家庭月人均收入\n（元）" in headers
    assert "月保障金额（元）" in headers  # one that fits stays on one line
    template = shipped["taifeng-mopai"]
    first = 3 + header_rows(template)
    rows = range(first, first + len(data_rows(typhoon, template)))
    assert len(rows) == 17
    assert {typhoon.row_dimensions[row].height for row in rows} == {26}
    async with as_user("minzheng") as civil_affairs:  # a form with nothing blank keeps its rows as they are
        dongtai = sheet_of(await civil_affairs.get("/exports/dibao-dongtai.xlsx"))
    assert 26 not in {dongtai.row_dimensions[row].height for row in range(5, 5 + 16)}


async def test_low_income_form_holds_dongxing_16_households(as_user, client, shipped):
    template = shipped["dibao-dongtai"]
    dongxing = await region_code(client, "东星社区")
    async with as_user("minzheng") as civil_affairs:
        ws = sheet_of(await civil_affairs.get("/exports/dibao-dongtai.xlsx", params={"region": dongxing}))
        expected = await graphql(
            civil_affairs,
            "query($r: String) { households(regionCode: $r, lowIncome: true) { nodes { address memberCount subsidyMonthly lowIncomeSince head { name gender age idNumber recentStatus } } } }",
            {"r": dongxing},
        )
    rows = data_rows(ws, template)
    assert len(rows) == 16
    first, household = rows[0], expected["households"]["nodes"][0]
    head = household["head"]
    by_header = {c.headers[-1]: value for c, value in zip(template.columns, first, strict=True)}
    assert by_header["序号"] == 1
    assert by_header["户主姓名"] == head["name"]
    assert by_header["性别"] == {"MALE": "男", "FEMALE": "女"}[head["gender"]]
    assert by_header["年龄"] == head["age"]
    assert by_header["公民身份号码"] == head["idNumber"]
    assert by_header["家庭住址"] == household["address"]
    assert by_header["家庭人口（人）"] == household["memberCount"]
    assert by_header["近期动态"] == head["recentStatus"]
    if household["lowIncomeSince"]:
        assert by_header["低保认定日期"] == dt.datetime.fromisoformat(household["lowIncomeSince"])
    total = next(row for row in ws.iter_rows(min_row=3, values_only=True) if row[0] == "合计")
    members = [c.path for c in template.columns].index(("memberCount",))
    assert total[members] == sum(h["memberCount"] for h in expected["households"]["nodes"])


async def test_masked_grants_stay_masked_in_the_file(as_user, shipped):
    template = shipped["dibao-jiankang"]
    async with as_user("weijian") as health:
        ws = sheet_of(await health.get("/exports/dibao-jiankang.xlsx"))
    id_columns = [i for i, c in enumerate(template.columns) if c.path and c.path[-1] == "idNumber"]
    values = [row[i] for row in data_rows(ws, template) for i in id_columns if row[i]]
    assert values and all("********" in v for v in values)


async def test_two_departments_with_different_grants(as_user):
    async with as_user("weijian") as health:
        response = await health.get("/exports/dibao-dongtai.xlsx")
    assert response.status_code == 403
    assert response.json()["errors"][0]["message"].startswith("表样 dibao-dongtai 需要读取 Household.")
    assert response.json()["errors"][0]["message"].endswith("，卫健委无权读取")
    async with as_user("shichang") as market:
        response = await market.get("/exports/dibao-jiankang.xlsx")
    assert response.status_code == 403
    assert response.json()["errors"][0]["message"].endswith("，市场监管局无权读取")


async def test_templates_query_lists_what_the_caller_may_run(as_user):
    async with as_user("shichang") as market:
        data = await graphql(market, "{ templates { id downloadPath variables { name label required default } } }")
    assert [t["id"] for t in data["templates"]] == ["yiqi-yidang"]
    assert data["templates"][0]["downloadPath"] == "/exports/yiqi-yidang.xlsx"
    async with as_user("minzheng") as civil_affairs:
        ids = {t["id"] for t in (await graphql(civil_affairs, "{ templates { id } }"))["templates"]}
    assert {"dibao-dongtai", "dibao-shouru"} <= ids and "yiqi-yidang" not in ids


async def test_a_form_and_its_fill_sheet_download_under_different_names(as_user, shipped):
    """`curl -OJ` takes the ASCII `filename`: the form and its fill sheet must not overwrite each other."""
    title = shipped["dibao-dongtai"].title
    async with as_user("dongxing") as cadre:
        form = await cadre.get("/exports/dibao-dongtai.xlsx")
        fill = await cadre.get("/fill-sheets/dibao-dongtai.xlsx")
    assert form.headers["content-disposition"] == f"attachment; filename=\"dibao-dongtai.xlsx\"; filename*=UTF-8''{quote(title + '.xlsx')}"
    assert fill.headers["content-disposition"] == (
        f"attachment; filename=\"dibao-dongtai-fill.xlsx\"; filename*=UTF-8''{quote(title + '-填报表.xlsx')}"
    )


def region_not_found(code: str) -> dict:
    return {"errors": [{"code": "NOT_FOUND", "message": f"没有代码为 {code} 的地区（或不在您的管辖范围内）"}]}


async def test_jurisdiction_applies_to_exports(as_user, client):
    """A region outside the caller's jurisdiction and one that does not exist answer alike: 404, never 403."""
    chengxiang = await region_code(client, "城厢区")
    async with as_user("licheng-minzheng") as analyst:
        foreign = await analyst.get("/exports/dibao-dongtai.xlsx", params={"region": chengxiang})
        unknown = await analyst.get("/exports/dibao-dongtai.xlsx", params={"region": "350304999999"})
    assert (foreign.status_code, foreign.json()) == (404, region_not_found(chengxiang))
    assert (unknown.status_code, unknown.json()) == (404, region_not_found("350304999999"))
    async with as_user("dongxing") as cadre:  # 台风受灾摸排表 by town: the village cadre's town is above its reach
        above = await cadre.get("/exports/taifeng-mopai.xlsx", params={"town": "350304100000", "event": "1"})
        foreign_fill = await cadre.get("/fill-sheets/dibao-dongtai.xlsx", params={"region": chengxiang})
    assert (above.status_code, above.json()) == (404, region_not_found("350304100000"))
    assert (foreign_fill.status_code, foreign_fill.json()) == (404, region_not_found(chengxiang))


def test_the_region_variable_is_the_one_bound_to_a_region_argument(shipped):
    from hub.web.export_endpoint import region_variables

    assert {t.id: region_variables(t) for t in shipped.values()} == {
        t.id: ["town"] if t.id in ("taifeng-mopai", "yicun-yidang") else ["region"] for t in shipped.values()
    }


@pytest.mark.parametrize("code", ["35030410000", "35030410000x", "３５０３０４１０００００"])
async def test_a_malformed_region_code_is_a_bad_request(as_user, code):
    async with as_user("dongxing") as cadre:
        export = await cadre.get("/exports/dibao-dongtai.xlsx", params={"region": code})
        fill = await cadre.get("/fill-sheets/dibao-dongtai.xlsx", params={"region": code})
    message = f"变量 `region`（村（社区）统计用区划代码）应为 12 位数字，收到 {code!r}"
    for response in (export, fill):
        assert (response.status_code, response.json()) == (400, {"errors": [{"code": "INVALID", "message": message}]})


@pytest.mark.parametrize(
    ("path", "params", "status", "message"),
    [
        ("/exports/nope.xlsx", {}, 404, "没有模板 `nope`"),
        ("/exports/dibao-dongtai.xlsx", {"regoin": "350304100001"}, 400, "没有变量 `regoin`（表样 dibao-dongtai 的变量：region）"),
        ("/exports/jiuye-shebao.xlsx", {"minAge": "sixteen"}, 400, None),
    ],
)
async def test_bad_requests(as_user, shipped, path, params, status, message):
    async with as_user("renshe" if "jiuye" in path else "minzheng") as client:
        response = await client.get(path, params=params)
    assert response.status_code == status
    if message is None:
        variable = next(v for v in shipped["jiuye-shebao"].variables if v.name == "minAge")
        message = f"变量 `minAge`（{variable.label}）应为整数，收到 'sixteen'"
    code = "NOT_FOUND" if status == 404 else "INVALID"
    assert response.json() == {"errors": [{"code": code, "message": message}]}


async def test_no_token_no_file(app):
    from tests.conftest import client_as

    async with client_as(app, None) as anonymous:
        response = await anonymous.get("/exports/dibao-dongtai.xlsx")
    assert response.status_code == 401


async def test_text_is_never_a_formula(as_user, client, shipped):
    dongxing = await region_code(client, "东星社区")
    data = await graphql(client, "query($r: String) { households(regionCode: $r, lowIncome: true, first: 1) { nodes { head { id version } } } }", {"r": dongxing})
    head = data["households"]["nodes"][0]["head"]
    payload = "=HYPERLINK(\"http://evil.example\",\"点我\")"
    async with as_user("dongxing") as cadre:
        result = await graphql(
            cadre,
            "mutation($id: ID!, $v: Int!, $s: String) { updatePerson(id: $id, version: $v, input: {recentStatus: $s}) { errors { message } } }",
            {"id": head["id"], "v": head["version"], "s": payload},
        )
    assert result["updatePerson"]["errors"] == []
    async with as_user("minzheng") as civil_affairs:
        response = await civil_affairs.get("/exports/dibao-dongtai.xlsx", params={"region": dongxing})
    ws = load_workbook(io.BytesIO(response.content)).active
    cells = [c for row in ws.iter_rows() for c in row if c.value == payload]
    assert cells and all(c.data_type == "s" for c in cells)


# --- template files are validated at start-up ---------------------------------------------

GOOD = """\
id: {id}
title: 测试表
department: weijian
query: |
  query T($region: String!, $first: Int, $after: String) {{
    persons(regionCode: $region, first: $first, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ name healthStatus }}
    }}
  }}
rows: persons
variables:
  region: {{label: 区划}}
columns:
  - header: 姓名
    path: name
  - header: 健康状况
    path: healthStatus
"""


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (("nodes { name healthStatus }", "nodes { name employer }"), 8, "query 不符合部门 weijian 可见的数据范围：Cannot query field 'employer' on type 'Person'."),
        (("nodes { name healthStatus }", "nodes { name healthStatus nope }"), 8, "query 不符合部门 weijian 可见的数据范围：Cannot query field 'nope' on type 'Person'."),
        (("    path: healthStatus", "    path: gender"), 18, "path：query 没有选取 `gender`（`nodes` 下没有 `gender`）"),
        (("department: weijian", "department: nobody"), 3, "没有部门 `nobody`（可用的部门：shuziban, minzheng, weijian, renshe, yingji, zhujian, canlian, shichang, nongye）"),
        (("rows: persons", "rows: people"), 11, "rows：query 中没有根字段 `people`"),
        (("  region: {label: 区划}", "  area: {label: 区划}"), 13, "variables：请给 $region 一个中文名称（label）"),
    ],
)
def test_template_mistakes_name_file_and_line(tmp_path, schemas, change, line, message):
    path = tmp_path / "test-form.yaml"
    path.write_text(GOOD.format(id="test-form").replace(*change), encoding="utf-8")
    departments = {k: s._schema for k, s in schemas.departments.items()}
    with pytest.raises(DataFileError) as error:
        load_template(path, schemas.full._schema, departments)
    assert str(error.value) == f"{path}:{line}: {message}"


def test_shipped_templates_dir_is_the_repository_folder():
    assert templates_dir().name == "templates" and any(templates_dir().glob("*.yaml"))


def test_template_docs_example_is_valid(tmp_path, schemas):
    from pathlib import Path

    docs = (Path(__file__).resolve().parent.parent / "docs" / "templates.md").read_text(encoding="utf-8")
    example = docs.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "dibao-dongtai.yaml"
    path.write_text(textwrap.dedent(example), encoding="utf-8")
    template = load_template(path, schemas.full._schema, {k: s._schema for k, s in schemas.departments.items()})
    assert template.group_by == ("village", "name")


async def test_the_file_streams_before_the_last_row_is_read(app, engine, schemas, tokens, client):
    """The first compressed bytes are ready after the first page; later pages are read while sending."""
    from hub.access import accounts
    from hub.web.export_endpoint import PAGE_SIZE, Export, ExportEndpoint

    endpoint = next(route.endpoint for route in app.routes if isinstance(getattr(route, "endpoint", None), ExportEndpoint))
    town = await region_code(client, "西天尾镇")
    caller = await accounts.authenticate(engine, tokens["renshe"])
    template = app.state.templates.files["jiuye-shebao"]
    variables = {"region": town, "minAge": 16, "maxAge": 60}
    export = Export(endpoint, None, "stream-test", caller, schemas.departments["renshe"], template, variables, template.query)
    await export.first_page()
    stream = export.stream()
    first = await anext(stream)
    assert first.startswith(b"PK\x03\x04")  # a zip's first local header: the download has begun
    assert export.has_next and export.rows == PAGE_SIZE  # …with only the first page read
    rest = [chunk async for chunk in stream]
    ws = load_workbook(io.BytesIO(first + b"".join(rest))).active
    assert export.rows > PAGE_SIZE
    assert len(data_rows(ws, template)) == export.rows


def test_cells_are_written_as_openpyxl_reads_them(tmp_path):
    """The rows' XML is the hub's own (openpyxl's element per cell was most of an export's time):
    every kind of value it writes reads back as it was, or as the reason says."""
    import zipfile

    from openpyxl import Workbook

    from hub.forms.xlsx import MAX_CELL_TEXT, cell_xml

    values = [
        ("A", "=SUM(A1:A9)", "=SUM(A1:A9)"),  # text, never a formula
        ("B", "  两端有空格 ", "  两端有空格 "),
        ("C", "<b>&amp;", "<b>&amp;"),
        ("D", "换\n行", "换\n行"),
        ("E", "控制\x01字符\x1f", "控制字符"),  # XML 1.0 cannot carry them
        ("F", "长" * (MAX_CELL_TEXT + 5), "长" * MAX_CELL_TEXT),
        ("G", True, True),
        ("H", 42, 42),
        ("I", 1234.5, 1234.5),
        ("J", 0.1 + 0.2, 0.3),  # 16 significant digits, as openpyxl writes numbers
        ("K", dt.date(2023, 12, 1), 45261),  # a serial number; the column's style makes it a date
        ("L", float("nan"), None),
        ("M", "", None),
    ]
    path = tmp_path / "cells.xlsx"
    Workbook().save(path)  # a valid package; its sheet's rows are replaced below
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    rows = "".join(cell_xml(f"{column}1", value, 0) for column, value, _ in values)
    parts["xl/worksheets/sheet1.xml"] = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<sheetData><row r="1">{rows}</row></sheetData></worksheet>'
    ).encode()
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)
    sheet = load_workbook(path).active
    assert [(column, sheet[f"{column}1"].value) for column, _, _ in values] == [(column, read) for column, _, read in values]
    assert sheet["A1"].data_type == "s"
    assert cell_xml("A1", None, 0) == "" and cell_xml("A1", None, 3) == '<c r="A1" s="3"/>'


LINK = """query($id: String!, $v: JSON, $fill: Boolean! = false) { template(id: $id) { downloadLink(variables: $v, fillSheet: $fill) } }"""


async def link_for(user, template_id: str, variables: dict, fill: bool = False) -> str:
    return (await graphql(user, LINK, {"id": template_id, "v": variables, "fill": fill}))["template"]["downloadLink"]


async def test_a_signed_link_opens_in_a_browser_without_a_token(app, as_user, client, shipped):
    """A browser sends no Authorization header: the link carries a signature, not the token."""
    from urllib.parse import parse_qs, urlencode, urlsplit

    from tests.conftest import client_as

    dongxing = await region_code(client, "东星社区")
    async with as_user("minzheng") as civil_affairs:
        link = await link_for(civil_affairs, "dibao-dongtai", {"region": dongxing})
        with_token = await civil_affairs.get("/exports/dibao-dongtai.xlsx", params={"region": dongxing})
        bad = await civil_affairs.post("/graphql", json={"query": LINK, "variables": {"id": "dibao-dongtai", "v": {"region": dongxing, "town": "x"}}})
        hidden = await graphql(civil_affairs, '{ template(id: "yiqi-yidang") { id } }')  # 一企一档: 民政局 reads no enterprises
    async with as_user("dongxing") as cadre:  # the 东星社区 cadre fills in 近期动态
        fill_link = await link_for(cadre, "dibao-dongtai", {"region": dongxing}, fill=True)
    assert "token" not in link and link.startswith("/exports/dibao-dongtai.xlsx?")
    assert fill_link.startswith("/fill-sheets/dibao-dongtai.xlsx?")
    assert bad.json()["errors"][0]["message"] == "没有变量 `town`（表样 dibao-dongtai 的变量：region）"
    assert hidden == {"template": None}
    query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    async with client_as(app, None) as browser:
        opened = await browser.get(link)
        assert data_rows(sheet_of(opened), shipped["dibao-dongtai"]) == data_rows(sheet_of(with_token), shipped["dibao-dongtai"])
        assert (await browser.get(fill_link)).status_code == 200
        elsewhere = await region_code(client, "溪白村")
        altered = await browser.get(f"/exports/dibao-dongtai.xlsx?{urlencode({**query, 'region': elsewhere})}")
        expired = await browser.get(f"/exports/dibao-dongtai.xlsx?{urlencode({**query, 'expires': int(query['expires']) - 10_000})}")
        incomplete = await browser.get(f"/exports/dibao-dongtai.xlsx?{urlencode({k: v for k, v in query.items() if k != 'expires'})}")
        other_form = await browser.get(link.replace("dibao-dongtai", "dibao-shouru"))
    message = "下载链接无效：链接被改动过，或不是本数据中心生成的"
    assert (altered.status_code, altered.json()) == (403, {"errors": [{"code": "FORBIDDEN", "message": message}]})
    assert expired.status_code == 403  # the expiry is signed too: moving it breaks the signature
    async with as_user("dongxing") as cadre:  # a link is no way around the jurisdiction
        outside = await link_for(cadre, "dibao-dongtai", {"region": elsewhere})
    async with client_as(app, None) as browser:
        refused = await browser.get(outside)
    assert (refused.status_code, refused.json()) == (404, region_not_found(elsewhere))  # not found, as without a link
    assert incomplete.json() == {"errors": [{"code": "FORBIDDEN", "message": "下载链接不完整：signed_by、expires 和 signature 三个参数须一起出现"}]}
    assert other_form.json() == {"errors": [{"code": "FORBIDDEN", "message": message}]}


async def test_a_link_asked_with_bad_variables_is_refused_by_name(as_user, client):
    dongxing = await region_code(client, "东星社区")
    cases = [
        ([dongxing], 'variables：请以对象给出表样变量，如 {"region": "350304100001"}'),
        ({"region": {"code": dongxing}}, "variables：`region` 应为文字、数字或 true/false"),
    ]
    async with as_user("minzheng") as civil_affairs:
        for variables, message in cases:
            answer = (await civil_affairs.post("/graphql", json={"query": LINK, "variables": {"id": "dibao-dongtai", "v": variables}})).json()
            assert answer["data"] == {"template": None}, variables
            assert [e["message"] for e in answer["errors"]] == [message]
        unset = await link_for(civil_affairs, "dibao-dongtai", {"region": None})  # null leaves the variable out
    assert "region" not in unset and "None" not in unset


async def test_signed_links_expire_and_follow_the_user(app, engine, shipped):
    import time

    from sqlalchemy import update

    from hub.access.accounts import caller_named
    from hub.data.models import User
    from tests.conftest import client_as

    links = app.state.services.links
    weijian = await caller_named(engine, "weijian")
    async with client_as(app, None) as browser:
        stale = links.make("/exports/dibao-jiankang.xlsx", {}, weijian.user_id, int(time.time()) - links.seconds - 1)
        assert (await browser.get(stale)).json() == {
            "errors": [{"code": "FORBIDDEN", "message": "下载链接已过期：请向数据中心重新获取（templates { downloadLink }）"}]
        }
        fresh = links.make("/exports/dibao-jiankang.xlsx", {}, weijian.user_id, int(time.time()))
        assert (await browser.get(fresh)).status_code == 200
        async with engine.begin() as conn:
            await conn.execute(update(User).where(User.id == weijian.user_id).values(active=False))
        try:
            gone = await browser.get(fresh)
        finally:
            async with engine.begin() as conn:
                await conn.execute(update(User).where(User.id == weijian.user_id).values(active=True))
    assert (gone.status_code, gone.json()) == (403, {"errors": [{"code": "FORBIDDEN", "message": "下载链接所属的用户已停用"}]})
