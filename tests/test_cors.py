"""What a web page on another origin can do, seen in raw requests: CORS and Private Network Access only on the
routes alloy-frontend calls, none on the control API, whose writes a form or a no-cors fetch cannot make.

tests/browser/ shows the same with a real browser.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from alloy_mock.app import create_app
from alloy_mock.config import API_VERSIONS, Settings
from alloy_mock.emulator import Emulator
from alloy_mock.http.control import NOT_FROM_A_PAGE
from alloy_mock.http.cors import BROWSER_ROUTES, FRONTEND_ROUTES

from .conftest import DEV
from .helpers import assert_error, assert_ok, show
from .test_control import CONTROL_ENDPOINTS, VALID_CALLS, control_state

__all__ = ["control_state"]  # a fixture, used by name below

ORIGIN = "http://attacker.example"
JAN_1_2024 = 1704067200.0


def preflight(
    client: TestClient, path: str, method: str = "GET", headers: str | None = None, private_network: bool = False
) -> httpx.Response:
    """The OPTIONS request a browser sends before a cross-origin request that is not "simple"."""
    sent = {"Origin": ORIGIN, "Access-Control-Request-Method": method}
    if headers is not None:
        sent["Access-Control-Request-Headers"] = headers
    if private_network:
        sent["Access-Control-Request-Private-Network"] = "true"
    return client.options(path, headers=sent)


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name.lower().startswith("access-control-")}


# -- the routes alloy-frontend calls ------------------------------------------------------------------

FRONTEND_CALLS = [
    pytest.param(f"/{version}{path}", methods, id=f"{methods[0]} /{version}{path}")
    for version in API_VERSIONS
    for path, methods in FRONTEND_ROUTES.items()
]


@pytest.mark.parametrize(("path", "methods"), FRONTEND_CALLS)
def test_preflight_allows_what_alloy_frontend_sends(client: TestClient, path: str, methods: tuple[str, ...]) -> None:
    answer = preflight(client, path, methods[0], "content-type,x-alloy-user-token")
    assert answer.status_code == 200, show(answer)
    assert cors_headers(answer) == {
        "access-control-allow-origin": "*",
        "access-control-allow-methods": ", ".join(methods),
        "access-control-allow-headers": "Content-Type, x-alloy-user-token",
        "access-control-max-age": "600",
    }, show(answer)


@pytest.mark.parametrize(("path", "methods"), FRONTEND_CALLS)
def test_private_network_preflight_is_granted_where_cors_is_open(
    client: TestClient, path: str, methods: tuple[str, ...]
) -> None:
    """A page on a public site reaching the emulator on localhost: Chrome asks first (Private Network Access)."""
    answer = preflight(client, path, methods[0], "x-alloy-user-token", private_network=True)
    assert answer.status_code == 200, show(answer)
    assert answer.headers["access-control-allow-private-network"] == "true", show(answer)
    assert answer.headers["access-control-allow-origin"] == "*", show(answer)


def test_preflight_does_not_echo_what_is_asked(client: TestClient) -> None:
    answer = preflight(client, "/2024-03/integrations", "DELETE", "x-evil,authorization,cookie")
    assert answer.headers["access-control-allow-headers"] == "Content-Type, x-alloy-user-token", show(answer)
    assert answer.headers["access-control-allow-methods"] == "GET", show(answer)
    assert "access-control-allow-credentials" not in answer.headers, show(answer)


@pytest.mark.parametrize("path", ["/2024-03/integrations/", "/2024-03//integrations//", "/2023-06/workflows/activate/"])
def test_the_allow_list_matches_normalized_paths(client: TestClient, path: str) -> None:
    """The SDKs' repeated and trailing slashes are served (never redirected), so they get CORS too."""
    answer = preflight(client, path, "PUT" if "activate" in path else "GET", "x-alloy-user-token")
    assert answer.headers.get("access-control-allow-origin") == "*", show(answer)


