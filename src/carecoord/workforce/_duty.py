"""Duty, rota gaps, and shifts and slots from patterns (see :mod:`carecoord.workforce`)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

import attrs

from ..model import Cadence, CareTeamRole, StaffId, ValidationError, localize
from ..model._base import ensure_aware, instant
from ..model.scheduling import Schedule, SessionPattern, Slot, SlotId
from ..model.workforce import (
    LocationId,
    Shift,
    ShiftId,
    ShiftKind,
    ShiftPattern,
    TimeOff,
    derived_id,
)

__all__ = [
    "Absence",
    "CoverageGap",
    "DutySpan",
    "absence_of",
    "coverage_gaps",
    "is_on_duty",
    "on_duty",
    "shifts_from_pattern",
    "slots_from_schedule",
    "span_of",
]

_MAX_OCCURRENCES = 50_000
"""A window asking for more shifts or sessions than this is refused (a typo in a year)."""


# ------------------------------------------------------------------ duty


@attrs.frozen
class DutySpan:
    """A standing shift as the duty rules read it: who, what, where, when."""

    staff_id: StaffId
    shift_id: ShiftId
    role: CareTeamRole
    location_id: LocationId
    kind: ShiftKind
    start: datetime
    end: datetime

    def covers(self, moment: datetime) -> bool:
        """Whether ``moment`` lies in ``[start, end)``."""
        now = instant(moment)
        return instant(self.start) <= now < instant(self.end)


@attrs.frozen
class Absence:
    """Time off as the duty rules read it: ``staff_id`` is off duty in ``[start, end)``."""

    staff_id: StaffId
    start: datetime
    end: datetime

    def covers(self, moment: datetime) -> bool:
        """Whether ``moment`` lies in ``[start, end)``."""
        now = instant(moment)
        return instant(self.start) <= now < instant(self.end)


def span_of(shift: Shift) -> DutySpan | None:
    """The duty span of a shift, ``None`` when it is cancelled."""
    if not shift.is_planned:
        return None
    return DutySpan(
        shift.staff_id,
        shift.id,
        shift.role,
        shift.location_id,
        shift.kind,
        shift.start,
        shift.end,
    )


def absence_of(time_off: TimeOff) -> Absence | None:
    """The absence of a time off, ``None`` when it is cancelled."""
    if time_off.cancelled:
        return None
    return Absence(time_off.staff_id, time_off.start, time_off.end)


def on_duty(
    spans: Iterable[DutySpan],
    absences: Iterable[Absence],
    moment: datetime,
    *,
    role: CareTeamRole | None = None,
    location_id: LocationId | None = None,
    kind: ShiftKind | None = None,
) -> list[DutySpan]:
    """The spans covering ``moment`` (of ``role``, ``location_id``, ``kind`` when given)
    whose staff member is not on time off then, ordered by staff id then shift id."""
    ensure_aware(moment, "moment")
    away = {a.staff_id for a in absences if a.covers(moment)}
    found = [
        s
        for s in spans
        if s.covers(moment)
        and s.staff_id not in away
        and (role is None or s.role is role)
        and (location_id is None or s.location_id == location_id)
        and (kind is None or s.kind is kind)
    ]
    return sorted(found, key=lambda s: (s.staff_id, s.shift_id))


def is_on_duty(
    staff_id: StaffId, spans: Iterable[DutySpan], absences: Iterable[Absence], moment: datetime
) -> bool:
    """Whether ``staff_id`` holds a span covering ``moment`` and is not on time off then."""
    mine = [s for s in spans if s.staff_id == staff_id]
    return bool(on_duty(mine, [a for a in absences if a.staff_id == staff_id], moment))


@attrs.frozen
class CoverageGap:
    """A stretch ``[start, end)`` staffed by fewer than ``needed``; ``staffed`` is the fewest
    on duty at any instant of it."""

    start: datetime
    end: datetime
    staffed: int
    needed: int

    @property
    def length(self) -> timedelta:
        """How long the gap lasts (real time)."""
        return instant(self.end) - instant(self.start)


def _minus(start: datetime, end: datetime, holes: list[Absence]) -> list[tuple[datetime, datetime]]:
    """``[start, end)`` without the instants ``holes`` cover (UTC pieces, in order)."""
    pieces = [(instant(start), instant(end))]
    for hole in holes:
        lo, hi = instant(hole.start), instant(hole.end)
        cut: list[tuple[datetime, datetime]] = []
        for a, b in pieces:
            if hi <= a or b <= lo:
                cut.append((a, b))
                continue
            if a < lo:
                cut.append((a, lo))
            if hi < b:
                cut.append((hi, b))
        pieces = cut
    return pieces


def coverage_gaps(
    spans: Iterable[DutySpan],
    absences: Iterable[Absence],
    start: datetime,
    end: datetime,
    *,
    minimum: int = 1,
) -> list[CoverageGap]:
    """The stretches of ``[start, end)`` with fewer than ``minimum`` spans on duty.

    A span counts while its staff member is not on time off. The result is in
    UTC, in order, each gap as long as possible (adjacent short-staffed
    stretches merge).
    """
    lo, hi = instant(ensure_aware(start, "start")), instant(ensure_aware(end, "end"))
    if minimum < 1:
        raise ValidationError("minimum must be at least 1", field="minimum")
    if hi <= lo:
        return []
    by_staff: dict[StaffId, list[Absence]] = {}
    for absence in absences:
        by_staff.setdefault(absence.staff_id, []).append(absence)
    changes: dict[datetime, int] = {}
    for span in spans:
        for a, b in _minus(span.start, span.end, by_staff.get(span.staff_id, [])):
            a, b = max(a, lo), min(b, hi)
            if a < b:
                changes[a] = changes.get(a, 0) + 1
                changes[b] = changes.get(b, 0) - 1
    gaps: list[CoverageGap] = []
    points = sorted({*changes, lo, hi})
    count = 0
    for point, following in itertools.pairwise(points):
        count += changes.get(point, 0)
        if count >= minimum:
            continue
        if gaps and gaps[-1].end == point:
            gaps[-1] = attrs.evolve(gaps[-1], end=following, staffed=min(gaps[-1].staffed, count))
        else:
            gaps.append(CoverageGap(point, following, count, minimum))
    return gaps


# -------------------------------------------------------------- patterns


def _local_end(begin: datetime, ends: time) -> datetime:
    """The first wall time ``ends`` after ``begin`` on ``begin``'s zone (the next day when
    ``ends`` is not later than ``begin``'s time of day), by the cadence's DST rule."""
    zone = begin.tzinfo
    local = begin.replace(tzinfo=None)
    day = local.date()
    if ends <= local.time():
        day += timedelta(days=1)
    return localize(datetime.combine(day, ends), zone)  # type: ignore[arg-type]


def _occurrences(cadence_between: Iterable[datetime]) -> list[datetime]:
    found: list[datetime] = []
    for when in cadence_between:
        found.append(when)
        if len(found) > _MAX_OCCURRENCES:
            raise ValidationError(
                f"the window holds more than {_MAX_OCCURRENCES} occurrences", field="end"
            )
    return found


def _from_anchor(cadence: Cadence, start: datetime) -> datetime:
    """``start``, or the cadence's anchor when that is later: a pattern begins at its anchor."""
    ensure_aware(start, "start")
    return max(start, cadence.anchor, key=instant)


