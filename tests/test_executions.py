"""Executions: logs (paging, order, filters), errors, analytics, reruns, deleting a user's logs, retention,
--run-latency with POST /_mock/executions/wait, durability across a restart, and the request journal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from .conftest import API, DEV, PROD, ServerProcess
from .helpers import CONTROL, assert_error, assert_ok
from .runs_support import (
    CUSTOMER,
    EXECUTION_UUID,
    SYNC_CUSTOMERS,
    SYNC_SHOPIFY,
    SYNC_TRIGGER,
    TO_KLAVIYO,
    WEBHOOK_ORDER,
    analytics,
    app_client,
    epoch,
    errors,
    install,
    install_sync,
    logs,
    output,
    run_event,
    without_ids_and_times,
)

MakeUser = Callable[..., str]
FAIL = {"__alloy_mock": {"failAt": "shopify", "message": "Shopify is down"}}


def numbers(entries: list[dict[str, Any]]) -> list[int]:
    """The `n` each run's data carried, in the order the log lists them."""
    return [output(entry, SYNC_TRIGGER)["body"]["n"] for entry in entries]


def run_numbered(
    client: TestClient, user: str, count: int, start: int = 0, failing: frozenset[int] = frozenset()
) -> None:
    for n in range(start, start + count):
        run_event(client, user, {"n": n, **(FAIL if n in failing else {})})


@pytest.fixture
def alice_and_bob(client: TestClient, make_user: MakeUser) -> TestClient:
    """alice: 35 runs (n 0..34; n 3, 17 and 30 failed); bob: 2 runs (n 100, 101), of the Sync workflow."""
    make_user("alice")
    make_user("bob")
    install_sync(client, "alice")
    install_sync(client, "bob")
    run_numbered(client, "alice", 35, failing={3, 17, 30})
    run_numbered(client, "bob", 2, start=100)
    return client


# -- logs -------------------------------------------------------------------------------------------


def test_logs_default_to_the_newest_ten(alice_and_bob: TestClient) -> None:
    client = alice_and_bob
    assert numbers(logs(client, SYNC_CUSTOMERS, userId="alice")) == list(range(34, 24, -1))
    # Without userId: every user's runs of the workflow, newest first.
    assert numbers(logs(client, SYNC_CUSTOMERS)) == [101, 100, *range(34, 26, -1)]
    # The username and the userId select the same user.
    user_id = assert_ok(client.get(f"{API}/users/alice", headers=DEV))["userId"]
    assert logs(client, SYNC_CUSTOMERS, userId=user_id) == logs(client, SYNC_CUSTOMERS, userId="alice")


def test_logs_pages_limits_and_order(alice_and_bob: TestClient) -> None:
    client = alice_and_bob
    first = logs(client, SYNC_CUSTOMERS, userId="alice", page=1)
    assert logs(client, SYNC_CUSTOMERS, userId="alice", page=0) == first
    assert logs(client, SYNC_CUSTOMERS, userId="alice", page="") == first  # an empty value is no value
    assert numbers(logs(client, SYNC_CUSTOMERS, userId="alice", page=2)) == list(range(24, 14, -1))
    assert numbers(logs(client, SYNC_CUSTOMERS, userId="alice", page=4)) == [4, 3, 2, 1, 0]
    assert logs(client, SYNC_CUSTOMERS, userId="alice", page=5) == []
    assert logs(client, SYNC_CUSTOMERS, userId="alice", page=10**30) == []
    assert numbers(logs(client, SYNC_CUSTOMERS, userId="alice", limit=3, page=2)) == [31, 30, 29]
    assert numbers(logs(client, SYNC_CUSTOMERS, userId="alice", limit=30)) == list(range(34, 4, -1))
    # Past the maximum (30) the limit is clamped, not refused.
    assert numbers(logs(client, SYNC_CUSTOMERS, userId="alice", limit=31)) == list(range(34, 4, -1))
    assert numbers(logs(client, SYNC_CUSTOMERS, userId="alice", limit="9" * 5000)) == list(range(34, 4, -1))
    assert numbers(logs(client, SYNC_CUSTOMERS, userId="alice", order="asc", limit=4)) == [0, 1, 2, 3]
    assert numbers(logs(client, SYNC_CUSTOMERS, userId="alice", order="ASC", limit=2, page=2)) == [2, 3]
    assert numbers(logs(client, SYNC_CUSTOMERS, userId="alice", order="desc", limit=2)) == [34, 33]
    assert numbers(logs(client, SYNC_CUSTOMERS, userId="alice", page="0002", limit="03")) == [31, 30, 29]


