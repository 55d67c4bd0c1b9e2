"""Fault injection: answer the next N matching requests with a given status and body, slow them down, dribble
their answer, or break their connection (http/faults.py does these last two)."""

from __future__ import annotations

import fnmatch
import functools
import heapq
import itertools
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import orjson

from ..config import VERSION_LIKE
from ..domain.errors import InvalidInput

if TYPE_CHECKING:  # a pydantic model, loaded with the control API on its first request
    from .models import FaultSpec

BODILESS = frozenset({204, 304})  # statuses whose answers carry no body (RFC 9110)

# The vendor documents no rate limit for Embedded; this is the body another Alloy product uses.
DEFAULT_MESSAGES = {429: "Rate limit exceeded", 401: "Unauthorized"}

MAX_FAULTS = 1000  # in force at once (a 400 beyond): matching stays cheap and memory small
MAX_HEADERS = 32
MAX_HEADER_BYTES = 8192  # of one value
# Headers that frame the message or the connection: the server writes them, a fault setting them would
# break the HTTP the client reads (a Content-Length of 1000 with 33 bytes sent, or both CL and TE).
FRAMING_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer", "proxy-connection"}
)
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}")  # a header name (RFC 9110 token)
_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")  # visible Latin-1, spaces and tabs: no CR, LF or NUL
_WILDCARDS = re.compile(r"[*?\[]")
MAX_BODY_DEPTH = 32  # of a bodyContains object: matching recurses that deep at most
NOT_JSON = object()  # a request body that is not JSON (or was not read whole): no bodyContains matches it
_UNPARSED = object()
_ABSENT = object()


def check_headers(headers: dict[str, str]) -> dict[str, str]:
    """The headers of a fault, or InvalidInput naming the first one the server could not send as given."""
    if len(headers) > MAX_HEADERS:
        raise InvalidInput(f"headers: at most {MAX_HEADERS} headers")
    for name, value in headers.items():
        if not _TOKEN.fullmatch(name):
            raise InvalidInput(f"headers: {name!r} is not a header name (letters, digits and !#$%&'*+-.^_`|~)")
        if name.lower() in FRAMING_HEADERS:
            raise InvalidInput(f"headers: {name} frames the HTTP message; the server sets it, a fault cannot")
        if len(value) > MAX_HEADER_BYTES or not _VALUE.fullmatch(value):
            raise InvalidInput(
                f"headers: the value of {name} must be at most {MAX_HEADER_BYTES} Latin-1 characters, "
                "without CR, LF or other control characters"
            )
    return dict(headers)


@dataclass(frozen=True)
class Dribble:
    """The answer's body in `chunks` chunks, one every total_ms / chunks ms (WireMock's chunkedDribbleDelay)."""

    chunks: int
    total_ms: int


@dataclass
class Fault:
    id: str
    method: str  # "*" for any
    path: str  # glob over the path after the version prefix, e.g. "/users/*/token"
    namespace: str | None  # None for any
    status: int | None  # None: only delay, then answer normally
    body: Any
    headers: dict[str, str]
    delay_ms: int
    remaining: int | None  # None: until cleared
    connection: str | None = None  # a connectionFault name: no answer, the connection is broken instead
    dribble: Dribble | None = None
    body_contains: dict[str, Any] | None = None  # what the request's JSON body must contain
    probability: float = 1.0
    seed: int | None = None
    hits: int = field(default=0)
    seq: int = field(default=0)  # creation order: the first fault created wins

    @property
    def bucket(self) -> tuple[str, str]:
        """Where the index files it: its method, and the first path segment if the pattern spells it out."""
        return self.method, _first_segment(self.path)

    def matches(self, method: str, path: str, namespace: str | None) -> bool:
        return (
            (self.namespace is None or self.namespace == namespace)
            and (self.method == "*" or self.method == method)
            and self._pattern.match(path) is not None
        )

    def draws_a_hit(self) -> bool:
        """Whether a request that matches is faulted: always, or by a draw from the fault's own generator."""
        return self.probability >= 1 or self.random.random() < self.probability

    @functools.cached_property
    def random(self) -> random.Random:
        """The fault's generator: its probability draws and RANDOM_DATA_THEN_CLOSE's bytes, in request order
        (with a seed, the same requests give the same draws)."""
        return random.Random(self.seed)  # not for secrets: for repeatable chaos

    @functools.cached_property
    def _pattern(self) -> re.Pattern[str]:
        return re.compile(fnmatch.translate(self.path))

    def to_json(self) -> dict[str, Any]:
        dribble = self.dribble
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "namespace": self.namespace,
            "status": self.status,
            "body": self.body,
            "headers": self.headers,
            "delayMs": self.delay_ms,
            "connectionFault": self.connection,
            "chunkedDribbleDelay": None
            if dribble is None
            else {"numberOfChunks": dribble.chunks, "totalDuration": dribble.total_ms},
            "bodyContains": self.body_contains,
            "probability": self.probability,
            "seed": self.seed,
            "remaining": self.remaining,
            "hits": self.hits,
        }


