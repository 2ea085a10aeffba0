"""Import of FHIR R4 as other systems write it (issue 13): Gravity SDOH, US Core, Synthea.

The inputs are our own JSON files in ``tests/fhir_examples``, written from the R4
spec, the US Core and the HL7 Gravity SDOH Clinical Care IG examples. Each imports
with the expected report (mapped, defaulted, dropped, external), standalone and in
Bundles of every type; strict mode rejects what it should; the stores take an
import all or nothing, idempotently, matched by identifier.
"""

from __future__ import annotations

import copy
import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest

from carecoord import (
    AdministrativeGender,
    CareTeamRole,
    ConflictError,
    ConsentScope,
    ConsentStatus,
    FhirImportError,
    GoalAchievementStatus,
    GoalLifecycleStatus,
    Identifier,
    ReferralStatus,
    ReferralTargetKind,
    StorageError,
)
from carecoord.fhir import (
    DEFAULT_ROLE,
    IMPORT_STAFF_ID,
    UNNAMED,
    ImportReport,
    PatientRecord,
    export_bundle,
    import_bundle,
    save_imported,
)
from carecoord.model import (
    AddressType,
    AddressUse,
    Coding,
    ConcernCategory,
    ConditionClinicalStatus,
    ConditionVerificationStatus,
    ExternalRef,
    NameUse,
)
from carecoord.storage import RECORD_TYPES, MemoryStore, RecordWrite
from carecoord.storage.sqlite import SQLiteStore

EXAMPLES = Path(__file__).parent / "fhir_examples"
GRAVITY = (
    "gravity-patient.json",
    "gravity-practitioner.json",
    "gravity-condition.json",
    "gravity-goal.json",
    "gravity-servicerequest.json",
    "gravity-task-referral.json",
    "gravity-task-patient.json",
    "gravity-consent.json",
)
BASE = "http://example.org/fhir/"
SR = "ServiceRequest/SDOHCC-ServiceRequestActiveFoodPantryApplicationAssistExample"
TASK = "Task/SDOHCC-TaskReferralManagementFoodPantryApplicationAssist"


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return data


