"""Storage conformance tests: records, versions and conflicts, through the port.

Part of :class:`carecoord.testing.store.StoreContract` (subclass that): reading
and writing records by kind and id, version numbers, optimistic-concurrency
conflicts, atomic batches, listing by kind and patient, and closing.
"""

from __future__ import annotations

import json

import pytest

from ..model import ConflictError, StorageError
from ..storage.port import RecordWrite, Store, StoredRecord, WorkQuery
from ._store_data import ContractHarness, _row, _write


class RecordContract(ContractHarness):
    """Records and versions: the :class:`~carecoord.storage.Store` port itself."""

    def test_is_a_store(self, store: Store) -> None:
        assert isinstance(store, Store)

    def test_read_missing_is_none(self, store: Store) -> None:
        assert store.read("Patient", "nobody") is None
        assert list(store.read_all("Patient")) == []
        assert list(store.query(WorkQuery(category="intervention"))) == []

    def test_create_stores_version_one(self, store: Store) -> None:
        store.write([_write("Patient", "p-1", 0, {"a": 1}, patient_id="p-1")])
        got = store.read("Patient", "p-1")
        assert got == StoredRecord("Patient", "p-1", 1, json.dumps({"a": 1}), "p-1")

    def test_payload_text_is_kept_exactly(self, store: Store) -> None:
        text = '{"z":1,"a":"caf\\u00e9 \u00e9\u00e8 \U0001f600","n":[1.5,null,true]}'
        store.write([RecordWrite(kind="Note", id="n-1", expected_version=0, payload=text)])
        got = store.read("Note", "n-1")
        assert got is not None and got.payload == text

    def test_update_increments_version(self, store: Store) -> None:
        store.write([_write("Patient", "p-1", 0)])
        store.write([_write("Patient", "p-1", 1, {"b": 2})])
        store.write([_write("Patient", "p-1", 2, {"c": 3})])
        got = store.read("Patient", "p-1")
        assert got is not None and got.version == 3 and json.loads(got.payload) == {"c": 3}

    def test_kinds_are_separate(self, store: Store) -> None:
        store.write([_write("Patient", "x", 0, {"k": "p"}), _write("Note", "x", 0, {"k": "n"})])
        patient, note = store.read("Patient", "x"), store.read("Note", "x")
        assert patient is not None and json.loads(patient.payload) == {"k": "p"}
        assert note is not None and json.loads(note.payload) == {"k": "n"}

    def test_create_existing_conflicts(self, store: Store) -> None:
        store.write([_write("Patient", "p-1", 0, {"first": True})])
        with pytest.raises(ConflictError) as info:
            store.write([_write("Patient", "p-1", 0, {"second": True})])
        assert info.value.kind == "Patient" and info.value.record_id == "p-1"
        got = store.read("Patient", "p-1")
        assert got is not None and json.loads(got.payload) == {"first": True}

    def test_stale_update_conflicts(self, store: Store) -> None:
        store.write([_write("CarePlan", "plan-1", 0)])
        store.write([_write("CarePlan", "plan-1", 1)])
        with pytest.raises(ConflictError):
            store.write([_write("CarePlan", "plan-1", 1, {"stale": True})])
        with pytest.raises(ConflictError):
            store.write([_write("CarePlan", "plan-1", 7, {"future": True})])
        got = store.read("CarePlan", "plan-1")
        assert got is not None and got.version == 2 and json.loads(got.payload) == {"n": 1}

    def test_update_of_missing_record_conflicts(self, store: Store) -> None:
        with pytest.raises(ConflictError):
            store.write([_write("Referral", "r-1", 1)])
        assert store.read("Referral", "r-1") is None

    def test_batch_is_atomic(self, store: Store) -> None:
        store.write([_write("CarePlan", "a", 0), _write("CarePlan", "b", 0)])
        with pytest.raises(ConflictError):
            store.write(
                [
                    _write("CarePlan", "a", 1, {"changed": True}, index=(_row("t-a"),)),
                    _write("CarePlan", "c", 0, {"new": True}),
                    _write("CarePlan", "b", 5, {"stale": True}),
                ]
            )
        a = store.read("CarePlan", "a")
        assert a is not None and a.version == 1 and json.loads(a.payload) == {"n": 0}
        assert store.read("CarePlan", "c") is None
        assert list(store.query(WorkQuery(category="intervention"))) == []

    def test_read_all_orders_by_id_and_filters_by_patient(self, store: Store) -> None:
        store.write(
            [
                _write("Note", "n-b", 0, patient_id="p-1"),
                _write("Note", "n-a", 0, patient_id="p-2"),
                _write("Note", "n-c", 0, patient_id="p-1"),
                _write("Patient", "p-1", 0, patient_id="p-1"),
                _write("Note", "n-0", 0),
            ]
        )
        assert [r.id for r in store.read_all("Note")] == ["n-0", "n-a", "n-b", "n-c"]
        assert [r.id for r in store.read_all("Note", patient_id="p-1")] == ["n-b", "n-c"]
        assert [r.id for r in store.read_all("Note", patient_id="p-9")] == []
        assert [r.id for r in store.read_all("Patient")] == ["p-1"]

    def test_closed_store_raises_storage_error(self) -> None:
        store = self.make_store()
        store.write([_write("Patient", "p-1", 0)])
        store.close()
        with pytest.raises(StorageError):
            store.read("Patient", "p-1")
        with pytest.raises(StorageError):
            store.write([_write("Patient", "p-2", 0)])
        with pytest.raises(StorageError):
            store.query(WorkQuery(category="intervention"))
