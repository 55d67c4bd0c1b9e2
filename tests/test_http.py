"""HTTP behaviour: version prefixes, slashes, routing errors, API keys, bodies; every error is JSON."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from alloy_mock.config import DEFAULT_DEV_KEY, DEFAULT_PROD_KEY, Settings

from .conftest import API, DEV, PROD
from .helpers import assert_error, assert_ok, show

MakeUser = Callable[..., str]
VERSIONS = ["2023-01", "2023-06", "2023-12", "2024-03"]
JSON = {"Content-Type": "application/json"}
SMALL_LIMIT = Settings(max_body_bytes=1024)


# -- helpers --------------------------------------------------------------------------------------


def request(client: TestClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """A request that never follows a redirect (the emulator must not send any)."""
    response = client.request(method, url, follow_redirects=False, **kwargs)
    assert not response.is_redirect, show(response)
    return response


def user_count(client: TestClient, headers: dict[str, str] = DEV) -> int:
    return len(assert_ok(client.get(f"{API}/users", headers=headers))["data"])


# -- version prefixes -----------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_every_version_prefix_serves_the_routes(client: TestClient, version: str) -> None:
    base = f"/{version}"
    user_id = assert_ok(request(client, "POST", f"{base}/users", json={"username": f"v-{version}"}, headers=DEV))[
        "userId"
    ]
    expected = {"userId": user_id, "username": f"v-{version}"}
    assert_ok(request(client, "GET", f"{base}/users/{user_id}", headers=DEV), expected)
    assert_ok(request(client, "GET", f"{base}/users/v-{version}", headers=DEV), expected)
    assert expected in assert_ok(request(client, "GET", f"{base}/users", headers=DEV))["data"]
    assert_ok(request(client, "PUT", f"{base}/users/{user_id}", json={"fullName": "V"}, headers=DEV))
    assert set(assert_ok(request(client, "GET", f"{base}/users/{user_id}/token", headers=DEV))) == {"token"}
    assert set(assert_ok(request(client, "GET", f"{base}/user/{user_id}/token", headers=DEV))) == {"token"}
    batch = {"users": [{"username": f"b-{version}"}]}
    assert_ok(
        request(client, "POST", f"{base}/users/batch", json=batch, headers=DEV),
        {"message": "success", "invalidUsers": []},
    )
    integrations = assert_ok(request(client, "GET", f"{base}/integrations", params={"userId": user_id}, headers=DEV))
    first = integrations["data"][0]
    assert_ok(
        request(
            client, "GET", f"{base}/integrations/{first['integrationId']}", params={"userId": user_id}, headers=DEV
        ),
        {"data": first},
    )
    assert_ok(request(client, "DELETE", f"{base}/users/{user_id}", headers=DEV), {"success": True})


def test_versions_share_the_data(client: TestClient, make_user: MakeUser) -> None:
    user_id = make_user("shared-across-versions")
    for version in VERSIONS:
        response = request(client, "GET", f"/{version}/users/{user_id}", headers=DEV)
        assert_ok(response, {"userId": user_id, "username": "shared-across-versions"})


@pytest.mark.parametrize("version", ["2022-12", "2024-07", "2025-09"])
def test_unknown_version_is_404_naming_the_versions_served(client: TestClient, version: str) -> None:
    response = request(client, "GET", f"/{version}/users", headers=DEV)
    served = "2023-01, 2023-06, 2023-12, 2024-03"
    assert_error(response, 404, f"Unknown API version '{version}': alloy-mock serves {served}")


@pytest.mark.parametrize("prefix", ["v1", "2023-12x", "2023-1", "2023-12-01", "latest"])
def test_a_prefix_that_is_no_version_is_404(client: TestClient, prefix: str) -> None:
    response = request(client, "GET", f"/{prefix}/users", headers=DEV)
    assert_error(response, 404, f"No route for GET /{prefix}/users")


@pytest.mark.parametrize("path", ["/2023-12", "/2023-12/", "/2024-03", "/2024-03//", "//2023-01/"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_version_root_is_a_json_404_not_a_redirect(client: TestClient, path: str, method: str) -> None:
    response = client.request(method, f"http://testserver{path}", headers=DEV, follow_redirects=False)
    assert "location" not in response.headers, show(response)
    assert_error(response, 404)


# -- slashes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "/2023-12/users/",
        "/2023-12//users",
        "//2023-12/users",
        "/2023-12/users//",
        "///2024-03///users///",
        "/2024-03//users/",
    ],
)
def test_list_with_extra_slashes(client: TestClient, make_user: MakeUser, template: str) -> None:
    user_id = make_user("slashes")
    response = request(client, "GET", f"http://testserver{template}", headers=DEV)
    assert_ok(response, {"data": [{"userId": user_id, "username": "slashes"}]})


@pytest.mark.parametrize("path", ["/2024-03/users/", "/2024-03//users", "//2024-03//users//"])
def test_create_with_extra_slashes(client: TestClient, path: str) -> None:
    """The generated 2024-03 SDK posts to `/2024-03//users/`."""
    response = request(client, "POST", f"http://testserver{path}", json={"username": "sdk"}, headers=DEV)
    assert set(assert_ok(response)) == {"userId"}
    assert user_count(client) == 1


@pytest.mark.parametrize(
    ("method", "template"),
    [
        ("GET", "/2023-12/users/{id}/"),
        ("GET", "/2023-12//users//{id}"),
        ("PUT", "/2023-12/users/{id}/"),
        ("GET", "/2024-03//users/{id}/token"),
        ("GET", "/2024-03//users/{id}//token/"),
        ("GET", "/2023-12/user/{id}/token/"),
        ("GET", "/2023-12/integrations/?userId={id}"),
        ("GET", "/2023-12//integrations//Shopify/?userId={id}"),
        ("POST", "/2023-12/users/batch/"),
        ("POST", "/2023-12//users//batch"),
        ("DELETE", "/2023-12/users/{id}//"),
    ],
)
def test_routes_with_extra_slashes(client: TestClient, make_user: MakeUser, method: str, template: str) -> None:
    user_id = make_user("slashy")
    body = {"users": [{"username": "from-batch"}]} if "batch" in template else {"fullName": "S"}
    kwargs: dict[str, Any] = {"json": body} if method in ("PUT", "POST") else {}
    response = request(client, method, "http://testserver" + template.format(id=user_id), headers=DEV, **kwargs)
    assert_ok(response)


def test_encoded_slash_stays_inside_the_segment(client: TestClient, make_user: MakeUser) -> None:
    make_user("a")
    slash_id = make_user("a/token")
    # /users/a%2Ftoken is the user "a/token", not the token of user "a".
    assert_ok(
        request(client, "GET", f"{API}/users/a%2Ftoken", headers=DEV), {"userId": slash_id, "username": "a/token"}
    )
    assert_ok(request(client, "GET", f"{API}/users/a%2Ftoken/token", headers=DEV))


# -- unknown routes and methods ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/nothing",
        "/2023-12/nothing",
        "/2023-12/users/x/y/z",
        "/2023-12/users/x/token/extra",
        "/2023-12/integrations/Shopify/extra",
        "/.well-known/other",
        "/health/extra",
        "/2023-12%2Fusers",
    ],
)
def test_unknown_route_is_a_json_404(client: TestClient, path: str) -> None:
    response = request(client, "GET", path, headers=DEV)
    assert_error(response, 404, prefix="No route for GET ")


def test_unknown_route_message(client: TestClient) -> None:
    assert_error(request(client, "GET", "/nothing//here/", headers=DEV), 404, "No route for GET /nothing/here")
    assert_error(request(client, "POST", "/2023-12/nope", headers=DEV), 404, "No route for POST /2023-12/nope")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PATCH", "/2023-12/users", {"GET", "POST"}),
        ("PUT", "/2023-12/users", {"GET", "POST"}),
        ("DELETE", "/2023-12/users", {"GET", "POST"}),
        ("OPTIONS", "/2023-12/users", {"GET", "POST"}),
        ("PATCH", "/2023-12/users/someone", {"GET", "PUT", "DELETE"}),
        ("POST", "/2023-12/users/someone", {"GET", "PUT", "DELETE"}),
        ("POST", "/2023-12/users/someone/token", {"GET"}),
        ("DELETE", "/2023-12/user/someone/token", {"GET"}),
        ("POST", "/2023-12/integrations", {"GET"}),
        ("DELETE", "/2023-12/integrations/Shopify", {"GET"}),
        ("POST", "/health", {"GET"}),
        ("DELETE", "/.well-known/jwks.json", {"GET"}),
    ],
)
def test_wrong_method_is_a_json_405_with_allow(client: TestClient, method: str, path: str, allowed: set[str]) -> None:
    response = request(client, method, path, headers=DEV)
    assert_error(response, 405, f"Method {method} is not allowed on {path}")
    assert "allow" in response.headers, show(response)
    listed = {part.strip().upper() for part in response.headers["allow"].split(",")}
    assert listed - {"HEAD"} == allowed, f"Allow: {response.headers['allow']!r}, expected {sorted(allowed)}"


# -- API keys -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        f"Bearer {DEFAULT_DEV_KEY}",
        f"bearer {DEFAULT_DEV_KEY}",
        f"BEARER {DEFAULT_DEV_KEY}",
        f"BeArEr {DEFAULT_DEV_KEY}",
        f"Bearer   {DEFAULT_DEV_KEY}  ",
        f"  Bearer {DEFAULT_DEV_KEY}",
        DEFAULT_DEV_KEY,
        f" {DEFAULT_DEV_KEY} ",
    ],
)
def test_accepted_authorization_forms(client: TestClient, make_user: MakeUser, value: str) -> None:
    user_id = make_user("keyed", headers=DEV)
    make_user("prod-only", headers=PROD)
    response = request(client, "GET", f"{API}/users", headers={"Authorization": value})
    assert_ok(response, {"data": [{"userId": user_id, "username": "keyed"}]})


@pytest.mark.parametrize("value", [f"Bearer {DEFAULT_PROD_KEY}", f"bearer {DEFAULT_PROD_KEY}", DEFAULT_PROD_KEY])
def test_prod_key_forms(client: TestClient, make_user: MakeUser, value: str) -> None:
    make_user("dev-only", headers=DEV)
    prod_id = make_user("prod-user", headers=PROD)
    response = request(client, "GET", f"{API}/users", headers={"Authorization": value})
    assert_ok(response, {"data": [{"userId": prod_id, "username": "prod-user"}]})


PROTECTED = [
    ("GET", "/users"),
    ("POST", "/users"),
    ("POST", "/users/batch"),
    ("GET", "/users/{id}"),
    ("PUT", "/users/{id}"),
    ("DELETE", "/users/{id}"),
    ("GET", "/users/{id}/token"),
    ("GET", "/user/{id}/token"),
    ("GET", "/integrations?userId={id}"),
    ("GET", "/integrations/Shopify?userId={id}"),
]


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        " ",
        "Bearer",
        "Bearer ",
        "Bearer wrong-key",
        f"Basic {DEFAULT_DEV_KEY}",
        f"Token {DEFAULT_DEV_KEY}",
        f"Bearer:{DEFAULT_DEV_KEY}",
        f"{DEFAULT_DEV_KEY} extra",
        f"Bearer {DEFAULT_DEV_KEY}x",
        f"Bearer {DEFAULT_DEV_KEY.upper()}",
        f"Bearer {DEFAULT_DEV_KEY[:-1]}",
        f"Bearer Bearer {DEFAULT_DEV_KEY}",
    ],
)
@pytest.mark.parametrize(("method", "template"), PROTECTED)
def test_missing_or_unknown_key_is_401(
    client: TestClient, make_user: MakeUser, method: str, template: str, value: str | None
) -> None:
    user_id = make_user("protected")
    headers = {} if value is None else {"Authorization": value}
    kwargs: dict[str, Any] = {"json": {"username": "intruder"}} if method in ("POST", "PUT") else {}
    response = request(client, method, API + template.format(id=user_id), headers=headers, **kwargs)
    assert_error(response, 401, "Unauthorized")
    assert response.json() == {"message": "Unauthorized"}
    assert user_count(client) == 1
    assert_ok(
        request(client, "GET", f"{API}/users/{user_id}", headers=DEV), {"userId": user_id, "username": "protected"}
    )


def test_non_ascii_authorization_is_401(client: TestClient) -> None:
    response = request(client, "GET", f"{API}/users", headers={"Authorization": b"Bearer \xff\xfe"})  # type: ignore[dict-item]
    assert_error(response, 401, "Unauthorized")


@pytest.mark.parametrize(
    "body", [b"{", b"not json", b"[1]", b"", b"x" * 5000], ids=["brace", "text", "array", "empty", "5000-bytes"]
)
@pytest.mark.parametrize("path", ["/users", "/users/batch"])
def test_key_is_checked_before_the_body(client: TestClient, path: str, body: bytes) -> None:
    assert_error(request(client, "POST", API + path, content=body, headers=JSON), 401, "Unauthorized")


@pytest.mark.parametrize("path", ["/health", "/.well-known/jwks.json", "/"])
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, DEV], ids=["no-key", "bad-key", "dev-key"])
def test_health_jwks_and_index_need_no_key(client: TestClient, path: str, headers: dict[str, str]) -> None:
    assert_ok(request(client, "GET", path, headers=headers))


def test_health_body(client: TestClient) -> None:
    body = assert_ok(request(client, "GET", "/health"))
    assert body["status"] == "ok", body
    assert body["apiVersions"] == VERSIONS, body


def test_jwks_body(client: TestClient) -> None:
    body = assert_ok(request(client, "GET", "/.well-known/jwks.json"))
    assert set(body) == {"keys"} and len(body["keys"]) >= 1, body


# -- JSON bodies ----------------------------------------------------------------------------------

BODY_ROUTES = [("POST", "/users"), ("PUT", "/users/{id}"), ("POST", "/users/batch")]
OBJECT_ROUTES = [("POST", "/users"), ("PUT", "/users/{id}")]


@pytest.fixture
def target(client: TestClient, make_user: MakeUser) -> Callable[[str], str]:
    """Format a route template with an existing user's id."""
    user_id = make_user("target", "Target")

    def fill(template: str) -> str:
        return API + template.format(id=user_id)

    return fill


