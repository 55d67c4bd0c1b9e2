"""The emulator's OpenAPI 3.1 document of the vendor API, served at /openapi.json (no key needed).

Generated from the live route tables (app.VENDOR_ROUTES: each route's path, versions and handlers) joined
with what each vendor operation takes and answers (vendor_operations.OPERATION_DOCS), so that no route is
served undescribed: building the document fails and names what to add. A route that coverage does not list
is an alias when the handler of a listed operation serves it. DESCRIPTION below says how the document is
laid out for its readers.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from .. import __version__
from ..config import API_VERSIONS
from ..control.coverage import OPERATIONS
from .routing import Endpoint, MethodRoute, route
from .vendor_operations import OPERATION_DOCS, PATH_PARAMETERS, ROUTE_PARAMETERS, OperationDoc
from .vendor_schemas import COMPONENTS, Schema, ref

DOCS_TABLE = "OPERATION_DOCS in alloy_mock/http/vendor_operations.py"
COVERAGE_TABLE = "OPERATIONS in alloy_mock/control/coverage.py"
_PARAMETER = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")
_JSON_ERROR = {"application/json": {"schema": ref("Error")}}
ERROR_RESPONSES: dict[str, Schema] = {
    "BadRequest": {"description": "Bad input, named in the message", "content": _JSON_ERROR},
    "Unauthorized": {
        "description": 'No valid API key (or user token): {"message": "Unauthorized"}',
        "content": _JSON_ERROR,
    },
    "NotFound": {
        "description": "Unknown user, integration, workflow, credential or installation",
        "content": _JSON_ERROR,
    },
    "OtherError": {
        "description": "405 wrong method, 413 body too large, 415 not JSON, 503 not saved; faults injected "
        "through /_mock/faults answer what they were given",
        "content": _JSON_ERROR,
    },
}
SECURITY_SCHEMES = {
    "api_key": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Bearer <key>` (the scheme in any case) or the bare key. The key chooses the namespace: "
        "development or production, per account.",
    },
    "user_token": {
        "type": "apiKey",
        "in": "header",
        "name": "x-alloy-user-token",
        "description": "A user token (GET /users/{userId}/token) sent without Authorization, as alloy-frontend "
        "does: the request then acts for that user and takes no userId.",
    },
}
DESCRIPTION = """Every vendor route alloy-mock serves, per API version: paths carry the version prefix, and a tag \
per version groups them. Generated from the emulator's own route tables, so it lists exactly the operations \
`GET /_mock/coverage` reports as served, plus aliases.

