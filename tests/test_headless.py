"""Headless installation (2024-03): start an installation, complete it with the form's values; every
validation, the credential cases, and that an installation is used once."""

from __future__ import annotations

import re
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
    SLACK,
    SLACK_WORKFLOWS,
    SYNC_CUSTOMERS,
    TO_KLAVIYO,
    assert_error,
    assert_ok,
    installed,
)

MakeUser = Callable[..., str]
V4 = "/2024-03"
CHANNEL_BLOCK = "d7ecf691-60c8-4b53-b523-aaba8c9a190a"  # New Customer Created: channel (required string)
TICKETS_BLOCK = "11154e91-4966-4961-8d9d-88998e0d1625"  # Post New Tickets: channel, mentionChannel (boolean)
ORDER_BLOCK = "b60e5b27-ef5c-4798-bca8-260e63325aa4"  # Create Shopify Order: locationId (select), sendReceipt
NETSUITE_BLOCK = "165a50fb-0383-4b51-bc29-0a0c6f55c06e"  # customerEmail, subsidiaryId (number, since version 3)
KLAVIYO_BLOCK = "d3e4f5a6-b7c8-4d9e-8f0a-1b2c3d4e5f60"
OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
NETSUITE_DATA = {k: "v" for k in ("realm", "consumerKey", "consumerSecret", "tokenId", "tokenSecret")}


@pytest.fixture
def user_id(make_user: MakeUser) -> str:
    return make_user("headless@example.com")


def add_credential(client: TestClient, user: str, app: str, data: dict[str, Any] | None = None) -> str:
    body = {"credential": {"type": app, "data": data or {"accessToken": "t"}}, "userId": user}
    return str(assert_ok(client.post(f"{V4}/headless/credentials", json=body, headers=DEV))["credentialId"])


def start(client: TestClient, user: str, integration: str, headers: dict[str, str] = DEV, **body: Any) -> Any:
    return client.post(
        f"{V4}/headless/startInstallation", json={"userId": user, "integrationId": integration, **body}, headers=headers
    )


def started(client: TestClient, user: str, integration: str, **body: Any) -> dict[str, Any]:
    answer: dict[str, Any] = assert_ok(start(client, user, integration, **body))
    assert set(answer) == {"data", "installationId"} and OBJECT_ID.match(answer["installationId"]), answer
    return answer


def complete(client: TestClient, installation_id: Any, data: Any, headers: dict[str, str] = DEV) -> Any:
    return client.post(
        f"{V4}/headless/completeInstallation", json={"installationId": installation_id, "data": data}, headers=headers
    )


def block(workflow_id: str, block_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "workflowId": workflow_id,
        "blockId": block_id,
        "fields": [{"name": k, "value": v} for k, v in fields.items()],
    }


# -- start ------------------------------------------------------------------------------------------


def test_start_returns_the_form_of_every_block_with_fields(client: TestClient, user_id: str) -> None:
    add_credential(client, user_id, "slack")
    answer = started(client, user_id, SLACK)
    assert answer["data"] == [
        {
            "workflowId": NEW_CUSTOMER,
            "app": "slack",
            "blockId": CHANNEL_BLOCK,
            "fields": [{"name": "channel", "displayName": "Slack Channel", "type": "string", "required": True}],
        },
        {
            "workflowId": POST_TICKETS,
            "app": "slack",
            "blockId": TICKETS_BLOCK,
            "fields": [
                {"name": "channel", "displayName": "Slack Channel", "type": "string", "required": True},
                {"name": "mentionChannel", "displayName": "Mention @channel", "type": "boolean", "required": False},
            ],
        },
    ]
    assert installed(client, user_id) == {}, "starting installs nothing"


def test_start_a_subset_shows_select_options(client: TestClient, user_id: str) -> None:
    add_credential(client, user_id, "shopify", {"shopSubdomain": "shoes"})
    answer = started(client, user_id, "shopify", workflowIds=[CREATE_ORDER, "Sync New Customers to Shopify"])
    assert [(item["workflowId"], item["blockId"]) for item in answer["data"]] == [
        (SYNC_CUSTOMERS, "34b19706-eaaf-4396-8d93-4ee776f4fdae"),
        (CREATE_ORDER, ORDER_BLOCK),
    ]
    location = answer["data"][1]["fields"][0]
    assert location == {
        "name": "locationId",
        "displayName": location["displayName"],
        "type": "select",
        "required": True,
        "options": ["Main Warehouse", "Retail Store", "Fulfillment Center"],
    }


