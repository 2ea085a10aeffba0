"""FHIR export of referrals and appointments, in the Gravity closed-loop referral pattern.

A referral is a ``ServiceRequest`` (with the SDOH categories and the conditions
it addresses, derived in ``_derived``) plus a ``Task`` tracking its fulfilment
(``businessStatus`` the carecoord state, ``output`` the outcome and the
appointments it led to, and what another system holds that it resulted in).
Its target is an ``Organization`` or, for a provider or specialist, a
``PractitionerRole``, one resource per target that every referral to it
shares; ``performer`` and ``owner`` refer to it. A target another system holds
(``Referral.target``) is referred to as it was kept, with the target's name as
its display. ``reasonReference`` lists the conditions derived from the record,
then the health concerns, then other systems' conditions it addresses.
"""

from __future__ import annotations

from typing import Any

from ..model import Appointment, Referral, ReferralStatus
from ._common import cs, ext_url
from ._derived import RESULTING_ACTIVITY, SDOH_SYSTEM, RecordIndex, target_key, target_type
from ._export_common import (
    STATUS_SYSTEMS,
    _Bundle,
    coding,
    concept,
    external_ref,
    history,
    put_dt,
)

__all__ = [
    "REFERRAL_SR_STATUS",
    "REFERRAL_TASK_STATUS",
    "_appointment",
    "_referral",
    "_referral_target",
    "register_target",
]

# SR status and Task status for each closed-loop referral state (Gravity pattern).
REFERRAL_SR_STATUS: dict[ReferralStatus, str] = {
    ReferralStatus.DRAFT: "draft",
    ReferralStatus.SENT: "active",
    ReferralStatus.RECEIVED: "active",
    ReferralStatus.ACCEPTED: "active",
    ReferralStatus.SCHEDULED: "active",
    ReferralStatus.IN_PROGRESS: "active",
    ReferralStatus.COMPLETED: "completed",
    ReferralStatus.RESULT_RECEIVED: "completed",
    ReferralStatus.DECLINED: "revoked",
    ReferralStatus.CANCELLED: "revoked",
    ReferralStatus.FAILED: "revoked",
    ReferralStatus.ENTERED_IN_ERROR: "entered-in-error",
}
REFERRAL_TASK_STATUS: dict[ReferralStatus, str] = {
    ReferralStatus.DRAFT: "draft",
    ReferralStatus.SENT: "requested",
    ReferralStatus.RECEIVED: "received",
    ReferralStatus.ACCEPTED: "accepted",
    ReferralStatus.SCHEDULED: "accepted",
    ReferralStatus.IN_PROGRESS: "in-progress",
    ReferralStatus.COMPLETED: "completed",
    ReferralStatus.RESULT_RECEIVED: "completed",
    ReferralStatus.DECLINED: "rejected",
    ReferralStatus.CANCELLED: "cancelled",
    ReferralStatus.FAILED: "failed",
    ReferralStatus.ENTERED_IN_ERROR: "entered-in-error",
}


def register_target(b: _Bundle, r: Referral) -> bool:
    """Register the referral's target resource; whether it is the first referral to it.

    A target another system holds (``r.target``) has no resource in the Bundle.
    """
    if r.target is not None:
        return False
    rtype, key = target_type(r.target_kind), target_key(r.target_kind, r.target_name)
    known = key in b.plain_keys(rtype)
    b.register_plain(rtype, key)
    return not known


def _target_ref(b: _Bundle, r: Referral) -> dict[str, Any]:
    if r.target is not None:
        return external_ref(r.target, display=r.target_name)
    rtype = target_type(r.target_kind)
    return b.plain_ref(rtype, target_key(r.target_kind, r.target_name), r.target_name)


def _referral_target(b: _Bundle, r: Referral) -> None:
    """The Organization (or PractitionerRole of a named person) the referral goes to."""
    kind_code = [concept(cs("referral-target-kind"), r.target_kind.value)]
    rtype, key = target_type(r.target_kind), target_key(r.target_kind, r.target_name)
    if rtype == "Organization":
        b.add_plain(rtype, key, {"type": kind_code, "name": r.target_name})
    else:
        body = {"practitioner": {"display": r.target_name}, "code": kind_code}
        b.add_plain(rtype, key, body)


