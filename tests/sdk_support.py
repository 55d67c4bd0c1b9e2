"""Shared by the Python SDK tests: a real server per module, unique usernames, the seed catalogue's ids, and
installs through the control API (2023-12 has no install endpoint, so tests install there)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from .conftest import ServerProcess, start_server

FIXTURES = Path(__file__).parent.parent / "fixtures"

# Seeded catalogue entries the tests lean on (fixtures/integrations.json).
SHOPIFY = "64108c73d3e467ca351b6de3"
SYNC_CUSTOMERS = "64108e3c3cac1228833b4944"  # Shopify, 2 versions, no required field
CREATE_ORDER = "64183841f9ec255fa6b603e2"  # Shopify, 3 versions, the same fields in each: upgradable
ORDER_VALUES = {"locationId": "Main Warehouse"}  # its one required field
TO_KLAVIYO = "65c2a1f09d3b7e41c8a6f512"  # Shopify + Klaviyo (OAuth app + key-based app), listId required
NETSUITE = "64abbd87e23a5b6d4e37efd4"
NETSUITE_ORDER = "64abbf3e401d49d78393e8ba"  # 3 versions; version 3 added subsidiaryId: no upgrade from 1
HUBSPOT_CONTACT = "642ad3b871c5a7804f81c514"
NOT_INSTALLED = "The workflow is not installed for this user"


def module_server(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[ServerProcess]:
    """The body of a module-scoped server fixture: one `alloy-mock serve` with its own database."""
    process = start_server("--db", str(tmp_path_factory.mktemp(name) / "db.json"))
    yield process
    process.kill()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def seeded_apps() -> list[dict[str, Any]]:
    apps: list[dict[str, Any]] = json.loads((FIXTURES / "apps.json").read_text())["apps"]
    return apps


def control_install(server: ServerProcess, user: str, integration: str, **options: Any) -> dict[str, Any]:
    """POST /_mock/installs {user, integration, workflows?, version?, values?, active?}: the installs made."""
    with server.client() as http:
        response = http.post("/_mock/installs", json={"user": user, "integration": integration, **options})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def control_installs(server: ServerProcess, user: str) -> dict[str, Any]:
    """GET /_mock/installs?user=: the user's installs with their values and credential ids."""
    with server.client() as http:
        response = http.get("/_mock/installs", params={"user": user})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def by_id(items: list[dict[str, Any]], key: str, value: str) -> dict[str, Any]:
    """The one item of `items` whose `key` is `value`."""
    found = [item for item in items if item[key] == value]
    assert len(found) == 1, f"{key}={value} occurs {len(found)} times"
    return found[0]


def query_of(url: str) -> dict[str, str]:
    """The query string of a link as a dict (each parameter once)."""
    parsed = parse_qs(urlsplit(url).query, keep_blank_values=True)
    assert all(len(values) == 1 for values in parsed.values()), url
    return {name: values[0] for name, values in parsed.items()}


def approve_oauth(url: str) -> str:
    """Complete an OAuth link without a browser (the consent page's `approve=true`): the new credential's id."""
    response = httpx.get(f"{url}&approve=true", follow_redirects=False, timeout=10)
    assert response.status_code == 303, response.text
    credential_id = query_of(response.headers["location"])["credentialId"]
    assert len(credential_id) == 24
    return credential_id
