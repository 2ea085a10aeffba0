"""Health concerns, patients' own goals and other systems' references (issue 13).

The model's rules (the FHIR Condition invariants, references kept as given),
the service's use cases (access, audit, links checked), and the FHIR mapping:
what the export writes for them, and what the import makes of free-standing
Conditions and Goals, of a Consent without provision and of references outside
the input.
"""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

import attrs
import pytest

from _fhir_checks import bundle_problems, external_references
from _fhir_concerns import FOOD, HOUSING, OWN_GOAL, concerns_record
from carecoord import (
    AccessDeniedError,
    BarrierId,
    Goal,
    GoalAchievementStatus,
    GoalId,
    GoalLifecycleStatus,
    HealthConcernId,
    Identifier,
    NeedId,
    NotFoundError,
    PatientGoal,
    ProgressReading,
    ValidationError,
)
from carecoord.fhir import EXTENSION_BASE, PatientRecord, export_bundle, import_bundle
from carecoord.fhir.valuesets import check_bundle
from carecoord.model import (
    Coding,
    ConcernCategory,
    ConditionClinicalStatus,
    ConditionVerificationStatus,
    ExternalRef,
)
from carecoord.service import CareCoordinator
from carecoord.storage import MemoryStore
from carecoord.testing import FixedClock
from test_fhir_export import COORD, T0
from test_fhir_roundtrip import validate_r4
from world import MA, OUTSIDER, PATIENT, populate

Json = dict[str, Any]
DAY = timedelta(days=1)

# ---------------------------------------------------------------------- model


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"codings": (), "text": None}, "codings"),
        (  # con-5: no clinical status when entered in error
            {"verification_status": ConditionVerificationStatus.ENTERED_IN_ERROR},
            "clinical_status",
        ),
        (  # con-3: a problem-list item has one
            {"categories": (ConcernCategory.PROBLEM_LIST_ITEM,), "clinical_status": None},
            "clinical_status",
        ),
        ({"abatement": T0}, "abatement"),  # con-4: an abated concern is not active
        (
            {"clinical_status": ConditionClinicalStatus.RESOLVED, "abatement": T0 - 365 * DAY},
            "abatement",  # before its onset
        ),
        ({"recorder": ExternalRef(reference="PractitionerRole/r")}, "recorder"),  # and staff
        ({"asserter": ExternalRef(reference="Organization/o")}, "asserter"),  # not a person
        ({"sdoh_categories": ("Food Insecurity",)}, "sdoh_categories"),
        ({"need_ids": (NeedId("n"), NeedId("n"))}, "need_ids"),
    ],
)
def test_a_health_concern_keeps_the_fhir_condition_rules(change: Json, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        attrs.evolve(FOOD, **change)
    assert info.value.field == field


def test_statuses_change_within_the_rules() -> None:
    resolved = FOOD.with_status("resolved", abated_at=T0 + DAY)
    assert (resolved.clinical_status, resolved.abatement, resolved.is_active) == (
        ConditionClinicalStatus.RESOLVED,
        T0 + DAY,
        False,
    )
    assert resolved.verification_status is ConditionVerificationStatus.CONFIRMED  # kept
    remission = resolved.with_status(ConditionClinicalStatus.REMISSION)
    assert remission.abatement == T0 + DAY  # still abated
    back = remission.with_status("recurrence")
    assert (back.abatement, back.is_active) == (None, True)  # going on again
    wrong = FOOD.with_status(None, verification_status="entered-in-error")
    assert not wrong.is_active
    with pytest.raises(ValidationError):
        FOOD.with_status("no-such-status")
    with pytest.raises(ValidationError):
        FOOD.with_status("active", abated_at=T0)


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({}, "needs a reference or an identifier"),
        ({"reference": "urn:uuid:9d3a1b7e-5b58-4c1f-9f1c-1f8e2c3d4a5b"}, "urn:"),
        ({"reference": "#contained-1"}, "relative Type/id or an absolute URL"),
        ({"reference": "Organization/a b"}, "whitespace"),
        ({"reference": "Organization/o", "resource_type": "Practitioner"}, "differs"),
        ({"reference": "Organization/o", "resource_type": "organization"}, "resource type"),
    ],
)
def test_an_external_reference_is_a_reference_another_system_can_follow(
    values: Json, problem: str
) -> None:
    with pytest.raises(ValidationError, match=problem):
        ExternalRef(**values)


