"""The crash test: kill -9 under a concurrent write load loses no acknowledged user.

    python bench/crash.py --rounds R --clients C [--duration S] [--seed-users N] [--seed X]
                          [--compaction | --stop-at STEP[,STEP...]|all]

Each round starts `alloy-mock serve` on the database the previous round left (a fresh one at
first), checks that it starts cleanly and that every user acknowledged so far is there exactly
once, then drives a write load (C client threads, one connection each, creating users with unique
names; a few threads create them in batches) and kills the server with SIGKILL at a random moment.
A final start verifies the last round, then hosts the same-username race (M threads POST one
username at once: exactly one 200, the others 400) and must stop gracefully with exit code 0.

With --compaction every server compacts continuously (bench/compacting_server.py, a 1-byte
threshold: the next compaction starts as soon as the previous one has ended), so the kills land in
the middle of compactions: while the snapshot is written, between the journal's rotation and the
snapshot's rename, or while the rotated journal is removed. Each round reports the database's files
right after the kill (a rotated journal among them: the kill interrupted a compaction), and the run
fails unless at least one kill did.

With --stop-at the kill moments are not random: round N's server holds its second compaction at the
Nth of the given steps (cycling; `all` = rotated, writing, written, renamed, removed: see
bench/compacting_server.py) while the load goes on, and the round makes a few more writes of its own
once the server says it is there (so the new journal holds acknowledged writes), then kills it. The
run fails unless every round was killed at its step.

Exit status: 0 when nothing acknowledged was lost or duplicated and every check passed, 1 otherwise.
The functions are also used by tests/test_crash.py in a reduced size.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import os
import queue
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

HERE = Path(__file__).resolve().parent
STEPS = ("rotated", "writing", "written", "renamed", "removed")  # compacting_server.py's --stop-at
STOPPED = "compaction stopped at "
DEV_KEY = "alloy-mock-dev-key"
API = "/2023-12"
HEADERS = {"Authorization": f"Bearer {DEV_KEY}", "Content-Type": "application/json"}
USER_EXISTS = "User already exists"


class StartFailed(Exception):
    """The server did not come up on the files: it exited, printed no address, or /health failed."""


# -- the server process ------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[str]
    base_url: str
    db: Path
    stderr_path: Path
    start_seconds: float
    output: queue.Queue[str] = field(default_factory=queue.Queue)  # its stdout after the address, by line

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        return urlsplit(self.base_url).port or 80

    def connection(self, timeout: float = 30) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def wait_for_line(self, prefix: str, timeout: float = 120) -> str | None:
        """The next line of its stdout that starts with `prefix` (None: none within `timeout` seconds,
        a failure guard, or the server exited)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.output.get(timeout=left)
            except queue.Empty:
                return None
            if not line:
                return None  # end of its output: it exited
            if line.startswith(prefix):
                return line.strip()
        return None

    def stderr(self) -> str:
        with contextlib.suppress(OSError):
            return self.stderr_path.read_text()
        return ""

    def kill(self) -> None:
        """SIGKILL, as a crash (or the OOM killer) would."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> int:
        """SIGTERM and wait; returns the exit code."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.process.returncode


def start_server(db: Path, *args: str, compact_always: bool = False, stop_at: str | None = None) -> Server:
    """`alloy-mock serve --port 0 --db DB`, ready once it printed its address and /health is 200.

    No sleeping or polling: the first /health request waits in the listen backlog until served.
    Raises StartFailed with the server's exit code and stderr when it does not come up.
    `compact_always`: through bench/compacting_server.py, compacting continuously; `stop_at`: also
    holding its second compaction at that step.
    """
    stderr_path = db.with_name(f"{db.name}.{uuid.uuid4().hex[:6]}.stderr")
    launcher = ["-m", "alloy_mock"]
    if compact_always or stop_at:
        launcher = [str(HERE / "compacting_server.py"), "1", *(["--stop-at", stop_at] if stop_at else [])]
    command = [sys.executable, *launcher, "serve", "--port", "0", "--db", str(db), *args]
    started = time.perf_counter()
    with open(stderr_path, "w") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True)
    assert process.stdout is not None
    first = process.stdout.readline()
    server = Server(process, first.rsplit(" ", 1)[-1].strip(), db, stderr_path, 0.0)
    if "listening on" not in first:
        code = process.wait(timeout=30) if not first else None
        server.kill()
        raise StartFailed(f"no address printed (exit code {code}, first line {first!r}): {server.stderr()[-2000:]}")
    threading.Thread(target=_read_lines, args=(process.stdout, server.output), daemon=True).start()
    try:
        status, body = call(server.connection(), "GET", "/health")
    except (OSError, http.client.HTTPException) as exc:
        server.kill()
        raise StartFailed(f"/health failed ({exc}); exit code {process.returncode}: {server.stderr()[-2000:]}") from exc
    if status != 200:
        server.kill()
        raise StartFailed(f"/health answered {status}: {body[:300]!r}")
    server.start_seconds = time.perf_counter() - started
    return server


