"""The control API under /_mock: admin token, reset, seed, snapshots, journal, faults, clock, tokens, coverage, OpenAPI.

Everything runs in-process (Starlette's TestClient on an in-memory emulator); time is moved with the
emulator's clock, never waited for.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import jwt
import orjson
import pytest
from starlette.testclient import TestClient

from alloy_mock.app import create_app
from alloy_mock.clock import iso_time
from alloy_mock.config import DEFAULT_DEV_KEY, DEFAULT_PROD_KEY, Account, ConfigError, Settings
from alloy_mock.control.coverage import OPERATIONS as VENDOR_OPERATIONS
from alloy_mock.control.journal import BODY_LIMIT
from alloy_mock.control.models import FailureSpec, FaultSpec
from alloy_mock.emulator import Emulator
from alloy_mock.http import control, control_browse, control_installs, control_runs

from .conftest import API, DEV, PROD, ServerProcess
from .helpers import SYNC_CUSTOMERS, assert_error, assert_ok, show

MakeUser = Callable[..., str]
ADMIN_TOKEN = "s3cret"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PROTECTED = Settings(admin_token=ADMIN_TOKEN)
ADMIN_REQUIRED = "Unauthorized: the control API needs the admin token (Authorization: Bearer ...)"
FIXED_ID = "6323d7c9122ae69742a5d0a2"
JAN_1_2024 = 1704067200.0  # 2024-01-01T00:00:00Z
UNKNOWN_NAMESPACE = "Unknown namespace {!r} (known: dev, prod, default.dev, default.prod)"
USER_TOKEN = "x-alloy-user-token"


# -- helpers --------------------------------------------------------------------------------------


def ctl(client: TestClient, method: str, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
    """A control API call: `path` is relative to /_mock. Sends `X-Alloy-Mock: 1`, as the plugin's helpers do,
    so that writes without a JSON body pass (given headers win)."""
    if body is not None:
        kwargs["json"] = body
    kwargs["headers"] = {"X-Alloy-Mock": "1", **kwargs.get("headers", {})}
    return client.request(method, f"/_mock{path}", **kwargs)


def usernames(client: TestClient, headers: dict[str, str] = DEV) -> list[str]:
    return sorted(user["username"] for user in assert_ok(client.get(f"{API}/users", headers=headers))["data"])


def journal(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    data = assert_ok(ctl(client, "GET", "/requests", params=params))["data"]
    assert isinstance(data, list)
    return data


def faults(client: TestClient) -> list[dict[str, Any]]:
    data = assert_ok(ctl(client, "GET", "/faults"))["data"]
    assert isinstance(data, list)
    return data


def add_fault(client: TestClient, spec: dict[str, Any]) -> dict[str, Any]:
    created = assert_ok(ctl(client, "POST", "/faults", spec))
    assert created["id"].startswith("fault-"), created
    return created


def clock(client: TestClient) -> dict[str, Any]:
    return assert_ok(ctl(client, "GET", "/clock"))


def freeze(client: TestClient, at: Any) -> dict[str, Any]:
    return assert_ok(ctl(client, "POST", "/clock/freeze", {"at": at}))


def mint(client: TestClient, **body: Any) -> dict[str, Any]:
    minted = assert_ok(ctl(client, "POST", "/tokens", body))
    assert set(minted) == {"token", "claims"}, minted
    return minted


def integrations_as(client: TestClient, token: str) -> httpx.Response:
    """What alloy-frontend does: the user token alone, no API key."""
    return client.get("/2024-03/integrations", headers={USER_TOKEN: token})


def unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A token's header and payload, without checking the signature."""
    return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})


# Every control endpoint: the index (GET /_mock, outside the mounted table) plus the route table.
CONTROL_ENDPOINTS: list[tuple[str, str]] = [("GET", "")] + [
    (method, entry.path)
    for entry in [*control.routes, *control_installs.routes, *control_runs.routes, *control_browse.routes]
    for method in sorted(entry.methods or ())
    if method != "HEAD"
]
ENDPOINT_IDS = [f"{method} /_mock{path}" for method, path in CONTROL_ENDPOINTS]

# A request that succeeds for each endpoint, given the state `control_state` sets up.
VALID_CALLS: dict[tuple[str, str], tuple[str, Any]] = {
    ("GET", ""): ("", None),
    ("GET", "/openapi.json"): ("/openapi.json", None),
    ("POST", "/reset"): ("/reset", {"namespace": "prod"}),
    ("POST", "/seed"): ("/seed", {"users": [{"username": "bob"}]}),
    ("GET", "/snapshots"): ("/snapshots", None),
    ("POST", "/snapshots"): ("/snapshots", {"name": "snap2"}),
    ("POST", "/snapshots/{name}/restore"): ("/snapshots/snap/restore", None),
    ("DELETE", "/snapshots/{name}"): ("/snapshots/snap", None),
    ("GET", "/requests"): ("/requests", None),
    ("DELETE", "/requests"): ("/requests", None),
    ("GET", "/faults"): ("/faults", None),
    ("POST", "/faults"): ("/faults", {"status": 500, "path": "/never"}),
    ("DELETE", "/faults"): ("/faults", None),
    ("DELETE", "/faults/{fault_id}"): ("/faults/fault-1", None),
    ("GET", "/clock"): ("/clock", None),
    ("POST", "/clock/freeze"): ("/clock/freeze", {}),
    ("POST", "/clock/advance"): ("/clock/advance", {"seconds": 1}),
    ("POST", "/clock/unfreeze"): ("/clock/unfreeze", None),
    ("POST", "/clock/reset"): ("/clock/reset", None),
    ("POST", "/tokens"): ("/tokens", {"user": "alice"}),
    ("GET", "/coverage"): ("/coverage", None),
    ("POST", "/installs"): ("/installs", {"user": "alice", "integration": "Slack", "values": {"channel": "#ops"}}),
    ("GET", "/installs"): ("/installs?user=alice", None),
    ("DELETE", "/installs"): ("/installs?user=alice&integration=Slack", None),
    ("GET", "/run-failures"): ("/run-failures", None),
    ("POST", "/run-failures"): ("/run-failures", {"workflow": "New Customer Created", "times": 2}),
    ("DELETE", "/run-failures"): ("/run-failures", None),
    ("DELETE", "/run-failures/{rule_id}"): ("/run-failures/run-failure-1", None),
    ("GET", "/block-outputs"): ("/block-outputs", None),
    ("POST", "/block-outputs"): (
        "/block-outputs",
        {"workflow": "New Customer Created", "block": "slack", "output": {}},
    ),
    ("DELETE", "/block-outputs"): ("/block-outputs", None),
    ("DELETE", "/block-outputs/{rule_id}"): ("/block-outputs/run-failure-1", None),
    ("POST", "/executions/wait"): ("/executions/wait", {"user": "alice"}),
    ("GET", "/namespaces"): ("/namespaces", None),
    ("GET", "/users"): ("/users?search=ali", None),
    ("GET", "/users/{user}"): ("/users/alice", None),
    ("GET", "/executions"): ("/executions?userId=alice", None),
    ("POST", "/executions/{execution_id}/rerun"): ("/executions/execution-1/rerun", {"namespace": "dev"}),
}


@pytest.fixture
def control_state(emulator: Emulator) -> Emulator:
    """A user "alice" in dev who has run a workflow once (execution "execution-1"), a snapshot "snap", a fault
    "fault-1" and a run rule "run-failure-1" (which match nothing)."""
    dev = emulator.namespace_named("dev")
    alice = emulator.users.create(dev, "alice")
    shopify = emulator.installs.integration("Shopify")
    plan = emulator.installs.plan(dev, alice.user_id, shopify, [SYNC_CUSTOMERS], {}, create_missing_credentials=True)
    emulator.installs.install(dev, alice.user_id, plan)
    [run] = emulator.runner.run_event(dev, alice, "Customer Created", {})
    emulator.executions.record(dev, run._replace(execution_id="execution-1"))
    emulator.save_snapshot("snap")
    emulator.faults.add(FaultSpec(status=500, path="/never"), None)
    emulator.run_controls.add_failure(FailureSpec(workflow="no such workflow"), None)
    return emulator


@pytest.fixture
def lenient_client(emulator: Emulator) -> Iterator[TestClient]:
    """Like `client`, but a server error comes back as the 500 response instead of an exception."""
    with TestClient(create_app(emulator=emulator), raise_server_exceptions=False) as test_client:
        yield test_client


# -- admin token ----------------------------------------------------------------------------------


def test_the_valid_call_table_covers_every_control_endpoint() -> None:
    assert set(VALID_CALLS) == set(CONTROL_ENDPOINTS)


WRONG_AUTHORIZATIONS: list[dict[str, str]] = [
    {},
    {"Authorization": "Bearer wrong"},
    {"Authorization": f"Bearer {DEFAULT_DEV_KEY}"},
    {"Authorization": f"Bearer {DEFAULT_PROD_KEY}"},
    {"Authorization": DEFAULT_DEV_KEY},
    {"Authorization": ADMIN_TOKEN},  # the admin token without the Bearer scheme
    {"Authorization": f"Basic {ADMIN_TOKEN}"},
    {"Authorization": f"Bearer {ADMIN_TOKEN}x"},
    {"Authorization": "Bearer"},
    {"X-Admin-Token": ADMIN_TOKEN},
]


@pytest.mark.parametrize("settings", [PROTECTED], ids=["admin-token"])
@pytest.mark.parametrize(("method", "path"), CONTROL_ENDPOINTS, ids=ENDPOINT_IDS)
def test_admin_token_is_required_by_every_control_endpoint(
    client: TestClient, control_state: Emulator, method: str, path: str
) -> None:
    url, body = VALID_CALLS[(method, path)]
    for headers in WRONG_AUTHORIZATIONS:
        assert_error(ctl(client, method, url, body, headers=headers), 401, ADMIN_REQUIRED)


@pytest.mark.parametrize("settings", [PROTECTED], ids=["admin-token"])
@pytest.mark.parametrize(("method", "path"), CONTROL_ENDPOINTS, ids=ENDPOINT_IDS)
def test_admin_token_opens_every_control_endpoint(
    client: TestClient, control_state: Emulator, method: str, path: str
) -> None:
    url, body = VALID_CALLS[(method, path)]
    assert_ok(ctl(client, method, url, body, headers=ADMIN))


