"""A page on another origin, in a real browser: it cannot wipe or read the emulator, and alloy-frontend's calls work.

The page comes from `other_origin` (another port, so another origin); the emulator is the plugin's
`alloy_mock` server. Each attack is checked on the emulator's side (nothing changed) and on the
page's (nothing readable).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from alloy_mock.http.control import NOT_FROM_A_PAGE
from alloy_mock.testing import AlloyMock

from .conftest import REBOUND_HOST, PageServer

if TYPE_CHECKING:
    from playwright.sync_api import Page

BLANK = "<!doctype html><title>a site on another origin</title>"
INTRUDER = '{"users": [{"username": "intruder"}]}'  # what /_mock/seed would add (reset ignores it)

# What the page can see of one fetch: the response as far as the browser lets it read, or the error.
FETCH = """async ([url, init]) => {
  try {
    const response = await fetch(url, init);
    return {type: response.type, status: response.status, body: await response.text()};
  } catch (error) {
    return {error: String(error)};
  }
}"""


@pytest.fixture
def victim(alloy_mock: AlloyMock) -> dict[str, Any]:
    """A user, a token of theirs the journal holds (a frontend call made with it), and a frozen clock."""
    user = alloy_mock.create_user("victim@example.com")
    token = alloy_mock.token(user)
    answer = httpx.get(f"{alloy_mock.url('2024-03')}/integrations", headers={"x-alloy-user-token": token})
    assert answer.status_code == 200, answer.text
    alloy_mock.freeze_clock()
    return {"user": user, "token": token, "clock": alloy_mock.clock()}


def unchanged(alloy_mock: AlloyMock, victim: dict[str, Any]) -> None:
    users = httpx.get(f"{alloy_mock.base_url}/users", headers=alloy_mock.headers()).json()["data"]
    assert [u["username"] for u in users] == ["victim@example.com"], "the users were wiped"
    assert alloy_mock.clock() == victim["clock"], "the clock was reset"
    assert len(alloy_mock.requests(path="/2024-03/integrations")) == 1, "the request journal was cleared"


def on_another_origin(page: Page, other_origin: PageServer, html: str = BLANK) -> None:
    page.goto(other_origin.page("/site", html))


@pytest.mark.parametrize(
    "init",
    [
        pytest.param({"mode": "no-cors", "method": "POST", "body": ""}, id="no-cors-empty-body"),
        pytest.param({"mode": "no-cors", "method": "POST", "body": INTRUDER}, id="no-cors-json-text"),
        pytest.param({"method": "POST", "headers": {"Content-Type": "application/json"}, "body": "{}"}, id="cors-json"),
        pytest.param({"method": "POST", "headers": {"X-Alloy-Mock": "1"}}, id="cors-custom-header"),
    ],
)
def test_a_page_cannot_reset_the_emulator_with_fetch(
    alloy_mock: AlloyMock, victim: dict[str, Any], browser_page: Page, other_origin: PageServer, init: dict[str, Any]
) -> None:
    on_another_origin(browser_page, other_origin)
    for path in ("/_mock/reset", "/_mock/seed", "/_mock/clock/reset"):
        seen = browser_page.evaluate(FETCH, [alloy_mock.root_url + path, init])
        if init.get("mode") == "no-cors":  # sent, but the answer is opaque to the page
            assert seen == {"type": "opaque", "status": 0, "body": ""}, seen
        else:  # the preflight is refused: not even sent
            assert set(seen) == {"error"} and "Failed to fetch" in seen["error"], seen
    unchanged(alloy_mock, victim)


@pytest.mark.parametrize("enctype", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_a_page_cannot_reset_the_emulator_with_a_form(
    alloy_mock: AlloyMock, victim: dict[str, Any], browser_page: Page, other_origin: PageServer, enctype: str
) -> None:
    action = alloy_mock.root_url + "/_mock/reset"
    on_another_origin(
        browser_page,
        other_origin,
        f'<form method="POST" action="{action}" enctype="{enctype}"><input name="namespace" value="dev"></form>',
    )
    with browser_page.expect_navigation(url=action):
        browser_page.evaluate("document.forms[0].submit()")
    # The browser shows the emulator's answer (the page that sent the form cannot read it): the refusal.
    assert NOT_FROM_A_PAGE in browser_page.inner_text("body")
    unchanged(alloy_mock, victim)


@pytest.mark.parametrize("path", ["/_mock/requests", "/_mock/clock", "/_mock/openapi.json"])
def test_a_page_cannot_read_the_control_api(
    alloy_mock: AlloyMock, victim: dict[str, Any], browser_page: Page, other_origin: PageServer, path: str
) -> None:
    """GET /_mock/requests holds every response body, user tokens included."""
    on_another_origin(browser_page, other_origin)
    seen = browser_page.evaluate(FETCH, [alloy_mock.root_url + path, {}])
    assert set(seen) == {"error"} and "Failed to fetch" in seen["error"], seen
    assert victim["token"] not in str(seen)


def test_a_page_whose_domain_is_rebound_to_the_emulator_gets_nothing(
    alloy_mock: AlloyMock, victim: dict[str, Any], browser_page: Page
) -> None:
    """DNS rebinding: the page's own name now resolves to 127.0.0.1, so the browser sees one origin."""
    rebound = alloy_mock.root_url.replace("127.0.0.1", REBOUND_HOST)
    shown = browser_page.goto(rebound + "/_mock/requests")
    assert shown is not None and shown.status == 403
    assert "does not answer for the host" in browser_page.inner_text("body")
    init = {"method": "POST", "headers": {"Content-Type": "application/json"}, "body": "{}"}
    for path in ("/_mock/reset", "/_mock/requests", "/2023-12/users"):
        seen = browser_page.evaluate(FETCH, [rebound + path, {**init} if path == "/_mock/reset" else {}])
        assert seen.get("status") == 403 and victim["token"] not in str(seen), seen
    unchanged(alloy_mock, victim)


