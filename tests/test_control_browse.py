"""The control API's read endpoints (issue 15, the dashboard's data): namespaces, users, one user, executions
(newest first, paged with `before`) and reruns, after real API calls; never a secret; one namespace at a time."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from alloy_mock.config import Account, Settings
from alloy_mock.emulator import Emulator

from .conftest import API, DEV, PROD
from .helpers import CONTROL, SYNC_CUSTOMERS, assert_error, assert_ok, show
from .runs_support import CREATE_ORDER, CUSTOMER, EXECUTION_ID, EXECUTION_UUID, app_client, install, logs, run_event

SECRET = "sk-live-do-not-show-4242"
FAIL_RULE = {"workflow": SYNC_CUSTOMERS, "block": "shopify", "message": "Shopify is down", "times": 1}
ADMIN_TOKEN = "dash-admin-token"
EXTRA = Account("acme", "acme-dev-key", "acme-prod-key")


@dataclass
class World:
    alice: str
    bob: str
    carol: str
    prod_user: str
    executions: list[str]  # alice's and bob's, oldest first
    failed: str  # the one that failed (alice's second)


def create_user(client: TestClient, username: str, full_name: str | None = None, headers: dict[str, str] = DEV) -> str:
    body: dict[str, Any] = (
        {"username": username} if full_name is None else {"username": username, "fullName": full_name}
    )
    return str(assert_ok(client.post(f"{API}/users", json=body, headers=headers))["userId"])


def add_credential(client: TestClient, user: str, credential: dict[str, Any]) -> str:
    answer = assert_ok(client.post(f"{API}/users/{user}/credentials", json={"credential": credential}, headers=DEV))
    return str(answer["credentialId"])


def newest_ids(client: TestClient, **params: Any) -> list[str]:
    return [item["executionId"] for item in executions(client, **params)["data"]]


def executions(client: TestClient, **params: Any) -> dict[str, Any]:
    answer: dict[str, Any] = assert_ok(client.get("/_mock/executions", params=params))
    assert set(answer) == {"data", "next"}, answer
    return answer


@pytest.fixture
def world(client: TestClient) -> World:
    return build_world(client)


def build_world(client: TestClient) -> World:
    """alice (Shopify installed, a klaviyo key, three runs of which the second failed), bob (one run), carol
    (nothing), and a prod user: all through the vendor API and the control API."""
    alice = create_user(client, "alice@example.com", "Alice Liddell")
    bob = create_user(client, "bob@example.com", "Bob")
    carol = create_user(client, "carol")
    prod_user = create_user(client, "alice@example.com", "Prod Alice", headers=PROD)
    add_credential(client, alice, {"type": "klaviyo", "data": {"apiKey": SECRET}})
    install(client, alice, "Shopify", workflows=[SYNC_CUSTOMERS], values={"customerTags": "vip"})
    install(client, bob, "Shopify", workflows=[SYNC_CUSTOMERS])
    run_event(client, alice, {**CUSTOMER, "n": 1})
    assert_ok(client.post("/_mock/run-failures", json={**FAIL_RULE, "user": alice}))
    run_event(client, alice, {**CUSTOMER, "n": 2})
    run_event(client, bob, {**CUSTOMER, "n": 3})
    run_event(client, alice, {**CUSTOMER, "n": 4})
    order = [entry["executionId"] for entry in reversed(logs(client, SYNC_CUSTOMERS, limit=30))]
    assert len(order) == 4
    return World(alice, bob, carol, prod_user, order, order[1])


# -- namespaces ------------------------------------------------------------------------------------


@pytest.mark.parametrize("settings", [Settings(accounts=(*Settings().accounts, EXTRA))], ids=["two-accounts"])
def test_namespaces_lists_every_configured_one_with_its_counts(client: TestClient, world: World) -> None:
    answer = assert_ok(client.get("/_mock/namespaces"))
    assert answer == {
        "data": [
            {
                "namespace": "default.dev",
                "account": "default",
                "environment": "dev",
                "users": 3,
                "installs": 2,
                "credentials": 3,  # klaviyo, and the emulated shopify ones of alice and bob
                "executions": 4,
            },
            *(
                {"namespace": ns, "account": ns.split(".")[0], "environment": ns.split(".")[1], "users": users}
                | {"installs": 0, "credentials": 0, "executions": 0}
                for ns, users in (("default.prod", 1), ("acme.dev", 0), ("acme.prod", 0))
            ),
        ]
    }
    counts = ("users", "installs", "credentials", "executions")
    assert all(type(item[key]) is int for item in answer["data"] for key in counts)  # not true for 1


def test_namespace_counts_follow_deletes_and_resets(client: TestClient, world: World) -> None:
    assert_ok(client.delete(f"{API}/users/{world.bob}", headers=DEV))
    [dev, prod] = assert_ok(client.get("/_mock/namespaces"))["data"]
    assert (dev["users"], dev["installs"], dev["credentials"], dev["executions"]) == (2, 1, 2, 4)  # logs stay
    assert_ok(client.post("/_mock/reset", json={"namespace": "dev"}))
    [dev, prod] = assert_ok(client.get("/_mock/namespaces"))["data"]
    assert (dev["users"], dev["installs"], dev["credentials"], dev["executions"], prod["users"]) == (0, 0, 0, 0, 1)


# -- users -----------------------------------------------------------------------------------------


def test_users_newest_first_with_their_fields_and_total(client: TestClient, world: World) -> None:
    answer = assert_ok(client.get("/_mock/users", params={"namespace": "dev"}))
    assert answer["total"] == 3
    assert [u["userId"] for u in answer["data"]] == [world.carol, world.bob, world.alice]
    vendor = {u["userId"]: u for u in assert_ok(client.get(f"{API}/users", headers=DEV))["data"]}
    for item in answer["data"]:
        assert set(item) == {"userId", "username", "fullName", "createdAt"}
        assert item["username"] == vendor[item["userId"]]["username"]
        assert item["fullName"] == vendor[item["userId"]].get("fullName")  # null when unset
        assert item["createdAt"].endswith("Z")
    assert answer == assert_ok(client.get("/_mock/users"))  # dev by default


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("alice", ["alice"]),
        ("ALICE@EX", ["alice"]),  # any case
        ("liddell", ["alice"]),  # the fullName
        ("example.com", ["bob", "alice"]),
        ("BO", ["bob"]),
        ("o", ["carol", "bob", "alice"]),
        ("nobody", []),
        ("%", []),
        ("'; DROP TABLE users; --", []),
    ],
)
def test_users_search(client: TestClient, world: World, search: str, expected: list[str]) -> None:
    answer = assert_ok(client.get("/_mock/users", params={"search": search}))
    names = {world.alice: "alice", world.bob: "bob", world.carol: "carol"}
    assert [names[u["userId"]] for u in answer["data"]] == expected
    assert answer["total"] == len(expected)


def test_users_search_by_user_id_prefix(client: TestClient, world: World) -> None:
    found = assert_ok(client.get("/_mock/users", params={"search": world.bob.upper()}))
    assert [u["userId"] for u in found["data"]] == [world.bob]
    shared = assert_ok(client.get("/_mock/users", params={"search": world.bob[:8]}))  # the ids' time part
    expected = [user for user in (world.carol, world.bob, world.alice) if user.startswith(world.bob[:8])]
    assert [u["userId"] for u in shared["data"]] == expected
    assert assert_ok(client.get("/_mock/users", params={"search": world.bob[4:]}))["total"] == 0  # a prefix only


def test_users_paging_with_limit_and_offset(client: TestClient) -> None:
    ids = [create_user(client, f"user{n:02}") for n in range(12)]
    newest = list(reversed(ids))
    pages = [assert_ok(client.get("/_mock/users", params={"limit": 5, "offset": o})) for o in (0, 5, 10, 15)]
    assert [[u["userId"] for u in page["data"]] for page in pages] == [newest[:5], newest[5:10], newest[10:], []]
    assert {page["total"] for page in pages} == {12}
    searched = assert_ok(client.get("/_mock/users", params={"search": "user1", "limit": 1, "offset": 1}))
    assert ([u["username"] for u in searched["data"]], searched["total"]) == (["user10"], 2)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "limit must be a whole number from 1 to 500"),
        ("limit=501", "limit must be a whole number from 1 to 500"),
        ("limit=1.0", "limit must be a whole number from 1 to 500"),
        ("limit=%2B5", "limit must be a whole number from 1 to 500"),
        ("limit=5_0", "limit must be a whole number from 1 to 500"),
        ("limit=%D9%A3", "limit must be a whole number from 1 to 500"),  # an Arabic-Indic three
        ("limit=99999999999999999999999", "limit must be a whole number from 1 to 500"),
        ("offset=-1", "offset must be a whole number"),
        ("search=" + "x" * 1025, "search must be at most 1024 characters"),
        ("serach=alice", "unknown query parameter serach (known: limit, namespace, offset, search)"),
        ("a=1&b=2", "unknown query parameters a, b (known: "),
        ("=1", "unknown query parameter '' (known: "),
        ("%00=1", "unknown query parameter '\\x00' (known: "),
        ("x" * 300 + "=1", "unknown query parameter " + "x" * 77 + "... (known: "),
        ("limit=1&limit=2", "limit is given more than once"),
        ("namespace=" + "n" * 201, "namespace must be a string such as"),
    ],
)
def test_users_bad_parameters_are_400_naming_them(client: TestClient, query: str, message: str) -> None:
    assert_error(client.get(f"/_mock/users?{query}"), 400, prefix=message)


def test_an_empty_parameter_counts_as_absent(client: TestClient, world: World) -> None:
    answer = assert_ok(client.get("/_mock/users?search=&limit=&offset=&namespace="))
    assert answer["total"] == 3 and len(answer["data"]) == 3


@pytest.mark.parametrize("path", ["/_mock/users", "/_mock/users/alice", "/_mock/executions"])
def test_an_unknown_namespace_is_404_as_elsewhere_in_the_control_api(client: TestClient, path: str) -> None:
    assert_error(client.get(path, params={"namespace": "staging"}), 404, prefix="Unknown namespace 'staging'")
    assert_error(client.get("/_mock/installs", params={"namespace": "staging", "user": "a"}), 404)


# -- one user --------------------------------------------------------------------------------------


def test_a_user_with_installs_credentials_and_execution_counts(client: TestClient, world: World) -> None:
    answer = assert_ok(client.get(f"/_mock/users/{world.alice}"))
    assert set(answer) == {"namespace", "user", "installs", "credentials", "executions"}
    assert answer["namespace"] == "default.dev"
    assert answer["user"]["userId"] == world.alice and answer["user"]["fullName"] == "Alice Liddell"
    assert answer["executions"] == {"total": 3, "errors": 1}
    listed = assert_ok(client.get("/_mock/installs", params={"user": world.alice}))["data"]
    assert [{k: v for k, v in item.items() if k != "app"} for item in answer["installs"]] == listed
    [sync] = answer["installs"]
    assert (sync["workflowId"], sync["name"], sync["app"], sync["active"]) == (
        SYNC_CUSTOMERS,
        "Sync New Customers to Shopify",
        "Shopify",
        True,
    )
    assert {"customerTags": "vip"} in sync["values"].values()
    vendor = assert_ok(client.get(f"{API}/users/{world.alice}/credentials", headers=DEV))["data"]
    assert [{k: v for k, v in c.items() if k != "emulated"} for c in answer["credentials"]] == vendor
    assert [(c["type"], c["emulated"]) for c in answer["credentials"]] == [("klaviyo", False), ("shopify", True)]
    assert sync["credentialIds"] == {"shopify": answer["credentials"][1]["credentialId"]}


def test_a_user_by_username_and_one_with_nothing(client: TestClient, world: World) -> None:
    by_name = assert_ok(client.get("/_mock/users/bob@example.com"))
    assert by_name["user"]["userId"] == world.bob and by_name["executions"] == {"total": 1, "errors": 0}
    carol = assert_ok(client.get("/_mock/users/carol"))
    assert (carol["installs"], carol["credentials"], carol["executions"]) == ([], [], {"total": 0, "errors": 0})


@pytest.mark.parametrize("ref", ["nobody", "6323d7c9122ae69742a5d0a2", "null", quote("a/b", safe=""), "%00"])
def test_an_unknown_user_is_404(client: TestClient, world: World, ref: str) -> None:
    assert_error(client.get(f"/_mock/users/{ref}"), 404, "User not found")


def test_a_username_with_a_slash(client: TestClient) -> None:
    user = create_user(client, "team/ops")
    assert assert_ok(client.get(f"/_mock/users/{quote('team/ops', safe='')}"))["user"]["userId"] == user


def test_secrets_never_appear(client: TestClient, emulator: Emulator, world: World) -> None:
    """Neither a credential's data given by the caller nor the emulated OAuth tokens, anywhere."""
    dev = emulator.namespace_named("dev")
    stored = [c.data for user in (world.alice, world.bob) for c in emulator.credentials.list_for(dev, user)]
    secrets = [str(v) for data in stored for v in data.values() if len(str(v)) >= 8]
    assert SECRET in secrets and any(s.startswith("emulated-") for s in secrets)
    answers = [
        client.get("/_mock/namespaces"),
        client.get("/_mock/users"),
        client.get(f"/_mock/users/{world.alice}"),
        client.get(f"/_mock/users/{world.bob}"),
        client.get("/_mock/executions", params={"limit": 100}),
        client.get("/_mock/executions", params={"error": "true"}),
    ]
    for response in answers:
        assert response.status_code == 200, show(response)
        assert not [s for s in secrets if s in response.text], show(response)
        assert '"data":{"apiKey"' not in response.text.replace(" ", "")


