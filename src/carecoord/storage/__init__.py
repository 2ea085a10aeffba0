"""Storage: the port, the unit of work, and the built-in stores.

``MemoryStore`` is imported eagerly (it needs nothing); ``SQLiteStore`` is
imported on first use, so ``import carecoord`` never loads ``sqlite3``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._query import run_query
from .memory import MemoryStore
from .port import IndexHit, IndexRow, RecordWrite, Store, StoredRecord, WorkQuery
from .records import RECORD_TYPES, index_rows
from .uow import UnitOfWork

if TYPE_CHECKING:
    from .sqlite import SQLiteStore

__all__ = [
    "RECORD_TYPES",
    "IndexHit",
    "IndexRow",
    "MemoryStore",
    "RecordWrite",
    "SQLiteStore",
    "Store",
    "StoredRecord",
    "UnitOfWork",
    "WorkQuery",
    "index_rows",
    "run_query",
]


def __getattr__(name: str) -> Any:
    if name == "SQLiteStore":
        from .sqlite import SQLiteStore

        return SQLiteStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
