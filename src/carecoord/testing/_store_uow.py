"""Storage conformance tests: aggregates through the unit of work.

Part of :class:`carecoord.testing.store.StoreContract` (subclass that): every
aggregate round-trips (generated with Hypothesis), time zones are preserved,
versions, rollback, conflicts and isolation of units of work, and the worklist
index following a plan.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..model import (
    Appointment,
    AppointmentId,
    CarePlan,
    ConflictError,
    InterventionId,
    NotFoundError,
    Patient,
    PatientId,
    StaffId,
    TaskPriority,
)
from ..serialization import to_payload
from ..storage.port import Store, WorkQuery
from ..storage.uow import UnitOfWork
from ._store_data import _T0, ContractHarness, _patient, _plan, _task
from .strategies import ENTITY_STRATEGIES, ZONES


class UnitOfWorkContract(ContractHarness):
    """Aggregates through :class:`~carecoord.storage.UnitOfWork`."""

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
