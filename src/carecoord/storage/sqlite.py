"""SQLiteStore: the embedded default store, one file, stdlib :mod:`sqlite3` only.

* WAL journal with ``synchronous=NORMAL``: an application crash never loses or
  corrupts a commit (a power cut may lose the last commits, never corrupt).
* One writer at a time: each unit of work commits inside ``BEGIN IMMEDIATE``;
  other writers wait up to ``timeout`` seconds, then get a StorageError.
* Safe to share between the threads of one process: each call checks a
  connection out of a bounded pool (``max_connections``, default 8) and hands
  it back, so however many threads come and go, at most ``max_connections``
  connections (each a few file descriptors) are open. Single host only: do
  not put the file on a network file system, and do not open it from several
  machines; use the PostgreSQL store for that.
* Worklist data (owner, status, due time, priority) lives in covering indexes
  in query order, so "what is due for X, first N" reads about N index entries
  and never the records. Worklist queries and reads by patient name their
  index, so no plan depends on statistics. Migrations gather statistics
  (``ANALYZE``); :meth:`SQLiteStore.optimize` refreshes them after bulk loads.
* The schema is versioned (table ``carecoord_schema``); forward migrations run
  when the store is opened.
* Parameterised SQL only. sqlite3 errors surface as
  :class:`~carecoord.StorageError` or :class:`~carecoord.ConflictError`.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from ..model import ConflictError, StorageError, ValidationError
from ._rows import trusted_hits
from ._sqlite_pool import ConnectionPool
from ._sqlite_sql import INSERT_INDEX, MAX_KEY, MIGRATION_3, index_params, work_statement
from .port import DetailRow, IndexHit, RecordWrite, StoredRecord, WorkQuery

__all__ = ["MIGRATIONS", "SQLiteStore"]

MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        1,
        (
            """CREATE TABLE records (
                kind TEXT NOT NULL,
                id TEXT NOT NULL,
                version INTEGER NOT NULL CHECK (version >= 1),
                patient_id TEXT,
                payload TEXT NOT NULL,
                PRIMARY KEY (kind, id)
            ) WITHOUT ROWID""",
            "CREATE INDEX records_by_patient ON records (kind, patient_id, id)",
            """CREATE TABLE work_index (
                kind TEXT NOT NULL,
                record_id TEXT NOT NULL,
                category TEXT NOT NULL,
                item_id TEXT NOT NULL,
                patient_id TEXT,
                owner_id TEXT,
                status TEXT NOT NULL,
                is_open INTEGER NOT NULL,
                priority INTEGER NOT NULL,
                due_at INTEGER,
                changed_at INTEGER,
                detail TEXT
            )""",
            "CREATE INDEX work_by_owner ON work_index (category, owner_id, is_open, due_at)",
            "CREATE INDEX work_by_patient ON work_index (category, patient_id, is_open)",
            "CREATE INDEX work_by_due ON work_index (category, is_open, due_at)",
            "CREATE INDEX work_by_record ON work_index (kind, record_id)",
        ),
    ),
    (
        # Each index row carries its record's version (rows are replaced with
        # every write), so worklist queries need no join with the records.
        2,
        (
            "ALTER TABLE work_index ADD COLUMN record_version INTEGER NOT NULL DEFAULT 1",
            """UPDATE work_index SET record_version = (
                SELECT r.version FROM records AS r
                WHERE r.kind = work_index.kind AND r.id = work_index.record_id
            )""",
        ),
    ),
    # due_key (due_at, rows without one last) and covering indexes in query
    # order: a worklist reads one index range per stream, never the table.
    (3, MIGRATION_3),
)
"""Forward migrations: (schema version, statements). Never edit a released entry."""

LATEST_SCHEMA = MIGRATIONS[-1][0]

_READ = "SELECT version, payload, patient_id FROM records WHERE kind = ? AND id = ?"
_READ_ALL = "SELECT id, version, payload, patient_id FROM records WHERE kind = ? ORDER BY id"
# Without statistics SQLite prefers the primary key (kind, id), which visits every
# record of the kind; INDEXED BY makes the per-patient read an index search always.
_READ_PATIENT = (
    "SELECT id, version, payload, patient_id FROM records INDEXED BY records_by_patient "
    "WHERE kind = ? AND patient_id = ? ORDER BY id"
)


class SQLiteStore:
    """A store in one SQLite file (``":memory:"`` for a private in-memory database).

    ``timeout`` is how long a writer waits for another writer, and a call for
    a free connection, before giving up with :class:`~carecoord.StorageError`.
    ``max_connections`` bounds the connections the store keeps open for all
    its threads together; each call holds one only while it runs. An
    in-memory store always uses one connection, taken by one call at a time.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = ":memory:",
        *,
        timeout: float = 30.0,
        max_connections: int = 8,
    ) -> None:
        if (
            isinstance(max_connections, bool)
            or not isinstance(max_connections, int)
            or max_connections < 1
        ):
            raise ValidationError("max_connections must be an int >= 1", field="max_connections")
        self._timeout = float(timeout)
        self._memory = str(path) == ":memory:"
        self._target = (
            f"file:carecoord-{uuid.uuid4().hex}?mode=memory&cache=shared"
            if self._memory
            else os.fspath(path)
        )
        # In memory, one connection serves every call in turn (shared-cache
        # locks do not honour busy timeouts, and the database lives as long as
        # its connection); a file gets a pool of up to max_connections.
        self._max_connections = 1 if self._memory else max_connections
        self._pool = ConnectionPool(
            self._new_connection, max_size=self._max_connections, timeout=self._timeout
        )
        try:
            with self._guard("open the database") as conn:
                self._migrate(conn)
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------ connections
    @property
    def max_connections(self) -> int:
        """The most connections this store opens at once (1 in memory)."""
        return self._max_connections

    @property
    def open_connections(self) -> int:
        """How many connections the store holds open now (idle or in use)."""
        return self._pool.open_connections

    def _new_connection(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._target,
            timeout=self._timeout,
            isolation_level=None,
            check_same_thread=False,
            uri=self._memory,
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
            if not self._memory:
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def _guard(self, action: str) -> Iterator[sqlite3.Connection]:
        """Yield a pooled connection; translate sqlite3 errors into StorageError."""
        try:
            with self._pool.connection() as conn:
                yield conn
        except sqlite3.OperationalError as exc:
            busy = "locked" in str(exc) or "busy" in str(exc)
            reason = "the database is busy (another writer held it too long)" if busy else None
            raise StorageError(
                f"SQLite could not {action}: {reason or 'operational error'}"
            ) from exc
        except sqlite3.Error as exc:
            raise StorageError(f"SQLite could not {action}: {type(exc).__name__}") from exc

    # ------------------------------------------------------------- migrations
    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS carecoord_schema (version INTEGER NOT NULL)")
            row = conn.execute("SELECT MAX(version) FROM carecoord_schema").fetchone()
            current = row[0] or 0
            if current > LATEST_SCHEMA:
                raise StorageError(
                    f"the database has schema version {current}, newer than this carecoord "
                    f"understands ({LATEST_SCHEMA}); upgrade carecoord"
                )
            for version, statements in MIGRATIONS:
                if version > current:
                    for statement in statements:
                        conn.execute(statement)
                    conn.execute("INSERT INTO carecoord_schema (version) VALUES (?)", (version,))
            if current < LATEST_SCHEMA:
                _analyze(conn)  # new indexes get statistics (a new, empty file gets none)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def optimize(self) -> None:
        """Refresh the query planner's statistics (``ANALYZE`` of the store's tables).

        Call it after a bulk load (:func:`~carecoord.storage.copy_store` does)
        or after the data has grown a lot: the planner then knows how selective
        each index is. Reads by patient never depend on it (they name their
        index), and migrations run it themselves. It reads every index once
        and holds the write lock while it runs, so schedule it off-peak on a
        large file.
        """
        with self._guard("refresh the planner statistics") as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                _analyze(conn)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        """The schema version of the open database."""
        with self._guard("read the schema version") as conn:
            row = conn.execute("SELECT MAX(version) FROM carecoord_schema").fetchone()
        return int(row[0] or 0)

    # ------------------------------------------------------------------ reads
    def read(self, kind: str, record_id: str) -> StoredRecord | None:
        """The latest committed version of a record, or ``None``."""
        with self._guard("read a record") as conn:
            row = conn.execute(_READ, (kind, record_id)).fetchone()
        if row is None:
            return None
        return StoredRecord(
            kind=kind, id=record_id, version=row[0], payload=row[1], patient_id=row[2]
        )

    def read_all(self, kind: str, *, patient_id: str | None = None) -> Sequence[StoredRecord]:
        """Every record of ``kind`` (of one patient when given), ordered by id."""
        with self._guard("read records") as conn:
            if patient_id is None:
                rows = conn.execute(_READ_ALL, (kind,)).fetchall()
            else:
                rows = conn.execute(_READ_PATIENT, (kind, patient_id)).fetchall()
        return [
            StoredRecord(kind=kind, id=r[0], version=r[1], payload=r[2], patient_id=r[3])
            for r in rows
        ]

    def query(self, query: WorkQuery) -> Sequence[IndexHit]:
        """Index rows matching ``query``, in the :class:`WorkQuery` order.

        One statement of covering-index range scans read in query order, so
        ``limit`` stops the reading (see :mod:`carecoord.storage._sqlite_sql`);
        the results are built without re-validating the store's own columns.
        """
        statement = work_statement(query)
        if statement is None:
            return []
        with self._guard("run a worklist query") as conn:
            rows = conn.execute(*statement).fetchall()
        return trusted_hits(query.category, rows, MAX_KEY)

    def query_details(self, query: WorkQuery) -> Sequence[DetailRow]:
        """The rows of :meth:`query` as ``(patient_id, item_id, status, detail)`` tuples,
        in no particular order (the :class:`~carecoord.storage.port.DetailQueries`
        capability): the same index ranges over fewer columns, not merged in order."""
        statement = work_statement(query, lean=True)
        if statement is None:
            return []
        with self._guard("run a worklist query") as conn:
            rows: list[DetailRow] = conn.execute(*statement).fetchall()
        return rows if query.limit is None else [row[:4] for row in rows]

    # ----------------------------------------------------------------- writes
    def write(self, batch: Sequence[RecordWrite]) -> None:
        """Apply ``batch`` atomically in one ``BEGIN IMMEDIATE`` transaction.

        Updates are version-checked one by one; new records and every index row
        go in with one ``executemany`` each, so a bulk load costs a few calls
        per batch rather than a few per record.
        """
        if len({(w.kind, w.id) for w in batch}) != len(batch):
            raise StorageError("a batch must not write one record twice")
        inserts = [w for w in batch if w.expected_version == 0]
        updates = [w for w in batch if w.expected_version != 0]
        index = index_params(batch)
        with self._guard("write a unit of work") as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                self._update(conn, updates)
                self._insert(conn, inserts)
                if index:
                    conn.executemany(INSERT_INDEX, index)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    @staticmethod
    def _update(conn: sqlite3.Connection, updates: Sequence[RecordWrite]) -> None:
        for w in updates:
            cursor = conn.execute(
                "UPDATE records SET version = version + 1, patient_id = ?, payload = ? "
                "WHERE kind = ? AND id = ? AND version = ?",
                (w.patient_id, w.payload, w.kind, w.id, w.expected_version),
            )
            if cursor.rowcount != 1:
                raise ConflictError(w.kind, w.id, w.expected_version)
        if updates:
            conn.executemany(
                "DELETE FROM work_index WHERE kind = ? AND record_id = ?",
                [(w.kind, w.id) for w in updates],
            )

    @staticmethod
    def _insert(conn: sqlite3.Connection, inserts: Sequence[RecordWrite]) -> None:
        if not inserts:
            return
        before = conn.total_changes
        try:
            conn.executemany(
                "INSERT INTO records (kind, id, version, patient_id, payload) "
                "VALUES (?, ?, 1, ?, ?)",
                [(w.kind, w.id, w.patient_id, w.payload) for w in inserts],
            )
        except sqlite3.IntegrityError:
            # executemany stops at the first failing row: the rows before it
            # were inserted (and are rolled back), so the count names the culprit.
            failed = inserts[min(conn.total_changes - before, len(inserts) - 1)]
            raise ConflictError(failed.kind, failed.id, 0) from None

    # ------------------------------------------------------------------ close
    def close(self) -> None:
        """Close every connection (one in use when its call ends); later use raises StorageError."""
        self._pool.close()

    def integrity_check(self) -> bool:
        """Run ``PRAGMA integrity_check``; True when the database is sound."""
        with self._guard("check integrity") as conn:
            row = conn.execute("PRAGMA integrity_check").fetchone()
        return bool(row and row[0] == "ok")

    def __repr__(self) -> str:
        where = "memory" if self._memory else "file"
        return f"SQLiteStore({where}, schema={LATEST_SCHEMA})"


def _analyze(conn: sqlite3.Connection) -> None:
    """Gather planner statistics for the store's tables (inside the caller's transaction)."""
    conn.execute("ANALYZE records")
    conn.execute("ANALYZE work_index")
