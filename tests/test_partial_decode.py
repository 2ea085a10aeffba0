"""Reading one element of a stored record: ``UnitOfWork.find_part`` and ``interventions_due``.

A part read decodes only the element asked for (an intervention of a care
plan), with the record's id and patient, and gives what decoding the whole
record gives, on both JSON backends and on the memory and SQLite stores. A
stored plan damaged where the part read looks still raises the
:class:`~carecoord.StorageError` of the whole read; the identity map and the
version a save is checked against are kept.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given

from carecoord import (
    CarePlan,
    ConflictError,
    Goal,
    GoalId,
    Intervention,
    InterventionId,
    InterventionKind,
    NeedId,
    StorageError,
    TaskPriority,
    _json,
    make_converter,
)
from carecoord.caseload import DueIntervention
from carecoord.service import CareCoordinator
from carecoord.storage import MemoryStore, Store, StoredRecord, UnitOfWork, WorkQuery
from carecoord.storage._codec import PartReader, encode_record
from carecoord.testing import FixedClock, ForwardingStore
from test_fast_codec import _same, _some
from test_fuzz import RECORD_STRATEGIES
from world import COORD, MA, NURSE, PATIENT, PLAN, T0, populate

BACKENDS = ["orjson", "stdlib"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test on each JSON backend (orjson only where it is installed)."""
    if request.param == "orjson" and importlib.util.find_spec("orjson") is None:
        pytest.skip("orjson is not installed")
    previous = _json.use_orjson(request.param == "orjson")
    yield request.param
    _json.use_orjson(previous)


class CountingStore(ForwardingStore):
    """Counts the records read one by one."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.reads = 0

    def read(self, kind: str, record_id: str) -> StoredRecord | None:
        self.reads += 1
        return super().read(kind, record_id)


# ------------------------------------------------------------- any plan


@_some(60)
@given(RECORD_STRATEGIES[CarePlan])
def test_every_part_of_any_plan_reads_as_the_whole_plan_holds_it(plan: CarePlan) -> None:
    """The part reader covers every plan carecoord writes, and agrees with the whole read."""
    for name in BACKENDS:
        if name == "orjson" and importlib.util.find_spec("orjson") is None:
            continue
        previous = _json.use_orjson(name == "orjson")
        try:
            write = encode_record(plan, 0)
            stored = StoredRecord(write.kind, write.id, 2, write.payload, write.patient_id)
            store = MemoryStore()
            store.write([write])
            reader = PartReader(stored, CarePlan)
            with UnitOfWork(store) as whole:
                full = whole.get(CarePlan, str(plan.id))
            for field, cls in (("interventions", Intervention), ("goals", Goal)):
                for element in getattr(full, field):
                    part = reader.part(field, str(element.id), cls)
                    assert part is not None, "a part carecoord wrote is read on its own"
                    assert _same(part.item, element)
                    assert _same(part.record_id, full.id)
                    assert _same(part.patient_id, full.patient_id)
                    with UnitOfWork(store) as uow:
                        got = uow.find_part(CarePlan, str(plan.id), field, str(element.id), cls)
                    assert got is not None and _same(got.item, element)
        finally:
            _json.use_orjson(previous)


# ------------------------------------------------------------ a world


def _item(n: int, **changes: Any) -> Intervention:
    made = Intervention(
        id=InterventionId(f"i-{n}"),
        kind=InterventionKind.MONITORING,
        description=f"Check readings, visit {n}",
        created_at=T0 - timedelta(days=10),
        assignee_id=MA,
        priority=TaskPriority.ROUTINE,
        due=T0 + timedelta(hours=6 * n - 30),
        goal_ids=(GoalId("g-1"),) if n % 2 else (),
    )
    return attrs.evolve(made, **changes)


def _plan_with_work(store: Store) -> CarePlan:
    """The world's plan with a goal and interventions of several assignees and states."""
    with UnitOfWork(store) as uow:
        plan = uow.get(CarePlan, str(PLAN))
        started = _item(3).transition("in-progress", by=MA, at=T0 - timedelta(days=1))
        done = (
            _item(4)
            .transition("in-progress", by=MA, at=T0 - timedelta(days=3))
            .transition("completed", by=MA, at=T0 - timedelta(days=2))
        )
        items = (
            _item(1, priority=TaskPriority.STAT),
            _item(2, assignee_id=NURSE),
            started,
            done,
            _item(5, priority=TaskPriority.URGENT),
            _item(6, due=None),
            _item(7),
        )
        goal = Goal(id=GoalId("g-1"), description="Walk daily", addresses=(NeedId("n-1"),))
        changed = attrs.evolve(plan, addresses=(NeedId("n-1"),), goals=(goal,), interventions=items)
        uow.save(changed)
    return changed


