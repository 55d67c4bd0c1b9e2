"""Credentials: a user's connection to one app (API keys, or OAuth tokens), checked against the app's metadata.

The secret values are stored (a workflow run needs them) but never rendered: lists show id, type and dates,
and no error message quotes a value.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any, NamedTuple

import orjson

from ..auth import Namespace
from ..catalogue import Catalogue, CredentialMetadata
from ..clock import Clock
from ..ids import new_object_id
from ..store import Collection, Indexes, Store
from .errors import InvalidInput, NotFound, Problem, brief

COLLECTION = "credentials"
INDEXES = Indexes(grouped=("userId",))
MAX_PROPERTIES = 50
MAX_VALUE_LENGTH = 8192
CREDENTIAL_NOT_FOUND = "Credential not found"


class Credential(NamedTuple):
    credential_id: str
    user_id: str
    type: str  # the app's name, e.g. "wooCommerce"
    data: dict[str, Any]
    created_at: str
    updated_at: str
    emulated: bool  # made by the emulator's OAuth page or control API, not given by the caller

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Credential:
        return cls(
            doc["credentialId"],
            doc["userId"],
            doc["type"],
            doc["data"],
            doc["createdAt"],
            doc["updatedAt"],
            doc.get("emulated", False),
        )

    def to_doc(self) -> dict[str, Any]:
        return {
            "credentialId": self.credential_id,
            "userId": self.user_id,
            "type": self.type,
            "data": self.data,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "emulated": self.emulated,
        }


def parse_credential(value: Any) -> tuple[str, dict[str, Any]]:
    """The `credential` of a create request, `{"type", "data"}`, given as an object or a JSON string."""
    if value is None:
        raise InvalidInput("credential is required")
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise InvalidInput("credential must be an object, or a string holding a JSON object") from None
    if not isinstance(value, dict):
        raise InvalidInput("credential must be an object with type and data")
    app, data = value.get("type"), value.get("data")
    if not isinstance(app, str) or not app.strip():
        raise InvalidInput("credential.type is required (an app name such as 'wooCommerce')")
    if data is None:
        raise InvalidInput("credential.data is required")
    if not isinstance(data, dict):
        raise InvalidInput("credential.data must be an object")
    unexpected = sorted(set(value) - {"type", "data", "name"})
    if unexpected:
        raise InvalidInput(f"credential has unknown keys: {', '.join(map(brief, unexpected))} (expected type and data)")
    return app, data


def check_data(metadata: CredentialMetadata, data: Mapping[str, Any]) -> dict[str, Any]:
    """The data of a credential of this app: its properties, with simple values (never quoted in errors).

    Key-based apps take exactly their properties (the required ones non-empty). OAuth apps also take the
    tokens a caller already holds (any further keys), as the vendor allows for Secrets Manager users.
    """
    problems = data_problems(metadata, data)
    if problems:
        raise InvalidInput(problems[0].message)
    return dict(data)


def data_problems(metadata: CredentialMetadata, data: Mapping[str, Any]) -> list[Problem]:
    """check_data's work, reporting every problem (where: (property,), or () for the whole) instead of the first."""
    if len(data) > MAX_PROPERTIES:
        return [Problem((), f"credential.data can hold at most {MAX_PROPERTIES} keys")]
    problems: list[Problem] = []
    declared = {prop.name: prop for prop in metadata.properties}
    if not metadata.is_oauth:
        unknown = sorted(set(data) - set(declared))
        if unknown:
            expected = ", ".join(declared) or "nothing"
            message = (
                f"credential.data has unknown properties for {metadata.name}: {', '.join(map(brief, unknown))} "
                f"(expected: {expected})"
            )
            problems.append(Problem((), message))
    for name, value in data.items():
        where = f"credential.data.{name}"
        if isinstance(value, dict | list) or value is None:
            problems.append(Problem((name,), f"{where} must be a string, a number or a boolean"))
        elif isinstance(value, str) and len(value) > MAX_VALUE_LENGTH:
            problems.append(Problem((name,), f"{where} must be at most {MAX_VALUE_LENGTH} characters"))
    for prop in metadata.properties:
        value = data.get(prop.name)
        if prop.required and (value is None or (isinstance(value, str) and not value.strip())):
            if any(p.where == (prop.name,) for p in problems):
                continue  # refused above already
            message = f"credential.data.{prop.name} is required for {metadata.name} ({prop.display_name})"
            problems.append(Problem((prop.name,), message))
    return problems


