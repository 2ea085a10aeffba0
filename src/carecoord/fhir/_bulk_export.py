"""The bulk NDJSON export: one patient at a time, appended to one file per resource type.

For each patient the service reads the record in one audited operation
(:meth:`~carecoord.CareCoordinator.patient_record`); the record becomes a
Bundle (:func:`~carecoord.fhir.export_bundle`) whose resources are written
as NDJSON lines, with references made relative (``Type/id``) and ids made
unique across the whole export. Only that patient's record is in memory;
staff members (shared by patients) are kept once, by id.
"""

from __future__ import annotations

import hashlib
import json
import typing
from collections.abc import Iterable, Iterator, Sized
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import attrs

from ..model import AccessDeniedError, PatientId, StaffId, StaffMember, ValidationError
from ..storage import Store, UnitOfWork
from ._bulk_common import (
    MANIFEST_NAME,
    SHARED_TYPES,
    BulkExportReport,
    BulkProgress,
    BulkService,
    json_line,
    rewrite_references,
)
from ._common import stable_uuid
from .export import export_bundle
from .record import PatientRecord, staff_ids_in

__all__ = ["export_ndjson", "record_fields"]

_MAX_LINE = 50
"""Reporting lines are followed this far up (a longer one is a data error)."""


def record_fields() -> dict[str, type[Any]]:
    """:class:`PatientRecord` entity field name -> the model class its tuple holds."""
    hints = typing.get_type_hints(PatientRecord)
    fields: dict[str, type[Any]] = {}
    for field in attrs.fields(PatientRecord):
        if field.name in ("patient", "staff", "audit_entries"):
            continue
        fields[field.name] = typing.get_args(hints[field.name])[0]
    return fields


class _StaffBook:
    """Staff members read once each (shared by patients), with their reporting lines."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._known: dict[StaffId, StaffMember | None] = {}

    def closure(self, ids: Iterable[StaffId]) -> tuple[StaffMember, ...]:
        """The stored members among ``ids`` and everyone above them, ordered by id.

        Taking the whole reporting line makes every staff member's resources
        the same whichever patient brings them in: written once, they serve all.
        """
        found: dict[StaffId, StaffMember] = {}
        uow: UnitOfWork | None = None
        try:
            for start in ids:
                current: StaffId | None = start
                for _ in range(_MAX_LINE):
                    if current is None or current in found:
                        break
                    if current not in self._known:
                        uow = uow or UnitOfWork(self._store)
                        self._known[current] = uow.find(StaffMember, current)
                    member = self._known[current]
                    if member is None:
                        break
                    found[current] = member
                    current = member.supervisor_id
        finally:
            if uow is not None:
                uow.rollback()
        return tuple(found[k] for k in sorted(found))


class _Files:
    """The ``<type>.ndjson`` files, created on first use and appended to."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.counts: dict[str, int] = {}
        self._open: dict[str, IO[bytes]] = {}

    def write(self, rtype: str, line: bytes) -> None:
        handle = self._open.get(rtype)
        if handle is None:
            handle = self._open[rtype] = (self.folder / f"{rtype}.ndjson").open("xb")
            self.counts[rtype] = 0
        handle.write(line)
        self.counts[rtype] += 1

    def close(self) -> None:
        while self._open:
            self._open.popitem()[1].close()

    def discard(self) -> None:
        """Close and remove every file this export created."""
        self.close()
        for rtype in self.counts:
            (self.folder / f"{rtype}.ndjson").unlink(missing_ok=True)


def _prepare(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / MANIFEST_NAME).exists() or any(folder.glob("*.ndjson")):
        raise ValidationError(
            "the folder holds an export already (manifest.json or .ndjson files); "
            "use an empty folder",
            field="folder",
        )
    return folder


def _patients(
    service: BulkService,
    actor: StaffId,
    patients: Iterable[PatientId | str] | None,
    caseload_of: StaffId | None,
) -> tuple[Iterable[PatientId | str], int | None, str]:
    """The patient ids to export, their number when known, and the manifest's ``request``."""
    if patients is not None and caseload_of is not None:
        raise ValidationError("give patients or caseload_of, not both", field="patients")
    if patients is not None:
        total = len(patients) if isinstance(patients, Sized) else None
        return patients, total, "carecoord bulk export: the listed patients"
    if caseload_of is not None:
        ids = service.caseload_patients(caseload_of, actor=actor)
        return ids, len(ids), f"carecoord bulk export: the caseload of {caseload_of}"
    listed = [record.id for record in service.store.read_all("Patient")]
    return listed, len(listed), "carecoord bulk export: every patient"


