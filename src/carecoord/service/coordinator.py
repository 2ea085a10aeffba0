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
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from ..access import AccessPolicy, CareTeamPolicy
from ..model import (
    CareTeam,
    CareTeamId,
    CareTeamRole,
    CareTeamStatus,
    Patient,
    PatientId,
    StaffId,
    StaffMember,
    ValidationError,
)
from ..model._base import ensure_aware
from ..model.audit import AuditEntry, AuditVerification, ChainBreak
from ..notify.rules import DEFAULT_RULES, NotificationRule
from ..retry import RetryPolicy
from ..storage.port import Store
from . import (
    audit,
    patients,
    staff,
    teams,
)
from ._admin import AdministrationMethods
from ._care import CareRecordMethods
from ._care_programs import CareProgramMethods
from ._clinic import ClinicMethods
from ._programs import ProgramMethods
from ._templates import TemplateMethods
from ._what_works import WhatWorksMethods
from ._workforce import WorkforceMethods
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

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class CareCoordinator(
    CareRecordMethods,
    WorkforceMethods,
    ClinicMethods,
    AdministrationMethods,
    ProgramMethods,
    TemplateMethods,
    CareProgramMethods,
    WhatWorksMethods,
):
    """The entry object: one method per coordination use case.

    ``store`` defaults to a fresh :class:`~carecoord.storage.MemoryStore`
    (nothing persists); pass :class:`~carecoord.storage.SQLiteStore` or your own
    :class:`~carecoord.storage.Store` to keep data. ``clock`` defaults to
    :class:`SystemClock`, ``access_policy`` to
    :class:`~carecoord.access.CareTeamPolicy`, ``notification_rules`` to
    :data:`~carecoord.notify.DEFAULT_RULES`, ``retry`` to a
    :class:`~carecoord.retry.RetryPolicy` of 12 attempts. Defaults are built on
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

    def staff_members(
        self,
        staff_ids: Iterable[StaffId] | None = None,
        *,
        actor: StaffId,
        include_inactive: bool = False,
    ) -> list[StaffMember]:
        """The staff directory, readable by any active staff member (:func:`staff.staff_members`).

        Every active member (or those of ``staff_ids``) by id, without contact
        details unless the actor may read that member in full. Feed it to
        :func:`~carecoord.model.supervision_chain`: ``{m.id: m for m in members}``.
        """
        return self._runner.run(
            staff.staff_members, actor, staff_ids, include_inactive=include_inactive
        )

    # ------------------------------------------------------------ patients
    def enrol_patient(
        self, patient: Patient, *, actor: StaffId, team: CareTeam | bool = False
    ) -> Patient:
        """Enrol a new patient (``enrolled_at`` defaults to now). Needs staff-wide ``enrol``.

        ``team=True`` also forms the patient's first care team, active, with the
        enrolling staff member as lead (care coordinator, or case manager); a
        :class:`~carecoord.CareTeam` forms that team instead. Without one, nobody
        may read the patient until a team is formed (see :func:`patients.enrol_patient`).
        """
        return self._runner.run(patients.enrol_patient, actor, patient, team=team)

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
    def form_care_team(
        self, team: CareTeam, *, actor: StaffId, status: CareTeamStatus | str | None = None
    ) -> CareTeam:
        """Form a care team; the patient and every member must be registered.

        The actor needs the ``manage-team`` permission on the patient — or, for
        the patient's first team, to be a care coordinator or case manager who
        is on the new team. ``status="active"`` forms it active in one call
        (a legal move from ``proposed``, recorded in its history).
        """
        return self._runner.run(teams.form_care_team, actor, team, status=status)

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
        return self._runner.run(audit.verify_audit_trail, actor, checkpoint)

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
        if moment < _EPOCH:  # audit entries are ordered by their time since 1970
            raise ValidationError("now must not be before 1970-01-01 UTC", field="now")
        report = run_tick(self._runner, self.store, self._settings(), moment)
        sealed = self.seal_audit(moment)
        return TickReport(
            overdue=report.overdue,
            escalated=report.escalated,
            reviews_due=report.reviews_due,
            referrals_stalled=report.referrals_stalled,
            sealed=sealed.sealed,
        )
