"""A bounded record of the requests the emulator received, for assertions and failure reports."""

from __future__ import annotations

import fnmatch
from collections import deque
from collections.abc import Iterable
from typing import Any, NamedTuple

import orjson

from ..clock import iso_time

BODY_LIMIT = 64 * 1024  # bytes of each body kept; the rest is cut off
# The namespace label of a call that carries only the frontend's x-alloy-user-token (journal and faults).
USER_TOKEN = "user-token"


class RecordedRequest(NamedTuple):
    """One exchange, built once when it ends (a tuple: the journal records every request)."""

    id: int
    at: float  # the emulator clock's epoch seconds (formatted only when read)
    method: str
    path: str
    query: str
    namespace: str | None
    fault: str | None
    status: int  # 500 when no answer was sent (the handling failed or was cancelled)
    duration_ms: float
    request_body: bytes
    response_body: bytes

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
            "requestBody": _decode(self.request_body),
            "responseBody": _decode(self.response_body),
            "fault": self.fault,
        }

    def summary(self) -> str:
        """One line, for pytest failure reports."""
        body = self.response_body[:200].decode("utf-8", "replace")
        query = f"?{self.query}" if self.query else ""
        return f"#{self.id} {self.method} {self.path}{query} [{self.namespace or '-'}] -> {self.status} {body}"


def _decode(body: bytes) -> Any:
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
        self._entries: deque[RecordedRequest] = deque(maxlen=size or None)
        self._next_id = 1

    @property
    def enabled(self) -> bool:
        return self.size > 0

    def record(
        self,
        at: float,
        method: str,
        path: str,
        query: bytes,
        namespace: str | None,
        fault: str | None,
        status: int,
        duration_ms: float,
        request_body: bytes,
        response_body: bytes,
    ) -> None:
        """Keep one exchange (bodies cut at BODY_LIMIT), under the next id."""
        if not self.enabled:
            return
        entry_id = self._next_id
        self._next_id += 1
        self._entries.append(
            RecordedRequest(
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
            )
        )

    def clear(self) -> None:
        self._entries.clear()

    def find(
        self,
        method: str | None = None,
        path: str | None = None,
        namespace: str | None = None,
        status: int | None = None,
        since: int | None = None,
        limit: int | None = None,
    ) -> list[RecordedRequest]:
        """Matching entries, oldest first; `path` is a glob (`*` also crosses '/'); `limit` keeps the newest."""
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
        result = list(found)
        return result[-limit:] if limit else result
