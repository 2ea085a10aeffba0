"""PostgresStore: a store for host applications that run many processes or machines.

Needs the ``postgres`` extra (``pip install 'carecoord[postgres]'``: psycopg 3
and psycopg-pool); without it, importing this module raises
:class:`~carecoord.MissingExtraError`. The core never imports it.

* The schema is versioned and applied **explicitly**: call
  :meth:`PostgresStore.migrate` once per deployment (and after upgrading
  carecoord). Opening a store never changes the database; using one whose
  schema is missing, older or newer than this carecoord raises
  :class:`~carecoord.StorageError` naming the fix.
* Each store lives in its own PostgreSQL schema (``schema=``, default
  ``carecoord``), so deployments and test runs can share a server.
* Records keep the exact payload text written (``payload``) plus a ``jsonb``
  copy (``document``, NULL when the text is not valid jsonb) for ad-hoc SQL;
  worklist rows live in indexed columns with ``timestamptz`` times. Ids compare
  and sort with the ``"C"`` collation (code point order), like every other store.
* Worklist queries read covering indexes in result order (schema 3): no sort
  of all the matches, no parallel workers, no join with the records
  (``_pg_query.py`` has the plans).
* Optimistic concurrency holds across processes and machines: an update is
  ``UPDATE ... WHERE kind = ? AND id = ? AND version = ?`` and a create is
  ``INSERT ... ON CONFLICT DO NOTHING``; a write that touches no row raises
  :class:`~carecoord.ConflictError` and the whole batch is rolled back.
* A batch is a few set-based statements in one pipeline, two round trips
  whatever its size (``_pg_write.py``).
* Writes run at ``READ COMMITTED``, which is enough: every check happens on the
  locked row inside the writing statement, and each read is one statement (one
  snapshot). A batch's creates, then its updates, are written in (kind, id)
  order, so writers do not deadlock each other; a serialization failure or
  deadlock (possible if the server forces a stricter level) is retried
  ``retries`` times, then surfaces as :class:`~carecoord.ConflictError`.
* Connections come from a :class:`psycopg_pool.ConnectionPool` the store opens
  (``conninfo``), from the host's own pool (``pool=``), or from the host's
  connection factory (``connect=``, one connection per call).
* Parameterised SQL only; identifiers (the schema name) go through
  :mod:`psycopg.sql`. Driver errors become :class:`~carecoord.StorageError`
  with the driver's exception as ``__cause__``; messages name the SQLSTATE,
  never values.
"""

from __future__ import annotations

import re
import select
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, LiteralString

from ..model import ConflictError, MissingExtraError, StorageError, ValidationError
from ..retry import RetryPolicy
from .port import DetailRow, IndexHit, RecordWrite, StoredRecord, WorkQuery

try:
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg import sql
    from psycopg_pool import ConnectionPool, PoolTimeout

    from ._pg_query import QueryStatements, details_from_rows, hits_from_rows
    from ._pg_sql import Statements
    from ._pg_write import write_batch
except ImportError as exc:  # pragma: no cover - the extra is installed in the test env
    raise MissingExtraError("postgres", "psycopg") from exc

__all__ = ["LATEST_SCHEMA", "MIGRATIONS", "PostgresStore"]

Connection = psycopg.Connection[Any]

