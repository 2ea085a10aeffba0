"""Storage: the port, the unit of work, and the built-in stores.

``MemoryStore`` is imported eagerly (it needs nothing); ``SQLiteStore`` and
``PostgresStore`` are imported on first use, so ``import carecoord`` never loads
``sqlite3`` or ``psycopg`` (``PostgresStore`` needs the ``postgres`` extra).
:func:`copy_store` copies every record from one store to another; :func:`reindex`
derives every record's index rows again in place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._query import run_query
from .copy import CopyReport, copy_store
from .memory import MemoryStore
from .port import (
    DetailQueries,
    DetailRow,
    IndexHit,
    IndexRow,
    RecordWrite,
    Store,
    StoredRecord,
    WorkQuery,
    query_details,
)
from .records import RECORD_TYPES, index_rows
from .reindex import reindex
from .uow import UnitOfWork

if TYPE_CHECKING:
    from .postgres import PostgresStore
    from .sqlite import SQLiteStore

__all__ = [
    "RECORD_TYPES",
    "CopyReport",
    "DetailQueries",
    "DetailRow",
    "IndexHit",
    "IndexRow",
    "MemoryStore",
    "PostgresStore",
    "RecordWrite",
    "SQLiteStore",
    "Store",
    "StoredRecord",
    "UnitOfWork",
    "WorkQuery",
    "copy_store",
    "index_rows",
    "query_details",
    "reindex",
    "run_query",
]


def __getattr__(name: str) -> Any:
    if name == "SQLiteStore":
        from .sqlite import SQLiteStore

        return SQLiteStore
    if name == "PostgresStore":
        from .postgres import PostgresStore

        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
