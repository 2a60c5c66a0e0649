"""The access log: who ran which operation, which sensitive fields it read, how many rows.

An extension notes what the operation selected while it runs (a document run again from
its validated form was noted once, `OperationNotes`); the HTTP layer
writes one row per request after the response has gone out, so logging adds
no latency.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import (
    DocumentNode,
    FieldNode,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    visit,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.extensions import SchemaExtension

from hub.access.masking import as_logged
from hub.data.models import AccessLogEntry

if TYPE_CHECKING:
    from hub.access.accounts import Caller

log = logging.getLogger("hub.access.access_log")
entries = AccessLogEntry.__table__


def selected_fields(schema, document) -> frozenset[str]:
    """Every `Type.field` the operation selects (fragments included)."""
    type_info = TypeInfo(schema)
    found: set[str] = set()

    class Collect(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            parent = type_info.get_parent_type()
            if parent is not None:
                found.add(f"{parent.name}.{node.name.value}")

    visit(document, TypeInfoVisitor(type_info, Collect()))
    return frozenset(found)


def sensitive_read(view: Any, selected: frozenset[str], sensitive: frozenset[str]) -> list[str]:
    """The sensitive fields among `selected` (`Type.field`), as the log names them: marked where `view` masks them."""
    projection = view.projection
    masked = projection.masked_fields() if projection is not None else set()
    return sorted(as_logged(f, f in masked) for f in selected & sensitive)


@dataclass(frozen=True)
class OperationNotes:
    """What the access log notes of an operation before it runs: its type, its name, the sensitive fields it selects."""

    operation_type: str
    operation_name: str | None
    sensitive_fields: tuple[str, ...]

    @classmethod
    def of(cls, view: Any, document: DocumentNode, operation_name: str | None, sensitive: frozenset[str]) -> OperationNotes:
        operation = next(
            (
                d
                for d in document.definitions
                if isinstance(d, OperationDefinitionNode)
                and (operation_name is None or (d.name and d.name.value == operation_name))
            ),
            None,
        )
        return cls(
            operation.operation.value if operation else "query",
            operation.name.value if operation and operation.name else None,
            tuple(sensitive_read(view, selected_fields(view._schema, document), sensitive)),
        )

    def note(self, audit: dict[str, Any]) -> None:
        # A list of its own: resolvers add the indicators' sensitive fields they read.
        audit.update(operation_type=self.operation_type, operation_name=self.operation_name, sensitive_fields=list(self.sensitive_fields))


class AccessLogExtension(SchemaExtension):
    """Notes the operation and the sensitive fields it selected on `context.audit`."""

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        notes = OperationNotes.of(execution.schema, execution.graphql_document, execution.operation_name, execution.context.policy.sensitive)
        notes.note(execution.context.audit)
        yield
        execution.context.audit["row_count"] = execution.context.rows_returned


class AccessLogWriter:
    """Writes log rows: at once, or — while the server runs (`start`) — in batches.

    A row per request in its own transaction costs a write, and on SQLite a writer
    lock, for every request; batched, one insert carries up to a second's rows.
    A crash can lose the last second of rows; a normal shutdown (`stop`) writes them.
    """

    def __init__(self, engine: AsyncEngine, interval: float = 1.0) -> None:
        self.engine = engine
        self.interval = interval
        self.pending: list[dict[str, Any]] = []
        self.task: asyncio.Task | None = None

    async def record(self, caller: Caller, request_id: str, audit: dict[str, Any], outcome: str) -> None:
        """One entry: who, which request, what it did (`audit`, as the entry point noted it) and how it ended."""
        await self.add(
            {
                "user_id": caller.user_id,
                "username": caller.username,
                "org_unit": caller.org_unit,
                "request_id": request_id,
                "operation_type": audit.get("operation_type", "query"),
                "operation_name": audit.get("operation_name"),
                "sensitive_fields": ",".join(audit.get("sensitive_fields", ())),
                "row_count": audit.get("row_count", 0),
                "outcome": outcome,
            },
        )

    async def add(self, values: dict[str, Any]) -> None:
        self.pending.append({"at": dt.datetime.now(dt.UTC), **values})
        if self.task is None:
            await self.flush()

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None
        await self.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.flush()

    async def flush(self) -> None:
        rows, self.pending = self.pending, []
        if not rows:
            return
        try:
            async with self.engine.begin() as connection:
                await connection.execute(entries.insert(), rows)
        except Exception:  # noqa: BLE001 - lost log rows must not fail requests; they are reported
            log.exception("could not write %d access log rows (requests %s…)", len(rows), rows[0].get("request_id"))
