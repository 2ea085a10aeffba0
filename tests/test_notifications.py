"""Notifications: the transactional outbox, delivery under failure, quiet hours, rules, tick."""

from __future__ import annotations

import time as time_module
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest

from carecoord import (
    Appointment,
    AppointmentId,
    Consent,
    ConsentId,
    ContactPreferences,
    GoalId,
    Intervention,
    InterventionId,
    InterventionKind,
    InvalidTransitionError,
    QuietHours,
    Referral,
    ReferralId,
    ReferralTargetKind,
    StaffId,
    TaskPriority,
    ValidationError,
)
from carecoord.events import InterventionEscalated, InterventionOverdue, ReferralStalled, ReviewDue
from carecoord.model import Goal, ProgressReading, Quantity, Target
from carecoord.model.codes import Comparator
from carecoord.notify import (
    DEFAULT_RULES,
    Audience,
    DeliveryResult,
    DeliveryStatus,
    Notification,
    NotificationRule,
    OutgoingMessage,
    RecipientKind,
)
from carecoord.outbox import Dispatcher
from carecoord.service import CareCoordinator
from carecoord.storage import Store, UnitOfWork
from carecoord.testing import FixedClock, FlakyNotifier, RecordingEventSink, RecordingNotifier
from world import (
    COORD,
    DAUGHTER,
    LEAD_MA,
    MA,
    NURSE,
    PATIENT,
    PLAN,
    STAFF,
    T0,
    make_patient,
    populate,
    staff_member,
)


def make_service(store: Store, clock: FixedClock, **kwargs: object) -> CareCoordinator:
    service = CareCoordinator(store=store, clock=clock, **kwargs)  # type: ignore[arg-type]
    populate(service, clock)
    return service


def task(
    n: int, assignee: StaffId, *, due: datetime | None = None, **extra: object
) -> Intervention:
    return Intervention(
        id=InterventionId(f"i-{n}"),
        kind=InterventionKind.COMMUNICATION,
        description=f"SECRET-CLINICAL-DETAIL {n}",
        created_at=T0,
        assignee_id=assignee,
        due=due if due is not None else T0 + timedelta(days=1),
        **extra,  # type: ignore[arg-type]
    )


def outbox(store: Store) -> list[Notification]:
    with UnitOfWork(store) as uow:
        return uow.all(Notification)


def care_data(store: Store) -> dict[str, tuple[int, str]]:
    """Every non-outbox record's version and payload: what must never roll back."""
    found = {}
    for kind in ("Patient", "CareTeam", "CarePlan", "StaffMember", "Referral", "Appointment"):
        for record in store.read_all(kind):
            found[f"{kind}/{record.id}"] = (record.version, record.payload)
    return found


# ------------------------------------------------------------------ outbox
def test_notification_is_written_with_the_change(any_store: Store) -> None:
    clock = FixedClock(T0)
    service = make_service(any_store, clock)
    before = len(outbox(any_store))
    service.add_intervention(PLAN, task(1, NURSE), actor=COORD)
    notes = outbox(any_store)
    assert len(notes) == before + 1
    note = next(n for n in notes if n.recipient_id == NURSE)
    assert note.event == "InterventionAssigned"
    assert note.status is DeliveryStatus.PENDING
    assert note.channel.value == "email"
    assert "i-1" in note.body and "SECRET-CLINICAL-DETAIL" not in note.body + note.subject


def test_failed_command_writes_no_notification(any_store: Store) -> None:
    clock = FixedClock(T0)
    service = make_service(any_store, clock)
    service.add_intervention(PLAN, task(1, NURSE), actor=COORD)
    before = [n.id for n in outbox(any_store)]
    with pytest.raises(InvalidTransitionError):
        service.set_intervention_status(PLAN, InterventionId("i-1"), "completed", actor=COORD)
    assert [n.id for n in outbox(any_store)] == before


def test_nobody_is_notified_of_their_own_action(any_store: Store) -> None:
    clock = FixedClock(T0)
    service = make_service(any_store, clock)
    before = len(outbox(any_store))
    service.add_intervention(PLAN, task(1, COORD), actor=COORD)
    assert len(outbox(any_store)) == before


