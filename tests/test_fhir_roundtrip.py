"""carecoord -> FHIR -> carecoord is lossless; helpers shared by the other FHIR tests.

Records are generated from ``carecoord.testing.strategies`` with every entity
owned by one patient; every exported Bundle is validated by the independent
``fhir.resources`` R4B models, by ``carecoord.fhir.valuesets`` and by the
independent R4 checks of ``_fhir_checks``.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from _budget import examples
from _fhir_checks import bundle_problems, external_references
from carecoord import (
    AuditAction,
    AuditEntry,
    CarePlan,
    CarePlanId,
    Comparator,
    Goal,
    GoalId,
    HumanName,
    Patient,
    PatientId,
    ProgressReading,
    PurposeOfUse,
    Quantity,
    Range,
    StaffId,
    Target,
)
from carecoord.fhir import PatientRecord, export_bundle, import_bundle
from carecoord.fhir.valuesets import check_bundle
from carecoord.model import GENESIS_HASH, AuditOutcome, ExternalRef, verify_chain
from carecoord.serialization import unstructure
from carecoord.testing import strategies as cs

T = TypeVar("T")

MAX = 2


def _owned(strategy: SearchStrategy[T], patient_id: str) -> SearchStrategy[T]:
    return strategy.map(lambda x: attrs.evolve(x, patient_id=patient_id))  # type: ignore[misc]


def _many(strategy: SearchStrategy[T]) -> SearchStrategy[tuple[T, ...]]:
    return st.lists(strategy, max_size=MAX, unique_by=lambda x: str(x.id)).map(tuple)  # type: ignore[attr-defined]


_HEX64 = st.text("0123456789abcdef", min_size=64, max_size=64)
_OTHER_IDS = st.text("ab1_:", min_size=1, max_size=8)
"""Short ids, often with ``_`` or ``:``, which FHIR ids do not allow."""


@st.composite
def audit_logs(draw: st.DrawFn, patient_id: str) -> tuple[AuditEntry, ...]:
    """A short audit log about ``patient_id`` (or no patient): sealed entries, then unsealed ones.

    A patient's entries are a part of the whole chain, so the sealed ones have
    increasing sequences with gaps, each linked to some earlier hash. Ids are
    fresh :func:`~carecoord.model.new_audit_entry_id` ones, some replaced by short
    ids that are often not FHIR ids.
    """
    count = draw(st.integers(0, MAX))
    odd_ids = draw(st.lists(_OTHER_IDS, max_size=count, unique=True))
    entries: list[AuditEntry] = []
    for n in range(count):
        entry = AuditEntry.create(
            at=draw(cs.AWARE_DATETIMES),
            actor=draw(cs.ids(StaffId)),
            action=draw(st.sampled_from(list(AuditAction))),
            operation=draw(st.sampled_from(["get_patient", "set_intervention_status"])),
            outcome=draw(st.sampled_from(list(AuditOutcome))),
            purpose=draw(st.sampled_from(list(PurposeOfUse))),
            patient_id=draw(st.sampled_from([patient_id, None])),
            entity=draw(cs.optional(st.just("CarePlan/plan-1"))),
            detail=draw(cs.optional(st.just("AccessDeniedError"))),
        )
        entries.append(entry if n >= len(odd_ids) else attrs.evolve(entry, id=odd_ids[n]))
    sequence = 0
    for n in range(draw(st.integers(0, count))):
        sequence += draw(st.integers(1, 1000))
        previous = GENESIS_HASH if sequence == 1 else draw(_HEX64)
        entries[n] = entries[n].seal(sequence, previous, sealed_at=draw(cs.AWARE_DATETIMES))
    return tuple(entries)


@st.composite
def patient_records(draw: st.DrawFn) -> PatientRecord:
    """A record built from carecoord.testing strategies, every entity owned by one patient."""
    patient = draw(cs.patients())
    pid = patient.id
    return PatientRecord(
        patient=patient,
        staff=draw(_many(cs.staff_members())),
        care_teams=draw(_many(_owned(cs.care_teams(), pid))),
        assessments=draw(_many(_owned(cs.assessments(), pid))),
        plans=draw(_many(_owned(cs.care_plans(), pid))),
        referrals=draw(_many(_owned(cs.referrals(), pid))),
        appointments=draw(_many(_owned(cs.appointments(), pid))),
        barriers=draw(_many(_owned(cs.barriers(), pid))),
        reviews=draw(_many(_owned(cs.reviews(), pid))),
        notes=draw(_many(_owned(cs.notes(), pid))),
        decisions=draw(_many(_owned(cs.patient_decisions(), pid))),
        consents=draw(_many(_owned(cs.consents(), pid))),
        health_concerns=draw(_many(_owned(cs.health_concerns(), pid))),
        patient_goals=draw(_many(_owned(cs.patient_goals(), pid))),
        audit_entries=draw(audit_logs(str(pid))),
    )


def kept_references(record: PatientRecord) -> set[str]:
    """The literal references of every :class:`ExternalRef` the record keeps."""
    found: set[str] = set()
    stack: list[Any] = [record]
    while stack:
        item = stack.pop()
        if isinstance(item, ExternalRef):
            if item.reference is not None:
                found.add(item.reference)
        elif isinstance(item, tuple):
            stack.extend(item)
        elif attrs.has(type(item)):
            stack.extend(getattr(item, f.name) for f in attrs.fields(type(item)))
    return found


def exact(record: PatientRecord) -> str:
    """The record as carecoord JSON: datetimes with offset and zone, so fold differences show.

    The one difference allowed: ``-0.0`` is ``0.0``. The two are equal, and equal
    records export as identical bytes, so the sign of a zero is not kept.
    """
    return json.dumps(_positive_zero(unstructure(record)), sort_keys=True)


def _positive_zero(node: Any) -> Any:
    if isinstance(node, float) and node == 0:
        return 0.0
    if isinstance(node, dict):
        return {key: _positive_zero(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_positive_zero(value) for value in node]
    return node


def validate_r4(bundle: dict[str, Any]) -> None:
    """Validate ``bundle`` with the independent fhir.resources R4B models (raises on error)."""
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate(bundle)


def validate_resource(resource: dict[str, Any]) -> None:
    """Validate one resource with its own fhir.resources R4B model class."""
    from fhir.resources.R4B import get_fhir_model_class

    get_fhir_model_class(resource["resourceType"]).model_validate(resource)


NY = ZoneInfo("America/New_York")
T0 = datetime(2026, 3, 8, 1, 30, tzinfo=NY)
"""A wall time just before the spring-forward gap in New York."""


def utc_later(value: datetime, hours: int) -> datetime:
    """``hours`` after ``value`` on the instant line, on ``value``'s zone."""
    return (value.astimezone(UTC) + timedelta(hours=hours)).astimezone(value.tzinfo)