def test_logs_error_filter(alice_and_bob: TestClient) -> None:
    client = alice_and_bob
    failed = logs(client, SYNC_CUSTOMERS, userId="alice", error="true")
    assert numbers(failed) == [30, 17, 3]
    assert all(entry["results"][1]["error"] == {"message": "Shopify is down"} for entry in failed)
    assert numbers(logs(client, SYNC_CUSTOMERS, error="true", order="asc", limit=2)) == [3, 17]
    assert logs(client, SYNC_CUSTOMERS, userId="bob", error="true") == []
    everything = logs(client, SYNC_CUSTOMERS, userId="alice")
    assert logs(client, SYNC_CUSTOMERS, userId="alice", error="false") == everything
    assert logs(client, SYNC_CUSTOMERS, userId="alice", error="FALSE") == everything
    assert logs(client, SYNC_CUSTOMERS, userId="alice", error="1") == failed


def test_a_user_filtered_log_never_shows_another_users_runs(alice_and_bob: TestClient) -> None:
    client = alice_and_bob
    assert numbers(logs(client, SYNC_CUSTOMERS, userId="bob", limit=30)) == [101, 100]
    alice = numbers(logs(client, SYNC_CUSTOMERS, userId="alice", limit=30)) + numbers(
        logs(client, SYNC_CUSTOMERS, userId="alice", limit=30, page=2)
    )
    assert sorted(alice) == list(range(35))
    # A workflow the user never ran has no logs, for them or anyone.
    assert logs(client, TO_KLAVIYO, userId="alice") == logs(client, TO_KLAVIYO) == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("page=-1", "page must be a whole number of at least 0, not '-1'"),
        ("page=abc", "page must be a whole number of at least 0, not 'abc'"),
        ("page=1.5", "page must be a whole number of at least 0, not '1.5'"),
        ("page=%EF%BC%92", "page must be a whole number of at least 0, not '\uff12'"),  # a fullwidth digit
        ("page=1e3", "page must be a whole number of at least 0, not '1e3'"),
        ("page=%201", "page must be a whole number of at least 0, not ' 1'"),
        ("limit=0", "limit must be a whole number of at least 1, not '0'"),
        ("limit=-5", "limit must be a whole number of at least 1, not '-5'"),
        ("limit=ten", "limit must be a whole number of at least 1, not 'ten'"),
        ("limit=" + "x" * 5000, "limit must be a whole number of at least 1, not '" + "x" * 40 + "...'"),
        ("order=up", "order must be asc or desc, not 'up'"),
        ("order=%E2%86%91", "order must be asc or desc, not '↑'"),
        ("error=maybe", "error must be true or false, not 'maybe'"),
        ("error=yes", "error must be true or false, not 'yes'"),
        ("userId=nobody", "User not found"),
    ],
)
def test_logs_bad_parameters_are_named(client: TestClient, query: str, message: str) -> None:
    response = client.get(f"{API}/workflows/{SYNC_CUSTOMERS}/logs?{query}", headers=DEV)
    assert_error(response, 404 if "User" in message else 400, message)


@pytest.mark.parametrize("path", ["logs", "errors", "analytics"])
@pytest.mark.parametrize("workflow", ["000000000000000000000000", "No Such Workflow", "%F0%9F%98%80", "x" * 3000])
def test_unknown_workflows_are_404(client: TestClient, path: str, workflow: str) -> None:
    assert_error(client.get(f"{API}/workflows/{workflow}/{path}", headers=DEV), 404, "Workflow not found")


def test_logs_errors_and_analytics_accept_the_workflow_name(alice_and_bob: TestClient) -> None:
    client = alice_and_bob
    name = "sync new customers to shopify"  # names are case-insensitive
    assert logs(client, name, userId="bob") == logs(client, SYNC_CUSTOMERS, userId="bob")
    assert errors(client, name) == errors(client, SYNC_CUSTOMERS)
    assert analytics(client, name) == analytics(client, SYNC_CUSTOMERS)


