"""GraphiQL served entirely by the hub, so it works on networks without internet.

strawberry's GraphiQL page loads its scripts and styles from a CDN, with SRI hashes. The same
files ship in the npm packages of those exact versions, byte for byte. `install_assets` fetches
the packages with `npm pack`, checks every file against the page's hashes and stores it under the
assets directory; `render_page` rewrites the page's CDN URLs to the hub's own copies and keeps
the hashes, so browsers verify the local files too. No third-party file lives in this repository:
strawberry's installed page is the single source of truth for which files, versions and hashes.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope
from strawberry.http.ides import get_graphql_ide_html

__all__ = [
    "ASSETS_PREFIX",
    "Asset",
    "AssetError",
    "assets_ready",
    "graphiql_response",
    "graphiql_routes",
    "install_assets",
    "page_assets",
    "render_page",
    "verify_assets",
]

ASSETS_PREFIX = "/graphiql/assets"
NPM_TIMEOUT_SECONDS = 300

logger = logging.getLogger(__name__)

# unpkg's npm form: https://unpkg.com/<package>@<exact version>/<file in the package>.
_UNPKG_URL = re.compile(
    r"https://unpkg\.com/(?P<package>(?:@[a-z0-9][\w.-]*/)?[a-z0-9][\w.-]*)"
    r"@(?P<version>\d+\.\d+\.\d+(?:[-+][\w.-]+)?)/(?P<path>[\w@./-]+)"
)
# strawberry 0.341 serves its page verbatim (no placeholders); older pages had `{{ NAME }}`
# placeholders that its views filled in. Should they come back, refuse rather than guess.
_PLACEHOLDER = re.compile(r"\{\{\s*\w+\s*\}\}")
_HASH_ALGORITHMS = ("sha256", "sha384", "sha512")


class AssetError(Exception):
    """GraphiQL assets cannot be installed, verified or rendered; the message says why."""


@dataclass(frozen=True)
class Asset:
    """One file strawberry's GraphiQL page loads from the CDN."""

    package: str
    version: str
    path: str  # inside the npm package, without the tarball's leading "package/"
    url: str
    integrity: str  # the page's SRI attribute, e.g. "sha384-<base64>"

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"

    @property
    def local_path(self) -> str:
        """Path under the assets directory and under ASSETS_PREFIX; versioned, so immutable."""
        return f"{self.spec}/{self.path}"


@dataclass(frozen=True)
class _Page:
    html: str
    assets: tuple[Asset, ...]
    inline_script_hashes: tuple[str, ...]  # CSP sources for the page's own inline scripts


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.resources: list[tuple[str, str, str | None]] = []  # (tag, url, integrity)
        self.inline_scripts: list[str] = []
        self._in_inline_script = False
        self._script_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        url = values.get("src") if tag == "script" else values.get("href") if tag == "link" else None
        if url is not None:
            self.resources.append((tag, url, values.get("integrity")))
        elif tag == "script":
            self._in_inline_script = True
            self._script_text = []

    def handle_data(self, data: str) -> None:
        if self._in_inline_script:
            self._script_text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._in_inline_script:
            self.inline_scripts.append("".join(self._script_text))
            self._in_inline_script = False


