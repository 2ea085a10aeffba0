"""Shared pytest fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs the same examples every time (a red CI must mean a real change);
# locally they vary per run. "thorough" is the opt-in long fuzz run.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# Plain asserts in the shipped conformance suite get pytest's detailed messages.
pytest.register_assert_rewrite("carecoord.testing.store")

from carecoord.storage import MemoryStore, SQLiteStore, Store  # noqa: E402


@pytest.fixture(params=["memory", "sqlite"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "t.db")
    yield made
    made.close()
