"""The FHIR R4 (4.0.1) value sets and code systems carecoord's FHIR mapping uses.

``fhir.resources`` checks structure but not codes; this module checks codes.
:func:`check_resource` and :func:`check_bundle` return every coded element of a
resource or Bundle whose code is not in its value set (or whose code system is
unknown): an empty tuple means every code is valid. The import uses
:func:`code_in` for its own checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import Any, Final

import attrs

from ..model import (
    AssessmentDomain,
    BarrierKind,
    CadenceUnit,
    CareTeamRole,
    ContactChannel,
    DecisionOutcome,
    Direction,
    GoalRevisionReason,
    InteractionParty,
    InterventionKind,
    LivingSituation,
    NeedPriority,
    ReferralStatus,
    ReferralTargetKind,
    RefKind,
    ReviewDecision,
    TeachBackResult,
    TransportAccess,
)
from ._common import CODE_SYSTEM_BASE, cs
from ._derived import (
    CAREPLAN_CATEGORY,
    RESULTING_ACTIVITY,
    SDOH_BY_BARRIER,
    SDOH_BY_DOMAIN,
    SDOH_BY_TARGET,
    SDOH_CATEGORIES,
    SDOH_SYSTEM,
)

__all__ = [
    "BINDINGS",
    "CODE_SYSTEMS",
    "R4_RESOURCE_TYPES",
    "VALUE_SETS",
    "CodeSystem",
    "ValueSet",
    "check_bundle",
    "check_resource",
    "code_in",
]


@attrs.frozen
class CodeSystem:
    """A code system: its canonical URL and the codes carecoord may use from it.

    ``pattern`` (when set) accepts any code matching it instead of a fixed list
    (BCP-47 language tags).
    """

    url: str
    codes: frozenset[str]
    pattern: re.Pattern[str] | None = None

    def __contains__(self, code: object) -> bool:
        if not isinstance(code, str):
            return False
        if self.pattern is not None:
            return self.pattern.fullmatch(code) is not None
        return code in self.codes


@attrs.frozen
class ValueSet:
    """A value set bound to a ``code`` element: its name and allowed codes."""

    name: str
    codes: frozenset[str]


def _vs(name: str, codes: str) -> ValueSet:
    return ValueSet(name, frozenset(codes.split()))


VALUE_SETS: Final[dict[str, ValueSet]] = {
    vs.name: vs
    for vs in (
        _vs("request-status", "draft active on-hold revoked completed entered-in-error unknown"),
        _vs("care-plan-intent", "proposal plan order option"),
        _vs(
            "goal-status",
            "proposed planned accepted active on-hold completed cancelled entered-in-error "
            "rejected",
        ),
        _vs(
            "task-status",
            "draft requested received accepted rejected ready cancelled in-progress on-hold "
            "failed completed entered-in-error",
        ),
        _vs(
            "task-intent",
            "unknown proposal plan order original-order reflex-order filler-order "
            "instance-order option",
        ),
        _vs(
            "request-intent",
            "proposal plan directive order original-order reflex-order filler-order "
            "instance-order option",
        ),
        _vs("request-priority", "routine urgent asap stat"),
        _vs("care-team-status", "proposed active suspended inactive entered-in-error"),
        _vs(
            "event-status",
            "preparation in-progress not-done on-hold stopped completed entered-in-error unknown",
        ),
        _vs(
            "appointmentstatus",
            "proposed pending booked arrived fulfilled cancelled noshow entered-in-error "
            "checked-in waitlist",
        ),
        _vs("participationstatus", "accepted declined tentative needs-action"),
        _vs("consent-state-codes", "draft proposed active rejected inactive entered-in-error"),
        _vs("consent-provision-type", "deny permit"),
        _vs("clinicalimpression-status", "in-progress completed entered-in-error"),
        _vs("contact-point-system", "phone fax email pager url sms other"),
        _vs("quantity-comparator", "< <= >= >"),
        _vs(
            "observation-status",
            "registered preliminary final amended corrected cancelled entered-in-error unknown",
        ),
        _vs("narrative-status", "generated extensions additional empty"),
        _vs("audit-event-action", "C R U D E"),
        _vs("audit-event-outcome", "0 4 8 12"),
        _vs(
            "bundle-type",
            "document message transaction transaction-response batch "
            "batch-response history searchset collection",
        ),
        _vs(
            "resource-types",
            "Patient RelatedPerson Practitioner PractitionerRole CareTeam ClinicalImpression "
            "Condition Goal CarePlan Task ServiceRequest Appointment Communication Consent "
            "Basic AuditEvent Location Organization Observation",
        ),
    )
}
"""FHIR R4 value sets bound (required) to ``code`` elements carecoord writes."""


SDOH_CODES: Final = frozenset(
    {*SDOH_BY_DOMAIN.values(), *SDOH_BY_BARRIER.values(), *SDOH_BY_TARGET.values()}
    | SDOH_CATEGORIES
    | {RESULTING_ACTIVITY}
)
"""The codes carecoord writes from the Gravity Project's temporary code system (a health
concern's SDOH categories are checked against the IG's category codes)."""


def _enum_system(name: str, enum: type[StrEnum]) -> CodeSystem:
    return CodeSystem(cs(name), frozenset(member.value for member in enum))


def _system(url: str, codes: str) -> CodeSystem:
    return CodeSystem(url, frozenset(codes.split()))


_BCP47 = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")
_PROGRAM_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
"""A care program id (the codes of ``care-program``, which the host defines)."""

CODE_SYSTEMS: Final[dict[str, CodeSystem]] = {
    system.url: system
    for system in (
        # FHIR / HL7 terminology
        _system(
            "http://terminology.hl7.org/CodeSystem/goal-achievement",
            "in-progress improving worsening no-change achieved sustaining not-achieved "
            "no-progress not-attainable",
        ),
        _system(
            "http://terminology.hl7.org/CodeSystem/goal-priority",
            "high-priority medium-priority low-priority",
        ),
        _system(
            "http://terminology.hl7.org/CodeSystem/condition-clinical",
            "active recurrence relapse inactive remission resolved",
        ),
        _system(
            "http://terminology.hl7.org/CodeSystem/condition-category",
            "problem-list-item encounter-diagnosis",
        ),
        _system("http://hl7.org/fhir/us/core/CodeSystem/condition-category", "health-concern"),
        _system(
            "http://terminology.hl7.org/CodeSystem/condition-ver-status",
            "unconfirmed provisional differential confirmed refuted entered-in-error",
        ),
        _system("http://hl7.org/fhir/us/core/CodeSystem/us-core-category", "sdoh"),
        _system("http://terminology.hl7.org/CodeSystem/v3-NullFlavor", "UNK"),
        _system(
            "http://terminology.hl7.org/CodeSystem/consentscope",
            "adr research patient-privacy treatment",
        ),
        _system("http://loinc.org", "59284-0"),
        _system("http://terminology.hl7.org/CodeSystem/v3-ActCode", "OPTIN OPTINR OPTOUT OPTOUTE"),
        _system(
            "http://terminology.hl7.org/CodeSystem/v3-ActReason", "TREAT ETREAT HOPERAT HPAYMT"
        ),
        _system(
            "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP PPRF LOC AUT PRF"
        ),
        _system("http://terminology.hl7.org/CodeSystem/audit-entity-type", "1 2 3 4"),
        _system("http://terminology.hl7.org/CodeSystem/object-role", "1 4"),
        _system(CAREPLAN_CATEGORY, "assess-plan"),
        _system(SDOH_SYSTEM, " ".join(sorted(SDOH_CODES))),
        _system(
            "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode",
            "PHONE ELECTRONIC EMAILWRIT MAILWRIT ONLINEWRIT VIDEOCONF FACE WRITTEN",
        ),
        _system("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest"),
        _system(
            "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
            "SPS PRN CHILD SIB FRND GUARD NBOR",
        ),
        _system("http://terminology.hl7.org/CodeSystem/v2-0131", "O"),
        _system(
            "http://hl7.org/fhir/CodeSystem/task-code",
            "approve fulfill abort replace change suspend resume",
        ),
        # the status code systems, used in carecoord's status-history extension
        _system("http://hl7.org/fhir/request-status", " ".join(VALUE_SETS["request-status"].codes)),
        _system("http://hl7.org/fhir/goal-status", " ".join(VALUE_SETS["goal-status"].codes)),
        _system("http://hl7.org/fhir/task-status", " ".join(VALUE_SETS["task-status"].codes)),
        _system(
            "http://hl7.org/fhir/care-team-status",
            " ".join(VALUE_SETS["care-team-status"].codes),
        ),
        _system(
            "http://hl7.org/fhir/appointmentstatus",
            " ".join(VALUE_SETS["appointmentstatus"].codes),
        ),
        _system(
            "http://hl7.org/fhir/consent-state-codes",
            " ".join(VALUE_SETS["consent-state-codes"].codes),
        ),
        CodeSystem("urn:ietf:bcp:47", frozenset(), _BCP47),
        # carecoord's own code systems
        _enum_system("care-team-role", CareTeamRole),
        _enum_system("assessment-domain", AssessmentDomain),
        _enum_system("need-priority", NeedPriority),
        _enum_system("intervention-kind", InterventionKind),
        _enum_system("living-situation", LivingSituation),
        _enum_system("transport-access", TransportAccess),
        _enum_system("teach-back", TeachBackResult),
        _enum_system("referral-status", ReferralStatus),
        _enum_system("referral-target-kind", ReferralTargetKind),
        _enum_system("barrier-kind", BarrierKind),
        _enum_system("review-decision", ReviewDecision),
        _enum_system("goal-revision-reason", GoalRevisionReason),
        _enum_system("contact-channel", ContactChannel),
        _enum_system("direction", Direction),
        _enum_system("interaction-party", InteractionParty),
        _enum_system("decision-outcome", DecisionOutcome),
        _enum_system("cadence-unit", CadenceUnit),
        _enum_system("ref-kind", RefKind),
        CodeSystem(cs("care-program"), frozenset(), _PROGRAM_ID),
        _system(cs("contact-relationship"), "CAREGIVER"),
        _system(
            cs("record-category"),
            "need barrier care-plan-review patient-decision information-sharing referral "
            "referral-outcome social-screening",
        ),
    )
}
"""Code systems carecoord writes Codings from, by canonical URL."""

_R4_TYPES = """
    Account ActivityDefinition AdverseEvent AllergyIntolerance Appointment AppointmentResponse
    AuditEvent Basic Binary BiologicallyDerivedProduct BodyStructure Bundle CapabilityStatement
    CarePlan CareTeam CatalogEntry ChargeItem ChargeItemDefinition Claim ClaimResponse
    ClinicalImpression CodeSystem Communication CommunicationRequest CompartmentDefinition
    Composition ConceptMap Condition Consent Contract Coverage CoverageEligibilityRequest
    CoverageEligibilityResponse DetectedIssue Device DeviceDefinition DeviceMetric DeviceRequest
    DeviceUseStatement DiagnosticReport DocumentManifest DocumentReference
    EffectEvidenceSynthesis Encounter Endpoint EnrollmentRequest EnrollmentResponse
    EpisodeOfCare EventDefinition Evidence EvidenceVariable ExampleScenario
    ExplanationOfBenefit FamilyMemberHistory Flag Goal GraphDefinition Group GuidanceResponse
    HealthcareService ImagingStudy Immunization ImmunizationEvaluation
    ImmunizationRecommendation ImplementationGuide InsurancePlan Invoice Library Linkage List
    Location Measure MeasureReport Media Medication MedicationAdministration MedicationDispense
    MedicationKnowledge MedicationRequest MedicationStatement MedicinalProduct
    MedicinalProductAuthorization MedicinalProductContraindication MedicinalProductIndication
    MedicinalProductIngredient MedicinalProductInteraction MedicinalProductManufactured
    MedicinalProductPackaged MedicinalProductPharmaceutical MedicinalProductUndesirableEffect
    MessageDefinition MessageHeader MolecularSequence NamingSystem NutritionOrder Observation
    ObservationDefinition OperationDefinition OperationOutcome Organization
    OrganizationAffiliation Parameters Patient PaymentNotice PaymentReconciliation Person
    PlanDefinition Practitioner PractitionerRole Procedure Provenance Questionnaire
    QuestionnaireResponse RelatedPerson RequestGroup ResearchDefinition
    ResearchElementDefinition ResearchStudy ResearchSubject RiskAssessment
    RiskEvidenceSynthesis Schedule SearchParameter ServiceRequest Slot Specimen
    SpecimenDefinition StructureDefinition StructureMap Subscription Substance
    SubstanceNucleicAcid SubstancePolymer SubstanceProtein SubstanceReferenceInformation
    SubstanceSourceMaterial SubstanceSpecification SupplyDelivery SupplyRequest Task
    TerminologyCapabilities TestReport TestScript ValueSet VerificationResult VisionPrescription
