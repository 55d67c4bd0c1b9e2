"""User tokens: the JWT that the frontend SDK and the hosted modal authenticate with."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .request import emulator, namespace, path_param
from .responses import ok
from .routing import route


async def user_token(request: Request) -> Response:
    # The 2023-12 SDKs append a stray `?userId`; like every unknown query parameter it is ignored.
    ns = namespace(request)
    em = emulator(request)
    user = em.users.get(ns, path_param(request, "user"))
    return ok({"token": em.tokens.issue(ns, user.user_id, user.username)})


routes = [
    route("/users/{user}/token", GET=user_token),
    route("/user/{user}/token", GET=user_token),  # the authentication guide's spelling
]
