"""GraphQL subscriptions over WebSocket, the graphql-transport-ws protocol, at `/graphql`.

A browser cannot set headers on a WebSocket, so the token comes in `connection_init`
(`{"authorization": "Bearer hub_…"}`) — or, for the hub's own pages, the session cookie
of a same-origin handshake; the caller's view of the schema is then chosen as
for HTTP, and every subscription on the socket runs in it. Why not strawberry's own
handler: it serves one schema, chosen before the socket says who is calling.

Each subscription has its own context (its own loaders, cleared for each message), and its
access is logged when it ends. Close codes are the protocol's: 4400 a bad message, 4401 not
signed in yet, 4403 a token that does not sign in, 4408 no `connection_init` in time,
4409 a subscription id already in use, 4429 `connection_init` twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.types.execution import PreExecutionError

from hub.web.endpoint import Services
from hub.web.graphql_endpoint import format_error

log = logging.getLogger("hub.live")
PROTOCOL = "graphql-transport-ws"
INIT_SECONDS = 10
MAX_SUBSCRIPTIONS = 32  # per socket: a board needs one or two


class LiveEndpoint:
    def __init__(self, services: Services, feed: Any, open_subscriptions: Any) -> None:
        self.services = services
        self.feed = feed
        self.open_subscriptions = open_subscriptions  # the `hub_subscriptions` gauge of /metrics

    async def __call__(self, scope, receive, send) -> None:
        socket = WebSocket(scope, receive, send)
        if PROTOCOL not in socket.scope.get("subprotocols", []):
            await socket.close(code=4406, reason=f"use the {PROTOCOL} subprotocol")
            return
        await socket.accept(subprotocol=PROTOCOL)
        connection = _Connection(self, socket)
        try:
            await connection.run()
        except WebSocketDisconnect:
            pass
        finally:
            await connection.stop_all()


class _Connection:
    def __init__(self, endpoint: LiveEndpoint, socket: WebSocket) -> None:
        self.endpoint = endpoint
        self.services = endpoint.services
        self.socket = socket
        self.caller = None
        self.schema = None
        self.running: dict[str, asyncio.Task] = {}
        self.send_lock = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        async with self.send_lock:
            await self.socket.send_text(orjson.dumps(message).decode())

    async def run(self) -> None:
        try:
            first = await asyncio.wait_for(self._receive(), INIT_SECONDS)
        except TimeoutError:
            await self.socket.close(4408, "connection_init was not sent in time")
            return
        if first is None or first.get("type") != "connection_init":
            await self.socket.close(4401, "Unauthorized: send connection_init first")
            return
        payload = first.get("payload") or {}
        token = str(payload.get("authorization", payload.get("Authorization", "")) if isinstance(payload, dict) else "")
        token = token.removeprefix("Bearer ").strip()
        if token:
            self.caller = await self.services.authenticate(token)
        else:
            self.caller = await self._session_caller()
        self.schema = None if self.caller is None else self.services.schemas.for_caller(self.caller.role, self.caller.department)
        if self.schema is None:
            await self.socket.close(4403, "Forbidden: the token does not sign in, or its department is not in the policy")
            return
        await self.send({"type": "connection_ack"})
        while True:
            message = await self._receive()
            if message is None:
                await self.socket.close(4400, "messages are JSON objects with a type")
                return
            kind = message.get("type")
            if kind == "ping":
                await self.send({"type": "pong"})
            elif kind == "pong":
                continue
            elif kind == "connection_init":
                await self.socket.close(4429, "Too many initialisation requests")
                return
            elif kind == "subscribe":
                if not await self._subscribe(message):
                    return
            elif kind == "complete":
                task = self.running.pop(str(message.get("id")), None)
                if task is not None:
                    task.cancel()
            else:
                await self.socket.close(4400, f"unknown message type {kind!r}")
                return

    async def _session_caller(self):
        """A page's socket: the session cookie, from this origin only (another site's page would send it too)."""
        sessions = self.services.sessions
        origin, host = self.socket.headers.get("origin", ""), self.socket.headers.get("host")
        if sessions is None or not sessions.has_cookie(self.socket) or origin.split("://", 1)[-1] != host:
            return None
        session = await sessions.current(self.socket)
        return None if session is None or session.must_change_password else session.caller

    async def _receive(self) -> dict[str, Any] | None:
        text = await self.socket.receive_text()
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            return None
        return message if isinstance(message, dict) else None

    async def _subscribe(self, message: dict[str, Any]) -> bool:
        op_id, payload = message.get("id"), message.get("payload")
        if not isinstance(op_id, str) or not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            await self.socket.close(4400, "subscribe needs an id and a payload with a query")
            return False
        if op_id in self.running:
            await self.socket.close(4409, f"Subscriber for {op_id} already exists")
            return False
        if len(self.running) >= MAX_SUBSCRIPTIONS:
            await self.send({"id": op_id, "type": "error", "payload": [{"message": f"at most {MAX_SUBSCRIPTIONS} subscriptions per connection"}]})
            return True
        self.running[op_id] = asyncio.create_task(self._stream(op_id, payload))
        return True

    async def _stream(self, op_id: str, payload: dict[str, Any]) -> None:
        request_id = uuid.uuid4().hex
        context = self.services.make_context(self.socket, request_id, self.caller)  # type: ignore[arg-type]
        context.feed = self.endpoint.feed
        outcome = "ok"
        self.endpoint.open_subscriptions.inc()
        try:
            variables = payload.get("variables")
            results = await self.schema.subscribe(
                payload["query"],
                variable_values=variables if isinstance(variables, dict) else None,
                context_value=context,
                operation_name=payload.get("operationName"),
            )
            async for result in results:
                errors = [format_error(e, request_id) for e in (result.errors or [])]
                if isinstance(result, PreExecutionError) or (result.data is None and errors):
                    outcome = "refused"
                    await self.send({"id": op_id, "type": "error", "payload": errors})
                    return
                body: dict[str, Any] = {"data": result.data}
                if errors:
                    body["errors"] = errors
                await self.send({"id": op_id, "type": "next", "payload": body})
            await self.send({"id": op_id, "type": "complete"})
        except asyncio.CancelledError:
            raise
        except WebSocketDisconnect:
            pass
        except GraphQLError as error:
            outcome = "refused"
            with contextlib.suppress(Exception):
                await self.send({"id": op_id, "type": "error", "payload": [format_error(error, request_id)]})
        except Exception:
            outcome = "error"
            log.exception("subscription %s failed", request_id)
        finally:
            self.endpoint.open_subscriptions.dec()
            self.running.pop(op_id, None)
            context.release()
            await self.services.record_access(self.caller, context, outcome)

    async def stop_all(self) -> None:
        tasks = list(self.running.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
