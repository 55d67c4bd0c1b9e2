"""The seed catalogue: integrations, workflows, apps, credential metadata and custom events.

The catalogue is account-level data that the API cannot create (the vendor's dashboard does), so it is
read once at start-up from the fixtures (a JSON file, or a folder of JSON files) and kept in memory.
The format is documented in docs/fixtures.md; every error names the file and the field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import StartupError
from .ids import OBJECT_ID

UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
ISO_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"
SECTIONS = ("apps", "credentials", "events", "integrations")
# Block types that are Alloy building blocks rather than third-party apps.
BUILTIN_BLOCK_TYPES = frozenset(
    {"customEvent", "webhook", "cron", "branch", "code", "delay", "formatter", "httpRequest"}
)
# The first block of a workflow is its trigger, of this type.
TRIGGER_BLOCK_TYPES = {"customEvent": "customEvent", "webhook": "webhook", "schedule": "cron"}

ObjectId = Annotated[str, Field(pattern=OBJECT_ID.pattern)]
NonEmpty = Annotated[str, Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CredentialProperty(_Model):
    name: NonEmpty
    display_name: NonEmpty = Field(alias="displayName")
    description: str | None = None
    required: bool = True


class CredentialMetadata(_Model):
    name: NonEmpty
    icon: NonEmpty
    is_oauth: bool = Field(alias="isOauth")
    properties: list[CredentialProperty]


class App(_Model):
    name: NonEmpty
    icon: NonEmpty
    type: list[Literal["action", "trigger"]] = Field(min_length=1)


class CustomEvent(_Model):
    name: NonEmpty
    description: str
    body: dict[str, Any]


FieldType = Literal["string", "number", "boolean", "select"]


class BlockField(_Model):
    """A field the end user fills in when installing a workflow."""

    name: NonEmpty
    display_name: NonEmpty = Field(alias="displayName")
    type: FieldType = "string"
    required: bool = False
    options: list[NonEmpty] | None = None  # the choices of a "select" field
    since: int = Field(default=1, ge=1)  # the workflow version that introduced the field

    @model_validator(mode="after")
    def _select_has_options(self) -> BlockField:
        if (self.type == "select") != bool(self.options):
            raise ValueError('"options" is required for a "select" field, and only there')
        return self


class Block(_Model):
    name: NonEmpty
    id: Annotated[str, Field(pattern=UUID)]
    type: NonEmpty
    icon: NonEmpty
    fields: list[BlockField] = []


class WorkflowVersion(_Model):
    version_id: ObjectId = Field(alias="versionId")
    version_name: NonEmpty = Field(alias="versionName")
    last_modified: Annotated[str, Field(pattern=ISO_TIMESTAMP)] = Field(alias="lastModified")
    status: Literal["active", "inactive"]


class CustomEventTrigger(_Model):
    type: Literal["customEvent"]
    event: NonEmpty


class WebhookTrigger(_Model):
    type: Literal["webhook"]


class ScheduleTrigger(_Model):
    type: Literal["schedule"]
    cron: NonEmpty


TRIGGER_TYPES = frozenset({"customEvent", "webhook", "schedule"})
Trigger = Annotated[CustomEventTrigger | WebhookTrigger | ScheduleTrigger, Field(discriminator="type")]


class Workflow(_Model):
    workflow_id: ObjectId = Field(alias="workflowId")
    name: NonEmpty
    created_at: Annotated[str, Field(pattern=ISO_TIMESTAMP)] = Field(alias="createdAt")
    updated_at: Annotated[str, Field(pattern=ISO_TIMESTAMP)] = Field(alias="updatedAt")
    trigger: Trigger
    versions: list[WorkflowVersion] = Field(min_length=1)
    blocks: list[Block] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Workflow:
        if self.updated_at < self.created_at:
            raise ValueError("updatedAt is earlier than createdAt")
        return self

    @property
    def version(self) -> int:
        """The latest released version number (versions are listed oldest first)."""
        return len(self.versions)

    def fields_at(self, version: int) -> list[tuple[Block, BlockField]]:
        """The install fields of `version`: every block field introduced at or before it."""
        return [(block, item) for block in self.blocks for item in block.fields if item.since <= version]

    @property
    def apps(self) -> list[str]:
        """The third-party apps the workflow's blocks use (block types that are not Alloy's own), in order."""
        found: dict[str, None] = {}
        for block in self.blocks:
            if block.type not in BUILTIN_BLOCK_TYPES:
                found[block.type.removesuffix("Trigger")] = None
        return list(found)


class Integration(_Model):
    integration_id: ObjectId = Field(alias="integrationId")
    app: NonEmpty
    icon: NonEmpty
    workflows: list[Workflow]


class CatalogueFile(_Model):
    """What one fixtures file may hold: any subset of the sections."""

    apps: list[App] | None = None
    credentials: list[CredentialMetadata] | None = None
    events: list[CustomEvent] | None = None
    integrations: list[Integration] | None = None

    @model_validator(mode="before")
    @classmethod
    def _must_be_object(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            raise ValueError(f"a fixtures file must hold a JSON object with the keys {', '.join(SECTIONS)}")
        return value


class FixturesError(StartupError):
    """Seed data that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Catalogue:
    """The validated seed catalogue, with lookups by id and by name."""

    apps: tuple[App, ...] = ()
    credentials: tuple[CredentialMetadata, ...] = ()
    events: tuple[CustomEvent, ...] = ()
    integrations: tuple[Integration, ...] = ()
    sources: tuple[str, ...] = ()
    _integrations_by_id: dict[str, Integration] = field(default_factory=dict, init=False, repr=False, compare=False)
    _integrations_by_name: dict[str, Integration] = field(default_factory=dict, init=False, repr=False, compare=False)
    _workflows_by_id: dict[str, tuple[Integration, Workflow]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _workflows_by_name: dict[str, list[tuple[Integration, Workflow]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _credentials_by_name: dict[str, CredentialMetadata] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _events_by_name: dict[str, CustomEvent] = field(default_factory=dict, init=False, repr=False, compare=False)
    _workflows_by_event: dict[str, list[Workflow]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for integration in self.integrations:
            self._integrations_by_id[integration.integration_id] = integration
            self._integrations_by_name.setdefault(integration.app.casefold(), integration)
            for workflow in integration.workflows:
                self._workflows_by_id[workflow.workflow_id] = (integration, workflow)
                self._workflows_by_name.setdefault(workflow.name.casefold(), []).append((integration, workflow))
                if isinstance(workflow.trigger, CustomEventTrigger):
                    self._workflows_by_event.setdefault(workflow.trigger.event, []).append(workflow)
        for metadata in self.credentials:
            self._credentials_by_name[metadata.name] = metadata
        for event in self.events:
            self._events_by_name[event.name] = event

    def find_event(self, name: str) -> CustomEvent | None:
        return self._events_by_name.get(name)

    def workflows_for_event(self, name: str) -> list[Workflow]:
        """The workflows whose trigger is the custom event `name` (exact name)."""
        return self._workflows_by_event.get(name, [])

    @property
    def workflows(self) -> list[tuple[Integration, Workflow]]:
        """Every parent workflow with its integration, in catalogue order."""
        return list(self._workflows_by_id.values())

    def find_integration(self, id_or_name: str) -> Integration | None:
        """Look an integration up by its id, or else by its name (`app`, case-insensitive)."""
        return self._integrations_by_id.get(id_or_name) or self._integrations_by_name.get(id_or_name.casefold())

    def find_workflow(self, workflow_id: str) -> tuple[Integration, Workflow] | None:
        return self._workflows_by_id.get(workflow_id)

    def workflows_named(self, name: str) -> list[tuple[Integration, Workflow]]:
        """The workflows with this name (case-insensitive; names are unique only within an integration)."""
        return self._workflows_by_name.get(name.casefold(), [])

    def credential_metadata(self, app: str) -> CredentialMetadata | None:
        """The credential metadata of an app by its name (`wooCommerce`; exact, else case-insensitive)."""
        found = self._credentials_by_name.get(app)
        if found is None:
            folded = app.casefold()
            found = next((m for m in self.credentials if m.name.casefold() == folded), None)
        return found


def default_fixtures_path() -> Path:
    """The bundled fixtures: inside the wheel, or the repository's `fixtures/` in a source checkout."""
    bundled = Path(__file__).with_name("_bundled_fixtures")
    if bundled.is_dir():
        return bundled
    return Path(__file__).resolve().parent.parent / "fixtures"


def load_catalogue(path: Path) -> Catalogue:
    """Read and validate a fixtures file or folder; raise FixturesError naming the file and field."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix == ".json" and p.is_file())
        if not files:
            raise FixturesError(f"{path}: no .json files in the fixtures folder")
    elif path.is_file():
        files = [path]
    else:
        raise FixturesError(f"{path}: no such fixtures file or folder")
    sections: dict[str, list[Any]] = {name: [] for name in SECTIONS}
    origins: dict[str, list[str]] = {name: [] for name in SECTIONS}  # "file: section[i]" of each item
    for file in files:
        parsed = _read_file(file)
        for name in SECTIONS:
            items = getattr(parsed, name) or []
            sections[name].extend(items)
            origins[name].extend(f"{file}: {name}[{i}]" for i in range(len(items)))
    catalogue = Catalogue(
        apps=tuple(sections["apps"]),
        credentials=tuple(sections["credentials"]),
        events=tuple(sections["events"]),
        integrations=tuple(sections["integrations"]),
        sources=tuple(str(f) for f in files),
    )
    _check_references(catalogue, origins)
    return catalogue


def _read_file(file: Path) -> CatalogueFile:
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise FixturesError(f"{file}: cannot read: {exc.strerror}") from exc
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise FixturesError(f"{file}: invalid JSON: {exc}") from exc
    try:
        return CatalogueFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = _format_location(first["loc"])
        more = f" (and {exc.error_count() - 1} more errors)" if exc.error_count() > 1 else ""
        message = first["msg"].removeprefix("Value error, ")
        raise FixturesError(f"{file}: {location or '<top level>'}: {message}{more}") from exc


def _format_location(loc: Iterable[int | str]) -> str:
    text = ""
    previous: int | str | None = None
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif previous == "trigger" and part in TRIGGER_TYPES:
            pass  # pydantic names the union branch; the reader knows it from `type`
        else:
            text += f".{part}" if text else str(part)
        previous = part
    return text


def _check_references(catalogue: Catalogue, origins: dict[str, list[str]]) -> None:
    """Rules across items and files: unique ids and names, and references that resolve."""
    _unique("name", [a.name for a in catalogue.apps], origins["apps"])
    _unique("name", [c.name for c in catalogue.credentials], origins["credentials"])
    _unique("name", [e.name for e in catalogue.events], origins["events"])
    _unique("integrationId", [i.integration_id for i in catalogue.integrations], origins["integrations"])
    _unique("app", [i.app.casefold() for i in catalogue.integrations], origins["integrations"])
    app_names = {a.name for a in catalogue.apps}
    for credential, where in zip(catalogue.credentials, origins["credentials"], strict=True):
        if credential.name not in app_names:
            raise FixturesError(f"{where}.name: unknown app {credential.name!r}")
        _unique(
            "name",
            [p.name for p in credential.properties],
            [f"{where}.properties[{k}]" for k in range(len(credential.properties))],
        )
    event_names = {e.name for e in catalogue.events}
    workflow_ids: list[str] = []
    version_ids: list[str] = []
    block_ids: list[str] = []
    ids_at: tuple[list[str], list[str], list[str]] = ([], [], [])
    for integration, where in zip(catalogue.integrations, origins["integrations"], strict=True):
        _unique(
            "name",
            [w.name for w in integration.workflows],
            [f"{where}.workflows[{j}]" for j in range(len(integration.workflows))],
        )
        for j, workflow in enumerate(integration.workflows):
            at = f"{where}.workflows[{j}]"
            workflow_ids.append(workflow.workflow_id)
            ids_at[0].append(at)
            version_ids.extend(v.version_id for v in workflow.versions)
            ids_at[1].extend(f"{at}.versions[{k}]" for k in range(len(workflow.versions)))
            block_ids.extend(b.id for b in workflow.blocks)
            ids_at[2].extend(f"{at}.blocks[{k}]" for k in range(len(workflow.blocks)))
            _check_workflow(workflow, at, event_names, app_names)
    _unique("workflowId", workflow_ids, ids_at[0])
    _unique("versionId", version_ids, ids_at[1])
    _unique("id", block_ids, ids_at[2])


def _check_workflow(workflow: Workflow, at: str, event_names: set[str], app_names: set[str]) -> None:
    trigger = workflow.trigger
    if isinstance(trigger, CustomEventTrigger) and trigger.event not in event_names:
        raise FixturesError(f"{at}.trigger.event: unknown custom event {trigger.event!r}")
    expected = TRIGGER_BLOCK_TYPES[trigger.type]
    if workflow.blocks[0].type != expected:
        raise FixturesError(f"{at}.blocks[0].type: a {trigger.type} workflow starts with a {expected!r} block")
    for k, block in enumerate(workflow.blocks):
        app = block.type.removesuffix("Trigger")
        if block.type not in BUILTIN_BLOCK_TYPES and app not in app_names:
            raise FixturesError(f"{at}.blocks[{k}].type: unknown app {block.type!r}")
        _unique(
            "name", [f.name for f in block.fields], [f"{at}.blocks[{k}].fields[{n}]" for n in range(len(block.fields))]
        )
        for n, item in enumerate(block.fields):
            if item.since > workflow.version:
                raise FixturesError(
                    f"{at}.blocks[{k}].fields[{n}].since: version {item.since} does not exist "
                    f"(the workflow has {workflow.version})"
                )


def _unique(field_name: str, values: list[str], places: list[str]) -> None:
    seen: dict[str, str] = {}
    for value, place in zip(values, places, strict=True):
        if value in seen:
            raise FixturesError(f"{place}.{field_name}: duplicate {value!r} (also at {seen[value]})")
        seen[value] = place
