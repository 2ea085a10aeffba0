"""The community resource directory: services, the organisation that runs them, where.

A :class:`DirectoryService` is one service a community organisation offers (a food
pantry, a housing navigator, a ride programme), with its :class:`ServiceOrganization`
and its :class:`ServiceLocation` values (each with its latitude and longitude, its
IANA time zone and its weekly :class:`OpeningHours` in that zone's wall-clock time, so
"Monday 09:00-17:00" stays 09:00-17:00 local across a daylight-saving change).

``categories`` are Gravity Project SDOH category codes (``food-insecurity``, ...), the
needs the service meets; ``languages`` BCP-47 tags; ``capacity`` whether it takes new
clients, keeps a waitlist or is full; ``active`` is false once it closed.

Directory data is public information about services, not PHI: nothing here names a
patient. Pure: no I/O.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from datetime import datetime, time
from enum import StrEnum
from itertools import pairwise
from typing import Any, TypeVar

import attrs

from ._base import (
    EntityId,
    a_time,
    aware,
    finite,
    of_type,
    optional,
    revision_field,
    text,
    tuple_of,
    unique_ids,
    zone_name,
)
from ._errors import ValidationError
from ._external import ExternalRef

__all__ = [
    "CapacityStatus",
    "DirectoryFacts",
    "DirectoryService",
    "DirectoryServiceId",
    "OpeningHours",
    "ServiceContact",
    "ServiceCost",
    "ServiceLocation",
    "ServiceLocationId",
    "ServiceOrganization",
    "ServiceOrganizationId",
    "directory_target",
    "target_service_id",
]

_CODE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")
MAX_HOURS = 28
"""At most this many opening-hours intervals per location (four a day)."""
MAX_LANGUAGES = 16
"""At most this many languages per service."""


class DirectoryServiceId(EntityId):
    """Identifier of a :class:`DirectoryService` (FHIR ``HealthcareService``)."""

    __slots__ = ()


class ServiceOrganizationId(EntityId):
    """Identifier of a :class:`ServiceOrganization` (FHIR ``Organization``)."""

    __slots__ = ()


class ServiceLocationId(EntityId):
    """Identifier of a :class:`ServiceLocation` (FHIR ``Location``)."""

    __slots__ = ()


class CapacityStatus(StrEnum):
    """Whether a service takes new clients now."""

    ACCEPTING = "accepting"
    WAITLIST = "waitlist"
    FULL = "full"


class ServiceCost(StrEnum):
    """What the service costs the client."""

    FREE = "free"
    SLIDING_SCALE = "sliding-scale"
    FEE = "fee"
    UNKNOWN = "unknown"


def _codes(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    tuple_of(str, unique=True)(inst, attr, value)
    if not value:
        raise ValidationError(f"{type(inst).__name__}.{attr.name} must name one", field=attr.name)
    for code in value:
        if len(code) > 64 or not _CODE.fullmatch(code):
            raise ValidationError(
                f"{type(inst).__name__}.{attr.name} holds a code that is not lowercase-dashed",
                field=attr.name,
            )


def _languages(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    tuple_of(str, unique=True)(inst, attr, value)
    if len(value) > MAX_LANGUAGES or not all(
        len(tag) <= 35 and _LANGUAGE.fullmatch(tag) for tag in value
    ):
        raise ValidationError(
            f"{type(inst).__name__}.{attr.name} must be at most {MAX_LANGUAGES} BCP-47 tags",
            field=attr.name,
        )


def _weekday(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 6:
        raise ValidationError("OpeningHours.weekday must be 0 (Monday) to 6", field=attr.name)


def _latitude(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    finite(inst, attr, value)
    if not -90.0 <= value <= 90.0:
        raise ValidationError("ServiceLocation.latitude must be -90 to 90", field=attr.name)


def _longitude(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    finite(inst, attr, value)
    if not -180.0 <= value <= 180.0:
        raise ValidationError("ServiceLocation.longitude must be -180 to 180", field=attr.name)


@attrs.frozen
class OpeningHours:
    """Open on ``weekday`` (0 is Monday) from ``opens`` to ``closes`` local time.

    ``closes`` after ``opens``, the same day (an overnight service is two intervals);
    ``closes`` of ``time(0)`` is not allowed: write ``time(23, 59)``. Whole minutes.
    """

    weekday: int = attrs.field(validator=_weekday)
    opens: time = attrs.field(validator=a_time)
    closes: time = attrs.field(validator=a_time)

    def __attrs_post_init__(self) -> None:
        for moment in (self.opens, self.closes):
            if moment.second or moment.microsecond or moment.tzinfo is not None:
                raise ValidationError("OpeningHours times are whole, naive minutes")
        if self.closes <= self.opens:
            raise ValidationError("OpeningHours.closes must be after opens", field="closes")

    def to_code(self) -> str:
        """``"0:0900-1700"``: the compact form kept in index rows."""
        return f"{self.weekday}:{self.opens:%H%M}-{self.closes:%H%M}"

    @classmethod
    def from_code(cls, code: str) -> OpeningHours:
        """Read :meth:`to_code` back (ValueError when it is not that)."""
        day, _, span = code.partition(":")
        opens, _, closes = span.partition("-")
        if len(opens) != 4 or len(closes) != 4:
            raise ValueError("not opening hours")
        return cls(
            int(day), time(int(opens[:2]), int(opens[2:])), time(int(closes[:2]), int(closes[2:]))
        )


def _no_overlap(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    tuple_of(OpeningHours)(inst, attr, value)
    if len(value) > MAX_HOURS:
        raise ValidationError(
            f"ServiceLocation.hours must be at most {MAX_HOURS} intervals", field=attr.name
        )
    spans = sorted((h.weekday, h.opens, h.closes) for h in value)
    for (day, _, closes), (next_day, opens, _) in pairwise(spans):
        if day == next_day and opens < closes:
            raise ValidationError("ServiceLocation.hours overlap", field=attr.name)


@attrs.frozen
class ServiceOrganization:
    """The organisation that runs a service (FHIR ``Organization``, HSDS ``organization``)."""

    id: ServiceOrganizationId = attrs.field(validator=of_type(ServiceOrganizationId))
    name: str = attrs.field(validator=text(max_len=200))
    url: str | None = attrs.field(default=None, validator=optional(text(max_len=500)))


@attrs.frozen
class ServiceContact:
    """How to reach the service: a phone number, an email address, a web page."""

    phone: str | None = attrs.field(default=None, validator=optional(text(max_len=40)))
    email: str | None = attrs.field(default=None, validator=optional(text(max_len=200)))
    url: str | None = attrs.field(default=None, validator=optional(text(max_len=500)))


@attrs.frozen
class ServiceLocation:
    """Where a service is given: a place, its coordinates, its zone and its weekly hours.

    ``hours`` empty means no published hours (never "open"); ``address`` is one line.
    """

    id: ServiceLocationId = attrs.field(validator=of_type(ServiceLocationId))
    name: str = attrs.field(validator=text(max_len=200))
    latitude: float = attrs.field(validator=_latitude)
    longitude: float = attrs.field(validator=_longitude)
    time_zone: str = attrs.field(validator=zone_name)
    hours: tuple[OpeningHours, ...] = attrs.field(default=(), validator=_no_overlap)
    address: str | None = attrs.field(default=None, validator=optional(text(max_len=300)))


@attrs.frozen
class DirectoryService:
    """A community service: what needs it meets, for whom, in what languages, where, when.

    ``eligibility`` and ``service_area`` are the provider's own words;
    ``service_radius_km``, when given, is how far from a location clients may live.
    ``revision`` guards updates against stale copies. ``changed_at`` is when the
    service last closed or changed the needs, locations or hours it offers (set by
    ``save_directory_service``; ``None`` until then): referrals made before it are
    flagged on their coordinators' ``directory_alerts``.
    """

    id: DirectoryServiceId = attrs.field(validator=of_type(DirectoryServiceId))
    name: str = attrs.field(validator=text(max_len=200))
    organization: ServiceOrganization = attrs.field(validator=of_type(ServiceOrganization))
    categories: tuple[str, ...] = attrs.field(validator=_codes)
    locations: tuple[ServiceLocation, ...] = attrs.field(
        default=(), validator=[tuple_of(ServiceLocation), unique_ids]
    )
    languages: tuple[str, ...] = attrs.field(default=("en",), validator=_languages)
    description: str | None = attrs.field(default=None, validator=optional(text(max_len=2000)))
    eligibility: str | None = attrs.field(default=None, validator=optional(text(max_len=1000)))
    service_area: str | None = attrs.field(default=None, validator=optional(text(max_len=500)))
    service_radius_km: float | None = attrs.field(default=None, validator=optional(finite))
    cost: ServiceCost = attrs.field(default=ServiceCost.UNKNOWN, validator=of_type(ServiceCost))
    capacity: CapacityStatus = attrs.field(
        default=CapacityStatus.ACCEPTING, validator=of_type(CapacityStatus)
    )
    contact: ServiceContact = attrs.field(factory=ServiceContact, validator=of_type(ServiceContact))
    active: bool = attrs.field(default=True, validator=of_type(bool))
    revision: int = revision_field()
    changed_at: datetime | None = attrs.field(default=None, validator=optional(aware))

    def __attrs_post_init__(self) -> None:
        if self.service_radius_km is not None and self.service_radius_km <= 0:
            raise ValidationError(
                "DirectoryService.service_radius_km must be positive", field="service_radius_km"
            )

    def location(self, location_id: ServiceLocationId | str) -> ServiceLocation:
        """The location ``location_id``; ValidationError when the service has none such."""
        for found in self.locations:
            if found.id == location_id:
                return found
        raise ValidationError("the location is not one of the service's", field="location_id")


_SERVICE_PREFIX = "HealthcareService/"


def directory_target(service: DirectoryService) -> ExternalRef:
    """The :class:`ExternalRef` a referral to ``service`` keeps as its ``target``
    (FHIR ``ServiceRequest.performer`` / ``Task.owner``: ``HealthcareService/<id>``)."""
    return ExternalRef(resource_type="HealthcareService", reference=_SERVICE_PREFIX + service.id)


def target_service_id(target: ExternalRef | None) -> DirectoryServiceId | None:
    """The directory service a referral ``target`` names (a relative, unversioned
    ``HealthcareService/<id>``, as :func:`directory_target` writes it); ``None`` otherwise."""
    if target is None or target.reference is None:
        return None
    ref = target.reference
    if not ref.startswith(_SERVICE_PREFIX) or "/" in ref[len(_SERVICE_PREFIX) :]:
        return None
    try:
        return DirectoryServiceId(ref[len(_SERVICE_PREFIX) :])
    except ValidationError:
        return None


@functools.lru_cache(maxsize=4096)
def _hours_of(codes: str) -> tuple[OpeningHours, ...]:
    """The opening hours of an index row's ``,``-joined codes, parsed once per distinct text.

    Services share a few weekly patterns ("Mon-Fri 09:00-17:00"), so a search over
    thousands of rows parses each pattern once; the values are frozen, so sharing is safe.
    """
    return tuple(OpeningHours.from_code(c) for c in codes.split(",") if c)


@functools.lru_cache(maxsize=1024)
def _languages_of(tags: str) -> tuple[str, ...]:
    """The language tags of an index row's ``,``-joined text (parsed once per distinct text)."""
    return tuple(t for t in tags.split(",") if t)


