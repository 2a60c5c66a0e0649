"""Flood point (易涝点) and its photos."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from hub.data import models
from hub.data.models import IndicatorEntity
from hub.domain.flood_points import FLOOD_POINT
from hub.domain.write_path import update_entity
from resolvers import enterprises, flood_points, regions
from resolvers.errors import int_id
from resolvers.events import FLOOD_POINT_REPORTS
from schema.connections import Connection
from schema.enterprises import RiskLevel
from schema.errors import FieldError, field_errors
from schema.fields import (
    LOOKUP,
    After,
    Changes,
    First,
    RecordId,
    RegionCode,
    Version,
    changes_from,
    column,
    filter_arg,
    gql_enum,
    input_column,
    record_input,
)
from schema.history import history_field
from schema.indicators import indicator_fields

if TYPE_CHECKING:
    from schema.enterprises import Enterprise
    from schema.events import FloodPointReport
    from schema.regions import Region

c = models.FloodPoint.__table__.c
p = models.FloodPointPhoto.__table__.c

FloodPointStatus = gql_enum(models.FloodPointStatus, "整治状态")
SiteCondition = gql_enum(models.SiteCondition, "易涝点现场状况")


@strawberry.type(description="易涝点照片（元数据）")
class FloodPointPhoto:
    id: strawberry.ID = column(p.id, "记录ID")
    file_name: str = column(p.file_name)
    content_type: str = column(p.content_type)
    size_bytes: int = column(p.size_bytes)
    sha256: str = column(p.sha256)
    caption: str | None = column(p.caption)
    taken_at: dt.datetime | None = column(p.taken_at)


@strawberry.type(description="易涝点")
class FloodPoint:
    id: strawberry.ID = column(c.id, "记录ID")
    name: str = column(c.name)
    longitude: float = column(c.longitude)
    latitude: float = column(c.latitude)
    description: str | None = column(c.description)
    risk_level: RiskLevel = column(c.risk_level)
    status: FloodPointStatus = column(c.status)
    responsible_person: str = column(c.responsible_person)
    responsible_phone: str = column(c.responsible_phone)
    condition: SiteCondition | None = column(c.condition)
    version: int = column(c.version)
    indicator, indicator_values = indicator_fields(IndicatorEntity.FLOOD_POINT)
    history = history_field("FloodPoint")

    @strawberry.field(description="所在村（社区）")
    def village(self, info: Info) -> Annotated[Region, strawberry.lazy("schema.regions")]:
        return regions.region_by_id(info.context, self.village_id)

    @strawberry.field(description="周边企业")
    def nearby_enterprise(
        self, info: Info
    ) -> Annotated[Enterprise, strawberry.lazy("schema.enterprises")] | None:
        return enterprises.enterprise_by_id(info.context, self.nearby_enterprise_id)

    @strawberry.field(description="照片")
    def photos(self, info: Info) -> list[FloodPointPhoto]:
        return flood_points.flood_point_photos(info.context, self)

    @strawberry.field(description="历次事件中的易涝点报告（含照片），按时间")
    def reports(self, info: Info) -> list[Annotated[FloodPointReport, strawberry.lazy("schema.events")]]:
        return info.context.load_now(FLOOD_POINT_REPORTS, self.id)


@record_input("FloodPoint", "易涝点信息中可修改的字段；不传的字段保持不变")
class FloodPointInput:
    name: str | None = input_column(c.name)
    description: str | None = input_column(c.description)
    risk_level: RiskLevel | None = input_column(c.risk_level)
    status: FloodPointStatus | None = input_column(c.status)
    responsible_person: str | None = input_column(c.responsible_person)
    responsible_phone: str | None = input_column(c.responsible_phone)


@strawberry.type(description="修改易涝点的结果：成功时返回修改后的易涝点，否则返回每个字段的错误（什么都没有写入）")
class FloodPointPayload:
    flood_point: FloodPoint | None = strawberry.field(description="修改后的易涝点")
    errors: list[FieldError] = strawberry.field(description="错误；为空表示成功")


@strawberry.type
class Query:
    @strawberry.field(description="按记录ID查易涝点", metadata=LOOKUP)
    async def flood_point(self, info: Info, id: RecordId) -> FloodPoint | None:
        return await flood_points.flood_point(info.context, int_id(id))

    @strawberry.field(description="易涝点列表")
    async def flood_points(
        self,
        info: Info,
        region_code: RegionCode = None,
        risk_level: Annotated[RiskLevel | None, filter_arg("风险等级", "FloodPoint.riskLevel")] = None,
        status: Annotated[FloodPointStatus | None, filter_arg("整治状态", "FloodPoint.status")] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[FloodPoint]:
        return await flood_points.list_flood_points(
            info, region_code=region_code, risk_level=risk_level, status=status, first=first, after=after
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="修改易涝点信息（巡查、整治进度）", metadata={"writes": "FloodPoint"})
    async def update_flood_point(
        self, info: Info, id: RecordId, version: Version, input: Changes[FloodPointInput]
    ) -> FloodPointPayload:
        result = await update_entity(info.context, FLOOD_POINT, int_id(id), version, changes_from(input))
        return FloodPointPayload(flood_point=result.record, errors=field_errors(result.problems))
