"""Which routes web pages on other origins may call (CORS), and the Private Network Access preflight.

A web page on any site can send requests to the emulator on localhost; CORS decides which answers it
may read and which requests a preflight lets through. Only the routes the vendor's browser SDK calls
are open (alloy-frontend 2.1.1 sends `x-alloy-user-token` from the customer's pages: reference §6).
Everything else, the control API /_mock above all, gets no CORS headers, and its preflights are refused,
so a page can neither read it nor send it anything but what a plain form can (http/control.py refuses
those writes).
"""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..config import API_VERSIONS
from .middleware import normalize_path

# alloy-frontend 2.1.1's calls (reference §6), under every version prefix.
FRONTEND_ROUTES: dict[str, tuple[str, ...]] = {
    "/workflows": ("GET",),
    "/integrations": ("GET",),
    "/workflows/activate": ("PUT",),
    "/workflows/deactivate": ("PUT",),
}

# Pages and scripts the emulator hosts for the browser (http/modal.py), by path. Their JSON endpoints
# (/forge-install/api/...) are called by the pages themselves, from the emulator's origin: no CORS there.
HOSTED_PAGES: dict[str, tuple[str, ...]] = {
    "/forge-install": ("GET",),
    "/authenticate-app": ("GET",),
    "/embedded-install": ("GET",),
    "/scripts/embedded.js": ("GET",),
}

# The allow-list: path (after normalization) -> the methods a page on another origin may use.
BROWSER_ROUTES: dict[str, tuple[str, ...]] = {
    **{f"/{version}{path}": methods for version in API_VERSIONS for path, methods in FRONTEND_ROUTES.items()},
    **HOSTED_PAGES,
}

# The request headers those calls send besides the CORS-safelisted ones.
ALLOWED_HEADERS = b"Content-Type, x-alloy-user-token"
PREFLIGHT_MAX_AGE = b"600"

ALLOW_ANY_ORIGIN = (b"access-control-allow-origin", b"*")  # no cookies are involved: any origin, no credentials


def refused_preflight(path: str) -> bytes:
    message = (
        f"Cross-origin requests to {path} are not allowed: CORS is open only on the routes alloy-frontend "
        "calls (README: Security)"
    )
    return orjson.dumps({"message": message})


class CorsMiddleware:
    """CORS and Private Network Access for the routes in BROWSER_ROUTES, nothing anywhere else.

    A request without an Origin header (SDKs on a server, curl, tests) passes through untouched, at
    no cost. On an allowed route a preflight gets the route's methods and ALLOWED_HEADERS (and the
    Private Network Access grant a page on a public site needs to reach localhost), and every answer,
    errors included, `Access-Control-Allow-Origin: *`. Elsewhere a preflight gets a JSON 403 with no
    CORS headers, which the browser treats as a refusal, and other requests pass through as they are.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not has_origin(scope):  # not a browser's cross-origin call
            await self.app(scope, receive, send)
            return
        path = normalize_path(scope)["path"]
        methods = BROWSER_ROUTES.get(path)
        headers = dict(scope["headers"])
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            if methods is None:
                await _send(send, 403, [(b"content-type", b"application/json")], refused_preflight(path))
                return
            grant = [
                ALLOW_ANY_ORIGIN,
                (b"access-control-allow-methods", ", ".join(methods).encode()),
                (b"access-control-allow-headers", ALLOWED_HEADERS),
                (b"access-control-max-age", PREFLIGHT_MAX_AGE),
            ]
            if headers.get(b"access-control-request-private-network", b"").lower() == b"true":
                grant.append((b"access-control-allow-private-network", b"true"))
            await _send(send, 200, grant, b"")
            return
        if methods is None:
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), ALLOW_ANY_ORIGIN]
            await send(message)

        await self.app(scope, receive, send_with_cors)


def has_origin(scope: Scope) -> bool:
    """Whether the request carries an Origin header (only browsers' cross-origin calls need CORS)."""
    for name, _ in scope["headers"]:  # noqa: SIM110 (any() over a generator costs a frame, on every request)
        if name == b"origin":
            return True
    return False


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
