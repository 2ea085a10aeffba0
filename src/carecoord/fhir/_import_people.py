"""Converters of the people in a Bundle: the patient, contacts, staff, care teams.

``Patient`` (with its ``RelatedPerson`` contacts), ``Practitioner`` (with its
``PractitionerRole`` roles) and ``CareTeam``, as methods of a :class:`_Reader`
mixin that :class:`~carecoord.fhir._import._Importer` combines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ..model import (
    AdministrativeGender,
    CareCoordError,
    CareTeam,
    CareTeamId,
    CareTeamRole,
    CareTeamStatus,
    Contact,
    ContactId,
    ContactRelationship,
    FhirImportError,
    Identifier,
    Membership,
    Patient,
    Period,
    StaffId,
    StaffMember,
    ValidationError,
    current_name,
)
from ._common import cs, id_system
from ._import_report import current
from ._read_context import _Entry, ext_ref, own_id
from ._read_datatypes import address, history, human_name, human_names, period, prefs, telecom
from ._read_reader import _Reader, _Skip
from ._read_tracker import consume, consume_all, peek
from ._read_values import (
    a_date,
    code,
    coded,
    fail,
    items,
    obj,
    req_string,
    string,
    to_enum,
    top_bool,
    top_dt,
    top_string,
)
from .export import STATUS_SYSTEMS, relationship_system

_BCP47 = "urn:ietf:bcp:47"

DEFAULT_ROLE: Final = CareTeamRole.SPECIALIST
"""The role of an imported Practitioner with no carecoord care-team role (reported).

