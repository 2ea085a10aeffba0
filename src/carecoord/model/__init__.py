"""The pure carecoord domain model: attrs value objects and entities, no I/O.

This package imports nothing else of carecoord; everything else imports it.

Its names are listed in ``__all__`` and resolve on first access: each loads
only the submodule that defines it (and what that submodule imports), so
``import carecoord.model`` (and ``import carecoord``) builds no attrs class
until one is used. ``from carecoord.model import Patient`` works as usual.
"""

from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

if _TYPE_CHECKING:  # type checkers see every submodule's __all__ re-exported from here
    from ._base import *  # noqa: F403
    from ._demographics import *  # noqa: F403
    from ._errors import *  # noqa: F403
    from ._external import *  # noqa: F403
    from .access import *  # noqa: F403
    from .administration import *  # noqa: F403
    from .audit import *  # noqa: F403
    from .cadence import *  # noqa: F403
    from .clinic import *  # noqa: F403
    from .codes import *  # noqa: F403
    from .concerns import *  # noqa: F403
    from .consents import *  # noqa: F403
    from .directory import *  # noqa: F403
    from .education import *  # noqa: F403
    from .eligibility import *  # noqa: F403
    from .encounters import *  # noqa: F403
    from .goals import *  # noqa: F403
    from .machine import *  # noqa: F403
    from .measurements import *  # noqa: F403
    from .outbox import *  # noqa: F403
    from .paperwork import *  # noqa: F403
    from .people import *  # noqa: F403
    from .plan import *  # noqa: F403
    from .programs import *  # noqa: F403
    from .records import *  # noqa: F403
    from .scheduling import *  # noqa: F403
    from .social import *  # noqa: F403
    from .supplies import *  # noqa: F403
    from .templates import *  # noqa: F403
    from .training import *  # noqa: F403
    from .workforce import *  # noqa: F403

