"""The hosted modal without a browser: its pages' answers, the unencoded query strings alloy-frontend sends,
and the JSON endpoints behind the pages (what they install, what they refuse, and that a refusal writes nothing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from alloy_mock.http.modal import ASSETS, CSP

from .conftest import API, DEV
from .helpers import SLACK, assert_error, assert_ok, media_type

MakeUser = Callable[..., str]
WOOCOMMERCE = "65a4ff33aecd6cdbacce6e55"
ORDER_STATUS = "65a500f64ef3d1864d8c58a0"  # required boolean markAsCompleted
NEW_CUSTOMER = "65e5cf43a6597c674e4a449f"  # optional select role (end-user, agent, admin)
NEW_CUSTOMER_SLACK = "647889654bc0db7c550c256d"  # required channel
WOO_DATA = {"consumerKey": "ck", "consumerSecret": "cs", "url": "https://shop.example.com"}


@pytest.fixture
def user_id(make_user: MakeUser) -> str:
    return make_user("modal@example.com")


@pytest.fixture
def token(client: TestClient, user_id: str) -> str:
    minted: str = assert_ok(client.post("/_mock/tokens", json={"user": user_id}))["token"]
    return minted


def form(client: TestClient, query: str) -> dict[str, Any]:
    found: dict[str, Any] = assert_ok(client.get(f"/forge-install/api/form?{query}"))
    return found


def block_of(form_answer: dict[str, Any], workflow_id: str, field: str) -> str:
    workflow = next(w for w in form_answer["workflows"] if w["workflowId"] == workflow_id)
    block: str = next(f["blockId"] for f in workflow["fields"] if f["name"] == field)
    return block


def install(client: TestClient, token: str, body: Any, **kwargs: Any) -> Any:
    return client.post("/forge-install/api/install", json=body, headers={"x-alloy-user-token": token}, **kwargs)


def nothing_written(client: TestClient, user_id: str) -> None:
    assert assert_ok(client.get(f"{API}/users/{user_id}/credentials", headers=DEV))["data"] == []
    workflows = assert_ok(client.get(f"{API}/workflows", params={"userId": user_id}, headers=DEV))["data"]
    assert [w["workflowId"] for w in workflows if w["installed"]] == []


def woo_body(client: TestClient, token: str, **changes: Any) -> dict[str, Any]:
    shown = form(client, f"integrationId={WOOCOMMERCE}&token={token}&forgeMode=engaged")
    status_block = block_of(shown, ORDER_STATUS, "markAsCompleted")
    role_block = block_of(shown, NEW_CUSTOMER, "role")
    body = {
        **shown["params"],
        "credentials": {"wooCommerce": {"data": dict(WOO_DATA)}},
        "values": {
            ORDER_STATUS: {status_block: {"markAsCompleted": True}},
            NEW_CUSTOMER: {role_block: {"role": "agent"}},
        },
    }
    body.update(changes)
    return body


# -- pages ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/forge-install", "/embedded-install"])
def test_a_page_with_a_good_token_is_the_static_modal_with_a_strict_csp(
    client: TestClient, token: str, path: str
) -> None:
    page = client.get(f"{path}?integrationId={WOOCOMMERCE}&token={token}&forgeMode=engaged")
    assert page.status_code == 200 and media_type(page) == "text/html", page.text
    assert page.content == ASSETS["modal.html"][0]
    assert page.headers["content-security-policy"] == CSP and "default-src 'self'" in CSP


@pytest.mark.parametrize("kind", ["missing", "garbage", "expired", "wrong-key", "deleted-user"])
def test_a_bad_token_gets_the_error_page_without_an_install_button(
    client: TestClient, make_user: MakeUser, user_id: str, kind: str
) -> None:
    if kind in ("expired", "wrong-key"):
        options = {"expired": True} if kind == "expired" else {"signature": "wrong-key"}
        bad = assert_ok(client.post("/_mock/tokens", json={"user": user_id, **options}))["token"]
    elif kind == "deleted-user":
        doomed = make_user("doomed@example.com")
        bad = assert_ok(client.post("/_mock/tokens", json={"user": doomed}))["token"]
        assert_ok(client.delete(f"{API}/users/{doomed}", headers=DEV))
    else:
        bad = "not.a.token" if kind == "garbage" else ""
    for path in ("/forge-install", "/embedded-install", "/authenticate-app"):
        page = client.get(f"{path}?integrationId={WOOCOMMERCE}&app=klaviyo&token={bad}&forgeMode=engaged")
        assert page.status_code == 401 and media_type(page) == "text/html", page.text
        assert "Link not valid" in page.text and "modal-install" not in page.text and "modal.js" not in page.text
    assert_error(client.get(f"/forge-install/api/form?integrationId={WOOCOMMERCE}&token={bad}"), 401, "Unauthorized")
    assert_error(install(client, bad, {"integrationId": WOOCOMMERCE}), 401, "Unauthorized")
    nothing_written(client, user_id)


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("integrationId=nope", 404, "Integration not found"),
        ("id=undefined", 400, "The modal needs an integrationId or workflow ids"),  # alloy-frontend given neither
        (f"integrationId={SLACK}&operation=delete", 400, "operation must be edit or update"),
        (f"id={ORDER_STATUS}&id={NEW_CUSTOMER_SLACK}", 400, "different integrations"),
    ],
)
def test_a_page_naming_nothing_to_install_says_so(
    client: TestClient, token: str, query: str, status: int, message: str
) -> None:
    page = client.get(f"/forge-install?{query}&token={token}&forgeMode=engaged")
    assert page.status_code == status and message in page.text and "modal-install" not in page.text
    answer = client.get(f"/forge-install/api/form?{query}&token={token}")
    assert answer.status_code == status and message in answer.json()["message"]


def test_assets_are_served_and_nothing_else(client: TestClient) -> None:
    for name in (
        "modal.css",
        "modal.js",
        "modal-dom.js",
        "modal-fields.js",
        "page-error.js",
        "oauth-return.html",
        "oauth-return.js",
    ):
        answer = client.get(f"/modal-assets/{name}")
        assert answer.status_code == 200 and answer.content == ASSETS[name][0], name
    assert_error(client.get("/modal-assets/embedded.js.map"), 404)
    assert_error(client.get("/modal-assets/..%2Fhttp%2Fmodal.py"), 404)
    script = client.get("/scripts/embedded.js", headers={"Origin": "http://shop.example"})
    assert script.status_code == 200 and media_type(script) == "text/javascript"
    assert script.headers["access-control-allow-origin"] == "*"
    assert "window.Alloy" in script.text


def test_no_page_asset_loads_anything_from_another_host() -> None:
    """CI machines are offline: the pages name no CDN, font or script elsewhere (icons show an initial)."""
    for name, (body, _) in ASSETS.items():
        text = body.decode()
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, name


# -- the unencoded query string ---------------------------------------------------------------------------


def test_the_form_reads_alloy_frontends_unencoded_query(client: TestClient, token: str) -> None:
    """preFilledValues is raw JSON holding '&', '=', '?' and a '#' (which the page re-encodes as %23), the title
    has spaces and an '&'; the version id is the bug value alloy-frontend sends (the workflow ids)."""
    prefilled = '[{"name":"channel","value":"%23sales&team=a?b"},{"name":"nope","value":1}]'
    query = (
        f"integrationId={SLACK}&versionId=undefined&preFilledValues={prefilled}&token={token}&forgeMode=engaged"
        '&hide=true&title=Connect Slack & more&outputOverride=[{"a":"b&c"}]'
    )
    shown = form(client, query)
    assert shown["title"] == "Connect Slack & more" and shown["hide"] is True
    channel = next(f for f in shown["workflows"][0]["fields"] if f["name"] == "channel")
    assert channel["value"] == "#sales&team=a?b"
    assert any("no field named 'nope'" in n for n in shown["notices"])
    assert any("versionId 'undefined'" in n for n in shown["notices"])
    assert any(n.startswith("outputOverride is read but not applied") for n in shown["notices"])
    assert [a["app"] for a in shown["apps"]] == ["slack"]
    assert shown["user"] == {"userId": shown["user"]["userId"], "username": "modal@example.com"}


def test_the_form_of_an_edit_shows_the_install_values_and_credential(
    client: TestClient, user_id: str, token: str
) -> None:
    assert_ok(
        client.post("/_mock/installs", json={"user": user_id, "integration": "Slack", "values": {"channel": "#a"}})
    )
    shown = form(
        client,
        f'integrationId={SLACK}&token={token}&operation=edit&preFilledValues=[{{"name":"channel","value":"#b"}}]',
    )
    assert shown["operation"] == "edit" and all(w["installed"] for w in shown["workflows"])
    channels = [f["value"] for w in shown["workflows"] for f in w["fields"] if f["name"] == "channel"]
    assert channels == ["#a", "#a"]  # the install's values win over pre-filled ones
    (slack,) = shown["apps"]
    assert slack["selected"] == slack["credentials"][0]["credentialId"]


# -- installing ---------------------------------------------------------------------------------------------


def test_install_creates_the_typed_credential_and_the_installation(
    client: TestClient, user_id: str, token: str
) -> None:
    answer = assert_ok(install(client, token, woo_body(client, token)))
    assert answer["workflowIds"] == [ORDER_STATUS, NEW_CUSTOMER]
    (credential,) = assert_ok(client.get(f"{API}/users/{user_id}/credentials", headers=DEV))["data"]
    assert answer["credentialIds"] == {"wooCommerce": credential["credentialId"]}
    installs = {i["workflowId"]: i for i in assert_ok(client.get("/_mock/installs", params={"user": user_id}))["data"]}
    assert [v for b in installs[NEW_CUSTOMER]["values"].values() for v in b.values()] == ["agent"]
    assert all(i["active"] for i in installs.values())


def test_every_field_and_credential_problem_is_reported_at_once_and_nothing_is_written(
    client: TestClient, user_id: str, token: str
) -> None:
    body = woo_body(client, token)
    status_block = next(iter(body["values"][ORDER_STATUS]))
    role_block = next(iter(body["values"][NEW_CUSTOMER]))
    body["values"] = {ORDER_STATUS: {status_block: {}}, NEW_CUSTOMER: {role_block: {"role": "boss", "ghost": "x"}}}
    body["credentials"] = {"wooCommerce": {"data": {"consumerKey": "ck", "url": "", "extra": "x"}}}
    answer = install(client, token, body)
    assert answer.status_code == 400, answer.text
    where = {tuple(p["where"]) for p in answer.json()["problems"]}
    assert ("values", ORDER_STATUS, status_block, "markAsCompleted") in where
    assert ("values", NEW_CUSTOMER, role_block, "role") in where
    assert ("values", NEW_CUSTOMER, role_block, "ghost") in where
    assert ("credentials", "wooCommerce", "consumerSecret") in where
    assert ("credentials", "wooCommerce", "url") in where
    assert answer.json()["message"] == answer.json()["problems"][0]["message"]
    assert "cs" not in answer.text.replace("consumerSecret", "")  # values are never quoted back
    nothing_written(client, user_id)


def test_a_credential_id_of_another_user_is_refused(
    client: TestClient, make_user: MakeUser, token: str, user_id: str
) -> None:
    other = make_user("other@example.com")
    created = assert_ok(
        client.post(
            f"{API}/users/{other}/credentials",
            json={"credential": {"type": "wooCommerce", "data": WOO_DATA}},
            headers=DEV,
        )
    )
    body = woo_body(client, token, credentials={"wooCommerce": {"credentialId": created["credentialId"]}})
    answer = install(client, token, body)
    assert answer.status_code == 400 and answer.json()["problems"][0]["where"] == ["credentials", "wooCommerce"]
    nothing_written(client, user_id)


NASTY_BODIES = [
    pytest.param([], "must be an object", id="array-body"),
    pytest.param({"values": []}, "values must be an object", id="values-array"),
    pytest.param({"values": {ORDER_STATUS: "x"}}, "must be an object", id="values-workflow-string"),
    pytest.param({"values": {ORDER_STATUS: {"b": ["x"]}}}, "must be an object", id="values-block-array"),
    pytest.param({"credentials": {"wooCommerce": "secret"}}, "must be an object", id="credential-string"),
    pytest.param({"credentials": {"wooCommerce": {"credentialId": 7}}}, "credentialId", id="credential-id-number"),
    pytest.param({"credentials": {"wooCommerce": {"data": {}, "credentialId": "x"}}}, "credentialId", id="both"),
    pytest.param({"workflowIds": "abc"}, "workflowIds must be an array", id="workflow-ids-string"),
    pytest.param({"workflowIds": ["x"] * 201}, "at most 200", id="workflow-ids-huge"),
    pytest.param({"versionIds": [1]}, "versionIds must be an array", id="version-ids-numbers"),
    pytest.param({"integrationId": 5}, "must be strings", id="integration-number"),
    pytest.param({"operation": "destroy"}, "operation must be edit or update", id="operation"),
    pytest.param({"userId": "someone-else"}, "Unknown keys: userId", id="unknown-key"),
    pytest.param({"values": {f"w{i}": {} for i in range(201)}}, "more than 200", id="values-huge"),
]


@pytest.mark.parametrize(("change", "message"), NASTY_BODIES)
def test_nasty_install_bodies_get_a_json_400_and_write_nothing(
    client: TestClient, user_id: str, token: str, change: Any, message: str
) -> None:
    body = change if isinstance(change, list) else woo_body(client, token, **change)
    answer = install(client, token, body)
    assert answer.status_code == 400 and media_type(answer) == "application/json", answer.text
    assert message in answer.json()["message"], answer.text
    nothing_written(client, user_id)


def test_install_bodies_that_are_not_json(client: TestClient, user_id: str, token: str) -> None:
    headers = {"x-alloy-user-token": token}
    assert_error(
        client.post("/forge-install/api/install", content=b"{nope", headers=headers), 400, prefix="Malformed JSON"
    )
    form_headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
    assert_error(client.post("/forge-install/api/install", content=b"a=b", headers=form_headers), 415)
    huge = b'{"values": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    assert client.post("/forge-install/api/install", content=huge, headers=headers).status_code == 413
    nothing_written(client, user_id)


# -- authenticate-app -----------------------------------------------------------------------------------


def test_connect_creates_a_credential_of_the_app(client: TestClient, user_id: str, token: str) -> None:
    shown = assert_ok(client.get(f"/authenticate-app/api/form?token={token}&forgeMode=engaged&app=klaviyo"))
    assert shown["app"]["app"] == "klaviyo" and shown["app"]["credentials"] == []
    headers = {"x-alloy-user-token": token}
    refused = client.post("/authenticate-app/api/connect", json={"app": "klaviyo", "data": {}}, headers=headers)
    assert refused.status_code == 400 and refused.json()["problems"][0]["where"] == ["credentials", "klaviyo", "apiKey"]
    nothing_written(client, user_id)
    made = assert_ok(
        client.post("/authenticate-app/api/connect", json={"app": "klaviyo", "data": {"apiKey": "pk"}}, headers=headers)
    )
    (credential,) = assert_ok(client.get(f"{API}/users/{user_id}/credentials", headers=DEV))["data"]
    assert made == {"credentialId": credential["credentialId"], "app": "klaviyo"}
    again = {"app": "klaviyo", "credentialId": credential["credentialId"]}
    assert assert_ok(client.post("/authenticate-app/api/connect", json=again, headers=headers)) == made


def test_authenticate_without_an_app_takes_the_integrations_first_app(client: TestClient, token: str) -> None:
    shown = assert_ok(client.get(f"/authenticate-app/api/form?token={token}&integrationId={WOOCOMMERCE}"))
    assert shown["app"]["app"] == "wooCommerce"
    assert_error(client.get(f"/authenticate-app/api/form?token={token}&app=nope"), 400, prefix="Unknown app")
    assert_error(client.get(f"/authenticate-app/api/form?token={token}"), 400, prefix="The page needs an app")


# -- edit and update ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("operation", "version", "active"), [("edit", 1, False), ("update", 2, True)])
def test_edit_keeps_the_installed_version_and_flag_update_installs_the_latest(
    client: TestClient, user_id: str, token: str, operation: str, version: int, active: bool
) -> None:
    """New Customer Created has 2 versions; installed at 1 and deactivated, then edited or updated in the modal."""
    body = {"user": user_id, "integration": "Slack", "workflows": [NEW_CUSTOMER_SLACK], "values": {"channel": "#a"}}
    assert_ok(client.post("/_mock/installs", json={**body, "version": 1, "active": False}))
    shown = form(client, f"id={NEW_CUSTOMER_SLACK}&token={token}&operation={operation}")
    (workflow,) = shown["workflows"]
    assert (workflow["version"], workflow["installed"], workflow["fields"][0]["value"]) == (version, True, "#a")
    block = workflow["fields"][0]["blockId"]
    values = {NEW_CUSTOMER_SLACK: {block: {"channel": "#b"}}}
    assert_ok(install(client, token, {**shown["params"], "credentials": {}, "values": values}))
    (item,) = assert_ok(client.get("/_mock/installs", params={"user": user_id}))["data"]
    assert (item["installedVersion"], item["active"]) == (version, active)
    assert item["values"] == {block: {"channel": "#b"}}


def test_a_version_id_installs_that_version(client: TestClient, user_id: str, token: str) -> None:
    first_version = "64788cd39a204800508141fa"  # version 1 of New Customer Created (2 versions)
    shown = form(client, f"id={NEW_CUSTOMER_SLACK}&versionId={first_version}&token={token}&forgeMode=engaged")
    assert shown["params"]["versionIds"] == [first_version] and shown["workflows"][0]["version"] == 1
    block = shown["workflows"][0]["fields"][0]["blockId"]
    body = {**shown["params"], "credentials": {}, "values": {NEW_CUSTOMER_SLACK: {block: {"channel": "#v1"}}}}
    refused = install(client, token, body)  # the user has no Slack credential (an OAuth app): connect one first
    assert refused.status_code == 400 and refused.json()["problems"][0]["where"] == ["credentials", "slack"]
    connected = client.get(f"/oauth/slack/authorize?token={token}&approve=true", follow_redirects=False)
    assert connected.status_code == 303, connected.text
    (credential,) = assert_ok(client.get(f"{API}/users/{user_id}/credentials", headers=DEV))["data"]
    assert_ok(install(client, token, {**body, "credentials": {"slack": {"credentialId": credential["credentialId"]}}}))
    (item,) = assert_ok(client.get("/_mock/installs", params={"user": user_id}))["data"]
    assert item["installedVersion"] == 1


def test_pre_filled_values_in_the_headless_form_apply_to_their_workflow_only(client: TestClient, token: str) -> None:
    prefilled = f'[{{"workflowId":"{NEW_CUSTOMER_SLACK}","fields":[{{"name":"channel","value":"%23only-here"}}]}}]'
    shown = form(client, f"integrationId={SLACK}&preFilledValues={prefilled}&token={token}")
    channels = {
        w["workflowId"]: [f["value"] for f in w["fields"] if f["name"] == "channel"] for w in shown["workflows"]
    }
    assert channels == {
        NEW_CUSTOMER_SLACK: ["#only-here"],
        "650889ceb5b31c2e2dcf5d6e": [None],
        "65c35815dbed9eb70f7c73f2": [],
    }
