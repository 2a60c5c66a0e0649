"""Accounts and API tokens: who a token belongs to (one statement), what is stored, the CLI, the demo accounts.

The session database is shared with other modules: users made here are named
`acc-*`, and demo users are only given tokens of their own, revoked by prefix.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import re

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hub import cli
from hub.access.accounts import (
    AccountError,
    Caller,
    add_org_unit,
    add_user,
    authenticate,
    hash_token,
    issue_token,
    list_tokens,
    list_users,
    revoke_tokens,
)
from hub.data.database import StatementCounter
from hub.data.models import ApiToken, Base, OrgUnitKind, RegionLevel, Role, User
from hub.demo import seed_demo
from hub.settings import Settings
from hub.web.sign_in import CallerCache

TOKEN = re.compile(r"hub_[A-Za-z0-9_-]{43}")
VALID_ROLES = "VILLAGE_CADRE, GRID_WORKER, TOWN_COORDINATOR, DEPARTMENT_ANALYST, ADMIN"


async def code_of(engine: AsyncEngine, region_name: str) -> str:
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT code FROM regions WHERE name = :n"), {"n": region_name})).scalar_one()


async def token_rows(engine: AsyncEngine, username: str) -> list[tuple]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(ApiToken.__table__).join(User, User.id == ApiToken.user_id).where(User.username == username)
        )
        return [tuple(row) for row in rows]


@pytest.fixture(scope="module")
async def town_unit(engine: AsyncEngine) -> str:
    """An org unit of this module's own, for the users it creates."""
    name = "测试镇基层治理协同中心"
    await add_org_unit(engine, name, OrgUnitKind.TOWN_CENTRE, None, await code_of(engine, "西天尾镇"))
    return name


async def new_user(engine: AsyncEngine, unit: str, username: str) -> int:
    return await add_user(engine, username, "测试员", unit, Role.TOWN_COORDINATOR, await code_of(engine, "西天尾镇"))


async def test_a_token_resolves_to_its_caller_in_one_statement(engine: AsyncEngine, sql_counter: StatementCounter):
    token = await issue_token(engine, "licheng-minzheng")
    try:
        sql_counter.reset()
        caller = await authenticate(engine, token)
        assert sql_counter.count == 1, sql_counter.statements
        async with engine.connect() as conn:
            user_id = await conn.scalar(select(User.id).where(User.username == "licheng-minzheng"))
        assert caller == Caller(
            user_id=user_id,
            username="licheng-minzheng",
            display_name="翁丽娟",
            role=Role.DEPARTMENT_ANALYST,
            org_unit="荔城区民政局",
            department="minzheng",
            jurisdiction_code=await code_of(engine, "荔城区"),
            jurisdiction_level=RegionLevel.DISTRICT,
        )
    finally:
        assert await revoke_tokens(engine, prefix=token[:12]) == 1


async def test_revoked_tokens_are_refused(engine: AsyncEngine, town_unit: str):
    await new_user(engine, town_unit, "acc-revoke")
    first, second = [await issue_token(engine, "acc-revoke") for _ in range(2)]
    assert await revoke_tokens(engine, prefix=first[:12]) == 1
    assert await authenticate(engine, first) is None
    assert (await authenticate(engine, second)).username == "acc-revoke"
    assert await revoke_tokens(engine, username="acc-revoke") == 1  # only the one still valid
    assert await authenticate(engine, second) is None
    assert await revoke_tokens(engine, username="acc-revoke") == 0
    tokens = await list_tokens(engine, "acc-revoke")
    assert len(tokens) == 2 and all(token["revoked_at"] is not None for token in tokens)


async def test_the_caller_cache_remembers_valid_tokens_for_its_window_only(
    engine: AsyncEngine, town_unit: str, sql_counter: StatementCounter
):
    await new_user(engine, town_unit, "acc-cache")
    token = await issue_token(engine, "acc-cache")
    now = [1000.0]
    cache = CallerCache(functools.partial(authenticate, engine), seconds=10, max_entries=2, clock=lambda: now[0])
    sql_counter.reset()
    assert (await cache(token)).username == "acc-cache"
    assert (await cache(token)).username == "acc-cache"
    assert sql_counter.count == 1, "the second request is answered from the cache"
    assert await cache("hub_not-a-real-token") is None
    assert await cache("hub_not-a-real-token") is None
    assert sql_counter.count == 3, "refusals are never remembered"

    await revoke_tokens(engine, prefix=token[:12])
    now[0] += 9.9
    assert (await cache(token)).username == "acc-cache", "within the window the revocation is not seen yet"
    now[0] += 0.2
    assert await cache(token) is None, "after it, it is"
    assert await cache(token) is None

    others = [await issue_token(engine, "acc-cache") for _ in range(3)]
    for other in others:
        assert (await cache(other)).username == "acc-cache"
    sql_counter.reset()
    await cache(others[0])
    assert sql_counter.count == 1, "the oldest entry made way for newer ones"
    await revoke_tokens(engine, username="acc-cache")


