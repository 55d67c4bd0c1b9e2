"""CPU time of the control API's read pages (issue 15) at a small and a large history, against the vendor logs
endpoint's first page measured in the same run: a page must cost what it holds, not what is stored.

    python bench/browse.py [--large 200000] [--small 1000]

In-process, on a :memory: store: each history is one real run of "Sync New Customers to Shopify" recorded again
under new ids (1 in 10 failed), spread over 20 users (at 1,000: 50 each, so every page is full). Each row is the
CPU time (process_time) per call of the domain read plus the rendering the endpoint does, the median of 5 rounds.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from alloy_mock.config import Settings
from alloy_mock.control import browse
from alloy_mock.domain.executions import ExecutionError
from alloy_mock.emulator import Emulator
from alloy_mock.http.control_browse import render_execution
from alloy_mock.ids import new_nanoid

WORKFLOW = "64108e3c3cac1228833b4944"  # "Sync New Customers to Shopify", started by "Customer Created"
USERS = 20
FAILED_EVERY = 10


def seeded(executions: int) -> tuple[Emulator, list[str]]:
    """An emulator whose dev namespace holds `executions` runs (oldest first: their ids)."""
    em = Emulator.open(Settings(execution_retention=executions))
    ns = em.namespace_named("dev")
    shopify = em.installs.integration("Shopify")
    users = [em.users.create(ns, f"user{n}") for n in range(USERS)]
    for user in users:
        plan = em.installs.plan(ns, user.user_id, shopify, [WORKFLOW], {}, create_missing_credentials=True)
        em.installs.install(ns, user.user_id, plan)
    [template] = em.runner.run_event(ns, users[0], "Customer Created", {"email": "a@b.c"})
    em.executions.delete_for_user(ns, users[0].user_id)
    failure = ExecutionError("shopify", "34b19706-eaaf-4396-8d93-4ee776f4fdae", "Shopify is down", template.started_at)
    ids = []
    with em.store.transaction():
        for n in range(executions):
            execution_id = new_nanoid()
            em.executions.record(
                ns,
                template._replace(
                    execution_id=execution_id,
                    user_id=users[n % USERS].user_id,
                    entry={**template.entry, "executionId": execution_id},
                    error=failure if n % FAILED_EVERY == 0 else None,
                ),
            )
            ids.append(execution_id)
    return em, ids


def cpu_per_call(call: Callable[[], Any], calls: int = 200) -> float:
    rounds = []
    for _ in range(5):
        started = time.process_time()
        for _ in range(calls):
            call()
        rounds.append((time.process_time() - started) / calls)
    return statistics.median(rounds)


def rows(size: int) -> dict[str, float]:
    em, ids = seeded(size)
    ns = em.namespace_named("dev")
    user = em.users.get(ns, "user10").user_id
    now = em.clock.now()

    def page(**filters: Any) -> Any:
        docs, _ = browse.executions_page(
            em,
            ns,
            filters.get("workflow"),
            filters.get("user"),
            filters.get("failed", False),
            filters.get("before"),
            50,
        )
        return [render_execution(em, doc, now) for doc in docs]

    measured = {
        "logs endpoint, first page of 30 (baseline)": cpu_per_call(
            lambda: em.executions.page(ns, WORKFLOW, None, 1, 30, True, False)
        ),
        "executions, first page of 50": cpu_per_call(page),
        "executions, 50 of a user": cpu_per_call(lambda: page(user=user)),
        "executions, 50 failed ones": cpu_per_call(lambda: page(failed=True)),
        "executions, 50 failed of a user": cpu_per_call(lambda: page(failed=True, user=user)),
        "executions, 50 before one 500 deep": cpu_per_call(lambda: page(before=ids[-500])),
        "executions, 50 before the oldest but 51": cpu_per_call(lambda: page(before=ids[51]), calls=20),
        "users, first page of 50": cpu_per_call(lambda: browse.find_users(em, ns, None, 50, 0)),
        "users, search (20 users)": cpu_per_call(lambda: browse.find_users(em, ns, "user1", 50, 0)),
        "namespaces with counts": cpu_per_call(lambda: browse.namespace_counts(em)),
    }
    em.close()
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=200_000)
    args = parser.parse_args()
    small, large = rows(args.small), rows(args.large)
    base_small, base_large = (next(iter(r.values())) for r in (small, large))
    print(f"CPU per call, {args.small:,} vs {args.large:,} stored executions (median of 5 rounds)")
    print(f"{'':44} {'small':>9} {'large':>9} {'large/small':>11} {'large/baseline':>14}")
    for name in small:
        print(
            f"{name:44} {small[name] * 1e6:7.1f}us {large[name] * 1e6:7.1f}us {large[name] / small[name]:11.2f}"
            f" {large[name] / base_large:14.2f}"
        )
    print(f"(baseline: {base_small * 1e6:.1f} us at {args.small:,}, {base_large * 1e6:.1f} us at {args.large:,})")


if __name__ == "__main__":
    main()
