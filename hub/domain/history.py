"""Change history (变更记录): every write keeps, in its own transaction, what changed from what to what, by whom.

Values are kept as text (`as_text`); who may read which of them is decided when the
history is read (resolvers/history.py), through the reader's grants.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.data.models import Change, ChangeSource
from hub.domain.context import Context

changes = Change.__table__
_insert_changes = changes.insert()  # built once: building it cost a tenth of a one-field update


@dataclass(frozen=True)
class TaskFill:
    """The task (and its round: submissions so far + 1) a fill belongs to, kept on each change it makes."""

    task_id: int
    round: int


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
    task: TaskFill | None = None,
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
            "task_id": None if task is None else task.task_id,
            "task_round": None if task is None else task.round,
        }
        for field, (old, new) in fields.items()
        if as_text(old) != as_text(new)
    ]
    if rows:
        await connection.execute(_insert_changes, rows)
