"""Bulk NDJSON export and import: round trips, bytes, manifest, access, audit, errors, streaming."""

from __future__ import annotations

import gc
import json
import tempfile
import weakref
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from carecoord import (
    AccessDeniedError,
    AuditAction,
    AuditEntry,
    CareTeam,
    CareTeamRole,
    ConflictError,
    FhirImportError,
    HumanName,
    Patient,
    PatientId,
    Referral,
    ReferralId,
    ReferralTargetKind,
    StaffId,
    StaffMember,
    ValidationError,
)
from carecoord.access import AccessDecision, AccessRequest
from carecoord.demo import COORDINATOR, NURSE, DemoData, build_demo_data, load_demo
from carecoord.fhir import (
    BulkFailure,
    PatientRecord,
    export_ndjson,
    import_ndjson,
    save_imported,
)
from carecoord.fhir._bulk_common import json_line
from carecoord.model import AuditOutcome, supervision_chain
from carecoord.service import CareCoordinator
from carecoord.storage import MemoryStore, UnitOfWork
from carecoord.testing import FixedClock
from test_fhir_export import rich_record
from test_fhir_roundtrip import patient_records

OUTSIDER = StaffId("outsider")


@pytest.fixture
def demo() -> tuple[CareCoordinator, DemoData]:
    data = build_demo_data()
    service = CareCoordinator(clock=FixedClock(data.now))
    load_demo(service, data)
    return service, data


def _empty_target(data: DemoData, member: StaffMember | None = None) -> CareCoordinator:
    """A new store holding only the importing staff member (the demo's coordinator)."""
    target = CareCoordinator(clock=FixedClock(data.now))
    target.register_staff(member or data.staff[0], actor=(member or data.staff[0]).id)
    return target


def _lines(folder: Path, rtype: str) -> list[bytes]:
    return (folder / f"{rtype}.ndjson").read_bytes().splitlines(keepends=True)


def _audit(service: CareCoordinator, operation: str) -> list[AuditEntry]:
    uow = UnitOfWork(service.store)
    try:
        return [e for e in uow.all(AuditEntry) if e.operation == operation]
    finally:
        uow.rollback()


def test_a_store_round_trips_through_ndjson_with_a_bulk_data_manifest(
    demo: tuple[CareCoordinator, DemoData], tmp_path: Path
) -> None:
    service, data = demo
    report = export_ndjson(service, tmp_path / "out", actor=COORDINATOR)
    assert (report.exported, report.skipped) == (3, 0)
    out = tmp_path / "out"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["transactionTime"] == "2026-11-23T14:30:00Z"
    assert manifest["requiresAccessToken"] is False and manifest["error"] == []
    assert manifest["request"] == "carecoord bulk export: every patient"
    assert [o["type"] for o in manifest["output"]] == sorted(report.counts)
    assert sorted(p.name for p in out.iterdir()) == sorted([*report.files, "manifest.json"])
    for item in manifest["output"]:
        lines = _lines(out, item["type"])
        assert item["url"] == f"{item['type']}.ndjson" and item["count"] == len(lines)
        ids = []
        for line in lines:  # compact JSON objects, one per line, in canonical form
            resource = json.loads(line)
            assert resource["resourceType"] == item["type"] and json_line(resource) == line
            ids.append(resource["id"])
        assert len(set(ids)) == len(ids)
    # the three staff members are shared by the three patients: written once each
    assert report.counts["Practitioner"] == report.counts["PractitionerRole"] == 3
    assert report.counts["Patient"] == 3 and report.counts["Task"] == 9

    target = _empty_target(data)
    back = import_ndjson(target, out, actor=COORDINATOR)
    assert (back.imported, back.unchanged, back.failed, back.ok) == (3, 0, (), True)
    assert back.counts == report.counts
    for patient in data.patients:
        expected = PatientRecord.from_store(service.store, patient.id)
        assert PatientRecord.from_store(target.store, patient.id) == expected
    # importing the same files again changes nothing
    again = import_ndjson(target, out, actor=COORDINATOR)
    assert (again.imported, again.unchanged, again.failed) == (0, 3, ())


