"""A user's credentials: list, create (2023-12 path, 2024-03 headless), delete, and OAuth links.

Secret values are never rendered: a credential shows its id, type and dates only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import Response

from ..auth import Namespace
from ..config import OLD_VERSIONS
from ..domain.credentials import Credential
from ..domain.users import User
from .errors import ApiError
from .request import emulator, namespace, path_param, public_base_url, query_param, read_json_object, text_field
from .responses import ok
from .routing import route

MAX_REDIRECT_LENGTH = 2048


def render_credential(credential: Credential) -> dict[str, Any]:
    return {
        "credentialId": credential.credential_id,
        "type": credential.type,
        "createdAt": credential.created_at,
        "updatedAt": credential.updated_at,
    }


def _user(request: Request, ref: str) -> tuple[Namespace, User]:
    ns = namespace(request)
    return ns, emulator(request).users.get(ns, ref)


async def list_credentials(request: Request) -> Response:
    ns, user = _user(request, path_param(request, "user"))
    found = emulator(request).credentials.list_for(ns, user.user_id)
    return ok({"data": [render_credential(item) for item in found]})


async def create_credential(request: Request) -> Response:
    """2023-12: POST /users/{user}/credentials {"credential": {type, data}}."""
    ns, user = _user(request, path_param(request, "user"))
    body = await read_json_object(request)
    created = emulator(request).credentials.create(ns, user.user_id, body.get("credential"))
    return ok({"success": True, "credentialId": created.credential_id})


async def create_headless_credential(request: Request) -> Response:
    """2024-03: POST /headless/credentials {"credential": {type, data} or a JSON string, "userId"}."""
    ns = namespace(request)
    body = await read_json_object(request)
    user_ref = text_field(body, "userId")
    assert user_ref is not None
    user = emulator(request).users.get(ns, user_ref)
    created = emulator(request).credentials.create(ns, user.user_id, body.get("credential"))
    return ok({"success": True, "credentialId": created.credential_id})


async def delete_credential(request: Request) -> Response:
    ns, user = _user(request, path_param(request, "user"))
    emulator(request).credentials.delete(ns, user.user_id, path_param(request, "credential"))
    return ok({"success": True})


def oauth_link(request: Request, ns: Namespace, user: User, app: str) -> str:
    """A link to the emulator's OAuth consent page for `app`, carrying a fresh token of the user.

    `integrationId`, `redirectUri` (where the page sends the browser afterwards), `state`, and the app's
    properties (e.g. shopSubdomain) are passed on from the request's query string.
    """
    em = emulator(request)
    metadata = em.credentials.oauth_app(app)
    query: dict[str, str] = {"token": em.tokens.issue(ns, user.user_id, user.username)}
    redirect = query_param(request, "redirectUri")
    if redirect is not None:
        parsed = urlsplit(redirect)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or len(redirect) > MAX_REDIRECT_LENGTH:
            raise ApiError(400, f"redirectUri must be an http(s) URL of at most {MAX_REDIRECT_LENGTH} characters")
    for name in ("integrationId", "redirectUri", "state"):
        value = query_param(request, name)
        if value is not None:
            query[name] = value
    for prop in metadata.properties:
        value = query_param(request, prop.name)
        if value is not None:
            query[prop.name] = value
    return f"{public_base_url(request)}/oauth/{metadata.name}/authorize?{urlencode(query)}"


async def oauth_redirect(request: Request) -> Response:
    """2023-12 (and 2023-01): GET /users/{user}/credentials/{app}?integrationId=. The 2023-12 answer is
    undocumented; both keys that its clients look for are sent."""
    ns, user = _user(request, path_param(request, "user"))
    url = oauth_link(request, ns, user, path_param(request, "credential"))
    return ok({"redirectUrl": url, "oauthUrl": url})


async def headless_oauth_url(request: Request) -> Response:
    """2024-03: GET /headless/oauthUrl?userId=&app=&credentialName= (either names the app)."""
    ns = namespace(request)
    user_ref = query_param(request, "userId")
    if user_ref is None:
        raise ApiError(400, "userId is required")
    app = query_param(request, "app") or query_param(request, "credentialName")
    if app is None:
        raise ApiError(400, "app is required (the name of an OAuth app, such as 'hubspot')")
    user = emulator(request).users.get(ns, user_ref)
    return ok({"oauthUrl": oauth_link(request, ns, user, app)})


routes = [
    route("/users/{user}/credentials", versions=("2023-12",), GET=list_credentials, POST=create_credential),
    route("/users/{user}/credentials", versions=("2024-03",), GET=list_credentials),
    # One path, three meanings: GET is the OAuth link (2023-12 and earlier), DELETE removes a credential.
    route("/users/{user}/credentials/{credential}", versions=OLD_VERSIONS, GET=oauth_redirect),
    route(
        "/users/{user}/credentials/{credential}", versions=("2023-12",), GET=oauth_redirect, DELETE=delete_credential
    ),
    route("/users/{user}/credentials/{credential}", versions=("2024-03",), DELETE=delete_credential),
    route("/headless/credentials", versions=("2024-03",), POST=create_headless_credential),
    route("/headless/oauthUrl", versions=("2024-03",), GET=headless_oauth_url),
]
