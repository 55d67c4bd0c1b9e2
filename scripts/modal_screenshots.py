"""Screenshots of each page of the hosted modal, for docs/images/modal-*.png (rerun after changing the UI).

    python scripts/modal_screenshots.py [output directory, default docs/images]

Starts an emulator on a free port and headless Chromium (Debian's /usr/bin/chromium, or $ALLOY_MOCK_CHROMIUM),
opens each page as alloy-frontend's iframe would (400 x 659 px) and saves a PNG per state.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

from alloy_mock.config import Settings
from alloy_mock.testing import BackgroundServer

SHOPIFY = "64108c73d3e467ca351b6de3"
TO_KLAVIYO = "65c2a1f09d3b7e41c8a6f512"
SLACK = "6478885b50bb2afa5b611ee2"
WOOCOMMERCE = "65a4ff33aecd6cdbacce6e55"
MODAL_SIZE = {"width": 400, "height": 659}
APP = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme Shop</title>
<script src="SCRIPT"></script></head>
<body style="margin:0;font:16px system-ui,sans-serif;background:#f7f7fb">
<header style="padding:1rem 2rem;background:#14213d;color:#fff;font-weight:700">Acme Shop · Integrations</header>
<p style="padding:2rem">Your integrations…</p></body></html>"""
OPEN = "([token, id]) => { Alloy.setToken(token); Alloy.install({integrationId: id, callback: () => {}}); }"


def shoot(page: Page, url: str, path: Path, ready: str = "#modal-install", full_page: bool = False) -> None:
    page.goto(url)
    page.wait_for_selector(ready)
    page.screenshot(path=str(path), full_page=full_page)
    print(f"wrote {path}")


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images")
    out.mkdir(parents=True, exist_ok=True)
    server = BackgroundServer(Settings()).start()
    try:
        mock = server.handle()
        user = mock.create_user("ada@example.com", "Ada Lovelace")
        token = mock.token(user)
        root = mock.root_url
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=os.environ.get("ALLOY_MOCK_CHROMIUM", "/usr/bin/chromium"), args=["--no-sandbox"]
            )
            page = browser.new_page(viewport=MODAL_SIZE, device_scale_factor=2)
            install = f"{root}/forge-install?id={TO_KLAVIYO}&token={token}&forgeMode=engaged"
            shoot(page, install, out / "modal-install.png")
            page.click("#modal-install")
            page.wait_for_selector("#error-credentials-shopify:not(:empty)")
            page.screenshot(path=str(out / "modal-field-errors.png"))
            print(f"wrote {out / 'modal-field-errors.png'}")
            woo = f"{root}/forge-install?integrationId={WOOCOMMERCE}&token={token}&forgeMode=engaged"
            shoot(page, woo, out / "modal-install-woocommerce.png")
            page.fill("#credential-wooCommerce-consumerKey", "ck_live")
            page.fill("#credential-wooCommerce-consumerSecret", "cs_live")
            page.fill("#credential-wooCommerce-url", "https://shop.example.com")
            page.click("#modal-install")
            page.wait_for_selector("#modal-success")
            page.screenshot(path=str(out / "modal-installed.png"))
            print(f"wrote {out / 'modal-installed.png'}")
            mock.install(user, "Slack", values={"channel": "#sales"})
            edit = f"{root}/forge-install?integrationId={SLACK}&token={token}&forgeMode=engaged&operation=edit"
            shoot(page, edit, out / "modal-edit.png")
            auth = f"{root}/authenticate-app?token={token}&forgeMode=engaged&app=klaviyo"
            shoot(page, auth, out / "modal-authenticate.png", ready="#modal-connect")
            expired = mock.mint_token(user, expired=True)["token"]
            shoot(page, f"{root}/forge-install?integrationId={SLACK}&token={expired}", out / "modal-error.png", "h1")
            newcomer = mock.create_user("grace@example.com")
            page.set_viewport_size({"width": 760, "height": 760})
            link = httpx.get(
                f"{mock.base_url}/users/{newcomer['userId']}/integrations/{WOOCOMMERCE}/install-url",
                headers=mock.headers(),
            ).json()["url"]
            shoot(page, link, out / "modal-embedded-install.png", full_page=True)
            # The modal as an app shows it: the drop-in script's overlay around the iframe.
            page.set_viewport_size({"width": 1000, "height": 810})
            app = APP.replace("SCRIPT", f"{root}/scripts/embedded.js")
            page.route(f"{root}/acme-shop", lambda route: route.fulfill(body=app, content_type="text/html"))
            page.goto(f"{root}/acme-shop")
            page.evaluate(OPEN, [mock.token(newcomer), SHOPIFY])
            page.frame_locator("iframe").locator("#modal-install").wait_for()
            page.screenshot(path=str(out / "modal-in-app.png"))
            print(f"wrote {out / 'modal-in-app.png'}")
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
