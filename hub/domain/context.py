"""A caller's context for one unit of work — a request, an export page, an upload, a command.

It holds who the caller is, their jurisdiction, the policy, database access and
the unit's DataLoaders. `Context.for_caller` is the one way to make it: GraphQL,
exports, uploads, the command line, tests and benchmarks all use it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, Self

from aiodataloader import DataLoader
from sqlalchemy import Row, Table
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Executable

from hub.access.jurisdiction import Subtree, jurisdiction
from hub.data import fast_read
from hub.data.database import reader
from hub.data.rows import record_class
from hub.settings import Settings

if TYPE_CHECKING:
    from hub.access.accounts import Caller
    from hub.access.policy import Policy


class LoaderSpec(Protocol):
    """A hashable description of a loader; the context builds one DataLoader per spec per request."""

    def batch(self, ctx: Context, keys: Sequence[Any]) -> Any: ...


# Per table, the loader that finds its rows by id (registered by the loaders themselves):
# a record this unit of work writes is handed to it, so later reads see the new row.
BY_ID: dict[Table, LoaderSpec] = {}


@dataclass
class Context:
    engine: AsyncEngine
    settings: Settings
    request_id: str
    caller: Caller | None = None
    # The caller's jurisdiction: rows outside it do not exist for them. None: the whole city.
    scope: Subtree | None = None
    policy: Policy | None = None
    audit: dict[str, Any] = field(default_factory=dict)  # filled for the access log
    rows_returned: int = 0  # objects returned in lists, counted as execution completes them
    # Loaders this document reads fewer columns through (spec → its narrowed twin; see resolvers/narrowing.py).
    narrowing: Mapping[LoaderSpec, LoaderSpec] = field(default_factory=dict)
    _loaders: dict[LoaderSpec, DataLoader] = field(default_factory=dict)

    @classmethod
    def for_caller(cls, engine: AsyncEngine, settings: Settings, policy: Policy, caller: Caller, request_id: str, **extra: Any) -> Self:
        """The caller's context, limited to their jurisdiction (the region on their account and below)."""
        scope = jurisdiction(caller.jurisdiction_code, caller.jurisdiction_level)
        return cls(engine, settings, request_id, caller=caller, scope=scope, policy=policy, **extra)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def read(self, stmt: Executable, params: dict[str, Any] | None = None) -> Sequence[Row]:
        # Each batch gets its own short connection: loader batches and sibling
        # fields run concurrently, and one connection cannot serve them at once.
        async with reader(self.engine).connect() as connection:
            return (await connection.execute(stmt, params)).all()

    async def records(
        self, stmt: Executable, table: Table, columns: tuple[str, ...] | None = None, params: dict[str, Any] | None = None
    ) -> list[Any]:
        """Rows of `table` as plain slotted records (see `record_class`): whole rows, or `columns` in that order.
        `params`: values of a statement built once, with placeholders (see `fast_read.fetch`)."""
        make = record_class(table, columns)
        if self.engine.dialect.name == "postgresql":
            rows = await fast_read.fetch(self.engine, stmt, params)
            if rows is not None:
                return [make(*row) for row in rows]
        return [make(*row) for row in await self.read(stmt, params)]

    async def scalar(self, stmt: Executable) -> Any:
        async with reader(self.engine).connect() as connection:
            return (await connection.execute(stmt)).scalar_one()

    def loader(self, spec: LoaderSpec) -> DataLoader:
        spec = self.narrowing.get(spec, spec)
        loader = self._loaders.get(spec)
        if loader is None:

            async def batch_load(keys: list[Any]) -> list[Any]:
                return await spec.batch(self, keys)

            loader = self._loaders[spec] = DataLoader(batch_load, max_batch_size=None)
        return loader

    def release(self) -> None:
        """Let go of the loaders and every row they cached, once the answer is built.

        A loader's batch function refers back to this context, and graphql-core's
        execution keeps the context in reference cycles too: without this, a request's
        rows live on until the garbage collector's next full pass, and a long export
        holds hundreds of pages of them.
        """
        self._loaders.clear()

    def saved(self, table: Table, record: Any) -> None:
        """A record this unit of work wrote: reading it by id again answers the new row, not a cached one."""
        spec = BY_ID.get(table)
        if spec is not None:
            self.loader(spec).clear(record.id).prime(record.id, record)

    async def load(self, spec: LoaderSpec, key: Any) -> Any:
        return await self.loader(spec).load(key)

    def load_now(self, spec: LoaderSpec, key: Any) -> Any:
        """The value itself when this request has loaded it already (see `prefetch`), else an awaitable."""
        future = self.loader(spec).load(key)
        return future.result() if future.done() else future


def then(value: Any, function: Any) -> Any:
    """`function(value)` now if `value` is loaded, else an awaitable of it (see `Context.load_now`)."""
    if isinstance(value, Awaitable):

        async def later() -> Any:
            return function(await value)

        return later()
    return function(value)
