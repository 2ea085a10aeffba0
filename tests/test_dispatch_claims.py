"""Several dispatchers at once: claims with leases, so each notification goes to one worker.

The model's claim methods, the outbox index row (a live lease hides a
notification from the due query), interleavings driven step by step, a
dispatcher that dies holding a claim, and stress runs with threads and
processes on SQLite and (with ``CARECOORD_TEST_POSTGRES_DSN``) PostgreSQL.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import attrs
import pytest

from carecoord import ConflictError, ValidationError
from carecoord.model import ContactChannel, NaiveDatetimeError
from carecoord.notify import (
    DeliveryResult,
    DeliveryStatus,
    Notification,
    OutgoingMessage,
    RecipientKind,
)
from carecoord.outbox import Dispatcher
from carecoord.serialization import from_payload, to_payload
from carecoord.storage import (
    IndexHit,
    MemoryStore,
    RecordWrite,
    SQLiteStore,
    Store,
    StoredRecord,
    UnitOfWork,
    WorkQuery,
)
from carecoord.storage.records import index_rows
from carecoord.testing import FixedClock, ForwardingStore, RecordingNotifier

if TYPE_CHECKING:  # imported where used: it needs psycopg, which SQLite runs do not
    from _pg import ThrowawayStore

T0 = datetime(2026, 11, 23, 9, tzinfo=UTC)
LEASE = timedelta(minutes=5)
SUBJECT = "SECRET-SUBJECT"
BODY = "SECRET-BODY"


def make_note(n: int = 0, *, due: datetime = T0, **changes: Any) -> Notification:
    """A pending portal notification (no address lookup needed), due at ``due``."""
    note = Notification(
        id=f"n-{n:04d}",
        event="InterventionAssigned",
        recipient_kind=RecipientKind.STAFF,
        recipient_id="nurse-1",
        channel=ContactChannel.PORTAL,
        subject=SUBJECT,
        body=BODY,
        created_at=T0,
        next_attempt_at=due,
    )
    return attrs.evolve(note, **changes) if changes else note


def seed(store: Store, count: int, *, due: datetime = T0) -> list[str]:
    """Write ``count`` pending notifications; their ids."""
    with UnitOfWork(store) as uow:
        for n in range(count):
            uow.add(make_note(n, due=due))
    return [make_note(n).id for n in range(count)]


def load(store: Store, note_id: str = "n-0000") -> Notification:
    with UnitOfWork(store) as uow:
        return uow.get(Notification, note_id)


def claim_directly(store: Store, worker: str, until: datetime, note_id: str = "n-0000") -> None:
    """Claim through the model, as a dispatcher does, and never record an outcome."""
    with UnitOfWork(store) as uow:
        uow.save(uow.get(Notification, note_id).claim(worker, until))


class CallbackNotifier:
    """Succeeds, recording keys; runs ``during`` (once) inside its first call."""

    def __init__(self, during: Callable[[], None] | None = None) -> None:
        self.keys: list[str] = []
        self._during = during

    def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        self.keys.append(message.idempotency_key)
        during, self._during = self._during, None
        if during is not None:
            during()
        return DeliveryResult.success()


# ------------------------------------------------------------------- model
def test_claim_sets_the_lease_and_keeps_the_rest() -> None:
    note = make_note()
    claimed = note.claim("worker-a", T0 + LEASE)
    assert (claimed.claimed_by, claimed.claimed_until) == ("worker-a", T0 + LEASE)
    assert attrs.evolve(claimed, claimed_by=None, claimed_until=None) == note
    assert claimed.is_claimed(T0) and claimed.is_claimed(T0 + LEASE - timedelta(microseconds=1))
    assert not claimed.is_claimed(T0 + LEASE)  # a lease ends at claimed_until
    assert not note.is_claimed(T0)
    # not PHI: shown in repr, unlike subject and body
    assert "claimed_by='worker-a'" in repr(claimed) and SUBJECT not in repr(claimed)


@pytest.mark.parametrize(
    "settled",
    [
        make_note().delivered(T0),
        make_note().failed_attempt("no-address", retry_at=None),
    ],
    ids=["delivered", "failed"],
)
def test_only_a_pending_notification_can_be_claimed(settled: Notification) -> None:
    with pytest.raises(ValidationError) as info:
        settled.claim("worker-a", T0 + LEASE)
    assert info.value.field == "status"
    with pytest.raises(ValidationError) as built:
        attrs.evolve(settled, claimed_by="worker-a", claimed_until=T0 + LEASE)
    assert built.value.field == "claimed_by"


def test_claim_fields_are_validated() -> None:
    note = make_note()
    with pytest.raises(NaiveDatetimeError) as naive:
        note.claim("worker-a", datetime(2026, 11, 23, 9, 5))
    assert naive.value.field == "claimed_until"
    for worker in ("", "   ", "w" * 101):
        with pytest.raises(ValidationError) as bad:
            note.claim(worker, T0 + LEASE)
        assert bad.value.field == "claimed_by"
    with pytest.raises(ValidationError) as half:
        attrs.evolve(note, claimed_by="worker-a")
    assert half.value.field == "claimed_until"
    with pytest.raises(ValidationError) as other_half:
        attrs.evolve(note, claimed_until=T0 + LEASE)
    assert other_half.value.field == "claimed_by"
    # an error message never carries the notification's text
    assert SUBJECT not in str(half.value) and BODY not in str(half.value)


def test_outcomes_and_requeue_release_the_claim() -> None:
    claimed = make_note().claim("worker-a", T0 + LEASE)
    retried = claimed.failed_attempt("timeout", retry_at=T0 + timedelta(minutes=1))
    failed = claimed.failed_attempt("no-address", retry_at=None)
    delivered = claimed.delivered(T0 + timedelta(seconds=1))
    for released in (retried, failed, delivered):
        assert (released.claimed_by, released.claimed_until) == (None, None)
        assert released.attempts == 1
    assert retried.status is DeliveryStatus.PENDING
    assert retried.next_attempt_at == T0 + timedelta(minutes=1)
    requeued = failed.requeued(T0 + timedelta(hours=1))
    assert requeued.status is DeliveryStatus.PENDING and requeued.attempts == 0
    assert requeued.next_attempt_at == T0 + timedelta(hours=1)
    assert requeued.claimed_by is None
    with pytest.raises(ValidationError):
        claimed.requeued(T0)  # only a failed notification is requeued


def test_next_eligible_at_is_the_later_instant() -> None:
    chicago = ZoneInfo("America/Chicago")
    note = make_note(due=T0 + timedelta(minutes=10))
    assert note.next_eligible_at == T0 + timedelta(minutes=10)
    # a lease ending before the retry time changes nothing
    assert note.claim("w", T0 + LEASE).next_eligible_at == T0 + timedelta(minutes=10)
    later = note.claim("w", T0 + timedelta(minutes=20))
    assert later.next_eligible_at == T0 + timedelta(minutes=20)
    # 03:15 in Chicago is 09:15 UTC: later as an instant, though not as a wall time
    local = datetime(2026, 11, 23, 3, 15, tzinfo=chicago)
    zoned = note.claim("w", local)
    assert zoned.next_eligible_at is local
    assert not zoned.is_due(T0 + timedelta(minutes=14))
    assert zoned.is_due(T0 + timedelta(minutes=15))
    assert not zoned.delivered(T0).is_due(T0 + timedelta(days=1))


def test_index_row_is_due_when_the_notification_is_next_eligible() -> None:
    note = make_note()
    (row,) = index_rows(note)
    assert (row.category, row.is_open, row.due_at) == ("outbox", True, T0)
    (claimed_row,) = index_rows(note.claim("w", T0 + LEASE))
    assert claimed_row.due_at == T0 + LEASE
    assert claimed_row.status == "pending" and claimed_row.is_open
    local = datetime(2026, 11, 23, 3, 15, tzinfo=ZoneInfo("America/Chicago"))
    (zoned_row,) = index_rows(note.claim("w", local))
    assert zoned_row.due_at == local  # 09:15 UTC, compared as an instant
    retry = make_note(due=T0 + timedelta(hours=1)).claim("w", T0 + LEASE)
    assert index_rows(retry)[0].due_at == T0 + timedelta(hours=1)


def test_payloads_written_before_claims_existed_still_load(any_store: Store) -> None:
    payload = to_payload(make_note())
    del payload["data"]["claimed_by"], payload["data"]["claimed_until"]
    old = from_payload(payload, Notification)
    assert (old.claimed_by, old.claimed_until) == (None, None)
    assert old == make_note()
    # through a store, as an older carecoord wrote it
    any_store.write(
        [
            RecordWrite(
                kind="Notification",
                id=old.id,
                expected_version=0,
                payload=json.dumps(payload),
                index=index_rows(old),
            )
        ]
    )
    clock = FixedClock(T0)
    notifier = RecordingNotifier()
    assert Dispatcher(any_store, notifier, clock).dispatch().delivered == 1
    assert notifier.keys == [old.id]


def test_conflict_error_is_what_a_lost_claim_race_raises(any_store: Store) -> None:
    # The claim is an ordinary version-checked save: a second claim against the
    # version both read is a ConflictError, and nothing of it is written.
    seed(any_store, 1)
    first, second = UnitOfWork(any_store), UnitOfWork(any_store)
    a = first.get(Notification, "n-0000")
    b = second.get(Notification, "n-0000")
    first.save(a.claim("worker-a", T0 + LEASE))
    first.commit()
    second.save(b.claim("worker-b", T0 + LEASE))
    with pytest.raises(ConflictError):
        second.commit()
    assert load(any_store).claimed_by == "worker-a"


# -------------------------------------------------------------- dispatcher
def test_dispatcher_options_are_validated() -> None:
    store = MemoryStore()
    notifier = RecordingNotifier()
    first, second = Dispatcher(store, notifier), Dispatcher(store, notifier)
    assert first.worker_id.startswith("dispatcher-") and first.worker_id != second.worker_id
    assert first.lease == timedelta(minutes=5)
    assert Dispatcher(store, notifier, worker_id="host-1/7").worker_id == "host-1/7"
    for lease in (timedelta(0), timedelta(seconds=-1)):
        with pytest.raises(ValidationError) as info:
            Dispatcher(store, notifier, lease=lease)
        assert info.value.field == "lease"
    with pytest.raises(ValidationError) as slow:
        Dispatcher(store, notifier, timeout=30, lease=timedelta(seconds=30))
    assert slow.value.field == "lease"
    assert Dispatcher(store, notifier, timeout=30, lease=timedelta(seconds=31)).lease > timedelta(
        seconds=30
    )
    for worker in ("", "  ", "w" * 101):
        with pytest.raises(ValidationError) as bad:
            Dispatcher(store, notifier, worker_id=worker)
        assert bad.value.field == "worker_id"


def test_a_live_claim_hides_the_notification_until_the_lease_runs_out(any_store: Store) -> None:
    seed(any_store, 1)
    claim_directly(any_store, "worker-a", T0 + LEASE)  # worker-a claims, then goes quiet
    seen: list[Notification] = []
    notifier = CallbackNotifier(lambda: seen.append(load(any_store)))
    clock = FixedClock(T0 + timedelta(minutes=1))
    b = Dispatcher(any_store, notifier, clock, worker_id="worker-b", lease=LEASE)

    report = b.dispatch()
    assert (report.attempted, report.skipped) == (0, 0)  # not even in the due query
    assert b.dispatch(T0 + LEASE - timedelta(microseconds=1)).attempted == 0
    assert b.counts()[DeliveryStatus.PENDING] == 1
    assert notifier.keys == []

    clock.set(T0 + LEASE)  # the lease has run out: due again, and worker-b claims it
    assert b.dispatch().delivered == 1
    assert notifier.keys == ["n-0000"]
    (during,) = seen
    assert (during.claimed_by, during.claimed_until) == ("worker-b", T0 + 2 * LEASE)
    done = load(any_store)
    assert done.status is DeliveryStatus.DELIVERED and done.delivered_at == T0 + LEASE
    assert (done.claimed_by, done.claimed_until, done.attempts) == (None, None, 1)


def test_while_one_dispatcher_delivers_another_finds_nothing(any_store: Store) -> None:
    seed(any_store, 1)
    b = Dispatcher(any_store, RecordingNotifier(), worker_id="worker-b")
    reports = []
    a_notifier = CallbackNotifier(lambda: reports.append(b.dispatch(T0 + timedelta(seconds=30))))
    a = Dispatcher(any_store, a_notifier, worker_id="worker-a")
    assert a.dispatch(T0).delivered == 1
    assert reports == [b.dispatch(T0)]  # nothing attempted, nothing skipped
    assert reports[0].attempted == 0
    assert a_notifier.keys == ["n-0000"]


class Died(BaseException):
    """Stands for the process ending in the middle of a notifier call."""


class DyingNotifier:
    def __init__(self) -> None:
        self.keys: list[str] = []

    def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        self.keys.append(message.idempotency_key)
        raise Died


def test_a_dispatcher_that_dies_holding_a_claim_blocks_nobody_for_long(any_store: Store) -> None:
    seed(any_store, 3)
    dying = DyingNotifier()
    a = Dispatcher(any_store, dying, worker_id="worker-a", lease=LEASE, batch_size=1)
    with pytest.raises(Died):
        a.dispatch(T0)
    stuck = load(any_store, dying.keys[0])
    assert (stuck.claimed_by, stuck.claimed_until) == ("worker-a", T0 + LEASE)
    assert stuck.status is DeliveryStatus.PENDING and stuck.attempts == 0

    notifier = RecordingNotifier()
    b = Dispatcher(any_store, notifier, worker_id="worker-b", lease=LEASE)
    assert b.dispatch(T0 + timedelta(minutes=1)).delivered == 2  # the other two
    assert dying.keys[0] not in notifier.keys
    assert b.dispatch(T0 + LEASE).delivered == 1  # taken over once the lease ran out
    assert Counter(notifier.keys) == Counter(["n-0000", "n-0001", "n-0002"])
    assert b.counts() == {
        DeliveryStatus.PENDING: 0,
        DeliveryStatus.DELIVERED: 3,
        DeliveryStatus.FAILED: 0,
    }


class SharedStore(ForwardingStore):
    """Forwards every call; leaves closing the shared store to its fixture."""

    def close(self) -> None:
        """The shared store is closed by its fixture."""


class ReadBarrierStore(SharedStore):
    """Its first Notification read waits at ``barrier`` once it has read.

    Two dispatchers on two of these both read the notification before either
    claims it: exactly the race the claim must win for one of them only.
    """

    def __init__(self, store: Store, barrier: threading.Barrier) -> None:
        super().__init__(store)
        self._barrier: threading.Barrier | None = barrier

    def read(self, kind: str, record_id: str) -> StoredRecord | None:
        found = self.inner.read(kind, record_id)
        if kind == "Notification" and self._barrier is not None:
            barrier, self._barrier = self._barrier, None
            barrier.wait(timeout=10)
        return found


def test_two_dispatchers_that_read_the_same_notification_deliver_it_once(
    any_store: Store,
) -> None:
    seed(any_store, 1)
    barrier = threading.Barrier(2)
    notifier = RecordingNotifier()
    dispatchers = [
        Dispatcher(ReadBarrierStore(any_store, barrier), notifier, worker_id=f"worker-{n}")
        for n in range(2)
    ]
    reports: dict[str, Any] = {}

    def run(dispatcher: Dispatcher) -> None:
        reports[dispatcher.worker_id] = dispatcher.dispatch(T0)

    threads = [threading.Thread(target=run, args=(d,)) for d in dispatchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted((r.delivered, r.skipped) for r in reports.values()) == [(0, 1), (1, 0)]
    assert notifier.keys == ["n-0000"]
    assert load(any_store).status is DeliveryStatus.DELIVERED


class ClaimAfterQueryStore(SharedStore):
    """Its first query's hits go stale at once: ``worker`` claims every one of them."""

    def __init__(self, store: Store, worker: str) -> None:
        super().__init__(store)
        self._worker: str | None = worker

    def query(self, query: WorkQuery) -> Sequence[IndexHit]:
        hits = self.inner.query(query)
        worker, self._worker = self._worker, None
        if worker is not None:
            for hit in hits:
                claim_directly(self.inner, worker, T0 + LEASE, hit.record_id)
        return hits


