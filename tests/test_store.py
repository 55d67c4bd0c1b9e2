"""The store on its own: collections, unique indexes, namespaces, the journal, snapshots, locking, durability."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest
import tinydb

from alloy_mock.store import MEMORY, DatabaseError, DuplicateKeyError, Indexes, Store

store_module = importlib.import_module("alloy_mock.store.store")

UNIQUE = {"users": Indexes(unique=("username",))}
NS = "acme.dev"
OTHER_NS = "acme.prod"


def journal_of(db: Path) -> Path:
    return db.with_name(db.name + ".journal")


def journal_lines(db: Path) -> list[list[list[object]]]:
    """The transactions in the journal, parsed (every line must be complete and valid)."""
    raw = journal_of(db).read_bytes()
    assert raw == b"" or raw.endswith(b"\n"), f"journal does not end with a newline: {raw[-80:]!r}"
    return [orjson.loads(line) for line in raw.splitlines()]


def file_bytes(*paths: Path) -> dict[str, bytes | None]:
    """The bytes of each file (None if absent), to compare before and after."""
    return {p.name: (p.read_bytes() if p.exists() else None) for p in paths}


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "db.json"


@pytest.fixture
def open_store(db_path: Path) -> Iterator[Callable[..., Store]]:
    """Open stores (closed at the end of the test, so a failing test never leaks the lock)."""
    opened: list[Store] = []

    def open_(path: Path | str | None = None) -> Store:
        store = Store(db_path if path is None else path, indexes=UNIQUE)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


def reopen(store: Store, open_store: Callable[..., Store]) -> Store:
    store.flush()
    store.close()
    return open_store(store.path)


def users_state(store: Store, namespace: str = NS) -> dict[str, dict[str, object]]:
    return {doc["userId"]: doc for doc in store.collection(namespace, "users").all()}  # type: ignore[misc]


def user(user_id: str, username: str, **extra: object) -> dict[str, object]:
    return {"userId": user_id, "username": username, **extra}


# -- collections ------------------------------------------------------------------------------------


def test_insert_get_find_all(open_store: Callable[..., Store]) -> None:
    users = open_store().collection(NS, "users")
    users.insert("u1", user("u1", "ann"))
    users.insert("u2", user("u2", "bob", fullName="Bob"))
    assert len(users) == 2
    assert users.get("u1") == user("u1", "ann")
    assert users.get("missing") is None
    assert users.find("username", "bob") == user("u2", "bob", fullName="Bob")
    assert users.find("username", "nobody") is None
    assert users.all() == [user("u1", "ann"), user("u2", "bob", fullName="Bob")], "all() keeps insertion order"


def test_returned_documents_are_copies(open_store: Callable[..., Store]) -> None:
    users = open_store().collection(NS, "users")
    users.insert("u1", user("u1", "ann"))
    got = users.get("u1")
    assert got is not None
    got["username"] = "mutated"
    users.all()[0]["username"] = "mutated too"
    assert users.get("u1") == user("u1", "ann"), "mutating a returned document must not change the store"


def test_update_sets_and_removes_fields_and_moves_the_index(open_store: Callable[..., Store]) -> None:
    users = open_store().collection(NS, "users")
    users.insert("u1", user("u1", "ann", fullName="Ann"))
    new = users.update("u1", {"username": "anne", "fullName": None, "extra": 1})
    assert new == {"userId": "u1", "username": "anne", "extra": 1}
    assert users.get("u1") == new
    assert users.find("username", "anne") == new
    assert users.find("username", "ann") is None, "the old unique value must leave the index"
    users.insert("u2", user("u2", "ann"))  # and be free for another document
    assert users.find("username", "ann") == user("u2", "ann")


def test_update_missing_key_raises_key_error(open_store: Callable[..., Store]) -> None:
    users = open_store().collection(NS, "users")
    with pytest.raises(KeyError):
        users.update("nope", {"username": "x"})


def test_delete(open_store: Callable[..., Store]) -> None:
    users = open_store().collection(NS, "users")
    users.insert("u1", user("u1", "ann"))
    assert users.delete("u1") == user("u1", "ann")
    assert users.delete("u1") is None, "deleting twice returns None"
    assert users.get("u1") is None
    assert users.find("username", "ann") is None
    assert len(users) == 0
    users.insert("u1", user("u1", "ann"))  # key and unique value are free again
    assert users.get("u1") == user("u1", "ann")


def test_documents_without_the_unique_field_do_not_collide(open_store: Callable[..., Store]) -> None:
    users = open_store().collection(NS, "users")
    users.insert("u1", {"userId": "u1"})
    users.insert("u2", {"userId": "u2"})
    assert len(users) == 2


# -- unique indexes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "doc", "field"),
    [
        ("u1", user("u1", "new-name"), "key"),
        ("u3", user("u3", "ann"), "username"),
    ],
    ids=["same-key", "same-username"],
)
def test_insert_duplicate_raises_and_changes_nothing(
    open_store: Callable[..., Store], db_path: Path, key: str, doc: dict[str, object], field: str
) -> None:
    store = open_store()
    users = store.collection(NS, "users")
    users.insert("u1", user("u1", "ann"))
    users.insert("u2", user("u2", "bob"))
    store.flush()
    before_state, before_journal = users_state(store), journal_of(db_path).read_bytes()
    with pytest.raises(DuplicateKeyError) as caught:
        users.insert(key, doc)
    assert caught.value.field == field
    store.flush()
    assert users_state(store) == before_state
    assert journal_of(db_path).read_bytes() == before_journal, "a rejected insert must not reach the journal"
    assert users.find("username", "ann") == user("u1", "ann")
    assert users.find("username", "new-name") is None


@pytest.mark.parametrize(
    "items",
    [
        [("u3", user("u3", "carl")), ("u4", user("u4", "carl"))],  # duplicate inside the batch
        [("u3", user("u3", "carl")), ("u3", user("u3", "dora"))],  # duplicate key inside the batch
        [("u3", user("u3", "carl")), ("u4", user("u4", "ann"))],  # second one clashes with the store
    ],
    ids=["username-in-batch", "key-in-batch", "username-in-store"],
)
def test_insert_many_is_all_or_nothing(
    open_store: Callable[..., Store], db_path: Path, items: list[tuple[str, dict[str, object]]]
) -> None:
    store = open_store()
    users = store.collection(NS, "users")
    users.insert("u1", user("u1", "ann"))
    store.flush()
    before_journal = journal_of(db_path).read_bytes()
    with pytest.raises(DuplicateKeyError):
        users.insert_many(items)
    store.flush()
    assert users_state(store) == {"u1": user("u1", "ann")}, "no document of a rejected batch may be inserted"
    assert users.find("username", "carl") is None
    assert journal_of(db_path).read_bytes() == before_journal


def test_update_to_a_taken_value_raises_and_changes_nothing(open_store: Callable[..., Store], db_path: Path) -> None:
    store = open_store()
    users = store.collection(NS, "users")
    users.insert("u1", user("u1", "ann"))
    users.insert("u2", user("u2", "bob"))
    store.flush()
    before_journal = journal_of(db_path).read_bytes()
    with pytest.raises(DuplicateKeyError) as caught:
        users.update("u2", {"username": "ann", "fullName": "Bob"})
    assert (caught.value.field, caught.value.value) == ("username", "ann")
    store.flush()
    assert users_state(store) == {"u1": user("u1", "ann"), "u2": user("u2", "bob")}
    assert users.find("username", "bob") == user("u2", "bob")
    assert users.find("username", "ann") == user("u1", "ann")
    assert journal_of(db_path).read_bytes() == before_journal


def test_update_keeping_own_unique_value_is_fine(open_store: Callable[..., Store]) -> None:
    users = open_store().collection(NS, "users")
    users.insert("u1", user("u1", "ann"))
    assert users.update("u1", {"username": "ann", "fullName": "Ann"}) == user("u1", "ann", fullName="Ann")


def test_unique_index_is_rebuilt_after_reopen(open_store: Callable[..., Store]) -> None:
    store = open_store()
    store.collection(NS, "users").insert("u1", user("u1", "ann"))
    store = reopen(store, open_store)
    users = store.collection(NS, "users")
    assert users.find("username", "ann") == user("u1", "ann")
    with pytest.raises(DuplicateKeyError):
        users.insert("u2", user("u2", "ann"))


# -- namespaces -------------------------------------------------------------------------------------


def test_namespaces_are_separate_tables(open_store: Callable[..., Store], db_path: Path) -> None:
    store = open_store()
    store.collection(NS, "users").insert("u1", user("u1", "ann"))
    store.collection(OTHER_NS, "users").insert("u1", user("u1", "ann"))  # same key and username: no clash
    assert store.namespaces() == {NS, OTHER_NS}
    assert store.collection(NS, "users").get("u1") == user("u1", "ann")
    store.flush()
    tables = {op[1] for line in journal_lines(db_path) for op in line}
    assert tables == {f"{NS}/users", f"{OTHER_NS}/users"}, "each namespace has its own TinyDB table"


def test_reset_one_namespace_leaves_the_others(open_store: Callable[..., Store]) -> None:
    store = open_store()
    store.collection(NS, "users").insert("u1", user("u1", "ann"))
    store.collection(NS, "things").insert("t1", {"x": 1})
    store.collection(OTHER_NS, "users").insert("u1", user("u1", "ann"))
    store.put_meta("signing_keys", {"keys": []})
    store.reset(NS)
    assert store.collection(NS, "users").all() == []
    assert store.collection(NS, "things").all() == []
    assert store.collection(NS, "users").find("username", "ann") is None, "the index must be reset too"
    store.collection(NS, "users").insert("u9", user("u9", "ann"))  # the username is free again
    assert store.collection(OTHER_NS, "users").all() == [user("u1", "ann")]
    assert store.get_meta("signing_keys") == {"keys": []}
    # and the reset is on disk
    store = reopen(store, open_store)
    assert users_state(store) == {"u9": user("u9", "ann")}
    assert store.collection(NS, "things").all() == []
    assert store.collection(OTHER_NS, "users").all() == [user("u1", "ann")]


def test_reset_all_namespaces_keeps_meta(open_store: Callable[..., Store]) -> None:
    store = open_store()
    store.collection(NS, "users").insert("u1", user("u1", "ann"))
    store.collection(OTHER_NS, "users").insert("u1", user("u1", "ann"))
    store.put_meta("k", {"v": 1})
    store.reset()
    assert store.namespaces() == set()
    assert store.get_meta("k") == {"v": 1}
    store = reopen(store, open_store)
    assert store.namespaces() == set()
    assert store.get_meta("k") == {"v": 1}


# -- meta -------------------------------------------------------------------------------------------


def test_meta_get_put_and_persist(open_store: Callable[..., Store]) -> None:
    store = open_store()
    assert store.get_meta("signing_keys") is None
    store.put_meta("signing_keys", {"keys": [{"pem": "a"}]})
    store.put_meta("signing_keys", {"keys": [{"pem": "b"}]})  # replaces, not merges
    store.put_meta("other", {"n": 2})
    assert store.get_meta("signing_keys") == {"keys": [{"pem": "b"}]}
    assert store.namespaces() == set(), "meta is not a namespace"
    store = reopen(store, open_store)
    assert store.get_meta("signing_keys") == {"keys": [{"pem": "b"}]}
    assert store.get_meta("other") == {"n": 2}


def test_put_meta_replaces_the_whole_document(open_store: Callable[..., Store]) -> None:
    store = open_store()
    store.put_meta("k", {"a": 1, "b": 2})
    store.put_meta("k", {"c": 3})
    assert store.get_meta("k") == {"c": 3}
    store = reopen(store, open_store)
    assert store.get_meta("k") == {"c": 3}


# -- persistence and the journal ----------------------------------------------------------------------


def test_persistence_across_reopen(open_store: Callable[..., Store]) -> None:
    store = open_store()
    users = store.collection(NS, "users")
    users.insert("u1", user("u1", "ann"))
    users.insert("u2", user("u2", "bob"))
    users.insert("u3", user("u3", "carl"))
    users.update("u2", {"fullName": "Bob"})
    users.delete("u3")
    store.collection(OTHER_NS, "users").insert("p1", user("p1", "zed"))
    store = reopen(store, open_store)
    assert users_state(store) == {"u1": user("u1", "ann"), "u2": user("u2", "bob", fullName="Bob")}
    assert store.collection(NS, "users").all()[0]["userId"] == "u1", "insertion order survives"
    assert users_state(store, OTHER_NS) == {"p1": user("p1", "zed")}


def test_close_flushes_pending_writes(open_store: Callable[..., Store]) -> None:
    store = open_store()
    for i in range(50):
        store.collection(NS, "users").insert(f"u{i}", user(f"u{i}", f"name{i}"))
    store.close()  # no flush() first
    assert len(open_store().collection(NS, "users")) == 50


def test_journal_has_one_line_per_transaction(open_store: Callable[..., Store], db_path: Path) -> None:
    store = open_store()
    users = store.collection(NS, "users")
    users.insert_many([("u1", user("u1", "ann")), ("u2", user("u2", "bob"))])
    users.update("u1", {"fullName": "Ann"})
    users.delete("u2")
    store.flush()
    assert journal_lines(db_path) == [
        [["put", f"{NS}/users", "u1", user("u1", "ann")], ["put", f"{NS}/users", "u2", user("u2", "bob")]],
        [["put", f"{NS}/users", "u1", user("u1", "ann", fullName="Ann")]],
        [["del", f"{NS}/users", "u2"]],
    ]
    assert orjson.loads(db_path.read_bytes()) == {}, "the snapshot stays the empty one until the first compaction"


def test_journal_replay_over_snapshot(open_store: Callable[..., Store], db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(
        orjson.dumps({f"{NS}/users": {"u1": user("u1", "ann"), "u2": user("u2", "bob")}, "_meta": {"k": {"v": 1}}})
    )
    journal_of(db_path).write_bytes(
        b"".join(
            orjson.dumps(line) + b"\n"
            for line in [
                [["put", f"{NS}/users", "u3", user("u3", "carl")]],
                [["del", f"{NS}/users", "u1"]],
                [["put", f"{NS}/users", "u2", user("u2", "bobby")], ["put", "_meta", "k", {"v": 2}]],
                [["drop", f"{OTHER_NS}/users"]],
            ]
        )
    )
    store = open_store()
    assert users_state(store) == {"u2": user("u2", "bobby"), "u3": user("u3", "carl")}
    assert store.get_meta("k") == {"v": 2}
    assert store.collection(NS, "users").find("username", "bobby") == user("u2", "bobby")
    assert store.collection(NS, "users").find("username", "bob") is None


@pytest.mark.parametrize(
    "torn",
    [
        b'[["put","acme.dev/users","u9",{"userId":"u9","usern',  # half a line
        b"\x00\x00\x00\x00",  # zero-filled tail
        b"garbage without newline",
    ],
    ids=["half-line", "zeros", "garbage"],
)
def test_torn_last_line_is_dropped(open_store: Callable[..., Store], db_path: Path, torn: bytes) -> None:
    store = open_store()
    store.collection(NS, "users").insert("u1", user("u1", "ann"))
    store.collection(NS, "users").insert("u2", user("u2", "bob"))
    store.flush()
    store.close()
    good = journal_of(db_path).read_bytes()
    journal_of(db_path).write_bytes(good + torn)
    store = open_store()
    assert users_state(store) == {"u1": user("u1", "ann"), "u2": user("u2", "bob")}
    assert journal_of(db_path).read_bytes() == good, "the torn tail is cut off so new lines append cleanly"
    store.collection(NS, "users").insert("u3", user("u3", "carl"))
    store = reopen(store, open_store)
    assert set(users_state(store)) == {"u1", "u2", "u3"}


def test_torn_half_of_a_real_line_is_dropped(open_store: Callable[..., Store], db_path: Path) -> None:
    store = open_store()
    store.collection(NS, "users").insert("u1", user("u1", "ann"))
    store.collection(NS, "users").insert("u2", user("u2", "bob"))
    store.flush()
    store.close()
    raw = journal_of(db_path).read_bytes()
    first_end = raw.index(b"\n") + 1
    cut = first_end + (len(raw) - first_end) // 2
    journal_of(db_path).write_bytes(raw[:cut])  # the second line lost its second half
    store = open_store()
    assert users_state(store) == {"u1": user("u1", "ann")}
    assert journal_of(db_path).read_bytes() == raw[:first_end]


def test_complete_but_corrupt_last_line_is_refused(open_store: Callable[..., Store], db_path: Path) -> None:
    """A last line that ends in a newline was written whole, so it may have been acknowledged:
    damage there is not a torn append and must not be dropped silently."""
    store = open_store()
    store.collection(NS, "users").insert("u1", user("u1", "ann"))
    store.flush()
    store.close()
    journal_of(db_path).write_bytes(journal_of(db_path).read_bytes() + b'[["put", "broken\n')
    before = file_bytes(db_path, journal_of(db_path))
    with pytest.raises(DatabaseError, match="corrupt journal"):
        open_store()
    assert file_bytes(db_path, journal_of(db_path)) == before


@pytest.mark.parametrize(
    "bad_line",
    [
        b"this is not json",
        b'{"not": "a list"}',
        b'[["explode", "t", "k"]]',  # unknown operation
        b'[["put", "acme.dev/users"]]',  # too short
        b'[["put", "acme.dev/users", "u5", 5]]',  # a document that is not an object
    ],
    ids=["not-json", "not-a-list", "unknown-op", "short-op", "non-object-doc"],
)
def test_corrupt_line_in_the_middle_raises_and_leaves_files_untouched(
    open_store: Callable[..., Store], db_path: Path, bad_line: bytes
) -> None:
    store = open_store()
    store.collection(NS, "users").insert("u1", user("u1", "ann"))
    store.flush()
    store.close()
    db_path.write_bytes(orjson.dumps({f"{NS}/users": {"u0": user("u0", "zero")}}))
    good_line = orjson.dumps([["put", f"{NS}/users", "u2", user("u2", "bob")]]) + b"\n"
    journal_of(db_path).write_bytes(journal_of(db_path).read_bytes() + bad_line + b"\n" + good_line)
    before = file_bytes(db_path, journal_of(db_path))
    with pytest.raises(DatabaseError) as caught:
        open_store()
    message = str(caught.value)
    assert str(journal_of(db_path)) in message, f"message should name the journal: {message}"
    assert "\n" not in message
    assert file_bytes(db_path, journal_of(db_path)) == before, "a corrupt journal must be left as it is"
    # The failed open released the lock: opening again fails the same way, not with "in use".
    with pytest.raises(DatabaseError, match="corrupt journal"):
        open_store()


@pytest.mark.parametrize(
    "content",
    [
        b'{"acme.dev/users": {"u1": {"userId": "u1"',  # truncated JSON
        b"not json at all",
        b"[1, 2, 3]",
        b"null",
        b'"a string"',
        b'{"acme.dev/users": [1, 2]}',
        b'{"acme.dev/users": {"u1": 5}}',
    ],
    ids=["truncated", "garbage", "array", "null", "string", "table-not-object", "doc-not-object"],
)
def test_corrupt_snapshot_raises_and_leaves_bytes_untouched(
    open_store: Callable[..., Store], db_path: Path, content: bytes
) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(content)
    journal = orjson.dumps([["put", f"{NS}/users", "u2", user("u2", "bob")]]) + b"\n"
    journal_of(db_path).write_bytes(journal)
    with pytest.raises(DatabaseError) as caught:
        open_store()
    message = str(caught.value)
    assert str(db_path) in message, f"message should name the database file: {message}"
    assert "\n" not in message
    assert db_path.read_bytes() == content, "a corrupt database file must never be replaced"
    assert journal_of(db_path).read_bytes() == journal
    assert not db_path.with_name(db_path.name + ".tmp").exists()


def test_empty_snapshot_file_is_an_empty_database(open_store: Callable[..., Store], db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"")
    store = open_store()
    assert store.namespaces() == set()


def test_plain_tinydb_file_is_readable(open_store: Callable[..., Store], db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    plain = tinydb.TinyDB(db_path)
    plain.table(f"{NS}/users").insert(user("x", "ann"))
    plain.close()
    store = open_store()
    assert store.collection(NS, "users").find("username", "ann") == user("x", "ann")


def test_unreadable_data_folder_raises(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(DatabaseError) as caught:
        Store(blocker / "db.json")
    assert str(blocker) in str(caught.value)
    assert blocker.read_text() == "not a folder"


# -- compaction --------------------------------------------------------------------------------------


@pytest.fixture
def compact_always(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every write makes the journal larger than the compaction threshold (until the snapshot grows)."""
    monkeypatch.setattr(store_module, "MIN_COMPACTION_BYTES", 1)