# -- executions ------------------------------------------------------------------------------------


def test_executions_newest_first_as_the_logs_endpoint_gives_them_plus_who_and_what(
    client: TestClient, world: World
) -> None:
    answer = executions(client)
    assert [item["executionId"] for item in answer["data"]] == list(reversed(world.executions))
    assert answer["next"] is None
    vendor = {entry["executionId"]: entry for entry in logs(client, SYNC_CUSTOMERS, limit=30)}
    users = [world.alice, world.alice, world.bob, world.alice]
    for item, user in zip(answer["data"], reversed(users), strict=True):
        extra = {k: item.pop(k) for k in ("workflowId", "workflowName", "userId", "failed", "error", "rerunOf")}
        assert item == vendor[item["executionId"]]  # every field of the log entry, as it is
        assert EXECUTION_ID.match(item["executionId"])
        assert extra["workflowId"] == SYNC_CUSTOMERS and extra["workflowName"] == "Sync New Customers to Shopify"
        assert extra["userId"] == user and extra["rerunOf"] is None
        assert extra["failed"] is (item["executionId"] == world.failed)
        if extra["failed"]:
            error = extra["error"]
            assert set(error) == {"block", "blockId", "message", "errorOccurredAt"}
            assert (error["block"], error["message"]) == ("shopify", "Shopify is down")
            [vendor_error] = assert_ok(client.get(f"{API}/workflows/{SYNC_CUSTOMERS}/errors", headers=DEV))["data"]
            assert error["errorOccurredAt"] == vendor_error["errorOccurredAt"]
            assert error["blockId"] in [r["blockId"] for r in item["results"]]
        else:
            assert extra["error"] is None


