"""Route `requests` and `httpx` calls to the vendor's hosts into an in-process emulator, without a port.

The patch is at the transport level (`requests.adapters.HTTPAdapter.send`, `httpx.HTTPTransport.handle_request`,
`httpx.AsyncHTTPTransport.handle_async_request`), so sessions, clients and SDKs created before or during the
interception are all covered. Any other host, localhost included, goes to the network as usual. One
interception at a time: entering a second one while another is active raises RuntimeError.

A connection fault raises what the client raises over a socket (tests/test_faults_inprocess.py compares
the two): requests' ConnectionError, or ChunkedEncodingError for a malformed chunk; httpx's ReadError for
a reset, RemoteProtocolError for the others.
"""

from __future__ import annotations

import functools
import http.client
import io
import sys
import threading
from collections.abc import AsyncIterator, Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from starlette.types import Scope

from ..config import Settings
from ..http.faults import MALFORMED, RESET, ConnectionFault
from .asgi import Answer, scope_of
from .client import AlloyMock
from .import_hook import AfterImport
from .inprocess import DEFAULT_PORTS, InProcessEmulator, scope_for

VENDOR_HOSTS = frozenset(
    {"embedded.runalloy.com", "eu-embedded.runalloy.com", "app.runalloy.com", "eu-app.runalloy.com"}
)

_lock = threading.Lock()
_active: list[Interception] = []


