"""The store: namespaced collections of JSON documents in TinyDB, indexed, journaled to disk.

Each namespace (an account's development or production environment) has its own TinyDB tables,
named `<namespace>/<collection>`, so isolation lives in the data itself. Lookups by key and by a
unique field use in-memory indexes; nothing scans a table to find one document.

All methods are synchronous and meant to be called from one thread (the event loop): a
check-then-write sequence between two awaits is atomic, which is what makes usernames unique
under concurrent requests. `await store.durable()` waits until every change made so far is on disk.
"""

from __future__ import annotations

import itertools
import operator
import queue
import threading
import time
from _collections_abc import dict_keys
from collections.abc import Awaitable, Callable, Iterator, Mapping
from collections.abc import Collection as Collection_
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Indexes:
    """The indexed fields of one kind of document: `unique` fields map a value to one key, `grouped`
    fields to the keys of every document with that value (e.g. a user's installs), in insertion order."""

    unique: tuple[str, ...] = ()
    grouped: tuple[str, ...] = ()
    # (grouped field, numeric field): the sum of the numeric field over each group, kept as documents
    # come and go (e.g. the block runs of a workflow's executions), so a total is never a recount.
    sums: tuple[tuple[str, str], ...] = ()


NO_INDEXES = Indexes()


class Collection:
    """One namespace's documents of one kind, keyed by a string id, with unique and grouped indexes."""

    def __init__(self, store: Store, table: KeyedTable, indexes: Indexes) -> None:
        self._store = store
        self._table = table
        # view(key): the stored document itself, not a copy: cheaper on hot read paths, and never to be
        # changed. The table's own method, so that a lookup by key is one call.
        self.view: Callable[[str], Mapping[str, Any] | None] = table.view_doc
        self._indexes: dict[str, dict[Any, str]] = {name: {} for name in indexes.unique}
        # An ordered set of keys per value: a dict whose values are unused.
        self._groups: dict[str, dict[Any, dict[str, None]]] = {name: {} for name in indexes.grouped}
        self._sums: dict[tuple[str, str], dict[Any, float]] = {pair: {} for pair in indexes.sums}
        for key, doc in table.raw_items():
            self._index(key, doc)

    def __len__(self) -> int:
        return len(self._table)

    def get(self, key: str) -> Doc | None:
        return self._table.get_doc(key)

    def find(self, field: str, value: Any) -> Mapping[str, Any] | None:
        """The document whose unique `field` equals `value`, if any: the stored one, not a copy (see view())."""
        key = self._indexes[field].get(value)
        return None if key is None else self.view(key)

    def all(self) -> list[Doc]:
        """Every document, in insertion order."""
        return [dict(doc) for doc in self._table.all()]

    def find_all(self, field: str, value: Any) -> list[Doc]:
        """Every document whose grouped `field` equals `value`, in insertion order (no scan)."""
        keys = self._groups[field].get(value)
        if not keys:
            return []
        found = [self.get(key) for key in keys]
        return [doc for doc in found if doc is not None]

    def page_where(self, field: str, value: Any, offset: int, limit: int, newest_first: bool = False) -> list[Doc]:
        """`limit` documents of a group after skipping `offset`, oldest or newest first: the cost is that of
        the page (and the pages before it), never of the whole group."""
        keys = self._groups[field].get(value)
        if not keys:
            return []
        ordered = reversed(keys) if newest_first else iter(keys)
        found = [self.get(key) for key in itertools.islice(ordered, offset, offset + limit)]
        return [doc for doc in found if doc is not None]

    def first_where(self, field: str, value: Any) -> str | None:
        """The key of the oldest document of a group, if any."""
        keys = self._groups[field].get(value)
        return next(iter(keys), None) if keys else None

    def sum_where(self, field: str, value: Any, summed: str) -> float:
        """The sum of `summed` over the documents whose grouped `field` equals `value` (kept, not counted)."""
        return self._sums[(field, summed)].get(value, 0)

    def newest_keys(self, field: str | None = None, value: Any = None, before: str | None = None) -> Iterator[str]:
        """The keys of every document (or of a group), newest first, from the one after `before` if given
        (KeyError if `before` is not among them). A lazy view: read it before the collection changes.

        Reaching `before` compares the newer keys at C speed (operator.indexOf consumes the iterator up to
        it), without copying them or reading their documents: about 25 ns a key (bench/browse.py).
        """
        group = None if field is None else self._groups[field].get(value, {})
        keys: dict_keys[str, Any] = self._table.raw_keys() if group is None else group.keys()
        ordered: Iterator[str] = reversed(keys)
        if before is not None:
            if before not in keys:
                raise KeyError(before)
            operator.indexOf(ordered, before)
        return ordered

    def keys_where(self, field: str, value: Any) -> Collection_[str]:
        """The keys of the documents whose grouped `field` equals `value`, in insertion order (not a copy)."""
        return self._groups[field].get(value, {}).keys()

    def count_where(self, field: str, value: Any) -> int:
        """How many documents have the grouped `field` equal to `value`."""
        return len(self._groups[field].get(value, ()))

    def delete_where(self, field: str, value: Any) -> list[Doc]:
        """Remove every document whose grouped `field` equals `value` (one transaction); returns them."""
        keys = list(self._groups[field].get(value, ()))
        removed: list[Doc] = []
        with self._store.transaction():
            for key in keys:
                old = self.delete(key)
                if old is not None:
                    removed.append(old)
        return removed

    def insert(self, key: str, doc: Mapping[str, Any]) -> None:
        """Insert one document (insert_many's checks, without its bookkeeping for batches)."""
        for name, index in self._indexes.items():
            value = doc.get(name)
            if value is not None and value in index:
                raise DuplicateKeyError(name, value)
        if not self._table.insert_new(key, doc):
            raise DuplicateKeyError("key", key)
        self._index(key, doc)
        store = self._store
        if store._depth == 0:  # one change: its own transaction (a `with` costs two calls more, per write)
            store._commit()

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
        # Re-indexed only when an indexed value changed: re-indexing moves the key to the end of its
        # group, and find_all promises insertion order (as a restart rebuilds it from the table).
        if any(old.get(name) != new.get(name) for name in (*self._indexes, *self._groups)):
            self._unindex(key, old)
            self._index(key, new)
        elif any(old.get(summed) != new.get(summed) for _, summed in self._sums):
            self._resum(old, new)
        return new

    def _resum(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        """Move the kept sums from `old` to `new` (same groups, other numbers)."""
        for (name, summed), totals in self._sums.items():
            value = new.get(name)
            if value is not None:
                totals[value] = totals.get(value, 0) - old.get(summed, 0) + new.get(summed, 0)

    def delete(self, key: str) -> Doc | None:
        """Remove a document; returns it, or None if there was none."""
        old = self.get(key)
        if old is not None:
            with self._store.transaction():
                self._table.remove_doc(key)
            self._unindex(key, old)
        return old

    def indexes(self) -> list[dict[Any, Any]]:
        return [*self._indexes.values(), *self._groups.values()]

    def _index(self, key: str, doc: Mapping[str, Any]) -> None:
        for name, index in self._indexes.items():
            value = doc.get(name)
            if value is not None:
                index[value] = key
        for name, groups in self._groups.items():
            value = doc.get(name)
            if value is not None:
                members = groups.get(value)
                if members is None:
                    groups[value] = {key: None}
                else:
                    members[key] = None
        for (name, summed), totals in self._sums.items():
            value = doc.get(name)
            if value is not None:
                totals[value] = totals.get(value, 0) + doc.get(summed, 0)

    def _unindex(self, key: str, doc: Mapping[str, Any]) -> None:
        for name, index in self._indexes.items():
            value = doc.get(name)
            if value is not None and index.get(value) == key:
                del index[value]
        for name, groups in self._groups.items():
            value = doc.get(name)
            members = groups.get(value) if value is not None else None
            if members is not None:
                members.pop(key, None)
                if not members:
                    del groups[value]
        for (name, summed), totals in self._sums.items():
            value = doc.get(name)
            if value is not None and value in totals:
                totals[value] -= doc.get(summed, 0)


def _collection_key(table_name: str) -> tuple[str, str]:
    """The (namespace, name) of a collection's table ("namespace/name")."""
    namespace, _, name = table_name.partition("/")
    return namespace, name


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

    def __init__(self, path: str | Path, indexes: Mapping[str, Indexes] | None = None) -> None:
        """Open the database at `path` (or ":memory:"), with the `indexes` of each collection name.

        Raises journal.DatabaseError.
        """
        self.path = None if str(path) == MEMORY else Path(path)
        self._indexes = dict(indexes or {})
        self._journal: Journal | None = None
        tables: Tables = {}
        if self.path is not None:
            self._journal = Journal(self.path)
            tables = self._journal.open().tables
        self._storage = RecordingStorage(tables)
        self._db = KeyedTinyDB(storage=lambda: self._storage)
        # Keyed by (namespace, name), not by the table's name: no string to build and hash per lookup.
        self._collections: dict[tuple[str, str], Collection] = {}
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
        found = self._collections.get((namespace, name))
        if found is None:
            found = Collection(self, self._table(f"{namespace}/{name}"), self._indexes.get(name, NO_INDEXES))
            self._collections[namespace, name] = found
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
                    collection = self._collections.pop(_collection_key(name), None)
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
                self._collections.pop(_collection_key(name), None)  # rebuilt with its indexes on next use

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
        storage = self._storage
        ops = storage.pending  # take_pending(), inlined: every write commits here
        if ops:
            storage.pending = []
        if not ops or self._journal is None:
            return
        self._journal.append(ops)
        self._maybe_compact(self._journal)

    def _maybe_compact(self, journal: Journal) -> None:
        """Start a compaction once the journal has outgrown the threshold (none while one runs).

        On the serving event loop it goes on in the background and no commit waits for it
        (journal.py, compaction.py).
        """
        if journal.journal_bytes <= MIN_COMPACTION_BYTES:  # below any threshold: the common case, no call
            return
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
