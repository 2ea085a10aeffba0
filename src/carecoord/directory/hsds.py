"""Open Referral HSDS 3.0 (Human Services Data Specification) load and save of the directory.

:func:`services_to_hsds` writes :class:`~carecoord.model.directory.DirectoryService` values
as one HSDS JSON document of entity lists (``organizations``, ``services``, ``locations``,
``service_at_locations``, ``addresses``, ``schedules``, ``languages``, ``phones``) with HSDS
field names; :func:`services_from_hsds` reads such a document back (its ``contacts`` too).
Pure: no I/O; the caller reads and writes the JSON text (``json.loads`` / ``json.dumps``).

The mapping:

* organisation: ``id``, ``name``, ``website`` (``url`` is read when ``website`` is absent);
* service: ``id``, ``organization_id``, ``name``, ``description``, ``url``, ``email``,
  ``status`` (``active``; any other status reads as inactive), ``eligibility_description``,
  ``fees_description`` (the :class:`~carecoord.model.directory.ServiceCost` value; free text
  that is not one reads as ``unknown``); its phone is its first ``phones`` entry, its email
  the service's ``email`` or else its first ``contacts`` entry's;
* what HSDS has no field for sits in the service's ``carecoord`` object: ``categories``
  (Gravity SDOH codes, required), ``capacity``, ``service_area``, ``service_radius_km``;
* location: ``id``, ``name``, ``latitude``, ``longitude``, ``timezone`` (an IANA zone; read
  from the location's schedules when the location has none), its first ``addresses``
  entry's lines joined as the one-line address;
* a service's locations are its ``service_at_locations`` rows, in order;
* opening hours are weekly ``schedules`` of a location, or of one of its
  service-at-location rows (``freq`` ``WEEKLY``, ``byday`` one or more days, ``opens_at``,
  ``closes_at``, ``timezone``), wall-clock times in the location's zone, so 09:00-17:00
  stays 09:00-17:00 local across a daylight-saving change; ``closes_at`` ``00:00``
  (midnight) reads as 23:59, the model's last minute of the day;
* ``languages`` rows of a service give its BCP-47 ``code`` values, in order (none: none).

Loading ignores what HSDS holds and the model does not (taxonomies, service areas as
entities, schedules of a service without a location, programs, funding, accessibility, other
fields). What the model needs and the document lacks, or holds in the wrong shape, raises
:class:`~carecoord.model.StructureError` whose ``paths`` name it (``$.services[2].name``);
values are never echoed. Saving raises :class:`~carecoord.model.ValidationError` when two
services give one organisation or location id different details.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import time
from typing import Any, Final, NoReturn, TypeVar

from ..model import StructureError, ValidationError
from ..model.directory import (
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

__all__ = ["HSDS_DAYS", "services_from_hsds", "services_to_hsds"]

HSDS_DAYS: Final = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
"""The iCalendar ``byday`` codes, Monday (weekday 0) first."""

T = TypeVar("T")
_NAMESPACE: Final = uuid.UUID("0c6b1a52-61d4-4f8e-9a53-9a4c1c0e7d21")
_ENTITIES: Final = (
    "organizations",
    "services",
    "locations",
    "service_at_locations",
    "addresses",
    "schedules",
    "languages",
    "phones",
    "contacts",
)


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "|".join(parts)))


def _fail(path: str, message: str) -> NoReturn:
    raise StructureError(f"invalid HSDS document: {message} at {path}", paths=(path,))


# ---------------------------------------------------------------------- save


def _clock(value: time) -> str:
    return f"{value:%H:%M}"


def _same(seen: dict[str, Any], key: str, value: Any, what: str) -> bool:
    """Whether ``key`` is new; ValidationError when it was seen with other details."""
    if key in seen:
        if seen[key] != value:
            raise ValidationError(f"two services give one {what} id different details", field="id")
        return False
    seen[key] = value
    return True


def _location(loc: ServiceLocation) -> dict[str, Any]:
    return {
        "id": str(loc.id),
        "location_type": "physical",
        "name": loc.name,
        "latitude": loc.latitude,
        "longitude": loc.longitude,
        "timezone": loc.time_zone,
    }


def _service(service: DirectoryService) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": str(service.id),
        "organization_id": str(service.organization.id),
        "name": service.name,
        "status": "active" if service.active else "inactive",
        "fees_description": service.cost.value,
    }
    optional = {
        "description": service.description,
        "url": service.contact.url,
        "email": service.contact.email,
        "eligibility_description": service.eligibility,
    }
    found.update({k: v for k, v in optional.items() if v is not None})
    own: dict[str, Any] = {
        "categories": list(service.categories),
        "capacity": service.capacity.value,
    }
    if service.service_area is not None:
        own["service_area"] = service.service_area
    if service.service_radius_km is not None:
        own["service_radius_km"] = service.service_radius_km
    found["carecoord"] = own
    return found


def services_to_hsds(services: Iterable[DirectoryService]) -> dict[str, Any]:
    """``services`` as an HSDS 3.0 JSON document (a dict of entity lists, JSON-ready).

    Organisations and locations shared by several services are written once; ids of the
    rows carecoord has no id for (service-at-location, address, schedule, language,
    phone) are stable UUIDs of what they link.
    """
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in _ENTITIES}
    orgs: dict[str, Any] = {}
    places: dict[str, Any] = {}
    for service in services:
        org = service.organization
        if _same(orgs, str(org.id), org, "organisation"):
            row: dict[str, Any] = {"id": str(org.id), "name": org.name}
            if org.url is not None:
                row["website"] = org.url
            out["organizations"].append(row)
        out["services"].append(_service(service))
        for loc in service.locations:
            lid = str(loc.id)
            out["service_at_locations"].append(
                {
                    "id": _uuid("sal", str(service.id), lid),
                    "service_id": str(service.id),
                    "location_id": lid,
                }
            )
            if not _same(places, lid, loc, "location"):
                continue
            out["locations"].append(_location(loc))
            if loc.address is not None:
                out["addresses"].append(
                    {
                        "id": _uuid("address", lid),
                        "location_id": lid,
                        "address_type": "physical",
                        "address_1": loc.address,
                    }
                )
            for n, hours in enumerate(loc.hours):
                out["schedules"].append(
                    {
                        "id": _uuid("schedule", lid, str(n)),
                        "location_id": lid,
                        "freq": "WEEKLY",
                        "wkst": "MO",
                        "byday": HSDS_DAYS[hours.weekday],
                        "opens_at": _clock(hours.opens),
                        "closes_at": _clock(hours.closes),
                        "timezone": loc.time_zone,
                    }
                )
        for tag in service.languages:
            out["languages"].append(
                {
                    "id": _uuid("language", str(service.id), tag),
                    "service_id": str(service.id),
                    "code": tag,
                }
            )
        if service.contact.phone is not None:
            out["phones"].append(
                {
                    "id": _uuid("phone", str(service.id)),
                    "service_id": str(service.id),
                    "number": service.contact.phone,
                    "type": "voice",
                }
            )
    return {
        name: rows for name, rows in out.items() if rows or name in ("organizations", "services")
    }


# ---------------------------------------------------------------------- load


class _Rows:
    """The document's entity lists, checked to be lists of objects."""

    def __init__(self, data: Any) -> None:
        if not isinstance(data, Mapping):
            _fail("$", "not a JSON object")
        self.lists: dict[str, list[Mapping[str, Any]]] = {}
        for name in _ENTITIES:
            rows = data.get(name, [])
            if not isinstance(rows, list):
                _fail(f"$.{name}", "not a list")
            for n, row in enumerate(rows):
                if not isinstance(row, Mapping):
                    _fail(f"$.{name}[{n}]", "not an object")
            self.lists[name] = rows

    def of(self, name: str, key: str, value: str) -> list[tuple[int, Mapping[str, Any]]]:
        """The ``name`` rows (with their index) whose ``key`` is ``value``."""
        return [(n, row) for n, row in enumerate(self.lists[name]) if row.get(key) == value]


