"""The bulk NDJSON import: index the files once, then rebuild and store one patient at a time.

The first pass reads every line once, checks it (a JSON object of the file's
resource type, with an id, naming at most one patient) and keeps only where
it is: three integers per line, grouped by the patient it refers to.
Resources that refer to no patient (staff) form a pool, looked up by
``Type/id``. A damaged line stops the import here, before anything is stored.

The second pass takes the patients in ``Patient`` file order: it reads the
patient's lines back, adds the pool resources they refer to, builds a Bundle,
imports it with :func:`~carecoord.fhir.import_bundle` and stores it through
:meth:`~carecoord.CareCoordinator.import_patient_record`. Errors are
reported against the file and line the resource came from.
"""

from __future__ import annotations

import json
import re
from array import array
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import IO, Any

import attrs

from ..model import (
    AccessDeniedError,
    ConflictError,
    FhirImportError,
    NotFoundError,
    StaffId,
    ValidationError,
)
from ._bulk_common import (
    MANIFEST_NAME,
    PATIENT_REF,
    BulkFailure,
    BulkImportReport,
    BulkProgress,
    BulkService,
    references,
)
from ._import import import_bundle
from .export import FHIR_ID

__all__ = ["import_ndjson"]

_TYPE = re.compile(r"[A-Z][A-Za-z]{1,63}")
_REL_REF = re.compile(r"[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}")
_ENTRY = re.compile(r"Bundle\.entry\[(?P<n>\d+)\](?P<rest>.*)", re.DOTALL)
_FOLLOWERS = frozenset({"PractitionerRole"})
"""Pool types taken along with whatever they refer to (a Practitioner's roles)."""
_PATIENT_ERRORS = (ValidationError, ConflictError, AccessDeniedError, NotFoundError)
"""What storing one patient may raise that fails that patient only (FhirImportError is a
ValidationError). Other errors, a failing database for one, stop the import."""


def _fail(path: str, message: str) -> FhirImportError:
    return FhirImportError(message, path=path)


@attrs.frozen
class _File:
    rtype: str
    name: str
    path: Path
    count: int | None


def _manifest(folder: Path) -> list[_File]:
    where = MANIFEST_NAME
    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_bytes())
    except FileNotFoundError:
        raise _fail(where, "no manifest in the folder") from None
    except (ValueError, UnicodeDecodeError):
        raise _fail(where, "not valid JSON") from None
    if not isinstance(manifest, dict):
        raise _fail(where, "expected a JSON object")
    if manifest.get("error"):
        raise _fail(f"{where} error", "the export reported errors; not importing it")
    output = manifest.get("output")
    if not isinstance(output, list):
        raise _fail(f"{where} output", "expected a list")
    files: list[_File] = []
    names: set[str] = set()
    for n, item in enumerate(output):
        at = f"{where} output[{n}]"
        if not isinstance(item, dict):
            raise _fail(at, "expected a JSON object")
        rtype, url, count = item.get("type"), item.get("url"), item.get("count")
        if not isinstance(rtype, str) or not _TYPE.fullmatch(rtype):
            raise _fail(f"{at}.type", "not a resource type")
        if rtype == "AuditEvent":
            raise _fail(f"{at}.type", "audit events are not imported (the store keeps its own)")
        if not isinstance(url, str):
            raise _fail(f"{at}.url", "expected a string")
        name = url.rsplit("/", 1)[-1]
        if name in ("", ".", "..") or PurePosixPath(name).name != name or "\\" in name:
            raise _fail(f"{at}.url", "not a file name")
        if name in names:
            raise _fail(f"{at}.url", "file listed twice")
        names.add(name)
        if count is not None and (not isinstance(count, int) or count < 0):
            raise _fail(f"{at}.count", "expected a count")
        path = folder / name
        if not path.is_file():
            raise _fail(f"{at}.url", f"file {name} not found in the folder")
        files.append(_File(rtype, name, path, count))
    return files


