"""Every escape mutation fuzzing found, pinned: carecoord raises only CareCoordError subclasses.

Each test is one input that used to leak a builtin exception (AttributeError,
RecursionError, UnicodeDecodeError, ValueError, OverflowError) or an error
without a path; ``tests/test_fuzz.py`` keeps looking for new ones.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from carecoord import (
    CareCoordError,
    CarePlan,
    FhirImportError,
    Goal,
    GoalId,
    NaiveDatetimeError,
    Note,
    Patient,
    Quantity,
    StorageError,
    StructureError,
    Target,
    ValidationError,
    from_payload,
    loads,
    make_converter,
    to_payload,
)
from carecoord.fhir import export_bundle, import_bundle
from carecoord.model._base import ensure_aware
from carecoord.model.codes import Comparator
from carecoord.model.outbox import TimedEventMarker
from carecoord.serialization import parse_datetime, structure
from carecoord.service import CareCoordinator
from carecoord.service.tick import _stall_cutoff
from carecoord.storage import (
    MemoryStore,
    RecordWrite,
    Store,
    StoredRecord,
    WorkQuery,
    copy_store,
)
from carecoord.storage._codec import decode_record
from carecoord.storage.records import _day_end
from carecoord.testing import FixedClock
from test_fhir_export import rich_record
from world import COORD, PATIENT, PLAN, T0, make_patient, populate

SECRET = "Zebediah Quux"
FIRST = datetime.min.replace(tzinfo=UTC)
LAST = datetime.max.replace(tzinfo=UTC)
EAST = timezone(timedelta(hours=14))
WEST = timezone(timedelta(hours=-14))


def _envelope(kind: str, data: Any) -> dict[str, Any]:
    return {"type": kind, "schema_version": 1, "data": data}


# ------------------------------------------------------- payload structure


@pytest.mark.parametrize("data", [[], [SECRET], SECRET, 5, None, True])
def test_payload_data_that_is_not_an_object(data: Any) -> None:
    with pytest.raises(StructureError) as info:
        from_payload(_envelope("Note", data), Note)
    assert info.value.paths == ("$",)
    assert SECRET not in str(info.value)


def test_payload_with_an_array_where_a_part_object_belongs() -> None:
    data = to_payload(make_patient())["data"]
    data["name"] = [SECRET]
    with pytest.raises(StructureError) as info:
        from_payload(_envelope("Patient", data), Patient)
    assert info.value.paths == ("$.name",)
    assert "expected an object @ $.name" in str(info.value)
    assert SECRET not in str(info.value)


def test_payload_with_an_array_in_a_list_of_objects() -> None:
    plan = CarePlan(id=PLAN, patient_id=PATIENT, author_id=COORD, created_at=T0)
    data = to_payload(plan)["data"]
    data["goals"] = [[SECRET]]
    with pytest.raises(StructureError) as info:
        from_payload(_envelope("CarePlan", data), CarePlan)
    assert info.value.paths == ("$.goals[0]",)
    assert SECRET not in str(info.value)


def test_huge_integer_where_a_number_belongs() -> None:
    raw = make_converter().unstructure(Quantity(3, "kg"))
    raw["value"] = 10**5000
    with pytest.raises(StructureError) as info:
        structure(raw, Quantity)
    assert info.value.paths == ("$.value",)


def test_a_hook_that_fails_its_own_way_is_a_structure_error_without_its_message() -> None:
    converter = make_converter()

    def broken(raw: object, _: type) -> Quantity:
        raise RuntimeError(SECRET)

    converter.register_structure_hook(Quantity, broken)
    with pytest.raises(StructureError) as info:
        structure({"value": 1, "unit": "kg"}, Quantity, converter=converter)
    assert info.value.paths == ("$",)
    assert SECRET not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


# --------------------------------------------------------------------- loads


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[" * 50_000, "nested too deeply"),
        ('{"data":' * 5_000 + "1" + "}" * 5_000, "nested too deeply"),
        (b"\xff\xfe\xfd", "not JSON"),
        (b'{"type": "Note", "\xff": 1}', "not JSON"),
        ('{"type":"Note","schema_version":1,"data":{"x":' + "7" * 4_301 + "}}", "too long"),
    ],
    ids=["arrays", "objects", "bad-bytes", "bad-utf8-inside", "huge-int"],
)
def test_loads_rejects_what_json_cannot_read(text: str | bytes, problem: str) -> None:
    with pytest.raises(StructureError) as info:
        loads(text, Note)
    assert info.value.paths == ("$",)
    assert problem in str(info.value)
    assert "7777" not in str(info.value)  # the value is not echoed
    assert info.value.__context__ is None  # the decoder's error quotes the document


def test_loads_reads_utf8_bytes() -> None:
    plan = CarePlan(id=PLAN, patient_id=PATIENT, author_id=COORD, created_at=T0)
    text = json.dumps(to_payload(plan))
    assert loads(text.encode(), CarePlan) == plan


# ------------------------------------------------------------------ datetimes


@pytest.mark.parametrize(
    "raw",
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00+00:00[America/New_York]",
        "9999-12-31T23:59:59+00:00[Pacific/Kiritimati]",
    ],
)
def test_datetime_without_an_instant_or_a_local_time_is_a_validation_error(raw: str) -> None:
    with pytest.raises(ValidationError, match="out of range"):
        parse_datetime(raw)


def test_datetimes_at_the_ends_of_the_calendar_in_utc_still_parse() -> None:
    assert parse_datetime("0001-01-01T00:00:00+00:00") == FIRST
    assert parse_datetime("9999-12-31T23:59:59.999999+00:00") == LAST


def test_a_zone_name_too_long_for_the_file_system_is_unknown() -> None:
    with pytest.raises(ValidationError, match="unknown IANA time zone"):
        parse_datetime("2026-01-01T09:00:00+00:00[" + "a" * 300 + "]")


def test_model_datetimes_must_have_a_utc_instant() -> None:
    with pytest.raises(ValidationError) as info:
        TimedEventMarker(
            id="m-1",
            event="ReviewDue",
            subject_id="plan-1",
            at=datetime(9999, 12, 31, 23, tzinfo=WEST),
        )
    assert info.value.field == "at"
    with pytest.raises(ValidationError) as caught:
        ensure_aware(datetime(1, 1, 1, tzinfo=EAST), "now")
    assert caught.value.field == "now"
    assert not isinstance(caught.value, NaiveDatetimeError)
    assert ensure_aware(FIRST, "now") is FIRST
    assert ensure_aware(datetime(9999, 12, 31, 9, tzinfo=EAST), "now").year == 9999


# ---------------------------------------------------------------------- FHIR


def _bundle() -> dict[str, Any]:
    return copy.deepcopy(_BUNDLE)


_BUNDLE = export_bundle(rich_record(), include_audit=True)


def _entry(bundle: dict[str, Any], rtype: str, key: str) -> tuple[int, dict[str, Any]]:
    for index, entry in enumerate(bundle["entry"]):
        resource: dict[str, Any] = entry["resource"]
        if resource["resourceType"] == rtype and key in resource:
            return index, resource
    raise AssertionError(f"no {rtype} with {key}")


@pytest.mark.parametrize(
    "value",
    ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"],
)
def test_fhir_datetime_out_of_range_is_path_named(value: str) -> None:
    bundle = _bundle()
    index, note = _entry(bundle, "Communication", "sent")
    assert "_sent" in note  # the zone extension: the local time must exist too
    note["sent"] = value
    with pytest.raises(FhirImportError) as info:
        import_bundle(bundle)
    path = f"Bundle.entry[{index}].resource(Communication/{note['id']}).sent"
    assert info.value.path == path
    assert str(info.value) == f"{path}: dateTime out of range " + (
        "(before year 1 or after 9999 in UTC or its time zone)"
    )


def test_patient_identifier_that_is_not_an_id_is_path_named() -> None:
    bundle = _bundle()
    index, patient = _entry(bundle, "Patient", "identifier")
    patient["identifier"][0]["value"] = SECRET
    with pytest.raises(FhirImportError) as info:
        import_bundle(bundle)
    assert info.value.path == (
        f"Bundle.entry[{index}].resource(Patient/{patient['id']}).identifier[0].value"
    )
    assert "not a valid carecoord id" in str(info.value)
    assert SECRET not in str(info.value)


def test_reference_identifier_that_is_not_an_id_is_path_named() -> None:
    bundle = _bundle()
    index, team = _entry(bundle, "CareTeam", "participant")
    team["participant"][0]["member"] = {
        "identifier": {"system": "https://carecoord.dev/fhir/id/staff", "value": SECRET}
    }
    with pytest.raises(FhirImportError) as info:
        import_bundle(bundle)
    assert info.value.path.startswith(f"Bundle.entry[{index}].resource(CareTeam/")
    assert info.value.path.endswith(".participant[0].member.identifier.value")
    assert SECRET not in str(info.value)


def _deep(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "value",
    [10**5000, -(10**400), float("inf"), float("nan")],
    ids=["huge", "huge-negative", "infinity", "nan"],
)
def test_fhir_number_beyond_the_float_range_is_path_named(value: float) -> None:
    bundle = _bundle()  # a goal reading is an Observation
    index, reading = _entry(bundle, "Observation", "valueQuantity")
    reading["valueQuantity"]["value"] = value
    with pytest.raises(FhirImportError) as info:
        import_bundle(bundle)
    assert info.value.path.startswith(f"Bundle.entry[{index}].resource(Observation/")
    assert info.value.path.endswith(".valueQuantity.value")
    assert str(info.value).endswith(": expected a finite number")


def test_fhir_absurdly_nested_code_is_not_a_recursion_error() -> None:
    bundle = _bundle()
    _, contact = _entry(bundle, "RelatedPerson", "relationship")
    contact["relationship"][0]["coding"][0]["code"] = _deep(100_000)
    with pytest.raises(FhirImportError, match="relationship has no carecoord equivalent"):
        import_bundle(bundle)
    bundle = _bundle()
    _, task = _entry(bundle, "Task", "businessStatus")
    del task["businessStatus"]
    task["status"] = _deep(100_000)  # without a businessStatus the Task status is read
    with pytest.raises(FhirImportError) as info:
        import_bundle(bundle)
    assert info.value.path.endswith(f"(Task/{task['id']}).status")


# ------------------------------------------------------------------- storage

DAMAGED = {
    "data-array": json.dumps(_envelope("Patient", [SECRET])),
    "data-text": json.dumps(_envelope("Patient", SECRET)),
    "part-array": json.dumps(
        _envelope("Patient", {**to_payload(make_patient())["data"], "name": [SECRET]})
    ),
    "deep": "[" * 50_000 + "]" * 50_000,
    "huge-int": '{"type":"Patient","schema_version":' + "7" * 5_000 + "}",
}


def _damage_patient(store: Store, payload: str) -> int:
    stored = store.read("Patient", PATIENT)
    assert stored is not None
    store.write(
        [
            RecordWrite(
                kind="Patient",
                id=PATIENT,
                expected_version=stored.version,
                payload=payload,
                patient_id=PATIENT,
            )
        ]
    )
    return stored.version + 1


@pytest.mark.parametrize("damage", sorted(DAMAGED))
def test_a_damaged_patient_record_is_a_storage_error(any_store: Store, damage: str) -> None:
    clock = FixedClock(T0)
    service = CareCoordinator(store=any_store, clock=clock)
    populate(service, clock)
    version = _damage_patient(any_store, DAMAGED[damage])
    with pytest.raises(StorageError) as info:
        service.patient(PATIENT, actor=COORD)
    message = str(info.value)
    assert f"Patient {PATIENT} at version {version}" in message
    assert SECRET not in message and "7777" not in message
    with pytest.raises(StorageError) as copied:
        copy_store(any_store, MemoryStore(), kinds=["Patient"])
    assert f"Patient {PATIENT} at version {version} cannot be copied" in str(copied.value)
    assert SECRET not in str(copied.value)


def test_a_host_converter_failing_its_own_way_is_a_storage_error() -> None:
    converter = make_converter()

    def broken(raw: object, _: type) -> Patient:
        raise RuntimeError(SECRET)

    converter.register_structure_hook(Patient, broken)
    stored = StoredRecord(
        kind="Patient", id="p-1", version=2, payload=json.dumps(to_payload(make_patient()))
    )
    with pytest.raises(StorageError) as info:
        decode_record(stored, Patient, converter=converter)
    assert "Patient p-1 at version 2" in str(info.value)
    assert SECRET not in str(info.value)


# --------------------------------------------------------- date arithmetic


def test_day_end_of_the_last_date_is_the_last_instant() -> None:
    assert _day_end(date(2026, 3, 1)) == datetime(2026, 3, 2, tzinfo=UTC)
    assert _day_end(date.max) == LAST


def test_a_goal_due_on_the_last_date_is_stored_and_copied(any_store: Store) -> None:
    clock = FixedClock(T0)
    service = CareCoordinator(store=any_store, clock=clock)
    populate(service, clock)
    goal = Goal(
        id=GoalId("g-last"),
        description="Walk daily",
        targets=(
            Target(measure="steps", quantity=Quantity(3000, "/d", Comparator.GE), due=date.max),
        ),
    )
    service.add_goal(PLAN, goal, actor=COORD)
    hits = any_store.query(WorkQuery(category="goal", open_only=False))
    assert [hit.row.due_at for hit in hits] == [LAST]
    assert any_store.query(WorkQuery(category="goal", due_before=LAST)) == []
    assert copy_store(any_store, MemoryStore(), kinds=["CarePlan"]).total == 1


def test_stall_cutoff_at_the_ends_of_time() -> None:
    week = timedelta(days=7)
    assert _stall_cutoff(T0, week) == T0 - week
    assert _stall_cutoff(FIRST, week) is None  # nothing unchanged since before the first instant
    assert _stall_cutoff(LAST, -week) == LAST


def test_tick_with_a_stall_longer_than_the_calendar_works(any_store: Store) -> None:
    clock = FixedClock(T0)
    service = CareCoordinator(store=any_store, clock=clock, stalled_referral_after=timedelta.max)
    populate(service, clock)
    assert service.tick().referrals_stalled == 0


def test_tick_at_the_first_instant_is_a_typed_error_not_an_overflow() -> None:
    clock = FixedClock(T0)
    service = CareCoordinator(store=MemoryStore(), clock=clock)
    populate(service, clock)
    # The arithmetic copes (no referral can be stalled before the first instant);
    # the tick's own audit entry cannot be written before 1970: refused up front.
    with pytest.raises(ValidationError) as caught:
        service.tick(FIRST)
    assert caught.value.field == "now"


def test_worklists_near_the_ends_of_time_are_typed_or_work() -> None:
    from carecoord.caseload import local_day_end

    last = datetime.max.replace(tzinfo=UTC)
    assert local_day_end(last, "America/Chicago") == last
    assert local_day_end(last - timedelta(hours=1), "Pacific/Kiritimati") == last
    clock = FixedClock(T0)
    service = CareCoordinator(store=MemoryStore(), clock=clock)
    populate(service, clock)
    assert service.worklist(COORD, actor=COORD, now=last - timedelta(days=2)).staff_id == COORD


def test_every_error_here_is_a_carecoord_error() -> None:
    for error in (StructureError, FhirImportError, StorageError, ValidationError):
        assert issubclass(error, CareCoordError)


def test_a_huge_int_built_directly_into_the_model_is_a_validation_error() -> None:
    from carecoord import ProgressReading

    with pytest.raises(ValidationError) as caught:
        ProgressReading(measure="hba1c", value=10**5000, unit="%", at=T0, recorded_by=COORD)
    assert caught.value.field == "value"
