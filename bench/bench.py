"""The alloy-mock benchmark: cost against data size, throughput against the web stack's ceiling.

    python bench/bench.py [--quick] [--duration S] [--connections N] [--repeat K] [--json PATH]

Every server is a subprocess started here on a free port; the load comes from `wrk` (a separate
process, unpinned) driven by Lua scripts generated into a temporary folder. Measured, in one run:

(a) a bare Starlette JSON route on uvicorn with httptools + uvloop, access log off (baseline_app.py);
(b) alloy-mock with SMALL (1,000) and LARGE (100,000) users in the namespace, each on its own
    database seeded through POST /users/batch: GET /2023-12/users/{id}/token (cycling over the
    seeded ids) and POST /2023-12/users (unique usernames, durable; each POST run on a fresh copy of
    the seeded files, so it starts at SMALL or LARGE users): requests/s, p50, p99 from wrk's
    latency histogram. K cycles (default 3) run every measurement in turn; medians are reported;
(c) p50(LARGE)/p50(SMALL) for both endpoints, and their throughput over the baseline's, each taken
    within one cycle (the median over cycles decides: the machine's speed drifts during a run);
(d) start-up time, from process spawn to the first /health 200, on the LARGE database (median of 3);
(e) the time to reset the namespace holding LARGE users: `POST /_mock/reset` on a server started on
    a copy of the files if the server has that route (the target uses it), and `Store.reset()` timed
    in-process on a copy of the files (the target uses it when there is no such route);
(f) the server's resident memory (VmRSS from /proc/PID/status) with LARGE users;
(g) POST /2023-12/users p99 during compaction, in every cycle beside the other POST runs: a server
    on a fresh copy of the LARGE files that compacts continuously (bench/compacting_server.py with a
    1-byte threshold: the next compaction starts as soon as the previous one has ended), so nearly
    every request is served while a snapshot of LARGE+ users is being written and fsynced. A thread
    samples the database folder every 5 ms and reports how often a compaction was in progress (a
    rotated journal, db.json.journal.N, exists from the rotation to the end) and how many started.
    At 64 connections the server is saturated and p99 is mostly time spent queueing (the normal
    POST row's p99 is several times its service time), so the pair is also measured at a light load,
    LIGHT_CONNECTIONS connections, where p99 is service time plus any stall: the p99 target is judged
    there, with the same run without compaction beside it.
(h) the rows for installs and runs (api_rows.py, seeded in-process by seeding.py): GET /workflows?userId=
    and PUT /workflows/deactivate on both namespaces with a workflow installed for every user,
    POST /run/event, and logs, errors and analytics with 1,000 and 1,000,000 stored executions.

Each run is preceded by a short warm-up (POST runs warm up with token requests, which write nothing).
Exit status: 0 when every target passes, 1 when one fails, 2 when the benchmark cannot run.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import api_rows  # bench/api_rows.py, beside this file

HERE = Path(__file__).resolve().parent
DEV_KEY = "alloy-mock-dev-key"
AUTH = {"Authorization": f"Bearer {DEV_KEY}"}
API = "/2023-12"
NAMESPACE = "default.dev"
BATCH = 1000

# Targets (from the issue).
MAX_P50_GROWTH = 1.3
MIN_BASELINE_FRACTION = 0.5
MAX_STARTUP_S = 1.0
MAX_RESET_MS = 10.0
MAX_COMPACTION_P99_MS = 10.0
LIGHT_CONNECTIONS = 4  # (g): a load that leaves the server idle part of the time


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- servers ----------------------------------------------------------------------------------


@dataclass
class Server:
    """A server subprocess that printed "... listening on URL" and answered its readiness probe."""

    name: str
    process: subprocess.Popen[str]
    base_url: str
    stderr_path: Path
    spawn_to_ready_s: float = 0.0

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        return urlsplit(self.base_url).port or 80

    def connection(self, timeout: float = 60) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def processes(self) -> list[int]:
        """The server's pid and its live descendants' (uvicorn workers, alloy-mock's fsync helper)."""
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError):
                    ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                    children.setdefault(ppid, []).append(int(entry.name))
        found, pending = [], [self.process.pid]
        while pending:
            pid = pending.pop()
            found.append(pid)
            pending.extend(children.get(pid, []))
        return found

    def cpu_seconds(self) -> float:
        """User + system CPU time so far of the server and its helper processes (all their threads)."""
        total = 0
        for pid in self.processes():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def rss_kib(self) -> int:
        """VmRSS of the server and its helper processes, summed, from /proc/PID/status."""
        total = 0
        for pid in self.processes():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        if not total:
            raise RuntimeError(f"no VmRSS for pid {self.process.pid}")
        return total

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}: {self.stderr_tail()}")

    def stderr_tail(self) -> str:
        with contextlib.suppress(OSError):
            return self.stderr_path.read_text()[-2000:]
        return ""

    def stop(self) -> int:
        """SIGTERM and wait; returns the exit code."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=30)


def spawn(name: str, argv: list[str], workdir: Path, ready_path: str = "/health") -> Server:
    """Start a server and return once it answers `ready_path` with a 200.

    Readiness comes from the process: it prints its address once its socket listens, and the first
    request then waits in the listen backlog until the server serves it. No sleeping, no polling.
    """
    stderr_path = workdir / f"{name}-{uuid.uuid4().hex[:6]}.stderr"
    started = time.perf_counter()
    with open(stderr_path, "w") as stderr:
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr, text=True)
    assert process.stdout is not None
    first = process.stdout.readline()
    server = Server(name, process, first.rsplit(" ", 1)[-1].strip(), stderr_path)
    if "listening on" not in first:
        process.kill()
        process.wait()
        raise RuntimeError(f"{name} did not start: {first!r} {server.stderr_tail()}")
    # Keep reading the rest of stdout so that the server never blocks on a full pipe.
    threading.Thread(target=process.stdout.read, daemon=True).start()
    status, body = request(server, "GET", ready_path)
    server.spawn_to_ready_s = time.perf_counter() - started
    if status != 200:
        server.stop()
        raise RuntimeError(f"{name}: GET {ready_path} answered {status}: {body[:200]!r}")
    return server


def alloy_mock_argv(db: Path, compact_always: bool = False) -> list[str]:
    launcher = [str(HERE / "compacting_server.py"), "1"] if compact_always else ["-m", "alloy_mock"]
    return [sys.executable, *launcher, "serve", "--port", "0", "--db", str(db)]


def baseline_argv(workers: int = 1, one_write: bool = False) -> list[str]:
    argv = [sys.executable, str(HERE / "baseline_app.py"), "--port", "0", "--workers", str(workers)]
    return [*argv, "--one-write"] if one_write else argv


def request(
    server: Server, method: str, path: str, body: Any = None, conn: http.client.HTTPConnection | None = None
) -> tuple[int, bytes]:
    own = conn is None
    conn = conn or server.connection()
    try:
        payload = None if body is None else json.dumps(body).encode()
        headers = {**AUTH, "Content-Type": "application/json"} if payload is not None else dict(AUTH)
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        if own:
            conn.close()


# -- data -------------------------------------------------------------------------------------


def populate(server: Server, count: int, prefix: str) -> float:
    """Create `count` users through POST /users/batch in chunks of 1,000; returns seconds taken."""
    conn = server.connection(timeout=300)
    started = time.perf_counter()
    try:
        for first in range(0, count, BATCH):
            users = [{"username": f"{prefix}-{i}"} for i in range(first, min(count, first + BATCH))]
            status, body = request(server, "POST", f"{API}/users/batch", {"users": users}, conn)
            if status != 200 or json.loads(body).get("invalidUsers"):
                raise RuntimeError(f"batch at {first} failed: {status} {body[:300]!r}")
    finally:
        conn.close()
    return time.perf_counter() - started


def user_ids(server: Server) -> list[str]:
    status, body = request(server, "GET", f"{API}/users")
    if status != 200:
        raise RuntimeError(f"GET /users answered {status}")
    return [user["userId"] for user in json.loads(body)["data"]]


# -- wrk --------------------------------------------------------------------------------------

LUA_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"status_errors":%d,"timeouts":%d,"min_us":%d,"max_us":%d,"mean_us":%.1f,' ..
    '"p50_us":%d,"p75_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.max, latency.mean, latency:percentile(50), latency:percentile(75),
    latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
"""

