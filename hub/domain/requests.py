"""Data requests (填报任务): their rows, town review and village tasks, as state machines that keep every step.

A request moves FILED → ANSWERED_FROM_HUB (or NEEDS_GRANT), or → IN_REVIEW at each
target town → APPROVED / REJECTED (reason) / RETURNED (suggestion). An approval
makes one task per village of that town: NOT_STARTED → IN_PROGRESS → SUBMITTED →
SENT_BACK (reason) → IN_PROGRESS → SUBMITTED … → ACCEPTED (locked). Every change
is a conditional update on the state it leaves (two reviewers cannot both win)
plus a `request_transitions` row (who, when, why), in one transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub import clock
from hub.access.jurisdiction import Subtree
from hub.data.models import (
    Change,
    DataRequest,
    Enterprise,
    FloodPoint,
    Household,
    IndicatorEntity,
    Person,
    Region,
    RegionLevel,
    RequestReview,
    RequestStatus,
    Role,
    TaskStatus,
    Transition,
    VillageTask,
)
from hub.domain import indicators as library
from hub.domain.context import Context
from hub.domain.write_path import FieldProblem, field_message

requests = DataRequest.__table__
reviews = RequestReview.__table__
tasks = VillageTask.__table__
transitions = Transition.__table__
regions = Region.__table__
households = Household.__table__
persons = Person.__table__


@dataclass(frozen=True)
class Rows:
    """Where a request's rows come from: the table, its village column, the GraphQL list and type that show them."""

    table: Any
    village: ColumnElement
    list_field: str
    type_name: str
    label: ColumnElement  # how a task names a row to the cadre


ROWS = {
    IndicatorEntity.VILLAGE: Rows(regions, regions.c.id, "regions", "Region", regions.c.name),
    IndicatorEntity.HOUSEHOLD: Rows(households, households.c.village_id, "households", "Household", households.c.address),
    IndicatorEntity.PERSON: Rows(persons, households.c.village_id, "persons", "Person", persons.c.name),
    IndicatorEntity.ENTERPRISE: Rows(Enterprise.__table__, Enterprise.__table__.c.village_id, "enterprises", "Enterprise", Enterprise.__table__.c.name),
    IndicatorEntity.FLOOD_POINT: Rows(FloodPoint.__table__, FloodPoint.__table__.c.village_id, "floodPoints", "FloodPoint", FloodPoint.__table__.c.name),
}


def row_query(entity: IndicatorEntity, villages: Subtree | Sequence[int], filters: list[str]) -> Select:
    """(record id, village id, label) of a request's rows: records of the region (or of these villages) matching every
    filter (boolean columns)."""
    rows = ROWS[entity]
    stmt = select(rows.table.c.id, rows.village, rows.label)
    if entity is IndicatorEntity.PERSON:
        stmt = stmt.join(households, persons.c.household_id == households.c.id)
    if entity is IndicatorEntity.VILLAGE:
        stmt = stmt.where(regions.c.level == RegionLevel.VILLAGE)
    within = villages.region_ids() if isinstance(villages, Subtree) else list(villages)
    stmt = stmt.where(rows.village.in_(within), *(rows.table.c[f].is_(True) for f in filters))
    return stmt.order_by(rows.table.c.id)


def columns_of(request: Any) -> list[dict[str, Any]]:
    return json.loads(request.columns)


def indicator_keys(request: Any) -> list[str]:
    return [c["indicator"] for c in columns_of(request) if c.get("indicator")]


