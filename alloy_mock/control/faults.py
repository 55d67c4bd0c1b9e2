"""Fault injection: answer the next N matching requests with a given status and body, or slow them down."""

from __future__ import annotations

import fnmatch
import functools
import heapq
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from ..domain.errors import InvalidInput
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

    @functools.cached_property
    def _pattern(self) -> re.Pattern[str]:
        return re.compile(fnmatch.translate(self.path))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "namespace": self.namespace,
            "status": self.status,
            "body": self.body,
            "headers": self.headers,
            "delayMs": self.delay_ms,
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

    def __bool__(self) -> bool:
        return bool(self._faults)

    def add(self, spec: FaultSpec, namespace: str | None) -> Fault:
        """A fault from its validated description (see the control API docs); raises InvalidInput."""
        if spec.status is None and not spec.delayMs:
            raise InvalidInput("give a status, a delayMs, or both")
        headers = check_headers(spec.headers)
        body = spec.body
        if spec.status in BODILESS:
            if body is not None:
                raise InvalidInput(f"a {spec.status} answer has no body")
        elif body is None and spec.status is not None:
            body = {"message": DEFAULT_MESSAGES.get(spec.status) or _phrase(spec.status)}
        path = spec.path
        if len(self._faults) >= MAX_FAULTS:
            raise InvalidInput(f"at most {MAX_FAULTS} faults can be in force at once: clear some first")
        seq = next(self._ids)
        fault = Fault(
            id=f"fault-{seq}",
            method=spec.method.upper(),
            path=path if path.startswith(("/", "*")) else "/" + path,
            namespace=namespace,
            status=spec.status,
            body=body,
            headers=headers,
            delay_ms=spec.delayMs,
            remaining=spec.times,
            seq=seq,
        )
        self._faults[fault.id] = fault
        self._index.setdefault(fault.bucket, []).append(fault)
        return fault

    def take(self, method: str, path: str, namespace: str | None) -> Fault | None:
        """The first fault matching this request, counting it as used (and dropping it when spent)."""
        for fault in self._candidates(method, path):
            if fault.matches(method, path, namespace):
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
        return True

    def clear(self) -> None:
        self._faults.clear()
        self._index.clear()


def _first_segment(path: str) -> str:
    """The first segment of a path, or of a pattern when it holds no wildcard ("*" otherwise)."""
    segment = path.lstrip("/").split("/", 1)[0]
    return "*" if not path.startswith("/") or _WILDCARDS.search(segment) else segment


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"
