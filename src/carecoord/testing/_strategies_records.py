"""Strategies for the records kept around a plan (part of :mod:`carecoord.testing.strategies`).

Referrals, appointments, barriers, reviews, notes, patient decisions,
consents, encounters, survey responses, health concerns and the patient's own
goals, the references between records and those to other systems' records
(:func:`external_refs`).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from carecoord import (
    Appointment,
    AppointmentId,
    AppointmentStatus,
    Barrier,
    BarrierId,
    BarrierKind,
    BarrierResolution,
    CarePlanId,
    Consent,
    ConsentId,
    ConsentScope,
    ConsentStatus,
    ContactChannel,
    ContactId,
    DecisionId,
    DecisionOutcome,
    GoalAchievementStatus,
    GoalId,
    GoalOutcome,
    HealthConcern,
    HealthConcernId,
    Identifier,
    InterventionId,
    NeedId,
    Note,
    NoteId,
    PatientDecision,
    PatientGoal,
    PatientId,
    Referral,
    ReferralId,
    ReferralStatus,
    ReferralTargetKind,
    Review,
    ReviewDecision,
    ReviewId,
    StaffId,
    TaskPriority,
)
from carecoord.model import (
    APPOINTMENT_MACHINE,
    CONSENT_MACHINE,
    REFERRAL_MACHINE,
    Coding,
    CommunicationStatus,
    ConcernCategory,
    ConditionClinicalStatus,
    ConditionVerificationStatus,
    ConsentPolicyRule,
    Direction,
    Encounter,
    EncounterClass,
    EncounterId,
    ExternalRef,
    InteractionParty,
    Ref,
    RefKind,
    SurveyResponse,
    SurveyResponseId,
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
from ._strategies_people import identifiers
from ._strategies_plans import goals


@st.composite
def refs(draw: st.DrawFn) -> Ref:
    return Ref(kind=draw(codes(RefKind)), id=draw(texts()))


def unique_refs() -> SearchStrategy[tuple[Ref, ...]]:
    return st.lists(refs(), max_size=MAX, unique=True).map(tuple)


_EXTERNAL_ID = st.text("abcdefghijklmnopqrstuvwxyz", min_size=11, max_size=16)
"""Ids of other systems' records: longer than :func:`ids` makes them, without a hyphen, so
never a carecoord id or a UUID an export gives a resource (an export's references stay
external)."""
_EXTERNAL_HOST = st.sampled_from(["https://ehr.example.net/fhir", "http://cbo.example.org/r4"])
_EXTERNAL_SYSTEM = st.sampled_from(
    ["https://registry.example.net/npi", "https://registry.example.net/org"]
)
"""Identifier systems of logical references, apart from :func:`identifiers` ' own."""

TARGET_TYPES = ("Organization", "PractitionerRole", "Practitioner", "HealthcareService")
REASON_TYPES = ("Condition", "Observation", "DiagnosticReport", "DocumentReference")
PEOPLE_TYPES = ("PractitionerRole", "RelatedPerson")
SDOH_CATEGORY_CODES = (
    "food-insecurity",
    "housing-instability",
    "transportation-insecurity",
    "financial-insecurity",
    "social-connection",
    "stress",
)
"""Gravity Project SDOH category codes the generated health concerns use."""


@st.composite
def external_refs(
    draw: st.DrawFn, types: tuple[str, ...] = TARGET_TYPES, *, display: bool = True
) -> ExternalRef:
    """A reference to another system's record of one of ``types``, in every form kept.

    A relative ``Type/id``, an absolute URL, an identifier alone, or both; the
    type stated or not (always for an identifier alone); a display when ``display``.
    """
    rtype = draw(st.sampled_from(types))
    form = draw(st.sampled_from(["relative", "absolute", "identifier", "both"]))
    rid = draw(_EXTERNAL_ID)
    reference: str | None = None
    if form in ("relative", "both"):
        reference = f"{rtype}/{rid}"
    elif form == "absolute":
        reference = f"{draw(_EXTERNAL_HOST)}/{rtype}/{rid}"
    identifier = None
    if form in ("identifier", "both"):
        identifier = Identifier(system=draw(_EXTERNAL_SYSTEM), value=rid)
    stated = rtype if form == "identifier" or draw(st.booleans()) else None
    return ExternalRef(
        resource_type=stated,
        reference=reference,
        identifier=identifier,
        display=draw(optional(texts())) if display else None,
    )


def _external_tuple(types: tuple[str, ...]) -> SearchStrategy[tuple[ExternalRef, ...]]:
    return st.lists(external_refs(types), max_size=2, unique=True).map(tuple)


