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


def messages(page: Page, count: int = 0) -> list[Any]:
    """The messages the page has received, once there are at least `count` (posted across frames: not at once)."""
    page.wait_for_function("(count) => window.messages.length >= count", arg=count)
    return [m["data"] for m in page.evaluate("window.messages")]


def workflows_of(alloy_mock: AlloyMock, user: dict[str, Any]) -> dict[str, dict[str, Any]]:
    answer = httpx.get(
        f"{alloy_mock.base_url}/workflows", params={"userId": user["userId"]}, headers=alloy_mock.headers()
    )
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


# -- tokens: the error page, nothing installed ------------------------------------------------------------


@pytest.mark.parametrize("kind", ["expired", "forged"])
def test_a_bad_token_shows_the_error_page_and_installs_nothing(
    alloy_mock: AlloyMock, shopper: dict[str, Any], browser_page: Page, other_origin: PageServer, kind: str
) -> None:
    token = alloy_mock.mint_token(
        shopper, expired=kind == "expired", signature="valid" if kind == "expired" else "wrong-key"
    )
    open_app(browser_page, other_origin, alloy_mock)
    modal = open_modal(browser_page, token["token"], integrationId=WOOCOMMERCE, hide=True)
    assert modal.locator("#modal-error-title").inner_text() == "Link not valid"
    assert "expired" in modal.locator("#modal-error-message").inner_text()
    assert modal.locator("#modal-install").count() == 0
    assert messages(browser_page, 1) == [{"showModal": True}]  # a hidden modal shows its error
    modal.locator("#modal-close").click()
    assert results(browser_page) == [{"success": False}]
    assert alloy_mock.installs(shopper)["data"] == [] and credentials_of(alloy_mock, shopper) == []


# -- cancel, hide, edit, OAuth ----------------------------------------------------------------------------


def test_cancel_calls_back_without_success_and_installs_nothing(
    alloy_mock: AlloyMock, shopper: dict[str, Any], browser_page: Page, other_origin: PageServer
) -> None:
    open_app(browser_page, other_origin, alloy_mock)
    modal = open_modal(browser_page, alloy_mock.token(shopper), integrationId=WOOCOMMERCE)
    fill_woocommerce(modal)
    modal.locator("#modal-cancel").click()
    assert results(browser_page) == [{"success": False}]
    assert messages(browser_page) == [{"closeModal": True}]
    assert browser_page.locator("iframe").count() == 0
    assert alloy_mock.installs(shopper)["data"] == [] and credentials_of(alloy_mock, shopper) == []


def test_hide_mode_posts_show_modal_first(
    alloy_mock: AlloyMock, shopper: dict[str, Any], browser_page: Page, other_origin: PageServer
) -> None:
    open_app(browser_page, other_origin, alloy_mock)
    modal = open_modal(browser_page, alloy_mock.token(shopper), workflowIds=[ORDER_STATUS], hide=True)
    modal.locator("#modal-install").wait_for()
    assert messages(browser_page, 1) == [{"showModal": True}]
    assert browser_page.locator("iframe").is_visible()  # alloy-frontend shows the modal on {showModal: true}
    fill_woocommerce(modal)
    modal.locator("#modal-install").click()
    assert results(browser_page) == [{"success": True}]
    assert messages(browser_page) == [{"showModal": True}, {"workflowCreated": True, "workflowIds": [ORDER_STATUS]}]
    assert [i["workflowId"] for i in alloy_mock.installs(shopper)["data"]] == [ORDER_STATUS]


