"""Documents (资料文档): a unit's uploaded files with their metadata and versions, and the log of who read them.

A document belongs to the org unit of whoever uploaded it — a town's centre, a village's
committee, a department — and only that unit lists, edits, withdraws it and adds versions;
to everyone else a document is found only through a grant (`document_grants`), and
otherwise does not exist. A new upload of the same document is a new version; the older
ones stay as they were. The file is stored by content (`hub.data.blobs`) together with its
row, or not at all: a refused or failed write takes back the blobs it added.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ScalarSelect, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub import clock
from hub.data.blobs import BlobStore
from hub.data.models import (
    Document,
    DocumentAccess,
    DocumentCategory,
    DocumentKind,
    DocumentVersion,
    Region,
    User,
)
from hub.domain.context import Context
from hub.domain.write_path import (
    FieldProblem,
    WriteResult,
    column_label,
    conflict,
    field_message,
)

documents = Document.__table__
versions = DocumentVersion.__table__
access_entries = DocumentAccess.__table__
regions = Region.__table__
users = User.__table__

FIRST_YEAR = 1949
MAX_TAGS = 10


class DocumentRefused(Exception):
    """A read or an upload that cannot be done: an HTTP status, a stable code, and the reason in Chinese."""

    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class FileFacts:
    """What checking an upload found (`hub.forms.document_files.inspect`)."""

    kind: DocumentKind
    pages: int  # a PDF's pages, a workbook's sheets, 1 for a docx or an image
    preview: bytes | None  # xlsx: its sheets as JSON; docx: its headings and text as JSON; image: the display JPEG


def my_unit(caller: Any) -> ScalarSelect:
    """The caller's org unit id (the caller carries its name; ids decide ownership)."""
    return select(users.c.org_unit_id).where(users.c.id == caller.user_id).scalar_subquery()


def not_found(document_id: int) -> DocumentRefused:
    return DocumentRefused(404, f"找不到 id 为 {document_id} 的文档", "NOT_FOUND")


def _problem(field: str, column: str | None, reason: str, code: str = "INVALID") -> FieldProblem:
    return FieldProblem(field, code, field_message(field, reason, column_label(documents, column) if column else None))


def split_tags(text: str) -> list[str]:
    return [t for t in re.split(r"[,，、;；\s]+", text) if t]


async def check_metadata(ctx: Context, given: dict[str, Any], creating: bool) -> tuple[dict[str, Any], list[FieldProblem]]:
    """Title, category, region (within the caller's jurisdiction), year and tags, as columns; or what is wrong."""
    values: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    for field, column in (("title", "title"), ("category", "category"), ("regionCode", "region_id"), ("year", "year")):
        if creating and given.get(field) in (None, ""):
            problems.append(_problem(field, column, "必填"))
    title = given.get("title")
    if title is not None:
        title = str(title).strip()
        if not 1 <= len(title) <= 128:
            problems.append(_problem("title", "title", f"须为 1 到 128 个字，填写了 {len(title)} 个字"))
        values["title"] = title
    category = given.get("category")
    if category not in (None, ""):
        try:
            values["category"] = category if isinstance(category, DocumentCategory) else DocumentCategory[str(category)]
        except KeyError:
            choices = "、".join(f"{c.name}（{c.label}）" for c in DocumentCategory)
            problems.append(_problem("category", "category", f"只能是 {choices}，填写的是 {category}"))
    year = given.get("year")
    if year not in (None, ""):
        text = str(year)
        if not (text.isascii() and text.isdigit() and FIRST_YEAR <= int(text) <= clock.today().year + 1):
            problems.append(_problem("year", "year", f"须为 {FIRST_YEAR} 到 {clock.today().year + 1} 之间的年份，填写的是 {year}"))
        else:
            values["year"] = int(text)
    tags = given.get("tags")
    if tags is not None:
        listed = tags if isinstance(tags, list) else split_tags(str(tags))
        listed = list(dict.fromkeys(t.strip() for t in listed if t.strip()))
        if len(listed) > MAX_TAGS or any(len(t) > 20 for t in listed):
            problems.append(_problem("tags", "tags", f"最多 {MAX_TAGS} 个标签，每个最多 20 个字"))
        values["tags"] = ",".join(listed)
    code = given.get("regionCode")
    if code not in (None, ""):
        stmt = select(regions.c.id).where(regions.c.code == str(code))
        if ctx.scope is not None:
            stmt = stmt.where(ctx.scope.regions())
        region_id = await ctx.scalar(select(stmt.scalar_subquery()))
        if region_id is None:  # outside the caller's jurisdiction reads as unknown
            problems.append(_problem("regionCode", "region_id", f"找不到代码为 {code} 的区划", "NOT_FOUND"))
        values["region_id"] = region_id
    return values, problems


