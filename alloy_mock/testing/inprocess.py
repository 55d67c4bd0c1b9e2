"""`InProcessEmulator`: the app without a port, each request served on the caller's own thread (asgi.py).

The emulator's state is made to be touched by one event loop at a time, as in the server, where a
change between two awaits is atomic. Here requests come from any thread, so a lock stands in for that
one loop: a request holds it while it runs, and other threads wait their turn. Async requests on one
loop hold it together (they interleave at their awaits, as on the server's loop).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import SplitResult, urlsplit

import orjson
from starlette.types import Scope

from ..app import AlloyMockApp, create_app
from ..config import Settings
from ..emulator import Emulator
from ..http.request_line import percent_encode
from .asgi import Answer, Headers, call, call_async, scope_of
from .client import AlloyMock, Send

VENDOR_ROOT = "https://embedded.runalloy.com"
DEFAULT_PORTS = {"http": 80, "https": 443}


class InProcessEmulator:
    """The emulator app, ready on start() and closed by close() (both also as a context manager)."""

    def __init__(self, settings: Settings | None = None, emulator: Emulator | None = None) -> None:
        self.settings = emulator.settings if emulator is not None else (settings or Settings())
        self._given = emulator
        self._app: AlloyMockApp | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # Reentrant: async requests of one thread hold it together, and so does a sync call made meanwhile.
        self._lock = threading.RLock()

    def start(self) -> InProcessEmulator:
        if self._app is not None:
            raise RuntimeError("the in-process emulator is already started")
        emulator = self._given if self._given is not None else Emulator.open(self.settings)
        self._app = create_app(self.settings, emulator)  # an emulator passed in stays its owner's to close
        self._loop = asyncio.new_event_loop()  # where requests that wait finish (asgi.call)
        return self

    def close(self) -> None:
        app, loop = self._app, self._loop
        self._app, self._loop = None, None
        if loop is not None:
            loop.close()
        if app is not None and self._given is None:
            app.emulator.close()

    def __enter__(self) -> InProcessEmulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def app(self) -> AlloyMockApp:
        if self._app is None:
            raise RuntimeError("the in-process alloy-mock emulator is not running")
        return self._app

    def request(self, method: str, url: str, headers: Headers, body: bytes) -> Answer:
        """Serve one request (`url` absolute, `headers` as sent, names in any case) and return the answer."""
        return self.serve(scope_for(method, urlsplit(url), headers), body)

    def serve(self, scope: Scope, body: bytes) -> Answer:
        """Serve the request of an ASGI scope (asgi.scope_of) and its body."""
        app, loop = self.app, self._loop
        assert loop is not None
        with self._lock:
            return call(app, scope, body, loop)

    async def serve_async(self, scope: Scope, body: bytes) -> Answer:
        """`serve()` for async code: the request runs in the caller's task, and a wait lets its loop run on."""
        app = self.app
        with self._lock:  # held across the awaits by this thread's requests; another thread's wait their turn
            return await call_async(app, scope, body)

    def reset_all(self) -> None:
        """What POST /_mock/reset (no namespace) does, under the lock a request holds."""
        app = self.app
        outer = asyncio.events._get_running_loop()
        asyncio.events._set_running_loop(None)  # no loop: the store makes the write durable at once, here
        try:
            with self._lock:
                app.emulator.reset_all()
        finally:
            asyncio.events._set_running_loop(outer)

    def handle(self) -> AlloyMock:
        """An `AlloyMock` whose helpers call this emulator directly; URLs are the vendor's."""
        return AlloyMock(VENDOR_ROOT, self.settings, json_sender(self.request), self.reset_all)


def json_sender(request: Callable[[str, str, Headers, bytes], Answer]) -> Send:
    """The `Send` of an `AlloyMock` over `request` (a JSON body, its length, the helper's headers)."""

    def send(method: str, url: str, body: Any, headers: Mapping[str, str]) -> tuple[int, bytes]:
        content = b"" if body is None else orjson.dumps(body)
        sent = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
        if content:
            sent.append((b"content-length", b"%d" % len(content)))
        answer = request(method, url, sent, content)
        return answer.status, answer.body

    return send


def scope_for(method: str, parts: SplitResult, headers: Headers) -> Scope:
    """The scope of a request to the URL `parts` with `headers` (a Host header first when the client left it
    to the connection, as http.client does)."""
    scheme, host = parts.scheme or "http", parts.hostname or ""
    port = parts.port or DEFAULT_PORTS.get(scheme, 80)
    lowered = [(name.lower(), value) for name, value in headers]
    if not any(name == b"host" for name, _ in lowered):
        lowered.insert(0, (b"host", parts.netloc.rpartition("@")[2].encode("idna")))
    target = ((parts.path or "/") + (f"?{parts.query}" if parts.query else "")).encode("utf-8")
    if not target.isascii():  # raw non-ASCII, as some clients send it: what the server makes of it
        target = percent_encode(target)
    return scope_of(method, scheme, (host, port), target, lowered)
