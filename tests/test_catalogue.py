"""The seed catalogue: the bundled fixtures load, and broken fixtures name the file and the field."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from alloy_mock.catalogue import Catalogue, FixturesError, default_fixtures_path, load_catalogue

REQUIRED_INTEGRATIONS = ("Shopify", "HubSpot", "Salesforce", "NetSuite", "Slack")
Mutator = Callable[[dict[str, Any]], None]


@pytest.fixture(scope="module")
def bundled() -> Catalogue:
    return load_catalogue(default_fixtures_path())


@pytest.fixture
def fixtures_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled fixtures folder."""
    folder = tmp_path / "fixtures"
    shutil.copytree(default_fixtures_path(), folder)
    return folder


def edit(folder: Path, file_name: str, mutate: Mutator) -> Path:
    path = folder / file_name
    data = json.loads(path.read_text())
    mutate(data)
    path.write_text(json.dumps(data, indent=2))
    return path


def fixtures_error(path: Path) -> str:
    with pytest.raises(FixturesError) as caught:
        load_catalogue(path)
    message = str(caught.value)
    assert "\n" not in message, f"fixtures errors must be one line: {message!r}"
    return message


def first_workflow(data: dict[str, Any]) -> dict[str, Any]:
    workflow: dict[str, Any] = data["integrations"][0]["workflows"][0]
    return workflow


# -- the bundled fixtures -------------------------------------------------------------------------------


def test_bundled_fixtures_load(bundled: Catalogue) -> None:
    assert len(bundled.apps) > 0
    assert len(bundled.credentials) > 0
    assert len(bundled.events) > 0
    assert len(bundled.integrations) > 0
    assert all(len(i.workflows) > 0 for i in bundled.integrations if i.app in REQUIRED_INTEGRATIONS)
    assert len(bundled.sources) == len(list(default_fixtures_path().glob("*.json")))


@pytest.mark.parametrize("app", REQUIRED_INTEGRATIONS)
def test_required_integration_is_bundled(bundled: Catalogue, app: str) -> None:
    integration = bundled.find_integration(app)
    assert integration is not None, f"{app} missing from the bundled fixtures: {[i.app for i in bundled.integrations]}"
    assert integration.app == app
    assert bundled.find_integration(integration.integration_id) is integration, "lookup by id"
    assert bundled.find_integration(app.upper()) is integration, "lookup by name ignores case"
    for workflow in integration.workflows:
        assert bundled.find_workflow(workflow.workflow_id) == (integration, workflow)


def test_unknown_lookups_return_none(bundled: Catalogue) -> None:
    assert bundled.find_integration("No Such App") is None
    assert bundled.find_integration("000000000000000000000000") is None
    assert bundled.find_workflow("000000000000000000000000") is None


def test_a_single_fixtures_file_loads(tmp_path: Path) -> None:
    merged: dict[str, list[Any]] = {}
    for file in sorted(default_fixtures_path().glob("*.json")):
        for section, items in json.loads(file.read_text()).items():
            merged.setdefault(section, []).extend(items)
    single = tmp_path / "all.json"
    single.write_text(json.dumps(merged))
    catalogue = load_catalogue(single)
    assert catalogue.sources == (str(single),)
    assert len(catalogue.integrations) == len(merged["integrations"])


def test_a_folder_of_several_files_concatenates_sections(tmp_path: Path) -> None:
    source = {f.stem: json.loads(f.read_text()) for f in default_fixtures_path().glob("*.json")}
    apps = source["apps"]["apps"]
    events = source["events"]["events"]
    folder = tmp_path / "split"
    folder.mkdir()
    # Every file holds a mix of sections; the halves must add up.
    half_apps, half_events = len(apps) // 2, len(events) // 2
    (folder / "a.json").write_text(json.dumps({"apps": apps[:half_apps], "events": events[:half_events]}))
    (folder / "b.json").write_text(
        json.dumps({"apps": apps[half_apps:], "events": events[half_events:], **source["credentials"]})
    )
    (folder / "c.json").write_text(json.dumps(source["integrations"]))
    (folder / "ignored.txt").write_text("not json, and not read")
    catalogue = load_catalogue(folder)
    assert [a.name for a in catalogue.apps] == [a["name"] for a in apps], "apps from both files, in file order"
    assert [e.name for e in catalogue.events] == [e["name"] for e in events]
    assert len(catalogue.credentials) == len(source["credentials"]["credentials"])
    assert len(catalogue.integrations) == len(source["integrations"]["integrations"])
    assert catalogue.sources == tuple(str(folder / n) for n in ("a.json", "b.json", "c.json"))


