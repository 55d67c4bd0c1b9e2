"""Log entries rendered from stored runs (domain/log_entries.py): the same entry on every read and after later
changes to installs and stubs, record ids derived from the execution, documents stored with their entry text
(before 2026-12) served as stored, and a workflow gone from the catalogue."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson
from starlette.testclient import TestClient

from alloy_mock.domain.executions import COLLECTION
from alloy_mock.domain.log_entries import Plans
from alloy_mock.emulator import Emulator

from .conftest import API, DEV
from .helpers import CONTROL, assert_ok
from .runs_support import (
    CUSTOMER,
    KLAVIYO_BLOCK,
    KLAVIYO_SHOPIFY,
    SYNC_CUSTOMERS,
    TO_KLAVIYO,
    install,
    logs,
    output,
    run_event,
)

MakeUser = Callable[..., str]
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def record_ids(entry: dict[str, Any]) -> list[str]:
    return [item["id"] for result in entry["results"] for group in result["data"] for item in group]


def test_an_entry_reads_the_same_after_its_install_and_stubs_change(
    client: TestClient, emulator: Emulator, make_user: MakeUser
) -> None:
    make_user("alice")
    install(client, "alice", "Shopify", workflows=[TO_KLAVIYO], values={"listId": "L-1"})
    stub = {"id": 7, "email": "stub@example.com"}
    assert_ok(client.post("/_mock/block-outputs", json={"workflow": TO_KLAVIYO, "block": "shopify", "output": stub}))
    run_event(client, "alice", CUSTOMER)
    run_event(client, "alice", CUSTOMER)
    first_read = logs(client, TO_KLAVIYO)
    assert len(first_read) == 2
    entry = first_read[0]
    assert output(entry, KLAVIYO_SHOPIFY) == stub
    klaviyo = output(entry, KLAVIYO_BLOCK)
    assert "L-1" in orjson.dumps(klaviyo).decode()  # the install's listId reached the sample

    # What the run saw is stored with it: new values and a cleared stub change later runs only.
    install(client, "alice", "Shopify", workflows=[TO_KLAVIYO], values={"listId": "L-2"})
    assert_ok(client.delete("/_mock/block-outputs", headers=CONTROL))
    assert logs(client, TO_KLAVIYO) == first_read
    run_event(client, "alice", CUSTOMER)
    newest = logs(client, TO_KLAVIYO)[0]
    assert output(newest, KLAVIYO_SHOPIFY) != stub
    assert "L-2" in orjson.dumps(output(newest, KLAVIYO_BLOCK)).decode()

    # Record ids: the UUID layout, one per block, none shared between runs.
    ids = [record_id for item in logs(client, TO_KLAVIYO) for record_id in record_ids(item)]
    assert len(ids) == 9 and len(set(ids)) == 9
    assert all(UUID4.match(record_id) for record_id in ids), ids

    # The document holds the run, not its entry's text.
    doc = emulator.executions.find(emulator.namespace_named("dev"), entry["executionId"])
    assert doc is not None
    assert "body" not in doc
    assert doc["data"] == CUSTOMER
    assert doc["stubs"] == {KLAVIYO_SHOPIFY: stub}
    assert doc["values"][KLAVIYO_BLOCK] == {"listId": "L-1"}


def test_a_document_stored_with_its_entry_text_is_served_as_stored(
    client: TestClient, emulator: Emulator, make_user: MakeUser
) -> None:
    """Databases written before 2026-12 keep each log entry as JSON text (`body`)."""
    user_id = make_user("alice")
    install(client, "alice", "Shopify", workflows=[SYNC_CUSTOMERS])
    dev = emulator.namespace_named("dev")
    body = (
        '{"executionId":"OldFormatExecution000","startedAt":"2026-11-30T10:00:00.000Z",'
        '"stoppedAt":"2026-11-30T10:00:00.020Z","finished":true,"results":[],'
        '"inputs":[{"blockId":"b","data":{"name":"Grace Hopper","n":1}}]}'
    )
    emulator.store.collection(dev.id, COLLECTION).insert(
        "OldFormatExecution000",
        {
            "executionId": "OldFormatExecution000",
            "workflowId": SYNC_CUSTOMERS,
            "userId": user_id,
            "owner": f"{SYNC_CUSTOMERS}:{user_id}",
            "startedAt": 1796032800.0,
            "finishesAt": 1796032800.0,
            "appActions": 1,
            "body": body,
        },
    )
    answer = client.get(f"{API}/workflows/{SYNC_CUSTOMERS}/logs", headers=DEV)
    assert answer.status_code == 200
    assert answer.content == b'{"data":[' + body.encode() + b"]}"
    [browsed] = assert_ok(client.get("/_mock/executions"))["data"]
    assert browsed["executionId"] == "OldFormatExecution000" and browsed["inputs"] == orjson.loads(body)["inputs"]

    # A rerun takes its input from the entry.
    rerun = client.post(
        f"{API}/workflows/{SYNC_CUSTOMERS}/rerun/OldFormatExecution000", params={"userId": "alice"}, headers=DEV
    )
    assert_ok(rerun)
    newest = logs(client, SYNC_CUSTOMERS)[0]
    assert newest["inputs"][0]["data"] == {"name": "Grace Hopper", "n": 1}


def test_an_entry_of_a_workflow_gone_from_the_catalogue_keeps_its_id_and_time(emulator: Emulator) -> None:
    doc = {
        "executionId": "GoneWorkflowExecution",
        "workflowId": "0123456789abcdef01234567",
        "userId": "u",
        "startedAt": 1796032800.25,
        "finishesAt": 1796032800.25,
        "appActions": 1,
        "data": {"a": 1},
    }
    entry = orjson.loads(Plans(emulator.catalogue).render(doc))
    assert entry == {
        "executionId": "GoneWorkflowExecution",
        "startedAt": "2026-11-30T10:00:00.250Z",
        "stoppedAt": "2026-11-30T10:00:00.250Z",
        "finished": True,
        "results": [],
        "inputs": [],
    }
