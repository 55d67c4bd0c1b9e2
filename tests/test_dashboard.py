"""The dashboard's page and assets over HTTP (issue 15): served without the admin token, which still guards every
other /_mock path; a strict Content-Security-Policy, no framing, no CORS; no external asset; small modules.

The pages themselves are driven in a real browser by tests/browser/test_dashboard*.py.
"""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from alloy_mock.config import Settings
from alloy_mock.control.models import CONNECTION_FAULTS
from alloy_mock.http import dashboard

from .helpers import assert_error, assert_ok

ADMIN_TOKEN = "s3cret"
PROTECTED = Settings(admin_token=ADMIN_TOKEN)
ADMIN_REQUIRED = "Unauthorized: the control API needs the admin token (Authorization: Bearer ...)"
MAX_MODULE_LINES = 400
IMPORT = re.compile(r'from "\./([^"]+)"')
ASSET_LINK = re.compile(r'(?:src|href)="([^"]+)"')


@pytest.mark.parametrize("settings", [PROTECTED], ids=["admin-token"])
@pytest.mark.parametrize("path", ["/_mock/ui", "/_mock/ui/", "/_mock//ui"])
def test_the_page_needs_no_admin_token_and_holds_no_data(client: TestClient, path: str) -> None:
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.content == dashboard.SHELL_BODY  # the same static page for everyone: nothing of the emulator's


@pytest.mark.parametrize("settings", [PROTECTED], ids=["admin-token"])
def test_the_admin_token_still_guards_the_control_api_around_the_page(client: TestClient) -> None:
    for path in ["/_mock", "/_mock/requests", "/_mock/clock", "/_mock/uix", "/_mock/ui/data", "/_mock/ui/assets"]:
        assert_error(client.get(path), 401, ADMIN_REQUIRED)
    assert_ok(client.get("/_mock/requests", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}))


@pytest.mark.parametrize("settings", [PROTECTED], ids=["admin-token"])
def test_every_asset_the_page_links_is_served_without_the_token(client: TestClient) -> None:
    links = ASSET_LINK.findall(dashboard.SHELL_BODY.decode())
    assert "/_mock/ui/assets/app.js" in links and "/_mock/ui/assets/dashboard.css" in links
    for link in [link for link in links if not link.startswith(("data:", "#"))]:
        answer = client.get(link)
        assert answer.status_code == 200, link
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert client.get("/_mock/ui/assets/app.js").headers["content-type"] == "text/javascript; charset=utf-8"
    assert client.get("/_mock/ui/assets/dashboard.css").headers["content-type"] == "text/css; charset=utf-8"


def test_every_module_import_is_an_asset_and_every_module_is_small() -> None:
    modules = {name: body.decode() for name, (body, _) in dashboard.ASSETS.items() if name.endswith(".js")}
    pages = {"app.js", "api.js", "requests.js", "users.js", "executions.js", "controls.js", "coverage.js"}
    assert pages <= set(modules)
    for name, text in modules.items():
        assert text.count("\n") < MAX_MODULE_LINES, name
        for imported in IMPORT.findall(text):
            assert imported in modules, f"{name} imports {imported}, which is not served"


def test_nothing_is_loaded_from_elsewhere_and_no_script_is_inline() -> None:
    shell = dashboard.SHELL_BODY.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)", shell) == []  # every <script> has a src
    assert re.search(r"<[^>]+\son[a-z]+\s*=", shell) is None  # nor an inline event handler
    assert "style=" not in shell  # inline styles are refused by the policy too
    for name, (body, _) in {**dashboard.ASSETS, "index.html": (dashboard.SHELL_BODY, "")}.items():
        text = body.decode()
        assert re.search(r"(?:src|href|url)\s*[=(]\s*[\"']?(?:https?:)?//", text) is None, name
        assert "innerHTML" not in text and "eval(" not in text, name


def test_policy_headers(client: TestClient) -> None:
    for path in ["/_mock/ui", "/_mock/ui/assets/app.js"]:
        headers = client.get(path).headers
        policy = headers["content-security-policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert headers["x-frame-options"] == "DENY"
        assert headers["cache-control"] == "no-store"
        assert headers["referrer-policy"] == "no-referrer"


def test_no_cors_for_the_page_or_its_assets(client: TestClient) -> None:
    origin = {"Origin": "https://evil.example"}
    for path in ["/_mock/ui", "/_mock/ui/assets/api.js"]:
        answer = client.get(path, headers=origin)
        assert answer.status_code == 200
        assert "access-control-allow-origin" not in answer.headers
        preflight = client.options(path, headers={**origin, "Access-Control-Request-Method": "GET"})
        assert preflight.status_code == 403
        assert "access-control-allow-origin" not in preflight.headers


@pytest.mark.parametrize("name", ["nope.js", "..%2Fmodal.js", "index.html", "%00", "a" * 5000])
def test_an_unknown_asset_is_a_json_404(client: TestClient, name: str) -> None:
    answer = client.get(f"/_mock/ui/assets/{name}")
    assert answer.status_code == 404
    assert answer.json()["message"].startswith("No dashboard asset")


def test_head_and_other_methods(client: TestClient) -> None:
    head = client.head("/_mock/ui")
    assert head.status_code == 200 and head.content == b""
    post = client.post("/_mock/ui", headers={"Content-Type": "application/json"}, content=b"{}")
    assert post.status_code in (404, 405) and "message" in post.json()


def test_the_fault_forms_connection_faults_are_the_control_apis() -> None:
    """controls.js lists them for its select: the same names, so that none is missing or refused."""
    text = dashboard.ASSETS["controls.js"][0].decode()
    listed = re.search(r"const CONNECTION_FAULTS = \[([^\]]*)\]", text)
    assert listed is not None
    assert tuple(re.findall(r'"([A-Z_]+)"', listed.group(1))) == CONNECTION_FAULTS
