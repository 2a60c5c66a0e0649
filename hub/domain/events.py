"""Events (事件) and villages' damage reports (灾情报告): who sees them, and the rules of writing them.

The national natural-disaster statistics rules (《自然灾害情况统计调查制度》) shape the reports:
a village reports one 初报, any number of 续报 and one 核报 per event; every report is kept
as written, the town passes it or sends it back with a reason, and the latest passed report
counts in roll-ups. The house figures come from the register of damaged houses (因灾倒塌损坏
住房户台账), itself against the hub's households, so nobody types them or their breakdown.
A closed event freezes its reports.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hub import clock
from hub.access.jurisdiction import Subtree
from hub.access.write_check import WriteRefused, check_write
from hub.data import outbox
from hub.data.identifiers import subtree_bounds
from hub.data.models import (
    AffectedEnterprise,
    DamagedHouse,
    DamageReport,
    Enterprise,
    Event,
    EventStatus,
    HouseDamage,
    Household,
    Region,
    RegionLevel,
    ReportKind,
    ReviewStatus,
)
from hub.data.rows import key_in, record_class
from hub.domain import history
from hub.domain.context import Context
from hub.domain.write_path import (
    FieldProblem,
    Writable,
    WriteResult,
    check_changes,
    column_label,
    field_message,
    non_negative,
    not_in_future,
    update_entity,
)

events = Event.__table__
reports = DamageReport.__table__
houses = DamagedHouse.__table__
affected = AffectedEnterprise.__table__
regions = Region.__table__
households = Household.__table__
enterprises = Enterprise.__table__


def event_in(subtree: Subtree) -> ColumnElement[bool]:
    """Events whose region overlaps the subtree: a town's event is seen by its villages, and the city sees all."""
    return and_(events.c.scope_low <= subtree.high, events.c.scope_high >= subtree.low)


def event_covered_by(subtree: Subtree) -> ColumnElement[bool]:
    """Events whose whole region is within the subtree: the ones a caller may open, close or review in."""
    return and_(events.c.scope_low >= subtree.low, events.c.scope_high <= subtree.high)


def report_in(subtree: Subtree) -> ColumnElement[bool]:
    return reports.c.village_id.in_(subtree.region_ids())


EVENT = Writable("Event", events, event_covered_by, {"started_on": not_in_future})


def _count(value: int) -> int:
    return int(non_negative(value))


# Figures a village types (column -> GraphQL field); the house figures are the register's.
PEOPLE = ("affected_population", "relocated_population", "relief_needed_population", "deaths", "missing")
AREAS = ("crop_affected_area", "crop_disaster_area", "crop_lost_area")
TYPED = (*PEOPLE, *AREAS, "direct_loss")
HOUSE_FIGURES = {HouseDamage.COLLAPSED: "collapsed_rooms", HouseDamage.SEVERE: "severely_damaged_rooms", HouseDamage.GENERAL: "generally_damaged_rooms"}
FIGURES = (*TYPED, *HOUSE_FIGURES.values())
REPORT_VALIDATORS = dict.fromkeys(PEOPLE, _count) | dict.fromkeys((*AREAS, "direct_loss"), non_negative)

# (smaller, larger): the national rules' consistency checks between figures.
NOT_ABOVE = (
    ("crop_lost_area", "crop_disaster_area"),
    ("crop_disaster_area", "crop_affected_area"),
    ("relocated_population", "affected_population"),
    ("relief_needed_population", "affected_population"),
)
# A figure more than this many times the previous report's, and up by at least JUMP_MINIMUM, is a jump to explain.
JUMP_FACTOR = 3
JUMP_MINIMUM = 10


def _camel(column: str) -> str:
    head, *rest = column.split("_")
    return head + "".join(part.title() for part in rest)


def _problem(column: str, reason: str, code: str = "INVALID", field: str | None = None) -> FieldProblem:
    field = field or _camel(column)
    return FieldProblem(field, code, field_message(field, reason, column_label(reports, column) if column in reports.c else None))


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class HouseEntry:
    household_id: int
    damage: HouseDamage
    rooms: int


@dataclass(frozen=True)
class EnterpriseEntry:
    enterprise_id: int
    note: str | None


def consistency(values: dict[str, Any]) -> list[FieldProblem]:
    problems = []
    for smaller, larger in NOT_ABOVE:
        if smaller in values and larger in values and values[smaller] > values[larger]:
            reason = f"不能大于{column_label(reports, larger)}（{_number(values[larger])}），填写的是 {_number(values[smaller])}"
            problems.append(_problem(smaller, reason))
    return problems


