"""Documents (资料文档), their versions, grants to read them, and a workbook's rows for online analysis.

Files are uploaded with `POST /documents` (a new version: `POST /documents/{id}/versions`);
pages are seen as watermarked images (`pageUrls`), workbooks and Word documents as data
here. Every read checks the grants again and is logged for the owner unit.
"""

from __future__ import annotations

import datetime as dt
import enum
import time
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy import true
from strawberry.types import Info

from hub import clock
from hub.data import models
from hub.domain import document_grants as grants_domain
from hub.domain import documents as domain
from hub.domain.context import then
from hub.forms.document_pages import cell_text
from resolvers import documents as resolvers
from resolvers import regions
from resolvers.dataloaders import RowByKey
from resolvers.errors import UserInputError, int_id
from schema.connections import Connection
from schema.errors import FieldError, field_errors
from schema.fields import After, First, RecordId, Version, column, gql_enum

if TYPE_CHECKING:
    from schema.regions import Region

d = models.Document.__table__.c
v = models.DocumentVersion.__table__.c
g = models.DocumentGrant.__table__.c
a = models.DocumentAccess.__table__.c

DocumentCategory = gql_enum(models.DocumentCategory, "文档类别")
DocumentKind = gql_enum(models.DocumentKind, "文件类型（按文件内容判断）")
GrantMode = gql_enum(models.GrantMode, "授权方式")
ORG_UNIT_BY_ID = RowByKey(models.OrgUnit.__table__.c.id, lambda _: true())


@strawberry.enum(description="授权状态")
class GrantStatus(enum.Enum):
    ACTIVE = strawberry.enum_value("ACTIVE", description="有效")
    NOT_STARTED = strawberry.enum_value("NOT_STARTED", description="未到生效日期")
    EXPIRED = strawberry.enum_value("EXPIRED", description="已到期")
    REVOKED = strawberry.enum_value("REVOKED", description="已撤销")


@strawberry.enum(description="文档内容块的类型")
class BlockKind(enum.Enum):
    HEADING = strawberry.enum_value("HEADING", description="标题")
    PARAGRAPH = strawberry.enum_value("PARAGRAPH", description="段落")
    TABLE = strawberry.enum_value("TABLE", description="表格")


@strawberry.type(description="Word 文档的一块内容：标题、段落或表格（纯文本，不含任何格式或脚本）")
class DocumentBlock:
    kind: BlockKind = strawberry.field(description="类型")
    level: int = strawberry.field(description="标题级别（1 为最高；段落和表格为 0）")
    text: str = strawberry.field(description="文字（表格按行、以制表符分列）")
    rows: list[list[str]] | None = strawberry.field(description="表格的各行各格（仅表格）")


@strawberry.type(description="工作表的一行")
class SheetRow:
    number: int = strawberry.field(description="在工作表中的行号")
    cells: list[str | None] = strawberry.field(description="各列的值（文字；数字不带千分位；日期为 ISO 格式）")


@strawberry.type(description="工作表的一页行")
class SheetRows:
    total_count: int = strawberry.field(description="符合条件的行数（不含表头及以上各行、空行）")
    rows: list[SheetRow] = strawberry.field(description="本页的行")


@strawberry.type(description="一列的合计")
class ColumnTotal:
    column: str = strawberry.field(description="列（表头文字）")
    sum: float = strawberry.field(description="合计（只计数字，及写成文字的数字）")
    numbers: int = strawberry.field(description="计入合计的格数")
    skipped: int = strawberry.field(description="非数字、未计入的非空格数")


@strawberry.input(description="按某列筛选行")
class CellFilterInput:
    column: str = strawberry.field(description="列：表头文字，或列字母（A、B、…）")
    equals: str | None = strawberry.field(default=None, description="等于（按显示的文字比较）")
    contains: str | None = strawberry.field(default=None, description="包含")


