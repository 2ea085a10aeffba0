"""The stateful storage test: a store against a plain reference model.

Part of :mod:`carecoord.testing.store` (import :func:`make_stateful_test` from
there). :func:`make_stateful_test` builds a Hypothesis ``RuleBasedStateMachine``
that writes random batches of records with index rows (some versions
deliberately stale), reads, lists and queries, and checks a store agrees with
:class:`_Reference`, an in-memory model of the storage port.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from ..model import ConflictError
from ..storage._query import run_query
from ..storage.port import IndexHit, IndexRow, RecordWrite, Store, StoredRecord, WorkQuery
from .strategies import ZONES

__all__ = ["make_stateful_test"]

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
