"""The friction a new user hit (issue 17): first team at enrolment, the staff directory,
creating records active or booked, booking notices, lateness a coordinator reads, and
the one worklist API."""

from __future__ import annotations

import warnings
from datetime import timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import carecoord
from carecoord import (
    AccessDeniedError,
    Appointment,
    AppointmentId,
    AppointmentStatus,
    CareTeam,
    CareTeamId,
    CareTeamRole,
    CareTeamStatus,
    ContactChannel,
    ContactPoint,
    Goal,
    GoalId,
    GoalLifecycleStatus,
    InvalidTransitionError,
    Membership,
    PatientId,
    Period,
    StaffId,
)
from carecoord.caseload import DueIntervention, work_item
from carecoord.display import lateness_text
from carecoord.model import Notification, RecipientKind, supervision_chain
from carecoord.model.audit import AuditEntry
from carecoord.service import CareCoordinator
from carecoord.storage import MemoryStore, UnitOfWork
from carecoord.testing import FixedClock
from world import BOSS, COORD, MA, NURSE, OUTSIDER, PATIENT, PLAN, T0, make_patient, populate


def _service() -> tuple[CareCoordinator, MemoryStore, FixedClock]:
    store = MemoryStore()
    clock = FixedClock(T0)
    service = CareCoordinator(store, clock=clock)
    populate(service, clock)
    return service, store, clock


def _new_patient(number: int) -> carecoord.Patient:
    return attrs.evolve(make_patient(), id=PatientId(f"p-new-{number}"), contacts=())


# ------------------------------------------------------------ 1. enrolment
def test_without_a_team_the_enrolling_coordinator_cannot_read_the_patient_back() -> None:
    service, _, _ = _service()
    service.enrol_patient(_new_patient(1), actor=OUTSIDER)
    with pytest.raises(AccessDeniedError):
        service.patient(PatientId("p-new-1"), actor=OUTSIDER)


def test_enrolment_can_form_the_first_team_of_the_enrolling_coordinator() -> None:
    service, store, _ = _service()
    before = len(UnitOfWork(store).all(AuditEntry))
    service.enrol_patient(_new_patient(2), actor=OUTSIDER, team=True)
    assert len(UnitOfWork(store).all(AuditEntry)) == before + 1  # one audited operation
    assert service.patient(PatientId("p-new-2"), actor=OUTSIDER).id == "p-new-2"
    (team,) = service.care_teams_of(PatientId("p-new-2"), actor=OUTSIDER)
    assert (team.lead_id, team.status) == (OUTSIDER, CareTeamStatus.ACTIVE)
    assert [(m.staff_id, m.role) for m in team.members] == [
        (OUTSIDER, CareTeamRole.CARE_COORDINATOR)
    ]
    assert [(s.from_status, s.to_status, s.by) for s in team.history] == [
        (CareTeamStatus.PROPOSED, CareTeamStatus.ACTIVE, OUTSIDER)
    ]


def test_enrolment_with_a_given_team_and_its_refusals() -> None:
    service, _, clock = _service()
    patient = _new_patient(3)
    team = CareTeam(
        id=CareTeamId("team-new-3"),
        patient_id=patient.id,
        lead_id=OUTSIDER,
        members=(
            Membership(OUTSIDER, CareTeamRole.CARE_COORDINATOR, Period(start=clock.now())),
            Membership(NURSE, CareTeamRole.NURSE, Period(start=clock.now())),
        ),
    )
    with pytest.raises(carecoord.ValidationError):  # a team of another patient
        service.enrol_patient(patient, actor=OUTSIDER, team=attrs.evolve(team, patient_id=PATIENT))
    with pytest.raises(carecoord.ValidationError, match="team must be"):  # not a team at all
        service.enrol_patient(patient, actor=OUTSIDER, team="team-new-3")  # type: ignore[arg-type]
    with pytest.raises(AccessDeniedError):  # a nurse may enrol but not form a team
        service.enrol_patient(patient, actor=NURSE, team=True)
    with pytest.raises(carecoord.NotFoundError):  # nothing was enrolled by the refusals
        UnitOfWork(service.store).get(carecoord.Patient, patient.id)
    service.enrol_patient(patient, actor=OUTSIDER, team=team)
    assert service.patient(patient.id, actor=NURSE).id == patient.id
    assert service.care_team(team.id, actor=OUTSIDER).status is CareTeamStatus.PROPOSED


