"""People's passwords and browser sessions: argon2id hashes, lockout, sessions with idle and absolute expiry.

A person signs in with username and password and gets a session: a random id kept
in their browser's cookie, of which only the SHA-256 is stored (as for API tokens).
Every answer to a failed sign-in is the same whether the user exists or not, and
costs the same (a dummy hash is verified for unknown names). Five failures in a
row lock the account name and the address out for a while, known name or not.
Times come from `hub.clock.now()`, so tests can move past an expiry.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from hub import clock
from hub.access.accounts import (
    AccountError,
    Bind,
    Caller,
    _transaction,
    caller_of,
    caller_query,
    hash_token,
)
from hub.data.models import SignInFailures, User, WebSession

MAX_FAILURES = 5
MIN_PASSWORD = 8
MAX_PASSWORD = 128
TOUCH_SECONDS = 60  # how stale `last_seen_at` may get before a request writes it again

BAD_CREDENTIALS = "用户名或密码不正确"
_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory defaults
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))  # verified for unknown names: the same cost either way


class SignInRefused(Exception):
    """A sign-in or password change that did not go through: a Chinese message and a stable code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class SessionPolicy:
    idle: dt.timedelta
    absolute: dt.timedelta
    lockout: dt.timedelta


@dataclass(frozen=True)
class Session:
    id: int
    caller: Caller
    csrf_token: str
    must_change_password: bool


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_new_password(username: str, password: str) -> None:
    """The rules a new password must meet (said in Chinese: the person who chose it reads them)."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise SignInRefused("WEAK_PASSWORD", f"密码须为 {MIN_PASSWORD} 到 {MAX_PASSWORD} 个字符")
    if password.strip() != password or username.lower() in password.lower() or len(set(password)) < 4:
        raise SignInRefused("WEAK_PASSWORD", "密码太简单：不能含用户名、首尾空格，至少用 4 个不同的字符")


async def set_password(engine: Bind, username: str, password: str, must_change: bool = True) -> None:
    """Set a password someone else chose (an administrator): by default it must be changed at the next sign-in.
    The user's open sessions end."""
    try:
        check_new_password(username, password)
    except SignInRefused as weak:
        raise AccountError(str(weak)) from None
    hashed = await asyncio.to_thread(hash_password, password)
    async with _transaction(engine) as conn:
        changed = await conn.execute(
            update(User).where(User.username == username).values(password_hash=hashed, password_must_change=must_change)
        )
        if changed.rowcount == 0:
            raise AccountError(f"unknown user {username!r}")
        # A reset is often because the old password leaked: whoever signed in with it is signed out.
        owner = select(User.id).where(User.username == username).scalar_subquery()
        await conn.execute(update(WebSession).where(WebSession.user_id == owner, WebSession.ended_at.is_(None)).values(ended_at=clock.now()))


def _keys(username: str, address: str) -> list[str]:
    return [f"account:{username.strip().lower()[:100]}", f"address:{address[:100]}"]


async def sign_in(engine: AsyncEngine, policy: SessionPolicy, username: str, password: str, address: str) -> tuple[int, str]:
    """The user id of whoever the name and password belong to, and their display name; or SignInRefused."""
    keys = _keys(username, address)
    await _refuse_if_locked(engine, keys)
    async with engine.connect() as conn:
        user = (
            await conn.execute(select(User.id, User.display_name, User.password_hash).where(User.username == username.strip(), User.active))
        ).first()
    if await asyncio.to_thread(_verify, user.password_hash if user else None, password):
        async with engine.begin() as conn:
            await conn.execute(delete(SignInFailures).where(SignInFailures.key.in_(keys)))
        return user.id, user.display_name
    await _count_failures(engine, keys, policy)
    raise SignInRefused("SIGN_IN_FAILED", BAD_CREDENTIALS)


