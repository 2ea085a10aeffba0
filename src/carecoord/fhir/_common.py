"""URLs, code-system names and small helpers shared by the FHIR export and import.

Every URL built here is published under :data:`CANONICAL_BASE` as a FHIR
conformance resource (``carecoord/fhir/conformance/``): a new
``ext_url(name)`` needs its entry in ``_conformance_registry.EXTENSIONS``, a new
``id_system(kind)`` one in :data:`ID_SYSTEMS`, a new ``cs(name)``
one in ``valuesets.CODE_SYSTEMS`` with its texts in ``_conformance_codes``; then
``python -m carecoord.fhir._conformance_build`` regenerates the files
(``tests/test_fhir_conformance.py`` fails until both are done).
"""

from __future__ import annotations

import uuid
from typing import Final

__all__ = [
    "CANONICAL_BASE",
    "CODE_SYSTEM_BASE",
    "EXTENSION_BASE",
    "ID_SYSTEMS",
    "ID_SYSTEM_BASE",
    "cs",
    "ext_url",
    "id_system",
]

CANONICAL_BASE: Final = "https://carecoord.dev/fhir/"
"""Base of every canonical URL carecoord publishes (extensions, code systems, id systems)."""

EXTENSION_BASE: Final = CANONICAL_BASE + "StructureDefinition/"
"""Base URL of every carecoord FHIR extension (``EXTENSION_BASE + "status-history"``)."""

CODE_SYSTEM_BASE: Final = CANONICAL_BASE + "CodeSystem/"
"""Base URL of carecoord's own code systems (codes FHIR has no value set for)."""

ID_SYSTEM_BASE: Final = CANONICAL_BASE + "id/"
"""Base URL of the identifier systems that carry carecoord ids (``.../id/patient``)."""

_NAMESPACE = uuid.UUID("6f1d2c1e-3a4b-5c6d-8e9f-0a1b2c3d4e5f")


def ext_url(name: str) -> str:
    """The full URL of the carecoord extension ``name``."""
    return EXTENSION_BASE + name


def cs(name: str) -> str:
    """The full URL of the carecoord code system ``name``."""
    return CODE_SYSTEM_BASE + name


def id_system(kind: str) -> str:
    """The identifier system carrying carecoord ids of ``kind`` (``"patient"``, ...)."""
    return ID_SYSTEM_BASE + kind


def stable_uuid(*parts: str) -> str:
    """A deterministic UUID (version 5) for ``parts``."""
    return str(uuid.uuid5(_NAMESPACE, "|".join(parts)))


ID_SYSTEMS: Final[dict[str, str]] = {
    "patient": "carecoord patient ids (Patient)",
    "contact": "carecoord ids of a patient's contacts (RelatedPerson)",
    "staff": "carecoord staff member ids (Practitioner, PractitionerRole)",
    "care-team": "carecoord care team ids (CareTeam)",
    "assessment": "carecoord assessment ids (ClinicalImpression)",
    "need": "carecoord need ids (Condition)",
    "care-plan": "carecoord care plan ids (CarePlan)",
    "goal": "carecoord goal ids (Goal)",
    "intervention": "carecoord intervention ids (Task)",
    "referral": "carecoord referral ids (ServiceRequest and its Task)",
    "appointment": "carecoord appointment ids (Appointment)",
    "barrier": "carecoord barrier ids (Condition)",
    "health-concern": "carecoord health concern ids (Condition)",
    "review": "carecoord care plan review ids (Basic)",
    "note": "carecoord note ids (Communication)",
    "decision": "carecoord patient decision ids (Consent)",
    "consent": "carecoord consent ids (Consent)",
    "audit-entry": "carecoord audit entry ids (AuditEvent, in the audit-id extension)",
    "actor": "carecoord ids of whoever acted, as audit actors (AuditEvent.agent.who)",
    "coverage": "carecoord coverage ids (Coverage)",
    "form": "carecoord paperwork form ids (DocumentReference)",
    "screening": "carecoord screening ids (the grouping Observation of a screening)",
    "education-session": "carecoord education session ids (Procedure)",
    "education-material": "carecoord education material ids (the education-material extension)",
    "directory-organization": "carecoord directory organisation ids (Organization)",
    "directory-location": "carecoord directory location ids (Location)",
    "directory-service": "carecoord directory service ids (HealthcareService)",
    "plan-template": "carecoord plan template ids (PlanDefinition, one per version)",
    "care-program": "carecoord care program ids (PlanDefinition)",
    "program-enrolment": "carecoord program enrolment ids (EpisodeOfCare)",
}
"""Every identifier system carecoord writes (``id_system(kind)``): kind -> what it identifies."""
