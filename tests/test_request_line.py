"""http/request_line.py: request lines as SDKs send them, made into ones the parser takes, or refused."""

from __future__ import annotations

import pytest

from alloy_mock.http.request_line import (
    VENDOR_HOSTS,
    Refusal,
    origin_form,
    own_address,
    own_names,
    percent_encode,
    rewrite,
)

OWN = own_names("127.0.0.1", 8000)


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("/users/zoë@example.com".encode(), b"/users/zo%C3%AB@example.com"),  # raw UTF-8
        (b"/users/zo\xeb@example.com", b"/users/zo%C3%AB@example.com"),  # Latin-1, as Node's HTTP client sends it
        ("/users/日本?q=ü".encode(), b"/users/%E6%97%A5%E6%9C%AC?q=%C3%BC"),
        (b"/users/\xff\xfe", b"/users/%C3%BF%C3%BE"),  # not UTF-8: read as Latin-1
        (b"/a%20b/\xc3\xab", b"/a%20b/%C3%AB"),  # what was already encoded stays as it was
    ],
)
def test_non_ascii_bytes_are_percent_encoded_as_utf8(raw: bytes, encoded: bytes) -> None:
    assert percent_encode(raw) == encoded


def test_rewrite_keeps_method_and_version_and_ascii_untouched() -> None:
    assert rewrite("PUT /users/zoë HTTP/1.1".encode(), OWN) == b"PUT /users/zo%C3%AB HTTP/1.1"
    assert rewrite(b"GET  /a  HTTP/1.1", OWN) == b"GET /a HTTP/1.1"  # extra spaces, which llhttp accepts
    # Lines the parser must judge are left alone: no target, or non-ASCII outside the target.
    for line in (b"GET", b"GET /", "GËT /a HTTP/1.1".encode()):
        assert rewrite(line, OWN) == line


@pytest.mark.parametrize("host", VENDOR_HOSTS)
@pytest.mark.parametrize("scheme", ["https", "http", "HTTPS"])
def test_absolute_form_for_a_vendor_host_becomes_its_path(host: str, scheme: str) -> None:
    target = f"{scheme}://{host}/2023-01/users?userId=abc".encode()
    assert origin_form(target, OWN) == b"/2023-01/users?userId=abc"
    assert origin_form(f"{scheme}://{host.upper()}:443/2024-03/x".encode(), OWN) == b"/2024-03/x"


@pytest.mark.parametrize(
    ("target", "path"),
    [
        (b"https://embedded.runalloy.com", b"/"),
        (b"https://embedded.runalloy.com?x=1", b"/?x=1"),
        (b"http://user:pw@embedded.runalloy.com/a", b"/a"),
        (b"http://127.0.0.1:8000/health", b"/health"),
        (b"http://localhost:8000/health", b"/health"),
    ],
)
def test_absolute_form_edge_cases(target: bytes, path: bytes) -> None:
    assert origin_form(target, OWN) == path


@pytest.mark.parametrize(
    "target",
    [
        b"http://example.com/2023-12/users",
        b"https://embedded.runalloy.com.evil.example/",  # a vendor host as a prefix only
        b"https://evil.example/embedded.runalloy.com",
        b"http://embedded.runalloy.com@evil.example/",  # a vendor host as the user name
        b"http://127.0.0.1:9/health",  # the emulator's address with another port
        b"http://127.0.0.1/health",  # ... or none (port 80)
        b"http://[::1]:8000/",
    ],
)
def test_absolute_form_for_any_other_host_is_refused(target: bytes) -> None:
    with pytest.raises(Refusal) as refused:
        rewrite(b"GET " + target + b" HTTP/1.1", OWN)
    assert refused.value.status == 403
    assert refused.value.message.startswith("alloy-mock is not a proxy: it answers for embedded.runalloy.com")
    assert "127.0.0.1:8000" in refused.value.message


def test_connect_is_refused_with_what_to_do_instead() -> None:
    with pytest.raises(Refusal) as refused:
        rewrite(b"CONNECT embedded.runalloy.com:443 HTTP/1.1", OWN)
    assert refused.value.status == 501
    message = refused.value.message
    assert "CONNECT embedded.runalloy.com:443" in message
    assert "HTTPS_PROXY=http://127.0.0.1:8000" in message and "docs/sdks.md" in message


def test_own_names_include_localhost_only_on_loopback() -> None:
    assert own_names("127.0.0.1", 80) == (("127.0.0.1", 80), ("localhost", 80))
    assert own_names("::1", 80) == (("::1", 80), ("localhost", 80))
    assert own_names("10.1.2.3", 80) == (("10.1.2.3", 80),)
    assert own_address(own_names("::1", 81)) == "[::1]:81"
    assert origin_form(b"http://[::1]:81/x", own_names("::1", 81)) == b"/x"