def shifts_from_pattern(pattern: ShiftPattern, start: datetime, end: datetime) -> list[Shift]:
    """The shifts of ``pattern`` starting in ``[start, end)``, in order.

    Each one starts at an occurrence of the pattern's cadence (from its anchor
    on: a pattern makes nothing before its anchor) and ends at the
    pattern's wall time ``ends`` (see :class:`~carecoord.model.workforce.ShiftPattern`);
    its id is derived from the pattern's id and its start, so the same window
    always gives the same shifts.
    """
    shifts = []
    for begin in _occurrences(pattern.cadence.between(_from_anchor(pattern.cadence, start), end)):
        shifts.append(
            Shift(
                id=ShiftId(derived_id(pattern.id, begin)),
                staff_id=pattern.staff_id,
                role=pattern.role,
                location_id=pattern.location_id,
                start=begin,
                end=_local_end(begin, pattern.ends),
                kind=pattern.kind,
                rota_id=pattern.rota_id,
            )
        )
    return shifts


def _session_slots(schedule: Schedule, session: SessionPattern, begin: datetime) -> list[Slot]:
    zone = begin.tzinfo
    local = begin.replace(tzinfo=None)
    closes = localize(datetime.combine(local.date(), session.ends), zone)  # type: ignore[arg-type]
    step = timedelta(minutes=session.slot_minutes)
    slots = []
    at = instant(begin)
    while at + step <= instant(closes):
        when = at.astimezone(zone)
        slots.append(
            Slot(
                id=SlotId(derived_id(schedule.id, when)),
                schedule_id=schedule.id,
                provider_id=schedule.provider_id,
                location_id=schedule.location_id,
                start=when,
                end=(at + step).astimezone(zone),
            )
        )
        at += step
    return slots


def slots_from_schedule(schedule: Schedule, start: datetime, end: datetime) -> list[Slot]:
    """The free slots of ``schedule`` starting in ``[start, end)``, in order of start.

    Every session (an occurrence of a session pattern's cadence, from its
    anchor up to its ``until`` date) is cut into back-to-back slots of ``slot_minutes``, real
    time; slots that would start at the same instant (overlapping patterns)
    are made once. An inactive schedule has none.
    """
    ensure_aware(start, "start")
    ensure_aware(end, "end")
    if not schedule.active:
        return []
    found: dict[SlotId, Slot] = {}
    for session in schedule.sessions:
        last: date | None = session.until
        for begin in _occurrences(
            session.cadence.between(_from_anchor(session.cadence, start), end)
        ):
            if last is not None and begin.date() > last:
                break
            for slot in _session_slots(schedule, session, begin):
                if instant(start) <= instant(slot.start) < instant(end):
                    found.setdefault(slot.id, slot)
    return sorted(found.values(), key=lambda s: instant(s.start))
