"""Which `Host` headers a server bound to loopback answers: the guard against DNS rebinding.

A web page on another site cannot read the emulator's answers (no CORS on /_mock) — unless its own
host name starts resolving to 127.0.0.1 (DNS rebinding): the browser then treats the emulator as that
site, same origin, and the page can drive the control API and the vendor API with the well-known
development key. What gives such a request away is its `Host` header, which names the attacker's
domain. So a server on loopback answers only for localhost names, IP addresses, the vendor's hosts
(reached through a proxy or a hosts-file entry, see request_line.py) and what `--allowed-hosts` adds,
as Vite's and webpack's dev servers do. A server bound to another interface is reachable by name
(a compose service, a CI service container) and answers every host unless `--allowed-hosts` is given.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

from .request_line import VENDOR_HOSTS, host_and_port

# The Host header's value in a whole request head (names are case-insensitive; llhttp checks the rest).
HOST_HEADER = re.compile(rb"\nhost:[ \t]*([^\r\n]*)", re.IGNORECASE)
ANY = "*"
CACHE_SIZE = 256  # verdicts kept per host value: a client sends the same few on every request


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]").partition("%")[0]).is_loopback
    except ValueError:
        return False


class HostPolicy:
    """The `Host` values a server answers for; `refusal()` says why a head is refused, or None."""

    def __init__(self, bind_host: str, allowed: Sequence[str] = ()) -> None:
        self.bind_host = bind_host
        self.allowed = tuple(name.lower() for name in allowed)
        # Bound to loopback: only the names above. Elsewhere: every name, unless a list is given.
        self.checks = ANY not in self.allowed and (is_loopback(bind_host) or bool(self.allowed))
        self._verdicts: dict[bytes, bool] = {}

    def refusal(self, head: bytes, end: int) -> str | None:
        """Why the request head `head[:end]` is refused, or None when its host is answered."""
        if not self.checks:
            return None
        start = head.find(b"\nHost: ", 0, end)  # as clients write it; any other spelling takes the regex
        if start >= 0:
            value = head[start + 7 : head.find(b"\r", start, end)].strip()
        else:
            found = HOST_HEADER.search(head, 0, end)
            if found is None:
                return None  # HTTP/1.0 without Host: no browser sends that
            value = found[1].strip()
        verdict = self._verdicts.get(value)
        if verdict is None:
            verdict = self.answers(value.decode("latin-1"))
            if len(self._verdicts) < CACHE_SIZE:
                self._verdicts[value] = verdict
        if verdict:
            return None
        shown = value.decode("ascii", "backslashreplace")[:100]
        return (
            f"alloy-mock does not answer for the host {shown!r}: listening on {self.bind_host}, it answers for "
            "localhost, IP addresses and the vendor's hosts, so that a web page whose domain is made to point at "
            "127.0.0.1 (DNS rebinding) cannot drive it. Start it with --allowed-hosts "
            f"{_name_of(shown) or 'NAME'} (or ALLOY_MOCK_ALLOWED_HOSTS) to answer for that name"
        )

    def answers(self, host_header: str) -> bool:
        """Whether a `Host` value (`name`, `name:port`, `[v6]:port`) is one this server answers for."""
        name = _name_of(host_header)
        if not name:
            return False
        if name == "localhost" or name.endswith(".localhost") or name in VENDOR_HOSTS:
            return True
        if name == self.bind_host.lower() or _is_ip_address(name):
            return True
        # ".example.com" stands for example.com and every name under it, as in Django's ALLOWED_HOSTS.
        return any(
            name == allowed.lstrip(".") or (allowed[:1] == "." and name.endswith(allowed)) for allowed in self.allowed
        )


def _name_of(host_header: str) -> str:
    """The host name of a `Host` value, lower-cased, without its port, IPv6 brackets or final dot."""
    return host_and_port(host_header.strip().encode("latin-1", "replace"), None)[0].rstrip(".")


def _is_ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name.partition("%")[0])
    except ValueError:
        return False
    return True