"""
R4_RESOURCE_TYPES: Final = frozenset(_R4_TYPES.split())
"""Every resource type of FHIR R4 (4.0.1): an import error names one only if it is one of these."""

BINDINGS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "Bundle": (("type", "bundle-type"),),
    "Patient": (("telecom[].system", "contact-point-system"),),
    "RelatedPerson": (("telecom[].system", "contact-point-system"),),
    "Practitioner": (("telecom[].system", "contact-point-system"),),
    "CareTeam": (("status", "care-team-status"),),
    "ClinicalImpression": (("status", "clinicalimpression-status"),),
    "Goal": (
        ("lifecycleStatus", "goal-status"),
        ("target[].detailQuantity.comparator", "quantity-comparator"),
    ),
    "CarePlan": (
        ("text.status", "narrative-status"),
        ("status", "request-status"),
        ("intent", "care-plan-intent"),
    ),
    "Observation": (("status", "observation-status"),),
    "Task": (
        ("status", "task-status"),
        ("intent", "task-intent"),
        ("priority", "request-priority"),
    ),
    "ServiceRequest": (
        ("status", "request-status"),
        ("intent", "request-intent"),
        ("priority", "request-priority"),
    ),
    "Appointment": (
        ("status", "appointmentstatus"),
        ("participant[].status", "participationstatus"),
    ),
    "Communication": (("status", "event-status"),),
    "Consent": (("status", "consent-state-codes"), ("provision.type", "consent-provision-type")),
    "AuditEvent": (("action", "audit-event-action"), ("outcome", "audit-event-outcome")),
}
"""Per resource type: ``code`` element paths (``[]`` steps into arrays) and their value set."""

_CODING_PATHS: Final[dict[str, tuple[str, ...]]] = {
    "AuditEvent": ("type", "subtype[]"),
}


def code_in(value_set: str, code: object) -> bool:
    """Whether ``code`` is in the FHIR value set named ``value_set``."""
    return isinstance(code, str) and code in VALUE_SETS[value_set].codes


def _walk(node: Any, steps: list[str], path: str) -> Iterator[tuple[str, Any]]:
    if not steps:
        yield path, node
        return
    step, rest = steps[0], steps[1:]
    many = step.endswith("[]")
    key = step.removesuffix("[]")
    if not isinstance(node, Mapping) or key not in node:
        return
    value = node[key]
    if many and isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, rest, f"{path}.{key}[{i}]")
    else:
        yield from _walk(value, rest, f"{path}.{key}")


_OPEN: Final[dict[str, frozenset[str]]] = {
    "ClinicalImpression": frozenset({"itemCodeableConcept"}),
    "Condition": frozenset({"code"}),
}
"""Elements with an example binding: a Coding from a code system carecoord does not know
(a LOINC or SNOMED code the host recorded) is accepted there."""


def _codings(node: Any, path: str, open_keys: frozenset[str]) -> Iterator[tuple[str, Any, bool]]:
    # Every Coding: the items of any "coding" array and every "valueCoding";
    # the flag says whether it lies under an example-bound (open) element.
    yield from _codings_in(node, path, open_keys, False)


def _codings_in(
    node: Any, path: str, open_keys: frozenset[str], is_open: bool
) -> Iterator[tuple[str, Any, bool]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            here = f"{path}.{key}"
            if key == "coding" and isinstance(value, list):
                for i, item in enumerate(value):
                    yield f"{here}[{i}]", item, is_open
            elif key == "valueCoding":
                yield here, value, is_open
            else:
                yield from _codings_in(value, here, open_keys, is_open or key in open_keys)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _codings_in(item, f"{path}[{i}]", open_keys, is_open)


def _check_coding(coding: Any, path: str, is_open: bool = False) -> str | None:
    if not isinstance(coding, Mapping):
        return f"{path}: not a Coding"
    system, code = coding.get("system"), coding.get("code")
    if not isinstance(system, str):
        return f"{path}: Coding without a system"
    if is_open and not system.startswith(CODE_SYSTEM_BASE):
        # example binding: the host's own LOINC / SNOMED / local codes are fine
        return None if isinstance(code, str) and code else f"{path}: Coding without a code"
    known = CODE_SYSTEMS.get(system)
    if known is None:
        return f"{path}: unknown code system"
    if code not in known:
        return f"{path}: code not in {system}"
    return None


def check_resource(resource: Mapping[str, Any], path: str | None = None) -> tuple[str, ...]:
    """Every code of ``resource`` outside its value set, as ``path: problem`` strings."""
    rtype = resource.get("resourceType")
    where = path or str(rtype)
    problems: list[str] = []
    if not code_in("resource-types", rtype) and rtype != "Bundle":
        problems.append(f"{where}.resourceType: not a resource type carecoord writes")
    for element, vs_name in BINDINGS.get(str(rtype), ()):
        for at, value in _walk(resource, element.split("."), where):
            if not code_in(vs_name, value):
                problems.append(f"{at}: code not in value set {vs_name}")
    for element in _CODING_PATHS.get(str(rtype), ()):
        for at, value in _walk(resource, element.split("."), where):
            if (problem := _check_coding(value, at)) is not None:
                problems.append(problem)
    for at, coding, is_open in _codings(resource, where, _OPEN.get(str(rtype), frozenset())):
        if (problem := _check_coding(coding, at, is_open)) is not None:
            problems.append(problem)
    return tuple(problems)


def check_bundle(bundle: Mapping[str, Any]) -> tuple[str, ...]:
    """Every invalid code in ``bundle`` and its entries' resources (empty when all valid)."""
    problems = list(check_resource({"resourceType": "Bundle", "type": bundle.get("type")}))
    for i, entry in enumerate(bundle.get("entry") or ()):
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        if isinstance(resource, Mapping):
            problems.extend(check_resource(resource, f"Bundle.entry[{i}].resource"))
        else:
            problems.append(f"Bundle.entry[{i}]: no resource")
    return tuple(problems)
