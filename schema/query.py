"""Root query: a lookup and a filtered, paginated list for every entity."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers import enterprises, flood_points, households, persons, regions
from schema.connections import Connection
from schema.enterprises import Enterprise, RiskLevel
from schema.fields import After, First, NameContains, OptionalRecordId, RecordId, RegionCode
from schema.flood_points import FloodPoint, FloodPointStatus
from schema.households import Household, HousingSafetyGrade
from schema.persons import Gender, HealthStatus, KeyCareReason, Person, ResidenceStatus
from schema.regions import Region, RegionLevel


def _arg(description: str):
    return strawberry.argument(description=description)


@strawberry.type(description="查询入口")
class Query:
    @strawberry.field(description="按统计用区划代码查区划")
    async def region(self, info: Info, code: Annotated[str, _arg("12位统计用区划代码")]) -> Region | None:
        return await regions.region_by_code(info.context, code)

    @strawberry.field(description="区划列表（按代码排序）")
    async def regions(
        self,
        info: Info,
        level: Annotated[RegionLevel | None, _arg("层级")] = None,
        parent_code: Annotated[str | None, _arg("上级区划代码：只返回其直接下级")] = None,
        region_code: RegionCode = None,
        name_contains: NameContains = None,
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

    @strawberry.field(description="按记录ID查户")
    async def household(self, info: Info, id: RecordId) -> Household | None:
        return await households.household(info.context, _int_id(id))

    @strawberry.field(description="户列表")
    async def households(
        self,
        info: Info,
        region_code: RegionCode = None,
        low_income: Annotated[bool | None, _arg("低保户")] = None,
        extreme_poverty: Annotated[bool | None, _arg("特困户")] = None,
        elderly_alone: Annotated[bool | None, _arg("独居老人户")] = None,
        poverty_monitored: Annotated[bool | None, _arg("防返贫监测户")] = None,
        housing_safety_grade: Annotated[HousingSafetyGrade | None, _arg("住房安全等级")] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Household]:
        return await households.list_households(
            info,
            region_code=region_code,
            low_income=low_income,
            extreme_poverty=extreme_poverty,
            elderly_alone=elderly_alone,
            poverty_monitored=poverty_monitored,
            housing_safety_grade=housing_safety_grade,
            first=first,
            after=after,
        )

    @strawberry.field(description="按记录ID或公民身份号码查人员（二选一）")
    async def person(
        self,
        info: Info,
        id: OptionalRecordId = None,
        id_number: Annotated[str | None, _arg("公民身份号码")] = None,
    ) -> Person | None:
        return await persons.person(info.context, None if id is None else _int_id(id), id_number)

    @strawberry.field(description="人员列表")
    async def persons(
        self,
        info: Info,
        region_code: RegionCode = None,
        key_care: Annotated[bool | None, _arg("是否重点照顾人员")] = None,
        key_care_reason: Annotated[KeyCareReason | None, _arg("重点照顾原因")] = None,
        health_status: Annotated[HealthStatus | None, _arg("健康状况")] = None,
        gender: Annotated[Gender | None, _arg("性别")] = None,
        residence_status: Annotated[ResidenceStatus | None, _arg("人员状态")] = None,
        min_age: Annotated[int | None, _arg("最小年龄（含）")] = None,
        max_age: Annotated[int | None, _arg("最大年龄（含）")] = None,
        name_contains: NameContains = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Person]:
        return await persons.list_persons(
            info,
            region_code=region_code,
            key_care=key_care,
            key_care_reason=key_care_reason,
            health_status=health_status,
            gender=gender,
            residence_status=residence_status,
            min_age=min_age,
            max_age=max_age,
            name_contains=name_contains,
            first=first,
            after=after,
        )

    @strawberry.field(description="按记录ID或统一社会信用代码查企业（二选一）")
    async def enterprise(
        self,
        info: Info,
        id: OptionalRecordId = None,
        credit_code: Annotated[str | None, _arg("统一社会信用代码")] = None,
    ) -> Enterprise | None:
        return await enterprises.enterprise(info.context, None if id is None else _int_id(id), credit_code)

    @strawberry.field(description="企业列表")
    async def enterprises(
        self,
        info: Info,
        region_code: RegionCode = None,
        industry: Annotated[str | None, _arg("所属行业")] = None,
        flood_risk: Annotated[RiskLevel | None, _arg("防汛风险等级")] = None,
        name_contains: NameContains = None,
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

    @strawberry.field(description="按记录ID查易涝点")
    async def flood_point(self, info: Info, id: RecordId) -> FloodPoint | None:
        return await flood_points.flood_point(info.context, _int_id(id))

    @strawberry.field(description="易涝点列表")
    async def flood_points(
        self,
        info: Info,
        region_code: RegionCode = None,
        risk_level: Annotated[RiskLevel | None, _arg("风险等级")] = None,
        status: Annotated[FloodPointStatus | None, _arg("整治状态")] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[FloodPoint]:
        return await flood_points.list_flood_points(
            info, region_code=region_code, risk_level=risk_level, status=status, first=first, after=after
        )


def _int_id(value: str) -> int:
    from resolvers.errors import UserInputError

    try:
        return int(value)
    except ValueError:
        raise UserInputError(f"id: {value!r} is not a record id", field="id") from None
