"""Credentials: apps and credential metadata per version path, create (object and JSON-string forms, 2023-12
and 2024-03 headless), list, delete; validation names the field and never echoes a secret."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from .conftest import API, DEV, PROD, ServerProcess
from .helpers import TO_KLAVIYO, assert_error, assert_ok, control_install, installed
from .test_integrations import default_fixtures_path

MakeUser = Callable[..., str]
V4 = "/2024-03"
OLD = ["2023-01", "2023-06"]
SECRET = "s3cr3t-Value-\u00e9-7f1c"  # must never come back from the emulator


def seed(section: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads((default_fixtures_path() / f"{section}.json").read_text())[section]
    return items


def rendered_metadata(item: dict[str, Any]) -> dict[str, Any]:
    """Credential metadata as documented: the emulator-only `required` left out, `description` only when set."""
    properties = []
    for prop in item["properties"]:
        shown = {"name": prop["name"], "displayName": prop["displayName"]}
        if prop.get("description") is not None:
            shown["description"] = prop["description"]
        properties.append(shown)
    return {"name": item["name"], "icon": item["icon"], "isOauth": item["isOauth"], "properties": properties}


METADATA = [rendered_metadata(item) for item in seed("credentials")]
APPS = [{"name": app["name"], "icon": app["icon"], "type": app["type"]} for app in seed("apps")]
CREDENTIAL_KEYS = {"credentialId", "type", "createdAt", "updatedAt"}


@pytest.fixture
def user_id(make_user: MakeUser) -> str:
    return make_user("credentials@example.com")


def listed(client: TestClient, user: str, headers: dict[str, str] = DEV, version: str = API) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = assert_ok(client.get(f"{version}/users/{user}/credentials", headers=headers))["data"]
    for item in data:
        assert set(item) == CREDENTIAL_KEYS, item
    return data


def create(client: TestClient, user: str, credential: Any) -> str:
    body = assert_ok(client.post(f"{API}/users/{user}/credentials", json={"credential": credential}, headers=DEV))
    assert set(body) == {"success", "credentialId"} and body["success"] is True, body
    return str(body["credentialId"])


# -- apps and credential metadata ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", [f"/{v}/apps" for v in [*OLD, "2023-12"]] + ["/2023-12/metadata/apps", "/2024-03/metadata/apps"]
)
def test_apps(client: TestClient, path: str) -> None:
    assert_ok(client.get(path, headers=DEV), {"data": APPS})


@pytest.mark.parametrize(
    "path",
    [
        "/2023-12/credentials",
        "/2023-12/credentials?userId=anyone",
        "/2023-12/metadata/credentials",
        "/2024-03/metadata/credentials",
    ],
)
def test_credential_metadata_of_all_apps(client: TestClient, path: str) -> None:
    assert_ok(client.get(path, headers=DEV), {"data": METADATA})


@pytest.mark.parametrize("item", METADATA, ids=[m["name"] for m in METADATA])
@pytest.mark.parametrize(
    "template",
    [
        "/2023-12/metadata/credentials/{}",
        "/2024-03/metadata/credentials/{}",
        "/2023-01/credentials/{}",
        "/2023-06/credentials/{}",
    ],
)
def test_credential_metadata_of_one_app(client: TestClient, item: dict[str, Any], template: str) -> None:
    assert_ok(client.get(template.format(item["name"]), headers=DEV), {"data": item})


@pytest.mark.parametrize("app", ["nope", "shopify ", "None", "%2F"])
def test_credential_metadata_of_an_unknown_app_is_400(client: TestClient, app: str) -> None:
    response = client.get(f"{V4}/metadata/credentials/{app}", headers=DEV)
    assert_error(
        response, 400, prefix=f"Unknown app {app.replace('%2F', '/')!r}: credentials exist for acuityScheduling, "
    )


@pytest.mark.parametrize(
    "path", ["/2024-03/apps", "/2024-03/credentials", "/2023-01/metadata/apps", "/2023-06/metadata/credentials"]
)
def test_paths_of_other_versions_are_404(client: TestClient, path: str) -> None:
    assert_error(client.get(path, headers=DEV), 404, f"No route for GET {path}")


@pytest.mark.parametrize(
    "path", ["/2023-12/apps", "/2024-03/metadata/credentials", "/2024-03/metadata/credentials/shopify"]
)
def test_metadata_needs_the_key(client: TestClient, path: str) -> None:
    assert_error(client.get(path), 401, "Unauthorized")


# -- create, list, delete -------------------------------------------------------------------------


def test_create_then_list(client: TestClient, user_id: str) -> None:
    assert listed(client, user_id) == []
    woo = {
        "type": "wooCommerce",
        "data": {"consumerKey": "ck", "consumerSecret": SECRET, "url": "https://shop.example"},
    }
    first = create(client, user_id, woo)
    second = create(client, "credentials@example.com", json.dumps({"type": "klaviyo", "data": {"apiKey": SECRET}}))
    third = create(client, user_id, {"type": "hubspot", "data": {"accessToken": SECRET, "refreshToken": SECRET}})
    data = listed(client, user_id)
    assert [(c["credentialId"], c["type"]) for c in data] == [
        (first, "wooCommerce"),
        (second, "klaviyo"),
        (third, "hubspot"),
    ]
    assert all(c["createdAt"] == c["updatedAt"] and c["createdAt"].endswith("Z") for c in data), data
    assert SECRET not in json.dumps(data)
    assert listed(client, user_id, version=V4) == data


@pytest.mark.parametrize("form", ["object", "string"])
def test_create_with_the_2024_03_headless_path(client: TestClient, user_id: str, form: str) -> None:
    credential: Any = {
        "type": "netsuite",
        "data": {k: SECRET for k in ("realm", "consumerKey", "consumerSecret", "tokenId", "tokenSecret")},
    }
    if form == "string":
        credential = json.dumps(credential)
    response = client.post(
        f"{V4}/headless/credentials", json={"credential": credential, "userId": user_id}, headers=DEV
    )
    body = assert_ok(response)
    assert body == {"success": True, "credentialId": body["credentialId"]}
    assert [(c["credentialId"], c["type"]) for c in listed(client, user_id, version=V4)] == [
        (body["credentialId"], "netsuite")
    ]


def test_numbers_and_booleans_are_simple_values(client: TestClient, user_id: str) -> None:
    create(client, user_id, {"type": "salesforce", "data": {"isSandbox": True}})
    create(client, user_id, {"type": "acuityScheduling", "data": {"apiKey": SECRET, "userId": 12345}})
    assert [c["type"] for c in listed(client, user_id)] == ["salesforce", "acuityScheduling"]


@pytest.mark.parametrize("version", ["2023-12", "2024-03"])
def test_delete(client: TestClient, user_id: str, make_user: MakeUser, version: str) -> None:
    other = make_user("other@example.com")
    keep = create(client, user_id, {"type": "stripe", "data": {"apiKey": SECRET}})
    doomed = create(client, user_id, {"type": "klaviyo", "data": {"apiKey": SECRET}})
    theirs = create(client, other, {"type": "klaviyo", "data": {"apiKey": SECRET}})
    assert_ok(client.delete(f"/{version}/users/{user_id}/credentials/{doomed}", headers=DEV), {"success": True})
    assert [c["credentialId"] for c in listed(client, user_id)] == [keep]
    again = client.delete(f"/{version}/users/{user_id}/credentials/{doomed}", headers=DEV)
    assert_error(again, 404, "Credential not found")
    # Another user's credential is not the user's to delete.
    assert_error(
        client.delete(f"/{version}/users/{user_id}/credentials/{theirs}", headers=DEV), 404, "Credential not found"
    )
    assert_error(client.delete(f"/{version}/users/{user_id}/credentials/{keep}", headers=PROD), 404, "User not found")
    assert [c["credentialId"] for c in listed(client, other)] == [theirs]
    assert [c["credentialId"] for c in listed(client, user_id)] == [keep]


def test_deleting_a_credential_an_install_uses_is_allowed(client: TestClient, user_id: str) -> None:
    klaviyo = create(client, user_id, {"type": "klaviyo", "data": {"apiKey": SECRET}})
    control_install(client, user_id, "Shopify", workflows=[TO_KLAVIYO], values={"listId": "L"})
    assert_ok(client.delete(f"{API}/users/{user_id}/credentials/{klaviyo}", headers=DEV), {"success": True})
    assert installed(client, user_id)[TO_KLAVIYO]["credentialIds"]["klaviyo"] == klaviyo, "the install keeps the id"
    workflow = client.get(f"{API}/workflows/{TO_KLAVIYO}", params={"userId": user_id}, headers=DEV)
    assert assert_ok(workflow)["data"]["installed"] is True


def test_credentials_are_isolated_by_namespace(client: TestClient, user_id: str, make_user: MakeUser) -> None:
    create(client, user_id, {"type": "stripe", "data": {"apiKey": SECRET}})
    assert_error(client.get(f"{API}/users/{user_id}/credentials", headers=PROD), 404, "User not found")
    body = {"credential": {"type": "stripe", "data": {"apiKey": SECRET}}}
    assert_error(client.post(f"{API}/users/{user_id}/credentials", json=body, headers=PROD), 404, "User not found")
    headless = {**body, "userId": user_id}
    assert_error(client.post(f"{V4}/headless/credentials", json=headless, headers=PROD), 404, "User not found")
    prod_user = make_user("credentials@example.com", headers=PROD)
    assert listed(client, prod_user, headers=PROD) == []
    assert len(listed(client, user_id)) == 1


# -- validation: names the field, never a value ------------------------------------------------------

WOO_KEYS = "expected: consumerKey, consumerSecret, url"
INVALID = [
    pytest.param(None, "credential is required", id="missing"),
    pytest.param(SECRET, "credential must be an object, or a string holding a JSON object", id="string-not-json"),
    pytest.param(json.dumps(SECRET), "credential must be an object with type and data", id="string-of-string"),
    pytest.param(json.dumps([SECRET]), "credential must be an object with type and data", id="string-of-array"),
    pytest.param([SECRET], "credential must be an object with type and data", id="array"),
    pytest.param(5, "credential must be an object with type and data", id="number"),
    pytest.param(True, "credential must be an object with type and data", id="bool"),
    pytest.param(
        {"data": {"apiKey": SECRET}}, "credential.type is required (an app name such as 'wooCommerce')", id="no-type"
    ),
    pytest.param(
        {"type": "", "data": {}}, "credential.type is required (an app name such as 'wooCommerce')", id="empty-type"
    ),
    pytest.param(
        {"type": 5, "data": {}}, "credential.type is required (an app name such as 'wooCommerce')", id="type-number"
    ),
    pytest.param({"type": "stripe"}, "credential.data is required", id="no-data"),
    pytest.param({"type": "stripe", "data": None}, "credential.data is required", id="null-data"),
    pytest.param({"type": "stripe", "data": SECRET}, "credential.data must be an object", id="data-string"),
    pytest.param({"type": "stripe", "data": [SECRET]}, "credential.data must be an object", id="data-array"),
    pytest.param(
        {"type": "stripe", "data": {}},
        "credential.data.apiKey is required for stripe (Secret Key)",
        id="missing-property",
    ),
    pytest.param(
        {"type": "stripe", "data": {"apiKey": ""}},
        "credential.data.apiKey is required for stripe (Secret Key)",
        id="empty-property",
    ),
    pytest.param(
        {"type": "stripe", "data": {"apiKey": " \t"}},
        "credential.data.apiKey is required for stripe (Secret Key)",
        id="blank-property",
    ),
    pytest.param(
        {"type": "stripe", "data": {"apiKey": None}},
        "credential.data.apiKey must be a string, a number or a boolean",
        id="null-property",
    ),
    pytest.param(
        {"type": "stripe", "data": {"apiKey": [SECRET]}},
        "credential.data.apiKey must be a string, a number or a boolean",
        id="array-property",
    ),
    pytest.param(
        {"type": "stripe", "data": {"apiKey": {"v": SECRET}}},
        "credential.data.apiKey must be a string, a number or a boolean",
        id="object-property",
    ),
    pytest.param(
        {"type": "stripe", "data": {"apiKey": SECRET * 1000}},
        "credential.data.apiKey must be at most 8192 characters",
        id="huge-property",
    ),
    pytest.param(
        {
            "type": "wooCommerce",
            "data": {"consumerKey": SECRET, "consumerSecret": SECRET, "url": "u", "password": SECRET},
        },
        f"credential.data has unknown properties for wooCommerce: password ({WOO_KEYS})",
        id="unknown-property",
    ),
    pytest.param(
        {"type": "wooCommerce", "data": {"consumerKey": SECRET, "url": "u"}},
        "credential.data.consumerSecret is required for wooCommerce (Consumer Secret)",
        id="one-missing",
    ),
    pytest.param(
        {"type": "stripe", "data": {"apiKey": SECRET}, "extra": SECRET},
        "credential has unknown keys: extra (expected type and data)",
        id="unknown-key",
    ),
    pytest.param(
        {"type": "hubspot", "data": {f"k{i}": SECRET for i in range(51)}},
        "credential.data can hold at most 50 keys",
        id="51-keys",
    ),
]


@pytest.mark.parametrize(("credential", "message"), INVALID)
@pytest.mark.parametrize("path", ["2023-12", "2024-03"])
def test_invalid_credentials_are_400_without_the_secret(
    client: TestClient, user_id: str, credential: Any, message: str, path: str
) -> None:
    if path == "2023-12":
        response = client.post(f"{API}/users/{user_id}/credentials", json={"credential": credential}, headers=DEV)
    else:
        response = client.post(
            f"{V4}/headless/credentials", json={"credential": credential, "userId": user_id}, headers=DEV
        )
    assert_error(response, 400, message)
    assert SECRET not in response.text and "s3cr3t" not in response.text
    assert listed(client, user_id) == []


@pytest.mark.parametrize("app", ["nope", "stripe-key", SECRET, "x" * 5000])
def test_unknown_type_is_named_briefly(client: TestClient, user_id: str, app: str) -> None:
    response = client.post(
        f"{API}/users/{user_id}/credentials", json={"credential": {"type": app, "data": {}}}, headers=DEV
    )
    assert_error(response, 400, prefix="Unknown app ")
    assert len(response.json()["message"]) < 400, "a huge input is not echoed whole"
    assert listed(client, user_id) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"credential": {"type": "stripe", "data": {"apiKey": SECRET}}}, "userId is required"),
        (
            {"credential": {"type": "stripe", "data": {"apiKey": SECRET}}, "userId": ""},
            "userId must be a non-empty string",
        ),
        (
            {"credential": {"type": "stripe", "data": {"apiKey": SECRET}}, "userId": 5},
            "userId must be a non-empty string",
        ),
        (
            {"credential": {"type": "stripe", "data": {"apiKey": SECRET}}, "userId": [SECRET]},
            "userId must be a non-empty string",
        ),
    ],
)
def test_headless_create_needs_a_user_id(client: TestClient, user_id: str, body: dict[str, Any], message: str) -> None:
    response = client.post(f"{V4}/headless/credentials", json=body, headers=DEV)
    assert_error(response, 400, message)
    assert SECRET not in response.text
    assert listed(client, user_id) == []


def test_create_for_an_unknown_user_is_404(client: TestClient, user_id: str) -> None:
    body = {"credential": {"type": "stripe", "data": {"apiKey": SECRET}}}
    assert_error(client.post(f"{API}/users/nobody/credentials", json=body, headers=DEV), 404, "User not found")
    response = client.post(f"{V4}/headless/credentials", json={**body, "userId": "nobody"}, headers=DEV)
    assert_error(response, 404, "User not found")


def test_secrets_never_reach_the_journals_response_bodies(client: TestClient, user_id: str) -> None:
    create(client, user_id, {"type": "stripe", "data": {"apiKey": SECRET}})
    client.post(
        f"{API}/users/{user_id}/credentials",
        json={"credential": {"type": "stripe", "data": {"apiKey": [SECRET]}}},
        headers=DEV,
    )
    client.post(
        f"{V4}/headless/credentials",
        json={"credential": json.dumps({"type": "stripe", "data": {}, SECRET: 1})},
        headers=DEV,
    )
    listed(client, user_id)
    entries = assert_ok(client.get("/_mock/requests"))["data"]
    assert len(entries) >= 4
    for entry in entries:
        assert SECRET not in json.dumps(entry["responseBody"]), entry
    assert SECRET not in json.dumps(assert_ok(client.get("/_mock/installs", params={"user": user_id})))


def test_secrets_never_reach_a_real_servers_log(serve: Callable[..., ServerProcess]) -> None:
    server = serve("--access-log", "--log-level", "debug")
    with server.client() as http:
        user = http.post(f"{API}/users", json={"username": "logged"}, headers=DEV).json()["userId"]
        good = {"credential": {"type": "stripe", "data": {"apiKey": SECRET}}}
        assert http.post(f"{API}/users/{user}/credentials", json=good, headers=DEV).status_code == 200
        for credential in ({"type": "stripe", "data": {"apiKey": [SECRET]}}, SECRET, {"type": SECRET, "data": {}}):
            assert (
                http.post(f"{API}/users/{user}/credentials", json={"credential": credential}, headers=DEV).status_code
                == 400
            )
        headless = {"credential": json.dumps({"type": "klaviyo", "data": {"apiKey": SECRET}}), "userId": user}
        assert http.post(f"{V4}/headless/credentials", json=headless, headers=DEV).status_code == 200
        assert http.get(f"{API}/users/{user}/credentials", headers=DEV).status_code == 200
    server.stop()
    stdout, stderr = server.process.communicate(timeout=15)
    assert "/credentials" in stdout + stderr, "the access log is on, so the requests were logged"
    assert SECRET not in stdout + stderr
