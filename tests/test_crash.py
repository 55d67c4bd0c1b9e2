"""The crash test of bench/crash.py in a reduced size: kill -9 under load (and at every step of a compaction),
restart, nothing lost."""

from __future__ import annotations

import importlib.util
import random
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

CRASH_PY = Path(__file__).resolve().parent.parent / "bench" / "crash.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("alloy_mock_bench_crash", CRASH_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


crash: Any = _load()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Any]:
    started = crash.start_server(tmp_path / "db.json")
    yield started
    started.kill()


def reduced_run(tmp_path: Path, **changes: Any) -> tuple[Any, str]:
    """crash.run() in the reduced size CI affords, with a fresh random seed; the report and its summary."""
    seed = random.randrange(2**32)
    options: dict[str, Any] = {
        "rounds": 3,
        "clients": 8,
        "duration": 1.2,
        "batch_clients": 1,
        "batch_size": 50,
        "racers": 8,
        "races": 3,
        **changes,
    }
    report = crash.run(tmp_path / "db.json", rng=random.Random(seed), **options)
    return report, f"seed {seed}\n{crash.summary(report)}"


def test_kill_9_under_write_load_loses_no_acknowledged_user(tmp_path: Path) -> None:
    report, text = reduced_run(tmp_path)
    assert report.ok, text
    assert len(report.rounds) == 3, text
    assert all(r.crash.acked_before_kill > 0 for r in report.rounds), text
    assert report.final is not None and report.final.checked == report.acked_total > 0, text


# The database's files right after a kill at each step (N: the rotated journal's number).
FILES_AT_STEP = {
    "rotated": ["db.json", "db.json.journal", "db.json.journal.N", "db.json.tmp"],  # the tmp empty
    "writing": ["db.json", "db.json.journal", "db.json.journal.N", "db.json.tmp"],
    "written": ["db.json", "db.json.journal", "db.json.journal.N", "db.json.tmp"],
    "renamed": ["db.json", "db.json.journal", "db.json.journal.N"],
    "removed": ["db.json", "db.json.journal"],
}


def test_kill_9_at_every_step_of_a_compaction_loses_no_acknowledged_user(tmp_path: Path) -> None:
    """Each round's server holds its compaction at one step (bench/compacting_server.py --stop-at)
    while the load goes on; it is killed once it says it is there and 20 more writes were
    acknowledged (in the new journal); the next start must find every acknowledged user, once."""
    report, text = reduced_run(tmp_path, rounds=len(crash.STEPS), races=2, seed_users=2_000, stop_at=crash.STEPS)
    assert report.ok, text
    assert [r.crash.stop_at for r in report.rounds] == list(crash.STEPS), text
    for r in report.rounds:
        assert r.crash.stopped and r.crash.acked_while_stopped == 20, text
        left = sorted(re.sub(r"journal\.[0-9]+$", "journal.N", name) for name in r.crash.files_after_kill)
        assert left == FILES_AT_STEP[r.crash.stop_at], f"{r.crash.stop_at}: {r.crash.files_after_kill}\n{text}"
    assert report.final is not None and report.final.checked == report.acked_total > 2_000, text


def test_a_round_whose_compaction_never_stopped_fails_the_report() -> None:
    verification = crash.Verification(checked=1, listed=1, lost=[], duplicate_usernames=[], duplicate_ids=[])
    files = ["db.json", "db.json.journal"]
    held = crash.Crash(crash.LoadResult(), 1.0, 5, 10, 10, files, "renamed", True, 20)
    never = crash.Crash(crash.LoadResult(), 1.0, 5, 10, 10, files, "renamed", False, 0)
    good = crash.Report(rounds=[crash.Round(1, 0.1, None, held)], final=verification, graceful_exit_code=0)
    assert good.ok
    bad = crash.Report(rounds=[crash.Round(1, 0.1, None, never)], final=verification, graceful_exit_code=0)
    assert not bad.ok
    assert bad.problems() == ["round 1: the server never said its compaction was held at renamed"]


def test_same_username_race_has_exactly_one_winner(server: Any) -> None:
    for _ in range(5):
        result = crash.race(server, racers=16)
        assert result.statuses.count(200) == 1, result
        assert sorted(set(result.statuses)) == [200, 400], result
        assert result.ok, result


def test_verify_reports_lost_and_mismatched_users(server: Any) -> None:
    """The checks can fail: a username never created, or created with another id, is reported lost."""
    status, body = crash.call(server.connection(), "POST", "/2023-12/users", {"username": "kept"})
    assert status == 200
    user_id = crash.json.loads(body)["userId"]
    ok = crash.verify(server, {"kept": user_id})
    assert ok.ok and ok.checked == 1 and ok.listed == 1
    bad = crash.verify(server, {"kept": "0" * 24, "never-created": None})
    assert not bad.ok
    assert sorted(x.split(" ", 1)[0] for x in bad.lost) == ["kept", "never-created"]


def test_report_fails_on_loss_duplicates_or_a_bad_race() -> None:
    verification = crash.Verification(checked=1, listed=1, lost=[], duplicate_usernames=[], duplicate_ids=[])
    good_race = crash.Race("x", [200, 400], ["", crash.USER_EXISTS], "a", "a")
    assert good_race.ok
    assert crash.Report(final=verification, races=[good_race], graceful_exit_code=0).ok
    lost = crash.Verification(checked=1, listed=0, lost=["x"], duplicate_usernames=[], duplicate_ids=[])
    assert not crash.Report(final=lost, graceful_exit_code=0).ok
    doubled = crash.Verification(checked=1, listed=2, lost=[], duplicate_usernames=["x"], duplicate_ids=[])
    assert not crash.Report(final=doubled, graceful_exit_code=0).ok
    two_winners = crash.Race("x", [200, 200], ["", ""], "a", "a")
    assert not crash.Report(final=verification, races=[two_winners], graceful_exit_code=0).ok
    assert not crash.Report(final=verification, graceful_exit_code=1).ok
    calm = crash.Crash(crash.LoadResult(), 1.0, 5, 10, 10, ["db.json", "db.json.journal"])
    interrupted = crash.Crash(crash.LoadResult(), 1.0, 5, 10, 10, ["db.json", "db.json.journal", "db.json.journal.1"])
    assert interrupted.during_compaction and not calm.during_compaction
    rounds = [crash.Round(1, 0.1, None, calm)]
    assert not crash.Report(rounds=rounds, final=verification, graceful_exit_code=0, compaction=True).ok
    rounds.append(crash.Round(2, 0.1, None, interrupted))
    assert crash.Report(rounds=rounds, final=verification, graceful_exit_code=0, compaction=True).ok
