"""Shared by the dashboard's browser tests: opening a page of /_mock/ui and reading what it shows."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

# What each page shows once its data has arrived (a table's rows or its empty state).
READY = {
    "requests": "#requests-table tbody tr",
    "users": "#users-table tbody tr",
    "executions": "#executions-table tbody tr",
    "controls": "#faults-list > *",
    "coverage": "#coverage-summary li",
}


def open_dashboard(page: Page, root_url: str, name: str = "requests", query: str = "") -> Page:
    """Open a page of the dashboard (#/name?query) and wait until its data is shown."""
    page.goto(f"{root_url}/_mock/ui#/{name}{'?' + query if query else ''}")
    page.locator(READY[name]).first.wait_for()
    return page


def go_to(page: Page, name: str) -> None:
    """Follow the header's link to another page, as a user does (no reload)."""
    page.locator(f'#nav a[data-page="{name}"]').click()
    page.locator(READY[name]).first.wait_for()


def request_rows(page: Page) -> Locator:
    return page.locator("#requests-table tbody tr[data-id]")
