"""The one-write transport of http/transport.py: what a turn of the event loop writes leaves together."""

from __future__ import annotations

import asyncio
import http.client
from collections.abc import Iterator
from unittest import mock

import pytest

from alloy_mock.http.transport import CoalescingTransport
from alloy_mock.testing.server import BackgroundServer

from .rawhttp import RecordingTransport


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def run_one_turn(loop: asyncio.AbstractEventLoop) -> None:
    loop.run_until_complete(asyncio.sleep(0))


def test_writes_of_one_turn_leave_in_one_write_in_order(loop: asyncio.AbstractEventLoop) -> None:
    real = RecordingTransport()
    transport = CoalescingTransport(real, loop)
    transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
    transport.write(b'{"a":1}')
    assert real.writes == [], "nothing leaves before the turn ends"
    assert transport.get_write_buffer_size() == len(b"HTTP/1.1 200 OK\r\n\r\n") + len(b'{"a":1}')
    run_one_turn(loop)
    assert real.writes == [b'HTTP/1.1 200 OK\r\n\r\n{"a":1}']
    transport.write(b"next")
    run_one_turn(loop)
    assert real.writes[1:] == [b"next"]


def test_close_sends_what_is_pending_first(loop: asyncio.AbstractEventLoop) -> None:
    real = RecordingTransport()
    transport = CoalescingTransport(real, loop)
    transport.write(b"last answer")
    transport.close()
    assert real.writes == [b"last answer"] and real.closed
    run_one_turn(loop)  # the scheduled flush finds nothing left
    assert real.writes == [b"last answer"]


def test_abort_drops_what_is_pending(loop: asyncio.AbstractEventLoop) -> None:
    real = RecordingTransport()
    transport = CoalescingTransport(real, loop)
    transport.write(b"never sent")
    transport.abort()
    run_one_turn(loop)
    assert real.writes == [] and real.aborted


def test_a_closed_connection_gets_nothing_more(loop: asyncio.AbstractEventLoop) -> None:
    real = RecordingTransport()
    transport = CoalescingTransport(real, loop)
    transport.write(b"too late")
    real.closed = True  # the client went away
    run_one_turn(loop)
    assert real.writes == []


def test_everything_else_is_the_real_transports(loop: asyncio.AbstractEventLoop) -> None:
    transport = CoalescingTransport(RecordingTransport(), loop)
    assert transport.get_extra_info("peername") == ("127.0.0.1", 1234)


TRANSPORT_METHODS = sorted(
    name for name in dir(asyncio.Transport) if not name.startswith("_") and callable(getattr(asyncio.Transport, name))
)


@pytest.mark.parametrize("name", TRANSPORT_METHODS)
def test_it_implements_every_transport_method(name: str) -> None:
    """asyncio.Transport's own methods raise NotImplementedError: each must be this class's own."""
    assert getattr(CoalescingTransport, name) is not getattr(asyncio.Transport, name)


def test_flow_control_and_limits_reach_the_real_transport(loop: asyncio.AbstractEventLoop) -> None:
    real = mock.Mock(spec=asyncio.Transport)
    real.is_reading.return_value = False
    real.get_write_buffer_limits.return_value = (16, 64)
    transport = CoalescingTransport(real, loop)
    transport.pause_reading()
    assert transport.is_reading() is False
    transport.resume_reading()
    transport.set_write_buffer_limits(high=64, low=16)
    assert transport.get_write_buffer_limits() == (16, 64)
    assert [call[0] for call in real.method_calls] == [
        "pause_reading",
        "is_reading",
        "resume_reading",
        "set_write_buffer_limits",
        "get_write_buffer_limits",
    ]


def test_write_eof_sends_what_is_pending_first(loop: asyncio.AbstractEventLoop) -> None:
    real = mock.Mock(spec=asyncio.Transport)
    real.is_closing.return_value = False
    transport = CoalescingTransport(real, loop)
    transport.writelines([b"a", bytearray(b"b"), memoryview(b"c")])
    transport.write_eof()
    assert [call[0] for call in real.method_calls] == ["is_closing", "write", "write_eof"]
    assert real.write.call_args == mock.call(b"abc")


def test_the_server_answers_keep_alive_requests_through_it() -> None:
    """Several requests on one connection, and a response followed by Connection: close."""
    with BackgroundServer() as server:
        host, port = server.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        for _ in range(3):
            connection.request("GET", "/health")
            response = connection.getresponse()
            assert response.status == 200 and response.read()
        connection.request("GET", "/health", headers={"Connection": "close"})
        response = connection.getresponse()
        assert response.status == 200 and response.read()
        connection.close()
