"""Seeding benchmark databases in-process, through alloy_mock's domain code, before a server starts on them.

Installing 100,000 workflows or running a million executions through HTTP would take longer than the
benchmark itself; the domain calls here are the ones the HTTP handlers make (the control API's
POST /_mock/installs: `Installs.plan` + `Installs.install`; POST /run/event: `Runner.run_event`), run in
one process on the database files, in transactions of `CHUNK` (one journal line each, fsynced once), so
the server started afterwards loads exactly what those requests would have left.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from alloy_mock.config import Settings
from alloy_mock.emulator import Emulator

# "Sync New Customers to Shopify" (integration Shopify), the only workflow of the catalogue that both is
# installed here and starts with the custom event "Customer Created": one matching workflow per user.
WORKFLOW = "64108e3c3cac1228833b4944"
INTEGRATION = "Shopify"
EVENT = "Customer Created"
CHUNK = 1000  # documents per transaction (one journal line, one fsync)


def install_for_every_user(db: Path) -> float:
    """Install WORKFLOW (active, with an emulated Shopify credential) for every user of the default
    development namespace in the database at `db`; returns the seconds taken."""
    started = time.perf_counter()
    em = Emulator.open(Settings(db=db))
    try:
        namespace = em.keys.namespaces[0]
        integration = em.installs.integration(INTEGRATION)
        users = em.users.list(namespace)
        for first in range(0, len(users), CHUNK):
            with em.store.transaction():
                for user in users[first : first + CHUNK]:
                    plan = em.installs.plan(
                        namespace, user.user_id, integration, [WORKFLOW], {}, create_missing_credentials=True
                    )
                    em.installs.install(namespace, user.user_id, plan)
        em.store.flush()
    finally:
        em.close()
    return time.perf_counter() - started


@dataclass(frozen=True)
class History:
    """A namespace of `users` users, each with WORKFLOW installed and `per_user` executions of it, the
    first `failed_per_user` of them failed (so errors lists the same number whatever the history)."""

    users: int
    per_user: int
    failed_per_user: int

    @property
    def executions(self) -> int:
        return self.users * self.per_user


def record_history(db: Path, history: History) -> tuple[list[str], float]:
    """Create a fresh database at `db` holding `history`, run event by event through the Runner;
    returns the user ids and the seconds taken."""
    started = time.perf_counter()
    em = Emulator.open(Settings(db=db))
    try:
        namespace = em.keys.namespaces[0]
        if history.per_user > em.executions.retention:
            raise ValueError(f"{history.per_user} executions per user is past the retention bound")
        with em.store.transaction():
            users = em.users.seed(namespace, [{"username": f"history-{n}"} for n in range(history.users)])
        integration = em.installs.integration(INTEGRATION)
        with em.store.transaction():
            for user in users:
                plan = em.installs.plan(
                    namespace, user.user_id, integration, [WORKFLOW], {}, create_missing_credentials=True
                )
                em.installs.install(namespace, user.user_id, plan)
        done = 0
        total = history.executions
        while done < total:
            with em.store.transaction():
                for n in range(done, min(total, done + CHUNK)):
                    user, run = users[n % history.users], n // history.users
                    data: dict[str, object] = {"name": "Ada Lovelace", "email": f"ada+{n}@example.com", "n": n}
                    if run < history.failed_per_user:
                        data["__alloy_mock"] = {"message": "Emulated failure (benchmark history)"}
                    if len(em.runner.run_event(namespace, user, EVENT, data)) != 1:
                        raise RuntimeError(f"{EVENT!r} did not run exactly one workflow for {user.user_id}")
            done = min(total, done + CHUNK)
        em.store.flush()
        return [user.user_id for user in users], time.perf_counter() - started
    finally:
        em.close()