# --------------------------------------------------------- failure rates
@pytest.mark.parametrize("rate", [0.0, 0.1, 0.5, 0.9, 1.0])
@pytest.mark.parametrize("mode", ["result", "raise", "lost-ack"])
def test_every_notification_is_delivered_after_recovery(
    any_store: Store, rate: float, mode: str
) -> None:
    clock = FixedClock(T0)
    service = make_service(any_store, clock)
    for n in range(30):
        service.add_intervention(PLAN, task(n, NURSE if n % 2 else MA), actor=COORD)
    expected = {n.id for n in outbox(any_store)}
    assert len(expected) == 30
    data_before = care_data(any_store)

    notifier = FlakyNotifier(rate, seed=int(rate * 100), mode=mode)
    dispatcher = Dispatcher(any_store, notifier, clock, max_attempts=5)
    for _ in range(40):
        clock.advance(timedelta(hours=3))
        dispatcher.dispatch()
    # recovery: the channel works again; anything that ran out of attempts is requeued
    notifier.failure_rate = 0.0
    dispatcher.requeue_failed()
    for _ in range(3):
        clock.advance(timedelta(hours=3))
        dispatcher.dispatch()

    counts = dispatcher.counts()
    assert counts[DeliveryStatus.PENDING] == 0
    assert counts[DeliveryStatus.FAILED] == 0
    assert counts[DeliveryStatus.DELIVERED] == 30
    keys = [m.idempotency_key for m in notifier.delivered]
    assert set(keys) == expected  # none lost
    if mode == "lost-ack":
        # duplicates only as redeliveries of the same key
        assert len(keys) >= len(expected)
    else:
        assert len(keys) == len(expected)  # no duplicates when failures are honest
    assert care_data(any_store) == data_before  # no care-data write rolled back or touched
    if rate == 1.0:
        assert notifier.calls >= 30 * 5


def test_backoff_is_exponential_and_capped() -> None:
    from carecoord.storage import MemoryStore

    dispatcher = Dispatcher(
        MemoryStore(),
        RecordingNotifier(),
        FixedClock(T0),
        base_delay=timedelta(minutes=1),
        max_delay=timedelta(minutes=10),
    )
    assert [dispatcher.backoff(n) for n in range(1, 6)] == [
        timedelta(minutes=m) for m in (1, 2, 4, 8, 10)
    ]


def test_failed_attempts_are_recorded_and_retry_waits(any_store: Store) -> None:
    clock = FixedClock(T0)
    service = make_service(any_store, clock)
    service.add_intervention(PLAN, task(1, NURSE), actor=COORD)
    notifier = FlakyNotifier(1.0, mode="raise")
    dispatcher = Dispatcher(any_store, notifier, clock, base_delay=timedelta(minutes=5))
    report = dispatcher.dispatch()
    assert (report.retried, report.delivered) == (1, 0)
    (note,) = [n for n in outbox(any_store) if n.recipient_id == NURSE]
    assert note.attempts == 1 and note.last_error == "ConnectionError"
    assert note.next_attempt_at == T0 + timedelta(minutes=5)
    assert dispatcher.dispatch().attempted == 0  # not due yet
    clock.advance(timedelta(minutes=5))
    assert dispatcher.dispatch().retried == 1


class SlowNotifier:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.seen: list[str] = []

    def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        time_module.sleep(self.delay)
        self.seen.append(message.idempotency_key)
        return DeliveryResult.success()


def test_a_notifier_that_times_out_is_retried(any_store: Store) -> None:
    clock = FixedClock(T0)
    service = make_service(any_store, clock)
    service.add_intervention(PLAN, task(1, NURSE), actor=COORD)
    slow = SlowNotifier(0.5)
    dispatcher = Dispatcher(any_store, slow, clock, timeout=0.05)
    try:
        assert dispatcher.dispatch().retried == 1
        (note,) = [n for n in outbox(any_store) if n.recipient_id == NURSE]
        assert note.last_error == "timeout" and note.status is DeliveryStatus.PENDING
        slow.delay = 0.0
        clock.advance(timedelta(hours=1))
        time_module.sleep(0.6)  # let the abandoned call finish
        assert dispatcher.dispatch().delivered == 1
    finally:
        dispatcher.close()


