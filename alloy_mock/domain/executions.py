"""Executions: the stored runs of workflows, read as logs, errors and analytics, and removed on request.

Each execution is one document in the namespace's `executions` collection, indexed by workflow, by user, by
(workflow, user) and, for failed runs, by workflow and by (workflow, user) again, so a page of logs or the
list of errors costs what it returns, however many executions are stored. The log entry itself is kept as
the JSON text the API sends (`body`), so reading a page re-renders nothing.

Analytics are counters kept per workflow and per (workflow, user), updated as runs are recorded: lifetime
totals, not a recount. Retention trims the oldest executions of a (workflow, user) past a bound; it leaves
the totals alone. Deleting a user's logs removes their executions and their share of the totals.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

import orjson

from ..auth import Namespace
from ..clock import Clock, iso_time
from ..store import Collection, Indexes, Store
from .errors import NotFound

COLLECTION = "executions"
INDEXES = Indexes(grouped=("workflowId", "userId", "owner", "failedWorkflowId", "failedOwner"))
STATS_COLLECTION = "execution_stats"
STATS_INDEXES = Indexes(grouped=("userId",))
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
    entry: dict[str, Any]  # the log entry: executionId, startedAt, stoppedAt, finished, results, inputs
    error: ExecutionError | None
    app_actions: int  # blocks that ran
    execution_uuid: str | None = None  # a rerun's id, as the rerun endpoint answers it
    rerun_of: str | None = None


class Analytics(NamedTuple):
    total_workflow_runs: int
    total_app_actions: int
    total_errors: int


def _owner(workflow_id: str, user_id: str) -> str:
    return f"{workflow_id}:{user_id}"


class Executions:
    def __init__(self, store: Store, clock: Clock, retention: int = DEFAULT_RETENTION) -> None:
        self._store = store
        self._clock = clock
        self.retention = retention
        # The latest finishing time recorded per (namespace, user) and per (namespace, None): in memory only,
        # for waits on --run-latency runs (after a restart, earlier runs are simply finished or not).
        self._finishing: dict[tuple[str, str | None], float] = {}

    def _executions(self, namespace: Namespace) -> Collection:
        return self._store.collection(namespace.id, COLLECTION)

    def _stats(self, namespace: Namespace) -> Collection:
        return self._store.collection(namespace.id, STATS_COLLECTION)

    # -- writing --------------------------------------------------------------------------------------

    def record(self, namespace: Namespace, execution: Execution) -> None:
        """Store a run and count it, in one transaction; trim the oldest runs past the retention bound."""
        owner = _owner(execution.workflow_id, execution.user_id)
        doc: dict[str, Any] = {
            "executionId": execution.execution_id,
            "workflowId": execution.workflow_id,
            "userId": execution.user_id,
            "owner": owner,
            "startedAt": execution.started_at,
            "finishesAt": execution.finishes_at,
            "appActions": execution.app_actions,
            "body": orjson.dumps(execution.entry).decode(),
        }
        if execution.error is not None:
            doc["failedWorkflowId"] = execution.workflow_id
            doc["failedOwner"] = owner
            doc["error"] = {
                "block": execution.error.block,
                "blockId": execution.error.block_id,
                "message": execution.error.message,
                "errorOccurredAt": iso_time(execution.error.occurred_at),
            }
        if execution.execution_uuid is not None:
            doc["executionUuid"] = execution.execution_uuid
            doc["rerunOf"] = execution.rerun_of
        executions = self._executions(namespace)
        with self._store.transaction():
            executions.insert(execution.execution_id, doc)
            errors = 0 if execution.error is None else 1
            self._count(namespace, f"wf:{execution.workflow_id}", None, execution, errors)
            self._count(namespace, f"wu:{owner}", execution.user_id, execution, errors)
            for key in ((namespace.id, execution.user_id), (namespace.id, None)):
                self._finishing[key] = max(self._finishing.get(key, 0.0), execution.finishes_at)
            while executions.count_where("owner", owner) > self.retention:
                oldest = executions.first_where("owner", owner)
                if oldest is None:
                    break
                executions.delete(oldest)

    def _count(self, namespace: Namespace, key: str, user_id: str | None, execution: Execution, errors: int) -> None:
        stats = self._stats(namespace)
        found = stats.get(key)
        if found is None:
            doc: dict[str, Any] = {"workflowId": execution.workflow_id, "runs": 1, "appActions": 0, "errors": 0}
            if user_id is not None:
                doc["userId"] = user_id
            doc["appActions"] = execution.app_actions
            doc["errors"] = errors
            stats.insert(key, doc)
        else:
            stats.update(
                key,
                {
                    "runs": found["runs"] + 1,
                    "appActions": found["appActions"] + execution.app_actions,
                    "errors": found["errors"] + errors,
                },
            )

    def delete_for_user(self, namespace: Namespace, user_id: str) -> int:
        """Remove every execution of a user and their share of the analytics; how many executions went."""
        stats = self._stats(namespace)
        with self._store.transaction():
            removed = len(self._executions(namespace).delete_where("userId", user_id))
            for share in stats.delete_where("userId", user_id):
                key = f"wf:{share['workflowId']}"
                total = stats.get(key)
                if total is not None:
                    stats.update(
                        key,
                        {
                            "runs": total["runs"] - share["runs"],
                            "appActions": total["appActions"] - share["appActions"],
                            "errors": total["errors"] - share["errors"],
                        },
                    )
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
        """The log entry of a stored execution: its stored JSON as is once finished, else (still running,
        with --run-latency) the blocks that have stopped by `now`."""
        if doc["finishesAt"] <= now:
            return orjson.Fragment(doc["body"])
        entry = orjson.loads(doc["body"])
        done = [r for r in entry["results"] if _epoch(r["stoppedAt"]) <= now]
        entry.update(finished=False, results=done)
        entry.pop("stoppedAt", None)
        return entry

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

    def analytics(self, namespace: Namespace, workflow_id: str) -> Analytics:
        found = self._stats(namespace).get(f"wf:{workflow_id}")
        if found is None:
            return Analytics(0, 0, 0)
        return Analytics(found["runs"], found["appActions"], found["errors"])

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
