"""Patient flow rules: the local day, the board, the stuck list, waiting-time metrics.

Every duration is taken between instants (UTC), so a visit over a
daylight-saving change waits as long as it really did; days are local days of
the clinic's zone (23 or 25 hours long on change days).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..metrics import Metric, MetricKind
from ..model import Period, ValidationError, localize
from ..model._base import ensure_aware, instant
from ..model.clinic import IN_CLINIC, Clinic, Visit, VisitFacts, VisitState
from ._views import BoardEntry, VisitSnapshot

__all__ = [
    "WAIT_INTERVALS",
    "board_entry",
    "day_bounds",
    "snapshot_of",
    "stuck_entries",
    "wait_metrics",
]

_V = VisitState


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Local midnight of ``day`` and of the next day in ``zone`` (aware, on that zone)."""
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValidationError("day must be a date", field="day")
    start = localize(datetime.combine(day, time()), zone)
    end = localize(datetime.combine(day + timedelta(days=1), time()), zone)
    return start, end


def snapshot_of(visit: Visit) -> VisitSnapshot:
    """A visit as its index row has it (for hosts and tests that hold the record)."""
    return VisitSnapshot(
        visit_id=visit.id,
        patient_id=visit.patient_id,
        clinic_id=visit.clinic_id,
        state=visit.state,
        scheduled_start=visit.scheduled_start,
        since=visit.since,
        facts=VisitFacts.of(visit),
    )


def _waiting(snap: VisitSnapshot, now: datetime) -> timedelta | None:
    if snap.state in IN_CLINIC:
        return instant(now) - instant(snap.since)
    if snap.state is _V.BOOKED and instant(now) > instant(snap.scheduled_start):
        return instant(now) - instant(snap.scheduled_start)
    return None


def board_entry(
    snap: VisitSnapshot, clinic: Clinic, now: datetime, *, show_patient: bool = True
) -> BoardEntry:
    """The board line of ``snap`` as of ``now``, times on the clinic's zone."""
    zone = ZoneInfo(clinic.time_zone)
    waiting = _waiting(snap, ensure_aware(now, "now"))
    minutes = clinic.limit(snap.state)
    limit = None if minutes is None else timedelta(minutes=minutes)
    facts = snap.facts
    arrived = facts.arrived_at
    return BoardEntry(
        visit_id=snap.visit_id,
        patient_id=snap.patient_id if show_patient else None,
        state=snap.state,
        scheduled_start=snap.scheduled_start.astimezone(zone),
        since=snap.since.astimezone(zone),
        location_id=facts.location_id,
        room=facts.room,
        provider_id=facts.provider_id,
        appointment_id=facts.appointment_id,
        arrived_at=None if arrived is None else arrived.astimezone(zone),
        waiting=waiting,
        limit=limit,
        stuck=waiting is not None and limit is not None and waiting > limit,
    )


def stuck_entries(entries: Iterable[BoardEntry]) -> list[BoardEntry]:
    """The stuck entries, the longest over their limit first."""
    found = [e for e in entries if e.stuck]
    return sorted(found, key=lambda e: (-(e.waiting - e.limit), e.visit_id))  # type: ignore[operator]


WAIT_INTERVALS: tuple[tuple[str, str, str, str], ...] = (
    ("wait_arrival_to_roomed", "arrival", "roomed", "arrival (or check-in) to roomed"),
    ("wait_roomed_to_provider", "roomed", "with-provider", "roomed to with the provider"),
    ("visit_arrival_to_checkout", "arrival", "checked-out", "arrival (or check-in) to checkout"),
)
"""The waiting times: metric name, from, to, and what it measures."""


def _time(facts: VisitFacts, name: str) -> datetime | None:
    return facts.arrived_at if name == "arrival" else facts.at(VisitState(name))


def _in(period: Period, moment: datetime) -> bool:
    assert period.end is not None
    return instant(period.start) <= instant(moment) < instant(period.end)


def wait_metrics(visits: Sequence[VisitSnapshot], period: Period) -> tuple[Metric, ...]:
    """Waiting times and flow rates of the visits scheduled in ``period``.

    A visit counts in the period when its scheduled start (a walk-in's:
    its arrival) is in ``[start, end)``. For each of :data:`WAIT_INTERVALS`:
    a mean (numerator: the minutes summed; denominator: the visits that
    reached both ends) and a median (denominator: those visits). Then
    ``left_without_being_seen_rate`` (numerator: visits that left without
    being seen; denominator: visits that arrived) and ``no_show_rate``
    (numerator: no-shows; denominator: no-shows and visits that arrived, so
    neither cancelled ones nor those not due yet).
    """
    if not isinstance(period, Period) or period.end is None:
        raise ValidationError("a reporting period needs an end", field="period")
    mine = [v for v in visits if _in(period, v.scheduled_start)]
    metrics: list[Metric] = []
    for name, start, end, what in WAIT_INTERVALS:
        minutes: list[float] = []
        for visit in mine:
            a, b = _time(visit.facts, start), _time(visit.facts, end)
            if a is not None and b is not None:
                minutes.append((instant(b) - instant(a)) / timedelta(minutes=1))
        total = sum(minutes)
        metrics.append(
            Metric(
                name=name,
                kind=MetricKind.MEAN,
                period=period,
                numerator=total,
                denominator=len(minutes),
                value=total / len(minutes) if minutes else None,
                unit="minutes",
                definition=f"Mean minutes from {what}, of the visits scheduled in the period "
                "that reached both",
            )
        )
        metrics.append(
            Metric(
                name=f"{name}_median",
                kind=MetricKind.MEDIAN,
                period=period,
                numerator=None,
                denominator=len(minutes),
                value=statistics.median(minutes) if minutes else None,
                unit="minutes",
                definition=f"Median minutes from {what}, of the visits scheduled in the period "
                "that reached both",
            )
        )
    arrived = [v for v in mine if v.facts.arrived_at is not None]
    left = sum(1 for v in arrived if v.state is _V.LEFT_WITHOUT_BEING_SEEN)
    metrics.append(_rate("left_without_being_seen_rate", left, len(arrived), period, "arrived"))
    no_show = sum(1 for v in mine if v.state is _V.NO_SHOW)
    metrics.append(
        _rate("no_show_rate", no_show, no_show + len(arrived), period, "arrived or did not come")
    )
    return tuple(metrics)


def _rate(name: str, numerator: int, denominator: int, period: Period, of: str) -> Metric:
    what = "left without being seen" if name.startswith("left") else "did not come"
    return Metric(
        name=name,
        kind=MetricKind.RATE,
        period=period,
        numerator=numerator,
        denominator=denominator,
        value=numerator / denominator if denominator else None,
        unit="fraction",
        definition=f"Visits that {what}, of the visits scheduled in the period that {of}",
    )
