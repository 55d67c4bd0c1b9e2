"""The bodies of the control API (/_mock), as pydantic models: what the server accepts, and what its
OpenAPI document describes (http/openapi.py derives the schemas from them, so the two cannot drift).

Every model refuses unknown keys (a misspelled `stauts` is a 400 that names it) and is strict: "500" is
not a status, 1.5 no number of times, true no number at all. A field may give its own message
(`MESSAGES`), so that an error says what the field takes rather than pydantic's wording.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..domain.errors import InvalidInput
from ..domain.runner import MAX_DATA_DEPTH, nests_at_most

MAX_SEED_USERS = 10_000
MAX_TTL = 10 * 366 * 86_400  # ten years either way: exp stays a time every JWT library can read
MAX_WAIT_MS = 60_000
NAMESPACE_DOC = "'dev', 'prod' (the default account), '<account>.dev' or '<account>.prod'"
NAMESPACE_MESSAGE = "namespace must be a string such as 'dev', 'prod' or 'acme.dev'"


class StrictBody(BaseModel):
    # strict: "2" is not a number of times, nor true one time
    model_config = ConfigDict(extra="forbid", populate_by_name=True, strict=True, defer_build=True)
    # field name (or "list[].field" inside a list) -> the message for any error in it
    MESSAGES: ClassVar[dict[str, str]] = {}


class ControlBody(StrictBody):
    """A body that may name the namespace it acts on."""

    namespace: str | None = Field(default=None, max_length=200, description=NAMESPACE_DOC)


def parse(model: type[StrictBody], body: dict[str, Any]) -> Any:
    """A body as `model`, or InvalidInput that names the fields at fault (every unknown key at once)."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        errors = exc.errors()
        extra = [error["loc"] for error in errors if error["type"] == "extra_forbidden"]
        if extra:
            unknown = [_where(loc) for loc in extra]
            owner = _model_at(model, extra[0][:-1])
            known = ", ".join(sorted(field.alias or name for name, field in owner.model_fields.items()))
            plural = "s" if len(unknown) > 1 else ""
            raise InvalidInput(f"unknown field{plural} {', '.join(unknown)} (known: {known})") from None
        raise InvalidInput(_message(model, errors[0])) from None


def _model_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel]:
    """The model of the object at `loc` (an item of a list, or a nested object), for its field names."""
    for part in loc:
        if isinstance(part, int) or part not in model.model_fields:
            continue
        annotation = model.model_fields[part].annotation
        nested = [
            arg for arg in (annotation, *get_args(annotation)) if isinstance(arg, type) and issubclass(arg, BaseModel)
        ]
        if nested:
            model = nested[0]
    return model


def _where(loc: tuple[int | str, ...]) -> str:
    """A location as a reader writes it: users[0].username."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "body"


def _key(loc: tuple[int | str, ...]) -> str:
    return ".".join("[]" if isinstance(part, int) else part for part in loc).replace(".[]", "[]")


def _message(model: type[StrictBody], error: Any) -> str:
    loc: tuple[int | str, ...] = error["loc"]
    messages = {"namespace": NAMESPACE_MESSAGE, **model.MESSAGES}
    # the longest known prefix: ("at", "float") is an error of `at` against one member of its union
    keys = [_key(loc[:end]) for end in range(len(loc), 0, -1)]
    key = next((k for k in keys if k in messages), keys[0] if keys else "")
    items = [n for n, part in enumerate(loc) if isinstance(part, int)]
    custom = messages.get(key)
    if error["type"] == "missing" and "required" not in (custom or ""):
        custom = f"{loc[-1] if items else _where(loc)} is required"
    if items:  # inside a list: "users[0]: username must be a string", or "users[0] must be an object"
        item = _where(loc[: items[-1] + 1])
        if key.endswith("[]"):
            return f"{item} {custom or 'is not valid'}"
        return f"{item}: {custom or error['msg']}"
    if custom is not None:
        return custom
    return f"{_where(loc)}: {error['msg'].removeprefix('Value error, ')}"


# -- state ----------------------------------------------------------------------------------------


class ResetBody(ControlBody):
    """POST /_mock/reset: one namespace's data, or (without `namespace`) everything."""


class SeedUser(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)

    username: str = Field(max_length=1024)
    fullName: str | None = Field(default=None, max_length=1024)
    userId: str | None = Field(default=None, pattern="^[0-9a-f]{24}$", description="24 lowercase hex digits")


class SeedBody(ControlBody):
    """POST /_mock/seed: users to create in one namespace (default dev), all or none."""

    MESSAGES: ClassVar[dict[str, str]] = {
        "users": "users must be an array",
        "users[]": "must be an object",
        "users[].username": "username must be a string",
        "users[].fullName": "fullName must be a string",
        "users[].userId": "userId must be a 24-character lowercase hex id",
    }
    users: list[SeedUser] = Field(default_factory=list, max_length=MAX_SEED_USERS)


