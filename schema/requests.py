"""Data requests (填报任务): filing, town review, village tasks, progress and statistics."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import strawberry
from sqlalchemy import false, select
from strawberry.types import Info

from hub import clock
from hub.data.models import ChangeSource, RequestStatus, Role, TaskStatus
from hub.domain import history
from hub.domain import indicators as library_domain
from hub.domain import requests as domain
from hub.domain.context import Context
from resolvers import requests as filing
from resolvers import tasks as tasks_resolvers
from resolvers.errors import UserInputError, int_id
from resolvers.pages import root_page
from resolvers.regions import region_by_code
from schema.connections import Connection
from schema.errors import FieldError, field_errors
from schema.fields import After, First, gql_enum
from schema.indicators import (
    IndicatorInput,
    IndicatorValueInput,
    IndicatorValuesPayload,
    definition_of,
    value_changes,
    write,
)
from schema.templates import Template

RequestStatusEnum = gql_enum(RequestStatus, "填报任务状态")
TaskStatusEnum = gql_enum(TaskStatus, "村级任务状态")
r = domain.requests.c
t = domain.tasks.c


def department_name(root: Any, info: Info) -> str:
    """A person reads the unit (应急管理局), not its key (`yingji`)."""
    return info.context.policy.department_name(root.department)


@strawberry.type(description="所需栏目及数据中心的判断")
class RequestColumn:
    header: str = strawberry.field(description="栏目名称")
    status: str = strawberry.field(description="HELD_GRANTED 数据中心已有且已授权，HELD_NOT_GRANTED 已有但本部门未获授权，NOT_HELD 须采集")
    reason: str = strawberry.field(description="判断理由")
    path: str | None = strawberry.field(description="字段路径（数据中心已有的字段）")
    indicator: str | None = strawberry.field(description="指标编码（指标库中的指标）")


@strawberry.type(description="一次状态变更：谁、何时、从什么到什么、为什么")
class RequestTransition:
    from_status: str | None = strawberry.field(description="原状态")
    to_status: str = strawberry.field(description="新状态")
    username: str = strawberry.field(description="操作人")
    org_unit: str = strawberry.field(description="操作单位")
    at: dt.datetime = strawberry.field(description="时间")
    reason: str | None = strawberry.field(description="理由或建议")
    task_id: strawberry.ID | None = strawberry.field(description="村级任务（村级任务的变更）")


@strawberry.type(description="一个乡镇（街道）对任务的审核")
class TownReview:
    town_name: str = strawberry.field(description="乡镇（街道）")
    status: RequestStatusEnum = strawberry.field(description="审核状态")
    reason: str | None = strawberry.field(description="理由或建议")
    duplicate_of_id: strawberry.ID | None = strawberry.field(description="与之重复的任务")


@strawberry.type(description="各村（社区）进度")
class Progress:
    total: int = strawberry.field(description="村级任务数")
    not_started: int = strawberry.field(description="未开始")
    in_progress: int = strawberry.field(description="填报中")
    submitted: int = strawberry.field(description="已报送")
    sent_back: int = strawberry.field(description="已退回重填")
    accepted: int = strawberry.field(description="已验收")
    overdue: int = strawberry.field(description="已逾期（过了截止日期仍未报送）")
    reporting_rate: float = strawberry.field(description="报送率（已报送和已验收 / 村级任务数）")
    on_time_rate: float = strawberry.field(description="按时报送率（截止日期前报送 / 村级任务数）")


@strawberry.type(description="一格要填的指标值（上期的值供确认或修改）")
class TaskCell:
    key: str = strawberry.field(description="指标编码")
    label: str = strawberry.field(description="指标名称")
    unit: str | None = strawberry.field(description="计量单位")
    value: str | None = strawberry.field(description="本期的值")
    version: int = strawberry.field(description="版本（尚无值时为 0；填写时带上）")
    last_period_value: str | None = strawberry.field(description="上期的值（按周期重复的任务）")


@strawberry.type(description="一格基础栏目：数据中心已有的值，预先填好，只读")
class TaskBaseCell:
    header: str = strawberry.field(description="栏目名称")
    value: str | None = strawberry.field(description=f"值（本人所能读取的：脱敏字段为脱敏值；未获授权的栏目为“{tasks_resolvers.NOT_GRANTED}”）")
    granted: bool = strawberry.field(description="本人是否获授权读取这一栏目")


@strawberry.type(description="任务的一行：一个对象，其基础栏目（只读）及要填的指标")
class TaskRow:
    entity_id: strawberry.ID = strawberry.field(description="对象记录ID")
    label: str = strawberry.field(description="对象（村名、户地址、人员姓名、企业或易涝点名称）")
    base: list[TaskBaseCell] = strawberry.field(description="基础栏目：数据中心已有的值，预先填好，只读")
    cells: list[TaskCell] = strawberry.field(description="要填的指标")


@strawberry.type(description="一格：一个对象的一个指标")
class TaskCellRef:
    entity_id: strawberry.ID = strawberry.field(description="对象记录ID")
    key: str = strawberry.field(description="指标编码")


@strawberry.input(description="一格：一个对象的一个指标（退回时指出要改的行和栏目）")
class TaskCellInput:
    entity_id: strawberry.ID = strawberry.field(description="对象记录ID")
    key: str = strawberry.field(description="指标编码")


@strawberry.type(description="一次修改：某一格从什么改成什么（取自修改记录）")
class TaskChange:
    entity_id: strawberry.ID = strawberry.field(description="对象记录ID")
    key: str = strawberry.field(description="指标编码")
    label: str = strawberry.field(description="指标名称")
    old_value: str | None = strawberry.field(description="原值")
    new_value: str | None = strawberry.field(description="新值")
    username: str = strawberry.field(description="修改人")
    at: dt.datetime = strawberry.field(description="修改时间")


@strawberry.type(description="一轮报送：谁何时报送，是否被退回（谁、何时、原因、指出的格），这一轮改了什么")
class TaskRound:
    number: int = strawberry.field(description="第几轮")
    submitted_at: dt.datetime = strawberry.field(description="报送时间")
    submitted_by: str = strawberry.field(description="报送人")
    sent_back_at: dt.datetime | None = strawberry.field(description="退回时间")
    sent_back_by: str | None = strawberry.field(description="退回人")
    sent_back_reason: str | None = strawberry.field(description="退回原因")
    sent_back_cells: list[TaskCellRef] = strawberry.field(description="退回时指出要改的格")
    accepted_at: dt.datetime | None = strawberry.field(description="验收时间")
    accepted_by: str | None = strawberry.field(description="验收人")
    changes: list[TaskChange] = strawberry.field(description="这一轮（自上一轮报送以来）各格的修改")


def _round(found: domain.Round) -> TaskRound:
    cells = [TaskCellRef(entity_id=strawberry.ID(str(e)), key=k) for e, k in found.sent_back_cells or []]
    changes = [TaskChange(**{**vars(c), "entity_id": strawberry.ID(str(c.entity_id))}) for c in found.changes or []]
    return TaskRound(**{**vars(found), "sent_back_cells": cells, "changes": changes})


@strawberry.type(description="村级任务：一个村（社区）收到的一项已通过审核的填报任务")
class VillageTask:
    id: strawberry.ID = strawberry.field(description="记录ID")
    title: str = strawberry.field(description="任务名称")
    purpose: str = strawberry.field(description="用途")
    department: str = strawberry.field(description="发起部门")
    department_name: str = strawberry.field(resolver=department_name, description="发起部门名称")
    deadline: dt.date = strawberry.field(description="截止日期")
    period: str = strawberry.field(description="期别")
    village_name: str = strawberry.field(description="村（社区）")
    status: TaskStatusEnum = strawberry.field(description="状态")
    round: int = strawberry.field(description="报送次数")
    submitted_at: dt.date | None = strawberry.field(description="报送日期")
    sent_back_reason: str | None = strawberry.field(description="退回原因")
    version: int = strawberry.field(description="版本")

    @strawberry.field(description="已逾期：过了截止日期仍未报送")
    def overdue(self) -> bool:
        return domain.overdue(self, self.deadline)

    @strawberry.field(description="要填的行：基础栏目预先填好（只读），只开放指标栏目；上期的值一并给出")
    async def rows(self, info: Info) -> list[TaskRow]:
        return await info.context.load(TaskRows(info.schema), (int(self.id), self.request_id, self.village_id))

    @strawberry.field(description="本人不能报送这项任务的原因（如网格员只能填写）；为空表示本人可以报送")
    def submit_refusal(self, info: Info) -> FieldError | None:
        try:
            domain.check_may_submit(info.context)
        except domain.Refused as refused:
            return field_errors([refused.problem])[0]
        return None

    @strawberry.field(description="本任务填报表（xlsx）的下载路径：填好后上传到 POST /fill-sheets")
    def fill_sheet_path(self) -> str:
        return fill_sheet_path(self.id)

    @strawberry.field(description="状态变更记录")
    async def history(self, info: Info) -> list[RequestTransition]:
        stmt = select(domain.transitions).where(domain.transitions.c.task_id == int(self.id)).order_by(domain.transitions.c.id)
        return await info.context.records(stmt, domain.transitions)

    @strawberry.field(description="各轮报送：每次报送、退回（原因和指出的格）及这一轮改了什么；验收后锁定")
    async def rounds(self, info: Info) -> list[TaskRound]:
        return [_round(found) for found in await domain.rounds(info.context, self)]


@strawberry.type(description="收件箱：今天有需要报送的信息吗？")
class Inbox:
    message: str = strawberry.field(description="一句话告诉村干部有没有要报送的")
    tasks: list[VillageTask] = strawberry.field(description="待填报或被退回的任务，截止日期近的在前")


@strawberry.type(description="填报任务：部门的数据需求，先问数据中心，再经乡镇审核下发到村")
class DataRequest:
    id: strawberry.ID = strawberry.field(description="记录ID")
    title: str = strawberry.field(description=r.title.info["label"])
    purpose: str = strawberry.field(description=r.purpose.info["label"])
    legal_basis: str = strawberry.field(description=r.legal_basis.info["label"])
    department: str = strawberry.field(description=r.department.info["label"])
    department_name: str = strawberry.field(resolver=department_name, description="发起部门名称")
    filed_by: str = strawberry.field(description=r.filed_by.info["label"])
    filed_at: dt.datetime = strawberry.field(description=r.filed_at.info["label"])
    period: str = strawberry.field(description=r.period.info["label"])
    deadline: dt.date = strawberry.field(description=r.deadline.info["label"])
    status: RequestStatusEnum = strawberry.field(description=r.status.info["label"])
    hub_cells: int = strawberry.field(description="数据中心直接答复的单元格数")
    village_count: int = strawberry.field(description="涉及村（社区）数（若不由数据中心答复，须各自填报）")

    @strawberry.field(description="所需栏目及数据中心的判断")
    def columns(self) -> list[RequestColumn]:
        return [RequestColumn(**c) for c in domain.columns_of(self)]

    @strawberry.field(description="表样：数据中心答复的表，或汇总结果的导出表（基础栏目 + 采集的指标）")
    async def template(self, info: Info) -> Template | None:
        return None if self.template_id is None else await info.context.load(TEMPLATE_OF, self.template_id)

    @strawberry.field(description="各乡镇（街道）的审核")
    async def reviews(self, info: Info) -> list[TownReview]:
        return await info.context.load(REVIEWS_OF, int(self.id))

    @strawberry.field(description="各村（社区）的任务（乡镇只看本镇的村）")
    async def tasks(self, info: Info) -> list[VillageTask]:
        return await info.context.load(TASKS_OF, int(self.id))

    @strawberry.field(description="各村（社区）进度")
    async def progress(self, info: Info) -> Progress:
        counts = domain.progress(await info.context.load(TASKS_OF, int(self.id)), self.deadline)
        total = counts["TOTAL"]
        done = counts["SUBMITTED"] + counts["ACCEPTED"]
        return Progress(
            total=total, not_started=counts["NOT_STARTED"], in_progress=counts["IN_PROGRESS"], submitted=counts["SUBMITTED"],
            sent_back=counts["SENT_BACK"], accepted=counts["ACCEPTED"], overdue=counts["OVERDUE"],
            reporting_rate=done / total if total else 0.0, on_time_rate=counts["ON_TIME"] / total if total else 0.0,
        )

    @strawberry.field(description="状态变更记录（任务本身和各乡镇的审核）")
    async def history(self, info: Info) -> list[RequestTransition]:
        return await info.context.load(HISTORY_OF, int(self.id))


def _grouped(rows: list[Any], keys: Any) -> list[list[Any]]:
    by_request: dict[int, list[Any]] = {}
    for row in rows:
        by_request.setdefault(row.request_id, []).append(row)
    return [by_request.get(key, []) for key in keys]


class _ByRequest:
    """A loader of a request's parts: one statement per batch of requests, however many a list shows."""

    def __hash__(self) -> int:
        return hash(type(self))

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)


