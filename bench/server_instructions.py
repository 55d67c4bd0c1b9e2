"""Instructions per request of the whole server process, over TCP, counted by valgrind.

    apt-get install -y valgrind
    python bench/server_instructions.py [--cases base,run-event] [--requests 3000] [--connections 64]

bench/instructions.py counts the ASGI app alone; this counts what bench.py's throughput rows pay for:
`alloy-mock serve` (or baseline_app.py) as it runs, uvicorn's protocol, uvloop and the socket calls
included. The server starts under `valgrind --tool=callgrind` with counting off; after a warm-up,
`callgrind_control --instr=on` starts it, a client in this process (not counted) sends REQUESTS requests
on CONNECTIONS keep-alive connections, and `callgrind_control --dump` writes the count. Counted: the
server process with all its threads, not its helper processes (valgrind does not follow children):
alloy-mock's fsync helper runs the fsyncs. The run/event case seeds 1,000 users with the workflow
installed in-process first, as instructions.py does, so valgrind only runs the serving.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import api_rows  # noqa: F401  bench/api_rows.py: imported before bench.py, which it imports
from instructions import chosen_cases, install_sync_workflow  # bench/instructions.py, beside this file

from alloy_mock.app import create_app
from alloy_mock.config import Settings
from bench import copy_db  # bench/bench.py, beside this file

HERE = Path(__file__).resolve().parent
AUTH = "Bearer alloy-mock-dev-key"
CASES = {
    "base": "bare Starlette GET /json (baseline_app.py)",
    "run-event": "POST /run/event, one matching workflow, durable",
    "get": "GET /users/{id}",
}


def seed(db: Path, users: int = 1000) -> list[str]:
    """`users` users with the Shopify sync workflow installed, written to `db`; their ids."""
    app = create_app(Settings(db=db))
    em = app.emulator
    ids = [em.users.create(em.keys.namespaces[0], f"seed-{i}", None).user_id for i in range(users)]
    install_sync_workflow(em, ids)
    em.close()
    return ids


def requests_for(case: str, ids: list[str], count: int) -> list[bytes]:
    """The raw HTTP/1.1 requests of `case`, as wrk sends them (keep-alive, one header block)."""
    if case == "base":
        return [b"GET /json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"] * count
    out = []
    for i in range(count):
        user = ids[i % len(ids)]
        if case == "get":
            head = f"GET /2023-12/users/{user} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {AUTH}\r\n\r\n"
            out.append(head.encode())
            continue
        body = json.dumps({"event": "Customer Created", "userId": user, "data": {"name": "Ada L", "id": 7}})
        head = (
            f"POST /2023-12/run/event HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {AUTH}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        out.append((head + body).encode())
    return out


async def send_all(port: int, requests: list[bytes], connections: int) -> None:
    """Send `requests` over `connections` keep-alive connections, one in flight on each; each answer must be 200."""
    pending = list(reversed(requests))

    async def one_connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while pending:
                writer.write(pending.pop())
                head = await reader.readuntil(b"\r\n\r\n")
                if not head.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(f"not a 200: {head[:200]!r}")
                length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
                if length is None:
                    raise RuntimeError(f"no Content-Length: {head[:300]!r}")
                await reader.readexactly(int(length.group(1)))
        finally:
            writer.close()

    await asyncio.gather(*(one_connection() for _ in range(connections)))


def count(case: str, argv: list[str], requests: list[bytes], warmup: int, connections: int, folder: Path) -> int:
    """Instructions the server spent on `requests`, after `warmup` requests of the same kind."""
    out = folder / f"callgrind-{case}.out"
    process = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PYTHONHASHSEED": "0", "PATH": "/usr/bin:/bin"},
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        first = process.stdout.readline()
        if "listening on" not in first:
            raise RuntimeError(f"{case}: the server did not start: {first!r} {process.stderr.read()[-2000:]}")
        threading.Thread(target=process.stdout.read, daemon=True).start()
        threading.Thread(target=process.stderr.read, daemon=True).start()
        port = int(first.rsplit(":", 1)[1].strip().rstrip("/"))
        asyncio.run(send_all(port, requests[:warmup], connections))
        control(process.pid, "--instr=on")
        asyncio.run(send_all(port, requests[warmup:], connections))
        control(process.pid, "--dump")
    finally:
        process.terminate()
        process.wait(timeout=120)
    dumps = sorted(folder.glob(f"callgrind-{case}.out.*"), key=lambda p: int(p.name.rsplit(".", 1)[1]))
    totals = re.search(r"^(?:summary|totals): (\d+)", dumps[0].read_text(), re.MULTILINE)
    if totals is None:
        raise RuntimeError(f"{case}: no totals in {dumps[0]}")
    return int(totals.group(1))


def control(pid: int, action: str) -> None:
    subprocess.run(["callgrind_control", action, str(pid)], check=True, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default="base,run-event", help="comma-separated, of: " + ", ".join(CASES))
    parser.add_argument("--requests", type=int, default=3000, help="counted requests per case (default 3000)")
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("server_instructions: valgrind is not installed (apt-get install -y valgrind)", file=sys.stderr)
        return 2
    cases = chosen_cases(parser, args.cases, CASES)
    print(f"server instructions per request ({args.requests} requests, {args.connections} connections)")
    results = {}
    with tempfile.TemporaryDirectory(prefix="alloy-server-instructions-") as name:
        folder = Path(name)
        ids: list[str] = []
        if any(case != "base" for case in cases):
            ids = seed(folder / "seed.json")
        for case in cases:
            total = args.warmup + args.requests
            if case == "base":
                argv = [sys.executable, str(HERE / "baseline_app.py"), "--port", "0"]
            else:
                db = copy_db(folder / "seed.json", folder / case)
                argv = [sys.executable, "-m", "alloy_mock", "serve", "--port", "0", "--db", str(db)]
            counted = count(case, argv, requests_for(case, ids, total), args.warmup, args.connections, folder)
            results[case] = counted / args.requests
            print(f"  {CASES[case]:50s} {results[case]:>10,.0f}", flush=True)
    if "base" in results and len(results) > 1:
        for case, value in results.items():
            if case != "base":
                print(f"  base / {case}: {results['base'] / value:.3f} (instructions, not time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
