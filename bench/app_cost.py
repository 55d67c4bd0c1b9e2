"""CPU cost of one request inside the ASGI app, without a server, sockets or a load generator.

    python bench/app_cost.py [--users N] [--requests N] [--profile token|post|base] [--top N]

Calls the apps directly (a made-up ASGI scope, an in-memory receive/send) in this process, so the
numbers are free of the network stack and of other processes on the machine. Measured, as CPU
microseconds per request (time.process_time, all threads):

- the bare Starlette route of baseline_app.py (GET /json);
- alloy-mock GET /2023-12/users/{id}/token, with the default request journal and with it off;
- alloy-mock POST /2023-12/users on a database on disk (64 requests in flight, so that the group
  commit batches them as under load; the fsync waits are not CPU and are not counted);
- TokenIssuer.issue() alone (the ES256 signature, by OpenSSL through `cryptography`);
- Clock.iso_now() alone.

--profile runs cProfile over one of the loops and prints the functions with most own time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from baseline_app import app as baseline_app  # bench/baseline_app.py, beside this file

from alloy_mock.app import create_app
from alloy_mock.cli import tune_gc_for_serving
from alloy_mock.config import Settings

AUTH = (b"authorization", b"Bearer alloy-mock-dev-key")
App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def scope(method: str, target: str, body: bytes) -> dict[str, Any]:
    """The ASGI scope uvicorn would build for `method` `target` (a path, with an optional ?query)."""
    path, _, query = target.partition("?")
    headers = [(b"host", b"127.0.0.1:8000"), AUTH, (b"user-agent", b"wrk")]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 40000),
        "scheme": "http",
        "method": method,
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": headers,
        "state": {},
    }


async def call(app: App, method: str, path: str, body: bytes = b"") -> int:
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope(method, path, body), receive, send)
    return status


def server_like_loop() -> asyncio.AbstractEventLoop:
    """The event loop `alloy-mock serve` runs on: uvloop where it is installed, else asyncio's own."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is not installed on Windows
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


async def run_sequential(app: App, requests: list[tuple[str, str, bytes]]) -> None:
    for method, path, body in requests:
        status = await call(app, method, path, body)
        if status != 200:
            raise RuntimeError(f"{method} {path} answered {status}")


async def run_concurrent(app: App, requests: list[tuple[str, str, bytes]], in_flight: int) -> None:
    for first in range(0, len(requests), in_flight):
        chunk = requests[first : first + in_flight]
        statuses = await asyncio.gather(*(call(app, m, p, b) for m, p, b in chunk))
        if any(status != 200 for status in statuses):
            raise RuntimeError(f"statuses {sorted(set(statuses))}")


def cpu_us(label: str, count: int, work: Callable[[], Any], results: dict[str, float]) -> None:
    cpu, wall = time.process_time(), time.perf_counter()
    work()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    results[label] = round(cpu * 1e6 / count, 1)
    print(f"{label:55s} {cpu * 1e6 / count:8.1f} us CPU/request   ({wall * 1e6 / count:8.1f} us wall)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--profile", choices=["token", "post", "base"])
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    n = args.requests
    loop = server_like_loop()
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="alloy-app-cost-") as folder:
        apps = {
            "journal on": create_app(Settings(db=Path(folder) / "db.json")),
            "journal off": create_app(Settings(db=Path(folder) / "db2.json", journal_size=0)),
        }
        ids_of: dict[str, list[str]] = {}
        for name, app in apps.items():
            em = app.state.emulator
            batch = [{"username": f"seed-{i}"} for i in range(1000)]
            for first in range(0, args.users, 1000):
                for i, item in enumerate(batch):
                    item["username"] = f"seed-{first + i}"
                body = json.dumps({"users": batch}).encode()
                loop.run_until_complete(run_sequential(app, [("POST", "/2023-12/users/batch", body)]))
            ids_of[name] = [user.user_id for user in em.users.list(em.keys.namespaces[0])]
        tokens, tokens_off = (
            [("GET", f"/2023-12/users/{ids[i * 7919 % len(ids)]}/token", b"") for i in range(n)]
            for ids in (ids_of["journal on"], ids_of["journal off"])
        )
        ids = ids_of["journal on"]
        posts = [("POST", "/2023-12/users", json.dumps({"username": f"post-{i}"}).encode()) for i in range(n)]
        posts_off = [("POST", "/2023-12/users", json.dumps({"username": f"post-off-{i}"}).encode()) for i in range(n)]
        base = [("GET", "/json", b"")] * n
        jobs: dict[str, Callable[[], Any]] = {
            "base": lambda: loop.run_until_complete(run_sequential(baseline_app, base)),
            "token": lambda: loop.run_until_complete(run_sequential(apps["journal on"], tokens)),
            "token-off": lambda: loop.run_until_complete(run_sequential(apps["journal off"], tokens_off)),
            "post": lambda: loop.run_until_complete(run_concurrent(apps["journal on"], posts, 64)),
            "post-off": lambda: loop.run_until_complete(run_concurrent(apps["journal off"], posts_off, 64)),
        }
        jobs["token"]()  # warm-up (loads the index) for both apps
        jobs["token-off"]()
        tune_gc_for_serving()  # as the server does once it has loaded its data
        em = apps["journal on"].state.emulator
        namespace = em.keys.namespaces[0]
        print(f"{args.users:,} users, {n:,} requests per line, Python {sys.version.split()[0]}")
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            jobs[args.profile]()
            profiler.disable()
            stats = pstats.Stats(profiler)
            stats.sort_stats("tottime").print_stats(args.top)
            stats.sort_stats("cumulative").print_stats(args.top)
        else:
            cpu_us("bare Starlette GET /json (baseline_app)", n, jobs["base"], results)
            cpu_us("alloy-mock GET token (request journal on, default)", n, jobs["token"], results)
            cpu_us("alloy-mock GET token (--journal-size 0)", n, jobs["token-off"], results)
            cpu_us("alloy-mock POST users, 64 in flight (journal on)", n, jobs["post"], results)
            cpu_us("alloy-mock POST users, 64 in flight (--journal-size 0)", n, jobs["post-off"], results)
            cpu_us(
                "TokenIssuer.issue() alone (OpenSSL signature)",
                n,
                lambda: [em.tokens.issue(namespace, ids[0], "u") for _ in range(n)],
                results,
            )
            cpu_us("Clock.iso_now() alone", n, lambda: [em.clock.iso_now() for _ in range(n)], results)
            if args.json:
                args.json.write_text(json.dumps(results, indent=2) + "\n")
        for app in apps.values():
            app.state.emulator.close()
    loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
