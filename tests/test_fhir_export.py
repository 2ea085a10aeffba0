"""FHIR R4 export: every resource type, validated by fhir.resources R4B and our value sets."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest

from carecoord import (
    Appointment,
    AppointmentId,
    Assessment,
    AssessmentDomain,
    AssessmentId,
    AuditAction,
    AuditEntry,
    Barrier,
    BarrierId,
    BarrierKind,
    Cadence,
    CarePlan,
    CarePlanId,
    CareTeam,
    CareTeamId,
    CareTeamRole,
    Comparator,
    Consent,
    ConsentId,
    Contact,
    ContactChannel,
    ContactId,
    ContactPoint,
    ContactPreferences,
    ContactRelationship,
    DecisionId,
    DecisionOutcome,
    Finding,
    FindingId,
    Goal,
    GoalAchievementStatus,
    GoalId,
    GoalOutcome,
    GoalPriority,
    HumanName,
    Identifier,
    Intervention,
    InterventionId,
    InterventionKind,
    Membership,
    Need,
    NeedId,
    NeedPriority,
    Note,
    NoteId,
    Patient,
    PatientDecision,
    PatientId,
    Period,
    ProgressReading,
    Quantity,
    QuietHours,
    Range,
    Referral,
    ReferralId,
    ReferralTargetKind,
    Review,
    ReviewDecision,
    ReviewId,
    StaffId,
    StaffMember,
    Target,
    TaskPriority,
    ValidationError,
)
from carecoord.fhir import EXTENSION_BASE, PatientRecord, export_bundle
from carecoord.fhir.valuesets import check_bundle, check_resource
from carecoord.model import (
    GENESIS_HASH,
    AuditOutcome,
    Direction,
    InteractionParty,
    Ref,
    RefKind,
)
from test_fhir_roundtrip import validate_r4, validate_resource

CHI = ZoneInfo("America/Chicago")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=CHI)
COORD = StaffId("staff-1")
NURSE = StaffId("staff-2")
PID = PatientId("patient-1")
ZONE_EXT = {"extension": [{"url": EXTENSION_BASE + "zone", "valueString": "America/Chicago"}]}

# Audit entries get a fresh id when created: make them once, so every
# rich_record() is the same record.
AUDIT_SEALED = AuditEntry.create(
    at=T0,
    actor=str(COORD),
    action=AuditAction.READ,
    operation="get_patient",
    outcome=AuditOutcome.SUCCESS,
    patient_id=str(PID),
    entity="Patient/patient-1",
).seal(1, GENESIS_HASH, sealed_at=T0 + timedelta(minutes=5))
"""The rich record's first audit entry, sealed by the sealer."""
AUDIT_UNSEALED = AuditEntry.create(
    at=T0 + timedelta(minutes=1),
    actor=str(NURSE),
    action=AuditAction.UPDATE,
    operation="set_intervention_status",
    outcome=AuditOutcome.MINOR_FAILURE,
    patient_id=str(PID),
    detail="AccessDeniedError",
)
"""The rich record's second audit entry, not sealed yet."""


