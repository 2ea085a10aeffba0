"""The counting rules shared by the quality metrics of :mod:`carecoord.metrics`.

Two halves. Reading a record's history, used when metric facts are taken from
the entities (:mod:`carecoord._metric_facts`): the status a record had at a
moment, when it first reached a status. Counting over facts, used by the
rules (:mod:`carecoord._metric_rules`): instants as integer microseconds, the
bounds of a reporting period, the ``as_of`` cutoff, where a calendar day
starts in the period's zone, the value of a fact history at a moment.
Pure: imports only the model.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from .model import Period, Transition, ValidationError, localize
from .model._base import ensure_aware, instant

__all__ = [
    "DAY_US",
    "_TICK",
    "Instant",
    "_bounds",
    "_cutoff",
    "_cutoff_us",
    "_day_start",
    "_day_start_us",
    "_days_us",
    "_end",
    "_initial",
    "_micros",
    "_reached_at",
    "_status_at",
    "_step_value_at",
]

S = TypeVar("S")
V = TypeVar("V")

Instant = int
"""An instant as integer microseconds since the Unix epoch (UTC): exact and zone-free."""

_TICK = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY_US = 86_400_000_000
"""Microseconds in a day (of 24 hours)."""


def _micros(moment: datetime) -> Instant:
    """``moment`` (aware) as an :data:`Instant` (the DST fold respected)."""
    return (moment - _EPOCH) // _TICK


# ------------------------------------------------------------ the period


def _end(period: Period) -> datetime:
    if not isinstance(period, Period):
        raise ValidationError("period must be a Period", field="period")
    if period.end is None:
        raise ValidationError("a reporting period needs an end", field="period.end")
    return period.end


def _bounds(period: Period) -> tuple[Instant, Instant]:
    """``(start, end)`` of a reporting period as instants (it needs an end)."""
    end = _end(period)
    return _micros(period.start), _micros(end)


def _cutoff(period: Period, as_of: datetime | None) -> datetime:
    end = _end(period)
    if as_of is None:
        return instant(end)
    return min(instant(end), instant(ensure_aware(as_of, "as_of")))


def _cutoff_us(period: Period, as_of: datetime | None) -> Instant:
    """``min(end, as_of)`` as an instant: work due at or after it is not late yet."""
    return _micros(_cutoff(period, as_of))


def _day_start(day: date, tz: tzinfo | None) -> datetime:
    if isinstance(tz, ZoneInfo):
        return localize(datetime.combine(day, time.min), tz)
    return datetime.combine(day, time.min, tz)


_LAST_DAY = date.max.toordinal()
_AFTER_ALL = _micros(datetime.max.replace(tzinfo=UTC)) + 1
"""After every representable instant: when the day after ``date.max`` starts."""


def _day_start_us(day: int, tz: tzinfo | None, cache: dict[int, Instant]) -> Instant:
    """When the day with proleptic ordinal ``day`` starts in ``tz`` (memoised in ``cache``)."""
    known = cache.get(day)
    if known is None:
        start = _AFTER_ALL if day > _LAST_DAY else _micros(_day_start(date.fromordinal(day), tz))
        known = cache[day] = start
    return known


def _days_us(start: Instant, end: Instant) -> float:
    """Days from ``start`` to ``end`` (the same float as dividing the timedeltas)."""
    return (end - start) / DAY_US


def _step_value_at(initial: V, steps: Iterable[Sequence[Any]], moment: Instant) -> V:
    """The value at ``moment`` of a fact history: ``initial``, then each ``(at, value)``
    step at or before ``moment``, in recorded order (the last one applied wins)."""
    value = initial
    for at, after in steps:
        if at <= moment:
            value = after
    return value


# ------------------------------------------------------- record histories


def _initial(current: S, history: Sequence[Transition[Any]]) -> S:
    first: S = history[0].from_status if history else current
    return first


def _status_at(current: S, history: Sequence[Transition[Any]], moment: datetime) -> S:
    """The status at ``moment`` (transitions at or before it applied)."""
    status = _initial(current, history)
    for step in history:
        if instant(step.at) <= instant(moment):
            status = step.to_status
    return status


def _reached_at(
    current: S, history: Sequence[Transition[Any]], status: S, created_at: datetime
) -> datetime | None:
    """When ``status`` was first entered (``created_at`` if the record started in it)."""
    if _initial(current, history) == status:
        return created_at
    times = [step.at for step in history if step.to_status == status]
    return min(times, key=instant) if times else None
