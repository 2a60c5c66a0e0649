"""The document centre: a town uploads its inspection material, grants a department time-limited online access;
every read checks the grant and is logged; bad files and bad grants are refused with nothing stored."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import orjson
from PIL import Image, ImageChops, ImageDraw
from sqlalchemy import func, select

from hub import clock
from hub.data.models import Document, DocumentGrant, DocumentVersion
from hub.forms import document_files, document_pages
from tests.conftest import graphql
from tests.support.document_files import docx, docx_bomb, encrypted_pdf, pdf, xlsx
from tests.test_events import code_of

UNTIL = dt.date(2026, 12, 31)
LEDGER = {"台账": [
    ["村（社区）", "受灾人口", "转移人数", "备注"],
    ["东星社区", 120, 30, "已核实"],
    ["溪白村", 85.5, 12, None],
    ["霞尾村", "1,040", 8, "数字写成了文字"],
    ["合计行之外", "待核", None, None],
]}
MINUTES = docx([("1", "防汛工作会议纪要"), ("2", "一、汛前检查"), (None, "各村完成隐患排查。")], [["村", "隐患"], ["东星社区", "2"]])
GRANT = """mutation($input: DocumentGrantInput!) { grantDocumentAccess(input: $input) {
  grant { id status mode validUntil granteeUnit documents { id title } } errors { field code message } } }"""
SHEET = """query($id: ID!, $column: String!, $where: [CellFilterInput!]) { document(id: $id) { title file {
  kind mayDownload downloadUrl grantedUntil
  sheet(index: 0) { name header rowCount
    rows(first: 2) { totalCount rows { number cells } }
    total(column: $column, where: $where) { column sum numbers skipped } } } } }"""
PAGES = """query($id: ID!) { document(id: $id) { file { pageUrls sheets { name pageUrls } } } }"""
READ_LOG = """query($id: ID!) { document(id: $id) { readLog { username displayName orgUnit versionNumber action part } } }"""


async def upload(client, data: bytes, file_name: str, **meta: str):
    params = {"title": "2024年防汛检查材料", "category": "INSPECTION", "year": "2024", "tags": "防汛,检查", "fileName": file_name} | meta
    return await client.post("/documents", params=params, content=data, headers={"content-type": "application/octet-stream"})


async def uploaded(client, engine, data: bytes, file_name: str, **meta: str) -> dict:
    meta.setdefault("regionCode", await code_of(engine, "西天尾镇"))
    response = await upload(client, data, file_name, **meta)
    assert response.status_code == 201, response.json()
    return response.json()["document"]


async def stored(app, engine) -> tuple[int, int, int, int]:
    async with engine.connect() as connection:
        counts = [
            (await connection.execute(select(func.count()).select_from(table))).scalar_one()
            for table in (Document.__table__, DocumentVersion.__table__, DocumentGrant.__table__)
        ]
    return (*counts, app.state.blobs.count())


def shown_as(response, data: bytes, number: int, viewer: tuple[str, str]) -> Image.Image:
    """The page image answered, checked to be exactly the file's page `number` stamped with the viewer and the minute."""
    assert response.status_code == 200, response.json()
    assert (response.headers["content-type"], response.headers["x-content-type-options"]) == ("image/png", "nosniff")
    facts = document_files.inspect(data)
    layout = document_pages.lay_out(facts.kind, orjson.loads(facts.preview))
    shown = Image.open(io.BytesIO(response.content)).convert("RGB")
    now = dt.datetime.now(dt.UTC)
    expected = [Image.open(io.BytesIO(document_pages.render(layout, number, document_files.watermark_text(*viewer, t)))).tobytes()
                for t in (now, now - dt.timedelta(minutes=1))]
    assert shown.size == document_pages.PAGE_SIZE and shown.tobytes() in expected
    unstamped = Image.new("RGB", document_pages.PAGE_SIZE, "white")
    layout.pages[number - 1](ImageDraw.Draw(unstamped))
    changed = ImageChops.difference(shown, unstamped).convert("L").point(lambda p: 255 if p > 8 else 0).histogram()[255]
    assert changed > 0.01 * shown.width * shown.height  # the watermark covers the page
    return shown


def errors_of(response) -> list[dict]:
    return response.json()["errors"]


