"""One server per database: an exclusive lock on `db.json.lock`, with the holder's pid in it."""

from __future__ import annotations

import os
import time
from pathlib import Path

from .loading import DatabaseError

try:  # POSIX only; elsewhere a second server on the same files is not detected.
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

# How long a start waits for the fsync helper of a server that died to finish its last command.
LOCK_WAIT_S = 10.0


def take_lock(lock_path: Path, database: Path) -> int:
    """Lock the files for this process, write its pid into the lock file; returns the lock's descriptor.

    The fsync helper shares the lock (it inherits the descriptor), so a server killed while its
    helper finishes a command keeps the files locked until the helper is done. A start that finds
    the lock held by a process that no longer exists waits for that helper (at most LOCK_WAIT_S)
    instead of refusing. Raises DatabaseError.
    """
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise DatabaseError(f"{lock_path}: cannot open: {exc.strerror}") from exc
    if fcntl is not None:
        deadline = time.monotonic() + LOCK_WAIT_S
        while not _try_lock(fd):
            if _holder_alive(fd) or time.monotonic() > deadline:
                os.close(fd)
                raise DatabaseError(
                    f"{database}: in use by another alloy-mock process; one server (one worker) per database file"
                )
            time.sleep(0.02)  # a dead server's fsync helper finishing its last command
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


def release_lock(fd: int) -> None:
    os.close(fd)  # closing drops the flock (once no helper holds a copy of the descriptor)


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
