"""Uploads (`POST /fill-sheets`, `POST /imports`): hostile files are refused before they cost memory or time,
every upload is in the access log, and a held SQLite writer is answered 503, not an internal error."""

from __future__ import annotations

import asyncio
import io
import time
import zipfile

import openpyxl
import pytest
from openpyxl import Workbook
from sqlalchemy import func, select, text

from hub.data.database import BUSY_MESSAGE
from hub.data.identifiers import id_number_check_char
from hub.data.models import Change, Household, Person
from hub.forms.untrusted_xlsx import MALFORMED_MESSAGE
from tests.conftest import graphql
from tests.test_queries import region_code

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
HEADERS = ["姓名", "身份证号", "性别", "出生日期", "民族", "与户主关系", "户主姓名", "家庭住址", "联系电话"]


def xlsx_with_sheet(sheet_xml: bytes, *, level: int = 6) -> bytes:
    """A real workbook whose first sheet's XML is replaced by `sheet_xml`."""
    workbook = Workbook()
    workbook.active.append(["x"])
    original = io.BytesIO()
    workbook.save(original)
    out = io.BytesIO()
    with zipfile.ZipFile(original) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as target:
        for item in source.infolist():
            target.writestr(item.filename, sheet_xml if item.filename == "xl/worksheets/sheet1.xml" else source.read(item.filename))
    return out.getvalue()


def sheet_xml(rows: list[list[str]], *, prolog: str = "", dimension: str = "") -> bytes:
    body = "".join(
        f'<row r="{n}">' + "".join(f'<c r="{chr(65 + i)}{n}" t="inlineStr"><is><t>{v}</t></is></c>' for i, v in enumerate(cells)) + "</row>"
        for n, cells in enumerate(rows, 1)
    )
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f'{prolog}<worksheet xmlns="{MAIN}">{dim}<sheetData>{body}</sheetData></worksheet>'.encode()


def ledger_rows(count: int) -> list[list[str]]:
    """A ledger header and `count` rows whose ID numbers are all invalid: parsed in full, nothing imported."""
    return [HEADERS, *([f"张{i}", f"35030419{i:010d}"] for i in range(count))]


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]>"
)


async def counts(engine) -> tuple[int, ...]:
    async with engine.connect() as conn:
        return tuple([(await conn.execute(select(func.count()).select_from(t))).scalar_one() for t in (Person, Household, Change)])


async def send_both(client, data: bytes, village: str):
    fill = await client.post("/fill-sheets", content=data, headers={"content-type": XLSX})
    ledger = await client.post("/imports", params={"village": village, "apply": "true"}, content=data, headers={"content-type": XLSX})
    return fill, ledger


def test_openpyxl_parses_with_defusedxml():
    assert openpyxl.DEFUSEDXML is True


def bomb() -> bytes:
    row = '<row><c t="inlineStr"><is><t>' + "x" * 40 + "</t></is></c></row>"
    return xlsx_with_sheet(f'<worksheet xmlns="{MAIN}"><sheetData>{row * 750_000}</sheetData></worksheet>'.encode(), level=9)


def refusal(status: int, code: str, message: str) -> tuple[int, dict]:
    return status, {"errors": [{"message": message, "code": code}]}


@pytest.mark.parametrize(
    ("name", "build", "expected"),
    [
        ("entity declaration", lambda: xlsx_with_sheet(sheet_xml([["&e;"]], prolog='<!DOCTYPE w [<!ENTITY e "boom">]>')),
         refusal(400, "MALFORMED_SHEET", MALFORMED_MESSAGE)),
        ("billion laughs", lambda: xlsx_with_sheet(sheet_xml([["&lol9;"]], prolog=BILLION_LAUGHS)),
         refusal(400, "MALFORMED_SHEET", MALFORMED_MESSAGE)),
        ("truncated XML", lambda: xlsx_with_sheet(sheet_xml(ledger_rows(3))[:-40]),
         refusal(400, "MALFORMED_SHEET", MALFORMED_MESSAGE)),
        ("key column in XFD, declared", lambda: xlsx_with_sheet(sheet_xml([["姓名"]], dimension="A1:XFD2")),
         refusal(400, "TOO_MANY_COLUMNS", "工作表用到了第 XFD 列，超过上限（第 AMJ 列）：请删除右侧多余的列后重新保存")),
        ("key column in XFD, undeclared", lambda: xlsx_with_sheet(
            f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c>'
            f'<c r="XFD1" t="inlineStr"><is><t>__key__</t></is></c></row></sheetData></worksheet>'.encode()),
         refusal(400, "TOO_MANY_COLUMNS", "工作表用到了第 XFD 列，超过上限（第 AMJ 列）：请删除右侧多余的列后重新保存")),
        ("a row a million down", lambda: xlsx_with_sheet(
            f'<worksheet xmlns="{MAIN}"><sheetData><row r="1048576"><c r="A1048576"><v>1</v></c></row></sheetData></worksheet>'.encode()),
         refusal(413, "TOO_MANY_ROWS", "工作表超过 200000 行：请分成几个文件上传")),
    ],
)
async def test_hostile_sheets_are_refused_alike_on_both_endpoints(as_user, client, engine, name, build, expected):
    village = await region_code(client, "东星社区")
    before = await counts(engine)
    async with as_user("dongxing") as cadre:
        fill, ledger = await asyncio.wait_for(send_both(cadre, build(), village), 60)
    assert (fill.status_code, fill.json()) == expected, name
    assert (ledger.status_code, ledger.json()) == expected, name
    assert await counts(engine) == before


