"""Patients, their contacts, staff members and care teams."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any, Self
from zoneinfo import ZoneInfo

import attrs

from ._base import (
    CareTeamId,
    ContactId,
    PatientId,
    StaffId,
    a_date,
    a_time,
    aware,
    ensure_aware,
    instant,
    of_type,
    optional,
    revision_field,
    text,
    tuple_of,
    unique_ids,
    zone_name,
)
from ._demographics import (
    Address,
    AdministrativeGender,
    HumanName,
    Period,
    current_name,
)
from ._errors import NotFoundError, ValidationError
from .cadence import localize
from .codes import CareTeamRole, CareTeamStatus, ContactChannel, ContactRelationship
from .machine import CARE_TEAM_MACHINE, Transition

__all__ = [
    "CareTeam",
    "Contact",
    "ContactPoint",
    "ContactPreferences",
    "HumanName",
    "Identifier",
    "Membership",
    "Patient",
    "Period",
    "QuietHours",
    "StaffMember",
    "supervision_chain",
]

_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def _language(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not _LANGUAGE.match(value):
        raise ValidationError(
            f"{type(inst).__name__}.{attr.name} must be a BCP-47 language tag", field=attr.name
        )


_URI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:.")
_URN_OID = re.compile(r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+")
_URN_UUID = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _absolute_uri(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    """Validator: an absolute URI (``scheme:...``) without whitespace or control characters.

    ``urn:oid:`` and ``urn:uuid:`` systems must have the FHIR form (dotted
    numbers; a lowercase UUID). The message names the rule, never the value.
    """
    where = f"{type(inst).__name__}.{attr.name}"
    if not isinstance(value, str) or not _URI_SCHEME.match(value):
        raise ValidationError(f"{where} must be an absolute URI (scheme:...)", field=attr.name)
    if any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in value):
        raise ValidationError(
            f"{where} must not contain whitespace or control characters", field=attr.name
        )
    lowered = value[:9].lower()
    if lowered.startswith("urn:oid:") and not _URN_OID.fullmatch(value):
        raise ValidationError(f"{where} must be urn:oid: and a dotted OID", field=attr.name)
    if lowered.startswith("urn:uuid:") and not _URN_UUID.fullmatch(value):
        raise ValidationError(f"{where} must be urn:uuid: and a lowercase UUID", field=attr.name)


@attrs.frozen
class Identifier:
    """A business identifier such as a medical record number (PHI).

    ``system`` is the namespace of the value: an absolute URI such as
    ``urn:oid:1.2.3`` or ``https://hospital.example/mrn`` (FHIR
    ``Identifier.system``).
    """

    system: str = attrs.field(validator=[text(max_len=500), _absolute_uri])
    value: str = attrs.field(validator=text(max_len=200), repr=False)


@attrs.frozen
class ContactPoint:
    """A phone number, e-mail address, ... (PHI: the value is never shown)."""

    channel: ContactChannel = attrs.field(validator=of_type(ContactChannel))
    value: str = attrs.field(validator=text(max_len=500), repr=False)


@attrs.frozen
class QuietHours:
    """Daily wall-clock window in which the person must not be contacted.

    ``start`` may be after ``end`` (22:00-07:00 wraps midnight). Times are read
    in the person's own IANA zone.
    """

    start: time = attrs.field(validator=a_time)
    end: time = attrs.field(validator=a_time)

    def __attrs_post_init__(self) -> None:
        if self.start == self.end:
            raise ValidationError("QuietHours.start and end must differ", field="end")

    def contains(self, moment: datetime, zone: str) -> bool:
        """Whether ``moment`` falls in the quiet window in ``zone``."""
        local = ensure_aware(moment, "moment").astimezone(ZoneInfo(zone)).time()
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_allowed(self, moment: datetime, zone: str) -> datetime:
        """``moment`` itself if outside the window, else the window's end (aware)."""
        if not self.contains(moment, zone):
            return moment
        tz = ZoneInfo(zone)
        local = moment.astimezone(tz)
        day = local.date()
        if self.start > self.end and local.time() >= self.start:
            day = day + timedelta(days=1)
        return localize(datetime.combine(day, self.end), tz)


@attrs.frozen
class ContactPreferences:
    """How a person likes to be reached: channels in order of preference, quiet hours."""

    channels: tuple[ContactChannel, ...] = attrs.field(
        default=(), validator=tuple_of(ContactChannel, unique=True)
    )
    quiet_hours: QuietHours | None = attrs.field(
        default=None, validator=optional(of_type(QuietHours))
    )


