"""The control API under /_mock: reset, seed, snapshots, request journal, faults, clock, tokens, coverage.

Open by default (the emulator listens on localhost); with `--admin-token` every call needs
`Authorization: Bearer <admin token>`. Vendor API keys never open it. A write (POST, PUT, PATCH,
DELETE) also needs `Content-Type: application/json` or an `X-Alloy-Mock` header: a web page can send
neither to another origin without a CORS preflight, which the emulator refuses for /_mock (cors.py),
so a page open in the developer's browser cannot reset or seed it with a form or a no-cors fetch.
"""

from __future__ import annotations

import hmac
import re
from datetime import datetime, timezone
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.types import Message, Receive, Scope, Send

from ..auth import Namespace
from ..control.coverage import coverage
from ..control.journal import USER_TOKEN
from ..control.models import (
    AdvanceBody,
    FaultSpec,
    FreezeBody,
    ResetBody,
    SeedBody,
    SnapshotBody,
    TokenBody,
    parse,
)
from ..domain.errors import InvalidInput, NotFound
from ..emulator import Emulator
from .control_mount import LazyControlApi
from .errors import ApiError, error_response
from .openapi import control_openapi
from .request import emulator, is_json, media_type_of, path_param, query_param, read_json_object
from .responses import error, ok
from .routing import route

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CLIENT_HEADER = "x-alloy-mock"  # any value; `X-Alloy-Mock: 1` in the docs
NOT_FROM_A_PAGE = (
    "Control API writes need Content-Type: application/json (or the header X-Alloy-Mock: 1), "
    "so that web pages cannot send them"
)


ADMIN_REQUIRED = "Unauthorized: the control API needs the admin token (Authorization: Bearer ...)"


def has_admin_token(em: Emulator, authorization: str | None) -> bool:
    """Whether a request with this Authorization header may use the control API."""
    expected = em.settings.admin_token
    if expected is None:
        return True
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected.encode())


