"""Which requests a fault takes (issue 14): method, path, namespace, a JSON body predicate, a seeded probability."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from alloy_mock.config import Settings
from alloy_mock.control.faults import MAX_BODY_DEPTH, Faults, contains
from alloy_mock.control.models import FaultSpec
from alloy_mock.http.openapi import control_openapi
from alloy_mock.testing import AlloyMock

from .conftest import API, DEV, PROD
from .helpers import assert_error, assert_ok
from .test_packaging import run_mypy

SLOW = {"username": "slow@example.com"}


def add(client: TestClient, **spec: Any) -> dict[str, Any]:
    created: dict[str, Any] = assert_ok(client.post("/_mock/faults", json=spec))
    return created


def create(client: TestClient, body: Any, headers: dict[str, str] = DEV, **kwargs: Any) -> httpx.Response:
    return client.post(f"{API}/users", json=body, headers=headers, **kwargs)


# -- bodyContains --------------------------------------------------------------------------------


def test_a_body_predicate_takes_only_the_requests_whose_body_contains_it(client: TestClient) -> None:
    fault = add(client, method="POST", path="/users", status=503, bodyContains=SLOW, times=None)
    assert_ok(create(client, {"username": "fast@example.com"}))
    assert_error(create(client, {"username": "slow@example.com", "fullName": "Slow"}), 503)  # extra keys ignored
    assert_error(create(client, {"username": "slow@example.com"}), 503)
    journal = assert_ok(client.get("/_mock/requests", params={"path": f"{API}/users"}))["data"]
    assert [entry["fault"] for entry in journal] == [None, fault["id"], fault["id"]]


@pytest.mark.parametrize("journal_size", [100, 0], ids=["journal", "no journal"])
def test_the_body_predicate_works_with_the_journal_off(journal_size: int) -> None:
    from alloy_mock.app import create_app
    from alloy_mock.emulator import Emulator

    emulator = Emulator.open(Settings(journal_size=journal_size))
    try:
        with TestClient(create_app(emulator=emulator)) as client:
            add(client, path="/users", status=429, bodyContains=SLOW)
            assert_error(create(client, SLOW), 429)
            created = assert_ok(create(client, SLOW))  # the body still reaches the handler whole
            assert created["userId"]
    finally:
        emulator.close()


@pytest.mark.parametrize(
    "content",
    [b"", b"username=slow@example.com", b'{"username": "slow@example.com"', b"\xff\xfe", b'["slow@example.com"]'],
    ids=["empty", "form", "truncated", "not utf-8", "array"],
)
def test_a_body_that_is_not_a_matching_json_object_never_matches(client: TestClient, content: bytes) -> None:
    add(client, path="/users", status=503, bodyContains=SLOW)
    answer = client.post(f"{API}/users", content=content, headers={**DEV, "Content-Type": "application/json"})
    assert answer.status_code != 503, answer.text


def test_a_body_past_the_size_limit_never_matches() -> None:
    from alloy_mock.app import create_app
    from alloy_mock.emulator import Emulator

    emulator = Emulator.open(Settings(max_body_bytes=100))
    try:
        with TestClient(create_app(emulator=emulator)) as client:
            add(client, path="/users", status=503, bodyContains=SLOW)
            big = {**SLOW, "fullName": "x" * 200}
            assert_error(create(client, big), 413)
            # chunked (no Content-Length): read up to the limit, then refused by the handler as usual
            chunks = iter([b'{"username": "slow@example.com", "fullName": "', b"x" * 200, b'"}'])
            answer = client.post(f"{API}/users", content=chunks, headers=DEV)
            assert_error(answer, 413)
            assert_error(create(client, SLOW), 503)  # the fault was not spent on them
    finally:
        emulator.close()


@pytest.mark.parametrize(
    ("actual", "expected", "match"),
    [
        ({"a": 1, "b": 2}, {"a": 1}, True),
        ({"a": {"b": {"c": 1, "d": 2}}}, {"a": {"b": {"c": 1}}}, True),
        ({"a": {"b": 1}}, {"a": {"b": 2}}, False),
        ({"a": 1}, {"a": 1, "b": None}, False),  # a key that is absent is not null
        ({"a": None}, {"a": None}, True),
        ({"a": [1, 2]}, {"a": [1, 2]}, True),
        ({"a": [1, 2]}, {"a": [2, 1]}, False),  # arrays in order
        ({"a": [1, 2, 3]}, {"a": [1, 2]}, False),  # and of the same length
        ({"a": [{"x": 1, "y": 2}]}, {"a": [{"x": 1}]}, True),  # objects inside them may have more keys
        ({"a": 1.0}, {"a": 1}, True),  # numbers by value
        ({"a": True}, {"a": 1}, False),  # but a boolean is not a number
        ({"a": 1}, {"a": True}, False),
        ({"a": 0}, {"a": False}, False),
        ({"a": "1"}, {"a": 1}, False),
        ({"a": {}}, {"a": []}, False),
        ({}, {}, True),
        ([], {}, False),
    ],
)
def test_contains(actual: Any, expected: Any, match: bool) -> None:
    assert contains(actual, expected) is match


def test_a_deeply_nested_predicate_is_refused_and_a_deep_body_is_harmless(client: TestClient) -> None:
    deep: dict[str, Any] = {}
    for _ in range(MAX_BODY_DEPTH):
        deep = {"a": deep}
    assert_error(
        client.post("/_mock/faults", json={"status": 503, "bodyContains": deep}),
        400,
        f"bodyContains: at most {MAX_BODY_DEPTH} levels of nesting",
    )
    add(client, path="/users", status=503, bodyContains={"a": {"a": {}}})
    nested = "[" * 1000 + "]" * 1000  # past orjson's depth: not JSON to the matcher, a 400 from the handler
    answer = client.post(f"{API}/users", content=f'{{"a": {nested}}}', headers=DEV)
    assert answer.status_code == 400, answer.text


@pytest.mark.parametrize("value", [[1], "slow", 1, True], ids=["array", "string", "number", "boolean"])
def test_body_contains_must_be_an_object(client: TestClient, value: Any) -> None:
    assert_error(
        client.post("/_mock/faults", json={"status": 503, "bodyContains": value}),
        400,
        "bodyContains must be a JSON object",
    )


def test_method_path_namespace_and_body_all_apply(client: TestClient) -> None:
    add(client, method="POST", path="/users", namespace="prod", status=503, bodyContains=SLOW, times=None)
    assert_ok(create(client, SLOW))  # dev
    assert_ok(client.get(f"{API}/users", headers=PROD))  # GET
    assert_error(create(client, SLOW, headers=PROD), 503)
    assert_ok(create(client, {"username": "other@example.com"}, headers=PROD))


def test_the_first_matching_fault_wins_and_a_body_miss_falls_through(client: TestClient) -> None:
    add(client, path="/users", status=429, bodyContains=SLOW)
    add(client, path="/users", status=503)
    assert_error(create(client, {"username": "fast@example.com"}), 503)
    assert_error(create(client, SLOW), 429)


# -- probability and seed ------------------------------------------------------------------------


def faulted(client: TestClient, count: int) -> list[int]:
    """Which of `count` GET /users requests got the fault's 503."""
    return [n for n in range(count) if client.get(f"{API}/users", headers=DEV).status_code == 503]


