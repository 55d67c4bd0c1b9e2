"""compaction.py: the snapshot written while commits go on into a new journal.

The promise tested here: on the serving loop no commit waits for the snapshot (writes are
acknowledged while its fsync is held up), and the files a crash would leave at every step of a
compaction load exactly the state acknowledged so far.
"""

from __future__ import annotations

import asyncio
import errno
import importlib
import itertools
import os
import queue
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from alloy_mock.store import DurabilityError, Indexes, Store
from alloy_mock.store.compaction import Compaction, snapshot_pieces
from alloy_mock.store.journal import Journal
from alloy_mock.store.loading import DatabaseFiles, load

compaction_module = importlib.import_module("alloy_mock.store.compaction")
store_module = importlib.import_module("alloy_mock.store.store")

NS = "acme.dev"
USERS = f"{NS}/users"
UNIQUE = {"users": Indexes(unique=("username",))}


@pytest.fixture
def files(tmp_path: Path) -> DatabaseFiles:
    return DatabaseFiles(tmp_path / "data" / "db.json")


@pytest.fixture
def open_store(files: DatabaseFiles) -> Iterator[Callable[[], Store]]:
    opened: list[Store] = []

    def open_() -> Store:
        store = Store(files.snapshot, indexes=UNIQUE)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


@pytest.fixture
def compact_always(monkeypatch: pytest.MonkeyPatch) -> None:
    """A compaction starts at every commit while none is running."""
    monkeypatch.setattr(store_module, "MIN_COMPACTION_BYTES", 1)
    monkeypatch.setattr(store_module, "JOURNAL_PER_SNAPSHOT", 0)


def journal(store: Store) -> Journal:
    assert store._journal is not None
    return store._journal


def insert(store: Store, key: str, **extra: Any) -> None:
    store.collection(NS, "users").insert(key, {"userId": key, "username": key, **extra})


def users_state(store: Store) -> dict[str, Any]:
    return {doc["userId"]: doc for doc in store.collection(NS, "users").all()}


def seed(store: Store, count: int) -> None:
    store.collection(NS, "users").insert_many(
        [(f"s{i}", {"userId": f"s{i}", "username": f"s{i}"}) for i in range(count)]
    )


def file_names(files: DatabaseFiles) -> set[str]:
    return {path.name for path in files.folder.iterdir()} - {files.lock.name}


