"""The Requests page's live feed: it asks GET /_mock/requests?since=<newest id> every POLL_MS, and only while
the page is shown and the tab visible. The page's timers run on Playwright's fake clock, and its fetches to the
journal are counted in the page, so the test neither waits nor depends on timing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from alloy_mock.testing import AlloyMock

from .dashboard_support import go_to, open_dashboard

if TYPE_CHECKING:
    from playwright.sync_api import Page

POLL_MS = 1500  # requests.js POLL_MS
COUNT_JOURNAL_CALLS = """
window.journalCalls = [];
const originalFetch = window.fetch;
window.fetch = (url, init) => {
  if (String(url).startsWith("/_mock/requests")) window.journalCalls.push(String(url));
  return originalFetch(url, init);
};
"""
SET_VISIBILITY = """(state) => {
  Object.defineProperty(document, "visibilityState", {value: state, configurable: true});
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def calls(page: Page) -> list[str]:
    found: list[str] = page.evaluate("window.journalCalls")
    return found


def wait_for_calls(page: Page, count: int) -> list[str]:
    page.wait_for_function("(count) => window.journalCalls.length >= count", arg=count)
    return calls(page)


def test_the_feed_polls_since_the_newest_only_while_shown_and_visible(
    alloy_mock: AlloyMock, browser_page: Page
) -> None:
    page = browser_page
    page.clock.install()
    page.add_init_script(COUNT_JOURNAL_CALLS)
    httpx.get(f"{alloy_mock.base_url}/users", headers=alloy_mock.headers())
    newest = alloy_mock.last_request_id()
    open_dashboard(page, alloy_mock.root_url)
    (first,) = calls(page)
    assert "since=" not in first and "limit=200" in first

    page.clock.run_for(POLL_MS)
    assert wait_for_calls(page, 2)[1].endswith(f"limit=200&since={newest}")
    httpx.get(f"{alloy_mock.base_url}/users/x", headers=alloy_mock.headers())
    page.clock.run_for(POLL_MS)
    page.locator("#requests-table tbody tr[data-id]:has-text('/users/x')").wait_for()
    page.clock.run_for(POLL_MS)
    assert wait_for_calls(page, 4)[3].endswith(f"since={newest + 1}")  # the feed moved on

    go_to(page, "coverage")
    before = len(calls(page))
    page.clock.run_for(60_000)
    assert len(calls(page)) == before  # no page, no polling

    go_to(page, "requests")
    shown = len(wait_for_calls(page, before + 1))
    page.evaluate(SET_VISIBILITY, "hidden")
    page.clock.run_for(60_000)
    assert len(calls(page)) == shown  # a hidden tab asks nothing
    page.evaluate(SET_VISIBILITY, "visible")
    assert "since=" in wait_for_calls(page, shown + 1)[shown]  # and catches up at once when shown again
