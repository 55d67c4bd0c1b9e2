"""/openapi.json: the emulator's OpenAPI 3.1 document of the vendor API, generated from its route tables.

It must list exactly what /_mock/coverage says is served (plus aliases), be valid OpenAPI 3.1, describe only
routes that answer, refuse to build when a route has no description, and describe real answers truthfully:
a scenario per version calls every documented operation and checks each answer against its schema.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from starlette.testclient import TestClient

from alloy_mock.app import VENDOR_ROUTES
from alloy_mock.config import API_VERSIONS
from alloy_mock.control.coverage import OPERATIONS
from alloy_mock.http.routing import route
from alloy_mock.http.vendor_openapi import UndescribedRoute, vendor_openapi
from alloy_mock.http.vendor_operations import OPERATION_DOCS

from .conftest import DEV
from .helpers import assert_ok, show

DOCUMENT_URI = "urn:alloy-mock:openapi"
SHOPIFY = "64108c73d3e467ca351b6de3"
SYNC = "64108e3c3cac1228833b4944"  # "Sync New Customers to Shopify": versions 1 and 2 ask for the same fields
KLAVIYO_SYNC = "65c2a1f09d3b7e41c8a6f512"  # "Add Shopify Customers to Klaviyo": Shopify (OAuth) + Klaviyo (key)
WEBHOOK = "Fulfill Shopify Order from Webhook"
PARAMETER = re.compile(r"\{([^}]+)\}")
METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    return assert_ok(response)  # type: ignore[no-any-return]


def operations(document: Mapping[str, Any], version: str | None = None) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, operation) for every operation, or those of one version."""
    for path, item in document["paths"].items():
        if version is None or path.startswith(f"/{version}/"):
            for method, operation in item.items():
                if method in METHODS:
                    yield method.upper(), path, operation


def vendor_id(operation: Mapping[str, Any]) -> str:
    found = operation.get("x-vendor-operation-id") or operation.get("x-alias-of")
    assert isinstance(found, str), operation
    return found


def shape(path: str) -> str:
    return PARAMETER.sub("{}", path)


def matches(template: str, path: str) -> bool:
    pattern = "/".join("[^/]+" if PARAMETER.fullmatch(part) else re.escape(part) for part in template.split("/"))
    return re.fullmatch(pattern, path) is not None


def names_in(parameter: str) -> list[str]:
    """The vendor names a document parameter stands for: 'appOrCredentialId' -> ['app', 'credentialId']."""
    parts = re.split(r"Or(?=[A-Z])", parameter)
    return [parts[0], *(part[0].lower() + part[1:] for part in parts[1:])]


# -- the document itself ----------------------------------------------------------------------------


