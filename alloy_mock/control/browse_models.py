"""The query strings and the body of the control API's read endpoints (/_mock/namespaces, /_mock/users,
/_mock/executions), as pydantic models: what the server accepts and what /_mock/openapi.json describes.

As strict as the bodies of control/models.py: an unknown or repeated parameter is a 400 naming it, a number is
written with the digits 0-9 ("1.0", "+5", "5_0" and "٣" are refused), a flag is true/false or 1/0. An empty
value (`?search=`, as a cleared form field sends it) counts as absent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field

from ..domain.errors import InvalidInput, brief
from .models import NAMESPACE_DOC, ControlBody, StrictBody, parse

MAX_USERS_PAGE = 500
MAX_EXECUTIONS_PAGE = 100
DEFAULT_PAGE = 50
_DIGITS = re.compile(r"[0-9]{1,18}")  # ASCII only: int() would also take "٣"


def _whole(value: Any) -> Any:
    if isinstance(value, str):
        if not _DIGITS.fullmatch(value):
            raise ValueError("not a whole number")
        return int(value)
    return value


def _flag(value: Any) -> Any:
    if isinstance(value, str):
        folded = value.lower()
        if folded not in ("true", "false", "1", "0"):
            raise ValueError("not a flag")
        return folded in ("true", "1")
    return value


WholeNumber = Annotated[int, BeforeValidator(_whole)]
Flag = Annotated[bool, BeforeValidator(_flag)]


class BrowseQuery(StrictBody):
    """A query string that may name the namespace to read (default dev)."""

    namespace: str | None = Field(default=None, max_length=200, description=NAMESPACE_DOC + "; default dev")


class NamespacesQuery(StrictBody):
    """GET /_mock/namespaces takes no parameters."""


class UsersQuery(BrowseQuery):
    """GET /_mock/users: a namespace's users, newest first, optionally searched."""

    MESSAGES: ClassVar[dict[str, str]] = {
        "search": "search must be at most 1024 characters",
        "limit": f"limit must be a whole number from 1 to {MAX_USERS_PAGE}",
        "offset": "offset must be a whole number (0 or more) written with the digits 0-9",
    }
    search: str | None = Field(
        default=None,
        max_length=1024,
        description="a userId prefix, or a part of the username or fullName (any case)",
    )
    limit: WholeNumber = Field(default=DEFAULT_PAGE, ge=1, le=MAX_USERS_PAGE)
    offset: WholeNumber = Field(default=0, ge=0, description="users to skip (newest first)")


class UserQuery(BrowseQuery):
    """GET /_mock/users/{user}: one user's installs, credentials and execution counts."""


class ExecutionsQuery(BrowseQuery):
    """GET /_mock/executions: a namespace's executions, newest first."""

    MESSAGES: ClassVar[dict[str, str]] = {
        "workflowId": "workflowId must be a workflow id or name of at most 200 characters",
        "userId": "userId must be a userId or username of at most 1024 characters",
        "error": "error must be true or false",
        "limit": f"limit must be a whole number from 1 to {MAX_EXECUTIONS_PAGE}",
        "before": "before must be an executionId (the `next` of the previous page)",
    }
    workflowId: str | None = Field(default=None, max_length=200, description="a workflow id or name")
    userId: str | None = Field(default=None, max_length=1024, description="a userId or username")
    error: Flag = Field(default=False, description="only the failed executions")
    limit: WholeNumber = Field(default=DEFAULT_PAGE, ge=1, le=MAX_EXECUTIONS_PAGE)
    before: str | None = Field(
        default=None, max_length=200, description="the executions older than this one: the `next` of a page"
    )


class RerunBody(ControlBody):
    """POST /_mock/executions/{execution_id}/rerun: run a stored execution's input again."""


def parse_query(model: type[StrictBody], params: Iterable[tuple[str, str]]) -> Any:
    """A query string as `model`, or InvalidInput naming the unknown or repeated parameters, or the bad value."""
    given: dict[str, str] = {}
    for name, value in params:
        if name in given:
            raise InvalidInput(f"{name} is given more than once")
        given[name] = value
    known = sorted(field.alias or name for name, field in model.model_fields.items())
    unknown = sorted(set(given) - set(known))
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        shown = ", ".join(brief(name) if name.isprintable() and name else repr(brief(name)) for name in unknown[:10])
        raise InvalidInput(f"unknown query parameter{plural} {shown} (known: {', '.join(known) or 'none'})")
    return parse(model, {name: value for name, value in given.items() if value != ""})
