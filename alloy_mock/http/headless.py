"""Headless installation (2024-03 only): start an installation, then complete it with the form's values."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..catalogue import BlockField
from ..domain.headless import id_list
from .request import emulator, namespace, read_json_object, text_field
from .responses import ok
from .routing import route


def render_field(item: BlockField) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "name": item.name,
        "displayName": item.display_name,
        "type": item.type,
        "required": item.required,
    }
    if item.options is not None:
        rendered["options"] = list(item.options)
    return rendered


async def start_installation(request: Request) -> Response:
    em = emulator(request)
    ns = namespace(request)
    body = await read_json_object(request)
    user_ref, integration_ref = text_field(body, "userId"), text_field(body, "integrationId")
    assert user_ref is not None and integration_ref is not None
    user = em.users.get(ns, user_ref)
    installation, form = em.headless.start(
        ns,
        user.user_id,
        integration_ref,
        id_list(body.get("workflowIds"), "workflowIds"),
        id_list(body.get("credentialIds"), "credentialIds"),
    )
    data = [
        {
            "workflowId": entry.workflow.workflow_id,
            "app": entry.block.type,
            "blockId": entry.block.id,
            "fields": [render_field(item) for item in entry.fields],
        }
        for entry in form
    ]
    return ok({"data": data, "installationId": installation.installation_id})


async def complete_installation(request: Request) -> Response:
    ns = namespace(request)
    body = await read_json_object(request)
    emulator(request).headless.complete(ns, body.get("installationId"), body.get("data"))
    return ok({"message": "Installation completed successfully"})


routes = [
    route("/headless/startInstallation", versions=("2024-03",), POST=start_installation),
    route("/headless/completeInstallation", versions=("2024-03",), POST=complete_installation),
]
