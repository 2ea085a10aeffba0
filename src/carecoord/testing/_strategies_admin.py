"""Strategies for the patient administration records: communication needs, coverage, prior
authorisations, forms, payment plans, education, social context and screenings (import from
:mod:`.strategies`)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from carecoord.model import (
    BarrierId,
    CarePlanId,
    ContactId,
    GoalId,
    InterventionId,
    NeedId,
    PatientId,
    ReferralId,
    StaffId,
)
from carecoord.model.administration import (
    AuthorizationStatus,
    Coverage,
    CoverageId,
    CoverageStatus,
    PriorAuthorization,
    PriorAuthorizationId,
    SubscriberRelationship,
)
from carecoord.model.education import (
    EducationMaterial,
    EducationSession,
    EducationSessionId,
    MaterialFormat,
    MaterialId,
    TeachBackResult,
)
from carecoord.model.paperwork import (
    FORM_MACHINE,
    DocumentAttachment,
    FormId,
    FormStatus,
    FormType,
    Instalment,
    PatientForm,
    PaymentPlan,
    PaymentPlanId,
)
from carecoord.model.social import (
    CaregiverAvailability,
    CommunicationNeeds,
    ContactLanguage,
    LivingSituation,
    ScreeningAnswer,
    ScreeningId,
    ScreeningResponse,
    SocialContext,
    TransportAccess,
)

from ._strategies_common import (
    AWARE_DATETIMES,
    MAX,
    POSITIVE_DURATIONS,
    codes,
    ids,
    later,
    optional,
    periods,
    texts,
    unique_ids,
)

__all__ = [
    "ADMIN_STRATEGIES",
    "communication_needs",
    "coverages",
    "education_materials",
    "education_sessions",
    "language_tags",
    "patient_forms",
    "payment_plans",
    "prior_authorizations",
    "screening_responses",
    "social_contexts",
]


def language_tags() -> SearchStrategy[str]:
    """BCP-47 tags such as ``es`` or ``es-MX``."""
    return st.from_regex(r"[a-z]{2,3}(-[A-Z]{2})?", fullmatch=True)


@st.composite
def communication_needs(draw: st.DrawFn) -> CommunicationNeeds:
    """A patient's communication needs (contacts' languages, maybe an interpreter)."""
    contact_ids = draw(st.lists(ids(ContactId), max_size=MAX, unique=True))
    needed = draw(st.booleans())
    return CommunicationNeeds(
        patient_id=draw(ids(PatientId)),
        recorded_at=draw(AWARE_DATETIMES),
        recorded_by=draw(ids(StaffId)),
        interpreter_needed=needed,
        interpreter_language=draw(optional(language_tags())) if needed else None,
        contacts=tuple(
            ContactLanguage(c, draw(language_tags()), draw(st.booleans())) for c in contact_ids
        ),
    )


@st.composite
def coverages(draw: st.DrawFn) -> Coverage:
    """An insurance coverage."""
    return Coverage(
        id=draw(ids(CoverageId)),
        patient_id=draw(ids(PatientId)),
        payer=draw(texts()),
        member_id=draw(texts()),
        period=draw(periods()),
        recorded_at=draw(AWARE_DATETIMES),
        recorded_by=draw(ids(StaffId)),
        plan_name=draw(optional(texts())),
        relationship=draw(codes(SubscriberRelationship)),
        subscriber_id=draw(optional(texts())),
        status=draw(codes(CoverageStatus)),
        order=draw(st.integers(1, 5)),
    )


@st.composite
def prior_authorizations(draw: st.DrawFn) -> PriorAuthorization:
    """A prior authorisation in any state its machine reaches."""
    created = draw(AWARE_DATETIMES)
    staff = draw(ids(StaffId))
    made = PriorAuthorization(
        id=draw(ids(PriorAuthorizationId)),
        patient_id=draw(ids(PatientId)),
        coverage_id=draw(ids(CoverageId)),
        service=draw(texts()),
        requested_by=staff,
        created_at=created,
        requested_units=draw(optional(st.integers(1, 100))),
        submit_by=draw(optional(AWARE_DATETIMES)),
        plan_id=draw(optional(ids(CarePlanId))),
        referral_id=draw(optional(ids(ReferralId))),
    )
    step = later(created, draw(POSITIVE_DURATIONS))
    ending = draw(st.sampled_from(["draft", "submitted", "approved", "denied", "cancelled"]))
    if ending == "draft":
        return made
    if ending == "cancelled":
        return made.transition(AuthorizationStatus.CANCELLED, by=staff, at=step, reason="x")
    made = made.submit(
        by=staff,
        at=step,
        decision_due=draw(optional(AWARE_DATETIMES)),
        payer_reference=draw(optional(texts())),
    )
    if ending == "approved":
        period = draw(periods(open_ended=False))
        return made.approve(period, by=staff, at=step, units=draw(optional(st.integers(1, 50))))
    if ending == "denied":
        return made.deny(draw(texts()), by=staff, at=step)
    return made


@st.composite
def patient_forms(draw: st.DrawFn) -> PatientForm:
    """A form anywhere in its machine, maybe with a document attached."""
    created = draw(AWARE_DATETIMES)
    staff = draw(ids(StaffId))
    made = PatientForm(
        id=draw(ids(FormId)),
        patient_id=draw(ids(PatientId)),
        form_type=draw(codes(FormType)),
        purpose=draw(texts()),
        created_at=created,
        created_by=staff,
        due=draw(optional(AWARE_DATETIMES)),
        helper_id=draw(optional(ids(StaffId))),
        helper_contact_id=draw(optional(ids(ContactId))),
    )
    if draw(st.booleans()):
        made = made.attach(
            DocumentAttachment(
                reference=draw(texts()),
                content_type="application/pdf",
                attached_at=created,
                attached_by=staff,
                title=draw(optional(texts())),
            )
        )
    status = made.status
    for target in draw(st.lists(codes(FormStatus), max_size=MAX)):
        if FORM_MACHINE.can(status, target):
            made = made.transition(target, by=staff, at=created, reason="x")
            status = made.status
    return made


@st.composite
def payment_plans(draw: st.DrawFn) -> PaymentPlan:
    """A payment plan of one to three instalments, some maybe paid."""
    agreed = draw(AWARE_DATETIMES)
    count = draw(st.integers(1, MAX))
    amounts = [draw(st.integers(1, 100_000)) for _ in range(count)]
    due = agreed
    instalments = []
    for n, amount in enumerate(amounts, start=1):
        due = later(due, draw(POSITIVE_DURATIONS))
        paid = draw(optional(st.just(due)))
        instalments.append(Instalment(number=n, due_at=due, amount=amount, paid_at=paid))
    return PaymentPlan(
        id=draw(ids(PaymentPlanId)),
        patient_id=draw(ids(PatientId)),
        barrier_id=draw(ids(BarrierId)),
        creditor=draw(texts()),
        total=sum(amounts),
        currency=draw(st.sampled_from(["USD", "EUR", "MXN"])),
        instalments=tuple(instalments),
        agreed_at=agreed,
        agreed_by=draw(ids(StaffId)),
        cancelled_at=draw(optional(AWARE_DATETIMES)),
    )


@st.composite
def education_materials(draw: st.DrawFn) -> EducationMaterial:
    """A catalogue entry."""
    return EducationMaterial(
        id=draw(ids(MaterialId)),
        title=draw(texts()),
        topic=draw(texts()),
        language=draw(language_tags()),
        format=draw(codes(MaterialFormat)),
        reading_grade=draw(optional(st.integers(1, 16))),
        link=draw(optional(texts())),
        active=draw(st.booleans()),
    )


@st.composite
def education_sessions(draw: st.DrawFn) -> EducationSession:
    """Education given, with or without a plan, goals and a follow-up."""
    plan = draw(optional(ids(CarePlanId)))
    return EducationSession(
        id=draw(ids(EducationSessionId)),
        patient_id=draw(ids(PatientId)),
        material_id=draw(ids(MaterialId)),
        given_at=draw(AWARE_DATETIMES),
        given_by=draw(ids(StaffId)),
        result=draw(codes(TeachBackResult)),
        contact_id=draw(optional(ids(ContactId))),
        plan_id=plan,
        goal_ids=draw(unique_ids(GoalId)) if plan is not None else (),
        interpreter_used=draw(st.booleans()),
        follow_up_id=draw(optional(ids(InterventionId))) if plan is not None else None,
        note=draw(optional(texts())),
    )


@st.composite
def social_contexts(draw: st.DrawFn) -> SocialContext:
    """A patient's social context."""
    return SocialContext(
        patient_id=draw(ids(PatientId)),
        recorded_at=draw(AWARE_DATETIMES),
        recorded_by=draw(ids(StaffId)),
        living_situation=draw(optional(codes(LivingSituation))),
        lives_alone=draw(optional(st.booleans())),
        transport=draw(optional(codes(TransportAccess))),
        caregiver_availability=draw(optional(codes(CaregiverAvailability))),
    )