def test_executions_filters(client: TestClient, world: World) -> None:
    alice_runs = [e for e in reversed(world.executions) if e != world.executions[2]]
    assert newest_ids(client, userId=world.alice) == alice_runs
    assert newest_ids(client, userId="alice@example.com") == alice_runs  # a username too
    assert newest_ids(client, userId=world.bob) == [world.executions[2]]
    assert newest_ids(client, userId=world.carol) == []
    assert newest_ids(client, workflowId=SYNC_CUSTOMERS) == list(reversed(world.executions))
    assert newest_ids(client, workflowId="Sync New Customers to Shopify", userId=world.bob) == [world.executions[2]]
    assert newest_ids(client, workflowId=CREATE_ORDER) == []
    for flag in ("true", "1", "TRUE"):
        assert newest_ids(client, error=flag) == [world.failed]
    assert newest_ids(client, error="false") == list(reversed(world.executions))
    assert newest_ids(client, error="true", userId=world.alice) == [world.failed]
    assert newest_ids(client, error="true", userId=world.bob) == []
    assert newest_ids(client, error="true", workflowId=SYNC_CUSTOMERS, userId=world.alice) == [world.failed]
    assert newest_ids(client, error="true", workflowId=SYNC_CUSTOMERS) == [world.failed]


def test_executions_paging_with_before(client: TestClient, world: World) -> None:
    for _ in range(7):
        run_event(client, world.bob)
    everything = newest_ids(client, limit=100)
    assert len(everything) == 11
    for limit in (1, 3, 5, 11):
        seen: list[str] = []
        page = executions(client, limit=limit)
        while True:
            seen += [item["executionId"] for item in page["data"]]
            assert len(page["data"]) <= limit
            if page["next"] is None:
                break
            assert page["next"] == page["data"][-1]["executionId"]
            page = executions(client, limit=limit, before=page["next"])
        assert seen == everything, limit
    bob = newest_ids(client, userId=world.bob, limit=100)
    assert newest_ids(client, userId=world.bob, before=bob[2], limit=2) == bob[3:5]
    last = executions(client, before=everything[-2])
    assert ([i["executionId"] for i in last["data"]], last["next"]) == ([everything[-1]], None)


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("before=nope", 400, "before must be the executionId of an execution in this list"),
        ("before=" + "x" * 201, 400, "before must be an executionId"),
        ("error=maybe", 400, "error must be true or false"),
        ("error=", 200, None),
        ("limit=101", 400, "limit must be a whole number from 1 to 100"),
        ("limit=-3", 400, "limit must be a whole number from 1 to 100"),
        (
            "userid=x",
            400,
            "unknown query parameter userid (known: before, error, limit, namespace, userId, workflowId)",
        ),
        ("workflowId=nope", 404, "Workflow not found"),
        ("userId=nobody", 404, "User not found"),
        ("userId=" + "u" * 1025, 400, "userId must be a userId or username"),
    ],
)
def test_executions_bad_parameters(client: TestClient, world: World, query: str, status: int, message: str) -> None:
    response = client.get(f"/_mock/executions?{query}")
    if status == 200:
        assert_ok(response)
    else:
        assert_error(response, status, prefix=message)


