"""Cadences: "every N days / weeks / months / quarters / years" from a fixed anchor.

carecoord is *rrule-free*: a cadence is a tiny value type, not an RFC 5545 RRULE.
Occurrence ``k`` is always computed from the anchor, never from the previous
occurrence, so month ends do not drift: an anchor on Jan 31 gives Feb 28 (or 29),
then Mar 31, Apr 30, ...

Occurrences are computed on the *wall clock* of the anchor's IANA zone, so a
09:00 review stays at 09:00 local time across daylight-saving changes. The
calendar arithmetic is plain :mod:`datetime`: ``k`` months on is the same day
``k`` months later, clamped to that month's length (Feb 29 + 1 year is Feb 28),
as :class:`dateutil.relativedelta.relativedelta` computes it.

Local times that do not exist or happen twice (the DST rule):

* a wall time that falls in a spring-forward gap is shifted forward by the
  length of the gap (02:30 on a night when clocks jump from 02:00 to 03:00
  becomes 03:30), which is how RFC 5545 and :mod:`zoneinfo` (``fold=0``)
  read such a time;
* a wall time that happens twice (fall-back) resolves to its first, earlier
  instant.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from ._base import aware, ensure_aware, positive_int
from ._errors import ValidationError

__all__ = ["Cadence", "CadenceUnit", "localize"]

_MAX_EVERY = 10_000


class CadenceUnit(StrEnum):
    """Unit of a :class:`Cadence`."""

    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"
    QUARTERS = "quarters"
    YEARS = "years"


_STEP = {
    # unit: (days per unit, calendar months per unit); exactly one is non-zero.
    CadenceUnit.DAYS: (1, 0),
    CadenceUnit.WEEKS: (7, 0),
    CadenceUnit.MONTHS: (0, 1),
    CadenceUnit.QUARTERS: (0, 3),
    CadenceUnit.YEARS: (0, 12),
}

_MONTH_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _month_length(year: int, month: int) -> int:
    """Days in ``month`` of ``year`` (proleptic Gregorian, like :mod:`datetime`)."""
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _MONTH_DAYS[month]


def _add_months(value: datetime, months: int) -> datetime:
    """``value`` moved by ``months`` calendar months, the day clamped to the month's length.

    Jan 31 + 1 month is Feb 28 (Feb 29 in a leap year); Feb 29 + 12 months is
    Feb 28. The time of day, tzinfo and fold are kept. Raises :class:`ValueError`
    when the year leaves 1..9999 (as :class:`dateutil.relativedelta.relativedelta` does).
    """
    total = value.month - 1 + months
    year = value.year + total // 12
    month = total % 12 + 1
    day = value.day
    if day > 28:
        last = _month_length(year, month)
        if day > last:
            day = last
    return value.replace(year, month, day)


def _settle(first: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The DST rule for ``first`` (an aware wall time on ``zone``, ``fold=0``).

    Returns ``(key, when)``: ``when`` is the real wall time ``first`` denotes
    and ``key`` its UTC wall time, tagged with ``zone`` so that keys compare
    among themselves by plain field comparison (same tzinfo), cheaply.

    ``fold=0`` reads a gap time with the offset before the change and an
    ambiguous time as its first instant; converting that instant back to
    ``zone`` moves a gap time forward by the gap. This is exactly
    ``first.astimezone(UTC).astimezone(zone)``, without the intermediate
    UTC datetime.
    """
    key = first - zone.utcoffset(first)  # type: ignore[operator]  # never None for a ZoneInfo
    return key, zone.fromutc(key)


def localize(wall: datetime, zone: ZoneInfo) -> datetime:
    """Attach ``zone`` to a naive wall-clock time, following the DST rule above.

    The result is normalised: a time in a spring-forward gap comes back as the
    real wall time it denotes (shifted forward by the gap).
    """
    if wall.tzinfo is not None:
        raise ValidationError("localize() expects a naive wall-clock datetime")
    if type(wall) is not datetime or not isinstance(zone, ZoneInfo):
        # A datetime subclass or another tzinfo: the general (slower) route.
        return wall.replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone)
    # The constructor (positional) is several times cheaper than replace(tzinfo=..., fold=0).
    first = datetime(
        wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second, wall.microsecond, zone
    )
    return _settle(first, zone)[1]


