"""The fsync helper: a small process that runs the event loop's fsyncs, so that no thread of the server
competes with the event loop for the GIL (helper_process.py starts it; it is not meant to be run by hand).

    python -I -S fsync_helper.py FD JOURNAL

FD is the journal's descriptor, inherited from the server (the very file the server appends to, even
if the journal is rotated while this process starts); JOURNAL is the journal's path. Run as a plain
script (no package import: it starts in a few milliseconds); it imports only the standard library,
so the store's modules can share its fsync_path(). It reads one-line commands on stdin and answers
each on stdout, one at a time:

    j            fsync the journal                                              -> "j"
    n            the journal was rotated (renamed away, a new one created at JOURNAL):
                 fsync the file held so far, open JOURNAL, fsync it and the folder -> "n"

On an OSError it answers "e MESSAGE" and exits. It exits when stdin closes (the server stopped or died).
It inherits the server's lock on the files and holds it while it lives, so no new server starts on
the files while it finishes a command.
"""

from __future__ import annotations

import os
import signal
import sys


def fsync_path(path: str | os.PathLike[str]) -> None:
    """fsync a file, or a folder (which makes a rename in it durable). The store uses it too."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def main(journal_fd: int, journal: str) -> int:
    # Ctrl-C reaches the whole process group: the server stops this helper itself, by closing stdin.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    commands = sys.stdin.buffer
    answers = sys.stdout.buffer
    for line in commands:
        command = line.rstrip(b"\n")
        try:
            if command == b"j":
                os.fsync(journal_fd)
            elif command == b"n":
                os.fsync(journal_fd)
                new_fd = os.open(journal, os.O_RDONLY)
                os.close(journal_fd)
                journal_fd = new_fd
                os.fsync(journal_fd)
                fsync_path(os.path.dirname(journal) or ".")
            else:
                raise OSError(f"unknown command {command!r}")
        except OSError as exc:
            answers.write(b"e " + str(exc).encode("utf-8", "replace").replace(b"\n", b" ") + b"\n")
            answers.flush()
            return 1
        try:
            answers.write(command + b"\n")
            answers.flush()
        except BrokenPipeError:  # the server is gone
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), sys.argv[2]))
