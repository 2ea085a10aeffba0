"""The FHIR R4 (4.0.1) elements carecoord exports: types, cardinality, bindings, targets.

Written from the R4 resource definitions for :mod:`_fhir_checks` (an
independent check of the export: nothing here comes from carecoord). One
line per element: ``name:Type`` then ``(Target|...)`` for references,
``=value-set`` for a required binding, ``*`` for an array and ``!`` for a
required element. ``x[x]:A|B`` is a choice (``xA``, ``xB``, at most one).
Elements R4 has but carecoord never writes are left out on purpose, so an
unexpected element is reported; a few are listed because an invariant
names them (``Condition.abatement[x]``, ``Appointment.cancelationReason``,
``CarePlan.activity.detail``, ``Observation.dataAbsentReason``,
``AuditEvent.entity.name`` / ``query``).
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["CHOICES", "EXTENSION_VALUES", "PRIMITIVES", "REQUIRED_VALUE_SETS", "SCHEMA", "Element"]


class Element(NamedTuple):
    type: str
    many: bool = False
    required: bool = False
    binding: str | None = None
    targets: tuple[str, ...] = ()


PRIMITIVES = frozenset(
    {"id", "code", "uri", "string", "date", "dateTime", "instant", "time", "decimal"}
    | {"positiveInt", "boolean", "xhtml", "base64Binary"}
)

_PLAIN_REFS = "Patient|Practitioner|PractitionerRole|RelatedPerson|Organization"
_RAW: dict[str, str] = {
    # ---------------------------------------------------------------- datatypes
    "Element": "id:string extension:Extension*",
    "Extension": "id:string url:uri! extension:Extension*",
    "Coding": "id:string system:uri version:string code:code display:string",
    "CodeableConcept": "id:string coding:Coding* text:string",
    "Identifier": "id:string extension:Extension* system:uri value:string",
    "Reference": "id:string extension:Extension* reference:string type:uri "
    "identifier:Identifier display:string",
    "Period": "id:string extension:Extension* start:dateTime end:dateTime",
    "Quantity": "id:string value:decimal comparator:code=quantity-comparator unit:string "
    "system:uri code:code",
    "SimpleQuantity": "id:string value:decimal unit:string system:uri code:code",
    "Range": "id:string low:SimpleQuantity high:SimpleQuantity",
    "HumanName": "id:string use:code=name-use family:string given:string* prefix:string* "
    "suffix:string* period:Period",
    "Address": "id:string use:code=address-use type:code=address-type line:string* "
    "city:string district:string state:string postalCode:string country:string period:Period",
    "ContactPoint": "id:string extension:Extension* system:code=contact-point-system value:string",
    "Narrative": "id:string status:code!=narrative-status div:xhtml!",
    # ---------------------------------------------------------------- resources
    "Bundle": "id:id type:code!=bundle-type",
    "Patient": "id:id extension:Extension* identifier:Identifier* name:HumanName* "
    "telecom:ContactPoint* gender:code=administrative-gender birthDate:date address:Address* "
    "communication:Patient.communication*",
    "Patient.communication": "language:CodeableConcept! preferred:boolean",
    "RelatedPerson": "id:id extension:Extension* identifier:Identifier* "
    "patient:Reference(Patient)! relationship:CodeableConcept* name:HumanName* "
    "telecom:ContactPoint*",
    "Practitioner": "id:id extension:Extension* identifier:Identifier* active:boolean "
    "name:HumanName* telecom:ContactPoint*",
    "PractitionerRole": "id:id extension:Extension* identifier:Identifier* "
    "practitioner:Reference(Practitioner) code:CodeableConcept*",
    "Organization": "id:id extension:Extension* identifier:Identifier* active:boolean "
    "type:CodeableConcept* name:string telecom:ContactPoint* address:Address*",
    "CareTeam": "id:id extension:Extension* identifier:Identifier* "
    "status:code=care-team-status name:string subject:Reference(Patient|Group) "
    "participant:CareTeam.participant*",
    "CareTeam.participant": "role:CodeableConcept* "
    f"member:Reference({_PLAIN_REFS}|CareTeam) period:Period",
    "ClinicalImpression": "id:id extension:Extension* identifier:Identifier* "
    "status:code!=clinicalimpression-status subject:Reference(Patient|Group)! "
    "assessor:Reference(Practitioner|PractitionerRole) effective[x]:dateTime|Period "
    "problem:Reference(Condition|AllergyIntolerance)* finding:ClinicalImpression.finding*",
    "ClinicalImpression.finding": "extension:Extension* itemCodeableConcept:CodeableConcept "
    "itemReference:Reference(Condition|Observation|Media) basis:string",
    "Condition": "id:id extension:Extension* identifier:Identifier* "
    "clinicalStatus:CodeableConcept=condition-clinical "
    "verificationStatus:CodeableConcept=condition-ver-status category:CodeableConcept* "
    "code:CodeableConcept subject:Reference(Patient|Group)! "
    "onset[x]:dateTime|Age|Period|Range|string "
    "abatement[x]:dateTime|string|Period|Range recordedDate:dateTime "
    "recorder:Reference(Practitioner|PractitionerRole|Patient|RelatedPerson) "
    "asserter:Reference(Practitioner|PractitionerRole|Patient|RelatedPerson)",
    "Goal": "id:id extension:Extension* identifier:Identifier* "
    "lifecycleStatus:code!=goal-status achievementStatus:CodeableConcept "
    "category:CodeableConcept* priority:CodeableConcept description:CodeableConcept! "
    "subject:Reference(Patient|Group|Organization)! start[x]:date|CodeableConcept "
    "target:Goal.target* statusDate:date "
    "expressedBy:Reference(Patient|Practitioner|PractitionerRole|RelatedPerson) "
    "addresses:Reference(Condition|Observation|MedicationStatement|"
    "NutritionOrder|ServiceRequest|RiskAssessment)* "
    "outcomeReference:Reference(Observation)*",
    "Goal.target": "measure:CodeableConcept detail[x]:Quantity|Range|CodeableConcept|string "
    "due[x]:date",
    "CarePlan": "id:id text:Narrative extension:Extension* identifier:Identifier* "
    "status:code!=request-status intent:code!=care-plan-intent category:CodeableConcept* "
    "title:string "
    "subject:Reference(Patient|Group)! period:Period created:dateTime "
    f"author:Reference({_PLAIN_REFS}|Device|CareTeam) addresses:Reference(Condition)* "
    "goal:Reference(Goal)* activity:CarePlan.activity*",
    "CarePlan.activity": "reference:Reference(Appointment|CommunicationRequest|DeviceRequest|"
    "MedicationRequest|NutritionOrder|Task|ServiceRequest|VisionPrescription|RequestGroup) "
    "detail:Element",
    "Task": "id:id extension:Extension* identifier:Identifier* basedOn:Reference(Any)* "
    "status:code!=task-status businessStatus:CodeableConcept intent:code!=task-intent "
    "priority:code=request-priority code:CodeableConcept description:string "
    "focus:Reference(Any) for:Reference(Any) authoredOn:dateTime "
    f"requester:Reference({_PLAIN_REFS}|Device) "
    f"owner:Reference({_PLAIN_REFS}|CareTeam|HealthcareService|Device) "
    "restriction:Task.restriction output:Task.output*",
    "Task.restriction": "period:Period",
    "Task.output": "type:CodeableConcept! value[x]:string|Reference",
    "ServiceRequest": "id:id extension:Extension* identifier:Identifier* "
    "basedOn:Reference(CarePlan|ServiceRequest|MedicationRequest)* "
    "status:code!=request-status intent:code!=request-intent category:CodeableConcept* "
    "priority:code=request-priority code:CodeableConcept "
    "subject:Reference(Patient|Group|Location|Device)! authoredOn:dateTime "
    f"requester:Reference({_PLAIN_REFS}|Device) performerType:CodeableConcept "
    f"performer:Reference({_PLAIN_REFS}|CareTeam|HealthcareService|Device)* "
    "reasonCode:CodeableConcept* "
    "reasonReference:Reference(Condition|Observation|DiagnosticReport|DocumentReference)*",
    "Appointment": "id:id extension:Extension* identifier:Identifier* "
    "status:code!=appointmentstatus cancelationReason:CodeableConcept start:instant "
    "end:instant basedOn:Reference(ServiceRequest)* participant:Appointment.participant*!",
    "Appointment.participant": "type:CodeableConcept* actor:Reference(Patient|Practitioner|"
    "PractitionerRole|RelatedPerson|Device|HealthcareService|Location) "
    "status:code!=participationstatus",
    "Communication": "id:id extension:Extension* identifier:Identifier* "
    "status:code!=event-status category:CodeableConcept* medium:CodeableConcept* "
    "subject:Reference(Patient|Group) sent:dateTime "
    f"recipient:Reference({_PLAIN_REFS}|Device|Group|CareTeam|HealthcareService)* "
    f"sender:Reference({_PLAIN_REFS}|Device|HealthcareService) "
    "payload:Communication.payload*",
    "Communication.payload": "content[x]:string",
    "Consent": "id:id extension:Extension* identifier:Identifier* "
    "status:code!=consent-state-codes scope:CodeableConcept! category:CodeableConcept*! "
    f"patient:Reference(Patient) dateTime:dateTime performer:Reference({_PLAIN_REFS})* "
    "organization:Reference(Organization)* "
    "policy:Consent.policy* policyRule:CodeableConcept provision:Consent.provision",
    "Consent.policy": "authority:uri uri:uri",
    "Consent.provision": "type:code=consent-provision-type period:Period "
    "actor:Consent.provision.actor* code:CodeableConcept* provision:Consent.provision*",
    "Consent.provision.actor": "role:CodeableConcept! "
    f"reference:Reference({_PLAIN_REFS}|Device|Group|CareTeam)!",
    "EpisodeOfCare": "id:id extension:Extension* identifier:Identifier* "
    "status:code!=episode-of-care-status statusHistory:EpisodeOfCare.statusHistory* "
    "type:CodeableConcept* patient:Reference(Patient)! "
    "managingOrganization:Reference(Organization) period:Period "
    "careManager:Reference(Practitioner|PractitionerRole) team:Reference(CareTeam)*",
    "EpisodeOfCare.statusHistory": "status:code!=episode-of-care-status period:Period!",
    "Basic": "id:id extension:Extension* identifier:Identifier* code:CodeableConcept! "
    f"subject:Reference(Any) created:date author:Reference({_PLAIN_REFS})",
    "AuditEvent": "id:id extension:Extension* type:Coding! "
    "action:code=audit-event-action recorded:instant! outcome:code=audit-event-outcome "
    "outcomeDesc:string purposeOfEvent:CodeableConcept* agent:AuditEvent.agent*! "
    "source:AuditEvent.source! entity:AuditEvent.entity*",
    "AuditEvent.agent": f"type:CodeableConcept who:Reference({_PLAIN_REFS}|Device) "
    "requestor:boolean!",
    "AuditEvent.source": f"observer:Reference({_PLAIN_REFS}|Device)!",
    "AuditEvent.entity": "what:Reference(Any) type:Coding role:Coding name:string "
    "query:base64Binary",
    "Observation": "id:id extension:Extension* identifier:Identifier* "
    "status:code!=observation-status category:CodeableConcept* code:CodeableConcept! "
    "subject:Reference(Patient|Group|Device|Location) effective[x]:dateTime|Period|instant "
    f"performer:Reference({_PLAIN_REFS}|CareTeam)* "
    "value[x]:Quantity|CodeableConcept|string|boolean dataAbsentReason:CodeableConcept",
}

_VS: dict[str, tuple[str, str]] = {
    "bundle-type": (
        "http://hl7.org/fhir/bundle-type",
        "document message transaction transaction-response batch batch-response history "
        "searchset collection",
    ),
    "quantity-comparator": ("http://hl7.org/fhir/quantity-comparator", "< <= >= >"),
    "name-use": (
        "http://hl7.org/fhir/name-use",
        "usual official temp nickname anonymous old maiden",
    ),
    "address-use": ("http://hl7.org/fhir/address-use", "home work temp old billing"),
    "address-type": ("http://hl7.org/fhir/address-type", "postal physical both"),
    "administrative-gender": (
        "http://hl7.org/fhir/administrative-gender",
        "male female other unknown",
    ),
    "contact-point-system": (
        "http://hl7.org/fhir/contact-point-system",
        "phone fax email pager url sms other",
    ),
    "care-team-status": (
        "http://hl7.org/fhir/care-team-status",
        "proposed active suspended inactive entered-in-error",
    ),
    "clinicalimpression-status": (
        "http://hl7.org/fhir/clinicalimpression-status",
        "in-progress completed entered-in-error",
    ),
    "condition-clinical": (
        "http://terminology.hl7.org/CodeSystem/condition-clinical",
        "active recurrence relapse inactive remission resolved",
    ),
    "condition-ver-status": (
        "http://terminology.hl7.org/CodeSystem/condition-ver-status",
        "unconfirmed provisional differential confirmed refuted entered-in-error",
    ),
    "goal-status": (
        "http://hl7.org/fhir/goal-status",
        "proposed planned accepted active on-hold completed cancelled entered-in-error rejected",
    ),
    "request-status": (
        "http://hl7.org/fhir/request-status",
        "draft active on-hold revoked completed entered-in-error unknown",
    ),
    "care-plan-intent": ("http://hl7.org/fhir/request-intent", "proposal plan order option"),
    "task-status": (
        "http://hl7.org/fhir/task-status",
        "draft requested received accepted rejected ready cancelled in-progress on-hold "
        "failed completed entered-in-error",
    ),
    "task-intent": (
        "http://hl7.org/fhir/request-intent",
        "unknown proposal plan order original-order reflex-order filler-order instance-order "
        "option",
    ),
    "request-intent": (
        "http://hl7.org/fhir/request-intent",
        "proposal plan directive order original-order reflex-order filler-order "
        "instance-order option",
    ),
    "request-priority": ("http://hl7.org/fhir/request-priority", "routine urgent asap stat"),
    "appointmentstatus": (
        "http://hl7.org/fhir/appointmentstatus",
        "proposed pending booked arrived fulfilled cancelled noshow entered-in-error "
        "checked-in waitlist",
    ),
    "participationstatus": (
        "http://hl7.org/fhir/participationstatus",
        "accepted declined tentative needs-action",
    ),
    "event-status": (
        "http://hl7.org/fhir/event-status",
        "preparation in-progress not-done on-hold stopped completed entered-in-error unknown",
    ),
    "consent-state-codes": (
        "http://hl7.org/fhir/consent-state-codes",
        "draft proposed active rejected inactive entered-in-error",
    ),
    "consent-provision-type": ("http://hl7.org/fhir/consent-provision-type", "deny permit"),
    "episode-of-care-status": (
        "http://hl7.org/fhir/episode-of-care-status",
        "planned waitlist active onhold finished cancelled entered-in-error",
    ),
    "audit-event-action": ("http://hl7.org/fhir/audit-event-action", "C R U D E"),
    "observation-status": (
        "http://hl7.org/fhir/observation-status",
        "registered preliminary final amended corrected cancelled entered-in-error unknown",
    ),
    "narrative-status": (
        "http://hl7.org/fhir/narrative-status",
        "generated extensions additional empty",
    ),
    "audit-event-outcome": ("http://hl7.org/fhir/audit-event-outcome", "0 4 8 12"),
}
REQUIRED_VALUE_SETS: dict[str, tuple[str, frozenset[str]]] = {
    name: (system, frozenset(codes.split())) for name, (system, codes) in _VS.items()
}
"""R4 value sets with a required binding on an element carecoord writes: (system, codes)."""

EXTENSION_VALUES: dict[str, str] = {
    "valueString": "string",
    "valueBoolean": "boolean",
    "valueDateTime": "dateTime",
    "valueDecimal": "decimal",
    "valuePositiveInt": "positiveInt",
    "valueTime": "time",
    "valueCode": "code",
    "valueUri": "uri",
    "valueCoding": "Coding",
    "valueCodeableConcept": "CodeableConcept",
    "valueReference": "Reference",
    "valueIdentifier": "Identifier",
    "valuePeriod": "Period",
    "valueDate": "date",
    "valueQuantity": "Quantity",
    "valueRange": "Range",
}
"""The ``value[x]`` types carecoord's extensions may use (all allowed on an R4 Extension)."""