async def test_a_town_grants_emergency_management_view_only_access_to_its_flood_inspection(app, as_user, engine):
    the_pdf = pdf(3)
    async with as_user("xitianwei") as town:
        report = await uploaded(town, engine, the_pdf, "防汛检查报告.pdf")
        ledger = await uploaded(town, engine, xlsx(LEDGER), "台账.xlsx", title="2024年防汛受灾台账")
        minutes = await uploaded(town, engine, docx([("1", "防汛工作会议纪要"), (None, "会议研究了汛前检查。")]), "纪要.docx",
                                 category="MEETING_MINUTES", title="防汛会议纪要")
        assert (report["kind"], report["pages"], report["version"], ledger["kind"]) == ("PDF", 3, 1, "XLSX")
        granted = (await graphql(town, GRANT, {"input": {
            "category": "INSPECTION", "year": 2024, "granteeUnit": "应急管理局", "validUntil": str(UNTIL), "purpose": "防汛检查", "mode": "VIEW",
        }}))["grantDocumentAccess"]
    assert granted["errors"] == []
    assert granted["grant"]["status"] == "ACTIVE" and granted["grant"]["granteeUnit"] == "应急管理局"
    assert {report["id"], ledger["id"]} <= {d["id"] for d in granted["grant"]["documents"]}
    assert minutes["id"] not in {d["id"] for d in granted["grant"]["documents"]}

    async with as_user("yingji") as analyst:
        shared = (await graphql(analyst, "{ sharedWithMe { id ownerUnit status purpose documents { id title } } }"))["sharedWithMe"]
        mine = [s for s in shared if s["id"] == granted["grant"]["id"]][0]
        assert (mine["ownerUnit"], mine["status"], mine["purpose"]) == ("西天尾镇基层治理协同中心", "ACTIVE", "防汛检查")

        # Page 2 of the PDF, as an image stamped with the analyst's name, unit and the time.
        opened = (await graphql(analyst, "query($id: ID!) { document(id: $id) { file { pageCount pageUrls mayDownload downloadUrl } } }",
                                {"id": report["id"]}))["document"]["file"]
        assert (opened["pageCount"], len(opened["pageUrls"]), opened["mayDownload"], opened["downloadUrl"]) == (3, 3, False, None)
        page = await analyst.get(opened["pageUrls"][1])
        assert page.status_code == 200, page.json()
        assert page.headers["content-type"] == "image/png"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in page.headers["content-security-policy"]
        shown = Image.open(io.BytesIO(page.content)).convert("RGB")
        plain = document_files.render_pdf_page(the_pdf, 2)
        assert shown.size == plain.size
        changed = ImageChops.difference(shown, plain).convert("L").point(lambda p: 255 if p > 8 else 0).histogram()[255]
        assert changed > 0.01 * shown.width * shown.height  # the watermark covers the page
        now = dt.datetime.now(dt.UTC)
        expected = [document_files.watermarked(plain, document_files.watermark_text("吴国栋", "应急管理局", t)).tobytes()
                    for t in (now, now - dt.timedelta(minutes=1))]
        assert shown.tobytes() in expected  # exactly the viewer's name, unit and the minute

        # The ledger, analysed online: header, a page of rows, a column's total.
        sheet = (await graphql(analyst, SHEET, {"id": ledger["id"], "column": "受灾人口"}))["document"]["file"]
        assert (sheet["kind"], sheet["mayDownload"], sheet["grantedUntil"]) == ("XLSX", False, str(UNTIL))
        assert sheet["sheet"]["header"] == ["村（社区）", "受灾人口", "转移人数", "备注"]
        assert sheet["sheet"]["rows"] == {"totalCount": 4, "rows": [
            {"number": 2, "cells": ["东星社区", "120", "30", "已核实"]}, {"number": 3, "cells": ["溪白村", "85.5", "12"]},
        ]}
        assert sheet["sheet"]["total"] == {"column": "受灾人口", "sum": 1245.5, "numbers": 3, "skipped": 1}
        filtered = (await graphql(analyst, SHEET, {"id": ledger["id"], "column": "C", "where": [{"column": "备注", "contains": "核"}]}))
        assert filtered["document"]["file"]["sheet"]["total"] == {"column": "转移人数", "sum": 30, "numbers": 1, "skipped": 0}

        # The ledger seen as a page too: a table with its header, watermarked like a PDF page.
        pages = (await graphql(analyst, PAGES, {"id": ledger["id"]}))["document"]["file"]
        assert len(pages["pageUrls"]) == 1 and pages["sheets"] == [{"name": "台账", "pageUrls": pages["pageUrls"]}]
        shown_as(await analyst.get(pages["pageUrls"][0]), xlsx(LEDGER), 1, ("吴国栋", "应急管理局"))
        beyond = await analyst.get(f"/documents/{ledger['id']}/versions/1/pages/2.png")
        assert (beyond.status_code, errors_of(beyond)) == (404, [{"message": "第 1 版没有第 2 页", "code": "NOT_FOUND"}])

        # Downloading under a view-only grant, another document, the read log: refused.
        refused = await analyst.get(f"/documents/{report['id']}/versions/1/file")
        assert (refused.status_code, errors_of(refused)) == (403, [{"message": f"授权方式为“仅在线查看”（有效期至 {UNTIL}），不能下载原文件", "code": "VIEW_ONLY"}])
        other = await analyst.get(f"/documents/{minutes['id']}/versions/1/pages/1.png")
        missing = await analyst.get("/documents/99999999/versions/1/pages/1.png")
        assert (other.status_code, errors_of(other)) == (404, [{"message": f"找不到 id 为 {minutes['id']} 的文档", "code": "NOT_FOUND"}])
        assert missing.status_code == 404 and errors_of(missing)[0]["code"] == "NOT_FOUND"
        assert (await graphql(analyst, "query($id: ID!) { document(id: $id) { id } }", {"id": minutes["id"]}))["document"] is None
        log_refused = (await analyst.post("/graphql", json={"query": READ_LOG, "variables": {"id": report["id"]}})).json()
        assert log_refused["errors"][0]["message"] == "只有文档所属单位能查看访问记录"

    # A department with no grant cannot tell the document from none.
    async with as_user("weijian") as stranger:
        page = await stranger.get(f"/documents/{report['id']}/versions/1/pages/2.png")
        assert (page.status_code, errors_of(page)) == (404, [{"message": f"找不到 id 为 {report['id']} 的文档", "code": "NOT_FOUND"}])

    # A new version: the grantee reads it, and only it.
    async with as_user("xitianwei") as town:
        response = await town.post(f"/documents/{report['id']}/versions", params={"fileName": "报告（修订）.pdf"}, content=pdf(2))
        assert response.status_code == 201 and response.json()["document"]["version"] == 2
    async with as_user("yingji") as analyst:
        old = await analyst.get(f"/documents/{report['id']}/versions/1/pages/1.png")
        assert (old.status_code, errors_of(old)) == (403, [{"message": "授权只包括最新版（第 2 版），不能查看第 1 版", "code": "VERSION_NOT_GRANTED"}])
        assert (await analyst.get(f"/documents/{report['id']}/versions/2/pages/2.png")).status_code == 200
        # Through GraphQL alike: the grant covers the latest version, whatever number was granted on.
        older = (await analyst.post("/graphql", json={"query": "query($id: ID!) { document(id: $id) { file(version: 1) { kind } } }",
                                                        "variables": {"id": report["id"]}})).json()
        assert [(e["message"], e["extensions"]["code"]) for e in older["errors"]] == [("授权只包括最新版（第 2 版），不能查看第 1 版", "VERSION_NOT_GRANTED")]
        listed = await graphql(analyst, "query($id: ID!) { document(id: $id) { versions { number } } }", {"id": report["id"]})
        assert listed["document"]["versions"] == [{"number": 2}]

    # After the grant's last day every read is refused, with the day it ended.
    ended = f"授权已于 {UNTIL} 到期，不能再查看或下载"
    with clock.pinned(UNTIL + dt.timedelta(days=1)):
        async with as_user("yingji") as analyst:
            page = await analyst.get(f"/documents/{report['id']}/versions/2/pages/1.png")
            assert (page.status_code, errors_of(page)) == (403, [{"message": ended, "code": "GRANT_EXPIRED"}])
            late = (await analyst.post("/graphql", json={"query": SHEET, "variables": {"id": ledger["id"], "column": "受灾人口"}})).json()
            assert [(e["message"], e["extensions"]["code"]) for e in late["errors"]] == [(ended, "GRANT_EXPIRED")]
            shared = (await graphql(analyst, "{ sharedWithMe { id status validUntil documents { id } } }"))["sharedWithMe"]
            assert [s for s in shared if s["id"] == granted["grant"]["id"]] == [
                {"id": granted["grant"]["id"], "status": "EXPIRED", "validUntil": str(UNTIL), "documents": []}]

    # The owner's log lists each view: who, which unit, which version, which page or sheet.
    async with as_user("xitianwei") as town:
        pdf_log = (await graphql(town, READ_LOG, {"id": report["id"]}))["document"]["readLog"]
        sheet_log = (await graphql(town, READ_LOG, {"id": ledger["id"]}))["document"]["readLog"]
    who = {"username": "yingji", "displayName": "吴国栋", "orgUnit": "应急管理局", "action": "VIEW"}
    assert pdf_log == [who | {"versionNumber": 2, "part": "第 2 页"}, who | {"versionNumber": 1, "part": "第 2 页"}]
    # (rows and total are sibling fields: they run, and are logged, in either order)
    assert sorted(sheet_log, key=lambda e: e["part"]) == [who | {"versionNumber": 1, "part": part} for part in sorted(
        ["工作表“台账”“转移人数”列合计", "工作表“台账”第 2–3 行", "工作表“台账”“受灾人口”列合计", "工作表“台账”第 2–3 行", "工作表“台账”第 2–5 行"]
        + ["工作表“台账”第 1 行（表头）"] * 2)]