class Interception:
    """While entered, requests to `hosts` (any scheme or port) are answered by `target` instead of the network."""

    def __init__(self, target: InProcessEmulator, hosts: Collection[str] = VENDOR_HOSTS) -> None:
        self.target = target
        self.hosts = frozenset(host.lower() for host in hosts)
        self._restore: list[tuple[type, str, Any]] = []
        self._on = False
        self._hook: AfterImport | None = None

    def routes(self, host: str | None) -> bool:
        # A wrapper that outlives its interception (another patcher restored it later) only passes through.
        return self._on and host is not None and host.lower().rstrip(".") in self.hosts

    def __enter__(self) -> Interception:
        with _lock:
            if _active:
                raise RuntimeError(
                    "alloy-mock: an intercept is already active; nested or concurrent intercepts are not supported "
                    "(use the handle you already have)"
                )
            try:
                later = {}
                for name, patch in (("requests", self._patch_requests), ("httpx", self._patch_httpx)):
                    if name in sys.modules:
                        patch()
                    else:  # not imported by anyone yet: patched when it is
                        later[name] = functools.partial(self._patch_late, patch)
                if later:
                    self._hook = AfterImport(later)
                    self._hook.install()
            except BaseException:
                self._unpatch()
                raise
            _active.append(self)
            self._on = True
        return self

    def _patch_late(self, patch: Callable[[], None]) -> None:
        with _lock:
            if self._on:
                patch()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        with _lock:
            self._on = False
            if self._hook is not None:
                self._hook.remove()
                self._hook = None
            self._unpatch()
            if self in _active:
                _active.remove(self)

    def _set(self, owner: type, name: str, replacement: Any) -> None:
        self._restore.append((owner, name, owner.__dict__[name]))
        setattr(owner, name, replacement)

    def _unpatch(self) -> None:
        while self._restore:
            owner, name, original = self._restore.pop()
            setattr(owner, name, original)

    def _patch_requests(self) -> None:
        try:
            from requests.adapters import HTTPAdapter  # type: ignore[import-untyped, unused-ignore]
            from requests.sessions import Session  # type: ignore[import-untyped, unused-ignore]
        except ModuleNotFoundError:
            return
        original_send = HTTPAdapter.send
        original_merge = Session.merge_environment_settings
        target = self.target

        @functools.wraps(original_send)
        def send(adapter: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            parts = urlsplit(request.url)
            if not self.routes(parts.hostname):
                return original_send(adapter, request, *args, **kwargs)
            # http.client sends str headers as Latin-1; a bytes value goes as it is.
            headers = [(name.encode("latin-1"), _latin1(value)) for name, value in request.headers.items()]
            try:
                answer = target.serve(scope_for(request.method, parts, headers), _requests_body(request.body))
            except ConnectionFault as fault:
                if fault.kind != MALFORMED:
                    raise _requests_error(fault, request) from None
                return adapter.build_response(request, _urllib3_response(_malformed_answer(), request, _BrokenChunk()))
            return adapter.build_response(request, _urllib3_response(answer, request))

        @functools.wraps(original_merge)
        def merge_environment_settings(session: Any, url: str, *args: Any, **kwargs: Any) -> Any:
            if not (session.trust_env and self.routes(urlsplit(url).hostname)) or not isinstance(
                session.get_adapter(url), HTTPAdapter
            ):
                return original_merge(session, url, *args, **kwargs)
            # The request is answered in-process, where proxies and CA bundles play no part: skip the
            # environment's (a scan of os.environ and the proxy bypass rules, about 40% of a stubbed call).
            # requests' own code merges the rest, as for a session that does not trust the environment.
            untrusting = _Untrusting(session.proxies, session.stream, session.verify, session.cert)
            return original_merge(untrusting, url, *args, **kwargs)  # type: ignore[arg-type]  # duck-typed

        self._set(HTTPAdapter, "send", send)
        self._set(Session, "merge_environment_settings", merge_environment_settings)

    def _patch_httpx(self) -> None:
        try:
            import httpx
        except ModuleNotFoundError:
            return
        sync_original = httpx.HTTPTransport.handle_request
        async_original = httpx.AsyncHTTPTransport.handle_async_request
        target = self.target

        def response(request: httpx.Request, answer: Answer | ConnectionFault) -> httpx.Response:
            stream: Any
            if isinstance(answer, ConnectionFault):
                if answer.kind != MALFORMED:
                    raise _httpx_error(answer, request)
                answer, stream = _malformed_answer(), _broken_chunks()(request)
            else:
                stream = httpx.ByteStream(answer.body)
            extensions = {"http_version": b"HTTP/1.1", "reason_phrase": _reason(answer.status).encode()}
            return httpx.Response(
                answer.status, headers=answer.headers, stream=stream, request=request, extensions=extensions
            )

        @functools.wraps(sync_original)
        def handle_request(transport: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
            if not self.routes(request.url.host):
                return sync_original(transport, request)
            try:
                answer: Answer | ConnectionFault = target.serve(_httpx_scope(request), request.read())
            except ConnectionFault as fault:
                answer = fault
            return response(request, answer)

        @functools.wraps(async_original)
        async def handle_async_request(transport: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
            if not self.routes(request.url.host):
                return await async_original(transport, request)
            body = await request.aread()
            try:
                answer: Answer | ConnectionFault = await target.serve_async(_httpx_scope(request), body)
            except ConnectionFault as fault:
                answer = fault
            return response(request, answer)

        self._set(httpx.HTTPTransport, "handle_request", handle_request)
        self._set(httpx.AsyncHTTPTransport, "handle_async_request", handle_async_request)


@dataclass(frozen=True)
class _Untrusting:
    """The settings `Session.merge_environment_settings` reads, of a session with `trust_env = False`."""

    proxies: Any
    stream: Any
    verify: Any
    cert: Any
    trust_env: bool = False


def active() -> bool:
    """Whether an interception is in force."""
    return bool(_active)


@contextmanager
def intercept(settings: Settings | None = None, *, hosts: Collection[str] = VENDOR_HOSTS) -> Iterator[AlloyMock]:
    """Answer calls to the Alloy hosts from a fresh in-process emulator, for as long as the block runs.

    ```python
    from alloy_mock.testing import intercept

    with intercept() as alloy:
        user = alloy.create_user("alice@example.com")
        requests.get(f"{alloy.base_url}/users/{user['userId']}", headers=alloy.headers())  # no network
    ```

    Everything is restored when the block ends, also on an exception. Not reentrant: nesting raises RuntimeError.
    """
    with InProcessEmulator(settings) as emulator, Interception(emulator, hosts):
        yield emulator.handle()


def _requests_body(body: Any) -> bytes:
    """A prepared request's body as bytes: bytes, text, a file or an iterable of chunks (a streamed upload)."""
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return b"".join(chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk) for chunk in body)


def _latin1(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("latin-1")


def _urllib3_response(answer: Answer, request: Any, body: io.RawIOBase | None = None) -> Any:
    """What urllib3 would hand `requests` for this answer: `build_response` does the rest (cookies, encoding)."""
    from urllib3 import HTTPResponse
    from urllib3._collections import HTTPHeaderDict  # where urllib3 1.26 and 2.x both have it

    # http.client reads header lines as Latin-1.
    headers = HTTPHeaderDict([(name.decode("latin-1"), value.decode("latin-1")) for name, value in answer.headers])
    return HTTPResponse(
        body=io.BytesIO(answer.body) if body is None else body,
        headers=headers,
        status=answer.status,
        reason=_reason(answer.status),
        version=11,
        preload_content=False,
        decode_content=True,
        request_method=request.method,
        request_url=request.url,
    )


class _BrokenChunk(io.RawIOBase):
    """A body whose reading fails as http.client's does on a malformed chunk (requests: ChunkedEncodingError)."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise http.client.IncompleteRead(b"")


def _httpx_scope(request: Any) -> Scope:
    """The scope of an httpx request (its URL is already split and percent-encoded, its Host header set)."""
    url = request.url
    headers = [(name.lower(), value) for name, value in request.headers.raw]
    server = (url.host, url.port or DEFAULT_PORTS[url.scheme])
    return scope_of(request.method, url.scheme, server, url.raw_path, headers)


_REASONS = {status.value: status.phrase for status in HTTPStatus}

# -- connection faults, as each client reports them over a socket -----------------------------------------

# What the server's MALFORMED_RESPONSE_CHUNK sends before its garbage (http/faults.py).
_MALFORMED_HEADERS = [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")]
_BAD_CHUNK = "illegal chunk header: bytearray(b'this is not a chunk\\r\\n')"  # h11's words


def _malformed_answer() -> Answer:
    return Answer(200, _MALFORMED_HEADERS, b"")


def _requests_error(fault: ConnectionFault, request: Any) -> Exception:
    """requests' error for a connection broken before an answer: urllib3's ProtocolError, with the cause
    http.client gives."""
    from requests.exceptions import ConnectionError as RequestsConnectionError
    from urllib3.exceptions import ProtocolError

    cause: Exception
    if fault.kind == RESET:
        cause = ConnectionResetError(104, "Connection reset by peer")
    elif fault.sent:  # http.client's complaint is about the first line
        line, newline, _ = fault.sent.partition(b"\n")
        cause = http.client.BadStatusLine((line + newline).decode("iso-8859-1"))
    else:
        cause = http.client.RemoteDisconnected("Remote end closed connection without response")
    return RequestsConnectionError(ProtocolError("Connection aborted.", cause), request=request)


def _httpx_error(fault: ConnectionFault, request: Any) -> Exception:
    import httpx

    if fault.kind == RESET:
        return httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
    # random bytes hold no status line that h11 can end: to it, too, the server left without answering
    return httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)


@functools.cache
def _broken_chunks() -> type:
    """An httpx response stream (sync and async) whose first chunk is not one: reading the body fails."""
    import httpx

    class BrokenChunks(httpx.SyncByteStream, httpx.AsyncByteStream):
        def __init__(self, request: httpx.Request) -> None:
            self._request = request

        def __iter__(self) -> Iterator[bytes]:
            raise httpx.RemoteProtocolError(_BAD_CHUNK, request=self._request)

        async def __aiter__(self) -> AsyncIterator[bytes]:
            raise httpx.RemoteProtocolError(_BAD_CHUNK, request=self._request)
            yield b""  # makes this an async generator

    return BrokenChunks


def _reason(status: int) -> str:
    return _REASONS.get(status, "")
