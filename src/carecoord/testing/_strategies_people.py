"""Strategies for people and teams (part of :mod:`carecoord.testing.strategies`).

Patients (with contacts, preferences, quiet hours, identifiers, telecom, a
name history, gender and addresses), staff members and care teams, and the
value objects they are made of.
"""

from __future__ import annotations

from datetime import time

from hypothesis import strategies as st

from carecoord import (
    Address,
    AdministrativeGender,
    CareTeam,
    CareTeamId,
    CareTeamRole,
    CareTeamStatus,
    Contact,
    ContactChannel,
    ContactId,
    ContactPoint,
    ContactPreferences,
    ContactRelationship,
    HumanName,
    Identifier,
    Membership,
    Patient,
    PatientId,
    Period,
    QuietHours,
    StaffId,
    StaffMember,
)
from carecoord.model import (
    CARE_TEAM_MACHINE,
    AddressType,
    AddressUse,
    NameUse,
    current_name,
)

from ._strategies_common import (
    AWARE_DATETIMES,
    BIRTH_DATES,
    DURATIONS,
    MAX,
    ZONE_NAMES,
    codes,
    histories,
    ids,
    later,
    optional,
    periods,
    texts,
)


@st.composite
def human_names(draw: st.DrawFn) -> HumanName:
    """A name: family, given names, often a use, sometimes prefixes, suffixes and a period."""
    parts = st.lists(texts(max_size=20), max_size=MAX).map(tuple)
    return HumanName(
        family=draw(texts()),
        given=draw(parts),
        prefix=draw(st.one_of(st.just(()), parts)),
        suffix=draw(st.one_of(st.just(()), parts)),
        use=draw(optional(codes(NameUse))),
        period=draw(optional(periods())),
    )


@st.composite
def addresses(draw: st.DrawFn) -> Address:
    """An address with at least one part, a use and type sometimes, and a period sometimes."""
    part = optional(texts(max_size=40))
    lines = draw(st.lists(texts(max_size=40), max_size=MAX).map(tuple))
    city = draw(texts(max_size=40) if not lines else part)
    return Address(
        use=draw(optional(codes(AddressUse))),
        type=draw(optional(codes(AddressType))),
        lines=lines,
        city=city,
        district=draw(part),
        state=draw(part),
        postal_code=draw(part),
        country=draw(part),
        period=draw(optional(periods())),
    )


@st.composite
def contact_points(draw: st.DrawFn) -> ContactPoint:
    return ContactPoint(channel=draw(codes(ContactChannel)), value=draw(texts()))


@st.composite
def quiet_hours(draw: st.DrawFn) -> QuietHours:
    start: time = draw(st.times())
    end: time = draw(st.times().filter(lambda t: t != start))
    return QuietHours(start=start, end=end)


@st.composite
def contact_preferences(draw: st.DrawFn) -> ContactPreferences:
    channels = draw(st.lists(codes(ContactChannel), max_size=MAX, unique=True))
    return ContactPreferences(channels=tuple(channels), quiet_hours=draw(optional(quiet_hours())))


@st.composite
def identifiers(draw: st.DrawFn) -> Identifier:
    return Identifier(system=draw(identifier_systems()), value=draw(texts()))


_SEGMENT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)


def identifier_systems() -> st.SearchStrategy[str]:
    """Absolute URIs as ``Identifier.system`` takes them: ``urn:oid:``, ``urn:uuid:``, https."""
    arcs = st.lists(st.integers(min_value=0, max_value=99_999).map(str), min_size=1, max_size=8)
    return st.one_of(
        st.tuples(st.sampled_from("012"), arcs).map(lambda t: f"urn:oid:{t[0]}." + ".".join(t[1])),
        st.uuids().map(lambda u: f"urn:uuid:{u}"),
        st.lists(_SEGMENT, min_size=1, max_size=4).map(
            lambda parts: "https://" + parts[0] + ".example/" + "/".join(parts[1:])
        ),
    )


