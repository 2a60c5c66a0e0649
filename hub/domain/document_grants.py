"""Grants to read documents (文档授权), and the check every read goes through.

A unit grants another unit — an inspecting department — or one user access to one of its
documents, or to a set of them (a category and a year, within a region if given), from one
day until another, for a stated purpose, either to view online only or to view and
download. Grants can be revoked, and end on their own. Each read (`reach`) checks the
grants again: a live one lets the read through; one that has ended answers with the day it
ended; without any, the document does not exist for the caller (no oracle: a stranger
cannot tell a document from none). Grantees read the latest version only.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import aliased

from hub import clock
from hub.data.identifiers import subtree_bounds
from hub.data.models import (
    DocumentCategory,
    DocumentGrant,
    GrantMode,
    OrgUnit,
    Region,
    User,
)
from hub.domain.context import Context
from hub.domain.documents import (
    DocumentRefused,
    documents,
    my_unit,
    not_found,
    versions,
)
from hub.domain.write_path import FieldProblem, WriteResult, column_label, field_message

grants = DocumentGrant.__table__
regions = Region.__table__
users = User.__table__
owner_units = aliased(OrgUnit.__table__, name="owner_units")
grantee_units = aliased(OrgUnit.__table__, name="grantee_units")
grant_regions = aliased(Region.__table__, name="grant_regions")


class GrantStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    NOT_STARTED = "NOT_STARTED"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"


def status_of(grant: Any, today: dt.date) -> GrantStatus:
    if grant.revoked_on is not None:
        return GrantStatus.REVOKED
    if today > grant.valid_until:
        return GrantStatus.EXPIRED
    return GrantStatus.NOT_STARTED if today < grant.valid_from else GrantStatus.ACTIVE


def grant_rows():
    """Grants with the names people read: the owner unit, the grantee (unit or user), the region's code."""
    return (
        select(
            grants, owner_units.c.name.label("owner_unit"), grantee_units.c.name.label("grantee_unit"),
            users.c.username.label("grantee_username"), users.c.display_name.label("grantee_name"),
            grant_regions.c.code.label("region_code"), grant_regions.c.level.label("region_level"),
        )
        .join(owner_units, owner_units.c.id == grants.c.owner_unit_id)
        .outerjoin(grantee_units, grantee_units.c.id == grants.c.grantee_unit_id)
        .outerjoin(users, users.c.id == grants.c.grantee_user_id)
        .outerjoin(grant_regions, grant_regions.c.id == grants.c.region_id)
    )


def to_caller(caller: Any):
    return or_(grants.c.grantee_unit_id == my_unit(caller), grants.c.grantee_user_id == caller.user_id)


def _within(document_region: str, grant: Any) -> bool:
    if grant.region_code is None:
        return True
    low, high = subtree_bounds(grant.region_code, grant.region_level)
    return low <= document_region <= high


def _covered(document: Any, grant: Any) -> bool:
    """Whether the grant covers the document at all. A set grant that has ended covers only what it could have
    shown while it lasted: one added later must not answer "expired", which would tell that it exists."""
    if grant.document_id is not None or grant.revoked_on is None and grant.valid_until >= clock.today():
        return True
    ended = grant.revoked_on or grant.valid_until
    created = _aware(document.created_at)
    # (created before the grant was given: covered whatever the clock, which tests pin to a day of their own)
    return created <= _aware(grant.granted_at) or created.date() <= ended


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


@dataclass(frozen=True)
class Access:
    """A read let through: the document, the version read, and on what ground."""

    document: Any
    version: Any
    grant_id: int | None  # None: the owner unit reading its own document
    mode: GrantMode
    until: dt.date | None


