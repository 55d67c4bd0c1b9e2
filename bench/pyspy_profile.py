"""Where an alloy-mock request's time goes: py-spy samples the server while wrk loads one endpoint.

    pip install py-spy
    python bench/pyspy_profile.py [--endpoint token|post] [--users N] [--duration S] [--gil] [--out FILE]

Starts `alloy-mock serve` on a database seeded with N users (default 100,000), drives the endpoint
with wrk (as bench.py does), records the server with `py-spy record --format raw`, and prints the
functions with the most samples: by self time, and inclusive (anywhere on the stack). The raw
collapsed stacks are kept in --out (flamegraph.pl / speedscope can read them).
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import bench  # bench/bench.py: this script runs from the same folder


def summarize(raw: Path, top: int) -> str:
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = [frame.split(" (")[0] + " (" + frame.split(" (")[1].split(":")[0] + ")" for frame in stack.split(";")]
        frames = [f for f in frames if not f.startswith("process ") and not f.startswith("thread ")]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    lines = [f"{total} samples"]
    lines.append(f"\ntop {top} by self time:")
    lines += [f"{100 * n / total:6.1f}%  {name}" for name, n in own.most_common(top)]
    lines.append(f"\ntop {top} inclusive:")
    lines += [f"{100 * n / total:6.1f}%  {name}" for name, n in inclusive.most_common(top)]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", choices=["token", "post"], default="token")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=15)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--gil", action="store_true", help="only sample threads holding the GIL")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--out", type=Path, default=Path("alloy-mock-profile.txt"))
    args = parser.parse_args()
    for tool in ("wrk", "py-spy"):
        if shutil.which(tool) is None:
            print(f"profile: `{tool}` is not installed", file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory(prefix="alloy-profile-") as folder:
        workdir = Path(folder)
        (workdir / "lua").mkdir()
        wrk = bench.Wrk(workdir / "lua", args.connections, 1, args.duration, 2.0)
        results = bench.Results(machine={}, config={})
        data = bench.seed(wrk, workdir, results, "profile", args.users)
        try:
            token_lua = wrk.script("get_token.lua", bench.LUA_GET_TOKEN)
            if args.endpoint == "token":
                path, lua, wrk_args = f"{bench.API}/users", token_lua, [str(data.ids_file)]
            else:
                path, lua, wrk_args = f"{bench.API}/users", wrk.script("post.lua", bench.LUA_POST_UNIQUE), ["prof"]
            wrk.run(data.server, f"{bench.API}/users", token_lua, [str(data.ids_file)], 2.0)  # warm-up
            spy = [
                "py-spy",
                "record",
                "--pid",
                str(data.server.process.pid),
                "--rate",
                str(args.rate),
                "--duration",
                str(int(args.duration)),
                "--format",
                "raw",
                "--output",
                str(args.out),
                "--nonblocking",
                *(["--gil"] if args.gil else []),
            ]
            recorder = subprocess.Popen(spy, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            load: list[dict[str, object]] = []
            runner = threading.Thread(
                target=lambda: load.append(wrk.run(data.server, path, lua, wrk_args, args.duration))
            )
            runner.start()
            runner.join()
            _, spy_err = recorder.communicate(timeout=60)
            if recorder.returncode != 0:
                print(f"py-spy failed: {spy_err}", file=sys.stderr)
                return 2
        finally:
            data.server.stop()
    result = bench.Load.from_wrk(load[0])  # type: ignore[arg-type]
    print(f"{args.endpoint}: {result.rps:,.0f} req/s, p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms")
    print(summarize(args.out, args.top))
    print(f"\nraw collapsed stacks: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
