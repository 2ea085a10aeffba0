"""The month's metrics through the service, and the bulk load through the unit of work."""

from __future__ import annotations

import sqlite3
import statistics
import time
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from _floors_build import generate
from _floors_common import Figure, figure, log
from _floors_data import NEW_YORK, NOW, Staff

from carecoord.metrics import MetricReport
from carecoord.progress import Progress
from carecoord.service import CareCoordinator
from carecoord.storage import RECORD_TYPES, SQLiteStore, UnitOfWork
from carecoord.testing import FixedClock

__all__ = ["PERIOD", "bulk_load", "metrics"]

PERIOD = (datetime(2026, 11, 1, tzinfo=NEW_YORK), datetime(2026, 12, 1, tzinfo=NEW_YORK))
"""The month the metrics cover (November 2026, New York time; "now" is Nov 23)."""


def _report_summary(report: MetricReport) -> dict[str, Any]:
    return {
        m.name: {"numerator": m.numerator, "denominator": m.denominator, "value": m.value}
        for m in report.metrics
        if m.subject is None
    }


def metrics(args: Any, store: SQLiteStore, db_path: Path, staff: Staff) -> Figure:
    """``CareCoordinator.metrics`` over a month vs ``orjson.loads`` of every stored payload."""
    orjson: ModuleType | None
    try:
        import orjson
    except ImportError:
        orjson = None
    floor_s = None
    loaded = 0
    payload_bytes = 0
    floor_runs: list[float] = []
    if orjson is not None:
        conn = sqlite3.connect(db_path)
        try:
            payloads = conn.execute("SELECT payload FROM records").fetchall()
        finally:
            conn.close()
        loads = orjson.loads
        for _ in range(args.metrics_floor_repeat):
            t0 = time.perf_counter()
            for (payload,) in payloads:
                loads(payload)
            floor_runs.append(time.perf_counter() - t0)
        floor_s = statistics.median(floor_runs)
        loaded = len(payloads)
        payload_bytes = sum(len(p) for (p,) in payloads)
        del payloads
    service = CareCoordinator(store=store, clock=FixedClock(NOW))
    actor = staff.managers[0]
    # One untimed run first, as the floor's payloads are read before its timing and
    # its runs repeated: the first run in a process after the floor pays for faulting
    # in the memory the floor just gave back (its time is kept in the details).
    t0 = time.perf_counter()
    service.metrics(*PERIOD, actor=actor)
    warmup_s = time.perf_counter() - t0
    log(f"metrics through the service, untimed first run: {warmup_s:.2f} s")
    runs = []
    report = None
    for _ in range(args.metrics_repeat):
        t0 = time.perf_counter()
        report = service.metrics(*PERIOD, actor=actor)
        runs.append(time.perf_counter() - t0)
        log(f"metrics through the service: {runs[-1]:.2f} s")
    assert report is not None
    return figure(
        "metrics",
        "month's metrics (SQLite)",
        "s",
        statistics.median(runs),
        floor_s,
        carecoord_label=(
            "CareCoordinator(store).metrics(2026-11-01, 2026-12-01 New York, actor=<case manager>)"
        ),
        floor_label=(
            "orjson.loads of every stored payload (one SELECT payload FROM records; "
            "only the loads timed)"
            if orjson is not None
            else "orjson is not installed (the fast extra)"
        ),
        target="below 1x (less than parsing every stored record once)",
        target_ratio=1.0,
        details={
            "period": [PERIOD[0].isoformat(), PERIOD[1].isoformat()],
            "runs_s": runs,
            "untimed_first_run_s": warmup_s,
            "floor_runs_s": floor_runs,
            "payloads_loaded": loaded,
            "payload_mb": payload_bytes / 1e6,
            "metrics": _report_summary(report),
        },
    )


# ---------------------------------------------------------------- bulk load
def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