async def reach(ctx: Context, document_id: int, number: int | None = None, download: bool = False) -> Access:
    """Check the caller may read (or download) the document now; `DocumentRefused` says why not."""
    stmt = (
        select(documents, regions.c.code.label("region_code"), my_unit(ctx.caller).label("my_unit"))
        .join(regions, regions.c.id == documents.c.region_id)
        .where(documents.c.id == document_id)
    )
    async with ctx.engine.connect() as connection:
        document = (await connection.execute(stmt)).one_or_none()
        if document is None:
            raise not_found(document_id)
        grant = None
        if document.owner_unit_id != document.my_unit:
            if document.withdrawn_at is not None:
                raise not_found(document_id)
            candidates = (await connection.execute(grant_rows().where(
                grants.c.owner_unit_id == document.owner_unit_id,
                to_caller(ctx.caller),
                or_(
                    grants.c.document_id == document.id,
                    and_(grants.c.document_id.is_(None), grants.c.category == document.category, grants.c.year == document.year),
                ),
            ))).all()
            grant = _usable([g for g in candidates if _within(document.region_code, g) and _covered(document, g)], document_id, download)
            if number is not None and number != document.latest_number:
                raise DocumentRefused(
                    403, f"授权只包括最新版（第 {document.latest_number} 版），不能查看第 {number} 版", "VERSION_NOT_GRANTED"
                )
        wanted = number or document.latest_number
        version = (await connection.execute(
            select(versions).where(versions.c.document_id == document.id, versions.c.number == wanted)
        )).one_or_none()
    if version is None:
        raise DocumentRefused(404, f"文档“{document.title}”没有第 {wanted} 版", "NOT_FOUND")
    if grant is None:
        return Access(document, version, None, GrantMode.DOWNLOAD, None)
    return Access(document, version, grant.id, grant.mode, grant.valid_until)


def _usable(candidates: list[Any], document_id: int, download: bool) -> Any:
    """The grant a read goes on, or the refusal: a live grant, one not started yet, the last one that ended, none."""
    if not candidates:
        raise not_found(document_id)
    today = clock.today()
    live = [g for g in candidates if status_of(g, today) is GrantStatus.ACTIVE]
    if live:
        downloadable = [g for g in live if g.mode is GrantMode.DOWNLOAD]
        if download and not downloadable:
            until = max(g.valid_until for g in live)
            raise DocumentRefused(403, f"授权方式为“仅在线查看”（有效期至 {until}），不能下载原文件", "VIEW_ONLY")
        return max(downloadable if download else live, key=lambda g: g.valid_until)
    waiting = [g for g in candidates if status_of(g, today) is GrantStatus.NOT_STARTED]
    if waiting:
        starts = min(g.valid_from for g in waiting)
        raise DocumentRefused(403, f"授权自 {starts} 起生效，现在还不能查看", "GRANT_NOT_STARTED")
    last = max(candidates, key=lambda g: g.revoked_on or g.valid_until)
    if last.revoked_on is not None:
        raise DocumentRefused(403, f"授权已于 {last.revoked_on} 撤销，不能再查看或下载", "GRANT_REVOKED")
    raise DocumentRefused(403, f"授权已于 {last.valid_until} 到期，不能再查看或下载", "GRANT_EXPIRED")


def _problem(field: str, column: str | None, reason: str, code: str = "INVALID") -> FieldProblem:
    return FieldProblem(field, code, field_message(field, reason, column_label(grants, column) if column else None))


async def grant_access(ctx: Context, given: dict[str, Any]) -> WriteResult:
    """A grant on one of the caller's unit's documents, or on a set of them; every problem at once, nothing written then."""
    problems: list[FieldProblem] = []
    today = clock.today()
    values: dict[str, Any] = {}
    document_id, category, year = given.get("document_id"), given.get("category"), given.get("year")
    async with ctx.engine.connect() as connection:
        if (document_id is None) == (category is None and year is None):
            problems.append(_problem("documentId", None, "请指定一份文档（documentId），或用 category 和 year 指定一组文档，二选一"))
        elif document_id is not None:
            owned = await connection.scalar(select(documents.c.id).where(
                documents.c.id == document_id, documents.c.owner_unit_id == my_unit(ctx.caller), documents.c.withdrawn_at.is_(None)
            ))
            if owned is None:  # another unit's document reads as missing
                problems.append(_problem("documentId", None, f"找不到 id 为 {document_id} 的文档", "NOT_FOUND"))
            values["document_id"] = document_id
        elif category is None or year is None:
            problems.append(_problem("category" if category is None else "year", None, "指定一组文档须同时给出类别（category）和年度（year）"))
        else:
            values |= {"category": category, "year": year}
            if given.get("region_code"):
                region_id = await connection.scalar(select(regions.c.id).where(regions.c.code == given["region_code"]))
                if region_id is None:
                    problems.append(_problem("regionCode", "region_id", f"找不到代码为 {given['region_code']} 的区划", "NOT_FOUND"))
                values["region_id"] = region_id
        unit, username = given.get("grantee_unit"), given.get("grantee_username")
        if (unit is None) == (username is None):
            problems.append(_problem("granteeUnit", "grantee_unit_id", "请指定被授权的单位（granteeUnit）或用户（granteeUsername），二选一"))
        elif unit is not None:
            values["grantee_unit_id"] = await connection.scalar(select(OrgUnit.__table__.c.id).where(OrgUnit.__table__.c.name == unit))
            if values["grantee_unit_id"] is None:
                problems.append(_problem("granteeUnit", "grantee_unit_id", f"找不到名为“{unit}”的单位", "NOT_FOUND"))
        else:
            values["grantee_user_id"] = await connection.scalar(select(users.c.id).where(users.c.username == username, users.c.active))
            if values["grantee_user_id"] is None:
                problems.append(_problem("granteeUsername", "grantee_user_id", f"找不到用户名为 {username} 的用户", "NOT_FOUND"))
    valid_from, valid_until = given.get("valid_from") or today, given["valid_until"]
    if valid_until < valid_from:
        problems.append(_problem("validUntil", "valid_until", f"不能早于生效日期 {valid_from}，填写的是 {valid_until}"))
    elif valid_until < today:
        problems.append(_problem("validUntil", "valid_until", f"不能早于今天（{today}），填写的是 {valid_until}"))
    purpose = (given.get("purpose") or "").strip()
    if not 1 <= len(purpose) <= 256:
        problems.append(_problem("purpose", "purpose", "必填，最多 256 个字（如：防汛检查、审计）"))
    if problems:
        return WriteResult(None, problems)
    async with ctx.engine.begin() as connection:
        grant_id = await connection.scalar(grants.insert().values(
            **values, owner_unit_id=my_unit(ctx.caller), valid_from=valid_from, valid_until=valid_until, purpose=purpose,
            mode=given["mode"], granted_by=ctx.caller.username, granted_at=dt.datetime.now(dt.UTC),
        ).returning(grants.c.id))
    return WriteResult(await grant_by_id(ctx, grant_id), [])


