"""The control API's run controls: failure rules (/_mock/run-failures) and block-output stubs
(/_mock/block-outputs): who and what they apply to, counting, listing, clearing, and refused bodies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from .conftest import API, DEV, PROD
from .helpers import CONTROL, assert_error, assert_ok
from .runs_support import (
    CUSTOMER,
    KLAVIYO_BLOCK,
    KLAVIYO_SHOPIFY,
    SYNC_CUSTOMERS,
    SYNC_SHOPIFY,
    TO_KLAVIYO,
    analytics,
    app_client,
    errors,
    install,
    install_sync,
    logs,
    nested,
    output,
    run_event,
)

MakeUser = Callable[..., str]


def add_failure(client: TestClient, **spec: Any) -> dict[str, Any]:
    rule: dict[str, Any] = assert_ok(client.post("/_mock/run-failures", json=spec))
    return rule


def add_output(client: TestClient, **spec: Any) -> dict[str, Any]:
    rule: dict[str, Any] = assert_ok(client.post("/_mock/block-outputs", json=spec))
    return rule


def listed(client: TestClient, kind: str) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = assert_ok(client.get(f"/_mock/{kind}"))["data"]
    return rules


@pytest.fixture
def shop(client: TestClient, make_user: MakeUser) -> TestClient:
    """alice and bob, each with Sync (Custom Event -> Shopify) and Klaviyo (-> Shopify -> Klaviyo) installed."""
    for name in ("alice", "bob"):
        make_user(name)
        install(client, name, "Shopify", workflows=[SYNC_CUSTOMERS, TO_KLAVIYO], values={"listId": "L"})
    return client


def failed_blocks(client: TestClient, workflow: str, user: str) -> list[str | None]:
    """Per run of the user (oldest first): the id of the block that failed, or None."""
    entries = logs(client, workflow, userId=user, order="asc", limit=30)
    return [next((r["blockId"] for r in e["results"] if "error" in r), None) for e in entries]


# -- failure rules ------------------------------------------------------------------------------------


def test_a_rule_fails_the_next_n_runs_then_goes(shop: TestClient) -> None:
    client = shop
    rule = add_failure(client, workflow=SYNC_CUSTOMERS, message="Shopify rate limit", times=2)
    assert rule == {
        "id": rule["id"],
        "namespace": None,
        "workflow": SYNC_CUSTOMERS,
        "user": None,
        "block": None,
        "hits": 0,
        "message": "Shopify rate limit",
        "remaining": 2,
    }
    run_event(client, "alice")
    assert listed(client, "run-failures") == [{**rule, "hits": 1, "remaining": 1}]
    run_event(client, "bob")  # anyone
    assert listed(client, "run-failures") == []
    run_event(client, "alice")
    assert failed_blocks(client, SYNC_CUSTOMERS, "alice") == [SYNC_SHOPIFY, None]
    assert failed_blocks(client, SYNC_CUSTOMERS, "bob") == [SYNC_SHOPIFY]
    assert {e["message"] for e in errors(client, SYNC_CUSTOMERS)} == {"Shopify rate limit"}
    # The Klaviyo workflow ran with the same events and never failed.
    assert analytics(client, TO_KLAVIYO) == (3, 6, 0)
    assert analytics(client, SYNC_CUSTOMERS) == (3, 3, 2)


def test_a_rule_with_times_null_fails_every_run_until_cleared(shop: TestClient) -> None:
    client = shop
    rule = add_failure(client, workflow="Add Shopify Customers to Klaviyo", block="klaviyo", times=None)
    assert (rule["remaining"], rule["message"]) == (None, f"Emulated failure ({rule['id']})")
    for _ in range(3):
        run_event(client, "alice")
    assert listed(client, "run-failures")[0]["hits"] == 3
    assert_ok(client.delete("/_mock/run-failures", headers=CONTROL), {"cleared": True})
    assert listed(client, "run-failures") == []
    run_event(client, "alice")
    assert failed_blocks(client, TO_KLAVIYO, "alice") == [KLAVIYO_BLOCK] * 3 + [None]
    assert [e["message"] for e in errors(client, TO_KLAVIYO)] == [f"Emulated failure ({rule['id']})"] * 3


@pytest.mark.parametrize("user", ["alice", "id"])
def test_a_rule_for_one_user_leaves_others_alone(shop: TestClient, user: str) -> None:
    client = shop
    ref = assert_ok(client.get(f"{API}/users/alice", headers=DEV))["userId"] if user == "id" else "alice"
    add_failure(client, user=ref, workflow=SYNC_CUSTOMERS, times=None)
    run_event(client, "bob")
    run_event(client, "alice")
    assert failed_blocks(client, SYNC_CUSTOMERS, "bob") == [None]
    assert failed_blocks(client, SYNC_CUSTOMERS, "alice") == [SYNC_SHOPIFY]


@pytest.mark.parametrize(
    "block", [KLAVIYO_SHOPIFY, "Shopify", "shopify", "SHOPIFY", KLAVIYO_BLOCK, "Klaviyo", "klaviyo"]
)
def test_a_rule_names_its_block_by_id_name_or_app(shop: TestClient, block: str) -> None:
    client = shop
    add_failure(client, workflow=TO_KLAVIYO, block=block)
    run_event(client, "alice")
    expected = KLAVIYO_SHOPIFY if block.lower() == "shopify" or block == KLAVIYO_SHOPIFY else KLAVIYO_BLOCK
    assert failed_blocks(client, TO_KLAVIYO, "alice") == [expected]
    [entry] = logs(client, TO_KLAVIYO)
    assert entry["results"][-1]["blockId"] == expected  # later blocks did not run
    assert "error" not in entry["results"][0]


def test_a_rule_for_a_block_only_applies_to_workflows_that_have_it(shop: TestClient) -> None:
    client = shop
    add_failure(client, block="klaviyo")  # any workflow with a Klaviyo block, once
    run_event(client, "alice")  # runs Sync (no Klaviyo: untouched, rule kept for Klaviyo) and Klaviyo
    assert failed_blocks(client, SYNC_CUSTOMERS, "alice") == [None]
    assert failed_blocks(client, TO_KLAVIYO, "alice") == [KLAVIYO_BLOCK]
    assert listed(client, "run-failures") == []


def test_rules_are_namespace_scoped(shop: TestClient, make_user: MakeUser) -> None:
    client = shop
    make_user("alice", headers=PROD)
    install_sync(client, "alice", namespace="prod")
    rule = add_failure(client, namespace="prod", workflow=SYNC_CUSTOMERS)
    assert rule["namespace"] == "default.prod"
    run_event(client, "alice")  # dev: untouched
    assert listed(client, "run-failures")[0]["remaining"] == 1
    run_event(client, "alice", headers=PROD)
    assert failed_blocks(client, SYNC_CUSTOMERS, "alice") == [None]
    assert [e["block"] for e in errors(client, SYNC_CUSTOMERS, headers=PROD)] == ["shopify"]


def test_the_first_matching_rule_is_used_and_the_payload_marker_wins(shop: TestClient) -> None:
    client = shop
    first = add_failure(client, workflow=SYNC_CUSTOMERS, message="first")
    second = add_failure(client, workflow=SYNC_CUSTOMERS, message="second")
    run_event(client, "alice", {"__alloy_mock": {"failAt": "shopify", "message": "marker"}})
    assert [r["remaining"] for r in listed(client, "run-failures")] == [1, 1]  # the marker consumed neither
    run_event(client, "alice")
    run_event(client, "alice")
    run_event(client, "alice")
    assert [e["message"] for e in errors(client, SYNC_CUSTOMERS, userId="alice")] == ["second", "first", "marker"]
    assert first["id"] != second["id"]


def test_deleting_one_rule_by_id(shop: TestClient) -> None:
    client = shop
    kept = add_failure(client, workflow=SYNC_CUSTOMERS, times=None)
    gone = add_failure(client, workflow=TO_KLAVIYO, times=None)
    assert_ok(client.delete(f"/_mock/run-failures/{gone['id']}", headers=CONTROL), {"deleted": True})
    assert [r["id"] for r in listed(client, "run-failures")] == [kept["id"]]
    assert_error(
        client.delete(f"/_mock/run-failures/{gone['id']}", headers=CONTROL), 404, f"No run rule {gone['id']!r}"
    )
    assert_error(client.delete("/_mock/run-failures/%F0%9F%98%80", headers=CONTROL), 404, "No run rule '\U0001f600'")
    run_event(client, "alice")
    assert analytics(client, TO_KLAVIYO) == (1, 2, 0)


def test_a_full_reset_clears_rules_and_stubs_a_namespace_reset_does_not(shop: TestClient) -> None:
    client = shop
    add_failure(client, times=None)
    add_output(client, workflow=SYNC_CUSTOMERS, block="shopify", output={"stub": True})
    assert_ok(client.post("/_mock/reset", json={"namespace": "prod"}))
    assert (len(listed(client, "run-failures")), len(listed(client, "block-outputs"))) == (1, 1)
    assert_ok(client.post("/_mock/reset", json={}))
    assert listed(client, "run-failures") == listed(client, "block-outputs") == []


def test_the_control_api_admin_token_guards_the_run_controls() -> None:
    with app_client(admin_token="s3cret") as client:
        for method, path in [
            ("GET", "/_mock/run-failures"),
            ("POST", "/_mock/run-failures"),
            ("DELETE", "/_mock/block-outputs"),
            ("POST", "/_mock/executions/wait"),
        ]:
            assert_error(client.request(method, path, json={}), 401, prefix="Unauthorized")
            assert_error(client.request(method, path, json={}, headers=DEV), 401, prefix="Unauthorized")
        assert_ok(client.get("/_mock/run-failures", headers={"Authorization": "Bearer s3cret"}), {"data": []})


# -- block-output stubs ---------------------------------------------------------------------------------


def test_a_stub_replaces_a_blocks_sample_and_feeds_the_next_block(shop: TestClient) -> None:
    client = shop
    stub = {"id": 42, "email": "stub@example.com", "unicode": "\u00e9\U0001f600", "nested": {"a": [1, None]}}
    rule = add_output(client, workflow=TO_KLAVIYO, block="shopify", output=stub)
    assert rule == {
        "id": rule["id"],
        "namespace": None,
        "workflow": TO_KLAVIYO,
        "user": None,
        "block": "shopify",
        "hits": 0,
        "output": stub,
    }
    run_event(client, "alice")
    run_event(client, "bob")
    [bob_run, alice_run] = logs(client, TO_KLAVIYO)
    for entry in (alice_run, bob_run):
        assert output(entry, KLAVIYO_SHOPIFY) == stub
        assert [i["data"] for i in entry["inputs"] if i["blockId"] == KLAVIYO_BLOCK] == [stub]
        assert output(entry, KLAVIYO_BLOCK)["data"]["attributes"]["email"] == "stub@example.com"
    # The Sync workflow's own Shopify block is not stubbed.
    assert output(logs(client, SYNC_CUSTOMERS, limit=1)[0], SYNC_SHOPIFY)["email"] == CUSTOMER["email"]
    assert listed(client, "block-outputs")[0]["hits"] == 2


def test_stubs_per_user_newest_first_and_removal(shop: TestClient) -> None:
    client = shop
    add_output(client, workflow=SYNC_CUSTOMERS, block=SYNC_SHOPIFY, output={"v": "anyone"})
    mine = add_output(client, workflow=SYNC_CUSTOMERS, block=SYNC_SHOPIFY, user="alice", output={"v": "alice"})
    run_event(client, "alice")
    run_event(client, "bob")
    assert output(logs(client, SYNC_CUSTOMERS, userId="alice")[0], SYNC_SHOPIFY) == {"v": "alice"}
    assert output(logs(client, SYNC_CUSTOMERS, userId="bob")[0], SYNC_SHOPIFY) == {"v": "anyone"}
    assert_ok(client.delete(f"/_mock/block-outputs/{mine['id']}", headers=CONTROL), {"deleted": True})
    run_event(client, "alice")
    assert output(logs(client, SYNC_CUSTOMERS, userId="alice")[0], SYNC_SHOPIFY) == {"v": "anyone"}
    assert_ok(client.delete("/_mock/block-outputs", headers=CONTROL), {"cleared": True})
    run_event(client, "alice")
    assert "email" in output(logs(client, SYNC_CUSTOMERS, userId="alice")[0], SYNC_SHOPIFY)


def test_a_failure_wins_over_a_stub_at_the_same_block(shop: TestClient) -> None:
    client = shop
    add_output(client, workflow=SYNC_CUSTOMERS, block="shopify", output={"stub": True})
    add_failure(client, workflow=SYNC_CUSTOMERS, block="shopify", message="down")
    run_event(client, "alice")
    [entry] = logs(client, SYNC_CUSTOMERS, userId="alice")
    assert entry["results"][1]["data"] == [] and entry["results"][1]["error"] == {"message": "down"}


def test_stubs_are_namespace_scoped(shop: TestClient, make_user: MakeUser) -> None:
    client = shop
    make_user("carol", headers=PROD)
    install_sync(client, "carol", namespace="prod")
    add_output(client, namespace="prod", workflow=SYNC_CUSTOMERS, block="shopify", output={"prod": True})
    run_event(client, "alice")
    run_event(client, "carol", headers=PROD)
    assert "email" in output(logs(client, SYNC_CUSTOMERS)[0], SYNC_SHOPIFY)
    assert output(logs(client, SYNC_CUSTOMERS, headers=PROD)[0], SYNC_SHOPIFY) == {"prod": True}


# -- refused bodies: a 400 (or 404) naming the problem, and no rule added ---------------------------------

DEEP = nested(151)

TRIGGER_OR_UNKNOWN = "(give a block id, name or app)"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"times": 0}, 400, "times: Input should be greater than or equal to 1"),
        ({"times": -3}, 400, "times: Input should be greater than or equal to 1"),
        ({"times": 1_000_001}, 400, "times: Input should be less than or equal to 1000000"),
        ({"times": 10**30}, 400, "times: Input should be a valid integer"),  # past 64 bits: read as a float
        ({"times": 1.5}, 400, "times: Input should be a valid integer"),
        ({"times": "2"}, 400, "times: Input should be a valid integer"),
        ({"times": True}, 400, "times: Input should be a valid integer"),
        ({"times": [1]}, 400, "times: Input should be a valid integer"),
        ({"message": ""}, 400, "message: String should have at least 1 character"),
        ({"message": "m" * 2001}, 400, "message: String should have at most 2000 characters"),
        ({"message": 5}, 400, "message: Input should be a valid string"),
        ({"user": ""}, 400, "user: String should have at least 1 character"),
        ({"user": ["alice"]}, 400, "user: Input should be a valid string"),
        ({"workflow": ""}, 400, "workflow: String should have at least 1 character"),
        ({"workflow": 1}, 400, "workflow: Input should be a valid string"),
        (
            {"workflow": "No such workflow"},
            400,
            "workflow: the catalogue has no workflow 'No such workflow' (give its id or name)",
        ),
        ({"workflow": "0" * 24}, 400, None),
        ({"workflow": "\U0001f600"}, 400, None),
        (
            {"workflow": SYNC_CUSTOMERS, "block": "klaviyo"},
            400,
            f"block: 'klaviyo' is no app block of 'Sync New Customers to Shopify' {TRIGGER_OR_UNKNOWN}",
        ),
        ({"workflow": SYNC_CUSTOMERS, "block": "Custom Event"}, 400, None),
        ({"workflow": SYNC_CUSTOMERS, "block": "customEvent"}, 400, None),
        ({"block": "customEvent"}, 400, f"block: 'customEvent' is no app block of any workflow {TRIGGER_OR_UNKNOWN}"),
        ({"block": "nothing"}, 400, None),
        ({"block": {"id": "x"}}, 400, "block: Input should be a valid string"),
        ({"namespace": "staging"}, 404, None),
        ({"namespace": 3}, 400, None),
        (
            {"times": 1, "extra": True},
            400,
            "unknown field extra (known: block, message, namespace, times, user, workflow)",
        ),
        ({"failAt": "shopify"}, 400, "unknown field failAt (known: block, message, namespace, times, user, workflow)"),
    ],
)
def test_failure_rule_bodies_refused(
    client: TestClient, body: dict[str, Any], status: int, message: str | None
) -> None:
    assert_error(client.post("/_mock/run-failures", json=body), status, message)
    assert listed(client, "run-failures") == []


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "workflow is required"),
        ({"workflow": SYNC_CUSTOMERS, "output": {}}, 400, "block is required"),
        ({"workflow": SYNC_CUSTOMERS, "block": "shopify"}, 400, "output is required"),
        (
            {"workflow": SYNC_CUSTOMERS, "block": "shopify", "output": None},
            400,
            "output: Input should be a valid dictionary",
        ),
        (
            {"workflow": SYNC_CUSTOMERS, "block": "shopify", "output": [1]},
            400,
            "output: Input should be a valid dictionary",
        ),
        (
            {"workflow": SYNC_CUSTOMERS, "block": "shopify", "output": "{}"},
            400,
            "output: Input should be a valid dictionary",
        ),
        (
            {"workflow": SYNC_CUSTOMERS, "block": "shopify", "output": 3},
            400,
            "output: Input should be a valid dictionary",
        ),
        (
            {"workflow": SYNC_CUSTOMERS, "block": "shopify", "output": DEEP},
            400,
            "output: nests objects and arrays more than 100 levels deep",
        ),
        ({"workflow": SYNC_CUSTOMERS, "block": "Custom Event", "output": {}}, 400, None),
        ({"workflow": SYNC_CUSTOMERS, "block": "hubspot", "output": {}}, 400, None),
        ({"workflow": "nope", "block": "shopify", "output": {}}, 400, None),
        (
            {"workflow": SYNC_CUSTOMERS, "block": "shopify", "output": {}, "times": 1},
            400,
            "unknown field times (known: block, namespace, output, user, workflow)",
        ),
        (
            {"workflow": SYNC_CUSTOMERS, "block": "shopify", "output": {}, "user": 7},
            400,
            "user: Input should be a valid string",
        ),
    ],
)
def test_block_output_bodies_refused(
    client: TestClient, body: dict[str, Any], status: int, message: str | None
) -> None:
    assert_error(client.post("/_mock/block-outputs", json=body), status, message)
    assert listed(client, "block-outputs") == []


@pytest.mark.parametrize("path", ["/_mock/run-failures", "/_mock/block-outputs"])
@pytest.mark.parametrize("content", [b"[]", b'"text"', b"null", b"{", b"[{}]"])
def test_run_control_bodies_that_are_not_objects(client: TestClient, path: str, content: bytes) -> None:
    assert_error(client.post(path, content=content, headers={"Content-Type": "application/json"}), 400)
    assert listed(client, path.removeprefix("/_mock/")) == []