# -- errors and analytics ------------------------------------------------------------------------------


def test_errors_list_each_failed_run_newest_first(alice_and_bob: TestClient) -> None:
    client = alice_and_bob
    listed = errors(client, SYNC_CUSTOMERS)
    assert [set(e) for e in listed] == [{"workflowId", "block", "errorOccurredAt", "message"}] * 3
    assert {(e["workflowId"], e["block"], e["message"]) for e in listed} == {
        (SYNC_CUSTOMERS, "shopify", "Shopify is down")
    }
    failed_logs = logs(client, SYNC_CUSTOMERS, error="true")
    assert [e["errorOccurredAt"] for e in listed] == [entry["results"][1]["stoppedAt"] for entry in failed_logs]
    assert errors(client, SYNC_CUSTOMERS, userId="alice") == listed
    assert errors(client, SYNC_CUSTOMERS, userId="bob") == []
    assert_error(
        client.get(f"{API}/workflows/{SYNC_CUSTOMERS}/errors?userId=ghost", headers=DEV), 404, "User not found"
    )


def test_analytics_are_integer_totals_over_every_user(alice_and_bob: TestClient) -> None:
    client = alice_and_bob
    # 37 runs; each ran its one app block (a failing block counts as run); 3 failed.
    assert analytics(client, SYNC_CUSTOMERS) == (37, 37, 3)
    assert analytics(client, TO_KLAVIYO) == (0, 0, 0)
    # The vendor's analytics take no userId: one is ignored.
    body = assert_ok(client.get(f"{API}/workflows/{SYNC_CUSTOMERS}/analytics?userId=bob", headers=DEV))
    assert body == {"totalAppActions": 37, "totalWorkflowRuns": 37, "totalErrors": 3}


def test_app_actions_count_the_blocks_that_ran(client: TestClient, make_user: MakeUser) -> None:
    make_user("alice")
    install(client, "alice", "Shopify", workflows=[TO_KLAVIYO], values={"listId": "L"})
    run_event(client, "alice", CUSTOMER)  # Shopify and Klaviyo: 2
    run_event(client, "alice", {"__alloy_mock": {"failAt": "shopify"}})  # fails at Shopify: 1
    run_event(client, "alice", {"__alloy_mock": {"failAt": "klaviyo"}})  # fails at Klaviyo: 2
    assert analytics(client, TO_KLAVIYO) == (3, 5, 2)


# -- rerun ----------------------------------------------------------------------------------------------


def rerun(client: TestClient, execution: str, user: str | None = "alice", workflow: str = SYNC_CUSTOMERS) -> Any:
    params = {} if user is None else {"userId": user}
    return client.post(f"{API}/workflows/{workflow}/rerun/{execution}", params=params, headers=DEV)


def test_rerun_records_a_new_execution_with_the_same_input(client: TestClient, make_user: MakeUser) -> None:
    make_user("alice")
    install_sync(client, "alice", values={"customerTags": "vip"})
    run_event(client, "alice", CUSTOMER)
    [original] = logs(client, SYNC_CUSTOMERS)
    body = assert_ok(rerun(client, original["executionId"]))
    assert set(body) == {"message", "executionUuid"} and body["message"] == "success"
    assert EXECUTION_UUID.match(body["executionUuid"]), body
    again, first = logs(client, SYNC_CUSTOMERS)
    assert first == original
    assert again["executionId"] != original["executionId"]
    assert without_ids_and_times(again) == without_ids_and_times(original)
    assert output(again, SYNC_SHOPIFY)["tags"] == "vip"
    assert analytics(client, SYNC_CUSTOMERS) == (2, 2, 0)
    # A rerun can itself be rerun, and each rerun gets its own uuid.
    second = assert_ok(rerun(client, again["executionId"]))
    assert second["executionUuid"] != body["executionUuid"]
    assert analytics(client, SYNC_CUSTOMERS) == (3, 3, 0)


