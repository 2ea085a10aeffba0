"""FHIR export of the care work: assessments and needs, care plans with their goals
and tasks, referrals, appointments, barriers and plan reviews.

Each builder adds its resources to the :class:`~._export_common._Bundle`;
:func:`~carecoord.fhir.export.export_bundle` calls them in record order.
"""

from __future__ import annotations

from typing import Any

from ..model import (
    Appointment,
    Assessment,
    Barrier,
    CarePlan,
    Goal,
    Intervention,
    Referral,
    ReferralStatus,
    Review,
    Target,
)
from ._common import cs, ext_url
from ._export_common import (
    STATUS_SYSTEMS,
    _Bundle,
    _string_ext,
    cadence,
    code_concept,
    coding,
    concept,
    decimal,
    ext_dt,
    history,
    links,
    period,
    put_dt,
)

__all__ = [
    "REFERRAL_SR_STATUS",
    "REFERRAL_TASK_STATUS",
    "_appointment",
    "_assessment",
    "_barrier",
    "_care_plan",
    "_referral",
    "_review",
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


def _assessment(b: _Bundle, a: Assessment) -> None:
    findings = []
    for f in a.findings:
        cc, extra = code_concept(f.code, f.text)
        findings.append(
            {
                "extension": [
                    {"url": ext_url("finding-id"), "valueString": f.id},
                    {
                        "url": ext_url("assessment-domain"),
                        "valueCoding": coding(cs("assessment-domain"), f.domain.value),
                    },
                    *extra,
                ],
                "itemCodeableConcept": cc,
            }
        )
    body: dict[str, Any] = {
        "status": "completed",
        "subject": b.ref("patient", a.patient_id),
        "assessor": b.ref("staff", a.performed_by),
    }
    put_dt(body, "effectiveDateTime", a.performed_at)
    if a.needs:
        body["problem"] = [b.ref("need", n.id, scope=a.id) for n in a.needs]
    if findings:
        body["finding"] = findings
    b.add("assessment", a.id, body)
    for need in a.needs:
        cc, extra = code_concept(need.code, need.description)
        b.add(
            "need",
            need.id,
            {
                "extension": [
                    {
                        "url": ext_url("need-priority"),
                        "valueCoding": coding(cs("need-priority"), need.priority.value),
                    },
                    *[
                        {"url": ext_url("finding-id"), "valueString": fid}
                        for fid in need.finding_ids
                    ],
                    *extra,
                ],
                "clinicalStatus": concept(
                    "http://terminology.hl7.org/CodeSystem/condition-clinical", need.status.value
                ),
                "category": [
                    concept(
                        "http://terminology.hl7.org/CodeSystem/condition-category",
                        "problem-list-item",
                    ),
                    concept(
                        "http://hl7.org/fhir/us/core/CodeSystem/condition-category",
                        "health-concern",
                    ),
                    concept(cs("record-category"), "need"),
                    concept(cs("assessment-domain"), need.domain.value),
                ],
                "code": cc,
                "subject": b.ref("patient", a.patient_id),
            },
            scope=a.id,
        )


def _target(t: Target) -> dict[str, Any]:
    out: dict[str, Any] = {"measure": {"text": t.measure}}
    if t.quantity is not None:
        q: dict[str, Any] = {"value": decimal(t.quantity.value), "unit": t.quantity.unit}
        if t.quantity.comparator is not None:
            q["comparator"] = t.quantity.comparator.value
        out["detailQuantity"] = q
    elif t.range is not None:
        r: dict[str, Any] = {}
        if t.range.low is not None:
            r["low"] = {"value": decimal(t.range.low), "unit": t.range.unit}
        if t.range.high is not None:
            r["high"] = {"value": decimal(t.range.high), "unit": t.range.unit}
        out["detailRange"] = r
    if t.due is not None:
        out["dueDate"] = t.due.isoformat()
    return out


def _goal(b: _Bundle, plan: CarePlan, g: Goal) -> None:
    ext = [
        {
            "url": ext_url("progress-reading"),
            "extension": [
                {"url": "measure", "valueString": r.measure},
                {"url": "value", "valueDecimal": decimal(r.value)},
                {"url": "unit", "valueString": r.unit},
                ext_dt("at", r.at),
                {"url": "recorded-by", "valueReference": b.ref("staff", r.recorded_by)},
            ],
        }
        for r in g.readings
    ]
    ext += history(b, g.history, STATUS_SYSTEMS["Goal"])
    body: dict[str, Any] = {
        "lifecycleStatus": g.lifecycle_status.value,
        "priority": concept(
            "http://terminology.hl7.org/CodeSystem/goal-priority", g.priority.value
        ),
        "description": {"text": g.description},
        "subject": b.ref("patient", plan.patient_id),
    }
    if ext:
        body["extension"] = ext
    if g.achievement_status is not None:
        body["achievementStatus"] = concept(
            "http://terminology.hl7.org/CodeSystem/goal-achievement", g.achievement_status.value
        )
    if g.start is not None:
        body["startDate"] = g.start.isoformat()
    if g.targets:
        body["target"] = [_target(t) for t in g.targets]
    if g.addresses:
        body["addresses"] = [b.ref("need", n) for n in g.addresses]
    b.add("goal", g.id, body, scope=plan.id)


def _task(b: _Bundle, plan: CarePlan, i: Intervention) -> None:
    ext: list[dict[str, Any]] = [
        {"url": ext_url("goal"), "valueReference": b.ref("goal", g, scope=plan.id)}
        for g in i.goal_ids
    ]
    ext += [
        {"url": ext_url("barrier"), "valueReference": b.ref("barrier", x)} for x in i.barrier_ids
    ]
    if i.cadence is not None:
        ext.append(cadence(ext_url("cadence"), i.cadence))
    ext += history(b, i.history, STATUS_SYSTEMS["Task"])
    body: dict[str, Any] = {
        "basedOn": [b.ref("care-plan", plan.id)],
        "status": i.status.value,
        "intent": "plan",
        "priority": i.priority.value,
        "code": concept(cs("intervention-kind"), i.kind.value),
        "description": i.description,
        "for": b.ref("patient", plan.patient_id),
    }
    if ext:
        body["extension"] = ext
    put_dt(body, "authoredOn", i.created_at)
    if i.assignee_id is not None:
        body["owner"] = b.ref("staff", i.assignee_id)
    if i.due is not None:
        due: dict[str, Any] = {}
        put_dt(due, "end", i.due)
        body["restriction"] = {"period": due}
    elif i.window is not None:
        body["restriction"] = {"period": period(i.window)}
    b.add("intervention", i.id, body, scope=plan.id)


def _care_plan(b: _Bundle, p: CarePlan) -> None:
    ext: list[dict[str, Any]] = []
    if p.review_cadence is not None:
        ext.append(cadence(ext_url("review-cadence"), p.review_cadence))
    if p.next_review_at is not None:
        ext.append(ext_dt(ext_url("next-review-at"), p.next_review_at))
    ext += history(b, p.history, STATUS_SYSTEMS["CarePlan"])
    body: dict[str, Any] = {
        "status": p.status.value,
        "intent": p.intent.value,
        "title": p.title,
        "subject": b.ref("patient", p.patient_id),
        "author": b.ref("staff", p.author_id),
    }
    if ext:
        body["extension"] = ext
    put_dt(body, "created", p.created_at)
    if p.period is not None:
        body["period"] = period(p.period)
    if p.addresses:
        body["addresses"] = [b.ref("need", n) for n in p.addresses]
    if p.goals:
        body["goal"] = [b.ref("goal", g.id, scope=p.id) for g in p.goals]
    if p.interventions:
        body["activity"] = [
            {"reference": b.ref("intervention", i.id, scope=p.id)} for i in p.interventions
        ]
    b.add("care-plan", p.id, body)
    for goal in p.goals:
        _goal(b, p, goal)
    for item in p.interventions:
        _task(b, p, item)


def _referral(b: _Bundle, r: Referral) -> None:
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
        "category": [concept(cs("record-category"), "referral")],
        "priority": r.priority.value,
        "code": {"text": r.service},
        "subject": b.ref("patient", r.patient_id),
        "requester": b.ref("staff", r.requested_by),
        "performerType": concept(cs("referral-target-kind"), r.target_kind.value),
        "performer": [{"display": r.target_name}],
    }
    if ext:
        sr["extension"] = ext
    put_dt(sr, "authoredOn", r.created_at)
    if r.plan_id is not None:
        sr["basedOn"] = [b.ref("care-plan", r.plan_id)]
    if r.reason is not None:
        sr["reasonCode"] = [{"text": r.reason}]
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
        "owner": {"display": r.target_name},
    }
    if r.history:
        task["extension"] = history(b, r.history, STATUS_SYSTEMS["Referral"])
    put_dt(task, "authoredOn", r.created_at)
    if r.outcome is not None:
        task["output"] = [
            {
                "type": concept(cs("record-category"), "referral-outcome"),
                "valueString": r.outcome,
            }
        ]
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


