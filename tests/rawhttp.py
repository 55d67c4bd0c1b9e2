"""Raw HTTP/1.1 for the protocol tests: bytes sent as they are, answers read off the wire.

Two ways to reach alloy-mock's connection protocol (alloy_mock/http/protocol.py):
- `RawConnection`: a plain socket to a real server, for what needs the network (limits, timeouts);
- `feed()`: the protocol driven in-process over a recording transport, with the bytes cut into
  whatever pieces a test chooses (deterministic partial reads, no network).
"""

from __future__ import annotations

import asyncio
import io
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import orjson
import uvicorn
from starlette.types import Receive, Scope, Send
from uvicorn.server import ServerState

from alloy_mock.config import Settings
from alloy_mock.http.protocol import http_protocol

TIMEOUT = 10.0  # seconds a socket waits for an answer before the test fails


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)

    def __str__(self) -> str:
        return f"{self.status} {self.headers} {self.body[:300]!r}"


def read_answer(stream: BinaryIO) -> Answer | None:
    """One response from `stream` (Content-Length framed, as alloy-mock answers), or None at EOF."""
    status_line = stream.readline()
    if not status_line:
        return None
    _, status, _ = status_line.split(b" ", 2)
    headers: dict[str, str] = {}
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode("ascii")] = value.strip().decode("latin-1")
    return Answer(int(status), headers, stream.read(int(headers.get("content-length", "0"))))


def read_answers(data: bytes) -> list[Answer]:
    stream = io.BytesIO(data)
    answers = []
    while (answer := read_answer(stream)) is not None:
        answers.append(answer)
    return answers


def assert_refused(answer: Answer | None, status: int, message_part: str = "") -> str:
    """A JSON {"message"} answer with `status` that closes the connection; returns the message."""
    assert answer is not None, "the server closed the connection without an answer"
    assert answer.status == status, str(answer)
    assert answer.headers["content-type"] == "application/json", str(answer)
    assert answer.headers["connection"] == "close", str(answer)
    body = answer.json()
    assert isinstance(body, dict) and set(body) == {"message"} and isinstance(body["message"], str), str(answer)
    assert message_part in body["message"], str(answer)
    return str(body["message"])


class RawConnection:
    """A socket to `url` (http://host:port) that sends raw bytes and reads answers."""

    def __init__(self, url: str, timeout: float = TIMEOUT) -> None:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.stream = self.sock.makefile("rb")

    def send(self, data: bytes) -> RawConnection:
        self.sock.sendall(data)
        return self

    def answer(self) -> Answer | None:
        return read_answer(self.stream)

    def closed_by_server(self) -> bool:
        """True once the server has closed the connection (EOF or reset), with nothing more to read."""
        try:
            return self.stream.read(1) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.stream.close()
        self.sock.close()

    def __enter__(self) -> RawConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- the protocol in-process ----------------------------------------------------------------------


class RecordingTransport(asyncio.Transport):
    """What the protocol writes, whether it closed, and whether it asked to stop reading."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False
        self.reading_paused = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True
        self.closed = True

    def pause_reading(self) -> None:
        self.reading_paused = True

    def resume_reading(self) -> None:
        self.reading_paused = False

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: object = None) -> object:
        return {"peername": ("127.0.0.1", 1234), "sockname": ("127.0.0.1", 8000)}.get(name, default)


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    """An ASGI app that answers what it received: method, path, raw path, query, body."""
    body, more = b"", True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        body += message.get("body", b"")
        more = message.get("more_body", False)
    content = orjson.dumps(
        {
            "method": scope["method"],
            "path": scope["path"],
            "rawPath": scope["raw_path"].decode("latin-1"),
            "query": scope["query_string"].decode("latin-1"),
            "body": body.decode("latin-1"),
        }
    )
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(content))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": content})


@dataclass
class Fed:
    """What the protocol wrote back for the pieces it was fed, and whether it closed the connection."""

    data: bytes
    closed: bool
    timing: bool  # whether the read timeout is still running (a request not yet whole)
    answers: list[Answer] = field(init=False)

    def __post_init__(self) -> None:
        self.answers = read_answers(self.data)


async def run_until(done: Callable[[], bool], what: str) -> None:
    """Run the loop until `done()`: readiness, not time (each pass yields to the loop once; the
    bound only stops a hung test)."""
    for _ in range(10_000):
        if done():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"still waiting for {what}")


async def settle(state: ServerState) -> None:
    """Run the loop until every request task has finished (or waits for bytes that will not come, as an
    incomplete request's does: then after a bounded number of turns) and their writes are flushed."""
    for _ in range(1000):
        if not state.tasks:
            break
        await asyncio.sleep(0)
    await asyncio.sleep(0)  # the flush of the last turn's writes


async def feed_async(pieces: Iterable[bytes], settings: Settings | None = None, app: Any = echo) -> Fed:
    config = uvicorn.Config(app, log_config=None, lifespan="off")
    config.load()
    state = ServerState()
    protocol = http_protocol(settings)(
        config=config, server_state=state, app_state={}, _loop=asyncio.get_running_loop()
    )
    transport = RecordingTransport()
    protocol.connection_made(transport)
    for piece in pieces:
        if transport.closed:
            break
        if transport.reading_paused:  # a real transport delivers nothing more until reading resumes
            await run_until(lambda: not transport.reading_paused, "reading to resume")
        protocol.data_received(piece)
    await settle(state)
    fed = Fed(b"".join(transport.writes), transport.closed, protocol._read_timer is not None)
    protocol.connection_lost(None)
    await settle(state)  # the requests still waiting for their bodies now learn that the client left
    return fed


def feed(pieces: Iterable[bytes], settings: Settings | None = None, app: Any = echo) -> Fed:
    """Feed `pieces` to a new connection, one data_received() each, and return what it answered."""
    return asyncio.run(feed_async(pieces, settings, app))