async def _refuse_if_locked(engine: AsyncEngine, keys: list[str]) -> None:
    now = clock.now()
    async with engine.connect() as conn:
        locks = (await conn.execute(select(SignInFailures.locked_until).where(SignInFailures.key.in_(keys)))).scalars().all()
    locked = [until for until in locks if until is not None and _aware(until) > now]
    if locked:
        minutes = max(1, -(-int((max(_aware(u) for u in locked) - now).total_seconds()) // 60))
        raise SignInRefused("SIGN_IN_LOCKED", f"连续 {MAX_FAILURES} 次登录失败，已暂停登录，请 {minutes} 分钟后再试")


async def _count_failures(engine: AsyncEngine, keys: list[str], policy: SessionPolicy) -> None:
    async with engine.begin() as conn:
        for key in keys:
            await _count_failure(conn, key, clock.now() + policy.lockout)


async def _count_failure(conn: Any, key: str, lock_until: dt.datetime) -> None:
    row = (await conn.execute(select(SignInFailures.failures, SignInFailures.locked_until).where(SignInFailures.key == key))).first()
    if row is None:
        try:
            async with conn.begin_nested():
                await conn.execute(SignInFailures.__table__.insert().values(key=key, failures=1, locked_until=None))
        except IntegrityError:  # a concurrent failure counted first: counting one more is what matters
            await conn.execute(update(SignInFailures).where(SignInFailures.key == key).values(failures=SignInFailures.failures + 1))
        return
    failures = row.failures + 1
    # The fifth failure in a row locks; the count starts again once the lock has run out.
    values = {"failures": 0, "locked_until": lock_until} if failures >= MAX_FAILURES else {"failures": failures}
    await conn.execute(update(SignInFailures).where(SignInFailures.key == key).values(**values))


async def open_session(engine: AsyncEngine, user_id: int, address: str) -> tuple[str, str]:
    """A new session for the user: its id (the cookie's value, never stored) and its CSRF token."""
    session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = clock.now()
    async with engine.begin() as conn:
        await conn.execute(
            WebSession.__table__.insert().values(
                session_hash=hash_token(session_id), user_id=user_id, csrf_token=csrf, address=address[:64],
                created_at=now, last_seen_at=now, ended_at=None,
            )
        )
    return session_id, csrf


async def find_session(engine: AsyncEngine, policy: SessionPolicy, session_id: str) -> Session | None:
    """The live session with this id, its last activity moved to now; None once ended, idle or too old."""
    now = clock.now()
    statement = (
        caller_query()
        .add_columns(WebSession.id.label("session_id"), WebSession.csrf_token, WebSession.last_seen_at, User.password_must_change)
        .join(WebSession, WebSession.user_id == User.id)
        .where(
            WebSession.session_hash == hash_token(session_id),
            WebSession.ended_at.is_(None),
            WebSession.created_at > now - policy.absolute,
            WebSession.last_seen_at > now - policy.idle,
        )
    )
    async with engine.connect() as conn:
        row = (await conn.execute(statement)).first()
    if row is None:
        return None
    if now - _aware(row.last_seen_at) > dt.timedelta(seconds=TOUCH_SECONDS):
        async with engine.begin() as conn:
            await conn.execute(update(WebSession).where(WebSession.id == row.session_id).values(last_seen_at=now))
    return Session(row.session_id, caller_of(row), row.csrf_token, row.password_must_change)


async def end_session(engine: AsyncEngine, session: Session) -> None:
    async with engine.begin() as conn:
        await conn.execute(update(WebSession).where(WebSession.id == session.id).values(ended_at=clock.now()))


async def confirm_password(engine: AsyncEngine, policy: SessionPolicy, session: Session, password: str) -> None:
    """The signed-in person proves they know their password (to change it, to make a token), or SignInRefused.

    A wrong one counts as a failed sign-in of the account: whoever holds an open session cannot guess
    the password here without limit."""
    keys = _keys(session.caller.username, "")[:1]
    await _refuse_if_locked(engine, keys)
    async with engine.connect() as conn:
        stored = await conn.scalar(select(User.password_hash).where(User.id == session.caller.user_id))
    if not await asyncio.to_thread(_verify, stored, password):
        await _count_failures(engine, keys, policy)
        raise SignInRefused("WRONG_PASSWORD", "当前密码不正确")


async def change_password(engine: AsyncEngine, policy: SessionPolicy, session: Session, current: str, new: str) -> None:
    """The signed-in person's own change: the current password, then a new one; other sessions end."""
    await confirm_password(engine, policy, session, current)
    if new == current:
        raise SignInRefused("WEAK_PASSWORD", "新密码不能与当前密码相同")
    check_new_password(session.caller.username, new)
    hashed = await asyncio.to_thread(hash_password, new)
    async with engine.begin() as conn:
        await conn.execute(update(User).where(User.id == session.caller.user_id).values(password_hash=hashed, password_must_change=False))
        await conn.execute(
            update(WebSession)
            .where(WebSession.user_id == session.caller.user_id, WebSession.id != session.id, WebSession.ended_at.is_(None))
            .values(ended_at=clock.now())
        )


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite reads back naive datetimes, which are UTC here by construction.
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value
