"""A village task's fill sheet: `GET /tasks/{id}/fill-sheet.xlsx`, and back through `POST /fill-sheets`.

Both make `fillTask`'s checks first (the task in the caller's village, open, a
role that fills), refused in its words with its codes; the rows are the task's
as the caller reads them (`schema.requests.task_rows`), the sheet is written and
read back by `hub.forms.task_sheets`, and the values go through `fillTask`'s
write. Every answer goes to the access log.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response

from hub import clock
from hub.data.models import ChangeSource
from hub.domain import indicators as library
from hub.domain import requests as domain
from hub.domain.context import Context
from hub.forms import task_sheets
from hub.forms.fill_sheets import Report
from hub.forms.templates import Template
from hub.web.endpoint import Endpoint
from hub.web.export_endpoint import XLSX, ExportError
from hub.web.graphql_endpoint import request_id_of
from hub.web.sign_in import SignInError, sign_in
from schema.requests import fill_task, fillable_task, task_rows

STATUS = {"NOT_FOUND": 404, "FORBIDDEN": 403, "TASK_CLOSED": 409}  # fillTask's refusals as HTTP answers


def refusal(refused: domain.Refused) -> tuple[int, str, str]:
    problem = refused.problem
    return STATUS.get(problem.code, 400), problem.message, problem.code


async def _sheet(ctx: Context, view: Any, task_id: int) -> tuple[Any, Template, task_sheets.Indicators, list[Any]]:
    """The task (if the caller may fill it), its sheet's layout, its indicators and its rows as the caller reads them."""
    task = await fillable_task(ctx, task_id)
    request = (await ctx.read(select(domain.requests).where(domain.requests.c.id == task.request_id)))[0]
    lib = await library.library(ctx)
    indicators = task_sheets.Indicators({k: lib.by_key[k] for k in domain.indicator_keys(request)}, domain.ROWS[request.entity].type_name)
    headers = [c["header"] for c in domain.columns_of(request) if c["path"] is not None]
    template = task_sheets.layout(task.id, task.title, headers, list(indicators.by_key.values()))
    return task, template, indicators, await task_rows(ctx, task, view=view)


class TaskFillSheet(Endpoint):
    """`GET /tasks/{task}/fill-sheet.xlsx`: the task's fill sheet, for a cadre or grid worker of its village."""

    async def handle(self, request: Request) -> Response:
        request_id = request_id_of(request)
        headers = {"x-request-id": request_id}
        try:
            caller, view = await sign_in(request, self.authenticate, self.schemas, self.sessions)
        except SignInError as refused:
            headers.update(refused.headers)
            return Response(ExportError(refused.status, str(refused), refused.code).body(), refused.status, headers, media_type="application/json")
        ctx = self.make_context(request, request_id, caller)
        task_id = request.path_params["task"]
        ctx.audit.update(operation_type="query", operation_name=f"taskFillSheet {task_id}")
        try:
            task, template, indicators, rows = await _sheet(ctx, view, task_id)
        except domain.Refused as refused:
            status, message, code = refusal(refused)
            response = Response(ExportError(status, message, code).body(), status, headers, media_type="application/json")
            response.background = BackgroundTask(self.record_access, caller, ctx, "refused")
            return response
        ctx.audit["row_count"] = len(rows)
        data = task_sheets.write(template, task_sheets.nodes(rows, indicators), caller.org_unit, clock.today(), task.village_name)
        headers["content-disposition"] = (
            f"attachment; filename=\"task-{task.id}-fill.xlsx\"; filename*=UTF-8''{quote(f'{task.title}-{task.village_name}-填报表.xlsx')}"
        )
        response = Response(data, 200, headers, media_type=XLSX)
        response.background = BackgroundTask(self.record_access, caller, ctx, "ok")
        return response


async def upload_task_sheet(ctx: Context, view: Any, task_id: int, sheet_rows: list[tuple[int, str, list[Any]]]) -> tuple[Template, Report]:
    """A filled task sheet: checked against the task's rows now, then written all or none through `fillTask`'s write.

    Raises `domain.Refused` when the task may not be filled (see `refusal`).
    """
    _, template, indicators, rows = await _sheet(ctx, view, task_id)
    report, planned = task_sheets.read_back(template, sheet_rows, {int(r.entity_id): r for r in rows}, indicators)
    if report.problems or not planned:
        return template, report
    written = await fill_task(ctx, task_id, [p.change for p in planned], ChangeSource.FILL_SHEET)
    if written.errors:
        task_sheets.report_problems(report, planned, written.errors)
        return template, report
    report.changed_cells, report.applied = len(planned), True
    return template, report
