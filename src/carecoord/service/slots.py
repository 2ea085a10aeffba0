"""Schedule and slot use cases: provider schedules, publishing slots, booking, calendars.

Booking takes a free slot: the slot (its own record) becomes busy and the
appointment is created, in one unit of work. Two people booking the same
slot at once both read it free and both write it against the version they
read; the store accepts one batch and refuses the other whole (nothing of it
is written), the runner runs the loser again on fresh data, and it finds the
slot busy: :class:`~carecoord.model.workforce.SlotTakenError`. Cancelling the
booking cancels the appointment and frees the slot, again in one unit.

Calendars and free slots are read from the ``slot`` and ``slot-location``
index rows (one due range each) and shared with every active staff member;
a booked patient's id is shown only to those who may read the patient.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import attrs

from .. import events as ev
from ..access import Permission
from ..model import (
    Appointment,
    AppointmentId,
    AppointmentStatus,
    NotFoundError,
    PatientId,
    Referral,
    StaffId,
    ValidationError,
    localize,
)
from ..model._base import ensure_aware, instant
from ..model._errors import SlotTakenError
from ..model.audit import AuditAction, PurposeOfUse
from ..model.scheduling import Schedule, ScheduleId, Slot, SlotId, SlotStatus
from ..model.workforce import LocationId
from ..storage.port import IndexHit, WorkQuery
from ..workforce import CalendarEntry, slots_from_schedule
from . import _access
from ._staffing import registered
from ._util import announce_booking, check
from .runner import Context, operation

__all__ = [
    "book_slot",
    "calendar",
    "cancel_booking",
    "day_calendar",
    "free_slot_of",
    "free_slots",
    "publish_slots",
    "save_schedule",
]

_MAX_PUBLISH = timedelta(days=400)


def _window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    ensure_aware(start, "start")
    ensure_aware(end, "end")
    if instant(end) <= instant(start):
        raise ValidationError("end must be after start", field="end")
    return start, end


@operation(AuditAction.UPDATE)
def save_schedule(ctx: Context, schedule: Schedule) -> Schedule:
    """Create or replace a provider's schedule: the provider, their leads and supervisors,
    or ``manage-staff``. Slots already published are not changed."""
    check(schedule, Schedule)
    _access.self_or_report(ctx, schedule.provider_id, Permission.MANAGE_STAFF)
    ctx.entity = f"Schedule/{schedule.id}"
    registered(ctx.uow, schedule.provider_id, "provider")
    if ctx.uow.find(Schedule, schedule.id) is None:
        ctx.action = AuditAction.CREATE
        ctx.uow.add(schedule)
    else:
        ctx.uow.save(schedule)
    return schedule


def _slot_query(
    category: str, owner: str, start: datetime, end: datetime, *, free_only: bool
) -> WorkQuery:
    return WorkQuery(
        category=category,
        owner_ids=(owner,),
        open_only=free_only,
        due_from=start,
        due_before=end,
    )


@operation(AuditAction.CREATE)
def publish_slots(
    ctx: Context, schedule_id: ScheduleId, start: datetime, end: datetime
) -> list[Slot]:
    """Store the slots of a schedule starting in ``[start, end)`` (at most 400 days); returns
    the new ones. Slots published before (same id) are kept as they are, booked or not."""
    lo, hi = _window(start, end)
    if instant(hi) - instant(lo) > _MAX_PUBLISH:
        raise ValidationError("publish at most 400 days at once", field="end")
    schedule = ctx.uow.find(Schedule, schedule_id)
    if schedule is None:
        raise NotFoundError(f"schedule {schedule_id} not found")
    _access.self_or_report(ctx, schedule.provider_id, Permission.MANAGE_STAFF)
    ctx.entity = f"Schedule/{schedule.id}"
    query = _slot_query("slot", str(schedule.provider_id), lo, hi, free_only=False)
    known = {hit.record_id for hit in ctx.uow.query(query)}
    made = [s for s in slots_from_schedule(schedule, lo, hi) if s.id not in known]
    for slot in made:
        ctx.uow.add(slot)
    return made


def _entries(ctx: Context, hits: list[IndexHit], by_location: bool) -> list[CalendarEntry]:
    can_read = _access.readable(ctx)
    entries = []
    for hit in hits:
        row = hit.row
        other, schedule, appointment = ((row.detail or "") + "||").split("|")[:3]
        if row.due_at is None or row.changed_at is None or row.owner_id is None:
            continue
        patient = row.patient_id
        entries.append(
            CalendarEntry(
                slot_id=SlotId(row.item_id),
                schedule_id=ScheduleId(schedule),
                provider_id=StaffId(other if by_location else row.owner_id),
                location_id=LocationId(row.owner_id if by_location else other),
                start=row.due_at,
                end=row.changed_at,
                status=SlotStatus(row.status),
                appointment_id=AppointmentId(appointment) if appointment else None,
                patient_id=PatientId(patient) if patient and can_read(patient) else None,
            )
        )
    return sorted(entries, key=lambda e: (instant(e.start), e.slot_id))


@operation(AuditAction.READ)
def calendar(
    ctx: Context,
    start: datetime,
    end: datetime,
    provider_id: StaffId | None = None,
    location_id: LocationId | None = None,
    free_only: bool = False,
) -> list[CalendarEntry]:
    """The slots of a provider, or of a location, starting in ``[start, end)``, in order.

    Exactly one of ``provider_id`` and ``location_id``; ``free_only`` keeps
    the free slots. Shared with every active staff member.
    """
    lo, hi = _window(start, end)
    if (provider_id is None) == (location_id is None):
        raise ValidationError("name either a provider or a location", field="provider_id")
    ctx.grant(PurposeOfUse.HOPERAT, entity="Slot")
    if provider_id is not None:
        query = _slot_query("slot", str(provider_id), lo, hi, free_only=free_only)
        return _entries(ctx, list(ctx.uow.query(query)), by_location=False)
    query = _slot_query("slot-location", str(location_id), lo, hi, free_only=free_only)
    return _entries(ctx, list(ctx.uow.query(query)), by_location=True)


@operation(AuditAction.READ)
def free_slots(
    ctx: Context, provider_id: StaffId, start: datetime, end: datetime
) -> list[CalendarEntry]:
    """The free slots of ``provider_id`` starting in ``[start, end)`` (one index range)."""
    return calendar.handler(ctx, start, end, provider_id=provider_id, free_only=True)


@operation(AuditAction.READ)
def day_calendar(
    ctx: Context,
    day: date,
    provider_id: StaffId | None = None,
    location_id: LocationId | None = None,
    time_zone: str | None = None,
) -> list[CalendarEntry]:
    """The day's calendar of a provider or a location: every slot starting on ``day``
    (local midnight to midnight in ``time_zone``, default the actor's zone)."""
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValidationError("day must be a date", field="day")
    try:
        zone = ZoneInfo(time_zone or ctx.actor.time_zone)
    except (ValueError, OSError):
        raise ValidationError("time_zone is not a known IANA zone", field="time_zone") from None
    start = localize(datetime.combine(day, time()), zone)
    end = localize(datetime.combine(day + timedelta(days=1), time()), zone)
    return calendar.handler(ctx, start, end, provider_id=provider_id, location_id=location_id)


@operation(AuditAction.CREATE)
def book_slot(ctx: Context, slot_id: SlotId, appointment: Appointment) -> Appointment:
    """Book ``appointment`` into a free slot; the slot becomes busy with it.

    Needs ``manage-appointments`` on the patient. The appointment must start
    and end with the slot; it is stored ``booked``, booked by the actor. A
    slot that is not free raises :class:`~carecoord.model.workforce.SlotTakenError`
    (also to the loser of two concurrent bookings).
    """
    check(appointment, Appointment)
    uow = ctx.uow
    ctx.allow(
        appointment.patient_id, Permission.MANAGE_APPOINTMENTS, f"Appointment/{appointment.id}"
    )
    slot = uow.find(Slot, slot_id)
    if slot is None:
        raise NotFoundError(f"slot {slot_id} not found")
    if not slot.is_free:
        raise SlotTakenError(str(slot_id))
    if (instant(appointment.start), instant(appointment.end)) != (
        instant(slot.start),
        instant(slot.end),
    ):
        raise ValidationError("the appointment must start and end with its slot", field="start")
    if appointment.status not in (AppointmentStatus.PROPOSED, AppointmentStatus.BOOKED):
        raise ValidationError("only a proposed appointment is booked", field="status")
    if appointment.referral_id is not None:
        referral = uow.get(Referral, appointment.referral_id)
        if referral.patient_id != appointment.patient_id:
            raise ValidationError("the appointment's referral belongs to another patient")
    booked = appointment
    if appointment.status is AppointmentStatus.PROPOSED:
        booked = appointment.transition(AppointmentStatus.BOOKED, by=ctx.actor_id, at=ctx.now)
    if booked.booked_by is None:
        booked = attrs.evolve(booked, booked_by=ctx.actor_id)
    uow.add(booked)
    uow.save(slot.booked(booked.id, booked.patient_id))
    ctx.emit(
        ev.AppointmentScheduled(
            **ctx.common(booked.patient_id),
            appointment_id=str(booked.id),
            start=booked.start,
            transport_needed=booked.transport_needed,
        )
    )
    announce_booking(ctx, booked)
    return booked


@operation(AuditAction.UPDATE)
def cancel_booking(ctx: Context, slot_id: SlotId, reason: str) -> Appointment:
    """Cancel the appointment booked in a slot (``reason`` required) and free the slot.

    Needs ``manage-appointments`` on the appointment's patient.
    """
    slot = ctx.uow.find(Slot, slot_id)
    if slot is None or slot.appointment_id is None:
        raise NotFoundError(f"slot {slot_id} holds no booking")
    old = ctx.load(Appointment, slot.appointment_id, Permission.MANAGE_APPOINTMENTS)
    new = old.transition(AppointmentStatus.CANCELLED, by=ctx.actor_id, at=ctx.now, reason=reason)
    ctx.uow.save(new)
    ctx.uow.save(slot.freed())
    ctx.emit(
        ev.AppointmentStatusChanged(
            **ctx.common(old.patient_id),
            appointment_id=str(old.id),
            from_status=old.status.value,
            to_status=new.status.value,
        )
    )
    return new


def free_slot_of(ctx: Context, appointment: Appointment) -> Slot | None:
    """Free the slot holding ``appointment`` (cancelled another way than
    :func:`cancel_booking`), if a slot holds it; the freed slot, or ``None``.

    One index search: the patient's busy slots starting when the appointment
    starts (a booked appointment starts and ends with its slot).
    """
    start = instant(appointment.start)
    hits = ctx.uow.query(
        WorkQuery(
            category="slot",
            patient_ids=(str(appointment.patient_id),),
            open_only=False,
            due_from=start,
            due_before=start + timedelta(microseconds=1),
        )
    )
    for hit in hits:
        if (hit.row.detail or "").rpartition("|")[2] != str(appointment.id):
            continue
        slot = ctx.uow.get(Slot, hit.record_id)
        if slot.appointment_id == appointment.id:
            freed = slot.freed()
            ctx.uow.save(freed)
            return freed
    return None
