"""Notifier calls that time out: in doubt, retried with the same key, never marked failed.

A call that outlives the dispatcher's ``timeout`` may or may not have
delivered. It must not count towards ``max_attempts``, must not be started
late (a call still waiting to start when its timeout expires never runs), and
a success it reports after its timeout is recorded without sending again.
The notifiers here note when each call starts; a store wrapper notes when each
outcome is written, so "no call starts after its outcome was recorded" is
checked against real timestamps.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from carecoord import ValidationError
from carecoord.model import ContactChannel
from carecoord.notify import (
    DeliveryResult,
    DeliveryStatus,
    Notification,
    OutgoingMessage,
    RecipientKind,
)
from carecoord.outbox import Dispatcher, DispatchReport, _Call
from carecoord.storage import (
    MemoryStore,
    RecordWrite,
    SQLiteStore,
    Store,
    UnitOfWork,
)
from carecoord.testing import FixedClock, FlakyNotifier, ForwardingStore, RecordingNotifier

T0 = datetime(2026, 11, 23, 9, tzinfo=UTC)
BASE = timedelta(minutes=1)
LATER = timedelta(hours=3)  # past any backoff used here
HANG = 0.2
"""Timeout for calls that block on a gate: long enough for a busy machine to start
their threads, so each one is in doubt rather than never started."""
SUBJECT = "SECRET-SUBJECT"
BODY = "SECRET-BODY"


def make_note(n: int) -> Notification:
    """A pending portal notification (no address lookup), due at T0."""
    return Notification(
        id=f"n-{n:04d}",
        event="InterventionAssigned",
        recipient_kind=RecipientKind.STAFF,
        recipient_id="nurse-1",
        channel=ContactChannel.PORTAL,
        subject=SUBJECT,
        body=BODY,
        created_at=T0,
        next_attempt_at=T0,
    )


def seed(store: Store, count: int) -> list[str]:
    with UnitOfWork(store) as uow:
        for n in range(count):
            uow.add(make_note(n))
    return [make_note(n).id for n in range(count)]


def load_all(store: Store) -> dict[str, Notification]:
    with UnitOfWork(store) as uow:
        return {n.id: n for n in uow.all(Notification)}


def wait_until(condition: Callable[[], bool], limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.005)


@attrs.frozen
class Start:
    key: str
    attempt: int
    at: float


class TimedNotifier:
    """Thread-safe; notes every start; ``behave(key, call_number)`` decides each call.

    ``behave`` returns (seconds to sleep, result). ``gate``, when given, is
    waited on by calls whose sleep is negative (they block until it opens).
    """

    def __init__(
        self,
        behave: Callable[[str, int], tuple[float, DeliveryResult]],
        gate: threading.Event | None = None,
    ) -> None:
        self.starts: list[Start] = []
        self.finished: Counter[str] = Counter()
        self._behave = behave
        self._gate = gate
        self._lock = threading.Lock()

    def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        key = message.idempotency_key
        with self._lock:
            self.starts.append(Start(key, message.attempt, time.monotonic()))
            number = sum(s.key == key for s in self.starts)
        pause, result = self._behave(key, number)
        if pause < 0:
            assert self._gate is not None
            self._gate.wait(30)
        else:
            time.sleep(pause)
        with self._lock:
            self.finished[key] += 1
        return result

    def starts_per_key(self) -> Counter[str]:
        with self._lock:
            return Counter(s.key for s in self.starts)


@attrs.frozen
class Outcome:
    key: str
    status: str
    calls: int  # attempts + in_doubt_attempts after the write
    at: float  # when the write began


class WatchingStore(ForwardingStore):
    """Forwards to ``store``; notes every Notification write that settles a call."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()

    def write(self, batch: Sequence[RecordWrite]) -> None:
        began = time.monotonic()
        seen = []
        for w in batch:
            if w.kind == "Notification":
                data = json.loads(w.payload)["data"]
                if data["claimed_by"] is None:  # an outcome, not a claim
                    calls = data["attempts"] + data.get("in_doubt_attempts", 0)
                    seen.append(Outcome(w.id, data["status"], calls, began))
        self.inner.write(batch)
        with self._lock:
            self.outcomes.extend(seen)

    def close(self) -> None:
        """The wrapped store is closed by its owner."""


