"""FHIR export of the care work: assessments and needs, care plans with their goals,
goal readings (Observations) and tasks, barriers and plan reviews.

Each builder adds its resources to the :class:`~._export_common._Bundle`;
:func:`~carecoord.fhir.export.export_bundle` calls them in record order.
Referrals and appointments are in ``_export_referrals``.
"""

from __future__ import annotations

from typing import Any

from ..model import (
    Assessment,
    Barrier,
    CarePlan,
    Goal,
    Intervention,
    ProgressReading,
    Review,
    Target,
)
from ._common import cs, ext_url
from ._derived import (
    CAREPLAN_CATEGORY,
    SDOH_BY_BARRIER,
    SDOH_BY_DOMAIN,
    SDOH_SYSTEM,
    RecordIndex,
    care_plan_narrative,
    goal_status_date,
)
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
    "_assessment",
    "_barrier",
    "_care_plan",
    "_reading",
    "_review",
    "goal_body",
    "reading",
    "reading_key",
    "sdoh_concept",
]


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
                    *_sdoh(SDOH_BY_DOMAIN.get(need.domain)),
                ],
                "code": cc,
                "subject": b.ref("patient", a.patient_id),
            },
            scope=a.id,
        )


def _quantity(t: Target) -> dict[str, Any]:
    assert t.quantity is not None
    q: dict[str, Any] = {"value": decimal(t.quantity.value), "unit": t.quantity.unit}
    if t.quantity.comparator is not None:
        q["comparator"] = t.quantity.comparator.value
    return q


def _range(t: Target) -> dict[str, Any]:
    assert t.range is not None
    r: dict[str, Any] = {}
    if t.range.low is not None:
        r["low"] = {"value": decimal(t.range.low), "unit": t.range.unit}
    if t.range.high is not None:
        r["high"] = {"value": decimal(t.range.high), "unit": t.range.unit}
    return r


def _target(t: Target) -> dict[str, Any]:
    out: dict[str, Any] = {"measure": {"text": t.measure}}
    if t.quantity is not None:
        out["detailQuantity"] = _quantity(t)
    elif t.range is not None:
        out["detailRange"] = _range(t)
    if t.due is not None:
        out["dueDate"] = t.due.isoformat()
    return out


def _previous_target(t: Target) -> dict[str, Any]:
    """A target a revision replaced: the ``previous-target`` part of ``goal-revision``."""
    parts: list[dict[str, Any]] = [{"url": "measure", "valueString": t.measure}]
    if t.quantity is not None:
        parts.append({"url": "quantity", "valueQuantity": _quantity(t)})
    else:
        parts.append({"url": "range", "valueRange": _range(t)})
    if t.due is not None:
        parts.append({"url": "due", "valueDate": t.due.isoformat()})
    return {"url": "previous-target", "extension": parts}


def _revisions(b: _Bundle, g: Goal) -> list[dict[str, Any]]:
    """The ``goal-revision`` extensions: one per revision, oldest first."""
    out = []
    for rev in g.revisions:
        parts: list[dict[str, Any]] = [
            ext_dt("at", rev.revised_at),
            {"url": "by", "valueReference": b.ref("staff", rev.revised_by)},
            {"url": "reason", "valueCoding": coding(cs("goal-revision-reason"), rev.reason.value)},
        ]
        if rev.reason_text is not None:
            parts.append({"url": "reason-text", "valueString": rev.reason_text})
        parts.append({"url": "previous-description", "valueString": rev.previous_description})
        parts += [_previous_target(t) for t in rev.previous_targets]
        out.append({"url": ext_url("goal-revision"), "extension": parts})
    return out


def _sdoh(code: str | None) -> list[dict[str, Any]]:
    """The SDOH category concept of ``code`` (none when carecoord has no honest one)."""
    return [] if code is None else [concept(SDOH_SYSTEM, code)]


def sdoh_concept(code: str) -> dict[str, Any]:
    """The SDOH category concept of ``code``."""
    return concept(SDOH_SYSTEM, code)