def test_alloy_frontends_call_works_from_a_page(
    alloy_mock: AlloyMock, victim: dict[str, Any], browser_page: Page, other_origin: PageServer
) -> None:
    """GET /2024-03/integrations as alloy-frontend sends it: the user token and a JSON Content-Type (preflighted)."""
    on_another_origin(browser_page, other_origin)
    headers = {"Content-Type": "application/json", "x-alloy-user-token": victim["token"]}
    url = f"{alloy_mock.url('2024-03')}/integrations"
    seen = browser_page.evaluate(FETCH, [url, {"headers": headers}])
    assert (seen.get("type"), seen.get("status")) == ("cors", 200), seen
    expected = httpx.get(url, params={"userId": victim["user"]["userId"]}, headers=alloy_mock.headers())
    assert json.loads(seen["body"]) == expected.json()
    refused = browser_page.evaluate(FETCH, [url, {"headers": {**headers, "x-alloy-user-token": "forged"}}])
    assert (refused.get("status"), refused.get("body")) == (401, '{"message":"Unauthorized"}'), refused


def test_a_page_can_read_the_answer_of_a_put_alloy_frontend_sends(
    alloy_mock: AlloyMock, victim: dict[str, Any], browser_page: Page, other_origin: PageServer
) -> None:
    """PUT /workflows/activate passes its preflight: whatever the emulator answers, the page can read it."""
    on_another_origin(browser_page, other_origin)
    init = {
        "method": "PUT",
        "headers": {"Content-Type": "application/json", "x-alloy-user-token": victim["token"]},
        "body": '{"workflowId": "none"}',
    }
    seen = browser_page.evaluate(FETCH, [f"{alloy_mock.url('2024-03')}/workflows/activate", init])
    assert seen.get("type") == "cors", seen
    assert isinstance(json.loads(seen["body"]), dict), seen