# ------------------------------------------------------ 2. staff directory
def test_any_active_staff_member_reads_the_directory_without_contact_details() -> None:
    service, _, _ = _service()
    stored = service.staff_member(NURSE, actor=BOSS)
    phone = (ContactPoint(ContactChannel.PHONE, "+1 555 0100"),)
    service.register_staff(attrs.evolve(stored, telecom=phone), actor=BOSS)
    seen_by_ma = {m.id: m for m in service.staff_members(actor=MA)}
    assert set(seen_by_ma) == {BOSS, COORD, StaffId("lead-ma"), MA, NURSE, OUTSIDER}
    assert seen_by_ma[NURSE].telecom == ()  # a colleague's contact details stay hidden
    assert supervision_chain(MA, seen_by_ma) == [StaffId("lead-ma"), COORD, BOSS]
    # the nurse's supervisor (coord) and the nurse herself see them
    assert service.staff_members([NURSE], actor=COORD)[0].telecom == phone
    assert service.staff_members([NURSE, StaffId("nobody")], actor=NURSE)[0].telecom == phone
    assert "555" not in repr(service.staff_members(actor=MA))


def test_the_directory_leaves_out_those_who_left_unless_asked() -> None:
    service, _, _ = _service()
    gone = attrs.evolve(service.staff_member(OUTSIDER, actor=BOSS), active=False)
    service.register_staff(gone, actor=BOSS)
    assert OUTSIDER not in {m.id for m in service.staff_members(actor=MA)}
    assert OUTSIDER in {m.id for m in service.staff_members(actor=MA, include_inactive=True)}
    assert service.staff_members([OUTSIDER], actor=MA) == []


# ----------------------------------------- 3. created active/booked; notices
def _appointment(name: str) -> Appointment:
    start = T0 + timedelta(days=3)
    return Appointment(
        id=AppointmentId(name),
        patient_id=PATIENT,
        start=start,
        end=start + timedelta(hours=1),
        provider="Clinic",
        location="Main street",
    )


def test_a_booked_appointment_is_created_in_one_call_and_can_be_arrived() -> None:
    service, _, _ = _service()
    booked = service.schedule_appointment(_appointment("ap-b"), actor=COORD, status="booked")
    assert (booked.status, booked.booked_by) == (AppointmentStatus.BOOKED, COORD)
    assert [s.to_status for s in booked.history] == [AppointmentStatus.BOOKED]
    arrived = service.set_appointment_status(booked.id, "arrived", actor=COORD)
    assert arrived.status is AppointmentStatus.ARRIVED
    with pytest.raises(InvalidTransitionError):
        service.schedule_appointment(_appointment("ap-x"), actor=COORD, status="fulfilled")


def test_reminders_go_out_when_booked_not_when_proposed() -> None:
    service, _, _ = _service()

    def booked_notices() -> int:
        with UnitOfWork(service.store) as uow:
            found = uow.all(Notification, patient_id=str(PATIENT))
        return sum(1 for n in found if n.event == "AppointmentBooked")

    service.schedule_appointment(_appointment("ap-p"), actor=COORD)
    assert booked_notices() == 0  # merely proposed: nobody is told
    service.set_appointment_status(AppointmentId("ap-p"), "booked", actor=COORD)
    after_booking = booked_notices()
    assert after_booking > 0
    with UnitOfWork(service.store) as uow:
        kinds = {n.recipient_kind for n in uow.all(Notification) if n.event == "AppointmentBooked"}
    assert RecipientKind.PATIENT in kinds
    service.schedule_appointment(_appointment("ap-q"), actor=COORD, status="booked")
    assert booked_notices() == 2 * after_booking