class _Tasks(_ByRequest):
    async def batch(self, ctx: Context, keys: Any) -> list[list[Any]]:
        return _grouped(await tasks_where(ctx, t.request_id.in_(keys)), keys)


class _Reviews(_ByRequest):
    async def batch(self, ctx: Context, keys: Any) -> list[list[Any]]:
        reviews, regions = domain.reviews, domain.regions
        stmt = select(reviews.c.request_id, regions.c.name.label("town_name"), reviews.c.status, reviews.c.reason, reviews.c.duplicate_of_id).join(
            regions, regions.c.id == reviews.c.town_id).where(reviews.c.request_id.in_(keys), *_within(ctx, regions.c.id)).order_by(regions.c.code)
        rows = await ctx.read(stmt)
        return [[TownReview(**{k: v for k, v in row._mapping.items() if k != "request_id"}) for row in group] for group in _grouped(rows, keys)]


class _History(_ByRequest):
    async def batch(self, ctx: Context, keys: Any) -> list[list[Any]]:
        transitions = domain.transitions
        stmt = select(transitions).where(transitions.c.request_id.in_(keys), transitions.c.task_id.is_(None)).order_by(transitions.c.id)
        return _grouped(await ctx.records(stmt, transitions), keys)


class _Templates(_ByRequest):
    async def batch(self, ctx: Context, keys: Any) -> list[Any]:
        every = await ctx.templates.all()  # one read of the saved templates for the whole list
        return [every.get(key) for key in keys]