def test_start_shows_the_latest_versions_fields(client: TestClient, user_id: str) -> None:
    add_credential(client, user_id, "netsuite", NETSUITE_DATA)
    answer = started(client, user_id, NETSUITE, workflowIds=[SALES_ORDER])
    assert [f["name"] for f in answer["data"][0]["fields"]] == ["customerEmail", "subsidiaryId"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"userId": None}, 400, "userId is required"),
        ({"userId": ""}, 400, "userId must be a non-empty string"),
        ({"userId": 5}, 400, "userId must be a non-empty string"),
        ({"userId": "nobody"}, 404, "User not found"),
        ({"integrationId": None}, 400, "integrationId is required"),
        ({"integrationId": ["Slack"]}, 400, "integrationId must be a non-empty string"),
        ({"integrationId": "Nope"}, 404, "Integration not found"),
        ({"integrationId": SYNC_CUSTOMERS}, 404, "Integration not found"),
        ({"workflowIds": []}, 400, "workflowIds must name at least one workflow (leave it out to install all)"),
        ({"workflowIds": "abc"}, 400, "workflowIds must be an array of ids"),
        ({"workflowIds": [5]}, 400, "workflowIds must be an array of ids"),
        ({"workflowIds": [""]}, 400, "workflowIds must be an array of ids"),
        (
            {"workflowIds": [SYNC_CUSTOMERS]},
            400,
            "workflow '64108e3c3cac1228833b4944' is not part of the integration 'Slack'",
        ),
        ({"workflowIds": ["x" * 5000]}, 400, None),
        ({"credentialIds": {"slack": "x"}}, 400, "credentialIds must be an array of ids"),
        (
            {"credentialIds": ["000000000000000000000000"]},
            400,
            "credentialIds: the user has no credential '000000000000000000000000'",
        ),
        ({"workflowIds": [f"w{i}" for i in range(101)]}, 400, "workflowIds can hold at most 100 ids"),
    ],
)
def test_start_validation(
    client: TestClient, user_id: str, body: dict[str, Any], status: int, message: str | None
) -> None:
    add_credential(client, user_id, "slack")
    payload = {"userId": user_id, "integrationId": "Slack", **body}
    response = client.post(
        f"{V4}/headless/startInstallation", json={k: v for k, v in payload.items() if v is not None}, headers=DEV
    )
    assert_error(response, status, message)
    assert len(response.text) < 400, "a huge id is not echoed whole"


# -- credentials --------------------------------------------------------------------------------------


def test_without_a_credential_of_an_app_start_is_refused(client: TestClient, user_id: str) -> None:
    add_credential(client, user_id, "shopify", {"shopSubdomain": "shoes"})
    response = start(client, user_id, SHOPIFY, workflowIds=[TO_KLAVIYO])
    assert_error(response, 400, "The user has no klaviyo credential: create one first (or authorize klaviyo by OAuth)")


def test_one_credential_per_app_is_found_by_itself(client: TestClient, user_id: str) -> None:
    shopify = add_credential(client, user_id, "shopify", {"shopSubdomain": "shoes"})
    klaviyo = add_credential(client, user_id, "klaviyo", {"apiKey": "pk"})
    answer = started(client, user_id, SHOPIFY, workflowIds=[TO_KLAVIYO])
    assert_ok(complete(client, answer["installationId"], [block(TO_KLAVIYO, KLAVIYO_BLOCK, listId="L1")]))
    assert installed(client, user_id)[TO_KLAVIYO]["credentialIds"] == {"shopify": shopify, "klaviyo": klaviyo}


