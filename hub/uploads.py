"""Files sent back to the hub: filled fill sheets (`POST /fill-sheets`) and legacy ledgers (`POST /imports`).

Both take the xlsx as the request body (not a form: a browser must ask before
sending it cross-site, so no CSRF token is needed), signed in, within a size
limit, and answer with a JSON report.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from hub.auth import SignInError, sign_in
from hub.export_endpoint import XLSX, ExportError, fill_plan_for
from hub.fill_sheets import (
    FillSheetError,
    apply_upload,
    mark_problems,
    read_sheet,
)
from hub.graphql_http import request_id_of
from hub.legacy.importer import (
    BUILT_IN,
    ImportError_,
    apply_import,
    built_in_mapping,
    plan_import,
    read_rows,
)
from hub.services import Endpoint
from resolvers.writables import WRITABLES

MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class UploadError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class UploadEndpoint(Endpoint):
    async def handle(self, request: Request) -> Response:
        request_id = request_id_of(request)
        try:
            try:
                caller, schema = await sign_in(request, self.authenticate, self.schemas)
            except SignInError as refused:
                raise UploadError(refused.status, str(refused)) from None
            if request.headers.get("content-type", "").split(";")[0].strip() != XLSX:
                raise UploadError(415, f"send the file as the request body with Content-Type: {XLSX}")
            body = bytearray()
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_UPLOAD_BYTES:
                    raise UploadError(413, f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
            status, report = await self.process(request, self.make_context(request, request_id, caller), schema, bytes(body))
        except UploadError as error:
            status, report = error.status, {"errors": [{"message": str(error)} | ({"code": error.code} if error.code else {})]}
        if isinstance(report, Response):
            return report
        return Response(orjson.dumps(report), status, {"x-request-id": request_id}, media_type="application/json")

    async def process(self, request: Request, context, schema, data: bytes) -> tuple[int, dict[str, Any]]:
        raise NotImplementedError


class FillSheetUpload(UploadEndpoint):
    """A filled fill sheet: every change applied, or none (422 with the problems).

    `?report=xlsx` answers a refused upload with the sheet itself, the bad cells marked.
    """

    async def process(self, request: Request, context, schema, data: bytes) -> tuple[int, dict[str, Any] | Response]:
        try:
            template_id, rows = read_sheet(data)
            template = await self.templates.get(template_id)
            if template is None:
                raise UploadError(404, f"no template `{template_id}`")
            # Checked as the download is, before any cell is compared with the hub.
            fill_plan = fill_plan_for(template, schema, context.caller, self.schemas.full._schema)
            report = await apply_upload(context, schema, fill_plan, rows, WRITABLES)
        except (FillSheetError, ExportError) as error:
            raise UploadError(error.status, str(error), error.code) from None
        if report.problems and request.query_params.get("report") == "xlsx":
            marked = mark_problems(data, template, report)
            headers = {"content-disposition": f"attachment; filename=\"{template.id}-problems.xlsx\""}
            return 422, Response(marked, 422, headers, media_type=XLSX)
        return (422 if report.problems else 200), report.as_dict()


class LegacyImportUpload(UploadEndpoint):
    """`?village=CODE[&rows=household][&apply=true]`: a dry run unless `apply=true`, then one transaction."""

    async def process(self, request: Request, context, schema, data: bytes) -> tuple[int, dict[str, Any]]:
        kind = request.query_params.get("rows", "person")
        if kind not in BUILT_IN:
            raise UploadError(400, f"rows: `person` (one row per person) or `household` (one row per household), not `{kind}`")
        mapping = built_in_mapping(kind)
        if request.query_params.get("village"):
            mapping = replace(mapping, village=request.query_params["village"])
        apply = request.query_params.get("apply") == "true"
        try:
            rows, rejected = read_rows(data, mapping)
            import_plan, village = await plan_import(context, mapping, rows, rejected)
            if apply:
                await apply_import(context, import_plan, village)
        except ImportError_ as error:
            raise UploadError(400, str(error)) from None
        return 200, {**import_plan.summary(), "applied": apply, "village": village.name}
