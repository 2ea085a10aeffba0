"""FHIR R4 export of schedules, slots and availability, checked by the independent checker.

The checker (tests/_fhir_checks.py) knows only the elements carecoord's patient export
writes; the R4 elements of Schedule, Slot, Location and PractitionerRole availability are
added here for these tests, from the R4 (4.0.1) definitions.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

import _fhir_schema
from _fhir_checks import bundle_problems
from _fhir_schema import Element
from carecoord.fhir._export_schedule import availability, schedule_bundle
from carecoord.model import (
    AppointmentId,
    Cadence,
    CareTeamRole,
    HumanName,
    PatientId,
    StaffId,
    StaffMember,
)
from carecoord.model.scheduling import Schedule, ScheduleId, SessionPattern
from carecoord.model.workforce import LocationId, ShiftId, ShiftPattern, TimeOff, TimeOffId
from carecoord.workforce import slots_from_schedule

NY = ZoneInfo("America/New_York")
MONDAY = datetime(2026, 3, 2, 9, tzinfo=NY)
DR = StaffId("dr-a")
CLINIC = LocationId("clinic-1")
_ACTORS = (
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "RelatedPerson",
    "Device",
    "HealthcareService",
    "Location",
)
R4_SCHEMA = {
    "Schedule": {
        "id": Element("id"),
        "active": Element("boolean"),
        "actor": Element("Reference", many=True, required=True, targets=_ACTORS),
        "planningHorizon": Element("Period"),
    },
    "Slot": {
        "id": Element("id"),
        "schedule": Element("Reference", required=True, targets=("Schedule",)),
        "status": Element("code", required=True, binding="slotstatus"),
        "start": Element("instant", required=True),
        "end": Element("instant", required=True),
    },
    "Location": {
        "id": Element("id"),
        "status": Element("code", binding="location-status"),
    },
    "PractitionerRole": {
        **_fhir_schema.SCHEMA["PractitionerRole"],
        "location": Element("Reference", many=True, targets=("Location",)),
        "availableTime": Element("PractitionerRole.availableTime", many=True),
        "notAvailable": Element("PractitionerRole.notAvailable", many=True),
    },
    "PractitionerRole.availableTime": {
        "daysOfWeek": Element("code", many=True, binding="days-of-week"),
        "allDay": Element("boolean"),
        "availableStartTime": Element("time"),
        "availableEndTime": Element("time"),
    },
    "PractitionerRole.notAvailable": {
        "description": Element("string", required=True),
        "during": Element("Period"),
    },
}
R4_VALUE_SETS = {
    "slotstatus": (
        "http://hl7.org/fhir/slotstatus",
        frozenset(["busy", "free", "busy-unavailable", "busy-tentative", "entered-in-error"]),
    ),
    "location-status": (
        "http://hl7.org/fhir/location-status",
        frozenset(["active", "suspended", "inactive"]),
    ),
    "days-of-week": (
        "http://hl7.org/fhir/days-of-week",
        frozenset(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
    ),
}


@pytest.fixture(autouse=True)
def schedule_elements(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, fields in R4_SCHEMA.items():
        monkeypatch.setitem(_fhir_schema.SCHEMA, name, fields)
    for name, value_set in R4_VALUE_SETS.items():
        monkeypatch.setitem(_fhir_schema.REQUIRED_VALUE_SETS, name, value_set)


def provider() -> StaffMember:
    return StaffMember(
        id=DR,
        name=HumanName(family="Secret"),
        roles=(CareTeamRole.PRIMARY_CARE_PROVIDER,),
        time_zone="America/New_York",
    )


def pattern(
    pid: str, anchor: datetime, ends: time, *, weekly: bool = False, every: int = 0
) -> ShiftPattern:
    """Daily, weekly, or (``every``) every so many weeks (no FHIR form: left out)."""
    cadence = Cadence.weeks(every or 1, anchor) if weekly or every else Cadence.days(1, anchor)
    return ShiftPattern(
        id=ShiftId(pid),
        staff_id=DR,
        role=CareTeamRole.PRIMARY_CARE_PROVIDER,
        location_id=CLINIC,
        cadence=cadence,
        ends=ends,
    )


def test_a_schedule_bundle_is_valid_r4() -> None:
    schedule = Schedule(
        id=ScheduleId("dr_a:clinic"),  # not a FHIR id: a stable UUID stands in
        provider_id=DR,
        location_id=CLINIC,
        sessions=(
            SessionPattern(cadence=Cadence.weeks(1, MONDAY), ends=time(10), slot_minutes=30),
        ),
    )
    slots = slots_from_schedule(schedule, MONDAY, MONDAY + timedelta(days=14))
    slots[1] = slots[1].booked(AppointmentId("ap-1"), PatientId("p-1"))
    patterns = [
        pattern("days", MONDAY, time(17), weekly=True),
        pattern("nights", MONDAY.replace(hour=22), time(6)),
        pattern("oncall", MONDAY.replace(hour=8) + timedelta(days=5), time(8), weekly=True),
        pattern("fortnight", MONDAY, time(12), every=2),
    ]
    leave = TimeOff(
        id=TimeOffId("leave"), staff_id=DR, start=MONDAY, end=MONDAY + timedelta(days=3)
    )
    bundle = schedule_bundle(
        schedule,
        slots,
        provider=provider(),
        role=CareTeamRole.PRIMARY_CARE_PROVIDER,
        patterns=patterns,
        time_off=[leave],
        horizon=(MONDAY, MONDAY + timedelta(days=14)),
    )
    assert bundle_problems(bundle) == []
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == [
        "Practitioner",
        "Location",
        "Schedule",
        "Slot",
        "Slot",
        "Slot",
        "Slot",
        "PractitionerRole",
    ]
    resources = [e["resource"] for e in bundle["entry"]]
    assert resources[2]["id"] != "dr_a:clinic" and resources[1]["id"] == "clinic-1"
    assert [r["status"] for r in resources[3:7]] == ["free", "busy", "free", "free"]
    assert resources[3]["start"] == "2026-03-02T09:00:00-05:00"
    assert resources[5]["start"] == "2026-03-09T09:00:00-04:00"  # after the DST change
    role = resources[-1]
    assert role["availableTime"] == [
        {"daysOfWeek": ["mon"], "availableStartTime": "09:00:00", "availableEndTime": "17:00:00"},
        {
            "daysOfWeek": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "availableStartTime": "22:00:00",
            "availableEndTime": "23:59:59",
        },
        {
            "daysOfWeek": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "availableStartTime": "00:00:00",
            "availableEndTime": "06:00:00",
        },
        {"daysOfWeek": ["sat"], "allDay": True},
    ]
    assert role["notAvailable"] == [
        {
            "description": "Time off",
            "during": {"start": "2026-03-02T09:00:00-05:00", "end": "2026-03-05T09:00:00-05:00"},
        }
    ]
    assert "Secret" not in str(bundle)  # no names, no kind of leave
    assert "annual" not in str(bundle)


def test_the_checker_sees_a_broken_slot() -> None:
    schedule = Schedule(id=ScheduleId("s"), provider_id=DR, location_id=CLINIC, sessions=())
    bundle = schedule_bundle(schedule, [])
    assert bundle_problems(bundle) == []
    bundle["entry"].append(
        {
            "fullUrl": "urn:uuid:00000000-0000-0000-0000-000000000000",
            "resource": {"resourceType": "Slot", "id": "x", "status": "open", "start": "soon"},
        }
    )
    problems = bundle_problems(bundle)
    assert any("binding" in p for p in problems) and any("instant" in p for p in problems)
    assert availability([]) == []
