"""What every benchmark needs: a seeded database, interleaved timing, a ratio report."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

from sqlalchemy import func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.access import accounts
from hub.data import migrate
from hub.data.database import create_engine
from hub.data.models import Region, User
from hub.demo import seed_demo
from hub.demo.accounts import seed_accounts
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
    if engine.dialect.name == "postgresql":
        # Planner statistics, as autovacuum keeps them on a deployed server (this machine's PostgreSQL runs
        # without it): unanalysed, a household's members were found by a parallel scan of all persons.
        async with engine.begin() as connection:
            await connection.execute(text("ANALYZE"))
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


class KeepAliveClient:
    """A bare HTTP/1.1 client on one kept-alive connection.

    A client library costs about as much CPU per request as a small mutation on
    the server; a benchmark of the hub should time the hub, as a client in
    another process (a browser, a department's script) sees it.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, headers: dict[str, str]) -> None:
        self.reader, self.writer = reader, writer
        self.head = "".join(f"{k}: {v}\r\n" for k, v in {"host": host, **headers}.items())

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, host: str, port: int, headers: dict[str, str]) -> AsyncIterator[KeepAliveClient]:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            yield cls(reader, writer, f"{host}:{port}", headers)
        finally:
            writer.close()

    async def post_json(self, path: str, body: bytes) -> tuple[int, bytes]:
        self.writer.write(
            f"POST {path} HTTP/1.1\r\n{self.head}content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n".encode() + body
        )
        status_line, *header_lines = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in header_lines if line)
        if "content-length" not in headers:
            raise RuntimeError(f"expected a Content-Length response, got {headers}")
        return int(status_line.split()[1]), await self.reader.readexactly(int(headers["content-length"]))


@contextlib.asynccontextmanager
async def hub_process(settings: Settings, port: int, startup_timeout: float = 60.0) -> AsyncIterator[str]:
    """`hub serve` in a process of its own, as deployed: it gets its own core and interpreter lock."""
    async with hub_server(settings, port, startup_timeout) as (url, _):
        yield url


@contextlib.asynccontextmanager
async def hub_server(settings: Settings, port: int, startup_timeout: float = 60.0) -> AsyncIterator[tuple[str, subprocess.Popen]]:
    """`hub_process`, with the process itself (to read its memory)."""
    env = {**os.environ, "HUB_DATABASE_URL": settings.database_url, "HUB_DATA_DIR": str(settings.data_dir)}
    # The server logs a line per request: to a file, since a pipe nobody reads would fill and stop it.
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=log,
    )
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"the hub did not start: {log.read().decode(errors='replace')[-2000:]}") from None
                await asyncio.sleep(0.1)
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def run(main: Awaitable[None]) -> None:
    """Run a benchmark on the event loop `hub serve` runs on (uvicorn picks uvloop when it is
    installed), so that the baselines measured in this process get the same loop as the hub."""
    try:
        import uvloop
    except ImportError:  # uvicorn then serves on asyncio's own loop too
        asyncio.run(main)
    else:
        uvloop.run(main)


def run_from_command_line(main: Callable[[int, int], Awaitable[None]], doc: str | None) -> None:
    """`python -m bench.NAME [--scale N] [--rounds N]` for a benchmark that takes just those."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    run(main(args.scale, args.rounds))
