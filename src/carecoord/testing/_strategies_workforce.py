"""Strategies for the staffing records: shifts, time off, rotas, training, the staffing
policy, protocol completions, schedules and slots (import from :mod:`.strategies`)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from carecoord.model import (
    AppointmentId,
    Cadence,
    CadenceUnit,
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
    OffDutyRule,
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
    MAX_SHIFT,
    LocationId,
    Rota,
    RotaId,
    Shift,
    ShiftId,
    ShiftKind,
    ShiftStatus,
    TimeOff,
    TimeOffId,
    TimeOffKind,
)

from ._strategies_common import (
    AWARE_DATETIMES,
    DATES,
    MAX,
    POSITIVE_DURATIONS,
    ZONES,
    codes,
    ids,
    later,
    optional,
    texts,
    unique_ids,
)

__all__ = [
    "WORKFORCE_STRATEGIES",
    "protocol_completions",
    "rotas",
    "schedules",
    "shifts",
    "slots",
    "staffing_policies",
    "time_offs",
    "training_records",
]

_SHIFT_LENGTHS = st.timedeltas(min_value=timedelta(minutes=1), max_value=MAX_SHIFT)


@st.composite
def shifts(draw: st.DrawFn) -> Shift:
    """A shift of up to :data:`~carecoord.model.workforce.MAX_SHIFT`."""
    start = draw(AWARE_DATETIMES)
    return Shift(
        id=draw(ids(ShiftId)),
        staff_id=draw(ids(StaffId)),
        role=draw(codes(CareTeamRole)),
        location_id=draw(ids(LocationId)),
        start=start,
        end=later(start, draw(_SHIFT_LENGTHS)),
        kind=draw(codes(ShiftKind)),
        rota_id=draw(optional(ids(RotaId))),
        status=draw(codes(ShiftStatus)),
    )


@st.composite
def time_offs(draw: st.DrawFn) -> TimeOff:
    """Time off, covered by someone else or nobody."""
    start = draw(AWARE_DATETIMES)
    staff = draw(ids(StaffId))
    cover = draw(optional(ids(StaffId).filter(lambda s: s != staff)))
    return TimeOff(
        id=draw(ids(TimeOffId)),
        staff_id=staff,
        start=start,
        end=later(start, draw(POSITIVE_DURATIONS)),
        kind=draw(codes(TimeOffKind)),
        covered_by=cover,
        cancelled=draw(st.booleans()),
    )


@st.composite
def rotas(draw: st.DrawFn) -> Rota:
    """A 24/7 rota."""
    return Rota(
        id=draw(ids(RotaId)),
        owner_id=draw(ids(StaffId)),
        role=draw(codes(CareTeamRole)),
        location_id=draw(ids(LocationId)),
        kind=draw(codes(ShiftKind)),
        minimum=draw(st.integers(1, 5)),
        active=draw(st.booleans()),
    )


@st.composite
def training_records(draw: st.DrawFn) -> TrainingRecord:
    """A training record, signed off (by someone else) or not, with or without expiry."""
    staff = draw(ids(StaffId))
    completed = draw(AWARE_DATETIMES)
    signed = draw(st.booleans())
    return TrainingRecord(
        id=draw(ids(TrainingRecordId)),
        staff_id=staff,
        competency_id=draw(ids(CompetencyId)),
        completed_at=completed,
        signed_off_by=draw(ids(StaffId).filter(lambda s: s != staff)) if signed else None,
        signed_off_at=later(completed, draw(POSITIVE_DURATIONS)) if signed else None,
        expires_at=draw(optional(st.builds(later, st.just(completed), POSITIVE_DURATIONS))),
    )


@st.composite
def _protocols(draw: st.DrawFn, kind: InterventionKind) -> Protocol:
    step_ids = draw(unique_ids(ProtocolStepId, min_size=1))
    steps = tuple(
        ProtocolStep(id=step, title=draw(texts()), required=i == 0 or draw(st.booleans()))
        for i, step in enumerate(step_ids)
    )
    return Protocol(id=draw(ids(ProtocolId)), kind=kind, title=draw(texts()), steps=steps)


@st.composite
def staffing_policies(draw: st.DrawFn) -> StaffingPolicy:
    """A staffing policy whose requirements and checklists name catalogued competencies."""
    catalogue = draw(unique_ids(CompetencyId))
    competencies = tuple(
        Competency(
            id=c,
            title=draw(texts()),
            valid_for_days=draw(optional(st.integers(1, 3650))),
            warn_days=draw(st.integers(0, 90)),
        )
        for c in catalogue
    )
    kinds = draw(st.lists(codes(InterventionKind), max_size=MAX, unique=True))
    named = st.lists(st.sampled_from(catalogue), min_size=1, max_size=MAX, unique=True)
    requirements = (
        tuple(CompetencyRequirement(kind=k, competency_ids=tuple(draw(named))) for k in kinds)
        if catalogue
        else ()
    )
    roles = draw(st.lists(codes(CareTeamRole), max_size=2, unique=True))
    onboarding = tuple(
        OnboardingChecklist(role=r, competency_ids=tuple(draw(named)) if catalogue else ())
        for r in roles
    )
    protocol_kinds = draw(st.lists(codes(InterventionKind), max_size=2, unique=True))
    protocols = tuple(draw(_protocols(k)) for k in protocol_kinds)
    if len({p.id for p in protocols}) != len(protocols):
        protocols = protocols[:1]
    return StaffingPolicy(
        competencies=competencies,
        requirements=requirements,
        onboarding=onboarding,
        protocols=protocols,
        off_duty=draw(codes(OffDutyRule)),
        reassign_to_cover=draw(st.booleans()),
    )


@st.composite
def protocol_completions(draw: st.DrawFn) -> ProtocolCompletion:
    """A protocol checklist recorded with one intervention."""
    return ProtocolCompletion(
        id=draw(ids(ProtocolCompletionId)),
        patient_id=draw(ids(PatientId)),
        plan_id=draw(ids(CarePlanId)),
        intervention_id=draw(ids(InterventionId)),
        protocol_id=draw(ids(ProtocolId)),
        kind=draw(codes(InterventionKind)),
        staff_id=draw(ids(StaffId)),
        at=draw(AWARE_DATETIMES),
        steps_done=draw(unique_ids(ProtocolStepId)),
        complete=draw(st.booleans()),
    )


@st.composite
def _sessions(draw: st.DrawFn) -> SessionPattern:
    zone = draw(st.sampled_from(ZONES))
    day = draw(DATES)
    hour = draw(st.integers(0, 20))
    anchor = datetime(
        day.year, day.month, day.day, hour, draw(st.sampled_from([0, 30])), tzinfo=zone
    )
    return SessionPattern(
        cadence=Cadence(
            every=draw(st.integers(1, 4)), unit=draw(codes(CadenceUnit)), anchor=anchor
        ),
        ends=time(draw(st.integers(hour + 1, 23)), draw(st.sampled_from([0, 15, 45]))),
        slot_minutes=draw(st.sampled_from([10, 15, 20, 30, 60])),
        until=draw(optional(DATES)),
    )


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    """A provider's schedule of 0-3 session patterns."""
    return Schedule(
        id=draw(ids(ScheduleId)),
        provider_id=draw(ids(StaffId)),
        location_id=draw(ids(LocationId)),
        sessions=tuple(draw(st.lists(_sessions(), max_size=MAX))),
        active=draw(st.booleans()),
    )


@st.composite
def slots(draw: st.DrawFn) -> Slot:
    """A slot: busy ones name an appointment and a patient, others neither."""
    start = draw(AWARE_DATETIMES)
    status = draw(codes(SlotStatus))
    busy = status is SlotStatus.BUSY
    return Slot(
        id=draw(ids(SlotId)),
        schedule_id=draw(ids(ScheduleId)),
        provider_id=draw(ids(StaffId)),
        location_id=draw(ids(LocationId)),
        start=start,
        end=later(start, draw(st.timedeltas(timedelta(minutes=5), timedelta(hours=8)))),
        status=status,
        appointment_id=draw(ids(AppointmentId)) if busy else None,
        booked_for=draw(ids(PatientId)) if busy else None,
    )


WORKFORCE_STRATEGIES: dict[type, SearchStrategy[Any]] = {
    Shift: shifts(),
    TimeOff: time_offs(),
    Rota: rotas(),
    TrainingRecord: training_records(),
    StaffingPolicy: staffing_policies(),
    ProtocolCompletion: protocol_completions(),
    Schedule: schedules(),
    Slot: slots(),
}
"""One strategy per staffing record kind (part of ``ENTITY_STRATEGIES``)."""