def assert_unchanged(client: TestClient) -> None:
    """Only the `target` user exists, unchanged."""
    users = assert_ok(client.get(f"{API}/users", headers=DEV))["data"]
    assert [(u["username"], u.get("fullName")) for u in users] == [("target", "Target")], users


MALFORMED = [
    pytest.param(b"{", id="open-brace"),
    pytest.param(b"}", id="close-brace"),
    pytest.param(b'{"username": }', id="missing-value"),
    pytest.param(b'{"username": "x",}', id="trailing-comma"),
    pytest.param(b"{'username': 'x'}", id="single-quotes"),
    pytest.param(b'{username: "x"}', id="bare-key"),
    pytest.param(b'{"username": "x"', id="unclosed"),
    pytest.param(b'{"username": "x"} trailing', id="trailing-text"),
    pytest.param(b"{}{}", id="two-documents"),
    pytest.param(b'{"username": "x"}\x00', id="trailing-nul"),
    pytest.param(b"NaN", id="nan"),
    pytest.param(b"Infinity", id="infinity"),
    pytest.param(b"undefined", id="undefined"),
    pytest.param(b'{"username": 1e400}', id="float-overflow"),
    pytest.param(b'{"username": 0x10}', id="hex-number"),
    pytest.param(b'{"username": "unterminated}', id="unterminated-string"),
    pytest.param(b'{"username": "bad \\x escape"}', id="bad-escape"),
    pytest.param(b'{"username": "raw \x01 control"}', id="raw-control-char"),
    pytest.param(b"\x00", id="nul"),
]


