"""Instructions per request inside the ASGI app, counted by valgrind: repeatable on a noisy machine.

    apt-get install -y valgrind
    python bench/instructions.py [--cases get,token,post,post-memory,post-no-journal]

On a shared VM the time a request takes drifts by tens of percent within minutes (bench.py prints the
drift), which hides changes of a few percent. Instruction counts do not drift: for each case this
runs the app in-process (as app_cost.py does: no sockets, on uvloop, with the server's
garbage-collector settings) under `valgrind --tool=callgrind` twice, with FEW and MANY requests,
and prints (instructions(MANY) - instructions(FEW)) / (MANY - FEW), so start-up and seeding cancel
out. Counted: the server process with all its threads, not its helper processes (valgrind does not
follow children): the fsync helper, which the durable POST case starts after 64 group commits, runs
the fsyncs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from app_cost import run_concurrent, run_sequential, server_like_loop  # bench/app_cost.py, beside this file
from baseline_app import app as baseline_app  # bench/baseline_app.py, beside this file

from alloy_mock.app import create_app
from alloy_mock.cli import tune_gc_for_serving
from alloy_mock.config import Settings

CASES = {
    "base": "bare Starlette GET /json (baseline_app.py)",
    "base-post": "bare Starlette POST /json (64 in flight)",
    "get": "GET /users/{id}",
    "token": "GET /users/{id}/token, signed by OpenSSL",
    "post": "POST /users, durable (64 in flight)",
    "post-memory": "POST /users, --db :memory: (64 in flight)",
    "post-no-journal": "POST /users, durable, --journal-size 0",
    "run-event": "POST /run/event, one matching workflow, durable (64 in flight)",
    "workflows": "GET /workflows?userId=, one workflow installed",
    "deactivate": "PUT /workflows/deactivate, durable (64 in flight)",
}
SYNC_WORKFLOW = "64108e3c3cac1228833b4944"  # "Sync New Customers to Shopify", triggered by "Customer Created"
INSTALL_CASES = ("run-event", "workflows", "deactivate")


def run_case(case: str, requests: int) -> None:
    """The measured process: seed 1,000 users, then `requests` requests of `case`."""
    loop = server_like_loop()
    if case.startswith("base"):
        tune_gc_for_serving()
        post = case == "base-post"
        body = b'{"username":"baseline"}' if post else b""
        calls = [("POST" if post else "GET", "/json", body)] * requests
        loop.run_until_complete(
            run_concurrent(baseline_app, calls, 64) if post else run_sequential(baseline_app, calls)
        )
        return
    with tempfile.TemporaryDirectory(prefix="alloy-instructions-") as folder:
        settings = Settings(
            db=":memory:" if case == "post-memory" else Path(folder) / "db.json",
            journal_size=0 if case == "post-no-journal" else 1000,
        )
        app = create_app(settings)
        em = app.emulator
        seed = json.dumps({"users": [{"username": f"seed-{i}"} for i in range(1000)]}).encode()
        loop.run_until_complete(run_sequential(app, [("POST", "/2023-12/users/batch", seed)]))
        ids = [user.user_id for user in em.users.list(em.keys.namespaces[0])]
        if case in INSTALL_CASES:
            install_sync_workflow(em, ids)
            em.store.flush()
        tune_gc_for_serving()  # as the server does once it has loaded its data
        if case in INSTALL_CASES:
            loop.run_until_complete(install_case(app, case, ids, requests))
        elif case.startswith("post"):
            posts = [("POST", "/2023-12/users", json.dumps({"username": f"u-{i}"}).encode()) for i in range(requests)]
            loop.run_until_complete(run_concurrent(app, posts, 64))
        else:
            suffix = "" if case == "get" else "/token"
            paths = [("GET", f"/2023-12/users/{ids[i % len(ids)]}{suffix}", b"") for i in range(requests)]
            loop.run_until_complete(run_sequential(app, paths))
        em.close()


def install_sync_workflow(em: Any, ids: list[str]) -> None:
    """Install SYNC_WORKFLOW for each of the users `ids` of the development namespace."""
    namespace = em.keys.namespaces[0]
    shopify = em.installs.integration("Shopify")
    for user_id in ids:
        plan = em.installs.plan(namespace, user_id, shopify, [SYNC_WORKFLOW], {}, create_missing_credentials=True)
        em.installs.install(namespace, user_id, plan)


async def install_case(app: Any, case: str, ids: list[str], requests: int) -> None:
    if case == "workflows":
        calls = [("GET", f"/2023-12/workflows?userId={ids[i % len(ids)]}", b"") for i in range(requests)]
        await run_sequential(app, calls)
        return
    if case == "run-event":
        calls = [
            (
                "POST",
                "/2023-12/run/event",
                json.dumps(
                    {"event": "Customer Created", "userId": ids[i % len(ids)], "data": {"name": "Ada L", "n": i}}
                ).encode(),
            )
            for i in range(requests)
        ]
    else:
        calls = [
            (
                "PUT",
                "/2023-12/workflows/deactivate",
                json.dumps({"userId": ids[i % len(ids)], "workflowId": SYNC_WORKFLOW}).encode(),
            )
            for i in range(requests)
        ]
    await run_concurrent(app, calls, 64)


def count(case: str, requests: int) -> int:
    """Instructions of one measured process, from callgrind's summary line."""
    result = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--inner",
            case,
            str(requests),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONHASHSEED": "0"},  # the same dict layouts in every run
    )
    found = re.search(r"Collected : (\d+)", result.stderr)
    if result.returncode != 0 or found is None:
        raise RuntimeError(f"{case}: valgrind failed:\n{result.stderr[-2000:]}")
    return int(found.group(1))


def chosen_cases(parser: argparse.ArgumentParser, text: str, known: dict[str, str]) -> list[str]:
    """The comma-separated cases of `text`; a usage error naming any that is not in `known`."""
    cases = [case.strip() for case in text.split(",") if case.strip()]
    unknown = [case for case in cases if case not in known]
    if unknown:
        parser.error(f"unknown cases: {', '.join(unknown)}")
    return cases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated, of: " + ", ".join(CASES))
    parser.add_argument("--few", type=int, default=2000)
    parser.add_argument("--many", type=int, default=6000)
    parser.add_argument("--inner", nargs=2, metavar=("CASE", "REQUESTS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        run_case(args.inner[0], int(args.inner[1]))
        return 0
    if shutil.which("valgrind") is None:
        print("instructions: `valgrind` is not installed (apt-get install -y valgrind)", file=sys.stderr)
        return 2
    cases = chosen_cases(parser, args.cases, CASES)
    print(f"instructions per request ({args.many} - {args.few} requests, Python {sys.version.split()[0]})")
    for case in cases:
        per_request = (count(case, args.many) - count(case, args.few)) / (args.many - args.few)
        print(f"  {CASES[case]:45s} {per_request:>10,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