def rich_record() -> PatientRecord:
    """A fixed record that uses every mapped element at least once."""
    patient = Patient(
        id=PID,
        name=HumanName(family="Doe", given=("Pat", "Q")),
        birth_date=date(1950, 4, 5),
        time_zone="America/Chicago",
        language="es-MX",
        identifiers=(Identifier(system="urn:oid:1.2.3", value="MRN-9"),),
        telecom=(
            ContactPoint(ContactChannel.PHONE, "555-0100"),
            ContactPoint(ContactChannel.PORTAL, "pat.doe"),
        ),
        preferences=ContactPreferences(
            channels=(ContactChannel.SMS,), quiet_hours=QuietHours(time(21), time(8))
        ),
        contacts=(
            Contact(
                id=ContactId("contact-1"),
                name=HumanName(family="Doe", given=("Sam",)),
                relationship=ContactRelationship.SPOUSE,
                may_receive_information=True,
                is_caregiver=True,
            ),
            Contact(
                id=ContactId("contact-2"),
                name=HumanName(family="Roe"),
                relationship=ContactRelationship.CAREGIVER,
            ),
        ),
        enrolled_at=T0,
    )
    staff = (
        StaffMember(
            id=COORD,
            name=HumanName(family="Rivera", given=("Ana",)),
            roles=(CareTeamRole.CARE_COORDINATOR, CareTeamRole.NURSE),
            time_zone="America/Chicago",
        ),
        StaffMember(
            id=NURSE,
            name=HumanName(family="Lind"),
            roles=(CareTeamRole.NURSE,),
            supervisor_id=COORD,
            active=False,
        ),
    )
    team = CareTeam(
        id=CareTeamId("team-1"),
        patient_id=PID,
        lead_id=COORD,
        members=(
            Membership(COORD, CareTeamRole.CARE_COORDINATOR, Period(T0)),
            Membership(NURSE, CareTeamRole.NURSE, Period(T0, T0 + timedelta(days=30))),
        ),
        name="Diabetes team",
    ).transition("active", by=COORD, at=T0)
    need = Need(
        id=NeedId("need-1"),
        domain=AssessmentDomain.MEDICAL,
        description="Blood sugar above target",
        priority=NeedPriority.HIGH,
        finding_ids=(FindingId("finding-1"),),
        code="http://snomed.info/sct|44054006",
    )
    assessment = Assessment(
        id=AssessmentId("assessment-1"),
        patient_id=PID,
        performed_by=COORD,
        performed_at=T0,
        findings=(
            Finding(
                FindingId("finding-1"),
                AssessmentDomain.MEDICAL,
                "HbA1c 8.9 %",
                "http://loinc.org|4548-4",
            ),
            Finding(
                FindingId("finding-2"), AssessmentDomain.SOCIAL, "Lives alone", "free text code"
            ),
        ),
        needs=(need,),
    )
    goal = (
        Goal(
            id=GoalId("goal-1"),
            description="HbA1c under 7 %",
            priority=GoalPriority.HIGH,
            targets=(
                Target("hba1c", quantity=Quantity(7.0, "%", Comparator.LT), due=date(2027, 3, 1)),
                Target("weight", range=Range(low=60.0, high=80.0, unit="kg")),
            ),
            addresses=(need.id,),
            start=date(2026, 11, 2),
        )
        .transition("active", by=COORD, at=T0)
        .with_reading(ProgressReading("hba1c", 8.4, "%", T0, COORD))
        .with_reading(ProgressReading("hba1c", 7.6, "%", T0 + timedelta(days=30), COORD))
    )
    due = datetime(2026, 11, 5, 17, 0, tzinfo=CHI)
    teach = Intervention(
        id=InterventionId("int-1"),
        kind=InterventionKind.EDUCATION,
        description="Teach glucose self-monitoring",
        created_at=T0,
        assignee_id=COORD,
        priority=TaskPriority.URGENT,
        due=due,
        goal_ids=(goal.id,),
        barrier_ids=(BarrierId("barrier-1"),),
    ).transition("in-progress", by=COORD, at=T0 + timedelta(hours=1))
    monitor = Intervention(
        id=InterventionId("int_2"),  # not a valid FHIR id: exported under a UUID
        kind=InterventionKind.MONITORING,
        description="Weekly log check",
        created_at=T0,
        window=Period(T0, T0 + timedelta(days=7)),
        cadence=Cadence.weeks(1, T0),
    )
    plan = CarePlan(
        id=CarePlanId("plan-1"),
        patient_id=PID,
        author_id=COORD,
        created_at=T0,
        title="Diabetes plan",
        period=Period(T0),
        addresses=(need.id,),
        goals=(goal,),
        interventions=(teach, monitor),
        review_cadence=Cadence.months(1, T0),
    ).transition("active", by=COORD, at=T0)
    referral = (
        Referral(
            id=ReferralId("ref-1"),
            patient_id=PID,
            requested_by=COORD,
            created_at=T0,
            target_kind=ReferralTargetKind.COMMUNITY_RESOURCE,
            target_name="Food bank",
            service="Food assistance",
            reason="Food insecurity",
            plan_id=plan.id,
            intervention_id=teach.id,
            goal_ids=(goal.id,),
        )
        .transition("sent", by=COORD, at=T0)
        .transition("accepted", by=COORD, at=T0 + timedelta(days=1))
        .transition("scheduled", by=COORD, at=T0 + timedelta(days=2))
        .transition("completed", by=COORD, at=T0 + timedelta(days=3))
        .record_result("Enrolled in weekly pantry", by=COORD, at=T0 + timedelta(days=4))
    )
    appointment = Appointment(
        id=AppointmentId("appt-1"),
        patient_id=PID,
        start=T0 + timedelta(days=7),
        end=T0 + timedelta(days=7, hours=1),
        provider="Dr. Who",
        location="Clinic A",
        transport_needed=True,
        referral_id=referral.id,
        intervention_id=teach.id,
        booked_by=NURSE,
    ).transition("booked", by=NURSE, at=T0)
    barrier = Barrier(
        id=BarrierId("barrier-1"),
        patient_id=PID,
        kind=BarrierKind.TRANSPORT,
        identified_at=T0,
        identified_by=NURSE,
        description="No car",
        blocks=(Ref(RefKind.APPOINTMENT, "appt-1"),),
    ).resolve("Ride arranged", by=NURSE, at=T0 + timedelta(days=1))
    review = Review(
        id=ReviewId("review-1"),
        plan_id=plan.id,
        patient_id=PID,
        reviewed_at=T0 + timedelta(days=30),
        reviewed_by=COORD,
        next_review_at=T0 + timedelta(days=60),
        participants=(NURSE,),
        patient_participated=True,
        contact_participants=(ContactId("contact-1"),),
        goal_outcomes=(
            GoalOutcome(
                goal.id, GoalAchievementStatus.IMPROVING, ReviewDecision.CONTINUE, "On track"
            ),
        ),
        summary="Good progress",
        due_at=T0 + timedelta(days=31),
    )
    note = Note(
        id=NoteId("note-1"),
        patient_id=PID,
        at=T0,
        author_id=COORD,
        channel=ContactChannel.PHONE,
        direction=Direction.OUTBOUND,
        party=InteractionParty.FAMILY,
        summary="Called spouse",
        contact_id=ContactId("contact-1"),
        staff_ids=(NURSE,),
        links=(Ref(RefKind.CARE_PLAN, "plan-1"),),
    )
    decision = PatientDecision(
        id=DecisionId("decision-1"),
        patient_id=PID,
        at=T0,
        recorded_by=COORD,
        recommendation="Join diabetes class",
        outcome=DecisionOutcome.DECLINED,
        patient_words="Not now",
        about=(Ref(RefKind.INTERVENTION, "int-1"),),
    )
    consent = Consent(
        id=ConsentId("consent-1"),
        patient_id=PID,
        recorded_at=T0,
        recorded_by=COORD,
        contact_ids=(ContactId("contact-1"),),
        categories=("appointments", "care-plan"),
        period=Period(T0, T0 + timedelta(days=365)),
    ).transition("inactive", by=COORD, at=T0 + timedelta(days=2))
    return PatientRecord(
        patient=patient,
        staff=staff,
        care_teams=(team,),
        assessments=(assessment,),
        plans=(plan,),
        referrals=(referral,),
        appointments=(appointment,),
        barriers=(barrier,),
        reviews=(review,),
        notes=(note,),
        decisions=(decision,),
        consents=(consent,),
        audit_entries=(AUDIT_SEALED, AUDIT_UNSEALED),
    )


