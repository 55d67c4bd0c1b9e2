"""The documentation site's endpoint pages, generated from the emulator's own OpenAPI documents.

`mkdocs build` calls scripts/docs/hooks.py (a MkDocs hook, see mkdocs.yml), which adds one page per API version
(endpoints/2023-12.md, ...) from `GET /openapi.json` and one for the control API from `GET /_mock/openapi.json`,
both read from an in-memory emulator at build time: the pages list what the code serves, so they cannot drift.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.testclient import TestClient

from alloy_mock.app import create_app
from alloy_mock.config import API_VERSIONS, Settings

METHODS = ("get", "put", "post", "delete", "patch")


def openapi_documents() -> tuple[dict[str, Any], dict[str, Any]]:
    """The vendor API's document and the control API's, as a running emulator serves them."""
    with TestClient(create_app(Settings())) as client:
        return client.get("/openapi.json").json(), client.get("/_mock/openapi.json").json()


def generated_pages() -> dict[str, str]:
    """{path inside docs/: Markdown} of every generated page."""
    vendor, control = openapi_documents()
    pages = {f"endpoints/{version}.md": version_page(vendor, version) for version in API_VERSIONS}
    pages["endpoints/index.md"] = index_page(vendor)
    pages["endpoints/control.md"] = control_page(control)
    return pages


def operations(document: dict[str, Any], prefix: str = "") -> list[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, operation) of every operation whose path starts with `prefix`, in the document's order."""
    found: list[tuple[str, str, dict[str, Any]]] = []
    for path, item in document["paths"].items():
        if path.startswith(prefix):
            found.extend((method.upper(), path, item[method]) for method in METHODS if method in item)
    return found


def index_page(document: dict[str, Any]) -> str:
    lines = [
        "# Endpoints",
        "",
        "Every vendor operation alloy-mock serves, per API version, generated from the emulator's own",
        "`GET /openapi.json` when this site is built. The control API (`/_mock`) has [its own page](control.md).",
        "",
        "| Version | Operations |",
        "|---|---|",
    ]
    for version in API_VERSIONS:
        lines.append(f"| [{version}]({version}.md) | {len(operations(document, f'/{version}/'))} |")
    lines += ["", document["info"]["description"], ""]
    return "\n".join(lines)


def version_page(document: dict[str, Any], version: str) -> str:
    found = operations(document, f"/{version}/")
    lines = [
        f"# API {version}",
        "",
        f"The {len(found)} operations served under `/{version}/`, generated from `GET /openapi.json`. Every success",
        'is a 200 with a JSON body; every error is JSON `{"message": "..."}` (400, 401, 404 as the vendor answers).',
        "",
    ]
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for entry in found:
        tags = [tag for tag in entry[2].get("tags", []) if tag != version] or ["Other"]
        by_tag.setdefault(tags[0], []).append(entry)
    for tag, entries in by_tag.items():
        lines += [f"## {tag}", ""]
        for method, path, operation in entries:
            lines += operation_section(document, method, path, operation)
    return "\n".join(lines)


def control_page(document: dict[str, Any]) -> str:
    found = operations(document)
    lines = [
        "# Control API reference",
        "",
        f"The {len(found)} operations under `/_mock`, generated from the emulator's own `GET /_mock/openapi.json`.",
        "How to use them: [Control API](../control-api.md). Writes (POST, PUT, DELETE) need",
        "`Content-Type: application/json` or `X-Alloy-Mock: 1`; with `--admin-token`, every call needs",
        "`Authorization: Bearer <admin token>`.",
        "",
    ]
    for method, path, operation in found:
        lines += operation_section(document, method, path, operation)
    return "\n".join(lines)


def operation_section(document: dict[str, Any], method: str, path: str, operation: dict[str, Any]) -> list[str]:
    lines = [f"### `{method} {path}`", "", f"{operation.get('summary', '')}.".replace("..", "."), ""]
    if operation.get("x-alias-of"):
        lines += [f"An alias of `{operation['x-alias-of']}`.", ""]
    if operation.get("description"):
        lines += [operation["description"], ""]
    parameters = [resolve(document, p) for p in operation.get("parameters", [])]
    if parameters:
        lines += ["| Parameter | In | Required | Type | Description |", "|---|---|---|---|---|"]
        for parameter in parameters:
            schema = parameter.get("schema", {})
            description = parameter.get("description") or schema.get("description", "")
            required = "yes" if parameter.get("required") else ""
            lines.append(
                f"| `{parameter['name']}` | {parameter['in']} | {required} | {type_of(document, schema)} "
                f"| {cell(description)} |"
            )
        lines.append("")
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None:
        lines += fields("Request body", document, body.get("schema", {}))
        if "example" in body:
            lines += ["Example:", "", "```json", compact(body["example"]), "```", ""]
    answer = operation.get("responses", {}).get("200", {}).get("content", {}).get("application/json")
    if answer is not None:
        lines += fields("Answer (200)", document, answer.get("schema", {}))
    return lines


def fields(title: str, document: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    schema = resolve(document, schema)
    properties = schema.get("properties")
    if not properties:
        return [f"{title}: {type_of(document, schema)}.", ""]
    required = set(schema.get("required", []))
    lines = [f"{title}:", "", "| Field | Type | Required | Description |", "|---|---|---|---|"]
    for name, value in properties.items():
        description = resolve(document, value).get("description", "")
        lines.append(
            f"| `{name}` | {type_of(document, value)} | {'yes' if name in required else ''} | {cell(description)} |"
        )
    return [*lines, ""]


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A `$ref` (local, '#/...') replaced by what it points at."""
    while "$ref" in schema:
        target: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        schema = target
    return schema


def type_of(document: dict[str, Any], schema: dict[str, Any]) -> str:
    """A short type: `string`, `array of Workflow`, `string or null`, a component's name."""
    if "$ref" in schema:
        return str(schema["$ref"].rsplit("/", 1)[-1])
    if "const" in schema:
        return f"`{compact(schema['const'])}`"
    for combinator in ("oneOf", "anyOf"):
        if combinator in schema:
            return " or ".join(type_of(document, option) for option in schema[combinator])
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array":
        return f"array of {type_of(document, schema.get('items', {}))}"
    if "enum" in schema:
        return " \\| ".join(f"`{compact(value)}`" for value in schema["enum"])
    return str(kind)


def cell(text: str) -> str:
    """Text that fits in one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
