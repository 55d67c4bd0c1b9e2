"""One request to the ASGI app without a socket: the scope uvicorn builds, and the answer as uvicorn sends it.

The app's coroutine is stepped on the calling thread. Nearly every request never waits on anything
(the store is in memory, the handlers are plain code), so it finishes within that one step: no event
loop turn, no task, no thread. A request that does wait (a delay fault, an executions wait, a write to a
database file) goes on as a Task on an event loop, from where it stopped.

What the caller gets is what uvicorn would send for the same request: its `date` and `server` headers
before the app's, `connection: close` and `transfer-encoding: chunked` where it adds them, no body for
a HEAD, and its text/plain 500 for an app that fails (tests/test_inprocess.py compares the two). A
connection fault, which leaves no answer, is raised as ConnectionFault (the interception turns it into
what each client raises).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any
from urllib.parse import unquote

from starlette.types import ASGIApp, Message, Scope

from ..http.faults import CONNECTION_FAULT, ConnectionFault

Headers = list[tuple[bytes, bytes]]

# What uvicorn sends when the app fails before answering (uvicorn.protocols.http.*_impl.send_500_response).
_FAILED_HEADERS: Headers = [
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"content-length", b"21"),
    (b"connection", b"close"),
]
_FAILED_BODY = b"Internal Server Error"
_SERVER_HEADER = (b"server", b"uvicorn")  # uvicorn's default (server_header=True), as `serve` and the fixtures run it
_NO_BODY_STATUSES = (204, 304)
_logger = logging.getLogger("uvicorn.error")  # where uvicorn logs "Exception in ASGI application"


@dataclass(frozen=True)
class Answer:
    """A response as the client receives it: status, headers as sent (lower-case names), body (de-chunked)."""

    status: int
    headers: Headers
    body: bytes


class _Date:
    """The `date` header, formatted once a second as uvicorn does (it keeps one per server tick)."""

    def __init__(self) -> None:
        self._second = -1
        self._header = (b"date", b"")

    def header(self) -> tuple[bytes, bytes]:
        second = int(time.time())
        if second != self._second:
            self._second = second
            self._header = (b"date", formatdate(second, usegmt=True).encode("latin-1"))
        return self._header


_date = _Date()


class Exchange:
    """One request to the app: its receive and send (the body in one message), and the answer collected."""

    __slots__ = ("_body", "_broken", "_chunks", "_close", "_ended", "_headers", "_method", "_status", "complete")

    def __init__(self, scope: Scope, body: bytes) -> None:
        scope["extensions"] = {CONNECTION_FAULT: self._break_connection}
        self._broken: ConnectionFault | None = None
        self._method: str = scope["method"]
        self._close = _asks_to_close(scope["headers"])
        self._body: bytes | None = body
        self._status = 0
        self._headers: Headers = []
        self._chunks: list[bytes] = []
        self._ended: asyncio.Future[None] | None = None
        self.complete = False

    async def receive(self) -> Message:
        body, self._body = self._body, None
        if body is not None:
            return {"type": "http.request", "body": body, "more_body": False}
        # The request has been read: as uvicorn does, the next message is the disconnect, once answered.
        if not self.complete and self._broken is None:
            self._ended = asyncio.get_running_loop().create_future()
            await self._ended
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start" and not self._status:
            self._status = message["status"]
            self._headers = self._as_uvicorn_sends(message.get("headers", ()))
        elif kind == "http.response.body" and self._status and not self.complete:
            if self._method != "HEAD":
                self._chunks.append(message.get("body", b""))
            self.complete = not message.get("more_body", False)
            if self.complete and self._ended is not None and not self._ended.done():
                self._ended.set_result(None)
        else:
            raise RuntimeError(f"Unexpected ASGI message {kind!r} sent")

    def _break_connection(self, kind: str, data: bytes) -> None:
        """What the server's protocol does to the socket, noted for answer() to raise."""
        self._broken = ConnectionFault(kind, data)
        if self._ended is not None and not self._ended.done():
            self._ended.set_result(None)  # a receive() waiting for the disconnect has it

    def _as_uvicorn_sends(self, headers: Any) -> Headers:
        """uvicorn's defaults, the app's headers, then what uvicorn adds (httptools_impl.RequestResponseCycle.send)."""
        sent: Headers = [_date.header(), _SERVER_HEADER]
        framed = closing = False
        for name, value in headers:
            name = name.lower()
            if name == b"content-length" or (name == b"transfer-encoding" and value.lower() == b"chunked"):
                framed = True
            elif name == b"connection" and _has_close(value):
                closing = True
            sent.append((name, value))
        if self._close and not closing:
            sent.append((b"connection", b"close"))
        if not framed and self._method != "HEAD" and self._status not in _NO_BODY_STATUSES:
            sent.append((b"transfer-encoding", b"chunked"))
        return sent

    def answer(self, failure: BaseException | None = None) -> Answer:
        """What the client gets; `failure` is what the app raised (uvicorn logs it, and sends a 500 if it still can).

        Raises ConnectionFault when a fault broke the connection instead of answering.
        """
        if self._broken is not None:
            raise self._broken
        if failure is not None:
            _logger.error("Exception in ASGI application\n", exc_info=failure)
        elif not self._status:
            _logger.error("ASGI callable returned without starting response.")
        if not self._status:
            return Answer(500, [_date.header(), _SERVER_HEADER, *_FAILED_HEADERS], _FAILED_BODY)
        if not self.complete:  # uvicorn closes the connection in the middle of the response
            raise ConnectionError("alloy-mock: the app did not complete its response (see the error logged)")
        return Answer(self._status, self._headers, b"".join(self._chunks))