@pytest.mark.parametrize("settings", [PROTECTED], ids=["admin-token"])
def test_admin_token_scheme_is_case_insensitive(client: TestClient) -> None:
    assert_ok(ctl(client, "GET", "/clock", headers={"Authorization": f"bearer {ADMIN_TOKEN}"}))
    assert_ok(ctl(client, "GET", "/clock", headers={"Authorization": f"BEARER  {ADMIN_TOKEN} "}))


@pytest.mark.parametrize("settings", [PROTECTED], ids=["admin-token"])
def test_refused_control_calls_change_nothing(client: TestClient, control_state: Emulator) -> None:
    wrong = {"Authorization": f"Bearer {DEFAULT_DEV_KEY}"}
    assert_error(ctl(client, "POST", "/reset", {}, headers=wrong), 401, ADMIN_REQUIRED)
    assert_error(ctl(client, "POST", "/seed", {"users": [{"username": "eve"}]}, headers=wrong), 401)
    assert_error(ctl(client, "DELETE", "/faults", headers=wrong), 401)
    assert_error(ctl(client, "DELETE", "/snapshots/snap", headers=wrong), 401)
    assert_error(ctl(client, "POST", "/clock/freeze", {"at": 0}, headers=wrong), 401)
    assert usernames(client) == ["alice"]
    assert [f["id"] for f in assert_ok(ctl(client, "GET", "/faults", headers=ADMIN))["data"]] == ["fault-1"]
    assert assert_ok(ctl(client, "GET", "/snapshots", headers=ADMIN)) == {"data": [{"name": "snap"}]}
    assert assert_ok(ctl(client, "GET", "/clock", headers=ADMIN))["frozen"] is False


@pytest.mark.parametrize("settings", [PROTECTED], ids=["admin-token"])
def test_admin_token_does_not_open_the_vendor_api(client: TestClient) -> None:
    assert_error(client.get(f"{API}/users", headers=ADMIN), 401, "Unauthorized")
    assert_ok(client.get(f"{API}/users", headers=DEV), {"data": []})


@pytest.mark.parametrize(("method", "path"), CONTROL_ENDPOINTS, ids=ENDPOINT_IDS)
def test_control_api_is_open_without_an_admin_token(
    client: TestClient, control_state: Emulator, method: str, path: str
) -> None:
    url, body = VALID_CALLS[(method, path)]
    assert_ok(ctl(client, method, url, body))


@pytest.mark.parametrize("authorization", ["Bearer anything", f"Bearer {DEFAULT_DEV_KEY}", ADMIN_TOKEN])
def test_open_control_api_ignores_any_authorization(client: TestClient, authorization: str) -> None:
    assert_ok(ctl(client, "GET", "/clock", headers={"Authorization": authorization}))


def test_defaults_listen_on_localhost_without_an_admin_token() -> None:
    assert Settings().host == "127.0.0.1"
    assert Settings().admin_token is None
    loaded = Settings.load({}, env={})
    assert (loaded.host, loaded.admin_token) == ("127.0.0.1", None)


