"""People sign in with a password: lockout, the first password, the session cookie, CSRF, expiry, sign-out, own tokens.

Every test signs in from an address of its own (the ASGI client's), so that one test's failures
never lock another out; and sets the password it uses, so no test depends on another's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select

from hub import cli, clock
from hub.access import passwords
from hub.data.models import AccessLogEntry, SignInFailures, User, WebSession
from hub.demo.accounts import FIRST_PASSWORD
from tests.conftest import graphql

PASSWORD = "Lizhi-honey-7"
_addresses = itertools.count(10)
ME = "{ inbox { message } }"
VISIT = """mutation($id: ID!, $v: Int!) { recordVisit(id: $id, version: $v, visit: {recentStatus: "在家，身体好"}) {
  person { version } errors { message } } }"""


@contextlib.asynccontextmanager
async def browser(app, address: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """A client like a browser: its own address, a cookie jar, no bearer token."""
    transport = httpx.ASGITransport(app=app, client=(address or f"10.0.0.{next(_addresses)}", 51000))
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        yield client


async def sign_in(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/app/api/sign-in", json={"username": username, "password": password})


async def ready(engine, client: httpx.AsyncClient, username: str) -> str:
    """Signed in with a password already changed: returns the CSRF token."""
    await passwords.set_password(engine, username, PASSWORD, must_change=False)
    response = await sign_in(client, username, PASSWORD)
    assert response.status_code == 200, response.text
    return response.json()["csrfToken"]


async def _count(engine, model, *where) -> int:
    async with engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(model).where(*where))


async def _log(app, engine, username: str) -> list[tuple[str, str]]:
    await app.state.access_log.flush()
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(AccessLogEntry.operation_name, AccessLogEntry.outcome)
            .where(AccessLogEntry.username == username, AccessLogEntry.operation_type == "sign_in")
            .order_by(AccessLogEntry.id)
        )
        return [tuple(row) for row in rows]


def _error(response: httpx.Response) -> tuple[int, str, str]:
    (error,) = response.json()["errors"]
    code = error["extensions"]["code"] if "extensions" in error else error["code"]  # uploads answer `code` beside the message
    return response.status_code, code, error["message"]


async def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(app, engine):
    await passwords.set_password(engine, "renshe", PASSWORD, must_change=False)
    sessions_before = await _count(engine, WebSession)
    async with browser(app) as client:
        wrong = await sign_in(client, "renshe", "not-the-password")
        unknown = await sign_in(client, "nobody-here", "not-the-password")
        assert "hub_session" not in client.cookies
    assert _error(wrong) == _error(unknown) == (401, "SIGN_IN_FAILED", "用户名或密码不正确")
    assert await _count(engine, WebSession) == sessions_before  # nothing written but the failure counts
    assert (await _log(app, engine, "nobody-here"))[-1] == ("signIn", "refused")


async def test_the_sixth_failure_in_a_row_is_refused_for_a_while(app, engine):
    await passwords.set_password(engine, "canlian", PASSWORD, must_change=False)
    async with browser(app) as client:
        for _ in range(5):
            assert _error(await sign_in(client, "canlian", "wrong-password"))[1] == "SIGN_IN_FAILED"
        sixth = await sign_in(client, "canlian", PASSWORD)  # even the right password, now
        assert _error(sixth) == (429, "SIGN_IN_LOCKED", "连续 5 次登录失败，已暂停登录，请 15 分钟后再试")
        assert "hub_session" not in client.cookies
    async with browser(app) as elsewhere:  # the account name is locked from every address
        assert _error(await sign_in(elsewhere, "canlian", PASSWORD))[1] == "SIGN_IN_LOCKED"
    with clock.moved(dt.timedelta(minutes=16)):
        async with browser(app) as client:
            assert (await sign_in(client, "canlian", PASSWORD)).status_code == 200
    assert await _count(engine, SignInFailures, SignInFailures.key == "account:canlian") == 0
    assert (await _log(app, engine, "canlian"))[-3:] == [("signIn", "locked"), ("signIn", "locked"), ("signIn", "ok")]


async def test_an_address_with_five_failures_in_a_row_is_locked_out_for_every_name(app, engine):
    await passwords.set_password(engine, "shichang", PASSWORD, must_change=False)
    async with browser(app, "10.9.9.9") as client:
        for name in ("a1", "a2", "a3", "a4", "a5"):  # unknown names count as well
            await sign_in(client, name, "guess-guess")
        assert _error(await sign_in(client, "shichang", PASSWORD))[1] == "SIGN_IN_LOCKED"
    async with browser(app) as other:
        assert (await sign_in(other, "shichang", PASSWORD)).status_code == 200


async def test_the_first_password_must_be_changed_before_anything_else(app, engine):
    await passwords.set_password(engine, "zhujian", FIRST_PASSWORD, must_change=True)
    async with browser(app) as client:
        signed = await sign_in(client, "zhujian", FIRST_PASSWORD)
        assert signed.status_code == 200 and signed.json()["mustChangePassword"] is True
        csrf = {"x-csrf-token": signed.json()["csrfToken"]}
        refused = await client.post("/graphql", json={"query": "{ regions(level: TOWN) { totalCount } }"}, headers=csrf)
        assert _error(refused) == (403, "PASSWORD_CHANGE_REQUIRED", "请先修改初始密码，再进行其他操作")
        assert _error(await client.get("/app/api/tokens"))[1] == "PASSWORD_CHANGE_REQUIRED"

        for current, new, message in [
            ("wrong-one", "Sandbag-pump-9", "当前密码不正确"),
            (FIRST_PASSWORD, FIRST_PASSWORD, "新密码不能与当前密码相同"),
            (FIRST_PASSWORD, "short", "密码须为 8 到 128 个字符"),
            (FIRST_PASSWORD, "zhujian-2027", "密码太简单：不能含用户名、首尾空格，至少用 4 个不同的字符"),
        ]:
            answer = await client.post("/app/api/password", json={"current": current, "new": new}, headers=csrf)
            assert answer.status_code == 400 and answer.json()["errors"][0]["message"] == message
        no_csrf = await client.post("/app/api/password", json={"current": FIRST_PASSWORD, "new": "Sandbag-pump-9"})
        assert _error(no_csrf)[1] == "CSRF_REFUSED"
        async with engine.connect() as conn:
            assert await conn.scalar(select(User.password_must_change).where(User.username == "zhujian")) is True

        changed = await client.post("/app/api/password", json={"current": FIRST_PASSWORD, "new": "Sandbag-pump-9"}, headers=csrf)
        assert changed.json() == {"changed": True}
        assert await graphql(client, "{ regions(level: TOWN) { totalCount } }", **csrf)
        assert (await client.get("/app/api/session")).json()["mustChangePassword"] is False
    assert (await _log(app, engine, "zhujian"))[-3:] == [("changePassword", "refused")] * 2 + [("changePassword", "ok")]


async def test_a_cross_site_post_without_the_csrf_token_writes_nothing(app, engine, as_user, new_household):
    _, head = await new_household()
    async with browser(app) as client:
        csrf = await ready(engine, client, "dongxing-wangge")
        forged = await client.post("/graphql", json={"query": VISIT, "variables": {"id": head["id"], "v": head["version"]}})
        assert _error(forged) == (403, "CSRF_REFUSED", "请求缺少有效的防伪令牌（CSRF），未执行；请刷新页面后重试")
        wrong = await client.post("/graphql", json={"query": VISIT, "variables": {"id": head["id"], "v": head["version"]}}, headers={"x-csrf-token": "x" + csrf})
        assert _error(wrong)[1] == "CSRF_REFUSED"
        upload = await client.post("/photos?damageReport=1", content=b"\xff\xd8", headers={"content-type": "image/jpeg"})
        assert _error(upload)[1] == "CSRF_REFUSED"
        # Reading needs no token (GET cannot change anything); the person is unchanged.
        read = await client.get("/graphql", params={"query": "query($id: ID!) { person(id: $id) { version } }", "variables": f'{{"id": "{head["id"]}"}}'})
        assert read.json()["data"]["person"]["version"] == head["version"]
        done = await graphql(client, VISIT, {"id": head["id"], "v": head["version"]}, **{"x-csrf-token": csrf})
        assert done["recordVisit"]["person"]["version"] == head["version"] + 1
    async with as_user("dongxing-wangge") as api:  # a bearer token needs no CSRF token
        assert (await graphql(api, VISIT, {"id": head["id"], "v": head["version"] + 1}))["recordVisit"]["errors"] == []


async def test_a_session_ends_when_idle_or_too_old(app, engine):
    async with browser(app) as client:
        csrf = {"x-csrf-token": await ready(engine, client, "weijian")}
        with clock.moved(dt.timedelta(minutes=29)):
            assert (await client.get("/app/api/session")).status_code == 200
        with clock.moved(dt.timedelta(minutes=29 + 31)):
            expired = await client.post("/graphql", json={"query": ME}, headers=csrf)
            assert _error(expired) == (401, "SESSION_EXPIRED", "登录已过期，请重新登录")
            assert _error(await client.get("/app/api/session"))[1] == "SESSION_EXPIRED"
    async with browser(app) as client:
        await ready(engine, client, "weijian")
        for minutes in range(20, 12 * 60, 20):  # active all along: only the absolute limit ends it
            with clock.moved(dt.timedelta(minutes=minutes)):
                assert (await client.get("/app/api/session")).status_code == 200
        with clock.moved(dt.timedelta(hours=12, minutes=1)):
            assert _error(await client.get("/app/api/session"))[1] == "SESSION_EXPIRED"


async def test_signing_out_ends_the_session(app, engine):
    async with browser(app) as client:
        csrf = {"x-csrf-token": await ready(engine, client, "nongye")}
        cookie = client.cookies["hub_session"]
        assert _error(await client.post("/app/api/sign-out"))[1] == "CSRF_REFUSED"  # a forged sign-out does nothing
        out = await client.post("/app/api/sign-out", headers=csrf)
        assert out.json() == {"signedOut": True}
        assert 'hub_session=""' in out.headers["set-cookie"]
        client.cookies.set("hub_session", cookie)  # the old cookie, kept by someone: dead
        assert _error(await client.post("/graphql", json={"query": ME}, headers=csrf))[1] == "SESSION_EXPIRED"
    assert (await _log(app, engine, "nongye"))[-3:] == [("signIn", "ok"), ("signOut", "refused"), ("signOut", "ok")]


async def test_the_session_cookie_is_httponly_samesite_and_secure_behind_https(app, engine):
    await passwords.set_password(engine, "yingji", PASSWORD, must_change=False)
    async with browser(app) as client:
        plain = (await sign_in(client, "yingji", PASSWORD)).headers["set-cookie"].lower()
    assert "httponly" in plain and "samesite=lax" in plain and "secure" not in plain
    transport = httpx.ASGITransport(app=app, client=("10.1.1.1", 1))
    async with httpx.AsyncClient(transport=transport, base_url="https://hub.test") as client:
        secure = (await sign_in(client, "yingji", PASSWORD)).headers["set-cookie"].lower()
    assert "secure" in secure
    async with browser(app) as client:
        cross = await client.post("/app/api/sign-in", json={"username": "yingji", "password": PASSWORD}, headers={"origin": "https://evil.example"})
        form = await client.post("/app/api/sign-in", data={"username": "yingji", "password": PASSWORD})
    assert _error(cross)[:2] == (403, "CROSS_SITE") and _error(form)[:2] == (415, "UNSUPPORTED_MEDIA_TYPE")


async def test_a_person_makes_and_revokes_their_own_tokens(app, engine):
    async with browser(app) as client:
        csrf = {"x-csrf-token": await ready(engine, client, "licheng-minzheng")}
        assert _error(await client.post("/app/api/tokens", json={"password": "not-mine"}, headers=csrf)) == (403, "WRONG_PASSWORD", "当前密码不正确")
        made = (await client.post("/app/api/tokens", json={"password": PASSWORD}, headers=csrf)).json()
        assert made["token"].startswith("hub_") and made["days"] == 90
        listed = (await client.get("/app/api/tokens")).json()["tokens"]
        assert made["prefix"] in [t["prefix"] for t in listed] and "token" not in listed[0]
        api = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test", headers={"authorization": f"Bearer {made['token']}"})
        async with api:
            assert await graphql(api, "{ regions(level: DISTRICT) { totalCount } }")
            someone_else = await client.post("/app/api/tokens/revoke", json={"prefix": "hub_notmine1"}, headers=csrf)
            assert _error(someone_else) == (404, "NOT_FOUND", "没有这个有效令牌")
            revoked = await client.post("/app/api/tokens/revoke", json={"prefix": made["prefix"]}, headers=csrf)
            assert revoked.json() == {"revoked": made["prefix"]}
            app.state.services.authenticate._entries.clear()  # the cache's bounded delay is not under test
            assert (await api.post("/graphql", json={"query": "{ regions(level: DISTRICT) { totalCount } }"})).status_code == 401


async def test_set_password_prompts_twice_and_never_takes_it_on_the_command_line(app, settings, monkeypatch, capsys):
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["user", "set-password", "admin", "--password", "x"])
    answers: list[str] = []
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: answers.pop(0))

    def run() -> None:  # the command runs its own event loop: in a thread, as from a shell
        cli.cmd_user_set_password(argparse.Namespace(username="admin", keep=False), settings)

    answers[:] = ["Typhoon-Gaemi-24", "Typhoon-Gaemi-25"]
    with pytest.raises(SystemExit, match="the two passwords differ; nothing changed"):
        await asyncio.to_thread(run)
    answers[:] = ["short", "short"]
    with pytest.raises(SystemExit, match="密码须为 8 到 128 个字符"):
        await asyncio.to_thread(run)
    answers[:] = ["Typhoon-Gaemi-24"] * 2
    await asyncio.to_thread(run)
    assert "it must be changed at the first sign-in" in capsys.readouterr().err
    async with browser(app) as client:
        assert (await sign_in(client, "admin", "Typhoon-Gaemi-25")).status_code == 401
        signed = await sign_in(client, "admin", "Typhoon-Gaemi-24")
    assert signed.status_code == 200 and signed.json()["mustChangePassword"] is True
