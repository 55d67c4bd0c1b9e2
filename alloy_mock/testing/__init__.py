"""Testing helpers: the emulator on a background port or in-process, and the `AlloyMock` handle both give.

The pytest plugin (`alloy_mock.pytest_plugin`) builds its fixtures from these; they also work without pytest.
Each name is imported on first use, so the in-process mode never loads the HTTP server (uvicorn).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import AlloyMock, AlloyMockError, DribbleDelay, format_request
    from .inprocess import InProcessEmulator
    from .interception import VENDOR_HOSTS, Interception, intercept
    from .server import BackgroundServer, ServerError, serve

# name -> the module of this package that defines it
_HOMES = {
    "AlloyMock": "client",
    "AlloyMockError": "client",
    "DribbleDelay": "client",
    "format_request": "client",
    "InProcessEmulator": "inprocess",
    "VENDOR_HOSTS": "interception",
    "Interception": "interception",
    "intercept": "interception",
    "BackgroundServer": "server",
    "ServerError": "server",
    "serve": "server",
}

__all__ = [
    "VENDOR_HOSTS",
    "AlloyMock",
    "AlloyMockError",
    "BackgroundServer",
    "DribbleDelay",
    "InProcessEmulator",
    "Interception",
    "ServerError",
    "format_request",
    "intercept",
    "serve",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{home}", __name__), name)