def test_answers_on_allowed_routes_are_readable_errors_included(client: TestClient, emulator: Emulator) -> None:
    user = emulator.users.create(emulator.namespace_named("dev"), "page-user")
    token = emulator.tokens.issue(emulator.namespace_named("dev"), user.user_id, user.username)
    ok = client.get("/2024-03/integrations", headers={"Origin": ORIGIN, "x-alloy-user-token": token})
    assert_ok(ok)
    assert ok.headers["access-control-allow-origin"] == "*", show(ok)
    refused = client.get("/2024-03/integrations", headers={"Origin": ORIGIN, "x-alloy-user-token": "forged"})
    assert_error(refused, 401, "Unauthorized")
    assert refused.headers["access-control-allow-origin"] == "*", "the SDK reads error bodies too"


def test_requests_without_origin_get_no_cors_headers(client: TestClient) -> None:
    """Servers, curl and SDKs outside a browser send no Origin: nothing is added for them."""
    answer = client.get("/2024-03/integrations", headers={"x-alloy-user-token": "forged"})
    assert cors_headers(answer) == {}, show(answer)


def test_every_allowed_route_is_a_frontend_route_or_a_hosted_page() -> None:
    """The allow-list is what alloy-frontend calls under each version and the hosted pages (GET only), nothing
    more: not the pages' JSON endpoints, which only the pages themselves call, from the emulator's origin."""
    expected = {f"/{v}{path}" for v in API_VERSIONS for path in ("/workflows", "/integrations")}
    expected |= {f"/{v}/workflows/{action}" for v in API_VERSIONS for action in ("activate", "deactivate")}
    pages = {"/forge-install", "/authenticate-app", "/embedded-install", "/scripts/embedded.js"}
    assert set(BROWSER_ROUTES) == expected | pages
    assert all(BROWSER_ROUTES[path] == ("GET",) for path in pages)


# -- everything else, the control API above all --------------------------------------------------------

CLOSED_PATHS = [
    "/_mock",
    "/_mock/reset",
    "/_mock/requests",
    "/_mock/tokens",
    "/_mock/clock/freeze",
    "/_mock/snapshots/snap/restore",
    "/2023-12/users",
    "/2024-03/users/alice/token",
    "/2024-03/integrations/shopify",
    "/health",
]


@pytest.mark.parametrize("path", CLOSED_PATHS)
@pytest.mark.parametrize("private_network", [False, True], ids=["cors", "private-network"])
def test_preflight_elsewhere_is_refused_without_cors_headers(
    client: TestClient, emulator: Emulator, path: str, private_network: bool
) -> None:
    emulator.users.create(emulator.namespace_named("dev"), "survivor")
    answer = preflight(client, path, "POST", "content-type", private_network=private_network)
    assert_error(answer, 403)
    assert answer.json()["message"].startswith(f"Cross-origin requests to {path} are not allowed"), show(answer)
    assert cors_headers(answer) == {}, show(answer)
    assert [u["username"] for u in assert_ok(client.get("/2023-12/users", headers=DEV))["data"]] == ["survivor"]


@pytest.mark.parametrize("path", ["/_mock/requests", "/_mock/clock", "/_mock", "/2023-12/users"])
def test_answers_elsewhere_carry_no_cors_headers(client: TestClient, path: str) -> None:
    """So a page's cors-mode fetch cannot read them: the request journal holds live user tokens."""
    answer = client.get(path, headers={"Origin": ORIGIN, **DEV})
    assert answer.status_code == 200, show(answer)
    assert cors_headers(answer) == {}, show(answer)


# -- control API writes: what a form or a no-cors fetch can send is refused ------------------------------

WRITES = [(method, path) for method, path in CONTROL_ENDPOINTS if method in ("POST", "PUT", "PATCH", "DELETE")]
WRITE_IDS = [f"{method} /_mock{path}" for method, path in WRITES]