def unexplained_changes(values: dict[str, Any], previous: Any, explanation: str | None) -> list[FieldProblem]:
    """A figure that falls, or jumps far, from the previous report needs a written explanation."""
    if previous is None or explanation:
        return []
    problems = []
    for column in FIGURES:
        old, new = getattr(previous, column), values[column]
        if new < old:
            change = f"比上次报告（第 {previous.sequence} 次，{_number(old)}）减少为 {_number(new)}"
        elif new > max(old * JUMP_FACTOR, old + JUMP_MINIMUM - 1) and old > 0:
            change = f"比上次报告（第 {previous.sequence} 次，{_number(old)}）猛增为 {_number(new)}"
        else:
            continue
        problems.append(_problem(column, f"{change}，请在 explanation（数据变化说明）中说明原因"))
    return problems


def kind_problem(kind: ReportKind, earlier: list[Any]) -> FieldProblem | None:
    """初报 first and once, 续报 after it, one 核报 last; a report sent back is corrected by another of its kind."""
    standing = [r for r in earlier if r.review_status is not ReviewStatus.SENT_BACK]
    if kind is ReportKind.INITIAL and standing:
        return _problem("kind", "本事件已有初报，请报续报或核报")
    if kind is not ReportKind.INITIAL and not standing:
        return _problem("kind", "本事件还没有初报，请先报初报")
    if any(r.kind is ReportKind.FINAL for r in standing):
        return _problem("kind", "本事件已报核报，不能再报；如需更正，请乡镇退回核报")
    return None


def next_kinds(earlier: list[Any]) -> list[ReportKind]:
    """The kinds a village may report next, given its reports so far: those `kind_problem` lets through."""
    return [kind for kind in ReportKind if kind_problem(kind, earlier) is None]


async def event_row(connection: AsyncConnection, ctx: Context, event_id: int, covered: bool = False) -> Any:
    stmt = select(events).where(events.c.id == event_id)
    if ctx.scope is not None:
        stmt = stmt.where((event_covered_by if covered else event_in)(ctx.scope))
    return (await connection.execute(stmt)).one_or_none()


def closed_problem(event: Any) -> FieldProblem:
    return FieldProblem("eventId", "INVALID", field_message("eventId", f"事件“{event.name}”已结束，报告已冻结，不能再报或审核"))


async def open_event(ctx: Context, region_code: str, changes: dict[str, tuple[str, Any]]) -> WriteResult:
    """A new open event over a town or a district within the caller's jurisdiction."""
    values, problems = check_changes(ctx, "Event", events, changes, EVENT.validators)
    missing = [(c, f) for c, f in (("kind", "kind"), ("name", "name"), ("started_on", "startedOn")) if c not in changes]
    problems += [FieldProblem(f, "INVALID", field_message(f, "必填", column_label(events, c))) for c, f in missing]
    stmt = select(regions).where(regions.c.code == region_code)
    if ctx.scope is not None:
        stmt = stmt.where(ctx.scope.regions())
    async with ctx.engine.connect() as connection:
        region = (await connection.execute(stmt)).one_or_none()
    if region is None or region.level not in (RegionLevel.TOWN, RegionLevel.DISTRICT):
        problems.append(FieldProblem("regionCode", "NOT_FOUND", field_message("regionCode", f"找不到代码为 {region_code} 的乡镇（街道）或县（区）")))
    if problems:
        return WriteResult(None, problems)
    low, high = subtree_bounds(region.code, region.level)
    row_values = values | {
        "region_id": region.id, "scope_low": low, "scope_high": high, "status": EventStatus.OPEN,
        "opened_by": ctx.caller.username, "opened_unit": ctx.caller.org_unit, "version": 1, "updated_at": dt.datetime.now(dt.UTC),
    }
    async with ctx.engine.begin() as connection:
        row = (await connection.execute(events.insert().values(**row_values).returning(*events.c))).one()
        created = {field: (None, values[column]) for column, (field, _) in changes.items()} | {"status": (None, EventStatus.OPEN)}
        await history.record(connection, ctx, "Event", row.id, 1, created)
    record = record_class(events)(*row)
    ctx.saved(events, record)
    return WriteResult(record, [])


async def close_event(ctx: Context, event_id: int, version: int) -> WriteResult:
    """Close an open event: its reports are frozen from then on."""
    async with ctx.engine.connect() as connection:
        event = await event_row(connection, ctx, event_id, covered=True)
    if event is not None and event.status is EventStatus.CLOSED:
        return WriteResult(None, [FieldProblem("id", "INVALID", field_message("id", f"事件“{event.name}”已经结束"))])
    changes = {"status": ("status", EventStatus.CLOSED), "ended_on": ("endedOn", clock.today())}
    return await update_entity(ctx, EVENT, event_id, version, changes)