async def test_a_zero_window_checks_every_request(engine: AsyncEngine, town_unit: str, sql_counter: StatementCounter):
    await new_user(engine, town_unit, "acc-nocache")
    token = await issue_token(engine, "acc-nocache")
    cache = CallerCache(functools.partial(authenticate, engine), seconds=0)
    sql_counter.reset()
    assert (await cache(token)).username == "acc-nocache"
    await revoke_tokens(engine, prefix=token[:12])
    assert await cache(token) is None
    assert sql_counter.count == 3  # lookup, revoke, lookup


async def test_expired_tokens_are_refused(engine: AsyncEngine, town_unit: str):
    await new_user(engine, town_unit, "acc-expire")
    token = await issue_token(engine, "acc-expire", days=1)

    async def expire_in(delta: dt.timedelta) -> None:
        async with engine.begin() as conn:
            await conn.execute(
                update(ApiToken)
                .where(ApiToken.token_hash == hash_token(token))
                .values(expires_at=dt.datetime.now(dt.UTC) + delta)
            )

    # Minutes either side of now: a time zone mix-up (naive SQLite values) would show here.
    await expire_in(dt.timedelta(minutes=-2))
    assert await authenticate(engine, token) is None
    await expire_in(dt.timedelta(minutes=2))
    assert (await authenticate(engine, token)).username == "acc-expire"


async def test_inactive_users_are_refused(engine: AsyncEngine, town_unit: str):
    await new_user(engine, town_unit, "acc-inactive")
    token = await issue_token(engine, "acc-inactive")

    async def set_active(active: bool) -> None:
        async with engine.begin() as conn:
            await conn.execute(update(User).where(User.username == "acc-inactive").values(active=active))

    await set_active(False)
    try:
        assert await authenticate(engine, token) is None
        with pytest.raises(AccountError, match=r"^user 'acc-inactive' is inactive$"):
            await issue_token(engine, "acc-inactive")
    finally:
        # Other modules issue tokens to every user listed: leave none inactive.
        await revoke_tokens(engine, username="acc-inactive")
        await set_active(True)


async def test_garbage_is_refused(engine: AsyncEngine, town_unit: str):
    await new_user(engine, town_unit, "acc-garbage")
    token = await issue_token(engine, "acc-garbage")
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for garbage in ("", "garbage", "hub_" + "x" * 43, tampered, token[:12], hash_token(token), " " + token):
        assert await authenticate(engine, garbage) is None, garbage


