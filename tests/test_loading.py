"""loading.py: the database's files, and recovery from every file state a compaction can leave behind.

The states are built here byte by byte, as a crash at each step of a compaction leaves them:
rotation (journal renamed to journal.N, a new journal created), the snapshot's temporary file,
the snapshot renamed into place, the rotated journal removed, and two crashes in a row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from alloy_mock.store import DatabaseError
from alloy_mock.store.loading import DatabaseFiles, load, rotated_number

USERS = "acme.dev/users"
PROD = "acme.prod/users"


def doc(key: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"userId": key, "username": name, **extra}


def lines(*transactions: list[list[Any]]) -> bytes:
    return b"".join(orjson.dumps(ops) + b"\n" for ops in transactions)


# A history, split where a compaction rotated the journal. Every kind of operation is on both sides.
OLD_SNAPSHOT = {USERS: {"u0": doc("u0", "zero")}, PROD: {"p0": doc("p0", "prod-zero")}}
BEFORE = lines(
    [["put", USERS, "u1", doc("u1", "ann")], ["put", USERS, "u2", doc("u2", "bob")]],
    [["put", USERS, "u3", doc("u3", "carl")]],
    [["drop", PROD]],  # a reset of the production namespace
    [["put", USERS, "u1", doc("u1", "ann", fullName="Ann")]],
)
STATE_AT_ROTATION = {
    USERS: {
        "u0": doc("u0", "zero"),
        "u1": doc("u1", "ann", fullName="Ann"),
        "u2": doc("u2", "bob"),
        "u3": doc("u3", "carl"),
    }
}
AFTER_TRANSACTIONS = [
    [["put", USERS, "u2", doc("u2", "bobby")]],
    [["del", USERS, "u3"]],
    [["put", PROD, "p1", doc("p1", "prod-one")]],
    [["put", USERS, "u4", doc("u4", "dora")], ["del", USERS, "u0"]],
    [["drop", USERS]],
    [["put", USERS, "u1", doc("u1", "ann", fullName="Ann again")]],
]
AFTER = lines(*AFTER_TRANSACTIONS)
FINAL = {USERS: {"u1": doc("u1", "ann", fullName="Ann again")}, PROD: {"p1": doc("p1", "prod-one")}}


@pytest.fixture
def files(tmp_path: Path) -> DatabaseFiles:
    return DatabaseFiles(tmp_path / "db.json")


def write(files: DatabaseFiles, snapshot: Any, journal: bytes | None, rotated: dict[int, bytes] | None = None) -> None:
    """The files: the snapshot (a JSON value), the journal (None: absent), rotated journals by number."""
    files.snapshot.write_bytes(orjson.dumps(snapshot))
    if journal is not None:
        files.journal.write_bytes(journal)
    for number, content in (rotated or {}).items():
        files.rotated_journal(number).write_bytes(content)


def on_disk(files: DatabaseFiles) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(files.folder.iterdir())}


def partial_apply(state: dict[str, dict[str, Any]], transactions: list[list[list[Any]]]) -> dict[str, Any]:
    """`state` with the first transactions applied, written out by hand for the few kinds used here."""
    result = {name: dict(table) for name, table in state.items()}
    for ops in transactions:
        for op in ops:
            if op[0] == "put":
                result.setdefault(op[1], {})[op[2]] = op[3]
            elif op[0] == "del":
                result.get(op[1], {}).pop(op[2], None)
            else:
                result.pop(op[1], None)
    return result


def test_file_names(files: DatabaseFiles) -> None:
    folder = files.folder
    assert (files.journal, files.temporary, files.lock) == (
        folder / "db.json.journal",
        folder / "db.json.tmp",
        folder / "db.json.lock",
    )
    assert files.rotated_journal(3) == folder / "db.json.journal.3"
    assert rotated_number(files.rotated_journal(12)) == 12


def test_rotated_journals_are_listed_in_numeric_order_and_others_ignored(files: DatabaseFiles) -> None:
    for name in ["db.json.journal.10", "db.json.journal.2", "db.json.journal.1"]:
        (files.folder / name).write_bytes(b"")
    for name in ["db.json.journal.01", "db.json.journal.1.bak", "db.json.journal.x", "other.json.journal.4"]:
        (files.folder / name).write_bytes(b"not a journal line\n")
    assert files.rotated_journals() == [files.rotated_journal(n) for n in (1, 2, 10)]
    assert DatabaseFiles(files.folder / "missing" / "db.json").rotated_journals() == []


def test_rotated_journals_replay_in_numeric_order(files: DatabaseFiles) -> None:
    write(
        files,
        {},
        lines([["put", USERS, "u1", doc("u1", "third")]]),
        {2: lines([["put", USERS, "u1", doc("u1", "first")]]), 10: lines([["put", USERS, "u1", doc("u1", "second")]])},
    )
    assert load(files).tables == {USERS: {"u1": doc("u1", "third")}}
    files.journal.unlink()
    assert load(files).tables == {USERS: {"u1": doc("u1", "second")}}, "10 comes after 2, not before"


@pytest.mark.parametrize(
    ("snapshot", "journal", "rotated", "expected"),
    [
        (OLD_SNAPSHOT, BEFORE, {}, STATE_AT_ROTATION),
        (OLD_SNAPSHOT, None, {1: BEFORE}, STATE_AT_ROTATION),
        (OLD_SNAPSHOT, b"", {1: BEFORE}, STATE_AT_ROTATION),
        (OLD_SNAPSHOT, AFTER, {1: BEFORE}, FINAL),
        (STATE_AT_ROTATION, AFTER, {1: BEFORE}, FINAL),
        (STATE_AT_ROTATION, AFTER, {}, FINAL),
        (OLD_SNAPSHOT, AFTER, {1: BEFORE[: BEFORE.index(b"\n") + 1], 2: BEFORE[BEFORE.index(b"\n") + 1 :]}, FINAL),
    ],
    ids=[
        "before-compaction",
        "renamed-no-new-journal-yet",
        "rotated-empty-new-journal",
        "rotated-commits-in-new-journal",
        "snapshot-renamed-rotated-not-removed",
        "compaction-done",
        "two-interrupted-compactions",
    ],
)
def test_every_step_of_a_compaction_loads_the_same_state(
    files: DatabaseFiles, snapshot: Any, journal: bytes | None, rotated: dict[int, bytes], expected: Any
) -> None:
    write(files, snapshot, journal, rotated)
    files.temporary.write_bytes(b'{"acme.dev/users": {"half a snaps')  # a snapshot being written: ignored
    before = on_disk(files)
    loaded = load(files)
    assert loaded.tables == expected
    assert loaded.rotated == [files.rotated_journal(number) for number in rotated]
    assert loaded.journal_bytes == sum(map(len, rotated.values())) + len(journal or b"")
    assert on_disk(files) == before, "loading changes no file when nothing is torn"


@pytest.mark.parametrize("applied", range(len(AFTER_TRANSACTIONS) + 1))
def test_a_snapshot_serialized_while_documents_changed_loads_the_final_state(
    files: DatabaseFiles, applied: int
) -> None:
    """The snapshot is written while commits go on, so it may hold documents as they were at any
    moment after the rotation; replaying the rotated journal and then the new one corrects them."""
    fuzzy = partial_apply(STATE_AT_ROTATION, AFTER_TRANSACTIONS[:applied])
    write(files, fuzzy, AFTER, {1: BEFORE})
    assert load(files).tables == FINAL
    write(files, fuzzy, AFTER)  # and once the rotated journal is gone
    assert load(files).tables == FINAL


def test_a_fuzzy_snapshot_mixing_moments_per_document_loads_the_final_state(files: DatabaseFiles) -> None:
    # u2 already renamed, u3 not yet deleted, u4 already there, u0 not yet deleted, prod as at rotation.
    mixed = {USERS: {**STATE_AT_ROTATION[USERS], "u2": doc("u2", "bobby"), "u4": doc("u4", "dora")}}
    write(files, mixed, AFTER, {1: BEFORE})
    assert load(files).tables == FINAL


def test_torn_last_line_of_the_newest_journal_is_cut_off(files: DatabaseFiles) -> None:
    write(files, OLD_SNAPSHOT, AFTER + b'[["put","acme.dev/us', {1: BEFORE})
    assert load(files).tables == FINAL
    assert files.journal.read_bytes() == AFTER
    assert files.rotated_journal(1).read_bytes() == BEFORE


def test_torn_last_line_of_a_rotated_journal_without_a_journal_after_it_is_cut_off(files: DatabaseFiles) -> None:
    write(files, OLD_SNAPSHOT, None, {1: BEFORE + b'[["put","acme.dev/us'})
    assert load(files).tables == STATE_AT_ROTATION
    assert files.rotated_journal(1).read_bytes() == BEFORE


@pytest.mark.parametrize(
    ("rotated", "journal", "damaged"),
    [
        ({1: BEFORE + b'[["put","acme.dev/us'}, AFTER, 1),  # torn, but a newer journal follows
        ({1: BEFORE + b'[["put","acme.dev/us'}, b"", 1),
        ({1: BEFORE, 2: b'[["put"\n'}, AFTER, 2),  # a complete line that is not JSON
        ({1: b'[["explode", "t", "k"]]\n' + BEFORE}, AFTER, 1),  # an unknown operation, first line
    ],
    ids=["torn-before-journal", "torn-before-empty-journal", "corrupt-line", "unknown-op"],
)
def test_damage_in_a_rotated_journal_stops_the_load_and_touches_nothing(
    files: DatabaseFiles, rotated: dict[int, bytes], journal: bytes, damaged: int
) -> None:
    write(files, OLD_SNAPSHOT, journal, rotated)
    before = on_disk(files)
    with pytest.raises(DatabaseError) as caught:
        load(files)
    message = str(caught.value)
    assert str(files.rotated_journal(damaged)) in message, message
    assert "left untouched" in message and "\n" not in message
    assert on_disk(files) == before


def test_damage_in_the_journal_after_rotated_ones_names_the_journal(files: DatabaseFiles) -> None:
    write(files, OLD_SNAPSHOT, b"not json\n" + AFTER, {1: BEFORE})
    before = on_disk(files)
    with pytest.raises(DatabaseError, match="corrupt journal at byte 0") as caught:
        load(files)
    assert str(files.journal) in str(caught.value)
    assert on_disk(files) == before


def test_no_files_is_an_empty_database(files: DatabaseFiles) -> None:
    loaded = load(files)
    assert (loaded.tables, loaded.snapshot_bytes, loaded.journal_bytes, loaded.rotated) == ({}, 0, 0, [])