@attrs.frozen
class Contact:
    """A family member, caregiver or other contact of a patient.

    ``may_receive_information`` says whether the team may share information
    with this contact at all; a :class:`~carecoord.Consent` can say more.
    """

    id: ContactId = attrs.field(validator=of_type(ContactId))
    name: HumanName = attrs.field(validator=of_type(HumanName), repr=False)
    relationship: ContactRelationship = attrs.field(validator=of_type(ContactRelationship))
    may_receive_information: bool = attrs.field(default=False, validator=of_type(bool))
    is_caregiver: bool = attrs.field(default=False, validator=of_type(bool))
    telecom: tuple[ContactPoint, ...] = attrs.field(
        default=(), validator=tuple_of(ContactPoint), repr=False
    )
    preferences: ContactPreferences = attrs.field(
        factory=ContactPreferences, validator=of_type(ContactPreferences)
    )


@attrs.frozen
class Patient:
    """A person whose care is coordinated.

    Names, birth date, gender, identifiers, addresses, contact details and
    contacts' names are PHI and never appear in ``repr``/``str``. ``name`` is
    the current name and ``other_names`` the rest of the name history (earlier,
    maiden, nick names): ``name`` must be the one :func:`current_name` picks
    from ``(name, *other_names)``. ``revision`` is the stored version this copy
    was read at (see :meth:`CareCoordinator.update_patient`).
    """

    id: PatientId = attrs.field(validator=of_type(PatientId))
    name: HumanName = attrs.field(validator=of_type(HumanName), repr=False)
    birth_date: date = attrs.field(validator=a_date, repr=False)
    time_zone: str = attrs.field(validator=zone_name)
    language: str = attrs.field(default="en", validator=_language)
    identifiers: tuple[Identifier, ...] = attrs.field(
        default=(), validator=tuple_of(Identifier), repr=False
    )
    telecom: tuple[ContactPoint, ...] = attrs.field(
        default=(), validator=tuple_of(ContactPoint), repr=False
    )
    preferences: ContactPreferences = attrs.field(
        factory=ContactPreferences, validator=of_type(ContactPreferences)
    )
    contacts: tuple[Contact, ...] = attrs.field(
        default=(), validator=[tuple_of(Contact), unique_ids], repr=False
    )
    enrolled_at: datetime | None = attrs.field(default=None, validator=optional(aware))
    gender: AdministrativeGender | None = attrs.field(
        default=None, validator=optional(of_type(AdministrativeGender)), repr=False
    )
    addresses: tuple[Address, ...] = attrs.field(
        default=(), validator=tuple_of(Address), repr=False
    )
    other_names: tuple[HumanName, ...] = attrs.field(
        default=(), validator=tuple_of(HumanName), repr=False
    )
    revision: int = revision_field()

    def __attrs_post_init__(self) -> None:
        if self.other_names and current_name((self.name, *self.other_names)) is not self.name:
            raise ValidationError(
                "Patient.name must be the current name: other_names holds a name more "
                "current by use and period (see current_name)",
                field="name",
            )

    def contact(self, contact_id: ContactId) -> Contact:
        """The contact with ``contact_id`` or :class:`NotFoundError`."""
        for c in self.contacts:
            if c.id == contact_id:
                return c
        raise NotFoundError(f"contact {contact_id} not found on patient {self.id}")

    def with_contact(self, contact: Contact) -> Self:
        """A copy with ``contact`` added (or replaced when its id exists)."""
        others = tuple(c for c in self.contacts if c.id != contact.id)
        return attrs.evolve(self, contacts=(*others, contact))

    def age_on(self, day: date) -> int:
        """Age in whole years on ``day``."""
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years

    def _repr_html_(self) -> str:
        """PHI-safe HTML for notebooks: id, age band, zone, language (no name or birth date)."""
        from ._html import patient_html

        return patient_html(self)


@attrs.frozen
class StaffMember:
    """A member of staff. ``supervisor_id`` draws the reporting line.

    ``revision`` is the stored version this copy was read at (see
    :meth:`CareCoordinator.register_staff`).
    """

    id: StaffId = attrs.field(validator=of_type(StaffId))
    name: HumanName = attrs.field(validator=of_type(HumanName), repr=False)
    roles: tuple[CareTeamRole, ...] = attrs.field(validator=tuple_of(CareTeamRole, unique=True))
    time_zone: str = attrs.field(default="UTC", validator=zone_name)
    supervisor_id: StaffId | None = attrs.field(default=None, validator=optional(of_type(StaffId)))
    telecom: tuple[ContactPoint, ...] = attrs.field(
        default=(), validator=tuple_of(ContactPoint), repr=False
    )
    preferences: ContactPreferences = attrs.field(
        factory=ContactPreferences, validator=of_type(ContactPreferences)
    )
    active: bool = attrs.field(default=True, validator=of_type(bool))
    revision: int = revision_field()

    def __attrs_post_init__(self) -> None:
        if not self.roles:
            raise ValidationError("StaffMember.roles must not be empty", field="roles")
        if self.supervisor_id == self.id:
            raise ValidationError("StaffMember cannot supervise themselves", field="supervisor_id")


