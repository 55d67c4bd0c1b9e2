"""Installs: which parent workflows (and integrations) a user has installed, at which version, with which values.

One document per (user, workflow) in the namespace's `installs` collection, indexed by user and by workflow,
and one per (user, integration) in `integration_installs`: the vendor tracks the two separately (an integration
can show `installed: false` while one of its workflows is installed). Every way of installing (the hosted
modal, the 2024-03 headless endpoints, the control API) ends in `Installs.install()`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..auth import Namespace
from ..catalogue import Catalogue, Integration, Workflow
from ..clock import Clock
from ..store import Collection, Indexes, Store
from .credentials import Credentials, check_data
from .errors import InvalidInput, NotFound, brief
from .fields import Values, check_values

COLLECTION = "installs"
INDEXES = Indexes(grouped=("userId", "workflowId"))
INTEGRATION_COLLECTION = "integration_installs"
INTEGRATION_INDEXES = Indexes(grouped=("userId",))
INTEGRATION_NOT_FOUND = "Integration not found"
WORKFLOW_NOT_FOUND = "Workflow not found"


class WorkflowInstall(NamedTuple):
    """A user's copy of a parent workflow."""

    user_id: str
    workflow_id: str
    integration_id: str
    installed_version: int
    active: bool
    installed_at: str
    updated_at: str
    values: Values  # {blockId: {fieldName: value}}
    credential_ids: dict[str, str]  # {app: credentialId} the install runs with

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> WorkflowInstall:
        # tuple.__new__ rather than cls(...): the same tuple, without the Python-level __new__ that
        # NamedTuple generates (one call less on every run).
        return tuple.__new__(
            cls,
            (
                doc["userId"],
                doc["workflowId"],
                doc["integrationId"],
                doc["installedVersion"],
                doc["active"],
                doc["installedAt"],
                doc["updatedAt"],
                doc.get("values", {}),
                doc.get("credentialIds", {}),
            ),
        )

    def to_doc(self) -> dict[str, Any]:
        return {
            "userId": self.user_id,
            "workflowId": self.workflow_id,
            "integrationId": self.integration_id,
            "installedVersion": self.installed_version,
            "active": self.active,
            "installedAt": self.installed_at,
            "updatedAt": self.updated_at,
            "values": self.values,
            "credentialIds": self.credential_ids,
        }


@dataclass(frozen=True)
class InstallPlan:
    """What one installation will write: each workflow at a version with its checked values, and the
    credential of each app the workflows use."""

    integration: Integration
    workflows: list[tuple[Workflow, int, Values]]
    credential_ids: dict[str, str]


def version_of(workflow: Workflow, version: int | None) -> int:
    """The version to install: `version`, checked against the workflow's, else its latest."""
    at = workflow.version if version is None else version
    if not 1 <= at <= workflow.version:
        raise InvalidInput(f"workflow {workflow.name!r} has versions 1 to {workflow.version}, not {at}")
    return at


def _key(user_id: str, item_id: str) -> str:
    return f"{user_id}:{item_id}"