def read_with_plain_tinydb(path: Path) -> dict[str, dict[str, object]]:
    plain = tinydb.TinyDB(path, access_mode="r")
    try:
        return {name: dict(plain.storage.read()[name]) for name in plain.tables()}  # type: ignore[index]
    finally:
        plain.close()


@pytest.mark.usefixtures("compact_always")
def test_compaction_writes_a_plain_tinydb_snapshot_and_empties_the_journal(
    open_store: Callable[..., Store], db_path: Path
) -> None:
    store = open_store()
    store.collection(NS, "users").insert("u1", user("u1", "ann"))
    store.flush()
    assert db_path.exists(), "compaction should have written a snapshot"
    assert journal_of(db_path).read_bytes() == b"", "compaction should have emptied the journal"
    assert not db_path.with_name(db_path.name + ".tmp").exists()
    # Plain TinyDB reads the snapshot, documents under their own ids.
    plain = tinydb.TinyDB(db_path, access_mode="r")
    try:
        assert plain.tables() == {f"{NS}/users"}
        assert plain.table(f"{NS}/users").get(doc_id="u1") == user("u1", "ann")  # type: ignore[arg-type]
    finally:
        plain.close()
    # Writes after the compaction go to the journal again, and everything reloads.
    store.collection(NS, "users").insert("u2", user("u2", "bob"))
    store.flush()
    assert journal_lines(db_path) == [[["put", f"{NS}/users", "u2", user("u2", "bob")]]]
    store = reopen(store, open_store)
    assert users_state(store) == {"u1": user("u1", "ann"), "u2": user("u2", "bob")}