@st.composite
def codings(draw: st.DrawFn) -> Coding:
    """A code of SNOMED CT, ICD-10-CM, LOINC or a local system, with or without a display."""
    return Coding(
        system=draw(
            st.sampled_from(
                [
                    "http://snomed.info/sct",
                    "http://hl7.org/fhir/sid/icd-10-cm",
                    "http://loinc.org",
                    "https://codes.example.org/local",
                ]
            )
        ),
        code=draw(st.text("ABCZ0123456789.-", min_size=1, max_size=10)),
        display=draw(optional(texts())),
    )


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
        target=draw(optional(external_refs(TARGET_TYPES, display=False))),
        outcome_refs=draw(_external_tuple(("Procedure", "Encounter", "DocumentReference"))),
        concern_ids=draw(unique_ids(HealthConcernId)),
        reason_refs=draw(_external_tuple(REASON_TYPES)),
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
    """A consent with a legal history: to share with contacts, or one as another system wrote it.

    A privacy consent mostly names contacts (and then maybe categories); any
    consent may name no contact, state no policy rule, or have custodians.
    """
    status, history = draw(histories(CONSENT_MACHINE, ConsentStatus.DRAFT))
    scope = draw(st.just(ConsentScope.PATIENT_PRIVACY) | codes(ConsentScope))
    contacts: tuple[ContactId, ...] = ()
    if scope is ConsentScope.PATIENT_PRIVACY:
        contacts = draw(unique_ids(ContactId))
    categories = draw(st.lists(texts(), max_size=MAX, unique=True)) if contacts else []
    return Consent(
        id=draw(ids(ConsentId)),
        patient_id=draw(ids(PatientId)),
        recorded_at=draw(AWARE_DATETIMES),
        recorded_by=draw(ids(StaffId)),
        contact_ids=contacts,
        status=status,
        categories=tuple(categories),
        period=draw(optional(periods())),
        history=history,
        scope=scope,
        policy_rule=draw(optional(codes(ConsentPolicyRule))),
        custodians=draw(_external_tuple(("Organization",))),
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


def _party(draw: st.DrawFn) -> tuple[StaffId | None, ExternalRef | None]:
    """Who recorded or asserted something: nobody, a staff member or another system's person."""
    match draw(st.sampled_from(["none", "staff", "external"])):
        case "staff":
            return draw(ids(StaffId)), None
        case "external":
            return None, draw(external_refs(PEOPLE_TYPES))
        case _:
            return None, None


@st.composite
def health_concerns(draw: st.DrawFn) -> HealthConcern:
    """A health concern within the FHIR Condition rules (con-3, con-4, con-5)."""
    categories = draw(st.lists(codes(ConcernCategory), max_size=3, unique=True))
    verification = draw(optional(codes(ConditionVerificationStatus)))
    clinical: ConditionClinicalStatus | None = None
    if verification is not ConditionVerificationStatus.ENTERED_IN_ERROR:
        clinical = draw(optional(codes(ConditionClinicalStatus)))
        if clinical is None and ConcernCategory.PROBLEM_LIST_ITEM in categories:
            clinical = draw(codes(ConditionClinicalStatus))
    onset = draw(optional(AWARE_DATETIMES))
    abatement = None
    if clinical is not None and not clinical.is_active and draw(st.booleans()):
        abatement = draw(AWARE_DATETIMES) if onset is None else later(onset, draw(DURATIONS))
    found = tuple(draw(st.lists(codings(), max_size=2, unique=True)))
    text = draw(optional(texts()))
    if not found and text is None:
        text = draw(texts())
    recorded_by, recorder = _party(draw)
    asserted_by, asserter = _party(draw)
    return HealthConcern(
        id=draw(ids(HealthConcernId)),
        patient_id=draw(ids(PatientId)),
        codings=found,
        text=text,
        categories=tuple(categories),
        sdoh_categories=tuple(
            draw(st.lists(st.sampled_from(SDOH_CATEGORY_CODES), max_size=2, unique=True))
        ),
        clinical_status=clinical,
        verification_status=verification,
        onset=onset,
        abatement=abatement,
        recorded_at=draw(optional(AWARE_DATETIMES)),
        recorded_by=recorded_by,
        recorder=recorder,
        asserted_by=asserted_by,
        asserter=asserter,
        need_ids=draw(unique_ids(NeedId)),
        barrier_ids=draw(unique_ids(BarrierId)),
        identifiers=tuple(draw(st.lists(identifiers(), max_size=2))),
    )


@st.composite
def patient_goals(draw: st.DrawFn) -> PatientGoal:
    """A goal of the patient's own (see :func:`goals`), addressing needs and health concerns."""
    return PatientGoal(
        patient_id=draw(ids(PatientId)),
        goal=draw(goals(draw(unique_ids(NeedId)))),
        concern_ids=draw(unique_ids(HealthConcernId)),
        expressed_by_patient=draw(st.booleans()),
        identifiers=tuple(draw(st.lists(identifiers(), max_size=2))),
    )


CONCERN_STRATEGIES: dict[type, SearchStrategy[Any]] = {
    HealthConcern: health_concerns(),
    PatientGoal: patient_goals(),
}
"""The strategies of the records outside any care plan (part of ``ENTITY_STRATEGIES``)."""
