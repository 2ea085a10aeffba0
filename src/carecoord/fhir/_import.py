"""FHIR R4 JSON -> carecoord objects and an import report, with typed, path-named errors.

Every problem raises :class:`~carecoord.FhirImportError` naming the entry,
resource and element (``Bundle.entry[3].resource(Task/t-1).restriction.period.end``)
and what is wrong; values are never echoed. Nothing is returned unless the
whole input converts. What the import fills in, does not map, or finds
outside the input is reported (:class:`~._import_report.ImportReport`);
``strict`` turns the first default or drop into an error.

Layout: this module walks the input (:class:`_Importer` and :func:`import_bundle`);
the per-resource converters are mixins in ``_import_people.py`` (patient,
contacts, staff, care teams), ``_import_plans.py`` (assessments, needs, care
plans, tasks, barriers, reviews), ``_import_goals.py`` (goals and their
Observations), ``_import_concerns.py`` (health concerns, the patient's own
goals), ``_import_referrals.py`` (referrals with their targets),
``_import_appointments.py`` and ``_import_notes.py`` (notes, decisions, consents, audit),
on the base class of ``_read_reader.py``. What the export derives from the
record (``_derived.py``) is checked once the whole record is built. They read FHIR JSON with
``_read_values.py`` (primitives, codes, dates, extensions) and
``_read_datatypes.py`` (names, addresses, contact points, periods, status
history), sharing the input's index and references of ``_read_context.py``;
every resource is tracked (``_read_tracker.py``), so what no converter read is
reported as dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..model import CareCoordError, ConsentScope, FhirImportError, PatientId
from ._derived import RecordIndex
from ._import_appointments import _AppointmentReader
from ._import_concerns import _ConcernReader
from ._import_notes import _NoteReader
from ._import_people import _PeopleReader
from ._import_plans import _PlanReader
from ._import_referrals import _ReferralReader
from ._import_report import ImportReport, MappedResource, _Collector, collecting
from ._read_context import own_id
from ._read_datatypes import has_category
from ._read_tracker import read_keys, unread
from ._read_values import coded, ext_one, fail
from .record import ImportedRecord, PatientRecord

__all__ = ["import_bundle"]

_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"

_UNLINKED: dict[str, str] = {
    "Task": "a Task no CarePlan in the input lists and that fulfils no ServiceRequest",
    "PractitionerRole": (
        "a PractitionerRole of no Practitioner in the input and no referral's target"
    ),
    "Observation": "an Observation no Goal lists as an outcome (only goal readings are kept)",
    "Organization": "an Organization no referral is sent to",
}
_WHY: dict[str, str] = {
    "meta": "resource metadata (not kept)",
    "text": "narrative (not kept: carecoord keeps the structured data)",
    "extension": "extension carecoord does not know",
    "modifierExtension": "modifier extension carecoord does not know",
    "contained": "contained resources are not imported",
}


def _why(path: str, resource: str) -> str:
    """Why an unread element is dropped: its kind when it says more than "not mapped"."""
    last = re.sub(r"\[\d+\]$", "", path.rsplit(".", 1)[-1])
    if path.rsplit(".", 1)[0] == resource or last in ("extension", "modifierExtension"):
        return _WHY.get(last, "element carecoord does not map")
    return "element carecoord does not map"


def _order(path: str) -> list[Any]:
    """A sort key of element paths: numbers as numbers (entry[2] before entry[10])."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path)]


