"""FHIR R4 export of administration records: insurance coverage (Coverage) and the
documents of paperwork forms (DocumentReference).

Not part of :func:`~carecoord.fhir.export_bundle`: :func:`coverage_resource` and
:func:`document_reference` write one resource each, for a host that sends a
patient's insurance or a completed form to another system (and
:func:`~carecoord.fhir._import_admin.coverage_from_resource` reads a Coverage back).
The patient is referred to as ``Patient/<id>`` (the id the patient has in
:func:`~carecoord.fhir.export_bundle`) with its carecoord identifier; staff members
by their carecoord identifier. Resource ids are the carecoord ids when FHIR allows
them, else a stable UUID; the carecoord id is always the first identifier.

A Coverage carries the member id as an identifier of type ``MB`` (HL7 v2 table
0203, as US Core does), the subscriber's id (when recorded) as ``subscriberId``,
the relationship coded in HL7's subscriber-relationship, the payer as a
display-only ``payor`` reference, the plan as a ``class`` of type ``plan``, and
who recorded it when in the ``recorded-by`` and ``recorded-at`` extensions.
"""

from __future__ import annotations

import re
from typing import Any, Final
from urllib.parse import quote

from ..model import PatientId, StaffId
from ..model.administration import Coverage, SubscriberRelationship
from ..model.paperwork import FormStatus, FormType, PatientForm
from ._common import ext_url, id_system, stable_uuid
from ._export_common import FHIR_ID, concept, ext_dt, period, put_dt

__all__ = [
    "COVERAGE_CLASS",
    "DOC_STATUS",
    "FORM_TYPE_CODES",
    "FORM_TYPE_TEXT",
    "IDENTIFIER_TYPE",
    "LOINC",
    "MEMBER_NUMBER",
    "SUBSCRIBER_RELATIONSHIP",
    "coverage_resource",
    "document_reference",
    "patient_reference",
    "resource_id",
    "staff_reference",
]

SUBSCRIBER_RELATIONSHIP: Final = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
"""HL7's subscriber-relationship code system (Coverage.relationship)."""
COVERAGE_CLASS: Final = "http://terminology.hl7.org/CodeSystem/coverage-class"
"""HL7's coverage-class code system (Coverage.class.type: ``plan``, ``group``, ...)."""
IDENTIFIER_TYPE: Final = "http://terminology.hl7.org/CodeSystem/v2-0203"
"""HL7 v2 table 0203, identifier types."""
MEMBER_NUMBER: Final = "MB"
"""The identifier type of the member id (v2-0203 ``MB``, Member Number)."""
LOINC: Final = "http://loinc.org"

FORM_TYPE_TEXT: Final[dict[FormType, str]] = {
    FormType.INSURANCE_APPLICATION: "Insurance application",
    FormType.PRIOR_AUTHORIZATION: "Prior authorization request",
    FormType.FINANCIAL_ASSISTANCE: "Financial assistance application",
    FormType.DISABILITY: "Disability form",
    FormType.FAMILY_LEAVE: "Family leave form",
    FormType.ADVANCE_DIRECTIVE: "Advance directive",
    FormType.RELEASE_OF_INFORMATION: "Release of information",
    FormType.TRANSPORT_APPLICATION: "Transport application",
    FormType.HOUSING_APPLICATION: "Housing application",
    FormType.OTHER: "Other form",
}
"""DocumentReference.type text of each form type."""

FORM_TYPE_CODES: Final[dict[FormType, tuple[str, str, str]]] = {
    FormType.ADVANCE_DIRECTIVE: (LOINC, "42348-3", "Advance directives"),
}
"""The form types with a standard document code: (system, code, display). The others
are written as text only."""

DOC_STATUS: Final[dict[FormStatus, str]] = {
    FormStatus.NEEDED: "preliminary",
    FormStatus.IN_PROGRESS: "preliminary",
    FormStatus.SUBMITTED: "final",
    FormStatus.ACCEPTED: "final",
    FormStatus.ENTERED_IN_ERROR: "entered-in-error",
}
"""DocumentReference.docStatus (composition-status) of a form's document by the form's
status: a draft while the form is worked on, final once submitted. A rejected or
cancelled form's document has no honest composition status and gets none."""

_WHITESPACE = re.compile(r"\s")


def resource_id(rtype: str, kind: str, cid: str) -> str:
    """The FHIR id of the resource for carecoord id ``cid`` of ``kind``: the id itself when
    FHIR allows it, else the stable UUID :func:`~carecoord.fhir.export_bundle` uses."""
    return cid if FHIR_ID.fullmatch(cid) else stable_uuid(rtype, kind, "", cid)


