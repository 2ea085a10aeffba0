"""Query plans on PostgreSQL: every hot statement reads an index, in order, without workers.

``EXPLAIN (FORMAT JSON)`` with sequential, bitmap and plain index scans
disabled (so the plan proves an index serves the predicate, whatever the table
size) must show no ``Seq Scan`` and only the expected index; worklist queries
read ``work_index`` alone (no join with ``records``), through index-only scans
(the index covers them), and a query with ``LIMIT`` sorts nothing but rows
already cut at the limit (a band or a prefix), or nothing at all. With parallel
plans made free, no plan has a ``Gather``. The data set is ``_plans_data.py``. Needs
``CARECOORD_TEST_POSTGRES_DSN``; skipped without it (see ``_pg.py``).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg_pool import ConnectionPool

from _pg import (
    ThrowawayStore,
    drop_run_schemas,
    drop_schema,
    new_schema_name,
    postgres_dsn,
    raw_connection,
)
from _plans_data import (
    CASELOAD,
    HOT_QUERIES,
    OWNER,
    PATIENT,
    REPORTS,
    SERVICE_QUERIES,
    Expected,
    T,
    dataset,
    load,
    one_row,
    service_dataset,
    staff_of,
)
from carecoord.storage import IndexHit, IndexRow, PostgresStore, RecordWrite, WorkQuery
from carecoord.storage._pg_query import QueryStatements
from carecoord.storage._pg_sql import Statements
from carecoord.storage._query import run_query
from carecoord.storage.postgres import LATEST_SCHEMA
from carecoord.storage.postgres import MIGRATIONS as POSTGRES_MIGRATIONS

PG_QUERIES: dict[str, tuple[WorkQuery, Expected]] = {
    "overdue interventions of a supervisor's reports, first 20": (
        WorkQuery(category="intervention", owner_ids=REPORTS, due_before=T, limit=20),
        (("work_by_owner", "owner_id"),),
    ),
    "goals of a supervisor's reports, first 5": (
        WorkQuery(category="goal", owner_ids=REPORTS, limit=5),
        (("work_by_owner", "owner_id"),),
    ),
    "audit trail of a staff member, first 3": (
        WorkQuery(category="audit", owner_ids=(OWNER,), open_only=False, limit=3),
        (("work_by_owner", "owner_id"),),
    ),
    "open interventions of a staff member, first 10": (
        WorkQuery(category="intervention", owner_ids=(OWNER,), limit=10),
        (("work_by_owner", "owner_id"),),
    ),
    "team worklist: interventions due, first 10": (
        WorkQuery(
            category="intervention", patient_ids=CASELOAD, due_before=T + timedelta(1), limit=10
        ),
        (("work_by_patient", "patient_id"),),
    ),
}
"""Shapes only the PostgreSQL store reads in its own way (several prefixes with LIMIT)."""

WORKLIST_QUERIES = {**HOT_QUERIES, **SERVICE_QUERIES, **PG_QUERIES}
SCANS = ("Index Only Scan", "Index Scan", "Bitmap Index Scan", "Seq Scan", "Bitmap Heap Scan")


@pytest.fixture(scope="module")
def pg_store() -> Iterator[PostgresStore]:
    """A loaded PostgreSQL store (own schema, dropped afterwards); skipped without a server."""
    dsn = postgres_dsn()
    store = ThrowawayStore(dsn)
    try:
        load(store)
        store.write(service_dataset())
        with raw_connection(dsn) as conn:
            _add_other_staff_work(conn, store.schema)
            # index-only scans need the visibility map
            conn.execute(sql.SQL("VACUUM ANALYZE {}").format(Statements(store.schema).work_index))
        store.optimize()
        yield store
    finally:
        store.close()
        drop_run_schemas(dsn)


def _add_other_staff_work(conn: psycopg.Connection[Any], schema: str) -> None:
    """60,000 rows of 800 other staff members and 5,000 other patients, in every category.

    The planner weighs indexes by the statistics: with the data set alone, the
    no-owner index filtered by owner is as cheap as the owner index. A
    deployment has many owners; so has the table here.
    """
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (kind, id, version, payload) "
            "SELECT 'Other', 'x-' || g, 1, '{{}}' FROM generate_series(0, 1999) AS g"
        ).format(sql.Identifier(schema, "records"))
    )
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (kind, record_id, record_version, category, item_id, patient_id, "
            "owner_id, status, is_open, priority, due_at, changed_at) "
            "SELECT 'Other', 'x-' || (g %% 2000), 1, c, 'x-' || g, 'q-' || (g %% 5000), "
            "'t-' || (g %% 800), 'ready', g %% 5 <> 0, g %% 4, "
            "%s + (g %% 997) * interval '1 hour', %s - (g %% 89) * interval '1 day' "
            "FROM generate_series(0, 5999) AS g, unnest(%s::text[]) AS c"
        ).format(sql.Identifier(schema, "work_index")),
        (T - timedelta(days=20), T, list(_CATEGORIES_OF_THE_DATA_SETS)),
    )


_CATEGORIES_OF_THE_DATA_SETS = (
    "member",
    "emergency",
    "audit",
    "intervention",
    "staff",
    "outbox",
    "review",
    "referral",
    "goal",
    "contact",
)


@pytest.fixture
def pg_explain(pg_store: PostgresStore) -> Iterator[psycopg.Connection[Any]]:
    """A session whose planner uses a sequential, bitmap or plain index scan only if it must.

    What is left are index-only scans: a plan made of them alone proves the
    index covers the statement (whether VACUUM has marked the test's pages
    all-visible yet, on a shared server, does not matter).
    """
    with raw_connection(postgres_dsn()) as conn:
        for method in ("seqscan", "bitmapscan", "indexscan"):
            conn.execute(f"SET enable_{method} = off")
        yield conn


def pg_nodes(conn: psycopg.Connection[Any], statement: Any, params: Any) -> list[Any]:
    """Every node of the JSON plan of ``statement``, depth first."""
    return _flatten(_plan(conn, statement, params))


def _plan(conn: psycopg.Connection[Any], statement: Any, params: Any) -> Any:
    if isinstance(statement, bytes):
        explain: Any = b"EXPLAIN (FORMAT JSON) " + statement
    else:
        explain = sql.Composed([sql.SQL("EXPLAIN (FORMAT JSON) "), statement])
    found = conn.execute(explain, params).fetchone()
    assert found is not None
    return found[0][0]["Plan"]


def _flatten(root: Any) -> list[Any]:
    nodes: list[Any] = []
    pending = [root]
    while pending:
        node = pending.pop()
        nodes.append(node)
        pending.extend(node.get("Plans", []))
    return nodes


def worklist_plan(conn: psycopg.Connection[Any], store: PostgresStore, query: WorkQuery) -> Any:
    statement = QueryStatements(Statements(store.schema).work_index).statement(query)
    assert statement is not None
    return _plan(conn, *statement)


def assert_pg_search(nodes: list[Any], table: str, expected: Expected) -> None:
    """Only ``table`` is read, never sequentially, through one expected index."""
    assert {n["Relation Name"] for n in nodes if "Relation Name" in n} == {table}, nodes
    assert not [n for n in nodes if n["Node Type"] == "Seq Scan"], nodes
    searches = [n for n in nodes if "Index Name" in n]
    assert len({n["Index Name"] for n in searches}) == 1, nodes
    assert any(
        n["Index Name"] == name and column in n.get("Index Cond", "")
        for n in searches
        for name, column in expected
    ), nodes


def assert_sorts_only_cut_rows(node: Any, *, under_sort: bool = False) -> None:
    """Every scan below a ``Sort`` is cut by a ``Limit`` between the two."""
    kind = node["Node Type"]
    if kind in SCANS:
        assert not under_sort, f"{kind} sorted without a limit"
    if kind == "Limit":
        under_sort = False
    elif kind in ("Sort", "Incremental Sort"):
        under_sort = True
    for child in node.get("Plans", []):
        assert_sorts_only_cut_rows(child, under_sort=under_sort)


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


@pytest.mark.parametrize("name", list(WORKLIST_QUERIES))
def test_postgres_worklist_queries_read_an_index_alone(
    pg_store: PostgresStore, pg_explain: psycopg.Connection[Any], name: str
) -> None:
    query, expected = WORKLIST_QUERIES[name]
    root = worklist_plan(pg_explain, pg_store, query)
    nodes = _flatten(root)
    assert_pg_search(nodes, "work_index", expected)
    scans = [n for n in nodes if n["Node Type"] in SCANS]
    assert {n["Node Type"] for n in scans} == {"Index Only Scan"}, nodes
    if query.limit is not None:
        assert_sorts_only_cut_rows(root)
    assert pg_store.query(query)  # the data set has rows for every query


@pytest.mark.parametrize(
    "query",
    [
        WorkQuery(category="intervention", owner_ids=(OWNER,), limit=100),
        WorkQuery(category="audit", open_only=True, limit=500),
        WorkQuery(category="referral", owner_ids=(OWNER,)),
        WorkQuery(category="review", changed_before=T),
    ],
    ids=["owner", "no owner", "owner without limit", "no owner without limit"],
)
def test_postgres_one_prefix_reads_the_index_in_order(
    pg_store: PostgresStore, pg_explain: psycopg.Connection[Any], query: WorkQuery
) -> None:
    """Open rows of one owner (or of every owner), no due range: no sort at all."""
    nodes = _flatten(worklist_plan(pg_explain, pg_store, query))
    assert not [n for n in nodes if "Sort" in n["Node Type"]], nodes
    assert [n["Node Type"] for n in nodes if n["Node Type"] in SCANS] == ["Index Only Scan"]


def test_postgres_a_due_range_is_one_range_scan_per_priority_band(
    pg_store: PostgresStore, pg_explain: psycopg.Connection[Any]
) -> None:
    query = WorkQuery(category="intervention", owner_ids=(OWNER,), due_before=T, limit=100)
    nodes = _flatten(worklist_plan(pg_explain, pg_store, query))
    bands = [n for n in nodes if "due_at <" in n.get("Index Cond", "")]
    assert len(bands) == 1, nodes  # the scan run once per (prefix, priority) band
    assert "priority =" in bands[0]["Index Cond"], bands
    assert "owner_id =" in bands[0]["Index Cond"], bands
    assert not [n for n in nodes if "due_at" in n.get("Filter", "")], nodes
    assert_sorts_only_cut_rows(worklist_plan(pg_explain, pg_store, query))


def test_postgres_plans_start_no_parallel_workers(pg_store: PostgresStore) -> None:
    """Even with parallel plans made free, worklist statements run in the backend alone."""
    with raw_connection(postgres_dsn()) as conn:
        for setting in (
            "parallel_setup_cost = 0",
            "parallel_tuple_cost = 0",
            "min_parallel_table_scan_size = 0",
            "min_parallel_index_scan_size = 0",
            "max_parallel_workers_per_gather = 4",
        ):
            conn.execute(f"SET {setting}")
        for name, (query, _) in WORKLIST_QUERIES.items():
            nodes = _flatten(worklist_plan(conn, pg_store, query))
            assert not [n for n in nodes if "Gather" in n["Node Type"]], (name, nodes)
            assert not [n for n in nodes if n.get("Parallel Aware")], (name, nodes)


@pytest.mark.parametrize(
    "query",
    [
        WorkQuery(category="intervention", owner_ids=(OWNER,), due_before=T, limit=100),
        WorkQuery(category="audit", owner_ids=(OWNER,), open_only=False, limit=3),
        WorkQuery(category="member", patient_ids=(PATIENT,)),
    ],
    ids=["bands", "prefixes", "patient"],
)
def test_postgres_repeated_queries_reuse_a_generic_plan(
    pg_store: PostgresStore, query: WorkQuery
) -> None:
    """A hot query is prepared and stops being planned on every call (the CTE plans slowly)."""
    pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
        postgres_dsn(), min_size=1, max_size=1, kwargs={"autocommit": True}, open=True
    )
    try:
        store = PostgresStore(pool=pool, schema=pg_store.schema)
        for _ in range(14):  # psycopg prepares on the 6th; the server plans 5 custom first
            assert store.query(query)
        with pool.connection() as conn:
            found = conn.execute(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                "WHERE statement LIKE '%work_index%'"
            ).fetchall()
        assert len(found) == 1, found
        generic, custom = found[0]
        assert generic >= 3 and custom == 5, found
        store.close()
    finally:
        pool.close()


# -------------------------------------------------- results as the reference
_CATEGORIES = ("intervention", "review")
_OWNERS = ("o-1", "o-2", "o-3", None)
_PATIENTS = ("p-1", "p-2", "", None)  # "" sorts with "no patient", as the reference says
_STATUSES = ("ready", "done", "sent")


@pytest.fixture(scope="module")
def random_rows() -> Iterator[tuple[PostgresStore, list[IndexHit]]]:
    """A store holding ~1,000 random index rows, and the hits the reference expects."""
    dsn = postgres_dsn()
    rng = random.Random(12)
    store = ThrowawayStore(dsn)
    hits: list[IndexHit] = []
    writes: list[RecordWrite] = []
    for n in range(200):
        rows = tuple(
            IndexRow(
                category=rng.choice(_CATEGORIES),
                item_id=f"i-{rng.randrange(50):02d}-{n}-{k}",
                patient_id=rng.choice(_PATIENTS),
                owner_id=rng.choice(_OWNERS),
                status=rng.choice(_STATUSES),
                is_open=rng.random() < 0.6,
                priority=rng.choice((-1, 0, 0, 1, 2, 3)),
                due_at=None if rng.random() < 0.2 else T + timedelta(hours=rng.randrange(-48, 48)),
                changed_at=(
                    None if rng.random() < 0.3 else T + timedelta(hours=rng.randrange(-48, 48))
                ),
                detail=rng.choice((None, "x")),
            )
            for k in range(rng.randrange(0, 9))
        )
        writes.append(RecordWrite(kind="Plan", id=f"r-{n}", expected_version=0, payload="{}"))
        writes.append(
            RecordWrite(kind="Plan", id=f"r-{n}", expected_version=1, payload="{}", index=rows)
        )
        hits.extend(IndexHit(kind="Plan", record_id=f"r-{n}", version=2, row=r) for r in rows)
    try:
        store.write(writes[0::2])
        store.write(writes[1::2])
        yield store, hits
    finally:
        store.close()


def _random_query(rng: random.Random) -> WorkQuery:
    def some(values: tuple[Any, ...]) -> tuple[Any, ...] | None:
        if rng.random() < 0.5:
            return None
        return tuple(
            rng.choice([v for v in values if v is not None]) for _ in range(rng.randrange(4))
        )

    def moment() -> Any:
        return None if rng.random() < 0.6 else T + timedelta(hours=rng.randrange(-50, 50))

    return WorkQuery(
        category=rng.choice(_CATEGORIES),
        owner_ids=some(_OWNERS),
        patient_ids=some(_PATIENTS),
        statuses=some(_STATUSES),
        open_only=rng.random() < 0.5,
        due_before=moment(),
        due_from=moment(),
        changed_before=moment(),
        limit=None if rng.random() < 0.4 else rng.randrange(0, 30),
    )


@pytest.mark.parametrize("seed", range(8))
def test_postgres_results_are_the_reference_results(
    random_rows: tuple[PostgresStore, list[IndexHit]], seed: int
) -> None:
    store, hits = random_rows
    rng = random.Random(seed)
    for _ in range(60):
        query = _random_query(rng)
        assert list(store.query(query)) == run_query(query, hits), query


# ------------------------------------------------------------------ migrations
def _schema_at(dsn: str, schema: str, version: int) -> None:
    """Create ``schema`` as carecoord's migrations up to ``version`` left it."""
    name = sql.Identifier(schema)
    with raw_connection(dsn) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(name))
        conn.execute(
            sql.SQL("CREATE TABLE {} (version integer PRIMARY KEY, applied_at timestamptz)").format(
                sql.Identifier(schema, "carecoord_schema")
            )
        )
        for number, statements in POSTGRES_MIGRATIONS[:version]:
            for statement in statements:
                conn.execute(sql.SQL(statement).format(schema=name))
            conn.execute(
                sql.SQL("INSERT INTO {} (version) VALUES (%s)").format(
                    sql.Identifier(schema, "carecoord_schema")
                ),
                (number,),
            )