async def test_a_grant_to_one_user_for_download_is_revoked(app, as_user, engine):
    async with as_user("xitianwei") as town:
        minutes = await uploaded(town, engine, MINUTES, "../../纪要<1>.docx", category="MEETING_MINUTES", title="防汛会议纪要（授权测试）")
        assert minutes["fileName"] == "纪要1.docx"
        granted = (await graphql(town, GRANT, {"input": {
            "documentId": minutes["id"], "granteeUsername": "minzheng", "validUntil": str(UNTIL), "purpose": "审计", "mode": "DOWNLOAD",
        }}))["grantDocumentAccess"]["grant"]
    async with as_user("minzheng") as auditor:
        read = (await graphql(auditor, "query($id: ID!) { document(id: $id) { file { blocks { kind level text rows } downloadUrl } } }",
                              {"id": minutes["id"]}))["document"]["file"]
        assert read["blocks"] == [
            {"kind": "HEADING", "level": 1, "text": "防汛工作会议纪要", "rows": None},
            {"kind": "HEADING", "level": 2, "text": "一、汛前检查", "rows": None},
            {"kind": "PARAGRAPH", "level": 0, "text": "各村完成隐患排查。", "rows": None},
            {"kind": "TABLE", "level": 0, "text": "村\t隐患\n东星社区\t2", "rows": [["村", "隐患"], ["东星社区", "2"]]},
        ]
        urls = (await graphql(auditor, PAGES, {"id": minutes["id"]}))["document"]["file"]
        assert (len(urls["pageUrls"]), urls["sheets"]) == (1, [])
        shown_as(await auditor.get(urls["pageUrls"][0]), MINUTES, 1, ("陈丽华", "民政局"))
        file = await auditor.get(read["downloadUrl"])
        assert file.status_code == 200
        assert file.headers["content-disposition"] == (
            f"attachment; filename=\"document-{minutes['id']}-v1.docx\"; filename*=UTF-8''%E7%BA%AA%E8%A6%811.docx"
        )
        assert file.headers["x-content-type-options"] == "nosniff"
        assert zipfile.ZipFile(io.BytesIO(file.content)).namelist()[1] == "word/document.xml"  # the file as uploaded
    async with as_user("xitianwei") as town:
        revoked = (await graphql(town, "mutation($id: ID!) { revokeDocumentGrant(id: $id) { grant { status revokedOn } errors { message } } }",
                                 {"id": granted["id"]}))["revokeDocumentGrant"]
        assert revoked == {"grant": {"status": "REVOKED", "revokedOn": str(clock.today())}, "errors": []}
        log = (await graphql(town, READ_LOG, {"id": minutes["id"]}))["document"]["readLog"]
        assert [(e["displayName"], e["orgUnit"], e["action"], e["part"]) for e in log] == [
            ("陈丽华", "民政局", "DOWNLOAD", "下载原文件"), ("陈丽华", "民政局", "VIEW", "第 1 页"), ("陈丽华", "民政局", "VIEW", "全文")]
    async with as_user("minzheng") as auditor:
        again = await auditor.get(f"/documents/{minutes['id']}/versions/1/file")
        assert (again.status_code, errors_of(again)) == (403, [{"message": f"授权已于 {clock.today()} 撤销，不能再查看或下载", "code": "GRANT_REVOKED"}])