def _barrier(b: _Bundle, x: Barrier) -> None:
    ext: list[dict[str, Any]] = links(ext_url("blocks"), x.blocks)
    if x.resolution is not None:
        ext.append(
            {
                "url": ext_url("barrier-resolution"),
                "extension": [
                    ext_dt("at", x.resolution.at),
                    {"url": "by", "valueReference": b.ref("staff", x.resolution.by)},
                    {"url": "summary", "valueString": x.resolution.summary},
                ],
            }
        )
    code = concept(cs("barrier-kind"), x.kind.value, x.description)
    body: dict[str, Any] = {
        "clinicalStatus": concept(
            "http://terminology.hl7.org/CodeSystem/condition-clinical",
            "active" if x.resolution is None else "resolved",
        ),
        "category": [concept(cs("record-category"), "barrier")],
        "code": code,
        "subject": b.ref("patient", x.patient_id),
        "recorder": b.ref("staff", x.identified_by),
    }
    if ext:
        body["extension"] = ext
    put_dt(body, "recordedDate", x.identified_at)
    b.add("barrier", x.id, body)


def _review(b: _Bundle, r: Review) -> None:
    ext: list[dict[str, Any]] = [
        {"url": ext_url("care-plan"), "valueReference": b.ref("care-plan", r.plan_id)},
        ext_dt(ext_url("reviewed-at"), r.reviewed_at),
        ext_dt(ext_url("next-review-at"), r.next_review_at),
        {"url": ext_url("patient-participated"), "valueBoolean": r.patient_participated},
    ]
    ext += [
        {"url": ext_url("participant"), "valueReference": b.ref("staff", s)} for s in r.participants
    ]
    ext += [
        {"url": ext_url("contact-participant"), "valueReference": b.ref("contact", c)}
        for c in r.contact_participants
    ]
    for o in r.goal_outcomes:
        parts: list[dict[str, Any]] = [
            {"url": "goal", "valueReference": b.ref("goal", o.goal_id, scope=r.plan_id)},
            {
                "url": "achievement",
                "valueCoding": coding(
                    "http://terminology.hl7.org/CodeSystem/goal-achievement", o.achievement.value
                ),
            },
            {"url": "decision", "valueCoding": coding(cs("review-decision"), o.decision.value)},
        ]
        if o.comment is not None:
            parts.append({"url": "comment", "valueString": o.comment})
        ext.append({"url": ext_url("goal-outcome"), "extension": parts})
    ext += _string_ext("summary", r.summary)
    if r.due_at is not None:
        ext.append(ext_dt(ext_url("due-at"), r.due_at))
    body: dict[str, Any] = {
        "extension": ext,
        "code": concept(cs("record-category"), "care-plan-review"),
        "subject": b.ref("patient", r.patient_id),
        "created": r.reviewed_at.date().isoformat(),
        "author": b.ref("staff", r.reviewed_by),
    }
    b.add("review", r.id, body)
