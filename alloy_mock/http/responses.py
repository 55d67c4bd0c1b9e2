"""JSON responses, rendered with orjson (the vendor always answers JSON, errors included)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        if headers is None:  # the common case, without Starlette's general header merging
            self.raw_headers = [(b"content-length", b"%d" % len(self.body)), (b"content-type", b"application/json")]
        else:
            super().init_headers(headers)


def ok(content: Any, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """A 200: the vendor answers every success with 200, never 201 or 204."""
    return JSONResponse(content, headers=headers)


def error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The vendor's error shape: {"message": "..."}."""
    return JSONResponse({"message": message}, status_code=status, headers=headers)
