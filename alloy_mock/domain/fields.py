"""Install fields: what a workflow version asks the end user for, and checking the values given.

Every installation path (the hosted modal, the 2024-03 headless endpoints, the control API) checks its values
here, so they all accept and refuse the same things. The vendor's contract types each value as a string, so
"true" and "12" are accepted for boolean and number fields and stored as JSON true and 12.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ..catalogue import Block, BlockField, Workflow
from .errors import InvalidInput, Problem, brief

MAX_VALUE_LENGTH = 4096

# {blockId: {fieldName: value}}: the values one install keeps
Values = dict[str, dict[str, Any]]


def field_value(item: BlockField, value: Any, where: str) -> Any:
    """`value` checked against the field and converted to its JSON type; InvalidInput names `where`."""
    if item.type == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise InvalidInput(f"{where} must be true or false")
    if item.type == "number":
        number: Any = value
        if isinstance(value, str):
            try:
                number = float(value) if any(c in value for c in ".eE") else int(value)
            except ValueError:
                raise InvalidInput(f"{where} must be a number") from None
        if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
            raise InvalidInput(f"{where} must be a number")
        return number
    if not isinstance(value, str):
        raise InvalidInput(f"{where} must be a string")
    if len(value) > MAX_VALUE_LENGTH:
        raise InvalidInput(f"{where} must be at most {MAX_VALUE_LENGTH} characters")
    if item.type == "select":
        options = item.options or []
        if value not in options:
            raise InvalidInput(f"{where} must be one of: {', '.join(options)}")
    return value


def check_values(workflow: Workflow, version: int, given: Mapping[str, Mapping[str, Any]]) -> Values:
    """The values of one workflow install, checked against the fields of `version`.

    `given` maps block ids to {field name: value}. Every required field needs a non-empty value; a value for a
    block or field the version does not have is refused rather than dropped, so typos surface.
    """
    values, problems = value_problems(workflow, version, given)
    if problems:
        raise InvalidInput(problems[0].message)
    return values


def value_problems(
    workflow: Workflow, version: int, given: Mapping[str, Mapping[str, Any]]
) -> tuple[Values, list[Problem]]:
    """check_values' work, reporting every problem (where: (blockId,) or (blockId, field name)) instead of the
    first, so that a form can show each one next to its field."""
    fields = workflow.fields_at(version)
    known: dict[str, dict[str, BlockField]] = {}
    for block, item in fields:
        known.setdefault(block.id, {})[item.name] = item
    blocks = {block.id: block for block in workflow.blocks}
    values: Values = {}
    problems: list[Problem] = []
    for block_id, entries in given.items():
        found = blocks.get(block_id)
        if found is None:
            problems.append(Problem((block_id,), f"workflow {workflow.name!r} has no block {brief(block_id)!r}"))
            continue
        block = found
        for name, value in entries.items():
            field_of = known.get(block_id, {}).get(name)
            if field_of is None:
                message = f"{_describe(block)} has no field {brief(name)!r} in version {version}{_hint(known, block)}"
                problems.append(Problem((block_id, name), message))
                continue
            if value is None or (isinstance(value, str) and not value.strip()):
                continue  # left empty (or blank): the same as not given
            try:
                values.setdefault(block_id, {})[name] = field_value(
                    field_of, value, f"{_describe(block)} field {name!r}"
                )
            except InvalidInput as exc:
                problems.append(Problem((block_id, name), exc.message))
    for block, item in fields:
        if item.required and item.name not in values.get(block.id, {}):
            if any(p.where == (block.id, item.name) for p in problems):
                continue  # refused above already
            message = f"{_describe(block)} field {item.name!r} is required (workflow {workflow.name!r})"
            problems.append(Problem((block.id, item.name), message))
    return values, problems


def spread_by_name(
    workflows: Sequence[Workflow], version: int | None, flat: Mapping[str, Any]
) -> dict[str, dict[str, dict[str, Any]]]:
    """Flat {field name: value} as {workflowId: {blockId: {name: value}}}: each value goes to every block
    of `workflows` (at `version`, default their latest) with a field of that name; a name that no field
    has is refused."""
    spread: dict[str, dict[str, dict[str, Any]]] = {}
    used: set[str] = set()
    for workflow in workflows:
        for block, item in workflow.fields_at(workflow.version if version is None else version):
            if item.name in flat:
                spread.setdefault(workflow.workflow_id, {}).setdefault(block.id, {})[item.name] = flat[item.name]
                used.add(item.name)
    unknown = [name for name in flat if name not in used]
    if unknown:
        raise InvalidInput(
            f"values: no workflow being installed has a field named {', '.join(repr(brief(name)) for name in unknown)}"
        )
    return spread


def _describe(block: Block) -> str:
    return f"block {block.name!r} ({block.id})"


def _hint(known: Mapping[str, Mapping[str, BlockField]], block: Block) -> str:
    names = sorted(known.get(block.id, {}))
    return f" (its fields: {', '.join(names)})" if names else " (it has no fields)"
