"""The reading commands: demo, worklist, metrics and verify-audit."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ..model import StaffId
from ._common import (
    EXIT_OK,
    EXIT_TAMPERED,
    CommandClock,
    UsageError,
    actor_zone,
    add_store_options,
    moment,
    open_service,
    print_records,
    reason,
    zone,
)

if TYPE_CHECKING:
    from ..model import ChainBreak

__all__ = ["add_commands"]

_HEAD_HASH = re.compile(r"[0-9a-f]{64}")
_ZONE_HELP = (
    "IANA time zone for input and output (default: the time zone of the acting staff "
    "member, --actor, as registered with carecoord)"
)


def _demo(args: argparse.Namespace, out: TextIO) -> int:
    from ..demo import DEFAULT_DB, run_demo

    db = Path(args.db or DEFAULT_DB)

    def say(line: str) -> None:
        out.write(line + "\n")

    try:  # run_demo refuses a folder, or a file that is not a carecoord database
        run_demo(db, out=say, force=args.force)
    except IsADirectoryError:
        raise UsageError(f"{db} is a folder; give a database file path") from None
    except FileExistsError:
        raise UsageError(
            f"{db} exists and is not a carecoord database; refusing to replace it "
            "(choose another --db, or add --force to replace it)"
        ) from None
    except OSError as exc:
        raise UsageError(f"cannot use {db} as a database file: {reason(exc)}") from None
    return EXIT_OK


_WORKLIST_COLUMNS = ("category", "patient_id", "item_id", "status", "priority", "due", "late")


def _worklist(args: argparse.Namespace, out: TextIO) -> int:
    if args.zone is not None:
        zone(args.zone)  # a bad zone is reported before the database is opened
    clock = CommandClock()
    service = open_service(args, clock)
    try:
        actor = StaffId(args.actor or args.staff)
        where = actor_zone(service, args.zone, actor)
        at = moment(args.at, where)
        clock.fix(at)
        worklist = service.worklist(
            StaffId(args.staff),
            actor=actor,
            now=None if at is None else at.astimezone(where),
            scope=args.scope,
        )
    finally:
        service.store.close()
    records = worklist.to_records()
    print_records(
        records,
        _WORKLIST_COLUMNS,
        fmt=args.format,
        where=where,
        out=out,
        title=(
            f"Worklist of {worklist.staff_id} ({worklist.scope.value}) as of "
            f"{worklist.as_of.astimezone(where).strftime('%Y-%m-%d %H:%M %Z')}: "
            f"{len(records)} items"
        ),
    )
    return EXIT_OK


_METRIC_COLUMNS = ("name", "subject", "numerator", "denominator", "value", "unit")


def _metrics(args: argparse.Namespace, out: TextIO) -> int:
    if args.zone is not None:
        zone(args.zone)
    service = open_service(args)
    try:
        actor = StaffId(args.actor)
        where = actor_zone(service, args.zone, actor)
        start = moment(args.start, where)
        end = moment(args.end, where)
        assert start is not None and end is not None  # required arguments
        report = service.metrics(
            start,
            end,
            actor=actor,
            coordinator=None if args.coordinator is None else StaffId(args.coordinator),
        )
    finally:
        service.store.close()
    print_records(
        report.to_records(),
        _METRIC_COLUMNS,
        fmt=args.format,
        where=where,
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
        raise UsageError(
            "--checkpoint must be a head hash: 64 lowercase hex digits, "
            "as printed by an earlier verify-audit"
        )
    service = open_service(args)
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


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add demo, worklist, metrics and verify-audit to the command line."""
    demo = commands.add_parser(
        "demo", help="create a SQLite file, enrol fictional patients and print a worklist"
    )
    demo.add_argument(
        "--db",
        default=None,
        help="database file to (re)create (default: carecoord-demo.sqlite3); an existing "
        "file is replaced only if it is a carecoord database. The demo is SQLite only: "
        "copy it to PostgreSQL with 'carecoord copy'",
    )
    demo.add_argument(
        "--force",
        action="store_true",
        help="replace an existing --db file even if it is not a carecoord database",
    )
    demo.set_defaults(run=_demo)

    def reader(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        add_store_options(sub)
        sub.add_argument("--zone", default=None, help=_ZONE_HELP)
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