@pytest.mark.parametrize(
    ("flags", "env", "where"),
    [
        ({"admin_token": DEFAULT_DEV_KEY}, {}, "--admin-token"),
        ({"admin_token": DEFAULT_PROD_KEY}, {}, "--admin-token"),
        ({"admin_token": "k1", "dev_key": "k1"}, {}, "--admin-token"),
        ({"admin_token": "k2", "prod_key": "k2"}, {}, "--admin-token"),
        ({}, {"ALLOY_MOCK_ADMIN_TOKEN": DEFAULT_DEV_KEY}, "ALLOY_MOCK_ADMIN_TOKEN"),
        ({}, {"ALLOY_MOCK_ADMIN_TOKEN": " k3 ", "ALLOY_MOCK_PROD_KEY": "k3"}, "ALLOY_MOCK_ADMIN_TOKEN"),
    ],
    ids=["default-dev", "default-prod", "custom-dev", "custom-prod", "env", "env-stripped"],
)
def test_settings_refuse_an_admin_token_equal_to_an_api_key(
    flags: dict[str, str], env: dict[str, str], where: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.load(flags, env=env)
    assert str(raised.value) == f"{where}: must differ from every API key"


def test_settings_refuse_an_admin_token_equal_to_a_keys_file_key(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    keys.write_bytes(orjson.dumps({"accounts": [{"name": "acme", "devKey": "acme-dev", "prodKey": "acme-prod"}]}))
    with pytest.raises(ConfigError, match=r"^--admin-token: must differ from every API key$"):
        Settings.load({"keys_file": str(keys), "admin_token": "acme-prod"}, env={})
    loaded = Settings.load({"keys_file": str(keys), "admin_token": ADMIN_TOKEN}, env={})
    assert loaded.admin_token == ADMIN_TOKEN


def test_settings_accept_a_distinct_admin_token() -> None:
    assert Settings.load({"admin_token": ADMIN_TOKEN}, env={}).admin_token == ADMIN_TOKEN
    assert Settings.load({}, env={"ALLOY_MOCK_ADMIN_TOKEN": ADMIN_TOKEN}).admin_token == ADMIN_TOKEN


# -- reset ------------------------------------------------------------------------------------------


def test_full_reset_clears_data_faults_journal_and_clock(client: TestClient, make_user: MakeUser) -> None:
    make_user("alice")
    make_user("pat", headers=PROD)
    add_fault(client, {"status": 503, "path": "/never"})
    freeze(client, JAN_1_2024)
    assert journal(client)
    assert_ok(ctl(client, "POST", "/reset"), {"reset": "all"})
    assert faults(client) == []
    assert journal(client) == []
    state = clock(client)
    assert state["frozen"] is False
    assert abs(state["now"] - time.time()) < 60
    assert usernames(client) == []
    assert usernames(client, PROD) == []
    make_user("alice")  # the username index was emptied too


def test_full_reset_keeps_snapshots(client: TestClient, make_user: MakeUser) -> None:
    make_user("alice")
    assert_ok(ctl(client, "POST", "/snapshots", {"name": "base"}))
    assert_ok(ctl(client, "POST", "/reset", {}), {"reset": "all"})
    assert usernames(client) == []
    assert_ok(ctl(client, "POST", "/snapshots/base/restore"), {"restored": "base"})
    assert usernames(client) == ["alice"]


@pytest.mark.parametrize(
    ("name", "namespace_id", "emptied", "kept"),
    [
        ("dev", "default.dev", DEV, PROD),
        ("default.dev", "default.dev", DEV, PROD),
        ("prod", "default.prod", PROD, DEV),
        ("default.prod", "default.prod", PROD, DEV),
    ],
    ids=["dev", "default.dev", "prod", "default.prod"],
)
@pytest.mark.parametrize("where", ["body", "query"])
def test_reset_of_one_namespace(
    client: TestClient,
    make_user: MakeUser,
    name: str,
    namespace_id: str,
    emptied: dict[str, str],
    kept: dict[str, str],
    where: str,
) -> None:
    make_user("alice", headers=emptied)
    make_user("bob", headers=kept)
    fault = add_fault(client, {"status": 503, "path": "/never"})
    freeze(client, JAN_1_2024)
    entries = journal(client)
    if where == "body":
        response = ctl(client, "POST", "/reset", {"namespace": name})
    else:
        response = ctl(client, "POST", "/reset", params={"namespace": name})
    assert_ok(response, {"reset": namespace_id})
    assert journal(client) == entries
    assert faults(client) == [fault]
    assert clock(client) == {"now": JAN_1_2024, "iso": "2024-01-01T00:00:00.000Z", "frozen": True}
    assert usernames(client, emptied) == []
    assert usernames(client, kept) == ["bob"]
    make_user("alice", headers=emptied)


@pytest.mark.parametrize(
    "settings", [Settings(accounts=(Account("default", "dk", "pk"), Account("acme", "ak", "apk")))], ids=["acme"]
)
def test_reset_of_another_accounts_namespace(client: TestClient, make_user: MakeUser) -> None:
    acme = {"Authorization": "Bearer ak"}
    default_dev = {"Authorization": "Bearer dk"}
    make_user("alice", headers=acme)
    make_user("alice", headers=default_dev)
    assert_ok(ctl(client, "POST", "/reset", {"namespace": "acme.dev"}), {"reset": "acme.dev"})
    assert usernames(client, acme) == []
    assert usernames(client, default_dev) == ["alice"]


@pytest.mark.parametrize("name", ["nope", "default.staging", "other.dev", "staging", "", "default"])
def test_reset_of_an_unknown_namespace_is_404(client: TestClient, make_user: MakeUser, name: str) -> None:
    make_user("alice")
    assert_error(ctl(client, "POST", "/reset", {"namespace": name}), 404, UNKNOWN_NAMESPACE.format(name))
    assert usernames(client) == ["alice"]


@pytest.mark.parametrize("name", [5, True, ["dev"], {"env": "dev"}])
def test_reset_namespace_must_be_a_string(client: TestClient, name: Any) -> None:
    assert_error(
        ctl(client, "POST", "/reset", {"namespace": name}),
        400,
        "namespace must be a string such as 'dev', 'prod' or 'acme.dev'",
    )


def test_control_bodies_must_be_json_objects(client: TestClient) -> None:
    assert_error(ctl(client, "POST", "/reset", ["dev"]), 400, "The JSON body must be an object, not an array")
    assert_error(
        client.post("/_mock/reset", content=b"{", headers={"Content-Type": "application/json"}),
        400,
        prefix="Malformed JSON body",
    )


# -- seed -------------------------------------------------------------------------------------------


def test_seed_creates_users_with_and_without_fixed_ids(client: TestClient, emulator: Emulator) -> None:
    body = {"users": [{"username": "alice"}, {"username": "bob", "fullName": "Bob", "userId": FIXED_ID}]}
    answer = assert_ok(ctl(client, "POST", "/seed", body))
    assert answer["namespace"] == "default.dev"
    alice, bob = answer["data"]
    assert bob == {"userId": FIXED_ID, "username": "bob"}
    assert set(alice) == {"userId", "username"} and alice["username"] == "alice"
    assert len(alice["userId"]) == 24 and int(alice["userId"], 16) >= 0
    assert_ok(
        client.get(f"{API}/users/{FIXED_ID}", headers=DEV), {"userId": FIXED_ID, "username": "bob", "fullName": "Bob"}
    )
    assert_ok(client.get(f"{API}/users/alice", headers=DEV), alice)
    assert usernames(client, PROD) == []
    # Seeded users behave like any other: unique usernames, tokens.
    assert_error(client.post(f"{API}/users", json={"username": "bob"}, headers=DEV), 400, "User already exists")
    assert set(assert_ok(client.get(f"{API}/users/{FIXED_ID}/token", headers=DEV))) == {"token"}


def test_seed_into_prod(client: TestClient) -> None:
    answer = assert_ok(
        ctl(client, "POST", "/seed", {"namespace": "prod", "users": [{"username": "pat", "userId": FIXED_ID}]})
    )
    assert answer == {"namespace": "default.prod", "data": [{"userId": FIXED_ID, "username": "pat"}]}
    assert_ok(client.get(f"{API}/users/pat", headers=PROD), {"userId": FIXED_ID, "username": "pat"})
    assert_error(client.get(f"{API}/users/pat", headers=DEV), 404, "User not found")


def test_seed_with_no_users(client: TestClient) -> None:
    assert_ok(ctl(client, "POST", "/seed", {}), {"namespace": "default.dev", "data": []})
    assert_ok(ctl(client, "POST", "/seed", {"users": []}), {"namespace": "default.dev", "data": []})


def test_seed_into_an_unknown_namespace_is_404(client: TestClient) -> None:
    response = ctl(client, "POST", "/seed", {"namespace": "qa", "users": [{"username": "a"}]})
    assert_error(response, 404, UNKNOWN_NAMESPACE.format("qa"))


@pytest.mark.parametrize(
    ("users", "message"),
    [
        ({"username": "a"}, "users must be an array"),
        ("a", "users must be an array"),
        (["a"], "each user must be an object"),
        ([{}], "username is required"),
        ([{"username": ""}], "username must not be empty"),
        ([{"username": 5}], "username must be a string"),
        ([{"username": "a", "fullName": 5}], "fullName must be a string"),
        ([{"username": "a", "userId": "xyz"}], "userId must be a 24-character lowercase hex id"),
        ([{"username": "a", "userId": FIXED_ID.upper()}], "userId must be a 24-character lowercase hex id"),
        ([{"username": "a", "userId": FIXED_ID[:-1]}], "userId must be a 24-character lowercase hex id"),
        ([{"username": "a", "userId": FIXED_ID + "0"}], "userId must be a 24-character lowercase hex id"),
        ([{"username": "a", "userId": 123}], "userId must be a 24-character lowercase hex id"),
    ],
)
def test_seed_rejects_bad_input(client: TestClient, users: Any, message: str) -> None:
    """Each message names the item at fault (users[0] here)."""
    if message == "each user must be an object":
        expected = "users[0] must be an object"
    elif message.startswith("users must"):
        expected = message  # about the whole list, not an item
    else:
        expected = f"users[0]: {message}"
    assert_error(ctl(client, "POST", "/seed", {"users": users}), 400, expected)
    assert usernames(client) == []


def test_seed_duplicate_of_an_existing_user_is_400(client: TestClient, make_user: MakeUser) -> None:
    taken = make_user("taken")
    assert_error(
        ctl(client, "POST", "/seed", {"users": [{"username": "taken"}]}), 400, "users[0]: User already exists ('taken')"
    )
    assert_error(
        ctl(client, "POST", "/seed", {"users": [{"username": "other", "userId": taken}]}),
        400,
        f"users[0]: a user with id {taken} already exists",
    )
    assert usernames(client) == ["taken"]


@pytest.mark.parametrize(
    ("failing", "message"),
    [
        ({"username": "taken"}, "users[1]: User already exists ('taken')"),
        ({"username": "fresh"}, "users[1]: User already exists ('fresh')"),  # the same username earlier in the seed
        # the same userId earlier in the seed
        ({"username": "other", "userId": FIXED_ID}, f"users[1]: a user with id {FIXED_ID} already exists"),
        ({"username": "other", "userId": "xyz"}, "users[1]: userId must be a 24-character lowercase hex id"),
        ({"fullName": "no username"}, "users[1]: username is required"),
        ("not an object", "users[1] must be an object"),
    ],
    ids=["existing-username", "repeated-username", "repeated-user-id", "bad-user-id", "no-username", "not-object"],
)
def test_a_failing_seed_creates_nothing(client: TestClient, make_user: MakeUser, failing: Any, message: str) -> None:
    """The whole seed is refused: items before the failing one must not stay created."""
    make_user("taken")
    body = {"users": [{"username": "fresh", "userId": FIXED_ID}, failing]}
    assert_error(ctl(client, "POST", "/seed", body), 400, message)
    assert usernames(client) == ["taken"]
    assert_error(client.get(f"{API}/users/{FIXED_ID}", headers=DEV), 404, "User not found")


# -- snapshots --------------------------------------------------------------------------------------


def test_snapshot_save_list_restore_delete(client: TestClient, make_user: MakeUser) -> None:
    assert_ok(ctl(client, "GET", "/snapshots"), {"data": []})
    alice = make_user("alice")
    bob = make_user("bob", "Bob")
    pat = make_user("pat", headers=PROD)
    assert_ok(ctl(client, "POST", "/snapshots", {"name": "base"}), {"name": "base"})
    assert_ok(ctl(client, "POST", "/snapshots", {"name": "other"}), {"name": "other"})
    assert_ok(ctl(client, "GET", "/snapshots"), {"data": [{"name": "base"}, {"name": "other"}]})

    # Change everything: delete, create, rename, and the other namespace.
    assert_ok(client.delete(f"{API}/users/{bob}", headers=DEV), {"success": True})
    carol = make_user("carol")
    assert_ok(client.put(f"{API}/users/{alice}", json={"username": "alice2"}, headers=DEV))
    assert_ok(client.delete(f"{API}/users/{pat}", headers=PROD), {"success": True})
    make_user("quinn", headers=PROD)

    assert_ok(ctl(client, "POST", "/snapshots/base/restore"), {"restored": "base"})
    assert usernames(client) == ["alice", "bob"]
    assert usernames(client, PROD) == ["pat"]
    assert_ok(client.get(f"{API}/users/{bob}", headers=DEV), {"userId": bob, "username": "bob", "fullName": "Bob"})
    # The username index follows the restored data.
    assert_ok(client.get(f"{API}/users/alice", headers=DEV), {"userId": alice, "username": "alice"})
    assert_ok(client.get(f"{API}/users/bob", headers=DEV), {"userId": bob, "username": "bob", "fullName": "Bob"})
    assert_error(client.get(f"{API}/users/alice2", headers=DEV), 404, "User not found")
    assert_error(client.get(f"{API}/users/carol", headers=DEV), 404, "User not found")
    assert_error(client.get(f"{API}/users/{carol}", headers=DEV), 404, "User not found")
    assert_error(client.get(f"{API}/users/quinn", headers=PROD), 404, "User not found")
    assert_error(client.post(f"{API}/users", json={"username": "alice"}, headers=DEV), 400, "User already exists")
    assert_error(client.post(f"{API}/users", json={"username": "pat"}, headers=PROD), 400, "User already exists")
    make_user("alice2")
    make_user("carol")
    make_user("quinn", headers=PROD)

    # A snapshot can be restored again (restoring does not use it up).
    assert_ok(ctl(client, "POST", "/snapshots/base/restore"), {"restored": "base"})
    assert usernames(client) == ["alice", "bob"]

    assert_ok(ctl(client, "DELETE", "/snapshots/base"), {"deleted": True})
    assert_ok(ctl(client, "GET", "/snapshots"), {"data": [{"name": "other"}]})
    assert_error(ctl(client, "POST", "/snapshots/base/restore"), 404, "No snapshot named 'base'")
    assert_error(ctl(client, "DELETE", "/snapshots/base"), 404, "No snapshot named 'base'")


def test_snapshot_is_a_copy(client: TestClient, make_user: MakeUser) -> None:
    """Changes after saving do not leak into the snapshot, and restoring twice gives the same state."""
    assert_ok(ctl(client, "POST", "/snapshots", {"name": "empty"}))
    make_user("alice")
    assert_ok(ctl(client, "POST", "/snapshots/empty/restore"))
    assert usernames(client) == []
    make_user("alice")
    assert_ok(ctl(client, "POST", "/snapshots", {"name": "empty"}))  # the same name replaces the snapshot
    assert_ok(ctl(client, "GET", "/snapshots"), {"data": [{"name": "empty"}]})
    assert_ok(ctl(client, "POST", "/reset"))
    assert_ok(ctl(client, "POST", "/snapshots/empty/restore"))
    assert usernames(client) == ["alice"]


def test_unknown_snapshot_is_404(client: TestClient) -> None:
    assert_error(ctl(client, "POST", "/snapshots/nope/restore"), 404, "No snapshot named 'nope'")
    assert_error(ctl(client, "DELETE", "/snapshots/nope"), 404, "No snapshot named 'nope'")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "name is required"),
        ({"name": None}, "name is required"),
        ({"name": 5}, "name is required"),
        ({"name": ["a"]}, "name is required"),
        ({"name": ""}, "a snapshot needs a name of 1 to 200 characters"),
        ({"name": "x" * 201}, "a snapshot needs a name of 1 to 200 characters"),
    ],
)
def test_snapshot_needs_a_name(client: TestClient, body: dict[str, Any], message: str) -> None:
    assert_error(ctl(client, "POST", "/snapshots", body), 400, message)
    assert_ok(ctl(client, "GET", "/snapshots"), {"data": []})


