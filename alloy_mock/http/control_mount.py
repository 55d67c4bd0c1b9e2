"""The control API (/_mock), built on its first request.

Its bodies are pydantic models (control/models.py), whose import and class building cost ~60 ms and enough
allocations to set off a full garbage collection of the host process: paid at start-up, that was most of a
pytest session's first setup (issue 13). Sessions that never call /_mock over HTTP (the plugin's reset and
journal go straight to the emulator) now never pay it; the others pay it once, at their first control call.
`alloy-mock serve` builds it before it answers anything (load()), so that no request waits for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send

if TYPE_CHECKING:
    from .control import ControlApi


class LazyControlApi:
    """Mounted at /_mock: the ControlApi of every control route module, imported on the first call."""

    def __init__(self) -> None:
        self._api: ControlApi | None = None

    @property
    def api(self) -> ControlApi:
        if self._api is None:
            # One event loop serves the app, so two first calls cannot interleave here (no await).
            from . import control, control_browse, control_installs, control_runs

            modules = (control, control_installs, control_runs, control_browse)
            routes: list[BaseRoute] = [route for module in modules for route in module.routes]
            self._api = control.ControlApi(routes)
        return self._api

    def load(self) -> None:
        """Build it now rather than on the first control call."""
        _ = self.api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.api(scope, receive, send)


async def index(request: Request) -> Response:
    """GET /_mock (outside the mount, which only matches /_mock/...)."""
    from .control import index as control_index

    return await control_index(request)
