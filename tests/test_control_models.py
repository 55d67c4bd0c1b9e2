"""A strict control API (issue 14): every /_mock body is a pydantic model that refuses unknown keys with a
400 naming them, and /_mock/openapi.json describes exactly those models, with examples the server accepts."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from starlette.testclient import TestClient

from alloy_mock.http.openapi import BODIES, control_openapi

from .conftest import API, DEV
from .helpers import CONTROL, assert_error, assert_ok, show

DOCUMENT = control_openapi()
WITH_BODIES = [
    (method, path, operation)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
    if "requestBody" in operation
]
IDS = [f"{method.upper()} {path}" for method, path, _ in WITH_BODIES]


def body_of(operation: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    content = operation["requestBody"]["content"]["application/json"]
    return content["schema"], content.get("example")


def resolved(schema: dict[str, Any]) -> dict[str, Any]:
    """A schema with its $ref followed, for jsonschema (which needs the document's components)."""
    return {**schema, "components": DOCUMENT["components"]}


@pytest.fixture
def prepared(client: TestClient) -> TestClient:
    """What the examples name: users alice (dev) and alice@example.com, who has run a workflow once."""
    assert_ok(client.post(f"{API}/users", json={"username": "alice@example.com"}, headers=DEV))
    install = {"user": "alice@example.com", "integration": "Shopify", "workflows": ["Sync New Customers to Shopify"]}
    assert_ok(client.post("/_mock/installs", json=install))
    event = {"event": "Customer Created", "userId": "alice@example.com", "data": {}}
    assert_ok(client.post(f"{API}/run/event", json=event, headers=DEV))
    return client


def concrete(client: TestClient, path: str) -> str:
    """The path with its parameters filled in with what `prepared` made (an execution's id)."""
    if "{execution_id}" in path:
        [execution] = assert_ok(client.get("/_mock/executions", params={"limit": 1}))["data"]
        path = path.replace("{execution_id}", execution["executionId"])
    return path


def test_every_body_has_a_model_schema_and_an_example() -> None:
    assert {(method, path) for method, path, _ in WITH_BODIES} == set(BODIES)
    for method, path, operation in WITH_BODIES:
        schema, example = body_of(operation)
        assert schema == {"$ref": f"#/components/schemas/{BODIES[(method, path)].__name__}"}
        model_schema = DOCUMENT["components"]["schemas"][BODIES[(method, path)].__name__]
        assert model_schema["type"] == "object" and model_schema["additionalProperties"] is False, path
        assert model_schema["properties"], path
        assert example is not None, path


@pytest.mark.parametrize(("method", "path", "operation"), WITH_BODIES, ids=IDS)
def test_each_example_fits_its_schema(method: str, path: str, operation: dict[str, Any]) -> None:
    schema, example = body_of(operation)
    jsonschema.validate(example, resolved(schema))


def test_the_server_accepts_every_example_of_the_document(prepared: TestClient) -> None:
    """In an order that lets each build on the last: the seed creates alice, the install precedes the run
    rules, the reset comes last."""
    order = sorted(WITH_BODIES, key=lambda entry: (entry[1] == "/_mock/reset", entry[1] != "/_mock/seed"))
    for method, path, operation in order:
        _, example = body_of(operation)
        response = prepared.request(method.upper(), concrete(prepared, path), json=example)
        assert response.status_code == 200, show(response)


@pytest.mark.parametrize(("method", "path", "operation"), WITH_BODIES, ids=IDS)
def test_a_misspelled_key_is_refused_by_name(
    prepared: TestClient, method: str, path: str, operation: dict[str, Any]
) -> None:
    _, example = body_of(operation)
    assert example is not None
    first = next(iter(example))
    misspelled = {**example, first[::-1] + "x": example[first], "stauts": 500}
    response = prepared.request(method.upper(), concrete(prepared, path), json=misspelled)
    assert_error(response, 400, prefix=f"unknown fields {first[::-1] + 'x'}, stauts (known: ")
    known = response.json()["message"].split("(known: ")[1].rstrip(")").split(", ")
    assert sorted(known) == sorted(DOCUMENT["components"]["schemas"][BODIES[(method, path)].__name__]["properties"])


def test_one_unknown_key_in_a_fault(client: TestClient) -> None:
    """The finding of issue 14: `stauts` got "give a status, a delayMs, or both"."""
    response = client.post("/_mock/faults", json={"stauts": 503, "path": "/users"})
    known = "body, bodyContains, chunkedDribbleDelay, connectionFault, delayMs, "
    assert_error(response, 400, prefix=f"unknown field stauts (known: {known}")
    assert assert_ok(client.get("/_mock/faults"))["data"] == []


@pytest.mark.parametrize(("method", "path", "operation"), WITH_BODIES, ids=IDS)
def test_an_empty_body_is_refused_exactly_where_the_document_requires_one(
    prepared: TestClient, method: str, path: str, operation: dict[str, Any]
) -> None:
    response = prepared.request(method.upper(), concrete(prepared, path), json={})
    if operation["requestBody"]["required"]:
        assert_error(response, 400)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({}, resolved(body_of(operation)[0]))
    else:
        assert response.status_code == 200, show(response)
        jsonschema.validate({}, resolved(body_of(operation)[0]))


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/_mock/seed", {"users": [{"username": "a", "fullname": "A"}]}, "unknown field users[0].fullname"),
        ("/_mock/tokens", {"user": "alice@example.com", "ttl": "60"}, "ttl must be a number of seconds"),
        ("/_mock/tokens", {"user": "alice@example.com", "expired": 1}, "expired must be true or false"),
        ("/_mock/tokens", {"user": "alice@example.com", "signature": "bad"}, "signature must be one of"),
        ("/_mock/executions/wait", {"timeoutMs": 1.5}, "timeoutMs must be a whole number from 0 to 60000"),
        ("/_mock/installs", {"user": "alice@example.com", "integration": 5}, "integration is required"),
        ("/_mock/snapshots", {"name": "x", "names": ["y"]}, "unknown field names (known: name)"),
        ("/_mock/clock/freeze", {"at": None, "when": 1}, "unknown field when (known: at)"),
    ],
)
def test_strict_bodies(prepared: TestClient, path: str, body: dict[str, Any], message: str) -> None:
    assert_error(prepared.post(path, json=body, headers=CONTROL), 400, prefix=message)
