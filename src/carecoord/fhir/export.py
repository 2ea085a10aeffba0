"""carecoord -> FHIR R4 (4.0.1) JSON: one patient's record as a ``collection`` Bundle.

Pure dict building, no FHIR library. See ``docs/fhir.md`` for the mapping table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, time
from typing import Any

from ..model import (
    Appointment,
    Assessment,
    AuditEntry,
    Barrier,
    Cadence,
    CarePlan,
    CareTeam,
    Consent,
    Contact,
    ContactChannel,
    ContactPoint,
    ContactPreferences,
    ContactRelationship,
    DecisionOutcome,
    Goal,
    HumanName,
    Intervention,
    Note,
    Patient,
    PatientDecision,
    Period,
    Ref,
    Referral,
    ReferralStatus,
    Review,
    StaffMember,
    Target,
    Transition,
)
from ..serialization import format_datetime
from ._common import cs, ext_url, id_system, stable_uuid
from .record import ImportedRecord, PatientRecord

__all__ = ["export_bundle"]

FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")

# carecoord id kind -> FHIR resource type
KIND_TYPES: dict[str, str] = {
    "patient": "Patient",
    "contact": "RelatedPerson",
    "staff": "Practitioner",
    "care-team": "CareTeam",
    "assessment": "ClinicalImpression",
    "need": "Condition",
    "care-plan": "CarePlan",
    "goal": "Goal",
    "intervention": "Task",
    "referral": "ServiceRequest",
    "appointment": "Appointment",
    "barrier": "Condition",
    "review": "Basic",
    "note": "Communication",
    "decision": "Consent",
    "consent": "Consent",
    "audit-entry": "AuditEvent",
}

STATUS_SYSTEMS: dict[str, str] = {
    "CarePlan": "http://hl7.org/fhir/request-status",
    "Goal": "http://hl7.org/fhir/goal-status",
    "Task": "http://hl7.org/fhir/task-status",
    "CareTeam": "http://hl7.org/fhir/care-team-status",
    "Appointment": "http://hl7.org/fhir/appointmentstatus",
    "Consent": "http://hl7.org/fhir/consent-state-codes",
    "Referral": cs("referral-status"),
}

CONTACT_POINT_SYSTEMS: dict[ContactChannel, str] = {
    ContactChannel.PHONE: "phone",
    ContactChannel.SMS: "sms",
    ContactChannel.EMAIL: "email",
}

PARTICIPATION_MODE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"
MEDIUM: dict[ContactChannel, str] = {
    ContactChannel.PHONE: "PHONE",
    ContactChannel.SMS: "ELECTRONIC",
    ContactChannel.EMAIL: "EMAILWRIT",
    ContactChannel.MAIL: "MAILWRIT",
    ContactChannel.PORTAL: "ONLINEWRIT",
    ContactChannel.VIDEO: "VIDEOCONF",
    ContactChannel.IN_PERSON: "FACE",
}

ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
V2_0131 = "http://terminology.hl7.org/CodeSystem/v2-0131"


def relationship_system(code: ContactRelationship) -> str:
    """The code system of a contact relationship code."""
    if code is ContactRelationship.OTHER:
        return V2_0131
    if code is ContactRelationship.CAREGIVER:
        return cs("contact-relationship")
    return ROLE_CODE


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

_CODE_TEXT = re.compile(r"(?P<system>[^\s|]+)\|(?P<code>[^\s]+(\s[^\s]+)*)")


# ----------------------------------------------------------------- primitives


def split_datetime(value: datetime) -> tuple[str, str | None]:
    """``value`` as a FHIR dateTime (with offset) and its IANA zone name, if any."""
    text = format_datetime(value)
    if text.endswith("]"):
        iso, zone = text[:-1].split("[", 1)
        return iso, zone
    return text, None


def put_dt(target: dict[str, Any], key: str, value: datetime) -> None:
    """Set ``target[key]`` to a FHIR dateTime; the IANA zone goes in ``_key``'s extension."""
    iso, zone = split_datetime(value)
    target[key] = iso
    if zone is not None:
        target["_" + key] = {"extension": [{"url": ext_url("zone"), "valueString": zone}]}


