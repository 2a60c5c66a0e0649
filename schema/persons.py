"""Person (人员): identity, employment and insurance, health and disability, recent status."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from hub import clock
from hub.data import models
from hub.data.models import IndicatorEntity
from hub.domain import persons as persons_domain
from hub.domain.write_path import update_entity
from resolvers import households, persons
from resolvers.errors import int_id
from schema.connections import Connection
from schema.errors import FieldError, field_errors
from schema.fields import (
    DIRECT,
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
    from schema.households import Household

c = models.Person.__table__.c

Gender = gql_enum(models.Gender, "性别")
HealthStatus = gql_enum(models.HealthStatus, "健康状况")
EmploymentStatus = gql_enum(models.EmploymentStatus, "就业状态")
KeyCareReason = gql_enum(models.KeyCareReason, "重点照顾原因")
ResidenceStatus = gql_enum(models.ResidenceStatus, "人员状态（在册、迁出、死亡）")


@strawberry.type(description="人员：身份、就业与参保、健康与残疾、近期动态")
class Person:
    id: strawberry.ID = column(c.id, "记录ID")
    name: str = column(c.name)
    id_number: str = column(c.id_number)
    gender: Gender = column(c.gender)
    birth_date: dt.date = column(c.birth_date)
    ethnicity: str = column(c.ethnicity)
    relation_to_head: str = column(c.relation_to_head)
    phone: str | None = column(c.phone)
    residence_status: ResidenceStatus = column(c.residence_status)
    employment_status: EmploymentStatus | None = column(c.employment_status)
    employer: str | None = column(c.employer)
    pension_insurance: str | None = column(c.pension_insurance)
    medical_insurance: str | None = column(c.medical_insurance)
    health_status: HealthStatus = column(c.health_status)
    chronic_diseases: str | None = column(c.chronic_diseases)
    disability_type: str | None = column(c.disability_type)
    disability_grade: int | None = column(c.disability_grade)
    key_care_reason: KeyCareReason | None = column(c.key_care_reason)
    recent_status: str | None = column(c.recent_status)
    recent_status_date: dt.date | None = column(c.recent_status_date)
    version: int = column(c.version)
    indicator, indicator_values = indicator_fields(IndicatorEntity.PERSON)
    history = history_field("Person")

    @strawberry.field(description="年龄（周岁，按今天计算）")
    def age(self) -> int:
        return persons_domain.age_on(self.birth_date, clock.today())

    @strawberry.field(description="所属户", metadata=DIRECT)
    def household(self, info: Info) -> Annotated[Household, strawberry.lazy("schema.households")]:
        return households.household_by_id(info.context, self.household_id)


@record_input("Person", "人员信息中可修改的字段；不传的字段保持不变")
class PersonInput:
    name: str | None = input_column(c.name)
    ethnicity: str | None = input_column(c.ethnicity)
    relation_to_head: str | None = input_column(c.relation_to_head)
    phone: str | None = input_column(c.phone)
    residence_status: ResidenceStatus | None = input_column(c.residence_status)
    employment_status: EmploymentStatus | None = input_column(c.employment_status)
    employer: str | None = input_column(c.employer)
    health_status: HealthStatus | None = input_column(c.health_status)
    chronic_diseases: str | None = input_column(c.chronic_diseases)
    key_care_reason: KeyCareReason | None = input_column(c.key_care_reason)
    recent_status: str | None = input_column(c.recent_status)
    recent_status_date: dt.date | None = input_column(c.recent_status_date)


@record_input("Person", "一次走访（入户）所见")
class VisitInput:
    recent_status: str = strawberry.field(description="近期动态：走访所见，不能为空")
    recent_status_date: dt.date | None = strawberry.field(default=strawberry.UNSET, description="走访日期；不填为今天")
    key_care_reason: KeyCareReason | None = strawberry.field(
        default=strawberry.UNSET, description="重点照顾原因；不传保持不变，传 null 表示不再重点照顾"
    )


@strawberry.type(description="修改人员的结果：成功时返回修改后的人员，否则返回每个字段的错误（什么都没有写入）")
class PersonPayload:
    person: Person | None = strawberry.field(description="修改后的人员")
    errors: list[FieldError] = strawberry.field(description="错误；为空表示成功")


@record_input("Person", "新增人员（出生、迁入）；性别和出生日期由公民身份号码得出")
class NewPersonInput:
    name: str = strawberry.field(description=c.name.info["label"])
    id_number: str = strawberry.field(description=c.id_number.info["label"])
    relation_to_head: str = strawberry.field(description=c.relation_to_head.info["label"])
    ethnicity: str | None = input_column(c.ethnicity)
    phone: str | None = input_column(c.phone)
    employment_status: EmploymentStatus | None = input_column(c.employment_status)
    employer: str | None = input_column(c.employer)
    health_status: HealthStatus | None = input_column(c.health_status)
    chronic_diseases: str | None = input_column(c.chronic_diseases)
    recent_status: str | None = input_column(c.recent_status)


@strawberry.type
class Query:
    @strawberry.field(description="按记录ID或公民身份号码查人员（二选一）", metadata=LOOKUP)
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


@strawberry.type
class Mutation:
    @strawberry.mutation(description="修改人员信息（含走访后的近期动态；迁出、死亡改人员状态，不删除）", metadata={"writes": "Person"})
    async def update_person(self, info: Info, id: RecordId, version: Version, input: Changes[PersonInput]) -> PersonPayload:
        result = await update_entity(info.context, persons_domain.PERSON, int_id(id), version, changes_from(input))
        return PersonPayload(person=result.record, errors=field_errors(result.problems))

    @strawberry.mutation(
        description="记录一次走访（入户）：所见写入近期动态并注明日期，必要时同时改重点照顾原因；与修改人员走同一写入检查和修改记录",
        metadata={"writes": "Person"},
    )
    async def record_visit(
        self, info: Info, id: RecordId, version: Version, visit: Annotated[VisitInput, strawberry.argument(description="走访情况")]
    ) -> PersonPayload:
        result = await persons_domain.record_visit(info.context, int_id(id), version, changes_from(visit))
        return PersonPayload(person=result.record, errors=field_errors(result.problems))

    @strawberry.mutation(description="新增人员（出生、迁入）到本辖区的一户", metadata={"writes": "Person"})
    async def create_person(
        self,
        info: Info,
        household_id: Annotated[strawberry.ID, strawberry.argument(description="所属户的记录ID")],
        input: Annotated[NewPersonInput, strawberry.argument(description="人员信息")],
    ) -> PersonPayload:
        result = await persons.create_person(info.context, int_id(household_id, "householdId"), changes_from(input))
        return PersonPayload(person=result.record, errors=field_errors(result.problems))
