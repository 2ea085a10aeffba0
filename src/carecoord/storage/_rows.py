"""Light construction of query results for the built-in stores.

A store's query turns thousands of database rows into :class:`IndexHit` s. The
values come from columns the store wrote itself (aware UTC datetimes rebuilt
from integer microseconds), so the attrs validators of :class:`IndexRow` would
only re-check what was checked on the way in; :func:`trusted_hit` sets the
fields directly. Host adapters build hits with the ordinary constructors.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from .port import IndexHit, IndexRow

__all__ = ["micros_to_datetime", "trusted_hit", "trusted_hits"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_new = object.__new__
_set = object.__setattr__
_ROW_FIELDS = (
    "category",
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
# The slot descriptors' setters: calling one skips the attribute lookup that
# object.__setattr__ does on every call (the classes are attrs-slotted).
_ROW_SETTERS = tuple(IndexRow.__dict__[name].__set__ for name in _ROW_FIELDS)
_HIT_SETTERS = tuple(
    IndexHit.__dict__[name].__set__ for name in ("kind", "record_id", "version", "row")
)


def micros_to_datetime(micros: int | None) -> datetime | None:
    """Integer microseconds since the epoch as an aware UTC datetime (``None`` stays)."""
    if micros is None:
        return None
    return _EPOCH + timedelta(microseconds=micros)


def trusted_hit(
    kind: str,
    record_id: str,
    version: int,
    category: str,
    item_id: str,
    patient_id: str | None,
    owner_id: str | None,
    status: str,
    is_open: bool,
    priority: int,
    due_micros: int | None,
    changed_micros: int | None,
    detail: str | None,
) -> IndexHit:
    """An :class:`IndexHit` from a store's own columns, without re-running validators."""
    row = _new(IndexRow)
    _set(row, "category", category)
    _set(row, "item_id", item_id)
    _set(row, "patient_id", patient_id)
    _set(row, "owner_id", owner_id)
    _set(row, "status", status)
    _set(row, "is_open", bool(is_open))
    _set(row, "priority", priority)
    _set(row, "due_at", None if due_micros is None else _EPOCH + timedelta(microseconds=due_micros))
    _set(
        row,
        "changed_at",
        None if changed_micros is None else _EPOCH + timedelta(microseconds=changed_micros),
    )
    _set(row, "detail", detail)
    hit = _new(IndexHit)
    _set(hit, "kind", kind)
    _set(hit, "record_id", record_id)
    _set(hit, "version", version)
    _set(hit, "row", row)
    return hit


def trusted_hits(
    category: str,
    rows: Iterable[tuple[Any, ...]],
    no_due: int | None = None,
) -> list[IndexHit]:
    """:func:`trusted_hit` for many rows of one category, in one loop.

    Each row is ``(kind, record_id, version, item_id, patient_id, owner_id,
    status, is_open, priority, due_micros, changed_micros, detail)``;
    ``due_micros == no_due`` stands for a row without a due time (a store
    keeping NULL passes ``None``), ``is_open`` is 1 or 0 (or a bool).
    """
    new, row_type, hit_type, epoch, delta = _new, IndexRow, IndexHit, _EPOCH, timedelta
    s_cat, s_item, s_patient, s_owner, s_status, s_open, s_priority, s_due, s_changed, s_detail = (
        _ROW_SETTERS
    )
    s_kind, s_record, s_version, s_row = _HIT_SETTERS
    hits: list[IndexHit] = []
    append = hits.append
    for (
        kind,
        record_id,
        version,
        item,
        patient,
        owner,
        status,
        is_open,
        priority,
        due,
        changed,
        detail,
    ) in rows:
        row = new(row_type)
        s_cat(row, category)
        s_item(row, item)
        s_patient(row, patient)
        s_owner(row, owner)
        s_status(row, status)
        s_open(row, is_open == 1)
        s_priority(row, priority)
        s_due(row, None if due == no_due else epoch + delta(0, 0, due))
        s_changed(row, None if changed is None else epoch + delta(0, 0, changed))
        s_detail(row, detail)
        hit = new(hit_type)
        s_kind(hit, kind)
        s_record(hit, record_id)
        s_version(hit, version)
        s_row(hit, row)
        append(hit)
    return hits