@pytest.mark.parametrize("body", MALFORMED)
@pytest.mark.parametrize(("method", "template"), BODY_ROUTES)
def test_malformed_json_is_400(
    client: TestClient, target: Callable[[str], str], method: str, template: str, body: bytes
) -> None:
    response = request(client, method, target(template), content=body, headers={**DEV, **JSON})
    assert_error(response, 400, prefix="Malformed JSON body")
    assert_unchanged(client)


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"[]", "an array"),
        (b'[{"username": "x"}]', "an array"),
        (b'"x"', "a string"),
        (b'""', "a string"),
        (b"1", "a number"),
        (b"-0", "a number"),
        (b"1.5e3", "a number"),
        (b"null", "null"),
        (b"true", "a boolean"),
        (b"false", "a boolean"),
    ],
    ids=["empty-array", "array", "string", "empty-string", "int", "minus-zero", "float", "null", "true", "false"],
)
@pytest.mark.parametrize(("method", "template"), OBJECT_ROUTES)
def test_non_object_json_is_400(
    client: TestClient, target: Callable[[str], str], method: str, template: str, body: bytes, kind: str
) -> None:
    response = request(client, method, target(template), content=body, headers={**DEV, **JSON})
    assert_error(response, 400, f"The JSON body must be an object, not {kind}")
    assert_unchanged(client)