- `operationId` is the vendor's (in `x-vendor-operation-id`) with the version appended, as operationIds must \
be unique in a document.
- An alias (`x-alias-of`: the vendor's operationId; operationId suffixed `-alias`, then `-alias-2`...) is a \
route the vendor's SDKs do not call in that version, answered as that operation is (`/user/{userId}/token`).
- Where one path means different things per method, its parameter is named after both (`appOrCredentialId`).
- Every success is a 200 with a JSON body; every error is JSON `{"message": "..."}`. Trailing and repeated \
slashes are tolerated, HEAD is answered wherever GET is, and unknown query parameters (and body keys, but \
for a credential's) are ignored."""


class UndescribedRoute(Exception):
    """A served vendor route that the document cannot describe; the message says what to add."""


@dataclass(frozen=True)
class ServedOperation:
    """One method of one route in one version, and the vendor operation it serves."""

    version: str
    route: MethodRoute
    method: str
    operation_id: str
    template: str  # the coverage path (without version) whose form it serves
    alias: bool
    document_id: str  # its operationId in the document, unique

    @property
    def doc(self) -> OperationDoc:
        entry = OPERATION_DOCS[self.operation_id]
        return entry.by_path.get(self.template, entry)


def _shape(path: str) -> str:
    return _PARAMETER.sub("{}", path)


def _methods(routes: list[MethodRoute]) -> Iterator[tuple[MethodRoute, str, str, Endpoint]]:
    """(route, version, method, handler) for every method of every route, version by version; not HEAD,
    which the GET handler answers."""
    for version in API_VERSIONS:
        for entry in routes:
            if version in entry.versions:
                for method, handler in entry.handlers.items():
                    if method != "HEAD":
                        yield entry, version, method, handler


def served_operations(routes: Iterable[MethodRoute]) -> list[ServedOperation]:
    """Every (version, route, method) the routes serve, with its vendor operation; UndescribedRoute names
    each route that has none, or whose operation has no entry in OPERATION_DOCS."""
    listed = {
        (version, method, _shape(template)): (operation_id, template)
        for operation_id, method, paths in OPERATIONS
        for versions, template in paths.items()
        for version in versions
    }
    routes = list(routes)
    # The handler of each listed operation, so that a route it also serves is known as an alias.
    by_handler: dict[Endpoint, set[tuple[str, str]]] = {}
    for entry, version, method, handler in _methods(routes):
        found = listed.get((version, method, _shape(entry.path)))
        if found is not None:
            by_handler.setdefault(handler, set()).add(found)
    served: list[ServedOperation] = []
    aliases: dict[str, int] = {}  # how many aliases of an operation in a version so far
    problems = []
    for entry, version, method, handler in _methods(routes):
        found = listed.get((version, method, _shape(entry.path)))
        if found is not None:
            served.append(ServedOperation(version, entry, method, *found, False, f"{found[0]}-{version}"))
            continue
        primaries = sorted(by_handler.get(handler, ()))
        candidates = sorted({operation_id for operation_id, _ in primaries})
        if len(candidates) != 1:
            which = f" (its handler serves {', '.join(candidates)})" if candidates else ""
            problems.append(
                f"{method} /{version}{entry.path} is served but is not a vendor operation{which}: add it to "
                f"{COVERAGE_TABLE} (operationId, method, {{versions: path}}), then describe the operation in "
                f"{DOCS_TABLE}"
            )
            continue
        operation_id, template = primaries[0]
        document_id = f"{operation_id}-{version}-alias"
        aliases[document_id] = count = aliases.get(document_id, 0) + 1
        document_id += f"-{count}" if count > 1 else ""
        served.append(ServedOperation(version, entry, method, operation_id, template, True, document_id))
    missing = sorted({op.operation_id for op in served} - set(OPERATION_DOCS))
    for operation_id in missing:
        where = ", ".join(
            f"{op.method} /{op.version}{op.route.path}" for op in served if op.operation_id == operation_id
        )
        problems.append(
            f"{where}: vendor operation {operation_id!r} is served but not described: add "
            f"{operation_id!r}: OperationDoc(summary, group, response schema, query=..., body=...) to {DOCS_TABLE}"
        )
    if problems:
        raise UndescribedRoute("\n".join(problems))
    return served


def vendor_openapi(routes: Iterable[MethodRoute]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the vendor routes `routes` serve, per version."""
    served = served_operations(routes)
    groups: dict[tuple[str, str], list[ServedOperation]] = {}
    for op in served:
        groups.setdefault((op.version, op.route.path), []).append(op)
    paths: dict[str, dict[str, Any]] = {}
    for (version, route_path), ops in groups.items():
        names = _path_names(route_path, ops)
        paths[f"/{version}{_rename(route_path, names)}"] = {op.method.lower(): _operation(op, names) for op in ops}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Alloy Embedded API, as alloy-mock serves it",
            "version": __version__,
            "description": DESCRIPTION,
        },
        "tags": [{"name": version, "description": f"Served under /{version}/"} for version in API_VERSIONS],
        "security": [{"api_key": []}],
        "paths": paths,
        "components": {"schemas": COMPONENTS, "responses": ERROR_RESPONSES, "securitySchemes": SECURITY_SCHEMES},
    }


def _own_name(op: ServedOperation, parameter: str) -> str:
    name = op.doc.path_names.get(parameter) or ROUTE_PARAMETERS.get(parameter)
    if name is None:
        raise UndescribedRoute(
            f"{op.method} /{op.version}{op.route.path}: route parameter {parameter!r} has no vendor name: add it "
            f"to ROUTE_PARAMETERS, or to the operation's path_names, in alloy_mock/http/vendor_operations.py"
        )
    return name


def _path_names(route_path: str, ops: list[ServedOperation]) -> dict[str, str]:
    """Each route parameter's name in the document: the vendor's, or all of them joined when the operations
    on the path disagree (a path template has one name per segment)."""
    names = {}
    for parameter in _PARAMETER.findall(route_path):
        own = sorted({_own_name(op, parameter) for op in ops})
        names[parameter] = own[0] + "".join(f"Or{name[0].upper()}{name[1:]}" for name in own[1:])
    return names


def _rename(route_path: str, names: dict[str, str]) -> str:
    return _PARAMETER.sub(lambda match: "{" + names[match.group(1)] + "}", route_path)


def _operation(op: ServedOperation, names: dict[str, str]) -> dict[str, Any]:
    doc = op.doc
    parameters: list[dict[str, Any]] = [
        {
            "name": names[parameter],
            "in": "path",
            "required": True,
            "description": PATH_PARAMETERS[_own_name(op, parameter)],
            "schema": {"type": "string"},
        }
        for parameter in _PARAMETER.findall(op.route.path)
    ]
    parameters += [
        {
            "name": p.name,
            "in": "query",
            "required": p.required,
            "description": p.description,
            "schema": {"type": "string"},
        }
        for p in doc.query
    ]
    operation: dict[str, Any] = {
        "operationId": op.document_id,
        "summary": doc.summary,
        "tags": [op.version, doc.group],
    }
    description = doc.description
    if op.alias:
        operation["x-alias-of"] = op.operation_id
        description = f"Answered as {op.operation_id} at {op.template} is. {description}".strip()
    else:
        operation["x-vendor-operation-id"] = op.operation_id
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = parameters
    if doc.body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": doc.body}}}
    operation["responses"] = {
        "200": {"description": "Done", "content": {"application/json": {"schema": doc.response}}},
        "400": {"$ref": "#/components/responses/BadRequest"},
        "401": {"$ref": "#/components/responses/Unauthorized"},
        "404": {"$ref": "#/components/responses/NotFound"},
        "default": {"$ref": "#/components/responses/OtherError"},
    }
    if doc.user_token:
        operation["security"] = [{"api_key": []}, {"user_token": []}]
    return operation


async def openapi_json(request: Request) -> Response:
    # Built on the first request, once per app: the routes do not change while it serves.
    state = request.app.state
    cached: tuple[bytes, str] | None = getattr(state, "vendor_openapi", None)
    if cached is None:
        body = orjson.dumps(vendor_openapi(request.app.vendor_api.routes))
        cached = body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        state.vendor_openapi = cached
    body, etag = cached
    headers = {"Cache-Control": "public, max-age=300", "ETag": etag}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


routes = [route("/openapi.json", GET=openapi_json)]
