"""What matching a request against many faults costs: the indexed `Faults.take()` against a plain scan.

    python bench/faults.py [--faults N] [--requests N]

Both run in this process, in the same run, on the same rules: N faults (default MAX_FAULTS) in the request's
namespace, on other paths and methods (the worst case for a scan: every rule is looked
at, none matches), then the request itself. Prints microseconds per request and the ratios.

The body rows: a POST /users whose JSON body the faults look at, N faults of which a quarter are on
POST /users with a bodyContains the body does not match (the rest elsewhere); the request pays for
wants_body() and take(), which parses the body once, and meets every body rule (none matches).
"""

from __future__ import annotations

import argparse
import time

from alloy_mock.control.faults import MAX_FAULTS, Fault, Faults
from alloy_mock.control.models import FaultSpec

REQUEST = ("GET", "/users/6323d7c9122ae69742a5d0a2/token", "default.dev")
BODY_REQUEST = ("POST", "/users", "default.dev")
BODY = b'{"username": "alice@example.com", "fullName": "Alice"}'


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


def body_rules(count: int) -> list[dict[str, object]]:
    """Like rules(), but every fourth is a bodyContains on POST /users that the request's body does not match."""
    specs = rules(count)
    for n in range(0, count, 4):
        specs[n] = {
            "method": "POST",
            "path": "/users",
            "status": 503,
            "times": None,
            "bodyContains": {"username": f"u{n}"},
        }
    return specs


def build(count: int, specs: list[dict[str, object]] | None = None) -> Faults:
    faults = Faults()
    for spec in rules(count) if specs is None else specs:
        faults.add(FaultSpec.model_validate(spec), "default.dev")
    return faults


def with_body(faults: Faults) -> object:
    """A request's matching as vendor.py does it when faults may look at its body."""

    def match(method: str, path: str, namespace: str) -> Fault | None:
        if faults.wants_body(method, path, namespace):
            return faults.take(method, path, namespace, BODY)
        return faults.take(method, path, namespace)

    return match


def scan(faults: list[Fault], method: str, path: str, namespace: str) -> Fault | None:
    """Matching without the index: every fault in turn (each with its compiled pattern, as in take())."""
    for fault in faults:
        if fault.matches(method, path, namespace):
            return fault
    return None


def per_request(call: object, requests: int, request: tuple[str, str, str] = REQUEST) -> float:
    assert callable(call)
    started = time.perf_counter()
    for _ in range(requests):
        call(*request)
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
        print(f"{name:<36} {micros:9.2f} us/request   {micros / baseline:6.3f} of the scan")
    bodied = build(args.faults, body_rules(args.faults))
    assert with_body(bodied)(*BODY_REQUEST) is None  # type: ignore[operator]
    body_results = {
        f"POST /users, {args.faults} faults elsewhere": per_request(
            with_body(build(args.faults)), args.requests, BODY_REQUEST
        ),
        f"POST /users, {args.faults // 4} body rules": per_request(with_body(bodied), args.requests, BODY_REQUEST),
    }
    for name, micros in body_results.items():
        print(f"{name:<36} {micros:9.2f} us/request   {micros / baseline:6.3f} of the scan")


if __name__ == "__main__":
    main()
