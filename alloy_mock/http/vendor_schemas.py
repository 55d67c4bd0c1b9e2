"""JSON Schemas (2020-12, as OpenAPI 3.1 uses) of the vendor API's bodies, as the emulator reads and writes them.

Response objects are closed (`additionalProperties: false`): they say exactly what the emulator sends, so a
test can check real answers against them. Request objects stay open, because the emulator ignores keys it
does not know, as the vendor does, except where it refuses them (a credential's keys).
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
TEXT: Schema = {"type": "string", "minLength": 1}
BOOLEAN: Schema = {"type": "boolean"}
OBJECT_ID: Schema = {"type": "string", "pattern": "^[0-9a-f]{24}$", "description": "A 24-hex id"}
TIMESTAMP: Schema = {"type": "string", "format": "date-time", "description": "ISO 8601 UTC, with milliseconds"}
URL: Schema = {"type": "string", "format": "uri"}
VERSION_NUMBER: Schema = {"type": "integer", "minimum": 1}
# Users' names: 1 to 1024 characters, not only white space (domain/users.py).
USER_TEXT: Schema = {"type": "string", "minLength": 1, "maxLength": 1024}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def closed(required: dict[str, Schema], optional: dict[str, Schema] | None = None, **extra: Any) -> Schema:
    """A response object: these keys and no others."""
    return {
        "type": "object",
        "required": list(required),
        "properties": {**required, **(optional or {})},
        "additionalProperties": False,
        **extra,
    }


def request(required: dict[str, Schema], optional: dict[str, Schema] | None = None, **extra: Any) -> Schema:
    """A request object: these keys (the required ones needed), others ignored."""
    schema: Schema = {"type": "object", "properties": {**required, **(optional or {})}, **extra}
    if required:
        schema["required"] = list(required)
    return schema


def array(items: Schema, **extra: Any) -> Schema:
    return {"type": "array", "items": items, **extra}


def data(items: Schema) -> Schema:
    """The vendor's list envelope, {"data": [...]}."""
    return closed({"data": array(items)})


def constant(value: Any) -> Schema:
    return {"const": value}


def json_or_string(schema: Schema, what: str) -> Schema:
    """A field the vendor's contract types as a string of JSON while its clients send the value itself
    (reference §1.10): the emulator takes either."""
    return {
        "description": f"{what}, or the same encoded as a JSON string",
        "oneOf": [
            schema,
            {"type": "string", "contentMediaType": "application/json", "contentSchema": schema},
        ],
    }


# Installed state: `installedVersion` is there exactly when `installed` is true (the vendor omits it
# otherwise; the generated 2024-03 SDK then reads 0).
INSTALLED_VERSION_RULE: Schema = {
    "if": {"properties": {"installed": {"const": True}}},
    "then": {"required": ["installedVersion"]},
    "else": {"not": {"required": ["installedVersion"]}},
}

_BLOCK = closed({"name": TEXT, "id": {"type": "string", "format": "uuid"}, "type": TEXT, "icon": TEXT})
_CREDENTIAL_PROPERTY = closed({"name": TEXT, "displayName": TEXT}, {"description": STRING})
_FIELD_TYPES = ["string", "number", "boolean", "select"]

