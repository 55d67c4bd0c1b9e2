"""bench.py's rows for installs (issue 9) and runs (issue 10), measured in the same interleaved cycles.

Issue 9, on the SMALL and LARGE user namespaces of bench.py with WORKFLOW installed for every user
(installed in-process on a copy of the seeded files: seeding.py):
- GET /2023-12/workflows?userId= (cycling over the users), on a server that keeps running;
- PUT /2023-12/workflows/deactivate, durable, on a fresh copy of the files each cycle. Deactivating a
  workflow that is already off writes nothing, so the requests switch every user's workflow off, then
  on again with PUT /workflows/activate (the same handler), and so on: every request writes.
Targets: p50(LARGE)/p50(SMALL) at most 1.3x for both.

Issue 10:
- POST /2023-12/run/event, durable, for a user with one matching workflow (cycling over the users of
  both install namespaces, on fresh copies): at least 0.4 of the bare route's throughput, per cycle;
- the logs page (limit 10, newest first), errors and analytics of WORKFLOW on two histories recorded
  in-process through the Runner: HISTORY_SMALL (1,000 executions) and HISTORY_LARGE (1,000,000; 100,000
  with --quick), the same 100 users with the same 2 failures each: p50(LARGE)/p50(SMALL) at most 1.3x
  for each. Also reported: memory per stored execution (the RSS difference over the execution count
  difference), start-up time and RSS with HISTORY_LARGE.

bench.py runs as `bench` (its main guard imports itself), so the classes used here are its own.
"""

from __future__ import annotations

import json
import shutil
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seeding import EVENT, WORKFLOW, History, install_for_every_user, record_history

import bench

MIN_RUN_EVENT_FRACTION = 0.4
HISTORY_USERS = 100
FAILED_PER_USER = 2
HISTORY_SMALL = History(HISTORY_USERS, 10, FAILED_PER_USER)
HISTORY_LARGE = History(HISTORY_USERS, 10_000, FAILED_PER_USER)
HISTORY_QUICK = History(HISTORY_USERS, 1_000, FAILED_PER_USER)

# The bodies of wrk scripts, completed by script() with bench.py's thread ids, headers and report.

# GET args[2] .. id .. args[3].
LUA_GET_EACH = (
    r"""
format_line = function(line, args)
  return wrk.format("GET", args[2] .. line .. (args[3] or ""))
end
"""
    + bench.LUA_EACH_ID
)

# PUT args[2]/deactivate for every id of this thread's share of the file args[1] (args[3] threads),
# then args[2]/activate for each, and again: a user's two requests are a whole pass apart.
LUA_SWITCH = r"""
wrk.method = "PUT"
local prepared = {}
local index = 0
init = function(args)
  local ids, n = {}, 0
  for line in io.lines(args[1]) do
    if n % tonumber(args[3]) == tid - 1 then
      ids[#ids + 1] = line
    end
    n = n + 1
  end
  for _, switch in ipairs({"/deactivate", "/activate"}) do
    for _, id in ipairs(ids) do
      local body = '{"userId":"' .. id .. '","workflowId":"' .. args[4] .. '"}'
      prepared[#prepared + 1] = wrk.format(nil, args[2] .. switch, nil, body)
    end
  end
end
request = function()
  index = index % #prepared + 1
  return prepared[index]
end
"""

# POST args[2] with the event args[3] for each user.
LUA_RUN_EVENT = (
    r"""
wrk.method = "POST"
format_line = function(line, args)
  local body = '{"event":"' .. args[3] .. '","userId":"' .. line .. '","data":{"name":"Ada L","id":7}}'
  return wrk.format(nil, args[2], nil, body)
end
"""
    + bench.LUA_EACH_ID
)


def script(wrk: bench.Wrk, name: str, body: str) -> Path:
    """A wrk script: bench.py's thread numbering and headers, `body`, and its JSON report at the end."""
    return wrk.script(name, bench.LUA_THREAD_IDS + bench.LUA_HEADERS + body + bench.LUA_DONE)


