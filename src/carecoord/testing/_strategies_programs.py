"""Strategies for the programs-and-community-resources records: directory services with
their organisation, locations and weekly hours (import from :mod:`.strategies`)."""

from __future__ import annotations

from datetime import time
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

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

__all__ = ["GRAVITY_SAMPLE", "PROGRAM_STRATEGIES", "directory_services", "opening_hours"]

GRAVITY_SAMPLE = (
    "food-insecurity",
    "housing-instability",
    "transportation-insecurity",
    "financial-insecurity",
    "utility-insecurity",
)
"""The Gravity SDOH category codes the generated services meet."""

_ZONES = ("America/New_York", "America/Chicago", "Europe/London", "Australia/Sydney", "UTC")
_ID = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
_WORDS = st.text("abcdefghij klmnop", min_size=1, max_size=30).filter(str.strip)


@st.composite
def opening_hours(draw: st.DrawFn) -> tuple[OpeningHours, ...]:
    """A week of non-overlapping opening hours (at most one interval a day)."""
    days = draw(st.lists(st.integers(0, 6), unique=True, max_size=7))
    hours = []
    for day in sorted(days):
        opens = draw(st.integers(0, 22 * 60))
        closes = draw(st.integers(opens + 1, 23 * 60 + 59))
        hours.append(OpeningHours(day, time(*divmod(opens, 60)), time(*divmod(closes, 60))))
    return tuple(hours)


@st.composite
def _locations(draw: st.DrawFn) -> tuple[ServiceLocation, ...]:
    ids = draw(st.lists(_ID, unique=True, max_size=3))
    return tuple(
        ServiceLocation(
            id=ServiceLocationId(f"loc-{lid}"),
            name=draw(_WORDS),
            latitude=draw(st.floats(-89.0, 89.0)),
            longitude=draw(st.floats(-179.0, 179.0)),
            time_zone=draw(st.sampled_from(_ZONES)),
            hours=draw(opening_hours()),
            address=draw(st.none() | _WORDS),
        )
        for lid in ids
    )


@st.composite
def directory_services(draw: st.DrawFn) -> DirectoryService:
    """A directory service: an organisation, one to three needs, zero to three places."""
    return DirectoryService(
        id=DirectoryServiceId(f"svc-{draw(_ID)}"),
        name=draw(_WORDS),
        organization=ServiceOrganization(
            ServiceOrganizationId(f"org-{draw(_ID)}"), draw(_WORDS), draw(st.none() | _WORDS)
        ),
        categories=tuple(
            draw(st.lists(st.sampled_from(GRAVITY_SAMPLE), unique=True, min_size=1, max_size=3))
        ),
        locations=draw(_locations()),
        languages=tuple(
            draw(
                st.lists(
                    st.sampled_from(("en", "es", "zh", "vi", "es-MX")),
                    unique=True,
                    min_size=1,
                    max_size=3,
                )
            )
        ),
        eligibility=draw(st.none() | _WORDS),
        service_area=draw(st.none() | _WORDS),
        service_radius_km=draw(st.none() | st.floats(1.0, 500.0)),
        cost=draw(st.sampled_from(ServiceCost)),
        capacity=draw(st.sampled_from(CapacityStatus)),
        contact=ServiceContact(phone=draw(st.none() | st.just("+1 555 0100"))),
        active=draw(st.booleans()),
    )


PROGRAM_STRATEGIES: dict[type, SearchStrategy[Any]] = {
    DirectoryService: directory_services(),
}
"""The programs-and-resources record kinds' strategies (part of ``ENTITY_STRATEGIES``)."""
