"""One sample of every staffing record kind, for the PHI walk (tests/test_phi.py).

Titles (the only free text) are filled in; the PHI test plants its marker in
them and checks it never shows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from carecoord.model import (
    AppointmentId,
    Cadence,
    CarePlanId,
    CareTeamRole,
    InterventionId,
    InterventionKind,
    PatientId,
    StaffId,
)
from carecoord.model.scheduling import (
    Schedule,
    ScheduleId,
    SessionPattern,
    Slot,
    SlotId,
    SlotStatus,
)
from carecoord.model.training import (
    Competency,
    CompetencyId,
    CompetencyRequirement,
    OnboardingChecklist,
    Protocol,
    ProtocolCompletion,
    ProtocolCompletionId,
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
    TimeOff,
    TimeOffId,
)

__all__ = ["WORKFORCE_SAMPLES"]

NY = ZoneInfo("America/New_York")
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=NY)
STAFF = StaffId("staff-1")
CLINIC = LocationId("clinic-1")
PHLEBOTOMY = CompetencyId("phlebotomy")


def _policy() -> StaffingPolicy:
    return StaffingPolicy(
        competencies=(Competency(id=PHLEBOTOMY, title="Phlebotomy", valid_for_days=365),),
        requirements=(
            CompetencyRequirement(
                kind=InterventionKind.CLINICAL_PROCEDURE, competency_ids=(PHLEBOTOMY,)
            ),
        ),
        onboarding=(
            OnboardingChecklist(role=CareTeamRole.MEDICAL_ASSISTANT, competency_ids=(PHLEBOTOMY,)),
        ),
        protocols=(
            Protocol(
                id=ProtocolId("blood-draw"),
                kind=InterventionKind.CLINICAL_PROCEDURE,
                title="Blood draw",
                steps=(ProtocolStep(id=ProtocolStepId("identify"), title="Two identifiers"),),
            ),
        ),
    )


def _schedule() -> Schedule:
    session = SessionPattern(cadence=Cadence.weeks(1, T0), ends=time(12), slot_minutes=20)
    return Schedule(
        id=ScheduleId("sched-1"), provider_id=STAFF, location_id=CLINIC, sessions=(session,)
    )


WORKFORCE_SAMPLES: dict[str, Callable[[], Any]] = {
    "Shift": lambda: Shift(
        id=ShiftId("sh-1"),
        staff_id=STAFF,
        role=CareTeamRole.NURSE,
        location_id=CLINIC,
        start=T0,
        end=T0 + timedelta(hours=8),
    ),
    "TimeOff": lambda: TimeOff(
        id=TimeOffId("to-1"), staff_id=STAFF, start=T0, end=T0 + timedelta(days=2)
    ),
    "Rota": lambda: Rota(
        id=RotaId("rota-1"), owner_id=STAFF, role=CareTeamRole.NURSE, location_id=CLINIC
    ),
    "TrainingRecord": lambda: TrainingRecord(
        id=TrainingRecordId("tr-1"), staff_id=STAFF, competency_id=PHLEBOTOMY, completed_at=T0
    ),
    "StaffingPolicy": _policy,
    "ProtocolCompletion": lambda: ProtocolCompletion(
        id=ProtocolCompletionId("pc-1"),
        patient_id=PatientId("patient-1"),
        plan_id=CarePlanId("plan-1"),
        intervention_id=InterventionId("i-1"),
        protocol_id=ProtocolId("blood-draw"),
        kind=InterventionKind.CLINICAL_PROCEDURE,
        staff_id=STAFF,
        at=T0,
    ),
    "Schedule": _schedule,
    "Slot": lambda: Slot(
        id=SlotId("sched-1.20250303T1400Z"),
        schedule_id=ScheduleId("sched-1"),
        provider_id=STAFF,
        location_id=CLINIC,
        start=T0,
        end=T0 + timedelta(minutes=20),
        status=SlotStatus.BUSY,
        appointment_id=AppointmentId("ap-1"),
        booked_for=PatientId("patient-1"),
    ),
}
"""A sample of every staffing record kind, by kind."""
