"""What every benchmark needs: a seeded database, interleaved timing, a ratio report."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

from sqlalchemy import func, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub import accounts, migrate
from hub.db import create_engine
from hub.demo import seed_demo
from hub.demo.accounts import seed_accounts
from hub.models import Region, User
from hub.settings import Settings


def bench_settings(scale: int) -> Settings:
    """A database per scale, kept between runs (seeding is slow; measuring is not)."""
    settings = Settings.from_env()
    url = os.environ.get("HUB_BENCH_DATABASE_URL") or f"sqlite+aiosqlite:///{settings.data_dir / f'bench-scale-{scale}.sqlite3'}"
    return replace(settings, database_url=url)


async def seeded_engine(settings: Settings, scale: int) -> AsyncEngine:
    engine = create_engine(settings)
    async with engine.connect() as connection:
        has_table = await connection.run_sync(lambda c: inspect(c).has_table("regions"))
        seeded = has_table and (await connection.execute(select(func.count()).select_from(Region))).scalar_one() > 0
    await migrate.upgrade(engine)  # a database kept from an older run gets the newer tables
    if not seeded:
        print(f"seeding the benchmark database at scale {scale} (once; kept for later runs) …", flush=True)
        started = time.perf_counter()
        await seed_demo(engine, scale=scale)
        print(f"seeded in {time.perf_counter() - started:.1f} s", flush=True)
    async with engine.begin() as connection:
        if not (await connection.execute(select(func.count()).select_from(User))).scalar_one():
            await seed_accounts(connection)
    return engine


async def token_for(engine: AsyncEngine, username: str) -> str:
    return await accounts.issue_token(engine, username, days=1)


async def interleaved(
    rounds: int, warmup: int, **candidates: Callable[[], Awaitable[object]]
) -> dict[str, list[float]]:
    """Run the candidates in turn, round after round, so machine noise hits them alike."""
    for _ in range(warmup):
        for run in candidates.values():
            await run()
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, run in candidates.items():
            started = time.perf_counter()
            await run()
            times[name].append(time.perf_counter() - started)
    return times


def report(title: str, times: dict[str, list[float]], baseline: str, target: str | None = None) -> dict[str, float]:
    """Print medians, and each candidate's ratio to the baseline as the median of per-round ratios
    (rounds are interleaved, so a ratio within one round compares like with like)."""
    ratios = {
        name: statistics.median(t / b for t, b in zip(values, times[baseline], strict=True))
        for name, values in times.items()
    }
    print(f"\n{title}")
    for name, values in times.items():
        spread = f"(min {min(values) * 1000:.1f}, max {max(values) * 1000:.1f})"
        print(f"  {name:<28} median {statistics.median(values) * 1000:8.1f} ms {spread:<26} ratio {ratios[name]:5.2f}")
    if target:
        print(f"  target: {target}")
    return ratios
