"""Community resource directory rules: distance, opening hours, search and its ranking.

Pure: imports only the model. A search runs on :class:`~carecoord.model.directory.DirectoryFacts`
(what the directory's index rows keep), so the service layer reads the rows of the asked
categories only and never decodes a service:

* :func:`haversine_km` is the great-circle distance (mean Earth radius 6,371.0088 km);
* :func:`open_interval` finds the opening-hours interval a location is in at an aware
  instant, in the location's own IANA zone (so hours hold across a daylight-saving change);
* :func:`search_facts` filters and ranks, and says why each service matched.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

import attrs

from ..model._base import ensure_aware, finite, of_type, optional, tuple_of
from ..model._errors import ValidationError
from ..model.directory import (
    CapacityStatus,
    DirectoryFacts,
    DirectoryServiceId,
    OpeningHours,
    ServiceLocationId,
)
from .hsds import services_from_hsds, services_to_hsds

__all__ = [
    "EARTH_RADIUS_KM",
    "DirectoryMatch",
    "DirectoryQuery",
    "haversine_km",
    "open_interval",
    "search_details",
    "search_facts",
    "services_from_hsds",
    "services_to_hsds",
    "speaks",
]

EARTH_RADIUS_KM = 6371.0088
"""The mean Earth radius (IUGG) the distances use."""

_CAPACITY_RANK = {CapacityStatus.ACCEPTING: 0, CapacityStatus.WAITLIST: 1, CapacityStatus.FULL: 2}


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance in km between two (latitude, longitude) points in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def open_interval(hours: Iterable[OpeningHours], zone: str, at: datetime) -> OpeningHours | None:
    """The interval of ``hours`` (wall-clock times in ``zone``) open at ``at``, or ``None``.

    ``at`` must be aware; it is turned into ``zone``'s local time first, so Monday
    09:00-17:00 in New York is open at 13:00 UTC in winter (08:00 EST: closed) and in
    summer (09:00 EDT: open). Opens inclusive, closes exclusive.
    """
    local = ensure_aware(at, "at").astimezone(ZoneInfo(zone))
    now = local.time().replace(tzinfo=None)
    for interval in hours:
        if interval.weekday == local.weekday() and interval.opens <= now < interval.closes:
            return interval
    return None


def speaks(languages: Iterable[str], wanted: str) -> bool:
    """Whether ``languages`` serve ``wanted``: same tag, or same primary language
    (``es`` serves ``es-MX`` and ``es-MX`` serves ``es``), case-insensitive."""
    return _speaks(tuple(languages), wanted)


@functools.lru_cache(maxsize=4096)
def _speaks(languages: tuple[str, ...], wanted: str) -> bool:
    # The same tag has the same primary language: comparing primaries is enough.
    primary = wanted.lower().split("-")[0]
    return any(tag.lower().split("-")[0] == primary for tag in languages)


def _non_negative(inst: object, attr: attrs.Attribute[float], value: float) -> None:
    finite(inst, attr, value)
    if value < 0:
        raise ValidationError("DirectoryQuery.within_km must not be negative", field=attr.name)


@attrs.frozen
class DirectoryQuery:
    """What a search asks: the needs (Gravity SDOH category codes), and optionally a
    language, an instant the service must be open at, a place and how far from it.

    ``within_km`` needs ``near`` (latitude, longitude); ``limit`` cuts the ranked list.
    """

    categories: tuple[str, ...] = attrs.field(validator=tuple_of(str, unique=True))
    language: str | None = attrs.field(default=None, validator=optional(of_type(str)))
    open_at: datetime | None = attrs.field(default=None)
    near: tuple[float, float] | None = attrs.field(default=None)
    within_km: float | None = attrs.field(default=None, validator=optional(_non_negative))
    include_full: bool = attrs.field(default=True, validator=of_type(bool))
    limit: int | None = attrs.field(default=None)

    def __attrs_post_init__(self) -> None:
        if not self.categories:
            raise ValidationError("DirectoryQuery.categories must name a need", field="categories")
        if self.open_at is not None:
            ensure_aware(self.open_at, "open_at")
        if self.within_km is not None and self.near is None:
            raise ValidationError("DirectoryQuery.within_km needs near", field="within_km")
        if self.near is not None:
            lat, lon = self.near
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValidationError("DirectoryQuery.near is not a place", field="near")
        if self.limit is not None and self.limit < 0:
            raise ValidationError("DirectoryQuery.limit must not be negative", field="limit")


@attrs.frozen
class DirectoryMatch:
    """One service a search found, at its best location, and why it matched.

    ``reasons`` are short sentences in ranking order (needs met, language, open, distance,
    capacity); ``distance_km`` is ``None`` without ``near`` or for a service without a
    place; ``open_until`` the local closing time when the search asked ``open_at``.
    """

    service_id: DirectoryServiceId
    location_id: ServiceLocationId | None
    categories: tuple[str, ...]
    distance_km: float | None
    open_until: str | None
    capacity: CapacityStatus
    reasons: tuple[str, ...]

    @property
    def rank_key(self) -> tuple[int, int, float, str]:
        """More needs met first, then accepting before waitlist before full, then nearer,
        then the service id (so the order is total and stable)."""
        distance = math.inf if self.distance_km is None else self.distance_km
        return (
            -len(self.categories),
            _CAPACITY_RANK[self.capacity],
            distance,
            str(self.service_id),
        )


def _location_match(
    facts: DirectoryFacts, query: DirectoryQuery
) -> tuple[float | None, str | None] | None:
    """``(distance, open until)`` of one location when it passes the query, else ``None``."""
    distance: float | None = None
    if query.near is not None and facts.latitude is not None and facts.longitude is not None:
        distance = haversine_km(query.near[0], query.near[1], facts.latitude, facts.longitude)
        if query.within_km is not None and distance > query.within_km:
            return None
        if facts.radius_km is not None and distance > facts.radius_km:
            return None
    elif query.within_km is not None:
        return None  # no place to measure from: cannot be within a distance
    until: str | None = None
    if query.open_at is not None:
        if facts.time_zone is None:
            return None
        interval = open_interval(facts.hours, facts.time_zone, query.open_at)
        if interval is None:
            return None
        until = f"{interval.closes:%H:%M} {facts.time_zone}"
    return distance, until


def search_facts(
    rows: Iterable[tuple[str, DirectoryFacts]], query: DirectoryQuery
) -> tuple[DirectoryMatch, ...]:
    """Filter and rank ``(category, facts)`` pairs (a directory's index rows) for ``query``.

    A service matches when one of its locations is open at ``open_at`` (if asked), within
    ``within_km`` of ``near`` and inside its own service radius (if any), it speaks
    ``language`` (if asked) and it is not full (unless ``include_full``). Each service
    appears once, at its nearest matching location.
    """
    best: dict[str, tuple[DirectoryFacts, float | None, str | None]] = {}
    needs: dict[str, set[str]] = {}
    for category, facts in rows:
        if category not in query.categories:
            continue
        if query.language is not None and not speaks(facts.languages, query.language):
            continue
        if not query.include_full and facts.capacity is CapacityStatus.FULL:
            continue
        found = _location_match(facts, query)
        if found is None:
            continue
        key = str(facts.service_id)
        needs.setdefault(key, set()).add(category)
        held = best.get(key)
        if held is None or _nearer(found[0], held[1]):
            best[key] = (facts, found[0], found[1])
    matches = [
        _explain(facts, distance, until, tuple(sorted(needs[key])), query)
        for key, (facts, distance, until) in best.items()
    ]
    matches.sort(key=lambda m: m.rank_key)
    return tuple(matches if query.limit is None else matches[: query.limit])


def search_details(
    rows: Iterable[tuple[str, str]], query: DirectoryQuery
) -> tuple[DirectoryMatch, ...]:
    """:func:`search_facts` over a directory's index rows as stored: ``(category, detail)``.

    Each row's text is screened first (language and capacity, see
    :meth:`DirectoryFacts.screen`), and only the rows that pass are parsed into
    :class:`DirectoryFacts`: the same matches, without parsing rows that cannot match.
    """
    wanted = None if query.language is None else query.language.split("-")[0].lower()
    split = ((category, detail.split("|")) for category, detail in rows)
    facts = (
        (category, DirectoryFacts.from_parts(parts))
        for category, parts in split
        if DirectoryFacts.screen(parts, wanted, query.include_full)
    )
    return search_facts(facts, query)


def _nearer(new: float | None, old: float | None) -> bool:
    return new is not None and (old is None or new < old)


def _explain(
    facts: DirectoryFacts,
    distance: float | None,
    until: str | None,
    categories: tuple[str, ...],
    query: DirectoryQuery,
) -> DirectoryMatch:
    reasons = [f"meets {', '.join(categories)}"]
    if query.language is not None:
        reasons.append(f"speaks {query.language}")
    if until is not None:
        reasons.append(f"open then, until {until}")
    if distance is not None:
        reasons.append(f"{distance:.1f} km away")
    elif facts.location_id is None:
        reasons.append("no place to visit (by phone or online)")
    reasons.append(
        {
            CapacityStatus.ACCEPTING: "accepting new clients",
            CapacityStatus.WAITLIST: "waitlist",
            CapacityStatus.FULL: "full",
        }[facts.capacity]
    )
    return DirectoryMatch(
        service_id=facts.service_id,
        location_id=facts.location_id,
        categories=categories,
        distance_km=distance,
        open_until=until,
        capacity=facts.capacity,
        reasons=tuple(reasons),
    )