@functools.lru_cache(maxsize=1024)
def _primaries_of(tags: str) -> frozenset[str]:
    """The lower-case primary subtags of an index row's ``,``-joined language tags."""
    return frozenset(t.split("-")[0].lower() for t in tags.split(",") if t)


_Id = TypeVar("_Id", bound=EntityId)


def _ids(cls: type[_Id], value: str) -> _Id:
    """An id read from an index row carecoord wrote: checked once per distinct value."""
    return _checked_id(cls, value)  # type: ignore[return-value]


@functools.lru_cache(maxsize=65536)
def _checked_id(cls: type[EntityId], value: str) -> EntityId:
    return cls(value)


@attrs.frozen
class DirectoryFacts:
    """What a directory index row keeps for one (service, location): enough to search.

    Written as a short ``|``-separated code (:meth:`to_detail`, under 1,500 bytes) so a
    search never decodes a service. ``location_id`` is ``None`` for a service without a
    place (by phone or online).
    """

    service_id: DirectoryServiceId
    location_id: ServiceLocationId | None
    latitude: float | None
    longitude: float | None
    time_zone: str | None
    hours: tuple[OpeningHours, ...]
    languages: tuple[str, ...]
    capacity: CapacityStatus
    radius_km: float | None

    @classmethod
    def of(cls, service: DirectoryService) -> tuple[DirectoryFacts, ...]:
        """The facts of each of ``service``'s locations (one without a place if none)."""
        common: dict[str, Any] = {
            "service_id": service.id,
            "languages": service.languages,
            "capacity": service.capacity,
            "radius_km": service.service_radius_km,
        }
        if not service.locations:
            return (
                cls(
                    location_id=None,
                    latitude=None,
                    longitude=None,
                    time_zone=None,
                    hours=(),
                    **common,
                ),
            )
        return tuple(
            cls(
                location_id=loc.id,
                latitude=loc.latitude,
                longitude=loc.longitude,
                time_zone=loc.time_zone,
                hours=loc.hours,
                **common,
            )
            for loc in service.locations
        )

    @property
    def item_id(self) -> str:
        """The index row's ``item_id``: ``service|location`` (ids never hold ``|``)."""
        return f"{self.service_id}|{self.location_id or ''}"

    def to_detail(self) -> str:
        """The facts as an index row's ``detail``."""
        place = "" if self.latitude is None else f"{self.latitude!r},{self.longitude!r}"
        return "|".join(
            (
                str(self.service_id),
                self.location_id or "",
                place,
                self.time_zone or "",
                ",".join(h.to_code() for h in self.hours),
                ",".join(self.languages),
                self.capacity.value,
                "" if self.radius_km is None else repr(self.radius_km),
            )
        )

    @staticmethod
    def screen(parts: Sequence[str], primary_language: str | None, include_full: bool) -> bool:
        """Whether :meth:`to_detail`'s text, split at ``|``, may pass a search, read without
        parsing it all.

        False when the service speaks no tag of ``primary_language`` (a lower-case
        primary subtag such as ``"es"``, or ``None`` for any) or is full and full
        services are not wanted; true otherwise (also for text that is not facts, which
        :meth:`from_parts` then refuses). A search parses only the rows that pass.
        """
        if len(parts) != 8:
            return True
        if not include_full and parts[6] == CapacityStatus.FULL.value:
            return False
        return primary_language is None or primary_language in _primaries_of(parts[5])

    @classmethod
    def from_detail(cls, detail: str) -> DirectoryFacts:
        """Read :meth:`to_detail`'s text back; ValidationError when it is not that."""
        return cls.from_parts(detail.split("|"))

    @classmethod
    def from_parts(cls, parts: Sequence[str]) -> DirectoryFacts:
        """:meth:`from_detail` of text already split at ``|``."""
        try:
            service, location, place, zone, hours, langs, capacity, radius = parts
            lat, _, lon = place.partition(",")
            return cls(
                service_id=_ids(DirectoryServiceId, service),
                location_id=_ids(ServiceLocationId, location) if location else None,
                latitude=float(lat) if place else None,
                longitude=float(lon) if place else None,
                time_zone=zone or None,
                hours=_hours_of(hours),
                languages=_languages_of(langs),
                capacity=CapacityStatus(capacity),
                radius_km=float(radius) if radius else None,
            )
        except (ValueError, TypeError, ValidationError):
            raise ValidationError("not the facts of a directory service", field="detail") from None
