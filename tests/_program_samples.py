"""One sample of every programs-and-community-resources record kind, for the PHI walk
(tests/test_phi.py), and the plain ``str`` fields of those records that are not PHI.

Directory data is public information about community services, never about a patient:
its text fields are listed in :data:`PROGRAM_NOT_PHI` with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from typing import Any

from carecoord.model.directory import (
    CapacityStatus,
    DirectoryService,
    DirectoryServiceId,
    OpeningHours,
    ServiceContact,
    ServiceCost,
    ServiceLocation,
    ServiceLocationId,
    ServiceOrganization,
    ServiceOrganizationId,
)

__all__ = ["PROGRAM_NOT_PHI", "PROGRAM_SAMPLES"]


def _service() -> DirectoryService:
    return DirectoryService(
        id=DirectoryServiceId("svc-1"),
        name="Eastside food pantry",
        organization=ServiceOrganization(
            ServiceOrganizationId("org-1"), "Eastside Community Aid", "https://example.org"
        ),
        categories=("food-insecurity",),
        locations=(
            ServiceLocation(
                id=ServiceLocationId("loc-1"),
                name="Main hall",
                latitude=40.7128,
                longitude=-74.006,
                time_zone="America/New_York",
                hours=(OpeningHours(0, time(9), time(17)),),
                address="1 Main St, New York, NY",
            ),
        ),
        languages=("en", "es"),
        description="Groceries once a week",
        eligibility="Residents of the borough",
        service_area="Manhattan",
        cost=ServiceCost.FREE,
        capacity=CapacityStatus.WAITLIST,
        contact=ServiceContact("+1 212 555 0100", "help@example.org", "https://example.org/p"),
    )


PROGRAM_SAMPLES: dict[str, Callable[[], Any]] = {"DirectoryService": _service}
"""A sample of every programs-and-resources record kind, by kind."""

_DIRECTORY = "community directory data: public information about a service, not a patient"
PROGRAM_NOT_PHI: dict[str, str] = {
    f"{cls}.{field}": _DIRECTORY
    for cls, fields in {
        "DirectoryService": (
            "name",
            "categories",
            "languages",
            "description",
            "eligibility",
            "service_area",
        ),
        "ServiceOrganization": ("name", "url"),
        "ServiceContact": ("phone", "email", "url"),
        "ServiceLocation": ("name", "time_zone", "address"),
        "DirectoryFacts": ("time_zone", "languages"),
    }.items()
    for field in fields
}
"""``str`` fields of the programs-and-resources records that are not PHI."""
