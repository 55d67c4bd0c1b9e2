"""The control API's run controls: failure rules, block-output stubs, and waiting for running executions.

- /_mock/run-failures: the next N runs (or every run) of a workflow (or any) for a user (or anyone) fail at a
  block with a message; listable and clearable, namespace-scoped like faults.
- /_mock/block-outputs: what a block returns in a workflow's runs, instead of the emulator's sample.
- POST /_mock/executions/wait: returns once the executions recorded so far have finished (with --run-latency).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..control.models import FailureSpec, OutputSpec, WaitBody, parse
from ..control.run_rules import check_references
from ..domain.errors import InvalidInput, NotFound
from ..emulator import Emulator
from .control import admin, namespace_from, optional_body
from .responses import ok
from .routing import route


def _namespace_label(em: Emulator, body: dict[str, Any], request: Request) -> str | None:
    found = namespace_from(em, body, request)
    return None if found is None else found.id


async def list_failures(request: Request) -> Response:
    return ok({"data": [rule.to_json() for rule in admin(request).run_controls.failures()]})


async def add_failure(request: Request) -> Response:
    em = admin(request)
    body = await optional_body(request)
    spec = parse(FailureSpec, body)
    check_references(spec, em.catalogue)
    return ok(em.run_controls.add_failure(spec, _namespace_label(em, body, request)).to_json())


async def clear_failures(request: Request) -> Response:
    admin(request).run_controls.clear_failures()
    return ok({"cleared": True})


async def list_outputs(request: Request) -> Response:
    return ok({"data": [rule.to_json() for rule in admin(request).run_controls.outputs()]})


async def add_output(request: Request) -> Response:
    em = admin(request)
    body = await optional_body(request)
    spec = parse(OutputSpec, body)
    check_references(spec, em.catalogue)
    return ok(em.run_controls.add_output(spec, _namespace_label(em, body, request)).to_json())


async def clear_outputs(request: Request) -> Response:
    admin(request).run_controls.clear_outputs()
    return ok({"cleared": True})


async def delete_rule(request: Request) -> Response:
    rule_id = request.path_params["rule_id"]
    if not admin(request).run_controls.remove(rule_id):
        raise NotFound(f"No run rule {rule_id!r}")
    return ok({"deleted": True})


async def wait_for_executions(request: Request) -> Response:
    """{"namespace"?, "user"?, "timeoutMs"?}: wait (on the emulator's clock) until every execution recorded so
    far for that user (or anyone in the namespace) has finished; 400 if that would take longer than timeoutMs."""
    em = admin(request)
    body = await optional_body(request)
    spec: WaitBody = parse(WaitBody, body)
    ns = namespace_from(em, body, request) or em.namespace_named("dev")
    user_id = None if spec.user is None else em.users.get(ns, spec.user).user_id
    timeout = spec.timeoutMs
    remaining = em.executions.latest_finish(ns, user_id) - em.clock.now()
    if remaining > timeout / 1000:
        raise InvalidInput(f"the executions finish in {remaining:.3f} s, after timeoutMs")
    deadline = time.monotonic() + timeout / 1000
    while remaining > 0 and not em.clock.frozen and time.monotonic() + remaining <= deadline:
        # The time the runs take, not a wait for readiness; a timer may fire up to a millisecond early
        # (uvloop rounds them), and runs recorded meanwhile may finish later: hence the margin and the loop.
        await asyncio.sleep(remaining + 0.002)
        remaining = em.executions.latest_finish(ns, user_id) - em.clock.now()
    return ok({"finished": remaining <= 0})


routes = [
    route("/run-failures", GET=list_failures, POST=add_failure, DELETE=clear_failures),
    route("/run-failures/{rule_id}", DELETE=delete_rule),
    route("/block-outputs", GET=list_outputs, POST=add_output, DELETE=clear_outputs),
    route("/block-outputs/{rule_id}", DELETE=delete_rule),
    route("/executions/wait", POST=wait_for_executions),
]
