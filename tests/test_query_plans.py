"""Query plans: every hot per-patient and per-staff statement searches an index, on every store.

The statements are the ones the stores run (``read``, ``read_all`` and the SQL
``query`` builds for each :class:`WorkQuery` the service issues), explained on a
store holding a few thousand rows:

* SQLite: ``EXPLAIN QUERY PLAN`` must show one ``SEARCH ... USING INDEX`` (or
  the primary key) on the expected columns and nothing but an optional
  ``USE TEMP B-TREE FOR ORDER BY``, never a ``SCAN``; checked without
  statistics (a fresh file) and after :meth:`SQLiteStore.optimize`.
* PostgreSQL: ``EXPLAIN (FORMAT JSON)`` with ``enable_seqscan = off`` (so the
  plan proves an index serves the predicate, whatever the table size) must
  show no ``Seq Scan`` and the expected index; worklist queries read
  ``work_index`` alone (no join with ``records``). Needs
  ``CARECOORD_TEST_POSTGRES_DSN``; skipped without it (see ``_pg.py``).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from _pg import (
    ThrowawayStore,
    drop_run_schemas,
    drop_schema,
    new_schema_name,
    postgres_dsn,
    raw_connection,
)
from carecoord import HumanName, Patient, PatientId
from carecoord.storage import (
    IndexRow,
    MemoryStore,
    PostgresStore,
    RecordWrite,
    SQLiteStore,
    WorkQuery,
    copy_store,
)
from carecoord.storage._codec import encode_record
from carecoord.storage._pg_sql import Statements, query_statement
from carecoord.storage.postgres import MIGRATIONS as POSTGRES_MIGRATIONS
from carecoord.storage.sqlite import _READ, _READ_PATIENT, _query_sql
from carecoord.storage.sqlite import MIGRATIONS as SQLITE_MIGRATIONS

T = datetime(2026, 11, 23, 9, tzinfo=UTC)
PATIENTS = 300
STAFF = 30
PATIENT = "p-0042"
OWNER = "s-012"

# ------------------------------------------------------------------ the data


def patient_of(n: int) -> str:
    return f"p-{n:04d}"


def staff_of(n: int) -> str:
    return f"s-{n % STAFF:03d}"


def one_row(category: str, item: str, patient: str | None, owner: str, **extra: Any) -> IndexRow:
    extra.setdefault("status", "active")
    extra.setdefault("is_open", True)
    return IndexRow(category=category, item_id=item, patient_id=patient, owner_id=owner, **extra)


def dataset() -> list[RecordWrite]:
    """About 3,000 records of 7 kinds and 4,500 index rows of 7 categories."""
    writes: list[RecordWrite] = []

    def add(kind: str, record_id: str, patient: str | None, *rows: IndexRow) -> None:
        writes.append(
            RecordWrite(
                kind=kind,
                id=record_id,
                expected_version=0,
                payload=f'{{"id":"{record_id}"}}',
                patient_id=patient,
                index=rows,
            )
        )

    for n in range(PATIENTS):
        patient, owner = patient_of(n), staff_of(n)
        add("Patient", patient, patient)
        members = (one_row("member", f"m-{n}-{k}", patient, staff_of(n + k)) for k in range(3))
        add("CareTeam", f"team-{n}", patient, *members)
        tasks = (
            one_row(
                "intervention",
                f"i-{n}-{k}",
                patient,
                owner,
                status="ready",
                is_open=k % 2 == 0,
                due_at=T + timedelta(days=k),
            )
            for k in range(4)
        )
        add("CarePlan", f"plan-{n}", patient, *tasks)
        for k in range(5):  # the latest entries are not sealed yet (open)
            entry, at = f"a-{n}-{k}", T + timedelta(seconds=10 * n + k)
            unsealed = n >= PATIENTS - 2
            audit = one_row("audit", entry, patient, owner, is_open=unsealed, due_at=at)
            add("AuditEntry", entry, patient, audit)
        pending = n % 10 == 0
        add(
            "Notification",
            f"n-{n}",
            patient,
            one_row(
                "outbox",
                f"n-{n}",
                patient,
                owner,
                status="pending" if pending else "sent",
                is_open=pending,
                due_at=T + timedelta(minutes=n),
            ),
        )
        grant = one_row("emergency", f"e-{n}", patient, owner, due_at=T + timedelta(hours=n))
        add("EmergencyAccess", f"e-{n}", patient, grant)
    for n in range(STAFF):
        line = one_row("staff", staff_of(n), None, staff_of(n // 5))
        add("StaffMember", staff_of(n), None, line)
    return writes


def load(store: SQLiteStore | PostgresStore) -> None:
    writes = dataset()
    for start in range(0, len(writes), 1000):
        store.write(writes[start : start + 1000])


# ---------------------------------------------------- the statements to check
Expected = tuple[tuple[str, str], ...]
"""Acceptable (index, column the index search must constrain) pairs."""

HOT_QUERIES: dict[str, tuple[WorkQuery, Expected]] = {
    "care-team memberships of a patient": (
        WorkQuery(category="member", patient_ids=(PATIENT,)),
        (("work_by_patient", "patient_id"),),
    ),
    "emergency grants of a staff member for a patient": (
        WorkQuery(category="emergency", owner_ids=(OWNER,), patient_ids=(PATIENT,), due_from=T),
        (("work_by_owner", "owner_id"), ("work_by_patient", "patient_id")),
    ),
    "audit trail of a patient": (
        WorkQuery(category="audit", patient_ids=(PATIENT,), open_only=False),
        (("work_by_patient", "patient_id"),),
    ),
    "audit trail of a staff member": (
        WorkQuery(category="audit", owner_ids=(OWNER,), open_only=False),
        (("work_by_owner", "owner_id"),),
    ),
    "unsealed audit entries": (
        WorkQuery(category="audit", open_only=True, limit=500),
        (("work_by_due", "is_open"),),
    ),
    "interventions due for a staff member": (
        WorkQuery(category="intervention", owner_ids=(OWNER,), due_before=T + timedelta(days=2)),
        (("work_by_owner", "owner_id"),),
    ),
    "reports of a staff member": (
        WorkQuery(category="staff", owner_ids=(staff_of(1),), open_only=False),
        (("work_by_owner", "owner_id"),),
    ),
    "pending notifications due": (
        WorkQuery(
            category="outbox", statuses=("pending",), due_before=T + timedelta(days=1), limit=100
        ),
        (("work_by_due", "due_at"),),
    ),
}


def test_the_data_set_has_thousands_of_rows_and_answers_every_query() -> None:
    writes = dataset()
    assert len(writes) > 3000
    assert sum(len(w.index) for w in writes) > 4000
    store = MemoryStore()
    store.write(writes)
    for name, (query, _) in HOT_QUERIES.items():
        assert store.query(query), name


# -------------------------------------------------------------------- SQLite
_SEARCH = re.compile(
    r"SEARCH \w+ USING (?:COVERING )?(?:INDEX (?P<index>\w+)|(?P<pk>PRIMARY KEY)) "
    r"\((?P<terms>[^)]*)\)"
)
_SORT = "USE TEMP B-TREE FOR ORDER BY"


def sqlite_plan(conn: sqlite3.Connection, statement: str, params: Any) -> list[str]:
    """The ``detail`` column of ``EXPLAIN QUERY PLAN``, one entry per step."""
    return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + statement, params)]


def assert_sqlite_search(details: list[str], expected: Expected) -> None:
    """One index search on an expected column; at most a sort besides it; never a scan."""
    searches = [found for detail in details if (found := _SEARCH.fullmatch(detail))]
    assert len(searches) == 1, details
    assert all(detail == _SORT or _SEARCH.fullmatch(detail) for detail in details), details
    index = searches[0]["index"] or "PRIMARY KEY"
    terms = searches[0]["terms"]
    assert terms.startswith(("category=?", "kind=?")), details
    assert any(index == name and f"{column}" in terms for name, column in expected), details


@pytest.fixture(scope="module", params=["fresh", "analyzed"])
def sqlite_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A loaded SQLite file, without statistics ("fresh") or after ``optimize()``."""
    path = tmp_path_factory.mktemp("plans") / f"{request.param}.db"
    store = SQLiteStore(path)
    try:
        load(store)
        if request.param == "analyzed":
            store.optimize()
    finally:
        store.close()
    with closing(sqlite3.connect(path)) as conn:
        stats = conn.execute("SELECT COUNT(*) FROM sqlite_stat1").fetchone()[0]
    assert (stats > 0) == (request.param == "analyzed")
    return path


