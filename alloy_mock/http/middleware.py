"""What every request passes: path normalization, and "no response before the data is on disk" (CORS: cors.py)."""

from __future__ import annotations

from urllib.parse import quote, unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def normalize_path(scope: Scope) -> Scope:
    """The scope with repeated slashes collapsed and a trailing one dropped, for routing without redirects.

    The generated 2024-03 SDK sends `//users` and `/users/`; a redirect would break it. A '/' that
    arrives percent-encoded inside a segment (a username such as "a/b") stays inside that segment,
    kept as %2F (and '%' as %25) for `request.path_param()` to decode.
    """
    raw = scope.get("raw_path")
    # find(), not `in`: for bytes, `in` first tries its operand as an integer and raises and formats a TypeError.
    if raw is not None and raw.find(b"//") < 0 and raw.find(b"%") < 0 and (raw == b"/" or not raw.endswith(b"/")):
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