def test_hub_import_refuses_a_hostile_file_with_the_same_message(settings, tmp_path, monkeypatch):
    from hub.cli import main

    path = tmp_path / "laughs.xlsx"
    path.write_bytes(xlsx_with_sheet(sheet_xml([["&lol9;"]], prolog=BILLION_LAUGHS)))
    monkeypatch.setenv("HUB_DATABASE_URL", settings.database_url)
    with pytest.raises(SystemExit) as stopped:
        main(["import", str(path), "--as", "dongxing", "--village", "350304100001"])
    assert str(stopped.value) == MALFORMED_MESSAGE


async def test_a_zip_bomb_is_refused_before_it_is_unpacked(as_user, client, engine):
    data = bomb()
    member = zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/worksheets/sheet1.xml")
    assert len(data) < 300_000 and member.file_size > 60 * 1024 * 1024  # 60 MB of rows in a small upload
    message = (f"文件中的 xl/worksheets/sheet1.xml 解压后达 {member.file_size // (1024 * 1024)} MB，"
               f"是压缩大小的 {member.file_size // member.compress_size} 倍，不像正常的表格，已拒收")
    village = await region_code(client, "东星社区")
    before = await counts(engine)
    started = time.perf_counter()
    async with as_user("dongxing") as cadre:
        fill, ledger = await asyncio.wait_for(send_both(cadre, data, village), 30)
    assert time.perf_counter() - started < 5  # refused from the zip's directory, not by unpacking
    assert (fill.status_code, fill.json()) == refusal(413, "FILE_TOO_LARGE", message)
    assert (ledger.status_code, ledger.json()) == refusal(413, "FILE_TOO_LARGE", message)
    assert await counts(engine) == before


async def test_health_answers_while_a_large_upload_is_parsed(as_user, client, engine):
    data = xlsx_with_sheet(sheet_xml(ledger_rows(6000)))
    village = await region_code(client, "东星社区")
    before = await counts(engine)
    async with as_user("dongxing") as cadre:
        done: dict[str, float] = {}

        async def upload(path: str, **params):
            response = await cadre.post(path, params=params, content=data, headers={"content-type": XLSX})
            done[path] = time.perf_counter()
            return response

        uploads = [asyncio.create_task(upload("/imports", village=village)), asyncio.create_task(upload("/fill-sheets"))]
        await asyncio.sleep(0.2)  # both are parsing now
        asked = time.perf_counter()
        health = await asyncio.wait_for(cadre.get("/healthz"), 10)
        answered = time.perf_counter()
        ledger, fill = await asyncio.wait_for(asyncio.gather(*uploads), 120)
    assert health.status_code == 200
    assert answered - asked < 1.0, f"/healthz took {answered - asked:.2f} s"
    assert answered < min(done.values())  # it did not wait for the parses
    assert (ledger.status_code, ledger.json()["rejected"], ledger.json()["new"]) == (200, 6000, 0)
    assert fill.status_code == 400 and fill.json()["errors"][0]["code"] == "INVALID"  # no key column
    assert await counts(engine) == before


# --- the access log ----------------------------------------------------------------

# The person ledger's mapped columns that the policy marks sensitive: matching reads them by value.
MAPPED_SENSITIVE = ["Person.chronicDiseases", "Person.healthStatus", "Person.idNumber", "Person.phone"]
LOG = """query($u: String) { accessLog(username: $u, first: 4) { nodes {
  operationType operationName sensitiveFields rowCount outcome } } }"""


