"""How long the journal's fsync takes while a snapshot is being written and fsynced in the same folder.

    python bench/fsync_during_snapshot.py [--mib 20] [--snapshots 3] [--folder DIR]

No alloy-mock code is involved: one thread appends a 200-byte line to a journal file and fsyncs it,
over and over (as the group commit does); meanwhile the main thread writes a snapshot file of MIB
MiB in 256 KiB pieces, fsyncs it, renames it over the last one and fsyncs the folder (as
compaction.py does), SNAPSHOTS times. Then the same again with each piece fdatasynced as soon as it
is written (a possible remedy, not what compaction.py does). Printed for each: the journal fsync's
p50/p99/max before the snapshots (the baseline of the same run) and while they are written.

On a filesystem that orders data with its metadata journal (ext4's default, data=ordered), the
journal's fsync may have to wait for the snapshot's data to reach the disk: all of it that is dirty.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

PIECE = b"y" * (256 * 1024)


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


def write_snapshot(folder: Path, mib: int, flush_each_piece: bool) -> float:
    """Write, fsync and rename a snapshot, then fsync the folder; returns the seconds it took."""
    started = time.perf_counter()
    temporary = folder / "db.json.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for _ in range(mib * 4):
            os.write(fd, PIECE)
            if flush_each_piece:
                os.fdatasync(fd)
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


def measure(folder: Path, mib: int, snapshots: int, flush_each_piece: bool) -> tuple[list[float], list[float], float]:
    """(journal fsync times before, during the snapshots; seconds the snapshots took)."""
    times: list[float] = []
    stop = threading.Event()
    thread = threading.Thread(target=journal_fsyncs, args=(folder / "db.json.journal", stop, times), daemon=True)
    thread.start()
    try:
        time.sleep(0.5)  # a measuring period for the "before" figures, not a wait for anything
        before = len(times)
        took = sum(write_snapshot(folder, mib, flush_each_piece) for _ in range(snapshots))
        return times[:before], times[before:], took
    finally:
        stop.set()
        thread.join()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=int, default=20, help="snapshot size (default 20: about 100,000 users)")
    parser.add_argument("--snapshots", type=int, default=3)
    parser.add_argument("--folder", type=Path, help="where to write (default: a temporary folder in /tmp)")
    args = parser.parse_args()
    for flush_each_piece in (False, True):
        with tempfile.TemporaryDirectory(prefix="alloy-fsync-", dir=args.folder) as name:
            calm, during, took = measure(Path(name), args.mib, args.snapshots, flush_each_piece)
        how = "each 256 KiB piece fdatasynced" if flush_each_piece else "fsynced once written (as compaction.py)"
        print(f"snapshots {how}: {args.snapshots} x {args.mib} MiB in {took:.2f} s")
        print(f"  journal before: {described(calm)}")
        print(f"  journal during: {described(during)}")
        ratio = quantile_ms(during, 0.5) / max(quantile_ms(calm, 0.5), 1e-6)
        print(f"  p50 during / before: {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
