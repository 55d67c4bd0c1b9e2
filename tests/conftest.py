"""Shared fixtures: an in-process app client, API key headers, and a real `alloy-mock serve` process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from alloy_mock.app import create_app
from alloy_mock.config import DEFAULT_DEV_KEY, DEFAULT_PROD_KEY, Settings
from alloy_mock.emulator import Emulator

DEV = {"Authorization": f"Bearer {DEFAULT_DEV_KEY}"}
PROD = {"Authorization": f"Bearer {DEFAULT_PROD_KEY}"}
API = "/2023-12"


@pytest.fixture
def settings() -> Settings:
    """Default settings with nothing on disk; override in a test module to change them."""
    return Settings()


@pytest.fixture
def emulator(settings: Settings) -> Iterator[Emulator]:
    """An open emulator (store, catalogue, keys) for tests that need the domain directly."""
    em = Emulator.open(settings)
    yield em
    em.close()


@pytest.fixture
def client(emulator: Emulator) -> Iterator[TestClient]:
    """An HTTP client talking to the app in-process (no port); errors come back as responses."""
    with TestClient(create_app(emulator=emulator), raise_server_exceptions=True) as test_client:
        yield test_client


@pytest.fixture
def make_user(client: TestClient) -> Callable[..., str]:
    """Create a user in the dev namespace (or with the given headers) and return its userId."""

    def make(username: str, full_name: str | None = None, headers: dict[str, str] = DEV) -> str:
        body: dict[str, Any] = {"username": username}
        if full_name is not None:
            body["fullName"] = full_name
        response = client.post(f"{API}/users", json=body, headers=headers)
        assert response.status_code == 200, response.text
        return str(response.json()["userId"])

    return make


@dataclass
class ServerProcess:
    """A running `alloy-mock serve` process on a free port."""

    process: subprocess.Popen[str]
    base_url: str
    banner: list[str] = field(default_factory=list)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=10)

    def stop(self) -> int:
        """Stop gracefully (SIGTERM) and return the exit code."""
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.wait(timeout=15)

    def kill(self) -> None:
        """Stop abruptly (SIGKILL), as a crash would."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=15)


def start_server(*args: str, env: dict[str, str] | None = None) -> ServerProcess:
    """Start `python -m alloy_mock serve --port 0 ARGS` and wait until it answers /health.

    Readiness comes from the process itself: it prints its address once the socket listens, and
    the first /health request then waits in the listen backlog until the server serves it.
    """
    command = [sys.executable, "-m", "alloy_mock", "serve", "--port", "0", *args]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    if "listening on" not in first:
        process.kill()
        _, stderr = process.communicate(timeout=15)
        raise AssertionError(f"alloy-mock did not start: {first!r} {stderr!r}")
    base_url = first.rsplit(" ", 1)[-1].strip()
    server = ServerProcess(process, base_url, [first])
    with server.client() as http:
        assert http.get("/health").status_code == 200
    return server


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start real server processes (stopped at the end of the test); `--db` defaults to tmp_path."""
    started: list[ServerProcess] = []

    def start(*args: str, env: dict[str, str] | None = None) -> ServerProcess:
        if "--db" not in args:
            args = ("--db", str(tmp_path / "db.json"), *args)
        server = start_server(*args, env=env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


@pytest.fixture(autouse=True)
def _no_event_loop_left_running(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test that leaves an event loop marked running in this thread.

    Such a leak breaks every later `asyncio.run()` in the same worker, far from its cause. The
    browser tests are exempt: Playwright's sync API keeps its loop running in this thread until
    their package-scoped `chromium` fixture closes it.
    """
    import asyncio

    yield
    if "browser" in request.node.path.parts:
        return
    leaked = asyncio.events._get_running_loop()
    if leaked is not None:
        asyncio.events._set_running_loop(None)
        pytest.fail(f"this test left an event loop running in the main thread: {leaked!r}")