class Refused(Exception):
    """A transition the caller may not make: a Chinese message and a stable code."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.problem = FieldProblem(field, code, field_message(field, message))


async def record(
    connection: AsyncConnection, ctx: Context, request_id: int, from_status: str | None, to_status: str, reason: str | None = None,
    *, review_id: int | None = None, task_id: int | None = None, named: list[tuple[int, str]] | None = None,
) -> None:
    await connection.execute(transitions.insert().values(
        request_id=request_id, review_id=review_id, task_id=task_id, from_status=from_status, to_status=to_status,
        username=ctx.caller.username, org_unit=ctx.caller.org_unit, at=dt.datetime.now(dt.UTC), reason=reason,
        named_cells=json.dumps([{"entityId": e, "key": k} for e, k in named]) if named else None,
    ))


def _in_scope(ctx: Context, region_column: ColumnElement) -> list[ColumnElement[bool]]:
    return [] if ctx.scope is None else [region_column.in_(ctx.scope.region_ids())]


def _own_department(ctx: Context) -> list[ColumnElement[bool]]:
    """A department knows the requests (and tasks) it filed; another department's do not exist for it."""
    return [requests.c.department == ctx.caller.department] if ctx.caller.role is Role.DEPARTMENT_ANALYST else []


# --- Town review ---------------------------------------------------------------------

DECISIONS = {"APPROVE": RequestStatus.APPROVED, "REJECT": RequestStatus.REJECTED, "RETURN": RequestStatus.RETURNED}


async def review(
    ctx: Context, request_id: int, decision: str, reason: str | None, duplicate_of: int | None
) -> list[FieldProblem]:
    """The caller's town decides on a request waiting in its queue; an approval puts a task in each of its villages' inboxes."""
    try:
        async with ctx.engine.begin() as connection:
            await _review(connection, ctx, request_id, decision, (reason or "").strip() or None, duplicate_of)
    except Refused as refused:
        return [refused.problem]
    return []


async def _review(connection: AsyncConnection, ctx: Context, request_id: int, decision: str, reason: str | None, duplicate_of: int | None) -> None:
    if ctx.caller.role is not Role.TOWN_COORDINATOR:
        raise Refused("requestId", "FORBIDDEN", f"{ctx.caller.role.label}不能审核填报任务，由乡镇（街道）基层治理协同中心审核")
    town = await _own_review(connection, ctx, request_id)
    target = DECISIONS[decision]
    if town.status is not RequestStatus.IN_REVIEW:
        raise Refused("decision", "ILLEGAL_TRANSITION", f"这项填报任务在本镇的状态是“{town.status.label}”，不能再审核")
    if target is not RequestStatus.APPROVED and reason is None:
        raise Refused("reason", "REASON_REQUIRED", "不予下发或退回修改须写明理由或建议")
    if duplicate_of is not None:
        if target is RequestStatus.APPROVED:
            raise Refused("duplicateOf", "INVALID", "标为重复的任务不能通过，请选择不予下发或退回修改")
        if duplicate_of == request_id or await _own_review(connection, ctx, duplicate_of, "duplicateOf", missing_ok=True) is None:
            raise Refused("duplicateOf", "NOT_FOUND", f"本镇没有 id 为 {duplicate_of} 的另一项填报任务")
    changed = await connection.execute(
        update(reviews).where(reviews.c.id == town.id, reviews.c.status == RequestStatus.IN_REVIEW)
        .values(status=target, reason=reason, duplicate_of_id=duplicate_of, version=reviews.c.version + 1, updated_at=dt.datetime.now(dt.UTC))
    )
    if changed.rowcount != 1:
        raise Refused("decision", "CONFLICT", "这项填报任务刚被本镇其他人审核过，请刷新后查看")
    await record(connection, ctx, request_id, RequestStatus.IN_REVIEW.value, target.value, reason, review_id=town.id)
    if target is RequestStatus.APPROVED:
        await _make_tasks(connection, ctx, request_id, town.town_id)
    await _settle(connection, ctx, request_id)


