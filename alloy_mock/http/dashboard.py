"""The web dashboard at /_mock/ui: a static page and its assets, read from the package (alloy_mock/pages/dashboard/).

The page and assets hold no data, so they are served without the admin token (they are routed before the
control API's mount in app.py, whose guard still covers every other /_mock path). The page's scripts call the
control API like any client: `Authorization: Bearer <admin token>` from the page's login field, and
`Content-Type: application/json` on writes. The live Requests page polls GET /_mock/requests?since=: the vendor
API's hot path does no work for the dashboard.

No external asset (CI machines are offline); the Content-Security-Policy allows only this origin, no inline
script or style, and no framing. The routes get no CORS headers (http/cors.py allows none under /_mock).
"""

from __future__ import annotations

from importlib import resources

from starlette.requests import Request
from starlette.responses import Response

from ..domain.errors import brief
from .errors import ApiError
from .request import path_param
from .routing import route

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
SHELL = "index.html"
# The dashboard's files, read once (they ship in the wheel with the package), by name.
ASSETS: dict[str, tuple[bytes, str]] = {
    entry.name: (entry.read_bytes(), MEDIA_TYPES[suffix])
    for entry in (resources.files("alloy_mock") / "pages" / "dashboard").iterdir()
    if (suffix := "." + entry.name.rpartition(".")[2]) in MEDIA_TYPES and entry.name != SHELL
}
SHELL_BODY = (resources.files("alloy_mock") / "pages" / "dashboard" / SHELL).read_bytes()
CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


async def shell(request: Request) -> Response:
    return Response(SHELL_BODY, media_type=MEDIA_TYPES[".html"], headers=HEADERS)


async def dashboard_asset(request: Request) -> Response:
    name = path_param(request, "name")
    found = ASSETS.get(name)
    if found is None:
        raise ApiError(404, f"No dashboard asset {brief(name)!r}")
    body, media_type = found
    return Response(body, media_type=media_type, headers=HEADERS)


routes = [
    route("/_mock/ui", GET=shell),
    route("/_mock/ui/assets/{name}", GET=dashboard_asset),
]
