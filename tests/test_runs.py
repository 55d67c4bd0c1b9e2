"""Running workflows: GET /events, POST /run/event and POST /run/workflow, what an execution records, strict mode,
the payload marker, deleted credentials, and bad input (a clear 400 and nothing recorded)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from alloy_mock.catalogue import default_fixtures_path

from .conftest import API, DEV, PROD, ServerProcess
from .helpers import assert_error, assert_ok
from .runs_support import (
    CREATE_ORDER,
    CUSTOMER,
    EXECUTION_ID,
    HOURLY_SALESFORCE,
    HUBSPOT_CONTACT,
    KLAVIYO_BLOCK,
    KLAVIYO_SHOPIFY,
    SYNC_CUSTOMERS,
    SYNC_SHOPIFY,
    SYNC_TRIGGER,
    TO_KLAVIYO,
    WEBHOOK_ORDER,
    WEBHOOK_SLACK,
    analytics,
    app_client,
    errors,
    install,
    install_sync,
    logs,
    nested,
    output,
    run_event,
    run_webhook,
    without_ids_and_times,
)

MakeUser = Callable[..., str]
FROZEN_AT = 1_700_000_000.0  # 2023-11-14T22:13:20Z
FROZEN_ISO = "2023-11-14T22:13:20.000Z"


@pytest.fixture
def strict_client() -> Iterator[TestClient]:
    with app_client(strict_runs=True) as client:
        yield client


def everything_recorded(client: TestClient, *workflows: str) -> list[tuple[int, int, int]]:
    return [analytics(client, workflow) for workflow in workflows]


# -- events ---------------------------------------------------------------------------------------


def test_events_lists_the_seed_catalogues_custom_events(client: TestClient) -> None:
    seeded = json.loads((default_fixtures_path() / "events.json").read_text())["events"]
    body = assert_ok(client.get(f"{API}/events", headers=DEV))
    assert body == {"data": seeded}
    assert {"name", "description", "body"} == set(body["data"][0])
    # Account-level: a userId changes nothing (even an unknown one), and every version serves it.
    assert assert_ok(client.get(f"{API}/events", params={"userId": "nobody"}, headers=DEV)) == body
    assert assert_ok(client.get("/2024-03/events", headers=PROD)) == body
    assert_error(client.get(f"{API}/events"), 401, "Unauthorized")


# -- run/event: which workflows run ---------------------------------------------------------------


def test_an_event_runs_the_users_installed_active_workflow_once(client: TestClient, make_user: MakeUser) -> None:
    make_user("alice")
    install_sync(client, "alice", values={"customerTags": "vip"})
    run_event(client, "alice", CUSTOMER)

    [entry] = logs(client, SYNC_CUSTOMERS, userId="alice")
    assert EXECUTION_ID.match(entry["executionId"]), entry
    assert entry["finished"] is True
    assert entry["startedAt"] <= entry["stoppedAt"]
    assert [r["blockId"] for r in entry["results"]] == [SYNC_TRIGGER, SYNC_SHOPIFY]
    # The trigger's output is the event's data; the Shopify block's a customer built from it and the install.
    assert output(entry, SYNC_TRIGGER) == {"body": CUSTOMER}
    customer = output(entry, SYNC_SHOPIFY)
    assert (customer["email"], customer["first_name"], customer["last_name"]) == ("ada@example.com", "Ada", "Lovelace")
    assert customer["tags"] == "vip"  # the install's field value
    assert isinstance(customer["id"], int)
    assert entry["inputs"] == [{"blockId": SYNC_TRIGGER, "data": CUSTOMER}, {"blockId": SYNC_SHOPIFY, "data": CUSTOMER}]
    for result in entry["results"]:
        assert entry["startedAt"] <= result["startedAt"] <= result["stoppedAt"] <= entry["stoppedAt"]
        [[item]] = result["data"]
        assert set(item) == {"json", "id"}
    assert analytics(client, SYNC_CUSTOMERS) == (1, 1, 0)


def test_an_event_runs_every_matching_workflow_of_that_user_only(client: TestClient, make_user: MakeUser) -> None:
    make_user("alice")
    make_user("bob")
    install(client, "alice", "Shopify", workflows=[SYNC_CUSTOMERS, TO_KLAVIYO], values={"listId": "L-1"})
    install(client, "alice", "HubSpot", workflows=[HUBSPOT_CONTACT], values={"lifecycleStage": "lead"})
    install(client, "alice", "Shopify", workflows=[CREATE_ORDER], values={"locationId": "Main Warehouse"})
    install_sync(client, "bob")

    run_event(client, "alice", CUSTOMER)

    assert len(logs(client, SYNC_CUSTOMERS, userId="alice")) == 1
    [klaviyo] = logs(client, TO_KLAVIYO, userId="alice")
    assert output(klaviyo, KLAVIYO_BLOCK)["data"]["relationships"]["lists"]["data"] == [{"type": "list", "id": "L-1"}]
    # The Klaviyo block's input is the Shopify block's output.
    assert [i["data"] for i in klaviyo["inputs"] if i["blockId"] == KLAVIYO_BLOCK] == [output(klaviyo, KLAVIYO_SHOPIFY)]
    [hubspot] = logs(client, HUBSPOT_CONTACT, userId="alice")
    assert hubspot["results"][1]["data"][0][0]["json"]["properties"]["lifecyclestage"] == "lead"
    # Another event's workflow, and another user's install of the same workflow, did not run.
    assert logs(client, CREATE_ORDER) == []
    assert logs(client, SYNC_CUSTOMERS, userId="bob") == []
    assert analytics(client, SYNC_CUSTOMERS) == (1, 1, 0)
    assert analytics(client, TO_KLAVIYO) == (1, 2, 0)


def test_inactive_uninstalled_and_unknown_run_nothing_and_still_answer_200(
    client: TestClient, make_user: MakeUser
) -> None:
    make_user("alice")
    install_sync(client, "alice", active=False)
    run_event(client, "alice", CUSTOMER)  # installed but inactive
    run_event(client, "alice", CUSTOMER, event="Ticket Created")  # no install starts with it
    run_event(client, "alice", CUSTOMER, event="No Such Event")  # not in the catalogue
    assert logs(client, SYNC_CUSTOMERS) == []

    # Activated through the vendor API, it runs; deactivated again, it does not.
    switch = {"workflowId": SYNC_CUSTOMERS, "userId": "alice"}
    assert_ok(client.put(f"{API}/workflows/activate", json=switch, headers=DEV))
    run_event(client, "alice", CUSTOMER)
    assert_ok(client.put(f"{API}/workflows/deactivate", json=switch, headers=DEV))
    run_event(client, "alice", CUSTOMER)
    assert len(logs(client, SYNC_CUSTOMERS)) == 1

    # Uninstalled: nothing runs, and the execution recorded before stays.
    assert_ok(client.delete(f"{API}/workflows/{SYNC_CUSTOMERS}", params={"userId": "alice"}, headers=DEV))
    run_event(client, "alice", CUSTOMER)
    assert len(logs(client, SYNC_CUSTOMERS)) == 1


def test_data_as_a_json_string_is_the_same_as_the_object(client: TestClient, make_user: MakeUser) -> None:
    make_user("alice")
    install_sync(client, "alice")
    run_event(client, "alice", json.dumps(CUSTOMER))
    run_event(client, "alice", CUSTOMER)
    first, second = logs(client, SYNC_CUSTOMERS, order="asc")
    assert output(first, SYNC_TRIGGER) == {"body": CUSTOMER}
    assert without_ids_and_times(first) == without_ids_and_times(second)


def test_unicode_and_nested_data_are_kept_exactly(client: TestClient, make_user: MakeUser) -> None:
    make_user("alice")
    install_sync(client, "alice")
    data = {"name": "Zoë 山田 \U0001f600", "nested": {"list": [1, 2.5, None, True, {"deep": ["x"]}]}, "": "empty key"}
    run_event(client, "alice", data)
    [entry] = logs(client, SYNC_CUSTOMERS)
    assert output(entry, SYNC_TRIGGER) == {"body": data}
    assert output(entry, SYNC_SHOPIFY)["first_name"] == "Zoë"


def test_same_input_same_outputs_apart_from_ids_and_times(client: TestClient, make_user: MakeUser) -> None:
    make_user("alice")
    install_sync(client, "alice", values={"customerTags": "vip"})
    run_event(client, "alice", CUSTOMER)
    run_event(client, "alice", CUSTOMER)
    run_event(client, "alice", {**CUSTOMER, "email": "grace@example.com"})
    other, second, first = logs(client, SYNC_CUSTOMERS)  # newest first
    assert without_ids_and_times(first) == without_ids_and_times(second)
    assert first["executionId"] != second["executionId"]
    assert first["results"][1]["data"][0][0]["id"] != second["results"][1]["data"][0][0]["id"]
    assert output(other, SYNC_SHOPIFY)["email"] == "grace@example.com"
    assert output(other, SYNC_SHOPIFY)["id"] != output(first, SYNC_SHOPIFY)["id"]


def test_a_frozen_clock_gives_the_same_timestamps_every_run(client: TestClient, make_user: MakeUser) -> None:
    make_user("alice")
    install_sync(client, "alice")
    assert_ok(client.post("/_mock/clock/freeze", json={"at": FROZEN_AT}))
    run_event(client, "alice", CUSTOMER)
    run_event(client, "alice", {"name": "Someone Else"})
    first, second = logs(client, SYNC_CUSTOMERS)
    times = [
        (e["startedAt"], e["stoppedAt"], [(r["startedAt"], r["stoppedAt"]) for r in e["results"]])
        for e in (first, second)
    ]
    assert times[0] == times[1]
    assert first["startedAt"] == first["results"][0]["startedAt"] == FROZEN_ISO
    assert first["results"][0]["stoppedAt"] == first["results"][1]["startedAt"]
    assert first["stoppedAt"] == first["results"][-1]["stoppedAt"] > FROZEN_ISO
    # Moving the clock moves the next run's times.
    assert_ok(client.post("/_mock/clock/advance", json={"seconds": 60}))
    run_event(client, "alice", CUSTOMER)
    assert logs(client, SYNC_CUSTOMERS, limit=1)[0]["startedAt"] == "2023-11-14T22:14:20.000Z"


def test_a_dev_users_runs_are_invisible_under_the_prod_key(client: TestClient, make_user: MakeUser) -> None:
    make_user("alice")
    install_sync(client, "alice")
    run_event(client, "alice", CUSTOMER)
    assert logs(client, SYNC_CUSTOMERS, headers=PROD) == []
    assert errors(client, SYNC_CUSTOMERS, headers=PROD) == []
    assert analytics(client, SYNC_CUSTOMERS, headers=PROD) == (0, 0, 0)
    assert_error(client.get(f"{API}/workflows/{SYNC_CUSTOMERS}/logs?userId=alice", headers=PROD), 404, "User not found")
    body = {"event": "Customer Created", "userId": "alice", "data": CUSTOMER}
    assert_error(client.post(f"{API}/run/event", json=body, headers=PROD), 404, "User not found")
    # The same username in prod is another user, with runs of their own.
    make_user("alice", headers=PROD)
    install_sync(client, "alice", namespace="prod")
    run_event(client, "alice", {"name": "Prod Alice"}, headers=PROD)
    [prod_entry] = logs(client, SYNC_CUSTOMERS, headers=PROD)
    assert output(prod_entry, SYNC_TRIGGER) == {"body": {"name": "Prod Alice"}}
    [dev_entry] = logs(client, SYNC_CUSTOMERS)
    assert output(dev_entry, SYNC_TRIGGER) == {"body": CUSTOMER}


def test_every_version_prefix_runs_events(client: TestClient, make_user: MakeUser) -> None:
    make_user("alice")
    install_sync(client, "alice")
    body = {"event": "Customer Created", "userId": "alice", "data": CUSTOMER}
    for version in ("2023-01", "2023-06", "2023-12", "2024-03"):
        assert_ok(client.post(f"/{version}/run/event", json=body, headers=DEV))
    assert analytics(client, SYNC_CUSTOMERS) == (4, 4, 0)


# -- strict mode ------------------------------------------------------------------------------------


def test_strict_mode_refuses_an_unknown_event_and_an_event_that_runs_nothing(strict_client: TestClient) -> None:
    client = strict_client
    assert_ok(client.post(f"{API}/users", json={"username": "alice"}, headers=DEV))
    body: dict[str, Any] = {"event": "No Such Event", "userId": "alice", "data": CUSTOMER}
    assert_error(client.post(f"{API}/run/event", json=body, headers=DEV), 400, prefix="Unknown event 'No Such Event'")
    body["event"] = "Customer Created"
    response = client.post(f"{API}/run/event", json=body, headers=DEV)
    assert_error(response, 400, "No installed, active workflow of this user starts with the event 'Customer Created'")
    install_sync(client, "alice")
    run_event(client, "alice", CUSTOMER)
    assert analytics(client, SYNC_CUSTOMERS) == (1, 1, 0)


def test_strict_runs_flag_of_a_real_server(serve: Callable[..., ServerProcess]) -> None:
    """The flag reaches the runner (its environment variable and parsing: tests/test_config.py)."""
    with serve("--strict-runs").client() as http:
        assert http.post(f"{API}/users", json={"username": "s"}, headers=DEV).status_code == 200
        response = http.post(f"{API}/run/event", json={"event": "Nope", "userId": "s", "data": {}}, headers=DEV)
        assert_error(response, 400, prefix="Unknown event 'Nope'")


# -- run/workflow -----------------------------------------------------------------------------------


def test_run_workflow_runs_a_webhook_workflow_by_id_or_name(client: TestClient, make_user: MakeUser) -> None:
    make_user("alice")
    install(client, "alice", "Slack", workflows=[WEBHOOK_SLACK])
    run_webhook(client, "alice", WEBHOOK_SLACK, {"text": "hello"})
    body = {"workflowName": "Post Webhook Events to Slack", "userId": "alice", "data": '{"text": "by name"}'}
    assert_ok(client.post(f"{API}/run/workflow", json=body, headers=DEV), {"message": "success"})
    by_name, by_id = logs(client, WEBHOOK_SLACK)
    assert by_id["results"][0]["data"][0][0]["json"] == {"body": {"text": "hello"}}
    assert by_name["results"][0]["data"][0][0]["json"] == {"body": {"text": "by name"}}
    # Formatter passes its input on; Slack posts a message made from it.
    assert by_id["results"][1]["data"][0][0]["json"] == {"text": "hello"}
    assert by_id["results"][2]["data"][0][0]["json"]["message"]["text"] == "text: hello"
    assert analytics(client, WEBHOOK_SLACK) == (2, 4, 0)


@pytest.mark.parametrize(
    ("setup", "body", "status", "message"),
    [
        pytest.param(
            None,
            {"workflowId": SYNC_CUSTOMERS},
            400,
            "'Sync New Customers to Shopify' starts with the custom event 'Customer Created': "
            "run it with POST /run/event",
            id="custom-event",
        ),
        pytest.param(
            None,
            {"workflowId": HOURLY_SALESFORCE},
            400,
            "'Hourly Salesforce Account Sync' runs on a schedule, not from a webhook",
            id="schedule",
        ),
        pytest.param(
            None,
            {"workflowId": WEBHOOK_ORDER},
            400,
            "'Fulfill Shopify Order from Webhook' is not installed for this user",
            id="not-installed",
        ),
        pytest.param(
            {"workflows": [WEBHOOK_ORDER], "active": False},
            {"workflowId": WEBHOOK_ORDER},
            400,
            "'Fulfill Shopify Order from Webhook' is installed but not active for this user (activate it first)",
            id="inactive",
        ),
        pytest.param(None, {"workflowId": "0" * 24}, 404, "Workflow not found", id="unknown-id"),
        pytest.param(None, {"workflowName": "No such workflow"}, 404, "Workflow not found", id="unknown-name"),
        pytest.param(None, {}, 400, "workflowId or workflowName is required", id="no-workflow"),
        pytest.param(None, {"workflowId": ""}, 400, "workflowId or workflowName is required", id="empty"),
        pytest.param(None, {"workflowId": None}, 400, "workflowId or workflowName is required", id="null"),
        pytest.param(None, {"workflowId": 5}, 400, "workflowId and workflowName must be strings", id="number"),
        pytest.param(
            None, {"workflowName": [WEBHOOK_ORDER]}, 400, "workflowId and workflowName must be strings", id="list"
        ),
        pytest.param(None, {"workflowId": "x" * 100_000}, 404, "Workflow not found", id="huge"),
    ],
)
def test_run_workflow_refusals(
    client: TestClient,
    make_user: MakeUser,
    setup: dict[str, Any] | None,
    body: dict[str, Any],
    status: int,
    message: str,
) -> None:
    make_user("alice")
    install(client, "alice", "Shopify", **(setup or {"workflows": [SYNC_CUSTOMERS]}))
    response = client.post(f"{API}/run/workflow", json={"userId": "alice", "data": {"a": 1}, **body}, headers=DEV)
    assert_error(response, status, message)
    assert everything_recorded(client, SYNC_CUSTOMERS, WEBHOOK_ORDER, HOURLY_SALESFORCE) == [(0, 0, 0)] * 3


# -- bad input: a 400 naming the field, and nothing recorded -----------------------------------------

DEEP = nested(151)


NOT_AN_OBJECT = "data must be an object, or a string holding a JSON object"
EVENT_REQUIRED = "event is required (the name of a custom event)"
EVENT_NOT_TEXT = "event must be a non-empty string (the name of a custom event)"
BAD_MARKER = 'data.__alloy_mock must be {"failAt": <block id, name or app>, "message": <text>}'
MARKER_NOT_TEXT = "data.__alloy_mock.failAt and .message must be strings"
MARKER_AT_TRIGGER = (
    "data.__alloy_mock.failAt 'Custom Event' names the trigger of 'Sync New Customers to Shopify', "
    "which cannot fail: name an app block (its id, name or app)"
)
DEEP_DATA = "data nests objects and arrays more than 100 levels deep"
OK_EVENT: dict[str, Any] = {"event": "Customer Created", "userId": "alice", "data": {}}


@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        pytest.param({"event": None}, 400, EVENT_REQUIRED, id="null-event"),
        pytest.param({"event": ""}, 400, EVENT_NOT_TEXT, id="empty-event"),
        pytest.param({"event": " \t"}, 400, EVENT_NOT_TEXT, id="blank-event"),
        pytest.param({"event": 7}, 400, EVENT_NOT_TEXT, id="number-event"),
        pytest.param({"event": ["Customer Created"]}, 400, EVENT_NOT_TEXT, id="list-event"),
        pytest.param({"event": "x" * 201}, 400, "event must be at most 200 characters", id="huge-event"),
        pytest.param({"userId": None}, 400, "userId is required", id="null-user"),
        pytest.param({"userId": ""}, 400, "userId must be a non-empty string", id="empty-user"),
        pytest.param({"userId": 12}, 400, "userId must be a non-empty string", id="number-user"),
        pytest.param({"userId": {"id": "alice"}}, 400, "userId must be a non-empty string", id="object-user"),
        pytest.param({"userId": "nobody"}, 404, "User not found", id="unknown-user"),
        pytest.param({"userId": "\u00fc" * 5000}, 404, "User not found", id="huge-user"),
        pytest.param({"data": None}, 400, "data is required", id="null-data"),
        pytest.param({"data": []}, 400, NOT_AN_OBJECT, id="array-data"),
        pytest.param({"data": 3}, 400, NOT_AN_OBJECT, id="number-data"),
        pytest.param({"data": True}, 400, NOT_AN_OBJECT, id="bool-data"),
        pytest.param({"data": "not json"}, 400, NOT_AN_OBJECT, id="text-data"),
        pytest.param({"data": "[1, 2]"}, 400, NOT_AN_OBJECT, id="string-array"),
        pytest.param({"data": '"{}"'}, 400, NOT_AN_OBJECT, id="string-string"),
        pytest.param({"data": "null"}, 400, NOT_AN_OBJECT, id="string-null"),
        pytest.param({"data": ""}, 400, NOT_AN_OBJECT, id="empty-string"),
        pytest.param({"data": DEEP}, 400, DEEP_DATA, id="deep"),
        pytest.param({"data": json.dumps(DEEP)}, 400, DEEP_DATA, id="deep-string"),
        pytest.param({"data": {"__alloy_mock": "fail"}}, 400, BAD_MARKER, id="marker-string"),
        pytest.param({"data": {"__alloy_mock": {"failAt": "shopify", "retry": 1}}}, 400, BAD_MARKER, id="marker-key"),
        pytest.param({"data": {"__alloy_mock": {"failAt": 1}}}, 400, MARKER_NOT_TEXT, id="marker-number"),
        pytest.param({"data": {"__alloy_mock": {"message": ""}}}, 400, MARKER_NOT_TEXT, id="marker-empty-message"),
        pytest.param(
            {"data": {"__alloy_mock": {"failAt": "Custom Event"}}}, 400, MARKER_AT_TRIGGER, id="marker-trigger"
        ),
    ],
)
def test_run_event_bad_input(
    client: TestClient, make_user: MakeUser, changes: dict[str, Any], status: int, message: str
) -> None:
    make_user("alice")
    install(client, "alice", "Shopify", workflows=[SYNC_CUSTOMERS, TO_KLAVIYO], values={"listId": "L"})
    assert_error(client.post(f"{API}/run/event", json={**OK_EVENT, **changes}, headers=DEV), status, message)
    assert everything_recorded(client, SYNC_CUSTOMERS, TO_KLAVIYO) == [(0, 0, 0)] * 2


@pytest.mark.parametrize(
    ("missing", "message"), [("event", EVENT_REQUIRED), ("userId", "userId is required"), ("data", "data is required")]
)
def test_run_event_missing_fields(client: TestClient, make_user: MakeUser, missing: str, message: str) -> None:
    make_user("alice")
    install_sync(client, "alice")
    body = {name: value for name, value in OK_EVENT.items() if name != missing}
    assert_error(client.post(f"{API}/run/event", json=body, headers=DEV), 400, message)
    assert analytics(client, SYNC_CUSTOMERS) == (0, 0, 0)


@pytest.mark.parametrize(
    ("content", "status", "message"),
    [
        pytest.param(b"[]", 400, "The JSON body must be an object, not an array", id="array"),
        pytest.param(b'"x"', 400, "The JSON body must be an object, not a string", id="string"),
        pytest.param(b"null", 400, "The JSON body must be an object, not null", id="null"),
        pytest.param(b"{", 400, None, id="malformed"),
        pytest.param(
            b'{"event": "Customer Created", "userId": "alice", "data": {"a": "\\ud800"}}',
            400,
            None,
            id="lone-surrogate",
        ),
        pytest.param(b"", 400, "userId is required", id="empty"),
    ],
)
def test_run_event_bodies_that_are_not_objects(
    client: TestClient, make_user: MakeUser, content: bytes, status: int, message: str | None
) -> None:
    make_user("alice")
    install_sync(client, "alice")
    headers = {**DEV, "Content-Type": "application/json"}
    for path in ("/run/event", "/run/workflow"):
        assert_error(client.post(f"{API}{path}", content=content, headers=headers), status, message)
    assert analytics(client, SYNC_CUSTOMERS) == (0, 0, 0)


def test_run_bodies_over_the_size_limit_are_refused(client: TestClient, make_user: MakeUser) -> None:
    make_user("alice")
    install_sync(client, "alice")
    body = {"event": "Customer Created", "userId": "alice", "data": {"blob": "x" * (3 * 1024 * 1024)}}
    response = client.post(f"{API}/run/event", json=body, headers=DEV)
    assert_error(response, 413, prefix="Request body is larger than")
    assert analytics(client, SYNC_CUSTOMERS) == (0, 0, 0)


def test_run_workflow_bad_data_records_nothing(client: TestClient, make_user: MakeUser) -> None:
    make_user("alice")
    install(client, "alice", "Shopify", workflows=[WEBHOOK_ORDER])
    for data, message in [
        (None, "data is required"),
        ("[]", "data must be an object, or a string holding a JSON object"),
        ([{"a": 1}], "data must be an object, or a string holding a JSON object"),
        ({"__alloy_mock": {"failAt": "webhook"}}, None),
    ]:
        body = {"workflowId": WEBHOOK_ORDER, "userId": "alice", "data": data}
        assert_error(client.post(f"{API}/run/workflow", json=body, headers=DEV), 400, message)
    assert_error(
        client.post(f"{API}/run/workflow", json={"workflowId": WEBHOOK_ORDER, "data": {}}, headers=DEV),
        400,
        "userId is required",
    )
    assert analytics(client, WEBHOOK_ORDER) == (0, 0, 0)


# -- failures the payload asks for, and deleted credentials ---------------------------------------------


def test_the_payload_marker_fails_one_run_at_the_named_block(client: TestClient, make_user: MakeUser) -> None:
    make_user("alice")
    install(client, "alice", "Shopify", workflows=[SYNC_CUSTOMERS, TO_KLAVIYO], values={"listId": "L"})
    data = {**CUSTOMER, "__alloy_mock": {"failAt": "klaviyo", "message": "Klaviyo said no"}}
    run_event(client, "alice", data)

    # "klaviyo" names no block of the Sync workflow: it ran normally, and the marker is not in its data.
    [sync] = logs(client, SYNC_CUSTOMERS)
    assert "error" not in json.dumps(sync)
    assert output(sync, SYNC_TRIGGER) == {"body": CUSTOMER}
    [failed] = logs(client, TO_KLAVIYO)
    assert failed["finished"] is True
    trigger, shopify, klaviyo = failed["results"]
    assert trigger["data"][0][0]["json"] == {"body": CUSTOMER}
    assert shopify["data"][0][0]["json"]["email"] == "ada@example.com"
    assert (klaviyo["blockId"], klaviyo["data"], klaviyo["error"]) == (
        KLAVIYO_BLOCK,
        [],
        {"message": "Klaviyo said no"},
    )
    assert failed["stoppedAt"] == klaviyo["stoppedAt"]
    [error] = errors(client, TO_KLAVIYO)
    assert error == {
        "workflowId": TO_KLAVIYO,
        "block": "klaviyo",
        "errorOccurredAt": klaviyo["stoppedAt"],
        "message": "Klaviyo said no",
    }
    assert analytics(client, TO_KLAVIYO) == (1, 2, 1)
    assert analytics(client, SYNC_CUSTOMERS) == (1, 1, 0)

    # One run only: the next event runs both normally.
    run_event(client, "alice", CUSTOMER)
    assert analytics(client, TO_KLAVIYO) == (2, 4, 1)


def test_a_marker_without_failat_fails_the_first_app_block_with_a_default_message(
    client: TestClient, make_user: MakeUser
) -> None:
    make_user("alice")
    install(client, "alice", "Shopify", workflows=[TO_KLAVIYO], values={"listId": "L"})
    run_event(client, "alice", {"__alloy_mock": {}})
    [entry] = logs(client, TO_KLAVIYO)
    assert [r["blockId"] for r in entry["results"]] == [entry["results"][0]["blockId"], KLAVIYO_SHOPIFY]
    assert entry["results"][1]["error"] == {"message": "Emulated failure (payload marker)"}
    assert analytics(client, TO_KLAVIYO) == (1, 1, 1)  # the failing block counts, the later one never ran
    run_event(client, "alice", {"__alloy_mock": None})  # null: no failure
    assert analytics(client, TO_KLAVIYO) == (2, 3, 1)


@pytest.mark.parametrize("fail_at", [KLAVIYO_BLOCK, "Klaviyo", "KLAVIYO", "klaviyo"])
def test_the_marker_names_a_block_by_id_name_or_app(client: TestClient, make_user: MakeUser, fail_at: str) -> None:
    make_user("alice")
    install(client, "alice", "Shopify", workflows=[TO_KLAVIYO], values={"listId": "L"})
    run_event(client, "alice", json.dumps({"__alloy_mock": {"failAt": fail_at}}))
    [error] = errors(client, TO_KLAVIYO)
    assert error["block"] == "klaviyo"


def test_a_deleted_credential_fails_the_run_at_that_apps_block(client: TestClient, make_user: MakeUser) -> None:
    make_user("alice")
    credential = install_sync(client, "alice")["credentialIds"]["shopify"]
    assert_ok(client.delete(f"{API}/users/alice/credentials/{credential}", headers=DEV))
    run_event(client, "alice", CUSTOMER)
    [entry] = logs(client, SYNC_CUSTOMERS)
    message = f"No shopify credential: the credential this installation uses ({credential}) was deleted"
    assert entry["results"][1]["error"] == {"message": message}
    assert [(e["block"], e["message"]) for e in errors(client, SYNC_CUSTOMERS, userId="alice")] == [
        ("shopify", message)
    ]
    assert analytics(client, SYNC_CUSTOMERS) == (1, 1, 1)