def _read_lines(stream: Any, lines: queue.Queue[str]) -> None:
    """Hand each line of `stream` to `lines`, then "" at its end (never letting a full pipe block it)."""
    for line in stream:
        lines.put(line)
    lines.put("")


def call(
    conn: http.client.HTTPConnection, method: str, path: str, body: Any = None, close: bool = True
) -> tuple[int, bytes]:
    try:
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=HEADERS)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        if close:
            conn.close()


# -- the write load ------------------------------------------------------------------------------


@dataclass
class LoadResult:
    acked: dict[str, str | None] = field(default_factory=dict)  # username -> userId (None: from a batch)
    attempted: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)  # answers that no unique-name create should get


def _single_writer(server: Server, prefix: str, stop: threading.Event, out: LoadResult) -> None:
    conn = server.connection(timeout=30)
    n = 0
    try:
        while not stop.is_set():
            name = f"{prefix}-{n}"
            n += 1
            out.attempted += 1
            try:
                status, body = call(conn, "POST", f"{API}/users", {"username": name}, close=False)
            except (OSError, http.client.HTTPException):
                return  # the server is gone: this request was not acknowledged
            out.statuses[status] += 1
            if status == 200:
                out.acked[name] = json.loads(body)["userId"]
            else:
                out.unexpected.append(f"POST /users {name}: {status} {body[:200]!r}")
    finally:
        conn.close()


def _batch_writer(server: Server, prefix: str, size: int, stop: threading.Event, out: LoadResult) -> None:
    conn = server.connection(timeout=30)
    n = 0
    try:
        while not stop.is_set():
            names = [f"{prefix}-{n}-{i}" for i in range(size)]
            n += 1
            out.attempted += size
            try:
                status, body = call(
                    conn, "POST", f"{API}/users/batch", {"users": [{"username": x} for x in names]}, close=False
                )
            except (OSError, http.client.HTTPException):
                return
            out.statuses[status] += 1
            invalid = json.loads(body).get("invalidUsers") if status == 200 else None
            if status == 200 and not invalid:
                out.acked.update(dict.fromkeys(names))
            else:
                out.unexpected.append(f"POST /users/batch {names[0]}..: {status} {body[:200]!r}")
    finally:
        conn.close()


@dataclass
class Crash:
    """What happened while one server was under load until it was killed."""

    load: LoadResult
    killed_after_s: float
    acked_before_kill: int
    journal_bytes_at_kill: int
    snapshot_bytes_at_kill: int
    files_after_kill: list[str] = field(default_factory=list)  # the database's files the restart finds
    stop_at: str | None = None  # the compaction step this round was to be killed at (--stop-at)
    stopped: bool = False  # the server said its compaction was held at that step before the kill
    acked_while_stopped: int = 0  # writes of the round's own, acknowledged while it was held there

    @property
    def during_compaction(self) -> bool:
        """Whether the kill interrupted a compaction: it left a rotated journal (db.json.journal.N)."""
        return any(name.rsplit(".", 1)[-1].isdigit() and ".journal." in name for name in self.files_after_kill)


