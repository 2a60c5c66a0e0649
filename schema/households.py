"""Household (户) and its members."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from hub.data.models import Household as HouseholdModel
from hub.data.models import HousingSafetyGrade as HousingSafetyGradeModel
from hub.data.models import IndicatorEntity
from hub.domain.households import HOUSEHOLD
from hub.domain.write_path import update_entity
from resolvers import households, regions
from resolvers.errors import int_id
from schema.connections import Connection
from schema.errors import FieldError, field_errors
from schema.fields import (
    DIRECT,
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
    from schema.persons import Person
    from schema.regions import Region

c = HouseholdModel.__table__.c

HousingSafetyGrade = gql_enum(HousingSafetyGradeModel, "农村住房安全性鉴定等级")

# Filters on households, shared by `Query.households` and `Region.households`.
LowIncome = Annotated[bool | None, filter_arg("低保户", "Household.lowIncome")]
ExtremePoverty = Annotated[bool | None, filter_arg("特困户", "Household.extremePoverty")]
ElderlyAlone = Annotated[bool | None, filter_arg("独居老人户", "Household.elderlyAlone")]
PovertyMonitored = Annotated[bool | None, filter_arg("防返贫监测户", "Household.povertyMonitored")]
HousingSafetyGradeFilter = Annotated[HousingSafetyGrade | None, filter_arg("住房安全等级", "Household.housingSafetyGrade")]


@strawberry.type(description="户：家庭住址、类别（低保、特困、独居老人、防返贫监测）与成员")
class Household:
    id: strawberry.ID = column(c.id, "记录ID")
    address: str = column(c.address)
    grid_name: str | None = column(c.grid_name)
    phone: str | None = column(c.phone)
    low_income: bool = column(c.low_income)
    extreme_poverty: bool = column(c.extreme_poverty)
    elderly_alone: bool = column(c.elderly_alone)
    poverty_monitored: bool = column(c.poverty_monitored)
    low_income_since: dt.date | None = column(c.low_income_since)
    income_per_person_monthly: float | None = column(c.income_per_person_monthly)
    subsidy_monthly: float | None = column(c.subsidy_monthly)
    housing_safety_grade: HousingSafetyGrade | None = column(c.housing_safety_grade)
    version: int = column(c.version)
    indicator, indicator_values = indicator_fields(IndicatorEntity.HOUSEHOLD)
    history = history_field("Household")

    @strawberry.field(description="所属村（社区）", metadata=DIRECT)
    def village(self, info: Info) -> Annotated[Region, strawberry.lazy("schema.regions")]:
        return regions.region_by_id(info.context, self.village_id)

    @strawberry.field(description="家庭成员", metadata=DIRECT)
    def members(self, info: Info) -> list[Annotated[Person, strawberry.lazy("schema.persons")]]:
        return households.members(info.context, self)

    # Which member is the head is Person.relationToHead: shown only where that is read.
    @strawberry.field(description="户主", metadata={"reveals": "Person.relationToHead"})
    def head(self, info: Info) -> Annotated[Person, strawberry.lazy("schema.persons")] | None:
        return households.head(info.context, self)

    @strawberry.field(description="家庭人口数")
    def member_count(self, info: Info) -> int:
        return households.member_count(info.context, self)


@record_input("Household", "户信息中可修改的字段；不传的字段保持不变")
class HouseholdInput:
    address: str | None = input_column(c.address)
    grid_name: str | None = input_column(c.grid_name)
    phone: str | None = input_column(c.phone)
    low_income: bool | None = input_column(c.low_income)
    extreme_poverty: bool | None = input_column(c.extreme_poverty)
    elderly_alone: bool | None = input_column(c.elderly_alone)
    poverty_monitored: bool | None = input_column(c.poverty_monitored)
    low_income_since: dt.date | None = input_column(c.low_income_since)
    income_per_person_monthly: float | None = input_column(c.income_per_person_monthly)
    subsidy_monthly: float | None = input_column(c.subsidy_monthly)
    housing_safety_grade: HousingSafetyGrade | None = input_column(c.housing_safety_grade)


@strawberry.type(description="修改户的结果：成功时返回修改后的户，否则返回每个字段的错误（什么都没有写入）")
class HouseholdPayload:
    household: Household | None = strawberry.field(description="修改后的户")
    errors: list[FieldError] = strawberry.field(description="错误；为空表示成功")


@record_input("Household", "新增户")
class NewHouseholdInput:
    address: str = strawberry.field(description=c.address.info["label"])
    grid_name: str | None = input_column(c.grid_name)
    phone: str | None = input_column(c.phone)
    housing_safety_grade: HousingSafetyGrade | None = input_column(c.housing_safety_grade)


@strawberry.type
class Query:
    @strawberry.field(description="按记录ID查户", metadata=LOOKUP)
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


@strawberry.type
class Mutation:
    @strawberry.mutation(description="在本辖区的村（社区）新增一户", metadata={"writes": "Household"})
    async def create_household(
        self,
        info: Info,
        village_code: Annotated[str, strawberry.argument(description="村（社区）统计用区划代码")],
        input: Annotated[NewHouseholdInput, strawberry.argument(description="户信息")],
    ) -> HouseholdPayload:
        result = await households.create_household(info.context, village_code, changes_from(input))
        return HouseholdPayload(household=result.record, errors=field_errors(result.problems))

    @strawberry.mutation(description="修改户信息", metadata={"writes": "Household"})
    async def update_household(
        self, info: Info, id: RecordId, version: Version, input: Changes[HouseholdInput]
    ) -> HouseholdPayload:
        result = await update_entity(info.context, HOUSEHOLD, int_id(id), version, changes_from(input))
        return HouseholdPayload(household=result.record, errors=field_errors(result.problems))
