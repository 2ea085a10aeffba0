"""Query plans on SQLite: every hot per-patient and per-staff statement searches an index.

The statements are the ones the store runs (``read``, ``read_all`` and the SQL
``query`` builds for each :class:`WorkQuery` the service issues), explained on a
store holding a few thousand rows (``_plans_data.py``). ``EXPLAIN QUERY PLAN``
of a worklist statement must show only index searches (``SEARCH ... USING
COVERING INDEX``: the index alone answers) on the expected index, the compound
and scalar-subquery steps around them, and neither a ``SCAN`` nor a sort
(``USE TEMP B-TREE``); a query of a few streams (owners, patients, open and
closed rows) with a due range must search each priority band as one range
(``priority=? AND due_key<?``): the metric-fact queries of a period read only
that period's rows. Checked without statistics (a fresh file) and after
:meth:`SQLiteStore.optimize`. PostgreSQL: ``test_query_plans_postgres.py``.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from _plans_data import (
    HOT_QUERIES,
    OWNER,
    PATIENT,
    PERIOD_QUERIES,
    SERVICE_QUERIES,
    Expected,
    T,
    dataset,
    load,
    patient_of,
    service_dataset,
)
from carecoord import HumanName, Patient, PatientId
from carecoord.storage import IndexHit, MemoryStore, SQLiteStore, WorkQuery, copy_store
from carecoord.storage._codec import encode_record
from carecoord.storage._query import run_query
from carecoord.storage._sqlite_sql import BANDS, MAX_ARMS, work_statement
from carecoord.storage.sqlite import _READ, _READ_PATIENT
from carecoord.storage.sqlite import MIGRATIONS as SQLITE_MIGRATIONS

# -------------------------------------------------------------------- SQLite
_SEARCH = re.compile(
    r"SEARCH \w+ USING (?P<covering>COVERING )?(?:INDEX (?P<index>\w+)|(?P<pk>PRIMARY KEY)) "
    r"\((?P<terms>[^)]*)\)"
)
_SORT = "USE TEMP B-TREE FOR ORDER BY"
_STRUCTURE = re.compile(
    r"COMPOUND QUERY|LEFT-MOST SUBQUERY|UNION ALL|MERGE \(UNION ALL\)|LEFT|RIGHT"
    r"|SCALAR SUBQUERY \d+"
)
"""Plan steps that only say how the searches are combined."""
WORKLIST_QUERIES = {**HOT_QUERIES, **SERVICE_QUERIES, **PERIOD_QUERIES}


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


def assert_sqlite_worklist_plan(details: list[str], expected: Expected, *, banded: bool) -> None:
    """Covering searches of one expected index only: no scan, no sort, bands as ranges.

    SQLite keeps the due time as ``due_key`` (rows without one last), so an
    expected ``due_at`` column is found as ``due_key``.
    """
    assert not [d for d in details if d.startswith("SCAN") or "TEMP B-TREE" in d], details
    assert all(_STRUCTURE.fullmatch(d) or _SEARCH.fullmatch(d) for d in details), details
    searches = [found for detail in details if (found := _SEARCH.fullmatch(detail))]
    assert searches, details
    assert {found["index"] for found in searches} == {searches[0]["index"]}, details
    assert all(found["covering"] and found["terms"].startswith("category=?") for found in searches)
    wanted = [(name, column.replace("due_at", "due_key")) for name, column in expected]
    assert any(
        found["index"] == name and column in found["terms"]
        for found in searches
        for name, column in wanted
    ), details
    if banded:  # each priority band is one range of the index
        assert any(
            re.search(r"priority=\? AND due_key[<>]", found["terms"]) for found in searches
        ), details


def load_all(store: SQLiteStore) -> None:
    """The shared data set and the service shapes' rows."""
    load(store)
    store.write(service_dataset())


