"""Provider schedules and slots: publishing, booking, cancelling, calendars, and double
booking made impossible by the store's version check, on every store."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from _pg import ThrowawayStore, postgres_dsn
from carecoord import (
    AccessDeniedError,
    Appointment,
    AppointmentId,
    AppointmentStatus,
    Cadence,
    CareCoordinator,
    ConflictError,
    StaffId,
    ValidationError,
)
from carecoord.errors import SlotTakenError
from carecoord.model import AuditOutcome
from carecoord.model.scheduling import (
    Schedule,
    ScheduleId,
    SessionPattern,
    Slot,
    SlotId,
    SlotStatus,
)
from carecoord.model.workforce import LocationId
from carecoord.storage import MemoryStore, SQLiteStore, Store, UnitOfWork
from carecoord.testing import FixedClock, RacingStore
from world import CHICAGO, COORD, MA, NURSE, OUTSIDER, PATIENT, T0, populate

CLINIC = LocationId("clinic")
SCHEDULE = ScheduleId("nurse-clinic")
MONDAY = datetime(2026, 11, 30, 9, tzinfo=CHICAGO)  # the Monday after T0


def schedule() -> Schedule:
    weekly = SessionPattern(cadence=Cadence.weeks(1, MONDAY), ends=time(12), slot_minutes=30)
    thursday = SessionPattern(
        cadence=Cadence.weeks(1, MONDAY + timedelta(days=3, hours=5)),
        ends=time(16),
        slot_minutes=30,
    )
    return Schedule(id=SCHEDULE, provider_id=NURSE, location_id=CLINIC, sessions=(weekly, thursday))


def appointment(aid: str, slot: Slot) -> Appointment:
    return Appointment(
        id=AppointmentId(aid),
        patient_id=PATIENT,
        start=slot.start,
        end=slot.end,
        provider="Nurse clinic",
        location="Main street clinic",
    )


def opened(store: Store) -> tuple[CareCoordinator, list[Slot]]:
    clock = FixedClock(T0)
    service = CareCoordinator(store=store, clock=clock)
    populate(service, clock)
    service.save_schedule(schedule(), actor=NURSE)
    made = service.publish_slots(SCHEDULE, T0, T0 + timedelta(days=14), actor=NURSE)
    return service, made


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def each_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store
    if request.param == "memory":
        made = MemoryStore()
    elif request.param == "sqlite":
        made = SQLiteStore(tmp_path / "slots.db")
    else:
        made = ThrowawayStore(postgres_dsn())
    try:
        yield made
    finally:
        made.close()


def test_publish_book_cancel_and_calendars() -> None:
    service, made = opened(MemoryStore())
    # Two weeks from T0: Mondays 09:00-12:00 (6 slots each: Nov 30, Dec 7) and Thursdays
    # 14:00-16:00 (4 slots) from their anchor, Dec 3 (Nov 26 is before it).
    assert len(made) == 16
    assert made[0].id == SlotId("nurse-clinic.20261130T1500Z")
    assert service.publish_slots(SCHEDULE, T0, T0 + timedelta(days=21), actor=NURSE) != []
    assert service.publish_slots(SCHEDULE, T0, T0 + timedelta(days=21), actor=NURSE) == []
    week = (MONDAY - timedelta(hours=9), MONDAY + timedelta(days=6))
    free = service.free_slots(NURSE, *week, actor=MA)
    assert [e.start.astimezone(CHICAGO).strftime("%a %H:%M") for e in free[:2]] == [
        "Mon 09:00",
        "Mon 09:30",
    ]
    assert len(free) == 10
    slot = made[1]
    booked = service.book_slot(slot.id, appointment("ap-1", slot), actor=MA)
    assert (booked.status, booked.booked_by) == (AppointmentStatus.BOOKED, MA)
    assert len(service.free_slots(NURSE, *week, actor=MA)) == 9
    with pytest.raises(SlotTakenError):
        service.book_slot(slot.id, appointment("ap-2", slot), actor=COORD)
    assert [a.id for a in service.appointments_of(PATIENT, actor=COORD)] == ["ap-1"]
    with pytest.raises(ValidationError):
        service.book_slot(made[2].id, appointment("ap-3", slot), actor=MA)  # not its times
    with pytest.raises(AccessDeniedError):
        service.book_slot(made[2].id, appointment("ap-3", made[2]), actor=OUTSIDER)
    day = service.day_calendar(date(2026, 11, 30), provider_id=NURSE, actor=COORD)
    assert [(e.slot_id, e.status) for e in day[:3]] == [
        (made[0].id, SlotStatus.FREE),
        (slot.id, SlotStatus.BUSY),
        (made[2].id, SlotStatus.FREE),
    ]
    assert (day[1].appointment_id, day[1].patient_id, day[1].schedule_id) == (
        "ap-1",
        PATIENT,
        SCHEDULE,
    )
    at_clinic = service.day_calendar(date(2026, 11, 30), location_id=CLINIC, actor=OUTSIDER)
    assert [e.slot_id for e in at_clinic] == [e.slot_id for e in day]
    assert at_clinic[1].patient_id is None  # not on the patient's team: the id stays hidden
    assert at_clinic[1].provider_id == NURSE and at_clinic[1].appointment_id == "ap-1"
    assert service.day_calendar(date(2026, 12, 1), provider_id=NURSE, actor=COORD) == []
    cancelled = service.cancel_booking(slot.id, "patient unwell", actor=COORD)
    assert cancelled.status is AppointmentStatus.CANCELLED
    assert len(service.free_slots(NURSE, *week, actor=MA)) == 10
    again = service.book_slot(slot.id, appointment("ap-4", slot), actor=COORD)
    assert again.status is AppointmentStatus.BOOKED
    # cancelling the appointment itself frees its slot too
    service.set_appointment_status(again.id, "cancelled", reason="clinic closed", actor=COORD)
    assert len(service.free_slots(NURSE, *week, actor=MA)) == 10
    assert service.book_slot(slot.id, appointment("ap-5", slot), actor=MA).id == "ap-5"
    with pytest.raises(ValidationError):
        service.calendar(*week, actor=MA)  # neither a provider nor a location


def test_exactly_one_of_two_concurrent_bookers_wins(each_store: Store) -> None:
    racing = RacingStore(each_store, "Slot")
    service, made = opened(racing)
    slot = made[0]
    racing.armed = True
    outcomes: dict[str, object] = {}

    def book(actor: StaffId, aid: str) -> None:
        try:
            outcomes[aid] = service.book_slot(slot.id, appointment(aid, slot), actor=actor)
        except Exception as exc:  # kept for the assertions below
            outcomes[aid] = exc

    threads = [
        threading.Thread(target=book, args=(MA, "ap-ma")),
        threading.Thread(target=book, args=(COORD, "ap-coord")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    won = [aid for aid, result in outcomes.items() if isinstance(result, Appointment)]
    lost = [result for result in outcomes.values() if isinstance(result, SlotTakenError)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    with UnitOfWork(each_store) as uow:
        stored = uow.get(Slot, slot.id)
        assert (stored.status, stored.appointment_id) == (SlotStatus.BUSY, won[0])
        assert [a.id for a in uow.all(Appointment)] == won
    trail = service.audit_trail(actor=COORD, patient_id=PATIENT)
    bookings = [e.outcome for e in trail if e.operation == "book_slot"]
    assert sorted(bookings) == sorted([AuditOutcome.SUCCESS, AuditOutcome.MINOR_FAILURE])


def test_two_units_of_work_race_on_a_slot(each_store: Store) -> None:
    _, made = opened(each_store)
    slot = made[0]
    first, second = UnitOfWork(each_store), UnitOfWork(each_store)
    for uow, aid in ((first, "ap-1"), (second, "ap-2")):
        found = uow.get(Slot, slot.id)
        assert found.is_free
        uow.add(appointment(aid, found).transition(AppointmentStatus.BOOKED, by=MA, at=T0))
        uow.save(found.booked(AppointmentId(aid), PATIENT))
    first.commit()
    with pytest.raises(ConflictError) as info:
        second.commit()
    assert (info.value.kind, info.value.record_id, info.value.expected) == ("Slot", slot.id, 1)
    with UnitOfWork(each_store) as uow:
        assert uow.get(Slot, slot.id).appointment_id == "ap-1"
        assert uow.find(Appointment, "ap-2") is None  # nothing of the losing batch was written
