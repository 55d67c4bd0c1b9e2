"""OAuth links per version, and the emulator's consent page they lead to: allow, deny, the redirects, the
default page, and links whose token is no good (which change nothing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from starlette.testclient import TestClient

from alloy_mock.emulator import Emulator

from .conftest import API, DEV, PROD
from .helpers import assert_error, assert_ok, media_type

MakeUser = Callable[..., str]
V4 = "/2024-03"
HTML_USER = "<script>alert('x')</script>@example.com"


@pytest.fixture
def user_id(make_user: MakeUser) -> str:
    return make_user(HTML_USER)


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def oauth_link(client: TestClient, user: str, app: str, version: str = API, **params: str) -> str:
    """The OAuth link of a version's endpoint, as a path on the test server."""
    if version == V4:
        answer = assert_ok(
            client.get(f"{V4}/headless/oauthUrl", params={"userId": user, "app": app, **params}, headers=DEV)
        )
        assert set(answer) == {"oauthUrl"}, answer
    else:
        answer = assert_ok(client.get(f"{version}/users/{user}/credentials/{app}", params=params, headers=DEV))
        assert set(answer) == {"redirectUrl", "oauthUrl"} and answer["redirectUrl"] == answer["oauthUrl"], answer
    url: str = answer["oauthUrl"]
    assert url.startswith("http://testserver/"), url
    return url.removeprefix("http://testserver")


def credentials(client: TestClient, user: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = assert_ok(client.get(f"{API}/users/{user}/credentials", headers=DEV))["data"]
    return data


def assert_html(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert media_type(response) == "text/html", response.headers
    return response.text


# -- the links ------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["/2023-01", "/2023-06", "/2023-12", V4])
def test_oauth_link_of_every_version(client: TestClient, user_id: str, version: str) -> None:
    params = {
        "integrationId": "64108c73d3e467ca351b6de3",
        "redirectUri": "https://isv.example/done?x=1",
        "state": "st-1",
    }
    link = oauth_link(client, user_id, "shopify", version, shopSubdomain="shoes", **params)
    assert urlsplit(link).path == "/oauth/shopify/authorize"
    query = query_of(link)
    assert query == {**params, "shopSubdomain": "shoes", "token": query["token"]}
    keys = jwt.PyJWKSet.from_dict(assert_ok(client.get("/.well-known/jwks.json")))
    claims = jwt.decode(
        query["token"], key=keys[jwt.get_unverified_header(query["token"])["kid"]].key, algorithms=["ES256"]
    )
    assert (claims["userId"], claims["namespace"]) == (user_id, "dev")


def test_2024_03_also_takes_credential_name(client: TestClient, user_id: str) -> None:
    answer = assert_ok(
        client.get(f"{V4}/headless/oauthUrl", params={"userId": user_id, "credentialName": "hubspot"}, headers=DEV)
    )
    assert urlsplit(answer["oauthUrl"]).path == "/oauth/hubspot/authorize"


def test_the_2024_03_path_of_a_credential_only_deletes(client: TestClient, user_id: str) -> None:
    response = client.get(f"{V4}/users/{user_id}/credentials/hubspot", headers=DEV)
    assert_error(response, 405, f"Method GET is not allowed on {V4}/users/{user_id}/credentials/hubspot")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"app": "klaviyo"}, "klaviyo does not use OAuth: create its credential with its properties instead (apiKey)"),
        ({"app": "nope"}, None),
        (
            {"app": "hubspot", "redirectUri": "ftp://isv.example/"},
            "redirectUri must be an http(s) URL of at most 2048 characters",
        ),
        (
            {"app": "hubspot", "redirectUri": "/relative"},
            "redirectUri must be an http(s) URL of at most 2048 characters",
        ),
        (
            {"app": "hubspot", "redirectUri": "javascript:alert(1)"},
            "redirectUri must be an http(s) URL of at most 2048 characters",
        ),
        (
            {"app": "hubspot", "redirectUri": "https://x.example/" + "a" * 2048},
            "redirectUri must be an http(s) URL of at most 2048 characters",
        ),
        ({}, "app is required (the name of an OAuth app, such as 'hubspot')"),
    ],
)
def test_bad_link_requests_are_400(
    client: TestClient, user_id: str, params: dict[str, str], message: str | None
) -> None:
    response = client.get(f"{V4}/headless/oauthUrl", params={"userId": user_id, **params}, headers=DEV)
    assert_error(response, 400, message, prefix=None if message else "Unknown app 'nope'")
    if "app" in params:
        old = client.get(
            f"{API}/users/{user_id}/credentials/{params['app']}",
            params={k: v for k, v in params.items() if k != "app"},
            headers=DEV,
        )
        assert_error(old, 400, message, prefix=None if message else "Unknown app 'nope'")


