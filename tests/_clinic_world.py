"""The clinic of the clinic-operations tests, on top of tests/world.py.

One clinic in Chicago with two locations: the main site (its inventory kept by the
lead medical assistant) and an annex (kept by the nurse). The lead medical
assistant leads the clinic; the medical assistant and the outsider work its board
(the outsider is on no patient's care team).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from carecoord.model import CareTeamRole, StaffId
from carecoord.model.clinic import Clinic, ClinicId, ClinicLocation, Visit, VisitId
from carecoord.model.supplies import SupplyCode, SupplyItem, SupplyItemId
from carecoord.model.workforce import LocationId
from carecoord.service import CareCoordinator
from carecoord.testing import FixedClock
from world import (
    BOSS,
    CHICAGO,
    COORD,
    LEAD_MA,
    MA,
    NURSE,
    OUTSIDER,
    PATIENT,
    populate,
    staff_member,
)

__all__ = [
    "ANNEX",
    "CLINIC",
    "MAIN",
    "START",
    "STRANGER",
    "clinic",
    "item",
    "opened",
    "visit",
]

CLINIC = ClinicId("clinic-1")
MAIN = LocationId("main")
ANNEX = LocationId("annex")
START = datetime(2026, 10, 30, 12, tzinfo=CHICAGO)
"""The clock when the world is made: before the fall-back night of 2026-11-01."""
STRANGER = StaffId("social-worker")
"""A registered social worker who neither works at the clinic nor holds a staff-wide
permission beyond enrolling."""


def clinic(**changes: Any) -> Clinic:
    made = Clinic(
        id=CLINIC,
        time_zone="America/Chicago",
        lead_id=LEAD_MA,
        locations=(
            ClinicLocation(MAIN, inventory_owner_id=LEAD_MA),
            ClinicLocation(ANNEX, inventory_owner_id=NURSE),
        ),
        staff_ids=(MA, OUTSIDER),
    )
    return attrs.evolve(made, **changes)


def opened(
    store: Any = None, *, at: datetime = START, sink: Any = None, **changes: Any
) -> tuple[CareCoordinator, FixedClock]:
    """A service with the shared world populated and the clinic saved, the clock at ``at``
    (events handed to ``sink`` when given)."""
    clock = FixedClock(at)
    service = CareCoordinator(store=store, clock=clock, event_handlers=[sink] if sink else [])
    populate(service, clock)
    service.register_staff(staff_member(STRANGER, CareTeamRole.SOCIAL_WORKER), actor=BOSS)
    service.save_clinic(clinic(**changes), actor=COORD)
    return service, clock


def visit(vid: str, scheduled: datetime, **changes: Any) -> Visit:
    fields: dict[str, Any] = {
        "id": VisitId(vid),
        "patient_id": PATIENT,
        "clinic_id": CLINIC,
        "location_id": MAIN,
        "scheduled_start": scheduled,
        "opened_at": START,
        "opened_by": MA,
    }
    fields.update(changes)
    return Visit(**fields)


def item(
    iid: str, *, location: LocationId = MAIN, code: str = "gloves-m", **changes: Any
) -> SupplyItem:
    fields: dict[str, Any] = {
        "id": SupplyItemId(iid),
        "clinic_id": CLINIC,
        "location_id": location,
        "code": SupplyCode(code),
        "unit": "{pair}",
        "par_level": 20,
        "reorder_point": 5,
        "description": "Nitrile gloves, medium",
    }
    fields.update(changes)
    return SupplyItem(**fields)
