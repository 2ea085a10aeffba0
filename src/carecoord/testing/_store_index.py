"""Storage conformance tests: worklist index rows and queries.

Part of :class:`carecoord.testing.store.StoreContract` (subclass that): index
rows replaced by each write, every :class:`~carecoord.storage.port.WorkQuery`
filter, ordering (by instant, across zones and daylight-saving folds), limits,
every row field kept, and the lean read
(:func:`~carecoord.storage.port.query_details`: the store's own
:class:`~carecoord.storage.port.DetailQueries` when it has one) giving the rows
of :meth:`~carecoord.storage.port.Store.query`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..storage.port import DetailRow, IndexHit, IndexRow, Store, WorkQuery, query_details
from ._store_data import ContractHarness, _row, _write


class IndexContract(ContractHarness):
    """Index rows and the queries over them."""

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

    def test_query_details_are_the_rows_of_query(self, store: Store) -> None:
        t = datetime(2026, 11, 23, 12, tzinfo=UTC)
        rows = tuple(
            IndexRow(
                category="metric-plan" if n % 5 else "metric-team",
                item_id=f"i-{n:02d}",
                patient_id=None if n % 11 == 0 else f"p-{n % 7}",
                owner_id=None if n % 3 == 0 else f"ma-{n % 4}",
                status="facts-1" if n % 6 else "other",
                is_open=n % 4 == 0,
                priority=n % 6,
                due_at=None if n % 9 == 0 else t + timedelta(hours=5 * n - 60),
                changed_at=None if n % 8 == 0 else t - timedelta(hours=3 * n - 36),
                detail=None if n % 10 == 0 else f'[{n},"é{"x" * n}"]',
            )
            for n in range(60)
        )
        store.write([_write("CarePlan", "plan", 0, index=rows)])
        many = tuple(f"p-{n}" for n in range(40))  # more streams than one statement merges
        queries = [
            WorkQuery(category="metric-plan", open_only=False),
            WorkQuery(category="metric-plan"),
            WorkQuery(category="metric-team", open_only=False),
            WorkQuery(category="metric-plan", open_only=False, due_from=t, due_before=t + _DAY),
            WorkQuery(category="metric-plan", open_only=False, changed_before=t, due_from=t),
            WorkQuery(category="metric-plan", open_only=False, due_before=t),
            WorkQuery(category="metric-plan", open_only=False, patient_ids=("p-1", "p-3")),
            WorkQuery(category="metric-plan", open_only=False, patient_ids=many, due_from=t),
            WorkQuery(category="metric-plan", owner_ids=("ma-1", "ma-2"), open_only=False),
            WorkQuery(category="metric-plan", statuses=("other",), open_only=False),
            WorkQuery(category="metric-plan", open_only=False, limit=7),
            WorkQuery(category="metric-plan", open_only=False, due_from=t, limit=3),
            WorkQuery(category="metric-plan", patient_ids=many, open_only=False, limit=5),
            WorkQuery(category="metric-plan", open_only=False, limit=0),
            WorkQuery(category="metric-plan", patient_ids=(), open_only=False),
            WorkQuery(category="metric-none", open_only=False),
        ]
        matched = 0
        for query in queries:
            expected = [_detail(hit.row) for hit in store.query(query)]
            got = query_details(store, query)
            assert all(type(row) is tuple and len(row) == 4 for row in got), query
            assert sorted(got, key=repr) == sorted(expected, key=repr), query
            matched += len(expected)
        assert matched > 100  # the queries found rows to compare


_DAY = timedelta(days=1)


def _detail(row: IndexRow) -> DetailRow:
    return (row.patient_id, row.item_id, row.status, row.detail)
