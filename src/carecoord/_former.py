"""The names the 0.1 top level exported beyond the curated API (deprecated in 0.2).

``from carecoord import AUDIT_HEAD_ID`` still works in 0.2 and warns
(:class:`DeprecationWarning`) with the name's home; 0.3 removes these names from the
top level. The list is fixed: names added to the model later are never top-level.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

__all__ = ["FORMER_NAMES", "REMOVED_IN", "former_name"]

REMOVED_IN = "0.3"
"""The release that removes the deprecated top-level names."""

FORMER_NAMES: frozenset[str] = frozenset(
    {
        "APPOINTMENT_MACHINE",
        "AUDIT_HEAD_ID",
        "AUTHORIZATION_MACHINE",
        "CARE_PLAN_MACHINE",
        "CARE_TEAM_MACHINE",
        "CATALOGUE",
        "CONSENT_MACHINE",
        "DEFAULT_WAIT_LIMITS",
        "FLOW_STATES",
        "FORM_MACHINE",
        "GENESIS_HASH",
        "GOAL_MACHINE",
        "IN_CLINIC",
        "LOINC",
        "LOINC_SYSTEM",
        "MAX_SHIFT",
        "ORDER_MACHINE",
        "REFERRAL_MACHINE",
        "STAFFING_POLICY_ID",
        "TARGET_ALIASES",
        "TASK_MACHINE",
        "VISIT_MACHINE",
        "AddressType",
        "AddressUse",
        "AuditCheckpoint",
        "AuditHead",
        "AuditOutcome",
        "AuditVerification",
        "AuthorizationStatus",
        "CapacityStatus",
        "CaregiverAvailability",
        "ChainBreak",
        "Clinic",
        "ClinicId",
        "ClinicLocation",
        "Coding",
        "CommunicationNeeds",
        "CommunicationStatus",
        "Competency",
        "CompetencyId",
        "CompetencyRequirement",
        "ConcernCategory",
        "ConditionClinicalStatus",
        "ConditionVerificationStatus",
        "ConsentPolicyRule",
        "ContactLanguage",
        "Coverage",
        "CoverageId",
        "CoverageStatus",
        "DeliveryStatus",
        "Direction",
        "DirectoryFacts",
        "DirectoryService",
        "DirectoryServiceId",
        "DocumentAttachment",
        "EducationMaterial",
        "EducationSession",
        "EducationSessionId",
        "EmergencyAccess",
        "Encounter",
        "EncounterClass",
        "EncounterId",
        "ExternalRef",
        "FormId",
        "FormStatus",
        "FormType",
        "Instalment",
        "InteractionParty",
        "Interpretation",
        "LivingSituation",
        "LocationId",
        "LoincCode",
        "Lot",
        "LotNumber",
        "MaterialFormat",
        "MaterialId",
        "MeasureDefinition",
        "MeasuredValue",
        "Measurement",
        "MeasurementCategory",
        "MeasurementId",
        "MovementId",
        "MovementKind",
        "MovementReason",
        "NameUse",
        "Notification",
        "OffDutyRule",
        "OnboardingChecklist",
        "OpeningHours",
        "OrderLine",
        "PatientForm",
        "PaymentPlan",
        "PaymentPlanId",
        "PriorAuthorization",
        "PriorAuthorizationId",
        "Protocol",
        "ProtocolCompletion",
        "ProtocolCompletionId",
        "ProtocolId",
        "ProtocolStep",
        "ProtocolStepId",
        "RecipientKind",
        "Ref",
        "RefKind",
        "ReferenceRange",
        "RoomId",
        "Rota",
        "RotaId",
        "Schedule",
        "ScheduleId",
        "ScreeningAnswer",
        "ScreeningId",
        "ScreeningResponse",
        "ServiceContact",
        "ServiceCost",
        "ServiceLocation",
        "ServiceLocationId",
        "ServiceOrganization",
        "ServiceOrganizationId",
        "SessionPattern",
        "Shift",
        "ShiftId",
        "ShiftKind",
        "ShiftPattern",
        "ShiftStatus",
        "Slot",
        "SlotId",
        "SlotStatus",
        "SocialContext",
        "StaffingPolicy",
        "StaffingPolicyId",
        "StateMachine",
        "StockMovement",
        "SubscriberRelationship",
        "SupplyCode",
        "SupplyItem",
        "SupplyItemId",
        "SupplyOrder",
        "SupplyOrderId",
        "SupplyOrderStatus",
        "SupplyReceipt",
        "SurveyResponse",
        "SurveyResponseId",
        "TeachBackResult",
        "TimeOff",
        "TimeOffId",
        "TimeOffKind",
        "TimedEventMarker",
        "TrainingRecord",
        "TrainingRecordId",
        "TransportAccess",
        "Visit",
        "VisitFacts",
        "VisitId",
        "VisitState",
        "WaitLimit",
        "WorkItem",
        "chain_hash",
        "checkpoint_signature",
        "convert",
        "current_name",
        "derive_achievement",
        "directory_target",
        "expiry_key",
        "interventions_due",
        "is_loinc",
        "localize",
        "new_audit_entry_id",
        "primary_language",
        "stable_id",
        "supervision_chain",
        "target_codes",
        "target_service_id",
        "verify_chain",
    }
)
"""Every name the 0.1 top level exported that the curated top level left."""

_HOMES = {"interventions_due": "carecoord.worklist", "WorkItem": "carecoord.caseload"}
"""Names whose home is not :mod:`carecoord.model`."""

_RENAMED = {"WorkItem": "it is carecoord.DueIntervention"}
"""Names that changed, with what to use instead."""


def former_name(name: str) -> Any:
    """The value of a deprecated top-level ``name``, with a DeprecationWarning naming its
    home; :class:`AttributeError` for any other name."""
    if name not in FORMER_NAMES:
        raise AttributeError(f"module 'carecoord' has no attribute {name!r}")
    home = _HOMES.get(name, "carecoord.model")
    advice = _RENAMED.get(name, f"import it from {home}")
    warnings.warn(
        f"carecoord.{name} is deprecated since 0.2 and leaves the top level in {REMOVED_IN}: "
        f"{advice}",
        DeprecationWarning,
        stacklevel=3,
    )
    with warnings.catch_warnings():  # one warning: the home may deprecate the name too
        warnings.simplefilter("ignore", DeprecationWarning)
        return getattr(importlib.import_module(home), name)