@st.composite
def screening_responses(draw: st.DrawFn) -> ScreeningResponse:
    """A screening with LOINC-shaped answers and what it raised."""
    questions = draw(
        st.lists(st.from_regex(r"[0-9]{4,5}-[0-9]", fullmatch=True), max_size=MAX, unique=True)
    )
    return ScreeningResponse(
        id=draw(ids(ScreeningId)),
        patient_id=draw(ids(PatientId)),
        at=draw(AWARE_DATETIMES),
        recorded_by=draw(ids(StaffId)),
        answers=tuple(ScreeningAnswer(q, f"LA{n}-{n % 10}") for n, q in enumerate(questions)),
        barrier_ids=draw(unique_ids(BarrierId)),
        need_ids=draw(unique_ids(NeedId)),
    )


ADMIN_STRATEGIES: dict[type, SearchStrategy[Any]] = {
    CommunicationNeeds: communication_needs(),
    Coverage: coverages(),
    PriorAuthorization: prior_authorizations(),
    PatientForm: patient_forms(),
    PaymentPlan: payment_plans(),
    EducationMaterial: education_materials(),
    EducationSession: education_sessions(),
    SocialContext: social_contexts(),
    ScreeningResponse: screening_responses(),
}
"""One strategy per administration record kind (part of ``ENTITY_STRATEGIES``)."""