@pytest.fixture
def service(any_store: Store) -> CareCoordinator:
    clock = FixedClock(T0)
    made = CareCoordinator(store=any_store, clock=clock)
    populate(made, clock)
    _plan_with_work(any_store)
    return made


def _as_before(store: Store, staff: str, until: Any) -> list[DueIntervention]:
    """``interventions_due`` as it was computed before part reads: whole plans decoded."""
    query = WorkQuery(category="intervention", owner_ids=(staff,), due_before=until)
    with UnitOfWork(store) as uow:
        items = []
        for hit in uow.query(query):
            plan = uow.get(CarePlan, hit.record_id)
            item = plan.intervention(InterventionId(hit.row.item_id))
            items.append(DueIntervention(plan.patient_id, plan.id, item, item.is_overdue(T0)))
    return items


@pytest.mark.parametrize("staff", [MA, NURSE])
@pytest.mark.parametrize("days", [0, 1, 3])
def test_interventions_due_gives_what_decoding_whole_plans_gives(
    service: CareCoordinator, any_store: Store, staff: Any, days: int
) -> None:
    until = T0 + timedelta(days=days)
    got = service.interventions_due(staff, actor=COORD, until=until)
    expected = _as_before(any_store, str(staff), until)
    assert got == expected
    assert all(_same(a, b) for a, b in zip(got, expected, strict=True))
    assert got, "the world has work due for everyone asked"


# ------------------------------------------------------------ damage


def _damage(store: Store, change: Any) -> None:
    """Store the plan's payload changed by ``change`` (its index rows kept valid)."""
    with UnitOfWork(store) as uow:
        plan = uow.get(CarePlan, str(PLAN))
        version = uow.version_of(CarePlan, str(PLAN))
    payload = json.loads(encode_record(plan, version).payload)
    text = change(payload)
    store.write([encode_record(plan, version, payload=text)])


def _set_item(key: str, value: Any) -> Any:
    def change(payload: dict[str, Any]) -> str:
        payload["data"]["interventions"][0][key] = value
        return json.dumps(payload)

    return change


DAMAGE = {
    "not-json": lambda payload: json.dumps(payload)[:-7],
    "wrong-type": lambda payload: json.dumps({**payload, "type": "Note"}),
    "future-version": lambda payload: json.dumps({**payload, "schema_version": 99}),
    "bad-status": _set_item("status", "nonsense"),
    "bad-due": _set_item("due", "yesterday"),
    "unknown-key": _set_item("colour", "red"),
    "goal-not-in-plan": _set_item("goal_ids", ["g-elsewhere"]),
    "bad-patient": lambda payload: json.dumps(
        {**payload, "data": {**payload["data"], "patient_id": 7}}
    ),
}


@pytest.mark.parametrize("name", sorted(DAMAGE))
def test_a_damaged_plan_raises_the_storage_error_of_the_whole_read(
    service: CareCoordinator, any_store: Store, backend: str, name: str
) -> None:
    _damage(any_store, DAMAGE[name])
    with pytest.raises(StorageError) as whole, UnitOfWork(any_store) as uow:
        uow.get(CarePlan, str(PLAN))
    with pytest.raises(StorageError) as part, UnitOfWork(any_store) as uow:
        uow.find_part(CarePlan, str(PLAN), "interventions", "i-1", Intervention)
    assert str(part.value) == str(whole.value)
    with pytest.raises(StorageError) as due:
        service.interventions_due(MA, actor=COORD, until=T0 + timedelta(days=3))
    assert str(due.value) == str(whole.value)