async def test_the_owner_edits_and_withdraws_and_an_image_is_shown_watermarked(app, as_user, engine):
    image = io.BytesIO()
    Image.new("RGB", (2400, 1200), (40, 120, 40)).save(image, "PNG")
    async with as_user("dongxing") as village:
        photo = await uploaded(village, engine, image.getvalue(), "现场.png", category="PHOTO", title="堤坝现场", regionCode=await code_of(engine, "东星社区"))
        listed = (await graphql(village, "{ documents(category: PHOTO) { nodes { id title tags ownerUnit version region { name } } } }"))["documents"]["nodes"]
        mine = [d for d in listed if d["id"] == photo["id"]][0]
        assert mine | {"version": 1} == {"id": photo["id"], "title": "堤坝现场", "tags": ["防汛", "检查"], "ownerUnit": "东星社区居委会", "version": 1, "region": {"name": "东星社区"}}
        page = await village.get(f"/documents/{photo['id']}/versions/1/pages/1.png")
        shown = Image.open(io.BytesIO(page.content)).convert("RGB")
        assert shown.size == (1600, 800)  # resized as photos are
        assert len(shown.getcolors(1_000_000)) > 2  # the plain green, stamped
        edit = """mutation($id: ID!, $v: Int!, $input: DocumentInput!) { updateDocument(id: $id, version: $v, input: $input) {
          document { title tags version } errors { field code message currentVersion } } }"""
        edited = (await graphql(village, edit, {"id": photo["id"], "v": 1, "input": {"title": "堤坝现场照片", "tags": ["巡查"]}}))["updateDocument"]
        assert edited == {"document": {"title": "堤坝现场照片", "tags": ["巡查"], "version": 2}, "errors": []}
        stale = (await graphql(village, edit, {"id": photo["id"], "v": 1, "input": {"year": 1800}}))["updateDocument"]
        assert stale["errors"] == [{"field": "year", "code": "INVALID", "message": "year（年度）：须为 1949 到 2027 之间的年份，填写的是 1800", "currentVersion": None}]
        withdrawn = (await graphql(village, "mutation($id: ID!) { withdrawDocument(id: $id, version: 2) { document { withdrawnAt } errors { message } } }",
                                   {"id": photo["id"]}))["withdrawDocument"]
        assert withdrawn["errors"] == [] and withdrawn["document"]["withdrawnAt"]
        listed = (await graphql(village, "{ documents(category: PHOTO) { nodes { id } } }"))["documents"]["nodes"]
        assert photo["id"] not in {d["id"] for d in listed}
    async with as_user("xitianwei") as town:  # another unit's document: not found, not "forbidden"
        foreign = (await graphql(town, edit, {"id": photo["id"], "v": 3, "input": {"title": "改"}}))["updateDocument"]
        assert foreign["errors"][0]["message"] == f"id：找不到 id 为 {photo['id']} 的文档"


