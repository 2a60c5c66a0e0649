"""GraphQL over HTTP (the graphql-over-http spec), as one small Starlette endpoint.

Why not strawberry's view: it answers `application/json` with status 200 and
`"data": null` on parse and validation errors, and has no request timeout or
error masking that keeps user errors readable. Here:

- POST (application/json) for every operation; GET only for queries (405 otherwise).
- `application/graphql-response+json` when the client asks for it; request errors (parse,
  validation, variable coercion) are then 400 without a `data` entry. Legacy
  `application/json` clients get 200, as the spec asks.
- Errors the client caused (GraphQL validation, `UserInputError`) are shown as
  they are; anything else is logged with the request id and masked.
- Execution is bounded by `HUB_REQUEST_TIMEOUT`.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import os
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from graphql import GraphQLError
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import (
    CannotGetOperationTypeError,
    InvalidOperationTypeError,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.types.graphql import OperationType

from hub.data.database import BUSY_RETRY_SECONDS, database_trouble
from hub.web.endpoint import Endpoint, Services
from hub.web.sign_in import SignInError, sign_in
from resolvers.errors import UserInputError

if TYPE_CHECKING:
    pass

log = logging.getLogger("hub.graphql")

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
MAX_BODY_BYTES = 1 << 20
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_UTF8 = ("utf-8", "utf8")


class BadRequest(Exception):
    """A malformed GraphQL-over-HTTP request: answered with this status whatever the Accept."""

    def __init__(self, message: str, status: int = 400, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def request_id_of(request: Request) -> str:
    """The request's id: the one `Observe` gave it, else the client's `X-Request-Id` when well-formed, else a new one."""
    return request.scope.get(REQUEST_ID) or request_id_for(request.scope)


REQUEST_ID = "hub.request_id"  # where `Observe` keeps the id in the ASGI scope, for every endpoint to answer with


def request_id_for(scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            given = value.decode("latin-1")
            if _REQUEST_ID.match(given):
                return given
            break
    return new_request_id()


def _new_key() -> None:
    global _key, _counter
    _key, _counter = secrets.token_bytes(16), itertools.count()


def new_request_id() -> str:
    """32 hex digits: a per-process counter under a keyed hash. uuid4 read the system's random
    source on every request (a system call each time); a bare counter would tell a client how
    many requests others sent between two of its own."""
    return hashlib.blake2b(next(_counter).to_bytes(8, "big"), key=_key, digest_size=16).hexdigest()


_key, _counter = b"", itertools.count()
_new_key()
os.register_at_fork(after_in_child=_new_key)  # a forked worker hashes under a key of its own


def _media_params(value: str) -> tuple[str, dict[str, str]]:
    media, *params = value.split(";")
    parsed = {}
    for param in params:
        key, _, val = param.partition("=")
        parsed[key.strip().lower()] = val.strip().strip('"')
    return media.strip().lower(), parsed


def negotiate(accept: str | None) -> str | None:
    """The media type to answer with, or None (406) when the client accepts neither of ours.

    No Accept header, `*/*` and `application/*` mean legacy `application/json`;
    only an explicit `application/graphql-response+json` opts into 4xx request errors.
    """
    if not accept or not accept.strip():
        return JSON
    best: dict[str, tuple[int, float]] = {}  # media type -> (specificity of the matching range, q)
    for item in accept.split(","):
        media, params = _media_params(item)
        if params.get("charset", "utf-8").lower() not in _UTF8:
            continue
        try:
            quality = float(params.get("q", "1"))
        except ValueError:
            continue
        target = {GRAPHQL_RESPONSE: GRAPHQL_RESPONSE, JSON: JSON, "application/*": JSON, "*/*": JSON}.get(media)
        specificity = {"*/*": 0, "application/*": 1}.get(media, 2)
        if target and specificity >= best.get(target, (-1, 0.0))[0]:
            best[target] = (specificity, quality)
    graphql_q, json_q = best.get(GRAPHQL_RESPONSE, (0, 0.0))[1], best.get(JSON, (0, 0.0))[1]
    if graphql_q > 0 and graphql_q >= json_q:
        return GRAPHQL_RESPONSE
    return JSON if json_q > 0 else None


def _json(raw: str | bytes, what: str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequest(f"{what} is not valid JSON") from None


async def read_params(request: Request) -> dict[str, Any]:
    if request.method == "GET":
        params: dict[str, Any] = {}
        for key in ("query", "operationName", "variables", "extensions"):
            values = request.query_params.getlist(key)
            if len(values) > 1:
                raise BadRequest(f"{key} was given more than once")
            if values and (values[0] or key == "query"):
                params[key] = values[0]
        for key in ("variables", "extensions"):  # JSON-encoded in the URL
            if key in params:
                params[key] = _json(params[key], key)
    else:
        media, media_params = _media_params(request.headers.get("content-type", ""))
        if media != JSON or media_params.get("charset", "utf-8").lower() not in _UTF8:
            raise BadRequest("POST bodies must be application/json (UTF-8)", status=415)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise BadRequest(f"the request body is larger than {MAX_BODY_BYTES} bytes", status=413)
        if not body:
            raise BadRequest("the request body is empty")
        params = _json(bytes(body), "the request body")
        if not isinstance(params, dict):
            raise BadRequest("the request body must be a JSON object (batched requests are not supported)")
    if params.get("query") is None:
        raise BadRequest("query is missing")
    if not isinstance(params["query"], str):
        raise BadRequest("query must be a string")
    if params.get("operationName") is not None and not isinstance(params["operationName"], str):
        raise BadRequest("operationName must be a string")
    for key in ("variables", "extensions"):
        if params.get(key) is not None and not isinstance(params[key], dict):
            raise BadRequest(f"{key} must be a JSON object")
    return params


def format_error(error: GraphQLError, request_id: str) -> dict[str, Any]:
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return error.formatted  # parse, validation and guard errors: the client's to fix
    trouble = database_trouble(original)
    if trouble:  # busy or unreachable: the client should try again (503 with Retry-After)
        formatted = error.formatted
        formatted.update(message=trouble[1], extensions={"code": trouble[0]})
        return formatted
    if isinstance(original, UserInputError):
        formatted = error.formatted
        extensions = {"code": original.code}
        if original.field:
            extensions["field"] = original.field
        formatted["extensions"] = extensions
        return formatted
    log.error("unexpected error in request %s at %s", request_id, error.path, exc_info=original)
    masked = {"message": f"Internal server error (request id {request_id})", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
    if error.locations:
        masked["locations"] = [loc._asdict() for loc in error.locations]
    if error.path:
        masked["path"] = error.path
    return masked


def _is_request_error(result: ExecutionResult) -> bool:
    # Parse/validation failures, and variable coercion (errors with no path and no data).
    if isinstance(result, PreExecutionError):
        return True
    return result.data is None and bool(result.errors) and all(e.path is None for e in result.errors)


class GraphQLEndpoint(Endpoint):
    """`/graphql`: authenticates the caller, picks their department's schema, runs the operation."""

    def __init__(
        self, services: Services, timeout: float, html_page: Callable[[Request], Awaitable[Response]] | None = None
    ) -> None:
        super().__init__(services)
        self.timeout = timeout
        self.html_page = html_page

    async def handle(self, request: Request) -> Response:
        request_id = request_id_of(request)
        headers = {"x-request-id": request_id}
        accept = request.headers.get("accept")
        if request.method == "GET" and self.html_page and accept and "text/html" in accept and "query" not in request.query_params:
            return await self.html_page(request)  # GraphiQL itself needs no token; its requests do
        media_type = negotiate(accept)
        if media_type is None:
            return _respond({"errors": [{"message": f"Not acceptable: use {GRAPHQL_RESPONSE} or {JSON}"}]}, 406, JSON, headers)

        def request_error(message: str, status: int, extra: dict[str, str] | None = None, code: str | None = None) -> Response:
            error: dict[str, Any] = {"message": message}
            if code:
                error["extensions"] = {"code": code}
            return _respond({"errors": [error]}, status, media_type, {**headers, **(extra or {})})

        # A well-formed request whose GraphQL request fails (no data): 400 under
        # graphql-response+json, 200 under legacy application/json.
        soft_status = 400 if media_type == GRAPHQL_RESPONSE else 200
        if request.method not in ("GET", "POST"):
            return request_error("use GET or POST", 405, {"allow": "GET, POST"})

        try:
            caller, schema = await sign_in(request, self.authenticate, self.schemas, self.sessions)
        except SignInError as refused:
            return request_error(str(refused), refused.status, refused.headers, refused.code)

        try:
            params = await read_params(request)
        except BadRequest as error:
            return request_error(str(error), error.status, error.headers)

        allowed = {OperationType.QUERY} if request.method == "GET" else {OperationType.QUERY, OperationType.MUTATION}
        context = self.make_context(request, request_id, caller)
        try:
            async with asyncio.timeout(self.timeout):
                result = await schema.run(params["query"], params.get("variables"), context, params.get("operationName") or None, allowed)
        except InvalidOperationTypeError as error:
            if request.method == "GET" and error.operation_type == OperationType.MUTATION:
                return request_error("mutations are not allowed over GET; use POST", 405, {"allow": "POST"})
            return request_error(f"{error.operation_type.value} operations are not supported over HTTP", soft_status)
        except CannotGetOperationTypeError as error:
            return request_error(error.as_http_error_reason(), soft_status)
        except MissingQueryError:
            return request_error("query is empty", soft_status)
        except TimeoutError:
            log.warning("request %s stopped after %s s", request_id, self.timeout)
            response = request_error(f"the request took longer than {self.timeout:g} s and was stopped", 504)
            response.background = BackgroundTask(self.record_access, caller, context, "timeout")
            return response
        finally:
            context.release()

        body: dict[str, Any] = {}
        failed = _is_request_error(result)
        if not failed:
            body["data"] = result.data  # field errors keep data, even null: 200
        if result.errors:
            body["errors"] = [format_error(e, request_id) for e in result.errors]
        if any(database_trouble(e.original_error) for e in result.errors or ()):
            response = _respond(body, 503, media_type, {**headers, "retry-after": str(BUSY_RETRY_SECONDS)})
        else:
            response = _respond(body, soft_status if failed else 200, media_type, headers)
        outcome = "refused" if failed else "error" if result.errors else "ok"
        response.background = BackgroundTask(self.record_access, caller, context, outcome)
        return response


def _respond(payload: dict[str, Any], status: int, media_type: str, headers: dict[str, str]) -> Response:
    return Response(orjson.dumps(payload), status, headers, media_type=f"{media_type}; charset=utf-8")