def test_postgres_migration_2_backfills_the_record_versions() -> None:
    """A schema-1 deployment gets ``work_index.record_version`` from its records."""
    dsn, schema = postgres_dsn(), new_schema_name()
    try:
        _schema_at(dsn, schema, 1)
        with raw_connection(dsn) as conn:
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
            assert store.migrate() == LATEST_SCHEMA
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


def _index_definitions(dsn: str, schema: str) -> dict[str, str]:
    with raw_connection(dsn) as conn:
        rows = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = %s AND tablename = 'work_index'",
            (schema,),
        ).fetchall()
    return {str(name): str(definition) for name, definition in rows}


def test_postgres_migration_3_rebuilds_the_worklist_indexes_of_a_schema_2_deployment() -> None:
    dsn, schema = postgres_dsn(), new_schema_name()
    try:
        _schema_at(dsn, schema, 2)
        before = _index_definitions(dsn, schema)
        assert "priority" not in before["work_by_owner"]
        old = PostgresStore(dsn, schema=schema, max_size=1)
        with raw_connection(dsn) as conn:  # what schema-2 carecoord wrote
            conn.execute(
                sql.SQL("INSERT INTO {} (version) VALUES (%s)").format(
                    sql.Identifier(schema, "carecoord_schema")
                ),
                (LATEST_SCHEMA,),
            )
        writes = dataset()[:400]
        old.write(writes)
        old.close()
        with raw_connection(dsn) as conn:
            conn.execute(
                sql.SQL("DELETE FROM {} WHERE version = %s").format(
                    sql.Identifier(schema, "carecoord_schema")
                ),
                (LATEST_SCHEMA,),
            )
        store = PostgresStore(dsn, schema=schema, max_size=1)
        try:
            assert store.schema_version == 2
            assert store.migrate() == LATEST_SCHEMA == 3
            after = _index_definitions(dsn, schema)
            assert set(after) == set(before)  # same names, new definitions
            assert "priority DESC, due_at, COALESCE(patient_id" in after["work_by_owner"]
            assert "INCLUDE" in after["work_by_owner"]
            assert "priority DESC, due_at, item_id" in after["work_by_patient"]
            assert "(category, is_open, priority DESC" in after["work_by_due"]
            assert after["work_by_record"] == before["work_by_record"]
            with raw_connection(dsn) as conn:
                options = conn.execute(
                    "SELECT reloptions FROM pg_class WHERE oid = %s::regclass",
                    (f'"{schema}".work_index',),
                ).fetchone()
            assert options == (["parallel_workers=0"],)
            reference = [
                IndexHit(kind=w.kind, record_id=w.id, version=1, row=row)
                for w in writes
                for row in w.index
            ]
            for query in (
                WorkQuery(category="intervention", owner_ids=(staff_of(3),)),
                WorkQuery(category="audit", open_only=False, limit=50),
                WorkQuery(category="member", patient_ids=("p-0007",)),
            ):
                assert list(store.query(query)) == run_query(query, reference)
        finally:
            store.close()
    finally:
        drop_schema(dsn, schema)
