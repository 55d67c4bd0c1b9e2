"""How long the journal's fsync takes while a snapshot is being written and fsynced in the same folder.

    python bench/fsync_during_snapshot.py [--mib 20] [--snapshots 3] [--piece-kib 1024] [--folder DIR]

No alloy-mock code is involved: one thread appends a 200-byte line to a journal file and fsyncs it,
over and over (as the group commit does); meanwhile the main thread writes a snapshot file of MIB
MiB in 256 KiB writes, fsyncs it, renames it over the last one and fsyncs the folder, SNAPSHOTS
times, in each of these ways of flushing it as it is written:

    once             nothing until the whole file is written, then one fsync (compaction.py before
                     its snapshot was flushed piece by piece)
    fdatasync        every PIECE_KIB written fdatasynced before the next write (what compaction.py
                     does, from a thread of its own)
    sync_file_range  every PIECE_KIB written handed to writeback at once, and the piece before it
                     waited for (Linux only; RocksDB's bytes_per_sync), through ctypes

Printed for each: the journal fsync's p50/p99/max before the snapshots (the baseline of the same
run) and while they are written.

On a filesystem that orders data with its metadata journal (ext4's default, data=ordered), the
journal's fsync may have to wait for the snapshot's data to reach the disk: all of it that is dirty.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

PIECE = b"y" * (256 * 1024)
MODES = ("once", "fdatasync", "sync_file_range")
# sync_file_range(2) flags
WAIT_BEFORE, WRITE, WAIT_AFTER = 1, 2, 4


def journal_fsyncs(journal: Path, stop: threading.Event, times: list[float]) -> None:
    fd = os.open(journal, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        while not stop.is_set():
            os.write(fd, b"x" * 199 + b"\n")
            started = time.perf_counter()
            os.fsync(fd)
            times.append(time.perf_counter() - started)
    finally:
        os.close(fd)


def sync_file_range(fd: int, offset: int, length: int, flags: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.sync_file_range(fd, ctypes.c_int64(offset), ctypes.c_int64(length), ctypes.c_uint(flags)) != 0:
        raise OSError(ctypes.get_errno(), "sync_file_range")


def write_snapshot(folder: Path, mib: int, mode: str, piece: int) -> float:
    """Write, fsync and rename a snapshot, then fsync the folder; returns the seconds it took."""
    started = time.perf_counter()
    temporary = folder / "db.json.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        written = flushed = 0
        for _ in range(mib * 4):
            written += os.write(fd, PIECE)
            if written - flushed < piece:
                continue
            if mode == "fdatasync":
                os.fdatasync(fd)
            elif mode == "sync_file_range":
                sync_file_range(fd, flushed, written - flushed, WRITE)
                if flushed:
                    sync_file_range(fd, 0, flushed, WAIT_BEFORE | WRITE | WAIT_AFTER)
            flushed = written
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, folder / "db.json")
    folder_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(folder_fd)
    finally:
        os.close(folder_fd)
    return time.perf_counter() - started


def quantile_ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def described(times: list[float]) -> str:
    return (
        f"{len(times)} fsyncs, p50 {quantile_ms(times, 0.5):.2f} ms, p99 {quantile_ms(times, 0.99):.2f} ms, "
        f"max {1000 * max(times):.1f} ms"
    )


def measure(folder: Path, mib: int, snapshots: int, mode: str, piece: int) -> tuple[list[float], list[float], float]:
    """(journal fsync times before, during the snapshots; seconds the snapshots took)."""
    times: list[float] = []
    stop = threading.Event()
    thread = threading.Thread(target=journal_fsyncs, args=(folder / "db.json.journal", stop, times), daemon=True)
    thread.start()
    try:
        time.sleep(0.5)  # a measuring period for the "before" figures, not a wait for anything
        before = len(times)
        took = sum(write_snapshot(folder, mib, mode, piece) for _ in range(snapshots))
        return times[:before], times[before:], took
    finally:
        stop.set()
        thread.join()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=int, default=20, help="snapshot size (default 20: about 100,000 users)")
    parser.add_argument("--snapshots", type=int, default=3)
    parser.add_argument("--piece-kib", type=int, default=1024, help="flushed every PIECE_KIB KiB (default 1024)")
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    parser.add_argument("--folder", type=Path, help="where to write (default: a temporary folder in /tmp)")
    args = parser.parse_args()
    modes = args.modes.split(",")
    if not sys.platform.startswith("linux") and "sync_file_range" in modes:
        modes.remove("sync_file_range")
    for mode in modes:
        with tempfile.TemporaryDirectory(prefix="alloy-fsync-", dir=args.folder) as name:
            calm, during, took = measure(Path(name), args.mib, args.snapshots, mode, args.piece_kib * 1024)
        how = "fsynced once written" if mode == "once" else f"{mode} every {args.piece_kib} KiB"
        print(f"snapshots {how}: {args.snapshots} x {args.mib} MiB in {took:.2f} s")
        print(f"  journal before: {described(calm)}")
        print(f"  journal during: {described(during)}")
        ratio = quantile_ms(during, 0.5) / max(quantile_ms(calm, 0.5), 1e-6)
        print(f"  p50 during / before: {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