def test_external_references_and_codings_hide_what_may_be_phi() -> None:
    ref = ExternalRef(
        reference="https://ehr.example.org/fhir/Organization/o-1",
        identifier=Identifier("https://registry.example.net/npi", "SECRET-NPI"),
        display="SECRET display",
    )
    assert ref.target_type == "Organization"
    assert "SECRET" not in repr(ref)
    assert "SECRET" not in repr(Coding("http://snomed.info/sct", "1", "SECRET display"))
    with pytest.raises(ValidationError):
        Coding("http://snomed.info/sct", " 1")
    with pytest.raises(ValidationError):
        Coding("snomed", "1")


def test_a_patient_goal_is_a_goal_attached_to_the_patient() -> None:
    assert OWN_GOAL.id == OWN_GOAL.goal.id == GoalId("own-goal-1")
    read = OWN_GOAL.with_reading(ProgressReading("days without a meal", 0, "/wk", T0 + DAY, COORD))
    assert read.goal.achievement_status is GoalAchievementStatus.ACHIEVED
    done = read.transition("completed", by=COORD, at=T0 + 2 * DAY)
    assert done.goal.lifecycle_status is GoalLifecycleStatus.COMPLETED


def test_a_referral_target_kept_from_elsewhere_is_named_by_the_referral() -> None:
    [_, pantry] = concerns_record().referrals
    named = attrs.evolve(pantry, target=ExternalRef(reference="Organization/o", display="Other"))
    assert named.target == ExternalRef(reference="Organization/o")  # the name is target_name
    with pytest.raises(ValidationError):
        attrs.evolve(pantry, reason_refs=(ExternalRef(reference="Procedure/p"),))


# -------------------------------------------------------------------- service


@pytest.fixture
def service() -> CareCoordinator:
    clock = FixedClock(T0)
    care = CareCoordinator(store=MemoryStore(), clock=clock)
    populate(care, clock)
    return care


def _mine(concern: Any) -> Any:
    return attrs.evolve(concern, patient_id=PATIENT, need_ids=(), barrier_ids=())


def test_concerns_are_recorded_changed_and_listed_with_access(service: CareCoordinator) -> None:
    from world import COORD as COORDINATOR

    food = service.record_health_concern(_mine(FOOD), actor=COORDINATOR)
    housing = service.record_health_concern(
        attrs.evolve(_mine(HOUSING), id=HealthConcernId("housing")), actor=COORDINATOR
    )
    assert [c.id for c in service.health_concerns_of(PATIENT, actor=MA)] == [
        food.id,  # the active one first
        housing.id,
    ]
    resolved = service.set_health_concern_status(
        food.id, "resolved", actor=COORDINATOR, abated_at=T0 + DAY
    )
    assert (resolved.clinical_status, resolved.abatement) == ("resolved", T0 + DAY)
    refuted = service.set_health_concern_status(
        food.id, "inactive", actor=COORDINATOR, verification_status="refuted"
    )
    assert refuted.verification_status is ConditionVerificationStatus.REFUTED
    assert refuted.abatement == T0 + DAY
    with pytest.raises(AccessDeniedError):  # a medical assistant records no assessments
        service.record_health_concern(attrs.evolve(_mine(FOOD), id=HealthConcernId("x")), actor=MA)
    with pytest.raises(AccessDeniedError):
        service.health_concerns_of(PATIENT, actor=OUTSIDER)
    with pytest.raises(NotFoundError, match="need n-9"):  # links must be the patient's
        service.record_health_concern(
            attrs.evolve(_mine(FOOD), id=HealthConcernId("y"), need_ids=(NeedId("n-9"),)),
            actor=COORDINATOR,
        )
    with pytest.raises(NotFoundError, match="Barrier b-9"):
        service.record_health_concern(
            attrs.evolve(_mine(FOOD), id=HealthConcernId("z"), barrier_ids=(BarrierId("b-9"),)),
            actor=COORDINATOR,
        )