@pytest.mark.parametrize("name", ["before test", "a/b", "100%", "é"])
def test_snapshot_names_round_trip_through_the_url(client: TestClient, make_user: MakeUser, name: str) -> None:
    """A name the API accepted on save can be restored and deleted by its percent-encoded path segment."""
    make_user("alice")
    assert_ok(ctl(client, "POST", "/snapshots", {"name": name}), {"name": name})
    make_user("bob")
    assert_ok(ctl(client, "POST", f"/snapshots/{quote(name, safe='')}/restore"), {"restored": name})
    assert usernames(client) == ["alice"]
    assert_ok(ctl(client, "DELETE", f"/snapshots/{quote(name, safe='')}"), {"deleted": True})
    assert_ok(ctl(client, "GET", "/snapshots"), {"data": []})


# -- request journal --------------------------------------------------------------------------------


def test_journal_records_vendor_calls_only(client: TestClient) -> None:
    for path in ["/health", "/", "/.well-known/jwks.json", "/_mock", "/_mock/clock", "/_mock/requests"]:
        assert client.get(path).status_code == 200, path
    assert client.get("/2022-01/users", headers=DEV).status_code == 404  # not a served version
    assert_ok(ctl(client, "POST", "/seed", {"users": [{"username": "alice"}]}))
    assert journal(client) == []
    assert_ok(client.get(f"{API}/users", headers=DEV))
    assert [(e["method"], e["path"]) for e in journal(client)] == [("GET", f"{API}/users")]


def test_journal_entry_fields(client: TestClient) -> None:
    freeze(client, JAN_1_2024)
    response = client.post(f"{API}/users?trace=1", json={"username": "jo", "fullName": "Jo"}, headers=DEV)
    user_id = assert_ok(response)["userId"]
    (entry,) = journal(client)
    assert set(entry) == {
        "id",
        "time",
        "method",
        "path",
        "query",
        "namespace",
        "status",
        "durationMs",
        "headers",
        "requestBody",
        "responseBody",
        "fault",
        "connectionFault",
    }
    assert isinstance(entry["id"], int)
    assert entry.pop("headers")["content-type"] == "application/json"  # the rest: tests/test_journal.py
    assert isinstance(entry["durationMs"], float | int) and entry["durationMs"] >= 0
    assert {k: v for k, v in entry.items() if k not in ("id", "durationMs")} == {
        "time": "2024-01-01T00:00:00.000Z",
        "method": "POST",
        "path": f"{API}/users",
        "query": "trace=1",
        "namespace": "default.dev",
        "status": 200,
        "requestBody": {"username": "jo", "fullName": "Jo"},
        "responseBody": {"userId": user_id},
        "fault": None,
        "connectionFault": None,
    }


def test_journal_records_errors_and_the_normalized_path(client: TestClient) -> None:
    assert_error(client.get(f"{API}//users/nobody/", headers=DEV), 404, "User not found")
    assert_error(client.get(f"{API}/users", headers={"Authorization": "Bearer not-a-key"}), 401)
    assert_error(
        client.post(f"{API}/users", content=b"hello", headers={**DEV, "Content-Type": "text/plain"}),
        415,
        "Content-Type must be application/json, not text/plain",
    )
    first, second, third = journal(client)
    assert (first["path"], first["status"], first["namespace"]) == (f"{API}/users/nobody", 404, "default.dev")
    assert first["responseBody"] == {"message": "User not found"}
    assert first["requestBody"] is None
    assert (second["status"], second["namespace"]) == (401, None)
    assert third["requestBody"] == "hello"  # not JSON: kept as text
    assert third["responseBody"] == {"message": "Content-Type must be application/json, not text/plain"}


@pytest.fixture
def five_requests(client: TestClient, make_user: MakeUser) -> list[int]:
    """Five journal entries of different kinds; returns their ids."""
    make_user("alice")  # 1: POST dev 200
    assert_ok(client.get(f"{API}/users/alice", headers=DEV))  # 2: GET dev 200
    assert_error(client.get(f"{API}/users/nobody", headers=DEV), 404)  # 3: GET dev 404
    assert_ok(client.get("/2024-03/users", headers=PROD))  # 4: GET prod 200
    assert_error(client.get(f"{API}/users"), 401)  # 5: GET no namespace 401
    ids = [entry["id"] for entry in journal(client)]
    assert len(ids) == 5 and ids == sorted(ids)
    return ids


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, [1, 2, 3, 4, 5]),
        ({"method": "GET"}, [2, 3, 4, 5]),
        ({"method": "post"}, [1]),
        ({"method": "DELETE"}, []),
        ({"path": f"{API}/users/*"}, [2, 3]),
        ({"path": "*/users"}, [1, 4, 5]),
        ({"path": "/2024-03/*"}, [4]),
        ({"path": f"{API}/users/alice"}, [2]),
        ({"namespace": "dev"}, [1, 2, 3]),
        ({"namespace": "default.dev"}, [1, 2, 3]),
        ({"namespace": "prod"}, [4]),
        ({"namespace": "default.prod"}, [4]),
        ({"status": 200}, [1, 2, 4]),
        ({"status": 404}, [3]),
        ({"status": 401}, [5]),
        ({"since": 3}, [4, 5]),
        ({"since": 5}, []),
        ({"limit": 2}, [4, 5]),
        ({"limit": 10}, [1, 2, 3, 4, 5]),
        ({"method": "GET", "namespace": "dev", "status": 200}, [2]),
        ({"method": "GET", "since": 1, "limit": 1}, [5]),
        ({"method": "", "path": "", "namespace": ""}, [1, 2, 3, 4, 5]),  # empty values are no filter
    ],
)
def test_journal_filters(
    client: TestClient, five_requests: list[int], params: dict[str, Any], expected: list[int]
) -> None:
    base = five_requests[0] - 1
    if "since" in params:
        params = {**params, "since": base + params["since"]}
    assert [entry["id"] - base for entry in journal(client, **params)] == expected


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"status": "abc"}, 400, "status must be a whole number"),
        ({"status": " 404"}, 400, "status must be a whole number"),
        ({"status": "-1"}, 400, "status must be a whole number"),
        ({"since": "x"}, 400, "since must be a whole number"),
        ({"limit": "-1"}, 400, "limit must be a whole number"),
        ({"limit": "1.5"}, 400, "limit must be a whole number"),
        # str.isdigit() takes these, int() reads some of them: only ASCII digits are numbers here
        ({"limit": "\u00b2"}, 400, "limit must be a whole number"),
        ({"since": "\u00b2"}, 400, "since must be a whole number"),
        ({"status": "\u0664\u0660\u0664"}, 400, "status must be a whole number"),  # Arabic-Indic 404
        ({"limit": "\uff15"}, 400, "limit must be a whole number"),  # fullwidth 5
        ({"since": "1" * 19}, 400, "since must be a whole number"),
        ({"namespace": "nope"}, 404, UNKNOWN_NAMESPACE.format("nope")),
    ],
)
def test_journal_bad_filters(client: TestClient, params: dict[str, str], status: int, message: str) -> None:
    if status == 400:
        message += " written with the digits 0-9"
    assert_error(ctl(client, "GET", "/requests", params=params), status, message)


def test_journal_returns_the_newest_100_by_default(client: TestClient) -> None:
    for _ in range(120):
        client.get(f"{API}/users", headers=DEV)
    entries = journal(client)
    assert len(entries) == 100
    assert [e["id"] for e in entries] == list(range(21, 121))
    assert len(journal(client, limit=150)) == 120


def test_journal_clips_a_large_request_body_at_64_kib(client: TestClient) -> None:
    raw = orjson.dumps({"username": "x" * 70_000})
    response = client.post(f"{API}/users", content=raw, headers={**DEV, "Content-Type": "application/json"})
    assert_error(response, 400, "username must be at most 1024 characters")
    (entry,) = journal(client)
    assert BODY_LIMIT == 64 * 1024
    assert entry["requestBody"] == raw[:BODY_LIMIT].decode()  # cut, so no longer JSON: kept as text
    assert entry["responseBody"] == {"message": "username must be at most 1024 characters"}


def test_journal_clips_a_large_response_body_at_64_kib(client: TestClient) -> None:
    users = [{"username": f"user-{i:03d}", "fullName": "n" * 1000} for i in range(100)]
    assert_ok(ctl(client, "POST", "/seed", {"users": users}))
    response = client.get(f"{API}/users", headers=DEV)
    assert len(response.content) > BODY_LIMIT
    (entry,) = journal(client)
    assert entry["status"] == 200
    assert entry["responseBody"] == response.content[:BODY_LIMIT].decode()


def test_journal_labels_user_token_requests(client: TestClient, make_user: MakeUser) -> None:
    make_user("alice")
    token = mint(client, user="alice")["token"]
    assert_ok(ctl(client, "DELETE", "/requests"))
    assert_ok(integrations_as(client, token))
    (entry,) = journal(client)
    assert (entry["path"], entry["namespace"], entry["status"]) == ("/2024-03/integrations", "user-token", 200)


def test_journal_filters_on_user_token_requests(client: TestClient, make_user: MakeUser) -> None:
    make_user("alice")
    token = mint(client, user="alice")["token"]
    assert_ok(ctl(client, "DELETE", "/requests"))
    assert_ok(integrations_as(client, token))
    assert_ok(client.get("/2024-03/integrations", params={"userId": "alice"}, headers=DEV))
    (entry,) = journal(client, namespace="user-token")
    assert (entry["path"], entry["query"], entry["namespace"]) == ("/2024-03/integrations", "", "user-token")
    (entry,) = journal(client, namespace="dev")
    assert entry["query"] == "userId=alice"


def test_fault_scoped_to_user_token_requests(client: TestClient, make_user: MakeUser) -> None:
    make_user("alice")
    token = mint(client, user="alice")["token"]
    fault = assert_ok(
        ctl(client, "POST", "/faults", {"path": "/integrations", "status": 503, "namespace": "user-token"})
    )
    assert fault["namespace"] == "user-token"
    assert_ok(client.get("/2024-03/integrations", params={"userId": "alice"}, headers=DEV))  # an API key: not matched
    assert_error(integrations_as(client, token), 503)
    assert_ok(integrations_as(client, token))  # spent


