"""`InProcessEmulator`: the app without a port, run by Starlette's TestClient on one event loop in a portal thread.

Every request, from any thread or event loop, is handed to that loop through the TestClient's
blocking portal, so the emulator's state is only ever touched from one loop, as in the server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import orjson

from ..config import Settings
from ..emulator import Emulator
from .client import AlloyMock

if TYPE_CHECKING:
    from starlette.testclient import TestClient

VENDOR_ROOT = "https://embedded.runalloy.com"
# Recomputed from the body that is actually handed on (a chunked upload arrives joined).
_FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding"})

Headers = Sequence[tuple[str, str]]


class InProcessEmulator:
    """The emulator app, started (lifespan included) on enter and shut down on exit."""

    def __init__(self, settings: Settings | None = None, emulator: Emulator | None = None) -> None:
        self.settings = emulator.settings if emulator is not None else (settings or Settings())
        self._emulator = emulator
        self._client: TestClient | None = None

    def start(self) -> InProcessEmulator:
        from starlette.testclient import TestClient

        from ..app import create_app

        if self._client is not None:
            raise RuntimeError("the in-process emulator is already started")
        app = create_app(self.settings, self._emulator)
        # Errors come back as the 500 a server would send; redirects are for the caller's client to follow.
        client = TestClient(app, base_url=VENDOR_ROOT, raise_server_exceptions=False, follow_redirects=False)
        client.__enter__()
        self._client = client
        return self

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.__exit__(None, None, None)

    def __enter__(self) -> InProcessEmulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def dispatch(
        self, method: str, url: str, headers: Headers, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Serve one request; returns the status, the headers and the body as sent (not decoded)."""
        client = self._client
        if client is None:
            raise RuntimeError("the in-process alloy-mock emulator is not running")
        kept = [(name, value) for name, value in headers if name.lower() not in _FRAMING_HEADERS]
        request = client.build_request(method, url, headers=kept, content=body)
        own = {name.lower() for name, _ in kept}
        for name in client.headers:  # the TestClient's defaults (user-agent, accept, ...): only the caller's arrive
            if name.lower() not in own:
                del request.headers[name]
        response = client.send(request, stream=True, follow_redirects=False)
        try:
            content = b"".join(response.iter_raw())
        finally:
            response.close()
        return response.status_code, response.headers.multi_items(), content

    def handle(self) -> AlloyMock:
        """An `AlloyMock` whose helpers call this emulator directly; URLs are the vendor's."""
        return AlloyMock(VENDOR_ROOT, self.settings, self._send_json)

    def _send_json(self, method: str, url: str, body: Any, headers: Mapping[str, str]) -> tuple[int, bytes]:
        content = b"" if body is None else orjson.dumps(body)
        status, _, answer = self.dispatch(method, url, list(headers.items()), content)
        return status, answer
