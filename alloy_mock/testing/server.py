"""`BackgroundServer`: the emulator over real HTTP on a free local port, served from a daemon thread.

Its `handle()` helpers do not go through a socket: each call is handed to the server's event loop and
served there by the same app (asgi.call_from_thread), which costs a fraction of a round trip over HTTP.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from urllib.parse import urlsplit

import uvicorn

from ..app import AlloyMockApp, create_app
from ..cli import bind, url_of
from ..config import Settings
from ..http.protocol import http_protocol
from .asgi import Answer, Headers, call_from_thread
from .client import AlloyMock
from .inprocess import json_sender, scope_for

READY_TIMEOUT = 30.0  # seconds for the first /health answer (it waits in the listen backlog meanwhile)
STOP_TIMEOUT = 10.0
CALL_TIMEOUT = 60.0  # seconds a helper call may take on the server's loop (at most a 60 s executions wait)


class ServerError(RuntimeError):
    """The background server did not start, or did not stop."""


class _Server(uvicorn.Server):
    """uvicorn's server, keeping the event loop it serves on (for the helpers' calls)."""

    loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().serve(sockets)


class BackgroundServer:
    """uvicorn serving `create_app(settings)` on `host`, port 0 (a free one), in a daemon thread.

    `start()` returns once /health has answered: the socket listens before the thread starts, so the
    first request simply waits in the backlog until the server takes it. uvicorn installs no signal
    handlers off the main thread and, with `log_config=None`, leaves the logging setup alone.
    """

    def __init__(self, settings: Settings | None = None, host: str = "127.0.0.1") -> None:
        self.settings = settings or Settings()
        self.host = host
        self.url = ""
        self.app: AlloyMockApp | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._failure: BaseException | None = None

    def start(self) -> BackgroundServer:
        if self._thread is not None:
            raise ServerError("the server is already started")
        sock = bind(self.host, 0)
        try:
            app = create_app(self.settings)
        except BaseException:
            sock.close()
            raise
        config = uvicorn.Config(
            app,
            http=http_protocol(self.settings),  # the limits and JSON errors of `serve`
            log_config=None,
            access_log=False,  # alloy-mock's own access log, when settings.access_log is on
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
        server = _Server(config)
        self.app, self._server, self._socket, self.url = app, server, sock, url_of(sock)
        self._thread = threading.Thread(target=self._run, args=(server, sock), name="alloy-mock-server", daemon=True)
        self._thread.start()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _run(self, server: _Server, sock: socket.socket) -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # reported by start() or stop()
            self._failure = exc

    def _wait_ready(self) -> None:
        try:
            direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via an HTTP_PROXY
            with direct.open(f"{self.url}/health", timeout=READY_TIMEOUT) as response:
                if response.status == 200:
                    return
                problem = f"/health answered {response.status}"
        except (urllib.error.URLError, OSError) as exc:
            problem = str(getattr(exc, "reason", exc))
        detail = f" ({self._failure!r})" if self._failure else ""
        raise ServerError(f"alloy-mock did not start on {self.url}: {problem}{detail}")

    def stop(self) -> None:
        """Ask the server to exit, wait for its thread, and close the socket. Safe to call twice."""
        server, thread, sock = self._server, self._thread, self._socket
        self._server, self._thread, self._socket = None, None, None
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(STOP_TIMEOUT)
        if sock is not None:
            sock.close()
        if thread is not None and thread.is_alive():
            raise ServerError(f"alloy-mock on {self.url} did not stop within {STOP_TIMEOUT} s")

    def request(self, method: str, url: str, headers: Headers, body: bytes) -> Answer:
        """Serve one request on the server's event loop, without a socket (`url` absolute, e.g. self.url + path)."""
        server = self._server
        if self.app is None or server is None or server.loop is None:
            raise ServerError("the server is not running")
        scope = scope_for(method, urlsplit(url), headers)
        return call_from_thread(self.app, scope, body, server.loop, CALL_TIMEOUT)

    def reset_all(self) -> None:
        """What POST /_mock/reset (no namespace) does, on the server's loop and durable before it returns."""
        server = self._server
        if self.app is None or server is None or server.loop is None:
            raise ServerError("the server is not running")
        emulator = self.app.emulator

        async def reset() -> None:
            emulator.reset_all()
            await emulator.store.durable()  # as the app's middleware does before it answers

        asyncio.run_coroutine_threadsafe(reset(), server.loop).result(CALL_TIMEOUT)

    def handle(self) -> AlloyMock:
        """An `AlloyMock` for this server: its URLs are the server's, its helpers call the app on the server's loop."""
        return AlloyMock(self.url, self.settings, json_sender(self.request), self.reset_all)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


@contextmanager
def serve(settings: Settings | None = None) -> Iterator[AlloyMock]:
    """The emulator on a free local port for as long as the block runs, as an `AlloyMock` handle."""
    with BackgroundServer(settings) as server:
        yield server.handle()
