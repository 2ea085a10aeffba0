"""carecoord -> FHIR R4 (4.0.1) JSON: one patient's record as a ``collection`` Bundle.

Pure dict building, no FHIR library. See ``docs/fhir.md`` for the mapping table.

The per-resource builders live in ``_export_care``, ``_export_referrals`` and
``_export_people``, the shared writers and the Bundle builder in ``_export_common``,
what is derived for Gravity and US Core readers in ``_derived``.
"""

from __future__ import annotations

from typing import Any

from ._derived import RecordIndex
from ._export_care import _assessment, _barrier, _care_plan, _reading, _review, reading, reading_key
from ._export_common import CONTACT_POINT_SYSTEMS as CONTACT_POINT_SYSTEMS
from ._export_common import FHIR_ID as FHIR_ID
from ._export_common import KIND_TYPES as KIND_TYPES
from ._export_common import STATUS_SYSTEMS as STATUS_SYSTEMS
from ._export_common import _Bundle
from ._export_common import relationship_system as relationship_system
from ._export_concerns import PATIENT_GOAL_SCOPE, _concern, _patient_goal, patient_goal_readings
from ._export_people import DECISION_STATUS as DECISION_STATUS
from ._export_people import (
    _audit,
    _care_team,
    _consent,
    _decision,
    _note,
    _patient,
    _practitioner,
)
from ._export_referrals import _appointment, _referral, _referral_target, register_target
from .record import ImportedRecord, PatientRecord

__all__ = ["export_bundle"]
# CONTACT_POINT_SYSTEMS, DECISION_STATUS, FHIR_ID, KIND_TYPES, STATUS_SYSTEMS and
# relationship_system are re-exported (``import X as X``): the FHIR import reads them here.


def export_bundle(
    record: PatientRecord | ImportedRecord, *, include_audit: bool = False
) -> dict[str, Any]:
    """Export one patient's record as a FHIR R4 (4.0.1) ``collection`` Bundle (a JSON dict).

    Deterministic: the same record gives the same Bundle. References carry the
    carecoord id as an identifier, plus the target's ``fullUrl`` when the
    target is in the Bundle. The record's resources come in record order,
    then the referral targets (one Organization or PractitionerRole per
    target) and the goal readings (Observations, a plan's goals' then the
    patient's own goals'), then the audit entries, which are included only
    with ``include_audit``. Health concerns and the patient's own goals come
    after the consents.
    """
    rec = record.record if isinstance(record, ImportedRecord) else record
    ix = RecordIndex(rec)
    b = _Bundle()
    # Register every resource first, so references resolve whatever the order.
    b.register("patient", rec.patient.id)
    for c in rec.patient.contacts:
        b.register("contact", c.id)
    for s in rec.staff:
        b.register("staff", s.id)
        b.register("staff", s.id, scope="role", rtype="PractitionerRole")
    for t in rec.care_teams:
        b.register("care-team", t.id)
    for a in rec.assessments:
        b.register("assessment", a.id)
        for n in a.needs:
            b.register("need", n.id, scope=a.id)
    for p in rec.plans:
        b.register("care-plan", p.id)
        for g in p.goals:
            b.register("goal", g.id, scope=p.id)
        for i in p.interventions:
            b.register("intervention", i.id, scope=p.id)
    targets = []
    for r in rec.referrals:
        b.register("referral", r.id)
        b.register("referral", r.id, scope="task", rtype="Task")
        if register_target(b, r):
            targets.append(r)
    for ap in rec.appointments:
        b.register("appointment", ap.id)
    for x in rec.barriers:
        b.register("barrier", x.id)
    for rv in rec.reviews:
        b.register("review", rv.id)
    for n2 in rec.notes:
        b.register("note", n2.id)
    for d in rec.decisions:
        b.register("decision", d.id, scope="decision")
    for c2 in rec.consents:
        b.register("consent", c2.id, scope="consent")
    for hc in rec.health_concerns:
        b.register("health-concern", hc.id)
    for pg in rec.patient_goals:
        b.register("goal", pg.id, scope=PATIENT_GOAL_SCOPE)
    for p in rec.plans:
        for g in p.goals:
            for k in range(len(g.readings)):
                b.register_plain("Observation", reading_key(p, g, k))
    for pg in rec.patient_goals:
        for key in patient_goal_readings(pg):
            b.register_plain("Observation", key)
    if include_audit:
        for e in rec.audit_entries:
            b.register("audit-entry", e.id)

    _patient(b, rec.patient)
    for s in rec.staff:
        _practitioner(b, s)
    for t in rec.care_teams:
        _care_team(b, t)
    for a in rec.assessments:
        _assessment(b, a)
    for p in rec.plans:
        _care_plan(b, p, ix)
    for r in rec.referrals:
        _referral(b, r, ix)
    for ap in rec.appointments:
        _appointment(b, ap)
    for x in rec.barriers:
        _barrier(b, x)
    for rv in rec.reviews:
        _review(b, rv)
    for n2 in rec.notes:
        _note(b, n2)
    for d in rec.decisions:
        _decision(b, d)
    for c2 in rec.consents:
        _consent(b, c2)
    for hc in rec.health_concerns:
        _concern(b, hc)
    for pg in rec.patient_goals:
        _patient_goal(b, pg, ix)
    for r in targets:
        _referral_target(b, r)
    for p in rec.plans:
        for g in p.goals:
            for k, one in enumerate(g.readings):
                _reading(b, p, g, k, one)
    for pg in rec.patient_goals:
        for key, one in zip(patient_goal_readings(pg), pg.goal.readings, strict=True):
            reading(b, key, pg.patient_id, one)
    if include_audit:
        for e in rec.audit_entries:
            _audit(b, e)
    return {"resourceType": "Bundle", "type": "collection", "entry": b.entries}