@pytest.mark.parametrize("body", [b"", b" ", b"\n", b"\r\n\t "], ids=["empty", "space", "newline", "mixed"])
@pytest.mark.parametrize("headers", [{}, JSON], ids=["no-content-type", "json"])
def test_empty_body_means_no_username(client: TestClient, body: bytes, headers: dict[str, str]) -> None:
    response = request(client, "POST", f"{API}/users", content=body, headers={**DEV, **headers})
    assert_error(response, 400, "username is required")
    assert user_count(client) == 0


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "application/xml",
        "application/octet-stream",
        "application/jsonx",
    ],
)
@pytest.mark.parametrize(("method", "template"), BODY_ROUTES)
def test_wrong_content_type_is_415(
    client: TestClient, target: Callable[[str], str], method: str, template: str, content_type: str
) -> None:
    body = b'{"username": "new", "users": [{"username": "new"}]}'
    response = request(client, method, target(template), content=body, headers={**DEV, "Content-Type": content_type})
    media = content_type.split(";")[0]
    assert_error(response, 415, f"Content-Type must be application/json, not {media}")
    assert_unchanged(client)


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "application/json",
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        "Application/JSON",
        "application/vnd.api+json",
        "application/merge-patch+json",
    ],
)
def test_json_content_types_are_accepted(client: TestClient, content_type: str | None) -> None:
    headers = {**DEV} if content_type is None else {**DEV, "Content-Type": content_type}
    response = request(client, "POST", f"{API}/users", content=b'{"username": "typed"}', headers=headers)
    assert set(assert_ok(response)) == {"userId"}


