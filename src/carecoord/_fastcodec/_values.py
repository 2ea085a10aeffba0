"""Scalar values of the fast model codec (see :mod:`carecoord._fastcodec`).

Stored datetimes are read as :func:`~carecoord.serialization.parse_datetime`
reads them, with the same results (fold, wall times in a DST gap, offsets
that contradict their zone, UTC), but without its regular expression: the
text is split at ``[``, read by :meth:`datetime.fromisoformat`, and the zone
comes from a table of the zones seen so far. Their values come from a bounded
table too (datetimes are immutable, so equal texts may share one object).
What the common path does not cover (no offset, years 1 and 9999, an unknown
zone) raises :class:`Declined`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .._json import prepare_float
from ..model._base import _ID, EntityId

__all__ = [
    "DECODED_DATETIMES",
    "WRITTEN_DATETIMES",
    "Declined",
    "all_str",
    "decode_date",
    "decode_datetime",
    "decode_time",
    "encode_datetime",
    "encode_float",
    "id_maker",
    "int_to_float",
    "known_zone_name",
]


class Declined(Exception):
    """The trusted decoder does not vouch for the data: read it through the validated path."""


_TABLE_SIZE = 8192
"""How many values each table of decoded datetimes and ids keeps (then it starts again)."""


# ---------------------------------------------------------------- datetimes

_ZONES: dict[str, ZoneInfo] = {}
"""``"America/New_York]"`` (what follows ``[`` in a stored datetime) to its zone."""

_ZONE_NAME = re.compile(r"[A-Za-z0-9_+\-/]+")
"""What :func:`~carecoord.serialization.parse_datetime` accepts between the brackets."""

_ZERO = timedelta(0)
_fromisoformat = datetime.fromisoformat


def _zone(tail: str) -> ZoneInfo:
    if tail[-1:] != "]" or not _ZONE_NAME.fullmatch(tail, 0, len(tail) - 1):
        raise Declined
    try:
        zone = ZoneInfo(tail[:-1])
    except Exception:  # unknown, malformed or too long: the validated path says so
        raise Declined from None
    _ZONES[tail] = zone  # only zones that exist: the table stays small
    return zone


def _settle(value: datetime, zone: ZoneInfo) -> datetime:
    """parse_datetime's rule: keep the written wall time when a fold's offset matches it."""
    offset = value.utcoffset()
    for fold in (0, 1):
        local = value.replace(tzinfo=zone, fold=fold)
        if local.utcoffset() == offset:
            return local
    return value.astimezone(zone)


def decode_datetime(raw: Any) -> datetime:
    """A stored datetime (``2026-03-09T09:00:00-04:00[America/New_York]``)."""
    iso, bracket, tail = raw.partition("[")  # AttributeError for a non-string: declined
    value = _fromisoformat(iso)
    tz = value.tzinfo
    if tz is None or not 1 < value.year < 9999:
        raise Declined  # naive; or an instant that may not exist: the validated path decides
    if bracket:
        if "]" in iso:  # parse_datetime's pattern does not match: it reads none of it
            raise Declined
        zone = _ZONES.get(tail) or _zone(tail)
        # The instant on the zone keeps the written wall time exactly when the
        # written offset is the zone's; otherwise (a wall time in a DST gap, an
        # offset the zone never had) the fold rule decides.
        local = value.astimezone(zone)
        if local.utcoffset() != tz.utcoffset(None):
            local = _settle(value, zone)
    elif tz is UTC:
        local = value
    else:
        local = value.replace(tzinfo=UTC) if value.utcoffset() == _ZERO else value
    if len(DECODED_DATETIMES) >= _TABLE_SIZE:
        DECODED_DATETIMES.clear()
    DECODED_DATETIMES[raw] = local
    return local


DECODED_DATETIMES: dict[str, datetime] = {}
"""Stored datetime texts read before, to their values (see :func:`decode_datetime`)."""


WRITTEN_DATETIMES: dict[int, tuple[datetime, str]] = {}
"""``id(value)`` to ``(value, text)`` for datetimes written before (the entry keeps
``value`` alive, so its id is not reused while the entry exists)."""


def encode_datetime(value: datetime) -> str:
    """:func:`~carecoord.serialization.format_datetime` for the datetimes of the model.

    ``isoformat`` is the slow part of writing a record, and records are written
    again and again with the same datetime objects (a plan's history, its
    readings, what a read gave back): their text comes from a bounded table.
    """
    written = WRITTEN_DATETIMES.get(id(value))
    if written is not None and written[0] is value:
        return written[1]
    tz = value.tzinfo
    if tz is None or (tz is not UTC and tz.utcoffset(value) is None):
        raise ValueError("naive datetime")  # the cattrs path raises NaiveDatetimeError
    key = tz.key if isinstance(tz, ZoneInfo) else None
    text = f"{value.isoformat()}[{key}]" if key else value.isoformat()
    if len(WRITTEN_DATETIMES) >= _TABLE_SIZE:
        WRITTEN_DATETIMES.clear()
    WRITTEN_DATETIMES[id(value)] = (value, text)
    return text


# ---------------------------------------------------------- other scalars


def decode_date(raw: Any) -> date:
    if raw.__class__ is not str or len(raw) != 10:
        raise Declined
    return date.fromisoformat(raw)


def decode_time(raw: Any) -> time:
    if raw.__class__ is not str:
        raise Declined
    value = time.fromisoformat(raw)
    if value.tzinfo is not None:
        raise Declined
    return value


def int_to_float(raw: Any) -> float:
    """An int read where a float belongs (the validated path converts it too)."""
    if raw.__class__ is not int:
        raise Declined
    return float(raw)  # OverflowError beyond the float range: declined


encode_float = prepare_float
"""A float as the model encoder gives it (see :func:`carecoord._json.prepare_float`)."""


def all_str(values: list[Any]) -> bool:
    return all(v.__class__ is str for v in values)


def id_maker(cls: type[EntityId]) -> tuple[dict[str, EntityId], Callable[[Any], EntityId]]:
    """A table of ``cls`` ids already checked, and the function that checks and adds one."""
    table: dict[str, EntityId] = {}
    new = str.__new__
    fullmatch = _ID.fullmatch
    custom = cls.__new__ is not EntityId.__new__

    def make(raw: Any) -> EntityId:
        if raw.__class__ is not str or not fullmatch(raw) or raw in (".", ".."):
            raise Declined
        made = cls(raw) if custom else new(cls, raw)
        if len(table) >= _TABLE_SIZE:
            table.clear()
        table[raw] = made
        return made

    return table, make


_KNOWN_ZONE_NAMES: set[str] = set()


def known_zone_name(_inst: Any, _attr: Any, value: Any) -> None:
    """The ``zone_name`` validator, for names seen before without a zone lookup."""
    if value in _KNOWN_ZONE_NAMES:
        return
    if value.__class__ is not str or not _ZONE_NAME.fullmatch(value):
        raise Declined
    try:
        ZoneInfo(value)
    except Exception:
        raise Declined from None
    _KNOWN_ZONE_NAMES.add(value)  # only names that exist: the set stays small