def reading_key(plan: CarePlan, goal: Goal, n: int) -> str:
    """The stable key of the ``n``-th reading of a plan's goal (its Observation)."""
    return f"goal-reading|{plan.id}|{goal.id}|{n}"


def reading(b: _Bundle, key: str, patient_id: str, r: ProgressReading) -> None:
    """A goal's progress reading as a final Observation of the target's measure."""
    body: dict[str, Any] = {
        "status": "final",
        "code": {"text": r.measure},
        "subject": b.ref("patient", patient_id),
    }
    put_dt(body, "effectiveDateTime", r.at)
    body["performer"] = [b.ref("staff", r.recorded_by)]
    body["valueQuantity"] = {"value": decimal(r.value), "unit": r.unit}
    b.add_plain("Observation", key, body)


def _reading(b: _Bundle, plan: CarePlan, goal: Goal, n: int, r: ProgressReading) -> None:
    reading(b, reading_key(plan, goal, n), plan.patient_id, r)


def goal_body(
    b: _Bundle,
    g: Goal,
    patient_id: str,
    *,
    categories: tuple[str, ...],
    addresses: list[dict[str, Any]],
    reading_keys: list[str],
    expressed_by: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The Goal resource of ``g`` (a plan's goal or a patient's own), to add to the Bundle."""
    ext = history(b, g.history, STATUS_SYSTEMS["Goal"]) + _revisions(b, g)
    body: dict[str, Any] = {
        "lifecycleStatus": g.lifecycle_status.value,
        "priority": concept(
            "http://terminology.hl7.org/CodeSystem/goal-priority", g.priority.value
        ),
        "description": {"text": g.description},
        "subject": b.ref("patient", patient_id),
    }
    if ext:
        body["extension"] = ext
    if g.achievement_status is not None:
        body["achievementStatus"] = concept(
            "http://terminology.hl7.org/CodeSystem/goal-achievement", g.achievement_status.value
        )
    if categories:
        body["category"] = [concept(SDOH_SYSTEM, code) for code in categories]
    if g.start is not None:
        body["startDate"] = g.start.isoformat()
    if g.targets:
        body["target"] = [_target(t) for t in g.targets]
    status_date = goal_status_date(g)
    if status_date is not None:
        body["statusDate"] = status_date.isoformat()
    if expressed_by is not None:
        body["expressedBy"] = expressed_by
    if addresses:
        body["addresses"] = addresses
    if reading_keys:
        body["outcomeReference"] = [b.plain_ref("Observation", key) for key in reading_keys]
    return body


def _goal(b: _Bundle, plan: CarePlan, g: Goal, ix: RecordIndex) -> None:
    body = goal_body(
        b,
        g,
        plan.patient_id,
        categories=ix.goal_categories(g),
        addresses=[b.ref("need", n) for n in g.addresses],
        reading_keys=[reading_key(plan, g, n) for n in range(len(g.readings))],
    )
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


def _care_plan(b: _Bundle, p: CarePlan, ix: RecordIndex) -> None:
    ext: list[dict[str, Any]] = []
    if p.review_cadence is not None:
        ext.append(cadence(ext_url("review-cadence"), p.review_cadence))
    if p.next_review_at is not None:
        ext.append(ext_dt(ext_url("next-review-at"), p.next_review_at))
    ext += history(b, p.history, STATUS_SYSTEMS["CarePlan"])
    body: dict[str, Any] = {
        "text": care_plan_narrative(p),
        "status": p.status.value,
        "intent": p.intent.value,
        "category": [concept(CAREPLAN_CATEGORY, "assess-plan")],
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
        _goal(b, p, goal, ix)
    for item in p.interventions:
        _task(b, p, item)


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
        "category": [
            concept(cs("record-category"), "barrier"),
            *_sdoh(SDOH_BY_BARRIER.get(x.kind)),
        ],
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
