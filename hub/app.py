"""The Starlette application: /graphql (API and GraphiQL), GraphiQL's assets, /healthz."""

from __future__ import annotations

import contextlib
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route

from hub import graphiql
from hub.db import create_engine
from hub.graphql_http import GraphQLEndpoint
from hub.settings import Settings
from resolvers.context import Context
from schema.build import build_schema

log = logging.getLogger("hub")


def create_app(settings: Settings, engine: AsyncEngine | None = None) -> Starlette:
    """`engine` may be passed in (tests share one); otherwise the app owns and disposes its own."""
    owns_engine = engine is None
    engine = engine or create_engine(settings)
    schema = build_schema(settings)

    def make_context(request: Request, request_id: str) -> Context:
        return Context(engine=engine, settings=settings, request_id=request_id)

    endpoint = GraphQLEndpoint(
        schema,
        make_context,
        timeout=settings.request_timeout,
        html_page=lambda request: graphiql.graphiql_response(request, settings.assets_dir),
    )

    async def healthz(request: Request) -> JSONResponse:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return JSONResponse({"status": "ok"})

    async def home(request: Request) -> RedirectResponse:
        return RedirectResponse("/graphql")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        if not graphiql.assets_ready(settings.assets_dir):
            log.warning("GraphiQL assets are not installed in %s: run `hub assets install`", settings.assets_dir)
        yield
        if owns_engine:
            await engine.dispose()

    app = Starlette(
        routes=[
            Route("/", home),
            Route("/graphql", endpoint),  # no methods=: the endpoint answers 405 itself
            Route("/healthz", healthz),
            *graphiql.graphiql_routes(settings.assets_dir),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.schema = schema
    return app
