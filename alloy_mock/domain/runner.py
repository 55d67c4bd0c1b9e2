"""Running workflows: a custom event or a webhook call runs a user's installed, active workflows block by block.

The blocks of the workflow run in order. A run fails at a block when a test asks for it (a run-failure rule,
or the payload marker `"__alloy_mock": {"failAt": <block id, name or app>, "message": ...}`), or when the
credential the install uses for that app has been deleted; a test may also stub what a block returns. What
happened is stored (domain/executions.py), and the vendor's log entry follows from it when logs are read
(domain/log_entries.py: the trigger's output is the payload, an app block's a deterministic sample unless
stubbed). Times come from the emulator's clock.
"""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from ..auth import Namespace
from ..catalogue import Block, Catalogue, Workflow
from ..clock import Clock
from ..ids import new_nanoid
from .credentials import Credentials
from .errors import InvalidInput
from .executions import Execution, ExecutionError, Executions
from .installs import Installs, WorkflowInstall
from .log_entries import Plans
from .users import User

MARKER = "__alloy_mock"
MAX_EVENT_NAME = 200
# How deeply a run's data may nest: the log entry wraps it in a few more levels, and orjson writes at most 254.
MAX_DATA_DEPTH = 100


class RunOverrides(Protocol):
    """What tests set through the control API (control/run_rules.py implements it); false when empty."""

    def __bool__(self) -> bool: ...

    def failure(self, namespace: str, workflow: Workflow, user_id: str, username: str) -> tuple[str | None, str] | None:
        """(block reference, message) if this run is to fail; None otherwise."""

    def output(
        self, namespace: str, workflow: Workflow, block: Block, user_id: str, username: str
    ) -> dict[str, Any] | None:
        """The stubbed output of `block` in this run, if any."""


@dataclass(frozen=True)
class Failure:
    block: str | None  # a block id, name or app type; None: the first app block
    message: str


def payload(value: Any, name: str = "data") -> dict[str, Any]:
    """A run's `data`: an object, or a string holding one (the vendor's contract types it as a JSON string)."""
    if value is None:
        raise InvalidInput(f"{name} is required")
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise InvalidInput(f"{name} must be an object, or a string holding a JSON object") from None
    if not isinstance(value, dict):
        raise InvalidInput(f"{name} must be an object, or a string holding a JSON object")
    try:
        text: bytes | None = orjson.dumps(value)
    except orjson.JSONEncodeError:  # e.g. nested past orjson's own limit (254 levels)
        text = None
    if _brackets(text) > MAX_DATA_DEPTH and not nests_at_most(value, MAX_DATA_DEPTH):
        raise InvalidInput(f"{name} nests objects and arrays more than {MAX_DATA_DEPTH} levels deep")
    return value


def _brackets(text: bytes | None) -> int:
    """How many objects and arrays a value's JSON `text` holds in all (at most): a bound of its depth,
    counted in C."""
    if text is None:
        return sys.maxsize
    if len(text) <= 2 * MAX_DATA_DEPTH:  # each level takes two characters: too short to be too deep
        return len(text) // 2
    return text.count(b"{") + text.count(b"[")  # strings may add some: then the walk below decides


