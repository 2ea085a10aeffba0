"""FHIR R4 export of the community resource directory (Organization, Location,
HealthcareService), checked by the independent checker and ``fhir.resources`` R4B models.

The checker (tests/_fhir_checks.py) knows only the elements carecoord's patient export
writes; the R4 (4.0.1) elements of Location and HealthcareService are added here.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings

import _fhir_schema
from _fhir_checks import bundle_problems
from _fhir_schema import Element
from carecoord import ValidationError
from carecoord.directory.hsds import services_from_hsds
from carecoord.fhir._common import ext_url, id_system
from carecoord.fhir._derived import SDOH_SYSTEM
from carecoord.fhir._export_directory import BCP47, SERVICE_PROVISION, directory_bundle
from carecoord.model.directory import DirectoryService, DirectoryServiceId
from carecoord.testing._strategies_programs import directory_services

SAMPLE = Path(__file__).parent / "hsds" / "eastside.json"
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
R4_SCHEMA = {
    "Address": {**_fhir_schema.SCHEMA["Address"], "text": Element("string")},
    "Location": {
        "id": Element("id"),
        "extension": Element("Extension", many=True),
        "identifier": Element("Identifier", many=True),
        "status": Element("code", binding="location-status"),
        "name": Element("string"),
        "address": Element("Address"),
        "position": Element("Location.position"),
        "hoursOfOperation": Element("Location.hoursOfOperation", many=True),
    },
    "Location.position": {
        "longitude": Element("decimal", required=True),
        "latitude": Element("decimal", required=True),
    },
    "Location.hoursOfOperation": {
        "daysOfWeek": Element("code", many=True, binding="days-of-week"),
        "allDay": Element("boolean"),
        "openingTime": Element("time"),
        "closingTime": Element("time"),
    },
    "HealthcareService": {
        "id": Element("id"),
        "identifier": Element("Identifier", many=True),
        "active": Element("boolean"),
        "providedBy": Element("Reference", targets=("Organization",)),
        "category": Element("CodeableConcept", many=True),
        "location": Element("Reference", many=True, targets=("Location",)),
        "name": Element("string"),
        "comment": Element("string"),
        "telecom": Element("ContactPoint", many=True),
        "serviceProvisionCode": Element("CodeableConcept", many=True),
        "eligibility": Element("HealthcareService.eligibility", many=True),
        "communication": Element("CodeableConcept", many=True),
        "availableTime": Element("HealthcareService.availableTime", many=True),
    },
    "HealthcareService.eligibility": {
        "code": Element("CodeableConcept"),
        "comment": Element("string"),
    },
    "HealthcareService.availableTime": {
        "daysOfWeek": Element("code", many=True, binding="days-of-week"),
        "allDay": Element("boolean"),
        "availableStartTime": Element("time"),
        "availableEndTime": Element("time"),
    },
}
R4_VALUE_SETS = {
    "location-status": (
        "http://hl7.org/fhir/location-status",
        frozenset(["active", "suspended", "inactive"]),
    ),
    "days-of-week": (
        "http://hl7.org/fhir/days-of-week",
        frozenset(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
    ),
}


@pytest.fixture(autouse=True)
def directory_elements(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, fields in R4_SCHEMA.items():
        monkeypatch.setitem(_fhir_schema.SCHEMA, name, fields)
    for name, value_set in R4_VALUE_SETS.items():
        monkeypatch.setitem(_fhir_schema.REQUIRED_VALUE_SETS, name, value_set)


def sample() -> tuple[DirectoryService, ...]:
    return services_from_hsds(json.loads(SAMPLE.read_text(encoding="utf-8")))


def valid(bundle: dict[str, Any]) -> None:
    """No problem for the checker; the R4B models accept it (after a JSON round trip)."""
    from fhir.resources.R4B.bundle import Bundle

    text = json.loads(json.dumps(bundle))
    assert bundle_problems(text) == []
    Bundle.model_validate(copy.deepcopy(text))


def test_the_sample_directory_is_valid_r4_and_says_what_readers_look_for() -> None:
    pantry, navigator = sample()
    bundle = directory_bundle([pantry, navigator])
    valid(bundle)
    assert bundle == directory_bundle([pantry, navigator])  # deterministic
    assert bundle["type"] == "collection"
    resources = [e["resource"] for e in bundle["entry"]]
    assert [r["resourceType"] for r in resources] == [
        "Organization",
        "Organization",
        "Location",
        "Location",
        "HealthcareService",
        "HealthcareService",
    ]
    url_of = {e["resource"]["id"]: e["fullUrl"] for e in bundle["entry"]}
    food_bank, harbor, hall, office, pantry_hs, navigator_hs = resources
    assert food_bank["id"] == "org-eastside" and food_bank["name"] == "Eastside Food Bank"
    assert food_bank["identifier"] == [
        {"system": id_system("directory-organization"), "value": "org-eastside"}
    ]
    assert harbor["telecom"] == [{"system": "url", "value": "https://harbor.example.org"}]
    assert hall["extension"] == [{"url": ext_url("time-zone"), "valueString": "America/New_York"}]
    assert hall["position"] == {"latitude": 40.6501, "longitude": -73.9496}
    assert hall["address"] == {"text": "1 Church Ave, Brooklyn, NY, 11226"}
    assert hall["hoursOfOperation"] == [
        {"daysOfWeek": ["mon"], "openingTime": "09:00:00", "closingTime": "17:00:00"},
        {"daysOfWeek": ["wed"], "openingTime": "09:00:00", "closingTime": "17:00:00"},
        {"daysOfWeek": ["sat"], "openingTime": "10:00:00", "closingTime": "14:00:00"},
    ]
    assert office["hoursOfOperation"][0]["closingTime"] == "23:59:00"
    assert pantry_hs["providedBy"] == {"reference": url_of["org-eastside"], "type": "Organization"}
    assert pantry_hs["location"] == [{"reference": url_of["loc-flatbush"], "type": "Location"}]
    assert pantry_hs["category"] == [
        {"coding": [{"system": SDOH_SYSTEM, "code": "food-insecurity"}]}
    ]
    assert pantry_hs["communication"] == [
        {"coding": [{"system": BCP47, "code": "en"}]},
        {"coding": [{"system": BCP47, "code": "es"}]},
    ]
    assert pantry_hs["eligibility"] == [{"comment": "Residents of Kings County"}]
    assert pantry_hs["serviceProvisionCode"] == [
        {"coding": [{"system": SERVICE_PROVISION, "code": "free"}]}
    ]
    assert pantry_hs["telecom"] == [
        {"system": "phone", "value": "+1 718 555 0100"},
        {"system": "email", "value": "pantry@eastside.example.org"},
        {"system": "url", "value": "https://eastside.example.org/pantry"},
    ]
    assert pantry_hs["availableTime"][2] == {
        "daysOfWeek": ["sat"],
        "availableStartTime": "10:00:00",
        "availableEndTime": "14:00:00",
    }
    assert pantry_hs["active"] is True and pantry_hs["comment"].startswith("Groceries")
    assert "availableTime" not in navigator_hs  # two places, two sets of hours
    assert [r["reference"] for r in navigator_hs["location"]] == [
        url_of["loc-harbor-office"],
        url_of["loc-flatbush"],
    ]
    assert navigator_hs["serviceProvisionCode"][0]["coding"][0]["code"] == "disc"


def test_an_id_fhir_does_not_allow_is_replaced_by_a_stable_uuid() -> None:
    pantry = attrs.evolve(sample()[0], id=DirectoryServiceId("svc_pantry"))
    bundle = directory_bundle([pantry])
    valid(bundle)
    service = bundle["entry"][-1]["resource"]
    assert service["id"] != "svc_pantry" and len(service["id"]) == 36
    assert service["identifier"][0]["value"] == "svc_pantry"
    assert bundle["entry"][-1]["fullUrl"] == "urn:uuid:" + service["id"]


@FAST
@given(service=directory_services())
def test_every_service_exports_as_valid_r4(service: DirectoryService) -> None:
    bundle = directory_bundle([service])
    valid(bundle)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == ["Organization"] + ["Location"] * len(service.locations) + ["HealthcareService"]


def test_the_checker_sees_a_location_without_its_latitude() -> None:
    bundle = directory_bundle(sample())
    del bundle["entry"][2]["resource"]["position"]["latitude"]
    assert bundle_problems(bundle) == [
        "Bundle.entry[2].resource.position.latitude: cardinality: required element missing"
    ]


def test_two_services_giving_one_location_different_details_are_refused() -> None:
    pantry, navigator = sample()
    moved = attrs.evolve(navigator.locations[1], latitude=0.0)
    with pytest.raises(ValidationError):
        directory_bundle(
            [pantry, attrs.evolve(navigator, locations=(navigator.locations[0], moved))]
        )
