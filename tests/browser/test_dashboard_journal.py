"""The Requests page with 10,000 journal entries: it renders one page of rows (not 10,000), a filter answers,
and older pages are reached with before=. Asserted on the rows rendered, never on time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from alloy_mock.config import Settings
from alloy_mock.testing import BackgroundServer

from .dashboard_support import open_dashboard, request_rows

if TYPE_CHECKING:
    from playwright.sync_api import Page

ENTRIES = 10_000
PAGE_SIZE = 200  # requests.js PAGE_SIZE
ROW_COUNT_IS = "(count) => document.querySelectorAll('#requests-table tbody tr[data-id]').length === count"
EVERY_503 = 100  # every 100th entry is a 503: 100 of them, fewer than a page


def wait_for_rows(page: Page, count: int) -> None:
    # A function, not an expression: Playwright evaluates expressions with eval(), which the page's policy refuses.
    page.wait_for_function(ROW_COUNT_IS, arg=count)


@pytest.fixture(scope="module")
def crowded() -> Iterator[BackgroundServer]:
    """An emulator whose journal holds ENTRIES exchanges.

    They are written into the journal directly, before any request reaches the server (10,000 real requests
    would only slow the test down): the same record() the vendor API calls for each exchange.
    """
    with BackgroundServer(Settings(journal_size=ENTRIES)) as server:
        assert server.app is not None
        journal = server.app.emulator.journal
        for n in range(1, ENTRIES + 1):
            status = 503 if n % EVERY_503 == 0 else 200
            method = "POST" if n % 2 else "GET"
            journal.record(
                1_700_000_000 + n,
                method,
                f"/2023-12/users/u{n}",
                b"",
                "default.dev",
                None,
                status,
                0.2,
                b"",
                b'{"data": []}',
                [(b"authorization", b"Bearer alloy-mock-dev-key")],
            )
        yield server


def test_ten_thousand_entries_render_one_page_and_a_filter_answers(
    crowded: BackgroundServer, browser_page: Page
) -> None:
    page = open_dashboard(browser_page, crowded.url)
    assert request_rows(page).count() == PAGE_SIZE
    assert f"/users/u{ENTRIES}" in request_rows(page).first.inner_text()  # newest first
    assert page.locator("#requests-table tbody tr").count() == PAGE_SIZE  # nothing else rendered

    page.fill("#filter-status", "503")
    page.click("#requests-filters button[type=submit]")
    wait_for_rows(page, ENTRIES // EVERY_503)
    statuses = page.locator("#requests-table tbody tr[data-id] td:nth-child(5)").all_inner_texts()
    assert statuses == ["503"] * (ENTRIES // EVERY_503)
    assert "status=503" in page.url  # the filter is kept in the address (a reload or a link keeps it)

    page.click("#requests-filters button:has-text('Clear filters')")
    wait_for_rows(page, PAGE_SIZE)
    page.click("#requests-older")
    oldest_first_page = ENTRIES - PAGE_SIZE + 1
    page.locator(f"#requests-table tbody tr[data-id='{oldest_first_page - 1}']").wait_for()
    assert request_rows(page).count() == PAGE_SIZE
    assert request_rows(page).first.get_attribute("data-id") == str(oldest_first_page - 1)
    page.click("#requests-newest")
    page.locator(f"#requests-table tbody tr[data-id='{ENTRIES}']").wait_for()
    assert request_rows(page).count() == PAGE_SIZE
