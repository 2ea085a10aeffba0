"""FHIR R4 export of social needs screening answers, the social context and education given,
shaped as the HL7 SDOH Clinical Care (Gravity Project) IG shapes them.

Not part of :func:`~carecoord.fhir.export_bundle`: a host that sends a screening, a
patient's social context or a record of education to another system calls
:func:`screening_bundle`, :func:`social_context_observations` or
:func:`education_procedure`. The patient is ``Patient/<id>`` (the id the patient has in
:func:`~carecoord.fhir.export_bundle`) with its carecoord identifier; staff members,
contacts, care plans and goals are referred to by their carecoord identifiers. Resource
ids are the carecoord id when FHIR allows it and one record maps to one resource, else a
stable UUID; a Bundle's entries have ``urn:uuid:`` full URLs.

Only codes, ids and datetimes travel: a session's free-text ``note`` and the material's
title, topic and link are never written.

* A screening is a ``collection`` Bundle: a grouping Observation (``hasMember``) and one
  Observation per answer, each ``final``, categorised ``social-history`` and ``survey``
  plus the Gravity SDOH category of the screening rule asking that question, coded with
  the LOINC question and valued with the LOINC answer (``LA...``).
* The social context is an Observation per known element: housing status (LOINC
  71802-3), transportation (93030-5) and, given the patient's language, preferred
  language (54899-0, a ``urn:ietf:bcp:47`` code). An unknown element writes nothing.
  Living alone and caregiver availability have no LOINC code the model documents and
  are not written.
* Education given is a ``completed`` Procedure coded SNOMED CT 409073007 (Education),
  its teach-back result as ``outcome``, the material by carecoord id in the
  ``education-material`` extension (an identifier: materials are the host's, not codes),
  the care plan as ``basedOn`` and the goals it serves in the core
  ``resource-pertainsToGoal`` extension (R4 ``Procedure.reasonReference`` cannot name a
  Goal).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from ..model._errors import ValidationError
from ..model.education import EducationSession, TeachBackResult
from ..model.social import (
    LOINC,
    LivingSituation,
    ScreeningResponse,
    SocialContext,
    TransportAccess,
)
from ..screening import SCREENING_RULES, ScreeningRule
from ._common import cs, ext_url, id_system, stable_uuid
from ._derived import SDOH_SYSTEM
from ._export_admin import patient_reference, resource_id, staff_reference
from ._export_common import concept, put_dt

__all__ = [
    "BCP47",
    "EDUCATION_CODE",
    "HOUSING_ANSWERS",
    "HOUSING_STATUS",
    "OBSERVATION_CATEGORY",
    "PERTAINS_TO_GOAL",
    "PREFERRED_LANGUAGE",
    "SCREENING_CODE",
    "SNOMED",
    "SOCIAL_CODE_SYSTEMS",
    "TEACH_BACK_TEXT",
    "TRANSPORTATION",
    "education_procedure",
    "screening_bundle",
    "social_context_observations",
]

OBSERVATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
"""HL7's observation-category code system (``social-history``, ``survey``)."""
SNOMED: Final = "http://snomed.info/sct"
BCP47: Final = "urn:ietf:bcp:47"
PERTAINS_TO_GOAL: Final = "http://hl7.org/fhir/StructureDefinition/resource-pertainsToGoal"
"""The FHIR core extension naming a Goal a resource relates to."""

HOUSING_STATUS: Final = "71802-3"
"""LOINC Housing status (PRAPARE)."""
TRANSPORTATION: Final = "93030-5"
"""LOINC Has lack of transportation kept you from medical appointments, meetings, work
or from getting things needed for daily living (PRAPARE)."""
PREFERRED_LANGUAGE: Final = "54899-0"
"""LOINC Preferred language."""
EDUCATION_CODE: Final = (SNOMED, "409073007", "Education")
"""The Procedure code of education given: (system, code, display)."""
SCREENING_CODE: Final = (cs("record-category"), "social-screening", "Social needs screening")
"""The code of a screening's grouping Observation: (system, code, display)."""

HOUSING_ANSWERS: Final[dict[LivingSituation, str]] = {
    LivingSituation.STABLE_HOUSING: "LA30189-7",  # I have housing
    LivingSituation.ASSISTED_LIVING: "LA30189-7",
    LivingSituation.CARE_HOME: "LA30189-7",
    LivingSituation.HOMELESS: "LA30190-5",  # I do not have housing
}
"""The LOINC answer to 71802-3 a living situation implies. Unstable
housing implies neither answer (PRAPARE counts staying with others as no housing) and is
written in carecoord's code only; every living situation carries its carecoord code too."""

