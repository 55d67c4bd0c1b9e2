"""Routes outside the vendor API: health, the JWKS, and a root page that says what is served."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .. import __version__
from ..config import API_VERSIONS
from .request import emulator
from .responses import ok
from .routing import route


async def health(request: Request) -> Response:
    """200 once the emulator is serving: fixtures loaded, database open, keys ready."""
    em = emulator(request)
    return ok(
        {
            "status": "ok",
            "version": __version__,
            "apiVersions": list(API_VERSIONS),
            "integrations": len(em.catalogue.integrations),
            "persistent": em.store.path is not None,
        }
    )


async def jwks(request: Request) -> Response:
    # Keys survive restarts, so verifiers may cache them for a while.
    return ok(emulator(request).tokens.jwks(), headers={"Cache-Control": "public, max-age=300"})


async def index(request: Request) -> Response:
    base = str(request.base_url).rstrip("/")
    return ok(
        {
            "name": "alloy-mock",
            "version": __version__,
            "api": {version: f"{base}/{version}" for version in API_VERSIONS},
            "health": f"{base}/health",
            "jwks": f"{base}/.well-known/jwks.json",
            "openapi": f"{base}/openapi.json",
        }
    )


routes = [
    route("/", GET=index),
    route("/health", GET=health),
    route("/.well-known/jwks.json", GET=jwks),
]