# ----------------------------------------------------------------------- tests

SETTINGS = settings(
    max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@SETTINGS
@given(patient_records())
def test_round_trip_is_lossless(record: PatientRecord) -> None:
    bundle = export_bundle(record, include_audit=True)
    # through real JSON text, as a Bundle would travel; the dialect needs no default
    # and drops nothing, so a strict import takes it too
    imported = import_bundle(json.loads(json.dumps(bundle)), strict=True)
    assert imported.report.defaulted == ()
    assert imported.report.dropped == ()
    assert all(x.kept for x in imported.report.external)
    back = imported.record
    assert back == record
    assert exact(back) == exact(record)


@SETTINGS
@given(patient_records())
def test_every_exported_bundle_is_valid_r4_with_valid_codes(record: PatientRecord) -> None:
    bundle = export_bundle(record, include_audit=True)
    validate_r4(bundle)
    assert check_bundle(bundle) == ()
    # formats, invariants, required bindings and references (see _fhir_checks)
    assert bundle_problems(json.loads(json.dumps(bundle))) == []
    # the only references the Bundle does not answer are the other systems' records kept
    assert external_references(bundle) == kept_references(record)


@settings(max_examples=examples(20), deadline=None)
@given(patient_records())
def test_export_is_deterministic_and_exports_again_identically(record: PatientRecord) -> None:
    first = export_bundle(record, include_audit=True)
    again = export_bundle(import_bundle(first), include_audit=True)
    assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)


@settings(max_examples=examples(20), deadline=None)
@given(patient_records())
def test_audit_is_exported_only_when_asked(record: PatientRecord) -> None:
    without = export_bundle(record)
    kinds = [e["resource"]["resourceType"] for e in without["entry"]]
    assert "AuditEvent" not in kinds
    assert import_bundle(without).record == attrs.evolve(record, audit_entries=())
    with_audit = export_bundle(record, include_audit=True)
    kinds = [e["resource"]["resourceType"] for e in with_audit["entry"]]
    assert kinds.count("AuditEvent") == len(record.audit_entries)


