"""Change history (变更记录) of a record, as a field every base-data type carries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.types import Info

from hub.data.models import Change as ChangeModel
from hub.data.models import ChangeSource as ChangeSourceModel
from resolvers import history as history_resolvers
from schema.connections import Connection
from schema.fields import After, First, column, gql_enum

c = ChangeModel.__table__.c

ChangeSource = gql_enum(ChangeSourceModel, "修改来源")


@strawberry.type(description="变更记录：哪个字段、原值、新值、谁、何时、从哪里改的")
class ChangeRecord:
    field: str = column(c.field, "字段（GraphQL 名称）")
    old_value: str | None = column(c.old_value)
    new_value: str | None = column(c.new_value)
    version: int = column(c.version)
    username: str = column(c.username)
    org_unit: str = column(c.org_unit)
    at: dt.datetime = column(c.at)
    source: ChangeSource = column(c.source)
    request_id: str = column(c.request_id)


def history_field(entity: str) -> Any:
    async def resolve(root: Any, info: Info, first: First = None, after: After = None) -> Connection[ChangeRecord]:
        return await history_resolvers.history(info, entity, root.id, first, after)

    return strawberry.field(resolver=resolve, description="修改记录，最新的在后（只含本部门可读的字段）")