LUA_THREAD_IDS = r"""
-- setup() runs in the main state once per thread, before that thread's init(): number the threads.
local created = 0
setup = function(thread)
  created = created + 1
  thread:set("tid", created)
end
"""

LUA_HEADERS = f"""
wrk.headers["Authorization"] = "Bearer {DEV_KEY}"
wrk.headers["Content-Type"] = "application/json"
"""

# The load generator shares the machine's 2 cores with the server, so the requests that differ
# from one another are formatted in init(), before the clock starts: request() only hands one out,
# costing wrk about what the baseline's fixed request does.

# POST with a username no request of any run ever used: run id (argument) + thread id + counter.
LUA_POST_UNIQUE = (
    LUA_THREAD_IDS
    + LUA_HEADERS
    + r"""
wrk.method = "POST"
local PREPARED = 200000
local prepared = {}
local counter = 0
local run = "run"
local function post(n)
  return wrk.format(nil, nil, nil, '{"username":"' .. run .. '-t' .. tid .. '-' .. n .. '"}')
end
init = function(args)
  run = args[1] or run
  for n = 1, PREPARED do
    prepared[n] = post(n)
  end
end
request = function()
  counter = counter + 1
  return prepared[counter] or post(counter)
end
"""
    + LUA_DONE
)

# Each thread cycles over requests prepared in init() by format_line(line, args), one for each line (an id)
# of the file args[1]; threads start apart.
LUA_EACH_ID = r"""
local prepared = {}
local index = 0
init = function(args)
  for line in io.lines(args[1]) do
    prepared[#prepared + 1] = format_line(line, args)
  end
  index = ((tid - 1) * 7919) % #prepared
end
request = function()
  index = index % #prepared + 1
  return prepared[index]
end
"""

# GET a user's token, cycling over the ids in a file (one per line).
LUA_GET_TOKEN = (
    LUA_THREAD_IDS
    + LUA_HEADERS
    + r"""
format_line = function(line, args)
  return wrk.format("GET", "/2023-12/users/" .. line .. "/token")
end
"""
    + LUA_EACH_ID
    + LUA_DONE
)

# A fixed request (the baseline's GET, or its POST with a fixed body).
LUA_PLAIN = LUA_HEADERS + LUA_DONE
LUA_POST_PLAIN = (
    LUA_HEADERS
    + r"""
wrk.method = "POST"
wrk.body = '{"username":"baseline"}'
"""
    + LUA_DONE
)


