"""Root mutation. Each mutation names the type it writes (`writes` metadata), so a
projection shows it only to callers whose role may write that type."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers import persons
from schema.errors import FieldError
from schema.fields import RecordId
from schema.persons import PersonInput, PersonPayload
from schema.templates import TemplatePayload


@strawberry.type(description="修改入口：只改传入的字段；每次修改须带上读取时的版本号")
class Mutation:
    @strawberry.mutation(description="修改人员信息（含走访后的近期动态）", metadata={"writes": "Person"})
    async def update_person(
        self,
        info: Info,
        id: RecordId,
        version: Annotated[int, strawberry.argument(description="读取时的版本号（乐观锁）")],
        input: Annotated[PersonInput, strawberry.argument(description="要修改的字段")],
    ) -> PersonPayload:
        result = await persons.update_person(info, id, version, input)
        return PersonPayload(person=result.record, errors=[FieldError(**vars(p)) for p in result.problems])

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
