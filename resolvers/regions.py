"""Regions (行政区划): lookups, lists, subtree filters and the loaders of their relations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement
from strawberry.types import Info

from hub.access.jurisdiction import Subtree
from hub.data.models import Region, RegionLevel
from hub.domain.context import Context
from resolvers.dataloaders import ChildPages, RowByKey
from resolvers.errors import UserInputError
from resolvers.filters import contains
from resolvers.narrowing import connections, narrowable
from resolvers.pages import child_page, root_page
from resolvers.pagination import Page
from resolvers.prefetch import Relation, relations

regions = Region.__table__

REGION_BY_ID = RowByKey(regions.c.id, Subtree.regions)
REGION_BY_CODE = RowByKey(regions.c.code, Subtree.regions)
REGION_CHILDREN = ChildPages(regions.c.parent_id, regions.c.code)

relations("Region", parent=Relation(REGION_BY_ID, "parent_id", "Region"))
connections("Region", children=Relation(REGION_CHILDREN, "id", "Region"))
narrowable(REGION_CHILDREN)


async def subtree(ctx: Context, code: str | None, field: str = "regionCode") -> Subtree | None:
    if code is None:
        return None
    region = await region_by_code(ctx, code, field)
    if region is None:
        raise UserInputError(f"{field}：没有代码为 {code} 的地区（或不在您的管辖范围内）", field=field)
    return Subtree.of(region.code, region.level)


async def region_by_code(ctx: Context, code: str, field: str = "code") -> Any:
    if len(code) != 12 or not code.isdigit():
        raise UserInputError(f"{field}：地区代码应为 12 位数字，收到 {code!r}", field=field)
    return await ctx.load(REGION_BY_CODE, code)


def region_by_id(ctx: Context, region_id: int | None) -> Any:
    return None if region_id is None else ctx.load_now(REGION_BY_ID, region_id)


@dataclass(frozen=True)
class RegionFilter:
    level: RegionLevel | None = None
    parent_id: int | None = None
    subtree: Subtree | None = None
    name_contains: str | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        where = []
        if self.level is not None:
            where.append(regions.c.level == self.level)
        if self.parent_id is not None:
            where.append(regions.c.parent_id == self.parent_id)
        if self.subtree is not None:
            where.append(self.subtree.regions())
        if self.name_contains:
            where.append(contains(regions.c.name, self.name_contains))
        return where


async def list_regions(
    info: Info,
    *,
    level: RegionLevel | None,
    parent_code: str | None,
    region_code: str | None,
    name_contains: str | None,
    first: int | None,
    after: str | None,
) -> Page:
    ctx = info.context
    parent_id = None
    if parent_code is not None:
        parent = await region_by_code(ctx, parent_code, "parentCode")
        if parent is None:
            raise UserInputError(f"parentCode：没有代码为 {parent_code} 的地区（或不在您的管辖范围内）", field="parentCode")
        parent_id = parent.id
    filter_ = RegionFilter(level, parent_id, await subtree(ctx, region_code), name_contains)
    return await root_page(info, "Region", regions.c.code, filter_.clauses(), first, after, Subtree.regions)


async def children(info: Info, region: Any, first: int | None, after: str | None) -> Page:
    return await child_page(info, REGION_CHILDREN, "Region", region.id, first, after)
