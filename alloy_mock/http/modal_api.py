"""The JSON endpoints behind the hosted modal's pages (alloy_mock/pages/modal.js calls them).

- GET /forge-install/api/form?<the page's own query>: what to show (the integration, each app's credential
  choice, each workflow's fields with their values). The page forwards its query string as alloy-frontend
  built it (unencoded: http/modal_query.py reads it).
- POST /forge-install/api/install: install what the end user chose, through `Modal.submit()` (the same
  `Installs.plan()`/`install()` as every install path). 400 with `problems` [{where, message}] when
  fields or credentials are wrong, each `where` naming the field, so the page shows it next to it.
- GET /authenticate-app/api/form?<query> and POST /authenticate-app/api/connect: the same for one app's
  credential (alloy-frontend's `authenticate`).

The user is the one of the token: `token` in the form's query, `x-alloy-user-token` on the writes.
A missing, malformed, expired or forged token is a 401 {"message": "Unauthorized"}, and nothing changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..auth import InvalidToken, TokenClaims
from ..catalogue import CredentialMetadata
from ..domain.credentials import Credential
from ..domain.errors import InvalidFields, InvalidInput, Problem, brief
from ..domain.modal import AppChoice, Form, Target
from .errors import ApiError, unauthorized
from .modal_query import ModalQuery, parse_query
from .request import USER_TOKEN_HEADER, emulator, read_json_object
from .responses import JSONResponse, ok
from .routing import route

MAX_ITEMS = 200  # workflows, blocks, fields, apps or properties in one install request


def query_of(request: Request) -> ModalQuery:
    return parse_query(request.scope.get("query_string", b""))


def verified(request: Request, token: str | None) -> TokenClaims:
    """The claims of `token`, whose user still exists; 401 otherwise."""
    if not token:
        raise unauthorized()
    em = emulator(request)
    try:
        claims = em.tokens.verify(token)
    except InvalidToken:
        raise unauthorized() from None
    if em.users.by_id(claims.namespace, claims.user_id) is None:
        raise unauthorized()
    return claims


def target_of(request: Request, claims: TokenClaims, params: Mapping[str, Any]) -> Target:
    """The modal's target from page parameters: integrationId, workflowIds, versionIds, operation."""
    return emulator(request).modal.target(
        claims.namespace,
        claims.user_id,
        params.get("integrationId"),
        params.get("workflowIds") or [],
        params.get("versionIds") or [],
        params.get("operation") or "install",
    )


def page_params(query: ModalQuery) -> dict[str, Any]:
    """The target parameters of a page's query, in the shape the install request sends them back."""
    return {
        "integrationId": query.first("integrationId"),
        "workflowIds": query.all("id"),
        "versionIds": query.all("versionId"),
        "operation": query.first("operation") or "install",
    }


def credential_json(credential: Credential) -> dict[str, Any]:
    return {"credentialId": credential.credential_id, "type": credential.type, "createdAt": credential.created_at}


def app_json(metadata: CredentialMetadata, existing: list[Credential], selected: str | None) -> dict[str, Any]:
    return {
        "app": metadata.name,
        "isOauth": metadata.is_oauth,
        "properties": [
            {"name": p.name, "displayName": p.display_name, "description": p.description, "required": p.required}
            for p in metadata.properties
        ],
        "credentials": [credential_json(c) for c in existing],
        "selected": selected,
    }


def user_json(request: Request, claims: TokenClaims) -> dict[str, Any]:
    user = emulator(request).users.by_id(claims.namespace, claims.user_id)
    return {"userId": claims.user_id, "username": user.username if user is not None else claims.user_id}


def form_json(form: Form, params: Mapping[str, Any], query: ModalQuery, user: dict[str, Any]) -> dict[str, Any]:
    integration = form.target.integration
    return {
        "user": user,
        "integration": {"integrationId": integration.integration_id, "app": integration.app, "icon": integration.icon},
        "params": dict(params),
        "operation": form.target.operation,
        "title": query.first("title"),
        "hide": query.flag("hide"),
        "apps": [app_json(a.metadata, a.existing, a.selected) for a in form.apps],
        "workflows": [
            {
                "workflowId": w.workflow.workflow_id,
                "name": w.workflow.name,
                "version": w.version,
                "installed": w.install is not None,
                "fields": [
                    {
                        "blockId": e.block.id,
                        "blockName": e.block.name,
                        "name": e.field.name,
                        "displayName": e.field.display_name,
                        "type": e.field.type,
                        "required": e.field.required,
                        "options": e.field.options,
                        "value": e.value,
                    }
                    for e in w.fields
                ],
            }
            for w in form.workflows
        ],
        "notices": form.notices,
    }


def problems_response(exc: InvalidFields) -> JSONResponse:
    problems = [{"where": list(p.where), "message": p.message} for p in exc.problems]
    return JSONResponse({"message": exc.message, "problems": problems}, status_code=400)


async def install_form(request: Request) -> Response:
    query = query_of(request)
    claims = verified(request, query.first("token"))
    params = page_params(query)
    target = target_of(request, claims, params)
    prefilled, notice = query.json("preFilledValues")
    form = emulator(request).modal.form(claims.namespace, claims.user_id, target, prefilled)
    if notice is not None:
        form.notices.append(notice)
    if query.first("outputOverride") is not None:
        form.notices.append("outputOverride is read but not applied: runs record the emulator's sample outputs")
    return ok(form_json(form, params, query, user_json(request, claims)))


