"""The FHIR exchange commands: export, bulk-export and bulk-import."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TextIO

from ..model import StaffId
from ._common import (
    EXIT_ERROR,
    EXIT_OK,
    CommandError,
    UsageError,
    add_store_options,
    folder,
    open_service,
    reason,
)

__all__ = ["add_commands", "export_path"]


def export_path(target: Path, patient_id: str) -> Path:
    """``<target>/<patient_id>.fhir.json``, refused unless it is a plain file name in ``target``.

    ``target`` is already resolved. Patient ids cannot hold ``/`` or ``..``
    (see :class:`~carecoord.EntityId`); this check is the second line of
    defence, and also refuses a symbolic link planted in the folder.
    """
    name = f"{patient_id}.fhir.json"
    path = target / name
    if Path(name).name != name or path.resolve().parent != target:
        raise CommandError(
            f"refusing to write patient {patient_id}'s file outside --out-dir {target}"
        )
    return path


def _export(args: argparse.Namespace, out: TextIO) -> int:
    from ..fhir import PatientRecord, export_bundle
    from ..model import AccessDeniedError, PatientId, ValidationError
    from ..progress import Progress

    try:
        requested = [PatientId(raw) for raw in args.patient or ()]
    except ValidationError as exc:
        raise UsageError(f"--patient: {exc}") from None
    service = open_service(args)  # checks the database before the folder is made
    actor = StaffId(args.actor)
    written = denied = 0
    try:
        target = folder(args.out_dir, "--out-dir")
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
                path = export_path(target, patient_id)
                try:
                    path.write_text(json.dumps(bundle, indent=2, sort_keys=True), encoding="utf-8")
                except OSError as exc:
                    raise CommandError(
                        f"cannot write {path}: {reason(exc)} "
                        f"({written} patient file(s) written before this one)"
                    ) from None
                written += 1
                bar.update()
    finally:
        service.store.close()
    out.write(f"exported {written} patient record(s) as FHIR R4 Bundles to {Path(args.out_dir)}")
    out.write(f" ({denied} not on {actor}'s caseload, skipped)\n" if denied else "\n")
    return EXIT_OK


def _bulk_export(args: argparse.Namespace, out: TextIO) -> int:
    from ..fhir.bulk import export_ndjson
    from ..model import PatientId, ValidationError
    from ..progress import Progress

    try:
        requested = [PatientId(raw) for raw in args.patient] if args.patient else None
        caseload = None if args.caseload is None else StaffId(args.caseload)
    except ValidationError as exc:
        raise UsageError(f"--patient/--caseload: {exc}") from None
    service = open_service(args)
    actor = StaffId(args.actor)
    try:
        target = folder(args.out_dir, "--out-dir")
        with Progress(label="bulk-export") as bar:
            report = export_ndjson(
                service, target, actor=actor, patients=requested, caseload_of=caseload, progress=bar
            )
    except OSError as exc:
        raise CommandError(f"cannot write the export to {args.out_dir}: {reason(exc)}") from None
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
    from ..fhir.bulk import import_ndjson
    from ..progress import Progress

    source = Path(args.in_dir)
    service = open_service(args)
    try:
        if not source.is_dir():
            raise UsageError(f"no folder at {source}")
        with Progress(label="bulk-import") as bar:
            report = import_ndjson(
                service, source, actor=StaffId(args.actor), strict=args.strict, progress=bar
            )
    except OSError as exc:
        raise CommandError(f"cannot read the export in {source}: {reason(exc)}") from None
    finally:
        service.store.close()
    out.write(
        f"imported {report.imported} patient record(s) from {args.in_dir}; "
        f"{report.unchanged} already stored, unchanged; {len(report.failed)} failed\n"
    )
    for failure in report.failed:
        out.write(f"  {failure.resource}: {failure.error} at {failure.path}: {failure.message}\n")
    return EXIT_OK if report.ok else EXIT_ERROR


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add export, bulk-export and bulk-import to the command line."""
    export = commands.add_parser(
        "export", help="export patients' records as FHIR R4 JSON Bundles (one file each)"
    )
    add_store_options(export)
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
    add_store_options(bulk_export)
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
    add_store_options(bulk_import)
    bulk_import.add_argument("--actor", required=True, help="who imports (needs enrol)")
    bulk_import.add_argument("--in-dir", required=True, help="the folder holding manifest.json")
    bulk_import.add_argument(
        "--strict", action="store_true", help="stop at the first patient that cannot be imported"
    )
    bulk_import.set_defaults(run=_bulk_import)