class SnapshotBody(StrictBody):
    """POST /_mock/snapshots: save the data of every namespace under `name`."""

    MESSAGES: ClassVar[dict[str, str]] = {"name": "name is required"}

    name: str = Field(description="1 to 200 characters")  # its length is checked with the snapshot bounds


# -- faults ---------------------------------------------------------------------------------------


# WireMock's names for what happens to the connection instead of an answer
ConnectionFaultName = Literal[
    "CONNECTION_RESET_BY_PEER", "EMPTY_RESPONSE", "MALFORMED_RESPONSE_CHUNK", "RANDOM_DATA_THEN_CLOSE"
]
CONNECTION_FAULTS: tuple[str, ...] = get_args(ConnectionFaultName)
MAX_DRIBBLE_CHUNKS = 1000


class ChunkedDribbleDelay(BaseModel):
    """WireMock's chunkedDribbleDelay: the body sent in `numberOfChunks` chunks spread over `totalDuration` ms."""

    model_config = ConfigDict(extra="forbid", strict=True)

    numberOfChunks: int = Field(ge=1, le=MAX_DRIBBLE_CHUNKS)
    totalDuration: int = Field(ge=0, le=60_000, description="milliseconds")


class FaultSpec(ControlBody):
    """POST /_mock/faults: answer the next `times` matching requests with `status`/`body`/`headers`, break
    their connection (`connectionFault`), dribble their answer (`chunkedDribbleDelay`), and/or delay them by
    `delayMs`."""

    # Documented as it is checked: a fault needs something to do.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["status"]},
                {"required": ["delayMs"]},
                {"required": ["connectionFault"]},
                {"required": ["chunkedDribbleDelay"]},
            ]
        }
    )
    MESSAGES: ClassVar[dict[str, str]] = {
        "status": "status must be a final HTTP status code (200-599)",
        "delayMs": "delayMs must be a whole number of milliseconds from 0 to 60000",
        "times": "times must be a positive whole number, or null for every matching request",
        "method": "method and path must be strings",
        "path": "method and path must be strings",
        "headers": "headers must be an object of strings",
        "namespace": "namespace must be a string such as 'dev', 'prod', 'acme.dev' or 'user-token'",
        "connectionFault": f"connectionFault must be one of {', '.join(CONNECTION_FAULTS)}",
        "chunkedDribbleDelay": "chunkedDribbleDelay must be an object {numberOfChunks, totalDuration}",
        "chunkedDribbleDelay.numberOfChunks": (
            f"chunkedDribbleDelay.numberOfChunks must be a whole number from 1 to {MAX_DRIBBLE_CHUNKS}"
        ),
        "chunkedDribbleDelay.totalDuration": (
            "chunkedDribbleDelay.totalDuration must be a whole number of milliseconds from 0 to 60000"
        ),
        "bodyContains": "bodyContains must be a JSON object",
        "probability": "probability must be a number from 0 to 1",
        "seed": "seed must be a whole number from -2**63 to 2**63 - 1",
    }
    method: str = Field(default="*", min_length=1, max_length=16, description="an HTTP method, or * for any")
    path: str = Field(
        default="*", min_length=1, max_length=1000, description="a glob over the path after the version prefix"
    )
    status: int | None = Field(default=None, ge=200, le=599, description="the answer's status; none: only delay")
    body: Any = Field(default=None, description="the answer's JSON body (default {message}); none for 204/304")
    headers: dict[str, str] = Field(default_factory=dict, description="extra response headers (no framing ones)")
    delayMs: int = Field(default=0, ge=0, le=60_000)
    times: int | None = Field(default=1, ge=1, le=1_000_000_000, description="null: until cleared")
    connectionFault: ConnectionFaultName | None = Field(
        default=None,
        description="break the connection instead of answering (WireMock's names); only delayMs combines with it",
        examples=list(CONNECTION_FAULTS),
    )
    chunkedDribbleDelay: ChunkedDribbleDelay | None = Field(
        default=None,
        description="send the answer (the fault's, or the real one) in chunks spread over a duration",
        examples=[{"numberOfChunks": 5, "totalDuration": 1000}],
    )
    bodyContains: dict[str, Any] | None = Field(
        default=None,
        description="match only requests whose JSON body contains this object (extra keys ignored; arrays "
        "item by item); a body that is not JSON never matches",
        examples=[{"username": "slow@example.com"}],
    )
    probability: float = Field(
        default=1.0, ge=0, le=1, allow_inf_nan=False, description="the chance a matching request is faulted"
    )
    seed: int | None = Field(
        default=None,
        ge=-(2**63),
        lt=2**63,
        description="makes the probability draws (and RANDOM_DATA_THEN_CLOSE's bytes) repeatable",
        examples=[42],
    )


