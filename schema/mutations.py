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
