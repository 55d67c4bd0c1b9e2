"""Only bench.py's POST /run/event row and the baseline it is judged against, in interleaved cycles.

    python bench/run_event_row.py [--users 1000,10000] [--repeat 2] [--duration 3] [--warmup 1]

The full benchmark takes half an hour; this measures the one ratio issue 10 still had open with the
same code (bench.py's servers, wrk scripts and api_rows.measure_run_event): per cycle, the bare
route's GET /json, then durable POST /run/event on a fresh copy of each user namespace with the
workflow installed for every user. Prints each cycle's ratio (the worse namespace against the
baseline of that cycle), the median, the server CPU per request and the load average.
"""

from __future__ import annotations

import argparse
import statistics
import sys

import api_rows  # bench/api_rows.py, beside this file

import bench  # bench/bench.py: the module api_rows uses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", default="1000,10000", help="user namespaces, comma-separated (default 1000,10000)")
    parser.add_argument("--repeat", type=int, default=2, help="interleaved cycles (default 2)")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measured run (default 3)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up per run (default 1)")
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.users.split(",")]
    with bench.temporary_folder(keep=False) as workdir:
        scripts = workdir / "lua"
        scripts.mkdir()
        wrk = bench.Wrk(scripts, args.connections, 1, args.duration, args.warmup)
        results = bench.Results(machine=bench.machine_info(workdir), config={})
        running: list[bench.Server] = []
        try:
            baseline = bench.spawn("baseline", bench.baseline_argv(), workdir, ready_path="/json")
            running.append(baseline)
            sets = [bench.seed(wrk, workdir, results, bench.label_of(n), n) for n in counts]
            running.extend(data.server for data in sets)
            installed = [api_rows.seed_installs(workdir, results, data) for data in sets]
            running.extend(item.server for item in installed)
            plain = wrk.script("plain.lua", bench.LUA_PLAIN)
            ratios = []
            for cycle in range(args.repeat):
                load_before = bench.loadavg()
                base = wrk.measure("baseline GET /json", baseline, "/json", plain, [])
                runs = []
                for item in installed:
                    api_rows.measure_run_event(wrk, workdir, results, item, cycle)
                    runs.append(results.series[f"{item.label} POST run/event"].runs[-1])
                worst = min(runs, key=lambda load: load.rps)
                ratios.append(worst.rps / base.rps)
                print(
                    f"cycle {cycle + 1}: run/event {worst.rps:,.0f} req/s ({worst.cpu_us_per_request:.0f} us CPU) / "
                    f"baseline {base.rps:,.0f} req/s ({base.cpu_us_per_request:.0f} us CPU) = {ratios[-1]:.2f}; "
                    f"load average {load_before} -> {bench.loadavg()}",
                    flush=True,
                )
            print(
                f"median of per-cycle ratios: {statistics.median(ratios):.2f} "
                f"(target >= {api_rows.MIN_RUN_EVENT_FRACTION})"
            )
        finally:
            for server in running:
                server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
