"""The data set on disk: built once into a SQLite store file (and, with a DSN, the plans
into a PostgreSQL schema), with the worklist floor's own tables next to the store's.

Records go in as ``store.write`` batches of ``encode_record(r, 0)`` (not through the
service), generated and encoded by worker processes while this process writes. A
finished data set carries its signature (generator version, sizes, seed), so a kept
one (``--db-dir``) is reused while the signature matches.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import shutil
import sqlite3
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from _floors_common import log
from _floors_data import GENERATOR, Staff, patient_records

from carecoord import CarePlan
from carecoord.progress import Progress
from carecoord.storage import RecordWrite, SQLiteStore, Store
from carecoord.storage._codec import encode_record

__all__ = [
    "COLUMNS",
    "build_store",
    "drop_pg_schema",
    "fingerprint",
    "generate",
    "prepare",
    "signature",
]

COLUMNS = (
    "kind, record_id, record_version, category, item_id, patient_id, owner_id, status, "
    "is_open, priority, due_at, changed_at, detail"
)

# --------------------------------------------------------------- SQLite floor
_SQLITE_FLOOR_TABLES = (
    "DROP TABLE IF EXISTS floor_interventions",
    "DROP TABLE IF EXISTS floor_clustered",
    # (a) a plain copy of every intervention row, with a partial covering index
    # in the query's sort order (open rows only)
    f"CREATE TABLE floor_interventions AS SELECT {COLUMNS} FROM work_index "
    "WHERE category = 'intervention'",
    "CREATE INDEX floor_open_by_owner ON floor_interventions (owner_id, priority DESC, due_at, "
    "patient_id, item_id, kind, record_id, record_version, category, status, is_open, "
    "changed_at, detail) WHERE is_open = 1",
    # (b) the copy as a clustered table: its primary key is the sort order
    """CREATE TABLE floor_clustered (
        owner_id TEXT NOT NULL, is_open INTEGER NOT NULL, priority INTEGER NOT NULL,
        due_at INTEGER NOT NULL, patient_id TEXT NOT NULL, item_id TEXT NOT NULL,
        kind TEXT NOT NULL, record_id TEXT NOT NULL, record_version INTEGER NOT NULL,
        category TEXT NOT NULL, status TEXT NOT NULL, changed_at INTEGER, detail TEXT,
        PRIMARY KEY (owner_id, is_open, priority DESC, due_at, patient_id, item_id)
    ) WITHOUT ROWID""",
    "INSERT INTO floor_clustered (owner_id, is_open, priority, due_at, patient_id, item_id, "
    "kind, record_id, record_version, category, status, changed_at, detail) "
    "SELECT owner_id, is_open, priority, due_at, patient_id, item_id, kind, record_id, "
    "record_version, category, status, changed_at, detail FROM work_index "
    "WHERE category = 'intervention' AND owner_id IS NOT NULL AND due_at IS NOT NULL "
    "AND patient_id IS NOT NULL",
    "ANALYZE floor_interventions",
    "ANALYZE floor_clustered",
)

# ----------------------------------------------------------- PostgreSQL floor
_PG_FLOOR_TABLES = (
    "DROP TABLE IF EXISTS {s}.floor_interventions",
    f"CREATE TABLE {{s}}.floor_interventions AS SELECT {COLUMNS} FROM {{s}}.work_index "
    "WHERE category = 'intervention'",
    "CREATE INDEX floor_open_by_owner ON {s}.floor_interventions "
    "(owner_id, priority DESC, due_at, patient_id, item_id) "
    "INCLUDE (kind, record_id, record_version, category, status, is_open, changed_at, detail) "
    "WHERE is_open",
)


# ------------------------------------------------------------------ build
def fingerprint(seed: int, staff: Staff) -> str:
    """A digest of what this carecoord writes for the first patient (payloads and index
    rows): a kept data set written by a carecoord that derives other rows is rebuilt."""
    digest = hashlib.sha256()
    for record in [staff.members()[0], *patient_records(0, seed, staff)]:
        write = encode_record(record, 0)
        digest.update(repr((write.kind, write.id, write.payload, write.patient_id)).encode())
        digest.update(repr(write.index).encode())
    return digest.hexdigest()[:16]


def signature(patients: int, seed: int, coordinators: int) -> dict[str, Any]:
    """What identifies a built data set (a kept one is reused when this matches)."""
    return {
        "generator": GENERATOR,
        "patients": patients,
        "seed": seed,
        "coordinators": coordinators,
        "fingerprint": fingerprint(seed, Staff(coordinators)),
    }


def read_marker(path: Path) -> dict[str, Any] | None:
    """The signature stored in the SQLite file at ``path`` (None: absent or unfinished)."""
    if not path.exists():
        return None
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT value FROM floors_dataset WHERE key = 'signature'").fetchone()
    except sqlite3.Error:
        row = None
    finally:
        conn.close()
    return None if row is None else dict(json.loads(row[0]))


def write_marker(path: Path, value: dict[str, Any]) -> None:
    """Record that the data set in ``path`` is complete."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS floors_dataset (key TEXT PRIMARY KEY, value TEXT)")
        conn.execute(
            "INSERT OR REPLACE INTO floors_dataset VALUES ('signature', ?)", (json.dumps(value),)
        )
    finally:
        conn.close()


