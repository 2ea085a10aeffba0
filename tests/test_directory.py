"""The community resource directory: opening hours across a DST change, distance and
language checked by hand, the explained ranking, the index rows, and the service layer
(search reads only the asked categories' rows, a closed service drops out)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, time

import attrs
import pytest
from hypothesis import given, settings

from carecoord import AccessDeniedError, ValidationError
from carecoord.directory import (
    DirectoryQuery,
    haversine_km,
    open_interval,
    search_facts,
    speaks,
)
from carecoord.model.directory import (
    CapacityStatus,
    DirectoryFacts,
    DirectoryService,
    DirectoryServiceId,
    OpeningHours,
    ServiceLocation,
    ServiceLocationId,
    ServiceOrganization,
    ServiceOrganizationId,
)
from carecoord.service import CareCoordinator
from carecoord.service.directory import DIRECTORY_CATEGORY
from carecoord.storage import Store
from carecoord.storage._program_rows import DIRECTORY_CATEGORY as ROWS_CATEGORY
from carecoord.storage._program_rows import program_rows
from carecoord.storage.port import IndexHit, StoredRecord, WorkQuery
from carecoord.testing import FixedClock, ForwardingStore
from carecoord.testing._strategies_programs import directory_services
from world import COORD, NURSE, T0, populate

NY_WEEKDAYS = tuple(OpeningHours(day, time(9), time(17)) for day in range(5))
ORG = ServiceOrganization(ServiceOrganizationId("org-1"), "Aid")


def place(lid: str, lat: float, lon: float, zone: str = "America/New_York") -> ServiceLocation:
    return ServiceLocation(ServiceLocationId(lid), lid, lat, lon, zone, NY_WEEKDAYS)


def service(sid: str, *locations: ServiceLocation, **kw: object) -> DirectoryService:
    return DirectoryService(
        id=DirectoryServiceId(sid),
        name=sid,
        organization=ORG,
        categories=kw.pop("categories", ("food-insecurity",)),  # type: ignore[arg-type]
        locations=locations,
        **kw,  # type: ignore[arg-type]
    )


def rows_of(*services: DirectoryService) -> list[tuple[str, DirectoryFacts]]:
    return [
        (str(r.owner_id), DirectoryFacts.from_detail(r.detail or ""))
        for s in services
        for r in program_rows(s)
        if r.is_open
    ]


# ------------------------------------------------------------------ hand-checked rules
def test_distance_by_hand() -> None:
    # one degree along a meridian is pi * R / 180 = 111.195 km
    assert haversine_km(0, 0, 1, 0) == pytest.approx(111.195, abs=0.001)
    # London to Paris: 343.5 km (published great-circle distance)
    assert haversine_km(51.5074, -0.1278, 48.8566, 2.3522) == pytest.approx(343.5, abs=0.5)
    # antipodes: half the circumference
    assert haversine_km(0, 0, 0, 180) == pytest.approx(math.pi * 6371.0088)


def test_opening_hours_hold_local_time_across_the_dst_change() -> None:
    # New York springs forward on Sunday 9 March 2025. 13:30 UTC on Monday 3 March is
    # 08:30 EST (closed); on Monday 10 March it is 09:30 EDT (open).
    zone = "America/New_York"
    assert open_interval(NY_WEEKDAYS, zone, datetime(2025, 3, 3, 13, 30, tzinfo=UTC)) is None
    assert (
        open_interval(NY_WEEKDAYS, zone, datetime(2025, 3, 10, 13, 30, tzinfo=UTC))
        == (NY_WEEKDAYS[0])
    )
    # 21:30 UTC: 16:30 EST (open) before, 17:30 EDT (closed) after
    assert open_interval(NY_WEEKDAYS, zone, datetime(2025, 3, 3, 21, 30, tzinfo=UTC))
    assert open_interval(NY_WEEKDAYS, zone, datetime(2025, 3, 10, 21, 30, tzinfo=UTC)) is None
    # Saturday: closed all day; closing time is exclusive, opening inclusive
    assert open_interval(NY_WEEKDAYS, zone, datetime(2025, 3, 8, 16, tzinfo=UTC)) is None
    assert open_interval(NY_WEEKDAYS, zone, datetime(2025, 3, 10, 13, tzinfo=UTC))
    assert open_interval(NY_WEEKDAYS, zone, datetime(2025, 3, 10, 21, tzinfo=UTC)) is None
    with pytest.raises(ValidationError):
        open_interval(NY_WEEKDAYS, zone, datetime(2025, 3, 10, 12))  # naive


def test_language_matching_by_hand() -> None:
    assert speaks(("en", "es-MX"), "es")
    assert speaks(("es",), "es-MX")
    assert speaks(("EN",), "en-us")
    assert not speaks(("en", "es"), "zh")


def test_search_filters_ranks_and_explains() -> None:
    manhattan = (40.7128, -74.0060)
    near = service("near", place("n1", 40.7306, -73.9352), languages=("en", "es"))
    far = service(
        "far",
        place("f1", 40.6782, -73.9442),
        place("f2", 41.5, -74.0),
        capacity=CapacityStatus.WAITLIST,
    )
    english = service("english", place("e1", 40.72, -74.0), languages=("en",))
    phone = service("phone", languages=("es",))  # no place
    housing = service("housing", place("h1", 40.71, -74.0), categories=("housing-instability",))
    closed = service("closed", place("c1", 40.71, -74.0), active=False)
    rows = rows_of(near, far, english, phone, housing, closed)
    monday_10 = datetime(2025, 3, 10, 14, tzinfo=UTC)  # 10:00 EDT

    found = search_facts(rows, DirectoryQuery(("food-insecurity",), language="es", near=manhattan))
    assert [m.service_id for m in found] == ["near", "phone"]
    top = found[0]
    # by hand: 0.0178 deg north = 1.979 km; 0.0708 deg east * cos(40.72 deg) * 111.195 km
    # = 5.968 km; sqrt(1.979^2 + 5.968^2) = 6.29 km
    assert top.distance_km == pytest.approx(6.29, abs=0.01)
    assert top.reasons == (
        "meets food-insecurity",
        "speaks es",
        "6.3 km away",
        "accepting new clients",
    )
    assert found[1].reasons[2] == "no place to visit (by phone or online)"

    # open at 10:00 EDT within 10 km: the phone service has no hours, far's second place
    # (about 90 km away) is out, and accepting ranks before the waitlist
    found = search_facts(
        rows,
        DirectoryQuery(("food-insecurity",), open_at=monday_10, near=manhattan, within_km=10),
    )
    assert [m.service_id for m in found] == ["english", "near", "far"]
    assert found[2].location_id == "f1"
    assert found[2].open_until == "17:00 America/New_York"
    assert "waitlist" in found[2].reasons
    # Saturday: nothing is open
    saturday = datetime(2025, 3, 8, 15, tzinfo=UTC)
    assert search_facts(rows, DirectoryQuery(("food-insecurity",), open_at=saturday)) == ()
    # two needs: the service meeting both ranks first
    both = service(
        "both", place("b1", 45.0, -74.0), categories=("food-insecurity", "housing-instability")
    )
    found = search_facts(
        rows_of(both, near, housing),
        DirectoryQuery(("food-insecurity", "housing-instability"), near=manhattan, limit=2),
    )
    assert [m.service_id for m in found] == ["both", "housing"]
    assert found[0].reasons[0] == "meets food-insecurity, housing-instability"


def test_service_radius_and_full_capacity() -> None:
    small = service("small", place("s1", 40.8, -74.0), service_radius_km=5.0)
    full = service("full", place("u1", 40.7, -74.0), capacity=CapacityStatus.FULL)
    rows = rows_of(small, full)
    query = DirectoryQuery(("food-insecurity",), near=(40.7, -74.0))  # 11.1 km from small
    assert [m.service_id for m in search_facts(rows, query)] == ["full"]
    assert search_facts(rows, DirectoryQuery(("food-insecurity",), include_full=False)) == (
        search_facts(rows_of(small), DirectoryQuery(("food-insecurity",)))
    )


def test_invalid_directory_values_are_rejected() -> None:
    with pytest.raises(ValidationError):
        OpeningHours(0, time(17), time(9))
    with pytest.raises(ValidationError):
        ServiceLocation(ServiceLocationId("x"), "x", 91.0, 0.0, "UTC")
    with pytest.raises(ValidationError):
        ServiceLocation(
            ServiceLocationId("x"),
            "x",
            0.0,
            0.0,
            "UTC",
            (OpeningHours(0, time(9), time(12)), OpeningHours(0, time(11), time(13))),
        )
    with pytest.raises(ValidationError):
        service("x", categories=("Food Insecurity",))
    with pytest.raises(ValidationError):
        DirectoryQuery(("food-insecurity",), within_km=5)
    with pytest.raises(ValidationError):
        DirectoryFacts.from_detail("not|facts")


@settings(max_examples=40, deadline=None)
@given(directory_services())
def test_index_rows_keep_every_fact(svc: DirectoryService) -> None:
    rows = program_rows(svc)
    assert len(rows) == len(svc.categories) * max(1, len(svc.locations))
    facts = DirectoryFacts.of(svc)
    for row in rows:
        assert len((row.detail or "").encode()) < 1500
        assert DirectoryFacts.from_detail(row.detail or "") in facts
        assert row.owner_id in svc.categories and row.is_open is svc.active


# ------------------------------------------------------------------ the service layer
class Counting(ForwardingStore):
    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.queries: list[WorkQuery] = []
        self.reads: list[str] = []

    def query(self, query: WorkQuery) -> Sequence[IndexHit]:
        self.queries.append(query)
        return super().query(query)

    def read(self, kind: str, record_id: str) -> StoredRecord | None:
        self.reads.append(kind)
        return super().read(kind, record_id)


def test_search_reads_only_the_asked_category(any_store: Store) -> None:
    assert DIRECTORY_CATEGORY == ROWS_CATEGORY
    store = Counting(any_store)
    clock = FixedClock(T0)
    coordinator = CareCoordinator(store=store, clock=clock)
    populate(coordinator, clock)
    pantry = coordinator.save_directory_service(
        service("pantry", place("p1", 40.73, -73.93), languages=("en", "es")), actor=COORD
    )
    for i in range(5):
        coordinator.save_directory_service(
            service(f"house-{i}", place(f"h{i}", 40.7, -74.0), categories=("housing-instability",)),
            actor=COORD,
        )
    store.queries.clear()
    store.reads.clear()
    found = coordinator.search_directory(
        DirectoryQuery(("food-insecurity",), language="es"), actor=NURSE
    )
    assert [m.service_id for m in found] == ["pantry"]
    directory_queries = [q for q in store.queries if q.category == DIRECTORY_CATEGORY]
    assert [q.owner_ids for q in directory_queries] == [("food-insecurity",)]
    assert "DirectoryService" not in store.reads
    hits = any_store.query(WorkQuery(category=DIRECTORY_CATEGORY, owner_ids=("food-insecurity",)))
    assert len(hits) == 1  # the five housing services are not in the rows read

    # closing it (a new revision) drops it from the search; a stale copy conflicts
    closed = coordinator.save_directory_service(attrs.evolve(pantry, active=False), actor=COORD)
    assert closed.revision == 2
    assert coordinator.search_directory(DirectoryQuery(("food-insecurity",)), actor=COORD) == ()
    assert coordinator.directory_service(pantry.id, actor=NURSE).active is False
    with pytest.raises(AccessDeniedError):
        coordinator.save_directory_service(closed, actor=NURSE)
