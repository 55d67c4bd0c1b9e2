"""Compaction: a new snapshot of the state, written while commits go on into a new journal.

Once the journal has grown past the store's threshold (Store._maybe_compact), a compaction

1. rotates the journal (journal.py, GroupCommit.rotate): `db.json.journal` is renamed to
   `db.json.journal.N` and a new, empty `db.json.journal` takes every commit from then on;
2. copies each table's dict, the documents themselves shared (about 6 ms for 100,000 documents):
   the state at the rotation;
3. on the serving event loop, serializes that copy one slice of documents per loop iteration
   (under 0.1 ms each, requests are served in between) into `db.json.tmp`, while a worker thread
   fdatasyncs each FLUSH_BYTES of it (the loop waits for the worker beyond 2 * FLUSH_BYTES), so
   little of it is ever dirty: ext4 makes the journal's fsync wait for the snapshot's dirty data;
4. in that worker thread (fsync and rename release the GIL): fsyncs `db.json.tmp`, renames it to
   `db.json`, fsyncs the folder, removes the rotated journal(s) and fsyncs the folder again.

No commit waits for any of it: the new journal is fsynced by the group commit as usual. Outside the
serving loop (start-up, scripts, tests) the same steps run to completion before compact() returns.

Why the snapshot is right although the documents keep changing while it is serialized (they are
updated in place): a document changed after the rotation may be written with its newer value, but
that change is also in the new journal, which loading replays after the snapshot, and journal
operations are absolute; a document not changed after the rotation has the value it had then. A
crash at any step leaves files that load to the same state (loading.py): before the rename the old
snapshot and the rotated journal are still there; after it, replaying the rotated journal over a
snapshot that already contains it changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson

from .fsync_helper import fsync_path
from .loading import DatabaseFiles
from .tinydb_ext import Tables

# Documents serialized per step on the event loop: about 50 KB of users, under 0.1 ms of work on the
# benchmark machine.
SLICE = 250
# Snapshot bytes written between two fdatasyncs (see Compaction): about one slice of users. Small, because
# a journal fsync waits for whatever of the snapshot is dirty (bench/compaction_row.py: p99 of POST /users
# during compaction 9.5-14 ms with 1 MiB, 4-6 ms with 32-128 KiB, at the cost of a compaction taking
# about 2-3 s instead of 0.7 s for 100,000 users: nothing waits for it).
FLUSH_BYTES = 64 << 10
# fdatasync skips the metadata that reading the data back does not need; some platforms lack it.
_fdatasync: Callable[[int], None] = getattr(os, "fdatasync", os.fsync)


def snapshot_pieces(tables: Tables, docs_per_piece: int) -> Iterator[bytes]:
    """The snapshot's JSON, byte for byte what orjson.dumps(tables) writes, in pieces that each hold
    at most `docs_per_piece` documents."""
    pending = [b"{"]
    for number, (name, table) in enumerate(tables.items()):
        pending.append((b"," if number else b"") + orjson.dumps(name) + b":{")
        items = iter(table.items())
        separator = b""
        while docs := dict(itertools.islice(items, docs_per_piece)):
            pending.append(separator + orjson.dumps(docs)[1:-1])  # the documents without their braces
            separator = b","
            yield b"".join(pending)
            pending = []
        pending.append(b"}")
    pending.append(b"}")
    yield b"".join(pending)


class Compaction:
    """One compaction, from the moment the journal has been rotated: writes the snapshot of `tables`
    and then removes the rotated journals it covers (`covered`).

    Either finish() does it all in the calling thread, or start() spreads it over the serving loop
    and a worker thread; `over` tells when it has ended, `error` whether it failed (after which
    on_error has been called: the database is no longer written to).

    On the loop, the snapshot is flushed as it is written: each FLUSH_BYTES written are fdatasynced
    by the worker while the loop writes on, and the loop pauses once 2 * FLUSH_BYTES are not flushed.
    Why: on ext4 (data=ordered) the journal's fsync waits for the snapshot's dirty data; written
    whole and fsynced once, that was all 20 MiB of it, and commits waited 40-90 ms
    (bench/fsync_during_snapshot.py measures it); flushed per MiB, the p99 was still 9.5-14 ms.
    """

    def __init__(
        self,
        files: DatabaseFiles,
        tables: Tables,
        covered: list[Path],
        on_error: Callable[[OSError], None] | None = None,
    ) -> None:
        self.files = files
        self.covered = covered
        self.size = 0  # bytes of the snapshot written so far
        self.over = False
        self.error: OSError | None = None
        self._pieces = snapshot_pieces({name: table.copy() for name, table in tables.items()}, SLICE)
        self._on_error = on_error
        self._fd: int | None = None  # the temporary file, while it is written
        # Guarded by self._lock (between the loop's steps and finish() from another thread):
        self._writing = True  # pieces remain to be written, by the loop (or by finish())
        self._flushed = 0  # bytes fdatasynced
        self._flushing = False  # a flush is in the worker's hands
        self._paused = False  # the loop waits for that flush before it writes on
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        # Flushes, then the end of the compaction (or its failure), in this order, off the loop.
        self._worker: ThreadPoolExecutor | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Write the snapshot a piece per iteration of `loop` (the running one), then finish in a thread."""
        self._loop = loop
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alloy-mock-compaction")
        loop.call_soon(self._step)

    def finish(self) -> None:
        """Complete the compaction in this thread (waiting for its worker thread, if it has one)."""
        with self._lock:
            writing, self._writing = self._writing, False
        if self._worker is not None:
            self._worker.shutdown(wait=True)  # its flush in flight, or the end of the compaction
        if not writing:
            return
        try:
            for piece in self._pieces:
                self._write(piece)
            self._put_in_place()
        except OSError as exc:
            self._failed(exc)
        else:
            self.over = True

    def poll(self) -> bool:
        """Whether the compaction has ended; one whose event loop has closed is finished here first."""
        if not self.over and self._loop is not None and self._loop.is_closed():
            self.finish()
        return self.over

    # -- on the loop -------------------------------------------------------------------------------

    def _step(self) -> None:
        with self._lock:
            if not self._writing:
                return  # finished elsewhere
            if self.size - self._flushed >= 2 * FLUSH_BYTES:
                self._paused = True  # the flush in flight calls this again when it is done
                return
            try:
                piece = next(self._pieces, None)
                if piece is not None:
                    self._write(piece)
            except OSError as exc:
                self._writing = False
                self._in_worker(self._failed, exc)
                return
            if piece is None:
                self._writing = False
                self._in_worker(self._finish_in_thread)
                return
            self._maybe_flush()
        assert self._loop is not None
        self._loop.call_soon(self._step)

    def _maybe_flush(self) -> None:
        if not self._flushing and self.size - self._flushed >= FLUSH_BYTES:
            self._flushing = True
            self._in_worker(self._flush, self.size)

    def _flush_done(self, covered: int, error: OSError | None) -> None:
        with self._lock:
            self._flushing = False
            if not self._writing:
                return  # the rest is finish()'s, or the worker's
            if error is not None:
                self._writing = False
                self._in_worker(self._failed, error)
                return
            self._flushed = covered
            self._maybe_flush()
            paused, self._paused = self._paused, False
        if paused:
            self._step()

    def _in_worker(self, function: Callable[..., None], *args: Any) -> None:
        assert self._worker is not None
        self._worker.submit(function, *args)

    # -- in the worker (or in finish()'s thread) ---------------------------------------------------

    def _flush(self, covered: int) -> None:
        error = None
        try:
            assert self._fd is not None
            _fdatasync(self._fd)
        except OSError as exc:
            error = exc
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # the loop has closed: finish() takes over
            self._loop.call_soon_threadsafe(self._flush_done, covered, error)

    def _write(self, piece: bytes) -> None:
        if self._fd is None:
            self._fd = os.open(self.files.temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        view = memoryview(piece)
        while view:
            view = view[os.write(self._fd, view) :]
        self.size += len(piece)

    def _finish_in_thread(self) -> None:
        try:
            self._put_in_place()
        except OSError as exc:
            self._failed(exc)
        else:
            self.over = True

    def _put_in_place(self) -> None:
        """fsync the temporary file, rename it over the snapshot, fsync the folder; then remove the
        rotated journals (the snapshot holds what they held) and fsync the folder again."""
        assert self._fd is not None, "every snapshot has a piece, if only b'{}'"
        fd, self._fd = self._fd, None
        os.close(fd)
        fsync_path(self.files.temporary)
        os.replace(self.files.temporary, self.files.snapshot)
        fsync_path(self.files.folder)
        for path in self.covered:
            path.unlink(missing_ok=True)
        fsync_path(self.files.folder)

    def _failed(self, exc: OSError) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self.error = exc
        self.over = True
        if self._on_error is not None:
            self._on_error(exc)