def test_rerunning_a_failed_run_without_its_marker_succeeds(client: TestClient, make_user: MakeUser) -> None:
    make_user("alice")
    install_sync(client, "alice")
    run_event(client, "alice", {**CUSTOMER, **FAIL})
    [failed] = logs(client, SYNC_CUSTOMERS)
    assert_ok(rerun(client, failed["executionId"]))
    fixed, _ = logs(client, SYNC_CUSTOMERS)
    assert "error" not in fixed["results"][1]
    assert output(fixed, SYNC_TRIGGER) == {"body": CUSTOMER}
    assert analytics(client, SYNC_CUSTOMERS) == (2, 2, 1)


@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        ("unknown", 404, "Execution not found"),
        ("other-workflow", 404, "Execution not found"),
        ("other-user", 404, "Execution not found"),
        ("prod-key", 404, "User not found"),
        ("unknown-user", 404, "User not found"),
        ("no-user", 400, "userId is required"),
        ("unknown-workflow", 404, "Workflow not found"),
        (
            "inactive",
            400,
            "'Sync New Customers to Shopify' is installed but not active for this user (activate it first)",
        ),
        ("uninstalled", 400, "'Sync New Customers to Shopify' is not installed for this user"),
        ("deleted-logs", 404, "Execution not found"),
        ("huge-id", 404, "Execution not found"),
    ],
)
def test_rerun_refusals(client: TestClient, make_user: MakeUser, case: str, status: int, message: str) -> None:
    make_user("alice")
    make_user("bob")
    install_sync(client, "alice")
    install_sync(client, "bob")
    install(client, "alice", "Shopify", workflows=[WEBHOOK_ORDER])
    run_event(client, "alice", CUSTOMER)
    [execution] = logs(client, SYNC_CUSTOMERS)
    execution_id = execution["executionId"]
    user, workflow, headers = "alice", SYNC_CUSTOMERS, DEV
    if case == "unknown":
        execution_id = "A" * 21
    elif case == "other-workflow":
        workflow = WEBHOOK_ORDER
    elif case == "other-user":
        user = "bob"
    elif case == "prod-key":
        headers = PROD
    elif case == "unknown-user":
        user = "ghost"
    elif case == "no-user":
        user = ""
    elif case == "unknown-workflow":
        workflow = "0" * 24
    elif case == "inactive":
        switch = {"workflowId": SYNC_CUSTOMERS, "userId": "alice"}
        assert_ok(client.put(f"{API}/workflows/deactivate", json=switch, headers=DEV))
    elif case == "uninstalled":
        assert_ok(client.delete(f"{API}/workflows/{SYNC_CUSTOMERS}", params={"userId": "alice"}, headers=DEV))
    elif case == "deleted-logs":
        assert_ok(client.delete(f"{API}/users/alice/logs", headers=DEV))
    elif case == "huge-id":
        execution_id = "é" * 4000
    response = client.post(
        f"{API}/workflows/{workflow}/rerun/{execution_id}", params={"userId": user} if user else {}, headers=headers
    )
    assert_error(response, status, message)
    expected = 0 if case == "deleted-logs" else 1
    assert analytics(client, SYNC_CUSTOMERS)[0] == expected
    assert analytics(client, WEBHOOK_ORDER) == (0, 0, 0)


# -- deleting a user's logs ---------------------------------------------------------------------------


def test_delete_logs_removes_that_users_executions_and_their_share(alice_and_bob: TestClient) -> None:
    client = alice_and_bob
    bob_logs = logs(client, SYNC_CUSTOMERS, userId="bob")
    assert_ok(client.delete(f"{API}/users/alice/logs", headers=DEV), {"message": "Success"})
    assert logs(client, SYNC_CUSTOMERS, userId="alice") == []
    assert errors(client, SYNC_CUSTOMERS, userId="alice") == errors(client, SYNC_CUSTOMERS) == []
    assert analytics(client, SYNC_CUSTOMERS) == (2, 2, 0)  # bob's two runs only
    assert logs(client, SYNC_CUSTOMERS) == logs(client, SYNC_CUSTOMERS, userId="bob") == bob_logs
    # Nothing else went: the user and their install stay, and new runs are logged again.
    assert assert_ok(client.get(f"{API}/users/alice", headers=DEV))["username"] == "alice"
    run_event(client, "alice", {"n": 200})
    assert numbers(logs(client, SYNC_CUSTOMERS, userId="alice")) == [200]
    # Deleting again, or for a user without runs, is still a success.
    assert_ok(client.delete(f"{API}/users/bob/logs", headers=DEV), {"message": "Success"})
    assert_ok(client.delete(f"{API}/users/bob/logs", headers=DEV), {"message": "Success"})
    assert analytics(client, SYNC_CUSTOMERS) == (1, 1, 0)


