"""FHIR export of the people and the record around them: patient and contacts,
staff and their roles, care teams, notes, decisions, consents and audit entries.

Each builder adds its resources to the :class:`~._export_common._Bundle`;
:func:`~carecoord.fhir.export.export_bundle` calls them in record order.
"""

from __future__ import annotations

from typing import Any

from ..model import (
    Address,
    AuditEntry,
    CareTeam,
    Consent,
    ConsentPolicyRule,
    ConsentScope,
    Contact,
    ContactChannel,
    DecisionOutcome,
    Direction,
    HumanName,
    InteractionParty,
    Note,
    Patient,
    PatientDecision,
    StaffMember,
)
from ._common import cs, ext_url, id_system
from ._derived import (
    AGENT_TYPE,
    AUDIT_ENTITY_TYPE,
    OBJECT_ROLE,
    PARTICIPATION_TYPE,
    audited_record,
)
from ._export_common import (
    STATUS_SYSTEMS,
    _Bundle,
    _string_ext,
    coding,
    concept,
    contact_point,
    ext_dt,
    external_ref,
    history,
    links,
    period,
    preferences,
    put_dt,
    relationship_system,
)

__all__ = [
    "ACT_CODE",
    "DECISION_STATUS",
    "MEDIUM",
    "NULL_FLAVOR",
    "PARTICIPATION_MODE",
    "_audit",
    "_care_team",
    "_consent",
    "_decision",
    "_note",
    "_patient",
    "_practitioner",
    "address",
    "audit_entity",
    "audit_sequence",
    "human_name",
    "note_parties",
    "policy_rule",
]

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


def human_name(name: HumanName) -> dict[str, Any]:
    """A FHIR HumanName: use, family, given, prefix, suffix, period (in FHIR's order)."""
    out: dict[str, Any] = {}
    if name.use is not None:
        out["use"] = name.use.value
    out["family"] = name.family
    if name.given:
        out["given"] = list(name.given)
    if name.prefix:
        out["prefix"] = list(name.prefix)
    if name.suffix:
        out["suffix"] = list(name.suffix)
    if name.period is not None:
        out["period"] = period(name.period)
    return out


def address(value: Address) -> dict[str, Any]:
    """A FHIR Address (without ``text``: carecoord keeps the parts)."""
    out: dict[str, Any] = {}
    if value.use is not None:
        out["use"] = value.use.value
    if value.type is not None:
        out["type"] = value.type.value
    if value.lines:
        out["line"] = list(value.lines)
    for key, part in (
        ("city", value.city),
        ("district", value.district),
        ("state", value.state),
        ("postalCode", value.postal_code),
        ("country", value.country),
    ):
        if part is not None:
            out[key] = part
    if value.period is not None:
        out["period"] = period(value.period)
    return out


def _patient(b: _Bundle, p: Patient) -> None:
    ext: list[dict[str, Any]] = [{"url": ext_url("time-zone"), "valueString": p.time_zone}]
    ext += preferences(p.preferences)
    if p.enrolled_at is not None:
        ext.append(ext_dt(ext_url("enrolled-at"), p.enrolled_at))
    body: dict[str, Any] = {
        "extension": ext,
        "identifier": [{"system": i.system, "value": i.value} for i in p.identifiers],
        "name": [human_name(n) for n in (p.name, *p.other_names)],
        "birthDate": p.birth_date.isoformat(),
        "communication": [{"language": concept("urn:ietf:bcp:47", p.language), "preferred": True}],
    }
    if p.telecom:
        body["telecom"] = [contact_point(t) for t in p.telecom]
    if p.gender is not None:
        body["gender"] = p.gender.value
    if p.addresses:
        body["address"] = [address(a) for a in p.addresses]
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


def _note(b: _Bundle, n: Note) -> None:
    ext: list[dict[str, Any]] = [
        {"url": ext_url("author"), "valueReference": b.ref("staff", n.author_id)},
        {"url": ext_url("direction"), "valueCoding": coding(cs("direction"), n.direction.value)},
    ]
    ext += links(ext_url("link"), n.links)
    sender, recipients = note_parties(b, n)
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
    if sender is not None:
        body["sender"] = sender
    b.add("note", n.id, body)


def note_parties(b: _Bundle, n: Note) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """A note's ``sender`` and ``recipient`` s, by its direction.

    To the patient or anyone else (outbound, internal): the author sends, the
    patient (a note with the patient), the contact and the staff members
    receive. From them (inbound): the contact, else the patient (a note with
    the patient), sends; the author and the staff members receive. An outside
    party carecoord does not name (a provider, a payer) appears in neither.
    """
    patient = [b.ref("patient", n.patient_id)] if n.party is InteractionParty.PATIENT else []
    contact = [b.ref("contact", n.contact_id)] if n.contact_id is not None else []
    staff = [b.ref("staff", s) for s in n.staff_ids]
    if n.direction is Direction.INBOUND:
        senders = contact or patient
        return (senders[0] if senders else None), [b.ref("staff", n.author_id), *staff]
    return b.ref("staff", n.author_id), [*patient, *contact, *staff]


_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"


def _consent_category() -> dict[str, Any]:
    # a new dict each time: a caller may change the Bundle it gets
    return concept("http://loinc.org", "59284-0")


ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
NULL_FLAVOR = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"


def _opt_in() -> dict[str, Any]:
    return concept(ACT_CODE, "OPTIN")


