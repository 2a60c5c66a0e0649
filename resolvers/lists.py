"""Root lists: one keyset-paged SELECT, and a COUNT only when `totalCount` is asked."""

from __future__ import annotations

from sqlalchemy import Column, ColumnElement, func, select

from resolvers.context import Context
from resolvers.dataloaders import NO_FILTER, ChildPages, Filter
from resolvers.pagination import Page, PageArgs, make_page


async def root_page(
    ctx: Context, sort: Column, where: list[ColumnElement[bool]], first: int | None, after: str | None
) -> Page:
    args = PageArgs.parse(first, after, sort, ctx.settings)
    table = sort.table
    stmt = select(table).where(*where).order_by(sort).limit(args.first + 1)
    if args.after is not None:
        stmt = stmt.where(sort > args.after)
    rows = await ctx.read(stmt) if args.first else []

    async def count() -> int:
        return await ctx.scalar(select(func.count()).select_from(table).where(*where))

    return make_page(rows, args, sort.name, count)


async def child_page(
    ctx: Context, spec: ChildPages, parent_id: int, first: int | None, after: str | None, filter_: Filter = NO_FILTER
) -> Page:
    """One parent's page of a relation connection; the loader batches all parents of the level."""
    args = PageArgs.parse(first, after, spec.sort, ctx.settings)
    return await ctx.load(spec, (parent_id, (args, filter_)))