def supervision_chain(staff_id: StaffId, staff: Mapping[StaffId, StaffMember]) -> list[StaffId]:
    """The reporting line above ``staff_id``: supervisor, their supervisor, ...

    Raises :class:`ValidationError` on a cycle and :class:`NotFoundError` for an
    unknown staff member.
    """
    if staff_id not in staff:
        raise NotFoundError(f"staff member {staff_id} not found")
    chain: list[StaffId] = []
    current = staff[staff_id].supervisor_id
    while current is not None:
        if current == staff_id or current in chain:
            raise ValidationError("reporting lines form a cycle", field="supervisor_id")
        chain.append(current)
        if current not in staff:
            break
        current = staff[current].supervisor_id
    return chain


@attrs.frozen
class Membership:
    """A staff member's place on a care team, in one role, for a period."""

    staff_id: StaffId = attrs.field(validator=of_type(StaffId))
    role: CareTeamRole = attrs.field(validator=of_type(CareTeamRole))
    period: Period = attrs.field(validator=of_type(Period))

    def active_at(self, moment: datetime) -> bool:
        """Whether the membership covers ``moment``."""
        return self.period.contains(moment)


@attrs.frozen
class CareTeam:
    """The people caring for one patient, with a lead and a FHIR care-team status.

    The lead must hold a membership on the team. Status changes go through
    :meth:`transition` (FHIR care-team-status) and are recorded in ``history``.
    """

    id: CareTeamId = attrs.field(validator=of_type(CareTeamId))
    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    lead_id: StaffId = attrs.field(validator=of_type(StaffId))
    members: tuple[Membership, ...] = attrs.field(validator=tuple_of(Membership))
    status: CareTeamStatus = attrs.field(
        default=CareTeamStatus.PROPOSED, validator=of_type(CareTeamStatus)
    )
    name: str | None = attrs.field(default=None, validator=optional(text(max_len=200)), repr=False)
    history: tuple[Transition[CareTeamStatus], ...] = attrs.field(
        default=(), validator=tuple_of(Transition)
    )

    def __attrs_post_init__(self) -> None:
        if not any(m.staff_id == self.lead_id for m in self.members):
            raise ValidationError("CareTeam.lead_id must be a member of the team", field="lead_id")
        seen: dict[tuple[StaffId, CareTeamRole], list[Period]] = {}
        for m in self.members:
            for other in seen.get((m.staff_id, m.role), []):
                if _overlap(other, m.period):
                    raise ValidationError(
                        "CareTeam.members has overlapping periods for one person and role",
                        field="members",
                    )
            seen.setdefault((m.staff_id, m.role), []).append(m.period)

    def active_members(self, moment: datetime) -> tuple[Membership, ...]:
        """Memberships that cover ``moment``."""
        return tuple(m for m in self.members if m.active_at(moment))

    def is_active_member(self, staff_id: StaffId, moment: datetime) -> bool:
        """Whether ``staff_id`` holds any membership covering ``moment``."""
        return any(m.staff_id == staff_id for m in self.active_members(moment))

    def roles_of(self, staff_id: StaffId, moment: datetime) -> frozenset[CareTeamRole]:
        """The roles ``staff_id`` holds on the team at ``moment``."""
        return frozenset(m.role for m in self.active_members(moment) if m.staff_id == staff_id)

    def with_member(self, membership: Membership) -> Self:
        """A copy with ``membership`` added."""
        return attrs.evolve(self, members=(*self.members, membership))

    def end_membership(self, staff_id: StaffId, at: datetime) -> Self:
        """A copy in which every open membership of ``staff_id`` ends at ``at``.

        The lead cannot leave while lead: hand over with :meth:`with_lead` first.
        """
        ensure_aware(at, "at")
        if staff_id == self.lead_id:
            raise ValidationError("the team lead cannot leave; choose a new lead first")
        changed = False
        members = []
        for m in self.members:
            if m.staff_id == staff_id and m.period.contains(at):
                m = attrs.evolve(m, period=Period(start=m.period.start, end=at))
                changed = True
            members.append(m)
        if not changed:
            raise NotFoundError(f"staff member {staff_id} has no open membership on team {self.id}")
        return attrs.evolve(self, members=tuple(members))

    def with_lead(self, staff_id: StaffId, at: datetime) -> Self:
        """A copy led by ``staff_id``, who must be an active member at ``at``."""
        if not self.is_active_member(staff_id, at):
            raise ValidationError("the new lead must be an active member of the team")
        return attrs.evolve(self, lead_id=staff_id)

    def transition(
        self, to: CareTeamStatus | str, *, by: StaffId, at: datetime, reason: str | None = None
    ) -> Self:
        """A copy moved to status ``to`` (FHIR care-team-status), with the move recorded."""
        step = CARE_TEAM_MACHINE.transition(self.status, to, by=by, at=at, reason=reason)
        return attrs.evolve(self, status=step.to_status, history=(*self.history, step))


def _overlap(a: Period, b: Period) -> bool:
    return (b.end is None or instant(a.start) < instant(b.end)) and (
        a.end is None or instant(b.start) < instant(a.end)
    )
