"""Flood points (易涝点): lookups, lists, photos and a village's flood points."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement
from strawberry.types import Info

from hub.access.jurisdiction import Subtree
from hub.data.models import FloodPointPhoto, FloodPointStatus, RiskLevel
from hub.domain.context import Context
from hub.domain.flood_points import flood_point_in, flood_points
from resolvers.dataloaders import ChildPages, RowByKey, RowsByKey, equal_to
from resolvers.enterprises import ENTERPRISE_BY_ID
from resolvers.pages import child_page, root_page
from resolvers.pagination import Page
from resolvers.prefetch import Relation, relations
from resolvers.regions import REGION_BY_ID, subtree

photos = FloodPointPhoto.__table__



FLOOD_POINT_BY_ID = RowByKey(flood_points.c.id, flood_point_in)
FLOOD_POINT_PHOTOS = RowsByKey(photos.c.flood_point_id, order_by=photos.c.id)
VILLAGE_FLOOD_POINTS = ChildPages(flood_points.c.village_id, flood_points.c.id)

relations(
    "FloodPoint",
    village=Relation(REGION_BY_ID, "village_id", "Region"),
    nearbyEnterprise=Relation(ENTERPRISE_BY_ID, "nearby_enterprise_id", "Enterprise"),
    photos=Relation(FLOOD_POINT_PHOTOS, "id", "FloodPointPhoto"),
)


@dataclass(frozen=True)
class FloodPointFilter:
    subtree: Subtree | None = None
    risk_level: RiskLevel | None = None
    status: FloodPointStatus | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        where = equal_to(flood_points, self, "risk_level", "status")
        if self.subtree is not None:
            where.append(flood_point_in(self.subtree))
        return where


async def flood_point(ctx: Context, flood_point_id: int) -> Any:
    return await ctx.load(FLOOD_POINT_BY_ID, flood_point_id)


async def list_flood_points(
    info: Info, *, region_code: str | None, first: int | None, after: str | None, **filters
) -> Page:
    filter_ = FloodPointFilter(subtree=await subtree(info.context, region_code), **filters)
    return await root_page(info, "FloodPoint", flood_points.c.id, filter_.clauses(), first, after, flood_point_in)


async def village_flood_points(info: Info, village: Any, first: int | None, after: str | None) -> Page:
    return await child_page(info, VILLAGE_FLOOD_POINTS, "FloodPoint", village.id, first, after)


def flood_point_photos(ctx: Context, point: Any) -> Any:
    return ctx.load_now(FLOOD_POINT_PHOTOS, point.id)


def flood_point_by_id(ctx: Context, flood_point_id: int) -> Any:
    return ctx.load_now(FLOOD_POINT_BY_ID, flood_point_id)