def _lines(
    bundle: dict[str, Any], seen_shared: dict[tuple[str, str], bytes]
) -> Iterator[tuple[str, bytes]]:
    """The NDJSON lines of one patient's Bundle: ``(type, line)``, shared ones only once.

    Every resource but the Patient and the shared (staff) ones gets an id
    derived from the patient's and its own full URL, so ids never clash
    between patients; references become ``Type/id``.
    """
    entries = [(e.get("fullUrl"), e["resource"]) for e in bundle["entry"]]
    patient_url = next(
        url or f"Patient/{r['id']}" for url, r in entries if r["resourceType"] == "Patient"
    )
    mapping: dict[str, str] = {}
    for url, resource in entries:
        rtype, rid = resource["resourceType"], resource["id"]
        key = url or f"{rtype}/{rid}"
        if rtype != "Patient" and rtype not in SHARED_TYPES:
            resource["id"] = stable_uuid("ndjson", patient_url, key)
        mapping[key] = f"{rtype}/{resource['id']}"
    for _, resource in entries:
        rewrite_references(resource, mapping)
        line = json_line(resource)
        rtype = resource["resourceType"]
        if rtype in SHARED_TYPES:
            shared = (rtype, resource["id"])
            digest = hashlib.sha256(line).digest()
            if shared in seen_shared:
                if seen_shared[shared] != digest:
                    raise ValidationError(
                        f"{rtype}/{resource['id']} differs between patients; cannot write it once"
                    )
                continue
            seen_shared[shared] = digest
        yield rtype, line


def _manifest(when: datetime, request: str, counts: dict[str, int]) -> bytes:
    manifest = {
        "transactionTime": when.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "request": request,
        "requiresAccessToken": False,
        "output": [
            {"type": rtype, "url": f"{rtype}.ndjson", "count": counts[rtype]}
            for rtype in sorted(counts)
        ],
        "error": [],
    }
    return (json.dumps(manifest, indent=2) + "\n").encode("ascii")


class _Exporter:
    """Writes one patient at a time; holds only what is shared (staff, written ids)."""

    def __init__(self, service: BulkService, actor: StaffId, files: _Files) -> None:
        self.service = service
        self.actor = actor
        self.files = files
        self.fields = record_fields()
        self.kinds = tuple(self.fields.values())
        self.book = _StaffBook(service.store)
        self.seen_shared: dict[tuple[str, str], bytes] = {}

    def patient(self, patient_id: PatientId) -> None:
        """Read one patient (one audited operation) and append their resources to the files."""
        read = self.service.patient_record(patient_id, actor=self.actor, kinds=self.kinds)
        draft = PatientRecord.from_entities(read.patient, read.entities)
        record = attrs.evolve(draft, staff=self.book.closure(sorted(staff_ids_in(draft))))
        for rtype, line in _lines(export_bundle(record), self.seen_shared):
            self.files.write(rtype, line)


def export_ndjson(
    service: BulkService,
    folder: str | Path,
    *,
    actor: StaffId,
    patients: Iterable[PatientId | str] | None = None,
    caseload_of: StaffId | None = None,
    progress: BulkProgress | None = None,
) -> BulkExportReport:
    """Export patients' records as FHIR Bulk Data style NDJSON; see :mod:`carecoord.fhir.bulk`."""
    target = _prepare(Path(folder))
    when = service.clock.now()
    ids, total, request = _patients(service, actor, patients, caseload_of)
    files = _Files(target)
    exporter = _Exporter(service, actor, files)
    listed: set[str] = set()
    exported = skipped = done = 0
    try:
        for raw in ids:
            patient_id = PatientId(str(raw))
            if patients is not None:
                if patient_id in listed:
                    raise ValidationError(f"patient {patient_id} is listed twice", field="patients")
                listed.add(patient_id)
            try:
                exporter.patient(patient_id)
            except AccessDeniedError:
                if patients is not None:
                    raise
                skipped += 1
            else:
                exported += 1
            done += 1
            if progress is not None:
                progress("export", done, total)
        files.close()
        (target / MANIFEST_NAME).write_bytes(_manifest(when, request, files.counts))
    except BaseException:
        files.discard()
        raise
    return BulkExportReport(
        exported=exported, skipped=skipped, counts=files.counts, transaction_time=when
    )
