"""The in-process path (alloy_mock/testing/asgi.py): the server's bytes without a socket, and requests that wait.

The answers are compared byte for byte with what the real server sends for the same request (only the
`date` header's value may differ: it is the time of sending); both serve one emulator, so they see the
same data.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import re
import socket
import sys
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
import uvicorn
from starlette.types import Receive, Scope, Send

from alloy_mock.cli import bind, url_of
from alloy_mock.config import Settings
from alloy_mock.http.protocol import http_protocol
from alloy_mock.testing import AlloyMock, InProcessEmulator, intercept
from alloy_mock.testing.asgi import Answer, call, call_from_thread, scope_of
from alloy_mock.testing.server import BackgroundServer

from .rawhttp import TIMEOUT

KEY = b"Authorization: Bearer alloy-mock-dev-key\r\n"
HTTP_DATE = re.compile(rb"date: [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT\r\n")


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    with BackgroundServer(Settings()) as background:
        yield background


@pytest.fixture(scope="module")
def inproc(server: BackgroundServer) -> Iterator[InProcessEmulator]:
    assert server.app is not None
    with InProcessEmulator(emulator=server.app.emulator) as emulator:  # the server's data
        yield emulator


def on_the_wire(url: str, request: bytes) -> bytes:
    """The response's bytes as the server sends them (Content-Length framed, or up to the close)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        found = re.search(rb"\r\ncontent-length: (\d+)", head)
        length = int(found[1]) if found and not request.startswith(b"HEAD ") else 0
        while len(body) < length:
            body += sock.recv(65536)
        return head + b"\r\n\r\n" + body


def in_process(emulator: InProcessEmulator, url: str, request: bytes) -> bytes:
    """The same request, parsed as the server parses it, served in-process; the answer as bytes."""
    head, _, body = request.partition(b"\r\n\r\n")
    line, *lines = head.split(b"\r\n")
    method, target, _ = line.split(b" ")
    headers = [(name.strip(), value.strip()) for name, _, value in (item.partition(b":") for item in lines)]
    answer = emulator.request(method.decode(), url + target.decode(), headers, body)
    return rendered(answer)