@st.composite
def contacts(draw: st.DrawFn) -> Contact:
    return Contact(
        id=draw(ids(ContactId)),
        name=draw(human_names()),
        relationship=draw(codes(ContactRelationship)),
        may_receive_information=draw(st.booleans()),
        is_caregiver=draw(st.booleans()),
        telecom=tuple(draw(st.lists(contact_points(), max_size=MAX))),
        preferences=draw(contact_preferences()),
    )


@st.composite
def patients(draw: st.DrawFn) -> Patient:
    """A patient with contacts, preferences, quiet hours, identifiers, telecom, names, address.

    The name is the current one of the names drawn (see :func:`carecoord.model.current_name`);
    the others are the name history.
    """
    names = draw(st.lists(human_names(), min_size=1, max_size=MAX))
    name = current_name(names)
    return Patient(
        id=draw(ids(PatientId)),
        name=name,
        other_names=tuple(n for n in names if n is not name),
        birth_date=draw(BIRTH_DATES),
        time_zone=draw(st.sampled_from(ZONE_NAMES)),
        language=draw(st.sampled_from(["en", "de", "en-US", "fr-CA", "hi", "yue"])),
        identifiers=tuple(draw(st.lists(identifiers(), max_size=MAX))),
        telecom=tuple(draw(st.lists(contact_points(), max_size=MAX))),
        preferences=draw(contact_preferences()),
        contacts=tuple(draw(st.lists(contacts(), max_size=MAX, unique_by=lambda c: c.id))),
        enrolled_at=draw(optional(AWARE_DATETIMES)),
        gender=draw(optional(codes(AdministrativeGender))),
        addresses=tuple(draw(st.lists(addresses(), max_size=MAX))),
    )


@st.composite
def staff_members(draw: st.DrawFn) -> StaffMember:
    staff_id = draw(ids(StaffId))
    roles = draw(st.lists(codes(CareTeamRole), min_size=1, max_size=MAX, unique=True))
    return StaffMember(
        id=staff_id,
        name=draw(human_names()),
        roles=tuple(roles),
        time_zone=draw(st.sampled_from(ZONE_NAMES)),
        supervisor_id=draw(optional(ids(StaffId).filter(lambda s: s != staff_id))),
        telecom=tuple(draw(st.lists(contact_points(), max_size=MAX))),
        preferences=draw(contact_preferences()),
        active=draw(st.booleans()),
    )


@st.composite
def care_teams(draw: st.DrawFn) -> CareTeam:
    """A team whose lead is a member; one person in one role never has overlapping periods.

    Each (staff, role) pair gets one or two consecutive periods; the second
    starts at or after the end of the first (touching periods do not overlap).
    """
    keys = draw(
        st.lists(
            st.tuples(ids(StaffId), codes(CareTeamRole)), min_size=1, max_size=MAX, unique=True
        )
    )
    members: list[Membership] = []
    for staff_id, role in keys:
        if draw(st.booleans()):
            first = draw(periods(open_ended=False))
            assert first.end is not None
            second_start = later(first.end, draw(DURATIONS))
            second_end = draw(optional(DURATIONS))
            second = Period(
                start=second_start,
                end=None if second_end is None else later(second_start, second_end),
            )
            members.append(Membership(staff_id=staff_id, role=role, period=first))
            members.append(Membership(staff_id=staff_id, role=role, period=second))
        else:
            members.append(Membership(staff_id=staff_id, role=role, period=draw(periods())))
    members = list(draw(st.permutations(members)))
    status, history = draw(histories(CARE_TEAM_MACHINE, CareTeamStatus.PROPOSED))
    return CareTeam(
        id=draw(ids(CareTeamId)),
        patient_id=draw(ids(PatientId)),
        lead_id=draw(st.sampled_from([m.staff_id for m in members])),
        members=tuple(members),
        status=status,
        name=draw(optional(texts())),
        history=history,
    )
