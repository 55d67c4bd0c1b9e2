"""What every request passes: CORS, path normalization, and "no response before the data is on disk"."""

from __future__ import annotations

from urllib.parse import quote, unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CORS_PREFLIGHT_HEADERS = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"GET, POST, PUT, DELETE, PATCH, OPTIONS"),
    (b"access-control-max-age", b"600"),
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"content-length", b"0"),
]


class CorsMiddleware:
    """Let web pages on any origin call the emulator, as alloy-frontend does from the browser.

    Every origin is allowed and no credentials are involved, so a request without an Origin header
    (SDKs on a server, curl, tests) passes through untouched; Starlette's CORSMiddleware would
    still wrap every response to add a Vary header.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, _ in scope["headers"]:
            if name == b"origin":
                break
        else:  # no Origin: not a browser's cross-origin call
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            requested = headers.get(b"access-control-request-headers")
            allow = [(b"access-control-allow-headers", requested)] if requested else []
            await send({"type": "http.response.start", "status": 200, "headers": CORS_PREFLIGHT_HEADERS + allow})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), (b"access-control-allow-origin", b"*")]
            await send(message)

        await self.app(scope, receive, send_with_cors)


def normalize_path(scope: Scope) -> Scope:
    """The scope with repeated slashes collapsed and a trailing one dropped, for routing without redirects.

    The generated 2024-03 SDK sends `//users` and `/users/`; a redirect would break it. A '/' that
    arrives percent-encoded inside a segment (a username such as "a/b") stays inside that segment,
    kept as %2F (and '%' as %25) for `request.path_param()` to decode.
    """
    raw = scope.get("raw_path")
    if raw is not None and b"//" not in raw and b"%" not in raw and (raw == b"/" or not raw.endswith(b"/")):
        return scope  # nothing to normalize: the common case
    source = raw.decode("utf-8", "replace") if raw else quote(scope["path"])
    segments = [unquote(part) for part in source.split("/") if part]
    path = "/" + "/".join(part.replace("%", "%25").replace("/", "%2F") for part in segments)
    return scope if path == scope["path"] else {**scope, "path": path}


class DurableResponsesMiddleware:
    """Hold every response until the changes made so far are on disk.

    A 200 for a write therefore means the write is durable, and no response can show data that a
    crash could still take back. With nothing waiting to be written, responses pass straight through.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        store = scope["app"].emulator.store

        async def send_when_durable(message: Message) -> None:
            if message["type"] == "http.response.start" and store.has_pending_writes:
                await store.durable()
            await send(message)

        await self.app(scope, receive, send_when_durable)