TASKS_OF, REVIEWS_OF, HISTORY_OF, TEMPLATE_OF = _Tasks(), _Reviews(), _History(), _Templates()


def _within(ctx: Context, region_column: Any) -> list[Any]:
    return [] if ctx.scope is None else [region_column.in_(ctx.scope.region_ids())]


def visible_requests(ctx: Context) -> list[Any]:
    """Which requests exist for the caller: a department its own (in its jurisdiction), a town those waiting or decided there."""
    caller = ctx.caller
    if caller.role is Role.ADMIN:
        return []
    if caller.role is Role.DEPARTMENT_ANALYST:
        return [r.department == caller.department, *_within(ctx, r.region_id)]
    if caller.role is Role.TOWN_COORDINATOR:
        reviewed = select(domain.reviews.c.request_id).where(domain.reviews.c.status != RequestStatus.ANSWERED_FROM_HUB, *_within(ctx, domain.reviews.c.town_id))
        return [r.id.in_(reviewed)]
    return [false()]  # villages see tasks, not requests


async def tasks_where(ctx: Context, *where: Any) -> list[Any]:
    caller = ctx.caller
    if caller.role is Role.DEPARTMENT_ANALYST:  # a department follows the tasks of its own requests
        where = (*where, r.department == caller.department)
    stmt = (
        select(t.id, r.title, r.purpose, r.department, r.deadline, r.period, domain.regions.c.name.label("village_name"), t.status, t.round,
               t.submitted_at, t.sent_back_reason, t.version, t.request_id, t.village_id)
        .join(domain.requests, r.id == t.request_id).join(domain.regions, domain.regions.c.id == t.village_id)
        .where(*where, *_within(ctx, t.village_id)).order_by(r.deadline, domain.regions.c.code)
    )
    return [_task(row) for row in await ctx.read(stmt)]