def test_journal_labels_by_the_api_key_whatever_the_header_order(client: TestClient, make_user: MakeUser) -> None:
    """With both an API key and a user token, the API key decides (as the handlers do), so the label must too."""
    make_user("alice")
    token = mint(client, user="alice")["token"]
    assert_ok(ctl(client, "DELETE", "/requests"))
    for headers in ({**DEV, USER_TOKEN: token}, {USER_TOKEN: token, **DEV}):
        assert_ok(client.get(f"{API}/users", headers=headers))
    assert [e["namespace"] for e in journal(client)] == ["default.dev", "default.dev"]


@pytest.mark.parametrize("settings", [Settings(journal_size=5)], ids=["journal-5"])
def test_journal_is_bounded(client: TestClient) -> None:
    for i in range(7):
        client.get(f"{API}/users/u{i}", headers=DEV)
    entries = assert_ok(ctl(client, "GET", "/requests"))
    assert entries["recording"] is True
    assert [e["path"] for e in entries["data"]] == [f"{API}/users/u{i}" for i in range(2, 7)]


@pytest.mark.parametrize("settings", [Settings(journal_size=0)], ids=["journal-off"])
def test_journal_size_zero_records_nothing(client: TestClient) -> None:
    client.get(f"{API}/users", headers=DEV)
    assert_ok(ctl(client, "GET", "/requests"), {"data": [], "recording": False})
    # Faults still apply with the journal off.
    add_fault(client, {"status": 503})
    assert_error(client.get(f"{API}/users", headers=DEV), 503, "Service Unavailable")
    assert_ok(ctl(client, "GET", "/requests"), {"data": [], "recording": False})


def test_journal_delete_clears(client: TestClient) -> None:
    client.get(f"{API}/users", headers=DEV)
    assert len(journal(client)) == 1
    assert_ok(ctl(client, "DELETE", "/requests"), {"cleared": True})
    assert_ok(ctl(client, "GET", "/requests"), {"data": [], "recording": True})
    client.get(f"{API}/users", headers=DEV)
    assert len(journal(client)) == 1


# -- faults -----------------------------------------------------------------------------------------


def test_fault_answers_the_next_n_matching_requests_then_normal(client: TestClient) -> None:
    spec = {"method": "POST", "path": "/users", "times": 2, "status": 429, "headers": {"Retry-After": "1"}}
    assert_ok(
        ctl(client, "POST", "/faults", spec),
        {
            "id": "fault-1",
            "method": "POST",
            "path": "/users",
            "namespace": None,
            "status": 429,
            "body": {"message": "Rate limit exceeded"},
            "headers": {"Retry-After": "1"},
            "delayMs": 0,
            "connectionFault": None,
            "chunkedDribbleDelay": None,
            "bodyContains": None,
            "probability": 1.0,
            "seed": None,
            "remaining": 2,
            "hits": 0,
        },
    )
    assert_ok(client.get(f"{API}/users", headers=DEV), {"data": []})  # another method: not matched
    first = client.post(f"{API}/users", json={"username": "a"}, headers=DEV)
    assert_error(first, 429, "Rate limit exceeded")
    assert first.headers["retry-after"] == "1"
    (listed,) = faults(client)
    assert (listed["remaining"], listed["hits"]) == (1, 1)
    assert_error(client.post("/2024-03/users", json={"username": "a"}, headers=PROD), 429, "Rate limit exceeded")
    assert faults(client) == []  # spent
    created = client.post(f"{API}/users", json={"username": "a"}, headers=DEV)
    assert_ok(created)
    assert "retry-after" not in created.headers
    assert usernames(client) == ["a"]
    assert usernames(client, PROD) == []


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (429, "Rate limit exceeded"),
        (503, "Service Unavailable"),
        (500, "Internal Server Error"),
        (502, "Bad Gateway"),
        (401, "Unauthorized"),
        (599, "Error 599"),
    ],
)
def test_fault_default_body(client: TestClient, status: int, message: str) -> None:
    assert add_fault(client, {"status": status})["body"] == {"message": message}
    assert_error(client.get(f"{API}/users", headers=DEV), status, message)


@pytest.mark.parametrize("body", [{"error": "boom", "code": 7}, "plain text", [1, 2], 0, False])
def test_fault_custom_body(client: TestClient, body: Any) -> None:
    add_fault(client, {"status": 500, "body": body, "headers": {"X-Trace": "t1", "Retry-After": "30"}})
    response = client.get(f"{API}/users", headers=DEV)
    assert response.status_code == 500, show(response)
    assert response.headers["content-type"] == "application/json"
    assert response.json() == body
    assert (response.headers["x-trace"], response.headers["retry-after"]) == ("t1", "30")


def test_fault_method_star_and_defaults_match_everything_once(client: TestClient, make_user: MakeUser) -> None:
    alice = make_user("alice")
    fault = add_fault(client, {"status": 500, "times": 3})
    assert (fault["method"], fault["path"], fault["remaining"]) == ("*", "*", 3)
    assert_error(client.get(f"{API}/users", headers=DEV), 500)
    assert_error(client.delete(f"{API}/users/{alice}", headers=DEV), 500)
    assert_error(client.get(f"/2023-01/users/{alice}/token", headers=PROD), 500)
    assert_ok(client.get(f"{API}/users/{alice}", headers=DEV))  # still there: the DELETE never ran


def test_fault_path_globs(client: TestClient, make_user: MakeUser) -> None:
    alice = make_user("alice")
    add_fault(client, {"method": "*", "path": "/users/*/token", "status": 503, "times": None})
    assert_error(client.get(f"{API}/users/{alice}/token", headers=DEV), 503, "Service Unavailable")
    assert_error(client.get(f"/2024-03/users/{alice}/token", headers=DEV), 503)
    assert_ok(client.get(f"{API}/users/{alice}", headers=DEV))
    assert_ok(client.get(f"{API}/user/{alice}/token", headers=DEV))  # the singular spelling does not match
    assert_ok(client.get(f"{API}/users", headers=DEV))


def test_fault_path_without_a_leading_slash_and_lowercase_method(client: TestClient) -> None:
    fault = add_fault(client, {"method": "post", "path": "users", "status": 500})
    assert (fault["method"], fault["path"]) == ("POST", "/users")
    assert_error(client.post(f"{API}/users", json={"username": "a"}, headers=DEV), 500)


@pytest.mark.parametrize("where", ["body", "query"])
def test_fault_scoped_to_a_namespace(client: TestClient, where: str) -> None:
    spec = {"path": "/users", "status": 503, "times": None}
    if where == "body":
        fault = assert_ok(ctl(client, "POST", "/faults", {**spec, "namespace": "prod"}))
    else:
        fault = assert_ok(ctl(client, "POST", "/faults", spec, params={"namespace": "prod"}))
    assert fault["namespace"] == "default.prod"
    for _ in range(3):
        assert_ok(client.get(f"{API}/users", headers=DEV))
    assert_error(client.get(f"{API}/users", headers=PROD), 503)
    assert_error(client.get(f"{API}/users"), 401)  # no API key: no namespace, not faulted
    (listed,) = faults(client)
    assert (listed["remaining"], listed["hits"]) == (None, 1)


def test_fault_until_cleared(client: TestClient) -> None:
    fault = add_fault(client, {"path": "/users", "status": 500, "times": None})
    for _ in range(5):
        assert_error(client.get(f"{API}/users", headers=DEV), 500)
    (listed,) = faults(client)
    assert listed == {**fault, "hits": 5}
    assert listed["remaining"] is None
    assert_ok(ctl(client, "DELETE", f"/faults/{fault['id']}"), {"deleted": True})
    assert_ok(client.get(f"{API}/users", headers=DEV))


def test_delay_only_fault_then_normal_answer(client: TestClient) -> None:
    fault = add_fault(client, {"method": "GET", "path": "/users", "delayMs": 50})
    assert (fault["status"], fault["body"], fault["delayMs"], fault["remaining"]) == (None, None, 50, 1)
    assert_ok(client.get(f"{API}/users", headers=DEV), {"data": []})
    assert_ok(client.get(f"{API}/users", headers=DEV), {"data": []})
    slow, normal = journal(client)
    assert (slow["status"], slow["fault"], slow["responseBody"]) == (200, fault["id"], {"data": []})
    assert slow["durationMs"] >= 50
    assert normal["fault"] is None
    assert faults(client) == []


def test_delay_and_status_together(client: TestClient) -> None:
    fault = add_fault(client, {"path": "/users", "delayMs": 20, "status": 503})
    assert_error(client.get(f"{API}/users", headers=DEV), 503, "Service Unavailable")
    (entry,) = journal(client)
    assert (entry["status"], entry["fault"]) == (503, fault["id"])
    assert entry["durationMs"] >= 20


def test_faults_listed_in_order_and_first_match_wins(client: TestClient) -> None:
    first = add_fault(client, {"path": "/users", "status": 500})
    second = add_fault(client, {"path": "/users", "status": 503})
    other = add_fault(client, {"path": "/integrations", "status": 502, "namespace": "dev"})
    assert faults(client) == [first, second, other]
    assert [f["id"] for f in (first, second, other)] == ["fault-1", "fault-2", "fault-3"]
    assert_error(client.get(f"{API}/users", headers=DEV), 500)
    assert_error(client.get(f"{API}/users", headers=DEV), 503)
    assert_ok(client.get(f"{API}/users", headers=DEV))
    assert faults(client) == [other]


def test_delete_one_fault_and_all(client: TestClient) -> None:
    one = add_fault(client, {"status": 500, "path": "/a"})
    two = add_fault(client, {"status": 500, "path": "/b"})
    add_fault(client, {"status": 500, "path": "/c"})
    assert_ok(ctl(client, "DELETE", f"/faults/{one['id']}"), {"deleted": True})
    assert [f["id"] for f in faults(client)] == [two["id"], "fault-3"]
    assert_error(ctl(client, "DELETE", f"/faults/{one['id']}"), 404, f"No fault {one['id']!r}")
    assert_error(ctl(client, "DELETE", "/faults/nope"), 404, "No fault 'nope'")
    assert_ok(ctl(client, "DELETE", "/faults"), {"cleared": True})
    assert faults(client) == []
    assert_ok(ctl(client, "DELETE", "/faults"), {"cleared": True})
    assert add_fault(client, {"status": 500})["id"] == "fault-4"  # ids are not reused


