"""Every built-in store passes the shipped conformance suite."""

from __future__ import annotations

from carecoord.storage import MemoryStore, SQLiteStore, Store
from carecoord.testing.store import StoreContract, make_stateful_test


class TestMemoryStore(StoreContract):
    def make_store(self) -> Store:
        return MemoryStore()


class TestSQLiteFileStore(StoreContract):
    def make_store(self) -> Store:
        return SQLiteStore(self.tmp_path / "contract.sqlite3")


class TestSQLiteMemoryStore(StoreContract):
    def make_store(self) -> Store:
        return SQLiteStore(":memory:")


TestMemoryStoreStateful = make_stateful_test(MemoryStore).TestCase
TestSQLiteStoreStateful = make_stateful_test(lambda: SQLiteStore(":memory:")).TestCase
