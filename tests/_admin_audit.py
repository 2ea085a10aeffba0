"""The patient administration operations of the audit table (tests/test_service_audit.py).

Operation name -> (call as the allowed actor, call as someone denied, or None when every
active staff member may call it). Order matters: later calls use what earlier ones made.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from carecoord import Barrier, BarrierId, BarrierKind, PatientId, Period, StaffId
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
    ScreeningAnswer,
    ScreeningId,
    ScreeningResponse,
    SocialContext,
)
from carecoord.service import CareCoordinator
from carecoord.storage import UnitOfWork
from world import COORD, MA, OUTSIDER, PATIENT, T0

__all__ = ["ADMIN_OPERATIONS"]

Call = Callable[[CareCoordinator, Any], Any]
DAY = timedelta(days=1)
ELSEWHERE = PatientId("p-elsewhere")
"""A patient on no team: reads of it are denied even to someone who broke the glass for
PATIENT earlier in the table."""
NEEDS = CommunicationNeeds(
    patient_id=PATIENT,
    recorded_at=T0,
    recorded_by=COORD,
    interpreter_needed=True,
    interpreter_language="es",
)
COVERAGE = Coverage(
    id=CoverageId("audit-cov"),
    patient_id=PATIENT,
    payer="Acme",
    member_id="M-1",
    period=Period(start=T0),
    recorded_at=T0,
    recorded_by=COORD,
)
AUTH = PriorAuthorization(
    id=PriorAuthorizationId("audit-pa"),
    patient_id=PATIENT,
    coverage_id=COVERAGE.id,
    service="Home oxygen",
    requested_by=COORD,
    created_at=T0,
)
FORM = PatientForm(
    id=FormId("audit-form"),
    patient_id=PATIENT,
    form_type=FormType.OTHER,
    purpose="Benefits",
    created_at=T0,
    created_by=COORD,
)
DOCUMENT = DocumentAttachment(
    reference="dms:1", content_type="application/pdf", attached_at=T0, attached_by=COORD
)
MATERIAL = EducationMaterial(
    id=MaterialId("audit-m"),
    title="Diet",
    topic="diet",
    language="en",
    format=MaterialFormat.PRINT,
)
LESSON = EducationSession(
    id=EducationSessionId("audit-ed"),
    patient_id=PATIENT,
    material_id=MATERIAL.id,
    given_at=T0,
    given_by=COORD,
    result=TeachBackResult.UNDERSTOOD,
)
CONTEXT = SocialContext(patient_id=PATIENT, recorded_at=T0, recorded_by=COORD, lives_alone=True)
SCREENING = ScreeningResponse(
    id=ScreeningId("audit-scr"),
    patient_id=PATIENT,
    at=T0,
    recorded_by=COORD,
    answers=(ScreeningAnswer("93030-5", "LA30133-5"),),
)
PLAN_ID = PaymentPlanId("audit-pp")


def _payment_plan(service: CareCoordinator, actor: StaffId) -> PaymentPlan:
    """A cost barrier written straight to the store (no audit entry), and its plan."""
    barrier = BarrierId("audit-cost")
    with UnitOfWork(service.store) as uow:
        if uow.find(Barrier, barrier) is None:
            uow.add(
                Barrier(
                    id=barrier,
                    patient_id=PATIENT,
                    kind=BarrierKind.COST,
                    identified_at=T0,
                    identified_by=COORD,
                )
            )
    return PaymentPlan(
        id=PLAN_ID,
        patient_id=PATIENT,
        barrier_id=barrier,
        creditor="Hospital",
        total=100,
        currency="USD",
        instalments=(Instalment(number=1, due_at=T0 + 30 * DAY, amount=100),),
        agreed_at=T0,
        agreed_by=actor,
    )


ADMIN_OPERATIONS: dict[str, tuple[Call, Call | None]] = {
    "set_communication_needs": (
        lambda s, a: s.set_communication_needs(NEEDS, actor=a),
        lambda s, a: s.set_communication_needs(NEEDS, actor=OUTSIDER),
    ),
    "communication_needs_of": (
        lambda s, a: s.communication_needs_of(PATIENT, actor=a),
        lambda s, a: s.communication_needs_of(ELSEWHERE, actor=OUTSIDER),
    ),
    "record_coverage": (
        lambda s, a: s.record_coverage(COVERAGE, actor=a),
        lambda s, a: s.record_coverage(COVERAGE, actor=OUTSIDER),
    ),
    "coverages_of": (
        lambda s, a: s.coverages_of(PATIENT, actor=a),
        lambda s, a: s.coverages_of(ELSEWHERE, actor=OUTSIDER),
    ),
    "request_authorization": (
        lambda s, a: s.request_authorization(AUTH, actor=a),
        lambda s, a: s.request_authorization(AUTH, actor=OUTSIDER),
    ),
    "submit_authorization": (
        lambda s, a: s.submit_authorization(AUTH.id, actor=a),
        lambda s, a: s.submit_authorization(AUTH.id, actor=OUTSIDER),
    ),
    "decide_authorization": (
        lambda s, a: s.decide_authorization(
            AUTH.id, approved=True, period=Period(T0, T0 + 30 * DAY), actor=a
        ),
        lambda s, a: s.decide_authorization(AUTH.id, approved=False, reason="x", actor=OUTSIDER),
    ),
    "cancel_authorization": (
        lambda s, a: s.cancel_authorization(AUTH.id, "No longer needed", actor=a),
        lambda s, a: s.cancel_authorization(AUTH.id, "x", actor=OUTSIDER),
    ),
    "authorizations_of": (
        lambda s, a: s.authorizations_of(PATIENT, actor=a),
        lambda s, a: s.authorizations_of(ELSEWHERE, actor=OUTSIDER),
    ),
    "add_form": (
        lambda s, a: s.add_form(FORM, actor=a),
        lambda s, a: s.add_form(FORM, actor=OUTSIDER),
    ),
    "set_form_status": (
        lambda s, a: s.set_form_status(FORM.id, "in-progress", actor=a),
        lambda s, a: s.set_form_status(FORM.id, "submitted", actor=OUTSIDER),
    ),
    "attach_form_document": (
        lambda s, a: s.attach_form_document(FORM.id, DOCUMENT, actor=a),
        lambda s, a: s.attach_form_document(FORM.id, DOCUMENT, actor=OUTSIDER),
    ),
    "forms_of": (
        lambda s, a: s.forms_of(PATIENT, actor=a),
        lambda s, a: s.forms_of(ELSEWHERE, actor=OUTSIDER),
    ),
    "agree_payment_plan": (
        lambda s, a: s.agree_payment_plan(_payment_plan(s, a), actor=a),
        lambda s, a: s.agree_payment_plan(_payment_plan(s, a), actor=OUTSIDER),
    ),
    "record_instalment_paid": (
        lambda s, a: s.record_instalment_paid(PLAN_ID, 1, actor=a),
        lambda s, a: s.record_instalment_paid(PLAN_ID, 1, actor=OUTSIDER),
    ),
    "payment_plans_of": (
        lambda s, a: s.payment_plans_of(PATIENT, actor=a),
        lambda s, a: s.payment_plans_of(ELSEWHERE, actor=OUTSIDER),
    ),
    "save_material": (
        lambda s, a: s.save_material(MATERIAL, actor=a),
        lambda s, a: s.save_material(MATERIAL, actor=MA),
    ),
    "materials": (lambda s, a: s.materials(actor=a), None),
    "record_education": (
        lambda s, a: s.record_education(LESSON, actor=a),
        lambda s, a: s.record_education(LESSON, actor=OUTSIDER),
    ),
    "education_of": (
        lambda s, a: s.education_of(PATIENT, actor=a),
        lambda s, a: s.education_of(ELSEWHERE, actor=OUTSIDER),
    ),
    "teach_back_success": (
        lambda s, a: s.teach_back_success(T0, T0 + DAY, actor=a),
        lambda s, a: s.teach_back_success(T0, T0 + DAY, actor=MA),
    ),
    "set_social_context": (
        lambda s, a: s.set_social_context(CONTEXT, actor=a),
        lambda s, a: s.set_social_context(CONTEXT, actor=OUTSIDER),
    ),
    "social_context_of": (
        lambda s, a: s.social_context_of(PATIENT, actor=a),
        lambda s, a: s.social_context_of(ELSEWHERE, actor=OUTSIDER),
    ),
    "record_screening": (
        lambda s, a: s.record_screening(SCREENING, actor=a),
        lambda s, a: s.record_screening(SCREENING, actor=OUTSIDER),
    ),
    "screenings_of": (
        lambda s, a: s.screenings_of(PATIENT, actor=a),
        lambda s, a: s.screenings_of(ELSEWHERE, actor=OUTSIDER),
    ),
    "administration_worklist": (lambda s, a: s.administration_worklist(actor=a), None),
}
