"""The coordination service facade: one method per use case, each run by the runner.

:class:`CareCoordinator` takes its collaborators as constructor parameters —
store, clock, access policy, notification rules, event handlers, retry policy,
audit key — and builds defaults lazily on first use, never at import. Each
method is a thin call of an :class:`~carecoord.service.runner.Operation`
(a handler function in :mod:`carecoord.service.patients`,
:mod:`~carecoord.service.plans`, ...) through the one
:class:`~carecoord.service.runner.OperationRunner`, so every operation:

* names the acting staff member explicitly (``actor=``; there is no default
  actor) who must be a registered, active staff member;
* is checked by the access policy (default :class:`~carecoord.access.CareTeamPolicy`)
  before it returns or changes anything; a denial raises
  :class:`~carecoord.AccessDeniedError` and changes nothing;
* runs in one unit of work: it writes everything or nothing — the change, the
  notifications it calls for (the transactional outbox) and its audit entry;
* is retried on fresh data when its commit loses an optimistic-concurrency
  race (bounded and jittered, :class:`~carecoord.retry.RetryPolicy`);
* records exactly one audit entry, allowed or denied, successful or failed
  (a failed or denied operation is audited in a unit of work of its own);
* raises a typed :class:`~carecoord.CareCoordError` on bad input or an illegal
  operation, and then changes nothing;
* hands its domain events (:mod:`carecoord.events`) to the event handlers only
  after the unit of work has committed.

Hosts add their own use cases with :func:`~carecoord.service.runner.operation`
and run them with :meth:`CareCoordinator.run`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from ..access import AccessPolicy, CareTeamPolicy
from ..caseload import Worklist, WorklistScope
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
    CareTeam,
    CareTeamId,
    CareTeamRole,
    CareTeamStatus,
    Consent,
    ConsentId,
    ConsentStatus,
    Encounter,
    EncounterId,
    Goal,
    GoalId,
    GoalLifecycleStatus,
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
    TaskStatus,
    ValidationError,
)
from ..model._base import ensure_aware
from ..model.access import EmergencyAccess
from ..model.audit import AuditEntry, AuditVerification, ChainBreak
from ..notify.rules import DEFAULT_RULES, NotificationRule
from ..retry import RetryPolicy
from ..storage.port import Store
from ..worklist import WorkItem
from . import (
    appointments,
    audit,
    emergency,
    patients,
    plans,
    records,
    referrals,
    reporting,
    staff,
    teams,
    worklists,
)
from .runner import (
    Clock,
    EventHandler,
    Operation,
    OperationRunner,
    Settings,
    SystemClock,
)
from .sealing import AuditSealer, SealReport
from .tick import TickReport, run_tick

__all__ = ["CareCoordinator"]

T = TypeVar("T")


class CareCoordinator:
    """The entry object: one method per coordination use case.

    ``store`` defaults to a fresh :class:`~carecoord.storage.MemoryStore`
    (nothing persists); pass :class:`~carecoord.storage.SQLiteStore` or your own
    :class:`~carecoord.storage.Store` to keep data. ``clock`` defaults to
    :class:`SystemClock`, ``access_policy`` to
    :class:`~carecoord.access.CareTeamPolicy`, ``notification_rules`` to
    :data:`~carecoord.notify.DEFAULT_RULES`, ``retry`` to a
    :class:`~carecoord.retry.RetryPolicy` of 10 attempts. Defaults are built on
    first use.

    ``audit_key`` (bytes, at least 16) keys the audit chain with HMAC-SHA256,
    so someone who can write to the database cannot recompute it; keep it out
    of the database. ``stalled_referral_after`` and ``escalate_after`` tune
    :meth:`tick`.
    """

    def __init__(
        self,
        store: Store | None = None,
        clock: Clock | None = None,
        *,
        access_policy: AccessPolicy | None = None,
        notification_rules: Sequence[NotificationRule] | None = None,
        event_handlers: Iterable[EventHandler] = (),
        stalled_referral_after: timedelta = timedelta(days=14),
        escalate_after: timedelta = timedelta(days=3),
        retry: RetryPolicy | None = None,
        audit_key: bytes | None = None,
    ) -> None:
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise ValidationError("retry must be a RetryPolicy", field="retry")
        self._store = store
        self._clock = clock
        self._policy = access_policy
        self._rules = None if notification_rules is None else tuple(notification_rules)
        self._handlers: list[EventHandler] = list(event_handlers)
        self._sealer: AuditSealer | None = None
        self._audit_key = audit_key
        if audit_key is not None:
            AuditSealer.check_key(audit_key)
        self.stalled_referral_after = stalled_referral_after
        self.escalate_after = escalate_after
        self._runner = OperationRunner(
            store=lambda: self.store,
            clock=lambda: self.clock,
            policy=lambda: self.access_policy,
            settings=self._settings,
            handlers=self._handlers,
            retry=retry or RetryPolicy(),
        )

    # ------------------------------------------------------------ plumbing
    @property
    def store(self) -> Store:
        """The store (a MemoryStore is made on first use when none was given)."""
        if self._store is None:
            from ..storage.memory import MemoryStore

            self._store = MemoryStore()
        return self._store

    @property
    def clock(self) -> Clock:
        """The clock (a SystemClock is made on first use when none was given)."""
        if self._clock is None:
            self._clock = SystemClock()
        return self._clock

    @property
    def access_policy(self) -> AccessPolicy:
        """The access policy (CareTeamPolicy unless another was given)."""
        if self._policy is None:
            self._policy = CareTeamPolicy()
        return self._policy

    @property
    def notification_rules(self) -> tuple[NotificationRule, ...]:
        """The rules that turn events into outbox notifications."""
        return DEFAULT_RULES if self._rules is None else self._rules

    @property
    def retry(self) -> RetryPolicy:
        """How operations that lost an optimistic-concurrency race are retried."""
        return self._runner.retry

    def subscribe(self, handler: EventHandler) -> None:
        """Add a handler called with every event after its unit of work commits."""
        self._handlers.append(handler)

    def _settings(self) -> Settings:
        return Settings(
            notification_rules=self.notification_rules,
            stalled_referral_after=self.stalled_referral_after,
            escalate_after=self.escalate_after,
            audit_key=self._audit_key,
        )

    def run(self, op: Operation[..., T], *args: Any, actor: StaffId, **kwargs: Any) -> T:
        """Run an operation (a built-in one or the host's own) through the pipeline.

        ``op`` is an :class:`~carecoord.service.runner.Operation` made with
        :func:`~carecoord.operation`; ``args`` and ``kwargs`` go to its
        handler after the context. See the service documentation.
        """
        return self._runner.run(op, actor, *args, **kwargs)

    # --------------------------------------------------------------- staff
    def register_staff(self, member: StaffMember, *, actor: StaffId) -> StaffMember:
        """Register a new staff member, or update one (see :func:`staff.register_staff`).

        A new member has ``revision`` 0; an update passes a copy read with
        :meth:`staff_member` (or returned here) and raises
        :class:`~carecoord.ConflictError` when it is stale. Returns the stored
        copy with its new ``revision``.
        """
        return self._runner.run(staff.register_staff, actor, member)

    def staff_member(self, staff_id: StaffId, *, actor: StaffId) -> StaffMember:
        """Read a staff member: oneself, one's reports, or anyone with ``manage-staff``."""
        return self._runner.run(staff.staff_member, actor, staff_id)

    # ------------------------------------------------------------ patients
    def enrol_patient(self, patient: Patient, *, actor: StaffId) -> Patient:
        """Enrol a new patient (``enrolled_at`` defaults to now). Needs staff-wide ``enrol``."""
        return self._runner.run(patients.enrol_patient, actor, patient)

    def update_patient(self, patient: Patient, *, actor: StaffId) -> Patient:
        """Replace a patient's demographics, preferences and contacts.

        Pass a copy read from the service: if the patient changed since it was
        read, :class:`~carecoord.ConflictError` is raised and nothing changes.
        """
        return self._runner.run(patients.update_patient, actor, patient)

    def patient(self, patient_id: PatientId, *, actor: StaffId) -> Patient:
        """Read a patient."""
        return self._runner.run(patients.patient, actor, patient_id)

    # ---------------------------------------------------------- care teams
    def form_care_team(self, team: CareTeam, *, actor: StaffId) -> CareTeam:
        """Form a care team; the patient and every member must be registered.

        The actor needs the ``manage-team`` permission on the patient — or, for
        the patient's first team, to be a care coordinator or case manager who
        is on the new team.
        """
        return self._runner.run(teams.form_care_team, actor, team)

    def add_team_member(
        self, team_id: CareTeamId, staff_id: StaffId, role: CareTeamRole, *, actor: StaffId
    ) -> CareTeam:
        """Add ``staff_id`` to the team in ``role`` from now on."""
        return self._runner.run(teams.add_team_member, actor, team_id, staff_id, role)

    def end_team_membership(
        self, team_id: CareTeamId, staff_id: StaffId, *, actor: StaffId
    ) -> CareTeam:
        """End every open membership of ``staff_id`` on the team, now."""
        return self._runner.run(teams.end_team_membership, actor, team_id, staff_id)

    def change_team_lead(
        self, team_id: CareTeamId, staff_id: StaffId, *, actor: StaffId
    ) -> CareTeam:
        """Hand the lead to ``staff_id`` (an active member)."""
        return self._runner.run(teams.change_team_lead, actor, team_id, staff_id)

    def set_team_status(
        self,
        team_id: CareTeamId,
        status: CareTeamStatus | str,
        *,
        actor: StaffId,
        reason: str | None = None,
    ) -> CareTeam:
        """Move the team to ``status`` (FHIR care-team-status)."""
        return self._runner.run(teams.set_team_status, actor, team_id, status, reason)

    def care_team(self, team_id: CareTeamId, *, actor: StaffId) -> CareTeam:
        """Read a care team."""
        return self._runner.run(teams.care_team, actor, team_id)

    def care_teams_of(self, patient_id: PatientId, *, actor: StaffId) -> list[CareTeam]:
        """Every care team of a patient."""
        return self._runner.run(teams.care_teams_of, actor, patient_id)

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

    def add_goal(self, plan_id: CarePlanId, goal: Goal, *, actor: StaffId) -> CarePlan:
        """Add a goal to a plan (its id must be new in the plan)."""
        return self._runner.run(plans.add_goal, actor, plan_id, goal)

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
    def schedule_appointment(self, appointment: Appointment, *, actor: StaffId) -> Appointment:
        """Record an appointment arranged for the patient."""
        return self._runner.run(appointments.schedule_appointment, actor, appointment)

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
    ) -> list[WorkItem]:
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
        barriers, and caseload patients without a completed patient or family
        contact for ``no_contact_after``. ``scope`` (see
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

    # ---------------------------------------------------------------- audit
    def audit_trail(
        self,
        *,
        actor: StaffId,
        patient_id: PatientId | None = None,
        actor_id: StaffId | None = None,
        limit: int | None = None,
    ) -> list[AuditEntry]:
        """Audit entries of one patient (needs ``read-audit`` on them) and/or one actor.

        Without ``patient_id`` the actor needs the staff-wide ``view-caseloads``
        permission. Sealed entries come first in chain order, then those not
        sealed yet, oldest first; ``limit`` keeps the newest.
        """
        return self._runner.run(audit.audit_trail, actor, patient_id, actor_id, limit)

    def verify_audit(self, *, actor: StaffId, checkpoint: str | None = None) -> AuditVerification:
        """Verify the sealed audit chain, its checkpoints and index rows; count the unsealed.

        Needs ``view-caseloads``. Pass a head hash kept outside the database
        as ``checkpoint`` to detect a truncated or rewritten chain.
        """
        return self._runner.run(audit.verify_audit, actor, checkpoint)

    def verify_audit_trail(
        self, *, actor: StaffId, checkpoint: str | None = None
    ) -> tuple[ChainBreak, ...]:
        """The breaks :meth:`verify_audit` finds (empty: intact)."""
        return self.verify_audit(actor=actor, checkpoint=checkpoint).breaks

    def audit_head(self, *, actor: StaffId) -> str:
        """The hash of the newest sealed audit entry, to keep outside the database."""
        return self._runner.run(audit.audit_head, actor)

    def seal_audit(self, now: datetime | None = None, *, max_batches: int = 1000) -> SealReport:
        """Seal the audit entries appended so far into the hash chain (see the security docs).

        Safe to call from several processes: one sealer wins each batch, the
        others find nothing left or report ``lost_race``. :meth:`tick` calls it.
        """
        moment = ensure_aware(now, "now") if now is not None else self._runner.now()
        if self._sealer is None:
            self._sealer = AuditSealer(self.store, key=self._audit_key)
        return self._sealer.seal_all(moment, max_batches=max_batches)

    # ------------------------------------------------------------------ tick
    def tick(self, now: datetime | None = None) -> TickReport:
        """Announce time-driven events, then seal the audit log.

        Overdue and escalated interventions, reviews due, stalled referrals:
        each is announced once, however often (and from however many hosts)
        this is called; each announcement leaves a marker record. Runs as
        :data:`SYSTEM_ACTOR`; its notifications go through the outbox like any
        other. One audit entry records the tick.
        """
        moment = ensure_aware(now, "now") if now is not None else self._runner.now()
        report = run_tick(self._runner, self.store, self._settings(), moment)
        sealed = self.seal_audit(moment)
        return TickReport(
            overdue=report.overdue,
            escalated=report.escalated,
            reviews_due=report.reviews_due,
            referrals_stalled=report.referrals_stalled,
            sealed=sealed.sealed,
        )
