"""The request line as clients really send it, made into one the HTTP parser accepts (or refused).

Two things that SDKs send and llhttp refuses, or that uvicorn would serve wrongly, are fixed here,
before the parser sees the line:

- raw non-ASCII bytes in the target: SDKs interpolate ids into URLs unencoded, so `zoë@example.com`
  arrives as raw UTF-8 (Python clients writing bytes) or as Latin-1 (Node's HTTP client writes a URL
  as Latin-1: alloy-node sends `ë` as the single byte 0xEB). Both are percent-encoded as UTF-8, so
  the app sees `zoë` either way; bytes that are not valid UTF-8 are read as Latin-1, as Node's own
  HTTP server would read them.
- the absolute form that a client sends through an HTTP proxy (`GET https://embedded.runalloy.com/
  2023-01/users HTTP/1.1`, as axios does with HTTPS_PROXY set): served as its path when the host is
  one of the vendor's or the emulator's own address, refused otherwise (this is not an open proxy).

A CONNECT is refused with a message that says what works instead: the emulator speaks plain HTTP
and does not intercept TLS.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote

# The hosts the official SDKs hard-code: the REST API and the app (the install modal's pages), US and EU.
VENDOR_HOSTS = ("embedded.runalloy.com", "eu-embedded.runalloy.com", "app.runalloy.com", "eu-app.runalloy.com")
DEFAULT_PORTS = {b"http": 80, b"https": 443}
NON_ASCII = re.compile(r"[^\x00-\x7f]+")


class Refusal(Exception):
    """A request the emulator answers with `status` and `message` itself, then closes the connection."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def rewrite(line: bytes, own: Sequence[tuple[str, int]]) -> bytes:
    """`line` (without its line ending) as the parser should see it; raises Refusal.

    `own` holds the (host, port) pairs that name the emulator itself. A line that cannot be split into
    method, target and version goes unchanged, for the parser to judge.
    """
    first, last = line.find(b" "), line.rfind(b" ")
    if first < 0 or last == first:
        return line
    method, target, version = line[:first], line[first + 1 : last].strip(b" "), line[last + 1 :]
    if method == b"CONNECT":
        address = own_address(own)
        raise Refusal(
            501,
            f"alloy-mock does not tunnel connections (CONNECT {_text(target)}): it speaks plain HTTP. Give the "
            f"client http://{address} as its base URL, or use a client that sends the full https:// URL to an "
            f"HTTP proxy (axios does, with HTTPS_PROXY=http://{address}); docs/sdks.md shows how for each SDK",
        )
    if method == b"PRI":  # HTTP/2's connection preface
        raise Refusal(505, "alloy-mock speaks HTTP/1.1, not HTTP/2 (a client with HTTP/2 prior knowledge sent this)")
    if not target.isascii():
        target = percent_encode(target)
    if not target.startswith(b"/") and b"://" in target:
        target = origin_form(target, own)
    return b"%s %s %s" % (method, target, version)


def percent_encode(target: bytes) -> bytes:
    """The non-ASCII bytes of `target` percent-encoded as UTF-8 (read as Latin-1 if they are not UTF-8)."""
    try:
        text = target.decode("utf-8")
    except UnicodeDecodeError:
        text = target.decode("latin-1")
    return NON_ASCII.sub(lambda match: quote(match[0]), text).encode("ascii")


def origin_form(target: bytes, own: Sequence[tuple[str, int]]) -> bytes:
    """The path and query of an absolute-form target whose host the emulator answers for; raises Refusal."""
    scheme, _, rest = target.partition(b"://")
    end = len(rest)
    for delimiter in (b"/", b"?"):
        found = rest.find(delimiter)
        if 0 <= found < end:
            end = found
    authority, path = rest[:end], rest[end:]
    host, port = host_and_port(authority.rpartition(b"@")[2], DEFAULT_PORTS.get(scheme.lower()))
    if host not in VENDOR_HOSTS and (host, port) not in own:
        raise Refusal(
            403,
            f"alloy-mock is not a proxy: it answers for {', '.join(VENDOR_HOSTS)} and for itself "
            f"({own_address(own)}), not for {_text(authority)}",
        )
    return path if path.startswith(b"/") else b"/" + path


def host_and_port(authority: bytes, default_port: int | None) -> tuple[str, int | None]:
    """("host", port) of `host[:port]` or `[v6]:port`, the host lower-cased; the port None if unknown."""
    text = _text(authority).lower()
    if text.startswith("["):  # an IPv6 literal
        host, _, after = text[1:].partition("]")
        port_text = after[1:] if after.startswith(":") else ""
    else:
        host, _, port_text = text.partition(":")
    if port_text.isascii() and port_text.isdigit():
        return host, int(port_text)
    return host, default_port if not port_text else None


def own_address(own: Sequence[tuple[str, int]]) -> str:
    """The emulator's address as a client would write it (the first of `own`)."""
    if not own:
        return "the emulator's address"
    host, port = own[0]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def own_names(host: str, port: int) -> tuple[tuple[str, int], ...]:
    """The (host, port) pairs that name an emulator listening on `host` `port`: localhost too on loopback."""
    if host.startswith("127.") or host == "::1":
        return ((host.lower(), port), ("localhost", port))
    return ((host.lower(), port),)


def _text(data: bytes) -> str:
    return data.decode("ascii", "backslashreplace")
