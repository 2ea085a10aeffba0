"""FHIR export of what is recorded outside any care plan: health concerns and patients' goals.

A :class:`~carecoord.HealthConcern` is a US Core / Gravity ``Condition``; a
:class:`~carecoord.PatientGoal` is a ``Goal`` no ``CarePlan`` lists, with its
readings as ``Observation`` s like a plan's goal. The import
(``_import_concerns``) reads both back, and real-world ones, with the tables here.
"""

from __future__ import annotations

from typing import Any, Final

from ..model import Coding, ConcernCategory, HealthConcern, Identifier, PatientGoal
from ._common import ext_url
from ._derived import RecordIndex
from ._export_care import goal_body, sdoh_concept
from ._export_common import _Bundle, concept, external_ref, put_dt

__all__ = [
    "CATEGORY_SYSTEMS",
    "CONDITION_CLINICAL",
    "CONDITION_VERIFICATION",
    "PATIENT_GOAL_SCOPE",
    "US_CORE_CATEGORY",
    "_concern",
    "_patient_goal",
    "identifiers",
    "patient_goal_readings",
]

CONDITION_CLINICAL: Final = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION: Final = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CATEGORY_SYSTEMS: Final[dict[ConcernCategory, str]] = {
    ConcernCategory.PROBLEM_LIST_ITEM: "http://terminology.hl7.org/CodeSystem/condition-category",
    ConcernCategory.ENCOUNTER_DIAGNOSIS: (
        "http://terminology.hl7.org/CodeSystem/condition-category"
    ),
    ConcernCategory.HEALTH_CONCERN: "http://hl7.org/fhir/us/core/CodeSystem/condition-category",
}
"""The code system of each US Core Condition category."""
US_CORE_CATEGORY: Final = "http://hl7.org/fhir/us/core/CodeSystem/us-core-category"
"""US Core's category code system: ``sdoh`` marks a Condition with SDOH categories."""
PATIENT_GOAL_SCOPE: Final = "/patient-goal"
"""The Bundle scope of patients' own goals (no plan id can be it: ids have no ``/``)."""


def identifiers(values: tuple[Identifier, ...]) -> list[dict[str, Any]]:
    """A record's identifiers from its source system (after carecoord's own)."""
    return [{"system": i.system, "value": i.value} for i in values]


def _coding(value: Coding) -> dict[str, Any]:
    out = {"system": value.system, "code": value.code}
    if value.display is not None:
        out["display"] = value.display
    return out


def _who(b: _Bundle, staff: str | None, other: Any) -> dict[str, Any] | None:
    if staff is not None:
        return b.ref("staff", staff)
    return None if other is None else external_ref(other)


def _concern(b: _Bundle, c: HealthConcern) -> None:
    """A health concern as a ``Condition`` (US Core categories, Gravity SDOH categories)."""
    ext: list[dict[str, Any]] = [
        {"url": ext_url("need"), "valueReference": b.ref("need", n)} for n in c.need_ids
    ]
    ext += [
        {"url": ext_url("barrier"), "valueReference": b.ref("barrier", x)} for x in c.barrier_ids
    ]
    body: dict[str, Any] = {}
    if ext:
        body["extension"] = ext
    if c.identifiers:
        body["identifier"] = identifiers(c.identifiers)
    if c.clinical_status is not None:
        body["clinicalStatus"] = concept(CONDITION_CLINICAL, c.clinical_status.value)
    if c.verification_status is not None:
        body["verificationStatus"] = concept(CONDITION_VERIFICATION, c.verification_status.value)
    categories = [concept(CATEGORY_SYSTEMS[k], k.value) for k in c.categories]
    if c.sdoh_categories:
        categories.append(concept(US_CORE_CATEGORY, "sdoh"))
        categories += [sdoh_concept(code) for code in c.sdoh_categories]
    if categories:
        body["category"] = categories
    code: dict[str, Any] = {}
    if c.codings:
        code["coding"] = [_coding(x) for x in c.codings]
    if c.text is not None:
        code["text"] = c.text
    body["code"] = code
    body["subject"] = b.ref("patient", c.patient_id)
    if c.onset is not None:
        put_dt(body, "onsetDateTime", c.onset)
    if c.abatement is not None:
        put_dt(body, "abatementDateTime", c.abatement)
    if c.recorded_at is not None:
        put_dt(body, "recordedDate", c.recorded_at)
    for key, staff, other in (
        ("recorder", c.recorded_by, c.recorder),
        ("asserter", c.asserted_by, c.asserter),
    ):
        who = _who(b, staff, other)
        if who is not None:
            body[key] = who
    b.add("health-concern", c.id, body)


def patient_goal_readings(goal: PatientGoal) -> list[str]:
    """The stable keys of a patient goal's readings (their Observations)."""
    return [f"patient-goal-reading|{goal.id}|{n}" for n in range(len(goal.goal.readings))]


def _patient_goal(b: _Bundle, pg: PatientGoal, ix: RecordIndex) -> None:
    """A patient's own goal as a ``Goal`` no CarePlan lists, then its readings' Observations."""
    keys = patient_goal_readings(pg)
    body = goal_body(
        b,
        pg.goal,
        pg.patient_id,
        categories=ix.goal_categories(pg.goal, pg.concern_ids),
        addresses=[
            *(b.ref("need", n) for n in pg.goal.addresses),
            *(b.ref("health-concern", c) for c in pg.concern_ids),
        ],
        reading_keys=keys,
        expressed_by=b.ref("patient", pg.patient_id) if pg.expressed_by_patient else None,
    )
    if pg.identifiers:
        body["identifier"] = identifiers(pg.identifiers)
    b.add("goal", pg.id, body, scope=PATIENT_GOAL_SCOPE)
