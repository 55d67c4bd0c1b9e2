"""Domain errors. The HTTP layer turns each kind into a status code and a {"message"} body."""


class DomainError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The user, integration or other thing asked for does not exist in this namespace."""


class Conflict(DomainError):
    """The change clashes with existing data (e.g. a username that is taken)."""


class InvalidInput(DomainError):
    """A field is missing, of the wrong type or out of range."""
