"""The store: namespaced collections of JSON documents in TinyDB, indexed, journaled to disk.

Each namespace (an account's development or production environment) has its own TinyDB tables,
named `<namespace>/<collection>`, so isolation lives in the data itself. Lookups by key and by a
unique field use in-memory indexes; nothing scans a table to find one document.

All methods are synchronous and meant to be called from one thread (the event loop): a
check-then-write sequence between two awaits is atomic, which is what makes usernames unique
under concurrent requests. `await store.durable()` waits until every change made so far is on disk.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Awaitable, Mapping
from pathlib import Path
from typing import Any

import orjson

from .journal import READY, Journal
from .tinydb_ext import Doc, KeyedTable, KeyedTinyDB, RecordingStorage, Tables

MEMORY = ":memory:"
META_TABLE = "_meta"
# Compact when the journal is larger than this, or than JOURNAL_PER_SNAPSHOT times the last
# snapshot, whichever is more: snapshot cost stays proportional to the writes that paid for it.
MIN_COMPACTION_BYTES = 8 * 1024 * 1024
JOURNAL_PER_SNAPSHOT = 2


def _compaction_threshold(snapshot_bytes: int) -> int:
    return max(MIN_COMPACTION_BYTES, JOURNAL_PER_SNAPSHOT * snapshot_bytes)


class DuplicateKeyError(Exception):
    """An insert or update would give two documents the same key or unique field value."""

    def __init__(self, field: str, value: Any) -> None:
        super().__init__(f"duplicate {field}: {value!r}")
        self.field = field
        self.value = value


class _Transaction:
    """The context manager behind Store.transaction(): nests, and commits when the outermost one ends.

    A plain class rather than @contextmanager, whose generator costs more than the insert it wraps.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    def __enter__(self) -> None:
        self._store._depth += 1

    def __exit__(self, *exc_info: object) -> None:
        store = self._store
        store._depth -= 1
        if store._depth == 0:
            store._commit()


class Collection:
    """One namespace's documents of one kind, keyed by a string id, with unique-field indexes."""

    def __init__(self, store: Store, table: KeyedTable, unique: tuple[str, ...]) -> None:
        self._store = store
        self._table = table
        self._indexes: dict[str, dict[Any, str]] = {name: {} for name in unique}
        for key, doc in table.raw_items():
            self._index(key, doc)

    def __len__(self) -> int:
        return len(self._table)

    def get(self, key: str) -> Doc | None:
        return self._table.get_doc(key)

    def find(self, field: str, value: Any) -> Doc | None:
        """The document whose unique `field` equals `value`, if any."""
        key = self._indexes[field].get(value)
        return None if key is None else self.get(key)

    def all(self) -> list[Doc]:
        """Every document, in insertion order."""
        return [dict(doc) for doc in self._table.all()]

    def insert(self, key: str, doc: Mapping[str, Any]) -> None:
        """Insert one document (insert_many's checks, without its bookkeeping for batches)."""
        for name, index in self._indexes.items():
            value = doc.get(name)
            if value is not None and value in index:
                raise DuplicateKeyError(name, value)
        with self._store.transaction():
            if not self._table.insert_new(key, doc):
                raise DuplicateKeyError("key", key)
        self._index(key, doc)

    def insert_many(self, items: list[tuple[str, Mapping[str, Any]]]) -> None:
        """Insert documents in one transaction; all keys and unique values must be new."""
        keys: set[str] = set()
        values: dict[str, set[Any]] = {name: set() for name in self._indexes}
        for key, doc in items:
            if key in keys or self._table.get_doc(key) is not None:
                raise DuplicateKeyError("key", key)
            keys.add(key)
            for name, index in self._indexes.items():
                value = doc.get(name)
                if value is not None and (value in index or value in values[name]):
                    raise DuplicateKeyError(name, value)
                values[name].add(value)
        with self._store.transaction():
            self._table.insert_docs(items)
        for key, doc in items:
            self._index(key, doc)

    def update(self, key: str, changes: Mapping[str, Any]) -> Doc:
        """Set fields of an existing document (None removes a field); returns the new document."""
        old = self.get(key)
        if old is None:
            raise KeyError(key)
        new = {**old, **changes}
        for name in [k for k, v in changes.items() if v is None]:
            del new[name]
        for name, index in self._indexes.items():
            value = new.get(name)
            if value is not None and index.get(value, key) != key:
                raise DuplicateKeyError(name, value)
        with self._store.transaction():
            self._table.replace_doc(key, new)
        self._unindex(key, old)
        self._index(key, new)
        return new

    def delete(self, key: str) -> Doc | None:
        """Remove a document; returns it, or None if there was none."""
        old = self.get(key)
        if old is not None:
            with self._store.transaction():
                self._table.remove_doc(key)
            self._unindex(key, old)
        return old

    def indexes(self) -> list[dict[Any, str]]:
        return list(self._indexes.values())

    def _index(self, key: str, doc: Mapping[str, Any]) -> None:
        for name, index in self._indexes.items():
            value = doc.get(name)
            if value is not None:
                index[value] = key

    def _unindex(self, key: str, doc: Mapping[str, Any]) -> None:
        for name, index in self._indexes.items():
            value = doc.get(name)
            if value is not None and index.get(value) == key:
                del index[value]


