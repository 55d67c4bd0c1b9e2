"""MkDocs hooks (mkdocs.yml `hooks:`): the generated endpoint pages, and README sections shown on the site.

- `on_files` adds the pages scripts/docs/endpoints.py generates from the emulator's OpenAPI documents.
- `on_page_markdown` replaces a line `<!-- readme: Section title -->` with that README section (without its
  heading, down to the next heading of its level or above), so the README stays the one source of that text; and
  it rewrites links that point outside docs/ (README anchors, repository files) to their place on the site.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))  # MkDocs loads hooks by path, not as a package

from endpoints import generated_pages  # noqa: E402

INCLUDE = re.compile(r"^<!-- readme: (.+?) -->$", re.MULTILINE)
HEADING = re.compile(r"^(#{1,6}) (.+)$", re.MULTILINE)
LINK = re.compile(r"\]\(([^)\s]+)\)")
# Where the README's sections live on the site (the pages that include them).
README_ANCHORS = {
    "install": "index.md#install",
    "configuration": "configuration.md",
    "security": "security.md",
    "user-tokens": "security.md#user-tokens",
    "namespaces-development-and-production-keys": "security.md#namespaces-development-and-production-keys",
    "control-api": "control-api.md",
    "performance": "performance.md",
    "storage-and-durability": "performance.md#storage-and-durability",
}


def readme_section(title: str) -> str:
    """The body of the README section with this heading (any level), without the heading line."""
    text = (ROOT / "README.md").read_text()
    for match in HEADING.finditer(text):
        if match.group(2).strip() == title:
            level = len(match.group(1))
            rest = text[match.end() :]
            end = next((m.start() for m in HEADING.finditer(rest) if len(m.group(1)) <= level), len(rest))
            return rest[:end].strip("\n")
    raise ValueError(f"README.md has no section {title!r}")


def site_link(target: str, from_readme: bool) -> str | None:
    """Where a link of a page (or of an included README section) points on the site; None: not on the site."""
    if re.match(r"^[a-z]+:", target):
        return target  # http(s), mailto
    path, _, anchor = target.partition("#")
    if from_readme and not path:
        return README_ANCHORS.get(anchor)
    if path in ("README.md", "../README.md"):
        return README_ANCHORS.get(anchor, "index.md")
    if from_readme and path.startswith("docs/"):
        return target.removeprefix("docs/")
    if from_readme or path.startswith("../"):
        return None  # a file of the repository (bench/RESULTS.md): not part of the site
    return target


def rewrite_links(markdown: str, from_readme: bool) -> str:
    def replace(match: re.Match[str]) -> str:
        target = site_link(match.group(1), from_readme)
        if target is None:
            file = match.group(1).removeprefix("../")
            return f"](https://github.com/OWNER/alloy-mock/blob/main/{file})"
        return f"]({target})"

    return LINK.sub(replace, markdown)


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    for path, content in generated_pages().items():
        files.append(File.generated(config, path, content=content))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    markdown = rewrite_links(markdown, from_readme=False)
    return INCLUDE.sub(lambda match: rewrite_links(readme_section(match.group(1)), from_readme=True), markdown)