def test_own_goals_are_recorded_followed_and_listed(service: CareCoordinator) -> None:
    from world import COORD as COORDINATOR

    service.record_health_concern(_mine(FOOD), actor=COORDINATOR)
    goal = PatientGoal(
        patient_id=PATIENT,
        goal=Goal(
            id=GoalId("own-1"),
            description="Enough food every day",
            targets=OWN_GOAL.goal.targets,
        ),
        concern_ids=(FOOD.id,),
    )
    service.record_patient_goal(goal, actor=COORDINATOR)
    service.set_patient_goal_status(goal.id, "active", actor=COORDINATOR)
    reading = ProgressReading("days without a meal", 2, "/wk", T0, MA)
    after = service.record_patient_goal_progress(goal.id, reading, actor=MA)
    assert after.goal.readings == (reading,)
    assert after.goal.lifecycle_status is GoalLifecycleStatus.ACTIVE
    assert service.patient_goals_of(PATIENT, actor=MA) == [after]
    with pytest.raises(AccessDeniedError):  # a medical assistant sets no goals
        service.set_patient_goal_status(goal.id, "on-hold", actor=MA)
    with pytest.raises(NotFoundError, match="HealthConcern elsewhere"):
        service.record_patient_goal(
            attrs.evolve(
                goal,
                goal=attrs.evolve(goal.goal, id=GoalId("g-2")),
                concern_ids=(HealthConcernId("elsewhere"),),
            ),
            actor=COORDINATOR,
        )


def test_the_whole_record_carries_concerns_and_own_goals(service: CareCoordinator) -> None:
    from world import COORD as COORDINATOR

    service.record_health_concern(_mine(FOOD), actor=COORDINATOR)
    read = service.patient_record(PATIENT, actor=COORDINATOR)
    assert [c.id for c in read.of(type(FOOD))] == [FOOD.id]
    record = PatientRecord.from_store(service.store, PATIENT)
    assert [c.id for c in record.health_concerns] == [FOOD.id]


# ----------------------------------------------------------------------- FHIR


def _bundle() -> Json:
    bundle: Json = json.loads(json.dumps(export_bundle(concerns_record(), include_audit=True)))
    return bundle


def _resources(bundle: Json, rtype: str) -> list[Json]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == rtype]


def _by_identifier(bundle: Json, rtype: str, value: str) -> Json:
    return next(
        r
        for r in _resources(bundle, rtype)
        if any(i.get("value") == value for i in r.get("identifier", ()))
    )


def test_the_export_is_valid_r4_and_comes_back_exactly() -> None:
    bundle = _bundle()
    validate_r4(bundle)
    assert check_bundle(bundle) == ()
    assert bundle_problems(bundle) == []
    assert external_references(bundle) == {
        "PractitionerRole/dr-water-role",
        "Organization/coordination-platform",
        "https://ehr.example.org/fhir/Condition/hunger-screen",
        "Procedure/pantry-app",
        "Organization/payer-1",
    }
    imported = import_bundle(bundle, strict=True)
    assert imported.record == concerns_record()
    assert {x.reference for x in imported.report.external if x.reference} >= {
        "Organization/coordination-platform",
        "Procedure/pantry-app",
    }
    assert all(x.kept for x in imported.report.external)


def test_a_concern_is_a_us_core_and_gravity_condition() -> None:
    condition = _by_identifier(_bundle(), "Condition", "concern-1")
    assert [c["coding"][0]["code"] for c in condition["category"]] == [
        "health-concern",
        "sdoh",  # US Core: it has SDOH categories
        "food-insecurity",
    ]
    assert condition["code"]["coding"][0] == {
        "system": "http://snomed.info/sct",
        "code": "733423003",
        "display": "Food insecurity",
    }
    assert "text" not in condition["code"]  # coded without text
    assert condition["identifier"][1] == {
        "system": "https://ehr.example.org/condition",
        "value": "C-77",
    }
    assert condition["asserter"] == {
        "reference": "PractitionerRole/dr-water-role",
        "display": "Dr Water",
    }
    assert condition["recorder"]["identifier"]["value"] == "staff-1"
    links = {e["url"].removeprefix(EXTENSION_BASE) for e in condition["extension"]}
    assert links == {"need", "barrier"}
    abated = _by_identifier(_bundle(), "Condition", "concern_2")
    assert abated["clinicalStatus"]["coding"][0]["code"] == "resolved"
    assert "abatementDateTime" in abated and abated["code"] == {"text": HOUSING.text}
    in_error = _by_identifier(_bundle(), "Condition", "concern-3")
    assert "clinicalStatus" not in in_error  # con-5


