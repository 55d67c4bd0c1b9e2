"""Property-based fuzzing of the emulator against its own OpenAPI documents, with Schemathesis (issue 12).

Every operation of /openapi.json (the vendor API) and /_mock/openapi.json (the control API) gets
FUZZ_EXAMPLES generated requests (default in EXAMPLES; derandomized: the same cases on every run). Each
is served in-process by the same app, through the code path uvicorn drives (alloy_mock/testing/asgi.py:
the scope uvicorn builds, the answer as uvicorn sends it), without Schemathesis' ASGI client, whose
thread hand-overs cost as much as serving the request. Each answer must be no 5xx, JSON with a declared
Content-Type, and an error a `{"message": str}` object. After each operation the server still answers
/health, and the data written before the run, in a namespace the fuzzer's key cannot reach, is intact.

Where the time goes (docs/control.md, "Fuzzing"): generating a case costs Hypothesis about 3.5 ms of CPU,
about the same for every operation; serving it here about 1 ms, through Schemathesis' ASGI client about
3.5 ms. Operations are spread over xdist workers (`-n 2`), one test each.

A longer run on demand: `FUZZ_EXAMPLES=1000 pytest -m fuzz -n 2` (README, "Fuzzing").
"""

from __future__ import annotations

import os
from typing import Any

import orjson
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from alloy_mock.config import DEFAULT_DEV_KEY, DEFAULT_PROD_KEY, Settings
from alloy_mock.testing.asgi import Answer
from alloy_mock.testing.inprocess import InProcessEmulator

pytestmark = pytest.mark.fuzz

# 50 locally, so that the suite stays quick; .ci/run sets 300 (the CI profile, about 2.3 CPU-minutes more).
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,  # a fixed seed: CI sees the same cases every run
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    # No replay of a database (there is none) and no targeting (nothing to target): generate, and shrink
    # a failure to a small case.
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
)
BASE = "http://testserver"
DEV = {"Authorization": f"Bearer {DEFAULT_DEV_KEY}"}
PROD = {"Authorization": f"Bearer {DEFAULT_PROD_KEY}"}
CONTROL = {"X-Alloy-Mock": "1"}

# Two emulators, so that the control API's fuzzing (resets, clock changes) cannot undo the vendor API's
# sentinel below: each API is fuzzed on its own, and checked afterwards on its own.
vendor_emulator = InProcessEmulator(Settings()).start()
control_emulator = InProcessEmulator(Settings()).start()


def request(emulator: InProcessEmulator, method: str, path: str, headers: dict[str, str], body: Any = None) -> Answer:
    content = b"" if body is None else orjson.dumps(body)
    sent = [(name.encode(), value.encode()) for name, value in headers.items()]
    if body is not None:
        sent += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(content))]
    return emulator.request(method, BASE + path, sent, content)


def schema_of(emulator: InProcessEmulator, path: str) -> Any:
    answer = request(emulator, "GET", path, {})
    assert answer.status == 200, answer.body[:300]
    return schemathesis.openapi.from_dict(orjson.loads(answer.body))


vendor = schema_of(vendor_emulator, "/openapi.json")
control = schema_of(control_emulator, "/_mock/openapi.json")


def _sentinel() -> str:
    """A user in prod, written before the fuzzing: the fuzzer holds only the dev key, so it must stay."""
    answer = request(vendor_emulator, "POST", "/2023-12/users", PROD, {"username": "sentinel@example.com"})
    assert answer.status == 200, answer.body
    user_id: str = orjson.loads(answer.body)["userId"]
    return user_id


SENTINEL = _sentinel()


def send(emulator: InProcessEmulator, case: Any, headers: dict[str, str]) -> Answer:
    """The request Schemathesis would send for `case` (its serializers, through `requests`' encoding), served
    in-process; redirects are not followed (the answer under test is the emulator's own)."""
    kwargs = case.as_transport_kwargs(base_url=BASE, headers=headers)
    prepared = requests.Request(**kwargs).prepare()
    body = prepared.body or b""
    sent = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in prepared.headers.items()]
    assert prepared.method is not None and prepared.url is not None
    return emulator.request(prepared.method, prepared.url, sent, body.encode() if isinstance(body, str) else body)


def check_answer(case: Any, answer: Answer) -> None:
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in answer.headers}
    where = f"{case.method} {case.formatted_path} -> {answer.status}: {answer.body[:300]!r}"
    assert answer.status < 500, where
    if answer.status in (204, 304) or case.method.upper() == "HEAD":
        return
    content_type = headers.get("content-type", "")
    if answer.status == 200 and not content_type.startswith("application/json"):
        return  # the hosted pages and the OAuth redirect pages answer HTML, as documented
    if 300 <= answer.status < 400 and "location" in headers:
        return  # a redirect (OAuth pages), whatever its body
    assert content_type.split(";")[0].strip() == "application/json", where
    body = orjson.loads(answer.body)
    if answer.status >= 400:
        assert isinstance(body, dict) and set(body) == {"message"} and isinstance(body["message"], str), where


def check_healthy(emulator: InProcessEmulator) -> None:
    """The server answers /health, and the sentinel written before any fuzzing is still there."""
    assert request(emulator, "GET", "/health", {}).status == 200
    answer = request(vendor_emulator, "GET", f"/2023-12/users/{SENTINEL}", PROD)
    assert answer.status == 200 and orjson.loads(answer.body)["username"] == "sentinel@example.com", answer.body


def operations(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def label(operation: Any) -> str:
    return f"{operation.method.upper()} {operation.path}"


def fuzz(emulator: InProcessEmulator, operation: Any, headers: dict[str, str]) -> None:
    """EXAMPLES cases of one operation, generated by Schemathesis from its schema (its own pytest integration
    adds phases that cost seconds per operation; this keeps CI to the cases themselves)."""

    @FUZZ
    @given(operation.as_strategy())
    def run(case: Any) -> None:
        check_answer(case, send(emulator, case, headers))

    run()
    check_healthy(emulator)


@pytest.mark.parametrize("operation", operations(vendor), ids=label)
def test_vendor_api(operation: Any) -> None:
    fuzz(vendor_emulator, operation, DEV)


@pytest.mark.parametrize("operation", operations(control), ids=label)
def test_control_api(operation: Any) -> None:
    fuzz(control_emulator, operation, CONTROL)


def test_the_checks_catch_what_they_are_for() -> None:
    """The checks fail on a 5xx, a text/plain error and an error body that is not `{"message"}`."""
    case = operations(vendor)[0].Case()
    bad = [
        Answer(500, [(b"content-type", b"application/json")], b'{"message": "boom"}'),
        Answer(400, [(b"content-type", b"text/plain")], b"Invalid HTTP request received."),
        Answer(404, [(b"content-type", b"application/json")], b'{"error": "no"}'),
        Answer(401, [], b'{"message": "no type"}'),
    ]
    for answer in bad:
        with pytest.raises(AssertionError):
            check_answer(case, answer)
    check_answer(case, Answer(404, [(b"content-type", b"application/json")], b'{"message": "Not found"}'))


@pytest.mark.parametrize("emulator", [vendor_emulator, control_emulator], ids=["vendor", "control"])
def test_healthy_and_nothing_acknowledged_lost_afterwards(emulator: InProcessEmulator) -> None:
    """Runs after the fuzzing in the same worker when the order holds, and proves the property either way."""
    check_healthy(emulator)
