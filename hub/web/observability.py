"""What an operator watches: /metrics (Prometheus text), /healthz, /readyz, and one log line per request.

`Observe` wraps the whole application: it gives every request an id (the client's
`X-Request-Id` when well-formed, else a new one, kept in the request's scope so
every endpoint uses the same), times it, counts it by route and status and logs it.
Endpoints report what they did through the one `record_access` call they already
make; `HubMetrics.operation_done` counts that by operation name, department and
outcome, plus export rows and upload outcomes.

Label values stay bounded: routes are the app's route templates, operation names
come from the validated document (or the entry point), and at most
`MAX_OPERATION_NAMES` distinct names are kept per process — later ones count as
"other". Departments are the policy's keys.
"""

from __future__ import annotations

import contextvars
import hmac
import ipaddress
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match

from hub import logs
from hub.data import migrate
from hub.web import graphiql
from hub.web.graphql_endpoint import REQUEST_ID, request_id_for

log = logging.getLogger("hub.http")

MAX_OPERATION_NAMES = 200
OTHER = "other"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
# The routes whose outcomes count as uploads, and the export routes whose rows count.
UPLOADS = {"/fill-sheets": "fill_sheet", "/imports": "legacy_import"}
EXPORTS = {"/exports/{template}.xlsx": "export", "/fill-sheets/{template}.xlsx": "fill_sheet"}


@dataclass
class _Request:
    route: str
    started: float = field(default_factory=time.perf_counter)


_current: contextvars.ContextVar[_Request | None] = contextvars.ContextVar("hub_observed_request", default=None)