def test_compaction_of_many_writes_matches_the_state(
    open_store: Callable[..., Store], db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "MIN_COMPACTION_BYTES", 2000)
    store = open_store()
    users = store.collection(NS, "users")
    for i in range(300):
        users.insert(f"u{i}", user(f"u{i}", f"name{i}"))
        if i % 3 == 0:
            users.update(f"u{i}", {"fullName": f"Full {i}"})
        if i % 5 == 0:
            users.delete(f"u{i}")
    store.put_meta("k", {"v": 1})
    expected = users_state(store)
    store.flush()
    assert db_path.exists(), "300 writes past a 2 kB threshold should have compacted"
    # The journal never outgrows the threshold: each time it did, a snapshot replaced it.
    journal_size, snapshot_size = journal_of(db_path).stat().st_size, db_path.stat().st_size
    assert journal_size <= max(2000, 2 * snapshot_size), f"journal {journal_size} B, snapshot {snapshot_size} B"
    snapshot = read_with_plain_tinydb(db_path)
    assert snapshot[f"{NS}/users"], "the snapshot holds the users written before the last compaction"
    assert set(snapshot[f"{NS}/users"]) <= {f"u{i}" for i in range(300)}
    store = reopen(store, open_store)
    assert users_state(store) == expected
    assert store.get_meta("k") == {"v": 1}