async def test_uploads_are_in_the_access_log_refusals_included(as_user, client, engine):
    village = await region_code(client, "东星社区")
    ledger = xlsx_with_sheet(sheet_xml(ledger_rows(3)))
    async with as_user("shichang") as market:  # no Person grant at all
        refused = await market.post("/imports", params={"village": village}, content=ledger, headers={"content-type": XLSX})
        bad = await market.post("/fill-sheets", content=b"not a workbook", headers={"content-type": XLSX})
    assert refused.status_code == 403 and bad.status_code == 400
    async with as_user("dongxing") as cadre:
        dry_run = await cadre.post("/imports", params={"village": village}, content=ledger, headers={"content-type": XLSX})
    assert dry_run.status_code == 200
    market_log = (await graphql(client, LOG, {"u": "shichang"}))["accessLog"]["nodes"][:2]
    assert market_log == [
        {"operationType": "mutation", "operationName": "fillSheetUpload", "sensitiveFields": [], "rowCount": 0, "outcome": "refused"},
        {"operationType": "query", "operationName": f"legacyImport {village} person dryRun",
         "sensitiveFields": MAPPED_SENSITIVE, "rowCount": 0, "outcome": "refused"},
    ]
    cadre_log = (await graphql(client, LOG, {"u": "dongxing"}))["accessLog"]["nodes"][0]
    assert cadre_log == {"operationType": "query", "operationName": f"legacyImport {village} person dryRun",
                         "sensitiveFields": MAPPED_SENSITIVE, "rowCount": 3, "outcome": "ok"}

    async with as_user("dongxing") as cadre:  # a fill sheet sent back as downloaded
        sheet = (await cadre.get("/fill-sheets/dibao-dongtai.xlsx", params={"region": village})).content
        unchanged = await cadre.post("/fill-sheets", content=sheet, headers={"content-type": XLSX})
    assert unchanged.status_code == 200, unchanged.json()
    cadre_log = (await graphql(client, LOG, {"u": "dongxing"}))["accessLog"]["nodes"][0]
    # The rows are read back as the cadre sees them: the form's sensitive fields were read.
    assert cadre_log == {"operationType": "mutation", "operationName": "fillSheetUpload dibao-dongtai",
                         "sensitiveFields": ["Household.phone", "Household.subsidyMonthly", "Person.idNumber"],
                         "rowCount": unchanged.json()["rows"], "outcome": "ok"}
    assert cadre_log["rowCount"] > 0


async def test_an_import_from_the_command_line_is_refused_and_logged_as_one_over_http(as_user, client, settings, tmp_path, monkeypatch):
    from hub.cli import main

    village = await region_code(client, "东星社区")
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(xlsx_with_sheet(sheet_xml(ledger_rows(3))))
    async with as_user("zhujian") as housing:  # reads ID numbers masked: matching would rebuild them
        over_http = await housing.post("/imports", params={"village": village}, content=path.read_bytes(), headers={"content-type": XLSX})
    monkeypatch.setenv("HUB_DATABASE_URL", settings.database_url)
    with pytest.raises(SystemExit) as stopped:  # the command runs its own event loop: give it a thread
        await asyncio.to_thread(main, ["import", str(path), "--as", "zhujian", "--village", village])
    assert (over_http.status_code, str(stopped.value)) == (403, over_http.json()["errors"][0]["message"])
    await asyncio.to_thread(main, ["import", str(path), "--as", "dongxing", "--village", village])
    refused = (await graphql(client, LOG, {"u": "zhujian"}))["accessLog"]["nodes"][0]
    done = (await graphql(client, LOG, {"u": "dongxing"}))["accessLog"]["nodes"][0]
    assert refused == {"operationType": "query", "operationName": f"legacyImport {village} person dryRun",
                       "sensitiveFields": MAPPED_SENSITIVE, "rowCount": 0, "outcome": "refused"}
    assert done == {"operationType": "query", "operationName": f"legacyImport {village} person dryRun",
                    "sensitiveFields": MAPPED_SENSITIVE, "rowCount": 3, "outcome": "ok"}


# --- a held SQLite writer ------------------------------------------------------------

UPDATE = "mutation($id: ID!, $v: Int!) { updatePerson(id: $id, version: $v, input: {employer: \"新单位\"}) { errors { code } } }"


async def test_writes_while_the_writer_is_held_answer_503_with_retry_after(as_user, client, engine, settings):
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL has no single writer lock: writes to other rows go ahead")
    village = await region_code(client, "东星社区")
    person = (await graphql(client, "query($c: String) { persons(regionCode: $c, first: 1) { nodes { id version employer } } }", {"c": village}))["persons"]["nodes"][0]
    number = "35030419800101105"
    ledger = xlsx_with_sheet(sheet_xml([HEADERS, ["陈新人", number + id_number_check_char(number)]]))
    before = await counts(engine)
    async with engine.connect() as holder, as_user("dongxing") as cadre:
        await holder.execute(text("BEGIN IMMEDIATE"))  # as a long import holds it
        try:
            update, imported = await asyncio.wait_for(asyncio.gather(
                cadre.post("/graphql", json={"query": UPDATE, "variables": {"id": person["id"], "v": person["version"]}}),
                cadre.post("/imports", params={"village": village, "apply": "true"}, content=ledger, headers={"content-type": XLSX}),
            ), 60)
        finally:
            await holder.rollback()
    assert (update.status_code, update.headers["retry-after"]) == (503, "5")
    assert update.json()["errors"][0]["message"] == BUSY_MESSAGE
    assert update.json()["errors"][0]["extensions"]["code"] == "DATABASE_BUSY"
    assert (imported.status_code, imported.headers["retry-after"]) == (503, "5")
    assert imported.json() == {"errors": [{"message": BUSY_MESSAGE, "code": "DATABASE_BUSY"}]}
    assert await counts(engine) == before
    again = (await graphql(client, "query($id: ID!) { person(id: $id) { version employer } }", {"id": person["id"]}))["person"]
    assert again == {"version": person["version"], "employer": person["employer"]}
