"""A small shared world for service-level tests: staff, one patient, a team, a plan."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import attrs

from carecoord import (
    CarePlan,
    CarePlanId,
    CareTeam,
    CareTeamId,
    CareTeamRole,
    Contact,
    ContactChannel,
    ContactId,
    ContactPoint,
    ContactPreferences,
    ContactRelationship,
    HumanName,
    Membership,
    Patient,
    PatientId,
    Period,
    QuietHours,
    StaffId,
    StaffMember,
)
from carecoord.storage import Store
from carecoord.testing import FixedClock, RecordingEventSink

CHICAGO = ZoneInfo("America/Chicago")
T0 = datetime(2026, 11, 23, 12, tzinfo=CHICAGO)  # a Monday, 18:00 UTC

COORD = StaffId("coord")
LEAD_MA = StaffId("lead-ma")
MA = StaffId("ma")
NURSE = StaffId("nurse")
BOSS = StaffId("boss")
OUTSIDER = StaffId("outsider")
PATIENT = PatientId("p-1")
PLAN = CarePlanId("plan-1")
TEAM = CareTeamId("team-1")
DAUGHTER = ContactId("c-daughter")
NEIGHBOUR = ContactId("c-neighbour")


def staff_member(
    sid: StaffId,
    role: CareTeamRole,
    *,
    supervisor: StaffId | None = None,
    zone: str = "America/Chicago",
    quiet: QuietHours | None = None,
) -> StaffMember:
    return StaffMember(
        id=sid,
        name=HumanName(family=f"Staff {sid}"),
        roles=(role,),
        time_zone=zone,
        supervisor_id=supervisor,
        telecom=(ContactPoint(ContactChannel.EMAIL, f"{sid}@clinic.example"),),
        preferences=ContactPreferences(channels=(ContactChannel.EMAIL,), quiet_hours=quiet),
    )


STAFF = (
    staff_member(BOSS, CareTeamRole.CASE_MANAGER),
    staff_member(COORD, CareTeamRole.CARE_COORDINATOR, supervisor=BOSS),
    staff_member(LEAD_MA, CareTeamRole.LEAD_MEDICAL_ASSISTANT, supervisor=COORD),
    staff_member(MA, CareTeamRole.MEDICAL_ASSISTANT, supervisor=LEAD_MA),
    staff_member(NURSE, CareTeamRole.NURSE, supervisor=COORD),
    staff_member(OUTSIDER, CareTeamRole.CARE_COORDINATOR),
)


def make_patient() -> Patient:
    return Patient(
        id=PATIENT,
        name=HumanName(family="Patientson", given=("Pat",)),
        birth_date=date(1951, 2, 3),
        time_zone="America/Chicago",
        telecom=(ContactPoint(ContactChannel.SMS, "+1 555 0100"),),
        preferences=ContactPreferences(
            channels=(ContactChannel.SMS,), quiet_hours=QuietHours(time(21), time(8))
        ),
        contacts=(
            Contact(
                id=DAUGHTER,
                name=HumanName(family="Daughter"),
                relationship=ContactRelationship.CHILD,
                may_receive_information=True,
                telecom=(ContactPoint(ContactChannel.SMS, "+1 555 0101"),),
            ),
            Contact(
                id=NEIGHBOUR,
                name=HumanName(family="Neighbour"),
                relationship=ContactRelationship.NEIGHBOR,
                may_receive_information=False,
                telecom=(ContactPoint(ContactChannel.SMS, "+1 555 0102"),),
            ),
        ),
    )


def make_team() -> CareTeam:
    start = T0 - timedelta(days=30)
    return CareTeam(
        id=TEAM,
        patient_id=PATIENT,
        lead_id=COORD,
        members=tuple(
            Membership(staff_id=s, role=r, period=Period(start=start))
            for s, r in (
                (COORD, CareTeamRole.CARE_COORDINATOR),
                (LEAD_MA, CareTeamRole.LEAD_MEDICAL_ASSISTANT),
                (MA, CareTeamRole.MEDICAL_ASSISTANT),
                (NURSE, CareTeamRole.NURSE),
            )
        ),
    )


@attrs.define
class World:
    """A service with staff registered, one patient enrolled, a team and an active plan."""

    service: object
    store: Store
    clock: FixedClock
    events: RecordingEventSink


def populate(service: object, clock: FixedClock) -> None:
    """Register staff, enrol the patient, form the team, create and activate a plan."""
    from carecoord.service import CareCoordinator

    assert isinstance(service, CareCoordinator)
    for member in STAFF:
        service.register_staff(member, actor=BOSS)
    service.enrol_patient(make_patient(), actor=COORD)
    service.form_care_team(make_team(), actor=COORD)
    service.set_team_status(TEAM, "active", actor=COORD)
    service.create_care_plan(
        CarePlan(id=PLAN, patient_id=PATIENT, author_id=COORD, created_at=clock.now()),
        actor=COORD,
    )
    service.set_plan_status(PLAN, "active", actor=COORD)
