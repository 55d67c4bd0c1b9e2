"""The hosted install modal in a real browser, driven as an end user would, through the drop-in script.

A web app on another origin (`other_origin`) loads /scripts/embedded.js from the emulator, sets a token the
test got from the emulator, and opens the modal; the test types into the modal's iframe, then checks the
result through the REST API (installs, values, credentials), the callback, and the exact messages the iframe
posted to the page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

from alloy_mock.testing import AlloyMock

from .conftest import PageServer

if TYPE_CHECKING:
    from playwright.sync_api import FrameLocator, Page

WOOCOMMERCE = "65a4ff33aecd6cdbacce6e55"
ORDER_STATUS = "65a500f64ef3d1864d8c58a0"  # required boolean markAsCompleted
NEW_CUSTOMER = "65e5cf43a6597c674e4a449f"  # optional select role
WOO_BLOCK_STATUS = "field-65a500f64ef3d1864d8c58a0"
SLACK = "6478885b50bb2afa5b611ee2"

# A web app under test: it records the modal's callbacks and every message a frame posts to it.
APP_PAGE = """<!doctype html><html lang="en"><head><title>shop</title>
<script>window.results = []; window.messages = [];
window.addEventListener("message", (e) => window.messages.push({origin: e.origin, data: e.data}));</script>
<script src="{script}"></script></head><body><h1>My shop</h1></body></html>"""

OPEN = """([method, token, params]) => {
  Alloy.setToken(token);
  Alloy[method]({...params, callback: (result) => window.results.push(result)});
}"""


def open_app(page: Page, other_origin: PageServer, alloy_mock: AlloyMock) -> None:
    page.goto(other_origin.page("/shop", APP_PAGE.replace("{script}", alloy_mock.root_url + "/scripts/embedded.js")))


def open_modal(page: Page, token: str, method: str = "install", **params: Any) -> FrameLocator:
    page.evaluate(OPEN, [method, token, params])
    return page.frame_locator("iframe")


def results(page: Page, count: int = 1) -> list[dict[str, Any]]:
    page.wait_for_function("(count) => window.results.length >= count", arg=count)
    found: list[dict[str, Any]] = page.evaluate("window.results")
    return found


def messages(page: Page) -> list[Any]:
    return [m["data"] for m in page.evaluate("window.messages")]


def workflows_of(alloy_mock: AlloyMock, user: dict[str, Any]) -> dict[str, dict[str, Any]]:
    answer = httpx.get(f"{alloy_mock.base_url}/workflows", params={"userId": user["userId"]}, headers=alloy_mock.headers())
    assert answer.status_code == 200, answer.text
    return {w["workflowId"]: w for w in answer.json()["data"]}


def credentials_of(alloy_mock: AlloyMock, user: dict[str, Any]) -> list[dict[str, Any]]:
    answer = httpx.get(f"{alloy_mock.base_url}/users/{user['userId']}/credentials", headers=alloy_mock.headers())
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["data"]
    return found


@pytest.fixture
def shopper(alloy_mock: AlloyMock) -> dict[str, Any]:
    return alloy_mock.create_user("shopper@example.com")


def fill_woocommerce(modal: FrameLocator) -> None:
    modal.locator("#credential-wooCommerce-consumerKey").fill("ck_live_123")
    modal.locator("#credential-wooCommerce-consumerSecret").fill("cs_live_456")
    modal.locator("#credential-wooCommerce-url").fill("https://shop.example.com")


def test_drop_in_script_installs_an_integration_through_the_modal(
    alloy_mock: AlloyMock, shopper: dict[str, Any], browser_page: Page, other_origin: PageServer
) -> None:
    open_app(browser_page, other_origin, alloy_mock)
    modal = open_modal(browser_page, alloy_mock.token(shopper), integrationId=WOOCOMMERCE)
    fill_woocommerce(modal)
    modal.locator("[data-testid=field-markAsCompleted] input").check()
    modal.locator("[data-testid=field-role] select").select_option("agent")
    modal.locator("#modal-install").click()

    assert results(browser_page) == [{"success": True}]
    browser_page.wait_for_selector("iframe", state="detached")  # alloy-frontend's 1 s close, as the vendor's
    posted = [m for m in messages(browser_page) if "workflowCreated" in m]
    assert posted == [{"workflowCreated": True, "workflowIds": [ORDER_STATUS, NEW_CUSTOMER]}]
    installed = workflows_of(alloy_mock, shopper)
    assert installed[ORDER_STATUS]["installed"] and installed[NEW_CUSTOMER]["installed"]
    installs = {i["workflowId"]: i for i in alloy_mock.installs(shopper)["data"]}
    assert [v for block in installs[ORDER_STATUS]["values"].values() for v in block.values()] == [True]
    assert [v for block in installs[NEW_CUSTOMER]["values"].values() for v in block.values()] == ["agent"]
    (credential,) = credentials_of(alloy_mock, shopper)
    assert credential["type"] == "wooCommerce"
    assert installs[ORDER_STATUS]["credentialIds"] == {"wooCommerce": credential["credentialId"]}
