"""`alloy-mock serve` with compaction forced: a compaction starts whenever the journal holds more than
BYTES bytes (whatever the snapshot's size) and none is running. For bench.py's "during compaction"
row and crash.py's --compaction and --stop-at modes; not meant for anything else.

    python bench/compacting_server.py BYTES [--unflushed] [--stop-at STEP] serve --port 0 --db DB [serve options]

With BYTES = 1 a compaction starts at the first commit after the previous one ended, so the
server is compacting nearly all the time.

With --unflushed the snapshot is not flushed as it is written (compaction.FLUSH_BYTES made
unreachable): written whole, then fsynced once, as before it was; for compaction_row.py's "before"
series, measured in the same run as the rest.

With --stop-at STEP the second compaction started on the serving loop (the first one completes, so
its snapshot is on disk) never gets past STEP, while requests go on being served and every commit
goes to the new journal; the server prints `compaction stopped at STEP` on stdout once it is there,
so that a test can kill it at exactly that step. The steps, in order (compaction.py):

    rotated   the journal renamed to db.json.journal.N, db.json.tmp opened, no piece of it written
    writing   the first piece of the snapshot written to db.json.tmp, the rest never comes
    written   db.json.tmp complete, before its fsync and its rename over db.json
    renamed   db.json replaced, before the rotated journal is removed
    removed   the rotated journal unlinked, before the folder's last fsync
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Iterator
from typing import Any

from alloy_mock import cli
from alloy_mock.store import compaction, store
from alloy_mock.store.fsync_helper import fsync_path as real_fsync_path

STEPS = ("rotated", "writing", "written", "renamed", "removed")
STOPPED_COMPACTION = 2  # on the serving loop: the first one completes
# The compaction thread's fsyncs (Compaction._put_in_place), and the step each one is called at.
FSYNC_STEPS = ("written", "renamed", "removed")


class Stopper:
    """Holds one compaction at one step (see the module's doc), by wrapping two of compaction.py's
    functions: snapshot_pieces (run a piece per loop iteration) and fsync_path (in its thread)."""

    def __init__(self, step: str) -> None:
        self.step = step
        self.started = 0  # compactions whose pieces were asked for on the serving loop
        self.stopped_one_wrote_all = False
        self.fsyncs = 0  # of the stopped compaction's thread

    def announce(self) -> None:
        print(f"compaction stopped at {self.step}", flush=True)

    def pieces(self, tables: Any, docs_per_piece: int) -> Iterator[bytes]:
        real = real_snapshot_pieces(tables, docs_per_piece)
        if not self._on_loop():
            yield from real  # start-up or shutdown: not the serving loop's compactions
            return
        self.started += 1
        if self.started != STOPPED_COMPACTION:
            yield from real
            return
        if self.step in ("rotated", "writing"):
            if self.step == "writing":
                yield next(real)
            self.announce()
            while True:  # an empty piece per loop iteration: the loop goes on serving, the file stays as it is
                yield b""
        yield from real
        self.stopped_one_wrote_all = True  # its thread starts next: see fsync_path

    def fsync_path(self, path: Any) -> None:
        if self.stopped_one_wrote_all and threading.current_thread() is not threading.main_thread():
            if FSYNC_STEPS[self.fsyncs] == self.step:
                self.announce()
                threading.Event().wait()  # for ever: the test kills the process now
            self.fsyncs += 1
        real_fsync_path(path)

    @staticmethod
    def _on_loop() -> bool:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        return True


real_snapshot_pieces = compaction.snapshot_pieces


def main(argv: list[str]) -> int:
    store.MIN_COMPACTION_BYTES = int(argv[0])
    store.JOURNAL_PER_SNAPSHOT = 0
    rest = argv[1:]
    if rest[:1] == ["--unflushed"]:
        compaction.FLUSH_BYTES = 1 << 62
        rest = rest[1:]
    if rest[:1] == ["--stop-at"]:
        if rest[1:2] == [] or rest[1] not in STEPS:
            print(f"--stop-at takes one of {', '.join(STEPS)}", file=sys.stderr)
            return 2
        stopper = Stopper(rest[1])
        compaction.snapshot_pieces = stopper.pieces
        compaction.fsync_path = stopper.fsync_path  # type: ignore[attr-defined]
        rest = rest[2:]
    return cli.main(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
