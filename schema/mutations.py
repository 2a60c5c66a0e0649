"""Root mutation. Each mutation names the type it writes (`writes` metadata), so a
projection shows it only to callers whose role may write that type."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from hub.domain.write_path import WriteResult, changes_from, update_entity
from resolvers import enterprises, flood_points, households, persons
from resolvers.errors import int_id
from schema.enterprises import EnterpriseInput, EnterprisePayload
from schema.errors import FieldError
from schema.fields import RecordId
from schema.flood_points import FloodPointInput, FloodPointPayload
from schema.households import HouseholdInput, HouseholdPayload, NewHouseholdInput
from schema.persons import NewPersonInput, PersonInput, PersonPayload, VisitInput
from schema.templates import TemplatePayload

Version = Annotated[int, strawberry.argument(description="读取时的版本号（乐观锁：别人已先改过则拒绝，并告知当前版本）")]


class Changes:
    """`Changes[SomeInput]`: the mutation's input argument, described once."""

    def __class_getitem__(cls, input_type: type) -> object:
        return Annotated[input_type, strawberry.argument(description="要修改的字段（只改传入的字段）")]


def _errors(result: WriteResult) -> list[FieldError]:
    return [FieldError(**vars(problem)) for problem in result.problems]


@strawberry.type(description="修改入口：只改传入的字段；每次修改须带上读取时的版本号")
class Mutation:
    @strawberry.mutation(description="修改人员信息（含走访后的近期动态；迁出、死亡改人员状态，不删除）", metadata={"writes": "Person"})
    async def update_person(self, info: Info, id: RecordId, version: Version, input: Changes[PersonInput]) -> PersonPayload:
        result = await update_entity(info.context, persons.PERSON, int_id(id), version, changes_from(input))
        return PersonPayload(person=result.record, errors=_errors(result))

    @strawberry.mutation(
        description="记录一次走访（入户）：所见写入近期动态并注明日期，必要时同时改重点照顾原因；与修改人员走同一写入检查和修改记录",
        metadata={"writes": "Person"},
    )
    async def record_visit(
        self, info: Info, id: RecordId, version: Version, visit: Annotated[VisitInput, strawberry.argument(description="走访情况")]
    ) -> PersonPayload:
        result = await persons.record_visit(info.context, int_id(id), version, visit)
        return PersonPayload(person=result.record, errors=_errors(result))

    @strawberry.mutation(description="新增人员（出生、迁入）到本辖区的一户", metadata={"writes": "Person"})
    async def create_person(
        self,
        info: Info,
        household_id: Annotated[strawberry.ID, strawberry.argument(description="所属户的记录ID")],
        input: Annotated[NewPersonInput, strawberry.argument(description="人员信息")],
    ) -> PersonPayload:
        result = await persons.create_person(info.context, int_id(household_id, "householdId"), input)
        return PersonPayload(person=result.record, errors=_errors(result))

    @strawberry.mutation(description="在本辖区的村（社区）新增一户", metadata={"writes": "Household"})
    async def create_household(
        self,
        info: Info,
        village_code: Annotated[str, strawberry.argument(description="村（社区）统计用区划代码")],
        input: Annotated[NewHouseholdInput, strawberry.argument(description="户信息")],
    ) -> HouseholdPayload:
        result = await households.create_household(info.context, village_code, input)
        return HouseholdPayload(household=result.record, errors=_errors(result))

    @strawberry.mutation(description="修改户信息", metadata={"writes": "Household"})
    async def update_household(
        self, info: Info, id: RecordId, version: Version, input: Changes[HouseholdInput]
    ) -> HouseholdPayload:
        result = await update_entity(info.context, households.HOUSEHOLD, int_id(id), version, changes_from(input))
        return HouseholdPayload(household=result.record, errors=_errors(result))

    @strawberry.mutation(description="修改企业信息（一企一档）", metadata={"writes": "Enterprise"})
    async def update_enterprise(
        self, info: Info, id: RecordId, version: Version, input: Changes[EnterpriseInput]
    ) -> EnterprisePayload:
        result = await update_entity(info.context, enterprises.ENTERPRISE, int_id(id), version, changes_from(input))
        return EnterprisePayload(enterprise=result.record, errors=_errors(result))

    @strawberry.mutation(description="修改易涝点信息（巡查、整治进度）", metadata={"writes": "FloodPoint"})
    async def update_flood_point(
        self, info: Info, id: RecordId, version: Version, input: Changes[FloodPointInput]
    ) -> FloodPointPayload:
        result = await update_entity(info.context, flood_points.FLOOD_POINT, int_id(id), version, changes_from(input))
        return FloodPointPayload(flood_point=result.record, errors=_errors(result))

    @strawberry.mutation(description="保存本部门的表样（新建或修改；须带上读取时的版本号）", metadata={"writes": "Template"})
    async def save_template(
        self,
        info: Info,
        definition: Annotated[str, strawberry.argument(description="表样定义（YAML，格式见 docs/templates.md）")],
        version: Annotated[int | None, strawberry.argument(description="修改时：读取时的版本号；新建时不填")] = None,
    ) -> TemplatePayload:
        template, problems = await info.context.templates.save(info.context.caller, definition, version)
        return TemplatePayload(template=template, errors=[FieldError(**vars(p)) for p in problems])

    @strawberry.mutation(description="删除本部门保存的表样", metadata={"writes": "Template"})
    async def delete_template(
        self,
        info: Info,
        id: Annotated[str, strawberry.argument(description="表样编号")],
        version: Annotated[int, strawberry.argument(description="读取时的版本号")],
    ) -> TemplatePayload:
        problems = await info.context.templates.delete(info.context.caller, id, version)
        return TemplatePayload(template=None, errors=[FieldError(**vars(p)) for p in problems])
