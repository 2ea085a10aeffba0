"""FHIR R4 (4.0.1) export and import of a patient's coordination record.

Pure dict/JSON mapping: this package needs nothing beyond the carecoord core,
and ``import carecoord`` does not import it. See ``docs/fhir.md``.

* :func:`export_bundle` turns a :class:`PatientRecord` into a FHIR ``collection``
  Bundle (a JSON-ready dict);
* :func:`import_bundle` reads such a Bundle back into an immutable
  :class:`ImportedRecord`, or raises :class:`~carecoord.FhirImportError`
  naming the resource and element path;
* :func:`save_imported` stores an imported record in one unit of work (all or
  nothing); :meth:`PatientRecord.from_store` loads one.

What FHIR cannot carry goes into extensions under :data:`EXTENSION_BASE`;
:func:`conformance_resources` returns their published definitions.
"""

from ._common import CANONICAL_BASE, CODE_SYSTEM_BASE, EXTENSION_BASE, ID_SYSTEM_BASE
from ._conformance import conformance_resources
from ._import import import_bundle
from .export import export_bundle
from .record import ImportedRecord, PatientRecord, save_imported

__all__ = [
    "CANONICAL_BASE",
    "CODE_SYSTEM_BASE",
    "EXTENSION_BASE",
    "ID_SYSTEM_BASE",
    "ImportedRecord",
    "PatientRecord",
    "conformance_resources",
    "export_bundle",
    "import_bundle",
    "save_imported",
]
