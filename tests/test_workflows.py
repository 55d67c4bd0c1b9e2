"""Workflows as a user sees them: list, get, versions, (de)activate, upgrade, delete, users of a workflow,
and the browser's token routes; every state change is read back through the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from .conftest import API, DEV, PROD
from .helpers import (
    CREATE_ORDER,
    NETSUITE,
    NEW_CUSTOMER,
    POST_TICKETS,
    POST_WEBHOOK,
    SALES_ORDER,
    SHOPIFY,
    SLACK_WORKFLOWS,
    SYNC_CUSTOMERS,
    assert_error,
    assert_ok,
    control_install,
    installed,
)
from .test_integrations import SEED

MakeUser = Callable[..., str]
V4 = "/2024-03"
VERSIONS = ["2023-01", "2023-06", "2023-12", "2024-03"]
NOT_INSTALLED = "The workflow is not installed for this user"
WORKFLOW_KEYS = {"workflowId", "integrationId", "name", "createdAt", "updatedAt", "installed", "active", "version"}
SEED_WORKFLOWS = {w["workflowId"]: (i, w) for i in SEED for w in i["workflows"]}


def expected_workflow(workflow_id: str, install: tuple[bool, int] | None = None) -> dict[str, Any]:
    """The documented Workflow object of a seed workflow; `install` is (active, installedVersion)."""
    integration, seed = SEED_WORKFLOWS[workflow_id]
    body: dict[str, Any] = {
        "workflowId": workflow_id,
        "integrationId": integration["integrationId"],
        "name": seed["name"],
        "createdAt": seed["createdAt"],
        "updatedAt": seed["updatedAt"],
        "installed": install is not None,
        "active": install[0] if install is not None else False,
        "version": len(seed["versions"]),
    }
    if install is not None:
        body["installedVersion"] = install[1]
    body["blocks"] = [{key: block[key] for key in ("name", "id", "type", "icon")} for block in seed["blocks"]]
    return body


def workflow(client: TestClient, user: str, workflow_id: str, headers: dict[str, str] = DEV) -> dict[str, Any]:
    data: dict[str, Any] = assert_ok(
        client.get(f"{API}/workflows/{workflow_id}", params={"userId": user}, headers=headers)
    )["data"]
    return data


def listed(client: TestClient, user: str, headers: dict[str, str] = DEV, **params: str) -> dict[str, dict[str, Any]]:
    data = assert_ok(client.get(f"{API}/workflows", params={"userId": user, **params}, headers=headers))["data"]
    return {item["workflowId"]: item for item in data}


def switch(client: TestClient, which: str, body: dict[str, Any], headers: dict[str, str] = DEV) -> Any:
    return client.put(f"{API}/workflows/{which}", json=body, headers=headers)


@pytest.fixture
def user_id(make_user: MakeUser) -> str:
    return make_user("workflows@example.com", "Workflow User")


# -- list and get -----------------------------------------------------------------------------------


def test_nothing_installed_lists_every_parent_workflow(client: TestClient, user_id: str) -> None:
    data = assert_ok(client.get(f"{API}/workflows", params={"userId": user_id}, headers=DEV))["data"]
    assert data == [expected_workflow(workflow_id) for workflow_id in SEED_WORKFLOWS]
    for item in data:
        assert set(item) == WORKFLOW_KEYS | {"blocks"}, "installedVersion is left out when not installed"


def test_install_then_list_and_get_show_installed_active_and_installed_version(
    client: TestClient, user_id: str
) -> None:
    control_install(client, user_id, "Shopify", workflows=[SYNC_CUSTOMERS], version=1)
    workflows = listed(client, user_id)
    assert workflows[SYNC_CUSTOMERS] == expected_workflow(SYNC_CUSTOMERS, (True, 1))
    assert workflows[CREATE_ORDER] == expected_workflow(CREATE_ORDER)
    assert workflow(client, user_id, SYNC_CUSTOMERS) == expected_workflow(SYNC_CUSTOMERS, (True, 1))
    by_name = client.get(f"{API}/workflows/Sync New Customers to Shopify", params={"userId": user_id}, headers=DEV)
    assert assert_ok(by_name)["data"] == expected_workflow(SYNC_CUSTOMERS, (True, 1))


def test_an_inactive_install_lists_as_installed_but_not_active(client: TestClient, user_id: str) -> None:
    control_install(client, user_id, "Slack", workflows=[POST_WEBHOOK], active=False)
    assert workflow(client, user_id, POST_WEBHOOK) == expected_workflow(POST_WEBHOOK, (False, 1))


@pytest.mark.parametrize("integration", ["Shopify", "shopify", "SHOPIFY", SHOPIFY])
def test_integration_filter(client: TestClient, user_id: str, integration: str) -> None:
    shopify = [w["workflowId"] for w in next(i for i in SEED if i["app"] == "Shopify")["workflows"]]
    assert list(listed(client, user_id, integration=integration)) == shopify


@pytest.mark.parametrize("integration", ["Nope", "Shopify ", "None", SYNC_CUSTOMERS, "%2F"])
def test_unknown_integration_filter_lists_nothing(client: TestClient, user_id: str, integration: str) -> None:
    response = client.get(f"{API}/workflows", params={"userId": user_id, "integration": integration}, headers=DEV)
    assert_ok(response, {"data": []})


def test_workflow_names_work_in_every_lookup(client: TestClient, user_id: str) -> None:
    control_install(client, user_id, "Slack", values={"channel": "#sales"})
    name = "Post New Tickets to Slack"
    assert_ok(switch(client, "deactivate", {"userId": user_id, "workflowName": name}), {"activated": False})
    response = client.get(f"{API}/workflows/{name}/versions", params={"userId": user_id}, headers=DEV)
    assert [v["status"] for v in assert_ok(response)["data"]] == ["active"]
    assert workflow(client, user_id, name)["active"] is False


# -- activate and deactivate ------------------------------------------------------------------------


def test_deactivate_then_activate(client: TestClient, user_id: str) -> None:
    control_install(client, user_id, "Slack", values={"channel": "#sales"})
    assert_ok(switch(client, "deactivate", {"userId": user_id, "workflowId": NEW_CUSTOMER}), {"activated": False})
    assert workflow(client, user_id, NEW_CUSTOMER) == expected_workflow(NEW_CUSTOMER, (False, 2))
    assert workflow(client, user_id, POST_TICKETS)["active"] is True, "only the named workflow is switched"
    # Twice is fine and changes nothing.
    assert_ok(switch(client, "deactivate", {"userId": user_id, "workflowId": NEW_CUSTOMER}), {"activated": False})
    assert_ok(
        switch(client, "activate", {"userId": "workflows@example.com", "workflowName": "New Customer Created"}),
        {"activated": True},
    )
    assert workflow(client, user_id, NEW_CUSTOMER) == expected_workflow(NEW_CUSTOMER, (True, 2))
    assert installed(client, user_id)[NEW_CUSTOMER]["values"] == {
        "d7ecf691-60c8-4b53-b523-aaba8c9a190a": {"channel": "#sales"}
    }


def test_workflow_id_wins_over_workflow_name(client: TestClient, user_id: str) -> None:
    control_install(client, user_id, "Slack", values={"channel": "#sales"})
    body = {"userId": user_id, "workflowId": POST_WEBHOOK, "workflowName": "New Customer Created"}
    assert_ok(switch(client, "deactivate", body), {"activated": False})
    assert [w["active"] for w in map(lambda w: workflow(client, user_id, w), SLACK_WORKFLOWS)] == [True, True, False]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "workflowId or workflowName is required"),
        ({"workflowId": "", "workflowName": ""}, "workflowId or workflowName is required"),
        ({"workflowId": 5}, "workflowId must be a string"),
        ({"workflowId": [], "workflowName": "New Customer Created"}, "workflowId must be a string"),
        ({"workflowId": NEW_CUSTOMER, "workflowName": {"$ne": ""}}, "workflowName must be a string"),
        ({"workflowId": NEW_CUSTOMER, "userId": 5}, "userId must be a string"),
    ],
)
@pytest.mark.parametrize("which", ["activate", "deactivate"])
def test_switch_validation(client: TestClient, user_id: str, which: str, body: dict[str, Any], message: str) -> None:
    control_install(client, user_id, "Slack", values={"channel": "#sales"}, active=which == "deactivate")
    assert_error(switch(client, which, {"userId": user_id, **body}), 400, message)
    assert workflow(client, user_id, NEW_CUSTOMER)["active"] is (which == "deactivate"), "nothing switched"


def test_deactivate_all_of_a_users_workflows(client: TestClient, user_id: str, make_user: MakeUser) -> None:
    other = make_user("other@example.com")
    for user in (user_id, other):
        control_install(client, user, "Slack", values={"channel": "#sales"})
        control_install(client, user, "Shopify", workflows=[SYNC_CUSTOMERS])
    response = client.put(f"{API}/users/{user_id}/deactivate-workflows", headers=DEV)
    assert_ok(response, {"message": "Success"})
    mine = listed(client, user_id)
    assert {w: mine[w]["active"] for w in [*SLACK_WORKFLOWS, SYNC_CUSTOMERS]} == dict.fromkeys(
        [*SLACK_WORKFLOWS, SYNC_CUSTOMERS], False
    )
    assert all(mine[w]["installed"] for w in [*SLACK_WORKFLOWS, SYNC_CUSTOMERS]), "deactivated, not uninstalled"
    theirs = listed(client, other)
    assert all(theirs[w]["active"] for w in [*SLACK_WORKFLOWS, SYNC_CUSTOMERS]), "other users keep theirs"
    # By username, and for a user with nothing active: still a success.
    assert_ok(
        client.put(f"{API}/users/workflows@example.com/deactivate-workflows", headers=DEV), {"message": "Success"}
    )


def test_deactivate_all_for_an_unknown_user_is_404(client: TestClient, user_id: str) -> None:
    assert_error(client.put(f"{API}/users/nobody/deactivate-workflows", headers=DEV), 404, "User not found")


# -- upgrade ----------------------------------------------------------------------------------------


def test_upgrade_moves_the_install_to_the_latest_version_and_keeps_the_values(client: TestClient, user_id: str) -> None:
    values = {"customerTags": "vip", "acceptsMarketing": "true"}
    control_install(client, user_id, "Shopify", workflows=[SYNC_CUSTOMERS], version=1, values=values)
    before = installed(client, user_id)[SYNC_CUSTOMERS]
    response = client.put(f"{API}/workflows/{SYNC_CUSTOMERS}/upgrade", params={"userId": user_id}, headers=DEV)
    assert_ok(response, {"upgraded": True})
    assert workflow(client, user_id, SYNC_CUSTOMERS) == expected_workflow(SYNC_CUSTOMERS, (True, 2))
    after = installed(client, user_id)[SYNC_CUSTOMERS]
    assert (
        after["values"]
        == before["values"]
        == {"34b19706-eaaf-4396-8d93-4ee776f4fdae": {"customerTags": "vip", "acceptsMarketing": True}}
    )
    versions = client.get(f"{API}/workflows/{SYNC_CUSTOMERS}/versions", params={"userId": user_id}, headers=DEV)
    assert [v["status"] for v in assert_ok(versions)["data"]] == ["inactive", "active"]


def test_upgrade_of_the_latest_version_is_refused(client: TestClient, user_id: str) -> None:
    control_install(client, user_id, "Shopify", workflows=[SYNC_CUSTOMERS])
    response = client.put(f"{API}/workflows/{SYNC_CUSTOMERS}/upgrade", params={"userId": user_id}, headers=DEV)
    assert_error(response, 400, "Nothing to upgrade: version 2 is already installed")
    assert workflow(client, user_id, SYNC_CUSTOMERS) == expected_workflow(SYNC_CUSTOMERS, (True, 2))


@pytest.mark.parametrize("version", [1, 2])
def test_upgrade_to_a_version_with_other_fields_is_refused(client: TestClient, user_id: str, version: int) -> None:
    control_install(
        client, user_id, NETSUITE, workflows=[SALES_ORDER], version=version, values={"customerEmail": "a@b.c"}
    )
    response = client.put(f"{API}/workflows/{SALES_ORDER}/upgrade", params={"userId": user_id}, headers=DEV)
    message = "Version 3 asks for other fields (subsidiaryId): the workflow must be installed again to upgrade"
    assert_error(response, 400, message)
    assert workflow(client, user_id, SALES_ORDER)["installedVersion"] == version


# -- versions ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [1, 2, 3])
def test_versions_mark_the_installed_one_active(client: TestClient, user_id: str, version: int) -> None:
    control_install(
        client, user_id, "Shopify", workflows=[CREATE_ORDER], version=version, values={"locationId": "Retail Store"}
    )
    response = client.get(f"{API}/workflows/{CREATE_ORDER}/versions", params={"userId": user_id}, headers=DEV)
    expected = [
        {
            "versionId": seed["versionId"],
            "versionName": seed["versionName"],
            "lastModified": seed["lastModified"],
            "status": "active" if number == version else "inactive",
        }
        for number, seed in enumerate(SEED_WORKFLOWS[CREATE_ORDER][1]["versions"], 1)
    ]
    assert_ok(response, {"data": expected})


# -- delete -----------------------------------------------------------------------------------------


def test_delete_uninstalls_for_that_user_only(client: TestClient, user_id: str, make_user: MakeUser) -> None:
    other = make_user("keeps@example.com")
    for user in (user_id, other):
        control_install(client, user, "Slack", values={"channel": "#sales"})
    response = client.delete(f"{API}/workflows/{NEW_CUSTOMER}", params={"userId": user_id}, headers=DEV)
    assert_ok(response, {"deleted": True})
    assert workflow(client, user_id, NEW_CUSTOMER) == expected_workflow(NEW_CUSTOMER)
    assert workflow(client, user_id, POST_TICKETS)["installed"] is True, "the user's other workflows stay"
    assert workflow(client, other, NEW_CUSTOMER) == expected_workflow(NEW_CUSTOMER, (True, 2))
    assert NEW_CUSTOMER not in installed(client, user_id)
    again = client.delete(f"{API}/workflows/{NEW_CUSTOMER}", params={"userId": user_id}, headers=DEV)
    assert_error(again, 400, NOT_INSTALLED)


# -- a workflow the user has not installed, or that does not exist ------------------------------------

PER_USER_CALLS = [
    pytest.param("GET", "/workflows/{w}/versions?userId={u}", None, id="versions"),
    pytest.param("PUT", "/workflows/activate", {"userId": "{u}", "workflowId": "{w}"}, id="activate"),
    pytest.param("PUT", "/workflows/deactivate", {"userId": "{u}", "workflowId": "{w}"}, id="deactivate"),
    pytest.param("PUT", "/workflows/{w}/upgrade?userId={u}", None, id="upgrade"),
    pytest.param("DELETE", "/workflows/{w}?userId={u}", None, id="delete"),
]


def call(
    client: TestClient, method: str, template: str, body: Any, user: str, ref: str, headers: dict[str, str] = DEV
) -> Any:
    path = template.format(u=user, w=ref)
    if body is not None:
        body = {key: value.format(u=user, w=ref) for key, value in body.items()}
    return client.request(method, API + path, json=body, headers=headers)


@pytest.mark.parametrize(("method", "template", "body"), PER_USER_CALLS)
def test_not_installed_is_400(client: TestClient, user_id: str, method: str, template: str, body: Any) -> None:
    control_install(client, user_id, "Slack", workflows=[POST_WEBHOOK])
    assert_error(call(client, method, template, body, user_id, NEW_CUSTOMER), 400, NOT_INSTALLED)
    assert workflow(client, user_id, NEW_CUSTOMER) == expected_workflow(NEW_CUSTOMER)
    assert workflow(client, user_id, POST_WEBHOOK) == expected_workflow(POST_WEBHOOK, (True, 1))


@pytest.mark.parametrize("ref", ["000000000000000000000000", "nope", "None", "null", SHOPIFY, "New Customer Created "])
@pytest.mark.parametrize(
    ("method", "template", "body"), [*PER_USER_CALLS, pytest.param("GET", "/workflows/{w}?userId={u}", None, id="get")]
)
def test_unknown_workflow_is_404(
    client: TestClient, user_id: str, method: str, template: str, body: Any, ref: str
) -> None:
    assert_error(call(client, method, template, body, user_id, ref), 404, "Workflow not found")


@pytest.mark.parametrize(
    ("method", "template", "body"),
    [
        *PER_USER_CALLS,
        pytest.param("GET", "/workflows/{w}?userId={u}", None, id="get"),
        pytest.param("GET", "/workflows?userId={u}", None, id="list"),
    ],
)
@pytest.mark.parametrize("user", ["nobody", "000000000000000000000000", "None"])
def test_unknown_user_is_404(
    client: TestClient, user_id: str, method: str, template: str, body: Any, user: str
) -> None:
    assert_error(call(client, method, template, body, user, NEW_CUSTOMER), 404, "User not found")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/workflows"),
        ("GET", f"/workflows/{NEW_CUSTOMER}"),
        ("GET", f"/workflows/{NEW_CUSTOMER}/versions"),
        ("PUT", f"/workflows/{NEW_CUSTOMER}/upgrade"),
        ("DELETE", f"/workflows/{NEW_CUSTOMER}"),
    ],
)
@pytest.mark.parametrize("query", ["", "?userId", "?userId=", "?userid=x"])
def test_user_id_is_required(client: TestClient, user_id: str, method: str, path: str, query: str) -> None:
    assert_error(client.request(method, f"{API}{path}{query}", headers=DEV), 400, "userId is required")


# -- users of a workflow ----------------------------------------------------------------------------


def test_users_of_a_workflow(client: TestClient, make_user: MakeUser) -> None:
    first = make_user("first@example.com", "First User")
    second = make_user("second@example.com")
    make_user("bystander@example.com")
    control_install(client, first, "Shopify", workflows=[SYNC_CUSTOMERS], version=1)
    control_install(client, second, "Shopify", workflows=[SYNC_CUSTOMERS], active=False)
    expected = [
        {
            "username": "first@example.com",
            "fullName": "First User",
            "userId": first,
            "workflowActive": True,
            "installedVersion": 1,
        },
        {"username": "second@example.com", "userId": second, "workflowActive": False, "installedVersion": 2},
    ]
    for path in (f"{API}/workflows/{SYNC_CUSTOMERS}/users", f"{V4}/workflows/{SYNC_CUSTOMERS}/users/"):
        assert_ok(client.get(path, headers=DEV), {"data": expected})
    narrowed = client.get(
        f"{API}/workflows/{SYNC_CUSTOMERS}/users", params={"userId": "second@example.com"}, headers=DEV
    )
    assert_ok(narrowed, {"data": expected[1:]})
    # The 2024-03 list of users by parent workflow.
    response = client.get(f"{V4}/users", params={"parentWorkflowId": SYNC_CUSTOMERS}, headers=DEV)
    assert_ok(
        response,
        {
            "data": [
                {"userId": first, "username": "first@example.com", "fullName": "First User"},
                {"userId": second, "username": "second@example.com"},
            ]
        },
    )


def test_users_of_a_workflow_stay_oldest_first_when_an_install_changes(client: TestClient, make_user: MakeUser) -> None:
    users = [make_user(f"u{i}@example.com") for i in range(3)]
    for user in users:
        control_install(client, user, "Slack", workflows=[POST_WEBHOOK])
    assert_ok(switch(client, "deactivate", {"userId": users[0], "workflowId": POST_WEBHOOK}), {"activated": False})
    data = assert_ok(client.get(f"{API}/workflows/{POST_WEBHOOK}/users", headers=DEV))["data"]
    assert [(u["userId"], u["workflowActive"]) for u in data] == [(users[0], False), (users[1], True), (users[2], True)]


def test_users_of_a_workflow_nobody_installed_is_404(client: TestClient, make_user: MakeUser) -> None:
    installer = make_user("installer@example.com")
    bystander = make_user("bystander@example.com")
    control_install(client, installer, "Shopify", workflows=[SYNC_CUSTOMERS])
    nobody = "No users have installed this workflow"
    assert_error(client.get(f"{API}/workflows/{CREATE_ORDER}/users", headers=DEV), 404, nobody)
    response = client.get(f"{API}/workflows/{SYNC_CUSTOMERS}/users", params={"userId": bystander}, headers=DEV)
    assert_error(response, 404, nobody)
    assert_error(client.get(f"{API}/workflows/{SYNC_CUSTOMERS}/users", headers=PROD), 404, nobody)
    assert_error(client.get(f"{API}/workflows/nope/users", headers=DEV), 404, "Workflow not found")
    assert_ok(client.get(f"{V4}/users", params={"parentWorkflowId": CREATE_ORDER}, headers=DEV), {"data": []})


# -- every version prefix -----------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_every_version_serves_the_workflow_routes(client: TestClient, user_id: str, version: str) -> None:
    base = f"/{version}"
    control_install(client, user_id, "Slack", values={"channel": "#sales"})
    data = assert_ok(client.get(f"{base}/workflows", params={"userId": user_id}, headers=DEV))["data"]
    assert len(data) == len(SEED_WORKFLOWS)
    response = client.put(
        f"{base}/workflows/deactivate", json={"userId": user_id, "workflowId": NEW_CUSTOMER}, headers=DEV
    )
    assert_ok(response, {"activated": False})
    assert_ok(client.get(f"{base}/workflows/{NEW_CUSTOMER}/versions", params={"userId": user_id}, headers=DEV))
    assert_ok(client.get(f"{base}/workflows/{NEW_CUSTOMER}/users", headers=DEV))
    assert_ok(client.put(f"{base}/users/{user_id}/deactivate-workflows", headers=DEV), {"message": "Success"})
    assert_ok(
        client.delete(f"{base}/workflows/{NEW_CUSTOMER}", params={"userId": user_id}, headers=DEV), {"deleted": True}
    )


# -- isolation --------------------------------------------------------------------------------------


def test_the_prod_key_never_sees_dev_installs(client: TestClient, user_id: str, make_user: MakeUser) -> None:
    control_install(client, user_id, "Slack", values={"channel": "#sales"})
    for path in ("/workflows", f"/workflows/{NEW_CUSTOMER}", f"/workflows/{NEW_CUSTOMER}/versions"):
        assert_error(client.get(f"{API}{path}", params={"userId": user_id}, headers=PROD), 404, "User not found")
    body = {"userId": user_id, "workflowId": NEW_CUSTOMER}
    assert_error(switch(client, "deactivate", body, headers=PROD), 404, "User not found")
    assert_error(client.put(f"{API}/users/{user_id}/deactivate-workflows", headers=PROD), 404, "User not found")
    # A prod user of the same name has nothing installed.
    prod_user = make_user("workflows@example.com", headers=PROD)
    assert all(not w["installed"] for w in listed(client, prod_user, headers=PROD).values())
    assert workflow(client, user_id, NEW_CUSTOMER)["active"] is True


def test_another_users_installs_never_show(client: TestClient, user_id: str, make_user: MakeUser) -> None:
    other = make_user("other@example.com")
    control_install(client, other, "Slack", values={"channel": "#sales"})
    assert all(not w["installed"] and not w["active"] for w in listed(client, user_id).values())
    assert_error(switch(client, "deactivate", {"userId": user_id, "workflowId": NEW_CUSTOMER}), 400, NOT_INSTALLED)
    assert workflow(client, other, NEW_CUSTOMER)["active"] is True


# -- the browser's token routes (alloy-frontend: x-alloy-user-token, no key, no userId) ------------


def mint(client: TestClient, user: str, **options: Any) -> str:
    return str(assert_ok(client.post("/_mock/tokens", json={"user": user, **options}))["token"])


def token_headers(token: str) -> dict[str, str]:
    return {"x-alloy-user-token": token, "Content-Type": "application/json"}


def test_token_routes_act_for_the_tokens_user(client: TestClient, user_id: str, make_user: MakeUser) -> None:
    other = make_user("other@example.com")
    control_install(client, user_id, "Slack", values={"channel": "#sales"})
    control_install(client, other, "Shopify", workflows=[SYNC_CUSTOMERS])
    headers = token_headers(mint(client, user_id))
    by_token = assert_ok(client.get(f"{V4}/workflows", headers=headers))
    assert by_token == assert_ok(client.get(f"{V4}/workflows", params={"userId": user_id}, headers=DEV))
    integrations = assert_ok(client.get(f"{V4}/integrations", headers=headers))
    assert integrations == assert_ok(client.get(f"{V4}/integrations", params={"userId": user_id}, headers=DEV))
    assert_ok(
        client.put(f"{V4}/workflows/deactivate", json={"workflowId": NEW_CUSTOMER}, headers=headers),
        {"activated": False},
    )
    assert workflow(client, user_id, NEW_CUSTOMER)["active"] is False
    assert_ok(
        client.put(f"{V4}/workflows/activate", json={"workflowName": "New Customer Created"}, headers=headers),
        {"activated": True},
    )
    assert workflow(client, user_id, NEW_CUSTOMER)["active"] is True
    # The token decides the user: another user's workflow is not installed for this one.
    response = client.put(f"{V4}/workflows/deactivate", json={"workflowId": SYNC_CUSTOMERS}, headers=headers)
    assert_error(response, 400, NOT_INSTALLED)
    assert workflow(client, other, SYNC_CUSTOMERS)["active"] is True


def test_a_prod_users_token_sees_prod_installs(client: TestClient, user_id: str, make_user: MakeUser) -> None:
    prod_user = make_user("workflows@example.com", headers=PROD)
    control_install(client, user_id, "Slack", values={"channel": "#sales"})
    control_install(client, prod_user, "Shopify", workflows=[SYNC_CUSTOMERS], namespace="prod")
    headers = token_headers(mint(client, prod_user, namespace="prod"))
    workflows = {w["workflowId"]: w for w in assert_ok(client.get(f"{V4}/workflows", headers=headers))["data"]}
    assert [w for w, item in workflows.items() if item["installed"]] == [SYNC_CUSTOMERS]


TOKEN_ROUTES = [
    pytest.param("GET", "/workflows", None, id="workflows"),
    pytest.param("GET", "/integrations", None, id="integrations"),
    pytest.param("PUT", "/workflows/activate", {"workflowId": NEW_CUSTOMER}, id="activate"),
    pytest.param("PUT", "/workflows/deactivate", {"workflowId": NEW_CUSTOMER}, id="deactivate"),
]
BAD_TOKENS: list[Any] = [
    pytest.param(None, id="missing"),
    pytest.param("", id="empty"),
    pytest.param("not-a-jwt", id="malformed"),
    pytest.param("a.b.c", id="three-parts"),
    pytest.param({"expired": True}, id="expired"),
    pytest.param({"signature": "wrong-key"}, id="forged"),
    pytest.param({"signature": "unknown-kid"}, id="unknown-kid"),
    pytest.param({"signature": "none"}, id="alg-none"),
    pytest.param("deleted", id="deleted-user"),
]


@pytest.mark.parametrize("bad", BAD_TOKENS)
@pytest.mark.parametrize(("method", "path", "body"), TOKEN_ROUTES)
def test_bad_tokens_are_401_and_change_nothing(
    client: TestClient, user_id: str, make_user: MakeUser, method: str, path: str, body: Any, bad: Any
) -> None:
    control_install(client, user_id, "Slack", values={"channel": "#sales"})
    headers = {"Content-Type": "application/json"}
    if isinstance(bad, dict):
        headers["x-alloy-user-token"] = mint(client, user_id, **bad)
    elif bad == "deleted":
        doomed = make_user("doomed@example.com")
        control_install(client, doomed, "Slack", values={"channel": "#sales"})
        headers["x-alloy-user-token"] = mint(client, doomed)
        assert_ok(client.delete(f"{API}/users/{doomed}", headers=DEV))
    elif bad is not None:
        headers["x-alloy-user-token"] = bad
    response = client.request(method, V4 + path, json=body, headers=headers)
    assert_error(response, 401, "Unauthorized")
    assert response.json() == {"message": "Unauthorized"}
    assert workflow(client, user_id, NEW_CUSTOMER)["active"] is True


@pytest.mark.parametrize(("method", "path", "body"), TOKEN_ROUTES)
def test_with_an_api_key_the_token_routes_take_user_id(
    client: TestClient, user_id: str, method: str, path: str, body: Any
) -> None:
    control_install(client, user_id, "Slack", values={"channel": "#sales"})
    if body is None:
        assert_error(client.request(method, V4 + path, headers=DEV), 400, "userId is required")
        assert_ok(client.request(method, V4 + path, params={"userId": user_id}, headers=DEV))
    else:
        assert_error(client.request(method, V4 + path, json=body, headers=DEV), 400, "userId is required")
        assert_ok(client.request(method, V4 + path, json={**body, "userId": user_id}, headers=DEV))