def load_and_kill(
    server: Server,
    prefix: str,
    clients: int,
    kill_after: float,
    batch_clients: int = 1,
    batch_size: int = 100,
    stop_at: str | None = None,
    writes_while_stopped: int = 20,
) -> Crash:
    """Run `clients` writer threads (the first `batch_clients` of them create batches) against the
    server and SIGKILL it after `kill_after` seconds, while they are writing.

    With `stop_at` (a server started with it) the kill comes instead once the server's compaction is
    held at that step and `writes_while_stopped` more users of this thread's were acknowledged."""
    stop = threading.Event()
    results = [LoadResult() for _ in range(clients)]
    threads = []
    for i in range(clients):
        if i < batch_clients:
            target: Any = _batch_writer
            args: tuple[Any, ...] = (server, f"{prefix}-b{i}", batch_size, stop, results[i])
        else:
            target, args = _single_writer, (server, f"{prefix}-c{i}", stop, results[i])
        threads.append(threading.Thread(target=target, args=args, daemon=True))
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    own = LoadResult()
    stopped = False
    if stop_at is None:
        stop.wait(kill_after)  # the load runs for a random time: this is the crash's moment, not a readiness wait
    else:
        stopped = server.wait_for_line(STOPPED + stop_at) is not None
        if stopped:
            own.acked = dict(_create_users(server, f"{prefix}-own", writes_while_stopped))
    results.append(own)
    acked_before_kill = sum(len(r.acked) for r in results)
    journal, snapshot = _size(server.db.with_name(server.db.name + ".journal")), _size(server.db)
    server.kill()
    killed_after = time.perf_counter() - started
    files = sorted(
        p.name
        for p in server.db.parent.iterdir()
        if p.name.startswith(server.db.name) and not p.name.endswith((".lock", ".stderr"))
    )
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    merged = LoadResult()
    for r in results:
        merged.acked.update(r.acked)
        merged.attempted += r.attempted
        merged.statuses.update(r.statuses)
        merged.unexpected.extend(r.unexpected)
    return Crash(merged, killed_after, acked_before_kill, journal, snapshot, files, stop_at, stopped, len(own.acked))


def _create_users(server: Server, prefix: str, count: int) -> Iterator[tuple[str, str]]:
    """POST `count` users one at a time on one connection; yields (username, userId) of each 200."""
    conn = server.connection(timeout=30)
    try:
        for n in range(count):
            status, body = call(conn, "POST", f"{API}/users", {"username": f"{prefix}-{n}"}, close=False)
            if status == 200:
                yield f"{prefix}-{n}", json.loads(body)["userId"]
    finally:
        conn.close()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


# -- verification --------------------------------------------------------------------------------


@dataclass
class Verification:
    checked: int
    listed: int
    lost: list[str]  # acknowledged, but GET /users/{username} is not a 200 with that user
    duplicate_usernames: list[str]
    duplicate_ids: list[str]

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicate_usernames or self.duplicate_ids)