@pytest.fixture
def explain(sqlite_db: Path) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(sqlite_db)) as conn:
        yield conn


def test_sqlite_read_searches_the_primary_key(explain: sqlite3.Connection) -> None:
    details = sqlite_plan(explain, _READ, ("AuditEntry", "a-42-1"))
    assert details == ["SEARCH records USING PRIMARY KEY (kind=? AND id=?)"]


def test_sqlite_read_all_of_a_patient_searches_records_by_patient(
    explain: sqlite3.Connection,
) -> None:
    details = sqlite_plan(explain, _READ_PATIENT, ("AuditEntry", PATIENT))
    assert_sqlite_search(details, (("records_by_patient", "patient_id"),))
    assert _SORT not in details  # the index hands the rows over in id order


@pytest.mark.parametrize("name", list(HOT_QUERIES))
def test_sqlite_worklist_queries_search_an_index(explain: sqlite3.Connection, name: str) -> None:
    query, expected = HOT_QUERIES[name]
    statement = _query_sql(query)
    assert statement is not None
    assert_sqlite_search(sqlite_plan(explain, *statement), expected)


def test_sqlite_read_all_of_a_patient_needs_no_statistics(tmp_path: Path) -> None:
    """On a new file (no ANALYZE yet) the per-patient read still searches its index."""
    store = SQLiteStore(tmp_path / "fresh.db")
    try:
        load(store)
        found = store.read_all("AuditEntry", patient_id=PATIENT)
        assert [r.id for r in found] == [f"a-42-{k}" for k in range(5)]
    finally:
        store.close()
    with closing(sqlite3.connect(tmp_path / "fresh.db")) as conn:
        assert conn.execute("SELECT COUNT(*) FROM sqlite_stat1").fetchone() == (0,)
        details = sqlite_plan(conn, _READ_PATIENT, ("AuditEntry", PATIENT))
    assert details == ["SEARCH records USING INDEX records_by_patient (kind=? AND patient_id=?)"]


