"""Headless installation (2024-03): start an installation to learn the fields, then complete it with values.

Starting records a pending installation (durable, per namespace) with the workflows and credentials it will
use; completing checks the values against those workflows' fields and installs through `Installs`, exactly as
the hosted modal and the control API do. A pending installation is used once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from ..auth import Namespace
from ..catalogue import Block, BlockField, Workflow
from ..clock import Clock
from ..ids import new_object_id
from ..store import Collection, Indexes, Store
from .errors import InvalidInput, NotFound, brief
from .installs import Installs, WorkflowInstall

COLLECTION = "installations"
INDEXES = Indexes(grouped=("userId",))
INSTALLATION_NOT_FOUND = "Installation not found"
MAX_IDS = 100


class Installation(NamedTuple):
    installation_id: str
    user_id: str
    integration_id: str
    workflow_ids: list[str]
    credential_ids: list[str]
    created_at: str

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Installation:
        return cls(
            doc["installationId"],
            doc["userId"],
            doc["integrationId"],
            doc["workflowIds"],
            doc["credentialIds"],
            doc["createdAt"],
        )

    def to_doc(self) -> dict[str, Any]:
        return {
            "installationId": self.installation_id,
            "userId": self.user_id,
            "integrationId": self.integration_id,
            "workflowIds": self.workflow_ids,
            "credentialIds": self.credential_ids,
            "createdAt": self.created_at,
        }


class FormBlock(NamedTuple):
    """One block of the installation form: the fields a workflow's block needs."""

    workflow: Workflow
    block: Block
    fields: list[BlockField]


def id_list(value: Any, name: str) -> list[str] | None:
    """An optional list of ids (`credentialIds`, `workflowIds`); None when absent."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise InvalidInput(f"{name} must be an array of ids")
    if len(value) > MAX_IDS:
        raise InvalidInput(f"{name} can hold at most {MAX_IDS} ids")
    return list(dict.fromkeys(value))


def parse_form_data(data: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """completeInstallation's `data`, [{workflowId, blockId, fields: [{name, value}]}], as
    {workflowId: {blockId: {name: value}}}; InvalidInput names the item at fault."""
    if data is None:
        raise InvalidInput("data is required")
    if not isinstance(data, list):
        raise InvalidInput("data must be an array of {workflowId, blockId, fields}")
    values: dict[str, dict[str, dict[str, Any]]] = {}
    for index, item in enumerate(data):
        where = f"data[{index}]"
        if not isinstance(item, dict):
            raise InvalidInput(f"{where} must be an object")
        workflow_id, block_id, fields = item.get("workflowId"), item.get("blockId"), item.get("fields", [])
        if not isinstance(workflow_id, str) or not workflow_id:
            raise InvalidInput(f"{where}.workflowId is required")
        if not isinstance(block_id, str) or not block_id:
            raise InvalidInput(f"{where}.blockId is required")
        if not isinstance(fields, list):
            raise InvalidInput(f"{where}.fields must be an array of {{name, value}}")
        block = values.setdefault(workflow_id, {}).setdefault(block_id, {})
        for n, entry in enumerate(fields):
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
                raise InvalidInput(f"{where}.fields[{n}].name is required")
            if "value" not in entry:
                raise InvalidInput(f"{where}.fields[{n}].value is required")
            if entry["name"] in block:
                raise InvalidInput(f"{where}.fields[{n}]: {brief(entry['name'])!r} is given twice")
            block[entry["name"]] = entry["value"]
    return values


class HeadlessInstalls:
    def __init__(self, store: Store, installs: Installs, clock: Clock) -> None:
        self._store = store
        self._installs = installs
        self._clock = clock

    def _pending(self, namespace: Namespace) -> Collection:
        return self._store.collection(namespace.id, COLLECTION)

    def start(
        self,
        namespace: Namespace,
        user_id: str,
        integration_ref: str,
        workflow_ids: Sequence[str] | None,
        credential_ids: Sequence[str] | None,
    ) -> tuple[Installation, list[FormBlock]]:
        """Record a pending installation and return the form to fill: the fields of each block of each
        chosen workflow (latest version). Credentials are settled now, so a missing one fails here."""
        integration = self._installs.integration(integration_ref)
        workflows = self._installs.choose_workflows(integration, workflow_ids)
        apps = list(dict.fromkeys(app for workflow in workflows for app in workflow.apps))
        credentials = self._installs.resolve_credentials(namespace, user_id, apps, credential_ids, False)
        installation = Installation(
            new_object_id(),
            user_id,
            integration.integration_id,
            [w.workflow_id for w in workflows],
            list(credentials.values()),
            self._clock.iso_now(),
        )
        self._pending(namespace).insert(installation.installation_id, installation.to_doc())
        return installation, form(workflows)

    def complete(self, namespace: Namespace, installation_id: Any, data: Any) -> list[WorkflowInstall]:
        """Install with the values given for a started installation, which is then used up."""
        if not isinstance(installation_id, str) or not installation_id:
            raise InvalidInput("installationId is required")
        values = parse_form_data(data)
        doc = self._pending(namespace).get(installation_id)
        if doc is None:
            raise NotFound(INSTALLATION_NOT_FOUND)
        installation = Installation.from_doc(doc)
        integration = self._installs.integration(installation.integration_id)
        plan = self._installs.plan(
            namespace,
            installation.user_id,
            integration,
            installation.workflow_ids,
            values,
            credential_ids=installation.credential_ids,
        )
        with self._store.transaction():
            written = self._installs.install(namespace, installation.user_id, plan)
            self._pending(namespace).delete(installation_id)
        return written


def form(workflows: Sequence[Workflow]) -> list[FormBlock]:
    """The blocks of `workflows` that ask for fields at their latest version."""
    blocks: list[FormBlock] = []
    for workflow in workflows:
        by_block: dict[str, FormBlock] = {}
        for block, item in workflow.fields_at(workflow.version):
            by_block.setdefault(block.id, FormBlock(workflow, block, [])).fields.append(item)
        blocks.extend(by_block.values())
    return blocks