def test_edit_shows_the_install_values_and_changes_them(
    alloy_mock: AlloyMock, shopper: dict[str, Any], browser_page: Page, other_origin: PageServer
) -> None:
    alloy_mock.install(shopper, "Slack", values={"channel": "#sales"})
    before = {i["workflowId"]: i for i in alloy_mock.installs(shopper)["data"]}
    open_app(browser_page, other_origin, alloy_mock)
    modal = open_modal(browser_page, alloy_mock.token(shopper), "edit", integrationId=SLACK)
    channels = modal.locator("[data-testid=field-channel] input")
    channels.nth(1).wait_for()  # count() does not wait for the modal to render its fields
    assert channels.count() == 2
    assert [channels.nth(i).input_value() for i in range(2)] == ["#sales", "#sales"]
    assert modal.locator("#modal-install").inner_text() == "Save changes"
    channels.nth(1).fill("#support")
    modal.locator("[data-testid=field-mentionChannel] input").check()
    modal.locator("#modal-install").click()
    assert results(browser_page) == [{"success": True}]
    after = {i["workflowId"]: i for i in alloy_mock.installs(shopper)["data"]}
    values = {w: [v for block in i["values"].values() for v in block.values()] for w, i in after.items()}
    assert values == {
        "647889654bc0db7c550c256d": ["#sales"],
        "650889ceb5b31c2e2dcf5d6e": ["#support", True],
        "65c35815dbed9eb70f7c73f2": [],
    }
    assert {w: i["credentialIds"] for w, i in after.items()} == {w: i["credentialIds"] for w, i in before.items()}
    assert len(credentials_of(alloy_mock, shopper)) == 1  # the same credential, none added


def test_the_oauth_button_completes_a_credential_through_the_emulators_oauth_page(
    alloy_mock: AlloyMock, shopper: dict[str, Any], browser_page: Page, other_origin: PageServer
) -> None:
    open_app(browser_page, other_origin, alloy_mock)
    modal = open_modal(browser_page, alloy_mock.token(shopper), workflowIds=["64108e3c3cac1228833b4944"])
    modal.locator("#modal-install").click()  # not connected yet: refused in the page, nothing sent
    assert modal.locator("#error-credentials-shopify").inner_text() == "Connect your Shopify account"
    modal.locator("#credential-shopify-shopSubdomain").fill("ada-shop")
    with browser_page.expect_popup() as popup_info:
        modal.locator("#oauth-shopify").click()
    popup = popup_info.value
    assert popup.locator("[data-testid=oauth-app]").inner_text() == "shopify"
    with popup.expect_event("close"):  # listening before the click: the popup may close at once
        popup.locator("#oauth-allow").click()
    assert modal.locator("#oauth-status-shopify").inner_text().startswith("✓ Connected Shopify")
    modal.locator("#modal-install").click()
    assert results(browser_page) == [{"success": True}]
    (credential,) = credentials_of(alloy_mock, shopper)
    assert credential["type"] == "shopify"
    (install,) = alloy_mock.installs(shopper)["data"]
    assert install["credentialIds"] == {"shopify": credential["credentialId"]}


def test_field_errors_from_the_server_show_next_to_the_field(
    alloy_mock: AlloyMock, shopper: dict[str, Any], browser_page: Page, other_origin: PageServer
) -> None:
    """The page checks required fields itself; what only the server knows (a credential id the user does not
    have any more) comes back as a problem shown next to its control."""
    alloy_mock.install(shopper, "Slack", values={"channel": "#sales"})
    (credential,) = credentials_of(alloy_mock, shopper)
    open_app(browser_page, other_origin, alloy_mock)
    modal = open_modal(browser_page, alloy_mock.token(shopper), "edit", workflowIds=["647889654bc0db7c550c256d"])
    modal.locator("#credential-slack").wait_for()
    answer = httpx.delete(
        f"{alloy_mock.base_url}/users/{shopper['userId']}/credentials/{credential['credentialId']}",
        headers=alloy_mock.headers(),
    )
    assert answer.status_code == 200, answer.text
    modal.locator("#modal-install").click()
    slot = modal.locator("#error-credentials-slack")
    slot.filter(has_text="has no slack credential").wait_for()  # the server's answer is not there at once
    assert "has no slack credential" in slot.inner_text()
    assert results(browser_page, 0) == [] and messages(browser_page) == []


