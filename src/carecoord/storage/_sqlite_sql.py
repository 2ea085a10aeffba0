"""The SQL of :class:`~carecoord.storage.SQLiteStore` worklist queries, and schema 3.

Schema 3 keeps ``due_key`` = ``COALESCE(due_at, MAX_KEY)`` in every index row
(the store writes it), so "rows without a due time last" is plain index order,
and three covering indexes whose columns after the equality prefix are the
query order, followed by every other column a query returns (a query reads one
index, never the table)::

    work_by_owner   (category, owner_id, is_open, priority DESC, due_key, patient_id, item_id, …)
    work_by_patient (category, patient_id, is_open, priority DESC, due_key, item_id, …)
    work_by_due     (category, is_open, priority DESC, due_key, patient_id, item_id, …)

A query becomes one statement over *streams*: one per owner (or patient)
asked for and open flag (``open_only=False`` reads open and closed rows as two
streams), each handed over by the index in query order. Every ``SELECT`` names
its index (``INDEXED BY``), so no plan depends on statistics.

* One stream with a due range (the hot "overdue for X, first N"): one arm per
  priority band, ``priority = <band> AND due_key < ?`` (one index range, so
  rows of a band outside the range are never visited), the band found by a
  scalar subquery (``MAX(priority) ... AND priority < <band above>``, one
  seek), for the first :data:`BANDS` bands, and one walk of the index for any
  lower ones. The arms are ``UNION ALL`` ed without ``ORDER BY``: SQLite reads
  them in turn, each in the order of its index, and ``LIMIT`` stops the
  reading, so no match past the limit is read and nothing is sorted. (That
  order is SQLite's behaviour rather than SQL's promise: the plan tests and
  ``tests/test_sqlite_worklist_order.py`` pin it.)
* A few streams with a due range (open and closed rows, a few owners: at
  most :data:`MAX_ARMS` arms in all): every stream read band by band as above,
  the bands of all streams merged under the query's ``ORDER BY``. So the
  metric-fact queries of a period (``open_only=False`` and a due range over
  every patient) read only the rows of the period, however long the history.
* Otherwise one arm per stream, merged under the query's ``ORDER BY`` (the
  index order of every arm, so SQLite merges them as they stream, ``MERGE
  (UNION ALL)``, and ``LIMIT`` stops the merge). One stream is one ``SELECT``.
* More than :data:`MAX_ARMS` streams (a large caseload): one ``IN`` search of
  the same index, its matches sorted.

A details query (:meth:`SQLiteStore.query_details`, the lean read of the metric
facts) is the same statement over :data:`DETAIL_COLUMNS`; without a ``limit``
its arms are not merged in order and nothing is sorted (its rows may come in
any order), which spares the merge and the wider rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from functools import lru_cache
from itertools import count

from .port import EPOCH, RecordWrite, WorkQuery, to_micros

__all__ = [
    "BANDS",
    "COLUMNS",
    "DETAIL_COLUMNS",
    "INSERT_INDEX",
    "MAX_ARMS",
    "MAX_KEY",
    "MIGRATION_3",
    "index_params",
    "work_statement",
]

_MICRO = timedelta(microseconds=1)
MAX_KEY = 2**63 - 1
"""``due_key`` of a row without a due time: after every real one (int64 maximum)."""

_COVERED = "kind, record_id, record_version, status, changed_at, detail"

MIGRATION_3: tuple[str, ...] = (
    f"ALTER TABLE work_index ADD COLUMN due_key INTEGER NOT NULL DEFAULT {MAX_KEY}",
    "UPDATE work_index SET due_key = due_at WHERE due_at IS NOT NULL",
    "DROP INDEX work_by_owner",
    "DROP INDEX work_by_patient",
    "DROP INDEX work_by_due",
    "CREATE INDEX work_by_owner ON work_index (category, owner_id, is_open, priority DESC, "
    f"due_key, patient_id, item_id, {_COVERED})",
    "CREATE INDEX work_by_patient ON work_index (category, patient_id, is_open, priority DESC, "
    f"due_key, item_id, owner_id, {_COVERED})",
    "CREATE INDEX work_by_due ON work_index (category, is_open, priority DESC, "
    f"due_key, patient_id, item_id, owner_id, {_COVERED})",
)
"""Schema 3: ``due_key`` (backfilled) and the covering indexes in query order."""

INSERT_INDEX = (
    "INSERT INTO work_index (kind, record_id, record_version, category, item_id, patient_id, "
    "owner_id, status, is_open, priority, due_at, due_key, changed_at, detail) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

BANDS = 4
"""Priority bands a ranged stream reads as exact index ranges; lower ones share one walk."""

MAX_ARMS = 32
"""The most streams one merged statement reads; past it a query runs as one sorted search."""

COLUMNS = (
    "kind, record_id, record_version, item_id, patient_id, owner_id, status, is_open, "
    "priority, due_key, changed_at, detail"
)
"""What a query returns, in :func:`carecoord.storage._rows.trusted_hits` order."""

DETAIL_COLUMNS = "patient_id, item_id, status, detail"
"""What a details query returns: a :data:`~carecoord.storage.port.DetailRow`. Without a
``limit`` its rows come in no particular order, so the arms are not merged in order."""
_LIMITED_DETAIL_COLUMNS = f"{DETAIL_COLUMNS}, priority, due_key"
"""A details query with a ``limit`` keeps the query order to know its first rows (a
compound ``ORDER BY`` names result columns: the caller drops the two last)."""

ORDER = " ORDER BY priority DESC, due_key, patient_id, item_id"
_INDEX = {"owner_id": "work_by_owner", "patient_id": "work_by_patient", None: "work_by_due"}


def _in(column: str, refs: Sequence[str]) -> str:
    return f"{column} = {refs[0]}" if len(refs) == 1 else f"{column} IN ({', '.join(refs)})"


@lru_cache(maxsize=512)
def _sql(
    led: str | None,
    led_count: int,
    open_only: bool,
    before: bool,
    since: bool,
    changed: bool,
    rest: tuple[tuple[str, int], ...],
    limit: bool,
    columns: str = COLUMNS,
    ordered: bool = True,
) -> str:
    """The statement of one query shape; parameters in :func:`work_statement` order."""
    numbers = count(2)  # ?1 is the category
    filters: list[str] = []
    if before:
        filters.append(f"due_key < ?{next(numbers)}")
    if since:
        filters.append(f"due_key >= ?{next(numbers)}")
        if not before:
            filters.append(f"due_key < {MAX_KEY}")  # rows without a due time never match
    if changed:
        filters.append(f"changed_at < ?{next(numbers)}")
    limit_sql = f" LIMIT ?{next(numbers)}" if limit else ""
    order = ORDER if ordered else ""
    for column, size in rest:
        filters.append(_in(column, [f"?{next(numbers)}" for _ in range(size)]))
    refs = [f"?{next(numbers)}" for _ in range(led_count)]
    index = _INDEX[led]
    source = f"FROM work_index INDEXED BY {index} WHERE "
    streams = [
        " AND ".join(["category = ?1", *([f"{led} = {ref}"] if led else []), f"is_open = {flag}"])
        for ref in (refs or [""])
        for flag in ((1,) if open_only else (1, 0))
    ]
    if len(streams) > MAX_ARMS:
        where = ["category = ?1", *([_in(led, refs)] if led else [])]
        where += ["is_open = 1"] if open_only else []
        return f"SELECT {columns} {source}{' AND '.join(where + filters)}{order}{limit_sql}"
    ranged = before or since
    if ranged and len(streams) == 1:
        # One stream with a due range: its bands follow each other in query
        # order, so the arms are read one after the other (each in the order of
        # the index it names) and LIMIT stops the reading: no merge, no sort.
        return " UNION ALL ".join(_band_arms(source, streams[0], filters, columns)) + limit_sql
    if ranged and len(streams) * (BANDS + 1) <= MAX_ARMS:
        # A few streams with a due range (open and closed rows, a few owners):
        # every band of every stream is one index range in query order, merged
        # as they stream (MERGE (UNION ALL)); no stream's rows outside the range
        # are visited.
        arms = [arm for prefix in streams for arm in _band_arms(source, prefix, filters, columns)]
    else:
        # Each stream in index order; several are merged by SQLite as they stream
        # (MERGE (UNION ALL)), so LIMIT stops the merge early.
        arms = [f"SELECT {columns} {source}{' AND '.join([p, *filters])}" for p in streams]
    return " UNION ALL ".join(arms) + order + limit_sql


def _band_arms(source: str, prefix: str, filters: list[str], columns: str) -> list[str]:
    """One stream's rows in a due range: one arm per priority band, each one index range.

    The first :data:`BANDS` bands are found by scalar subqueries (``MAX(priority)``
    below the band above, one seek each); the lower ones share one walk of the index.
    """
    bands = [f"(SELECT MAX(priority) {source}{prefix})"]
    while len(bands) < BANDS:
        bands.append(f"(SELECT MAX(priority) {source}{prefix} AND priority < {bands[-1]})")
    arms = [
        f"SELECT {columns} {source}{' AND '.join([prefix, f'priority = {band}', *filters])}"
        for band in bands
    ]
    lowest = " AND ".join([prefix, f"priority < {bands[-1]}", *filters])
    arms.append(f"SELECT {columns} {source}{lowest}")
    return arms


def index_params(batch: Sequence[RecordWrite]) -> list[tuple[object, ...]]:
    """The :data:`INSERT_INDEX` parameters of every index row of ``batch``."""
    epoch, micro, no_due = EPOCH, _MICRO, MAX_KEY
    params: list[tuple[object, ...]] = []
    append = params.append
    for write in batch:
        kind, record_id, version = write.kind, write.id, write.expected_version + 1
        for row in write.index:
            due, changed = row.due_at, row.changed_at
            due_micros = None if due is None else (due - epoch) // micro
            append(
                (
                    kind,
                    record_id,
                    version,
                    row.category,
                    row.item_id,
                    row.patient_id,
                    row.owner_id,
                    row.status,
                    1 if row.is_open else 0,
                    row.priority,
                    due_micros,
                    no_due if due_micros is None else due_micros,
                    None if changed is None else (changed - epoch) // micro,
                    row.detail,
                )
            )
    return params


def work_statement(query: WorkQuery, *, lean: bool = False) -> tuple[str, list[object]] | None:
    """The statement and parameters :meth:`SQLiteStore.query` runs (None: no row can match);
    with ``lean``, the one :meth:`SQLiteStore.query_details` runs (:data:`DETAIL_COLUMNS`,
    unordered without a ``limit``; with one, two more columns follow)."""
    owners, patients, statuses = query.owner_ids, query.patient_ids, query.statuses
    if query.limit == 0 or owners == () or patients == () or statuses == ():
        return None
    led: str | None = None
    values: tuple[str, ...] = ()
    if owners is not None and (patients is None or len(owners) <= len(patients)):
        led, values = "owner_id", tuple(dict.fromkeys(owners))  # one stream per owner
    elif patients is not None:
        led, values = "patient_id", tuple(dict.fromkeys(patients))
    params: list[object] = [query.category]
    for moment in (query.due_before, query.due_from, query.changed_before):
        if moment is not None:
            params.append(to_micros(moment))
    if query.limit is not None:
        params.append(query.limit)
    rest: list[tuple[str, int]] = []
    for column, given in (("owner_id", owners), ("patient_id", patients), ("status", statuses)):
        if given is not None and column != led:
            rest.append((column, len(given)))
            params.extend(given)
    params.extend(values)
    columns = COLUMNS
    if lean:
        columns = DETAIL_COLUMNS if query.limit is None else _LIMITED_DETAIL_COLUMNS
    sql = _sql(
        led,
        len(values),
        query.open_only,
        query.due_before is not None,
        query.due_from is not None,
        query.changed_before is not None,
        tuple(rest),
        query.limit is not None,
        columns,
        not lean or query.limit is not None,
    )
    return sql, params