async def test_only_the_hash_is_stored(engine: AsyncEngine, town_unit: str):
    await new_user(engine, town_unit, "acc-hash")
    token = await issue_token(engine, "acc-hash", days=30)
    assert TOKEN.fullmatch(token)
    [row] = await token_rows(engine, "acc-hash")
    assert token not in " ".join(map(str, row))
    async with engine.connect() as conn:
        stored = (await conn.execute(select(ApiToken.token_hash, ApiToken.prefix).where(ApiToken.id == row[0]))).one()
    assert stored == (hash_token(token), token[:12])
    [listed] = await list_tokens(engine, "acc-hash")
    assert set(listed) == {"prefix", "created_at", "expires_at", "revoked_at"}
    assert listed["prefix"] == token[:12] and listed["revoked_at"] is None
    assert listed["expires_at"] - listed["created_at"] == dt.timedelta(days=30)
    assert listed["created_at"].tzinfo is not None
    assert abs(listed["created_at"] - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


@pytest.mark.parametrize(
    ("username", "org_unit", "role", "region", "message"),
    [
        ("a", "民政局", Role.DEPARTMENT_ANALYST, "莆田市",
         "invalid username 'a': use 2 to 64 of a-z, 0-9, '.', '_' and '-'"),
        ("Acc-upper", "民政局", Role.DEPARTMENT_ANALYST, "莆田市",
         "invalid username 'Acc-upper': use 2 to 64 of a-z, 0-9, '.', '_' and '-'"),
        ("acc a", "民政局", Role.DEPARTMENT_ANALYST, "莆田市",
         "invalid username 'acc a': use 2 to 64 of a-z, 0-9, '.', '_' and '-'"),
        ("a" * 65, "民政局", Role.DEPARTMENT_ANALYST, "莆田市",
         f"invalid username '{'a' * 65}': use 2 to 64 of a-z, 0-9, '.', '_' and '-'"),
        ("admin", "数字办", Role.ADMIN, "莆田市", "user 'admin' already exists"),
        ("acc-nounit", "不存在的单位", Role.VILLAGE_CADRE, "莆田市", "unknown org unit '不存在的单位'"),
        ("acc-noregion", "民政局", Role.DEPARTMENT_ANALYST, None, "unknown region code '350300999999'"),
        ("acc-nodept", "东星社区居委会", Role.DEPARTMENT_ANALYST, "东星社区",
         "org unit '东星社区居委会' has no department key, so it cannot have a department analyst"),
    ],
)
async def test_add_user_errors(engine: AsyncEngine, username, org_unit, role, region, message):
    code = "350300999999" if region is None else await code_of(engine, region)
    with pytest.raises(AccountError) as error:
        await add_user(engine, username, "测试员", org_unit, role, code)
    assert str(error.value) == message


async def test_org_unit_and_token_errors(engine: AsyncEngine):
    city = await code_of(engine, "莆田市")
    cases = [
        (add_org_unit(engine, "民政局", OrgUnitKind.DEPARTMENT, "minzheng", city), "org unit '民政局' already exists"),
        (add_org_unit(engine, "测试单位", OrgUnitKind.DEPARTMENT, None, "350300999999"),
         "unknown region code '350300999999'"),
        (add_org_unit(engine, "测试居委会", OrgUnitKind.VILLAGE_COMMITTEE, "minzheng", city),
         "only a DEPARTMENT org unit has a department key, not a VILLAGE_COMMITTEE"),
        (add_org_unit(engine, "测试局", OrgUnitKind.DEPARTMENT, "Min Zheng", city),
         "invalid department key 'Min Zheng': a lowercase letter, then up to 31 of a-z, 0-9, '_' and '-'"),
        (issue_token(engine, "acc-nobody"), "unknown user 'acc-nobody'"),
        (issue_token(engine, "admin", days=0), "a token is valid for 1 to 3650 days, not 0"),
        (issue_token(engine, "admin", days=3651), "a token is valid for 1 to 3650 days, not 3651"),
        (revoke_tokens(engine), "name either a user or a token prefix"),
        (revoke_tokens(engine, username="acc-nobody"), "unknown user 'acc-nobody'"),
        (list_tokens(engine, "acc-nobody"), "unknown user 'acc-nobody'"),
    ]
    for call, message in cases:
        with pytest.raises(AccountError) as error:
            await call
        assert str(error.value) == message


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    # cli.main reads its settings from the environment.
    monkeypatch.setenv("HUB_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HUB_DATA_DIR", str(settings.data_dir))


async def run_cli(*argv: str) -> None:
    # The CLI runs its own event loop: give it a thread, away from the tests' loop.
    await asyncio.to_thread(cli.main, list(argv))


async def test_cli_user_add_and_token_issue(engine: AsyncEngine, cli_env, capsys: pytest.CaptureFixture[str]):
    city = await code_of(engine, "莆田市")
    await run_cli("user", "add", "acc-cli", "--name", "陈测试", "--unit", "民政局", "--role", "department_analyst",
                  "--region", city)
    capsys.readouterr()
    await run_cli("token", "issue", "acc-cli", "--days", "7")
    out, err = capsys.readouterr()
    token = out.removesuffix("\n")
    assert TOKEN.fullmatch(token), out  # stdout is the token alone: TOKEN=$(hub token issue acc-cli)
    assert token[:12] in err and token not in err
    caller = await authenticate(engine, token)
    assert (caller.username, caller.role, caller.department, caller.jurisdiction_code) == (
        "acc-cli", Role.DEPARTMENT_ANALYST, "minzheng", city
    )

    await run_cli("token", "list", "acc-cli")
    out, _ = capsys.readouterr()
    assert token[:12] in out and "valid" in out and token not in out and hash_token(token) not in out
    await run_cli("token", "revoke", "--prefix", token[:12])
    assert await authenticate(engine, token) is None
    await run_cli("user", "list")
    assert "acc-cli" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["user", "add", "acc-cli-role", "--name", "某", "--unit", "民政局", "--role", "BOSS", "--region", "350300000000"],
         f"unknown role 'BOSS'; valid roles: {VALID_ROLES}"),
        (["token", "issue", "acc-nobody"], "unknown user 'acc-nobody'"),
        (["token", "revoke", "--prefix", "hub_00000000"], "no unrevoked token has the prefix 'hub_00000000'"),
        (["org-unit", "add", "某单位", "--kind", "office"],
         "unknown kind 'office'; valid kinds: DEPARTMENT, TOWN_CENTRE, VILLAGE_COMMITTEE"),
    ],
)
async def test_cli_errors_are_one_line(engine: AsyncEngine, cli_env, capsys: pytest.CaptureFixture[str], argv, message):
    with pytest.raises(SystemExit) as exit_:
        await run_cli(*argv)
    assert exit_.value.code == message  # printed on stderr, exit status 1, no traceback
    assert capsys.readouterr().out == ""