def rendered(answer: Answer) -> bytes:
    from http import HTTPStatus

    lines = [b"HTTP/1.1 %d %s" % (answer.status, HTTPStatus(answer.status).phrase.encode())]
    lines += [name + b": " + value for name, value in answer.headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + answer.body


def without_date(response: bytes) -> bytes:
    assert len(HTTP_DATE.findall(response)) == 1, response[:500]
    return HTTP_DATE.sub(b"date: <now>\r\n", response)


def request(method: str, target: str, headers: bytes = KEY, body: bytes = b"") -> bytes:
    length = b"content-length: %d\r\n" % len(body) if body else b""
    return b"%s %s HTTP/1.1\r\nhost: 127.0.0.1\r\n%s%s\r\n%s" % (
        method.encode(),
        target.encode(),
        headers,
        length,
        body,
    )


CASES = {
    "health": request("GET", "/health", b""),
    "a list": request("GET", "/2023-12/users"),
    "an unknown user": request("GET", "/2023-12/users/nobody"),
    "no key": request("GET", "/2023-12/users", b""),
    "a method not allowed": request("DELETE", "/2023-12/integrations"),
    "not JSON": request("POST", "/2023-12/users", KEY + b"content-type: text/plain\r\n", b"username=x"),
    "bad JSON": request("POST", "/2023-12/users", KEY + b"content-type: application/json\r\n", b"{nope"),
    "a HEAD": request("HEAD", "/2023-12/users"),
    "the JWKS": request("GET", "/.well-known/jwks.json", b""),
    "slashes to normalize": request("GET", "//2023-12//users/?x=%20y"),
    "an unknown version": request("GET", "/2022-01/users"),
    "an unknown route": request("GET", "/nope"),
    "a control call": request("GET", "/_mock/faults", b""),
    "an HTML page": request("GET", "/oauth/hubspot/authorize?token=forged", b""),
    "a CORS preflight": request(
        "OPTIONS",
        "/2023-12/workflows",
        b"origin: https://shop.example\r\naccess-control-request-method: GET\r\n"
        b"access-control-request-private-network: true\r\n",
    ),
    "a refused preflight": request(
        "OPTIONS", "/_mock/reset", b"origin: https://shop.example\r\naccess-control-request-method: POST\r\n"
    ),
    "a CORS answer": request("GET", "/2023-12/workflows", KEY + b"origin: https://shop.example\r\n"),
    "connection: close": request("GET", "/2023-12/users", KEY + b"connection: close\r\n"),
    "raw UTF-8 in the path": "GET /2023-12/users/zoë HTTP/1.1\r\nhost: 127.0.0.1\r\n".encode() + KEY + b"\r\n",
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_answer_is_the_servers_byte_for_byte(
    server: BackgroundServer, inproc: InProcessEmulator, name: str
) -> None:
    sent = CASES[name]
    wire = on_the_wire(server.url, sent)
    assert without_date(in_process(inproc, server.url, sent)) == without_date(wire)


def test_faults_and_their_headers_byte_for_byte(server: BackgroundServer, inproc: InProcessEmulator) -> None:
    handle = server.handle()
    handle.fault(429, path="/users/faulted", headers={"Retry-After": "5"}, times=2)
    handle.fault(204, path="/users/empty", times=2)
    try:
        for target in ("/2023-12/users/faulted", "/2023-12/users/empty"):
            sent = request("GET", target)
            assert without_date(in_process(inproc, server.url, sent)) == without_date(on_the_wire(server.url, sent))
    finally:
        handle.clear_faults()


def test_a_durable_post_answers_as_the_server_does(server: BackgroundServer, inproc: InProcessEmulator) -> None:
    json = KEY + b"content-type: application/json\r\n"
    wire = on_the_wire(server.url, request("POST", "/2023-12/users", json, b'{"username": "wire@example.com"}'))
    local = in_process(inproc, server.url, request("POST", "/2023-12/users", json, b'{"username": "here@example.com"}'))
    user_id = re.compile(rb'\{"userId":"[0-9a-f]{24}"\}$')
    assert user_id.search(wire) and user_id.search(local), (wire, local)
    assert user_id.sub(b"<id>", without_date(local)) == user_id.sub(b"<id>", without_date(wire))
    # Both are in the one emulator now.
    again = request("POST", "/2023-12/users", json, b'{"username": "wire@example.com"}')
    assert without_date(in_process(inproc, server.url, again)) == without_date(on_the_wire(server.url, again))


# -- an app that fails: uvicorn's 500, and the same in-process --------------------------------------


async def fails_before_answering(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        raise RuntimeError("broken on purpose")


async def never_answers(scope: Scope, receive: Receive, send: Send) -> None:
    return None


@contextlib.contextmanager
def uvicorn_serving(app: Any) -> Iterator[str]:
    """uvicorn with alloy-mock's protocol serving `app` on a free port (it listens before the thread starts)."""
    sock = bind("127.0.0.1", 0)
    config = uvicorn.Config(app, http=http_protocol(Settings()), log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.mark.parametrize("app", [fails_before_answering, never_answers])
def test_a_failing_app_gets_uvicorns_500(app: Any, caplog: pytest.LogCaptureFixture) -> None:
    sent = request("GET", "/anything", b"")
    with uvicorn_serving(app) as url:
        wire = on_the_wire(url, sent)
    loop = asyncio.new_event_loop()
    try:
        answer = call(
            app, scope_of("GET", "http", ("127.0.0.1", 80), b"/anything", [(b"host", b"127.0.0.1")]), b"", loop
        )
    finally:
        loop.close()
    assert without_date(rendered(answer)) == without_date(wire)
    assert answer.body == b"Internal Server Error"
    assert any("ASGI" in record.getMessage() for record in caplog.records)  # logged, as uvicorn logs it


# -- how a request is driven ------------------------------------------------------------------------


def scope(path: str = "/") -> Scope:
    return scope_of("GET", "http", ("test", 80), path.encode(), [(b"host", b"test")])


class Recording:
    """An ASGI app that notes where it ran, optionally waiting on the loop half-way."""

    def __init__(self, wait: float | None = None) -> None:
        self.wait = wait
        self.seen: list[tuple[str, Any]] = []
        self.var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.var.set("set by the app")
        self.seen.append(("before", (threading.get_ident(), asyncio.current_task(), asyncio.get_running_loop())))
        if self.wait is not None:
            await asyncio.sleep(self.wait)
            self.seen.append(("after", (threading.get_ident(), asyncio.current_task(), asyncio.get_running_loop())))
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})


def test_a_request_that_never_waits_runs_on_the_callers_thread_without_a_task() -> None:
    app, loop = Recording(), asyncio.new_event_loop()
    try:
        answer = call(app, scope(), b"", loop)
    finally:
        loop.close()
    assert (answer.status, answer.body) == (200, b"ok")
    [(_, (thread, task, running))] = app.seen
    assert (thread, task, running) == (threading.get_ident(), None, loop)  # no thread, no task, no loop turn
    assert app.var.get() == "unset"  # the app's context stays its own


def test_a_request_that_waits_goes_on_as_a_task_of_the_private_loop() -> None:
    app, loop = Recording(wait=0.01), asyncio.new_event_loop()
    try:
        answer = call(app, scope(), b"", loop)
    finally:
        loop.close()
    assert (answer.status, answer.body) == (200, b"ok")
    (_, before), (_, after) = app.seen
    assert before[1] is None and after[1] is not None  # from the first wait on, a Task
    assert before[2] is after[2] is loop and before[0] == after[0] == threading.get_ident()
    assert app.var.get() == "unset"


def test_a_sync_call_from_inside_a_running_loop_blocks_it_and_returns() -> None:
    app, private = Recording(wait=0.01), asyncio.new_event_loop()

    async def main() -> tuple[Answer, asyncio.AbstractEventLoop]:
        answer = call(app, scope(), b"", private)  # as a blocking client call inside async code
        return answer, asyncio.get_running_loop()

    outer = asyncio.new_event_loop()
    try:
        answer, running = outer.run_until_complete(main())
    finally:
        outer.close()
        private.close()
    assert answer.status == 200 and running is outer
    assert app.seen[1][1][2] is private  # the wait was the private loop's, not the caller's


def test_call_from_thread_runs_on_that_loops_thread() -> None:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        for app in (Recording(), Recording(wait=0.01)):
            answer = call_from_thread(app, scope(), b"", loop, timeout=10)
            assert answer.body == b"ok"
            assert {seen[0] for _, seen in app.seen} == {thread.ident}
            assert {seen[2] for _, seen in app.seen} == {loop}
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_the_body_arrives_whole_then_the_disconnect_only_after_the_answer() -> None:
    messages: list[dict[str, Any]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        messages.append(await receive())
        waiting = asyncio.ensure_future(receive())  # as a streaming response listens for the client leaving
        await asyncio.sleep(0)
        assert not waiting.done()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})
        messages.append(await waiting)

    loop = asyncio.new_event_loop()
    try:
        assert call(app, scope(), b"the body", loop).status == 200
    finally:
        loop.close()
    assert messages == [
        {"type": "http.request", "body": b"the body", "more_body": False},
        {"type": "http.disconnect"},
    ]


# -- the emulator's requests that wait, through the interception --------------------------------------


def test_requests_that_wait_sync_and_from_async_code() -> None:
    # With a run latency, an executions wait sleeps on the loop until the runs are over.
    with intercept(Settings(run_latency_ms=30)) as alloy:
        user = alloy.create_user("waits@example.com")
        alloy.install(user, "Shopify", workflows=["Sync New Customers to Shopify"])
        body = {"event": "Customer Created", "userId": user["userId"], "data": {"name": "Ada"}}
        assert requests.post(f"{alloy.base_url}/run/event", json=body, headers=alloy.headers(), timeout=5).ok
        assert alloy.wait_for_executions(user) is True
        [execution] = alloy.logs("Sync New Customers to Shopify", user=user)
        assert execution["finished"] is True, execution

        alloy.fault(method="GET", path="/users", delay_ms=20, times=None)

        async def inside_async_code() -> int:
            # A blocking client inside a running loop: the wait runs on the emulator's own loop.
            return requests.get(f"{alloy.base_url}/users", headers=alloy.headers(), timeout=5).status_code

        assert asyncio.run(inside_async_code()) == 200


def test_the_async_path_lets_the_callers_loop_run_during_a_wait(alloy_mock_intercept: AlloyMock) -> None:
    alloy, headers = alloy_mock_intercept, alloy_mock_intercept.headers()
    alloy.fault(method="GET", path="/users", delay_ms=300, times=None)  # only GET /users waits
    finished: list[str] = []

    async def get(client: httpx.AsyncClient, path: str, status: int) -> None:
        assert (await client.get(f"{alloy.base_url}{path}", headers=headers)).status_code == status
        finished.append(path)

    async def main() -> tuple[bool, int]:
        ticks = 0

        async def ticker() -> None:  # runs only while the loop is free
            nonlocal ticks
            while True:
                await asyncio.sleep(0)
                ticks += 1

        async with httpx.AsyncClient() as client:
            delayed = asyncio.create_task(get(client, "/users", 200))
            for _ in range(50):  # turns of the loop, enough for it to reach its delay
                await asyncio.sleep(0)
            still_waiting = not delayed.done()
            background = asyncio.create_task(ticker())
            await get(client, "/users/nobody", 404)  # served meanwhile
            await delayed
            background.cancel()
        return still_waiting, ticks

    still_waiting, ticks = asyncio.run(main())
    assert still_waiting
    assert finished == ["/users/nobody", "/users"]
    assert ticks > 0  # the caller's loop ran while the delayed request waited


# -- what a session's start loads ---------------------------------------------------------------------


def test_the_emulators_modules_are_not_assertion_rewritten() -> None:
    import alloy_mock.emulator
    import alloy_mock.testing.inprocess

    for module in (alloy_mock.emulator, alloy_mock.testing.inprocess):
        assert "@py_builtins" not in vars(module), f"{module.__name__} was rewritten by pytest"


def test_in_process_mode_loads_neither_the_http_server_nor_pyjwt_to_mint_tokens() -> None:
    """Minting needs no PyJWT (the JWK is made from the key's numbers); only verifying a user token loads it."""
    import subprocess

    code = (
        "import sys\n"
        "from alloy_mock.testing import intercept\n"
        "with intercept() as alloy:\n"
        "    user = alloy.create_user('a@example.com')\n"
        "    before = sorted(m for m in ('uvicorn', 'jwt') if m in sys.modules)\n"
        "    alloy.token(user)\n"
        "    print(before, 'jwt' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[] False", (done.stdout, done.stderr)


START_WITHOUT_CONTROL_MODELS = """
import sys
from alloy_mock.config import Settings
from alloy_mock.testing import InProcessEmulator

emulator = InProcessEmulator(Settings()).start()
handle = emulator.handle()
handle.reset()
key = [(b"authorization", f"Bearer {handle.dev_key}".encode())]
answer = emulator.request("GET", "https://embedded.runalloy.com/2023-12/users", key, b"")
assert answer.status == 200, answer
print("before", "pydantic" in sys.modules)
handle.create_user()  # a control API call
print("after", "pydantic" in sys.modules)
emulator.close()
"""


def test_the_control_api_models_load_at_its_first_call_not_at_start() -> None:
    """Starting, resetting and vendor calls leave pydantic (the control bodies' models) unimported: it cost
    every pytest session's first setup ~100 ms (issue 13). The first control call loads it."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", START_WITHOUT_CONTROL_MODELS], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["before", "False", "after", "True"], done.stdout