@pytest.mark.parametrize("holder", ["worker-a", "worker-b"], ids=["other", "own"])
def test_a_stale_hit_under_a_live_claim_is_skipped(any_store: Store, holder: str) -> None:
    # A live lease means a call is in flight, even one of this worker's own
    # (a dispatcher shared by threads): it is never delivered in parallel.
    seed(any_store, 2)
    notifier = RecordingNotifier()
    b = Dispatcher(ClaimAfterQueryStore(any_store, holder), notifier, worker_id="worker-b")
    report = b.dispatch(T0 + timedelta(minutes=1))
    assert (report.attempted, report.skipped) == (0, 2)
    assert notifier.keys == []


def test_an_outcome_after_a_takeover_is_not_recorded(
    any_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    # worker-a's notifier call outlives its lease; worker-b takes over and delivers.
    seed(any_store, 1)
    b_notifier = RecordingNotifier()
    b = Dispatcher(any_store, b_notifier, worker_id="worker-b", lease=LEASE)
    late = T0 + LEASE + timedelta(seconds=1)
    taken_over: list[Any] = []
    a_notifier = CallbackNotifier(lambda: taken_over.append(b.dispatch(late)))
    a = Dispatcher(any_store, a_notifier, worker_id="worker-a", lease=LEASE)
    with caplog.at_level(logging.DEBUG, logger="carecoord.outbox"):
        report = a.dispatch(T0)
    assert (report.delivered, report.skipped) == (0, 1)
    assert taken_over[0].delivered == 1
    # at least once, with the same idempotency key
    assert a_notifier.keys == b_notifier.keys == ["n-0000"]
    done = load(any_store)
    assert done.status is DeliveryStatus.DELIVERED and done.delivered_at == late
    assert done.attempts == 1
    (record,) = [r for r in caplog.records if "taken over" in r.getMessage()]
    assert record.levelno == logging.DEBUG
    assert "n-0000" in record.getMessage() and "worker-a" in record.getMessage()
    assert all(SUBJECT not in r.getMessage() and BODY not in r.getMessage() for r in caplog.records)


def test_requeue_failed_and_inspection_still_work(any_store: Store) -> None:
    seed(any_store, 2)
    clock = FixedClock(T0)
    failing = Dispatcher(any_store, DyingNotifier(), clock)  # raises Died: claims one only
    with pytest.raises(Died):
        failing.dispatch()
    with UnitOfWork(any_store) as uow:
        one = uow.get(Notification, "n-0001")
        uow.save(one.failed_attempt("no-address", retry_at=None))
    dispatcher = Dispatcher(any_store, RecordingNotifier(), clock)
    assert dispatcher.counts() == {
        DeliveryStatus.PENDING: 1,
        DeliveryStatus.DELIVERED: 0,
        DeliveryStatus.FAILED: 1,
    }
    (pending,) = dispatcher.notifications(DeliveryStatus.PENDING)
    assert pending.claimed_by == failing.worker_id
    assert dispatcher.requeue_failed(T0 + timedelta(minutes=1)) == 1
    requeued = load(any_store, "n-0001")
    assert (requeued.status, requeued.attempts, requeued.claimed_by) == (
        DeliveryStatus.PENDING,
        0,
        None,
    )
    clock.set(T0 + LEASE)
    assert dispatcher.dispatch().delivered == 2


# ------------------------------------------------------------------ stress
COUNT = 200
WORKERS = 4
NOW = T0 + timedelta(minutes=1)
"""Stress runs dispatch at one fixed moment: no lease runs out, so no takeovers."""


class KeyNotifier:
    """Thread-safe: counts calls per idempotency key; a little work widens the races."""

    def __init__(self, pause: float = 0.0005) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._pause = pause

    def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        with self._lock:
            self.calls[message.idempotency_key] += 1
        time.sleep(self._pause)
        return DeliveryResult.success()


def drain(dispatcher: Dispatcher, deadline: float) -> Counter[str]:
    """Dispatch until a pass finds nothing due; the summed report counts."""
    totals: Counter[str] = Counter()
    while time.monotonic() < deadline:
        report = dispatcher.dispatch(NOW)
        totals.update(attrs.asdict(report))
        if report.attempted + report.skipped == 0:
            return totals
    raise AssertionError("dispatching did not finish in time")


def check_exactly_once(
    store: Store, calls: Counter[str], totals: Counter[str], ids: list[str]
) -> None:
    assert sorted(calls) == ids
    assert set(calls.values()) == {1}, "a notification was handed to the notifier twice"
    assert (totals["delivered"], totals["failed"], totals["retried"]) == (len(ids), 0, 0)
    with UnitOfWork(store) as uow:
        notes = uow.all(Notification)
    assert {n.status for n in notes} == {DeliveryStatus.DELIVERED}
    assert {(n.attempts, n.claimed_by) for n in notes} == {(1, None)}


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_threads_deliver_every_notification_exactly_once(tmp_path: Path, backend: str) -> None:
    store: Store = MemoryStore() if backend == "memory" else SQLiteStore(tmp_path / "outbox.db")
    try:
        ids = seed(store, COUNT)
        notifier = KeyNotifier()
        totals: Counter[str] = Counter()
        errors: list[BaseException] = []
        lock = threading.Lock()
        start = threading.Barrier(WORKERS)
        deadline = time.monotonic() + 60

        def work(number: int) -> None:
            dispatcher = Dispatcher(store, notifier, worker_id=f"thread-{number}", batch_size=10)
            try:
                start.wait(timeout=10)
                found = drain(dispatcher, deadline)
                with lock:
                    totals.update(found)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=90)
        assert errors == []
        check_exactly_once(store, notifier.calls, totals, ids)
    finally:
        store.close()


