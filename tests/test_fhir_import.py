"""FHIR R4 import: round trip, typed path-named errors for bad Bundles, all-or-nothing saving."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carecoord import (
    CareCoordError,
    ConflictError,
    FhirImportError,
    Note,
    NotFoundError,
    StructureError,
)
from carecoord.fhir import (
    EXTENSION_BASE,
    ImportedRecord,
    PatientRecord,
    export_bundle,
    import_bundle,
    save_imported,
)
from carecoord.storage import RECORD_TYPES, MemoryStore, UnitOfWork
from test_fhir_export import AUDIT_SEALED, AUDIT_UNSEALED, rich_record
from test_fhir_roundtrip import exact

Bundle = dict[str, Any]

# entry positions in the rich record's Bundle (see ALL_TYPES in test_fhir_export)
PATIENT, CARE_TEAM, CARE_PLAN, GOAL, TASK, APPOINTMENT, COMMUNICATION = 0, 7, 10, 11, 12, 16, 19
SEALED, UNSEALED = 25, 26  # AuditEvents (after the Organization and the two Observations)
# the sealed AuditEvent's extensions: audit-id, audit-operation, audit-sequence,
# audit-previous-hash, audit-hash, audit-sealed-at, audit-entity
SEQ_EXT, HASH_EXT, SEALED_AT_EXT = 2, 4, 5


@pytest.fixture
def bundle() -> Bundle:
    return copy.deepcopy(_BUNDLE)


_BUNDLE = export_bundle(rich_record(), include_audit=True)
END = len(_BUNDLE["entry"])  # where an appended entry goes


def res(bundle: Bundle, index: int) -> dict[str, Any]:
    resource: dict[str, Any] = bundle["entry"][index]["resource"]
    return resource


def import_error(bundle: Any) -> FhirImportError:
    with pytest.raises(FhirImportError) as info:
        import_bundle(bundle)
    return info.value


def import_error_strict(bundle: Any) -> FhirImportError:
    with pytest.raises(FhirImportError) as info:
        import_bundle(bundle, strict=True)
    return info.value


# ------------------------------------------------------------------ round trip


def test_rich_record_round_trips_exactly(bundle: Bundle) -> None:
    imported = import_bundle(json.loads(json.dumps(bundle)))
    assert isinstance(imported, ImportedRecord)
    assert imported.record == rich_record()
    assert exact(imported.record) == exact(rich_record())
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        imported.record = rich_record()  # type: ignore[misc]


def test_imported_record_lists_every_object_to_store(bundle: Bundle) -> None:
    objects = import_bundle(bundle).objects()
    kinds = [type(o).__name__ for o in objects]
    assert kinds == [
        "StaffMember",
        "StaffMember",
        "Patient",
        "CareTeam",
        "Assessment",
        "CarePlan",
        "Referral",
        "Appointment",
        "Barrier",
        "Review",
        "Note",
        "PatientDecision",
        "Consent",
        "AuditEntry",
        "AuditEntry",
    ]


def test_a_foreign_bundle_without_carecoord_identifiers_imports() -> None:
    foreign = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": "https://example.org/fhir/Patient/p9",
                "resource": {
                    "resourceType": "Patient",
                    "id": "p9",
                    "name": [{"family": "X"}],
                    "birthDate": "1970-01-01",
                },
            },
            {
                "resource": {
                    "resourceType": "CarePlan",
                    "id": "cp1",
                    "status": "active",
                    "intent": "plan",
                    "title": "T",
                    "subject": {"reference": "Patient/p9"},
                    "author": {
                        "identifier": {
                            "system": "https://carecoord.dev/fhir/id/staff",
                            "value": "s1",
                        }
                    },
                    "created": "2026-01-01T00:00:00Z",
                }
            },
        ],
    }
    record = import_bundle(foreign).record
    assert record.patient.id == "p9"
    assert record.patient.time_zone == "UTC"
    [plan] = record.plans
    assert (plan.id, plan.patient_id, plan.author_id) == ("cp1", "p9", "s1")
    assert plan.created_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert plan.status.value == "active"


# ------------------------------------------------------------------ bad input


def test_error_is_typed_and_names_resource_and_element_path(bundle: Bundle) -> None:
    res(bundle, TASK)["restriction"]["period"]["end"] = "2026-11-05T17:00:00"
    error = import_error(bundle)
    assert isinstance(error, StructureError)
    assert isinstance(error, CareCoordError)
    path = "Bundle.entry[12].resource(Task/int-1).restriction.period.end"
    assert str(error) == f"{path}: naive datetime"
    assert error.path == path
    assert error.paths == (path,)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda b: res(b, TASK).__setitem__("authoredOn", "2026-11"),
            "Bundle.entry[12].resource(Task/int-1).authoredOn: "
            "partial dateTime (a time with offset is required)",
        ),
        (
            lambda b: res(b, TASK).__setitem__("authoredOn", "yesterday"),
            "Bundle.entry[12].resource(Task/int-1).authoredOn: not a FHIR dateTime",
        ),
        (
            lambda b: res(b, TASK)["restriction"]["period"]["_end"]["extension"][0].__setitem__(
                "valueString", "Mars/Olympus_Mons"
            ),
            "Bundle.entry[12].resource(Task/int-1).restriction.period.end: "
            "invalid dateTime or unknown time zone",
        ),
        (
            lambda b: res(b, GOAL)["target"][0].__setitem__("dueDate", "2027-03"),
            "Bundle.entry[11].resource(Goal/goal-1).target[0].dueDate: "
            "expected a full date (YYYY-MM-DD)",
        ),
    ],
    ids=["partial", "not-a-datetime", "unknown-zone", "partial-date"],
)
def test_bad_dates(bundle: Bundle, change: Callable[[Bundle], None], message: str) -> None:
    change(bundle)
    assert str(import_error(bundle)) == message


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda b: res(b, TASK).__setitem__("status", "done"),
            "Bundle.entry[12].resource(Task/int-1).status: code not in value set task-status",
        ),
        (
            lambda b: res(b, CARE_PLAN).__setitem__("intent", "wish"),
            "Bundle.entry[10].resource(CarePlan/plan-1).intent: "
            "code not in value set care-plan-intent",
        ),
        (
            lambda b: res(b, GOAL)["achievementStatus"]["coding"][0].__setitem__("code", "great"),
            "Bundle.entry[11].resource(Goal/goal-1).achievementStatus.coding[0].code: "
            "code not supported for GoalAchievementStatus",
        ),
        (
            lambda b: res(b, APPOINTMENT).__setitem__("status", "maybe"),
            "Bundle.entry[16].resource(Appointment/appt-1).status: "
            "code not in value set appointmentstatus",
        ),
        (
            lambda b: res(b, COMMUNICATION).__setitem__("status", "sent"),
            "Bundle.entry[19].resource(Communication/note-1).status: "
            "code not in value set event-status",
        ),
        (
            lambda b: res(b, GOAL)["target"][0]["detailQuantity"].__setitem__("comparator", "~"),
            "Bundle.entry[11].resource(Goal/goal-1).target[0].detailQuantity.comparator: "
            "code not in value set quantity-comparator",
        ),
        (
            lambda b: b.__setitem__("type", "pile"),
            "Bundle.type: code not in value set bundle-type",
        ),
    ],
    ids=[
        "task-status",
        "plan-intent",
        "achievement",
        "appointment",
        "communication",
        "cmp",
        "bundle",
    ],
)
def test_wrong_codes(bundle: Bundle, change: Callable[[Bundle], None], message: str) -> None:
    change(bundle)
    assert str(import_error(bundle)) == message


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda b: res(b, PATIENT).__setitem__("birthDate", 19500405),
            "Bundle.entry[0].resource(Patient/patient-1).birthDate: expected a date string",
        ),
        (
            lambda b: res(b, TASK).__setitem__("description", ["Teach"]),
            "Bundle.entry[12].resource(Task/int-1).description: expected a string",
        ),
        (
            lambda b: res(b, CARE_PLAN).__setitem__("goal", {"reference": "x"}),
            "Bundle.entry[10].resource(CarePlan/plan-1).goal: expected an array",
        ),
        (
            lambda b: res(b, GOAL)["target"][0]["detailQuantity"].__setitem__("value", "7"),
            "Bundle.entry[11].resource(Goal/goal-1).target[0].detailQuantity.value: "
            "expected a number",
        ),
        (
            lambda b: res(b, TASK).__setitem__("status", 3),
            "Bundle.entry[12].resource(Task/int-1).status: expected a code",
        ),
        (
            lambda b: b["entry"].__setitem__(3, "Practitioner"),
            "Bundle.entry[3]: expected a JSON object",
        ),
        (
            lambda b: res(b, CARE_TEAM)["extension"][0].pop("url"),
            "Bundle.entry[7].resource(CareTeam/team-1).extension[0].url: extension without a url",
        ),
        (
            lambda b: res(b, PATIENT).__setitem__("id", "not valid!"),
            "Bundle.entry[0].resource(Patient).id: not a valid FHIR id",
        ),
    ],
    ids=["date-number", "string-list", "array", "number", "code-number", "entry", "url", "id"],
)
def test_wrong_types(bundle: Bundle, change: Callable[[Bundle], None], message: str) -> None:
    change(bundle)
    assert str(import_error(bundle)) == message


def _sealed_path(suffix: str = "") -> str:
    return f"Bundle.entry[{SEALED}].resource(AuditEvent/{AUDIT_SEALED.id}){suffix}"


def _drop_ext(resource: dict[str, Any], name: str) -> None:
    resource["extension"] = [e for e in resource["extension"] if e["url"] != EXTENSION_BASE + name]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda b: _drop_ext(res(b, SEALED), "audit-hash"),
            _sealed_path(".extension: incomplete audit sealing extensions (audit-hash missing)"),
        ),
        (
            lambda b: _drop_ext(res(b, SEALED), "audit-sequence"),
            _sealed_path(
                ".extension: incomplete audit sealing extensions (audit-sequence missing)"
            ),
        ),
        (
            lambda b: res(b, UNSEALED)["extension"].append(res(b, SEALED)["extension"][SEQ_EXT]),
            f"Bundle.entry[{UNSEALED}].resource(AuditEvent/{AUDIT_UNSEALED.id}).extension: "
            "incomplete audit sealing extensions "
            "(audit-previous-hash, audit-hash, audit-sealed-at missing)",
        ),
        (
            lambda b: res(b, SEALED)["extension"].append(res(b, SEALED)["extension"][HASH_EXT]),
            _sealed_path(".extension[7]: extension may occur only once"),
        ),
        (
            lambda b: res(b, SEALED)["extension"][SEQ_EXT].__setitem__("valuePositiveInt", 0),
            _sealed_path(".extension[2].valuePositiveInt: expected a positive integer"),
        ),
        (
            lambda b: res(b, SEALED)["extension"][SEQ_EXT].__setitem__("valuePositiveInt", True),
            _sealed_path(".extension[2].valuePositiveInt: expected a positive integer"),
        ),
        (
            lambda b: res(b, SEALED)["extension"].__setitem__(
                SEQ_EXT, {"url": EXTENSION_BASE + "audit-sequence", "valueString": "\u0661"}
            ),
            _sealed_path(".extension[2].valueString: expected a positive integer"),
        ),
        (
            lambda b: res(b, SEALED)["extension"][HASH_EXT].__setitem__("valueString", "A" * 64),
            _sealed_path(".extension[4].valueString: expected 64 lowercase hex digits"),
        ),
        (
            lambda b: res(b, SEALED)["extension"][SEALED_AT_EXT]["extension"][0].__setitem__(
                "valueDateTime", "2026-11-02T09:05:00"
            ),
            _sealed_path(".extension[5].extension[0].valueDateTime: naive datetime"),
        ),
        (
            lambda b: res(b, SEALED)["extension"][0]["valueIdentifier"].__setitem__(
                "system", "urn:ietf:rfc:3986"
            ),
            _sealed_path(
                ".extension[0].valueIdentifier.system: expected an audit-entry identifier"
            ),
        ),
    ],
    ids=[
        "no-hash",
        "no-sequence",
        "half-sealed",
        "twice",
        "sequence-zero",
        "sequence-boolean",
        "sequence-not-ascii",
        "hash",
        "sealed-at",
        "id-system",
    ],
)
def test_inconsistent_audit_sealing_is_rejected(
    bundle: Bundle, change: Callable[[Bundle], None], message: str
) -> None:
    change(bundle)
    assert str(import_error(bundle)) == message


def test_an_audit_event_without_the_id_extension_takes_its_fhir_id(bundle: Bundle) -> None:
    _drop_ext(res(bundle, UNSEALED), "audit-id")
    assert import_bundle(bundle).record == rich_record()
    del res(bundle, UNSEALED)["id"]
    # no id: a transaction's new resource, named by its urn:uuid fullUrl
    uuid = bundle["entry"][UNSEALED]["fullUrl"].removeprefix("urn:uuid:")
    imported = import_bundle(bundle)
    assert imported.record.audit_entries[1].id == uuid
    [default] = imported.report.defaulted
    assert default.path == f"Bundle.entry[{UNSEALED}].resource(AuditEvent/{uuid}).id"
    assert default.value == uuid
    with pytest.raises(FhirImportError, match="strict import: a default would be applied"):
        import_bundle(bundle, strict=True)
    del bundle["entry"][UNSEALED]["fullUrl"]
    assert str(import_error(bundle)) == (
        f"Bundle.entry[{UNSEALED}].resource(AuditEvent).extension: "
        "required extension audit-id missing and no id"
    )


def test_unknown_resource_type(bundle: Bundle) -> None:
    # an R4 resource carecoord does not read is reported as dropped (rejected when strict)
    bundle["entry"].append({"resource": {"resourceType": "Encounter", "id": "e-1"}})
    imported = import_bundle(bundle)
    assert imported.record == rich_record()
    assert [(d.path, d.reason) for d in imported.report.dropped] == [
        (f"Bundle.entry[{END}].resource(Encounter/e-1)", "resource type Encounter is not imported")
    ]
    with pytest.raises(FhirImportError) as info:
        import_bundle(bundle, strict=True)
    assert str(info.value) == (
        f"Bundle.entry[{END}].resource(Encounter/e-1): strict import: the element would be "
        "dropped (resource type Encounter is not imported)"
    )
    for name in ("<script>", "JaneDoe"):  # not R4: rejected, and only R4 type names are echoed
        bundle["entry"][END] = {"resource": {"resourceType": name, "id": "o-1"}}
        assert str(import_error(bundle)) == (
            f"Bundle.entry[{END}].resource(?).resourceType: unsupported resource type"
        )


def test_missing_reference(bundle: Bundle) -> None:
    del bundle["entry"][GOAL]  # the plan's goal is no longer in the Bundle
    assert str(import_error(bundle)) == (
        "Bundle.entry[10].resource(CarePlan/plan-1).goal[0].reference: "
        "missing reference (target not in the Bundle)"
    )


def test_dangling_literal_reference(bundle: Bundle) -> None:
    res(bundle, TASK)["owner"]["reference"] = "urn:uuid:00000000-0000-0000-0000-000000000000"
    assert str(import_error(bundle)) == (
        "Bundle.entry[12].resource(Task/int-1).owner.reference: "
        "missing reference (target not in the Bundle)"
    )


def test_reference_to_the_wrong_type_or_patient(bundle: Bundle) -> None:
    plan = res(bundle, CARE_PLAN)
    plan["subject"]["reference"] = bundle["entry"][3]["fullUrl"]  # a Practitioner
    assert str(import_error(bundle)) == (
        "Bundle.entry[10].resource(CarePlan/plan-1).subject.reference: "
        "reference to the wrong resource type (expected Patient)"
    )
    plan["subject"] = {
        "identifier": {"system": "https://carecoord.dev/fhir/id/patient", "value": "p2"}
    }
    assert str(import_error(bundle)) == (
        "Bundle.entry[10].resource(CarePlan/plan-1).subject: refers to another patient"
    )
    plan["subject"] = {"display": "somebody"}
    assert str(import_error(bundle)) == (
        "Bundle.entry[10].resource(CarePlan/plan-1).subject: "
        "reference has neither a target nor an identifier"
    )


def test_not_a_bundle_and_patient_count() -> None:
    assert str(import_error("Patient")) == "Bundle: expected a JSON object"
    assert str(import_error([])) == "resources: expected exactly one Patient"
    assert str(import_error({"resourceType": "Patient"})) == (
        "resource(Patient).identifier: no patient identifier and no id"
    )
    assert str(import_error({"resourceType": "JaneDoe"})) == (
        "Bundle.resourceType: expected a Bundle or a FHIR resource"
    )
    empty = {"resourceType": "Bundle", "type": "collection", "entry": []}
    assert str(import_error(empty)) == "Bundle.entry: expected exactly one Patient"
    two = copy.deepcopy(_BUNDLE)
    second = copy.deepcopy(two["entry"][PATIENT])
    second["fullUrl"] = "urn:uuid:11111111-1111-1111-1111-111111111111"
    second["resource"]["id"] = "patient-2"
    two["entry"].append(second)
    assert str(import_error(two)) == "Bundle.entry: expected exactly one Patient"


def test_resource_outside_the_record_is_dropped_or_rejected_when_strict(bundle: Bundle) -> None:
    orphan = copy.deepcopy(bundle["entry"][TASK])
    orphan["fullUrl"] = "urn:uuid:22222222-2222-2222-2222-222222222222"
    orphan["resource"]["id"] = "int-9"
    orphan["resource"]["identifier"][0]["value"] = "int-9"
    bundle["entry"].append(orphan)
    imported = import_bundle(bundle)
    assert imported.record == rich_record()
    [dropped] = imported.report.dropped
    assert dropped.path == f"Bundle.entry[{END}].resource(Task/int-9)"
    assert dropped.reason.startswith("a Task no CarePlan in the input lists")
    assert str(import_error_strict(bundle)) == (
        f"Bundle.entry[{END}].resource(Task/int-9): strict import: the element would be dropped "
        "(a Task no CarePlan in the input lists and that fulfils no ServiceRequest)"
    )


def test_model_rules_are_reported_at_the_resource(bundle: Bundle) -> None:
    team = res(bundle, CARE_TEAM)
    lead = next(e for e in team["extension"] if e["url"] == EXTENSION_BASE + "care-team-lead")
    lead["valueReference"] = {
        "identifier": {"system": "https://carecoord.dev/fhir/id/staff", "value": "staff-9"}
    }
    assert str(import_error(bundle)) == (
        "Bundle.entry[7].resource(CareTeam/team-1): not a valid carecoord record: "
        "CareTeam.lead_id must be a member of the team"
    )


def test_errors_never_echo_values(bundle: Bundle) -> None:
    secret = "Jane Secret-Name 1950"
    cases: list[Callable[[Bundle], None]] = [
        lambda b: res(b, PATIENT).__setitem__("birthDate", secret),
        lambda b: res(b, TASK)["restriction"]["period"].__setitem__("end", secret),
        lambda b: res(b, TASK).__setitem__("status", secret),
        lambda b: res(b, PATIENT)["name"][0].__setitem__("family", [secret]),
        lambda b: res(b, TASK)["owner"].__setitem__("reference", secret),
        lambda b: res(b, SEALED)["extension"][HASH_EXT].__setitem__("valueString", secret),
        lambda b: res(b, SEALED)["extension"][SEQ_EXT].__setitem__("valuePositiveInt", secret),
    ]
    for change in cases:
        broken = copy.deepcopy(_BUNDLE)
        change(broken)
        message = str(import_error(broken))
        assert "Secret" not in message
        assert "1950" not in message


# ------------------------------------------------------------- all or nothing


def snapshot(store: MemoryStore) -> dict[str, list[tuple[str, int, str]]]:
    return {
        kind: [(r.id, r.version, r.payload) for r in store.read_all(kind)] for kind in RECORD_TYPES
    }


def test_save_imported_writes_everything_in_one_unit_of_work(bundle: Bundle) -> None:
    store = MemoryStore()
    imported = import_bundle(bundle)
    save_imported(store, imported)
    loaded = PatientRecord.from_store(store, "patient-1")
    assert loaded == attrs.evolve(rich_record(), audit_entries=())
    assert export_bundle(loaded) == export_bundle(rich_record())
    # audit entries only when asked (into an archive store)
    archive = MemoryStore()
    save_imported(archive, imported, include_audit=True)
    assert PatientRecord.from_store(archive, "patient-1", include_audit=True) == rich_record()


def test_saving_twice_writes_nothing_the_second_time(bundle: Bundle) -> None:
    store = MemoryStore()
    first = save_imported(store, import_bundle(bundle))
    assert first.writes == len(first.created) == 13  # 2 staff, the patient, 10 entities
    before = snapshot(store)
    again = save_imported(store, import_bundle(copy.deepcopy(bundle)))
    assert (again.writes, again.created, again.updated) == (0, (), ())
    assert sorted(again.unchanged) == sorted(first.created)
    assert snapshot(store) == before


def test_a_changed_record_conflicts_unless_updating(bundle: Bundle) -> None:
    store = MemoryStore()
    save_imported(store, import_bundle(bundle))
    before = snapshot(store)
    res(bundle, COMMUNICATION)["payload"][0]["contentString"] = "Called back: all fine"
    changed = import_bundle(bundle)
    with pytest.raises(ConflictError, match="Note note-1 already exists"):
        save_imported(store, changed)
    assert snapshot(store) == before
    result = save_imported(store, changed, update=True)
    assert (result.updated, result.created) == ((("Note", "note-1"),), ())
    [note] = PatientRecord.from_store(store, "patient-1").notes
    assert note.summary == "Called back: all fine"
    assert [r.version for r in store.read_all("Note")] == [2]


def test_a_conflict_on_the_last_object_leaves_the_store_as_it_was(bundle: Bundle) -> None:
    store = MemoryStore()
    record = import_bundle(bundle).record
    with UnitOfWork(store) as uow:  # only the note exists already, and differs
        uow.add(attrs.evolve(record.notes[0], summary="another summary"))
    before = snapshot(store)
    with pytest.raises(ConflictError):
        save_imported(store, record)
    assert snapshot(store) == before
    assert store.read_all("Patient") == []
    assert [r.id for r in store.read_all("Note")] == ["note-1"]
    assert isinstance(record.notes[0], Note)


def test_a_bad_bundle_stores_nothing(bundle: Bundle) -> None:
    store = MemoryStore()
    res(bundle, TASK)["status"] = "done"
    with pytest.raises(FhirImportError):
        save_imported(store, import_bundle(bundle))
    assert all(not rows for rows in snapshot(store).values())


def test_loading_an_unknown_patient_raises(bundle: Bundle) -> None:
    with pytest.raises(NotFoundError):
        PatientRecord.from_store(MemoryStore(), "nobody")


# ---------------------------------------------------------------------- fuzzing


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


_ALL_PATHS = [p for p in _paths(_BUNDLE) if p]
_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=True),
    st.sampled_from(["", "x", "2026-11-05T17:00:00", "2026", "urn:uuid:nope", "Task/int-1"]),
    st.just([]),
    st.just({}),
    st.just([{}]),
)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(_ALL_PATHS), _JUNK, st.booleans()), min_size=1, max_size=3)
)
def test_any_damage_gives_a_typed_error_or_a_valid_record(
    damage: list[tuple[tuple[Any, ...], Any, bool]],
) -> None:
    broken = copy.deepcopy(_BUNDLE)
    for path, junk, delete in damage:
        parent: Any = broken
        try:
            for step in path[:-1]:
                parent = parent[step]
            if delete and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = junk
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed this path
    error: FhirImportError | None = None
    imported: ImportedRecord | None = None
    try:
        imported = import_bundle(broken)
    except FhirImportError as exc:
        error = exc
    if error is not None:
        assert error.path.startswith("Bundle")
        assert str(error).startswith(error.path + ": ")
    else:
        assert imported is not None
        assert isinstance(imported.record, PatientRecord)