async def _own_review(connection: AsyncConnection, ctx: Context, request_id: int, field: str = "requestId", *, missing_ok: bool = False) -> Any:
    """The request's review at the caller's town; another town's request does not exist for them."""
    stmt = select(reviews).join(regions, regions.c.id == reviews.c.town_id).where(
        reviews.c.request_id == request_id, reviews.c.status != RequestStatus.ANSWERED_FROM_HUB, *_in_scope(ctx, regions.c.id)
    )
    found = (await connection.execute(stmt)).first()
    if found is None and not missing_ok:
        raise Refused(field, "NOT_FOUND", f"找不到 id 为 {request_id} 的填报任务")
    return found


async def _make_tasks(connection: AsyncConnection, ctx: Context, request_id: int, town_id: int) -> None:
    request = (await connection.execute(select(requests).where(requests.c.id == request_id))).one()
    town = (await connection.execute(select(regions.c.code, regions.c.level).where(regions.c.id == town_id))).one()
    region = (await connection.execute(select(regions.c.code, regions.c.level).where(regions.c.id == request.region_id))).one()
    # The request's region and the town: whichever is narrower bounds the rows.
    narrower = region if len(region.code.rstrip("0")) > len(town.code.rstrip("0")) else town
    rows = row_query(request.entity, Subtree.of(narrower.code, narrower.level), filters_of(request)).subquery()
    per_village = (await connection.execute(select(rows.c[1], func.count()).group_by(rows.c[1]))).all()
    per_row = len(indicator_keys(request))
    now = dt.datetime.now(dt.UTC)
    for village_id, count in sorted(per_village):
        task = (await connection.execute(tasks.insert().values(
            request_id=request_id, village_id=village_id, status=TaskStatus.NOT_STARTED, round=0, cells=count * per_row,
            version=1, updated_at=now,
        ).returning(tasks.c.id))).scalar_one()
        await record(connection, ctx, request_id, None, TaskStatus.NOT_STARTED.value, task_id=task)


def filters_of(request: Any) -> list[str]:
    return [f for f in request.filters.split(",") if f]


async def _settle(connection: AsyncConnection, ctx: Context, request_id: int) -> None:
    """The request's own status once every town has decided: approved if any town approved."""
    decided = [s for (s,) in (await connection.execute(select(reviews.c.status).where(reviews.c.request_id == request_id))).all()]
    if RequestStatus.IN_REVIEW in decided:
        return
    final = next((s for s in (RequestStatus.APPROVED, RequestStatus.REJECTED, RequestStatus.RETURNED) if s in decided), None)
    if final is not None:
        await connection.execute(update(requests).where(requests.c.id == request_id).values(status=final))
        await record(connection, ctx, request_id, RequestStatus.IN_REVIEW.value, final.value)


# --- Village tasks ---------------------------------------------------------------------

OPEN = (TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS, TaskStatus.SENT_BACK)
DONE = (TaskStatus.SUBMITTED, TaskStatus.ACCEPTED)


def overdue(task: Any, deadline: dt.date) -> bool:
    """Derived, never stored: past the deadline and not yet handed in."""
    return task.status not in DONE and deadline < clock.today()


async def task_in_reach(connection: AsyncConnection, ctx: Context, task_id: int, *, lock: bool = False) -> Any:
    """The task with its request's deadline, department and region, if its village is in the caller's jurisdiction.

    `lock`: held until the transaction ends (PostgreSQL), so a submit or send-back waits for a fill in
    progress, and a fill that waited sees the task as the submit left it."""
    stmt = (
        select(tasks, requests.c.deadline, requests.c.department, requests.c.period, requests.c.entity, requests.c.columns,
               requests.c.region_id, requests.c.filters)
        .join(requests, requests.c.id == tasks.c.request_id)
        .where(tasks.c.id == task_id, *_in_scope(ctx, tasks.c.village_id), *_own_department(ctx))
    )
    if lock:
        stmt = stmt.with_for_update(of=tasks)
    task = (await connection.execute(stmt)).first()
    if task is None:
        raise Refused("taskId", "NOT_FOUND", f"找不到 id 为 {task_id} 的村级任务")
    return task