def test_unsealed_and_sealed_audit_entries_round_trip_exactly() -> None:
    key = b"fhir-round-trip-audit-key"
    fold_second = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=NY)  # EST, -05:00

    def made(minutes: int) -> AuditEntry:
        return AuditEntry.create(
            at=T0 + timedelta(minutes=minutes),
            actor="staff-1",
            action=AuditAction.READ,
            operation="get_patient",
            outcome=AuditOutcome.SUCCESS,
            patient_id="p-1",
        )

    sealed = made(0).seal(1, GENESIS_HASH, sealed_at=fold_second, key=key)
    assert sealed.hash is not None
    legacy = attrs.evolve(made(1), id="legacy:2").seal(
        2, sealed.hash, sealed_at=datetime(2026, 11, 1, 7, tzinfo=UTC), key=key
    )
    assert legacy.hash is not None
    unsealed = made(2)
    record = PatientRecord(patient=cs_patient(), audit_entries=(sealed, legacy, unsealed))
    bundle = export_bundle(record, include_audit=True)
    validate_r4(bundle)
    assert check_bundle(bundle) == ()
    events = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "AuditEvent"
    ]
    names = [[x["url"].rsplit("/", 1)[1] for x in event["extension"]] for event in events]
    sealing = ["audit-sequence", "audit-previous-hash", "audit-hash", "audit-sealed-at"]
    assert names == [["audit-id", "audit-operation", *sealing]] * 2 + [
        ["audit-id", "audit-operation"]
    ]
    assert (events[0]["id"], events[2]["id"]) == (sealed.id, unsealed.id)
    assert events[1]["id"] != legacy.id  # "legacy:2" is no FHIR id: a uuid instead
    assert [event["extension"][0]["valueIdentifier"]["value"] for event in events] == [
        sealed.id,
        "legacy:2",
        unsealed.id,
    ]
    assert events[0]["extension"][5]["extension"] == [
        {"url": "dateTime", "valueDateTime": "2026-11-01T01:30:00-05:00"},
        {"url": "zone", "valueString": "America/New_York"},
    ]

    back = import_bundle(json.loads(json.dumps(bundle))).record
    assert back == record
    assert exact(back) == exact(record)
    assert [e.sealed for e in back.audit_entries] == [True, True, False]
    # the sealed entries still match their hashes, and the unsealed one can be sealed on
    again = back.audit_entries[2].seal(3, legacy.hash, sealed_at=fold_second, key=key)
    assert verify_chain([*back.audit_entries[:2], again], key=key) == ()
    assert export_bundle(import_bundle(bundle), include_audit=True) == bundle


def test_dst_fold_and_gap_datetimes_round_trip_exactly() -> None:
    record = PatientRecord(patient=cs_patient())
    fold_first = datetime(2026, 11, 1, 1, 30, tzinfo=NY)  # EDT, -04:00
    fold_second = fold_first.replace(fold=1)  # EST, -05:00, one hour later
    gap = datetime(2026, 3, 8, 2, 30, tzinfo=NY)  # does not exist on the wall clock
    for moment in (fold_first, fold_second, gap, T0):
        rec = attrs.evolve(record, patient=attrs.evolve(record.patient, enrolled_at=moment))
        back = import_bundle(export_bundle(rec)).record
        assert back.patient.enrolled_at is not None
        assert back.patient.enrolled_at.fold == moment.fold
        assert back.patient.enrolled_at.utcoffset() == moment.utcoffset()
        assert back.patient.enrolled_at.tzinfo is NY or back.patient.enrolled_at.tzinfo == NY
        assert exact(back) == exact(rec)
    # a datetime in the fold is written with its own offset, the zone alongside
    rec = attrs.evolve(record, patient=attrs.evolve(record.patient, enrolled_at=fold_second))
    ext = export_bundle(rec)["entry"][0]["resource"]["extension"]
    enrolled = next(e for e in ext if e["url"].endswith("/enrolled-at"))
    assert enrolled["extension"] == [
        {"url": "dateTime", "valueDateTime": "2026-11-01T01:30:00-05:00"},
        {"url": "zone", "valueString": "America/New_York"},
    ]


def test_utc_and_fixed_offsets_keep_their_tzinfo() -> None:
    record = PatientRecord(patient=cs_patient())
    for moment in (
        datetime(2026, 1, 1, 12, tzinfo=UTC),
        datetime(2026, 1, 1, 12, tzinfo=ZoneInfo("UTC")),
        datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    ):
        rec = attrs.evolve(record, patient=attrs.evolve(record.patient, enrolled_at=moment))
        back = import_bundle(export_bundle(rec)).record
        assert back.patient.enrolled_at == moment
        assert exact(back) == exact(rec)


def cs_patient() -> Patient:
    """A small fixed patient."""
    return Patient(
        id=PatientId("p-1"),
        name=HumanName(family="Doe", given=("Pat",)),
        birth_date=date(1950, 1, 2),
        time_zone="America/New_York",
    )