def resources(bundle: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    """The resources of ``rtype`` in ``bundle``, in order."""
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == rtype]


def one(bundle: dict[str, Any], rtype: str, cid: str) -> dict[str, Any]:
    """The resource of ``rtype`` whose carecoord identifier is ``cid``."""
    found = [
        r
        for r in resources(bundle, rtype)
        if any(i["value"] == cid for i in r.get("identifier", []))
    ]
    assert len(found) == 1
    return found[0]


def full_url(bundle: dict[str, Any], resource: dict[str, Any]) -> str:
    """The fullUrl of ``resource``'s entry."""
    return str(next(e["fullUrl"] for e in bundle["entry"] if e["resource"] is resource))


def ext(resource: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The carecoord extensions called ``name`` on ``resource``."""
    return [e for e in resource.get("extension", []) if e["url"] == EXTENSION_BASE + name]


@pytest.fixture(scope="module")
def bundle() -> dict[str, Any]:
    return export_bundle(rich_record(), include_audit=True)


ALL_TYPES = [
    "Patient",
    "RelatedPerson",
    "RelatedPerson",
    "Practitioner",
    "PractitionerRole",
    "Practitioner",
    "PractitionerRole",
    "CareTeam",
    "ClinicalImpression",
    "Condition",
    "CarePlan",
    "Goal",
    "Task",
    "Task",
    "ServiceRequest",
    "Task",
    "Appointment",
    "Condition",
    "Basic",
    "Communication",
    "Consent",
    "Consent",
    "Organization",
    "Observation",
    "Observation",
    "AuditEvent",
    "AuditEvent",
]


def test_bundle_holds_every_resource_type_in_record_order(bundle: dict[str, Any]) -> None:
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "collection"
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == ALL_TYPES
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(set(urls)) == len(urls)
    assert all(u.startswith("urn:uuid:") for u in urls)


def test_bundle_is_valid_r4_and_every_code_is_in_its_value_set(bundle: dict[str, Any]) -> None:
    validate_r4(bundle)
    assert check_bundle(bundle) == ()


@pytest.mark.parametrize("rtype", sorted(set(ALL_TYPES)))
def test_each_resource_type_validates_with_its_own_model(
    bundle: dict[str, Any], rtype: str
) -> None:
    found = resources(bundle, rtype)
    assert found
    for resource in found:
        validate_resource(resource)
        assert check_resource(resource) == ()


def test_the_validators_catch_broken_resources(bundle: dict[str, Any]) -> None:
    task = json.loads(json.dumps(one(bundle, "Task", "int-1")))
    task["status"] = "done"
    assert check_resource(task) == ("Task.status: code not in value set task-status",)
    validate_resource(task)  # fhir.resources does not check codes ...
    task["restriction"]["period"]["ends"] = task["restriction"]["period"].pop("end")
    with pytest.raises(ValueError, match="ends"):  # ... but it does check structure
        validate_resource(task)
    broken = json.loads(json.dumps(bundle))
    broken["entry"][12]["resource"] = task
    with pytest.raises(ValueError, match=r"entry\.12\.resource\.restriction\.period\.ends"):
        validate_r4(broken)  # also inside a Bundle
    goal = json.loads(json.dumps(one(bundle, "Goal", "goal-1")))
    goal["achievementStatus"]["coding"][0]["code"] = "great"
    assert check_resource(goal) == (
        "Goal.achievementStatus.coding[0]: code not in "
        "http://terminology.hl7.org/CodeSystem/goal-achievement",
    )
    goal["priority"]["coding"][0]["system"] = "http://example.org/mine"
    assert "Goal.priority.coding[0]: unknown code system" in check_resource(goal)


def test_export_is_deterministic() -> None:
    a = export_bundle(rich_record(), include_audit=True)
    b = export_bundle(rich_record(), include_audit=True)
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_patient_and_related_people(bundle: dict[str, Any]) -> None:
    patient = one(bundle, "Patient", "patient-1")
    assert patient["id"] == "patient-1"
    assert patient["identifier"] == [
        {"system": "https://carecoord.dev/fhir/id/patient", "value": "patient-1"},
        {"system": "urn:oid:1.2.3", "value": "MRN-9"},
    ]
    assert patient["birthDate"] == "1950-04-05"
    assert patient["name"] == [{"family": "Doe", "given": ["Pat", "Q"]}]
    assert patient["communication"][0]["language"]["coding"] == [
        {"system": "urn:ietf:bcp:47", "code": "es-MX"}
    ]
    assert patient["telecom"][0] == {"system": "phone", "value": "555-0100"}
    assert patient["telecom"][1]["system"] == "other"
    assert ext(patient, "time-zone") == [
        {"url": EXTENSION_BASE + "time-zone", "valueString": "America/Chicago"}
    ]
    spouse, carer = resources(bundle, "RelatedPerson")
    assert spouse["patient"]["reference"] == full_url(bundle, patient)
    assert spouse["relationship"][0]["coding"] == [
        {"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode", "code": "SPS"}
    ]
    assert carer["relationship"][0]["coding"][0]["system"] == (
        "https://carecoord.dev/fhir/CodeSystem/contact-relationship"
    )


def test_task_due_date_is_restriction_period_end_with_its_zone(bundle: dict[str, Any]) -> None:
    task = one(bundle, "Task", "int-1")
    assert task["id"] == "int-1"
    assert task["status"] == "in-progress"
    assert task["intent"] == "plan"
    assert task["priority"] == "urgent"
    assert task["restriction"] == {"period": {"end": "2026-11-05T17:00:00-06:00", "_end": ZONE_EXT}}
    assert task["authoredOn"] == "2026-11-02T09:00:00-06:00"
    assert task["owner"]["identifier"] == {
        "system": "https://carecoord.dev/fhir/id/staff",
        "value": "staff-1",
    }
    [step] = ext(task, "status-history")
    assert step["extension"][0] == {
        "url": "from",
        "valueCoding": {"system": "http://hl7.org/fhir/task-status", "code": "ready"},
    }
    assert step["extension"][1]["valueCoding"]["code"] == "in-progress"


def test_ids_that_are_not_fhir_ids_get_a_uuid_and_keep_the_identifier(
    bundle: dict[str, Any],
) -> None:
    task = one(bundle, "Task", "int_2")
    assert task["id"] != "int_2"
    assert len(task["id"]) == 36
    assert task["restriction"]["period"]["start"] == "2026-11-02T09:00:00-06:00"
    assert "end" in task["restriction"]["period"]
    plan = one(bundle, "CarePlan", "plan-1")
    assert [a["reference"]["reference"] for a in plan["activity"]] == [
        full_url(bundle, one(bundle, "Task", "int-1")),
        full_url(bundle, task),
    ]


def test_goal_lifecycle_achievement_and_targets(bundle: dict[str, Any]) -> None:
    goal = one(bundle, "Goal", "goal-1")
    assert goal["lifecycleStatus"] == "active"
    # hba1c improves, weight has no reading yet: the worse of the two is in-progress
    assert goal["achievementStatus"]["coding"] == [
        {"system": "http://terminology.hl7.org/CodeSystem/goal-achievement", "code": "in-progress"}
    ]
    assert goal["target"][0] == {
        "measure": {"text": "hba1c"},
        "detailQuantity": {"value": 7.0, "unit": "%", "comparator": "<"},
        "dueDate": "2027-03-01",
    }
    assert goal["target"][1]["detailRange"] == {
        "low": {"value": 60.0, "unit": "kg"},
        "high": {"value": 80.0, "unit": "kg"},
    }
    assert goal["addresses"][0]["reference"] == full_url(bundle, one(bundle, "Condition", "need-1"))
    readings = resources(bundle, "Observation")
    assert [r["reference"] for r in goal["outcomeReference"]] == [
        full_url(bundle, r) for r in readings
    ]
    assert not ext(goal, "progress-reading")  # the form of Bundles written before


def test_referral_is_a_service_request_plus_task(bundle: dict[str, Any]) -> None:
    sr = one(bundle, "ServiceRequest", "ref-1")
    task = one(bundle, "Task", "ref-1")
    assert sr["status"] == "completed"
    assert sr["intent"] == "order"
    [food_bank] = resources(bundle, "Organization")
    assert sr["performer"] == [
        {"reference": full_url(bundle, food_bank), "type": "Organization", "display": "Food bank"}
    ]
    assert task["owner"] == sr["performer"][0]
    assert task["focus"]["reference"] == full_url(bundle, sr)
    assert task["status"] == "completed"
    assert task["businessStatus"]["coding"] == [
        {
            "system": "https://carecoord.dev/fhir/CodeSystem/referral-status",
            "code": "result-received",
        }
    ]
    assert task["output"][0]["valueString"] == "Enrolled in weekly pantry"
    assert len(ext(task, "status-history")) == 5


def test_needs_barriers_and_assessment(bundle: dict[str, Any]) -> None:
    need = one(bundle, "Condition", "need-1")
    assert need["clinicalStatus"]["coding"][0]["code"] == "active"
    assert need["code"] == {
        "text": "Blood sugar above target",
        "coding": [{"system": "http://snomed.info/sct", "code": "44054006"}],
    }
    barrier = one(bundle, "Condition", "barrier-1")
    assert barrier["clinicalStatus"]["coding"][0]["code"] == "resolved"
    assert barrier["category"][0]["coding"][0]["code"] == "barrier"
    impression = one(bundle, "ClinicalImpression", "assessment-1")
    assert impression["problem"][0]["reference"] == full_url(bundle, need)
    assert impression["finding"][1]["extension"][2] == {
        "url": EXTENSION_BASE + "code-text",
        "valueString": "free text code",
    }


def test_consents_decisions_notes_reviews_and_audit(bundle: dict[str, Any]) -> None:
    decision, consent = resources(bundle, "Consent")
    assert decision["scope"]["coding"][0]["code"] == "treatment"
    # declined: the treatment consent offered to the patient was rejected (ppc-1: policyRule)
    assert decision["status"] == "rejected"
    assert decision["policyRule"] == {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]
    }
    assert "provision" not in decision
    assert not [e for e in decision["extension"] if e["url"].endswith("/decision-outcome")]
    assert consent["scope"]["coding"][0]["code"] == "patient-privacy"
    assert consent["status"] == "inactive"
    assert consent["provision"]["code"] == [{"text": "appointments"}, {"text": "care-plan"}]
    note = one(bundle, "Communication", "note-1")
    assert note["status"] == "completed"
    assert [c["code"] for c in note["medium"][0]["coding"]] == ["PHONE", "phone"]
    assert [r["type"] for r in note["recipient"]] == ["RelatedPerson", "Practitioner"]
    review = one(bundle, "Basic", "review-1")
    assert review["created"] == "2026-12-02"
    first, second = resources(bundle, "AuditEvent")
    assert (first["action"], first["outcome"]) == ("R", "0")
    assert (second["action"], second["outcome"], second["outcomeDesc"]) == (
        "U",
        "4",
        "AccessDeniedError",
    )
    assert "identifier" not in first


AUDIT_ID_SYSTEM = "https://carecoord.dev/fhir/id/audit-entry"
SEALING = ("audit-sequence", "audit-previous-hash", "audit-hash", "audit-sealed-at")


def test_audit_events_carry_the_entry_id_and_its_sealing(bundle: dict[str, Any]) -> None:
    sealed, unsealed = resources(bundle, "AuditEvent")
    for event, entry in ((sealed, AUDIT_SEALED), (unsealed, AUDIT_UNSEALED)):
        assert event["id"] == entry.id  # a valid FHIR id is kept
        assert ext(event, "audit-id") == [
            {
                "url": EXTENSION_BASE + "audit-id",
                "valueIdentifier": {"system": AUDIT_ID_SYSTEM, "value": entry.id},
            }
        ]
    assert AUDIT_SEALED.hash is not None
    assert [e["url"].removeprefix(EXTENSION_BASE) for e in sealed["extension"]] == [
        "audit-id",
        "audit-operation",
        *SEALING,
        "audit-entity",
    ]
    assert ext(sealed, "audit-sequence")[0]["valuePositiveInt"] == 1
    assert ext(sealed, "audit-previous-hash")[0]["valueString"] == GENESIS_HASH
    assert ext(sealed, "audit-hash")[0]["valueString"] == AUDIT_SEALED.hash
    # the sealing time keeps its zone, like every other datetime
    assert ext(sealed, "audit-sealed-at")[0]["extension"] == [
        {"url": "dateTime", "valueDateTime": "2026-11-02T09:05:00-06:00"},
        {"url": "zone", "valueString": "America/Chicago"},
    ]
    # an unsealed entry simply has no sealing extensions
    assert not [name for name in SEALING if ext(unsealed, name)]


def test_an_audit_id_that_is_not_a_fhir_id_gets_a_uuid_and_keeps_the_id() -> None:
    legacy = attrs.evolve(AUDIT_UNSEALED, id="legacy:audit_7")
    record = attrs.evolve(rich_record(), audit_entries=(AUDIT_SEALED, legacy))
    bundle = export_bundle(record, include_audit=True)
    event = resources(bundle, "AuditEvent")[1]
    assert event["id"] != legacy.id
    assert full_url(bundle, event) == "urn:uuid:" + event["id"]
    assert ext(event, "audit-id")[0]["valueIdentifier"]["value"] == "legacy:audit_7"
    validate_resource(event)
    assert export_bundle(record, include_audit=True) == bundle


def test_audit_only_when_asked() -> None:
    kinds = {e["resource"]["resourceType"] for e in export_bundle(rich_record())["entry"]}
    assert "AuditEvent" not in kinds


def test_record_rejects_entities_of_another_patient() -> None:
    record = rich_record()
    stranger = attrs.evolve(record.notes[0], patient_id=PatientId("someone-else"))
    with pytest.raises(ValidationError, match="belongs to another patient"):
        attrs.evolve(record, notes=(stranger,))
    with pytest.raises(ValidationError, match="duplicate ids"):
        attrs.evolve(record, notes=(record.notes[0], record.notes[0]))


def test_core_does_not_import_fhir_and_fhir_needs_no_fhir_library() -> None:
    code = (
        "import sys, carecoord\n"
        "assert 'carecoord.fhir' not in sys.modules\n"
        "import carecoord.fhir\n"
        "assert not [m for m in sys.modules if m == 'fhir' or m.startswith('fhir.')]\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