def test_before_must_be_in_the_filtered_list(client: TestClient, world: World) -> None:
    bobs = world.executions[2]
    assert_error(client.get("/_mock/executions", params={"userId": world.alice, "before": bobs}), 400, prefix="before")
    assert_error(client.get("/_mock/executions", params={"error": "true", "before": bobs}), 400, prefix="before")


def test_a_deleted_users_executions_stay_listed_by_id(client: TestClient, world: World) -> None:
    assert_ok(client.delete(f"{API}/users/{world.bob}", headers=DEV))
    assert newest_ids(client, userId=world.bob) == [world.executions[2]]
    assert len(newest_ids(client)) == 4


def test_a_running_execution_has_not_failed_yet() -> None:
    with app_client(run_latency_ms=1000) as client:
        user = create_user(client, "alice")
        install(client, user, "Shopify", workflows=[SYNC_CUSTOMERS])
        assert_ok(client.post("/_mock/clock/freeze", json={"at": 1_700_000_000}))
        assert_ok(client.post("/_mock/run-failures", json=FAIL_RULE))
        run_event(client, user)
        [running] = executions(client)["data"]
        assert (running["finished"], running["failed"], running["error"], running["results"]) == (
            False,
            False,
            None,
            [],
        )
        assert executions(client, error="true")["data"] == []
        assert_ok(client.post("/_mock/clock/advance", json={"seconds": 1}))
        [done] = executions(client, error="true")["data"]
        assert (done["finished"], done["failed"], done["error"]["message"]) == (True, True, "Shopify is down")


