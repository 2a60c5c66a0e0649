"""Region (行政区划) and its village/town profile (一村一档)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from hub.data.models import IndicatorEntity
from hub.data.models import Region as RegionModel
from hub.data.models import RegionLevel as RegionLevelModel
from resolvers import enterprises, events, flood_points, households, regions
from resolvers.errors import int_id
from schema.connections import Connection
from schema.fields import (
    DIRECT,
    LOOKUP,
    After,
    First,
    RegionCode,
    column,
    filter_arg,
    gql_enum,
    name_contains,
)
from schema.history import history_field
from schema.households import (
    ElderlyAlone,
    ExtremePoverty,
    HousingSafetyGradeFilter,
    LowIncome,
    PovertyMonitored,
)
from schema.indicators import indicator_fields

if TYPE_CHECKING:
    from schema.enterprises import Enterprise
    from schema.events import DamageReport, Event
    from schema.flood_points import FloodPoint
    from schema.households import Household

c = RegionModel.__table__.c

RegionLevel = gql_enum(RegionLevelModel, "行政区划层级")


@strawberry.type(description="行政区划：市、县（区）、乡镇（街道）、村（社区），含一村一档基本信息")
class Region:
    id: strawberry.ID = column(c.id, "记录ID")
    code: str = column(c.code)
    name: str = column(c.name)
    level: RegionLevel = column(c.level)
    population: int | None = column(c.population)
    household_count: int | None = column(c.household_count)
    area_km2: float | None = column(c.area_km2)
    party_secretary: str | None = column(c.party_secretary)
    director: str | None = column(c.director)
    phone: str | None = column(c.phone)
    address: str | None = column(c.address)
    version: int = column(c.version)
    indicator, indicator_values = indicator_fields(IndicatorEntity.VILLAGE)
    history = history_field("Region")

    @strawberry.field(description="上级区划", metadata=DIRECT)
    def parent(self, info: Info) -> Region | None:
        return regions.region_by_id(info.context, self.parent_id)

    @strawberry.field(description="下级区划")
    async def children(self, info: Info, first: First = None, after: After = None) -> Connection[Region]:
        return await regions.children(info, self, first, after)

    @strawberry.field(description="本村（社区）的户（仅村级区划有）")
    async def households(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        low_income: LowIncome = None,
        extreme_poverty: ExtremePoverty = None,
        elderly_alone: ElderlyAlone = None,
        poverty_monitored: PovertyMonitored = None,
        housing_safety_grade: HousingSafetyGradeFilter = None,
    ) -> Connection[Annotated[Household, strawberry.lazy("schema.households")]]:
        return await households.village_households(
            info,
            self,
            first,
            after,
            low_income=low_income,
            extreme_poverty=extreme_poverty,
            elderly_alone=elderly_alone,
            poverty_monitored=poverty_monitored,
            housing_safety_grade=housing_safety_grade,
        )

    @strawberry.field(description="本村（社区）的企业（一企一档）")
    async def enterprises(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[Annotated[Enterprise, strawberry.lazy("schema.enterprises")]]:
        return await enterprises.village_enterprises(info, self, first, after)

    @strawberry.field(description="本村（社区）的易涝点")
    async def flood_points(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[Annotated[FloodPoint, strawberry.lazy("schema.flood_points")]]:
        return await flood_points.village_flood_points(info, self, first, after)

    @strawberry.field(description="本村（社区）在某事件中计入汇总的灾情报告（最新一次通过审核的）")
    def counted_report(
        self, info: Info, event_id: Annotated[strawberry.ID, strawberry.argument(description="事件的记录ID")]
    ) -> Annotated[DamageReport, strawberry.lazy("schema.events")] | None:
        return info.context.load_now(events.COUNTED_REPORTS, (self.id, int_id(event_id, "eventId")))

    @strawberry.field(description="本村（社区）报送过灾情的事件（一村一档），最新的在前")
    def reported_events(self, info: Info) -> list[Annotated[Event, strawberry.lazy("schema.events")]]:
        return info.context.load_now(events.REPORTED_EVENTS, self.id)


@strawberry.type
class Query:
    @strawberry.field(description="按统计用区划代码查区划", metadata=LOOKUP)
    async def region(
        self, info: Info, code: Annotated[str, strawberry.argument(description="12位统计用区划代码")]
    ) -> Region | None:
        return await regions.region_by_code(info.context, code)

    @strawberry.field(description="区划列表（按代码排序）")
    async def regions(
        self,
        info: Info,
        level: Annotated[RegionLevel | None, filter_arg("层级", "Region.level")] = None,
        parent_code: Annotated[str | None, strawberry.argument(description="上级区划代码：只返回其直接下级")] = None,
        region_code: RegionCode = None,
        name_contains: name_contains("Region.name") = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Region]:
        return await regions.list_regions(
            info,
            level=level,
            parent_code=parent_code,
            region_code=region_code,
            name_contains=name_contains,
            first=first,
            after=after,
        )