def _task(row: Any) -> VillageTask:
    task = VillageTask(**{k: v for k, v in row._mapping.items() if k not in ("request_id", "village_id")})
    task.request_id, task.village_id = row.request_id, row.village_id  # type: ignore[attr-defined]  # what its fields need beside what it shows
    return task


def fill_sheet_path(task_id: Any) -> str:
    return f"/tasks/{task_id}/fill-sheet.xlsx"


async def task_rows(ctx: Context, task: Any, read: Any = None, view: Any = None) -> list[TaskRow]:
    """One task's rows and cells (see `tasks_rows`); `read` reads inside a transaction already open."""
    return (await tasks_rows(ctx, [task], read, view))[0]


async def tasks_rows(ctx: Context, tasks: Sequence[Any], read: Any = None, view: Any = None) -> list[list[TaskRow]]:
    """Each task's rows and cells; with the caller's `view` (their schema), the base columns as they read them too.

    A fixed number of statements however many tasks and rows: their requests, their villages, the rows of each kind
    (entity and filters), the values, and one listing of the base columns per kind of rows.
    """
    read = read or ctx.read
    requests = {row.id: row for row in await read(select(domain.requests).where(r.id.in_(sorted({task.request_id for task in tasks}))))}
    regions = domain.regions
    villages = {row.id: row.code for row in await read(select(regions.c.id, regions.c.code).where(regions.c.id.in_(sorted({task.village_id for task in tasks}))))}
    kinds: dict[tuple[Any, tuple[str, ...]], list[Any]] = {}  # (entity, filters) -> its tasks
    for task in tasks:
        request = requests[task.request_id]
        kinds.setdefault((request.entity, tuple(domain.filters_of(request))), []).append(task)
    rows: dict[tuple[Any, tuple[str, ...], int], list[Any]] = {}  # ... and village -> (record id, village id, label)
    nodes: dict[tuple[Any, tuple[str, ...]], dict[int, Any]] = {}  # (entity, filters) -> record id -> base node
    columns = {} if view is None else {request.id: tasks_resolvers.base_columns(view._schema, request) for request in requests.values()}
    for (entity, filters), alike in kinds.items():
        for row in await read(domain.row_query(entity, sorted({task.village_id for task in alike}), list(filters))):
            rows.setdefault((entity, filters, row[1]), []).append(row)
        shown = {c.column.path: c.column for task in alike for c in columns.get(task.request_id, []) if c.column is not None}
        if shown:
            region = tasks_resolvers.common_region({villages[task.village_id] for task in alike})
            nodes[entity, filters] = await tasks_resolvers.base_nodes(ctx, view, entity, list(filters), region, list(shown.values()))
    lib = await library_domain.library(ctx)
    asked = {request.id: [lib.by_key[k] for k in domain.indicator_keys(request)] for request in requests.values()}
    periods = {(i, library_domain.check_period(i, requests[rid].period)) for rid, indicators in asked.items() for i in indicators}
    previous = {library_domain.previous_period(p, i.periodicity) for i, p in periods if p} - {None}
    ids = [row[0] for found in rows.values() for row in found]
    indicator_ids = sorted({i.id for indicators in asked.values() for i in indicators})
    values = await read(library_domain.values_statement(indicator_ids, ids, list({p for _, p in periods} | previous))) if indicator_ids and ids else []
    found = {(v.indicator_id, v.entity_id, v.period): v for v in values}
    today = clock.today()
    result = []
    for task in tasks:
        request = requests[task.request_id]
        kind = (request.entity, tuple(domain.filters_of(request)))
        base = nodes.get(kind, {})
        made = []
        for entity_id, _, label in rows.get((*kind, task.village_id), []):
            cells = []
            for indicator in asked[request.id]:
                period = library_domain.check_period(indicator, request.period)
                now = found.get((indicator.id, entity_id, period))
                before = library_domain.previous_period(period, indicator.periodicity) if period else None
                last = found.get((indicator.id, entity_id, before)) if before else None
                cells.append(TaskCell(key=indicator.key, label=indicator.name, unit=indicator.unit, value=now.value if now else None,
                                      version=now.version if now else 0, last_period_value=last.value if last else None))
            own = columns.get(request.id, [])
            node = base.get(entity_id)
            base_cells = [
                TaskBaseCell(header=c.header, value=v, granted=c.column is not None and node is not None)
                for c, v in zip(own, tasks_resolvers.base_values(own, node, today), strict=True)
            ]
            made.append(TaskRow(entity_id=strawberry.ID(str(entity_id)), label=label, base=base_cells, cells=cells))
        result.append(made)
    return result