def test_authenticate_connects_an_account_and_calls_back_with_its_credential_id(
    alloy_mock: AlloyMock, shopper: dict[str, Any], browser_page: Page, other_origin: PageServer
) -> None:
    open_app(browser_page, other_origin, alloy_mock)
    modal = open_modal(browser_page, alloy_mock.token(shopper), "authenticate", app="klaviyo")
    assert browser_page.locator("iframe#embedded-modal").count() == 1
    modal.locator("#modal-connect").click()  # the key is required: refused in the page
    assert modal.locator("#error-credential-klaviyo-apiKey").inner_text() == "Private API Key is required"
    modal.locator("#credential-klaviyo-apiKey").fill("pk_live_789")
    modal.locator("#modal-connect").click()
    (result,) = results(browser_page)
    (credential,) = credentials_of(alloy_mock, shopper)
    assert result == {"success": True, "credentialId": credential["credentialId"]} and credential["type"] == "klaviyo"
    assert messages(browser_page) == [
        {"closeModal": True, "connectionStatus": "connected", "credentialId": credential["credentialId"]}
    ]
    assert browser_page.locator("iframe").count() == 0


MAGENTO = "63ea758e82c3074141968bb9"  # one workflow, no fields; a key-based app (url, accessToken)


def test_the_install_link_page_works_with_the_keyboard_alone(
    alloy_mock: AlloyMock, shopper: dict[str, Any], browser_page: Page
) -> None:
    link = httpx.get(
        f"{alloy_mock.base_url}/users/{shopper['userId']}/integrations/{MAGENTO}/install-url",
        headers=alloy_mock.headers(),
    ).json()["url"]
    browser_page.goto(link)
    browser_page.locator("#modal-install").wait_for()
    assert browser_page.locator("#modal-cancel").count() == 0  # a standalone page: nothing to cancel into
    browser_page.keyboard.press("Tab")
    assert browser_page.evaluate("document.activeElement.id") == "credential-magento-url"
    browser_page.keyboard.type("https://magento.example.com")
    browser_page.keyboard.press("Tab")
    browser_page.keyboard.type("mg_token")
    browser_page.keyboard.press("Tab")
    assert browser_page.evaluate("document.activeElement.id") == "modal-install"
    browser_page.keyboard.press("Enter")
    browser_page.locator("#modal-success").wait_for()
    (credential,) = credentials_of(alloy_mock, shopper)
    assert credential["type"] == "magento"
    assert [i["workflowId"] for i in alloy_mock.installs(shopper)["data"]] == ["63ea75a2fcf2e2c72e805ddc"]


def test_escape_cancels_and_markup_in_parameters_stays_text(
    alloy_mock: AlloyMock, shopper: dict[str, Any], browser_page: Page, other_origin: PageServer
) -> None:
    open_app(browser_page, other_origin, alloy_mock)
    title = "<img src=x onerror=window.parent.pwned=1> & co"
    modal = open_modal(browser_page, alloy_mock.token(shopper), integrationId=MAGENTO, title=title)
    assert modal.locator("#modal-title").inner_text() == title
    assert modal.locator("img").count() == 0
    modal.locator("#credential-magento-url").press("Escape")
    assert results(browser_page) == [{"success": False}]
    assert browser_page.evaluate("window.pwned") is None
    assert alloy_mock.installs(shopper)["data"] == []


def test_the_drop_in_scripts_rest_methods_work_from_another_origin(
    alloy_mock: AlloyMock, shopper: dict[str, Any], browser_page: Page, other_origin: PageServer
) -> None:
    alloy_mock.install(shopper, "WooCommerce", workflows=[ORDER_STATUS], values={"markAsCompleted": True})
    open_app(browser_page, other_origin, alloy_mock)
    unset = browser_page.evaluate("() => { try { Alloy().getWorkflows(); } catch (e) { return e.message; } }")
    assert unset == "no token set"  # a fresh instance has no token, as alloy-frontend's factory
    answers = browser_page.evaluate(
        """async ([token, id]) => {
          Alloy.setToken(token);
          Alloy.setRegion("EU");
          const integrations = await Alloy.getIntegrations();
          const workflows = await Alloy.getWorkflows();
          return [integrations.data.length > 0, workflows.data.filter((w) => w.installed).map((w) => w.workflowId),
                  await Alloy.deactivate({workflowId: id}), await Alloy.reactivate({workflowId: id})];
        }""",
        [alloy_mock.token(shopper), ORDER_STATUS],
    )
    assert answers == [True, [ORDER_STATUS], {"activated": False}, {"activated": True}]
