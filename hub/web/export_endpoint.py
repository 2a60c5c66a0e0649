"""`GET /exports/{template}.xlsx?<variables>`: a department's form in one click.

The template's query runs as the caller — their department's view of the
schema, their jurisdiction — page by page; each page's rows are written into
the xlsx and sent before the next page is read (see `hub.exports`).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson
from graphql import (
    ArgumentNode,
    GraphQLSchema,
    OperationDefinitionNode,
    VariableNode,
    Visitor,
    validate,
    visit,
)
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from hub import clock
from hub.domain.context import Context
from hub.domain.entities import WRITABLES
from hub.forms.download_links import LinkError
from hub.forms.fill_sheets import (
    FillPlan,
    FillSheetError,
    check_readable,
    key_of,
    plan,
)
from hub.forms.templates import (
    Template,
    TemplateVariableError,
    runnable,
    template_variables,
)
from hub.forms.xlsx import SheetWriter
from hub.web.endpoint import Endpoint, Services
from hub.web.graphql_endpoint import request_id_of
from hub.web.sign_in import SignInError, sign_in
from resolvers.errors import UserInputError

if TYPE_CHECKING:
    from hub.access.accounts import Caller
    from schema.build import HubSchema

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_SIZE = 500
log = logging.getLogger("hub.forms.xlsx")
_UNKNOWN_FIELD = re.compile(r"Cannot query field '(\w+)' on type '(\w+)'")
_UNKNOWN_ARGUMENT = re.compile(r"Unknown argument '(\w+)' on field '(\w+)\.(\w+)'")
REGION_ARGUMENTS = ("regionCode", "parentCode")  # the arguments that limit a template's rows to a region
REGION_CODE = re.compile(r"[0-9]{12}")  # ASCII digits only: str.isdigit() also takes full-width ones
REGION_NAME = "query($code: String!) { region(code: $code) { name } }"


class ExportError(Exception):
    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code

    def body(self) -> bytes:
        return orjson.dumps({"errors": [{"code": self.code, "message": str(self)}]})


def region_not_found(code: str) -> ExportError:
    # The same answer whether the region does not exist or lies outside the caller's jurisdiction.
    return ExportError(404, f"没有代码为 {code} 的地区（或不在您的管辖范围内）", "NOT_FOUND")


class _RegionVariables(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def enter_argument(self, node: ArgumentNode, *_) -> None:
        if node.name.value in REGION_ARGUMENTS and isinstance(node.value, VariableNode):
            self.names.append(node.value.name.value)


def region_variables(template: Template) -> list[str]:
    """The variables that name the regions a template's rows come from (`region`, `town`), in query order."""
    visitor = _RegionVariables()
    for definition in template.document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            visit(definition, visitor)
    return list(dict.fromkeys(visitor.names))


def check_runnable(template: Template, schema: HubSchema, caller: Caller) -> None:
    """May the caller run this template: is every field and filter it asks in their view?"""
    if not runnable(template, schema._schema):
        errors = validate(schema._schema, template.document)
        raise ExportError(403, _refusal(template, errors[0].message, caller), "FORBIDDEN")


def fill_plan_for(template: Template, schema: HubSchema, caller: Caller, full: GraphQLSchema) -> FillPlan:
    """A fill sheet's plan, if the caller may have one: the download's check, and the upload's before any cell is read."""
    check_runnable(template, schema, caller)
    try:
        fill_plan = plan(template, full, WRITABLES)
        check_readable(fill_plan, schema, caller.org_unit)
    except FillSheetError as error:
        raise ExportError(error.status, str(error), error.code) from None
    if validate(schema._schema, fill_plan.document):  # the caller must read each record's id and version
        raise ExportError(403, f"表样 {template.id}：{caller.org_unit}不能读取填报表所需的记录版本", "FORBIDDEN")
    return fill_plan


def _refusal(template: Template, message: str, caller: Caller) -> str:
    """Say which field the caller lacks, in the words of the policy (Type.field)."""
    who = caller.org_unit
    if match := _UNKNOWN_FIELD.search(message):
        field, type_name = match.groups()
        return f"表样 {template.id} 需要读取 {type_name}.{field}，{who}无权读取"
    if match := _UNKNOWN_ARGUMENT.search(message):
        argument, type_name, field = match.groups()
        return f"表样 {template.id} 按 `{argument}` 筛选 {type_name}.{field}，{who}无权完整读取"
    return f"表样 {template.id} 不能为{who}运行：{message}"


