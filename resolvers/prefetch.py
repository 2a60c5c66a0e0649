"""Look-ahead loading: a list resolver loads the relations its rows will be asked for.

graphql-core awaits every awaitable a resolver returns, one by one, and on
thousands of rows that machinery costs far more than the SQL. So a list
resolver (a connection) reads the query's selection under `nodes` /
`edges.node`, loads each selected relation for all its rows at once — one
batch per relation and level, the same statements the loaders would send —
and the relation fields below then find their values already loaded and
return them without awaiting (`Context.load_now`).

Connections nested in the selection keep their own resolvers (they have their
own arguments) and look ahead for their own rows in turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from strawberry.types.nodes import (
    FragmentSpread,
    InlineFragment,
    SelectedField,
    Selection,
)

from hub.domain.context import Context, LoaderSpec


@dataclass(frozen=True)
class Relation:
    """A relation field: which loader serves it, keyed by which attribute of the parent row."""

    loader: LoaderSpec
    key: str
    target: str  # GraphQL type of the loaded rows, to look further ahead


RELATIONS: dict[str, dict[str, Relation]] = {}


def relations(type_name: str, **fields: Relation) -> None:
    """Declare the relation fields of a GraphQL type (GraphQL field names)."""
    RELATIONS.setdefault(type_name, {}).update(fields)


def fields_of(selections: Iterable[Selection]) -> Iterable[SelectedField]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        elif isinstance(selection, (FragmentSpread, InlineFragment)):
            yield from fields_of(selection.selections)


def node_selections(connection_field: SelectedField) -> list[Selection]:
    """What the query selects on each row of a connection: `nodes { … }` and `edges { node { … } }`."""
    selected: list[Selection] = []
    for field in fields_of(connection_field.selections):
        if field.name == "nodes":
            selected += field.selections
        elif field.name == "edges":
            selected += [s for f in fields_of(field.selections) if f.name == "node" for s in f.selections]
    return selected


async def prefetch(ctx: Context, type_name: str, rows: Sequence[Any], selections: Sequence[Selection]) -> None:
    if not rows:
        return
    by_loader: dict[Relation, list[Selection]] = {}
    for field in fields_of(selections):
        relation = RELATIONS.get(type_name, {}).get(field.name)
        if relation is not None:
            by_loader.setdefault(relation, []).extend(field.selections)
    await asyncio.gather(*(_load(ctx, relation, rows, sub) for relation, sub in by_loader.items()))


async def _load(ctx: Context, relation: Relation, rows: Sequence[Any], selections: list[Selection]) -> None:
    keys = list(dict.fromkeys(k for k in (getattr(row, relation.key) for row in rows) if k is not None))
    loader = ctx.loader(relation.loader)
    futures = [loader.load(key) for key in keys]
    # One batch answers them all: wait for each unfinished one in turn (the first wait is the batch's), not
    # through load_many's gather, which schedules a callback per key (1,708 for a town's households).
    for future in futures:
        if not future.done():
            await future
    loaded = [future.result() for future in futures]
    if selections:
        children = [c for value in loaded for c in (value if isinstance(value, list) else [value]) if c is not None]
        await prefetch(ctx, relation.target, children, selections)