HeaderRow = Annotated[int, strawberry.argument(description="表头所在行（默认第 1 行）")]
Where = Annotated[list[CellFilterInput] | None, strawberry.argument(description="筛选条件（同时满足）")]


def _filters(where: list[CellFilterInput] | None) -> list[resolvers.CellFilter]:
    return [resolvers.CellFilter(f.column, f.equals, f.contains) for f in where or ()]


@strawberry.type(description="工作表：按页查看，可筛选、合计（每次读取都记入访问记录）")
class Sheet:
    index: int = strawberry.field(description="序号（从 0 起）")
    name: str = strawberry.field(description="工作表名称")
    row_count: int = strawberry.field(description="行数（含表头）")
    column_count: int = strawberry.field(description="列数")

    @strawberry.field(description="表头（所在行的各格文字）")
    async def header(self, info: Info, header_row: HeaderRow = 1) -> list[str]:
        header = resolvers.header_of(self.sheet, header_row)  # type: ignore[attr-defined]
        # Any row can be named the header: reading one is a view like any page of rows.
        await self.opened.log(info.context, f"工作表“{self.name}”第 {header_row} 行（表头）")  # type: ignore[attr-defined]
        return header

    @strawberry.field(description="本工作表各页图片的签名链接（表格逐页，带本人水印；页号与文件的 pageUrls 一致）")
    async def page_urls(self, info: Info) -> list[str]:
        opened = self.opened  # type: ignore[attr-defined]
        layout = await resolvers.layout(info.context, opened)
        version = opened.access.version
        return [_signed(info, page_path(version.document_id, version.number, page)) for page in layout.sheet_pages[self.index]]

    @strawberry.field(description="一页行（表头以下，跳过空行）")
    async def rows(
        self, info: Info, header_row: HeaderRow = 1,
        offset: Annotated[int, strawberry.argument(description="跳过的行数")] = 0,
        first: Annotated[int, strawberry.argument(description=f"每页行数（最多 {resolvers.MAX_ROWS_PER_PAGE}）")] = 50,
        where: Where = None,
    ) -> SheetRows:
        if not 0 <= first <= resolvers.MAX_ROWS_PER_PAGE or offset < 0:
            raise UserInputError(f"first 须在 0 到 {resolvers.MAX_ROWS_PER_PAGE} 之间，offset 不能为负数", field="first")
        matching = resolvers.matching_rows(self.sheet, header_row, _filters(where))  # type: ignore[attr-defined]
        page = matching[offset: offset + first]
        span = f"第 {page[0][0]}–{page[-1][0]} 行" if page else "（无符合条件的行）"
        await self.opened.log(info.context, f"工作表“{self.name}”{span}")  # type: ignore[attr-defined]
        return SheetRows(
            total_count=len(matching),
            rows=[SheetRow(number=n, cells=[cell_text(c) for c in values]) for n, values in page],
        )

    @strawberry.field(description="某列的合计（可先筛选行）：在线分析，不必下载")
    async def total(self, info: Info, column: Annotated[str, strawberry.argument(description="列：表头文字或列字母")],
                    header_row: HeaderRow = 1, where: Where = None) -> ColumnTotal:
        header = resolvers.header_of(self.sheet, header_row)  # type: ignore[attr-defined]
        index = resolvers.column_index(self.sheet, header, column, header_row)  # type: ignore[attr-defined]
        total, numbers, skipped = 0.0, 0, 0
        for _, values in resolvers.matching_rows(self.sheet, header_row, _filters(where)):  # type: ignore[attr-defined]
            value = values[index] if index < len(values) else None
            number = resolvers.number_of(value)
            if number is not None:
                total, numbers = total + number, numbers + 1
            elif value not in (None, ""):
                skipped += 1
        name = header[index] if index < len(header) and header[index] else column
        await self.opened.log(info.context, f"工作表“{self.name}”“{name}”列合计")  # type: ignore[attr-defined]
        return ColumnTotal(column=name, sum=round(total, 6), numbers=numbers, skipped=skipped)