EVERY_VERSION = "; a fault matches that path under every version"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"status": 99}, "status must be a final HTTP status code (200-599)"),
        ({"status": 100}, "status must be a final HTTP status code (200-599)"),
        ({"status": 199}, "status must be a final HTTP status code (200-599)"),
        ({"status": 204, "body": {"message": "x"}}, "a 204 answer has no body"),
        ({"status": 304, "body": ""}, "a 304 answer has no body"),
        ({"status": 600}, "status must be a final HTTP status code (200-599)"),
        ({"status": "x"}, "status must be a final HTTP status code (200-599)"),
        ({"status": "500"}, "status must be a final HTTP status code (200-599)"),
        ({"status": 500.0}, "status must be a final HTTP status code (200-599)"),
        ({"status": True}, "status must be a final HTTP status code (200-599)"),
        ({"status": 500, "delayMs": -1}, "delayMs must be a whole number of milliseconds from 0 to 60000"),
        ({"status": 500, "delayMs": 60_001}, "delayMs must be a whole number of milliseconds from 0 to 60000"),
        ({"status": 500, "delayMs": 1.5}, "delayMs must be a whole number of milliseconds from 0 to 60000"),
        ({"status": 500, "delayMs": "5"}, "delayMs must be a whole number of milliseconds from 0 to 60000"),
        ({"status": 500, "delayMs": None}, "delayMs must be a whole number of milliseconds from 0 to 60000"),
        ({"status": 500, "times": 0}, "times must be a positive whole number, or null for every matching request"),
        ({"status": 500, "times": -2}, "times must be a positive whole number, or null for every matching request"),
        ({"status": 500, "times": "2"}, "times must be a positive whole number, or null for every matching request"),
        ({"status": 500, "times": 1.5}, "times must be a positive whole number, or null for every matching request"),
        ({"status": 500, "times": True}, "times must be a positive whole number, or null for every matching request"),
        ({}, "give a status, a delayMs, a connectionFault or a chunkedDribbleDelay"),
        ({"delayMs": 0}, "give a status, a delayMs, a connectionFault or a chunkedDribbleDelay"),
        ({"path": "/users"}, "give a status, a delayMs, a connectionFault or a chunkedDribbleDelay"),
        ({"status": 500, "headers": {"Retry-After": 1}}, "headers must be an object of strings"),
        ({"status": 500, "headers": {"X": None}}, "headers must be an object of strings"),
        ({"status": 500, "headers": ["Retry-After: 1"]}, "headers must be an object of strings"),
        ({"status": 500, "headers": "Retry-After: 1"}, "headers must be an object of strings"),
        ({"status": 500, "path": ""}, "method and path must be strings"),
        ({"status": 500, "path": 5}, "method and path must be strings"),
        ({"status": 500, "method": 5}, "method and path must be strings"),
        ({"status": 500, "method": None}, "method and path must be strings"),
        (
            {"status": 500, "path": "/2023-12/users"},
            "path: give the path after the version prefix ('/users', not '/2023-12/users')" + EVERY_VERSION,
        ),
        (
            {"status": 500, "path": "2024-03/users/*/token"},
            "path: give the path after the version prefix ('/users/*/token', not '2024-03/users/*/token')"
            + EVERY_VERSION,
        ),
        (
            {"status": 500, "path": "/2023-12"},
            "path: give the path after the version prefix ('/', not '/2023-12')" + EVERY_VERSION,
        ),
        (
            {"status": 500, "namespace": 5},
            "namespace must be a string such as 'dev', 'prod', 'acme.dev' or 'user-token'",
        ),
    ],
)
def test_fault_validation(client: TestClient, spec: dict[str, Any], message: str) -> None:
    assert_error(ctl(client, "POST", "/faults", spec), 400, message)
    assert faults(client) == []


@pytest.mark.parametrize("status", [204, 304])
def test_fault_without_a_body_status_answers_without_a_body(serve: Callable[..., ServerProcess], status: int) -> None:
    """Over a real server, whose HTTP layer would refuse a body on these statuses."""
    server = serve()
    with server.client() as http:
        added = http.post("/_mock/faults", json={"path": "/users", "status": status, "headers": {"X-Fault": "yes"}})
        assert added.status_code == 200, added.text
        assert added.json()["body"] is None
        faulted = http.get(f"{API}/users", headers=DEV)
        assert (faulted.status_code, faulted.content, faulted.headers["x-fault"]) == (status, b"", "yes")
        assert "content-type" not in faulted.headers
        assert http.get(f"{API}/users", headers=DEV).json() == {"data": []}  # the connection still works


def test_fault_in_an_unknown_namespace_is_404(client: TestClient) -> None:
    assert_error(
        ctl(client, "POST", "/faults", {"status": 500, "namespace": "qa"}), 404, UNKNOWN_NAMESPACE.format("qa")
    )
    assert faults(client) == []


def test_faulted_request_is_journaled_with_its_fault(client: TestClient) -> None:
    fault = add_fault(client, {"method": "POST", "path": "/users", "status": 429, "headers": {"Retry-After": "2"}})
    assert_error(client.post(f"{API}/users", json={"username": "a"}, headers=DEV), 429)
    (entry,) = journal(client)
    assert entry["fault"] == fault["id"]
    assert (entry["method"], entry["path"], entry["namespace"], entry["status"]) == (
        "POST",
        f"{API}/users",
        "default.dev",
        429,
    )
    assert entry["responseBody"] == {"message": "Rate limit exceeded"}
    assert journal(client, status=429) == [entry]


def test_faulted_request_body_is_journaled(client: TestClient) -> None:
    """A client retrying after a 429 should be able to check what it sent the first time."""
    add_fault(client, {"method": "POST", "path": "/users", "status": 429})
    assert_error(client.post(f"{API}/users", json={"username": "a"}, headers=DEV), 429)
    (entry,) = journal(client)
    assert entry["requestBody"] == {"username": "a"}


def test_refused_request_body_is_journaled(client: TestClient) -> None:
    """A request refused before its handler reads the body (no API key) still shows what was sent."""
    assert_error(client.post(f"{API}/users", json={"username": "a"}), 401)
    (entry,) = journal(client)
    assert entry["requestBody"] == {"username": "a"}


def test_faulted_create_creates_nothing(client: TestClient) -> None:
    add_fault(client, {"method": "POST", "path": "/users", "status": 503})
    assert_error(client.post(f"{API}/users", json={"username": "a"}, headers=DEV), 503)
    assert usernames(client) == []
    add_fault(client, {"method": "POST", "path": "/users/batch", "status": 500})
    assert_error(client.post(f"{API}/users/batch", json={"users": [{"username": "b"}]}, headers=DEV), 500)
    assert usernames(client) == []


def test_faults_never_hit_the_control_api_or_health(client: TestClient) -> None:
    add_fault(client, {"method": "*", "path": "*", "status": 500, "times": None})
    assert_ok(client.get("/health"))
    assert_ok(client.get("/"))
    assert_ok(ctl(client, "GET", "/clock"))
    assert len(faults(client)) == 1
    assert faults(client)[0]["hits"] == 0
    assert_ok(ctl(client, "DELETE", "/faults"), {"cleared": True})
    assert_ok(client.get(f"{API}/users", headers=DEV))


# -- clock ------------------------------------------------------------------------------------------


def test_clock_reads_the_system_time_by_default(client: TestClient) -> None:
    before = time.time()
    state = clock(client)
    after = time.time()
    assert set(state) == {"now", "iso", "frozen"}
    assert state["frozen"] is False
    assert before <= state["now"] <= after
    assert state["iso"] == iso_time(state["now"])


@pytest.mark.parametrize(
    ("at", "now", "iso"),
    [
        ("2024-01-01T00:00:00Z", JAN_1_2024, "2024-01-01T00:00:00.000Z"),
        ("2024-01-01T00:00:00.250Z", JAN_1_2024 + 0.25, "2024-01-01T00:00:00.250Z"),
        ("2024-01-01T02:00:00+02:00", JAN_1_2024, "2024-01-01T00:00:00.000Z"),
        ("2024-01-01T00:00:00+00:00", JAN_1_2024, "2024-01-01T00:00:00.000Z"),
        (1_700_000_000, 1_700_000_000.0, "2023-11-14T22:13:20.000Z"),
        (1_700_000_000.5, 1_700_000_000.5, "2023-11-14T22:13:20.500Z"),
        (0, 0.0, "1970-01-01T00:00:00.000Z"),
    ],
)
def test_clock_freeze_at(client: TestClient, at: Any, now: float, iso: str) -> None:
    expected = {"now": now, "iso": iso, "frozen": True}
    assert freeze(client, at) == expected
    assert clock(client) == expected


def test_clock_freeze_now(client: TestClient) -> None:
    before = time.time()
    state = assert_ok(ctl(client, "POST", "/clock/freeze"))
    assert state["frozen"] is True
    assert before <= state["now"] <= time.time()
    assert clock(client) == state
    assert assert_ok(ctl(client, "POST", "/clock/freeze", {"at": None})) == state  # null: now, which stands still


def test_clock_advance(client: TestClient) -> None:
    freeze(client, JAN_1_2024)
    advanced = assert_ok(ctl(client, "POST", "/clock/advance", {"seconds": 1801}))
    assert advanced == {"now": JAN_1_2024 + 1801, "iso": "2024-01-01T00:30:01.000Z", "frozen": True}
    assert assert_ok(ctl(client, "POST", "/clock/advance", {"seconds": 0.5}))["now"] == JAN_1_2024 + 1801.5
    assert assert_ok(ctl(client, "POST", "/clock/advance", {"seconds": -1.5}))["now"] == JAN_1_2024 + 1800


def test_clock_advance_while_running(client: TestClient) -> None:
    before = time.time()
    state = assert_ok(ctl(client, "POST", "/clock/advance", {"seconds": 3600}))
    assert state["frozen"] is False
    assert before + 3600 <= state["now"] <= time.time() + 3600
    assert clock(client)["now"] >= state["now"]


