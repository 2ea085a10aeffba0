"""MemoryStore: the in-process store for tests and notebooks, with real store semantics."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence

from ..model import ConflictError, StorageError
from ._query import run_query
from .port import DetailRow, IndexHit, IndexRow, RecordWrite, StoredRecord, WorkQuery

__all__ = ["MemoryStore"]


class MemoryStore:
    """Keeps records in memory, with the same rules as every other store.

    Writes are atomic and version-checked, records are stored as serialized
    copies (nothing a caller holds can change what is stored), and it is safe to
    use from several threads. Everything is lost when the process ends.

    Like the database stores it keeps indexes: records by kind and by
    (kind, patient), index rows by category, by (category, owner) and by
    (category, patient), so per-patient and per-staff reads cost the same
    whatever the number of other patients.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[tuple[str, str], StoredRecord] = {}
        self._by_kind: dict[str, dict[str, StoredRecord]] = defaultdict(dict)
        self._by_patient: dict[tuple[str, str | None], set[str]] = defaultdict(set)
        self._index: dict[tuple[str, str], tuple[IndexRow, ...]] = {}
        self._rows_by: dict[tuple[str, str, str | None], set[tuple[str, str]]] = defaultdict(set)
        self._closed = False

    def _check(self) -> None:
        if self._closed:
            raise StorageError("the store is closed")

    def read(self, kind: str, record_id: str) -> StoredRecord | None:
        """The latest committed version of a record, or ``None``."""
        with self._lock:
            self._check()
            return self._records.get((kind, record_id))

    def read_all(self, kind: str, *, patient_id: str | None = None) -> Sequence[StoredRecord]:
        """Every record of ``kind`` (of one patient when given), ordered by id."""
        with self._lock:
            self._check()
            of_kind = self._by_kind.get(kind, {})
            if patient_id is None:
                found = list(of_kind.values())
            else:
                found = [of_kind[i] for i in self._by_patient.get((kind, patient_id), ())]
        return sorted(found, key=lambda r: r.id)

    def write(self, batch: Sequence[RecordWrite]) -> None:
        """Apply ``batch`` atomically with version checks."""
        with self._lock:
            self._check()
            for w in batch:
                current = self._records.get((w.kind, w.id))
                version = 0 if current is None else current.version
                if version != w.expected_version:
                    raise ConflictError(w.kind, w.id, w.expected_version)
            if len({(w.kind, w.id) for w in batch}) != len(batch):
                raise StorageError("a batch must not write one record twice")
            for w in batch:
                key = (w.kind, w.id)
                old = self._records.get(key)
                if old is not None:
                    self._by_patient[(w.kind, old.patient_id)].discard(w.id)
                record = StoredRecord(
                    kind=w.kind,
                    id=w.id,
                    version=w.expected_version + 1,
                    payload=w.payload,
                    patient_id=w.patient_id,
                )
                self._records[key] = record
                self._by_kind[w.kind][w.id] = record
                self._by_patient[(w.kind, w.patient_id)].add(w.id)
                for row in self._index.get(key, ()):
                    for slot in _slots(row):
                        self._rows_by[slot].discard(key)
                self._index[key] = w.index
                for row in w.index:
                    for slot in _slots(row):
                        self._rows_by[slot].add(key)

    def query(self, query: WorkQuery) -> Sequence[IndexHit]:
        """Index rows matching ``query``, ordered; only the candidate records are looked at."""
        with self._lock:
            self._check()
            slots: list[tuple[str, str, str | None]]
            if query.owner_ids is not None:
                slots = [("owner", query.category, o) for o in query.owner_ids]
            elif query.patient_ids is not None:
                slots = [("patient", query.category, p) for p in query.patient_ids]
            else:
                slots = [("category", query.category, None)]
            keys = set().union(*(self._rows_by.get(slot, ()) for slot in slots))
            hits = [
                IndexHit(kind=k, record_id=rid, version=self._records[(k, rid)].version, row=row)
                for (k, rid) in keys
                for row in self._index.get((k, rid), ())
                if row.category == query.category
            ]
        return run_query(query, hits)

    def query_details(self, query: WorkQuery) -> Sequence[DetailRow]:
        """:meth:`query` as ``(patient_id, item_id, status, detail)`` tuples (the
        :class:`~carecoord.storage.port.DetailQueries` capability)."""
        rows = [hit.row for hit in self.query(query)]
        return [(row.patient_id, row.item_id, row.status, row.detail) for row in rows]

    def _forget(self, kind: str, record_id: str) -> None:
        """Drop a record and its index rows behind the port's back (tampering tests only)."""
        with self._lock:
            key = (kind, record_id)
            old = self._records.pop(key, None)
            if old is not None:
                self._by_kind[kind].pop(record_id, None)
                self._by_patient[(kind, old.patient_id)].discard(record_id)
            for row in self._index.pop(key, ()):
                for slot in _slots(row):
                    self._rows_by[slot].discard(key)

    def close(self) -> None:
        """Close the store; later use raises StorageError."""
        with self._lock:
            self._closed = True

    def __repr__(self) -> str:
        return f"MemoryStore(records={len(self._records)})"


def _slots(row: IndexRow) -> tuple[tuple[str, str, str | None], ...]:
    """The in-memory index entries a row is filed under."""
    return (
        ("category", row.category, None),
        ("owner", row.category, row.owner_id),
        ("patient", row.category, row.patient_id),
    )
