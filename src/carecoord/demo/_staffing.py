"""The demo's staffing part: a small 24/7 rota, who is on duty, and one booked slot.

All invented; printed as identifiers, codes and times only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..model import Appointment, AppointmentId, Cadence, CareTeamRole, PatientId, StaffId
from ..model.scheduling import Schedule, ScheduleId, SessionPattern
from ..model.workforce import LocationId, Rota, RotaId, ShiftId, ShiftKind, ShiftPattern
from ..service import CareCoordinator

__all__ = ["CLINIC", "show_staffing"]

CLINIC = LocationId("clinic-main")
"""Where the demo's rota and slots are."""


def _hm(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%H:%M")


def show_staffing(
    service: CareCoordinator,
    now: datetime,
    *,
    coordinator: StaffId,
    lead: StaffId,
    nurse: StaffId,
    patient: PatientId,
    out: Callable[[str], None],
) -> None:
    """Staff a 24/7 nurse rota with day shifts and an on-call lead, book the nurse's first
    free slot of the day for ``patient``, and print the rota, its gaps and the booking."""
    zone = ZoneInfo("America/Chicago")
    day = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    week = (day, day + timedelta(days=7))
    rota = Rota(id=RotaId("nurse-24-7"), owner_id=lead, role=CareTeamRole.NURSE, location_id=CLINIC)
    service.save_rota(rota, actor=coordinator)
    service.schedule_shifts(
        ShiftPattern(
            id=ShiftId("nurse-days"),
            staff_id=nurse,
            role=CareTeamRole.NURSE,
            location_id=CLINIC,
            cadence=Cadence.days(1, day.replace(hour=7)),
            ends=time(19),
            rota_id=rota.id,
        ),
        *week,
        actor=lead,
    )
    service.schedule_shifts(
        ShiftPattern(
            id=ShiftId("lead-on-call"),
            staff_id=lead,
            role=CareTeamRole.LEAD_MEDICAL_ASSISTANT,
            location_id=CLINIC,
            cadence=Cadence.days(1, day.replace(hour=19)),
            ends=time(7),
            kind=ShiftKind.ON_CALL,
        ),
        *week,
        actor=coordinator,
    )
    schedule = Schedule(
        id=ScheduleId("nurse-clinic"),
        provider_id=nurse,
        location_id=CLINIC,
        sessions=(
            SessionPattern(
                cadence=Cadence.days(1, day.replace(hour=9)), ends=time(12), slot_minutes=20
            ),
        ),
    )
    service.save_schedule(schedule, actor=coordinator)
    service.publish_slots(schedule.id, *week, actor=coordinator)
    out(f"Rota {rota.id} at {CLINIC} on {day.date().isoformat()} (owner {lead}):")
    for duty in service.on_duty(actor=coordinator, at=now, location_id=CLINIC):
        out(
            f"  on duty now  {duty.staff_id:<18} {duty.role.value:<24} {duty.kind.value:<8} "
            f"{_hm(duty.start, zone)}-{_hm(duty.end, zone)}"
        )
    for gap in service.rota_gaps(rota.id, *(day, day + timedelta(days=1)), actor=coordinator):
        out(
            f"  gap          {_hm(gap.start, zone)}-{_hm(gap.end, zone)}  "
            f"{gap.staffed} of {gap.needed} {rota.role.value} on duty"
        )
    free = service.free_slots(nurse, now, day + timedelta(days=1), actor=coordinator)
    slot = free[0]
    booked = service.book_slot(
        slot.slot_id,
        Appointment(
            id=AppointmentId("appointment-1"),
            patient_id=patient,
            start=slot.start,
            end=slot.end,
            provider="Nurse clinic",
            location="Main clinic, room 2",
        ),
        actor=coordinator,
    )
    left = service.free_slots(nurse, now, day + timedelta(days=1), actor=coordinator)
    out(
        f"Booked slot {slot.slot_id} ({_hm(slot.start, zone)}-{_hm(slot.end, zone)}) "
        f"for {patient}: {booked.id} {booked.status.value}; {len(left)} free slots left today"
    )