class _Rows:
    """Reads back, as plain tuples, the rows the store wrote for some records: the floor
    then inserts exactly those (every column of the store's tables, whatever its schema)."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path)
        self.records = _columns(self.conn, "records")
        self.index = _columns(self.conn, "work_index")
        self._record = f"SELECT {', '.join(self.records)} FROM records WHERE kind = ? AND id = ?"
        self._index_rows = (
            f"SELECT {', '.join(self.index)} FROM work_index WHERE kind = ? AND record_id = ?"
        )

    def of(self, keys: list[tuple[str, str]]) -> tuple[list[Any], list[Any]]:
        records = [self.conn.execute(self._record, key).fetchone() for key in keys]
        index = [row for key in keys for row in self.conn.execute(self._index_rows, key)]
        return records, index

    def insert(self, table: str) -> str:
        columns = self.records if table == "records" else self.index
        return (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        )


def _count(path: Path) -> dict[str, Any]:
    conn = sqlite3.connect(path)
    try:
        return {
            "records": conn.execute("SELECT COUNT(*) FROM records").fetchone()[0],
            "index_rows": conn.execute("SELECT COUNT(*) FROM work_index").fetchone()[0],
            "payload_bytes": conn.execute("SELECT SUM(LENGTH(payload)) FROM records").fetchone()[0],
        }
    finally:
        conn.close()


def bulk_load(args: Any, db_dir: Path, staff: Staff) -> Figure:
    """``UnitOfWork`` add + commit, ``args.batch_size`` records per unit, vs raw sqlite3
    inserting the same rows, the same batch size, one transaction per batch.

    Batch by batch, taking turns: the unit of work (timed); the rows it wrote, read
    back from the store's file (not timed); raw ``executemany`` of those rows into
    another file made with the store's tables and indexes (timed).
    """
    objects: list[Any] = generate(args.load_patients, args.seed, staff, workers=args.build_workers)
    kinds = {cls: kind for kind, cls in RECORD_TYPES.items()}
    size = args.batch_size
    batches = [objects[i : i + size] for i in range(0, len(objects), size)]
    store_path, raw_path = db_dir / "load-store.sqlite3", db_dir / "load-raw.sqlite3"
    for path in (store_path, raw_path):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = SQLiteStore(store_path)
    SQLiteStore(raw_path).close()  # the same tables and indexes as the store creates
    raw = sqlite3.connect(raw_path, isolation_level=None)
    raw.execute("PRAGMA journal_mode = WAL")  # the store's pragmas
    raw.execute("PRAGMA synchronous = NORMAL")
    rows = _Rows(store_path)
    insert_record, insert_index = rows.insert("records"), rows.insert("work_index")
    uow_s = raw_s = 0.0
    log(f"bulk load: {len(objects):,} records in {len(batches):,} units of work")
    try:
        with Progress(len(batches), "load") as bar:
            for batch in batches:
                t0 = time.perf_counter()
                with UnitOfWork(store) as uow:
                    for record in batch:
                        uow.add(record)
                uow_s += time.perf_counter() - t0
                keys = [(kinds[type(r)], str(r.id)) for r in batch]
                record_rows, index_rows = rows.of(keys)
                t0 = time.perf_counter()
                raw.execute("BEGIN IMMEDIATE")
                raw.executemany(insert_record, record_rows)
                raw.executemany(insert_index, index_rows)
                raw.execute("COMMIT")
                raw_s += time.perf_counter() - t0
                bar.update()
    finally:
        rows.conn.close()
        raw.close()
        store.close()
    counts = {"store": _count(store_path), "raw": _count(raw_path)}
    return figure(
        "bulk_load",
        f"bulk load, {args.batch_size:,} records per unit (SQLite)",
        "s",
        uow_s,
        raw_s,
        carecoord_label="UnitOfWork(store): add each record, commit (serialize, index, write)",
        floor_label=(
            "raw sqlite3: executemany of the same record and index rows (every column, as "
            "the store wrote them) into the store's tables and indexes, one transaction "
            "per batch"
        ),
        target="within 2x",
        target_ratio=2.0,
        same_results=counts["store"] == counts["raw"],
        details={
            "patients": args.load_patients,
            "records": len(objects),
            "batches": len(batches),
            "batch_size": args.batch_size,
            "row_counts": counts,
            "records_per_s": len(objects) / uow_s if uow_s else None,
            "raw_records_per_s": len(objects) / raw_s if raw_s else None,
        },
    )
