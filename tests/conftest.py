"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

# Plain asserts in the shipped conformance suite get pytest's detailed messages.
pytest.register_assert_rewrite("carecoord.testing.store")

from carecoord.storage import MemoryStore, SQLiteStore, Store  # noqa: E402


@pytest.fixture(params=["memory", "sqlite"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "t.db")
    yield made
    made.close()