def test_missing_address_fails_without_retry(any_store: Store) -> None:
    clock = FixedClock(T0)
    service = make_service(any_store, clock)
    unreachable = attrs.evolve(
        service.patient(make_patient().id, actor=COORD),
        telecom=(),
        preferences=ContactPreferences(),
    )
    service.update_patient(unreachable, actor=COORD)
    service.schedule_appointment(
        Appointment(
            id=AppointmentId("a-1"),
            patient_id=PATIENT,
            start=T0 + timedelta(days=3),
            end=T0 + timedelta(days=3, hours=1),
            provider="Clinic",
            location="Somewhere",
        ),
        actor=COORD,
        status="booked",
    )
    dispatcher = Dispatcher(any_store, RecordingNotifier(), clock)
    report = dispatcher.dispatch()
    assert report.failed == 1
    failed = dispatcher.notifications(DeliveryStatus.FAILED)
    assert [(n.recipient_kind, n.last_error, n.attempts) for n in failed] == [
        (RecipientKind.PATIENT, "no-address", 1)
    ]


# ------------------------------------------------------------ quiet hours
@pytest.mark.parametrize(
    ("zone", "deferred_until"),
    [
        # T0 is 18:00 UTC: 03:00 next day in Tokyo (quiet), 10:00 in Los Angeles (awake),
        # 19:00 in Berlin (awake), 23:30 in Kolkata (quiet).
        ("Asia/Tokyo", datetime(2026, 11, 24, 8, tzinfo=ZoneInfo("Asia/Tokyo"))),
        ("America/Los_Angeles", None),
        ("Europe/Berlin", None),
        ("Asia/Kolkata", datetime(2026, 11, 24, 8, tzinfo=ZoneInfo("Asia/Kolkata"))),
    ],
)
def test_quiet_hours_defer_in_the_recipients_zone(
    any_store: Store, zone: str, deferred_until: datetime | None
) -> None:
    clock = FixedClock(T0)
    service = make_service(any_store, clock)
    remote = staff_member(
        StaffId("remote"),
        STAFF[4].roles[0],
        zone=zone,
        quiet=QuietHours(time(21), time(8)),
    )
    service.register_staff(remote, actor=COORD)
    service.add_intervention(PLAN, task(1, remote.id), actor=COORD)
    (note,) = [n for n in outbox(any_store) if n.recipient_id == "remote"]
    notifier = RecordingNotifier()
    dispatcher = Dispatcher(any_store, notifier, clock)
    if deferred_until is None:
        assert not note.deferred_for_quiet_hours and note.next_attempt_at == T0
        assert dispatcher.dispatch().delivered == 1
        return
    assert note.deferred_for_quiet_hours
    assert note.next_attempt_at == deferred_until  # deferred, not dropped
    clock.set(deferred_until - timedelta(minutes=1))
    assert dispatcher.dispatch().delivered == 0
    clock.set(deferred_until)
    assert dispatcher.dispatch().delivered == 1
    assert notifier.messages[0].recipient_id == "remote"


