"""The event outbox: what the live board announces, written with the change itself, announced after commit.

A report and its outbox row commit together or not at all, and the row's increasing id is
the cursor a board resumes from. The announcement carries only that id:

- PostgreSQL: `pg_notify` inside the transaction, which PostgreSQL delivers only at commit,
  to every hub process LISTENing on its own dedicated connection (see `Listener`).
- SQLite (one process): the writer calls `committed(engine)` after its transaction, which
  wakes this process's listeners.

NOTIFY has no replay: a listener that missed one catches up from its cursor (`rows_after`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.data.models import EventOutbox, Region
from hub.data.rows import key_in

outbox = EventOutbox.__table__
regions = Region.__table__
CHANNEL = "hub_event_outbox"
LOCK_SPACE = 7301  # the first key of the outbox's advisory locks (the second is the event id)
log = logging.getLogger("hub.outbox")

# SQLite: per engine, the callbacks of this process's listeners.
_local: weakref.WeakKeyDictionary[Any, set[Callable[[int | None], None]]] = weakref.WeakKeyDictionary()


async def write(
    connection: AsyncConnection, event_id: int, village_id: int,
    damage_report_id: int | None = None, flood_point_report_id: int | None = None,
) -> int:
    """Add the outbox row in the caller's transaction; on PostgreSQL, queue its NOTIFY for the commit.

    A board resumes "after id N", so within an event ids must commit in their own order: on
    PostgreSQL a later row could otherwise commit first, and a board resuming past it would never
    see the earlier one. A lock per event, held to the commit, orders them (reports are few; SQLite
    has one writer anyway).
    """
    if connection.dialect.name == "postgresql":
        await connection.execute(text("SELECT pg_advisory_xact_lock(:space, :event)"), {"space": LOCK_SPACE, "event": event_id})
    row_id = (await connection.execute(outbox.insert().values(
        event_id=event_id, village_id=village_id, damage_report_id=damage_report_id,
        flood_point_report_id=flood_point_report_id, at=dt.datetime.now(dt.UTC),
    ).returning(outbox.c.id))).scalar_one()
    if connection.dialect.name == "postgresql":
        await connection.exec_driver_sql(f"SELECT pg_notify('{CHANNEL}', '{int(row_id)}')")
    return row_id


def committed(engine: AsyncEngine) -> None:
    """After a transaction that wrote outbox rows: wake this process's listeners (SQLite; PostgreSQL notifies itself)."""
    if engine.dialect.name != "postgresql":
        for wake in list(_local.get(engine.sync_engine, ())):
            wake(None)


async def rows_after(engine: AsyncEngine, cursor: int, limit: int = 1000) -> list[Any]:
    """Outbox rows after `cursor`, oldest first, with their village's code (for jurisdiction checks)."""
    stmt = (
        select(outbox, regions.c.code.label("village_code"))
        .join(regions, regions.c.id == outbox.c.village_id)
        .where(outbox.c.id > cursor)
        .order_by(outbox.c.id)
        .limit(limit)
    )
    async with engine.connect() as connection:
        return list((await connection.execute(stmt)).all())


async def rows_with_ids(engine: AsyncEngine, ids: list[int]) -> list[Any]:
    """The announced rows (NOTIFY is sent at commit, so they are visible), in id order."""
    stmt = (
        select(outbox, regions.c.code.label("village_code"))
        .join(regions, regions.c.id == outbox.c.village_id)
        .where(key_in(outbox.c.id, ids, engine.dialect.name))
        .order_by(outbox.c.id)
    )
    async with engine.connect() as connection:
        return list((await connection.execute(stmt)).all())


async def last_id(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return (await connection.execute(select(outbox.c.id).order_by(outbox.c.id.desc()).limit(1))).scalar() or 0


class Listener:
    """One per process: calls `wake(id)` for each committed outbox row, by any process; `wake(None)`
    when rows may have been committed that it was not told of (SQLite, or after a reconnect).

    On PostgreSQL it holds one dedicated asyncpg connection outside the pool (a LISTEN on a
    pooled connection dies when the connection goes back); if that connection drops, it
    reconnects and wakes once, so readers catch up from their cursors.
    """

    def __init__(self, engine: AsyncEngine, wake: Callable[[int | None], None]) -> None:
        self.engine = engine
        self.wake = wake
        self._task: asyncio.Task | None = None
        self._connection: Any = None

    async def start(self) -> None:
        if self.engine.dialect.name == "postgresql":
            await self._connect()
            self._task = asyncio.create_task(self._watch())
        else:
            _local.setdefault(self.engine.sync_engine, set()).add(self.wake)

    async def _connect(self) -> None:
        import asyncpg  # the PostgreSQL driver the hub already uses

        url = self.engine.url.set(drivername="postgresql")
        self._connection = await asyncpg.connect(url.render_as_string(hide_password=False))
        await self._connection.add_listener(CHANNEL, lambda _c, _pid, _channel, payload: self.wake(int(payload)))

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(1)
            if self._connection.is_closed():
                try:
                    await self._connect()
                except Exception as error:  # the database may be restarting: try again next second
                    log.warning("outbox listener cannot reconnect: %s", error)
                    continue
                self.wake(None)  # NOTIFY has no replay: whatever came while disconnected is read from the table

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
        _local.get(self.engine.sync_engine, set()).discard(self.wake)
