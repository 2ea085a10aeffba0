"""The ``carecoord`` command line: the demo, worklists, metrics, audit checks, export, import.

Every command that reads a database names the acting staff member
(``--actor``): the service checks their access and audits the read, exactly
as it does for a host application. Output carries identifiers and codes only,
never names or free text; ``--format json`` prints plain records for scripts.

Run ``carecoord --help`` (or ``python -m carecoord --help``) for the commands.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .model import CareCoordError, StaffId

if TYPE_CHECKING:
    from .model import ChainBreak
    from .service import CareCoordinator

__all__ = ["main"]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_TAMPERED = 3


class _UsageError(Exception):
    """A command-line value that cannot be used (reported, exit code 2)."""


class _CommandError(Exception):
    """A command that could not finish, e.g. a file it cannot write (reported, exit code 1)."""


_HEAD_HASH = re.compile(r"[0-9a-f]{64}")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise _UsageError(f"unknown time zone: {name}") from None


def _moment(text: str | None, zone: ZoneInfo) -> datetime | None:
    """An ISO date or datetime; a date or a time without offset is read in ``zone``."""
    if text is None:
        return None
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time.min, zone)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _UsageError(f"not an ISO date or datetime: {text}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _check_database(db: str) -> None:
    """Refuse a missing file or one that is not a carecoord database (checked read-only).

    Opening the store would create carecoord's tables in any SQLite file, so the
    check comes first and nothing is created or migrated in a foreign file.
    """
    from .demo import is_carecoord_database

    try:
        is_file = Path(db).is_file()
    except OSError as exc:  # a name too long for the file system, ...
        raise _UsageError(f"cannot use {db} as a database file: {_reason(exc)}") from None
    if not is_file:
        raise _UsageError(f"no database file at {db}")
    if not is_carecoord_database(db):
        raise _UsageError(f"{db} is not a carecoord database (nothing was changed)")


def _open_service(db: str, clock_at: datetime | None = None) -> CareCoordinator:
    from .service import CareCoordinator
    from .storage.sqlite import SQLiteStore

    _check_database(db)
    clock = None
    if clock_at is not None:
        from .testing import FixedClock

        clock = FixedClock(clock_at)
    return CareCoordinator(store=SQLiteStore(db), clock=clock)


def _cell(value: object, zone: ZoneInfo) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, timedelta):
        return f"{value.total_seconds() / 86400:.1f}d"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _table(
    records: Sequence[Mapping[str, object]], columns: Sequence[str], zone: ZoneInfo
) -> list[str]:
    """Plain-text, left-aligned columns."""
    rows = [[_cell(r.get(c), zone) for c in columns] for r in records]
    widths = [max([len(c), *(len(row[i]) for row in rows)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return lines


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value.total_seconds())
    return str(value)


def _print_records(
    records: Sequence[Mapping[str, object]],
    columns: Sequence[str],
    *,
    fmt: str,
    zone: ZoneInfo,
    out: TextIO,
    title: str,
) -> None:
    if fmt == "json":
        json.dump(list(records), out, default=_json_default, indent=2, sort_keys=True)
        out.write("\n")
        return
    out.write(title + "\n")
    for line in _table(records, columns, zone):
        out.write("  " + line + "\n")


# ------------------------------------------------------------------ commands
def _demo(args: argparse.Namespace, out: TextIO) -> int:
    from .demo import DEFAULT_DB, run_demo

    db = Path(args.db or DEFAULT_DB)

    def say(line: str) -> None:
        out.write(line + "\n")

    try:  # run_demo refuses a folder, or a file that is not a carecoord database
        run_demo(db, out=say, force=args.force)
    except IsADirectoryError:
        raise _UsageError(f"{db} is a folder; give a database file path") from None
    except FileExistsError:
        raise _UsageError(
            f"{db} exists and is not a carecoord database; refusing to replace it "
            "(choose another --db, or add --force to replace it)"
        ) from None
    except OSError as exc:
        raise _UsageError(f"cannot use {db} as a database file: {_reason(exc)}") from None
    return EXIT_OK


_WORKLIST_COLUMNS = ("category", "patient_id", "item_id", "status", "priority", "due", "days_late")


def _worklist(args: argparse.Namespace, out: TextIO) -> int:
    zone = _zone(args.zone)
    at = _moment(args.at, zone)
    service = _open_service(args.db, at)
    try:
        actor = StaffId(args.actor or args.staff)
        worklist = service.worklist(
            StaffId(args.staff),
            actor=actor,
            now=None if at is None else at.astimezone(zone),
            scope=args.scope,
        )
    finally:
        service.store.close()
    records = worklist.to_records()
    _print_records(
        records,
        _WORKLIST_COLUMNS,
        fmt=args.format,
        zone=zone,
        out=out,
        title=(
            f"Worklist of {worklist.staff_id} ({worklist.scope.value}) as of "
            f"{worklist.as_of.astimezone(zone).strftime('%Y-%m-%d %H:%M %Z')}: "
            f"{len(records)} items"
        ),
    )
    return EXIT_OK


_METRIC_COLUMNS = ("name", "subject", "numerator", "denominator", "value", "unit")


def _metrics(args: argparse.Namespace, out: TextIO) -> int:
    zone = _zone(args.zone)
    start = _moment(args.start, zone)
    end = _moment(args.end, zone)
    assert start is not None and end is not None  # required arguments
    service = _open_service(args.db)
    try:
        report = service.metrics(
            start,
            end,
            actor=StaffId(args.actor),
            coordinator=None if args.coordinator is None else StaffId(args.coordinator),
        )
    finally:
        service.store.close()
    _print_records(
        report.to_records(),
        _METRIC_COLUMNS,
        fmt=args.format,
        zone=zone,
        out=out,
        title=f"Metrics for [{args.start}, {args.end}) ({len(report)} figures)",
    )
    return EXIT_OK


def _describe_break(found: ChainBreak) -> str:
    """One break as ``sequence N, entry ID: problem`` (``-`` where not known)."""
    sequence = "-" if found.sequence is None else str(found.sequence)
    entry = found.entry_id or "-"
    return f"sequence {sequence}, entry {entry}: {found.problem}"


def _verify_audit(args: argparse.Namespace, out: TextIO) -> int:
    if args.checkpoint is not None and not _HEAD_HASH.fullmatch(args.checkpoint):
        raise _UsageError(
            "--checkpoint must be a head hash: 64 lowercase hex digits, "
            "as printed by an earlier verify-audit"
        )
    service = _open_service(args.db)
    try:
        actor = StaffId(args.actor)
        sealed = 0 if args.no_seal else service.seal_audit().sealed
        report = service.verify_audit(actor=actor, checkpoint=args.checkpoint)
    finally:
        service.store.close()
    window = f"{report.sealed} sealed ({sealed} just now), {report.unsealed} not yet sealed"
    if report.breaks:
        out.write(f"audit trail TAMPERED: {len(report.breaks)} break(s); {window}\n")
        for found in report.breaks:
            out.write(f"  {_describe_break(found)}\n")
        return EXIT_TAMPERED
    out.write(f"audit trail intact; {window}; head {report.head_hash}\n")
    return EXIT_OK


def _reason(exc: OSError) -> str:
    """An OS error's reason without its file name (the caller names the file)."""
    return exc.strerror or type(exc).__name__


