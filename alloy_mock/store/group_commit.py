"""Appending to the journal, and making every committed transaction durable before it is acknowledged.

Fsync policy: a transaction is acknowledged only after the journal line holding it has been
written and fsynced. On the event loop that serves requests, the lines committed during one loop
iteration are written together, and one fsync covers them (group commit); the answers wait for it
(`await store.durable()`). Under load that fsync runs in a small helper process (fsync_helper.py),
so the event loop never blocks on the disk, and no thread of the server competes with it for the
GIL (a writer thread did, and cost a fifth of the write throughput: bench/RESULTS.md). Writes made
outside that loop (start-up, scripts, tests) are written and fsynced before the call returns.

A compaction rotates the journal (rotate()): from then on lines go to a new file, and the first
fsync after it also covers the rotated file and the folder (so the rename and the new file are on
disk before anything written to the new file is acknowledged). Nothing here waits for the snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Awaitable, Callable, Generator
from typing import Any

from .fsync_helper import fsync_path
from .helper_process import HelperProcess
from .loading import DatabaseFiles


class DurabilityError(Exception):
    """A change could not be written to disk."""


class _Ready:
    """An awaitable that is already complete: what wait() returns when there is nothing to wait for."""

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield  # a generator that returns at once


READY = _Ready()

# Group commits on the serving event loop before the fsync helper process is started: a server
# under load gets it within milliseconds, while a short test never pays for starting a process.
SYNC_HELPER_AFTER = 64


class GroupCommit:
    """Writes journal lines to the open journal file `fd` and makes them durable, in group commits.

    State (guarded by self._lock): every transaction gets a sequence number when it is committed
    (_queued_seq); on the serving event loop its line waits in _lines until the group commit writes
    it (_written_seq), and it is durable once an fsync has covered it (_durable_seq).
    """

    def __init__(self, files: DatabaseFiles, fd: int, lock_fd: int | None) -> None:
        self.files = files
        self._fd: int | None = fd
        self._previous_fd: int | None = None  # the journal before a rotation, until that rotation is durable
        self._lock_fd = lock_fd
        # One server thread writes; the lock (a cheap one, in C) keeps a write from another thread
        # (a script, a test) from interleaving with the event loop's group commit.
        self._lock = threading.Lock()
        self._queued_seq = 0
        self._written_seq = 0
        self._durable_seq = 0
        self._lines: list[bytes] = []  # committed, not written yet
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._error: BaseException | None = None
        # The serving event loop, and its group commits.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._commit_scheduled = False
        self._group_commits = 0
        # The fsync helper process, and the one command it is running (b"" if none).
        self._helper: HelperProcess | None = None
        self._helper_failed = False
        self._in_flight = b""
        self._in_flight_covers = 0  # the sequence number that command makes durable

    @property
    def pending(self) -> bool:
        return self._durable_seq < self._queued_seq

    @property
    def helper_pid(self) -> int | None:
        """The fsync helper's process id while it runs (for tests and diagnostics)."""
        helper = self._helper
        return None if helper is None else helper.pid

    def append(self, line: bytes) -> int:
        """Commit one transaction's line; returns its sequence number.

        On the serving event loop the line joins this loop iteration's group commit; anywhere else
        it is written and fsynced before this returns.
        """
        loop = _running_loop()
        with self._lock:
            self._check_writable()
            self._queued_seq += 1
            self._lines.append(line)
            if self._serves(loop):
                self._schedule_group_commit()
            else:
                self._commit_inline()
            return self._queued_seq

    def rotate(self, reopen: Callable[[], int]) -> bool:
        """Switch to a new journal file: `reopen()` renames the journal away and opens the new one.

        It runs under the lock, so no line is written between the two. Returns False, changing
        nothing, while the previous rotation is not durable yet or the journal has failed; an
        OSError from `reopen()` fails the journal.
        """
        with self._lock:
            if self._error is not None or self._fd is None or self._previous_fd is not None:
                return False
            try:
                new_fd = reopen()
            except OSError as exc:
                self._fail(exc)
                return False
            self._previous_fd, self._fd = self._fd, new_fd
            return True

    def serving_loop(self) -> asyncio.AbstractEventLoop | None:
        """The running event loop if it is the one whose writes are grouped, else None."""
        loop = _running_loop()
        with self._lock:
            return loop if self._serves(loop) else None

    def fail(self, exc: BaseException) -> None:
        """Stop accepting writes (the database cannot be kept on disk), and fail every waiting one."""
        with self._lock:
            if self._error is None:
                self._fail(exc)

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
                raise DurabilityError(f"cannot write {self.files.journal}: {self._error}")
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
            for fd in (self._fd, self._previous_fd):
                if fd is not None:
                    os.close(fd)
            self._fd = self._previous_fd = None

    # -- internals, called with self._lock held ---------------------------------------------------

    def _check_writable(self) -> None:
        if self._error is not None:
            raise DurabilityError(f"the database can no longer be written: {self._error}")
        if self._fd is None:
            raise DurabilityError(f"{self.files.journal} is closed")

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
            pass  # failed already
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
                self._write_lines()
                if self._written_seq <= self._durable_seq:
                    return
                self._group_commits += 1
                if self._helper is None and self._group_commits >= SYNC_HELPER_AFTER and not self._helper_failed:
                    self._start_helper()
                if self._helper is not None:
                    self._send(b"j" if self._previous_fd is None else b"n", self._written_seq)
                else:
                    self._sync_inline()
                    self._mark_durable(self._written_seq)
            except OSError as exc:
                self._fail(exc)

    def _commit_inline(self) -> None:
        """Write the waiting lines and make everything so far durable, in this thread."""
        if self._error is None and self._in_flight:
            self._await_helper()
        if self._error is not None:
            raise DurabilityError(f"the database can no longer be written: {self._error}")
        self._write_lines()
        if self._durable_seq < self._written_seq or self._previous_fd is not None:
            self._sync_inline()
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

    def _sync_inline(self) -> None:
        """fsync here what the helper would have: the journal; after a rotation also the rotated
        file (a command in flight may have been covering it) and the folder."""
        assert self._fd is not None
        previous = self._previous_fd
        if previous is not None:
            os.fsync(previous)
        os.fsync(self._fd)
        if previous is not None:
            fsync_path(self.files.folder)
            self._rotation_durable()

    def _rotation_durable(self) -> None:
        if self._previous_fd is not None:
            os.close(self._previous_fd)
            self._previous_fd = None

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
        self._complete(waiters, DurabilityError(f"cannot write {self.files.journal}: {exc}"))
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
        assert self._loop is not None and self._fd is not None
        self._helper = HelperProcess.start(self._loop, self._fd, self.files.journal, self._lock_fd, self._on_answer)
        if self._helper is None:
            self._helper_failed = True  # fsyncs stay in the event loop's thread: slower, as safe

    def _send(self, command: bytes, covers: int) -> None:
        assert self._helper is not None
        self._in_flight = command
        self._in_flight_covers = covers
        try:
            self._helper.send(command)
        except OSError:
            self._helper_lost()

    def _on_answer(self, helper: HelperProcess) -> None:
        """The helper answered (or exited): its command is done; go on with the next group commit."""
        with self._lock:
            if helper is not self._helper:  # one stopped from another thread: its pipe closes here
                helper.forget()
                return
            answer = helper.read_answer()
            if answer is None:
                return
            self._take_answer(answer)
        self._group_commit()

    def _await_helper(self) -> None:
        """Wait here for the answer to the command in flight."""
        assert self._helper is not None
        self._take_answer(self._helper.await_answer())

    def _take_answer(self, answer: bytes) -> None:
        if answer == self._in_flight + b"\n":
            command, self._in_flight = self._in_flight, b""
            if command == b"n":
                self._rotation_durable()
            self._mark_durable(self._in_flight_covers)
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
        if not command:
            return
        try:
            self._sync_inline()
            self._mark_durable(self._in_flight_covers)
        except OSError as exc:
            self._fail(exc)

    def _stop_helper(self) -> None:
        helper, self._helper = self._helper, None
        if helper is not None:
            helper.stop()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _complete(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for future in futures:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
