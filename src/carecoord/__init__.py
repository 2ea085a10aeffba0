"""carecoord: an embeddable domain kernel for healthcare care coordination.

The top level is the curated public API: the coordination service
(:class:`CareCoordinator`, and :func:`operation` with :class:`Context` for a host's
own use cases), the core coordination model (patients, staff and care teams,
assessments and needs, care plans with goals and interventions, referrals,
appointments, barriers, reviews, notes, decisions, consents, health concerns,
cadences), the error tree, worklists, metrics and the serialization edge::

    from carecoord import CareCoordinator, Patient, PatientId

Everything else lives in its module: the whole model in :mod:`carecoord.model`
(clinic, staffing, supplies, administration, directory, programs, templates,
state machines, audit internals), stores in :mod:`carecoord.storage`, FHIR in
:mod:`carecoord.fhir`, test doubles in :mod:`carecoord.testing`.

Names the 0.1 top level exported beyond this list (the rest of the model, such as
``AUDIT_HEAD_ID``, ``stable_id`` or the ``*_MACHINE`` constants) still resolve in
0.2 with a :class:`DeprecationWarning` naming their home, and leave in 0.3 (see
the changelog's compatibility policy).

Importing carecoord opens no file, database or network connection, and every name
is loaded on first use, which keeps ``import carecoord`` fast.
"""

import typing as _typing

if _typing.TYPE_CHECKING:
    from .caseload import (
        DueIntervention,
        Worklist,
        WorklistCategory,
        WorklistItem,
        WorklistScope,
    )
    from .metrics import Metric, MetricKind, MetricReport
    from .model import (
        AccessDeniedError,
        Address,
        AdministrativeGender,
        Appointment,
        AppointmentId,
        AppointmentStatus,
        Assessment,
        AssessmentDomain,
        AssessmentId,
        AuditAction,
        AuditEntry,
        Barrier,
        BarrierId,
        BarrierKind,
        BarrierResolution,
        Cadence,
        CadenceUnit,
        CareCoordError,
        CarePlan,
        CarePlanId,
        CarePlanIntent,
        CarePlanStatus,
        CareTeam,
        CareTeamId,
        CareTeamRole,
        CareTeamStatus,
        Comparator,
        CompetencyMissingError,
        ConflictError,
        Consent,
        ConsentId,
        ConsentScope,
        ConsentStatus,
        Contact,
        ContactChannel,
        ContactId,
        ContactPoint,
        ContactPreferences,
        ContactRelationship,
        DecisionId,
        DecisionOutcome,
        EntityId,
        FhirImportError,
        Finding,
        FindingId,
        Goal,
        GoalAchievementStatus,
        GoalClosedError,
        GoalId,
        GoalLifecycleStatus,
        GoalOutcome,
        GoalPriority,
        HealthConcern,
        HealthConcernId,
        HumanName,
        Identifier,
        Intervention,
        InterventionId,
        InterventionKind,
        InvalidTransitionError,
        LotExpiredError,
        Membership,
        MissingExtraError,
        NaiveDatetimeError,
        Need,
        NeedId,
        NeedPriority,
        NeedStatus,
        Note,
        NoteId,
        NotFoundError,
        OffDutyError,
        OutOfStockError,
        Patient,
        PatientDecision,
        PatientGoal,
        PatientId,
        Period,
        ProgressReading,
        PurposeOfUse,
        Quantity,
        QuietHours,
        Range,
        ReasonRequiredError,
        Referral,
        ReferralId,
        ReferralStatus,
        ReferralTargetKind,
        Review,
        ReviewDecision,
        ReviewId,
        SlotTakenError,
        StaffId,
        StaffMember,
        StorageError,
        StructureError,
        Target,
        TaskPriority,
        TaskStatus,
        Transition,
        ValidationError,
    )
    from .retry import RetryPolicy
    from .serialization import (
        SCHEMA_VERSION,
        dumps,
        from_payload,
        loads,
        make_converter,
        to_payload,
    )
    from .service import CareCoordinator, Context, Operation, operation

    __version__: str

