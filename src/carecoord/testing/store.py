"""The storage conformance suite: every :class:`~carecoord.storage.Store` must pass it.

Subclass :class:`StoreContract` in your own tests and implement
:meth:`StoreContract.make_store`; pytest then collects every contract test for
your adapter::

    from carecoord.testing.store import StoreContract, make_stateful_test

    class TestMyStore(StoreContract):
        def make_store(self) -> Store:
            return MyStore(...)

    TestMyStoreStateful = make_stateful_test(lambda: MyStore(...)).TestCase

:meth:`StoreContract.make_store` may use ``self.tmp_path`` (a fresh
directory per test). Each test closes the stores it made.

The suite covers round trips of every aggregate through
:class:`~carecoord.storage.UnitOfWork`, versions and conflicts, atomic batches,
rollback, isolation between units of work, worklist filtering and ordering,
time-zone preservation, closing, and concurrent writers on several threads.
:func:`make_stateful_test` drives a store against a plain reference model
through random sequences of operations (Hypothesis ``RuleBasedStateMachine``).

Needs the ``testing`` extra: ``pip install carecoord[testing]``.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from ..model import (
    Appointment,
    AppointmentId,
    CareCoordError,
    CarePlan,
    CarePlanId,
    CarePlanStatus,
    ConflictError,
    HumanName,
    Intervention,
    InterventionId,
    InterventionKind,
    NotFoundError,
    Patient,
    PatientId,
    StaffId,
    StorageError,
    TaskPriority,
)
from ..serialization import to_payload
from ..storage._query import run_query
from ..storage.port import IndexHit, IndexRow, RecordWrite, Store, StoredRecord, WorkQuery
from ..storage.uow import UnitOfWork
from .strategies import ENTITY_STRATEGIES, ZONES

__all__ = ["StoreContract", "make_stateful_test"]

_T0 = datetime(2026, 11, 23, 9, tzinfo=ZoneInfo("America/Chicago"))


def _patient(pid: str, zone: str = "America/Chicago") -> Patient:
    return Patient(
        id=PatientId(pid),
        name=HumanName(family="Contract"),
        birth_date=date(1950, 1, 1),
        time_zone=zone,
    )


def _plan(plan_id: str, patient_id: str, *interventions: Intervention) -> CarePlan:
    return CarePlan(
        id=CarePlanId(plan_id),
        patient_id=PatientId(patient_id),
        author_id=StaffId("author"),
        created_at=_T0,
        status=CarePlanStatus.ACTIVE,
        interventions=interventions,
    )


def _task(
    task_id: str,
    assignee: str | None,
    due: datetime | None,
    priority: TaskPriority = TaskPriority.ROUTINE,
) -> Intervention:
    return Intervention(
        id=InterventionId(task_id),
        kind=InterventionKind.COMMUNICATION,
        description="contract task",
        created_at=_T0,
        assignee_id=None if assignee is None else StaffId(assignee),
        due=due,
        priority=priority,
    )


def _write(
    kind: str,
    record_id: str,
    expected: int,
    payload: object = None,
    *,
    patient_id: str | None = None,
    index: tuple[IndexRow, ...] = (),
) -> RecordWrite:
    text = json.dumps({"n": expected} if payload is None else payload)
    return RecordWrite(
        kind=kind,
        id=record_id,
        expected_version=expected,
        payload=text,
        patient_id=patient_id,
        index=index,
    )


def _row(
    item_id: str,
    *,
    category: str = "intervention",
    patient_id: str | None = "p-1",
    owner_id: str | None = "ma-1",
    status: str = "ready",
    is_open: bool = True,
    priority: int = 0,
    due_at: datetime | None = None,
    changed_at: datetime | None = None,
) -> IndexRow:
    return IndexRow(
        category=category,
        item_id=item_id,
        patient_id=patient_id,
        owner_id=owner_id,
        status=status,
        is_open=is_open,
        priority=priority,
        due_at=due_at,
        changed_at=changed_at,
    )


class StoreContract:
    """The contract tests every store passes. Subclass and implement :meth:`make_store`."""

    tmp_path: Path
    """A fresh directory for this test (set before :meth:`make_store` is called)."""

    threads: ClassVar[int] = 4
    """Writer threads in the concurrency tests."""

    updates_per_thread: ClassVar[int] = 10
    """Read-modify-write rounds per thread in the concurrency tests."""

    def make_store(self) -> Store:
        """Return a new, empty store. Called once or more per test."""
        raise NotImplementedError("subclass StoreContract and implement make_store()")

    # --------------------------------------------------------------- fixtures
    @pytest.fixture(autouse=True)
    def _contract_setup(self, tmp_path: Path) -> Iterator[None]:
        self.tmp_path = tmp_path
        self._made: list[Store] = []
        yield
        for made in self._made:
            with contextlib.suppress(CareCoordError):  # closing twice may complain
                made.close()

    def new_store(self) -> Store:
        """A store from :meth:`make_store`, closed when the test ends."""
        made = self.make_store()
        self._made.append(made)
        return made

    @pytest.fixture
    def store(self) -> Store:
        """A fresh store for one test."""
        return self.new_store()

    # -------------------------------------------------------------- the port
    def test_is_a_store(self, store: Store) -> None:
        assert isinstance(store, Store)

    def test_read_missing_is_none(self, store: Store) -> None:
        assert store.read("Patient", "nobody") is None
        assert list(store.read_all("Patient")) == []
        assert list(store.query(WorkQuery(category="intervention"))) == []

    def test_create_stores_version_one(self, store: Store) -> None:
        store.write([_write("Patient", "p-1", 0, {"a": 1}, patient_id="p-1")])
        got = store.read("Patient", "p-1")
        assert got == StoredRecord("Patient", "p-1", 1, json.dumps({"a": 1}), "p-1")

    def test_payload_text_is_kept_exactly(self, store: Store) -> None:
        text = '{"z":1,"a":"caf\\u00e9 \u00e9\u00e8 \U0001f600","n":[1.5,null,true]}'
        store.write([RecordWrite(kind="Note", id="n-1", expected_version=0, payload=text)])
        got = store.read("Note", "n-1")
        assert got is not None and got.payload == text

    def test_update_increments_version(self, store: Store) -> None:
        store.write([_write("Patient", "p-1", 0)])
        store.write([_write("Patient", "p-1", 1, {"b": 2})])
        store.write([_write("Patient", "p-1", 2, {"c": 3})])
        got = store.read("Patient", "p-1")
        assert got is not None and got.version == 3 and json.loads(got.payload) == {"c": 3}

    def test_kinds_are_separate(self, store: Store) -> None:
        store.write([_write("Patient", "x", 0, {"k": "p"}), _write("Note", "x", 0, {"k": "n"})])
        patient, note = store.read("Patient", "x"), store.read("Note", "x")
        assert patient is not None and json.loads(patient.payload) == {"k": "p"}
        assert note is not None and json.loads(note.payload) == {"k": "n"}

    def test_create_existing_conflicts(self, store: Store) -> None:
        store.write([_write("Patient", "p-1", 0, {"first": True})])
        with pytest.raises(ConflictError) as info:
            store.write([_write("Patient", "p-1", 0, {"second": True})])
        assert info.value.kind == "Patient" and info.value.record_id == "p-1"
        got = store.read("Patient", "p-1")
        assert got is not None and json.loads(got.payload) == {"first": True}

    def test_stale_update_conflicts(self, store: Store) -> None:
        store.write([_write("CarePlan", "plan-1", 0)])
        store.write([_write("CarePlan", "plan-1", 1)])
        with pytest.raises(ConflictError):
            store.write([_write("CarePlan", "plan-1", 1, {"stale": True})])
        with pytest.raises(ConflictError):
            store.write([_write("CarePlan", "plan-1", 7, {"future": True})])
        got = store.read("CarePlan", "plan-1")
        assert got is not None and got.version == 2 and json.loads(got.payload) == {"n": 1}

    def test_update_of_missing_record_conflicts(self, store: Store) -> None:
        with pytest.raises(ConflictError):
            store.write([_write("Referral", "r-1", 1)])
        assert store.read("Referral", "r-1") is None

    def test_batch_is_atomic(self, store: Store) -> None:
        store.write([_write("CarePlan", "a", 0), _write("CarePlan", "b", 0)])
        with pytest.raises(ConflictError):
            store.write(
                [
                    _write("CarePlan", "a", 1, {"changed": True}, index=(_row("t-a"),)),
                    _write("CarePlan", "c", 0, {"new": True}),
                    _write("CarePlan", "b", 5, {"stale": True}),
                ]
            )
        a = store.read("CarePlan", "a")
        assert a is not None and a.version == 1 and json.loads(a.payload) == {"n": 0}
        assert store.read("CarePlan", "c") is None
        assert list(store.query(WorkQuery(category="intervention"))) == []

    def test_read_all_orders_by_id_and_filters_by_patient(self, store: Store) -> None:
        store.write(
            [
                _write("Note", "n-b", 0, patient_id="p-1"),
                _write("Note", "n-a", 0, patient_id="p-2"),
                _write("Note", "n-c", 0, patient_id="p-1"),
                _write("Patient", "p-1", 0, patient_id="p-1"),
                _write("Note", "n-0", 0),
            ]
        )
        assert [r.id for r in store.read_all("Note")] == ["n-0", "n-a", "n-b", "n-c"]
        assert [r.id for r in store.read_all("Note", patient_id="p-1")] == ["n-b", "n-c"]
        assert [r.id for r in store.read_all("Note", patient_id="p-9")] == []
        assert [r.id for r in store.read_all("Patient")] == ["p-1"]

    def test_closed_store_raises_storage_error(self) -> None:
        store = self.make_store()
        store.write([_write("Patient", "p-1", 0)])
        store.close()
        with pytest.raises(StorageError):
            store.read("Patient", "p-1")
        with pytest.raises(StorageError):
            store.write([_write("Patient", "p-2", 0)])
        with pytest.raises(StorageError):
            store.query(WorkQuery(category="intervention"))

    # ------------------------------------------------------------- the index
    def test_index_rows_are_replaced_by_each_write(self, store: Store) -> None:
        store.write([_write("CarePlan", "plan", 0, index=(_row("t-1"), _row("t-2")))])
        store.write([_write("CarePlan", "plan", 1, index=(_row("t-3", status="in-progress"),))])
        hits = store.query(WorkQuery(category="intervention"))
        assert [(h.kind, h.record_id, h.version, h.row.item_id) for h in hits] == [
            ("CarePlan", "plan", 2, "t-3")
        ]
        store.write([_write("CarePlan", "plan", 2)])
        assert list(store.query(WorkQuery(category="intervention"))) == []

    def test_query_filters(self, store: Store) -> None:
        t = datetime(2026, 11, 23, 12, tzinfo=UTC)
        rows = (
            _row("a", owner_id="ma-1", patient_id="p-1", due_at=t),
            _row("b", owner_id="ma-2", patient_id="p-1", due_at=t + timedelta(days=1)),
            _row("c", owner_id="ma-1", patient_id="p-2", status="on-hold", due_at=t),
            _row("d", owner_id="ma-1", patient_id="p-1", is_open=False, status="completed"),
            _row("e", owner_id=None, patient_id=None, changed_at=t - timedelta(days=3)),
            _row("f", category="review", owner_id="ma-1", due_at=t),
        )
        store.write([_write("CarePlan", "plan", 0, index=rows)])

        def ids(**filters: Any) -> set[str]:
            found = store.query(
                WorkQuery(category=filters.pop("category", "intervention"), **filters)
            )
            return {h.row.item_id for h in found}

        assert ids() == {"a", "b", "c", "e"}
        assert ids(open_only=False) == {"a", "b", "c", "d", "e"}
        assert ids(owner_ids=("ma-1",)) == {"a", "c"}
        assert ids(owner_ids=("ma-1", "ma-2")) == {"a", "b", "c"}
        assert ids(owner_ids=()) == set()
        assert ids(patient_ids=("p-1",)) == {"a", "b"}
        assert ids(statuses=("on-hold", "completed"), open_only=False) == {"c", "d"}
        assert ids(due_before=t + timedelta(hours=1)) == {"a", "c"}
        assert ids(due_before=t) == set()
        assert ids(due_from=t + timedelta(hours=1)) == {"b"}
        assert ids(due_from=t) == {"a", "b", "c"}
        assert ids(changed_before=t) == {"e"}
        assert ids(category="review") == {"f"}
        assert ids(category="barrier") == set()

    def test_query_order_and_limit(self, store: Store) -> None:
        t = datetime(2026, 11, 23, 12, tzinfo=UTC)
        rows = (
            _row("late", due_at=t + timedelta(days=2)),
            _row("none", due_at=None),
            _row("early", due_at=t),
            _row("urgent", priority=3, due_at=t + timedelta(days=9)),
            _row("b-same", patient_id="p-2", due_at=t + timedelta(days=1)),
            _row("a-same", patient_id="p-2", due_at=t + timedelta(days=1)),
            _row("z-same", patient_id="p-1", due_at=t + timedelta(days=1)),
        )
        store.write([_write("CarePlan", "plan", 0, index=rows)])
        order = [h.row.item_id for h in store.query(WorkQuery(category="intervention"))]
        assert order == ["urgent", "early", "z-same", "a-same", "b-same", "late", "none"]
        limited = store.query(WorkQuery(category="intervention", limit=2))
        assert [h.row.item_id for h in limited] == ["urgent", "early"]

    def test_query_orders_by_instant_across_zones(self, store: Store) -> None:
        # 00:00, 07:00 and 03:00 UTC: wall-clock order would be wrong.
        tokyo = datetime(2026, 6, 1, 9, tzinfo=ZoneInfo("Asia/Tokyo"))
        london = datetime(2026, 6, 1, 8, tzinfo=ZoneInfo("Europe/London"))
        chicago = datetime(2026, 5, 31, 22, tzinfo=ZoneInfo("America/Chicago"))
        rows = (_row("london", due_at=london), _row("tokyo", due_at=tokyo))
        store.write([_write("CarePlan", "plan", 0, index=(*rows, _row("chi", due_at=chicago)))])
        hits = store.query(WorkQuery(category="intervention"))
        assert [h.row.item_id for h in hits] == ["tokyo", "chi", "london"]
        for hit in hits:
            assert hit.row.due_at is not None and hit.row.due_at.utcoffset() is not None
        assert hits[0].row.due_at == tokyo
        before = store.query(WorkQuery(category="intervention", due_before=london))
        assert [h.row.item_id for h in before] == ["tokyo", "chi"]

    def test_query_keeps_ambiguous_local_times_apart(self, store: Store) -> None:
        # 01:30 happens twice in New York on 2026-11-01: EDT first (fold 0), EST an hour later.
        new_york = ZoneInfo("America/New_York")
        first = datetime(2026, 11, 1, 1, 30, tzinfo=new_york)
        second = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=new_york)
        rows = (_row("second", due_at=second), _row("first", due_at=first))
        store.write([_write("CarePlan", "plan", 0, index=rows)])
        hits = store.query(WorkQuery(category="intervention"))
        assert [h.row.item_id for h in hits] == ["first", "second"]
        got = [h.row.due_at for h in hits]
        assert all(moment is not None for moment in got)
        assert [m.astimezone(UTC) for m in got if m is not None] == [
            datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
            datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
        ]
        between = store.query(
            WorkQuery(
                category="intervention",
                due_from=datetime(2026, 11, 1, 6, tzinfo=UTC),
                due_before=datetime(2026, 11, 1, 7, tzinfo=UTC),
            )
        )
        assert [h.row.item_id for h in between] == ["second"]

    def test_query_keeps_every_row_field(self, store: Store) -> None:
        t = datetime(2026, 11, 23, 12, 30, 15, 123456, tzinfo=UTC)
        row = IndexRow(
            category="outbox",
            item_id="n-1",
            patient_id="p-1",
            owner_id="ma-1",
            status="pending",
            is_open=True,
            priority=-2,
            due_at=t,
            changed_at=t - timedelta(microseconds=1),
            detail="InterventionAssigned",
        )
        store.write([_write("Notification", "n-1", 0, index=(row,))])
        (hit,) = store.query(WorkQuery(category="outbox"))
        assert hit == IndexHit(kind="Notification", record_id="n-1", version=1, row=row)

    # --------------------------------------------------- through UnitOfWork
    @settings(
        max_examples=60,
        deadline=None,
        # The store fixture is only written to (never reset) between examples,
        # and each subclass runs the same method: both are intended here.
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.differing_executors,
            HealthCheck.too_slow,
        ],
    )
    @given(record=st.one_of(*ENTITY_STRATEGIES.values()))
    def test_every_aggregate_round_trips(self, store: Store, record: Any) -> None:
        cls = type(record)
        with UnitOfWork(store) as uow:
            if uow.find(cls, record.id) is None:
                uow.add(record)
            else:
                uow.save(record)
        with UnitOfWork(store) as uow:
            got = uow.get(cls, record.id)
        assert got == record
        # Equality of aware datetimes ignores the zone; the payload does not.
        assert to_payload(got) == to_payload(record)

    def test_time_zones_are_preserved(self, store: Store) -> None:
        for index, zone in enumerate(ZONES):
            start = datetime(2026, 3, 29, 1, 30, tzinfo=zone)
            appointment = Appointment(
                id=AppointmentId(f"a-{index}"),
                patient_id=PatientId("p-1"),
                start=start,
                end=start + timedelta(hours=3),
                provider="clinic",
                location="room 1",
            )
            with UnitOfWork(store) as uow:
                uow.add(appointment)
            with UnitOfWork(store) as uow:
                got = uow.get(Appointment, appointment.id)
            assert got.start.tzinfo == zone and got.start.replace(tzinfo=None) == datetime(
                2026, 3, 29, 1, 30
            )
            assert got == appointment

    def test_unit_of_work_versions(self, store: Store) -> None:
        with UnitOfWork(store) as uow:
            uow.add(_patient("p-1"))
        with UnitOfWork(store) as uow:
            patient = uow.get(Patient, "p-1")
            assert uow.version_of(Patient, "p-1") == 1
            uow.save(patient)
        assert uow.committed_versions == {("Patient", "p-1"): 2}
        stored = store.read("Patient", "p-1")
        assert stored is not None and stored.version == 2

    def test_unit_of_work_rollback_on_error_writes_nothing(self, store: Store) -> None:
        class Boom(Exception):
            pass

        def work() -> None:
            with UnitOfWork(store) as uow:
                uow.add(_patient("p-1"))
                uow.add(_plan("plan-1", "p-1", _task("t-1", "ma-1", _T0)))
                raise Boom

        with pytest.raises(Boom):
            work()
        assert store.read("Patient", "p-1") is None
        assert store.read("CarePlan", "plan-1") is None
        assert list(store.query(WorkQuery(category="intervention"))) == []

    def test_unit_of_work_conflict_writes_nothing(self, store: Store) -> None:
        with UnitOfWork(store) as uow:
            uow.add(_patient("p-1"))
            uow.add(_plan("plan-1", "p-1"))
        first, second = UnitOfWork(store), UnitOfWork(store)
        plan_a = first.get(CarePlan, "plan-1")
        plan_b = second.get(CarePlan, "plan-1")
        second.save(plan_b.with_intervention(_task("t-b", "ma-2", _T0)))
        second.commit()
        first.save(plan_a.with_intervention(_task("t-a", "ma-1", _T0)))
        first.add(_patient("p-2"))
        with pytest.raises(ConflictError):
            first.commit()
        assert store.read("Patient", "p-2") is None
        with UnitOfWork(store) as uow:
            plan = uow.get(CarePlan, "plan-1")
        assert [str(i.id) for i in plan.interventions] == ["t-b"]

    def test_units_of_work_are_isolated(self, store: Store) -> None:
        writer, reader = UnitOfWork(store), UnitOfWork(store)
        writer.add(_patient("p-1"))
        assert reader.find(Patient, "p-1") is None  # not visible before commit
        assert writer.find(Patient, "p-1") is not None  # a unit sees its own writes
        writer.commit()
        assert reader.find(Patient, "p-1") is not None
        reader.rollback()

    def test_worklist_index_follows_the_plan(self, store: Store) -> None:
        due = datetime(2026, 11, 24, 9, tzinfo=ZoneInfo("America/New_York"))
        plan = _plan(
            "plan-1",
            "p-1",
            _task("t-1", "ma-1", due),
            _task("t-2", "ma-2", due, TaskPriority.STAT),
            _task("t-3", "ma-1", None),
        )
        with UnitOfWork(store) as uow:
            uow.add(plan)
        mine = store.query(WorkQuery(category="intervention", owner_ids=("ma-1",)))
        assert [h.row.item_id for h in mine] == ["t-1", "t-3"]
        assert mine[0].row.due_at == due
        everyone = store.query(WorkQuery(category="intervention"))
        assert everyone[0].row.item_id == "t-2"  # stat first
        with UnitOfWork(store) as uow:
            current = uow.get(CarePlan, "plan-1")
            cancelled = current.intervention(InterventionId("t-1")).transition(
                "cancelled", by=StaffId("ma-1"), at=due, reason="not needed"
            )
            uow.save(current.with_intervention(cancelled))
        mine = store.query(WorkQuery(category="intervention", owner_ids=("ma-1",)))
        assert [h.row.item_id for h in mine] == ["t-3"]

    def test_missing_record_is_not_found(self, store: Store) -> None:
        with UnitOfWork(store) as uow, pytest.raises(NotFoundError):
            uow.get(CarePlan, "nope")

    # ----------------------------------------------------------- concurrency
    def _run_threads(self, target: Callable[[int], None], count: int) -> None:
        errors: list[BaseException] = []
        barrier = threading.Barrier(count)

        def run(number: int) -> None:
            try:
                barrier.wait()
                target(number)
            except BaseException as exc:  # reported below, in the test's thread
                errors.append(exc)

        workers = [threading.Thread(target=run, args=(n,)) for n in range(count)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
        assert not any(w.is_alive() for w in workers), "a writer thread hung"
        if errors:
            raise errors[0]

    def test_two_writers_of_one_version_one_wins(self, store: Store) -> None:
        store.write([_write("CarePlan", "plan", 0)])
        outcomes: list[str] = []
        lock = threading.Lock()

        def writer(number: int) -> None:
            try:
                store.write([_write("CarePlan", "plan", 1, {"by": number})])
                result = "won"
            except ConflictError:
                result = "conflict"
            with lock:
                outcomes.append(result)

        self._run_threads(writer, 2)
        assert sorted(outcomes) == ["conflict", "won"]
        got = store.read("CarePlan", "plan")
        assert got is not None and got.version == 2

    def test_concurrent_updates_lose_nothing(self, store: Store) -> None:
        store.write([_write("Counter", "shared", 0, {"count": 0})])
        conflicts: list[ConflictError] = []
        lock = threading.Lock()

        def worker(number: int) -> None:
            own = f"own-{number}"
            store.write([_write("Counter", own, 0, {"count": 0})])
            for _ in range(self.updates_per_thread):
                while True:  # read-modify-write with retry on conflict
                    current = store.read("Counter", "shared")
                    assert current is not None
                    count = json.loads(current.payload)["count"]
                    try:
                        store.write(
                            [_write("Counter", "shared", current.version, {"count": count + 1})]
                        )
                        break
                    except ConflictError as exc:
                        with lock:
                            conflicts.append(exc)
                mine = store.read("Counter", own)
                assert mine is not None
                value = json.loads(mine.payload)["count"] + 1
                store.write([_write("Counter", own, mine.version, {"count": value})])

        self._run_threads(worker, self.threads)
        total = self.threads * self.updates_per_thread
        shared = store.read("Counter", "shared")
        assert shared is not None
        assert json.loads(shared.payload)["count"] == total
        assert shared.version == total + 1
        for number in range(self.threads):
            own = store.read("Counter", f"own-{number}")
            assert own is not None
            assert json.loads(own.payload)["count"] == self.updates_per_thread
        assert all(c.kind == "Counter" and c.record_id == "shared" for c in conflicts)

    def test_concurrent_units_of_work_on_different_plans(self, store: Store) -> None:
        with UnitOfWork(store) as uow:
            for number in range(self.threads):
                uow.add(_plan(f"plan-{number}", f"p-{number}"))

        def worker(number: int) -> None:
            for step in range(self.updates_per_thread):
                with UnitOfWork(store) as uow:
                    plan = uow.get(CarePlan, f"plan-{number}")
                    task = _task(f"t-{number}-{step}", f"ma-{number}", _T0)
                    uow.save(plan.with_intervention(task))

        self._run_threads(worker, self.threads)
        for number in range(self.threads):
            hits = store.query(WorkQuery(category="intervention", owner_ids=(f"ma-{number}",)))
            assert len(hits) == self.updates_per_thread
            assert {h.version for h in hits} == {self.updates_per_thread + 1}


# ------------------------------------------------------------------ stateful

_KINDS = ("CarePlan", "Referral")
_RECORD_IDS = ("r-1", "r-2", "r-3")
_PATIENTS = ("p-1", "p-2", None)
_OWNERS = ("ma-1", "ma-2", None)
_STATUSES = ("ready", "in-progress", "completed")
_DUES = st.none() | st.builds(
    lambda minutes, zone: (
        datetime(2026, 11, 23, tzinfo=UTC) + timedelta(minutes=minutes)
    ).astimezone(zone),
    st.integers(0, 60 * 24 * 4),
    st.sampled_from(ZONES),
)


@st.composite
def _rows(draw: st.DrawFn, record_id: str) -> tuple[IndexRow, ...]:
    count = draw(st.integers(0, 3))
    return tuple(
        IndexRow(
            category=draw(st.sampled_from(("intervention", "review"))),
            item_id=f"{record_id}-{number}",
            patient_id=draw(st.sampled_from(_PATIENTS)),
            owner_id=draw(st.sampled_from(_OWNERS)),
            status=draw(st.sampled_from(_STATUSES)),
            is_open=draw(st.booleans()),
            priority=draw(st.integers(0, 2)),
            due_at=draw(_DUES),
            changed_at=draw(_DUES),
        )
        for number in range(count)
    )


@st.composite
def _batches(draw: st.DrawFn) -> list[tuple[str, str, int | None, int, tuple[IndexRow, ...]]]:
    """(kind, id, version offset or None for "the right one", payload n, rows)."""
    keys = draw(
        st.lists(
            st.tuples(st.sampled_from(_KINDS), st.sampled_from(_RECORD_IDS)),
            unique=True,
            min_size=1,
            max_size=3,
        )
    )
    return [
        (
            kind,
            record_id,
            draw(st.none() | st.sampled_from((-1, 1, 5))),
            draw(st.integers(0, 1000)),
            draw(_rows(f"{kind}-{record_id}")),
        )
        for kind, record_id in keys
    ]


_QUERIES = st.builds(
    WorkQuery,
    category=st.sampled_from(("intervention", "review")),
    owner_ids=st.none() | st.lists(st.sampled_from(("ma-1", "ma-2")), max_size=2).map(tuple),
    patient_ids=st.none() | st.lists(st.sampled_from(("p-1", "p-2")), max_size=2).map(tuple),
    statuses=st.none() | st.lists(st.sampled_from(_STATUSES), max_size=2).map(tuple),
    open_only=st.booleans(),
    due_before=st.none() | _DUES,
    due_from=st.none() | _DUES,
    changed_before=st.none() | _DUES,
    limit=st.none() | st.integers(0, 5),
)


def _utc(hit: IndexHit) -> IndexHit:
    """``hit`` with its times in UTC: stores may return UTC, and Python never
    finds an ambiguous (DST fall-back) local time equal to a time in another zone."""
    row = hit.row
    return attrs.evolve(
        hit,
        row=attrs.evolve(
            row,
            due_at=None if row.due_at is None else row.due_at.astimezone(UTC),
            changed_at=None if row.changed_at is None else row.changed_at.astimezone(UTC),
        ),
    )


class _Reference:
    """The plain model a store is checked against."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], StoredRecord] = {}
        self.rows: dict[tuple[str, str], tuple[IndexRow, ...]] = {}

    def version(self, kind: str, record_id: str) -> int:
        current = self.records.get((kind, record_id))
        return current.version if current else 0

    def write(self, batch: list[RecordWrite]) -> bool:
        if any(self.version(w.kind, w.id) != w.expected_version for w in batch):
            return False
        for w in batch:
            self.records[(w.kind, w.id)] = StoredRecord(
                w.kind, w.id, w.expected_version + 1, w.payload, w.patient_id
            )
            self.rows[(w.kind, w.id)] = w.index
        return True

    def query(self, query: WorkQuery) -> list[IndexHit]:
        hits = [
            IndexHit(kind, record_id, self.records[(kind, record_id)].version, row)
            for (kind, record_id), rows in self.rows.items()
            for row in rows
        ]
        return run_query(query, hits)