def _has_close(value: bytes) -> bool:
    return b"close" in [token.strip() for token in value.lower().split(b",")]


def _asks_to_close(headers: Headers) -> bool:
    return any(name == b"connection" and _has_close(value) for name, value in headers)


def scope_of(method: str, scheme: str, server: tuple[str, int], target: bytes, headers: Headers) -> Scope:
    """The scope uvicorn's httptools protocol builds (`target`: path and query as sent; names lower-case)."""
    raw_path, _, query = target.partition(b"?")
    path = raw_path.decode("latin-1")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": server,
        "client": ("127.0.0.1", 0),
        "scheme": scheme,
        "root_path": "",
        "headers": headers,
        "state": {},
        "method": method,
        "path": unquote(path) if "%" in path else path,
        "raw_path": raw_path,
        "query_string": query,
    }


# -- driving the app's coroutine -------------------------------------------------------------------------


Steps = Generator[Any, Any, None]  # what an awaitable's __await__() gives: send() it on, throw() into it


class _Resume:
    """What lets a Task go on with an awaitable that was stepped by hand and stopped at `waiting`."""

    def __init__(self, steps: Steps, waiting: Any) -> None:
        self._steps = steps
        self._waiting = waiting

    def __await__(self) -> Steps:
        steps, waiting = self._steps, self._waiting
        while True:
            try:
                sent = yield waiting  # the Task waits on this future as if the coroutine had yielded it to the Task
            except BaseException as exc:  # a cancellation: the coroutine's to handle
                step = functools.partial(steps.throw, exc)
            else:
                step = functools.partial(steps.send, sent)
            try:
                waiting = step()
            except StopIteration:
                return


async def _resumed(steps: Steps, waiting: Any) -> None:
    await _Resume(steps, waiting)


class Call:
    """One request, started by hand on the calling thread; `go_on()` hands it to a loop if it waits."""

    __slots__ = ("_context", "_steps", "_waiting", "exchange", "failure")

    def __init__(self, app: ASGIApp, scope: Scope, body: bytes) -> None:
        self.exchange = Exchange(scope, body)
        self._steps: Steps = app(scope, self.exchange.receive, self.exchange.send).__await__()
        self._context = contextvars.copy_context()  # as uvicorn's task per request: the app's context vars stay its own
        self._waiting: Any = None
        self.failure: BaseException | None = None

    def start(self) -> bool:
        """Run the app up to its first wait, with the running loop as it is; True if it has finished."""
        try:
            self._waiting = self._context.run(self._steps.send, None)
        except StopIteration:
            return True
        except Exception as exc:
            self.failure = exc
            return True
        return False

    def go_on(self, loop: asyncio.AbstractEventLoop) -> asyncio.Task[None]:
        """The rest of the request, as a Task on `loop` (the loop that was running when it started)."""
        # A task runs in a copy of the context it is created in: this request's own (create_task's
        # context= argument is Python 3.11's).
        return self._context.run(loop.create_task, _resumed(self._steps, self._waiting))


def call(app: ASGIApp, scope: Scope, body: bytes, loop: asyncio.AbstractEventLoop) -> Answer:
    """Serve one request on the calling thread and return the answer.

    `loop` is a private loop that is not running. It is the running loop while the app runs (what the app
    makes to wait on belongs to it), and a request that waits finishes on it, with the caller blocked
    meanwhile as on a socket; a caller inside async code blocks its own loop, as with any blocking call.
    """
    request = Call(app, scope, body)
    outer = asyncio.events._get_running_loop()
    asyncio.events._set_running_loop(loop)  # asyncio's hook for loop implementations
    try:
        done = request.start()
    finally:
        asyncio.events._set_running_loop(outer)
    if not done:
        asyncio.events._set_running_loop(None)  # run_until_complete refuses to run inside another loop
        try:
            loop.run_until_complete(request.go_on(loop))
        except Exception as exc:
            request.failure = exc
        finally:
            asyncio.events._set_running_loop(outer)
    return request.exchange.answer(request.failure)


async def call_async(app: ASGIApp, scope: Scope, body: bytes) -> Answer:
    """Serve one request within the caller's task, on its loop (a request that waits lets that loop run on)."""
    exchange = Exchange(scope, body)
    try:
        await app(scope, exchange.receive, exchange.send)
    except Exception as exc:
        return exchange.answer(exc)
    return exchange.answer()


def call_from_thread(
    app: ASGIApp, scope: Scope, body: bytes, loop: asyncio.AbstractEventLoop, timeout: float
) -> Answer:
    """Serve one request on `loop`, which runs in another thread (a background server's), and wait for the answer.

    One hand-over each way: the request starts in a callback on that loop and, unless it waits, ends there.
    """
    finished = threading.Lock()
    finished.acquire()
    box: list[Call] = []

    def begin() -> None:
        request = Call(app, scope, body)
        box.append(request)
        if request.start():
            finished.release()
            return
        request.go_on(loop).add_done_callback(lambda task: end(request, task))

    def end(request: Call, task: asyncio.Task[None]) -> None:
        request.failure = asyncio.CancelledError() if task.cancelled() else task.exception()
        finished.release()

    loop.call_soon_threadsafe(begin)
    if not finished.acquire(timeout=timeout):
        raise TimeoutError(f"alloy-mock: no answer from the server's event loop within {timeout} s")
    return box[0].exchange.answer(box[0].failure)
