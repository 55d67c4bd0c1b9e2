"""The dashboard (/_mock/ui) in a real browser, as its user drives it: the proofs of issue 15.

Each test opens the page, acts on the emulator through its API or through the page, and checks both what the
page shows (without reloading it) and what the control API says.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from alloy_mock.config import Settings
from alloy_mock.testing import AlloyMock, serve

from .dashboard_support import READY, go_to, open_dashboard, request_rows

if TYPE_CHECKING:
    from playwright.sync_api import Page

ADMIN_TOKEN = "dashboard-s3cret"


def mark_document(page: Page) -> None:
    """A flag on the loaded document: still there later means the page was never reloaded."""
    page.evaluate("window.loadedOnce = true")


def not_reloaded(page: Page) -> bool:
    return bool(page.evaluate("window.loadedOnce === true"))


def test_a_request_appears_live_newest_first(alloy_mock: AlloyMock, browser_page: Page) -> None:
    httpx.get(f"{alloy_mock.base_url}/users", headers=alloy_mock.headers())
    page = open_dashboard(browser_page, alloy_mock.root_url)
    mark_document(page)
    assert request_rows(page).count() == 1
    httpx.get(f"{alloy_mock.base_url}/users/nobody@example.com", headers=alloy_mock.headers())
    page.locator("#requests-table tbody tr[data-id]:has-text('/users/nobody@example.com')").wait_for()
    assert request_rows(page).count() == 2
    assert "/users/nobody@example.com" in request_rows(page).first.inner_text()  # newest first
    assert "404" in request_rows(page).first.inner_text()
    assert not_reloaded(page)


def test_request_details_show_headers_and_bodies_and_copy_as_curl(alloy_mock: AlloyMock, browser_page: Page) -> None:
    httpx.post(
        f"{alloy_mock.base_url}/users",
        json={"username": "ada@example.com", "fullName": "Ada"},
        headers={**alloy_mock.headers(), "X-Trace": "t-1"},
    )
    page = open_dashboard(browser_page, alloy_mock.root_url)
    request_rows(page).first.locator("button").click()
    details = page.locator("#request-details")
    details.locator("h2").wait_for()
    text = details.inner_text()
    assert "x-trace" in text and "t-1" in text
    assert "ada@example.com" in text and "userId" in text  # the request body and the response body
    assert alloy_mock.dev_key not in text  # the key only as a fingerprint
    curl = page.locator("#request-curl").inner_text()
    assert curl.startswith(f"curl -X POST '{alloy_mock.base_url}/users'")
    assert '"authorization: Bearer $ALLOY_API_KEY"' in curl and alloy_mock.dev_key not in curl
    assert """--data-raw '{"username":"ada@example.com","fullName":"Ada"}'""" in curl
    page.locator("#request-copy-curl").click()
    page.locator("#toast:not(:empty)").wait_for()


def test_a_429_fault_added_from_the_form_marks_the_request_it_answered(
    alloy_mock: AlloyMock, browser_page: Page
) -> None:
    page = open_dashboard(browser_page, alloy_mock.root_url, "controls")
    mark_document(page)
    page.select_option("#fault-method", "POST")
    page.fill("#fault-path", "/users")
    page.fill("#fault-status", "429")
    page.click("#fault-add")
    page.locator("#faults-table tbody tr").wait_for()
    (fault,) = alloy_mock.faults()
    assert (fault["method"], fault["path"], fault["status"], fault["remaining"]) == ("POST", "/users", 429, 1)

    answer = httpx.post(
        f"{alloy_mock.base_url}/users", json={"username": "x@example.com"}, headers=alloy_mock.headers()
    )
    assert answer.status_code == 429
    httpx.get(f"{alloy_mock.base_url}/users", headers=alloy_mock.headers())
    go_to(page, "requests")
    faulted, plain = request_rows(page).nth(1), request_rows(page).nth(0)
    assert "faulted" in (faulted.get_attribute("class") or "")
    assert f"fault {fault['id']}" in faulted.inner_text() and "429" in faulted.inner_text()
    assert "fault fault-" not in plain.inner_text() and "faulted" not in (plain.get_attribute("class") or "")
    assert not_reloaded(page)


def test_freezing_the_clock_from_the_page_freezes_the_emulator(alloy_mock: AlloyMock, browser_page: Page) -> None:
    page = open_dashboard(browser_page, alloy_mock.root_url, "controls")
    page.locator("#clock-freeze").click()
    page.locator("#clock-unfreeze").wait_for()
    clock = alloy_mock.clock()
    assert clock["frozen"] is True
    assert page.locator("#clock-iso").inner_text() == clock["iso"]
    assert clock["iso"] in page.locator("#clock-state").inner_text()  # the header says so on every page
    page.fill("#clock-seconds", "3600")
    page.locator("#clock-advance-form button[type=submit]").click()
    page.wait_for_function("(before) => document.querySelector('#clock-iso').textContent !== before", arg=clock["iso"])
    assert alloy_mock.clock()["now"] == pytest.approx(clock["now"] + 3600)
    page.locator("#clock-reset").click()
    page.locator("#clock-freeze").wait_for()
    assert alloy_mock.clock()["frozen"] is False


@pytest.fixture(scope="module")
def protected() -> Iterator[AlloyMock]:
    """An emulator started with --admin-token."""
    with serve(Settings(admin_token=ADMIN_TOKEN)) as mock:
        yield mock


def test_with_an_admin_token_the_page_shows_no_data_until_the_token_is_entered(
    protected: AlloyMock, browser_page: Page
) -> None:
    protected.reset()
    httpx.get(f"{protected.base_url}/users/secret-user@example.com", headers=protected.headers())
    refused: list[str] = []
    browser_page.on("response", lambda r: refused.append(r.url) if r.status == 401 else None)
    browser_page.goto(f"{protected.root_url}/_mock/ui#/requests")
    browser_page.locator("#login-token").wait_for()
    assert refused, "the page asked the control API and was refused"
    assert browser_page.locator("#page").inner_text() == ""
    assert "secret-user" not in browser_page.content()

    browser_page.fill("#login-token", "not-the-token")
    browser_page.click("#login-form button[type=submit]")
    browser_page.locator("#login-error:has-text('refused')").wait_for()
    assert browser_page.locator("#page").inner_text() == ""
    assert "secret-user" not in browser_page.content()

    browser_page.fill("#login-token", ADMIN_TOKEN)
    browser_page.click("#login-form button[type=submit]")
    browser_page.locator(READY["requests"]).first.wait_for()
    assert "secret-user@example.com" in request_rows(browser_page).first.inner_text()
    assert browser_page.locator("#login").is_hidden()
    assert ADMIN_TOKEN not in browser_page.url
    assert browser_page.evaluate("sessionStorage.getItem('alloy-mock-admin-token')") == ADMIN_TOKEN

    browser_page.click("#sign-out")
    browser_page.locator("#login-token").wait_for()
    assert browser_page.locator("#page").inner_text() == ""
    assert browser_page.evaluate("sessionStorage.getItem('alloy-mock-admin-token')") is None


SYNC_CUSTOMERS = "64108e3c3cac1228833b4944"  # Shopify: Custom Event "Customer Created" -> Shopify


def run_event(alloy_mock: AlloyMock, user: dict[str, Any], name: str) -> None:
    answer = httpx.post(
        f"{alloy_mock.base_url}/run/event",
        json={"event": "Customer Created", "userId": user["userId"], "data": {"name": name}},
        headers=alloy_mock.headers(),
    )
    assert answer.status_code == 200, answer.text


def test_a_user_created_through_the_api_appears_without_reloading(alloy_mock: AlloyMock, browser_page: Page) -> None:
    page = open_dashboard(browser_page, alloy_mock.root_url, "users")
    mark_document(page)
    assert "No users in default.dev" in page.locator("#users-table").inner_text()
    created = httpx.post(
        f"{alloy_mock.base_url}/users",
        json={"username": "grace@example.com", "fullName": "Grace Hopper"},
        headers=alloy_mock.headers(),
    ).json()
    row = page.locator(f"#users-table tr[data-user-id='{created['userId']}']")
    row.wait_for()
    assert "grace@example.com" in row.inner_text() and "Grace Hopper" in row.inner_text()
    assert not_reloaded(page)

    alloy_mock.install(created, "Shopify", workflows=[SYNC_CUSTOMERS])
    row.locator("button").click()
    detail = page.locator("#user-detail")
    detail.locator("#user-installs").wait_for()
    assert "Sync New Customers to Shopify" in detail.locator("#user-installs").inner_text()
    assert "shopify" in detail.locator("#user-credentials").inner_text()
    assert "0 executions" in detail.locator("#user-executions").inner_text()

    page.fill("#users-search", "GRACE")  # a part of the username, in any case
    page.locator("#users-summary:has-text('1 of 1')").wait_for()
    page.fill("#users-search", "nobody-matches")
    page.locator("#users-table:has-text('No users in default.dev matching')").wait_for()


def test_an_event_run_appears_and_its_execution_opens(alloy_mock: AlloyMock, browser_page: Page) -> None:
    user = alloy_mock.create_user("ada@example.com")
    alloy_mock.install(user, "Shopify", workflows=[SYNC_CUSTOMERS])
    page = open_dashboard(browser_page, alloy_mock.root_url, "executions")
    mark_document(page)
    assert "No executions in default.dev" in page.locator("#executions-table").inner_text()

    run_event(alloy_mock, user, "first")
    (logged,) = alloy_mock.logs(SYNC_CUSTOMERS, user)
    row = page.locator(f"#executions-table tr[data-execution-id='{logged['executionId']}']")
    row.wait_for()
    assert "Sync New Customers to Shopify" in row.inner_text() and "succeeded" in row.inner_text()
    row.locator("button").click()
    detail = page.locator("#execution-detail")
    detail.locator("#execution-blocks").wait_for()
    blocks = detail.locator("#execution-blocks > li")
    assert blocks.count() == len(logged["results"])
    for index, result in enumerate(logged["results"]):
        assert result["blockId"] in blocks.nth(index).inner_text()
    assert not_reloaded(page)

    alloy_mock.fail_runs(SYNC_CUSTOMERS, message="Shopify said no")
    run_event(alloy_mock, user, "second")
    (failed,) = alloy_mock.logs(SYNC_CUSTOMERS, user, error=True)
    failed_row = page.locator(f"#executions-table tr[data-execution-id='{failed['executionId']}']")
    failed_row.wait_for()
    assert "failed" in failed_row.inner_text()
    failed_row.locator("button").click()
    page.locator("#execution-error:has-text('Shopify said no')").wait_for()

    page.click("#execution-rerun")
    page.locator("#toast:has-text('Rerun started')").wait_for()
    page.wait_for_function("() => document.querySelectorAll('#executions-table tr[data-execution-id]').length === 3")
    assert len(alloy_mock.logs(SYNC_CUSTOMERS, user)) == 3


def test_relative_times_follow_the_emulators_clock(alloy_mock: AlloyMock, browser_page: Page) -> None:
    alloy_mock.freeze_clock("2024-01-01T00:00:00Z")
    user = alloy_mock.create_user("ada@example.com")
    page = open_dashboard(browser_page, alloy_mock.root_url, "users")
    created = page.locator(f"#users-table tr[data-user-id='{user['userId']}'] time")
    assert created.inner_text() == "just now"  # on the emulator's frozen clock, not the browser's
    assert created.get_attribute("datetime") == "2024-01-01T00:00:00.000Z"
    alloy_mock.advance_clock(2 * 3600)
    go_to(page, "requests")
    go_to(page, "users")
    page.locator(f"#users-table tr[data-user-id='{user['userId']}'] time:has-text('2 h ago')").wait_for()


def test_a_connection_fault_from_the_form_shows_instead_of_a_status(alloy_mock: AlloyMock, browser_page: Page) -> None:
    page = open_dashboard(browser_page, alloy_mock.root_url, "controls")
    page.select_option("#fault-method", "GET")
    page.fill("#fault-path", "/users")
    page.select_option("#fault-connection", "EMPTY_RESPONSE")
    page.click("#fault-add")
    page.locator("#faults-table tbody tr:has-text('EMPTY_RESPONSE')").wait_for()
    (fault,) = alloy_mock.faults()
    assert fault["connectionFault"] == "EMPTY_RESPONSE"
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{alloy_mock.base_url}/users", headers=alloy_mock.headers())
    go_to(page, "requests")
    row = request_rows(page).first
    assert "EMPTY_RESPONSE" in row.inner_text() and f"fault {fault['id']}" in row.inner_text()


def test_the_block_a_run_failed_at_is_marked(alloy_mock: AlloyMock, browser_page: Page) -> None:
    user = alloy_mock.create_user("ada@example.com")
    alloy_mock.install(user, "Shopify", workflows=[SYNC_CUSTOMERS])
    alloy_mock.fail_runs(SYNC_CUSTOMERS, block="shopify", message="Shopify said no")
    run_event(alloy_mock, user, "first")
    page = open_dashboard(browser_page, alloy_mock.root_url, "executions")
    page.locator("#executions-table tr.faulted button").click()
    failed = page.locator("#execution-blocks > li.failed")
    failed.wait_for()
    assert failed.count() == 1 and "failed here" in failed.inner_text()
