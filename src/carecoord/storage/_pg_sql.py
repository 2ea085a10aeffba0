"""The SQL of :class:`~carecoord.storage.PostgresStore`, composed with :mod:`psycopg.sql`.

Private to the PostgreSQL store (it needs the ``postgres`` extra). Identifiers
(the schema name) go through :class:`psycopg.sql.Identifier`; every value is a
parameter.
"""

from __future__ import annotations

from typing import LiteralString

from psycopg import sql

__all__ = ["ROW_COLUMNS", "Statements"]

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
        # Writes are set-based: one statement per table and batch (arrays of the
        # batch's values, in (kind, id) order), so a batch costs a few round trips
        # however many records and rows it holds. ``document`` is the payload cast
        # to jsonb; a batch holding a payload jsonb refuses is written again with
        # ``carecoord_try_jsonb`` (``careful``), which stores NULL for it.
        try_jsonb = sql.Identifier(schema, "carecoord_try_jsonb")
        self.insert = {
            careful: sql.SQL(
                "INSERT INTO {records} (kind, id, version, patient_id, payload, document) "
                "SELECT u.kind, u.id, 1, u.patient_id, u.payload, {document} "
                "FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]) "
                "AS u(kind, id, patient_id, payload) "
                "ON CONFLICT (kind, id) DO NOTHING RETURNING kind, id"
            ).format(records=records, document=_document(try_jsonb, "u.payload", careful))
            for careful in (False, True)
        }
        self.update = {
            careful: sql.SQL(
                "UPDATE {records} SET version = version + 1, patient_id = %(patient_id)s, "
                "payload = %(payload)s::text, document = {document} "
                "WHERE kind = %(kind)s AND id = %(id)s AND version = %(expected)s RETURNING 1"
            ).format(records=records, document=_document(try_jsonb, "%(payload)s::text", careful))
            for careful in (False, True)
        }
        self.delete_rows = sql.SQL(
            "DELETE FROM {} AS w USING unnest(%s::text[], %s::text[]) AS u(kind, id) "
            "WHERE w.kind = u.kind AND w.record_id = u.id"
        ).format(work_index)
        self.insert_rows = sql.SQL(
            "INSERT INTO {} (kind, record_id, record_version, {}) "
            "SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::text[], "
            "%s::text[], %s::text[], %s::text[], %s::text[], %s::boolean[], %s::bigint[], "
            "%s::timestamptz[], %s::timestamptz[], %s::text[])"
        ).format(work_index, sql.SQL(ROW_COLUMNS))


def _document(try_jsonb: sql.Identifier, value: LiteralString, careful: bool) -> sql.Composed:
    """The ``document`` of a payload: a plain cast, or the function that returns NULL."""
    if careful:
        return sql.SQL("{}({})").format(try_jsonb, sql.SQL(value))
    return sql.Composed([sql.SQL(value), sql.SQL("::jsonb")])
