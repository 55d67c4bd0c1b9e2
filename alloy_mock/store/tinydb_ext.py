"""TinyDB extensions that make writes O(1) and let every change be journaled.

Plain TinyDB hands the *whole* database to its storage on every write, and its tables convert
every key of a table on every update. Here:

- `KeyedTable` uses string document ids chosen by the caller (a user's id is its document id),
  and updates the table in place, recording which documents an operation touched.
- `RecordingStorage` keeps the data in memory and collects those changes as journal operations
  (`put`, `del`, `drop`), which the store writes to disk.
"""

from __future__ import annotations

from _collections_abc import dict_keys
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

Doc = dict[str, Any]
Tables = dict[str, dict[str, Doc]]
# A journal operation: ["put", table, id, doc] | ["del", table, id] | ["drop", table]
Op = list[Any]


class RecordingStorage(Storage):
    """In-memory TinyDB storage that records the changes made through `KeyedTable`."""

    def __init__(self, data: Tables | None = None) -> None:
        # The live tables (what read() returns): a plain attribute, read without a call on hot paths.
        self.data: Tables = data if data is not None else {}
        self._known_tables = set(self.data)
        self.pending: list[Op] = []

    def read(self) -> Tables:
        # The live dict, not a copy: KeyedTable updates it in place.
        return self.data

    def write(self, data: Tables) -> None:
        # KeyedTable has already recorded its document changes; what reaches here from TinyDB
        # itself is a table-level change (drop_table / drop_tables), found by comparing names.
        for name in self._known_tables - data.keys():
            self.pending.append(["drop", name])
        self.data = data
        self._known_tables = set(data)

    def record(self, op: Op) -> None:
        if op[0] == "put":
            self._known_tables.add(op[1])
        self.pending.append(op)

    def record_put(self, table: str, key: str, doc: Doc) -> None:
        """record(["put", table, key, doc]), for the insert of one document."""
        self._known_tables.add(table)
        self.pending.append(["put", table, key, doc])

    def take_pending(self) -> list[Op]:
        ops, self.pending = self.pending, []
        return ops


class _ChangeRecorder(MutableMapping[str, Doc]):
    """The view of one table that TinyDB's updaters mutate; remembers the ids they touch."""

    def __init__(self, raw: dict[str, Doc]) -> None:
        self.raw = raw
        self.touched: dict[str, None] = {}  # ordered set
        self.cleared = False

    def __getitem__(self, doc_id: str) -> Doc:
        # TinyDB's update() mutates the returned document in place, so reading counts as touching.
        self.touched[doc_id] = None
        return self.raw[doc_id]

    def __setitem__(self, doc_id: str, doc: Doc) -> None:
        self.touched[doc_id] = None
        self.raw[doc_id] = doc

    def __delitem__(self, doc_id: str) -> None:
        self.touched[doc_id] = None
        del self.raw[doc_id]

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self.raw

    def __iter__(self) -> Iterator[str]:
        return iter(self.raw)

    def __len__(self) -> int:
        return len(self.raw)

    def clear(self) -> None:
        self.cleared = True
        self.touched.clear()
        self.raw.clear()