# -- broken fixtures -------------------------------------------------------------------------------------


def test_invalid_json_names_the_file(fixtures_copy: Path) -> None:
    broken = fixtures_copy / "events.json"
    broken.write_text('{"events": [')
    message = fixtures_error(fixtures_copy)
    assert message.startswith(f"{broken}: invalid JSON"), message


def test_top_level_not_an_object(fixtures_copy: Path) -> None:
    broken = fixtures_copy / "apps.json"
    broken.write_text("[]")
    message = fixtures_error(fixtures_copy)
    assert message.startswith(f"{broken}: <top level>: "), message
    assert "JSON object" in message


def test_unknown_section(fixtures_copy: Path) -> None:
    broken = edit(fixtures_copy, "apps.json", lambda d: d.update(integrationz=[]))
    assert fixtures_error(fixtures_copy).startswith(f"{broken}: integrationz: "), "should name the unknown key"


def set_versions_to_string(d: dict[str, Any]) -> None:
    first_workflow(d)["versions"] = "Version 1"


def set_second_integration_id(d: dict[str, Any]) -> None:
    d["integrations"][1]["integrationId"] = "64108c73d3e467ca351b6dZZ"


def set_short_workflow_id(d: dict[str, Any]) -> None:
    d["integrations"][2]["workflows"][0]["workflowId"] = "64108c73"


def set_version_id(d: dict[str, Any]) -> None:
    first_workflow(d)["versions"][1]["versionId"] = "not-an-object-id-at-all!"


def set_block_id(d: dict[str, Any]) -> None:
    first_workflow(d)["blocks"][1]["id"] = "not-a-uuid"


def set_created_at(d: dict[str, Any]) -> None:
    first_workflow(d)["createdAt"] = "yesterday"


def drop_trigger_event(d: dict[str, Any]) -> None:
    del first_workflow(d)["trigger"]["event"]


def set_unknown_trigger_type(d: dict[str, Any]) -> None:
    first_workflow(d)["trigger"] = {"type": "email"}


def set_empty_blocks(d: dict[str, Any]) -> None:
    first_workflow(d)["blocks"] = []


def set_field_type(d: dict[str, Any]) -> None:
    first_workflow(d)["blocks"][1]["fields"][0]["type"] = "date"


def add_extra_workflow_key(d: dict[str, Any]) -> None:
    first_workflow(d)["colour"] = "blue"


def set_is_oauth(d: dict[str, Any]) -> None:
    d["credentials"][2]["isOauth"] = "maybe"


def set_app_type(d: dict[str, Any]) -> None:
    d["apps"][3]["type"] = []


def set_event_body(d: dict[str, Any]) -> None:
    d["events"][1]["body"] = ["not", "an", "object"]


def set_empty_name(d: dict[str, Any]) -> None:
    d["integrations"][0]["app"] = ""