# -- clock ----------------------------------------------------------------------------------------


class FreezeBody(StrictBody):
    """POST /_mock/clock/freeze: stop the clock, now or at `at`."""

    MESSAGES: ClassVar[dict[str, str]] = {"at": "at must be a number"}

    at: float | str | None = Field(default=None, description="epoch seconds, or an ISO 8601 time (UTC if no offset)")


class AdvanceBody(StrictBody):
    """POST /_mock/clock/advance: move the clock by `seconds` (back, if negative)."""

    MESSAGES: ClassVar[dict[str, str]] = {"seconds": "seconds must be a number"}

    seconds: float = Field(allow_inf_nan=False)


# -- tokens ---------------------------------------------------------------------------------------


class TokenBody(ControlBody):
    """POST /_mock/tokens: a user token on demand, including broken ones for negative tests."""

    MESSAGES: ClassVar[dict[str, str]] = {
        "user": "user is required (a userId or username)",
        "ttl": f"ttl must be a number of seconds from -{MAX_TTL} to {MAX_TTL}",
        "signature": "signature must be one of valid, wrong-key, unknown-kid, none",
        "claims": "claims must be an object",
        "expired": "expired must be true or false",
    }
    user: str = Field(min_length=1, max_length=1024, description="a userId or username")
    ttl: float | None = Field(default=None, ge=-MAX_TTL, le=MAX_TTL, description="seconds; default --token-ttl")
    expired: bool = Field(default=False, description="already expired (ttl -60)")
    signature: Literal["valid", "wrong-key", "unknown-kid", "none"] = "valid"
    claims: dict[str, Any] | None = Field(default=None, description="extra or overriding claims")


# -- installs and executions ------------------------------------------------------------------------


class InstallBody(ControlBody):
    """POST /_mock/installs: install an integration (all or some of its workflows) for a user."""

    MESSAGES: ClassVar[dict[str, str]] = {
        "user": "user is required (a userId or username)",
        "integration": "integration is required (an integrationId or name)",
        "version": "version must be a whole number",
        "values": "values must be an object {field: value} or an array of {workflowId, blockId, fields}",
        "active": "active must be true or false",
        "workflows": "workflows must be an array of ids",
        "credentialIds": "credentialIds must be an array of ids",
    }
    user: str = Field(min_length=1, max_length=1024, description="a userId or username")
    integration: str = Field(min_length=1, max_length=200, description="an integrationId or name")
    workflows: list[str] | None = Field(default=None, description="workflow ids or names; default: all")
    version: int | None = Field(default=None, description="default: the latest")
    values: dict[str, Any] | list[Any] = Field(
        default_factory=dict, description="{field: value}, or the headless [{workflowId, blockId, fields}]"
    )
    credentialIds: list[str] | None = None
    active: bool = True


class WaitBody(ControlBody):
    """POST /_mock/executions/wait: until the executions recorded so far (for `user`, or anyone) finish."""

    MESSAGES: ClassVar[dict[str, str]] = {
        "user": "user must be a userId or username",
        "timeoutMs": f"timeoutMs must be a whole number from 0 to {MAX_WAIT_MS}",
    }
    user: str | None = Field(default=None, min_length=1, max_length=1024)
    timeoutMs: int = Field(default=10_000, ge=0, le=MAX_WAIT_MS)


# -- run rules (control/run_rules.py) ----------------------------------------------------------------


class RunRuleSpec(ControlBody):
    workflow: str | None = Field(default=None, min_length=1, max_length=200)
    user: str | None = Field(default=None, min_length=1, max_length=1024)
    block: str | None = Field(default=None, min_length=1, max_length=200)


class FailureSpec(RunRuleSpec):
    """POST /_mock/run-failures: the next `times` runs (null: every run) of `workflow` (id or name; any if
    absent) for `user` (id or username; anyone if absent) fail at `block` (id, name or app type; the first
    app block if absent) with `message`."""

    message: str | None = Field(default=None, min_length=1, max_length=2000)
    times: int | None = Field(default=1, ge=1, le=1_000_000)


class OutputSpec(RunRuleSpec):
    """POST /_mock/block-outputs: `block` of `workflow` returns `output` (a JSON object) instead of the
    emulator's sample, for `user` (or anyone), until cleared."""

    workflow: str = Field(min_length=1, max_length=200)
    block: str = Field(min_length=1, max_length=200)
    output: dict[str, Any]

    @field_validator("output")
    @classmethod
    def _not_too_deep(cls, output: dict[str, Any]) -> dict[str, Any]:
        if not nests_at_most(output, MAX_DATA_DEPTH):
            raise ValueError(f"nests objects and arrays more than {MAX_DATA_DEPTH} levels deep")
        return output
