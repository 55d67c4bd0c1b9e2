"""Run controls for tests: make workflow runs fail at a block, or make a block return a given output.

Like faults, they live in memory, are namespace-scoped (or apply to every namespace) and are cleared by a
full reset. The domain's runner asks them through the `RunOverrides` protocol (domain/runner.py), so it
knows nothing of the control API.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..catalogue import Block, Catalogue, Workflow
from ..domain.errors import InvalidInput

if TYPE_CHECKING:  # the bodies are pydantic models, loaded with the control API on its first request
    from .models import FailureSpec, OutputSpec, RunRuleSpec

MAX_RULES = 1000
DEFAULT_FAILURE = "Emulated failure ({rule})"


def check_references(spec: RunRuleSpec, catalogue: Catalogue) -> None:
    """InvalidInput for a workflow the catalogue does not have, or a block that is no app block of it (of any
    workflow, without one): such a rule would never apply. Triggers neither fail nor take a stub (their output
    is the run's data)."""
    workflows = [workflow for _, workflow in catalogue.workflows if workflow_matches(workflow, spec.workflow)]
    if not workflows:
        raise InvalidInput(f"workflow: the catalogue has no workflow {spec.workflow!r} (give its id or name)")
    if spec.block is not None and not any(block_matches(b, spec.block) for w in workflows for b in w.blocks[1:]):
        where = "any workflow" if spec.workflow is None else repr(workflows[0].name)
        raise InvalidInput(f"block: {spec.block!r} is no app block of {where} (give a block id, name or app)")


def block_matches(block: Block, ref: str) -> bool:
    return ref in (block.id, block.name, block.type) or block.name.casefold() == ref.casefold()


def workflow_matches(workflow: Workflow, ref: str | None) -> bool:
    return ref is None or ref in (workflow.workflow_id, workflow.name) or workflow.name.casefold() == ref.casefold()


@dataclass
class _Rule:
    id: str
    namespace: str | None
    workflow: str | None
    user: str | None
    block: str | None
    hits: int = field(default=0)

    def applies(self, namespace: str, workflow: Workflow, user_id: str, username: str) -> bool:
        return (
            (self.namespace is None or self.namespace == namespace)
            and workflow_matches(workflow, self.workflow)
            and (self.user is None or self.user in (user_id, username))
        )

    def base_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "namespace": self.namespace,
            "workflow": self.workflow,
            "user": self.user,
            "block": self.block,
            "hits": self.hits,
        }


@dataclass
class FailureRule(_Rule):
    message: str = ""
    remaining: int | None = 1

    def to_json(self) -> dict[str, Any]:
        return {**self.base_json(), "message": self.message, "remaining": self.remaining}


@dataclass
class OutputRule(_Rule):
    output: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {**self.base_json(), "output": self.output}


class RunControls:
    """The failure rules and output stubs in force (implements domain.runner.RunOverrides)."""

    def __init__(self) -> None:
        self._failures: dict[str, FailureRule] = {}
        self._outputs: dict[str, OutputRule] = {}
        self._ids = itertools.count(1)

    def __bool__(self) -> bool:
        return bool(self._failures or self._outputs)

    def _check_room(self) -> None:
        if len(self._failures) + len(self._outputs) >= MAX_RULES:
            raise InvalidInput(f"at most {MAX_RULES} run rules can be set at once: clear some first")

    def add_failure(self, spec: FailureSpec, namespace: str | None) -> FailureRule:
        self._check_room()
        rule_id = f"run-failure-{next(self._ids)}"
        rule = FailureRule(
            rule_id,
            namespace,
            spec.workflow,
            spec.user,
            spec.block,
            message=spec.message or DEFAULT_FAILURE.format(rule=rule_id),
            remaining=spec.times,
        )
        self._failures[rule.id] = rule
        return rule

    def add_output(self, spec: OutputSpec, namespace: str | None) -> OutputRule:
        self._check_room()
        rule = OutputRule(
            f"block-output-{next(self._ids)}", namespace, spec.workflow, spec.user, spec.block, output=spec.output
        )
        self._outputs[rule.id] = rule
        return rule

    def failures(self) -> list[FailureRule]:
        return list(self._failures.values())

    def outputs(self) -> list[OutputRule]:
        return list(self._outputs.values())

    def remove(self, rule_id: str) -> bool:
        return self._failures.pop(rule_id, None) is not None or self._outputs.pop(rule_id, None) is not None

    def clear_failures(self) -> None:
        self._failures.clear()

    def clear_outputs(self) -> None:
        self._outputs.clear()

    def clear(self) -> None:
        self.clear_failures()
        self.clear_outputs()

    # -- RunOverrides ----------------------------------------------------------------------------------

    def failure(self, namespace: str, workflow: Workflow, user_id: str, username: str) -> tuple[str | None, str] | None:
        """(block reference or None, message) for a run that a rule makes fail, counting the rule as used."""
        for rule in self._failures.values():
            in_workflow = rule.block is None or any(block_matches(b, rule.block) for b in workflow.blocks[1:])
            if in_workflow and rule.applies(namespace, workflow, user_id, username):
                rule.hits += 1
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        del self._failures[rule.id]
                return rule.block, rule.message
        return None

    def output(
        self, namespace: str, workflow: Workflow, block: Block, user_id: str, username: str
    ) -> dict[str, Any] | None:
        """The stubbed output of a block for this run, if a rule sets one (the newest rule wins)."""
        for rule in reversed(self._outputs.values()):
            if rule.applies(namespace, workflow, user_id, username) and rule.block and block_matches(block, rule.block):
                rule.hits += 1
                return rule.output
        return None