# What a page can send to another origin without a preflight (the CORS-safelisted Content-Types), or nothing.
PAGE_BODIES = [
    pytest.param({}, b"", id="no-content-type"),
    pytest.param({"Content-Type": "text/plain;charset=UTF-8"}, b"", id="text-plain-empty"),
    pytest.param({"Content-Type": "text/plain"}, b'{"namespace": "dev"}', id="text-plain-json"),
    pytest.param({"Content-Type": "application/x-www-form-urlencoded"}, b"namespace=dev", id="form"),
    pytest.param(
        {"Content-Type": "multipart/form-data; boundary=b"},
        b'--b\r\nContent-Disposition: form-data; name="namespace"\r\n\r\ndev\r\n--b--\r\n',
        id="multipart",
    ),
]


def state(client: TestClient, em: Emulator) -> dict[str, Any]:
    """Everything a control API write could change."""
    return {
        "users": {ns.id: sorted(u.username for u in em.users.list(ns)) for ns in em.keys.namespaces},
        "snapshots": sorted(em.snapshots),
        "faults": [fault.to_json() for fault in em.faults.list()],
        "clock": (em.clock.frozen, em.clock.now()),
        "journal": len(assert_ok(client.get("/_mock/requests"))["data"]),
    }


@pytest.fixture
def watched(client: TestClient, control_state: Emulator) -> Emulator:
    """control_state, plus a frozen clock and a journal entry, so that every write would show."""
    control_state.clock.freeze(JAN_1_2024)
    assert_ok(client.get("/2023-12/users", headers=DEV))
    return control_state


@pytest.mark.parametrize(("headers", "body"), PAGE_BODIES)
@pytest.mark.parametrize(("method", "path"), WRITES, ids=WRITE_IDS)
def test_writes_a_web_page_could_send_are_refused(
    client: TestClient, watched: Emulator, method: str, path: str, headers: dict[str, str], body: bytes
) -> None:
    before = state(client, watched)
    url = VALID_CALLS[(method, path)][0]
    answer = client.request(method, f"/_mock{url}", headers={"Origin": ORIGIN, **headers}, content=body)
    assert_error(answer, 415, NOT_FROM_A_PAGE)
    assert cors_headers(answer) == {}, show(answer)
    assert state(client, watched) == before, "a refused write changed nothing"


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Content-Type": "application/json"}, id="json"),
        pytest.param({"Content-Type": "Application/JSON; charset=utf-8"}, id="json-charset"),
        pytest.param({"X-Alloy-Mock": "1"}, id="custom-header"),
    ],
)
@pytest.mark.parametrize(("method", "path"), WRITES, ids=WRITE_IDS)
def test_writes_with_json_or_the_custom_header_are_served(
    client: TestClient, control_state: Emulator, method: str, path: str, headers: dict[str, str]
) -> None:
    """What curl, the SDK-side helpers and tests send; a bodyless write needs no body for it either."""
    url, body = VALID_CALLS[(method, path)]
    content = b"" if body is None else httpx.Request("POST", "/", json=body).content
    answer = client.request(method, f"/_mock{url}", headers=headers, content=content)
    assert_ok(answer)


def test_reads_need_neither(client: TestClient) -> None:
    assert_ok(client.get("/_mock/clock"))


def test_the_admin_token_is_checked_first() -> None:
    """With an admin token set, a write without it is a 401 whatever it carries (nothing to learn from a 415)."""
    em = Emulator.open(Settings(admin_token="s3cret"))
    try:
        with TestClient(create_app(emulator=em)) as protected:
            assert_error(protected.post("/_mock/reset", content=b""), 401)
            answer = protected.post("/_mock/reset", content=b"", headers={"Authorization": "Bearer s3cret"})
            assert_error(answer, 415, NOT_FROM_A_PAGE)
            sent = {"Authorization": "Bearer s3cret", "X-Alloy-Mock": "1"}
            assert_ok(protected.post("/_mock/reset", headers=sent))
    finally:
        em.close()


def test_the_control_openapi_document_says_what_writes_need(client: TestClient) -> None:
    document = assert_ok(client.get("/_mock/openapi.json"))
    assert "X-Alloy-Mock: 1" in document["info"]["description"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert ("415" in operation["responses"]) == (method != "get"), f"{method.upper()} {path}"
