"""The control API's read endpoints, for the dashboard and for tests that want to look:

- GET /_mock/namespaces: every configured namespace with its counts of users, installs, credentials, executions.
- GET /_mock/users?namespace&search&limit&offset: users, newest first, and how many match.
- GET /_mock/users/{user}?namespace: a user with their installs, credentials (never their data) and run counts.
- GET /_mock/executions?namespace&workflowId&userId&error&limit&before: executions, newest first, each the
  vendor's log entry plus its workflow, user and error; `next` is the `before` of the next (older) page.
- POST /_mock/executions/{execution_id}/rerun {"namespace"?}: the vendor's rerun, found by the execution alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ..auth import Namespace
from ..control import browse
from ..control.browse_models import (
    BrowseQuery,
    ExecutionsQuery,
    NamespacesQuery,
    RerunBody,
    UserQuery,
    UsersQuery,
    parse_query,
)
from ..control.models import parse
from ..domain.users import User
from ..emulator import Emulator
from .control import admin, namespace_from, optional_body
from .control_installs import render_install
from .credentials import render_credential
from .request import path_param
from .responses import ok
from .routing import route


def render_user(user: User) -> dict[str, Any]:
    return {"userId": user.user_id, "username": user.username, "fullName": user.full_name, "createdAt": user.created_at}


def _namespace(em: Emulator, query: BrowseQuery) -> Namespace:
    return em.namespace_named(query.namespace or "dev")


async def list_namespaces(request: Request) -> Response:
    em = admin(request)
    parse_query(NamespacesQuery, request.query_params.multi_items())
    return ok(
        {
            "data": [
                {
                    "namespace": counts.namespace.id,
                    "account": counts.namespace.account,
                    "environment": counts.namespace.env,
                    "users": counts.users,
                    "installs": counts.installs,
                    "credentials": counts.credentials,
                    "executions": counts.executions,
                }
                for counts in browse.namespace_counts(em)
            ]
        }
    )


async def list_users(request: Request) -> Response:
    em = admin(request)
    query: UsersQuery = parse_query(UsersQuery, request.query_params.multi_items())
    users, total = browse.find_users(em, _namespace(em, query), query.search, query.limit, query.offset)
    return ok({"data": [render_user(user) for user in users], "total": total})


async def show_user(request: Request) -> Response:
    em = admin(request)
    query: UserQuery = parse_query(UserQuery, request.query_params.multi_items())
    ns = _namespace(em, query)
    details = browse.user_details(em, ns, path_param(request, "user"))
    apps = {integration.integration_id: integration.app for integration in em.catalogue.integrations}
    return ok(
        {
            "namespace": ns.id,
            "user": render_user(details.user),
            "installs": [
                {**render_install(em, item), "app": apps.get(item.integration_id)} for item in details.installs
            ],
            "credentials": [
                {**render_credential(item), "emulated": item.emulated} for item in details.credentials
            ],  # never item.data
            "executions": {"total": details.executions, "errors": details.errors},
        }
    )


def render_execution(em: Emulator, doc: Mapping[str, Any], now: float) -> dict[str, Any]:
    """The vendor's log entry, with the workflow, user and error the logs endpoint leaves to the caller."""
    finished = doc["finishesAt"] <= now
    entry = orjson.loads(em.executions.entry_json(doc)) if finished else em.executions.entry(doc, now)
    found = em.catalogue.find_workflow(doc["workflowId"])
    error = doc.get("error") if finished else None  # a run still going (--run-latency) has not failed yet
    return {
        **entry,
        "workflowId": doc["workflowId"],
        "workflowName": None if found is None else found[1].name,
        "userId": doc["userId"],
        "failed": error is not None,
        "error": error,
        "rerunOf": doc.get("rerunOf"),
    }


async def list_executions(request: Request) -> Response:
    em = admin(request)
    query: ExecutionsQuery = parse_query(ExecutionsQuery, request.query_params.multi_items())
    docs, following = browse.executions_page(
        em, _namespace(em, query), query.workflowId, query.userId, query.error, query.before, query.limit
    )
    now = em.clock.now()
    return ok({"data": [render_execution(em, doc, now) for doc in docs], "next": following})


async def rerun_execution(request: Request) -> Response:
    em = admin(request)
    body = await optional_body(request)
    parse(RerunBody, body)
    ns = namespace_from(em, body, request) or em.namespace_named("dev")
    execution = browse.rerun(em, ns, path_param(request, "execution_id"))
    return ok({"message": "success", "executionUuid": execution.execution_uuid, "executionId": execution.execution_id})


routes = [
    route("/namespaces", GET=list_namespaces),
    route("/users", GET=list_users),
    route("/users/{user}", GET=show_user),
    route("/executions", GET=list_executions),
    route("/executions/{execution_id}/rerun", POST=rerun_execution),
]