def bundle_of(resources: Sequence[dict[str, Any]], kind: str = "collection") -> dict[str, Any]:
    """A Bundle of ``kind`` holding ``resources``, with the entry parts that kind has."""
    entries: list[dict[str, Any]] = []
    for r in resources:
        entry: dict[str, Any] = {"fullUrl": f"{BASE}{r['resourceType']}/{r['id']}", "resource": r}
        if kind in ("transaction", "batch"):
            entry["request"] = {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}
        if kind == "searchset":
            entry["search"] = {"mode": "match" if r["resourceType"] == "Patient" else "include"}
        entries.append(entry)
    if kind == "document":
        composition = {
            "resourceType": "Composition",
            "id": "doc-1",
            "status": "final",
            "type": {"text": "Referral note"},
            "date": "2021-05-04T16:00:00Z",
            "author": [{"reference": "Practitioner/SDOHCC-PractitionerDrJanWaterExample"}],
            "title": "Referral",
        }
        entries.insert(0, {"fullUrl": f"{BASE}Composition/doc-1", "resource": composition})
    out: dict[str, Any] = {"resourceType": "Bundle", "type": kind, "entry": entries}
    if kind == "document":
        out["identifier"] = {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:0c3201bd-1cbf"}
        out["timestamp"] = "2021-05-04T16:00:00Z"
    return out


def gravity(kind: str = "collection") -> dict[str, Any]:
    return bundle_of([example(n) for n in GRAVITY], kind)


def at(entry: int, resource: str) -> str:
    return f"Bundle.entry[{entry}].resource({resource})"


def defaults(report: ImportReport) -> dict[str, str | None]:
    return {d.path: d.value for d in report.defaulted}


def dropped(report: ImportReport) -> dict[str, str]:
    return {d.path: d.reason for d in report.dropped}


# ------------------------------------------------------------------- Gravity


CONDITION = "Condition/SDOHCC-ConditionFoodInsecurityExample"
GOAL = "Goal/SDOHCC-GoalFoodSecurityExample"
CONSENT = "Consent/SDOHCC-ConsentInformationDisclosureExample"
PLATFORM = "Organization/SDOHCC-OrganizationCoordinationPlatformExample"
PROCEDURE = "Procedure/SDOHCC-ProcedureFoodPantryApplicationAssistanceExample"
ROLE = "PractitionerRole/SDOHCC-PractitionerRoleDrJanWaterExample"


def test_a_gravity_bundle_imports_a_referral_and_reports_everything_else() -> None:
    imported = import_bundle(gravity())
    record, report = imported.record, imported.report
    patient = record.patient
    assert (patient.id, patient.gender, patient.language) == (
        "sdoh-pat-1",
        AdministrativeGender.FEMALE,
        "en",
    )
    assert (patient.name.family, patient.name.given, patient.name.use) == (
        "Ortiz",
        ("Maya", "Elena"),
        NameUse.OFFICIAL,
    )
    [home] = patient.addresses
    assert (home.use, home.lines, home.city, home.postal_code) == (
        AddressUse.HOME,
        ("49 Meadow St",),
        "Mounds",
        "74047",
    )
    assert patient.identifiers == (Identifier("http://hospital.example.org/fhir/mrn", "1032702"),)
    [staff] = record.staff
    assert (staff.id, staff.roles, staff.name.prefix) == (
        "SDOHCC-PractitionerDrJanWaterExample",
        (DEFAULT_ROLE,),
        ("Dr",),
    )
    [referral] = record.referrals
    assert referral.status is ReferralStatus.COMPLETED  # from the Task's status
    assert referral.service == "Assistance with application for food pantry program"
    assert (referral.requested_by, referral.target_name) == (IMPORT_STAFF_ID, UNNAMED)
    assert (referral.target_kind, referral.priority) == (ReferralTargetKind.OTHER, "routine")
    assert referral.created_at == datetime(2021, 5, 4, 16, tzinfo=UTC)
    assert referral.outcome is None
    # what refers outside the Bundle is kept: the platform, the resulting Procedure
    assert referral.target == ExternalRef(reference=PLATFORM)
    assert referral.outcome_refs == (ExternalRef(reference=PROCEDURE),)
    [concern] = record.health_concerns
    assert referral.concern_ids == (concern.id,)  # reasonReference: the Condition in the Bundle
    assert concern.codings == (
        Coding("http://snomed.info/sct", "733423003", "Food insecurity"),
        Coding("http://hl7.org/fhir/sid/icd-10-cm", "Z59.41", "Food insecurity"),
    )
    assert (concern.text, concern.categories, concern.sdoh_categories) == (
        None,  # coded without text
        (ConcernCategory.HEALTH_CONCERN,),
        ("food-insecurity",),
    )
    assert (concern.clinical_status, concern.verification_status) == (
        ConditionClinicalStatus.ACTIVE,
        ConditionVerificationStatus.UNCONFIRMED,
    )
    assert concern.onset == datetime(2019, 8, 18, 12, 31, 35, 123000, tzinfo=UTC)
    assert concern.asserted_by == "SDOHCC-PractitionerDrJanWaterExample"
    [own] = record.patient_goals  # no CarePlan lists it: the patient's own goal
    assert (own.id, own.concern_ids, own.expressed_by_patient) == (
        "SDOHCC-GoalFoodSecurityExample",
        (concern.id,),
        True,
    )
    assert (own.goal.description, own.goal.lifecycle_status, own.goal.achievement_status) == (
        "Food security",
        GoalLifecycleStatus.ACTIVE,
        GoalAchievementStatus.IN_PROGRESS,
    )
    [consent] = record.consents  # no provision: kept as given, permitting no contact
    assert (consent.scope, consent.status, consent.contact_ids, consent.policy_rule) == (
        ConsentScope.PATIENT_PRIVACY,
        ConsentStatus.ACTIVE,
        (),
        None,
    )
    assert consent.custodians == (
        ExternalRef(reference="Organization/SDOHCC-OrganizationPayerExample"),
    )
    assert (record.plans, record.barriers) == ((), ())

    sr, task = at(4, SR), at(5, TASK)
    assert defaults(report) == {
        f"{at(0, 'Patient/sdoh-pat-1')}.extension(time-zone)": "UTC",
        at(1, "Practitioner/SDOHCC-PractitionerDrJanWaterExample"): "specialist",
        f"{at(1, 'Practitioner/SDOHCC-PractitionerDrJanWaterExample')}.active": "true",
        f"{at(1, 'Practitioner/SDOHCC-PractitionerDrJanWaterExample')}.extension(time-zone)": "UTC",
        f"{at(3, GOAL)}.description.text": None,  # the SNOMED display
        f"{at(3, GOAL)}.priority": "medium-priority",
        f"{sr}.code.text": None,  # the service is the SNOMED display: not repeated
        f"{sr}.performer": UNNAMED,
        f"{sr}.performerType": "other",
        f"{sr}.priority": "routine",
        f"{sr}.requester": IMPORT_STAFF_ID,
        f"{at(7, CONSENT)}.dateTime": "T00:00:00Z",
        f"{at(7, CONSENT)}.extension(recorded-by)": IMPORT_STAFF_ID,
    }
    lost = dropped(report)
    for path, reason in {
        f"{at(0, 'Patient/sdoh-pat-1')}.meta": "resource metadata (not kept)",
        f"{at(0, 'Patient/sdoh-pat-1')}.extension[0]": "extension carecoord does not know",
        f"{sr}.code.coding[0].code": "element carecoord does not map",
        f"{sr}.supportingInfo": "element carecoord does not map",
        f"{task}.authoredOn": "the referral keeps the request's time",
        f"{task}.businessStatus": "element carecoord does not map",  # text only
        f"{at(2, CONDITION)}.evidence": "element carecoord does not map",
        f"{at(3, GOAL)}.target[0]": "a target carecoord keeps is a quantity or a range to reach",
        f"{at(7, CONSENT)}.category[0].coding[0]": "element carecoord does not map",
        f"{at(7, CONSENT)}.sourceAttachment": "element carecoord does not map",
    }.items():
        assert lost[path] == reason
    # the SDOH categories of the referral and the goal follow from the concern: taken
    assert not any(p.startswith((f"{sr}.category", f"{at(3, GOAL)}.category")) for p in lost)
    assert not any(p.startswith((f"{sr}.reasonReference", f"{task}.output")) for p in lost)
    assert lost[at(6, "Task/SDOHCC-TaskPatientMakeContactExample")].startswith("a Task no CarePlan")
    # references to what the Bundle does not hold: listed, never silently lost; kept
    # where the record has a place for them
    assert {(x.path, x.reference, x.kept) for x in report.external} == {
        (f"{sr}.requester", ROLE, False),
        (f"{sr}.performer[0]", PLATFORM, True),
        (f"{task}.requester", ROLE, False),
        (f"{task}.owner", PLATFORM, True),
        (f"{task}.output[0].valueReference", PROCEDURE, True),
        (f"{at(7, CONSENT)}.organization[0]", "Organization/SDOHCC-OrganizationPayerExample", True),
        (
            f"{at(2, CONDITION)}.evidence[0].detail[0]",
            "Observation/SDOHCC-ObservationResponseHungerVitalSignQuestion1Example",
            False,
        ),
    }
    assert [(m.resource_type, m.record_type) for m in report.mapped] == [
        ("Patient", "Patient"),
        ("Practitioner", "StaffMember"),
        ("Condition", "HealthConcern"),
        ("Goal", "PatientGoal"),
        ("ServiceRequest", "Referral"),
        ("Task", "Referral"),
        ("Consent", "Consent"),
    ]
    assert not report.clean


def test_what_a_gravity_bundle_keeps_goes_out_and_comes_back_exactly() -> None:
    imported = import_bundle(gravity())
    bundle = export_bundle(imported)
    again = import_bundle(json.loads(json.dumps(bundle)), strict=True)
    assert again.record == imported.record
    assert again.report.clean
    entries = {e["resource"]["resourceType"]: e["resource"] for e in bundle["entry"]}
    # the same references out as in: the platform (named by the referral), the Procedure
    sr, task = entries["ServiceRequest"], entries["Task"]
    assert sr["performer"] == [{"reference": PLATFORM, "display": UNNAMED}]
    assert task["owner"] == sr["performer"][0]
    assert task["output"][0]["valueReference"] == {"reference": PROCEDURE}
    assert sr["reasonReference"][0]["type"] == "Condition"
    assert entries["Consent"]["policyRule"]["coding"][0]["code"] == "UNK"  # none stated
    assert "provision" not in entries["Consent"]


@pytest.mark.parametrize("kind", ["collection", "transaction", "batch", "searchset", "document"])
def test_every_bundle_type_gives_the_same_record(kind: str) -> None:
    imported = import_bundle(gravity(kind))
    assert imported.record == import_bundle(gravity()).record
    if kind == "document":  # the Composition: a resource carecoord does not read
        assert dropped(imported.report)[at(0, "Composition/doc-1")] == (
            "resource type Composition is not imported"
        )


def test_strict_mode_rejects_a_default_or_a_drop_naming_the_path() -> None:
    with pytest.raises(FhirImportError) as info:
        import_bundle(gravity(), strict=True)
    path = f"{at(0, 'Patient/sdoh-pat-1')}.extension(time-zone)"
    assert info.value.path == path
    assert str(info.value) == f"{path}: strict import: a default would be applied (no time zone)"
    # the patient with everything carecoord would default given: the drops are next
    patient = example("gravity-patient.json")
    patient["extension"].append(
        {
            "url": "https://carecoord.dev/fhir/StructureDefinition/time-zone",
            "valueString": "America/Chicago",
        }
    )
    with pytest.raises(FhirImportError) as info:
        import_bundle(patient, strict=True)
    assert str(info.value) == (
        "resource(Patient/sdoh-pat-1).active: strict import: the element would be dropped "
        "(element carecoord does not map)"
    )
    for key in ("active", "extension", "identifier", "meta", "telecom", "text"):
        patient.pop(key)
    patient["extension"] = [
        {
            "url": "https://carecoord.dev/fhir/StructureDefinition/time-zone",
            "valueString": "America/Chicago",
        }
    ]
    strict = import_bundle(patient, strict=True)  # now exactly what carecoord keeps
    assert strict.report.clean
    assert strict.record.patient.time_zone == "America/Chicago"


# ------------------------------------------------------------ standalone, US Core


def test_a_standalone_us_core_patient_keeps_name_history_gender_address_and_identifiers() -> None:
    imported = import_bundle(example("uscore-patient.json"))
    patient = imported.record.patient
    assert (patient.name.family, patient.name.use, patient.name.suffix) == (
        "Windsor",
        NameUse.OFFICIAL,
        ("Jr",),
    )
    assert patient.name.period is not None and patient.name.period.end is None
    assert [(n.family, n.use) for n in patient.other_names] == [
        ("Chalmers", NameUse.OLD),
        ("Windsor", NameUse.NICKNAME),
        ("Marsh", NameUse.MAIDEN),
    ]
    assert patient.gender is AdministrativeGender.MALE
    assert [i.system for i in patient.identifiers] == [
        "urn:oid:1.2.36.146.595.217.0.1",
        "http://hl7.org/fhir/sid/us-ssn",
        "urn:oid:2.16.840.1.113883.4.3.25",
    ]
    [address] = patient.addresses
    assert (address.type, address.district, address.country) == (AddressType.BOTH, "Rainbow", "AU")
    assert patient.language == "en-AU"  # the preferred communication
    assert [t.channel.value for t in patient.telecom] == ["phone"]
    lost = dropped(imported.report)
    root = "resource(Patient/example-uscore)"
    assert lost[f"{root}.name[3].period"] == (
        "a period without a start (carecoord periods have one)"
    )
    assert lost[f"{root}.telecom[1]"] == "contact point system has no carecoord channel"
    assert lost[f"{root}.address[1]"].startswith("an address with no part carecoord keeps")
    assert lost[f"{root}.address[0].text"] == "element carecoord does not map"
    assert lost[f"{root}.communication[0]"] == "element carecoord does not map"
    # what the model keeps goes out and comes back exactly, with a clean report
    again = import_bundle(json.loads(json.dumps(export_bundle(imported))), strict=True)
    assert again.record == imported.record
    assert json.dumps(export_bundle(again), sort_keys=True) == json.dumps(
        export_bundle(imported), sort_keys=True
    )


def test_a_json_array_of_resources_imports_like_a_bundle() -> None:
    resources = [example(n) for n in GRAVITY]
    imported = import_bundle(resources)
    assert imported.record == import_bundle(gravity()).record
    assert imported.report.dropped[0].path.startswith("resources[")
    with pytest.raises(FhirImportError, match=r"^resources: expected exactly one Patient$"):
        import_bundle(resources[1:])


# ------------------------------------------------------------------ Synthea


def test_a_synthea_transaction_bundle_imports_with_defaults_reported() -> None:
    imported = import_bundle(example("synthea-transaction.json"))
    record, report = imported.record, imported.report
    patient = record.patient
    assert patient.id == "9d3a1b7e-5b58-4c1f-9f7b-1f8e2c3d4a5b"
    assert (patient.name.prefix, patient.language) == (("Mr.",), "en-US")
    [staff] = record.staff
    [team] = record.care_teams
    assert team.lead_id == staff.id
    assert [(m.staff_id, m.role) for m in team.members] == [(staff.id, CareTeamRole.SPECIALIST)]
    [plan] = record.plans
    assert (plan.author_id, plan.title, plan.addresses) == (IMPORT_STAFF_ID, UNNAMED, ())
    assert plan.created_at == plan.period.start if plan.period else False
    lost = dropped(report)
    for entry, rtype in ((3, "Encounter"), (7, "Procedure")):
        path = next(p for p in lost if p.startswith(f"Bundle.entry[{entry}].resource({rtype}/"))
        assert lost[path] == f"resource type {rtype} is not imported"
    path = next(p for p in lost if p.startswith("Bundle.entry[1].resource(Organization/"))
    assert lost[path] == "an Organization no referral is sent to"
    plan_path = at(6, "CarePlan/3d4e5f60-6666-4f5f-9b12-7a4d5e1f2b86")
    assert lost[f"{plan_path}.addresses[0]"] == (
        "refers to a health concern (kept on the patient): a care plan and its goals address needs"
    )
    [concern] = record.health_concerns  # the plan's Condition: kept on the patient
    assert concern.categories == (ConcernCategory.ENCOUNTER_DIAGNOSIS,)
    assert lost[f"{plan_path}.activity[0]"] == "element carecoord does not map"
    assert defaults(report)[f"{plan_path}.created"] is None  # the period's start, not repeated
    with pytest.raises(FhirImportError, match="strict import"):
        import_bundle(example("synthea-transaction.json"), strict=True)


def test_a_transaction_entry_without_a_resource_is_reported() -> None:
    data = example("synthea-transaction.json")
    data["entry"].append({"request": {"method": "DELETE", "url": "Observation/o-1"}})
    report = import_bundle(data).report
    assert dropped(report)["Bundle.entry[8]"] == (
        "entry without a resource (a request or response only)"
    )


# --------------------------------------------------------------- references


def _referral_with_requester(requester: dict[str, Any], *extra: dict[str, Any]) -> Any:
    sr = example("gravity-servicerequest.json")
    sr["requester"] = requester
    sr["contained"] = [{"resourceType": "Practitioner", "id": "p1", "name": [{"family": "In"}]}]
    resources = [example("gravity-patient.json"), example("gravity-practitioner.json"), sr]
    return import_bundle(bundle_of([*resources, *extra]))


@pytest.mark.parametrize(
    ("reference", "staff_id", "external"),
    [
        ({"reference": "Practitioner/SDOHCC-PractitionerDrJanWaterExample"}, "jan", None),
        ({"reference": f"{BASE}Practitioner/SDOHCC-PractitionerDrJanWaterExample"}, "jan", None),
        (
            {"reference": "Practitioner/SDOHCC-PractitionerDrJanWaterExample/_history/3"},
            "jan",
            None,
        ),
        ({"reference": "PractitionerRole/role-1"}, "jan", None),  # the role's practitioner
        (
            {"reference": "Practitioner/elsewhere-7"},
            "elsewhere-7",
            (True, "Practitioner/elsewhere-7"),
        ),
        (
            {"identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1"}},
            IMPORT_STAFF_ID,
            (False, None),
        ),
        (
            {"identifier": {"system": "https://carecoord.dev/fhir/id/staff", "value": "s-9"}},
            "s-9",
            (True, None),
        ),
        ({"reference": "#p1"}, IMPORT_STAFF_ID, (False, "#p1")),
        ({"reference": "Organization/org-1"}, IMPORT_STAFF_ID, (False, "Organization/org-1")),
    ],
    ids=[
        "relative",
        "absolute",
        "versioned",
        "role",
        "outside",
        "foreign-identifier",
        "carecoord-identifier",
        "contained",
        "organization",
    ],
)
def test_references_in_every_r4_form(
    reference: dict[str, Any], staff_id: str, external: tuple[bool, str | None] | None
) -> None:
    role = {
        "resourceType": "PractitionerRole",
        "id": "role-1",
        "practitioner": {"reference": "Practitioner/SDOHCC-PractitionerDrJanWaterExample"},
    }
    imported = _referral_with_requester(reference, role)
    [referral] = imported.record.referrals
    expected = "SDOHCC-PractitionerDrJanWaterExample" if staff_id == "jan" else staff_id
    assert referral.requested_by == expected
    path = f"{at(2, SR)}.requester"
    found = {x.path: (x.kept, x.reference) for x in imported.report.external}
    assert found.get(path) == external


