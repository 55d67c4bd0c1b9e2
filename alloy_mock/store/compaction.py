"""Compaction: a new snapshot of the state, written while commits go on into a new journal.

Once the journal has grown past the store's threshold (Store._maybe_compact), a compaction

1. rotates the journal (journal.py, GroupCommit.rotate): `db.json.journal` is renamed to
   `db.json.journal.N` and a new, empty `db.json.journal` takes every commit from then on;
2. copies each table's dict, the documents themselves shared (about 6 ms for 100,000 documents):
   the state at the rotation;
3. on the serving event loop, serializes that copy one slice of documents per loop iteration
   (about 0.3 ms each, requests are served in between) into `db.json.tmp`;
4. in a short-lived thread (fsync and rename release the GIL): fsyncs `db.json.tmp`, renames it to
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
import itertools
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson

from .fsync_helper import fsync_path
from .loading import DatabaseFiles
from .tinydb_ext import Tables

# Documents serialized per step on the event loop: about 0.3 ms of work on the benchmark machine.
SLICE = 1000


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
    and a thread; `over` tells when it has ended, `error` whether it failed (after which on_error
    has been called: the database is no longer written to).
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
        self._writing = True  # pieces remain to be written (guarded by self._lock)
        self._lock = threading.Lock()  # between the loop's steps and finish() from another thread
        self._loop: asyncio.AbstractEventLoop | None = None
        self._finisher: threading.Thread | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Write the snapshot a piece per iteration of `loop` (the running one), then finish in a thread."""
        self._loop = loop
        loop.call_soon(self._step)

    def finish(self) -> None:
        """Complete the compaction in this thread (waiting for its thread, if it has one)."""
        with self._lock:
            if self._writing:
                self._writing = False
                try:
                    for piece in self._pieces:
                        self._write(piece)
                    self._put_in_place()
                except OSError as exc:
                    self._failed(exc)
                else:
                    self.over = True
        if self._finisher is not None:
            self._finisher.join()

    def poll(self) -> bool:
        """Whether the compaction has ended; one whose event loop has closed is finished here first."""
        if not self.over and self._loop is not None and self._loop.is_closed():
            self.finish()
        return self.over

    def _step(self) -> None:
        with self._lock:
            if not self._writing:
                return  # finished elsewhere
            try:
                piece = next(self._pieces, None)
                if piece is not None:
                    self._write(piece)
            except OSError as exc:
                self._writing = False
                self._failed(exc)
                return
            if piece is None:
                self._writing = False
                self._finisher = threading.Thread(target=self._finish_in_thread, name="alloy-mock-compaction")
                self._finisher.start()
                return
        assert self._loop is not None
        self._loop.call_soon(self._step)

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