def _export_path(folder: Path, patient_id: str) -> Path:
    """``<folder>/<patient_id>.fhir.json``, refused unless it is a plain file name in ``folder``.

    ``folder`` is already resolved. Patient ids cannot hold ``/`` or ``..``
    (see :class:`~carecoord.EntityId`); this check is the second line of
    defence, and also refuses a symbolic link planted in the folder.
    """
    name = f"{patient_id}.fhir.json"
    path = folder / name
    if Path(name).name != name or path.resolve().parent != folder:
        raise _CommandError(
            f"refusing to write patient {patient_id}'s file outside --out-dir {folder}"
        )
    return path


def _folder(path: str, option: str) -> Path:
    """``path`` as a folder to write into (created if needed), or a _CommandError."""
    target = Path(path)
    try:
        if target.exists() and not target.is_dir():
            raise _CommandError(f"{option} {target} exists and is not a folder")
        target.mkdir(parents=True, exist_ok=True)
        return target.resolve(strict=True)
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        reason = _reason(exc) if isinstance(exc, OSError) else "not a valid path"
        raise _CommandError(f"cannot create the folder {target}: {reason}") from None


def _export(args: argparse.Namespace, out: TextIO) -> int:
    from .fhir import PatientRecord, export_bundle
    from .model import AccessDeniedError, PatientId, ValidationError
    from .progress import Progress

    try:
        requested = [PatientId(raw) for raw in args.patient or ()]
    except ValidationError as exc:
        raise _UsageError(f"--patient: {exc}") from None
    _check_database(args.db)
    target = Path(args.out_dir)
    folder = _folder(args.out_dir, "--out-dir")
    service = _open_service(args.db)
    actor = StaffId(args.actor)
    written = denied = 0
    try:
        wanted = requested or [PatientId(r.id) for r in service.store.read_all("Patient")]
        with Progress(len(wanted), "export") as bar:
            for patient_id in wanted:
                try:
                    # The access check, and the audit entry recording this actor's read.
                    service.patient(patient_id, actor=actor)
                except AccessDeniedError:
                    if requested:
                        raise
                    denied += 1
                    bar.update()
                    continue
                record = PatientRecord.from_store(service.store, patient_id)
                bundle = export_bundle(record)
                path = _export_path(folder, patient_id)
                try:
                    path.write_text(json.dumps(bundle, indent=2, sort_keys=True), encoding="utf-8")
                except OSError as exc:
                    raise _CommandError(
                        f"cannot write {path}: {_reason(exc)} "
                        f"({written} patient file(s) written before this one)"
                    ) from None
                written += 1
                bar.update()
    finally:
        service.store.close()
    out.write(f"exported {written} patient record(s) as FHIR R4 Bundles to {target}")
    out.write(f" ({denied} not on {actor}'s caseload, skipped)\n" if denied else "\n")
    return EXIT_OK


