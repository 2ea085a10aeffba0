"""Worklist queries of :class:`~carecoord.storage.PostgresStore`: statements and result rows.

Private to the PostgreSQL store (it needs the ``postgres`` extra). The worklist
indexes of schema 3 hold the rows in the order :class:`WorkQuery` returns them,
``(category, owner_id | patient_id | -, is_open, priority DESC, due_at,
COALESCE(patient_id, ''), item_id)``, and include every column a result needs,
so each statement below reads index entries only (an index-only scan), in order.
A *prefix* is the equality part of a search: (category, owner or patient,
is_open), or (category, is_open) without owners or patients.

* One prefix (open rows of one owner, or of every owner) without a due range:
  a plain ordered index scan that stops at ``LIMIT``; nothing is sorted.
* A due range (``due_before`` / ``due_from``) on the owner or the no-owner
  index: the distinct priorities of each prefix are found by index seeks (a
  recursive CTE, one seek per priority), then each (prefix, priority) *band* is
  one index range scan of exactly the rows due in the range, already in (due,
  patient, item) order and cut at ``LIMIT``. A skewed owner (thousands of
  high-priority rows due later, a few overdue) costs a few seeks, not a scan.
* Anything else (several owners, patients, closed rows too): one ordered scan
  per prefix (a ``LATERAL`` subquery with an equality on every prefix column,
  so each is a search of that prefix's rows), cut at ``LIMIT``.

Only the rows of the bands or prefixes are merged by the final ``ORDER BY``:
bands come in priority order, so it is an incremental sort that orders one
band at a time and stops at ``LIMIT``; prefixes are sorted together, at most
(prefixes x limit) rows. Nothing sorts all the matches of a query with a limit.
``work_index`` has ``parallel_workers = 0`` (schema 3) and no statement is a
``UNION``, so no plan starts parallel workers.

The SQL text depends only on which filters are given and on whether there are
one or several owners or patients (values are parameters, and the number of
prefixes is known when planning unless there are several), so psycopg prepares
each shape once per connection and the server settles on a generic plan
instead of planning the recursive CTE again on every call.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, LiteralString, NamedTuple

from psycopg import sql

from ._rows import to_utc, trusted_hits
from .port import DetailRow, IndexHit, WorkQuery

__all__ = ["HIT_COLUMNS", "QueryStatements", "details_from_rows", "hits_from_rows"]

HIT_COLUMNS: tuple[LiteralString, ...] = (
    "kind",
    "record_id",
    "record_version",
    "item_id",
    "patient_id",
    "owner_id",
    "status",
    "is_open",
    "priority",
    "due_at",
    "changed_at",
    "detail",
)
"""What a worklist statement returns per row (the category is the query's)."""

_ORDER: LiteralString = "{a}.priority DESC, {a}.due_at, COALESCE({a}.patient_id, ''), {a}.item_id"
_PATIENT_ORDER: LiteralString = "{a}.priority DESC, {a}.due_at, {a}.item_id"
_BAND_ORDER: LiteralString = "{a}.due_at, COALESCE({a}.patient_id, ''), {a}.item_id"


class Shape(NamedTuple):
    """What the SQL text of a query depends on (the values are parameters)."""

    form: str  # "plain", "prefixes" or "bands"
    lead: str  # "owner_id", "patient_id" or "" (no lead)
    many: bool  # several lead values (an array) rather than one
    open_only: bool
    statuses: bool
    other: str  # the column of the other filter ("" without)
    changed_before: bool
    due_before: bool
    due_from: bool
    limit: bool


def _columns(alias: LiteralString) -> LiteralString:
    return ", ".join(f"{alias}.{column}" for column in HIT_COLUMNS)


class QueryStatements:
    """The worklist statements of one store's ``work_index``, composed once per shape."""

    def __init__(self, work_index: sql.Identifier) -> None:
        self._table = work_index
        self._cache: dict[Shape, bytes] = {}

    def statement(self, query: WorkQuery) -> tuple[bytes, dict[str, Any]] | None:
        """The SQL and parameters answering ``query`` (None: no row can match)."""
        if query.limit == 0:
            return None
        params: dict[str, Any] = {"category": query.category}
        lead, leads, other, others = _leads(query)
        if (leads is not None and not leads) or (others is not None and not others):
            return None
        if query.statuses is not None:
            if not query.statuses:
                return None
            params["statuses"] = list(query.statuses)
        if others is not None:
            params["others"] = others
        for name in ("changed_before", "due_before", "due_from"):
            moment = getattr(query, name)
            if moment is not None:
                params[name] = moment
        if query.limit is not None:
            params["limit"] = query.limit
        many = leads is not None and len(leads) > 1
        if leads is not None:
            params["leads"] = leads if many else leads[0]
        by_patient = leads is not None and lead == "patient_id"
        if by_patient:
            form = "prefixes"
        elif query.due_before is not None or query.due_from is not None:
            form = "bands"
        elif many or not query.open_only:
            form = "prefixes"
        else:
            form = "plain"
        shape = Shape(
            form=form,
            lead=lead if leads is not None else "",
            many=many,
            open_only=query.open_only,
            statuses="statuses" in params,
            other=other if others is not None else "",
            changed_before="changed_before" in params,
            due_before="due_before" in params,
            due_from="due_from" in params,
            limit="limit" in params,
        )
        text = self._cache.get(shape)
        if text is None:
            text = self._cache[shape] = self._compose(shape).as_bytes(None)
        return text, params

    # ----------------------------------------------------------- composition
    def _compose(self, shape: Shape) -> sql.Composed:
        lead = shape.lead
        filters: list[LiteralString] = []
        if shape.statuses:
            filters.append("w.status = ANY(%(statuses)s)")
        if shape.other:
            filters.append(f"w.{shape.other} = ANY(%(others)s)")
        if shape.changed_before:
            filters.append("w.changed_at < %(changed_before)s")
        if shape.due_before:
            filters.append("w.due_at < %(due_before)s")
        if shape.due_from:
            filters.append("w.due_at >= %(due_from)s")
        cut: LiteralString = " LIMIT %(limit)s" if shape.limit else ""
        if shape.form == "plain":
            where = ["w.category = %(category)s", "w.is_open"]
            if lead:
                where.append(f"w.{lead} = %(leads)s")
            return self._select(
                f"SELECT {_columns('w')} FROM {{table}} AS w WHERE "
                + " AND ".join([*where, *filters])
                + f" ORDER BY {_ORDER.format(a='w')}{cut}"
            )
        # The prefixes: (lead value, is_open) pairs, or is_open values alone. Their
        # number is known when planning unless there are several lead values, so a
        # prepared statement settles on one generic plan instead of planning again.
        opens: LiteralString = "(VALUES (true))" if shape.open_only else "(VALUES (true), (false))"
        prefixes = f"SELECT o.v FROM {opens} AS o(v)"
        match = "w.category = %(category)s AND w.is_open = {p}.open_value"
        columns = "open_value"
        if lead:
            values = "l.v" if shape.many else "%(leads)s::text"
            prefixes = f"SELECT {values}, o.v FROM {opens} AS o(v)"
            if shape.many:
                prefixes += " CROSS JOIN unnest(%(leads)s::text[]) AS l(v)"
            match += f" AND w.{lead} = {{p}}.lead_value"
            columns = "lead_value, open_value"
        if shape.form == "prefixes":
            inner = " AND ".join([match.format(p="p"), *filters])
            # One patient's rows need no patient order (the patient index has none).
            order = _PATIENT_ORDER if lead == "patient_id" else _ORDER
            return self._select(
                f"SELECT h.* FROM ({prefixes}) AS p({columns}) "
                f"CROSS JOIN LATERAL (SELECT {_columns('w')} FROM {{table}} AS w WHERE {inner} "
                f"ORDER BY {order.format(a='w')}{cut}) AS h "
                f"ORDER BY {_ORDER.format(a='h')}{cut}"
            )
        # Bands: the distinct priorities of each prefix, highest first, by index seeks.
        first = (
            f"(SELECT w.priority FROM {{table}} AS w WHERE {match.format(p='s')} "
            "ORDER BY w.priority DESC LIMIT 1)"
        )
        following = (
            f"(SELECT w.priority FROM {{table}} AS w WHERE {match.format(p='b')} "
            "AND w.priority < b.priority ORDER BY w.priority DESC LIMIT 1)"
        )
        inner = " AND ".join([match.format(p="b"), "w.priority = b.priority", *filters])
        carried = ", ".join(f"b.{column}" for column in columns.split(", "))
        return self._select(
            f"WITH RECURSIVE bands({columns}, priority) AS ("
            f"SELECT s.*, {first} FROM ({prefixes}) AS s({columns}) "
            f"UNION ALL SELECT {carried}, {following} "
            "FROM bands AS b WHERE b.priority IS NOT NULL) "
            # Bands in priority order, so the final ORDER BY is an incremental sort that
            # orders one band's rows at a time and stops at the LIMIT.
            "SELECT h.* FROM (SELECT * FROM bands WHERE priority IS NOT NULL "
            "ORDER BY priority DESC) AS b "
            f"CROSS JOIN LATERAL (SELECT {_columns('w')} FROM {{table}} AS w WHERE {inner} "
            f"ORDER BY {_BAND_ORDER.format(a='w')}{cut}) AS h "
            f"ORDER BY b.priority DESC, {_BAND_ORDER.format(a='h')}{cut}"
        )

    def _select(self, template: str) -> sql.Composed:
        return sql.SQL(template).format(table=self._table)


def _leads(
    query: WorkQuery,
) -> tuple[str, list[str] | None, str, list[str] | None]:
    """(lead column, its values, other column, its values): the index to search and a filter.

    The owner index leads when owners are given (and are no more than the
    patients); the patient index when only patients are given, or fewer of them.
    Values are deduplicated (a band or prefix must not be read twice).
    """
    owners = None if query.owner_ids is None else list(dict.fromkeys(query.owner_ids))
    patients = None if query.patient_ids is None else list(dict.fromkeys(query.patient_ids))
    if owners is not None and (patients is None or len(owners) <= len(patients)):
        return "owner_id", owners, "patient_id", patients
    if patients is not None:
        return "patient_id", patients, "owner_id", owners
    return "owner_id", None, "patient_id", None


def hits_from_rows(category: str, rows: Iterable[tuple[Any, ...]]) -> list[IndexHit]:
    """:class:`IndexHit` s from result rows (:data:`HIT_COLUMNS`), without validators.

    ``timestamptz`` values arrive aware, in the session's zone, and are
    returned in UTC like every store's (:func:`~carecoord.storage._rows.trusted_hits`).
    """
    return trusted_hits(category, rows, moment=to_utc)


def details_from_rows(rows: Iterable[tuple[Any, ...]]) -> list[DetailRow]:
    """``(patient_id, item_id, status, detail)`` of each result row (:data:`HIT_COLUMNS`)."""
    return [(row[4], row[3], row[6], row[11]) for row in rows]
