"""Shared fixtures: one migrated, demo-seeded database per test session.

SQLite (a temporary file) by default; PostgreSQL when HUB_TEST_DATABASE_URL is
set (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/hub_test). The
database named there is emptied and rebuilt through the Alembic migrations.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hub import accounts, migrate
from hub.app import create_app
from hub.background_server import serve_in_thread
from hub.db import StatementCounter, create_engine
from hub.demo import seed_demo
from hub.models import Base
from hub.settings import Settings
from schema.build import Schemas

DEMO_USERS = (
    "admin", "minzheng", "weijian", "renshe", "yingji", "zhujian", "canlian", "shichang", "nongye",
    "licheng-minzheng", "xitianwei", "dongxing", "dongxing-wangge",
)
TEST_SCALE = 20  # the demo default: 东星社区's 16 low-income households need at least this


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("hub")
    url = os.environ.get("HUB_TEST_DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'test.sqlite3'}"
    base = Settings.from_env()
    # GraphiQL's assets are shared between runs: installing them needs the npm registry.
    assets_dir = Path(os.environ.get("HUB_ASSETS_DIR") or base.assets_dir)
    return replace(base, data_dir=data_dir, database_url=url, assets_dir=assets_dir)


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.drop_all)
        await connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    await migrate.upgrade(engine)
    await seed_demo(engine, scale=TEST_SCALE)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def schemas(settings: Settings) -> Schemas:
    return Schemas(settings)


@pytest.fixture(scope="session")
async def app(settings: Settings, engine: AsyncEngine, schemas: Schemas):
    return create_app(settings, engine=engine, schemas=schemas)


@pytest.fixture(scope="session")
async def tokens(engine: AsyncEngine) -> dict[str, str]:
    """A token for every demo user, issued once per session."""
    return {name: await accounts.issue_token(engine, name) for name in DEMO_USERS}


@contextlib.asynccontextmanager
async def client_as(app, token: str | None) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test", headers=headers) as client:
        yield client


@pytest.fixture
async def client(app, tokens) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client signed in as `admin` (the whole city, the whole schema)."""
    async with client_as(app, tokens["admin"]) as client:
        yield client


@pytest.fixture
def as_user(app, tokens):
    """`async with as_user("dongxing") as client:` — a client signed in as that demo user."""
    return lambda username: client_as(app, tokens[username])


@pytest.fixture
def sql_counter(engine: AsyncEngine) -> Iterator[StatementCounter]:
    counter = StatementCounter(engine)
    yield counter
    counter.close()


async def graphql(client: httpx.AsyncClient, query: str, variables: dict | None = None, **headers) -> dict:
    """POST a query; assert HTTP 200 and no errors; return `data`."""
    response = await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body["errors"]
    return body["data"]


@pytest.fixture(scope="session")
def live_server(settings: Settings, engine: AsyncEngine, schemas: Schemas) -> Iterator[str]:
    """A real uvicorn server on 127.0.0.1 over the seeded test database (own engine, own loop)."""
    with serve_in_thread(create_app(settings, schemas=schemas)) as url:
        yield url
