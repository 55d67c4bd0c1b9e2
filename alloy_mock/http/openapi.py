"""The OpenAPI document of the control API (/_mock), served at /_mock/openapi.json.

Request bodies are described by the pydantic models the server validates them with (control/models.py,
control/run_rules.py), so the document says exactly what is accepted; each example is sent to the
server by a test (tests/test_control_models.py).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel

from .. import __version__
from ..control.browse_models import ExecutionsQuery, NamespacesQuery, RerunBody, UserQuery, UsersQuery
from ..control.models import (
    AdvanceBody,
    FailureSpec,
    FaultSpec,
    FreezeBody,
    InstallBody,
    OutputSpec,
    ResetBody,
    SeedBody,
    SnapshotBody,
    TokenBody,
    WaitBody,
)

NAMESPACE = {"type": "string", "description": "'dev', 'prod' (default account) or '<account>.dev|prod'"}

# (method, path, summary, request body example or None, query parameters)
OPERATIONS: list[tuple[str, str, str, dict[str, Any] | None, list[str]]] = [
    ("get", "/_mock", "List the control endpoints", None, []),
    (
        "post",
        "/_mock/reset",
        "Reset one namespace, or everything (all data, faults, journal, clock)",
        {"namespace": "dev"},
        ["namespace"],
    ),
    (
        "post",
        "/_mock/seed",
        "Create users in a namespace (optionally with fixed userIds)",
        {
            "namespace": "dev",
            "users": [{"username": "alice", "fullName": "Alice", "userId": "6323d7c9122ae69742a5d0a2"}],
        },
        [],
    ),
    ("get", "/_mock/snapshots", "List saved snapshots", None, []),
    ("post", "/_mock/snapshots", "Save the data of every namespace under a name", {"name": "before-test"}, []),
    ("post", "/_mock/snapshots/{name}/restore", "Restore a saved snapshot", None, []),
    ("delete", "/_mock/snapshots/{name}", "Forget a snapshot", None, []),
    (
        "get",
        "/_mock/requests",
        "The request journal, oldest first (bounded; bodies cut at 64 KiB; Authorization and "
        "x-alloy-user-token shown as fingerprints, credential data redacted; `header`: entries that carry it)",
        None,
        ["method", "path", "namespace", "status", "since", "before", "limit", "header"],
    ),
    ("delete", "/_mock/requests", "Empty the request journal", None, []),
    ("get", "/_mock/faults", "List active faults", None, []),
    (
        "post",
        "/_mock/faults",
        "Answer the next `times` matching requests with `status`/`body`/`headers`, break their connection "
        "(`connectionFault`), dribble their answer (`chunkedDribbleDelay`), and/or delay them by `delayMs`; "
        "`path` is a glob over the path after the version; `bodyContains` matches their JSON body; "
        "`probability` (with `seed`: repeatable) faults a share of them; `status` is 200-599, and a 204 or 304 "
        "has no body",
        {
            "method": "POST",
            "path": "/users",
            "namespace": "dev",
            "times": 2,
            "status": 429,
            "body": {"message": "Rate limit exceeded"},
            "headers": {"Retry-After": "1"},
            "delayMs": 0,
        },
        [],
    ),
    ("delete", "/_mock/faults", "Clear every fault", None, []),
    ("delete", "/_mock/faults/{fault_id}", "Clear one fault", None, []),
    ("get", "/_mock/clock", "The emulator's time", None, []),
    (
        "post",
        "/_mock/clock/freeze",
        "Stop the clock (now, or at `at`: epoch seconds or ISO 8601)",
        {"at": "2024-01-01T00:00:00Z"},
        [],
    ),
    ("post", "/_mock/clock/advance", "Move the clock forward (token expiry follows)", {"seconds": 1801}, []),
    ("post", "/_mock/clock/unfreeze", "Let the clock run again from where it stands", None, []),
    ("post", "/_mock/clock/reset", "Back to the system time", None, []),
    (
        "post",
        "/_mock/tokens",
        "Mint a user token, also deliberately expired or wrongly signed ones",
        {
            "user": "alice",
            "namespace": "dev",
            "ttl": 60,
            "expired": False,
            "signature": "valid",
            "claims": {"extra": "claim"},
        },
        [],
    ),
    (
        "post",
        "/_mock/installs",
        "Install an integration (all or some of its workflows) for a user, as the hosted modal would; "
        "emulated credentials are created for apps the user has none of",
        {
            "namespace": "dev",
            "user": "alice@example.com",
            "integration": "Shopify",
            "workflows": ["Create Shopify Order"],
            "version": 3,
            "values": {"locationId": "Main Warehouse", "sendReceipt": True},
            "active": True,
        },
        [],
    ),
    ("get", "/_mock/installs", "A user's installs, with their values and credential ids", None, ["user", "namespace"]),
    (
        "delete",
        "/_mock/installs",
        "Uninstall an integration and its workflows for a user",
        None,
        ["user", "integration", "namespace"],
    ),
    ("get", "/_mock/run-failures", "List the run-failure rules", None, []),
    (
        "post",
        "/_mock/run-failures",
        "Make the next `times` runs (null: every run) of a workflow (or any) for a user (or anyone) fail at a block",
        {
            "namespace": "dev",
            "workflow": "Sync New Customers to Shopify",
            "user": "alice@example.com",
            "block": "shopify",
            "message": "The customer failed to create due to an invalid Id",
            "times": 1,
        },
        [],
    ),
    ("delete", "/_mock/run-failures", "Clear every run-failure rule", None, []),
    ("delete", "/_mock/run-failures/{rule_id}", "Clear one run-failure rule", None, []),
    ("get", "/_mock/block-outputs", "List the block-output stubs", None, []),
    (
        "post",
        "/_mock/block-outputs",
        "Make a block of a workflow return `output` in runs (for a user, or anyone) instead of the sample",
        {"workflow": "Sync New Customers to Shopify", "block": "shopify", "output": {"id": 42, "email": "a@b.c"}},
        [],
    ),
    ("delete", "/_mock/block-outputs", "Clear every block-output stub", None, []),
    ("delete", "/_mock/block-outputs/{rule_id}", "Clear one block-output stub", None, []),
    (
        "post",
        "/_mock/executions/wait",
        "Wait until the executions recorded so far have finished (with --run-latency)",
        {"namespace": "dev", "user": "alice@example.com", "timeoutMs": 5000},
        [],
    ),
    (
        "get",
        "/_mock/namespaces",
        "Every configured namespace, with its counts of users, workflow installs, credentials and stored executions",
        None,
        [],
    ),
    (
        "get",
        "/_mock/users",
        "A namespace's users, newest first, and how many match (`total`); `search`: a userId prefix, or a part "
        "of the username or fullName in any case",
        None,
        [],
    ),
    (
        "get",
        "/_mock/users/{user}",
        "A user (by userId or username) with their installs (values included), credentials (type and dates, never "
        "their data) and execution counts",
        None,
        [],
    ),
    (
        "get",
        "/_mock/executions",
        "A namespace's executions, newest first: each the logs endpoint's entry plus workflowId, workflowName, "
        "userId, failed, error and rerunOf; `next` is the `before` of the next (older) page, null on the last",
        None,
        [],
    ),
    (
        "post",
        "/_mock/executions/{execution_id}/rerun",
        "Run a stored execution's input again for its workflow and user, as the vendor's rerun endpoint does",
        {"namespace": "dev"},
        [],
    ),
    ("get", "/_mock/coverage", "Every vendor operation per API version, and whether it is served", None, []),
    ("get", "/_mock/openapi.json", "This document", None, []),
]


# The model of each operation's body; those not listed take none.
BODIES: dict[tuple[str, str], type[BaseModel]] = {
    ("post", "/_mock/reset"): ResetBody,
    ("post", "/_mock/seed"): SeedBody,
    ("post", "/_mock/snapshots"): SnapshotBody,
    ("post", "/_mock/faults"): FaultSpec,
    ("post", "/_mock/clock/freeze"): FreezeBody,
    ("post", "/_mock/clock/advance"): AdvanceBody,
    ("post", "/_mock/tokens"): TokenBody,
    ("post", "/_mock/installs"): InstallBody,
    ("post", "/_mock/run-failures"): FailureSpec,
    ("post", "/_mock/block-outputs"): OutputSpec,
    ("post", "/_mock/executions/wait"): WaitBody,
    ("post", "/_mock/executions/{execution_id}/rerun"): RerunBody,
}
# The model of each operation's query string, when one describes it (else OPERATIONS names the parameters).
QUERIES: dict[tuple[str, str], type[BaseModel]] = {
    ("get", "/_mock/namespaces"): NamespacesQuery,
    ("get", "/_mock/users"): UsersQuery,
    ("get", "/_mock/users/{user}"): UserQuery,
    ("get", "/_mock/executions"): ExecutionsQuery,
}
REF = "#/components/schemas/{model}"


def _schema(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    """A $ref to the model's schema, which goes (with those it uses) into `schemas`."""
    schema = model.model_json_schema(ref_template=REF)
    schemas.update(schema.pop("$defs", {}))
    schemas[model.__name__] = schema
    return {"$ref": REF.format(model=model.__name__)}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The query parameters a model describes, each with its schema (and description, if it has one)."""
    parameters = []
    for name, prop in model.model_json_schema().get("properties", {}).items():
        schema = {k: v for k, v in prop.items() if k not in ("title", "description", "anyOf", "default")}
        # A query string cannot hold null: an optional parameter is simply left out.
        schema.update(next((s for s in prop.get("anyOf", []) if s != {"type": "null"}), {}))
        if prop.get("default") is not None:
            schema["default"] = prop["default"]
        parameter = {"name": name, "in": "query", "schema": schema}
        if "description" in prop:
            parameter["description"] = prop["description"]
        parameters.append(parameter)
    return parameters


@cache
def control_openapi() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    for method, path, summary, example, query in OPERATIONS:
        operation: dict[str, Any] = {
            "summary": summary,
            "responses": {
                "200": {"description": "Done", "content": {"application/json": {"schema": {"type": "object"}}}},
                "400": {"description": 'Bad input: {"message"}'},
                "401": {"description": "Missing or wrong admin token (only when one is configured)"},
                "404": {"description": "Unknown snapshot, fault, user or namespace"},
            },
        }
        if method != "get":
            operation["responses"]["415"] = {
                "description": 'Neither Content-Type: application/json nor X-Alloy-Mock sent: {"message"}'
            }
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in ("name", "fault_id", "rule_id", "user", "execution_id")
            if "{" + name + "}" in path
        ]
        parameters += [
            {"name": name, "in": "query", "schema": NAMESPACE if name == "namespace" else {"type": "string"}}
            for name in query
        ]
        if (method, path) in QUERIES:
            parameters += _query_parameters(QUERIES[(method, path)])
        if parameters:
            operation["parameters"] = parameters
        model = BODIES.get((method, path))
        if model is not None:
            content: dict[str, Any] = {"schema": _schema(model, schemas)}
            if example is not None:
                content["example"] = example
            # A body with a required field cannot be left out (an absent body reads as {}).
            required = bool(schemas[model.__name__].keys() & {"required", "anyOf"})
            operation["requestBody"] = {"required": required, "content": {"application/json": content}}
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "alloy-mock control API",
            "version": __version__,
            "description": "Test controls of the Alloy Embedded emulator. Open unless --admin-token is set; "
            "then send Authorization: Bearer <admin token>. Writes (POST, DELETE) need Content-Type: "
            "application/json or the header X-Alloy-Mock: 1, which web pages cannot send to another origin.",
        },
        "components": {"schemas": schemas, "securitySchemes": {"admin": {"type": "http", "scheme": "bearer"}}},
        "paths": paths,
    }