def process_worker(target: str, schema: str | None, number: int, start: Any, results: Any) -> None:
    """One OS process: its own store on the shared database, dispatching until drained.

    ``target`` is a SQLite file, or a PostgreSQL DSN when ``schema`` is given.
    """
    report: dict[str, Any] = {"number": number, "error": None, "calls": {}, "totals": {}}
    store: Store | None = None
    try:
        if schema is None:
            store = SQLiteStore(target)
        else:
            from carecoord.storage import PostgresStore

            store = PostgresStore(target, schema=schema, min_size=1, max_size=1)
        notifier = KeyNotifier()
        dispatcher = Dispatcher(
            store, notifier, worker_id=f"process-{number}", batch_size=10, lease=LEASE
        )
        start.wait(timeout=60)
        report["totals"] = dict(drain(dispatcher, time.monotonic() + 60))
        report["calls"] = dict(notifier.calls)
    except BaseException as exc:  # reported to the test, in the parent process
        report["error"] = f"{type(exc).__name__}: {exc}"
        start.abort()
    finally:
        if store is not None:
            store.close()
        results.put(report)


def run_processes(target: str, schema: str | None) -> tuple[Counter[str], Counter[str]]:
    """Run the workers; (calls per key, summed report counts) over all of them."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(WORKERS)
    results = context.Queue()
    processes = [
        context.Process(target=process_worker, args=(target, schema, n, start, results))
        for n in range(WORKERS)
    ]
    for process in processes:
        process.start()
    try:
        reports = [results.get(timeout=120) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    assert [r["error"] for r in reports] == [None] * WORKERS
    calls: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for report in reports:
        calls.update(report["calls"])
        totals.update(report["totals"])
    return calls, totals


def test_processes_on_one_sqlite_file_deliver_every_notification_exactly_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "outbox.db"
    store = SQLiteStore(path)
    try:
        ids = seed(store, COUNT)
        calls, totals = run_processes(str(path), None)
        check_exactly_once(store, calls, totals, ids)
    finally:
        store.close()


@pytest.fixture
def postgres_store() -> Iterator[ThrowawayStore]:
    """A migrated PostgresStore in its own throw-away schema (skipped without a server)."""
    from _pg import ThrowawayStore, postgres_dsn

    made = ThrowawayStore(postgres_dsn())
    yield made
    made.close()


def test_processes_on_postgresql_deliver_every_notification_exactly_once(
    postgres_store: ThrowawayStore,
) -> None:
    from _pg import postgres_dsn

    ids = seed(postgres_store, COUNT)
    calls, totals = run_processes(postgres_dsn(), postgres_store.schema)
    check_exactly_once(postgres_store, calls, totals, ids)