class Faults:
    def __init__(self) -> None:
        self._faults: dict[str, Fault] = {}
        # (method or "*", first path segment or "*") -> faults in creation order: a request looks at four
        # buckets, not at every fault
        self._index: dict[tuple[str, str], list[Fault]] = {}
        self._ids = itertools.count(1)
        self._with_body = 0  # faults with a bodyContains: only then can a request's body matter

    def __bool__(self) -> bool:
        return bool(self._faults)

    def add(self, spec: FaultSpec, namespace: str | None) -> Fault:
        """A fault from its validated description (see the control API docs); raises InvalidInput."""
        if (
            spec.status is None
            and not spec.delayMs
            and spec.connectionFault is None
            and spec.chunkedDribbleDelay is None
        ):
            raise InvalidInput("give a status, a delayMs, a connectionFault or a chunkedDribbleDelay")
        if spec.connectionFault is not None:
            _check_breaks_alone(spec)
        if spec.bodyContains is not None and _depth(spec.bodyContains) > MAX_BODY_DEPTH:
            raise InvalidInput(f"bodyContains: at most {MAX_BODY_DEPTH} levels of nesting")
        headers = check_headers(spec.headers)
        body = spec.body
        if spec.status in BODILESS:
            if body is not None:
                raise InvalidInput(f"a {spec.status} answer has no body")
        elif body is None and spec.status is not None:
            body = {"message": DEFAULT_MESSAGES.get(spec.status) or _phrase(spec.status)}
        path = spec.path if spec.path.startswith(("/", "*")) else "/" + spec.path
        version = VERSION_LIKE.match(path)
        if version is not None:  # it would never match: faults see the path after the version prefix
            raise InvalidInput(
                f"path: give the path after the version prefix ({'/' + path[version.end() :]!r}, not {spec.path!r}); "
                "a fault matches that path under every version"
            )
        if len(self._faults) >= MAX_FAULTS:
            raise InvalidInput(f"at most {MAX_FAULTS} faults can be in force at once: clear some first")
        seq = next(self._ids)
        dribble = spec.chunkedDribbleDelay
        fault = Fault(
            id=f"fault-{seq}",
            method=spec.method.upper(),
            path=path,
            namespace=namespace,
            status=spec.status,
            body=body,
            headers=headers,
            delay_ms=spec.delayMs,
            remaining=spec.times,
            connection=spec.connectionFault,
            dribble=None if dribble is None else Dribble(dribble.numberOfChunks, dribble.totalDuration),
            body_contains=spec.bodyContains,
            probability=spec.probability,
            seed=spec.seed,
            seq=seq,
        )
        self._faults[fault.id] = fault
        self._index.setdefault(fault.bucket, []).append(fault)
        self._with_body += fault.body_contains is not None
        return fault

    def wants_body(self, method: str, path: str, namespace: str | None) -> bool:
        """Whether a fault that this request matches so far looks at its body (which must then be read first)."""
        return self._with_body > 0 and any(
            fault.body_contains is not None and fault.matches(method, path, namespace)
            for fault in self._candidates(method, path)
        )

    def take(self, method: str, path: str, namespace: str | None, body: bytes | None = None) -> Fault | None:
        """The first fault matching this request, counting it as used (and dropping it when spent).

        `body` is the request's whole body, None if it was not read (then no bodyContains matches).
        """
        parsed: Any = _UNPARSED  # parsed once, by the first fault that looks at it
        for fault in self._candidates(method, path):
            if not fault.matches(method, path, namespace):
                continue
            if fault.body_contains is not None:
                parsed = _json_of(body) if parsed is _UNPARSED else parsed
                if parsed is NOT_JSON or not contains(parsed, fault.body_contains):
                    continue
            if not fault.draws_a_hit():
                continue
            fault.hits += 1
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining == 0:
                    self.remove(fault.id)
            return fault
        return None

    def _candidates(self, method: str, path: str) -> Iterable[Fault]:
        segment = _first_segment(path)
        keys = {(method, segment), (method, "*"), ("*", segment), ("*", "*")}
        buckets = [bucket for key in keys if (bucket := self._index.get(key))]
        if len(buckets) == 1:
            return buckets[0]
        return heapq.merge(*buckets, key=lambda fault: fault.seq)

    def list(self) -> list[Fault]:
        return list(self._faults.values())

    def remove(self, fault_id: str) -> bool:
        fault = self._faults.pop(fault_id, None)
        if fault is None:
            return False
        bucket = self._index[fault.bucket]
        bucket.remove(fault)
        if not bucket:
            del self._index[fault.bucket]
        self._with_body -= fault.body_contains is not None
        return True

    def clear(self) -> None:
        self._faults.clear()
        self._index.clear()
        self._with_body = 0


