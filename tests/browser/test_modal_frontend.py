"""The unmodified npm alloy-frontend 2.1.1 against the emulator, with the vendor's hosts routed to it.

alloy-frontend hard-codes https://app.runalloy.com (the iframe) and https://embedded.runalloy.com (REST). Here
Playwright's request routing answers every request of the page to those hosts from the emulator, so the
iframe really is served as https://app.runalloy.com: the SDK's origin check (reference §7.3) accepts its
messages, and ignores a message from any other origin.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from alloy_mock.testing import AlloyMock

from .conftest import PageServer
from .test_modal import ORDER_STATUS, WOOCOMMERCE, credentials_of, fill_woocommerce, messages, results

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

FRONTEND = Path(__file__).parents[1] / "node" / "node_modules" / "alloy-frontend" / "src" / "index.js"
VENDOR_HOSTS = ("https://app.runalloy.com", "https://embedded.runalloy.com")
HOP_BY_HOP = {"host", "connection", "content-length", "transfer-encoding", "keep-alive"}

# A web app bundling alloy-frontend: its file as published (a CommonJS module) behind a two-line loader.
APP_PAGE = """<!doctype html><html lang="en"><head><title>shop</title>
<script>window.results = []; window.messages = [];
window.addEventListener("message", (e) => window.messages.push({origin: e.origin, data: e.data}));
var module = {exports: {}};</script>
<script>FRONTEND</script>
<script>window.alloy = module.exports();</script></head><body><h1>My shop</h1></body></html>"""


def route_vendor_hosts(page: Page, alloy_mock: AlloyMock) -> list[str]:
    """Answer the page's requests to the vendor's hosts from the emulator; returns the URLs seen."""
    seen: list[str] = []
    client = httpx.Client(timeout=10)

    def forward(route: Route) -> None:
        request = route.request
        seen.append(request.url)
        target = urlsplit(request.url)
        url = alloy_mock.root_url + target.path + (f"?{target.query}" if target.query else "")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        answer = client.request(request.method, url, headers=headers, content=request.post_data_buffer)
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP | {"content-encoding"}}
        route.fulfill(status=answer.status_code, headers=kept, body=answer.content)

    for host in VENDOR_HOSTS:
        page.route(f"{host}/**", forward)
    return seen


def test_unmodified_alloy_frontend_installs_through_the_routed_modal(
    alloy_mock: AlloyMock, browser_page: Page, other_origin: PageServer
) -> None:
    shopper = alloy_mock.create_user("frontend@example.com")
    seen = route_vendor_hosts(browser_page, alloy_mock)
    html = APP_PAGE.replace("FRONTEND", FRONTEND.read_text())
    browser_page.goto(other_origin.page("/frontend-shop", html))
    token = alloy_mock.token(shopper)
    integrations = browser_page.evaluate("(token) => { alloy.setToken(token); return alloy.getIntegrations(); }", token)
    assert WOOCOMMERCE in [i["integrationId"] for i in integrations["data"]]

    browser_page.evaluate(
        "(id) => alloy.install({integrationId: id, callback: (r) => window.results.push(r)})", WOOCOMMERCE
    )
    modal = browser_page.frame_locator("iframe")
    fill_woocommerce(modal)
    modal.locator("[data-testid=field-markAsCompleted] input").check()
    # A message from another origin than https://app.runalloy.com is ignored by the SDK: the modal stays.
    browser_page.evaluate("window.postMessage({closeModal: true}, '*')")
    browser_page.wait_for_function("window.messages.length >= 1")
    assert browser_page.locator("iframe").count() == 1 and browser_page.evaluate("window.results") == []
    modal.locator("#modal-install").click()

    assert results(browser_page) == [{"success": True}]
    browser_page.wait_for_selector("iframe", state="detached")
    frames = [m for m in browser_page.evaluate("window.messages") if m["origin"] == "https://app.runalloy.com"]
    assert [m["data"] for m in frames] == [
        {"workflowCreated": True, "workflowIds": [ORDER_STATUS, "65e5cf43a6597c674e4a449f"]}
    ]
    assert messages(browser_page)[0] == {"closeModal": True}  # the page's own, ignored
    assert any(url.startswith("https://app.runalloy.com/forge-install?integrationId=") for url in seen)
    assert any(url == "https://embedded.runalloy.com/2024-03/integrations" for url in seen)
    (credential,) = credentials_of(alloy_mock, shopper)
    installs = {i["workflowId"]: i for i in alloy_mock.installs(shopper)["data"]}
    assert installs[ORDER_STATUS]["credentialIds"] == {"wooCommerce": credential["credentialId"]}
    assert [v for block in installs[ORDER_STATUS]["values"].values() for v in block.values()] == [True]


def test_unmodified_alloy_frontend_reactivates_through_the_routed_api(
    alloy_mock: AlloyMock, browser_page: Page, other_origin: PageServer
) -> None:
    shopper = alloy_mock.create_user("frontend-api@example.com")
    alloy_mock.install(shopper, "WooCommerce", workflows=[ORDER_STATUS], values={"markAsCompleted": True})
    route_vendor_hosts(browser_page, alloy_mock)
    browser_page.goto(other_origin.page("/frontend-api", APP_PAGE.replace("FRONTEND", FRONTEND.read_text())))
    answers: list[Any] = browser_page.evaluate(
        """async ([token, id]) => {
          alloy.setToken(token);
          return [await alloy.deactivate({workflowId: id}), await alloy.reactivate({workflowId: id})];
        }""",
        [alloy_mock.token(shopper), ORDER_STATUS],
    )
    assert answers == [{"activated": False}, {"activated": True}]