async def move_task(
    connection: AsyncConnection, ctx: Context, task: Any, to: TaskStatus, reason: str | None = None,
    named: list[tuple[int, str]] | None = None, **values: Any,
) -> None:
    changed = await connection.execute(
        update(tasks).where(tasks.c.id == task.id, tasks.c.version == task.version)
        .values(status=to, version=tasks.c.version + 1, updated_at=dt.datetime.now(dt.UTC), **values)
    )
    if changed.rowcount != 1:
        raise Refused("taskId", "CONFLICT", "这项任务刚被他人改过，请刷新后再操作")
    await record(connection, ctx, task.request_id, task.status.value, to.value, reason, task_id=task.id, named=named)


def check_fillable(ctx: Context, task: Any) -> None:
    """Who may fill is the policy's (roles that write indicator values: the cadre, the grid worker); the task must be open."""
    if not library.may_write(ctx):
        raise Refused("taskId", "FORBIDDEN", f"{ctx.caller.role.label}不能填报村级任务，由村（社区）干部或网格员填报")
    if task.status not in OPEN:
        raise Refused("taskId", "TASK_CLOSED", f"任务状态是“{task.status.label}”，不能再填写；被退回后才能修改")


def check_may_submit(ctx: Context) -> None:
    """Only the village cadre hands a task in: the committee answers for what it hands in (a grid worker helps fill)."""
    if ctx.caller.role is not Role.VILLAGE_CADRE:
        raise Refused("taskId", "FORBIDDEN", f"{ctx.caller.role.label}可以填写，但不能报送村级任务，由村（社区）干部报送")


async def submit(ctx: Context, task_id: int, missing: Any) -> list[FieldProblem]:
    """The village hands in its task; `missing(connection, task)` names the cells still empty."""
    try:
        async with ctx.engine.begin() as connection:
            task = await task_in_reach(connection, ctx, task_id)
            check_fillable(ctx, task)
            check_may_submit(ctx)
            empty = await missing(connection, task)
            if empty:
                raise Refused("taskId", "INCOMPLETE", f"还有 {len(empty)} 个单元格没有填写：{'、'.join(empty[:5])}{' 等' if len(empty) > 5 else ''}")
            await move_task(connection, ctx, task, TaskStatus.SUBMITTED, None, round=task.round + 1, submitted_at=clock.today())
    except Refused as refused:
        return [refused.problem]
    return []


async def check(
    ctx: Context, task_id: int, accept: bool, reason: str | None, named: list[tuple[int, str]] | None = None, cells_of: Any = None
) -> list[FieldProblem]:
    """The town (for its villages) or the requesting department accepts a submission, or sends it back naming what to fix:
    a reason, and optionally the cells (record id, indicator key), each one of the task's (`cells_of(connection, task)`)."""
    try:
        async with ctx.engine.begin() as connection:
            task = await task_in_reach(connection, ctx, task_id)
            caller = ctx.caller
            mine = caller.role is Role.TOWN_COORDINATOR or (caller.role is Role.DEPARTMENT_ANALYST and caller.department == task.department)
            if not mine:
                raise Refused("taskId", "NOT_FOUND", f"找不到 id 为 {task_id} 的村级任务")
            if task.status is not TaskStatus.SUBMITTED:
                raise Refused("taskId", "ILLEGAL_TRANSITION", f"任务状态是“{task.status.label}”，只有已报送的任务可以验收或退回")
            reason = (reason or "").strip() or None
            if not accept and reason is None:
                raise Refused("reason", "REASON_REQUIRED", "退回须写明原因，并指出要改的行和栏目")
            if accept:
                await move_task(connection, ctx, task, TaskStatus.ACCEPTED)
                return []
            cells = await cells_of(connection, task) if named else set()
            for i, (entity_id, key) in enumerate(named or []):
                if (entity_id, key) not in cells:
                    raise Refused(f"cells[{i}]", "NOT_IN_TASK", f"这项任务没有这一格：对象 {entity_id} 的“{key}”")
            await move_task(connection, ctx, task, TaskStatus.SENT_BACK, reason, named, sent_back_reason=reason)
    except Refused as refused:
        return [refused.problem]
    return []