def _bulk_export(args: argparse.Namespace, out: TextIO) -> int:
    from .fhir.bulk import export_ndjson
    from .model import PatientId, ValidationError
    from .progress import Progress

    try:
        requested = [PatientId(raw) for raw in args.patient] if args.patient else None
        caseload = None if args.caseload is None else StaffId(args.caseload)
    except ValidationError as exc:
        raise _UsageError(f"--patient/--caseload: {exc}") from None
    _check_database(args.db)
    folder = _folder(args.out_dir, "--out-dir")
    service = _open_service(args.db)
    actor = StaffId(args.actor)
    try:
        with Progress(label="bulk-export") as bar:
            report = export_ndjson(
                service, folder, actor=actor, patients=requested, caseload_of=caseload, progress=bar
            )
    except OSError as exc:
        raise _CommandError(f"cannot write the export to {folder}: {_reason(exc)}") from None
    finally:
        service.store.close()
    resources = sum(report.counts.values())
    out.write(
        f"exported {report.exported} patient record(s) as FHIR NDJSON to {args.out_dir} "
        f"({resources} resource(s) in {len(report.counts)} file(s) and manifest.json)"
    )
    out.write(f"; {report.skipped} not readable by {actor}, skipped\n" if report.skipped else "\n")
    return EXIT_OK


def _bulk_import(args: argparse.Namespace, out: TextIO) -> int:
    from .fhir.bulk import import_ndjson
    from .progress import Progress

    _check_database(args.db)
    folder = Path(args.in_dir)
    if not folder.is_dir():
        raise _UsageError(f"no folder at {folder}")
    service = _open_service(args.db)
    try:
        with Progress(label="bulk-import") as bar:
            report = import_ndjson(
                service, folder, actor=StaffId(args.actor), strict=args.strict, progress=bar
            )
    except OSError as exc:
        raise _CommandError(f"cannot read the export in {folder}: {_reason(exc)}") from None
    finally:
        service.store.close()
    out.write(
        f"imported {report.imported} patient record(s) from {args.in_dir}; "
        f"{report.unchanged} already stored, unchanged; {len(report.failed)} failed\n"
    )
    for failure in report.failed:
        out.write(f"  {failure.resource}: {failure.error} at {failure.path}: {failure.message}\n")
    return EXIT_OK if report.ok else EXIT_ERROR


