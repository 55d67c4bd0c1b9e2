"""The DNS-rebinding guard: a server on loopback answers only for the hosts a local client names."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from alloy_mock.config import ConfigError, Settings
from alloy_mock.http.host_check import HostPolicy
from alloy_mock.testing.server import BackgroundServer

from .conftest import DEV
from .rawhttp import RawConnection, assert_refused, feed

ANSWERED = [
    "localhost",
    "localhost:8000",
    "LOCALHOST:8000",
    "app.localhost:3000",
    "127.0.0.1:8000",
    "127.0.0.2",
    "[::1]:8000",
    "10.1.2.3:8000",  # an IP address names no domain an attacker could re-point
    "embedded.runalloy.com",  # the vendor's hosts: through a proxy or a hosts-file entry
    "app.runalloy.com:443",
    "localhost.",
]
REFUSED = ["rebind.test", "rebind.test:8000", "127.0.0.1.rebind.test", "localhost.rebind.test", "evil", ":8000"]


@pytest.mark.parametrize("host", ANSWERED)
def test_a_loopback_server_answers_local_names_ip_addresses_and_vendor_hosts(host: str) -> None:
    assert HostPolicy("127.0.0.1").answers(host)


@pytest.mark.parametrize("host", REFUSED)
def test_a_loopback_server_refuses_other_names(host: str) -> None:
    assert not HostPolicy("127.0.0.1").answers(host)


def test_allowed_hosts_add_names_and_domains() -> None:
    policy = HostPolicy("127.0.0.1", ("alloy-mock", ".example.test"))
    for host in ("alloy-mock:8000", "example.test", "api.example.test:1"):
        assert policy.answers(host), host
    for host in ("alloy-mock.evil", "badexample.test", "rebind.test"):
        assert not policy.answers(host), host


def test_elsewhere_every_host_is_answered_unless_a_list_is_given() -> None:
    assert not HostPolicy("0.0.0.0").checks
    assert not HostPolicy("127.0.0.1", ("*",)).checks
    assert HostPolicy("0.0.0.0", ("alloy-mock",)).checks
    assert HostPolicy("::1").checks and HostPolicy("localhost").checks


def test_the_setting_is_read_and_checked() -> None:
    assert Settings.load({"allowed_hosts": "Alloy-Mock, .example.test"}, env={}).allowed_hosts == (
        "alloy-mock",
        ".example.test",
    )
    assert Settings.load({}, env={"ALLOY_MOCK_ALLOWED_HOSTS": "*"}).allowed_hosts == ("*",)
    for bad in ("alloy-mock:8000", "http://x", "a b", "ex..ample"):
        with pytest.raises(ConfigError, match=r"--allowed-hosts: .* is not a host name"):
            Settings.load({"allowed_hosts": bad}, env={})


def test_a_refused_head_never_reaches_the_app() -> None:
    reached: list[str] = []

    async def app(scope: object, receive: object, send: object) -> None:
        reached.append("called")

    fed = feed([b"POST /_mock/reset HTTP/1.1\r\nHost: rebind.test:8000\r\nContent-Length: 0\r\n\r\n"], app=app)
    assert fed.closed and b"403 Forbidden" in fed.data and b"--allowed-hosts rebind.test" in fed.data
    assert reached == []


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    with BackgroundServer() as background:
        yield background


def test_a_rebound_name_cannot_reset_or_read_the_emulator(server: BackgroundServer) -> None:
    """What a DNS-rebinding page sends: same origin to the browser, its own domain in Host."""
    users = f"{server.url}/2023-12/users"
    created = httpx.post(users, json={"username": "kept@example.com"}, headers=DEV)
    assert created.status_code == 200, created.text
    for request in (
        b"POST /_mock/reset HTTP/1.1\r\nHost: rebind.test\r\nContent-Type: application/json\r\n"
        b"Content-Length: 2\r\n\r\n{}",
        b"GET /_mock/requests HTTP/1.1\r\nHost: rebind.test\r\n\r\n",
        b"GET /2023-12/users HTTP/1.1\r\nHost: rebind.test\r\nAuthorization: Bearer alloy-mock-dev-key\r\n\r\n",
    ):
        with RawConnection(server.url) as connection:
            answer = connection.send(request).answer()
            assert_refused(answer, 403, "does not answer for the host 'rebind.test'")
            assert answer is not None and b"kept@example.com" not in answer.body
    listed = httpx.get(users, headers={**DEV, "Host": "localhost"})
    assert [u["username"] for u in listed.json()["data"]] == ["kept@example.com"]


def test_an_allowed_name_is_answered() -> None:
    with BackgroundServer(Settings(allowed_hosts=("alloy-mock",))) as named:
        answer = httpx.get(f"{named.url}/health", headers={"Host": "alloy-mock:8000"})
        assert answer.status_code == 200, answer.text


def test_the_public_url_host_is_answered() -> None:
    """The links the emulator hands out name --public-url's host, so following one must work."""
    with BackgroundServer(Settings(public_url="http://alloy.internal:8000")) as public:
        assert httpx.get(f"{public.url}/health", headers={"Host": "alloy.internal:8000"}).status_code == 200
        assert httpx.get(f"{public.url}/health", headers={"Host": "rebind.test"}).status_code == 403