def test_an_own_goal_is_a_goal_no_care_plan_lists() -> None:
    bundle = _bundle()
    goal = _by_identifier(bundle, "Goal", "own-goal-1")
    listed = {g["reference"] for p in _resources(bundle, "CarePlan") for g in p.get("goal", ())}
    own_url = next(e["fullUrl"] for e in bundle["entry"] if e["resource"] is goal)
    assert own_url not in listed
    assert goal["expressedBy"]["type"] == "Patient"
    assert [a["identifier"]["system"].rsplit("/", 1)[1] for a in goal["addresses"]] == [
        "need",
        "health-concern",
        "health-concern",  # a concern outside the record: by identifier
    ]
    assert [c["coding"][0]["code"] for c in goal["category"]] == ["food-insecurity"]
    [reading] = goal["outcomeReference"]
    assert reading["type"] == "Observation"


def test_kept_references_go_out_as_they_came() -> None:
    bundle = _bundle()
    sr = _by_identifier(bundle, "ServiceRequest", "ref-pantry")
    task = next(
        t
        for t in _resources(bundle, "Task")
        if t.get("focus", {}).get("identifier", {}).get("value") == "ref-pantry"
    )
    target = {"reference": "Organization/coordination-platform", "display": "Coordination platform"}
    assert sr["performer"] == [target]
    assert task["owner"] == target
    assert sr["reasonReference"][-2:] == [
        {
            "reference": sr["reasonReference"][-2]["reference"],
            "type": "Condition",
            "identifier": {
                "system": "https://carecoord.dev/fhir/id/health-concern",
                "value": "concern-1",
            },
        },
        {"reference": "https://ehr.example.org/fhir/Condition/hunger-screen", "display": "HVS"},
    ]
    assert {"food-insecurity"} <= {c["coding"][0]["code"] for c in sr["category"]}
    outputs = [o for o in task["output"] if "valueReference" in o]
    assert outputs[0]["valueReference"] == {
        "type": "Procedure",
        "reference": "Procedure/pantry-app",
    }
    general = _by_identifier(bundle, "Consent", "consent-general")
    assert general["policyRule"]["coding"][0]["code"] == "UNK"  # ppc-1 holds: none stated
    assert "provision" not in general  # a permit without actors would permit everyone
    assert general["organization"] == [{"reference": "Organization/payer-1"}]
    research = _by_identifier(bundle, "Consent", "consent-research")
    assert research["scope"]["coding"][0]["code"] == "research"


def test_a_plan_addressing_a_concern_keeps_the_concern_on_the_patient() -> None:
    bundle = _bundle()
    plan = _resources(bundle, "CarePlan")[0]
    concern = _by_identifier(bundle, "Condition", "concern-1")
    url = next(e["fullUrl"] for e in bundle["entry"] if e["resource"] is concern)
    plan["addresses"].append({"reference": url})
    imported = import_bundle(bundle)
    assert imported.record.plans == concerns_record().plans
    assert [d.reason for d in imported.report.dropped] == [
        "refers to a health concern (kept on the patient): a care plan and its goals address needs"
    ]


def test_a_condition_with_nothing_to_keep_is_reported() -> None:
    bundle = _bundle()
    concern = _by_identifier(bundle, "Condition", "concern-1")
    del concern["code"]
    imported = import_bundle(bundle)
    assert FOOD.id not in {c.id for c in imported.record.health_concerns}
    assert any(
        d.reason == "a Condition with neither a coding nor a text: nothing to keep"
        for d in imported.report.dropped
    )


def test_a_deny_provision_permits_nothing() -> None:
    bundle = _bundle()
    consent = _by_identifier(bundle, "Consent", "consent-1")
    consent["provision"]["type"] = "deny"
    [first, *_] = import_bundle(bundle).record.consents
    assert first.contact_ids == () and first.categories == ()


def test_a_problem_list_item_without_a_clinical_status_gets_active_reported() -> None:
    bundle = _bundle()
    housing = _by_identifier(bundle, "Condition", "concern_2")
    for key in ("clinicalStatus", "abatementDateTime", "_abatementDateTime"):
        housing.pop(key, None)
    imported = import_bundle(copy.deepcopy(bundle))
    [found] = [c for c in imported.record.health_concerns if c.id == HOUSING.id]
    assert found.clinical_status is ConditionClinicalStatus.ACTIVE
    assert [d.value for d in imported.report.defaulted] == ["active"]
