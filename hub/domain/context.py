"""The per-request context: database access and the request's DataLoaders."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from aiodataloader import DataLoader
from sqlalchemy import Row, Table
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Executable

from hub.access.jurisdiction import Subtree
from hub.data.rows import record_class
from hub.settings import Settings

if TYPE_CHECKING:
    from hub.access.accounts import Caller
    from hub.access.policy import Policy
    from hub.forms.download_links import DownloadLinks
    from hub.forms.template_store import TemplateStore


class LoaderSpec(Protocol):
    """A hashable description of a loader; the context builds one DataLoader per spec per request."""

    def batch(self, ctx: Context, keys: Sequence[Any]) -> Any: ...


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
    templates: TemplateStore | None = None
    links: DownloadLinks | None = None  # signs download links for `Template.downloadLink`
    _loaders: dict[LoaderSpec, DataLoader] = field(default_factory=dict)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def read(self, stmt: Executable) -> Sequence[Row]:
        # Each batch gets its own short connection: loader batches and sibling
        # fields run concurrently, and one connection cannot serve them at once.
        async with self.engine.connect() as connection:
            return (await connection.execute(stmt)).all()

    async def records(self, stmt: Executable, table: Table) -> list[Any]:
        """Rows of `table` as plain slotted records (see `record_class`)."""
        make = record_class(table)
        return [make(*row) for row in await self.read(stmt)]

    async def scalar(self, stmt: Executable) -> Any:
        async with self.engine.connect() as connection:
            return (await connection.execute(stmt)).scalar_one()

    def loader(self, spec: LoaderSpec) -> DataLoader:
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