@dataclass(frozen=True)
class TaskRows:
    """Tasks' rows as one caller's view reads them: a list of tasks (an inbox, a request's villages) is one batch."""

    view: Any

    async def batch(self, ctx: Context, keys: Sequence[tuple[int, int, int]]) -> list[list[TaskRow]]:
        return await tasks_rows(ctx, [_TaskKey(*key) for key in keys], view=self.view)


@dataclass(frozen=True)
class _TaskKey:
    id: int
    request_id: int
    village_id: int


@strawberry.input(description="所需的一个栏目：已有字段（path 或 label）、指标库中的指标（indicator），或新定义的指标（define），四选一")
class RequestColumnInput:
    path: str | None = strawberry.field(default=None, description="字段路径，相对于填报对象，如 head.idNumber")
    label: str | None = strawberry.field(default=None, description="字段的中文名称，如 公民身份号码")
    indicator: str | None = strawberry.field(default=None, description="指标编码")
    define: IndicatorInput | None = strawberry.field(default=None, description="新指标的定义")


@strawberry.input(description="发起一项填报任务")
class RequestInput:
    title: str = strawberry.field(description=r.title.info["label"])
    purpose: str = strawberry.field(description=r.purpose.info["label"])
    legal_basis: str = strawberry.field(description=r.legal_basis.info["label"])
    region_code: str = strawberry.field(description="填报范围：统计用区划代码（须在本人管辖范围内）")
    entity: str = strawberry.field(description="填报对象：VILLAGE、HOUSEHOLD、PERSON、ENTERPRISE、FLOOD_POINT")
    columns: list[RequestColumnInput] = strawberry.field(description="所需栏目")
    period: str = strawberry.field(description="期别：按月 2026-11，按季 2026-Q4，按年 2026")
    deadline: dt.date = strawberry.field(description=r.deadline.info["label"])
    filters: list[str] = strawberry.field(default_factory=list, description="筛选条件（是否类条件的名称，如 lowIncome 低保户）")
    recurrence: str = strawberry.field(default="NONE", description="重复周期：NONE、MONTH、QUARTER、YEAR")


@strawberry.type(description="发起填报任务的结果")
class RequestPayload:
    request: DataRequest | None = strawberry.field(description="填报任务")
    columns: list[RequestColumn] = strawberry.field(description="各栏目的判断")
    errors: list[FieldError] = strawberry.field(description="错误；为空表示成功（有错误时什么都没有写入）")