TEACH_BACK_TEXT: Final[dict[TeachBackResult, str]] = {
    TeachBackResult.UNDERSTOOD: "Understood",
    TeachBackResult.PARTLY: "Partly understood",
    TeachBackResult.NOT_UNDERSTOOD: "Not understood",
}
"""The display of each teach-back result (``Procedure.outcome``)."""

SOCIAL_CODE_SYSTEMS: Final[dict[str, type[StrEnum]]] = {
    "living-situation": LivingSituation,
    "transport-access": TransportAccess,
    "teach-back": TeachBackResult,
}
"""The carecoord code systems (``cs(name)``) this module writes, each the values of an enum."""

_FHIR_CODE = re.compile(r"[^\s]+( [^\s]+)*")


def _category(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _code(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"system": system, "code": code}
    if display is not None:
        found["display"] = display
    return {"coding": [found]}


def _observation(
    rid: str,
    categories: list[dict[str, Any]],
    code: dict[str, Any],
    patient: dict[str, Any],
    at: datetime,
    performer: dict[str, Any],
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "category": categories,
        "code": code,
        "subject": patient,
    }
    put_dt(resource, "effectiveDateTime", at)
    resource["performer"] = [performer]
    return resource


# ------------------------------------------------------------------- screening


def _checked_code(value: str, field: str) -> str:
    if not _FHIR_CODE.fullmatch(value):
        raise ValidationError(
            "a screening code is not a FHIR code (no outer or double spaces)", field=field
        )
    return value


def screening_bundle(
    response: ScreeningResponse, *, rules: Sequence[ScreeningRule] = SCREENING_RULES
) -> dict[str, Any]:
    """The screening as a ``collection`` Bundle of Observations (a JSON-ready dict).

    The first entry groups the screening: its carecoord identifier, the categories of
    its answers, the ``social-screening`` code and ``hasMember`` naming each answer's
    Observation. Each answer's Observation follows the SDOHCC screening response shape:
    ``final``; categories ``social-history``, ``survey`` and the Gravity SDOH category
    of the first of ``rules`` asking the question (when one does); the LOINC question
    as ``code`` and the LOINC answer as ``valueCodeableConcept``; the patient; when; the
    staff member who recorded it as performer. Ids are stable for the screening and
    question. A question or answer that is not a FHIR code raises
    :class:`~carecoord.ValidationError` naming the answer's position only.
    """
    sid = str(response.id)
    patient = patient_reference(response.patient_id)
    staff = staff_reference(response.recorded_by)
    social = _category(OBSERVATION_CATEGORY, "social-history")
    survey = _category(OBSERVATION_CATEGORY, "survey")
    members: list[dict[str, Any]] = []
    sdoh: list[str] = []
    for i, answer in enumerate(response.answers):
        question = _checked_code(answer.question, f"answers[{i}].question")
        value = _checked_code(answer.answer, f"answers[{i}].answer")
        categories = [social, survey]
        at = next((n for n, r in enumerate(rules) if r.question == question), None)
        if at is not None:
            category = _checked_code(rules[at].category, f"rules[{at}].category")
            categories.append(_category(SDOH_SYSTEM, category))
            if category not in sdoh:
                sdoh.append(category)
        uid = stable_uuid("Observation", "screening", sid, question)
        made = _observation(uid, categories, _code(LOINC, question), patient, response.at, staff)
        made["valueCodeableConcept"] = _code(LOINC, value)
        members.append({"fullUrl": "urn:uuid:" + uid, "resource": made})
    group = _observation(
        resource_id("Observation", "screening", sid),
        [social, survey, *(_category(SDOH_SYSTEM, code) for code in sdoh)],
        _code(*SCREENING_CODE),
        patient,
        response.at,
        staff,
    )
    group["identifier"] = [{"system": id_system("screening"), "value": sid}]
    if members:
        group["hasMember"] = [{"reference": m["fullUrl"], "type": "Observation"} for m in members]
    entry = {
        "fullUrl": "urn:uuid:" + stable_uuid("Observation", "screening", sid),
        "resource": group,
    }
    return {"resourceType": "Bundle", "type": "collection", "entry": [entry, *members]}


# -------------------------------------------------------------- social context


def social_context_observations(
    context: SocialContext, *, language: str | None = None
) -> list[dict[str, Any]]:
    """The social context as ``final`` ``social-history`` Observations, one per known element.

    Housing status (LOINC 71802-3) from the living situation, valued with its
    carecoord code and the LOINC answer of :data:`HOUSING_ANSWERS` when there is one;
    transportation (93030-5) from the transport access, in carecoord's code (no LOINC
    answer says how the patient travels); preferred language (54899-0) from ``language``
    (the patient's BCP-47 tag, :attr:`~carecoord.Patient.language`: the social context
    has none). An element that is ``None`` writes nothing. Each is dated when the
    context was recorded, performed by who recorded it, with a stable id.
    """
    pid = str(context.patient_id)
    patient = patient_reference(context.patient_id)
    staff = staff_reference(context.recorded_by)
    values: list[tuple[str, dict[str, Any]]] = []
    if context.living_situation is not None:
        housing: dict[str, Any] = concept(cs("living-situation"), context.living_situation.value)
        answer = HOUSING_ANSWERS.get(context.living_situation)
        if answer is not None:
            housing["coding"].insert(0, {"system": LOINC, "code": answer})
        values.append((HOUSING_STATUS, housing))
    if context.transport is not None:
        transport = concept(cs("transport-access"), context.transport.value)
        values.append((TRANSPORTATION, transport))
    if language is not None:
        if not _FHIR_CODE.fullmatch(language):
            raise ValidationError("the preferred language is not a BCP-47 tag", field="language")
        values.append((PREFERRED_LANGUAGE, concept(BCP47, language)))
    found = []
    for code, value in values:
        made = _observation(
            stable_uuid("Observation", "social-context", pid, code),
            [_category(OBSERVATION_CATEGORY, "social-history")],
            _code(LOINC, code),
            patient,
            context.recorded_at,
            staff,
        )
        made["valueCodeableConcept"] = value
        found.append(made)
    return found


# ------------------------------------------------------------------ education


def _logical(rtype: str, kind: str, cid: str) -> dict[str, Any]:
    return {"type": rtype, "identifier": {"system": id_system(kind), "value": cid}}


def education_procedure(session: EducationSession) -> dict[str, Any]:
    """Education given as an R4 Procedure (a JSON-ready dict).

    ``completed``, coded SNOMED CT 409073007 (Education), with the session's carecoord
    identifier; the patient as subject; when; the staff member who taught as performer;
    the teach-back result as ``outcome`` (carecoord's ``teach-back`` codes); the
    material in the ``education-material`` extension (an identifier, its id only);
    the care plan as ``basedOn``; each goal the session serves in a
    ``resource-pertainsToGoal`` extension. Education given to a contact names them in the
    ``taught-to`` extension; an interpreter's part is the ``interpreter-used`` extension.
    The session's note is free text and is not written.
    """
    cid = str(session.id)
    extensions: list[dict[str, Any]] = [
        {"url": PERTAINS_TO_GOAL, "valueReference": _logical("Goal", "goal", str(goal))}
        for goal in session.goal_ids
    ]
    if session.contact_id is not None:
        learner = _logical("RelatedPerson", "contact", str(session.contact_id))
        extensions.append({"url": ext_url("taught-to"), "valueReference": learner})
    if session.interpreter_used:
        extensions.append({"url": ext_url("interpreter-used"), "valueBoolean": True})
    material = {"system": id_system("education-material"), "value": str(session.material_id)}
    extensions.append({"url": ext_url("education-material"), "valueIdentifier": material})
    resource: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": resource_id("Procedure", "education-session", cid),
    }
    resource["extension"] = extensions
    resource["identifier"] = [{"system": id_system("education-session"), "value": cid}]
    if session.plan_id is not None:
        resource["basedOn"] = [_logical("CarePlan", "care-plan", str(session.plan_id))]
    resource["status"] = "completed"
    resource["code"] = _code(*EDUCATION_CODE)
    resource["subject"] = patient_reference(session.patient_id)
    put_dt(resource, "performedDateTime", session.given_at)
    resource["performer"] = [{"actor": staff_reference(session.given_by)}]
    resource["outcome"] = _code(
        cs("teach-back"), session.result.value, TEACH_BACK_TEXT[session.result]
    )
    return resource