def _encoded_range(task: tuple[int, int, int, int]) -> tuple[list[RecordWrite], int, int]:
    """Patients ``start`` to ``stop - 1`` encoded (run in a worker process)."""
    start, stop, seed, coordinators = task
    staff = Staff(coordinators)
    writes: list[RecordWrite] = []
    interventions = 0
    for number in range(start, stop):
        for record in patient_records(number, seed, staff):
            if isinstance(record, CarePlan):
                interventions += len(record.interventions)
            writes.append(encode_record(record, 0))
    return writes, stop - start, interventions


def _records(task: tuple[int, int, int, int]) -> list[object]:
    """Every record of patients ``start`` to ``stop - 1`` (in a worker process)."""
    start, stop, seed, coordinators = task
    staff = Staff(coordinators)
    return [r for n in range(start, stop) for r in patient_records(n, seed, staff)]


def generate(patients: int, seed: int, staff: Staff, *, workers: int = 0) -> list[object]:
    """Every record of the first ``patients`` patients, made by ``workers`` processes
    (in this one when ``workers`` < 2)."""
    tasks = [
        (start, min(start + 100, patients), seed, len(staff.coordinators))
        for start in range(0, patients, 100)
    ]
    objects: list[object] = []
    if workers > 1:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for got in pool.imap(_records, tasks):
                objects += got
    else:
        for got in map(_records, tasks):
            objects += got
    return objects


def build_store(
    stores: Sequence[Store],
    patients: int,
    seed: int,
    staff: Staff,
    *,
    batch_size: int = 1000,
    kinds: Sequence[frozenset[str] | None] | None = None,
    workers: int = 0,
    progress: Any = None,
) -> dict[str, int]:
    """Write the staff and every patient's encoded records into each of ``stores``.

    Records go in with ``store.write`` batches of ``batch_size``; ``kinds[i]``
    limits what goes into ``stores[i]`` (None: every record). ``workers`` > 1
    generates and encodes in that many processes while this one writes.
    Returns counts: patients, records, interventions, index rows (of all records).
    """
    only = list(kinds) if kinds is not None else [None] * len(stores)
    pending: list[list[RecordWrite]] = [[] for _ in stores]
    counts = {"patients": 0, "records": 0, "interventions": 0, "index_rows": 0}
    # Each store is written by a thread of its own (one batch in flight each), so
    # a PostgreSQL round trip overlaps the SQLite writes and the decoding of results.
    writers = [ThreadPoolExecutor(1) for _ in stores]
    in_flight: list[Future[None] | None] = [None for _ in stores]

    def submit(index: int, batch: list[RecordWrite]) -> None:
        previous = in_flight[index]
        if previous is not None:
            previous.result()
        in_flight[index] = writers[index].submit(stores[index].write, batch)

    def add(writes: Sequence[RecordWrite], force: bool = False) -> None:
        counts["records"] += len(writes)
        counts["index_rows"] += sum(len(w.index) for w in writes)
        for index, (waiting, allowed) in enumerate(zip(pending, only, strict=True)):
            waiting.extend(w for w in writes if allowed is None or w.kind in allowed)
            while len(waiting) >= batch_size or (force and waiting):
                submit(index, waiting[:batch_size])
                del waiting[:batch_size]

    step = 100
    tasks = [
        (start, min(start + step, patients), seed, len(staff.coordinators))
        for start in range(0, patients, step)
    ]
    pool = multiprocessing.get_context("fork").Pool(workers) if workers > 1 else None
    try:
        add([encode_record(member, 0) for member in staff.members()])
        results = pool.imap(_encoded_range, tasks) if pool else map(_encoded_range, tasks)
        for writes, done, interventions in results:
            add(writes)
            counts["patients"] += done
            counts["interventions"] += interventions
            if progress is not None:
                progress.update(done)
        add([], force=True)
        for future in in_flight:
            if future is not None:
                future.result()
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        for writer in writers:
            writer.shutdown(wait=True)
    return counts