@pytest.mark.parametrize(
    ("file_name", "mutate", "location", "reason"),
    [
        (
            "integrations.json",
            set_versions_to_string,
            "integrations[0].workflows[0].versions",
            "Expected `array`, got `str`",
        ),
        ("integrations.json", set_second_integration_id, "integrations[1].integrationId", "matching regex"),
        ("integrations.json", set_short_workflow_id, "integrations[2].workflows[0].workflowId", "matching regex"),
        ("integrations.json", set_version_id, "integrations[0].workflows[0].versions[1].versionId", "regex"),
        ("integrations.json", set_block_id, "integrations[0].workflows[0].blocks[1].id", "regex"),
        ("integrations.json", set_created_at, "integrations[0].workflows[0].createdAt", "regex"),
        ("integrations.json", drop_trigger_event, "integrations[0].workflows[0].trigger.event", "required key missing"),
        (
            "integrations.json",
            set_unknown_trigger_type,
            "integrations[0].workflows[0].trigger.type",
            "'email' is not one of 'customEvent', 'webhook', 'schedule'",
        ),
        ("integrations.json", set_empty_blocks, "integrations[0].workflows[0].blocks", "of length >= 1"),
        (
            "integrations.json",
            set_field_type,
            "integrations[0].workflows[0].blocks[1].fields[0].type",
            "'date' is not one of 'boolean', 'number', 'select', 'string'",
        ),
        ("integrations.json", add_extra_workflow_key, "integrations[0].workflows[0].colour", "unknown key"),
        ("integrations.json", set_empty_name, "integrations[0].app", "`str` of length >= 1"),
        ("credentials.json", set_is_oauth, "credentials[2].isOauth", "Expected `bool`, got `str`"),
        ("apps.json", set_app_type, "apps[3].type", "of length >= 1"),
        ("events.json", set_event_body, "events[1].body", "Expected `object`, got `array`"),
    ],
    ids=[
        "wrong-type-list",
        "bad-object-id",
        "short-object-id",
        "bad-version-id",
        "bad-uuid",
        "bad-timestamp",
        "trigger-missing-event",
        "unknown-trigger-type",
        "no-blocks",
        "bad-field-type",
        "unknown-key",
        "empty-name",
        "wrong-type-bool",
        "empty-app-type",
        "wrong-type-object",
    ],
)
def test_invalid_field_names_file_and_exact_path(
    fixtures_copy: Path, file_name: str, mutate: Mutator, location: str, reason: str
) -> None:
    broken = edit(fixtures_copy, file_name, mutate)
    message = fixtures_error(fixtures_copy)
    assert message.startswith(f"{broken}: {location}: "), f"expected '{broken}: {location}: ...', got: {message}"
    assert reason in message, message


def test_select_field_without_options(fixtures_copy: Path) -> None:
    def add_select(d: dict[str, Any]) -> None:
        fields = first_workflow(d)["blocks"][1]["fields"]
        fields.append({"name": "warehouse", "displayName": "Warehouse", "type": "select"})

    broken = edit(fixtures_copy, "integrations.json", add_select)
    message = fixtures_error(fixtures_copy)
    assert message.startswith(f"{broken}: integrations[0].workflows[0].blocks[1].fields[2]"), message
    assert '"options"' in message and "select" in message, message


def test_options_on_a_non_select_field(fixtures_copy: Path) -> None:
    def add_options(d: dict[str, Any]) -> None:
        first_workflow(d)["blocks"][1]["fields"][0]["options"] = ["a", "b"]

    broken = edit(fixtures_copy, "integrations.json", add_options)
    message = fixtures_error(fixtures_copy)
    assert message.startswith(f"{broken}: integrations[0].workflows[0].blocks[1].fields[0]"), message
    assert '"options"' in message, message


def test_unknown_event_in_trigger(fixtures_copy: Path) -> None:
    def set_event(d: dict[str, Any]) -> None:
        d["integrations"][0]["workflows"][1]["trigger"]["event"] = "Spaceship Landed"

    broken = edit(fixtures_copy, "integrations.json", set_event)
    message = fixtures_error(fixtures_copy)
    assert message == (
        f"{broken}: integrations[0].workflows[1].trigger.event: unknown custom event 'Spaceship Landed'"
    ), message


def test_unknown_app_block_type(fixtures_copy: Path) -> None:
    def set_type(d: dict[str, Any]) -> None:
        first_workflow(d)["blocks"][1]["type"] = "myspace"

    broken = edit(fixtures_copy, "integrations.json", set_type)
    message = fixtures_error(fixtures_copy)
    assert message == f"{broken}: integrations[0].workflows[0].blocks[1].type: unknown app 'myspace'", message


def test_trigger_block_must_match_the_trigger(fixtures_copy: Path) -> None:
    def set_first_block(d: dict[str, Any]) -> None:
        first_workflow(d)["blocks"][0]["type"] = "webhook"

    broken = edit(fixtures_copy, "integrations.json", set_first_block)
    message = fixtures_error(fixtures_copy)
    assert message.startswith(f"{broken}: integrations[0].workflows[0].blocks[0].type: "), message


