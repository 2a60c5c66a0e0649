"""Lists: root lists (one keyset-paged SELECT, a COUNT only when `totalCount` is asked)
and relation connections (one batched window query per level)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy import Column, ColumnElement, func, select
from strawberry.types import Info

from hub.access.jurisdiction import Subtree
from resolvers.dataloaders import NO_FILTER, ChildPages, Filter
from resolvers.pagination import Page, PageArgs, make_page
from resolvers.prefetch import fields_of, node_selections, prefetch


async def root_page(
    info: Info,
    node_type: str,
    sort: Column,
    where: list[ColumnElement[bool]],
    first: int | None,
    after: str | None,
    in_scope: Callable[[Subtree], ColumnElement[bool]] | None,
    descending: bool = False,
) -> Page:
    """A root list's page; `in_scope` limits it to the caller's jurisdiction (None: `where` already says what the caller sees)."""
    ctx = info.context
    args = PageArgs.parse(first, after, sort, ctx.settings)
    table = sort.table
    if ctx.scope is not None and in_scope is not None:
        where = [*where, in_scope(ctx.scope)]
    stmt = select(table).where(*where).order_by(sort.desc() if descending else sort).limit(args.first + 1)
    if args.after is not None:
        stmt = stmt.where(sort < args.after if descending else sort > args.after)

    async def count_rows() -> int:
        return await ctx.scalar(select(func.count()).select_from(table).where(*where))

    async def fetch_rows() -> list:
        return await ctx.records(stmt, table) if args.first else []

    if _wants_total(info):  # the COUNT runs beside the page query, not after it
        rows, total = await asyncio.gather(fetch_rows(), count_rows())

        async def count() -> int:
            return total
    else:
        rows, count = await fetch_rows(), count_rows
    page = make_page(rows, args, sort.name, count)
    await _look_ahead(info, node_type, page)
    return page


async def child_page(
    info: Info,
    spec: ChildPages,
    node_type: str,
    parent_id: int,
    first: int | None,
    after: str | None,
    filter_: Filter = NO_FILTER,
) -> Page:
    """One parent's page of a relation connection; the loader batches all parents of the level."""
    ctx = info.context
    args = PageArgs.parse(first, after, spec.sort, ctx.settings)
    if _wants_total(info):  # queue the count in the same batch round as the pages
        ctx.loader(spec.counts).load((parent_id, filter_))
    page = await ctx.load(spec, (parent_id, (args, filter_)))
    await _look_ahead(info, node_type, page)
    return page


def _wants_total(info: Info) -> bool:
    return any(f.name == "totalCount" for field in info.selected_fields for f in fields_of(field.selections))


async def _look_ahead(info: Info, node_type: str, page: Page) -> None:
    selections = [s for field in info.selected_fields for s in node_selections(field)]
    await prefetch(info.context, node_type, page.nodes, selections)
