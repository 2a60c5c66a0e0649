"""Signing a request in: bearer token (API clients) or session cookie (people in the pages) → caller → the caller's view of the schema."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import Request

from hub.access.accounts import hash_token
from hub.forms.download_links import LinkError
from schema.build import HubSchema, Schemas

if TYPE_CHECKING:
    from hub.access.accounts import Caller
    from hub.web.endpoint import Services
    from hub.web.sessions import BrowserSessions

MISSING_TOKEN = (
    "缺少令牌：请在请求头中发送 `Authorization: Bearer <令牌>`"
    "（令牌由管理员用 `hub token issue 用户名` 签发）"
)
BAD_TOKEN = "令牌无效、已过期或已被吊销"
SESSION_EXPIRED = "登录已过期，请重新登录"
NOT_SIGNED_IN = "请先登录"
CSRF_REFUSED = "请求缺少有效的防伪令牌（CSRF），未执行；请刷新页面后重试"
MUST_CHANGE = "请先修改初始密码，再进行其他操作"


class CallerCache:
    """Verified tokens, remembered for a few seconds so a burst of requests costs one lookup.

    A token lookup is a database round trip on every request — on SQLite as much
    as the write it guards. The price is a bound on revocation: a revoked or
    expired token, or a deactivated user, is refused at most `seconds` later
    (`HUB_TOKEN_CACHE_SECONDS`; 0 checks every request). Only valid tokens are
    kept, keyed by their hash, and at most `max_entries` of them.
    """

    def __init__(
        self,
        lookup: Callable[[str], Awaitable[Caller | None]],
        seconds: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lookup = lookup
        self.seconds = seconds
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, Caller]] = OrderedDict()

    async def __call__(self, token: str) -> Caller | None:
        if self.seconds <= 0:
            return await self.lookup(token)
        key = hash_token(token)
        now = self.clock()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        caller = await self.lookup(token)
        if caller is None:
            self._entries.pop(key, None)
            return None
        self._entries[key] = (now + self.seconds, caller)
        self._entries.move_to_end(key)
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return caller


class SignInError(Exception):
    def __init__(self, status: int, message: str, code: str, headers: dict[str, str]) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.headers = headers


async def sign_in(
    request: Request,
    authenticate: Callable[[str], Awaitable[Caller | None]],
    schemas: Schemas,
    sessions: BrowserSessions | None = None,
) -> tuple[Caller, HubSchema]:
    """A bearer token wins; without one, a session cookie, whose CSRF token every state-changing request must carry."""
    if "authorization" not in request.headers and sessions is not None and sessions.has_cookie(request):
        caller = await _session_caller(request, sessions)
    else:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise SignInError(401, MISSING_TOKEN, "UNAUTHENTICATED", {"www-authenticate": "Bearer"})
        caller = await authenticate(token.strip())
        if caller is None:
            raise SignInError(401, BAD_TOKEN, "UNAUTHENTICATED", {"www-authenticate": 'Bearer error="invalid_token"'})
    schema = schemas.for_caller(caller.role, caller.department)
    if schema is None:
        message = f"{caller.org_unit}（部门 {caller.department}）在权限策略中没有任何授权"
        raise SignInError(403, message, "FORBIDDEN", {})
    return caller, schema


async def sign_in_or_link(request: Request, services: Services) -> tuple[Caller, HubSchema]:
    """A bearer token, or a signed link naming its user (an `<img>` tag or a download sends no header)."""
    query = dict(request.query_params)
    if "signature" not in query and "signed_by" not in query:
        return await sign_in(request, services.authenticate, services.schemas, services.sessions)
    try:
        user_id, _ = services.links.verify(request.url.path, query, int(time.time()))
    except LinkError as error:
        raise SignInError(403, str(error), "FORBIDDEN", {}) from None
    caller = await services.caller_by_id(user_id)
    schema = None if caller is None else services.schemas.for_caller(caller.role, caller.department)
    if schema is None:
        raise SignInError(403, "链接所属的用户已停用", "FORBIDDEN", {})
    return caller, schema


async def _session_caller(request: Request, sessions: BrowserSessions) -> Caller:
    session = await sessions.current(request)
    if session is None:
        raise SignInError(401, SESSION_EXPIRED, "SESSION_EXPIRED", {})
    if not sessions.csrf_ok(request, session):
        await sessions.log(request, "graphql", "refused", session.caller)
        raise SignInError(403, CSRF_REFUSED, "CSRF_REFUSED", {})
    if session.must_change_password:
        raise SignInError(403, MUST_CHANGE, "PASSWORD_CHANGE_REQUIRED", {})
    return session.caller