class Installs:
    def __init__(self, store: Store, catalogue: Catalogue, credentials: Credentials, clock: Clock) -> None:
        self._store = store
        self._catalogue = catalogue
        self._credentials = credentials
        self._clock = clock

    def _installs(self, namespace: Namespace) -> Collection:
        return self._store.collection(namespace.id, COLLECTION)

    def _integration_installs(self, namespace: Namespace) -> Collection:
        return self._store.collection(namespace.id, INTEGRATION_COLLECTION)

    # -- the catalogue, as installs need it ---------------------------------------------------------

    def integration(self, id_or_name: str) -> Integration:
        found = self._catalogue.find_integration(id_or_name)
        if found is None:
            raise NotFound(INTEGRATION_NOT_FOUND)
        return found

    def workflow(self, id_or_name: str, prefer: Mapping[str, WorkflowInstall] | None = None) -> Workflow:
        """A parent workflow by id, else by name. Names are unique only within an integration: among
        several workflows of that name, one in `prefer` (a user's installs) wins, else the first."""
        found = self._catalogue.find_workflow(id_or_name)
        if found is not None:
            return found[1]
        named = self._catalogue.workflows_named(id_or_name)
        if not named:
            raise NotFound(WORKFLOW_NOT_FOUND)
        for _, workflow in named:
            if prefer and workflow.workflow_id in prefer:
                return workflow
        return named[0][1]

    # -- reads --------------------------------------------------------------------------------------

    def for_user(self, namespace: Namespace, user_id: str) -> dict[str, WorkflowInstall]:
        """The user's installs by workflow id."""
        docs = self._installs(namespace).find_all("userId", user_id)
        return {doc["workflowId"]: WorkflowInstall.from_doc(doc) for doc in docs}

    def get(self, namespace: Namespace, user_id: str, workflow_id: str) -> WorkflowInstall | None:
        doc = self._installs(namespace).view(_key(user_id, workflow_id))
        return WorkflowInstall.from_doc(doc) if doc is not None else None

    def active_among(self, namespace: Namespace, user_id: str, workflows: Sequence[Workflow]) -> list[WorkflowInstall]:
        """The user's active installs of `workflows`, in their order (the hot path of a custom event: it looks
        up whichever is fewer, the user's installs or the workflows, with as few calls as it can)."""
        installs = self._store.collection(namespace.id, COLLECTION)  # _installs(), inlined
        view = installs.view
        mine = installs.keys_where("userId", user_id)
        if len(mine) < len(workflows):
            active: dict[str, Mapping[str, Any]] = {}
            for key in mine:
                doc = view(key)
                if doc is not None and doc["active"]:
                    active[doc["workflowId"]] = doc
            if not active:
                return []
            hits = []
            for workflow in workflows:  # loops, not comprehensions: a frame less each
                doc = active.get(workflow.workflow_id)
                if doc is not None:
                    hits.append(WorkflowInstall.from_doc(doc))
            return hits
        hits = []
        for workflow in workflows:
            doc = view(f"{user_id}:{workflow.workflow_id}")  # _key(), inlined
            if doc is not None and doc["active"]:
                hits.append(WorkflowInstall.from_doc(doc))
        return hits

    def of_workflow(self, namespace: Namespace, workflow_id: str) -> list[WorkflowInstall]:
        """Every user's install of one workflow, oldest first."""
        return [WorkflowInstall.from_doc(doc) for doc in self._installs(namespace).find_all("workflowId", workflow_id)]

    def installed_integrations(self, namespace: Namespace, user_id: str) -> set[str]:
        """The ids of the integrations the user has installed (as a whole, not workflow by workflow)."""
        return {doc["integrationId"] for doc in self._integration_installs(namespace).find_all("userId", user_id)}

    # -- planning an installation ---------------------------------------------------------------------

    def plan(
        self,
        namespace: Namespace,
        user_id: str,
        integration: Integration,
        workflow_refs: Sequence[str] | None,
        values: Mapping[str, Mapping[str, Mapping[str, Any]]],
        credential_ids: Sequence[str] | None = None,
        version: int | None = None,
        create_missing_credentials: bool = False,
        versions: Mapping[str, int] | None = None,
        new_credentials: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> InstallPlan:
        """Check an installation before anything is written.

        `workflow_refs` picks workflows of the integration by id or name (None: all of them); `values` is
        {workflowId: {blockId: {field: value}}}; `version` (default: the latest) applies to every workflow,
        unless `versions` ({workflowId: version}) names one. `new_credentials` ({app: data}) are credentials
        the user typed in, created for those apps once everything else has passed.
        """
        chosen = self.choose_workflows(integration, workflow_refs)
        stray = sorted(set(values) - {w.workflow_id for w in chosen})
        if stray:
            raise InvalidInput(f"values name workflows that are not being installed: {', '.join(map(brief, stray))}")
        planned: list[tuple[Workflow, int, Values]] = []
        for workflow in chosen:
            at = version_of(workflow, (versions or {}).get(workflow.workflow_id, version))
            planned.append((workflow, at, check_values(workflow, at, values.get(workflow.workflow_id, {}))))
        apps = list(dict.fromkeys(app for workflow in chosen for app in workflow.apps))
        resolved = self.resolve_credentials(
            namespace, user_id, apps, credential_ids, create_missing_credentials, new_credentials
        )
        return InstallPlan(integration, planned, resolved)

    def choose_workflows(
        self, integration: Integration, refs: Sequence[str] | None, field: str = "workflowIds"
    ) -> list[Workflow]:
        """The integration's workflows named by id or name (all of them for None), in catalogue order;
        `field` is what the caller calls the list, for the error message."""
        if refs is None:
            return list(integration.workflows)
        if not refs:
            raise InvalidInput(f"{field} must name at least one workflow (leave it out to install all)")
        wanted: dict[str, None] = {}
        for ref in refs:
            match = next((w for w in integration.workflows if ref in (w.workflow_id, w.name)), None)
            if match is None:
                raise InvalidInput(f"workflow {brief(ref)!r} is not part of the integration {integration.app!r}")
            wanted[match.workflow_id] = None
        return [w for w in integration.workflows if w.workflow_id in wanted]

    def resolve_credentials(
        self,
        namespace: Namespace,
        user_id: str,
        apps: Sequence[str],
        given: Sequence[str] | None,
        create_missing: bool,
        new: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> dict[str, str]:
        """The credential each app will use: a new one from `new` ({app: data}), one named in `given`, else
        the user's only one of that app.

        As the vendor documents, credentialIds are needed only when the user has several credentials of an
        app. A missing credential is an error, unless `create_missing` (test installs) makes an emulated one.
        """
        chosen: dict[str, str] = {}
        missing: list[str] = []
        typed: dict[str, Mapping[str, Any]] = {}
        for app, data in (new or {}).items():
            metadata = self._credentials.metadata(app)
            if metadata.name not in apps:
                raise InvalidInput(f"credentials: {metadata.name} is not needed here")
            check_data(metadata, data)
            typed[metadata.name] = data
        for credential_id in given or ():
            credential = self._credentials.find(namespace, user_id, credential_id)
            if credential is None:
                raise InvalidInput(f"credentialIds: the user has no credential {brief(credential_id)!r}")
            if credential.type not in apps:
                raise InvalidInput(f"credentialIds: {credential_id} is a {credential.type} credential, not needed here")
            if credential.type in chosen or credential.type in typed:
                raise InvalidInput(f"credentialIds: two credentials given for {credential.type}")
            chosen[credential.type] = credential_id
        for app in apps:
            if app in chosen or app in typed or self._catalogue.credential_metadata(app) is None:
                continue  # given, or an app that needs no credential
            existing = self._credentials.of_type(namespace, user_id, app)
            if len(existing) == 1:
                chosen[app] = existing[0].credential_id
            elif len(existing) > 1:
                raise InvalidInput(f"The user has {len(existing)} {app} credentials: say which one in credentialIds")
            elif create_missing:
                missing.append(app)
            else:
                raise InvalidInput(f"The user has no {app} credential: create one first (or authorize {app} by OAuth)")
        # Created only once every app has passed, so that a refused installation writes nothing.
        for app in missing:
            chosen[app] = self._credentials.create_emulated(namespace, user_id, app, {}).credential_id
        for app, data in typed.items():
            chosen[app] = self._credentials.add(namespace, user_id, app, data).credential_id
        return chosen

    # -- writes ---------------------------------------------------------------------------------------

    def install(
        self, namespace: Namespace, user_id: str, plan: InstallPlan, active: bool | None = True
    ) -> list[WorkflowInstall]:
        """Write a planned installation in one transaction: the workflows (replacing earlier installs of
        them, values included) and the integration's own installed flag. `active=None` keeps the flag of
        each workflow installed before (an edit), new ones being active."""
        now = self._clock.iso_now()
        installs = self._installs(namespace)
        written: list[WorkflowInstall] = []
        with self._store.transaction():
            for workflow, version, values in plan.workflows:
                key = _key(user_id, workflow.workflow_id)
                earlier = installs.get(key)
                record = WorkflowInstall(
                    user_id,
                    workflow.workflow_id,
                    plan.integration.integration_id,
                    version,
                    (earlier is None or earlier["active"]) if active is None else active,
                    earlier["installedAt"] if earlier is not None else now,
                    now,
                    values,
                    {app: cid for app, cid in plan.credential_ids.items() if app in workflow.apps},
                )
                if earlier is None:
                    installs.insert(key, record.to_doc())
                else:
                    installs.update(key, record.to_doc())
                written.append(record)
            flags = self._integration_installs(namespace)
            key = _key(user_id, plan.integration.integration_id)
            if flags.get(key) is None:
                flags.insert(
                    key, {"userId": user_id, "integrationId": plan.integration.integration_id, "installedAt": now}
                )
        return written

    def update(self, namespace: Namespace, install: WorkflowInstall, **changes: Any) -> WorkflowInstall:
        """Change fields of an install (active, installed_version, values): the NamedTuple's field names."""
        changed = install._replace(**changes, updated_at=self._clock.iso_now())
        self._installs(namespace).update(_key(install.user_id, install.workflow_id), changed.to_doc())
        return changed

    def deactivate_all(self, namespace: Namespace, user_id: str) -> int:
        """Switch off every installed workflow of the user, in one transaction; how many were active."""
        switched = 0
        with self._store.transaction():
            for install in self.for_user(namespace, user_id).values():
                if install.active:
                    self.update(namespace, install, active=False)
                    switched += 1
        return switched

    def remove(self, namespace: Namespace, install: WorkflowInstall) -> None:
        self._installs(namespace).delete(_key(install.user_id, install.workflow_id))

    def remove_integration(self, namespace: Namespace, user_id: str, integration: Integration) -> int:
        """Uninstall an integration and every one of its workflows for the user; how many workflows went."""
        removed = 0
        with self._store.transaction():
            for workflow in integration.workflows:
                if self._installs(namespace).delete(_key(user_id, workflow.workflow_id)) is not None:
                    removed += 1
            self._integration_installs(namespace).delete(_key(user_id, integration.integration_id))
        return removed