def test_credential_for_an_unknown_app(fixtures_copy: Path) -> None:
    broken = edit(fixtures_copy, "credentials.json", lambda d: d["credentials"][0].update(name="myspace"))
    message = fixtures_error(fixtures_copy)
    assert message == f"{broken}: credentials[0].name: unknown app 'myspace'", message


def test_duplicate_event_name_within_a_file(fixtures_copy: Path) -> None:
    broken = edit(fixtures_copy, "events.json", lambda d: d["events"].append(dict(d["events"][0])))
    message = fixtures_error(fixtures_copy)
    last = len(json.loads(broken.read_text())["events"]) - 1
    assert message.startswith(f"{broken}: events[{last}].name: duplicate"), message
    assert f"also at {broken}: events[0]" in message, message


def test_duplicate_integration_id_across_two_files_names_the_second(fixtures_copy: Path) -> None:
    existing = json.loads((fixtures_copy / "integrations.json").read_text())["integrations"][0]
    second = fixtures_copy / "zz-more.json"  # sorts after integrations.json
    second.write_text(
        json.dumps(
            {
                "integrations": [
                    {"integrationId": existing["integrationId"], "app": "Another", "icon": "x.png", "workflows": []}
                ]
            }
        )
    )
    message = fixtures_error(fixtures_copy)
    assert message.startswith(f"{second}: integrations[0].integrationId: duplicate "), message
    assert existing["integrationId"] in message
    assert f"also at {fixtures_copy / 'integrations.json'}: integrations[0]" in message, message


def test_duplicate_workflow_id_across_files(fixtures_copy: Path) -> None:
    workflow = json.loads((fixtures_copy / "integrations.json").read_text())["integrations"][0]["workflows"][0]
    copy = json.loads(json.dumps(workflow))
    copy["versions"] = [{**v, "versionId": f"{i:024x}"} for i, v in enumerate(copy["versions"], start=1)]
    copy["blocks"] = [{**b, "id": f"00000000-0000-4000-8000-{i:012x}"} for i, b in enumerate(copy["blocks"], start=1)]
    second = fixtures_copy / "zz-more.json"
    second.write_text(
        json.dumps({"integrations": [{"integrationId": "f" * 24, "app": "Other", "icon": "x", "workflows": [copy]}]})
    )
    message = fixtures_error(fixtures_copy)
    assert message.startswith(f"{second}: integrations[0].workflows[0].workflowId: duplicate"), message


def test_empty_folder(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "readme.txt").write_text("no json here")
    assert fixtures_error(folder) == f"{folder}: no .json files in the fixtures folder"


def test_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    assert fixtures_error(missing) == f"{missing}: no such fixtures file or folder"


def test_several_errors_report_the_first_only(fixtures_copy: Path) -> None:
    def break_two(d: dict[str, Any]) -> None:
        d["integrations"][0]["integrationId"] = "bad"
        d["integrations"][1]["integrationId"] = "bad too"

    broken = edit(fixtures_copy, "integrations.json", break_two)
    message = fixtures_error(fixtures_copy)
    assert message.startswith(f"{broken}: integrations[0].integrationId: "), message
    assert "integrations[1]" not in message and "\n" not in message, message


def test_numbers_and_booleans_written_as_strings_are_read(fixtures_copy: Path) -> None:
    """The loader is lenient as docs/fixtures.md says: "true", 1 and "1" are booleans, "1" a number."""

    def stringify(d: dict[str, Any]) -> None:
        field = first_workflow(d)["blocks"][1]["fields"][0]
        field.update(required="true", since="1")

    edit(fixtures_copy, "integrations.json", stringify)
    edit(fixtures_copy, "credentials.json", lambda d: d["credentials"][0].update(isOauth=1))
    catalogue = load_catalogue(fixtures_copy)
    field = catalogue.integrations[0].workflows[0].blocks[1].fields[0]
    assert (field.required, field.since) == (True, 1)
    assert catalogue.credentials[0].is_oauth is True
