"""The fsync helper: a small process that runs the event loop's fsyncs, so that no thread of the server
competes with the event loop for the GIL (journal.py starts it; it is not meant to be run by hand).

    python -I -S fsync_helper.py JOURNAL SNAPSHOT

Run as a plain script (no package import: it starts in a few milliseconds); it imports only the
standard library, so journal.py can share its fsync_path(). It reads one-line commands
on stdin and answers each on stdout, one at a time:

    j            fsync the journal                                        -> "j"
    s TMP        make TMP the snapshot: fsync TMP, rename it to SNAPSHOT,
                 fsync the folder, then empty the journal and fsync it     -> "s"

On an OSError it answers "e MESSAGE" and exits. It exits when stdin closes (the server stopped or died).
It inherits the server's lock on the files and holds it while it lives; and it renames and empties
nothing once its server has died (its parent changed): a server started since then owns the files.
"""

from __future__ import annotations

import os
import signal
import sys


def fsync_path(path: str | os.PathLike[str]) -> None:
    """fsync a file, or a folder (which makes a rename in it durable). journal.py uses it too."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def main(journal: str, snapshot: str) -> int:
    # Ctrl-C reaches the whole process group: the server stops this helper itself, by closing stdin.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    server = os.getppid()
    journal_fd = os.open(journal, os.O_WRONLY | os.O_APPEND)
    commands = sys.stdin.buffer
    answers = sys.stdout.buffer
    for line in commands:
        command, _, argument = line.rstrip(b"\n").partition(b" ")
        try:
            if command == b"j":
                os.fsync(journal_fd)
            elif command == b"s":
                temporary = os.fsdecode(argument)
                fsync_path(temporary)
                if os.getppid() != server:
                    return 0  # the server died: the files are the next one's
                os.replace(temporary, snapshot)
                fsync_path(os.path.dirname(snapshot) or ".")
                os.ftruncate(journal_fd, 0)
                os.fsync(journal_fd)
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
    sys.exit(main(sys.argv[1], sys.argv[2]))
