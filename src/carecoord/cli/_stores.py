"""The store commands: ``migrate`` (create or upgrade the tables) and ``copy`` (store to store).

``carecoord copy --db old.sqlite3 --to-dsn postgresql://...`` is how a host
moves from SQLite to PostgreSQL: it migrates the target, then copies every
record with :func:`~carecoord.storage.copy_store` (which refuses a target that
already holds records of a copied kind). Stop the writers first.
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from ._common import EXIT_OK, UsageError, add_store_options, open_store

__all__ = ["add_commands"]


def _migrated(store: Any) -> int:
    """Migrate ``store`` when it has ``migrate()`` (PostgreSQL); its schema version."""
    migrate = getattr(store, "migrate", None)  # SQLite migrates when it is opened
    if callable(migrate):
        migrate()
    return int(store.schema_version)


def _migrate(args: argparse.Namespace, out: TextIO) -> int:
    store = open_store(args, create=True)
    try:
        version = _migrated(store)
    finally:
        store.close()
    out.write(f"migrate: the store is at schema version {version}\n")
    return EXIT_OK


def _copy(args: argparse.Namespace, out: TextIO) -> int:
    from ..storage.copy import copy_store

    if args.to_db is None and args.to_dsn is None:
        raise UsageError("name the target: --to-db FILE (SQLite) or --to-dsn (PostgreSQL)")
    target_options = argparse.Namespace(db=args.to_db, dsn=args.to_dsn, schema=args.to_schema)
    source = open_store(args)
    try:
        target = open_store(target_options, create=True, environment=False)
        try:
            _migrated(target)
            report = copy_store(source, target)
        finally:
            target.close()
    finally:
        source.close()
    kinds = sum(1 for count in report.counts.values() if count)
    out.write(
        f"copy: {report.total} record(s) of {kinds} kind(s) copied in {report.batches} batch(es)\n"
    )
    return EXIT_OK


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add migrate and copy to the command line."""
    migrate = commands.add_parser(
        "migrate",
        help="create or upgrade carecoord's tables (PostgreSQL: once per deployment and "
        "upgrade; SQLite: a new file is created)",
    )
    add_store_options(migrate)
    migrate.set_defaults(run=_migrate)

    copy = commands.add_parser(
        "copy",
        help="copy every record to another, empty store (e.g. SQLite to PostgreSQL); "
        "stop the writers first",
    )
    add_store_options(copy)
    where = copy.add_mutually_exclusive_group()
    where.add_argument("--to-db", help="the target SQLite file (created if missing)")
    where.add_argument("--to-dsn", help="the target PostgreSQL connection string (never printed)")
    copy.add_argument(
        "--to-schema", help="the target PostgreSQL schema (default: 'carecoord'); with --to-dsn"
    )
    copy.set_defaults(run=_copy)