def test_several_credentials_of_an_app_need_credential_ids(client: TestClient, user_id: str) -> None:
    shopify = add_credential(client, user_id, "shopify", {"shopSubdomain": "shoes"})
    first, second = (add_credential(client, user_id, "klaviyo", {"apiKey": key}) for key in ("pk1", "pk2"))
    response = start(client, user_id, SHOPIFY, workflowIds=[TO_KLAVIYO])
    assert_error(response, 400, "The user has 2 klaviyo credentials: say which one in credentialIds")
    answer = started(client, user_id, SHOPIFY, workflowIds=[TO_KLAVIYO], credentialIds=[second])
    assert_ok(complete(client, answer["installationId"], [block(TO_KLAVIYO, KLAVIYO_BLOCK, listId="L1")]))
    assert installed(client, user_id)[TO_KLAVIYO]["credentialIds"] == {"shopify": shopify, "klaviyo": second}
    assert first != second


def test_credential_ids_that_do_not_fit_are_refused(client: TestClient, user_id: str, make_user: MakeUser) -> None:
    other = make_user("other@example.com")
    theirs = add_credential(client, other, "slack")
    add_credential(client, user_id, "slack")
    stripe = add_credential(client, user_id, "stripe", {"apiKey": "sk"})
    mine = [add_credential(client, user_id, "slack") for _ in range(2)]
    cases = [
        ([theirs], f"credentialIds: the user has no credential '{theirs}'"),
        ([stripe], f"credentialIds: {stripe} is a stripe credential, not needed here"),
        (mine, "credentialIds: two credentials given for slack"),
    ]
    for ids, message in cases:
        assert_error(start(client, user_id, SLACK, credentialIds=ids), 400, message)
    answer = started(client, user_id, SLACK, workflowIds=[POST_WEBHOOK], credentialIds=[mine[1]])
    assert_ok(complete(client, answer["installationId"], []))
    assert installed(client, user_id)[POST_WEBHOOK]["credentialIds"] == {"slack": mine[1]}


# -- complete -------------------------------------------------------------------------------------


def test_complete_installs_at_the_latest_version_with_the_values(client: TestClient, user_id: str) -> None:
    credential = add_credential(client, user_id, "slack")
    answer = started(client, user_id, SLACK)
    data = [
        block(NEW_CUSTOMER, CHANNEL_BLOCK, channel="#new"),
        block(POST_TICKETS, TICKETS_BLOCK, channel="#t", mentionChannel="TRUE"),
    ]
    assert_ok(complete(client, answer["installationId"], data), {"message": "Installation completed successfully"})
    mine = installed(client, user_id)
    assert list(mine) == SLACK_WORKFLOWS
    assert {w: (mine[w]["installedVersion"], mine[w]["active"]) for w in mine} == {
        NEW_CUSTOMER: (2, True),
        POST_TICKETS: (1, True),
        POST_WEBHOOK: (1, True),
    }
    assert mine[NEW_CUSTOMER]["values"] == {CHANNEL_BLOCK: {"channel": "#new"}}
    assert mine[POST_TICKETS]["values"] == {TICKETS_BLOCK: {"channel": "#t", "mentionChannel": True}}
    assert all(item["credentialIds"] == {"slack": credential} for item in mine.values())
    integration = assert_ok(client.get(f"{V4}/integrations/{SLACK}", params={"userId": user_id}, headers=DEV))["data"]
    assert integration["installed"] is True
    assert all(w["installed"] and w["active"] for w in integration["workflows"])


def test_a_completed_installation_cannot_be_completed_twice(client: TestClient, user_id: str) -> None:
    add_credential(client, user_id, "slack")
    answer = started(client, user_id, SLACK, workflowIds=[NEW_CUSTOMER])
    assert_ok(complete(client, answer["installationId"], [block(NEW_CUSTOMER, CHANNEL_BLOCK, channel="#a")]))
    again = complete(client, answer["installationId"], [block(NEW_CUSTOMER, CHANNEL_BLOCK, channel="#b")])
    assert_error(again, 404, "Installation not found")
    assert installed(client, user_id)[NEW_CUSTOMER]["values"] == {CHANNEL_BLOCK: {"channel": "#a"}}