def test_content_type_is_not_needed_without_a_body(client: TestClient, make_user: MakeUser) -> None:
    user_id = make_user("bodyless")
    for method in ("GET", "DELETE"):
        response = request(client, method, f"{API}/users/{user_id}", headers={**DEV, "Content-Type": "text/plain"})
        assert_ok(response)


def test_accept_header_is_ignored(client: TestClient, make_user: MakeUser) -> None:
    user_id = make_user("accepting")
    for accept in ("*/*", "text/html", "application/xml", "application/json"):
        response = request(client, "GET", f"{API}/users/{user_id}", headers={**DEV, "Accept": accept})
        assert_ok(response, {"userId": user_id, "username": "accepting"})


# -- body size ------------------------------------------------------------------------------------


def padded_user_body(size: int) -> bytes:
    """A valid create-user body of exactly `size` bytes."""
    head, tail = b'{"username": "padded", "fullName": "', b'"}'
    body = head + b"p" * (size - len(head) - len(tail)) + tail
    assert len(body) == size
    return body


def chunks(body: bytes, size: int = 100) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize("settings", [SMALL_LIMIT], ids=["limit-1024"])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize(("method", "template"), BODY_ROUTES)
def test_oversized_body_is_413(
    client: TestClient, target: Callable[[str], str], method: str, template: str, chunked: bool
) -> None:
    body = padded_user_body(1025)
    content: Any = chunks(body) if chunked else body
    response = request(client, method, target(template), content=content, headers={**DEV, **JSON})
    assert_error(response, 413, "Request body is larger than 1024 bytes")
    assert_unchanged(client)


