"""Converters of the record's documentation: notes, decisions, consents, audit.

``Communication`` (notes), treatment ``Consent`` (patient decisions), privacy
``Consent`` (consents to share) and ``AuditEvent`` (audit entries, with their
optional hash-chain sealing), as methods of a :class:`_Reader` mixin that
:class:`~carecoord.fhir._import._Importer` combines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..model import (
    AuditAction,
    AuditEntry,
    AuditOutcome,
    CommunicationStatus,
    Consent,
    ConsentId,
    ConsentStatus,
    ContactChannel,
    ContactId,
    DecisionId,
    DecisionOutcome,
    Direction,
    InteractionParty,
    Note,
    NoteId,
    PatientDecision,
    PurposeOfUse,
    StaffId,
)
from ._common import cs, id_system
from ._export_people import MEDIUM, PARTICIPATION_MODE
from ._read_context import _Entry, ext_ref, own_id
from ._read_datatypes import history, period, ref_links
from ._read_reader import _Reader
from ._read_tracker import consume_all, peek, raw
from ._read_values import (
    code,
    coding_value,
    ev,
    ev_dt,
    ev_string,
    ext_one,
    fail,
    items,
    not_kept,
    obj,
    req_coded,
    req_dt,
    req_string,
    string,
    take,
    top_coding,
    top_string,
)
from .export import DECISION_STATUS, STATUS_SYSTEMS
from .valuesets import code_in

_ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
_AUDIT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
_LOINC = "http://loinc.org"
_PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
_DECISION_OUTCOME = {status: outcome for outcome, status in DECISION_STATUS.items()}
"""A decision's outcome by its Consent status (see ``_export_people.DECISION_STATUS``)."""
_SEALING = ("audit-sequence", "audit-previous-hash", "audit-hash", "audit-sealed-at")
_SEQUENCE = re.compile(r"[1-9][0-9]*")
_HEX64 = re.compile(r"[0-9a-f]{64}")


def audit_id(o: Mapping[str, Any], at: str) -> str:
    """An audit entry's id: its ``audit-id`` identifier extension, else its FHIR id."""
    found = ext_one(o, "audit-id", at)
    if found is None:
        rid = o.get("id")
        if not isinstance(rid, str):
            fail(f"{at}.extension", "required extension audit-id missing and no id")
        return rid
    where = f"{found[1]}.valueIdentifier"
    ident = obj(ev(found[0], found[1], "valueIdentifier"), where)
    if ident.get("system") != id_system("audit-entry"):
        fail(f"{where}.system", "expected an audit-entry identifier")
    return req_string(ident, "value", where)


def audit_sealing(o: Mapping[str, Any], at: str) -> dict[str, Any]:
    """The sealing fields of an AuditEvent: none (an unsealed entry) or all four."""
    found = [ext_one(o, name, at) for name in _SEALING]
    present = [f for f in found if f is not None]
    if not present:
        return {}
    if len(present) != len(_SEALING):
        missing = ", ".join(name for name, f in zip(_SEALING, found, strict=True) if f is None)
        fail(f"{at}.extension", f"incomplete audit sealing extensions ({missing} missing)")
    sequence, previous, hash_, sealed_at = present
    number = ev_string(*sequence)
    if not _SEQUENCE.fullmatch(number):
        fail(f"{sequence[1]}.valueString", "expected a positive integer")
    hashes = []
    for e, where in (previous, hash_):
        if not _HEX64.fullmatch(value := ev_string(e, where)):
            fail(f"{where}.valueString", "expected 64 lowercase hex digits")
        hashes.append(value)
    return {
        "sequence": int(number),
        "previous_hash": hashes[0],
        "hash": hashes[1],
        "sealed_at": ev_dt(*sealed_at),
    }