def test_a_refused_completion_leaves_the_installation_usable(client: TestClient, user_id: str) -> None:
    add_credential(client, user_id, "slack")
    answer = started(client, user_id, SLACK, workflowIds=[NEW_CUSTOMER])
    assert_error(complete(client, answer["installationId"], []), 400)
    assert installed(client, user_id) == {}
    assert_ok(complete(client, answer["installationId"], [block(NEW_CUSTOMER, CHANNEL_BLOCK, channel="#a")]))


def test_another_namespace_cannot_complete_it(client: TestClient, user_id: str) -> None:
    add_credential(client, user_id, "slack")
    answer = started(client, user_id, SLACK, workflowIds=[POST_WEBHOOK])
    assert_error(complete(client, answer["installationId"], [], headers=PROD), 404, "Installation not found")
    assert_ok(complete(client, answer["installationId"], []))


@pytest.mark.parametrize(
    ("value", "stored"),
    [(True, True), (False, False), ("true", True), ("FALSE", False), (" True ", True)],
)
def test_boolean_fields_take_booleans_and_their_string_forms(
    client: TestClient, user_id: str, value: Any, stored: bool
) -> None:
    add_credential(client, user_id, "slack")
    answer = started(client, user_id, SLACK, workflowIds=[POST_TICKETS])
    assert_ok(
        complete(
            client, answer["installationId"], [block(POST_TICKETS, TICKETS_BLOCK, channel="#t", mentionChannel=value)]
        )
    )
    assert installed(client, user_id)[POST_TICKETS]["values"][TICKETS_BLOCK]["mentionChannel"] is stored


@pytest.mark.parametrize(
    ("value", "stored"), [(12, 12), ("12", 12), ("-3", -3), (1.5, 1.5), ("1.5", 1.5), ("2e3", 2000.0)]
)
def test_number_fields_take_numbers_and_their_string_forms(
    client: TestClient, user_id: str, value: Any, stored: float
) -> None:
    add_credential(client, user_id, "netsuite", NETSUITE_DATA)
    answer = started(client, user_id, NETSUITE, workflowIds=[SALES_ORDER])
    data = [block(SALES_ORDER, NETSUITE_BLOCK, customerEmail="a@b.c", subsidiaryId=value)]
    assert_ok(complete(client, answer["installationId"], data))
    kept = installed(client, user_id)[SALES_ORDER]["values"][NETSUITE_BLOCK]["subsidiaryId"]
    assert kept == stored and type(kept) is type(stored)


NETSUITE_FIELD = "block 'NetSuite' (165a50fb-0383-4b51-bc29-0a0c6f55c06e) field"
SLACK_FIELD = "block 'Slack' (11154e91-4966-4961-8d9d-88998e0d1625) field"
ORDER_FIELD = "block 'Shopify' (b60e5b27-ef5c-4798-bca8-260e63325aa4) field"