def _sheet(opened: resolvers.OpenFile, index: int, sheet: dict[str, Any]) -> Sheet:
    rows = sheet["rows"]
    made = Sheet(index=index, name=sheet["name"], row_count=len(rows), column_count=max((len(r) for r in rows), default=0))
    made.sheet, made.opened = sheet, opened  # type: ignore[attr-defined]
    return made


@strawberry.type(description="一个版本的文件，按本人的授权打开：PDF 和图片按页看图，工作簿看表，Word 文档看文字")
class DocumentFile:
    number: int = strawberry.field(description="版本号")
    kind: DocumentKind = strawberry.field(description="文件类型")
    file_name: str = strawberry.field(description="文件名")
    size_bytes: int = strawberry.field(description="文件大小（字节）")
    page_count: int = strawberry.field(description="页数（工作簿为工作表数）")
    uploaded_by: str = strawberry.field(description="上传人")
    uploaded_at: dt.datetime = strawberry.field(description="上传时间")
    may_download: bool = strawberry.field(description="是否可以下载原文件")
    granted_until: dt.date | None = strawberry.field(description="授权截止日期（本单位的文档为空）")

    @strawberry.field(description="各页图片的签名链接（限时有效，只对本人有效；每页带本人姓名、单位和时间的水印）："
                      "PDF 逐页；图片一页；工作簿按工作表逐页成表（表头在每页重复）；Word 文档排版成页")
    async def page_urls(self, info: Info) -> list[str]:
        if self.kind in (DocumentKind.XLSX, DocumentKind.DOCX):
            pages = len((await resolvers.layout(info.context, self.opened)).pages)  # type: ignore[attr-defined]
        else:
            pages = self.page_count
        return [_signed(info, page_path(self.document_id, self.number, page)) for page in range(1, pages + 1)]  # type: ignore[attr-defined]

    @strawberry.field(description="下载原文件的签名链接（仅“查看和下载”授权）")
    def download_url(self, info: Info) -> str | None:
        return _signed(info, download_path(self.document_id, self.number)) if self.may_download else None  # type: ignore[attr-defined]

    @strawberry.field(description="工作表（xlsx）")
    def sheets(self) -> list[Sheet]:
        opened = self.opened  # type: ignore[attr-defined]
        return [_sheet(opened, i, s) for i, s in enumerate((opened.preview or {}).get("sheets", []))]

    @strawberry.field(description="一个工作表（xlsx）：按名称，或按序号（从 0 起）")
    def sheet(
        self,
        name: Annotated[str | None, strawberry.argument(description="工作表名称")] = None,
        index: Annotated[int | None, strawberry.argument(description="序号（从 0 起）")] = None,
    ) -> Sheet:
        position, sheet = resolvers.sheet_of(self.opened, name, index)  # type: ignore[attr-defined]
        return _sheet(self.opened, position, sheet)  # type: ignore[attr-defined]

    @strawberry.field(description="Word 文档的标题和正文（docx；纯文字）")
    async def blocks(self, info: Info) -> list[DocumentBlock]:
        opened = self.opened  # type: ignore[attr-defined]
        if self.kind is not DocumentKind.DOCX:
            return []
        await opened.log(info.context, "全文")
        return [
            DocumentBlock(kind=BlockKind[b["kind"]], level=b["level"], text=b["text"], rows=b.get("rows"))
            for b in opened.preview["blocks"]
        ]


def page_path(document_id: int, number: int, page: int) -> str:
    return f"/documents/{document_id}/versions/{number}/pages/{page}.png"


def download_path(document_id: int, number: int) -> str:
    return f"/documents/{document_id}/versions/{number}/file"


def _signed(info: Info, path: str) -> str:
    ctx = info.context
    return ctx.links.make(path, {}, ctx.caller.user_id, int(time.time()))


