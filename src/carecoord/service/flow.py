"""Patient-flow use cases: clinics, visits through the day, the board, stuck list, waits.

A visit moves with :func:`move_visit` (``manage-appointments`` on the
patient); its appointment follows where FHIR appointment-status has a state
for it (arrived, checked in, fulfilled at checkout, no-show, cancelled), in
the same unit of work. The board, the stuck list and the waiting times are
read from the ``visit`` index rows of one clinic (a due range of one day or
period, or the open rows of the patients in the building): their cost does not
grow with the store.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs

from .. import events as ev
from ..access import Permission
from ..clinic import (
    BoardEntry,
    DayBoard,
    VisitSnapshot,
    board_entry,
    day_bounds,
    stuck_entries,
    wait_metrics,
)
from ..metrics import MetricReport
from ..model import (
    APPOINTMENT_MACHINE,
    Appointment,
    AppointmentStatus,
    ConflictError,
    Patient,
    Period,
    StaffId,
    ValidationError,
)
from ..model._base import ensure_aware, instant
from ..model.audit import AuditAction, PurposeOfUse
from ..model.clinic import Clinic, ClinicId, RoomId, Visit, VisitId, VisitState
from ..model.workforce import LocationId
from ..storage.port import WorkQuery
from . import _access
from ._clinic_access import (
    check_window,
    clinic_access,
    get_clinic,
    local_today,
    registered,
    snapshot,
)
from ._util import check, code
from .runner import Context, operation

__all__ = [
    "clinic",
    "day_board",
    "move_visit",
    "open_visit",
    "save_clinic",
    "stuck_visits",
    "visit",
    "wait_times",
]

_V = VisitState
_A = AppointmentStatus
_FOLLOW = {
    _V.ARRIVED: _A.ARRIVED,
    _V.CHECKED_IN: _A.CHECKED_IN,
    _V.CHECKED_OUT: _A.FULFILLED,
    _V.NO_SHOW: _A.NOSHOW,
    _V.CANCELLED: _A.CANCELLED,
}
"""The appointment status a visit state moves its appointment to, where the move is legal."""
_LATE_WINDOW = timedelta(days=1)
"""How far back the stuck list looks for booked patients who did not come."""


@operation(AuditAction.UPDATE)
def save_clinic(ctx: Context, clinic: Clinic) -> Clinic:
    """Create a clinic (staff-wide ``manage-staff``) or replace it (its lead or
    ``manage-staff``); a copy read earlier that is stale raises ConflictError. The lead
    and the inventory owners must be registered staff."""
    check(clinic, Clinic)
    uow = ctx.uow
    stored = uow.find(Clinic, clinic.id)
    entity = f"Clinic/{clinic.id}"
    if stored is not None and stored.lead_id == ctx.actor_id:
        ctx.grant(PurposeOfUse.HOPERAT, entity=entity)
    else:
        ctx.allow_staff(Permission.MANAGE_STAFF, entity=entity)
    registered(uow, clinic.lead_id, "lead")
    for place in clinic.locations:
        if place.inventory_owner_id is not None:
            registered(uow, place.inventory_owner_id, "inventory owner")
    if stored is None:
        if clinic.revision:
            raise ConflictError("Clinic", str(clinic.id), clinic.revision)
        ctx.action = AuditAction.CREATE
        uow.add(clinic)
        return attrs.evolve(clinic, revision=1)
    current = uow.version_of(Clinic, clinic.id)
    if clinic.revision != current:
        raise ConflictError("Clinic", str(clinic.id), clinic.revision)
    uow.save(clinic)
    return attrs.evolve(clinic, revision=current + 1)


@operation(AuditAction.READ)
def clinic(ctx: Context, clinic_id: ClinicId) -> Clinic:
    """Read a clinic (no patient data: shared with every active staff member)."""
    ctx.grant(PurposeOfUse.HOPERAT, entity=f"Clinic/{clinic_id}")
    return get_clinic(ctx.uow, clinic_id)


def _follow(ctx: Context, visit: Visit, at: datetime, reason: str | None) -> None:
    """Move the visit's appointment along with it, where appointment-status allows."""
    target = _FOLLOW.get(visit.state)
    if visit.appointment_id is None or target is None:
        return
    found = ctx.uow.find(Appointment, visit.appointment_id)
    if found is None or not APPOINTMENT_MACHINE.can(found.status, target):
        return
    moved = found.transition(target, by=ctx.actor_id, at=at, reason=reason)
    ctx.uow.save(moved)
    ctx.emit(
        ev.AppointmentStatusChanged(
            **ctx.common(found.patient_id),
            appointment_id=str(found.id),
            from_status=found.status.value,
            to_status=moved.status.value,
        )
    )


