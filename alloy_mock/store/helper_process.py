"""The server's side of the fsync helper (fsync_helper.py): start it, send it a command, read its answer.

What the commands mean, and what to do when the helper fails, is group_commit.py's business.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

HELPER_SCRIPT = Path(__file__).with_name("fsync_helper.py")


class HelperProcess:
    """A running fsync helper whose answers are watched on the serving event loop."""

    def __init__(self, process: subprocess.Popen[bytes], loop: asyncio.AbstractEventLoop) -> None:
        assert process.stdin is not None and process.stdout is not None
        self.process = process
        self.loop = loop
        self._stdin = process.stdin
        self._stdout = process.stdout
        self._answer = bytearray()

    @classmethod
    def start(
        cls,
        loop: asyncio.AbstractEventLoop,
        journal_fd: int,
        journal: Path,
        lock_fd: int | None,
        on_readable: Callable[[HelperProcess], None],
    ) -> HelperProcess | None:
        """Start a helper for the journal open as `journal_fd`; `loop` calls on_readable(helper) when
        its answer (or its exit) can be read. None where this platform cannot do it."""
        kept = (journal_fd,) if lock_fd is None else (journal_fd, lock_fd)  # it holds the lock while it lives
        try:
            process = subprocess.Popen(
                [sys.executable, "-I", "-S", str(HELPER_SCRIPT), str(journal_fd), str(journal)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                pass_fds=kept,
            )
        except (OSError, ValueError):  # ValueError: no pass_fds on this platform
            return None
        helper = cls(process, loop)
        os.set_blocking(helper._stdout.fileno(), False)
        try:
            loop.add_reader(helper._stdout.fileno(), on_readable, helper)
        except NotImplementedError:  # an event loop that cannot watch pipes (Windows' proactor)
            _stop(process)
            return None
        return helper

    @property
    def pid(self) -> int:
        return self.process.pid

    def send(self, command: bytes) -> None:
        """Send one command line. Raises OSError if the helper is gone."""
        self._stdin.write(command + b"\n")
        self._stdin.flush()

    def read_answer(self) -> bytes | None:
        """(Once its pipe is readable.) The whole answer line, b"" (or a part) if the helper exited,
        None while the rest of the answer is on its way."""
        try:
            chunk = os.read(self._stdout.fileno(), 4096)
        except BlockingIOError:
            return None
        except OSError:
            chunk = b""
        self._answer += chunk
        if chunk and not self._answer.endswith(b"\n"):
            return None
        answer, self._answer = bytes(self._answer), bytearray()
        return answer

    def await_answer(self) -> bytes:
        """Block until the answer has arrived (the event loop's reader then finds none)."""
        while True:
            select.select([self._stdout.fileno()], [], [])
            answer = self.read_answer()
            if answer is not None:
                return answer

    def stop(self) -> None:
        """Close its stdin (it exits at once) and reap it.

        Stopped from another thread than the loop's, the loop still watches the pipe: forget() then
        closes it when the loop sees the EOF.
        """
        watched = not self.loop.is_closed()
        if watched and _running_loop() is self.loop:
            self.loop.remove_reader(self._stdout.fileno())
            watched = False
        _stop(self.process, close_output=not watched)

    def forget(self) -> None:
        """(On the loop.) Stop watching the pipe of a helper stopped from another thread, and close it."""
        self.loop.remove_reader(self._stdout.fileno())
        self._stdout.close()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _stop(process: subprocess.Popen[bytes], close_output: bool = True) -> None:
    with contextlib.suppress(OSError):
        assert process.stdin is not None
        process.stdin.close()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if close_output and process.stdout is not None:
        process.stdout.close()
