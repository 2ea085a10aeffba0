"""FHIR R4 export of clinic operations: visits as Encounters (status history, locations,
rooms), their Appointment's status, measurements as Observations, supply orders as
SupplyRequests and their receipts as SupplyDeliveries of lots (Devices).

Not part of :func:`~carecoord.fhir.export_bundle`: :func:`visit_bundle` and
:func:`supply_bundle` write ``collection`` Bundles of their own. References to
resources in the Bundle point at the entries' ``urn:uuid:`` full URLs; the patient and
staff members are referred to by their carecoord identifiers (no PHI travels); resource
ids are the carecoord ids when FHIR allows them, else a stable UUID.

Visit states map to FHIR encounter-status: booked ``planned``; arrived and checked in
``arrived``; roomed ``triaged``; with the provider ``in-progress``; checked out
``finished``; no-show, left without being seen and cancelled ``cancelled``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from ..model import Appointment
from ..model.clinic import Visit, VisitState
from ..model.measurements import (
    CATALOGUE,
    LOINC_SYSTEM,
    Interpretation,
    LoincCode,
    MeasuredValue,
    Measurement,
    ReferenceRange,
)
from ..model.supplies import (
    MovementKind,
    StockMovement,
    SupplyItem,
    SupplyOrder,
    SupplyOrderStatus,
)
from ._common import id_system, stable_uuid

__all__ = [
    "ENCOUNTER_STATUS",
    "INTERPRETATION_SYSTEM",
    "UCUM",
    "encounter_resource",
    "observation_resource",
    "supply_bundle",
    "visit_bundle",
]

UCUM = "http://unitsofmeasure.org"
INTERPRETATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
_PHYSICAL = "http://terminology.hl7.org/CodeSystem/location-physical-type"
_SUPPLY_KIND = "http://terminology.hl7.org/CodeSystem/supply-kind"
_SUPPLY_ITEM_TYPE = "http://terminology.hl7.org/CodeSystem/supply-item-type"
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_V = VisitState

ENCOUNTER_STATUS: dict[VisitState, str] = {
    _V.BOOKED: "planned",
    _V.ARRIVED: "arrived",
    _V.CHECKED_IN: "arrived",
    _V.ROOMED: "triaged",
    _V.WITH_PROVIDER: "in-progress",
    _V.CHECKED_OUT: "finished",
    _V.NO_SHOW: "cancelled",
    _V.LEFT_WITHOUT_BEING_SEEN: "cancelled",
    _V.CANCELLED: "cancelled",
}
"""FHIR encounter-status of each visit state."""

_ORDER_STATUS = {
    SupplyOrderStatus.DRAFT: "draft",
    SupplyOrderStatus.ORDERED: "active",
    SupplyOrderStatus.PARTLY_RECEIVED: "active",
    SupplyOrderStatus.RECEIVED: "completed",
    SupplyOrderStatus.CANCELLED: "cancelled",
}


def _rid(rtype: str, cid: str) -> str:
    return cid if _FHIR_ID.fullmatch(cid) else stable_uuid(rtype, "clinic", cid)


def _url(rtype: str, cid: str) -> str:
    return "urn:uuid:" + stable_uuid(rtype, "clinic", cid)


def _ref(rtype: str, cid: str) -> dict[str, Any]:
    return {"reference": _url(rtype, cid), "type": rtype}


def _logical(rtype: str, kind: str, cid: str) -> dict[str, Any]:
    """A reference by carecoord identifier (the patient, a staff member)."""
    return {"type": rtype, "identifier": {"system": id_system(kind), "value": cid}}


def _dt(value: datetime) -> str:
    """An aware datetime as FHIR ``dateTime`` / ``instant`` text (UTC when the offset is not
    whole minutes)."""
    offset = value.utcoffset() or timedelta(0)
    if offset % timedelta(minutes=1):
        value = value.astimezone(UTC)
    return value.isoformat(timespec="seconds" if not value.microsecond else "microseconds")


def _number(value: float) -> int | float:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _entry(rtype: str, cid: str, resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": _url(rtype, cid), "resource": resource}


def _location(cid: str, *, part_of: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"resourceType": "Location", "id": _rid("Location", cid)}
    found["status"] = "active"
    if part_of is not None:
        found["physicalType"] = {"coding": [{"system": _PHYSICAL, "code": "ro"}]}
        found["partOf"] = _ref("Location", part_of)
    return found


def _room_key(visit: Visit) -> str:
    return f"{visit.location_id}/{visit.room}"


def _period(start: datetime | None, end: datetime | None) -> dict[str, Any]:
    found = {}
    if start is not None:
        found["start"] = _dt(start)
    if end is not None:
        found["end"] = _dt(end)
    return found


def _status_history(visit: Visit) -> list[dict[str, Any]]:
    spans: list[tuple[str, datetime, datetime | None]] = []
    moments = [(visit.opened_as, visit.opened_at)] + [(s.to_status, s.at) for s in visit.history]
    for (state, at), following in zip(moments, [*moments[1:], None], strict=True):
        status = ENCOUNTER_STATUS[state]
        end = None if following is None else following[1]
        if spans and spans[-1][0] == status:
            spans[-1] = (status, spans[-1][1], end)
        else:
            spans.append((status, at, end))
    return [{"status": s, "period": _period(start, end)} for s, start, end in spans]


def encounter_resource(visit: Visit, *, appointment: bool = False) -> dict[str, Any]:
    """The visit as an ambulatory Encounter: its status and status history, the patient and
    provider, its period (arrival to leaving), the site and the room as locations with
    their periods, and (``appointment``) a reference to its Appointment entry."""
    left = None if not visit.is_final else visit.since
    arrived = visit.entered(_V.ARRIVED) or visit.entered(_V.CHECKED_IN)
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": _rid("Encounter", str(visit.id)),
        "status": ENCOUNTER_STATUS[visit.state],
        "statusHistory": _status_history(visit),
        "class": {"system": _ACT_CODE, "code": "AMB"},
        "subject": _logical("Patient", "patient", str(visit.patient_id)),
    }
    if visit.provider_id is not None:
        resource["participant"] = [
            {"individual": _logical("Practitioner", "staff", str(visit.provider_id))}
        ]
    if appointment and visit.appointment_id is not None:
        resource["appointment"] = [_ref("Appointment", str(visit.appointment_id))]
    if arrived is not None:
        resource["period"] = _period(arrived, left)
        done = visit.is_final
        places = [
            {
                "location": _ref("Location", str(visit.location_id)),
                "status": "completed" if done else "active",
                "period": _period(arrived, left),
            }
        ]
        roomed = visit.entered(_V.ROOMED)
        if visit.room is not None and roomed is not None:
            places.append(
                {
                    "location": _ref("Location", _room_key(visit)),
                    "status": "completed" if done else "active",
                    "period": _period(roomed, left),
                }
            )
        resource["location"] = places
    return resource


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": _number(value), "unit": unit, "system": UCUM, "code": unit}


def _range(limits: ReferenceRange, unit: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if limits.low is not None:
        found["low"] = _quantity(limits.low, unit)
    if limits.high is not None:
        found["high"] = _quantity(limits.high, unit)
    return found


def _code(code: LoincCode) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": LOINC_SYSTEM, "code": str(code)}
    definition = CATALOGUE.get(code)
    if definition is not None:
        coding["display"] = definition.display
    return {"coding": [coding]}


def _flag(flag: Interpretation) -> list[dict[str, Any]]:
    return [{"coding": [{"system": INTERPRETATION_SYSTEM, "code": flag.value}]}]


def _values(
    target: dict[str, Any],
    value: float | None,
    unit: str | None,
    limits: ReferenceRange | None,
    flag: Interpretation | None,
) -> None:
    if value is not None and unit is not None:
        target["valueQuantity"] = _quantity(value, unit)
    if flag is not None:
        target["interpretation"] = _flag(flag)
    if limits is not None and unit is not None:
        target["referenceRange"] = [_range(limits, unit)]


def _component(part: MeasuredValue) -> dict[str, Any]:
    found: dict[str, Any] = {"code": _code(part.code)}
    _values(found, part.value, part.unit, part.reference_range, part.interpretation)
    return found


def observation_resource(measurement: Measurement, *, encounter: bool = False) -> dict[str, Any]:
    """A final Observation: LOINC code, category, the patient, when, who took it, the value
    in UCUM with its reference range and interpretation, a panel's components, and
    (``encounter``) a reference to the visit's Encounter entry."""
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": _rid("Observation", str(measurement.id)),
        "status": "final",
        "category": [
            {"coding": [{"system": _CATEGORY_SYSTEM, "code": measurement.category.value}]}
        ],
        "code": _code(measurement.code),
        "subject": _logical("Patient", "patient", str(measurement.patient_id)),
        "effectiveDateTime": _dt(measurement.taken_at),
        "performer": [_logical("Practitioner", "staff", str(measurement.taken_by))],
    }
    if encounter and measurement.visit_id is not None:
        resource["encounter"] = _ref("Encounter", str(measurement.visit_id))
    _values(
        resource,
        measurement.value,
        measurement.unit,
        measurement.reference_range,
        measurement.interpretation,
    )
    if measurement.components:
        resource["component"] = [_component(c) for c in measurement.components]
    return resource


