"""The dashboard with the keyboard only, and on a narrow window: pages are reached from the header's links with
Tab and Enter, forms submit with Enter, and no page is wider than a 420 px window (wide tables scroll in their
own focusable region)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from alloy_mock.testing import AlloyMock

from .dashboard_support import READY, open_dashboard

if TYPE_CHECKING:
    from playwright.sync_api import Page

NARROW = 420


def focused(page: Page) -> str:
    text: str = page.evaluate("document.activeElement.textContent.trim()")
    return text


def test_pages_and_a_form_work_with_the_keyboard_only(alloy_mock: AlloyMock, browser_page: Page) -> None:
    page = open_dashboard(browser_page, alloy_mock.root_url)
    page.keyboard.press("Tab")
    assert focused(page) == "Requests"  # the first stop: the header's first link
    for _ in range(3):
        page.keyboard.press("Tab")
    assert focused(page) == "Controls"
    page.keyboard.press("Enter")
    page.locator(READY["controls"]).first.wait_for()
    assert focused(page) == "Controls"  # the new page's heading has the focus
    assert page.evaluate("document.activeElement.tagName") == "H1"

    page.locator("#fault-status").focus()
    page.keyboard.type("503")
    page.keyboard.press("Enter")  # submits the form it is in
    page.locator("#faults-table tbody tr").wait_for()
    (fault,) = alloy_mock.faults()
    assert fault["status"] == 503
    delete = page.locator("#faults-table button:has-text('Delete')")
    delete.focus()
    page.keyboard.press("Enter")
    page.locator("#faults-list .empty").wait_for()
    assert alloy_mock.faults() == []


@pytest.mark.parametrize("name", list(READY))
def test_no_page_is_wider_than_a_narrow_window(alloy_mock: AlloyMock, browser_page: Page, name: str) -> None:
    user = alloy_mock.create_user("a-rather-long-username-for-a-narrow-window@example.com", "Ada Lovelace")
    httpx.get(f"{alloy_mock.base_url}/users/{user['userId']}/token", headers=alloy_mock.headers())
    browser_page.set_viewport_size({"width": NARROW, "height": 800})
    page = open_dashboard(browser_page, alloy_mock.root_url, name)
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW
