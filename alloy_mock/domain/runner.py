"""Running workflows: a custom event or a webhook call runs a user's installed, active workflows block by block.

Each block of the workflow records a result in order. The trigger's output is the payload (`{"body": data}`,
as the vendor's logs show it); an app block's output is a deterministic sample (domain/samples.py) unless a
test stubbed it. A run fails at a block when a test asks for it (a run-failure rule, or the payload marker
`"__alloy_mock": {"failAt": <block id, name or app>, "message": ...}`), or when the credential the install
uses for that app has been deleted. Times come from the emulator's clock.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import orjson

from ..auth import Namespace
from ..catalogue import Block, Catalogue, Workflow
from ..clock import Clock, iso_milliseconds_series
from ..ids import new_nanoid, new_uuid
from .credentials import Credentials
from .errors import InvalidInput
from .executions import Execution, ExecutionError, Executions
from .installs import Installs, WorkflowInstall
from .samples import Sample, Seed, sampler
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
    return _payload(value, name)[0]


def _payload(value: Any, name: str) -> tuple[dict[str, Any], bytes | None]:
    """payload(), with the data's JSON text (None if orjson cannot write it): the run's log entry reuses it."""
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
    return value, text


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


class Step(NamedTuple):
    block: Block
    trigger: bool
    credential_app: str | None  # the app whose credential the block needs, if any
    duration_ms: int
    sample: Sample  # what the block returns (samples.py)
    # The block's log entry parts as JSON text, up to the first varying value: the entry is written as text
    # (what orjson.dumps of the entry dict gives, byte for byte), each block's data serialized once.
    result_open: str  # {"blockId":<id>,"startedAt":"
    input_open: str  # {"blockId":<id>,"data":


class RunPlan(NamedTuple):
    steps: list[Step]
    first_app: Block  # where a failure without a block fails: the first app block, else the last block
    offsets_ms: list[int]  # when each block stops, after the run starts (0 first: the start)


def plan_of(workflow: Workflow, catalogue: Catalogue, latency_ms: int) -> RunPlan:
    """The blocks of a run in order, with what each needs. Each block takes a few milliseconds, fixed per
    block (a frozen clock gives the same times every run), or --run-latency spread over the blocks."""
    seed = Seed(workflow.workflow_id)
    durations = [seed.number(2, 40, salt=index) for index in range(len(workflow.blocks))]
    if latency_ms:  # spread over the blocks, the last one taking what rounding left
        scale = latency_ms / sum(durations)
        durations = [round(d * scale) for d in durations[:-1]]
        durations.append(latency_ms - sum(durations))
    apps = set(workflow.apps)
    steps = []
    for index, block in enumerate(workflow.blocks):
        app = block.type.removesuffix("Trigger")
        needs = app if index and catalogue.credential_metadata(app) is not None else None
        block_json = orjson.dumps(block.id).decode()
        steps.append(
            Step(
                block,
                index == 0,
                needs,
                durations[index],
                sampler(block.type),
                f'{{"blockId":{block_json},"startedAt":"',
                f'{{"blockId":{block_json},"data":',
            )
        )
    blocks = workflow.blocks
    first_app = next((b for b in blocks[1:] if b.type.removesuffix("Trigger") in apps), blocks[-1])
    offsets = [0]
    for duration in durations:
        offsets.append(offsets[-1] + duration)
    return RunPlan(steps, first_app, offsets)


class Runner:
    def __init__(
        self,
        catalogue: Catalogue,
        installs: Installs,
        credentials: Credentials,
        executions: Executions,
        clock: Clock,
        overrides: RunOverrides,
        latency_ms: int = 0,
        strict: bool = False,
    ) -> None:
        self._catalogue = catalogue
        self._installs = installs
        self._credentials = credentials
        self._executions = executions
        self._clock = clock
        self._overrides = overrides
        self.latency_ms = latency_ms
        self.strict = strict
        self._plans: dict[str, RunPlan] = {}

    def _plan(self, workflow: Workflow) -> RunPlan:
        """What does not change from one run of a workflow to the next, worked out once."""
        found = self._plans.get(workflow.workflow_id)
        if found is None:
            found = plan_of(workflow, self._catalogue, self.latency_ms)
            self._plans[workflow.workflow_id] = found
        return found

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
        body, body_json = _payload(data, "data")
        if self.strict and self._catalogue.find_event(event) is None:
            known = ", ".join(e.name for e in self._catalogue.events)
            raise InvalidInput(f"Unknown event {event!r} (the account's custom events: {known})")
        marker = None
        if MARKER in body:
            marker, body_json = _marker_failure(body), None  # the text still holds the marker
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
            runs.append(self._run(namespace, user, workflow, install, dict(body), marker, data_json=body_json))
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
        data_json: bytes | None = None,  # orjson's text of `data`, if the caller has it
    ) -> Execution:
        # The hot path of every run: written to call as little as it can (no test controls set, no
        # marker, is the common case).
        overrides = self._overrides if self._overrides else None
        failure = None if marker is None and overrides is None else self._failure(namespace, user, workflow, marker)
        plan = self._plans.get(workflow.workflow_id)
        if plan is None:
            plan = self._plan(workflow)
        now = self._clock.now()
        # Times in whole milliseconds (as the vendor writes them), never later than the clock's.
        start_ms = int(now * 1000)
        stamps = iso_milliseconds_series(start_ms, plan.offsets_ms)
        workflow_id = workflow.workflow_id
        # The log entry as JSON text: ids and times need no escaping, block ids are escaped in the plan.
        results: list[str] = []
        inputs: list[str] = []
        error: ExecutionError | None = None
        previous: Mapping[str, Any] = data
        previous_json = data_text = (orjson.dumps(data) if data_json is None else data_json).decode()
        for index, step in enumerate(plan.steps):
            block_id = step.block.id
            started, stopped = stamps[index], stamps[index + 1]
            inputs.append(f"{step.input_open}{previous_json}}}")
            if step.trigger:
                json = f'{{"body":{data_text}}}'
            else:
                message = None
                if failure is not None and _fails_here(failure, step.block, plan.first_app):
                    message = failure.message
                elif step.credential_app is not None:
                    credential_id = install.credential_ids.get(step.credential_app)
                    if credential_id is None or not self._credentials.exists(namespace, user.user_id, credential_id):
                        message = _missing_credential(step.credential_app, credential_id)
                if message is not None:
                    failed = orjson.dumps({"message": message}).decode()
                    results.append(f'{step.result_open}{started}","stoppedAt":"{stopped}","data":[],"error":{failed}}}')
                    error = ExecutionError(
                        step.block.type, block_id, message, (start_ms + plan.offsets_ms[index + 1]) / 1000
                    )
                    break
                stub = (
                    None
                    if overrides is None
                    else overrides.output(namespace.id, workflow, step.block, user.user_id, user.username)
                )
                if stub is None:
                    values = install.values.get(block_id, {})
                    stub = step.sample(Seed(workflow_id, block_id, values, previous), values, previous)
                previous = stub
                json = previous_json = orjson.dumps(stub).decode()
            results.append(
                f'{step.result_open}{started}","stoppedAt":"{stopped}","data":[[{{"json":{json},"id":"{new_uuid()}"}}]]}}'
            )
        stopped_ms = start_ms + plan.offsets_ms[len(results)]
        execution_id = new_nanoid()
        body = (
            f'{{"executionId":"{execution_id}","startedAt":"{stamps[0]}","stoppedAt":"{stamps[len(results)]}",'
            f'"finished":true,"results":[{",".join(results)}],"inputs":[{",".join(inputs)}]}}'
        )
        execution = Execution(
            execution_id,
            workflow_id,
            user.user_id,
            now,
            stopped_ms / 1000 if self.latency_ms else now,
            body,
            error,
            len(results) - 1,  # app actions: the blocks that ran, after the trigger
            None if rerun_of is None else f"{secrets.token_hex(4)}-{secrets.token_hex(4)}",
            rerun_of,
        )
        self._executions.record(namespace, execution)
        return execution


def _missing_credential(app: str, credential_id: str | None) -> str:
    """The error of a block whose app credential the install no longer has (deleted since the install)."""
    return f"No {app} credential: the credential this installation uses ({credential_id or 'none'}) was deleted"