async def submit_damage_report(
    ctx: Context,
    event_id: int,
    village_code: str,
    changes: dict[str, tuple[str, Any]],  # kind, the typed figures, notes, explanation
    house_entries: list[HouseEntry],
    enterprise_entries: list[EnterpriseEntry],
) -> WriteResult:
    """Check everything, then write the report, its register of houses and its enterprises in one transaction."""
    values, problems = check_changes(ctx, "DamageReport", reports, changes, REPORT_VALIDATORS)
    # The register gives the house figures and the list the enterprise count: writing those is what they need.
    for field, figure, given in (("houses", "collapsedRooms", house_entries), ("affectedEnterprises", "affectedEnterpriseCount", enterprise_entries)):
        if given:
            try:
                check_write(ctx.policy, ctx.caller, "DamageReport", figure)
            except WriteRefused as refused:
                problems.append(FieldProblem(field, "FORBIDDEN", str(refused)))
    missing = [c for c in ("kind", *TYPED) if c not in changes]
    problems += [_problem(c, "必填") for c in missing]
    if problems:  # a caller who may not write reports learns nothing about events or villages
        return WriteResult(None, problems)
    problems += consistency(values)
    problems += _entry_problems(house_entries, enterprise_entries)

    async with ctx.engine.begin() as connection:
        event = await event_row(connection, ctx, event_id)
        if event is None:
            return WriteResult(None, [FieldProblem("eventId", "NOT_FOUND", field_message("eventId", f"找不到 id 为 {event_id} 的事件"))])
        village = await _village(connection, ctx, village_code, event)
        if village is None:
            problems.append(FieldProblem("villageCode", "NOT_FOUND", field_message("villageCode", f"事件“{event.name}”涉及的村（社区）中找不到代码为 {village_code} 的")))
            return WriteResult(None, problems)
        if event.status is EventStatus.CLOSED:
            return WriteResult(None, [closed_problem(event)])
        problems += await _register_problems(connection, village.id, house_entries, enterprise_entries)
        earlier = (await connection.execute(
            select(reports).where(reports.c.event_id == event.id, reports.c.village_id == village.id).order_by(reports.c.sequence)
        )).all()
        wrong_kind = kind_problem(ReportKind(values["kind"]), earlier)  # normalised text, not the member
        if wrong_kind:
            problems.append(wrong_kind)
        rooms = dict.fromkeys(HOUSE_FIGURES.values(), 0)
        for entry in house_entries:
            rooms[HOUSE_FIGURES[entry.damage]] += entry.rooms
        values |= rooms
        standing = [r for r in earlier if r.review_status is not ReviewStatus.SENT_BACK]
        if not problems:
            problems += unexplained_changes(values, standing[-1] if standing else None, values.get("explanation"))
        if problems:
            return WriteResult(None, problems)
        row_values = values | {
            "event_id": event.id, "village_id": village.id, "sequence": len(earlier) + 1,
            "reported_by": ctx.caller.username, "reported_at": dt.datetime.now(dt.UTC), "review_status": ReviewStatus.SUBMITTED,
        }
        try:
            row = (await connection.execute(reports.insert().values(**row_values).returning(*reports.c))).one()
        except IntegrityError:  # another report of this village came in between: its sequence is taken
            await connection.rollback()
            return WriteResult(None, [FieldProblem("kind", "CONFLICT", field_message("kind", "同一村（社区）刚有另一份报告提交，请刷新后再报"))])
        if house_entries:
            await connection.execute(houses.insert(), [
                {"report_id": row.id, "household_id": e.household_id, "damage": e.damage, "rooms": e.rooms} for e in house_entries
            ])
        if enterprise_entries:
            await connection.execute(affected.insert(), [
                {"report_id": row.id, "enterprise_id": e.enterprise_id, "note": e.note} for e in enterprise_entries
            ])
        await outbox.write(connection, event.id, village.id, damage_report_id=row.id)
    outbox.committed(ctx.engine)
    return WriteResult(record_class(reports)(*row), [])


def _entry_problems(house_entries: list[HouseEntry], enterprise_entries: list[EnterpriseEntry]) -> list[FieldProblem]:
    problems = []
    seen: set[int] = set()
    for i, entry in enumerate(house_entries):
        if entry.rooms < 1:
            problems.append(FieldProblem(f"houses[{i}].rooms", "INVALID", field_message(f"houses[{i}].rooms", f"至少 1 间，填写的是 {entry.rooms}", "间数")))
        if entry.household_id in seen:
            problems.append(FieldProblem(f"houses[{i}].householdId", "INVALID", field_message(f"houses[{i}].householdId", f"户 {entry.household_id} 已在本报告中登记")))
        seen.add(entry.household_id)
    seen.clear()
    for i, e in enumerate(enterprise_entries):
        if e.enterprise_id in seen:
            field = f"affectedEnterprises[{i}].enterpriseId"
            problems.append(FieldProblem(field, "INVALID", field_message(field, f"企业 {e.enterprise_id} 已在本报告中登记")))
        seen.add(e.enterprise_id)
    return problems


