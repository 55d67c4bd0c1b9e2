"""The ASGI application: the vendor API under each version prefix, plus health and JWKS."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route

from .config import API_VERSIONS, Settings
from .emulator import Emulator
from .http import control, integrations, system, tokens, users
from .http.errors import EXCEPTION_HANDLERS
from .http.middleware import (
    CorsMiddleware,
    DurableResponsesMiddleware,
    JournalAndFaultsMiddleware,
    NormalizePathMiddleware,
)

# The same routes under every version prefix: the paths served so far are identical in all four.
VENDOR_ROUTES: list[BaseRoute] = [*users.routes, *tokens.routes, *integrations.routes]


class ApiVersionConvertor(Convertor[str]):
    """Matches one of the served API versions, so one Mount serves them all (one match, not four)."""

    regex = "|".join(re.escape(version) for version in API_VERSIONS)

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("api_version", ApiVersionConvertor())


class AlloyMockApp(Starlette):
    """The Starlette app, holding the emulator it serves (read on every request, so a plain attribute)."""

    emulator: Emulator


def create_app(settings: Settings | None = None, emulator: Emulator | None = None) -> AlloyMockApp:
    """The app for `settings` (or around an already open `emulator`, which the caller then owns).

    Opening happens here, not at start-up, so bad fixtures or a corrupt database fail before the
    server listens. An emulator opened here is closed when the app shuts down.
    """
    owned = emulator is None
    em = emulator if emulator is not None else Emulator.open(settings or Settings())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if owned:
            em.close()

    app = AlloyMockApp(
        routes=[
            Mount("/{version:api_version}", routes=VENDOR_ROUTES),
            *system.routes,
            Route("/_mock", control.index, methods=["GET"]),
            Mount("/_mock", routes=control.routes),
        ],
        middleware=[
            # alloy-frontend calls the API from web pages of other origins (x-alloy-user-token
            # needs a preflight), as the vendor allows.
            Middleware(CorsMiddleware),
            Middleware(NormalizePathMiddleware),
            Middleware(JournalAndFaultsMiddleware),
            Middleware(DurableResponsesMiddleware),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False  # never redirect: the generated SDK raises on any 3xx
    app.emulator = em
    app.state.emulator = em  # for code that only knows Starlette's conventions
    return app