def verify(server: Server, acked: dict[str, str | None], workers: int = 8) -> Verification:
    """Every acknowledged username answers GET /users/{username} with 200 (and the acknowledged
    userId when known), and the users list holds no username or userId twice."""
    status, body = call(server.connection(timeout=120), "GET", f"{API}/users")
    if status != 200:
        raise AssertionError(f"GET /users answered {status}: {body[:300]!r}")
    users = json.loads(body)["data"]
    names = Counter(user["username"] for user in users)
    ids = Counter(user["userId"] for user in users)
    items = list(acked.items())
    lost: list[list[str]] = [[] for _ in range(workers)]

    def check(worker: int) -> None:
        conn = server.connection(timeout=30)
        try:
            for name, user_id in items[worker::workers]:
                status, body = call(conn, "GET", f"{API}/users/{quote(name, safe='')}", close=False)
                found = json.loads(body) if status == 200 else {}
                if status != 200 or found.get("username") != name or user_id not in (None, found.get("userId")):
                    lost[worker].append(f"{name} (GET: {status} {body[:120]!r}, acknowledged id {user_id})")
        finally:
            conn.close()

    threads = [threading.Thread(target=check, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Verification(
        checked=len(items),
        listed=len(users),
        lost=[x for part in lost for x in part],
        duplicate_usernames=sorted(name for name, n in names.items() if n > 1),
        duplicate_ids=sorted(i for i, n in ids.items() if n > 1),
    )


# -- the same-username race -----------------------------------------------------------------------


@dataclass
class Race:
    username: str
    statuses: list[int]
    messages: list[str]
    winner_id: str | None
    stored_id: str | None

    @property
    def ok(self) -> bool:
        losers_ok = all(
            status == 400 and message == USER_EXISTS
            for status, message in zip(self.statuses, self.messages, strict=True)
            if status != 200
        )
        return self.statuses.count(200) == 1 and losers_ok and self.winner_id == self.stored_id


def race(server: Server, racers: int, username: str | None = None) -> Race:
    """`racers` threads, each on its own open connection, POST the same username at once."""
    name = username or f"race-{uuid.uuid4().hex[:12]}"
    payload = json.dumps({"username": name}).encode()
    raw = (
        f"POST {API}/users HTTP/1.1\r\nHost: {server.host}:{server.port}\r\n"
        f"Authorization: Bearer {DEV_KEY}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload
    conns = [server.connection() for _ in range(racers)]
    for conn in conns:
        conn.connect()
    barrier = threading.Barrier(racers)
    answers: list[tuple[int, bytes]] = [(0, b"")] * racers

    def go(i: int) -> None:
        sock = conns[i].sock
        assert sock is not None
        barrier.wait()
        sock.sendall(raw)  # the prepared bytes: as close to "at once" as threads get
        response = http.client.HTTPResponse(sock)
        response.begin()
        answers[i] = (response.status, response.read())

    threads = [threading.Thread(target=go, args=(i,)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for conn in conns:
        conn.close()
    statuses = [status for status, _ in answers]
    messages = [_message(body) for _, body in answers]
    winner = next((json.loads(body)["userId"] for status, body in answers if status == 200), None)
    status, body = call(server.connection(), "GET", f"{API}/users/{quote(name, safe='')}")
    stored = json.loads(body)["userId"] if status == 200 else None
    return Race(name, statuses, messages, winner, stored)


def _message(body: bytes) -> str:
    try:
        return str(json.loads(body).get("message", ""))
    except (ValueError, AttributeError):
        return body[:100].decode("utf-8", "replace")


# -- the whole test -------------------------------------------------------------------------------


@dataclass
class Round:
    number: int
    start_seconds: float
    verification: Verification | None  # of everything acknowledged before this start (None at first)
    crash: Crash


@dataclass
class Report:
    rounds: list[Round] = field(default_factory=list)
    final: Verification | None = None
    races: list[Race] = field(default_factory=list)
    start_failures: list[str] = field(default_factory=list)
    graceful_exit_code: int | None = None
    acked_total: int = 0
    seeded: int = 0
    compaction: bool = False  # the servers compacted continuously: some kill must have interrupted one
    stop_at: tuple[str, ...] = ()  # the steps the rounds' kills were planned at (--stop-at)

    @property
    def kills_during_compaction(self) -> int:
        return sum(r.crash.during_compaction for r in self.rounds)

    @property
    def lost(self) -> list[str]:
        checks = [r.verification for r in self.rounds if r.verification] + ([self.final] if self.final else [])
        return sorted({x for v in checks for x in v.lost})

    @property
    def duplicates(self) -> list[str]:
        checks = [r.verification for r in self.rounds if r.verification] + ([self.final] if self.final else [])
        return sorted({x for v in checks for x in v.duplicate_usernames + v.duplicate_ids})

    @property
    def unexpected(self) -> list[str]:
        return [x for r in self.rounds for x in r.crash.load.unexpected]

    @property
    def ok(self) -> bool:
        return (
            not self.start_failures
            and self.final is not None
            and not self.lost
            and not self.duplicates
            and not self.unexpected
            and all(r.ok for r in self.races)
            and self.graceful_exit_code == 0
            and all(r.crash.acked_before_kill > 0 for r in self.rounds)
            and (not self.compaction or self.kills_during_compaction > 0)
            and all(r.crash.stopped for r in self.rounds if r.crash.stop_at)
        )

    def problems(self) -> list[str]:
        found = [f"start failed: {x}" for x in self.start_failures]
        found += [f"lost acknowledged user: {x}" for x in self.lost]
        found += [f"duplicated: {x}" for x in self.duplicates]
        found += [f"unexpected answer under load: {x}" for x in self.unexpected]
        found += [f"race on {r.username}: statuses {sorted(r.statuses)}" for r in self.races if not r.ok]
        found += [
            f"round {r.number}: nothing acknowledged before the kill"
            for r in self.rounds
            if not r.crash.acked_before_kill
        ]
        if self.final is None and not self.start_failures:
            found.append("no final verification")
        if self.graceful_exit_code not in (0, None):
            found.append(f"graceful stop exited {self.graceful_exit_code}")
        if self.compaction and self.rounds and not self.kills_during_compaction:
            found.append("no kill interrupted a compaction")
        found += [
            f"round {r.number}: the server never said its compaction was held at {r.crash.stop_at}"
            for r in self.rounds
            if r.crash.stop_at and not r.crash.stopped
        ]
        return found


def seed(server: Server, count: int, prefix: str) -> dict[str, str | None]:
    """Create `count` users in batches of 1,000 before the first crash (bigger journal, compaction)."""
    created: dict[str, str | None] = {}
    conn = server.connection(timeout=120)
    try:
        for first in range(0, count, 1000):
            names = [f"{prefix}-{i}" for i in range(first, min(count, first + 1000))]
            status, body = call(conn, "POST", f"{API}/users/batch", {"users": [{"username": x} for x in names]}, False)
            if status != 200 or json.loads(body).get("invalidUsers"):
                raise AssertionError(f"seeding failed: {status} {body[:300]!r}")
            created.update(dict.fromkeys(names))
    finally:
        conn.close()
    return created


def run(
    db: Path,
    rounds: int = 5,
    clients: int = 16,
    duration: float = 2.0,
    batch_clients: int = 1,
    batch_size: int = 100,
    racers: int = 16,
    races: int = 10,
    seed_users: int = 0,
    rng: random.Random | None = None,
    log: Any = None,
    compaction: bool = False,
    stop_at: tuple[str, ...] = (),
) -> Report:
    """The crash test on `db` (created if absent). Each round's kill comes after a random
    0.2*duration..duration seconds of load; with `compaction`, the servers compact continuously;
    with `stop_at`, round N is killed once its server's compaction is held at the Nth step (cycling)."""
    rng = rng or random.Random()
    say = log or (lambda message: None)
    report = Report(compaction=compaction, stop_at=stop_at)
    acked: dict[str, str | None] = {}
    run_id = uuid.uuid4().hex[:8]
    for number in range(1, rounds + 2):
        step = stop_at[(number - 1) % len(stop_at)] if stop_at and number <= rounds else None
        try:
            server = start_server(db, compact_always=compaction, stop_at=step)
        except StartFailed as exc:
            report.start_failures.append(f"start {number}: {exc}")
            say(f"start {number}: FAILED: {exc}")
            return report
        try:
            check = verify(server, acked, workers=max(1, min(clients, 8))) if acked else None
            if number == 1 and seed_users:
                acked.update(seed(server, seed_users, f"seed-{run_id}"))
                report.seeded = seed_users
            if number > rounds:  # the start after the last crash: verify, race, stop gracefully
                report.final = check
                say(_verified(number, server, check))
                for _ in range(races):
                    report.races.append(race(server, racers))
                after_races = verify(server, {r.username: r.winner_id for r in report.races if r.winner_id})
                if not after_races.ok:
                    report.final = _merge(check, after_races)
                report.graceful_exit_code = server.stop()
                break
            kill_after = rng.uniform(0.2 * duration, duration)
            crash = load_and_kill(
                server, f"r{number}-{run_id}", clients, kill_after, batch_clients, batch_size, stop_at=step
            )
        finally:
            if server.process.poll() is None and report.graceful_exit_code is None:
                server.kill()
        acked.update(crash.load.acked)
        report.rounds.append(Round(number, server.start_seconds, check, crash))
        say(
            _verified(number, server, check)
            + f"; load: {len(crash.load.acked)} acknowledged of {crash.load.attempted} sent, "
            f"killed after {crash.killed_after_s:.2f} s (journal {crash.journal_bytes_at_kill:,} B, "
            f"snapshot {crash.snapshot_bytes_at_kill:,} B; left {', '.join(crash.files_after_kill)})"
            + (_stopped(crash) if step else "")
        )
    report.acked_total = len(acked)
    return report


def _stopped(crash: Crash) -> str:
    if not crash.stopped:
        return f"; its compaction never stopped at {crash.stop_at}"
    held = crash.acked_while_stopped
    return f"; killed with its compaction held at {crash.stop_at}, {held} writes acknowledged there"


def _merge(a: Verification | None, b: Verification) -> Verification:
    if a is None:
        return b
    return Verification(
        a.checked + b.checked,
        b.listed,
        a.lost + b.lost,
        sorted(set(a.duplicate_usernames + b.duplicate_usernames)),
        sorted(set(a.duplicate_ids + b.duplicate_ids)),
    )


def _verified(number: int, server: Server, check: Verification | None) -> str:
    text = f"start {number}: up in {server.start_seconds:.2f} s"
    if check is not None:
        text += (
            f"; {check.checked} acknowledged users checked, {check.listed} listed, lost {len(check.lost)}, "
            f"duplicated {len(check.duplicate_usernames) + len(check.duplicate_ids)}"
        )
    return text


def summary(report: Report) -> str:
    lines = [
        f"rounds (kill -9 under load): {len(report.rounds)}",
        f"acknowledged users: {report.acked_total:,}"
        + (f" (of which {report.seeded:,} seeded)" if report.seeded else ""),
        f"restarts on the files left: {len(report.rounds) + (1 if report.final or report.races else 0)}, "
        f"failed: {len(report.start_failures)}",
        f"start-up times: {[round(r.start_seconds, 2) for r in report.rounds]} s",
        f"compactions seen (journal shrank between kills): {_compactions(report)}",
        f"kills that interrupted a compaction (a rotated journal left): {report.kills_during_compaction} "
        f"of {len(report.rounds)}",
        *(
            [
                f"kills at a planned compaction step: {sum(r.crash.stopped for r in report.rounds)} of "
                f"{len(report.rounds)} ({', '.join(r.crash.stop_at or '-' for r in report.rounds)})"
            ]
            if report.stop_at
            else []
        ),
        f"lost acknowledged users: {len(report.lost)}",
        f"duplicated usernames or ids: {len(report.duplicates)}",
        f"unexpected answers under load: {len(report.unexpected)}",
        f"same-username races: {len(report.races)}, "
        f"exactly one 200 in {sum(r.ok for r in report.races)} "
        f"({', '.join(sorted({f'{r.statuses.count(200)}x200/{len(r.statuses)}' for r in report.races}))})",
        f"graceful stop exit code: {report.graceful_exit_code}",
    ]
    problems = report.problems()
    lines.extend(problems[:20])
    if len(problems) > 20:
        lines.append(f"... and {len(problems) - 20} more problems")
    lines.append("PASS" if report.ok else "FAIL")
    return "\n".join(lines)


def _compactions(report: Report) -> int:
    sizes = [r.crash.journal_bytes_at_kill for r in report.rounds]
    return sum(1 for a, b in itertools.pairwise(sizes) if b < a)


def _steps(text: str) -> tuple[str, ...]:
    steps = STEPS if text == "all" else tuple(text.split(","))
    unknown = [step for step in steps if step not in STEPS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown step(s) {', '.join(unknown)}: choose from {', '.join(STEPS)}")
    return steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="crashes (default 5)")
    parser.add_argument("--clients", type=int, default=16, help="writer threads, one connection each (default 16)")
    parser.add_argument("--duration", type=float, default=2.0, help="longest load before a kill, s (default 2)")
    parser.add_argument("--batch-clients", type=int, default=1, help="writers that create batches (default 1)")
    parser.add_argument("--batch-size", type=int, default=100, help="users per batch (default 100)")
    parser.add_argument("--racers", type=int, default=16, help="threads in each same-username race (default 16)")
    parser.add_argument("--races", type=int, default=10, help="same-username races (default 10)")
    parser.add_argument("--seed-users", type=int, default=0, help="users created before the first crash")
    parser.add_argument("--seed", type=int, help="random seed for the kill moments")
    parser.add_argument("--db", type=Path, help="database to use (default: a new temporary one)")
    parser.add_argument(
        "--compaction", action="store_true", help="servers compact continuously, so kills interrupt compactions"
    )
    parser.add_argument(
        "--stop-at",
        type=_steps,
        default=(),
        help=f"kill each round at a compaction step, cycling: a comma-separated list of {', '.join(STEPS)}, or all",
    )
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)

    def say(message: str) -> None:
        print(message, flush=True)

    with tempfile.TemporaryDirectory(prefix="alloy-crash-") as folder:
        db = args.db or Path(folder) / "db.json"
        report = run(
            db,
            rounds=args.rounds,
            clients=args.clients,
            duration=args.duration,
            batch_clients=min(args.batch_clients, args.clients),
            batch_size=args.batch_size,
            racers=args.racers,
            races=args.races,
            seed_users=args.seed_users,
            rng=rng,
            log=say,
            compaction=args.compaction,
            stop_at=args.stop_at,
        )
        print(summary(report))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
