"""Open Referral HSDS 3.0 load and save of the directory (carecoord.directory.hsds)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, assume, given, settings

from carecoord import StructureError, ValidationError
from carecoord.directory import open_interval
from carecoord.directory.hsds import services_from_hsds, services_to_hsds
from carecoord.model.directory import (
    CapacityStatus,
    DirectoryService,
    OpeningHours,
    ServiceCost,
    ServiceLocationId,
)
from carecoord.testing._strategies_programs import directory_services

SAMPLES = Path(__file__).parent / "hsds"
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
    return data


def through_json(services: list[DirectoryService]) -> tuple[DirectoryService, ...]:
    return services_from_hsds(json.loads(json.dumps(services_to_hsds(services))))


@FAST
@given(service=directory_services())
def test_every_service_round_trips(service: DirectoryService) -> None:
    assert through_json([service]) == (service,)


@FAST
@given(first=directory_services(), second=directory_services())
def test_several_services_round_trip_in_order(
    first: DirectoryService, second: DirectoryService
) -> None:
    assume(first.id != second.id and first.organization.id != second.organization.id)
    assume(not {loc.id for loc in first.locations} & {loc.id for loc in second.locations})
    assert through_json([first, second]) == (first, second)


def test_the_eastside_sample_is_read_field_by_field() -> None:
    pantry, navigator = services_from_hsds(load("eastside.json"))
    assert pantry.id == "svc-pantry" and pantry.name == "Eastside Pantry"
    assert pantry.organization.id == "org-eastside"
    assert pantry.organization.name == "Eastside Food Bank"
    assert pantry.organization.url == "https://eastside.example.org"
    assert pantry.categories == ("food-insecurity",)
    assert pantry.languages == ("en", "es")
    assert pantry.description == "Groceries once a week, no questions asked."
    assert pantry.eligibility == "Residents of Kings County"
    assert pantry.service_area == "Kings County" and pantry.service_radius_km == 12.5
    assert pantry.cost is ServiceCost.FREE and pantry.capacity is CapacityStatus.ACCEPTING
    assert pantry.contact.phone == "+1 718 555 0100"  # the first phone only
    assert pantry.contact.email == "pantry@eastside.example.org"
    assert pantry.contact.url == "https://eastside.example.org/pantry"
    assert pantry.active
    (hall,) = pantry.locations
    assert hall.id == "loc-flatbush" and hall.name == "Flatbush church hall"
    assert (hall.latitude, hall.longitude) == (40.6501, -73.9496)
    assert hall.time_zone == "America/New_York"
    assert hall.address == "1 Church Ave, Brooklyn, NY, 11226"
    assert hall.hours == (  # "MO,WE" is two intervals
        OpeningHours(0, time(9), time(17)),
        OpeningHours(2, time(9), time(17)),
        OpeningHours(5, time(10), time(14)),
    )
    assert navigator.organization.url == "https://harbor.example.org"  # url for website
    assert navigator.categories == ("housing-instability", "homelessness")
    assert navigator.cost is ServiceCost.SLIDING_SCALE
    assert navigator.capacity is CapacityStatus.WAITLIST
    assert navigator.contact == attrs.evolve(navigator.contact, phone=None, url=None)
    assert navigator.contact.email == "intake@harbor.example.org"  # from its contact
    assert [loc.id for loc in navigator.locations] == ["loc-harbor-office", "loc-flatbush"]
    assert navigator.locations[1] == hall
    office = navigator.location(ServiceLocationId("loc-harbor-office"))
    # the service-at-location schedule; the service's own Friday schedule has no place
    assert office.hours == (OpeningHours(1, time(8, 30), time(23, 59)),)
    assert office.address is None


def test_the_hours_hold_across_the_march_dst_change() -> None:
    (hall,) = services_from_hsds(load("eastside.json"))[0].locations
    winter = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)  # Monday 09:30 EST
    summer = datetime(2026, 3, 9, 13, 30, tzinfo=UTC)  # Monday 09:30 EDT (DST from 8 March)
    early = datetime(2026, 3, 2, 13, 30, tzinfo=UTC)  # Monday 08:30 EST
    assert open_interval(hall.hours, hall.time_zone, winter) == hall.hours[0]
    assert open_interval(hall.hours, hall.time_zone, summer) == hall.hours[0]
    assert open_interval(hall.hours, hall.time_zone, early) is None
    written = services_to_hsds(services_from_hsds(load("eastside.json")))
    monday = written["schedules"][0]
    assert (monday["byday"], monday["opens_at"], monday["closes_at"]) == ("MO", "09:00", "17:00")
    assert monday["timezone"] == "America/New_York"


def test_the_westside_sample_is_read_field_by_field() -> None:
    meals, rides = services_from_hsds(load("westside.json"))
    assert not meals.active  # "temporarily closed"
    assert meals.cost is ServiceCost.UNKNOWN  # free text that is no cost code
    assert meals.capacity is CapacityStatus.FULL
    assert meals.languages == ()
    (kitchen,) = meals.locations
    assert (kitchen.latitude, kitchen.longitude) == (40.7711, -73.987)  # numeric strings
    assert kitchen.time_zone == "America/New_York"  # from its schedule
    assert kitchen.hours == (OpeningHours(6, time(17), time(19, 30)),)
    assert meals.organization.url is None
    assert rides.locations == () and rides.active
    assert rides.languages == ("vi", "zh-Hant")
    assert rides.contact.phone == "311"
    assert rides.capacity is CapacityStatus.ACCEPTING


@pytest.mark.parametrize("name", ["eastside.json", "westside.json"])
def test_the_samples_round_trip(name: str) -> None:
    services = services_from_hsds(load(name))
    assert through_json(list(services)) == services
    written = services_to_hsds(services)
    assert [o["id"] for o in written["organizations"]] == sorted(
        {str(s.organization.id) for s in services},
        key=[str(s.organization.id) for s in services].index,
    )
    assert len({loc["id"] for loc in written.get("locations", [])}) == len(
        written.get("locations", [])
    )


def broken(path: str, change: Any) -> StructureError:
    data = copy.deepcopy(load("eastside.json"))
    change(data)
    with pytest.raises(StructureError) as caught:
        services_from_hsds(data)
    assert caught.value.paths == (path,)
    assert "SECRET" not in str(caught.value)
    return caught.value


def test_what_the_model_needs_and_the_document_lacks_is_named() -> None:
    broken("$.services[1].name", lambda d: d["services"][1].pop("name"))
    broken("$.services[0].carecoord.categories", lambda d: d["services"][0].pop("carecoord"))
    broken("$.locations[0].latitude", lambda d: d["locations"][0].pop("latitude"))
    broken("$.organizations[1].id", lambda d: d["organizations"][1].pop("id"))


def test_a_malformed_value_is_named_without_echoing_it() -> None:
    broken("$.locations[1].timezone", lambda d: d["locations"][1].update(timezone="SECRET"))
    broken("$.locations[0].latitude", lambda d: d["locations"][0].update(latitude="SECRET"))
    broken("$.locations[0].latitude", lambda d: d["locations"][0].update(latitude=91.0))
    broken("$.services[0].name", lambda d: d["services"][0].update(name=["SECRET"]))
    broken("$.schedules[0].byday", lambda d: d["schedules"][0].update(byday="SECRET"))
    broken("$.schedules[1].opens_at", lambda d: d["schedules"][1].update(opens_at="SECRET"))
    broken("$.schedules[1].freq", lambda d: d["schedules"][1].update(freq="DAILY"))
    broken("$.schedules[1].closes_at", lambda d: d["schedules"][1].update(closes_at="09:00"))
    broken(
        "$.services[0].carecoord.categories",
        lambda d: d["services"][0]["carecoord"].update(categories=["SECRET CODE"]),
    )
    broken(
        "$.services[1].carecoord.capacity",
        lambda d: d["services"][1]["carecoord"].update(capacity="SECRET"),
    )
    broken("$.services[0].organization_id", lambda d: d["services"][0].update(organization_id="x"))
    broken(
        "$.service_at_locations[0].location_id",
        lambda d: d["service_at_locations"][0].update(location_id="x"),
    )
    broken("$.phones", lambda d: d.update(phones={"SECRET": 1}))
    broken("$.languages[2]", lambda d: d["languages"].__setitem__(2, "SECRET"))


def test_a_document_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(StructureError) as caught:
        services_from_hsds(["SECRET"])  # type: ignore[arg-type]
    assert caught.value.paths == ("$",)


def test_two_services_giving_one_location_different_details_are_refused() -> None:
    pantry, navigator = services_from_hsds(load("eastside.json"))
    moved = attrs.evolve(navigator.locations[1], name="Elsewhere")
    other = attrs.evolve(navigator, locations=(navigator.locations[0], moved))
    with pytest.raises(ValidationError) as caught:
        services_to_hsds([pantry, other])
    assert caught.value.field == "id"
    renamed = attrs.evolve(pantry.organization, name="Other name")
    with pytest.raises(ValidationError):
        services_to_hsds([pantry, attrs.evolve(navigator, organization=renamed)])