def nests_at_most(value: Any, levels: int) -> bool:
    """Whether `value` has at most `levels` levels of objects and arrays (walked without recursion)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > levels:
            return False
        pending.extend((child, depth + 1) for child in children)
    return True


def _marker_failure(data: dict[str, Any]) -> Failure | None:
    """The failure asked for by the payload marker (removed from the data it comes with)."""
    marker = data.pop(MARKER, None)
    if marker is None:
        return None
    if not isinstance(marker, dict) or set(marker) - {"failAt", "message"}:
        raise InvalidInput(f'data.{MARKER} must be {{"failAt": <block id, name or app>, "message": <text>}}')
    block, message = marker.get("failAt"), marker.get("message", "Emulated failure (payload marker)")
    if (block is not None and not isinstance(block, str)) or not isinstance(message, str) or not message:
        raise InvalidInput(f"data.{MARKER}.failAt and .message must be strings")
    return Failure(block, message)


def _fails_here(failure: Failure | None, block: Block, first_app: Block | None) -> bool:
    """Whether `block` (an app block: triggers never fail) is where `failure` makes the run fail."""
    if failure is None:
        return False
    if failure.block is None:
        return block is first_app
    ref = failure.block
    return ref in (block.id, block.name, block.type) or ref.casefold() == block.name.casefold()


def _names_a_block(failure: Failure, workflow: Workflow) -> bool:
    """Whether the marker's failAt names a block of `workflow`; 400 when it names only its trigger, which
    cannot fail (it would otherwise be silently ignored)."""
    if failure.block is None or any(_fails_here(failure, block, None) for block in workflow.blocks[1:]):
        return True
    if _fails_here(failure, workflow.blocks[0], None):
        raise InvalidInput(
            f"data.{MARKER}.failAt {failure.block!r} names the trigger of {workflow.name!r}, which cannot fail: "
            "name an app block (its id, name or app)"
        )
    return False


class Runner:
    def __init__(
        self,
        catalogue: Catalogue,
        plans: Plans,
        installs: Installs,
        credentials: Credentials,
        executions: Executions,
        clock: Clock,
        overrides: RunOverrides,
        latency_ms: int = 0,
        strict: bool = False,
    ) -> None:
        self._catalogue = catalogue
        self._plans = plans
        self._installs = installs
        self._credentials = credentials
        self._executions = executions
        self._clock = clock
        self._overrides = overrides
        self.latency_ms = latency_ms
        self.strict = strict

    def run_event(self, namespace: Namespace, user: User, event: Any, data: Any) -> list[Execution]:
        """Run every installed, active workflow of the user that starts with custom event `event`.

        An unknown event, or one no active workflow of the user starts with, runs nothing (the vendor still
        answers 200); in strict mode both are InvalidInput.
        """
        if event is None:
            raise InvalidInput("event is required (the name of a custom event)")
        if not isinstance(event, str) or not event.strip():
            raise InvalidInput("event must be a non-empty string (the name of a custom event)")
        if len(event) > MAX_EVENT_NAME:
            raise InvalidInput(f"event must be at most {MAX_EVENT_NAME} characters")
        body = payload(data)
        if self.strict and self._catalogue.find_event(event) is None:
            known = ", ".join(e.name for e in self._catalogue.events)
            raise InvalidInput(f"Unknown event {event!r} (the account's custom events: {known})")
        marker = _marker_failure(body) if MARKER in body else None
        triggered = self._catalogue.workflows_for_event(event)
        matched = []
        for install in self._installs.active_among(namespace, user.user_id, triggered):
            found = self._catalogue.find_workflow(install.workflow_id)
            assert found is not None
            matched.append((found[1], install))
        if not matched and self.strict:
            raise InvalidInput(f"No installed, active workflow of this user starts with the event {event!r}")
        if marker is not None:  # checked for every workflow before any runs, so that a bad marker records nothing
            for workflow, _ in matched:
                _names_a_block(marker, workflow)
        runs = []
        for workflow, install in matched:  # a loop, not a comprehension: one frame less per event
            runs.append(self._run(namespace, user, workflow, install, dict(body), marker))
        return runs

    def run_webhook(self, namespace: Namespace, user: User, ref: str, data: Any) -> Execution:
        """Run one webhook-triggered workflow the user has installed and activated."""
        body = payload(data)
        marker = _marker_failure(body)
        workflow = self._installs.workflow(ref, prefer=self._installs.for_user(namespace, user.user_id))
        trigger = workflow.trigger
        if trigger.type == "customEvent":
            raise InvalidInput(
                f"{workflow.name!r} starts with the custom event {trigger.event!r}: run it with POST /run/event"
            )
        if trigger.type != "webhook":
            raise InvalidInput(f"{workflow.name!r} runs on a schedule, not from a webhook")
        install = self._runnable(namespace, user, workflow)
        return self._run(namespace, user, workflow, install, body, marker)

    def rerun(self, namespace: Namespace, user: User, workflow_ref: str, execution_id: str) -> Execution:
        """A new execution with the same input as a stored one."""
        workflow = self._installs.workflow(workflow_ref)
        stored = self._executions.get(namespace, execution_id, workflow.workflow_id, user.user_id)
        data = stored.get("data")
        if data is None:  # stored by alloy-mock before 2026-12 with its log entry: the trigger's input
            entry = orjson.loads(stored["body"])
            data = entry["inputs"][0]["data"] if entry.get("inputs") else {}
        install = self._runnable(namespace, user, workflow)
        # The stored input has no payload marker (it was taken out when the run was recorded).
        return self._run(namespace, user, workflow, install, dict(data), rerun_of=execution_id)

    def _runnable(self, namespace: Namespace, user: User, workflow: Workflow) -> WorkflowInstall:
        install = self._installs.get(namespace, user.user_id, workflow.workflow_id)
        if install is None:
            raise InvalidInput(f"{workflow.name!r} is not installed for this user")
        if not install.active:
            raise InvalidInput(f"{workflow.name!r} is installed but not active for this user (activate it first)")
        return install

    def _failure(self, namespace: Namespace, user: User, workflow: Workflow, marker: Failure | None) -> Failure | None:
        if marker is not None:  # a payload marker wins over the rules, even where it names no block of this one
            return marker if _names_a_block(marker, workflow) else None
        if not self._overrides:  # no test controls set: the common case
            return None
        ruled = self._overrides.failure(namespace.id, workflow, user.user_id, user.username)
        return None if ruled is None else Failure(*ruled)

    def _run(
        self,
        namespace: Namespace,
        user: User,
        workflow: Workflow,
        install: WorkflowInstall,
        data: dict[str, Any],
        marker: Failure | None = None,
        rerun_of: str | None = None,
    ) -> Execution:
        """Run the blocks in order and store what happened: where the run fails, if it does, and any
        outputs a test stubbed. The log entry is rendered from that when read (log_entries.py)."""
        overrides = self._overrides if self._overrides else None  # no test controls set: the common case
        failure = None if marker is None and overrides is None else self._failure(namespace, user, workflow, marker)
        plan = self._plans.of(workflow, self.latency_ms)
        now = self._clock.now()
        start_ms = int(now * 1000)  # times in whole milliseconds, as the vendor writes them
        error: ExecutionError | None = None
        stubs: dict[str, Any] | None = None
        blocks_run = len(plan.steps)
        for index, step in enumerate(plan.steps):
            if step.trigger:
                continue
            message = None
            if failure is not None and _fails_here(failure, step.block, plan.first_app):
                message = failure.message
            elif step.credential_app is not None:
                credential_id = install.credential_ids.get(step.credential_app)
                if credential_id is None or not self._credentials.exists(namespace, user.user_id, credential_id):
                    message = _missing_credential(step.credential_app, credential_id)
            if message is not None:
                stopped_at = (start_ms + plan.offsets_ms[index + 1]) / 1000
                error = ExecutionError(step.block.type, step.block.id, message, stopped_at)
                blocks_run = index + 1
                break
            if overrides is not None:
                stub = overrides.output(namespace.id, workflow, step.block, user.user_id, user.username)
                if stub is not None:
                    stubs = stubs or {}
                    stubs[step.block.id] = stub
        execution = Execution(
            new_nanoid(),
            workflow.workflow_id,
            user.user_id,
            now,
            (start_ms + plan.offsets_ms[blocks_run]) / 1000 if self.latency_ms else now,
            data,
            install.values,
            error,
            blocks_run - 1,  # app actions: the blocks that ran, after the trigger
            stubs,
            self.latency_ms,
            None if rerun_of is None else f"{secrets.token_hex(4)}-{secrets.token_hex(4)}",
            rerun_of,
        )
        self._executions.record(namespace, execution)
        return execution


def _missing_credential(app: str, credential_id: str | None) -> str:
    """The error of a block whose app credential the install no longer has (deleted since the install)."""
    return f"No {app} credential: the credential this installation uses ({credential_id or 'none'}) was deleted"
