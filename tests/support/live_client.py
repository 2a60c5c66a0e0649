"""A small graphql-transport-ws client for tests and benchmarks (the `websockets` package uvicorn serves with)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

BOARD = """subscription($e: ID!, $after: String) { eventUpdates(eventId: $e, after: $after) {
  cursor damageReport { sequence affectedPopulation %s village { name } } } }"""


class Board:
    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket

    async def subscribe(self, query: str, variables: dict, op_id: str = "1") -> None:
        await self.socket.send(json.dumps({"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables}}))

    async def next(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next message other than a ping."""
        while True:
            message = json.loads(await asyncio.wait_for(self.socket.recv(), timeout))
            if message["type"] == "ping":
                await self.socket.send(json.dumps({"type": "pong"}))
                continue
            return message

    async def nothing_for(self, seconds: float) -> bool:
        try:
            message = await self.next(seconds)
        except TimeoutError:
            return True
        raise AssertionError(f"expected nothing, got {message}")


@contextlib.asynccontextmanager
async def board(base_url: str, token: str) -> AsyncIterator[Board]:
    url = base_url.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=["graphql-transport-ws"], max_size=2**20, open_timeout=10) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
        ack = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert ack == {"type": "connection_ack"}, ack
        yield Board(socket)
