"""Referrals to community directory services: the target check, the index rows and
the coordinator's directory alerts when a service closes or changes (issue 18)."""

from __future__ import annotations

from datetime import time, timedelta

import attrs
import pytest

from carecoord import (
    AccessDeniedError,
    NotFoundError,
    Referral,
    ReferralId,
    ReferralTargetKind,
    ValidationError,
)
from carecoord.model import ExternalRef
from carecoord.model.directory import (
    DirectoryService,
    DirectoryServiceId,
    OpeningHours,
    ServiceLocation,
    ServiceLocationId,
    ServiceOrganization,
    ServiceOrganizationId,
    directory_target,
    target_service_id,
)
from carecoord.service import CareCoordinator
from carecoord.storage.port import Store, WorkQuery
from carecoord.testing import FixedClock
from world import BOSS, COORD, MA, PATIENT, populate
from world import T0 as WORLD_T0

T0 = WORLD_T0 + timedelta(days=1)
DAY = timedelta(days=1)
PANTRY_ID = DirectoryServiceId("pantry")
PANTRY = DirectoryService(
    id=PANTRY_ID,
    name="Pantry",
    organization=ServiceOrganization(ServiceOrganizationId("org"), "Aid"),
    categories=("food-insecurity",),
    locations=(
        ServiceLocation(
            ServiceLocationId("main"),
            "Main",
            41.9,
            -87.6,
            "America/Chicago",
            hours=(OpeningHours(0, time(9), time(17)),),
        ),
    ),
)


def _referral(n: str, target: ExternalRef | None = None) -> Referral:
    return Referral(
        id=ReferralId(n),
        patient_id=PATIENT,
        requested_by=COORD,
        created_at=T0,
        target_kind=ReferralTargetKind.COMMUNITY_RESOURCE,
        target_name="Pantry",
        service="Parcels",
        target=directory_target(PANTRY) if target is None else target,
    )


@pytest.fixture
def world(any_store: Store) -> tuple[CareCoordinator, FixedClock, Store]:
    clock = FixedClock(WORLD_T0)
    service = CareCoordinator(store=any_store, clock=clock)
    populate(service, clock)
    service.save_directory_service(PANTRY, actor=BOSS)
    clock.set(T0)
    return service, clock, any_store


def test_directory_target_round_trips() -> None:
    ref = directory_target(PANTRY)
    assert ref.reference == "HealthcareService/pantry"
    assert target_service_id(ref) == PANTRY_ID
    assert target_service_id(None) is None
    assert target_service_id(ExternalRef(reference="Organization/org-7")) is None
    assert target_service_id(ExternalRef(reference="HealthcareService/x/_history/2")) is None


def test_target_must_exist_and_be_active(world: tuple[CareCoordinator, FixedClock, Store]) -> None:
    service, _, _ = world
    missing = ExternalRef(reference="HealthcareService/nowhere")
    with pytest.raises(NotFoundError):
        service.create_referral(_referral("r-x", missing), actor=COORD)
    stored = service.directory_service(PANTRY_ID, actor=COORD)
    service.save_directory_service(attrs.evolve(stored, active=False), actor=BOSS)
    with pytest.raises(ValidationError):
        service.create_referral(_referral("r-y"), actor=COORD)
    outside = ExternalRef(reference="Organization/org-7")
    assert service.create_referral(_referral("r-z", outside), actor=COORD).target == outside


def test_open_referrals_to_a_service_are_one_query(
    world: tuple[CareCoordinator, FixedClock, Store],
) -> None:
    service, _, store = world
    service.create_referral(_referral("r-1"), actor=COORD)
    service.create_referral(_referral("r-2"), actor=COORD)
    service.set_referral_status(ReferralId("r-2"), "entered-in-error", reason="typo", actor=COORD)
    hits = store.query(WorkQuery(category="referral-target", owner_ids=(str(PANTRY_ID),)))
    assert [(h.row.item_id, h.row.detail) for h in hits] == [("r-1", str(COORD))]


def test_closing_or_changing_a_service_flags_open_referrals(
    world: tuple[CareCoordinator, FixedClock, Store],
) -> None:
    service, clock, _ = world
    service.create_referral(_referral("r-1"), actor=COORD)
    assert service.directory_alerts(COORD, actor=COORD) == []
    clock.set(T0 + DAY)
    stored = service.directory_service(PANTRY_ID, actor=COORD)
    stored = service.save_directory_service(
        attrs.evolve(stored, description="New text"), actor=BOSS
    )
    assert stored.changed_at is None  # not a change a referral relies on
    assert service.directory_alerts(COORD, actor=COORD) == []
    stored = service.save_directory_service(
        attrs.evolve(stored, locations=(attrs.evolve(PANTRY.locations[0], hours=()),)),
        actor=BOSS,
    )
    (alert,) = service.directory_alerts(COORD, actor=COORD)
    assert (alert.referral_id, alert.patient_id, alert.service_id) == ("r-1", PATIENT, PANTRY_ID)
    assert (alert.closed, alert.changed_at) == (False, T0 + DAY)
    # A referral made after the change is not flagged; closing flags both.
    clock.set(T0 + 2 * DAY)
    later = attrs.evolve(_referral("r-2"), created_at=T0 + 2 * DAY)
    service.create_referral(later, actor=COORD)
    assert [a.referral_id for a in service.directory_alerts(COORD, actor=COORD)] == ["r-1"]
    service.save_directory_service(attrs.evolve(stored, active=False), actor=BOSS)
    alerts = service.directory_alerts(COORD, actor=COORD)
    assert sorted(a.referral_id for a in alerts) == ["r-1", "r-2"]
    assert all(a.closed for a in alerts)
    # A closed loop is no longer flagged.
    service.set_referral_status(ReferralId("r-1"), "entered-in-error", reason="typo", actor=COORD)
    assert [a.referral_id for a in service.directory_alerts(COORD, actor=COORD)] == ["r-2"]


def test_alerts_are_checked_like_the_caseload(
    world: tuple[CareCoordinator, FixedClock, Store],
) -> None:
    service, _, _ = world
    with pytest.raises(AccessDeniedError):
        service.directory_alerts(COORD, actor=MA)
    assert service.directory_alerts(COORD, actor=BOSS) == []