class KeyedTable(Table):
    """A TinyDB table whose document ids are caller-chosen strings, updated in O(changed docs).

    The typed helpers below wrap TinyDB's own calls, whose annotations assume integer ids.
    """

    document_id_class = str  # type: ignore[assignment]

    def __init__(
        self,
        storage: Storage,
        name: str,
        cache_size: int = Table.default_query_cache_capacity,
        persist_empty: bool = False,
    ) -> None:
        super().__init__(storage, name, cache_size, persist_empty)
        assert isinstance(storage, RecordingStorage), "KeyedTable needs a RecordingStorage"
        # Read and written straight through the storage's dict: TinyDB's _read_table() and the `name`
        # property cost more Python calls than the lookups on the hot paths they would wrap.
        self._recording = storage

    def get_doc(self, key: str) -> Doc | None:
        """A copy of one document (TinyDB's get() would copy it twice, into a Document and back)."""
        doc = self.view_doc(key)
        return dict(doc) if doc is not None else None

    def view_doc(self, key: str) -> Mapping[str, Any] | None:
        """The stored document itself (not a copy), for reading only."""
        table = self._recording.data.get(self._name)
        return None if table is None else table.get(key)

    def raw_keys(self) -> dict_keys[str, Any]:
        """The stored ids in insertion order: a live view, not a copy."""
        return self._read_table().keys()

    def raw_items(self) -> Iterator[tuple[str, Mapping[str, Any]]]:
        """The stored (id, document) pairs, not copied: for building indexes, not for changing."""
        return iter(self._read_table().items())

    def insert_docs(self, items: list[tuple[str, Mapping[str, Any]]]) -> None:
        """Insert documents under their keys; ValueError if a key is taken (and nothing is inserted).

        Through the same recorded update as every change, but without insert_multiple()'s
        Document wrapper per item.
        """

        def insert(table: MutableMapping[str, Doc]) -> None:
            taken = [key for key, _ in items if key in table]
            if taken:
                raise ValueError(f"document ids already exist: {taken[:5]}")
            for key, doc in items:
                table[key] = dict(doc)

        self._update_table(insert)  # type: ignore[arg-type]

    def insert_new(self, key: str, doc: Mapping[str, Any]) -> bool:
        """Insert one document under a key that must be free; False (and no change) if it is taken.

        The hot path of POST /users: the same recorded change as insert_docs(), written directly.
        """
        tables = self._recording.data
        raw = tables.get(self._name)
        if raw is None:  # setdefault(name, {}) would make an empty dict on every insert
            raw = tables[self._name] = {}
        elif key in raw:
            return False
        stored = raw[key] = dict(doc)
        self._recording.record_put(self._name, key, stored)
        if self._query_cache.cache:  # _clear_query_cache(), inlined on the hottest write
            self._query_cache.clear()
        return True

    def replace_doc(self, key: str, doc: Mapping[str, Any]) -> None:
        """Make the document with this key hold exactly `doc` (inserting it if absent).

        Written directly, as insert_new() is: TinyDB's update() walks a recorder view per call, which
        costs more than the change on the paths that update a document per request.
        """
        raw = self._recording.data.setdefault(self._name, {})
        stored = raw[key] = dict(doc)
        self._recording.record_put(self._name, key, stored)
        self._clear_query_cache()

    def remove_doc(self, key: str) -> None:
        """Remove the document with this key, if there is one."""
        raw = self._recording.data.get(self._name)
        if raw is not None and raw.pop(key, None) is not None:
            self._recording.record(["del", self._name, key])
            self._clear_query_cache()

    def _clear_query_cache(self) -> None:
        """TinyDB's clear_cache(), skipped when there is nothing to clear (nothing here runs TinyDB
        queries, so the cache stays empty): two Python calls saved on every write."""
        if self._query_cache.cache:
            self._query_cache.clear()

    def _update_table(self, updater: Callable[[dict[int, Mapping[Any, Any]]], None]) -> None:
        storage = self._recording
        raw = storage.data.setdefault(self._name, {})
        view = _ChangeRecorder(raw)
        try:
            updater(view)  # type: ignore[arg-type]  # TinyDB only uses the mapping protocol
        finally:
            # Record even a partial change, so that the disk always mirrors memory.
            if view.cleared:
                storage.record(["drop", self.name])
            for doc_id in view.touched:
                doc = raw.get(doc_id)
                storage.record(["put", self.name, doc_id, doc] if doc is not None else ["del", self.name, doc_id])
            self.clear_cache()


class KeyedTinyDB(TinyDB):
    table_class = KeyedTable


def apply_op(data: Tables, op: Op) -> None:
    """Replay one journal operation onto the raw tables (used when loading from disk).

    Raises ValueError for an operation that is not well formed.
    """
    if not isinstance(op, list) or not op or not all(isinstance(part, str) for part in op[:3]):
        raise ValueError(f"malformed operation {str(op)[:80]}")
    kind = op[0]
    if kind == "put" and (len(op) != 4 or not isinstance(op[3], dict)):
        raise ValueError(f'a put needs ["put", table, id, document], not {str(op)[:80]}')
    if kind in ("put", "del") and len(op) < 3:
        raise ValueError(f"malformed operation {str(op)[:80]}")
    if kind == "put":
        data.setdefault(op[1], {})[op[2]] = op[3]
    elif kind == "del":
        data.get(op[1], {}).pop(op[2], None)
    elif kind == "drop":
        data.pop(op[1], None)
    else:
        raise ValueError(f"unknown journal operation {kind!r}")