# -- rerun -----------------------------------------------------------------------------------------


def test_rerun_runs_the_same_input_again_and_lists_it_first(client: TestClient, world: World) -> None:
    answer = assert_ok(client.post(f"/_mock/executions/{world.failed}/rerun", json={"namespace": "dev"}))
    assert set(answer) == {"message", "executionUuid", "executionId"} and answer["message"] == "success"
    assert EXECUTION_UUID.match(answer["executionUuid"]) and EXECUTION_ID.match(answer["executionId"])
    [newest] = executions(client, limit=1)["data"]
    assert (newest["executionId"], newest["rerunOf"], newest["userId"]) == (
        answer["executionId"],
        world.failed,
        world.alice,
    )
    [original] = [i for i in executions(client, limit=100)["data"] if i["executionId"] == world.failed]
    assert newest["inputs"] == original["inputs"]
    assert newest["failed"] is False  # the failure rule was for one run only
    assert assert_ok(client.get(f"/_mock/users/{world.alice}"))["executions"] == {"total": 4, "errors": 1}


def test_rerun_without_a_body_is_dev(client: TestClient, world: World) -> None:
    assert_ok(client.post(f"/_mock/executions/{world.executions[0]}/rerun", headers=CONTROL))
    assert len(newest_ids(client)) == 5