async def test_bad_files_are_refused_and_nothing_is_stored(app, as_user, engine):
    before = await stored(app, engine)
    bomb = docx_bomb()
    member = zipfile.ZipFile(io.BytesIO(bomb)).getinfo("word/document.xml")
    cases = [
        (b"MZ\x90\x00\x03" + bytes(2000), "台账.xlsx", 415, "UNSUPPORTED_MEDIA_TYPE", document_files.UNSUPPORTED),
        (encrypted_pdf(), "加密.pdf", 422, "ENCRYPTED_PDF", "PDF 文件已加密（设有密码或权限限制），无法在线查看：请去掉密码后重新导出再上传"),
        (pdf(2)[:-600], "残缺.pdf", 422, "CORRUPT_PDF", "PDF 文件已损坏，无法打开：请重新导出后上传"),
        (b"%PDF-1.7\nnot really", "假的.pdf", 422, "CORRUPT_PDF", "PDF 文件已损坏，无法打开：请重新导出后上传"),
        (bomb, "纪要.docx", 413, "FILE_TOO_LARGE",
         f"文件中的 word/document.xml 解压后达 40 MB，是压缩大小的 {member.file_size // member.compress_size} 倍，不像正常的文档，已拒收"),
        (b"", "空.pdf", 400, "EMPTY_FILE", "文件是空的（0 字节）：请选择要上传的文件"),
    ]
    assert len(bomb) < 100_000  # small on the wire
    async with as_user("xitianwei") as town:
        code = await code_of(engine, "西天尾镇")
        for data, name, status, error_code, message in cases:
            response = await upload(town, data, name, regionCode=code)
            assert (response.status_code, errors_of(response)) == (status, [{"message": message, "code": error_code}]), name
        unknown = await upload(town, pdf(1), "a.pdf", regionCode="350304999999", category="秘密", year="24")
        assert (unknown.status_code, errors_of(unknown)) == (422, [
            {"field": "category", "code": "INVALID", "message": "category（类别）：只能是 WORK_LEDGER（工作台账）、MEETING_MINUTES（会议纪要）、INSPECTION（检查材料）、POLICY（政策文件）、PHOTO（照片）、OTHER（其他），填写的是 秘密"},
            {"field": "year", "code": "INVALID", "message": "year（年度）：须为 1949 到 2027 之间的年份，填写的是 24"},
            {"field": "regionCode", "code": "NOT_FOUND", "message": "regionCode（涉及区划）：找不到代码为 350304999999 的区划"},
        ])
        not_mine = await town.post("/documents/99999999/versions", content=pdf(1))
        assert (not_mine.status_code, errors_of(not_mine)) == (404, [{"message": "找不到 id 为 99999999 的文档", "code": "NOT_FOUND"}])
    assert await stored(app, engine) == before


