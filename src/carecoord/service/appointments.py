"""Appointment use cases: schedule, move through FHIR appointment-status, list."""

from __future__ import annotations

import attrs

from .. import events as ev
from ..access import Permission
from ..model import (
    Appointment,
    AppointmentId,
    AppointmentStatus,
    Patient,
    PatientId,
    Referral,
    ValidationError,
)
from ..model.audit import AuditAction
from ._util import announce_booking, check, started, update
from .runner import Context, operation
from .slots import free_slot_of

__all__ = [
    "appointments_of",
    "schedule_appointment",
    "set_appointment_status",
]


@operation(AuditAction.CREATE)
def schedule_appointment(
    ctx: Context, appointment: Appointment, *, status: AppointmentStatus | str | None = None
) -> Appointment:
    """Record an appointment arranged for the patient.

    ``status`` (for example ``"booked"``) records it and moves it from the
    state it holds (``proposed`` by default) in the same operation; the move
    must be legal in the appointment state machine and is kept in its
    ``history``. A booked appointment is ``booked_by`` the actor unless set,
    and announced with :class:`~carecoord.events.AppointmentBooked` (which the
    patient's and contacts' reminders follow).
    """
    check(appointment, Appointment)
    uow = ctx.uow
    ctx.allow(
        appointment.patient_id, Permission.MANAGE_APPOINTMENTS, f"Appointment/{appointment.id}"
    )
    uow.get(Patient, appointment.patient_id)
    if appointment.referral_id is not None:
        found = uow.get(Referral, appointment.referral_id)
        if found.patient_id != appointment.patient_id:
            raise ValidationError("the appointment's referral belongs to another patient")
    appointment = started(ctx, appointment, status)
    if appointment.status is AppointmentStatus.BOOKED and appointment.booked_by is None:
        appointment = attrs.evolve(appointment, booked_by=ctx.actor_id)
    uow.add(appointment)
    ctx.emit(
        ev.AppointmentScheduled(
            **ctx.common(appointment.patient_id),
            appointment_id=str(appointment.id),
            start=appointment.start,
            transport_needed=appointment.transport_needed,
        )
    )
    announce_booking(ctx, appointment)
    return appointment


@operation(AuditAction.UPDATE)
def set_appointment_status(
    ctx: Context,
    appointment_id: AppointmentId,
    status: AppointmentStatus | str,
    reason: str | None = None,
) -> Appointment:
    """Move an appointment through FHIR appointment-status."""
    old, new = update(
        ctx,
        Appointment,
        appointment_id,
        Permission.MANAGE_APPOINTMENTS,
        lambda old: old.transition(status, by=ctx.actor_id, at=ctx.now, reason=reason),
    )
    if new.status is AppointmentStatus.CANCELLED and old.status is not new.status:
        free_slot_of(ctx, new)  # a booked slot is free again (as cancel_booking does)
    ctx.emit(
        ev.AppointmentStatusChanged(
            **ctx.common(old.patient_id),
            appointment_id=str(old.id),
            from_status=old.status.value,
            to_status=new.status.value,
        )
    )
    if old.status is not new.status:
        announce_booking(ctx, new)
    return new


@operation(AuditAction.READ)
def appointments_of(ctx: Context, patient_id: PatientId) -> list[Appointment]:
    """Every appointment of a patient, earliest first."""
    ctx.allow(patient_id, Permission.READ, f"Patient/{patient_id}")
    found = ctx.uow.all(Appointment, patient_id=str(patient_id))
    return sorted(found, key=lambda a: a.start)