# ------------------------------------------------------------------ rules
def test_rules_table_audiences(any_store: Store) -> None:
    clock = FixedClock(T0)
    service = make_service(any_store, clock)
    # appointment: the patient and consenting contacts only
    service.record_consent(
        Consent(
            id=ConsentId("consent-1"),
            patient_id=PATIENT,
            recorded_at=T0,
            recorded_by=COORD,
            contact_ids=(DAUGHTER,),
            categories=("appointments",),
        ),
        actor=COORD,
    )
    service.schedule_appointment(
        Appointment(
            id=AppointmentId("a-1"),
            patient_id=PATIENT,
            start=T0 + timedelta(days=3),
            end=T0 + timedelta(days=3, hours=1),
            provider="Cardiology clinic",
            location="Main street 1",
        ),
        actor=COORD,
        status="booked",
    )
    by_event: dict[str, set[tuple[RecipientKind, str]]] = {}
    for note in outbox(any_store):
        by_event.setdefault(note.event, set()).add((note.recipient_kind, note.recipient_id))
    assert by_event["AppointmentBooked"] == {
        (RecipientKind.PATIENT, PATIENT),
        (RecipientKind.CONTACT, DAUGHTER),  # the neighbour may not receive information
    }
    # goal achieved: the team lead (coord) - but not when the lead did it themselves
    service.add_goal(
        PLAN,
        Goal(
            id=GoalId("g-1"),
            description="Walk daily",
            targets=(Target(measure="steps", quantity=Quantity(3000, "/d", Comparator.GE)),),
        ),
        actor=COORD,
    )
    service.record_progress(
        PLAN,
        GoalId("g-1"),
        ProgressReading(measure="steps", value=3500, unit="/d", at=T0, recorded_by=NURSE),
        actor=NURSE,
    )
    leads = {n.recipient_id for n in outbox(any_store) if n.event == "GoalAchieved"}
    assert leads == {COORD}


def test_contact_consent_category_must_match(any_store: Store) -> None:
    clock = FixedClock(T0)
    service = make_service(any_store, clock)
    service.record_consent(
        Consent(
            id=ConsentId("consent-1"),
            patient_id=PATIENT,
            recorded_at=T0,
            recorded_by=COORD,
            contact_ids=(DAUGHTER,),
            categories=("care-plan",),
        ),
        actor=COORD,
    )
    service.schedule_appointment(
        Appointment(
            id=AppointmentId("a-1"),
            patient_id=PATIENT,
            start=T0 + timedelta(days=3),
            end=T0 + timedelta(days=3, hours=1),
            provider="Clinic",
            location="Somewhere",
        ),
        actor=COORD,
        status="booked",
    )
    kinds = {n.recipient_kind for n in outbox(any_store) if n.event == "AppointmentBooked"}
    assert kinds == {RecipientKind.PATIENT}


def test_patient_message_is_shown_in_local_time(any_store: Store) -> None:
    clock = FixedClock(T0)
    service = make_service(any_store, clock)
    start = datetime(2026, 11, 26, 15, 30, tzinfo=ZoneInfo("UTC"))  # 09:30 in Chicago
    service.schedule_appointment(
        Appointment(
            id=AppointmentId("a-1"),
            patient_id=PATIENT,
            start=start,
            end=start + timedelta(hours=1),
            provider="Clinic",
            location="Somewhere",
        ),
        actor=COORD,
        status="booked",
    )
    (note,) = [n for n in outbox(any_store) if n.recipient_kind is RecipientKind.PATIENT]
    assert "2026-11-26 09:30 CST" in note.body
    assert note.channel.value == "sms"


def test_custom_rules_replace_defaults_and_clinical_detail_is_opt_in(any_store: Store) -> None:
    clock = FixedClock(T0)
    rules = (
        NotificationRule(
            name="detailed",
            event="InterventionAssigned",
            audience=Audience.ASSIGNEE,
            subject="Task {intervention_id}",
            body="{description}",
            include_clinical_detail=True,
        ),
    )
    service = make_service(any_store, clock, notification_rules=rules)
    service.add_intervention(PLAN, task(1, NURSE), actor=COORD)
    (note,) = [n for n in outbox(any_store) if n.recipient_id == NURSE]
    assert note.body == "SECRET-CLINICAL-DETAIL 1"


def test_rule_templates_are_checked() -> None:
    with pytest.raises(ValidationError, match="unknown field"):
        NotificationRule(
            name="bad",
            event="InterventionAssigned",
            audience=Audience.ASSIGNEE,
            subject="{description}",  # needs the opt-in
            body="x",
        )
    with pytest.raises(ValidationError, match="unknown event"):
        NotificationRule(
            name="bad", event="NoSuchEvent", audience=Audience.ASSIGNEE, subject="x", body="x"
        )
    assert {r.name for r in DEFAULT_RULES} >= {"task-assigned", "review-due", "referral-stalled"}


