"""The access log (`--access-log`): one line per request on stdout, as text or as JSON (`--log-format json`).

Its own logger rather than uvicorn's, so that it prints whatever `--log-level` says about the server's other
messages, and so that a line can carry what only the app knows: the namespace of the caller's key.
"""

from __future__ import annotations

import logging
import sys
import time
from datetime import datetime, timezone
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..config import LogFormat
from .faults import BROKEN_SCOPE_KEY
from .vendor import caller

LOGGER = logging.getLogger("alloy_mock.access")


def log_to_stdout() -> None:
    """Send the access log's lines to stdout, unchanged (each line is already formatted)."""
    if not LOGGER.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.INFO)
    LOGGER.propagate = False


def format_line(fields: dict[str, Any], log_format: LogFormat, broken: str | None = None) -> str:
    """`time method path status duration namespace`, or the same fields as one JSON object. For a connection
    broken by a fault (`broken`, its name) the status is null, and the text line shows the name instead."""
    if log_format == "json":
        return orjson.dumps(fields).decode()
    namespace = fields["namespace"] or "-"
    status = fields["status"] if broken is None else broken
    return f"{fields['time']} {fields['method']} {fields['path']} {status} {fields['duration']:.1f}ms {namespace}"


class AccessLog:
    """ASGI middleware: logs each HTTP request once its answer has been sent (or has failed)."""

    def __init__(self, app: ASGIApp, log_format: LogFormat) -> None:
        self.app = app
        self.log_format = log_format

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # until an answer starts: the client got none

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            # The key's namespace as the journal labels it ("user-token" for a frontend call with a user token
            # alone); the path without its query, which can carry a user token (install links do).
            _, namespace = caller(scope["app"].emulator, scope)
            broken = scope.get(BROKEN_SCOPE_KEY)  # a connection fault: no status was sent
            fields = {
                "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "method": scope["method"],
                "path": scope["path"],
                "status": status if broken is None else None,
                "duration": round((time.perf_counter() - started) * 1000, 3),  # milliseconds
                "namespace": namespace,
            }
            LOGGER.info(format_line(fields, self.log_format, broken))