def check_no_late_starts(starts: list[Start], outcomes: list[Outcome]) -> None:
    """No call starts after its own outcome, or the notification's final one, was written."""
    by_key: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_key[outcome.key].append(outcome)
    for start in starts:
        for outcome in by_key[start.key]:
            if outcome.status != "pending" or outcome.calls >= start.attempt:
                assert start.at < outcome.at, (
                    f"call {start.attempt} of {start.key} started after an outcome "
                    f"({outcome.status}, {outcome.calls} calls) was recorded"
                )
    for key, attempts in _attempts_by_key(starts).items():
        assert len(attempts) == len(set(attempts)), f"{key}: one attempt number started twice"


def _attempts_by_key(starts: list[Start]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = defaultdict(list)
    for start in starts:
        found[start.key].append(start.attempt)
    return found


def slow(seconds: float) -> Callable[[str, int], tuple[float, DeliveryResult]]:
    return lambda key, number: (seconds, DeliveryResult.success())


# ------------------------------------------------------------ the reported bug
def test_a_slow_notifier_that_delivers_is_never_marked_failed(any_store: Store) -> None:
    # The report: timeout 0.02 s, a notifier taking 50 ms, 68 notifications:
    # all ended FAILED although delivered, with 145 calls.
    ids = seed(any_store, 68)
    watched = WatchingStore(any_store)
    notifier = TimedNotifier(slow(0.05))
    clock = FixedClock(T0)
    dispatcher = Dispatcher(
        watched, notifier, clock, timeout=0.02, max_attempts=2, max_abandoned_calls=100
    )
    first = dispatcher.dispatch()
    started = set(notifier.starts_per_key())
    # every call that started outlived its timeout; a thread the machine was
    # too busy to start in time never ran (retried later, nothing counted)
    assert (first.in_doubt, first.retried, first.failed, first.delivered) == (
        len(started),
        68,
        0,
        0,
    )
    assert first.attempted == 68 and len(started) > 0
    for note in load_all(any_store).values():
        assert note.status is DeliveryStatus.PENDING and note.attempts == 0
        assert note.next_attempt_at == T0 + BASE
        if note.id in started:
            assert (note.in_doubt_attempts, note.last_error) == (1, "timeout")
        else:
            assert (note.in_doubt_attempts, note.last_error) == (0, None)

    wait_until(lambda: dispatcher.abandoned_calls() == 0)
    clock.advance(timedelta(seconds=1))  # before the retry is due: recorded all the same
    second = dispatcher.dispatch()
    assert (second.delivered, second.late_delivered, second.failed) == (
        len(started),
        len(started),
        0,
    )
    for note in load_all(any_store).values():
        if note.id in started:
            assert note.status is DeliveryStatus.DELIVERED
            assert note.delivered_at == T0 + timedelta(seconds=1)
    passes = 2
    while dispatcher.counts()[DeliveryStatus.DELIVERED] < len(ids):
        passes += 1
        assert passes < 20, "not delivered after 20 passes"
        wait_until(lambda: dispatcher.abandoned_calls() == 0)
        clock.advance(LATER)
        assert dispatcher.dispatch().failed == 0
    wait_until(lambda: dispatcher.abandoned_calls() == 0)
    assert dispatcher.dispatch(clock.now() + LATER).late_delivered >= 0
    assert notifier.starts_per_key() == Counter(dict.fromkeys(ids, 1))  # never sent twice
    notes = load_all(any_store)
    assert {n.status for n in notes.values()} == {DeliveryStatus.DELIVERED}
    assert {(n.attempts, n.in_doubt_attempts) for n in notes.values()} == {(1, 0)}
    assert all(o.status != "failed" for o in watched.outcomes)
    check_no_late_starts(notifier.starts, watched.outcomes)
    assert dispatcher.dispatch(clock.now() + 2 * LATER) == DispatchReport()


def test_in_doubt_calls_do_not_count_towards_max_attempts(any_store: Store) -> None:
    # Every call times out and then fails: the outcome stays unknown each time.
    ids = seed(any_store, 3)
    gate = threading.Event()
    notifier = TimedNotifier(lambda k, n: (-1, DeliveryResult.failure("lost")), gate)
    clock = FixedClock(T0)
    dispatcher = Dispatcher(any_store, notifier, clock, timeout=0.05, max_attempts=2)
    try:
        for _ in range(20):
            before = sum(notifier.starts_per_key().values())
            report = dispatcher.dispatch()
            started = sum(notifier.starts_per_key().values()) - before
            assert (report.in_doubt, report.retried, report.failed) == (started, 3, 0)
            gate.set()  # the hung calls end (as failures) before the next pass
            wait_until(lambda: dispatcher.abandoned_calls() == 0)
            gate.clear()
            clock.advance(LATER)
            starts = notifier.starts_per_key()
            for note in load_all(any_store).values():
                assert (note.status, note.attempts) == (DeliveryStatus.PENDING, 0)
                assert note.in_doubt_attempts == starts[note.id]
            if min(starts[key] for key in ids) >= 4:
                break
        assert min(notifier.starts_per_key().values()) >= 4  # twice max_attempts and more
        # the attempt number the notifier sees counts every call
        for key in ids:
            assert [s.attempt for s in notifier.starts if s.key == key] == list(
                range(1, notifier.starts_per_key()[key] + 1)
            )
    finally:
        gate.set()


def test_backoff_grows_with_in_doubt_attempts(any_store: Store) -> None:
    seed(any_store, 1)
    gate = threading.Event()
    notifier = TimedNotifier(lambda k, n: (-1, DeliveryResult.failure("lost")), gate)
    clock = FixedClock(T0)
    dispatcher = Dispatcher(any_store, notifier, clock, timeout=HANG)
    try:
        due = []
        for _ in range(3):
            dispatcher.dispatch()
            gate.set()
            wait_until(lambda: dispatcher.abandoned_calls() == 0)
            gate.clear()
            (note,) = load_all(any_store).values()
            due.append(note.next_attempt_at - clock.now())
            clock.set(note.next_attempt_at)
        assert due == [BASE, 2 * BASE, 4 * BASE]
    finally:
        gate.set()


# -------------------------------------------------- retried until delivered
@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_hung_calls_are_not_repeated_and_retries_deliver(tmp_path: Path, backend: str) -> None:
    store: Store = MemoryStore() if backend == "memory" else SQLiteStore(tmp_path / "t.db")
    gate = threading.Event()

    def behave(key: str, number: int) -> tuple[float, DeliveryResult]:
        # the first call of each key hangs, then reports a failure; later ones are fast
        return (
            (-1, DeliveryResult.failure("gateway"))
            if number == 1
            else (0, DeliveryResult.success())
        )

    try:
        ids = seed(store, 5)
        watched = WatchingStore(store)
        notifier = TimedNotifier(behave, gate)
        clock = FixedClock(T0)
        dispatcher = Dispatcher(watched, notifier, clock, timeout=HANG, max_attempts=1)
        assert dispatcher.dispatch().in_doubt == 5
        assert dispatcher.abandoned_calls() == 5

        clock.advance(LATER)  # due again, but the first calls still run: not called again
        again = dispatcher.dispatch()
        assert (again.in_doubt, again.retried, again.attempted, again.delivered) == (5, 5, 5, 0)
        assert notifier.starts_per_key() == Counter(dict.fromkeys(ids, 1))
        notes = load_all(store).values()
        assert {(n.status, n.in_doubt_attempts, n.attempts) for n in notes} == {
            (DeliveryStatus.PENDING, 1, 0)
        }
        assert {n.next_attempt_at for n in notes} == {clock.now() + 2 * BASE}  # postponed

        gate.set()
        wait_until(lambda: dispatcher.abandoned_calls() == 0)
        clock.advance(LATER)
        done = dispatcher.dispatch()
        assert (done.delivered, done.late_delivered, done.failed) == (5, 0, 0)
        assert notifier.starts_per_key() == Counter(dict.fromkeys(ids, 2))
        assert sorted({s.attempt for s in notifier.starts}) == [1, 2]
        notes = load_all(store).values()
        assert {(n.status, n.attempts, n.in_doubt_attempts) for n in notes} == {
            (DeliveryStatus.DELIVERED, 1, 1)
        }
        check_no_late_starts(notifier.starts, watched.outcomes)
    finally:
        gate.set()
        store.close()


def test_random_delays_deliver_everything_without_failures_or_late_starts(
    any_store: Store,
) -> None:
    ids = seed(any_store, 40)
    rng = random.Random(7)
    plans = {key: [rng.choice([0.0, 0.002, 0.06, 0.1]) for _ in range(20)] for key in ids}

    def behave(key: str, number: int) -> tuple[float, DeliveryResult]:
        pause = plans[key][number - 1]
        # a quick call sometimes fails honestly; a slow one always delivers
        if pause == 0.002:
            return pause, DeliveryResult.failure("busy")
        return pause, DeliveryResult.success()

    watched = WatchingStore(any_store)
    notifier = TimedNotifier(behave)
    clock = FixedClock(T0)
    dispatcher = Dispatcher(
        watched, notifier, clock, timeout=0.03, max_attempts=20, max_abandoned_calls=100
    )
    passes = 0
    while dispatcher.counts()[DeliveryStatus.DELIVERED] < len(ids):
        passes += 1
        assert passes <= 30, "not delivered after 30 passes"
        dispatcher.dispatch()
        clock.advance(LATER)
        time.sleep(0.03)
    counts = dispatcher.counts()
    assert counts[DeliveryStatus.FAILED] == 0 and counts[DeliveryStatus.PENDING] == 0
    assert all(o.status != "failed" for o in watched.outcomes)
    # one start per pass at most, and never again once a slow call was seen through
    assert max(notifier.starts_per_key().values()) <= passes
    check_no_late_starts(notifier.starts, watched.outcomes)
    wait_until(lambda: dispatcher.abandoned_calls() == 0)
    for key, starts in notifier.starts_per_key().items():
        first_slow = next(i for i, p in enumerate(plans[key], 1) if p > 0.03)
        assert starts <= first_slow, key


def test_a_dispatcher_shared_by_threads_starts_each_call_once(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "shared.db")
    try:
        ids = seed(store, 40)
        rng = random.Random(11)
        pauses = {key: rng.choice([0.0, 0.05]) for key in ids}
        notifier = TimedNotifier(lambda key, n: (pauses[key], DeliveryResult.success()))
        dispatcher = Dispatcher(
            store, notifier, timeout=0.02, batch_size=10, max_abandoned_calls=100
        )
        errors: list[BaseException] = []
        totals: Counter[str] = Counter()
        lock = threading.Lock()

        def work(round_: int) -> None:
            try:
                report = dispatcher.dispatch(T0 + round_ * LATER)
                with lock:
                    totals.update(attrs.asdict(report))
            except BaseException as exc:  # reported below
                errors.append(exc)

        for round_ in range(30):
            threads = [threading.Thread(target=work, args=(round_,)) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            if dispatcher.counts()[DeliveryStatus.DELIVERED] == len(ids):
                break
            time.sleep(0.06)  # slow calls finish; the next round records them
        assert errors == []
        assert notifier.starts_per_key() == Counter(dict.fromkeys(ids, 1))
        assert load_all(store).keys() == set(ids)
        assert {n.status for n in load_all(store).values()} == {DeliveryStatus.DELIVERED}
        assert totals["failed"] == 0
        assert totals["late_delivered"] >= sum(p > 0 for p in pauses.values())
    finally:
        store.close()


# ------------------------------------------------- calls that never started
class LateStartDispatcher(Dispatcher):
    """Starts each call's thread ``delay`` seconds late (a busy machine)."""

    delay = 0.2

    def _spawn(self, call: _Call) -> None:
        threading.Timer(self.delay, call.run).start()


def test_a_call_still_waiting_to_start_at_its_timeout_never_runs(any_store: Store) -> None:
    seed(any_store, 1)
    notifier = RecordingNotifier()
    clock = FixedClock(T0)
    dispatcher = LateStartDispatcher(any_store, notifier, clock, timeout=0.02)
    report = dispatcher.dispatch()
    assert (report.retried, report.in_doubt, report.delivered) == (1, 0, 0)
    time.sleep(LateStartDispatcher.delay + 0.1)  # the thread got round to it: too late
    assert notifier.keys == []
    (note,) = load_all(any_store).values()
    # nothing was sent: neither an attempt nor an in-doubt one
    assert (note.status, note.attempts, note.in_doubt_attempts) == (DeliveryStatus.PENDING, 0, 0)
    assert note.next_attempt_at == T0 + BASE and note.claimed_by is None
    assert Dispatcher(any_store, notifier, clock).dispatch(T0 + BASE).delivered == 1
    assert notifier.keys == ["n-0000"]


def test_a_call_past_its_deadline_does_not_start() -> None:
    notifier = RecordingNotifier()
    message = OutgoingMessage(
        idempotency_key="n-1",
        recipient_kind=RecipientKind.STAFF,
        recipient_id="nurse-1",
        channel=ContactChannel.PORTAL,
        subject=SUBJECT,
        body=BODY,
    )
    call = _Call(notifier, message, 0.01)
    time.sleep(0.02)
    call.run()  # the thread starts after the deadline: nothing is sent
    assert call.finished and notifier.messages == []
    cancelled = _Call(notifier, message, 10)
    cancelled.cancel()
    cancelled.run()
    assert notifier.messages == []


def test_no_thread_for_a_call_means_it_is_retried_later(
    any_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(any_store, 1)

    def refuse(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    notifier = RecordingNotifier()
    dispatcher = Dispatcher(any_store, notifier, FixedClock(T0), timeout=5)
    started = time.monotonic()
    assert dispatcher.dispatch().retried == 1
    assert time.monotonic() - started < 2  # no wait for the timeout
    assert notifier.keys == []


# ------------------------------------------------ genuine failures still fail
@pytest.mark.parametrize("mode", ["result", "raise"])
def test_a_failing_notifier_still_fails_after_max_attempts(any_store: Store, mode: str) -> None:
    seed(any_store, 3)
    notifier = FlakyNotifier(1.0, mode=mode)
    clock = FixedClock(T0)
    dispatcher = Dispatcher(any_store, notifier, clock, timeout=5, max_attempts=3)
    reports = []
    for _ in range(3):
        reports.append(dispatcher.dispatch())
        clock.advance(LATER)
    assert [(r.retried, r.failed, r.in_doubt) for r in reports] == [(3, 0, 0), (3, 0, 0), (0, 3, 0)]
    notes = load_all(any_store).values()
    error = "ConnectionError" if mode == "raise" else "simulated"
    assert {(n.status, n.attempts, n.in_doubt_attempts, n.last_error) for n in notes} == {
        (DeliveryStatus.FAILED, 3, 0, error)
    }
    assert notifier.calls == 9
    assert dispatcher.dispatch().attempted == 0


def test_timeouts_and_failures_mixed_fail_only_on_failures(any_store: Store) -> None:
    seed(any_store, 1)
    gate = threading.Event()

    def behave(key: str, number: int) -> tuple[float, DeliveryResult]:
        # odd calls time out (then fail), even calls fail at once
        if number % 2:
            return -1, DeliveryResult.failure("lost")
        return 0, DeliveryResult.failure("refused")

    notifier = TimedNotifier(behave, gate)
    clock = FixedClock(T0)
    dispatcher = Dispatcher(any_store, notifier, clock, timeout=HANG, max_attempts=2)
    try:
        outcomes = []
        for _ in range(4):
            report = dispatcher.dispatch()
            outcomes.append((report.in_doubt, report.retried, report.failed))
            gate.set()
            wait_until(lambda: dispatcher.abandoned_calls() == 0)
            gate.clear()
            clock.advance(LATER)
        assert outcomes == [(1, 1, 0), (0, 1, 0), (1, 1, 0), (0, 0, 1)]
        (note,) = load_all(any_store).values()
        assert (note.status, note.attempts, note.in_doubt_attempts) == (
            DeliveryStatus.FAILED,
            2,
            2,
        )
        assert note.last_error == "refused"
    finally:
        gate.set()


def test_a_late_success_corrects_a_failure_recorded_meanwhile(any_store: Store) -> None:
    # Dispatcher a's call hangs (and will succeed); b retries it and is refused
    # for good. The message did go out, so it must not stay failed.
    seed(any_store, 1)
    gate = threading.Event()
    a_notifier = TimedNotifier(lambda k, n: (-1, DeliveryResult.success()), gate)
    b_notifier = TimedNotifier(lambda k, n: (0, DeliveryResult.failure("refused", retry=False)))
    a = Dispatcher(any_store, a_notifier, timeout=HANG, worker_id="a")
    b = Dispatcher(any_store, b_notifier, timeout=5, worker_id="b")
    try:
        assert a.dispatch(T0).in_doubt == 1
        assert b.dispatch(T0 + LATER).failed == 1
        (note,) = load_all(any_store).values()
        assert note.status is DeliveryStatus.FAILED
        gate.set()
        wait_until(lambda: a.abandoned_calls() == 0)
        report = a.dispatch(T0 + 2 * LATER)
        assert (report.delivered, report.late_delivered) == (1, 1)
        (note,) = load_all(any_store).values()
        assert note.status is DeliveryStatus.DELIVERED and note.delivered_at == T0 + 2 * LATER
        assert (note.attempts, note.in_doubt_attempts, note.last_error) == (2, 0, None)
    finally:
        gate.set()


def test_the_existing_abandoned_success_is_kept_when_a_pass_meets_it(any_store: Store) -> None:
    # The call finishes between the pass's first sweep and its turn: recorded, not resent.
    ids = seed(any_store, 1)
    gate = threading.Event()
    notifier = TimedNotifier(lambda k, n: (-1, DeliveryResult.success()), gate)
    dispatcher = Dispatcher(any_store, notifier, timeout=HANG)
    try:
        dispatcher.dispatch(T0)
        gate.set()
        wait_until(lambda: dispatcher.abandoned_calls() == 0)
        assert dispatcher._one(ids[0], T0 + LATER) == "late"
        assert notifier.starts_per_key() == Counter({ids[0]: 1})
        (note,) = load_all(any_store).values()
        assert note.status is DeliveryStatus.DELIVERED
    finally:
        gate.set()


# ------------------------------------------------------- bounded threads
def test_hung_calls_are_bounded(any_store: Store, caplog: pytest.LogCaptureFixture) -> None:
    ids = seed(any_store, 10)
    gate = threading.Event()
    notifier = TimedNotifier(lambda k, n: (-1, DeliveryResult.success()), gate)
    clock = FixedClock(T0)
    dispatcher = Dispatcher(any_store, notifier, clock, timeout=HANG, max_abandoned_calls=3)
    try:
        with caplog.at_level(logging.WARNING, logger="carecoord.outbox"):
            first = dispatcher.dispatch()
        assert (first.in_doubt, first.attempted) == (3, 3)
        assert dispatcher.abandoned_calls() == 3
        assert any("pass stopped early" in r.getMessage() for r in caplog.records)
        assert all(
            SUBJECT not in r.getMessage() and BODY not in r.getMessage() for r in caplog.records
        )
        clock.advance(LATER)
        assert dispatcher.dispatch().attempted == 0  # still three running: nothing started
        assert sum(notifier.starts_per_key().values()) == 3
        gate.set()
        wait_until(lambda: dispatcher.abandoned_calls() == 0)
        report = dispatcher.dispatch()
        assert (report.delivered, report.late_delivered) == (10, 3)
        assert notifier.starts_per_key() == Counter(dict.fromkeys(ids, 1))
    finally:
        gate.set()


def test_close_forgets_running_calls_and_the_retry_uses_the_same_key(any_store: Store) -> None:
    seed(any_store, 1)
    gate = threading.Event()
    notifier = TimedNotifier(
        lambda k, n: (-1, DeliveryResult.success()) if n == 1 else (0, DeliveryResult.success()),
        gate,
    )
    dispatcher = Dispatcher(any_store, notifier, timeout=HANG)
    try:
        assert dispatcher.dispatch(T0).in_doubt == 1
        dispatcher.close()
        assert dispatcher.abandoned_calls() == 0
        assert dispatcher.dispatch(T0 + LATER).delivered == 1  # usable after close
        assert [s.key for s in notifier.starts] == ["n-0000", "n-0000"]
    finally:
        gate.set()


# ------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"timeout": 0}, "timeout"),
        ({"timeout": -1.5}, "timeout"),
        ({"timeout": "soon"}, "timeout"),
        ({"max_abandoned_calls": 0}, "max_abandoned_calls"),
        ({"max_abandoned_calls": True}, "max_abandoned_calls"),
        ({"max_abandoned_calls": 2.5}, "max_abandoned_calls"),
    ],
)
def test_timeout_options_are_validated(options: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        Dispatcher(MemoryStore(), RecordingNotifier(), **options)
    assert info.value.field == field


def test_in_doubt_model_methods() -> None:
    note = make_note(1).claim("w", T0 + timedelta(minutes=5))
    doubtful = note.in_doubt_attempt("timeout", retry_at=T0 + BASE)
    assert (doubtful.attempts, doubtful.in_doubt_attempts, doubtful.claimed_by) == (0, 1, None)
    assert doubtful.status is DeliveryStatus.PENDING and doubtful.next_attempt_at == T0 + BASE
    postponed = doubtful.claim("w", T0 + LATER).postponed(T0 + LATER)
    assert attrs.evolve(postponed, next_attempt_at=T0 + BASE) == doubtful
    late = doubtful.delivered_late(T0 + LATER)
    assert (late.status, late.attempts, late.in_doubt_attempts) == (DeliveryStatus.DELIVERED, 1, 0)
    with pytest.raises(ValidationError):
        late.delivered_late(T0 + LATER)
    with pytest.raises(ValidationError):
        late.in_doubt_attempt("timeout", retry_at=T0)
    with pytest.raises(ValidationError) as negative:
        attrs.evolve(note, in_doubt_attempts=-1)
    assert negative.value.field == "in_doubt_attempts"
    failed = doubtful.failed_attempt("refused", retry_at=None)
    assert failed.requeued(T0).in_doubt_attempts == 0
