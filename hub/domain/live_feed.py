"""The live board's fan-out: each announced outbox row is read once per process and offered to every subscriber.

The feed keeps the last rows it read, in the order they arrived, with the reports they point
to (read after the commit that announced them, so a review shows as reviewed). A subscriber
walks that log from where it stood and takes only what is its own: its event, villages in
its jurisdiction, and the kinds of report its subscription selected; the report's fields
are then resolved by the subscriber's own view of the schema, so grants apply as to any query.

A subscriber that resumes from a cursor (an outbox id) first reads what came after it from
the table, then continues with the log, so a reconnect misses nothing committed since.

The feed also reads each report's village once: an update goes only to subscribers whose
jurisdiction holds that village, so it is the row their own scoped read would find, and
500 boards do not each ask the database for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.access.jurisdiction import Subtree
from hub.data import outbox
from hub.data.models import DamageReport, FloodPointReport, Region
from hub.data.rows import key_in, record_class

log = logging.getLogger("hub.live")
damage_reports = DamageReport.__table__
flood_point_reports = FloodPointReport.__table__
regions = Region.__table__
KEPT = 10_000  # log entries kept in memory; a subscriber further behind reads from the table


@dataclass(frozen=True, slots=True)
class Update:
    cursor: int  # the outbox id
    event_id: int
    village_code: str
    damage_report: Any | None
    flood_point_report: Any | None
    village: Any  # the report's village row: in reach of every subscriber the update is for

    def for_(self, event_id: int, scope: Subtree | None, kinds: frozenset[str]) -> bool:
        if self.event_id != event_id or (scope is not None and not scope.low <= self.village_code <= scope.high):
            return False
        return ("damageReport" in kinds and self.damage_report is not None) or (
            "floodPointReport" in kinds and self.flood_point_report is not None
        )


class LiveFeed:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.entries: list[Update] = []
        self.known: set[int] = set()  # the cursors in `entries`
        self.base = 0  # the absolute position of entries[0]
        self.high = 0  # the highest outbox id read
        self.waiters: set[asyncio.Event] = set()
        self._ids: set[int] = set()
        self._unknown = False  # rows may have come that nobody named: read everything after `high`
        self._reader: asyncio.Task | None = None
        self.listener = outbox.Listener(engine, self._announced)

    async def start(self) -> None:
        self.high = await outbox.last_id(self.engine)
        await self.listener.start()

    async def stop(self) -> None:
        await self.listener.stop()
        if self._reader is not None:
            self._reader.cancel()

    @property
    def end(self) -> int:
        return self.base + len(self.entries)

    def _announced(self, row_id: int | None) -> None:
        if row_id is None:
            self._unknown = True
        else:
            self._ids.add(row_id)
        if self._reader is None or self._reader.done():
            self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        while self._ids or self._unknown:
            ids, self._ids = sorted(self._ids), set()
            unknown, self._unknown = self._unknown, False
            try:
                rows = await (outbox.rows_after(self.engine, self.high) if unknown else outbox.rows_with_ids(self.engine, ids))
                fresh = await self._updates(r for r in rows if r.id not in self.known)
            except Exception:  # the database may be restarting: say so and try again on the next announcement
                log.exception("the live feed could not read the outbox")
                self._unknown = True
                await asyncio.sleep(1)
                continue
            fresh = [u for u in fresh if u.cursor not in self.known]  # named, and also caught by a full read meanwhile
            self.entries.extend(fresh)
            self.known.update(u.cursor for u in fresh)
            if fresh:
                self.high = max(self.high, max(u.cursor for u in fresh))
            if len(self.entries) > KEPT:
                dropped = len(self.entries) - KEPT
                self.known.difference_update(u.cursor for u in self.entries[:dropped])
                del self.entries[:dropped]
                self.base += dropped
            for waiter in self.waiters:
                waiter.set()

    async def _updates(self, rows: Iterable[Any]) -> list[Update]:
        """The rows with the reports they point to: one statement per kind, whatever the number of rows."""
        rows = list(rows)
        if not rows:
            return []
        damage = await self._records(damage_reports, {r.damage_report_id for r in rows if r.damage_report_id})
        points = await self._records(flood_point_reports, {r.flood_point_report_id for r in rows if r.flood_point_report_id})
        villages = await self._records(regions, {r.village_id for r in rows})
        return [
            Update(r.id, r.event_id, r.village_code, damage.get(r.damage_report_id), points.get(r.flood_point_report_id), villages[r.village_id])
            for r in rows
        ]

    async def _records(self, table: Any, ids: set[int]) -> dict[int, Any]:
        if not ids:
            return {}
        make = record_class(table)
        async with self.engine.connect() as connection:
            found = (await connection.execute(select(table).where(key_in(table.c.id, list(ids), self.engine.dialect.name)))).all()
        return {row.id: make(*row) for row in found}

    async def updates(self, event_id: int, scope: Subtree | None, after: int | None, kinds: frozenset[str]) -> AsyncIterator[Update]:
        """A subscriber's updates, from now on, or after the cursor `after`; forever, until closed."""
        waiter = asyncio.Event()
        self.waiters.add(waiter)
        try:
            position = self.end
            cursor = self.high if after is None else after
            replayed: set[int] = set()
            if after is not None:
                for update in await self._updates(await outbox.rows_after(self.engine, after)):
                    replayed.add(update.cursor)
                    cursor = max(cursor, update.cursor)
                    if update.for_(event_id, scope, kinds):
                        yield update
            while True:
                waiter.clear()
                if position < self.base:  # fell out of the kept log: read the gap from the table
                    log.warning("a live board subscriber fell %d updates behind", self.base - position)
                    for update in await self._updates(await outbox.rows_after(self.engine, cursor)):
                        replayed.add(update.cursor)
                        if update.for_(event_id, scope, kinds):
                            yield update
                    position = self.base
                while position < self.end:
                    update = self.entries[position - self.base]
                    position += 1
                    if update.cursor in replayed:  # read from the table already; it comes at most once more
                        replayed.discard(update.cursor)
                        continue
                    cursor = max(cursor, update.cursor)
                    if update.for_(event_id, scope, kinds):
                        yield update
                await waiter.wait()
        finally:
            self.waiters.discard(waiter)
