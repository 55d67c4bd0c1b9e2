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


async def handle_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error(exc.status, exc.message, exc.headers)


async def handle_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return error(DOMAIN_STATUS.get(type(exc), 400), exc.message)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own 404 (no route) and 405 (route without that method)."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"No route for {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}"
    else:
        message = exc.detail
    return error(exc.status_code, message, exc.headers)


async def handle_durability_error(request: Request, exc: Exception) -> Response:
    log.error("write failed: %s", exc)
    return error(503, f"The change could not be saved: {exc}")


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error(500, "Internal server error (an alloy-mock bug; the log has the details)")


EXCEPTION_HANDLERS = {
    ApiError: handle_api_error,
    DomainError: handle_domain_error,
    HTTPException: handle_http_exception,
    DurabilityError: handle_durability_error,
    Exception: handle_unexpected,
}
