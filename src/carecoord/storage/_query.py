"""Reference semantics of :class:`~carecoord.storage.WorkQuery`, shared by in-process stores."""

from __future__ import annotations

from collections.abc import Iterable

from .port import IndexHit, IndexRow, WorkQuery, to_micros

__all__ = ["matches", "order_key", "run_query"]


def matches(query: WorkQuery, row: IndexRow) -> bool:
    """Whether ``row`` satisfies every filter of ``query``."""
    if row.category != query.category:
        return False
    if query.open_only and not row.is_open:
        return False
    if query.owner_ids is not None and row.owner_id not in query.owner_ids:
        return False
    if query.patient_ids is not None and row.patient_id not in query.patient_ids:
        return False
    if query.statuses is not None and row.status not in query.statuses:
        return False
    if query.due_before is not None and (row.due_at is None or row.due_at >= query.due_before):
        return False
    if query.due_from is not None and (row.due_at is None or row.due_at < query.due_from):
        return False
    return not (
        query.changed_before is not None
        and (row.changed_at is None or row.changed_at >= query.changed_before)
    )


def order_key(hit: IndexHit) -> tuple[int, bool, int, str, str]:
    """Priority desc, due asc (none last), patient id, item id."""
    row = hit.row
    due = to_micros(row.due_at) if row.due_at is not None else 0
    return (-row.priority, row.due_at is None, due, row.patient_id or "", row.item_id)


def run_query(query: WorkQuery, hits: Iterable[IndexHit]) -> list[IndexHit]:
    """Filter, order and limit ``hits`` as ``query`` says."""
    found = sorted((h for h in hits if matches(query, h.row)), key=order_key)
    return found if query.limit is None else found[: query.limit]
