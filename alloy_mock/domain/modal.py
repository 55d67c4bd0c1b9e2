"""The hosted install modal: what its page asks the end user for, and installing what the page sends back.

alloy-frontend's iframe (/forge-install) names an integration or workflows, versions, an operation (install,
edit, update) and pre-filled values. `Modal.target()` settles what they mean for one user, `form()` builds
what the page shows (the credential each app needs, each workflow's fields with their current values), and
`submit()` installs through `Installs.plan()` and `install()`, as the headless flow and the control API do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from ..auth import Namespace
from ..catalogue import Block, BlockField, Catalogue, CredentialMetadata, Integration, Workflow
from .credentials import Credential, Credentials, data_problems
from .errors import InvalidFields, InvalidInput, NotFound, Problem, brief
from .fields import value_problems
from .installs import WORKFLOW_NOT_FOUND, Installs, WorkflowInstall

OPERATIONS = ("install", "edit", "update")
MAX_PREFILLED = 500
# What alloy-frontend 2.1.1 sends as `id` when it is given neither integrationId nor workflowIds.
UNDEFINED = "undefined"


class Target(NamedTuple):
    """What one opening of the modal installs for one user."""

    integration: Integration
    workflows: list[Workflow]
    versions: dict[str, int]  # workflowId -> the version to install
    installs: dict[str, WorkflowInstall]  # the user's current installs of those workflows
    operation: str
    notices: list[str]  # parameters that were ignored, and why


class AppChoice(NamedTuple):
    """An app the workflows need a credential of, with the user's credentials of it (newest first)."""

    metadata: CredentialMetadata
    existing: list[Credential]
    selected: str | None  # the credential to preselect: the one the install uses, else the newest


class FieldEntry(NamedTuple):
    block: Block
    field: BlockField
    value: Any  # the install's current value, else a pre-filled one, else None


class WorkflowForm(NamedTuple):
    workflow: Workflow
    version: int
    install: WorkflowInstall | None
    fields: list[FieldEntry]


class Form(NamedTuple):
    target: Target
    apps: list[AppChoice]
    workflows: list[WorkflowForm]
    notices: list[str]


class Prefill(NamedTuple):
    """One pre-filled value, for every field of that name (in that workflow and block, when named)."""

    name: str
    value: Any
    workflow_id: str | None
    block_id: str | None