class HubMetrics:
    """One registry per application (tests build several apps in one process)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.registry = registry = CollectorRegistry()
        self.http_requests = Counter(
            "hub_http_requests", "HTTP requests by route template, method and status", ["route", "method", "status"], registry=registry
        )
        self.http_seconds = Histogram(
            "hub_http_request_duration_seconds", "Time to the last byte sent, by route template", ["route"],
            buckets=LATENCY_BUCKETS, registry=registry,
        )
        self.operations = Counter(
            "hub_operations", "Operations of signed-in callers by operation name, department and outcome",
            ["operation", "department", "outcome"], registry=registry,
        )
        self.operation_seconds = Histogram(
            "hub_operation_duration_seconds", "Time to the last byte sent, by operation name", ["operation"],
            buckets=LATENCY_BUCKETS, registry=registry,
        )
        self.export_rows = Counter("hub_export_rows", "Rows written into xlsx downloads", ["kind"], registry=registry)
        self.uploads = Counter("hub_uploads", "Uploaded spreadsheets by kind and outcome", ["kind", "outcome"], registry=registry)
        # Raised and lowered by the live board (hub/web/live.py) as subscriptions start and end.
        self.subscriptions = Gauge("hub_subscriptions", "Open GraphQL subscriptions", registry=registry)
        pool = engine.sync_engine.pool
        in_use = Gauge("hub_db_pool_connections_in_use", "Database connections checked out of the pool", registry=registry)
        in_use.set_function(pool.checkedout)
        waiting = Gauge(
            "hub_db_pool_checkouts_waiting", "Checkouts waiting for a free or a new database connection", registry=registry
        )
        waiting.set_function(lambda: getattr(pool, "waiting", 0))
        size = Gauge("hub_db_pool_size", "Connections the pool keeps open", registry=registry)
        size.set_function(pool.size)
        self._names: set[str] = set()
        self._http_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._operation_children: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    def http_children(self, route: str, method: str, status: int) -> tuple[Any, Any]:
        """The request counter's and duration histogram's children for these labels, found once
        (`labels()` validates and locks on every call: four times a request)."""
        key = (route, method, status)
        children = self._http_children.get(key)
        if children is None:
            children = self._http_children[key] = (self.http_requests.labels(route, method, str(status)), self.http_seconds.labels(route))
        return children

    def operation_children(self, operation: str, department: str, outcome: str) -> tuple[Any, Any]:
        """As `http_children`, for the operation counter and histogram."""
        key = (operation, department, outcome)
        children = self._operation_children.get(key)
        if children is None:
            children = self._operation_children[key] = (
                self.operations.labels(operation, department, outcome), self.operation_seconds.labels(operation)
            )
        return children

    def operation_label(self, name: str | None) -> str:
        if not name:
            return OTHER
        # The non-GraphQL entry points name themselves and then their arguments ("export dibao-dongtai",
        # "legacyImport 350304100201 person dryRun"): their first word is the operation.
        name = name.split(" ", 1)[0][:64]
        if name not in self._names:
            if len(self._names) >= MAX_OPERATION_NAMES:
                return OTHER
            self._names.add(name)
        return name

    def operation_done(self, department: str, audit: dict[str, Any], outcome: str) -> None:
        """Called once per signed-in request, from the access log's `record_access`."""
        count, duration = self.operation_children(self.operation_label(audit.get("operation_name")), department, outcome)
        count.inc()
        current = _current.get()
        if current is None:  # not over HTTP (a test calling record_access directly)
            return
        duration.observe(time.perf_counter() - current.started)
        if current.route in EXPORTS and outcome == "ok":
            self.export_rows.labels(EXPORTS[current.route]).inc(audit.get("row_count", 0))
        elif current.route in UPLOADS:
            self.uploads.labels(UPLOADS[current.route], outcome).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class Observe:
    """ASGI middleware around the whole app: request id, timing, counts, the access line."""

    def __init__(self, app, metrics: HubMetrics, routes, log_requests: bool = False) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes
        self.log_requests = log_requests  # HUB_LOG_REQUESTS
        self._static: dict[str, str] = {}  # request path -> route template, for routes without path parameters

    def _route(self, scope) -> str:
        path = scope["path"]
        template = self._static.get(path)
        if template is not None:
            return template
        for route in self.routes:
            match, _ = route.matches(scope)
            if match != Match.NONE:  # the path matches (a wrong method is still this route's request)
                if not getattr(route, "param_convertors", None):  # a path without parameters: remembered, a bounded set
                    self._static[path] = route.path
                return route.path
        return OTHER

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = scope[REQUEST_ID] = request_id_for(scope)  # so that the endpoints answer with this same id
        current = _Request(self._route(scope))
        observed_token, id_token = _current.set(current), logs.request_id.set(rid)
        status = 500  # unless the app answers

        async def observed_send(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if not any(k == b"x-request-id" for k, _ in message.get("headers", ())):
                    message = {**message, "headers": [*message.get("headers", ()), (b"x-request-id", rid.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            seconds = time.perf_counter() - current.started
            count, duration = self.metrics.http_children(current.route, scope["method"], status)
            count.inc()
            duration.observe(seconds)
            if self.log_requests:
                log.info(
                    "%s %s %s %.1f ms", scope["method"], scope["path"], status, seconds * 1000,
                    extra={"method": scope["method"], "route": current.route, "status": status, "duration_ms": round(seconds * 1000, 1)},
                )
            _current.reset(observed_token)
            logs.request_id.reset(id_token)


def _loopback(request: Request) -> bool:
    try:
        return request.client is not None and ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False


def metrics_endpoint(metrics: HubMetrics, token: str | None):
    """With `HUB_METRICS_TOKEN` set, /metrics wants `Authorization: Bearer <it>`; without it, loopback clients only."""

    async def serve(request: Request) -> Response:
        if token:
            given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(given.encode(), token.encode()):
                return Response("metrics: wrong or missing token\n", 401, {"www-authenticate": "Bearer"}, media_type="text/plain")
        elif not _loopback(request):
            return Response("metrics: only from this machine unless HUB_METRICS_TOKEN is set\n", 403, media_type="text/plain")
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return serve


async def healthz(request: Request) -> JSONResponse:
    """Alive: the process answers. Nothing else is checked (a restart would not fix the database)."""
    return JSONResponse({"status": "ok"})


def readyz_endpoint(engine: AsyncEngine, assets_dir):
    """Ready for traffic: the database answers, its schema is at the migrations' head, GraphiQL's assets are there."""

    async def serve(request: Request) -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            current = await migrate.current_revision(engine)
            checks["database"] = "ok"
            head = migrate.head_revision()
            checks["migrations"] = "ok" if current == head else f"at {current}, head is {head}: run `hub db upgrade`"
        except Exception as error:  # whatever the driver raises, the answer is "not ready", with why
            checks["database"] = f"unreachable: {type(error).__name__}"
            checks["migrations"] = "unknown"
        checks["assets"] = "ok" if graphiql.assets_ready(assets_dir) else "missing: run `hub assets install`"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503)

    return serve
