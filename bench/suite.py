"""What alloy-mock costs a test suite, against a static stub (`responses`, `respx`) and an empty test.

    pip install -r bench/requirements.txt      # responses, respx (the baselines), requests, httpx
    python bench/suite.py [--rounds 5] [--tests 100] [--calls 20] [--quick] [--json PATH]

The script writes test files into a temporary folder and runs each in a fresh pytest process, every
file once per round, in an order that rotates from round to round (so that no kind always runs first
on a machine whose speed drifts). Every figure is a median over the tests of one process; the tables
show the median over the rounds with the range, and each ratio is taken within a round (a file against
its baseline measured minutes apart at most), then the median of those ratios is shown.

- per call: a test makes `--calls` calls in a loop, timed by the clock (its setup is not counted):
  GET /2023-12/users/{id} and POST /2023-12/users (a write; the fixtures' store is in memory, nothing is
  fsynced) through requests.Session,
  httpx.Client and httpx.AsyncClient, against a responses/respx stub answering the same bytes, against
  `alloy_mock_intercept` (in-process) and against `alloy_mock` (the background server, real HTTP);
  and paired: stub and in-process batches alternating within each test of one process, so that both are
  measured seconds apart, and the ratio per test (robust on a machine whose speed drifts);
- per test: the whole of pytest's protocol for one test (setup, call, teardown, report) that only takes
  a fixture, over the same for a test that takes nothing; and the setup alone (the reset) after tests
  that created nothing, after tests that each left `--dirty-users` users behind, and after tests that
  created as many and reset the emulator themselves (the same work, nothing left to drop: the caches a
  busy test leaves cold slow the next setup whatever it does);
- session start: the first test's setup (the emulator's imports and start), in one process and in each
  worker under `pytest -n 2` and `-n auto`;
- helpers: create_user, token, install, fail_runs and reset against the raw request a test would make
  instead (requests.Session), in both modes.

The clock is the wall clock (perf_counter), or with `--clock cpu` the CPU time of the pytest process,
all its threads (process_time): on a loaded, shared machine the wall clock counts other processes'
turns on the CPU, the CPU time does not (their cache and memory traffic still slow it somewhat).

The package's modules are byte-compiled first (`compileall`), as pip does on install: under
PYTHONDONTWRITEBYTECODE an editable install would otherwise be compiled anew in every process.
Exit status: 0 when every target is met, 1 when one is missed, 2 when the benchmark cannot run.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

# bench/bench.py (this script runs from the same folder). api_rows first: it imports bench and uses its
# module-level names, so bench must finish importing inside that import, not the other way round.
import api_rows  # noqa: F401

import bench

# Targets (issue 13).
MAX_CALL_RATIO = 1.0  # in-process call / the stubbed call of the same shape
MAX_TEST_OVERHEAD_MS = 0.5  # a test taking a fixture, over an empty test (reset included)
MAX_SESSION_START_S = 0.3  # the first test's setup, also per xdist worker
MAX_HELPER_RATIO = 1.2  # a helper / the raw request it stands for

USER_ID = "6b0a6d4c920ea31af75001c9"
USER_BODY = b'{"userId":"6b0a6d4c920ea31af75001c9","username":"alice@example.com","fullName":"Alice"}'
CREATED_BODY = b'{"userId":"6b0a6d4c920ea31af75001ca"}'
CLIENTS = ("requests", "httpx", "httpx-async")
METHODS = ("GET", "POST")
MODES = ("stub", "intercept", "http")
FIXTURE = {"intercept": "alloy_mock_intercept", "http": "alloy_mock"}
STUB_NAME = {"requests": "responses", "httpx": "respx", "httpx-async": "respx"}

# -- the generated test files ----------------------------------------------------------------------

CONFTEST = """
import json, os
import pytest

from suite_support import CLOCK, values

_items = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    entry = {"name": item.name}
    item.stash[KEY] = entry
    start = CLOCK()
    try:
        return (yield)
    finally:
        entry["protocol"] = CLOCK() - start
        _items.append(entry)


