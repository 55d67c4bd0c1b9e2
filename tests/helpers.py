"""Assertions shared by the HTTP tests, with failure messages that show the exchange."""

from __future__ import annotations

from typing import Any

import httpx

# Control-API writes without a JSON body need this header (web pages cannot send it).
CONTROL = {"X-Alloy-Mock": "1"}


def show(response: httpx.Response) -> str:
    """The request and (the start of) the response, for assertion messages."""
    text = response.text if len(response.text) <= 600 else response.text[:600] + "..."
    return (
        f"{response.request.method} {response.request.url} -> {response.status_code} {dict(response.headers)}: {text}"
    )


def media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def assert_ok(response: httpx.Response, body: Any = None) -> Any:
    """A 200 with a JSON object (equal to `body` when given); returns the parsed body."""
    assert response.status_code == 200, show(response)
    assert media_type(response) == "application/json", show(response)
    data = response.json()
    assert isinstance(data, dict), show(response)
    if body is not None:
        assert data == body, show(response)
    return data


def assert_error(response: httpx.Response, status: int, message: str | None = None, prefix: str | None = None) -> None:
    """A JSON error: the status, application/json, exactly {"message": <str>} (optionally exact or by prefix)."""
    assert response.status_code == status, show(response)
    assert media_type(response) == "application/json", show(response)
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"message"}, show(response)
    assert isinstance(body["message"], str) and body["message"], show(response)
    if message is not None:
        assert body["message"] == message, show(response)
    if prefix is not None:
        assert body["message"].startswith(prefix), show(response)


# -- installs (issue 9): seed workflows the tests rely on, and the control API's installs -----------

SHOPIFY = "64108c73d3e467ca351b6de3"
SYNC_CUSTOMERS = "64108e3c3cac1228833b4944"  # Shopify, 2 versions with the same fields (upgradable from 1)
CREATE_ORDER = "64183841f9ec255fa6b603e2"  # Shopify, 3 versions; required select locationId
TO_KLAVIYO = "65c2a1f09d3b7e41c8a6f512"  # Shopify: an OAuth app (shopify) and a key-based one (klaviyo)
NETSUITE = "64abbd87e23a5b6d4e37efd4"
SALES_ORDER = "64abbf3e401d49d78393e8ba"  # NetSuite, 3 versions; subsidiaryId appears in version 3
SLACK = "6478885b50bb2afa5b611ee2"
NEW_CUSTOMER = "647889654bc0db7c550c256d"  # Slack, 2 versions; required channel
POST_TICKETS = "650889ceb5b31c2e2dcf5d6e"  # Slack; required channel, boolean mentionChannel
POST_WEBHOOK = "65c35815dbed9eb70f7c73f2"  # Slack; no fields
SLACK_WORKFLOWS = [NEW_CUSTOMER, POST_TICKETS, POST_WEBHOOK]


def control_install(client: Any, user: str, integration: str, **body: Any) -> dict[str, Any]:
    """POST /_mock/installs (the dev namespace unless `namespace` is given); the parsed 200 answer."""
    answer: dict[str, Any] = assert_ok(
        client.post("/_mock/installs", json={"user": user, "integration": integration, **body})
    )
    return answer


def installed(client: Any, user: str, namespace: str = "dev") -> dict[str, dict[str, Any]]:
    """The user's installs by workflowId, from GET /_mock/installs."""
    answer = assert_ok(client.get("/_mock/installs", params={"user": user, "namespace": namespace}))
    return {item["workflowId"]: item for item in answer["data"]}
