"""Data builders and the per-test harness of the storage conformance suite.

Part of :mod:`carecoord.testing.store` (import :class:`StoreContract` from
there): small builders for aggregates, record writes and index rows used by the
contract tests, and :class:`ContractHarness`, the base of every contract mixin,
which holds the pytest fixtures (``self.tmp_path``, the ``store`` fixture,
closing every store a test made) and the :meth:`~ContractHarness.make_store`
hook a host implements.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

import pytest

from ..model import (
    CareCoordError,
    CarePlan,
    CarePlanId,
    CarePlanStatus,
    HumanName,
    Intervention,
    InterventionId,
    InterventionKind,
    Patient,
    PatientId,
    StaffId,
    TaskPriority,
)
from ..storage.port import IndexRow, RecordWrite, Store

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


class ContractHarness:
    """What every contract mixin builds on: the ``make_store`` hook and the fixtures.

    :class:`~carecoord.testing.store.StoreContract` combines the mixins; subclass
    that, not this.
    """

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