def test_an_offset_that_does_not_match_the_zone_keeps_the_instant() -> None:
    # the [Zone] rule of carecoord.serialization: a foreign or edited offset
    # wins over the wall time, and the instant is shown in the zone
    bundle = export_bundle(
        PatientRecord(
            patient=attrs.evolve(cs_patient(), enrolled_at=datetime(2026, 7, 1, 8, tzinfo=NY))
        )
    )
    enrolled = bundle["entry"][0]["resource"]["extension"][1]
    assert enrolled["extension"][0] == {
        "url": "dateTime",
        "valueDateTime": "2026-07-01T08:00:00-04:00",
    }
    enrolled["extension"][0]["valueDateTime"] = "2026-07-01T08:00:00+00:00"
    moment = import_bundle(bundle).record.patient.enrolled_at
    assert moment == datetime(2026, 7, 1, 4, tzinfo=NY)
    assert moment is not None and moment.tzinfo is NY


# ------------------------------------------- equal records give identical bytes


def _goal_record(target: Target, reading: float) -> PatientRecord:
    goal = Goal(
        id=GoalId("goal-1"),
        description="Walk more",
        targets=(target,),
        readings=(ProgressReading("steps", reading, "1", T0, StaffId("staff-1")),),
    )
    plan = CarePlan(
        id=CarePlanId("plan-1"),
        patient_id=PatientId("p-1"),
        author_id=StaffId("staff-1"),
        created_at=T0,
        goals=(goal,),
    )
    return PatientRecord(patient=cs_patient(), plans=(plan,))


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (Target("steps", range=Range(low=1)), Target("steps", range=Range(low=1.0))),
        (Target("steps", range=Range(high=0)), Target("steps", range=Range(high=-0.0))),
        (
            Target("a1c", quantity=Quantity(7, "%", Comparator.LT)),
            Target("a1c", quantity=Quantity(7.0, "%", Comparator.LT)),
        ),
        (Target("steps", range=Range(low=10**20)), Target("steps", range=Range(low=1e20))),
    ],
)
def test_equal_numbers_export_as_identical_bytes(one: Target, other: Target) -> None:
    first, second = _goal_record(one, 3), _goal_record(other, 3.0)
    assert first == second
    text = json.dumps(export_bundle(first), sort_keys=True)
    assert text == json.dumps(export_bundle(second), sort_keys=True)
    back = import_bundle(json.loads(text)).record
    assert back == first == second
    assert json.dumps(export_bundle(back), sort_keys=True) == text


@SETTINGS
@given(
    st.one_of(
        cs.FLOATS, st.integers(-(10**30), 10**30), st.floats(allow_nan=False, allow_infinity=False)
    )
)
def test_any_number_is_written_canonically_and_read_back_equal(value: float) -> None:
    record = _goal_record(Target("m", quantity=Quantity(value, "1")), value)
    bundle = export_bundle(record)
    goal = bundle["entry"][2]["resource"]
    written = goal["target"][0]["detailQuantity"]["value"]
    assert isinstance(written, int) or not written.is_integer()  # integral -> integer
    assert import_bundle(json.loads(json.dumps(bundle))).record == record
    assert bundle_problems(bundle) == []


# ----------------------------------------------- offsets FHIR cannot write


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1850, 6, 1, 12, tzinfo=ZoneInfo("America/Chicago")),  # LMT -05:50:36
        datetime(1, 1, 1, 8, 9, 24, tzinfo=ZoneInfo("America/Chicago")),
        datetime(1800, 1, 1, tzinfo=ZoneInfo("Asia/Manila")),  # LMT -15:56
        datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=15))),
        datetime(2026, 1, 1, 12, tzinfo=timezone(-timedelta(hours=5, seconds=30))),
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(seconds=-1, microseconds=1))),
    ],
)
def test_offsets_fhir_cannot_write_go_out_as_utc_and_come_back_exactly(moment: datetime) -> None:
    record = PatientRecord(patient=attrs.evolve(cs_patient(), enrolled_at=moment))
    bundle = export_bundle(record)
    assert bundle_problems(bundle) == []
    enrolled = bundle["entry"][0]["resource"]["extension"][1]["extension"]
    assert enrolled[0]["valueDateTime"].endswith("+00:00")
    assert enrolled[1]["url"] in ("zone", "utc-offset")
    back = import_bundle(json.loads(json.dumps(bundle))).record
    assert back == record
    assert exact(back) == exact(record)
    assert export_bundle(back) == bundle