class _NoteReader(_Reader):
    """Communication, Consent (decisions and consents) and AuditEvent -> carecoord."""

    # -- notes, decisions, consents, audit
    def note(self, e: _Entry) -> Note:
        r, at = e.resource, e.path
        self.subject(e, "subject")
        categories = items(r, "category", at)
        media = items(r, "medium", at)
        if len(categories) != 1 or len(media) != 1:
            fail(at, "expected exactly one category and one medium")
        contact_id = None
        staff = []
        for x, where in items(r, "recipient", at):
            x = obj(x, where)
            if x.get("type") == "RelatedPerson":
                if contact_id is not None:
                    fail(where, "more than one contact recipient")
                contact_id = ContactId(self.ctx.ref(x, where, "contact"))
            else:
                staff.append(StaffId(self.ctx.ref(x, where, "staff")))
        payload = items(r, "payload", at)
        if len(payload) != 1:
            fail(f"{at}.payload", "expected exactly one payload")
        author = ext_ref(self.ctx, r, "author", at, "staff")
        if author is None:
            fail(f"{at}.extension", "required extension author missing")
        channel = req_coded(media[0][0], media[0][1], cs("contact-channel"), ContactChannel)
        take(media[0][0], media[0][1], (PARTICIPATION_MODE, MEDIUM[channel]))
        return Note(
            id=NoteId(own_id(r, at, "note")),
            patient_id=self.patient_id,
            at=req_dt(r, "sent", at),
            author_id=StaffId(author),
            channel=channel,
            direction=top_coding(r, "direction", at, cs("direction"), Direction),
            party=req_coded(
                categories[0][0], categories[0][1], cs("interaction-party"), InteractionParty
            ),
            summary=req_string(obj(*payload[0]), "contentString", payload[0][1]),
            status=code(r, "status", at, "event-status", CommunicationStatus),
            contact_id=contact_id,
            staff_ids=tuple(staff),
            links=ref_links(r, "link", at),
        )

    def decision(self, e: _Entry) -> PatientDecision:
        r, at = e.resource, e.path
        self.subject(e, "patient")
        status = code(r, "status", at, "consent-state-codes", ConsentStatus)
        outcome = _DECISION_OUTCOME.get(status)
        legacy = ext_one(r, "decision-outcome", at)
        if legacy is not None:
            # Bundles written before decisions had statuses of their own: always
            # "active", the outcome in this extension (and no policyRule).
            written = coding_value(
                ev(legacy[0], legacy[1], "valueCoding"),
                f"{legacy[1]}.valueCoding",
                cs("decision-outcome"),
                DecisionOutcome,
            )
            if status is not ConsentStatus.ACTIVE and written is not outcome:
                fail(f"{at}.status", "consent status contradicts the decision-outcome extension")
            outcome = written
        if outcome is None:
            fail(f"{at}.status", "a decision's status is active, rejected or proposed")
        provision = r.get("provision")
        if provision is not None:
            kind = obj(provision, f"{at}.provision").get("type")
            if kind is not None and not code_in("consent-provision-type", kind):
                fail(f"{at}.provision.type", "code not in value set consent-provision-type")
        self._consent_constants(e, "patient-decision")
        for p, where in items(r, "performer", at):
            if self.ctx.opt_ref(p, where, "patient") != self.patient_id:
                not_kept(where, "a decision is the patient's own")
        recorded_by = ext_ref(self.ctx, r, "recorded-by", at, "staff")
        recommendation = top_string(r, "recommendation", at)
        if recorded_by is None or recommendation is None:
            fail(f"{at}.extension", "required extensions recorded-by and recommendation")
        return PatientDecision(
            id=DecisionId(own_id(r, at, "decision")),
            patient_id=self.patient_id,
            at=req_dt(r, "dateTime", at),
            recorded_by=StaffId(recorded_by),
            recommendation=recommendation,
            outcome=outcome,
            patient_words=top_string(r, "patient-words", at),
            about=ref_links(r, "about", at),
        )

    def consent(self, e: _Entry) -> Consent:
        r, at = e.resource, e.path
        self.subject(e, "patient")
        provision = obj(r.get("provision"), f"{at}.provision")
        pat = f"{at}.provision"
        if provision.get("type") is not None and not code_in(
            "consent-provision-type", provision["type"]
        ):
            fail(f"{pat}.type", "code not in value set consent-provision-type")
        self._consent_constants(e, "information-sharing")
        contacts = []
        for a, where in items(provision, "actor", pat):
            a = obj(a, where)
            take(a.get("role"), f"{where}.role", (_PARTICIPATION_TYPE, "IRCP"))
            contacts.append(
                ContactId(self.ctx.ref(a.get("reference"), f"{where}.reference", "contact"))
            )
        categories = [req_string(obj(c, w), "text", w) for c, w in items(provision, "code", pat)]
        recorded_by = ext_ref(self.ctx, r, "recorded-by", at, "staff")
        if recorded_by is None:
            fail(f"{at}.extension", "required extension recorded-by missing")
        return Consent(
            id=ConsentId(own_id(r, at, "consent")),
            patient_id=self.patient_id,
            recorded_at=req_dt(r, "dateTime", at),
            recorded_by=StaffId(recorded_by),
            contact_ids=tuple(contacts),
            status=code(r, "status", at, "consent-state-codes", ConsentStatus),
            categories=tuple(categories),
            period=None
            if provision.get("period") is None
            else period(provision["period"], f"{pat}.period"),
            history=history(self.ctx, r, at, STATUS_SYSTEMS["Consent"], ConsentStatus),
        )

    def _consent_constants(self, e: _Entry, category: str) -> None:
        """Take the category and policy rule carecoord writes on every Consent."""
        r, at = e.resource, e.path
        for cc, where in items(r, "category", at):
            take(cc, where, (_LOINC, "59284-0"), (cs("record-category"), category))
        take(r.get("policyRule"), f"{at}.policyRule", (_ACT_CODE, "OPTIN"))

    def audit(self, e: _Entry) -> AuditEntry:
        r, at = e.resource, e.path
        agents = items(r, "agent", at)
        if len(agents) != 1:
            fail(f"{at}.agent", "expected exactly one agent")
        agent = obj(*agents[0])
        if agent.get("requestor") is not True:
            not_kept(f"{agents[0][1]}.requestor", "the actor of an audit entry is its requestor")
        who = obj(agent.get("who"), f"{agents[0][1]}.who")
        ident = obj(who.get("identifier"), f"{agents[0][1]}.who.identifier")
        if ident.get("system") != id_system("actor"):
            not_kept(f"{agents[0][1]}.who.identifier.system", "not carecoord's actor system")
        kind = peek(r, "type")
        if isinstance(kind, Mapping) and raw(kind) == {"system": _AUDIT_TYPE, "code": "rest"}:
            consume_all(r["type"])
        source = r.get("source")
        if isinstance(source, Mapping) and raw(source) == {"observer": {"display": "carecoord"}}:
            consume_all(source)
        patient_id = None
        for x, where in items(r, "entity", at):
            patient_id = self.ctx.ref(obj(x, where).get("what"), f"{where}.what", "patient")
            if patient_id != self.patient_id:
                fail(f"{where}.what", "refers to another patient")
        purposes = items(r, "purposeOfEvent", at)
        if len(purposes) != 1:
            fail(f"{at}.purposeOfEvent", "expected exactly one purpose")
        operation = top_string(r, "audit-operation", at)
        if operation is None:
            fail(f"{at}.extension", "required extension audit-operation missing")
        return AuditEntry(
            id=audit_id(r, at),
            at=req_dt(r, "recorded", at),
            actor=req_string(ident, "value", f"{agents[0][1]}.who.identifier"),
            action=code(r, "action", at, "audit-event-action", AuditAction),
            operation=operation,
            outcome=code(r, "outcome", at, "audit-event-outcome", AuditOutcome),
            purpose=req_coded(purposes[0][0], purposes[0][1], _ACT_REASON, PurposeOfUse),
            patient_id=patient_id,
            entity=top_string(r, "audit-entity", at),
            detail=string(r, "outcomeDesc", at, required=False),
            **audit_sealing(r, at),
        )