def test_the_same_seed_faults_the_same_requests(client: TestClient) -> None:
    runs = []
    for seed in (42, 42, 43):
        assert_ok(client.delete("/_mock/faults", headers={"X-Alloy-Mock": "1"}))
        add(client, path="/users", status=503, probability=0.3, seed=seed, times=None)
        runs.append(faulted(client, 60))
    assert runs[0] == runs[1] != runs[2]
    assert 0 < len(runs[0]) < 60  # some, not all
    (listed,) = assert_ok(client.get("/_mock/faults"))["data"]
    assert (listed["probability"], listed["seed"], listed["hits"]) == (0.3, 43, len(runs[2]))


def test_a_seeded_run_is_the_same_in_process_as_over_http(
    alloy_mock: AlloyMock, alloy_mock_intercept: AlloyMock
) -> None:
    runs = []
    for alloy in (alloy_mock, alloy_mock_intercept):
        alloy.fault(503, path="/users", probability=0.5, seed=7, times=None)
        with httpx.Client(timeout=10) as http:
            statuses = [http.get(f"{alloy.base_url}/users", headers=alloy.headers()).status_code for _ in range(30)]
        runs.append([n for n, status in enumerate(statuses) if status == 503])
    assert runs[0] == runs[1] and runs[0]


def test_a_missed_draw_leaves_the_request_to_the_next_fault(client: TestClient) -> None:
    add(client, path="/users", status=429, probability=0, times=None)
    add(client, path="/users", status=503, times=None)
    assert faulted(client, 5) == [0, 1, 2, 3, 4]
    listed = assert_ok(client.get("/_mock/faults"))["data"]
    assert [fault["hits"] for fault in listed] == [0, 5]


def test_probability_one_faults_every_request_and_spends_times(client: TestClient) -> None:
    add(client, path="/users", status=503, probability=1, times=3)
    assert faulted(client, 5) == [0, 1, 2]