def patient_reference(patient_id: PatientId) -> dict[str, Any]:
    """``Patient/<id>`` with the patient's carecoord identifier."""
    cid = str(patient_id)
    return {
        "reference": "Patient/" + resource_id("Patient", "patient", cid),
        "type": "Patient",
        "identifier": {"system": id_system("patient"), "value": cid},
    }


def staff_reference(staff_id: StaffId) -> dict[str, Any]:
    """A Practitioner named by the staff member's carecoord identifier."""
    return {
        "type": "Practitioner",
        "identifier": {"system": id_system("staff"), "value": str(staff_id)},
    }


def coverage_resource(coverage: Coverage) -> dict[str, Any]:
    """The R4 Coverage of ``coverage`` (a JSON-ready dict).

    The patient is the beneficiary, and the subscriber too when the relationship
    is ``self``; ``subscriberId`` is written when the subscriber's id is recorded.
    The model has no coverage type, so ``type`` is left out.
    """
    cid = str(coverage.id)
    resource: dict[str, Any] = {
        "resourceType": "Coverage",
        "id": resource_id("Coverage", "coverage", cid),
        "extension": [
            ext_dt(ext_url("recorded-at"), coverage.recorded_at),
            {
                "url": ext_url("recorded-by"),
                "valueReference": staff_reference(coverage.recorded_by),
            },
        ],
        "identifier": [
            {"system": id_system("coverage"), "value": cid},
            {"type": concept(IDENTIFIER_TYPE, MEMBER_NUMBER), "value": coverage.member_id},
        ],
        "status": coverage.status.value,
    }
    if coverage.relationship is SubscriberRelationship.SELF:
        resource["subscriber"] = patient_reference(coverage.patient_id)
    if coverage.subscriber_id is not None:
        resource["subscriberId"] = coverage.subscriber_id
    resource["beneficiary"] = patient_reference(coverage.patient_id)
    resource["relationship"] = concept(SUBSCRIBER_RELATIONSHIP, coverage.relationship.value)
    resource["period"] = period(coverage.period)
    resource["payor"] = [{"display": coverage.payer}]
    if coverage.plan_name is not None:
        resource["class"] = [
            {
                "type": concept(COVERAGE_CLASS, "plan"),
                "value": coverage.plan_name,
                "name": coverage.plan_name,
            }
        ]
    resource["order"] = coverage.order
    return resource


def _form_type(form_type: FormType) -> dict[str, Any]:
    text = FORM_TYPE_TEXT[form_type]
    known = FORM_TYPE_CODES.get(form_type)
    if known is None:
        return {"text": text}
    system, code, display = known
    return {"coding": [{"system": system, "code": code, "display": display}], "text": text}


def document_reference(form: PatientForm) -> dict[str, Any] | None:
    """The R4 DocumentReference of the document attached to ``form``; ``None`` without one.

    ``status`` is ``current`` (``entered-in-error`` for a form entered in error),
    ``docStatus`` follows :data:`DOC_STATUS`, ``type`` is the form type (LOINC where
    there is a standard code, text otherwise), ``date`` and ``author`` say when and
    by whom the document was attached, ``description`` is the form's purpose. The
    attachment's ``url`` is the host's reference with any whitespace percent-encoded
    (a FHIR url has none) and its ``contentType`` the MIME type with whitespace
    collapsed.
    """
    document = form.document
    if document is None:
        return None
    cid = str(form.id)
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": resource_id("DocumentReference", "form", cid),
        "identifier": [{"system": id_system("form"), "value": cid}],
        "status": "entered-in-error" if form.status is FormStatus.ENTERED_IN_ERROR else "current",
    }
    doc_status = DOC_STATUS.get(form.status)
    if doc_status is not None:
        resource["docStatus"] = doc_status
    resource["type"] = _form_type(form.form_type)
    resource["subject"] = patient_reference(form.patient_id)
    put_dt(resource, "date", document.attached_at)
    resource["author"] = [staff_reference(document.attached_by)]
    resource["description"] = form.purpose
    attachment: dict[str, Any] = {
        "contentType": " ".join(document.content_type.split()),
        "url": _WHITESPACE.sub(lambda m: quote(m.group(0)), document.reference),
    }
    if document.title is not None:
        attachment["title"] = document.title
    resource["content"] = [{"attachment": attachment}]
    return resource
