"""西天尾镇's document centre: its 2024 flood inspection material, shared with 应急管理局 for viewing online.

The town's centre uploaded a 汛前检查报告 (a PDF, revised once: two versions), the villages'
检查台账 (an xlsx, one row per village) and the 防汛工作会议纪要 (a docx). It granted
应急管理局 view-only access to all its 2024 检查材料 and to the minutes, until the end of
2026, so `yingji` finds them under "shared with me" and reads them page by page, watermarked.
Written only with a blob store (the files live there); the same rows on every run.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import zipfile
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.data.blobs import BlobStore
from hub.data.identifiers import subtree_bounds
from hub.data.models import (
    Document,
    DocumentCategory,
    DocumentGrant,
    DocumentVersion,
    GrantMode,
    OrgUnit,
    Region,
    RegionLevel,
)
from hub.demo.drawing import CHINA_TZ
from hub.forms.document_files import font, inspect

TOWN = "西天尾镇"
OWNER = "西天尾镇基层治理协同中心"
GRANTEE = "应急管理局"
GRANTED_FROM, GRANTED_UNTIL = dt.date(2026, 10, 15), dt.date(2026, 12, 31)
UPLOADER = "xitianwei"


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=CHINA_TZ).astimezone(dt.UTC)


def inspection_report(villages: list[str], revised: bool) -> bytes:
    """A scanned-looking report: A4 pages at 150 dpi, a title, findings per village; the revision adds a page."""
    pages = []
    lines = [f"{name}：山塘、低洼易涝点、危旧房已逐一排查，问题已列入台账并明确整改时限。" for name in villages]
    chunks = [lines[:9], lines[9:]] if revised else [lines[:9]]
    for number, chunk in enumerate(chunks, 1):
        page = Image.new("RGB", (1240, 1754), "white")
        draw = ImageDraw.Draw(page)
        if number == 1:
            draw.text((620, 160), "西天尾镇2024年汛前检查报告" + ("（修订）" if revised else ""), font=font(48, bold=True), fill="black", anchor="mm")
            draw.text((620, 240), "西天尾镇基层治理协同中心　2024年5月", font=font(26), fill=(60, 60, 60), anchor="mm")
        for row, line in enumerate(chunk):
            draw.text((130, 340 + row * 120), line[:33], font=font(28), fill="black")
            draw.text((130, 386 + row * 120), line[33:], font=font(28), fill="black")
        draw.text((620, 1680), f"第 {number} 页", font=font(22), fill=(90, 90, 90), anchor="mm")
        pages.append(page)
    out = io.BytesIO()
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], resolution=150)
    return out.getvalue()


def inspection_ledger(rng: random.Random, villages: list[str]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "汛前检查台账"
    sheet.append(["村（社区）", "检查日期", "隐患点（处）", "已整改（处）", "转移预案", "受威胁人口", "责任人"])
    for index, name in enumerate(villages):
        found = rng.randint(1, 6)
        sheet.append([
            name, dt.date(2024, 5, 6 + index % 20), found, found - rng.randint(0, 1), "已修订" if index % 4 else "待修订",
            rng.randint(20, 260), rng.choice("林黄陈吴郑李") + rng.choice(["建国", "秀兰", "志明", "丽娟", "文辉", "国栋"]),
        ])
    sheet.column_dimensions["A"].width = 14
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx(paragraphs: list[tuple[str | None, str]], table: list[list[str]] | None = None) -> bytes:
    """A Word document of (style id, text) paragraphs and a table; style "1"/"2" are named "heading 1"/"heading 2",
    as a Chinese Word names them. Small, but Word and WPS open it."""
    body = []
    for style, text in paragraphs:
        props = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
        body.append(f"<w:p>{props}<w:r><w:t>{escape(text)}</w:t></w:r></w:p>")
    if table:
        rows = "".join("<w:tr>" + "".join(f"<w:tc><w:p><w:r><w:t>{escape(c)}</w:t></w:r></w:p></w:tc>" for c in row) + "</w:tr>" for row in table)
        body.append(f'<w:tbl><w:tblPr><w:tblBorders><w:insideH w:val="single"/></w:tblBorders></w:tblPr>{rows}</w:tbl>')
    package = "http://schemas.openxmlformats.org/package/2006"
    office = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    members = {  # document.xml second: tests read it from there
        "[Content_Types].xml": f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{package}/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
        '<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/></Types>',
        "word/document.xml": f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W}"><w:body>{"".join(body)}</w:body></w:document>',
        "word/styles.xml": f'<?xml version="1.0" encoding="UTF-8"?><w:styles xmlns:w="{W}">'
        '<w:style w:type="paragraph" w:styleId="1"><w:name w:val="heading 1"/></w:style>'
        '<w:style w:type="paragraph" w:styleId="2"><w:name w:val="heading 2"/></w:style></w:styles>',
        "_rels/.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{package}/relationships">'
        f'<Relationship Id="rId1" Type="{office}/officeDocument" Target="word/document.xml"/></Relationships>',
        "word/_rels/document.xml.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{package}/relationships">'
        f'<Relationship Id="rId1" Type="{office}/styles" Target="styles.xml"/></Relationships>',
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text.encode("utf-8"))
    return out.getvalue()


def meeting_minutes(villages: list[str]) -> bytes:
    return docx([
        ("1", "西天尾镇2024年防汛工作会议纪要"),
        (None, "时间：2024年5月15日上午9时　地点：镇政府三楼会议室　主持：镇长"),
        (None, "参加：镇防汛办、应急办、各村（社区）党组织书记、驻村干部。"),
        ("2", "一、汛前检查"),
        (None, f"会议通报了汛前检查情况：全镇 {len(villages)} 个村（社区）已完成山塘水库、地质灾害隐患点、低洼易涝区和危旧房屋排查，"
               "问题清单已录入资料文档中心，各村须在5月31日前完成整改并上传整改照片。"),
        ("2", "二、人员转移"),
        (None, "遇暴雨红色预警或台风登陆前，由村干部、网格员逐户通知危险区域群众转移，做到应转尽转、不落一人；"
               "转移安置点须提前备足物资，落实专人值守。"),
        ("2", "三、值班值守"),
        (None, "主汛期实行24小时值班和领导带班制度，险情信息第一时间报镇防汛办，不得迟报、漏报、瞒报。"),
    ], [["事项", "责任单位", "完成时限"], ["隐患整改", "各村（社区）", "2024年5月31日"], ["物资储备", "镇应急办", "2024年6月10日"]])


async def seed_documents(conn: AsyncConnection, seed: int, store: BlobStore | None) -> dict[str, int]:
    counts = {"documents": 0, "document_versions": 0, "document_grants": 0}
    if store is None:
        return counts
    rng = random.Random(seed * 37 + 5)
    town = (await conn.execute(select(Region.__table__).where(Region.name == TOWN, Region.level == RegionLevel.TOWN))).one()
    low, high = subtree_bounds(town.code, town.level)
    villages = list((await conn.execute(
        select(Region.name).where(Region.level == RegionLevel.VILLAGE, Region.code.between(low, high)).order_by(Region.code)
    )).scalars())
    units = dict((await conn.execute(select(OrgUnit.name, OrgUnit.id).where(OrgUnit.name.in_([OWNER, GRANTEE])))).all())
    uploads: list[tuple[str, DocumentCategory, list[tuple[str, bytes, dt.date]]]] = [
        ("2024年汛前检查报告", DocumentCategory.INSPECTION, [
            ("汛前检查报告（初稿）.pdf", inspection_report(villages, revised=False), dt.date(2024, 5, 20)),
            ("汛前检查报告.pdf", inspection_report(villages, revised=True), dt.date(2024, 5, 28)),
        ]),
        ("2024年汛前检查台账", DocumentCategory.INSPECTION, [("汛前检查台账.xlsx", inspection_ledger(rng, villages), dt.date(2024, 5, 28))]),
        ("2024年防汛工作会议纪要", DocumentCategory.MEETING_MINUTES, [("防汛工作会议纪要.docx", meeting_minutes(villages), dt.date(2024, 5, 16))]),
    ]
    ids = []
    for title, category, files in uploads:
        first_day, last_day = files[0][2], files[-1][2]
        document_id = (await conn.execute(Document.__table__.insert().values(
            title=title, category=category, region_id=town.id, year=2024, tags="防汛,汛前检查", owner_unit_id=units[OWNER],
            latest_number=len(files), created_by=UPLOADER, created_at=_at(first_day, 10), version=1, updated_at=_at(last_day, 10),
        ).returning(Document.id))).scalar_one()
        for number, (file_name, data, day) in enumerate(files, 1):
            await _add_version(conn, store, document_id, number, file_name, data, _at(day, 10))
            counts["document_versions"] += 1
        ids.append(document_id)
        counts["documents"] += 1
    common: dict[str, Any] = {
        "owner_unit_id": units[OWNER], "grantee_unit_id": units[GRANTEE], "valid_from": GRANTED_FROM, "valid_until": GRANTED_UNTIL,
        "mode": GrantMode.VIEW, "granted_by": UPLOADER, "granted_at": _at(GRANTED_FROM, 9),
    }
    for subject in (  # all its 2024 检查材料 (later uploads too), and the minutes alone
        {"category": DocumentCategory.INSPECTION, "year": 2024, "purpose": "2026年度防汛工作检查（核查2024年汛前检查材料）"},
        {"document_id": ids[-1], "purpose": "2026年度防汛工作检查（会议部署情况）"},
    ):
        await conn.execute(DocumentGrant.__table__.insert().values(**common, **subject))
        counts["document_grants"] += 1
    return counts


async def _add_version(conn: AsyncConnection, store: BlobStore, document_id: int, number: int, file_name: str, data: bytes, at: dt.datetime) -> None:
    facts = inspect(data)  # the same checks and previews as an upload
    blob_key, _ = await store.put(data)
    preview_key = None if facts.preview is None else (await store.put(facts.preview))[0]
    await conn.execute(DocumentVersion.__table__.insert().values(
        document_id=document_id, number=number, kind=facts.kind, file_name=file_name, size_bytes=len(data), page_count=facts.pages,
        blob_key=blob_key, preview_key=preview_key, uploaded_by=UPLOADER, uploaded_at=at,
    ))
