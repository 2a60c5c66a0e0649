"""The live board: each new report reaches every subscriber who may see it, as their view shows it, and only them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time

import httpx
import pytest

from hub.web.background_server import free_port
from tests.conftest import graphql
from tests.support.live_client import BOARD, board
from tests.test_events import (
    OPEN,
    REVIEW,
    SUBMIT,
    code_of,
    figures,
    other_town_coordinator,
)
from tests.test_photos import cadre_of

pytestmark = pytest.mark.timeout(120)


async def post(base_url: str, token: str, query: str, variables: dict) -> dict:
    async with httpx.AsyncClient(base_url=base_url, headers={"authorization": f"Bearer {token}"}, timeout=30) as client:
        return await graphql(client, query, variables)


async def open_event_at(base_url: str, tokens, engine) -> str:
    data = await post(base_url, tokens["xitianwei"], OPEN, {"r": await code_of(engine, "西天尾镇"), "input": {
        "kind": "TYPHOON", "name": f"看板测试{time.monotonic_ns()}", "startedOn": "2026-11-10"}})
    return data["openEvent"]["event"]["id"]


async def test_each_subscriber_receives_what_it_may_see(live_server, tokens, engine):
    event_id = await open_event_at(live_server, tokens, engine)
    dongxing, xibai = await code_of(engine, "东星社区"), await code_of(engine, "溪白村")
    xibai_cadre = await cadre_of(engine, "溪白村")
    async with (
        board(live_server, tokens["xitianwei"]) as town,
        board(live_server, tokens["minzheng"]) as civil_affairs,
        board(live_server, xibai_cadre) as neighbour,
        board(live_server, await other_town_coordinator(engine)) as stranger,
    ):
        await town.subscribe(BOARD % "directLoss", {"e": event_id})
        await neighbour.subscribe(BOARD % "directLoss", {"e": event_id})
        # 民政局 is not granted DamageReport.directLoss: asking for it is refused before anything runs.
        await civil_affairs.subscribe(BOARD % "directLoss", {"e": event_id}, "refused")
        assert await civil_affairs.next() == {"id": "refused", "type": "error", "payload": [{
            "message": "Cannot query field 'directLoss' on type 'DamageReport'.", "locations": [{"line": 2, "column": 53}]}]}
        await civil_affairs.subscribe(BOARD % "", {"e": event_id})
        # Another town does not see the event at all.
        await stranger.subscribe(BOARD % "", {"e": event_id})
        refused = await stranger.next()
        assert (refused["type"], refused["payload"][0]["message"]) == ("error", f"eventId：找不到 id 为 {event_id} 的事件")
        await asyncio.sleep(0.2)  # the subscriptions are registered
        async with httpx.AsyncClient() as http:  # /metrics counts the open ones: the town's, the neighbour's, 民政局's second
            metrics = (await http.get(f"{live_server}/metrics")).text
        assert "\nhub_subscriptions 3.0\n" in metrics

        # (Delivery time is asserted across two processes below, and measured in bench/live_board.py.)
        await post(live_server, tokens["dongxing"], SUBMIT, {"e": event_id, "v": dongxing, "input": figures()})
        pushed = await town.next()
        assert pushed["type"] == "next", pushed
        update = pushed["payload"]["data"]["eventUpdates"]
        assert update["damageReport"] == {"sequence": 1, "affectedPopulation": 120, "directLoss": 52.5, "village": {"name": "东星社区"}}
        received = (await civil_affairs.next())["payload"]["data"]["eventUpdates"]
        assert received["damageReport"] == {"sequence": 1, "affectedPopulation": 120, "village": {"name": "东星社区"}}
        assert received["cursor"] == update["cursor"]
        # 溪白村 hears nothing of 东星社区: the first thing it receives is its own report.
        await post(live_server, xibai_cadre, SUBMIT, {"e": event_id, "v": xibai, "input": figures(notes=None)})
        own = (await neighbour.next())["payload"]["data"]["eventUpdates"]
        assert own["damageReport"]["village"] == {"name": "溪白村"}
        assert await stranger.nothing_for(0.3)
        town_cursor = (await town.next())["payload"]["data"]["eventUpdates"]["cursor"]  # 溪白村's report

    # While the town's board is away the town passes 东星社区's report; back with its cursor, it gets the review.
    report_id = (await post(live_server, tokens["admin"], "query($id: ID!) { event(id: $id) { damageReports { id village { name } } } }", {"id": event_id}))
    (dongxing_report,) = [r["id"] for r in report_id["event"]["damageReports"] if r["village"]["name"] == "东星社区"]
    await post(live_server, tokens["xitianwei"], REVIEW, {"id": dongxing_report, "d": "PASS"})
    async with board(live_server, tokens["xitianwei"]) as town:
        await town.subscribe("""subscription($e: ID!, $after: String) { eventUpdates(eventId: $e, after: $after) {
          cursor damageReport { sequence reviewStatus village { name } } } }""", {"e": event_id, "after": town_cursor})
        caught_up = (await town.next())["payload"]["data"]["eventUpdates"]
        assert caught_up["damageReport"] == {"sequence": 1, "reviewStatus": "PASSED", "village": {"name": "东星社区"}}
        assert int(caught_up["cursor"]) > int(town_cursor)
        assert await town.nothing_for(0.3)


@pytest.mark.skipif(not os.environ.get("HUB_TEST_DATABASE_URL"), reason="LISTEN/NOTIFY across processes needs PostgreSQL")
async def test_two_hub_processes_deliver_through_postgresql(settings, tokens, engine):
    servers = [HubProcess(settings) for _ in range(2)]
    try:
        first, second = [await s.ready() for s in servers]
        event_id = await open_event_at(second, tokens, engine)
        async with (
            board(first, tokens["xitianwei"]) as town,
            board(first, tokens["minzheng"]) as civil_affairs,
            board(first, await other_town_coordinator(engine)) as stranger,
        ):
            await town.subscribe(BOARD % "directLoss", {"e": event_id})
            await civil_affairs.subscribe(BOARD % "directLoss", {"e": event_id}, "refused")
            assert (await civil_affairs.next())["payload"][0]["message"] == "Cannot query field 'directLoss' on type 'DamageReport'."
            await civil_affairs.subscribe(BOARD % "", {"e": event_id})
            await stranger.subscribe("""subscription { eventUpdates(eventId: "%s") { cursor } }""" % event_id, {})
            assert (await stranger.next())["payload"][0]["message"] == f"eventId：找不到 id 为 {event_id} 的事件"
            await asyncio.sleep(0.3)
            started = time.monotonic()
            await post(second, tokens["dongxing"], SUBMIT, {"e": event_id, "v": await code_of(engine, "东星社区"), "input": figures()})
            pushed = await town.next(timeout=5)
            delay = time.monotonic() - started
            without_loss = (await civil_affairs.next(timeout=5))["payload"]["data"]["eventUpdates"]["damageReport"]
            assert await stranger.nothing_for(0.5)
        assert pushed["payload"]["data"]["eventUpdates"]["damageReport"]["village"] == {"name": "东星社区"}
        assert delay < 1.0, delay
        assert without_loss == {"sequence": 1, "affectedPopulation": 120, "village": {"name": "东星社区"}}
    finally:
        for server in servers:
            server.stop()


class HubProcess:
    """`hub serve` in its own process, on the test database, on a free loopback port; stopped within seconds."""

    def __init__(self, settings) -> None:
        self.port = free_port()
        env = os.environ | {"HUB_DATABASE_URL": settings.database_url, "HUB_DATA_DIR": str(settings.data_dir), "HUB_ASSETS_DIR": str(settings.assets_dir)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )

    async def ready(self, timeout: float = 30) -> str:
        url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(self.process.stderr.read().decode())
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{url}/healthz")).status_code == 200:
                        return url
                await asyncio.sleep(0.1)
        raise RuntimeError("the hub process did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


async def test_within_an_event_outbox_rows_commit_in_id_order(engine):
    """A board resumes "after id N": a later id committing first would hide the earlier one from it for good."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: its rows commit in id order by themselves")
    from sqlalchemy import select

    from hub.data import outbox
    from hub.data.models import Event, Region

    async with engine.connect() as conn:
        event_id = (await conn.execute(select(Event.id).limit(1))).scalar_one()
        village_id = (await conn.execute(select(Region.id).where(Region.name == "东星社区"))).scalar_one()
    first = await engine.connect()
    first_tx = await first.begin()
    first_id = await outbox.write(first, event_id, village_id)  # written, not committed yet

    async def second_writer() -> int:
        async with engine.begin() as second:
            return await outbox.write(second, event_id, village_id)

    second = asyncio.create_task(second_writer())
    await asyncio.sleep(0.5)
    assert not second.done()  # it waits for the first to commit: it cannot commit a later id before it
    await first_tx.commit()
    await first.close()
    second_id = await asyncio.wait_for(second, 5)
    assert second_id > first_id
    resumed = [row.id for row in await outbox.rows_after(engine, first_id - 1) if row.event_id == event_id]
    assert resumed[:2] == [first_id, second_id]