async def test_cli_asks_for_the_migration(tmp_path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HUB_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}")
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    with pytest.raises(SystemExit) as exit_:
        await run_cli("user", "list")
    assert exit_.value.code == "the database has no accounts tables: run `hub db upgrade` first"


# username: (org unit, its kind, department key, unit's region, role, jurisdiction)
DEMO_USERS = {
    "admin": ("数字办", "DEPARTMENT", "shuziban", "莆田市", Role.ADMIN, "莆田市"),
    "minzheng": ("民政局", "DEPARTMENT", "minzheng", "莆田市", Role.DEPARTMENT_ANALYST, "莆田市"),
    "weijian": ("卫健委", "DEPARTMENT", "weijian", "莆田市", Role.DEPARTMENT_ANALYST, "莆田市"),
    "renshe": ("人社局", "DEPARTMENT", "renshe", "莆田市", Role.DEPARTMENT_ANALYST, "莆田市"),
    "yingji": ("应急管理局", "DEPARTMENT", "yingji", "莆田市", Role.DEPARTMENT_ANALYST, "莆田市"),
    "zhujian": ("住建局", "DEPARTMENT", "zhujian", "莆田市", Role.DEPARTMENT_ANALYST, "莆田市"),
    "canlian": ("残联", "DEPARTMENT", "canlian", "莆田市", Role.DEPARTMENT_ANALYST, "莆田市"),
    "shichang": ("市场监管局", "DEPARTMENT", "shichang", "莆田市", Role.DEPARTMENT_ANALYST, "莆田市"),
    "nongye": ("农业农村局", "DEPARTMENT", "nongye", "莆田市", Role.DEPARTMENT_ANALYST, "莆田市"),
    "licheng-minzheng": ("荔城区民政局", "DEPARTMENT", "minzheng", "荔城区", Role.DEPARTMENT_ANALYST, "荔城区"),
    "xitianwei": ("西天尾镇基层治理协同中心", "TOWN_CENTRE", None, "西天尾镇", Role.TOWN_COORDINATOR, "西天尾镇"),
    "dongxing": ("东星社区居委会", "VILLAGE_COMMITTEE", None, "东星社区", Role.VILLAGE_CADRE, "东星社区"),
    "dongxing-wangge": ("东星社区居委会", "VILLAGE_COMMITTEE", None, "东星社区", Role.GRID_WORKER, "东星社区"),
}


async def test_demo_accounts(engine: AsyncEngine):
    async with engine.connect() as conn:
        units = {
            name: (kind, department, region)
            for name, kind, department, region in await conn.execute(
                text(
                    "SELECT o.name, o.kind, o.department, r.name FROM org_units o"
                    " JOIN regions r ON r.id = o.region_id"
                )
            )
        }
    users = {user["username"]: user for user in await list_users(engine) if user["username"] in DEMO_USERS}
    assert set(users) == set(DEMO_USERS)
    for username, (unit, kind, department, unit_region, role, jurisdiction) in DEMO_USERS.items():
        user = users[username]
        assert units[unit] == (kind, department, unit_region), unit
        assert (user["org_unit"], user["department"], user["role"], user["jurisdiction_name"], user["active"]) == (
            unit, department, role, jurisdiction, True
        ), username
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,4}", user["display_name"]), username


async def test_demo_seed_adds_accounts_but_no_tokens(tmp_path):
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'demo.sqlite3'}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        counts = await seed_demo(engine, scale=1)
        assert (counts["org_units"], counts["users"]) == (12, 13)
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT count(*) FROM api_tokens")) == 0
    finally:
        await engine.dispose()