def test_damage_outside_the_part_is_left_to_whole_reads(
    service: CareCoordinator, any_store: Store
) -> None:
    """Only what is shown is decoded: a broken goal does not stop the interventions."""

    def change(payload: dict[str, Any]) -> str:
        payload["data"]["goals"][0]["priority"] = "nonsense"
        return json.dumps(payload)

    _damage(any_store, change)
    items = service.interventions_due(MA, actor=COORD, until=T0 + timedelta(days=3))
    assert [str(i.intervention.id) for i in items][:1] == ["i-1"]
    with pytest.raises(StorageError), UnitOfWork(any_store) as uow:
        uow.get(CarePlan, str(PLAN))


# ------------------------------------------------- the unit of work


def test_a_plan_already_read_or_pending_gives_its_own_element() -> None:
    store = MemoryStore()
    _stored_plan(store)
    with UnitOfWork(store) as uow:
        loaded = uow.get(CarePlan, str(PLAN))
        part = uow.find_part(CarePlan, str(PLAN), "interventions", "i-1", Intervention)
        assert part is not None and part.item is loaded.interventions[1]
        changed = attrs.evolve(
            loaded, interventions=(_item(1, description="Changed", goal_ids=()),)
        )
        uow.save(changed)
        pending = uow.find_part(CarePlan, str(PLAN), "interventions", "i-1", Intervention)
        assert pending is not None and pending.item is changed.interventions[0]
        assert uow.find_part(CarePlan, str(PLAN), "interventions", "i-2", Intervention) is None


def _stored_plan(store: Store) -> CarePlan:
    plan = CarePlan(
        id=PLAN,
        patient_id=PATIENT,
        author_id=COORD,
        created_at=T0,
        interventions=(_item(2), _item(1, goal_ids=())),
    )
    with UnitOfWork(store) as uow:
        uow.add(plan)
    return plan


def test_a_part_read_records_the_version_and_keeps_the_stored_record() -> None:
    store = CountingStore(MemoryStore())
    _stored_plan(store)
    with UnitOfWork(store) as uow:
        part = uow.find_part(CarePlan, str(PLAN), "interventions", "i-1", Intervention)
        again = uow.find_part(CarePlan, str(PLAN), "interventions", "i-2", Intervention)
        assert part is not None and again is not None
        assert (part.record_id, part.patient_id) == (PLAN, PATIENT)
        assert uow.version_of(CarePlan, str(PLAN)) == 1
        reads = store.reads
        # a concurrent change after the part read: this unit keeps what it read
        with UnitOfWork(store) as other:
            plan = other.get(CarePlan, str(PLAN))
            other.save(attrs.evolve(plan, title="Changed elsewhere"))
        whole = uow.get(CarePlan, str(PLAN))
        assert store.reads == reads + 1  # the other unit's read only
        assert whole.title == "Care plan"  # version 1, as first read
        assert whole.interventions[1] == part.item
        assert uow.find_part(CarePlan, str(PLAN), "interventions", "i-1", Intervention) == (
            attrs.evolve(part, item=whole.interventions[1])
        )
        uow.save(attrs.evolve(whole, title="Changed here"))
        with pytest.raises(ConflictError):
            uow.commit()


def test_missing_records_and_elements_are_none_and_host_converters_read_whole() -> None:
    store = MemoryStore()
    _stored_plan(store)
    with UnitOfWork(store) as uow:
        assert uow.find_part(CarePlan, "plan-none", "interventions", "i-1", Intervention) is None
        assert uow.find_part(CarePlan, str(PLAN), "interventions", "i-9", Intervention) is None
    with UnitOfWork(store, converter=make_converter()) as uow:
        part = uow.find_part(CarePlan, str(PLAN), "interventions", "i-1", Intervention)
        assert part is not None
        assert part.item is uow.get(CarePlan, str(PLAN)).interventions[1]
