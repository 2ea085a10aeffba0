"""The coordination service: the use cases a care coordinator performs.

:class:`CareCoordinator` takes its collaborators as constructor parameters —
store, clock, access policy, notification rules, event handlers — and builds
defaults lazily on first use, never at import. Every operation:

* names the acting staff member explicitly (``actor=``; there is no default
  actor) who must be a registered, active staff member;
* is checked by the access policy (default :class:`~carecoord.access.CareTeamPolicy`)
  before it returns or changes anything; a denial raises
  :class:`~carecoord.AccessDeniedError` and changes nothing;
* runs in one unit of work: it writes everything or nothing — the change, the
  notifications it calls for (the transactional outbox) and its audit entry;
* records exactly one audit entry, allowed or denied, successful or failed
  (a failed or denied operation is audited in a unit of work of its own);
* raises a typed :class:`~carecoord.CareCoordError` on bad input or an illegal
  operation, and then changes nothing;
* hands its domain events (:mod:`carecoord.events`) to the event handlers only
  after the unit of work has committed.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Protocol, TypeVar, runtime_checkable
from zoneinfo import ZoneInfo

import attrs

from .. import events as ev
from ..access import AccessDecision, AccessPolicy, AccessRequest, CareTeamPolicy, Permission
from ..caseload import (
    Worklist,
    WorklistCategory,
    WorklistItem,
    WorklistScope,
    contact_due,
    goal_at_risk,
    local_day_end,
    referral_category,
    work_item,
    worklist_scope,
)
from ..metrics import MetricReport, compute_metrics
from ..model import (
    AccessDeniedError,
    Appointment,
    AppointmentId,
    AppointmentStatus,
    Assessment,
    Barrier,
    BarrierId,
    CareCoordError,
    CarePlan,
    CarePlanId,
    CarePlanStatus,
    CareTeam,
    CareTeamId,
    CareTeamRole,
    CareTeamStatus,
    ConflictError,
    Consent,
    ConsentId,
    ConsentStatus,
    ContactChannel,
    Encounter,
    EncounterId,
    Goal,
    GoalAchievementStatus,
    GoalId,
    GoalLifecycleStatus,
    Intervention,
    InterventionId,
    InvalidTransitionError,
    Membership,
    NeedId,
    Note,
    NotFoundError,
    Patient,
    PatientDecision,
    PatientId,
    Period,
    ProgressReading,
    Referral,
    ReferralId,
    ReferralStatus,
    Review,
    ReviewDecision,
    StaffId,
    StaffMember,
    SurveyResponse,
    TaskStatus,
    ValidationError,
    supervision_chain,
)
from ..model._base import ensure_aware, instant
from ..model.access import EmergencyAccess
from ..model.audit import (
    AUDIT_HEAD_ID,
    AuditAction,
    AuditEntry,
    AuditHead,
    AuditOutcome,
    ChainBreak,
    PurposeOfUse,
    verify_chain,
)
from ..model.outbox import RecipientKind, TimedEventMarker, stable_id
from ..notify.rules import DEFAULT_RULES, Audience, NotificationRule, Recipient, plan_notifications
from ..storage.port import IndexHit, Store, WorkQuery
from ..storage.uow import UnitOfWork
from ..worklist import WorkItem

__all__ = ["SYSTEM_ACTOR", "CareCoordinator", "Clock", "EventHandler", "SystemClock", "TickReport"]

log = logging.getLogger("carecoord")

T = TypeVar("T")
R = TypeVar("R")
E = TypeVar("E", bound=Enum)
EventHandler = Callable[[ev.DomainEvent], None]
"""Called with each domain event after its unit of work committed."""

SYSTEM_ACTOR = "system"
"""The actor recorded for time-driven work (:meth:`CareCoordinator.tick`)."""

_ACHIEVED = {GoalAchievementStatus.ACHIEVED, GoalAchievementStatus.SUSTAINING}
_CONTACT_PARTIES = {"patient", "family"}
_AUDIT_RETRIES = 20


@runtime_checkable
class Clock(Protocol):
    """Tells the time. ``now()`` must return an aware datetime."""

    def now(self) -> datetime:
        """The current time (aware)."""
        ...


class SystemClock:
    """The real clock, in UTC."""

    def now(self) -> datetime:
        """``datetime.now(UTC)``."""
        return datetime.now(UTC)


@attrs.frozen
class TickReport:
    """What one :meth:`CareCoordinator.tick` announced (each thing only once, ever)."""

    overdue: int = 0
    escalated: int = 0
    reviews_due: int = 0
    referrals_stalled: int = 0

    @property
    def total(self) -> int:
        """Everything announced in this tick."""
        return self.overdue + self.escalated + self.reviews_due + self.referrals_stalled


class _Ctx:
    """One operation's context: its unit of work, time, actor and access decisions."""

    def __init__(
        self,
        service: CareCoordinator,
        uow: UnitOfWork,
        now: datetime,
        actor: StaffMember,
        operation: str,
    ) -> None:
        self.service = service
        self.uow = uow
        self.now = now
        self.actor = actor
        self.actor_id = actor.id
        self.operation = operation
        self.patient_id: str | None = None
        self.entity: str | None = None
        self.purpose = PurposeOfUse.TREAT
        self.checked = False
        self.bootstrap = False
        """True while the first staff member of an empty store registers themselves."""
        self.action: AuditAction | None = None
        """Overrides the operation's audit action once the work knows it (create or update)."""

    def allow(
        self, patient_id: PatientId | str, permission: Permission, entity: str | None = None
    ) -> None:
        """Check ``permission`` on ``patient_id``; AccessDeniedError when refused."""
        self.patient_id = str(patient_id)
        if entity is not None:
            self.entity = entity
        decision = self.service._decide(
            self.uow, self.actor, permission, PatientId(str(patient_id)), self.now
        )
        self._apply(decision, permission)

    def allow_staff(self, permission: Permission, entity: str | None = None) -> None:
        """Check a staff-wide ``permission`` (no patient)."""
        if entity is not None:
            self.entity = entity
        decision = self.service._decide(self.uow, self.actor, permission, None, self.now)
        self._apply(decision, permission)

    def _apply(self, decision: AccessDecision, permission: Permission) -> None:
        if not decision.allowed:
            raise AccessDeniedError(
                f"{self.actor_id} may not {permission.value} for "
                f"{'patient ' + self.patient_id if self.patient_id else 'this operation'}"
                f" ({decision.reason or 'denied'})"
            )
        self.checked = True
        if decision.purpose is PurposeOfUse.ETREAT or self.purpose is not PurposeOfUse.ETREAT:
            self.purpose = decision.purpose

    def common(self, patient_id: object) -> dict[str, Any]:
        """The fields every event carries."""
        return {"at": self.now, "actor": str(self.actor_id), "patient_id": str(patient_id)}


