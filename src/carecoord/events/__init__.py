"""Domain events: facts the service announces after a unit of work commits.

Events carry identifiers, codes and times only — never PHI — so a host can
log them, put them on a bus or turn them into notifications safely.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from ._base import DomainEvent
from ._operations import (
    AssignedOffDuty,
    AuthorizationRequested,
    AuthorizationStatusChanged,
    CompetencyExpired,
    CompetencyExpiring,
    CoverageRecorded,
    EducationRecorded,
    FormStatusChanged,
    InstalmentPaid,
    MeasurementOutOfRange,
    MeasurementRecorded,
    PaymentPlanAgreed,
    ScreeningRecorded,
    ShiftReminder,
    StockLow,
    SupplyOrderStatusChanged,
    TimeOffRecorded,
    VisitStateChanged,
)
from ._programs import DisenrolledFromProgram, EnrolledInProgram

__all__ = [
    "AppointmentBooked",
    "AppointmentScheduled",
    "AppointmentStatusChanged",
    "AssessmentRecorded",
    "AssignedOffDuty",
    "AuthorizationRequested",
    "AuthorizationStatusChanged",
    "BarrierRecorded",
    "BarrierResolved",
    "CarePlanCreated",
    "CarePlanStatusChanged",
    "CareTeamChanged",
    "CareTeamFormed",
    "CompetencyExpired",
    "CompetencyExpiring",
    "ConsentRecorded",
    "ConsentStatusChanged",
    "CoverageRecorded",
    "DecisionRecorded",
    "DisenrolledFromProgram",
    "DomainEvent",
    "EducationRecorded",
    "EmergencyAccessGranted",
    "EnrolledInProgram",
    "FormStatusChanged",
    "GoalAchieved",
    "GoalAdded",
    "GoalRevised",
    "GoalStatusChanged",
    "InstalmentPaid",
    "InterventionAdded",
    "InterventionAssigned",
    "InterventionEscalated",
    "InterventionOverdue",
    "InterventionStatusChanged",
    "MeasurementOutOfRange",
    "MeasurementRecorded",
    "NoteRecorded",
    "PatientEnrolled",
    "PatientUpdated",
    "PaymentPlanAgreed",
    "ProgressRecorded",
    "ReferralCreated",
    "ReferralResultReceived",
    "ReferralStalled",
    "ReferralStatusChanged",
    "ReviewDue",
    "ReviewRecorded",
    "ScreeningRecorded",
    "ShiftReminder",
    "StaffRegistered",
    "StockLow",
    "SupplyOrderStatusChanged",
    "TimeOffRecorded",
    "VisitStateChanged",
    "event_types",
]


def event_types() -> dict[str, type[DomainEvent]]:
    """Every concrete event class of this module by name (what notification rules refer to)."""
    found: dict[str, type[DomainEvent]] = {}
    for name in __all__:
        value = globals()[name]
        if isinstance(value, type) and issubclass(value, DomainEvent) and value is not DomainEvent:
            found[name] = value
    return found


@attrs.frozen(kw_only=True)
class StaffRegistered(DomainEvent):
    """A staff member was registered or updated."""

    staff_id: str


@attrs.frozen(kw_only=True)
class PatientEnrolled(DomainEvent):
    """A patient was enrolled in care coordination."""


@attrs.frozen(kw_only=True)
class PatientUpdated(DomainEvent):
    """A patient's demographics or preferences changed."""


@attrs.frozen(kw_only=True)
class CareTeamFormed(DomainEvent):
    """A care team was formed for a patient."""

    team_id: str
    lead_id: str


@attrs.frozen(kw_only=True)
class CareTeamChanged(DomainEvent):
    """Membership, lead or status of a care team changed (``change`` says which)."""

    team_id: str
    change: str
    staff_id: str | None = None


@attrs.frozen(kw_only=True)
class AssessmentRecorded(DomainEvent):
    """An assessment was recorded."""

    assessment_id: str
    need_ids: tuple[str, ...]


@attrs.frozen(kw_only=True)
class CarePlanCreated(DomainEvent):
    """A care plan was created."""

    plan_id: str


@attrs.frozen(kw_only=True)
class CarePlanStatusChanged(DomainEvent):
    """A care plan moved between request-status codes."""

    plan_id: str
    from_status: str
    to_status: str


@attrs.frozen(kw_only=True)
class GoalAdded(DomainEvent):
    """A goal was added to a care plan."""

    plan_id: str
    goal_id: str


@attrs.frozen(kw_only=True)
class GoalStatusChanged(DomainEvent):
    """A goal moved between goal-status codes."""

    plan_id: str
    goal_id: str
    from_status: str
    to_status: str


@attrs.frozen(kw_only=True)
class GoalRevised(DomainEvent):
    """A goal's description or targets were revised (the earlier ones kept in its history).

    ``plan_id`` is ``None`` for a patient's own goal (outside any care plan);
    ``reason`` is the revision's reason code, ``targets_changed`` whether the
    targets changed (then ``achievement`` is the re-derived achievement status).
    """

    plan_id: str | None
    goal_id: str
    reason: str
    targets_changed: bool
    achievement: str | None


