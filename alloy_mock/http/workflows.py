"""Workflows: list and get (with the user's install state), versions, (de)activate, upgrade, delete, installers."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..domain.workflows import WorkflowView
from .errors import ApiError
from .integrations import install_state, render_blocks
from .request import acting_user, emulator, namespace, path_param, query_param, read_json_object, required_query_param
from .responses import ok
from .routing import route


def render_workflow(view: WorkflowView) -> dict[str, Any]:
    workflow = view.workflow
    state = install_state(view.install)
    body: dict[str, Any] = {
        "workflowId": workflow.workflow_id,
        "integrationId": view.integration.integration_id,
        "name": workflow.name,
        "createdAt": workflow.created_at,
        "updatedAt": workflow.updated_at,
        "installed": state["installed"],
        "active": state["active"],
        "version": workflow.version,
    }
    if "installedVersion" in state:
        body["installedVersion"] = state["installedVersion"]
    body["blocks"] = render_blocks(workflow)
    return body


async def list_workflows(request: Request) -> Response:
    ns, user = acting_user(request, query_param(request, "userId"))
    views = emulator(request).workflows.list_for(ns, user, query_param(request, "integration"))
    return ok({"data": [render_workflow(view) for view in views]})


async def get_workflow(request: Request) -> Response:
    ns, user = acting_user(request, query_param(request, "userId"))
    view = emulator(request).workflows.get_for(ns, user, path_param(request, "workflow"))
    return ok({"data": render_workflow(view)})


async def list_versions(request: Request) -> Response:
    ns, user = acting_user(request, query_param(request, "userId"))
    versions = emulator(request).workflows.versions_for(ns, user, path_param(request, "workflow"))
    return ok(
        {
            "data": [
                {
                    "versionId": item.version.version_id,
                    "versionName": item.version.version_name,
                    "lastModified": item.version.last_modified,
                    "status": "active" if item.active else "inactive",
                }
                for item in versions
            ]
        }
    )


async def _switch(request: Request, active: bool) -> Response:
    """PUT /workflows/activate and /deactivate: body {userId, workflowId | workflowName} (no userId with
    the frontend's user token)."""
    body = await read_json_object(request)
    user_ref = body.get("userId")
    if user_ref is not None and not isinstance(user_ref, str):
        raise ApiError(400, "userId must be a string")
    ns, user = acting_user(request, user_ref or None)
    given = {name: body.get(name) for name in ("workflowId", "workflowName")}
    for name, value in given.items():
        if value is not None and not isinstance(value, str):
            raise ApiError(400, f"{name} must be a string")
    ref = given["workflowId"] or given["workflowName"]
    if not ref:
        raise ApiError(400, "workflowId or workflowName is required")
    emulator(request).workflows.set_active(ns, user, ref, active)
    return ok({"activated": active})


async def activate(request: Request) -> Response:
    return await _switch(request, True)


async def deactivate(request: Request) -> Response:
    return await _switch(request, False)


async def deactivate_all(request: Request) -> Response:
    em = emulator(request)
    ns = namespace(request)
    em.workflows.deactivate_all(ns, em.users.get(ns, path_param(request, "user")))
    return ok({"message": "Success"})


async def upgrade(request: Request) -> Response:
    em = emulator(request)
    ns = namespace(request)
    user = em.users.get(ns, required_query_param(request, "userId"))
    em.workflows.upgrade(ns, user, path_param(request, "workflow"))
    return ok({"upgraded": True})


async def delete_workflow(request: Request) -> Response:
    em = emulator(request)
    ns = namespace(request)
    user = em.users.get(ns, required_query_param(request, "userId"))
    em.workflows.uninstall(ns, user, path_param(request, "workflow"))
    return ok({"deleted": True})


async def workflow_users(request: Request) -> Response:
    ns = namespace(request)
    found = emulator(request).workflows.users_of(ns, path_param(request, "workflow"), query_param(request, "userId"))
    data = []
    for user, install in found:
        item: dict[str, Any] = {"username": user.username}
        if user.full_name is not None:
            item["fullName"] = user.full_name
        item.update(userId=user.user_id, workflowActive=install.active, installedVersion=install.installed_version)
        data.append(item)
    return ok({"data": data})


routes = [
    route("/workflows", GET=list_workflows),
    route("/workflows/activate", PUT=activate),
    route("/workflows/deactivate", PUT=deactivate),
    route("/workflows/{workflow}", GET=get_workflow, DELETE=delete_workflow),
    route("/workflows/{workflow}/versions", GET=list_versions),
    route("/workflows/{workflow}/upgrade", PUT=upgrade),
    route("/workflows/{workflow}/users", GET=workflow_users),
    route("/users/{user}/deactivate-workflows", PUT=deactivate_all),
]