class CareCoordinator:
    """The entry object: one method per coordination use case.

    ``store`` defaults to a fresh :class:`~carecoord.storage.MemoryStore`
    (nothing persists); pass :class:`~carecoord.storage.SQLiteStore` or your own
    :class:`~carecoord.storage.Store` to keep data. ``clock`` defaults to
    :class:`SystemClock`, ``access_policy`` to
    :class:`~carecoord.access.CareTeamPolicy`, ``notification_rules`` to
    :data:`~carecoord.notify.DEFAULT_RULES`. Defaults are built on first use.

    ``stalled_referral_after`` and ``escalate_after`` tune :meth:`tick`.
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
    ) -> None:
        self._store = store
        self._clock = clock
        self._policy = access_policy
        self._rules = None if notification_rules is None else tuple(notification_rules)
        self._handlers: list[EventHandler] = list(event_handlers)
        self.stalled_referral_after = stalled_referral_after
        self.escalate_after = escalate_after

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

    def subscribe(self, handler: EventHandler) -> None:
        """Add a handler called with every event after its unit of work commits."""
        self._handlers.append(handler)

    def _now(self) -> datetime:
        return ensure_aware(self.clock.now(), "clock.now()")

    def _execute(
        self,
        operation: str,
        action: AuditAction,
        actor: StaffId,
        work: Callable[[_Ctx], T],
        *,
        first_member: StaffMember | None = None,
    ) -> T:
        actor_id = _actor(actor)
        now = self._now()
        ctx: _Ctx | None = None
        for attempt in range(_AUDIT_RETRIES):
            ctx = None
            try:
                with UnitOfWork(self.store) as uow:
                    bootstrap = (
                        first_member is not None
                        and first_member.id == actor_id
                        and not uow.all(StaffMember)
                    )
                    member = first_member if bootstrap else self._require_staff(uow, actor_id)
                    assert member is not None
                    ctx = _Ctx(self, uow, now, member, operation)
                    ctx.bootstrap = bootstrap
                    result = work(ctx)
                    if not ctx.checked:
                        raise AssertionError(f"{operation} made no access check")
                    self._plan_outbox(uow, now)
                    self._append_audit(
                        uow,
                        now=now,
                        actor=str(actor_id),
                        action=ctx.action or action,
                        operation=operation,
                        outcome=AuditOutcome.SUCCESS,
                        purpose=ctx.purpose,
                        patient_id=ctx.patient_id,
                        entity=ctx.entity,
                    )
                break
            except ConflictError as exc:
                if exc.kind == AuditHead.__name__ and attempt + 1 < _AUDIT_RETRIES:
                    _pause(attempt)
                    continue
                self._audit_failure(now, str(actor_id), action, operation, ctx, exc)
                raise
            except BaseException as exc:
                self._audit_failure(now, str(actor_id), action, operation, ctx, exc)
                raise
        self._dispatch(uow.events)
        return result

    def _append_audit(
        self,
        uow: UnitOfWork,
        *,
        now: datetime,
        actor: str,
        action: AuditAction,
        operation: str,
        outcome: AuditOutcome,
        purpose: PurposeOfUse,
        patient_id: str | None,
        entity: str | None,
        detail: str | None = None,
    ) -> AuditEntry:
        head = uow.find(AuditHead, AUDIT_HEAD_ID)
        entry = AuditEntry.create(
            sequence=(head.sequence if head else 0) + 1,
            previous_hash=head.hash if head else AuditHead().hash,
            at=now,
            actor=actor,
            action=action,
            operation=operation,
            outcome=outcome,
            purpose=purpose,
            patient_id=patient_id,
            entity=entity,
            detail=detail,
        )
        uow.add(entry)
        new_head = AuditHead(sequence=entry.sequence, hash=entry.hash)
        if head is None:
            uow.add(new_head)
        else:
            uow.save(new_head)
        return entry

    def _audit_failure(
        self,
        now: datetime,
        actor: str,
        action: AuditAction,
        operation: str,
        ctx: _Ctx | None,
        exc: BaseException,
    ) -> None:
        if isinstance(
            exc,
            AccessDeniedError
            | ValidationError
            | NotFoundError
            | ConflictError
            | InvalidTransitionError,
        ):
            outcome = AuditOutcome.MINOR_FAILURE
        elif isinstance(exc, CareCoordError):
            outcome = AuditOutcome.SERIOUS_FAILURE
        else:
            outcome = AuditOutcome.MAJOR_FAILURE
        for attempt in range(_AUDIT_RETRIES):
            try:
                with UnitOfWork(self.store) as uow:
                    self._append_audit(
                        uow,
                        now=now,
                        actor=actor,
                        action=action,
                        operation=operation,
                        outcome=outcome,
                        purpose=ctx.purpose if ctx else PurposeOfUse.TREAT,
                        patient_id=ctx.patient_id if ctx else None,
                        entity=ctx.entity if ctx else None,
                        detail=type(exc).__name__,
                    )
                return
            except ConflictError:
                _pause(attempt)
            except CareCoordError:
                break
        log.error("could not audit the failure of %s by %s", operation, actor)

    @staticmethod
    def _require_staff(uow: UnitOfWork, actor: StaffId) -> StaffMember:
        member = uow.find(StaffMember, actor)
        if member is None or not member.active:
            raise NotFoundError(f"actor {actor} is not a registered, active staff member")
        return member

    def _decide(
        self,
        uow: UnitOfWork,
        actor: StaffMember,
        permission: Permission,
        patient_id: PatientId | None,
        now: datetime,
    ) -> AccessDecision:
        teams: tuple[CareTeam, ...] = ()
        staff: dict[StaffId, StaffMember] = {actor.id: actor}
        grants: list[EmergencyAccess] = []
        if patient_id is not None:
            teams = tuple(uow.all(CareTeam, patient_id=str(patient_id)))
            for team in teams:
                for membership in team.active_members(now):
                    self._load_line(uow, membership.staff_id, staff)
            for hit in uow.query(
                WorkQuery(
                    category="emergency",
                    owner_ids=(str(actor.id),),
                    patient_ids=(str(patient_id),),
                    due_from=now,
                )
            ):
                grant = uow.find(EmergencyAccess, hit.record_id)
                if grant is not None:
                    grants.append(grant)
        request = AccessRequest(
            actor=actor,
            permission=permission,
            at=now,
            patient_id=patient_id,
            teams=teams,
            staff=staff,
            emergency=tuple(grants),
        )
        return self.access_policy.decide(request)

    @staticmethod
    def _load_line(uow: UnitOfWork, staff_id: StaffId, staff: dict[StaffId, StaffMember]) -> None:
        current: StaffId | None = staff_id
        for _ in range(50):  # a reporting line longer than this is a data error
            if current is None or current in staff:
                return
            member = uow.find(StaffMember, current)
            if member is None:
                return
            staff[current] = member
            current = member.supervisor_id

    def _dispatch(self, events: Sequence[object]) -> None:
        for event in events:
            for handler in list(self._handlers):
                try:
                    handler(event)  # type: ignore[arg-type]
                except Exception:  # a failing handler must not undo a committed command
                    log.exception(
                        "event handler failed for %s", getattr(event, "name", type(event).__name__)
                    )

    # ------------------------------------------------------------ outbox
    def _plan_outbox(self, uow: UnitOfWork, now: datetime) -> None:
        """Write the notifications the unit's events call for into the same unit (the outbox)."""
        for event in uow.pending_events:
            if not isinstance(event, ev.DomainEvent):
                continue
            for note in plan_notifications(
                event,
                self.notification_rules,
                lambda rule, e: self._recipients(uow, now, rule, e),
                now=now,
                details=lambda e: self._details(uow, e),
            ):
                if not uow.has_pending(note) and uow.find(type(note), note.id) is None:
                    uow.add(note)

    def _recipients(
        self, uow: UnitOfWork, now: datetime, rule: NotificationRule, event: ev.DomainEvent
    ) -> list[Recipient]:
        staff_ids: list[str] = []
        match rule.audience:
            case Audience.ASSIGNEE:
                staff_ids = [v for v in [getattr(event, "assignee_id", None)] if v]
            case Audience.OWNER:
                staff_ids = [v for v in [getattr(event, "owner_id", None)] if v]
            case Audience.TEAM_LEAD:
                if event.patient_id:
                    staff_ids = [
                        str(t.lead_id)
                        for t in uow.all(CareTeam, patient_id=event.patient_id)
                        if t.status is CareTeamStatus.ACTIVE
                    ]
            case Audience.SUPERVISOR:
                base = getattr(event, "assignee_id", None) or getattr(event, "owner_id", None)
                member = uow.find(StaffMember, base) if base else None
                if member is not None and member.supervisor_id is not None:
                    staff_ids = [str(member.supervisor_id)]
            case Audience.PATIENT | Audience.CONTACTS:
                return self._patient_recipients(uow, now, rule, event)
        found: list[Recipient] = []
        for staff_id in dict.fromkeys(staff_ids):
            if staff_id == event.actor:
                continue  # nobody is told about what they just did themselves
            member = uow.find(StaffMember, staff_id)
            if member is None or not member.active:
                continue
            found.append(
                Recipient(
                    kind=RecipientKind.STAFF,
                    id=str(member.id),
                    time_zone=member.time_zone,
                    preferences=member.preferences,
                    channels=_reachable(member.telecom),
                )
            )
        return found

    @staticmethod
    def _patient_recipients(
        uow: UnitOfWork, now: datetime, rule: NotificationRule, event: ev.DomainEvent
    ) -> list[Recipient]:
        if not event.patient_id:
            return []
        patient = uow.find(Patient, event.patient_id)
        if patient is None:
            return []
        if rule.audience is Audience.PATIENT:
            return [
                Recipient(
                    kind=RecipientKind.PATIENT,
                    id=str(patient.id),
                    time_zone=patient.time_zone,
                    preferences=patient.preferences,
                    channels=_reachable(
                        patient.telecom,
                        portal=ContactChannel.PORTAL in patient.preferences.channels,
                    ),
                )
            ]
        consents = uow.all(Consent, patient_id=str(patient.id))
        found = []
        for contact in patient.contacts:
            if not contact.may_receive_information:
                continue
            if not any(c.permits(contact.id, rule.category, now) for c in consents):
                continue
            found.append(
                Recipient(
                    kind=RecipientKind.CONTACT,
                    id=str(contact.id),
                    time_zone=patient.time_zone,
                    preferences=contact.preferences,
                    channels=_reachable(
                        contact.telecom,
                        portal=ContactChannel.PORTAL in contact.preferences.channels,
                    ),
                )
            )
        return found

    @staticmethod
    def _details(uow: UnitOfWork, event: ev.DomainEvent) -> str | None:
        plan_id = getattr(event, "plan_id", None)
        if plan_id is None:
            return None
        plan = uow.find(CarePlan, plan_id)
        if plan is None:
            return None
        for attr, finder in (("intervention_id", plan.intervention), ("goal_id", plan.goal)):
            item_id = getattr(event, attr, None)
            if item_id is not None:
                try:
                    return str(finder(item_id).description)
                except NotFoundError:
                    return None
        return None

    # --------------------------------------------------------------- staff
    def register_staff(self, member: StaffMember, *, actor: StaffId) -> StaffMember:
        """Register (or update) a staff member.

        The very first staff member of an empty store registers themselves
        (``actor == member.id``); after that the actor needs the staff-wide
        ``manage-staff`` permission.
        """
        _check(member, StaffMember)

        def work(ctx: _Ctx) -> StaffMember:
            uow = ctx.uow
            entity = f"StaffMember/{member.id}"
            if ctx.bootstrap:
                ctx.entity, ctx.checked = entity, True
            else:
                ctx.allow_staff(Permission.MANAGE_STAFF, entity=entity)
            ctx.purpose = PurposeOfUse.HOPERAT
            supervisor = member.supervisor_id
            if supervisor is not None and uow.find(StaffMember, supervisor) is None:
                raise NotFoundError(f"supervisor {supervisor} is not registered")
            existing = uow.find(StaffMember, member.id)
            if existing is None:
                uow.add(member)
            else:
                uow.save(member)
            if supervisor is not None:
                directory = {m.id: m for m in uow.all(StaffMember)}
                directory[member.id] = member
                supervision_chain(member.id, directory)  # rejects cycles
            ctx.action = AuditAction.CREATE if existing is None else AuditAction.UPDATE
            uow.collect(
                ev.StaffRegistered(
                    at=ctx.now, actor=str(ctx.actor_id), patient_id=None, staff_id=str(member.id)
                )
            )
            return member

        return self._execute("register_staff", AuditAction.UPDATE, actor, work, first_member=member)

    # ------------------------------------------------------------ patients
    def enrol_patient(self, patient: Patient, *, actor: StaffId) -> Patient:
        """Enrol a new patient (``enrolled_at`` defaults to now). Needs staff-wide ``enrol``."""
        _check(patient, Patient)

        def work(ctx: _Ctx) -> Patient:
            ctx.allow_staff(Permission.ENROL, entity=f"Patient/{patient.id}")
            ctx.patient_id = str(patient.id)
            enrolled = (
                patient if patient.enrolled_at else attrs.evolve(patient, enrolled_at=ctx.now)
            )
            ctx.uow.add(enrolled)
            ctx.uow.collect(ev.PatientEnrolled(**ctx.common(patient.id)))
            return enrolled

        return self._execute("enrol_patient", AuditAction.CREATE, actor, work)

    def update_patient(self, patient: Patient, *, actor: StaffId) -> Patient:
        """Replace a patient's demographics, preferences and contacts."""
        _check(patient, Patient)

        def work(ctx: _Ctx) -> Patient:
            ctx.uow.get(Patient, patient.id)
            ctx.allow(patient.id, Permission.EDIT_PATIENT, f"Patient/{patient.id}")
            ctx.uow.save(patient)
            ctx.uow.collect(ev.PatientUpdated(**ctx.common(patient.id)))
            return patient

        return self._execute("update_patient", AuditAction.UPDATE, actor, work)

    def patient(self, patient_id: PatientId, *, actor: StaffId) -> Patient:
        """Read a patient."""

        def work(ctx: _Ctx) -> Patient:
            ctx.allow(patient_id, Permission.READ, f"Patient/{patient_id}")
            return ctx.uow.get(Patient, patient_id)

        return self._execute("patient", AuditAction.READ, actor, work)

    # ---------------------------------------------------------- care teams
    def form_care_team(self, team: CareTeam, *, actor: StaffId) -> CareTeam:
        """Form a care team; the patient and every member must be registered.

        The actor needs the ``manage-team`` permission on the patient — or, for
        the patient's first team, to be a care coordinator or case manager who
        is on the new team.
        """
        _check(team, CareTeam)

        def work(ctx: _Ctx) -> CareTeam:
            uow = ctx.uow
            uow.get(Patient, team.patient_id)
            entity = f"CareTeam/{team.id}"
            if uow.all(CareTeam, patient_id=str(team.patient_id)):
                ctx.allow(team.patient_id, Permission.MANAGE_TEAM, entity)
            else:
                ctx.patient_id = str(team.patient_id)
                ctx.allow_staff(Permission.FORM_TEAM, entity)
                if not any(m.staff_id == ctx.actor_id for m in team.members):
                    raise AccessDeniedError(
                        f"{ctx.actor_id} may only form a first team they are a member of"
                    )
                ctx.purpose = PurposeOfUse.TREAT
            for staff_id in {m.staff_id for m in team.members}:
                if uow.find(StaffMember, staff_id) is None:
                    raise NotFoundError(f"team member {staff_id} is not registered")
            uow.add(team)
            uow.collect(
                ev.CareTeamFormed(
                    **ctx.common(team.patient_id), team_id=str(team.id), lead_id=str(team.lead_id)
                )
            )
            return team

        return self._execute("form_care_team", AuditAction.CREATE, actor, work)

    def _change_team(
        self,
        operation: str,
        team_id: CareTeamId,
        actor: StaffId,
        change: str | Callable[[CareTeam], str],
        staff_id: StaffId | None,
        edit: Callable[[CareTeam, _Ctx], CareTeam],
    ) -> CareTeam:
        def work(ctx: _Ctx) -> CareTeam:
            old = ctx.uow.get(CareTeam, team_id)
            ctx.allow(old.patient_id, Permission.MANAGE_TEAM, f"CareTeam/{team_id}")
            if staff_id is not None and ctx.uow.find(StaffMember, staff_id) is None:
                raise NotFoundError(f"staff member {staff_id} is not registered")
            team = edit(old, ctx)
            ctx.uow.save(team)
            ctx.uow.collect(
                ev.CareTeamChanged(
                    **ctx.common(team.patient_id),
                    team_id=str(team.id),
                    change=change if isinstance(change, str) else change(team),
                    staff_id=None if staff_id is None else str(staff_id),
                )
            )
            return team

        return self._execute(operation, AuditAction.UPDATE, actor, work)

    def add_team_member(
        self, team_id: CareTeamId, staff_id: StaffId, role: CareTeamRole, *, actor: StaffId
    ) -> CareTeam:
        """Add ``staff_id`` to the team in ``role`` from now on."""
        return self._change_team(
            "add_team_member",
            team_id,
            actor,
            "member-added",
            staff_id,
            lambda team, ctx: team.with_member(
                Membership(
                    staff_id=staff_id,
                    role=_code(CareTeamRole, role, "role"),
                    period=Period(start=ctx.now),
                )
            ),
        )

    def end_team_membership(
        self, team_id: CareTeamId, staff_id: StaffId, *, actor: StaffId
    ) -> CareTeam:
        """End every open membership of ``staff_id`` on the team, now."""
        return self._change_team(
            "end_team_membership",
            team_id,
            actor,
            "member-left",
            staff_id,
            lambda team, ctx: team.end_membership(staff_id, ctx.now),
        )

    def change_team_lead(
        self, team_id: CareTeamId, staff_id: StaffId, *, actor: StaffId
    ) -> CareTeam:
        """Hand the lead to ``staff_id`` (an active member)."""
        return self._change_team(
            "change_team_lead",
            team_id,
            actor,
            "lead-changed",
            staff_id,
            lambda team, ctx: team.with_lead(staff_id, ctx.now),
        )

    def set_team_status(
        self,
        team_id: CareTeamId,
        status: CareTeamStatus | str,
        *,
        actor: StaffId,
        reason: str | None = None,
    ) -> CareTeam:
        """Move the team to ``status`` (FHIR care-team-status)."""
        return self._change_team(
            "set_team_status",
            team_id,
            actor,
            lambda team: f"status:{team.status.value}",
            None,
            lambda team, ctx: team.transition(status, by=ctx.actor_id, at=ctx.now, reason=reason),
        )

    def care_team(self, team_id: CareTeamId, *, actor: StaffId) -> CareTeam:
        """Read a care team."""

        def work(ctx: _Ctx) -> CareTeam:
            team = ctx.uow.get(CareTeam, team_id)
            ctx.allow(team.patient_id, Permission.READ, f"CareTeam/{team_id}")
            return team

        return self._execute("care_team", AuditAction.READ, actor, work)

    def care_teams_of(self, patient_id: PatientId, *, actor: StaffId) -> list[CareTeam]:
        """Every care team of a patient."""
        return self._list_of("care_teams_of", CareTeam, patient_id, actor)

    def _list_of(
        self, operation: str, cls: type[T], patient_id: PatientId, actor: StaffId, key: Any = None
    ) -> list[T]:
        def work(ctx: _Ctx) -> list[T]:
            ctx.allow(patient_id, Permission.READ, f"Patient/{patient_id}")
            found = ctx.uow.all(cls, patient_id=str(patient_id))
            return sorted(found, key=key) if key is not None else found

        return self._execute(operation, AuditAction.READ, actor, work)

    # --------------------------------------------------------- assessments
    def _add_patient_record(
        self,
        operation: str,
        record: R,
        cls: type[R],
        permission: Permission,
        actor: StaffId,
        *,
        check: Callable[[Patient], object] | None = None,
        event: Callable[[dict[str, Any]], ev.DomainEvent] | None = None,
    ) -> R:
        """Create one new record of a registered patient (the shared shape of ``record_*``)."""
        _check(record, cls)
        patient_id: PatientId = record.patient_id  # type: ignore[attr-defined]
        entity = f"{type(record).__name__}/{record.id}"  # type: ignore[attr-defined]

        def work(ctx: _Ctx) -> R:
            patient = ctx.uow.get(Patient, patient_id)
            ctx.allow(patient_id, permission, entity)
            if check is not None:
                check(patient)
            ctx.uow.add(record)
            if event is not None:
                ctx.uow.collect(event(ctx.common(patient_id)))
            return record

        return self._execute(operation, AuditAction.CREATE, actor, work)

    def record_assessment(self, assessment: Assessment, *, actor: StaffId) -> Assessment:
        """Record an assessment and the needs it identified."""
        return self._add_patient_record(
            "record_assessment",
            assessment,
            Assessment,
            Permission.RECORD_ASSESSMENT,
            actor,
            event=lambda common: ev.AssessmentRecorded(
                **common,
                assessment_id=str(assessment.id),
                need_ids=tuple(str(n.id) for n in assessment.needs),
            ),
        )

    def assessments_of(self, patient_id: PatientId, *, actor: StaffId) -> list[Assessment]:
        """Every assessment of a patient, oldest first."""
        return self._list_of(
            "assessments_of", Assessment, patient_id, actor, key=lambda a: a.performed_at
        )

    # ----------------------------------------------------------- care plans
    def create_care_plan(self, plan: CarePlan, *, actor: StaffId) -> CarePlan:
        """Create a care plan; the needs it addresses must come from the patient's assessments."""
        _check(plan, CarePlan)

        def work(ctx: _Ctx) -> CarePlan:
            uow = ctx.uow
            uow.get(Patient, plan.patient_id)
            ctx.allow(plan.patient_id, Permission.EDIT_PLAN, f"CarePlan/{plan.id}")
            if plan.goals:
                ctx.allow(plan.patient_id, Permission.EDIT_GOALS)
            known: set[NeedId] = {
                n.id for a in uow.all(Assessment, patient_id=str(plan.patient_id)) for n in a.needs
            }
            missing = [n for n in plan.addresses if n not in known]
            if missing:
                raise NotFoundError(f"need {missing[0]} is not in this patient's assessments")
            for item in plan.interventions:
                if item.assignee_id is not None and uow.find(StaffMember, item.assignee_id) is None:
                    raise NotFoundError(f"assignee {item.assignee_id} is not registered")
            uow.add(plan)
            common = ctx.common(plan.patient_id)
            uow.collect(ev.CarePlanCreated(**common, plan_id=str(plan.id)))
            if plan.status is CarePlanStatus.ACTIVE:
                for item in plan.interventions:
                    if item.assignee_id is not None and item.is_open:
                        uow.collect(_assigned(common, plan, item))
            return plan

        return self._execute("create_care_plan", AuditAction.CREATE, actor, work)

    def care_plan(self, plan_id: CarePlanId, *, actor: StaffId) -> CarePlan:
        """Read a care plan."""

        def work(ctx: _Ctx) -> CarePlan:
            plan = ctx.uow.get(CarePlan, plan_id)
            ctx.allow(plan.patient_id, Permission.READ, f"CarePlan/{plan_id}")
            return plan

        return self._execute("care_plan", AuditAction.READ, actor, work)

    def care_plans_of(self, patient_id: PatientId, *, actor: StaffId) -> list[CarePlan]:
        """Every care plan of a patient."""
        return self._list_of("care_plans_of", CarePlan, patient_id, actor)

    def _change_plan(
        self,
        operation: str,
        plan_id: CarePlanId,
        actor: StaffId,
        permission: Permission,
        edit: Callable[[CarePlan, _Ctx], tuple[CarePlan, list[ev.DomainEvent]]],
    ) -> CarePlan:
        def work(ctx: _Ctx) -> CarePlan:
            old = ctx.uow.get(CarePlan, plan_id)
            ctx.allow(old.patient_id, permission, f"CarePlan/{plan_id}")
            plan, happened = edit(old, ctx)
            ctx.uow.save(plan)
            for event in happened:
                ctx.uow.collect(event)
            return plan

        return self._execute(operation, AuditAction.UPDATE, actor, work)

    def set_plan_status(
        self,
        plan_id: CarePlanId,
        status: CarePlanStatus | str,
        *,
        actor: StaffId,
        reason: str | None = None,
    ) -> CarePlan:
        """Move a plan to ``status`` (activate, hold, complete, revoke, ...).

        Activating a plan announces the assignments of its open interventions.
        """

        def edit(plan: CarePlan, ctx: _Ctx) -> tuple[CarePlan, list[ev.DomainEvent]]:
            new = plan.transition(status, by=ctx.actor_id, at=ctx.now, reason=reason)
            common = ctx.common(plan.patient_id)
            happened: list[ev.DomainEvent] = [
                ev.CarePlanStatusChanged(
                    **common,
                    plan_id=str(plan.id),
                    from_status=plan.status.value,
                    to_status=new.status.value,
                )
            ]
            if new.status is CarePlanStatus.ACTIVE and plan.status is not CarePlanStatus.ON_HOLD:
                happened.extend(
                    _assigned(common, new, i)
                    for i in new.interventions
                    if i.assignee_id is not None and i.is_open
                )
            return new, happened

        return self._change_plan("set_plan_status", plan_id, actor, Permission.EDIT_PLAN, edit)

    def add_goal(self, plan_id: CarePlanId, goal: Goal, *, actor: StaffId) -> CarePlan:
        """Add a goal to a plan (its id must be new in the plan)."""
        _check(goal, Goal)

        def edit(plan: CarePlan, ctx: _Ctx) -> tuple[CarePlan, list[ev.DomainEvent]]:
            if any(g.id == goal.id for g in plan.goals):
                raise ValidationError(f"goal {goal.id} is already in plan {plan.id}")
            return plan.with_goal(goal), [
                ev.GoalAdded(
                    **ctx.common(plan.patient_id), plan_id=str(plan.id), goal_id=str(goal.id)
                )
            ]

        return self._change_plan("add_goal", plan_id, actor, Permission.EDIT_GOALS, edit)

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

        def edit(plan: CarePlan, ctx: _Ctx) -> tuple[CarePlan, list[ev.DomainEvent]]:
            goal = plan.goal(goal_id)
            new_goal = goal.transition(status, by=ctx.actor_id, at=ctx.now, reason=reason)
            return plan.with_goal(new_goal), [
                ev.GoalStatusChanged(
                    **ctx.common(plan.patient_id),
                    plan_id=str(plan.id),
                    goal_id=str(goal.id),
                    from_status=goal.lifecycle_status.value,
                    to_status=new_goal.lifecycle_status.value,
                )
            ]

        return self._change_plan("set_goal_status", plan_id, actor, Permission.EDIT_GOALS, edit)

    def record_progress(
        self, plan_id: CarePlanId, goal_id: GoalId, reading: ProgressReading, *, actor: StaffId
    ) -> CarePlan:
        """Record a progress reading; the goal's achievement status is re-derived."""
        _check(reading, ProgressReading)

        def edit(plan: CarePlan, ctx: _Ctx) -> tuple[CarePlan, list[ev.DomainEvent]]:
            goal = plan.goal(goal_id)
            new_goal = goal.with_reading(reading)
            common = ctx.common(plan.patient_id)
            happened: list[ev.DomainEvent] = [
                ev.ProgressRecorded(
                    **common,
                    plan_id=str(plan.id),
                    goal_id=str(goal.id),
                    achievement=str(new_goal.achievement_status),
                )
            ]
            if (
                new_goal.achievement_status in _ACHIEVED
                and goal.achievement_status not in _ACHIEVED
            ):
                happened.append(
                    ev.GoalAchieved(**common, plan_id=str(plan.id), goal_id=str(goal.id))
                )
            return plan.with_goal(new_goal), happened

        return self._change_plan(
            "record_progress", plan_id, actor, Permission.RECORD_PROGRESS, edit
        )

    # -------------------------------------------------------- interventions
    def add_intervention(
        self, plan_id: CarePlanId, intervention: Intervention, *, actor: StaffId
    ) -> CarePlan:
        """Add an intervention to a plan; an assignee must be a registered staff member."""
        _check(intervention, Intervention)

        def edit(plan: CarePlan, ctx: _Ctx) -> tuple[CarePlan, list[ev.DomainEvent]]:
            if any(i.id == intervention.id for i in plan.interventions):
                raise ValidationError(
                    f"intervention {intervention.id} is already in plan {plan.id}"
                )
            common = ctx.common(plan.patient_id)
            happened: list[ev.DomainEvent] = [
                ev.InterventionAdded(
                    **common, plan_id=str(plan.id), intervention_id=str(intervention.id)
                )
            ]
            if intervention.assignee_id is not None:
                if ctx.uow.find(StaffMember, intervention.assignee_id) is None:
                    raise NotFoundError(f"assignee {intervention.assignee_id} is not registered")
                if plan.status is CarePlanStatus.ACTIVE and intervention.is_open:
                    happened.append(_assigned(common, plan, intervention))
            return plan.with_intervention(intervention), happened

        return self._change_plan("add_intervention", plan_id, actor, Permission.EDIT_PLAN, edit)

    def assign_intervention(
        self,
        plan_id: CarePlanId,
        intervention_id: InterventionId,
        assignee_id: StaffId,
        *,
        actor: StaffId,
    ) -> CarePlan:
        """Assign (or reassign) an open intervention."""

        def edit(plan: CarePlan, ctx: _Ctx) -> tuple[CarePlan, list[ev.DomainEvent]]:
            if ctx.uow.find(StaffMember, assignee_id) is None:
                raise NotFoundError(f"assignee {assignee_id} is not registered")
            item = plan.intervention(intervention_id).assign(assignee_id)
            # As in add_intervention: a draft plan's work is announced when it is activated.
            announce = plan.status is CarePlanStatus.ACTIVE and item.is_open
            happened: list[ev.DomainEvent] = (
                [_assigned(ctx.common(plan.patient_id), plan, item)] if announce else []
            )
            return plan.with_intervention(item), happened

        return self._change_plan("assign_intervention", plan_id, actor, Permission.EDIT_PLAN, edit)

    def set_intervention_status(
        self,
        plan_id: CarePlanId,
        intervention_id: InterventionId,
        status: TaskStatus | str,
        *,
        actor: StaffId,
        reason: str | None = None,
    ) -> CarePlan:
        """Move an intervention through FHIR task-status.

        Completing a recurring intervention (one with a cadence) adds its next
        occurrence as a new ``ready`` intervention, due at the cadence's first
        occurrence after the later of the completed one's due time and now.
        """

        def edit(plan: CarePlan, ctx: _Ctx) -> tuple[CarePlan, list[ev.DomainEvent]]:
            item = plan.intervention(intervention_id)
            moved = item.transition(status, by=ctx.actor_id, at=ctx.now, reason=reason)
            common = ctx.common(plan.patient_id)
            happened: list[ev.DomainEvent] = [
                ev.InterventionStatusChanged(
                    **common,
                    plan_id=str(plan.id),
                    intervention_id=str(item.id),
                    from_status=item.status.value,
                    to_status=moved.status.value,
                )
            ]
            new_plan = plan.with_intervention(moved)
            if moved.status is TaskStatus.COMPLETED and moved.cadence is not None:
                follow = Intervention(
                    id=InterventionId.new(),
                    kind=moved.kind,
                    description=moved.description,
                    created_at=ctx.now,
                    assignee_id=moved.assignee_id,
                    priority=moved.priority,
                    due=moved.cadence.next_after(
                        max(moved.due_at or ctx.now, ctx.now, key=instant)
                    ),
                    cadence=moved.cadence,
                    goal_ids=moved.goal_ids,
                    barrier_ids=moved.barrier_ids,
                )
                new_plan = new_plan.with_intervention(follow)
                happened.append(
                    ev.InterventionAdded(
                        **common, plan_id=str(plan.id), intervention_id=str(follow.id)
                    )
                )
                if follow.assignee_id is not None:
                    happened.append(_assigned(common, plan, follow))
            return new_plan, happened

        return self._change_plan(
            "set_intervention_status", plan_id, actor, Permission.UPDATE_INTERVENTION, edit
        )

    # -------------------------------------------------------------- reviews
    def record_review(self, review: Review, *, actor: StaffId) -> Review:
        """Record a plan review.

        The plan's ``next_review_at`` moves to the review's; a review without a
        ``due_at`` gets the plan's previous ``next_review_at`` (for timeliness).
        Goals the review discontinues are cancelled with the review as reason;
        each goal's achievement status becomes the one the review concluded.
        """
        _check(review, Review)

        def work(ctx: _Ctx) -> Review:
            uow = ctx.uow
            plan = uow.get(CarePlan, review.plan_id)
            ctx.allow(plan.patient_id, Permission.REVIEW_PLAN, f"Review/{review.id}")
            if plan.patient_id != review.patient_id:
                raise ValidationError("the review's patient is not the plan's patient")
            if plan.status not in (CarePlanStatus.ACTIVE, CarePlanStatus.ON_HOLD):
                raise ValidationError(
                    f"plan {plan.id} is {plan.status.value}; only active or on-hold plans "
                    "are reviewed"
                )
            recorded = review
            if review.due_at is None and plan.next_review_at is not None:
                recorded = attrs.evolve(review, due_at=plan.next_review_at)
            for outcome in review.goal_outcomes:
                goal = plan.goal(outcome.goal_id)
                if outcome.decision is ReviewDecision.DISCONTINUE and goal.lifecycle_status not in (
                    GoalLifecycleStatus.CANCELLED,
                    GoalLifecycleStatus.COMPLETED,
                ):
                    goal = goal.transition(
                        GoalLifecycleStatus.CANCELLED,
                        by=ctx.actor_id,
                        at=review.reviewed_at,
                        reason=f"discontinued at review {review.id}",
                    )
                plan = plan.with_goal(attrs.evolve(goal, achievement_status=outcome.achievement))
            uow.save(attrs.evolve(plan, next_review_at=review.next_review_at))
            uow.add(recorded)
            uow.collect(
                ev.ReviewRecorded(
                    **ctx.common(plan.patient_id),
                    plan_id=str(plan.id),
                    review_id=str(review.id),
                    next_review_at=review.next_review_at,
                    on_time=recorded.on_time,
                )
            )
            return recorded

        return self._execute("record_review", AuditAction.CREATE, actor, work)

    def reviews_of(self, plan_id: CarePlanId, *, actor: StaffId) -> list[Review]:
        """Every review of a plan, oldest first."""

        def work(ctx: _Ctx) -> list[Review]:
            plan = ctx.uow.get(CarePlan, plan_id)
            ctx.allow(plan.patient_id, Permission.READ, f"CarePlan/{plan_id}")
            found = [
                r
                for r in ctx.uow.all(Review, patient_id=str(plan.patient_id))
                if r.plan_id == plan_id
            ]
            return sorted(found, key=lambda r: r.reviewed_at)

        return self._execute("reviews_of", AuditAction.READ, actor, work)

    # ------------------------------------------------------------ referrals
    def create_referral(self, referral: Referral, *, actor: StaffId) -> Referral:
        """Create a referral (usually in ``draft``; send it with :meth:`set_referral_status`)."""
        _check(referral, Referral)

        def work(ctx: _Ctx) -> Referral:
            uow = ctx.uow
            uow.get(Patient, referral.patient_id)
            ctx.allow(referral.patient_id, Permission.MANAGE_REFERRALS, f"Referral/{referral.id}")
            if referral.plan_id is not None:
                plan = uow.get(CarePlan, referral.plan_id)
                if plan.patient_id != referral.patient_id:
                    raise ValidationError("the referral's plan belongs to another patient")
            uow.add(referral)
            uow.collect(
                ev.ReferralCreated(**ctx.common(referral.patient_id), referral_id=str(referral.id))
            )
            return referral

        return self._execute("create_referral", AuditAction.CREATE, actor, work)

    def _change_referral(
        self,
        operation: str,
        referral_id: ReferralId,
        actor: StaffId,
        edit: Callable[[Referral, _Ctx], Referral],
    ) -> Referral:
        def work(ctx: _Ctx) -> Referral:
            old = ctx.uow.get(Referral, referral_id)
            ctx.allow(old.patient_id, Permission.MANAGE_REFERRALS, f"Referral/{referral_id}")
            new = edit(old, ctx)
            ctx.uow.save(new)
            common = ctx.common(old.patient_id)
            ctx.uow.collect(
                ev.ReferralStatusChanged(
                    **common,
                    referral_id=str(old.id),
                    from_status=old.status.value,
                    to_status=new.status.value,
                )
            )
            if new.status is ReferralStatus.RESULT_RECEIVED:
                ctx.uow.collect(ev.ReferralResultReceived(**common, referral_id=str(old.id)))
            return new

        return self._execute(operation, AuditAction.UPDATE, actor, work)

    def set_referral_status(
        self,
        referral_id: ReferralId,
        status: ReferralStatus | str,
        *,
        actor: StaffId,
        reason: str | None = None,
    ) -> Referral:
        """Move a referral along its closed loop (sent, accepted, scheduled, ...)."""
        return self._change_referral(
            "set_referral_status",
            referral_id,
            actor,
            lambda old, ctx: old.transition(status, by=ctx.actor_id, at=ctx.now, reason=reason),
        )

    def record_referral_result(
        self, referral_id: ReferralId, outcome: str, *, actor: StaffId
    ) -> Referral:
        """Record the result that came back: the referral's loop is closed."""
        return self._change_referral(
            "record_referral_result",
            referral_id,
            actor,
            lambda old, ctx: old.record_result(outcome, by=ctx.actor_id, at=ctx.now),
        )

    def referral(self, referral_id: ReferralId, *, actor: StaffId) -> Referral:
        """Read a referral."""

        def work(ctx: _Ctx) -> Referral:
            referral = ctx.uow.get(Referral, referral_id)
            ctx.allow(referral.patient_id, Permission.READ, f"Referral/{referral_id}")
            return referral

        return self._execute("referral", AuditAction.READ, actor, work)

    def referrals_of(self, patient_id: PatientId, *, actor: StaffId) -> list[Referral]:
        """Every referral of a patient."""
        return self._list_of("referrals_of", Referral, patient_id, actor)

    # --------------------------------------------------------- appointments
    def schedule_appointment(self, appointment: Appointment, *, actor: StaffId) -> Appointment:
        """Record an appointment arranged for the patient."""
        _check(appointment, Appointment)

        def work(ctx: _Ctx) -> Appointment:
            uow = ctx.uow
            uow.get(Patient, appointment.patient_id)
            ctx.allow(
                appointment.patient_id,
                Permission.MANAGE_APPOINTMENTS,
                f"Appointment/{appointment.id}",
            )
            if appointment.referral_id is not None:
                referral = uow.get(Referral, appointment.referral_id)
                if referral.patient_id != appointment.patient_id:
                    raise ValidationError("the appointment's referral belongs to another patient")
            uow.add(appointment)
            uow.collect(
                ev.AppointmentScheduled(
                    **ctx.common(appointment.patient_id),
                    appointment_id=str(appointment.id),
                    start=appointment.start,
                    transport_needed=appointment.transport_needed,
                )
            )
            return appointment

        return self._execute("schedule_appointment", AuditAction.CREATE, actor, work)

    def set_appointment_status(
        self,
        appointment_id: AppointmentId,
        status: AppointmentStatus | str,
        *,
        actor: StaffId,
        reason: str | None = None,
    ) -> Appointment:
        """Move an appointment through FHIR appointment-status."""

        def work(ctx: _Ctx) -> Appointment:
            old = ctx.uow.get(Appointment, appointment_id)
            ctx.allow(
                old.patient_id, Permission.MANAGE_APPOINTMENTS, f"Appointment/{appointment_id}"
            )
            new = old.transition(status, by=ctx.actor_id, at=ctx.now, reason=reason)
            ctx.uow.save(new)
            ctx.uow.collect(
                ev.AppointmentStatusChanged(
                    **ctx.common(old.patient_id),
                    appointment_id=str(old.id),
                    from_status=old.status.value,
                    to_status=new.status.value,
                )
            )
            return new

        return self._execute("set_appointment_status", AuditAction.UPDATE, actor, work)

    def appointments_of(self, patient_id: PatientId, *, actor: StaffId) -> list[Appointment]:
        """Every appointment of a patient, earliest first."""
        return self._list_of(
            "appointments_of", Appointment, patient_id, actor, key=lambda a: a.start
        )

    # ------------------------------------------------------------- barriers
    def record_barrier(self, barrier: Barrier, *, actor: StaffId) -> Barrier:
        """Record a barrier to care."""
        return self._add_patient_record(
            "record_barrier",
            barrier,
            Barrier,
            Permission.RECORD_BARRIER,
            actor,
            event=lambda common: ev.BarrierRecorded(
                **common, barrier_id=str(barrier.id), kind=barrier.kind.value
            ),
        )

    def resolve_barrier(self, barrier_id: BarrierId, summary: str, *, actor: StaffId) -> Barrier:
        """Resolve a barrier, now."""

        def work(ctx: _Ctx) -> Barrier:
            old = ctx.uow.get(Barrier, barrier_id)
            ctx.allow(old.patient_id, Permission.RECORD_BARRIER, f"Barrier/{barrier_id}")
            new = old.resolve(summary, by=ctx.actor_id, at=ctx.now)
            ctx.uow.save(new)
            ctx.uow.collect(
                ev.BarrierResolved(**ctx.common(new.patient_id), barrier_id=str(new.id))
            )
            return new

        return self._execute("resolve_barrier", AuditAction.UPDATE, actor, work)

    def barriers_of(self, patient_id: PatientId, *, actor: StaffId) -> list[Barrier]:
        """Every barrier of a patient."""
        return self._list_of("barriers_of", Barrier, patient_id, actor)

    # ----------------------------------------------- notes, decisions, consent
    def record_note(self, note: Note, *, actor: StaffId) -> Note:
        """Document an interaction; a note naming a contact must name one of the patient's."""
        return self._add_patient_record(
            "record_note",
            note,
            Note,
            Permission.DOCUMENT,
            actor,
            check=lambda patient: (
                None if note.contact_id is None else patient.contact(note.contact_id)
            ),
            event=lambda common: ev.NoteRecorded(
                **common,
                note_id=str(note.id),
                party=note.party.value,
                channel=note.channel.value,
            ),
        )

    def notes_of(self, patient_id: PatientId, *, actor: StaffId) -> list[Note]:
        """Every note of a patient, oldest first."""
        return self._list_of("notes_of", Note, patient_id, actor, key=lambda n: n.at)

    def record_decision(self, decision: PatientDecision, *, actor: StaffId) -> PatientDecision:
        """Record a patient's decision about a recommendation."""
        return self._add_patient_record(
            "record_decision",
            decision,
            PatientDecision,
            Permission.DOCUMENT,
            actor,
            event=lambda common: ev.DecisionRecorded(
                **common, decision_id=str(decision.id), outcome=decision.outcome.value
            ),
        )

    def decisions_of(self, patient_id: PatientId, *, actor: StaffId) -> list[PatientDecision]:
        """Every recorded decision of a patient, oldest first."""
        return self._list_of("decisions_of", PatientDecision, patient_id, actor, key=lambda d: d.at)

    def record_consent(self, consent: Consent, *, actor: StaffId) -> Consent:
        """Record a consent; every contact it names must be one of the patient's."""
        return self._add_patient_record(
            "record_consent",
            consent,
            Consent,
            Permission.RECORD_CONSENT,
            actor,
            check=lambda patient: [patient.contact(c) for c in consent.contact_ids],
            event=lambda common: ev.ConsentRecorded(**common, consent_id=str(consent.id)),
        )

    def set_consent_status(
        self,
        consent_id: ConsentId,
        status: ConsentStatus | str,
        *,
        actor: StaffId,
        reason: str | None = None,
    ) -> Consent:
        """Move a consent through FHIR consent-state (e.g. withdraw: ``inactive``)."""

        def work(ctx: _Ctx) -> Consent:
            old = ctx.uow.get(Consent, consent_id)
            ctx.allow(old.patient_id, Permission.RECORD_CONSENT, f"Consent/{consent_id}")
            new = old.transition(status, by=ctx.actor_id, at=ctx.now, reason=reason)
            ctx.uow.save(new)
            ctx.uow.collect(
                ev.ConsentStatusChanged(
                    **ctx.common(old.patient_id),
                    consent_id=str(old.id),
                    from_status=old.status.value,
                    to_status=new.status.value,
                )
            )
            return new

        return self._execute("set_consent_status", AuditAction.UPDATE, actor, work)

    def consents_of(self, patient_id: PatientId, *, actor: StaffId) -> list[Consent]:
        """Every consent of a patient."""
        return self._list_of("consents_of", Consent, patient_id, actor)

    # ------------------------------------------------------------ worklists
    def _caseload_access(self, ctx: _Ctx, staff_id: StaffId) -> None:
        """Own worklist: allowed; a report's: the supervisor; anyone else's: view-caseloads."""
        ctx.entity = f"StaffMember/{staff_id}"
        if staff_id == ctx.actor_id:
            ctx.checked = True
            ctx.purpose = PurposeOfUse.TREAT
            return
        directory: dict[StaffId, StaffMember] = {}
        self._load_line(ctx.uow, staff_id, directory)
        if staff_id in directory and ctx.actor_id in supervision_chain(staff_id, directory):
            ctx.checked = True
            ctx.purpose = PurposeOfUse.HOPERAT
            return
        ctx.allow_staff(Permission.VIEW_CASELOADS)

    def _readable(self, ctx: _Ctx) -> Callable[[str], bool]:
        """A cached per-patient READ check for the actor (used to filter worklists)."""
        cache: dict[str, bool] = {}

        def can_read(patient_id: str) -> bool:
            if patient_id not in cache:
                decision = self._decide(
                    ctx.uow, ctx.actor, Permission.READ, PatientId(patient_id), ctx.now
                )
                cache[patient_id] = decision.allowed
            return cache[patient_id]

        return can_read

    def interventions_due(
        self, staff_id: StaffId, *, actor: StaffId, until: datetime | None = None
    ) -> list[WorkItem]:
        """Open interventions of ``staff_id`` due by ``until`` (default now), most urgent first.

        Served by the store's index: only the plans that hold due items are read.
        Items of patients the actor may not read are left out.
        """

        def work(ctx: _Ctx) -> list[WorkItem]:
            self._caseload_access(ctx, staff_id)
            horizon = ensure_aware(until, "until") if until is not None else ctx.now
            hits = ctx.uow.query(
                WorkQuery(category="intervention", owner_ids=(str(staff_id),), due_before=horizon)
            )
            can_read = self._readable(ctx)
            plans: dict[str, CarePlan] = {}
            items = []
            for hit in hits:
                if not can_read(hit.row.patient_id or ""):
                    continue
                plan = plans.get(hit.record_id) or ctx.uow.get(CarePlan, hit.record_id)
                plans[hit.record_id] = plan
                item = plan.intervention(InterventionId(hit.row.item_id))
                items.append(WorkItem(plan.patient_id, plan.id, item, item.is_overdue(ctx.now)))
            return items

        return self._execute("interventions_due", AuditAction.READ, actor, work)

    def reviews_due(self, *, actor: StaffId, until: datetime | None = None) -> list[CarePlan]:
        """Active plans the actor may read with a review due before ``until`` (default now)."""

        def work(ctx: _Ctx) -> list[CarePlan]:
            ctx.checked = True
            horizon = ensure_aware(until, "until") if until is not None else ctx.now
            can_read = self._readable(ctx)
            hits = ctx.uow.query(WorkQuery(category="review", due_before=horizon))
            return [
                ctx.uow.get(CarePlan, h.record_id) for h in hits if can_read(h.row.patient_id or "")
            ]

        return self._execute("reviews_due", AuditAction.READ, actor, work)

    # --------------------------------------------------- caseload worklists
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

        def work(ctx: _Ctx) -> Worklist:
            kind = worklist_scope(scope)
            self._caseload_access(ctx, staff_id)
            moment = ensure_aware(now, "now") if now is not None else ctx.now
            zone = ZoneInfo(ctx.actor.time_zone)
            horizon = (
                ensure_aware(until, "until") if until is not None else local_day_end(moment, zone)
            )
            stall = stalled_after if stalled_after is not None else self.stalled_referral_after
            uow = ctx.uow
            owners = (
                _reports_of(uow, staff_id) if kind is WorklistScope.SUPERVISOR else (str(staff_id),)
            )
            caseload = _caseload_patients(uow, owners, moment)

            def query(category: str, **filters: Any) -> Sequence[IndexHit]:
                if kind is WorklistScope.TEAM:
                    if not caseload:
                        return ()
                    return uow.query(WorkQuery(category=category, patient_ids=caseload, **filters))
                return uow.query(WorkQuery(category=category, owner_ids=owners, **filters))

            can_read = self._readable(ctx)
            as_of = moment.astimezone(zone)
            items: list[WorklistItem] = []

            def add(category: WorklistCategory, hit: IndexHit, due: datetime | None) -> None:
                row = hit.row
                items.append(
                    work_item(
                        category,
                        patient_id=row.patient_id or "",
                        item_id=row.item_id,
                        record_id=hit.record_id,
                        status=row.status,
                        now=as_of,
                        due=due,
                        priority=row.priority,
                        owner_id=row.owner_id,
                        detail=row.detail,
                    )
                )

            for hit in query("intervention", due_before=horizon):
                if can_read(hit.row.patient_id or ""):
                    add(WorklistCategory.INTERVENTION, hit, hit.row.due_at)
            for hit in query("review", due_before=horizon):
                if can_read(hit.row.patient_id or ""):
                    add(WorklistCategory.REVIEW, hit, hit.row.due_at)
            for hit in query("referral"):
                row = hit.row
                category = referral_category(row.status, row.changed_at, moment, stall)
                if category is None or not can_read(row.patient_id or ""):
                    continue
                changed = row.changed_at
                if category is WorklistCategory.REFERRAL_STALLED and changed is not None:
                    add(category, hit, changed + stall)
                else:
                    add(category, hit, changed)
            for hit in query("goal"):
                row = hit.row
                if goal_at_risk(row.detail, row.due_at, moment) and can_read(row.patient_id or ""):
                    add(WorklistCategory.GOAL_AT_RISK, hit, row.due_at)
            for hit in query("barrier"):
                if can_read(hit.row.patient_id or ""):
                    add(WorklistCategory.BARRIER, hit, hit.row.changed_at)
            items.extend(_no_contact(uow, caseload, moment, as_of, no_contact_after, can_read))
            return Worklist(staff_id=staff_id, as_of=as_of, items=tuple(items), scope=kind)

        return self._execute("worklist", AuditAction.READ, actor, work)

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

        def work(ctx: _Ctx) -> MetricReport:
            ctx.allow_staff(
                Permission.VIEW_METRICS,
                entity=None if coordinator is None else f"StaffMember/{coordinator}",
            )
            period = Period(start=ensure_aware(start, "start"), end=ensure_aware(end, "end"))
            uow = ctx.uow
            teams = uow.all(CareTeam)
            if coordinator is None:
                patients = uow.all(Patient)
                loaded: dict[type[Any], list[Any]] = {
                    cls: uow.all(cls)
                    for cls in (CarePlan, Referral, Review, Note, Encounter, SurveyResponse)
                }
            else:
                ids = sorted(
                    {
                        str(t.patient_id)
                        for t in teams
                        if any(
                            m.staff_id == coordinator and _overlaps(m.period, period)
                            for m in t.members
                        )
                    }
                )
                teams = [t for t in teams if str(t.patient_id) in ids]
                patients = [p for pid in ids if (p := uow.find(Patient, pid)) is not None]
                loaded = {
                    cls: [r for pid in ids for r in uow.all(cls, patient_id=pid)]
                    for cls in (CarePlan, Referral, Review, Note, Encounter, SurveyResponse)
                }
            report = compute_metrics(
                period,
                plans=loaded[CarePlan],
                referrals=loaded[Referral],
                reviews=loaded[Review],
                patients=patients,
                notes=loaded[Note],
                teams=teams,
                encounters=loaded[Encounter],
                survey_responses=loaded[SurveyResponse],
                as_of=ctx.now,
                coordinator=coordinator,
            )
            if coordinator is not None:
                kept = tuple(
                    m for m in report.metrics if m.subject is None or m.subject == str(coordinator)
                )
                report = attrs.evolve(report, metrics=kept)
            return report

        return self._execute("metrics", AuditAction.READ, actor, work)

    # ------------------------------------------------ encounters and surveys
    def record_encounter(self, encounter: Encounter, *, actor: StaffId) -> Encounter:
        """Record a hospital or clinic encounter of a patient (admission, maybe discharge)."""
        return self._add_patient_record(
            "record_encounter", encounter, Encounter, Permission.DOCUMENT, actor
        )

    def record_discharge(
        self, encounter_id: EncounterId, discharged_at: datetime, *, actor: StaffId
    ) -> Encounter:
        """Record when an admitted patient was discharged (once)."""

        def work(ctx: _Ctx) -> Encounter:
            old = ctx.uow.get(Encounter, encounter_id)
            ctx.allow(old.patient_id, Permission.DOCUMENT, f"Encounter/{encounter_id}")
            if old.discharged_at is not None:
                raise ValidationError(
                    f"encounter {encounter_id} is already discharged", field="discharged_at"
                )
            new = attrs.evolve(old, discharged_at=ensure_aware(discharged_at, "discharged_at"))
            ctx.uow.save(new)
            return new

        return self._execute("record_discharge", AuditAction.UPDATE, actor, work)

    def record_survey_response(self, response: SurveyResponse, *, actor: StaffId) -> SurveyResponse:
        """Record a patient's satisfaction survey score."""
        return self._add_patient_record(
            "record_survey_response", response, SurveyResponse, Permission.DOCUMENT, actor
        )

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
        if not isinstance(duration, timedelta) or not timedelta(0) < duration <= timedelta(
            hours=24
        ):
            raise ValidationError("duration must be more than zero and at most 24 hours")

        def work(ctx: _Ctx) -> EmergencyAccess:
            ctx.uow.get(Patient, patient_id)
            grant = EmergencyAccess(
                id=stable_id(
                    "EmergencyAccess", str(ctx.actor_id), str(patient_id), ctx.now.isoformat()
                ),
                staff_id=ctx.actor_id,
                patient_id=patient_id,
                reason=reason,
                granted_at=ctx.now,
                expires_at=ctx.now + duration,
            )
            ctx.patient_id = str(patient_id)
            ctx.entity = f"EmergencyAccess/{grant.id}"
            ctx.checked = True  # any active staff member may break the glass; it is audited
            ctx.purpose = PurposeOfUse.ETREAT
            ctx.uow.add(grant)
            ctx.uow.collect(
                ev.EmergencyAccessGranted(
                    **ctx.common(patient_id),
                    grant_id=grant.id,
                    staff_id=str(ctx.actor_id),
                    expires_at=grant.expires_at,
                )
            )
            return grant

        return self._execute("break_glass", AuditAction.EXECUTE, actor, work)

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
        permission. Entries come oldest first.
        """

        def work(ctx: _Ctx) -> list[AuditEntry]:
            if patient_id is not None:
                ctx.allow(patient_id, Permission.READ_AUDIT, f"Patient/{patient_id}")
            else:
                ctx.allow_staff(Permission.VIEW_CASELOADS)
            hits = ctx.uow.query(
                WorkQuery(
                    category="audit",
                    open_only=False,
                    patient_ids=None if patient_id is None else (str(patient_id),),
                    owner_ids=None if actor_id is None else (str(actor_id),),
                )
            )
            entries = [ctx.uow.get(AuditEntry, h.record_id) for h in hits]
            entries.sort(key=lambda e: e.sequence)
            return entries if limit is None else entries[-limit:]

        return self._execute("audit_trail", AuditAction.READ, actor, work)

    def verify_audit_trail(
        self, *, actor: StaffId, checkpoint: str | None = None
    ) -> tuple[ChainBreak, ...]:
        """Verify the whole hash chain (empty result: intact). Needs ``view-caseloads``.

        Pass a head hash kept outside the database as ``checkpoint`` to detect
        removal of the newest entries or a rewritten chain.
        """

        def work(ctx: _Ctx) -> tuple[ChainBreak, ...]:
            ctx.allow_staff(Permission.VIEW_CASELOADS)
            return verify_chain(ctx.uow.all(AuditEntry), checkpoint=checkpoint)

        return self._execute("verify_audit_trail", AuditAction.EXECUTE, actor, work)

    def audit_head(self, *, actor: StaffId) -> str:
        """The current head hash of the audit chain, to keep outside the database."""

        def work(ctx: _Ctx) -> str:
            ctx.allow_staff(Permission.VIEW_CASELOADS)
            head = ctx.uow.find(AuditHead, AUDIT_HEAD_ID)
            return head.hash if head else AuditHead().hash

        return self._execute("audit_head", AuditAction.READ, actor, work)

    # ------------------------------------------------------------------ tick
    def tick(self, now: datetime | None = None) -> TickReport:
        """Announce time-driven events: overdue and escalated interventions, reviews due,
        stalled referrals. Idempotent: each thing is announced once, however often
        the host calls it (each announcement leaves a marker record).

        Runs as :data:`SYSTEM_ACTOR`; its notifications go through the outbox like
        any other. One audit entry records the tick.
        """
        moment = ensure_aware(now, "now") if now is not None else self._now()
        counts = {"overdue": 0, "escalated": 0, "reviews_due": 0, "referrals_stalled": 0}
        try:
            for hit in self.store.query(WorkQuery(category="intervention", due_before=moment)):
                due = hit.row.due_at
                assert due is not None
                key = (hit.record_id, hit.row.item_id, due.isoformat())
                if self._announce(
                    moment,
                    "InterventionOverdue",
                    key,
                    self._overdue(hit.record_id, hit.row.item_id, moment, None),
                ):
                    counts["overdue"] += 1
                if moment - due >= self.escalate_after and self._announce(
                    moment,
                    "InterventionEscalated",
                    key,
                    self._overdue(hit.record_id, hit.row.item_id, moment, self.escalate_after),
                ):
                    counts["escalated"] += 1
            for hit in self.store.query(WorkQuery(category="review", due_before=moment)):
                due = hit.row.due_at
                assert due is not None
                if self._announce(
                    moment,
                    "ReviewDue",
                    (hit.record_id, due.isoformat()),
                    self._review_due(hit.record_id, moment),
                ):
                    counts["reviews_due"] += 1
            stalled_before = moment - self.stalled_referral_after
            for hit in self.store.query(
                WorkQuery(category="referral", changed_before=stalled_before)
            ):
                changed = hit.row.changed_at
                assert changed is not None
                if self._announce(
                    moment,
                    "ReferralStalled",
                    (hit.record_id, changed.isoformat()),
                    self._stalled(hit.record_id, moment),
                ):
                    counts["referrals_stalled"] += 1
        except BaseException as exc:
            self._audit_failure(moment, SYSTEM_ACTOR, AuditAction.EXECUTE, "tick", None, exc)
            raise
        report = TickReport(**counts)
        for attempt in range(_AUDIT_RETRIES):
            try:
                with UnitOfWork(self.store) as uow:
                    self._append_audit(
                        uow,
                        now=moment,
                        actor=SYSTEM_ACTOR,
                        action=AuditAction.EXECUTE,
                        operation="tick",
                        outcome=AuditOutcome.SUCCESS,
                        purpose=PurposeOfUse.HOPERAT,
                        patient_id=None,
                        entity=None,
                        detail=f"announced={report.total}",
                    )
                break
            except ConflictError:
                if attempt + 1 == _AUDIT_RETRIES:
                    raise
                _pause(attempt)
        return report

    def _announce(
        self,
        now: datetime,
        event_name: str,
        key: tuple[str, ...],
        make: Callable[[UnitOfWork], ev.DomainEvent | None],
    ) -> bool:
        marker_id = stable_id(event_name, *key)
        try:
            with UnitOfWork(self.store) as uow:
                if uow.find(TimedEventMarker, marker_id) is not None:
                    return False
                event = make(uow)
                if event is None:
                    return False
                uow.add(
                    TimedEventMarker(
                        id=marker_id,
                        event=event_name,
                        subject_id="/".join(key),
                        at=now,
                        patient_id=event.patient_id,
                    )
                )
                uow.collect(event)
                self._plan_outbox(uow, now)
        except ConflictError:
            return False  # a concurrent tick announced it first
        self._dispatch(uow.events)
        return True

    def _overdue(
        self, plan_id: str, item_id: str, now: datetime, escalation: timedelta | None
    ) -> Callable[[UnitOfWork], ev.DomainEvent | None]:
        def make(uow: UnitOfWork) -> ev.DomainEvent | None:
            plan = uow.find(CarePlan, plan_id)
            if plan is None or plan.status is not CarePlanStatus.ACTIVE:
                return None
            item = plan.intervention(InterventionId(item_id))
            due = item.due_at
            if due is None or not item.is_overdue(now):
                return None
            common: dict[str, Any] = {
                "at": now,
                "actor": SYSTEM_ACTOR,
                "patient_id": str(plan.patient_id),
            }
            assignee = None if item.assignee_id is None else str(item.assignee_id)
            if escalation is None:
                return ev.InterventionOverdue(
                    **common,
                    plan_id=plan_id,
                    intervention_id=item_id,
                    assignee_id=assignee,
                    due_at=due,
                )
            if now - due < escalation:
                return None
            return ev.InterventionEscalated(
                **common,
                plan_id=plan_id,
                intervention_id=item_id,
                assignee_id=assignee,
                due_at=due,
                days_overdue=(now - due).days,
            )

        return make

    @staticmethod
    def _review_due(plan_id: str, now: datetime) -> Callable[[UnitOfWork], ev.DomainEvent | None]:
        def make(uow: UnitOfWork) -> ev.DomainEvent | None:
            plan = uow.find(CarePlan, plan_id)
            if plan is None or plan.status is not CarePlanStatus.ACTIVE:
                return None
            if plan.next_review_at is None or plan.next_review_at > now:
                return None
            return ev.ReviewDue(
                at=now,
                actor=SYSTEM_ACTOR,
                patient_id=str(plan.patient_id),
                plan_id=plan_id,
                owner_id=str(plan.author_id),
                due_at=plan.next_review_at,
            )

        return make

    def _stalled(
        self, referral_id: str, now: datetime
    ) -> Callable[[UnitOfWork], ev.DomainEvent | None]:
        def make(uow: UnitOfWork) -> ev.DomainEvent | None:
            referral = uow.find(Referral, referral_id)
            if referral is None or referral.is_closed:
                return None
            if now - referral.last_changed_at < self.stalled_referral_after:
                return None
            return ev.ReferralStalled(
                at=now,
                actor=SYSTEM_ACTOR,
                patient_id=str(referral.patient_id),
                referral_id=referral_id,
                owner_id=str(referral.requested_by),
                last_changed_at=referral.last_changed_at,
                days_without_change=(now - referral.last_changed_at).days,
            )

        return make


def _reports_of(uow: UnitOfWork, staff_id: StaffId) -> tuple[str, ...]:
    """``staff_id`` and everyone reporting to them, directly or not (from the staff index)."""
    found = [str(staff_id)]
    frontier = [str(staff_id)]
    while frontier:
        # inactive members are walked too: their reports and open work still count
        hits = uow.query(WorkQuery(category="staff", owner_ids=tuple(frontier), open_only=False))
        frontier = [h.row.item_id for h in hits if h.row.item_id not in found]
        found.extend(dict.fromkeys(frontier))
    return tuple(found)


def _caseload_patients(
    uow: UnitOfWork, owners: tuple[str, ...], moment: datetime
) -> tuple[str, ...]:
    """Patients on whose open care teams one of ``owners`` holds a membership at ``moment``."""
    patients: set[str] = set()
    for hit in uow.query(WorkQuery(category="member", owner_ids=owners)):
        row = hit.row
        started = row.changed_at is None or instant(row.changed_at) <= instant(moment)
        ended = row.due_at is not None and instant(row.due_at) <= instant(moment)
        if started and not ended and row.patient_id is not None:
            patients.add(row.patient_id)
    return tuple(sorted(patients))


def _no_contact(
    uow: UnitOfWork,
    caseload: tuple[str, ...],
    moment: datetime,
    as_of: datetime,
    after: timedelta,
    can_read: Callable[[str], bool],
) -> list[WorklistItem]:
    """Caseload patients without a completed patient or family contact for ``after``."""
    if not caseload:
        return []
    last: dict[str, datetime] = {}
    hits = uow.query(
        WorkQuery(
            category="contact", patient_ids=caseload, open_only=False, statuses=("completed",)
        )
    )
    for hit in hits:
        row = hit.row
        at = row.changed_at
        if row.detail not in _CONTACT_PARTIES or at is None or row.patient_id is None:
            continue
        if instant(at) > instant(moment):
            continue
        known = last.get(row.patient_id)
        if known is None or instant(at) > instant(known):
            last[row.patient_id] = at
    items = []
    for patient_id in caseload:
        if not can_read(patient_id):
            continue
        seen = last.get(patient_id)
        enrolled = None
        if seen is None:
            patient = uow.find(Patient, patient_id)
            enrolled = None if patient is None else patient.enrolled_at
        due = contact_due(seen, enrolled, after)
        if due is not None and instant(due) > instant(moment):
            continue
        items.append(
            work_item(
                WorklistCategory.NO_CONTACT,
                patient_id=patient_id,
                item_id=patient_id,
                record_id=patient_id,
                status="never-contacted" if seen is None else "contacted",
                now=as_of,
                due=due,
            )
        )
    return items


def _overlaps(a: Period, b: Period) -> bool:
    return (b.end is None or instant(a.start) < instant(b.end)) and (
        a.end is None or instant(b.start) < instant(a.end)
    )


def _assigned(
    common: dict[str, Any], plan: CarePlan, item: Intervention
) -> ev.InterventionAssigned:
    assert item.assignee_id is not None
    return ev.InterventionAssigned(
        **common,
        plan_id=str(plan.id),
        intervention_id=str(item.id),
        assignee_id=str(item.assignee_id),
        due_at=item.due_at,
        priority=item.priority.value,
    )


def _code(enum: type[E], value: object, what: str) -> E:
    """``value`` as a member of ``enum``; ValidationError (not echoing it) otherwise."""
    try:
        return enum(value)
    except ValueError:
        raise ValidationError(f"unknown {what} code", field=what) from None


def _actor(actor: object) -> StaffId:
    if not isinstance(actor, StaffId):
        raise ValidationError(
            "actor must be a StaffId naming the acting staff member", field="actor"
        )
    return actor


def _check(value: object, cls: type[Any]) -> None:
    if not isinstance(value, cls):
        raise ValidationError(f"expected a {cls.__name__}")


def _reachable(telecom: Iterable[Any], *, portal: bool = True) -> tuple[ContactChannel, ...]:
    """Channels a person can be reached on: those with an address (plus the portal)."""
    channels = [p.channel for p in telecom]
    if portal:
        channels.append(ContactChannel.PORTAL)
    return tuple(dict.fromkeys(channels))


def _pause(attempt: int) -> None:
    """Back off briefly before retrying a unit of work that lost the audit-head race."""
    time.sleep(random.uniform(0, 0.001 * (attempt + 1)))