def test_rerun_errors(client: TestClient, world: World) -> None:
    rerun = f"/_mock/executions/{world.executions[0]}/rerun"
    assert_error(client.post("/_mock/executions/nope/rerun", json={}), 404, "Execution not found")
    assert_error(client.post(rerun, json={"namespace": "prod"}), 404, "Execution not found")
    assert_error(client.post(rerun, json={"namespace": "prod", "nmespace": 1}), 400, prefix="unknown field nmespace")
    assert_error(client.post(rerun, content=b"{}", headers={"content-type": "text/plain"}), 415)
    assert_ok(client.delete(f"{API}/workflows/{SYNC_CUSTOMERS}?userId={world.alice}", headers=DEV))
    assert_error(client.post(rerun, json={}), 400, prefix="'Sync New Customers to Shopify' is not installed")
    assert_ok(client.delete(f"{API}/users/{world.alice}", headers=DEV))
    assert_error(client.post(rerun, json={}), 404, "User not found")
    assert len(newest_ids(client)) == 4


# -- isolation and protection -------------------------------------------------------------------------


def test_prod_never_shows_dev_data(client: TestClient, world: World) -> None:
    users = assert_ok(client.get("/_mock/users", params={"namespace": "prod"}))
    assert ([u["userId"] for u in users["data"]], users["total"]) == ([world.prod_user], 1)
    assert users["data"][0]["fullName"] == "Prod Alice"
    assert assert_ok(client.get("/_mock/users", params={"namespace": "prod", "search": "bob"}))["total"] == 0
    for ref in (world.alice, world.bob):
        assert_error(client.get(f"/_mock/users/{ref}", params={"namespace": "prod"}), 404, "User not found")
    by_name = assert_ok(client.get("/_mock/users/alice@example.com", params={"namespace": "default.prod"}))
    assert by_name["user"]["userId"] == world.prod_user
    assert (by_name["installs"], by_name["credentials"], by_name["executions"]) == ([], [], {"total": 0, "errors": 0})
    assert executions(client, namespace="prod") == {"data": [], "next": None}
    assert executions(client, namespace="prod", userId=world.alice) == {"data": [], "next": None}
    assert_error(client.get("/_mock/executions", params={"namespace": "prod", "before": world.failed}), 400)
    assert world.failed not in json.dumps(assert_ok(client.get("/_mock/namespaces")))


