"""What the control API's read endpoints show (the dashboard's data): namespaces with their counts, users,
one user's installs and credentials, executions newest first, and reruns. No HTTP here (http/control_browse.py).

Counts come from the store's lengths and indexes, pages from its newest-first key views, so nothing reads a
namespace's whole history except a user search, which looks at every user of the namespace.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..auth import Namespace
from ..domain import credentials as credential_docs
from ..domain import executions as execution_docs
from ..domain import installs as install_docs
from ..domain import users as user_docs
from ..domain.credentials import Credential
from ..domain.errors import NotFound
from ..domain.executions import EXECUTION_NOT_FOUND, Execution
from ..domain.installs import WorkflowInstall
from ..domain.users import USER_NOT_FOUND, User
from ..emulator import Emulator
from ..ids import is_object_id


class NamespaceCounts(NamedTuple):
    namespace: Namespace
    users: int
    installs: int  # workflow installs
    credentials: int
    executions: int  # stored (retention may have trimmed older ones)


@dataclass(frozen=True)
class UserDetails:
    user: User
    installs: list[WorkflowInstall]
    credentials: list[Credential]
    executions: int
    errors: int


def namespace_counts(em: Emulator) -> list[NamespaceCounts]:
    """Every configured namespace, empty ones too, in the order of the accounts (dev before prod)."""
    namespaces = dict.fromkeys(em.keys.namespaces)  # two keys of one namespace count once

    def count(ns: Namespace, collection: str) -> int:
        return len(em.store.collection(ns.id, collection))

    return [
        NamespaceCounts(
            ns,
            count(ns, user_docs.COLLECTION),
            count(ns, install_docs.COLLECTION),
            count(ns, credential_docs.COLLECTION),
            count(ns, execution_docs.COLLECTION),
        )
        for ns in namespaces
    ]


def find_users(em: Emulator, ns: Namespace, search: str | None, limit: int, offset: int) -> tuple[list[User], int]:
    """A page of the namespace's users, newest first, and how many there are (that match `search`: a userId
    prefix, or a part of the username or fullName in any case)."""
    users = em.store.collection(ns.id, user_docs.COLLECTION)
    if search is None:
        page = []
        for index, key in enumerate(users.newest_keys()):
            if index >= offset + limit:
                break
            doc = users.view(key)
            if index >= offset and doc is not None:
                page.append(User.from_doc(doc))
        return page, len(users)
    folded, prefix = search.casefold(), search.lower()
    matches: list[Mapping[str, Any]] = []
    for key in users.newest_keys():
        doc = users.view(key)
        if doc is not None and (
            doc["userId"].startswith(prefix)
            or folded in doc["username"].casefold()
            or folded in (doc.get("fullName") or "").casefold()
        ):
            matches.append(doc)
    return [User.from_doc(doc) for doc in matches[offset : offset + limit]], len(matches)


def user_details(em: Emulator, ns: Namespace, ref: str) -> UserDetails:
    """A user (by id or username) with their installs, credentials (never to be shown with their data) and
    execution counts; NotFound for an unknown user."""
    user = em.users.get(ns, ref)
    total, errors = em.executions.user_counts(ns, user.user_id)
    return UserDetails(
        user,
        list(em.installs.for_user(ns, user.user_id).values()),
        em.credentials.list_for(ns, user.user_id),
        total,
        errors,
    )


def _user_id(em: Emulator, ns: Namespace, ref: str) -> str:
    """A userId for an executions filter: a user's, else an id as given (a deleted user's executions stay)."""
    user = em.users.find(ns, ref)
    if user is not None:
        return user.user_id
    if is_object_id(ref):
        return ref
    raise NotFound(USER_NOT_FOUND)


def executions_page(
    em: Emulator,
    ns: Namespace,
    workflow: str | None,
    user: str | None,
    failed_only: bool,
    before: str | None,
    limit: int,
) -> tuple[list[Mapping[str, Any]], str | None]:
    """A page of stored executions, newest first, and the cursor of the next (older) page, if there is one."""
    workflow_id = None if workflow is None else em.installs.workflow(workflow).workflow_id
    user_id = None if user is None else _user_id(em, ns, user)
    docs = em.executions.newest(ns, workflow_id, user_id, failed_only, before, limit + 1)
    more = len(docs) > limit
    docs = docs[:limit]
    return docs, docs[-1]["executionId"] if more else None


def rerun(em: Emulator, ns: Namespace, execution_id: str) -> Execution:
    """Run a stored execution's input again, as the vendor's rerun endpoint does, for its workflow and user."""
    stored = em.executions.find(ns, execution_id)
    if stored is None:
        raise NotFound(EXECUTION_NOT_FOUND)
    user = em.users.by_id(ns, stored["userId"])
    if user is None:
        raise NotFound(USER_NOT_FOUND)
    return em.runner.rerun(ns, user, stored["workflowId"], execution_id)
