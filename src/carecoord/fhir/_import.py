"""FHIR R4 JSON Bundle -> carecoord objects, with typed, path-named errors.

Every problem raises :class:`~carecoord.FhirImportError` naming the entry,
resource and element (``Bundle.entry[3].resource(Task/t-1).restriction.period.end``)
and what is wrong; values are never echoed. Nothing is returned unless the
whole Bundle converts.

Layout: this module walks the Bundle (:class:`_Importer` and :func:`import_bundle`);
the per-resource converters are mixins in ``_import_people.py`` (patient,
contacts, staff, care teams), ``_import_plans.py`` (assessments, needs, care
plans, goals, tasks, barriers, reviews), ``_import_referrals.py`` (referrals,
appointments) and ``_import_notes.py`` (notes, decisions, consents, audit).
They read FHIR JSON with ``_read_values.py`` (primitives, codes, dates,
extensions) and ``_read_datatypes.py`` (names, contact points, periods, status
history), sharing the Bundle index and references of ``_read_context.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from ..model import CareCoordError, FhirImportError, PatientId
from ._import_notes import _NoteReader
from ._import_people import _PeopleReader
from ._import_plans import _PlanReader
from ._import_referrals import _ReferralReader
from ._read_context import own_id
from ._read_datatypes import has_category
from ._read_values import coded, fail
from .record import ImportedRecord, PatientRecord

__all__ = ["import_bundle"]

_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"


class _Scope(StrEnum):
    ADR = "adr"
    RESEARCH = "research"
    PRIVACY = "patient-privacy"
    TREATMENT = "treatment"


class _Importer(_PeopleReader, _PlanReader, _ReferralReader, _NoteReader):
    """Walks the Bundle: converts each resource once, in order, into one record."""

    def run(self) -> ImportedRecord:
        patients = self.ctx.of_type("Patient")
        if len(patients) != 1:
            fail("Bundle.entry", "expected exactly one Patient")
        # the patient id first: everything else must refer to it
        first = patients[0]
        try:
            self.patient_id = PatientId(own_id(first.resource, first.path, "patient"))
        except FhirImportError:
            raise
        except CareCoordError as exc:  # id messages name the rule, never the value
            fail(first.path, f"not a valid carecoord record: {exc}")
        parts: dict[str, Any] = {}
        parts["patient"] = self.guard(patients[0], self.patient)
        parts["staff"] = tuple(
            self.guard(e, self.practitioner) for e in self.ctx.of_type("Practitioner")
        )
        for e in self.ctx.of_type("PractitionerRole"):
            if not e.used:
                fail(e.path, "PractitionerRole of no Practitioner in the Bundle")
        parts["care_teams"] = tuple(
            self.guard(e, self.care_team) for e in self.ctx.of_type("CareTeam")
        )
        parts["assessments"] = tuple(
            self.guard(e, self.assessment) for e in self.ctx.of_type("ClinicalImpression")
        )
        conditions = self.ctx.of_type("Condition")
        parts["barriers"] = tuple(
            self.guard(e, self.barrier)
            for e in conditions
            if has_category(e.resource, e.path, "category", "barrier")
        )
        parts["plans"] = tuple(self.guard(e, self.care_plan) for e in self.ctx.of_type("CarePlan"))
        parts["referrals"] = tuple(
            self.guard(e, self.referral) for e in self.ctx.of_type("ServiceRequest")
        )
        parts["appointments"] = tuple(
            self.guard(e, self.appointment) for e in self.ctx.of_type("Appointment")
        )
        parts["reviews"] = tuple(self.guard(e, self.review) for e in self.ctx.of_type("Basic"))
        parts["notes"] = tuple(self.guard(e, self.note) for e in self.ctx.of_type("Communication"))
        decisions, consents = [], []
        for e in self.ctx.of_type("Consent"):
            scope = coded(e.resource.get("scope"), f"{e.path}.scope", _SCOPE, _Scope)
            if scope is _Scope.TREATMENT:
                decisions.append(self.guard(e, self.decision))
            elif scope is _Scope.PRIVACY:
                consents.append(self.guard(e, self.consent))
            else:
                fail(f"{e.path}.scope", "consent scope has no carecoord equivalent")
        parts["decisions"] = tuple(decisions)
        parts["consents"] = tuple(consents)
        parts["audit_entries"] = tuple(
            self.guard(e, self.audit) for e in self.ctx.of_type("AuditEvent")
        )
        for e in self.ctx.entries:
            if not e.used:
                fail(e.path, "resource is not part of the record (not linked from a parent)")
        try:
            record = PatientRecord(**parts)
        except CareCoordError as exc:
            fail("Bundle", f"the record is inconsistent: {exc}")
        return ImportedRecord(record=record)


def import_bundle(bundle: Mapping[str, Any]) -> ImportedRecord:
    """Import a FHIR R4 JSON Bundle (as written by :func:`export_bundle`) into carecoord objects.

    Returns an immutable :class:`ImportedRecord` holding the whole record, or
    raises :class:`~carecoord.FhirImportError` naming the resource and element
    path of the first problem (unknown resource types, references to resources
    missing from the Bundle, codes outside their value set, naive or partial
    datetimes, wrong JSON types, ...). Nothing is stored: see
    :func:`~carecoord.fhir.save_imported`.
    """
    return _Importer(bundle).run()