class _Index:
    """Where every line is, by patient (pass one)."""

    def __init__(self, files: list[_File]) -> None:
        self.files = files
        self.groups: dict[str, array[int]] = {}
        """Patient resource id -> (file, line, offset) triples, flattened."""
        self.patients: list[str] = []
        """Patient resource ids in file order."""
        self.patient_lines: dict[str, str] = {}
        """Patient resource id -> ``file:line`` of the Patient."""
        self.pool: dict[str, tuple[int, int, int]] = {}
        """``Type/id`` of a resource naming no patient -> (file, line, offset)."""
        self.followers: dict[str, list[str]] = {}
        """``Type/id`` -> the pool followers (roles) referring to it."""
        self.counts: dict[str, int] = {}

    def where(self, file_no: int, line: int) -> str:
        return f"{self.files[file_no].name}:{line}"

    def build(self) -> None:
        first: dict[str, tuple[int, int]] = {}  # where each patient is first referred to
        for file_no, file in enumerate(self.files):
            lines = 0
            for line, offset, resource in self._read(file_no):
                lines += 1
                at = self.where(file_no, line)
                rid = resource["id"]
                if file.rtype == "Patient":
                    if rid in self.patient_lines:
                        raise _fail(at, "duplicate Patient id")
                    self.patient_lines[rid] = at
                    self.patients.append(rid)
                    key: str | None = rid
                else:
                    key = self._patient_of(resource, at)
                if key is None:
                    self._pool(file.rtype, f"{file.rtype}/{rid}", resource, (file_no, line, offset))
                    continue
                first.setdefault(key, (file_no, line))
                self.groups.setdefault(key, array("q")).extend((file_no, line, offset))
            if file.count is not None and file.count != lines:
                raise _fail(file.name, f"{lines} line(s), but the manifest says {file.count}")
            self.counts[file.rtype] = self.counts.get(file.rtype, 0) + lines
        for key, (file_no, line) in first.items():
            if key not in self.patient_lines:
                raise _fail(self.where(file_no, line), "refers to a patient not in the files")

    def _pool(
        self, rtype: str, ref: str, resource: Mapping[str, Any], found: tuple[int, int, int]
    ) -> None:
        if ref in self.pool:
            raise _fail(self.where(found[0], found[1]), "duplicate resource id")
        self.pool[ref] = found
        if rtype in _FOLLOWERS:
            for target in set(references(resource)):
                self.followers.setdefault(target, []).append(ref)

    def _read(self, file_no: int) -> Iterator[tuple[int, int, dict[str, Any]]]:
        file = self.files[file_no]
        with file.path.open("rb") as handle:
            offset = 0
            for line, raw in enumerate(handle, start=1):
                yield line, offset, self.parse(raw, file_no, line)
                offset += len(raw)

    def parse(self, raw: bytes, file_no: int, line: int) -> dict[str, Any]:
        """One line as a resource of the file's type, with a valid id (or FhirImportError)."""
        at = self.where(file_no, line)
        if not raw.strip():
            raise _fail(at, "empty line")
        try:
            resource = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise _fail(at, "not valid JSON") from None
        if not isinstance(resource, dict):
            raise _fail(at, "expected a JSON object")
        if resource.get("resourceType") != self.files[file_no].rtype:
            raise _fail(f"{at} resourceType", "not the file's resource type")
        rid = resource.get("id")
        if not isinstance(rid, str) or not FHIR_ID.fullmatch(rid):
            raise _fail(f"{at} id", "missing or not a valid FHIR id")
        return resource

    @staticmethod
    def _patient_of(resource: Mapping[str, Any], at: str) -> str | None:
        found = {
            match["id"] for ref in references(resource) if (match := PATIENT_REF.fullmatch(ref))
        }
        if len(found) > 1:
            raise _fail(at, "refers to more than one patient")
        return found.pop() if found else None