def test_sqlite_migrations_gather_statistics(tmp_path: Path) -> None:
    """Upgrading a file with data runs ANALYZE, and backfills the index rows' versions."""
    path = tmp_path / "old.db"
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("CREATE TABLE carecoord_schema (version INTEGER NOT NULL)")
        version, statements = SQLITE_MIGRATIONS[0]
        for statement in statements:
            conn.execute(statement)
        conn.execute("INSERT INTO carecoord_schema (version) VALUES (?)", (version,))
        conn.executemany(
            "INSERT INTO records (kind, id, version, patient_id, payload) "
            "VALUES (?, ?, 3, ?, '{}')",
            [("Thing", f"t-{n}", patient_of(n % 50)) for n in range(500)],
        )
        conn.execute(
            "INSERT INTO work_index (kind, record_id, category, item_id, patient_id, owner_id, "
            "status, is_open, priority) VALUES ('Thing', 't-7', 'member', 'm', ?, ?, 'x', 1, 0)",
            (patient_of(7), OWNER),
        )
    store = SQLiteStore(path)
    try:
        (hit,) = store.query(WorkQuery(category="member", owner_ids=(OWNER,)))
        assert (hit.record_id, hit.version) == ("t-7", 3)
    finally:
        store.close()
    with closing(sqlite3.connect(path)) as conn:
        indexes = {row[0] for row in conn.execute("SELECT idx FROM sqlite_stat1")}
    assert "records_by_patient" in indexes


