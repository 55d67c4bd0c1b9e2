"""Reading requests: the emulator, the caller's namespace, path and query parameters, JSON bodies."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from ..auth import InvalidToken
from .errors import ApiError, unauthorized
from .responses import error

if TYPE_CHECKING:
    from ..auth import Namespace
    from ..domain.users import User
    from ..emulator import Emulator

USER_TOKEN_HEADER = "x-alloy-user-token"

JSON_TYPES = ("application/json",)
# Where the vendor API's dispatcher leaves the namespace it resolved (None: no valid key), so that
# handlers need not look the key up a second time.
NAMESPACE_SCOPE_KEY = "alloy_mock.namespace"
# Where it leaves a request body it has already read whole (for the request journal).
BODY_SCOPE_KEY = "alloy_mock.body"


def emulator(request: Request) -> Emulator:
    return request.scope["app"].emulator  # type: ignore[no-any-return]


def namespace(request: Request) -> Namespace:
    """The namespace of the request's API key (`Authorization: Bearer <key>`), or a 401."""
    scope = request.scope
    if NAMESPACE_SCOPE_KEY in scope:
        found: Namespace | None = scope[NAMESPACE_SCOPE_KEY]
    else:
        found = emulator(request).keys.namespace_for(request.headers.get("authorization"))
    if found is None:
        raise unauthorized()
    return found


def path_param(request: Request, name: str) -> str:
    """A path segment, decoded (the path normalizer keeps an encoded '/' inside a segment as %2F)."""
    return unquote(request.path_params[name])


def query_param(request: Request, name: str) -> str | None:
    """A query parameter; an empty value (`?userId` or `?userId=`) counts as absent."""
    value = request.query_params.get(name)
    return value or None


def required_query_param(request: Request, name: str) -> str:
    value = query_param(request, name)
    if value is None:
        raise ApiError(400, f"{name} is required")
    return value


async def read_json(request: Request) -> Any:
    """The body parsed as JSON; an empty body is an empty object.

    400 for malformed JSON, 413 past the size limit, 415 when a Content-Type other than JSON is
    declared (a body without any Content-Type is read as JSON, as lenient clients send it).
    """
    scope = request.scope
    limit = emulator(request).settings.max_body_bytes
    declared, content_type = _body_headers(scope)
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    # A body the vendor API's dispatcher already read whole for the journal, else the ASGI messages
    # themselves (cheaper than request.stream()'s async generator), stopping once past the limit.
    body: bytes | None = scope.get(BODY_SCOPE_KEY)
    more = body is None
    body = body or b""
    while more:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ApiError(400, "The client went away before sending the whole body")
        body += message.get("body", b"")
        more = message.get("more_body", False) and len(body) <= limit
    if len(body) > limit:
        raise _too_large(limit)
    if not body.strip():
        return {}
    if content_type is not None:
        media_type = media_type_of(content_type)
        if not is_json(media_type):
            raise ApiError(415, f"Content-Type must be application/json, not {media_type or 'empty'}")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"Malformed JSON body: {exc}") from None


def declared_too_large(scope: Scope, limit: int) -> Response | None:
    """A 413 for a request whose Content-Length is over `limit`, to send before reading any of the body."""
    declared, _ = _body_headers(scope)
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return error(413, _too_large(limit).message)
    return None


def media_type_of(content_type: bytes) -> str:
    """The media type of a Content-Type value, lower-cased, without parameters."""
    return content_type.split(b";", 1)[0].strip().lower().decode("latin-1")


def is_json(media_type: str) -> bool:
    return media_type in JSON_TYPES or media_type.endswith("+json")


def _body_headers(scope: Scope) -> tuple[bytes | None, bytes | None]:
    """The request's Content-Length and Content-Type (the first of each), in one pass over the raw headers."""
    length = content_type = None
    for name, value in scope["headers"]:
        if name == b"content-length" and length is None:
            length = value
        elif name == b"content-type" and content_type is None:
            content_type = value
    return length, content_type


def _too_large(limit: int) -> ApiError:
    return ApiError(413, f"Request body is larger than {limit} bytes")


async def read_json_object(request: Request) -> dict[str, Any]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiError(400, f"The JSON body must be an object, not {_json_type(body)}")
    return body


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def text_field(body: dict[str, Any], name: str, required: bool = True) -> str | None:
    """A string field of a JSON body: 400 naming it when it is required and missing, or not a non-empty string."""
    value = body.get(name)
    if value is None:
        if required:
            raise ApiError(400, f"{name} is required")
        return None
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, f"{name} must be a non-empty string")
    return value


def acting_user(request: Request, user_ref: str | None) -> tuple[Namespace, User]:
    """The namespace and user a request acts for: with an API key, the user `user_ref` names (a userId
    or username from the query or body, required); without one, the user of the token that
    alloy-frontend sends in `x-alloy-user-token` (the routes it calls take no userId)."""
    em = emulator(request)
    token = request.headers.get(USER_TOKEN_HEADER)
    if token is not None and "authorization" not in request.headers:
        try:
            claims = em.tokens.verify(token)
        except InvalidToken:
            raise unauthorized() from None
        user = em.users.by_id(claims.namespace, claims.user_id)
        if user is None:  # deleted since the token was issued
            raise unauthorized()
        return claims.namespace, user
    ns = namespace(request)
    if user_ref is None:
        raise ApiError(400, "userId is required")
    return ns, em.users.get(ns, user_ref)


# The vendor's API hosts, and the app host its links point at (the hosted modal's origin).
APP_HOSTS = {
    "embedded.runalloy.com": "https://app.runalloy.com",
    "app.runalloy.com": "https://app.runalloy.com",
    "eu-embedded.runalloy.com": "https://eu-app.runalloy.com",
    "eu-app.runalloy.com": "https://eu-app.runalloy.com",
}
_HOST = re.compile(r"^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


def public_base_url(request: Request) -> str:
    """Where links the emulator hands out should point: --public-url when set, else the address the
    caller used (its Host), so that they work from a container's mapped port or a compose service name.

    A caller that reached the emulator under a vendor host name (a proxy, a hosts-file entry) gets the
    vendor's own app origin, as the real service would send, which that caller also maps to the emulator.
    """
    configured = emulator(request).settings.public_url
    if configured is not None:
        return configured
    host = request.headers.get("host", "")
    vendor = APP_HOSTS.get(host.split(":", 1)[0].lower())
    if vendor is not None:
        return vendor
    if not _HOST.match(host):  # missing or not a host name: the address the server listens on
        server = request.scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{request.url.scheme}://{host}"
