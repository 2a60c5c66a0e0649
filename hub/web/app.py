"""The Starlette application: /graphql (API and GraphiQL), GraphiQL's assets, the pages under /app/, /healthz, /readyz, /metrics."""

from __future__ import annotations

import contextlib
import functools
import gc
import logging

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route, WebSocketRoute

from hub import logs
from hub.access import access_log, accounts
from hub.access.accounts import Caller
from hub.data.blobs import blob_store
from hub.data.database import create_engine
from hub.domain.context import Context
from hub.domain.live_feed import LiveFeed
from hub.forms.download_links import DownloadLinks, hub_key
from hub.forms.template_store import TemplateStore
from hub.forms.templates import load_templates
from hub.settings import Settings
from hub.web import graphiql, observability, pages
from hub.web.documents import DocumentDownload, DocumentPage, DocumentUpload
from hub.web.endpoint import Services, database_trouble_response
from hub.web.export_endpoint import ExportEndpoint
from hub.web.graphql_endpoint import GraphQLEndpoint
from hub.web.live import LiveEndpoint
from hub.web.photos import PhotoFile, PhotoUpload
from hub.web.sessions import BrowserSessions
from hub.web.sign_in import CallerCache
from hub.web.task_sheets import TaskFillSheet
from hub.web.uploads import FillSheetUpload, LegacyImportUpload
from resolvers.context import RequestContext
from schema.build import Schemas

log = logging.getLogger("hub")


def create_app(settings: Settings, engine: AsyncEngine | None = None, schemas: Schemas | None = None) -> Starlette:
    """`engine` and `schemas` may be passed in (tests share them); otherwise the app builds its own.

    Building the schemas loads and validates the policy: a bad policy file stops start-up here.
    """
    owns_engine = engine is None
    engine = engine or create_engine(settings)
    schemas = schemas or Schemas(settings)

    access_writer = access_log.AccessLogWriter(engine)
    metrics = observability.HubMetrics(engine)

    def make_context(request: Request, request_id: str, caller: Caller) -> RequestContext:
        return RequestContext.for_caller(engine, settings, schemas.policy, caller, request_id, templates=templates, links=links, blobs=blobs)

    async def record_access(caller: Caller, context: Context, outcome: str) -> None:
        await access_writer.record(caller, context.request_id, context.audit, outcome)
        metrics.operation_done(caller.department or caller.role.value, context.audit, outcome)

    department_schemas = {k: s._schema for k, s in schemas.departments.items()}

    authenticate = CallerCache(functools.partial(accounts.authenticate, engine), settings.token_cache_seconds)

    templates = TemplateStore(engine, load_templates(schemas.full._schema, department_schemas), schemas.full._schema, department_schemas)
    links = DownloadLinks(hub_key(settings.secret_key, settings.data_dir), settings.download_link_seconds)
    sessions = BrowserSessions(engine, settings, access_writer)
    services = Services(
        schemas, templates, authenticate, make_context, record_access, links, functools.partial(accounts.caller_by_id, engine), sessions
    )
    blobs = blob_store(settings.data_dir)  # photos and documents: one content-addressed store
    feed = LiveFeed(engine)
    graphql = GraphQLEndpoint(
        services,
        timeout=settings.request_timeout,
        html_page=lambda request: graphiql.graphiql_response(request, settings.assets_dir),
    )

    async def home(request: Request) -> RedirectResponse:
        return RedirectResponse("/graphql")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        # A large answer allocates hundreds of thousands of short-lived objects, and the
        # default collector thresholds then scan the long-lived schemas again and again:
        # freeze what start-up built and collect young objects less often.
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)
        if not graphiql.assets_ready(settings.assets_dir):
            log.warning("GraphiQL assets are not installed in %s: run `hub assets install`", settings.assets_dir)
        access_writer.start()
        await feed.start()
        yield
        await feed.stop()
        await access_writer.stop()
        if owns_engine:
            await engine.dispose()

    routes = [
        Route("/", home),
        Route("/graphql", graphql),  # no methods=: the endpoint answers 405 itself
        WebSocketRoute("/graphql", LiveEndpoint(services, feed, metrics.subscriptions)),  # subscriptions
        Route("/healthz", observability.healthz),
        Route("/readyz", observability.readyz_endpoint(engine, settings.assets_dir)),
        Route("/metrics", observability.metrics_endpoint(metrics, settings.metrics_token), methods=["GET"]),
        Route("/exports/{template}.xlsx", ExportEndpoint(services), methods=["GET"]),
        Route("/fill-sheets/{template}.xlsx", ExportEndpoint(services, fill=True), methods=["GET"]),
        Route("/fill-sheets", FillSheetUpload(services), methods=["POST"]),
        Route("/tasks/{task:int}/fill-sheet.xlsx", TaskFillSheet(services), methods=["GET"]),
        Route("/imports", LegacyImportUpload(services), methods=["POST"]),
        Route("/photos", PhotoUpload(services, blobs), methods=["POST"]),
        Route("/photos/{photo}/{size}", PhotoFile(services, blobs), methods=["GET"]),
        Route("/documents", DocumentUpload(services, blobs), methods=["POST"]),
        Route("/documents/{document}/versions", DocumentUpload(services, blobs), methods=["POST"]),
        Route("/documents/{document}/versions/{number}/pages/{page}.png", DocumentPage(services, blobs), methods=["GET"]),
        Route("/documents/{document}/versions/{number}/file", DocumentDownload(services, blobs), methods=["GET"]),
        *graphiql.graphiql_routes(settings.assets_dir),
        *sessions.routes(),
        *pages.page_routes(),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(observability.Observe, metrics=metrics, routes=routes, log_requests=settings.log_requests)],
        exception_handlers={DBAPIError: database_trouble_response, ConnectionError: database_trouble_response},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.schemas = schemas
    app.state.services = services
    app.state.templates = templates
    app.state.access_log = access_writer
    app.state.metrics = metrics
    app.state.photo_store = app.state.blobs = blobs
    app.state.feed = feed
    return app


def app_from_env() -> Starlette:
    """One worker of `hub serve --workers N`: a process of its own, configured from the environment as
    its parent was. What a worker keeps to itself stays right across them: a cached token lives
    `HUB_TOKEN_CACHE_SECONDS`, each worker flushes its own access-log batch (at shutdown too), the
    link key is the data folder's, and saved templates are read from the database."""
    logs.configure()
    return create_app(Settings.from_env())
