"""Executions of a workflow: logs (paged), errors, analytics, reruns, and deleting a user's logs."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..auth import Namespace
from ..domain.users import User
from .errors import ApiError
from .request import emulator, namespace, path_param, query_param, required_query_param
from .responses import ok
from .routing import route

DEFAULT_LIMIT = 10
MAX_LIMIT = 30
# Larger page numbers and limits are read as this: far past any stored page, and small enough to compute with.
HUGE = 10**15


def _whole(request: Request, name: str, default: int, minimum: int) -> int:
    value = query_param(request, name)
    if value is None:
        return default
    digits = value.lstrip("0") or "0"
    number = (HUGE if len(digits) > 16 else min(HUGE, int(digits))) if value.isascii() and value.isdigit() else -1
    if number < minimum:
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise ApiError(400, f"{name} must be a whole number of at least {minimum}, not {shown!r}")
    return number


def _flag(request: Request, name: str) -> bool:
    value = query_param(request, name)
    if value is None:
        return False
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise ApiError(400, f"{name} must be true or false, not {value!r}")


def _optional_user(request: Request, ns: Namespace) -> User | None:
    ref = query_param(request, "userId")
    return None if ref is None else emulator(request).users.get(ns, ref)


async def workflow_logs(request: Request) -> Response:
    """?userId&page&limit&order&error: page 0 and 1 are both the first page; limit is at most 30."""
    em = emulator(request)
    ns = namespace(request)
    page = max(1, _whole(request, "page", 1, 0))
    limit = min(MAX_LIMIT, _whole(request, "limit", DEFAULT_LIMIT, 1))
    order = (query_param(request, "order") or "desc").lower()
    if order not in ("asc", "desc"):
        raise ApiError(400, f"order must be asc or desc, not {query_param(request, 'order')!r}")
    failed_only = _flag(request, "error")
    user = _optional_user(request, ns)
    workflow = em.installs.workflow(path_param(request, "workflow"))
    entries = em.executions.page(
        ns, workflow.workflow_id, None if user is None else user.user_id, page, limit, order == "desc", failed_only
    )
    return ok({"data": entries})


async def workflow_errors(request: Request) -> Response:
    em = emulator(request)
    ns = namespace(request)
    user = _optional_user(request, ns)
    workflow = em.installs.workflow(path_param(request, "workflow"))
    return ok({"data": em.executions.errors(ns, workflow.workflow_id, None if user is None else user.user_id)})


async def workflow_analytics(request: Request) -> Response:
    """Totals over the namespace's users (the vendor's analytics take no userId)."""
    em = emulator(request)
    ns = namespace(request)
    workflow = em.installs.workflow(path_param(request, "workflow"))
    totals = em.executions.analytics(ns, workflow.workflow_id)
    return ok(
        {
            "totalAppActions": totals.total_app_actions,
            "totalWorkflowRuns": totals.total_workflow_runs,
            "totalErrors": totals.total_errors,
        }
    )


async def rerun_execution(request: Request) -> Response:
    em = emulator(request)
    ns = namespace(request)
    user = em.users.get(ns, required_query_param(request, "userId"))
    execution = em.runner.rerun(ns, user, path_param(request, "workflow"), path_param(request, "execution"))
    return ok({"message": "success", "executionUuid": execution.execution_uuid})


async def delete_user_logs(request: Request) -> Response:
    em = emulator(request)
    ns = namespace(request)
    user = em.users.get(ns, path_param(request, "user"))
    em.executions.delete_for_user(ns, user.user_id)
    return ok({"message": "Success"})


routes = [
    route("/workflows/{workflow}/logs", GET=workflow_logs),
    route("/workflows/{workflow}/errors", GET=workflow_errors),
    route("/workflows/{workflow}/analytics", GET=workflow_analytics),
    route("/workflows/{workflow}/rerun/{execution}", POST=rerun_execution),
    route("/users/{user}/logs", DELETE=delete_user_logs),
]