async def _village(connection: AsyncConnection, ctx: Context, code: str, event: Any) -> Any:
    """The village by code, if it is in the caller's jurisdiction and in the event's region."""
    stmt = select(regions).where(
        regions.c.code == code, regions.c.level == RegionLevel.VILLAGE, regions.c.code.between(event.scope_low, event.scope_high)
    )
    if ctx.scope is not None:
        stmt = stmt.where(ctx.scope.regions())
    return (await connection.execute(stmt)).one_or_none()


async def _register_problems(
    connection: AsyncConnection, village_id: int, house_entries: list[HouseEntry], enterprise_entries: list[EnterpriseEntry]
) -> list[FieldProblem]:
    """Houses and enterprises must be the village's own; others read as not found."""
    dialect = connection.dialect.name
    problems = []
    for entries, table, key, field, what in (
        (house_entries, households, "household_id", "householdId", "户"),
        (enterprise_entries, enterprises, "enterprise_id", "enterpriseId", "企业"),
    ):
        ids = [getattr(e, key) for e in entries]
        if not ids:
            continue
        found = set((await connection.execute(
            select(table.c.id).where(key_in(table.c.id, ids, dialect), table.c.village_id == village_id)
        )).scalars())
        prefix = "houses" if table is households else "affectedEnterprises"
        for i, record_id in enumerate(ids):
            if record_id not in found:
                name = f"{prefix}[{i}].{field}"
                problems.append(FieldProblem(name, "NOT_FOUND", field_message(name, f"本村（社区）找不到 id 为 {record_id} 的{what}")))
    return problems


async def review_damage_report(ctx: Context, report_id: int, passed: bool, reason: str | None) -> WriteResult:
    """The town passes a report, or sends it back with a reason; a report is reviewed once."""
    try:
        check_write(ctx.policy, ctx.caller, "DamageReport", "reviewStatus")
    except WriteRefused as refused:
        return WriteResult(None, [FieldProblem("reviewStatus", "FORBIDDEN", str(refused))])
    reason = (reason or "").strip() or None
    if not passed and reason is None:
        return WriteResult(None, [FieldProblem("reason", "INVALID", field_message("reason", "退回时须写明原因，村（社区）据此更正后重报", "退回原因"))])
    if reason is not None and len(reason) > 256:
        return WriteResult(None, [FieldProblem("reason", "INVALID", field_message("reason", f"最多 256 个字，填写了 {len(reason)} 个字", "退回原因"))])
    async with ctx.engine.begin() as connection:
        stmt = select(reports).where(reports.c.id == report_id)
        if ctx.scope is not None:
            stmt = stmt.where(report_in(ctx.scope))
        report = (await connection.execute(stmt)).one_or_none()
        if report is None:
            return WriteResult(None, [FieldProblem("id", "NOT_FOUND", field_message("id", f"找不到 id 为 {report_id} 的灾情报告"))])
        event = await event_row(connection, ctx, report.event_id)
        if event.status is EventStatus.CLOSED:
            return WriteResult(None, [closed_problem(event)])
        status = ReviewStatus.PASSED if passed else ReviewStatus.SENT_BACK
        now = dt.datetime.now(dt.UTC)
        row = (await connection.execute(
            update(reports)
            .where(reports.c.id == report_id, reports.c.review_status == ReviewStatus.SUBMITTED)
            .values(review_status=status, review_reason=reason, reviewed_by=ctx.caller.username, reviewed_at=now)
            .returning(*reports.c)
        )).one_or_none()
        if row is None:  # reviewed already, perhaps a moment ago by a colleague
            return WriteResult(None, [FieldProblem("id", "CONFLICT", field_message("id", f"该报告已审核（{report.review_status.label}），不能再审"))])
        changed = {"reviewStatus": (ReviewStatus.SUBMITTED, status), "reviewReason": (None, reason)}
        await history.record(connection, ctx, "DamageReport", report_id, 2, changed)  # written is 1, reviewed is 2
        await outbox.write(connection, event.id, report.village_id, damage_report_id=report_id)
    outbox.committed(ctx.engine)
    return WriteResult(record_class(reports)(*row), [])


def latest_counted(rows: list[Any]) -> dict[int, Any]:
    """Per village, the report that counts in roll-ups: its latest passed one. `rows` in sequence order."""
    counted: dict[int, Any] = {}
    for row in rows:
        if row.review_status is ReviewStatus.PASSED:
            counted[row.village_id] = row
    return counted


def totals(counted: list[Any]) -> dict[str, Any]:
    return {column: sum(getattr(r, column) for r in counted) for column in FIGURES} | {"villages_counted": len(counted)}

