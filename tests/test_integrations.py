"""Integrations: the seed catalogue as one user sees it, in the reference's Integration shape."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from alloy_mock.catalogue import default_fixtures_path

from .conftest import API, DEV, PROD
from .helpers import assert_error, assert_ok

MakeUser = Callable[..., str]
INTEGRATION_KEYS = {"integrationId", "app", "installed", "icon", "workflows"}
WORKFLOW_KEYS = {"workflowId", "name", "installed", "version", "active", "blocks"}  # + installedVersion when installed
BLOCK_KEYS = {"name", "id", "type", "icon"}


def seed_integrations() -> list[dict[str, Any]]:
    """The integrations in the bundled fixtures, read straight from the files (not through the emulator)."""
    path = default_fixtures_path()
    files = sorted(p for p in path.iterdir() if p.suffix == ".json") if path.is_dir() else [path]
    found: list[dict[str, Any]] = []
    for file in files:
        found.extend(json.loads(file.read_text()).get("integrations", []))
    return found


SEED = seed_integrations()


def expected_integration(seed: dict[str, Any]) -> dict[str, Any]:
    """The documented Integration object for a user who has installed nothing."""
    return {
        "integrationId": seed["integrationId"],
        "app": seed["app"],
        "installed": False,
        "icon": seed["icon"],
        "workflows": [
            {
                "workflowId": workflow["workflowId"],
                "name": workflow["name"],
                "installed": False,
                "version": len(workflow["versions"]),
                "active": False,
                "blocks": [{key: block[key] for key in ("name", "id", "type", "icon")} for block in workflow["blocks"]],
            }
            for workflow in seed["workflows"]
        ],
    }


# -- helpers --------------------------------------------------------------------------------------


def assert_integration_shape(integration: Any) -> None:
    """Keys and types exactly as the reference's Integration object (nothing installed)."""
    assert isinstance(integration, dict), integration
    assert set(integration) == INTEGRATION_KEYS, sorted(integration)
    assert isinstance(integration["integrationId"], str) and len(integration["integrationId"]) == 24, integration
    assert isinstance(integration["app"], str) and integration["app"], integration
    assert integration["installed"] is False, integration
    assert isinstance(integration["icon"], str) and integration["icon"], integration
    assert isinstance(integration["workflows"], list), integration
    for workflow in integration["workflows"]:
        assert set(workflow) == WORKFLOW_KEYS, (
            f"{sorted(workflow)} (installedVersion must be absent when not installed)"
        )
        assert isinstance(workflow["workflowId"], str) and len(workflow["workflowId"]) == 24, workflow
        assert isinstance(workflow["name"], str), workflow
        assert workflow["installed"] is False, workflow
        assert workflow["active"] is False, workflow
        assert type(workflow["version"]) is int and workflow["version"] >= 1, workflow
        assert isinstance(workflow["blocks"], list) and workflow["blocks"], workflow
        for block in workflow["blocks"]:
            assert set(block) == BLOCK_KEYS, sorted(block)
            assert all(isinstance(block[key], str) and block[key] for key in BLOCK_KEYS), block


@pytest.fixture
def user_id(make_user: MakeUser) -> str:
    return make_user("integrations@example.com", "Integrations User")


def test_seed_is_not_empty() -> None:
    assert len(SEED) >= 2, "the bundled fixtures should hold integrations for these tests to mean anything"


# -- list -----------------------------------------------------------------------------------------


def test_list_matches_the_seed_exactly(client: TestClient, user_id: str) -> None:
    body = assert_ok(client.get(f"{API}/integrations", params={"userId": user_id}, headers=DEV))
    assert set(body) == {"data"}, sorted(body)
    assert isinstance(body["data"], list), body
    for integration in body["data"]:
        assert_integration_shape(integration)
    assert body["data"] == [expected_integration(seed) for seed in SEED]


def test_list_by_username(client: TestClient, user_id: str) -> None:
    by_id = assert_ok(client.get(f"{API}/integrations", params={"userId": user_id}, headers=DEV))
    by_name = assert_ok(client.get(f"{API}/integrations", params={"userId": "integrations@example.com"}, headers=DEV))
    assert by_name == by_id


@pytest.mark.parametrize(
    "username",
    ["user+tag@example.com", "a/b", "100%", "what?#x", "with space", "\U0001f642", "\u05e9\u05dc\u05d5\u05dd"],
)
def test_list_by_tricky_username(client: TestClient, make_user: MakeUser, username: str) -> None:
    make_user(username)
    body = assert_ok(client.get(f"{API}/integrations?userId={quote(username, safe='')}", headers=DEV))
    assert body == {"data": [expected_integration(seed) for seed in SEED]}