def ext_dt(url: str, value: datetime) -> dict[str, Any]:
    """An extension holding a datetime: ``valueDateTime``, or ``dateTime`` + ``zone`` parts."""
    iso, zone = split_datetime(value)
    if zone is None:
        return {"url": url, "valueDateTime": iso}
    return {
        "url": url,
        "extension": [
            {"url": "dateTime", "valueDateTime": iso},
            {"url": "zone", "valueString": zone},
        ],
    }


def coding(system: str, code: str) -> dict[str, Any]:
    """A Coding."""
    return {"system": system, "code": code}


def concept(system: str, code: str, text: str | None = None) -> dict[str, Any]:
    """A CodeableConcept with one Coding (and an optional text)."""
    cc: dict[str, Any] = {"coding": [coding(system, code)]}
    if text is not None:
        cc["text"] = text
    return cc


def code_concept(code: str | None, text: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A free-text concept with a ``system|code`` code as a Coding, else as an extension."""
    cc: dict[str, Any] = {"text": text}
    extra: list[dict[str, Any]] = []
    if code is not None:
        match = _CODE_TEXT.fullmatch(code)
        if match:
            cc["coding"] = [coding(match["system"], match["code"])]
        else:
            extra.append({"url": ext_url("code-text"), "valueString": code})
    return cc, extra


def period(value: Period) -> dict[str, Any]:
    """A FHIR Period (zones in ``_start`` / ``_end``)."""
    out: dict[str, Any] = {}
    put_dt(out, "start", value.start)
    if value.end is not None:
        put_dt(out, "end", value.end)
    return out


def human_name(name: HumanName) -> dict[str, Any]:
    """A FHIR HumanName."""
    out: dict[str, Any] = {"family": name.family}
    if name.given:
        out["given"] = list(name.given)
    return out


def contact_point(point: ContactPoint) -> dict[str, Any]:
    """A FHIR ContactPoint; channels FHIR lacks are ``other`` plus an extension."""
    system = CONTACT_POINT_SYSTEMS.get(point.channel)
    out: dict[str, Any] = {"system": system or "other", "value": point.value}
    if system is None:
        out["extension"] = [
            {
                "url": ext_url("contact-channel"),
                "valueCoding": coding(cs("contact-channel"), point.channel.value),
            }
        ]
    return out


def _time(value: time) -> str:
    return value.isoformat()


def preferences(prefs: ContactPreferences) -> list[dict[str, Any]]:
    """The ``contact-preferences`` extension (nothing for the default preferences)."""
    if prefs == ContactPreferences():
        return []
    parts: list[dict[str, Any]] = [
        {"url": "channel", "valueCoding": coding(cs("contact-channel"), c.value)}
        for c in prefs.channels
    ]
    if prefs.quiet_hours is not None:
        parts.append(
            {
                "url": "quiet-hours",
                "extension": [
                    {"url": "start", "valueTime": _time(prefs.quiet_hours.start)},
                    {"url": "end", "valueTime": _time(prefs.quiet_hours.end)},
                ],
            }
        )
    return [{"url": ext_url("contact-preferences"), "extension": parts}]


def cadence(url: str, value: Cadence) -> dict[str, Any]:
    """A cadence as a complex extension (every, unit, anchor with its zone)."""
    return {
        "url": url,
        "extension": [
            {"url": "every", "valuePositiveInt": value.every},
            {"url": "unit", "valueCoding": coding(cs("cadence-unit"), value.unit.value)},
            ext_dt("anchor", value.anchor),
        ],
    }


def links(url: str, refs: Iterable[Ref]) -> list[dict[str, Any]]:
    """carecoord ``Ref`` links as complex extensions (kind, id)."""
    return [
        {
            "url": url,
            "extension": [
                {"url": "kind", "valueCoding": coding(cs("ref-kind"), ref.kind.value)},
                {"url": "id", "valueString": ref.id},
            ],
        }
        for ref in refs
    ]


def _string_ext(name: str, value: str | None) -> list[dict[str, Any]]:
    return [] if value is None else [{"url": ext_url(name), "valueString": value}]


# -------------------------------------------------------------------- builder


class _Bundle:
    """Allocates resource ids and full URLs, builds references, collects entries."""

    def __init__(self) -> None:
        self._urls: dict[tuple[str, str, str], tuple[str, str]] = {}
        self._first: dict[tuple[str, str], str] = {}
        self._used: dict[str, set[str]] = {}
        self.entries: list[dict[str, Any]] = []

    def register(self, kind: str, cid: str, scope: str = "", rtype: str | None = None) -> None:
        rtype = rtype or KIND_TYPES[kind]
        key = (kind, scope, cid)
        if key in self._urls:
            return
        url = "urn:uuid:" + stable_uuid(rtype, kind, scope, cid)
        used = self._used.setdefault(rtype, set())
        rid = cid if FHIR_ID.fullmatch(cid) and cid not in used else url.removeprefix("urn:uuid:")
        used.add(rid)
        self._urls[key] = (url, rid)
        self._first.setdefault((kind, cid), url)

    def ref(
        self, kind: str, cid: str, scope: str | None = None, rtype: str | None = None
    ) -> dict[str, Any]:
        """A Reference: the entry's full URL when it is in the Bundle, always the identifier."""
        out: dict[str, Any] = {}
        url: str | None = None
        if scope is not None and (kind, scope, cid) in self._urls:
            url = self._urls[(kind, scope, cid)][0]
        else:
            url = self._first.get((kind, cid))
        if url is not None:
            out["reference"] = url
        out["type"] = rtype or KIND_TYPES[kind]
        out["identifier"] = {"system": id_system(kind), "value": str(cid)}
        return out

    def add(
        self, kind: str, cid: str, resource: dict[str, Any], scope: str = "", rtype: str = ""
    ) -> dict[str, Any]:
        url, rid = self._urls[(kind, scope, cid)]
        own = {"system": id_system(kind), "value": str(cid)}
        body: dict[str, Any] = {
            "resourceType": rtype or KIND_TYPES[kind],
            "id": rid,
            "identifier": [own, *resource.pop("identifier", [])],
        }
        body.update(resource)
        self.entries.append({"fullUrl": url, "resource": body})
        return body


def history(b: _Bundle, steps: Iterable[Transition[Any]], system: str) -> list[dict[str, Any]]:
    """The ``status-history`` extensions: one per recorded transition."""
    out = []
    for step in steps:
        parts: list[dict[str, Any]] = [
            {"url": "from", "valueCoding": coding(system, step.from_status.value)},
            {"url": "to", "valueCoding": coding(system, step.to_status.value)},
            ext_dt("at", step.at),
            {"url": "by", "valueReference": b.ref("staff", step.by)},
        ]
        if step.reason is not None:
            parts.append({"url": "reason", "valueString": step.reason})
        out.append({"url": ext_url("status-history"), "extension": parts})
    return out


# ------------------------------------------------------------------ resources


def _patient(b: _Bundle, p: Patient) -> None:
    ext: list[dict[str, Any]] = [{"url": ext_url("time-zone"), "valueString": p.time_zone}]
    ext += preferences(p.preferences)
    if p.enrolled_at is not None:
        ext.append(ext_dt(ext_url("enrolled-at"), p.enrolled_at))
    body: dict[str, Any] = {
        "extension": ext,
        "identifier": [{"system": i.system, "value": i.value} for i in p.identifiers],
        "name": [human_name(p.name)],
        "birthDate": p.birth_date.isoformat(),
        "communication": [{"language": concept("urn:ietf:bcp:47", p.language), "preferred": True}],
    }
    if p.telecom:
        body["telecom"] = [contact_point(t) for t in p.telecom]
    b.add("patient", p.id, body)
    for contact in p.contacts:
        _related_person(b, p, contact)


def _related_person(b: _Bundle, p: Patient, c: Contact) -> None:
    ext: list[dict[str, Any]] = [
        {"url": ext_url("may-receive-information"), "valueBoolean": c.may_receive_information},
        {"url": ext_url("is-caregiver"), "valueBoolean": c.is_caregiver},
    ]
    ext += preferences(c.preferences)
    body: dict[str, Any] = {
        "extension": ext,
        "patient": b.ref("patient", p.id),
        "relationship": [concept(relationship_system(c.relationship), c.relationship.value)],
        "name": [human_name(c.name)],
    }
    if c.telecom:
        body["telecom"] = [contact_point(t) for t in c.telecom]
    b.add("contact", c.id, body)


def _practitioner(b: _Bundle, s: StaffMember) -> None:
    ext: list[dict[str, Any]] = [{"url": ext_url("time-zone"), "valueString": s.time_zone}]
    if s.supervisor_id is not None:
        ext.append(
            {"url": ext_url("supervisor"), "valueReference": b.ref("staff", s.supervisor_id)}
        )
    ext += preferences(s.preferences)
    body: dict[str, Any] = {"extension": ext, "active": s.active, "name": [human_name(s.name)]}
    if s.telecom:
        body["telecom"] = [contact_point(t) for t in s.telecom]
    b.add("staff", s.id, body)
    b.add(
        "staff",
        s.id,
        {
            "practitioner": b.ref("staff", s.id),
            "code": [concept(cs("care-team-role"), r.value) for r in s.roles],
        },
        scope="role",
        rtype="PractitionerRole",
    )


def _care_team(b: _Bundle, t: CareTeam) -> None:
    ext = [{"url": ext_url("care-team-lead"), "valueReference": b.ref("staff", t.lead_id)}]
    ext += history(b, t.history, STATUS_SYSTEMS["CareTeam"])
    body: dict[str, Any] = {
        "extension": ext,
        "status": t.status.value,
        "subject": b.ref("patient", t.patient_id),
        "participant": [
            {
                "role": [concept(cs("care-team-role"), m.role.value)],
                "member": b.ref("staff", m.staff_id),
                "period": period(m.period),
            }
            for m in t.members
        ],
    }
    if t.name is not None:
        body["name"] = t.name
    b.add("care-team", t.id, body)


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
        q: dict[str, Any] = {"value": t.quantity.value, "unit": t.quantity.unit}
        if t.quantity.comparator is not None:
            q["comparator"] = t.quantity.comparator.value
        out["detailQuantity"] = q
    elif t.range is not None:
        r: dict[str, Any] = {}
        if t.range.low is not None:
            r["low"] = {"value": t.range.low, "unit": t.range.unit}
        if t.range.high is not None:
            r["high"] = {"value": t.range.high, "unit": t.range.unit}
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
                {"url": "value", "valueDecimal": r.value},
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


def _note(b: _Bundle, n: Note) -> None:
    ext: list[dict[str, Any]] = [
        {"url": ext_url("author"), "valueReference": b.ref("staff", n.author_id)},
        {"url": ext_url("direction"), "valueCoding": coding(cs("direction"), n.direction.value)},
    ]
    ext += links(ext_url("link"), n.links)
    recipients = [b.ref("contact", n.contact_id)] if n.contact_id is not None else []
    recipients += [b.ref("staff", s) for s in n.staff_ids]
    body: dict[str, Any] = {
        "extension": ext,
        "status": n.status.value,
        "category": [concept(cs("interaction-party"), n.party.value)],
        "medium": [
            {
                "coding": [
                    coding(PARTICIPATION_MODE, MEDIUM[n.channel]),
                    coding(cs("contact-channel"), n.channel.value),
                ]
            }
        ],
        "subject": b.ref("patient", n.patient_id),
        "payload": [{"contentString": n.summary}],
    }
    put_dt(body, "sent", n.at)
    if recipients:
        body["recipient"] = recipients
    b.add("note", n.id, body)


_CONSENT_CATEGORY = concept("http://loinc.org", "59284-0")
_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"


def _decision(b: _Bundle, d: PatientDecision) -> None:
    ext: list[dict[str, Any]] = [
        {
            "url": ext_url("decision-outcome"),
            "valueCoding": coding(cs("decision-outcome"), d.outcome.value),
        },
        {"url": ext_url("recommendation"), "valueString": d.recommendation},
        {"url": ext_url("recorded-by"), "valueReference": b.ref("staff", d.recorded_by)},
    ]
    ext += _string_ext("patient-words", d.patient_words)
    ext += links(ext_url("about"), d.about)
    body: dict[str, Any] = {
        "extension": ext,
        "status": "active",
        "scope": concept(_SCOPE, "treatment"),
        "category": [_CONSENT_CATEGORY, concept(cs("record-category"), "patient-decision")],
        "patient": b.ref("patient", d.patient_id),
        "performer": [b.ref("patient", d.patient_id)],
    }
    put_dt(body, "dateTime", d.at)
    if d.outcome is not DecisionOutcome.DEFERRED:
        body["provision"] = {"type": "permit" if d.outcome is DecisionOutcome.ACCEPTED else "deny"}
    b.add("decision", d.id, body, scope="decision")


def _consent(b: _Bundle, c: Consent) -> None:
    ext: list[dict[str, Any]] = [
        {"url": ext_url("recorded-by"), "valueReference": b.ref("staff", c.recorded_by)}
    ]
    ext += history(b, c.history, STATUS_SYSTEMS["Consent"])
    provision: dict[str, Any] = {
        "type": "permit",
        "actor": [
            {
                "role": concept(
                    "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP"
                ),
                "reference": b.ref("contact", x),
            }
            for x in c.contact_ids
        ],
    }
    if c.period is not None:
        provision["period"] = period(c.period)
    if c.categories:
        provision["code"] = [{"text": category} for category in c.categories]
    body: dict[str, Any] = {
        "extension": ext,
        "status": c.status.value,
        "scope": concept(_SCOPE, "patient-privacy"),
        "category": [_CONSENT_CATEGORY, concept(cs("record-category"), "information-sharing")],
        "patient": b.ref("patient", c.patient_id),
        "policyRule": concept("http://terminology.hl7.org/CodeSystem/v3-ActCode", "OPTIN"),
        "provision": provision,
    }
    put_dt(body, "dateTime", c.recorded_at)
    b.add("consent", c.id, body, scope="consent")


def _audit(b: _Bundle, e: AuditEntry) -> None:
    # AuditEvent has no identifier element: the audit-id extension carries the id.
    ident = {"system": id_system("audit-entry"), "value": e.id}
    ext: list[dict[str, Any]] = [
        {"url": ext_url("audit-id"), "valueIdentifier": ident},
        {"url": ext_url("audit-operation"), "valueString": e.operation},
    ]
    if e.sequence is not None and e.sealed_at is not None:  # sealed: all four are set
        ext.append({"url": ext_url("audit-sequence"), "valueString": str(e.sequence)})
        ext += _string_ext("audit-previous-hash", e.previous_hash)
        ext += _string_ext("audit-hash", e.hash)
        ext.append(ext_dt(ext_url("audit-sealed-at"), e.sealed_at))
    ext += _string_ext("audit-entity", e.entity)
    body: dict[str, Any] = {
        "extension": ext,
        "type": coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest"),
        "action": e.action.value,
        "outcome": e.outcome.value,
        "purposeOfEvent": [
            concept("http://terminology.hl7.org/CodeSystem/v3-ActReason", e.purpose.value)
        ],
        "agent": [
            {
                "who": {"identifier": {"system": id_system("actor"), "value": e.actor}},
                "requestor": True,
            }
        ],
        "source": {"observer": {"display": "carecoord"}},
    }
    put_dt(body, "recorded", e.at)
    if e.detail is not None:
        body["outcomeDesc"] = e.detail
    if e.patient_id is not None:
        body["entity"] = [{"what": b.ref("patient", e.patient_id)}]
    entry = b.add("audit-entry", e.id, body)
    del entry["identifier"]


# ----------------------------------------------------------------------- main


def export_bundle(
    record: PatientRecord | ImportedRecord, *, include_audit: bool = False
) -> dict[str, Any]:
    """Export one patient's record as a FHIR R4 (4.0.1) ``collection`` Bundle (a JSON dict).

    Deterministic: the same record gives the same Bundle. References carry the
    carecoord id as an identifier, plus the target's ``fullUrl`` when the
    target is in the Bundle. Audit entries are included only with
    ``include_audit``.
    """
    rec = record.record if isinstance(record, ImportedRecord) else record
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
    for r in rec.referrals:
        b.register("referral", r.id)
        b.register("referral", r.id, scope="task", rtype="Task")
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
        _care_plan(b, p)
    for r in rec.referrals:
        _referral(b, r)
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
    if include_audit:
        for e in rec.audit_entries:
            _audit(b, e)
    return {"resourceType": "Bundle", "type": "collection", "entry": b.entries}
