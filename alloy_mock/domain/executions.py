"""Executions: the stored runs of workflows, read as logs, errors and analytics, and removed on request.

Each execution is one document in the namespace's `executions` collection, indexed by workflow, by user, by
(workflow, user) and, for failed runs, by workflow, by (workflow, user), by user and all together, so a page of
logs (or of the control API's list) or the list of errors costs what it returns, however many executions are
stored. A document holds what happened in the run (its payload, the install's field values, where it failed,
outputs a test stubbed); the log entry is rendered from it when read (log_entries.py). Documents stored before
2026-12 hold the entry's JSON text itself (`body`), which is sent as it is.

Analytics are read from the store's indexes (counts per workflow and per failed workflow, and a kept sum of
block runs), never recounted. Retention trims the oldest executions of a (workflow, user) past a bound and
adds what it trims to that pair's `execution_trimmed` totals, so analytics stay lifetime totals. Deleting a
user's logs removes their executions and their trimmed totals: their whole share of the analytics.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

import orjson

from ..auth import Namespace
from ..clock import Clock, iso_time
from ..store import Collection, Indexes, Store
from .errors import InvalidInput, NotFound
from .log_entries import Plans

COLLECTION = "executions"
INDEXES = Indexes(
    grouped=("workflowId", "userId", "owner", "failedWorkflowId", "failedOwner", "failedUserId", "failed"),
    sums=(("workflowId", "appActions"),),
)
TRIMMED_COLLECTION = "execution_trimmed"
TRIMMED_INDEXES = Indexes(
    grouped=("userId", "workflowId"),
    sums=(("workflowId", "runs"), ("workflowId", "appActions"), ("workflowId", "errors")),
)
EXECUTION_NOT_FOUND = "Execution not found"
DEFAULT_RETENTION = 10_000  # executions kept per workflow and user


class ExecutionError(NamedTuple):
    block: str  # the app (block type) that failed, as the vendor's errors show it
    block_id: str
    message: str
    occurred_at: float  # epoch seconds: when the failing block stopped


class Execution(NamedTuple):
    """A run, as the runner hands it over to be stored."""

    execution_id: str
    workflow_id: str
    user_id: str
    started_at: float  # epoch seconds, the emulator's clock
    finishes_at: float  # when it counts as finished (later than the answer with --run-latency)
    data: dict[str, Any]  # the payload: the trigger's output
    values: Mapping[str, Any]  # the install's field values, {blockId: {field: value}}
    error: ExecutionError | None
    app_actions: int  # blocks that ran
    stubs: dict[str, Any] | None = None  # {blockId: output} a test stubbed
    latency_ms: int = 0  # --run-latency when it ran: how its blocks' times spread
    execution_uuid: str | None = None  # a rerun's id, as the rerun endpoint answers it
    rerun_of: str | None = None


class Analytics(NamedTuple):
    total_workflow_runs: int
    total_app_actions: int
    total_errors: int


def _owner(workflow_id: str, user_id: str) -> str:
    return f"{workflow_id}:{user_id}"


class Executions:
    def __init__(self, store: Store, clock: Clock, plans: Plans, retention: int = DEFAULT_RETENTION) -> None:
        self._store = store
        self._clock = clock
        self._plans = plans
        self.retention = retention
        # The latest finishing time recorded per (namespace, user) and per (namespace, None): in memory only,
        # for waits on --run-latency runs (after a restart, earlier runs are simply finished or not).
        self._finishing: dict[tuple[str, str | None], float] = {}

    def _executions(self, namespace: Namespace) -> Collection:
        return self._store.collection(namespace.id, COLLECTION)

    def _trimmed(self, namespace: Namespace) -> Collection:
        return self._store.collection(namespace.id, TRIMMED_COLLECTION)

    # -- writing --------------------------------------------------------------------------------------

    def record(self, namespace: Namespace, execution: Execution) -> None:
        """Store a run and count it, in one transaction; trim the oldest runs past the retention bound."""
        owner = f"{execution.workflow_id}:{execution.user_id}"  # _owner(), inlined on this hot path
        doc: dict[str, Any] = {
            "executionId": execution.execution_id,
            "workflowId": execution.workflow_id,
            "userId": execution.user_id,
            "owner": owner,
            "startedAt": execution.started_at,
            "finishesAt": execution.finishes_at,
            "appActions": execution.app_actions,
            "data": execution.data,
        }
        if execution.values:
            doc["values"] = execution.values
        if execution.stubs is not None:
            doc["stubs"] = execution.stubs
        if execution.latency_ms:
            doc["latencyMs"] = execution.latency_ms
        if execution.error is not None:
            doc["failedWorkflowId"] = execution.workflow_id
            doc["failedOwner"] = owner
            doc["failedUserId"] = execution.user_id  # these two for the control API's lists and counts
            doc["failed"] = True
            doc["error"] = {
                "block": execution.error.block,
                "blockId": execution.error.block_id,
                "message": execution.error.message,
                "errorOccurredAt": iso_time(execution.error.occurred_at),
            }
        if execution.execution_uuid is not None:
            doc["executionUuid"] = execution.execution_uuid
            doc["rerunOf"] = execution.rerun_of
        executions = self._store.collection(namespace.id, COLLECTION)  # _executions(), inlined
        if executions.count_where("owner", owner) < self.retention:
            executions.insert(execution.execution_id, doc)  # a transaction of its own: nothing to trim
        else:
            with self._store.transaction():
                executions.insert(execution.execution_id, doc)
                while executions.count_where("owner", owner) > self.retention:
                    oldest = executions.first_where("owner", owner)
                    trimmed = None if oldest is None else executions.delete(oldest)
                    if trimmed is None:
                        break
                    self._keep_totals(namespace, trimmed)
        if execution.finishes_at > execution.started_at:  # still running after the answer (--run-latency)
            for key in ((namespace.id, execution.user_id), (namespace.id, None)):
                self._finishing[key] = max(self._finishing.get(key, 0.0), execution.finishes_at)

    def _keep_totals(self, namespace: Namespace, trimmed: Mapping[str, Any]) -> None:
        """Add a trimmed execution to its (workflow, user) totals, which analytics still count."""
        totals = self._trimmed(namespace)
        key = trimmed["owner"]
        found = totals.view(key)
        errors = 1 if "error" in trimmed else 0
        if found is None:
            doc = {"workflowId": trimmed["workflowId"], "userId": trimmed["userId"], "runs": 0, "appActions": 0}
            totals.insert(key, {**doc, "errors": 0})
            found = totals.view(key)
            assert found is not None
        totals.update(
            key,
            {
                "runs": found["runs"] + 1,
                "appActions": found["appActions"] + trimmed["appActions"],
                "errors": found["errors"] + errors,
            },
        )

    def delete_for_user(self, namespace: Namespace, user_id: str) -> int:
        """Remove every execution of a user and their share of the analytics; how many executions went."""
        with self._store.transaction():
            removed = len(self._executions(namespace).delete_where("userId", user_id))
            self._trimmed(namespace).delete_where("userId", user_id)
        return removed

    # -- reading --------------------------------------------------------------------------------------

    def page(
        self,
        namespace: Namespace,
        workflow_id: str,
        user_id: str | None,
        page: int,
        limit: int,
        newest_first: bool,
        failed_only: bool,
    ) -> list[Any]:
        """One page of log entries (page 1 is the first), ready to render."""
        if user_id is None:
            field, value = ("failedWorkflowId" if failed_only else "workflowId"), workflow_id
        else:
            field, value = ("failedOwner" if failed_only else "owner"), _owner(workflow_id, user_id)
        docs = self._executions(namespace).page_where(field, value, (page - 1) * limit, limit, newest_first)
        now = self._clock.now()
        return [self.entry(doc, now) for doc in docs]

    def entry(self, doc: Mapping[str, Any], now: float) -> Any:
        """The log entry of a stored execution, ready to render: its JSON once finished, else (still running,
        with --run-latency) the blocks that have stopped by `now`."""
        if doc["finishesAt"] <= now:
            return orjson.Fragment(self.entry_json(doc))
        entry = orjson.loads(self.entry_json(doc))
        done = [r for r in entry["results"] if _epoch(r["stoppedAt"]) <= now]
        entry.update(finished=False, results=done)
        entry.pop("stoppedAt", None)
        return entry

    def entry_json(self, doc: Mapping[str, Any]) -> str:
        """The log entry of a finished execution as JSON text."""
        stored: str | None = doc.get("body")  # stored before 2026-12
        return self._plans.render(doc) if stored is None else stored

    def errors(self, namespace: Namespace, workflow_id: str, user_id: str | None) -> list[dict[str, Any]]:
        """The failed executions that have finished, newest first, as the errors endpoint lists them."""
        field, value = (
            ("failedWorkflowId", workflow_id) if user_id is None else ("failedOwner", _owner(workflow_id, user_id))
        )
        executions = self._executions(namespace)
        docs = executions.page_where(field, value, 0, executions.count_where(field, value), newest_first=True)
        now = self._clock.now()
        return [
            {
                "workflowId": doc["workflowId"],
                "block": doc["error"]["block"],
                "errorOccurredAt": doc["error"]["errorOccurredAt"],
                "message": doc["error"]["message"],
            }
            for doc in docs
            if doc["finishesAt"] <= now
        ]

    def newest(
        self,
        namespace: Namespace,
        workflow_id: str | None,
        user_id: str | None,
        failed_only: bool,
        before: str | None,
        limit: int,
    ) -> list[Mapping[str, Any]]:
        """Up to `limit` stored executions (of a workflow, of a user, failed ones: each filter optional), newest
        first, from the one after the execution `before`; InvalidInput if `before` is not among them. Read from the
        index that fits the filters: the cost is that of the page, plus reaching `before` (Collection.newest_keys)."""
        if workflow_id is not None and user_id is not None:
            field: str | None = "failedOwner" if failed_only else "owner"
            value: Any = _owner(workflow_id, user_id)
        elif workflow_id is not None:
            field, value = ("failedWorkflowId" if failed_only else "workflowId"), workflow_id
        elif user_id is not None:
            field, value = ("failedUserId" if failed_only else "userId"), user_id
        else:
            field, value = ("failed", True) if failed_only else (None, None)
        executions = self._executions(namespace)
        try:
            keys = executions.newest_keys(field, value, before)
        except KeyError:
            raise InvalidInput("before must be the executionId of an execution in this list") from None
        now = self._clock.now()
        found: list[Mapping[str, Any]] = []
        for key in keys:
            doc = executions.view(key)
            # a failed run still running (--run-latency) has not failed yet, as the errors endpoint sees it
            if doc is not None and not (failed_only and doc["finishesAt"] > now):
                found.append(doc)
                if len(found) == limit:
                    break
        return found

    def find(self, namespace: Namespace, execution_id: str) -> Mapping[str, Any] | None:
        """A stored execution by id, whichever workflow and user it belongs to (the stored one: not to change)."""
        return self._executions(namespace).view(execution_id)

    def user_counts(self, namespace: Namespace, user_id: str) -> tuple[int, int]:
        """How many executions of a user are stored, and how many of them failed (counted by the indexes)."""
        executions = self._executions(namespace)
        return executions.count_where("userId", user_id), executions.count_where("failedUserId", user_id)

    def analytics(self, namespace: Namespace, workflow_id: str) -> Analytics:
        """Lifetime totals over the namespace's users: what is stored, plus what retention trimmed."""
        executions, trimmed = self._executions(namespace), self._trimmed(namespace)
        runs = executions.count_where("workflowId", workflow_id) + trimmed.sum_where("workflowId", workflow_id, "runs")
        actions = executions.sum_where("workflowId", workflow_id, "appActions") + trimmed.sum_where(
            "workflowId", workflow_id, "appActions"
        )
        errors = executions.count_where("failedWorkflowId", workflow_id) + trimmed.sum_where(
            "workflowId", workflow_id, "errors"
        )
        return Analytics(int(runs), int(actions), int(errors))

    def get(self, namespace: Namespace, execution_id: str, workflow_id: str, user_id: str | None) -> dict[str, Any]:
        """A stored execution of this workflow (and user, if given); NotFound otherwise."""
        doc = self._executions(namespace).get(execution_id)
        if doc is None or doc["workflowId"] != workflow_id or (user_id is not None and doc["userId"] != user_id):
            raise NotFound(EXECUTION_NOT_FOUND)
        return doc

    def count(self, namespace: Namespace, workflow_id: str, user_id: str | None = None) -> int:
        if user_id is None:
            return self._executions(namespace).count_where("workflowId", workflow_id)
        return self._executions(namespace).count_where("owner", _owner(workflow_id, user_id))

    def latest_finish(self, namespace: Namespace, user_id: str | None = None) -> float:
        """When the last execution recorded since start-up (of a user, or of anyone in the namespace)
        finishes: what a wait for running executions waits for."""
        return self._finishing.get((namespace.id, user_id), 0.0)


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
