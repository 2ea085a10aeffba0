"""The worklist figures.

* :func:`worklist_sqlite` / :func:`worklist_postgres`: overdue work of one
  coordinator, first 100, through ``store.query`` and through hand-written SQL.
* :func:`interventions_due`: the service's ``interventions_due`` against
  ``store.query`` of the same rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from _floors_build import COLUMNS as _COLUMNS
from _floors_common import Figure, alternating_medians, figure
from _floors_data import NOW, Staff

from carecoord.service import CareCoordinator
from carecoord.storage import IndexHit, SQLiteStore, Store, WorkQuery
from carecoord.storage.port import to_micros
from carecoord.testing import FixedClock

__all__ = [
    "PG_DESIGNS",
    "SQLITE_DESIGNS",
    "interventions_due",
    "worklist_postgres",
    "worklist_sqlite",
]

SQLITE_DESIGNS = {
    "plain_sql": (
        "one plain SELECT ... ORDER BY ... LIMIT on the store's own work_index table and indexes",
        f"SELECT {_COLUMNS} FROM work_index WHERE category = 'intervention' AND is_open = 1 "
        "AND owner_id IN (?) AND due_at < ? "
        "ORDER BY priority DESC, due_at IS NULL, due_at, patient_id, item_id LIMIT ?",
    ),
    "covering_index": (
        "copy table + partial covering index in sort order (owner_id, priority DESC, due_at, "
        "patient_id, item_id, ...) WHERE is_open = 1",
        f"SELECT {_COLUMNS} FROM floor_interventions WHERE owner_id = ? AND is_open = 1 "
        "AND due_at < ? ORDER BY priority DESC, due_at, patient_id, item_id LIMIT ?",
    ),
    "clustered": (
        "WITHOUT ROWID copy whose primary key is the sort order "
        "(owner_id, is_open, priority DESC, due_at, patient_id, item_id)",
        f"SELECT {_COLUMNS} FROM floor_clustered WHERE owner_id = ? AND is_open = 1 "
        "AND due_at < ? ORDER BY priority DESC, due_at, patient_id, item_id LIMIT ?",
    ),
}
"""The hand-written designs for the worklist floor: (description, SQL). The floor is the
fastest of them in the run."""

PG_DESIGNS = {
    "plain_sql": (
        "one plain SELECT ... ORDER BY ... LIMIT on the store's own work_index table and indexes",
        f"SELECT {_COLUMNS} FROM {{s}}.work_index WHERE category = 'intervention' AND is_open "
        "AND owner_id = ANY(%s) AND due_at < %s ORDER BY priority DESC, due_at IS NULL, "
        "due_at, COALESCE(patient_id, ''), item_id LIMIT %s",
    ),
    "covering_index": (
        "copy table + partial covering index in sort order (owner_id, priority DESC, due_at, "
        "patient_id, item_id) INCLUDE (...) WHERE is_open, vacuumed (index-only scan)",
        f"SELECT {_COLUMNS} FROM {{s}}.floor_interventions WHERE owner_id = %s AND is_open "
        "AND due_at < %s ORDER BY priority DESC, due_at, patient_id, item_id LIMIT %s",
    ),
}


# ------------------------------------------------------------------- figures
def _hit_key(hit: IndexHit) -> tuple[Any, ...]:
    row = hit.row
    due = None if row.due_at is None else to_micros(row.due_at)
    return (
        hit.kind,
        hit.record_id,
        hit.version,
        row.item_id,
        row.patient_id,
        row.owner_id,
        row.status,
        row.priority,
        due,
    )


def _row_key(row: Sequence[Any]) -> tuple[Any, ...]:
    due = row[10]
    if due is not None and not isinstance(due, int):
        due = to_micros(due)
    return (row[0], row[1], int(row[2]), row[4], row[5], row[6], row[7], int(row[9]), due)


def _worklist(
    key: str,
    label: str,
    store: Store,
    designs: Mapping[str, tuple[str, Callable[[], Sequence[Any]]]],
    coordinator: str,
    args: Any,
) -> Figure:
    query = WorkQuery(
        category="intervention", owner_ids=(coordinator,), due_before=NOW, limit=args.limit
    )
    hits = store.query(query)
    expected = [_hit_key(h) for h in hits]
    same = {name: [_row_key(r) for r in run()] == expected for name, (_, run) in designs.items()}
    medians = alternating_medians(
        [lambda: store.query(query), *(run for _, run in designs.values())], args.repeat
    )
    store_s, design_s = medians[0], dict(zip(designs, medians[1:], strict=True))
    best = min(design_s, key=lambda name: design_s[name])
    return figure(
        key,
        label,
        "ms",
        store_s,
        design_s[best],
        carecoord_label=(
            f'store.query(WorkQuery(category="intervention", owner_ids=({coordinator!r},), '
            f"due_before=now, limit={args.limit}))"
        ),
        floor_label=f"raw {best}: {designs[best][0]} (fetchall of tuples)",
        target="<= 1 ms, within 3x" if key == "worklist_sqlite" else "within 3x",
        target_ratio=3.0,
        target_value=0.001 if key == "worklist_sqlite" else None,
        same_results=all(same.values()),
        details={
            "coordinator": coordinator,
            "rows": len(hits),
            "limit": args.limit,
            "repeat": args.repeat,
            "floor_design": best,
            "designs_ms": {name: s * 1e3 for name, s in design_s.items()},
            "designs": {name: description for name, (description, _) in designs.items()},
            "same_results_per_design": same,
            "item_ids": [h.row.item_id for h in hits] if len(hits) <= 20 else None,
        },
    )


def worklist_sqlite(args: Any, store: SQLiteStore, db_path: Path, staff: Staff) -> Figure:
    """Overdue for one coordinator, first ``args.limit``: the store vs the best raw design."""
    coordinator = str(staff.coordinators[0])
    conn = sqlite3.connect(db_path)
    params = (coordinator, to_micros(NOW), args.limit)
    try:
        designs = {
            name: (description, _sqlite_runner(conn, sql, params))
            for name, (description, sql) in SQLITE_DESIGNS.items()
        }
        plans = {
            name: [r[-1] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
            for name, (_, sql) in SQLITE_DESIGNS.items()
        }
        result = _worklist(
            "worklist_sqlite",
            f"overdue worklist, first {args.limit} (SQLite)",
            store,
            designs,
            coordinator,
            args,
        )
    finally:
        conn.close()
    result["details"]["query_plans"] = plans
    return result


def _sqlite_runner(
    conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]
) -> Callable[[], list[Any]]:
    return lambda: conn.execute(sql, params).fetchall()


def worklist_postgres(args: Any, schema: str, staff: Staff) -> Figure:
    """The same on PostgreSQL: ``PostgresStore.query`` vs raw psycopg."""
    import psycopg

    from carecoord.storage import PostgresStore

    coordinator = str(staff.coordinators[0])
    store = PostgresStore(args.pg_dsn, schema=schema, max_size=1)
    conn = psycopg.connect(args.pg_dsn, autocommit=True)
    try:
        version = conn.execute("SHOW server_version").fetchone()
        designs = {}
        plans = {}
        for name, (description, sql) in PG_DESIGNS.items():
            statement = sql.format(s=f'"{schema}"')
            first: Any = [coordinator] if name == "plain_sql" else coordinator
            params = (first, NOW, args.limit)
            designs[name] = (description, _pg_runner(conn, statement, params))
            plans[name] = [r[0] for r in conn.execute("EXPLAIN " + statement, params).fetchall()]
        result = _worklist(
            "worklist_postgres",
            f"overdue worklist, first {args.limit} (PostgreSQL)",
            store,
            designs,
            coordinator,
            args,
        )
    finally:
        conn.close()
        store.close()
    result["details"]["query_plans"] = plans
    result["details"]["server_version"] = None if version is None else version[0]
    return result


def _pg_runner(conn: Any, statement: str, params: tuple[Any, ...]) -> Callable[[], list[Any]]:
    return lambda: conn.execute(statement, params).fetchall()


def interventions_due(args: Any, store: SQLiteStore, staff: Staff) -> Figure:
    """``CareCoordinator.interventions_due`` of about ``args.due_rows`` rows vs
    ``store.query`` of the same rows."""
    coordinator = staff.coordinators[0]
    owner = (str(coordinator),)
    horizon = NOW + timedelta(days=400)
    everything = store.query(
        WorkQuery(category="intervention", owner_ids=owner, due_before=horizon)
    )
    dues = sorted(h.row.due_at for h in everything if h.row.due_at is not None)
    wanted = min(args.due_rows, len(dues))
    until = dues[wanted] if wanted < len(dues) else horizon
    service = CareCoordinator(store=store, clock=FixedClock(NOW))
    query = WorkQuery(category="intervention", owner_ids=owner, due_before=until)

    def call() -> list[Any]:
        return service.interventions_due(coordinator, actor=coordinator, until=until)

    items = call()
    hits = store.query(query)
    same = [str(i.intervention.id) for i in items] == [h.row.item_id for h in hits]
    service_s, query_s = alternating_medians(
        [call, lambda: store.query(query)], args.due_repeat, warm=1
    )
    return figure(
        "interventions_due",
        f"interventions_due ({len(items)} rows, SQLite)",
        "ms",
        service_s,
        query_s,
        carecoord_label="CareCoordinator.interventions_due(cc, actor=cc, until=t)",
        floor_label="store.query of the same rows (WorkQuery, due_before=t)",
        target="none (context)",
        same_results=same,
        details={"rows": len(items), "until": until.isoformat(), "repeat": args.due_repeat},
    )
