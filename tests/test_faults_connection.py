"""Connection faults (issue 14): a reset, an empty response, a malformed chunk, random bytes then close.

Each is tried with real clients (httpx, requests) over real HTTP and through the in-process interception,
which must raise what the socket makes the client raise; the bytes themselves are read off a raw socket.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import requests
from starlette.testclient import TestClient

from alloy_mock.control.models import CONNECTION_FAULTS
from alloy_mock.http.access_log import format_line
from alloy_mock.http.faults import MALFORMED_ANSWER, RANDOM_BYTES, ConnectionFault
from alloy_mock.testing import AlloyMock, InProcessEmulator

from .conftest import API, DEV, ServerProcess
from .helpers import assert_error, assert_ok
from .rawhttp import RawConnection

# What each client raises for each fault over a socket (checked against a real server below).
RAISED: dict[str, dict[str, type[Exception]]] = {
    "CONNECTION_RESET_BY_PEER": {"httpx": httpx.ReadError, "requests": requests.exceptions.ConnectionError},
    "EMPTY_RESPONSE": {"httpx": httpx.RemoteProtocolError, "requests": requests.exceptions.ConnectionError},
    "MALFORMED_RESPONSE_CHUNK": {
        "httpx": httpx.RemoteProtocolError,
        "requests": requests.exceptions.ChunkedEncodingError,
    },
    "RANDOM_DATA_THEN_CLOSE": {"httpx": httpx.RemoteProtocolError, "requests": requests.exceptions.ConnectionError},
}


def get_with(client: str, url: str, headers: dict[str, str]) -> Any:
    if client == "httpx":
        with httpx.Client(timeout=10) as http:
            return http.get(url, headers=headers)
    if client == "async httpx":

        async def get() -> httpx.Response:
            async with httpx.AsyncClient(timeout=10) as http:
                return await http.get(url, headers=headers)

        return asyncio.run(get())
    with requests.Session() as session:
        return session.get(url, headers=headers, timeout=10)


@pytest.fixture(params=["served", "in-process"])
def alloy(request: pytest.FixtureRequest) -> AlloyMock:
    """The emulator over a real socket (the pytest plugin's background server) or intercepted in-process."""
    handle: AlloyMock = request.getfixturevalue("alloy_mock" if request.param == "served" else "alloy_mock_intercept")
    return handle


@pytest.mark.parametrize("client", ["httpx", "async httpx", "requests"])
@pytest.mark.parametrize("kind", CONNECTION_FAULTS)
def test_each_client_raises_what_the_socket_makes_it_raise(alloy: AlloyMock, kind: Any, client: str) -> None:
    alloy.fault(connection_fault=kind, path="/users")
    expected = RAISED[kind]["requests" if client == "requests" else "httpx"]
    with pytest.raises(expected):
        get_with(client, f"{alloy.base_url}/users", alloy.headers())
    # the fault was used up: the next request is answered
    assert get_with(client, f"{alloy.base_url}/users", alloy.headers()).status_code == 200


@pytest.mark.parametrize("kind", CONNECTION_FAULTS)
def test_the_journal_names_the_fault_and_records_no_status(alloy: AlloyMock, kind: Any) -> None:
    fault = alloy.fault(connection_fault=kind, method="GET", path="/users")
    assert fault["connectionFault"] == kind
    with pytest.raises((httpx.HTTPError, requests.RequestException)):
        get_with("httpx", f"{alloy.base_url}/users", alloy.headers())
    (entry,) = alloy.requests(path=f"{API}/users")
    assert (entry["fault"], entry["connectionFault"], entry["status"]) == (fault["id"], kind, None)
    assert entry["responseBody"] is None


def raw_get(url: str, path: str = f"{API}/users") -> RawConnection:
    host = url.split("://", 1)[1].split("/", 1)[0]
    authorization = DEV["Authorization"]
    connection = RawConnection(f"http://{host}")
    return connection.send(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {authorization}\r\n\r\n".encode())


def read_all(connection: RawConnection) -> bytes:
    data = b""
    while chunk := connection.sock.recv(65536):
        data += chunk
    return data


def test_a_reset_is_an_rst(alloy_mock: AlloyMock) -> None:
    alloy_mock.fault(connection_fault="CONNECTION_RESET_BY_PEER")
    with raw_get(alloy_mock.root_url) as connection, pytest.raises(ConnectionResetError):
        read_all(connection)


def test_an_empty_response_closes_without_a_byte(alloy_mock: AlloyMock) -> None:
    alloy_mock.fault(connection_fault="EMPTY_RESPONSE")
    with raw_get(alloy_mock.root_url) as connection:
        assert read_all(connection) == b""


def test_a_malformed_chunk_follows_an_ok_status_line(alloy_mock: AlloyMock) -> None:
    alloy_mock.fault(connection_fault="MALFORMED_RESPONSE_CHUNK")
    with raw_get(alloy_mock.root_url) as connection:
        data = read_all(connection)
    assert data == MALFORMED_ANSWER
    assert data.startswith(b"HTTP/1.1 200 OK\r\n") and b"transfer-encoding: chunked" in data


def test_random_data_is_the_seeds(alloy_mock: AlloyMock) -> None:
    """The same seed gives the same bytes, another seed others; none of them is HTTP."""
    received = []
    for seed in (7, 7, 8):
        alloy_mock.fault(connection_fault="RANDOM_DATA_THEN_CLOSE", seed=seed)
        with raw_get(alloy_mock.root_url) as connection:
            received.append(read_all(connection))
    assert received[0] == received[1] != received[2]
    assert all(len(data) == RANDOM_BYTES and not data.startswith(b"HTTP/") for data in received)


def test_a_delay_comes_before_the_break(alloy_mock: AlloyMock) -> None:
    alloy_mock.fault(connection_fault="EMPTY_RESPONSE", delay_ms=150)
    with pytest.raises(httpx.RemoteProtocolError):
        get_with("httpx", f"{alloy_mock.base_url}/users", alloy_mock.headers())
    (entry,) = alloy_mock.requests(path=f"{API}/users")
    assert entry["durationMs"] >= 150 - 2, entry  # an event-loop timer may fire a little early


def test_other_connections_are_unaffected(alloy_mock: AlloyMock) -> None:
    """A keep-alive connection opened before the reset, and a new one, are both answered."""
    url = f"{alloy_mock.base_url}/users"
    with httpx.Client(timeout=10) as kept:
        assert kept.get(url, headers=alloy_mock.headers()).status_code == 200
        alloy_mock.fault(connection_fault="CONNECTION_RESET_BY_PEER", namespace="prod")
        with pytest.raises(httpx.ReadError):
            httpx.get(url, headers={"Authorization": f"Bearer {alloy_mock.prod_key}"}, timeout=10)
        assert kept.get(url, headers=alloy_mock.headers()).status_code == 200
    assert get_with("requests", url, alloy_mock.headers()).status_code == 200


@pytest.mark.parametrize("kind", ["EMPTY_RESPONSE", "CONNECTION_RESET_BY_PEER"])
def test_the_server_logs_nothing_for_a_broken_connection(
    alloy_mock: AlloyMock, caplog: pytest.LogCaptureFixture, kind: Any
) -> None:
    """uvicorn is told the request is over: it neither answers a 500 for it nor logs an error."""
    alloy_mock.fault(connection_fault=kind, path="/users")
    with caplog.at_level("DEBUG", logger="uvicorn"), pytest.raises(httpx.TransportError):
        get_with("httpx", f"{alloy_mock.base_url}/users", alloy_mock.headers())
    assert get_with("httpx", f"{alloy_mock.base_url}/users", alloy_mock.headers()).status_code == 200
    assert [record for record in caplog.records if record.levelname in ("ERROR", "WARNING")] == []


def test_earlier_pipelined_answers_still_arrive(alloy_mock: AlloyMock, caplog: pytest.LogCaptureFixture) -> None:
    """Two requests in one write: the first is answered, the second's fault closes the connection after it."""
    alloy_mock.fault(connection_fault="EMPTY_RESPONSE", path="/users/none-such")
    host = alloy_mock.root_url.split("://", 1)[1]
    head = f"Host: {host}\r\nAuthorization: {DEV['Authorization']}\r\n\r\n"
    with RawConnection(f"http://{host}") as connection:
        connection.send(f"GET {API}/users HTTP/1.1\r\n{head}GET {API}/users/none-such HTTP/1.1\r\n{head}".encode())
        first = connection.answer()
        assert first is not None and first.status == 200, first
        assert connection.closed_by_server()
    assert get_with("httpx", f"{alloy_mock.base_url}/users", alloy_mock.headers()).status_code == 200
    assert [record for record in caplog.records if record.levelname in ("ERROR", "WARNING")] == []


def test_without_the_servers_extension_the_app_raises(client: TestClient) -> None:
    """Starlette's TestClient has no socket to break: the fault reaches the test as a ConnectionError."""
    assert_ok(client.post("/_mock/faults", json={"connectionFault": "EMPTY_RESPONSE"}))
    with pytest.raises(ConnectionFault) as raised:
        client.get(f"{API}/users", headers=DEV)
    assert isinstance(raised.value, ConnectionError) and raised.value.kind == "EMPTY_RESPONSE"


def test_the_in_process_emulator_raises_a_connection_error() -> None:
    """Called directly (no client library in between), it raises the ConnectionFault itself."""
    with InProcessEmulator() as emulator:
        emulator.handle().fault(connection_fault="CONNECTION_RESET_BY_PEER", path="/users")
        with pytest.raises(ConnectionFault) as raised:
            emulator.request(
                "GET",
                f"https://embedded.runalloy.com{API}/users",
                [(b"authorization", DEV["Authorization"].encode())],
                b"",
            )
    assert raised.value.kind == "CONNECTION_RESET_BY_PEER"


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"status": 503}, "status"),
        ({"body": {"message": "x"}}, "body"),
        ({"headers": {"Retry-After": "1"}}, "headers"),
        ({"chunkedDribbleDelay": {"numberOfChunks": 2, "totalDuration": 10}}, "chunkedDribbleDelay"),
        ({"status": 503, "headers": {"Retry-After": "1"}}, "status, headers"),
    ],
)
def test_a_connection_fault_combines_only_with_a_delay(client: TestClient, extra: dict[str, Any], named: str) -> None:
    answer = client.post("/_mock/faults", json={"connectionFault": "EMPTY_RESPONSE", **extra})
    assert_error(answer, 400, f"connectionFault sends no answer, so it does not combine with {named} (delayMs does)")