def _string_list(body: Mapping[str, Any], name: str) -> list[str]:
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_ITEMS or not all(isinstance(v, str) for v in value):
        raise ApiError(400, f"{name} must be an array of at most {MAX_ITEMS} strings")
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ApiError(400, f"{where} must be an object")
    if len(value) > MAX_ITEMS:
        raise ApiError(400, f"{where} has more than {MAX_ITEMS} entries")
    return value


def _choice(app: str, value: Any) -> tuple[str | None, dict[str, Any] | None]:
    """One app's entry of `credentials`: {"credentialId": id} or {"data": {property: value}}."""
    where = f"credentials.{brief(app)}"
    entry = _object(value, where)
    if set(entry) == {"credentialId"} and isinstance(entry["credentialId"], str):
        return entry["credentialId"], None
    if set(entry) == {"data"}:
        return None, _object(entry["data"], f"{where}.data")
    raise ApiError(400, f'{where} must be {{"credentialId": "..."}} or {{"data": {{...}}}}')


def _values(value: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """{workflowId: {blockId: {field: value}}}, each level an object."""
    values = _object(value if value is not None else {}, "values")
    return {
        workflow_id: {
            block_id: _object(fields, f"values.{brief(workflow_id)}.{brief(block_id)}")
            for block_id, fields in _object(blocks, f"values.{brief(workflow_id)}").items()
        }
        for workflow_id, blocks in values.items()
    }


async def install(request: Request) -> Response:
    claims = verified(request, request.headers.get(USER_TOKEN_HEADER))
    body = await read_json_object(request)
    unknown = sorted(set(body) - {"integrationId", "workflowIds", "versionIds", "operation", "credentials", "values"})
    if unknown:
        raise ApiError(400, f"Unknown keys: {', '.join(map(brief, unknown))}")
    integration_id = body.get("integrationId")
    operation = body.get("operation")
    if not isinstance(integration_id, str | None) or not isinstance(operation, str | None):
        raise ApiError(400, "integrationId and operation must be strings")
    params = {
        "integrationId": integration_id,
        "workflowIds": _string_list(body, "workflowIds"),
        "versionIds": _string_list(body, "versionIds"),
        "operation": operation,
    }
    chosen = _object(body.get("credentials") or {}, "credentials")
    credentials = {app: _choice(app, entry) for app, entry in chosen.items()}
    values = _values(body.get("values"))
    em = emulator(request)
    target = target_of(request, claims, params)
    try:
        written = em.modal.submit(claims.namespace, claims.user_id, target, credentials, values)
    except InvalidFields as exc:
        return problems_response(exc)
    credential_ids = {app: cid for record in written for app, cid in record.credential_ids.items()}
    return ok({"workflowIds": [record.workflow_id for record in written], "credentialIds": credential_ids})


def authenticate_target(request: Request, claims: TokenClaims, query: ModalQuery) -> CredentialMetadata:
    """The app /authenticate-app connects: `app`, else the first app of `integrationId` that needs a credential."""
    em = emulator(request)
    app = query.first("app")
    if app is not None:
        return em.credentials.metadata(app)
    integration_id = query.first("integrationId")
    if integration_id is None:
        raise InvalidInput("The page needs an app (app=...) or an integrationId")
    target = em.modal.target(claims.namespace, claims.user_id, integration_id, [], [], "install")
    choices = em.modal.app_choices(claims.namespace, claims.user_id, target)
    if not choices:
        raise InvalidInput(f"The integration {target.integration.app} needs no credential")
    return choices[0].metadata


async def authenticate_form(request: Request) -> Response:
    query = query_of(request)
    claims = verified(request, query.first("token"))
    metadata = authenticate_target(request, claims, query)
    choice: AppChoice = emulator(request).modal.app_choice(claims.namespace, claims.user_id, metadata)
    app = app_json(choice.metadata, choice.existing, choice.selected)
    return ok({"user": user_json(request, claims), "app": app, "title": query.first("title")})


async def connect(request: Request) -> Response:
    claims = verified(request, request.headers.get(USER_TOKEN_HEADER))
    body = await read_json_object(request)
    app = body.get("app")
    if not isinstance(app, str) or not app:
        raise ApiError(400, "app is required")
    unknown = sorted(set(body) - {"app", "credentialId", "data"})
    if unknown:
        raise ApiError(400, f"Unknown keys: {', '.join(map(brief, unknown))}")
    credential_id, data = _choice(app, {k: v for k, v in body.items() if k != "app"})
    try:
        credential = emulator(request).modal.connect(claims.namespace, claims.user_id, app, credential_id, data)
    except InvalidFields as exc:
        where = ("credentials", app)
        return problems_response(InvalidFields([Problem((*where, *p.where), p.message) for p in exc.problems]))
    return ok({"credentialId": credential.credential_id, "app": credential.type})


routes = [
    route("/forge-install/api/form", GET=install_form),
    route("/forge-install/api/install", POST=install),
    route("/authenticate-app/api/form", GET=authenticate_form),
    route("/authenticate-app/api/connect", POST=connect),
]
