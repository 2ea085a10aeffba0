"""One sample of every patient administration record kind, for the PHI walk (tests/test_phi.py).

Free-text and identifier fields are filled in; the PHI test plants its marker in them and
checks it never shows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from carecoord.model import BarrierId, CarePlanId, ContactId, GoalId, PatientId, Period, StaffId
from carecoord.model.administration import (
    Coverage,
    CoverageId,
    PriorAuthorization,
    PriorAuthorizationId,
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
    DocumentAttachment,
    FormId,
    FormType,
    Instalment,
    PatientForm,
    PaymentPlan,
    PaymentPlanId,
)
from carecoord.model.social import (
    CommunicationNeeds,
    ContactLanguage,
    LivingSituation,
    ScreeningAnswer,
    ScreeningId,
    ScreeningResponse,
    SocialContext,
)

__all__ = ["ADMIN_NOT_PHI", "ADMIN_SAMPLES"]

NY = ZoneInfo("America/New_York")
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=NY)
DAY = timedelta(days=1)
STAFF = StaffId("staff-1")
PATIENT = PatientId("patient-1")


def _authorization() -> PriorAuthorization:
    made = PriorAuthorization(
        id=PriorAuthorizationId("pa-1"),
        patient_id=PATIENT,
        coverage_id=CoverageId("cov-1"),
        service="Home oxygen",
        requested_by=STAFF,
        created_at=T0,
    )
    sent = made.submit(by=STAFF, at=T0, payer_reference="AUTH-1")
    return sent.deny("Not covered", by=STAFF, at=T0 + DAY)


ADMIN_SAMPLES: dict[str, Callable[[], Any]] = {
    "CommunicationNeeds": lambda: CommunicationNeeds(
        patient_id=PATIENT,
        recorded_at=T0,
        recorded_by=STAFF,
        interpreter_needed=True,
        interpreter_language="es",
        contacts=(ContactLanguage(ContactId("c1"), "en"),),
    ),
    "Coverage": lambda: Coverage(
        id=CoverageId("cov-1"),
        patient_id=PATIENT,
        payer="Acme Health",
        member_id="M-1",
        period=Period(start=T0),
        recorded_at=T0,
        recorded_by=STAFF,
        plan_name="Gold",
        subscriber_id="S-1",
    ),
    "PriorAuthorization": _authorization,
    "PatientForm": lambda: (
        PatientForm(
            id=FormId("f-1"),
            patient_id=PATIENT,
            form_type=FormType.DISABILITY,
            purpose="Disability parking permit",
            created_at=T0,
            created_by=STAFF,
            document=DocumentAttachment(
                reference="https://dms.example/1",
                content_type="application/pdf",
                attached_at=T0,
                attached_by=STAFF,
                title="Permit form",
            ),
        )
        .transition("submitted", by=STAFF, at=T0)
        .transition("rejected", by=STAFF, at=T0, reason="Unsigned")
    ),
    "PaymentPlan": lambda: PaymentPlan(
        id=PaymentPlanId("pp-1"),
        patient_id=PATIENT,
        barrier_id=BarrierId("b-1"),
        creditor="General Hospital",
        total=200,
        currency="USD",
        instalments=(
            Instalment(number=1, due_at=T0, amount=100),
            Instalment(number=2, due_at=T0 + DAY, amount=100),
        ),
        agreed_at=T0,
        agreed_by=STAFF,
    ),
    "EducationMaterial": lambda: EducationMaterial(
        id=MaterialId("m-1"),
        title="Insulin at home",
        topic="insulin",
        language="es",
        format=MaterialFormat.PRINT,
        link="https://library.example/insulin",
    ),
    "EducationSession": lambda: EducationSession(
        id=EducationSessionId("ed-1"),
        patient_id=PATIENT,
        material_id=MaterialId("m-1"),
        given_at=T0,
        given_by=STAFF,
        result=TeachBackResult.PARTLY,
        plan_id=CarePlanId("plan-1"),
        goal_ids=(GoalId("g-1"),),
        note="Confused the doses",
    ),
    "SocialContext": lambda: SocialContext(
        patient_id=PATIENT,
        recorded_at=T0,
        recorded_by=STAFF,
        living_situation=LivingSituation.STABLE_HOUSING,
        lives_alone=True,
    ),
    "ScreeningResponse": lambda: ScreeningResponse(
        id=ScreeningId("scr-1"),
        patient_id=PATIENT,
        at=T0,
        recorded_by=STAFF,
        answers=(ScreeningAnswer("71802-3", "LA30190-5"),),
    ),
}
"""A sample of every administration record kind, by kind."""

ADMIN_NOT_PHI: dict[str, str] = {
    "ContactLanguage.language": "BCP 47 language code",
    "CommunicationNeeds.interpreter_language": "BCP 47 language code",
    "EducationMaterial.language": "BCP 47 language code",
    "PaymentPlan.currency": "ISO 4217 currency code",
    "ScreeningAnswer.question": "LOINC question code",
    "ScreeningAnswer.answer": "LOINC answer code",
}
"""``str`` fields of the administration records that are codes, not PHI (part of NOT_PHI)."""