def test_the_export_is_deterministic_to_the_byte(
    demo: tuple[CareCoordinator, DemoData], tmp_path: Path
) -> None:
    service, _ = demo
    export_ndjson(service, tmp_path / "a", actor=COORDINATOR)
    export_ndjson(service, tmp_path / "b", actor=COORDINATOR)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    with pytest.raises(ValidationError, match="holds an export already"):
        export_ndjson(service, tmp_path / "a", actor=COORDINATOR)


def test_each_patient_is_one_audited_operation_and_unreadable_ones_are_skipped(
    demo: tuple[CareCoordinator, DemoData], tmp_path: Path
) -> None:
    service, data = demo
    service.end_team_membership(data.teams[1].id, NURSE, actor=COORDINATOR)
    report = export_ndjson(service, tmp_path / "nurse", actor=NURSE)
    assert (report.exported, report.skipped) == (2, 1)
    patients = _lines(tmp_path / "nurse", "Patient")
    assert [json.loads(line)["id"] for line in patients] == ["patient-1", "patient-3"]
    reads = _audit(service, "patient_record")
    # a refusal names the record asked for, not the patient (as every refused read)
    assert sorted((e.entity or "", e.patient_id, e.outcome) for e in reads) == [
        ("Patient/patient-1", "patient-1", AuditOutcome.SUCCESS),
        ("Patient/patient-2", None, AuditOutcome.MINOR_FAILURE),
        ("Patient/patient-3", "patient-3", AuditOutcome.SUCCESS),
    ]
    assert {(e.actor, e.action) for e in reads} == {(NURSE, AuditAction.READ)}
    # asked for by name, a patient the actor may not read is refused; nothing is left behind
    with pytest.raises(AccessDeniedError):
        export_ndjson(service, tmp_path / "named", actor=NURSE, patients=["patient-1", "patient-2"])
    assert list((tmp_path / "named").iterdir()) == []
    # a caseload: the nurse's is patients 1 and 3, as seen by the coordinator
    by_caseload = export_ndjson(
        service, tmp_path / "caseload", actor=COORDINATOR, caseload_of=NURSE
    )
    assert (by_caseload.exported, by_caseload.skipped) == (2, 0)
    manifest = json.loads((tmp_path / "caseload" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["request"] == "carecoord bulk export: the caseload of staff-nurse"
    assert _lines(tmp_path / "caseload", "Patient") == patients

    target = _empty_target(data)
    import_ndjson(target, tmp_path / "nurse", actor=COORDINATOR)
    stored = _audit(target, "import_patient_record")
    assert sorted(e.patient_id or "" for e in stored) == ["patient-1", "patient-3"]
    assert {(e.action, e.outcome) for e in stored} == {(AuditAction.CREATE, AuditOutcome.SUCCESS)}


def _damage(path: Path, line: int, edit: Any) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    lines[line - 1] = edit(lines[line - 1])
    path.write_bytes(b"".join(lines))


def test_errors_name_the_file_and_line_and_a_failed_patient_is_not_stored(
    demo: tuple[CareCoordinator, DemoData], tmp_path: Path
) -> None:
    service, data = demo
    out = tmp_path / "out"
    export_ndjson(service, out, actor=COORDINATOR)
    good = (out / "Task.ndjson").read_bytes()
    _damage(out / "Task.ndjson", 5, lambda line: line[:40] + b"\n")
    target = _empty_target(data)
    with pytest.raises(FhirImportError) as caught:
        import_ndjson(target, out, actor=COORDINATOR)
    assert caught.value.path == "Task.ndjson:5"
    assert target.store.read_all("Patient") == []  # checked before anything is stored
    (out / "Task.ndjson").write_bytes(good)

    # a value the model refuses, in patient-2's goal: that patient fails, the others import
    _damage(out / "Goal.ndjson", 2, lambda line: line.replace(b'"active"', b'"soon-ish"'))
    report = import_ndjson(target, out, actor=COORDINATOR)
    assert report.imported == 2 and len(report.failed) == 1
    failure = report.failed[0]
    assert (failure.resource, failure.error) == ("Patient/patient-2", "FhirImportError")
    assert failure.path.startswith("Goal.ndjson:2 resource(Goal/") and "soon-ish" not in str(
        failure
    )
    assert [p.id for p in UnitOfWork(target.store).all(Patient)] == ["patient-1", "patient-3"]
    with pytest.raises(FhirImportError) as strict:
        import_ndjson(_empty_target(data), out, actor=COORDINATOR, strict=True)
    assert strict.value.path == failure.path


def test_lines_that_do_not_fit_the_files_are_refused(
    demo: tuple[CareCoordinator, DemoData], tmp_path: Path
) -> None:
    service, data = demo
    out = tmp_path / "out"
    export_ndjson(service, out, actor=COORDINATOR)
    target = _empty_target(data)
    patient = _lines(out, "Patient")[0]
    for name, line, where, message in [
        ("Goal.ndjson", patient, "Goal.ndjson:4 resourceType", "not the file's resource type"),
        ("Task.ndjson", b"\n", "Task.ndjson:10", "empty line"),
        ("Goal.ndjson", b"[1]\n", "Goal.ndjson:4", "expected a JSON object"),
    ]:
        before = (out / name).read_bytes()
        (out / name).write_bytes(before + line)
        with pytest.raises(FhirImportError) as caught:
            import_ndjson(target, out, actor=COORDINATOR)
        assert (caught.value.path, str(caught.value)) == (where, f"{where}: {message}")
        (out / name).write_bytes(before)
    # one line too few for the manifest
    goals = (out / "Goal.ndjson").read_bytes()
    _damage(out / "Goal.ndjson", 3, lambda line: b"")
    with pytest.raises(FhirImportError, match=r"Goal.ndjson: 2 line\(s\), but the manifest says 3"):
        import_ndjson(target, out, actor=COORDINATOR)
    (out / "Goal.ndjson").write_bytes(goals)
    # a staff resource no patient refers to is reported, not silently dropped
    extra = json.loads(_lines(out, "Practitioner")[0])
    extra["id"] = extra["identifier"][0]["value"] = "staff-extra"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for item in manifest["output"]:
        if item["type"] == "Practitioner":
            item["count"] += 1
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with (out / "Practitioner.ndjson").open("ab") as handle:
        handle.write(json_line(extra))
    report = import_ndjson(target, out, actor=COORDINATOR)
    assert report.imported == 3
    assert report.failed == (
        BulkFailure(
            "Practitioner/staff-extra",
            "FhirImportError",
            "Practitioner.ndjson:4",
            "resource is not linked to any patient",
        ),
    )
    with pytest.raises(FhirImportError, match=r"Practitioner\.ndjson:4: resource is not linked"):
        import_ndjson(target, out, actor=COORDINATOR, strict=True)


def test_storing_an_imported_record_follows_the_service_rules(
    demo: tuple[CareCoordinator, DemoData],
) -> None:
    service, data = demo
    read = service.patient_record(PatientId("patient-1"), actor=COORDINATOR)
    assert repr(read) == "PatientEntities(patient_id=PatientId('patient-1'), entities=3)"
    with pytest.raises(ValidationError, match="AuditEntry is not a patient record kind"):
        service.patient_record(PatientId("patient-1"), actor=COORDINATOR, kinds=[AuditEntry])
    coordinator, lead_ma, nurse = data.staff
    target = _empty_target(data)
    target.register_staff(attrs.evolve(nurse, supervisor_id=None), actor=COORDINATOR)
    target.register_staff(attrs.evolve(lead_ma, supervisor_id=None), actor=COORDINATOR)
    patient, entities = read.patient, read.entities
    # the nurse may enrol, but not register the staff the record names
    others = attrs.evolve(lead_ma, id=StaffId("lead-ma-2"))
    with pytest.raises(AccessDeniedError, match="manage-staff"):
        target.import_patient_record(patient, entities, actor=NURSE, staff=(others,))
    # a lead medical assistant may register staff, but none above their own role
    boss = attrs.evolve(coordinator, id=StaffId("coordinator-2"))
    with pytest.raises(AccessDeniedError, match="role-above-own"):
        target.import_patient_record(patient, entities, actor=lead_ma.id, staff=(boss,))
    looped = (
        attrs.evolve(others, supervisor_id=StaffId("lead-ma-3")),
        attrs.evolve(others, id=StaffId("lead-ma-3"), supervisor_id=others.id),
    )
    with pytest.raises(ValidationError, match="cycle"):
        target.import_patient_record(patient, entities, actor=lead_ma.id, staff=looped)
    strange = attrs.evolve(read.of(CareTeam)[0], patient_id=PatientId("patient-2"))
    with pytest.raises(ValidationError, match=r"entities\[0\] \(CareTeam\) belongs to another"):
        target.import_patient_record(patient, (strange,), actor=COORDINATOR)
    unborn = attrs.evolve(patient, birth_date=data.now.date().replace(year=2030))
    with pytest.raises(ValidationError, match="birth date is in the future"):
        target.import_patient_record(unborn, entities, actor=COORDINATOR)
    assert target.store.read_all("Patient") == []  # nothing of the refused ones was stored
    done = target.import_patient_record(patient, entities, actor=COORDINATOR, staff=(others,))
    assert (done.created, done.written, done.staff_added) == (True, 5, (others.id,))
    again = target.import_patient_record(patient, entities, actor=COORDINATOR, staff=(others,))
    assert (again.created, again.written) == (False, 0)
    changed = attrs.evolve(patient, language="fr")
    with pytest.raises(ConflictError, match="Patient patient-1 already exists"):
        target.import_patient_record(changed, entities, actor=COORDINATOR)


class _Counting:
    """A service that counts the patients' records alive whenever one more is asked for."""

    def __init__(self, service: CareCoordinator) -> None:
        self._service = service
        self.store = service.store
        self.clock = service.clock
        self._given: list[weakref.ref[object]] = []
        self.most_alive = 0
        self.calls = 0

    def _alive(self, held: int = 0) -> None:
        """Count the earlier patients' objects still alive (``held``: the current ones)."""
        gc.collect()
        alive = sum(1 for ref in self._given if ref() is not None) - held
        self.most_alive = max(self.most_alive, alive)
        self.calls += 1

    def patient_record(
        self, patient_id: PatientId, *, actor: StaffId, kinds: Iterable[type[Any]]
    ) -> Any:
        self._alive()
        read = self._service.patient_record(patient_id, actor=actor, kinds=kinds)
        self._given += [weakref.ref(x) for x in (read, read.patient, *read.entities)]
        return read

    def caseload_patients(self, staff_id: StaffId, *, actor: StaffId) -> list[PatientId]:
        return self._service.caseload_patients(staff_id, actor=actor)

    def import_patient_record(
        self,
        patient: Any,
        entities: Sequence[object],
        *,
        actor: StaffId,
        staff: Sequence[StaffMember] = (),
    ) -> Any:
        given = [weakref.ref(x) for x in (patient, *entities)]
        self._given += given
        self._alive(held=len(given))  # the caller holds the current patient's objects
        return self._service.import_patient_record(patient, entities, actor=actor, staff=staff)


def test_only_one_patients_record_is_in_memory_at_a_time(
    demo: tuple[CareCoordinator, DemoData], tmp_path: Path
) -> None:
    service, data = demo
    counting = _Counting(service)
    export_ndjson(counting, tmp_path / "out", actor=COORDINATOR)
    assert (counting.calls, counting.most_alive) == (3, 0)
    importing = _Counting(_empty_target(data))
    report = import_ndjson(importing, tmp_path / "out", actor=COORDINATOR)
    assert report.imported == 3
    assert (importing.calls, importing.most_alive) == (3, 0)


class _AllowAll:
    def decide(self, request: AccessRequest) -> AccessDecision:
        return AccessDecision(True)


_ACTOR = StaffMember(
    id=StaffId("bulk_actor_x"),  # longer than any generated id: never one of theirs
    name=HumanName(family="Bulk"),
    roles=(CareTeamRole.CARE_COORDINATOR,),
)


def _open(store: MemoryStore) -> CareCoordinator:
    return CareCoordinator(
        store=store, clock=FixedClock(build_demo_data().now), access_policy=_AllowAll()
    )


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(patient_records(), min_size=2, max_size=3, unique_by=lambda r: r.patient.id))
def test_generated_stores_round_trip(records: list[PatientRecord]) -> None:
    source, target = MemoryStore(), MemoryStore()
    for store in (source, target):
        with UnitOfWork(store) as uow:
            uow.add(_ACTOR)
    staff: dict[StaffId, StaffMember] = {}
    for record in records:
        for member in record.staff:
            staff.setdefault(member.id, member)
        try:
            save_imported(source, record)
        except ConflictError:
            assume(False)  # two generated records share an entity id
    for staff_id in staff:  # the import refuses reporting-line cycles, as registration does
        try:
            supervision_chain(staff_id, staff)
        except ValidationError:
            assume(False)
    with tempfile.TemporaryDirectory() as folder:
        report = export_ndjson(_open(source), folder, actor=_ACTOR.id)
        assert (report.exported, report.skipped) == (len(records), 0)
        for name in report.files:  # ids never clash between patients
            ids = [
                json.loads(line)["id"] for line in (Path(folder) / name).read_bytes().splitlines()
            ]
            assert len(set(ids)) == len(ids), name
        back = import_ndjson(_open(target), folder, actor=_ACTOR.id, strict=True)
        assert (back.imported, back.failed) == (len(records), ())
    for record in records:
        expected = PatientRecord.from_store(source, record.patient.id)
        assert PatientRecord.from_store(target, record.patient.id) == expected


def test_a_referral_target_shared_by_patients_is_written_once_as_a_role(tmp_path: Path) -> None:
    def referral(rid: str, patient: PatientId, kind: ReferralTargetKind, name: str) -> Referral:
        return Referral(
            id=ReferralId(rid),
            patient_id=patient,
            requested_by=StaffId("staff-1"),
            created_at=build_demo_data().now,
            target_kind=kind,
            target_name=name,
            service="Help",
        )

    first = rich_record()  # refers patient-1 to the Food bank (an Organization)
    doctor = referral("ref-2", first.patient.id, ReferralTargetKind.SPECIALIST, "Dr. Who")
    first = attrs.evolve(first, referrals=(*first.referrals, doctor))
    other = PatientId("patient-2")
    second = PatientRecord(
        patient=attrs.evolve(first.patient, id=other, identifiers=(), contacts=()),
        referrals=(
            referral("ref-8", other, ReferralTargetKind.COMMUNITY_RESOURCE, "Food bank"),
            referral("ref-9", other, ReferralTargetKind.SPECIALIST, "Dr. Who"),
        ),
    )
    source, target = MemoryStore(), MemoryStore()
    for store in (source, target):
        with UnitOfWork(store) as uow:
            uow.add(_ACTOR)
    for record in (first, second):
        save_imported(source, record)
    report = export_ndjson(_open(source), tmp_path, actor=_ACTOR.id)
    # the doctor's role is shared (written once, like staff roles); an Organization per patient
    assert (report.counts["PractitionerRole"], report.counts["Organization"]) == (3, 2)
    back = import_ndjson(_open(target), tmp_path, actor=_ACTOR.id, strict=True)
    assert (back.imported, back.failed) == (2, ())
    for record in (first, second):
        expected = PatientRecord.from_store(source, record.patient.id)
        assert PatientRecord.from_store(target, record.patient.id) == expected