def _appointment(found: Appointment) -> dict[str, Any]:
    participants: list[dict[str, Any]] = [
        {"actor": _logical("Patient", "patient", str(found.patient_id)), "status": "accepted"}
    ]
    return {
        "resourceType": "Appointment",
        "id": _rid("Appointment", str(found.id)),
        "identifier": [{"system": id_system("appointment"), "value": str(found.id)}],
        "status": found.status.value,
        "start": _dt(found.start),
        "end": _dt(found.end),
        "participant": participants,
    }


def visit_bundle(
    visit: Visit,
    *,
    appointment: Appointment | None = None,
    measurements: Iterable[Measurement] = (),
) -> dict[str, Any]:
    """A ``collection`` Bundle: the site (and room) Locations, the visit's Encounter, its
    Appointment (with its status) when given, and the measurements taken at it."""
    entries = [_entry("Location", str(visit.location_id), _location(str(visit.location_id)))]
    if visit.room is not None:
        room = _room_key(visit)
        entries.append(_entry("Location", room, _location(room, part_of=str(visit.location_id))))
    linked = appointment is not None and appointment.id == visit.appointment_id
    entries.append(
        _entry("Encounter", str(visit.id), encounter_resource(visit, appointment=linked))
    )
    if linked:
        assert appointment is not None
        entries.append(_entry("Appointment", str(appointment.id), _appointment(appointment)))
    for m in measurements:
        made = observation_resource(m, encounter=m.visit_id == visit.id)
        entries.append(_entry("Observation", str(m.id), made))
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def _item_concept(item: SupplyItem) -> dict[str, Any]:
    found: dict[str, Any] = {"coding": [{"code": str(item.code)}]}
    if item.description is not None:
        found["text"] = item.description
    return found


