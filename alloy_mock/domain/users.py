"""End users: created by the ISV's backend, unique by username within a namespace."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..auth import Namespace
from ..clock import Clock
from ..ids import is_object_id, new_object_id
from ..store import Collection, DuplicateKeyError, Indexes, Store
from .errors import Conflict, InvalidInput, NotFound

COLLECTION = "users"
INDEXES = Indexes(unique=("username",))
MAX_TEXT_LENGTH = 1024
MAX_BATCH_SIZE = 1000
USER_NOT_FOUND = "User not found"
USER_EXISTS = "User already exists"


class User(NamedTuple):
    """One end user. A NamedTuple rather than a frozen dataclass: as immutable, and cheaper to
    build (one per user created or read, on the hottest paths)."""

    user_id: str
    username: str
    full_name: str | None
    created_at: str

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> User:
        # tuple.__new__: cls(...) without NamedTuple's Python-level __new__ (read on every request).
        return tuple.__new__(cls, (doc["userId"], doc["username"], doc.get("fullName"), doc["createdAt"]))

    def to_doc(self) -> dict[str, Any]:
        doc = {"userId": self.user_id, "username": self.username, "createdAt": self.created_at}
        if self.full_name is not None:
            doc["fullName"] = self.full_name
        return doc


@dataclass(frozen=True)
class BatchResult:
    created: list[User]
    invalid: list[Any]  # the rejected input items, echoed as given


def _text(value: Any, field: str, required: bool) -> str | None:
    """A text field: a string of 1 to MAX_TEXT_LENGTH characters that is not only white space."""
    if value is None:
        if required:
            raise InvalidInput(f"{field} is required")
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string")
    if not value.strip():
        raise InvalidInput(f"{field} must not be empty")
    if len(value) > MAX_TEXT_LENGTH:
        raise InvalidInput(f"{field} must be at most {MAX_TEXT_LENGTH} characters")
    return value


def _names(username: Any, full_name: Any) -> tuple[str, str | None]:
    """The validated username (required) and fullName (optional) of a user to create."""
    name = _text(username, "username", required=True)
    assert name is not None
    return name, _text(full_name, "fullName", required=False)


class Users:
    def __init__(self, store: Store, clock: Clock, owned: Sequence[str] = ()) -> None:
        """`owned`: the collections whose documents belong to a user (a grouped `userId` index), deleted with it."""
        self._store = store
        self._clock = clock
        self._owned = tuple(owned)

    def _users(self, namespace: Namespace) -> Collection:
        return self._store.collection(namespace.id, COLLECTION)

    def create(self, namespace: Namespace, username: Any, full_name: Any = None) -> User:
        name, full = _names(username, full_name)
        user = User(new_object_id(), name, full, self._clock.iso_now())
        try:
            self._users(namespace).insert(user.user_id, user.to_doc())
        except DuplicateKeyError:
            raise Conflict(USER_EXISTS) from None
        return user

    def create_batch(self, namespace: Namespace, items: Sequence[Any]) -> BatchResult:
        """Create every valid item in one transaction; report the rest as the vendor does.

        An item is invalid when it has no usable username or its username exists (also earlier in
        the same batch). Nothing valid: "No valid users provided"; only existing names:
        "All users already exist".
        """
        if len(items) > MAX_BATCH_SIZE:
            raise InvalidInput(f"A batch can create at most {MAX_BATCH_SIZE} users, not {len(items)}")
        users = self._users(namespace)
        now = self._clock.iso_now()
        created: list[User] = []
        invalid: list[Any] = []
        taken: set[str] = set()
        unusable = 0
        for item in items:
            try:
                if not isinstance(item, Mapping):
                    raise InvalidInput("not an object")
                name, full_name = _names(item.get("username"), item.get("fullName"))
            except InvalidInput:
                unusable += 1
                invalid.append(item)
                continue
            if name in taken or users.find("username", name) is not None:
                invalid.append(item)
                continue
            taken.add(name)
            created.append(User(new_object_id(), name, full_name, now))
        if not created:
            raise InvalidInput("All users already exist" if items and not unusable else "No valid users provided")
        users.insert_many([(user.user_id, user.to_doc()) for user in created])
        return BatchResult(created, invalid)

    def seed(self, namespace: Namespace, items: Sequence[Any]) -> list[User]:
        """Create users for a test's starting state, all or none: every item is checked first.

        Items are {"username", "fullName"?, "userId"?}; a given userId must be a 24-hex id.
        """
        users = self._users(namespace)
        now = self._clock.iso_now()
        planned: list[User] = []
        names: set[str] = set()
        ids: set[str] = set()
        for index, item in enumerate(items):
            if not isinstance(item, Mapping):
                raise InvalidInput(f"users[{index}] must be an object")
            try:
                name, full_name = _names(item.get("username"), item.get("fullName"))
            except InvalidInput as exc:
                raise InvalidInput(f"users[{index}]: {exc.message}") from None
            user_id = item.get("userId")
            if user_id is not None and not (isinstance(user_id, str) and is_object_id(user_id)):
                raise InvalidInput(f"users[{index}]: userId must be a 24-character lowercase hex id")
            user = User(user_id or new_object_id(), name, full_name, now)
            if name in names or users.find("username", name) is not None:
                raise Conflict(f"users[{index}]: {USER_EXISTS} ({name!r})")
            if user.user_id in ids or users.get(user.user_id) is not None:
                raise Conflict(f"users[{index}]: a user with id {user.user_id} already exists")
            names.add(name)
            ids.add(user.user_id)
            planned.append(user)
        users.insert_many([(user.user_id, user.to_doc()) for user in planned])
        return planned

    def list(self, namespace: Namespace) -> list[User]:
        return [User.from_doc(doc) for doc in self._users(namespace).all()]

    def find(self, namespace: Namespace, id_or_username: str) -> User | None:
        """A user by id, or else by username (the vendor accepts either wherever a userId goes)."""
        users = self._users(namespace)
        doc = users.view(id_or_username) or users.find("username", id_or_username)
        return User.from_doc(doc) if doc is not None else None

    def by_id(self, namespace: Namespace, user_id: str) -> User | None:
        """A user by id only (for references the emulator itself stored)."""
        doc = self._users(namespace).view(user_id)
        return User.from_doc(doc) if doc is not None else None

    def get(self, namespace: Namespace, id_or_username: str) -> User:
        # find(), inlined: every request that names a user comes here.
        users = self._store.collection(namespace.id, COLLECTION)
        doc = users.view(id_or_username) or users.find("username", id_or_username)
        if doc is None:
            raise NotFound(USER_NOT_FOUND)
        return User.from_doc(doc)

    def update(self, namespace: Namespace, id_or_username: str, username: Any = None, full_name: Any = None) -> User:
        user = self.get(namespace, id_or_username)
        changes: dict[str, Any] = {}
        new_name = _text(username, "username", required=False)
        if new_name is not None and new_name != user.username:
            changes["username"] = new_name
        new_full_name = _text(full_name, "fullName", required=False)
        if new_full_name is not None:
            changes["fullName"] = new_full_name
        if not changes:
            return user
        try:
            return User.from_doc(self._users(namespace).update(user.user_id, changes))
        except DuplicateKeyError:
            raise Conflict(USER_EXISTS) from None

    def delete(self, namespace: Namespace, id_or_username: str) -> User:
        """Delete a user and what belongs to them (installs, credentials, pending installations), in one
        transaction. Executions are not theirs to delete: the vendor keeps logs until asked to remove them."""
        user = self.get(namespace, id_or_username)
        with self._store.transaction():
            self._users(namespace).delete(user.user_id)
            for name in self._owned:
                self._store.collection(namespace.id, name).delete_where("userId", user.user_id)
        return user
