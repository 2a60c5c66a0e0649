"""Shared fixtures: one migrated, demo-seeded database per test session.

SQLite (a temporary file) by default; PostgreSQL when HUB_TEST_DATABASE_URL is
set (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/hub_test). The
database named there is emptied and rebuilt through the Alembic migrations.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hub import migrate
from hub.app import create_app
from hub.background_server import serve_in_thread
from hub.db import StatementCounter, create_engine
from hub.demo import seed_demo
from hub.models import Base
from hub.settings import Settings

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
async def app(settings: Settings, engine: AsyncEngine):
    return create_app(settings, engine=engine)


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        yield client


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
def live_server(settings: Settings, engine: AsyncEngine) -> Iterator[str]:
    """A real uvicorn server on 127.0.0.1 over the seeded test database (own engine, own loop)."""
    with serve_in_thread(create_app(settings)) as url:
        yield url
