"""Integrations: the catalogue as one user sees it (API key + userId, or the user's own token); install links."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ..catalogue import Workflow
from ..domain.installs import WorkflowInstall
from ..domain.integrations import IntegrationView
from .request import acting_user, emulator, namespace, path_param, public_base_url, query_param
from .responses import ok
from .routing import route

# A workflow's blocks never change (the catalogue is read-only), and listing workflows renders all of them
# on every call: each workflow's blocks are rendered once, kept as JSON text. Keyed by the workflow object
# (several emulators in one process may each have their own catalogue).
_rendered_blocks: dict[int, tuple[Workflow, orjson.Fragment]] = {}
MAX_RENDERED = 10_000


def render_blocks(workflow: Workflow) -> orjson.Fragment:
    """The workflow's `blocks` array, as JSON for orjson to embed."""
    found = _rendered_blocks.get(id(workflow))
    if found is None or found[0] is not workflow:
        if len(_rendered_blocks) >= MAX_RENDERED:
            _rendered_blocks.clear()
        blocks = [{"name": b.name, "id": b.id, "type": b.type, "icon": b.icon} for b in workflow.blocks]
        found = _rendered_blocks[id(workflow)] = (workflow, orjson.Fragment(orjson.dumps(blocks)))
    return found[1]


def install_state(install: WorkflowInstall | None) -> dict[str, Any]:
    """`installed`, `active` and (only when installed, as the vendor omits it otherwise) `installedVersion`.

    Booleans are always sent: the generated 2024-03 SDK reads a missing boolean as true.
    """
    if install is None:
        return {"installed": False, "active": False}
    return {"installed": True, "active": install.active, "installedVersion": install.installed_version}


def render_integration(view: IntegrationView) -> dict[str, Any]:
    integration = view.integration
    workflows = []
    for item in view.workflows:
        state = install_state(item.install)
        workflow: dict[str, Any] = {
            "workflowId": item.workflow.workflow_id,
            "name": item.workflow.name,
            "installed": state["installed"],
            "version": item.workflow.version,
        }
        if "installedVersion" in state:
            workflow["installedVersion"] = state["installedVersion"]
        workflow["active"] = state["active"]
        workflow["blocks"] = render_blocks(item.workflow)
        workflows.append(workflow)
    return {
        "integrationId": integration.integration_id,
        "app": integration.app,
        "installed": view.installed,
        "icon": integration.icon,
        "workflows": workflows,
    }


async def list_integrations(request: Request) -> Response:
    ns, user = acting_user(request, query_param(request, "userId"))
    views = emulator(request).integrations.list_for(ns, user)
    return ok({"data": [render_integration(view) for view in views]})


async def get_integration(request: Request) -> Response:
    ns, user = acting_user(request, query_param(request, "userId"))
    view = emulator(request).integrations.get_for(ns, user, path_param(request, "integration"))
    return ok({"data": render_integration(view)})


async def install_url(request: Request) -> Response:
    """The Embedded Link: the emulator's /embedded-install page, with a fresh token of the user."""
    em = emulator(request)
    ns = namespace(request)
    user = em.users.get(ns, path_param(request, "user"))
    integration = em.installs.integration(path_param(request, "integration"))
    query = {
        "integrationId": integration.integration_id,
        "token": em.tokens.issue(ns, user.user_id, user.username),
        "forgeMode": "engaged",
        "alwaysShowCredentials": "true",
    }
    return ok({"url": f"{public_base_url(request)}/embedded-install?{urlencode(query)}"})


routes = [
    route("/integrations", GET=list_integrations),
    route("/integrations/{integration}", GET=get_integration),
    route("/users/{user}/integrations/{integration}/install-url", GET=install_url),
]