def test_an_unknown_connection_fault_is_refused_with_the_names(client: TestClient) -> None:
    assert_error(
        client.post("/_mock/faults", json={"connectionFault": "RESET"}),
        400,
        "connectionFault must be one of CONNECTION_RESET_BY_PEER, EMPTY_RESPONSE, MALFORMED_RESPONSE_CHUNK, "
        "RANDOM_DATA_THEN_CLOSE",
    )


def test_the_failure_report_line_names_the_connection_fault(alloy_mock: AlloyMock) -> None:
    from alloy_mock.testing import format_request

    alloy_mock.fault(connection_fault="EMPTY_RESPONSE")
    with pytest.raises(httpx.RemoteProtocolError):
        get_with("httpx", f"{alloy_mock.base_url}/users", alloy_mock.headers())
    (entry,) = alloy_mock.requests(path=f"{API}/users")
    assert "-> EMPTY_RESPONSE (fault fault-" in format_request(entry)


def test_the_access_log_shows_no_status_for_a_broken_connection(serve: Callable[..., ServerProcess]) -> None:
    server = serve("--access-log", "--log-format", "json")
    with server.client() as http:
        assert_ok(http.post("/_mock/faults", json={"connectionFault": "EMPTY_RESPONSE", "path": "/users"}))
        with pytest.raises(httpx.RemoteProtocolError):
            http.get(f"{API}/users", headers=DEV)
    assert server.stop() == 0
    stdout, _ = server.process.communicate(timeout=15)
    (entry,) = [json.loads(line) for line in stdout.splitlines() if f'"{API}/users"' in line]
    assert (entry["status"], entry["namespace"]) == (None, "default.dev")
    fields = {**entry, "time": "T", "duration": 0.25}
    assert format_line(fields, "text", "EMPTY_RESPONSE") == f"T GET {API}/users EMPTY_RESPONSE 0.2ms default.dev"
