"""Group commit on the serving event loop, and the fsync helper process that runs its fsyncs.

The store's own tests (test_store.py) write outside any event loop, where every write is fsynced
before it returns. These write from an event loop, as the server does, and check the promise that
matters: an acknowledged write (`await store.durable()` returned) is in the journal file, whatever
happens to the helper process.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import importlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest

from alloy_mock.store import DatabaseError, DurabilityError, Indexes, Store
from alloy_mock.store.group_commit import GroupCommit
from alloy_mock.store.journal import Journal
from alloy_mock.store.loading import DatabaseFiles

helper_module = importlib.import_module("alloy_mock.store.helper_process")
lock_module = importlib.import_module("alloy_mock.store.lock")
store_module = importlib.import_module("alloy_mock.store.store")

NS = "acme.dev"
UNIQUE = {"users": Indexes(unique=("username",))}


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "db.json"


@pytest.fixture
def open_store(db_path: Path) -> Iterator[Callable[[], Store]]:
    """Open stores on db_path (closed at the end of the test, so a failure never leaks the lock)."""
    opened: list[Store] = []

    def open_() -> Store:
        store = Store(db_path, indexes=UNIQUE)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


def journal(store: Store) -> Journal:
    assert store._journal is not None
    return store._journal


def on_disk(db: Path) -> bytes:
    """The journal, the rotated journals and the snapshot: an acknowledged write is in one of them.

    Read in this order so that a compaction running meanwhile cannot hide a write: a journal is
    rotated before its rotated file is removed, and that only after the snapshot holding it is in place.
    """
    files = DatabaseFiles(db)
    found = [files.journal.read_bytes()]
    for path in files.rotated_journals():
        with contextlib.suppress(FileNotFoundError):  # removed meanwhile: the snapshot has it
            found.append(path.read_bytes())
    return b"".join([*found, db.read_bytes()])


def user_ids(store: Store) -> set[str]:
    return {str(doc["userId"]) for doc in store.collection(NS, "users").all()}


async def write_all(store: Store, db: Path, prefix: str, count: int) -> set[str]:
    """`count` concurrent writers; each checks that its write is in the journal once acknowledged."""

    async def write(i: int) -> str:
        key = f"{prefix}{i}"
        await asyncio.sleep(0)  # interleave the writers, so that commits are grouped
        store.collection(NS, "users").insert(key, {"userId": key, "username": key})
        await store.durable()
        assert f'"{key}"'.encode() in on_disk(db), f"write {key} acknowledged but not on disk"
        return key

    return set(await asyncio.wait_for(asyncio.gather(*(write(i) for i in range(count))), timeout=60))


def assert_writes_fail(store: Store, problem: str) -> None:
    """With the helper running, a write's durable() raises DurabilityError naming `problem`, and so
    does every later write, made outside the loop."""

    async def main() -> None:
        journal(store).start_sync_helper()
        store.collection(NS, "users").insert("u1", {"userId": "u1", "username": "u1"})
        with pytest.raises(DurabilityError, match=problem):
            await asyncio.wait_for(store.durable(), timeout=30)

    asyncio.run(main())
    with pytest.raises(DurabilityError, match=problem):
        store.collection(NS, "users").insert("u2", {"userId": "u2", "username": "u2"})


def fake_helper(tmp_path: Path, on_sync: str, on_rotation: str) -> Path:
    """A stand-in for fsync_helper.py: answers `on_sync` to "j" (or exits if empty), the same for "n"."""
    script = tmp_path / "fake_helper.py"
    script.write_text(
        "import sys\n"
        f"answers = {{b'j': {on_sync!r}, b'n': {on_rotation!r}}}\n"
        "for line in sys.stdin.buffer:\n"
        "    answer = answers[line[:1]]\n"
        "    if not answer:\n"
        "        sys.exit(3)\n"
        "    sys.stdout.buffer.write(answer.encode() + b'\\n')\n"
        "    sys.stdout.buffer.flush()\n"
    )
    return script


def test_group_commits_through_the_helper_are_on_disk_when_acknowledged(
    open_store: Callable[[], Store], db_path: Path
) -> None:
    store = open_store()

    async def main() -> tuple[set[str], int | None]:
        journal(store).start_sync_helper()
        written = await write_all(store, db_path, "u", 300)
        return written, journal(store).helper_pid

    written, helper_pid = asyncio.run(main())
    assert helper_pid is not None, "the fsync helper should have been started"
    assert written == {f"u{i}" for i in range(300)}
    # The loop is closed; a write from outside any loop stops its helper and is durable at once.
    store.collection(NS, "users").insert("after", {"userId": "after", "username": "after"})
    assert journal(store).helper_pid is None
    assert b'"after"' in on_disk(db_path)
    store.close()
    assert user_ids(open_store()) == written | {"after"}


def test_a_short_run_never_starts_the_helper(open_store: Callable[[], Store], db_path: Path) -> None:
    store = open_store()

    async def main() -> int | None:
        await write_all(store, db_path, "u", 20)
        return journal(store).helper_pid

    assert asyncio.run(main()) is None, "a few group commits are fsynced by the loop itself"
    assert len(user_ids(store)) == 20


def test_a_killed_helper_loses_no_acknowledged_write(open_store: Callable[[], Store], db_path: Path) -> None:
    store = open_store()

    async def main() -> set[str]:
        journal(store).start_sync_helper()
        first = await write_all(store, db_path, "a", 100)
        pid = journal(store).helper_pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        second = await write_all(store, db_path, "b", 100)  # fsynced by the loop itself from now on
        return first | second

    written = asyncio.run(main())
    assert len(written) == 200
    store.close()
    assert user_ids(open_store()) == written


def test_an_fsync_error_fails_the_waiting_writes_and_every_later_one(
    open_store: Callable[[], Store], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(helper_module, "HELPER_SCRIPT", fake_helper(tmp_path, "e disk on fire", "n"))
    assert_writes_fail(open_store(), "disk on fire")


def test_compaction_through_the_helper_keeps_every_write(
    open_store: Callable[[], Store], db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "MIN_COMPACTION_BYTES", 1)  # compact at (nearly) every commit
    store = open_store()

    async def main() -> set[str]:
        journal(store).start_sync_helper()
        written = await write_all(store, db_path, "u", 300)
        assert journal(store).helper_pid is not None, "the helper should have put the snapshots in place"
        return written

    written = asyncio.run(main())
    store.close()
    snapshot = orjson.loads(db_path.read_bytes())
    assert snapshot[f"{NS}/users"], "a snapshot should have been written"
    assert not db_path.with_name(db_path.name + ".tmp").exists()
    assert user_ids(open_store()) == written


def test_a_helper_that_dies_on_a_rotation_leaves_it_to_the_server(
    open_store: Callable[[], Store], db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(helper_module, "HELPER_SCRIPT", fake_helper(tmp_path, "j", ""))
    monkeypatch.setattr(store_module, "MIN_COMPACTION_BYTES", 1)
    store = open_store()

    async def main() -> set[str]:
        journal(store).start_sync_helper()
        assert journal(store).helper_pid is not None
        written = await write_all(store, db_path, "u", 200)
        assert journal(store).helper_pid is None, "the helper should have died on the rotation"
        return written

    written = asyncio.run(main())
    store.close()
    assert not db_path.with_name(db_path.name + ".tmp").exists(), "the snapshot was put in place"
    assert user_ids(open_store()) == written


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc")
def test_after_a_rotation_the_helper_fsyncs_the_new_journal(open_store: Callable[[], Store], db_path: Path) -> None:
    store = open_store()

    async def main() -> list[str]:
        journal(store).start_sync_helper()
        await write_all(store, db_path, "a", 20)
        assert journal(store).compact(store._storage.read())
        await write_all(store, db_path, "b", 20)  # the first group commit after the rotation sends "n"
        pid = journal(store).helper_pid
        assert pid is not None
        return [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]

    held = asyncio.run(main())
    assert str(db_path.with_name("db.json.journal").resolve()) in held
    assert not [link for link in held if "db.json.journal." in link], "the rotated journal is let go of"
    store.close()
    assert user_ids(open_store()) == {f"{p}{i}" for p in "ab" for i in range(20)}


def test_a_rotation_waits_until_the_previous_one_is_durable(tmp_path: Path) -> None:
    files = DatabaseFiles(tmp_path / "db.json")
    commits = GroupCommit(files, os.open(files.journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), None)

    def rotation_to(number: int) -> Callable[[], int]:
        def reopen() -> int:
            os.rename(files.journal, files.rotated_journal(number))
            return os.open(files.journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)

        return reopen

    commits.append(b"[]\n")
    assert commits.rotate(rotation_to(1))
    assert not commits.rotate(rotation_to(2)), "the first rotation is not on disk yet"
    assert not files.rotated_journal(2).exists()
    commits.append(b"[]\n")  # outside a loop: written and fsynced, with the rotated file and the folder
    assert commits.rotate(rotation_to(2))
    commits.close()
    assert [files.rotated_journal(n).read_bytes() for n in (1, 2)] == [b"[]\n", b"[]\n"]
    assert files.journal.read_bytes() == b""


def test_a_new_event_loop_takes_over_from_a_closed_one(open_store: Callable[[], Store], db_path: Path) -> None:
    store = open_store()

    async def run(prefix: str) -> set[str]:
        journal(store).start_sync_helper()
        return await write_all(store, db_path, prefix, 100)

    written = asyncio.run(run("a")) | asyncio.run(run("b"))
    assert len(written) == 200
    store.close()
    assert user_ids(open_store()) == written


def test_a_write_from_another_thread_is_durable_when_it_returns(open_store: Callable[[], Store], db_path: Path) -> None:
    store = open_store()

    def write_here(key: str) -> bytes:
        store.collection(NS, "users").insert(key, {"userId": key, "username": key})
        return on_disk(db_path)

    async def main() -> set[str]:
        journal(store).start_sync_helper()
        before = await write_all(store, db_path, "a", 100)
        journal_after = await asyncio.to_thread(write_here, "from-thread")
        assert b'"from-thread"' in journal_after
        return before | {"from-thread"} | await write_all(store, db_path, "b", 100)

    written = asyncio.run(main())
    store.close()
    assert user_ids(open_store()) == written


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes")
def test_the_helper_exits_when_the_server_side_closes(open_store: Callable[[], Store], db_path: Path) -> None:
    store = open_store()

    async def main() -> int:
        journal(store).start_sync_helper()
        await write_all(store, db_path, "u", 100)
        pid = journal(store).helper_pid
        assert pid is not None
        return pid

    pid = asyncio.run(main())
    store.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # reaped: no such process any more


def test_a_loop_closed_before_its_group_commit_ran_hands_over_cleanly(
    open_store: Callable[[], Store], db_path: Path
) -> None:
    store = open_store()
    first = asyncio.new_event_loop()

    async def write_then_stop() -> None:
        store.collection(NS, "users").insert("left", {"userId": "left", "username": "left"})
        first.stop()  # the group commit scheduled by that write never runs on this loop
        await asyncio.Event().wait()

    with pytest.raises(RuntimeError, match="stopped"):
        first.run_until_complete(write_then_stop())
    first.close()

    written = asyncio.run(write_all(store, db_path, "u", 50))  # must not wait forever
    assert b'"left"' in on_disk(db_path)
    store.close()
    assert user_ids(open_store()) == written | {"left"}


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc")
def test_the_helper_holds_the_database_lock_while_it_lives(open_store: Callable[[], Store], db_path: Path) -> None:
    """A server killed while its helper finishes a snapshot must not let the next server in meanwhile."""
    store = open_store()

    async def main() -> int | None:
        journal(store).start_sync_helper()
        return journal(store).helper_pid

    helper_pid = asyncio.run(main())
    assert helper_pid is not None
    lock = db_path.with_name(db_path.name + ".lock").resolve()
    held = []
    for fd in Path(f"/proc/{helper_pid}/fd").iterdir():
        # The helper may still be starting: a file its interpreter opened can close between the listing
        # and the readlink. The lock is inherited, so it is there from the start.
        with contextlib.suppress(FileNotFoundError):
            held.append(os.readlink(fd))
    assert str(lock) in held, f"the helper's descriptors: {held}"


def test_a_start_waits_for_a_dead_servers_helper_to_let_go_of_the_lock(
    open_store: Callable[[], Store], db_path: Path
) -> None:
    # What a killed server leaves: its pid (now dead) in the lock file, and the lock still held by
    # a descendant (its helper) that is finishing a command. Here a stand-in holds it.
    db_path.parent.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock_fd = os.open(db_path.with_name(db_path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock_fd, fcntl.LOCK_EX)
    os.write(lock_fd, dead.stdout.strip().encode())
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE, pass_fds=(lock_fd,)
    )
    os.close(lock_fd)  # the stand-in alone holds the lock now
    opened: list[Store] = []
    opener = threading.Thread(target=lambda: opened.append(open_store()))
    opener.start()
    opener.join(timeout=0.3)
    assert opener.is_alive() and not opened, "the start should wait for the lock, not refuse or take it"
    assert holder.stdin is not None
    holder.stdin.close()  # the helper finishes and exits: the lock is free
    holder.wait(timeout=10)
    opener.join(timeout=10)
    assert opened, "the start should have taken the lock once the helper was gone"


def test_a_live_holder_is_refused_at_once(open_store: Callable[[], Store], db_path: Path) -> None:
    open_store()
    started = time.monotonic()
    with pytest.raises(DatabaseError, match="in use"):
        Store(db_path, indexes=UNIQUE)
    assert time.monotonic() - started < lock_module.LOCK_WAIT_S / 2, "a live server's lock is not waited for"


def test_a_snapshot_that_cannot_be_written_fails_the_waiting_writes(
    open_store: Callable[[], Store], db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "MIN_COMPACTION_BYTES", 1)
    store = open_store()
    db_path.with_name(db_path.name + ".tmp").mkdir()  # the snapshot's temporary file cannot be created
    assert_writes_fail(store, "Is a directory")
