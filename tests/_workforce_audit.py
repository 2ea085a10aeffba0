"""The staffing operations of the audit table (tests/test_service_audit.py).

Operation name -> (call as the allowed actor, call as someone denied, or None when every
active staff member may call it). Order matters: later calls use what earlier ones made.
Each call makes exactly one audit entry; setup that must not be audited (a blood draw to
complete, a booking to cancel) is written straight to the store.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import time, timedelta
from typing import Any

from carecoord import (
    Appointment,
    AppointmentId,
    AppointmentStatus,
    Cadence,
    CarePlan,
    CareTeamRole,
    Intervention,
    InterventionId,
    InterventionKind,
)
from carecoord.model.scheduling import Schedule, ScheduleId, SessionPattern, Slot, SlotId
from carecoord.model.training import (
    Competency,
    CompetencyId,
    Protocol,
    ProtocolId,
    ProtocolStep,
    ProtocolStepId,
    StaffingPolicy,
    TrainingRecord,
    TrainingRecordId,
)
from carecoord.model.workforce import (
    LocationId,
    Rota,
    RotaId,
    Shift,
    ShiftId,
    ShiftPattern,
    TimeOff,
    TimeOffId,
)
from carecoord.service import CareCoordinator
from carecoord.storage import UnitOfWork
from world import LEAD_MA, MA, NURSE, OUTSIDER, PATIENT, PLAN, T0

__all__ = ["WORKFORCE_OPERATIONS"]

Call = Callable[[CareCoordinator, Any], Any]
CLINIC = LocationId("clinic")
DAY = timedelta(days=1)
SHIFT = Shift(
    id=ShiftId("audit-shift"),
    staff_id=MA,
    role=CareTeamRole.MEDICAL_ASSISTANT,
    location_id=CLINIC,
    start=T0 + DAY,
    end=T0 + DAY + timedelta(hours=8),
)
POLICY = StaffingPolicy(
    competencies=(Competency(id=CompetencyId("phlebotomy"), title="Phlebotomy"),),
    protocols=(
        Protocol(
            id=ProtocolId("draw"),
            kind=InterventionKind.CLINICAL_PROCEDURE,
            title="Blood draw",
            steps=(ProtocolStep(id=ProtocolStepId("identify"), title="Identify"),),
        ),
    ),
)
TRAINING = TrainingRecord(
    id=TrainingRecordId("audit-tr"),
    staff_id=MA,
    competency_id=CompetencyId("phlebotomy"),
    completed_at=T0,
)
SCHEDULE = Schedule(
    id=ScheduleId("audit-sched"),
    provider_id=NURSE,
    location_id=CLINIC,
    sessions=(
        SessionPattern(
            cadence=Cadence.days(1, T0.replace(hour=9) + DAY), ends=time(12), slot_minutes=60
        ),
    ),
)
WEEK = (T0, T0 + 7 * DAY)


def _draw(service: CareCoordinator) -> InterventionId:
    """A blood draw added to the plan straight in the store (no audit entry)."""
    task = InterventionId("audit-draw")
    with UnitOfWork(service.store) as uow:
        plan = uow.get(CarePlan, PLAN)
        uow.save(
            plan.with_intervention(
                Intervention(
                    id=task,
                    kind=InterventionKind.CLINICAL_PROCEDURE,
                    description="Blood draw",
                    created_at=T0,
                )
            )
        )
    return task


def _slot(service: CareCoordinator, index: int) -> Slot:
    with UnitOfWork(service.store) as uow:
        return sorted(uow.all(Slot), key=lambda s: s.id)[index]


def _appointment(slot: Slot, aid: str) -> Appointment:
    return Appointment(
        id=AppointmentId(aid),
        patient_id=PATIENT,
        start=slot.start,
        end=slot.end,
        provider="Nurse clinic",
        location="Clinic",
    )


def _booked(service: CareCoordinator) -> SlotId:
    """A slot booked straight in the store (no audit entry), for a denied cancel."""
    slot = _slot(service, 2)
    with UnitOfWork(service.store) as uow:
        found = uow.get(Slot, slot.id)
        made = _appointment(slot, "audit-ap-2").transition(
            AppointmentStatus.BOOKED, by=NURSE, at=T0
        )
        uow.add(made)
        uow.save(found.booked(made.id, PATIENT))
    return slot.id


WORKFORCE_OPERATIONS: dict[str, tuple[Call, Call | None]] = {
    "set_staffing_policy": (
        lambda s, a: s.set_staffing_policy(POLICY, actor=a),
        lambda s, a: s.set_staffing_policy(POLICY, actor=MA),
    ),
    "staffing_policy": (lambda s, a: s.staffing_policy(actor=a), None),
    "save_rota": (
        lambda s, a: s.save_rota(
            Rota(
                id=RotaId("audit-rota"),
                owner_id=LEAD_MA,
                role=CareTeamRole.MEDICAL_ASSISTANT,
                location_id=CLINIC,
            ),
            actor=a,
        ),
        lambda s, a: s.save_rota(
            Rota(id=RotaId("r2"), owner_id=MA, role=CareTeamRole.NURSE, location_id=CLINIC),
            actor=MA,
        ),
    ),
    "record_shifts": (
        lambda s, a: s.record_shifts([SHIFT], actor=a),
        lambda s, a: s.record_shifts([SHIFT], actor=NURSE),
    ),
    "schedule_shifts": (
        lambda s, a: s.schedule_shifts(
            ShiftPattern(
                id=ShiftId("audit-nurse"),
                staff_id=NURSE,
                role=CareTeamRole.NURSE,
                location_id=CLINIC,
                cadence=Cadence.days(1, T0.replace(hour=7)),
                ends=time(19),
            ),
            *WEEK,
            actor=a,
        ),
        lambda s, a: s.schedule_shifts(
            ShiftPattern(
                id=ShiftId("audit-x"),
                staff_id=NURSE,
                role=CareTeamRole.NURSE,
                location_id=CLINIC,
                cadence=Cadence.days(1, T0),
                ends=time(19),
            ),
            *WEEK,
            actor=MA,
        ),
    ),
    "cancel_shift": (
        lambda s, a: s.cancel_shift(SHIFT.id, actor=a),
        lambda s, a: s.cancel_shift(SHIFT.id, actor=NURSE),
    ),
    "shifts_of": (lambda s, a: s.shifts_of(NURSE, *WEEK, actor=a), None),
    "on_duty": (lambda s, a: s.on_duty(actor=a, at=T0 + DAY), None),
    "rota_gaps": (lambda s, a: s.rota_gaps(RotaId("audit-rota"), *WEEK, actor=a), None),
    "record_time_off": (
        lambda s, a: s.record_time_off(
            TimeOff(id=TimeOffId("audit-to"), staff_id=MA, start=T0 + DAY, end=T0 + 2 * DAY),
            actor=a,
        ),
        lambda s, a: s.record_time_off(
            TimeOff(id=TimeOffId("audit-to2"), staff_id=MA, start=T0, end=T0 + DAY), actor=NURSE
        ),
    ),
    "cancel_time_off": (
        lambda s, a: s.cancel_time_off(TimeOffId("audit-to"), actor=a),
        lambda s, a: s.cancel_time_off(TimeOffId("audit-to"), actor=NURSE),
    ),
    "time_off_of": (
        lambda s, a: s.time_off_of(MA, *WEEK, actor=a),
        lambda s, a: s.time_off_of(MA, *WEEK, actor=NURSE),
    ),
    "suggest_assignees": (
        lambda s, a: s.suggest_assignees("education", actor=a, at=T0 + DAY),
        None,
    ),
    "record_training": (
        lambda s, a: s.record_training(TRAINING, actor=a),
        lambda s, a: s.record_training(TRAINING, actor=NURSE),
    ),
    "sign_off_training": (
        lambda s, a: s.sign_off_training(TRAINING.id, actor=a),
        lambda s, a: s.sign_off_training(TRAINING.id, actor=MA),
    ),
    "competencies_of": (
        lambda s, a: s.competencies_of(MA, actor=a),
        lambda s, a: s.competencies_of(MA, actor=NURSE),
    ),
    "training_records_of": (
        lambda s, a: s.training_records_of(MA, actor=a),
        lambda s, a: s.training_records_of(MA, actor=NURSE),
    ),
    "staffing_worklist": (
        lambda s, a: s.staffing_worklist(LEAD_MA, actor=a),
        lambda s, a: s.staffing_worklist(LEAD_MA, actor=MA),
    ),
    "supervision": (
        lambda s, a: s.supervision(LEAD_MA, actor=a),
        lambda s, a: s.supervision(LEAD_MA, actor=MA),
    ),
    "complete_with_protocol": (
        lambda s, a: s.complete_with_protocol(
            PLAN, _draw(s), [ProtocolStepId("identify")], actor=a
        ),
        lambda s, a: s.complete_with_protocol(
            PLAN, InterventionId("audit-draw"), [], actor=OUTSIDER
        ),
    ),
    "protocol_compliance": (
        lambda s, a: s.protocol_compliance(LEAD_MA, *WEEK, actor=a),
        lambda s, a: s.protocol_compliance(LEAD_MA, *WEEK, actor=MA),
    ),
    "save_schedule": (
        lambda s, a: s.save_schedule(SCHEDULE, actor=a),
        lambda s, a: s.save_schedule(SCHEDULE, actor=MA),
    ),
    "publish_slots": (
        lambda s, a: s.publish_slots(SCHEDULE.id, *WEEK, actor=a),
        lambda s, a: s.publish_slots(SCHEDULE.id, *WEEK, actor=MA),
    ),
    "free_slots": (lambda s, a: s.free_slots(NURSE, *WEEK, actor=a), None),
    "calendar": (lambda s, a: s.calendar(*WEEK, location_id=CLINIC, actor=a), None),
    "day_calendar": (
        lambda s, a: s.day_calendar((T0 + DAY).date(), provider_id=NURSE, actor=a),
        None,
    ),
    "book_slot": (
        lambda s, a: s.book_slot(_slot(s, 0).id, _appointment(_slot(s, 0), "audit-ap"), actor=a),
        lambda s, a: s.book_slot(
            _slot(s, 1).id, _appointment(_slot(s, 1), "audit-ap-x"), actor=OUTSIDER
        ),
    ),
    "cancel_booking": (
        lambda s, a: s.cancel_booking(_slot(s, 0).id, "rescheduled", actor=a),
        lambda s, a: s.cancel_booking(_booked(s), "rescheduled", actor=OUTSIDER),
    ),
    "announce_staffing": (lambda s, a: s.announce_staffing(), None),
}
"""The staffing operations, in an order in which each one's call succeeds."""