def test_a_spent_fault_draws_no_more() -> None:
    """`times` counts faulted requests, not draws: a fault with times=2 faults exactly two."""
    faults = Faults()
    faults.add(FaultSpec(status=503, probability=0.5, seed=1, times=2), None)
    taken = [faults.take("GET", "/users", None) is not None for _ in range(100)]
    assert sum(taken) == 2 and not faults


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"probability": 1.5}, "probability must be a number from 0 to 1"),
        ({"probability": -0.1}, "probability must be a number from 0 to 1"),
        ({"probability": "0.5"}, "probability must be a number from 0 to 1"),
        ({"probability": True}, "probability must be a number from 0 to 1"),
        ({"probability": None}, "probability must be a number from 0 to 1"),
        ({"seed": 1.5}, "seed must be a whole number from -2**63 to 2**63 - 1"),
        ({"seed": "42"}, "seed must be a whole number from -2**63 to 2**63 - 1"),
        ({"seed": 2**63}, "seed must be a whole number from -2**63 to 2**63 - 1"),
        (
            {"bodyContains": None, "probability": 0.5},
            "give a status, a delayMs, a connectionFault or a chunkedDribbleDelay",
        ),
    ],
)
def test_bad_probabilities_and_seeds_are_a_400_naming_the_field(
    client: TestClient, spec: dict[str, Any], message: str
) -> None:
    body = spec if "bodyContains" in spec else {"status": 503, **spec}
    assert_error(client.post("/_mock/faults", json=body), 400, message)


# -- the helper and the document ----------------------------------------------------------------


def test_the_helper_passes_every_new_option(alloy_mock_intercept: AlloyMock) -> None:
    fault = alloy_mock_intercept.fault(
        503,
        path="/users",
        body_contains=SLOW,
        chunked_dribble_delay={"numberOfChunks": 2, "totalDuration": 10},
        probability=0.5,
        seed=3,
        times=None,
    )
    assert (fault["bodyContains"], fault["chunkedDribbleDelay"], fault["probability"], fault["seed"]) == (
        SLOW,
        {"numberOfChunks": 2, "totalDuration": 10},
        0.5,
        3,
    )
    broken = alloy_mock_intercept.fault(connection_fault="EMPTY_RESPONSE", path="/never")
    assert broken["connectionFault"] == "EMPTY_RESPONSE" and broken["probability"] == 1.0


def field_examples() -> list[tuple[str, Any]]:
    properties = control_openapi()["components"]["schemas"]["FaultSpec"]["properties"]
    return [(name, example) for name, schema in properties.items() for example in schema.get("examples", [])]


@pytest.mark.parametrize(("name", "example"), field_examples(), ids=[name for name, _ in field_examples()])
def test_every_field_example_of_the_document_is_accepted(client: TestClient, name: str, example: Any) -> None:
    spec = {name: example}
    if name in ("bodyContains", "seed"):
        spec["status"] = 503  # a predicate or a seed alone does nothing
    assert_ok(client.post("/_mock/faults", json=spec))


@pytest.mark.parametrize("client", ["httpx", "requests"])
def test_a_body_predicate_in_process(alloy_mock_intercept: AlloyMock, client: str) -> None:
    import requests

    alloy_mock_intercept.fault(429, method="POST", path="/users", body_contains=SLOW)
    url, headers = f"{alloy_mock_intercept.base_url}/users", alloy_mock_intercept.headers()
    post = httpx.post if client == "httpx" else requests.post
    assert post(url, json={"username": "fast@example.com"}, headers=headers).status_code == 200
    assert post(url, json={**SLOW, "fullName": "Slow"}, headers=headers).status_code == 429
    assert post(url, json=SLOW, headers=headers).status_code == 200  # spent


TYPED_USE = """\
from alloy_mock.testing import AlloyMock, DribbleDelay


def test_faults(alloy_mock: AlloyMock) -> None:
    dribble: DribbleDelay = {"numberOfChunks": 5, "totalDuration": 1000}
    alloy_mock.fault(connection_fault="EMPTY_RESPONSE", body_contains={"username": "slow"}, probability=0.5, seed=1)
    alloy_mock.fault(503, chunked_dribble_delay=dribble)
"""


def test_mypy_strict_checks_the_new_options(tmp_path: Path) -> None:
    """One run (mypy is slow): the misspelled fault name is the only error, so the rest type-checks."""
    wrong = TYPED_USE + '    alloy_mock.fault(connection_fault="RESET")\n'
    (tmp_path / "test_user.py").write_text(wrong)
    result = run_mypy(tmp_path)
    assert result.returncode == 1, result.stdout
    assert 'test_user.py:8: error: Argument "connection_fault" to "fault"' in result.stdout, result.stdout
    assert "Found 1 error in 1 file" in result.stdout, result.stdout
