"""How long the journal's fsync takes while a snapshot is being fsynced in the same folder.

    python bench/fsync_during_snapshot.py [--mib 20] [--snapshots 3] [--folder DIR]

No alloy-mock code is involved: one thread appends a 200-byte line to a journal file and fsyncs it,
over and over (as the group commit does); meanwhile the main thread writes a snapshot file of MIB
MiB, fsyncs it, renames it over the last one and fsyncs the folder (as compaction.py does), SNAPSHOTS
times. Printed: the journal fsync's p50/p99/max before the snapshots and while they are written,
with the ratio. On a filesystem that orders data with its metadata journal (ext4's default,
data=ordered), the journal's fsync may have to wait for the snapshot's data to reach the disk.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path


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


def write_snapshot(folder: Path, mib: int) -> tuple[float, float]:
    """Write, fsync and rename a snapshot; returns (file fsync s, folder fsync s)."""
    temporary, snapshot = folder / "db.json.tmp", folder / "db.json"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    chunk = b"y" * (256 * 1024)
    try:
        for _ in range(mib * 4):
            os.write(fd, chunk)
        started = time.perf_counter()
        os.fsync(fd)
        file_s = time.perf_counter() - started
    finally:
        os.close(fd)
    os.replace(temporary, snapshot)
    folder_fd = os.open(folder, os.O_RDONLY)
    try:
        started = time.perf_counter()
        os.fsync(folder_fd)
        return file_s, time.perf_counter() - started
    finally:
        os.close(folder_fd)


def quantile_ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=int, default=20, help="snapshot size (default 20: about 100,000 users)")
    parser.add_argument("--snapshots", type=int, default=3)
    parser.add_argument("--folder", type=Path, help="where to write (default: a temporary folder in /tmp)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="alloy-fsync-", dir=args.folder) as name:
        folder = Path(name)
        times: list[float] = []
        stop = threading.Event()
        thread = threading.Thread(target=journal_fsyncs, args=(folder / "db.json.journal", stop, times), daemon=True)
        thread.start()
        try:
            time.sleep(0.5)  # a measuring period for the "before" figures, not a wait for anything
            before = len(times)
            snapshots = [write_snapshot(folder, args.mib) for _ in range(args.snapshots)]
            during = times[before:]
        finally:
            stop.set()
            thread.join()
    calm = times[:before]
    p50, p99 = quantile_ms(calm, 0.5), quantile_ms(calm, 0.99)
    print(f"journal fsync, {len(calm)} before: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    print(
        f"journal fsync, {len(during)} during {args.snapshots} snapshots of {args.mib} MiB: "
        f"p50 {quantile_ms(during, 0.5):.2f} ms, p99 {quantile_ms(during, 0.99):.2f} ms, "
        f"max {1000 * max(during):.1f} ms"
    )
    print(f"ratio during/before: p99 {quantile_ms(during, 0.99) / max(quantile_ms(calm, 0.99), 1e-6):.1f}x")
    shown = ", ".join(f"{1000 * f:.1f} + {1000 * d:.1f}" for f, d in snapshots)
    print(f"snapshot fsync + folder fsync, ms: {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