@pytest.fixture(scope="module", params=["fresh", "analyzed"])
def sqlite_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A loaded SQLite file, without statistics ("fresh") or after ``optimize()``."""
    path = tmp_path_factory.mktemp("plans") / f"{request.param}.db"
    store = SQLiteStore(path)
    try:
        load_all(store)
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


@pytest.mark.parametrize("name", list(WORKLIST_QUERIES))
def test_sqlite_worklist_queries_search_an_index(explain: sqlite3.Connection, name: str) -> None:
    query, expected = WORKLIST_QUERIES[name]
    statement = work_statement(query)
    assert statement is not None
    ranged = query.due_before is not None or query.due_from is not None
    led = query.owner_ids or query.patient_ids or (None,)
    streams = len(led) * (1 if query.open_only else 2)
    # a few streams with a due range are read band by band (each band one range)
    banded = ranged and streams * (BANDS + 1) <= MAX_ARMS
    assert_sqlite_worklist_plan(sqlite_plan(explain, *statement), expected, banded=banded)


@pytest.mark.parametrize("name", list(WORKLIST_QUERIES))
def test_sqlite_lean_queries_search_the_same_index(explain: sqlite3.Connection, name: str) -> None:
    """``query_details`` reads the same covering index ranges, unmerged: nothing sorted."""
    query, expected = WORKLIST_QUERIES[name]
    statement = work_statement(query, lean=True)
    assert statement is not None
    ranged = query.due_before is not None or query.due_from is not None
    led = query.owner_ids or query.patient_ids or (None,)
    streams = len(led) * (1 if query.open_only else 2)
    banded = ranged and streams * (BANDS + 1) <= MAX_ARMS
    details = sqlite_plan(explain, *statement)
    assert_sqlite_worklist_plan(details, expected, banded=banded)
    if query.limit is None:
        assert not any("MERGE" in d for d in details), details


@pytest.mark.parametrize("name", list(PERIOD_QUERIES))
def test_sqlite_lean_queries_answer_as_the_reference(
    sqlite_db: Path, every_hit: list[IndexHit], name: str
) -> None:
    query, _ = PERIOD_QUERIES[name]
    store = SQLiteStore(sqlite_db)
    try:
        found = store.query_details(query)
    finally:
        store.close()
    rows = [hit.row for hit in run_query(query, every_hit)]
    assert rows, name
    expected = [(r.patient_id, r.item_id, r.status, r.detail) for r in rows]
    assert sorted(found, key=repr) == sorted(expected, key=repr)


@pytest.fixture(scope="module")
def every_hit() -> list[IndexHit]:
    """Every index row of the loaded data set, as hits (for the reference semantics)."""
    memory = MemoryStore()
    memory.write(dataset())
    memory.write(service_dataset())
    categories = {row.category for w in dataset() + service_dataset() for row in w.index}
    return [
        hit
        for category in sorted(categories)
        for hit in memory.query(WorkQuery(category=category, open_only=False))
    ]


@pytest.mark.parametrize("name", list(WORKLIST_QUERIES))
def test_sqlite_worklist_queries_answer_as_the_reference(
    sqlite_db: Path, every_hit: list[IndexHit], name: str
) -> None:
    """The statements the plans are checked for return what the reference semantics say."""
    query, _ = WORKLIST_QUERIES[name]
    store = SQLiteStore(sqlite_db)
    try:
        found = store.query(query)
    finally:
        store.close()
    assert found, name  # the data set has rows for every query
    assert list(found) == run_query(query, every_hit)


def test_sqlite_many_owners_search_one_index_and_sort_the_matches(
    explain: sqlite3.Connection,
) -> None:
    """Past MAX_ARMS streams the query is one IN search, sorted: still no scan."""
    owners = tuple(f"s-{n:03d}" for n in range(MAX_ARMS + 1))  # s-000 ... s-032
    query = WorkQuery(category="intervention", owner_ids=owners, due_before=T)
    assert len(owners) > MAX_ARMS
    statement = work_statement(query)
    assert statement is not None
    details = sqlite_plan(explain, *statement)
    assert details[-1] == _SORT, details
    assert_sqlite_search(details, (("work_by_owner", "owner_id"),))


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