def _text(row: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> str | None:
    value = row.get(key)
    if value is None or value == "":
        if required:
            _fail(f"{path}.{key}", "missing")
        return None
    if not isinstance(value, str):
        _fail(f"{path}.{key}", "not a string")
    return value


def _needed(row: Mapping[str, Any], key: str, path: str) -> str:
    value = _text(row, key, path, required=True)
    assert value is not None  # _text raised otherwise
    return value


def _number(row: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> float | None:
    value = row.get(key)
    if value is None or value == "":
        if required:
            _fail(f"{path}.{key}", "missing")
        return None
    if isinstance(value, bool):
        _fail(f"{path}.{key}", "not a number")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    _fail(f"{path}.{key}", "not a number")


_HSDS_NAMES: Final = {
    "weekday": "byday",
    "opens": "opens_at",
    "closes": "closes_at",
    "time_zone": "timezone",
    "eligibility": "eligibility_description",
    "categories": "carecoord.categories",
    "service_area": "carecoord.service_area",
    "service_radius_km": "carecoord.service_radius_km",
}
"""The HSDS name of a model field, where the two differ."""


def _built(path: str, make: Callable[..., T], **fields: Any) -> T:
    """``make(**fields)``, a model ValidationError turned into a StructureError naming the
    HSDS element (the model's message never holds the value)."""
    try:
        return make(**fields)
    except ValidationError as exc:
        field = exc.field
        if field is None:
            _fail(path, str(exc))
        _fail(f"{path}.{_HSDS_NAMES.get(field, field)}", str(exc))


def _clock_of(row: Mapping[str, Any], key: str, path: str) -> time:
    text = _needed(row, key, path)
    try:
        value = time.fromisoformat(text)
    except ValueError:
        _fail(f"{path}.{key}", "not a time of day")
    if value.tzinfo is not None:
        _fail(f"{path}.{key}", "not a local time of day")
    return value


def _hours(rows: _Rows, lid: str) -> tuple[list[OpeningHours], list[str]]:
    """The weekly hours of location ``lid`` and the zones its schedules name."""
    hours: list[OpeningHours] = []
    zones: list[str] = []
    sal_ids = {row.get("id") for _, row in rows.of("service_at_locations", "location_id", lid)}
    for n, row in enumerate(rows.lists["schedules"]):
        if row.get("location_id") != lid and (
            row.get("location_id") is not None or row.get("service_at_location_id") not in sal_ids
        ):
            continue
        path = f"$.schedules[{n}]"
        freq = row.get("freq", "WEEKLY")
        if not isinstance(freq, str) or freq.upper() != "WEEKLY":
            _fail(f"{path}.freq", "not a weekly schedule")
        zone = _text(row, "timezone", path)
        if zone is not None:
            zones.append(zone)
        byday = _needed(row, "byday", path)
        opens, closes = _clock_of(row, "opens_at", path), _clock_of(row, "closes_at", path)
        if closes == time(0):
            closes = time(23, 59)
        for day in byday.split(","):
            code = day.strip().upper()
            if code not in HSDS_DAYS:
                _fail(f"{path}.byday", "not a list of weekday codes")
            hours.append(
                _built(
                    path, OpeningHours, weekday=HSDS_DAYS.index(code), opens=opens, closes=closes
                )
            )
    return hours, zones


def _address(rows: _Rows, lid: str) -> str | None:
    for n, row in rows.of("addresses", "location_id", lid):
        path = f"$.addresses[{n}]"
        keys = ("address_1", "address_2", "city", "state_province", "postal_code")
        parts = [_text(row, key, path) for key in keys]
        line = ", ".join(p for p in parts if p)
        return line or None
    return None


def _locations(rows: _Rows) -> dict[str, ServiceLocation]:
    found: dict[str, ServiceLocation] = {}
    for n, row in enumerate(rows.lists["locations"]):
        path = f"$.locations[{n}]"
        lid = _needed(row, "id", path)
        hours, zones = _hours(rows, lid)
        zone = _text(row, "timezone", path) or (zones[0] if zones else None)
        if zone is None:
            _fail(f"{path}.timezone", "missing (on the location and its schedules)")
        found[lid] = _built(
            path,
            ServiceLocation,
            id=ServiceLocationId(lid),
            name=_needed(row, "name", path),
            latitude=_number(row, "latitude", path),
            longitude=_number(row, "longitude", path),
            time_zone=zone,
            hours=tuple(hours),
            address=_address(rows, lid),
        )
    return found


def _organizations(rows: _Rows) -> dict[str, ServiceOrganization]:
    found: dict[str, ServiceOrganization] = {}
    for n, row in enumerate(rows.lists["organizations"]):
        path = f"$.organizations[{n}]"
        oid = _needed(row, "id", path)
        found[oid] = _built(
            path,
            ServiceOrganization,
            id=ServiceOrganizationId(oid),
            name=_needed(row, "name", path),
            url=_text(row, "website", path) or _text(row, "url", path),
        )
    return found


def _own(row: Mapping[str, Any], path: str) -> dict[str, Any]:
    """The service's ``carecoord`` object: categories, capacity, area, radius."""
    own = row.get("carecoord")
    path = f"{path}.carecoord"
    if not isinstance(own, Mapping):
        _fail(f"{path}.categories", "missing")
    categories = own.get("categories")
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        _fail(f"{path}.categories", "not a list of codes")
    capacity = own.get("capacity", CapacityStatus.ACCEPTING.value)
    if capacity not in {c.value for c in CapacityStatus}:
        _fail(f"{path}.capacity", "not a capacity status")
    return {
        "categories": tuple(categories),
        "capacity": CapacityStatus(capacity),
        "service_area": _text(own, "service_area", path),
        "service_radius_km": _number(own, "service_radius_km", path, required=False),
    }


def _one_service(
    rows: _Rows,
    n: int,
    row: Mapping[str, Any],
    orgs: Mapping[str, ServiceOrganization],
    places: Mapping[str, ServiceLocation],
) -> DirectoryService:
    path = f"$.services[{n}]"
    sid = _needed(row, "id", path)
    org = orgs.get(_needed(row, "organization_id", path))
    if org is None:
        _fail(f"{path}.organization_id", "names no organisation of the document")
    locations = []
    for m, link in rows.of("service_at_locations", "service_id", sid):
        lid = _needed(link, "location_id", f"$.service_at_locations[{m}]")
        if lid not in places:
            _fail(f"$.service_at_locations[{m}].location_id", "names no location of the document")
        locations.append(places[lid])
    languages = [
        _needed(lang, "code", f"$.languages[{m}]")
        for m, lang in rows.of("languages", "service_id", sid)
    ]
    phones = [
        _needed(p, "number", f"$.phones[{m}]") for m, p in rows.of("phones", "service_id", sid)
    ]
    email = _text(row, "email", path)
    for m, person in rows.of("contacts", "service_id", sid):
        email = email or _text(person, "email", f"$.contacts[{m}]")
    fees = _text(row, "fees_description", path)
    cost = fees if fees in {c.value for c in ServiceCost} else ServiceCost.UNKNOWN.value
    status = row.get("status", "active")
    contact = _built(
        path,
        ServiceContact,
        phone=phones[0] if phones else None,
        email=email,
        url=_text(row, "url", path),
    )
    return _built(
        path,
        DirectoryService,
        id=DirectoryServiceId(sid),
        name=_needed(row, "name", path),
        organization=org,
        locations=tuple(locations),
        languages=tuple(languages),
        description=_text(row, "description", path),
        eligibility=_text(row, "eligibility_description", path),
        cost=ServiceCost(cost),
        contact=contact,
        active=status == "active",
        **_own(row, path),
    )


def services_from_hsds(data: Mapping[str, Any]) -> tuple[DirectoryService, ...]:
    """The directory services of the HSDS 3.0 JSON document ``data``, in its order.

    StructureError (``paths`` naming the element, e.g. ``$.services[2].name``) when
    something the model needs is missing or malformed; see the module for the mapping.
    """
    rows = _Rows(data)
    orgs = _organizations(rows)
    places = _locations(rows)
    return tuple(
        _one_service(rows, n, row, orgs, places) for n, row in enumerate(rows.lists["services"])
    )