def _not_future(ctx: Context, moment: datetime, what: str) -> datetime:
    ensure_aware(moment, what)
    if instant(moment) > instant(ctx.now):
        raise ValidationError(f"{what} must not be in the future", field=what)
    return moment


@operation(AuditAction.CREATE)
def open_visit(ctx: Context, visit: Visit) -> Visit:
    """Put a visit on the clinic's board: booked, or arrived (a walk-in).

    Needs ``manage-appointments`` on the patient. The visit is stamped as
    opened by the actor; ``opened_at`` (when it was put on the board, a walk-in's
    arrival) must not be in the future. A linked appointment must be the
    patient's and start at the visit's scheduled start.
    """
    check(visit, Visit)
    uow = ctx.uow
    ctx.allow(visit.patient_id, Permission.MANAGE_APPOINTMENTS, f"Visit/{visit.id}")
    uow.get(Patient, visit.patient_id)
    place = get_clinic(uow, visit.clinic_id)
    if not place.active:
        raise ValidationError("the clinic is not active", field="clinic_id")
    place.location(visit.location_id)
    if visit.history:
        raise ValidationError("a new visit has no moves yet", field="history")
    _not_future(ctx, visit.opened_at, "opened_at")
    if visit.provider_id is not None:
        registered(uow, visit.provider_id, "provider")
    if visit.appointment_id is not None:
        booked = uow.get(Appointment, visit.appointment_id)
        if booked.patient_id != visit.patient_id:
            raise ValidationError("the visit's appointment belongs to another patient")
        if instant(booked.start) != instant(visit.scheduled_start):
            raise ValidationError(
                "the visit starts when its appointment does", field="scheduled_start"
            )
    opened = attrs.evolve(visit, opened_by=ctx.actor_id)
    uow.add(opened)
    _follow(ctx, opened, opened.opened_at, None)
    ctx.emit(
        ev.VisitStateChanged(
            **ctx.common(opened.patient_id),
            visit_id=str(opened.id),
            clinic_id=str(opened.clinic_id),
            from_state="",
            to_state=opened.state.value,
            owner_id=None if opened.provider_id is None else str(opened.provider_id),
        )
    )
    return opened


@operation(AuditAction.UPDATE)
def move_visit(
    ctx: Context,
    visit_id: VisitId,
    to: VisitState | str,
    at: datetime | None = None,
    room: RoomId | None = None,
    provider_id: StaffId | None = None,
    reason: str | None = None,
) -> Visit:
    """Move a visit to ``to`` at ``at`` (default now; not in the future, not before its last
    move), naming the ``room`` when rooming and the ``provider_id`` who sees the patient.
    Needs ``manage-appointments`` on the patient; a cancellation needs a ``reason``."""
    state = code(VisitState, to, "state")
    when = ctx.now if at is None else _not_future(ctx, at, "at")
    old = ctx.load(Visit, visit_id, Permission.MANAGE_APPOINTMENTS)
    if provider_id is not None:
        registered(ctx.uow, provider_id, "provider")
    new = old.moved(
        state, by=ctx.actor_id, at=when, reason=reason, room=room, provider_id=provider_id
    )
    ctx.uow.save(new)
    _follow(ctx, new, when, reason)
    ctx.emit(
        ev.VisitStateChanged(
            **ctx.common(new.patient_id),
            visit_id=str(new.id),
            clinic_id=str(new.clinic_id),
            from_state=old.state.value,
            to_state=new.state.value,
            owner_id=None if new.provider_id is None else str(new.provider_id),
        )
    )
    return new


