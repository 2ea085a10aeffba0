"""The documented example adapter (examples/dict_store.py) passes the shipped suite."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from carecoord.storage import Store
from carecoord.testing.store import StoreContract, make_stateful_test

_PATH = Path(__file__).resolve().parent.parent / "examples" / "dict_store.py"
_SPEC = importlib.util.spec_from_file_location("carecoord_example_dict_store", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
dict_store = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = dict_store
_SPEC.loader.exec_module(dict_store)


class TestDictStore(StoreContract):
    def make_store(self) -> Store:
        store: Store = dict_store.DictStore()
        return store


TestDictStoreStateful = make_stateful_test(dict_store.DictStore).TestCase
