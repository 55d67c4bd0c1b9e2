"""Every failure becomes a JSON {"message"} with the right status: never HTML, never a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ..domain.errors import Conflict, DomainError, InvalidInput, NotFound
from ..store import DurabilityError
from .responses import error

log = logging.getLogger("alloy_mock")
UNAUTHORIZED = "Unauthorized"

# The vendor documents 400 (not 409 or 422) for conflicts and bad fields: the hand-written SDKs
# return a 422 body silently as if it were a result, which would hide failures.
DOMAIN_STATUS: dict[type[DomainError], int] = {NotFound: 404, Conflict: 400, InvalidInput: 400}


class ApiError(Exception):
    """Raised by the HTTP layer for request-level problems (auth, body, parameters)."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


def unauthorized() -> ApiError:
    return ApiError(401, UNAUTHORIZED)


def not_found(method: str, path: str) -> Response:
    return error(404, f"No route for {method} {path}")


def method_not_allowed(method: str, path: str, allow: str) -> Response:
    return error(405, f"Method {method} is not allowed on {path}", {"Allow": allow})


def error_response(exc: Exception, method: str, path: str) -> Response:
    """The JSON answer to an exception raised while handling `method` `path`."""
    if isinstance(exc, ApiError):
        return error(exc.status, exc.message, exc.headers)
    if isinstance(exc, DomainError):
        return error(DOMAIN_STATUS.get(type(exc), 400), exc.message)
    if isinstance(exc, DurabilityError):
        log.error("write failed: %s", exc)
        return error(503, f"The change could not be saved: {exc}")
    log.error("unexpected error on %s %s", method, path, exc_info=exc)
    return error(500, "Internal server error (an alloy-mock bug; the log has the details)")


async def handle_error(request: Request, exc: Exception) -> Response:
    return error_response(exc, request.method, request.url.path)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own 404 (no route) and 405 (route without that method)."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return not_found(request.method, request.url.path)
    if exc.status_code == 405:
        return method_not_allowed(request.method, request.url.path, (exc.headers or {}).get("Allow", ""))
    return error(exc.status_code, exc.detail, exc.headers)


EXCEPTION_HANDLERS = {
    ApiError: handle_error,
    DomainError: handle_error,
    HTTPException: handle_http_exception,
    DurabilityError: handle_error,
    Exception: handle_error,
}