_EXPORTS = {
    "_base": (
        "AppointmentId",
        "AssessmentId",
        "BarrierId",
        "CarePlanId",
        "CareTeamId",
        "ConsentId",
        "ContactId",
        "DecisionId",
        "EntityId",
        "FindingId",
        "GoalId",
        "InterventionId",
        "NeedId",
        "NoteId",
        "PatientId",
        "ReferralId",
        "ReviewId",
        "StaffId",
    ),
    "_errors": (
        "AccessDeniedError",
        "CareCoordError",
        "ConflictError",
        "FhirImportError",
        "InvalidTransitionError",
        "MissingExtraError",
        "NaiveDatetimeError",
        "NotFoundError",
        "ReasonRequiredError",
        "StorageError",
        "StructureError",
        "ValidationError",
        "CompetencyMissingError",
        "OffDutyError",
        "SlotTakenError",
        "LotExpiredError",
        "OutOfStockError",
        "GoalClosedError",
    ),
    "access": ("EmergencyAccess",),
    "audit": (
        "AUDIT_HEAD_ID",
        "GENESIS_HASH",
        "AuditAction",
        "AuditCheckpoint",
        "AuditEntry",
        "AuditHead",
        "AuditOutcome",
        "AuditVerification",
        "ChainBreak",
        "PurposeOfUse",
        "chain_hash",
        "checkpoint_signature",
        "new_audit_entry_id",
        "verify_chain",
    ),
    "cadence": (
        "Cadence",
        "CadenceUnit",
        "localize",
    ),
    "codes": (
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
    ),
    "_external": ("Coding", "ExternalRef"),
    "concerns": (
        "ConcernCategory",
        "ConditionClinicalStatus",
        "ConditionVerificationStatus",
        "HealthConcern",
        "HealthConcernId",
        "PatientGoal",
    ),
    "consents": ("Consent", "ConsentPolicyRule", "ConsentScope"),
    "encounters": (
        "Encounter",
        "EncounterClass",
        "EncounterId",
        "SurveyResponse",
        "SurveyResponseId",
    ),
    "goals": (
        "Goal",
        "GoalRevision",
        "GoalRevisionReason",
        "ProgressReading",
        "Quantity",
        "Range",
        "Target",
        "derive_achievement",
    ),
    "machine": (
        "APPOINTMENT_MACHINE",
        "CARE_PLAN_MACHINE",
        "CARE_TEAM_MACHINE",
        "CONSENT_MACHINE",
        "GOAL_MACHINE",
        "REFERRAL_MACHINE",
        "TASK_MACHINE",
        "StateMachine",
        "Transition",
    ),
    "outbox": (
        "DeliveryStatus",
        "Notification",
        "RecipientKind",
        "TimedEventMarker",
        "stable_id",
    ),
    "_demographics": (
        "Address",
        "AddressType",
        "AddressUse",
        "AdministrativeGender",
        "NameUse",
        "current_name",
    ),
    "people": (
        "CareTeam",
        "Contact",
        "ContactPoint",
        "ContactPreferences",
        "HumanName",
        "Identifier",
        "Membership",
        "Patient",
        "Period",
        "QuietHours",
        "StaffMember",
        "supervision_chain",
    ),
    "plan": (
        "Assessment",
        "CarePlan",
        "Finding",
        "Intervention",
        "Need",
    ),
    "eligibility": ("EligibilityFact",),
    "programs": (
        "CareProgram",
        "CareProgramId",
        "CareProgramStatus",
        "Criterion",
        "CriterionKind",
        "Eligibility",
        "EnrolmentStatus",
        "PatientFact",
        "PatientFactId",
        "ProgramEnrolment",
        "ProgramEnrolmentId",
    ),
    "records": (
        "Appointment",
        "Barrier",
        "BarrierResolution",
        "GoalOutcome",
        "Note",
        "PatientDecision",
        "Ref",
        "Referral",
        "RefKind",
        "Review",
    ),
    "scheduling": (
        "Schedule",
        "ScheduleId",
        "SessionPattern",
        "Slot",
        "SlotId",
        "SlotStatus",
    ),
    "templates": (
        "GoalTemplate",
        "InterventionTemplate",
        "Offset",
        "PlanTemplate",
        "PlanTemplateId",
        "Recurrence",
        "TargetTemplate",
        "TemplateInstance",
        "TemplateKey",
        "TemplateLink",
        "TemplateMigration",
        "template_record_id",
    ),
    "training": (
        "STAFFING_POLICY_ID",
        "Competency",
        "CompetencyId",
        "CompetencyRequirement",
        "OffDutyRule",
        "OnboardingChecklist",
        "Protocol",
        "ProtocolCompletion",
        "ProtocolCompletionId",
        "ProtocolId",
        "ProtocolStep",
        "ProtocolStepId",
        "StaffingPolicy",
        "StaffingPolicyId",
        "TrainingRecord",
        "TrainingRecordId",
    ),
    "workforce": (
        "MAX_SHIFT",
        "LocationId",
        "Rota",
        "RotaId",
        "Shift",
        "ShiftId",
        "ShiftKind",
        "ShiftPattern",
        "ShiftStatus",
        "TimeOff",
        "TimeOffId",
        "TimeOffKind",
    ),
    "administration": (
        "AUTHORIZATION_MACHINE",
        "AuthorizationStatus",
        "Coverage",
        "CoverageId",
        "CoverageStatus",
        "PriorAuthorization",
        "PriorAuthorizationId",
        "SubscriberRelationship",
    ),
    "clinic": (
        "DEFAULT_WAIT_LIMITS",
        "FLOW_STATES",
        "IN_CLINIC",
        "VISIT_MACHINE",
        "Clinic",
        "ClinicId",
        "ClinicLocation",
        "RoomId",
        "Visit",
        "VisitFacts",
        "VisitId",
        "VisitState",
        "WaitLimit",
    ),
    "directory": (
        "CapacityStatus",
        "DirectoryFacts",
        "DirectoryService",
        "DirectoryServiceId",
        "OpeningHours",
        "ServiceContact",
        "ServiceCost",
        "ServiceLocation",
        "ServiceLocationId",
        "ServiceOrganization",
        "ServiceOrganizationId",
        "directory_target",
        "target_service_id",
    ),
    "education": (
        "EducationMaterial",
        "EducationSession",
        "EducationSessionId",
        "MaterialFormat",
        "MaterialId",
        "TeachBackResult",
    ),
    "measurements": (
        "CATALOGUE",
        "LOINC_SYSTEM",
        "TARGET_ALIASES",
        "Interpretation",
        "LoincCode",
        "MeasureDefinition",
        "MeasuredValue",
        "Measurement",
        "MeasurementCategory",
        "MeasurementId",
        "ReferenceRange",
        "convert",
        "is_loinc",
        "target_codes",
    ),
    "paperwork": (
        "FORM_MACHINE",
        "DocumentAttachment",
        "FormId",
        "FormStatus",
        "FormType",
        "Instalment",
        "PatientForm",
        "PaymentPlan",
        "PaymentPlanId",
    ),
    "social": (
        "LOINC",
        "CaregiverAvailability",
        "CommunicationNeeds",
        "ContactLanguage",
        "LivingSituation",
        "ScreeningAnswer",
        "ScreeningId",
        "ScreeningResponse",
        "SocialContext",
        "TransportAccess",
        "primary_language",
    ),
    "supplies": (
        "ORDER_MACHINE",
        "Lot",
        "LotNumber",
        "MovementId",
        "MovementKind",
        "MovementReason",
        "OrderLine",
        "StockMovement",
        "SupplyCode",
        "SupplyItem",
        "SupplyItemId",
        "SupplyOrder",
        "SupplyOrderId",
        "SupplyOrderStatus",
        "SupplyReceipt",
        "expiry_key",
    ),
}

__all__ = [name for names in _EXPORTS.values() for name in names]
"""Every name of every submodule's ``__all__`` (checked by tests/test_import_laziness.py)."""

_SUBMODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str) -> _Any:
    import importlib

    module = _SUBMODULE_OF.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    elif name in _EXPORTS or name == "_html":
        # A submodule nobody has imported yet (the eager package always had them).
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
