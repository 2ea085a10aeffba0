"""RetryPolicy on its own, and the runner's retry of a commit that lost a race.

The runner half wraps a MemoryStore in :class:`FlakyStore`, which can make the
next writes fail with a :class:`ConflictError` (as a store does when another
writer changed a record first) or run a real competing write just before one.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import timedelta

import attrs
import pytest

from carecoord import (
    AuditEntry,
    CareCoordinator,
    CarePlan,
    ConflictError,
    HumanName,
    Intervention,
    InterventionId,
    InterventionKind,
    PatientId,
    RetryPolicy,
    StaffId,
    ValidationError,
)
from carecoord import events as ev
from carecoord.model import AuditOutcome
from carecoord.storage import (
    MemoryStore,
    RecordWrite,
    Store,
    UnitOfWork,
)
from carecoord.testing import FixedClock, ForwardingStore, RecordingEventSink
from world import COORD, MA, NURSE, PATIENT, PLAN, T0, make_patient, populate

# ---------------------------------------------------------------- RetryPolicy


class Boom(Exception):
    """A retryable error in the RetryPolicy tests."""


class Fatal(Exception):
    """An error the RetryPolicy tests never retry."""


def recording_policy(
    attempts: int, waits: list[float], *, base: float = 0.002, cap: float = 0.2
) -> RetryPolicy:
    """A policy whose sleeps are recorded in ``waits`` (never slept), with a seeded rng."""
    return RetryPolicy(
        attempts=attempts, base=base, cap=cap, sleep=waits.append, rng=random.Random(7)
    )


def test_defaults() -> None:
    policy = RetryPolicy()
    assert (policy.attempts, policy.base, policy.cap) == (12, 0.004, 0.5)
    assert CareCoordinator().retry == policy


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"attempts": 0}, "attempts"),
        ({"attempts": -3}, "attempts"),
        ({"attempts": 2.0}, "attempts"),
        ({"attempts": True}, "attempts"),
        ({"attempts": "3"}, "attempts"),
        ({"base": -0.001}, "base"),
        ({"base": float("nan")}, "base"),
        ({"base": False}, "base"),
        ({"base": "0.1"}, "base"),
        ({"cap": -1}, "cap"),
        ({"cap": float("nan")}, "cap"),
        ({"cap": None}, "cap"),
    ],
)
def test_invalid_settings_name_the_field(options: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        RetryPolicy(**options)  # type: ignore[arg-type]
    assert info.value.field == field
    assert field in str(info.value)


def test_edge_settings_are_valid() -> None:
    policy = RetryPolicy(attempts=1, base=0, cap=0)
    assert [policy.delay(n) for n in range(5)] == [0.0] * 5
    assert RetryPolicy(base=1, cap=2.5).cap == 2.5


def test_coordinator_rejects_a_retry_that_is_not_a_policy() -> None:
    with pytest.raises(ValidationError) as info:
        CareCoordinator(retry=3)  # type: ignore[arg-type]
    assert info.value.field == "retry"


def test_delays_are_full_jitter_capped_exponential() -> None:
    policy = RetryPolicy(base=0.01, cap=0.1, rng=random.Random(1234))
    for retry in range(12):
        ceiling = min(0.1, 0.01 * 2**retry)
        delays = [policy.delay(retry) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in delays), retry
        # full jitter: the waits spread over the whole range, not only near the top
        assert min(delays) < ceiling * 0.1
        assert max(delays) > ceiling * 0.9
    # a negative retry number is treated as the first retry
    assert all(0.0 <= policy.delay(-5) <= 0.01 for _ in range(50))


def test_delays_are_reproducible_with_a_seeded_rng() -> None:
    first = RetryPolicy(rng=random.Random(99))
    second = RetryPolicy(rng=random.Random(99))
    assert [first.delay(n) for n in range(10)] == [second.delay(n) for n in range(10)]
    # the rng and sleep take no part in equality
    assert first == second == RetryPolicy()


def failing(
    errors: Sequence[BaseException], result: str = "done"
) -> tuple[Callable[[], str], list[int]]:
    """Work that raises ``errors`` one per call, then returns ``result``; and its call log."""
    calls: list[int] = []

    def work() -> str:
        calls.append(len(calls))
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return result

    return work, calls


def test_call_returns_at_once_when_the_work_succeeds() -> None:
    waits: list[float] = []
    work, calls = failing([])
    assert recording_policy(3, waits).call(work, retry_if=lambda e: True) == "done"
    assert calls == [0] and waits == []


def test_call_retries_what_retry_if_accepts_and_records_the_waits() -> None:
    waits: list[float] = []
    seen: list[BaseException] = []
    errors = [Boom("one"), Boom("two"), Boom("three")]
    work, calls = failing(errors)

    def retry_if(exc: BaseException) -> bool:
        seen.append(exc)
        return isinstance(exc, Boom)

    policy = recording_policy(4, waits, base=0.01, cap=0.025)
    assert policy.call(work, retry_if=retry_if) == "done"
    assert len(calls) == 4
    assert seen == errors  # retry_if saw each error itself
    assert len(waits) == 3
    for retry, wait in enumerate(waits):
        assert 0.0 <= wait <= min(0.025, 0.01 * 2**retry)
    # the same seed gives the same waits: they come from policy.rng
    again: list[float] = []
    work, _ = failing([Boom("one"), Boom("two"), Boom("three")])
    recording_policy(4, again, base=0.01, cap=0.025).call(work, retry_if=retry_if)
    assert again == waits


def test_call_does_not_retry_what_retry_if_rejects() -> None:
    waits: list[float] = []
    error = Fatal("no")
    work, calls = failing([Boom("first"), error])
    with pytest.raises(Fatal) as info:
        recording_policy(5, waits).call(work, retry_if=lambda e: isinstance(e, Boom))
    assert info.value is error
    assert len(calls) == 2 and len(waits) == 1


def test_call_gives_up_after_attempts_with_the_last_error() -> None:
    waits: list[float] = []
    errors = [Boom(f"try {n}") for n in range(10)]
    work, calls = failing(errors)
    with pytest.raises(Boom) as info:
        recording_policy(4, waits).call(work, retry_if=lambda e: True)
    assert info.value is errors[3]
    assert len(calls) == 4 and len(waits) == 3


def test_one_attempt_never_retries() -> None:
    waits: list[float] = []
    work, calls = failing([Boom("once")])
    with pytest.raises(Boom):
        recording_policy(1, waits).call(work, retry_if=lambda e: True)
    assert len(calls) == 1 and waits == []


def test_call_never_catches_base_exceptions() -> None:
    waits: list[float] = []
    asked: list[BaseException] = []
    work, calls = failing([KeyboardInterrupt()])

    def retry_if(exc: BaseException) -> bool:
        asked.append(exc)
        return True

    with pytest.raises(KeyboardInterrupt):
        recording_policy(5, waits).call(work, retry_if=retry_if)
    assert len(calls) == 1 and asked == [] and waits == []


# ------------------------------------------------------------- the runner


class FlakyStore(ForwardingStore):
    """A Store that delegates to a MemoryStore and can be told to lose races.

    ``lose(n)`` makes the next ``n`` writes of a batch that updates an existing
    record (some write with ``expected_version > 0``) raise ``ConflictError``
    for that record, writing nothing. ``compete(f)`` runs ``f(inner)`` once,
    just before the next such write: a real concurrent change.
    """

    def __init__(self) -> None:
        super().__init__(MemoryStore())
        self.writes: list[tuple[RecordWrite, ...]] = []
        self.injected: list[ConflictError] = []
        self.raised: list[ConflictError] = []
        self._lose = 0
        self._compete: Callable[[Store], None] | None = None

    def lose(self, count: int) -> None:
        self._lose = count

    def compete(self, change: Callable[[Store], None]) -> None:
        self._compete = change

    def write(self, batch: Sequence[RecordWrite]) -> None:
        self.writes.append(tuple(batch))
        update = next((w for w in batch if w.expected_version > 0), None)
        if update is not None and self._compete is not None:
            change, self._compete = self._compete, None
            change(self.inner)
        if update is not None and self._lose > 0:
            self._lose -= 1
            conflict = ConflictError(update.kind, update.id, update.expected_version)
            self.injected.append(conflict)
            raise conflict
        try:
            self.inner.write(batch)
        except ConflictError as exc:
            self.raised.append(exc)
            raise

    def kinds_written(self) -> list[list[str]]:
        return [sorted(w.kind for w in batch) for batch in self.writes]


@attrs.define
class Rig:
    service: CareCoordinator
    store: FlakyStore
    sink: RecordingEventSink
    waits: list[float]


def rig(attempts: int) -> Rig:
    store = FlakyStore()
    waits: list[float] = []
    sink = RecordingEventSink()
    clock = FixedClock(T0)
    service = CareCoordinator(
        store=store,
        clock=clock,
        retry=RetryPolicy(attempts=attempts, sleep=waits.append),
        event_handlers=[sink],
    )
    assert isinstance(service.store, Store)
    populate(service, clock)
    store.writes.clear()
    sink.clear()
    return Rig(service, store, sink, waits)


def audit_entries(store: Store) -> list[AuditEntry]:
    with UnitOfWork(store) as uow:
        return sorted(uow.all(AuditEntry), key=lambda e: e.id)


def task(number: str, assignee: StaffId | None = NURSE) -> Intervention:
    return Intervention(
        id=InterventionId(number),
        kind=InterventionKind.EDUCATION,
        description="Teach self-monitoring",
        created_at=T0,
        assignee_id=assignee,
        due=T0 + timedelta(days=1),
    )


def plan_of(store: Store) -> tuple[CarePlan, int]:
    stored = store.read("CarePlan", str(PLAN))
    assert stored is not None
    with UnitOfWork(store) as uow:
        return uow.get(CarePlan, PLAN), stored.version


@pytest.mark.parametrize("losses", [1, 2, 4])
def test_a_lost_race_is_retried_until_the_commit_wins(losses: int) -> None:
    r = rig(attempts=5)
    before = audit_entries(r.store)
    _, version = plan_of(r.store)
    r.store.lose(losses)
    result = r.service.add_intervention(PLAN, task("i-1"), actor=COORD)
    assert [str(i.id) for i in result.interventions] == ["i-1"]
    # every try wrote the whole unit (plan, notification, audit entry); one won
    assert len(r.store.writes) == losses + 1
    assert len(r.store.injected) == losses
    assert all(c.kind == "CarePlan" and c.expected == version for c in r.store.injected)
    assert len(r.waits) == losses
    for retry, wait in enumerate(r.waits):
        assert 0.0 <= wait <= min(r.service.retry.cap, r.service.retry.base * 2**retry)
    # exactly one audit entry, a success
    added = audit_entries(r.store)[len(before) :]
    assert [(e.operation, e.outcome, e.actor) for e in added] == [
        ("add_intervention", AuditOutcome.SUCCESS, "coord")
    ]
    # exactly one set of events, handed on once after the commit
    assert [type(e) for e in r.sink.events] == [ev.InterventionAdded, ev.InterventionAssigned]
    # the plan changed once, the notification was planned once
    plan, new_version = plan_of(r.store)
    assert new_version == version + 1
    assert [str(i.id) for i in plan.interventions] == ["i-1"]
    assert len(r.store.read_all("Notification")) == 1


def test_a_real_concurrent_change_is_merged_by_the_retry() -> None:
    """Another writer adds an intervention between our read and our commit: both survive."""
    r = rig(attempts=3)

    def other_writer(inner: Store) -> None:
        with UnitOfWork(inner) as uow:
            plan = uow.get(CarePlan, PLAN)
            uow.save(plan.with_intervention(task("i-other", assignee=None)))

    _, version = plan_of(r.store)
    r.store.compete(other_writer)
    result = r.service.add_intervention(PLAN, task("i-mine"), actor=COORD)
    assert len(r.store.raised) == 1 and r.store.raised[0].expected == version
    assert len(r.store.writes) == 2 and len(r.waits) == 1
    assert sorted(str(i.id) for i in result.interventions) == ["i-mine", "i-other"]
    plan, new_version = plan_of(r.store)
    assert sorted(str(i.id) for i in plan.interventions) == ["i-mine", "i-other"]
    assert new_version == version + 2
    assert [type(e) for e in r.sink.events] == [ev.InterventionAdded, ev.InterventionAssigned]


def test_update_patient_is_retried_on_fresh_data() -> None:
    r = rig(attempts=3)
    copy = r.service.patient(PATIENT, actor=COORD)
    before = audit_entries(r.store)
    r.store.writes.clear()
    r.store.lose(2)
    edited = attrs.evolve(copy, name=HumanName(family="Renamed"))
    updated = r.service.update_patient(edited, actor=COORD)
    assert updated.revision == copy.revision + 1
    assert len(r.store.writes) == 3 and len(r.store.injected) == 2
    assert all(c.kind == "Patient" for c in r.store.injected)
    assert r.service.patient(PATIENT, actor=COORD).name.family == "Renamed"
    added = audit_entries(r.store)[len(before) :]
    assert [(e.operation, e.outcome) for e in added] == [
        ("update_patient", AuditOutcome.SUCCESS),
        ("patient", AuditOutcome.SUCCESS),
    ]
    assert [type(e) for e in r.sink.events] == [ev.PatientUpdated]


@pytest.mark.parametrize(("attempts", "losses"), [(1, 1), (3, 3), (3, 50)])
def test_a_race_lost_on_every_attempt_raises_and_is_audited_once(
    attempts: int, losses: int
) -> None:
    r = rig(attempts=attempts)
    before = audit_entries(r.store)
    plan_before = r.store.read("CarePlan", str(PLAN))
    notifications = len(r.store.read_all("Notification"))
    r.store.lose(losses)
    with pytest.raises(ConflictError) as info:
        r.service.add_intervention(PLAN, task("i-1"), actor=COORD)
    # the error is the last conflict the store raised, unwrapped
    assert info.value is r.store.injected[-1]
    assert info.value.kind == "CarePlan" and info.value.expected > 0
    assert len(r.store.injected) == attempts
    assert len(r.waits) == attempts - 1
    # attempts tries, then the failure's own audit unit (one new AuditEntry)
    assert len(r.store.writes) == attempts + 1
    assert r.store.kinds_written()[-1] == ["AuditEntry"]
    added = audit_entries(r.store)[len(before) :]
    assert [(e.operation, e.outcome, e.detail) for e in added] == [
        ("add_intervention", AuditOutcome.MINOR_FAILURE, "ConflictError")
    ]
    assert added[0].patient_id == str(PATIENT)
    # nothing changed, nothing was announced
    assert r.store.read("CarePlan", str(PLAN)) == plan_before
    assert len(r.store.read_all("Notification")) == notifications
    assert r.sink.events == []


def test_a_create_conflict_is_not_retried() -> None:
    r = rig(attempts=5)
    before = audit_entries(r.store)
    patient_before = r.store.read("Patient", str(PATIENT))
    with pytest.raises(ConflictError) as info:
        r.service.enrol_patient(make_patient(), actor=COORD)
    assert info.value.kind == "Patient" and info.value.expected == 0
    # one try (refused by the store), then the failure's audit unit; no wait
    assert len(r.store.raised) == 1
    assert len(r.store.writes) == 2
    assert "Patient" in r.store.kinds_written()[0]
    assert r.store.kinds_written()[1] == ["AuditEntry"]
    assert r.waits == []
    added = audit_entries(r.store)[len(before) :]
    assert [(e.operation, e.outcome, e.detail) for e in added] == [
        ("enrol_patient", AuditOutcome.MINOR_FAILURE, "ConflictError")
    ]
    assert r.store.read("Patient", str(PATIENT)) == patient_before
    assert r.sink.events == []


def test_an_injected_create_conflict_is_not_retried() -> None:
    """A ConflictError with expected 0 from the commit (a record id taken meanwhile)."""
    r = rig(attempts=5)
    other = attrs.evolve(make_patient(), id=PatientId("p-2"))
    real_write = r.store.inner.write

    def taken_meanwhile(batch: Sequence[RecordWrite]) -> None:
        creates = [w for w in batch if w.kind == "Patient" and w.expected_version == 0]
        if creates:
            raise ConflictError("Patient", creates[0].id, 0)
        real_write(batch)

    r.store.inner.write = taken_meanwhile  # type: ignore[method-assign]
    with pytest.raises(ConflictError) as info:
        r.service.enrol_patient(other, actor=COORD)
    assert info.value.expected == 0
    assert len(r.store.writes) == 2 and r.waits == []


def test_a_stale_copy_is_refused_by_the_handler_without_retry() -> None:
    r = rig(attempts=5)
    copy = r.service.patient(PATIENT, actor=COORD)
    r.service.update_patient(attrs.evolve(copy, language="es"), actor=COORD)
    r.store.writes.clear()
    with pytest.raises(ConflictError) as info:
        r.service.update_patient(attrs.evolve(copy, language="fr"), actor=COORD)
    assert (info.value.kind, info.value.record_id) == ("Patient", str(PATIENT))
    assert info.value.expected == copy.revision
    # the handler refused before any write: only the failure's audit unit
    assert r.store.kinds_written() == [["AuditEntry"]]
    assert r.waits == []
    assert r.service.patient(PATIENT, actor=COORD).language == "es"


def test_registering_a_taken_staff_id_is_a_conflict_without_retry() -> None:
    from world import STAFF

    r = rig(attempts=5)
    fresh = next(m for m in STAFF if m.id == MA)
    assert fresh.revision == 0
    with pytest.raises(ConflictError) as info:
        r.service.register_staff(fresh, actor=COORD)
    assert (info.value.kind, info.value.expected) == ("StaffMember", 0)
    assert r.store.kinds_written() == [["AuditEntry"]]
    assert r.waits == []


def test_flaky_store_is_a_store() -> None:
    assert isinstance(FlakyStore(), Store)


def test_capped_doubling_is_the_one_backoff_and_never_overflows() -> None:
    from datetime import timedelta

    from carecoord.outbox import Dispatcher
    from carecoord.retry import capped_doubling
    from carecoord.storage import MemoryStore
    from carecoord.testing import RecordingNotifier

    assert capped_doubling(1.0, 10.0, 0) == 1.0
    assert capped_doubling(1.0, 10.0, 3) == 8.0
    assert capped_doubling(1.0, 10.0, 4) == 10.0
    assert capped_doubling(0.0, 10.0, 10**9) == 0.0
    minute, hours = timedelta(minutes=1), timedelta(hours=2)
    assert capped_doubling(minute, hours, 10**6) == hours  # 2**1e6 minutes would overflow
    dispatcher = Dispatcher(MemoryStore(), RecordingNotifier())
    assert dispatcher.backoff(1) == dispatcher.base_delay
    assert dispatcher.backoff(10**6) == dispatcher.max_delay
