"""The journal of one database: its files opened and locked, every commit made durable, compactions.

A facade over the modules that do the work: loading.py (the files, and reading them back at
start-up), lock.py (one server per database), group_commit.py (appending and fsyncing, in group
commits) and compaction.py (a new snapshot, written while commits go on into a new journal). The
files and the order recovery reads them in are described in loading.py.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable
from pathlib import Path

import orjson

from .compaction import Compaction
from .fsync_helper import fsync_path
from .group_commit import READY, DurabilityError, GroupCommit
from .loading import DatabaseError, DatabaseFiles, LoadedState, load, rotated_number
from .lock import release_lock, take_lock
from .tinydb_ext import Op, Tables

__all__ = ["READY", "DatabaseError", "DurabilityError", "Journal", "LoadedState"]


class Journal:
    """Owns the files of one database: loads them, makes every committed transaction durable, compacts."""

    _commits: GroupCommit  # set by open(), which comes first

    def __init__(self, path: Path) -> None:
        self.path = path
        self.files = DatabaseFiles(path)
        self.journal_bytes = 0  # appended since the last rotation (after a start: every journal read)
        self.snapshot_bytes = 0  # the last snapshot's size
        self._lock_fd: int | None = None
        self._rotated: list[Path] = []  # rotated journals that no compaction has taken on yet
        self._compaction: Compaction | None = None  # the one running on the serving loop

    def open(self) -> LoadedState:
        """Lock the files and load the state. Raises DatabaseError."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"{self.path.parent}: cannot create the data folder: {exc.strerror}") from exc
        self._lock_fd = take_lock(self.files.lock, self.path)
        try:
            state = load(self.files)
            self.journal_bytes, self.snapshot_bytes = state.journal_bytes, state.snapshot_bytes
            fd = self._open_journal()
        except BaseException:
            release_lock(self._lock_fd)
            self._lock_fd = None
            raise
        self._commits = GroupCommit(self.files, fd, self._lock_fd)
        self._rotated = state.rotated
        return state

    def _open_journal(self) -> int:
        """Open the journal for appending (created if absent), and write an empty snapshot if there is
        none, so that the file named by --db exists from the start."""
        journal = self.files.journal
        created = not journal.exists()
        try:
            fd = os.open(journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            if created:
                fsync_path(self.files.folder)
        except OSError as exc:
            raise DatabaseError(f"{journal}: cannot open for writing: {exc.strerror}") from exc
        if not self.files.snapshot.exists():
            first = Compaction(self.files, {}, [])
            first.finish()
            if first.error is not None:
                os.close(fd)
                raise DatabaseError(f"{self.path}: cannot write: {first.error}")
            self.snapshot_bytes = first.size
        return fd

    # -- writing ----------------------------------------------------------------------------------

    @property
    def pending(self) -> bool:
        return self._commits.pending

    @property
    def helper_pid(self) -> int | None:
        """The fsync helper's process id while it runs (for tests and diagnostics)."""
        return self._commits.helper_pid

    def append(self, ops: list[Op]) -> int:
        """Commit one transaction; returns its sequence number (see GroupCommit.append)."""
        line = orjson.dumps(ops, option=orjson.OPT_APPEND_NEWLINE)  # the same bytes, in one buffer
        seq = self._commits.append(line)
        self.journal_bytes += len(line)
        return seq

    def wait(self, seq: int | None = None) -> Awaitable[None]:
        """Something to await until everything committed up to `seq` (default: all so far) is on disk."""
        return self._commits.wait(seq)

    def flush(self) -> None:
        """Make everything committed so far durable before returning (for code outside the event loop)."""
        self._commits.flush()

    def start_sync_helper(self) -> None:
        self._commits.start_sync_helper()

    # -- compaction ---------------------------------------------------------------------------------

    def can_compact(self) -> bool:
        """Whether no compaction is running (taking the result of one that has ended)."""
        compaction = self._compaction
        if compaction is not None and compaction.poll():
            self._compaction = None
            self._take_result(compaction)
        return self._compaction is None

    def compact(self, tables: Tables) -> bool:
        """Rotate the journal and write a snapshot of `tables` (the store's live tables, copied now).

        On the serving event loop this returns at once and the snapshot is written in the
        background (compaction.py); anywhere else it is in place when this returns. Returns False
        when nothing was started: a compaction is still running, or the last rotation is not
        durable yet (the next commit tries again).
        """
        if not self.can_compact():
            return False
        commits = self._commits
        number = 1 + max((rotated_number(path) for path in self._rotated), default=0)
        rotated = self.files.rotated_journal(number)
        if not commits.rotate(lambda: self._rotate_to(rotated)):
            return False
        covered, self._rotated = [*self._rotated, rotated], []
        self.journal_bytes = 0
        compaction = Compaction(self.files, tables, covered, on_error=commits.fail)
        loop = commits.serving_loop()
        if loop is None:
            commits.flush()  # makes the rotation durable now, as the loop's next group commit would
            compaction.finish()
            self._take_result(compaction)
        else:
            self._compaction = compaction
            compaction.start(loop)
        return True

    def _take_result(self, compaction: Compaction) -> None:
        if compaction.error is None:  # else the journal has failed: no more writes, no more compactions
            self.snapshot_bytes = compaction.size

    def _rotate_to(self, rotated: Path) -> int:
        os.rename(self.files.journal, rotated)
        return os.open(self.files.journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)

    # -- closing --------------------------------------------------------------------------------------

    def close(self) -> None:
        """Finish a running compaction, write what is pending, and let go of the files."""
        if self._compaction is not None:
            self._compaction.finish()
            self.can_compact()
        self._commits.close()
        if self._lock_fd is not None:
            release_lock(self._lock_fd)
            self._lock_fd = None
