"""A stored run as the vendor's log entry: the plan of a workflow's blocks, and the entry rendered from it.

A run stores what happened (domain/executions.py): its payload, the install's field values, when it
started, where it failed and any outputs a test stubbed. The log entry (`executionId`, `startedAt`,
`stoppedAt`, `finished`, `results[]`, `inputs[]`) follows from that and the workflow's blocks, so it is
written when it is read rather than on every run: a run costs what deciding it costs, and logs pay for
the entries they return. The same stored run always gives the same entry, byte for byte (times from the
stored start, app outputs from domain/samples.py, record ids derived from the execution id), after a
restart too. What it cannot follow: a different sample of an app in a later alloy-mock version, or a
workflow the catalogue no longer has (its entries keep their ids and times, without results).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import orjson

from ..catalogue import Block, Catalogue, Workflow
from ..clock import iso_milliseconds, iso_milliseconds_series
from ..ids import derived_uuid
from .samples import Sample, Seed, sampler


class Step(NamedTuple):
    block: Block
    trigger: bool
    credential_app: str | None  # the app whose credential the block needs, if any
    sample: Sample  # what the block returns (samples.py)
    # The block's log entry parts as JSON text, up to the first varying value (each block's data is
    # serialized once, and the entry written as the text orjson.dumps would give of its dict).
    result_open: str  # {"blockId":<id>,"startedAt":"
    input_open: str  # {"blockId":<id>,"data":


class RunPlan(NamedTuple):
    steps: list[Step]
    first_app: Block  # where a failure without a block fails: the first app block, else the last block
    offsets_ms: list[int]  # when each block stops, after the run starts (0 first: the start)


def plan_of(workflow: Workflow, catalogue: Catalogue, latency_ms: int) -> RunPlan:
    """The blocks of a run in order, with what each needs. Each block takes a few milliseconds, fixed per
    block (a frozen clock gives the same times every run), or `latency_ms` spread over the blocks."""
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


class Plans:
    """Run plans, worked out once per workflow and run latency (what does not change between runs)."""

    def __init__(self, catalogue: Catalogue) -> None:
        self._catalogue = catalogue
        self._plans: dict[tuple[str, int], RunPlan] = {}

    def of(self, workflow: Workflow, latency_ms: int) -> RunPlan:
        key = (workflow.workflow_id, latency_ms)
        found = self._plans.get(key)
        if found is None:
            found = self._plans[key] = plan_of(workflow, self._catalogue, latency_ms)
        return found

    def render(self, doc: Mapping[str, Any]) -> str:
        """The log entry of a stored run (domain/executions.py's document) as JSON text."""
        found = self._catalogue.find_workflow(doc["workflowId"])
        if found is None:  # gone from the catalogue since the run: ids and times, no results
            started = iso_milliseconds(int(doc["startedAt"] * 1000))
            return (
                f'{{"executionId":"{doc["executionId"]}","startedAt":"{started}","stoppedAt":"{started}",'
                '"finished":true,"results":[],"inputs":[]}'
            )
        return render(self.of(found[1], doc.get("latencyMs", 0)), doc)


def render(plan: RunPlan, doc: Mapping[str, Any]) -> str:
    """The log entry of stored run `doc` under `plan`: each block in order, the trigger's output the payload
    (`{"body": data}`), each app's a stubbed output or its sample of its input, up to the failed block."""
    execution_id: str = doc["executionId"]
    workflow_id: str = doc["workflowId"]
    data: dict[str, Any] = doc["data"]
    all_values: Mapping[str, Any] = doc.get("values") or {}
    stubs: Mapping[str, Any] = doc.get("stubs") or {}
    error = doc.get("error")
    failed_block, failed_message = (None, None) if error is None else (error["blockId"], error["message"])
    stamps = iso_milliseconds_series(int(doc["startedAt"] * 1000), plan.offsets_ms)
    # Ids and times need no escaping; block ids are escaped in the plan.
    results: list[str] = []
    inputs: list[str] = []
    previous: Mapping[str, Any] = data
    previous_json = data_json = orjson.dumps(data).decode()
    for index, step in enumerate(plan.steps):
        block_id = step.block.id
        started, stopped = stamps[index], stamps[index + 1]
        inputs.append(f"{step.input_open}{previous_json}}}")
        if step.trigger:
            output_json = f'{{"body":{data_json}}}'
        elif block_id == failed_block:
            failed = orjson.dumps({"message": failed_message}).decode()
            results.append(f'{step.result_open}{started}","stoppedAt":"{stopped}","data":[],"error":{failed}}}')
            break
        else:
            output = stubs.get(block_id)
            if output is None:
                values = all_values.get(block_id, {})
                output = step.sample(Seed(workflow_id, block_id, values, previous), values, previous)
            previous = output
            output_json = previous_json = orjson.dumps(output).decode()
        record_id = derived_uuid(execution_id, index)
        results.append(
            f'{step.result_open}{started}","stoppedAt":"{stopped}",'
            f'"data":[[{{"json":{output_json},"id":"{record_id}"}}]]}}'
        )
    return (
        f'{{"executionId":"{execution_id}","startedAt":"{stamps[0]}","stoppedAt":"{stamps[len(results)]}",'
        f'"finished":true,"results":[{",".join(results)}],"inputs":[{",".join(inputs)}]}}'
    )