def test_goals_and_teams_are_created_active_in_one_call() -> None:
    service, _, clock = _service()
    plan = service.add_goal(
        PLAN, Goal(id=GoalId("g-a"), description="x"), actor=COORD, status="active"
    )
    goal = plan.goal(GoalId("g-a"))
    assert goal.lifecycle_status is GoalLifecycleStatus.ACTIVE
    assert [(s.from_status, s.by) for s in goal.history] == [(GoalLifecycleStatus.PROPOSED, COORD)]
    with pytest.raises(InvalidTransitionError):
        service.add_goal(
            PLAN, Goal(id=GoalId("g-b"), description="x"), actor=COORD, status="completed"
        )
    team = CareTeam(
        id=CareTeamId("team-2"),
        patient_id=PATIENT,
        lead_id=COORD,
        members=(Membership(COORD, CareTeamRole.CARE_COORDINATOR, Period(start=clock.now())),),
    )
    formed = service.form_care_team(team, actor=COORD, status="active")
    assert formed.status is CareTeamStatus.ACTIVE


# ---------------------------------------------------------------- 5. lateness
@pytest.mark.parametrize(
    ("late_by", "shown"),
    [
        (None, ""),
        (timedelta(0), ""),
        (timedelta(seconds=20), "1 min late"),
        (timedelta(minutes=40), "40 min late"),
        (timedelta(hours=22), "22 h late"),
        (timedelta(hours=47, minutes=59), "47 h late"),
        (timedelta(days=3, hours=5), "3 d late"),
    ],
)
def test_lateness_reads_as_a_coordinator_expects(late_by: timedelta | None, shown: str) -> None:
    assert lateness_text(late_by) == shown


@given(st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=3000)))
def test_lateness_text_never_says_zero_and_matches_the_unit(late_by: timedelta) -> None:
    number, unit, _ = lateness_text(late_by).split(" ")
    expected = {
        "min": late_by // timedelta(minutes=1),
        "h": late_by // timedelta(hours=1),
        "d": late_by.days,
    }[unit]
    assert int(number) == max(1, expected)


def test_an_item_22_hours_late_is_late_by_22_hours() -> None:
    item = work_item(
        "intervention",
        patient_id=PATIENT,
        item_id="i-1",
        record_id=str(PLAN),
        status="ready",
        now=T0,
        due=T0 - timedelta(hours=22),
    )
    assert (item.overdue, item.late_by, item.late) == (True, timedelta(hours=22), "22 h late")
    assert item.days_late == 0  # deprecated: whole days
    assert item.to_record()["late"] == "22 h late"


# ---------------------------------------------------------- 6. one worklist API
def test_the_old_worklist_module_warns_and_still_works() -> None:
    import carecoord.worklist as old

    with pytest.warns(DeprecationWarning, match=r"carecoord\.caseload\.DueIntervention"):
        assert old.WorkItem is DueIntervention
    import carecoord.caseload

    with pytest.warns(DeprecationWarning, match=r"WorkItem is deprecated.*DueIntervention"):
        assert carecoord.caseload.WorkItem is DueIntervention
    with pytest.warns(DeprecationWarning, match=r"carecoord\.WorkItem is deprecated"):
        assert carecoord.WorkItem is DueIntervention
    with pytest.warns(DeprecationWarning, match="interventions_due"):
        due = old.interventions_due
    with pytest.warns(DeprecationWarning, match=r"import it from carecoord\.worklist"):
        assert carecoord.interventions_due is due  # the top-level name warns too
    assert "interventions_due" not in carecoord.__all__
    assert carecoord.DueIntervention is DueIntervention
    with pytest.raises(AttributeError):
        old.no_such_name  # noqa: B018
    service, store, _ = _service()
    with UnitOfWork(store) as uow:
        plans = uow.all(carecoord.CarePlan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert due(plans, MA, T0) == service.interventions_due(MA, actor=MA)