@strawberry.type(description="审核、报送、验收或退回的结果")
class TransitionPayload:
    errors: list[FieldError] = strawberry.field(description="错误；为空表示成功（有错误时状态不变）")


@strawberry.type(description="一个部门向本镇（街道）发起的填报任务及其负担：数据中心答复与各村报送的单元格数")
class DepartmentBurden:
    department: str = strawberry.field(description="发起部门")
    department_name: str = strawberry.field(resolver=department_name, description="发起部门名称")
    received: int = strawberry.field(description="收到（须审核）的任务数")
    approved: int = strawberry.field(description="通过")
    rejected: int = strawberry.field(description="不予下发")
    answered_from_hub: int = strawberry.field(description="由数据中心直接答复（未到乡镇和村）")
    cells_from_hub: int = strawberry.field(description="数据中心答复的单元格数")
    cells_entered: int = strawberry.field(description="各村报送的单元格数")


@strawberry.type(description="乡镇（街道）某段时间的填报任务统计")
class TownStatistics:
    town_name: str = strawberry.field(description="乡镇（街道）")
    received: int = strawberry.field(description="收到（须审核）的任务数")
    in_review: int = strawberry.field(description="待审核")
    approved: int = strawberry.field(description="通过")
    rejected: int = strawberry.field(description="不予下发")
    returned: int = strawberry.field(description="退回修改")
    answered_from_hub: int = strawberry.field(description="由数据中心直接答复（未到乡镇和村）")
    cells_from_hub: int = strawberry.field(description="数据中心答复的单元格数")
    cells_entered: int = strawberry.field(description="各村报送的单元格数")
    departments: list[DepartmentBurden] = strawberry.field(description="按发起部门：收到的任务数与负担（单元格数）")


@strawberry.type(description="本部门某段时间的填报任务统计与减负情况")
class DepartmentStatistics:
    filed: int = strawberry.field(description="发起的任务数")
    answered_from_hub: int = strawberry.field(description="由数据中心直接答复")
    needs_grant: int = strawberry.field(description="待授权（所需字段数据中心已有但未授权）")
    in_review: int = strawberry.field(description="乡镇审核中")
    approved: int = strawberry.field(description="通过")
    rejected: int = strawberry.field(description="不予下发")
    returned: int = strawberry.field(description="退回修改")
    cells_from_hub: int = strawberry.field(description="数据中心答复的单元格数")
    cells_entered: int = strawberry.field(description="各村报送的单元格数")


@strawberry.enum(description="审核决定")
class ReviewDecision(enum.Enum):
    APPROVE = strawberry.enum_value("APPROVE", description="通过：下发到本镇各村（社区）")
    REJECT = strawberry.enum_value("REJECT", description="不予下发（须说明理由）")
    RETURN = strawberry.enum_value("RETURN", description="退回修改（须给出建议）")
TaskId = Annotated[strawberry.ID, strawberry.argument(description="村级任务的记录ID")]


def _reader(connection: Any) -> Any:
    """Reads inside a transaction already open (what it reads is what the transaction will change)."""

    async def read(stmt: Any) -> list[Any]:
        return (await connection.execute(stmt)).all()

    return read


async def _with_template(ctx: Any, request: Any, region_code: str) -> Any:
    """Save the request's own template (the department's), and keep its id on the request."""
    definition = filing.template_definition(request, region_code, domain.columns_of(request))
    template, problems = await ctx.templates.save(ctx.caller, definition, None)
    assert not problems, problems  # built from checked columns in the filer's own view: a problem here is a bug
    async with ctx.engine.begin() as connection:
        await connection.execute(domain.requests.update().where(r.id == request.id).values(template_id=template.id))
    return (await ctx.records(select(domain.requests).where(r.id == request.id), domain.requests))[0]


async def fillable_task(ctx: Context, task_id: int) -> VillageTask:
    """The task, if the caller may fill it now: `fillTask`'s checks, refused as `domain.Refused` in its words."""
    async with ctx.engine.connect() as connection:
        domain.check_fillable(ctx, await domain.task_in_reach(connection, ctx, task_id))
    return (await tasks_where(ctx, t.id == task_id))[0]


