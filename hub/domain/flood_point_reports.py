"""Flood-point reports (易涝点报告): what a village saw at one of its flood points during an event.

Each report is kept; it also sets the flood point's current condition through the write
path, so the flood point's history keeps every change beside the reports themselves.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, select

from hub.access.jurisdiction import Subtree
from hub.data import outbox
from hub.data.models import EventStatus, FloodPointReport
from hub.data.rows import record_class
from hub.domain.context import Context
from hub.domain.events import closed_problem, event_row
from hub.domain.flood_points import flood_point_in, flood_points
from hub.domain.write_path import (
    FieldProblem,
    WriteResult,
    apply_change,
    check_changes,
    conflict,
    field_message,
    non_negative,
)

reports = FloodPointReport.__table__


def flood_point_report_in(subtree: Subtree) -> ColumnElement[bool]:
    return reports.c.village_id.in_(subtree.region_ids())


def _depth(value: int) -> int:
    if value > 1000:
        raise ValueError(f"超过 1000 厘米，填写的是 {value}，请核实单位是厘米")
    return int(non_negative(value))


VALIDATORS = {"water_depth_cm": _depth}


async def submit_flood_point_report(
    ctx: Context, event_id: int, flood_point_id: int, changes: dict[str, tuple[str, Any]]
) -> WriteResult:
    values, problems = check_changes(ctx, "FloodPointReport", reports, changes, VALIDATORS)
    if "condition" not in changes:
        problems.append(FieldProblem("condition", "INVALID", field_message("condition", "必填", "现场状况")))
    if problems:
        return WriteResult(None, problems)
    async with ctx.engine.begin() as connection:
        event = await event_row(connection, ctx, event_id)
        if event is None:
            return WriteResult(None, [FieldProblem("eventId", "NOT_FOUND", field_message("eventId", f"找不到 id 为 {event_id} 的事件"))])
        stmt = select(flood_points).where(flood_points.c.id == flood_point_id, flood_point_in(Subtree(event.scope_low, event.scope_high)))
        if ctx.scope is not None:
            stmt = stmt.where(flood_point_in(ctx.scope))
        point = (await connection.execute(stmt)).one_or_none()
        if point is None:  # another village's flood point reads as missing
            return WriteResult(None, [FieldProblem("floodPointId", "NOT_FOUND", field_message("floodPointId", f"事件“{event.name}”涉及的易涝点中找不到 id 为 {flood_point_id} 的"))])
        if event.status is EventStatus.CLOSED:
            return WriteResult(None, [closed_problem(event)])
        row = (await connection.execute(reports.insert().values(
            **values, event_id=event.id, flood_point_id=point.id, village_id=point.village_id,
            reported_by=ctx.caller.username, reported_at=dt.datetime.now(dt.UTC),
        ).returning(*reports.c))).one()
        if point.condition != values["condition"]:
            updated = await apply_change(connection, ctx, "FloodPoint", flood_points, point, point.version, {"condition": values["condition"]}, {"condition": "condition"})
            if updated is None:  # someone saved the flood point in between: nothing of this report stays
                current = (await connection.execute(select(flood_points.c.version).where(flood_points.c.id == point.id))).scalar_one()
                await connection.rollback()
                return WriteResult(None, [conflict("FloodPoint", point.id, current, point.version)])
            ctx.saved(flood_points, record_class(flood_points)(*updated))
        await outbox.write(connection, event.id, point.village_id, flood_point_report_id=row.id)
    outbox.committed(ctx.engine)
    return WriteResult(record_class(reports)(*row), [])