def test_delete_logs_refusals_and_namespaces(alice_and_bob: TestClient) -> None:
    client = alice_and_bob
    assert_error(client.delete(f"{API}/users/ghost/logs", headers=DEV), 404, "User not found")
    assert_error(client.delete(f"{API}/users/alice/logs", headers=PROD), 404, "User not found")
    assert_error(client.delete(f"{API}/users/alice/logs"), 401, "Unauthorized")
    assert analytics(client, SYNC_CUSTOMERS) == (37, 37, 3)


def test_deleting_the_user_keeps_their_executions(alice_and_bob: TestClient) -> None:
    """The vendor keeps logs until DELETE /users/{u}/logs: deleting the user (or uninstalling) does not."""
    client = alice_and_bob
    assert_ok(client.delete(f"{API}/users/alice", headers=DEV))
    assert analytics(client, SYNC_CUSTOMERS) == (37, 37, 3)
    assert len(errors(client, SYNC_CUSTOMERS)) == 3
    assert numbers(logs(client, SYNC_CUSTOMERS, limit=3)) == [101, 100, 34]


# -- retention ------------------------------------------------------------------------------------------


def test_retention_keeps_the_newest_runs_and_the_lifetime_totals() -> None:
    with app_client(execution_retention=3) as client:
        for name in ("alice", "bob"):
            assert_ok(client.post(f"{API}/users", json={"username": name}, headers=DEV))
            install_sync(client, name)
        run_numbered(client, "alice", 6, failing={0, 4})
        run_numbered(client, "bob", 2, start=100)
        assert numbers(logs(client, SYNC_CUSTOMERS, userId="alice")) == [5, 4, 3]
        assert numbers(logs(client, SYNC_CUSTOMERS, userId="bob")) == [101, 100]
        assert numbers(logs(client, SYNC_CUSTOMERS)) == [101, 100, 5, 4, 3]
        # n=0 was trimmed: its error is no longer listed, but the totals still count it.
        assert len(errors(client, SYNC_CUSTOMERS, userId="alice")) == 1
        assert analytics(client, SYNC_CUSTOMERS) == (8, 8, 2)
        [oldest_kept] = logs(client, SYNC_CUSTOMERS, userId="alice", order="asc", limit=1)
        run_numbered(client, "alice", 1, start=6)
        assert numbers(logs(client, SYNC_CUSTOMERS, userId="alice")) == [6, 5, 4]
        rerun_trimmed = client.post(
            f"{API}/workflows/{SYNC_CUSTOMERS}/rerun/{oldest_kept['executionId']}",
            params={"userId": "alice"},
            headers=DEV,
        )
        assert_error(rerun_trimmed, 404, "Execution not found")
        assert analytics(client, SYNC_CUSTOMERS) == (9, 9, 2)
        # Deleting alice's logs takes her trimmed totals too: bob's share is what remains.
        assert_ok(client.delete(f"{API}/users/alice/logs", headers=DEV))
        assert analytics(client, SYNC_CUSTOMERS) == (2, 2, 0)


# -- --run-latency and POST /_mock/executions/wait -------------------------------------------------------


def wait(client: TestClient, **body: Any) -> Any:
    return client.post("/_mock/executions/wait", json=body)


def test_without_latency_runs_are_finished_when_the_run_answers(client: TestClient, make_user: MakeUser) -> None:
    make_user("alice")
    install_sync(client, "alice")
    run_event(client, "alice", CUSTOMER)
    assert logs(client, SYNC_CUSTOMERS)[0]["finished"] is True
    assert assert_ok(wait(client)) == {"finished": True}
    assert assert_ok(wait(client, user="alice", timeoutMs=0)) == {"finished": True}