class ExportEndpoint(Endpoint):
    def __init__(self, services: Services, fill: bool = False) -> None:
        """`fill=True` serves fill sheets (`/fill-sheets/…`) instead of printed forms."""
        super().__init__(services)
        self.fill = fill

    async def _sign_in(self, request: Request) -> tuple[Caller, Any, dict[str, str]]:
        """The caller, their schema and the template variables: from a bearer token, or from a signed link."""
        query = dict(request.query_params)
        if "signature" not in query and "signed_by" not in query:
            try:
                caller, schema = await sign_in(request, self.authenticate, self.schemas, self.sessions)
            except SignInError as refused:
                raise ExportError(refused.status, str(refused), refused.code) from None
            return caller, schema, query
        try:
            user_id, variables = self.services.links.verify(request.url.path, query, int(time.time()))
        except LinkError as error:
            raise ExportError(403, str(error), "FORBIDDEN") from None
        caller = await self.services.caller_by_id(user_id)
        schema = None if caller is None else self.schemas.for_caller(caller.role, caller.department)
        if schema is None:
            raise ExportError(403, "下载链接所属的用户已停用", "FORBIDDEN")
        return caller, schema, variables

    async def _region_name(self, request, request_id, caller, schema, template: Template, variables) -> str | None:
        """The name of the region the form covers (its first region variable), each region variable looked up
        as the caller first: a code they cannot see is not found, as one that does not exist."""
        names = []
        for variable in region_variables(template):
            code = variables.get(variable)
            if code is None:
                continue
            if not isinstance(code, str) or not REGION_CODE.fullmatch(code):
                label = next((f"（{v.label}）" for v in template.variables if v.name == variable), "")
                raise ExportError(400, f"变量 `{variable}`{label}应为 12 位数字，收到 {code!r}", "INVALID")
            context = self.make_context(request, request_id, caller)
            try:
                result = await schema.execute(REGION_NAME, variable_values={"code": code}, context_value=context)
            finally:
                context.release()
            if result.errors:
                raise ExportError(*_execution_error(result.errors[0]))
            if result.data["region"] is None:
                raise region_not_found(code)
            names.append(result.data["region"]["name"])
        return names[0] if names else None

    async def handle(self, request: Request) -> Response:
        request_id = request_id_of(request)
        try:
            caller, schema, params = await self._sign_in(request)
            template = await self.templates.get_for(request.path_params["template"], caller)
            if template is None:  # another department's saved template is not found either
                raise ExportError(404, f"没有模板 `{request.path_params['template']}`", "NOT_FOUND")
            check_runnable(template, schema, caller)
            try:
                variables = template_variables(template, params)
            except TemplateVariableError as error:
                raise ExportError(400, str(error), "INVALID") from None
            query, fill_key = template.query, None
            if self.fill:
                fill_plan = fill_plan_for(template, schema, caller, self.schemas.full._schema)
                query, fill_key = fill_plan.query, partial(key_of, fill_plan)
            region = await self._region_name(request, request_id, caller, schema, template, variables)
            export = Export(self, request, request_id, caller, schema, template, variables, query, fill_key, region)
            await export.first_page()  # what can go wrong mostly does here, before any byte is sent
        except ExportError as error:
            return Response(error.body(), error.status, {"x-request-id": request_id}, media_type="application/json")
        # Both names differ between a form and its fill sheet: `curl -OJ` saves under the ASCII one.
        ascii_name, filename = (
            (f"{template.id}-fill.xlsx", f"{template.title}-填报表.xlsx") if self.fill else (f"{template.id}.xlsx", f"{template.title}.xlsx")
        )
        headers = {
            "content-disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}",
            "x-request-id": request_id,
        }
        return StreamingResponse(export.stream(), media_type=XLSX, headers=headers)


class Export:
    """One download: pages of the template's query, each written and sent before the next is read."""

    def __init__(
        self, endpoint: ExportEndpoint, request, request_id, caller, schema, template: Template, variables, query: str, fill_key=None,
        region: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.request = request
        self.request_id = request_id
        self.caller = caller
        self.schema = schema
        self.template = template
        self.variables = variables
        self.query = query
        self.writer = SheetWriter(template, caller.org_unit, clock.today(), fill_key, region)
        self.after: str | None = None
        self.has_next = True
        self.rows = 0
        self.context: Context | None = None

    async def first_page(self) -> None:
        try:
            await self._page()
        except BaseException:
            self.writer.close()
            raise

    async def _page(self) -> None:
        # A fresh context per page, released after it: memory stays flat however many pages.
        self.context = self.endpoint.make_context(self.request, self.request_id, self.caller)
        try:
            result = await self.schema.execute(
                self.query,
                variable_values={**self.variables, "first": PAGE_SIZE, "after": self.after},
                context_value=self.context,
            )
        finally:
            self.context.release()
        if result.errors:
            raise ExportError(*_execution_error(result.errors[0]))
        page = result.data[self.template.rows]
        self.rows += len(page["nodes"])
        self.writer.add_nodes(page["nodes"])
        self.has_next = page["pageInfo"]["hasNextPage"]
        self.after = page["pageInfo"]["endCursor"]

    async def stream(self) -> AsyncIterator[bytes]:
        try:
            yield self.writer.take()
            while self.has_next:
                await self._page()
                yield self.writer.take()
            yield self.writer.finish()
        except ExportError as error:  # the response has started: all we can do is stop it short
            log.error("export %s for %s stopped after %d rows: %s", self.template.id, self.caller.username, self.rows, error)
            raise
        finally:
            self.writer.close()
        self.context.audit.update(row_count=self.rows, operation_name=f"export {self.template.id}")
        await self.endpoint.record_access(self.caller, self.context, "ok")


def _execution_error(error) -> tuple[int, str, str]:
    original = error.original_error
    if isinstance(original, UserInputError):
        # A region code the caller cannot see is outside their jurisdiction (or does not exist): not found, never forbidden.
        if original.field in ("regionCode", "parentCode", "code"):
            return 404, str(original), "NOT_FOUND"
        return 400, str(original), "INVALID"
    if original is None:
        return 400, error.message, "INVALID"  # variable coercion: names the variable
    raise original