@dataclass
class Installed:
    """A user namespace of bench.py with WORKFLOW installed for every user: a running server, and the
    files as seeded (for runs that write)."""

    users: bench.Seeded
    template: Path
    server: bench.Server

    @property
    def label(self) -> str:
        return f"{self.users.label}+installs"


@dataclass
class Recorded:
    """A server on a database holding a recorded history of executions."""

    label: str
    history: History
    server: bench.Server
    ids_file: Path


@dataclass
class ApiRows:
    installed: list[Installed]
    recorded: list[Recorded]

    @property
    def servers(self) -> list[bench.Server]:
        return [item.server for item in (*self.installed, *self.recorded)]


def check(server: bench.Server, path: str, expect: Callable[[Any], bool], what: str) -> Any:
    """GET `path`; a RuntimeError unless it answers 200 with JSON for which `expect` holds."""
    status, body = bench.request(server, "GET", path)
    data = json.loads(body) if status == 200 else None
    if data is None or not expect(data):
        raise RuntimeError(f"{server.name}: GET {path} answered {status} {body[:300]!r}: {what}")
    return data


def installed_state(server: bench.Server, user_id: str) -> dict[str, Any]:
    """The user's install of WORKFLOW, from the control API."""
    data = check(server, f"/_mock/installs?user={user_id}", lambda d: bool(d["data"]), "no install")
    install: dict[str, Any] = data["data"][0]
    return install


def seed_installs(workdir: Path, results: bench.Results, users: bench.Seeded) -> Installed:
    db = bench.copy_db(users.template, workdir / f"{users.label}-installs")
    bench.log(f"{users.label}: installing {WORKFLOW} for {users.count:,} users in-process")
    results.api[f"install for {users.count:,} users (in-process)"] = round(install_for_every_user(db), 2)
    template = bench.copy_db(db, workdir / f"{users.label}-installs-template")
    server = bench.spawn(f"alloy-{users.label}-installs", bench.alloy_mock_argv(db), workdir)
    check(
        server,
        f"{bench.API}/workflows?userId={users.ids[-1]}",
        lambda d: any(w["workflowId"] == WORKFLOW and w["installed"] and w["active"] for w in d["data"]),
        f"{WORKFLOW} is not installed and active",
    )
    return Installed(users, template, server)


def seed_history(wrk: bench.Wrk, workdir: Path, results: bench.Results, history: History) -> Recorded:
    label = f"{bench.label_of(history.executions)}-runs"
    db = workdir / label / "db.json"
    db.parent.mkdir()
    bench.log(f"{label}: recording {history.executions:,} executions through the Runner in-process")
    ids, seconds = record_history(db, history)
    results.api[f"record {history.executions:,} executions (in-process)"] = round(seconds, 1)
    ids_file = wrk.scripts / f"ids-{label}.txt"
    ids_file.write_text("\n".join(ids) + "\n")
    server = bench.spawn(f"alloy-{label}", bench.alloy_mock_argv(db), workdir)
    results.api[f"start-up to /health 200 ({history.executions:,} executions)"] = round(server.spawn_to_ready_s, 3)
    results.rss_kib[f"alloy-mock {label} ({history.executions:,} executions, at start)"] = server.rss_kib()
    runs, errors = history.executions, history.users * history.failed_per_user
    check(
        server,
        f"{bench.API}/workflows/{WORKFLOW}/analytics",
        lambda d: d["totalWorkflowRuns"] == runs and d["totalErrors"] == errors,
        f"expected {runs} runs and {errors} errors",
    )
    check(
        server,
        f"{bench.API}/workflows/{WORKFLOW}/logs?userId={ids[0]}",
        lambda d: len(d["data"]) == min(10, history.per_user),
        "not a full page of logs",
    )
    return Recorded(label, history, server, ids_file)


def start(wrk: bench.Wrk, workdir: Path, results: bench.Results, sets: list[bench.Seeded], quick: bool) -> ApiRows:
    rows = ApiRows([], [])
    try:
        for users in sets:
            rows.installed.append(seed_installs(workdir, results, users))
        for history in (HISTORY_SMALL, HISTORY_QUICK if quick else HISTORY_LARGE):
            rows.recorded.append(seed_history(wrk, workdir, results, history))
    except BaseException:
        for server in rows.servers:
            server.stop()
        raise
    return rows