class _Importer(
    _PeopleReader, _PlanReader, _ConcernReader, _ReferralReader, _AppointmentReader, _NoteReader
):
    """Walks the input: converts each resource once, in order, into one record."""

    def run(self, collector: _Collector, strict: bool) -> ImportedRecord:
        patients = self.ctx.of_type("Patient")
        if len(patients) != 1:
            fail(self.ctx.where, "expected exactly one Patient")
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
        parts["care_teams"] = self.guard_all(self.ctx.of_type("CareTeam"), self.care_team)
        parts["assessments"] = tuple(
            self.guard(e, self.assessment) for e in self.ctx.of_type("ClinicalImpression")
        )
        conditions = self.ctx.of_type("Condition")
        parts["barriers"] = tuple(
            self.guard(e, self.barrier)
            for e in conditions
            if has_category(e.resource, e.path, "category", "barrier")
        )
        # every other Condition is a health concern of the patient's
        parts["health_concerns"] = self.guard_all(
            [e for e in conditions if not e.used], self.concern
        )
        parts["plans"] = tuple(self.guard(e, self.care_plan) for e in self.ctx.of_type("CarePlan"))
        # every Goal no plan lists is one of the patient's own
        parts["patient_goals"] = tuple(
            self.guard(e, self.patient_goal) for e in self.ctx.of_type("Goal") if not e.used
        )
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
            r = e.resource
            scope = coded(r.get("scope"), f"{e.path}.scope", _SCOPE, ConsentScope)
            if scope is ConsentScope.TREATMENT and ext_one(r, "recommendation", e.path) is not None:
                decisions.append(self.guard(e, self.decision))
            else:  # a consent to share with contacts, or one as another system wrote it
                consents.append(self.guard(e, self.consent))
        parts["decisions"] = tuple(decisions)
        parts["consents"] = tuple(consents)
        parts["audit_entries"] = tuple(
            self.guard(e, self.audit) for e in self.ctx.of_type("AuditEvent")
        )
        try:
            record = PatientRecord(**parts)
        except CareCoordError as exc:
            fail("Bundle", f"the record is inconsistent: {exc}")
        index = RecordIndex(record)
        for check in self.later:
            check(index)
        report = self._report(collector)
        if strict and not report.clean:
            if report.defaulted:
                d = report.defaulted[0]
                fail(d.path, f"strict import: a default would be applied ({d.reason})")
            x = report.dropped[0]
            fail(x.path, f"strict import: the element would be dropped ({x.reason})")
        return ImportedRecord(record=record, report=report)

    def _report(self, collector: _Collector) -> ImportReport:
        for path, why in self.ctx.skipped:
            collector.drop(path, why)
        mapped = []
        for e in self.ctx.entries:
            if not e.used:
                collector.drop(
                    e.path,
                    e.skipped or _UNLINKED.get(e.rtype, "resource not linked from the record"),
                )
                continue
            for path, value in unread(e.resource, e.path):
                collector.drop(path, _why(path, e.path))
                self.ctx.scan(value, path)
            if e.target is not None:
                mapped.append(
                    MappedResource(
                        path=e.path,
                        resource_type=e.rtype,
                        record_type=e.target[0],
                        record_id=e.target[1],
                        elements=tuple(
                            k for k in read_keys(e.resource) if k not in ("resourceType", "id")
                        ),
                    )
                )
        return ImportReport(
            mapped=tuple(mapped),
            defaulted=tuple(sorted(collector.defaulted.values(), key=lambda d: _order(d.path))),
            dropped=tuple(sorted(collector.dropped.values(), key=lambda d: _order(d.path))),
            external=tuple(sorted(collector.external.values(), key=lambda d: _order(d.path))),
        )


def import_bundle(bundle: Mapping[str, Any] | list[Any], *, strict: bool = False) -> ImportedRecord:
    """Import FHIR R4 JSON into carecoord objects, with a report of what was done.

    ``bundle`` is a Bundle of any type (``collection``, ``transaction``,
    ``batch``, ``searchset``, ``document``, ...), one resource on its own (a
    ``Patient``), or a JSON array of resources; exactly one ``Patient`` must be
    among them. Returns an immutable :class:`ImportedRecord` holding the whole
    record and its :class:`ImportReport` (every resource mapped, every default
    applied, every element dropped, every reference left outside), or raises
    :class:`~carecoord.FhirImportError` naming the resource and element path
    of the first problem (references whose target should be in the input and
    is not, codes outside their value set, naive or partial datetimes, wrong
    JSON types, ...). With ``strict``, a default or a drop is a problem too.
    Nothing is stored: see :func:`~carecoord.fhir.save_imported`.
    """
    with collecting() as collector:
        return _Importer(bundle).run(collector, strict)
