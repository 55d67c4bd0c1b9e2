"""alloy-mock: a local, stateful emulator of the Alloy Embedded REST API."""

__version__ = "0.1.0"