class Credentials:
    def __init__(self, store: Store, catalogue: Catalogue, clock: Clock) -> None:
        self._store = store
        self._catalogue = catalogue
        self._clock = clock

    def _credentials(self, namespace: Namespace) -> Collection:
        return self._store.collection(namespace.id, COLLECTION)

    def metadata(self, app: str) -> CredentialMetadata:
        """The credential metadata of an app; InvalidInput (a 400, as the vendor documents) if unknown."""
        found = self._catalogue.credential_metadata(app)
        if found is None:
            known = ", ".join(m.name for m in self._catalogue.credentials)
            raise InvalidInput(f"Unknown app {brief(app)!r}: credentials exist for {known}")
        return found

    def create(self, namespace: Namespace, user_id: str, credential: Any) -> Credential:
        """A credential from a create request's `credential` (object or JSON string)."""
        app, data = parse_credential(credential)
        return self.add(namespace, user_id, app.strip(), data)

    def add(self, namespace: Namespace, user_id: str, app: str, data: Mapping[str, Any]) -> Credential:
        """A credential of `app` with the properties the user gave (checked against its metadata)."""
        metadata = self.metadata(app)
        return self._insert(namespace, user_id, metadata.name, check_data(metadata, data), emulated=False)

    def create_emulated(
        self, namespace: Namespace, user_id: str, app: str, properties: Mapping[str, Any]
    ) -> Credential:
        """A credential the emulator grants itself (the OAuth consent page, test installs): the app's
        properties as given, plus emulated tokens for an OAuth app."""
        metadata = self.metadata(app)
        data: dict[str, Any] = {prop.name: properties.get(prop.name, "") for prop in metadata.properties}
        if metadata.is_oauth:
            data["accessToken"] = f"emulated-{secrets.token_urlsafe(18)}"
            data["refreshToken"] = f"emulated-{secrets.token_urlsafe(18)}"
        return self._insert(namespace, user_id, metadata.name, data, emulated=True)

    def _insert(self, namespace: Namespace, user_id: str, app: str, data: dict[str, Any], emulated: bool) -> Credential:
        now = self._clock.iso_now()
        credential = Credential(new_object_id(), user_id, app, data, now, now, emulated)
        self._credentials(namespace).insert(credential.credential_id, credential.to_doc())
        return credential

    def list_for(self, namespace: Namespace, user_id: str) -> list[Credential]:
        return [Credential.from_doc(doc) for doc in self._credentials(namespace).find_all("userId", user_id)]

    def of_type(self, namespace: Namespace, user_id: str, app: str) -> list[Credential]:
        return [c for c in self.list_for(namespace, user_id) if c.type == app]

    def find(self, namespace: Namespace, user_id: str, credential_id: str) -> Credential | None:
        doc = self._credentials(namespace).view(credential_id)
        return Credential.from_doc(doc) if doc is not None and doc["userId"] == user_id else None

    def exists(self, namespace: Namespace, user_id: str, credential_id: str) -> bool:
        """Whether the user still has this credential (checked on every run of a block that needs one)."""
        doc = self._store.collection(namespace.id, COLLECTION).view(credential_id)  # _credentials(), inlined
        return doc is not None and doc["userId"] == user_id

    def delete(self, namespace: Namespace, user_id: str, credential_id: str) -> None:
        """Remove one of the user's credentials. Installs that use it keep its id (the vendor allows this)."""
        if self.find(namespace, user_id, credential_id) is None:
            raise NotFound(CREDENTIAL_NOT_FOUND)
        self._credentials(namespace).delete(credential_id)

    def oauth_app(self, app: str) -> CredentialMetadata:
        """The metadata of an app whose credentials come from an OAuth consent; InvalidInput otherwise."""
        metadata = self.metadata(app)
        if not metadata.is_oauth:
            raise InvalidInput(
                f"{metadata.name} does not use OAuth: create its credential with its properties instead "
                f"({', '.join(p.name for p in metadata.properties)})"
            )
        return metadata
