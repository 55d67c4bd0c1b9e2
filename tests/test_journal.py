"""The request journal (issue 14, "Logs and observability"): request headers with secrets as fingerprints,
credential data redacted, ids that stay monotonic across resets, and a filter by header presence."""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.testclient import TestClient

from alloy_mock.config import DEFAULT_DEV_KEY

from .conftest import API, DEV
from .helpers import CONTROL, assert_ok


def journal(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = assert_ok(client.get("/_mock/requests", params=params))["data"]
    return data


def fingerprint(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:12]


def test_request_headers_are_recorded_with_secrets_as_fingerprints(client: TestClient, make_user: Any) -> None:
    user_id = make_user("alice@example.com", headers=DEV)
    token = assert_ok(client.get(f"{API}/users/{user_id}/token", headers=DEV))["token"]
    client.get(f"{API}/integrations", headers={"x-alloy-user-token": token, "X-Trace": "t-1"})
    entries = journal(client)
    shown = str([entry["headers"] for entry in entries])
    assert DEFAULT_DEV_KEY not in shown and token not in shown  # neither the key nor the token itself
    last = entries[-1]
    assert last["headers"]["x-alloy-user-token"] == fingerprint(token)
    assert last["headers"]["x-trace"] == "t-1"
    assert entries[0]["headers"]["authorization"] == fingerprint(f"Bearer {DEFAULT_DEV_KEY}")
    assert entries[0]["headers"]["authorization"] == entries[1]["headers"]["authorization"]  # same key, same print


def test_credential_data_in_recorded_bodies_is_redacted(client: TestClient, make_user: Any) -> None:
    user_id = make_user("alice@example.com", headers=DEV)
    secret = "sk_live_do-not-show-me"
    client.post(
        f"{API}/users/{user_id}/credentials",
        json={"credential": {"type": "klaviyo", "data": {"apiKey": secret, "region": "eu"}}},
        headers=DEV,
    )
    (entry,) = journal(client, method="POST", path="*/credentials")
    assert secret not in str(entry)
    assert entry["requestBody"]["credential"] == {
        "type": "klaviyo",
        "data": {"apiKey": "[redacted]", "region": "[redacted]"},
    }


def test_ids_stay_monotonic_across_resets_and_clears(client: TestClient) -> None:
    client.get(f"{API}/users", headers=DEV)
    client.get(f"{API}/users", headers=DEV)
    before = [entry["id"] for entry in journal(client)]
    assert_ok(client.post("/_mock/reset", headers=CONTROL))
    client.get(f"{API}/users", headers=DEV)
    assert_ok(client.delete("/_mock/requests", headers=CONTROL))
    client.get(f"{API}/users", headers=DEV)
    (after,) = [entry["id"] for entry in journal(client)]
    assert before == [before[0], before[0] + 1] and after == before[-1] + 2  # never reused
    assert journal(client, since=before[-1]) == journal(client)


def test_filter_by_header_presence(client: TestClient, make_user: Any) -> None:
    user_id = make_user("alice@example.com", headers=DEV)
    token = assert_ok(client.get(f"{API}/users/{user_id}/token", headers=DEV))["token"]
    client.get(f"{API}/integrations", headers={"x-alloy-user-token": token})
    client.get(f"{API}/users", headers={**DEV, "X-Request-Id": "r1"})
    assert [e["path"] for e in journal(client, header="x-alloy-user-token")] == [f"{API}/integrations"]
    assert [e["path"] for e in journal(client, header="X-Request-Id")] == [f"{API}/users"]
    assert len(journal(client, header="authorization")) == 3
    assert journal(client, header="x-absent") == []


def test_before_pages_back_from_the_oldest_id_shown(client: TestClient) -> None:
    for index in range(5):
        client.get(f"{API}/users/u{index}", headers=DEV)
    ids = [entry["id"] for entry in journal(client)]
    newest_two = journal(client, limit=2)
    assert [entry["id"] for entry in newest_two] == ids[-2:]
    older = journal(client, limit=2, before=newest_two[0]["id"])
    assert [entry["id"] for entry in older] == ids[1:3]
    assert [entry["path"] for entry in journal(client, before=ids[0])] == []
    assert [entry["id"] for entry in journal(client, since=ids[0], before=ids[2])] == [ids[1]]
