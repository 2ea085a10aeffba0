"""Query plans on PostgreSQL: every hot statement searches an index.

``EXPLAIN (FORMAT JSON)`` with ``enable_seqscan = off`` (so the plan proves an
index serves the predicate, whatever the table size) must show no ``Seq Scan``
and the expected index; worklist queries read ``work_index`` alone (no join
with ``records``). The data set is ``_plans_data.py``. Needs
``CARECOORD_TEST_POSTGRES_DSN``; skipped without it (see ``_pg.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
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
from _plans_data import HOT_QUERIES, OWNER, PATIENT, Expected, load, one_row
from carecoord.storage import PostgresStore, RecordWrite, WorkQuery
from carecoord.storage._pg_sql import Statements, query_statement
from carecoord.storage.postgres import MIGRATIONS as POSTGRES_MIGRATIONS


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
