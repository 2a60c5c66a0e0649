"""Signing people in over HTTP: the session cookie, CSRF, and `/app/api/*` (sign-in, sign-out, password, own tokens).

The cookie is HttpOnly and SameSite=Lax, Secure when the request came over HTTPS
(or a trusted proxy says so). Every state-changing request made with the cookie
must carry the session's CSRF token in `X-CSRF-Token` — GraphQL POSTs and uploads
included (see `hub.web.sign_in`); requests with a bearer token are unaffected.
Signing in takes a JSON body only, from this origin, so a cross-site form cannot
sign someone in under another account. Every sign-in, failure and sign-out goes
to the access log.
"""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import Route

from hub.access import accounts, passwords
from hub.access.access_log import AccessLogWriter
from hub.access.passwords import Session, SessionPolicy, SignInRefused
from hub.domain.photos import MAX_PHOTO_BYTES, MAX_PIXELS, REFUSALS
from hub.settings import Settings
from hub.web.graphql_endpoint import request_id_of
from hub.web.sign_in import CSRF_REFUSED, MUST_CHANGE, NOT_SIGNED_IN, SESSION_EXPIRED

COOKIE = "hub_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_BODY = 4096
TOKEN_DAYS = 90


class BrowserSessions:
    """Who a browser is, from its cookie; and the sign-in API the pages call."""

    def __init__(self, engine: AsyncEngine, settings: Settings, access_log: AccessLogWriter) -> None:
        self.engine = engine
        self.settings = settings
        self.access_log = access_log
        self.policy = SessionPolicy(
            idle=dt.timedelta(minutes=settings.session_idle_minutes),
            absolute=dt.timedelta(hours=settings.session_hours),
            lockout=dt.timedelta(minutes=settings.sign_in_lock_minutes),
        )

    def address(self, request: Request) -> str:
        if self.settings.trust_proxy_headers and (forwarded := request.headers.get("x-forwarded-for")):
            return forwarded.split(",")[0].strip()
        return request.client.host if request.client else "unknown"

    def is_https(self, request: Request) -> bool:
        if self.settings.trust_proxy_headers and request.headers.get("x-forwarded-proto"):
            return request.headers["x-forwarded-proto"].split(",")[0].strip() == "https"
        return request.url.scheme == "https"

    async def current(self, request: HTTPConnection) -> Session | None:
        session_id = request.cookies.get(COOKIE)
        if not session_id or len(session_id) > 100:
            return None
        return await passwords.find_session(self.engine, self.policy, session_id)

    def has_cookie(self, request: HTTPConnection) -> bool:
        return COOKIE in request.cookies

    @staticmethod
    def csrf_ok(request: Request, session: Session) -> bool:
        return request.method in SAFE_METHODS or hmac.compare_digest(request.headers.get(CSRF_HEADER, ""), session.csrf_token)

    async def log(self, request: Request, operation: str, outcome: str, caller: accounts.Caller | None = None, username: str = "") -> None:
        await self.access_log.add(
            {
                "user_id": caller.user_id if caller else None,
                "username": (caller.username if caller else username)[:64],
                "org_unit": caller.org_unit if caller else "",
                "request_id": request_id_of(request),
                "operation_type": "sign_in",
                "operation_name": operation,
                "sensitive_fields": "",
                "row_count": 0,
                "outcome": outcome,
            }
        )

    # --- /app/api/* ---

    async def sign_in(self, request: Request) -> Response:
        body = await _json_body(request)
        if isinstance(body, Response):
            return body
        if not _same_origin(request):
            return _error(403, "CROSS_SITE", "不接受来自其他网站的登录请求")
        username, password = str(body.get("username") or "").strip(), str(body.get("password") or "")
        try:
            user_id, _ = await passwords.sign_in(self.engine, self.policy, username, password, self.address(request))
        except SignInRefused as refused:
            await self.log(request, "signIn", "locked" if refused.code == "SIGN_IN_LOCKED" else "refused", username=username)
            return _error(429 if refused.code == "SIGN_IN_LOCKED" else 401, refused.code, str(refused))
        session_id, _csrf = await passwords.open_session(self.engine, user_id, self.address(request))
        session = await passwords.find_session(self.engine, self.policy, session_id)
        assert session is not None  # opened just now
        await self.log(request, "signIn", "ok", session.caller)
        response = _json(self.describe(session))
        response.set_cookie(
            COOKIE, session_id, max_age=int(self.policy.absolute.total_seconds()), path="/",
            httponly=True, samesite="lax", secure=self.is_https(request),
        )
        return response

    async def signed_in(self, request: Request, operation: str, *, password_change: bool = False) -> Session | Response:
        """The request's session, its CSRF token checked; a refusal as a response otherwise."""
        if not self.has_cookie(request):
            return _error(401, "UNAUTHENTICATED", NOT_SIGNED_IN)
        session = await self.current(request)
        if session is None:
            return _error(401, "SESSION_EXPIRED", SESSION_EXPIRED)
        if not self.csrf_ok(request, session):
            await self.log(request, operation, "refused", session.caller)
            return _error(403, "CSRF_REFUSED", CSRF_REFUSED)
        if session.must_change_password and not password_change:
            return _error(403, "PASSWORD_CHANGE_REQUIRED", MUST_CHANGE)
        return session

    def describe(self, session: Session) -> dict[str, Any]:
        caller = session.caller
        return {
            "username": caller.username, "displayName": caller.display_name, "role": caller.role.name,
            "roleLabel": caller.role.label, "orgUnit": caller.org_unit, "department": caller.department,
            "jurisdictionCode": caller.jurisdiction_code, "csrfToken": session.csrf_token,
            "mustChangePassword": session.must_change_password,
            # The pages check a chosen photo as the hub will, so a refused one leaves its report unsent too.
            "photoRules": {"maxBytes": MAX_PHOTO_BYTES, "maxPixels": MAX_PIXELS, "refusals": REFUSALS},
        }

    async def session(self, request: Request) -> Response:
        session = await self.signed_in(request, "session", password_change=True)
        return session if isinstance(session, Response) else _json(self.describe(session))

    async def sign_out(self, request: Request) -> Response:
        session = await self.signed_in(request, "signOut", password_change=True)
        if isinstance(session, Response):
            return session
        await passwords.end_session(self.engine, session)
        await self.log(request, "signOut", "ok", session.caller)
        response = _json({"signedOut": True})
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=self.is_https(request))
        return response

    async def change_password(self, request: Request) -> Response:
        session = await self.signed_in(request, "changePassword", password_change=True)
        if isinstance(session, Response):
            return session
        body = await _json_body(request)
        if isinstance(body, Response):
            return body
        try:
            await passwords.change_password(self.engine, self.policy, session, str(body.get("current") or ""), str(body.get("new") or ""))
        except SignInRefused as refused:
            await self.log(request, "changePassword", "locked" if refused.code == "SIGN_IN_LOCKED" else "refused", session.caller)
            return _error(429 if refused.code == "SIGN_IN_LOCKED" else 400, refused.code, str(refused))
        await self.log(request, "changePassword", "ok", session.caller)
        return _json({"changed": True})

    async def tokens(self, request: Request) -> Response:
        """GET: my tokens (prefixes and times); POST {"password"}: a new one, shown this once.

        Making one asks for the password again: a token outlives the session, so whoever found a browser
        signed in must not turn it into 90 days of access that survive a password change."""
        session = await self.signed_in(request, "tokens")
        if isinstance(session, Response):
            return session
        username = session.caller.username
        if request.method == "POST":
            body = await _json_body(request)
            if isinstance(body, Response):
                return body
            try:
                await passwords.confirm_password(self.engine, self.policy, session, str(body.get("password") or ""))
            except SignInRefused as refused:
                await self.log(request, "issueToken", "locked" if refused.code == "SIGN_IN_LOCKED" else "refused", session.caller)
                return _error(429 if refused.code == "SIGN_IN_LOCKED" else 403, refused.code, str(refused))
            token = await accounts.issue_token(self.engine, username, TOKEN_DAYS)
            await self.log(request, "issueToken", "ok", session.caller)
            return _json({"token": token, "prefix": token[: accounts.PREFIX_LENGTH], "days": TOKEN_DAYS}, 201)
        listed = await accounts.list_tokens(self.engine, username)
        return _json({"tokens": [{k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in t.items()} for t in listed]})

    async def revoke_token(self, request: Request) -> Response:
        session = await self.signed_in(request, "revokeToken")
        if isinstance(session, Response):
            return session
        body = await _json_body(request)
        if isinstance(body, Response):
            return body
        prefix = str(body.get("prefix") or "")
        mine = {t["prefix"] for t in await accounts.list_tokens(self.engine, session.caller.username) if t["revoked_at"] is None}
        if prefix not in mine:  # another person's prefix reads as unknown, not as forbidden
            return _error(404, "NOT_FOUND", "没有这个有效令牌")
        await accounts.revoke_tokens(self.engine, prefix=prefix)
        await self.log(request, "revokeToken", "ok", session.caller)
        return _json({"revoked": prefix})

    def routes(self) -> list[Route]:
        return [
            Route("/app/api/sign-in", self.sign_in, methods=["POST"]),
            Route("/app/api/sign-out", self.sign_out, methods=["POST"]),
            Route("/app/api/session", self.session, methods=["GET"]),
            Route("/app/api/password", self.change_password, methods=["POST"]),
            Route("/app/api/tokens", self.tokens, methods=["GET", "POST"]),
            Route("/app/api/tokens/revoke", self.revoke_token, methods=["POST"]),
        ]


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}" or origin.split("://", 1)[-1] == request.headers.get("host")


async def _json_body(request: Request) -> dict[str, Any] | Response:
    # JSON only: a cross-site form cannot send it without the browser asking first.
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return _error(415, "UNSUPPORTED_MEDIA_TYPE", "请求正文须为 JSON")
    body = await request.body()
    if len(body) > MAX_BODY:
        return _error(413, "TOO_LARGE", "请求正文过大")
    try:
        parsed = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError:
        return _error(400, "INVALID", "请求正文不是有效的 JSON")
    return parsed if isinstance(parsed, dict) else _error(400, "INVALID", "请求正文须为 JSON 对象")


def _json(payload: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status, {"cache-control": "no-store"}, media_type="application/json")


def _error(status: int, code: str, message: str) -> Response:
    return _json({"errors": [{"message": message, "extensions": {"code": code}}]}, status)
