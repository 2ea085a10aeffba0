"""FHIR R4 export of the community resource directory (Organization, Location,
HealthcareService).

Not part of :func:`~carecoord.fhir.export_bundle` (a patient's record): the directory is
public information about services. :func:`directory_bundle` writes a ``collection`` Bundle
with one Organization per organisation, one Location per location and one
HealthcareService per service, in that order; an organisation or location shared by
several services is written once. References point at the entries' ``urn:uuid:`` full
URLs (stable UUIDs of the carecoord ids); resource ids are the carecoord ids when FHIR
allows them, else the same stable UUID; each resource carries its carecoord id as an
identifier (systems ``directory-organization``, ``directory-location``,
``directory-service``).

R4 ``Location.hoursOfOperation`` has no time zone: its opening and closing times are
wall-clock times in the location's IANA zone, which the carecoord ``time-zone`` extension
on the Location names. ``HealthcareService.availableTime`` is written only for a service
with exactly one location (the times are that location's, in its zone). A service's
Gravity SDOH categories are its ``category`` (the SDOH Clinical Care code system), its
languages ``communication`` (``urn:ietf:bcp:47``), its cost ``serviceProvisionCode``
(free, discounts, fees; unknown is left out). Capacity, the service area and the radius
have no R4 element and are not written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

from ..model import ValidationError
from ..model.directory import (
    DirectoryService,
    OpeningHours,
    ServiceCost,
    ServiceLocation,
    ServiceOrganization,
)
from ._common import ext_url, id_system, stable_uuid
from ._derived import SDOH_SYSTEM

__all__ = [
    "BCP47",
    "SERVICE_PROVISION",
    "directory_bundle",
    "healthcare_service_resource",
    "location_resource",
    "organization_resource",
]

BCP47: Final = "urn:ietf:bcp:47"
"""The code system of language tags (``HealthcareService.communication``)."""
SERVICE_PROVISION: Final = "http://terminology.hl7.org/CodeSystem/service-provision-conditions"
"""R4's code system of what a service costs (``free``, ``disc``, ``cost``)."""

_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PROVISION = {ServiceCost.FREE: "free", ServiceCost.SLIDING_SCALE: "disc", ServiceCost.FEE: "cost"}
_KIND = {
    "Organization": "directory-organization",
    "Location": "directory-location",
    "HealthcareService": "directory-service",
}


def _uuid(rtype: str, cid: str) -> str:
    return stable_uuid(rtype, "directory", cid)


def _rid(rtype: str, cid: str) -> str:
    return cid if _FHIR_ID.fullmatch(cid) else _uuid(rtype, cid)


def _ref(rtype: str, cid: str) -> dict[str, Any]:
    return {"reference": "urn:uuid:" + _uuid(rtype, cid), "type": rtype}


def _base(rtype: str, cid: str) -> dict[str, Any]:
    return {
        "resourceType": rtype,
        "id": _rid(rtype, cid),
        "identifier": [{"system": id_system(_KIND[rtype]), "value": cid}],
    }


def _clock(hours: OpeningHours) -> tuple[str, str]:
    return f"{hours.opens:%H:%M}:00", f"{hours.closes:%H:%M}:00"


def organization_resource(org: ServiceOrganization) -> dict[str, Any]:
    """The Organization running a service: name and, when known, its web page."""
    resource = _base("Organization", str(org.id))
    resource["active"] = True
    resource["name"] = org.name
    if org.url is not None:
        resource["telecom"] = [{"system": "url", "value": org.url}]
    return resource


def location_resource(loc: ServiceLocation) -> dict[str, Any]:
    """A Location: name, one-line address, position, weekly hours and (extension) its zone."""
    resource = _base("Location", str(loc.id))
    resource["extension"] = [{"url": ext_url("time-zone"), "valueString": loc.time_zone}]
    resource["status"] = "active"
    resource["name"] = loc.name
    if loc.address is not None:
        resource["address"] = {"text": loc.address}
    resource["position"] = {"latitude": loc.latitude, "longitude": loc.longitude}
    if loc.hours:
        resource["hoursOfOperation"] = [
            dict(
                zip(
                    ("daysOfWeek", "openingTime", "closingTime"),
                    ([_DAYS[h.weekday]], *_clock(h)),
                    strict=True,
                )
            )
            for h in loc.hours
        ]
    return resource


def _telecom(service: DirectoryService) -> list[dict[str, Any]]:
    contact = service.contact
    points = (("phone", contact.phone), ("email", contact.email), ("url", contact.url))
    return [{"system": system, "value": value} for system, value in points if value is not None]


def healthcare_service_resource(service: DirectoryService) -> dict[str, Any]:
    """The HealthcareService: who provides it, where, for which needs, in what languages."""
    resource = _base("HealthcareService", str(service.id))
    resource["active"] = service.active
    resource["providedBy"] = _ref("Organization", str(service.organization.id))
    resource["category"] = [
        {"coding": [{"system": SDOH_SYSTEM, "code": code}]} for code in service.categories
    ]
    if service.locations:
        resource["location"] = [_ref("Location", str(loc.id)) for loc in service.locations]
    resource["name"] = service.name
    if service.description is not None:
        resource["comment"] = service.description
    telecom = _telecom(service)
    if telecom:
        resource["telecom"] = telecom
    if service.cost in _PROVISION:
        resource["serviceProvisionCode"] = [
            {"coding": [{"system": SERVICE_PROVISION, "code": _PROVISION[service.cost]}]}
        ]
    if service.eligibility is not None:
        resource["eligibility"] = [{"comment": service.eligibility}]
    if service.languages:
        resource["communication"] = [
            {"coding": [{"system": BCP47, "code": tag}]} for tag in service.languages
        ]
    if len(service.locations) == 1 and service.locations[0].hours:
        resource["availableTime"] = [
            dict(
                zip(
                    ("daysOfWeek", "availableStartTime", "availableEndTime"),
                    ([_DAYS[h.weekday]], *_clock(h)),
                    strict=True,
                )
            )
            for h in service.locations[0].hours
        ]
    return resource


def _once(seen: dict[str, Any], key: str, value: Any, what: str) -> None:
    if seen.setdefault(key, value) != value:
        raise ValidationError(f"two services give one {what} id different details", field="id")


def _entry(rtype: str, cid: str, resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": "urn:uuid:" + _uuid(rtype, cid), "resource": resource}


def directory_bundle(services: Iterable[DirectoryService]) -> dict[str, Any]:
    """A ``collection`` Bundle: the Organizations, Locations and HealthcareServices of
    ``services`` (each organisation and location once). ValidationError when two services
    give one organisation or location id different details."""
    listed = list(services)
    orgs: dict[str, ServiceOrganization] = {}
    places: dict[str, ServiceLocation] = {}
    for service in listed:
        _once(orgs, str(service.organization.id), service.organization, "organisation")
        for loc in service.locations:
            _once(places, str(loc.id), loc, "location")
    entries = [_entry("Organization", oid, organization_resource(o)) for oid, o in orgs.items()]
    entries += [_entry("Location", lid, location_resource(loc)) for lid, loc in places.items()]
    entries += [
        _entry("HealthcareService", str(s.id), healthcare_service_resource(s)) for s in listed
    ]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}