def test_a_dangling_bundle_local_reference_is_still_an_error() -> None:
    with pytest.raises(FhirImportError) as info:
        _referral_with_requester({"reference": "urn:uuid:00000000-0000-0000-0000-000000000000"})
    assert str(info.value) == (
        f"{at(2, SR)}.requester.reference: missing reference (target not in the Bundle)"
    )


# ----------------------------------------------------- stores: idempotent, matched


def test_importing_the_same_bundle_twice_changes_nothing() -> None:
    store = MemoryStore()
    first = save_imported(store, import_bundle(gravity("transaction")))
    assert sorted(first.created) == [
        ("Consent", "SDOHCC-ConsentInformationDisclosureExample"),
        ("HealthConcern", "SDOHCC-ConditionFoodInsecurityExample"),
        ("Patient", "sdoh-pat-1"),
        ("PatientGoal", "SDOHCC-GoalFoodSecurityExample"),
        ("Referral", "SDOHCC-ServiceRequestActiveFoodPantryApplicationAssistExample"),
        ("StaffMember", "SDOHCC-PractitionerDrJanWaterExample"),
    ]
    before = _snapshot(store)
    second = save_imported(store, import_bundle(gravity("transaction")))
    assert (second.writes, second.patient_id) == (0, "sdoh-pat-1")
    assert _snapshot(store) == before