def _file(opened: resolvers.OpenFile) -> DocumentFile:
    version, access = opened.access.version, opened.access
    made = DocumentFile(
        number=version.number, kind=version.kind, file_name=version.file_name, size_bytes=version.size_bytes,
        page_count=version.page_count, uploaded_by=version.uploaded_by, uploaded_at=version.uploaded_at,
        may_download=resolvers.may_download(opened), granted_until=access.until,
    )
    made.document_id, made.opened = version.document_id, opened  # type: ignore[attr-defined]
    return made


@strawberry.type(description="文档的一个版本（元数据）")
class DocumentVersion:
    number: int = column(v.number)
    kind: DocumentKind = column(v.kind)
    file_name: str = column(v.file_name)
    size_bytes: int = column(v.size_bytes)
    page_count: int = column(v.page_count)
    uploaded_by: str = column(v.uploaded_by)
    uploaded_at: dt.datetime = column(v.uploaded_at)


@strawberry.type(description="一次查看或下载：谁、哪个单位、何时、哪个版本、哪些页或哪个工作表")
class DocumentRead:
    id: strawberry.ID = column(a.id, "记录ID")
    version_number: int = column(a.version_number)
    username: str = column(a.username)
    display_name: str = column(a.display_name)
    org_unit: str = column(a.org_unit)
    action: str = column(a.action)
    part: str = column(a.part)
    at: dt.datetime = column(a.at)
    grant_id: strawberry.ID | None = column(a.grant_id)


@strawberry.type(description="资料文档：上传单位所有；其他单位凭授权在线查阅")
class Document:
    id: strawberry.ID = column(d.id, "记录ID")
    title: str = column(d.title)
    category: DocumentCategory = column(d.category)
    year: int = column(d.year)
    latest_number: int = column(d.latest_number)
    created_by: str = column(d.created_by)
    created_at: dt.datetime = column(d.created_at)
    withdrawn_at: dt.datetime | None = column(d.withdrawn_at)
    version: int = column(d.version, "版本（元数据的修改版本，修改或撤回时带上）")

    @strawberry.field(description=d.tags.info["label"])
    def tags(self) -> list[str]:
        return domain.split_tags(self.tags or "")  # type: ignore[attr-defined]  # the row's column: text, comma-separated

    @strawberry.field(description="所属单位")
    def owner_unit(self, info: Info) -> str | None:
        return then(info.context.load_now(ORG_UNIT_BY_ID, self.owner_unit_id), lambda unit: unit and unit.name)  # type: ignore[attr-defined]

    @strawberry.field(description="涉及区划（在本人辖区之外时为空）")
    def region(self, info: Info) -> Annotated[Region, strawberry.lazy("schema.regions")] | None:
        return regions.region_by_id(info.context, self.region_id)  # type: ignore[attr-defined]

    @strawberry.field(description="打开一个版本（默认最新版；被授权方只能打开最新版）")
    async def file(self, info: Info, version: Annotated[int | None, strawberry.argument(description="版本号")] = None) -> DocumentFile:
        return _file(await resolvers.open_file(info.context, int(self.id), version))

    @strawberry.field(description="各版本（本单位看全部；被授权方只看最新版）")
    async def versions(self, info: Info) -> list[DocumentVersion]:
        return await resolvers.versions(info.context, int(self.id))  # type: ignore[return-value]

    @strawberry.field(description="对本文档的授权（仅本单位可看；含已到期、已撤销的）")
    async def grants(self, info: Info) -> list[DocumentGrant]:
        await resolvers.owner_only(info.context, int(self.id), "授权", "grants")
        return [_grant(row) for row in await grants_domain.grants_of_document(info.context, int(self.id))]

    @strawberry.field(description="访问记录：每次查看和下载，最新的在前（仅本单位可看）")
    async def read_log(self, info: Info, first: Annotated[int, strawberry.argument(description="条数（最多 1000）")] = 100) -> list[DocumentRead]:
        return await resolvers.read_log(info.context, int(self.id), min(max(first, 0), 1000))  # type: ignore[return-value]