@pytest.mark.parametrize("settings", [SMALL_LIMIT], ids=["limit-1024"])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_body_at_the_limit_is_accepted(client: TestClient, chunked: bool) -> None:
    body = padded_user_body(1024)
    content: Any = chunks(body, 7) if chunked else body
    response = request(client, "POST", f"{API}/users", content=content, headers={**DEV, **JSON})
    assert set(assert_ok(response)) == {"userId"}


@pytest.mark.parametrize("settings", [SMALL_LIMIT], ids=["limit-1024"])
def test_huge_chunked_body_is_413(client: TestClient) -> None:
    def endless() -> Iterator[bytes]:
        yield b'{"username": "'
        for _ in range(10_000):
            yield b"z" * 1000

    response = request(client, "POST", f"{API}/users", content=endless(), headers={**DEV, **JSON})
    assert_error(response, 413, "Request body is larger than 1024 bytes")
    assert user_count(client) == 0


@pytest.mark.parametrize("settings", [SMALL_LIMIT], ids=["limit-1024"])
def test_oversized_malformed_body_is_still_413(client: TestClient) -> None:
    response = request(client, "POST", f"{API}/users", content=b"{" * 2000, headers={**DEV, **JSON})
    assert_error(response, 413, "Request body is larger than 1024 bytes")


def test_default_limit_is_2_mib(client: TestClient) -> None:
    limit = 2 * 1024 * 1024
    response = request(client, "POST", f"{API}/users", content=padded_user_body(limit + 1), headers={**DEV, **JSON})
    assert_error(response, 413, f"Request body is larger than {limit} bytes")
    # Just under: not a size error (the fullName is too long, which is a 400).
    response = request(client, "POST", f"{API}/users", content=padded_user_body(limit), headers={**DEV, **JSON})
    assert_error(response, 400, "fullName must be at most 1024 characters")


# -- text encoding --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"username": "\xff"}', id="ff"),
        pytest.param(b'{"username": "\xfe\xff"}', id="fe-ff"),
        pytest.param(b'{"username": "a\x80b"}', id="lone-continuation"),
        pytest.param(b'{"username": "\xc0\xaf"}', id="overlong-2"),
        pytest.param(b'{"username": "\xe0\x80\xaf"}', id="overlong-3"),
        pytest.param(b'{"username": "\xed\xa0\x80"}', id="cesu-surrogate"),
        pytest.param(b'{"username": "\xf4\x90\x80\x80"}', id="above-10ffff"),
        pytest.param(b'{"username": "\xe2\x82"}', id="truncated"),
        pytest.param(b'\xff\xfe{\x00"\x00}\x00', id="utf16le-bom"),
        pytest.param(b'{"username": "ok", "fullName": "caf\xe9"}', id="latin1"),
    ],
)
@pytest.mark.parametrize(("method", "template"), BODY_ROUTES)
def test_invalid_utf8_is_400(
    client: TestClient, target: Callable[[str], str], method: str, template: str, body: bytes
) -> None:
    if template.endswith("batch"):
        body = b'{"users": [' + body + b"]}"
    response = request(client, method, target(template), content=body, headers={**DEV, **JSON})
    assert_error(response, 400, prefix="Malformed JSON body")
    assert_unchanged(client)


@pytest.mark.parametrize(
    "escape",
    [
        "\\ud800",
        "\\udfff",
        "\\udc00\\ud800",  # low before high
        "\\ud83d\\u0041",  # high followed by a non-surrogate escape
        "\\ud83dx",
        "x\\ud83d",
        "\\uDBFF",
    ],
)
@pytest.mark.parametrize(("method", "template"), BODY_ROUTES)
def test_lone_surrogate_escapes_are_400(
    client: TestClient, target: Callable[[str], str], method: str, template: str, escape: str
) -> None:
    item = f'{{"username": "{escape}"}}'
    body = f'{{"users": [{item}]}}' if template.endswith("batch") else item
    response = request(client, method, target(template), content=body.encode(), headers={**DEV, **JSON})
    assert_error(response, 400, prefix="Malformed JSON body")
    assert_unchanged(client)