def _referral(b: _Bundle, r: Referral, ix: RecordIndex) -> None:
    ext: list[dict[str, Any]] = [
        {"url": ext_url("goal"), "valueReference": b.ref("goal", g)} for g in r.goal_ids
    ]
    if r.intervention_id is not None:
        ext.append(
            {
                "url": ext_url("intervention"),
                "valueReference": b.ref("intervention", r.intervention_id),
            }
        )
    sr: dict[str, Any] = {
        "status": REFERRAL_SR_STATUS[r.status],
        "intent": "order",
        "category": [
            concept(cs("record-category"), "referral"),
            *(concept(SDOH_SYSTEM, code) for code in ix.referral_categories(r)),
        ],
        "priority": r.priority.value,
        "code": {"text": r.service},
        "subject": b.ref("patient", r.patient_id),
        "requester": b.ref("staff", r.requested_by),
        "performerType": concept(cs("referral-target-kind"), r.target_kind.value),
        "performer": [_target_ref(b, r)],
    }
    if ext:
        sr["extension"] = ext
    put_dt(sr, "authoredOn", r.created_at)
    if r.plan_id is not None:
        sr["basedOn"] = [b.ref("care-plan", r.plan_id)]
    if r.reason is not None:
        sr["reasonCode"] = [{"text": r.reason}]
    reasons = [b.ref(kind, cid) for kind, cid in ix.referral_reasons(r)]
    reasons += [b.ref("health-concern", c) for c in r.concern_ids]
    reasons += [external_ref(x) for x in r.reason_refs]
    if reasons:
        sr["reasonReference"] = reasons
    b.add("referral", r.id, sr)
    task: dict[str, Any] = {
        "status": REFERRAL_TASK_STATUS[r.status],
        "businessStatus": concept(cs("referral-status"), r.status.value),
        "intent": "order",
        "priority": r.priority.value,
        "code": concept("http://hl7.org/fhir/CodeSystem/task-code", "fulfill"),
        "focus": b.ref("referral", r.id),
        "for": b.ref("patient", r.patient_id),
        "requester": b.ref("staff", r.requested_by),
        "owner": _target_ref(b, r),
    }
    if r.history:
        task["extension"] = history(b, r.history, STATUS_SYSTEMS["Referral"])
    put_dt(task, "authoredOn", r.created_at)
    outputs: list[dict[str, Any]] = []
    if r.outcome is not None:
        kind = {
            "coding": [
                coding(SDOH_SYSTEM, RESULTING_ACTIVITY),
                coding(cs("record-category"), "referral-outcome"),
            ]
        }
        outputs.append({"type": kind, "valueString": r.outcome})
    outputs += [
        {"type": concept(SDOH_SYSTEM, RESULTING_ACTIVITY), "valueReference": external_ref(x)}
        for x in r.outcome_refs
    ]
    outputs += [
        {
            "type": concept(SDOH_SYSTEM, RESULTING_ACTIVITY),
            "valueReference": b.ref("appointment", appointment),
        }
        for appointment in ix.referral_activities(r)
    ]
    if outputs:
        task["output"] = outputs
    b.add("referral", r.id, task, scope="task", rtype="Task")


def _appointment(b: _Bundle, a: Appointment) -> None:
    ext: list[dict[str, Any]] = [
        {"url": ext_url("transport-needed"), "valueBoolean": a.transport_needed}
    ]
    if a.booked_by is not None:
        ext.append({"url": ext_url("booked-by"), "valueReference": b.ref("staff", a.booked_by)})
    if a.intervention_id is not None:
        ext.append(
            {
                "url": ext_url("intervention"),
                "valueReference": b.ref("intervention", a.intervention_id),
            }
        )
    ext += history(b, a.history, STATUS_SYSTEMS["Appointment"])
    v3 = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
    body: dict[str, Any] = {
        "extension": ext,
        "status": a.status.value,
        "participant": [
            {"actor": b.ref("patient", a.patient_id), "status": "accepted"},
            {
                "type": [concept(v3, "PPRF")],
                "actor": {"display": a.provider},
                "status": "accepted",
            },
            {
                "type": [concept(v3, "LOC")],
                "actor": {"type": "Location", "display": a.location},
                "status": "accepted",
            },
        ],
    }
    put_dt(body, "start", a.start)
    put_dt(body, "end", a.end)
    if a.referral_id is not None:
        body["basedOn"] = [b.ref("referral", a.referral_id)]
    b.add("appointment", a.id, body)
