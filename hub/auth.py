"""Signing a request in: bearer token → caller → the caller's view of the schema."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import Request

from schema.build import HubSchema, Schemas

if TYPE_CHECKING:
    from hub.accounts import Caller

MISSING_TOKEN = (
    "missing token: send the header `Authorization: Bearer <token>` "
    "(an administrator issues tokens with `hub token issue USERNAME`)"
)
BAD_TOKEN = "invalid, expired or revoked token"


class SignInError(Exception):
    def __init__(self, status: int, message: str, code: str, headers: dict[str, str]) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.headers = headers


async def sign_in(
    request: Request, authenticate: Callable[[str], Awaitable[Caller | None]], schemas: Schemas
) -> tuple[Caller, HubSchema]:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise SignInError(401, MISSING_TOKEN, "UNAUTHENTICATED", {"www-authenticate": "Bearer"})
    caller = await authenticate(token.strip())
    if caller is None:
        raise SignInError(401, BAD_TOKEN, "UNAUTHENTICATED", {"www-authenticate": 'Bearer error="invalid_token"'})
    schema = schemas.for_caller(caller.role, caller.department)
    if schema is None:
        message = f"{caller.org_unit} (department {caller.department}) has no grants in the policy"
        raise SignInError(403, message, "FORBIDDEN", {})
    return caller, schema
