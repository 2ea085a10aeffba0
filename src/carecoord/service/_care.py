"""The care-record half of the :class:`~carecoord.CareCoordinator` facade.

Assessments, care plans and their goals and interventions, reviews, referrals,
appointments, barriers, notes, decisions, consents, encounters, health concerns
and the patient's own goals (in ``_care_concerns``), worklists,
metrics, emergency access and whole-record exchange: each method runs one handler through the
operation runner, exactly like the methods in :mod:`.coordinator`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from ..caseload import DueIntervention, Worklist, WorklistScope
from ..metrics import MetricReport
from ..model import (
    Appointment,
    AppointmentId,
    AppointmentStatus,
    Assessment,
    Barrier,
    BarrierId,
    CarePlan,
    CarePlanId,
    CarePlanStatus,
    Consent,
    ConsentId,
    ConsentStatus,
    Encounter,
    EncounterId,
    Goal,
    GoalId,
    GoalLifecycleStatus,
    GoalRevisionReason,
    Intervention,
    InterventionId,
    Note,
    Patient,
    PatientDecision,
    PatientId,
    ProgressReading,
    Referral,
    ReferralId,
    ReferralStatus,
    Review,
    StaffId,
    StaffMember,
    SurveyResponse,
    Target,
    TaskStatus,
)
from ..model.access import EmergencyAccess
from . import (
    appointments,
    emergency,
    exchange,
    plans,
    records,
    referrals,
    reporting,
    worklists,
)
from ._care_concerns import ConcernMethods
from .exchange import RECORD_KINDS, PatientEntities, RecordImport
from .runner import OperationRunner

__all__ = ["CareRecordMethods"]


class CareRecordMethods(ConcernMethods):
    """Use cases on a patient's care record (mixed into :class:`~carecoord.CareCoordinator`).

    Health concerns and the patient's own goals come from :class:`~._care_concerns.ConcernMethods`.
    """

    _runner: OperationRunner

    # --------------------------------------------------------- assessments
    def record_assessment(self, assessment: Assessment, *, actor: StaffId) -> Assessment:
        """Record an assessment and the needs it identified."""
        return self._runner.run(records.record_assessment, actor, assessment)

    def assessments_of(self, patient_id: PatientId, *, actor: StaffId) -> list[Assessment]:
        """Every assessment of a patient, oldest first."""
        return self._runner.run(records.assessments_of, actor, patient_id)

    # ----------------------------------------------------------- care plans
    def create_care_plan(self, plan: CarePlan, *, actor: StaffId) -> CarePlan:
        """Create a care plan; the needs it addresses must come from the patient's assessments."""
        return self._runner.run(plans.create_care_plan, actor, plan)

    def care_plan(self, plan_id: CarePlanId, *, actor: StaffId) -> CarePlan:
        """Read a care plan."""
        return self._runner.run(plans.care_plan, actor, plan_id)

    def care_plans_of(self, patient_id: PatientId, *, actor: StaffId) -> list[CarePlan]:
        """Every care plan of a patient."""
        return self._runner.run(plans.care_plans_of, actor, patient_id)

    def set_plan_status(
        self,
        plan_id: CarePlanId,
        status: CarePlanStatus | str,
        *,
        actor: StaffId,
        reason: str | None = None,
    ) -> CarePlan:
        """Move a plan to ``status``; activating it announces its open assignments."""
        return self._runner.run(plans.set_plan_status, actor, plan_id, status, reason)

    def add_goal(
        self,
        plan_id: CarePlanId,
        goal: Goal,
        *,
        actor: StaffId,
        status: GoalLifecycleStatus | str | None = None,
    ) -> CarePlan:
        """Add a goal to a plan (its id must be new in the plan).

        ``status="active"`` adds it active in one call (a legal move from
        ``proposed``, recorded in the goal's history).
        """
        return self._runner.run(plans.add_goal, actor, plan_id, goal, status=status)

    def set_goal_status(
        self,
        plan_id: CarePlanId,
        goal_id: GoalId,
        status: GoalLifecycleStatus | str,
        *,
        actor: StaffId,
        reason: str | None = None,
    ) -> CarePlan:
        """Move a goal to lifecycle ``status`` (FHIR goal-status)."""
        return self._runner.run(plans.set_goal_status, actor, plan_id, goal_id, status, reason)

    def revise_goal(
        self,
        plan_id: CarePlanId,
        goal_id: GoalId,
        *,
        actor: StaffId,
        reason: GoalRevisionReason | str,
        description: str | None = None,
        targets: Iterable[Target] | None = None,
        reason_text: str | None = None,
        expected_version: int | None = None,
    ) -> CarePlan:
        """Revise a goal's description and/or targets; the earlier ones stay in its history.

        ``reason`` is a :class:`~carecoord.model.GoalRevisionReason` code, ``reason_text``
        optional free text. New targets re-derive the achievement status. A
        closed goal raises :class:`~carecoord.GoalClosedError`; with
        ``expected_version`` a plan changed since raises ConflictError. Needs
        ``edit-goals``; emits ``GoalRevised``.
        """
        return self._runner.run(
            plans.revise_goal,
            actor,
            plan_id,
            goal_id,
            reason=reason,
            description=description,
            targets=targets,
            reason_text=reason_text,
            expected_version=expected_version,
        )

    def record_progress(
        self, plan_id: CarePlanId, goal_id: GoalId, reading: ProgressReading, *, actor: StaffId
    ) -> CarePlan:
        """Record a progress reading; the goal's achievement status is re-derived."""
        return self._runner.run(plans.record_progress, actor, plan_id, goal_id, reading)

    def add_intervention(
        self, plan_id: CarePlanId, intervention: Intervention, *, actor: StaffId
    ) -> CarePlan:
        """Add an intervention to a plan; an assignee must be a registered staff member."""
        return self._runner.run(plans.add_intervention, actor, plan_id, intervention)

    def assign_intervention(
        self,
        plan_id: CarePlanId,
        intervention_id: InterventionId,
        assignee_id: StaffId,
        *,
        actor: StaffId,
    ) -> CarePlan:
        """Assign (or reassign) an open intervention."""
        return self._runner.run(
            plans.assign_intervention, actor, plan_id, intervention_id, assignee_id
        )

    def set_intervention_status(
        self,
        plan_id: CarePlanId,
        intervention_id: InterventionId,
        status: TaskStatus | str,
        *,
        actor: StaffId,
        reason: str | None = None,
    ) -> CarePlan:
        """Move an intervention through FHIR task-status (a recurring one gets its next one)."""
        return self._runner.run(
            plans.set_intervention_status, actor, plan_id, intervention_id, status, reason
        )

    # -------------------------------------------------------------- reviews
    def record_review(self, review: Review, *, actor: StaffId) -> Review:
        """Record a plan review (moves the plan's next review, updates its goals)."""
        return self._runner.run(plans.record_review, actor, review)

    def reviews_of(self, plan_id: CarePlanId, *, actor: StaffId) -> list[Review]:
        """Every review of a plan, oldest first."""
        return self._runner.run(plans.reviews_of, actor, plan_id)

    # ------------------------------------------------------------ referrals
    def create_referral(self, referral: Referral, *, actor: StaffId) -> Referral:
        """Create a referral (usually in ``draft``; send it with :meth:`set_referral_status`)."""
        return self._runner.run(referrals.create_referral, actor, referral)

    def set_referral_status(
        self,
        referral_id: ReferralId,
        status: ReferralStatus | str,
        *,
        actor: StaffId,
        reason: str | None = None,
    ) -> Referral:
        """Move a referral along its closed loop (sent, accepted, scheduled, ...)."""
        return self._runner.run(referrals.set_referral_status, actor, referral_id, status, reason)

    def record_referral_result(
        self, referral_id: ReferralId, outcome: str, *, actor: StaffId
    ) -> Referral:
        """Record the result that came back: the referral's loop is closed."""
        return self._runner.run(referrals.record_referral_result, actor, referral_id, outcome)

    def referral(self, referral_id: ReferralId, *, actor: StaffId) -> Referral:
        """Read a referral."""
        return self._runner.run(referrals.referral, actor, referral_id)

    def referrals_of(self, patient_id: PatientId, *, actor: StaffId) -> list[Referral]:
        """Every referral of a patient."""
        return self._runner.run(referrals.referrals_of, actor, patient_id)

    # --------------------------------------------------------- appointments
    def schedule_appointment(
        self,
        appointment: Appointment,
        *,
        actor: StaffId,
        status: AppointmentStatus | str | None = None,
    ) -> Appointment:
        """Record an appointment arranged for the patient.

        ``status="booked"`` records it booked in one call (a legal move from
        ``proposed``, recorded in its history; ``booked_by`` the actor); the
        patient's and contacts' reminders go out when it is booked.
        """
        return self._runner.run(
            appointments.schedule_appointment, actor, appointment, status=status
        )

    def set_appointment_status(
        self,
        appointment_id: AppointmentId,
        status: AppointmentStatus | str,
        *,
        actor: StaffId,
        reason: str | None = None,
    ) -> Appointment:
        """Move an appointment through FHIR appointment-status."""
        return self._runner.run(
            appointments.set_appointment_status, actor, appointment_id, status, reason
        )

    def appointments_of(self, patient_id: PatientId, *, actor: StaffId) -> list[Appointment]:
        """Every appointment of a patient, earliest first."""
        return self._runner.run(appointments.appointments_of, actor, patient_id)

    # ----------------------------------------------- barriers, notes, consent
    def record_barrier(self, barrier: Barrier, *, actor: StaffId) -> Barrier:
        """Record a barrier to care."""
        return self._runner.run(records.record_barrier, actor, barrier)

    def resolve_barrier(self, barrier_id: BarrierId, summary: str, *, actor: StaffId) -> Barrier:
        """Resolve a barrier, now."""
        return self._runner.run(records.resolve_barrier, actor, barrier_id, summary)

    def barriers_of(self, patient_id: PatientId, *, actor: StaffId) -> list[Barrier]:
        """Every barrier of a patient."""
        return self._runner.run(records.barriers_of, actor, patient_id)

    def record_note(self, note: Note, *, actor: StaffId) -> Note:
        """Document an interaction; a note naming a contact must name one of the patient's."""
        return self._runner.run(records.record_note, actor, note)

    def notes_of(self, patient_id: PatientId, *, actor: StaffId) -> list[Note]:
        """Every note of a patient, oldest first."""
        return self._runner.run(records.notes_of, actor, patient_id)

    def record_decision(self, decision: PatientDecision, *, actor: StaffId) -> PatientDecision:
        """Record a patient's decision about a recommendation."""
        return self._runner.run(records.record_decision, actor, decision)

    def decisions_of(self, patient_id: PatientId, *, actor: StaffId) -> list[PatientDecision]:
        """Every recorded decision of a patient, oldest first."""
        return self._runner.run(records.decisions_of, actor, patient_id)

    def record_consent(self, consent: Consent, *, actor: StaffId) -> Consent:
        """Record a consent; every contact it names must be one of the patient's."""
        return self._runner.run(records.record_consent, actor, consent)

    def set_consent_status(
        self,
        consent_id: ConsentId,
        status: ConsentStatus | str,
        *,
        actor: StaffId,
        reason: str | None = None,
    ) -> Consent:
        """Move a consent through FHIR consent-state (e.g. withdraw: ``inactive``)."""
        return self._runner.run(records.set_consent_status, actor, consent_id, status, reason)

    def consents_of(self, patient_id: PatientId, *, actor: StaffId) -> list[Consent]:
        """Every consent of a patient."""
        return self._runner.run(records.consents_of, actor, patient_id)

    def record_encounter(self, encounter: Encounter, *, actor: StaffId) -> Encounter:
        """Record a hospital or clinic encounter of a patient (admission, maybe discharge)."""
        return self._runner.run(records.record_encounter, actor, encounter)

    def record_discharge(
        self, encounter_id: EncounterId, discharged_at: datetime, *, actor: StaffId
    ) -> Encounter:
        """Record when an admitted patient was discharged (once)."""
        return self._runner.run(records.record_discharge, actor, encounter_id, discharged_at)

    def record_survey_response(self, response: SurveyResponse, *, actor: StaffId) -> SurveyResponse:
        """Record a patient's satisfaction survey score."""
        return self._runner.run(records.record_survey_response, actor, response)

    # ------------------------------------------------------------ worklists
    def interventions_due(
        self, staff_id: StaffId, *, actor: StaffId, until: datetime | None = None
    ) -> list[DueIntervention]:
        """Open interventions of ``staff_id`` due by ``until`` (default now), most urgent first.

        Served by the store's index: only the plans that hold due items are read.
        Items of patients the actor may not read are left out.
        """
        return self._runner.run(worklists.interventions_due, actor, staff_id, until)

    def reviews_due(self, *, actor: StaffId, until: datetime | None = None) -> list[CarePlan]:
        """Active plans the actor may read with a review due before ``until`` (default now)."""
        return self._runner.run(worklists.reviews_due, actor, until)

    def worklist(
        self,
        staff_id: StaffId,
        *,
        actor: StaffId,
        now: datetime | None = None,
        scope: WorklistScope | str = WorklistScope.SELF,
        until: datetime | None = None,
        stalled_after: timedelta | None = None,
        no_contact_after: timedelta = timedelta(days=30),
    ) -> Worklist:
        """The caseload worklist of ``staff_id`` at ``now`` (default: the clock), most urgent first.

        Lists interventions and reviews due by the end of the viewer's local day
        (``actor``'s time zone; or by ``until``), stalled referrals (no status
        change for ``stalled_after``, default :attr:`stalled_referral_after`) and
        completed ones still without an outcome, open goals at risk, unresolved
        barriers, caseload patients without a completed patient or family
        contact for ``no_contact_after``, and emergency grants waiting for this
        staff member's review (own and supervisor scopes). ``scope`` (see
        :class:`~carecoord.caseload.WorklistScope`) widens it to the staff
        member's teams or reporting line.

        Served by the store's index; items of patients the actor may not read
        are left out. Access: one's own worklist; a report's, for a
        supervisor; anyone else's needs ``view-caseloads``.
        """
        return self._runner.run(
            worklists.worklist,
            actor,
            staff_id,
            now=now,
            scope=scope,
            until=until,
            stalled_after=stalled_after,
            no_contact_after=no_contact_after,
        )

    # --------------------------------------------------------------- metrics
    def metrics(
        self,
        start: datetime,
        end: datetime,
        *,
        actor: StaffId,
        coordinator: StaffId | None = None,
    ) -> MetricReport:
        """Quality metrics over ``[start, end)`` (see :mod:`carecoord.metrics`).

        With ``coordinator``, only patients on whose care teams the coordinator
        held a membership during the period count. Metrics are de-identified
        aggregates; the actor needs the staff-wide ``view-metrics`` permission.
        A period still running is measured as of the clock's time.
        """
        return self._runner.run(reporting.metrics, actor, start, end, coordinator)

    # ------------------------------------------------------ emergency access
    def break_glass(
        self,
        patient_id: PatientId,
        reason: str,
        *,
        actor: StaffId,
        duration: timedelta = timedelta(hours=4),
    ) -> EmergencyAccess:
        """Grant the actor emergency access (purpose ETREAT) to a patient they do not care for.

        Needs a reason; lasts ``duration`` (at most 24 hours); lets the actor read
        and document; every access under it is audited with purpose ETREAT, and
        the patient's team leads are notified.
        """
        return self._runner.run(emergency.break_glass, actor, patient_id, reason, duration)

    def review_emergency_access(self, grant_id: str, *, actor: StaffId) -> EmergencyAccess:
        """Mark an emergency grant reviewed (only its reviewer may); it leaves their worklist."""
        return self._runner.run(emergency.review_emergency_access, actor, grant_id)

    # -------------------------------------------------------- record exchange
    def patient_record(
        self,
        patient_id: PatientId,
        *,
        actor: StaffId,
        kinds: Iterable[type[Any]] = RECORD_KINDS,
    ) -> PatientEntities:
        """Read a patient and all their records of ``kinds`` in one audited read (for exports).

        One ``read`` access check and one audit entry cover the whole record
        (see :func:`carecoord.service.exchange.patient_record`).
        """
        return self._runner.run(exchange.patient_record, actor, patient_id, kinds)

    def caseload_patients(self, staff_id: StaffId, *, actor: StaffId) -> list[PatientId]:
        """The patients on whose open care teams ``staff_id`` is an active member now.

        One's own caseload; a report's, for a supervisor; anyone else's needs
        ``view-caseloads``.
        """
        return self._runner.run(exchange.caseload_patients, actor, staff_id)

    def import_patient_record(
        self,
        patient: Patient,
        entities: Sequence[object],
        *,
        actor: StaffId,
        staff: Sequence[StaffMember] = (),
    ) -> RecordImport:
        """Store a patient with all their records (from an import) as ONE audited operation.

        All or nothing, one audit entry for the patient. Needs ``enrol``;
        registering staff members not known yet also needs ``manage-staff``.
        Importing an identical record again writes nothing. See
        :func:`carecoord.service.exchange.import_patient_record`.
        """
        return self._runner.run(exchange.import_patient_record, actor, patient, entities, staff)
