"""Testing helpers: the emulator on a background port or in-process, and the `AlloyMock` handle both give.

The pytest plugin (`alloy_mock.pytest_plugin`) builds its fixtures from these; they also work without pytest.
"""

from .client import AlloyMock, AlloyMockError, format_request
from .inprocess import InProcessEmulator
from .interception import VENDOR_HOSTS, Interception, intercept
from .server import BackgroundServer, ServerError, serve

__all__ = [
    "VENDOR_HOSTS",
    "AlloyMock",
    "AlloyMockError",
    "BackgroundServer",
    "InProcessEmulator",
    "Interception",
    "ServerError",
    "format_request",
    "intercept",
    "serve",
]