def test_prod_runs_are_listed_in_prod_only(client: TestClient, world: World) -> None:
    install(client, world.prod_user, "Shopify", workflows=[SYNC_CUSTOMERS], namespace="prod")
    run_event(client, world.prod_user, headers=PROD)
    [prod_run] = executions(client, namespace="prod")["data"]
    assert prod_run["userId"] == world.prod_user
    assert prod_run["executionId"] not in newest_ids(client, limit=100)
    assert_error(client.post(f"/_mock/executions/{prod_run['executionId']}/rerun", json={}), 404)
    assert_ok(client.post(f"/_mock/executions/{prod_run['executionId']}/rerun", json={"namespace": "prod"}))
    assert len(newest_ids(client, namespace="prod")) == 2 and len(newest_ids(client)) == 4


BROWSE_CALLS = [
    ("GET", "/_mock/namespaces"),
    ("GET", "/_mock/users"),
    ("GET", "/_mock/users/alice@example.com"),
    ("GET", "/_mock/executions"),
    ("POST", "/_mock/executions/{failed}/rerun"),
]


@pytest.mark.parametrize("settings", [Settings(admin_token=ADMIN_TOKEN)], ids=["admin-token"])
@pytest.mark.parametrize(("method", "path"), BROWSE_CALLS)
def test_the_admin_token_is_required_when_set(client: TestClient, method: str, path: str) -> None:
    client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"  # for the control calls that build the world
    world = build_world(client)
    del client.headers["Authorization"]
    url = path.format(failed=world.failed)
    for headers in ({}, DEV, {"Authorization": "Bearer wrong"}):
        response = client.request(method, url, json={}, headers=headers)
        assert_error(response, 401, prefix="Unauthorized: the control API needs the admin token")
    assert_ok(client.request(method, url, json={}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}))


def test_no_cors_for_the_dashboard_data(client: TestClient, world: World) -> None:
    response = client.get("/_mock/users", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers


def test_the_openapi_document_describes_the_parameters(client: TestClient) -> None:
    document = assert_ok(client.get("/_mock/openapi.json"))

    def query(path: str) -> dict[str, dict[str, Any]]:
        return {p["name"]: p for p in document["paths"][path]["get"].get("parameters", []) if p["in"] == "query"}

    assert query("/_mock/namespaces") == {}
    assert set(query("/_mock/users")) == {"namespace", "search", "limit", "offset"}
    assert query("/_mock/users")["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}
    assert set(query("/_mock/users/{user}")) == {"namespace"}
    assert set(query("/_mock/executions")) == {"namespace", "workflowId", "userId", "error", "limit", "before"}
    assert query("/_mock/executions")["error"]["schema"] == {"type": "boolean", "default": False}
    rerun = document["paths"]["/_mock/executions/{execution_id}/rerun"]["post"]
    assert rerun["requestBody"]["content"]["application/json"]["example"] == {"namespace": "dev"}


def test_after_a_restart_the_lists_and_counts_are_the_same(tmp_path: Any) -> None:
    """The failed-run indexes are rebuilt from the stored documents, and a rerun that got a 200 is on disk."""
    db = str(tmp_path / "alloy.db")
    with app_client(db=db) as client:
        world = build_world(client)
        rerun = assert_ok(client.post(f"/_mock/executions/{world.failed}/rerun", json={}))
        before = [executions(client, **params) for params in ({}, {"error": "true"}, {"userId": world.alice})]
        details = assert_ok(client.get(f"/_mock/users/{world.alice}"))
        namespaces = assert_ok(client.get("/_mock/namespaces"))
    with app_client(db=db) as client:
        after = [executions(client, **params) for params in ({}, {"error": "true"}, {"userId": world.alice})]
        assert after == before
        assert after[0]["data"][0]["executionId"] == rerun["executionId"]
        assert [item["executionId"] for item in after[1]["data"]] == [world.failed]
        assert assert_ok(client.get(f"/_mock/users/{world.alice}")) == details
        assert details["executions"] == {"total": 4, "errors": 1}
        assert assert_ok(client.get("/_mock/namespaces")) == namespaces