def contains(actual: Any, expected: Any) -> bool:
    """Whether the JSON value `actual` contains `expected`: objects may have extra keys, arrays match item by
    item (same length), numbers by value (1 is 1.0, but true is not 1), everything else by equality."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return False
        for key, wanted in expected.items():  # a loop, not all(): this runs for every rule a request meets
            found = actual.get(key, _ABSENT)
            if type(wanted) is str:  # the common case, without a call
                if type(found) is not str or found != wanted:
                    return False
            elif found is _ABSENT or not contains(found, wanted):
                return False
        return True
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(contains(item, wanted) for item, wanted in zip(actual, expected, strict=True))
        )
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    if isinstance(expected, int | float):
        return isinstance(actual, int | float) and actual == expected
    return type(actual) is type(expected) and actual == expected


def _json_of(body: bytes | None) -> Any:
    """The request body as JSON, or NOT_JSON (not read whole, empty, or not JSON)."""
    if not body:
        return NOT_JSON
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return NOT_JSON


def _depth(value: Any) -> int:
    """How deeply objects and arrays nest in `value` (without recursion: the value may nest deeply)."""
    deepest, level = 0, [(value, 1)]
    while level:
        item, depth = level.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            level.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _check_breaks_alone(spec: FaultSpec) -> None:
    """A connection fault sends no answer: what would shape one is a 400 (a delay before breaking is fine)."""
    shaping = {
        "status": spec.status is not None,
        "body": spec.body is not None,
        "headers": bool(spec.headers),
        "chunkedDribbleDelay": spec.chunkedDribbleDelay is not None,
    }
    given = [name for name, set_ in shaping.items() if set_]
    if given:
        raise InvalidInput(
            f"connectionFault sends no answer, so it does not combine with {', '.join(given)} (delayMs does)"
        )


def _first_segment(path: str) -> str:
    """The first segment of a path, or of a pattern when it holds no wildcard ("*" otherwise)."""
    segment = path.lstrip("/").split("/", 1)[0]
    return "*" if not path.startswith("/") or _WILDCARDS.search(segment) else segment


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"
