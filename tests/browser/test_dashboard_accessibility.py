"""axe-core on each page of the dashboard (and its login): no serious or critical violation, at 1280 px and on a
narrow window. The same check as the modal's (test_modal_accessibility.py), which proves it can fail."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from alloy_mock.config import Settings
from alloy_mock.testing import AlloyMock, serve

from .dashboard_support import READY, open_dashboard
from .test_modal_accessibility import serious_violations

if TYPE_CHECKING:
    from playwright.sync_api import Page

WIDTHS = {"wide": 1280, "narrow": 420}
SYNC_CUSTOMERS = "64108e3c3cac1228833b4944"
# What to open on each page before the check, so that its details panel is checked too.
DETAILS = {
    "requests": ("#requests-table tbody tr[data-id] button", "#request-details h2"),
    "users": ("#users-table tbody tr[data-user-id] button", "#user-detail h2"),
    "executions": ("#executions-table tbody tr.faulted button", "#execution-error"),
}


def some_data(alloy_mock: AlloyMock) -> None:
    user = alloy_mock.create_user("a11y@example.com", "Ada Lovelace")
    alloy_mock.fault(method="POST", path="/users", status=429)
    httpx.post(f"{alloy_mock.base_url}/users", json={"username": "b@example.com"}, headers=alloy_mock.headers())
    httpx.get(f"{alloy_mock.base_url}/users/{user['userId']}", headers=alloy_mock.headers())
    alloy_mock.save_snapshot("before")
    alloy_mock.install(user, "Shopify", workflows=[SYNC_CUSTOMERS])
    alloy_mock.fail_runs(SYNC_CUSTOMERS, message="Shopify said no")
    for name in ("first", "second"):
        event = {"event": "Customer Created", "userId": user["userId"], "data": {"name": name}}
        httpx.post(f"{alloy_mock.base_url}/run/event", json=event, headers=alloy_mock.headers())


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("name", list(READY))
def test_no_serious_accessibility_violation(alloy_mock: AlloyMock, browser_page: Page, name: str, width: str) -> None:
    some_data(alloy_mock)
    browser_page.set_viewport_size({"width": WIDTHS[width], "height": 900})
    page = open_dashboard(browser_page, alloy_mock.root_url, name)
    if name in DETAILS:
        opener, shown = DETAILS[name]
        page.locator(opener).first.click()
        page.locator(shown).wait_for()
    assert serious_violations(page) == []


def test_no_serious_accessibility_violation_on_the_login(browser_page: Page) -> None:
    with serve(Settings(admin_token="a11y")) as mock:
        browser_page.goto(f"{mock.root_url}/_mock/ui")
        browser_page.locator("#login-token").wait_for()
        assert serious_violations(browser_page) == []
