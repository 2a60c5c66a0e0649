"""Change history: written with every change, read per record through the caller's grants.

A department sees the history of the fields it may read, masked where its
grant is masked, and nothing of the others — old values included.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, replace
from typing import Any

from graphql import get_named_type, is_leaf_type
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.types import Info

from hub.access.policy import MASKS
from hub.data.models import Change, ChangeSource
from hub.domain.context import Context
from resolvers.dataloaders import ChildPages
from resolvers.pages import child_page
from resolvers.pagination import Page

changes = Change.__table__
_insert_changes = changes.insert()  # built once: building it cost a tenth of a one-field update
RECORD_CHANGES = ChildPages(changes.c.record_id, changes.c.id)


def as_text(value: Any) -> str | None:
    """How a value is kept in the history: enum names, ISO dates, plain numbers and text."""
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def record(
    connection: AsyncConnection,
    ctx: Context,
    entity: str,
    record_id: int,
    version: int,
    fields: dict[str, tuple[Any, Any]],  # GraphQL field -> (old, new)
    source: ChangeSource = ChangeSource.API,
) -> None:
    rows = [
        {
            "entity": entity,
            "record_id": record_id,
            "field": field,
            "old_value": as_text(old),
            "new_value": as_text(new),
            "version": version,
            "user_id": ctx.caller.user_id,
            "username": ctx.caller.username,
            "org_unit": ctx.caller.org_unit,
            "at": dt.datetime.now(dt.UTC),
            "source": source,
            "request_id": ctx.request_id,
        }
        for field, (old, new) in fields.items()
        if as_text(old) != as_text(new)
    ]
    if rows:
        await connection.execute(_insert_changes, rows)


@dataclass(frozen=True)
class HistoryFilter:
    entity: str
    fields: tuple[str, ...]  # what the caller may read of this type

    def clauses(self) -> list[ColumnElement[bool]]:
        return [changes.c.entity == self.entity, changes.c.field.in_(self.fields)]


async def history(info: Info, entity: str, record_id: int, first: int | None, after: str | None) -> Page:
    object_type = info.schema._schema.type_map[entity]
    readable = tuple(sorted(n for n, f in object_type.fields.items() if is_leaf_type(get_named_type(f.type))))
    page = await child_page(info, RECORD_CHANGES, "ChangeRecord", record_id, first, after, HistoryFilter(entity, readable))
    projection = info.schema.projection
    masked = {ref.partition(".")[2] for ref in projection.masked_fields() if ref.startswith(f"{entity}.")} if projection else set()
    if masked:
        page = replace(page, nodes=[_masked(change, entity) if change.field in masked else change for change in page.nodes])
    return page


def _masked(change: Any, entity: str) -> Any:
    mask = MASKS[f"{entity}.{change.field}"]
    copy = type(change)(*(getattr(change, c.name) for c in changes.columns))
    copy.old_value, copy.new_value = mask(change.old_value), mask(change.new_value)
    return copy
