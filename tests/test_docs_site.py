"""The documentation site's generated pages (scripts/docs): every served operation is documented, none invented.

`mkdocs build --strict` itself runs in CI (.ci/run), where a broken link or a missing README section fails it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "scripts" / "docs"))

import endpoints  # noqa: E402
import hooks  # noqa: E402

HEADING = re.compile(r"^### `([A-Z]+) (\S+)`$", re.MULTILINE)


@pytest.fixture(scope="module")
def documents() -> tuple[dict[str, Any], dict[str, Any]]:
    return endpoints.openapi_documents()


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    return endpoints.generated_pages()


def test_every_vendor_operation_has_its_section_on_its_versions_page(
    documents: tuple[dict[str, Any], dict[str, Any]], pages: dict[str, str]
) -> None:
    vendor, _ = documents
    served = {(method, path) for method, path, _ in endpoints.operations(vendor)}
    documented = set()
    for version in ("2023-01", "2023-06", "2023-12", "2024-03"):
        on_page = HEADING.findall(pages[f"endpoints/{version}.md"])
        assert all(path.startswith(f"/{version}/") for _, path in on_page)
        assert len(on_page) == len(set(on_page)), "each operation once"
        documented |= set(on_page)

    assert documented == served
    assert ("POST", "/2023-12/users") in documented and ("GET", "/2024-03/metadata/apps") in documented


def test_the_control_api_reference_lists_every_control_operation(
    documents: tuple[dict[str, Any], dict[str, Any]], pages: dict[str, str]
) -> None:
    _, control = documents
    served = {(method, path) for method, path, _ in endpoints.operations(control)}

    assert set(HEADING.findall(pages["endpoints/control.md"])) == served
    assert ("POST", "/_mock/reset") in served


def test_the_index_counts_the_operations(pages: dict[str, str]) -> None:
    counted = dict(re.findall(r"^\| \[(\S+)\]\(\S+\) \| (\d+) \|$", pages["endpoints/index.md"], re.MULTILINE))

    for version, count in counted.items():
        assert int(count) == len(HEADING.findall(pages[f"endpoints/{version}.md"]))
    assert len(counted) == 4


def test_the_types_are_shown() -> None:
    schema = {"type": "array", "items": {"$ref": "#/components/schemas/Workflow"}}

    assert endpoints.type_of({}, schema) == "array of Workflow"
    assert endpoints.type_of({}, {"type": ["string", "null"]}) == "string or null"
    assert endpoints.type_of({}, {"const": "success"}) == '`"success"`'
    assert endpoints.cell("a | b\nc") == "a \\| b c"


def test_every_readme_section_the_site_includes_exists() -> None:
    includes = [
        (page.name, title) for page in (ROOT / "docs").glob("*.md") for title in hooks.INCLUDE.findall(page.read_text())
    ]

    assert len(includes) >= 6
    for page, title in includes:
        assert hooks.readme_section(title).strip(), f"{page}: README section {title!r} is empty"
    with pytest.raises(ValueError, match="no section"):
        hooks.readme_section("No such section")


@pytest.mark.parametrize(
    ("target", "from_readme", "expected"),
    [
        ("docs/pytest.md#options", True, "pytest.md#options"),
        ("#security", True, "security.md"),
        ("#user-tokens", True, "security.md#user-tokens"),
        ("bench/RESULTS.md", True, None),
        ("https://docs.runalloy.com", True, "https://docs.runalloy.com"),
        ("../README.md#install", False, "index.md#install"),
        ("installs.md#the-oauth-page", False, "installs.md#the-oauth-page"),
    ],
)
def test_links_point_at_their_place_on_the_site(target: str, from_readme: bool, expected: str | None) -> None:
    assert hooks.site_link(target, from_readme) == expected
