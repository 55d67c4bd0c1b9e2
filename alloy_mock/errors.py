"""The base of every error that stops the emulator from starting (bad configuration or files)."""


class StartupError(Exception):
    """The emulator cannot start; the message is one line that names the file, flag or field at fault."""
