"""The patient administration half of the :class:`~carecoord.CareCoordinator` facade.

The patient's language and communication needs (:mod:`.communication`),
coverage and prior authorisations (:mod:`.coverage`), forms and payment plans
(:mod:`.paperwork`), education and teach-back (:mod:`.education`), social
context and screening (:mod:`.social`), and the administration worklist
(:mod:`.admin_worklist`). Each method runs one handler through the
operation runner, like every other facade method.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from ..model import PatientId, Period, StaffId
from ..model.administration import Coverage, PriorAuthorization, PriorAuthorizationId
from ..model.education import EducationMaterial, EducationSession
from ..model.paperwork import (
    DocumentAttachment,
    FormId,
    FormStatus,
    PatientForm,
    PaymentPlan,
    PaymentPlanId,
)
from ..model.social import CommunicationNeeds, ScreeningResponse, SocialContext
from ..screening import SCREENING_RULES, ScreeningRule
from . import admin_worklist, communication, coverage, education, paperwork, social
from .admin_worklist import AdminWorklist
from .education import TeachBackMetric
from .runner import OperationRunner

__all__ = ["AdministrationMethods"]


class AdministrationMethods:
    """Patient administration use cases (mixed into :class:`~carecoord.CareCoordinator`)."""

    _runner: OperationRunner

    # ------------------------------------------------------------ language
    def set_communication_needs(
        self, needs: CommunicationNeeds, *, actor: StaffId
    ) -> CommunicationNeeds:
        """Record how to talk to a patient and their contacts: interpreter, languages."""
        return self._runner.run(communication.set_communication_needs, actor, needs)

    def communication_needs_of(
        self, patient_id: PatientId, *, actor: StaffId
    ) -> CommunicationNeeds | None:
        """The patient's communication needs (``None``: none recorded)."""
        return self._runner.run(communication.communication_needs_of, actor, patient_id)

    # ------------------------------------------------------------ coverage
    def record_coverage(self, coverage_: Coverage, *, actor: StaffId) -> Coverage:
        """Record or replace an insurance coverage of a patient."""
        return self._runner.run(coverage.record_coverage, actor, coverage_)

    def coverages_of(self, patient_id: PatientId, *, actor: StaffId) -> list[Coverage]:
        """Every coverage of a patient, primary first."""
        return self._runner.run(coverage.coverages_of, actor, patient_id)

    def request_authorization(
        self, authorization: PriorAuthorization, *, actor: StaffId
    ) -> PriorAuthorization:
        """Start a prior authorisation request (a draft)."""
        return self._runner.run(coverage.request_authorization, actor, authorization)

    def submit_authorization(
        self,
        authorization_id: PriorAuthorizationId,
        *,
        actor: StaffId,
        decision_due: datetime | None = None,
        payer_reference: str | None = None,
    ) -> PriorAuthorization:
        """Record that the request went to the payer now (again after a denial)."""
        return self._runner.run(
            coverage.submit_authorization, actor, authorization_id, decision_due, payer_reference
        )

    def decide_authorization(
        self,
        authorization_id: PriorAuthorizationId,
        *,
        approved: bool,
        actor: StaffId,
        period: Period | None = None,
        units: int | None = None,
        reason: str | None = None,
    ) -> PriorAuthorization:
        """Record the payer's decision: approved (``period``, ``units``) or denied (``reason``)."""
        return self._runner.run(
            coverage.decide_authorization, actor, authorization_id, approved, period, units, reason
        )

    def cancel_authorization(
        self, authorization_id: PriorAuthorizationId, reason: str, *, actor: StaffId
    ) -> PriorAuthorization:
        """Cancel an authorisation no longer needed."""
        return self._runner.run(coverage.cancel_authorization, actor, authorization_id, reason)

    def authorizations_of(
        self, patient_id: PatientId, *, actor: StaffId
    ) -> list[PriorAuthorization]:
        """Every prior authorisation of a patient, oldest first."""
        return self._runner.run(coverage.authorizations_of, actor, patient_id)

    # --------------------------------------------------------------- forms
    def add_form(self, form: PatientForm, *, actor: StaffId) -> PatientForm:
        """Put a form on the patient's paperwork checklist."""
        return self._runner.run(paperwork.add_form, actor, form)

    def set_form_status(
        self,
        form_id: FormId,
        status: FormStatus | str,
        *,
        actor: StaffId,
        reason: str | None = None,
    ) -> PatientForm:
        """Move a form (rejecting or cancelling needs a reason)."""
        return self._runner.run(paperwork.set_form_status, actor, form_id, status, reason)

    def attach_form_document(
        self, form_id: FormId, document: DocumentAttachment, *, actor: StaffId
    ) -> PatientForm:
        """Attach the document of a form, by reference."""
        return self._runner.run(paperwork.attach_form_document, actor, form_id, document)

    def forms_of(self, patient_id: PatientId, *, actor: StaffId) -> list[PatientForm]:
        """The patient's paperwork checklist."""
        return self._runner.run(paperwork.forms_of, actor, patient_id)

    # -------------------------------------------------------- payment plans
    def agree_payment_plan(self, plan: PaymentPlan, *, actor: StaffId) -> PaymentPlan:
        """Record an agreed payment plan, resolving its cost barrier."""
        return self._runner.run(paperwork.agree_payment_plan, actor, plan)

    def record_instalment_paid(
        self,
        plan_id: PaymentPlanId,
        number: int,
        *,
        actor: StaffId,
        paid_at: datetime | None = None,
    ) -> PaymentPlan:
        """Record that an instalment was paid."""
        return self._runner.run(paperwork.record_instalment_paid, actor, plan_id, number, paid_at)

    def payment_plans_of(self, patient_id: PatientId, *, actor: StaffId) -> list[PaymentPlan]:
        """The patient's payment plans."""
        return self._runner.run(paperwork.payment_plans_of, actor, patient_id)

    # ------------------------------------------------------------ education
    def save_material(self, material: EducationMaterial, *, actor: StaffId) -> EducationMaterial:
        """Add or replace a material of the education catalogue (administrators)."""
        return self._runner.run(education.save_material, actor, material)

    def materials(
        self, *, actor: StaffId, language: str | None = None, include_retired: bool = False
    ) -> list[EducationMaterial]:
        """The education catalogue, of one language when given."""
        return self._runner.run(education.materials, actor, language, include_retired)

    def record_education(
        self,
        session: EducationSession,
        *,
        actor: StaffId,
        follow_up_in: timedelta = timedelta(days=7),
    ) -> EducationSession:
        """Record education given and its teach-back; *not understood* schedules a follow-up."""
        return self._runner.run(education.record_education, actor, session, follow_up_in)

    def education_of(self, patient_id: PatientId, *, actor: StaffId) -> list[EducationSession]:
        """Education given to the patient and their contacts."""
        return self._runner.run(education.education_of, actor, patient_id)

    def teach_back_success(
        self, start: datetime, end: datetime, *, actor: StaffId
    ) -> TeachBackMetric:
        """Teach-back success in ``[start, end)``: understood of all with a result."""
        return self._runner.run(education.teach_back_success, actor, start, end)

    # -------------------------------------------------------------- social
    def set_social_context(self, context: SocialContext, *, actor: StaffId) -> SocialContext:
        """Record the patient's social context."""
        return self._runner.run(social.set_social_context, actor, context)

    def social_context_of(self, patient_id: PatientId, *, actor: StaffId) -> SocialContext | None:
        """The patient's social context (``None``: none recorded)."""
        return self._runner.run(social.social_context_of, actor, patient_id)

    def record_screening(
        self,
        screening: ScreeningResponse,
        *,
        actor: StaffId,
        rules: Sequence[ScreeningRule] = SCREENING_RULES,
    ) -> ScreeningResponse:
        """Record a social needs screening; its answers raise barriers and needs."""
        return self._runner.run(social.record_screening, actor, screening, rules)

    def screenings_of(self, patient_id: PatientId, *, actor: StaffId) -> list[ScreeningResponse]:
        """The patient's screenings."""
        return self._runner.run(social.screenings_of, actor, patient_id)

    # ------------------------------------------------------------ worklist
    def administration_worklist(
        self,
        *,
        actor: StaffId,
        now: datetime | None = None,
        expiring_within: timedelta = timedelta(days=30),
        owner_id: StaffId | None = None,
    ) -> AdminWorklist:
        """Authorisations pending or expiring, overdue forms and missed instalments of the
        patients the actor may read (from index rows)."""
        return self._runner.run(
            admin_worklist.administration_worklist, actor, now, expiring_within, owner_id
        )