# -- one cycle ---------------------------------------------------------------------------------------


def measure_cycle(wrk: bench.Wrk, workdir: Path, results: bench.Results, rows: ApiRows, cycle: int) -> None:
    workflows = script(wrk, "get_each.lua", LUA_GET_EACH)
    for item in rows.installed:
        args = [str(item.users.ids_file), f"{bench.API}/workflows?userId="]
        load = wrk.measure(f"{item.label} GET workflows", item.server, f"{bench.API}/workflows", workflows, args)
        results.add(f"{item.label} GET workflows", f"{item.users.count:,}", load)
    for item in rows.installed:
        measure_switch(wrk, workdir, results, item, cycle)
    for item in rows.installed:
        measure_run_event(wrk, workdir, results, item, cycle)
    for recorded in rows.recorded:
        measure_history(wrk, results, recorded)


def _fresh_server(workdir: Path, item: Installed, kind: str, cycle: int) -> bench.Server:
    db = bench.copy_db(item.template, workdir / f"{item.label}-{kind}-{cycle}")
    return bench.spawn(f"alloy-{item.label}-{kind}", bench.alloy_mock_argv(db), workdir)


def _warm(item: Installed, wrk: bench.Wrk) -> tuple[str, Path, list[str]]:
    """Warm-up requests that write nothing: GET /workflows?userId=."""
    args = [str(item.users.ids_file), f"{bench.API}/workflows?userId="]
    return f"{bench.API}/workflows", script(wrk, "get_each.lua", LUA_GET_EACH), args


def measure_switch(wrk: bench.Wrk, workdir: Path, results: bench.Results, item: Installed, cycle: int) -> None:
    server = _fresh_server(workdir, item, "switch", cycle)
    try:
        # The users switched first (wrk takes one request from the script before the run: skip it).
        sample = item.users.ids[1:11]
        before = [installed_state(server, user_id)["updatedAt"] for user_id in sample]
        lua = script(wrk, "switch.lua", LUA_SWITCH)
        args = [str(item.users.ids_file), f"{bench.API}/workflows", str(wrk.threads), WORKFLOW]
        load = wrk.measure(
            f"{item.label} PUT deactivate", server, f"{bench.API}/workflows", lua, args, warm=_warm(item, wrk)
        )
        after = [installed_state(server, user_id)["updatedAt"] for user_id in sample]
        if any(new == old for new, old in zip(after, before, strict=True)):
            raise RuntimeError(f"{server.name}: some of the first users' installs were never switched")
        results.add(f"{item.label} PUT deactivate", f"{item.users.count:,}", load)
    finally:
        server.stop()
        shutil.rmtree(workdir / f"{item.label}-switch-{cycle}", ignore_errors=True)


def measure_run_event(wrk: bench.Wrk, workdir: Path, results: bench.Results, item: Installed, cycle: int) -> None:
    server = _fresh_server(workdir, item, "run", cycle)
    try:
        lua = script(wrk, "run_event.lua", LUA_RUN_EVENT)
        args = [str(item.users.ids_file), f"{bench.API}/run/event", EVENT]
        load = wrk.measure(f"{item.label} POST run/event", server, f"{bench.API}/run", lua, args, warm=_warm(item, wrk))
        runs = check(server, f"{bench.API}/workflows/{WORKFLOW}/analytics", lambda d: True, "")["totalWorkflowRuns"]
        if runs < load.requests:
            raise RuntimeError(f"{server.name}: {load.requests} events answered, {runs} executions stored")
        results.add(f"{item.label} POST run/event", f"{item.users.count:,}", load)
    finally:
        server.stop()
        shutil.rmtree(workdir / f"{item.label}-run-{cycle}", ignore_errors=True)


