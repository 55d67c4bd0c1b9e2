"""The emulator's clock: the system time, which tests can freeze or move forward.

Token lifetimes and timestamps read this clock, so a test can expire a token without waiting.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Sequence
from datetime import datetime, timezone

from .domain.errors import InvalidInput

# "000" to "999": a list index is a fraction of what formatting an int with ":03d" costs, on every timestamp.
_MILLISECONDS = [f"{n:03d}" for n in range(1000)]


def iso_time(epoch: float) -> str:
    """The vendor's timestamp format: ISO 8601 UTC with milliseconds, e.g. 2023-12-07T17:20:51.889Z.

    A time outside what the clock can show (see EARLIEST, LATEST) is written as the nearest end of the range."""
    epoch = min(max(epoch, EARLIEST), LATEST + 0.9995)  # the last millisecond; .9999995 would round into 10000
    # Rounded to the microsecond first, as datetime.fromtimestamp() does.
    fraction, whole = math.modf(epoch)
    second, micro = divmod(int(whole) * 1_000_000 + round(fraction * 1_000_000), 1_000_000)
    return f"{_iso_second(second)}.{_MILLISECONDS[micro // 1000]}Z"


def iso_milliseconds(milliseconds: int) -> str:
    """iso_time() of a time given in whole milliseconds since the epoch (no rounding to do)."""
    second, millisecond = divmod(min(max(milliseconds, 0), int(LATEST) * 1000 + 999), 1000)
    return f"{_iso_second(second)}.{_MILLISECONDS[millisecond]}Z"


def iso_milliseconds_series(start: int, offsets: Sequence[int]) -> list[str]:
    """iso_milliseconds(start + offset) for each offset (ascending, from 0): a run's block times, with the
    date part worked out once per second rather than once per time."""
    stamps = []
    top = int(LATEST) * 1000 + 999
    second, date = -1, ""
    for offset in offsets:
        at = start + offset
        if not 0 <= at <= top:
            at = min(max(at, 0), top)
        if at // 1000 != second:
            second = at // 1000
            date = _iso_second(second)
        stamps.append(f"{date}.{_MILLISECONDS[at % 1000]}Z")
    return stamps


@functools.lru_cache(maxsize=4)
def _iso_second(second: int) -> str:
    # Timestamps are written on every user creation; the date part changes once a second.
    return datetime.fromtimestamp(second, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


# The times the emulator can show: from the epoch to the end of year 9999 (what ISO 8601 can write).
EARLIEST = 0.0
LATEST = 253402300799.0


class OutOfRange(InvalidInput):
    """A time the clock cannot show (the HTTP layer answers 400)."""


def _checked(moment: float) -> float:
    if not EARLIEST <= moment <= LATEST:
        raise OutOfRange("the clock must stay between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z")
    return moment


class Clock:
    def __init__(self) -> None:
        self._frozen_at: float | None = None
        self._offset = 0.0

    def now(self) -> float:
        """Seconds since the epoch, as the emulator sees them: a running clock stops at the end of the range
        (the end of year 9999) rather than show a time no timestamp can write."""
        if self._frozen_at is not None:
            return self._frozen_at
        moment = time.time() + self._offset
        if EARLIEST <= moment <= LATEST:  # comparisons, not min(max()): two calls less, twice per request
            return moment
        return EARLIEST if moment < EARLIEST else LATEST

    def iso_now(self) -> str:
        """The time as the vendor writes it: ISO 8601 UTC with milliseconds, e.g. 2023-12-07T17:20:51.889Z."""
        return iso_time(self.now())

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def freeze(self, at: float | None = None) -> None:
        """Stop the clock, at `at` (epoch seconds) or at the current emulated time."""
        self._frozen_at = self.now() if at is None else _checked(at)

    def unfreeze(self) -> None:
        """Let the clock run again from where it stands."""
        if self._frozen_at is not None:
            self._offset = self._frozen_at - time.time()
            self._frozen_at = None

    def advance(self, seconds: float) -> None:
        """Move the clock forward (or back, with a negative number); OutOfRange past the range above."""
        moved = _checked(self.now() + seconds)
        if self._frozen_at is not None:
            self._frozen_at = moved
        else:
            self._offset = moved - time.time()  # from the time shown, which may be held at the end of the range

    def reset(self) -> None:
        """Back to the system time."""
        self._frozen_at = None
        self._offset = 0.0