@strawberry.type(description="文档授权：把一份文档或一组文档（类别 + 年度，可限区划）在一段时间内授权给一个单位或一个人")
class DocumentGrant:
    id: strawberry.ID = column(g.id, "记录ID")
    owner_unit: str = strawberry.field(description="授权单位")
    document_id: strawberry.ID | None = column(g.document_id, "文档的记录ID（授权一份文档时）")
    category: DocumentCategory | None = column(g.category)
    year: int | None = column(g.year)
    region_code: str | None = strawberry.field(description="区划代码（授权一组文档且限区划时）")
    grantee_unit: str | None = strawberry.field(description="被授权单位")
    grantee_username: str | None = strawberry.field(description="被授权人（用户名）")
    grantee_name: str | None = strawberry.field(description="被授权人（姓名）")
    valid_from: dt.date = column(g.valid_from)
    valid_until: dt.date = column(g.valid_until)
    purpose: str = column(g.purpose)
    mode: GrantMode = column(g.mode)
    granted_by: str = column(g.granted_by)
    granted_at: dt.datetime = column(g.granted_at)
    revoked_on: dt.date | None = column(g.revoked_on)
    revoked_by: str | None = column(g.revoked_by)
    status: GrantStatus = strawberry.field(description="状态（按今天）")

    @strawberry.field(description="现在凭本授权可查阅的文档（授权结束后为空）")
    async def documents(self, info: Info) -> list[Document]:
        return await grants_domain.documents_of_grant(info.context, self.row)  # type: ignore[attr-defined, return-value]


def _grant(row: Any) -> DocumentGrant:
    made = DocumentGrant(
        id=row.id, owner_unit=row.owner_unit, document_id=row.document_id, category=row.category, year=row.year,
        region_code=row.region_code, grantee_unit=row.grantee_unit, grantee_username=row.grantee_username,
        grantee_name=row.grantee_name, valid_from=row.valid_from, valid_until=row.valid_until, purpose=row.purpose,
        mode=row.mode, granted_by=row.granted_by, granted_at=row.granted_at, revoked_on=row.revoked_on,
        revoked_by=row.revoked_by, status=GrantStatus(grants_domain.status_of(row, clock.today()).value),
    )
    made.row = row  # type: ignore[attr-defined]
    return made


@strawberry.input(description="修改文档信息（只改传入的字段）")
class DocumentInput:
    title: str | None = strawberry.field(default=None, description=d.title.info["label"])
    category: DocumentCategory | None = strawberry.field(default=None, description=d.category.info["label"])
    region_code: str | None = strawberry.field(default=None, description="涉及区划的统计用区划代码")
    year: int | None = strawberry.field(default=None, description=d.year.info["label"])
    tags: list[str] | None = strawberry.field(default=None, description=d.tags.info["label"])


@strawberry.input(description="新的文档授权：一份文档（documentId），或一组文档（category + year，可加 regionCode）；给一个单位或一个人")
class DocumentGrantInput:
    document_id: strawberry.ID | None = strawberry.field(default=None, description="文档的记录ID")
    category: DocumentCategory | None = strawberry.field(default=None, description="类别（授权一组文档）")
    year: int | None = strawberry.field(default=None, description="年度（授权一组文档）")
    region_code: str | None = strawberry.field(default=None, description="区划代码（授权一组文档时，只含该区划及下级的文档）")
    grantee_unit: str | None = strawberry.field(default=None, description="被授权单位名称（如：应急管理局）")
    grantee_username: str | None = strawberry.field(default=None, description="被授权人的用户名")
    valid_from: dt.date | None = strawberry.field(default=None, description="生效日期（默认今天）")
    valid_until: dt.date = strawberry.field(description="截止日期（含当天）")
    purpose: str = strawberry.field(description="用途（如：防汛检查、审计）")
    mode: GrantMode = strawberry.field(description="方式：仅在线查看，或查看和下载")


