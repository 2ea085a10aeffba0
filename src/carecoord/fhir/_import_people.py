"""Converters of the people in a Bundle: the patient, contacts, staff, care teams.

``Patient`` (with its ``RelatedPerson`` contacts), ``Practitioner`` (with its
``PractitionerRole`` roles) and ``CareTeam``, as methods of a :class:`_Reader`
mixin that :class:`~carecoord.fhir._import._Importer` combines.
"""

from __future__ import annotations

from ..model import (
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
    StaffId,
    StaffMember,
    ValidationError,
)
from ._common import cs, id_system
from ._read_context import _Entry, _Reader, ext_ref, own_id
from ._read_datatypes import history, human_name, period, prefs, telecom
from ._read_values import (
    a_date,
    code,
    fail,
    items,
    obj,
    req_coded,
    req_string,
    string,
    top_bool,
    top_dt,
    top_string,
)
from .export import STATUS_SYSTEMS, relationship_system


class _PeopleReader(_Reader):
    """Patient, RelatedPerson, Practitioner(Role) and CareTeam -> carecoord."""

    # -- people
    def patient(self, e: _Entry) -> Patient:
        r, at = e.resource, e.path
        identifiers = []
        own_seen = False
        for ident, where in items(r, "identifier", at):
            ident = obj(ident, where)
            if ident.get("system") == id_system("patient") and not own_seen:
                own_seen = True
                continue
            system = req_string(ident, "system", where)
            value = req_string(ident, "value", where)
            try:
                identifiers.append(Identifier(system=system, value=value))
            except ValidationError as exc:  # names the rule, never the value
                fail(f"{where}.{exc.field or 'system'}", str(exc))
        language = "en"
        comms = items(r, "communication", at)
        if comms:
            c, where = comms[0]
            lang = obj(obj(c, where).get("language"), f"{where}.language")
            codings = items(lang, "coding", f"{where}.language")
            if codings:
                language = req_string(obj(*codings[0]), "code", codings[0][1])
        zone = top_string(r, "time-zone", at)
        contacts = []
        for rp in self.ctx.of_type("RelatedPerson"):
            self.use(rp)
            contacts.append(self.related_person(rp))
        return Patient(
            id=self.patient_id,
            name=human_name(r, at),
            birth_date=a_date(r, "birthDate", at, required=True),  # type: ignore[arg-type]
            time_zone=zone if zone is not None else "UTC",
            language=language,
            identifiers=tuple(identifiers),
            telecom=telecom(r, at),
            preferences=prefs(r, at),
            contacts=tuple(contacts),
            enrolled_at=top_dt(r, "enrolled-at", at),
        )

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
            if (
                self.ctx.ref(pr.resource.get("practitioner"), f"{pr.path}.practitioner", "staff")
                != staff_id
            ):
                continue
            self.use(pr)
            for cc, where in items(pr.resource, "code", pr.path):
                roles.append(req_coded(cc, where, cs("care-team-role"), CareTeamRole))
        zone = top_string(r, "time-zone", at)
        active = r.get("active", True)
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
        members = []
        for p, where in items(r, "participant", at):
            p = obj(p, where)
            roles = items(p, "role", where)
            if len(roles) != 1:
                fail(f"{where}.role", "expected exactly one role")
            members.append(
                Membership(
                    staff_id=StaffId(self.ctx.ref(p.get("member"), f"{where}.member", "staff")),
                    role=req_coded(roles[0][0], roles[0][1], cs("care-team-role"), CareTeamRole),
                    period=period(p.get("period"), f"{where}.period"),
                )
            )
        lead = ext_ref(self.ctx, r, "care-team-lead", at, "staff")
        if lead is None:
            fail(f"{at}.extension", "required extension care-team-lead missing")
        return CareTeam(
            id=CareTeamId(own_id(r, at, "care-team")),
            patient_id=self.patient_id,
            lead_id=StaffId(lead),
            members=tuple(members),
            status=code(r, "status", at, "care-team-status", CareTeamStatus),
            name=string(r, "name", at, required=False),
            history=history(self.ctx, r, at, STATUS_SYSTEMS["CareTeam"], CareTeamStatus),
        )
