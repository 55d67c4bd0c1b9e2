"""A bounded record of the requests the emulator received, for assertions and failure reports."""

from __future__ import annotations

import fnmatch
import hashlib
from collections import deque
from collections.abc import Iterable
from typing import Any, NamedTuple

import orjson

from ..clock import iso_time

BODY_LIMIT = 64 * 1024  # bytes of each body kept; the rest is cut off
# The namespace label of a call that carries only the frontend's x-alloy-user-token (journal and faults).
USER_TOKEN = "user-token"
# Header values shown only as a fingerprint: enough to tell two keys or tokens apart, not to use one.
SECRET_HEADERS = frozenset({"authorization", "x-alloy-user-token"})
REDACTED = "[redacted]"
Headers = list[tuple[bytes, bytes]]  # as the ASGI scope holds them


class RecordedRequest(NamedTuple):
    """One exchange, built once when it ends (a tuple: the journal records every request)."""

    id: int
    at: float  # the emulator clock's epoch seconds (formatted only when read)
    method: str
    path: str
    query: str
    namespace: str | None
    fault: str | None
    status: int | None  # 500 when the handling failed or was cancelled; None: a connectionFault broke it
    duration_ms: float
    request_body: bytes
    response_body: bytes
    headers: Headers  # the scope's own list, read (and redacted) only when shown
    connection_fault: str | None = None  # the connectionFault that answered instead of a response

    def has_header(self, name: bytes) -> bool:
        return any(key == name for key, _ in self.headers)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "time": iso_time(self.at),
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "namespace": self.namespace,
            "status": self.status,
            "durationMs": round(self.duration_ms, 3),
            "headers": shown_headers(self.headers),
            "requestBody": _without_secrets(decode_body(self.request_body)),
            "responseBody": decode_body(self.response_body),
            "fault": self.fault,
            "connectionFault": self.connection_fault,
        }

    def summary(self) -> str:
        """One line, for pytest failure reports."""
        body = self.response_body[:200].decode("utf-8", "replace")
        query = f"?{self.query}" if self.query else ""
        outcome = self.connection_fault or self.status
        return f"#{self.id} {self.method} {self.path}{query} [{self.namespace or '-'}] -> {outcome} {body}"


def fingerprint(value: str) -> str:
    """A short, stable stand-in for a secret: the start of its SHA-256."""
    return "sha256:" + hashlib.sha256(value.encode("latin-1")).hexdigest()[:12]


def shown_headers(headers: Headers) -> dict[str, str]:
    """The request headers by lowercase name (repeated ones joined by ", "), secrets as fingerprints."""
    shown: dict[str, str] = {}
    for raw_name, raw_value in headers:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        if name in SECRET_HEADERS:
            value = fingerprint(value)
        shown[name] = f"{shown[name]}, {value}" if name in shown else value
    return shown


def _without_secrets(body: Any) -> Any:
    """A recorded request body with the values of a credential's `data` (passwords, API keys) redacted."""
    credential = body.get("credential") if isinstance(body, dict) else None
    if isinstance(credential, dict) and isinstance(credential.get("data"), dict):
        data = {name: REDACTED for name in credential["data"]}
        return {**body, "credential": {**credential, "data": data}}
    return body


def decode_body(body: bytes) -> Any:
    """A body as JSON when it is JSON, else as text (undecodable bytes replaced); None when empty."""
    if not body:
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return body.decode("utf-8", "replace")


class RequestJournal:
    """The last `size` requests (0 turns recording off). Memory stays bounded: bodies are cut at 64 KiB."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.enabled = size > 0  # an attribute, not a property: read twice on every request
        self._entries: deque[RecordedRequest] = deque(maxlen=size or None)
        self._next_id = 1

    def record(
        self,
        at: float,
        method: str,
        path: str,
        query: bytes,
        namespace: str | None,
        fault: str | None,
        status: int | None,
        duration_ms: float,
        request_body: bytes,
        response_body: bytes,
        headers: Headers | None = None,
        connection_fault: str | None = None,
    ) -> None:
        """Keep one exchange (bodies cut at BODY_LIMIT), under the next id."""
        if not self.enabled:
            return
        entry_id = self._next_id
        self._next_id += 1
        self._entries.append(
            tuple.__new__(  # RecordedRequest(...) without NamedTuple's Python-level __new__: every request
                RecordedRequest,
                (
                    entry_id,
                    at,
                    method,
                    path,
                    query.decode("latin-1"),
                    namespace,
                    fault,
                    status,
                    duration_ms,
                    request_body[:BODY_LIMIT],
                    response_body[:BODY_LIMIT],
                    headers or [],
                    connection_fault,
                ),
            )
        )

    def clear(self) -> None:
        """Forget the entries; ids go on from where they were, so an id seen before a reset stays unique."""
        self._entries.clear()

    def find(
        self,
        method: str | None = None,
        path: str | None = None,
        namespace: str | None = None,
        status: int | None = None,
        since: int | None = None,
        limit: int | None = None,
        header: str | None = None,
        before: int | None = None,
    ) -> list[RecordedRequest]:
        """Matching entries, oldest first; `path` is a glob (`*` also crosses '/'); `limit` keeps the newest;
        `since` and `before` bound the ids (a page of older entries: before= the oldest id shown)."""
        found: Iterable[RecordedRequest] = self._entries
        if method:
            found = [e for e in found if e.method == method.upper()]
        if path:
            found = [e for e in found if fnmatch.fnmatchcase(e.path, path)]
        if namespace:
            found = [e for e in found if e.namespace == namespace]
        if status is not None:
            found = [e for e in found if e.status == status]
        if since is not None:
            found = [e for e in found if e.id > since]
        if before is not None:
            found = [e for e in found if e.id < before]
        if header:
            wanted = header.lower().encode("latin-1", "replace")
            found = [e for e in found if e.has_header(wanted)]
        result = list(found)
        return result[-limit:] if limit else result