@pytest.mark.parametrize("version", ["2023-12", "2024-03"])
def test_advancing_the_clock_expires_user_tokens(client: TestClient, make_user: MakeUser, version: str) -> None:
    user_id = make_user("alice")
    freeze(client, JAN_1_2024)
    token = assert_ok(client.get(f"/{version}/users/{user_id}/token", headers=DEV))["token"]
    _, claims = unverified(token)
    assert (claims["iat"], claims["exp"]) == (int(JAN_1_2024), int(JAN_1_2024) + 1800)
    assert_ok(integrations_as(client, token))
    assert_ok(ctl(client, "POST", "/clock/advance", {"seconds": 1799}))
    assert_ok(integrations_as(client, token))
    assert_ok(ctl(client, "POST", "/clock/advance", {"seconds": 1}))  # now == exp: expired
    assert_error(integrations_as(client, token), 401, "Unauthorized")
    assert_ok(ctl(client, "POST", "/clock/advance", {"seconds": -1}))  # back in time: valid again
    assert_ok(integrations_as(client, token))


def test_unfrozen_clock_expires_tokens_too(client: TestClient, make_user: MakeUser) -> None:
    make_user("alice")
    token = mint(client, user="alice")["token"]
    assert_ok(integrations_as(client, token))
    assert_ok(ctl(client, "POST", "/clock/advance", {"seconds": 1801}))
    assert_error(integrations_as(client, token), 401, "Unauthorized")
    assert_ok(ctl(client, "POST", "/clock/reset"))
    assert_ok(integrations_as(client, token))


def test_timestamps_follow_the_frozen_clock(client: TestClient, emulator: Emulator) -> None:
    freeze(client, "2024-02-29T12:34:56.789Z")
    user_id = assert_ok(client.post(f"{API}/users", json={"username": "leap"}, headers=DEV))["userId"]
    dev = emulator.namespace_named("dev")
    assert emulator.users.get(dev, user_id).created_at == "2024-02-29T12:34:56.789Z"
    (entry,) = journal(client)
    assert entry["time"] == "2024-02-29T12:34:56.789Z"
    assert_ok(ctl(client, "POST", "/clock/advance", {"seconds": 60}))
    seeded = assert_ok(ctl(client, "POST", "/seed", {"users": [{"username": "later"}]}))["data"][0]
    assert emulator.users.get(dev, seeded["userId"]).created_at == "2024-02-29T12:35:56.789Z"
    claims = mint(client, user="later")["claims"]
    assert claims["iat"] == int(JAN_1_2024) + 59 * 86400 + 45296 + 60


def test_clock_unfreeze_runs_on_from_where_it_stands(client: TestClient) -> None:
    freeze(client, JAN_1_2024)
    state = assert_ok(ctl(client, "POST", "/clock/unfreeze"))
    assert state["frozen"] is False
    assert JAN_1_2024 <= state["now"] < JAN_1_2024 + 5
    later = clock(client)
    assert state["now"] <= later["now"] < JAN_1_2024 + 5
    # Unfreezing a running clock changes nothing.
    assert assert_ok(ctl(client, "POST", "/clock/unfreeze"))["now"] < JAN_1_2024 + 5


def test_clock_reset_goes_back_to_system_time(client: TestClient) -> None:
    freeze(client, JAN_1_2024)
    assert_ok(ctl(client, "POST", "/clock/advance", {"seconds": 10}))
    before = time.time()
    state = assert_ok(ctl(client, "POST", "/clock/reset"))
    assert state["frozen"] is False
    assert before <= state["now"] <= time.time()
    assert_ok(ctl(client, "POST", "/clock/advance", {"seconds": 3600}))
    assert_ok(ctl(client, "POST", "/clock/reset"))
    assert clock(client)["now"] <= time.time()


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/clock/freeze", {"at": "yesterday"}, "at must be epoch seconds or an ISO 8601 time"),
        ("/clock/freeze", {"at": "2024-13-01T00:00:00Z"}, "at must be epoch seconds or an ISO 8601 time"),
        ("/clock/freeze", {"at": ""}, "at must be epoch seconds or an ISO 8601 time"),
        ("/clock/freeze", {"at": True}, "at must be a number"),
        ("/clock/freeze", {"at": [2024]}, "at must be a number"),
        ("/clock/freeze", {"at": {"s": 1}}, "at must be a number"),
        ("/clock/advance", {}, "seconds is required"),
        ("/clock/advance", {"seconds": None}, "seconds must be a number"),
        ("/clock/advance", {"seconds": "10"}, "seconds must be a number"),
        ("/clock/advance", {"seconds": True}, "seconds must be a number"),
        ("/clock/advance", {"seconds": [10]}, "seconds must be a number"),
        ("/clock/advance", [10], "The JSON body must be an object, not an array"),
        ("/clock/freeze", 5, "The JSON body must be an object, not a number"),
    ],
)
def test_clock_bad_input(client: TestClient, path: str, body: Any, message: str) -> None:
    before = clock(client)
    assert_error(ctl(client, "POST", path, body), 400, message)
    after = clock(client)
    assert after["frozen"] is False
    assert before["now"] <= after["now"] < before["now"] + 5


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/clock/freeze", {"at": 1e20}),
        ("/clock/freeze", {"at": -1e15}),
        ("/clock/advance", {"seconds": 1e20}),
    ],
    ids=["freeze-far-future", "freeze-far-past", "advance-far"],
)
def test_clock_refuses_times_it_cannot_show(lenient_client: TestClient, path: str, body: dict[str, Any]) -> None:
    """A time outside what timestamps can show is bad input, not a clock that breaks every later request."""
    response = ctl(lenient_client, "POST", path, body)
    assert response.status_code == 400, show(response)
    assert_ok(ctl(lenient_client, "GET", "/clock"))
    assert_ok(lenient_client.post(f"{API}/users", json={"username": "after"}, headers=DEV))


@pytest.fixture
def utc_minus_5() -> Iterator[None]:
    """The process's local time zone set to UTC-5 (a POSIX TZ spec, no tz database needed)."""
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset is not available")
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "EST5"
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved
        time.tzset()


def test_clock_freeze_at_an_iso_time_without_offset_is_utc(client: TestClient, utc_minus_5: None) -> None:
    """The emulator writes every time in UTC; an ISO time without an offset must not depend on the host's zone."""
    assert freeze(client, "2024-01-01T00:00:00") == {
        "now": JAN_1_2024,
        "iso": "2024-01-01T00:00:00.000Z",
        "frozen": True,
    }


# -- tokens -----------------------------------------------------------------------------------------


def test_mint_a_valid_token(client: TestClient, make_user: MakeUser, emulator: Emulator) -> None:
    alice = make_user("alice")
    freeze(client, JAN_1_2024)
    minted = mint(client, user="alice")
    claims = minted["claims"]
    assert {k: v for k, v in claims.items() if k != "jti"} == {
        "iss": "alloy-mock",
        "sub": alice,
        "iat": int(JAN_1_2024),
        "exp": int(JAN_1_2024) + 1800,
        "userId": alice,
        "username": "alice",
        "namespace": "dev",
        "account": "default",
    }
    assert isinstance(claims["jti"], str) and claims["jti"]
    header, payload = unverified(minted["token"])
    assert payload == claims
    assert header == {"alg": "ES256", "kid": emulator.tokens.active.kid, "typ": "JWT"}
    # Verifiable with the published JWKS, like any token the emulator issues.
    jwks = assert_ok(client.get("/.well-known/jwks.json"))
    key = jwt.PyJWKSet.from_dict(jwks)[header["kid"]]
    verified = jwt.decode(
        minted["token"], key.key, algorithms=["ES256"], issuer="alloy-mock", options={"verify_exp": False}
    )
    assert verified == claims
    assert_ok(integrations_as(client, minted["token"]))
    # By userId too; each token has its own jti.
    again = mint(client, user=alice)
    assert again["claims"]["sub"] == alice
    assert again["claims"]["jti"] != claims["jti"]


def test_mint_with_ttl(client: TestClient, make_user: MakeUser) -> None:
    make_user("alice")
    freeze(client, JAN_1_2024)
    claims = mint(client, user="alice", ttl=60)["claims"]
    assert claims["exp"] - claims["iat"] == 60
    token = mint(client, user="alice", ttl=60)["token"]
    assert_ok(ctl(client, "POST", "/clock/advance", {"seconds": 59}))
    assert_ok(integrations_as(client, token))
    assert_ok(ctl(client, "POST", "/clock/advance", {"seconds": 1}))
    assert_error(integrations_as(client, token), 401, "Unauthorized")


@pytest.mark.parametrize("settings", [Settings(token_ttl=90)], ids=["ttl-90"])
def test_mint_uses_the_configured_ttl(client: TestClient, make_user: MakeUser) -> None:
    make_user("alice")
    claims = mint(client, user="alice")["claims"]
    assert claims["exp"] - claims["iat"] == 90


def test_mint_an_expired_token(client: TestClient, make_user: MakeUser) -> None:
    make_user("alice")
    freeze(client, JAN_1_2024)
    minted = mint(client, user="alice", expired=True)
    assert minted["claims"]["exp"] == int(JAN_1_2024) - 60
    assert unverified(minted["token"])[1]["exp"] == int(JAN_1_2024) - 60
    assert_error(integrations_as(client, minted["token"]), 401, "Unauthorized")
    # `expired` wins over a ttl.
    assert mint(client, user="alice", expired=True, ttl=3600)["claims"]["exp"] == int(JAN_1_2024) - 60


def test_mint_wrongly_signed_tokens(client: TestClient, make_user: MakeUser, emulator: Emulator) -> None:
    make_user("alice")
    our_kid = emulator.tokens.active.kid
    jwks_kids = {key["kid"] for key in assert_ok(client.get("/.well-known/jwks.json"))["keys"]}

    wrong_key = mint(client, user="alice", signature="wrong-key")
    header, payload = unverified(wrong_key["token"])
    assert header["kid"] == our_kid and header["alg"] == "ES256"
    assert payload == wrong_key["claims"]
    assert_error(integrations_as(client, wrong_key["token"]), 401, "Unauthorized")

    unknown_kid = mint(client, user="alice", signature="unknown-kid")
    header, payload = unverified(unknown_kid["token"])
    assert header["kid"] not in jwks_kids
    assert payload == unknown_kid["claims"]
    assert_error(integrations_as(client, unknown_kid["token"]), 401, "Unauthorized")

    unsigned = mint(client, user="alice", signature="none")
    header, payload = unverified(unsigned["token"])
    assert header["alg"] == "none"
    assert unsigned["token"].endswith(".")
    assert payload == unsigned["claims"]
    assert_error(integrations_as(client, unsigned["token"]), 401, "Unauthorized")

    valid = mint(client, user="alice", signature="valid")
    assert_ok(integrations_as(client, valid["token"]))