class Modal:
    def __init__(self, catalogue: Catalogue, installs: Installs, credentials: Credentials) -> None:
        self._catalogue = catalogue
        self._installs = installs
        self._credentials = credentials

    def target(
        self,
        namespace: Namespace,
        user_id: str,
        integration_ref: str | None,
        workflow_ids: Sequence[str],
        version_ids: Sequence[str],
        operation: str,
    ) -> Target:
        """The integration and workflows the modal installs, at which versions.

        An integration means all its workflows, or for an edit or update those the user has installed (all,
        if none). Workflow ids must belong to one integration. Without versionIds a workflow is installed
        at its latest version, or kept at its installed one by an edit; a versionId that is no version of
        these workflows (alloy-frontend sends the workflow ids there when versionIds is not an array) is
        ignored with a notice.
        """
        if operation not in OPERATIONS:
            raise InvalidInput(f"operation must be edit or update, not {brief(operation)!r}")
        mine = self._installs.for_user(namespace, user_id)
        if integration_ref:
            integration = self._installs.integration(integration_ref)
            workflows = list(integration.workflows)
            if operation != "install":
                workflows = [w for w in workflows if w.workflow_id in mine] or workflows
        else:
            integration, workflows = self._workflows(workflow_ids)
        versions: dict[str, int] = {}
        for workflow in workflows:
            current = mine.get(workflow.workflow_id)
            keep = operation == "edit" and current is not None
            versions[workflow.workflow_id] = current.installed_version if current and keep else workflow.version
        notices = []
        for version_id in dict.fromkeys(version_ids):
            found = _version_named(workflows, version_id)
            if found is None:
                notices.append(f"versionId {brief(version_id)!r} is no version of these workflows: ignored")
            else:
                versions[found[0]] = found[1]
        installs = {w.workflow_id: mine[w.workflow_id] for w in workflows if w.workflow_id in mine}
        return Target(integration, workflows, versions, installs, operation, notices)

    def _workflows(self, refs: Sequence[str]) -> tuple[Integration, list[Workflow]]:
        wanted = [ref for ref in dict.fromkeys(refs) if ref and ref != UNDEFINED]
        if not wanted:
            raise InvalidInput("The modal needs an integrationId or workflow ids (id=...)")
        found: list[tuple[Integration, Workflow]] = []
        for ref in wanted:
            hit = self._catalogue.find_workflow(ref)
            if hit is None:
                raise NotFound(f"{WORKFLOW_NOT_FOUND}: {brief(ref)}")
            found.append(hit)
        integrations = {integration.integration_id for integration, _ in found}
        if len(integrations) > 1:
            raise InvalidInput("The workflows belong to different integrations: install one integration at a time")
        integration = found[0][0]
        return integration, self._installs.choose_workflows(integration, [w.workflow_id for _, w in found], "id")

    def form(self, namespace: Namespace, user_id: str, target: Target, prefilled: Any = None) -> Form:
        """What the page shows: each app's credential choice, then each workflow's fields and values.

        A field shows the install's current value; else a pre-filled one (`prefilled`: the parsed
        preFilledValues, see `parse_prefilled`).
        """
        notices = list(target.notices)
        prefills = parse_prefilled(prefilled, notices)
        used: set[int] = set()
        workflows = []
        for workflow in target.workflows:
            version = target.versions[workflow.workflow_id]
            install = target.installs.get(workflow.workflow_id)
            entries = []
            for block, item in workflow.fields_at(version):
                value = install.values.get(block.id, {}).get(item.name) if install is not None else None
                for index, prefill in enumerate(prefills):
                    if _applies(prefill, workflow, block, item):
                        used.add(index)
                        if value is None:
                            value = prefill.value
                entries.append(FieldEntry(block, item, value))
            workflows.append(WorkflowForm(workflow, version, install, entries))
        notices.extend(
            f"preFilledValues: no field named {brief(p.name)!r} here: ignored"
            for i, p in enumerate(prefills)
            if i not in used
        )
        return Form(target, self.app_choices(namespace, user_id, target), workflows, notices)

    def app_choices(self, namespace: Namespace, user_id: str, target: Target) -> list[AppChoice]:
        choices = []
        for app in dict.fromkeys(app for workflow in target.workflows for app in workflow.apps):
            metadata = self._catalogue.credential_metadata(app)
            if metadata is not None:
                choices.append(self.app_choice(namespace, user_id, metadata, target.installs.values()))
        return choices

    def app_choice(
        self,
        namespace: Namespace,
        user_id: str,
        metadata: CredentialMetadata,
        installs: Sequence[WorkflowInstall] | Any = (),
    ) -> AppChoice:
        existing = sorted(
            self._credentials.of_type(namespace, user_id, metadata.name), key=lambda c: c.created_at, reverse=True
        )
        ids = {c.credential_id for c in existing}
        in_use = next((i.credential_ids[metadata.name] for i in installs if metadata.name in i.credential_ids), None)
        selected = in_use if in_use in ids else (existing[0].credential_id if existing else None)
        return AppChoice(metadata, existing, selected)

    def submit(
        self,
        namespace: Namespace,
        user_id: str,
        target: Target,
        credentials: Mapping[str, tuple[str | None, Mapping[str, Any] | None]],
        values: Mapping[str, Mapping[str, Mapping[str, Any]]],
    ) -> list[WorkflowInstall]:
        """Install what the page sent: per app (credentialId, None) for a credential the user has, or (None,
        data) for one typed in; values as {workflowId: {blockId: {field: value}}}.

        Every problem with the fields and typed credentials is reported at once (InvalidFields, each
        problem's `where` starting with "values", workflowId or "credentials", app); nothing is written then.
        """
        problems: list[Problem] = []
        needed = {choice.metadata.name: choice for choice in self.app_choices(namespace, user_id, target)}
        given_ids: list[str] = []
        typed: dict[str, Mapping[str, Any]] = {}
        for app, (credential_id, data) in credentials.items():
            if app not in needed:
                problems.append(Problem(("credentials", app), f"credentials: {brief(app)} is not needed here"))
            elif credential_id is not None:
                if credential_id in {c.credential_id for c in needed[app].existing}:
                    given_ids.append(credential_id)
                else:
                    message = f"The user has no {app} credential {brief(credential_id)}"
                    problems.append(Problem(("credentials", app), message))
            elif data is not None:
                typed[app] = data
                problems.extend(
                    Problem(("credentials", app, *p.where), p.message)
                    for p in data_problems(needed[app].metadata, data)
                )
        for app, choice in needed.items():
            if app not in credentials and len(choice.existing) != 1:
                problems.append(Problem(("credentials", app), f"Connect a {app} account"))
        by_id = {w.workflow_id: w for w in target.workflows}
        for workflow_id in values:
            if workflow_id not in by_id:
                message = f"values name a workflow that is not being installed: {brief(workflow_id)}"
                problems.append(Problem(("values", workflow_id), message))
        for workflow in target.workflows:
            version = target.versions[workflow.workflow_id]
            _, found = value_problems(workflow, version, values.get(workflow.workflow_id, {}))
            problems.extend(Problem(("values", workflow.workflow_id, *p.where), p.message) for p in found)
        if problems:
            raise InvalidFields(problems)
        plan = self._installs.plan(
            namespace,
            user_id,
            target.integration,
            list(by_id),
            values,
            credential_ids=given_ids,
            versions=target.versions,
            new_credentials=typed,
        )
        return self._installs.install(namespace, user_id, plan, active=None if target.operation == "edit" else True)

    def connect(
        self, namespace: Namespace, user_id: str, app: str, credential_id: str | None, data: Mapping[str, Any] | None
    ) -> Credential:
        """The /authenticate-app page's result: a credential of `app` the user has, or a new one from `data`."""
        metadata = self._credentials.metadata(app)
        if credential_id is not None:
            found = self._credentials.find(namespace, user_id, credential_id)
            if found is None or found.type != metadata.name:
                raise InvalidFields([Problem((), f"The user has no {metadata.name} credential {brief(credential_id)}")])
            return found
        problems = data_problems(metadata, data or {})
        if problems:
            raise InvalidFields(problems)
        return self._credentials.add(namespace, user_id, metadata.name, data or {})


