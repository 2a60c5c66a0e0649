"""Generic batch loaders: one SQL statement per batch, whatever the number of keys (see `key_in`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import (
    Column,
    ColumnElement,
    Select,
    Table,
    bindparam,
    func,
    select,
)

from hub.access.jurisdiction import Subtree
from hub.data.rows import KEYS, key_in, key_values
from hub.domain.context import BY_ID, Context
from resolvers.pagination import PageArgs, make_page


class Filter(Protocol):
    """Filter arguments (a frozen, hashable dataclass) that turn themselves into WHERE clauses."""

    def clauses(self) -> list[ColumnElement[bool]]: ...


@dataclass(frozen=True)
class NoFilter:
    def clauses(self) -> list[ColumnElement[bool]]:
        return []


NO_FILTER = NoFilter()


@dataclass(frozen=True)
class RowByKey:
    """One row per key (e.g. a region by id), or None — also when the row is outside the caller's scope."""

    column: Column
    in_scope: Callable[[Subtree], ColumnElement[bool]]

    def __post_init__(self) -> None:
        if self.column.primary_key:  # the write path hands it what it writes (`Context.saved`)
            BY_ID[self.column.table] = self

    async def batch(self, ctx: Context, keys: Sequence[Any]) -> list[Any]:
        single = len(keys) == 1
        stmt = _by_key(self, ctx.dialect, ctx.scope, single)
        params = {KEYS: keys[0] if single else key_values(keys, ctx.dialect)}
        rows = await ctx.records(stmt, self.column.table, params=params)
        by_key = {getattr(row, self.column.name): row for row in rows}
        return [by_key.get(key) for key in keys]


@lru_cache(maxsize=4096)
def _by_key(spec: RowByKey, dialect: str, scope: Subtree | None, single: bool) -> Select:
    """A lookup's statement, built once per loader, database, jurisdiction and kind (building it and its
    cache key cost a department's one-row lookup about a tenth of its CPU); the keys are its KEYS placeholder.

    One key (a lookup by id) is `column = :keys`, not `= ANY(:keys)`: PostgreSQL plans a prepared
    statement anew on every run while its generic plan looks dearer than the custom ones, and for
    an array of unknown length it always does. Planning a department's scoped lookup cost 0.26 ms
    of PostgreSQL's CPU against 0.03 ms to run it; with one scalar key the generic plan is kept."""
    where = spec.column == bindparam(KEYS) if single else key_in(spec.column, None, dialect)
    stmt = select(spec.column.table).where(where)
    return stmt if scope is None else stmt.where(spec.in_scope(scope))


@dataclass(frozen=True)
class RowsByKey:
    """All rows per key, in `order_by` order (e.g. a household's members). For lists a parent always keeps small."""

    column: Column
    order_by: Column
    columns: tuple[str, ...] | None = None  # None: whole rows; else these (see resolvers/narrowing.py)

    async def batch(self, ctx: Context, keys: Sequence[Any]) -> list[list[Any]]:
        table = self.column.table
        stmt = select(*_selected(table, self.columns)).where(key_in(self.column, keys, ctx.dialect)).order_by(self.order_by)
        grouped: dict[Any, list[Any]] = defaultdict(list)
        for row in await ctx.records(stmt, table, self.columns):
            grouped[getattr(row, self.column.name)].append(row)
        return [grouped.get(key, []) for key in keys]

    @property
    def table(self) -> Table:
        return self.column.table

    def narrowed(self, names: Iterable[str]) -> RowsByKey:
        """The same loader reading only `names`, and the key it groups by."""
        return replace(self, columns=_in_table_order(self.column.table, {*names, self.column.name}))


@dataclass(frozen=True)
class ChildCounts:
    """COUNT of child rows per parent under a filter. Keys: (parent_id, filter)."""

    parent: Column

    async def batch(self, ctx: Context, keys: Sequence[tuple[Any, Filter]]) -> list[int]:
        counts: dict[tuple[Any, Filter], int] = {}
        for filter_, parents in _group(keys).items():
            stmt = (
                select(self.parent, func.count())
                .where(key_in(self.parent, parents, ctx.dialect), *filter_.clauses())
                .group_by(self.parent)
            )
            for parent_id, count in await ctx.read(stmt):
                counts[parent_id, filter_] = count
        return [counts.get(key, 0) for key in keys]


@dataclass(frozen=True)
class ChildPages:
    """The first page of child rows for each parent, in one window query.

    Keys: (parent_id, (PageArgs, filter)). Rows come back as a `Page` whose
    total count goes through the matching `ChildCounts` loader.
    """

    parent: Column
    sort: Column
    columns: tuple[str, ...] | None = None  # None: whole rows; else these (see resolvers/narrowing.py)

    @property
    def table(self) -> Table:
        return self.parent.table

    def narrowed(self, names: Iterable[str]) -> ChildPages:
        """The same loader reading only `names`, and the columns it pages by."""
        return replace(self, columns=_in_table_order(self.parent.table, {*names, self.parent.name, self.sort.name}))

    @property
    def counts(self) -> ChildCounts:
        return ChildCounts(self.parent)

    async def batch(self, ctx: Context, keys: Sequence[tuple[Any, tuple[PageArgs, Filter]]]) -> list[Any]:
        table: Table = self.parent.table
        rows_by_key: dict[Any, list[Any]] = {}
        for (args, filter_), parents in _group(keys).items():
            rank = func.row_number().over(partition_by=self.parent, order_by=self.sort).label("_rank")
            where = [key_in(self.parent, parents, ctx.dialect), *filter_.clauses()]
            if args.after is not None:
                where.append(self.sort > args.after)
            ranked = select(*_selected(table, self.columns), rank).where(*where).subquery()
            stmt = (
                select(*(ranked.c[c.name] for c in _selected(table, self.columns)))
                .where(ranked.c._rank <= args.first + 1)
                .order_by(ranked.c[self.parent.name], ranked.c[self.sort.name])
            )
            for row in await ctx.records(stmt, table, self.columns):
                rows_by_key.setdefault((getattr(row, self.parent.name), (args, filter_)), []).append(row)
        return [
            make_page(
                rows_by_key.get(key, []),
                key[1][0],
                self.sort.name,
                _count_via(ctx, self.counts, (key[0], key[1][1])),
            )
            for key in keys
        ]


def _in_table_order(table: Table, names: set[str]) -> tuple[str, ...]:
    return tuple(c.name for c in table.columns if c.name in names)


def _selected(table: Table, columns: tuple[str, ...] | None) -> list[Column]:
    return list(table.columns) if columns is None else [table.c[name] for name in columns]


def _count_via(ctx: Context, spec: ChildCounts, key: tuple[Any, Filter]):
    async def count() -> int:
        return await ctx.load(spec, key)

    return count


def _group(keys: Sequence[tuple[Any, Any]]) -> dict[Any, list[Any]]:
    """Parents grouped by the rest of their key, so each distinct argument set costs one statement."""
    groups: dict[Any, list[Any]] = defaultdict(list)
    for parent_id, rest in keys:
        groups[rest].append(parent_id)
    return groups


def equal_to(table: Table, filter_: Any, *names: str) -> list[ColumnElement[bool]]:
    """`column = value` for each named filter attribute that was given."""
    return [table.c[name] == value for name in names if (value := getattr(filter_, name)) is not None]
