"""Root query: a lookup and a filtered, paginated list for every entity."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from hub.forms.templates import runnable
from resolvers import (
    access_log,
    enterprises,
    flood_points,
    households,
    persons,
    regions,
)
from resolvers.errors import int_id
from schema.access_log import AccessLogEntry
from schema.connections import Connection
from schema.enterprises import Enterprise, RiskLevel
from schema.fields import (
    After,
    First,
    OptionalRecordId,
    RecordId,
    RegionCode,
    filter_arg,
    name_contains,
)
from schema.flood_points import FloodPoint, FloodPointStatus
from schema.households import (
    ElderlyAlone,
    ExtremePoverty,
    Household,
    HousingSafetyGradeFilter,
    LowIncome,
    PovertyMonitored,
)
from schema.persons import Gender, HealthStatus, KeyCareReason, Person, ResidenceStatus
from schema.regions import Region, RegionLevel
from schema.templates import Template


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
        level: Annotated[RegionLevel | None, filter_arg("层级", "Region.level")] = None,
        parent_code: Annotated[str | None, _arg("上级区划代码：只返回其直接下级")] = None,
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

    @strawberry.field(description="按记录ID查户")
    async def household(self, info: Info, id: RecordId) -> Household | None:
        return await households.household(info.context, int_id(id))

    @strawberry.field(description="户列表")
    async def households(
        self,
        info: Info,
        region_code: RegionCode = None,
        low_income: LowIncome = None,
        extreme_poverty: ExtremePoverty = None,
        elderly_alone: ElderlyAlone = None,
        poverty_monitored: PovertyMonitored = None,
        housing_safety_grade: HousingSafetyGradeFilter = None,
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
        # Exact match on the full number: only for callers who may read it unmasked.
        id_number: Annotated[str | None, filter_arg("公民身份号码", "Person.idNumber")] = None,
    ) -> Person | None:
        return await persons.person(info.context, None if id is None else int_id(id), id_number)

    @strawberry.field(description="人员列表")
    async def persons(
        self,
        info: Info,
        region_code: RegionCode = None,
        key_care: Annotated[bool | None, filter_arg("是否重点照顾人员", "Person.keyCareReason")] = None,
        key_care_reason: Annotated[KeyCareReason | None, filter_arg("重点照顾原因", "Person.keyCareReason")] = None,
        health_status: Annotated[HealthStatus | None, filter_arg("健康状况", "Person.healthStatus")] = None,
        gender: Annotated[Gender | None, filter_arg("性别", "Person.gender")] = None,
        residence_status: Annotated[ResidenceStatus | None, filter_arg("人员状态", "Person.residenceStatus")] = None,
        min_age: Annotated[int | None, filter_arg("最小年龄（含）", "Person.age")] = None,
        max_age: Annotated[int | None, filter_arg("最大年龄（含）", "Person.age")] = None,
        name_contains: name_contains("Person.name") = None,
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

    @strawberry.field(description="按记录ID查易涝点")
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


    @strawberry.field(description="我可以运行的表样（所需字段均已授权）")
    async def templates(self, info: Info) -> list[Template]:
        return [t for t in (await info.context.templates.all()).values() if runnable(t, info.schema._schema)]

    @strawberry.field(description="按编号取一个我可以运行的表样；不存在或无权运行时为空")
    async def template(self, info: Info, id: Annotated[str, strawberry.argument(description="表样编号")]) -> Template | None:
        template = await info.context.templates.get(id)
        return template if template is not None and runnable(template, info.schema._schema) else None

    @strawberry.field(description="访问日志（仅系统管理员），最新的在前")
    async def access_log(
        self,
        info: Info,
        username: Annotated[str | None, _arg("用户名")] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[AccessLogEntry]:
        return await access_log.list_entries(info, username=username, first=first, after=after)
