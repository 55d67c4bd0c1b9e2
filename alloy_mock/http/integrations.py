"""Integrations: the catalogue as one user sees it (API key + userId, or the user's own token)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..auth import InvalidToken
from ..domain.integrations import IntegrationView, WorkflowView
from ..domain.users import User
from .errors import unauthorized
from .request import emulator, namespace, path_param, required_query_param
from .responses import ok
from .routing import route

USER_TOKEN_HEADER = "x-alloy-user-token"


def acting_user(request: Request) -> User:
    """The user a request is about: `?userId=` with an API key, or the user named by the user token
    that alloy-frontend sends in `x-alloy-user-token` (with no API key and no userId)."""
    em = emulator(request)
    token = request.headers.get(USER_TOKEN_HEADER)
    if token is not None and "authorization" not in request.headers:
        try:
            claims = em.tokens.verify(token)
        except InvalidToken:
            raise unauthorized() from None
        user = em.users.find(claims.namespace, claims.user_id)
        # The user may have been deleted since; and `find` also matches usernames, which must
        # not let a later user whose username is the old id inherit the token.
        if user is None or user.user_id != claims.user_id:
            raise unauthorized()
        return user
    ns = namespace(request)
    return em.users.get(ns, required_query_param(request, "userId"))


def render_block_list(view: WorkflowView) -> list[dict[str, Any]]:
    return [{"name": b.name, "id": b.id, "type": b.type, "icon": b.icon} for b in view.workflow.blocks]


def render_integration(view: IntegrationView) -> dict[str, Any]:
    integration = view.integration
    workflows = []
    for item in view.workflows:
        install = item.install
        workflow: dict[str, Any] = {
            "workflowId": item.workflow.workflow_id,
            "name": item.workflow.name,
            "installed": install is not None,
            "version": item.workflow.version,
        }
        if install is not None:  # the vendor omits installedVersion for workflows not installed
            workflow["installedVersion"] = install.installed_version
        workflow["active"] = install.active if install is not None else False
        workflow["blocks"] = render_block_list(item)
        workflows.append(workflow)
    return {
        "integrationId": integration.integration_id,
        "app": integration.app,
        "installed": view.installed,
        "icon": integration.icon,
        "workflows": workflows,
    }


async def list_integrations(request: Request) -> Response:
    user = acting_user(request)
    views = emulator(request).integrations.list_for(user)
    return ok({"data": [render_integration(view) for view in views]})


async def get_integration(request: Request) -> Response:
    user = acting_user(request)
    view = emulator(request).integrations.get_for(user, path_param(request, "integration"))
    return ok({"data": render_integration(view)})


routes = [
    route("/integrations", GET=list_integrations),
    route("/integrations/{integration}", GET=get_integration),
]