class PausedFsyncs:
    """Holds up the compaction thread at each of its fsyncs, until the test lets it go on."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.arrived: queue.Queue[Path] = queue.Queue()
        self._go = threading.Semaphore(0)
        self._pausing = True
        real = compaction_module.fsync_path

        def paused(path: Any) -> None:
            if self._pausing:
                self.arrived.put(Path(path))
                assert self._go.acquire(timeout=60), "the test never let the compaction go on"
            real(path)

        monkeypatch.setattr(compaction_module, "fsync_path", paused)

    async def next_fsync(self) -> Path:
        """(On the loop, which keeps running meanwhile.) The path the compaction thread now waits to fsync."""
        return await asyncio.to_thread(self.arrived.get, True, 60)

    def go_on(self) -> None:
        self._go.release()

    def stop_pausing(self) -> None:
        self._pausing = False


# -- the snapshot's bytes -----------------------------------------------------------------------------


@pytest.mark.parametrize("docs_per_piece", [1, 2, 3, 1000])
@pytest.mark.parametrize(
    "tables",
    [
        {},
        {"empty/table": {}},
        {USERS: {f"u{i}": {"userId": f"u{i}", "name": "zoë ☃", "n": i} for i in range(7)}, "_meta": {"k": {"v": [1]}}},
        {"a/x": {}, "b/y": {"1": {}}, "c/z": {"2": {"nested": {"deep": None}}, "3": {}}},
    ],
    ids=["no-tables", "an-empty-table", "documents-and-meta", "mixed"],
)
def test_the_pieces_are_exactly_the_tables_json(tables: dict[str, Any], docs_per_piece: int) -> None:
    assert b"".join(snapshot_pieces(tables, docs_per_piece)) == orjson.dumps(tables)


def test_each_piece_holds_at_most_a_slice_of_documents() -> None:
    """So each step on the event loop is short, however large the table."""
    tables = {USERS: {f"u{i}": {"userId": f"u{i}"} for i in range(10)}, "other/t": {"x": {"userId": "x"}}}
    pieces = list(snapshot_pieces(tables, 3))
    assert [piece.count(b'"userId"') for piece in pieces] == [3, 3, 3, 1, 1, 0]


def test_the_snapshot_holds_the_key_set_of_the_moment_it_was_taken(files: DatabaseFiles) -> None:
    files.folder.mkdir(parents=True)
    tables = {USERS: {"u1": {"n": 1}, "u2": {"n": 2}}}
    rotated = files.rotated_journal(1)
    rotated.write_bytes(b"")
    compaction = Compaction(files, tables, [rotated])
    tables[USERS]["u3"] = {"n": 3}  # after the copy: in the new journal, not needed in the snapshot
    del tables[USERS]["u1"]
    compaction.finish()
    assert compaction.over and compaction.error is None
    assert orjson.loads(files.snapshot.read_bytes()) == {USERS: {"u1": {"n": 1}, "u2": {"n": 2}}}
    assert compaction.size == files.snapshot.stat().st_size
    assert file_names(files) == {"db.json"}, "the rotated journal and the temporary file are gone"


# -- on the serving loop ------------------------------------------------------------------------------


@pytest.mark.usefixtures("compact_always")
def test_commits_are_acknowledged_while_the_snapshot_waits_for_its_fsync(
    open_store: Callable[[], Store], files: DatabaseFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store()
    seed(store, 500)
    old_snapshot = files.snapshot.read_bytes()  # the compaction of that seed ran inline, before the pause
    fsyncs = PausedFsyncs(monkeypatch)

    async def main() -> set[str]:
        journal(store).start_sync_helper()
        insert(store, "first")  # starts a compaction on this loop
        await store.durable()
        assert await fsyncs.next_fsync() == files.temporary, "the snapshot is written, its fsync held up"
        acknowledged = set()
        for i in range(200):
            insert(store, f"during-{i}")
            await asyncio.wait_for(store.durable(), timeout=30)
            acknowledged.add(f"during-{i}")
        assert not journal(store).can_compact(), "the compaction is still running"
        assert files.snapshot.read_bytes() == old_snapshot
        assert {"db.json.journal.1", "db.json.tmp"} <= file_names(files)
        assert b'"during-199"' in files.journal.read_bytes(), "acknowledged writes are in the new journal"
        for _ in range(3):  # the temporary file, then the folder twice
            fsyncs.go_on()
        return acknowledged

    acknowledged = asyncio.run(main())
    expected = users_state(store)
    store.close()
    assert acknowledged | {"first"} <= set(expected)
    assert not [name for name in file_names(files) if name.startswith("db.json.journal.") or name.endswith(".tmp")]
    assert users_state(open_store()) == expected


class RecordedFlushes:
    """Stands in for the compaction's fdatasync: records the temporary file's size when each flush
    starts and ends, and takes `seconds` (a slow disk, during which the loop may write on)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, seconds: float = 0.0, error: OSError | None = None) -> None:
        self.spans: list[tuple[int, int]] = []
        self.final_size: int | None = None
        real_fsync_path = compaction_module.fsync_path

        def fdatasync(fd: int) -> None:
            started = os.fstat(fd).st_size
            if error is not None:
                raise error
            time.sleep(seconds)  # the disk's time, not a wait for anything
            self.spans.append((started, os.fstat(fd).st_size))

        def fsync_path(path: Any) -> None:
            if Path(path).name.endswith(".tmp"):
                self.final_size = Path(path).stat().st_size
            real_fsync_path(path)

        monkeypatch.setattr(compaction_module, "_fdatasync", fdatasync)
        monkeypatch.setattr(compaction_module, "fsync_path", fsync_path)


