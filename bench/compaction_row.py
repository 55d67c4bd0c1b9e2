"""bench.py's row (g) alone: POST /2023-12/users p99 at a light load during compaction, against the
same load without compaction and against compaction with its snapshot not flushed as it is written
(the behaviour before: the whole snapshot dirty in the page cache, then one fsync), in one run.

    python bench/compaction_row.py [--large 100000] [--repeat 3] [--duration 6] [--warmup 1.5]

Each cycle runs the three series in turn, each on a fresh copy of the seeded LARGE files (bench.py's
measure_post_users, with its compaction sampler); the medians of the per-cycle p99s are printed,
with the ratio to the run without compaction. Needs `wrk`, as bench.py does.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

import api_rows  # noqa: F401  (first: bench.py and api_rows.py import each other, api_rows.py then sees bench whole)

import bench  # bench/bench.py, beside this file

PLAIN_ARGV = bench.alloy_mock_argv
SERIES = {
    "without compaction": (False, False),
    "during compaction": (True, False),
    "during compaction, snapshot unflushed (before)": (True, True),
}


def argv_with(unflushed: bool) -> Callable[[Path, bool], list[str]]:
    """bench.alloy_mock_argv, with --unflushed passed to compacting_server.py when asked for."""

    def argv(db: Path, compact_always: bool = False) -> list[str]:
        command = PLAIN_ARGV(db, compact_always)
        if compact_always and unflushed:
            command.insert(command.index("1") + 1, "--unflushed")
        return command

    return argv


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--large", type=int, default=100_000, help="users seeded (default 100,000)")
    parser.add_argument("--repeat", type=int, default=3, help="cycles, medians reported (default 3)")
    parser.add_argument("--duration", type=float, default=6.0, help="seconds per measured run (default 6)")
    parser.add_argument("--warmup", type=float, default=1.5, help="seconds of warm-up per run (default 1.5)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("compaction_row: `wrk` is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 2
    label = bench.label_of(args.large)
    with bench.temporary_folder(keep=False) as workdir:
        scripts = workdir / "lua"
        scripts.mkdir()
        wrk = bench.Wrk(scripts, bench.LIGHT_CONNECTIONS, 1, args.duration, args.warmup)
        results = bench.Results(machine=bench.machine_info(workdir), config={"large_users": args.large})
        data = bench.seed(wrk, workdir, results, label, args.large)
        p99s: dict[str, list[float]] = {name: [] for name in SERIES}
        try:
            for cycle in range(args.repeat):
                bench.log(f"cycle {cycle + 1}/{args.repeat} (load average {bench.loadavg()})")
                for name, (compacting, unflushed) in SERIES.items():
                    bench.alloy_mock_argv = argv_with(unflushed)  # type: ignore[assignment]
                    before = len(results.compaction)
                    bench.measure_post_users(
                        wrk, workdir, results, data, cycle, False, compacting, bench.LIGHT_CONNECTIONS
                    )
                    key = bench.post_key(label, compacting, bench.LIGHT_CONNECTIONS)
                    p99s[name].append(results.series[key].runs[-1].p99_ms)
                    if unflushed:  # its own series: measure_post_users names both compacting runs alike
                        results.series[key].runs.pop()
                    if len(results.compaction) > before:
                        bench.log(f"  {name}: {results.compaction[-1]}")
        finally:
            data.server.stop()
    baseline = statistics.median(p99s["without compaction"])
    light = bench.LIGHT_CONNECTIONS
    print(f"POST /2023-12/users p99, {args.large:,} users, {light} connections, {args.repeat} cycles:")
    for name, values in p99s.items():
        median = statistics.median(values)
        listed = ", ".join(f"{value:.2f}" for value in values)
        print(f"  {name:48} median {median:6.2f} ms  ({baseline and median / baseline:.2f}x)  per cycle: {listed}")
    print(f"  target during compaction: < {bench.MAX_COMPACTION_P99_MS} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