def test_served_without_a_key_as_cacheable_json(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, DEV):
        response = client.get("/openapi.json", headers=headers)
        assert_ok(response)
    assert response.headers["cache-control"] == "public, max-age=300", show(response)
    etag = response.headers["etag"]
    again = client.get("/openapi.json", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"", show(again)
    assert again.headers["etag"] == etag
    assert client.get("/openapi.json", headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get("/").json()["openapi"].endswith("/openapi.json")


def test_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    validate_openapi(document)  # raises, naming the first problem, if not


def test_operation_ids_are_the_vendors_per_version(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        version = path.split("/")[1]
        expected = f"{vendor_id(operation)}-{version}" + ("-alias" if "x-alias-of" in operation else "")
        assert re.fullmatch(re.escape(expected) + r"(-[2-9])?", operation["operationId"]), (method, path)
        assert operation["tags"][0] == version and operation["summary"].strip(), (method, path)
        declared = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
        assert declared == PARAMETER.findall(path), (method, path)


def test_security_is_the_key_or_on_some_routes_a_user_token(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["api_key"] == {**schemes["api_key"], "type": "apiKey", "in": "header", "name": "Authorization"}
    assert schemes["user_token"] == {**schemes["user_token"], "type": "apiKey", "name": "x-alloy-user-token"}
    assert document["security"] == [{"api_key": []}]
    browser = {("GET", "/2024-03/workflows"), ("GET", "/2024-03/integrations")}
    browser |= {("PUT", "/2024-03/workflows/activate"), ("PUT", "/2024-03/workflows/deactivate")}
    with_token = {
        (method, path)
        for method, path, operation in operations(document)
        if operation.get("security") == [{"api_key": []}, {"user_token": []}]
    }
    assert browser <= with_token


# -- what it lists: coverage's served operations, and only routes that answer -------------------------


@pytest.fixture
def coverage(client: TestClient) -> dict[str, Any]:
    return assert_ok(client.get("/_mock/coverage"))  # type: ignore[no-any-return]


@pytest.mark.parametrize("version", API_VERSIONS)
def test_lists_exactly_what_coverage_serves(document: dict[str, Any], coverage: dict[str, Any], version: str) -> None:
    listed = coverage["versions"][version]
    served = {(op["operationId"], op["method"], shape(op["path"])) for op in listed if op["served"]}
    unserved = {(op["operationId"], op["method"], shape(op["path"])) for op in listed if not op["served"]}
    documented = {
        (operation["x-vendor-operation-id"], method, shape(path))
        for method, path, operation in operations(document, version)
        if "x-vendor-operation-id" in operation
    }
    assert documented == served
    assert not documented & unserved
    # Parameters carry the vendor's names (or several joined, where one path means several things).
    paths = {(op["operationId"], op["method"], shape(op["path"])): op["path"] for op in listed}
    for method, path, operation in operations(document, version):
        if "x-vendor-operation-id" in operation:
            vendor_path = paths[(operation["x-vendor-operation-id"], method, shape(path))]
            for ours, theirs in zip(PARAMETER.findall(path), PARAMETER.findall(vendor_path), strict=True):
                assert theirs in names_in(ours), (method, path, vendor_path)


def test_aliases_are_routes_coverage_does_not_list(document: dict[str, Any], coverage: dict[str, Any]) -> None:
    aliases = set()
    for method, path, operation in operations(document):
        if "x-alias-of" in operation:
            version = path.split("/")[1]
            listed = {(op["method"], shape(op["path"])) for op in coverage["versions"][version]}
            assert (method, shape(path)) not in listed, (method, path)
            assert operation["x-alias-of"] in {operation_id for operation_id, _, _ in OPERATIONS}
            assert "x-vendor-operation-id" not in operation
            aliases.add((method, path, operation["x-alias-of"]))
    # The 2023-12 leniencies the README promises.
    assert {
        ("GET", "/2023-12/user/{userId}/token", "generate-jwt-token"),
        ("GET", "/2023-12/metadata/apps", "list-apps"),
        ("GET", "/2023-12/metadata/credentials", "get-credential-metadata"),
        ("GET", "/2023-12/metadata/credentials/{app}", "credential-medata-by-app"),
    } <= aliases


def test_every_documented_operation_is_served(client: TestClient, document: dict[str, Any]) -> None:
    vendor_api = client.app.vendor_api  # type: ignore[attr-defined]
    for method, path, _ in operations(document):
        sample = PARAMETER.sub("sample", path)
        assert vendor_api.serves(method, sample), (method, path)
        response = client.request(method, sample, headers=DEV, json={} if method in ("POST", "PUT") else None)
        assert response.status_code != 405, show(response)
        if response.status_code == 404:
            assert not response.json()["message"].startswith("No route"), show(response)


def test_every_served_route_is_documented(document: dict[str, Any]) -> None:
    documented = {(method, shape(path)) for method, path, _ in operations(document)}
    for entry in VENDOR_ROUTES:
        for version in entry.versions:
            for method in set(entry.handlers) - {"HEAD"}:
                assert (method, shape(f"/{version}{entry.path}")) in documented, (method, version, entry.path)


# -- a route without a description cannot be served undescribed ----------------------------------------


async def _handler(request: Any) -> Any:
    raise AssertionError("never called")


def test_every_served_route_is_described() -> None:
    """Fails when a route is added without a description, saying what to add (the served document would
    only answer a 500)."""
    problems = ""
    try:
        vendor_openapi(VENDOR_ROUTES)
    except UndescribedRoute as exc:
        problems = str(exc)
    if problems:
        pytest.fail(problems, pytrace=False)


def test_an_operation_without_a_description_fails_naming_what_to_add(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(OPERATION_DOCS, "list-events")
    with pytest.raises(UndescribedRoute) as raised:
        vendor_openapi(VENDOR_ROUTES)
    served = ", ".join(f"GET /{version}/events" for version in API_VERSIONS)
    assert str(raised.value) == (
        f"{served}: vendor operation 'list-events' is served but not described: "
        "add 'list-events': OperationDoc(summary, group, response schema, query=..., body=...) to "
        "OPERATION_DOCS in alloy_mock/http/vendor_operations.py"
    )


def test_a_route_that_is_no_vendor_operation_fails_naming_what_to_add() -> None:
    with pytest.raises(UndescribedRoute) as raised:
        vendor_openapi([*VENDOR_ROUTES, route("/reports", versions=("2023-12",), GET=_handler)])
    assert str(raised.value) == (
        "GET /2023-12/reports is served but is not a vendor operation: add it to OPERATIONS in "
        "alloy_mock/control/coverage.py (operationId, method, {versions: path}), then describe the operation "
        "in OPERATION_DOCS in alloy_mock/http/vendor_operations.py"
    )


def test_descriptions_are_for_served_operations_at_their_paths(document: dict[str, Any]) -> None:
    served = {vendor_id(operation) for _, _, operation in operations(document)}
    assert set(OPERATION_DOCS) == served
    paths = {operation_id: set(templates.values()) for operation_id, _, templates in OPERATIONS}
    for operation_id, entry in OPERATION_DOCS.items():
        assert set(entry.by_path) <= paths[operation_id], operation_id  # a typo would be silently unused


# -- the user-token alternative is documented where it is accepted -------------------------------------------


def test_user_token_is_documented_exactly_where_it_is_accepted(
    client: TestClient, document: dict[str, Any], make_user: Any
) -> None:
    user_id = make_user("browser@example.com")
    token = assert_ok(client.get(f"/2023-12/users/{user_id}/token", headers=DEV))["token"]
    for method, path, operation in operations(document):
        documented = {"user_token": []} in operation.get("security", document["security"])
        sample = PARAMETER.sub("sample", path)
        body = {} if method in ("POST", "PUT") else None
        response = client.request(method, sample, headers={"x-alloy-user-token": token}, json=body)
        assert (response.status_code != 401) == documented, (operation["operationId"], show(response))


# -- the schemas describe what the emulator answers ----------------------------------------------------------


class DocumentedApi:
    """Calls the vendor API by operationId, at every path the document gives the operation in one version,
    checking each request body against its documented schema and each answer against its response schema."""

    def __init__(self, client: TestClient, document: dict[str, Any], version: str) -> None:
        self.client = client
        self.version = version
        self.paths: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
        for method, path, operation in operations(document, version):
            self.paths.setdefault(vendor_id(operation), []).append((method, path, operation))
        self.registry = Registry().with_resource(DOCUMENT_URI, Resource.from_contents(document, DRAFT202012))
        self.document = document
        self.answered: set[str] = set()  # operationIds whose 200 matched the schema

    def has(self, operation_id: str) -> bool:
        return operation_id in self.paths

    def call(
        self,
        operation_id: str,
        path: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        headers: Mapping[str, str] = DEV,
        status: int = 200,
    ) -> Any:
        found = self.paths[operation_id]
        assert found[0][0] == "GET" or len(found) == 1, f"{operation_id}: one call per path only for GETs"
        answers = []
        for method, template, operation in found:
            where = f"/paths/{_escape(template)}/{method.lower()}"
            if body is not None and status == 200:
                self.check(body, f"{where}/requestBody/content/application~1json/schema")
            url = PARAMETER.sub(lambda match: _fill(match.group(1), path or {}), template)
            response = self.client.request(method, url, params=query, json=body, headers=dict(headers))
            assert response.status_code == status, show(response)
            documented = str(status) if str(status) in operation["responses"] else "default"
            answer = operation["responses"][documented]
            where = answer["$ref"][1:] if "$ref" in answer else f"{where}/responses/{documented}"
            self.check(response.json(), f"{where}/content/application~1json/schema", show(response))
            if status == 200:
                self.answered.add(operation["operationId"])
            answers.append(response.json())
        return answers[0]

    def check(self, instance: Any, pointer: str, context: str = "") -> None:
        schema = {"$ref": f"{DOCUMENT_URI}#{quote(pointer)}"}
        validator = Draft202012Validator(
            schema, registry=self.registry, format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        errors = [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(instance)]
        assert not errors, f"{pointer}: {errors} {context or instance}"

    def documented(self) -> set[str]:
        return {operation["operationId"] for entries in self.paths.values() for _, _, operation in entries}


def _escape(path: str) -> str:
    return path.replace("~", "~0").replace("/", "~1")


def _fill(parameter: str, values: Mapping[str, str]) -> str:
    given = [values[name] for name in names_in(parameter) if name in values]
    assert len(given) == 1, f"give one of {names_in(parameter)} for {{{parameter}}}"
    return quote(given[0], safe="@")


def test_schemas_can_fail(document: dict[str, Any], client: TestClient) -> None:
    """A schema that accepted anything would let every answer pass: each 200 schema refuses {} and the error
    schema refuses what is not exactly {"message": <text>}."""
    api = DocumentedApi(client, document, "2023-12")
    for method, path, _ in operations(document):
        pointer = f"/paths/{_escape(path)}/{method.lower()}/responses/200/content/application~1json/schema"
        with pytest.raises(AssertionError):
            api.check({}, pointer)
    error = "/components/schemas/Error"
    api.check({"message": "User not found"}, error)
    for bad in ({}, {"message": ""}, {"message": 1}, {"message": "x", "detail": "y"}, []):
        with pytest.raises(AssertionError):
            api.check(bad, error)


def test_installed_version_is_documented_only_with_installed(document: dict[str, Any], client: TestClient) -> None:
    api = DocumentedApi(client, document, "2023-12")
    block = {"name": "Slack", "id": "ff827207-a709-4689-a9e4-2e202af3a333", "type": "slack", "icon": "slack.png"}
    workflow = {"workflowId": SYNC, "name": "Sync", "version": 2, "active": False, "blocks": [block]}
    schema = "/components/schemas/IntegrationWorkflow"
    api.check({**workflow, "installed": False}, schema)
    api.check({**workflow, "installed": True, "installedVersion": 1}, schema)
    for bad in ({**workflow, "installed": True}, {**workflow, "installed": False, "installedVersion": 1}):
        with pytest.raises(AssertionError):
            api.check(bad, schema)


def install(client: TestClient, user: str, workflow: str, version: int | None = None) -> None:
    body: dict[str, Any] = {"user": user, "integration": "Shopify", "workflows": [workflow]}
    if version is not None:
        body["version"] = version
    assert_ok(client.post("/_mock/installs", json=body))


def state_of(workflows: list[dict[str, Any]], workflow_id: str) -> dict[str, Any]:
    (found,) = [item for item in workflows if item["workflowId"] == workflow_id]
    return {key: found.get(key) for key in ("installed", "active", "installedVersion")}


@pytest.mark.parametrize("version", API_VERSIONS)
def test_every_documented_answer_matches_its_schema(client: TestClient, document: dict[str, Any], version: str) -> None:
    """A realistic session per version, by operationId: each operation the document gives the version is
    called (at each of its paths), and each answer, errors included, checked against its schema."""
    api = DocumentedApi(client, document, version)
    alice = api.call("create-a-user", body={"username": "alice@example.com", "fullName": "Alice"})["userId"]
    # The vendor's contract types `users` as a string of JSON (reference §1.10).
    users = orjson.dumps([{"username": "bob@example.com"}, {"username": "alice@example.com"}, {"fullName": "Nobody"}])
    batch = api.call("batch-create-users", body={"users": users.decode()})
    assert batch["invalidUsers"] == [{"username": "alice@example.com"}, {"fullName": "Nobody"}]
    assert len(api.call("list-all-users")["data"]) == 2
    assert api.call("get-a-user", path={"userId": "alice@example.com"})["userId"] == alice
    assert api.call("update-a-user", path={"userId": alice}, body={"fullName": "Alice A."})["fullName"] == "Alice A."
    token = api.call("generate-jwt-token", path={"userId": alice})["token"]

    assert api.call("get-a-user", path={"userId": "nobody@example.com"}, status=404)["message"] == "User not found"
    assert api.call("list-all-users", headers={}, status=401) == {"message": "Unauthorized"}
    api.call("create-a-user", body={"username": ""}, status=400)
    api.call("list-versions", path={"workflowId": SYNC}, query={"userId": alice}, status=400)

    api.call("list-integrations", query={"userId": alice})
    api.call("get-an-integration", path={"integrationId": "Shopify"}, query={"userId": alice})
    assert api.call("generate-alloy-link", path={"userId": alice, "integrationId": SHOPIFY})["url"]
    api.call("list-apps")
    if api.has("get-credential-metadata"):
        api.call("get-credential-metadata")
    assert api.call("credential-medata-by-app", path={"app": "shopify"})["data"]["isOauth"] is True

    listed = api.call("list-workflows", query={"userId": alice})["data"]
    assert state_of(listed, SYNC) == {"installed": False, "active": False, "installedVersion": None}
    install(client, alice, SYNC, version=1)  # also grants an emulated Shopify credential
    listed = api.call("list-workflows", query={"userId": alice, "integration": "Shopify"})["data"]
    assert state_of(listed, SYNC) == {"installed": True, "active": True, "installedVersion": 1}
    api.call("find-a-workflow", path={"workflowId": SYNC}, query={"userId": alice})
    api.call("list-versions", path={"workflowId": SYNC}, query={"userId": alice})
    assert api.call("deactivate-a-workflow", body={"userId": alice, "workflowId": SYNC}) == {"activated": False}
    by_name = {"userId": "alice@example.com", "workflowName": "Sync New Customers to Shopify"}
    assert api.call("activate-a-workflow", body=by_name) == {"activated": True}
    assert api.call("list-users-by-workflowid", path={"workflowId": SYNC})["data"][0]["installedVersion"] == 1
    api.call("list-all-users", query={"parentWorkflowId": SYNC})
    if api.has("upgrade-workflow"):
        api.call("upgrade-workflow", path={"workflowId": SYNC}, query={"userId": alice})

    # The browser's way: the user's own token, no key and no userId.
    browser = {"x-alloy-user-token": token}
    api.call("list-workflows", headers=browser)
    api.call("deactivate-a-workflow", body={"workflowId": SYNC}, headers=browser)

    if version == "2024-03":  # the credential as a JSON string, the user in the body
        credential = orjson.dumps({"type": "klaviyo", "data": {"apiKey": "pk_live"}}).decode()
        created = api.call("create-a-credential", body={"credential": credential, "userId": alice})
    elif api.has("create-a-credential"):
        created = api.call(
            "create-a-credential",
            path={"userId": alice},
            body={"credential": {"type": "stripe", "data": {"apiKey": "sk"}}},
        )
    if api.has("list-user-credentials"):
        types = [item["type"] for item in api.call("list-user-credentials", path={"userId": alice})["data"]]
        assert "shopify" in types
    if version == "2024-03":
        assert api.call("generate-oauth-link", query={"userId": alice, "app": "hubspot"})["oauthUrl"]
    else:
        link = api.call(
            "generate-oauth-link", path={"userId": alice, "app": "hubspot"}, query={"integrationId": SHOPIFY}
        )
        assert link["redirectUrl"] == link["oauthUrl"]

    if api.has("start-installation"):
        started = api.call(
            "start-installation", body={"userId": alice, "integrationId": SHOPIFY, "workflowIds": [KLAVIYO_SYNC]}
        )
        values = {"listId": "L1", "doubleOptIn": "true"}  # string forms, as the vendor types them
        form = [
            {
                "workflowId": block["workflowId"],
                "blockId": block["blockId"],
                "fields": [{"name": item["name"], "value": values[item["name"]]} for item in block["fields"]],
            }
            for block in started["data"]
        ]
        api.call("complete-installation", body={"installationId": started["installationId"], "data": form})
        listed = api.call("list-workflows", query={"userId": alice})["data"]
        assert state_of(listed, KLAVIYO_SYNC) == {"installed": True, "active": True, "installedVersion": 1}
    if api.has("delete-a-credential"):
        api.call("delete-a-credential", path={"userId": alice, "credentialId": created["credentialId"]})

    # Runs: an event, a webhook, a failure, the logs, errors and analytics they leave, a rerun.
    api.call("activate-a-workflow", body={"userId": alice, "workflowId": SYNC})  # the browser switched it off
    assert api.call("list-events", query={"userId": alice})["data"]
    event = {"event": "Customer Created", "userId": alice, "data": {"email": "ada@example.com"}}
    assert api.call("run-event", body=event) == {"message": "Event successfully triggered"}
    failing = {**event, "data": orjson.dumps({"__alloy_mock": {"failAt": "shopify", "message": "Nope"}}).decode()}
    api.call("run-event", body=failing)
    install(client, alice, WEBHOOK)
    hook = {"workflowName": "Fulfill Shopify Order from Webhook", "userId": alice, "data": {"orderId": "1"}}
    assert api.call("run-workflow", body=hook) == {"message": "success"}
    logs = api.call("get-workflow-logs", path={"workflowId": SYNC}, query={"userId": alice, "limit": "5"})["data"]
    assert [entry["finished"] for entry in logs] == [True, True]
    errors = api.call("get-workflow-errors", path={"workflowId": SYNC}, query={"userId": alice})["data"]
    assert [item["message"] for item in errors] == ["Nope"]
    rerun = api.call(
        "rerun-workfow", path={"workflowId": SYNC, "executionId": logs[0]["executionId"]}, query={"userId": alice}
    )
    assert rerun["message"] == "success"
    analytics = api.call("get-workflow-analytics", path={"workflowId": SYNC})
    assert analytics == {"totalAppActions": 3, "totalWorkflowRuns": 3, "totalErrors": 1}
    assert api.call("delete-logs-for-a-user", path={"userId": alice}) == {"message": "Success"}

    assert api.call("disable-all-workflows-for-a-user", path={"userId": alice}) == {"message": "Success"}
    assert api.call("delete-workflow", path={"workflowId": SYNC}, query={"userId": alice}) == {"deleted": True}
    assert api.call("delete-a-user", path={"userId": alice}) == {"success": True}
    assert api.answered == api.documented()


# What the request schemas refuse, the emulator refuses too (a 400 naming the problem, nothing written).
REFUSED = [
    ("POST", "/2023-12/users", {}, "username is required"),
    ("POST", "/2023-12/users", {"username": 12}, "username must be a string"),
    ("POST", "/2023-12/users", {"username": "x" * 1025}, "username must be at most 1024 characters"),
    ("PUT", "/2023-12/workflows/activate", {"userId": "carol"}, "workflowId or workflowName is required"),
    (
        "POST",
        "/2023-12/users/carol/credentials",
        {"credential": {"type": "stripe", "data": {"apiKey": "sk"}, "extra": 1}},
        "credential has unknown keys: extra (expected type and data)",
    ),
    ("POST", "/2024-03/headless/startInstallation", {"userId": "carol"}, "integrationId is required"),
    (
        "POST",
        "/2024-03/headless/startInstallation",
        {"userId": "carol", "integrationId": SHOPIFY, "workflowIds": "all"},
        "workflowIds must be an array of ids",
    ),
    ("POST", "/2024-03/headless/completeInstallation", {"installationId": "0" * 24}, "data is required"),
]


@pytest.mark.parametrize(("method", "path", "body", "message"), REFUSED, ids=[m for *_, m in REFUSED])
def test_what_the_request_schemas_refuse_is_refused(
    client: TestClient, document: dict[str, Any], make_user: Any, method: str, path: str, body: Any, message: str
) -> None:
    make_user("carol")
    version = path.split("/")[1]
    api = DocumentedApi(client, document, version)
    (template,) = [p for m, p, _ in operations(document, version) if m == method and matches(p, path)]
    with pytest.raises(AssertionError):
        api.check(body, f"/paths/{_escape(template)}/{method.lower()}/requestBody/content/application~1json/schema")
    before = assert_ok(client.get("/_mock/installs", params={"user": "carol"}))
    response = client.request(method, path, json=body, headers=DEV)
    assert response.status_code == 400 and response.json() == {"message": message}, show(response)
    assert assert_ok(client.get("/_mock/installs", params={"user": "carol"})) == before
    assert assert_ok(client.get(f"/{version}/users/carol/credentials", headers=DEV))["data"] == []


def test_served_over_http(serve: Any) -> None:
    """The real server answers it too (the route sits beside the vendor API's own dispatcher)."""
    server = serve()
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        response = http.get("/openapi.json")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json", show(response)
    assert vendor_id(response.json()["paths"]["/2023-12/users"]["post"]) == "create-a-user"
