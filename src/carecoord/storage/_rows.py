"""Light construction of query results for the built-in stores.

A store's query turns thousands of database rows into :class:`IndexHit` s. The
values come from columns the store wrote itself (aware UTC datetimes rebuilt
from integer microseconds), so the attrs validators of :class:`IndexRow` would
only re-check what was checked on the way in; :func:`trusted_hits` sets the
fields directly. One builder serves every built-in store; host adapters build
hits with the ordinary constructors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from .port import IndexHit, IndexRow

__all__ = ["from_micros", "to_utc", "trusted_hits"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_new = object.__new__
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


def from_micros(micros: int) -> datetime:
    """Integer microseconds since the epoch as an aware UTC datetime."""
    return _EPOCH + timedelta(0, 0, micros)


def to_utc(moment: datetime) -> datetime:
    """An aware datetime (``timestamptz`` in the session's zone) in UTC."""
    return moment.astimezone(UTC)


def trusted_hits(
    category: str,
    rows: Iterable[tuple[Any, ...]],
    no_due: Any = None,
    *,
    moment: Callable[[Any], datetime] = from_micros,
) -> list[IndexHit]:
    """:class:`IndexHit` s of one category from a store's own columns, without validators.

    Each row is ``(kind, record_id, version, item_id, patient_id, owner_id,
    status, is_open, priority, due, changed, detail)``; ``moment`` turns a
    stored due or changed time into an aware UTC datetime (:func:`from_micros`
    for integer microseconds, :func:`to_utc` for ``timestamptz``); ``due ==
    no_due`` stands for a row without a due time (a store keeping NULL passes
    ``None``); ``is_open`` is 1 or 0, or a bool.
    """
    new, row_type, hit_type = _new, IndexRow, IndexHit
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
        s_due(row, None if due is None or due == no_due else moment(due))
        s_changed(row, None if changed is None else moment(changed))
        s_detail(row, detail)
        hit = new(hit_type)
        s_kind(hit, kind)
        s_record(hit, record_id)
        s_version(hit, version)
        s_row(hit, row)
        append(hit)
    return hits
