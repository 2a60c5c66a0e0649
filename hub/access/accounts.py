"""Accounts and API tokens: org units, users, bearer tokens, and who a token belongs to.

A token is shown once, when issued; only its SHA-256 is stored, plus its first
characters (`prefix`) so that operators can tell tokens apart and revoke one.
Times are stored and compared as UTC: SQLite keeps no offset and reads back
naive datetimes, which are UTC here by construction.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.data.models import (
    ApiToken,
    OrgUnit,
    OrgUnitKind,
    Region,
    RegionLevel,
    Role,
    User,
)

TOKEN_PREFIX = "hub_"
PREFIX_LENGTH = 12
MAX_TOKEN_DAYS = 3650
USERNAME = re.compile(r"[a-z0-9._-]{2,64}")
DEPARTMENT_KEY = re.compile(r"[a-z][a-z0-9_-]{0,31}")

# The write functions take an engine (own transaction) or a connection (the
# caller's transaction, e.g. the demo seed's).
Bind = AsyncEngine | AsyncConnection


class AccountError(ValueError):
    """A request about accounts or tokens that cannot be carried out; the message says why."""


@dataclass(frozen=True)
class Caller:
    """Who is calling, as resolved from a bearer token."""

    user_id: int
    username: str
    display_name: str
    role: Role
    org_unit: str
    department: str | None  # the policy key, e.g. "minzheng"; None for grassroots units
    jurisdiction_code: str
    jurisdiction_level: RegionLevel


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


E = TypeVar("E", bound=enum.Enum)


def _parse_enum(kind: type[E], what: str, value: str) -> E:
    try:
        return kind[value.strip().upper()]
    except KeyError:
        valid = ", ".join(member.name for member in kind)
        raise AccountError(f"unknown {what} {value!r}; valid {what}s: {valid}") from None


def parse_role(value: str) -> Role:
    return _parse_enum(Role, "role", value)


def parse_org_unit_kind(value: str) -> OrgUnitKind:
    return _parse_enum(OrgUnitKind, "kind", value)


@asynccontextmanager
async def _transaction(bind: Bind) -> AsyncIterator[AsyncConnection]:
    if isinstance(bind, AsyncConnection):
        yield bind
    else:
        async with bind.begin() as conn:
            yield conn


async def _region_id(conn: AsyncConnection, code: str) -> int:
    region_id = await conn.scalar(select(Region.id).where(Region.code == code))
    if region_id is None:
        raise AccountError(f"unknown region code {code!r}")
    return region_id


async def _user(conn: AsyncConnection, username: str) -> tuple[int, bool]:
    row = (await conn.execute(select(User.id, User.active).where(User.username == username))).first()
    if row is None:
        raise AccountError(f"unknown user {username!r}")
    return row.id, row.active


def caller_query():
    return (
        select(
            User.id,
            User.username,
            User.display_name,
            User.role,
            OrgUnit.name.label("org_unit"),
            OrgUnit.department,
            Region.code,
            Region.level,
        )
        .select_from(User)
        .join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .join(Region, Region.id == User.jurisdiction_id)
        .where(User.active)
    )


async def _one_caller(engine: AsyncEngine, statement) -> Caller | None:
    async with engine.connect() as conn:
        row = (await conn.execute(statement)).first()
    return None if row is None else caller_of(row)


def caller_of(row: Any) -> Caller:
    """A row of `caller_query()` (extra columns may follow) as a caller."""
    return Caller(
        user_id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        org_unit=row.org_unit,
        department=row.department,
        jurisdiction_code=row.code,
        jurisdiction_level=row.level,
    )


async def authenticate(engine: AsyncEngine, token: str) -> Caller | None:
    """The caller a token belongs to, in one SQL statement; None if the token is not valid now."""
    statement = caller_query().join(ApiToken, ApiToken.user_id == User.id).where(
        ApiToken.token_hash == hash_token(token),
        ApiToken.revoked_at.is_(None),
        ApiToken.expires_at > _now(),
    )
    return await _one_caller(engine, statement)


async def caller_by_id(engine: AsyncEngine, user_id: int) -> Caller | None:
    """An active user as a caller (signed download links name their user by id)."""
    return await _one_caller(engine, caller_query().where(User.id == user_id))


async def caller_named(engine: AsyncEngine, username: str) -> Caller:
    """An active user as a caller, for work done from the command line under their permissions."""
    caller = await _one_caller(engine, caller_query().where(User.username == username))
    if caller is None:
        raise AccountError(f"unknown or inactive user {username!r}")
    return caller


async def add_org_unit(
    engine: Bind, name: str, kind: OrgUnitKind, department: str | None, region_code: str | None
) -> int:
    """Create an org unit; `department` is its key in the policy file (departments only)."""
    name = name.strip()
    if not 1 <= len(name) <= 64:
        raise AccountError("an org unit name must have 1 to 64 characters")
    if department is not None:
        if kind is not OrgUnitKind.DEPARTMENT:
            raise AccountError(f"only a {OrgUnitKind.DEPARTMENT.name} org unit has a department key, not a {kind.name}")
        if not DEPARTMENT_KEY.fullmatch(department):
            raise AccountError(
                f"invalid department key {department!r}: a lowercase letter, then up to 31 of a-z, 0-9, '_' and '-'"
            )
    async with _transaction(engine) as conn:
        if await conn.scalar(select(OrgUnit.id).where(OrgUnit.name == name)) is not None:
            raise AccountError(f"org unit {name!r} already exists")
        region_id = None if region_code is None else await _region_id(conn, region_code)
        return await conn.scalar(
            OrgUnit.__table__.insert()
            .values(name=name, kind=kind, department=department, region_id=region_id)
            .returning(OrgUnit.id)
        )


async def add_user(
    engine: Bind, username: str, display_name: str, org_unit: str, role: Role, jurisdiction_code: str
) -> int:
    """Create an active user; the jurisdiction may lie outside the org unit's own region."""
    if not USERNAME.fullmatch(username):
        raise AccountError(f"invalid username {username!r}: use 2 to 64 of a-z, 0-9, '.', '_' and '-'")
    display_name = display_name.strip()
    if not 1 <= len(display_name) <= 64:
        raise AccountError("a display name must have 1 to 64 characters")
    async with _transaction(engine) as conn:
        if await conn.scalar(select(User.id).where(User.username == username)) is not None:
            raise AccountError(f"user {username!r} already exists")
        unit = (
            await conn.execute(select(OrgUnit.id, OrgUnit.department).where(OrgUnit.name == org_unit))
        ).first()
        if unit is None:
            raise AccountError(f"unknown org unit {org_unit!r}")
        # An analyst's field grants come from the department key: without one there is nothing to grant.
        if role is Role.DEPARTMENT_ANALYST and unit.department is None:
            raise AccountError(f"org unit {org_unit!r} has no department key, so it cannot have a department analyst")
        jurisdiction_id = await _region_id(conn, jurisdiction_code)
        return await conn.scalar(
            User.__table__.insert()
            .values(
                username=username,
                display_name=display_name,
                org_unit_id=unit.id,
                role=role,
                jurisdiction_id=jurisdiction_id,
                active=True,
            )
            .returning(User.id)
        )