async def check_not_locked(connection: AsyncConnection, ctx: Context, changes: list[Any], period: str | None) -> list[FieldProblem]:
    """A value a village has handed in (submitted or accepted) changes only through its task, once sent back."""
    lib = await library.library(ctx)
    problems = []
    for change in changes:
        indicator = lib.by_key.get(change.key)
        if indicator is None:
            continue  # write_values reports it
        villages = await library.villages_in_reach(connection, ctx, indicator.entity, [change.entity_id])
        if change.entity_id not in villages:
            continue
        stmt = select(requests.c.title, requests.c.period, requests.c.columns).join(tasks, tasks.c.request_id == requests.c.id).where(
            tasks.c.village_id == villages[change.entity_id], tasks.c.status.in_(DONE)
        )
        for title, asked_period, columns in (await connection.execute(stmt)).all():
            same_period = indicator.periodicity.value == "NONE" or asked_period == period
            if same_period and change.key in [c.get("indicator") for c in json.loads(columns)]:
                problems.append(FieldProblem(change.where, "LOCKED", field_message(change.where, f"这一格已随村级任务“{title}”报送，不能直接修改；须由乡镇或部门退回后在任务中改")))
                break
    return problems


# --- Rounds: each submission, what sent it back, and what changed -----------------------------


@dataclass
class RoundChange:
    entity_id: int
    key: str
    label: str
    old_value: str | None
    new_value: str | None
    username: str
    at: dt.datetime


@dataclass
class Round:
    number: int
    submitted_at: dt.datetime
    submitted_by: str
    sent_back_at: dt.datetime | None = None
    sent_back_by: str | None = None
    sent_back_reason: str | None = None
    sent_back_cells: list[tuple[int, str]] | None = None
    accepted_at: dt.datetime | None = None
    accepted_by: str | None = None
    changes: list[RoundChange] | None = None


async def rounds(ctx: Context, task: Any) -> list[Round]:
    """The task's submissions, from its transitions; each with the changes its fills made (the change history rows
    that name this task and round: a direct write to the same cell is not the task's). Two statements however many rounds."""
    steps = await ctx.read(select(transitions).where(transitions.c.task_id == task.id).order_by(transitions.c.id))
    found: list[Round] = []
    for step in steps:
        if step.to_status == TaskStatus.SUBMITTED.value:
            found.append(Round(len(found) + 1, step.at, step.username, changes=[]))
        elif step.to_status == TaskStatus.SENT_BACK.value and found:
            named = [(c["entityId"], c["key"]) for c in json.loads(step.named_cells or "[]")]
            found[-1].sent_back_at, found[-1].sent_back_by, found[-1].sent_back_reason, found[-1].sent_back_cells = step.at, step.username, step.reason, named
        elif step.to_status == TaskStatus.ACCEPTED.value and found:
            found[-1].accepted_at, found[-1].accepted_by = step.at, step.username
    if not found:
        return found
    lib = await library.library(ctx)
    by_id = {i.id: i for i in lib.by_key.values()}
    values, changes = library.values, Change.__table__
    stmt = (
        select(changes.c.task_round, changes.c.at, changes.c.old_value, changes.c.new_value, changes.c.username, values.c.entity_id, values.c.indicator_id)
        .join(values, (changes.c.entity == "IndicatorValue") & (changes.c.record_id == values.c.id))
        .where(changes.c.task_id == task.id, changes.c.task_round <= len(found))  # the round being filled is not yet a round
        .order_by(changes.c.id)
    )
    for change in await ctx.read(stmt):
        indicator = by_id[change.indicator_id]
        found[change.task_round - 1].changes.append(
            RoundChange(change.entity_id, indicator.key, indicator.name, change.old_value, change.new_value, change.username, change.at)
        )
    return found