def test_a_patient_is_matched_to_the_stored_one_by_a_shared_identifier() -> None:
    store = MemoryStore()
    save_imported(store, import_bundle(gravity()))
    # the same person exported by another system: another id, the same MRN
    other = [example(n) for n in GRAVITY]
    other[0]["id"] = "their-42"
    for resource in other[1:]:
        text = json.dumps(resource).replace("Patient/sdoh-pat-1", "Patient/their-42")
        resource.clear()
        resource.update(json.loads(text))
    before = _snapshot(store)
    result = save_imported(store, import_bundle(bundle_of(other)))
    assert (result.patient_id, result.writes) == ("sdoh-pat-1", 0)
    assert _snapshot(store) == before
    # a changed address: refused, then taken with update=True, on the matched patient
    other[0]["address"][0]["line"] = ["50 Meadow St"]
    with pytest.raises(ConflictError, match="Patient sdoh-pat-1 already exists"):
        save_imported(store, import_bundle(bundle_of(other)))
    result = save_imported(store, import_bundle(bundle_of(other)), update=True)
    assert result.updated == (("Patient", "sdoh-pat-1"),)
    stored = PatientRecord.from_store(store, "sdoh-pat-1").patient
    assert stored.addresses[0].lines == ("50 Meadow St",)


def test_a_record_of_another_patient_with_the_same_id_is_never_overwritten() -> None:
    store = MemoryStore()
    save_imported(store, import_bundle(gravity()))
    stranger = [example("uscore-patient.json"), example("gravity-servicerequest.json")]
    stranger[1]["subject"] = {"reference": "Patient/example-uscore"}
    before = _snapshot(store)
    with pytest.raises(ConflictError, match="Referral SDOHCC-ServiceRequestActive"):
        save_imported(store, import_bundle(bundle_of(stranger)), update=True)
    assert _snapshot(store) == before