def measure_history(wrk: bench.Wrk, results: bench.Results, recorded: Recorded) -> None:
    each = script(wrk, "get_each.lua", LUA_GET_EACH)
    base = f"{bench.API}/workflows/{WORKFLOW}"
    users = f"{recorded.history.users} ({recorded.history.executions:,} runs)"
    for endpoint, path, lua, args in (
        ("GET logs", f"{base}/logs", each, [str(recorded.ids_file), f"{base}/logs?limit=10&userId="]),
        ("GET errors", f"{base}/errors", each, [str(recorded.ids_file), f"{base}/errors?userId="]),
        ("GET analytics", f"{base}/analytics", wrk.script("plain.lua", bench.LUA_PLAIN), []),
    ):
        load = wrk.measure(f"{recorded.label} {endpoint}", recorded.server, path, lua, args)
        results.add(f"{recorded.label} {endpoint}", users, load)


def finish(results: bench.Results, rows: ApiRows) -> None:
    """After the cycles: memory with each history, and per stored execution; stop the servers."""
    rss = {}
    for recorded in rows.recorded:
        rss[recorded.label] = recorded.server.rss_kib()
        results.rss_kib[f"alloy-mock {recorded.label} ({recorded.history.executions:,} executions, after)"] = rss[
            recorded.label
        ]
    small, large = rows.recorded
    added = large.history.executions - small.history.executions
    results.api["RSS per stored execution (bytes)"] = round((rss[large.label] - rss[small.label]) * 1024 / added)
    for item in rows.installed:
        results.rss_kib[f"alloy-mock {item.label} ({item.users.count:,} users with installs)"] = item.server.rss_kib()
    for server in rows.servers:
        code = server.stop()
        if code != 0:
            raise RuntimeError(f"{server.name}: graceful stop exited {code}: {server.stderr_tail()}")


# -- targets and report --------------------------------------------------------------------------------


def judge(results: bench.Results, add: Callable[..., None], small: str, large: str) -> None:
    """Add this module's targets with bench.judge's `add` (name, value, limit, "lower"|"higher", unit, detail)."""
    series = results.series
    pairs = [(f"{small}+installs", f"{large}+installs", endpoint) for endpoint in ("GET workflows", "PUT deactivate")]
    runs = sorted({key.split(" ", 1)[0] for key in series if key.split(" ", 1)[0].endswith("-runs")}, key=_size)
    if len(runs) == 2:
        pairs += [(runs[0], runs[1], endpoint) for endpoint in ("GET logs", "GET errors", "GET analytics")]
    for little_label, big_label, endpoint in pairs:
        big, little = series[f"{big_label} {endpoint}"], series[f"{little_label} {endpoint}"]
        per_cycle = [b.p50_ms / s.p50_ms for b, s in zip(big.runs, little.runs, strict=True)]
        add(
            f"p50 {endpoint} {big_label}/{little_label}",
            statistics.median(per_cycle),
            bench.MAX_P50_GROWTH,
            "lower",
            "x",
            f"median of per-cycle ratios {bench._listed(per_cycle)}; medians {big.p50_ms:.2f} ms vs "
            f"{little.p50_ms:.2f} ms",
        )
    baseline = series["baseline GET /json"]
    sizes = [series[f"{label}+installs POST run/event"] for label in (small, large)]
    per_cycle = [min(size.runs[cycle].rps for size in sizes) / run.rps for cycle, run in enumerate(baseline.runs)]
    worst = min(size.rps for size in sizes)
    add(
        "POST run/event req/s / baseline GET /json",
        statistics.median(per_cycle),
        MIN_RUN_EVENT_FRACTION,
        "higher",
        "",
        f"median of per-cycle ratios {bench._listed(per_cycle)} (worse of {small} and {large}); "
        f"ratio of medians {worst / baseline.rps:.2f}: {worst:,.0f} vs {baseline.rps:,.0f} req/s",
    )


def _size(label: str) -> int:
    """The number in a label such as "1k-runs" or "1000k-runs"."""
    number = label.split("-", 1)[0]
    return int(number[:-1]) * 1000 if number.endswith("k") else int(number)


def report_rows(results: bench.Results) -> list[list[str]]:
    """Rows for bench.report's table of other measures."""
    return [[name, str(value)] for name, value in results.api.items()]