async def fill_task(ctx: Context, task_id: int, changes: list[library_domain.ValueChange], source: ChangeSource) -> IndicatorValuesPayload:
    """Fill a task's cells, all or none: the `fillTask` mutation and the task's fill sheet alike."""
    async with ctx.engine.connect() as connection:  # the task's period: it never changes
        try:
            period = (await domain.task_in_reach(connection, ctx, task_id)).period
        except domain.Refused as refused:
            return IndicatorValuesPayload(values=[], errors=field_errors([refused.problem]))

    async def task_checks(connection: Any) -> tuple[list[Any], history.TaskFill | None]:
        """In the values' own transaction: the task is still open, and every cell is one of its cells; the changes are
        its next round's (submissions so far + 1)."""
        try:
            task = await domain.task_in_reach(connection, ctx, task_id, lock=True)
            domain.check_fillable(ctx, task)
            rows = await task_rows(ctx, task, _reader(connection))
            cells = {(row.entity_id, cell.key) for row in rows for cell in row.cells}
            outside = [c for c in changes if (str(c.entity_id), c.key) not in cells]
            if outside:
                raise domain.Refused(f"{outside[0].where}", "NOT_IN_TASK", f"这项任务没有要填的格：对象 {outside[0].entity_id} 的“{outside[0].key}”")
            if task.status is not TaskStatus.IN_PROGRESS:
                await domain.move_task(connection, ctx, task, TaskStatus.IN_PROGRESS)
        except domain.Refused as refused:
            return [refused.problem], None
        return [], history.TaskFill(task.id, task.round + 1)

    return await write(ctx, changes, period, source, task_checks)


@strawberry.type
class Query:
    @strawberry.field(description="填报任务：部门看本部门发起的，乡镇看送到本镇审核的；最新发起的在前")
    async def data_requests(
        self,
        info: Info,
        status: Annotated[RequestStatusEnum | None, strawberry.argument(description="状态")] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[DataRequest]:
        # Jurisdiction is part of what a caller sees (visible_requests), not a region column of the request's own.
        where = [*visible_requests(info.context), *([] if status is None else [r.status == status])]
        return await root_page(info, "DataRequest", r.id, where, first, after, None, descending=True)

    @strawberry.field(description="按记录ID查填报任务；不存在或不归我看时为空")
    async def data_request(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="记录ID")]) -> DataRequest | None:
        found = await info.context.records(select(domain.requests).where(r.id == int_id(id), *visible_requests(info.context)), domain.requests)
        return found[0] if found else None

    @strawberry.field(description="我的收件箱：本村（社区）待填报和被退回的任务")
    async def inbox(self, info: Info) -> Inbox:
        ctx = info.context
        due = await tasks_where(ctx, t.status.in_(domain.OPEN)) if library_domain.may_write(ctx) else []  # those who fill them
        if not due:
            return Inbox(message="今天没有需要报送的信息", tasks=[])
        return Inbox(message=f"有 {len(due)} 项需要报送，最早的截止日期是 {due[0].deadline.isoformat()}", tasks=due)

    @strawberry.field(description="按记录ID查村级任务（本人辖区内的村）")
    async def village_task(self, info: Info, id: TaskId) -> VillageTask | None:
        found = await tasks_where(info.context, t.id == int_id(id))
        return found[0] if found else None

    @strawberry.field(description="乡镇（街道）填报任务统计：收到、通过、不予下发、退回、数据中心答复；减负（单元格数）")
    async def request_statistics(
        self, info: Info, town_code: Annotated[str, strawberry.argument(description="乡镇（街道）的统计用区划代码")],
        since: Annotated[dt.date | None, strawberry.argument(description="发起日期起（含）")] = None,
        until: Annotated[dt.date | None, strawberry.argument(description="发起日期止（含）")] = None,
    ) -> TownStatistics:
        ctx = info.context
        town = await region_by_code(ctx, town_code, "townCode")
        if town is None or ctx.caller.role not in (Role.TOWN_COORDINATOR, Role.ADMIN) or town.level.value != "TOWN":
            raise UserInputError(f"townCode：找不到统计用区划代码为 {town_code} 的乡镇（街道）", field="townCode")
        counts = await domain.town_statistics(ctx, town.id, since, until)
        departments = [
            DepartmentBurden(department=d["department"], received=d["received"], approved=d["approved"], rejected=d["rejected"],
                             answered_from_hub=d["answered_from_hub"], cells_from_hub=d["cells_from_hub"], cells_entered=d["cells_entered"])
            for d in counts.pop("departments")
        ]
        return TownStatistics(town_name=town.name, departments=departments, **counts)


    @strawberry.field(description="本部门填报任务统计：发起、数据中心答复、审核结果；减负（数据中心答复与各村填报的单元格数）")
    async def department_request_statistics(
        self, info: Info,
        since: Annotated[dt.date | None, strawberry.argument(description="发起日期起（含）")] = None,
        until: Annotated[dt.date | None, strawberry.argument(description="发起日期止（含）")] = None,
    ) -> DepartmentStatistics:
        caller = info.context.caller
        if caller.role is not Role.DEPARTMENT_ANALYST or not caller.department:
            raise UserInputError(f"{caller.role.label}没有本部门的填报任务统计", field="departmentRequestStatistics")
        return DepartmentStatistics(**await domain.department_statistics(info.context, caller.department, since, until))