class _FailingMemoryStore(MemoryStore):
    """A memory store whose write fails (a disk, a network) when the batch holds a Referral."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def write(self, batch: Sequence[RecordWrite]) -> None:
        self.batches.append(len(batch))
        if any(w.kind == "Referral" for w in batch):
            raise StorageError("the store failed during the write")
        super().write(batch)


def test_a_write_failing_midway_writes_nothing_in_memory() -> None:
    store = _FailingMemoryStore()
    with pytest.raises(StorageError):
        save_imported(store, import_bundle(gravity()))
    assert store.batches == [6]  # one unit of work: staff, patient and every record together
    assert all(not rows for rows in _snapshot(store).values())


def test_a_write_failing_midway_writes_nothing_in_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "cc.db"
    store = SQLiteStore(path)
    try:
        with sqlite3.connect(path) as db:  # the Referral's row fails after the others went in
            db.execute("CREATE TABLE doomed (x INTEGER)")
            db.execute(
                "CREATE TRIGGER fail_referral BEFORE INSERT ON records "
                "WHEN NEW.kind = 'Referral' BEGIN INSERT INTO doomed VALUES (1); END"
            )
            db.execute("DROP TABLE doomed")  # the trigger now fails when it fires
        with pytest.raises(StorageError):
            save_imported(store, import_bundle(gravity()))
        assert all(not rows for rows in _snapshot(store).values())
    finally:
        store.close()


def _snapshot(store: Any) -> dict[str, list[tuple[str, int, str]]]:
    return {
        kind: [(r.id, r.version, r.payload) for r in store.read_all(kind)] for kind in RECORD_TYPES
    }


# ------------------------------------------------------------------ the report


def test_the_report_is_immutable_and_shows_no_phi() -> None:
    report = import_bundle(gravity()).report
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        report.dropped = ()  # type: ignore[misc]
    text = "\n".join([str(report), repr(report)])
    for phi in ("Ortiz", "Maya", "1987", "Meadow", "1032702", "555-555", "1122334455"):
        assert phi not in text
    logical = copy.deepcopy(example("gravity-servicerequest.json"))
    logical["requester"] = {"identifier": {"system": "urn:oid:1.2.3", "value": "MRN-SECRET"}}
    resources = [example("gravity-patient.json"), logical]
    report = import_bundle(bundle_of(resources)).report
    [outside] = [x for x in report.external if x.path.endswith(".requester")]
    assert outside.identifier_value == "MRN-SECRET"
    assert "MRN-SECRET" not in repr(report) and "MRN-SECRET" not in str(report)