async def _insert_version(
    connection: AsyncConnection, store: BlobStore, added: list[str], document_id: int, number: int,
    facts: FileFacts, data: bytes, file_name: str, caller: Any,
) -> Any:
    keys = []
    for blob in (data, facts.preview):
        if blob is None:
            keys.append(None)
            continue
        key, created = await store.put(blob)
        keys.append(key)
        if created:
            added.append(key)
    return (await connection.execute(versions.insert().values(
        document_id=document_id, number=number, kind=facts.kind, file_name=file_name, size_bytes=len(data),
        page_count=facts.pages, blob_key=keys[0], preview_key=keys[1],
        uploaded_by=caller.username, uploaded_at=dt.datetime.now(dt.UTC),
    ).returning(*versions.c))).one()


async def _taking_back(store: BlobStore, added: list[str]) -> None:
    for key in added:  # only what this upload created: other documents may share the same content
        await store.delete(key)


async def add_document(ctx: Context, store: BlobStore, values: dict[str, Any], facts: FileFacts, data: bytes, file_name: str) -> Any:
    """A new document of the caller's unit with its first version: the rows and the blobs, or nothing."""
    added: list[str] = []
    now = dt.datetime.now(dt.UTC)
    try:
        async with ctx.engine.begin() as connection:
            document = (await connection.execute(documents.insert().values(
                **values, owner_unit_id=my_unit(ctx.caller), latest_number=1, created_by=ctx.caller.username,
                created_at=now, version=1, updated_at=now,
            ).returning(*documents.c))).one()
            await _insert_version(connection, store, added, document.id, 1, facts, data, file_name, ctx.caller)
    except BaseException:
        await _taking_back(store, added)
        raise
    return document


async def add_version(ctx: Context, store: BlobStore, document_id: int, facts: FileFacts, data: bytes, file_name: str) -> Any:
    """The next version of one of the caller's unit's documents (not withdrawn); others' read as missing."""
    added: list[str] = []
    try:
        async with ctx.engine.begin() as connection:
            document = (await connection.execute(
                update(documents)
                .where(documents.c.id == document_id, documents.c.owner_unit_id == my_unit(ctx.caller), documents.c.withdrawn_at.is_(None))
                .values(latest_number=documents.c.latest_number + 1, version=documents.c.version + 1, updated_at=dt.datetime.now(dt.UTC))
                .returning(*documents.c)
            )).one_or_none()
            if document is None:
                raise not_found(document_id)
            await _insert_version(connection, store, added, document.id, document.latest_number, facts, data, file_name, ctx.caller)
    except BaseException:
        await _taking_back(store, added)
        raise
    return document


async def _own_document(connection: AsyncConnection, ctx: Context, document_id: int) -> Any:
    stmt = select(documents).where(documents.c.id == document_id, documents.c.owner_unit_id == my_unit(ctx.caller))
    return (await connection.execute(stmt)).one_or_none()


async def update_document(ctx: Context, document_id: int, version: int, given: dict[str, Any]) -> WriteResult:
    """Edit the metadata of one of the caller's unit's documents, naming the version read."""
    values, problems = await check_metadata(ctx, given, creating=False)
    if problems:
        return WriteResult(None, problems)
    return await _update(ctx, document_id, version, values)


async def withdraw_document(ctx: Context, document_id: int, version: int) -> WriteResult:
    """Withdraw a document: its grantees no longer find it; the unit still lists it, marked withdrawn."""
    return await _update(ctx, document_id, version, {"withdrawn_at": dt.datetime.now(dt.UTC)})


async def _update(ctx: Context, document_id: int, version: int, values: dict[str, Any]) -> WriteResult:
    async with ctx.engine.begin() as connection:
        current = await _own_document(connection, ctx, document_id)
        if current is None:
            return WriteResult(None, [FieldProblem("id", "NOT_FOUND", field_message("id", f"找不到 id 为 {document_id} 的文档"))])
        if current.version != version:
            return WriteResult(None, [conflict("Document", document_id, current.version, version)])
        row = (await connection.execute(
            update(documents).where(documents.c.id == document_id, documents.c.version == version)
            .values(**values, version=version + 1, updated_at=dt.datetime.now(dt.UTC)).returning(*documents.c)
        )).one()
    return WriteResult(row, [])


async def record_read(ctx: Context, document_id: int, version_number: int, grant_id: int | None, action: str, part: str) -> None:
    """One view or download, written before the answer goes out: a read that cannot be logged is not served."""
    caller = ctx.caller
    async with ctx.engine.begin() as connection:
        await connection.execute(access_entries.insert().values(
            document_id=document_id, version_number=version_number, grant_id=grant_id, user_id=caller.user_id,
            username=caller.username, display_name=caller.display_name, org_unit=caller.org_unit,
            action=action, part=part[:128], at=dt.datetime.now(dt.UTC),
        ))