def _version_named(workflows: Sequence[Workflow], version_id: str) -> tuple[str, int] | None:
    for workflow in workflows:
        for number, version in enumerate(workflow.versions, start=1):
            if version.version_id == version_id:
                return workflow.workflow_id, number
    return None


def _applies(prefill: Prefill, workflow: Workflow, block: Block, item: BlockField) -> bool:
    return (
        prefill.name == item.name
        and prefill.workflow_id in (None, workflow.workflow_id)
        and prefill.block_id in (None, block.id)
    )


def parse_prefilled(value: Any, notices: list[str]) -> list[Prefill]:
    """preFilledValues (undocumented by the vendor), accepted in two shapes, items freely mixed:
    {"name" (or "fieldName"), "value", "workflowId"?, "blockId"?} and the headless form's
    {"workflowId"?, "blockId"?, "fields": [{"name", "value"}]}. Items of another shape are ignored, each
    with a notice."""
    if value is None:
        return []
    if not isinstance(value, list):
        notices.append("preFilledValues must be a JSON array: ignored")
        return []
    found: list[Prefill] = []
    for index, item in enumerate(value[:MAX_PREFILLED]):
        where = f"preFilledValues[{index}]"
        if not isinstance(item, dict):
            notices.append(f"{where} is not an object: ignored")
            continue
        workflow_id, block_id = item.get("workflowId"), item.get("blockId")
        if not all(ref is None or isinstance(ref, str) for ref in (workflow_id, block_id)):
            notices.append(f"{where}: workflowId and blockId must be strings: ignored")
            continue
        entries = item.get("fields") if "fields" in item else [item]
        if not isinstance(entries, list):
            notices.append(f"{where}.fields is not an array: ignored")
            continue
        for entry in entries:
            name = entry.get("name", entry.get("fieldName")) if isinstance(entry, dict) else None
            if not isinstance(name, str) or not name or "value" not in entry:
                notices.append(f"{where} has no name and value: ignored")
                continue
            found.append(Prefill(name, entry["value"], workflow_id, block_id))
    if len(value) > MAX_PREFILLED:
        notices.append(f"preFilledValues: only the first {MAX_PREFILLED} items are used")
    return found
