"""Browser fixtures: headless Chromium driven by Playwright, and pages served from another origin.

For tests of what a web page can and cannot do with the emulator (CORS, forms, hosted pages):

- `chromium`: one headless Chromium for the browser tests of an xdist worker, Debian's /usr/bin/chromium
  (or $ALLOY_MOCK_CHROMIUM) driven by Python Playwright, with a fresh profile. Playwright never
  downloads a browser here. Without playwright or Chromium the tests that use it are skipped with
  a one-line reason; under CI (CI=true) that is an error instead, since .ci/run installs both.
- `browser_page`: a new tab in that browser, closed after the test.
- `other_origin`: a small HTTP server on another port of 127.0.0.1, hence another origin than the
  emulator's: `other_origin.page(path, html)` serves a page there and returns its URL.

Use them with the plugin's `alloy_mock` fixture (a real emulator on a free port, reset per test):

    def test_something(alloy_mock, browser_page, other_origin):
        browser_page.goto(other_origin.page("/app", "<h1>app</h1>"))
        status = browser_page.evaluate("async (url) => (await fetch(url)).status", alloy_mock.root_url + "/health")
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

REBOUND_HOST = "rebind.test"
CHROMIUM = Path(os.environ.get("ALLOY_MOCK_CHROMIUM", "/usr/bin/chromium"))
# Headless, as root in a container or CI runner, and quiet: no sandbox (root), no GPU, nothing fetched
# from the network by the browser itself (component updates, sync, first-run pages, QUIC probes).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # A DNS-rebinding page (test_cross_origin.py): this domain of the page's resolves to the emulator's address.
    f"--host-resolver-rules=MAP {REBOUND_HOST} 127.0.0.1",
]
TIMEOUT_MS = 15_000  # for one browser action; they take milliseconds, this only bounds a failure


def missing_browser_tools() -> str | None:
    """Why the browser tests cannot run here, in one line, or None."""
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install -e '.[test]')"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium, or set ALLOY_MOCK_CHROMIUM)"
    return None


# Package scope, not session: while Playwright's sync API is open, its event loop is marked running
# in this thread, and every other test's asyncio.run() in the same xdist worker would fail.
@pytest.fixture(scope="package")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """The session's headless Chromium (a persistent context on a fresh profile); see the module docstring."""
    reason = missing_browser_tools()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
        )
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def browser_page(chromium: BrowserContext) -> Iterator[Page]:
    """A new tab, closed after the test."""
    page = chromium.new_page()
    try:
        yield page
    finally:
        page.close()


class PageServer:
    """Serves the HTML pages it is given on 127.0.0.1 at a free port: another origin than the emulator's."""

    def __init__(self) -> None:
        self.pages: dict[str, bytes] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path.split("?", 1)[0])
                self.send_response(404 if body is None else 200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: pytest shows nothing of it anyway

        # Listening once constructed: a page request made right after waits in the backlog.
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="page-server", daemon=True)
        self._thread.start()

    def page(self, path: str, html: str) -> str:
        """Serve `html` at `path` (from now on) and return its URL."""
        self.pages[path] = html.encode()
        return self.origin + path

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture(scope="session")
def other_origin() -> Iterator[PageServer]:
    """A page server on another origin than the emulator (see PageServer)."""
    server = PageServer()
    try:
        yield server
    finally:
        server.close()