def test_surrogate_pair_escape_is_fine(client: TestClient) -> None:
    response = request(
        client, "POST", f"{API}/users", content=b'{"username": "\\ud83d\\ude42"}', headers={**DEV, **JSON}
    )
    user_id = assert_ok(response)["userId"]
    assert_ok(
        request(client, "GET", f"{API}/users/%F0%9F%99%82", headers=DEV), {"userId": user_id, "username": "\U0001f642"}
    )


@pytest.mark.parametrize(
    "path", ["/users/%ED%A0%80", "/users/%FF%FE", "/users/%C0%AF", "/users/%ZZ", "/users/%", "/users/%E2%82"]
)
def test_invalid_percent_encoding_in_path_is_a_json_404(client: TestClient, path: str) -> None:
    assert_error(request(client, "GET", API + path, headers=DEV), 404, "User not found")


@pytest.mark.parametrize("query", ["userId=%ED%A0%80", "userId=%FF", "userId=%", "userId=%ZZ"])
def test_invalid_percent_encoding_in_query_is_a_json_404(client: TestClient, query: str) -> None:
    assert_error(request(client, "GET", f"{API}/integrations?{query}", headers=DEV), 404, "User not found")


# -- deep nesting ---------------------------------------------------------------------------------

DEPTH = 100_000
DEEP_BODIES = [
    pytest.param(b"[" * DEPTH + b"]" * DEPTH, id="arrays"),
    pytest.param(b'{"a":' * DEPTH + b"1" + b"}" * DEPTH, id="objects"),
    pytest.param(b'{"username":' + b"[" * DEPTH + b"]" * DEPTH + b"}", id="username-value"),
    pytest.param(b'{"users":' + b"[" * DEPTH + b"]" * DEPTH + b"}", id="users-value"),
    pytest.param(b"[" * DEPTH, id="unclosed"),
]


@pytest.mark.parametrize("body", DEEP_BODIES)
@pytest.mark.parametrize(("method", "template"), BODY_ROUTES)
def test_deeply_nested_json_is_400(
    client: TestClient, target: Callable[[str], str], method: str, template: str, body: bytes
) -> None:
    response = request(client, method, target(template), content=body, headers={**DEV, **JSON})
    assert_error(response, 400, prefix="Malformed JSON body")
    assert_unchanged(client)


def test_deeply_nested_batch_string_is_400(client: TestClient) -> None:
    users = "[" * DEPTH + "]" * DEPTH
    response = request(client, "POST", f"{API}/users/batch", json={"users": users}, headers=DEV)
    assert_error(response, 400, prefix="users must be an array, or a string holding a JSON array")
    assert user_count(client) == 0


def test_moderate_nesting_is_a_validation_error(client: TestClient) -> None:
    body = b'{"username":' + b"[" * 100 + b"]" * 100 + b"}"
    response = request(client, "POST", f"{API}/users", content=body, headers={**DEV, **JSON})
    assert_error(response, 400, "username must be a string")


# -- every response is JSON -----------------------------------------------------------------------


def test_success_responses_are_json_objects(client: TestClient, make_user: MakeUser) -> None:
    user_id = make_user("json")
    for method, path in [
        ("GET", "/users"),
        ("GET", f"/users/{user_id}"),
        ("PUT", f"/users/{user_id}"),
        ("GET", f"/users/{user_id}/token"),
        ("GET", f"/integrations?userId={user_id}"),
        ("GET", f"/integrations/Shopify?userId={user_id}"),
        ("DELETE", f"/users/{user_id}"),
    ]:
        assert_ok(request(client, method, API + path, headers=DEV))


def test_head_is_served_for_get_routes(client: TestClient, make_user: MakeUser) -> None:
    user_id = make_user("head")
    response = request(client, "HEAD", f"{API}/users/{user_id}", headers=DEV)
    assert response.status_code == 200, show(response)
    assert response.content == b"", show(response)