class _Reader:
    """Pass two: one patient's resources read back, as a Bundle, with their lines."""

    def __init__(self, index: _Index) -> None:
        self.index = index
        self.used_pool: set[str] = set()
        self._handles: dict[int, IO[bytes]] = {}

    def close(self) -> None:
        while self._handles:
            self._handles.popitem()[1].close()

    def _load(self, file_no: int, line: int, offset: int) -> dict[str, Any]:
        handle = self._handles.get(file_no)
        if handle is None:
            handle = self._handles[file_no] = self.index.files[file_no].path.open("rb")
        handle.seek(offset)
        return self.index.parse(handle.readline(), file_no, line)

    def bundle(self, key: str) -> tuple[dict[str, Any], list[str]]:
        """The Bundle of patient ``key`` and, per entry, the ``file:line`` it came from."""
        resources: list[dict[str, Any]] = []
        where: list[str] = []
        own: set[str] = set()
        triples = self.index.groups[key]
        for n in range(0, len(triples), 3):
            file_no, line, offset = triples[n], triples[n + 1], triples[n + 2]
            resource = self._load(file_no, line, offset)
            resources.append(resource)
            where.append(self.index.where(file_no, line))
            own.add(f"{resource['resourceType']}/{resource['id']}")
        wanted = [ref for r in resources for ref in references(r)]
        taken: set[str] = set()
        while wanted:
            ref = wanted.pop()
            if ref in own or ref in taken or not _REL_REF.fullmatch(ref):
                continue
            found = self.index.pool.get(ref)
            if found is None:
                continue  # the Bundle import names the reference it cannot resolve
            taken.add(ref)
            self.used_pool.add(ref)
            resource = self._load(*found)
            resources.append(resource)
            where.append(self.index.where(found[0], found[1]))
            wanted.extend(references(resource))
            wanted.extend(self.index.followers.get(ref, ()))
        entries = [{"resource": r} for r in resources]
        return {"resourceType": "Bundle", "type": "collection", "entry": entries}, where


def _located(exc: FhirImportError, where: list[str], patient_line: str) -> FhirImportError:
    """``exc`` with its Bundle path turned into ``file:line`` and the element path."""
    message = str(exc).removeprefix(f"{exc.path}: ")
    match = _ENTRY.fullmatch(exc.path)
    if match and int(match["n"]) < len(where):
        rest = match["rest"].removeprefix(".")
        path = f"{where[int(match['n'])]} {rest}" if rest else where[int(match["n"])]
    else:
        path = f"{patient_line} {exc.path}"
    return FhirImportError(message, path=path)


def import_ndjson(
    service: BulkService,
    folder: str | Path,
    *,
    actor: StaffId,
    strict: bool = False,
    progress: BulkProgress | None = None,
) -> BulkImportReport:
    """Import a bulk NDJSON export, patient by patient; see :mod:`carecoord.fhir.bulk`."""
    index = _Index(_manifest(Path(folder)))
    index.build()
    reader = _Reader(index)
    failed: list[BulkFailure] = []
    imported = unchanged = 0
    total = len(index.patients)
    try:
        for done, key in enumerate(index.patients, start=1):
            patient_line = index.patient_lines[key]
            try:
                bundle, where = reader.bundle(key)
                try:
                    record = import_bundle(bundle).record
                except FhirImportError as exc:
                    raise _located(exc, where, patient_line) from None
                del bundle
                result = service.import_patient_record(
                    record.patient,
                    tuple(record.entities())[1:],
                    actor=actor,
                    staff=record.staff,
                )
                del record
            except _PATIENT_ERRORS as exc:
                if strict:
                    raise
                path = exc.path if isinstance(exc, FhirImportError) else patient_line
                message = str(exc).removeprefix(f"{path}: ")
                failed.append(BulkFailure(f"Patient/{key}", type(exc).__name__, path, message))
            else:
                if result.created:
                    imported += 1
                else:
                    unchanged += 1
            if progress is not None:
                progress("import", done, total)
    finally:
        reader.close()
    for ref in sorted(set(index.pool) - reader.used_pool, key=lambda r: index.pool[r]):
        file_no, line, _ = index.pool[ref]
        error = _fail(index.where(file_no, line), "resource is not linked to any patient")
        if strict:
            raise error
        failed.append(
            BulkFailure(ref, "FhirImportError", error.path, "resource is not linked to any patient")
        )
    return BulkImportReport(
        imported=imported, unchanged=unchanged, failed=tuple(failed), counts=index.counts
    )
