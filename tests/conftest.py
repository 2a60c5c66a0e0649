"""Shared fixtures: one migrated, demo-seeded database per test session.

SQLite (a temporary file) by default; PostgreSQL when HUB_TEST_DATABASE_URL is
set (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/hub_test). The
database named there is emptied and rebuilt through the Alembic migrations.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub import clock
from hub.access import accounts
from hub.data import migrate
from hub.data.database import StatementCounter, create_engine
from hub.data.identifiers import id_number_check_char
from hub.data.models import Base, OrgUnitKind, Region, RegionLevel, Role
from hub.demo import seed_demo
from hub.settings import Settings
from hub.web.app import create_app
from hub.web.background_server import serve_in_thread
from schema.build import Schemas

DEMO_USERS = (
    "admin", "minzheng", "weijian", "renshe", "yingji", "zhujian", "canlian", "shichang", "nongye",
    "licheng-minzheng", "xitianwei", "dongxing", "dongxing-wangge",
)
TEST_SCALE = 20  # the demo default: 东星社区's 16 low-income households need at least this
# The day the hub's clock shows during the tests: after the demo data's reference date
# (2026-11-01), so nothing the demo generated lies in the future; the same on every run.
TODAY = dt.date(2026, 11, 16)


def settings_for_tests(data_dir: Path) -> Settings:
    """The defaults, whatever HUB_* variables the shell has: only where the data lives comes from outside."""
    url = os.environ.get("HUB_TEST_DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'test.sqlite3'}"
    # GraphiQL's assets are shared between runs: installing them needs the npm registry.
    assets_dir = Path(os.environ.get("HUB_ASSETS_DIR") or Path("var/assets")).resolve()
    return Settings(data_dir=data_dir, database_url=url, assets_dir=assets_dir)


@pytest.fixture(autouse=True)
def root_logging_restored() -> Iterator[None]:
    """A test that runs the command line configures the root logger; the next test starts without it."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session", autouse=True)
def pinned_clock() -> Iterator[dt.date]:
    """Server and tests agree on the day, whatever the real date (and across midnight)."""
    with clock.pinned(TODAY) as today:
        yield today


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return settings_for_tests(tmp_path_factory.mktemp("hub"))


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
def cadre_of(app, engine, village_cadres):
    """`async with cadre_of("溪白村") as client:` — a client signed in as that village's cadre (made when first needed)."""

    @contextlib.asynccontextmanager
    async def signed_in(village: str) -> AsyncIterator[httpx.AsyncClient]:
        if village not in village_cadres:
            village_cadres[village] = await _new_cadre(engine, village)
        async with client_as(app, village_cadres[village]) as client:
            yield client

    return signed_in


async def _new_cadre(engine: AsyncEngine, village: str) -> str:
    """A cadre of that village only: the demo has none outside 东星社区."""
    async with engine.connect() as connection:
        code = await connection.scalar(select(Region.code).where(Region.name == village, Region.level == RegionLevel.VILLAGE))
    unit = f"{village}村（居）委会（测试）"
    await accounts.add_org_unit(engine, unit, OrgUnitKind.VILLAGE_COMMITTEE, None, code)
    await accounts.add_user(engine, f"cadre-{code}", "测试干部", unit, Role.VILLAGE_CADRE, code)
    return await accounts.issue_token(engine, f"cadre-{code}")


NEW_HOUSEHOLD = """mutation($v: String!, $input: NewHouseholdInput!) {
  createHousehold(villageCode: $v, input: $input) { household { id version } errors { message } } }"""
NEW_PERSON = """mutation($h: ID!, $input: NewPersonInput!) {
  createPerson(householdId: $h, input: $input) { person { id version phone employer recentStatus recentStatusDate } errors { message } } }"""
_registered = itertools.count(1)


@pytest.fixture(scope="session")
def village_cadres(engine: AsyncEngine, tokens: dict[str, str]) -> dict[str, str]:
    """Village name -> a village cadre's token: the demo's 东星社区 cadre, others made when first needed."""
    return {"东星社区": tokens["dongxing"]}


@pytest.fixture
def new_household(app, engine, tokens, village_cadres):
    """`household, head = await new_household()`: a household and its head registered just now by the
    village's cadre, through the hub's own mutations. A test that writes changes records of its own,
    so no test depends on another's writes or on the order they run in. Both come back as
    `{"id", "version", …}` dicts."""

    async def register(village: str = "东星社区") -> tuple[dict, dict]:
        number = next(_registered)
        async with client_as(app, tokens["admin"]) as admin:
            found = await graphql(admin, "query($n: String) { regions(nameContains: $n) { nodes { code name } } }", {"n": village})
        (code,) = [r["code"] for r in found["regions"]["nodes"] if r["name"] == village]
        if village not in village_cadres:
            village_cadres[village] = await _new_cadre(engine, village)
        # A district code no demo person has, and a birth date of its own: an ID number no one else holds.
        first17 = f"350399{dt.date(1970, 1, 1) + dt.timedelta(days=number):%Y%m%d}991"
        async with client_as(app, village_cadres[village]) as cadre:
            created = await graphql(cadre, NEW_HOUSEHOLD, {"v": code, "input": {"address": f"{village}测试路{number}号", "phone": "13500000000"}})
            household = created["createHousehold"]["household"]
            assert household is not None, created
            born = await graphql(cadre, NEW_PERSON, {"h": household["id"], "input": {
                "name": f"测试户主{number}", "idNumber": first17 + id_number_check_char(first17), "relationToHead": "户主",
                "phone": "13900000000", "employer": "东星测试厂", "recentStatus": "在家",
            }})
        head = born["createPerson"]["person"]
        assert head is not None, born
        return household, head

    return register


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
