"""The live board (issue 13): 500 subscribers on one hub process receive each new report.

`hub serve` runs in its own process on a scratch database; this process opens N WebSocket
boards (graphql-transport-ws), each subscribed to the event as 西天尾镇's coordinator, then
a village reports R times. Delivery time is from just before the report's POST (so it
includes the write itself) to each board's receipt. The baseline, measured in the same
run, is one board alone; the ratio is p99 with N boards over p50 with one.
Memory per subscriber: the server's resident memory with N boards open and subscribed,
minus before, over N. Target: p99 ≤ 1 s on this machine.

    python -m bench.live_board [--subscribers 500] [--reports 10] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from bench.common import hub_server, run
from bench.writes import scratch_engine
from hub.access import accounts
from hub.data.models import Region
from hub.web.background_server import free_port
from tests.support.live_client import BOARD, board

OPEN = """mutation($r: String!) { openEvent(regionCode: $r, input: {kind: TYPHOON, name: "2024年第3号台风“格美”（基准）", startedOn: "2024-07-25"}) {
  event { id } errors { message } } }"""
SUBMIT = """mutation($e: ID!, $v: String!, $input: DamageReportInput!) { submitDamageReport(eventId: $e, villageCode: $v, input: $input) {
  damageReport { id } errors { message } } }"""


def resident_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def figures(first: bool) -> dict:
    return {"kind": "INITIAL" if first else "FOLLOW_UP", "affectedPopulation": 120, "relocatedPopulation": 30, "reliefNeededPopulation": 10,
            "deaths": 0, "missing": 0, "cropAffectedArea": 80.0, "cropDisasterArea": 40.0, "cropLostArea": 5.0, "directLoss": 52.5}


async def deliveries(url: str, tokens: dict[str, str], event_id: str, village: str, boards: int, reports: int, first: bool) -> list[float]:
    """Seconds from each report's POST to each board's receipt, for every board and report."""
    times: list[float] = []
    async with contextlib.AsyncExitStack() as stack:
        opened = []
        for _ in range(boards):
            live = await stack.enter_async_context(board(url, tokens["xitianwei"]))
            await live.subscribe(BOARD % "directLoss", {"e": event_id})
            opened.append(live)
        await asyncio.sleep(1)  # every subscription registered
        async with httpx.AsyncClient(base_url=url, headers={"authorization": f"Bearer {tokens['dongxing']}"}, timeout=60) as village_cadre:
            for n in range(reports):
                input_ = figures(first and n == 0) | ({} if first and n == 0 else {"explanation": "基准测试续报"})

                async def receive(live) -> float:
                    message = await live.next(timeout=30)
                    assert message["type"] == "next", message
                    return time.perf_counter()

                waiting = [asyncio.create_task(receive(live)) for live in opened]
                started = time.perf_counter()
                answer = (await village_cadre.post("/graphql", json={"query": SUBMIT, "variables": {"e": event_id, "v": village, "input": input_}})).json()
                assert not answer["data"]["submitDamageReport"]["errors"], answer
                times += [t - started for t in await asyncio.gather(*waiting)]
    return times


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def main(subscribers: int, reports: int, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as directory:
        settings, engine = await scratch_engine(Path(directory), database_url)
        tokens = {name: await accounts.issue_token(engine, name, days=1) for name in ("xitianwei", "dongxing")}
        async with engine.connect() as conn:
            town, village = [(await conn.execute(select(Region.code).where(Region.name == n))).scalar_one() for n in ("西天尾镇", "东星社区")]
        await engine.dispose()
        async with hub_server(settings, free_port()) as (url, process):
            async with httpx.AsyncClient(base_url=url, headers={"authorization": f"Bearer {tokens['xitianwei']}"}) as town_centre:
                event_id = (await town_centre.post("/graphql", json={"query": OPEN, "variables": {"r": town}})).json()["data"]["openEvent"]["event"]["id"]
            alone = await deliveries(url, tokens, event_id, village, 1, reports, first=True)
            before = peak = resident_kib(process.pid)
            crowd_task = asyncio.create_task(deliveries(url, tokens, event_id, village, subscribers, reports, first=False))
            while not crowd_task.done():  # the peak while the boards are open
                await asyncio.sleep(0.25)
                peak = max(peak, resident_kib(process.pid))
            crowd = await crowd_task
    p50_alone = statistics.median(alone)
    p50, p99 = percentile(crowd, 50), percentile(crowd, 99)
    print(f"\nlive board ({'PostgreSQL' if database_url else 'SQLite'}): {reports} reports")
    print(f"  1 board            p50 {p50_alone * 1000:7.1f} ms")
    print(f"  {subscribers} boards        p50 {p50 * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms   max {max(crowd) * 1000:7.1f} ms   ({len(crowd)} deliveries)")
    print(f"  memory per subscriber (server, resident): {(peak - before) / subscribers:.1f} KiB  ({before / 1024:.0f} → {peak / 1024:.0f} MiB)")
    print("  target: p99 ≤ 1000 ms")
    print(f"RESULT live_board p99_ms={p99 * 1000:.0f} ratio={p99 / p50_alone:.2f} kib_per_subscriber={(peak - before) / subscribers:.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=500)
    parser.add_argument("--reports", type=int, default=10)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    run(main(args.subscribers, args.reports, args.database_url))
