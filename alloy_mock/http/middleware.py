"""ASGI middleware: path normalization and "no response before the data is on disk"."""

from __future__ import annotations

from urllib.parse import quote, unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class NormalizePathMiddleware:
    """Collapse repeated slashes and drop a trailing one before routing, without redirecting.

    The generated 2024-03 SDK sends `//users` and `/users/`; a redirect would break it. A '/' that
    arrives percent-encoded inside a segment (a username such as "a/b") stays inside that segment,
    kept as %2F (and '%' as %25) for `request.path_param()` to decode.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = scope.get("raw_path")
            source = raw.decode("utf-8", "replace") if raw else quote(scope["path"])
            segments = [unquote(part) for part in source.split("/") if part]
            path = "/" + "/".join(part.replace("%", "%25").replace("/", "%2F") for part in segments)
            if path != scope["path"]:
                scope = {**scope, "path": path}
        await self.app(scope, receive, send)


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
        store = scope["app"].state.emulator.store

        async def send_when_durable(message: Message) -> None:
            if message["type"] == "http.response.start" and store.has_pending_writes:
                await store.durable()
            await send(message)

        await self.app(scope, receive, send_when_durable)