def _to_zoned(value: Any) -> Any:
    # datetime.timezone.utc names a zone unambiguously; keep it as ZoneInfo("UTC").
    if isinstance(value, datetime) and value.tzinfo is UTC:
        return value.replace(tzinfo=ZoneInfo("UTC"))
    return value


def _zoned_anchor(inst: Cadence, attr: attrs.Attribute[Any], value: Any) -> None:
    aware(inst, attr, value)
    if not isinstance(value.tzinfo, ZoneInfo):
        raise ValidationError(
            "Cadence.anchor must carry an IANA zone (zoneinfo.ZoneInfo), not a fixed offset",
            field="anchor",
        )


def _to_unit(value: Any) -> CadenceUnit:
    try:
        return CadenceUnit(value)
    except ValueError:
        raise ValidationError("Cadence.unit must be a CadenceUnit", field="unit") from None


def _every_bounds(inst: Cadence, attr: attrs.Attribute[Any], value: Any) -> None:
    positive_int(inst, attr, value)
    if value > _MAX_EVERY:
        raise ValidationError(f"Cadence.every must be at most {_MAX_EVERY}", field="every")


def _locate(anchor: datetime, days: int, months: int, index: int) -> tuple[datetime, datetime]:
    """``(key, when)`` of occurrence ``index`` (see :func:`_settle` for ``key``).

    ``anchor`` is the cadence's anchor with ``fold=0``; a step is ``days``
    whole days or, when that is 0, ``months`` calendar months. Occurrence
    ``index`` is the anchor's wall time moved by ``index`` steps (from the
    anchor, never from another occurrence), then settled by the DST rule.
    """
    first = anchor + timedelta(days * index) if days else _add_months(anchor, months * index)
    return _settle(first, anchor.tzinfo)  # type: ignore[arg-type]  # a ZoneInfo (validated)


