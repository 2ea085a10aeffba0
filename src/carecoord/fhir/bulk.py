"""FHIR Bulk Data style NDJSON: export a whole store or a caseload, import it elsewhere.

:func:`export_ndjson` writes one ``<ResourceType>.ndjson`` file per resource
type (one resource per line: compact JSON, keys sorted, ASCII) and a
``manifest.json`` shaped like the Bulk Data ``$export`` output
(``transactionTime``, ``request``, ``requiresAccessToken``, ``output`` with
``type`` / ``url`` / ``count``, ``error``). :func:`import_ndjson` reads such a
folder back into a store. Both stream: one patient's record is in memory at a
time, and both go through the coordination service, so every patient is one
access-checked, audited operation:

* the export reads each patient with
  :meth:`~carecoord.CareCoordinator.patient_record` (``read``, one audit entry);
* the import stores each patient with
  :meth:`~carecoord.CareCoordinator.import_patient_record` (``enrol``, one
  audit entry, all or nothing).

Resources in the files: each patient's record is exported as by
:func:`~carecoord.fhir.export_bundle`; references become relative
(``Patient/p-1``), the Patient keeps its id, staff resources
(``Practitioner``, ``PractitionerRole``) are shared between patients and
written once under their own ids, and every other resource gets an id derived
from its patient's, so ids never clash between patients. The carecoord id of
every resource stays in its ``identifier``. The same store gives the same
bytes; the manifest's ``transactionTime`` is the service clock's time.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..model import PatientId, StaffId
from ._bulk_common import (
    MANIFEST_NAME,
    BulkExportReport,
    BulkFailure,
    BulkImportReport,
    BulkProgress,
    BulkService,
)
from ._bulk_export import export_ndjson as _export
from ._bulk_import import import_ndjson as _import

__all__ = [
    "MANIFEST_NAME",
    "BulkExportReport",
    "BulkFailure",
    "BulkImportReport",
    "BulkProgress",
    "BulkService",
    "export_ndjson",
    "import_ndjson",
]


def export_ndjson(
    service: BulkService,
    folder: str | Path,
    *,
    actor: StaffId,
    patients: Iterable[PatientId | str] | None = None,
    caseload_of: StaffId | None = None,
    progress: BulkProgress | None = None,
) -> BulkExportReport:
    """Export patients' records to ``folder`` as NDJSON files plus ``manifest.json``.

    Which patients: ``patients`` (ids, in the order given; one the actor may
    not read raises :class:`~carecoord.AccessDeniedError`), or the caseload
    of the staff member ``caseload_of`` (see
    :meth:`~carecoord.CareCoordinator.caseload_patients`), or by default every
    patient in the store, by id. Without ``patients``, patients the actor may
    not read are skipped and counted in :attr:`BulkExportReport.skipped`.

    ``folder`` is created if needed and must not hold an export already. The
    files are appended patient by patient and the manifest is written last:
    if the export fails, every file it created is removed again (the reads
    already made stay audited). ``progress(label, done, total)`` is called
    after each patient; pass a :class:`~carecoord.progress.Progress`.

    Staff members (shared by patients, each with the reporting line above
    them) are read from the store once each. File system problems raise
    :class:`OSError`.
    """
    return _export(
        service, folder, actor=actor, patients=patients, caseload_of=caseload_of, progress=progress
    )


def import_ndjson(
    service: BulkService,
    folder: str | Path,
    *,
    actor: StaffId,
    strict: bool = False,
    progress: BulkProgress | None = None,
) -> BulkImportReport:
    """Import the NDJSON files ``folder``'s ``manifest.json`` lists, patient by patient.

    First every line is read once and checked: a JSON object of its file's
    resource type with a valid id, referring to at most one patient, each
    referred patient present, the line counts as the manifest says. A damaged
    line raises :class:`~carecoord.FhirImportError` naming ``file:line``
    before anything is stored. Audit events are not imported.

    Then each patient (in ``Patient`` file order) is rebuilt as a Bundle with
    the staff resources it refers to, imported with
    :func:`~carecoord.fhir.import_bundle` and stored in one unit of work, all
    or nothing. When a patient fails (a FHIR error, reported at
    ``file:line`` and element path; a conflict with the store; access
    refused), that patient is not stored, the report lists it in
    :attr:`BulkImportReport.failed`, and the others go on. With
    ``strict=True`` the first failure is raised instead (patients stored
    before it stay stored). A patient already stored with an identical record
    counts as ``unchanged``, so importing the same files again changes nothing.
    A staff resource no patient refers to is listed as a failure (raised at
    the end with ``strict``). File system problems raise :class:`OSError`.
    """
    return _import(service, folder, actor=actor, strict=strict, progress=progress)
