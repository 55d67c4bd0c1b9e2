"""Files on disk: a snapshot and an append-only journal, written in group commits.

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
written and fsynced. On the event loop that serves requests, the lines committed during one loop
iteration are written together, and one fsync covers them (group commit); the answers wait for it
(`await store.durable()`). Under load that fsync runs in a small helper process (fsync_helper.py),
so the event loop never blocks on the disk, and no thread of the server competes with it for the
GIL (a writer thread did, and cost a fifth of the write throughput: bench/RESULTS.md). Writes made
outside that loop (start-up, scripts, tests) are written and fsynced before the call returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..errors import StartupError
from .fsync_helper import fsync_path
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


class _Ready:
    """An awaitable that is already complete: what wait() returns when there is nothing to wait for."""

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield  # a generator that returns at once


READY = _Ready()


# Group commits on the serving event loop before the fsync helper process is started: a server
# under load gets it within milliseconds, while a short test never pays for starting a process.
SYNC_HELPER_AFTER = 64
HELPER_SCRIPT = Path(__file__).with_name("fsync_helper.py")
# How long a start waits for the fsync helper of a server that died to finish its last command.
LOCK_WAIT_S = 10.0


class Journal:
    """Owns the files of one database: loads them, and makes every committed transaction durable."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.journal_path = path.with_name(path.name + ".journal")
        self.lock_path = path.with_name(path.name + ".lock")
        self._lock_fd: int | None = None
        self._fd: int | None = None
        # One server thread writes; the lock (a cheap one, in C) keeps a write from another thread
        # (a script, a test) from interleaving with the event loop's group commit.
        self._lock = threading.Lock()
        self._queued_seq = 0  # transactions committed so far
        self._written_seq = 0  # ... of which written to the journal file
        self._durable_seq = 0  # ... of which on disk
        self._lines: list[bytes] = []  # committed, not written yet
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._error: BaseException | None = None
        # The serving event loop, and its group commits.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._commit_scheduled = False
        self._group_commits = 0
        # The fsync helper process, and the one command it is running (b"" if none).
        self._helper: subprocess.Popen[bytes] | None = None
        self._helper_failed = False
        self._in_flight = b""
        self._in_flight_covers = 0  # the sequence number that command makes durable
        self._answer = bytearray()
        self._snapshot_due = 0  # a snapshot written to _temporary, for the helper to put in place
        self._temporary: Path | None = None
        self._temporary_writer: threading.Thread | None = None  # still writing it
        self._temporary_error: OSError | None = None

    # -- opening and loading --------------------------------------------------------------

    def open(self) -> LoadedState:
        """Lock the files and load the state. Raises DatabaseError."""
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
        return state

    def _take_lock(self) -> None:
        """Lock the files for this process, and write its pid into the lock file.

        The fsync helper shares the lock (it inherits the descriptor), so a server killed while its
        helper finishes a snapshot keeps the files locked until the helper is done. A start that
        finds the lock held by a process that no longer exists waits for that helper (at most
        LOCK_WAIT_S) instead of refusing.
        """
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise DatabaseError(f"{self.lock_path}: cannot open: {exc.strerror}") from exc
        if fcntl is not None:
            deadline = time.monotonic() + LOCK_WAIT_S
            while not _try_lock(fd):
                if _holder_alive(fd) or time.monotonic() > deadline:
                    os.close(fd)
                    raise DatabaseError(
                        f"{self.path}: in use by another alloy-mock process; one server (one worker) per database file"
                    )
                time.sleep(0.02)  # a dead server's fsync helper finishing its last command
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
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

    def _replace_snapshot(self, data: bytes) -> None:
        """Atomically make `data` the snapshot: a temporary file, fsynced, renamed, the folder fsynced."""
        temporary = _write_file(self.path.with_name(self.path.name + ".tmp"), data)
        fsync_path(temporary)
        os.replace(temporary, self.path)
        fsync_path(self.path.parent)

    def _truncate_journal(self, size: int) -> None:
        with open(self.journal_path, "r+b") as handle:
            handle.truncate(size)
            os.fsync(handle.fileno())

    # -- writing --------------------------------------------------------------------------------
    #
    # State (guarded by self._lock): every transaction gets a sequence number when it is committed
    # (_queued_seq); on the serving event loop its line waits in _lines until the group commit writes
    # it (_written_seq), and it is durable once an fsync has covered it (_durable_seq).

    @property
    def pending(self) -> bool:
        return self._durable_seq < self._queued_seq

    @property
    def helper_pid(self) -> int | None:
        """The fsync helper's process id while it runs (for tests and diagnostics)."""
        helper = self._helper
        return None if helper is None else helper.pid

    def append(self, ops: list[Op]) -> tuple[int, int]:
        """Commit one transaction; returns (sequence number, bytes).

        On the serving event loop the line joins this loop iteration's group commit; anywhere else
        it is written and fsynced before this returns.
        """
        line = orjson.dumps(ops) + b"\n"
        loop = _running_loop()
        with self._lock:
            self._check_writable()
            self._queued_seq += 1
            self._lines.append(line)
            if self._serves(loop):
                self._schedule_group_commit()
            else:
                self._commit_inline()
            return self._queued_seq, len(line)

    def snapshot(self, tables: Tables) -> int | None:
        """Replace the snapshot with `tables` (serialized now, so it is consistent) and empty the journal.

        Returns the snapshot's size in bytes, or None when the previous snapshot is still being
        written (the caller tries again later).
        """
        loop = _running_loop()
        with self._lock:
            self._check_writable()
            if self._snapshot_due or self._in_flight.startswith(b"s"):
                return None
            data = orjson.dumps(tables)
            self._queued_seq += 1
            self._lines = []  # not written yet, and contained in the snapshot
            if self._serves(loop) and self._helper is not None:
                # The helper makes it durable (fsync, rename, empty the journal); until it has,
                # later lines wait in _lines, since emptying the journal would take them with it.
                # Copying tens of MB into the page cache takes tens of ms: a thread does it (the
                # write releases the GIL) while the loop serves, then hands it to the group commit.
                self._temporary = self.path.with_name(self.path.name + ".tmp")
                self._written_seq = self._snapshot_due = self._queued_seq
                self._temporary_error = None
                self._temporary_writer = threading.Thread(
                    target=self._write_temporary, args=(self._temporary, data), name="alloy-mock-snapshot"
                )
                self._temporary_writer.start()
            else:
                self._replace_snapshot(data)
                self._empty_journal()
                self._written_seq = self._queued_seq
                self._mark_durable(self._queued_seq)
            return len(data)

    def wait(self, seq: int | None = None) -> Awaitable[None]:
        """Something to await until everything committed up to `seq` (default: all so far) is on disk.

        A plain function handing back the future itself, so that the request awaiting it is a
        coroutine frame shallower (resumed once per write). Called outside the serving event loop
        (or outside any), it commits what is waiting in this thread and hands back READY.
        """
        target = self._queued_seq if seq is None else seq
        if self._durable_seq >= target:
            return READY
        loop = _running_loop()
        with self._lock:
            if self._error is not None:
                raise DurabilityError(f"cannot write {self.journal_path}: {self._error}")
            if self._durable_seq >= target:
                return READY
            if loop is None or loop is not self._loop:
                self._commit_inline()
                return READY
            future = loop.create_future()
            self._waiters.append((target, future))
            return future

    def flush(self) -> None:
        """Make everything committed so far durable before returning (for code outside the event loop)."""
        with self._lock:
            self._check_writable()
            self._commit_inline()

    def start_sync_helper(self) -> None:
        """Start the fsync helper now rather than after SYNC_HELPER_AFTER group commits (tests, benchmarks).

        Called on an event loop, that loop becomes the serving one; elsewhere, the helper starts
        with the serving loop's next group commit.
        """
        loop = _running_loop()
        with self._lock:
            self._group_commits = max(self._group_commits, SYNC_HELPER_AFTER)
            if self._serves(loop) and self._helper is None and not self._helper_failed:
                self._start_helper()

    def close(self) -> None:
        with self._lock:
            with contextlib.suppress(OSError, DurabilityError):
                if self._error is None:
                    self._commit_inline()
            self._unbind()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._release_lock()

    # -- writing: internals, called with self._lock held ---------------------------------------------

    def _check_writable(self) -> None:
        if self._error is not None:
            raise DurabilityError(f"the database can no longer be written: {self._error}")
        if self._fd is None:
            raise DurabilityError(f"{self.journal_path} is closed")

    def _serves(self, loop: asyncio.AbstractEventLoop | None) -> bool:
        """Whether `loop` (the running one, if any) is the one whose writes are grouped.

        The first event loop to write becomes it, and stays it until it is closed: one server runs
        one loop. Writes from anywhere else (start-up, a script, another thread) are made durable
        at once, in that thread.
        """
        if loop is not None and loop is self._loop:
            return True
        if self._loop is not None and self._loop.is_closed():
            self._unbind()  # the serving loop is gone: what it left is written here first
        if loop is None or self._loop is not None:
            return False
        self._loop = loop
        return True

    def _unbind(self) -> None:
        """Write what the serving loop left, stop its helper, and forget the loop."""
        if self._loop is None:
            return
        try:
            self._commit_inline()
        except OSError as exc:
            self._fail(exc)
        except DurabilityError:
            self._join_temporary_writer()  # failed already; only the snapshot thread is left to end
        self._stop_helper()
        self._waiters = []  # their loop is closed (or closing): nobody is waiting any more
        self._loop = None
        self._commit_scheduled = False  # a group commit it had scheduled will never run
        self._group_commits = 0

    def _schedule_group_commit(self) -> None:
        if not self._commit_scheduled:
            self._commit_scheduled = True
            assert self._loop is not None
            self._loop.call_soon(self._group_commit)

    def _group_commit(self) -> None:
        """Once per loop iteration with new lines: write them all, then fsync them (group commit)."""
        with self._lock:
            self._commit_scheduled = False
            if self._error is not None or self._in_flight or self._loop is None:
                return  # the helper's answer runs this again
            try:
                if self._snapshot_due:
                    if self._temporary_writer is not None:
                        return  # still being written: _temporary_written() runs this again
                    if self._helper is None:  # it died meanwhile
                        self._finish_snapshot_inline()
                    else:
                        assert self._temporary is not None
                        self._send(b"s " + os.fsencode(self._temporary), self._snapshot_due)
                        self._snapshot_due = 0
                        return
                self._write_lines()
                if self._written_seq <= self._durable_seq:
                    return
                self._group_commits += 1
                if self._helper is None and self._group_commits >= SYNC_HELPER_AFTER and not self._helper_failed:
                    self._start_helper()
                if self._helper is not None:
                    self._send(b"j", self._written_seq)
                else:
                    assert self._fd is not None
                    os.fsync(self._fd)
                    self._mark_durable(self._written_seq)
            except OSError as exc:
                self._fail(exc)
            except DurabilityError:
                pass  # the journal has failed already, and told its waiters

    def _commit_inline(self) -> None:
        """Write the waiting lines and make everything so far durable, in this thread."""
        if self._error is not None:
            raise DurabilityError(f"the database can no longer be written: {self._error}")
        if self._in_flight:
            self._await_helper()
        if self._snapshot_due:
            self._finish_snapshot_inline()
        self._write_lines()
        if self._durable_seq < self._written_seq:
            assert self._fd is not None
            os.fsync(self._fd)
            self._mark_durable(self._written_seq)

    def _write_lines(self) -> None:
        if not self._lines:
            return
        assert self._fd is not None
        data = b"".join(self._lines)
        self._lines = []
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        self._written_seq = self._queued_seq

    def _empty_journal(self) -> None:
        assert self._fd is not None
        os.ftruncate(self._fd, 0)
        os.fsync(self._fd)

    def _write_temporary(self, path: Path, data: bytes) -> None:
        """(In the snapshot thread.) Write the snapshot's temporary file, then tell the serving loop."""
        try:
            _write_file(path, data)
        except OSError as exc:
            self._temporary_error = exc
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # a closed loop: whoever unbinds it joins this thread
                loop.call_soon_threadsafe(self._temporary_written)

    def _temporary_written(self) -> None:
        with self._lock:
            self._join_temporary_writer()
        self._group_commit()

    def _join_temporary_writer(self) -> None:
        """Wait for the snapshot thread, if it runs; a write it failed fails the journal."""
        writer, self._temporary_writer = self._temporary_writer, None
        if writer is not None:
            writer.join()
        if self._temporary_error is not None and self._error is None:
            self._fail(self._temporary_error)

    def _finish_snapshot_inline(self) -> None:
        """Do here what the helper would have done with the snapshot written to the temporary file."""
        self._join_temporary_writer()
        if self._error is not None:
            raise DurabilityError(f"cannot write {self.path}: {self._error}")
        assert self._temporary is not None
        fsync_path(self._temporary)
        os.replace(self._temporary, self.path)
        fsync_path(self.path.parent)
        self._empty_journal()
        self._mark_durable(self._snapshot_due)
        self._snapshot_due = 0
        self._temporary = None

    def _mark_durable(self, seq: int) -> None:
        if seq <= self._durable_seq:
            return
        self._durable_seq = seq
        if not self._waiters:
            return
        ready = [future for target, future in self._waiters if target <= seq]
        self._waiters = [(target, future) for target, future in self._waiters if target > seq]
        self._complete(ready, None)

    def _fail(self, exc: BaseException) -> None:
        self._error = exc
        waiters = [future for _, future in self._waiters]
        self._waiters = []
        self._complete(waiters, DurabilityError(f"cannot write {self.journal_path}: {exc}"))
        self._stop_helper()

    def _complete(self, futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
        if not futures:
            return
        loop = futures[0].get_loop()
        if _running_loop() is loop:
            _complete(futures, error)
        else:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting any more
                loop.call_soon_threadsafe(_complete, futures, error)

    # -- the fsync helper process -----------------------------------------------------------------

    def _start_helper(self) -> None:
        assert self._loop is not None
        try:
            helper = subprocess.Popen(
                [sys.executable, "-I", "-S", str(HELPER_SCRIPT), str(self.journal_path), str(self.path)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                pass_fds=() if self._lock_fd is None else (self._lock_fd,),  # it holds the lock while it lives
            )
        except (OSError, ValueError):  # ValueError: no pass_fds on this platform
            self._helper_failed = True  # fsyncs stay in the event loop's thread: slower, as safe
            return
        assert helper.stdout is not None
        os.set_blocking(helper.stdout.fileno(), False)
        try:
            self._loop.add_reader(helper.stdout.fileno(), self._on_answer, helper)
        except NotImplementedError:  # an event loop that cannot watch pipes (Windows' proactor)
            self._helper_failed = True
            _stop(helper)
            return
        self._helper = helper

    def _send(self, command: bytes, covers: int) -> None:
        assert self._helper is not None and self._helper.stdin is not None
        self._in_flight = command
        self._in_flight_covers = covers
        try:
            self._helper.stdin.write(command + b"\n")
            self._helper.stdin.flush()
        except OSError:
            self._helper_lost()

    def _on_answer(self, helper: subprocess.Popen[bytes]) -> None:
        """The helper answered (or exited): its command is done; go on with the next group commit."""
        with self._lock:
            if helper is not self._helper:  # one stopped from another thread: its pipe closes here
                assert helper.stdout is not None
                asyncio.get_running_loop().remove_reader(helper.stdout.fileno())
                helper.stdout.close()
                return
            assert helper.stdout is not None
            try:
                chunk = os.read(helper.stdout.fileno(), 4096)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            self._answer += chunk
            if chunk and not self._answer.endswith(b"\n"):
                return  # the rest of the answer is on its way
            self._take_answer(bytes(self._answer))
        self._group_commit()

    def _await_helper(self) -> None:
        """Wait here for the answer to the command in flight (the event loop's reader then finds none)."""
        assert self._helper is not None and self._helper.stdout is not None
        fd = self._helper.stdout.fileno()
        while not self._answer.endswith(b"\n"):
            select.select([fd], [], [])
            try:
                chunk = os.read(fd, 4096)
            except BlockingIOError:
                continue
            self._answer += chunk
            if not chunk:
                break
        self._take_answer(bytes(self._answer))

    def _take_answer(self, answer: bytes) -> None:
        self._answer = bytearray()
        if answer == self._in_flight[:1] + b"\n":
            self._in_flight = b""
            self._mark_durable(self._in_flight_covers)
            if answer == b"s\n":
                self._temporary = None
        elif answer.startswith(b"e "):
            self._in_flight = b""
            self._fail(OSError(answer[2:].decode("utf-8", "replace").strip()))
        else:
            self._helper_lost()

    def _helper_lost(self) -> None:
        """The helper died: finish its command here, and keep the fsyncs in this process from now on."""
        command, self._in_flight = self._in_flight, b""
        self._stop_helper()
        self._helper_failed = True
        try:
            if command.startswith(b"s"):
                self._snapshot_due = self._in_flight_covers
                self._finish_snapshot_inline()
            elif command:
                assert self._fd is not None
                os.fsync(self._fd)
                self._mark_durable(self._in_flight_covers)
        except OSError as exc:
            self._fail(exc)

    def _stop_helper(self) -> None:
        helper, self._helper = self._helper, None
        if helper is None:
            return
        assert helper.stdout is not None
        loop = self._loop
        watched = loop is not None and not loop.is_closed()
        if watched and _running_loop() is loop:
            assert loop is not None
            loop.remove_reader(helper.stdout.fileno())
            watched = False
        # From another thread, the loop still watches the pipe: _on_answer closes it on the EOF.
        _stop(helper, close_output=not watched)


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _holder_alive(fd: int) -> bool:
    """Whether the process whose pid is in the lock file still runs (unknown: assume it does)."""
    try:
        pid = int(os.pread(fd, 32, 0).decode().strip())
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (ValueError, OSError):
        return True  # no pid written (an older version), or a process of another user
    return True


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _stop(helper: subprocess.Popen[bytes], close_output: bool = True) -> None:
    """Close the helper's stdin (it exits at once) and reap it."""
    with contextlib.suppress(OSError):
        assert helper.stdin is not None
        helper.stdin.close()
    try:
        helper.wait(timeout=5)
    except subprocess.TimeoutExpired:
        helper.kill()
        helper.wait()
    if close_output and helper.stdout is not None:
        helper.stdout.close()


def _write_file(path: Path, data: bytes) -> Path:
    """Write `data` to `path` (created or emptied), without fsync; returns `path`."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    return path


def _complete(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for future in futures:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