async def issue_token(engine: Bind, username: str, days: int = 90) -> str:
    """A new token for an active user, valid for `days`; the only time the token is visible."""
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise AccountError(f"a token is valid for 1 to {MAX_TOKEN_DAYS} days, not {days}")
    token = new_token()
    now = _now()
    async with _transaction(engine) as conn:
        user_id, active = await _user(conn, username)
        if not active:
            raise AccountError(f"user {username!r} is inactive")
        await conn.execute(
            ApiToken.__table__.insert().values(
                user_id=user_id,
                token_hash=hash_token(token),
                prefix=token[:PREFIX_LENGTH],
                created_at=now,
                expires_at=now + dt.timedelta(days=days),
            )
        )
    return token


async def revoke_tokens(engine: Bind, *, username: str | None = None, prefix: str | None = None) -> int:
    """Revoke a user's tokens, or the tokens with a prefix; return how many were still unrevoked."""
    if (username is None) == (prefix is None):
        raise AccountError("name either a user or a token prefix")
    async with _transaction(engine) as conn:
        statement = update(ApiToken).where(ApiToken.revoked_at.is_(None)).values(revoked_at=_now())
        if username is not None:
            user_id, _ = await _user(conn, username)
            statement = statement.where(ApiToken.user_id == user_id)
        else:
            statement = statement.where(ApiToken.prefix == prefix)
        return (await conn.execute(statement)).rowcount


async def list_users(engine: Bind) -> list[dict[str, Any]]:
    """All users with their org unit and jurisdiction, by username."""
    statement = (
        select(
            User.username,
            User.display_name,
            OrgUnit.name.label("org_unit"),
            OrgUnit.department,
            User.role,
            Region.code.label("jurisdiction_code"),
            Region.name.label("jurisdiction_name"),
            User.active,
        )
        .join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .join(Region, Region.id == User.jurisdiction_id)
        .order_by(User.username)
    )
    async with _transaction(engine) as conn:
        return [dict(row._mapping) for row in await conn.execute(statement)]


async def list_tokens(engine: Bind, username: str) -> list[dict[str, Any]]:
    """A user's tokens, oldest first: prefix and times (UTC), never the hash."""
    async with _transaction(engine) as conn:
        user_id, _ = await _user(conn, username)
        rows = await conn.execute(
            select(ApiToken.prefix, ApiToken.created_at, ApiToken.expires_at, ApiToken.revoked_at)
            .where(ApiToken.user_id == user_id)
            .order_by(ApiToken.id)
        )
        return [
            {
                "prefix": row.prefix,
                "created_at": _utc(row.created_at),
                "expires_at": _utc(row.expires_at),
                "revoked_at": _utc(row.revoked_at),
            }
            for row in rows
        ]
