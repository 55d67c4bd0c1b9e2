"""Deterministic, realistic sample outputs of workflow blocks: what each app "returned" in an emulated run.

The same workflow, block, install values and input always give the same output (the record ids inside are
derived from a hash of them), so a test can assert on logs. Apps without a sample of their own get a
generic acknowledgement.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

import orjson

Sample = Callable[["Seed", Mapping[str, Any], Mapping[str, Any]], dict[str, Any]]


class Seed:
    """Numbers and ids derived from a hash of a block's inputs."""

    def __init__(self, *parts: Any) -> None:
        self._digest = hashlib.blake2b(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS), digest_size=16).digest()

    def number(self, low: int, high: int, salt: int = 0) -> int:
        """A whole number in [low, high]."""
        value = int.from_bytes(self._digest[salt % 8 : salt % 8 + 8], "big")
        return low + value % (high - low + 1)

    def hex(self, length: int) -> str:
        return self._digest.hex()[:length]


def _email(data: Mapping[str, Any], seed: Seed) -> str:
    for key in ("email", "customerEmail", "contactEmail"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    return f"customer{seed.number(1000, 9999)}@example.com"


def _name(data: Mapping[str, Any]) -> tuple[str, str]:
    full = data.get("name") or data.get("customerName") or data.get("fullName") or "Ada Lovelace"
    first, _, last = str(full).partition(" ")
    return first, last


def shopify(seed: Seed, values: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    if "orderId" in data or "orderName" in data:
        order_id = seed.number(5_000_000_000_000, 5_999_999_999_999)
        return {
            "id": order_id,
            "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
            "name": f"#{seed.number(1001, 9999)}",
            "email": _email(data, seed),
            "financial_status": "paid",
            "fulfillment_status": None,
            "location_id": values.get("locationId"),
            "send_receipt": values.get("sendReceipt", False),
        }
    first, last = _name(data)
    customer_id = seed.number(6_000_000_000_000, 6_999_999_999_999)
    return {
        "id": customer_id,
        "admin_graphql_api_id": f"gid://shopify/Customer/{customer_id}",
        "email": _email(data, seed),
        "first_name": first,
        "last_name": last,
        "tags": values.get("customerTags", ""),
        "accepts_marketing": values.get("acceptsMarketing", False),
        "state": "enabled",
    }


def hubspot(seed: Seed, values: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    first, last = _name(data)
    properties: dict[str, Any] = {"email": _email(data, seed), "firstname": first, "lastname": last}
    if "lifecycleStage" in values:
        properties["lifecyclestage"] = values["lifecycleStage"]
    if "contactOwnerEmail" in values:
        properties["hubspot_owner_email"] = values["contactOwnerEmail"]
    return {"id": str(seed.number(100_000, 999_999)), "properties": properties, "archived": False}


def slack(seed: Seed, values: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    channel = values.get("channel") or "#general"
    text = ", ".join(f"{k}: {v}" for k, v in list(data.items())[:4]) or "New event"
    if values.get("mentionChannel"):
        text = f"<!channel> {text}"
    return {
        "ok": True,
        "channel": channel,
        "ts": f"{seed.number(1_700_000_000, 1_799_999_999)}.{seed.number(100000, 999999, 3):06d}",
        "message": {"type": "message", "text": text},
    }


def salesforce(seed: Seed, values: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": f"00Q{seed.hex(12).upper()}", "success": True, "errors": [], "leadSource": values.get("leadSource")}


def netsuite(seed: Seed, values: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": str(seed.number(10_000, 99_999)),
        "tranId": f"SO{seed.number(1000, 9999)}",
        "entity": {"email": _email(data, seed)},
        "subsidiary": {"id": values.get("subsidiaryId")},
        "status": "Pending Fulfillment",
    }


def zendesk(seed: Seed, values: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    subject = data.get("subject") or data.get("title") or "New ticket"
    return {
        "ticket": {
            "id": seed.number(1000, 99_999),
            "subject": subject,
            "status": "new",
            "priority": values.get("priority") or "normal",
            "group_id": values.get("groupId"),
        }
    }


def woo_commerce(seed: Seed, values: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {"id": seed.number(100, 99_999), "email": _email(data, seed)}
    if "markAsCompleted" in values:
        record["status"] = "completed" if values["markAsCompleted"] else "processing"
    if "role" in values:
        record["role"] = values["role"]
    return record


def klaviyo(seed: Seed, values: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "data": {
            "type": "profile",
            "id": f"01H{seed.hex(23).upper()}",
            "attributes": {"email": _email(data, seed)},
            "relationships": {"lists": {"data": [{"type": "list", "id": values.get("listId")}]}},
        }
    }


def google_sheets(seed: Seed, values: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    row = seed.number(2, 500)
    return {"spreadsheetId": values.get("spreadsheetId"), "updatedRange": f"Sheet1!A{row}:F{row}", "updatedRows": 1}


def magento(seed: Seed, values: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    return {"entity_id": seed.number(1, 99_999), "increment_id": f"0000{seed.number(10_000, 99_999)}", "state": "new"}


def xero(seed: Seed, values: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    return {"Id": seed.hex(32), "Status": "OK", "ProviderName": "alloy-mock"}


def passthrough(seed: Seed, values: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    return dict(data)


def branch(seed: Seed, values: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    return {"branch": "true", "data": dict(data)}


def delay(seed: Seed, values: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    return {"delayedFor": "0s", "data": dict(data)}


def generic(seed: Seed, values: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    return {"success": True, "id": seed.hex(24)}


SAMPLES: dict[str, Sample] = {
    "shopify": shopify,
    "hubspot": hubspot,
    "slack": slack,
    "salesforce": salesforce,
    "netsuite": netsuite,
    "zendesk": zendesk,
    "wooCommerce": woo_commerce,
    "klaviyo": klaviyo,
    "googleSheets": google_sheets,
    "magento": magento,
    "xero": xero,
    "formatter": passthrough,
    "code": passthrough,
    "branch": branch,
    "delay": delay,
}


def sampler(app: str) -> Sample:
    """The sample of a block type: sampler(app)(Seed(workflow_id, block_id, values, data), values, data)
    is sample_output() (what a run's plan keeps per block, so that a run looks nothing up)."""
    return SAMPLES.get(app, generic)


def sample_output(
    app: str, workflow_id: str, block_id: str, values: Mapping[str, Any], data: Mapping[str, Any]
) -> dict[str, Any]:
    """What block `block_id` (of type `app`) returns for `data`, given the install's `values` for it."""
    seed = Seed(workflow_id, block_id, values, data)
    return sampler(app)(seed, values, data)
