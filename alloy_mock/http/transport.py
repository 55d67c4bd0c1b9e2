"""A transport that sends what one turn of the event loop writes as one write.

uvicorn writes a response's status line and headers as soon as the app starts the response, and
the body as a second write: two system calls and two TCP segments for every small JSON answer. On
a local connection each send also runs the receiver's TCP processing, so the second write costs
about as much as the first (strace under load: two writes per request; py-spy: a third of the
server's time inside uvicorn's send). CoalescingTransport collects what is written during one turn
of the event loop and hands it to the real transport once, at the end of that turn.
"""

from __future__ import annotations

import asyncio
from typing import Any


class CoalescingTransport:
    """Wraps a transport: write() collects, and the turn's writes leave together (order kept)."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(data)

    def flush(self) -> None:
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending = []
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending = []
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(data) for data in self._pending)

    def __getattr__(self, name: str) -> Any:  # everything else is the real transport's
        return getattr(self._transport, name)