def test_latency_with_a_frozen_clock_finishes_runs_when_the_clock_moves() -> None:
    with app_client(run_latency_ms=1000) as client:
        assert_ok(client.post(f"{API}/users", json={"username": "alice"}, headers=DEV))
        assert_ok(client.post(f"{API}/users", json={"username": "bob"}, headers=DEV))
        install_sync(client, "alice")
        assert_ok(client.post("/_mock/clock/freeze", json={"at": 1_700_000_000}))
        run_event(client, "alice", {**CUSTOMER, **FAIL})

        [running] = logs(client, SYNC_CUSTOMERS)
        assert running["finished"] is False
        assert running["results"] == []  # no block has stopped yet
        assert "stoppedAt" not in running
        assert errors(client, SYNC_CUSTOMERS) == []  # only finished failures are listed
        assert analytics(client, SYNC_CUSTOMERS) == (1, 1, 1)  # counted from the moment it was accepted
        assert assert_ok(wait(client, user="alice")) == {"finished": False}  # a frozen clock never gets there
        assert assert_ok(wait(client, user="bob")) == {"finished": True}  # bob has nothing running
        assert_error(wait(client, user="alice", timeoutMs=10), 400, prefix="the executions finish in 1.000 s")

        assert_ok(client.post("/_mock/clock/advance", json={"seconds": 1}))
        [done] = logs(client, SYNC_CUSTOMERS)
        assert done["finished"] is True
        assert epoch(done["stoppedAt"]) - epoch(done["startedAt"]) == pytest.approx(1.0, abs=0.002)
        assert done["results"][1]["error"] == {"message": "Shopify is down"}
        assert len(errors(client, SYNC_CUSTOMERS)) == 1
        assert assert_ok(wait(client)) == {"finished": True}

        # Half way (the trigger has stopped, Shopify has not): only the trigger's result shows.
        trigger_takes = epoch(done["results"][0]["stoppedAt"]) - epoch(done["startedAt"])
        run_event(client, "alice", CUSTOMER)
        assert_ok(client.post("/_mock/clock/advance", json={"seconds": trigger_takes + 0.0005}))
        partial = logs(client, SYNC_CUSTOMERS, limit=1)[0]
        assert (partial["finished"], [r["blockId"] for r in partial["results"]]) == (False, [SYNC_TRIGGER])


def test_latency_with_the_real_clock_wait_returns_once_they_finished() -> None:
    with app_client(run_latency_ms=150) as client:
        assert_ok(client.post(f"{API}/users", json={"username": "alice"}, headers=DEV))
        install_sync(client, "alice")
        run_event(client, "alice", CUSTOMER)
        # The emulator's own wait endpoint sleeps the time the run takes; no test-side sleeping.
        assert assert_ok(wait(client, user="alice", timeoutMs=5000)) == {"finished": True}
        [entry] = logs(client, SYNC_CUSTOMERS)
        assert entry["finished"] is True
        assert [r["blockId"] for r in entry["results"]] == [SYNC_TRIGGER, SYNC_SHOPIFY]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"timeoutMs": -1}, 400, "timeoutMs must be a whole number from 0 to 60000"),
        ({"timeoutMs": 60_001}, 400, "timeoutMs must be a whole number from 0 to 60000"),
        ({"timeoutMs": 1.5}, 400, "timeoutMs must be a whole number from 0 to 60000"),
        ({"timeoutMs": "100"}, 400, "timeoutMs must be a whole number from 0 to 60000"),
        ({"timeoutMs": True}, 400, "timeoutMs must be a whole number from 0 to 60000"),
        ({"timeoutMs": None}, 400, "timeoutMs must be a whole number from 0 to 60000"),
        ({"timeoutMs": 10**40}, 400, "timeoutMs must be a whole number from 0 to 60000"),
        ({"user": 5}, 400, "user must be a userId or username"),
        ({"user": ["alice"]}, 400, "user must be a userId or username"),
        ({"user": "ghost"}, 404, "User not found"),
        ({"namespace": "staging"}, 404, None),
        ({"namespace": 1}, 400, None),
    ],
)
def test_wait_bad_bodies(client: TestClient, body: dict[str, Any], status: int, message: str | None) -> None:
    assert_error(wait(client, **body), status, message)