def test_optimize_gathers_statistics(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "stats.db")
    try:
        store.write(dataset()[:200])
        store.optimize()
    finally:
        store.close()
    with closing(sqlite3.connect(tmp_path / "stats.db")) as conn:
        indexes = {row[0] for row in conn.execute("SELECT idx FROM sqlite_stat1")}
    assert {"records_by_patient", "work_by_owner", "work_by_patient", "work_by_due"} <= indexes


class OptimizingStore(MemoryStore):
    """A store with the optional ``optimize()`` hook, counting its calls."""

    def __init__(self) -> None:
        super().__init__()
        self.optimized = 0

    def optimize(self) -> None:
        self.optimized += 1


def test_copy_store_optimizes_a_target_that_can(tmp_path: Path) -> None:
    source = MemoryStore()
    patient = Patient(
        id=PatientId("p-1"),
        name=HumanName(family="Plan"),
        birth_date=date(1960, 1, 1),
        time_zone="UTC",
    )
    source.write([encode_record(patient, 0)])
    target = OptimizingStore()
    assert copy_store(source, target).total == 1
    assert target.optimized == 1
    assert copy_store(MemoryStore(), OptimizingStore()).total == 0  # nothing written, no call
    assert copy_store(source, MemoryStore()).total == 1  # no optimize(): nothing to call
    sqlite_target = SQLiteStore(tmp_path / "copy.db")
    try:
        copy_store(source, sqlite_target)
    finally:
        sqlite_target.close()
    with closing(sqlite3.connect(tmp_path / "copy.db")) as conn:
        assert conn.execute("SELECT COUNT(*) FROM sqlite_stat1").fetchone()[0] > 0


# ---------------------------------------------------------------- PostgreSQL
@pytest.fixture(scope="module")
def pg_store() -> Iterator[PostgresStore]:
    """A loaded PostgreSQL store (own schema, dropped afterwards); skipped without a server."""
    dsn = postgres_dsn()
    store = ThrowawayStore(dsn)
    try:
        load(store)
        store.optimize()
        yield store
    finally:
        store.close()
        drop_run_schemas(dsn)


@pytest.fixture
def pg_explain(pg_store: PostgresStore) -> Iterator[psycopg.Connection[Any]]:
    with raw_connection(postgres_dsn()) as conn:
        conn.execute("SET enable_seqscan = off")
        yield conn


def pg_nodes(conn: psycopg.Connection[Any], statement: sql.Composable, params: Any) -> list[Any]:
    """Every node of the JSON plan of ``statement``, depth first."""
    found = conn.execute(
        sql.Composed([sql.SQL("EXPLAIN (FORMAT JSON) "), statement]), params
    ).fetchone()
    assert found is not None
    nodes: list[Any] = []
    pending = [found[0][0]["Plan"]]
    while pending:
        node = pending.pop()
        nodes.append(node)
        pending.extend(node.get("Plans", []))
    return nodes


def assert_pg_search(nodes: list[Any], table: str, expected: Expected) -> None:
    """Only ``table`` is read, never sequentially, through one expected index."""
    assert {n["Relation Name"] for n in nodes if "Relation Name" in n} == {table}, nodes
    assert not [n for n in nodes if n["Node Type"] == "Seq Scan"], nodes
    searches = [n for n in nodes if "Index Name" in n]
    assert len(searches) == 1, nodes
    index, condition = searches[0]["Index Name"], searches[0].get("Index Cond", "")
    assert any(index == name and column in condition for name, column in expected), nodes


