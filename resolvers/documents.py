"""Documents through GraphQL: the unit's own list, one document as the caller may read it, and a
workbook's rows for analysis — headers, pages of rows, filters and column totals — each read
checked against the grants and logged."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, select
from strawberry.types import Info

from hub.data.models import DocumentCategory, DocumentKind, GrantMode
from hub.domain import document_grants as grants_domain
from hub.domain import documents as domain
from hub.domain.context import Context
from hub.domain.documents import DocumentRefused, my_unit
from hub.forms import document_pages
from hub.forms.document_pages import cell_text
from resolvers.errors import UserInputError
from resolvers.pages import root_page
from resolvers.pagination import Page

MAX_ROWS_PER_PAGE = 500


class DocumentError(UserInputError):
    """A refused read, with its own code (NOT_FOUND, GRANT_EXPIRED, VIEW_ONLY, …) beside the Chinese reason."""

    def __init__(self, refused: DocumentRefused) -> None:
        super().__init__(str(refused))
        self.code = refused.code


async def reach(ctx: Context, document_id: int, number: int | None = None) -> grants_domain.Access:
    try:
        return await grants_domain.reach(ctx, document_id, number)
    except DocumentRefused as refused:
        raise DocumentError(refused) from None


async def document(ctx: Context, document_id: int) -> Any:
    """The document if the caller owns or is granted it now; none when it is not theirs to know of."""
    try:
        return (await grants_domain.reach(ctx, document_id)).document
    except DocumentRefused as refused:
        if refused.code == "NOT_FOUND":
            return None
        raise DocumentError(refused) from None


async def own_documents(
    info: Info, category: DocumentCategory | None, year: int | None, withdrawn: bool, first: int | None, after: str | None
) -> Page:
    ctx = info.context
    where: list[ColumnElement[bool]] = [domain.documents.c.owner_unit_id == my_unit(ctx.caller)]
    if category is not None:
        where.append(domain.documents.c.category == category)
    if year is not None:
        where.append(domain.documents.c.year == year)
    if not withdrawn:
        where.append(domain.documents.c.withdrawn_at.is_(None))
    return await root_page(info, "Document", domain.documents.c.id, where, first, after, None, descending=True)


async def owner_only(ctx: Context, document_id: int, what: str, field: str) -> grants_domain.Access:
    access = await reach(ctx, document_id)
    if access.grant_id is not None:
        raise UserInputError(f"只有文档所属单位能查看{what}", field=field)
    return access


async def versions(ctx: Context, document_id: int) -> list[Any]:
    """Every version for the owner unit; the latest alone for a grantee."""
    access = await reach(ctx, document_id)
    if access.grant_id is not None:
        return [access.version]
    stmt = select(domain.versions).where(domain.versions.c.document_id == document_id).order_by(domain.versions.c.number)
    return list(await ctx.read(stmt))


async def read_log(ctx: Context, document_id: int, first: int) -> list[Any]:
    await owner_only(ctx, document_id, "访问记录", "readLog")
    entries = domain.access_entries
    return list(await ctx.read(select(entries).where(entries.c.document_id == document_id).order_by(entries.c.id.desc()).limit(first)))


@dataclass
class OpenFile:
    """A version as one caller reads it in one request: what the grant allows, and the preview when it is data."""

    access: grants_domain.Access
    preview: dict[str, Any] | None

    async def log(self, ctx: Context, part: str, action: str = "VIEW") -> None:
        await domain.record_read(ctx, self.access.document.id, self.access.version.number, self.access.grant_id, action, part)


# Parsed previews by blob key: content-addressed, so a key's preview never changes. A few only: a large workbook's is large.
_previews: OrderedDict[str, dict[str, Any]] = OrderedDict()
PREVIEWS_KEPT = 4


async def _preview(ctx: Context, key: str) -> dict[str, Any]:
    if key in _previews:
        _previews.move_to_end(key)
        return _previews[key]
    parsed = _previews[key] = orjson.loads(await ctx.blobs.get(key) or b"{}")
    while len(_previews) > PREVIEWS_KEPT:
        _previews.popitem(last=False)
    return parsed


async def open_file(ctx: Context, document_id: int, number: int | None) -> OpenFile:
    access = await reach(ctx, document_id, number)
    version = access.version
    preview = await _preview(ctx, version.preview_key) if version.kind in (DocumentKind.XLSX, DocumentKind.DOCX) else None
    return OpenFile(access, preview)


async def layout(ctx: Context, opened: OpenFile) -> document_pages.Layout:
    """How a workbook or a Word document is cut into page images (made once per file, then kept)."""
    version = opened.access.version
    return await document_pages.layout_of(ctx.blobs, version.kind, version.preview_key)


def may_download(opened: OpenFile) -> bool:
    return opened.access.mode is GrantMode.DOWNLOAD


# --- a workbook's rows: the analyst's filters and totals -------------------------------

LETTERS = re.compile(r"[A-Z]{1,3}")


def column_index(sheet: dict[str, Any], header: list[str], column: str, header_row: int, field: str = "column") -> int:
    """A column by its header text, or by its letter (A, B, …, AA)."""
    wanted = column.strip()
    for index, name in enumerate(header):
        if name.strip() == wanted:
            return index
    if LETTERS.fullmatch(wanted):
        index = 0
        for letter in wanted:
            index = index * 26 + ord(letter) - 64
        return index - 1
    raise UserInputError(f"{field}：工作表“{sheet['name']}”第 {header_row} 行（表头）中没有名为“{column}”的列", field=field)


def header_of(sheet: dict[str, Any], header_row: int) -> list[str]:
    rows = sheet["rows"]
    if not 1 <= header_row <= max(len(rows), 1):
        raise UserInputError(f"headerRow：工作表“{sheet['name']}”只有 {len(rows)} 行，没有第 {header_row} 行", field="headerRow")
    return [cell_text(v) or "" for v in (rows[header_row - 1] if rows else [])]


@dataclass(frozen=True)
class CellFilter:
    column: str
    equals: str | None
    contains: str | None


def matching_rows(sheet: dict[str, Any], header_row: int, filters: list[CellFilter]) -> list[tuple[int, list[Any]]]:
    """(row number in the sheet, values) of the rows under the header that pass every filter."""
    header = header_of(sheet, header_row)
    tests: list[Callable[[list[Any]], bool]] = []
    for f in filters:
        index = column_index(sheet, header, f.column, header_row, "where.column")

        def passes(values: list[Any], index: int = index, f: CellFilter = f) -> bool:
            text = cell_text(values[index] if index < len(values) else None) or ""
            return (f.equals is None or text == f.equals) and (f.contains is None or f.contains in text)

        tests.append(passes)
    return [
        (number, values)
        for number, values in enumerate(sheet["rows"][header_row:], header_row + 1)
        if any(v is not None for v in values) and all(test(values) for test in tests)
    ]


def number_of(value: Any) -> float | None:
    """A cell as a number: numbers as they are, text such as “1,234.5” too (ledgers often type numbers as text)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).replace(",", "").replace("，", "").strip())
    except ValueError:
        return None


def sheet_of(opened: OpenFile, name: str | None, index: int | None) -> tuple[int, dict[str, Any]]:
    sheets = (opened.preview or {}).get("sheets", [])
    for position, sheet in enumerate(sheets):
        if (name is not None and sheet["name"] == name) or (name is None and position == (index or 0)):
            return position, sheet
    asked = f"名为“{name}”" if name is not None else f"第 {(index or 0) + 1} 个"
    raise UserInputError(f"sheet：文件中没有{asked}的工作表", field="sheet")
