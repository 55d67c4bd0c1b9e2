"""ASGI middleware: path normalization and "no response before the data is on disk"."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..config import API_VERSIONS
from ..control.journal import BODY_LIMIT, RecordedRequest
from .responses import JSONResponse

if TYPE_CHECKING:
    from ..emulator import Emulator

VERSION_PREFIXES = tuple(f"/{version}/" for version in API_VERSIONS)
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


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
        headers = dict(scope["headers"])
        if b"origin" not in headers:
            await self.app(scope, receive, send)
            return
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
            if raw is not None and b"//" not in raw and b"%" not in raw and (raw == b"/" or not raw.endswith(b"/")):
                await self.app(scope, receive, send)  # nothing to normalize: the common case
                return
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
        store = scope["app"].emulator.store

        async def send_when_durable(message: Message) -> None:
            if message["type"] == "http.response.start" and store.has_pending_writes:
                await store.durable()
            await send(message)

        await self.app(scope, receive, send_when_durable)


class JournalAndFaultsMiddleware:
    """For vendor API requests: apply injected faults, and record the exchange in the request journal.

    Costs nothing when the journal is off and no fault is set.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(VERSION_PREFIXES):
            await self.app(scope, receive, send)
            return
        em = scope["app"].emulator
        if not em.journal.enabled and not em.faults:
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        api_path = path[path.index("/", 1) :]
        namespace = _namespace_of(em, scope)
        fault = em.faults.take(method, api_path, namespace) if em.faults else None
        entry = RecordedRequest(
            id=em.journal.next_id(),
            at=em.clock.now(),
            method=method,
            path=path,
            query=scope.get("query_string", b"").decode("latin-1"),
            namespace=namespace,
            fault=fault.id if fault is not None else None,
        )
        started = time.perf_counter()
        # The request body is read here (its first BODY_LIMIT bytes) and handed on unchanged, so the
        # journal shows it even when nothing downstream reads it: a fault, a 401 before the handler.
        request_body: list[bytes] = []
        prefetched: list[Message] = []
        if method in BODY_METHODS:
            size, more = 0, True
            while more and size < BODY_LIMIT:
                message = await receive()
                prefetched.append(message)
                if message["type"] != "http.request":
                    break
                request_body.append(message.get("body", b""))
                size += len(request_body[-1])
                more = message.get("more_body", False)
        response_body: list[bytes] = []

        async def recording_receive() -> Message:
            if prefetched:
                return prefetched.pop(0)
            return await receive()

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.status = message["status"]
            else:
                response_body.append(message.get("body", b""))
            await send(message)

        try:
            if fault is not None and fault.delay_ms:
                await asyncio.sleep(fault.delay_ms / 1000)  # the latency asked for, not a wait for readiness
            if fault is not None and fault.status is not None:
                answer = JSONResponse(fault.body, status_code=fault.status, headers=fault.headers)
                await answer(scope, recording_receive, recording_send)
            else:
                await self.app(scope, recording_receive, recording_send)
        finally:
            # Until the app answers, the status stays 500: the server error handler answers that.
            entry.duration_ms = (time.perf_counter() - started) * 1000
            entry.request_body = _clip(request_body)
            entry.response_body = _clip(response_body)
            em.journal.record(entry)


def _clip(chunks: list[bytes]) -> bytes:
    """At most BODY_LIMIT bytes of a body (a single chunk under the limit is kept as it is)."""
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    return body[:BODY_LIMIT]


def _namespace_of(em: Emulator, scope: Scope) -> str | None:
    """The namespace a request's API key opens ("user-token" for the frontend header), for the journal."""
    user_token = False
    for name, value in scope["headers"]:
        if name == b"authorization":  # the key wins, as in the handlers
            found = em.keys.namespace_for(value.decode("latin-1"))
            return found.id if found is not None else None
        user_token = user_token or name == b"x-alloy-user-token"
    return "user-token" if user_token else None