async def revoke_grant(ctx: Context, grant_id: int) -> WriteResult:
    """End one of the caller's unit's grants today: every read after this is refused with the date."""
    today = clock.today()
    async with ctx.engine.begin() as connection:
        current = (await connection.execute(
            select(grants).where(grants.c.id == grant_id, grants.c.owner_unit_id == my_unit(ctx.caller))
        )).one_or_none()
        if current is None:
            return WriteResult(None, [_problem("id", None, f"找不到 id 为 {grant_id} 的授权", "NOT_FOUND")])
        if current.revoked_on is not None:
            return WriteResult(None, [_problem("id", None, f"该授权已于 {current.revoked_on} 撤销")])
        await connection.execute(
            update(grants).where(grants.c.id == grant_id).values(revoked_on=today, revoked_by=ctx.caller.username)
        )
    return WriteResult(await grant_by_id(ctx, grant_id), [])


async def grant_by_id(ctx: Context, grant_id: int) -> Any:
    return (await ctx.read(grant_rows().where(grants.c.id == grant_id)))[0]


async def grants_of_document(ctx: Context, document_id: int) -> list[Any]:
    """The owner's view: every grant covering the document, ended ones included, newest first."""
    document = (await ctx.read(select(documents, regions.c.code.label("region_code")).join(regions, regions.c.id == documents.c.region_id)
                               .where(documents.c.id == document_id)))[0]
    rows = await ctx.read(grant_rows().where(
        grants.c.owner_unit_id == document.owner_unit_id,
        or_(grants.c.document_id == document_id,
            and_(grants.c.document_id.is_(None), grants.c.category == document.category, grants.c.year == document.year)),
    ).order_by(grants.c.id.desc()))
    return [g for g in rows if _within(document.region_code, g)]


async def shared_with(ctx: Context) -> list[Any]:
    """Grants to the caller or their unit, newest first, ended ones included (so the grantee sees when they ended)."""
    return list(await ctx.read(grant_rows().where(to_caller(ctx.caller)).order_by(grants.c.id.desc())))


async def documents_of_grant(ctx: Context, grant: Any) -> list[Any]:
    """The documents a live grant lets its grantee read now (none once it has ended), by id."""
    if status_of(grant, clock.today()) is not GrantStatus.ACTIVE:
        return []
    stmt = (
        select(documents, regions.c.code.label("region_code"))
        .join(regions, regions.c.id == documents.c.region_id)
        .where(documents.c.owner_unit_id == grant.owner_unit_id, documents.c.withdrawn_at.is_(None))
        .order_by(documents.c.id)
    )
    if grant.document_id is not None:
        stmt = stmt.where(documents.c.id == grant.document_id)
    else:
        stmt = stmt.where(documents.c.category == DocumentCategory(grant.category), documents.c.year == grant.year)
    return [d for d in await ctx.read(stmt) if _within(d.region_code, grant)]