def test_unknown_query_parameters_are_ignored(client: TestClient, user_id: str) -> None:
    params = {"userId": user_id, "integrationId": "x", "page": "2", "limit": "1"}
    body = assert_ok(client.get(f"{API}/integrations", params=params, headers=DEV))
    assert len(body["data"]) == len(SEED), body


# -- get ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEED, ids=[s["app"] for s in SEED])
def test_get_by_id(client: TestClient, user_id: str, seed: dict[str, Any]) -> None:
    body = assert_ok(client.get(f"{API}/integrations/{seed['integrationId']}", params={"userId": user_id}, headers=DEV))
    assert set(body) == {"data"}, sorted(body)
    assert_integration_shape(body["data"])
    assert body["data"] == expected_integration(seed)


@pytest.mark.parametrize("seed", SEED, ids=[s["app"] for s in SEED])
@pytest.mark.parametrize("spelling", [str, str.lower, str.upper, str.swapcase], ids=["as-is", "lower", "upper", "swap"])
def test_get_by_name_case_insensitively(
    client: TestClient, user_id: str, seed: dict[str, Any], spelling: Callable[[str], str]
) -> None:
    name = quote(spelling(seed["app"]), safe="")
    body = assert_ok(client.get(f"{API}/integrations/{name}", params={"userId": user_id}, headers=DEV))
    assert body == {"data": expected_integration(seed)}


def test_get_by_username(client: TestClient, user_id: str) -> None:
    seed = SEED[0]
    response = client.get(f"{API}/integrations/{seed['integrationId']}?userId=integrations@example.com", headers=DEV)
    assert assert_ok(response) == {"data": expected_integration(seed)}


def test_list_item_equals_get(client: TestClient, user_id: str) -> None:
    listed = assert_ok(client.get(f"{API}/integrations", params={"userId": user_id}, headers=DEV))["data"]
    for item in listed:
        one = assert_ok(
            client.get(f"{API}/integrations/{item['integrationId']}", params={"userId": user_id}, headers=DEV)
        )
        assert one == {"data": item}


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "?userId", "?userId=", "?userid=x", "?user_id=x", "?UserId=x"])
@pytest.mark.parametrize("path", ["/integrations", "/integrations/Shopify"])
def test_user_id_is_required(client: TestClient, user_id: str, path: str, query: str) -> None:
    assert_error(client.get(f"{API}{path}{query}", headers=DEV), 400, "userId is required")


@pytest.mark.parametrize("ident", ["000000000000000000000000", "nobody@example.com", "None", "null", "%ED%A0%80"])
@pytest.mark.parametrize("path", ["/integrations", "/integrations/Shopify"])
def test_unknown_user(client: TestClient, user_id: str, path: str, ident: str) -> None:
    assert_error(client.get(f"{API}{path}?userId={ident}", headers=DEV), 404, "User not found")


def test_deleted_user(client: TestClient, user_id: str) -> None:
    assert_ok(client.delete(f"{API}/users/{user_id}", headers=DEV))
    assert_error(client.get(f"{API}/integrations", params={"userId": user_id}, headers=DEV), 404, "User not found")


@pytest.mark.parametrize(
    "ident",
    [
        "000000000000000000000000",
        "ffffffffffffffffffffffff",
        "Nope",
        "Shopif",
        "Shopify ",
        " Shopify",
        "Shopify%2F",
        "None",
        SEED[0]["workflows"][0]["workflowId"],  # a workflow id is not an integration id
        SEED[0]["integrationId"].upper(),
        "%25",
        "..",
    ],
)
def test_unknown_integration(client: TestClient, user_id: str, ident: str) -> None:
    segment = quote(ident, safe="%") if ident != ".." else "%2E%2E"
    response = client.get(f"{API}/integrations/{segment}", params={"userId": user_id}, headers=DEV)
    assert_error(response, 404, "Integration not found")


def test_other_namespace_user_is_unknown(client: TestClient, user_id: str) -> None:
    for ident in (user_id, "integrations@example.com"):
        for path in ("/integrations", f"/integrations/{SEED[0]['integrationId']}"):
            assert_error(client.get(f"{API}{path}", params={"userId": ident}, headers=PROD), 404, "User not found")


def test_prod_user_sees_the_same_catalogue(client: TestClient, make_user: MakeUser) -> None:
    prod_id = make_user("prod-integrations", headers=PROD)
    body = assert_ok(client.get(f"{API}/integrations", params={"userId": prod_id}, headers=PROD))
    assert body == {"data": [expected_integration(seed) for seed in SEED]}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}], ids=["no-key", "unknown-key"])
@pytest.mark.parametrize("path", ["/integrations", "/integrations/Shopify"])
def test_key_required(client: TestClient, user_id: str, path: str, headers: dict[str, str]) -> None:
    assert_error(client.get(f"{API}{path}", params={"userId": user_id}, headers=headers), 401, "Unauthorized")
