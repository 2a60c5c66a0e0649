"""What every HTTP endpoint shares: the schemas, signing in, a request's context, the access log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub.data.database import BUSY_RETRY_SECONDS, database_trouble
from hub.domain.context import Context
from hub.forms.download_links import DownloadLinks
from schema.build import Schemas

if TYPE_CHECKING:
    from hub.access.accounts import Caller
    from hub.forms.template_store import TemplateStore
    from hub.web.sessions import BrowserSessions


@dataclass(frozen=True)
class Services:
    schemas: Schemas
    templates: TemplateStore
    authenticate: Callable[[str], Awaitable[Caller | None]]
    make_context: Callable[[Request, str, Caller], Context]
    record_access: Callable[[Caller, Context, str], Awaitable[None]]
    links: DownloadLinks
    caller_by_id: Callable[[int], Awaitable[Caller | None]]  # for signed download links
    sessions: BrowserSessions | None = None  # people signed in with a password (session cookie)


class Endpoint:
    """A small ASGI endpoint over the shared services; subclasses answer `handle`."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.schemas = services.schemas
        self.templates = services.templates
        self.authenticate = services.authenticate
        self.make_context = services.make_context
        self.record_access = services.record_access
        self.sessions = services.sessions

    async def __call__(self, scope, receive, send) -> None:
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        raise NotImplementedError


async def database_trouble_response(request: Request, error: Exception) -> Response:
    """For every endpoint: a database that is down, restarting or busy is a 503 with Retry-After, not a 500."""
    trouble = database_trouble(error)
    if trouble is None:
        raise error
    code, message = trouble
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, 503, {"retry-after": str(BUSY_RETRY_SECONDS)})
