"""The seed catalogue: integrations, workflows, apps, credential metadata and custom events.

The catalogue is account-level data that the API cannot create (the vendor's dashboard does), so it is
read once at start-up from the fixtures (a JSON file, or a folder of JSON files) and kept in memory.
The format is documented in docs/fixtures.md; every error names the file and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import orjson

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

ObjectId = Annotated[str, msgspec.Meta(pattern=OBJECT_ID.pattern)]
NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]
Timestamp = Annotated[str, msgspec.Meta(pattern=ISO_TIMESTAMP)]


# msgspec rather than pydantic: the catalogue is read at every start, and msgspec's import and class
# definitions cost about a millisecond where pydantic's cost about 60 (issue 13's session start).
# Keys are the camelCase of the attribute names; unknown keys are errors. (mypy needs `frozen` on each class.)
class _Model(msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel"):
    pass


class CredentialProperty(_Model, frozen=True):
    name: NonEmpty
    display_name: NonEmpty
    description: str | None = None
    required: bool = True


class CredentialMetadata(_Model, frozen=True):
    name: NonEmpty
    icon: NonEmpty
    is_oauth: bool
    properties: list[CredentialProperty]


class App(_Model, frozen=True):
    name: NonEmpty
    icon: NonEmpty
    type: Annotated[list[Literal["action", "trigger"]], msgspec.Meta(min_length=1)]


class CustomEvent(_Model, frozen=True):
    name: NonEmpty
    description: str
    body: dict[str, Any]


FieldType = Literal["string", "number", "boolean", "select"]


class BlockField(_Model, frozen=True):
    """A field the end user fills in when installing a workflow."""

    name: NonEmpty
    display_name: NonEmpty
    type: FieldType = "string"
    required: bool = False
    options: list[NonEmpty] | None = None  # the choices of a "select" field
    since: Annotated[int, msgspec.Meta(ge=1)] = 1  # the workflow version that introduced the field

    def __post_init__(self) -> None:
        if (self.type == "select") != bool(self.options):
            raise ValueError('"options" is required for a "select" field, and only there')


class Block(_Model, frozen=True):
    name: NonEmpty
    id: Annotated[str, msgspec.Meta(pattern=UUID)]
    type: NonEmpty
    icon: NonEmpty
    fields: list[BlockField] = []


class WorkflowVersion(_Model, frozen=True):
    version_id: ObjectId
    version_name: NonEmpty
    last_modified: Timestamp
    status: Literal["active", "inactive"]


# A trigger's `type` key picks its class (a tagged union); the property gives it back to the code.
class CustomEventTrigger(_Model, frozen=True, tag_field="type", tag="customEvent"):
    event: NonEmpty

    @property
    def type(self) -> Literal["customEvent"]:
        return "customEvent"


class WebhookTrigger(_Model, frozen=True, tag_field="type", tag="webhook"):
    @property
    def type(self) -> Literal["webhook"]:
        return "webhook"


class ScheduleTrigger(_Model, frozen=True, tag_field="type", tag="schedule"):
    cron: NonEmpty

    @property
    def type(self) -> Literal["schedule"]:
        return "schedule"


Trigger = CustomEventTrigger | WebhookTrigger | ScheduleTrigger


class Workflow(_Model, frozen=True):
    workflow_id: ObjectId
    name: NonEmpty
    created_at: Timestamp
    updated_at: Timestamp
    trigger: Trigger
    versions: Annotated[list[WorkflowVersion], msgspec.Meta(min_length=1)]
    blocks: Annotated[list[Block], msgspec.Meta(min_length=1)]

    def __post_init__(self) -> None:
        if self.updated_at < self.created_at:
            raise ValueError("updatedAt is earlier than createdAt")

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


class Integration(_Model, frozen=True):
    integration_id: ObjectId
    app: NonEmpty
    icon: NonEmpty
    workflows: list[Workflow]


class CatalogueFile(_Model, frozen=True):
    """What one fixtures file may hold: any subset of the sections."""

    apps: list[App] | None = None
    credentials: list[CredentialMetadata] | None = None
    events: list[CustomEvent] | None = None
    integrations: list[Integration] | None = None


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
        return msgspec.convert(data, CatalogueFile, strict=False)
    except msgspec.ValidationError as exc:
        location, reason = _explain(str(exc))
        raise FixturesError(f"{file}: {location or '<top level>'}: {reason}") from exc


# msgspec says "<reason> - at `$.integrations[0].name`"; a missing or unknown key is reported at its object.
_AT = re.compile(r"^(?P<reason>.*?)(?: - at `\$\.?(?P<path>[^`]*)`)?$", re.DOTALL)
_KEY = re.compile(r"^Object (?P<what>missing required|contains unknown) field `(?P<key>[^`]*)`$")


def _explain(message: str) -> tuple[str, str]:
    """(location, reason) of a msgspec validation error, in the loader's own words where they differ."""
    match = _AT.match(message)
    assert match is not None  # the pattern matches any text
    path, reason = match["path"] or "", match["reason"]
    key = _KEY.match(reason)
    if key is not None:
        path = f"{path}.{key['key']}" if path else key["key"]
        reason = "required key missing" if key["what"] == "missing required" else "unknown key"
    elif not path and reason.startswith("Expected `object`"):
        reason = f"a fixtures file must hold a JSON object with the keys {', '.join(SECTIONS)}"
    elif reason.startswith(("Invalid enum value ", "Invalid value ")) and (choices := _choices(path)):
        reason = f"{reason.rsplit(' ', 1)[-1]} is not one of {', '.join(repr(c) for c in choices)}"
    return path, reason


def _choices(path: str) -> tuple[Any, ...]:
    """The values a Literal (or a tagged union's tag) at `path` allows, () if it is neither."""
    from msgspec import inspect  # only on an error

    def unwrap(node: inspect.Type) -> inspect.Type:  # `X | None` is X here
        if isinstance(node, inspect.UnionType):
            kept = [t for t in node.types if not isinstance(t, inspect.NoneType)]
            if len(kept) == 1:
                return kept[0]
        return node

    node = inspect.type_info(CatalogueFile)
    for token in re.findall(r"[^.\[\]]+", path):
        node = unwrap(node)
        if isinstance(node, inspect.ListType) and token.isdigit():
            node = node.item_type
        elif isinstance(node, inspect.StructType):
            node = next((f.type for f in node.fields if f.encode_name == token), inspect.AnyType())
        elif isinstance(node, inspect.UnionType):
            tagged = [t for t in node.types if isinstance(t, inspect.StructType) and t.tag_field == token]
            return tuple(t.tag for t in tagged)
        else:
            return ()
    node = unwrap(node)
    return node.values if isinstance(node, inspect.LiteralType) else ()


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