The narrowest clinical role: on a care team it may read, document and update
interventions, and it carries no staff-wide permission (enrolling, forming
teams, managing staff). A host grants more through the service layer.
"""


class _PeopleReader(_Reader):
    """Patient, RelatedPerson, Practitioner(Role) and CareTeam -> carecoord."""

    # -- people
    def patient(self, e: _Entry) -> Patient:
        r, at = e.resource, e.path
        identifiers = []
        own_seen = False
        for ident, where in items(r, "identifier", at):
            ident = obj(ident, where)
            if peek(ident, "system") == id_system("patient") and not own_seen:
                consume_all(ident)
                own_seen = True
                continue
            system = req_string(ident, "system", where)
            value = req_string(ident, "value", where)
            try:
                identifiers.append(Identifier(system=system, value=value))
            except ValidationError as exc:  # names the rule, never the value
                fail(f"{where}.{exc.field or 'system'}", str(exc))
        zone = top_string(r, "time-zone", at)
        if zone is None:
            current().default(f"{at}.extension(time-zone)", "no time zone", "UTC")
        contacts = []
        for rp in self.ctx.of_type("RelatedPerson"):
            self.use(rp)
            contacts.append(self.related_person(rp))
            rp.target = ("Contact", str(contacts[-1].id))
        names = human_names(r, at)
        name = current_name(names)
        gender = r.get("gender")
        return Patient(
            id=self.patient_id,
            name=name,
            other_names=tuple(n for n in names if n is not name),
            birth_date=a_date(r, "birthDate", at, required=True),  # type: ignore[arg-type]
            time_zone=zone if zone is not None else "UTC",
            language=self.language(r, at),
            identifiers=tuple(identifiers),
            telecom=telecom(r, at),
            preferences=prefs(r, at),
            contacts=tuple(contacts),
            enrolled_at=top_dt(r, "enrolled-at", at),
            gender=None
            if gender is None
            else to_enum(AdministrativeGender, gender, f"{at}.gender"),
            addresses=tuple(
                a for x, where in items(r, "address", at) if (a := address(x, where)) is not None
            ),
        )

    def language(self, r: Mapping[str, Any], at: str) -> str:
        """The preferred (else the first) ``communication.language`` code; ``en`` if none."""
        comms = items(r, "communication", at)
        chosen = next(
            (c for c in comms if isinstance(c[0], Mapping) and peek(c[0], "preferred") is True),
            comms[0] if comms else None,
        )
        if chosen is not None:
            c, where = obj(*chosen), chosen[1]
            consume(c, "preferred")
            lang = obj(c.get("language"), f"{where}.language")
            codings = items(lang, "coding", f"{where}.language")
            for coding, cat in codings:
                coding = obj(coding, cat)
                if peek(coding, "system") in (_BCP47, None):
                    found = req_string(coding, "code", cat)
                    consume_all(coding)
                    consume(lang, "text")
                    return found
        current().default(f"{at}.communication", "no language code (urn:ietf:bcp:47)", "en")
        return "en"

    def related_person(self, e: _Entry) -> Contact:
        try:
            r, at = e.resource, e.path
            self.subject(e, "patient")
            rels = items(r, "relationship", at)
            if not rels:
                fail(f"{at}.relationship", "required element missing")
            relationship: ContactRelationship | None = None
            for c, where in items(obj(*rels[0]), "coding", rels[0][1]):
                c = obj(c, where)
                raw = c.get("code")
                if not isinstance(raw, str):  # str() of any JSON value could recurse
                    continue
                try:
                    candidate = ContactRelationship(raw)
                except ValueError:
                    continue
                if c.get("system") == relationship_system(candidate):
                    relationship = candidate
                    break
            if relationship is None:
                fail(rels[0][1], "relationship has no carecoord equivalent")
            return Contact(
                id=ContactId(own_id(r, at, "contact")),
                name=human_name(r, at),
                relationship=relationship,
                may_receive_information=top_bool(r, "may-receive-information", at, False),
                is_caregiver=top_bool(r, "is-caregiver", at, False),
                telecom=telecom(r, at),
                preferences=prefs(r, at),
            )
        except FhirImportError:
            raise
        except CareCoordError as exc:
            fail(e.path, f"not a valid carecoord record: {exc}")

    def practitioner(self, e: _Entry) -> StaffMember:
        r, at = e.resource, e.path
        staff_id = StaffId(own_id(r, at, "staff"))
        roles: list[CareTeamRole] = []
        for pr in self.ctx.of_type("PractitionerRole"):
            if not self.ctx.names(peek(pr.resource, "practitioner"), e, "staff", staff_id):
                continue
            self.use(pr, ("StaffMember", staff_id))
            self.ctx.ref(pr.resource["practitioner"], f"{pr.path}.practitioner", "staff")
            own_id(pr.resource, pr.path, "staff")
            for cc, where in items(pr.resource, "code", pr.path):
                role = coded(cc, where, cs("care-team-role"), CareTeamRole, required=False)
                if role is not None and role not in roles:
                    roles.append(role)
        if not roles:
            current().default(
                at, "no carecoord care-team role (no PractitionerRole with one)", DEFAULT_ROLE
            )
            roles.append(DEFAULT_ROLE)
        zone = top_string(r, "time-zone", at)
        if zone is None:
            current().default(f"{at}.extension(time-zone)", "no time zone", "UTC")
        active = r.get("active")
        if active is None:
            current().default(f"{at}.active", "no active flag", "true")
            active = True
        if not isinstance(active, bool):
            fail(f"{at}.active", "expected true or false")
        supervisor = ext_ref(self.ctx, r, "supervisor", at, "staff")
        return StaffMember(
            id=staff_id,
            name=human_name(r, at),
            roles=tuple(roles),
            time_zone=zone if zone is not None else "UTC",
            supervisor_id=None if supervisor is None else StaffId(supervisor),
            telecom=telecom(r, at),
            preferences=prefs(r, at),
            active=active,
        )

    def care_team(self, e: _Entry) -> CareTeam:
        r, at = e.resource, e.path
        self.subject(e, "subject")
        span = None if r.get("period") is None else period(r["period"], f"{at}.period")
        members = []
        for p, where in items(r, "participant", at):
            p = obj(p, where)
            staff_id = self.ctx.opt_ref(p.get("member"), f"{where}.member", "staff")
            if staff_id is None:
                consume_all(p)  # the member is reported: the participant goes with it
                continue
            roles = items(p, "role", where)
            role = (
                None
                if not roles
                else coded(
                    roles[0][0], roles[0][1], cs("care-team-role"), CareTeamRole, required=False
                )
            )
            if role is None:
                current().default(f"{where}.role", "no carecoord care-team role", DEFAULT_ROLE)
            if "period" in p:
                when = period(p["period"], f"{where}.period")
            elif span is not None:
                current().default(f"{where}.period", "no period: the team's period is taken")
                when = span
            else:
                start = self.when(r, where, "period", None, "")
                when = Period(start=start)
            members.append(
                Membership(staff_id=StaffId(staff_id), role=role or DEFAULT_ROLE, period=when)
            )
        if not members:
            raise _Skip("a CareTeam with no Practitioner member (carecoord teams have a lead)")
        lead = ext_ref(self.ctx, r, "care-team-lead", at, "staff")
        if lead is None:
            current().default(
                f"{at}.extension(care-team-lead)", "no lead: the first member", members[0].staff_id
            )
        return CareTeam(
            id=CareTeamId(own_id(r, at, "care-team")),
            patient_id=self.patient_id,
            lead_id=StaffId(lead or members[0].staff_id),
            members=tuple(members),
            status=code(r, "status", at, "care-team-status", CareTeamStatus),
            name=string(r, "name", at, required=False),
            history=history(self.ctx, r, at, STATUS_SYSTEMS["CareTeam"], CareTeamStatus),
        )
