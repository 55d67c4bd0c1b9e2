"""Assertions shared by the HTTP tests, with failure messages that show the exchange."""

from __future__ import annotations

from typing import Any

import httpx


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
