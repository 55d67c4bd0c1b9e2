"""Installs: the control API's installs, the integrations' per-user flags, install links, what a user's
deletion takes with it, and durability across a restart of a real server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from starlette.testclient import TestClient

from alloy_mock.config import Settings

from .conftest import API, DEV, PROD, ServerProcess
from .helpers import (
    NEW_CUSTOMER,
    POST_TICKETS,
    POST_WEBHOOK,
    SHOPIFY,
    SLACK,
    SLACK_WORKFLOWS,
    SYNC_CUSTOMERS,
    TO_KLAVIYO,
    assert_error,
    assert_ok,
    control_install,
    installed,
    media_type,
)

CONTROL = {"X-Alloy-Mock": "1"}  # control-API writes need it (or a JSON body)
MakeUser = Callable[..., str]
V4 = "/2024-03"
CHANNEL_BLOCK = "d7ecf691-60c8-4b53-b523-aaba8c9a190a"  # New Customer Created's Slack block
CHANNEL_REQUIRED = (
    "block 'Slack' (d7ecf691-60c8-4b53-b523-aaba8c9a190a) field 'channel' is required (workflow 'New Customer Created')"
)
TICKETS_BLOCK = "11154e91-4966-4961-8d9d-88998e0d1625"  # Post New Tickets to Slack's Slack block


@pytest.fixture
def user_id(make_user: MakeUser) -> str:
    return make_user("installs@example.com", "Install User")


def credentials(client: TestClient, user: str, headers: dict[str, str] = DEV) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = assert_ok(client.get(f"{API}/users/{user}/credentials", headers=headers))["data"]
    return data


def integration(client: TestClient, user: str, ref: str) -> dict[str, Any]:
    data: dict[str, Any] = assert_ok(client.get(f"{API}/integrations/{ref}", params={"userId": user}, headers=DEV))[
        "data"
    ]
    return data


# -- POST /_mock/installs -----------------------------------------------------------------------------


def test_control_install_answers_what_it_wrote(client: TestClient, user_id: str) -> None:
    answer = control_install(client, user_id, "Slack", workflows=["New Customer Created"], values={"channel": "#ops"})
    assert set(answer) == {"namespace", "userId", "integrationId", "data"}, answer
    assert (answer["namespace"], answer["userId"], answer["integrationId"]) == ("default.dev", user_id, SLACK)
    [item] = answer["data"]
    slack_credential = credentials(client, user_id)[0]
    assert slack_credential["type"] == "slack", "an app without a credential gets an emulated one"
    assert item == {
        "workflowId": NEW_CUSTOMER,
        "name": "New Customer Created",
        "integrationId": SLACK,
        "installedVersion": 2,
        "active": True,
        "installedAt": item["installedAt"],
        "updatedAt": item["installedAt"],
        "values": {CHANNEL_BLOCK: {"channel": "#ops"}},
        "credentialIds": {"slack": slack_credential["credentialId"]},
    }
    assert installed(client, user_id) == {NEW_CUSTOMER: item}


def test_flat_values_go_to_every_block_with_that_field(client: TestClient, user_id: str) -> None:
    answer = control_install(
        client, "installs@example.com", SLACK, values={"channel": "#ops", "mentionChannel": "false"}
    )
    assert [item["workflowId"] for item in answer["data"]] == SLACK_WORKFLOWS
    mine = installed(client, user_id)
    assert mine[NEW_CUSTOMER]["values"] == {CHANNEL_BLOCK: {"channel": "#ops"}}
    assert mine[POST_TICKETS]["values"] == {TICKETS_BLOCK: {"channel": "#ops", "mentionChannel": False}}
    assert mine[POST_WEBHOOK]["values"] == {}
    assert len({item["credentialIds"]["slack"] for item in mine.values()}) == 1, "one credential for the app"


def test_headless_form_values_are_accepted(client: TestClient, user_id: str) -> None:
    form = [{"workflowId": POST_TICKETS, "blockId": TICKETS_BLOCK, "fields": [{"name": "channel", "value": "#help"}]}]
    control_install(client, user_id, "Slack", workflows=[POST_TICKETS], values=form)
    assert installed(client, user_id)[POST_TICKETS]["values"] == {TICKETS_BLOCK: {"channel": "#help"}}


def test_an_existing_credential_is_used(client: TestClient, user_id: str) -> None:
    body = {"credential": {"type": "klaviyo", "data": {"apiKey": "pk_live_1"}}}
    klaviyo = assert_ok(client.post(f"{API}/users/{user_id}/credentials", json=body, headers=DEV))["credentialId"]
    answer = control_install(client, user_id, "Shopify", workflows=[TO_KLAVIYO], values={"listId": "L1"})
    shopify = next(c["credentialId"] for c in credentials(client, user_id) if c["type"] == "shopify")
    assert answer["data"][0]["credentialIds"] == {"shopify": shopify, "klaviyo": klaviyo}


def test_several_credentials_of_an_app_need_credential_ids(client: TestClient, user_id: str) -> None:
    ids = [
        assert_ok(
            client.post(
                f"{API}/users/{user_id}/credentials",
                json={"credential": {"type": "klaviyo", "data": {"apiKey": key}}},
                headers=DEV,
            )
        )["credentialId"]
        for key in ("pk_1", "pk_2")
    ]
    response = client.post(
        "/_mock/installs",
        json={"user": user_id, "integration": "Shopify", "workflows": [TO_KLAVIYO], "values": {"listId": "L"}},
    )
    assert_error(response, 400, "The user has 2 klaviyo credentials: say which one in credentialIds")
    assert [c["type"] for c in credentials(client, user_id)] == ["klaviyo", "klaviyo"], (
        "a refused install writes nothing"
    )
    assert installed(client, user_id) == {}
    answer = control_install(
        client, user_id, "Shopify", workflows=[TO_KLAVIYO], values={"listId": "L"}, credentialIds=[ids[1]]
    )
    assert answer["data"][0]["credentialIds"]["klaviyo"] == ids[1]


def test_install_at_a_version_and_inactive(client: TestClient, user_id: str) -> None:
    control_install(client, user_id, "Shopify", workflows=[SYNC_CUSTOMERS], version=1, active=False)
    item = installed(client, user_id)[SYNC_CUSTOMERS]
    assert (item["installedVersion"], item["active"]) == (1, False)


def test_installing_again_replaces_the_values_and_keeps_installed_at(
    client: TestClient, emulator: Any, user_id: str
) -> None:
    first = control_install(client, user_id, "Slack", workflows=[NEW_CUSTOMER], values={"channel": "#a"})["data"][0]
    emulator.clock.advance(60)
    second = control_install(client, user_id, "Slack", workflows=[NEW_CUSTOMER], values={"channel": "#b"})["data"][0]
    assert second["installedAt"] == first["installedAt"]
    assert second["updatedAt"] > first["updatedAt"]
    assert installed(client, user_id)[NEW_CUSTOMER]["values"] == {CHANNEL_BLOCK: {"channel": "#b"}}
    assert len(credentials(client, user_id)) == 1, "the emulated credential is reused"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"values": {}},
            CHANNEL_REQUIRED,
        ),
        (
            {"values": {"channel": ""}},
            CHANNEL_REQUIRED,
        ),
        (
            {"values": {"channel": 5}},
            "block 'Slack' (d7ecf691-60c8-4b53-b523-aaba8c9a190a) field 'channel' must be a string",
        ),
        (
            {"values": {"channel": "#a", "chanel": "#b"}},
            "values: no workflow being installed has a field named 'chanel'",
        ),
        (
            {"values": {"channel": "#a"}, "workflows": ["Nope"]},
            "workflow 'Nope' is not part of the integration 'Slack'",
        ),
        (
            {"values": {"channel": "#a"}, "workflows": []},
            "workflows must name at least one workflow (leave it out to install all)",
        ),
        ({"values": {"channel": "#a"}, "version": 3}, "workflow 'New Customer Created' has versions 1 to 2, not 3"),
        ({"values": {"channel": "#a"}, "version": 0}, "workflow 'New Customer Created' has versions 1 to 2, not 0"),
        ({"values": {"channel": "#a"}, "version": "1"}, "version must be a whole number"),
        ({"values": {"channel": "#a"}, "active": "yes"}, "active must be true or false"),
        (
            {"values": "channel=#a"},
            "values must be an object {field: value} or an array of {workflowId, blockId, fields}",
        ),
        (
            {"values": {"channel": "#a"}, "credentialIds": ["000000000000000000000000"]},
            "credentialIds: the user has no credential '000000000000000000000000'",
        ),
    ],
)
def test_refused_control_installs_write_nothing(
    client: TestClient, user_id: str, body: dict[str, Any], message: str
) -> None:
    response = client.post(
        "/_mock/installs", json={"user": user_id, "integration": "Slack", "workflows": [NEW_CUSTOMER], **body}
    )
    assert_error(response, 400, message)
    assert installed(client, user_id) == {}
    assert credentials(client, user_id) == []
    assert integration(client, user_id, "Slack")["installed"] is False


def test_control_install_names_the_unknown(client: TestClient, user_id: str) -> None:
    assert_error(client.post("/_mock/installs", json={"user": "nobody", "integration": "Slack"}), 404, "User not found")
    assert_error(
        client.post("/_mock/installs", json={"user": user_id, "integration": "Nope"}), 404, "Integration not found"
    )
    response = client.post("/_mock/installs", json={"user": user_id, "integration": "Slack", "namespace": "qa"})
    assert_error(response, 404, prefix="Unknown namespace 'qa'")
    assert_error(
        client.post("/_mock/installs", json={"integration": "Slack"}), 400, "user is required (a userId or username)"
    )
    assert_error(
        client.post("/_mock/installs", json={"user": user_id}),
        400,
        "integration is required (an integrationId or name)",
    )


# -- GET and DELETE /_mock/installs ---------------------------------------------------------------


def test_list_and_remove_installs(client: TestClient, user_id: str) -> None:
    control_install(client, user_id, "Slack", values={"channel": "#ops"})
    control_install(client, user_id, "Shopify", workflows=[SYNC_CUSTOMERS])
    answer = assert_ok(client.get("/_mock/installs", params={"user": "installs@example.com"}))
    assert (answer["namespace"], answer["userId"]) == ("default.dev", user_id)
    assert answer["integrations"] == sorted([SLACK, SHOPIFY])
    assert {item["workflowId"] for item in answer["data"]} == {*SLACK_WORKFLOWS, SYNC_CUSTOMERS}
    assert_ok(
        client.delete("/_mock/installs", params={"user": user_id, "integration": "Slack"}, headers=CONTROL),
        {"removed": 3},
    )
    assert list(installed(client, user_id)) == [SYNC_CUSTOMERS]
    assert integration(client, user_id, "Slack")["installed"] is False
    assert integration(client, user_id, "Shopify")["installed"] is True
    assert_ok(
        client.delete("/_mock/installs", params={"user": user_id, "integration": "Slack"}, headers=CONTROL),
        {"removed": 0},
    )
    assert_error(
        client.delete("/_mock/installs", params={"user": user_id}, headers=CONTROL),
        400,
        "integration is required (an integrationId or name)",
    )
    assert_error(client.get("/_mock/installs"), 400, "user is required (a userId or username)")


# -- integrations: per-user flags -------------------------------------------------------------------


def test_integrations_show_the_users_flags(client: TestClient, user_id: str, make_user: MakeUser) -> None:
    other = make_user("other@example.com")
    control_install(client, user_id, "Slack", workflows=[NEW_CUSTOMER], values={"channel": "#ops"})
    control_install(client, user_id, "Shopify", workflows=[SYNC_CUSTOMERS], version=1, active=False)
    slack = integration(client, user_id, "Slack")
    assert slack["installed"] is True
    by_id = {w["workflowId"]: w for w in slack["workflows"]}
    assert {k: by_id[NEW_CUSTOMER][k] for k in ("installed", "active", "installedVersion", "version")} == {
        "installed": True,
        "active": True,
        "installedVersion": 2,
        "version": 2,
    }
    assert "installedVersion" not in by_id[POST_TICKETS] and by_id[POST_TICKETS]["installed"] is False
    shopify = {w["workflowId"]: w for w in integration(client, user_id, SHOPIFY)["workflows"]}
    assert (shopify[SYNC_CUSTOMERS]["active"], shopify[SYNC_CUSTOMERS]["installedVersion"]) == (False, 1)
    listed = assert_ok(client.get(f"{API}/integrations", params={"userId": user_id}, headers=DEV))["data"]
    assert {i["app"] for i in listed if i["installed"]} == {"Slack", "Shopify"}
    assert [
        i
        for i in assert_ok(client.get(f"{API}/integrations", params={"userId": other}, headers=DEV))["data"]
        if i["installed"]
    ] == []


def test_the_integration_flag_is_kept_apart_from_its_workflows(client: TestClient, user_id: str) -> None:
    control_install(client, user_id, "Slack", workflows=[POST_WEBHOOK])
    response = client.delete(f"{API}/workflows/{POST_WEBHOOK}", params={"userId": user_id}, headers=DEV)
    assert_ok(response, {"deleted": True})
    slack = integration(client, user_id, "Slack")
    assert slack["installed"] is True, "uninstalling a workflow leaves the integration installed (as the vendor does)"
    assert not any(w["installed"] for w in slack["workflows"])


# -- install links ----------------------------------------------------------------------------------


def verify(client: TestClient, token: str) -> dict[str, Any]:
    keys = jwt.PyJWKSet.from_dict(assert_ok(client.get("/.well-known/jwks.json")))
    key = keys[jwt.get_unverified_header(token)["kid"]].key
    claims: dict[str, Any] = jwt.decode(token, key=key, algorithms=["ES256"], issuer="alloy-mock")
    return claims


def install_url(client: TestClient, user: str, ref: str, headers: dict[str, str] = DEV) -> str:
    url: str = assert_ok(client.get(f"{API}/users/{user}/integrations/{ref}/install-url", headers=headers))["url"]
    return url


@pytest.mark.parametrize("ref", [SLACK, "Slack", "slack"])
def test_install_url_points_at_the_emulators_page_with_a_token_that_verifies(
    client: TestClient, user_id: str, ref: str
) -> None:
    url = urlsplit(install_url(client, user_id, ref))
    assert (url.scheme, url.netloc, url.path) == ("http", "testserver", "/embedded-install")
    query = {key: values[0] for key, values in parse_qs(url.query).items()}
    assert set(query) == {"integrationId", "token", "forgeMode", "alwaysShowCredentials"}
    assert (query["integrationId"], query["forgeMode"], query["alwaysShowCredentials"]) == (SLACK, "engaged", "true")
    claims = verify(client, query["token"])
    assert (claims["userId"], claims["username"], claims["namespace"]) == (user_id, "installs@example.com", "dev")
    page = client.get(f"/embedded-install?{url.query}")
    assert page.status_code == 200 and media_type(page) == "text/html", page.text
    assert '<script type="module" src="/modal-assets/modal.js"' in page.text
    form = assert_ok(client.get(f"/forge-install/api/form?{url.query}"))  # what the page's script shows
    assert (form["integration"]["app"], form["user"]["username"]) == ("Slack", "installs@example.com")


def test_install_url_of_a_prod_user_carries_a_prod_token(client: TestClient, make_user: MakeUser) -> None:
    prod_user = make_user("prod@example.com", headers=PROD)
    token = parse_qs(urlsplit(install_url(client, prod_user, "Slack", headers=PROD)).query)["token"][0]
    assert verify(client, token)["namespace"] == "prod"
    assert_error(
        client.get(f"{API}/users/{prod_user}/integrations/Slack/install-url", headers=DEV), 404, "User not found"
    )


def test_install_url_unknowns(client: TestClient, user_id: str) -> None:
    assert_error(client.get(f"{API}/users/nobody/integrations/Slack/install-url", headers=DEV), 404, "User not found")
    response = client.get(f"{API}/users/{user_id}/integrations/Nope/install-url", headers=DEV)
    assert_error(response, 404, "Integration not found")
    assert_error(client.get(f"{API}/users/{user_id}/integrations/Slack/install-url"), 401, "Unauthorized")


@pytest.mark.parametrize(
    ("host", "origin"),
    [
        ("localhost:9999", "http://localhost:9999"),
        ("alloy-mock:8000", "http://alloy-mock:8000"),
        ("[::1]:8000", "http://[::1]:8000"),
        ("embedded.runalloy.com", "https://app.runalloy.com"),
        ("eu-embedded.runalloy.com", "https://eu-app.runalloy.com"),
        ("bad host/<script>", "http://testserver:80"),
    ],
)
def test_links_follow_the_host_the_caller_used(client: TestClient, user_id: str, host: str, origin: str) -> None:
    headers = {**DEV, "Host": host}
    url = assert_ok(client.get(f"{API}/users/{user_id}/integrations/Slack/install-url", headers=headers))["url"]
    assert url.startswith(f"{origin}/embedded-install?"), url
    oauth = assert_ok(client.get(f"{API}/users/{user_id}/credentials/slack", headers=headers))["oauthUrl"]
    assert oauth.startswith(f"{origin}/oauth/slack/authorize?"), oauth


@pytest.mark.parametrize("settings", [Settings(public_url="https://mock.example:8443/alloy")], ids=["public-url"])
def test_public_url_wins_over_the_host(client: TestClient, user_id: str) -> None:
    headers = {**DEV, "Host": "localhost:9999"}
    url = assert_ok(client.get(f"{API}/users/{user_id}/integrations/Slack/install-url", headers=headers))["url"]
    assert url.startswith("https://mock.example:8443/alloy/embedded-install?integrationId="), url
    oauth = assert_ok(
        client.get(f"{V4}/headless/oauthUrl", params={"userId": user_id, "app": "hubspot"}, headers=headers)
    )
    assert oauth["oauthUrl"].startswith("https://mock.example:8443/alloy/oauth/hubspot/authorize?"), oauth


def test_public_url_of_a_real_server_from_flag_and_environment(serve: Callable[..., ServerProcess]) -> None:
    for args, env in [
        (("--public-url", "http://alloy-mock:8000/"), None),
        ((), {"ALLOY_MOCK_PUBLIC_URL": "http://svc:1"}),
    ]:
        server = serve(*args, "--db", ":memory:", env=env)
        with server.client() as http:
            assert http.post(f"{API}/users", json={"username": "pub"}, headers=DEV).status_code == 200
            url = http.get(f"{API}/users/pub/integrations/Slack/install-url", headers=DEV).json()["url"]
        expected = "http://alloy-mock:8000" if env is None else "http://svc:1"
        assert url.startswith(f"{expected}/embedded-install?"), url
        server.stop()
    server = serve("--db", ":memory:")
    with server.client() as http:
        http.post(f"{API}/users", json={"username": "pub"}, headers=DEV)
        url = http.get(f"{API}/users/pub/integrations/Slack/install-url", headers=DEV).json()["url"]
    assert url.startswith(f"{server.base_url}/embedded-install?"), (url, server.base_url)


@pytest.mark.parametrize("kind", ["expired", "wrong-key", "unknown-kid", "deleted-user", "garbage", "missing"])
def test_install_page_refuses_bad_tokens(client: TestClient, user_id: str, make_user: MakeUser, kind: str) -> None:
    if kind in ("expired", "wrong-key", "unknown-kid"):
        options = {"expired": True} if kind == "expired" else {"signature": kind}
        token = assert_ok(client.post("/_mock/tokens", json={"user": user_id, **options}))["token"]
    elif kind == "deleted-user":
        doomed = make_user("doomed@example.com")
        token = parse_qs(urlsplit(install_url(client, doomed, "Slack")).query)["token"][0]
        assert_ok(client.delete(f"{API}/users/{doomed}", headers=DEV))
    else:
        token = "not.a.token" if kind == "garbage" else ""
    page = client.get("/embedded-install", params={"integrationId": SLACK, "token": token})
    assert page.status_code == 401 and media_type(page) == "text/html", page.text
    assert "Link not valid" in page.text


# -- deleting a user --------------------------------------------------------------------------------


def test_deleting_a_user_removes_its_installs_credentials_and_pending_installations(
    client: TestClient, make_user: MakeUser
) -> None:
    doomed, keeper = make_user("doomed@example.com"), make_user("keeper@example.com")
    started = {}
    for user in (doomed, keeper):
        control_install(client, user, "Slack", values={"channel": "#ops"})
        body = {"credential": {"type": "stripe", "data": {"apiKey": "sk_1"}}}
        assert_ok(client.post(f"{API}/users/{user}/credentials", json=body, headers=DEV))
        start = client.post(
            f"{V4}/headless/startInstallation",
            json={"userId": user, "integrationId": "Slack", "workflowIds": [POST_WEBHOOK]},
            headers=DEV,
        )
        started[user] = assert_ok(start)["installationId"]
    keeper_before = (installed(client, keeper), credentials(client, keeper))
    assert_ok(client.delete(f"{API}/users/{doomed}", headers=DEV), {"success": True})

    assert_error(client.get("/_mock/installs", params={"user": doomed}), 404, "User not found")
    assert_error(
        client.get(f"{API}/workflows/{NEW_CUSTOMER}/users", params={"userId": doomed}, headers=DEV),
        404,
        "User not found",
    )
    users = assert_ok(client.get(f"{API}/workflows/{NEW_CUSTOMER}/users", headers=DEV))["data"]
    assert [u["userId"] for u in users] == [keeper]
    complete = {"installationId": started[doomed], "data": []}
    assert_error(
        client.post(f"{V4}/headless/completeInstallation", json=complete, headers=DEV), 404, "Installation not found"
    )
    # A new user of the same name starts empty.
    again = make_user("doomed@example.com")
    assert installed(client, again) == {} and credentials(client, again) == []
    assert integration(client, again, "Slack")["installed"] is False
    # The other user keeps everything, pending installation included.
    assert (installed(client, keeper), credentials(client, keeper)) == keeper_before
    complete = {"installationId": started[keeper], "data": []}
    assert_ok(client.post(f"{V4}/headless/completeInstallation", json=complete, headers=DEV))


# -- durability -------------------------------------------------------------------------------------


def test_state_made_through_the_api_survives_a_restart(serve: Callable[..., ServerProcess]) -> None:
    server = serve()
    with server.client() as http:
        user = http.post(f"{API}/users", json={"username": "durable@example.com"}, headers=DEV).json()["userId"]
        assert (
            http.post(
                "/_mock/installs", json={"user": user, "integration": "Slack", "values": {"channel": "#ops"}}
            ).status_code
            == 200
        )
        assert (
            http.put(
                f"{API}/workflows/deactivate", json={"userId": user, "workflowId": POST_TICKETS}, headers=DEV
            ).status_code
            == 200
        )
        body = {"credential": {"type": "klaviyo", "data": {"apiKey": "pk_1"}}}
        credential = http.post(f"{API}/users/{user}/credentials", json=body, headers=DEV).json()["credentialId"]
        start = {"userId": user, "integrationId": "Shopify", "workflowIds": [TO_KLAVIYO]}
        installation = http.post(f"{V4}/headless/startInstallation", json=start, headers=DEV)
        assert installation.status_code == 400, "no shopify credential yet"
        oauth = http.get(
            f"{API}/users/{user}/credentials/shopify", params={"shopSubdomain": "shoes"}, headers=DEV
        ).json()["oauthUrl"]
        approved = http.get(oauth.replace(server.base_url, "") + "&approve=true", follow_redirects=True)
        assert approved.status_code == 200 and approved.url.path == "/oauth/done", approved
        installation_id = http.post(f"{V4}/headless/startInstallation", json=start, headers=DEV).json()[
            "installationId"
        ]
        before = {
            "workflows": http.get(f"{API}/workflows", params={"userId": user}, headers=DEV).json(),
            "integrations": http.get(f"{API}/integrations", params={"userId": user}, headers=DEV).json(),
            "credentials": http.get(f"{API}/users/{user}/credentials", headers=DEV).json(),
            "installs": http.get("/_mock/installs", params={"user": user}).json(),
        }
    assert server.stop() == 0
    assert [c["type"] for c in before["credentials"]["data"]] == ["slack", "klaviyo", "shopify"]
    assert credential in {c["credentialId"] for c in before["credentials"]["data"]}

    server = serve()
    with server.client() as http:
        after = {
            "workflows": http.get(f"{API}/workflows", params={"userId": user}, headers=DEV).json(),
            "integrations": http.get(f"{API}/integrations", params={"userId": user}, headers=DEV).json(),
            "credentials": http.get(f"{API}/users/{user}/credentials", headers=DEV).json(),
            "installs": http.get("/_mock/installs", params={"user": user}).json(),
        }
        assert after == before
        form = [
            {
                "workflowId": TO_KLAVIYO,
                "blockId": "d3e4f5a6-b7c8-4d9e-8f0a-1b2c3d4e5f60",
                "fields": [{"name": "listId", "value": "L1"}],
            }
        ]
        done = http.post(
            f"{V4}/headless/completeInstallation", json={"installationId": installation_id, "data": form}, headers=DEV
        )
        assert done.json() == {"message": "Installation completed successfully"}
        assert (
            http.get(f"{API}/workflows/{TO_KLAVIYO}", params={"userId": user}, headers=DEV).json()["data"]["installed"]
            is True
        )
