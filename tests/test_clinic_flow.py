"""Patient flow: a clinic day across the fall-back night and midnight, the board on the
clinic's local days, waiting-time metrics checked against figures worked out by hand, the
stuck list, the appointment following the visit, and access."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest

from _clinic_world import ANNEX, CLINIC, MAIN, START, STRANGER, clinic, opened, visit
from carecoord import (
    AccessDeniedError,
    Appointment,
    AppointmentId,
    AppointmentStatus,
    ConflictError,
    InvalidTransitionError,
    NotFoundError,
    Period,
    ReasonRequiredError,
    StaffId,
    ValidationError,
)
from carecoord.clinic import VisitSnapshot, day_bounds, snapshot_of, wait_metrics
from carecoord.model.clinic import (
    ClinicId,
    RoomId,
    Visit,
    VisitFacts,
    VisitId,
    VisitState,
    WaitLimit,
)
from carecoord.model.workforce import LocationId
from carecoord.service import CareCoordinator
from carecoord.storage import Store
from carecoord.testing import FixedClock
from world import CHICAGO, COORD, LEAD_MA, MA, NURSE, OUTSIDER, PATIENT

V = VisitState
UTC_ = ZoneInfo("UTC")


def wall(y: int, m: int, d: int, h: int, mi: int, *, fold: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=CHICAGO, fold=fold)


def step(
    service: CareCoordinator,
    clock: FixedClock,
    vid: str,
    to: VisitState,
    when: datetime,
    **kw: object,
) -> Visit:
    clock.set(when)
    return service.move_visit(VisitId(vid), to, actor=MA, **kw)  # type: ignore[arg-type]


def fall_back_day(service: CareCoordinator, clock: FixedClock) -> None:
    """Four visits of an overnight clinic around the fall-back night of 2026-11-01.

    A: booked 23:30 (Oct 31), arrives 23:40, checked in 23:45, roomed 00:10, provider
       00:40, out 01:20 CDT.
    B: walk-in 01:30 CDT, checked in 01:40 CDT, roomed 01:10 CST (= 02:10 CDT), provider
       01:50 CST, out 02:30 CST.
    C: booked 09:00 (Nov 1), no-show.
    D: booked 23:30 (Nov 1), arrives 23:35, checked in 23:40, leaves unseen 00:20 (Nov 2).
    """
    clock.set(wall(2026, 10, 31, 20, 0))
    service.open_visit(visit("A", wall(2026, 10, 31, 23, 30), opened_at=clock.now()), actor=MA)
    service.open_visit(visit("C", wall(2026, 11, 1, 9, 0), opened_at=clock.now()), actor=MA)
    service.open_visit(visit("D", wall(2026, 11, 1, 23, 30), opened_at=clock.now()), actor=MA)
    step(service, clock, "A", V.ARRIVED, wall(2026, 10, 31, 23, 40))
    step(service, clock, "A", V.CHECKED_IN, wall(2026, 10, 31, 23, 45))
    step(service, clock, "A", V.ROOMED, wall(2026, 11, 1, 0, 10), room=RoomId("exam-2"))
    step(service, clock, "A", V.WITH_PROVIDER, wall(2026, 11, 1, 0, 40), provider_id=NURSE)
    step(service, clock, "A", V.CHECKED_OUT, wall(2026, 11, 1, 1, 20))
    arrival = wall(2026, 11, 1, 1, 30)
    clock.set(arrival)
    walk_in = visit("B", arrival, opened_at=arrival, state=V.ARRIVED, location_id=ANNEX)
    service.open_visit(walk_in, actor=MA)
    step(service, clock, "B", V.CHECKED_IN, wall(2026, 11, 1, 1, 40))
    step(service, clock, "B", V.ROOMED, wall(2026, 11, 1, 1, 10, fold=1), room=RoomId("exam-1"))
    step(service, clock, "B", V.WITH_PROVIDER, wall(2026, 11, 1, 1, 50, fold=1))
    step(service, clock, "B", V.CHECKED_OUT, wall(2026, 11, 1, 2, 30))
    step(service, clock, "C", V.NO_SHOW, wall(2026, 11, 1, 10, 0))
    step(service, clock, "D", V.ARRIVED, wall(2026, 11, 1, 23, 35))
    step(service, clock, "D", V.CHECKED_IN, wall(2026, 11, 1, 23, 40))


def test_a_clinic_day_across_the_fall_back_night_and_midnight(any_store: Store) -> None:
    service, clock = opened(any_store)
    fall_back_day(service, clock)
    clock.set(wall(2026, 11, 2, 0, 5))
    # The Nov 1 board: local midnight to local midnight, 25 hours on the fall-back day.
    board = service.day_board(CLINIC, day=date(2026, 11, 1), actor=MA)
    assert board.end.astimezone(UTC_) - board.start.astimezone(UTC_) == timedelta(hours=25)
    assert [(e.visit_id, e.state) for e in board.entries] == [
        ("B", V.CHECKED_OUT),
        ("C", V.NO_SHOW),
        ("D", V.CHECKED_IN),
    ]
    b = board.entries[0]
    assert b.arrived_at == wall(2026, 11, 1, 1, 30) and b.arrived_at.utcoffset() == timedelta(
        hours=-5
    )
    assert (b.room, b.location_id, b.waiting, b.stuck) == ("exam-1", ANNEX, None, False)
    d = board.entries[2]
    assert d.waiting == timedelta(minutes=25) and d.limit == timedelta(minutes=20) and d.stuck
    assert board.count(V.CHECKED_IN) == 1 and board.stuck == (d,)
    # A, scheduled before midnight, is on the Oct 31 board, its times on the clinic's clock.
    oct31 = service.day_board(CLINIC, day=date(2026, 10, 31), actor=MA)
    assert [e.visit_id for e in oct31.entries] == ["A"]
    assert oct31.end.astimezone(UTC_) - oct31.start.astimezone(UTC_) == timedelta(hours=24)
    assert oct31.entries[0].provider_id == NURSE
    # the default day is the clinic's today (Nov 2 from 00:00 local, 06:00 UTC)
    assert service.day_board(CLINIC, actor=MA).day == date(2026, 11, 2)
    clock.set(datetime(2026, 11, 2, 5, 30, tzinfo=UTC_))  # Nov 1, 23:30 CST
    assert service.day_board(CLINIC, actor=MA).day == date(2026, 11, 1)
    # one location only
    annex = service.day_board(CLINIC, day=date(2026, 11, 1), location_id=ANNEX, actor=MA)
    assert [e.visit_id for e in annex.entries] == ["B"]


def test_waiting_times_match_the_figures_worked_out_by_hand(any_store: Store) -> None:
    service, clock = opened(any_store)
    fall_back_day(service, clock)
    step(service, clock, "D", V.LEFT_WITHOUT_BEING_SEEN, wall(2026, 11, 2, 0, 20))
    # A: 23:40 -> 00:10 roomed (30), -> 00:40 provider (30), -> 01:20 CDT out (100).
    # B: 01:30 CDT -> 01:10 CST roomed (40, not -20), -> 01:50 CST provider (40),
    #    -> 02:30 CST out (120). C no-show, D arrived and left unseen.
    start, end = wall(2026, 10, 31, 0, 0), wall(2026, 11, 2, 0, 0)
    report = service.wait_times(CLINIC, start, end, actor=MA)
    got = {m.name: (m.numerator, m.denominator, m.value) for m in report}
    assert got["wait_arrival_to_roomed"] == (70.0, 2, 35.0)
    assert got["wait_arrival_to_roomed_median"] == (None, 2, 35.0)
    assert got["wait_roomed_to_provider"] == (70.0, 2, 35.0)
    assert got["visit_arrival_to_checkout"] == (220.0, 2, 110.0)
    assert got["visit_arrival_to_checkout_median"] == (None, 2, 110.0)
    assert got["left_without_being_seen_rate"][:2] == (1, 3)
    assert report.get("left_without_being_seen_rate").value == pytest.approx(1 / 3)
    assert got["no_show_rate"] == (1, 4, 0.25)
    assert report.period == Period(start=start, end=end)
    # a period with only Oct 31: A alone
    oct31 = service.wait_times(CLINIC, start, wall(2026, 11, 1, 0, 0), actor=MA)
    assert oct31.get("wait_arrival_to_roomed").value == 30.0
    assert oct31.get("no_show_rate").denominator == 1
    # nothing in the period: denominators 0, values None
    empty = service.wait_times(CLINIC, wall(2026, 12, 1, 0, 0), wall(2026, 12, 2, 0, 0), actor=MA)
    assert all(m.value is None and m.denominator == 0 for m in empty)
    with pytest.raises(AccessDeniedError):  # neither clinic staff nor view-metrics
        service.wait_times(CLINIC, start, end, actor=STRANGER)
    assert service.wait_times(CLINIC, start, end, actor=COORD).get("no_show_rate").value == 0.25


def test_wait_metrics_are_pure_and_take_instants() -> None:
    """The rule on its own, with a visit whose wall clock runs backwards over the fold."""
    arrived = wall(2026, 11, 1, 1, 50)  # CDT
    roomed = wall(2026, 11, 1, 1, 5, fold=1)  # CST: 15 minutes later
    facts = VisitFacts(
        location_id=MAIN,
        room=None,
        provider_id=None,
        appointment_id=None,
        entered=(arrived, None, roomed, None, None),
    )
    snap = VisitSnapshot(
        visit_id=VisitId("v"),
        patient_id=PATIENT,
        clinic_id=CLINIC,
        state=V.ROOMED,
        scheduled_start=arrived,
        since=roomed,
        facts=facts,
    )
    period = Period(start=wall(2026, 11, 1, 0, 0), end=wall(2026, 11, 2, 0, 0))
    metrics = {m.name: m for m in wait_metrics([snap], period)}
    assert metrics["wait_arrival_to_roomed"].value == 15.0
    assert metrics["wait_roomed_to_provider"].denominator == 0
    assert VisitFacts.from_detail(facts.to_detail()) == VisitFacts(
        location_id=MAIN,
        room=None,
        provider_id=None,
        appointment_id=None,
        entered=(arrived.astimezone(UTC_), None, roomed.astimezone(UTC_), None, None),
    )
    with pytest.raises(ValidationError):
        VisitFacts.from_detail("main|||")
    with pytest.raises(ValidationError):
        wait_metrics([snap], Period(start=arrived))  # no end


def test_the_stuck_list_uses_the_clinic_limits(any_store: Store) -> None:
    limits = (WaitLimit(V.BOOKED, 15), WaitLimit(V.CHECKED_IN, 20), WaitLimit(V.ROOMED, 10))
    service, clock = opened(any_store, wait_limits=limits)
    clock.set(wall(2026, 10, 31, 20, 0))
    service.open_visit(visit("C", wall(2026, 11, 1, 9, 0), opened_at=clock.now()), actor=MA)
    service.open_visit(visit("D", wall(2026, 11, 1, 23, 30), opened_at=clock.now()), actor=MA)
    clock.set(wall(2026, 11, 1, 9, 10))  # C is 10 minutes late: within the limit
    assert service.stuck_visits(CLINIC, actor=LEAD_MA) == []
    clock.set(wall(2026, 11, 1, 9, 20))  # C is 20 minutes late and not here yet
    late = service.stuck_visits(CLINIC, actor=LEAD_MA)
    assert [(e.visit_id, e.state, e.waiting) for e in late] == [
        ("C", V.BOOKED, timedelta(minutes=20))
    ]
    step(service, clock, "C", V.NO_SHOW, wall(2026, 11, 1, 10, 0))
    step(service, clock, "D", V.ARRIVED, wall(2026, 11, 1, 23, 35))
    step(service, clock, "D", V.CHECKED_IN, wall(2026, 11, 1, 23, 40))
    clock.set(wall(2026, 11, 2, 0, 15))  # D checked in 35 minutes ago
    stuck = service.stuck_visits(CLINIC, actor=LEAD_MA)
    assert [(e.visit_id, e.waiting - e.limit) for e in stuck] == [  # type: ignore[operator]
        ("D", timedelta(minutes=15))
    ]
    assert service.stuck_visits(CLINIC, location_id=ANNEX, actor=LEAD_MA) == []
    with pytest.raises(AccessDeniedError):
        service.stuck_visits(CLINIC, actor=STRANGER)  # not clinic staff, no manage-staff


def test_the_appointment_follows_the_visit(any_store: Store) -> None:
    service, clock = opened(any_store)
    start = wall(2026, 11, 3, 9, 0)
    service.schedule_appointment(
        Appointment(
            id=AppointmentId("ap-1"),
            patient_id=PATIENT,
            start=start,
            end=start + timedelta(minutes=30),
            provider="Dr Nurse",
            location="Main street",
            status=AppointmentStatus.BOOKED,
        ),
        actor=MA,
    )
    with pytest.raises(ValidationError):  # must start with its appointment
        service.open_visit(
            visit("v-1", start + timedelta(minutes=5), appointment_id=AppointmentId("ap-1")),
            actor=MA,
        )
    service.open_visit(visit("v-1", start, appointment_id=AppointmentId("ap-1")), actor=MA)

    def status() -> AppointmentStatus:
        return service.appointments_of(PATIENT, actor=MA)[0].status

    assert status() is AppointmentStatus.BOOKED
    step(service, clock, "v-1", V.ARRIVED, wall(2026, 11, 3, 8, 55))
    assert status() is AppointmentStatus.ARRIVED
    step(service, clock, "v-1", V.CHECKED_IN, wall(2026, 11, 3, 8, 58))
    assert status() is AppointmentStatus.ARRIVED  # appointment-status has no arrived -> checked-in
    step(service, clock, "v-1", V.ROOMED, wall(2026, 11, 3, 9, 5))
    step(service, clock, "v-1", V.CHECKED_OUT, wall(2026, 11, 3, 9, 40))
    assert status() is AppointmentStatus.FULFILLED
    seen = service.visit(VisitId("v-1"), actor=COORD)
    assert [(s.to_status, s.by) for s in seen.history] == [
        (V.ARRIVED, MA),
        (V.CHECKED_IN, MA),
        (V.ROOMED, MA),
        (V.CHECKED_OUT, MA),
    ]
    assert seen.opened_by == MA and seen.entered(V.ROOMED) == wall(2026, 11, 3, 9, 5)


def test_moves_are_checked(any_store: Store) -> None:
    service, clock = opened(any_store)
    clock.set(wall(2026, 11, 3, 8, 0))
    service.open_visit(visit("v-1", wall(2026, 11, 3, 9, 0), opened_at=clock.now()), actor=MA)
    with pytest.raises(InvalidTransitionError):
        service.move_visit(VisitId("v-1"), V.ROOMED, actor=MA)
    with pytest.raises(ReasonRequiredError):
        service.move_visit(VisitId("v-1"), V.CANCELLED, actor=MA)
    with pytest.raises(ValidationError):  # in the future
        service.move_visit(VisitId("v-1"), V.ARRIVED, at=clock.now() + timedelta(hours=1), actor=MA)
    with pytest.raises(ValidationError):  # before the visit was opened
        service.move_visit(VisitId("v-1"), V.ARRIVED, at=clock.now() - timedelta(hours=1), actor=MA)
    with pytest.raises(ValidationError):
        service.move_visit(VisitId("v-1"), "lunch", actor=MA)
    with pytest.raises(AccessDeniedError):  # not on the patient's care team
        service.move_visit(VisitId("v-1"), V.ARRIVED, actor=OUTSIDER)
    with pytest.raises(AccessDeniedError):  # unknown visit: the same refusal
        service.move_visit(VisitId("nope"), V.ARRIVED, actor=MA)
    with pytest.raises(ValidationError):  # not one of the clinic's locations
        service.open_visit(visit("v-2", clock.now(), location_id=LocationId("x")), actor=MA)
    with pytest.raises(ValidationError):  # put on the board in the future
        service.open_visit(
            visit("v-3", clock.now(), opened_at=clock.now() + timedelta(minutes=1)), actor=MA
        )
    with pytest.raises(ValidationError):  # a naive time
        service.move_visit(VisitId("v-1"), V.ARRIVED, at=datetime(2026, 11, 3, 8), actor=MA)
    done = service.move_visit(VisitId("v-1"), V.CANCELLED, reason="patient called", actor=MA)
    assert done.is_final and not done.in_clinic


def test_the_board_hides_patients_the_viewer_may_not_read(any_store: Store) -> None:
    service, clock = opened(any_store)
    fall_back_day(service, clock)
    board = service.day_board(CLINIC, day=date(2026, 11, 1), actor=OUTSIDER)
    assert [e.patient_id for e in board.entries] == [None, None, None] and board.hidden == 3
    assert [e.visit_id for e in board.entries] == ["B", "C", "D"]
    with pytest.raises(AccessDeniedError):
        service.day_board(CLINIC, actor=STRANGER)  # not clinic staff
    with pytest.raises(NotFoundError):
        service.day_board(ClinicId("nowhere"), actor=MA)


def test_clinics_are_kept_by_their_lead_and_revisions_guard_them(any_store: Store) -> None:
    service, _ = opened(any_store)
    stored = service.clinic(CLINIC, actor=STRANGER)
    assert stored.revision == 1 and stored.lead_id == LEAD_MA
    changed = service.save_clinic(
        clinic(wait_limits=(WaitLimit(V.ROOMED, 5),), revision=1), actor=LEAD_MA
    )
    assert changed.revision == 2 and service.clinic(CLINIC, actor=MA).limit(V.ROOMED) == 5
    with pytest.raises(ConflictError):  # a stale copy
        service.save_clinic(clinic(revision=1), actor=LEAD_MA)
    with pytest.raises(AccessDeniedError):  # not the lead, no manage-staff
        service.save_clinic(clinic(revision=2), actor=MA)
    with pytest.raises(NotFoundError):  # the lead must be registered
        service.save_clinic(clinic(lead_id=StaffId("ghost"), revision=2), actor=COORD)


def test_visit_rules_on_their_own() -> None:
    opened_at = wall(2026, 11, 1, 1, 30)
    walk_in = visit("w", opened_at, opened_at=opened_at, state=V.ARRIVED)
    roomed = walk_in.moved(V.CHECKED_IN, by=MA, at=opened_at + timedelta(minutes=5)).moved(
        V.ROOMED, by=MA, at=wall(2026, 11, 1, 1, 10, fold=1), room=RoomId("exam-1")
    )
    assert roomed.entered(V.ARRIVED) == opened_at and roomed.room == "exam-1"
    snap = snapshot_of(roomed)
    assert snap.facts.arrived_at == opened_at and snap.since == wall(2026, 11, 1, 1, 10, fold=1)
    with pytest.raises(ValidationError):  # a visit opens booked or arrived
        visit("x", opened_at, state=V.ROOMED)
    with pytest.raises(ValidationError):  # state and history disagree
        attrs.evolve(roomed, state=V.ARRIVED)
    with pytest.raises(ValidationError):  # moves out of time order
        attrs.evolve(roomed, history=(roomed.history[1], roomed.history[0]))
    with pytest.raises(ValidationError):  # a move before the last one
        roomed.moved(V.WITH_PROVIDER, by=MA, at=opened_at)
    with pytest.raises(ValidationError):
        clinic(locations=())
    with pytest.raises(ValidationError):
        WaitLimit(V.CHECKED_OUT, 10)
    with pytest.raises(ValidationError):
        clinic(wait_limits=(WaitLimit(V.ROOMED, 5), WaitLimit(V.ROOMED, 6)))
    assert clinic().works_here(NURSE) and not clinic().works_here(COORD)
    assert START.tzinfo is CHICAGO


def test_local_days_are_23_or_25_hours_on_change_days() -> None:
    for day, hours in ((date(2026, 3, 8), 23), (date(2026, 11, 1), 25), (date(2026, 11, 2), 24)):
        start, end = day_bounds(day, CHICAGO)
        assert (start.hour, end.hour) == (0, 0)
        assert end.astimezone(UTC_) - start.astimezone(UTC_) == timedelta(hours=hours)
    with pytest.raises(ValidationError):
        day_bounds(datetime(2026, 3, 8), CHICAGO)  # a datetime is not a day
