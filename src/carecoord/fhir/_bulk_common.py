"""What the bulk NDJSON export and import share: the service they use, reports, JSON walking.

The bulk functions take the coordination service as a parameter; this adapter
package may not import :mod:`carecoord.service` (layers point inward), so
:class:`BulkService` describes the part of
:class:`~carecoord.CareCoordinator` they call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import attrs

from ..model import Patient, PatientId, StaffId, StaffMember
from ..storage import Store

__all__ = [
    "MANIFEST_NAME",
    "SHARED_TYPES",
    "BulkExportReport",
    "BulkFailure",
    "BulkImportReport",
    "BulkProgress",
    "BulkService",
    "json_line",
    "references",
    "rewrite_references",
]

MANIFEST_NAME = "manifest.json"
"""The file name of the Bulk Data style manifest in an export folder."""

SHARED_TYPES = frozenset({"Practitioner", "PractitionerRole"})
"""Resource types shared between patients: written once, under their own ids."""

BulkProgress = Callable[[str, int, int | None], None]
"""``progress(label, done, total)``: the shape a :class:`~carecoord.progress.Progress` takes."""

PATIENT_REF = re.compile(r"Patient/(?P<id>[A-Za-z0-9\-.]{1,64})")
"""A relative reference to a Patient resource."""


class _Clock(Protocol):
    def now(self) -> datetime: ...


class _Entities(Protocol):
    @property
    def patient(self) -> Patient: ...

    @property
    def entities(self) -> tuple[object, ...]: ...


class _Imported(Protocol):
    @property
    def created(self) -> bool: ...


class BulkService(Protocol):
    """The part of :class:`~carecoord.CareCoordinator` the bulk export and import use."""

    @property
    def store(self) -> Store:
        """The store (patient ids are listed and staff members read from it)."""
        ...

    @property
    def clock(self) -> _Clock:
        """The clock (the export's ``transactionTime``)."""
        ...

    def patient_record(
        self, patient_id: PatientId, *, actor: StaffId, kinds: Iterable[type[Any]]
    ) -> _Entities:
        """One patient's record, access-checked and audited as one read."""
        ...

    def caseload_patients(self, staff_id: StaffId, *, actor: StaffId) -> list[PatientId]:
        """The patients on a staff member's caseload."""
        ...

    def import_patient_record(
        self,
        patient: Patient,
        entities: Sequence[object],
        *,
        actor: StaffId,
        staff: Sequence[StaffMember] = ...,
    ) -> _Imported:
        """Store one patient's record as one audited operation."""
        ...


def _counts(value: Mapping[str, int]) -> Mapping[str, int]:
    return dict(sorted(value.items()))


@attrs.frozen
class BulkExportReport:
    """What :func:`~carecoord.fhir.bulk.export_ndjson` wrote.

    ``exported`` patients were written; ``skipped`` ones the actor may not read
    were left out. ``counts`` maps each resource type to its number of lines
    (its file is ``<type>.ndjson``); ``transaction_time`` is the manifest's.
    """

    exported: int
    skipped: int
    counts: Mapping[str, int] = attrs.field(converter=_counts)
    transaction_time: datetime

    @property
    def files(self) -> tuple[str, ...]:
        """The NDJSON file names written, by type."""
        return tuple(f"{rtype}.ndjson" for rtype in self.counts)


@attrs.frozen
class BulkFailure:
    """One patient (or resource) an import did not store, and why.

    ``resource`` is the Patient resource (``Patient/<id>``, or the unlinked
    resource itself); ``path`` names the file and line (``Task.ndjson:12``)
    and, for FHIR errors, the element; ``error`` is the error class name.
    Neither echoes a value.
    """

    resource: str
    error: str
    path: str
    message: str


@attrs.frozen
class BulkImportReport:
    """What :func:`~carecoord.fhir.bulk.import_ndjson` did.

    ``imported`` patients were stored; ``unchanged`` ones were stored already,
    identical, and left as they were; ``failed`` lists the patients (and
    unlinked resources) that were not stored. ``counts`` maps each resource
    type to the lines read.
    """

    imported: int
    unchanged: int
    failed: tuple[BulkFailure, ...]
    counts: Mapping[str, int] = attrs.field(converter=_counts)

    @property
    def ok(self) -> bool:
        """Whether everything in the files was stored (or already was)."""
        return not self.failed


def references(node: Any) -> Iterator[str]:
    """Every ``reference`` string in a JSON tree (a Reference, wherever it sits)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            target = item.get("reference")
            if isinstance(target, str):
                yield target
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def rewrite_references(node: Any, mapping: Mapping[str, str]) -> None:
    """Replace, in place, every ``reference`` string that is a key of ``mapping``."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            target = item.get("reference")
            if isinstance(target, str) and target in mapping:
                item["reference"] = mapping[target]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def json_line(resource: Mapping[str, Any]) -> bytes:
    """One NDJSON line: compact JSON, keys sorted, ending in ``\\n`` (none inside).

    Non-ASCII characters are written as ``\\u`` escapes: the line is plain
    ASCII (so valid UTF-8 whatever the text holds), and no character of it
    is a line break to any reader.
    """
    text = json.dumps(resource, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
    return text.encode("ascii") + b"\n"