def test_link_needs_a_known_user_of_the_namespace(client: TestClient, user_id: str) -> None:
    assert_error(
        client.get(f"{V4}/headless/oauthUrl", params={"app": "hubspot"}, headers=DEV), 400, "userId is required"
    )
    for headers, user in ((DEV, "nobody"), (PROD, user_id)):
        response = client.get(f"{V4}/headless/oauthUrl", params={"userId": user, "app": "hubspot"}, headers=headers)
        assert_error(response, 404, "User not found")
        assert_error(client.get(f"{API}/users/{user}/credentials/hubspot", headers=headers), 404, "User not found")


# -- the consent page -------------------------------------------------------------------------------


def test_consent_page_shows_a_form_with_everything_escaped(client: TestClient, user_id: str) -> None:
    link = oauth_link(client, user_id, "hubspot", state="<b>\"'&")
    html = assert_html(client.get(link), 200)
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;@example.com" in html
    assert "<b>" not in html
    assert '<form method="post" action="/oauth/hubspot/authorize?' in html
    assert 'name="decision" value="approve"' in html and 'name="decision" value="deny"' in html
    assert credentials(client, user_id) == [], "showing the page stores nothing"


@pytest.mark.parametrize("how", ["form", "query"])
def test_allowing_stores_a_credential_and_redirects_with_its_id(
    client: TestClient, emulator: Emulator, user_id: str, how: str
) -> None:
    link = oauth_link(
        client, user_id, "shopify", shopSubdomain="shoes", redirectUri="https://isv.example/cb?keep=1", state="s-42"
    )
    if how == "form":
        response = client.post(link, data={"decision": "approve"}, follow_redirects=False)
    else:
        response = client.get(f"{link}&approve=true", follow_redirects=False)
    assert response.status_code == 303, response.text
    location = urlsplit(response.headers["location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "isv.example", "/cb")
    [stored] = credentials(client, user_id)
    assert query_of(response.headers["location"]) == {
        "keep": "1",
        "app": "shopify",
        "state": "s-42",
        "credentialId": stored["credentialId"],
    }
    assert stored["type"] == "shopify"
    credential = emulator.credentials.find(emulator.namespace_named("dev"), user_id, stored["credentialId"])
    assert credential is not None and credential.emulated, "marked as made by the emulator"
    assert credential.data["shopSubdomain"] == "shoes"
    assert credential.data["accessToken"].startswith("emulated-")


@pytest.mark.parametrize("how", ["form", "query"])
def test_denying_redirects_with_an_error_and_stores_nothing(client: TestClient, user_id: str, how: str) -> None:
    link = oauth_link(client, user_id, "slack", redirectUri="http://localhost:3000/oauth", state="s")
    if how == "form":
        response = client.post(link, data={"decision": "deny"}, follow_redirects=False)
    else:
        response = client.get(f"{link}&approve=false", follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "http://localhost:3000/oauth?app=slack&state=s&error=access_denied"
    assert credentials(client, user_id) == []


def test_without_redirect_uri_the_browser_lands_on_the_done_page(client: TestClient, user_id: str) -> None:
    link = oauth_link(client, user_id, "hubspot")
    allowed = client.get(f"{link}&approve=true", follow_redirects=False)
    assert allowed.status_code == 303 and allowed.headers["location"].startswith(
        "/oauth/done?app=hubspot&credentialId="
    )
    html = assert_html(client.get(allowed.headers["location"]), 200)
    [stored] = credentials(client, user_id)
    assert f'<code data-testid="credential-id">{stored["credentialId"]}</code>' in html
    assert "The hubspot credential was stored" in html
    denied = client.post(link, data={"decision": "deny"}, follow_redirects=True)
    assert "Access to hubspot was denied." in assert_html(denied, 200)
    assert len(credentials(client, user_id)) == 1


def test_done_page_escapes_its_parameters(client: TestClient) -> None:
    html = assert_html(
        client.get("/oauth/done", params={"app": "<img src=x>", "credentialId": "<script>1</script>"}), 200
    )
    assert "<img" not in html and "<script>1" not in html and "&lt;img src=x&gt;" in html


@pytest.mark.parametrize(
    ("how", "value"),
    [("form", "maybe"), ("form", ""), ("form", "APPROVE"), ("query", "yes"), ("query", "1"), ("query", "")],
)
def test_an_unknown_decision_is_refused(client: TestClient, user_id: str, how: str, value: str) -> None:
    link = oauth_link(client, user_id, "hubspot")
    if how == "form":
        response = client.post(link, data={"decision": value}, follow_redirects=False)
    else:
        response = client.get(f"{link}&approve={value}", follow_redirects=False)
    assert "Unknown decision" in assert_html(response, 400)
    assert credentials(client, user_id) == []


def test_a_form_that_is_too_large_is_refused(client: TestClient, user_id: str) -> None:
    link = oauth_link(client, user_id, "hubspot")
    response = client.post(
        link,
        content=b"decision=approve&pad=" + b"x" * 20000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert "Request too large" in assert_html(response, 413)
    assert credentials(client, user_id) == []


@pytest.mark.parametrize("app", ["klaviyo", "nope"])
def test_a_page_for_an_app_without_oauth_is_refused(client: TestClient, user_id: str, app: str) -> None:
    token = query_of(oauth_link(client, user_id, "hubspot"))["token"]
    response = client.get(f"/oauth/{app}/authorize", params={"token": token, "approve": "true"}, follow_redirects=False)
    assert "Not an OAuth app" in assert_html(response, 400)
    assert credentials(client, user_id) == []


BAD_LINKS = ["expired", "wrong-key", "unknown-kid", "none", "garbage", "missing", "deleted-user"]


@pytest.mark.parametrize("kind", BAD_LINKS)
@pytest.mark.parametrize("action", ["show", "form-approve", "query-approve"])
def test_a_link_whose_token_is_no_good_changes_nothing(
    client: TestClient, user_id: str, make_user: MakeUser, kind: str, action: str
) -> None:
    link = oauth_link(client, user_id, "hubspot", redirectUri="https://isv.example/cb")
    if kind == "expired":  # the link's own token, once the emulator's clock has passed its expiry
        assert_ok(client.post("/_mock/clock/advance", json={"seconds": 1801}))
    elif kind == "deleted-user":
        doomed = make_user("doomed@example.com")
        link = oauth_link(client, doomed, "hubspot", redirectUri="https://isv.example/cb")
        assert_ok(client.delete(f"{API}/users/{doomed}", headers=DEV))
    else:
        if kind in ("wrong-key", "unknown-kid", "none"):
            token = assert_ok(client.post("/_mock/tokens", json={"user": user_id, "signature": kind}))["token"]
        else:
            token = "x.y.z" if kind == "garbage" else ""
        link = f"/oauth/hubspot/authorize?token={token}&redirectUri=https://isv.example/cb"
    if action == "show":
        response = client.get(link, follow_redirects=False)
    elif action == "form-approve":
        response = client.post(link, data={"decision": "approve"}, follow_redirects=False)
    else:
        response = client.get(f"{link}&approve=true", follow_redirects=False)
    assert "Link not valid" in assert_html(response, 401)
    assert "location" not in response.headers
    assert credentials(client, user_id) == []