_SPEC = re.compile(
    r"(?P<type>[A-Za-z0-9.]+(\|[A-Za-z0-9.]+)*)(\((?P<targets>[A-Za-z|]+)\))?"
    r"(?P<f1>[*!]*)(=(?P<vs>[a-z-]+))?(?P<f2>[*!]*)"
)


def _parse() -> tuple[dict[str, dict[str, Element]], dict[str, dict[str, tuple[str, ...]]]]:
    schema: dict[str, dict[str, Element]] = {}
    choices: dict[str, dict[str, tuple[str, ...]]] = {}
    for owner, text in _RAW.items():
        fields: dict[str, Element] = {}
        for item in text.split():
            name, _, spec = item.partition(":")
            match = _SPEC.fullmatch(spec)
            assert match is not None, item
            flags = match["f1"] + match["f2"]
            targets = tuple(match["targets"].split("|")) if match["targets"] else ()
            if name.endswith("[x]"):
                base = name.removesuffix("[x]")
                names = []
                for kind in match["type"].split("|"):
                    fields[base + kind[0].upper() + kind[1:]] = Element(kind)
                    names.append(base + kind[0].upper() + kind[1:])
                choices.setdefault(owner, {})[base] = tuple(names)
                continue
            fields[name] = Element(match["type"], "*" in flags, "!" in flags, match["vs"], targets)
        schema[owner] = fields
    return schema, choices


SCHEMA, CHOICES = _parse()
"""Per type (datatype, resource or ``Resource.backbone``): element name -> :class:`Element`."""