@pytest.mark.parametrize(
    ("integration", "workflow", "data", "message"),
    [
        (
            SLACK,
            POST_TICKETS,
            [block(POST_TICKETS, TICKETS_BLOCK)],
            f"{SLACK_FIELD} 'channel' is required (workflow 'Post New Tickets to Slack')",
        ),
        (
            SLACK,
            POST_TICKETS,
            [block(POST_TICKETS, TICKETS_BLOCK, channel="")],
            f"{SLACK_FIELD} 'channel' is required (workflow 'Post New Tickets to Slack')",
        ),
        (
            SLACK,
            POST_TICKETS,
            [block(POST_TICKETS, TICKETS_BLOCK, channel=None)],
            f"{SLACK_FIELD} 'channel' is required (workflow 'Post New Tickets to Slack')",
        ),
        (
            SLACK,
            POST_TICKETS,
            [block(POST_TICKETS, TICKETS_BLOCK, channel=5)],
            f"{SLACK_FIELD} 'channel' must be a string",
        ),
        (
            SLACK,
            POST_TICKETS,
            [block(POST_TICKETS, TICKETS_BLOCK, channel=["#a"])],
            f"{SLACK_FIELD} 'channel' must be a string",
        ),
        (
            SLACK,
            POST_TICKETS,
            [block(POST_TICKETS, TICKETS_BLOCK, channel="x" * 4097)],
            f"{SLACK_FIELD} 'channel' must be at most 4096 characters",
        ),
        (
            SLACK,
            POST_TICKETS,
            [block(POST_TICKETS, TICKETS_BLOCK, channel="#a", mentionChannel="yes")],
            f"{SLACK_FIELD} 'mentionChannel' must be true or false",
        ),
        (
            SLACK,
            POST_TICKETS,
            [block(POST_TICKETS, TICKETS_BLOCK, channel="#a", mentionChannel=1)],
            f"{SLACK_FIELD} 'mentionChannel' must be true or false",
        ),
        (
            SLACK,
            POST_TICKETS,
            [block(POST_TICKETS, TICKETS_BLOCK, channel="#a", chanel="#b")],
            f"block 'Slack' ({TICKETS_BLOCK}) has no field 'chanel' in version 1 (its fields: channel, mentionChannel)",
        ),
        (
            SLACK,
            POST_TICKETS,
            [block(POST_TICKETS, "00000000-0000-4000-8000-000000000000", channel="#a")],
            "workflow 'Post New Tickets to Slack' has no block '00000000-0000-4000-8000-000000000000'",
        ),
        (
            SLACK,
            POST_TICKETS,
            [block(NEW_CUSTOMER, CHANNEL_BLOCK, channel="#a")],
            f"values name workflows that are not being installed: {NEW_CUSTOMER}",
        ),
        (SLACK, POST_TICKETS, [block(POST_TICKETS, "b" * 5000, channel="#a")], None),
        (
            SHOPIFY,
            CREATE_ORDER,
            [block(CREATE_ORDER, ORDER_BLOCK, locationId="Garage")],
            f"{ORDER_FIELD} 'locationId' must be one of: Main Warehouse, Retail Store, Fulfillment Center",
        ),
        (
            SHOPIFY,
            CREATE_ORDER,
            [block(CREATE_ORDER, ORDER_BLOCK, locationId="retail store")],
            f"{ORDER_FIELD} 'locationId' must be one of: Main Warehouse, Retail Store, Fulfillment Center",
        ),
        (
            NETSUITE,
            SALES_ORDER,
            [block(SALES_ORDER, NETSUITE_BLOCK, customerEmail="a@b.c", subsidiaryId="abc")],
            f"{NETSUITE_FIELD} 'subsidiaryId' must be a number",
        ),
        (
            NETSUITE,
            SALES_ORDER,
            [block(SALES_ORDER, NETSUITE_BLOCK, customerEmail="a@b.c", subsidiaryId=True)],
            f"{NETSUITE_FIELD} 'subsidiaryId' must be a number",
        ),
        (
            NETSUITE,
            SALES_ORDER,
            [block(SALES_ORDER, NETSUITE_BLOCK, customerEmail="a@b.c", subsidiaryId="NaN")],
            f"{NETSUITE_FIELD} 'subsidiaryId' must be a number",
        ),
        (
            NETSUITE,
            SALES_ORDER,
            [block(SALES_ORDER, NETSUITE_BLOCK, customerEmail="a@b.c", subsidiaryId="1e999")],
            f"{NETSUITE_FIELD} 'subsidiaryId' must be a number",
        ),
        (
            NETSUITE,
            SALES_ORDER,
            [block(SALES_ORDER, NETSUITE_BLOCK, customerEmail="a@b.c", subsidiaryId="0x10")],
            f"{NETSUITE_FIELD} 'subsidiaryId' must be a number",
        ),
        (
            NETSUITE,
            SALES_ORDER,
            [block(SALES_ORDER, NETSUITE_BLOCK, customerEmail="a@b.c", subsidiaryId={"n": 1})],
            f"{NETSUITE_FIELD} 'subsidiaryId' must be a number",
        ),
        (
            NETSUITE,
            SALES_ORDER,
            [block(SALES_ORDER, NETSUITE_BLOCK, customerEmail="a@b.c")],
            f"{NETSUITE_FIELD} 'subsidiaryId' is required (workflow 'Create NetSuite Sales Order')",
        ),
    ],
)
def test_complete_validation_names_the_field_and_installs_nothing(
    client: TestClient, user_id: str, integration: str, workflow: str, data: Any, message: str | None
) -> None:
    for app, credential in (("slack", None), ("shopify", {"shopSubdomain": "s"}), ("netsuite", NETSUITE_DATA)):
        add_credential(client, user_id, app, credential)
    answer = started(client, user_id, integration, workflowIds=[workflow])
    response = complete(client, answer["installationId"], data)
    assert_error(response, 400, message)
    assert len(response.text) < 400, "a huge id is not echoed whole"
    assert installed(client, user_id) == {}