@strawberry.type(description="修改或撤回文档的结果：成功时返回文档，否则返回每个字段的错误（什么都没有写入）")
class DocumentPayload:
    document: Document | None = strawberry.field(description="文档")
    errors: list[FieldError] = strawberry.field(description="错误；为空表示成功")


@strawberry.type(description="授权或撤销授权的结果：成功时返回授权，否则返回每个字段的错误（什么都没有写入）")
class DocumentGrantPayload:
    grant: DocumentGrant | None = strawberry.field(description="授权")
    errors: list[FieldError] = strawberry.field(description="错误；为空表示成功")


@strawberry.type
class Query:
    @strawberry.field(description="按记录ID查文档（本单位的，或授权给本人、本单位且仍有效的）")
    async def document(self, info: Info, id: RecordId) -> Document | None:
        return await resolvers.document(info.context, int_id(id))

    @strawberry.field(description="本单位的文档，最新的在前")
    async def documents(
        self,
        info: Info,
        category: Annotated[DocumentCategory | None, strawberry.argument(description="类别")] = None,
        year: Annotated[int | None, strawberry.argument(description="年度")] = None,
        withdrawn: Annotated[bool, strawberry.argument(description="是否包括已撤回的")] = False,
        first: First = None,
        after: After = None,
    ) -> Connection[Document]:
        return await resolvers.own_documents(info, category, year, withdrawn, first, after)

    @strawberry.field(description="共享给我的：授权给本人或本单位的文档授权，最新的在前（含已结束的，可见结束日期）")
    async def shared_with_me(self, info: Info) -> list[DocumentGrant]:
        return [_grant(row) for row in await grants_domain.shared_with(info.context)]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="修改本单位文档的标题、类别、区划、年度、标签（文件另用 POST /documents/{id}/versions 上传新版本）", metadata={"writes": "Document"})
    async def update_document(self, info: Info, id: RecordId, version: Version, input: Annotated[DocumentInput, strawberry.argument(description="要修改的字段")]) -> DocumentPayload:
        given = {
            name: value for name, value in (
                ("title", input.title), ("category", input.category), ("regionCode", input.region_code), ("year", input.year), ("tags", input.tags),
            ) if value is not None
        }
        result = await domain.update_document(info.context, int_id(id), version, given)
        return DocumentPayload(document=result.record, errors=field_errors(result.problems))

    @strawberry.mutation(description="撤回本单位的文档：被授权方从此查不到它", metadata={"writes": "Document"})
    async def withdraw_document(self, info: Info, id: RecordId, version: Version) -> DocumentPayload:
        result = await domain.withdraw_document(info.context, int_id(id), version)
        return DocumentPayload(document=result.record, errors=field_errors(result.problems))

    @strawberry.mutation(description="授权查阅本单位的文档（一份或一组），限期、写明用途和方式", metadata={"writes": "Document"})
    async def grant_document_access(self, info: Info, input: Annotated[DocumentGrantInput, strawberry.argument(description="授权")]) -> DocumentGrantPayload:
        result = await grants_domain.grant_access(info.context, {
            "document_id": None if input.document_id is None else int_id(input.document_id, "documentId"),
            "category": input.category, "year": input.year, "region_code": input.region_code,
            "grantee_unit": input.grantee_unit, "grantee_username": input.grantee_username,
            "valid_from": input.valid_from, "valid_until": input.valid_until, "purpose": input.purpose, "mode": input.mode,
        })
        return DocumentGrantPayload(grant=result.record and _grant(result.record), errors=field_errors(result.problems))

    @strawberry.mutation(description="撤销本单位的一项文档授权（即日起不能再查阅）", metadata={"writes": "Document"})
    async def revoke_document_grant(self, info: Info, id: RecordId) -> DocumentGrantPayload:
        result = await grants_domain.revoke_grant(info.context, int_id(id))
        return DocumentGrantPayload(grant=result.record and _grant(result.record), errors=field_errors(result.problems))