@dataclass
class Load:
    """What one wrk run measured."""

    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    mean_ms: float
    max_ms: float
    errors: dict[str, int]
    server_cpu_pct: float = 0.0  # CPU time of the server process over the run's wall time
    cpu_us_per_request: float = 0.0  # server CPU time (user + system, all threads) per request

    @classmethod
    def from_wrk(cls, data: dict[str, Any]) -> Load:
        seconds = data["duration_us"] / 1e6
        return cls(
            requests=data["requests"],
            seconds=round(seconds, 3),
            rps=round(data["requests"] / seconds, 1),
            p50_ms=data["p50_us"] / 1000,
            p90_ms=data["p90_us"] / 1000,
            p99_ms=data["p99_us"] / 1000,
            p999_ms=data["p999_us"] / 1000,
            mean_ms=round(data["mean_us"] / 1000, 3),
            max_ms=data["max_us"] / 1000,
            errors={k: data[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")},
        )


@dataclass
class Series:
    """Repeated runs of one measurement; the report uses medians (and shows the spread of req/s)."""

    name: str
    users: str
    runs: list[Load] = field(default_factory=list)

    def _median(self, attribute: str) -> float:
        return float(statistics.median(getattr(run, attribute) for run in self.runs))

    @property
    def rps(self) -> float:
        return self._median("rps")

    @property
    def p50_ms(self) -> float:
        return self._median("p50_ms")

    @property
    def p99_ms(self) -> float:
        return self._median("p99_ms")

    @property
    def p999_ms(self) -> float:
        return self._median("p999_ms")

    @property
    def cpu_us(self) -> float:
        return self._median("cpu_us_per_request")

    @property
    def cpu_pct(self) -> float:
        return self._median("server_cpu_pct")

    @property
    def max_ms(self) -> float:
        return max(run.max_ms for run in self.runs)

    @property
    def errors(self) -> int:
        return sum(sum(run.errors.values()) for run in self.runs)

    def spread(self) -> str:
        values = [run.rps for run in self.runs]
        return f"{min(values):,.0f}-{max(values):,.0f}" if len(values) > 1 else "-"


@dataclass
class Wrk:
    scripts: Path
    connections: int
    threads: int
    duration: float
    warmup: float

    def script(self, name: str, text: str) -> Path:
        path = self.scripts / name
        if not path.exists():
            path.write_text(text)
        return path

    def run(
        self, server: Server, path: str, lua: Path, args: list[str], seconds: float, connections: int | None = None
    ) -> dict[str, Any]:
        command = [
            "wrk",
            "-t",
            str(self.threads),
            "-c",
            str(connections or self.connections),
            "-d",
            f"{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(lua),
            server.base_url + path,
            "--",
            *args,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
        for line in done.stdout.splitlines():
            if line.startswith("WRK_JSON "):
                return json.loads(line[len("WRK_JSON ") :])  # type: ignore[no-any-return]
        raise RuntimeError(f"wrk printed no result: {done.stdout}")

    def measure(
        self,
        label: str,
        server: Server,
        path: str,
        lua: Path,
        args: list[str] | None = None,
        warm: tuple[str, Path, list[str]] | None = None,
        during: contextlib.AbstractContextManager[Any] | None = None,
        connections: int | None = None,
    ) -> Load:
        """A short warm-up run (the same requests, or `warm` = (path, script, args)), then the
        measured run (inside `during`, if given; with `connections` instead of the default). Without
        `args`, each run gets a fresh run id as its argument (unique names)."""

        def run_args(kind: str) -> list[str]:
            if args is not None:
                return args
            return [f"{label.replace(' ', '_')}-{kind}-{uuid.uuid4().hex[:8]}"]

        if self.warmup > 0:
            if warm is None:
                self.run(server, path, lua, run_args("warm"), self.warmup)
            else:
                self.run(server, warm[0], warm[1], warm[2], self.warmup)
            server.check_alive()
        cpu_before = server.cpu_seconds()
        with during or contextlib.nullcontext():
            load = Load.from_wrk(self.run(server, path, lua, run_args("run"), self.duration, connections))
        cpu = server.cpu_seconds() - cpu_before
        server.check_alive()
        load.server_cpu_pct = round(100 * cpu / load.seconds, 1)
        load.cpu_us_per_request = round(cpu * 1e6 / max(1, load.requests), 1)
        bad = {k: v for k, v in load.errors.items() if v}
        log(
            f"{label}: {load.rps:,.0f} req/s  p50 {load.p50_ms:.2f} ms  p99 {load.p99_ms:.2f} ms  "
            f"server CPU {load.server_cpu_pct:.0f}%, {load.cpu_us_per_request:.0f} us/request"
            + (f"  ERRORS {bad}" if bad else "")
        )
        return load


# -- machine ----------------------------------------------------------------------------------


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def machine_info(workdir: Path) -> dict[str, Any]:
    cpu = cpu_model()
    mem_gib = 0.0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_gib = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    versions: dict[str, str] = {}
    from importlib.metadata import PackageNotFoundError, version

    for package in ("alloy-mock", "uvicorn", "starlette", "httptools", "uvloop", "tinydb", "orjson", "PyJWT"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "-"
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()
    # alloy-mock runs its own httptools protocol (one write per response) when httptools is
    # importable, else uvicorn's "auto" (h11); the loop stays on "auto": uvloop when importable.
    alloy_http = "httptools, one write per response" if versions["httptools"] != "-" else "auto->h11"
    auto_loop = "uvloop" if versions["uvloop"] != "-" else "asyncio"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_gib, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "versions": versions,
        "wrk": wrk_version[0].strip() if wrk_version else "?",
        "baseline_uvicorn": "http=httptools loop=uvloop access_log=off, 1 process",
        "alloy_mock_uvicorn": f"http={alloy_http} loop=auto->{auto_loop} access_log=off, 1 process",
        "fsync_ms_median": fsync_cost_ms(workdir),
    }


def fsync_cost_ms(workdir: Path, rounds: int = 50) -> float:
    """Median time of a small append + fsync in the benchmark's folder: the floor of a durable write."""
    path = workdir / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    times = []
    try:
        for _ in range(rounds):
            started = time.perf_counter()
            os.write(fd, b"x" * 128 + b"\n")
            os.fsync(fd)
            times.append(time.perf_counter() - started)
    finally:
        os.close(fd)
        path.unlink()
    return round(statistics.median(times) * 1000, 3)


# -- phases -----------------------------------------------------------------------------------


@dataclass
class Seeded:
    """An alloy-mock server on a database seeded with `count` users, plus a copy of its files."""

    label: str
    count: int
    db: Path
    template: Path  # the db path of a copy taken right after seeding (for POST runs and resets)
    server: Server
    ids: list[str]
    ids_file: Path


@dataclass
class Results:
    machine: dict[str, Any]
    config: dict[str, Any]
    series: dict[str, Series] = field(default_factory=dict)
    users_around_post: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # by series
    compaction: list[dict[str, Any]] = field(default_factory=list)  # what the sampler saw, per run
    populate_s: dict[str, float] = field(default_factory=dict)
    rss_kib: dict[str, int] = field(default_factory=dict)
    startup_s: list[float] = field(default_factory=list)
    first_users_request_ms: list[float] = field(default_factory=list)
    reset: dict[str, Any] = field(default_factory=dict)
    loadavg: list[str] = field(default_factory=list)
    api: dict[str, Any] = field(default_factory=dict)  # api_rows.py's other measures
    targets: list[dict[str, Any]] = field(default_factory=list)

    def add(self, key: str, users: str, load: Load) -> None:
        self.series.setdefault(key, Series(key, users)).runs.append(load)


def loadavg() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "?"


def count_users(server: Server) -> int:
    return len(user_ids(server))


def copy_db(source: Path, folder: Path) -> Path:
    """Copy the database files of `source` (not its lock) into a new `folder`; returns the copy's path.

    The copies are flushed to disk here: a server's own files were fsynced as they were written, and
    a fresh copy's dirty pages would otherwise be written by the first fsync of the run measured on
    it (a reset's, for instance, then timing the copy of a 100,000-user database, not the reset).
    """
    folder.mkdir(parents=True)
    for path in source.parent.glob(f"{source.name}*"):
        if path.is_file() and not path.name.endswith(".lock"):
            shutil.copy(path, folder / path.name)
            with open(folder / path.name, "rb") as copied:
                os.fsync(copied.fileno())
    return folder / source.name


def seed(wrk: Wrk, workdir: Path, results: Results, label: str, count: int) -> Seeded:
    folder = workdir / label
    folder.mkdir()
    db = folder / "db.json"
    server = spawn(f"alloy-{label}", alloy_mock_argv(db), workdir)
    try:
        log(f"{label}: populating {count:,} users through /users/batch")
        results.populate_s[label] = round(populate(server, count, f"seed-{label}"), 3)
        ids = user_ids(server)
        if len(ids) != count:
            raise RuntimeError(f"{label}: expected {count} users, the server lists {len(ids)}")
        random.Random(7).shuffle(ids)
        ids_file = wrk.scripts / f"ids-{label}.txt"
        ids_file.write_text("\n".join(ids) + "\n")
        # Every write was acknowledged, so durable: the files are complete and idle.
        template = copy_db(db, workdir / f"{label}-template")
    except BaseException:
        server.stop()
        raise
    return Seeded(label, count, db, template, server, ids, ids_file)


def measure_get_token(wrk: Wrk, results: Results, data: Seeded) -> None:
    lua = wrk.script("get_token.lua", LUA_GET_TOKEN)
    load = wrk.measure(f"{data.label} GET token", data.server, f"{API}/users", lua, [str(data.ids_file)])
    results.add(f"{data.label} GET token", f"{data.count:,}", load)


def measure_post_users(
    wrk: Wrk,
    workdir: Path,
    results: Results,
    data: Seeded,
    cycle: int,
    last: bool,
    compacting: bool = False,
    connections: int | None = None,
) -> None:
    """POST runs start from the seeded state: a server on a fresh copy of the seeded files, warmed up
    with token requests (which write nothing), so the namespace holds `count` users when it starts.
    `compacting`: the server compacts continuously (g), and a sampler watches its files; `connections`:
    the load's, instead of the default (g's light load)."""
    key = post_key(data.label, compacting, connections)
    db = copy_db(data.template, workdir / f"{key.replace(' ', '-').replace(',', '')}-{cycle}")
    server = spawn(f"alloy-{data.label}-post", alloy_mock_argv(db, compacting), workdir)
    try:
        warm = (f"{API}/users", wrk.script("get_token.lua", LUA_GET_TOKEN), [str(data.ids_file)])
        lua = wrk.script("post_unique.lua", LUA_POST_UNIQUE)
        sampler = CompactionSampler(db)
        during = sampler if compacting else None
        load = wrk.measure(key, server, f"{API}/users", lua, warm=warm, during=during, connections=connections)
        after = count_users(server)
        results.add(key, f"{data.count:,}", load)
        results.users_around_post.setdefault(key, []).append((data.count, after))
        if compacting:
            results.compaction.append(sampler.summary())
            log(f"{key}: {sampler.summary()}")
        if last and not compacting and connections is None:
            results.rss_kib[f"alloy-mock {data.label} after a POST run ({after:,} users)"] = server.rss_kib()
    finally:
        server.stop()
        shutil.rmtree(db.parent, ignore_errors=True)


def post_key(label: str, compacting: bool = False, connections: int | None = None) -> str:
    """The series name of a POST /users run: "100k POST users during compaction, 4 connections"."""
    return (
        f"{label} POST users"
        + (" during compaction" if compacting else "")
        + (f", {connections} connections" if connections else "")
    )


class CompactionSampler:
    """Samples a database's folder every 5 ms while a run goes on: is a compaction in progress (a
    rotated journal db.json.journal.N exists from the journal's rotation until the snapshot that
    covers it is in place), and how many compactions started (such a file appeared). Samples count
    from the first compaction on (before it, wrk prepares its requests and nothing is written)."""

    def __init__(self, db: Path) -> None:
        self._folder = db.parent
        self._prefix = db.name + ".journal."
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.samples = 0
        self.in_progress = 0
        self.started = 0

    def __enter__(self) -> CompactionSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        seen: set[str] = set()
        while not self._stop.wait(0.005):  # a sampling period, not a wait for anything
            rotated = {name for name in os.listdir(self._folder) if name.startswith(self._prefix)}
            self.samples += bool(rotated or self.started)
            self.in_progress += bool(rotated)
            self.started += len(rotated - seen)
            seen = rotated

    def summary(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "in_progress_fraction": round(self.in_progress / max(1, self.samples), 3),
            "compactions_started": self.started,
        }


def measure_startup(workdir: Path, data: Seeded, results: Results, repeats: int = 3) -> None:
    for attempt in range(repeats):
        server = spawn(f"startup-{attempt}", alloy_mock_argv(data.db), workdir)
        results.startup_s.append(round(server.spawn_to_ready_s, 4))
        # /health does not touch the users; the first users request may pay for lazy loading.
        started = time.perf_counter()
        status, _ = request(server, "GET", f"{API}/users/{data.ids[attempt]}/token")
        results.first_users_request_ms.append(round((time.perf_counter() - started) * 1000, 2))
        if status != 200:
            raise RuntimeError(f"first token request after start answered {status}")
        server.stop()
    log(f"start-up to /health 200: {results.startup_s} s; first users request {results.first_users_request_ms} ms")


def reset_in_process(workdir: Path, data: Seeded, repeats: int = 3) -> dict[str, Any]:
    """Time Store.reset() on a store loaded from a copy of the seeded files."""
    from alloy_mock.domain.users import COLLECTION, INDEXES
    from alloy_mock.store import Store

    reset_ms: list[float] = []
    with_flush_ms: list[float] = []
    held = 0
    for attempt in range(repeats):
        copy = copy_db(data.template, workdir / f"reset-copy-{attempt}")
        store = Store(copy, indexes={COLLECTION: INDEXES})
        try:
            held = len(store.collection(NAMESPACE, COLLECTION))  # built, as in a server that served users
            started = time.perf_counter()
            store.reset(NAMESPACE)
            reset_done = time.perf_counter()
            store.flush()
            flushed = time.perf_counter()
            if len(store.collection(NAMESPACE, COLLECTION)) != 0:
                raise RuntimeError("Store.reset() left users behind")
        finally:
            store.close()
        reset_ms.append((reset_done - started) * 1000)
        with_flush_ms.append((flushed - started) * 1000)
        shutil.rmtree(copy.parent)
    result = {
        "method": "Store.reset() in-process",
        "users": held,
        "reset_ms": round(statistics.median(reset_ms), 3),
        "reset_plus_fsync_ms": round(statistics.median(with_flush_ms), 3),
        "all_reset_ms": [round(x, 3) for x in reset_ms],
    }
    log(f"in-process Store.reset() of {held:,} users: {result['reset_ms']} ms (+fsync {result['reset_plus_fsync_ms']})")
    return result


def reset_over_http(workdir: Path, data: Seeded, repeats: int = 3) -> dict[str, Any]:
    """Time POST /_mock/reset on a server started on a copy of the seeded files, if it has that route.

    Before the reset, one token request makes the server load the users as serving them would.
    A 404 "No route" or a 405 means this alloy-mock has no reset route.
    """
    times: list[float] = []
    for attempt in range(repeats):
        copy = copy_db(data.template, workdir / f"reset-http-{attempt}")
        server = spawn(f"reset-{attempt}", alloy_mock_argv(copy), workdir)
        try:
            status, _ = request(server, "GET", f"{API}/users/{data.ids[0]}/token")
            if status != 200:
                raise RuntimeError(f"token request before the reset answered {status}")
            conn = server.connection()
            conn.connect()  # time the request, not the TCP handshake
            started = time.perf_counter()
            status, body = request(server, "POST", "/_mock/reset", {"namespace": NAMESPACE}, conn)
            elapsed_ms = (time.perf_counter() - started) * 1000
            conn.close()
            if status in (404, 405) and (status == 405 or b"No route" in body):
                log("the server has no POST /_mock/reset; the in-process Store.reset() time is used")
                return {"available": False}
            if status != 200:
                raise RuntimeError(f"POST /_mock/reset answered {status}: {body[:300]!r}")
            left = count_users(server)
            if left != 0:
                raise RuntimeError(f"POST /_mock/reset left {left} users")
            times.append(elapsed_ms)
        finally:
            server.stop()
            shutil.rmtree(copy.parent)
    result = {
        "available": True,
        "method": "POST /_mock/reset",
        "users": data.count,
        "reset_ms": round(statistics.median(times), 3),
        "all_reset_ms": [round(x, 3) for x in times],
    }
    log(f"POST /_mock/reset of {data.count:,} users: {result['all_reset_ms']} ms")
    return result


def run_benchmark(wrk: Wrk, workdir: Path, results: Results, small: int, large: int, repeat: int) -> None:
    """Seed both sizes, then `repeat` cycles of every load measurement, interleaved so that drift
    and noise from elsewhere on the machine spread evenly over the rows; then start-up and reset."""
    running: list[Server] = []
    try:
        baseline = spawn("baseline", baseline_argv(), workdir, ready_path="/json")
        running.append(baseline)
        # For information: the same route on two uvicorn worker processes, which can use both cores
        # (the targets compare with one process, the configuration the issue measured).
        baseline_2 = spawn("baseline-2w", baseline_argv(workers=2), workdir, ready_path="/json")
        running.append(baseline_2)
        # Also for information: the same route on alloy-mock's own protocol, which sends each response
        # in one write where stock uvicorn sends the headers and the body apart (http/protocol.py).
        baseline_1w = spawn("baseline-1w", baseline_argv(one_write=True), workdir, ready_path="/json")
        running.append(baseline_1w)
        sets = [seed(wrk, workdir, results, label_of(count), count) for count in (small, large)]
        running.extend(data.server for data in sets)
        rows = api_rows.start(wrk, workdir, results, sets, quick=results.config["quick"])
        running.extend(rows.servers)
        get_plain = wrk.script("plain.lua", LUA_PLAIN)
        post_plain = wrk.script("post_plain.lua", LUA_POST_PLAIN)
        results.loadavg.append(loadavg())
        for cycle in range(repeat):
            log(f"cycle {cycle + 1}/{repeat} (load average {loadavg()})")
            results.add("baseline GET /json", "-", wrk.measure("baseline GET /json", baseline, "/json", get_plain, []))
            results.add(
                "baseline GET /json 2 workers",
                "-",
                wrk.measure("baseline GET /json 2 workers", baseline_2, "/json", get_plain, []),
            )
            results.add(
                "baseline GET /json one write",
                "-",
                wrk.measure("baseline GET /json one write", baseline_1w, "/json", get_plain, []),
            )
            results.add(
                "baseline POST /json", "-", wrk.measure("baseline POST /json", baseline, "/json", post_plain, [])
            )
            for data in sets:
                measure_get_token(wrk, results, data)
            for data in sets:
                measure_post_users(wrk, workdir, results, data, cycle, last=cycle == repeat - 1)
            for connections in (None, LIGHT_CONNECTIONS):
                if connections:
                    measure_post_users(wrk, workdir, results, sets[-1], cycle, False, False, connections)
                measure_post_users(wrk, workdir, results, sets[-1], cycle, False, True, connections)
            api_rows.measure_cycle(wrk, workdir, results, rows, cycle)
            results.loadavg.append(loadavg())
        api_rows.finish(results, rows)
        results.rss_kib["baseline"] = baseline.rss_kib()
        for data in sets:
            results.rss_kib[f"alloy-mock {data.label} ({data.count:,} users, after token runs)"] = data.server.rss_kib()
        for server in running:
            code = server.stop()
            if code != 0:
                raise RuntimeError(f"{server.name}: graceful stop exited {code}: {server.stderr_tail()}")
        running = []
        large_set = sets[-1]
        measure_startup(workdir, large_set, results)
        results.reset["in_process"] = reset_in_process(workdir, large_set)
        results.reset["http"] = reset_over_http(workdir, large_set)
    finally:
        for server in running:
            server.stop()


# -- report -----------------------------------------------------------------------------------


def judge(results: Results, small: str, large: str) -> None:
    targets = results.targets
    series = results.series
    base = series["baseline GET /json"].rps

    def add(name: str, value: float, limit: float, better: str, unit: str, detail: str = "") -> None:
        passed = value <= limit if better == "lower" else value >= limit
        sign = "<=" if better == "lower" else ">="
        targets.append(
            {
                "target": name,
                "value": round(value, 4),
                "limit": f"{sign} {limit}{unit}",
                "pass": passed,
                "detail": detail,
            }
        )

    # Each target is judged cycle by cycle, on measurements taken a minute apart, and the median of
    # the per-cycle values decides: on a shared VM the machine's speed drifts during a run (the
    # baseline's CPU per request is shown per cycle), and a ratio of medians taken from different
    # cycles would mix fast and slow moments.
    for endpoint in ("POST users", "GET token"):
        big, little = series[f"{large} {endpoint}"], series[f"{small} {endpoint}"]
        per_cycle = [b.p50_ms / s.p50_ms for b, s in zip(big.runs, little.runs, strict=True)]
        add(
            f"p50 {endpoint} {large}/{small}",
            statistics.median(per_cycle),
            MAX_P50_GROWTH,
            "lower",
            "x",
            f"median of per-cycle ratios {_listed(per_cycle)}; medians {big.p50_ms:.2f} ms vs {little.p50_ms:.2f} ms",
        )
    baseline = series["baseline GET /json"]
    for endpoint in ("GET token", "POST users"):
        sizes = [series[f"{label} {endpoint}"] for label in (small, large)]
        per_cycle = [min(size.runs[cycle].rps for size in sizes) / run.rps for cycle, run in enumerate(baseline.runs)]
        worst = min(size.rps for size in sizes)
        add(
            f"{endpoint} req/s / baseline GET /json",
            statistics.median(per_cycle),
            MIN_BASELINE_FRACTION,
            "higher",
            "",
            f"median of per-cycle ratios {_listed(per_cycle)} (worse of {small} and {large}); "
            f"ratio of medians {worst / base:.2f}: {worst:,.0f} vs {base:,.0f} req/s",
        )
    compacting = series[post_key(large, True, LIGHT_CONNECTIONS)]
    normal = series[post_key(large, False, LIGHT_CONNECTIONS)]
    p99s = [run.p99_ms for run in compacting.runs]
    add(
        f"POST users p99 during compaction ({large} users, {LIGHT_CONNECTIONS} connections)",
        statistics.median(p99s),
        MAX_COMPACTION_P99_MS,
        "lower",
        " ms",
        f"median of per-cycle p99 {_listed(p99s)}; without compaction, same cycles: "
        f"{_listed([run.p99_ms for run in normal.runs])}",
    )
    add(
        f"start-up to /health 200 ({large} users)",
        statistics.median(results.startup_s),
        MAX_STARTUP_S,
        "lower",
        " s",
        f"median of {results.startup_s}",
    )
    http_reset = results.reset.get("http", {})
    chosen = http_reset if http_reset.get("available") else results.reset["in_process"]
    add(
        f"reset namespace ({chosen['users']:,} users)",
        chosen["reset_ms"],
        MAX_RESET_MS,
        "lower",
        " ms",
        f"{chosen['method']}, median of {chosen['all_reset_ms']}",
    )
    api_rows.judge(results, add, small, large)


def _listed(values: list[float]) -> str:
    return "[" + ", ".join(f"{value:.2f}" for value in values) + "]"


def fmt_rows(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + " |")
        if n == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def report(results: Results, small: str, large: str) -> str:
    m = results.machine
    c = results.config
    out = [
        f"alloy-mock benchmark, {time.strftime('%Y-%m-%d %H:%M %Z')}",
        f"machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Linux {m['kernel']}, "
        f"Python {m['python']}, {m['wrk']}",
        "versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        f"baseline uvicorn: {m['baseline_uvicorn']}; alloy-mock uvicorn: {m['alloy_mock_uvicorn']}",
        f"fsync (128 B append) median: {m['fsync_ms_median']} ms; load average before/after cycles: "
        + ", ".join(results.loadavg),
        "machine speed per cycle (the baseline's CPU us/request; steady machine: equal values): "
        + ", ".join(f"{run.cpu_us_per_request:.0f}" for run in results.series["baseline GET /json"].runs),
        f"load: wrk -t{c['threads']} -c{c['connections']}, {c['warmup']} s warm-up + {c['duration']} s per run, "
        f"{c['repeat']} interleaved cycles (medians shown); server and wrk unpinned on the same machine",
        "",
    ]
    rows = [
        [
            "server / endpoint",
            "users",
            "req/s",
            "req/s range",
            "p50 ms",
            "p99 ms",
            "p99.9 ms",
            "max ms",
            "vs base",
            "CPU us/req",
            "CPU %",
            "err",
        ]
    ]
    base = results.series["baseline GET /json"].rps
    for key, series in results.series.items():
        users = series.users
        around = results.users_around_post.get(key)
        if around:
            users = f"{around[0][0]:,}->{max(after for _, after in around):,}"
        rows.append(
            [
                key if key.startswith("baseline") else f"alloy-mock {key.split(' ', 1)[1]}",
                users,
                f"{series.rps:,.0f}",
                series.spread(),
                f"{series.p50_ms:.2f}",
                f"{series.p99_ms:.2f}",
                f"{series.p999_ms:.2f}",
                f"{series.max_ms:.1f}",
                f"{series.rps / base:.2f}",
                f"{series.cpu_us:.0f}",
                f"{series.cpu_pct:.0f}",
                str(series.errors),
            ]
        )
    out.append(fmt_rows(rows))
    out.append("")
    other = [["measure", "value"]]
    for label, seconds in results.populate_s.items():
        other.append([f"populate {label} users (batches of {BATCH})", f"{seconds:.2f} s"])
    other.append([f"start-up, spawn to /health 200 ({large} users)", f"{results.startup_s} s"])
    other.append(["first users request after start-up", f"{results.first_users_request_ms} ms"])
    ip = results.reset["in_process"]
    other.append(
        [
            f"Store.reset() in-process ({ip['users']:,} users)",
            f"{ip['reset_ms']} ms (with fsync {ip['reset_plus_fsync_ms']} ms; runs {ip['all_reset_ms']})",
        ]
    )
    http_reset = results.reset.get("http", {})
    other.append(
        [
            "POST /_mock/reset",
            f"{http_reset['reset_ms']} ms ({http_reset['users']:,} users; runs {http_reset['all_reset_ms']})"
            if http_reset.get("available")
            else "not served by this alloy-mock (in-process time used)",
        ]
    )
    other.extend(api_rows.report_rows(results))
    for name, kib in results.rss_kib.items():
        other.append([f"RSS {name}", f"{kib / 1024:.1f} MiB"])
    out.append(fmt_rows(other))
    out.append("")
    for target in results.targets:
        verdict = "PASS" if target["pass"] else "FAIL"
        detail = f"  ({target['detail']})" if target["detail"] else ""
        out.append(f"{verdict}  {target['target']}: {target['value']} (target {target['limit']}){detail}")
    rss = next((kib for name, kib in results.rss_kib.items() if name.startswith(f"alloy-mock {large} (")), None)
    if rss is not None:
        out.append(f"INFO  RSS with {large} users: {rss / 1024:.1f} MiB (reported, no target)")
    if results.compaction:
        fractions = [run["in_progress_fraction"] for run in results.compaction]
        started = [run["compactions_started"] for run in results.compaction]
        out.append(
            f"INFO  POST users during compaction: a compaction was in progress in {_listed(fractions)} of the "
            f"5 ms samples of each run; compactions started per run: {started}"
        )
        saturated = [results.series[post_key(large, compacting)] for compacting in (False, True)]
        out.append(
            f"INFO  POST users p99 at {results.config['connections']} connections ({large} users, saturated: "
            f"mostly queueing): {saturated[0].p99_ms:.2f} ms without compaction, {saturated[1].p99_ms:.2f} ms during"
        )
    worst = {
        endpoint: min(results.series[f"{label} {endpoint}"].rps for label in (small, large))
        for endpoint in ("GET token", "POST users")
    }
    for name, what in (("2 workers", "the 2-worker baseline"), ("one write", "the baseline on alloy-mock's protocol")):
        other = results.series.get(f"baseline GET /json {name}")
        if other is not None:
            out.append(
                f"INFO  against {what} ({other.rps:,.0f} req/s, no target): "
                + ", ".join(f"{endpoint} {rps / other.rps:.2f}" for endpoint, rps in worst.items())
            )
    return "\n".join(out)


def label_of(count: int) -> str:
    return f"{count // 1000}k" if count % 1000 == 0 else str(count)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: 10k users, 3 s runs, 1 s warm-up, 1 cycle")
    parser.add_argument("--duration", type=float, help="seconds per measured run (default 6; quick 3)")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up before each run (default 1.5; quick 1)")
    parser.add_argument("--repeat", type=int, help="interleaved measurement cycles, medians reported (default 5)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--small", type=int, default=1000, help="users in the small namespace (default 1,000)")
    parser.add_argument("--large", type=int, help="users in the large namespace (default 100,000; quick 10,000)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (databases, scripts, logs)")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print(
            "bench: `wrk` is not installed. Install it (Debian/Ubuntu: `apt-get install -y wrk`; "
            "macOS: `brew install wrk`) and run again.",
            file=sys.stderr,
        )
        return 2
    duration = args.duration or (3.0 if args.quick else 6.0)
    warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 1.5)
    repeat = args.repeat or (1 if args.quick else 5)
    large_count = args.large or (10_000 if args.quick else 100_000)
    small, large = label_of(args.small), label_of(large_count)
    if args.connections < args.threads:
        parser.error("--connections must be at least --threads")
    if small == large:
        parser.error("--small and --large must differ")

    with temporary_folder(args.keep) as workdir:
        scripts = workdir / "lua"
        scripts.mkdir()
        wrk = Wrk(scripts, args.connections, args.threads, duration, warmup)
        results = Results(
            machine=machine_info(workdir),
            config={
                "duration": duration,
                "warmup": warmup,
                "repeat": repeat,
                "connections": args.connections,
                "threads": args.threads,
                "small_users": args.small,
                "large_users": large_count,
                "quick": args.quick,
            },
        )
        try:
            run_benchmark(wrk, workdir, results, args.small, large_count, repeat)
        except RuntimeError as exc:
            print(f"bench: error: {exc}", file=sys.stderr)
            return 2
        judge(results, small, large)
        text = report(results, small, large)
        print(text)
        if args.json:
            args.json.write_text(json.dumps(to_json(results, text), indent=2) + "\n")
    return 0 if all(t["pass"] for t in results.targets) else 1


def to_json(results: Results, text: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(results, default=lambda o: o.__dict__))
    data["medians"] = {
        key: {
            "users": s.users,
            "rps": s.rps,
            "p50_ms": s.p50_ms,
            "p99_ms": s.p99_ms,
            "p999_ms": s.p999_ms,
            "cpu_us_per_request": s.cpu_us,
        }
        for key, s in results.series.items()
    }
    data["date"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    data["table"] = text
    return data


@contextlib.contextmanager
def temporary_folder(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="alloy-bench-"))
    try:
        yield path
    finally:
        if keep:
            log(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    # Run as the module `bench`, which api_rows.py imports, so that both use one copy of its classes.
    import bench

    sys.exit(bench.main())
