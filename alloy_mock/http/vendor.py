"""The vendor API under /{version}/: the path every SDK call takes, written out as one short sequence.

For each request: find the handler (a RouteTree walk), apply an injected fault (faults.py for those
that dribble or break the connection), call the handler, turn exceptions into the vendor's JSON errors,
hold the answer until the data is on disk, send it, and record the exchange in the request journal.
Done here in one place rather than by a stack of middleware and Starlette's router, which together
cost more than the handlers (bench/RESULTS.md).
The control API and the system routes keep Starlette's ordinary routing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from ..config import API_VERSIONS
from ..control.faults import BODILESS, Fault
from ..control.journal import BODY_LIMIT, USER_TOKEN
from ..store import READY, DurabilityError
from .errors import error_response, method_not_allowed, not_found, unauthorized
from .faults import break_connection, dribble
from .request import BODY_SCOPE_KEY, NAMESPACE_SCOPE_KEY, declared_too_large
from .responses import JSONResponse, error
from .routing import MethodRoute, RouteTree

if TYPE_CHECKING:
    from ..auth import Namespace
    from ..emulator import Emulator

VERSION_PREFIXES = tuple(f"/{version}/" for version in API_VERSIONS)
# What a version prefix looks like, served or not: /2022-01/users gets a 404 that names the versions served.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class VendorApi:
    """The ASGI app for paths under a version prefix, with a route table per API version."""

    def __init__(self, routes: Iterable[MethodRoute]) -> None:
        self.routes = list(routes)
        self.trees = {
            version: RouteTree(entry for entry in self.routes if version in entry.versions) for version in API_VERSIONS
        }

    def serves(self, method: str, path: str) -> bool:
        """Whether `method` `path` (with its version prefix) reaches a handler."""
        tree = self.trees.get(path[1:].split("/", 1)[0])
        if tree is None or "/" not in path[1:]:
            return False
        found = tree.match(path[path.index("/", 1) :], method)
        return found is not None and found.handler is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        em: Emulator = scope["app"].emulator
        path: str = scope["path"]
        method: str = scope["method"]
        version, _, rest = path[1:].partition("/")
        tree = self.trees.get(version)
        if tree is None:
            served = ", ".join(API_VERSIONS)
            await error(404, f"Unknown API version {version!r}: alloy-mock serves {served}")(scope, receive, send)
            return
        api_path = "/" + rest
        namespace, label = caller(em, scope)
        scope[NAMESPACE_SCOPE_KEY] = namespace
        # Refused before any byte of the body is read, so that a client that sent `Expect: 100-continue`
        # gets the 413 at once instead of a 100 Continue.
        too_large = declared_too_large(scope, em.settings.max_body_bytes)
        faults = em.faults if em.faults else None  # asked once: most requests meet no fault at all
        # A fault with a bodyContains needs the whole body before it can match (up to the size limit).
        wants_body = faults is not None and too_large is None and faults.wants_body(method, api_path, label)
        if not em.journal.enabled and not wants_body:
            fault = faults.take(method, api_path, label) if faults is not None else None
            await self._answer(em, scope, receive, send, tree, api_path, fault, too_large)
            return

        at = em.clock.now()
        started = time.perf_counter()
        # The body's first BODY_LIMIT bytes (all of it for a bodyContains) are read here and handed on
        # unchanged, so the journal shows them even when nothing downstream reads the body (a fault, a 401
        # before the handler).
        prefetched: list[Message] = []
        if method in BODY_METHODS and too_large is None:
            size, more, limit = 0, True, em.settings.max_body_bytes + 1 if wants_body else BODY_LIMIT
            while more and size < limit:
                message = await receive()
                prefetched.append(message)
                if message["type"] != "http.request":
                    break
                size += len(message.get("body", b""))
                more = message.get("more_body", False)
        # One message is the common case: its body as is, without a comprehension's frame.
        received = (
            prefetched[0].get("body", b"")
            if len(prefetched) == 1
            else b"".join([message.get("body", b"") for message in prefetched])
        )
        whole = bool(prefetched) and prefetched[-1]["type"] == "http.request" and not prefetched[-1].get("more_body")
        if whole:
            scope[BODY_SCOPE_KEY] = received  # read whole: read_json() takes it from here
        fault = None
        if faults is not None:
            matchable = whole and len(received) <= em.settings.max_body_bytes  # one too large is not read as JSON
            fault = faults.take(method, api_path, label, received if matchable else None)

        async def replaying_receive() -> Message:
            return prefetched.pop(0) if prefetched else await receive()

        status: int | None = 500  # until an answer is sent: the client got none
        answer = b""
        try:
            response = await self._answer(em, scope, replaying_receive, send, tree, api_path, fault, too_large)
            if response is None:
                status = None  # the connection was broken instead
            else:
                status, answer = response.status_code, bytes(response.body)
        finally:
            em.journal.record(
                at,
                method,
                path,
                scope["query_string"],
                label,
                None if fault is None else fault.id,
                status,
                (time.perf_counter() - started) * 1000,
                received,
                answer,
                scope["headers"],
                None if fault is None else fault.connection,
            )

    async def _answer(
        self,
        em: Emulator,
        scope: Scope,
        receive: Receive,
        send: Send,
        tree: RouteTree,
        api_path: str,
        fault: Fault | None,
        refusal: Response | None = None,
    ) -> Response | None:
        """The answer sent, or None when the fault broke the connection instead."""
        if fault is not None and fault.connection is not None:
            await break_connection(scope, fault)
            return None
        response = refusal or await self._respond(scope, receive, tree, api_path, fault)
        try:
            waiting = em.store.durable()  # READY when nothing is pending (one call, where asking first was two)
            if waiting is not READY:
                await waiting  # a 200 for a write means the write is on disk
        except DurabilityError as exc:
            response = error_response(exc, scope["method"], scope["path"])
        if fault is not None and fault.dribble is not None:
            await dribble(response, scope, send, fault.dribble)
        else:
            await response(scope, receive, send)
        return response

    async def _respond(
        self, scope: Scope, receive: Receive, tree: RouteTree, api_path: str, fault: Fault | None
    ) -> Response:
        method: str = scope["method"]
        if fault is not None:
            if fault.delay_ms:
                await asyncio.sleep(fault.delay_ms / 1000)  # the latency asked for, not a wait for readiness
            if fault.status in BODILESS:
                return Response(status_code=fault.status, headers=fault.headers)
            if fault.status is not None:
                return JSONResponse(fault.body, status_code=fault.status, headers=fault.headers)
        found = tree.match(api_path, method)
        unknown = found is None or found.handler is None
        if unknown and scope[NAMESPACE_SCOPE_KEY] is None and not _has_user_token(scope):
            return error_response(unauthorized(), method, scope["path"])  # the vendor checks the key first (404, 405)
        if found is None:
            return not_found(method, scope["path"])
        if found.handler is None:
            return method_not_allowed(method, scope["path"], found.allow)
        scope["path_params"] = found.params
        try:
            return await found.handler(Request(scope, receive))
        except Exception as exc:  # every failure is a JSON answer, never a stack trace
            return error_response(exc, method, scope["path"])


def _has_user_token(scope: Scope) -> bool:
    return any(name == b"x-alloy-user-token" for name, _ in scope["headers"])


def caller(em: Emulator, scope: Scope) -> tuple[Namespace | None, str | None]:
    """The namespace of the request's API key, and its label for the journal and faults
    ("user-token" for a call that only carries the frontend's x-alloy-user-token)."""
    user_token = False
    for name, value in scope["headers"]:
        if name == b"authorization":  # the key wins, as in the handlers
            found = em.keys.namespace_for(value.decode("latin-1"))
            return found, found.id if found is not None else None
        user_token = user_token or name == b"x-alloy-user-token"
    return None, USER_TOKEN if user_token else None
