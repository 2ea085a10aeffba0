"""``carecoord.testing.ForwardingStore`` is a full store: it passes the conformance suite."""

from __future__ import annotations

from carecoord.storage import MemoryStore, Store
from carecoord.testing import ForwardingStore
from carecoord.testing.store import StoreContract


class TestForwardingStore(StoreContract):
    def make_store(self) -> Store:
        return ForwardingStore(MemoryStore())


def test_repr_names_the_inner_store() -> None:
    assert repr(ForwardingStore(MemoryStore())) == "ForwardingStore(MemoryStore(records=0))"
