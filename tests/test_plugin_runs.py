"""The plugin's run helpers (`fail_runs`, `stub_block_output`, `wait_for_executions`, `logs`, ...), through the
`alloy_mock` and `alloy_mock_intercept` fixtures and an emulator started with --run-latency."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from alloy_python.embedded.embedded import Embedded

from alloy_mock.config import Settings
from alloy_mock.testing import AlloyMock, AlloyMockError, serve

SYNC_CUSTOMERS = "64108e3c3cac1228833b4944"  # Shopify: Custom Event "Customer Created" -> Shopify
SYNC_SHOPIFY = "34b19706-eaaf-4396-8d93-4ee776f4fdae"


def installed_user(mock: AlloyMock, namespace: str = "dev") -> dict[str, Any]:
    """A new user with "Sync New Customers to Shopify" installed (through the control API)."""
    user = mock.create_user(namespace=namespace)
    install = {"user": user["userId"], "integration": "Shopify", "workflows": [SYNC_CUSTOMERS], "namespace": namespace}
    mock.control("POST", "installs", install)
    return user


def run_event(mock: AlloyMock, user: dict[str, Any], data: dict[str, Any], namespace: str = "dev") -> None:
    body = {"event": "Customer Created", "userId": user["userId"], "data": data}
    response = httpx.post(f"{mock.base_url}/run/event", json=body, headers=mock.headers(namespace))
    assert response.status_code == 200, response.text


def shopify_result(entry: dict[str, Any]) -> dict[str, Any]:
    [result] = [r for r in entry["results"] if r["blockId"] == SYNC_SHOPIFY]
    return result


def test_fail_runs_makes_the_next_run_fail(alloy_mock: AlloyMock) -> None:
    alice, bob = installed_user(alloy_mock), installed_user(alloy_mock)
    rule = alloy_mock.fail_runs(workflow="Sync New Customers to Shopify", user=alice, message="Shopify is down")
    assert alloy_mock.run_failures() == [rule]
    assert (rule["user"], rule["remaining"], rule["block"]) == (alice["userId"], 1, None)

    run_event(alloy_mock, bob, {"n": 1})  # another user: untouched
    run_event(alloy_mock, alice, {"n": 2})
    run_event(alloy_mock, alice, {"n": 3})  # the rule was for one run
    [failed] = alloy_mock.logs(SYNC_CUSTOMERS, user=alice, error=True)
    assert shopify_result(failed)["error"] == {"message": "Shopify is down"}
    assert failed["results"][0]["data"][0][0]["json"] == {"body": {"n": 2}}
    assert len(alloy_mock.logs(SYNC_CUSTOMERS, user=alice)) == 2
    assert alloy_mock.logs(SYNC_CUSTOMERS, user=bob, error=True) == []
    assert alloy_mock.run_failures() == []


def test_fail_runs_every_time_at_a_block_until_cleared(alloy_mock: AlloyMock) -> None:
    user = installed_user(alloy_mock)
    alloy_mock.fail_runs(block="shopify", times=None)
    for n in range(3):
        run_event(alloy_mock, user, {"n": n})
    assert alloy_mock.run_failures()[0]["hits"] == 3
    alloy_mock.clear_run_failures()
    run_event(alloy_mock, user, {"n": 3})
    assert [("error" in shopify_result(e)) for e in alloy_mock.logs(SYNC_CUSTOMERS)] == [False, True, True, True]


def test_fail_runs_in_one_namespace(alloy_mock: AlloyMock) -> None:
    dev_user, prod_user = installed_user(alloy_mock), installed_user(alloy_mock, "prod")
    alloy_mock.fail_runs(workflow=SYNC_CUSTOMERS, namespace="prod", times=None)
    run_event(alloy_mock, dev_user, {})
    run_event(alloy_mock, prod_user, {}, namespace="prod")
    assert alloy_mock.logs(SYNC_CUSTOMERS, error=True) == []
    assert len(alloy_mock.logs(SYNC_CUSTOMERS, namespace="prod", error=True)) == 1


def test_refused_rules_raise_with_the_emulators_message(alloy_mock: AlloyMock) -> None:
    with pytest.raises(AlloyMockError, match="the catalogue has no workflow 'Nope'"):
        alloy_mock.fail_runs(workflow="Nope")
    with pytest.raises(AlloyMockError, match=r"times: Input should be greater than or equal to 1"):
        alloy_mock.fail_runs(times=0)
    with pytest.raises(AlloyMockError, match="is no app block"):
        alloy_mock.stub_block_output(SYNC_CUSTOMERS, "Custom Event", {"x": 1})
    with pytest.raises(AlloyMockError, match="404"):
        alloy_mock.logs("Nope")
    assert alloy_mock.run_failures() == []


def test_stub_block_output_sets_what_the_block_returns(alloy_mock: AlloyMock) -> None:
    alice, bob = installed_user(alloy_mock), installed_user(alloy_mock)
    stub = {"id": 123, "email": "stub@example.com"}
    rule = alloy_mock.stub_block_output("Sync New Customers to Shopify", "shopify", stub, user=alice["username"])
    assert (rule["output"], rule["user"]) == (stub, alice["username"])
    run_event(alloy_mock, alice, {"name": "Ada"})
    run_event(alloy_mock, bob, {"name": "Ada"})
    assert shopify_result(alloy_mock.logs(SYNC_CUSTOMERS, user=alice)[0])["data"][0][0]["json"] == stub
    assert shopify_result(alloy_mock.logs(SYNC_CUSTOMERS, user=bob)[0])["data"][0][0]["json"] != stub
    alloy_mock.clear_block_outputs()
    run_event(alloy_mock, alice, {"name": "Ada"})
    assert shopify_result(alloy_mock.logs(SYNC_CUSTOMERS, user=alice)[0])["data"][0][0]["json"] != stub


def test_controls_are_cleared_before_each_test(alloy_mock: AlloyMock) -> None:
    """The fixture's reset before each test is a full one: earlier tests' rules and stubs are gone."""
    assert alloy_mock.run_failures() == []
    assert alloy_mock.control("GET", "block-outputs") == {"data": []}


def test_wait_for_executions_without_latency_is_at_once(alloy_mock: AlloyMock) -> None:
    user = installed_user(alloy_mock)
    run_event(alloy_mock, user, {})
    assert alloy_mock.wait_for_executions(user) is True
    assert alloy_mock.wait_for_executions(timeout=0) is True
    with pytest.raises(AlloyMockError, match="User not found"):
        alloy_mock.wait_for_executions("ghost@example.com")


def test_wait_for_executions_with_run_latency() -> None:
    with serve(Settings(run_latency_ms=200)) as mock:
        user = installed_user(mock)
        run_event(mock, user, {"n": 1})
        assert mock.wait_for_executions(user, timeout=5) is True
        [entry] = mock.logs(SYNC_CUSTOMERS, user=user)
        assert entry["finished"] is True and len(entry["results"]) == 2

        # With a frozen clock the runs finish when the clock is moved.
        mock.freeze_clock()
        run_event(mock, user, {"n": 2})
        assert mock.wait_for_executions(user) is False
        assert mock.logs(SYNC_CUSTOMERS, user=user)[0]["finished"] is False
        with pytest.raises(AlloyMockError, match="after timeoutMs"):
            mock.wait_for_executions(user, timeout=0.01)
        mock.advance_clock(0.2)
        assert mock.wait_for_executions(user) is True
        assert mock.logs(SYNC_CUSTOMERS, user=user)[0]["finished"] is True


def test_run_helpers_in_process_with_the_unmodified_sdk(alloy_mock_intercept: AlloyMock) -> None:
    mock = alloy_mock_intercept
    sdk = Embedded(mock.dev_key)
    user_id = sdk.User.create_user({"username": "runner@example.com"})["userId"]
    mock.control("POST", "installs", {"user": user_id, "integration": "Shopify", "workflows": [SYNC_CUSTOMERS]})
    mock.fail_runs(workflow=SYNC_CUSTOMERS, block="Shopify", message="in-process failure")
    mock.stub_block_output(SYNC_CUSTOMERS, SYNC_SHOPIFY, {"stubbed": True})

    sdk.Events.set_user_id(user_id)
    assert sdk.Events.run("Customer Created", {"name": "Ada"}) == {"message": "Event successfully triggered"}
    assert sdk.Events.run("Customer Created", {"name": "Grace"}) == {"message": "Event successfully triggered"}
    assert mock.wait_for_executions(user_id) is True
    stubbed, failed = mock.logs(SYNC_CUSTOMERS, user=user_id)
    assert shopify_result(failed)["error"] == {"message": "in-process failure"}
    assert shopify_result(stubbed)["data"][0][0]["json"] == {"stubbed": True}
    sdk.Logs.set_user_id(user_id)
    assert [e["message"] for e in sdk.Logs.get_workflow_errors(SYNC_CUSTOMERS)["data"]] == ["in-process failure"]