def policy_rule(rule: ConsentPolicyRule | None) -> dict[str, Any]:
    """A consent's ``policyRule``: its v3 ActCode directive, or NullFlavor ``UNK`` when the
    source stated none (R4 needs a policy or a policy rule: ppc-1)."""
    return concept(NULL_FLAVOR, "UNK") if rule is None else concept(ACT_CODE, rule.value)


DECISION_STATUS: dict[DecisionOutcome, str] = {
    DecisionOutcome.ACCEPTED: "active",
    DecisionOutcome.DECLINED: "rejected",
    DecisionOutcome.DEFERRED: "proposed",
}
"""A decision is a treatment Consent offered to the patient (an opt-in to the recommended
care): accepted makes it ``active``, declined ``rejected``, deferred leaves it ``proposed``."""


def _decision(b: _Bundle, d: PatientDecision) -> None:
    ext: list[dict[str, Any]] = [
        {"url": ext_url("recommendation"), "valueString": d.recommendation},
        {"url": ext_url("recorded-by"), "valueReference": b.ref("staff", d.recorded_by)},
    ]
    ext += _string_ext("patient-words", d.patient_words)
    ext += links(ext_url("about"), d.about)
    body: dict[str, Any] = {
        "extension": ext,
        "status": DECISION_STATUS[d.outcome],
        "scope": concept(_SCOPE, "treatment"),
        "category": [_consent_category(), concept(cs("record-category"), "patient-decision")],
        "patient": b.ref("patient", d.patient_id),
        "performer": [b.ref("patient", d.patient_id)],
        "policyRule": _opt_in(),
    }
    put_dt(body, "dateTime", d.at)
    b.add("decision", d.id, body, scope="decision")


def _consent(b: _Bundle, c: Consent) -> None:
    ext: list[dict[str, Any]] = [
        {"url": ext_url("recorded-by"), "valueReference": b.ref("staff", c.recorded_by)}
    ]
    ext += history(b, c.history, STATUS_SYSTEMS["Consent"])
    # A consent naming no contact is one as another system wrote it: no permit
    # provision, which would permit everyone; only its period, if it has one.
    provision: dict[str, Any] = {}
    if c.contact_ids:
        provision["type"] = "permit"
        provision["actor"] = [
            {
                "role": concept(
                    "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP"
                ),
                "reference": b.ref("contact", x),
            }
            for x in c.contact_ids
        ]
    if c.period is not None:
        provision["period"] = period(c.period)
    if c.categories:
        provision["code"] = [{"text": category} for category in c.categories]
    category = [_consent_category()]
    if c.scope is ConsentScope.PATIENT_PRIVACY:
        category.append(concept(cs("record-category"), "information-sharing"))
    body: dict[str, Any] = {
        "extension": ext,
        "status": c.status.value,
        "scope": concept(_SCOPE, c.scope.value),
        "category": category,
        "patient": b.ref("patient", c.patient_id),
    }
    put_dt(body, "dateTime", c.recorded_at)
    if c.custodians:
        body["organization"] = [external_ref(x) for x in c.custodians]
    body["policyRule"] = policy_rule(c.policy_rule)
    if provision:
        body["provision"] = provision
    b.add("consent", c.id, body, scope="consent")


def _audit(b: _Bundle, e: AuditEntry) -> None:
    # AuditEvent has no identifier element: the audit-id extension carries the id.
    ident = {"system": id_system("audit-entry"), "value": e.id}
    ext: list[dict[str, Any]] = [
        {"url": ext_url("audit-id"), "valueIdentifier": ident},
        {"url": ext_url("audit-operation"), "valueString": e.operation},
    ]
    if e.sequence is not None and e.sealed_at is not None:  # sealed: all four are set
        ext.append(audit_sequence(e.sequence))
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
                "type": concept(PARTICIPATION_TYPE, AGENT_TYPE[e.action]),
                "who": {"identifier": {"system": id_system("actor"), "value": e.actor}},
                "requestor": True,
            }
        ],
        "source": {"observer": {"display": "carecoord"}},
    }
    put_dt(body, "recorded", e.at)
    if e.detail is not None:
        body["outcomeDesc"] = e.detail
    entities = []
    if e.patient_id is not None:
        entities.append(audit_entity(b.ref("patient", e.patient_id), record=False))
    touched = audited_record(e.entity)
    if touched is not None:
        entities.append(audit_entity(b.ref(*touched), record=True))
    if entities:
        body["entity"] = entities
    entry = b.add("audit-entry", e.id, body)
    del entry["identifier"]


MAX_POSITIVE_INT = 2**31 - 1
"""The largest FHIR ``positiveInt``."""


def audit_sequence(sequence: int) -> dict[str, Any]:
    """The ``audit-sequence`` extension: a positiveInt (decimal text beyond its range)."""
    if sequence <= MAX_POSITIVE_INT:
        return {"url": ext_url("audit-sequence"), "valuePositiveInt": sequence}
    return {"url": ext_url("audit-sequence"), "valueString": str(sequence)}


def audit_entity(what: dict[str, Any], *, record: bool) -> dict[str, Any]:
    """An AuditEvent entity: the patient (a person in the patient role) or the record touched."""
    kind, role = ("2", "4") if record else ("1", "1")
    return {
        "what": what,
        "type": coding(AUDIT_ENTITY_TYPE, kind),
        "role": coding(OBJECT_ROLE, role),
    }
