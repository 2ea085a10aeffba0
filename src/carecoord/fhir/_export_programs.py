"""FHIR R4 export of care programs: a program as a ``PlanDefinition``, an enrolment as an
``EpisodeOfCare``.

Export only, and not part of :func:`~carecoord.fhir.export_bundle` (a program is
definition data; enrolments are read per program or per patient).

:func:`program_definition` writes a :class:`~carecoord.model.programs.CareProgram` as a
PlanDefinition (type ``clinical-protocol``): its ``identifier`` carries the program id
(no canonical ``url``: carecoord publishes no program definitions), ``title`` and
``description`` its texts, ``status`` ``active`` / ``retired``, ``usage`` its
eligibility (the criteria's PHI-free descriptions), ``topic`` the program as a coding
of the ``care-program`` code system.

:func:`episode_of_care` writes one :class:`~carecoord.model.programs.ProgramEnrolment`
period: ``status`` ``active`` while enrolled, ``finished`` once disenrolled (with a
``statusHistory`` entry of the active period), ``type`` the program as a coding of the
``care-program`` code system (``cs("care-program")``: its codes are the host's program
ids), ``patient``, ``period`` (enrolled .. disenrolled), ``careManager`` the program owner
(references by carecoord identifier) and the consent the enrolment relies on in the
``enrolment-consent`` extension (R4's EpisodeOfCare has no consent element).
There is no ``managingOrganization`` (a program names no organisation) and no ``team``
(a program's team is staff, not a patient's CareTeam). The enrolment and
disenrolment reason codes are the host's and are not written.
"""

from __future__ import annotations

from typing import Any, Final

from ..model import ValidationError
from ..model.programs import CareProgram, Eligibility, ProgramEnrolment
from ._common import cs, ext_url, id_system, stable_uuid
from ._export_common import FHIR_ID, put_dt

__all__ = ["PROGRAM_SYSTEM", "episode_of_care", "program_definition"]

PROGRAM_SYSTEM: Final = cs("care-program")
"""The code system whose codes are the host's care program ids (``EpisodeOfCare.type``)."""
_PLAN_TYPE: Final = "http://terminology.hl7.org/CodeSystem/plan-definition-type"


def _fhir_id(kind: str, cid: str) -> str:
    """``cid`` when it is a FHIR id, else a stable UUID of it."""
    return cid if FHIR_ID.fullmatch(cid) else stable_uuid(kind, cid)


def _by_id(rtype: str, kind: str, cid: str) -> dict[str, Any]:
    """A Reference by carecoord identifier (the resource is not in this export)."""
    return {"type": rtype, "identifier": {"system": id_system(kind), "value": cid}}


def _program_concept(program: CareProgram) -> dict[str, Any]:
    coding = {"system": PROGRAM_SYSTEM, "code": str(program.id), "display": program.name}
    return {"coding": [coding]}


def _usage(eligibility: Eligibility) -> str:
    parts = []
    for label, criteria in (
        ("all of", eligibility.all_of),
        ("any of", eligibility.any_of),
        ("none of", eligibility.none_of),
    ):
        if criteria:
            parts.append(f"{label}: " + ", ".join(c.describe() for c in criteria))
    return "Eligible: " + "; ".join(parts)


def program_definition(program: CareProgram) -> dict[str, Any]:
    """A care program as a FHIR R4 PlanDefinition (a JSON-ready dict, stable)."""
    resource: dict[str, Any] = {
        "resourceType": "PlanDefinition",
        "id": _fhir_id("care-program", str(program.id)),
        "identifier": [{"system": id_system("care-program"), "value": str(program.id)}],
        "title": program.name,
        "type": {"coding": [{"system": _PLAN_TYPE, "code": "clinical-protocol"}]},
        "status": "active" if program.is_active else "retired",
    }
    if program.description is not None:
        resource["description"] = program.description
    resource["usage"] = _usage(program.eligibility)
    resource["topic"] = [_program_concept(program)]
    return resource


def episode_of_care(enrolment: ProgramEnrolment, program: CareProgram) -> dict[str, Any]:
    """One enrolment period in ``program`` as a FHIR R4 EpisodeOfCare (a JSON-ready dict,
    stable). ValidationError when the enrolment is not in ``program``."""
    if enrolment.program_id != program.id:
        raise ValidationError("the enrolment is not in this program", field="program")
    resource: dict[str, Any] = {
        "resourceType": "EpisodeOfCare",
        "id": _fhir_id("program-enrolment", str(enrolment.id)),
    }
    if enrolment.consent_id is not None:
        consent = _by_id("Consent", "consent", str(enrolment.consent_id))
        resource["extension"] = [{"url": ext_url("enrolment-consent"), "valueReference": consent}]
    resource["identifier"] = [
        {"system": id_system("program-enrolment"), "value": str(enrolment.id)}
    ]
    period: dict[str, Any] = {}
    put_dt(period, "start", enrolment.enrolled_at)
    if enrolment.disenrolled_at is not None:
        put_dt(period, "end", enrolment.disenrolled_at)
    if enrolment.is_open:
        resource["status"] = "active"
    else:
        resource["status"] = "finished"
        resource["statusHistory"] = [{"status": "active", "period": dict(period)}]
    resource["type"] = [_program_concept(program)]
    resource["patient"] = _by_id("Patient", "patient", str(enrolment.patient_id))
    resource["period"] = period
    resource["careManager"] = _by_id("Practitioner", "staff", str(program.owner_id))
    return resource