def make_stateful_test(factory: Callable[[], Store]) -> type[RuleBasedStateMachine]:
    """A Hypothesis state machine checking stores made by ``factory`` against a reference.

    Use its ``TestCase`` attribute as a test class::

        TestMyStoreStateful = make_stateful_test(MyStore).TestCase

    Every step writes a random batch (some versions deliberately stale), reads,
    lists or queries, and checks the store agrees with a plain in-memory model:
    the same conflicts, versions, payloads and worklist answers in the same order.
    """

    class StoreStateMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.store = factory()
            self.reference = _Reference()

        @rule(batch=_batches())
        def write(
            self, batch: list[tuple[str, str, int | None, int, tuple[IndexRow, ...]]]
        ) -> None:
            writes = []
            for kind, record_id, offset, number, rows in batch:
                expected = self.reference.version(kind, record_id)
                if offset is not None:
                    expected = max(0, expected + offset)
                patient = rows[0].patient_id if rows else None
                writes.append(
                    RecordWrite(
                        kind=kind,
                        id=record_id,
                        expected_version=expected,
                        payload=json.dumps({"n": number}),
                        patient_id=patient,
                        index=rows,
                    )
                )
            accepted = self.reference.write(writes)
            if accepted:
                self.store.write(writes)
            else:
                with pytest.raises(ConflictError):
                    self.store.write(writes)

        @rule(kind=st.sampled_from(_KINDS), record_id=st.sampled_from(_RECORD_IDS))
        def read(self, kind: str, record_id: str) -> None:
            assert self.store.read(kind, record_id) == self.reference.records.get((kind, record_id))

        @rule(kind=st.sampled_from(_KINDS), patient=st.sampled_from(_PATIENTS))
        def read_all(self, kind: str, patient: str | None) -> None:
            expected = sorted(
                (
                    r
                    for (k, _), r in self.reference.records.items()
                    if k == kind and (patient is None or r.patient_id == patient)
                ),
                key=lambda r: r.id,
            )
            assert list(self.store.read_all(kind, patient_id=patient)) == expected

        @rule(query=_QUERIES)
        def query(self, query: WorkQuery) -> None:
            found = [_utc(h) for h in self.store.query(query)]
            assert found == [_utc(h) for h in self.reference.query(query)]

        @invariant()
        def everything_agrees(self) -> None:
            for kind, record_id in self.reference.records:
                assert self.store.read(kind, record_id) == self.reference.records[(kind, record_id)]

        def teardown(self) -> None:
            self.store.close()

    StoreStateMachine.TestCase.settings = settings(
        max_examples=40, stateful_step_count=15, deadline=None
    )
    name = getattr(factory, "__name__", "Store")
    StoreStateMachine.__name__ = StoreStateMachine.__qualname__ = f"{name}StateMachine"
    return StoreStateMachine
