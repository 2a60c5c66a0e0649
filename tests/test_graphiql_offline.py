"""GraphiQL works with no internet: assets come from npm at install time, verified, served by the hub.

Installing the assets needs the npm registry (reachable here and in CI). The browser test needs the
`playwright` Python package and Debian's `chromium`; without them it is skipped, unless
HUB_REQUIRE_BROWSER=1 (CI), where it fails instead.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.settings import Settings
from hub.web import graphiql
from hub.web.graphiql import (
    ASSETS_PREFIX,
    AssetError,
    assets_ready,
    graphiql_response,
    graphiql_routes,
    install_assets,
    page_assets,
    render_page,
    verify_assets,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
QUERY = "{ regions(level: DISTRICT) { totalCount } }"


def _sha384(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def _asset(suffix: str) -> graphiql.Asset:
    (asset,) = [asset for asset in page_assets() if asset.path.endswith(suffix)]
    return asset


@pytest.fixture(scope="session")
def graphiql_assets(settings: Settings) -> Path:
    """The configured assets directory, installed: the one live_server serves, kept between runs."""
    install_assets(settings.assets_dir, log=lambda _line: None)
    return settings.assets_dir


@pytest.fixture
def assets_copy(graphiql_assets: Path, tmp_path: Path) -> Path:
    """A private copy to damage without affecting other tests."""
    copy = tmp_path / "assets"
    shutil.copytree(graphiql_assets, copy)
    return copy


@pytest.fixture
def without_npm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")


def test_assets_are_read_from_strawberrys_page() -> None:
    # Versions are whatever the installed strawberry's page says; an upgrade is followed as is.
    packages = {asset.package for asset in page_assets()}
    assert packages == {"react", "react-dom", "js-cookie", "graphiql", "@graphiql/plugin-explorer"}
    assert len(page_assets()) == 7
    for asset in page_assets():
        assert asset.url == f"https://unpkg.com/{asset.spec}/{asset.path}"
        assert asset.integrity.startswith("sha384-")


def test_rendered_page_loads_only_installed_local_assets(graphiql_assets: Path) -> None:
    html = render_page()
    assert "unpkg.com" not in html
    urls = re.findall(r"""\b(?:src|href)\s*=\s*["']([^"']*)["']""", html)
    loaded = [url for url in urls if not url.startswith("data:")]
    assert not [url for url in loaded if re.match(r"(?:https?:)?//", url)]
    assert sorted(loaded) == sorted(f"{ASSETS_PREFIX}/{asset.local_path}" for asset in page_assets())
    for url in loaded:
        assert (graphiql_assets / url.removeprefix(ASSETS_PREFIX + "/")).is_file(), url
    # Integrity attributes stay, so the browser verifies the local copies as well.
    for asset in page_assets():
        assert f'integrity="{asset.integrity}"' in html
    assert render_page("/hub/graphiql/assets").count('"/hub/graphiql/assets/') == len(page_assets())


def test_installed_assets_match_the_pages_hashes(graphiql_assets: Path) -> None:
    for asset in page_assets():
        data = (graphiql_assets / asset.local_path).read_bytes()
        assert _sha384(data) == asset.integrity, asset.local_path
    verify_assets(graphiql_assets)
    assert assets_ready(graphiql_assets)


def test_second_install_keeps_intact_files_and_needs_no_npm(assets_copy: Path, without_npm: None) -> None:
    lines: list[str] = []
    install_assets(assets_copy, log=lines.append)
    assert lines == [f"{spec}: up to date" for spec in dict.fromkeys(a.spec for a in page_assets())]


def test_corrupted_asset_is_detected_and_repaired(assets_copy: Path) -> None:
    asset = _asset("graphiql.min.js")
    target = assets_copy / asset.local_path
    corrupted = target.read_bytes() + b"\n// tampered\n"
    target.write_bytes(corrupted)

    with pytest.raises(AssetError) as raised:
        verify_assets(assets_copy)
    assert str(raised.value) == (
        f"GraphiQL asset {asset.local_path} does not match strawberry's GraphiQL page: "
        f"expected {asset.integrity}, got {_sha384(corrupted)}"
    )
    assert not assets_ready(assets_copy)

    lines: list[str] = []
    install_assets(assets_copy, log=lines.append)
    assert f"{asset.spec}: installed graphiql.min.js" in lines
    verify_assets(assets_copy)


def test_missing_asset_is_reported(assets_copy: Path) -> None:
    asset = _asset("index.umd.js")
    (assets_copy / asset.local_path).unlink()
    with pytest.raises(AssetError) as raised:
        verify_assets(assets_copy)
    assert str(raised.value) == f"GraphiQL asset {asset.local_path} is missing"


def test_install_without_npm_says_what_to_do(tmp_path: Path, without_npm: None) -> None:
    with pytest.raises(AssetError, match=r"^npm not found: install Node\.js/npm, or copy the assets directory"):
        install_assets(tmp_path / "assets", log=lambda _line: None)


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ('<script src="https://cdn.example.com/x.js" integrity="sha384-x"></script>', "not an exact-version"),
        ('<script src="https://unpkg.com/react@18/umd/react.js" integrity="sha384-x"></script>', "not an exact"),
        ('<script src="https://unpkg.com/react@18.2.0/umd/react.js"></script>', "without an integrity hash"),
        ("<script>JSON.parse('{{ SUBSCRIPTION_ENABLED }}')</script>", "template placeholders"),
        ("<div>Loading...</div>", "loads no CDN assets"),
    ],
)
def test_unexpected_page_layout_fails_clearly(html: str, reason: str) -> None:
    with pytest.raises(AssetError, match=reason):
        graphiql._parse(html)


def _app(assets_dir: Path) -> Starlette:
    async def graphql_get(request: Request) -> Response:
        return await graphiql_response(request, assets_dir)

    return Starlette(routes=[*graphiql_routes(assets_dir), Route("/graphql", graphql_get)])


async def test_graphiql_response_and_asset_routes(graphiql_assets: Path, tmp_path: Path) -> None:
    transport = httpx.ASGITransport(app=_app(tmp_path / "not-installed"))
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        missing = await client.get("/graphql", headers={"Accept": "text/html"})
        asset_404 = await client.get(f"{ASSETS_PREFIX}/{page_assets()[0].local_path}")
    assert missing.status_code == 503
    assert missing.headers["content-type"].startswith("text/plain")
    assert "hub assets install" in missing.text
    assert asset_404.status_code == 404

    transport = httpx.ASGITransport(app=_app(graphiql_assets))
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        asset = _asset("graphiql.min.css")
        served = await client.get(f"{ASSETS_PREFIX}/{asset.local_path}")
    assert page.status_code == 200
    assert page.text == render_page()
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'self' 'sha256-" in csp
    assert "unpkg" not in csp and "https:" not in csp
    assert served.status_code == 200
    assert _sha384(served.content) == asset.integrity
    assert served.headers["content-type"].startswith("text/css")
    assert "immutable" in served.headers["cache-control"]


def _browser_or_skip() -> None:
    """Skip when the browser stack is absent, except in CI (HUB_REQUIRE_BROWSER=1), where that fails."""
    missing = []
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        missing.append("the `playwright` Python package (pip install playwright; no `playwright install`)")
    if not Path(CHROMIUM).exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    if missing:
        reason = "browser test needs " + " and ".join(missing)
        if os.environ.get("HUB_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " (HUB_REQUIRE_BROWSER=1)")
        pytest.skip(reason)


async def test_graphiql_renders_and_runs_a_query_offline(
    live_server: str, graphiql_assets: Path, tokens: dict[str, str]
) -> None:
    _browser_or_skip()
    from playwright.async_api import Request as BrowserRequest
    from playwright.async_api import Response as BrowserResponse
    from playwright.async_api import Route as BrowserRoute
    from playwright.async_api import async_playwright, expect

    base = live_server.rstrip("/")
    blocked: list[str] = []  # any request leaving the machine: there must be none
    errors: list[str] = []
    asset_statuses: dict[str, int] = {}

    async def only_loopback(route: BrowserRoute, request: BrowserRequest) -> None:
        if urlsplit(request.url).hostname in LOOPBACK_HOSTS:
            await route.continue_()
        else:
            blocked.append(request.url)
            await route.abort("blockedbyclient")

    def record_asset(response: BrowserResponse) -> None:
        path = urlsplit(response.url).path
        if path.startswith(ASSETS_PREFIX + "/"):
            asset_statuses[path.removeprefix(ASSETS_PREFIX + "/")] = response.status

    def record_console(message_type: str, text: str) -> None:
        if message_type == "error":
            errors.append(text)

    # The async API: live_server may run the hub in this same event loop.
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context()
            await context.route("**/*", only_loopback)
            page = await context.new_page()
            page.on("response", record_asset)
            page.on("console", lambda message: record_console(message.type, message.text))
            page.on("pageerror", lambda error: errors.append(str(error)))

            # The page prefills its query editor from the `q` URL parameter and its header
            # editor from `headers`, read with decodeURIComponent (which leaves "+" alone,
            # hence quote rather than urlencode). The API answers signed-in callers only.
            headers = json.dumps({"Authorization": f"Bearer {tokens['admin']}"})
            response = await page.goto(f"{base}/graphql?q={quote(QUERY, safe='')}&headers={quote(headers, safe='')}")
            assert response is not None
            assert response.status == 200, (
                f"GET /graphql answered {response.status}; the live_server hub needs its GraphiQL "
                f"assets installed (hub.graphiql.install_assets):\n{await response.text()}"
            )
            assert "default-src 'none'" in (await response.all_headers())["content-security-policy"]

            await expect(page.locator(".graphiql-query-editor .CodeMirror")).to_be_visible(timeout=15_000)
            await expect(page.locator("#graphiql")).not_to_contain_text("Loading...")
            await expect(page.locator(".graphiql-query-editor")).to_contain_text("totalCount")

            await page.locator(".graphiql-execute-button").click()
            await expect(page.locator(".result-window")).to_contain_text('"totalCount": 7', timeout=15_000)
        finally:
            await browser.close()

    assert blocked == []
    assert errors == []
    assert asset_statuses == {asset.local_path: 200 for asset in page_assets()}


async def test_the_docs_load_once_the_authorization_header_is_pasted(live_server: str, graphiql_assets: Path, tokens: dict[str, str]) -> None:
    """Opened without a token the schema cannot be fetched (401); pasting the header fetches it again."""
    _browser_or_skip()
    from playwright.async_api import async_playwright, expect

    base = live_server.rstrip("/")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context()
            await context.route(
                "**/*", lambda route, request: route.continue_() if urlsplit(request.url).hostname in LOOPBACK_HOSTS else route.abort()
            )
            page = await context.new_page()
            introspections: list[int] = []
            page.on("response", lambda r: introspections.append(r.status) if r.request.method == "POST" and "IntrospectionQuery" in (r.request.post_data or "") else None)
            await page.goto(f"{base}/graphql")
            await expect(page.locator(".graphiql-query-editor .CodeMirror")).to_be_visible(timeout=15_000)
            await page.locator("button[aria-label='Show Documentation Explorer']").click()
            await expect(page.locator(".graphiql-doc-explorer")).to_contain_text("Error fetching schema", timeout=15_000)
            assert introspections and set(introspections) == {401}

            # Paste the header into the Headers tab, as the README says.
            await page.locator(".graphiql-editor-tools button", has_text="Headers").click()
            editor = page.locator(".graphiql-editor-tool .graphiql-editor:visible .CodeMirror")
            await editor.click()
            await page.keyboard.insert_text(json.dumps({"Authorization": f"Bearer {tokens['minzheng']}"}))
            await expect(page.locator(".graphiql-doc-explorer")).to_contain_text("Root Types", timeout=15_000)
            await expect(page.locator(".graphiql-doc-explorer")).not_to_contain_text("Error fetching schema")
            assert introspections[-1] == 200
        finally:
            await browser.close()
