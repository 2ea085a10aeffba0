"""What every command shares: exit codes, errors, the store options, times and tables.

The store options (:func:`add_store_options`) name where the records live:
``--db FILE`` for SQLite, or ``--dsn`` (or the ``CARECOORD_DSN`` environment
variable) for PostgreSQL, with ``--schema`` and ``--audit-key-file``. A
connection string may hold a password: it is never printed.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..model import MissingExtraError, StaffId, ValidationError

if TYPE_CHECKING:
    from ..service import CareCoordinator
    from ..storage.port import Store

__all__ = [
    "AUDIT_KEY_ENV",
    "DSN_ENV",
    "EXIT_ERROR",
    "EXIT_OK",
    "EXIT_TAMPERED",
    "EXIT_USAGE",
    "SCHEMA_ENV",
    "CommandClock",
    "CommandError",
    "UsageError",
    "actor_zone",
    "add_store_options",
    "check_database",
    "folder",
    "json_default",
    "moment",
    "open_service",
    "open_store",
    "print_records",
    "reason",
    "zone",
]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_TAMPERED = 3

DSN_ENV = "CARECOORD_DSN"
"""The PostgreSQL connection string used when neither ``--db`` nor ``--dsn`` is given."""
SCHEMA_ENV = "CARECOORD_SCHEMA"
"""The PostgreSQL schema used when ``--schema`` is not given (default ``carecoord``)."""
AUDIT_KEY_ENV = "CARECOORD_AUDIT_KEY_FILE"
"""A file holding the audit chain's HMAC key, when ``--audit-key-file`` is not given."""

_PG_TIMEOUT = 10.0
"""Seconds a command waits for a PostgreSQL connection before it reports a StorageError."""


class UsageError(Exception):
    """A command-line value that cannot be used (reported, exit code 2)."""


class CommandError(Exception):
    """A command that could not finish, e.g. a file it cannot write (reported, exit code 1)."""


def reason(exc: OSError) -> str:
    """An OS error's reason without its file name (the caller names the file)."""
    return exc.strerror or type(exc).__name__


# ---------------------------------------------------------------- times
def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``, or a usage error."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UsageError(f"unknown time zone: {name}") from None


def moment(text: str | None, where: ZoneInfo) -> datetime | None:
    """An ISO date or datetime; a date or a time without offset is read in ``where``."""
    if text is None:
        return None
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time.min, where)
        found = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"not an ISO date or datetime: {text}") from None
    return found if found.tzinfo is not None else found.replace(tzinfo=where)


def actor_zone(service: CareCoordinator, given: str | None, actor: StaffId) -> ZoneInfo:
    """``--zone`` when given, else the acting staff member's own time zone.

    The staff member is read through the service (their own record: an
    audited read, like any other).
    """
    if given is not None:
        return zone(given)
    return zone(service.staff_member(actor, actor=actor).time_zone)


class CommandClock:
    """The service's clock for one command: the real time until :meth:`fix` pins it."""

    def __init__(self) -> None:
        self._fixed: datetime | None = None

    def fix(self, at: datetime | None) -> None:
        """Stand still at ``at`` from now on (``None``: keep the real time)."""
        self._fixed = at

    def now(self) -> datetime:
        """The pinned time, or the real time in UTC."""
        return self._fixed if self._fixed is not None else datetime.now(UTC)


