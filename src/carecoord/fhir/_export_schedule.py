"""FHIR R4 export of provider schedules, slots and availability (Schedule, Slot,
PractitionerRole.availableTime / notAvailable).

Not part of :func:`~carecoord.fhir.export_bundle` (a patient's record): a
schedule belongs to a provider. :func:`schedule_bundle` writes a ``collection``
Bundle holding the provider (Practitioner), the location (Location), the
Schedule, its Slots and, when given, the provider's PractitionerRole with the
availability their weekly or daily shift patterns describe and their time
off as ``notAvailable``. References point at the entries' ``urn:uuid:`` full
URLs; resource ids are the carecoord ids when FHIR allows them (else a
stable UUID). Nothing here is PHI: no names, no reason for time off.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime, time
from typing import Any

from ..model import CadenceUnit, CareTeamRole, StaffMember
from ..model.scheduling import Schedule, Slot
from ..model.workforce import LocationId, ShiftPattern, TimeOff
from ._common import cs, id_system, stable_uuid

__all__ = [
    "availability",
    "practitioner_role_resource",
    "schedule_bundle",
    "schedule_resource",
    "slot_resource",
]

_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_LAST = time(23, 59, 59)


def _rid(rtype: str, cid: str) -> str:
    """The resource id: the carecoord id when it is a valid FHIR id, else a stable UUID."""
    return cid if _FHIR_ID.fullmatch(cid) else stable_uuid(rtype, "workforce", cid)


def _url(rtype: str, cid: str) -> str:
    return "urn:uuid:" + stable_uuid(rtype, "workforce", cid)


def _ref(rtype: str, cid: str) -> dict[str, Any]:
    return {"reference": _url(rtype, cid), "type": rtype}


def _instant(value: datetime) -> str:
    """An aware datetime as a FHIR ``instant`` (seconds and offset always written)."""
    return value.isoformat(timespec="seconds" if not value.microsecond else "microseconds")


def _clock(value: time) -> str:
    return value.isoformat(timespec="seconds" if not value.microsecond else "microseconds")


def schedule_resource(
    schedule: Schedule, *, horizon: tuple[datetime, datetime] | None = None
) -> dict[str, Any]:
    """A Schedule: the provider and the location as actors, ``horizon`` as planningHorizon."""
    resource: dict[str, Any] = {
        "resourceType": "Schedule",
        "id": _rid("Schedule", str(schedule.id)),
        "active": schedule.active,
        "actor": [
            _ref("Practitioner", str(schedule.provider_id)),
            _ref("Location", str(schedule.location_id)),
        ],
    }
    if horizon is not None:
        resource["planningHorizon"] = {"start": _instant(horizon[0]), "end": _instant(horizon[1])}
    return resource


def slot_resource(slot: Slot) -> dict[str, Any]:
    """A Slot of its schedule (status, start, end); the booking itself is the Appointment's."""
    return {
        "resourceType": "Slot",
        "id": _rid("Slot", str(slot.id)),
        "schedule": _ref("Schedule", str(slot.schedule_id)),
        "status": slot.status.value,
        "start": _instant(slot.start),
        "end": _instant(slot.end),
    }


