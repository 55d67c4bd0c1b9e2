"""The query strings of the hosted modal's pages, as alloy-frontend 2.1.1 builds them: nothing URL-encoded.

Its iframe URLs put a JWT, JSON arrays (preFilledValues, outputOverride), a title and, for authenticate, a
function's source text into the query without encoding them (reference §7.2, §7.4), so a value may hold
`&`, `=`, `+` or `?`. Read robustly: a part that does not start with a known parameter name and `=`
continues the value before it; a JSON parameter takes the shortest run of parts that parses as JSON; `+`
is a plus (the SDK never encodes a space as `+`); percent-escapes are decoded as UTF-8. (A `#` in a value
starts the URL's fragment, which the browser never sends: the pages' script puts it back, see modal.js.)
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import orjson

# Every parameter of /forge-install, /authenticate-app and /embedded-install (reference §7.2, §7.4, §4.2 #12).
KNOWN = frozenset(
    {
        "integrationId",
        "id",
        "versionId",
        "preFilledValues",
        "outputOverride",
        "token",
        "forgeMode",
        "hide",
        "alwaysShowAuthentication",
        "alwaysShowCredentials",
        "operation",
        "title",
        "app",
        "category",
        "useUnified",
        "callback",
    }
)
JSON_PARAMS = frozenset({"preFilledValues", "outputOverride"})
MAX_QUERY_PARTS = 2000


class ModalQuery:
    """The parameters of one page request: `first()` for single ones, `all()` for repeated ones (id,
    versionId), `json()` for the JSON ones."""

    def __init__(self, params: list[tuple[str, str]]) -> None:
        self.params = params

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.params if key == name]

    def first(self, name: str) -> str | None:
        """The first value of `name`; an empty one counts as absent."""
        return next((value for key, value in self.params if key == name and value), None)

    def flag(self, name: str) -> bool:
        return (self.first(name) or "").strip().lower() == "true"

    def json(self, name: str) -> tuple[Any, str | None]:
        """(the parsed JSON value or None, a notice saying why it was not read or None)."""
        raw = self.first(name)
        if raw is None:
            return None, None
        try:
            return orjson.loads(raw), None
        except orjson.JSONDecodeError:
            return None, f"{name} is not valid JSON: ignored"


def parse_query(raw: bytes) -> ModalQuery:
    """Split a raw query string (the ASGI scope's bytes) into parameters, as the module docstring says."""
    text = raw.decode("utf-8", "surrogateescape") if raw else ""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    parts = text.split("&", MAX_QUERY_PARTS)
    params: list[tuple[str, str]] = []
    open_value: list[str] | None = None  # the raw parts of the value that continuation parts join
    i = 0
    while i < len(parts):
        name, sep, value = parts[i].partition("=")
        key = _decode(name)
        if not sep or key not in KNOWN:
            if open_value is not None:
                open_value.append(parts[i])
            i += 1
            continue
        _close(params, open_value)
        if key in JSON_PARAMS:
            end = _json_end(parts, i, value)
            if end is not None:
                params.append((key, _decode("&".join([value, *parts[i + 1 : end]]))))
                open_value = None
                i = end
                continue
        params.append((key, ""))
        open_value = [value]
        i += 1
    _close(params, open_value)
    return ModalQuery(params)


def _close(params: list[tuple[str, str]], open_value: list[str] | None) -> None:
    """Set the last parameter's value from its raw parts, once no more parts can join it."""
    if open_value is not None:
        params[-1] = (params[-1][0], _decode("&".join(open_value)))


def _json_end(parts: list[str], start: int, value: str) -> int | None:
    """The index after the last part of the shortest run from `start` whose text is valid JSON, or None."""
    text = value
    for end in range(start + 1, len(parts) + 1):
        if end > start + 1:
            text += "&" + parts[end - 1]
        decoded = _decode(text).strip()
        if decoded[-1:] in ("]", "}", '"') or decoded[-1:].isalnum():
            try:
                orjson.loads(decoded)
            except orjson.JSONDecodeError:
                continue
            return end
    return None


def _decode(text: str) -> str:
    return unquote(text, errors="replace")
