"""Events (事件): lookups, lists, each village's reports and the town's board, all within the caller's jurisdiction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, ColumnElement, case, func, or_, select
from strawberry.types import Info

from hub.access.jurisdiction import Subtree
from hub.data.models import EventStatus, RegionLevel
from hub.data.rows import key_in, record_class
from hub.domain import events as domain
from hub.domain.context import Context
from hub.domain.events import (
    affected,
    event_in,
    events,
    households,
    houses,
    regions,
    report_in,
    reports,
)
from hub.domain.flood_point_reports import flood_point_report_in
from hub.domain.flood_point_reports import reports as flood_point_reports
from hub.domain.photos import photos
from resolvers.dataloaders import RowByKey, RowsByKey
from resolvers.pages import root_page
from resolvers.pagination import Page
from resolvers.prefetch import Relation, relations
from resolvers.regions import REGION_BY_ID


@dataclass(frozen=True)
class ScopedRowsByKey:
    """All rows per key that are within the caller's jurisdiction (e.g. an event's reports)."""

    column: Column
    order_by: tuple[Column, ...]
    in_scope: Callable[[Subtree], ColumnElement[bool]]

    async def batch(self, ctx: Context, keys: Sequence[Any]) -> list[list[Any]]:
        table = self.column.table
        stmt = select(table).where(key_in(self.column, keys, ctx.dialect)).order_by(*self.order_by)
        if ctx.scope is not None:
            stmt = stmt.where(self.in_scope(ctx.scope))
        grouped: dict[Any, list[Any]] = defaultdict(list)
        for row in await ctx.records(stmt, table):
            grouped[getattr(row, self.column.name)].append(row)
        return [grouped.get(key, []) for key in keys]


@dataclass(frozen=True)
class EventVillages:
    """The villages an event covers that the caller may see, in code order: one statement per batch of events."""

    async def batch(self, ctx: Context, keys: Sequence[int]) -> list[list[Any]]:
        covered = await ctx.read(select(events.c.id, events.c.scope_low, events.c.scope_high).where(key_in(events.c.id, keys, ctx.dialect)))
        if not covered:
            return [[] for _ in keys]
        stmt = select(regions).where(
            regions.c.level == RegionLevel.VILLAGE, or_(*(regions.c.code.between(low, high) for _, low, high in covered))
        ).order_by(regions.c.code)
        if ctx.scope is not None:
            stmt = stmt.where(ctx.scope.regions())
        rows = await ctx.records(stmt, regions)
        by_event = {
            event_id: [r for r in rows if low <= r.code <= high] for event_id, low, high in covered
        }
        return [by_event.get(key, []) for key in keys]


# 五保 (特困供养), 低保, 困难 (防返贫监测), 一般: the first that applies, from the household's categories.
CATEGORY = case(
    (households.c.extreme_poverty, "五保户"),
    (households.c.low_income, "低保户"),
    (households.c.poverty_monitored, "困难户"),
    else_="一般户",
).label("category")
CATEGORY_ORDER = ("五保户", "低保户", "困难户", "一般户")


@dataclass(frozen=True)
class HouseBreakdown:
    """Per report: households and rooms per damage and category, computed from the households the register names."""

    async def batch(self, ctx: Context, keys: Sequence[int]) -> list[list[Any]]:
        stmt = (
            select(houses.c.report_id, houses.c.damage, CATEGORY, func.count(), func.sum(houses.c.rooms))
            .join(households, households.c.id == houses.c.household_id)
            .where(key_in(houses.c.report_id, keys, ctx.dialect))
            .group_by(houses.c.report_id, houses.c.damage, CATEGORY)
        )
        grouped: dict[int, list[Any]] = defaultdict(list)
        for report_id, damage, category, count, rooms in await ctx.read(stmt):
            grouped[report_id].append(HouseCount(damage, category, count, int(rooms)))
        damage_order = list(domain.HOUSE_FIGURES)
        return [
            sorted(grouped.get(key, []), key=lambda c: (damage_order.index(c.damage), CATEGORY_ORDER.index(c.category)))
            for key in keys
        ]


@dataclass(frozen=True)
class HouseCount:
    damage: Any
    category: str
    households: int
    rooms: int


EVENT_BY_ID = RowByKey(events.c.id, event_in)
DAMAGE_REPORT_BY_ID = RowByKey(reports.c.id, report_in)
EVENT_REPORTS = ScopedRowsByKey(reports.c.event_id, (reports.c.village_id, reports.c.sequence), report_in)
EVENT_VILLAGES = EventVillages()
REPORT_HOUSES = RowsByKey(houses.c.report_id, houses.c.id)
REPORT_ENTERPRISES = RowsByKey(affected.c.report_id, affected.c.id)
HOUSE_BREAKDOWN = HouseBreakdown()
FLOOD_POINT_REPORT_BY_ID = RowByKey(flood_point_reports.c.id, flood_point_report_in)
EVENT_FLOOD_POINT_REPORTS = ScopedRowsByKey(
    flood_point_reports.c.event_id, (flood_point_reports.c.flood_point_id, flood_point_reports.c.id), flood_point_report_in
)
# A flood point's reports over all events: the flood point is in the caller's reach, so are its reports.
FLOOD_POINT_REPORTS = RowsByKey(flood_point_reports.c.flood_point_id, flood_point_reports.c.id)
DAMAGE_REPORT_PHOTOS = RowsByKey(photos.c.damage_report_id, photos.c.id)
FLOOD_POINT_REPORT_PHOTOS = RowsByKey(photos.c.flood_point_report_id, photos.c.id)

relations(
    "DamageReport",
    village=Relation(REGION_BY_ID, "village_id", "Region"),
    event=Relation(EVENT_BY_ID, "event_id", "Event"),
    houses=Relation(REPORT_HOUSES, "id", "DamagedHouse"),
    affectedEnterprises=Relation(REPORT_ENTERPRISES, "id", "AffectedEnterprise"),
    houseBreakdown=Relation(HOUSE_BREAKDOWN, "id", "HouseCount"),
    photos=Relation(DAMAGE_REPORT_PHOTOS, "id", "Photo"),
)
relations("FloodPoint", reports=Relation(FLOOD_POINT_REPORTS, "id", "FloodPointReport"))
relations(
    "FloodPointReport",
    event=Relation(EVENT_BY_ID, "event_id", "Event"),
    photos=Relation(FLOOD_POINT_REPORT_PHOTOS, "id", "Photo"),
)
relations("Event", region=Relation(REGION_BY_ID, "region_id", "Region"))


async def event(ctx: Context, event_id: int) -> Any:
    return await ctx.load(EVENT_BY_ID, event_id)


async def list_events(info: Info, status: EventStatus | None, first: int | None, after: str | None) -> Page:
    where = [] if status is None else [events.c.status == status]
    return await root_page(info, "Event", events.c.id, where, first, after, event_in, descending=True)


def event_reports(ctx: Context, event_id: int) -> Any:
    return ctx.load_now(EVENT_REPORTS, event_id)


@dataclass
class BoardRow:
    """One village on the town's board: reported or not, when, its latest report and the one that counts."""

    village_id: int
    reports: list[Any]

    @property
    def reported(self) -> bool:
        return bool(self.reports)

    @property
    def last_reported_at(self) -> Any:
        return self.reports[-1].reported_at if self.reports else None

    @property
    def latest_report(self) -> Any:
        return self.reports[-1] if self.reports else None

    @property
    def counted_report(self) -> Any:
        return domain.latest_counted(self.reports).get(self.village_id)

    @property
    def next_kinds(self) -> list[Any]:
        return domain.next_kinds(self.reports)