def availability(patterns: Iterable[ShiftPattern]) -> list[dict[str, Any]]:
    """``PractitionerRole.availableTime`` entries for the daily and weekly patterns.

    A daily pattern is available every day, a weekly one on its anchor's
    weekday, from its start to its end wall time; a night shift is two
    entries (to 23:59:59, then from 00:00 the next day) and a 24-hour one is
    ``allDay``. Patterns every other day, fortnightly or monthly have no
    ``availableTime`` form and are left out.
    """
    found: list[dict[str, Any]] = []
    for pattern in patterns:
        cadence = pattern.cadence
        if cadence.every != 1 or cadence.unit not in (CadenceUnit.DAYS, CadenceUnit.WEEKS):
            continue
        start = cadence.anchor.replace(tzinfo=None).time()
        day = cadence.anchor.weekday()
        days = list(_DAYS) if cadence.unit is CadenceUnit.DAYS else [_DAYS[day]]
        following = list(_DAYS) if cadence.unit is CadenceUnit.DAYS else [_DAYS[(day + 1) % 7]]
        if pattern.ends == start:
            found.append({"daysOfWeek": days, "allDay": True})
        elif pattern.ends > start:
            found.append(
                {
                    "daysOfWeek": days,
                    "availableStartTime": _clock(start),
                    "availableEndTime": _clock(pattern.ends),
                }
            )
        else:
            found.append(
                {
                    "daysOfWeek": days,
                    "availableStartTime": _clock(start),
                    "availableEndTime": _clock(_LAST),
                }
            )
            if pattern.ends != time(0):
                found.append(
                    {
                        "daysOfWeek": following,
                        "availableStartTime": _clock(time(0)),
                        "availableEndTime": _clock(pattern.ends),
                    }
                )
    return found


def practitioner_role_resource(
    member: StaffMember,
    role: CareTeamRole,
    location_id: LocationId,
    *,
    patterns: Iterable[ShiftPattern] = (),
    time_off: Iterable[TimeOff] = (),
) -> dict[str, Any]:
    """The provider's PractitionerRole at ``location_id`` in ``role``, with the availability of
    their patterns for that role and location, and their standing time off as notAvailable
    (described only as time off: the kind of leave is not shared)."""
    key = f"{member.id}/{role.value}/{location_id}"
    resource: dict[str, Any] = {
        "resourceType": "PractitionerRole",
        "id": stable_uuid("PractitionerRole", "workforce", key),
        "practitioner": _ref("Practitioner", str(member.id)),
        "code": [{"coding": [{"system": cs("care-team-role"), "code": role.value}]}],
        "location": [_ref("Location", str(location_id))],
    }
    mine = [
        p
        for p in patterns
        if p.staff_id == member.id and p.role is role and p.location_id == location_id
    ]
    available = availability(mine)
    if available:
        resource["availableTime"] = available
    away = [
        {"description": "Time off", "during": {"start": _instant(t.start), "end": _instant(t.end)}}
        for t in time_off
        if t.staff_id == member.id and not t.cancelled
    ]
    if away:
        resource["notAvailable"] = away
    return resource


def _entry(rtype: str, cid: str, resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": _url(rtype, cid), "resource": resource}


def schedule_bundle(
    schedule: Schedule,
    slots: Sequence[Slot],
    *,
    provider: StaffMember | None = None,
    role: CareTeamRole | None = None,
    patterns: Iterable[ShiftPattern] = (),
    time_off: Iterable[TimeOff] = (),
    horizon: tuple[datetime, datetime] | None = None,
) -> dict[str, Any]:
    """A ``collection`` Bundle: Practitioner, Location, Schedule, its ``slots`` and, given the
    ``provider`` and a ``role``, their PractitionerRole with availability."""
    provider_id = str(schedule.provider_id)
    location_id = str(schedule.location_id)
    practitioner: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": _rid("Practitioner", provider_id),
        "identifier": [{"system": id_system("staff"), "value": provider_id}],
    }
    if provider is not None:
        practitioner["active"] = provider.active
    entries = [
        _entry("Practitioner", provider_id, practitioner),
        _entry(
            "Location",
            location_id,
            {"resourceType": "Location", "id": _rid("Location", location_id), "status": "active"},
        ),
        _entry("Schedule", str(schedule.id), schedule_resource(schedule, horizon=horizon)),
    ]
    for slot in slots:
        if slot.schedule_id != schedule.id:
            continue
        entries.append(_entry("Slot", str(slot.id), slot_resource(slot)))
    if provider is not None and role is not None:
        made = practitioner_role_resource(
            provider, role, schedule.location_id, patterns=patterns, time_off=time_off
        )
        entries.append({"fullUrl": "urn:uuid:" + made["id"], "resource": made})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}
