"""Light construction of query results for the built-in stores.

A store's query turns thousands of database rows into :class:`IndexHit` s. The
values come from columns the store wrote itself (aware UTC datetimes rebuilt
from integer microseconds), so the attrs validators of :class:`IndexRow` would
only re-check what was checked on the way in; :func:`trusted_hit` sets the
fields directly. Host adapters build hits with the ordinary constructors.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from .port import IndexHit, IndexRow

__all__ = ["micros_to_datetime", "trusted_hit"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_new = object.__new__
_set = object.__setattr__


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
