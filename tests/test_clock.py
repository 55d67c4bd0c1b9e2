"""The emulator clock and the vendor's timestamp format."""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta, timezone

import pytest

from alloy_mock.clock import EARLIEST, LATEST, Clock, iso_milliseconds, iso_time


def reference_format(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def test_iso_time_matches_datetime_formatting_to_the_millisecond() -> None:
    """iso_time() caches the date part per second; it must still agree with datetime everywhere,
    including the sub-microsecond rounding at millisecond boundaries."""
    rng = random.Random(20231207)
    samples = [rng.uniform(0, 2e9) for _ in range(50_000)] + [1701969651.8889995, 1701969651.9999996, 0.0]
    mismatches = [(t, iso_time(t), reference_format(t)) for t in samples if iso_time(t) != reference_format(t)]
    assert not mismatches, mismatches[:5]


def test_iso_time_shape() -> None:
    assert iso_time(1701969651.889) == "2023-12-07T17:20:51.889Z"


def test_frozen_clock_advances_only_when_told() -> None:
    clock = Clock()
    clock.freeze(1_000_000.0)
    assert clock.now() == 1_000_000.0
    clock.advance(1800)
    assert clock.now() == 1_001_800.0
    assert clock.iso_now() == iso_time(1_001_800.0)
    clock.unfreeze()
    assert clock.now() == pytest.approx(1_001_800.0, abs=5)  # runs on from where it stood
    clock.reset()
    assert not clock.frozen


def test_iso_milliseconds_is_exact_for_whole_milliseconds() -> None:
    rng = random.Random(1212)
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    for milliseconds in [0, 999, 1000, 1701969651889, *(rng.randrange(0, 253402300799999) for _ in range(2000))]:
        moment = epoch + timedelta(milliseconds=milliseconds)
        assert iso_milliseconds(milliseconds) == moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{milliseconds % 1000:03d}Z"
    assert iso_milliseconds(1701969651889) == iso_time(1701969651.889)


@pytest.mark.parametrize(("held_at", "wall_clock_moves", "shown"), [(LATEST, 5.0, LATEST), (EARLIEST, -5.0, EARLIEST)])
def test_a_running_clock_stays_within_the_range(
    monkeypatch: pytest.MonkeyPatch, held_at: float, wall_clock_moves: float, shown: float
) -> None:
    wall = time.time()
    monkeypatch.setattr(time, "time", lambda: wall)
    clock = Clock()
    clock.freeze(held_at)
    clock.unfreeze()
    assert clock.now() == held_at
    monkeypatch.setattr(time, "time", lambda: wall + wall_clock_moves)  # the machine's clock moves on (or back)
    assert clock.now() == shown
