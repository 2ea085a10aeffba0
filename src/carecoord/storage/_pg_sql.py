"""The SQL of :class:`~carecoord.storage.PostgresStore`, composed with :mod:`psycopg.sql`.

Private to the PostgreSQL store (it needs the ``postgres`` extra). Identifiers
(the schema name) go through :class:`psycopg.sql.Identifier`; every value is a
parameter.
"""

from __future__ import annotations

from datetime import datetime
from typing import LiteralString

from psycopg import sql

from .port import WorkQuery

__all__ = ["ROW_COLUMNS", "Statements", "query_statement"]

ROW_COLUMNS: LiteralString = (
    "category, item_id, patient_id, owner_id, status, is_open, priority, due_at, changed_at, detail"
)
"""The columns of an index row, in :class:`~carecoord.storage.IndexRow` order."""


class Statements:
    """Every fixed statement of one store, composed once with its schema's identifiers."""

    def __init__(self, schema: str) -> None:
        self.schema = sql.Identifier(schema)
        self.records = sql.Identifier(schema, "records")
        self.work_index = sql.Identifier(schema, "work_index")
        versions = sql.Identifier(schema, "carecoord_schema")
        records, work_index = self.records, self.work_index
        self.has_version_table = sql.SQL(
            "SELECT to_regclass(quote_ident(%s) || '.carecoord_schema')"
        )
        self.max_version = sql.SQL("SELECT MAX(version) FROM {}").format(versions)
        self.migration_lock = sql.SQL("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))")
        self.create_schema = sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(self.schema)
        self.create_version_table = sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (version integer PRIMARY KEY, "
            "applied_at timestamptz NOT NULL DEFAULT now())"
        ).format(versions)
        self.insert_version = sql.SQL("INSERT INTO {} (version) VALUES (%s)").format(versions)
        self.analyze = sql.SQL("ANALYZE {}, {}").format(records, work_index)
        self.read = sql.SQL(
            "SELECT version, payload, patient_id FROM {} WHERE kind = %s AND id = %s"
        ).format(records)
        self.read_all = sql.SQL(
            "SELECT id, version, payload, patient_id FROM {} WHERE kind = %s ORDER BY id"
        ).format(records)
        self.read_patient = sql.SQL(
            "SELECT id, version, payload, patient_id FROM {} "
            "WHERE kind = %s AND patient_id = %s ORDER BY id"
        ).format(records)
        self.read_committed = sql.SQL("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        self.insert = sql.SQL(
            "INSERT INTO {records} (kind, id, version, patient_id, payload, document) "
            "VALUES (%s, %s, 1, %s, %s, {try_jsonb}(%s)) ON CONFLICT (kind, id) DO NOTHING"
        ).format(records=records, try_jsonb=sql.Identifier(schema, "carecoord_try_jsonb"))
        self.update = sql.SQL(
            "UPDATE {records} SET version = version + 1, patient_id = %s, payload = %s, "
            "document = {try_jsonb}(%s) WHERE kind = %s AND id = %s AND version = %s"
        ).format(records=records, try_jsonb=sql.Identifier(schema, "carecoord_try_jsonb"))
        self.delete_rows = sql.SQL("DELETE FROM {} WHERE kind = %s AND record_id = %s").format(
            work_index
        )
        self.insert_row = sql.SQL(
            "INSERT INTO {} (kind, record_id, record_version, {}) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        ).format(work_index, sql.SQL(ROW_COLUMNS))
        # Index rows carry their record's version (schema 2): no join with the records.
        self.select_rows = sql.SQL(
            "SELECT w.kind, w.record_id, w.record_version, w.category, w.item_id, "
            "w.patient_id, w.owner_id, w.status, w.is_open, w.priority, w.due_at, "
            "w.changed_at, w.detail FROM {} AS w"
        ).format(work_index)


def query_statement(
    statements: Statements, query: WorkQuery
) -> tuple[sql.Composed, list[object]] | None:
    """The statement and parameters ``PostgresStore.query`` runs (None: no row can match).

    Every filter is an equality, ``= ANY`` or range on an indexed column of
    ``work_index``, so the planner can use ``work_by_owner``,
    ``work_by_patient`` or ``work_by_due`` (``tests/test_query_plans.py``
    checks the plans).
    """
    where: list[sql.Composable] = [sql.SQL("w.category = %s")]
    params: list[object] = [query.category]
    if query.open_only:
        where.append(sql.SQL("w.is_open"))
    for column, values in (
        ("owner_id", query.owner_ids),
        ("patient_id", query.patient_ids),
        ("status", query.statuses),
    ):
        if values is not None:
            if not values:
                return None
            where.append(sql.SQL("w.{} = ANY(%s)").format(sql.Identifier(column)))
            params.append(list(values))
    bounds: tuple[tuple[LiteralString, datetime | None], ...] = (
        ("w.due_at < %s", query.due_before),
        ("w.due_at >= %s", query.due_from),
        ("w.changed_at < %s", query.changed_before),
    )
    for clause, moment in bounds:
        if moment is not None:
            where.append(sql.SQL(clause))
            params.append(moment)
    parts: list[sql.Composable] = [
        statements.select_rows,
        sql.SQL(" WHERE "),
        sql.SQL(" AND ").join(where),
        sql.SQL(
            " ORDER BY w.priority DESC, w.due_at IS NULL, w.due_at, "
            "COALESCE(w.patient_id, ''), w.item_id"
        ),
    ]
    if query.limit is not None:
        parts.append(sql.SQL(" LIMIT %s"))
        params.append(query.limit)
    return sql.Composed(parts), params
