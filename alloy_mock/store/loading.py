"""The files of one database, and reading them back: the snapshot, then every journal, in order.

For a database path `db.json`:

- `db.json`            the snapshot, in TinyDB's own JSON format ({table: {id: document}}). Only ever
                       replaced atomically (compaction.py).
- `db.json.journal`    the journal: one JSON line per transaction (a list of put/del/drop operations),
                       appended and fsynced before the transaction is acknowledged (group_commit.py).
- `db.json.journal.N`  a rotated journal (N = 1, 2, ...): a compaction renamed the journal away when
                       it started; it is removed once the snapshot that covers it is in place.
- `db.json.tmp`        a snapshot being written; ignored here (the next compaction overwrites it).
- `db.json.lock`       an exclusive lock held while a server uses the files (lock.py).

Loading reads the snapshot, then replays the rotated journals in ascending N, then the journal.
Operations are absolute (a whole document, or a removal), so replaying a journal over a snapshot
that already contains it gives the same state: whatever moment a crash interrupts a compaction at,
this order loads every acknowledged transaction exactly once in effect. A torn last line of the
newest journal (a crash in the middle of an append, never acknowledged) is cut off; damage anywhere
else stops the load, and the files are left as they are.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..errors import StartupError
from .tinydb_ext import Tables, apply_op

_ROTATED_NUMBER = re.compile(r"[1-9][0-9]*")


class DatabaseError(StartupError):
    """The database files cannot be used; the message says which file and why."""


@dataclass(frozen=True)
class DatabaseFiles:
    """The names of one database's files, all beside the snapshot."""

    snapshot: Path

    @property
    def folder(self) -> Path:
        return self.snapshot.parent

    @property
    def journal(self) -> Path:
        return self._beside(".journal")

    @property
    def temporary(self) -> Path:
        return self._beside(".tmp")

    @property
    def lock(self) -> Path:
        return self._beside(".lock")

    def rotated_journal(self, number: int) -> Path:
        return self._beside(f".journal.{number}")

    def rotated_journals(self) -> list[Path]:
        """The rotated journals on disk, oldest (lowest number) first."""
        prefix = self.journal.name + "."
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise DatabaseError(f"{self.folder}: cannot list the data folder: {exc.strerror}") from exc
        numbers = [
            int(name[len(prefix) :])
            for name in names
            if name.startswith(prefix) and _ROTATED_NUMBER.fullmatch(name[len(prefix) :])
        ]
        return [self.rotated_journal(number) for number in sorted(numbers)]

    def _beside(self, suffix: str) -> Path:
        return self.snapshot.with_name(self.snapshot.name + suffix)


def rotated_number(path: Path) -> int:
    """N of a rotated journal `db.json.journal.N`."""
    return int(path.name.rsplit(".", 1)[1])


@dataclass(frozen=True)
class LoadedState:
    tables: Tables
    snapshot_bytes: int
    journal_bytes: int  # of all journals read, rotated ones included
    rotated: list[Path]  # rotated journals read (an interrupted compaction's); the next one removes them


def load(files: DatabaseFiles) -> LoadedState:
    """Read the snapshot and replay every journal over it. Raises DatabaseError."""
    tables, snapshot_bytes = read_snapshot(files.snapshot)
    rotated = files.rotated_journals()
    journals = [*rotated, files.journal] if files.journal.exists() else rotated
    journal_bytes = 0
    for path in journals:
        journal_bytes += replay(path, tables, newest=path == journals[-1])
    return LoadedState(tables, snapshot_bytes, journal_bytes, rotated)


def read_snapshot(path: Path) -> tuple[Tables, int]:
    """The snapshot's tables and its size in bytes; an absent or empty file is an empty database."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}, 0
    except OSError as exc:
        raise DatabaseError(f"{path}: cannot read: {exc.strerror}") from exc
    if not raw.strip():
        return {}, len(raw)
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise DatabaseError(f"{path}: corrupt database (invalid JSON: {exc}); left untouched") from exc
    return _validate_tables(data, path), len(raw)


def replay(path: Path, tables: Tables, newest: bool) -> int:
    """Apply every transaction in the journal at `path` to `tables`; returns the bytes kept.

    A last line without its newline was torn by a crash while it was being appended, so it was
    never acknowledged: in the newest journal it is cut off. A complete line that does not parse,
    or a torn line in an older journal (nothing is appended to one once it is rotated), is damage.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DatabaseError(f"{path}: cannot read: {exc.strerror}") from exc
    offset = 0
    while offset < len(raw):
        end = raw.find(b"\n", offset)
        if end < 0:
            if not newest:
                raise DatabaseError(
                    f"{path}: torn last line at byte {offset} in a rotated journal (a newer journal "
                    "follows it, so it is damage, not an interrupted append); left untouched"
                )
            _truncate(path, offset)
            return offset
        try:
            ops = orjson.loads(raw[offset:end])
            if not isinstance(ops, list):
                raise ValueError("not a list")
            for op in ops:
                apply_op(tables, op)
        except (ValueError, TypeError, IndexError, KeyError) as exc:
            raise DatabaseError(f"{path}: corrupt journal at byte {offset} ({exc}); left untouched") from exc
        offset = end + 1
    return offset


def _validate_tables(data: Any, path: Path) -> Tables:
    if not isinstance(data, dict) or not all(
        isinstance(table, dict) and all(isinstance(doc, dict) for doc in table.values()) for table in data.values()
    ):
        raise DatabaseError(
            f"{path}: not an alloy-mock database (expected {{table: {{id: document}}}}); left untouched"
        )
    return data


def _truncate(path: Path, size: int) -> None:
    try:
        with open(path, "r+b") as handle:
            handle.truncate(size)
            os.fsync(handle.fileno())
    except OSError as exc:
        raise DatabaseError(f"{path}: cannot cut off its torn last line: {exc.strerror}") from exc
