"""`GET /exports/{template}.xlsx?<variables>`: a department's form in one click.

The template's query runs as the caller — their department's view of the
schema, their jurisdiction — page by page into a write-only workbook on disk,
which is then streamed out and deleted.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson
from graphql import validate
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from hub.auth import SignInError, sign_in
from hub.exports import SheetWriter
from hub.graphql_http import request_id_of
from hub.template_store import TemplateStore
from hub.templates import Template
from resolvers.context import Context
from resolvers.errors import UserInputError
from schema.build import Schemas

if TYPE_CHECKING:
    from hub.accounts import Caller

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_SIZE = 500
CHUNK = 64 * 1024
_UNKNOWN_FIELD = re.compile(r"Cannot query field '(\w+)' on type '(\w+)'")
_UNKNOWN_ARGUMENT = re.compile(r"Unknown argument '(\w+)' on field '(\w+)\.(\w+)'")


class ExportError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _refusal(template: Template, message: str, caller: Caller) -> str:
    """Say which field the caller lacks, in the words of the policy (Type.field)."""
    who = caller.org_unit
    if match := _UNKNOWN_FIELD.search(message):
        field, type_name = match.groups()
        return f"template {template.id} needs {type_name}.{field}, which {who} may not read"
    if match := _UNKNOWN_ARGUMENT.search(message):
        argument, type_name, field = match.groups()
        return f"template {template.id} filters {type_name}.{field} by `{argument}`, which {who} may not read in full"
    return f"template {template.id} cannot run for {who}: {message}"


def template_variables(template: Template, params: dict[str, str]) -> dict[str, Any]:
    names = {v.name for v in template.variables}
    unknown = sorted(set(params) - names)
    if unknown:
        takes = ", ".join(sorted(names)) or "none"
        raise ExportError(400, f"unknown variable `{unknown[0]}` (template {template.id} takes: {takes})")
    values: dict[str, Any] = {}
    for variable in template.variables:
        raw = params.get(variable.name)
        if raw is None or raw == "":
            if variable.required:
                raise ExportError(400, f"missing variable `{variable.name}` ({variable.label})")
            if variable.default is not None:
                values[variable.name] = variable.default
            continue
        base = variable.type.rstrip("!")
        if base == "Int":
            try:
                values[variable.name] = int(raw)
            except ValueError:
                raise ExportError(400, f"variable `{variable.name}` ({variable.label}) must be an integer, got {raw!r}") from None
        elif base == "Boolean":
            if raw not in ("true", "false"):
                raise ExportError(400, f"variable `{variable.name}` ({variable.label}) must be true or false, got {raw!r}")
            values[variable.name] = raw == "true"
        else:
            values[variable.name] = raw
    return values


class ExportEndpoint:
    def __init__(
        self,
        templates: TemplateStore,
        schemas: Schemas,
        authenticate: Callable[[str], Awaitable[Caller | None]],
        make_context: Callable[[Request, str, Caller], Context],
        record_access: Callable[[Caller, Context, str], Awaitable[None]],
    ) -> None:
        self.templates = templates
        self.schemas = schemas
        self.authenticate = authenticate
        self.make_context = make_context
        self.record_access = record_access

    async def __call__(self, scope, receive, send) -> None:
        request = Request(scope, receive)
        response = await self.handle(request)
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        request_id = request_id_of(request)
        template = await self.templates.get(request.path_params["template"])
        try:
            if template is None:
                raise ExportError(404, f"no template `{request.path_params['template']}`")
            try:
                caller, schema = await sign_in(request, self.authenticate, self.schemas)
            except SignInError as refused:
                raise ExportError(refused.status, str(refused)) from None
            errors = validate(schema._schema, template.document)
            if errors:
                raise ExportError(403, _refusal(template, errors[0].message, caller))
            variables = template_variables(template, dict(request.query_params))
            path = await self._write(request, request_id, caller, schema, template, variables)
        except ExportError as error:
            body = orjson.dumps({"errors": [{"message": str(error)}]})
            return Response(body, error.status, {"x-request-id": request_id}, media_type="application/json")
        filename = f"{template.title}.xlsx"
        headers = {
            "content-disposition": f"attachment; filename=\"{template.id}.xlsx\"; filename*=UTF-8''{quote(filename)}",
            "x-request-id": request_id,
        }
        return StreamingResponse(_read(path), media_type=XLSX, headers=headers, background=BackgroundTask(os.unlink, path))

    async def _write(self, request, request_id, caller, schema, template: Template, variables: dict) -> Path:
        writer = SheetWriter(template, caller.org_unit, dt.date.today())
        try:
            return await self._fill(request, request_id, caller, schema, template, variables, writer)
        finally:
            writer.close()

    async def _fill(self, request, request_id, caller, schema, template: Template, variables: dict, writer: SheetWriter) -> Path:
        after = None
        rows = 0
        while True:
            context = self.make_context(request, request_id, caller)  # fresh loaders per page: memory stays flat
            result = await schema.execute(
                template.query, variable_values={**variables, "first": PAGE_SIZE, "after": after}, context_value=context
            )
            if result.errors:
                raise ExportError(*_execution_error(result.errors[0]))
            page = result.data[template.rows]
            rows += len(page["nodes"])
            writer.add_nodes(page["nodes"])
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        handle, name = tempfile.mkstemp(suffix=".xlsx", prefix="hub-export-")
        os.close(handle)
        writer.finish(Path(name))
        context.audit.update(row_count=rows, operation_name=f"export {template.id}")
        await self.record_access(caller, context, "ok")
        return Path(name)


def _execution_error(error) -> tuple[int, str]:
    original = error.original_error
    if isinstance(original, UserInputError):
        # A region code the caller cannot see is outside their jurisdiction (or does not exist).
        status = 403 if original.field in ("regionCode", "parentCode", "code") else 400
        return status, str(original)
    if original is None:
        return 400, error.message  # variable coercion: names the variable
    raise original


async def _read(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            yield chunk
