"""Deterministic Putian-shaped demo data: `await seed_demo(engine)` fills an empty schema."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import cast

from sqlalchemy import Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.data.blobs import BlobStore
from hub.data.models import (
    Enterprise,
    FloodPoint,
    FloodPointPhoto,
    Household,
    Person,
    Region,
)
from hub.demo.accounts import seed_accounts
from hub.demo.documents import seed_documents
from hub.demo.events import seed_events
from hub.demo.generator import REFERENCE_DATE, DemoGenerator, load_geography
from hub.demo.requests import seed_requests

__all__ = ["DEFAULT_SCALE", "DEFAULT_SEED", "REFERENCE_DATE", "Progress", "seed_demo"]

DEFAULT_SCALE = 20  # households per village on average: ~20k households, ~60k persons
DEFAULT_SEED = 20240829
CHUNK_ROWS = 4000

Progress = Callable[[str, int, int], None]

# Parents before children, so each chunk's foreign keys already exist.
TABLES: tuple[Table, ...] = tuple(
    cast(Table, m.__table__) for m in (Region, Enterprise, FloodPoint, FloodPointPhoto, Household, Person)
)


class _Writer:
    """Buffers rows per table and writes them in chunks, parents first.

    One chunk is in flight while the next is generated: the database (another
    process, or aiosqlite's thread) works in parallel with the generator.
    """

    def __init__(self, conn: AsyncConnection, totals: dict[str, int], progress: Progress | None) -> None:
        self.conn = conn
        self.totals = totals
        self.progress = progress
        self.pending: dict[str, list[dict]] = {t.name: [] for t in TABLES}
        self.done: dict[str, int] = dict.fromkeys(self.pending, 0)
        self.in_flight: tuple[asyncio.Task, str, int] | None = None

    async def add(self, table: str, rows: Iterable[dict]) -> None:
        self.pending[table].extend(rows)
        if len(self.pending[table]) >= CHUNK_ROWS:
            await self.flush(table)

    async def flush(self, upto: str | None = None) -> None:
        for table in TABLES:
            rows = self.pending[table.name]
            if rows:
                self.pending[table.name] = []
                await self._wait()
                task = asyncio.create_task(self.conn.execute(table.insert(), rows))
                self.in_flight = (task, table.name, len(rows))
                await asyncio.sleep(0)  # let the insert reach the driver before generating on
            if table.name == upto:
                return

    async def finish(self) -> None:
        await self.flush()
        await self._wait()

    async def abandon(self) -> None:
        # The rollback needs the connection to itself: let a running insert end first.
        if self.in_flight:
            await asyncio.wait([self.in_flight[0]])

    async def _wait(self) -> None:
        if self.in_flight is None:
            return
        task, table, count = self.in_flight
        self.in_flight = None
        await task
        self.done[table] += count
        if self.progress:
            self.progress(table, self.done[table], self.totals[table])


async def seed_demo(
    engine: AsyncEngine,
    scale: int = DEFAULT_SCALE,
    seed: int = DEFAULT_SEED,
    progress: Progress | None = None,
    photos: BlobStore | None = None,
) -> dict[str, int]:
    """Fill an empty schema with the demo data set in one transaction; return rows per table.

    The same `seed` and `scale` give the same rows on any database.
    """
    generator = DemoGenerator(load_geography(), scale, seed)
    totals = {
        "regions": len(generator.region_rows),
        "enterprises": len(generator.enterprise_rows),
        "flood_points": len(generator.flood_point_rows),
        "flood_point_photos": len(generator.photo_rows),
        "households": generator.household_total(),
        "persons": generator.person_total(),
    }
    async with engine.begin() as conn:
        existing = await conn.scalar(select(func.count()).select_from(Region.__table__))
        if existing:
            raise ValueError(f"seed_demo needs an empty schema, but regions already has {existing} rows")
        writer = _Writer(conn, totals, progress)
        try:
            await writer.add("regions", generator.region_rows)
            await writer.add("enterprises", generator.enterprise_rows)
            await writer.add("flood_points", generator.flood_point_rows)
            await writer.add("flood_point_photos", generator.photo_rows)
            for household, persons in generator.households_and_persons():
                await writer.add("households", (household,))
                await writer.add("persons", persons)
            await writer.finish()
        except BaseException:
            await writer.abandon()
            raise
        if conn.dialect.name == "postgresql":
            await _advance_sequences(conn, totals)
        accounts = await seed_accounts(conn)
        events = await seed_events(conn, seed, photos)  # the flood-point reports' photos only when given a store
        requests = await seed_requests(conn)
        documents = await seed_documents(conn, seed, photos)  # like the photos: only with a store to keep the files
    return writer.done | accounts | events | requests | documents


async def _advance_sequences(conn: AsyncConnection, totals: dict[str, int]) -> None:
    # Rows were written with explicit ids; move each id sequence past them so
    # later inserts that let the database pick an id do not collide.
    for table in TABLES:
        await conn.execute(
            text("SELECT setval(pg_get_serial_sequence(:table, 'id'), GREATEST(:rows, 1), :rows > 0)"),
            {"table": table.name, "rows": totals[table.name]},
        )