async def test_bad_grants_are_refused_and_nothing_is_stored(app, as_user, engine):
    async with as_user("dongxing") as village:
        theirs = await uploaded(village, engine, pdf(1), "村里的.pdf", regionCode=await code_of(engine, "东星社区"))
    async with as_user("xitianwei") as town:
        own = await uploaded(town, engine, pdf(1), "镇里的.pdf")
        before = await stored(app, engine)
        base = {"documentId": own["id"], "granteeUnit": "应急管理局", "validUntil": str(UNTIL), "purpose": "防汛检查", "mode": "VIEW"}
        cases = [
            ({"granteeUnit": "不存在局"}, [{"field": "granteeUnit", "code": "NOT_FOUND", "message": "granteeUnit（被授权单位）：找不到名为“不存在局”的单位"}]),
            ({"validFrom": "2026-12-10", "validUntil": "2026-12-01"},
             [{"field": "validUntil", "code": "INVALID", "message": "validUntil（截止日期）：不能早于生效日期 2026-12-10，填写的是 2026-12-01"}]),
            ({"documentId": theirs["id"]}, [{"field": "documentId", "code": "NOT_FOUND", "message": f"documentId：找不到 id 为 {theirs['id']} 的文档"}]),
            ({"documentId": None, "category": "INSPECTION"}, [{"field": "year", "code": "INVALID", "message": "year：指定一组文档须同时给出类别（category）和年度（year）"}]),
            ({"granteeUsername": "yingji"}, [{"field": "granteeUnit", "code": "INVALID", "message": "granteeUnit（被授权单位）：请指定被授权的单位（granteeUnit）或用户（granteeUsername），二选一"}]),
        ]
        for change, errors in cases:
            refused = (await graphql(town, GRANT, {"input": base | change}))["grantDocumentAccess"]
            assert refused == {"grant": None, "errors": errors}, change
        assert await stored(app, engine) == before
        foreign = (await graphql(town, "mutation { revokeDocumentGrant(id: \"99999999\") { errors { message } } }"))["revokeDocumentGrant"]
        assert foreign["errors"] == [{"message": "id：找不到 id 为 99999999 的授权"}]