def test_a_big_journal_is_compacted_by_the_next_write_not_at_open(
    open_store: Callable[..., Store], db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening never compacts (start-up stays fast after a crash); the first commit past the threshold does."""
    store = open_store()
    for i in range(20):
        store.collection(NS, "users").insert(f"u{i}", user(f"u{i}", f"name{i}"))
    store.flush()
    store.close()
    assert orjson.loads(db_path.read_bytes()) == {}, "no compaction yet: the empty first snapshot"
    monkeypatch.setattr(store_module, "MIN_COMPACTION_BYTES", 1)
    store = open_store()
    store.flush()
    assert journal_of(db_path).read_bytes() != b"", "opening alone must not compact"
    store.collection(NS, "users").insert("u20", user("u20", "name20"))
    expected = users_state(store)
    store.flush()
    assert journal_of(db_path).read_bytes() == b"", "the write past the threshold compacts"
    assert {"u20"} <= set(orjson.loads(db_path.read_bytes())[f"{NS}/users"])
    store = reopen(store, open_store)
    assert users_state(store) == expected


def test_crash_between_snapshot_and_journal_truncation_loads_the_same_state(
    open_store: Callable[..., Store], db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # History: inserts, updates, deletes, a reset (drop) and meta, all in the journal.
    store = open_store()
    users = store.collection(NS, "users")
    for i in range(10):
        users.insert(f"u{i}", user(f"u{i}", f"name{i}"))
    users.update("u1", {"username": "renamed"})
    users.delete("u2")
    store.collection(OTHER_NS, "users").insert("p1", user("p1", "zed"))
    store.reset(OTHER_NS)
    store.collection(OTHER_NS, "users").insert("p2", user("p2", "yan"))
    store.put_meta("k", {"v": 1})
    store.put_meta("k", {"v": 2})
    expected = (users_state(store), users_state(store, OTHER_NS), store.get_meta("k"))
    store.flush()
    store.close()
    old_journal = journal_of(db_path).read_bytes()

    # Compact: the first write past the threshold writes the snapshot and empties the journal.
    monkeypatch.setattr(store_module, "MIN_COMPACTION_BYTES", 1)
    store = open_store()
    store.put_meta("k", {"v": 2})  # the value it already has: a write that changes nothing
    store.flush()
    store.close()
    assert db_path.exists() and journal_of(db_path).read_bytes() == b""
    monkeypatch.setattr(store_module, "MIN_COMPACTION_BYTES", 8 * 1024 * 1024)

    # The crash: the new snapshot is in place, but the journal still holds the old lines.
    journal_of(db_path).write_bytes(old_journal)
    store = open_store()
    assert (users_state(store), users_state(store, OTHER_NS), store.get_meta("k")) == expected
    assert store.collection(NS, "users").find("username", "renamed") == user("u1", "renamed")
    assert store.collection(NS, "users").find("username", "name1") is None


# -- locking --------------------------------------------------------------------------------------------


def test_second_store_on_the_same_path_is_refused(open_store: Callable[..., Store], db_path: Path) -> None:
    first = open_store()
    first.collection(NS, "users").insert("u1", user("u1", "ann"))
    first.flush()
    before = file_bytes(db_path, journal_of(db_path))
    with pytest.raises(DatabaseError, match="in use") as caught:
        Store(db_path, indexes=UNIQUE)
    assert str(db_path) in str(caught.value)
    assert file_bytes(db_path, journal_of(db_path)) == before
    # The first store is unaffected, and once it is closed the path can be opened again.
    first.collection(NS, "users").insert("u2", user("u2", "bob"))
    first.close()
    assert set(users_state(open_store())) == {"u1", "u2"}


# -- durability ------------------------------------------------------------------------------------


def test_durable_resolves_for_many_concurrent_writers(open_store: Callable[..., Store], db_path: Path) -> None:
    store = open_store()
    writers = 300

    async def write(i: int) -> str:
        await asyncio.sleep(0)  # interleave the writers
        store.collection(NS, "users").insert(f"u{i}", user(f"u{i}", f"name{i}"))
        await store.durable()
        # Acknowledged: this write must already be in the journal file, without flush().
        assert f'"u{i}"'.encode() in journal_of(db_path).read_bytes(), f"write u{i} not on disk after durable()"
        return f"u{i}"

    async def main() -> list[str]:
        return await asyncio.wait_for(asyncio.gather(*(write(i) for i in range(writers))), timeout=30)

    done = asyncio.run(main())
    assert len(done) == writers
    written = {op[2] for line in journal_lines(db_path) for op in line}
    assert written == {f"u{i}" for i in range(writers)}, "every acknowledged write must be in the journal"
    assert not store.has_pending_writes


def test_durable_with_nothing_pending_returns(open_store: Callable[..., Store]) -> None:
    store = open_store()
    asyncio.run(asyncio.wait_for(store.durable(), timeout=10))
    assert not store.has_pending_writes


# -- :memory: -------------------------------------------------------------------------------------


def test_memory_store_writes_nothing_to_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(store_module, "MIN_COMPACTION_BYTES", 1)
    store = Store(MEMORY, indexes=UNIQUE)
    assert store.path is None
    users = store.collection(NS, "users")
    users.insert("u1", user("u1", "ann"))
    with pytest.raises(DuplicateKeyError):
        users.insert("u2", user("u2", "ann"))
    users.update("u1", {"fullName": "Ann"})
    store.put_meta("k", {"v": 1})
    store.reset(OTHER_NS)
    asyncio.run(asyncio.wait_for(store.durable(), timeout=5))
    store.flush()
    assert not store.has_pending_writes
    assert users.get("u1") == user("u1", "ann", fullName="Ann")
    store.close()
    assert list(tmp_path.iterdir()) == [], "a :memory: store must not create any file"
    # A second :memory: store is independent (no lock, no shared data).
    other = Store(MEMORY)
    assert other.namespaces() == set()
    other.close()


def test_a_new_database_file_exists_from_the_start(open_store: Callable[..., Store], db_path: Path) -> None:
    """--db names a file that plain TinyDB can open as soon as the server has started."""
    store = open_store()
    assert orjson.loads(db_path.read_bytes()) == {}
    store.close()
    assert tinydb.TinyDB(db_path).tables() == set()


# -- grouped indexes and kept sums ------------------------------------------------------------------

RUNS = Indexes(grouped=("workflow", "owner"), sums=(("workflow", "actions"),))


def test_grouped_indexes_page_count_and_delete_without_scanning() -> None:
    store = Store(MEMORY, indexes={"runs": RUNS})
    runs = store.collection("ns", "runs")
    for n in range(7):
        runs.insert(f"r{n}", {"workflow": "w1" if n % 2 == 0 else "w2", "owner": f"u{n % 3}", "actions": n})
    assert [doc["actions"] for doc in runs.find_all("workflow", "w1")] == [0, 2, 4, 6]
    assert runs.count_where("workflow", "w2") == 3
    assert [doc["actions"] for doc in runs.page_where("workflow", "w1", 1, 2)] == [2, 4]
    assert [doc["actions"] for doc in runs.page_where("workflow", "w1", 0, 3, newest_first=True)] == [6, 4, 2]
    assert runs.page_where("workflow", "w1", 10, 3) == []
    assert runs.first_where("workflow", "w2") == "r1"
    assert [doc["actions"] for doc in runs.delete_where("owner", "u0")] == [0, 3, 6]
    assert [doc["actions"] for doc in runs.find_all("workflow", "w1")] == [2, 4]
    assert runs.count_where("owner", "u0") == 0 and runs.first_where("owner", "u0") is None


def test_kept_sums_follow_inserts_updates_moves_and_deletes() -> None:
    store = Store(MEMORY, indexes={"runs": RUNS})
    runs = store.collection("ns", "runs")
    runs.insert("a", {"workflow": "w1", "owner": "u", "actions": 2})
    runs.insert("b", {"workflow": "w1", "owner": "u", "actions": 5})
    assert runs.sum_where("workflow", "w1", "actions") == 7
    runs.update("a", {"actions": 10})  # same group, another number
    assert runs.sum_where("workflow", "w1", "actions") == 15
    runs.update("b", {"workflow": "w2"})  # moves to another group
    assert (runs.sum_where("workflow", "w1", "actions"), runs.sum_where("workflow", "w2", "actions")) == (10, 5)
    runs.delete("a")
    assert runs.sum_where("workflow", "w1", "actions") == 0
    assert runs.sum_where("workflow", "nobody", "actions") == 0


def test_updates_keep_a_group_in_insertion_order() -> None:
    store = Store(MEMORY, indexes={"runs": RUNS})
    runs = store.collection("ns", "runs")
    for key in ("a", "b", "c"):
        runs.insert(key, {"workflow": "w", "owner": "u", "actions": 1})
    runs.update("a", {"actions": 3})
    assert [doc["actions"] for doc in runs.find_all("workflow", "w")] == [3, 1, 1]


def test_grouped_indexes_and_sums_are_rebuilt_from_disk(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.json", indexes={"runs": RUNS})
    runs = store.collection("ns", "runs")
    runs.insert("a", {"workflow": "w", "owner": "u", "actions": 4})
    runs.insert("b", {"workflow": "w", "owner": "v", "actions": 6})
    runs.update("a", {"actions": 1})
    store.flush()
    store.close()
    reopened = Store(tmp_path / "db.json", indexes={"runs": RUNS})
    again = reopened.collection("ns", "runs")
    assert [doc["owner"] for doc in again.find_all("workflow", "w")] == ["u", "v"]
    assert again.sum_where("workflow", "w", "actions") == 7
    reopened.close()
