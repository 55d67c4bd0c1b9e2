"""Request targets as SDKs send them, over real sockets: raw UTF-8 and Latin-1 ids, the proxy's absolute form."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from alloy_mock.http.request_line import VENDOR_HOSTS
from alloy_mock.testing.server import BackgroundServer

from .rawhttp import Answer, RawConnection, assert_refused

KEY = b"Authorization: Bearer alloy-mock-dev-key\r\n"
ZOE = "zoë@example.com"


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    with BackgroundServer() as background:
        yield background


@pytest.fixture(scope="module")
def zoe(server: BackgroundServer) -> str:
    """The userId of zoë@example.com, created with a JSON body in UTF-8."""
    response = httpx.post(
        f"{server.url}/2023-12/users", json={"username": ZOE}, headers={"Authorization": "Bearer alloy-mock-dev-key"}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["userId"])


def exchange(server: BackgroundServer, line: bytes, headers: bytes = KEY) -> Answer:
    """One request (`line` is the request line without its CRLF) and its answer."""
    with RawConnection(server.url) as connection:
        answer = connection.send(line + b"\r\n" + headers + b"\r\n").answer()
    assert answer is not None, f"no answer to {line!r}"
    return answer


@pytest.mark.parametrize(
    "user",
    [
        ZOE.encode(),  # raw UTF-8, as a client that writes the bytes of its string sends it
        ZOE.encode("latin-1"),  # one byte 0xEB, as Node's HTTP client (alloy-node) sends it
        b"zo%C3%AB@example.com",  # percent-encoded, as it should be
    ],
    ids=["utf-8", "latin-1", "percent-encoded"],
)
def test_a_username_with_non_ascii_letters_in_the_path(server: BackgroundServer, zoe: str, user: bytes) -> None:
    answer = exchange(server, b"GET /2023-12/users/" + user + b" HTTP/1.1")
    assert answer.status == 200, str(answer)
    assert answer.json() == {"userId": zoe, "username": ZOE}
    token = exchange(server, b"GET /2023-12/users/" + user + b"/token HTTP/1.1")
    assert token.status == 200 and set(token.json()) == {"token"}, str(token)
    listed = exchange(server, b"GET /2023-12/integrations?userId=" + user + b" HTTP/1.1")
    assert listed.status == 200 and listed.json()["data"], str(listed)


def test_update_and_delete_by_raw_utf8_username(server: BackgroundServer) -> None:
    created = httpx.post(
        f"{server.url}/2023-12/users",
        json={"username": "jürgen"},
        headers={"Authorization": "Bearer alloy-mock-dev-key"},
    )
    user_id = created.json()["userId"]
    body = '{"fullName": "Jürgen Groß"}'.encode()
    headers = KEY + b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
    with RawConnection(server.url) as connection:
        updated = connection.send("PUT /2023-12/users/jürgen HTTP/1.1\r\n".encode() + headers + b"\r\n" + body).answer()
    assert updated is not None and updated.json() == {
        "userId": user_id,
        "username": "jürgen",
        "fullName": "Jürgen Groß",
    }
    deleted = exchange(server, "DELETE /2023-12/users/jürgen HTTP/1.1".encode())
    assert deleted.json() == {"success": True}
    assert exchange(server, "GET /2023-12/users/jürgen HTTP/1.1".encode()).status == 404


@pytest.mark.parametrize(
    "line",
    [
        b"GET /2023-12/users/\xff\xfe HTTP/1.1",  # not UTF-8
        b"GET /2023-12/users/\xc3 HTTP/1.1",  # a UTF-8 sequence cut short
        b"GET /2023-12/users/%FF%FE HTTP/1.1",  # the same, percent-encoded by the client
        "GET /2023-12/users/日本語 HTTP/1.1".encode(),
    ],
)
def test_an_unknown_non_ascii_user_is_a_json_404(server: BackgroundServer, line: bytes) -> None:
    answer = exchange(server, line)
    assert (answer.status, answer.json()) == (404, {"message": "User not found"}), str(answer)
    assert answer.headers["content-type"] == "application/json"


def test_non_ascii_bytes_elsewhere_in_the_target(server: BackgroundServer) -> None:
    answer = exchange(server, "GET /2023-12/nöwhere HTTP/1.1".encode())
    assert (answer.status, answer.json()) == (404, {"message": "No route for GET /2023-12/nöwhere"})
    answer = exchange(server, b"GET /2023-12/integrations?userId=\xff HTTP/1.1")
    assert answer.status == 404 and answer.json() == {"message": "User not found"}, str(answer)


# -- the absolute form of a request sent through a proxy ---------------------------------------------


@pytest.mark.parametrize("host", [*VENDOR_HOSTS, "EMBEDDED.runalloy.com:443"])
@pytest.mark.parametrize("scheme", ["https", "http"])
def test_a_vendor_url_through_the_proxy_is_served_as_its_path(
    server: BackgroundServer, zoe: str, host: str, scheme: str
) -> None:
    url = f"{scheme}://{host}/2023-01/users/zo%C3%AB@example.com".encode()
    answer = exchange(server, b"GET " + url + b" HTTP/1.1", KEY + b"Host: " + host.encode() + b"\r\n")
    assert answer.status == 200, str(answer)
    assert answer.json() == {"userId": zoe, "username": ZOE}


def test_the_emulators_own_address_in_absolute_form(server: BackgroundServer) -> None:
    port = server.url.rsplit(":", 1)[1]
    for authority in (f"127.0.0.1:{port}", f"localhost:{port}"):
        answer = exchange(server, f"GET http://{authority}/health HTTP/1.1".encode())
        assert answer.status == 200 and answer.json()["status"] == "ok", str(answer)


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/2023-12/users",
        "https://embedded.runalloy.com.evil.example/2023-12/users",
        "http://embedded.runalloy.com@evil.example/2023-12/users",
        "http://127.0.0.1:1/health",
    ],
)
def test_any_other_host_is_refused_this_is_not_an_open_proxy(server: BackgroundServer, url: str) -> None:
    with RawConnection(server.url) as connection:
        connection.send(f"GET {url} HTTP/1.1\r\n".encode() + KEY + b"\r\n")
        message = assert_refused(connection.answer(), 403, "alloy-mock is not a proxy")
        assert connection.closed_by_server()
    assert "embedded.runalloy.com" in message and server.url.removeprefix("http://") in message


def test_an_http_client_with_the_emulator_as_its_proxy(server: BackgroundServer, zoe: str) -> None:
    """httpx through the emulator as an HTTP proxy: http:// vendor URLs work, https:// gets the 501 advice."""
    with httpx.Client(proxy=server.url, headers={"Authorization": "Bearer alloy-mock-dev-key"}) as client:
        response = client.get("http://embedded.runalloy.com/2023-12/users/zo%C3%AB@example.com")
        assert response.status_code == 200 and response.json() == {"userId": zoe, "username": ZOE}
        assert client.get("http://example.com/").status_code == 403
        with pytest.raises(httpx.ProxyError, match="501"):
            client.get("https://embedded.runalloy.com/2023-12/users")
