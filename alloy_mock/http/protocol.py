"""alloy-mock's HTTP/1.1 connections: uvicorn's httptools protocol, with each request's head checked first.

Stock uvicorn feeds whatever arrives straight to llhttp and answers anything llhttp refuses with a
text/plain 400. This subclass takes each request's head (request line and headers) whole before the
parser sees it, so that:

- a head over the limits is refused with a JSON 414 (request line) or 431 (header block) as soon as
  the limit is passed, without reading the rest;
- the request line is rewritten where SDKs send what llhttp refuses: raw non-ASCII bytes, the
  absolute form of a proxied request (request_line.py);
- a malformed request gets a JSON error (400; 501 for a method llhttp does not know);
- a request that has not arrived in full within the read timeout gets a JSON 408.

Every refusal closes the connection (`Connection: close`), after the responses still due to earlier
requests on it. To find where each head starts, pipelined requests included, the protocol follows
the framing: a head ends at its first empty line, a body after Content-Length bytes, a chunked body
at the LF where the parser reports the message complete. llhttp still parses and checks every byte;
the framing only decides which bytes are fed when.

Each response also leaves in one write (transport.py). A connection fault (faults.py) breaks the
connection through the scope extension `alloy_mock.connection_fault` that each request gets here.
"""

from __future__ import annotations

import asyncio
import re
import socket
import struct
from collections import deque
from dataclasses import dataclass
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

import httptools
import orjson
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle

from ..config import Settings
from .faults import CONNECTION_FAULT, RESET
from .host_check import HostPolicy
from .request_line import Refusal, own_names, rewrite
from .transport import CoalescingTransport

State = Literal["head", "body", "closed"]
TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
LONGEST_METHOD = 32  # llhttp's longest is 11 bytes; a line without a space by then is not HTTP


@dataclass(frozen=True)
class Limits:
    """What a request may take: bytes of its request line and header block, seconds to arrive in full."""

    max_request_line: int
    max_header_bytes: int
    read_timeout: float
    within_both: int  # a head of at most this many bytes is within both size limits: no need to measure it

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        line, headers = settings.max_request_line, settings.max_header_bytes
        return cls(line, headers, settings.read_timeout, min(line, headers))


