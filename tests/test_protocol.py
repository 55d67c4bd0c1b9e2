"""alloy-mock's HTTP connections (http/protocol.py): malformed requests get JSON errors, framing holds.

The malformed requests go over real sockets to a real server, one kind each; the framing tests drive
the protocol in-process, cutting the same bytes at every possible place.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from alloy_mock.testing.server import BackgroundServer

from .rawhttp import RawConnection, assert_refused, feed

CRLF = b"\r\n"

# Each kind of request llhttp refuses (and the ones refused before it), with the status and a part of the message.
MALFORMED = [
    pytest.param(b"GET /a\x00b HTTP/1.1\r\n\r\n", 400, "Invalid char in url path", id="NUL in the target"),
    pytest.param(b"GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n", 400, "Invalid header value char", id="NUL in a value"),
    pytest.param(b"GET / HTTP/1.1\r\nX\x00: a\r\n\r\n", 400, "Invalid header token", id="NUL in a name"),
    pytest.param(b"G\x00T / HTTP/1.1\r\n\r\n", 400, "does not start with a method", id="NUL in the method"),
    pytest.param(b"GET /a\x7fb HTTP/1.1\r\n\r\n", 400, "Invalid char in url path", id="DEL in the target"),
    pytest.param(b"GET /a\tb HTTP/1.1\r\n\r\n", 400, "Invalid characters in url", id="tab in the target"),
    pytest.param(b"GET /a b HTTP/1.1\r\n\r\n", 400, "Expected HTTP/", id="space in the target"),
    pytest.param(b"GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n", 400, "Invalid header value char", id="control char"),
    pytest.param(b"GET / HTTP/1.1\r\nX\xc3\xab: a\r\n\r\n", 400, "Invalid header token", id="UTF-8 in a name"),
    pytest.param(b"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400, "Content-Length", id="CL not a number"),
    pytest.param(b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "Content-Length", id="CL negative"),
    pytest.param(b"POST / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\na", 400, "Content-Length", id="CL list"),
    pytest.param(b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", 400, "overflow", id="CL huge"),
    pytest.param(
        b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        400,
        "Duplicate Content-Length",
        id="CL twice, different",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na",
        400,
        "Duplicate Content-Length",
        id="CL twice, same",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
        "Transfer-Encoding can't be present with Content-Length",
        id="chunked and CL",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nab", 400, "Transfer-Encoding", id="TE not chunked"
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\nab",
        400,
        "Transfer-Encoding",
        id="TE chunked, gzip",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
        400,
        "Invalid character in chunk size",
        id="bad chunk size",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
        400,
        "Expected LF after chunk data",
        id="chunk longer than its size",
    ),
    pytest.param(b"FOO / HTTP/1.1\r\n\r\n", 501, "Method FOO is not implemented", id="unknown method"),
    pytest.param(b"get / HTTP/1.1\r\n\r\n", 501, "Method get is not implemented", id="lower-case method"),
    pytest.param(b"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400, "Unexpected whitespace", id="folded header"),
    pytest.param(b"GET / HTTP/1.1\nHost: localhost\n\n", 400, "Expected CRLF after version", id="bare LF"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: localhost\n\r\n", 400, "Missing expected CR", id="bare LF in the headers"),
    pytest.param(b"GET / HTTP/1.1\rHost: localhost\r\n\r\n", 400, "Expected CRLF after version", id="bare CR"),
    pytest.param(b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, "Invalid header token", id="space before colon"),
    pytest.param(b"GET / HTTP/1.1\r\nHost\r\n\r\n", 400, "Invalid header token", id="no colon"),
    pytest.param(b"GET / HTTP/1.1\r\n: a\r\n\r\n", 400, "Invalid header token", id="empty name"),
    pytest.param(b"GET / HTTP/9.9\r\n\r\n", 400, "Invalid HTTP version", id="unknown version"),
    pytest.param(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, "not HTTP/2", id="HTTP/2 preface"),
    pytest.param(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400, "TLS handshake", id="TLS to the plain port"),
    pytest.param(
        b"GET /" + b"a" * (64 * 1024) + b" HTTP/1.1\r\n\r\n", 414, "longer than 8192 bytes", id="64 KiB target"
    ),
    pytest.param(
        b"GET / HTTP/1.1\r\nX: " + b"a" * (64 * 1024) + b"\r\n\r\n", 431, "larger than 65536", id="64 KiB header"
    ),
    pytest.param(b"CONNECT embedded.runalloy.com:443 HTTP/1.1\r\n\r\n", 501, "does not tunnel", id="CONNECT"),
    pytest.param(b"GET http://example.com/ HTTP/1.1\r\n\r\n", 403, "not a proxy", id="absolute form, foreign host"),
]


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    with BackgroundServer() as background:
        yield background


@pytest.mark.parametrize(("data", "status", "message"), MALFORMED)
def test_a_malformed_request_gets_a_json_error_and_the_connection_closes(
    server: BackgroundServer, data: bytes, status: int, message: str
) -> None:
    with RawConnection(server.url) as connection:
        assert_refused(connection.send(data).answer(), status, message)
        assert connection.closed_by_server()


@pytest.mark.parametrize(("data", "status", "message"), MALFORMED)
def test_a_malformed_request_is_answered_after_the_requests_before_it(
    server: BackgroundServer, data: bytes, status: int, message: str
) -> None:
    """Pipelined behind a good request: the good one's answer comes first (stock uvicorn cut it off)."""
    with RawConnection(server.url) as connection:
        connection.send(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n" + data)
        health = connection.answer()
        assert health is not None and health.status == 200 and health.json()["status"] == "ok", str(health)
        assert_refused(connection.answer(), status, message)
        assert connection.closed_by_server()


def test_the_server_keeps_serving_after_malformed_requests(server: BackgroundServer) -> None:
    for param in MALFORMED[:5]:
        with RawConnection(server.url) as connection:
            connection.send(param.values[0]).answer()
    with RawConnection(server.url) as connection:
        answer = connection.send(b"GET /health HTTP/1.1\r\n\r\n").answer()
        assert answer is not None and answer.status == 200


# -- framing, in-process -----------------------------------------------------------------------------

PIPELINE = [
    "GET /users/zoë@example.com?q=ë HTTP/1.1\r\nHost: localhost\r\nX-Name: zoë\r\n\r\n".encode(),
    b"GET /users/zo\xeb HTTP/1.1\r\n\r\n",  # Latin-1, as alloy-node sends it
    # Empty lines before a request are skipped; a body that looks like a request is a body.
    b"\r\nPOST /a HTTP/1.1\r\nContent-Length: 23\r\n\r\nGET /x\xc3\xab HTTP/1.1\r\n\r\n\n\n",
    b"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab\nc\n\r\n3;x=y\r\n\r\n\r\r\n0\r\nTrailer: 1\r\n\r\n",
    b"GET https://embedded.runalloy.com/x?y=1 HTTP/1.1\r\nHost: embedded.runalloy.com\r\n\r\n",
    b"GET http://localhost:8000 HTTP/1.1\r\n\r\n",  # the emulator's own address (the test transport's)
    b"GET /last HTTP/1.1\r\nConnection: close\r\n\r\nGET /never-read HTTP/1.1\r\n\r\n",
]
EXPECTED = [
    ("GET", "/users/zoë@example.com", "/users/zo%C3%AB@example.com", "q=%C3%AB", b""),
    ("GET", "/users/zoë", "/users/zo%C3%AB", "", b""),
    ("POST", "/a", "/a", "", b"GET /x\xc3\xab HTTP/1.1\r\n\r\n\n\n"),
    ("POST", "/c", "/c", "", b"ab\nc\n\r\n\r"),
    ("GET", "/x", "/x", "y=1", b""),
    ("GET", "/", "/", "", b""),
    ("GET", "/last", "/last", "", b""),
]


def test_pipelined_requests_are_framed_and_rewritten() -> None:
    fed = feed([b"".join(PIPELINE)])
    seen = [
        (body["method"], body["path"], body["rawPath"], body["query"], body["body"].encode("latin-1"))
        for body in (answer.json() for answer in fed.answers)
    ]
    assert seen == EXPECTED
    assert fed.closed, "closed after the request that asked for it; what followed was not read"


def test_framing_does_not_depend_on_how_the_bytes_arrive() -> None:
    """Cut in two at every place, and byte by byte: the same answers as in one piece."""
    data = b"".join(PIPELINE)
    whole = feed([data])
    for cut in range(1, len(data)):
        fed = feed([data[:cut], data[cut:]])
        assert (fed.data, fed.closed) == (whole.data, whole.closed), f"cut at {cut}: {data[cut - 8 : cut + 8]!r}"
    fed = feed([data[i : i + 1] for i in range(len(data))])
    assert (fed.data, fed.closed) == (whole.data, whole.closed)


def test_a_refusal_waits_for_the_answers_due_before_it() -> None:
    fed = feed([b"GET /first HTTP/1.1\r\n\r\nGET /second HTTP/1.1\r\n\r\nFOO / HTTP/1.1\r\n\r\n"])
    assert [answer.status for answer in fed.answers] == [200, 200, 501]
    assert [answer.json().get("path") for answer in fed.answers[:2]] == ["/first", "/second"]
    assert fed.closed


def test_a_broken_body_stops_the_request_the_app_already_has() -> None:
    """The app got the head; the chunked body turns out malformed: only the JSON 400 is answered."""
    fed = feed([b"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n", b"zz\r\n"])
    assert len(fed.answers) == 1, fed.data
    assert_refused(fed.answers[0], 400, "Malformed HTTP request body: Invalid character in chunk size")
    assert fed.closed


def test_expect_100_continue_and_http_1_0_still_work() -> None:
    fed = feed([b"POST /a HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n", b"ok"])
    assert [answer.status for answer in fed.answers] == [100, 200] and fed.answers[1].json()["body"] == "ok"
    fed = feed([b"GET /old HTTP/1.0\r\n\r\nGET /never-read HTTP/1.0\r\n\r\n"])
    assert [answer.json()["path"] for answer in fed.answers] == ["/old"] and fed.closed


def test_a_request_line_split_inside_a_character() -> None:
    line = "GET /users/zoë HTTP/1.1\r\n\r\n".encode()
    cut = line.index(b"\xab")  # between the two bytes of ë
    fed = feed([line[:cut], line[cut:]])
    assert fed.answers[0].json()["path"] == "/users/zoë", "read as UTF-8, not as Latin-1 piece by piece"
