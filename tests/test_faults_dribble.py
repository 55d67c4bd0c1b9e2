"""chunkedDribbleDelay (issue 14): the answer's body in N chunks spread over D ms, like WireMock's.

Timings are checked loosely, against the fault's own duration (a lower bound: the body cannot be
complete before it), never as a benchmark.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
import requests
from starlette.testclient import TestClient

from alloy_mock.testing import AlloyMock

from .conftest import API
from .helpers import assert_error

SLACK_S = 0.02  # a timer may fire a little early against perf_counter


def dribbled(url: str, headers: dict[str, str]) -> tuple[httpx.Response, bytes, list[float]]:
    """The response, its body, and the times (s after the headers) at which its pieces arrived."""
    with httpx.Client(timeout=30) as http, http.stream("GET", url, headers=headers) as response:
        started = time.perf_counter()
        pieces, times = [], []
        for piece in response.iter_raw():
            pieces.append(piece)
            times.append(time.perf_counter() - started)
    return response, b"".join(pieces), times


def test_the_real_answer_arrives_in_chunks_over_the_duration(alloy_mock: AlloyMock) -> None:
    alloy_mock.create_user("dribble@example.com")
    normal = httpx.get(f"{alloy_mock.base_url}/users", headers=alloy_mock.headers(), timeout=10)
    alloy_mock.fault(method="GET", path="/users", chunked_dribble_delay={"numberOfChunks": 5, "totalDuration": 1000})
    response, body, times = dribbled(f"{alloy_mock.base_url}/users", alloy_mock.headers())
    assert response.status_code == 200
    assert response.headers["transfer-encoding"] == "chunked" and "content-length" not in response.headers
    assert body == normal.content
    assert len(times) >= 2, times  # not in one piece
    assert times[-1] >= 1.0 - 1.0 / 5 - SLACK_S, times  # the last chunk comes at least 4 pauses after the first
    (entry,) = alloy_mock.requests(method="GET", path=f"{API}/users")[-1:]
    assert entry["status"] == 200 and entry["durationMs"] >= 1000 - SLACK_S * 1000


def test_a_faults_own_answer_can_be_dribbled(alloy_mock: AlloyMock) -> None:
    alloy_mock.fault(503, path="/users", chunked_dribble_delay={"numberOfChunks": 3, "totalDuration": 300})
    started = time.perf_counter()
    with requests.Session() as session:
        answer = session.get(f"{alloy_mock.base_url}/users", headers=alloy_mock.headers(), timeout=10)
    assert time.perf_counter() - started >= 0.3 - SLACK_S
    assert answer.status_code == 503 and answer.json() == {"message": "Service Unavailable"}
    assert answer.headers["transfer-encoding"] == "chunked"


def test_other_connections_are_answered_meanwhile(alloy_mock: AlloyMock) -> None:
    """While one answer dribbles (3 s), another client is answered at once: nothing blocks the loop."""
    alloy_mock.fault(path="/users", chunked_dribble_delay={"numberOfChunks": 3, "totalDuration": 3000})
    headers_in, done = threading.Event(), threading.Event()

    def slow() -> None:
        with (
            httpx.Client(timeout=30) as http,
            http.stream("GET", f"{alloy_mock.base_url}/users", headers=alloy_mock.headers()) as r,
        ):
            headers_in.set()
            r.read()
        done.set()

    thread = threading.Thread(target=slow)
    thread.start()
    try:
        assert headers_in.wait(10)
        other = httpx.get(f"{alloy_mock.base_url}/users", headers=alloy_mock.headers(), timeout=10)
        assert other.status_code == 200 and "content-length" in other.headers
        assert not done.is_set(), "the dribble finished before the other request was answered"
    finally:
        thread.join(30)
    assert done.is_set()


@pytest.mark.parametrize("client", ["httpx", "requests"])
def test_in_process_the_body_arrives_whole_after_the_duration(alloy_mock_intercept: AlloyMock, client: str) -> None:
    alloy_mock_intercept.create_user("dribble@example.com")
    alloy_mock_intercept.fault(path="/users", chunked_dribble_delay={"numberOfChunks": 4, "totalDuration": 200})
    url, headers = f"{alloy_mock_intercept.base_url}/users", alloy_mock_intercept.headers()
    started = time.perf_counter()
    answer: Any = httpx.get(url, headers=headers) if client == "httpx" else requests.get(url, headers=headers)
    assert time.perf_counter() - started >= 0.2 - SLACK_S
    assert answer.status_code == 200
    assert [user["username"] for user in answer.json()["data"]] == ["dribble@example.com"]
    assert answer.headers["transfer-encoding"] == "chunked"


def test_more_chunks_than_bytes_still_gives_the_body(alloy_mock: AlloyMock) -> None:
    alloy_mock.fault(204, path="/users", chunked_dribble_delay={"numberOfChunks": 50, "totalDuration": 50})
    answer = httpx.get(f"{alloy_mock.base_url}/users", headers=alloy_mock.headers(), timeout=10)
    assert answer.status_code == 204 and answer.content == b""
    alloy_mock.fault(418, path="/users", body={}, chunked_dribble_delay={"numberOfChunks": 50, "totalDuration": 50})
    answer = httpx.get(f"{alloy_mock.base_url}/users", headers=alloy_mock.headers(), timeout=10)
    assert (answer.status_code, answer.json()) == (418, {})


@pytest.mark.parametrize(
    ("dribble", "message"),
    [
        (
            {"numberOfChunks": 0, "totalDuration": 10},
            "chunkedDribbleDelay.numberOfChunks must be a whole number from 1 to 1000",
        ),
        (
            {"numberOfChunks": 1001, "totalDuration": 10},
            "chunkedDribbleDelay.numberOfChunks must be a whole number from 1 to 1000",
        ),
        (
            {"numberOfChunks": "5", "totalDuration": 10},
            "chunkedDribbleDelay.numberOfChunks must be a whole number from 1 to 1000",
        ),
        (
            {"numberOfChunks": 2.5, "totalDuration": 10},
            "chunkedDribbleDelay.numberOfChunks must be a whole number from 1 to 1000",
        ),
        (
            {"numberOfChunks": 5, "totalDuration": -1},
            "chunkedDribbleDelay.totalDuration must be a whole number of milliseconds from 0 to 60000",
        ),
        (
            {"numberOfChunks": 5, "totalDuration": 60001},
            "chunkedDribbleDelay.totalDuration must be a whole number of milliseconds from 0 to 60000",
        ),
        (
            {"numberOfChunks": 5, "totalDuration": True},
            "chunkedDribbleDelay.totalDuration must be a whole number of milliseconds from 0 to 60000",
        ),
        ({"numberOfChunks": 5}, "chunkedDribbleDelay.totalDuration is required"),
        ({}, "chunkedDribbleDelay.numberOfChunks is required"),
        (
            {"numberOfChunks": 5, "totalDuration": 10, "chunks": 1},
            "unknown field chunkedDribbleDelay.chunks (known: numberOfChunks, totalDuration)",
        ),
        ([5, 1000], "chunkedDribbleDelay must be an object {numberOfChunks, totalDuration}"),
        (5, "chunkedDribbleDelay must be an object {numberOfChunks, totalDuration}"),
    ],
)
def test_a_bad_dribble_is_a_400_naming_the_field(client: TestClient, dribble: Any, message: str) -> None:
    assert_error(client.post("/_mock/faults", json={"chunkedDribbleDelay": dribble}), 400, message)