class ControlApi:
    """The ASGI app mounted at /_mock: checks the admin token before routing (an unknown control path is a
    401, not a 404, to whoever lacks it), and answers a bug's exception with a JSON 500 that closes the
    connection (`Connection: close`), so that the client's next request opens a fresh one instead of
    failing on a connection the server has dropped."""

    def __init__(self, routes: list[BaseRoute]) -> None:
        self.router = Router(routes=routes, redirect_slashes=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.router(scope, receive, send)
            return
        authorization = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), None)
        if not has_admin_token(scope["app"].emulator, authorization):
            await error(401, ADMIN_REQUIRED)(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.router(scope, receive, sending)
        except Exception as exc:  # a bug: logged by error_response(), never a stack trace to the client
            if started or isinstance(exc, HTTPException):  # HTTPException: Starlette's 404/405, answered by app.py
                raise
            response = error_response(exc, scope["method"], scope["path"])
            response.headers["connection"] = "close"
            await response(scope, receive, send)


def admin(request: Request) -> Emulator:
    """The emulator, once the admin token (if one is configured) has been checked, and a write shown
    not to come from a web page's form or no-cors fetch."""
    em = emulator(request)
    if not has_admin_token(em, request.headers.get("authorization")):
        raise ApiError(401, ADMIN_REQUIRED)
    if request.method in WRITE_METHODS and not _needs_a_preflight(request):
        raise ApiError(415, NOT_FROM_A_PAGE)
    return em


def _needs_a_preflight(request: Request) -> bool:
    """Whether the request carries what a browser sends cross-origin only after a CORS preflight: a JSON
    Content-Type (forms and no-cors fetches can only send text/plain, urlencoded or multipart) or our
    custom header."""
    if CLIENT_HEADER in request.headers:
        return True
    content_type = request.headers.get("content-type")
    return content_type is not None and is_json(media_type_of(content_type.encode("latin-1")))


async def optional_body(request: Request) -> dict[str, Any]:
    return await read_json_object(request)


def namespace_name(body: dict[str, Any], request: Request, examples: str = "'dev', 'prod' or 'acme.dev'") -> str | None:
    """The `namespace` of the body, else of the query string, if any."""
    name = body.get("namespace", query_param(request, "namespace"))
    if name is not None and not isinstance(name, str):
        raise InvalidInput(f"namespace must be a string such as {examples}")
    return name


def namespace_from(em: Emulator, body: dict[str, Any], request: Request) -> Namespace | None:
    name = namespace_name(body, request)
    return None if name is None else em.namespace_named(name)


def caller_label(em: Emulator, name: str) -> str:
    """The journal's and faults' label for a namespace name, which may also be "user-token": the
    frontend's calls that carry only an x-alloy-user-token."""
    return USER_TOKEN if name == USER_TOKEN else em.namespace_named(name).id


_DIGITS = re.compile(r"[0-9]{1,18}")  # ASCII only: str.isdigit() also takes "²" and "٣"


def whole_number(text: str | None, name: str) -> int | None:
    """A query parameter's whole number (ASCII digits, below 10**18), None if absent; else InvalidInput."""
    if text is None:
        return None
    if not _DIGITS.fullmatch(text):
        raise InvalidInput(f"{name} must be a whole number written with the digits 0-9")
    return int(text)


# -- state ----------------------------------------------------------------------------------------


async def reset(request: Request) -> Response:
    em = admin(request)
    body = await optional_body(request)
    parse(ResetBody, body)
    namespace = namespace_from(em, body, request)
    if namespace is None:  # a full reset also clears the test controls
        em.reset_all()
    else:
        em.reset(namespace)
    return ok({"reset": namespace.id if namespace else "all"})


async def seed(request: Request) -> Response:
    """Create users in one namespace: {"namespace": "dev", "users": [{"username", "fullName"?, "userId"?}]}."""
    em = admin(request)
    body = await optional_body(request)
    spec: SeedBody = parse(SeedBody, body)
    namespace = namespace_from(em, body, request) or em.namespace_named("dev")
    created = em.users.seed(namespace, [user.model_dump(exclude_none=True) for user in spec.users])
    return ok({"namespace": namespace.id, "data": [{"userId": u.user_id, "username": u.username} for u in created]})


async def list_snapshots(request: Request) -> Response:
    em = admin(request)
    return ok({"data": [{"name": name} for name in em.snapshots]})


async def save_snapshot(request: Request) -> Response:
    em = admin(request)
    spec: SnapshotBody = parse(SnapshotBody, await optional_body(request))
    em.save_snapshot(spec.name)
    return ok({"name": spec.name})


async def restore_snapshot(request: Request) -> Response:
    em = admin(request)
    name = path_param(request, "name")
    em.restore_snapshot(name)
    return ok({"restored": name})


async def delete_snapshot(request: Request) -> Response:
    em = admin(request)
    em.snapshots.delete(path_param(request, "name"))
    return ok({"deleted": True})


# -- request journal ------------------------------------------------------------------------------


async def list_requests(request: Request) -> Response:
    em = admin(request)
    params = request.query_params

    def whole(name: str) -> int | None:
        return whole_number(params.get(name) or None, name)

    entries = em.journal.find(
        method=params.get("method") or None,
        path=params.get("path") or None,
        namespace=caller_label(em, params["namespace"]) if params.get("namespace") else None,
        status=whole("status"),
        since=whole("since"),
        limit=whole("limit") or 100,
        header=params.get("header") or None,
        before=whole("before"),
    )
    return ok({"data": [entry.to_json() for entry in entries], "recording": em.journal.enabled})


async def clear_requests(request: Request) -> Response:
    admin(request).journal.clear()
    return ok({"cleared": True})


# -- faults ---------------------------------------------------------------------------------------


async def list_faults(request: Request) -> Response:
    return ok({"data": [fault.to_json() for fault in admin(request).faults.list()]})


async def add_fault(request: Request) -> Response:
    em = admin(request)
    body = await optional_body(request)
    spec: FaultSpec = parse(FaultSpec, body)
    name = namespace_name(body, request, f"'dev', 'prod', 'acme.dev' or {USER_TOKEN!r}")
    fault = em.faults.add(spec, None if name is None else caller_label(em, name))
    return ok(fault.to_json())


async def clear_faults(request: Request) -> Response:
    admin(request).faults.clear()
    return ok({"cleared": True})


async def delete_fault(request: Request) -> Response:
    if not admin(request).faults.remove(request.path_params["fault_id"]):
        raise NotFound(f"No fault {request.path_params['fault_id']!r}")
    return ok({"deleted": True})


# -- clock ----------------------------------------------------------------------------------------


def clock_state(em: Emulator) -> dict[str, Any]:
    return {"now": em.clock.now(), "iso": em.clock.iso_now(), "frozen": em.clock.frozen}


async def get_clock(request: Request) -> Response:
    return ok(clock_state(admin(request)))


async def freeze_clock(request: Request) -> Response:
    """Stop the clock: now, or `at` (epoch seconds or an ISO 8601 time)."""
    em = admin(request)
    at = parse(FreezeBody, await optional_body(request)).at
    if isinstance(at, str):
        try:
            moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput("at must be epoch seconds or an ISO 8601 time") from None
        # A time without an offset is UTC, as every time the vendor writes, not the host's local time.
        at = (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()
    em.clock.freeze(at)
    return ok(clock_state(em))


async def advance_clock(request: Request) -> Response:
    em = admin(request)
    em.clock.advance(parse(AdvanceBody, await optional_body(request)).seconds)
    return ok(clock_state(em))


async def unfreeze_clock(request: Request) -> Response:
    em = admin(request)
    em.clock.unfreeze()
    return ok(clock_state(em))


async def reset_clock(request: Request) -> Response:
    em = admin(request)
    em.clock.reset()
    return ok(clock_state(em))


# -- tokens ---------------------------------------------------------------------------------------


async def mint_token(request: Request) -> Response:
    """A user token on demand, including broken ones for negative tests.

    Body: {"user": id or username, "namespace"?: "dev", "ttl"?: seconds, "expired"?: bool,
    "signature"?: "valid" | "wrong-key" | "unknown-kid" | "none", "claims"?: {...extra or overriding claims}}.
    """
    em = admin(request)
    body = await optional_body(request)
    spec: TokenBody = parse(TokenBody, body)
    namespace = namespace_from(em, body, request) or em.namespace_named("dev")
    user = em.users.get(namespace, spec.user)
    ttl = -60 if spec.expired else None if spec.ttl is None else int(spec.ttl)
    claims = {**em.tokens.claims(namespace, user.user_id, user.username, ttl), **(spec.claims or {})}
    signature = spec.signature
    token = em.tokens.sign(claims) if signature == "valid" else em.tokens.sign_badly(claims, signature)
    return ok({"token": token, "claims": claims})


# -- coverage and description -----------------------------------------------------------------------


async def get_coverage(request: Request) -> Response:
    admin(request)
    return ok(coverage(request.app.vendor_api.serves))


async def openapi(request: Request) -> Response:
    admin(request)
    return ok(control_openapi())


async def index(request: Request) -> Response:
    admin(request)
    mounted = next(r for r in request.app.routes if isinstance(r, Mount) and r.path == "/_mock")
    assert isinstance(mounted.app, LazyControlApi)
    listed = [
        f"{method} /_mock{entry.path}"
        for entry in mounted.app.api.router.routes
        if isinstance(entry, Route)
        for method in sorted(entry.methods or ())
        if method != "HEAD"
    ]
    return ok({"description": "alloy-mock control API; described at /_mock/openapi.json", "endpoints": listed})


# Mounted at /_mock; the index itself is served at /_mock (see app.py).
routes: list[Route] = [
    route("/openapi.json", GET=openapi),
    route("/reset", POST=reset),
    route("/seed", POST=seed),
    route("/snapshots", GET=list_snapshots, POST=save_snapshot),
    route("/snapshots/{name}/restore", POST=restore_snapshot),
    route("/snapshots/{name}", DELETE=delete_snapshot),
    route("/requests", GET=list_requests, DELETE=clear_requests),
    route("/faults", GET=list_faults, POST=add_fault, DELETE=clear_faults),
    route("/faults/{fault_id}", DELETE=delete_fault),
    route("/clock", GET=get_clock),
    route("/clock/freeze", POST=freeze_clock),
    route("/clock/advance", POST=advance_clock),
    route("/clock/unfreeze", POST=unfreeze_clock),
    route("/clock/reset", POST=reset_clock),
    route("/tokens", POST=mint_token),
    route("/coverage", GET=get_coverage),
]