# ---------------------------------------------------------------- the store
def add_store_options(parser: argparse.ArgumentParser) -> None:
    """``--db`` or ``--dsn`` (mutually exclusive), ``--schema`` and ``--audit-key-file``."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--db", help="the SQLite database file")
    where.add_argument(
        "--dsn",
        help=f"a PostgreSQL connection string or URL (default: ${DSN_ENV} when --db is not "
        "given); needs the 'postgres' extra. Never printed.",
    )
    parser.add_argument(
        "--schema",
        help=f"the PostgreSQL schema holding carecoord's tables (default: ${SCHEMA_ENV} "
        "or 'carecoord'); only with --dsn",
    )
    parser.add_argument(
        "--audit-key-file",
        help=f"a file holding the audit chain's HMAC key (default: ${AUDIT_KEY_ENV}); "
        "give the key the host application uses, or sealing and verifying disagree",
    )


def check_database(db: str) -> None:
    """Refuse a missing file or one that is not a carecoord database (checked read-only).

    Opening the store would create carecoord's tables in any SQLite file, so the
    check comes first and nothing is created or migrated in a foreign file.
    """
    from ..demo import is_carecoord_database

    try:
        is_file = Path(db).is_file()
    except OSError as exc:  # a name too long for the file system, ...
        raise UsageError(f"cannot use {db} as a database file: {reason(exc)}") from None
    if not is_file:
        raise UsageError(f"no database file at {db}")
    if not is_carecoord_database(db):
        raise UsageError(f"{db} is not a carecoord database (nothing was changed)")


def _dsn(args: argparse.Namespace, environment: bool) -> str | None:
    """The PostgreSQL connection string: ``--dsn``, else ``$CARECOORD_DSN`` unless ``--db``."""
    if args.dsn is not None:
        return str(args.dsn)
    if args.db is not None or not environment:
        return None  # the command line wins over the environment
    return os.environ.get(DSN_ENV, "").strip() or None


def open_store(
    args: argparse.Namespace, *, create: bool = False, environment: bool = True
) -> Store:
    """The store the options name: SQLite (``--db``) or PostgreSQL (``--dsn``/``$CARECOORD_DSN``).

    ``args`` has ``db``, ``dsn`` and ``schema``. ``create``: a missing SQLite
    file is created (a file that is not a carecoord database is still refused).
    ``environment``: fall back on ``$CARECOORD_DSN`` and ``$CARECOORD_SCHEMA``.
    """
    dsn = _dsn(args, environment)
    if dsn is None:
        if args.db is None:
            raise UsageError(
                f"name the database: --db FILE (SQLite), or --dsn or ${DSN_ENV} (PostgreSQL)"
            )
        if args.schema is not None:
            raise UsageError("--schema names a PostgreSQL schema; use it with --dsn")
        from ..storage.sqlite import SQLiteStore

        if not (create and _missing(args.db)):
            check_database(args.db)
        return SQLiteStore(args.db)
    default = os.environ.get(SCHEMA_ENV, "").strip() if environment else ""
    return _postgres(dsn, args.schema or default or "carecoord")


def _missing(db: str) -> bool:
    """Whether nothing at all is at ``db`` (a name the file system refuses is not missing)."""
    try:
        return bool(db) and not Path(db).exists() and Path(db).parent.is_dir()
    except (OSError, ValueError):
        return False


def _postgres(dsn: str, schema: str) -> Store:
    try:
        from psycopg import Error as DriverError
        from psycopg.conninfo import conninfo_to_dict

        from ..storage.postgres import PostgresStore
    except (MissingExtraError, ImportError):
        raise UsageError(
            "--dsn needs PostgreSQL support, which is not installed: "
            "pip install 'carecoord[postgres]'"
        ) from None
    try:
        conninfo_to_dict(dsn)
    except DriverError:  # its message may quote the string, password and all
        raise UsageError("--dsn is not a valid PostgreSQL connection string or URL") from None
    try:
        return PostgresStore(dsn, schema=schema, timeout=_PG_TIMEOUT)
    except ValidationError as exc:
        raise UsageError(f"--schema: {exc}") from None


def _audit_key(args: argparse.Namespace) -> bytes | None:
    path = args.audit_key_file or os.environ.get(AUDIT_KEY_ENV, "").strip() or None
    if path is None:
        return None
    try:
        key = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the audit key file {path}: {reason(exc)}") from None
    if len(key) < 16:
        raise UsageError(f"the audit key file {path} holds fewer than 16 bytes")
    return key


def open_service(args: argparse.Namespace, clock: CommandClock | None = None) -> CareCoordinator:
    """A coordinator on the store the options name (close it with ``service.store.close()``)."""
    from ..service import CareCoordinator

    key = _audit_key(args)
    return CareCoordinator(store=open_store(args), clock=clock, audit_key=key)


# ---------------------------------------------------------------- output
def _cell(value: object, where: ZoneInfo) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.astimezone(where).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, timedelta):
        return f"{value.total_seconds() / 86400:.1f}d"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _table(
    records: Sequence[Mapping[str, object]], columns: Sequence[str], where: ZoneInfo
) -> list[str]:
    """Plain-text, left-aligned columns."""
    rows = [[_cell(r.get(c), where) for c in columns] for r in records]
    widths = [max([len(c), *(len(row[i]) for row in rows)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return lines


def json_default(value: object) -> str:
    """JSON for dates (ISO), durations (seconds) and anything else (``str``)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value.total_seconds())
    return str(value)


def print_records(
    records: Sequence[Mapping[str, object]],
    columns: Sequence[str],
    *,
    fmt: str,
    where: ZoneInfo,
    out: TextIO,
    title: str,
) -> None:
    """``records`` as a titled table, or as a JSON list with ``fmt == "json"``."""
    if fmt == "json":
        json.dump(list(records), out, default=json_default, indent=2, sort_keys=True)
        out.write("\n")
        return
    out.write(title + "\n")
    for line in _table(records, columns, where):
        out.write("  " + line + "\n")


def folder(path: str, option: str) -> Path:
    """``path`` as a folder to write into (created if needed), or a CommandError."""
    target = Path(path)
    try:
        if target.exists() and not target.is_dir():
            raise CommandError(f"{option} {target} exists and is not a folder")
        target.mkdir(parents=True, exist_ok=True)
        return target.resolve(strict=True)
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        why = reason(exc) if isinstance(exc, OSError) else "not a valid path"
        raise CommandError(f"cannot create the folder {target}: {why}") from None