@pytest.mark.usefixtures("compact_always")
def test_the_snapshot_is_flushed_as_it_is_written_and_never_far_ahead_of_its_flushes(
    open_store: Callable[[], Store], files: DatabaseFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On ext4 the journal's fsync waits for the snapshot's dirty data: at most 2 * FLUSH_BYTES (and
    a piece) may be written beyond what the last flush started with, however slow the flushes."""
    flush_bytes, slice_ = 4096, 10
    monkeypatch.setattr(compaction_module, "FLUSH_BYTES", flush_bytes)
    monkeypatch.setattr(compaction_module, "SLICE", slice_)
    store = open_store()
    seed(store, 3000)
    piece = slice_ * 100  # a slice of these documents, each under 100 bytes
    flushes = RecordedFlushes(monkeypatch, seconds=0.005)

    async def main() -> None:
        insert(store, "first")  # starts a compaction on this loop
        await store.durable()
        running = journal(store)._compaction
        assert running is not None
        for i in itertools.count():
            if running.poll():
                break
            insert(store, f"during-{i}")  # commits go on meanwhile
            await asyncio.wait_for(store.durable(), timeout=30)

    asyncio.run(main())
    assert flushes.final_size is not None and flushes.final_size > 20 * flush_bytes
    assert len(flushes.spans) >= flushes.final_size // (2 * flush_bytes + piece)
    flush_starts = [0] + [started for started, _ in flushes.spans]
    ends = [ended for _, ended in flushes.spans] + [flushes.final_size]
    ahead = [end - start for start, end in zip(flush_starts, ends, strict=True)]
    assert max(ahead) <= 2 * flush_bytes + piece, ahead
    expected = users_state(store)
    store.close()
    assert users_state(open_store()) == expected


@pytest.mark.usefixtures("compact_always")
def test_a_flush_that_fails_stops_the_writes_and_loses_nothing_acknowledged(
    open_store: Callable[[], Store], files: DatabaseFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compaction_module, "FLUSH_BYTES", 1024)
    store = open_store()
    seed(store, 500)
    RecordedFlushes(monkeypatch, error=OSError(errno.EIO, "Input/output error"))
    acknowledged: set[str] = set()

    async def main() -> None:
        with pytest.raises(DurabilityError, match="Input/output error"):
            for i in range(10_000):
                insert(store, f"during-{i}")
                await asyncio.wait_for(store.durable(), timeout=30)
                acknowledged.add(f"during-{i}")

    asyncio.run(main())
    store.close()
    monkeypatch.undo()
    assert acknowledged <= set(users_state(open_store()))


@pytest.mark.usefixtures("compact_always")
@pytest.mark.parametrize("helper", [False, True], ids=["fsync-in-loop", "fsync-helper"])
def test_the_files_at_every_step_of_a_compaction_load_what_was_acknowledged(
    open_store: Callable[[], Store],
    files: DatabaseFiles,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    helper: bool,
) -> None:
    """What kill -9 would leave after each loop iteration of a compaction and at each of its fsyncs,
    copied and loaded: always the acknowledged state, whatever changed during the compaction."""
    monkeypatch.setattr(compaction_module, "SLICE", 2)
    store = open_store()
    seed(store, 40)
    fsyncs = PausedFsyncs(monkeypatch)
    crashes: list[tuple[Path, dict[str, Any]]] = []

    def crash_here() -> None:
        copy = tmp_path / f"crash-{len(crashes)}"
        copy.mkdir()
        for path in files.folder.iterdir():
            if path != files.lock:
                shutil.copy(path, copy / path.name)
        crashes.append((copy / "db.json", users_state(store)))

    async def write(i: int) -> None:
        users = store.collection(NS, "users")
        if i % 4 == 1:
            users.update(f"s{i}", {"fullName": f"changed {i}"})
        elif i % 4 == 2:
            users.delete(f"s{i}")
        else:
            insert(store, f"new-{i}")
        await asyncio.wait_for(store.durable(), timeout=30)

    async def main() -> None:
        if helper:
            journal(store).start_sync_helper()
        i = 0
        arrived: asyncio.Task[Path] = asyncio.ensure_future(fsyncs.next_fsync())
        while not arrived.done():  # the pieces are written a loop iteration at a time
            await write(i)
            crash_here()
            i += 1
        for _ in range(3):  # paused before fsyncing the temporary file, the folder, the folder again
            await write(i)
            crash_here()
            fsyncs.go_on()
            if _ < 2:
                await fsyncs.next_fsync()
            i += 1
        fsyncs.stop_pausing()
        running = journal(store)._compaction
        assert running is not None
        await asyncio.to_thread(running.finish)  # its thread is ending: wait for it
        crash_here()  # (no write after this: it would start the next compaction)

    asyncio.run(main())
    phases = set()
    for snapshot, acknowledged in crashes:
        loaded = load(DatabaseFiles(snapshot))
        names = sorted(path.name for path in snapshot.parent.iterdir())
        assert loaded.tables.get(USERS, {}) == acknowledged, f"{snapshot.parent.name}: {names}"
        phases.add(phase(snapshot.parent))
    expected = {"snapshot being written", "snapshot written", "snapshot renamed", "done"}
    if helper:  # the pieces may all be written while the helper runs one fsync
        expected.discard("snapshot being written")
    assert expected <= phases


def phase(folder: Path) -> str:
    """Which step of a compaction the files in `folder` are at."""
    if not any(path.name.startswith("db.json.journal.") for path in folder.iterdir()):
        return "done"
    temporary = folder / "db.json.tmp"
    if not temporary.exists():
        return "snapshot renamed"
    try:
        orjson.loads(temporary.read_bytes())
    except orjson.JSONDecodeError:
        return "snapshot being written"
    return "snapshot written"


def leave_a_compaction_running(store: Store, key: str) -> None:
    """Insert `key` on an event loop, which starts a compaction there, and close that loop as soon as
    the insert is acknowledged: with a slice of one document, the pieces are not all written yet."""

    async def main() -> None:
        insert(store, key)
        await store.durable()
        assert not journal(store).can_compact(), "50 pieces take more than one loop iteration"

    asyncio.run(main())


@pytest.mark.usefixtures("compact_always")
def test_close_finishes_a_running_compaction(
    open_store: Callable[[], Store], files: DatabaseFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compaction_module, "SLICE", 1)
    store = open_store()
    seed(store, 50)
    leave_a_compaction_running(store, "last")
    expected = users_state(store)
    store.close()
    assert file_names(files) == {"db.json", "db.json.journal"}
    assert orjson.loads(files.snapshot.read_bytes())[USERS] == expected
    assert users_state(open_store()) == expected


@pytest.mark.usefixtures("compact_always")
def test_a_compaction_left_by_a_closed_loop_is_finished_by_the_next_write(
    open_store: Callable[[], Store], files: DatabaseFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compaction_module, "SLICE", 1)
    store = open_store()
    seed(store, 50)
    leave_a_compaction_running(store, "in-loop")
    assert "db.json.journal.1" in file_names(files), "the loop closed in the middle of the compaction"
    insert(store, "after")  # outside any loop: finishes that compaction, then compacts again, inline
    assert file_names(files) == {"db.json", "db.json.journal"}
    assert set(orjson.loads(files.snapshot.read_bytes())[USERS]) >= {"in-loop", "after"}
    expected = users_state(store)
    store.close()
    assert users_state(open_store()) == expected


# -- after a crash, and failures ---------------------------------------------------------------------


def test_the_first_compaction_after_a_crash_covers_the_rotated_journals_it_left(
    open_store: Callable[[], Store], files: DatabaseFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    files.folder.mkdir(parents=True)
    files.snapshot.write_bytes(orjson.dumps({USERS: {"a": {"userId": "a", "username": "a"}}}))
    files.rotated_journal(1).write_bytes(orjson.dumps([["put", USERS, "b", {"userId": "b", "username": "b"}]]) + b"\n")
    files.journal.write_bytes(orjson.dumps([["del", USERS, "a"]]) + b"\n")
    store = open_store()
    assert set(users_state(store)) == {"b"}
    monkeypatch.setattr(store_module, "MIN_COMPACTION_BYTES", 1)
    monkeypatch.setattr(store_module, "JOURNAL_PER_SNAPSHOT", 0)
    insert(store, "c")  # compacts: the journal becomes db.json.journal.2, and both rotated ones go
    assert file_names(files) == {"db.json", "db.json.journal"}
    assert set(orjson.loads(files.snapshot.read_bytes())[USERS]) == {"b", "c"}
    store.close()
    assert set(users_state(open_store())) == {"b", "c"}


@pytest.mark.usefixtures("compact_always")
@pytest.mark.parametrize("blocked", ["db.json.tmp", "db.json.journal.1"], ids=["snapshot", "rotation"])
def test_a_compaction_that_fails_stops_the_writes_and_loses_nothing_acknowledged(
    open_store: Callable[[], Store], files: DatabaseFiles, blocked: str
) -> None:
    store = open_store()
    (files.folder / blocked).mkdir()  # what the compaction must create cannot be created
    insert(store, "kept")  # written and fsynced before the compaction that fails
    with pytest.raises(DurabilityError, match="Is a directory"):
        insert(store, "refused")
    store.close()
    (files.folder / blocked).rmdir()
    assert set(users_state(open_store())) == {"kept"}