def test_postgres_read_searches_the_primary_key(
    pg_store: PostgresStore, pg_explain: psycopg.Connection[Any]
) -> None:
    nodes = pg_nodes(pg_explain, Statements(pg_store.schema).read, ("AuditEntry", "a-42-1"))
    assert_pg_search(nodes, "records", (("records_pkey", "id"),))


def test_postgres_read_all_of_a_patient_searches_records_by_patient(
    pg_store: PostgresStore, pg_explain: psycopg.Connection[Any]
) -> None:
    statement = Statements(pg_store.schema).read_patient
    nodes = pg_nodes(pg_explain, statement, ("AuditEntry", PATIENT))
    assert_pg_search(nodes, "records", (("records_by_patient", "patient_id"),))
    found = pg_store.read_all("AuditEntry", patient_id=PATIENT)
    assert [r.id for r in found] == [f"a-42-{k}" for k in range(5)]


@pytest.mark.parametrize("name", list(HOT_QUERIES))
def test_postgres_worklist_queries_search_an_index(
    pg_store: PostgresStore, pg_explain: psycopg.Connection[Any], name: str
) -> None:
    query, expected = HOT_QUERIES[name]
    statement = query_statement(Statements(pg_store.schema), query)
    assert statement is not None
    assert_pg_search(pg_nodes(pg_explain, *statement), "work_index", expected)
    assert pg_store.query(query)  # the data set has rows for every query


def test_postgres_migration_2_backfills_the_record_versions() -> None:
    """A schema-1 deployment gets ``work_index.record_version`` from its records."""
    dsn, schema = postgres_dsn(), new_schema_name()
    name = sql.Identifier(schema)
    try:
        with raw_connection(dsn) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(name))
            conn.execute(
                sql.SQL(
                    "CREATE TABLE {} (version integer PRIMARY KEY, applied_at timestamptz)"
                ).format(sql.Identifier(schema, "carecoord_schema"))
            )
            version, statements = POSTGRES_MIGRATIONS[0]
            for statement in statements:
                conn.execute(sql.SQL(statement).format(schema=name))
            conn.execute(
                sql.SQL("INSERT INTO {} (version) VALUES (%s)").format(
                    sql.Identifier(schema, "carecoord_schema")
                ),
                (version,),
            )
            conn.execute(
                sql.SQL(
                    "INSERT INTO {} (kind, id, version, patient_id, payload) "
                    "VALUES ('Thing', 't-1', 3, %s, '{{}}'), ('Thing', 't-2', 1, NULL, '{{}}')"
                ).format(sql.Identifier(schema, "records")),
                (PATIENT,),
            )
            conn.execute(
                sql.SQL(
                    "INSERT INTO {} (kind, record_id, category, item_id, patient_id, owner_id, "
                    "status, is_open, priority) VALUES "
                    "('Thing', 't-1', 'member', 'm-1', %s, %s, 'x', true, 0), "
                    "('Thing', 't-2', 'member', 'm-2', NULL, %s, 'x', true, 0)"
                ).format(sql.Identifier(schema, "work_index")),
                (PATIENT, OWNER, OWNER),
            )
        store = PostgresStore(dsn, schema=schema, max_size=1)
        try:
            assert store.schema_version == 1
            assert store.migrate() == POSTGRES_MIGRATIONS[-1][0] == 2
            hits = store.query(WorkQuery(category="member", owner_ids=(OWNER,)))
            assert [(h.record_id, h.version) for h in hits] == [("t-2", 1), ("t-1", 3)]
            row = one_row("member", "m-1", PATIENT, OWNER)
            store.write(
                [
                    RecordWrite(
                        kind="Thing", id="t-1", expected_version=3, payload="{}", index=(row,)
                    )
                ]
            )
            hits = store.query(WorkQuery(category="member", owner_ids=(OWNER,)))
            assert [(h.record_id, h.version) for h in hits] == [("t-2", 1), ("t-1", 4)]
        finally:
            store.close()
    finally:
        drop_schema(dsn, schema)
