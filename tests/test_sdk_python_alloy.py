"""PyPI alloy-python 1.0.0 (API 2023-12), unmodified, against a real `alloy-mock serve` process.

The SDK hard-codes its base URL in each sub-client's `url` attribute; the documented way to aim it elsewhere is
to overwrite those attributes. Most methods raise `requests.HTTPError` on an error; `Link.generate` and the
`Tokens` methods catch it and raise `ValueError(message)` instead.
"""

from __future__ import annotations

from collections.abc import Iterator

import jwt
import pytest
import requests
from alloy_python.embedded.embedded import Embedded

from alloy_mock.config import DEFAULT_DEV_KEY, DEFAULT_PROD_KEY

from .conftest import ServerProcess
from .sdk_support import (
    CREATE_ORDER,
    HUBSPOT_CONTACT,
    NETSUITE,
    NETSUITE_ORDER,
    NOT_INSTALLED,
    ORDER_VALUES,
    SHOPIFY,
    SYNC_CUSTOMERS,
    approve_oauth,
    by_id,
    control_install,
    module_server,
    query_of,
    seeded_apps,
    unique,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from module_server(tmp_path_factory, "alloy-python")


def embedded(server: ServerProcess, api_key: str = DEFAULT_DEV_KEY) -> Embedded:
    client = Embedded(api_key)
    for part in vars(client).values():
        if hasattr(part, "url"):
            part.url = f"{server.base_url}/2023-12"
    return client


def for_user(server: ServerProcess, user: str) -> Embedded:
    """A client whose stateful sub-clients all act for `user` (the SDK keeps the user per sub-client)."""
    client = embedded(server)
    for part in vars(client).values():
        if hasattr(part, "set_user_id"):
            part.set_user_id(user)
    return client


def new_user(server: ServerProcess, prefix: str) -> tuple[Embedded, str]:
    """A fresh user and a client acting for them."""
    username = unique(prefix)
    user_id = embedded(server).User.create_user({"username": username})["userId"]
    return for_user(server, user_id), username


def http_error(call: object, *args: object) -> requests.Response:
    """Call an SDK method that must fail with requests.HTTPError; the error's response."""
    assert callable(call)
    with pytest.raises(requests.HTTPError) as failure:
        call(*args)
    response = failure.value.response
    assert response is not None
    assert response.headers["content-type"].startswith("application/json")
    return response


def test_alloy_python_user_lifecycle(server: ServerProcess) -> None:
    sdk = embedded(server)
    username = unique("py")
    created = sdk.User.create_user({"username": username, "fullName": "Py Thon"})
    user_id = created["userId"]
    assert len(user_id) == 24

    sdk.User.set_user_id(user_id)
    assert sdk.User.get_user() == {"userId": user_id, "username": username, "fullName": "Py Thon"}
    assert {"userId": user_id, "username": username, "fullName": "Py Thon"} in sdk.User.list_users()["data"]

    updated = sdk.User.update_user({"fullName": "Renamed"})
    assert updated["fullName"] == "Renamed"

    # The user's username works wherever a userId does.
    sdk.User.set_user_id(username)
    assert sdk.User.get_user()["userId"] == user_id

    assert sdk.User.delete_user() == {"success": True}
    with pytest.raises(requests.HTTPError) as failure:
        sdk.User.get_user()
    assert failure.value.response.status_code == 404


def test_alloy_python_duplicate_username_raises(server: ServerProcess) -> None:
    sdk = embedded(server)
    username = unique("dup")
    sdk.User.create_user({"username": username})
    with pytest.raises(requests.HTTPError) as failure:
        sdk.User.create_user({"username": username})
    assert failure.value.response.status_code == 400
    assert failure.value.response.json() == {"message": "User already exists"}


def test_alloy_python_batch_and_token(server: ServerProcess) -> None:
    sdk = embedded(server)
    names = [unique("batch") for _ in range(3)]
    result = sdk.User.create_batch_users({"users": [{"username": n} for n in names] + [{"fullName": "No Name"}]})
    assert result == {"message": "success", "invalidUsers": [{"fullName": "No Name"}]}

    sdk.Tokens.set_user_id(names[0])  # the SDK sends the stray `?userId` with no value
    token = sdk.Tokens.get()["token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["username"] == names[0]
    assert claims["namespace"] == "dev"


def test_alloy_python_integrations(server: ServerProcess) -> None:
    sdk = embedded(server)
    username = unique("int")
    sdk.User.create_user({"username": username})
    sdk.Integration.set_user_id(username)
    integrations = sdk.Integration.list_integrations()["data"]
    assert {i["app"] for i in integrations} >= {"Shopify", "HubSpot", "Salesforce", "NetSuite", "Slack"}
    shopify = sdk.Integration.get_integration("Shopify")["data"]
    assert shopify["installed"] is False
    assert all(w["installed"] is False and "installedVersion" not in w for w in shopify["workflows"])
    sdk.Tokens.set_user_id(username)
    assert sdk.Tokens.list_integrations()["data"] == integrations


def test_alloy_python_keys_are_isolated(server: ServerProcess) -> None:
    dev, prod = embedded(server), embedded(server, DEFAULT_PROD_KEY)
    user_id = dev.User.create_user({"username": unique("iso")})["userId"]
    prod.User.set_user_id(user_id)
    with pytest.raises(requests.HTTPError) as failure:
        prod.User.get_user()
    assert failure.value.response.status_code == 404
    assert user_id not in {u["userId"] for u in prod.User.list_users()["data"]}
    with pytest.raises(requests.HTTPError) as failure:
        embedded(server, "not-a-key").User.list_users()
    assert failure.value.response.status_code == 401


# -- workflows ------------------------------------------------------------------------------------


def test_alloy_python_install_shows_in_workflows_and_integrations(server: ServerProcess) -> None:
    sdk, username = new_user(server, "wf")
    before = sdk.Workflows.list()["data"]
    assert all(w["installed"] is False and w["active"] is False and "installedVersion" not in w for w in before)

    control_install(server, username, "Shopify", workflows=[SYNC_CUSTOMERS])

    listed = sdk.Workflows.list()["data"]
    assert [w["workflowId"] for w in listed] == [w["workflowId"] for w in before]  # every parent workflow
    mine = by_id(listed, "workflowId", SYNC_CUSTOMERS)
    assert mine["installed"] is True and mine["active"] is True
    assert mine["version"] == 2 and mine["installedVersion"] == 2
    assert mine["integrationId"] == SHOPIFY and mine["name"] == "Sync New Customers to Shopify"
    assert [b["type"] for b in mine["blocks"]] == ["customEvent", "shopify"]
    others = [w for w in listed if w["workflowId"] != SYNC_CUSTOMERS]
    assert all(w["installed"] is False and "installedVersion" not in w for w in others)
    assert sdk.Workflows.get(SYNC_CUSTOMERS) == {"data": mine}

    # The integration is installed as a whole, and shows the same per-workflow state.
    shopify = sdk.Integration.get_integration("Shopify")["data"]
    assert shopify["installed"] is True
    item = by_id(shopify["workflows"], "workflowId", SYNC_CUSTOMERS)
    assert (item["installed"], item["active"], item["installedVersion"]) == (True, True, 2)
    assert by_id(shopify["workflows"], "workflowId", CREATE_ORDER)["installed"] is False
    integrations = sdk.Integration.list_integrations()["data"]
    assert {i["app"]: i["installed"] for i in integrations if i["app"] in ("Shopify", "HubSpot")} == {
        "Shopify": True,
        "HubSpot": False,
    }
    assert sdk.Tokens.list_integrations()["data"] == integrations

    # The install made an emulated Shopify credential, which the user's credentials list.
    assert [c["type"] for c in sdk.Credentials.list_user_credentials()["data"]] == ["shopify"]


def test_alloy_python_deactivate_activate_and_deactivate_all(server: ServerProcess) -> None:
    sdk, username = new_user(server, "switch")
    control_install(server, username, "Shopify", workflows=[SYNC_CUSTOMERS, CREATE_ORDER], values=ORDER_VALUES)

    assert sdk.Workflows.deactivate(SYNC_CUSTOMERS) == {"activated": False}
    assert sdk.Workflows.get(SYNC_CUSTOMERS)["data"]["active"] is False
    assert sdk.Workflows.get(SYNC_CUSTOMERS)["data"]["installed"] is True
    assert sdk.Workflows.get(CREATE_ORDER)["data"]["active"] is True  # only the one named

    assert sdk.Workflows.activate(SYNC_CUSTOMERS) == {"activated": True}
    assert sdk.Workflows.get(SYNC_CUSTOMERS)["data"]["active"] is True

    assert sdk.Workflows.deactivate_all() == {"message": "Success"}
    installed = [w for w in sdk.Workflows.list()["data"] if w["installed"]]
    assert {w["workflowId"]: w["active"] for w in installed} == {SYNC_CUSTOMERS: False, CREATE_ORDER: False}


def test_alloy_python_versions_and_upgrade(server: ServerProcess) -> None:
    sdk, username = new_user(server, "upg")
    control_install(server, username, "Shopify", workflows=[CREATE_ORDER], version=1, values=ORDER_VALUES)

    versions = sdk.Workflows.list_versions(CREATE_ORDER)["data"]
    assert [v["versionName"] for v in versions] == ["Version 1", "Version 2", "Version 3"]
    assert [v["status"] for v in versions] == ["active", "inactive", "inactive"]  # the one the user runs
    assert all(len(v["versionId"]) == 24 and v["lastModified"].endswith("Z") for v in versions)

    assert sdk.Workflows.upgrade(CREATE_ORDER) == {"upgraded": True}
    assert sdk.Workflows.get(CREATE_ORDER)["data"]["installedVersion"] == 3
    assert [v["status"] for v in sdk.Workflows.list_versions(CREATE_ORDER)["data"]] == [
        "inactive",
        "inactive",
        "active",
    ]

    nothing = http_error(sdk.Workflows.upgrade, CREATE_ORDER)
    assert nothing.status_code == 400
    assert nothing.json() == {"message": "Nothing to upgrade: version 3 is already installed"}

    # Version 3 of the NetSuite order workflow asks for a field that version 1 did not: no upgrade.
    control_install(
        server, username, NETSUITE, workflows=[NETSUITE_ORDER], version=1, values={"customerEmail": "a@b.c"}
    )
    refused = http_error(sdk.Workflows.upgrade, NETSUITE_ORDER)
    assert refused.status_code == 400
    assert "subsidiaryId" in refused.json()["message"]
    assert sdk.Workflows.get(NETSUITE_ORDER)["data"]["installedVersion"] == 1


def test_alloy_python_delete_workflow_is_for_this_user_only(server: ServerProcess) -> None:
    sdk, username = new_user(server, "del")
    other, other_name = new_user(server, "keep")
    for name in (username, other_name):
        control_install(server, name, "Shopify", workflows=[SYNC_CUSTOMERS, CREATE_ORDER], values=ORDER_VALUES)

    assert sdk.Workflows.delete(SYNC_CUSTOMERS) == {"deleted": True}
    gone = sdk.Workflows.get(SYNC_CUSTOMERS)["data"]
    assert (gone["installed"], gone["active"], "installedVersion" in gone) == (False, False, False)
    assert sdk.Workflows.get(CREATE_ORDER)["data"]["installed"] is True
    assert other.Workflows.get(SYNC_CUSTOMERS)["data"]["installed"] is True

    again = http_error(sdk.Workflows.delete, SYNC_CUSTOMERS)
    assert (again.status_code, again.json()) == (400, {"message": NOT_INSTALLED})


def test_alloy_python_workflow_errors(server: ServerProcess) -> None:
    sdk, _ = new_user(server, "wferr")
    # A workflow the user has not installed: versions, switching, upgrade and delete are 400s.
    for method in (
        sdk.Workflows.list_versions,
        sdk.Workflows.activate,
        sdk.Workflows.deactivate,
        sdk.Workflows.upgrade,
        sdk.Workflows.delete,
    ):
        response = http_error(method, HUBSPOT_CONTACT)
        assert (response.status_code, response.json()) == (400, {"message": NOT_INSTALLED}), method.__name__
    unknown = http_error(sdk.Workflows.get, "000000000000000000000000")
    assert (unknown.status_code, unknown.json()) == (404, {"message": "Workflow not found"})
    nobody = for_user(server, unique("ghost"))
    assert http_error(nobody.Workflows.list).json() == {"message": "User not found"}
    assert http_error(nobody.Workflows.deactivate_all).status_code == 404


# -- credentials, apps, links -----------------------------------------------------------------------


def test_alloy_python_credential_metadata_and_apps(server: ServerProcess) -> None:
    sdk, _ = new_user(server, "meta")
    metadata = {item["name"]: item for item in sdk.Credentials.get_metadata()["data"]}
    assert metadata["klaviyo"]["isOauth"] is False
    assert [p["name"] for p in metadata["klaviyo"]["properties"]] == ["apiKey"]
    assert metadata["shopify"]["isOauth"] is True
    assert metadata["shopify"]["properties"][0]["displayName"] == "Shop Subdomain"
    assert sdk.App.get_apps() == {"data": seeded_apps()}


def test_alloy_python_create_list_and_delete_credentials(server: ServerProcess) -> None:
    sdk, _ = new_user(server, "cred")
    assert sdk.Credentials.list_user_credentials() == {"data": []}
    secret = "pk_live_do-not-echo"
    created = sdk.Credentials.create({"credential": {"type": "klaviyo", "data": {"apiKey": secret}}})
    assert set(created) == {"success", "credentialId"} and created["success"] is True
    credential_id = created["credentialId"]
    assert len(credential_id) == 24

    listed = sdk.Credentials.list_user_credentials()["data"]
    assert [set(c) for c in listed] == [{"credentialId", "type", "createdAt", "updatedAt"}]
    assert (listed[0]["credentialId"], listed[0]["type"]) == (credential_id, "klaviyo")
    assert secret not in str(listed)

    assert sdk.Credentials.delete(credential_id) == {"success": True}
    assert sdk.Credentials.list_user_credentials() == {"data": []}
    assert http_error(sdk.Credentials.delete, credential_id).status_code == 404


@pytest.mark.parametrize(
    ("credential", "named"),
    [
        ({"type": "noSuchApp", "data": {}}, "noSuchApp"),
        ({"type": "klaviyo", "data": {}}, "apiKey"),
        ({"type": "klaviyo", "data": {"apiKey": "k", "secretExtra": "s3cr3t-value"}}, "secretExtra"),
        ({"type": "klaviyo"}, "credential.data"),
        ("not json", "credential"),
    ],
)
def test_alloy_python_bad_credentials_are_400s(server: ServerProcess, credential: object, named: str) -> None:
    sdk, _ = new_user(server, "badcred")
    response = http_error(sdk.Credentials.create, {"credential": credential})
    assert response.status_code == 400
    assert named in response.json()["message"]
    assert "s3cr3t-value" not in response.text  # a value is never quoted back
    assert sdk.Credentials.list_user_credentials() == {"data": []}  # nothing half-written


def test_alloy_python_oauth_link_then_consent_stores_a_credential(server: ServerProcess) -> None:
    sdk, username = new_user(server, "oauth")
    link = sdk.Credentials.generate_oauth_link("shopify", SHOPIFY)
    assert set(link) == {"redirectUrl", "oauthUrl"} and link["redirectUrl"] == link["oauthUrl"]
    url = link["oauthUrl"]
    assert url.startswith(f"{server.base_url}/oauth/shopify/authorize?")
    query = query_of(url)
    assert query["integrationId"] == SHOPIFY
    assert jwt.decode(query["token"], options={"verify_signature": False})["username"] == username

    credential_id = approve_oauth(url)
    assert [(c["credentialId"], c["type"]) for c in sdk.Credentials.list_user_credentials()["data"]] == [
        (credential_id, "shopify")
    ]
    # A key-based app has no OAuth link.
    refused = http_error(sdk.Credentials.generate_oauth_link, "klaviyo", SHOPIFY)
    assert refused.status_code == 400 and "klaviyo" in refused.json()["message"]


def test_alloy_python_install_link(server: ServerProcess) -> None:
    sdk, username = new_user(server, "link")
    answer = sdk.Link.generate(SHOPIFY)
    assert set(answer) == {"url"}
    assert answer["url"].startswith(f"{server.base_url}/embedded-install?")
    query = query_of(answer["url"])
    assert (query["integrationId"], query["forgeMode"], query["alwaysShowCredentials"]) == (SHOPIFY, "engaged", "true")
    assert jwt.decode(query["token"], options={"verify_signature": False})["username"] == username
    assert query_of(sdk.Link.generate("Shopify")["url"])["integrationId"] == SHOPIFY  # by name too


def test_alloy_python_methods_that_catch_raise_value_error(server: ServerProcess) -> None:
    sdk, _ = new_user(server, "catch")
    with pytest.raises(ValueError, match=r"^Integration not found$"):
        sdk.Link.generate("NoSuchIntegration")
    nobody = for_user(server, unique("ghost"))
    for method in (nobody.Tokens.get, nobody.Tokens.list_integrations):
        with pytest.raises(ValueError, match=r"^User not found$"):
            method()
    with pytest.raises(ValueError, match=r"^User not found$"):
        nobody.Link.generate(SHOPIFY)