class _Reaper:
    """Frees dropped tables on a background thread, a slice at a time.

    Dropping a dict of 100,000 documents frees them all in one C call that holds the GIL for
    milliseconds; emptying it with popitem() in a Python loop lets the event loop run in between.
    """

    SLICE = 256

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[dict[Any, Any]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def discard(self, table: dict[Any, Any]) -> None:
        if not table:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="alloy-mock-reaper", daemon=True)
                self._thread.start()
        self._queue.put(table)

    def _run(self) -> None:
        while True:
            table = self._queue.get()
            while table:
                for _ in range(min(self.SLICE, len(table))):
                    table.popitem()
                time.sleep(0)  # hand the GIL back at once: the event loop and the journal writer go first
            del table


_reaper = _Reaper()


class Store:
    """Namespaced collections over one TinyDB database, optionally backed by files on disk."""

    def __init__(self, path: str | Path, unique_fields: Mapping[str, tuple[str, ...]] | None = None) -> None:
        """Open the database at `path` (or ":memory:"). Raises journal.DatabaseError."""
        self.path = None if str(path) == MEMORY else Path(path)
        self._unique_fields = dict(unique_fields or {})
        self._journal: Journal | None = None
        tables: Tables = {}
        if self.path is not None:
            self._journal = Journal(self.path)
            tables = self._journal.open().tables
        self._storage = RecordingStorage(tables)
        self._db = KeyedTinyDB(storage=lambda: self._storage)
        self._collections: dict[str, Collection] = {}
        self._depth = 0
        self._transaction = _Transaction(self)
        # Build every index now, so the first request after a start does not pay for it. (No
        # compaction here: the first commit past the threshold queues one, off the start-up path.)
        for name in self._db.tables():
            namespace, _, kind = name.partition("/")
            if kind:
                self.collection(namespace, kind)

    # -- collections and namespaces -------------------------------------------------------------

    def collection(self, namespace: str, name: str) -> Collection:
        table_name = f"{namespace}/{name}"
        found = self._collections.get(table_name)
        if found is None:
            found = Collection(self, self._table(table_name), self._unique_fields.get(name, ()))
            self._collections[table_name] = found
        return found

    def namespaces(self) -> set[str]:
        return {name.split("/", 1)[0] for name in self._db.tables() if "/" in name}

    def reset(self, namespace: str | None = None) -> None:
        """Drop every collection of one namespace (or of all of them).

        Cost: one journal operation per table, whatever the tables hold. Freeing a large table's
        documents takes time in proportion to their number, so that happens on another thread.
        """
        prefix = None if namespace is None else f"{namespace}/"
        with self.transaction():
            for name in list(self._db.tables()):
                if "/" in name and (prefix is None or name.startswith(prefix)):
                    _reaper.discard(self._storage.read().get(name, {}))  # keeps it alive past drop_table
                    collection = self._collections.pop(name, None)
                    if collection is not None:
                        for index in collection.indexes():
                            _reaper.discard(index)
                    self._db.drop_table(name)

    def export(self, namespace: str | None = None) -> Tables:
        """A deep copy of one namespace's tables (or of all namespaces'), e.g. for a snapshot."""
        prefix = None if namespace is None else f"{namespace}/"
        data = self._storage.read()
        chosen = {n: t for n, t in data.items() if "/" in n and (prefix is None or n.startswith(prefix))}
        copied: Tables = orjson.loads(orjson.dumps(chosen))
        return copied

    def restore(self, tables: Tables, namespace: str | None = None) -> None:
        """Replace one namespace (or all) with exported tables, in one transaction."""
        prefix = None if namespace is None else f"{namespace}/"
        with self.transaction():
            self.reset(namespace)
            for name, docs in orjson.loads(orjson.dumps(tables)).items():
                if "/" not in name or (prefix is not None and not name.startswith(prefix)):
                    raise ValueError(f"table {name!r} is not in namespace {namespace!r}")
                self._table(name).insert_docs(list(docs.items()))
                self._collections.pop(name, None)  # rebuilt with its indexes on next use

    # -- small key/value documents outside namespaces (e.g. the token signing key) --------------

    def get_meta(self, key: str) -> Doc | None:
        return self._table(META_TABLE).get_doc(key)

    def put_meta(self, key: str, doc: Mapping[str, Any]) -> None:
        with self.transaction():
            self._table(META_TABLE).replace_doc(key, doc)

    def _table(self, name: str) -> KeyedTable:
        table = self._db.table(name)
        assert isinstance(table, KeyedTable)
        return table

    # -- transactions and durability ----------------------------------------------------------------

    def transaction(self) -> _Transaction:
        """Group the changes made inside into one journal line (all or nothing on disk)."""
        return self._transaction

    def _commit(self) -> None:
        ops = self._storage.take_pending()
        if not ops or self._journal is None:
            return
        self._journal.append(ops)
        self._maybe_compact(self._journal)

    def _maybe_compact(self, journal: Journal) -> None:
        """Start a compaction once the journal has outgrown the threshold (none while one runs).

        On the serving event loop it goes on in the background and no commit waits for it
        (journal.py, compaction.py).
        """
        if journal.journal_bytes > _compaction_threshold(journal.snapshot_bytes) and journal.can_compact():
            # can_compact() took the size of a snapshot finished since: the threshold may have grown.
            if journal.journal_bytes > _compaction_threshold(journal.snapshot_bytes):
                journal.compact(self._storage.read())

    @property
    def has_pending_writes(self) -> bool:
        return self._journal is not None and self._journal.pending

    def durable(self) -> Awaitable[None]:
        """`await store.durable()` returns once every change made so far is on disk (at once for ":memory:").

        A plain function returning the awaitable (Journal.wait()'s future), not a coroutine: one
        frame less for every write request to suspend and resume through.
        """
        return READY if self._journal is None else self._journal.wait()

    def flush(self) -> None:
        """Blocking form of `durable()`, for code outside the event loop."""
        if self._journal is not None:
            self._journal.flush()

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None
