"""Cursor connections: `nodes` for the common case, `edges` for cursor-per-row clients."""

from __future__ import annotations

from typing import Generic, TypeVar

import strawberry

T = TypeVar("T")


@strawberry.type(description="分页信息")
class PageInfo:
    has_next_page: bool = strawberry.field(description="是否还有下一页")
    end_cursor: str | None = strawberry.field(description="本页最后一条记录的游标")


@strawberry.type(description="一条记录及其游标")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="游标")
    node: T = strawberry.field(description="记录")


# At run time `self` is a `resolvers.pagination.Page`.
@strawberry.type(description="分页列表")
class Connection(Generic[T]):
    nodes: list[T] = strawberry.field(description="本页记录")
    page_info: PageInfo = strawberry.field(description="分页信息")

    @strawberry.field(description="符合条件的记录总数")
    async def total_count(self) -> int:
        return await self.count()  # type: ignore[attr-defined]

    @strawberry.field(description="本页记录及游标")
    def edges(self) -> list[Edge[T]]:
        return [Edge(cursor=self.cursor(node), node=node) for node in self.nodes]  # type: ignore[attr-defined]
