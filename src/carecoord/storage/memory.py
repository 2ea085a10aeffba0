"""MemoryStore: the in-process store for tests and notebooks, with real store semantics."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from ..model import ConflictError, StorageError
from ._query import run_query
from .port import IndexHit, IndexRow, RecordWrite, StoredRecord, WorkQuery

__all__ = ["MemoryStore"]


class MemoryStore:
    """Keeps records in memory, with the same rules as every other store.

    Writes are atomic and version-checked, records are stored as serialized
    copies (nothing a caller holds can change what is stored), and it is safe to
    use from several threads. Everything is lost when the process ends.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[tuple[str, str], StoredRecord] = {}
        self._index: dict[tuple[str, str], tuple[IndexRow, ...]] = {}
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
            found = [
                r
                for (k, _), r in self._records.items()
                if k == kind and (patient_id is None or r.patient_id == patient_id)
            ]
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
                self._records[(w.kind, w.id)] = StoredRecord(
                    kind=w.kind,
                    id=w.id,
                    version=w.expected_version + 1,
                    payload=w.payload,
                    patient_id=w.patient_id,
                )
                self._index[(w.kind, w.id)] = w.index

    def query(self, query: WorkQuery) -> Sequence[IndexHit]:
        """Index rows matching ``query``, ordered."""
        with self._lock:
            self._check()
            hits = [
                IndexHit(kind=k, record_id=rid, version=self._records[(k, rid)].version, row=row)
                for (k, rid), rows in self._index.items()
                for row in rows
            ]
        return run_query(query, hits)

    def close(self) -> None:
        """Close the store; later use raises StorageError."""
        with self._lock:
            self._closed = True

    def __repr__(self) -> str:
        return f"MemoryStore(records={len(self._records)})"
