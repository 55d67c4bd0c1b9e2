"""Running workflows: the account's custom events, POST /run/event and POST /run/workflow (webhook triggers)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .errors import ApiError
from .request import emulator, namespace, read_json_object, text_field
from .responses import ok
from .routing import route


async def list_events(request: Request) -> Response:
    namespace(request)  # account-level; the 2023-12 SDKs send a userId that changes nothing
    events = emulator(request).catalogue.events
    return ok({"data": [{"name": e.name, "description": e.description, "body": e.body} for e in events]})


async def run_event(request: Request) -> Response:
    """{event, userId, data}: starts every installed, active workflow of the user that the event triggers."""
    em = emulator(request)
    ns = namespace(request)
    body = await read_json_object(request)
    user_ref = text_field(body, "userId")
    assert user_ref is not None
    user = em.users.get(ns, user_ref)
    em.runner.run_event(ns, user, body.get("event"), body.get("data"))
    return ok({"message": "Event successfully triggered"})


async def run_workflow(request: Request) -> Response:
    """{userId, data, workflowId | workflowName}: runs one installed, active, webhook-triggered workflow."""
    em = emulator(request)
    ns = namespace(request)
    body = await read_json_object(request)
    user_ref = text_field(body, "userId")
    assert user_ref is not None
    ref = body.get("workflowId") or body.get("workflowName")
    if ref is None:
        raise ApiError(400, "workflowId or workflowName is required")
    if not isinstance(ref, str):
        raise ApiError(400, "workflowId and workflowName must be strings")
    em.runner.run_webhook(ns, em.users.get(ns, user_ref), ref, body.get("data"))
    return ok({"message": "success"})


routes = [
    route("/events", GET=list_events),
    route("/run/event", POST=run_event),
    route("/run/workflow", POST=run_workflow),
]
