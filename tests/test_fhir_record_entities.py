"""``PatientRecord.from_entities``: the record of what the service read, for ``export_bundle``."""

from __future__ import annotations

import attrs
import pytest

from carecoord import PatientId, ValidationError
from carecoord.demo import COORDINATOR, build_demo_data, load_demo
from carecoord.fhir import PatientRecord, export_bundle
from carecoord.model.directory import DirectoryServiceId
from carecoord.service import CareCoordinator
from carecoord.storage import MemoryStore
from carecoord.testing import FixedClock


@pytest.fixture(scope="module")
def demo() -> tuple[CareCoordinator, list[PatientId]]:
    data = build_demo_data()
    service = CareCoordinator(store=MemoryStore(), clock=FixedClock(data.now))
    load_demo(service, data)
    return service, [p.id for p in data.patients]


def test_the_service_read_gives_the_same_record_as_the_store(
    demo: tuple[CareCoordinator, list[PatientId]],
) -> None:
    service, patients = demo
    for patient_id in patients:
        read = service.patient_record(patient_id, actor=COORDINATOR)
        record = PatientRecord.from_entities(read.patient, read.entities)
        stored = PatientRecord.from_store(service.store, patient_id)
        assert record == attrs_evolve_staff(stored)
        assert export_bundle(record) == export_bundle(attrs_evolve_staff(stored))
    assert all(  # the demo's records are not empty
        PatientRecord.from_store(service.store, p).plans for p in patients
    )


def attrs_evolve_staff(record: PatientRecord) -> PatientRecord:
    """``from_store`` adds the staff members; ``from_entities`` takes them as given."""
    return attrs.evolve(record, staff=())


def test_the_patient_among_the_entities_is_skipped_and_staff_kept(
    demo: tuple[CareCoordinator, list[PatientId]],
) -> None:
    service, patients = demo
    read = service.patient_record(patients[0], actor=COORDINATOR)
    stored = PatientRecord.from_store(service.store, patients[0])
    record = PatientRecord.from_entities(
        read.patient, (read.patient, *read.entities), staff=stored.staff
    )
    assert record == stored


def test_an_entity_of_another_kind_or_patient_is_refused(
    demo: tuple[CareCoordinator, list[PatientId]],
) -> None:
    service, patients = demo
    first = service.patient_record(patients[0], actor=COORDINATOR)
    second = service.patient_record(patients[1], actor=COORDINATOR)
    with pytest.raises(ValidationError, match="no field for DirectoryServiceId"):
        PatientRecord.from_entities(first.patient, [DirectoryServiceId("svc-1")])
    with pytest.raises(ValidationError, match="belongs to another patient") as caught:
        PatientRecord.from_entities(first.patient, second.entities)
    assert second.patient.name.family not in str(caught.value)