async def board(ctx: Context, event_id: int) -> list[BoardRow]:
    villages = ctx.loader(EVENT_VILLAGES).load(event_id)
    all_reports = await ctx.load(EVENT_REPORTS, event_id)
    by_village: dict[int, list[Any]] = defaultdict(list)
    for report in all_reports:
        by_village[report.village_id].append(report)
    return [BoardRow(v.id, by_village.get(v.id, [])) for v in await villages]


async def totals(ctx: Context, event_id: int) -> dict[str, Any]:
    counted = domain.latest_counted(await ctx.load(EVENT_REPORTS, event_id))
    return domain.totals(list(counted.values()))



async def flood_point_board(ctx: Context, event_id: int) -> list[Any]:
    """Per flood point that has reports in this event (within the caller's reach), its latest report."""
    latest: dict[int, Any] = {}
    for report in await ctx.load(EVENT_FLOOD_POINT_REPORTS, event_id):
        latest[report.flood_point_id] = report  # in id order: the last one wins
    return list(latest.values())


@dataclass(frozen=True)
class CountedReports:
    """Per (village, event): the report that counts (its latest passed one), or None. One statement per batch."""

    async def batch(self, ctx: Context, keys: Sequence[tuple[int, int]]) -> list[Any]:
        villages, event_ids = {v for v, _ in keys}, {e for _, e in keys}
        stmt = (
            select(reports)
            .where(key_in(reports.c.village_id, list(villages), ctx.dialect), key_in(reports.c.event_id, list(event_ids), ctx.dialect))
            .order_by(reports.c.sequence)
        )
        if ctx.scope is not None:
            stmt = stmt.where(report_in(ctx.scope))
        by_event: dict[int, list[Any]] = defaultdict(list)
        for row in await ctx.records(stmt, reports):
            by_event[row.event_id].append(row)
        counted = {event_id: domain.latest_counted(rows) for event_id, rows in by_event.items()}
        return [counted.get(event_id, {}).get(village_id) for village_id, event_id in keys]


@dataclass(frozen=True)
class ReportedEvents:
    """Per village: the events it reported into (一村一档), newest first."""

    async def batch(self, ctx: Context, keys: Sequence[int]) -> list[list[Any]]:
        stmt = (
            select(events, reports.c.village_id).distinct()
            .join(reports, reports.c.event_id == events.c.id)
            .where(key_in(reports.c.village_id, keys, ctx.dialect))
            .order_by(events.c.id.desc())
        )
        if ctx.scope is not None:
            stmt = stmt.where(report_in(ctx.scope))
        make = record_class(events)
        grouped: dict[int, list[Any]] = defaultdict(list)
        for row in await ctx.read(stmt):
            grouped[row.village_id].append(make(*row[:-1]))
        return [grouped.get(key, []) for key in keys]


COUNTED_REPORTS = CountedReports()
REPORTED_EVENTS = ReportedEvents()