__all__ = [
    "SCHEMA_VERSION",
    "AccessDeniedError",
    "Address",
    "AdministrativeGender",
    "Appointment",
    "AppointmentId",
    "AppointmentStatus",
    "Assessment",
    "AssessmentDomain",
    "AssessmentId",
    "AuditAction",
    "AuditEntry",
    "Barrier",
    "BarrierId",
    "BarrierKind",
    "BarrierResolution",
    "Cadence",
    "CadenceUnit",
    "CareCoordError",
    "CareCoordinator",
    "CarePlan",
    "CarePlanId",
    "CarePlanIntent",
    "CarePlanStatus",
    "CareTeam",
    "CareTeamId",
    "CareTeamRole",
    "CareTeamStatus",
    "Comparator",
    "CompetencyMissingError",
    "ConflictError",
    "Consent",
    "ConsentId",
    "ConsentScope",
    "ConsentStatus",
    "Contact",
    "ContactChannel",
    "ContactId",
    "ContactPoint",
    "ContactPreferences",
    "ContactRelationship",
    "Context",
    "DecisionId",
    "DecisionOutcome",
    "DueIntervention",
    "EntityId",
    "FhirImportError",
    "Finding",
    "FindingId",
    "Goal",
    "GoalAchievementStatus",
    "GoalClosedError",
    "GoalId",
    "GoalLifecycleStatus",
    "GoalOutcome",
    "GoalPriority",
    "HealthConcern",
    "HealthConcernId",
    "HumanName",
    "Identifier",
    "Intervention",
    "InterventionId",
    "InterventionKind",
    "InvalidTransitionError",
    "LotExpiredError",
    "Membership",
    "Metric",
    "MetricKind",
    "MetricReport",
    "MissingExtraError",
    "NaiveDatetimeError",
    "Need",
    "NeedId",
    "NeedPriority",
    "NeedStatus",
    "NotFoundError",
    "Note",
    "NoteId",
    "OffDutyError",
    "Operation",
    "OutOfStockError",
    "Patient",
    "PatientDecision",
    "PatientGoal",
    "PatientId",
    "Period",
    "ProgressReading",
    "PurposeOfUse",
    "Quantity",
    "QuietHours",
    "Range",
    "ReasonRequiredError",
    "Referral",
    "ReferralId",
    "ReferralStatus",
    "ReferralTargetKind",
    "RetryPolicy",
    "Review",
    "ReviewDecision",
    "ReviewId",
    "SlotTakenError",
    "StaffId",
    "StaffMember",
    "StorageError",
    "StructureError",
    "Target",
    "TaskPriority",
    "TaskStatus",
    "Transition",
    "ValidationError",
    "Worklist",
    "WorklistCategory",
    "WorklistItem",
    "WorklistScope",
    "__version__",
    "dumps",
    "from_payload",
    "loads",
    "make_converter",
    "operation",
    "to_payload",
]

_CURATED = frozenset(__all__)

_HOMES = {
    **dict.fromkeys(
        ("DueIntervention", "Worklist", "WorklistCategory", "WorklistItem", "WorklistScope"),
        "caseload",
    ),
    **dict.fromkeys(("Metric", "MetricKind", "MetricReport"), "metrics"),
    **dict.fromkeys(("CareCoordinator", "Context", "Operation", "operation"), "service"),
    "RetryPolicy": "retry",
    **dict.fromkeys(
        ("SCHEMA_VERSION", "dumps", "from_payload", "loads", "make_converter", "to_payload"),
        "serialization",
    ),
}
"""The module of each curated name not in :mod:`carecoord.model` (the rest are model names)."""


def _version() -> str:
    """The installed version, from the package metadata (its one source: pyproject.toml)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("carecoord")
    except PackageNotFoundError:  # imported from a source tree that was never installed
        return "0+unknown"


def __getattr__(name: str) -> _typing.Any:
    if name == "__version__":
        globals()[name] = found = _version()
        return found
    module = _HOMES.get(name, "model") if name in _CURATED else None
    if module is None:
        from ._former import former_name

        return former_name(name)  # a 0.1 name, with a DeprecationWarning; else AttributeError
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
