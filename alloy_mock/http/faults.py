"""Faults below the answer: a connection broken instead of answered, an answer dribbled out in chunks.

The app cannot close a socket: the server's protocol does that (protocol.py), through an ASGI scope
extension, `scope["extensions"][CONNECTION_FAULT]`, a callable taking the fault's name and the bytes to
write before closing. The in-process exchange (testing/asgi.py) offers the same extension and raises
ConnectionFault to its caller. A server that offers neither (Starlette's TestClient) gets ConnectionFault
raised by the app.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.responses import Response
from starlette.types import Scope, Send

from ..control.faults import Dribble, Fault

CONNECTION_FAULT = "alloy_mock.connection_fault"  # the scope extension that breaks the request's connection
BROKEN_SCOPE_KEY = "alloy_mock.broken"  # set to the connectionFault name once it broke the connection (access log)
BreakConnection = Callable[[str, bytes], None]  # (connectionFault name, bytes to write first)

RESET = "CONNECTION_RESET_BY_PEER"
EMPTY = "EMPTY_RESPONSE"
MALFORMED = "MALFORMED_RESPONSE_CHUNK"
RANDOM = "RANDOM_DATA_THEN_CLOSE"
RANDOM_BYTES = 1024  # of RANDOM_DATA_THEN_CLOSE
# WireMock's MALFORMED_RESPONSE_CHUNK: an OK status line and headers, then what is no chunk at all.
MALFORMED_ANSWER = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nthis is not a chunk\r\n"
)


class ConnectionFault(ConnectionError):
    """A connection fault where no socket is: `kind` is its connectionFault name, `sent` what the server wrote."""

    def __init__(self, kind: str, sent: bytes = b"") -> None:
        super().__init__(f"alloy-mock connection fault {kind}")
        self.kind = kind
        self.sent = sent


def written_before_closing(fault: Fault) -> bytes:
    """What the server writes before it closes the connection (nothing for a reset or an empty response)."""
    if fault.connection == MALFORMED:
        return MALFORMED_ANSWER
    if fault.connection == RANDOM:
        return fault.random.randbytes(RANDOM_BYTES)
    return b""


async def break_connection(scope: Scope, fault: Fault) -> None:
    """Break the request's connection as `fault` says, after its delay; nothing is answered."""
    assert fault.connection is not None
    if fault.delay_ms:
        await asyncio.sleep(fault.delay_ms / 1000)  # the latency asked for, not a wait for readiness
    data = written_before_closing(fault)
    scope[BROKEN_SCOPE_KEY] = fault.connection
    hook: BreakConnection | None = scope.get("extensions", {}).get(CONNECTION_FAULT)
    if hook is None:
        raise ConnectionFault(fault.connection, data)
    hook(fault.connection, data)


async def dribble(response: Response, scope: Scope, send: Send, how: Dribble) -> None:
    """Send `response` with its body in `how.chunks` chunks (chunked transfer encoding), one chunk after each
    pause of total_ms / chunks: the last arrives about total_ms after the headers. Other requests go on
    meanwhile (the pauses are sleeps on the event loop)."""
    headers = [(name, value) for name, value in response.raw_headers if name != b"content-length"]
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    body = bytes(response.body)
    size = -(-len(body) // how.chunks)  # ceiling: chunks of equal size, the last one shorter
    pause = how.total_ms / 1000 / how.chunks
    for number in range(how.chunks):
        await asyncio.sleep(pause)  # the duration asked for, not a wait for readiness
        part = body[number * size : (number + 1) * size]
        await send({"type": "http.response.body", "body": part, "more_body": number < how.chunks - 1})
