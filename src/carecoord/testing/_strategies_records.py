"""Strategies for the records kept around a plan (part of :mod:`carecoord.testing.strategies`).

Referrals, appointments, barriers, reviews, notes, patient decisions,
consents, encounters and survey responses, and the references between records.
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from carecoord import (
    APPOINTMENT_MACHINE,
    CONSENT_MACHINE,
    REFERRAL_MACHINE,
    Appointment,
    AppointmentId,
    AppointmentStatus,
    Barrier,
    BarrierId,
    BarrierKind,
    BarrierResolution,
    CarePlanId,
    CommunicationStatus,
    Consent,
    ConsentId,
    ConsentStatus,
    ContactChannel,
    ContactId,
    DecisionId,
    DecisionOutcome,
    Direction,
    Encounter,
    EncounterClass,
    EncounterId,
    GoalAchievementStatus,
    GoalId,
    GoalOutcome,
    InteractionParty,
    InterventionId,
    Note,
    NoteId,
    PatientDecision,
    PatientId,
    Ref,
    Referral,
    ReferralId,
    ReferralStatus,
    ReferralTargetKind,
    RefKind,
    Review,
    ReviewDecision,
    ReviewId,
    StaffId,
    SurveyResponse,
    SurveyResponseId,
    TaskPriority,
)

from ._strategies_common import (
    AWARE_DATETIMES,
    DURATIONS,
    MAX,
    POSITIVE_DURATIONS,
    codes,
    histories,
    ids,
    later,
    optional,
    periods,
    texts,
    unique_ids,
)


@st.composite
def refs(draw: st.DrawFn) -> Ref:
    return Ref(kind=draw(codes(RefKind)), id=draw(texts()))


def unique_refs() -> SearchStrategy[tuple[Ref, ...]]:
    return st.lists(refs(), max_size=MAX, unique=True).map(tuple)


@st.composite
def referrals(draw: st.DrawFn) -> Referral:
    """A referral with a legal history; one whose result came back has an outcome."""
    status, history = draw(histories(REFERRAL_MACHINE, ReferralStatus.DRAFT))
    outcome = draw(optional(texts()))
    if status is ReferralStatus.RESULT_RECEIVED and outcome is None:
        outcome = draw(texts())
    return Referral(
        id=draw(ids(ReferralId)),
        patient_id=draw(ids(PatientId)),
        requested_by=draw(ids(StaffId)),
        created_at=draw(AWARE_DATETIMES),
        target_kind=draw(codes(ReferralTargetKind)),
        target_name=draw(texts()),
        service=draw(texts()),
        reason=draw(optional(texts())),
        priority=draw(codes(TaskPriority)),
        status=status,
        plan_id=draw(optional(ids(CarePlanId))),
        intervention_id=draw(optional(ids(InterventionId))),
        goal_ids=draw(unique_ids(GoalId)),
        outcome=outcome,
        history=history,
    )


@st.composite
def appointments(draw: st.DrawFn) -> Appointment:
    start = draw(AWARE_DATETIMES)
    status, history = draw(histories(APPOINTMENT_MACHINE, AppointmentStatus.PROPOSED))
    return Appointment(
        id=draw(ids(AppointmentId)),
        patient_id=draw(ids(PatientId)),
        start=start,
        end=later(start, draw(POSITIVE_DURATIONS)),
        provider=draw(texts()),
        location=draw(texts()),
        status=status,
        transport_needed=draw(st.booleans()),
        referral_id=draw(optional(ids(ReferralId))),
        intervention_id=draw(optional(ids(InterventionId))),
        booked_by=draw(optional(ids(StaffId))),
        history=history,
    )


@st.composite
def barriers(draw: st.DrawFn) -> Barrier:
    """A barrier, possibly resolved (never before it was identified)."""
    identified_at = draw(AWARE_DATETIMES)
    resolution = None
    if draw(st.booleans()):
        resolution = BarrierResolution(
            at=later(identified_at, draw(DURATIONS)), by=draw(ids(StaffId)), summary=draw(texts())
        )
    return Barrier(
        id=draw(ids(BarrierId)),
        patient_id=draw(ids(PatientId)),
        kind=draw(codes(BarrierKind)),
        identified_at=identified_at,
        identified_by=draw(ids(StaffId)),
        description=draw(optional(texts())),
        blocks=draw(unique_refs()),
        resolution=resolution,
    )


@st.composite
def reviews(draw: st.DrawFn) -> Review:
    """A review whose next review lies after it, one outcome per goal."""
    reviewed_at = draw(AWARE_DATETIMES)
    outcomes = tuple(
        GoalOutcome(
            goal_id=goal_id,
            achievement=draw(codes(GoalAchievementStatus)),
            decision=draw(codes(ReviewDecision)),
            comment=draw(optional(texts())),
        )
        for goal_id in draw(unique_ids(GoalId))
    )
    return Review(
        id=draw(ids(ReviewId)),
        plan_id=draw(ids(CarePlanId)),
        patient_id=draw(ids(PatientId)),
        reviewed_at=reviewed_at,
        reviewed_by=draw(ids(StaffId)),
        next_review_at=later(reviewed_at, draw(POSITIVE_DURATIONS)),
        participants=draw(unique_ids(StaffId)),
        patient_participated=draw(st.booleans()),
        contact_participants=draw(unique_ids(ContactId)),
        goal_outcomes=outcomes,
        summary=draw(optional(texts())),
        due_at=draw(optional(AWARE_DATETIMES)),
    )


@st.composite
def notes(draw: st.DrawFn) -> Note:
    """A note; one with the family always names the contact."""
    party = draw(codes(InteractionParty))
    contact_id = draw(optional(ids(ContactId)))
    if party is InteractionParty.FAMILY and contact_id is None:
        contact_id = draw(ids(ContactId))
    return Note(
        id=draw(ids(NoteId)),
        patient_id=draw(ids(PatientId)),
        at=draw(AWARE_DATETIMES),
        author_id=draw(ids(StaffId)),
        channel=draw(codes(ContactChannel)),
        direction=draw(codes(Direction)),
        party=party,
        summary=draw(texts()),
        status=draw(codes(CommunicationStatus)),
        contact_id=contact_id,
        staff_ids=draw(unique_ids(StaffId)),
        links=draw(unique_refs()),
    )


@st.composite
def patient_decisions(draw: st.DrawFn) -> PatientDecision:
    return PatientDecision(
        id=draw(ids(DecisionId)),
        patient_id=draw(ids(PatientId)),
        at=draw(AWARE_DATETIMES),
        recorded_by=draw(ids(StaffId)),
        recommendation=draw(texts()),
        outcome=draw(codes(DecisionOutcome)),
        patient_words=draw(optional(texts())),
        about=draw(unique_refs()),
    )


@st.composite
def consents(draw: st.DrawFn) -> Consent:
    """A consent naming at least one contact, with a legal history."""
    status, history = draw(histories(CONSENT_MACHINE, ConsentStatus.DRAFT))
    categories = draw(st.lists(texts(), max_size=MAX, unique=True))
    return Consent(
        id=draw(ids(ConsentId)),
        patient_id=draw(ids(PatientId)),
        recorded_at=draw(AWARE_DATETIMES),
        recorded_by=draw(ids(StaffId)),
        contact_ids=draw(unique_ids(ContactId, min_size=1)),
        status=status,
        categories=tuple(categories),
        period=draw(optional(periods())),
        history=history,
    )


@st.composite
def encounters(draw: st.DrawFn) -> Encounter:
    """An encounter, discharged (at or after admission) or still open."""
    admitted = draw(AWARE_DATETIMES)
    discharged = draw(optional(DURATIONS.map(lambda d: later(admitted, d))))
    return Encounter(
        id=draw(ids(EncounterId)),
        patient_id=draw(ids(PatientId)),
        encounter_class=draw(codes(EncounterClass)),
        admitted_at=admitted,
        recorded_by=draw(ids(StaffId)),
        discharged_at=discharged,
        planned=draw(st.booleans()),
    )


@st.composite
def survey_responses(draw: st.DrawFn) -> SurveyResponse:
    """A survey response whose score lies on its scale."""
    low = draw(st.integers(-10, 10))
    high = low + draw(st.integers(1, 10))
    score = draw(st.floats(min_value=low, max_value=high, allow_nan=False))
    return SurveyResponse(
        id=draw(ids(SurveyResponseId)),
        patient_id=draw(ids(PatientId)),
        instrument=draw(texts()),
        score=score,
        at=draw(AWARE_DATETIMES),
        recorded_by=draw(ids(StaffId)),
        scale_min=float(low),
        scale_max=float(high),
    )