# ------------------------------------------------------------------- tick
def test_tick_is_idempotent_and_escalates_once(any_store: Store) -> None:
    clock = FixedClock(T0)
    events = RecordingEventSink()
    service = make_service(any_store, clock, event_handlers=[events])
    service.add_intervention(
        PLAN, task(1, MA, due=T0 + timedelta(hours=1), priority=TaskPriority.URGENT), actor=COORD
    )
    assert service.tick().total == 0
    clock.advance(timedelta(hours=2))
    first = service.tick()
    assert first.overdue == 1 and first.escalated == 0
    assert service.tick().total == 0  # twice: nothing twice
    clock.advance(timedelta(days=3))
    second = service.tick()
    assert (second.overdue, second.escalated) == (0, 1)
    assert service.tick().total == 0
    assert len(events.of_type(InterventionOverdue)) == 1
    assert len(events.of_type(InterventionEscalated)) == 1
    escalations = {n.recipient_id for n in outbox(any_store) if n.event == "InterventionEscalated"}
    assert escalations == {LEAD_MA, COORD}  # the MA's supervisor and the team lead


def test_tick_review_due_and_stalled_referral(any_store: Store) -> None:
    clock = FixedClock(T0)
    events = RecordingEventSink()
    service = make_service(
        any_store, clock, event_handlers=[events], stalled_referral_after=timedelta(days=7)
    )
    service.create_referral(
        Referral(
            id=ReferralId("r-1"),
            patient_id=PATIENT,
            requested_by=NURSE,
            created_at=T0,
            target_kind=ReferralTargetKind.TRANSPORT,
            target_name="Ride service",
            service="Transport to dialysis",
        ),
        actor=NURSE,
    )
    service.set_referral_status(ReferralId("r-1"), "sent", actor=NURSE)
    clock.advance(timedelta(days=6))
    assert service.tick().referrals_stalled == 0
    clock.advance(timedelta(days=2))
    assert service.tick().referrals_stalled == 1
    assert service.tick().referrals_stalled == 0
    stalled = events.of_type(ReferralStalled)
    assert len(stalled) == 1
    # an answer resets the clock; a new silence is announced again
    service.set_referral_status(ReferralId("r-1"), "accepted", actor=NURSE)
    clock.advance(timedelta(days=8))
    assert service.tick().referrals_stalled == 1
    assert {n.recipient_id for n in outbox(any_store) if n.event == "ReferralStalled"} == {NURSE}
    assert len(events.of_type(ReviewDue)) == 0


def test_tick_announces_review_due_once_per_due_date(any_store: Store) -> None:
    from carecoord import Cadence, CarePlan, CarePlanId

    clock = FixedClock(T0)
    service = make_service(any_store, clock)
    service.create_care_plan(
        CarePlan(
            id=CarePlanId("plan-2"),
            patient_id=PATIENT,
            author_id=NURSE,
            created_at=T0,
            review_cadence=Cadence.weeks(2, T0),
        ),
        actor=NURSE,
    )
    service.set_plan_status(CarePlanId("plan-2"), "active", actor=NURSE)
    clock.advance(timedelta(days=14, minutes=1))
    assert service.tick().reviews_due == 1
    assert service.tick().reviews_due == 0
    owners = {n.recipient_id for n in outbox(any_store) if n.event == "ReviewDue"}
    assert owners == {NURSE}


def test_tick_audits_once(any_store: Store) -> None:
    clock = FixedClock(T0)
    service = make_service(any_store, clock)
    before = len(service.audit_trail(actor=COORD, actor_id=StaffId("system")))
    service.tick()
    entries = service.audit_trail(actor=COORD, actor_id=StaffId("system"))
    assert len(entries) == before + 1 and entries[-1].operation == "tick"
