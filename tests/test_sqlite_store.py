"""SQLite-specific behaviour of SQLiteStore: file, WAL, schema migrations, indexes, threads, errors.

The store-independent contract (atomic, version-checked writes, query semantics)
is covered by ``test_store_contract.py``; this module checks what only the
SQLite adapter promises.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import carecoord.storage.sqlite as sqlite_module
from carecoord import ConflictError, HumanName, Patient, PatientId, StorageError
from carecoord.demo import run_demo
from carecoord.storage import (
    IndexHit,
    IndexRow,
    RecordWrite,
    SQLiteStore,
    UnitOfWork,
    WorkQuery,
)
from carecoord.storage._query import run_query
from carecoord.storage._sqlite_sql import MAX_KEY
from carecoord.storage.port import to_micros
from carecoord.storage.sqlite import MIGRATIONS

KNOWN_VERSIONS = [version for version, _ in MIGRATIONS]
LATEST = KNOWN_VERSIONS[-1]
T = datetime(2026, 11, 23, 18, tzinfo=UTC)


def record(
    record_id: str,
    *,
    kind: str = "Thing",
    expected: int = 0,
    payload: str | None = None,
    patient: str | None = None,
    index: tuple[IndexRow, ...] = (),
) -> RecordWrite:
    return RecordWrite(
        kind=kind,
        id=record_id,
        expected_version=expected,
        payload=payload if payload is not None else f'{{"id":"{record_id}"}}',
        patient_id=patient,
        index=index,
    )


def row(item: str, owner: str, due: datetime | None, *, patient: str = "p-1") -> IndexRow:
    return IndexRow(
        category="intervention",
        item_id=item,
        patient_id=patient,
        owner_id=owner,
        status="ready",
        is_open=True,
        due_at=due,
    )


def raw(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection to the file, outside the store (autocommit)."""
    return sqlite3.connect(path, isolation_level=None)


def schema_rows(path: Path) -> list[int]:
    conn = raw(path)
    try:
        return [r[0] for r in conn.execute("SELECT version FROM carecoord_schema ORDER BY version")]
    finally:
        conn.close()


