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


COLLECT_VIOLATIONS = """
window.policyViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.policyViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""
NASTY = '<img src=x onerror="window.pwned=1">'


def test_nasty_values_are_shown_as_text_and_nothing_breaks_the_policy(
    alloy_mock: AlloyMock, browser_page: Page
) -> None:
    """Values from the emulator (usernames, paths, bodies) are text, never HTML; no page needs what the
    Content-Security-Policy forbids (an inline script or style, another origin)."""
    browser_page.add_init_script(COLLECT_VIOLATIONS)
    user = alloy_mock.create_user(f"{NASTY}@example.com", f"</td><script>window.pwned=2</script>{NASTY}")
    httpx.get(f"{alloy_mock.base_url}/users/{NASTY}", headers={**alloy_mock.headers(), "X-Nasty": NASTY})
    for name in READY:
        page = open_dashboard(browser_page, alloy_mock.root_url, name)
        if name == "users":
            page.locator(f"#users-table tr[data-user-id='{user['userId']}'] button").click()
            page.locator("#user-detail h2").wait_for()
            assert NASTY in page.locator("#user-detail h2").inner_text()
        if name == "requests":
            page.locator("#requests-table tbody tr[data-id] button").first.click()
            assert NASTY in page.locator("#request-details").inner_text()
            assert NASTY.replace("'", "'\\''") in page.locator("#request-curl").inner_text()
        assert page.locator("#page img").count() == 0
        assert page.evaluate("window.pwned") is None
    assert browser_page.evaluate("window.policyViolations") == []
