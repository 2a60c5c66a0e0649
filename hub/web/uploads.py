"""Files sent back to the hub: filled fill sheets (`POST /fill-sheets`) and legacy ledgers (`POST /imports`).

Both take the xlsx as the request body (not a form: a browser must ask before
sending it cross-site, so no CSRF token is needed), signed in, within a size
limit, and answer with a JSON report; errors carry a code beside the message.
The file is read by `hub.untrusted_xlsx` in a worker thread, and every answer
after signing in, refusals included, goes to the access log.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson
from sqlalchemy.exc import DBAPIError
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response

from hub.access.access_log import selected_fields, sensitive_read
from hub.data.database import BUSY_RETRY_SECONDS, database_trouble
from hub.domain.entities import WRITABLES
from hub.domain.requests import Refused
from hub.forms.fill_sheets import (
    FillSheetError,
    apply_upload,
    mark_problems,
    read_sheet,
)
from hub.forms.task_sheets import task_of
from hub.forms.untrusted_xlsx import SheetRefused, off_loop
from hub.legacy.importer import (
    BUILT_IN,
    ImportError_,
    apply_import,
    built_in_mapping,
    check_reads,
    note_access,
    plan_import,
    read_rows,
)
from hub.web.endpoint import Endpoint
from hub.web.export_endpoint import XLSX, ExportError, fill_plan_for
from hub.web.graphql_endpoint import request_id_of
from hub.web.sign_in import SignInError, sign_in
from hub.web.task_sheets import refusal, upload_task_sheet

MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class UploadError(Exception):
    def __init__(self, status: int, message: str, code: str = "INVALID", headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.headers = headers or {}


class UploadEndpoint(Endpoint):
    """Signs in, reads the body within a limit, runs `process`, answers JSON — and logs the access, refusals included."""

    operation = ""  # the access log's operation name
    content_type: str | None = XLSX  # None: any, when the content itself decides
    max_bytes = MAX_UPLOAD_BYTES
    too_large = f"文件超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB：请分成几个文件上传"

    async def handle(self, request: Request) -> Response:
        request_id = request_id_of(request)
        headers = {"x-request-id": request_id}
        context = None  # known once signed in: from then on every answer is logged
        try:
            try:
                caller, schema = await sign_in(request, self.authenticate, self.schemas, self.sessions)
            except SignInError as refused:
                raise UploadError(refused.status, str(refused), refused.code, refused.headers) from None
            context = self.make_context(request, request_id, caller)
            context.audit.update(operation_type="mutation", operation_name=self.operation)
            if self.content_type and request.headers.get("content-type", "").split(";")[0].strip() != self.content_type:
                raise UploadError(415, f"请把文件作为请求正文发送，并注明 Content-Type: {self.content_type}", "UNSUPPORTED_MEDIA_TYPE")
            body = bytearray()
            async for chunk in request.stream():
                body += chunk
                if len(body) > self.max_bytes:
                    raise UploadError(413, self.too_large, "FILE_TOO_LARGE")
            try:
                status, report = await self.process(request, context, schema, bytes(body))
            except SheetRefused as refused:
                raise UploadError(refused.status, str(refused), refused.code) from None
            except (DBAPIError, ConnectionError) as error:
                trouble = database_trouble(error)
                if not trouble:
                    raise
                raise UploadError(503, trouble[1], trouble[0], {"retry-after": str(BUSY_RETRY_SECONDS)}) from None
        except UploadError as error:
            status, report = error.status, {"errors": [{"message": str(error), "code": error.code}]}
            headers.update(error.headers)
        response = report if isinstance(report, Response) else Response(orjson.dumps(report), status, headers, media_type="application/json")
        if context is not None:
            outcome = "ok" if status < 400 else "error" if status >= 500 else "refused"
            response.background = BackgroundTask(self.record_access, context.caller, context, outcome)
        return response

    async def process(self, request: Request, context, schema, data: bytes) -> tuple[int, dict[str, Any] | Response]:
        raise NotImplementedError


class FillSheetUpload(UploadEndpoint):
    """A filled fill sheet: every change applied, or none (422 with the problems).

    `?report=xlsx` answers a refused upload with the sheet itself, the bad cells marked.
    """

    operation = "fillSheetUpload"

    async def process(self, request: Request, context, schema, data: bytes) -> tuple[int, dict[str, Any] | Response]:
        try:
            template_id, rows = await off_loop(read_sheet, data)
            context.audit.update(operation_name=f"{self.operation} {template_id}"[:128], row_count=len(rows))
            task_id = task_of(template_id)
            if task_id is not None:  # a village task's sheet: its rows and values are the task's
                try:
                    template, report = await upload_task_sheet(context, schema, task_id, rows)
                except Refused as refused:
                    raise UploadError(*refusal(refused)) from None
            else:
                template, report = await self._template_upload(context, schema, template_id, rows)
        except (FillSheetError, ExportError) as error:
            raise UploadError(error.status, str(error), error.code) from None
        if report.problems and request.query_params.get("report") == "xlsx":
            marked = await off_loop(mark_problems, data, template, report)
            headers = {"content-disposition": f"attachment; filename=\"{template.id}-problems.xlsx\""}
            return 422, Response(marked, 422, headers, media_type=XLSX)
        return (422 if report.problems else 200), report.as_dict()

    async def _template_upload(self, context, schema, template_id: str, rows: list) -> tuple[Any, Any]:
        template = await self.templates.get_for(template_id, context.caller)
        if template is None:
            raise UploadError(404, f"没有模板 `{template_id}`", "NOT_FOUND")
        # Checked as the download is, before any cell is compared with the hub.
        fill_plan = fill_plan_for(template, schema, context.caller, self.schemas.full._schema)
        # Each row is read back as the caller sees it: the template's sensitive fields are read.
        selected = selected_fields(schema._schema, fill_plan.document)
        context.audit["sensitive_fields"] = sensitive_read(schema, selected, context.policy.sensitive)
        return template, await apply_upload(context, schema, fill_plan, rows, WRITABLES)


class LegacyImportUpload(UploadEndpoint):
    """`?village=CODE[&rows=household][&apply=true]`: a dry run unless `apply=true`, then one transaction."""

    operation = "legacyImport"

    async def process(self, request: Request, context, schema, data: bytes) -> tuple[int, dict[str, Any]]:
        kind = request.query_params.get("rows", "person")
        apply = request.query_params.get("apply") == "true"
        mapping = built_in_mapping(kind) if kind in BUILT_IN else None
        if mapping is not None and request.query_params.get("village"):
            mapping = replace(mapping, village=request.query_params["village"])
        if mapping is None:
            context.audit.update(operation_type="query", operation_name=f"{self.operation} ? {kind}"[:128])
            raise UploadError(400, f"rows 只能是 `person`（每行一人）或 `household`（每行一户），不是 `{kind}`")
        note_access(context, mapping, kind, apply)
        try:
            check_reads(context, mapping)  # refused from the grants alone, before the file is even read
            rows, rejected = await off_loop(read_rows, data, mapping)
            context.audit["row_count"] = len(rows) + len(rejected)
            import_plan, village = await plan_import(context, mapping, rows, rejected)
            if apply:
                await apply_import(context, import_plan, village)
        except ImportError_ as error:
            raise UploadError(error.status, str(error), error.code) from None
        return 200, {**import_plan.summary(), "applied": apply, "village": village.name}