# --- Statistics ---------------------------------------------------------------------------


async def town_statistics(ctx: Context, town_id: int, since: dt.date | None, until: dt.date | None) -> dict[str, Any]:
    """Received, decided and answered-from-hub counts of one town, with its burden figures (cells from the hub vs
    entered by its villages), in all and per requesting department (`departments`, by department key)."""
    when = _filed_within(since, until)
    stmt = select(requests.c.department, reviews.c.status, func.count(), func.sum(reviews.c.hub_cells)).join(
        requests, requests.c.id == reviews.c.request_id).where(reviews.c.town_id == town_id, *when).group_by(requests.c.department, reviews.c.status)
    villages = select(regions.c.id).where(regions.c.parent_id == town_id)
    entered = select(requests.c.department, func.sum(tasks.c.cells)).join(requests, requests.c.id == tasks.c.request_id).where(
        tasks.c.village_id.in_(villages), tasks.c.status.in_(DONE), *when
    ).group_by(requests.c.department)
    per: dict[str, dict[str, int]] = {}
    for department, status, count, cells in await ctx.read(stmt):
        figures = per.setdefault(department, _town_figures())
        figures[status.value.lower()] += count
        figures["cells_from_hub"] += (cells or 0) if status is RequestStatus.ANSWERED_FROM_HUB else 0
    for department, cells in await ctx.read(entered):
        per.setdefault(department, _town_figures())["cells_entered"] += cells or 0
    for figures in per.values():
        figures["received"] = sum(figures[s] for s in ("in_review", "approved", "rejected", "returned"))
    total = {name: sum(f[name] for f in per.values()) for name in _town_figures()}
    return total | {"departments": [{"department": d} | figures for d, figures in sorted(per.items())]}


def _town_figures() -> dict[str, int]:
    return dict.fromkeys(("received", "in_review", "approved", "rejected", "returned", "answered_from_hub", "cells_from_hub", "cells_entered"), 0)


async def department_statistics(ctx: Context, department: str, since: dt.date | None, until: dt.date | None) -> dict[str, int]:
    """A department's requests by status, and its burden figures: cells the hub answered vs cells villages handed in."""
    # The requests it sees (`dataRequests`): its department's, over regions within its jurisdiction.
    when = [requests.c.department == department, *_filed_within(since, until), *_in_scope(ctx, requests.c.region_id)]
    by_status = dict((await ctx.read(select(requests.c.status, func.count()).where(*when).group_by(requests.c.status))))
    from_hub = select(func.coalesce(func.sum(requests.c.hub_cells), 0)).where(*when)
    entered = select(func.coalesce(func.sum(tasks.c.cells), 0)).join(requests, requests.c.id == tasks.c.request_id).where(
        tasks.c.status.in_(DONE), *when
    )
    return {status.value.lower(): by_status.get(status, 0) for status in RequestStatus if status is not RequestStatus.FILED} | {
        "filed": sum(by_status.values()), "cells_from_hub": await ctx.scalar(from_hub), "cells_entered": await ctx.scalar(entered),
    }


def _filed_within(since: dt.date | None, until: dt.date | None) -> list[ColumnElement[bool]]:
    when = []
    if since is not None:
        when.append(requests.c.filed_at >= dt.datetime.combine(since, dt.time(), dt.UTC))
    if until is not None:
        when.append(requests.c.filed_at < dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC))
    return when


def progress(task_rows: list[Any], deadline: dt.date) -> dict[str, int]:
    counts = {s.value: 0 for s in TaskStatus} | {"OVERDUE": 0, "TOTAL": len(task_rows), "ON_TIME": 0}
    for task in task_rows:
        counts[task.status.value] += 1
        counts["OVERDUE"] += overdue(task, deadline)
        counts["ON_TIME"] += task.submitted_at is not None and task.submitted_at <= deadline
    return counts
