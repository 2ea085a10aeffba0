"""Which model classes are stored as records, and the index rows each one yields.

Pure: imports only the model (and its metric facts). The index rows are what
worklist queries run on, so "what is due for X" never loads every plan; the
``metric-*`` rows keep each record's metric facts, so the quality metrics of
a period never decode a plan either (:func:`collect_metric_facts`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from .._fastcodec import builder
from ..model import (
    TASK_MACHINE,
    Appointment,
    AppointmentStatus,
    Assessment,
    Barrier,
    CarePlan,
    CarePlanStatus,
    CareTeam,
    CareTeamStatus,
    Consent,
    Encounter,
    GoalLifecycleStatus,
    GoalPriority,
    HealthConcern,
    Note,
    Patient,
    PatientDecision,
    PatientGoal,
    Referral,
    Review,
    StaffMember,
    SurveyResponse,
    TaskPriority,
    TaskStatus,
    ValidationError,
)
from ..model.access import EmergencyAccess
from ..model.audit import AuditCheckpoint, AuditEntry, AuditHead
from ..model.directory import target_service_id
from ..model.outbox import DeliveryStatus, Notification, TimedEventMarker
from ._admin_rows import ADMIN_RECORD_TYPES, admin_rows
from ._care_program_rows import CARE_PROGRAM_RECORD_TYPES, care_program_rows
from ._clinic_rows import CLINIC_RECORD_TYPES, clinic_rows
from ._metric_rows import METRIC_CATEGORIES, collect_metric_facts, metric_rows
from ._program_rows import PROGRAM_RECORD_TYPES, change_rows, program_rows
from ._template_rows import TEMPLATE_RECORD_TYPES, template_rows
from ._what_works_rows import collect_what_works_facts
from ._workforce_rows import WORKFORCE_RECORD_TYPES, workforce_rows
from .port import IndexRow

__all__ = [
    "METRIC_CATEGORIES",
    "RECORD_TYPES",
    "collect_metric_facts",
    "collect_what_works_facts",
    "index_rows",
    "kind_of",
    "patient_id_of",
]

RECORD_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        Patient,
        StaffMember,
        CareTeam,
        Assessment,
        CarePlan,
        Referral,
        Appointment,
        Barrier,
        Review,
        Note,
        PatientDecision,
        Consent,
        EmergencyAccess,
        AuditEntry,
        AuditHead,
        AuditCheckpoint,
        Notification,
        TimedEventMarker,
        Encounter,
        SurveyResponse,
        HealthConcern,
        PatientGoal,
        *WORKFORCE_RECORD_TYPES,
        *CLINIC_RECORD_TYPES,
        *ADMIN_RECORD_TYPES,
        *PROGRAM_RECORD_TYPES,
        *TEMPLATE_RECORD_TYPES,
        *CARE_PROGRAM_RECORD_TYPES,
    )
}
"""Record kind (the class name, also the payload ``type``) to model class."""

_OPEN_GOAL = {
    GoalLifecycleStatus.PROPOSED,
    GoalLifecycleStatus.PLANNED,
    GoalLifecycleStatus.ACCEPTED,
    GoalLifecycleStatus.ACTIVE,
    GoalLifecycleStatus.ON_HOLD,
}
_OPEN_TEAM = {CareTeamStatus.PROPOSED, CareTeamStatus.ACTIVE}
_GOAL_RANK = {GoalPriority.HIGH: 2, GoalPriority.MEDIUM: 1, GoalPriority.LOW: 0}
_OPEN_APPOINTMENT = {
    AppointmentStatus.PROPOSED,
    AppointmentStatus.PENDING,
    AppointmentStatus.WAITLIST,
    AppointmentStatus.BOOKED,
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.ARRIVED,
}


def kind_of(record: object) -> str:
    """The record kind of a model object; ValidationError for a non-record."""
    kind = type(record).__name__
    if RECORD_TYPES.get(kind) is not type(record):
        raise ValidationError(f"{kind} is not a stored record type")
    return kind


def patient_id_of(record: object) -> str | None:
    """The patient a record belongs to (a Patient belongs to itself)."""
    if isinstance(record, Patient):
        return str(record.id)
    value = getattr(record, "patient_id", None)
    return None if value is None else str(value)


_LAST_INSTANT = datetime.max.replace(tzinfo=UTC)


def _day_end(day: date) -> datetime:
    """When a goal due on ``day`` becomes past due: the next UTC midnight.

    A target date is met "by" that day. For ``date.max`` (9999-12-31) there is
    no next midnight; the row is due at the last representable instant,
    ``datetime.max`` in UTC (one microsecond early, so never past due in practice).
    """
    if day >= date.max:
        return _LAST_INSTANT
    return datetime.combine(day, time.min, UTC) + timedelta(days=1)


def index_rows(record: object) -> tuple[IndexRow, ...]:
    """The index rows of ``record`` (empty for kinds without any).

    Worklist categories: ``review``, ``intervention`` and ``goal`` (care plans;
    ``completed`` for each completed, assigned intervention: owner = the
    assignee, due = when it was completed; ``barrier-work`` for each barrier an
    intervention works on: item = the barrier, status = the intervention's,
    ``detail`` = the intervention, ``changed_at`` = its last status change),
    ``referral`` (``detail`` the
    directory service it goes to, if any), ``referral-target`` (one per referral
    to a directory service: owner = the service, ``changed_at`` = when the
    referral was made, ``detail`` = the requesting staff member), ``barrier``,
    ``appointment``, ``contact`` (notes), ``member`` (one per care-team
    membership, owner = the member), ``staff`` (owner = the supervisor),
    ``outbox``, ``audit``, ``emergency`` (owner = the grantee) and
    ``emergency-review`` (owner = the reviewer, open until reviewed). Metric
    facts: the ``metric-*`` rows of :data:`METRIC_CATEGORIES`.
    """
    return _worklist_rows(record) + metric_rows(record, patient_id_of(record))


def _worklist_rows(record: object) -> tuple[IndexRow, ...]:
    match record:
        case CarePlan():
            return _plan_rows(record)
        case CareTeam():
            # One row per membership: whose caseload the patient is on (owner), from
            # ``changed_at`` (membership start) until ``due_at`` (membership end).
            return tuple(
                IndexRow(
                    category="member",
                    item_id=f"{record.id}/{m.staff_id}/{m.role.value}",
                    patient_id=str(record.patient_id),
                    owner_id=str(m.staff_id),
                    status=record.status.value,
                    is_open=record.status in _OPEN_TEAM,
                    due_at=m.period.end,
                    changed_at=m.period.start,
                    detail=m.role.value,
                )
                for m in record.members
            )
        case StaffMember():
            # The reporting line: ``owner_id`` is the supervisor.
            return (
                IndexRow(
                    category="staff",
                    item_id=str(record.id),
                    patient_id=None,
                    owner_id=None if record.supervisor_id is None else str(record.supervisor_id),
                    status="active" if record.active else "inactive",
                    is_open=record.active,
                ),
            )
        case Referral():
            service_id = target_service_id(record.target)
            referral = IndexRow(
                category="referral",
                item_id=str(record.id),
                patient_id=str(record.patient_id),
                owner_id=str(record.requested_by),
                status=record.status.value,
                is_open=not record.is_closed,
                priority=record.priority.rank,
                changed_at=record.last_changed_at,
                detail=service_id,
            )
            if service_id is None:
                return (referral,)
            # A referral to a directory service: its referrals are one query (owner).
            to_service = IndexRow(
                category="referral-target",
                item_id=str(record.id),
                patient_id=str(record.patient_id),
                owner_id=str(service_id),
                status=record.status.value,
                is_open=not record.is_closed,
                changed_at=record.created_at,
                detail=str(record.requested_by),
            )
            return (referral, to_service)
        case Barrier():
            resolution = record.resolution
            return (
                IndexRow(
                    category="barrier",
                    item_id=str(record.id),
                    patient_id=str(record.patient_id),
                    owner_id=str(record.identified_by),
                    status="resolved" if resolution else "open",
                    is_open=resolution is None,
                    changed_at=resolution.at if resolution else record.identified_at,
                    detail=record.kind.value,
                ),
            )
        case Appointment():
            return (
                IndexRow(
                    category="appointment",
                    item_id=str(record.id),
                    patient_id=str(record.patient_id),
                    owner_id=None if record.booked_by is None else str(record.booked_by),
                    status=record.status.value,
                    is_open=record.status in _OPEN_APPOINTMENT,
                    due_at=record.start,
                    detail="transport" if record.transport_needed else None,
                ),
            )
        case Note():
            return (
                IndexRow(
                    category="contact",
                    item_id=str(record.id),
                    patient_id=str(record.patient_id),
                    owner_id=str(record.author_id),
                    status=record.status.value,
                    is_open=False,
                    changed_at=record.at,
                    detail=record.party.value,
                ),
            )
        case Notification():
            return (
                IndexRow(
                    category="outbox",
                    item_id=record.id,
                    patient_id=record.patient_id,
                    owner_id=record.recipient_id,
                    status=record.status.value,
                    is_open=record.status is DeliveryStatus.PENDING,
                    # When a dispatcher may next take it: a live lease hides it
                    # from the due query, an expired one makes it due again.
                    due_at=record.next_eligible_at,
                    changed_at=record.delivered_at,
                    detail=record.event,
                ),
            )
        case AuditEntry():
            # Open = waiting for the sealer, which takes open rows oldest first.
            return (
                IndexRow(
                    category="audit",
                    item_id=record.id,
                    patient_id=record.patient_id,
                    owner_id=record.actor,
                    status=record.outcome.value,
                    is_open=not record.sealed,
                    priority=0,
                    due_at=record.at,
                    changed_at=record.at,
                    detail=record.action.value,
                ),
            )
        case EmergencyAccess():
            grant = IndexRow(
                category="emergency",
                item_id=record.id,
                patient_id=str(record.patient_id),
                owner_id=str(record.staff_id),
                status="granted",
                is_open=True,
                due_at=record.expires_at,
                changed_at=record.granted_at,
            )
            if record.reviewer_id is None:
                return (grant,)
            # The reviewer's worklist item: open until the grant is reviewed.
            review = IndexRow(
                category="emergency-review",
                item_id=record.id,
                patient_id=str(record.patient_id),
                owner_id=str(record.reviewer_id),
                status="reviewed" if record.reviewed_at else "to-review",
                is_open=record.reviewed_at is None,
                due_at=record.granted_at,
                changed_at=record.reviewed_at or record.granted_at,
                detail=str(record.staff_id),
            )
            return (grant, review)
        case _:
            return (
                workforce_rows(record)
                or clinic_rows(record)
                or admin_rows(record)
                or template_rows(record)
                or program_rows(record) + change_rows(record)
                or care_program_rows(record)
            )


_OPEN_TASK = frozenset(
    s
    for s in TaskStatus
    if not TASK_MACHINE.is_terminal(s) and s is not TaskStatus.ENTERED_IN_ERROR
)
"""The statuses of an open intervention (:attr:`Intervention.is_open`), looked up by status."""
_TASK_RANK = {p: p.rank for p in TaskPriority}


def _plan_rows(plan: CarePlan) -> tuple[IndexRow, ...]:
    # Built without IndexRow's validators: every datetime here is a model one (aware).
    row = builder(IndexRow)
    active = plan.status is CarePlanStatus.ACTIVE
    patient = str(plan.patient_id)
    author = str(plan.author_id)
    rows = [
        row(
            category="review",
            item_id=str(plan.id),
            patient_id=patient,
            owner_id=author,
            status=plan.status._value_,
            is_open=active and plan.next_review_at is not None,
            due_at=plan.next_review_at,
        )
    ]
    for item in plan.interventions:
        history = item.history
        rows.append(
            row(
                category="intervention",
                item_id=str(item.id),
                patient_id=patient,
                owner_id=None if item.assignee_id is None else str(item.assignee_id),
                status=item.status._value_,
                is_open=active and item.status in _OPEN_TASK,
                priority=_TASK_RANK[item.priority],
                due_at=item.due_at,
                changed_at=history[-1].at if history else item.created_at,
                detail=item.kind._value_,
            )
        )
        if item.status is TaskStatus.COMPLETED and item.assignee_id is not None and history:
            # When it was completed, as a due time: a period's completed work is a range.
            rows.append(
                row(
                    category="completed",
                    item_id=str(item.id),
                    patient_id=patient,
                    owner_id=str(item.assignee_id),
                    status=item.status._value_,
                    is_open=False,
                    priority=0,
                    due_at=history[-1].at,
                    changed_at=history[-1].at,
                    detail=item.kind._value_,
                )
            )
        if plan.status is not CarePlanStatus.ENTERED_IN_ERROR:
            # What work on each barrier there is: the worklist asks a coordinator to
            # confirm a barrier resolved once all of it is done (carecoord.caseload).
            rows.extend(
                row(
                    category="barrier-work",
                    item_id=str(barrier_id),
                    patient_id=patient,
                    owner_id=None if item.assignee_id is None else str(item.assignee_id),
                    status=item.status._value_,
                    is_open=item.status in _OPEN_TASK,
                    priority=0,
                    due_at=None,
                    changed_at=history[-1].at if history else item.created_at,
                    detail=str(item.id),
                )
                for barrier_id in item.barrier_ids
            )
    for goal in plan.goals:
        due = goal.due
        status = goal.lifecycle_status
        achievement = goal.achievement_status
        rows.append(
            row(
                category="goal",
                item_id=str(goal.id),
                patient_id=patient,
                owner_id=author,
                status=status._value_,
                is_open=active and status in _OPEN_GOAL,
                priority=_GOAL_RANK[goal.priority],
                due_at=None if due is None else _day_end(due),
                changed_at=goal.readings[-1].at if goal.readings else None,
                detail=None if achievement is None else achievement._value_,
            )
        )
    return tuple(rows)
