"""Barriers whose interventions are done (issue 17): the coordinator confirms them resolved.

The rule (``carecoord.caseload.barrier_work_done``): when no intervention
linked to an open barrier is open any more and at least one was completed, the
barrier shows on the worklist as ``barrier-to-confirm`` (due when the last of
that work closed) instead of ``barrier``. carecoord never resolves it on its
own; a person does, with ``resolve_barrier``. Served by the plans'
``barrier-work`` index rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carecoord import (
    Barrier,
    BarrierId,
    BarrierKind,
    CarePlan,
    CarePlanId,
    Intervention,
    InterventionId,
    InterventionKind,
    TaskStatus,
)
from carecoord.caseload import Worklist, WorklistCategory, barrier_work_done
from carecoord.service import CareCoordinator
from carecoord.storage import MemoryStore, StoredRecord
from carecoord.storage.records import index_rows
from carecoord.testing import FixedClock
from world import COORD, NURSE, PATIENT, PLAN, T0, populate

BARRIER = BarrierId("b-bus")
HOUR = timedelta(hours=1)
_CLOSED = {"completed", "cancelled", "failed", "rejected"}


# ----------------------------------------------------------------- the rule
def _oracle(work: Sequence[tuple[str, datetime | None]]) -> datetime | None:
    counted = [(s, at) for s, at in work if s != "entered-in-error"]
    if "completed" not in {s for s, _ in counted} or {s for s, _ in counted} - _CLOSED:
        return None
    times = [at for _, at in counted if at is not None]
    return max(times) if times else None


@given(
    st.lists(
        st.tuples(
            st.sampled_from([s.value for s in TaskStatus]),
            st.one_of(st.none(), st.integers(0, 100).map(lambda h: T0 + h * HOUR)),
        ),
        max_size=6,
    )
)
def test_the_rule_is_the_plain_python_oracle(work: list[tuple[str, datetime | None]]) -> None:
    assert barrier_work_done(work) == _oracle(work)


@pytest.mark.parametrize(
    ("statuses", "done"),
    [
        ((), False),
        (("completed",), True),
        (("completed", "cancelled", "failed"), True),
        (("completed", "ready"), False),
        (("completed", "on-hold"), False),
        (("cancelled",), False),  # nothing was done: the barrier does not look resolved
        (("cancelled", "failed", "rejected"), False),
        (("completed", "entered-in-error"), True),
        (("entered-in-error",), False),
    ],
)
def test_the_rule_by_example(statuses: tuple[str, ...], done: bool) -> None:
    work = [(s, T0 + n * HOUR) for n, s in enumerate(statuses)]
    assert (barrier_work_done(work) is not None) is done
    if done:
        closed = [at for s, at in work if s != "entered-in-error"]
        assert barrier_work_done(work) == max(closed)


# ------------------------------------------------------------------- service
class CountingStore(MemoryStore):
    """A memory store that remembers which record kinds were read."""

    def __init__(self) -> None:
        super().__init__()
        self.kinds_read: list[str] = []

    def read(self, kind: str, record_id: str) -> StoredRecord | None:
        self.kinds_read.append(kind)
        return super().read(kind, record_id)

    def read_all(self, kind: str, *, patient_id: str | None = None) -> Sequence[StoredRecord]:
        self.kinds_read.append(kind)
        return super().read_all(kind, patient_id=patient_id)


def _task(name: str, *barriers: BarrierId) -> Intervention:
    return Intervention(
        id=InterventionId(name),
        kind=InterventionKind.RESOURCE_COORDINATION,
        description="Arrange transport",
        created_at=T0,
        assignee_id=NURSE,
        due=T0 + 30 * 24 * HOUR,
        barrier_ids=barriers,
    )


def _world() -> tuple[CareCoordinator, CountingStore, FixedClock]:
    store = CountingStore()
    clock = FixedClock(T0)
    service = CareCoordinator(store, clock=clock)
    populate(service, clock)
    barrier = Barrier(
        id=BARRIER,
        patient_id=PATIENT,
        kind=BarrierKind.TRANSPORT,
        identified_at=T0,
        identified_by=COORD,
    )
    service.record_barrier(barrier, actor=COORD)
    service.add_intervention(PLAN, _task("i-bus-pass", BARRIER), actor=COORD)
    service.add_intervention(PLAN, _task("i-volunteer", BARRIER), actor=COORD)
    service.add_intervention(PLAN, _task("i-other"), actor=COORD)
    return service, store, clock


def _barrier_items(worklist: Worklist) -> list[tuple[str, str]]:
    wanted = (WorklistCategory.BARRIER, WorklistCategory.BARRIER_TO_CONFIRM)
    return [(i.category.value, i.item_id) for i in worklist.of(*wanted)]


def _move(service: CareCoordinator, name: str, status: str, clock: FixedClock) -> None:
    _finish(service, PLAN, name, status, clock)


def _finish(
    service: CareCoordinator, plan: CarePlanId, name: str, status: str, clock: FixedClock
) -> None:
    """Move an intervention to ``status`` an hour later (through in-progress to complete it)."""
    clock.advance(HOUR)
    if status == "completed":
        service.set_intervention_status(plan, InterventionId(name), "in-progress", actor=COORD)
    reason = None if status == "completed" else "no longer needed"
    service.set_intervention_status(plan, InterventionId(name), status, actor=COORD, reason=reason)


def test_a_barrier_whose_work_is_done_asks_to_be_confirmed_resolved() -> None:
    service, store, clock = _world()
    assert _barrier_items(service.worklist(COORD, actor=COORD)) == [("barrier", BARRIER)]
    _move(service, "i-bus-pass", "completed", clock)
    # other work on the barrier is still open: still a plain barrier
    assert _barrier_items(service.worklist(COORD, actor=COORD)) == [("barrier", BARRIER)]
    _move(service, "i-volunteer", "cancelled", clock)
    store.kinds_read.clear()
    worklist = service.worklist(COORD, actor=COORD)
    assert "CarePlan" not in store.kinds_read  # from index rows, no plan decoded
    assert _barrier_items(worklist) == [("barrier-to-confirm", BARRIER)]
    (item,) = worklist.of("barrier-to-confirm")
    assert (item.status, item.detail, item.record_id) == ("open", "transport", BARRIER)
    assert item.due == clock.now()  # when the last work on it closed
    # carecoord does not resolve it: a person confirms
    (barrier,) = service.barriers_of(PATIENT, actor=COORD)
    assert barrier.resolution is None
    service.resolve_barrier(BARRIER, "Bus pass in use", actor=COORD)
    assert _barrier_items(service.worklist(COORD, actor=COORD)) == []


def test_new_work_on_the_barrier_makes_it_a_plain_barrier_again() -> None:
    service, _, clock = _world()
    _move(service, "i-bus-pass", "completed", clock)
    _move(service, "i-volunteer", "completed", clock)
    assert _barrier_items(service.worklist(COORD, actor=COORD)) == [("barrier-to-confirm", BARRIER)]
    service.add_intervention(PLAN, _task("i-taxi", BARRIER), actor=COORD)
    assert _barrier_items(service.worklist(COORD, actor=COORD)) == [("barrier", BARRIER)]


def test_work_that_was_only_cancelled_leaves_a_plain_barrier() -> None:
    service, _, clock = _world()
    _move(service, "i-bus-pass", "cancelled", clock)
    _move(service, "i-volunteer", "entered-in-error", clock)
    assert _barrier_items(service.worklist(COORD, actor=COORD)) == [("barrier", BARRIER)]


def test_work_in_another_plan_counts_and_the_team_scope_sees_it() -> None:
    service, _, clock = _world()
    other = CarePlanId("plan-social")
    service.create_care_plan(
        CarePlan(id=other, patient_id=PATIENT, author_id=COORD, created_at=T0), actor=COORD
    )
    service.add_intervention(other, _task("i-social", BARRIER), actor=COORD)
    _move(service, "i-bus-pass", "completed", clock)
    _move(service, "i-volunteer", "completed", clock)
    assert _barrier_items(service.worklist(COORD, actor=COORD)) == [("barrier", BARRIER)]
    _finish(service, other, "i-social", "completed", clock)
    team = service.worklist(NURSE, actor=NURSE, scope="team")
    assert _barrier_items(team) == [("barrier-to-confirm", BARRIER)]


def test_the_plan_index_rows_name_the_work_on_each_barrier() -> None:
    service, _, clock = _world()
    _move(service, "i-bus-pass", "completed", clock)
    plan = service.care_plan(PLAN, actor=COORD)
    rows = [r for r in index_rows(plan) if r.category == "barrier-work"]
    assert sorted((r.item_id, r.detail, r.status, r.is_open) for r in rows) == [
        (BARRIER, "i-bus-pass", "completed", False),
        (BARRIER, "i-volunteer", "ready", True),
    ]
    assert all(r.patient_id == PATIENT for r in rows)
