"""Change history, read per record through the caller's grants (hub/domain/history.py writes it).

A department sees the history of the fields it may read, masked where its
grant is masked, and nothing of the others — old values included.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from graphql import get_named_type, is_leaf_type
from sqlalchemy import ColumnElement
from strawberry.types import Info

from hub.access.masking import masked_change
from hub.data.models import Change
from resolvers.dataloaders import ChildPages
from resolvers.pages import child_page
from resolvers.pagination import Page

changes = Change.__table__
RECORD_CHANGES = ChildPages(changes.c.record_id, changes.c.id)


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
        page = replace(page, nodes=[masked_change(change, f"{entity}.{change.field}") if change.field in masked else change for change in page.nodes])
    return page