# ---------------------------------------------------------------------- main
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="carecoord",
        description="carecoord: the demo, worklists, metrics, audit checks and FHIR exchange.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo", help="create a SQLite file, enrol fictional patients and print a worklist"
    )
    demo.add_argument(
        "--db",
        default=None,
        help="database file to (re)create (default: carecoord-demo.sqlite3); an existing "
        "file is replaced only if it is a carecoord database",
    )
    demo.add_argument(
        "--force",
        action="store_true",
        help="replace an existing --db file even if it is not a carecoord database",
    )
    demo.set_defaults(run=_demo)

    def reader(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--db", required=True, help="the SQLite database file")
        sub.add_argument("--zone", default="UTC", help="IANA time zone for input and output")
        sub.add_argument("--format", choices=("table", "json"), default="table")
        return sub

    worklist = reader("worklist", "print a staff member's worklist, most urgent first")
    worklist.add_argument("--staff", required=True, help="whose worklist")
    worklist.add_argument("--actor", help="who is asking (default: --staff)")
    worklist.add_argument("--scope", choices=("self", "team", "supervisor"), default="self")
    worklist.add_argument("--at", help="as of this ISO date/datetime (default: now)")
    worklist.set_defaults(run=_worklist)

    metrics = reader("metrics", "print quality metrics for a period [from, to)")
    metrics.add_argument("--actor", required=True, help="who is asking (needs view-metrics)")
    metrics.add_argument("--from", dest="start", required=True, help="ISO date or datetime")
    metrics.add_argument("--to", dest="end", required=True, help="ISO date or datetime")
    metrics.add_argument("--coordinator", help="only this coordinator's caseload")
    metrics.set_defaults(run=_metrics)

    verify = reader("verify-audit", "verify the audit trail's hash chain")
    verify.add_argument("--actor", required=True, help="who is asking (needs view-caseloads)")
    verify.add_argument("--checkpoint", help="a head hash kept outside the database")
    verify.add_argument(
        "--no-seal",
        action="store_true",
        help="verify only; do not first seal the entries appended since the last seal",
    )
    verify.set_defaults(run=_verify_audit)

    export = commands.add_parser(
        "export", help="export patients' records as FHIR R4 JSON Bundles (one file each)"
    )
    export.add_argument("--db", required=True, help="the SQLite database file")
    export.add_argument("--actor", required=True, help="who exports (needs read access)")
    export.add_argument("--out-dir", required=True, help="folder for the <patient>.fhir.json files")
    export.add_argument(
        "--patient",
        action="append",
        help="a patient id (repeatable; default: every patient on the actor's caseload)",
    )
    export.set_defaults(run=_export)

    bulk_export = commands.add_parser(
        "bulk-export",
        help="export patients' records as FHIR Bulk Data style NDJSON (one file per type)",
    )
    bulk_export.add_argument("--db", required=True, help="the SQLite database file")
    bulk_export.add_argument("--actor", required=True, help="who exports (needs read access)")
    bulk_export.add_argument(
        "--out-dir", required=True, help="an empty folder for the .ndjson files and manifest.json"
    )
    which = bulk_export.add_mutually_exclusive_group()
    which.add_argument(
        "--patient",
        action="append",
        help="a patient id (repeatable; default: every patient the actor may read)",
    )
    which.add_argument("--caseload", help="the patients on this staff member's caseload")
    bulk_export.set_defaults(run=_bulk_export)

    bulk_import = commands.add_parser(
        "bulk-import", help="import a bulk-export folder into the database, patient by patient"
    )
    bulk_import.add_argument("--db", required=True, help="the SQLite database file")
    bulk_import.add_argument("--actor", required=True, help="who imports (needs enrol)")
    bulk_import.add_argument("--in-dir", required=True, help="the folder holding manifest.json")
    bulk_import.add_argument(
        "--strict", action="store_true", help="stop at the first patient that cannot be imported"
    )
    bulk_import.set_defaults(run=_bulk_import)
    return parser


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the command line; returns the process exit code (0 ok, 1 error, 2 usage, 3 tampered)."""
    parser = _parser()
    args = parser.parse_args(argv)
    stream = out if out is not None else sys.stdout
    run: Callable[[argparse.Namespace, TextIO], int] = args.run
    try:
        return run(args, stream)
    except _UsageError as exc:
        parser.exit(EXIT_USAGE, f"carecoord {args.command}: {exc}\n")
    except _CommandError as exc:
        sys.stderr.write(f"carecoord {args.command}: {exc}\n")
        return EXIT_ERROR
    except CareCoordError as exc:
        # carecoord's messages carry identifiers and codes only, never PHI.
        sys.stderr.write(f"carecoord {args.command}: {type(exc).__name__}: {exc}\n")
        return EXIT_ERROR
