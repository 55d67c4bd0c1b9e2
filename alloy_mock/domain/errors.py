"""Domain errors. The HTTP layer turns each kind into a status code and a {"message"} body."""

from typing import NamedTuple


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


class Problem(NamedTuple):
    """One thing wrong with an input and where it is: a path such as (blockId, field name) or (property,)."""

    where: tuple[str, ...]
    message: str


class InvalidFields(InvalidInput):
    """Several inputs are wrong at once (a form's fields); the message is the first problem's."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems[0].message)
        self.problems = problems


MAX_ECHO = 80


def brief(text: str) -> str:
    """A name or id the caller sent, shortened for an error message: a message names what was wrong
    without echoing a huge input whole."""
    return text if len(text) <= MAX_ECHO else f"{text[: MAX_ECHO - 3]}..."
