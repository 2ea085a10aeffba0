"""A minimal storage adapter: records in dictionaries, guarded by a lock.

It shows everything a :class:`carecoord.storage.Store` must do; a real adapter
does the same against its database (one transaction per ``write``, the version
check inside the UPDATE, index rows in indexed columns).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from carecoord import ConflictError, StorageError
from carecoord.storage import IndexHit, IndexRow, RecordWrite, StoredRecord, WorkQuery, run_query


class DictStore:
    """Keeps records in dicts; same contract as every carecoord store."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[tuple[str, str], StoredRecord] = {}
        self._rows: dict[tuple[str, str], tuple[IndexRow, ...]] = {}
        self._open = True

    def _check_open(self) -> None:
        if not self._open:
            raise StorageError("DictStore is closed")

    def read(self, kind: str, record_id: str) -> StoredRecord | None:
        with self._lock:
            self._check_open()
            return self._records.get((kind, record_id))

    def read_all(self, kind: str, *, patient_id: str | None = None) -> Sequence[StoredRecord]:
        with self._lock:
            self._check_open()
            found = [
                record
                for (k, _), record in self._records.items()
                if k == kind and (patient_id is None or record.patient_id == patient_id)
            ]
        return sorted(found, key=lambda record: record.id)

    def write(self, batch: Sequence[RecordWrite]) -> None:
        with self._lock:
            self._check_open()
            if len({(w.kind, w.id) for w in batch}) != len(batch):
                raise StorageError("a batch must not write one record twice")
            # 1. check every version first, so a conflict writes nothing ...
            for w in batch:
                current = self._records.get((w.kind, w.id))
                if (current.version if current else 0) != w.expected_version:
                    raise ConflictError(w.kind, w.id, w.expected_version)
            # 2. ... then apply the whole batch.
            for w in batch:
                self._records[(w.kind, w.id)] = StoredRecord(
                    kind=w.kind,
                    id=w.id,
                    version=w.expected_version + 1,
                    payload=w.payload,
                    patient_id=w.patient_id,
                )
                self._rows[(w.kind, w.id)] = w.index

    def query(self, query: WorkQuery) -> Sequence[IndexHit]:
        with self._lock:
            self._check_open()
            hits = [
                IndexHit(kind=k, record_id=rid, version=self._records[(k, rid)].version, row=row)
                for (k, rid), rows in self._rows.items()
                for row in rows
            ]
        return run_query(query, hits)  # the reference filter and order

    def close(self) -> None:
        with self._lock:
            self._open = False


if __name__ == "__main__":
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from carecoord import HumanName, Patient, PatientId
    from carecoord.storage import UnitOfWork

    store = DictStore()
    with UnitOfWork(store) as uow:
        uow.add(
            Patient(
                id=PatientId("p-1"),
                name=HumanName(family="Example"),
                birth_date=date(1960, 1, 2),
                time_zone="Europe/Paris",
                enrolled_at=datetime(2026, 11, 23, 9, tzinfo=ZoneInfo("Europe/Paris")),
            )
        )
    stored = store.read("Patient", "p-1")
    assert stored is not None
    print(f"stored Patient p-1 at version {stored.version}")