MIGRATIONS: tuple[tuple[int, tuple[LiteralString, ...]], ...] = (
    (
        1,
        (
            # {schema} is replaced by the quoted schema name (psycopg.sql.Identifier).
            """CREATE TABLE {schema}.records (
                kind text COLLATE "C" NOT NULL,
                id text COLLATE "C" NOT NULL,
                version bigint NOT NULL CHECK (version >= 1),
                patient_id text COLLATE "C",
                payload text NOT NULL,
                document jsonb,
                PRIMARY KEY (kind, id)
            )""",
            "CREATE INDEX records_by_patient ON {schema}.records (kind, patient_id, id)",
            # The exact payload text is what the store returns; ``document`` is a
            # jsonb copy for SQL (NULL when the text is not valid jsonb).
            """CREATE FUNCTION {schema}.carecoord_try_jsonb(payload text) RETURNS jsonb
                LANGUAGE plpgsql IMMUTABLE AS $$
                BEGIN
                    RETURN payload::jsonb;
                EXCEPTION WHEN others THEN
                    RETURN NULL;
                END
                $$""",
            """CREATE TABLE {schema}.work_index (
                kind text COLLATE "C" NOT NULL,
                record_id text COLLATE "C" NOT NULL,
                category text COLLATE "C" NOT NULL,
                item_id text COLLATE "C" NOT NULL,
                patient_id text COLLATE "C",
                owner_id text COLLATE "C",
                status text COLLATE "C" NOT NULL,
                is_open boolean NOT NULL,
                priority bigint NOT NULL,
                due_at timestamptz,
                changed_at timestamptz,
                detail text,
                FOREIGN KEY (kind, record_id) REFERENCES {schema}.records (kind, id)
            )""",
            "CREATE INDEX work_by_owner ON {schema}.work_index "
            "(category, owner_id, is_open, due_at)",
            "CREATE INDEX work_by_patient ON {schema}.work_index (category, patient_id, is_open)",
            "CREATE INDEX work_by_due ON {schema}.work_index (category, is_open, due_at)",
            "CREATE INDEX work_by_record ON {schema}.work_index (kind, record_id)",
        ),
    ),
    (
        # Each index row carries its record's version (rows are replaced with
        # every write), so worklist queries need no join with the records.
        2,
        (
            "ALTER TABLE {schema}.work_index ADD COLUMN record_version bigint NOT NULL DEFAULT 1",
            "UPDATE {schema}.work_index AS w SET record_version = r.version "
            "FROM {schema}.records AS r "
            "WHERE r.kind = w.kind AND r.id = w.record_id AND r.version <> w.record_version",
        ),
    ),
    (
        # Worklist indexes in the order queries return rows (priority, due time,
        # patient, item), holding every column a result needs: a query reads index
        # entries only, in order, and stops at its LIMIT (see _pg_query.py). The new
        # indexes are built before the old ones go, so reads go on while they build.
        # No parallel plans on work_index: its queries are short index scans, where
        # starting workers costs more than it saves.
        3,
        (
            "CREATE INDEX work_by_owner_3 ON {schema}.work_index "
            "(category, owner_id, is_open, priority DESC, due_at, (COALESCE(patient_id, '')), "
            "item_id) INCLUDE (kind, record_id, record_version, patient_id, status, changed_at, "
            "detail)",
            "CREATE INDEX work_by_patient_3 ON {schema}.work_index "
            "(category, patient_id, is_open, priority DESC, due_at, item_id) "
            "INCLUDE (kind, record_id, record_version, owner_id, status, changed_at, detail)",
            "CREATE INDEX work_by_due_3 ON {schema}.work_index "
            "(category, is_open, priority DESC, due_at, (COALESCE(patient_id, '')), item_id) "
            "INCLUDE (kind, record_id, record_version, patient_id, owner_id, status, "
            "changed_at, detail)",
            "DROP INDEX {schema}.work_by_owner",
            "DROP INDEX {schema}.work_by_patient",
            "DROP INDEX {schema}.work_by_due",
            "ALTER INDEX {schema}.work_by_owner_3 RENAME TO work_by_owner",
            "ALTER INDEX {schema}.work_by_patient_3 RENAME TO work_by_patient",
            "ALTER INDEX {schema}.work_by_due_3 RENAME TO work_by_due",
            "ALTER TABLE {schema}.work_index SET (parallel_workers = 0)",
        ),
    ),
)
"""Forward migrations: (schema version, statements). Never edit a released entry."""

LATEST_SCHEMA = MIGRATIONS[-1][0]
"""The schema version this carecoord reads and writes."""

_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_IN_TRANSACTION = psycopg.pq.TransactionStatus.INTRANS
_RETRYABLE = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected)
_DOCUMENT_ERRORS = (psycopg.DataError, pg_errors.ProgramLimitExceeded)
"""What casting a payload to jsonb may raise (bad JSON, ``\\u0000``, too deep)."""