class AlloyMockProtocol(HttpToolsProtocol):
    """One client connection. `http_protocol()` makes the class uvicorn gets, with its limits set."""

    limits: ClassVar[Limits] = Limits.of(Settings())
    hosts: ClassVar[HostPolicy] = HostPolicy(Settings().host)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._state: State = "head"
        self._head = b""  # the start of a head that has not arrived whole
        self._body_left = 0  # Content-Length bytes still to come; -1: until the parser reports the end
        self._message_done = False  # set by the parser's on_message_complete during a feed
        self._taken: RequestResponseCycle | None = None  # the app's cycle for the request being received
        self._read_timer: asyncio.TimerHandle | None = None
        self._server_waited = False  # the read timeout's last period was (partly) the server's wait
        self._deferred: bytes | None = None  # a refusal waiting for the responses due before it
        self._own: tuple[tuple[str, int], ...] = ()  # (host, port) pairs that name this server
        self._extensions = {CONNECTION_FAULT: self._break_connection}  # each request's scope["extensions"]
        self._running: RequestResponseCycle | None = None  # the request whose app runs

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))
        if self.server is not None and self.server[1] is not None:
            self._own = own_names(self.server[0], self.server[1])

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_read_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        try:
            while data:
                if self._state == "head":
                    data = self._receive_head(data)
                elif self._state == "body":
                    data = self._receive_body(data)
                else:
                    return  # closed: what comes after a refusal or a Connection: close is not read
        except Refusal as refusal:
            self._refuse(refusal.status, refusal.message)
            return
        # A request that began in this read and is not whole yet: its time to arrive in full starts now.
        if (self._head or self._state == "body") and self._read_timer is None:
            self._read_timer = self.loop.call_later(self.limits.read_timeout, self._read_timed_out)
            self._server_waited = False

    # -- framing -------------------------------------------------------------------------------

    def _receive_head(self, data: bytes) -> bytes:
        """Collect the head; once it is whole, check it and feed it. Returns the bytes after it."""
        start = 0
        if self._head:
            start = max(len(self._head) - 3, 0)  # the empty line may straddle the two reads
            data, self._head = self._head + data, b""
        elif data[0] in b"\r\n":  # empty lines before a request line are ignored (RFC 9112, 2.2)
            data = data.lstrip(b"\r\n")
            if not data:
                return b""
        end = data.find(b"\r\n\r\n", start) + 4
        if end < 4:
            end = _bare_head_end(data, start)
            if end < 0:
                self._check_partial_head(data)
                self._head = data
                return b""
        if end > self.limits.within_both:
            self._check_sizes(data, end)
        refused = self.hosts.refusal(data, end)
        if refused is not None:
            raise Refusal(403, refused)
        space = data.find(b" ", 0, end)
        # The common case: an ASCII request line with its target in origin form ("/...").
        if data[space + 1] == 47 and (data.isascii() or data[: data.index(b"\n")].isascii()):
            self._feed_head(data if end == len(data) else memoryview(data)[:end])
        else:
            line_length = _line_length(data, data.index(b"\n"))
            self._feed_head(rewrite(data[:line_length], self._own) + data[line_length:end])
        return data[end:] if end < len(data) else b""

    def _check_partial_head(self, head: bytes) -> None:
        self._check_sizes(head, len(head))
        space = head.find(b" ", 0, LONGEST_METHOD)
        method = head[: space if space >= 0 else LONGEST_METHOD]
        if not TOKEN.fullmatch(method) or (space < 0 and len(head) >= LONGEST_METHOD):
            raise Refusal(400, _not_http(head))

    def _check_sizes(self, head: bytes, end: int) -> None:
        """Refuse a head (`head` up to `end`) whose request line or header block is over its limit."""
        limits = self.limits
        line_end = head.find(b"\n", 0, end)
        if _line_length(head, line_end if line_end >= 0 else end) > limits.max_request_line:
            raise Refusal(414, f"The request line is longer than {limits.max_request_line} bytes")
        if line_end >= 0 and end - line_end - 1 > limits.max_header_bytes:
            raise Refusal(431, f"The request's header block is larger than {limits.max_header_bytes} bytes")

    def _feed_head(self, head: bytes | memoryview) -> None:
        self._message_done = False
        before = self.cycle
        try:
            self.parser.feed_data(head)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():  # a WebSocket library is installed: the connection is now its
                self._state = "closed"
                self.handle_websocket_upgrade()
                return
            self._unsupported_upgrade_warning()
        except httptools.HttpParserError as exc:
            self._taken = self.cycle if self.cycle is not before else None  # refused after its headers?
            raise _parser_refusal(exc, bytes(head)) from None
        self._taken = self.cycle if self.cycle is not before else None
        if self._message_done:
            self._end_message()
        else:
            self._state, self._body_left = "body", self._body_length()

    def _body_length(self) -> int:
        """The Content-Length of the request whose headers were just parsed; -1 for a chunked body.

        llhttp has already refused a malformed, repeated or conflicting Content-Length.
        """
        headers = dict(self.headers)
        length = headers.get(b"content-length")
        return -1 if length is None or b"transfer-encoding" in headers else int(length)

    def _receive_body(self, data: bytes) -> bytes:
        """Feed the body's bytes; returns the bytes after the request."""
        left = self._body_left
        try:
            if left >= 0:
                if len(data) < left:
                    self.parser.feed_data(data)
                    self._body_left = left - len(data)
                    return b""
                self.parser.feed_data(data if len(data) == left else memoryview(data)[:left])
                self._end_message()
                return data[left:] if left < len(data) else b""
            # A chunked body ends with an LF: feed up to each one until the parser reports the end.
            view, start = memoryview(data), 0
            while (lf := data.find(b"\n", start)) >= 0:
                self.parser.feed_data(view[start : lf + 1])
                start = lf + 1
                if self._message_done:
                    self._end_message()
                    return data[start:]
            self.parser.feed_data(view[start:])
            return b""
        except httptools.HttpParserError as exc:
            raise Refusal(400, f"Malformed HTTP request body: {exc}") from None

    def _end_message(self) -> None:
        if self._read_timer is not None:
            self._stop_read_timer()
        taken, self._taken = self._taken, None
        # After a request that closes the connection, what follows is not read (llhttp would ignore it too).
        self._state = "closed" if taken is not None and not taken.keep_alive else "head"

    def on_message_complete(self) -> None:
        self._message_done = True
        HttpToolsProtocol.on_message_complete(self)  # not super(): this runs for every request

    def on_headers_complete(self) -> None:
        HttpToolsProtocol.on_headers_complete(self)
        cycle = self.cycle
        if cycle is not None and cycle.scope is self.scope:  # the request got a cycle (not an upgrade)
            # One dict per connection, not per request: a request costs a store, and makes no reference cycle.
            self.scope["extensions"] = self._extensions
            if not (self.pipeline and self.pipeline[0][0] is cycle):  # started at once, not queued
                self._running = cycle

    # -- connection faults -------------------------------------------------------------------------

    def _break_connection(self, kind: str, data: bytes) -> None:
        """End the connection instead of answering the running request: reset it (RST), or write `data` (maybe
        nothing) and close it. One request runs at a time on a connection (the others wait in the pipeline)."""
        cycle = self._running
        if cycle is not None:
            cycle.disconnected = True  # the app answers nothing, and uvicorn must not answer for it
            cycle.message_event.set()
        self._state = "closed"  # what else the client sends is not read
        transport = self.transport
        if kind == RESET:
            if isinstance(transport, CoalescingTransport):
                transport.flush()  # the answers to earlier requests leave first
            sock = transport.get_extra_info("socket")
            if sock is not None:  # linger on, for 0 seconds: close() sends an RST instead of a FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
            return
        if data:
            transport.write(data)
        transport.close()

    # -- refusals --------------------------------------------------------------------------------

    def _refuse(self, status: int, message: str) -> None:
        """Answer the request being received with a JSON error and close the connection.

        The answer waits for the responses due to earlier requests on the connection.
        """
        taken, self._taken = self._taken, None
        self._state, self._head = "closed", b""
        self._stop_read_timer()
        self.logger.debug("refused a request with %d: %s", status, message)
        answer = self._error_answer(status, message)
        if taken is not None:
            # The app has this request already (its headers were complete): it must not answer it too.
            queued = any(item[0] is taken for item in self.pipeline)
            self.pipeline = deque(item for item in self.pipeline if item[0] is not taken)
            taken.disconnected = True
            taken.message_event.set()
            if taken.response_started:  # it answered before the body came: nothing more can be said
                self.transport.close()
                return
            due = queued
        else:
            due = bool(self.pipeline) or (self.cycle is not None and not self.cycle.response_complete)
        if due:
            self._deferred = answer
        else:
            self.transport.write(answer)
            self.transport.close()

    def on_response_complete(self) -> None:
        last = not self.pipeline
        queued = None if last else self.pipeline[-1][0]  # the request uvicorn starts next
        super().on_response_complete()
        if queued is not None and not (self.pipeline and self.pipeline[-1][0] is queued):
            self._running = queued
        if last and self._deferred is not None and not self.transport.is_closing():
            self.transport.write(self._deferred)
            self._deferred = None
            self.transport.close()

    def _error_answer(self, status: int, message: str) -> bytes:
        body = orjson.dumps({"message": message})
        defaults = b"".join(b"%s: %s\r\n" % header for header in self.server_state.default_headers)
        return b"%s%scontent-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n%s" % (
            STATUS_LINE[status],
            defaults,
            len(body),
            body,
        )

    # -- read timeout ------------------------------------------------------------------------------

    def _read_timed_out(self) -> None:
        self._read_timer = None
        # Waits of the server's making do not count: reading paused (flow control, a queued request), or a
        # body the client holds back until the app asks for it (Expect: 100-continue). Once such a wait is
        # over, the client gets one more whole period.
        waiting = self.flow.read_paused or (self._taken is not None and self._taken.waiting_for_100_continue)
        if waiting or self._server_waited:
            self._server_waited = waiting
            self._read_timer = self.loop.call_later(self.limits.read_timeout, self._read_timed_out)
            return
        self._refuse(408, f"The request did not arrive in full within {self.limits.read_timeout:g} seconds")

    def _stop_read_timer(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None


def _line_length(head: bytes, line_end: int) -> int:
    """The length of the request line that ends at `line_end` (its LF, or the end of what came), without a CR."""
    return line_end - 1 if head[line_end - 1 : line_end] == b"\r" else line_end


def _bare_head_end(data: bytes, start: int) -> int:
    """Where a head with bare LFs ends (just past its empty line), or -1: the parser will refuse it, at once."""
    ends = [found + len(empty) for empty in (b"\n\n", b"\n\r\n") if (found := data.find(empty, start)) >= 0]
    return min(ends, default=-1)


def _parser_refusal(exc: httptools.HttpParserError, head: bytes) -> Refusal:
    """The answer to a head llhttp refused, in llhttp's own words ("Duplicate Content-Length", ...)."""
    if isinstance(exc, httptools.HttpParserInvalidMethodError):
        method = head[: head.find(b" ")]
        if TOKEN.fullmatch(method):
            return Refusal(501, f"Method {method.decode('ascii')} is not implemented")
        return Refusal(400, _not_http(head))
    if isinstance(exc, httptools.HttpParserCallbackError) and exc.__context__ is not None:
        return Refusal(400, f"Malformed HTTP request: {exc.__context__}")
    return Refusal(400, f"Malformed HTTP request: {exc}")


def _not_http(head: bytes) -> str:
    if head[:1] == b"\x16":
        return "Malformed HTTP request: this is a TLS handshake, and alloy-mock speaks plain HTTP (use http://)"
    return "Malformed HTTP request: the request line does not start with a method"


def public_host(settings: Settings) -> tuple[str, ...]:
    """The host of `--public-url`: the links the emulator hands out name it, so it is answered."""
    host = urlsplit(settings.public_url).hostname if settings.public_url else None
    return (host,) if host else ()


def http_protocol(settings: Settings | None = None) -> type[AlloyMockProtocol]:
    """What `uvicorn.Config(http=...)` gets: the protocol class with the limits of `settings`."""

    configured = settings or Settings()

    class ConfiguredProtocol(AlloyMockProtocol):
        limits = Limits.of(configured)
        hosts = HostPolicy(configured.host, (*configured.allowed_hosts, *public_host(configured)))

    return ConfiguredProtocol
