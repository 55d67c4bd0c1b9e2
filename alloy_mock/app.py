"""The ASGI application: the vendor API under each version prefix, the control API, health and JWKS.

A request passes CORS and path normalization, then goes either to the vendor API's own dispatcher
(http/vendor.py: the hot path) or to Starlette's routing (everything else).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from .config import VERSION_LIKE, Settings
from .emulator import Emulator
from .http import (
    control_mount,
    credentials,
    dashboard,
    executions,
    headless,
    integrations,
    metadata,
    modal,
    modal_api,
    oauth,
    runs,
    system,
    tokens,
    users,
    vendor_openapi,
    workflows,
)
from .http.access_log import AccessLog
from .http.cors import CorsMiddleware, has_origin
from .http.errors import EXCEPTION_HANDLERS
from .http.middleware import DurableResponsesMiddleware, normalize_path
from .http.routing import MethodRoute
from .http.vendor import VERSION_PREFIXES, VendorApi

# The vendor API: each route says which version prefixes serve it (reference §2).
VENDOR_ROUTES: list[MethodRoute] = [
    *users.routes,
    *tokens.routes,
    *integrations.routes,
    *workflows.routes,
    *metadata.routes,
    *credentials.routes,
    *headless.routes,
    *runs.routes,
    *executions.routes,
]


class AlloyMockApp(Starlette):
    """The Starlette app, holding the emulator it serves (read on every request, so a plain attribute)
    and the vendor API's dispatcher."""

    def __init__(
        self, emulator: Emulator, vendor_api: VendorApi, control_api: control_mount.LazyControlApi, **starlette: Any
    ) -> None:
        super().__init__(**starlette)
        self.emulator = emulator
        self.vendor_api = vendor_api
        self.control_api = control_api  # mounted at /_mock by create_app()
        self.state.emulator = emulator  # for code that only knows Starlette's conventions
        # alloy-frontend calls the API from web pages of other origins (x-alloy-user-token needs a
        # preflight), as the vendor allows.
        self._entry: ASGIApp = CorsMiddleware(self._route)
        self._logged = emulator.settings.access_log
        if self._logged:
            self._entry = AccessLog(self._entry, emulator.settings.log_format)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        if not self._logged and scope["type"] == "http" and not has_origin(scope):
            # CorsMiddleware passes a request without Origin on untouched: one coroutine layer less per
            # request (entered, and resumed again after a write's durability wait).
            await self._route(scope, receive, send)
            return
        await self._entry(scope, receive, send)

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = normalize_path(scope)
            path = scope["path"]
            if path.startswith(VERSION_PREFIXES) or VERSION_LIKE.match(path):
                await self.vendor_api(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, emulator: Emulator | None = None) -> AlloyMockApp:
    """The app for `settings` (or around an already open `emulator`, which the caller then owns).

    Opening happens here, not at start-up, so bad fixtures or a corrupt database fail before the
    server listens. An emulator opened here is closed when the app shuts down.
    """
    owned = emulator is None
    em = emulator if emulator is not None else Emulator.open(settings or Settings())
    control_api = control_mount.LazyControlApi()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if owned:
            em.close()

    app = AlloyMockApp(
        em,
        VendorApi(VENDOR_ROUTES),
        control_api,
        routes=[
            *system.routes,
            *vendor_openapi.routes,
            *modal.routes,
            *modal_api.routes,
            *oauth.routes,
            *dashboard.routes,  # before the control API's mount: the page and its assets need no admin token
            Route("/_mock", control_mount.index, methods=["GET"]),
            Mount("/_mock", app=control_api),
        ],
        middleware=[Middleware(DurableResponsesMiddleware)],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False  # never redirect: the generated SDK raises on any 3xx
    return app