# ------------------------------------------------------------------ prepare
def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _pg_marker(dsn: str, schema: str) -> dict[str, Any] | None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        found = conn.execute("SELECT to_regclass(%s)", (f"{schema}.floors_dataset",)).fetchone()
        if found is None or found[0] is None:
            return None
        row = conn.execute(
            f'SELECT value FROM "{schema}".floors_dataset WHERE key = %s', ("signature",)
        ).fetchone()
    return None if row is None else dict(row[0])


def drop_pg_schema(dsn: str, schema: str) -> None:
    """Drop the benchmark's PostgreSQL schema."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _finish_pg(dsn: str, schema: str, marker: dict[str, Any]) -> None:
    import psycopg
    from psycopg.types.json import Jsonb

    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in _PG_FLOOR_TABLES:
            conn.execute(statement.format(s=f'"{schema}"'))
        for table in ("records", "work_index", "floor_interventions"):
            conn.execute(f'VACUUM ANALYZE "{schema}".{table}')
        conn.execute(
            f'CREATE TABLE IF NOT EXISTS "{schema}".floors_dataset (key text PRIMARY KEY, '
            "value jsonb NOT NULL)"
        )
        conn.execute(
            f'INSERT INTO "{schema}".floors_dataset VALUES (%s, %s) '
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            ("signature", Jsonb(marker)),
        )


def prepare(args: Any, staff: Staff, db_path: Path, pg_schema: str | None) -> dict[str, Any]:
    """Build (or reuse) the SQLite data set at ``db_path`` and, when ``pg_schema`` is
    given, the plans of the same data set in PostgreSQL (``args.pg_dsn``)."""
    sig = signature(args.patients, args.seed, args.coordinators)
    info: dict[str, Any] = {"signature": sig}
    sqlite_marker = read_marker(db_path)
    build_sqlite = sqlite_marker is None or sqlite_marker.get("signature") != sig
    build_pg = False
    if pg_schema is not None:
        pg_marker = _pg_marker(args.pg_dsn, pg_schema)
        build_pg = pg_marker is None or pg_marker.get("signature") != sig
    stores: list[Store] = []
    kinds: list[frozenset[str] | None] = []
    if build_sqlite:
        _remove_sqlite(db_path)
        stores.append(SQLiteStore(db_path))
        kinds.append(None)
    if build_pg:
        from carecoord.storage import PostgresStore

        assert pg_schema is not None
        drop_pg_schema(args.pg_dsn, pg_schema)
        pg_store = PostgresStore(args.pg_dsn, schema=pg_schema)
        pg_store.migrate()
        stores.append(pg_store)
        kinds.append(frozenset({"CarePlan"}))  # the records the worklist reads
    counts = None
    if stores:
        what = " and ".join(
            name for name, built in (("SQLite", build_sqlite), ("PostgreSQL", build_pg)) if built
        )
        log(f"building the data set ({args.patients:,} patients) in {what}")
        t0 = time.perf_counter()
        with Progress(args.patients, "build") as bar:
            counts = build_store(
                stores,
                args.patients,
                args.seed,
                staff,
                batch_size=args.build_batch,
                kinds=kinds,
                workers=args.build_workers,
                progress=bar,
            )
        info["build_s"] = time.perf_counter() - t0
        for store in stores:
            store.optimize()  # type: ignore[attr-defined]
            store.close()
        log(f"data set written in {info['build_s']:.0f} s")
    if build_sqlite:
        conn = sqlite3.connect(db_path, isolation_level=None)
        try:
            for statement in _SQLITE_FLOOR_TABLES:
                conn.execute(statement)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        sqlite_marker = {"signature": sig, "counts": counts}
        write_marker(db_path, sqlite_marker)
    if build_pg:
        assert pg_schema is not None
        _finish_pg(args.pg_dsn, pg_schema, {"signature": sig, "counts": counts})
    assert sqlite_marker is not None
    info["counts"] = sqlite_marker["counts"]
    info["reused_sqlite"] = not build_sqlite
    info["reused_postgres"] = None if pg_schema is None else not build_pg
    info["sqlite_mb"] = db_path.stat().st_size / 1e6
    free = shutil.disk_usage(db_path.parent).free
    info["disk_free_gb"] = free / 1e9
    return info
