"""Files on disk: a snapshot, an append-only journal, and a group-commit writer thread.

Layout, for a database path `db.json`:

- `db.json`          the snapshot, in TinyDB's own JSON format ({table: {id: document}}). Only ever
                     replaced atomically (write a temporary file, fsync, rename, fsync the folder).
- `db.json.journal`  one JSON line per transaction (a list of put/del/drop operations), appended
                     and fsynced before the transaction is acknowledged.
- `db.json.lock`     an exclusive lock held while a server uses the files.

Loading replays the journal over the snapshot. Operations are absolute (a whole document, or a
removal), so replaying a journal over a snapshot that already contains it gives the same state:
a crash between "snapshot renamed" and "journal emptied" is harmless. A torn last line (a crash
in the middle of an append, never acknowledged) is cut off; damage anywhere else stops the load.

Fsync policy: a transaction is acknowledged only after the journal line holding it has been
written and fsynced. The writer thread takes every line queued while it was busy and writes them
with one fsync (group commit), so the event loop never blocks on the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import threading
from collections.abc import Awaitable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..errors import StartupError
from .tinydb_ext import Op, Tables, apply_op

try:  # POSIX only; elsewhere a second server on the same files is not detected.
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]


class DatabaseError(StartupError):
    """The database files cannot be used; the message says which file and why."""


class DurabilityError(Exception):
    """A change could not be written to disk."""


@dataclass(frozen=True)
class LoadedState:
    tables: Tables
    snapshot_bytes: int
    journal_bytes: int
    journal_lines: int


def _validate_tables(data: Any, path: Path) -> Tables:
    if not isinstance(data, dict) or not all(
        isinstance(table, dict) and all(isinstance(doc, dict) for doc in table.values()) for table in data.values()
    ):
        raise DatabaseError(
            f"{path}: not an alloy-mock database (expected {{table: {{id: document}}}}); left untouched"
        )
    return data


class _Snapshot:
    """A queued request to replace the snapshot with these bytes, then empty the journal."""

    def __init__(self, data: bytes) -> None:
        self.data = data


_STOP = _Snapshot(b"")  # queued by close(): the writer stops after what was queued before it


class _Ready:
    """An awaitable that is already complete: what wait() returns when there is nothing to wait for."""

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield  # a generator that returns at once


READY = _Ready()


class Journal:
    """Owns the files of one database and writes them from a background thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.journal_path = path.with_name(path.name + ".journal")
        self.lock_path = path.with_name(path.name + ".lock")
        self._lock_fd: int | None = None
        self._fd: int | None = None
        # The event loop's side takes the plain lock (cheap, in C) once per write and per wait; the
        # condition on that lock is for flush(), which blocks a thread until the writer catches up.
        self._lock = threading.Lock()
        self._flushed = threading.Condition(self._lock)
        self._queue: queue.SimpleQueue[bytes | _Snapshot] = queue.SimpleQueue()
        self._queued_seq = 0  # items queued so far (each one's sequence number is its position)
        self._durable_seq = 0  # items on disk so far
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    # -- opening and loading --------------------------------------------------------------

    def open(self) -> LoadedState:
        """Lock the files, load the state and start the writer. Raises DatabaseError."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"{self.path.parent}: cannot create the data folder: {exc.strerror}") from exc
        self._take_lock()
        try:
            state = self._load()
            if not self.path.exists():
                # Start with an (empty) snapshot, so the file named by --db exists from the start.
                self._replace_snapshot(b"{}")
            self._fd = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except BaseException:
            self._release_lock()
            raise
        self._thread = threading.Thread(target=self._run, name="alloy-mock-journal", daemon=True)
        self._thread.start()
        return state

    def _take_lock(self) -> None:
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise DatabaseError(f"{self.lock_path}: cannot open: {exc.strerror}") from exc
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                raise DatabaseError(
                    f"{self.path}: in use by another alloy-mock process; one server (one worker) per database file"
                ) from exc
        self._lock_fd = fd

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing drops the flock
            self._lock_fd = None

    def _load(self) -> LoadedState:
        tables: Tables = {}
        snapshot_bytes = 0
        if self.path.exists():
            try:
                raw = self.path.read_bytes()
            except OSError as exc:
                raise DatabaseError(f"{self.path}: cannot read: {exc.strerror}") from exc
            snapshot_bytes = len(raw)
            if raw.strip():
                try:
                    tables = _validate_tables(orjson.loads(raw), self.path)
                except orjson.JSONDecodeError as exc:
                    raise DatabaseError(f"{self.path}: corrupt database (invalid JSON: {exc}); left untouched") from exc
        journal_bytes, lines = self._replay(tables)
        return LoadedState(tables, snapshot_bytes, journal_bytes, lines)

    def _replay(self, tables: Tables) -> tuple[int, int]:
        if not self.journal_path.exists():
            return 0, 0
        try:
            raw = self.journal_path.read_bytes()
        except OSError as exc:
            raise DatabaseError(f"{self.journal_path}: cannot read: {exc.strerror}") from exc
        offset = 0
        count = 0
        while offset < len(raw):
            end = raw.find(b"\n", offset)
            line = raw[offset:] if end < 0 else raw[offset:end]
            try:
                if end < 0:
                    raise ValueError("no newline")
                ops = orjson.loads(line)
                if not isinstance(ops, list):
                    raise ValueError("not a list")
                for op in ops:
                    apply_op(tables, op)
            except (ValueError, TypeError, IndexError, KeyError) as exc:
                if end < 0:
                    # A last line without its newline was torn by a crash while it was being
                    # appended; it was never acknowledged, so it is dropped. A complete line that
                    # does not parse is damage, and stops the load like any other.
                    self._truncate_journal(offset)
                    return offset, count
                raise DatabaseError(
                    f"{self.journal_path}: corrupt journal at byte {offset} ({exc}); left untouched"
                ) from exc
            offset = end + 1
            count += 1
        return offset, count

    def _truncate_journal(self, size: int) -> None:
        with open(self.journal_path, "r+b") as handle:
            handle.truncate(size)
            os.fsync(handle.fileno())

    # -- writing (event loop side) ----------------------------------------------------------

    @property
    def pending(self) -> bool:
        return self._durable_seq < self._queued_seq

    def append(self, ops: list[Op]) -> tuple[int, int]:
        """Queue one transaction; returns (sequence number, bytes queued)."""
        line = orjson.dumps(ops) + b"\n"
        return self._enqueue(line), len(line)

    def snapshot(self, tables: Tables) -> int:
        """Queue a snapshot of `tables` (serialized now, so it is consistent) and a journal reset.

        Returns the snapshot's size in bytes.
        """
        data = orjson.dumps(tables)
        self._enqueue(_Snapshot(data))
        return len(data)

    def _enqueue(self, item: bytes | _Snapshot) -> int:
        with self._lock:
            if self._error is not None:
                raise DurabilityError(f"the database can no longer be written: {self._error}")
            self._queued_seq += 1
            self._queue.put(item)  # in the same order as the sequence numbers
            return self._queued_seq

    def wait(self, seq: int | None = None) -> Awaitable[None]:
        """Something to await until everything queued up to `seq` (default: all so far) is on disk.

        Called in a running event loop. A plain function handing back the future itself, so that
        the request awaiting it is one coroutine frame shallower (resumed once per write).
        """
        target = self._queued_seq if seq is None else seq
        if self._durable_seq >= target:
            return READY
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._lock:
            if self._durable_seq >= target:
                return READY
            if self._error is not None:
                raise DurabilityError(str(self._error))
            self._waiters.append((target, future))
        return future

    def flush(self) -> None:
        """Block until everything queued so far is on disk (for code outside the event loop)."""
        with self._lock:
            target = self._queued_seq
            while self._durable_seq < target and self._error is None:
                self._flushed.wait()
            if self._error is not None:
                raise DurabilityError(str(self._error))

    def close(self) -> None:
        self._queue.put(_STOP)
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._release_lock()

    # -- writing (writer thread side) ---------------------------------------------------------

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]  # sleeps until there is something to write
            with contextlib.suppress(queue.Empty):  # then takes everything queued meanwhile
                while True:
                    batch.append(self._queue.get_nowait())
            stop = _STOP in batch
            if stop:
                batch = [item for item in batch if item is not _STOP]
            try:
                self._write(batch)
            except OSError as exc:
                self._fail(exc)
                return
            self._mark_durable(len(batch))
            if stop:
                return

    def _write(self, batch: list[bytes | _Snapshot]) -> None:
        assert self._fd is not None
        lines: list[bytes] = []
        for item in batch:
            if isinstance(item, _Snapshot):
                self._write_lines(lines)
                lines = []
                self._replace_snapshot(item.data)
                os.ftruncate(self._fd, 0)
                os.fsync(self._fd)
            else:
                lines.append(item)
        self._write_lines(lines)

    def _write_lines(self, lines: list[bytes]) -> None:
        assert self._fd is not None
        if not lines:
            return
        data = b"".join(lines)
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        os.fsync(self._fd)

    def _replace_snapshot(self, data: bytes) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _mark_durable(self, written: int) -> None:
        with self._lock:
            seq = self._durable_seq = self._durable_seq + written
            ready = [future for target, future in self._waiters if target <= seq]
            self._waiters = [(target, future) for target, future in self._waiters if target > seq]
            self._flushed.notify_all()
        _resolve(ready, None)

    def _fail(self, exc: BaseException) -> None:
        with self._lock:
            self._error = exc
            waiters = [future for _, future in self._waiters]
            self._waiters = []
            self._flushed.notify_all()
        _resolve(waiters, DurabilityError(f"cannot write {self.journal_path}: {exc}"))


def _resolve(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    """Complete futures from the writer thread: one wake-up per event loop, not one per future."""
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for future in futures:
        by_loop.setdefault(future.get_loop(), []).append(future)
    for loop, group in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting any more
            loop.call_soon_threadsafe(_complete, group, error)


def _complete(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for future in futures:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
