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
    ConsentPolicyRule,
    ConsentScope,
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
    Period,
    PurposeOfUse,
    StaffId,
)
from ._common import cs, id_system
from ._derived import (
    AGENT_TYPE,
    AUDIT_ENTITY_TYPE,
    OBJECT_ROLE,
    PARTICIPATION_TYPE,
    audited_record,
)
from ._export_people import ACT_CODE, MEDIUM, NULL_FLAVOR, PARTICIPATION_MODE
from ._import_report import current
from ._read_context import _Entry, ext_ref, own_id
from ._read_datatypes import history, period, ref_links
from ._read_external import external, outside_of
from ._read_reader import IMPORT_STAFF_ID, _Reader
from ._read_tracker import consume_all, peek, raw
from ._read_values import (
    code,
    coded,
    coding_value,
    dt,
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
    take_code,
    top_coding,
    top_string,
)
from .export import DECISION_STATUS, STATUS_SYSTEMS
from .valuesets import code_in

_ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
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


def _sequence(e: Mapping[str, Any], at: str) -> int:
    """An audit sequence: a positiveInt, or (beyond its range, or written before) decimal text."""
    if "valuePositiveInt" in e:
        value = e["valuePositiveInt"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            fail(f"{at}.valuePositiveInt", "expected a positive integer")
        return value
    text = ev_string(e, at)
    if not _SEQUENCE.fullmatch(text):
        fail(f"{at}.valueString", "expected a positive integer")
    return int(text)


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
    number = _sequence(*sequence)
    hashes = []
    for e, where in (previous, hash_):
        if not _HEX64.fullmatch(value := ev_string(e, where)):
            fail(f"{where}.valueString", "expected 64 lowercase hex digits")
        hashes.append(value)
    return {
        "sequence": number,
        "previous_hash": hashes[0],
        "hash": hashes[1],
        "sealed_at": ev_dt(*sealed_at),
    }


def _is_coding(value: Any, system: str, code: str) -> bool:
    """Whether ``value`` is exactly the Coding ``system|code`` (looks only)."""
    return isinstance(value, Mapping) and raw(value) == {"system": system, "code": code}


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
        payload = items(r, "payload", at)
        if len(payload) != 1:
            fail(f"{at}.payload", "expected exactly one payload")
        author = ext_ref(self.ctx, r, "author", at, "staff")
        if author is None:
            fail(f"{at}.extension", "required extension author missing")
        channel = req_coded(media[0][0], media[0][1], cs("contact-channel"), ContactChannel)
        take(media[0][0], media[0][1], (PARTICIPATION_MODE, MEDIUM[channel]))
        direction = top_coding(r, "direction", at, cs("direction"), Direction)
        party = req_coded(
            categories[0][0], categories[0][1], cs("interaction-party"), InteractionParty
        )
        contact_id, staff = self.note_parties(r, at, StaffId(author), direction, party)
        return Note(
            id=NoteId(own_id(r, at, "note")),
            patient_id=self.patient_id,
            at=req_dt(r, "sent", at),
            author_id=StaffId(author),
            channel=channel,
            direction=direction,
            party=party,
            summary=req_string(obj(*payload[0]), "contentString", payload[0][1]),
            status=code(r, "status", at, "event-status", CommunicationStatus),
            contact_id=contact_id,
            staff_ids=tuple(staff),
            links=ref_links(r, "link", at),
        )

    def _party(self, x: Mapping[str, Any], at: str) -> str:
        """Whom a sender or recipient Reference names: the patient, a contact or staff."""
        rtype = peek(x, "type")
        target = peek(x, "reference")
        if rtype is None and isinstance(target, str):
            found = self.ctx.locate(target, at)
            rtype = None if found is None else found.rtype
        if not isinstance(rtype, str):
            return "staff"  # checked as a staff reference, which says what is wrong
        return {"Patient": "patient", "RelatedPerson": "contact"}.get(rtype, "staff")

    def note_parties(
        self,
        r: Mapping[str, Any],
        at: str,
        author: StaffId,
        direction: Direction,
        party: InteractionParty,
    ) -> tuple[ContactId | None, tuple[StaffId, ...]]:
        """A note's contact and staff from its ``sender`` and ``recipient`` s.

        What the export derives (see ``_export_people.note_parties``) is taken:
        the author as the sender of a note to others, or as the first
        recipient of an inbound one; the patient in a note with the patient.
        The contact and the other staff members are the record's; anything
        else is reported. (Bundles written before notes had a sender list the
        contact and staff members as recipients only.)
        """
        inbound = direction is Direction.INBOUND
        with_patient = party is InteractionParty.PATIENT
        contact: ContactId | None = None
        staff: list[StaffId] = []
        patient_seen = author_seen = False
        for x, where in [(r["sender"], f"{at}.sender")] if "sender" in r else []:
            x = obj(x, where)
            kind = self._party(x, where)
            if kind == "contact":
                contact = ContactId(self.ctx.ref(x, where, "contact"))
            elif kind == "patient":
                self._the_patient(x, where)
                patient_seen = True
                if not (inbound and with_patient):
                    not_kept(where, "the patient sends only an inbound note with the patient")
            else:  # staff; another sender carecoord cannot hold is reported by opt_ref
                member = self.ctx.opt_ref(x, where, "staff")
                if member is not None and (member != author or inbound):
                    not_kept(where, "the sender of a note to others is its author")
        for x, where in items(r, "recipient", at):
            x = obj(x, where)
            kind = self._party(x, where)
            if kind == "contact":
                if contact is not None:
                    fail(where, "more than one contact (sender or recipient)")
                contact = ContactId(self.ctx.ref(x, where, "contact"))
            elif kind == "patient":
                self._the_patient(x, where)
                if inbound or not with_patient or patient_seen:
                    not_kept(where, "the patient receives only a note to the patient")
                patient_seen = True
            else:
                member = StaffId(self.ctx.ref(x, where, "staff"))
                if inbound and not author_seen and member == author:
                    author_seen = True  # the author receives an inbound note
                else:
                    staff.append(member)
        return contact, tuple(staff)

    def _the_patient(self, x: Mapping[str, Any], at: str) -> None:
        if self.ctx.ref(x, at, "patient") != self.patient_id:
            fail(at, "refers to another patient")

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
        take(r.get("policyRule"), f"{at}.policyRule", (ACT_CODE, "OPTIN"))
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
        """A Consent that is no decision: to share with contacts, or one as its source wrote it.

        A permit provision's ``actor`` s are the contacts (a privacy consent
        only), its ``code`` texts the categories; a deny provision keeps
        nothing (carecoord consents permit). ``policyRule`` is the v3
        directive (NullFlavor ``UNK``: none stated), ``organization`` the
        custodians another system holds.
        """
        r, at = e.resource, e.path
        self.subject(e, "patient")
        scope = req_coded(r.get("scope"), f"{at}.scope", _SCOPE, ConsentScope)
        self._consent_constants(e, "information-sharing")
        contacts, categories, span = self._provision(r, at, scope)
        recorded_by = ext_ref(self.ctx, r, "recorded-by", at, "staff")
        if recorded_by is None:
            current().default(
                f"{at}.extension(recorded-by)",
                "no staff member recorded it: the FHIR import's staff id",
                IMPORT_STAFF_ID,
            )
        recorded_at = dt(r, "dateTime", at, required=False)
        if recorded_at is None:
            recorded_at = self.when(r, at, "dateTime", None, "")
        custodians = []
        for x, where in items(r, "organization", at):
            found = None
            if outside_of(self.ctx, x, where):
                found = external(self.ctx, x, where, ("Organization",))
            else:
                consume_all(x)
                not_kept(where, "an Organization in the input is kept only as a referral's target")
            if found is not None and found not in custodians:
                custodians.append(found)
        return Consent(
            id=ConsentId(own_id(r, at, "consent")),
            patient_id=self.patient_id,
            recorded_at=recorded_at,
            recorded_by=StaffId(recorded_by or IMPORT_STAFF_ID),
            contact_ids=tuple(contacts),
            status=code(r, "status", at, "consent-state-codes", ConsentStatus),
            categories=tuple(categories),
            period=span,
            history=history(self.ctx, r, at, STATUS_SYSTEMS["Consent"], ConsentStatus),
            scope=scope,
            policy_rule=self._policy_rule(r, at),
            custodians=tuple(custodians),
        )

    def _provision(
        self, r: Mapping[str, Any], at: str, scope: ConsentScope
    ) -> tuple[list[ContactId], list[str], Period | None]:
        """A consent's contacts, categories and period from its (root) ``provision``."""
        if r.get("provision") is None:
            return [], [], None
        pat = f"{at}.provision"
        provision = obj(r["provision"], pat)
        kind = take_code(provision, "type", pat, "consent-provision-type")
        if kind == "deny":
            consume_all(provision)
            not_kept(pat, "a deny provision: carecoord keeps consents that permit sharing")
            self.ctx.scan(raw(provision), pat)
            return [], [], None
        contacts: list[ContactId] = []
        if scope is ConsentScope.PATIENT_PRIVACY:
            for a, where in items(provision, "actor", pat):
                a = obj(a, where)
                take(a.get("role"), f"{where}.role", (_PARTICIPATION_TYPE, "IRCP"))
                found = self.ctx.opt_ref(a.get("reference"), f"{where}.reference", "contact")
                if found is not None and ContactId(found) not in contacts:
                    contacts.append(ContactId(found))
        categories: list[str] = []
        if contacts:
            for c, where in items(provision, "code", pat):
                text = self.text_of(obj(c, where), where, "the category")
                if text not in categories:
                    categories.append(text)
        elif kind is not None:
            not_kept(
                f"{pat}.type",
                "a provision naming no contact: carecoord keeps the consent as given, "
                "permitting no contact anything",
            )
        span = peek(provision, "period")
        if isinstance(span, Mapping) and peek(span, "start") is not None:
            return contacts, categories, period(provision["period"], f"{pat}.period")
        return contacts, categories, None

    def _policy_rule(self, r: Mapping[str, Any], at: str) -> ConsentPolicyRule | None:
        """The v3 ActCode directive of ``policyRule``; ``None`` for none stated (NullFlavor UNK)."""
        rule = r.get("policyRule")
        if rule is None:
            return None
        where = f"{at}.policyRule"
        if take(rule, where, (NULL_FLAVOR, "UNK")):
            return None
        return coded(rule, where, ACT_CODE, ConsentPolicyRule, required=False)

    def _consent_constants(self, e: _Entry, category: str) -> None:
        """Take the category carecoord writes on every Consent."""
        r, at = e.resource, e.path
        for cc, where in items(r, "category", at):
            take(cc, where, (_LOINC, "59284-0"), (cs("record-category"), category))

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
        touched: list[tuple[Any, str]] = []
        for x, where in items(r, "entity", at):
            x = obj(x, where)
            if _is_coding(peek(x, "role"), OBJECT_ROLE, "4"):
                touched.append((x, where))  # the record touched: derived, checked below
                continue
            patient_id = self.ctx.ref(x.get("what"), f"{where}.what", "patient")
            if patient_id != self.patient_id:
                fail(f"{where}.what", "refers to another patient")
            for key, system in (("type", AUDIT_ENTITY_TYPE), ("role", OBJECT_ROLE)):
                if _is_coding(peek(x, key), system, "1"):  # a person, the patient
                    consume_all(x[key])
        purposes = items(r, "purposeOfEvent", at)
        if len(purposes) != 1:
            fail(f"{at}.purposeOfEvent", "expected exactly one purpose")
        operation = top_string(r, "audit-operation", at)
        if operation is None:
            fail(f"{at}.extension", "required extension audit-operation missing")
        action = code(r, "action", at, "audit-event-action", AuditAction)
        kind_of_agent = peek(agent, "type")
        if isinstance(kind_of_agent, Mapping) and raw(kind_of_agent) == {
            "coding": [{"system": PARTICIPATION_TYPE, "code": AGENT_TYPE[action]}]
        }:
            consume_all(agent["type"])
        entry = AuditEntry(
            id=audit_id(r, at),
            at=req_dt(r, "recorded", at),
            actor=req_string(ident, "value", f"{agents[0][1]}.who.identifier"),
            action=action,
            operation=operation,
            outcome=code(r, "outcome", at, "audit-event-outcome", AuditOutcome),
            purpose=req_coded(purposes[0][0], purposes[0][1], _ACT_REASON, PurposeOfUse),
            patient_id=patient_id,
            entity=top_string(r, "audit-entity", at),
            detail=string(r, "outcomeDesc", at, required=False),
            **audit_sealing(r, at),
        )
        record = audited_record(entry.entity)
        self.derived(
            touched,
            () if record is None else (record,),
            lambda x, where, want: (
                set(x) == {"what", "type", "role"}
                and _is_coding(peek(x, "type"), AUDIT_ENTITY_TYPE, "2")
                and self.ctx.points_at(peek(x, "what"), f"{where}.what", *want)
            ),
            "the record an audit entry touched follows from its audit-entity extension",
        )
        return entry
