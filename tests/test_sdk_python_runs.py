"""Runs through the official Python SDKs, unmodified, against a real `alloy-mock serve` process: events, runs,
logs, errors, reruns, analytics and log deletion.

alloy-python 1.0.0 (2023-12) returns the parsed body and raises ValueError(message) on these methods' errors;
alloy-python-sdk-ai 0.0.1 (2024-03) parses each 200 into a dataclass (logs and errors have no model: the raw
response). Workflows are installed through the control API first (2023-12 has no install endpoint).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from alloypythonsdk.models import errors, operations

from .conftest import DEV, ServerProcess
from .sdk_support import FIXTURES, SYNC_CUSTOMERS, control_install, module_server, unique
from .test_sdk_python_ai import raw, speakeasy
from .test_sdk_python_alloy import for_user

WEBHOOK_SLACK = "65c35815dbed9eb70f7c73f2"  # Slack; webhook trigger -> Formatter -> Slack
SYNC_SHOPIFY = "34b19706-eaaf-4396-8d93-4ee776f4fdae"
EVENTS = json.loads((FIXTURES / "events.json").read_text())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from module_server(tmp_path_factory, "python-runs")


def with_sync(server: ServerProcess, prefix: str) -> tuple[str, str]:
    """A new user (username, userId) with "Sync New Customers to Shopify" installed."""
    username = unique(prefix)
    with server.client() as http:
        user_id = http.post("/2023-12/users", json={"username": username}, headers=DEV).json()["userId"]
    control_install(server, username, "Shopify", workflows=[SYNC_CUSTOMERS])
    return username, user_id


def trigger_output(entry: dict[str, Any]) -> Any:
    return entry["results"][0]["data"][0][0]["json"]


# -- alloy-python 1.0.0 -----------------------------------------------------------------------------------


def test_alloy_python_events_runs_logs_errors_reruns_analytics_and_log_deletion(server: ServerProcess) -> None:
    username, user_id = with_sync(server, "pyrun")
    other, _ = with_sync(server, "pyother")
    sdk, other_sdk = for_user(server, user_id), for_user(server, other)
    before = sdk.Analytics.get(SYNC_CUSTOMERS)

    assert sdk.Events.list() == {"data": EVENTS["events"]}

    # Run an event: the logs hold one new execution whose trigger output is the event's data.
    data = {"name": "Ada Lovelace", "email": "ada@example.com"}
    assert sdk.Events.run("Customer Created", data) == {"message": "Event successfully triggered"}
    [entry] = sdk.Logs.get_workflow_logs(SYNC_CUSTOMERS)["data"]
    assert trigger_output(entry) == {"body": data}
    assert entry["finished"] is True
    assert entry["results"][1]["data"][0][0]["json"]["email"] == "ada@example.com"
    assert sdk.Logs.get_workflow_errors(SYNC_CUSTOMERS) == {"data": []}

    # Fail one run (payload marker): errors and analytics show it.
    failing = {**data, "__alloy_mock": {"failAt": "shopify", "message": "Shopify is down"}}
    sdk.Events.run("Customer Created", failing)
    [error] = sdk.Logs.get_workflow_errors(SYNC_CUSTOMERS)["data"]
    assert (error["workflowId"], error["block"], error["message"]) == (SYNC_CUSTOMERS, "shopify", "Shopify is down")
    after = sdk.Analytics.get(SYNC_CUSTOMERS)
    assert after["totalWorkflowRuns"] - before["totalWorkflowRuns"] == 2
    assert after["totalAppActions"] - before["totalAppActions"] == 2
    assert after["totalErrors"] - before["totalErrors"] == 1

    # Rerun the failed one: one more execution, with the same input (the marker was never part of it).
    failed = sdk.Logs.get_workflow_logs(SYNC_CUSTOMERS)["data"][0]
    answer = sdk.Logs.rerun_workflow_execution(SYNC_CUSTOMERS, failed["executionId"])
    assert answer["message"] == "success" and len(answer["executionUuid"]) == 17
    logs = sdk.Logs.get_workflow_logs(SYNC_CUSTOMERS)["data"]
    assert len(logs) == 3
    assert trigger_output(logs[0]) == {"body": data} and "error" not in logs[0]["results"][1]

    # Another user's run never shows in this user's logs; deleting this user's logs leaves theirs.
    other_sdk.Events.run("Customer Created", {"name": "Other"})
    assert sdk.Compliance.delete_user_logs() == {"message": "Success"}
    assert sdk.Logs.get_workflow_logs(SYNC_CUSTOMERS) == {"data": []}
    assert sdk.Logs.get_workflow_errors(SYNC_CUSTOMERS) == {"data": []}
    [theirs] = other_sdk.Logs.get_workflow_logs(SYNC_CUSTOMERS)["data"]
    assert trigger_output(theirs) == {"body": {"name": "Other"}}
    assert sdk.Analytics.get(SYNC_CUSTOMERS)["totalErrors"] == before["totalErrors"]
    assert username


def value_error(call: Any, *args: Any) -> str:
    """Call an alloy-python method that must raise ValueError(message): the message."""
    with pytest.raises(ValueError) as failure:
        call(*args)
    return str(failure.value)


def test_alloy_python_run_errors_raise_value_error_with_the_message(server: ServerProcess) -> None:
    _, user_id = with_sync(server, "pyerr")
    sdk = for_user(server, user_id)
    message = value_error(sdk.Events.run, "Customer Created", [1, 2])
    assert message == "data must be an object, or a string holding a JSON object"
    assert value_error(sdk.Logs.rerun_workflow_execution, SYNC_CUSTOMERS, "A" * 21) == "Execution not found"
    assert value_error(sdk.Analytics.get, "000000000000000000000000") == "Workflow not found"
    ghost = for_user(server, "ghost@example.com")
    assert value_error(ghost.Compliance.delete_user_logs) == "User not found"
    assert value_error(ghost.Logs.get_workflow_logs, SYNC_CUSTOMERS) == "User not found"
    assert sdk.Logs.get_workflow_logs(SYNC_CUSTOMERS) == {"data": []}


# -- alloy-python-sdk-ai 0.0.1 ------------------------------------------------------------------------------


def test_speakeasy_runs_return_parsed_results(server: ServerProcess) -> None:
    username, user_id = with_sync(server, "spkrun")
    control_install(server, username, "Slack", workflows=[WEBHOOK_SLACK])
    sdk = speakeasy(server)
    before = sdk.get_workflow_analytics(workflow_id=SYNC_CUSTOMERS).object

    events = sdk.list_events()
    assert [(e.name, e.description) for e in events.object.data] == [
        (e["name"], e["description"]) for e in EVENTS["events"]
    ]

    # data is typed as a string in this SDK: a JSON string holding the object.
    data = {"name": "Grace Hopper", "email": "grace@example.com"}
    ran = sdk.run_event(
        request=operations.RunEventRequestBody(event="Customer Created", user_id=user_id, data=json.dumps(data))
    )
    assert ran.object.message == "Event successfully triggered"
    webhook = sdk.run_workflow(
        request=operations.RunWorkflowRequestBody(user_id=username, data='{"text": "hi"}', workflow_id=WEBHOOK_SLACK)
    )
    assert webhook.object.message == "success"
    by_name = operations.RunWorkflowRequestBody(
        user_id=user_id, data='{"text": "by name"}', workflow_name="Post Webhook Events to Slack"
    )
    assert sdk.run_workflow(request=by_name).object.message == "success"

    # logs and errors have no 200 model: the raw body.
    logs = sdk.get_workflow_logs(
        request=operations.GetWorkflowLogsRequest(workflow_id=SYNC_CUSTOMERS, user_id=user_id, page=1, limit=5)
    )
    [entry] = raw(logs)["data"]
    assert trigger_output(entry) == {"body": data}
    webhook_logs = raw(
        sdk.get_workflow_logs(
            request=operations.GetWorkflowLogsRequest(workflow_id=WEBHOOK_SLACK, user_id=user_id, order="asc")
        )
    )["data"]
    assert [trigger_output(e) for e in webhook_logs] == [{"body": {"text": "hi"}}, {"body": {"text": "by name"}}]

    failing = json.dumps({**data, "__alloy_mock": {"failAt": "shopify", "message": "Speakeasy failure"}})
    sdk.run_event(request=operations.RunEventRequestBody(event="Customer Created", user_id=user_id, data=failing))
    [error] = raw(sdk.get_workflow_errors(workflow_id=SYNC_CUSTOMERS, user_id=user_id))["data"]
    assert (error["block"], error["message"]) == ("shopify", "Speakeasy failure")
    totals = sdk.get_workflow_analytics(workflow_id=SYNC_CUSTOMERS).object
    assert totals.total_workflow_runs - before.total_workflow_runs == 2
    assert totals.total_app_actions - before.total_app_actions == 2
    assert totals.total_errors - before.total_errors == 1

    failed_id = raw(
        sdk.get_workflow_logs(request=operations.GetWorkflowLogsRequest(workflow_id=SYNC_CUSTOMERS, user_id=user_id))
    )["data"][0]["executionId"]
    rerun = sdk.rerun_workfow(workflow_id=SYNC_CUSTOMERS, execution_id=failed_id, user_id=user_id).object
    assert rerun.message == "success" and rerun.execution_uuid is not None and len(rerun.execution_uuid) == 17
    assert sdk.get_workflow_analytics(workflow_id=SYNC_CUSTOMERS).object.total_workflow_runs == (
        totals.total_workflow_runs + 1
    )

    deleted = sdk.delete_logs_for_a_user(user_id=user_id)
    assert deleted.object.message == "Success"
    after = raw(
        sdk.get_workflow_logs(request=operations.GetWorkflowLogsRequest(workflow_id=SYNC_CUSTOMERS, user_id=user_id))
    )
    assert after == {"data": []}
    assert raw(sdk.get_workflow_errors(workflow_id=SYNC_CUSTOMERS, user_id=user_id)) == {"data": []}


def test_speakeasy_run_event_with_data_as_an_object(server: ServerProcess) -> None:
    """The model types data as a string; a caller that passes a dict sends a JSON object, which works too."""
    _, user_id = with_sync(server, "spkobj")
    sdk = speakeasy(server)
    body = operations.RunEventRequestBody(event="Customer Created", user_id=user_id, data={"name": "Obj"})  # type: ignore[arg-type]
    assert sdk.run_event(request=body).object.message == "Event successfully triggered"
    logs = sdk.get_workflow_logs(request=operations.GetWorkflowLogsRequest(workflow_id=SYNC_CUSTOMERS, user_id=user_id))
    assert trigger_output(raw(logs)["data"][0]) == {"body": {"name": "Obj"}}


def test_speakeasy_run_errors(server: ServerProcess) -> None:
    _, user_id = with_sync(server, "spkerr")
    sdk = speakeasy(server)
    bad = operations.RunEventRequestBody(event="Customer Created", user_id=user_id, data="[1]")
    with pytest.raises(errors.SDKError) as failure:
        sdk.run_event(request=bad)
    assert failure.value.status_code == 400
    assert json.loads(failure.value.body) == {"message": "data must be an object, or a string holding a JSON object"}
    with pytest.raises(errors.SDKError) as failure:
        sdk.rerun_workfow(workflow_id=SYNC_CUSTOMERS, execution_id="A" * 21, user_id=user_id)
    assert (failure.value.status_code, json.loads(failure.value.body)) == (404, {"message": "Execution not found"})
    not_webhook = operations.RunWorkflowRequestBody(user_id=user_id, data="{}", workflow_id=SYNC_CUSTOMERS)
    with pytest.raises(errors.SDKError) as failure:
        sdk.run_workflow(request=not_webhook)
    assert failure.value.status_code == 400
    assert json.loads(failure.value.body)["message"].endswith("run it with POST /run/event")