@operation(AuditAction.READ)
def visit(ctx: Context, visit_id: VisitId) -> Visit:
    """Read a visit, with its moves (who and when)."""
    return ctx.load(Visit, visit_id, Permission.READ)


def _entries(
    ctx: Context, place: Clinic, snaps: list[VisitSnapshot], location_id: LocationId | None
) -> tuple[list[BoardEntry], int]:
    if location_id is not None:
        place.location(location_id)
        snaps = [s for s in snaps if s.facts.location_id == location_id]
    can_read = _access.readable(ctx)
    can_read.prefetch(str(s.patient_id) for s in snaps)
    entries = [
        board_entry(s, place, ctx.now, show_patient=can_read(str(s.patient_id))) for s in snaps
    ]
    return entries, sum(1 for e in entries if e.patient_id is None)


@operation(AuditAction.READ)
def day_board(
    ctx: Context,
    clinic_id: ClinicId,
    day: date | None = None,
    location_id: LocationId | None = None,
) -> DayBoard:
    """The board of a clinic (or one of its locations) for a local day (default today, on
    the clinic's zone): every visit scheduled that day, in order of scheduled start."""
    place = get_clinic(ctx.uow, clinic_id)
    clinic_access(ctx, place)
    zone = ZoneInfo(place.time_zone)
    wanted = local_today(place, ctx.now) if day is None else day
    start, end = day_bounds(wanted, zone)
    query = WorkQuery(
        category="visit",
        owner_ids=(str(place.id),),
        open_only=False,
        due_from=start,
        due_before=end,
    )
    snaps = [snapshot(hit) for hit in ctx.uow.query(query)]
    snaps.sort(key=lambda s: (instant(s.scheduled_start), s.visit_id))
    entries, hidden = _entries(ctx, place, snaps, location_id)
    return DayBoard(
        clinic_id=place.id,
        location_id=location_id,
        day=wanted,
        time_zone=place.time_zone,
        start=start,
        end=end,
        as_of=ctx.now.astimezone(zone),
        entries=tuple(entries),
        hidden=hidden,
    )


@operation(AuditAction.READ)
def stuck_visits(
    ctx: Context, clinic_id: ClinicId, location_id: LocationId | None = None
) -> list[BoardEntry]:
    """The workflow-issue worklist: visits waiting longer than the clinic's limit for their
    state (patients in the building; booked ones not come within a day, when booked has a
    limit), longest over first. From the clinic's open rows and one due range."""
    place = get_clinic(ctx.uow, clinic_id)
    clinic_access(ctx, place)
    owner = (str(place.id),)
    hits = list(ctx.uow.query(WorkQuery(category="visit", owner_ids=owner)))
    late = place.limit(VisitState.BOOKED)
    if late is not None:
        hits += ctx.uow.query(
            WorkQuery(
                category="visit",
                owner_ids=owner,
                statuses=(VisitState.BOOKED.value,),
                open_only=False,
                due_from=ctx.now - _LATE_WINDOW,
                due_before=ctx.now - timedelta(minutes=late),
            )
        )
    entries, _ = _entries(ctx, place, [snapshot(h) for h in hits], location_id)
    return stuck_entries(entries)


@operation(AuditAction.READ)
def wait_times(ctx: Context, clinic_id: ClinicId, start: datetime, end: datetime) -> MetricReport:
    """Waiting-time metrics of the visits scheduled in ``[start, end)`` at a clinic (see
    :func:`~carecoord.clinic.wait_metrics`): the clinic's staff, or ``view-metrics``."""
    check_window(start, end)
    place = get_clinic(ctx.uow, clinic_id)
    clinic_access(ctx, place, Permission.VIEW_METRICS)
    query = WorkQuery(
        category="visit",
        owner_ids=(str(place.id),),
        open_only=False,
        due_from=start,
        due_before=end,
    )
    snaps = [snapshot(hit) for hit in ctx.uow.query(query)]
    period = Period(start=start, end=end)
    return MetricReport(period=period, metrics=wait_metrics(snaps, period))
