"""The nasty inputs of the users endpoints, applied to every body and id of the install, workflow, credential
and headless endpoints: each answers a clear 4xx JSON {"message"} and changes nothing.

"Nothing" is checked against the whole store: a user with installs, credentials and a pending
installation exists before each request, and every table is the same afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from alloy_mock.app import create_app
from alloy_mock.config import Settings
from alloy_mock.emulator import Emulator

from .conftest import API, DEV
from .helpers import NEW_CUSTOMER, POST_TICKETS, SLACK, show
from .test_http import DEEP_BODIES, MALFORMED, chunks
from .test_users import enc

V4 = "/2024-03"
JSON = {"Content-Type": "application/json"}
TICKETS_BLOCK = "11154e91-4966-4961-8d9d-88998e0d1625"


class State:
    """The ids of the state every test starts with, and a fingerprint of the whole store."""

    def __init__(self, client: TestClient, emulator: Emulator) -> None:
        self.client = client
        self.emulator = emulator
        self.user = client.post(f"{API}/users", json={"username": "nasty@example.com"}, headers=DEV).json()["userId"]
        body = {"user": self.user, "integration": "Slack", "values": {"channel": "#ops"}}
        assert client.post("/_mock/installs", json=body).status_code == 200
        credential = {"credential": {"type": "stripe", "data": {"apiKey": "sk_1"}}}
        self.credential = client.post(f"{API}/users/{self.user}/credentials", json=credential, headers=DEV).json()[
            "credentialId"
        ]
        start = {"userId": self.user, "integrationId": SLACK, "workflowIds": [POST_TICKETS]}
        self.installation = client.post(f"{V4}/headless/startInstallation", json=start, headers=DEV).json()[
            "installationId"
        ]
        self.before = self.fingerprint()
        self.saved = emulator.store.export()

    def restore(self) -> None:
        self.emulator.store.restore(self.saved)

    def fingerprint(self) -> dict[str, Any]:
        return {name: docs for name, docs in self.emulator.store.export().items() if docs}

    def fill(self, text: str) -> str:
        return text.replace("{u}", self.user).replace("{c}", self.credential).replace("{i}", self.installation)

    def assert_unchanged(self) -> None:
        assert self.fingerprint() == self.before, "a refused request must change nothing"


def shared_state(settings: Settings) -> Iterator[State]:
    """One emulator for a whole module (the cases are many), put back to the starting state after each test."""
    emulator = Emulator.open(settings)
    with TestClient(create_app(emulator=emulator)) as client:
        yield State(client, emulator)
    emulator.close()


@pytest.fixture(scope="module")
def shared() -> Iterator[State]:
    yield from shared_state(Settings())


@pytest.fixture(scope="module")
def shared_small_limit() -> Iterator[State]:
    yield from shared_state(Settings(max_body_bytes=4096))


@pytest.fixture
def state(shared: State) -> Iterator[State]:
    yield shared
    shared.restore()


@pytest.fixture
def small_limit_state(shared_small_limit: State) -> Iterator[State]:
    yield shared_small_limit
    shared_small_limit.restore()


def assert_refused(response: httpx.Response, state: State) -> None:
    """A 4xx with exactly {"message": <non-empty string>} as JSON, and the store as it was."""
    assert 400 <= response.status_code < 500, show(response)
    assert response.headers.get("content-type", "").startswith("application/json"), show(response)
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"message"} and isinstance(body["message"], str), show(response)
    assert body["message"].strip(), show(response)
    assert len(body["message"]) < 600, "the message names what is wrong without echoing the input"
    state.assert_unchanged()


# -- bodies -----------------------------------------------------------------------------------------

# (method, path, a valid body, the fields to spoil); the vendor routes carry the dev key.
BODY_ROUTES = [
    pytest.param("PUT", f"{API}/workflows/activate", {"userId": "{u}", "workflowId": NEW_CUSTOMER}, id="activate"),
    pytest.param(
        "PUT", f"{API}/workflows/deactivate", {"userId": "{u}", "workflowName": "New Customer Created"}, id="deactivate"
    ),
    pytest.param(
        "POST",
        f"{API}/users/{{u}}/credentials",
        {"credential": {"type": "klaviyo", "data": {"apiKey": "pk"}}},
        id="credential",
    ),
    pytest.param(
        "POST",
        f"{V4}/headless/credentials",
        {"userId": "{u}", "credential": {"type": "klaviyo", "data": {"apiKey": "pk"}}},
        id="headless-credential",
    ),
    pytest.param(
        "POST",
        f"{V4}/headless/startInstallation",
        {"userId": "{u}", "integrationId": SLACK, "workflowIds": [NEW_CUSTOMER]},
        id="start",
    ),
    pytest.param(
        "POST",
        f"{V4}/headless/completeInstallation",
        {
            "installationId": "{i}",
            "data": [
                {"workflowId": POST_TICKETS, "blockId": TICKETS_BLOCK, "fields": [{"name": "channel", "value": "#a"}]}
            ],
        },
        id="complete",
    ),
    pytest.param(
        "POST",
        "/_mock/installs",
        {
            "user": "{u}",
            "integration": "Slack",
            "workflows": [NEW_CUSTOMER],
            "values": {"channel": "#a"},
            "version": 1,
            "active": True,
        },
        id="control-install",
    ),
]
# Each route's valid body changes state: checked once, so that a refusal below means something.
CHANGING = {"credential", "headless-credential", "start", "complete", "control-install"}


def send(state: State, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {} if path.startswith("/_mock") else dict(DEV)
    headers.update(kwargs.pop("headers", {}))
    return state.client.request(method, state.fill(path), headers=headers, **kwargs)


def filled(state: State, value: Any) -> Any:
    """`value` with the {u}/{c}/{i} placeholders replaced, at any depth."""
    return json.loads(state.fill(json.dumps(value)))


@pytest.mark.parametrize(("method", "path", "body"), BODY_ROUTES)
def test_the_valid_body_is_accepted(state: State, method: str, path: str, body: dict[str, Any]) -> None:
    response = send(state, method, path, json=filled(state, body))
    assert response.status_code == 200, show(response)


@pytest.mark.parametrize("raw", MALFORMED)
@pytest.mark.parametrize(("method", "path", "body"), BODY_ROUTES)
def test_malformed_json(state: State, method: str, path: str, body: Any, raw: bytes) -> None:
    assert_refused(send(state, method, path, content=raw, headers=JSON), state)


@pytest.mark.parametrize("raw", [b"[]", b"[{}]", b'"x"', b'""', b"1", b"-0", b"null", b"true", b"false"])
@pytest.mark.parametrize(("method", "path", "body"), BODY_ROUTES)
def test_json_that_is_not_an_object(state: State, method: str, path: str, body: Any, raw: bytes) -> None:
    assert_refused(send(state, method, path, content=raw, headers=JSON), state)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded", "application/xml"]
)
@pytest.mark.parametrize(("method", "path", "body"), BODY_ROUTES)
def test_a_body_that_is_not_json_is_415(state: State, method: str, path: str, body: Any, content_type: str) -> None:
    response = send(
        state, method, path, content=json.dumps(filled(state, body)).encode(), headers={"Content-Type": content_type}
    )
    assert response.status_code == 415, show(response)
    assert_refused(response, state)


@pytest.mark.parametrize(
    "raw",
    [b'{"a": "\xff"}', b'{"a": "\xed\xa0\x80"}', b'{"a": "\\ud800"}', b"\xff\xfe{\x00}\x00"],
    ids=["ff", "cesu", "lone-surrogate", "utf16"],
)
@pytest.mark.parametrize(("method", "path", "body"), BODY_ROUTES)
def test_text_that_is_not_utf8(state: State, method: str, path: str, body: Any, raw: bytes) -> None:
    assert_refused(send(state, method, path, content=raw, headers=JSON), state)


@pytest.mark.parametrize("raw", DEEP_BODIES)
@pytest.mark.parametrize(("method", "path", "body"), BODY_ROUTES)
def test_deeply_nested_json(state: State, method: str, path: str, body: Any, raw: bytes) -> None:
    assert_refused(send(state, method, path, content=raw, headers=JSON), state)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize(("method", "path", "body"), BODY_ROUTES)
def test_oversized_bodies_are_413(small_limit_state: State, method: str, path: str, body: Any, chunked: bool) -> None:
    state = small_limit_state
    raw = json.dumps({**filled(state, body), "padding": "p" * 5000}).encode()
    response = send(state, method, path, content=chunks(raw) if chunked else raw, headers=JSON)
    assert response.status_code == 413, show(response)
    assert_refused(response, state)


WRONG_VALUES = [
    pytest.param(None, id="null"),
    pytest.param("", id="empty"),
    pytest.param(" \t", id="blank"),
    pytest.param("None", id="None"),
    pytest.param("null", id="null-text"),
    pytest.param("000000000000000000000000", id="unknown-id"),
    pytest.param("a/b", id="slash"),
    pytest.param("%2F", id="encoded-slash"),
    pytest.param("\u202eevil\u202c \U0001f642 zo\u00eb", id="unicode"),
    pytest.param("x" * 1_000_000, id="1MB-string"),
    pytest.param(0, id="zero"),
    pytest.param(42, id="int"),
    pytest.param(-1, id="negative"),
    pytest.param(1.5, id="float"),
    pytest.param(2**63 - 1, id="int64-max"),
    pytest.param(True, id="true"),
    pytest.param(False, id="false"),
    pytest.param([], id="empty-array"),
    pytest.param(["x"], id="array"),
    pytest.param({}, id="empty-object"),
    pytest.param({"$gt": ""}, id="operator-object"),
    pytest.param("12", id="number-as-string"),
    pytest.param("true", id="bool-as-string"),
]
# (route id, field path): the fields of each body that take ids, names or structured values.
FIELDS = [
    ("activate", ("userId",)),
    ("activate", ("workflowId",)),
    ("deactivate", ("workflowName",)),
    ("credential", ("credential",)),
    ("credential", ("credential", "type")),
    ("credential", ("credential", "data")),
    ("credential", ("credential", "data", "apiKey")),
    ("headless-credential", ("userId",)),
    ("headless-credential", ("credential",)),
    ("start", ("userId",)),
    ("start", ("integrationId",)),
    ("start", ("workflowIds",)),
    ("start", ("credentialIds",)),
    ("complete", ("installationId",)),
    ("complete", ("data",)),
    ("control-install", ("user",)),
    ("control-install", ("integration",)),
    ("control-install", ("workflows",)),
    ("control-install", ("values",)),
    ("control-install", ("values", "channel")),
    ("control-install", ("version",)),
    ("control-install", ("active",)),
    ("control-install", ("namespace",)),
]
ROUTES = {p.id: p.values for p in BODY_ROUTES}
# Values a field may legitimately take (the request then succeeds, so it is no nasty case there); None
# stands for leaving the field out.
PLAIN_STRINGS = [
    "None",
    "null",
    "000000000000000000000000",
    "a/b",
    "%2F",
    "\u202eevil\u202c \U0001f642 zo\u00eb",
    "12",
    "true",
]
ALLOWED: dict[tuple[str, tuple[str, ...]], list[Any]] = {
    ("control-install", ("workflows",)): [None],
    ("control-install", ("version",)): [None],
    ("control-install", ("active",)): [None, True, False],
    ("control-install", ("namespace",)): [None],
    ("control-install", ("values", "channel")): PLAIN_STRINGS,  # a string field takes any short string
    ("start", ("workflowIds",)): [None],
    ("start", ("credentialIds",)): [None, []],
    # a credential property takes any short string, number or boolean
    ("credential", ("credential", "data", "apiKey")): [*PLAIN_STRINGS, 0, 42, -1, 1.5, 2**63 - 1, True, False],
}


def spoiled(body: dict[str, Any], field: tuple[str, ...], value: Any) -> dict[str, Any]:
    copy = json.loads(json.dumps(body))
    target = copy
    for key in field[:-1]:
        target = target[key]
    if value is None:
        target.pop(field[-1], None)
    else:
        target[field[-1]] = value
    return copy


def allowed(route: str, field: tuple[str, ...], value: Any) -> bool:
    return any(type(value) is type(ok) and value == ok for ok in ALLOWED.get((route, field), []))


@pytest.mark.parametrize("value", WRONG_VALUES)
@pytest.mark.parametrize(("route", "field"), FIELDS, ids=[f"{r}-{'.'.join(f)}" for r, f in FIELDS])
def test_wrong_values_in_each_field(state: State, route: str, field: tuple[str, ...], value: Any) -> None:
    if allowed(route, field, value):
        pytest.skip("a value this field accepts")
    method, path, body = ROUTES[route]
    response = send(state, method, path, json=spoiled(filled(state, body), field, value))
    assert_refused(response, state)


# -- ids in paths and queries -----------------------------------------------------------------------

NASTY_IDS = [
    pytest.param("None", id="None"),
    pytest.param("null", id="null"),
    pytest.param("undefined", id="undefined"),
    pytest.param("000000000000000000000000", id="unknown-object-id"),
    pytest.param("%2F", id="encoded-slash"),
    pytest.param("a%2Fb", id="encoded-slash-inside"),
    pytest.param("%2E%2E", id="dot-dot"),
    pytest.param("%25", id="percent"),
    pytest.param("%ED%A0%80", id="invalid-utf8"),
    pytest.param("%00", id="nul"),
    pytest.param(enc("zo\u00eb@example.com"), id="unicode"),
    pytest.param(enc("<script>alert(1)</script>"), id="html"),
    pytest.param("x" * 5000, id="5000-chars"),
    pytest.param("12", id="number"),
    pytest.param("%20", id="space"),
]
ID_ROUTES = [
    pytest.param("GET", f"{API}/workflows/{{x}}?userId={{u}}", id="get-workflow"),
    pytest.param("GET", f"{API}/workflows/{{x}}/versions?userId={{u}}", id="versions"),
    pytest.param("PUT", f"{API}/workflows/{{x}}/upgrade?userId={{u}}", id="upgrade"),
    pytest.param("DELETE", f"{API}/workflows/{{x}}?userId={{u}}", id="delete-workflow"),
    pytest.param("GET", f"{API}/workflows/{{x}}/users", id="workflow-users"),
    pytest.param("GET", f"{V4}/users?parentWorkflowId={{x}}", id="users-by-workflow"),
    pytest.param("GET", f"{API}/workflows?userId={{x}}", id="list-workflows-user"),
    pytest.param("GET", f"{API}/workflows/{NEW_CUSTOMER}?userId={{x}}", id="get-workflow-user"),
    pytest.param("PUT", f"{API}/workflows/{NEW_CUSTOMER}/upgrade?userId={{x}}", id="upgrade-user"),
    pytest.param("DELETE", f"{API}/workflows/{NEW_CUSTOMER}?userId={{x}}", id="delete-workflow-user"),
    pytest.param("GET", f"{API}/workflows/{NEW_CUSTOMER}/users?userId={{x}}", id="workflow-users-user"),
    pytest.param("PUT", f"{API}/users/{{x}}/deactivate-workflows", id="deactivate-all"),
    pytest.param("GET", f"{API}/users/{{x}}/credentials", id="list-credentials"),
    pytest.param("DELETE", f"{API}/users/{{u}}/credentials/{{x}}", id="delete-credential"),
    pytest.param("DELETE", f"{V4}/users/{{x}}/credentials/{{c}}", id="delete-credential-user"),
    pytest.param("GET", f"{API}/users/{{u}}/credentials/{{x}}", id="oauth-link-app"),
    pytest.param("GET", f"{API}/users/{{x}}/credentials/hubspot", id="oauth-link-user"),
    pytest.param("GET", f"{V4}/headless/oauthUrl?userId={{u}}&app={{x}}", id="headless-oauth-app"),
    pytest.param("GET", f"{V4}/headless/oauthUrl?userId={{x}}&app=hubspot", id="headless-oauth-user"),
    pytest.param("GET", f"{API}/users/{{u}}/integrations/{{x}}/install-url", id="install-url-integration"),
    pytest.param("GET", f"{API}/users/{{x}}/integrations/Slack/install-url", id="install-url-user"),
    pytest.param("GET", f"{V4}/metadata/credentials/{{x}}", id="metadata-app"),
    pytest.param("GET", "/2023-01/credentials/{x}", id="old-metadata-app"),
    pytest.param("GET", "/_mock/installs?user={x}", id="control-installs-user"),
    pytest.param("DELETE", "/_mock/installs?user={u}&integration={x}", id="control-uninstall-integration"),
    pytest.param("DELETE", "/_mock/installs?user={x}&integration=Slack", id="control-uninstall-user"),
    pytest.param("GET", "/_mock/installs?user={u}&namespace={x}", id="control-installs-namespace"),
]


@pytest.mark.parametrize("ident", NASTY_IDS)
@pytest.mark.parametrize(("method", "template"), ID_ROUTES)
def test_nasty_ids(state: State, method: str, template: str, ident: str) -> None:
    response = send(state, method, template.replace("{x}", ident))
    assert_refused(response, state)


def test_users_by_a_workflow_nobody_installed_is_empty_not_an_error(state: State) -> None:
    response = send(state, "GET", f"{V4}/users?parentWorkflowId=64183841f9ec255fa6b603e2")
    assert response.status_code == 200 and response.json() == {"data": []}, show(response)
