"""The people's pages under `/app/`: plain HTML and small ES modules, served from the package, strict CSP.

`/app/` signs in (and makes a first password be changed); `/app/cun/` is the phone page for village
cadres and grid workers; `/app/desk/` the desk page for town coordinators and department analysts;
`/app/tokens/` a person's own API tokens. The pages talk only to `/graphql`, the upload endpoints
and `/app/api/*` (signing in); their GraphQL documents are the `.graphql` files beside them, which a
test validates against every view they run under. Nothing comes from outside the hub: no CDN, no
inline script (the CSP forbids both).
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

PAGES_DIR = Path(__file__).parent / "pages"
GRAPHQL_DIR = PAGES_DIR / "graphql"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-cache",
}
PAGES = {"": "sign-in.html", "cun/": "cun.html", "desk/": "desk.html", "tokens/": "tokens.html"}


class _Static(StaticFiles):
    async def get_response(self, path: str, scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(HEADERS)
        if path.endswith(".graphql"):
            response.headers["content-type"] = "text/plain; charset=utf-8"
        return response


def _page(name: str):
    async def serve(request: Request) -> Response:
        return FileResponse(PAGES_DIR / name, headers=HEADERS, media_type="text/html; charset=utf-8")

    return serve


async def _to_slash(request: Request) -> RedirectResponse:
    return RedirectResponse(request.url.path + "/")


def page_routes() -> list[BaseRoute]:
    return [
        Route("/app", _to_slash),
        *[Route(f"/app/{path}", _page(name), methods=["GET"]) for path, name in PAGES.items()],
        *[Route(f"/app/{path.rstrip('/')}", _to_slash) for path in PAGES if path],
        Mount("/app/static", _Static(directory=PAGES_DIR), name="pages"),
    ]