def _scan(html: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    return parser


def _parse(html: str) -> _Page:
    """Extract the CDN assets and inline scripts; refuse any page this module can't make offline."""
    where = "strawberry's GraphiQL page (strawberry/static/graphiql.html)"
    placeholders = sorted(set(_PLACEHOLDER.findall(html)))
    if placeholders:
        raise AssetError(f"{where} has template placeholders this hub does not know: {placeholders}")
    parser = _scan(html)
    assets: list[Asset] = []
    for tag, url, integrity in parser.resources:
        if url.startswith("data:"):
            continue  # the inline favicon
        match = _UNPKG_URL.fullmatch(url)
        if match is None:
            raise AssetError(
                f"{where} loads <{tag}> {url!r}, which is not an exact-version unpkg.com npm URL; "
                "hub/web/graphiql.py must learn this page layout before GraphiQL can work offline"
            )
        if not integrity:
            raise AssetError(f"{where} loads {url} without an integrity hash; cannot verify a local copy")
        path = match["path"]
        if ".." in path.split("/"):
            raise AssetError(f"{where} loads {url}, whose path leaves its package")
        assets.append(Asset(match["package"], match["version"], path, url, integrity))
    if not assets:
        raise AssetError(f"{where} loads no CDN assets any more; hub/web/graphiql.py must learn its new layout")
    script_hashes = tuple(
        "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"
        for text in parser.inline_scripts
    )
    return _Page(html, tuple(dict.fromkeys(assets)), script_hashes)


# GraphiQL fetches the schema once, when it starts or when its fetcher changes; the header editor's
# content is read then. Opened without a token, its docs stayed on "Error fetching schema" after the
# Authorization header was pasted. These edits of strawberry's inline script make a new fetcher
# whenever the headers change to another valid JSON object, so the schema is fetched again with them.
# Each snippet must occur exactly once: a page this module does not know is refused, not guessed at.
_REFETCH_ON_HEADERS = (
    (
        """      const fetcher = GraphiQL.createFetcher({
        url: fetchURL,
        headers: defaultHeaders,
        subscriptionUrl,
      });
""",
        """      function createFetcher() {
        return GraphiQL.createFetcher({
          url: fetchURL,
          headers: defaultHeaders,
          subscriptionUrl,
        });
      }

      // The headers as a canonical JSON object, or null while they are being typed.
      function headersKey(text) {
        try {
          const value = JSON.parse(text || "{}");
          return value && typeof value === "object" && !Array.isArray(value) ? JSON.stringify(value) : null;
        } catch (error) {
          return null;
        }
      }
""",
    ),
    (
        """        const [headers, setHeaders] = React.useState(parameters.headers);
""",
        """        const [headers, setHeaders] = React.useState(parameters.headers);
        const [schemaHeaders, setSchemaHeaders] = React.useState(headersKey(parameters.headers));
        // A new fetcher makes GraphiQL fetch the schema again, with the headers now in the editor.
        const fetcher = React.useMemo(createFetcher, [schemaHeaders]);
""",
    ),
    (
        """        function onEditHeaders(newHeaders) {
          setHeaders(newHeaders);
        }
""",
        """        function onEditHeaders(newHeaders) {
          setHeaders(newHeaders);
          const key = headersKey(newHeaders);
          if (key !== null) {
            setSchemaHeaders(key);
          }
        }
""",
    ),
)


def _refetch_schema_on_new_headers(html: str) -> str:
    for old, new in _REFETCH_ON_HEADERS:
        if html.count(old) != 1:
            raise AssetError(
                "strawberry's GraphiQL page (strawberry/static/graphiql.html) changed: hub/web/graphiql.py cannot "
                f"make it fetch the schema again when the headers change (looked for {old.strip().splitlines()[0]!r})"
            )
        html = html.replace(old, new)
    return html


@cache
def _page() -> _Page:
    return _parse(_refetch_schema_on_new_headers(get_graphql_ide_html("graphiql")))


def page_assets() -> tuple[Asset, ...]:
    """The distinct files strawberry's installed GraphiQL page needs, in page order."""
    return _page().assets


def _digest(data: bytes, integrity: str) -> tuple[str, str] | None:
    """None when data matches the SRI attribute, else (expected, actual) for the error message."""
    tokens = [token for token in integrity.split() if token.split("-", 1)[0] in _HASH_ALGORITHMS]
    if not tokens:
        raise AssetError(f"unsupported integrity attribute {integrity!r}")
    # As browsers do: only the strongest algorithm listed counts, and any of its hashes may match.
    algorithm = max((token.split("-", 1)[0] for token in tokens), key=_HASH_ALGORITHMS.index)
    expected = [token for token in tokens if token.startswith(f"{algorithm}-")]
    actual = f"{algorithm}-" + base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    return None if actual in expected else (" ".join(expected), actual)


def _problem(assets_dir: Path, asset: Asset) -> str | None:
    target = assets_dir / asset.local_path
    try:
        data = target.read_bytes()
    except FileNotFoundError:
        return f"GraphiQL asset {asset.local_path} is missing"
    mismatch = _digest(data, asset.integrity)
    if mismatch is None:
        return None
    expected, actual = mismatch
    return (
        f"GraphiQL asset {asset.local_path} does not match strawberry's GraphiQL page: "
        f"expected {expected}, got {actual}"
    )


# Directories that verified completely in this process; installed files only change by
# `install_assets`, which writes verified bytes, so one check per process suffices.
_verified_dirs: set[Path] = set()


def _problems(assets_dir: Path) -> list[str]:
    problems = [p for asset in page_assets() if (p := _problem(assets_dir, asset)) is not None]
    if not problems:
        _verified_dirs.add(assets_dir.resolve())
    return problems


def verify_assets(assets_dir: Path) -> None:
    """Hash every asset (no cache); raise AssetError with one line per missing or altered file."""
    problems = _problems(assets_dir)
    if problems:
        raise AssetError("\n".join(problems))


def _cached_problems(assets_dir: Path) -> list[str]:
    # Success is cached; failures are re-checked on each call so that assets installed while
    # the hub runs are picked up without a restart.
    return [] if assets_dir.resolve() in _verified_dirs else _problems(assets_dir)


def assets_ready(assets_dir: Path) -> bool:
    """All assets present and matching the page's hashes (verified once per process)."""
    return not _cached_problems(assets_dir)


def _npm_pack(spec: str, destination: Path, assets_dir: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise AssetError(
            "npm not found: install Node.js/npm, or copy the assets directory "
            f"({assets_dir}) from a hub where `hub assets install` has run "
            "(they are verified against strawberry's GraphiQL page either way)"
        )
    # Only the tarball: no node_modules, no dependency tree, no package scripts. `--loglevel=error`
    # rather than `--silent`, which would swallow the reason of a failure. The user's npm config
    # (e.g. an intranet registry mirror) applies as usual.
    command = [npm, "pack", spec, "--loglevel=error", "--ignore-scripts", "--pack-destination", str(destination)]
    try:
        result = subprocess.run(
            command, cwd=destination, capture_output=True, text=True, timeout=NPM_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        raise AssetError(f"`npm pack {spec}` did not finish within {NPM_TIMEOUT_SECONDS} s") from None
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip() or "(no output)"
        raise AssetError(f"`npm pack {spec}` failed (exit status {result.returncode}):\n{detail}")
    tarballs = list(destination.glob("*.tgz"))
    if len(tarballs) != 1:
        raise AssetError(f"`npm pack {spec}` left {len(tarballs)} tarballs in {destination}, expected 1")
    return tarballs[0]


def _read_member(tarball: tarfile.TarFile, asset: Asset) -> bytes:
    try:
        member = tarball.getmember(f"package/{asset.path}")
    except KeyError:
        raise AssetError(f"npm package {asset.spec} has no file {asset.path}") from None
    extracted = tarball.extractfile(member) if member.isfile() else None
    if extracted is None:
        raise AssetError(f"npm package {asset.spec}: {asset.path} is not a regular file")
    with extracted:
        return extracted.read()


def _write_atomic(target: Path, data: bytes) -> None:
    # A reader (the hub, a browser) never sees a half-written file: write aside, then rename.
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _by_package(assets: Iterable[Asset]) -> dict[str, list[Asset]]:
    groups: dict[str, list[Asset]] = {}
    for asset in assets:
        groups.setdefault(asset.spec, []).append(asset)
    return groups


def install_assets(assets_dir: Path, *, log: Callable[[str], object] = print) -> None:
    """Fetch, verify and store every GraphiQL asset; files already present and intact are kept."""
    for spec, assets in _by_package(page_assets()).items():
        missing = [asset for asset in assets if _problem(assets_dir, asset) is not None]
        if not missing:
            log(f"{spec}: up to date")
            continue
        with (
            tempfile.TemporaryDirectory(prefix="hub-npm-pack-") as scratch,
            tarfile.open(_npm_pack(spec, Path(scratch), assets_dir), "r:gz") as tarball,
        ):
            for asset in missing:
                data = _read_member(tarball, asset)
                mismatch = _digest(data, asset.integrity)
                if mismatch is not None:
                    expected, actual = mismatch
                    raise AssetError(
                        f"{asset.path} in npm package {spec} does not match strawberry's GraphiQL "
                        f"page: expected {expected}, got {actual}"
                    )
                _write_atomic(assets_dir / asset.local_path, data)
        log(f"{spec}: installed {', '.join(asset.path for asset in missing)}")
    verify_assets(assets_dir)  # also marks the directory verified for this process


@cache
def render_page(assets_prefix: str = ASSETS_PREFIX) -> str:
    """strawberry's GraphiQL page loading every asset from `assets_prefix` instead of the CDN.

    Integrity attributes stay, so browsers still verify the local copies. The bare `crossorigin`
    attributes stay too: same-origin requests in CORS mode need no CORS headers and keep SRI on.
    The page posts to its own URL (window.location), so serve it at the GraphQL endpoint.
    """
    page = _page()
    html = page.html
    for asset in page.assets:
        # Replace only whole quoted attribute values, never a substring of some other URL.
        html, count = re.subn(
            r"(?<=[\"'])" + re.escape(asset.url) + r"(?=[\"'])",
            f"{assets_prefix.rstrip('/')}/{asset.local_path}",
            html,
        )
        if count == 0:
            raise AssetError(f"could not rewrite {asset.url} in strawberry's GraphiQL page")
    leftovers = [url for _, url, _ in _scan(html).resources if re.match(r"(?:https?:)?//", url)]
    if leftovers:
        raise AssetError(f"strawberry's GraphiQL page still loads external URLs after rewriting: {leftovers}")
    return html


@cache
def _content_security_policy() -> str:
    # Only the hub itself: the page's inline script by hash, its inline <style> and GraphiQL's
    # style attributes via 'unsafe-inline' (styles can't run code), the data: favicon. A browser
    # therefore can't reach any CDN from this page, even if a future page slipped one in.
    scripts = " ".join(("'self'", *_page().inline_script_hashes))
    return "; ".join(
        (
            "default-src 'none'",
            f"script-src {scripts}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",  # queries, and same-origin websockets for subscriptions
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


class _AssetFiles(StaticFiles):
    """StaticFiles for versioned, immutable paths; a not-yet-installed directory is a 404."""

    async def check_config(self) -> None:
        # StaticFiles would fail every request with a 500 while the directory is missing;
        # the hub must start before `hub assets install` has run, and pick the files up after.
        return None

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def graphiql_routes(assets_dir: Path) -> list[BaseRoute]:
    """Routes serving the installed assets under ASSETS_PREFIX."""
    return [Mount(ASSETS_PREFIX, app=_AssetFiles(directory=assets_dir, check_dir=False), name="graphiql-assets")]


_NOT_INSTALLED = """\
GraphiQL is not available yet: its JavaScript and CSS files are not installed on this hub.

This hub serves GraphiQL's files itself (no CDN, so it works without internet). To install them,
run on the hub's server, with the hub's settings (HUB_ASSETS_DIR / HUB_DATA_DIR):

    hub assets install

It downloads the exact versions strawberry's GraphiQL page names from the npm registry (needs npm
and access to a registry or mirror) and verifies them against the page's hashes. On a machine
without npm, copy the assets directory from another hub where `hub assets install` has run.
No restart is needed afterwards: reload this page.

The GraphQL API itself works: send queries to this URL with POST.
"""


async def graphiql_response(request: Request, assets_dir: Path) -> Response:
    """GraphiQL's page for a browser GET of the GraphQL endpoint, or a 503 saying how to install."""
    problems = _cached_problems(assets_dir)
    if problems:
        # The details (paths, hashes) go to the log for the operator, not to any visitor.
        logger.warning("GraphiQL assets not ready in %s:\n%s", assets_dir, "\n".join(problems))
        return PlainTextResponse(_NOT_INSTALLED, status_code=503, headers={"Retry-After": "60"})
    # Honour the app's root path (a hub mounted below a prefix behind a proxy).
    prefix = request.base_url.path.rstrip("/") + ASSETS_PREFIX
    return HTMLResponse(
        render_page(prefix),
        headers={"Content-Security-Policy": _content_security_policy(), "Cache-Control": "no-cache"},
    )