# Named schemas, under components/schemas.
COMPONENTS: dict[str, Schema] = {
    "Error": closed(
        {"message": TEXT},
        description="Every error: a JSON object with one message (never a stack trace).",
    ),
    "User": closed({"userId": OBJECT_ID, "username": TEXT}, {"fullName": STRING}, description="fullName only when set"),
    "Block": _BLOCK,
    "Workflow": closed(
        {
            "workflowId": OBJECT_ID,
            "integrationId": OBJECT_ID,
            "name": TEXT,
            "createdAt": TIMESTAMP,
            "updatedAt": TIMESTAMP,
            "installed": BOOLEAN,
            "active": BOOLEAN,
            "version": {**VERSION_NUMBER, "description": "The latest released version"},
            "blocks": array(ref("Block")),
        },
        {"installedVersion": {**VERSION_NUMBER, "description": "The user's version; only when installed"}},
        **INSTALLED_VERSION_RULE,
    ),
    "IntegrationWorkflow": closed(
        {
            "workflowId": OBJECT_ID,
            "name": TEXT,
            "installed": BOOLEAN,
            "version": VERSION_NUMBER,
            "active": BOOLEAN,
            "blocks": array(ref("Block")),
        },
        {"installedVersion": VERSION_NUMBER},
        **INSTALLED_VERSION_RULE,
    ),
    "Integration": closed(
        {
            "integrationId": OBJECT_ID,
            "app": {**TEXT, "description": "The integration's name (accepted in place of its id)"},
            "installed": {**BOOLEAN, "description": "Tracked apart from its workflows' flags"},
            "icon": TEXT,
            "workflows": array(ref("IntegrationWorkflow")),
        }
    ),
    "WorkflowVersion": closed(
        {
            "versionId": OBJECT_ID,
            "versionName": TEXT,
            "lastModified": TIMESTAMP,
            "status": {"enum": ["active", "inactive"], "description": "active: the version the user has installed"},
        }
    ),
    "WorkflowUser": closed(
        {
            "username": TEXT,
            "userId": OBJECT_ID,
            "workflowActive": BOOLEAN,
            "installedVersion": VERSION_NUMBER,
        },
        {"fullName": STRING},
    ),
    "App": closed({"name": TEXT, "icon": TEXT, "type": array({"enum": ["action", "trigger"]}, minItems=1)}),
    "CredentialMetadata": closed(
        {"name": TEXT, "icon": TEXT, "isOauth": BOOLEAN, "properties": array(_CREDENTIAL_PROPERTY)},
        description="What a credential of one app holds: `properties` are the keys of its `data`",
    ),
    "UserCredential": closed(
        {"credentialId": OBJECT_ID, "type": TEXT, "createdAt": TIMESTAMP, "updatedAt": TIMESTAMP},
        description="A user's credential; its secret values are never rendered",
    ),
    "InstallFormBlock": closed(
        {
            "workflowId": OBJECT_ID,
            "app": TEXT,
            "blockId": {"type": "string", "format": "uuid"},
            "fields": array(
                closed(
                    {"name": TEXT, "displayName": TEXT, "type": {"enum": _FIELD_TYPES}, "required": BOOLEAN},
                    {"options": array(TEXT, minItems=1, description="The choices of a select field")},
                )
            ),
        }
    ),
    "CustomEvent": closed({"name": TEXT, "description": STRING, "body": {"type": "object"}}),
    "ExecutionResult": closed(
        {
            "blockId": {"type": "string", "format": "uuid"},
            "startedAt": TIMESTAMP,
            "stoppedAt": TIMESTAMP,
            "data": array(array(closed({"json": {"type": "object"}, "id": {"type": "string", "format": "uuid"}}))),
        },
        {"error": closed({"message": TEXT})},
        description="One block's run: its output items, or (the failing block) an error and no data",
    ),
    "Execution": closed(
        {
            "executionId": {"type": "string", "pattern": "^[A-Za-z0-9_-]{21}$"},
            "startedAt": TIMESTAMP,
            "finished": BOOLEAN,
            "results": array(ref("ExecutionResult")),
            "inputs": array(closed({"blockId": {"type": "string", "format": "uuid"}, "data": {"type": "object"}})),
        },
        {"stoppedAt": {**TIMESTAMP, "description": "Absent while the run is still going (--run-latency)"}},
    ),
    "ExecutionError": closed(
        {"workflowId": OBJECT_ID, "block": TEXT, "errorOccurredAt": TIMESTAMP, "message": TEXT},
        description="A failed execution: the app (block type) that failed, when and why",
    ),
    "NewUser": request({"username": USER_TEXT}, {"fullName": {"type": ["string", "null"], "maxLength": 1024}}),
    "CredentialInput": {
        **request(
            {
                "type": {**TEXT, "description": "An app name from the credential metadata, e.g. wooCommerce"},
                "data": {
                    "type": "object",
                    "maxProperties": 50,
                    "additionalProperties": {"type": ["string", "number", "boolean"]},
                    "description": "The app's properties (key-based apps: exactly these; OAuth apps may add tokens)",
                },
            },
            {"name": STRING},
        ),
        "additionalProperties": False,
    },
}
