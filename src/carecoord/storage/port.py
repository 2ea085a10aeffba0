"""The storage port: what a store must do for carecoord, and the plain data it exchanges.

A store keeps *records* (whole aggregates, serialized as JSON text) under a
``(kind, id)`` key with a version, plus a few *index rows* per record that
worklist queries run on. It never sees model objects: serialization happens in
:class:`~carecoord.storage.UnitOfWork`, so an adapter is a small amount of
plumbing over a database.

The contract (checked by :class:`carecoord.testing.store.StoreContract`):

* :meth:`Store.write` is atomic: every write of the batch is applied, or none.
* Each write names the version it was based on (0: the record must not exist).
  A stale version raises :class:`~carecoord.ConflictError` and nothing of the
  batch is written. A successful write stores version ``expected + 1``.
* A record's index rows are replaced by the ones given with its latest write.
* Backend failures raise :class:`~carecoord.StorageError`, never the driver's
  own exceptions.
* Datetimes in index rows and queries are aware; stores may keep them as UTC.

One optional capability, :class:`DetailQueries`: a store may also answer a
query with plain tuples (:data:`DetailRow`) instead of :class:`IndexHit` s, for
readers that go through many rows and need only a few of their columns (the
metric facts). :func:`query_details` uses it when the store has it and projects
:meth:`Store.query` otherwise, so a store without it stays a complete store.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

import attrs

from ..model._base import aware, non_negative_int, optional

__all__ = [
    "EPOCH",
    "DetailQueries",
    "DetailRow",
    "IndexHit",
    "IndexRow",
    "RecordWrite",
    "Store",
    "StoredRecord",
    "WorkQuery",
    "from_micros",
    "query_details",
    "to_micros",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""The Unix epoch; stores may keep datetimes as integer microseconds since it."""


def to_micros(moment: datetime) -> int:
    """An aware datetime as integer microseconds since :data:`EPOCH` (exact, sortable)."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_micros(micros: int) -> datetime:
    """The inverse of :func:`to_micros`, in UTC."""
    return EPOCH + timedelta(microseconds=micros)


@attrs.frozen
class StoredRecord:
    """A record as a store returns it: JSON ``payload`` text at ``version`` (>= 1)."""

    kind: str
    id: str
    version: int
    payload: str
    patient_id: str | None = None


@attrs.frozen
class IndexRow:
    """One worklist entry derived from a record.

    ``category`` says what the row stands for (``"intervention"``, ``"review"``,
    ``"referral"``, ``"goal"``, ``"barrier"``, ``"appointment"``, ``"contact"``,
    ``"outbox"``, ``"audit"``, ``"emergency"``, ``"member"``, ``"staff"``);
    ``item_id`` is the thing inside the record (an intervention of a plan, for
    example), ``owner_id`` who it is for, ``priority`` higher-is-more-urgent.

    ``detail`` is a short code or, for the ``metric-*`` categories, compact
    JSON facts; carecoord keeps every ``detail`` it writes under 1,500 bytes
    (longer facts are split over several rows), so a store may keep it in a
    covering index.
    """

    category: str
    item_id: str
    patient_id: str | None
    owner_id: str | None
    status: str
    is_open: bool
    priority: int = 0
    due_at: datetime | None = attrs.field(default=None, validator=optional(aware))
    changed_at: datetime | None = attrs.field(default=None, validator=optional(aware))
    detail: str | None = None


@attrs.frozen
class IndexHit:
    """A query result: an index row and the record (kind, id, version) it belongs to."""

    kind: str
    record_id: str
    version: int
    row: IndexRow


@attrs.frozen
class RecordWrite:
    """Create (``expected_version == 0``) or update one record, with its index rows."""

    kind: str
    id: str
    expected_version: int
    payload: str
    patient_id: str | None = None
    index: tuple[IndexRow, ...] = ()


@attrs.frozen
class WorkQuery:
    """A worklist query over index rows.

    Rows match when they are of ``category`` and every given filter holds:
    ``owner_ids`` / ``patient_ids`` / ``statuses`` contain the row's value,
    ``open_only`` keeps open rows, ``due_before`` keeps rows due strictly
    before it (rows without a due time never match it), ``due_from`` rows due at
    or after it, ``changed_before`` rows whose ``changed_at`` is strictly before it.

    Results are ordered by priority (highest first), then due time (earliest
    first, rows without one last), then patient id, then item id; ``limit`` (>= 0)
    cuts the ordered list.
    """

    category: str
    owner_ids: tuple[str, ...] | None = None
    patient_ids: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None
    open_only: bool = True
    due_before: datetime | None = attrs.field(default=None, validator=optional(aware))
    due_from: datetime | None = attrs.field(default=None, validator=optional(aware))
    changed_before: datetime | None = attrs.field(default=None, validator=optional(aware))
    limit: int | None = attrs.field(default=None, validator=optional(non_negative_int))


@runtime_checkable
class Store(Protocol):
    """The storage port. Host applications implement it to keep carecoord's records.

    Use it through :class:`~carecoord.storage.UnitOfWork`; run
    :class:`carecoord.testing.store.StoreContract` against an implementation to
    prove it right.
    """

    def read(self, kind: str, record_id: str) -> StoredRecord | None:
        """The latest committed version of a record, or ``None``."""
        ...

    def read_all(self, kind: str, *, patient_id: str | None = None) -> Sequence[StoredRecord]:
        """Every record of ``kind`` (of one patient when given), ordered by id."""
        ...

    def write(self, batch: Sequence[RecordWrite]) -> None:
        """Apply ``batch`` atomically, checking versions (see the module contract)."""
        ...

    def query(self, query: WorkQuery) -> Sequence[IndexHit]:
        """Index rows matching ``query``, ordered as :class:`WorkQuery` describes."""
        ...

    def close(self) -> None:
        """Release resources. Using a closed store raises StorageError."""
        ...


DetailRow = tuple[str | None, str, str, str | None]
"""``(patient_id, item_id, status, detail)`` of one index row, as
:meth:`DetailQueries.query_details` returns it."""


@runtime_checkable
class DetailQueries(Protocol):
    """An optional store capability: query results as plain tuples, for bulk readers.

    A store implementing it answers :meth:`query_details` with exactly the rows
    :meth:`Store.query` returns for the same query (with a ``limit``, its first
    ``limit`` rows), each as a :data:`DetailRow`, in any order (so a store need
    not merge or sort them), without building an :class:`IndexHit` per row.
    Call it through :func:`query_details`, which falls back to :meth:`Store.query`.
    """

    def query_details(self, query: WorkQuery) -> Sequence[DetailRow]:
        """``(patient_id, item_id, status, detail)`` of each row :meth:`Store.query`
        returns for ``query``, in any order."""
        ...


def query_details(store: Store, query: WorkQuery) -> Sequence[DetailRow]:
    """The rows :meth:`Store.query` returns for ``query`` as :data:`DetailRow` s, in any order.

    Uses the store's :meth:`DetailQueries.query_details` when it has one, else
    projects the :class:`IndexHit` s of :meth:`Store.query`.
    """
    lean = getattr(store, "query_details", None)
    if lean is not None:
        return lean(query)  # type: ignore[no-any-return]
    return [
        (row.patient_id, row.item_id, row.status, row.detail)
        for row in [hit.row for hit in store.query(query)]
    ]
