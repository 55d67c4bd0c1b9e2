"""Bounded requests: the request line and header block limits (414, 431) and the read timeout (408)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from alloy_mock.config import Settings
from alloy_mock.testing.server import BackgroundServer

from .conftest import ServerProcess
from .rawhttp import RawConnection, assert_refused, feed, read_answer

MiB = 1 << 20
TIMEOUT = 0.3  # the read timeout of the timeout tests' server, in seconds
CLOCK_SLACK = 0.005  # how early an event loop's timer may fire, in seconds
SMALL = Settings(max_request_line=300, max_header_bytes=2000)


def request_line_of(length: int) -> bytes:
    """A request line of exactly `length` bytes (without its CRLF)."""
    start, end = b"GET /", b" HTTP/1.1"
    return start + b"a" * (length - len(start) - len(end)) + end


def header_block_of(size: int) -> bytes:
    """Header lines that, with the empty line after them, take exactly `size` bytes."""
    return b"X-Fill: " + b"a" * (size - len(b"X-Fill: \r\n\r\n")) + b"\r\n\r\n"


def test_a_request_line_at_the_limit_passes_one_byte_more_is_a_414() -> None:
    fed = feed([request_line_of(300) + b"\r\n\r\n"], SMALL)
    assert fed.answers[0].status == 200 and not fed.closed
    fed = feed([request_line_of(301) + b"\r\n\r\n"], SMALL)
    assert_refused(fed.answers[0], 414, "The request line is longer than 300 bytes")
    assert fed.closed


def test_a_header_block_at_the_limit_passes_one_byte_more_is_a_431() -> None:
    line = b"GET / HTTP/1.1\r\n"
    fed = feed([line + header_block_of(2000)], SMALL)
    assert fed.answers[0].status == 200 and not fed.closed
    fed = feed([line + header_block_of(2001)], SMALL)
    assert_refused(fed.answers[0], 431, "The request's header block is larger than 2000 bytes")


def test_limits_are_enforced_before_the_head_is_complete() -> None:
    """No LF (or no empty line) yet: refused as soon as the bytes so far pass the limit."""
    fed = feed([b"GET /" + b"a" * 400], SMALL)
    assert_refused(fed.answers[0], 414, "300 bytes")
    fed = feed([b"GET / HTTP/1.1\r\nX: ", b"a" * 1000, b"a" * 1000], SMALL)
    assert_refused(fed.answers[0], 431, "2000 bytes")


def test_a_huge_header_is_refused_without_reading_it_and_others_are_served_meanwhile() -> None:
    """64 MiB of one header: refused once past 64 KiB; the rest is never read, /health keeps answering."""
    with BackgroundServer() as server:
        host, port = server.url.removeprefix("http://").rsplit(":", 1)
        sender = socket.create_connection((host, int(port)), timeout=10)
        started = threading.Event()
        outcome: dict[str, object] = {"sent": 0}

        def send_huge_header() -> None:
            try:
                sender.sendall(b"GET /2023-12/integrations HTTP/1.1\r\nx-alloy-user-token: ")
                for _ in range(64):
                    sender.sendall(b"a" * MiB)
                    outcome["sent"] = int(outcome["sent"]) + MiB  # type: ignore[call-overload]
                    started.set()
            except OSError as exc:
                outcome["error"] = exc
            started.set()

        thread = threading.Thread(target=send_huge_header)
        thread.start()
        assert started.wait(10)
        with RawConnection(server.url) as other:
            health = other.send(b"GET /health HTTP/1.1\r\n\r\n").answer()
            assert health is not None and health.status == 200
        thread.join(30)
        assert not thread.is_alive()
        assert isinstance(outcome.get("error"), ConnectionError), "the server closed the connection mid-header"
        assert int(outcome["sent"]) < 32 * MiB, f"the server read on: {outcome['sent']} bytes went out"  # type: ignore[call-overload]
        with sender, sender.makefile("rb") as stream:
            assert_refused(read_answer(stream), 431, "larger than 65536 bytes")


def test_the_background_server_takes_the_limits_from_its_settings() -> None:
    with BackgroundServer(SMALL) as server, RawConnection(server.url) as connection:
        assert_refused(connection.send(request_line_of(301) + b"\r\n\r\n").answer(), 414, "300 bytes")


# -- the read timeout --------------------------------------------------------------------------------


def test_the_read_timeout_runs_only_while_a_request_is_incomplete() -> None:
    head = b"POST /a HTTP/1.1\r\nContent-Length: 4\r\n\r\n"
    assert not feed([head + b"body"]).timing, "whole in one read: no timeout started"
    assert feed([head, b"bo"]).timing, "the body is still due"
    fed = feed([head[:10], head[10:], b"bo", b"dy"])
    assert not fed.timing and fed.answers[0].json()["body"] == "body", "whole after four reads: stopped"
    assert feed([head + b"body", b"GET / HT"]).timing, "the next request has begun"


@pytest.fixture(scope="module")
def slow_reader() -> Iterator[BackgroundServer]:
    with BackgroundServer(Settings(read_timeout=TIMEOUT)) as server:
        yield server


def wait_for_408(connection: RawConnection, since: float) -> None:
    """The 408 arrives (the socket's own timeout is 10 s), not before the read timeout, then the close."""
    assert_refused(connection.answer(), 408, f"did not arrive in full within {TIMEOUT:g} seconds")
    # uvloop's timers count whole milliseconds from the loop's cached clock, so they may fire a little early.
    assert time.monotonic() - since >= TIMEOUT - CLOCK_SLACK
    assert connection.closed_by_server()


def test_a_partial_head_gets_a_408(slow_reader: BackgroundServer) -> None:
    with RawConnection(slow_reader.url) as connection:
        started = time.monotonic()
        wait_for_408(connection.send(b"GET /health HTTP/1.1\r\nHost: x\r\n"), started)


def test_a_short_body_gets_a_408_and_no_other_answer(slow_reader: BackgroundServer) -> None:
    head = b"POST /2023-12/users HTTP/1.1\r\nAuthorization: Bearer alloy-mock-dev-key\r\nContent-Length: 40\r\n\r\n"
    with RawConnection(slow_reader.url) as connection:
        started = time.monotonic()
        wait_for_408(connection.send(head + b'{"username": '), started)


def test_the_timeout_counts_from_the_first_byte_of_each_request(slow_reader: BackgroundServer) -> None:
    """A trickling client is cut off although bytes keep coming; an earlier request does not count."""
    with RawConnection(slow_reader.url) as connection:
        answer = connection.send(b"GET /health HTTP/1.1\r\n\r\n").answer()
        assert answer is not None and answer.status == 200
        started = time.monotonic()
        for byte in b"GET /health HTTP/1.1\r\nX-Slow: " + b"a" * 200:  # 200 x 30 ms: 20 times the timeout
            try:
                connection.send(bytes([byte]))
            except ConnectionError:  # the server answered and closed
                break
            time.sleep(TIMEOUT / 10)  # the trickle's pace, well inside the timeout
        wait_for_408(connection, started)


def test_a_body_held_back_for_100_continue_is_not_timed_out() -> None:
    """The client waits for `100 Continue`, which comes when the app asks for the body: a slow app (a fault's
    delay of twice the timeout) is the server's wait, not the client's."""
    with BackgroundServer(Settings(read_timeout=TIMEOUT, journal_size=0)) as server:
        fault = {"method": "POST", "path": "/users", "delayMs": int(TIMEOUT * 2000)}
        assert httpx.post(f"{server.url}/_mock/faults", json=fault).status_code == 200
        body = b'{"username": "patient@example.com"}'
        head = b"POST /2023-12/users HTTP/1.1\r\nAuthorization: Bearer alloy-mock-dev-key\r\n"
        head += b"Expect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
        with RawConnection(server.url) as connection:
            proceed = connection.send(head).answer()
            assert proceed is not None and proceed.status == 100, str(proceed)
            created = connection.send(body).answer()
            assert created is not None and created.status == 200 and "userId" in created.json(), str(created)


def test_serve_takes_the_limits_from_its_flags(serve: Callable[..., ServerProcess]) -> None:
    server = serve("--max-request-line", "300", "--max-header-bytes", "2000", "--read-timeout", "0.2")
    with RawConnection(server.base_url) as connection:
        assert_refused(connection.send(request_line_of(301) + b"\r\n\r\n").answer(), 414, "300 bytes")
    with RawConnection(server.base_url) as connection:
        data = b"GET / HTTP/1.1\r\n" + header_block_of(2001)
        assert_refused(connection.send(data).answer(), 431, "2000 bytes")
    with RawConnection(server.base_url) as connection:
        assert_refused(connection.send(b"GET / HTTP/1.1\r\n").answer(), 408, "within 0.2 seconds")
