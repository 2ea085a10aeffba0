"""SQLiteStore.query answers exactly as the reference semantics (``storage._query.run_query``).

The SQL reads each priority band as its own index range, merges several owners
or patients as they stream and stops at the limit (see ``storage._sqlite_sql``);
these tests check the answers, not the plans, on random data built to stress
it: priorities of one, four and many values (more bands than the statement
reads one by one), rows without a due time, ties on priority and due time,
limits, duplicate and unknown owners, more owners than one merge takes, and
index rows replaced by later writes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest

from carecoord.storage import IndexHit, IndexRow, RecordWrite, SQLiteStore, WorkQuery, _rows
from carecoord.storage._query import run_query
from carecoord.storage._sqlite_sql import BANDS, MAX_ARMS

T = datetime(2026, 11, 23, 9, tzinfo=UTC)
CATEGORIES = ("intervention", "review")
OWNERS = tuple(f"o-{n}" for n in range(6))
PATIENTS = tuple(f"p-{n}" for n in range(8))
STATUSES = ("ready", "done", "failed")
DUES = tuple(T + timedelta(hours=h) for h in (-30, -2, 0, 0, 1, 5, 48))
"""Few due times, so many rows tie on them (0 twice: ties between bands too)."""
PRIORITY_SETS = {
    "one": (0,),
    "four": (0, 1, 2, 3),
    "many": tuple(range(-2, BANDS + 6)),  # more bands than the statement reads one by one
}


def random_row(rng: random.Random, item: str, priorities: tuple[int, ...]) -> IndexRow:
    due = None if rng.random() < 0.2 else rng.choice(DUES)
    if due is not None and rng.random() < 0.1:
        due += timedelta(microseconds=1)  # the smallest step after a tie
    return IndexRow(
        category=rng.choice(CATEGORIES),
        item_id=item,
        patient_id=None if rng.random() < 0.1 else rng.choice(PATIENTS),
        owner_id=None if rng.random() < 0.05 else rng.choice(OWNERS),
        status=rng.choice(STATUSES),
        is_open=rng.random() < 0.7,
        priority=rng.choice(priorities),
        due_at=due,
        changed_at=None if rng.random() < 0.3 else T - timedelta(minutes=rng.randrange(600)),
        detail=rng.choice((None, "patient", "off-track")),
    )


def load_random(
    store: SQLiteStore, rng: random.Random, priorities: tuple[int, ...]
) -> list[IndexHit]:
    """About 300 index rows in 120 records, a quarter rewritten once; the hits as stored."""
    items = iter(range(1_000_000))  # item ids are unique: the query order has no full ties

    def rows() -> tuple[IndexRow, ...]:
        return tuple(
            random_row(rng, f"i-{next(items):05d}", priorities) for _ in range(rng.randrange(5))
        )

    first = {f"r-{n:03d}": rows() for n in range(120)}
    store.write(
        [
            RecordWrite(kind="Plan", id=record_id, expected_version=0, payload="{}", index=index)
            for record_id, index in first.items()
        ]
    )
    again = {record_id: rows() for record_id in rng.sample(sorted(first), 30)}
    store.write(
        [
            RecordWrite(kind="Plan", id=record_id, expected_version=1, payload="{}", index=index)
            for record_id, index in again.items()
        ]
    )
    return [
        IndexHit(kind="Plan", record_id=record_id, version=1 + (record_id in again), row=row)
        for record_id in first
        for row in again.get(record_id, first[record_id])
    ]


def some(rng: random.Random, values: tuple[str, ...]) -> tuple[str, ...] | None:
    """None, one value (most often), a few, with duplicates or unknowns, or many."""
    roll = rng.random()
    if roll < 0.3:
        return None
    if roll < 0.6:
        return (rng.choice(values),)
    if roll < 0.9:
        chosen = rng.sample(values, rng.randrange(2, 4))
        if rng.random() < 0.3:
            chosen.append(chosen[0])  # a duplicate
        if rng.random() < 0.3:
            chosen.append("unknown")
        return tuple(chosen)
    return tuple(f"{values[0][:2]}{n}" for n in range(MAX_ARMS + 3))  # more than one merge takes


def random_query(rng: random.Random) -> WorkQuery:
    moment = rng.choice(DUES) + timedelta(minutes=rng.choice((0, 0, -1, 1)))
    return WorkQuery(
        category=rng.choice(CATEGORIES),
        owner_ids=some(rng, OWNERS),
        patient_ids=some(rng, PATIENTS) if rng.random() < 0.4 else None,
        statuses=None if rng.random() < 0.7 else tuple(rng.sample(STATUSES, rng.randrange(1, 3))),
        open_only=rng.random() < 0.7,
        due_before=moment if rng.random() < 0.5 else None,
        due_from=rng.choice(DUES) if rng.random() < 0.25 else None,
        changed_before=T - timedelta(minutes=300) if rng.random() < 0.15 else None,
        limit=None if rng.random() < 0.4 else rng.choice((0, 1, 3, 7, 20)),
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    made = SQLiteStore(tmp_path / "order.sqlite3")
    yield made
    made.close()


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("priorities", list(PRIORITY_SETS))
def test_random_queries_answer_as_the_reference(
    store: SQLiteStore, seed: int, priorities: str
) -> None:
    rng = random.Random(f"{priorities}-{seed}")
    hits = load_random(store, rng, PRIORITY_SETS[priorities])
    for _ in range(120):
        query = random_query(rng)
        assert list(store.query(query)) == run_query(query, hits), query


@pytest.mark.parametrize("priorities", list(PRIORITY_SETS))
def test_one_owner_overdue_first_n_answers_as_the_reference(
    store: SQLiteStore, priorities: str
) -> None:
    """The hot shape: one owner, due before a moment, a limit, every limit cut."""
    rng = random.Random(priorities)
    hits = load_random(store, rng, PRIORITY_SETS[priorities])
    for owner in OWNERS:
        for moment in DUES:
            for limit in (None, 1, 2, 5, 10, 40):
                query = WorkQuery(
                    category="intervention", owner_ids=(owner,), due_before=moment, limit=limit
                )
                assert list(store.query(query)) == run_query(query, hits), query


def test_rows_without_a_due_time_come_last_and_never_match_a_due_range(
    store: SQLiteStore,
) -> None:
    def row(item: str, priority: int, due: datetime | None) -> IndexRow:
        return IndexRow(
            category="intervention",
            item_id=item,
            patient_id="p-1",
            owner_id="o-1",
            status="ready",
            is_open=True,
            priority=priority,
            due_at=due,
        )

    rows = (row("a", 1, None), row("b", 1, T), row("c", 2, None), row("d", 0, T), row("e", 1, T))
    store.write([RecordWrite(kind="Plan", id="r", expected_version=0, payload="{}", index=rows)])
    everything = store.query(WorkQuery(category="intervention", owner_ids=("o-1",)))
    assert [h.row.item_id for h in everything] == ["c", "b", "e", "a", "d"]
    assert everything[0].row.due_at is None and everything[1].row.due_at == T
    due = store.query(WorkQuery(category="intervention", due_before=T + timedelta(seconds=1)))
    assert [h.row.item_id for h in due] == ["b", "e", "d"]
    since = store.query(WorkQuery(category="intervention", owner_ids=("o-1",), due_from=T))
    assert [h.row.item_id for h in since] == ["b", "e", "d"]


def test_trusted_hits_set_every_field_of_the_result_classes() -> None:
    """The light constructor knows every field (a new one must be added there too)."""
    assert tuple(field.name for field in attrs.fields(IndexRow)) == _rows._ROW_FIELDS
    assert len(_rows._HIT_SETTERS) == len(attrs.fields(IndexHit))
    found = _rows.trusted_hits("review", [("K", "r", 3, "i", None, "o", "s", 0, 2, 7, None, "d")])
    expected = IndexRow(
        category="review",
        item_id="i",
        patient_id=None,
        owner_id="o",
        status="s",
        is_open=False,
        priority=2,
        due_at=datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=7),
        detail="d",
    )
    assert found == [IndexHit(kind="K", record_id="r", version=3, row=expected)]
    due = found[0].row.due_at
    assert found[0].row.is_open is False and due is not None and due.tzinfo is UTC