def table_names(path: Path) -> set[str]:
    conn = raw(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "care.sqlite3"


@pytest.fixture
def store(db: Path) -> Iterator[SQLiteStore]:
    made = SQLiteStore(db)
    yield made
    made.close()


# ------------------------------------------------------------------- file, WAL
def test_opening_creates_the_file_with_the_tables(db: Path) -> None:
    assert not db.exists()
    made = SQLiteStore(db)
    try:
        assert db.is_file()
        assert {"carecoord_schema", "records", "work_index"} <= table_names(db)
    finally:
        made.close()


def test_a_file_store_uses_the_wal_journal(store: SQLiteStore, db: Path) -> None:
    store.write([record("a")])
    conn = raw(db)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()
    assert Path(f"{db}-wal").exists()  # the store is open and has written through the WAL


def test_a_str_path_works_too(tmp_path: Path) -> None:
    made = SQLiteStore(str(tmp_path / "plain.db"))
    try:
        made.write([record("a")])
        stored = made.read("Thing", "a")
        assert stored is not None and stored.version == 1
    finally:
        made.close()


# ---------------------------------------------------------- schema, migrations
def test_a_new_file_runs_every_migration_once(store: SQLiteStore, db: Path) -> None:
    assert store.schema_version == LATEST
    assert LATEST >= 1
    assert schema_rows(db) == KNOWN_VERSIONS


def test_reopening_keeps_data_and_does_not_migrate_again(db: Path) -> None:
    first = SQLiteStore(db)
    first.write([record("a", patient="p-1"), record("b")])
    first.write([record("a", expected=1, payload='{"v":2}', patient="p-1")])
    first.close()
    again = SQLiteStore(db)
    try:
        assert again.schema_version == LATEST
        a = again.read("Thing", "a")
        assert a is not None and (a.version, a.payload, a.patient_id) == (2, '{"v":2}', "p-1")
        assert [r.id for r in again.read_all("Thing")] == ["a", "b"]
    finally:
        again.close()
    assert schema_rows(db) == KNOWN_VERSIONS  # no second row per version


def test_a_new_migration_upgrades_an_existing_file_once(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = SQLiteStore(db)
    old.write([record("kept")])
    old.close()
    upgraded = (*MIGRATIONS, (LATEST + 1, ("CREATE TABLE test_extra (x INTEGER NOT NULL)",)))
    monkeypatch.setattr(sqlite_module, "MIGRATIONS", upgraded)
    monkeypatch.setattr(sqlite_module, "LATEST_SCHEMA", LATEST + 1)
    for _ in range(2):  # the second open finds nothing to do (CREATE TABLE would fail)
        newer = SQLiteStore(db)
        try:
            assert newer.schema_version == LATEST + 1
            kept = newer.read("Thing", "kept")
            assert kept is not None and kept.version == 1
        finally:
            newer.close()
    assert schema_rows(db) == [*KNOWN_VERSIONS, LATEST + 1]
    assert "test_extra" in table_names(db)
    # The code that does not know version LATEST + 1 refuses the upgraded file.
    monkeypatch.undo()
    with pytest.raises(StorageError, match="newer"):
        SQLiteStore(db)


def test_a_failing_migration_leaves_the_file_at_its_old_version(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    SQLiteStore(db).close()
    broken = (
        *MIGRATIONS,
        (LATEST + 1, ("CREATE TABLE half_done (x INTEGER)", "THIS IS NOT SQL")),
    )
    monkeypatch.setattr(sqlite_module, "MIGRATIONS", broken)
    monkeypatch.setattr(sqlite_module, "LATEST_SCHEMA", LATEST + 1)
    with pytest.raises(StorageError) as caught:
        SQLiteStore(db)
    assert isinstance(caught.value.__cause__, sqlite3.Error)
    assert schema_rows(db) == KNOWN_VERSIONS
    assert "half_done" not in table_names(db)  # DDL rolled back with the version row


def test_a_file_from_a_newer_carecoord_is_refused(db: Path) -> None:
    made = SQLiteStore(db)
    made.write([record("a")])
    made.close()
    conn = raw(db)
    conn.execute("INSERT INTO carecoord_schema (version) VALUES (?)", (LATEST + 7,))
    conn.close()
    with pytest.raises(StorageError) as caught:
        SQLiteStore(db)
    message = str(caught.value)
    assert "newer" in message and str(LATEST + 7) in message
    assert schema_rows(db) == [*KNOWN_VERSIONS, LATEST + 7]  # left as it was
    conn = raw(db)
    try:
        assert conn.execute("SELECT id, version FROM records").fetchall() == [("a", 1)]
    finally:
        conn.close()


# -------------------------------------------------------------------- integrity
def test_integrity_check_passes_on_a_sound_file(store: SQLiteStore) -> None:
    store.write([record(f"r{i}", index=(row(f"i{i}", "o", T),)) for i in range(30)])
    assert store.integrity_check() is True


def test_integrity_check_fails_on_an_index_that_does_not_match_its_table(db: Path) -> None:
    made = SQLiteStore(db)
    made.write([record(f"r{i}", index=(row(f"i{i}", f"o{i}", T),)) for i in range(20)])
    made.close()
    conn = raw(db)
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute(
        "UPDATE sqlite_master SET sql = "
        "'CREATE INDEX work_by_owner ON work_index (category, item_id, is_open, due_at)' "
        "WHERE name = 'work_by_owner'"
    )
    conn.close()
    damaged = SQLiteStore(db)
    try:
        assert damaged.integrity_check() is False
    finally:
        damaged.close()


def test_an_in_memory_store_passes_integrity_check() -> None:
    made = SQLiteStore(":memory:")
    try:
        made.write([record("a")])
        assert made.integrity_check() is True
        assert made.schema_version == LATEST
    finally:
        made.close()


# ---------------------------------------------------------------------- indexes
def traced_statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every statement the store's connections run (made after this call)."""
    seen: list[str] = []
    real_connect = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn: sqlite3.Connection = real_connect(*args, **kwargs)
        conn.set_trace_callback(seen.append)
        return conn

    monkeypatch.setattr(sqlite3, "connect", connect)
    return seen


QUERIES: dict[str, WorkQuery] = {
    "owner-and-due": WorkQuery(
        category="intervention", owner_ids=("o-1",), due_before=T + timedelta(days=2)
    ),
    "patient": WorkQuery(category="intervention", patient_ids=("p-3",)),
    "due": WorkQuery(category="intervention", due_before=T + timedelta(days=2)),
}


@pytest.mark.parametrize("name", list(QUERIES))
def test_worklist_queries_search_an_index(
    name: str, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    statements = traced_statements(monkeypatch)
    made = SQLiteStore(db)
    try:
        made.write(
            [
                record(
                    f"plan-{n}",
                    patient=f"p-{n}",
                    index=tuple(
                        row(f"i-{n}-{k}", f"o-{k}", T + timedelta(days=k), patient=f"p-{n}")
                        for k in range(5)
                    ),
                )
                for n in range(40)
            ]
        )
        statements.clear()
        hits = made.query(QUERIES[name])
    finally:
        made.close()
    # 40 plans x 5 rows: o-1's row (due T+1d) per plan; p-3's 5 rows; 2 rows per plan due < T+2d
    assert len(hits) == {"owner-and-due": 40, "patient": 5, "due": 80}[name]
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1, statements
    sql = selects[0]
    conn = raw(db)
    try:
        plan = [r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, [None] * sql.count("?"))]
    finally:
        conn.close()
    index_steps = [step for step in plan if step.startswith(("SEARCH work_index", "SCAN"))]
    assert index_steps, plan
    assert all("USING COVERING INDEX" in step for step in index_steps), plan  # no table reads
    assert not any(step.startswith("SCAN") or "TEMP B-TREE" in step for step in plan), plan


def test_owner_and_due_query_returns_only_that_owners_due_rows(store: SQLiteStore) -> None:
    store.write(
        [
            record(
                f"plan-{n}",
                patient=f"p-{n}",
                index=tuple(
                    row(f"i-{n}-{k}", f"o-{k}", T + timedelta(days=k), patient=f"p-{n}")
                    for k in range(4)
                ),
            )
            for n in range(3)
        ]
    )
    hits = store.query(
        WorkQuery(category="intervention", owner_ids=("o-1",), due_before=T + timedelta(days=2))
    )
    assert [(h.record_id, h.row.item_id) for h in hits] == [
        ("plan-0", "i-0-1"),
        ("plan-1", "i-1-1"),
        ("plan-2", "i-2-1"),
    ]


# ----------------------------------------------------------- parameterised SQL
HOSTILE = [
    "o'brien",
    'say "hi"',
    "x'; DROP TABLE records; --",
    "Robert'); DROP TABLE work_index;--",
    "' OR '1'='1",
    "患者-é-ß-🙂",
    "back\\slash%_?",
]


def test_hostile_ids_and_payloads_round_trip(store: SQLiteStore, db: Path) -> None:
    writes = [
        record(
            value,
            kind=f"Kind{n}'--",
            payload=f'{{"text":"{value}"}}'.replace("\\", "\\\\"),
            patient=value,
            index=(
                IndexRow(
                    category="intervention",
                    item_id=value,
                    patient_id=value,
                    owner_id=value,
                    status=value,
                    is_open=True,
                    detail=value,
                ),
            ),
        )
        for n, value in enumerate(HOSTILE)
    ]
    store.write(writes)
    for n, value in enumerate(HOSTILE):
        stored = store.read(f"Kind{n}'--", value)
        assert stored is not None
        assert (stored.id, stored.patient_id, stored.payload) == (
            value,
            value,
            writes[n].payload,
        )
        assert [r.id for r in store.read_all(f"Kind{n}'--", patient_id=value)] == [value]
        hits = store.query(
            WorkQuery(
                category="intervention",
                owner_ids=(value,),
                patient_ids=(value,),
                statuses=(value,),
            )
        )
        assert [(h.record_id, h.row.item_id, h.row.detail) for h in hits] == [(value, value, value)]
    # An injection attempt in a filter matches nothing instead of widening the query.
    assert store.query(WorkQuery(category="intervention", owner_ids=("x' OR '1'='1",))) == []
    assert store.read("Kind0'--", "' OR '1'='1") is None
    assert {"records", "work_index", "carecoord_schema"} <= table_names(db)
    assert store.integrity_check() is True


# ------------------------------------------------------------------ driver errors
def test_a_write_while_another_connection_holds_the_lock_is_a_storage_error(
    db: Path,
) -> None:
    made = SQLiteStore(db, timeout=0.05)
    made.write([record("a")])
    blocker = raw(db)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StorageError) as caught:
            made.write([record("b")])
        assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
        assert caught.value.written is False
        assert "busy" in str(caught.value)
        a = made.read("Thing", "a")  # readers are not blocked by a writer (WAL)
        assert a is not None and a.version == 1
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert made.read("Thing", "b") is None
    made.write([record("b")])  # the lock is gone: the same store writes again
    assert [r.id for r in made.read_all("Thing")] == ["a", "b"]
    made.close()


def test_opening_a_locked_file_is_a_storage_error(db: Path) -> None:
    SQLiteStore(db).close()
    blocker = raw(db)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StorageError) as caught:
            SQLiteStore(db, timeout=0.05)
        assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


def test_a_missing_table_surfaces_as_storage_error_with_the_driver_cause(
    store: SQLiteStore, db: Path
) -> None:
    store.write([record("a")])
    conn = raw(db)
    conn.execute("DROP TABLE work_index")
    conn.close()
    with pytest.raises(StorageError) as caught:
        store.query(WorkQuery(category="intervention"))
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    assert "worklist query" in str(caught.value)


@pytest.mark.parametrize(
    "use",
    [
        lambda s: s.read("Thing", "a"),
        lambda s: s.read_all("Thing"),
        lambda s: s.write([record("b")]),
        lambda s: s.query(WorkQuery(category="intervention")),
        lambda s: s.schema_version,
        lambda s: s.integrity_check(),
    ],
    ids=["read", "read_all", "write", "query", "schema_version", "integrity_check"],
)
def test_a_closed_store_raises_storage_error(
    use: Callable[[SQLiteStore], object], db: Path
) -> None:
    made = SQLiteStore(db)
    made.write([record("a")])
    made.close()
    made.close()  # closing twice is harmless
    with pytest.raises(StorageError, match="closed"):
        use(made)


# ---------------------------------------------------------------------- threads
def test_threads_read_and_write_safely_through_the_pool(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connections: list[int] = []
    real_connect = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connections.append(threading.get_ident())
        conn: sqlite3.Connection = real_connect(*args, **kwargs)
        return conn

    monkeypatch.setattr(sqlite3, "connect", connect)
    made = SQLiteStore(db)
    made.write([record("counter", kind="Counter", payload="0")])
    threads_n, rounds = 4, 15
    errors: list[BaseException] = []
    start = threading.Barrier(threads_n)

    def worker(n: int) -> None:
        try:
            start.wait()
            for k in range(rounds):
                made.write([record(f"t{n}-{k}", patient=f"p{n}")])
                while True:  # optimistic increment, retried on conflict
                    current = made.read("Counter", "counter")
                    assert current is not None
                    try:
                        made.write(
                            [
                                record(
                                    "counter",
                                    kind="Counter",
                                    expected=current.version,
                                    payload=str(int(current.payload) + 1),
                                )
                            ]
                        )
                        break
                    except ConflictError:
                        continue
                assert len(made.read_all("Thing", patient_id=f"p{n}")) == k + 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads_n)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    counter = made.read("Counter", "counter")
    assert counter is not None
    assert (counter.payload, counter.version) == (str(threads_n * rounds), threads_n * rounds + 1)
    assert len(made.read_all("Thing")) == threads_n * rounds
    # connections are pooled, not made per thread: the opening one is reused
    assert 1 <= len(connections) <= min(threads_n, made.max_connections)
    assert made.open_connections == len(connections)
    assert made.integrity_check() is True
    made.close()


def test_an_in_memory_store_is_shared_by_threads_but_private_to_its_object() -> None:
    shared = SQLiteStore(":memory:")
    other = SQLiteStore(":memory:")
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for k in range(10):
                shared.write([record(f"t{n}-{k}")])
                assert shared.read("Thing", f"t{n}-{k}") is not None
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    try:
        assert errors == []
        assert len(shared.read_all("Thing")) == 40
        assert other.read_all("Thing") == []  # each ":memory:" store is its own database
    finally:
        shared.close()
        other.close()


def test_two_store_objects_on_one_file_see_each_others_commits(db: Path) -> None:
    first = SQLiteStore(db)
    second = SQLiteStore(db)
    try:
        first.write([record("a", index=(row("i-1", "o-1", T),))])
        seen = second.read("Thing", "a")
        assert seen is not None and seen.version == 1
        assert [h.row.item_id for h in second.query(WorkQuery(category="intervention"))] == ["i-1"]
        second.write([record("a", expected=1, payload='{"by":"second"}')])
        again = first.read("Thing", "a")
        assert again is not None and (again.version, again.payload) == (2, '{"by":"second"}')
        assert first.query(WorkQuery(category="intervention")) == []  # index rows replaced
        with pytest.raises(ConflictError):
            first.write([record("a", expected=1, payload='{"by":"first"}')])
        final = second.read("Thing", "a")
        assert final is not None and final.payload == '{"by":"second"}'
    finally:
        first.close()
        second.close()


# ------------------------------------------------------------ crash and atomicity
def _patient(n: int) -> Patient:
    from datetime import date

    return Patient(
        id=PatientId(f"p-{n}"),
        name=HumanName(family="Crash"),
        birth_date=date(1960, 1, 1),
        time_zone="UTC",
    )


def test_an_exception_inside_a_unit_of_work_leaves_nothing(db: Path) -> None:
    made = SQLiteStore(db)

    def crash() -> None:
        with UnitOfWork(made) as uow:
            uow.add(_patient(1))
            uow.add(_patient(2))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        crash()
    made.close()
    reopened = SQLiteStore(db)
    try:
        assert reopened.read_all("Patient") == []
        assert reopened.integrity_check() is True
    finally:
        reopened.close()


def test_a_batch_with_one_stale_write_writes_none_of_it(store: SQLiteStore) -> None:
    store.write([record("x")])
    with pytest.raises(ConflictError):
        store.write([record("new-1"), record("new-2"), record("x")])  # x exists: conflict
    assert [r.id for r in store.read_all("Thing")] == ["x"]


CRASH_SCRIPT = """
import os, sqlite3, sys
from carecoord.storage import RecordWrite, SQLiteStore

real_connect = sqlite3.connect

def connect(*args, **kwargs):
    conn = real_connect(*args, **kwargs)
    def trace(statement):
        if "crash-2" in statement:
            os._exit(17)  # the process dies with crash-1 written but not committed
    conn.set_trace_callback(trace)
    return conn

sqlite3.connect = connect
store = SQLiteStore(sys.argv[1])
store.write([RecordWrite(kind="Thing", id="before", expected_version=0, payload="{}")])
store.write(
    [
        RecordWrite(kind="Thing", id="crash-1", expected_version=0, payload="{}"),
        RecordWrite(kind="Thing", id="crash-2", expected_version=0, payload="{}"),
    ]
)
print("not reached")
"""


def test_a_process_killed_mid_commit_leaves_the_file_sound(db: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CRASH_SCRIPT, str(db)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 17, done.stderr
    assert "not reached" not in done.stdout
    survivor = SQLiteStore(db)
    try:
        assert [r.id for r in survivor.read_all("Thing")] == ["before"]
        assert survivor.integrity_check() is True
        survivor.write([record("after")])
        assert [r.id for r in survivor.read_all("Thing")] == ["after", "before"]
    finally:
        survivor.close()


# ------------------------------------------------------------------------- demo
def test_the_demo_database_is_sound(tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite3"
    lines: list[str] = []
    data = run_demo(path, out=lines.append)
    assert lines[0].startswith(f"Created {path}")
    made = SQLiteStore(path)
    try:
        assert made.integrity_check() is True
        assert made.schema_version == LATEST
        assert [r.id for r in made.read_all("Patient")] == [str(p.id) for p in data.patients]
        assert [r.id for r in made.read_all("CarePlan")] == ["plan-1", "plan-2", "plan-3"]
    finally:
        made.close()
    # A second run replaces the file instead of failing on or doubling its records.
    run_demo(path, out=lines.append)
    again = SQLiteStore(path)
    try:
        assert again.integrity_check() is True
        assert len(again.read_all("Patient")) == 3
    finally:
        again.close()


def test_a_path_in_a_missing_directory_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as caught:
        SQLiteStore(tmp_path / "no-such-dir" / "care.sqlite3")
    assert isinstance(caught.value.__cause__, sqlite3.Error)


def test_a_file_that_is_not_a_database_is_a_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"this is not an SQLite database " * 40)
    with pytest.raises(StorageError) as caught:
        SQLiteStore(path)
    assert isinstance(caught.value.__cause__, sqlite3.DatabaseError)


def test_schema_two_copies_record_versions_into_an_existing_index(db: Path) -> None:
    conn = raw(db)  # a file as schema version 1 left it
    try:
        conn.executescript("".join(f"{s};" for s in MIGRATIONS[0][1]))
        conn.execute("CREATE TABLE carecoord_schema (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO carecoord_schema (version) VALUES (1)")
        conn.execute(
            "INSERT INTO records (kind, id, version, patient_id, payload) "
            "VALUES ('Thing', 'old', 4, 'p-1', '{}')"
        )
        conn.execute(
            "INSERT INTO work_index (kind, record_id, category, item_id, patient_id, owner_id, "
            "status, is_open, priority) VALUES ('Thing', 'old', 'intervention', 'i-1', 'p-1', "
            "'o-1', 'ready', 1, 0)"
        )
        conn.commit()
    finally:
        conn.close()
    store = SQLiteStore(db)
    try:
        assert store.schema_version == LATEST
        (hit,) = store.query(WorkQuery(category="intervention"))
        assert (hit.record_id, hit.version) == ("old", 4)
        store.write(
            [
                RecordWrite(
                    kind="Thing",
                    id="old",
                    expected_version=4,
                    payload="{}",
                    index=(row("i-1", "o-1", None),),
                )
            ]
        )
        (hit,) = store.query(WorkQuery(category="intervention"))
        assert hit.version == 5
    finally:
        store.close()


def test_batch_insert_conflict_names_the_existing_record(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "c.sqlite3")

    def new(record_id: str) -> RecordWrite:
        return RecordWrite(kind="Patient", id=record_id, expected_version=0, payload="{}")

    try:
        store.write([new("b")])
        with pytest.raises(ConflictError) as info:
            store.write([new("a"), new("b"), new("c")])
        assert info.value.record_id == "b"
        assert [r.id for r in store.read_all("Patient")] == ["b"]
    finally:
        store.close()


def test_schema_three_upgrades_a_schema_two_file_that_then_answers_the_same(db: Path) -> None:
    """due_key is backfilled, the indexes are rebuilt in query order, the answers are unchanged."""
    hits = [
        IndexHit(
            kind="Thing",
            record_id=f"t-{n // 3}",
            version=2,
            row=IndexRow(
                category="intervention",
                item_id=f"i-{n:03d}",
                patient_id=f"p-{n % 7}",
                owner_id=f"o-{n % 5}",
                status="ready",
                is_open=n % 4 != 0,
                priority=n % 6,
                due_at=None if n % 5 == 0 else T + timedelta(hours=n % 11 - 5),
                changed_at=None if n % 3 == 0 else T - timedelta(minutes=n),
            ),
        )
        for n in range(180)
    ]
    conn = raw(db)  # a file as schema version 2 left it, rows written the schema-2 way
    try:
        conn.execute("CREATE TABLE carecoord_schema (version INTEGER NOT NULL)")
        for version, statements in MIGRATIONS[:2]:
            for statement in statements:
                conn.execute(statement)
            conn.execute("INSERT INTO carecoord_schema (version) VALUES (?)", (version,))
        conn.executemany(
            "INSERT INTO records (kind, id, version, payload) VALUES ('Thing', ?, 2, '{}')",
            [(record_id,) for record_id in sorted({h.record_id for h in hits})],
        )
        conn.executemany(
            "INSERT INTO work_index (kind, record_id, record_version, category, item_id, "
            "patient_id, owner_id, status, is_open, priority, due_at, changed_at, detail) "
            "VALUES (?, ?, 2, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            [
                (
                    h.kind,
                    h.record_id,
                    h.row.category,
                    h.row.item_id,
                    h.row.patient_id,
                    h.row.owner_id,
                    h.row.status,
                    int(h.row.is_open),
                    h.row.priority,
                    None if h.row.due_at is None else to_micros(h.row.due_at),
                    None if h.row.changed_at is None else to_micros(h.row.changed_at),
                )
                for h in hits
            ],
        )
    finally:
        conn.close()
    queries = [
        WorkQuery(category="intervention"),
        WorkQuery(category="intervention", open_only=False),
        WorkQuery(category="intervention", owner_ids=("o-1",), due_before=T, limit=7),
        WorkQuery(category="intervention", owner_ids=("o-1", "o-3"), due_before=T),
        WorkQuery(category="intervention", patient_ids=("p-2",), open_only=False, limit=5),
        WorkQuery(category="intervention", due_from=T - timedelta(hours=2), limit=20),
        WorkQuery(category="intervention", changed_before=T - timedelta(minutes=90)),
    ]
    store = SQLiteStore(db)
    try:
        assert store.schema_version == LATEST == 3
        for query in queries:
            assert list(store.query(query)) == run_query(query, hits), query
        assert store.integrity_check()
    finally:
        store.close()
    conn = raw(db)
    try:
        stale = conn.execute(
            "SELECT COUNT(*) FROM work_index WHERE due_key IS NOT COALESCE(due_at, ?)", (MAX_KEY,)
        ).fetchone()
        assert stale == (0,)
        indexes = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'"))
    finally:
        conn.close()
    for name in ("work_by_owner", "work_by_patient", "work_by_due"):
        assert "priority DESC, due_key" in indexes[name], indexes[name]
