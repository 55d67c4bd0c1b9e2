"""Screenshots of each page of the dashboard (/_mock/ui), for docs/images/dashboard-*.png (rerun after changing it).

    python scripts/dashboard_screenshots.py [output directory, default docs/images]

Starts an emulator on a free port with a little data (users, installs, runs, one of them failed, a 429 fault that
answered a request), opens each page in headless Chromium (Debian's /usr/bin/chromium, or $ALLOY_MOCK_CHROMIUM)
at 1280 px, plus the Requests page on a narrow window and the login of an emulator with --admin-token.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, sync_playwright

from alloy_mock.config import Settings
from alloy_mock.testing import AlloyMock, BackgroundServer

SYNC_CUSTOMERS = "64108e3c3cac1228833b4944"  # Shopify: Custom Event "Customer Created" -> Shopify
WIDE = {"width": 1280, "height": 800}
NARROW = {"width": 420, "height": 860}


def seed(mock: AlloyMock) -> None:
    api, headers = mock.base_url, mock.headers()
    ada = mock.create_user("ada@example.com", "Ada Lovelace")
    mock.create_user("grace@example.com", "Grace Hopper")
    mock.create_user("alan@example.com", "Alan Turing", namespace="prod")
    mock.install(ada, "Shopify", workflows=[SYNC_CUSTOMERS])
    mock.install(ada, "Slack", values={"channel": "#sales"})

    def run(name: str) -> None:
        event = {"event": "Customer Created", "userId": ada["userId"], "data": {"name": name}}
        httpx.post(f"{api}/run/event", json=event, headers=headers)

    run("Charles Babbage")
    mock.fail_runs(SYNC_CUSTOMERS, message="Shopify answered 422: email has already been taken")
    run("Ada Lovelace")
    run("Mary Somerville")
    httpx.get(f"{api}/users", headers=headers)
    httpx.get(f"{api}/users/{ada['userId']}/token", headers=headers)
    httpx.get(f"{api}/integrations", params={"userId": ada["userId"]}, headers=headers)
    mock.fault(429, method="POST", path="/users", body={"message": "Rate limit exceeded"})
    httpx.post(f"{api}/users", json={"username": "katherine@example.com"}, headers=headers)
    httpx.get(f"{api}/users/nobody@example.com", headers=headers)
    httpx.post(f"{api}/users", json={"username": "katherine@example.com", "fullName": "Katherine"}, headers=headers)
    mock.fault(503, method="GET", path="/workflows*", times=3)
    mock.save_snapshot("before-checkout-tests")


def shoot(page: Page, out: Path, name: str, url: str, ready: str, then: Any = None, full_page: bool = False) -> None:
    page.goto(url)
    page.locator(ready).first.wait_for()
    if then is not None:
        then(page)
    page.wait_for_timeout(300)  # the toast and focus rings settle: a picture, not a test
    path = out / f"dashboard-{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    print(f"wrote {path}")


def open_first(opener: str, shown: str) -> Any:
    def act(page: Page) -> None:
        page.locator(opener).first.click()
        page.locator(shown).wait_for()
        page.evaluate("document.activeElement && document.activeElement.blur()")

    return act


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images")
    out.mkdir(parents=True, exist_ok=True)
    chromium = os.environ.get("ALLOY_MOCK_CHROMIUM", "/usr/bin/chromium")
    with BackgroundServer(Settings()) as server, BackgroundServer(Settings(admin_token="s3cret")) as protected:
        mock = server.handle()
        seed(mock)
        ui = f"{mock.root_url}/_mock/ui"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport=WIDE)
            details = open_first("#requests-table tr.faulted button", "#request-details h2")
            shoot(page, out, "requests", f"{ui}#/requests", "#requests-table tr[data-id]", details)
            user = open_first("#users-table tr:has-text('ada@example.com') button", "#user-installs")
            shoot(page, out, "users", f"{ui}#/users", "#users-table tr[data-user-id]", user)
            execution = open_first("#executions-table tr.faulted button", "#execution-error")
            shoot(page, out, "executions", f"{ui}#/executions", "#executions-table tr[data-execution-id]", execution)
            shoot(page, out, "controls", f"{ui}#/controls", "#faults-table", full_page=True)
            shoot(page, out, "coverage", f"{ui}#/coverage", "#coverage-summary li")
            shoot(page, out, "login", f"{protected.url}/_mock/ui", "#login-token")
            page.set_viewport_size(NARROW)
            shoot(page, out, "narrow", f"{ui}#/requests", "#requests-table tr[data-id]")
            browser.close()


if __name__ == "__main__":
    main()
