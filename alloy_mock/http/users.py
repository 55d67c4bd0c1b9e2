"""Users: create (one or a batch), list, get, update, delete."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ..domain.users import User
from .errors import ApiError
from .request import emulator, namespace, path_param, query_param, read_json, read_json_object
from .responses import ok
from .routing import route


def render_user(user: User) -> dict[str, Any]:
    body: dict[str, Any] = {"userId": user.user_id, "username": user.username}
    if user.full_name is not None:
        body["fullName"] = user.full_name
    return body


async def create_user(request: Request) -> Response:
    ns = namespace(request)
    body = await read_json_object(request)
    user = emulator(request).users.create(ns, body.get("username"), body.get("fullName"))
    return ok({"userId": user.user_id})


async def create_users(request: Request) -> Response:
    ns = namespace(request)
    items = batch_items(await read_json(request))
    result = emulator(request).users.create_batch(ns, items)
    return ok({"message": "success", "invalidUsers": result.invalid})


def batch_items(body: Any) -> list[Any]:
    """The users of a batch, in any of the shapes the vendor's clients send.

    alloy-node sends {"users": [...]}; the vendor's contract types `users` as a JSON string; the
    alloy-python docs show a bare array, and its test wraps the object in a one-element list.
    """
    if isinstance(body, list) and len(body) == 1 and isinstance(body[0], dict) and "users" in body[0]:
        body = body[0]
    if isinstance(body, dict):
        if body.get("users") is None:
            raise ApiError(400, "users is required")
        body = body["users"]
    if isinstance(body, str):
        try:
            body = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ApiError(400, f"users must be an array, or a string holding a JSON array: {exc}") from None
    if not isinstance(body, list):
        raise ApiError(400, "users must be an array")
    return body


async def list_users(request: Request) -> Response:
    em = emulator(request)
    ns = namespace(request)
    parent = query_param(request, "parentWorkflowId")  # 2024-03: only the users who installed it
    users = em.users.list(ns) if parent is None else [user for user, _ in em.workflows.installers(ns, parent)]
    return ok({"data": [render_user(user) for user in users]})


async def get_user(request: Request) -> Response:
    user = emulator(request).users.get(namespace(request), path_param(request, "user"))
    return ok(render_user(user))


async def update_user(request: Request) -> Response:
    ns = namespace(request)
    body = await read_json_object(request)
    user = emulator(request).users.update(ns, path_param(request, "user"), body.get("username"), body.get("fullName"))
    return ok(render_user(user))


async def delete_user(request: Request) -> Response:
    emulator(request).users.delete(namespace(request), path_param(request, "user"))
    return ok({"success": True})


routes = [
    route("/users", GET=list_users, POST=create_user),
    route("/users/batch", POST=create_users),
    route("/users/{user}", GET=get_user, PUT=update_user, DELETE=delete_user),
]