@pytest.mark.parametrize(
    ("installation", "data", "status", "message"),
    [
        (None, [], 400, "installationId is required"),
        ("", [], 400, "installationId is required"),
        (5, [], 400, "installationId is required"),
        (["x"], [], 400, "installationId is required"),
        ("000000000000000000000000", [], 404, "Installation not found"),
        ("None", [], 404, "Installation not found"),
        ("START", None, 400, "data is required"),
        ("START", {"workflowId": POST_TICKETS}, 400, "data must be an array of {workflowId, blockId, fields}"),
        ("START", "[]", 400, "data must be an array of {workflowId, blockId, fields}"),
        ("START", ["x"], 400, "data[0] must be an object"),
        ("START", [{"blockId": TICKETS_BLOCK}], 400, "data[0].workflowId is required"),
        ("START", [{"workflowId": 5, "blockId": TICKETS_BLOCK}], 400, "data[0].workflowId is required"),
        ("START", [{"workflowId": POST_TICKETS}], 400, "data[0].blockId is required"),
        (
            "START",
            [{"workflowId": POST_TICKETS, "blockId": TICKETS_BLOCK, "fields": {"channel": "#a"}}],
            400,
            "data[0].fields must be an array of {name, value}",
        ),
        (
            "START",
            [{"workflowId": POST_TICKETS, "blockId": TICKETS_BLOCK, "fields": ["channel"]}],
            400,
            "data[0].fields[0].name is required",
        ),
        (
            "START",
            [{"workflowId": POST_TICKETS, "blockId": TICKETS_BLOCK, "fields": [{"name": ""}]}],
            400,
            "data[0].fields[0].name is required",
        ),
        (
            "START",
            [{"workflowId": POST_TICKETS, "blockId": TICKETS_BLOCK, "fields": [{"name": "channel"}]}],
            400,
            "data[0].fields[0].value is required",
        ),
        (
            "START",
            [
                {
                    "workflowId": POST_TICKETS,
                    "blockId": TICKETS_BLOCK,
                    "fields": [{"name": "channel", "value": "#a"}, {"name": "channel", "value": "#b"}],
                }
            ],
            400,
            "data[0].fields[1]: 'channel' is given twice",
        ),
    ],
)
def test_complete_body_validation(
    client: TestClient, user_id: str, installation: Any, data: Any, status: int, message: str
) -> None:
    add_credential(client, user_id, "slack")
    answer = started(client, user_id, SLACK, workflowIds=[POST_TICKETS])
    installation_id = answer["installationId"] if installation == "START" else installation
    body = {k: v for k, v in {"installationId": installation_id, "data": data}.items() if v is not None}
    assert_error(client.post(f"{V4}/headless/completeInstallation", json=body, headers=DEV), status, message)
    assert installed(client, user_id) == {}
    assert_ok(complete(client, answer["installationId"], [block(POST_TICKETS, TICKETS_BLOCK, channel="#ok")]))


@pytest.mark.parametrize(
    "path", ["/headless/startInstallation", "/headless/completeInstallation", "/headless/credentials"]
)
@pytest.mark.parametrize("version", ["2023-01", "2023-06", "2023-12"])
def test_headless_is_2024_03_only(client: TestClient, user_id: str, path: str, version: str) -> None:
    assert_error(client.post(f"/{version}{path}", json={}, headers=DEV), 404, f"No route for POST /{version}{path}")


def test_headless_needs_the_key(client: TestClient, user_id: str) -> None:
    for path in ("/headless/startInstallation", "/headless/completeInstallation", "/headless/credentials"):
        assert_error(client.post(f"{V4}{path}", json={"userId": user_id}), 401, "Unauthorized")
    assert_error(client.get(f"{API}/users/{user_id}/credentials"), 401, "Unauthorized")