class PostgresStore:
    """A store in a PostgreSQL schema, safe for many processes on many machines.

    Give exactly one connection source:

    * ``conninfo``: a libpq connection string or URL; the store opens its own
      :class:`psycopg_pool.ConnectionPool` (``min_size`` to ``max_size``
      connections, autocommit, checked on checkout: a round trip when the
      server has sent something since the connection's last use, as it does
      when it closes connections) and closes it in
      :meth:`close`;
    * ``pool``: the host's own ``ConnectionPool`` (left open by :meth:`close`);
    * ``connect``: a callable returning a new :class:`psycopg.Connection`; the
      store opens one per call and closes it afterwards.

    ``schema`` names the PostgreSQL schema holding the tables (letters, digits
    and ``_``; created by :meth:`migrate`). ``timeout`` is how long a call
    waits for a pooled connection. ``retries`` is how often a write that hit a
    serialization failure or deadlock is retried before it raises
    :class:`~carecoord.ConflictError`.

    Nothing touches the database until the first call; the first call checks
    the schema version and raises :class:`~carecoord.StorageError` when
    :meth:`migrate` has not been run (or a newer carecoord migrated it).
    """

    def __init__(
        self,
        conninfo: str | None = None,
        *,
        schema: str = "carecoord",
        pool: ConnectionPool[Connection] | None = None,
        connect: Callable[[], Connection] | None = None,
        min_size: int = 1,
        max_size: int = 4,
        timeout: float = 30.0,
        retries: int = 3,
    ) -> None:
        if sum(source is not None for source in (conninfo, pool, connect)) != 1:
            raise ValidationError("give exactly one of conninfo, pool or connect", field="conninfo")
        if not isinstance(schema, str) or _SCHEMA_NAME.fullmatch(schema) is None:
            raise ValidationError(
                "schema must be 1-63 letters, digits or '_', not starting with a digit",
                field="schema",
            )
        for name, value, least in (("retries", retries, 0), ("min_size", min_size, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValidationError(f"{name} must be an int >= {least}", field=name)
        if (
            isinstance(max_size, bool)
            or not isinstance(max_size, int)
            or max_size < max(min_size, 1)
        ):
            raise ValidationError("max_size must be an int >= max(min_size, 1)", field="max_size")
        if not timeout > 0:
            raise ValidationError("timeout must be > 0 seconds", field="timeout")
        self._schema = schema
        self._timeout = float(timeout)
        self._retries = retries
        self._retry = RetryPolicy(attempts=retries + 1, base=0.005, cap=0.2)
        self._connect = connect
        self._own_pool = pool is None and conninfo is not None
        self._lock = threading.Lock()
        self._closed = False
        self._checked = False
        if conninfo is not None:
            try:
                pool = ConnectionPool(
                    conninfo,
                    min_size=min_size,
                    max_size=max_size,
                    kwargs={"autocommit": True},
                    check=_check_connection,
                    timeout=self._timeout,
                    name=f"carecoord-{schema}",
                    open=True,
                )
            except psycopg.Error as exc:
                raise StorageError(
                    f"PostgreSQL could not open a connection pool: {_describe(exc)}"
                ) from exc
        self._pool = pool
        self._sql = Statements(schema)
        self._queries = QueryStatements(self._sql.work_index)

    # ------------------------------------------------------------ connections
    @property
    def schema(self) -> str:
        """The PostgreSQL schema this store uses."""
        return self._schema

    @contextmanager
    def _raw(self) -> Iterator[Connection]:
        if self._closed:
            raise StorageError("the store is closed")
        if self._pool is not None:
            with self._pool.connection() as conn:
                yield conn
        else:
            assert self._connect is not None
            with self._connect() as conn:
                yield conn

    @contextmanager
    def _guard(self, action: str, *, check: bool = True) -> Iterator[Connection]:
        """Yield a connection with a current schema; driver errors become StorageError."""
        try:
            with self._raw() as conn:
                if check and not self._checked:
                    self._check_schema(conn)
                if conn.info.transaction_status == _IN_TRANSACTION:
                    conn.commit()  # a host connection without autocommit: end the check's read
                yield conn
        except PoolTimeout as exc:
            raise StorageError(
                f"PostgreSQL could not {action}: no connection within {self._timeout:g} s"
            ) from exc
        except psycopg.Error as exc:
            raise StorageError(f"PostgreSQL could not {action}: {_describe(exc)}") from exc

    # ------------------------------------------------------------- migrations
    def _current_version(self, conn: Connection) -> int:
        row = conn.execute(self._sql.has_version_table, (self._schema,)).fetchone()
        if row is None or row[0] is None:
            return 0
        version = conn.execute(self._sql.max_version).fetchone()
        return int(version[0] or 0) if version is not None else 0

    def _check_schema(self, conn: Connection) -> None:
        current = self._current_version(conn)
        if current != LATEST_SCHEMA:
            raise StorageError(_version_problem(self._schema, current))
        with self._lock:
            self._checked = True

    @property
    def schema_version(self) -> int:
        """The schema version in the database (0: not migrated yet)."""
        with self._guard("read the schema version", check=False) as conn:
            return self._current_version(conn)

    def migrate(self) -> int:
        """Create or upgrade the tables in :attr:`schema`; returns the schema version.

        Safe to call on every deployment and from several processes at once
        (a transaction-level advisory lock serialises migrators); a no-op when
        the schema is current. A schema migrated by a newer carecoord raises
        :class:`~carecoord.StorageError` and is left untouched.
        """
        with self._guard("migrate the schema", check=False) as conn, conn.transaction():
            conn.execute(self._sql.migration_lock, (f"carecoord:{self._schema}",))
            conn.execute(self._sql.create_schema)
            conn.execute(self._sql.create_version_table)
            current = self._current_version(conn)
            if current > LATEST_SCHEMA:
                raise StorageError(_version_problem(self._schema, current))
            for version, statements in MIGRATIONS:
                if version > current:
                    for statement in statements:
                        conn.execute(sql.SQL(statement).format(schema=self._sql.schema))
                    conn.execute(self._sql.insert_version, (version,))
        with self._lock:
            self._checked = False
        return LATEST_SCHEMA

    def optimize(self) -> None:
        """Refresh the planner statistics of the store's tables (``ANALYZE``).

        PostgreSQL's autovacuum does this on its own after enough writes; call
        it after a bulk load (:func:`~carecoord.storage.copy_store` does) so the
        next queries are planned with the new row counts right away. Only the
        tables' owner (the role that ran :meth:`migrate`) may analyze them: for
        another role the server skips them with a warning, and nothing fails.
        """
        with self._guard("refresh the planner statistics") as conn:
            conn.execute(self._sql.analyze)

    # ------------------------------------------------------------------ reads
    def read(self, kind: str, record_id: str) -> StoredRecord | None:
        """The latest committed version of a record, or ``None``."""
        with self._guard("read a record") as conn:
            row = conn.execute(self._sql.read, (kind, record_id)).fetchone()
        if row is None:
            return None
        return StoredRecord(
            kind=kind, id=record_id, version=int(row[0]), payload=row[1], patient_id=row[2]
        )

    def read_all(self, kind: str, *, patient_id: str | None = None) -> Sequence[StoredRecord]:
        """Every record of ``kind`` (of one patient when given), ordered by id."""
        with self._guard("read records") as conn:
            if patient_id is None:
                rows = conn.execute(self._sql.read_all, (kind,)).fetchall()
            else:
                rows = conn.execute(self._sql.read_patient, (kind, patient_id)).fetchall()
        return [
            StoredRecord(kind=kind, id=r[0], version=int(r[1]), payload=r[2], patient_id=r[3])
            for r in rows
        ]

    def query(self, query: WorkQuery) -> Sequence[IndexHit]:
        """Index rows matching ``query``, in order, read from the worklist indexes alone."""
        return hits_from_rows(query.category, self._query_rows(query))

    def query_details(self, query: WorkQuery) -> Sequence[DetailRow]:
        """:meth:`query` as ``(patient_id, item_id, status, detail)`` tuples (the
        :class:`~carecoord.storage.port.DetailQueries` capability)."""
        return details_from_rows(self._query_rows(query))

    def _query_rows(self, query: WorkQuery) -> list[tuple[Any, ...]]:
        statement = self._queries.statement(query)
        if statement is None:
            if self._closed:
                raise StorageError("the store is closed")
            return []
        text, params = statement
        with self._guard("run a worklist query") as conn:
            return conn.cursor(binary=True).execute(text, params).fetchall()

    # ----------------------------------------------------------------- writes
    def write(self, batch: Sequence[RecordWrite]) -> None:
        """Apply ``batch`` atomically in one ``READ COMMITTED`` transaction."""
        if len({(w.kind, w.id) for w in batch}) != len(batch):
            raise StorageError("a batch must not write one record twice")
        # One global order for every writer: two batches never wait on each other crosswise.
        ordered = sorted(batch, key=lambda w: (w.kind, w.id))
        if not ordered:
            if self._closed:
                raise StorageError("the store is closed")
            return

        def attempt(careful: bool) -> None:
            progress: list[str] = []
            try:
                with self._guard("write a unit of work") as conn:
                    write_batch(conn, self._sql, ordered, progress, careful=careful)
            except StorageError as exc:
                cause = exc.__cause__
                if (
                    progress
                    and isinstance(cause, psycopg.OperationalError)
                    and not isinstance(cause, _RETRYABLE)
                ):
                    raise StorageError(
                        "PostgreSQL failed while committing a unit of work "
                        f"({_describe(cause)}): it may or may not have been written; "
                        "read the records again before retrying"
                    ) from cause
                raise

        def attempts() -> None:
            try:
                attempt(careful=False)
            except StorageError as exc:
                # A payload jsonb refuses (or another data error): write the batch
                # again, storing a NULL document for such payloads. A real error
                # (text with NUL, say) is raised by the second attempt.
                if not isinstance(exc.__cause__, _DOCUMENT_ERRORS):
                    raise
                attempt(careful=True)

        try:
            self._retry.call(attempts, retry_if=_aborted)
        except StorageError as exc:
            if not _aborted(exc):
                raise
            # Name a record the batch updates: the race was on what it read, and a
            # caller may retry on fresh data (a create alone is named otherwise).
            first = next((w for w in ordered if w.expected_version), ordered[0])
            raise ConflictError(first.kind, first.id, first.expected_version) from exc.__cause__

    # ------------------------------------------------------------------ close
    def close(self) -> None:
        """Close the store (and the pool it opened); later use raises StorageError."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._own_pool and self._pool is not None:
            self._pool.close()

    def __repr__(self) -> str:
        return f"PostgresStore(schema={self._schema!r}, latest_schema={LATEST_SCHEMA})"


def _check_connection(conn: Connection) -> None:
    """The own pool's check on checkout, a round trip only when the connection looks idle-broken.

    An idle connection has nothing to read; a server that closed it (restart,
    ``pg_terminate_backend``, idle timeout) sent an error or end-of-file first.
    So a connection with nothing to read is handed out as is, and one with
    something pending gets psycopg's full check (which raises if it is dead:
    the pool then opens another). Without ``poll`` (Windows) every checkout
    gets the full check.
    """
    poll = getattr(select, "poll", None)
    if poll is not None and not conn.closed:
        poller = poll()
        poller.register(conn.fileno(), select.POLLIN)
        if not poller.poll(0):
            return
    ConnectionPool.check_connection(conn)


def _aborted(exc: BaseException) -> bool:
    """The server aborted the transaction (serialization failure, deadlock): worth a retry."""
    return isinstance(exc, StorageError) and isinstance(exc.__cause__, _RETRYABLE)


def _describe(exc: BaseException) -> str:
    """The driver error's class and SQLSTATE: never its message (it may quote values)."""
    state = getattr(exc, "sqlstate", None)
    return f"{type(exc).__name__}" + (f" (SQLSTATE {state})" if state else "")


def _version_problem(schema: str, current: int) -> str:
    if current == 0:
        return (
            f"the PostgreSQL schema {schema!r} has no carecoord tables; "
            "run PostgresStore.migrate() once before using the store"
        )
    if current < LATEST_SCHEMA:
        return (
            f"the PostgreSQL schema {schema!r} is at version {current}, older than this "
            f"carecoord needs ({LATEST_SCHEMA}); run PostgresStore.migrate()"
        )
    return (
        f"the PostgreSQL schema {schema!r} is at version {current}, newer than this carecoord "
        f"understands ({LATEST_SCHEMA}); upgrade carecoord"
    )