@strawberry.type
class Mutation:
    @strawberry.mutation(description="发起填报任务：数据中心已有且已授权的栏目当即答复，其余经乡镇审核后下发到村", metadata={"writes": "Request"})
    async def file_request(self, info: Info, input: Annotated[RequestInput, strawberry.argument(description="填报任务")]) -> RequestPayload:
        ctx = info.context
        given = filing.Filing(
            title=input.title, purpose=input.purpose, legal_basis=input.legal_basis, region_code=input.region_code, entity=input.entity,
            filters=input.filters, period=input.period, deadline=input.deadline, recurrence=input.recurrence,
            columns=[filing.ColumnAsked(c.path, c.label, c.indicator, definition_of(c.define) if c.define else None) for c in input.columns],
        )
        request, classified, problems = await filing.file_request(ctx, ctx.templates.full, info.schema._schema, given)
        if problems:
            return RequestPayload(request=None, columns=[], errors=field_errors(problems))
        if request.status is not RequestStatus.NEEDS_GRANT:
            request = await _with_template(ctx, request, input.region_code)
        else:
            request = (await ctx.records(select(domain.requests).where(r.id == request.id), domain.requests))[0]
        return RequestPayload(request=request, columns=[RequestColumn(**c.as_json()) for c in classified], errors=[])

    @strawberry.mutation(description="乡镇（街道）审核送到本镇的填报任务：通过、不予下发（须说明理由）或退回修改（须给出建议）", metadata={"writes": "Review"})
    async def review_request(
        self, info: Info, request_id: Annotated[strawberry.ID, strawberry.argument(description="填报任务的记录ID")],
        decision: Annotated[ReviewDecision, strawberry.argument(description="审核决定")],
        reason: Annotated[str | None, strawberry.argument(description="理由或建议")] = None,
        duplicate_of: Annotated[strawberry.ID | None, strawberry.argument(description="与之重复的较早任务的记录ID")] = None,
    ) -> TransitionPayload:
        problems = await domain.review(info.context, int_id(request_id, "requestId"), decision.value, reason,
                                       None if duplicate_of is None else int_id(duplicate_of, "duplicateOf"))
        return TransitionPayload(errors=field_errors(problems))

    @strawberry.mutation(description="填写本村（社区）任务的指标值（只开放任务的指标栏目；带版本号，留修改记录）", metadata={"writes": "Task"})
    async def fill_task(
        self, info: Info, task_id: TaskId, values: Annotated[list[IndicatorValueInput], strawberry.argument(description="指标值")]
    ) -> IndicatorValuesPayload:
        return await fill_task(info.context, int_id(task_id, "taskId"), value_changes(values), ChangeSource.TASK)

    @strawberry.mutation(description="报送本村（社区）的任务（所有格都须填写）", metadata={"writes": "Task"})
    async def submit_task(self, info: Info, task_id: TaskId) -> TransitionPayload:
        ctx = info.context

        async def missing(connection: Any, task: Any) -> list[str]:
            rows = await task_rows(ctx, task, _reader(connection))
            return [f"{row.label}·{cell.label}" for row in rows for cell in row.cells if cell.value is None]

        return TransitionPayload(errors=field_errors(await domain.submit(ctx, int_id(task_id, "taskId"), missing)))

    @strawberry.mutation(description="验收村（社区）报送的任务（验收后锁定）", metadata={"writes": "TaskCheck"})
    async def accept_task(self, info: Info, task_id: TaskId) -> TransitionPayload:
        return TransitionPayload(errors=field_errors(await domain.check(info.context, int_id(task_id, "taskId"), True, None)))

    @strawberry.mutation(description="退回村（社区）报送的任务：写明原因，指出要改的行和栏目", metadata={"writes": "TaskCheck"})
    async def send_back_task(
        self, info: Info, task_id: TaskId, reason: Annotated[str, strawberry.argument(description="退回原因，含要改的行和栏目")],
        cells: Annotated[list[TaskCellInput] | None, strawberry.argument(description="要改的格（对象和指标），须是本任务的格")] = None,
    ) -> TransitionPayload:
        ctx = info.context
        named = [(int_id(c.entity_id, f"cells[{i}].entityId"), c.key) for i, c in enumerate(cells or [])]

        async def cells_of(connection: Any, task: Any) -> set[tuple[int, str]]:
            return {(int(row.entity_id), cell.key) for row in await task_rows(ctx, task, _reader(connection)) for cell in row.cells}

        return TransitionPayload(errors=field_errors(await domain.check(ctx, int_id(task_id, "taskId"), False, reason, named, cells_of)))
