"""FHIR R4 export of clinic operations (Encounter with status history and locations,
Appointment status, Observation, SupplyRequest, SupplyDelivery of lots) checked by the
independent checker and by Medplum's validator; Observation import back to measurements.

The checker (tests/_fhir_checks.py) knows the elements carecoord's patient export writes;
the R4 elements of Encounter, Location, Observation's components and ranges, SupplyRequest,
SupplyDelivery and Device are added here, from the R4 (4.0.1) definitions.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from datetime import UTC, date, datetime
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import attrs
import pytest

import _fhir_schema
from _fhir_checks import bundle_problems
from _fhir_schema import Element
from carecoord import (
    Appointment,
    AppointmentId,
    AppointmentStatus,
    FhirImportError,
    PatientId,
    StaffId,
)
from carecoord.clinic import post
from carecoord.fhir._export_clinic import (
    encounter_resource,
    supply_bundle,
    visit_bundle,
)
from carecoord.fhir._import_clinic import measurement_from_observation, measurements_from_bundle
from carecoord.model.clinic import ClinicId, RoomId, Visit, VisitId, VisitState
from carecoord.model.measurements import (
    Interpretation,
    LoincCode,
    MeasuredValue,
    Measurement,
    MeasurementCategory,
    MeasurementId,
    ReferenceRange,
)
from carecoord.model.supplies import (
    LotNumber,
    MovementKind,
    OrderLine,
    SupplyCode,
    SupplyItem,
    SupplyItemId,
    SupplyOrder,
    SupplyOrderId,
    SupplyReceipt,
)
from carecoord.model.workforce import LocationId
from world import CHICAGO

V = VisitState
PATIENT, MA, DR = PatientId("p-1"), StaffId("ma"), StaffId("dr-a")
SITE = LocationId("main")
_PEOPLE = ("Patient", "Practitioner", "PractitionerRole", "RelatedPerson", "Organization")
R4_SCHEMA: dict[str, dict[str, Element]] = {
    "Encounter": {
        "id": Element("id"),
        "identifier": Element("Identifier", many=True),
        "status": Element("code", required=True, binding="encounter-status"),
        "statusHistory": Element("Encounter.statusHistory", many=True),
        "class": Element("Coding", required=True),
        "subject": Element("Reference", targets=("Patient", "Group")),
        "participant": Element("Encounter.participant", many=True),
        "appointment": Element("Reference", many=True, targets=("Appointment",)),
        "period": Element("Period"),
        "location": Element("Encounter.location", many=True),
    },
    "Encounter.statusHistory": {
        "status": Element("code", required=True, binding="encounter-status"),
        "period": Element("Period", required=True),
    },
    "Encounter.participant": {
        "type": Element("CodeableConcept", many=True),
        "period": Element("Period"),
        "individual": Element(
            "Reference", targets=("Practitioner", "PractitionerRole", "RelatedPerson")
        ),
    },
    "Encounter.location": {
        "location": Element("Reference", required=True, targets=("Location",)),
        "status": Element("code", binding="encounter-location-status"),
        "period": Element("Period"),
    },
    "Location": {
        "id": Element("id"),
        "status": Element("code", binding="location-status"),
        "physicalType": Element("CodeableConcept"),
        "partOf": Element("Reference", targets=("Location",)),
    },
    "Observation": {
        **_fhir_schema.SCHEMA["Observation"],
        "encounter": Element("Reference", targets=("Encounter",)),
        "interpretation": Element("CodeableConcept", many=True),
        "referenceRange": Element("Observation.referenceRange", many=True),
        "component": Element("Observation.component", many=True),
    },
    "Observation.referenceRange": {
        "low": Element("SimpleQuantity"),
        "high": Element("SimpleQuantity"),
    },
    "Observation.component": {
        "code": Element("CodeableConcept", required=True),
        "valueQuantity": Element("Quantity"),
        "interpretation": Element("CodeableConcept", many=True),
        "referenceRange": Element("Observation.referenceRange", many=True),
    },
    "SupplyRequest": {
        "id": Element("id"),
        "status": Element("code", binding="supplyrequest-status"),
        "category": Element("CodeableConcept"),
        "itemCodeableConcept": Element("CodeableConcept"),
        "itemReference": Element("Reference", targets=("Medication", "Substance", "Device")),
        "quantity": Element("Quantity", required=True),
        "authoredOn": Element("dateTime"),
        "requester": Element("Reference", targets=(*_PEOPLE, "Device")),
        "deliverTo": Element("Reference", targets=("Organization", "Location", "Patient")),
    },
    "SupplyDelivery": {
        "id": Element("id"),
        "basedOn": Element("Reference", many=True, targets=("SupplyRequest",)),
        "status": Element("code", binding="supplydelivery-status"),
        "type": Element("CodeableConcept", binding="supplydelivery-type"),
        "suppliedItem": Element("SupplyDelivery.suppliedItem"),
        "occurrenceDateTime": Element("dateTime"),
        "destination": Element("Reference", targets=("Location",)),
        "receiver": Element("Reference", many=True, targets=("Practitioner", "PractitionerRole")),
    },
    "SupplyDelivery.suppliedItem": {
        "quantity": Element("SimpleQuantity"),
        "itemCodeableConcept": Element("CodeableConcept"),
        "itemReference": Element("Reference", targets=("Medication", "Substance", "Device")),
    },
    "Device": {
        "id": Element("id"),
        "lotNumber": Element("string"),
        "expirationDate": Element("dateTime"),
        "type": Element("CodeableConcept"),
        "location": Element("Reference", targets=("Location",)),
    },
}
R4_VALUE_SETS = {
    "encounter-status": (
        "http://hl7.org/fhir/encounter-status",
        frozenset(
            [
                "planned",
                "arrived",
                "triaged",
                "in-progress",
                "onleave",
                "finished",
                "cancelled",
                "entered-in-error",
                "unknown",
            ]
        ),
    ),
    "encounter-location-status": (
        "http://hl7.org/fhir/encounter-location-status",
        frozenset(["planned", "active", "reserved", "completed"]),
    ),
    "location-status": (
        "http://hl7.org/fhir/location-status",
        frozenset(["active", "suspended", "inactive"]),
    ),
    "supplyrequest-status": (
        "http://hl7.org/fhir/supplyrequest-status",
        frozenset(
            [
                "draft",
                "active",
                "suspended",
                "cancelled",
                "completed",
                "entered-in-error",
                "unknown",
            ]
        ),
    ),
    "supplydelivery-status": (
        "http://hl7.org/fhir/supplydelivery-status",
        frozenset(["in-progress", "completed", "abandoned", "entered-in-error"]),
    ),
    "supplydelivery-type": (
        "http://terminology.hl7.org/CodeSystem/supply-item-type",
        frozenset(["medication", "device"]),
    ),
}


@pytest.fixture(autouse=True)
def clinic_elements(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, fields in R4_SCHEMA.items():
        monkeypatch.setitem(_fhir_schema.SCHEMA, name, fields)
    for name, value_set in R4_VALUE_SETS.items():
        monkeypatch.setitem(_fhir_schema.REQUIRED_VALUE_SETS, name, value_set)


def wall(h: int, m: int, *, fold: int = 0) -> datetime:
    return datetime(2026, 11, 1, h, m, tzinfo=CHICAGO, fold=fold)


def walk_in() -> Visit:
    """Arrived 01:30 CDT, checked in 01:40 CDT, roomed 01:10 CST, provider 01:50 CST,
    out 02:30 CST: the fall-back night."""
    made = Visit(
        id=VisitId("v-b"),
        patient_id=PATIENT,
        clinic_id=ClinicId("clinic-1"),
        location_id=SITE,
        scheduled_start=wall(1, 30),
        opened_at=wall(1, 30),
        opened_by=MA,
        state=V.ARRIVED,
        appointment_id=AppointmentId("ap-1"),
    )
    made = made.moved(V.CHECKED_IN, by=MA, at=wall(1, 40))
    made = made.moved(V.ROOMED, by=MA, at=wall(1, 10, fold=1), room=RoomId("exam-1"))
    made = made.moved(V.WITH_PROVIDER, by=MA, at=wall(1, 50, fold=1), provider_id=DR)
    return made.moved(V.CHECKED_OUT, by=MA, at=wall(2, 30))


def appointment() -> Appointment:
    return Appointment(
        id=AppointmentId("ap-1"),
        patient_id=PATIENT,
        start=wall(1, 30),
        end=wall(2, 0),
        provider="Dr A",
        location="Main street",
        status=AppointmentStatus.FULFILLED,
    )


def blood_pressure() -> Measurement:
    return Measurement(
        id=MeasurementId("bp-1"),
        patient_id=PATIENT,
        code=LoincCode("85354-9"),
        category=MeasurementCategory.VITAL_SIGNS,
        taken_at=wall(1, 15, fold=1),
        taken_by=MA,
        components=(
            MeasuredValue(
                LoincCode("8480-6"), 172, "mm[Hg]", ReferenceRange(90, 160), Interpretation.HIGH
            ),
            MeasuredValue(
                LoincCode("8462-4"), 88.5, "mm[Hg]", ReferenceRange(50, 100), Interpretation.NORMAL
            ),
        ),
        visit_id=VisitId("v-b"),
    )


def weight() -> Measurement:
    return Measurement(
        id=MeasurementId("w-1"),
        patient_id=PATIENT,
        code=LoincCode("29463-7"),
        category=MeasurementCategory.VITAL_SIGNS,
        taken_at=wall(1, 20, fold=1),
        taken_by=MA,
        value=81.2,
        unit="kg",
        visit_id=VisitId("v-b"),
    )


def ekg() -> Measurement:
    return Measurement(
        id=MeasurementId("ekg-1"),
        patient_id=PATIENT,
        code=LoincCode("11524-6"),
        category=MeasurementCategory.PROCEDURE,
        taken_at=wall(1, 25, fold=1),
        taken_by=MA,
        interpretation=Interpretation.ABNORMAL,
    )


def order_bundle() -> dict[str, Any]:
    gloves = SupplyItem(
        id=SupplyItemId("gloves"),
        clinic_id=ClinicId("clinic-1"),
        location_id=SITE,
        code=SupplyCode("gloves-m"),
        unit="{pair}",
        par_level=20,
        reorder_point=5,
        description="Nitrile gloves, medium",
    )
    order = SupplyOrder(
        id=SupplyOrderId("po:1"),  # not a FHIR id: a stable UUID stands in
        clinic_id=ClinicId("clinic-1"),
        location_id=SITE,
        created_at=wall(9, 0),
        created_by=MA,
        lines=(OrderLine(gloves.id, 20),),
    )
    order = order.transition("ordered", by=MA, at=wall(9, 5))
    receipt = SupplyReceipt(gloves.id, 8, LotNumber("L1"), date(2027, 6, 30))
    order = order.received([(receipt.item_id, receipt.quantity)], by=MA, at=wall(11, 0))
    stocked, movement = post(
        gloves,
        kind=MovementKind.RECEIVED,
        lot_number=receipt.lot_number,
        quantity=8,
        at=wall(11, 0),
        by=MA,
        expires_on=receipt.expires_on,
        order_id=order.id,
    )
    return supply_bundle(order, [stocked], [movement])


def test_a_visit_bundle_is_valid_r4_with_its_status_history_and_locations() -> None:
    bundle = visit_bundle(
        walk_in(), appointment=appointment(), measurements=[blood_pressure(), weight(), ekg()]
    )
    assert bundle_problems(bundle) == []
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == [
        "Location",
        "Location",
        "Encounter",
        "Appointment",
        "Observation",
        "Observation",
        "Observation",
    ]
    encounter = bundle["entry"][2]["resource"]
    assert encounter["status"] == "finished" and encounter["class"]["code"] == "AMB"
    assert encounter["statusHistory"] == [
        {
            "status": "arrived",
            "period": {"start": "2026-11-01T01:30:00-05:00", "end": "2026-11-01T01:10:00-06:00"},
        },
        {
            "status": "triaged",
            "period": {"start": "2026-11-01T01:10:00-06:00", "end": "2026-11-01T01:50:00-06:00"},
        },
        {
            "status": "in-progress",
            "period": {"start": "2026-11-01T01:50:00-06:00", "end": "2026-11-01T02:30:00-06:00"},
        },
        {"status": "finished", "period": {"start": "2026-11-01T02:30:00-06:00"}},
    ]
    site, room = encounter["location"]
    assert site["period"] == {
        "start": "2026-11-01T01:30:00-05:00",
        "end": "2026-11-01T02:30:00-06:00",
    }
    assert room["period"]["start"] == "2026-11-01T01:10:00-06:00" and room["status"] == "completed"
    assert encounter["participant"][0]["individual"]["identifier"]["value"] == "dr-a"
    assert bundle["entry"][3]["resource"]["status"] == "fulfilled"
    bp = bundle["entry"][4]["resource"]
    assert bp["encounter"]["reference"] == bundle["entry"][2]["fullUrl"]
    assert [c["valueQuantity"]["value"] for c in bp["component"]] == [172, 88.5]
    assert bp["component"][0]["interpretation"][0]["coding"][0]["code"] == "H"
    assert "valueQuantity" not in bundle["entry"][6]["resource"]  # the EKG: done, read abnormal
    assert "Main street" not in json.dumps(bundle) and "Dr A" not in json.dumps(bundle)


def test_encounter_statuses_follow_the_day() -> None:
    booked = Visit(
        id=VisitId("v-1"),
        patient_id=PATIENT,
        clinic_id=ClinicId("clinic-1"),
        location_id=SITE,
        scheduled_start=wall(9, 0),
        opened_at=wall(7, 0),
        opened_by=MA,
    )
    assert encounter_resource(booked)["status"] == "planned"
    assert "location" not in encounter_resource(booked)
    roomed = booked.moved(V.ARRIVED, by=MA, at=wall(8, 55)).moved(
        V.CHECKED_IN, by=MA, at=wall(8, 56)
    )
    roomed = roomed.moved(V.ROOMED, by=MA, at=wall(9, 5), room=RoomId("exam-2"))
    made = encounter_resource(roomed)
    assert made["status"] == "triaged" and [x["status"] for x in made["location"]] == [
        "active",
        "active",
    ]
    left = roomed.moved(V.LEFT_WITHOUT_BEING_SEEN, by=MA, at=wall(10, 0))
    assert encounter_resource(left)["status"] == "cancelled"
    assert [h["status"] for h in encounter_resource(left)["statusHistory"]] == [
        "planned",
        "arrived",
        "triaged",
        "cancelled",
    ]


def test_observations_come_back_as_the_measurements_they_were() -> None:
    taken = [blood_pressure(), weight(), ekg()]
    bundle = visit_bundle(walk_in(), measurements=taken)
    back = measurements_from_bundle(bundle)
    # Times come back on their UTC offset (FHIR carries no zone name); as instants they are
    # the same, even in the repeated hour of the fall-back night.
    assert [m.taken_at.astimezone(UTC) for m in back] == [m.taken_at.astimezone(UTC) for m in taken]
    assert [attrs.evolve(m, taken_at=t.taken_at) for m, t in zip(back, taken, strict=True)] == taken


def test_observations_from_elsewhere_are_read() -> None:
    foreign = {
        "resourceType": "Observation",
        "status": "amended",
        "code": {"coding": [{"system": "http://loinc.org", "code": "41653-7"}]},
        "subject": {"reference": "Patient/p-1"},
        "effectivePeriod": {"start": "2026-11-02T08:00:00Z"},
        "performer": [{"reference": "Organization/lab"}, {"reference": "Practitioner/dr-a"}],
        "valueQuantity": {"value": 45, "unit": "mg/dL"},
        "interpretation": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                        "code": "LL",
                    }
                ]
            }
        ],
        "referenceRange": [{"low": {"value": 70, "unit": "mg/dL"}}],
    }
    made = measurement_from_observation(foreign)
    assert (made.patient_id, made.taken_by, made.value, made.unit) == (PATIENT, DR, 45.0, "mg/dL")
    assert made.interpretation is Interpretation.LOW and made.reference_range == ReferenceRange(70)
    assert made.category is MeasurementCategory.LABORATORY  # from the catalogue
    assert made.id == measurement_from_observation(foreign).id  # stable without an id
    assert made.taken_at == datetime(2026, 11, 2, 8, 0, tzinfo=made.taken_at.tzinfo)
    for change, where in (
        ({"effectivePeriod": {"start": "2026-11-02T08:00:00"}}, "effectivePeriod.start"),
        ({"code": {"coding": [{"system": "http://loinc.org", "code": "41653-8"}]}}, "code"),
        ({"status": "preliminary"}, "status"),
        ({"valueQuantity": {"value": 45, "unit": "mg per dL"}}, "valueQuantity"),
        ({"performer": []}, "performer"),
    ):
        broken = {**copy.deepcopy(foreign), **change}
        with pytest.raises(FhirImportError) as info:
            measurement_from_observation(broken)
        assert where in info.value.path and "45" not in str(info.value)
    stood_in = measurement_from_observation(
        {**foreign, "performer": []}, taken_by=MA, patient_id=PatientId("p-2")
    )
    assert (stood_in.taken_by, stood_in.patient_id) == (MA, PATIENT)


def test_a_supply_bundle_is_valid_r4() -> None:
    bundle = order_bundle()
    assert bundle_problems(bundle) == []
    resources = [e["resource"] for e in bundle["entry"]]
    assert [r["resourceType"] for r in resources] == [
        "Location",
        "SupplyRequest",
        "Device",
        "SupplyDelivery",
    ]
    request, device, delivery = resources[1:]
    assert (request["status"], request["quantity"]["value"]) == ("active", 20)
    assert (device["lotNumber"], device["expirationDate"]) == ("L1", "2027-06-30")
    assert delivery["suppliedItem"]["quantity"]["value"] == 8
    assert delivery["basedOn"][0]["reference"] == bundle["entry"][1]["fullUrl"]


def test_the_checker_sees_a_broken_encounter() -> None:
    bundle = visit_bundle(walk_in())
    encounter = bundle["entry"][-1]["resource"]
    encounter["status"] = "waiting"
    encounter["location"][0]["location"]["reference"] = (
        "urn:uuid:00000000-0000-0000-0000-000000000000"
    )
    problems = bundle_problems(bundle)
    assert any("binding:encounter-status" in p for p in problems)
    assert any("ref-resolve" in p for p in problems)


HERE = Path(__file__).resolve().parent / "medplum"


def test_medplum_accepts_the_clinic_resources() -> None:
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules" / "@medplum" / "core").is_dir():
        pytest.skip("node or the Medplum packages are missing (see tests/test_fhir_medplum.py)")
    bundles = [
        visit_bundle(walk_in(), appointment=appointment(), measurements=[blood_pressure(), ekg()]),
        order_bundle(),
    ]
    resources = [e["resource"] for b in bundles for e in b["entry"]]
    canary = copy.deepcopy(resources[2])  # the Encounter, with a period that is no Period
    canary["statusHistory"][0]["period"] = "soon"
    text = "".join(json.dumps(r) + "\n" for r in [*resources, canary])
    with as_file(files("carecoord.fhir").joinpath("conformance")) as folder:
        done = subprocess.run(
            [node, str(HERE / "validate.mjs"), str(folder)],
            input=text,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=300,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    *results, caught = json.loads(done.stdout)["results"]
    assert any(issue["severity"] == "error" for issue in caught["issues"])
    errors = [
        f"{r['resourceType']} {issue['path']}: {issue['message']}"
        for r, result in zip(resources, results, strict=True)
        for issue in result["issues"]
        if issue["severity"] in ("error", "fatal")
    ]
    assert errors == []
