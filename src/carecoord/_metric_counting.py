"""The counting rules shared by the quality metrics of :mod:`carecoord.metrics`.

When an instant or a calendar date is in a reporting period, the ``as_of``
cutoff, the status a record had at a moment (from its transition history),
when it first reached a status, and which records are left out as entered
in error. Pure: imports only the model.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from .model import CarePlan, CarePlanStatus, Period, Transition, ValidationError, localize
from .model._base import ensure_aware, instant

__all__ = [
    "_DAY",
    "_TICK",
    "_cutoff",
    "_day_start",
    "_days",
    "_end",
    "_in",
    "_initial",
    "_live_plans",
    "_reached_at",
    "_status_at",
]

S = TypeVar("S")

_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)


def _end(period: Period) -> datetime:
    if not isinstance(period, Period):
        raise ValidationError("period must be a Period", field="period")
    if period.end is None:
        raise ValidationError("a reporting period needs an end", field="period.end")
    return period.end


def _cutoff(period: Period, as_of: datetime | None) -> datetime:
    end = _end(period)
    if as_of is None:
        return instant(end)
    return min(instant(end), instant(ensure_aware(as_of, "as_of")))


def _in(moment: datetime | None, period: Period) -> bool:
    if moment is None:
        return False
    return instant(period.start) <= instant(moment) < instant(_end(period))


def _day_start(day: date, tz: tzinfo | None) -> datetime:
    if isinstance(tz, ZoneInfo):
        return localize(datetime.combine(day, time.min), tz)
    return datetime.combine(day, time.min, tz)


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


def _days(start: datetime, end: datetime) -> float:
    return (instant(end) - instant(start)) / _DAY


def _live_plans(plans: Iterable[CarePlan]) -> list[CarePlan]:
    return [p for p in plans if p.status is not CarePlanStatus.ENTERED_IN_ERROR]
