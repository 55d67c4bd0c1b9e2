"""Issue 12 findings 7 and 9: a control API that cannot be made to answer 500 or broken HTTP, with bounds.

Each test here failed on the code before the fix: the clock past year 9999, huge token lifetimes, digits
that are not ASCII, fault headers the server cannot send, unbounded faults and snapshots, a 405 sent
before the key was checked, a 404 before the admin token, a 500 that left the connection half dead.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from alloy_mock import clock as clock_module
from alloy_mock.app import create_app
from alloy_mock.clock import LATEST, iso_milliseconds, iso_time
from alloy_mock.config import Settings
from alloy_mock.control import faults as faults_module
from alloy_mock.control.models import MAX_TTL
from alloy_mock.control.snapshots import Snapshots
from alloy_mock.emulator import Emulator
from alloy_mock.http import control
from alloy_mock.testing.server import BackgroundServer

from .conftest import API, DEV
from .helpers import CONTROL, assert_error, assert_ok, show

END_OF_9999 = "9999-12-31T23:59:59.000Z"


def ctl(client: TestClient, method: str, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
    headers = {**CONTROL, **kwargs.pop("headers", {})}
    return client.request(method, f"/_mock{path}", json=body, headers=headers, **kwargs)


# -- the clock's whole range ---------------------------------------------------------------------


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """The system time as the clock module sees it, movable: [seconds added to the real time]."""
    shift = [0.0]
    real = time.time
    monkeypatch.setattr(clock_module, "time", SimpleNamespace(time=lambda: real() + shift[0]))
    yield shift


def test_a_clock_left_running_at_the_end_of_9999_stops_there(client: TestClient, later: list[float]) -> None:
    assert_ok(ctl(client, "POST", "/clock/freeze", {"at": LATEST}))
    assert_ok(ctl(client, "POST", "/clock/unfreeze"))
    later[0] = 5.0  # five seconds pass: the running clock would show year 10000
    state = assert_ok(ctl(client, "GET", "/clock"))
    assert (state["now"], state["iso"], state["frozen"]) == (LATEST, END_OF_9999, False)
    created = assert_ok(client.post(f"{API}/users", json={"username": "late@example.com"}, headers=DEV))
    assert_ok(client.get(f"{API}/users/{created['userId']}", headers=DEV))
    entries = assert_ok(ctl(client, "GET", "/requests"))["data"]
    assert {entry["time"] for entry in entries} == {END_OF_9999}
    assert_ok(client.get(f"{API}/users/{created['userId']}/token", headers=DEV))


def test_a_held_clock_moves_back_from_where_it_shows(client: TestClient, later: list[float]) -> None:
    assert_ok(ctl(client, "POST", "/clock/freeze", {"at": LATEST}))
    assert_ok(ctl(client, "POST", "/clock/unfreeze"))
    later[0] = 100.0
    assert_error(ctl(client, "POST", "/clock/advance", {"seconds": 1}), 400, prefix="the clock must stay between")
    moved = assert_ok(ctl(client, "POST", "/clock/advance", {"seconds": -10}))
    assert LATEST - 11 < moved["now"] <= LATEST - 10 + 1


@pytest.mark.parametrize("epoch", [LATEST + 0.9996, LATEST + 1, 1e20, -1.0, -1e20])
def test_times_outside_the_range_are_written_at_its_ends(epoch: float) -> None:
    assert iso_time(epoch) in (END_OF_9999.replace(".000", ".999"), END_OF_9999, "1970-01-01T00:00:00.000Z")


def test_milliseconds_past_the_range_are_written_at_its_end() -> None:
    assert iso_milliseconds(int(LATEST) * 1000 + 5000) == "9999-12-31T23:59:59.999Z"


# -- token lifetimes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("ttl", [2e19, -1e19, 1e300, 2**64, -(2**63) - 1, MAX_TTL + 1, -MAX_TTL - 1])
def test_token_lifetimes_past_ten_years_are_refused(client: TestClient, make_user: Any, ttl: float) -> None:
    make_user("alice", headers=DEV)
    assert_error(
        ctl(client, "POST", "/tokens", {"user": "alice", "ttl": ttl}),
        400,
        f"ttl must be a number of seconds from -{MAX_TTL} to {MAX_TTL}",
    )


@pytest.mark.parametrize("ttl", [MAX_TTL, -MAX_TTL])
def test_token_lifetimes_of_ten_years_are_minted(client: TestClient, make_user: Any, ttl: int) -> None:
    make_user("alice", headers=DEV)
    claims = assert_ok(ctl(client, "POST", "/tokens", {"user": "alice", "ttl": ttl}))["claims"]
    assert claims["exp"] - claims["iat"] == ttl


# -- fault headers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"X-A": "a\r\nSet-Cookie: x=1"}, "headers: the value of X-A must be"),
        ({"X-A": "a\nb"}, "headers: the value of X-A must be"),
        ({"X-A": "a\rb"}, "headers: the value of X-A must be"),
        ({"X-A": "a\x00b"}, "headers: the value of X-A must be"),
        ({"X-A": "a\x7fb"}, "headers: the value of X-A must be"),
        ({"X-Euro": "€"}, "headers: the value of X-Euro must be"),
        ({"X-Emoji": "\U0001f600"}, "headers: the value of X-Emoji must be"),
        ({"X-Long": "x" * (faults_module.MAX_HEADER_BYTES + 1)}, "headers: the value of X-Long must be"),
        ({"X\r\nB": "1"}, "headers: 'X\\r\\nB' is not a header name"),
        ({"X A": "1"}, "headers: 'X A' is not a header name"),
        ({"X:A": "1"}, "headers: 'X:A' is not a header name"),
        ({"": "1"}, "headers: '' is not a header name"),
        ({"É": "1"}, "headers: 'É' is not a header name"),
        ({"Content-Length": "1000"}, "headers: Content-Length frames the HTTP message"),
        ({"content-length": "0"}, "headers: content-length frames the HTTP message"),
        ({"Transfer-Encoding": "chunked"}, "headers: Transfer-Encoding frames the HTTP message"),
        ({"Connection": "close"}, "headers: Connection frames the HTTP message"),
        ({"Keep-Alive": "timeout=5"}, "headers: Keep-Alive frames the HTTP message"),
        ({"Upgrade": "websocket"}, "headers: Upgrade frames the HTTP message"),
        ({"TE": "trailers"}, "headers: TE frames the HTTP message"),
        ({"Trailer": "X"}, "headers: Trailer frames the HTTP message"),
        ({f"X-{n}": "1" for n in range(faults_module.MAX_HEADERS + 1)}, "headers: at most"),
    ],
)
def test_fault_headers_the_server_cannot_send_are_refused(
    client: TestClient, headers: dict[str, str], message: str
) -> None:
    response = ctl(client, "POST", "/faults", {"status": 503, "headers": headers})
    assert_error(response, 400, prefix=message)
    assert assert_ok(ctl(client, "GET", "/faults"))["data"] == []


def test_fault_headers_over_a_real_socket() -> None:
    """Refused at creation, the bad ones never reach uvicorn (which used to drop the connection with a stack
    trace); Latin-1 values and ordinary headers arrive as given."""
    with BackgroundServer(Settings()) as server, httpx.Client(base_url=server.url, headers=CONTROL) as http:
        for bad in ({"X-A": "a\r\nb"}, {"X-Euro": "€"}, {"Content-Length": "1000"}, {"Transfer-Encoding": "chunked"}):
            assert_error(http.post("/_mock/faults", json={"status": 503, "headers": bad}), 400)
        good = {"X-Cafe": "caf\u00e9", "Retry-After": "3", "Content-Type": "application/problem+json"}
        assert_ok(http.post("/_mock/faults", json={"path": "/users", "status": 503, "headers": good}))
        faulted = http.get(f"{API}/users", headers=DEV)
        assert faulted.status_code == 503, show(faulted)
        assert faulted.headers["x-cafe"].encode("latin-1") == "caf\u00e9".encode("latin-1")
        assert (faulted.headers["retry-after"], faulted.headers["content-type"]) == ("3", "application/problem+json")
        assert int(faulted.headers["content-length"]) == len(faulted.content)
        assert_ok(http.get(f"{API}/users", headers=DEV))  # the same connection still works


# -- bounds --------------------------------------------------------------------------------------------


def test_faults_are_bounded(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faults_module, "MAX_FAULTS", 3)
    for n in range(3):
        assert_ok(ctl(client, "POST", "/faults", {"status": 500, "path": f"/p{n}"}))
    assert_error(
        ctl(client, "POST", "/faults", {"status": 500}),
        400,
        "at most 3 faults can be in force at once: clear some first",
    )
    assert len(assert_ok(ctl(client, "GET", "/faults"))["data"]) == 3
    assert_ok(ctl(client, "DELETE", "/faults/fault-1"))
    assert_ok(ctl(client, "POST", "/faults", {"status": 500}))


def test_the_default_fault_bound_is_documented() -> None:
    assert faults_module.MAX_FAULTS == 1000


def test_snapshots_are_bounded_in_number(client: TestClient, emulator: Emulator) -> None:
    emulator.snapshots = Snapshots(max_count=2)
    assert_ok(ctl(client, "POST", "/snapshots", {"name": "one"}))
    assert_ok(ctl(client, "POST", "/snapshots", {"name": "two"}))
    assert_ok(ctl(client, "POST", "/snapshots", {"name": "two"}))  # replacing one is no new one
    assert_error(
        ctl(client, "POST", "/snapshots", {"name": "three"}), 400, "at most 2 snapshots can be kept: delete some first"
    )
    assert assert_ok(ctl(client, "GET", "/snapshots"))["data"] == [{"name": "one"}, {"name": "two"}]
    assert_ok(ctl(client, "DELETE", "/snapshots/one"))
    assert_ok(ctl(client, "POST", "/snapshots", {"name": "three"}))


def test_snapshots_are_bounded_in_size_and_kept_as_json(client: TestClient, emulator: Emulator) -> None:
    emulator.snapshots = Snapshots(max_bytes=4096)
    users = [{"username": f"user-{n}@example.com"} for n in range(20)]
    assert_ok(ctl(client, "POST", "/seed", {"users": users}))
    assert_ok(ctl(client, "POST", "/snapshots", {"name": "small"}))
    assert_ok(ctl(client, "POST", "/seed", {"users": [{"username": f"more-{n}@example.com"} for n in range(40)]}))
    response = ctl(client, "POST", "/snapshots", {"name": "big"})
    assert_error(response, 400, prefix="the snapshots would take ")
    assert response.json()["message"].endswith("MiB they may use together: delete some first")
    assert [name for name in emulator.snapshots] == ["small"]
    saved = emulator.snapshots._saved["small"]
    assert isinstance(saved, bytes) and len(saved) < 4096
    assert_ok(ctl(client, "POST", "/snapshots/small/restore"))
    assert len(assert_ok(client.get(f"{API}/users", headers=DEV))["data"]) == 20


def test_default_snapshot_bounds() -> None:
    bounds = Snapshots()
    assert (bounds.max_count, bounds.max_bytes) == (100, 256 * 1024 * 1024)


# -- status codes in the right order ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/users/"), ("DELETE", "/users"), ("PATCH", "/users/someone"), ("POST", "/integrations/")],
)
def test_a_wrong_method_without_a_key_is_401_first(client: TestClient, method: str, path: str) -> None:
    assert_error(client.request(method, f"{API}{path}"), 401, "Unauthorized")
    answered = client.request(method, f"{API}{path}", headers=DEV)
    assert_error(answered, 405)
    assert "allow" in answered.headers


@pytest.mark.parametrize("document", ["/openapi.json", "/_mock/openapi.json"])
def test_allow_lists_what_the_documents_say_with_or_without_a_trailing_slash(client: TestClient, document: str) -> None:
    paths = assert_ok(client.get(document))["paths"]
    checked = 0
    for path, item in paths.items():
        documented = {m.upper() for m in item if m in ("get", "post", "put", "delete", "patch")}
        concrete = path.replace("{", "x").replace("}", "")
        for sent in (concrete, concrete + "/"):
            wrong = "PUT" if "PATCH" in documented else "PATCH"
            response = client.request(wrong, sent, headers={**DEV, **CONTROL})
            assert_error(response, 405)
            allowed = {part.strip() for part in response.headers["allow"].split(",")}
            assert allowed == documented | ({"HEAD"} if "GET" in documented else set()), (sent, show(response))
            checked += 1
    assert checked > 40


@pytest.mark.parametrize("path", ["/_mock/nope", "/_mock/faults/fault-1/extra", "/_mock/snapshots/x/nope"])
def test_the_control_api_checks_the_admin_token_before_the_route(path: str) -> None:
    with TestClient(create_app(Settings(admin_token="s3cret"))) as client:
        for method in ("GET", "POST", "DELETE"):
            assert_error(client.request(method, path, headers=CONTROL), 401, control.ADMIN_REQUIRED)
            answered = client.request(method, path, headers={**CONTROL, "Authorization": "Bearer s3cret"})
            assert_error(answered, 404)


def test_a_control_api_bug_answers_json_500_and_closes_the_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(served: object) -> object:
        raise RuntimeError("a bug, with internals the client must not see")

    monkeypatch.setattr(control, "coverage", broken)
    with BackgroundServer(Settings()) as server, httpx.Client(base_url=server.url) as http:
        response = http.get("/_mock/coverage")
        assert_error(response, 500, "Internal server error (an alloy-mock bug; the log has the details)")
        assert response.headers["connection"] == "close", show(response)
        assert "Traceback" not in response.text and "internals" not in response.text
        assert_ok(http.get("/_mock/clock"))  # the client's next request opens a fresh connection
