"""Shared by the run tests (in-process app): the seed catalogue's workflows and blocks, installs through the
control API, running events and webhooks, and reading logs, errors and analytics."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from starlette.testclient import TestClient

from alloy_mock.app import create_app
from alloy_mock.config import Settings
from alloy_mock.emulator import Emulator

from .conftest import API, DEV
from .helpers import assert_ok

# Seeded workflows (fixtures/integrations.json) and their blocks.
SYNC_CUSTOMERS = "64108e3c3cac1228833b4944"  # Shopify; "Customer Created"; Custom Event -> Shopify
SYNC_TRIGGER = "256ad1ae-42ee-4f7e-abf5-c3e12239597b"
SYNC_SHOPIFY = "34b19706-eaaf-4396-8d93-4ee776f4fdae"  # fields customerTags, acceptsMarketing
TO_KLAVIYO = "65c2a1f09d3b7e41c8a6f512"  # Shopify; "Customer Created"; Custom Event -> Shopify -> Klaviyo
KLAVIYO_SHOPIFY = "8c7d2b4a-1e3f-4a6b-9c8d-0e1f2a3b4c5d"
KLAVIYO_BLOCK = "d3e4f5a6-b7c8-4d9e-8f0a-1b2c3d4e5f60"  # listId required
HUBSPOT_CONTACT = "642ad3b871c5a7804f81c514"  # HubSpot; "Customer Created"; lifecycleStage required
CREATE_ORDER = "64183841f9ec255fa6b603e2"  # Shopify; "Order Created"; locationId required
WEBHOOK_ORDER = "64ca9ff35ba0697fd64f7b99"  # Shopify; webhook trigger -> Shopify
WEBHOOK_SLACK = "65c35815dbed9eb70f7c73f2"  # Slack; webhook trigger -> Formatter -> Slack
HOURLY_SALESFORCE = "647f18ca1f5c5df8648ba3d1"  # Salesforce; schedule trigger

CUSTOMER = {"name": "Ada Lovelace", "email": "ada@example.com"}
EXECUTION_ID = re.compile(r"^[A-Za-z0-9_-]{21}$")
EXECUTION_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{8}$")


@contextmanager
def app_client(**settings: Any) -> Iterator[TestClient]:
    """An in-process client of an emulator with these Settings (nothing on disk)."""
    em = Emulator.open(Settings(**settings))
    try:
        with TestClient(create_app(emulator=em)) as client:
            yield client
    finally:
        em.close()


def epoch(iso: str) -> float:
    """Seconds since the epoch of one of the emulator's timestamps (2023-11-14T22:13:20.000Z)."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def nested(levels: int) -> dict[str, Any]:
    """{"k": {"k": ...}}, `levels` objects deep."""
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"k": value}
    return value


def install(client: TestClient, user: str, integration: str, **options: Any) -> dict[str, Any]:
    """POST /_mock/installs {user, integration, workflows?, values?, active?, namespace?}: the answer."""
    body: dict[str, Any] = assert_ok(
        client.post("/_mock/installs", json={"user": user, "integration": integration, **options})
    )
    return body


def install_sync(client: TestClient, user: str, **options: Any) -> dict[str, Any]:
    """Install "Sync New Customers to Shopify" (no required field) for `user`: the install."""
    answer = install(client, user, "Shopify", workflows=[SYNC_CUSTOMERS], **options)
    found: dict[str, Any] = answer["data"][0]
    return found


def run_event(
    client: TestClient, user: str, data: Any = None, event: str = "Customer Created", headers: dict[str, str] = DEV
) -> None:
    body = {"event": event, "userId": user, "data": CUSTOMER if data is None else data}
    assert_ok(client.post(f"{API}/run/event", json=body, headers=headers), {"message": "Event successfully triggered"})


def run_webhook(client: TestClient, user: str, workflow: str, data: Any, headers: dict[str, str] = DEV) -> None:
    body = {"workflowId": workflow, "userId": user, "data": data}
    assert_ok(client.post(f"{API}/run/workflow", json=body, headers=headers), {"message": "success"})


def logs(client: TestClient, workflow: str, headers: dict[str, str] = DEV, **params: Any) -> list[dict[str, Any]]:
    """GET /workflows/{w}/logs with `params`: the entries."""
    body = assert_ok(client.get(f"{API}/workflows/{workflow}/logs", params=params, headers=headers))
    assert set(body) == {"data"}, body
    entries: list[dict[str, Any]] = body["data"]
    return entries


def errors(client: TestClient, workflow: str, headers: dict[str, str] = DEV, **params: Any) -> list[dict[str, Any]]:
    body = assert_ok(client.get(f"{API}/workflows/{workflow}/errors", params=params, headers=headers))
    assert set(body) == {"data"}, body
    entries: list[dict[str, Any]] = body["data"]
    return entries


def analytics(client: TestClient, workflow: str, headers: dict[str, str] = DEV) -> tuple[int, int, int]:
    """(totalWorkflowRuns, totalAppActions, totalErrors), each checked to be an integer."""
    body = assert_ok(client.get(f"{API}/workflows/{workflow}/analytics", headers=headers))
    assert set(body) == {"totalWorkflowRuns", "totalAppActions", "totalErrors"}, body
    assert all(type(value) is int for value in body.values()), body
    return body["totalWorkflowRuns"], body["totalAppActions"], body["totalErrors"]


def output(entry: dict[str, Any], block_id: str) -> Any:
    """The `json` a block returned in a log entry (each result holds one item)."""
    [result] = [r for r in entry["results"] if r["blockId"] == block_id]
    [[item]] = result["data"]
    return item["json"]


def without_ids_and_times(entry: dict[str, Any]) -> dict[str, Any]:
    """A log entry with what differs between two runs of the same input blanked out: ids and times."""
    return {
        "finished": entry["finished"],
        "inputs": entry["inputs"],
        "results": [
            {
                "blockId": r["blockId"],
                "error": r.get("error"),
                "data": [[item["json"] for item in group] for group in r["data"]],
            }
            for r in entry["results"]
        ],
    }