def test_mint_with_extra_claims(client: TestClient, make_user: MakeUser) -> None:
    alice = make_user("alice")
    minted = mint(client, user="alice", claims={"role": "admin", "scopes": ["a", "b"], "username": "renamed"})
    claims = minted["claims"]
    assert (claims["role"], claims["scopes"], claims["username"], claims["sub"]) == (
        "admin",
        ["a", "b"],
        "renamed",
        alice,
    )
    assert unverified(minted["token"])[1] == claims
    assert_ok(integrations_as(client, minted["token"]))


def test_mint_for_a_prod_user(client: TestClient, make_user: MakeUser) -> None:
    pat = make_user("pat", headers=PROD)
    assert_error(ctl(client, "POST", "/tokens", {"user": "pat"}), 404, "User not found")  # dev by default
    minted = mint(client, user="pat", namespace="prod")
    assert (minted["claims"]["namespace"], minted["claims"]["sub"]) == ("prod", pat)
    assert_ok(integrations_as(client, minted["token"]))
    assert mint(client, user="pat", namespace="default.prod")["claims"]["sub"] == pat


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "user is required (a userId or username)"),
        ({"user": None}, 400, "user is required (a userId or username)"),
        ({"user": 5}, 400, "user is required (a userId or username)"),
        ({"user": "nobody"}, 404, "User not found"),
        ({"user": FIXED_ID}, 404, "User not found"),
        ({"user": "alice", "namespace": "qa"}, 404, UNKNOWN_NAMESPACE.format("qa")),
        ({"user": "alice", "signature": "bogus"}, 400, "signature must be one of valid, wrong-key, unknown-kid, none"),
        ({"user": "alice", "signature": None}, 400, "signature must be one of valid, wrong-key, unknown-kid, none"),
        ({"user": "alice", "ttl": "60"}, 400, "ttl must be a number of seconds from -316224000 to 316224000"),
        ({"user": "alice", "ttl": True}, 400, "ttl must be a number of seconds from -316224000 to 316224000"),
        ({"user": "alice", "claims": "role=admin"}, 400, "claims must be an object"),
        ({"user": "alice", "claims": ["role"]}, 400, "claims must be an object"),
        ({"user": "alice", "claims": []}, 400, "claims must be an object"),
    ],
)
def test_mint_bad_input(
    client: TestClient, make_user: MakeUser, body: dict[str, Any], status: int, message: str
) -> None:
    make_user("alice")
    assert_error(ctl(client, "POST", "/tokens", body), status, message)


# -- coverage ---------------------------------------------------------------------------------------


@pytest.fixture
def coverage(client: TestClient) -> dict[str, Any]:
    return assert_ok(ctl(client, "GET", "/coverage"))


def test_coverage_lists_every_vendor_operation_per_version(coverage: dict[str, Any]) -> None:
    assert set(coverage) == {"source", "summary", "versions"}
    assert list(coverage["versions"]) == ["2023-01", "2023-06", "2023-12", "2024-03"]
    expected: dict[str, list[tuple[str, str, str]]] = {version: [] for version in coverage["versions"]}
    for operation_id, method, paths in VENDOR_OPERATIONS:
        for versions, template in paths.items():
            for version in versions:
                expected[version].append((operation_id, method, f"/{version}{template}"))
    for version, operations in coverage["versions"].items():
        assert [(op["operationId"], op["method"], op["path"]) for op in operations] == expected[version]
        for op in operations:
            assert set(op) == {"operationId", "method", "path", "served"}
            assert isinstance(op["served"], bool)


def test_coverage_summary_is_consistent(coverage: dict[str, Any]) -> None:
    assert set(coverage["summary"]) == set(coverage["versions"])
    for version, operations in coverage["versions"].items():
        assert coverage["summary"][version] == {
            "served": sum(op["served"] for op in operations),
            "total": len(operations),
        }


@pytest.mark.parametrize("version", ["2023-01", "2023-06", "2023-12", "2024-03"])
def test_coverage_serves_every_operation(coverage: dict[str, Any], version: str) -> None:
    operations = coverage["versions"][version]
    assert [op for op in operations if not op["served"]] == []
    assert coverage["summary"][version] == {"served": len(operations), "total": len(operations)}


SHOPIFY_SYNC = "64108e3c3cac1228833b4944"  # "Sync New Customers to Shopify": 2 versions with the same fields
SHOPIFY_WEBHOOK = "Fulfill Shopify Order from Webhook"


def coverage_call(emulator: Emulator, op: dict[str, Any], i: int) -> tuple[str, dict[str, str], Any]:
    """A call of a served operation that must succeed: (path, query, JSON body), with the state it needs
    (a user with a Shopify workflow installed at version 1, credentials, a started headless installation)."""
    dev = emulator.namespace_named("dev")
    user = emulator.users.create(dev, f"cov-{i}")
    integration = emulator.installs.integration("Shopify")
    plan = emulator.installs.plan(
        dev, user.user_id, integration, [SHOPIFY_SYNC, SHOPIFY_WEBHOOK], {}, version=1, create_missing_credentials=True
    )
    emulator.installs.install(dev, user.user_id, plan)
    credential = emulator.credentials.create(dev, user.user_id, {"type": "klaviyo", "data": {"apiKey": "pk_1"}})
    started, _ = emulator.headless.start(dev, user.user_id, "Shopify", [SHOPIFY_SYNC], None)
    (execution,) = emulator.runner.run_event(dev, user, "Customer Created", {"email": "a@example.com"})
    path = (
        op["path"]
        .replace("{userId}", user.user_id)
        .replace("{integrationId}", integration.integration_id)
        .replace("{workflowId}", SHOPIFY_SYNC)
        .replace("{credentialId}", credential.credential_id)
        .replace("{executionId}", execution.execution_id)
        .replace("{app}", "hubspot" if op["operationId"] == "generate-oauth-link" else "shopify")
    )
    query = {"userId": user.user_id}
    credential_body = {"type": "stripe", "data": {"apiKey": "sk_test"}}
    bodies: dict[str, Any] = {
        "create-a-user": {"username": f"cov-{i}-new"},
        "batch-create-users": {"users": [{"username": f"cov-{i}-batch"}]},
        "update-a-user": {"fullName": "Renamed"},
        "activate-a-workflow": {"userId": user.user_id, "workflowId": SHOPIFY_SYNC},
        "deactivate-a-workflow": {"userId": user.user_id, "workflowId": SHOPIFY_SYNC},
        "create-a-credential": {"credential": credential_body, "userId": user.user_id},
        "start-installation": {"userId": user.user_id, "integrationId": integration.integration_id},
        "complete-installation": {"installationId": started.installation_id, "data": []},
        "run-event": {"event": "Customer Created", "userId": user.user_id, "data": {"email": "b@example.com"}},
        "run-workflow": {"workflowName": "Fulfill Shopify Order from Webhook", "userId": user.user_id, "data": {}},
    }
    if op["operationId"] == "generate-oauth-link":
        query["app"] = "hubspot"
    return path, query, bodies.get(op["operationId"])


@pytest.mark.parametrize("version", ["2023-01", "2023-06", "2023-12", "2024-03"])
def test_coverage_matches_what_the_emulator_answers(
    client: TestClient, emulator: Emulator, coverage: dict[str, Any], version: str
) -> None:
    """Served operations answer 200 with real ids; the others get the router's own 404 or 405."""
    for i, op in enumerate(coverage["versions"][version]):
        method = op["method"]
        if op["served"]:
            path, query, body = coverage_call(emulator, op, i)
            assert "{" not in path, op
            response = client.request(method, path, headers=DEV, params=query, json=body)
            assert response.status_code == 200, (op, show(response))
        else:
            sample = op["path"].replace("{", "").replace("}", "")
            response = client.request(method, sample, headers=DEV)
            if response.status_code == 405:
                assert_error(response, 405, f"Method {method} is not allowed on {sample}")
            else:
                assert_error(response, 404, f"No route for {method} {sample}")


# -- OpenAPI and index ------------------------------------------------------------------------------


def test_openapi_describes_every_control_route(client: TestClient) -> None:
    document = assert_ok(ctl(client, "GET", "/openapi.json"))
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] == "alloy-mock control API"
    assert isinstance(document["info"]["version"], str) and document["info"]["version"]
    assert document["components"]["securitySchemes"] == {"admin": {"type": "http", "scheme": "bearer"}}
    described = {(method.upper(), path) for path, operations in document["paths"].items() for method in operations}
    assert described == {(method, f"/_mock{path}") for method, path in CONTROL_ENDPOINTS}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert isinstance(operation["summary"], str) and operation["summary"].strip(), (method, path)
            assert "200" in operation["responses"] and "401" in operation["responses"], (method, path)
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == {part[1:-1] for part in path.split("/") if part.startswith("{")}, (method, path)


def test_openapi_documents_the_journal_filters(client: TestClient) -> None:
    document = assert_ok(ctl(client, "GET", "/openapi.json"))
    parameters = document["paths"]["/_mock/requests"]["get"]["parameters"]
    assert {p["name"] for p in parameters if p["in"] == "query"} == {
        "method",
        "path",
        "namespace",
        "status",
        "since",
        "before",
        "limit",
        "header",
    }


def test_index_lists_every_control_route(client: TestClient) -> None:
    index = assert_ok(ctl(client, "GET", ""))
    assert index["description"] == "alloy-mock control API; described at /_mock/openapi.json"
    assert sorted(index["endpoints"]) == sorted(f"{method} /_mock{path}" for method, path in CONTROL_ENDPOINTS if path)