def _phase(item, name):
    start = CLOCK()
    try:
        return (yield)
    finally:
        item.stash[KEY][name] = CLOCK() - start


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    return (yield from _phase(item, "setup"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    return (yield from _phase(item, "call"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    return (yield from _phase(item, "teardown"))


def pytest_sessionfinish(session):
    if not _items:
        return  # an xdist controller: its workers write their own
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    path = f"{os.environ['SUITE_RESULTS']}.{worker}.json"
    with open(path, "w") as out:
        json.dump({"items": _items, "values": values}, out)


KEY = pytest.StashKey()
"""

SUPPORT = f'''
import asyncio, os, time

# --clock cpu: the CPU time of the whole pytest process (all its threads: the background server's too),
# which other processes on a loaded machine do not inflate as they do the wall clock.
CLOCK = time.process_time if os.environ.get("SUITE_CLOCK") == "cpu" else time.perf_counter

USER_ID = "{USER_ID}"
USER_BODY = {USER_BODY!r}
CREATED_BODY = {CREATED_BODY!r}
STUB_ROOT = "https://embedded.runalloy.com/2023-12"
KEY = {{"Authorization": "Bearer alloy-mock-dev-key"}}
values = []  # (label, seconds per call), written out by conftest.py


def record(label, seconds):
    values.append((label, seconds))


def seed_alice(alloy):
    user = {{"username": "alice@example.com", "fullName": "Alice", "userId": USER_ID}}
    alloy.control("POST", "seed", {{"users": [user]}})


def timed(call, calls):
    call(-1)  # not timed: a first call may open a connection
    start = CLOCK()
    for k in range(calls):
        call(k)
    return (CLOCK() - start) / calls


def timed_async(make_client, call, calls):
    async def main():
        async with make_client() as client:
            await call(client, -1)
            start = CLOCK()
            for k in range(calls):
                await call(client, k)
            return (CLOCK() - start) / calls

    return asyncio.run(main())
'''


def calls_file(client: str, method: str, mode: str, tests: int, calls: int) -> str:
    """One test file: `tests` tests, each timing `calls` calls of one shape in one mode."""
    lines = [
        "import httpx, pytest, requests, respx, responses",
        "from suite_support import *",
        "",
        f"@pytest.mark.parametrize('i', range({tests}))",
        f"def test_calls({FIXTURE[mode] + ', ' if mode in FIXTURE else ''}i):",
    ]
    root = f"{FIXTURE[mode]}.base_url" if mode in FIXTURE else "STUB_ROOT"
    body = "USER_BODY" if method == "GET" else "CREATED_BODY"
    url = f"f'{{{root}}}/users/{{USER_ID}}'" if method == "GET" else f"f'{{{root}}}/users'"
    send = (
        "get(url, headers=KEY)"
        if method == "GET"
        else "post(url, json={'username': f'u{i}-{k}@example.com'}, headers=KEY)"
    )
    lines.append(f"    url = {url}")
    if method == "GET" and mode in FIXTURE:
        lines.append(f"    seed_alice({FIXTURE[mode]})")
    if client == "requests":
        lines.append("    session = requests.Session()")
        measure = f"    per_call = timed(lambda k: session.{send}, {calls})"
    elif client == "httpx":
        lines.append("    client = httpx.Client()")
        measure = f"    per_call = timed(lambda k: client.{send}, {calls})"
    else:
        lines.append(f"    async def call(client, k):\n        return await client.{send}")
        measure = f"    per_call = timed_async(httpx.AsyncClient, call, {calls})"
    if mode == "stub" and client == "requests":
        lines.append("    with responses.RequestsMock(assert_all_requests_are_fired=False) as stub:")
        lines.append(f"        stub.add(responses.{method}, url, body={body}, content_type='application/json')")
        lines.append("    " + measure)
    elif mode == "stub":
        lines.append("    with respx.mock(assert_all_called=False) as router:")
        answer = f"httpx.Response(200, content={body}, headers={{'content-type': 'application/json'}})"
        lines.append(f"        router.{method.lower()}(url).mock(return_value={answer})")
        lines.append("    " + measure)
    else:
        lines.append(measure)
    lines.append(f"    record({'-'.join((client, method, mode))!r}, per_call)")
    return "\n".join(lines) + "\n"


PAIRED = """
import httpx, pytest, requests, respx, responses
from suite_support import *
from alloy_mock.testing.inprocess import InProcessEmulator
from alloy_mock.testing.interception import Interception


@pytest.fixture(scope="module")
def emulator():
    with InProcessEmulator() as emulator:
        seed_alice(emulator.handle())
        yield emulator


@pytest.mark.parametrize("i", range({tests}))
def test_paired(emulator, i):
    url = {url}
{client}
    def stub():
{stub}
            return {measure}

    def intercept():
        with Interception(emulator):
            return {measure}

    # Alternate which goes first, so that neither always runs on a warmer cache.
    order = [("stub", stub), ("intercept", intercept)]
    measured = dict((label, run()) for label, run in (order if i % 2 else order[::-1]))
    record("{label}-stub", measured["stub"])
    record("{label}-intercept", measured["intercept"])
    record("{label}-ratio", measured["intercept"] / measured["stub"])
"""


def paired_file(client: str, method: str, tests: int, calls: int) -> str:
    """Stub and in-process calls of one shape, in batches alternating within each test of one process.

    The two are measured seconds apart on the same warm process, so a machine whose speed drifts from one
    process to the next (a loaded, shared one) moves both alike: the ratio per test is the robust figure.
    """
    body = "USER_BODY" if method == "GET" else "CREATED_BODY"
    url = "f'{STUB_ROOT}/users/{USER_ID}'" if method == "GET" else "f'{STUB_ROOT}/users'"
    if method == "GET":
        send = "get(url, headers=KEY)"
    else:  # a new username per call, in each of the two batches
        send = "post(url, json={'username': f'u{i}-{k}-{id(client)}@example.com'}, headers=KEY)"
    if client == "requests":
        setup = "    session = requests.Session()\n"
        send = send.replace("id(client)", "id(session)")
        measure = f"timed(lambda k: session.{send}, {calls})"
        stub = (
            "        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:\n"
            f"            mock.add(responses.{method}, url, body={body}, content_type='application/json')"
        )
    else:
        if client == "httpx":
            setup = "    client = httpx.Client()\n"
            measure = f"timed(lambda k: client.{send}, {calls})"
        else:
            setup = f"    async def call(client, k):\n        return await client.{send}\n"
            measure = f"timed_async(httpx.AsyncClient, call, {calls})"
        answer = f"httpx.Response(200, content={body}, headers={{'content-type': 'application/json'}})"
        stub = (
            "        with respx.mock(assert_all_called=False) as router:\n"
            f"            router.{method.lower()}(url).mock(return_value={answer})"
        )
    label = f"paired-{client}-{method}"
    return PAIRED.format(tests=tests, url=url, client=setup, stub=stub, measure=measure, label=label)


def per_test_file(kind: str, tests: int, dirty_users: int) -> str:
    """Tests that only take a fixture (or nothing); `-dirty`: each leaves `dirty_users` users behind;
    `-cleaned`: each creates as many and resets the emulator itself before it ends.

    The work of a test leaves the CPU's caches cold for the next one, whatever fixture it takes, so the setup
    after a `-dirty` test is compared with the setup after a `-cleaned` one, which did the same work but left
    nothing for the reset to drop: the difference is what the reset pays for the data left behind.
    """
    fixture, _, dirty = kind.partition("-")
    lines = ["import pytest, responses", "", f"@pytest.mark.parametrize('i', range({tests}))"]
    if fixture == "empty":
        lines += ["def test_nothing(i):", "    pass"]
    elif fixture == "responses":
        lines += ["@responses.activate", "def test_stub_only(i):", "    pass"]
    else:
        name = FIXTURE[fixture]
        lines.append(f"def test_fixture_only({name}, i):")
        if dirty:
            users = f"[{{'username': f'd{{i}}-{{k}}@example.com'}} for k in range({dirty_users})]"
            lines.append(f"    {name}.control('POST', 'seed', {{'users': {users}}})")
            if dirty == "cleaned":
                lines.append(f"    {name}.reset()")
        else:
            lines.append("    pass")
    return "\n".join(lines) + "\n"


HELPERS = """
import pytest, requests
from suite_support import *

SLACK = {{"channel": "#sales"}}
WORKFLOW = "Sync New Customers to Shopify"


@pytest.mark.parametrize("i", range({tests}))
def test_helpers({fixture}, i):
    alloy, session, n = {fixture}, requests.Session(), {calls}
    base, root, control = alloy.base_url, alloy.root_url, {{"X-Alloy-Mock": "1"}}
    session.get(f"{{base}}/users", headers=KEY)  # opens the connection (http mode)
    pairs = {{
        "create_user": (
            lambda k: alloy.create_user(f"h{{i}}-{{k}}@example.com"),
            lambda k: session.post(f"{{base}}/users", json={{"username": f"r{{i}}-{{k}}@example.com"}}, headers=KEY),
        ),
        "token": (
            lambda k: alloy.token(USER_ID),
            lambda k: session.get(f"{{base}}/users/{{USER_ID}}/token", headers=KEY),
        ),
        "install": (
            lambda k: alloy.install(helped[k], "Slack", values=SLACK),
            lambda k: session.post(
                f"{{root}}/_mock/installs",
                json={{"user": raw[k], "integration": "Slack", "namespace": "dev", "active": True, "values": SLACK}},
                headers=control,
            ),
        ),
        "fail_runs": (
            lambda k: alloy.fail_runs(workflow=WORKFLOW),
            lambda k: session.post(
                f"{{root}}/_mock/run-failures", json={{"workflow": WORKFLOW, "times": 1}}, headers=control
            ),
        ),
        "reset": (
            lambda k: alloy.reset(),
            lambda k: session.post(f"{{root}}/_mock/reset", json={{}}, headers=control),
        ),
    }}
    seed_alice(alloy)
    for name, (helper, raw_call) in pairs.items():
        helped = [alloy.create_user()["userId"] for _ in range(n + 1)]
        raw = [alloy.create_user()["userId"] for _ in range(n + 1)]
        # Alternate which goes first, so that neither always runs on a warmer cache.
        order = [("helper", helper), ("raw", raw_call)]
        for label, call in order if i % 2 else order[::-1]:
            per_call = timed(lambda k: _check(call(k)), n)
            record(f"{{name}}-{{label}}", per_call)


def _check(answer):
    status = getattr(answer, "status_code", 200)
    assert status == 200, (status, answer.text)
"""


# -- running -----------------------------------------------------------------------------------------


@dataclass
class Job:
    """One pytest process: a generated file and the arguments to run it with."""

    name: str
    file: str
    args: tuple[str, ...] = ()


@dataclass
class Results:
    """Per job name, one entry per round: the parsed result files of that run (one per worker)."""

    runs: dict[str, list[list[dict[str, Any]]]] = field(default_factory=dict)
    load: list[str] = field(default_factory=list)
    rounds: int = 0  # complete so far


def write_files(folder: Path, tests: int, calls: int, per_test: int, dirty_users: int) -> list[Job]:
    (folder / "conftest.py").write_text(CONFTEST)
    (folder / "suite_support.py").write_text(SUPPORT)
    jobs = []
    for client in CLIENTS:
        for method in METHODS:
            for mode in MODES:
                name = f"calls-{client}-{method}-{mode}"
                (folder / f"test_{name.replace('-', '_')}.py").write_text(
                    calls_file(client, method, mode, tests, calls)
                )
                jobs.append(Job(name, f"test_{name.replace('-', '_')}.py"))
            name = f"paired-{client}-{method}"
            (folder / f"test_{name.replace('-', '_')}.py").write_text(paired_file(client, method, tests, calls))
            jobs.append(Job(name, f"test_{name.replace('-', '_')}.py"))
    dirty = [f"{mode}-{left}" for left in ("dirty", "cleaned") for mode in ("intercept", "http")]
    for kind in ("empty", "responses", "intercept", "http", *dirty):
        name = f"per-test-{kind}"
        (folder / f"test_{name.replace('-', '_')}.py").write_text(per_test_file(kind, per_test, dirty_users))
        jobs.append(Job(name, f"test_{name.replace('-', '_')}.py"))
    for mode in ("intercept", "http"):
        name = f"helpers-{mode}"
        helpers = HELPERS.format(fixture=FIXTURE[mode], tests=max(4, tests // 10), calls=max(5, calls // 2))
        (folder / f"test_{name.replace('-', '_')}.py").write_text(helpers)
        jobs.append(Job(name, f"test_{name.replace('-', '_')}.py"))
    for mode in ("intercept", "http"):
        for workers in ("2", "auto"):
            jobs.append(Job(f"start-{mode}-n{workers}", f"test_per_test_{mode}.py", ("-n", workers)))
    return jobs


def run_job(folder: Path, job: Job, clock: str) -> list[dict[str, Any]]:
    results = folder / "results" / job.name
    for old in results.parent.glob(f"{job.name}.*.json"):
        old.unlink()
    env = {**os.environ, "SUITE_RESULTS": str(results), "SUITE_CLOCK": clock}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *job.args, job.file]
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{job.name} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    return [json.loads(path.read_text()) for path in sorted(results.parent.glob(f"{job.name}.*.json"))]


def run_rounds(
    folder: Path,
    jobs: list[Job],
    rounds: int,
    clock: str,
    log: Callable[[str], None],
    done: Callable[[Results], None],
) -> Results:
    """Every job once per round; `done` gets the results so far after each round."""
    results = Results()
    (folder / "results").mkdir()
    for number in range(rounds):
        shift = (number * len(jobs)) // max(rounds, 1)
        order = jobs[shift:] + jobs[:shift]
        if number % 2:
            order.reverse()
        results.load.append(loadavg())
        log(f"round {number + 1}/{rounds} (load average {results.load[-1]})")
        started = time.perf_counter()
        for job in order:
            results.runs.setdefault(job.name, []).append(run_job(folder, job, clock))
        log(f"  {time.perf_counter() - started:.0f} s")
        results.rounds = number + 1
        done(results)
    results.load.append(loadavg())
    return results


# -- figures -----------------------------------------------------------------------------------------


def values(run: list[dict[str, Any]], label: str) -> list[float]:
    return [seconds for worker in run for name, seconds in worker["values"] if name == label]


def steady(run: list[dict[str, Any]], phase: str) -> float:
    """The median of a phase over a process's tests, the first one (the session's start) left out."""
    return statistics.median(item[phase] for worker in run for item in worker["items"][1:])


def first_setups(run: list[dict[str, Any]]) -> list[float]:
    return [worker["items"][0]["setup"] for worker in run]


@dataclass
class Figure:
    """One measure over the rounds (seconds or a ratio)."""

    per_round: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.per_round)

    def text(self, scale: float = 1e6, digits: int = 0) -> str:
        low, high = min(self.per_round), max(self.per_round)
        return f"{self.median * scale:,.{digits}f} ({low * scale:,.{digits}f}-{high * scale:,.{digits}f})"


def call_figures(results: Results) -> dict[tuple[str, str, str], Figure]:
    figures = {}
    for client in CLIENTS:
        for method in METHODS:
            for mode in MODES:
                label = f"{client}-{method}-{mode}"
                runs = results.runs[f"calls-{label}"]
                figures[(client, method, mode)] = Figure([statistics.median(values(run, label)) for run in runs])
    return figures


def ratio(numerator: Figure, denominator: Figure) -> Figure:
    return Figure([a / b for a, b in zip(numerator.per_round, denominator.per_round, strict=True)])


def difference(minuend: Figure, subtrahend: Figure) -> Figure:
    return Figure([a - b for a, b in zip(minuend.per_round, subtrahend.per_round, strict=True)])


def report(results: Results, info: dict[str, Any], options: argparse.Namespace) -> tuple[list[str], bool]:
    """The tables, and whether every target was met."""
    out: list[str] = []
    met = True

    def verdict(ok: bool) -> str:
        nonlocal met
        met = met and ok
        return "met" if ok else "MISSED"

    out.append(f"alloy-mock test-suite benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    out.append(f"machine: {info['cpu']}, {info['cores']} cores, Linux {info['kernel']}, Python {info['python']}")
    out.append("versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()))
    out.append(
        f"{results.rounds} rounds; per call: {options.tests} tests x {options.calls} calls per process; per test: "
        f"{options.per_test} tests per process; load average per round: {' | '.join(results.load)}"
    )
    clock = "CPU time of the pytest process (--clock cpu)" if options.clock == "cpu" else "wall clock"
    out.append(f"clock: {clock}; figures: median over the rounds (range); ratios per round, then their median")
    out.append("")

    def has(prefix: str) -> bool:  # a section's jobs were run (--only)
        return any(name.startswith(prefix) for name in results.runs)

    if has("calls-"):
        calls = call_figures(results)
        out.append("| per call (us) | stub | alloy_mock_intercept | vs stub | alloy_mock (HTTP) | vs stub | target |")
        out.append("|---|---|---|---|---|---|---|")
        for client in CLIENTS:
            for method in METHODS:
                stub, inproc, http = (calls[(client, method, mode)] for mode in MODES)
                to_stub = ratio(inproc, stub)
                shape = f"{client} {method} {'/users/{id}' if method == 'GET' else '/users (write)'}"
                out.append(
                    f"| {shape} | {STUB_NAME[client]} {stub.text()} | {inproc.text()} | {to_stub.text(1, 2)} | "
                    f"{http.text()} | {ratio(http, stub).text(1, 2)} | <= {MAX_CALL_RATIO}: "
                    f"{verdict(to_stub.median <= MAX_CALL_RATIO)} |"
                )
        out.append("")
    if has("paired-"):
        out.append(
            "| per call, paired in one process (us) | stub | alloy_mock_intercept | ratio per test (median) | target |"
        )
        out.append("|---|---|---|---|---|")
        for client in CLIENTS:
            for method in METHODS:
                label = f"paired-{client}-{method}"
                runs = results.runs[label]
                stub, inproc, paired = (
                    Figure([statistics.median(values(run, f"{label}-{part}")) for run in runs])
                    for part in ("stub", "intercept", "ratio")
                )
                shape = f"{client} {method} {'/users/{id}' if method == 'GET' else '/users (write)'}"
                out.append(
                    f"| {shape} | {STUB_NAME[client]} {stub.text()} | {inproc.text()} | {paired.text(1, 2)} | "
                    f"<= {MAX_CALL_RATIO}: {verdict(paired.median <= MAX_CALL_RATIO)} |"
                )
        out.append("")
    if has("per-test-"):
        empty = Figure([steady(run, "protocol") for run in results.runs["per-test-empty"]])
        out.append("| per test (us) | whole test | over an empty test | setup alone | target |")
        out.append("|---|---|---|---|---|")
        out.append(f"| empty test | {empty.text()} | - | - | |")
        for kind, label in (
            ("responses", "`@responses.activate`, for comparison"),
            ("intercept", "`alloy_mock_intercept` only"),
            ("http", "`alloy_mock` only"),
        ):
            runs = results.runs[f"per-test-{kind}"]
            whole = Figure([steady(run, "protocol") for run in runs])
            over = difference(whole, empty)
            setup = Figure([steady(run, "setup") for run in runs])
            target = (
                ""
                if kind == "responses"
                else f"<= {MAX_TEST_OVERHEAD_MS} ms: {verdict(over.median * 1e3 <= MAX_TEST_OVERHEAD_MS)}"
            )
            out.append(f"| {label} | {whole.text()} | {over.text()} | {setup.text()} | {target} |")
        for mode in ("intercept", "http"):
            clean = Figure([steady(run, "setup") for run in results.runs[f"per-test-{mode}"]])
            dirty = Figure([steady(run, "setup") for run in results.runs[f"per-test-{mode}-dirty"]])
            cleaned = Figure([steady(run, "setup") for run in results.runs[f"per-test-{mode}-cleaned"]])
            users = f"{options.dirty_users:,} users"
            out.append(
                f"| `{FIXTURE[mode]}` setup after a test that created {users} and reset itself | - | - | "
                f"{cleaned.text()} | {ratio(cleaned, clean).text(1, 2)}x the setup after a test that did nothing |"
            )
            out.append(
                f"| `{FIXTURE[mode]}` setup after a test that left {users} behind | - | - | {dirty.text()} | "
                f"{ratio(dirty, cleaned).text(1, 2)}x the setup after the same work reset by the test itself |"
            )
        out.append("")
    if has("start-") and has("per-test-"):  # the one-process figure is the per-test job's
        out.append(
            "| session start: the first test's setup (ms) | one process | each worker, -n 2 "
            "| each worker, -n auto | target |"
        )
        out.append("|---|---|---|---|---|")
        for mode in ("intercept", "http"):
            alone = Figure([first_setups(run)[0] for run in results.runs[f"per-test-{mode}"]])
            row = [f"| `{FIXTURE[mode]}` | {alone.text(1e3)}"]
            worst = alone.median
            for workers in ("2", "auto"):
                runs = results.runs[f"start-{mode}-n{workers}"]
                each = Figure([max(first_setups(run)) for run in runs])
                count = len(runs[0])
                row.append(f"{each.text(1e3)} (slowest of {count})")
                worst = max(worst, each.median)
            row.append(f"< {MAX_SESSION_START_S * 1e3:.0f} ms: {verdict(worst < MAX_SESSION_START_S)} |")
            out.append(" | ".join(row))
        out.append("")
    if has("helpers-"):
        out.append(
            "| helper vs the raw request (us) | in-process helper | raw (requests) | ratio "
            "| HTTP helper | raw (requests) | ratio | target |"
        )
        out.append("|---|---|---|---|---|---|---|---|")
        for name in ("create_user", "token", "install", "fail_runs", "reset"):
            row = [f"| `{name}`"]
            ok = True
            for mode in ("intercept", "http"):
                runs = results.runs[f"helpers-{mode}"]
                helper = Figure([statistics.median(values(run, f"{name}-helper")) for run in runs])
                raw = Figure([statistics.median(values(run, f"{name}-raw")) for run in runs])
                share = ratio(helper, raw)
                ok = ok and share.median <= MAX_HELPER_RATIO
                row += [helper.text(), raw.text(), share.text(1, 2)]
            row.append(f"<= {MAX_HELPER_RATIO}: {verdict(ok)} |")
            out.append(" | ".join(row))
    return out, met


def machine_info() -> dict[str, Any]:
    cpu = bench.cpu_model()
    versions = {}
    for package in ("alloy-mock", "pytest", "requests", "httpx", "responses", "respx", "starlette", "pydantic"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "-"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "versions": versions,
    }


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tests", type=int, default=100, help="tests per call-timing process")
    parser.add_argument("--calls", type=int, default=20, help="timed calls per test")
    parser.add_argument("--per-test", type=int, default=300, help="tests per per-test process")
    parser.add_argument("--dirty-users", type=int, default=1000, help="users each 'dirty' test leaves behind")
    parser.add_argument("--quick", action="store_true", help="one small round, to check that it runs")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall", help="what the figures measure (see above)")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument(
        "--only",
        help="run only the jobs whose name starts with one of these, comma-separated (calls, paired, per-test, start)",
    )
    parser.add_argument("--each-round", type=Path, help="write the tables of the rounds so far here after each round")
    options = parser.parse_args(argv)
    if options.quick:
        options.rounds, options.tests, options.calls, options.per_test, options.dirty_users = 1, 10, 5, 30, 100
    for needed in ("responses", "respx", "requests", "httpx", "alloy_mock", "xdist"):
        try:
            __import__(needed)
        except ImportError:
            print(f"bench/suite.py needs {needed}: pip install -r bench/requirements.txt", file=sys.stderr)
            return 2
    import alloy_mock

    compileall.compile_dir(str(Path(alloy_mock.__file__).parent), quiet=1)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="alloy-mock-suite-") as name:
        folder = Path(name)
        jobs = write_files(folder, options.tests, options.calls, options.per_test, options.dirty_users)
        jobs = [job for job in jobs if job.name.startswith(tuple((options.only or "").split(",")))]
        info = machine_info()

        def write(results: Results) -> None:
            if options.each_round:
                options.each_round.write_text("\n".join(report(results, info, options)[0]) + "\n")
            if options.json:
                raw = {"machine": info, "load": results.load, "runs": results.runs}
                options.json.write_text(json.dumps(raw, indent=1))

        results = run_rounds(folder, jobs, options.rounds, options.clock, log, write)
    write(results)
    lines, met = report(results, info, options)
    print("\n".join(lines))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
