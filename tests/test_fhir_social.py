"""FHIR R4 export of SDOH screening answers, the social context and education given.

Every Bundle and resource is checked by the independent checker (tests/_fhir_checks.py)
and by the ``fhir.resources`` R4B models. The checker knows only the elements
carecoord's patient export writes; ``Observation.hasMember`` and the R4 (4.0.1) elements
of Procedure that this export writes are added here for these tests, from the R4
definitions. The codes of the hand-made examples were checked by hand
against LOINC (71802-3 answers LA30189-7 / LA30190-5, 93030-5 answer LA30133-5), SNOMED
CT (409073007 Education) and the SDOH Clinical Care IG's temporary code system.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import _fhir_schema
from _fhir_checks import bundle_problems
from _fhir_schema import Element
from carecoord.fhir._common import CODE_SYSTEM_BASE
from carecoord.fhir._derived import SDOH_CATEGORIES, SDOH_SYSTEM
from carecoord.fhir._export_social import (
    BCP47,
    OBSERVATION_CATEGORY,
    PERTAINS_TO_GOAL,
    SNOMED,
    SOCIAL_CODE_SYSTEMS,
    education_procedure,
    screening_bundle,
    social_context_observations,
)
from carecoord.model import (
    BarrierId,
    BarrierKind,
    CarePlanId,
    ContactId,
    GoalId,
    NeedId,
    PatientId,
    StaffId,
    ValidationError,
)
from carecoord.model.education import EducationSession, EducationSessionId, MaterialId
from carecoord.model.education import TeachBackResult as TB
from carecoord.model.social import (
    LOINC,
    CaregiverAvailability,
    LivingSituation,
    ScreeningAnswer,
    ScreeningId,
    ScreeningResponse,
    SocialContext,
    TransportAccess,
)
from carecoord.screening import ScreeningRule
from carecoord.testing.strategies import ENTITY_STRATEGIES

Json = dict[str, Any]
CHICAGO = ZoneInfo("America/Chicago")
T0 = datetime(2026, 5, 12, 9, 30, tzinfo=CHICAGO)
SECRET = "Zq9-Secret-Value"
CC = "https://carecoord.dev/fhir/"
_PERFORMERS = ("Practitioner", "PractitionerRole", "Organization", "Patient", "RelatedPerson")
R4_SCHEMA: dict[str, dict[str, Element]] = {
    "Observation": {
        **_fhir_schema.SCHEMA["Observation"],
        "hasMember": Element(
            "Reference",
            many=True,
            targets=("Observation", "QuestionnaireResponse", "MolecularSequence"),
        ),
    },
    "Procedure": {
        "id": Element("id"),
        "extension": Element("Extension", many=True),
        "identifier": Element("Identifier", many=True),
        "basedOn": Element("Reference", many=True, targets=("CarePlan", "ServiceRequest")),
        "status": Element("code", required=True, binding="event-status"),
        "code": Element("CodeableConcept"),
        "subject": Element("Reference", required=True, targets=("Patient", "Group")),
        "performedDateTime": Element("dateTime"),
        "performer": Element("Procedure.performer", many=True),
        "outcome": Element("CodeableConcept"),
        "usedCode": Element("CodeableConcept", many=True),
    },
    "Procedure.performer": {
        "actor": Element("Reference", required=True, targets=(*_PERFORMERS, "Device")),
    },
}
R4_CHOICES = {"Procedure": {"performed": ("performedDateTime",)}}
FAST = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(autouse=True)
def social_elements(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, fields in R4_SCHEMA.items():
        monkeypatch.setitem(_fhir_schema.SCHEMA, name, fields)
    for name, choices in R4_CHOICES.items():
        monkeypatch.setitem(_fhir_schema.CHOICES, name, choices)


def collection(*resources: Json) -> Json:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"urn:uuid:7d3f1b52-3b0c-4a59-9c59-4d3c0f6f8a{i:02d}", "resource": r}
            for i, r in enumerate(resources)
        ],
    }


def valid(bundle: Json) -> None:
    """``bundle`` passes the independent checker and the R4B models (as JSON text)."""
    from fhir.resources.R4B.bundle import Bundle

    again = json.loads(json.dumps(bundle))
    assert bundle_problems(again) == []
    Bundle.model_validate(copy.deepcopy(again))


def codings(node: Any) -> Iterator[Json]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "coding":
                yield from value
            else:
                yield from codings(value)
    elif isinstance(node, list):
        for item in node:
            yield from codings(item)


def own_codes_known(node: Any) -> None:
    """Every carecoord Coding is from a code system this export registers, with its codes."""
    for c in codings(node):
        if c["system"].startswith(CODE_SYSTEM_BASE):
            name = c["system"].removeprefix(CODE_SYSTEM_BASE)
            if name == "record-category":
                assert c["code"] == "social-screening"
            else:
                assert c["code"] in {m.value for m in SOCIAL_CODE_SYSTEMS[name]}


def concept_codes(concept: Json) -> list[tuple[str, str]]:
    return [(c["system"], c["code"]) for c in concept["coding"]]


def categories(resource: Json) -> list[tuple[str, str]]:
    return [pair for cat in resource["category"] for pair in concept_codes(cat)]


PATIENT = {
    "reference": "Patient/rosa",
    "type": "Patient",
    "identifier": {"system": CC + "id/patient", "value": "rosa"},
}
NURSE = {"type": "Practitioner", "identifier": {"system": CC + "id/staff", "value": "rn"}}


# ------------------------------------------------------------------- screening


@FAST
@given(response=ENTITY_STRATEGIES[ScreeningResponse])
def test_every_screening_is_a_valid_r4_bundle_of_its_answers(response: ScreeningResponse) -> None:
    bundle = screening_bundle(response)
    valid(bundle)
    own_codes_known(bundle)
    group, *members = (e["resource"] for e in bundle["entry"])
    assert group["identifier"] == [{"system": CC + "id/screening", "value": str(response.id)}]
    assert [(m["code"], m["valueCodeableConcept"]) for m in members] == [
        (
            {"coding": [{"system": LOINC, "code": a.question}]},
            {"coding": [{"system": LOINC, "code": a.answer}]},
        )
        for a in response.answers
    ]
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert [r["reference"] for r in group.get("hasMember", [])] == urls[1:]
    assert len(set(urls)) == len(urls) and len(
        {e["resource"]["id"] for e in bundle["entry"]}
    ) == len(urls)
    assert screening_bundle(response) == bundle  # deterministic ids


def screening(*answers: tuple[str, str], sid: str = "prapare-1") -> ScreeningResponse:
    return ScreeningResponse(
        id=ScreeningId(sid),
        patient_id=PatientId("rosa"),
        at=T0,
        recorded_by=StaffId("rn"),
        answers=tuple(ScreeningAnswer(q, a) for q, a in answers),
        barrier_ids=(BarrierId("b-1"),),
        need_ids=(NeedId("n-1"),),
    )


def test_a_prapare_screening_is_written_as_gravity_reads_it() -> None:
    bundle = screening_bundle(
        screening(("71802-3", "LA30190-5"), ("93030-5", "LA30133-5"), ("88122-7", "LA28397-0"))
    )
    valid(bundle)
    group, housing, transport, food = (e["resource"] for e in bundle["entry"])
    social, survey = (OBSERVATION_CATEGORY, "social-history"), (OBSERVATION_CATEGORY, "survey")
    assert categories(housing) == [social, survey, (SDOH_SYSTEM, "homelessness")]
    assert categories(transport) == [social, survey, (SDOH_SYSTEM, "transportation-insecurity")]
    assert categories(food) == [social, survey]  # no shipped rule asks 88122-7
    assert categories(group) == [
        social,
        survey,
        (SDOH_SYSTEM, "homelessness"),
        (SDOH_SYSTEM, "transportation-insecurity"),
    ]
    assert {code for _, code in categories(group)[2:]} <= SDOH_CATEGORIES
    assert concept_codes(housing["code"]) == [(LOINC, "71802-3")]
    assert concept_codes(housing["valueCodeableConcept"]) == [(LOINC, "LA30190-5")]
    assert concept_codes(transport["valueCodeableConcept"]) == [(LOINC, "LA30133-5")]
    assert concept_codes(group["code"]) == [(CC + "CodeSystem/record-category", "social-screening")]
    for obs in (group, housing, transport, food):
        assert obs["status"] == "final" and obs["resourceType"] == "Observation"
        assert obs["subject"] == PATIENT and obs["performer"] == [NURSE]
        assert obs["effectiveDateTime"] == "2026-05-12T09:30:00-05:00"
        assert obs["_effectiveDateTime"]["extension"] == [
            {"url": CC + "StructureDefinition/zone", "valueString": "America/Chicago"}
        ]
    assert group["id"] == "prapare-1"
    assert group["hasMember"][1] == {
        "reference": bundle["entry"][2]["fullUrl"],
        "type": "Observation",
    }
    # the same question of another screening is another Observation
    other = screening_bundle(screening(("71802-3", "LA30190-5"), sid="prapare-2"))
    assert other["entry"][1]["resource"]["id"] != housing["id"]
    assert other["entry"][1]["fullUrl"] != bundle["entry"][1]["fullUrl"]


def test_a_screening_uses_the_hosts_rules_and_a_foreign_id_gets_a_stable_uuid() -> None:
    rule = ScreeningRule(
        question="88122-7",
        answers=("LA28397-0",),
        barrier=BarrierKind.FOOD,
        category="food-insecurity",
        need="Food",
    )
    response = attrs.evolve(screening(("88122-7", "LA28398-8")), id=ScreeningId("scr:1"))
    bundle = screening_bundle(response, rules=(rule,))
    valid(bundle)
    group, food = (e["resource"] for e in bundle["entry"])
    assert (SDOH_SYSTEM, "food-insecurity") in categories(food)
    assert len(group["id"]) == 36 and group["identifier"][0]["value"] == "scr:1"
    empty = screening_bundle(attrs.evolve(response, answers=()))
    valid(empty)
    assert len(empty["entry"]) == 1 and "hasMember" not in empty["entry"][0]["resource"]


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ((("71802-3", f" {SECRET}"),), "answers[0].answer"),
        ((("71802-3", "LA30190-5"), (f"{SECRET}  x", "LA1-1")), "answers[1].question"),
    ],
)
def test_a_code_fhir_cannot_carry_raises_without_its_value(
    answers: tuple[tuple[str, str], ...], field: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        screening_bundle(screening(*answers))
    assert raised.value.field == field
    assert SECRET not in str(raised.value)


def test_a_rule_category_fhir_cannot_carry_raises() -> None:
    rule = ScreeningRule(
        question="71802-3",
        answers=("x",),
        barrier=BarrierKind.HOUSING,
        category="no  home",
        need="H",
    )
    with pytest.raises(ValidationError) as raised:
        screening_bundle(screening(("71802-3", "LA30190-5")), rules=(rule,))
    assert raised.value.field == "rules[0].category"


# -------------------------------------------------------------- social context


@FAST
@given(
    context=ENTITY_STRATEGIES[SocialContext],
    language=st.sampled_from([None, "en", "es-MX", "zh-Hant-TW"]),
)
def test_every_social_context_is_valid_r4_one_observation_per_known_element(
    context: SocialContext, language: str | None
) -> None:
    found = social_context_observations(context, language=language)
    valid(collection(*found))
    own_codes_known(found)
    known = [
        ("71802-3", context.living_situation),
        ("93030-5", context.transport),
        ("54899-0", language),
    ]
    assert [concept_codes(o["code"]) for o in found] == [
        [(LOINC, code)] for code, value in known if value is not None
    ]
    assert len({o["id"] for o in found}) == len(found)
    assert social_context_observations(context, language=language) == found


def context(**changes: Any) -> SocialContext:
    made = SocialContext(
        patient_id=PatientId("rosa"),
        recorded_at=T0,
        recorded_by=StaffId("rn"),
        living_situation=LivingSituation.HOMELESS,
        lives_alone=True,
        transport=TransportAccess.RELIES_ON_OTHERS,
        caregiver_availability=CaregiverAvailability.PART_TIME,
    )
    return attrs.evolve(made, **changes)


def test_a_social_context_carries_loinc_answers_where_they_are_exact() -> None:
    housing, transport, language = social_context_observations(context(), language="es-MX")
    living = CC + "CodeSystem/living-situation"
    assert concept_codes(housing["valueCodeableConcept"]) == [
        (LOINC, "LA30190-5"),
        (living, "homeless"),
    ]
    assert concept_codes(transport["code"]) == [(LOINC, "93030-5")]
    assert concept_codes(transport["valueCodeableConcept"]) == [
        (CC + "CodeSystem/transport-access", "relies-on-others")
    ]
    assert concept_codes(language["valueCodeableConcept"]) == [(BCP47, "es-MX")]
    for obs in (housing, transport, language):
        assert obs["status"] == "final" and obs["subject"] == PATIENT
        assert obs["performer"] == [NURSE]
        assert categories(obs) == [(OBSERVATION_CATEGORY, "social-history")]
        assert obs["effectiveDateTime"] == "2026-05-12T09:30:00-05:00"
    stable = social_context_observations(context(living_situation=LivingSituation.STABLE_HOUSING))
    assert concept_codes(stable[0]["valueCodeableConcept"]) == [
        (LOINC, "LA30189-7"),
        (living, "stable-housing"),
    ]
    unstable = social_context_observations(
        context(living_situation=LivingSituation.UNSTABLE_HOUSING)
    )
    assert concept_codes(unstable[0]["valueCodeableConcept"]) == [(living, "unstable-housing")]


def test_unknowns_write_nothing_and_a_bad_language_raises() -> None:
    unknown = context(living_situation=None, transport=None)
    assert social_context_observations(unknown) == []  # lives alone, caregiver: no LOINC code
    with pytest.raises(ValidationError) as raised:
        social_context_observations(unknown, language=f"{SECRET} x ")
    assert raised.value.field == "language" and SECRET not in str(raised.value)


# ------------------------------------------------------------------ education


@FAST
@given(session=ENTITY_STRATEGIES[EducationSession])
def test_every_education_session_is_a_valid_r4_procedure_without_free_text(
    session: EducationSession,
) -> None:
    noted = attrs.evolve(session, note=SECRET)
    procedure = education_procedure(noted)
    valid(collection(procedure))
    own_codes_known(procedure)
    assert SECRET not in json.dumps(procedure)
    assert procedure["identifier"] == [
        {"system": CC + "id/education-session", "value": str(session.id)}
    ]
    goals = [
        e["valueReference"]["identifier"]["value"]
        for e in procedure.get("extension", [])
        if e["url"] == PERTAINS_TO_GOAL
    ]
    assert goals == [str(g) for g in session.goal_ids]
    assert ("basedOn" in procedure) == (session.plan_id is not None)
    assert concept_codes(procedure["outcome"]) == [
        (CC + "CodeSystem/teach-back", session.result.value)
    ]


def test_education_given_to_a_caregiver_with_an_interpreter() -> None:
    session = EducationSession(
        id=EducationSessionId("ed-1"),
        patient_id=PatientId("rosa"),
        material_id=MaterialId("inhaler-es"),
        given_at=datetime(2026, 5, 12, 15, 0, tzinfo=UTC),
        given_by=StaffId("rn"),
        result=TB.PARTLY,
        contact_id=ContactId("maria"),
        plan_id=CarePlanId("plan-1"),
        goal_ids=(GoalId("inhaler"), GoalId("steps")),
        interpreter_used=True,
        note=SECRET,
    )
    procedure = education_procedure(session)
    assert procedure == {
        "resourceType": "Procedure",
        "id": "ed-1",
        "extension": [
            {
                "url": PERTAINS_TO_GOAL,
                "valueReference": {
                    "type": "Goal",
                    "identifier": {"system": CC + "id/goal", "value": "inhaler"},
                },
            },
            {
                "url": PERTAINS_TO_GOAL,
                "valueReference": {
                    "type": "Goal",
                    "identifier": {"system": CC + "id/goal", "value": "steps"},
                },
            },
            {
                "url": CC + "StructureDefinition/taught-to",
                "valueReference": {
                    "type": "RelatedPerson",
                    "identifier": {"system": CC + "id/contact", "value": "maria"},
                },
            },
            {"url": CC + "StructureDefinition/interpreter-used", "valueBoolean": True},
            {
                "url": CC + "StructureDefinition/education-material",
                "valueIdentifier": {"system": CC + "id/education-material", "value": "inhaler-es"},
            },
        ],
        "identifier": [{"system": CC + "id/education-session", "value": "ed-1"}],
        "basedOn": [
            {"type": "CarePlan", "identifier": {"system": CC + "id/care-plan", "value": "plan-1"}}
        ],
        "status": "completed",
        "code": {"coding": [{"system": SNOMED, "code": "409073007", "display": "Education"}]},
        "subject": PATIENT,
        "performedDateTime": "2026-05-12T15:00:00+00:00",
        "performer": [{"actor": NURSE}],
        "outcome": {
            "coding": [
                {
                    "system": CC + "CodeSystem/teach-back",
                    "code": "partly-understood",
                    "display": "Partly understood",
                }
            ]
        },
    }
    valid(collection(procedure))
    alone = education_procedure(
        attrs.evolve(session, contact_id=None, interpreter_used=False, goal_ids=(), plan_id=None)
    )
    assert "basedOn" not in alone
    assert alone["extension"] == [
        {
            "url": CC + "StructureDefinition/education-material",
            "valueIdentifier": {"system": CC + "id/education-material", "value": "inhaler-es"},
        }
    ]
    valid(collection(alone))