@attrs.frozen
class Cadence:
    """A recurrence: every ``every`` ``unit`` starting at ``anchor``.

    ``anchor`` is an aware datetime whose tzinfo is a :class:`zoneinfo.ZoneInfo`
    (``datetime.timezone.utc`` is accepted as UTC); it is occurrence 0.

    ```pycon
    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> c = Cadence(every=1, unit=CadenceUnit.MONTHS,
    ...             anchor=datetime(2025, 1, 31, 9, tzinfo=ZoneInfo("America/New_York")))
    >>> [c.occurrence(k).date().isoformat() for k in range(3)]
    ['2025-01-31', '2025-02-28', '2025-03-31']

    ```
    """

    every: int = attrs.field(validator=_every_bounds)
    unit: CadenceUnit = attrs.field(converter=_to_unit)
    anchor: datetime = attrs.field(converter=_to_zoned, validator=_zoned_anchor)

    @classmethod
    def days(cls, n: int, anchor: datetime) -> Cadence:
        """Every ``n`` days."""
        return cls(every=n, unit=CadenceUnit.DAYS, anchor=anchor)

    @classmethod
    def weeks(cls, n: int, anchor: datetime) -> Cadence:
        """Every ``n`` weeks."""
        return cls(every=n, unit=CadenceUnit.WEEKS, anchor=anchor)

    @classmethod
    def months(cls, n: int, anchor: datetime) -> Cadence:
        """Every ``n`` calendar months (clamped to month ends, no drift)."""
        return cls(every=n, unit=CadenceUnit.MONTHS, anchor=anchor)

    @classmethod
    def quarters(cls, n: int, anchor: datetime) -> Cadence:
        """Every ``n`` quarters (3 calendar months)."""
        return cls(every=n, unit=CadenceUnit.QUARTERS, anchor=anchor)

    @classmethod
    def years(cls, n: int, anchor: datetime) -> Cadence:
        """Every ``n`` years (Feb 29 anchors fall on Feb 28 in common years)."""
        return cls(every=n, unit=CadenceUnit.YEARS, anchor=anchor)

    @property
    def zone(self) -> ZoneInfo:
        """The IANA zone the cadence follows."""
        tz = self.anchor.tzinfo
        assert isinstance(tz, ZoneInfo)
        return tz

    def _params(self) -> tuple[datetime, int, int]:
        """``(anchor, days, months)`` for :func:`_locate`: the anchor with ``fold=0``, the step."""
        anchor = self.anchor
        if anchor.fold:
            anchor = anchor.replace(fold=0)
        days, months = _STEP[self.unit]
        return anchor, days * self.every, months * self.every

    def occurrence(self, index: int) -> datetime:
        """Occurrence number ``index`` (0 is the anchor; negative ones lie before it)."""
        if type(index) is not int and (isinstance(index, bool) or not isinstance(index, int)):
            raise ValidationError("Cadence.occurrence index must be an int")
        return _locate(*self._params(), index)[1]

    def _key(self, moment: datetime) -> datetime:
        """``moment``'s UTC wall time tagged with the cadence's zone (see :func:`_settle`)."""
        return moment.astimezone(UTC).replace(tzinfo=self.anchor.tzinfo)

    def _first(self, key: datetime, *, strict: bool) -> tuple[int, datetime, datetime]:
        """``(index, key, occurrence)`` of the first occurrence after the instant ``key``.

        After means ``>`` when ``strict``, else ``>=``. The search starts at an
        index found arithmetically: whole days, or calendar months, from the
        anchor to ``key``'s wall time divided by the step, which is off by at
        most a step or so however far ``key`` is from the anchor. It then steps
        forward or back; every occurrence it looks at is computed once.
        """
        anchor, days, months = self._params()
        zone = anchor.tzinfo
        assert zone is not None
        try:
            local = zone.fromutc(key)
        except OverflowError:  # a wall time outside years 1..9999: the UTC one will do
            local = key
        if days:
            index = (local.toordinal() - anchor.toordinal()) // days
        else:
            index = ((local.year - anchor.year) * 12 + local.month - anchor.month) // months

        def before(k: int) -> tuple[bool, datetime, datetime]:
            """Whether occurrence ``k`` comes before the target, with its key and itself."""
            try:
                found, when = _locate(anchor, days, months, k)
            except (ValueError, OverflowError):
                if k >= 0:
                    raise  # after year 9999: there is no such occurrence
                return True, key, key  # before year 1: before any moment
            return (found <= key if strict else found < key), found, when

        is_before, found, when = before(index)
        if is_before:
            while True:
                index += 1
                is_before, found, when = before(index)
                if not is_before:
                    return index, found, when
        while True:
            is_before, prev_key, prev = before(index - 1)
            if is_before:
                return index, found, when
            index -= 1
            found, when = prev_key, prev

    def next_after(self, moment: datetime) -> datetime:
        """The first occurrence strictly after ``moment`` (an aware datetime)."""
        ensure_aware(moment, "moment")
        return self._first(self._key(moment), strict=True)[2]

    def next_on_or_after(self, moment: datetime) -> datetime:
        """The first occurrence at or after ``moment``."""
        ensure_aware(moment, "moment")
        return self._first(self._key(moment), strict=False)[2]

    def between(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """Occurrences ``o`` with ``start <= o < end``, in order.

        Each occurrence is computed once: the first one by :meth:`_first`, the
        rest one index at a time until one reaches ``end``.
        """
        ensure_aware(start, "start")
        ensure_aware(end, "end")
        start_key, end_key = self._key(start), self._key(end)
        if not start_key < end_key:
            return
        index, key, when = self._first(start_key, strict=False)
        anchor, days, months = self._params()
        while key < end_key:
            yield when
            index += 1
            try:
                key, when = _locate(anchor, days, months, index)
            except (ValueError, OverflowError):
                return  # after year 9999, so after ``end``
