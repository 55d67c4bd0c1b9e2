"""The control API's installs (/_mock/installs): 2023-12 has no install endpoint, so tests install here.

POST runs the same domain code as the 2024-03 headless flow and the hosted modal; unlike them it creates an
emulated credential for an app the user has none of, so a test needs no credential setup of its own.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..auth import Namespace
from ..control.models import InstallBody, parse
from ..domain.errors import InvalidInput
from ..domain.fields import spread_by_name
from ..domain.headless import id_list, parse_form_data
from ..domain.installs import WorkflowInstall, version_of
from ..domain.users import User
from ..emulator import Emulator
from .control import admin, namespace_from, optional_body
from .request import query_param
from .responses import ok
from .routing import route


def render_install(em: Emulator, install: WorkflowInstall) -> dict[str, Any]:
    found = em.catalogue.find_workflow(install.workflow_id)
    return {
        "workflowId": install.workflow_id,
        "name": found[1].name if found is not None else None,
        "integrationId": install.integration_id,
        "installedVersion": install.installed_version,
        "active": install.active,
        "installedAt": install.installed_at,
        "updatedAt": install.updated_at,
        "values": install.values,
        "credentialIds": install.credential_ids,
    }


def _user(em: Emulator, body: dict[str, Any], request: Request) -> tuple[Namespace, User]:
    ns = namespace_from(em, body, request) or em.namespace_named("dev")
    ref = body.get("user", query_param(request, "user"))
    if not isinstance(ref, str) or not ref:
        raise InvalidInput("user is required (a userId or username)")
    return ns, em.users.get(ns, ref)


async def add_install(request: Request) -> Response:
    """{"user", "integration", "namespace"?, "workflows"?: [id or name], "version"?: n, "values"?:
    {field: value} or the headless [{workflowId, blockId, fields: [{name, value}]}], "credentialIds"?, "active"?}"""
    em = admin(request)
    body = await optional_body(request)
    spec: InstallBody = parse(InstallBody, body)
    ns, user = _user(em, body, request)
    integration = em.installs.integration(spec.integration)
    workflows = em.installs.choose_workflows(integration, id_list(spec.workflows, "workflows"), "workflows")
    version = spec.version
    for workflow in workflows:
        version_of(workflow, version)  # before the values are read at that version
    given = spec.values
    values = parse_form_data(given) if isinstance(given, list) else spread_by_name(workflows, version, given)
    plan = em.installs.plan(
        ns,
        user.user_id,
        integration,
        [w.workflow_id for w in workflows],
        values,
        credential_ids=id_list(spec.credentialIds, "credentialIds"),
        version=version,
        create_missing_credentials=True,
    )
    written = em.installs.install(ns, user.user_id, plan, active=spec.active)
    return ok(
        {
            "namespace": ns.id,
            "userId": user.user_id,
            "integrationId": integration.integration_id,
            "data": [render_install(em, item) for item in written],
        }
    )


async def list_installs(request: Request) -> Response:
    """?user=&namespace=: a user's installs with their values and credential ids (never secrets)."""
    em = admin(request)
    ns, user = _user(em, {}, request)
    installs = em.installs.for_user(ns, user.user_id).values()
    integrations = sorted(em.installs.installed_integrations(ns, user.user_id))
    return ok(
        {
            "namespace": ns.id,
            "userId": user.user_id,
            "integrations": integrations,
            "data": [render_install(em, item) for item in installs],
        }
    )


async def remove_install(request: Request) -> Response:
    """?user=&integration=&namespace=: uninstall an integration and all its workflows for the user."""
    em = admin(request)
    ns, user = _user(em, {}, request)
    ref = query_param(request, "integration")
    if ref is None:
        raise InvalidInput("integration is required (an integrationId or name)")
    removed = em.installs.remove_integration(ns, user.user_id, em.installs.integration(ref))
    return ok({"removed": removed})


routes = [route("/installs", GET=list_installs, POST=add_install, DELETE=remove_install)]
