"""FHIR R4 (4.0.1) export and import of a patient's coordination record.

Pure dict/JSON mapping: this package needs nothing beyond the carecoord core,
and ``import carecoord`` does not import it. See ``docs/fhir.md``.

* :func:`export_bundle` turns a :class:`PatientRecord` into a FHIR ``collection``
  Bundle (a JSON-ready dict);
* :func:`import_bundle` reads such a Bundle (or real-world FHIR R4: Bundles
  of any type, standalone resources) into an immutable :class:`ImportedRecord`
  with an :class:`ImportReport` (mapped, defaulted, dropped, external), or
  raises :class:`~carecoord.FhirImportError` naming the resource and element
  path (``strict=True``: also on any default or drop);
* :func:`save_imported` stores an imported record in one unit of work (all or
  nothing, idempotent, matched by identifier; a :class:`SaveResult`);
  :meth:`PatientRecord.from_store` loads one;
* :func:`export_ndjson` / :func:`import_ndjson` move many patients as FHIR
  Bulk Data style NDJSON files (:mod:`carecoord.fhir.bulk`);
* records outside a patient's Bundle: :func:`schedule_bundle` (Schedule,
  Slot, PractitionerRole availability), :func:`visit_bundle` (Encounter,
  Observation), :func:`supply_bundle` (SupplyRequest, SupplyDelivery),
  :func:`coverage_resource` / :func:`coverage_from_resource`,
  :func:`document_reference`, :func:`measurements_from_bundle`,
  :func:`screening_bundle`, :func:`social_context_observations`,
  :func:`education_procedure`, :func:`directory_bundle` (the community
  resource directory as Organization, Location and HealthcareService),
  :func:`plan_definition` (a plan template as a PlanDefinition),
  :func:`program_definition` / :func:`episode_of_care` (a care program as a
  PlanDefinition, an enrolment in it as an EpisodeOfCare).

What FHIR cannot carry goes into extensions under :data:`EXTENSION_BASE`;
:func:`conformance_resources` returns their published definitions.
"""

from ._common import CANONICAL_BASE, CODE_SYSTEM_BASE, EXTENSION_BASE, ID_SYSTEM_BASE
from ._conformance import conformance_resources
from ._export_admin import coverage_resource, document_reference
from ._export_clinic import encounter_resource, observation_resource, supply_bundle, visit_bundle
from ._export_directory import directory_bundle
from ._export_programs import episode_of_care, program_definition
from ._export_schedule import schedule_bundle, schedule_resource, slot_resource
from ._export_social import education_procedure, screening_bundle, social_context_observations
from ._export_templates import plan_definition
from ._import import import_bundle
from ._import_admin import coverage_from_resource
from ._import_clinic import measurement_from_observation, measurements_from_bundle
from ._import_people import DEFAULT_ROLE
from ._import_report import (
    DefaultApplied,
    DroppedElement,
    ExternalReference,
    ImportReport,
    MappedResource,
)
from ._read_reader import IMPORT_STAFF_ID, UNNAMED
from .bulk import BulkExportReport, BulkFailure, BulkImportReport, export_ndjson, import_ndjson
from .export import export_bundle
from .record import ImportedRecord, PatientRecord, SaveResult, save_imported

__all__ = [
    "CANONICAL_BASE",
    "CODE_SYSTEM_BASE",
    "DEFAULT_ROLE",
    "EXTENSION_BASE",
    "ID_SYSTEM_BASE",
    "IMPORT_STAFF_ID",
    "UNNAMED",
    "BulkExportReport",
    "BulkFailure",
    "BulkImportReport",
    "DefaultApplied",
    "DroppedElement",
    "ExternalReference",
    "ImportReport",
    "ImportedRecord",
    "MappedResource",
    "PatientRecord",
    "SaveResult",
    "conformance_resources",
    "coverage_from_resource",
    "coverage_resource",
    "directory_bundle",
    "document_reference",
    "education_procedure",
    "encounter_resource",
    "episode_of_care",
    "export_bundle",
    "export_ndjson",
    "import_bundle",
    "import_ndjson",
    "measurement_from_observation",
    "measurements_from_bundle",
    "observation_resource",
    "plan_definition",
    "program_definition",
    "save_imported",
    "schedule_bundle",
    "schedule_resource",
    "screening_bundle",
    "slot_resource",
    "social_context_observations",
    "supply_bundle",
    "visit_bundle",
]