def _lot_key(item: SupplyItem, lot: str) -> str:
    return f"{item.id}/{lot}"


def supply_bundle(
    order: SupplyOrder,
    items: Sequence[SupplyItem],
    movements: Iterable[StockMovement] = (),
) -> dict[str, Any]:
    """A ``collection`` Bundle of an order: the Location, one SupplyRequest per line
    (status, item, quantity, requester, where to), and per received movement of the order
    a SupplyDelivery of its lot (a Device with lot number and expiry) based on the line's
    request. ``items`` are the order's items (for their codes and units)."""
    by_id = {item.id: item for item in items}
    location = str(order.location_id)
    entries = [_entry("Location", location, _location(location))]
    for line in order.lines:
        item = by_id.get(line.item_id)
        if item is None:
            continue
        key = f"{order.id}/{line.item_id}"
        request: dict[str, Any] = {
            "resourceType": "SupplyRequest",
            "id": stable_uuid("SupplyRequest", "clinic", key),
            "status": _ORDER_STATUS[order.status],
            "category": {"coding": [{"system": _SUPPLY_KIND, "code": "central"}]},
            "itemCodeableConcept": _item_concept(item),
            "quantity": {"value": line.quantity, "unit": item.unit},
            "authoredOn": _dt(order.created_at),
            "requester": _logical("Practitioner", "staff", str(order.created_by)),
            "deliverTo": _ref("Location", location),
        }
        entries.append(_entry("SupplyRequest", key, request))
    devices: set[str] = set()
    for move in movements:
        item = by_id.get(move.item_id)
        if move.order_id != order.id or move.kind is not MovementKind.RECEIVED or item is None:
            continue
        lot = _lot_key(item, str(move.lot_number))
        if lot not in devices:
            devices.add(lot)
            device: dict[str, Any] = {
                "resourceType": "Device",
                "id": stable_uuid("Device", "clinic", lot),
                "lotNumber": str(move.lot_number),
                "type": _item_concept(item),
                "location": _ref("Location", location),
            }
            if move.expires_on is not None:
                device["expirationDate"] = move.expires_on.isoformat()
            entries.append(_entry("Device", lot, device))
        delivery = {
            "resourceType": "SupplyDelivery",
            "id": _rid("SupplyDelivery", str(move.id)),
            "basedOn": [_ref("SupplyRequest", f"{order.id}/{move.item_id}")],
            "status": "completed",
            "type": {"coding": [{"system": _SUPPLY_ITEM_TYPE, "code": "device"}]},
            "suppliedItem": {
                "quantity": {"value": move.quantity, "unit": item.unit},
                "itemReference": _ref("Device", lot),
            },
            "occurrenceDateTime": _dt(move.at),
            "destination": _ref("Location", location),
            "receiver": [_logical("Practitioner", "staff", str(move.by))],
        }
        entries.append(_entry("SupplyDelivery", str(move.id), delivery))
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}
