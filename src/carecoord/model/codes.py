"""Coded values. FHIR R4 (4.0.1) value sets where FHIR has one, our own otherwise.

Every enum is a :class:`enum.StrEnum` whose values are the codes themselves, so a
FHIR export is a mapping, not a redesign.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "AppointmentStatus",
    "AssessmentDomain",
    "BarrierKind",
    "CarePlanIntent",
    "CarePlanStatus",
    "CareTeamRole",
    "CareTeamStatus",
    "CommunicationStatus",
    "Comparator",
    "ConsentStatus",
    "ContactChannel",
    "ContactRelationship",
    "DecisionOutcome",
    "Direction",
    "GoalAchievementStatus",
    "GoalLifecycleStatus",
    "GoalPriority",
    "InteractionParty",
    "InterventionKind",
    "NeedPriority",
    "NeedStatus",
    "ReferralStatus",
    "ReferralTargetKind",
    "ReviewDecision",
    "TaskPriority",
    "TaskStatus",
]


class CarePlanStatus(StrEnum):
    """FHIR request-status (CarePlan.status)."""

    DRAFT = "draft"
    ACTIVE = "active"
    ON_HOLD = "on-hold"
    REVOKED = "revoked"
    COMPLETED = "completed"
    ENTERED_IN_ERROR = "entered-in-error"
    UNKNOWN = "unknown"


class CarePlanIntent(StrEnum):
    """FHIR care-plan-intent (CarePlan.intent)."""

    PROPOSAL = "proposal"
    PLAN = "plan"
    ORDER = "order"
    OPTION = "option"


class GoalLifecycleStatus(StrEnum):
    """FHIR goal-status (Goal.lifecycleStatus)."""

    PROPOSED = "proposed"
    PLANNED = "planned"
    ACCEPTED = "accepted"
    ACTIVE = "active"
    ON_HOLD = "on-hold"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ENTERED_IN_ERROR = "entered-in-error"
    REJECTED = "rejected"


class GoalAchievementStatus(StrEnum):
    """FHIR goal-achievement (Goal.achievementStatus).

    ``improving``, ``worsening`` and ``no-change`` are kinds of ``in-progress``.
    """

    IN_PROGRESS = "in-progress"
    IMPROVING = "improving"
    WORSENING = "worsening"
    NO_CHANGE = "no-change"
    ACHIEVED = "achieved"
    SUSTAINING = "sustaining"
    NOT_ACHIEVED = "not-achieved"
    NO_PROGRESS = "no-progress"
    NOT_ATTAINABLE = "not-attainable"


class GoalPriority(StrEnum):
    """FHIR goal-priority (Goal.priority)."""

    HIGH = "high-priority"
    MEDIUM = "medium-priority"
    LOW = "low-priority"


class TaskStatus(StrEnum):
    """FHIR task-status (Task.status), the lifecycle of an intervention."""

    DRAFT = "draft"
    REQUESTED = "requested"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    READY = "ready"
    CANCELLED = "cancelled"
    IN_PROGRESS = "in-progress"
    ON_HOLD = "on-hold"
    FAILED = "failed"
    COMPLETED = "completed"
    ENTERED_IN_ERROR = "entered-in-error"


class TaskPriority(StrEnum):
    """FHIR request-priority (Task.priority), lowest to highest urgency."""

    ROUTINE = "routine"
    URGENT = "urgent"
    ASAP = "asap"
    STAT = "stat"

    @property
    def rank(self) -> int:
        """0 for routine up to 3 for stat: higher is more urgent."""
        return list(TaskPriority).index(self)


class CareTeamStatus(StrEnum):
    """FHIR care-team-status (CareTeam.status)."""

    PROPOSED = "proposed"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    INACTIVE = "inactive"
    ENTERED_IN_ERROR = "entered-in-error"


class CommunicationStatus(StrEnum):
    """FHIR event-status (Communication.status)."""

    PREPARATION = "preparation"
    IN_PROGRESS = "in-progress"
    NOT_DONE = "not-done"
    ON_HOLD = "on-hold"
    STOPPED = "stopped"
    COMPLETED = "completed"
    ENTERED_IN_ERROR = "entered-in-error"
    UNKNOWN = "unknown"


class AppointmentStatus(StrEnum):
    """FHIR appointmentstatus (Appointment.status)."""

    PROPOSED = "proposed"
    PENDING = "pending"
    BOOKED = "booked"
    ARRIVED = "arrived"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    NOSHOW = "noshow"
    ENTERED_IN_ERROR = "entered-in-error"
    CHECKED_IN = "checked-in"
    WAITLIST = "waitlist"


class ConsentStatus(StrEnum):
    """FHIR consent-state-codes (Consent.status)."""

    DRAFT = "draft"
    PROPOSED = "proposed"
    ACTIVE = "active"
    REJECTED = "rejected"
    INACTIVE = "inactive"
    ENTERED_IN_ERROR = "entered-in-error"


class ReferralStatus(StrEnum):
    """Closed-loop referral states (Gravity Project pattern).

    A referral is *closed* only when its result has come back
    (``result-received``) or it ended without one (declined, cancelled, failed).
    """

    DRAFT = "draft"
    SENT = "sent"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    RESULT_RECEIVED = "result-received"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    FAILED = "failed"
    ENTERED_IN_ERROR = "entered-in-error"


class ReferralTargetKind(StrEnum):
    """Who a referral goes to."""

    PROVIDER = "provider"
    SPECIALIST = "specialist"
    COMMUNITY_RESOURCE = "community-resource"
    HOME_HEALTH = "home-health"
    TRANSPORT = "transport"
    FINANCIAL_AID = "financial-aid"
    BEHAVIORAL_HEALTH = "behavioral-health"
    OTHER = "other"


class CareTeamRole(StrEnum):
    """Roles a person can hold on a care team."""

    CARE_COORDINATOR = "care-coordinator"
    LEAD_MEDICAL_ASSISTANT = "lead-medical-assistant"
    MEDICAL_ASSISTANT = "medical-assistant"
    NURSE = "nurse"
    PRIMARY_CARE_PROVIDER = "primary-care-provider"
    SOCIAL_WORKER = "social-worker"
    SPECIALIST = "specialist"
    PHARMACIST = "pharmacist"
    COMMUNITY_HEALTH_WORKER = "community-health-worker"
    CASE_MANAGER = "case-manager"
    FAMILY_CAREGIVER = "family-caregiver"


class AssessmentDomain(StrEnum):
    """Domains an assessment covers."""

    MEDICAL = "medical"
    FUNCTIONAL = "functional"
    SOCIAL = "social"
    PSYCHOLOGICAL = "psychological"
    SUPPORT_NETWORK = "support-network"
    PREFERENCES = "preferences"


class NeedPriority(StrEnum):
    """Priority of a need / problem (same codes as FHIR goal-priority)."""

    HIGH = "high-priority"
    MEDIUM = "medium-priority"
    LOW = "low-priority"


class NeedStatus(StrEnum):
    """Clinical status of a need / health concern (FHIR condition-clinical subset)."""

    ACTIVE = "active"
    RESOLVED = "resolved"
    INACTIVE = "inactive"


class InterventionKind(StrEnum):
    """What kind of work an intervention is."""

    EDUCATION = "education"
    REFERRAL = "referral"
    APPOINTMENT = "appointment"
    MEDICATION_SUPPORT = "medication-support"
    MONITORING = "monitoring"
    RESOURCE_COORDINATION = "resource-coordination"
    COMMUNICATION = "communication"
    CLINICAL_PROCEDURE = "clinical-procedure"
    PAPERWORK = "paperwork"


class BarrierKind(StrEnum):
    """Kinds of barrier to care."""

    TRANSPORT = "transport"
    COST = "cost"
    INSURANCE = "insurance"
    LANGUAGE = "language"
    HOUSING = "housing"
    FOOD = "food"
    HEALTH_LITERACY = "health-literacy"
    CAREGIVER_AVAILABILITY = "caregiver-availability"
    MOBILITY = "mobility"
    TECHNOLOGY = "technology"
    SCHEDULING = "scheduling"
    OTHER = "other"


class ReviewDecision(StrEnum):
    """Decision about a goal at a plan review."""

    CONTINUE = "continue"
    MODIFY = "modify"
    DISCONTINUE = "discontinue"


class ContactChannel(StrEnum):
    """Channels of contact (FHIR contact-point-system plus in-person and portal)."""

    PHONE = "phone"
    SMS = "sms"
    EMAIL = "email"
    MAIL = "mail"
    PORTAL = "portal"
    VIDEO = "video"
    IN_PERSON = "in-person"


class Direction(StrEnum):
    """Direction of an interaction, seen from the care team."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class InteractionParty(StrEnum):
    """Who the care team interacted with."""

    PATIENT = "patient"
    FAMILY = "family"
    CARE_TEAM = "care-team"
    EXTERNAL_PROVIDER = "external-provider"
    COMMUNITY_ORGANISATION = "community-organisation"
    PAYER = "payer"


class ContactRelationship(StrEnum):
    """Relationship of a contact to the patient (HL7 v3 RoleCode subset)."""

    SPOUSE = "SPS"
    PARENT = "PRN"
    CHILD = "CHILD"
    SIBLING = "SIB"
    FRIEND = "FRND"
    GUARDIAN = "GUARD"
    CAREGIVER = "CAREGIVER"
    NEIGHBOR = "NBOR"
    OTHER = "O"


class DecisionOutcome(StrEnum):
    """The patient's answer to a recommendation."""

    ACCEPTED = "accepted"
    DECLINED = "declined"
    DEFERRED = "deferred"


class Comparator(StrEnum):
    """FHIR quantity-comparator for a target value."""

    LT = "<"
    LE = "<="
    GE = ">="
    GT = ">"
