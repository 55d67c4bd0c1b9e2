"""What matching a request against many faults costs: the indexed `Faults.take()` against a plain scan.

    python bench/faults.py [--faults N] [--requests N]

Both run in this process, in the same run, on the same rules: N faults (default MAX_FAULTS) in the request's
namespace, on other paths and methods (the worst case for a scan: every rule is looked
at, none matches), then the request itself. Prints microseconds per request and the ratios.
"""

from __future__ import annotations

import argparse
import time

from alloy_mock.control.faults import MAX_FAULTS, Fault, Faults
from alloy_mock.control.models import FaultSpec

REQUEST = ("GET", "/users/6323d7c9122ae69742a5d0a2/token", "default.dev")


def rules(count: int) -> list[dict[str, object]]:
    """Distinct faults a token request matches none of, spread over paths as a test suite would set them
    (a quarter of them under /users, which the request's path starts with)."""
    shapes = [
        ("POST", "/integrations/app-{n}"),
        ("GET", "/workflows/wf-{n}/activate"),
        ("*", "/credentials/cred-{n}"),
        ("GET", "/users/*/credentials/{n}"),
    ]
    return [
        {"method": method, "path": path.format(n=n), "status": 503, "times": None}
        for n in range(count)
        for method, path in [shapes[n % len(shapes)]]
    ]


def build(count: int) -> Faults:
    faults = Faults()
    for spec in rules(count):
        faults.add(FaultSpec.model_validate(spec), "default.dev")
    return faults


def scan(faults: list[Fault], method: str, path: str, namespace: str) -> Fault | None:
    """Matching without the index: every fault in turn (each with its compiled pattern, as in take())."""
    for fault in faults:
        if fault.matches(method, path, namespace):
            return fault
    return None


def per_request(call: object, requests: int) -> float:
    assert callable(call)
    started = time.perf_counter()
    for _ in range(requests):
        call(*REQUEST)
    return (time.perf_counter() - started) / requests * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faults", type=int, default=MAX_FAULTS)
    parser.add_argument("--requests", type=int, default=20_000)
    args = parser.parse_args()
    none = Faults()
    many = build(args.faults)
    listed = many.list()
    assert many.take(*REQUEST) is None and scan(listed, *REQUEST) is None
    results = {
        "no fault": per_request(none.take, args.requests),
        f"{args.faults} faults, indexed": per_request(many.take, args.requests),
        f"{args.faults} faults, scanned": per_request(lambda *r: scan(listed, *r), args.requests),
    }
    baseline = results[f"{args.faults} faults, scanned"]
    for name, micros in results.items():
        print(f"{name:<28} {micros:9.2f} us/request   {micros / baseline:6.3f} of the scan")


if __name__ == "__main__":
    main()
