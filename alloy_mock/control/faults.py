"""Fault injection: answer the next N matching requests with a given status and body, or slow them down."""

from __future__ import annotations

import fnmatch
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from ..domain.errors import InvalidInput

BODILESS = frozenset({204, 304})  # statuses whose answers carry no body (RFC 9110)

# The vendor documents no rate limit for Embedded; this is the body another Alloy product uses.
DEFAULT_MESSAGES = {429: "Rate limit exceeded", 401: "Unauthorized"}


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

    def matches(self, method: str, path: str, namespace: str | None) -> bool:
        return (
            (self.method == "*" or self.method == method)
            and fnmatch.fnmatchcase(path, self.path)
            and (self.namespace is None or self.namespace == namespace)
        )

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
        self._ids = itertools.count(1)

    def __bool__(self) -> bool:
        return bool(self._faults)

    def add(self, spec: Mapping[str, Any], namespace: str | None) -> Fault:
        """A fault from its JSON description (see the control API docs); raises InvalidInput."""
        status = spec.get("status")
        if status is not None and (not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 599):
            # 1xx are interim answers, never the final one a fault stands for.
            raise InvalidInput("status must be a final HTTP status code (200-599)")
        delay = spec.get("delayMs", 0)
        if not isinstance(delay, int) or isinstance(delay, bool) or not 0 <= delay <= 60_000:
            raise InvalidInput("delayMs must be a whole number of milliseconds from 0 to 60000")
        if status is None and not delay:
            raise InvalidInput("give a status, a delayMs, or both")
        times = spec.get("times", 1)
        if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
            raise InvalidInput("times must be a positive whole number, or null for every matching request")
        method = spec.get("method", "*")
        path = spec.get("path", "*")
        if not isinstance(method, str) or not isinstance(path, str) or not path:
            raise InvalidInput("method and path must be strings")
        headers = spec.get("headers", {})
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise InvalidInput("headers must be an object of strings")
        body = spec.get("body")
        if status in BODILESS:
            if body is not None:
                raise InvalidInput(f"a {status} answer has no body")
        elif body is None and status is not None:
            body = {"message": DEFAULT_MESSAGES.get(status) or _phrase(status)}
        fault = Fault(
            id=f"fault-{next(self._ids)}",
            method=method.upper(),
            path=path if path.startswith(("/", "*")) else "/" + path,
            namespace=namespace,
            status=status,
            body=body,
            headers=dict(headers),
            delay_ms=delay,
            remaining=times,
        )
        self._faults[fault.id] = fault
        return fault

    def take(self, method: str, path: str, namespace: str | None) -> Fault | None:
        """The first fault matching this request, counting it as used (and dropping it when spent)."""
        for fault in self._faults.values():
            if fault.matches(method, path, namespace):
                fault.hits += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        del self._faults[fault.id]
                return fault
        return None

    def list(self) -> list[Fault]:
        return list(self._faults.values())

    def remove(self, fault_id: str) -> bool:
        return self._faults.pop(fault_id, None) is not None

    def clear(self) -> None:
        self._faults.clear()


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"