@attrs.frozen(kw_only=True)
class ProgressRecorded(DomainEvent):
    """A progress reading was recorded; ``achievement`` is the derived status."""

    plan_id: str
    goal_id: str
    achievement: str


@attrs.frozen(kw_only=True)
class GoalAchieved(DomainEvent):
    """A goal's achievement status became achieved (or sustaining) from something else."""

    plan_id: str
    goal_id: str


@attrs.frozen(kw_only=True)
class InterventionAdded(DomainEvent):
    """An intervention was added to a care plan."""

    plan_id: str
    intervention_id: str


@attrs.frozen(kw_only=True)
class InterventionAssigned(DomainEvent):
    """An intervention was assigned (or reassigned) to a staff member."""

    plan_id: str
    intervention_id: str
    assignee_id: str
    due_at: datetime | None
    priority: str


@attrs.frozen(kw_only=True)
class InterventionStatusChanged(DomainEvent):
    """An intervention moved between task-status codes."""

    plan_id: str
    intervention_id: str
    from_status: str
    to_status: str


@attrs.frozen(kw_only=True)
class ReviewRecorded(DomainEvent):
    """A plan review was recorded; ``on_time`` compares it with its due time."""

    plan_id: str
    review_id: str
    next_review_at: datetime
    on_time: bool | None


@attrs.frozen(kw_only=True)
class ReferralCreated(DomainEvent):
    """A referral was created."""

    referral_id: str


@attrs.frozen(kw_only=True)
class ReferralStatusChanged(DomainEvent):
    """A referral moved between closed-loop states."""

    referral_id: str
    from_status: str
    to_status: str


@attrs.frozen(kw_only=True)
class ReferralResultReceived(DomainEvent):
    """A referral's result came back: the loop is closed."""

    referral_id: str


@attrs.frozen(kw_only=True)
class AppointmentScheduled(DomainEvent):
    """An appointment was scheduled."""

    appointment_id: str
    start: datetime
    transport_needed: bool


@attrs.frozen(kw_only=True)
class AppointmentBooked(DomainEvent):
    """An appointment became ``booked``: created booked, booked into a slot, or moved to booked.

    The patient's and contacts' "you have an appointment" notices follow this
    event, not :class:`AppointmentScheduled` (a merely proposed appointment).
    """

    appointment_id: str
    start: datetime
    transport_needed: bool


@attrs.frozen(kw_only=True)
class AppointmentStatusChanged(DomainEvent):
    """An appointment moved between appointment-status codes."""

    appointment_id: str
    from_status: str
    to_status: str


@attrs.frozen(kw_only=True)
class BarrierRecorded(DomainEvent):
    """A barrier to care was recorded."""

    barrier_id: str
    kind: str


@attrs.frozen(kw_only=True)
class BarrierResolved(DomainEvent):
    """A barrier was resolved."""

    barrier_id: str


@attrs.frozen(kw_only=True)
class NoteRecorded(DomainEvent):
    """An interaction was documented."""

    note_id: str
    party: str
    channel: str


@attrs.frozen(kw_only=True)
class DecisionRecorded(DomainEvent):
    """A patient decision was recorded."""

    decision_id: str
    outcome: str


@attrs.frozen(kw_only=True)
class ConsentRecorded(DomainEvent):
    """A consent was recorded."""

    consent_id: str


@attrs.frozen(kw_only=True)
class ConsentStatusChanged(DomainEvent):
    """A consent moved between consent-state codes."""

    consent_id: str
    from_status: str
    to_status: str


@attrs.frozen(kw_only=True)
class InterventionOverdue(DomainEvent):
    """Time-driven: an open intervention passed its due time (announced once per due time)."""

    plan_id: str
    intervention_id: str
    assignee_id: str | None
    due_at: datetime


@attrs.frozen(kw_only=True)
class InterventionEscalated(DomainEvent):
    """Time-driven: an intervention stayed overdue past the escalation threshold."""

    plan_id: str
    intervention_id: str
    assignee_id: str | None
    due_at: datetime
    days_overdue: int


@attrs.frozen(kw_only=True)
class ReviewDue(DomainEvent):
    """Time-driven: a care plan's review came due (announced once per due time)."""

    plan_id: str
    owner_id: str
    due_at: datetime


@attrs.frozen(kw_only=True)
class ReferralStalled(DomainEvent):
    """Time-driven: an open referral has had no status change for the configured days."""

    referral_id: str
    owner_id: str
    last_changed_at: datetime
    days_without_change: int


@attrs.frozen(kw_only=True)
class EmergencyAccessGranted(DomainEvent):
    """Somebody broke the glass for a patient (the reason is in the grant, not here)."""

    grant_id: str
    staff_id: str
    expires_at: datetime
