"""Flood points (易涝点): lookups, lists, photos and a village's flood points."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Row

from hub.models import FloodPoint, FloodPointPhoto, FloodPointStatus, RiskLevel
from resolvers.context import Context
from resolvers.dataloaders import ChildPages, RowByKey, RowsByKey
from resolvers.lists import child_page, root_page
from resolvers.pagination import Page
from resolvers.regions import Subtree, subtree

flood_points = FloodPoint.__table__
photos = FloodPointPhoto.__table__

FLOOD_POINT_BY_ID = RowByKey(flood_points.c.id)
FLOOD_POINT_PHOTOS = RowsByKey(photos.c.flood_point_id, order_by=photos.c.id)
VILLAGE_FLOOD_POINTS = ChildPages(flood_points.c.village_id, flood_points.c.id)


@dataclass(frozen=True)
class FloodPointFilter:
    subtree: Subtree | None = None
    risk_level: RiskLevel | None = None
    status: FloodPointStatus | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        where = []
        if self.subtree is not None:
            where.append(flood_points.c.village_id.in_(self.subtree.region_ids()))
        if self.risk_level is not None:
            where.append(flood_points.c.risk_level == self.risk_level)
        if self.status is not None:
            where.append(flood_points.c.status == self.status)
        return where


async def flood_point(ctx: Context, flood_point_id: int) -> Row | None:
    return await ctx.load(FLOOD_POINT_BY_ID, flood_point_id)


async def list_flood_points(
    ctx: Context, *, region_code: str | None, first: int | None, after: str | None, **filters
) -> Page:
    filter_ = FloodPointFilter(subtree=await subtree(ctx, region_code), **filters)
    return await root_page(ctx, flood_points.c.id, filter_.clauses(), first, after)


async def village_flood_points(ctx: Context, village: Row, first: int | None, after: str | None) -> Page:
    return await child_page(ctx, VILLAGE_FLOOD_POINTS, village.id, first, after)


async def flood_point_photos(ctx: Context, point: Row) -> list[Row]:
    return await ctx.load(FLOOD_POINT_PHOTOS, point.id)
