"""Enterprise (一企一档)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from hub.data import models
from hub.data.models import IndicatorEntity
from hub.domain.enterprises import ENTERPRISE
from hub.domain.write_path import update_entity
from resolvers import enterprises, regions
from resolvers.errors import int_id
from schema.connections import Connection
from schema.errors import FieldError, field_errors
from schema.fields import (
    LOOKUP,
    After,
    Changes,
    First,
    OptionalRecordId,
    RecordId,
    RegionCode,
    Version,
    changes_from,
    column,
    filter_arg,
    gql_enum,
    input_column,
    name_contains,
    record_input,
)
from schema.history import history_field
from schema.indicators import indicator_fields

if TYPE_CHECKING:
    from schema.regions import Region

c = models.Enterprise.__table__.c

RiskLevel = gql_enum(models.RiskLevel, "风险等级")


@strawberry.type(description="企业（一企一档）")
class Enterprise:
    id: strawberry.ID = column(c.id, "记录ID")
    credit_code: str = column(c.credit_code)
    name: str = column(c.name)
    legal_representative: str = column(c.legal_representative)
    phone: str | None = column(c.phone)
    address: str = column(c.address)
    industry: str = column(c.industry)
    employees: int = column(c.employees)
    safety_contact: str | None = column(c.safety_contact)
    safety_contact_phone: str | None = column(c.safety_contact_phone)
    flood_risk: RiskLevel | None = column(c.flood_risk)
    version: int = column(c.version)
    indicator, indicator_values = indicator_fields(IndicatorEntity.ENTERPRISE)
    history = history_field("Enterprise")

    @strawberry.field(description="所在村（社区）")
    def village(self, info: Info) -> Annotated[Region, strawberry.lazy("schema.regions")]:
        return regions.region_by_id(info.context, self.village_id)


@record_input("Enterprise", "企业信息中可修改的字段；不传的字段保持不变")
class EnterpriseInput:
    name: str | None = input_column(c.name)
    legal_representative: str | None = input_column(c.legal_representative)
    phone: str | None = input_column(c.phone)
    address: str | None = input_column(c.address)
    industry: str | None = input_column(c.industry)
    employees: int | None = input_column(c.employees)
    safety_contact: str | None = input_column(c.safety_contact)
    safety_contact_phone: str | None = input_column(c.safety_contact_phone)
    flood_risk: RiskLevel | None = input_column(c.flood_risk)


@strawberry.type(description="修改企业的结果：成功时返回修改后的企业，否则返回每个字段的错误（什么都没有写入）")
class EnterprisePayload:
    enterprise: Enterprise | None = strawberry.field(description="修改后的企业")
    errors: list[FieldError] = strawberry.field(description="错误；为空表示成功")


@strawberry.type
class Query:
    @strawberry.field(description="按记录ID或统一社会信用代码查企业（二选一）", metadata=LOOKUP)
    async def enterprise(
        self,
        info: Info,
        id: OptionalRecordId = None,
        credit_code: Annotated[str | None, filter_arg("统一社会信用代码", "Enterprise.creditCode")] = None,
    ) -> Enterprise | None:
        return await enterprises.enterprise(info.context, None if id is None else int_id(id), credit_code)

    @strawberry.field(description="企业列表")
    async def enterprises(
        self,
        info: Info,
        region_code: RegionCode = None,
        industry: Annotated[str | None, filter_arg("所属行业", "Enterprise.industry")] = None,
        flood_risk: Annotated[RiskLevel | None, filter_arg("防汛风险等级", "Enterprise.floodRisk")] = None,
        name_contains: name_contains("Enterprise.name") = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Enterprise]:
        return await enterprises.list_enterprises(
            info,
            region_code=region_code,
            industry=industry,
            flood_risk=flood_risk,
            name_contains=name_contains,
            first=first,
            after=after,
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="修改企业信息（一企一档）", metadata={"writes": "Enterprise"})
    async def update_enterprise(
        self, info: Info, id: RecordId, version: Version, input: Changes[EnterpriseInput]
    ) -> EnterprisePayload:
        result = await update_entity(info.context, ENTERPRISE, int_id(id), version, changes_from(input))
        return EnterprisePayload(enterprise=result.record, errors=field_errors(result.problems))
