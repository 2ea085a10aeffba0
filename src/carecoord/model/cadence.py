"""Cadences: "every N days / weeks / months / quarters / years" from a fixed anchor.

carecoord is *rrule-free*: a cadence is a tiny value type, not an RFC 5545 RRULE.
Occurrence ``k`` is always computed from the anchor, never from the previous
occurrence, so month ends do not drift: an anchor on Jan 31 gives Feb 28 (or 29),
then Mar 31, Apr 30, ...

Occurrences are computed on the *wall clock* of the anchor's IANA zone, so a
09:00 review stays at 09:00 local time across daylight-saving changes.

Local times that do not exist or happen twice (the DST rule):

* a wall time that falls in a spring-forward gap is shifted forward by the
  length of the gap (02:30 on a night when clocks jump from 02:00 to 03:00
  becomes 03:30), which is how RFC 5545 and :mod:`zoneinfo` (``fold=0``)
  read such a time;
* a wall time that happens twice (fall-back) resolves to its first, earlier
  instant.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from dateutil.relativedelta import relativedelta

from ._base import aware, ensure_aware, instant, positive_int
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


_APPROX_DAYS = {
    CadenceUnit.DAYS: 1.0,
    CadenceUnit.WEEKS: 7.0,
    CadenceUnit.MONTHS: 30.436875,
    CadenceUnit.QUARTERS: 91.310625,
    CadenceUnit.YEARS: 365.2425,
}


def localize(wall: datetime, zone: ZoneInfo) -> datetime:
    """Attach ``zone`` to a naive wall-clock time, following the DST rule above.

    The result is normalised: a time in a spring-forward gap comes back as the
    real wall time it denotes (shifted forward by the gap).
    """
    if wall.tzinfo is not None:
        raise ValidationError("localize() expects a naive wall-clock datetime")
    first = wall.replace(tzinfo=zone, fold=0)
    return first.astimezone(UTC).astimezone(zone)


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


@attrs.frozen
class Cadence:
    """A recurrence: every ``every`` ``unit`` starting at ``anchor``.

    ``anchor`` is an aware datetime whose tzinfo is a :class:`zoneinfo.ZoneInfo`
    (``datetime.timezone.utc`` is accepted as UTC); it is occurrence 0.

    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> c = Cadence(every=1, unit=CadenceUnit.MONTHS,
    ...             anchor=datetime(2025, 1, 31, 9, tzinfo=ZoneInfo("America/New_York")))
    >>> [c.occurrence(k).date().isoformat() for k in range(3)]
    ['2025-01-31', '2025-02-28', '2025-03-31']
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

    def _step(self, index: int) -> relativedelta:
        n = self.every * index
        match self.unit:
            case CadenceUnit.DAYS:
                return relativedelta(days=n)
            case CadenceUnit.WEEKS:
                return relativedelta(weeks=n)
            case CadenceUnit.MONTHS:
                return relativedelta(months=n)
            case CadenceUnit.QUARTERS:
                return relativedelta(months=3 * n)
            case CadenceUnit.YEARS:
                return relativedelta(years=n)

    def occurrence(self, index: int) -> datetime:
        """Occurrence number ``index`` (0 is the anchor; negative ones lie before it)."""
        if isinstance(index, bool) or not isinstance(index, int):
            raise ValidationError("Cadence.occurrence index must be an int")
        wall = self.anchor.replace(tzinfo=None) + self._step(index)
        return localize(wall, self.zone)

    def _index_before(self, moment: datetime) -> int:
        elapsed_days = (moment - self.anchor) / timedelta(days=1)
        return math.floor(elapsed_days / (self.every * _APPROX_DAYS[self.unit])) - 2

    def next_after(self, moment: datetime) -> datetime:
        """The first occurrence strictly after ``moment`` (an aware datetime)."""
        ensure_aware(moment, "moment")
        index = self._index_before(moment)
        while instant(self.occurrence(index)) <= instant(moment):
            index += 1
        return self.occurrence(index)

    def next_on_or_after(self, moment: datetime) -> datetime:
        """The first occurrence at or after ``moment``."""
        ensure_aware(moment, "moment")
        index = self._index_before(moment)
        while instant(self.occurrence(index)) < instant(moment):
            index += 1
        return self.occurrence(index)

    def between(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """Occurrences ``o`` with ``start <= o < end``, in order."""
        ensure_aware(start, "start")
        ensure_aware(end, "end")
        index = self._index_before(start)
        while instant(self.occurrence(index)) < instant(start):
            index += 1
        while instant(when := self.occurrence(index)) < instant(end):
            yield when
            index += 1