def test_wait_bodies_that_are_not_objects(client: TestClient) -> None:
    for content in (b"[]", b'"x"', b"{"):
        response = client.post("/_mock/executions/wait", content=content, headers={"Content-Type": "application/json"})
        assert_error(response, 400)


# -- durability, and the request journal --------------------------------------------------------------


def test_executions_survive_a_crash_and_restart(serve: Callable[..., ServerProcess]) -> None:
    server = serve()
    with server.client() as http:
        assert http.post(f"{API}/users", json={"username": "dura"}, headers=DEV).status_code == 200
        assert (
            http.post(
                "/_mock/installs", json={"user": "dura", "integration": "Shopify", "workflows": [SYNC_CUSTOMERS]}
            ).status_code
            == 200
        )
        for data in (CUSTOMER, {**CUSTOMER, **FAIL}):
            body = {"event": "Customer Created", "userId": "dura", "data": data}
            assert_ok(http.post(f"{API}/run/event", json=body, headers=DEV))
        before = [
            http.get(f"{API}/workflows/{SYNC_CUSTOMERS}/{p}", headers=DEV).json()
            for p in ("logs", "errors", "analytics")
        ]
    server.kill()  # acknowledged writes are on disk: nothing may be lost

    restarted = serve()
    with restarted.client() as http:
        after = [
            http.get(f"{API}/workflows/{SYNC_CUSTOMERS}/{p}", headers=DEV).json()
            for p in ("logs", "errors", "analytics")
        ]
        assert after == before
        assert after[2] == {"totalAppActions": 2, "totalWorkflowRuns": 2, "totalErrors": 1}
        original = before[0]["data"][1]["executionId"]
        answer = http.post(f"{API}/workflows/{SYNC_CUSTOMERS}/rerun/{original}", params={"userId": "dura"}, headers=DEV)
        assert_ok(answer)
        logs_now = http.get(f"{API}/workflows/{SYNC_CUSTOMERS}/logs", headers=DEV).json()["data"]
        assert len(logs_now) == 3
        assert logs_now[0]["inputs"] == before[0]["data"][1]["inputs"]


def test_the_journal_records_runs(client: TestClient, make_user: MakeUser) -> None:
    make_user("alice")
    install_sync(client, "alice")
    run_event(client, "alice", CUSTOMER)
    client.post(f"{API}/run/workflow", json={"userId": "alice", "data": {}, "workflowId": SYNC_CUSTOMERS}, headers=DEV)
    entries = assert_ok(client.get("/_mock/requests", params={"path": f"{API}/run/*"}))["data"]
    assert [(e["method"], e["path"], e["namespace"], e["status"]) for e in entries] == [
        ("POST", f"{API}/run/event", "default.dev", 200),
        ("POST", f"{API}/run/workflow", "default.dev", 400),
    ]
    assert entries[0]["requestBody"] == {"event": "Customer Created", "userId": "alice", "data": CUSTOMER}
    assert entries[0]["responseBody"] == {"message": "Event successfully triggered"}
    assert entries[1]["responseBody"]["message"].endswith("run it with POST /run/event")


def test_snapshots_and_resets_include_executions(client: TestClient, make_user: MakeUser) -> None:
    make_user("alice")
    install_sync(client, "alice")
    run_event(client, "alice", {"n": 1})
    assert_ok(client.post("/_mock/snapshots", json={"name": "one-run"}))
    run_event(client, "alice", {"n": 2})
    assert_ok(client.post("/_mock/snapshots/one-run/restore", headers=CONTROL))
    assert numbers(logs(client, SYNC_CUSTOMERS)) == [1]
    assert analytics(client, SYNC_CUSTOMERS) == (1, 1, 0)
    assert_ok(client.post("/_mock/reset", json={"namespace": "prod"}))
    assert analytics(client, SYNC_CUSTOMERS) == (1, 1, 0)
    assert_ok(client.post("/_mock/reset", json={"namespace": "dev"}))
    assert logs(client, SYNC_CUSTOMERS) == []
    assert analytics(client, SYNC_CUSTOMERS) == (0, 0, 0)
