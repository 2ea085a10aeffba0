"""Construction rules and behaviour of the model's entities and value objects."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import HealthCheck, given, settings

from carecoord import (
    Appointment,
    AppointmentId,
    Assessment,
    AssessmentDomain,
    AssessmentId,
    Barrier,
    BarrierId,
    BarrierKind,
    CareCoordError,
    CarePlan,
    CarePlanId,
    CareTeam,
    CareTeamId,
    CareTeamRole,
    Consent,
    ConsentId,
    ConsentScope,
    ConsentStatus,
    Contact,
    ContactChannel,
    ContactId,
    ContactPoint,
    ContactPreferences,
    ContactRelationship,
    DecisionId,
    DecisionOutcome,
    EntityId,
    Finding,
    FindingId,
    Goal,
    GoalAchievementStatus,
    GoalId,
    GoalOutcome,
    HumanName,
    Identifier,
    Intervention,
    InterventionId,
    InterventionKind,
    Membership,
    NaiveDatetimeError,
    Need,
    NeedId,
    NeedPriority,
    Note,
    NoteId,
    NotFoundError,
    Patient,
    PatientDecision,
    PatientId,
    Period,
    QuietHours,
    Referral,
    ReferralId,
    ReferralTargetKind,
    Review,
    ReviewDecision,
    ReviewId,
    StaffId,
    StaffMember,
    TaskStatus,
    ValidationError,
)
from carecoord.model import Direction, ExternalRef, InteractionParty, supervision_chain
from carecoord.testing.strategies import ENTITY_STRATEGIES

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
KOLKATA = ZoneInfo("Asia/Kolkata")
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=NY)
DAY = timedelta(days=1)
STAFF = StaffId("staff-1")
PATIENT = PatientId("patient-1")
SECRET = "ZZVALUE77"


# ------------------------------------------------------------------ builders


def name() -> HumanName:
    return HumanName(family="Doe", given=("Jane",))


def contact(cid: str = "c1") -> Contact:
    return Contact(id=ContactId(cid), name=name(), relationship=ContactRelationship.CHILD)


def patient(**changes: Any) -> Patient:
    values: dict[str, Any] = {
        "id": PATIENT,
        "name": name(),
        "birth_date": date(1950, 6, 15),
        "time_zone": "America/New_York",
        "contacts": (contact("c1"),),
    }
    values.update(changes)
    return Patient(**values)


def staff(sid: str, supervisor: str | None = None) -> StaffMember:
    return StaffMember(
        id=StaffId(sid),
        name=name(),
        roles=(CareTeamRole.NURSE,),
        supervisor_id=None if supervisor is None else StaffId(supervisor),
    )


def membership(
    sid: str,
    role: CareTeamRole = CareTeamRole.NURSE,
    start: datetime = T0,
    end: datetime | None = None,
) -> Membership:
    return Membership(staff_id=StaffId(sid), role=role, period=Period(start=start, end=end))


def team(*members: Membership, lead: str = "lead") -> CareTeam:
    if not members:
        members = (membership("lead", CareTeamRole.CARE_COORDINATOR), membership("nurse"))
    return CareTeam(
        id=CareTeamId("team-1"), patient_id=PATIENT, lead_id=StaffId(lead), members=members
    )


def goal(gid: str = "g1", addresses: tuple[str, ...] = ()) -> Goal:
    return Goal(
        id=GoalId(gid), description="walk daily", addresses=tuple(NeedId(n) for n in addresses)
    )


def intervention(iid: str = "i1", *goal_ids: str, **changes: Any) -> Intervention:
    values: dict[str, Any] = {
        "id": InterventionId(iid),
        "kind": InterventionKind.EDUCATION,
        "description": "explain",
        "created_at": T0,
        "goal_ids": tuple(GoalId(g) for g in goal_ids),
    }
    values.update(changes)
    return Intervention(**values)


def plan(**changes: Any) -> CarePlan:
    values: dict[str, Any] = {
        "id": CarePlanId("plan-1"),
        "patient_id": PATIENT,
        "author_id": STAFF,
        "created_at": T0,
        "addresses": (NeedId("n1"),),
        "goals": (goal("g1", ("n1",)),),
        "interventions": (intervention("i1", "g1"),),
    }
    values.update(changes)
    return CarePlan(**values)


def finding(fid: str) -> Finding:
    return Finding(id=FindingId(fid), domain=AssessmentDomain.SOCIAL, text="lives alone")


def need(nid: str, *finding_ids: str, priority: NeedPriority = NeedPriority.MEDIUM) -> Need:
    return Need(
        id=NeedId(nid),
        domain=AssessmentDomain.SOCIAL,
        description="isolation",
        priority=priority,
        finding_ids=tuple(FindingId(f) for f in finding_ids),
    )


def barrier(**changes: Any) -> Barrier:
    values: dict[str, Any] = {
        "id": BarrierId("b1"),
        "patient_id": PATIENT,
        "kind": BarrierKind.TRANSPORT,
        "identified_at": T0,
        "identified_by": STAFF,
    }
    values.update(changes)
    return Barrier(**values)


def review(**changes: Any) -> Review:
    values: dict[str, Any] = {
        "id": ReviewId("r1"),
        "plan_id": CarePlanId("plan-1"),
        "patient_id": PATIENT,
        "reviewed_at": T0,
        "reviewed_by": STAFF,
        "next_review_at": T0 + 30 * DAY,
    }
    values.update(changes)
    return Review(**values)


def note(**changes: Any) -> Note:
    values: dict[str, Any] = {
        "id": NoteId("n1"),
        "patient_id": PATIENT,
        "at": T0,
        "author_id": STAFF,
        "channel": ContactChannel.PHONE,
        "direction": Direction.OUTBOUND,
        "party": InteractionParty.PATIENT,
        "summary": "called",
    }
    values.update(changes)
    return Note(**values)


def consent(**changes: Any) -> Consent:
    values: dict[str, Any] = {
        "id": ConsentId("consent-1"),
        "patient_id": PATIENT,
        "recorded_at": T0,
        "recorded_by": STAFF,
        "contact_ids": (ContactId("c1"),),
    }
    values.update(changes)
    return Consent(**values)


def _assert_names_field(error: ValidationError, field: str, *hidden: str) -> None:
    assert isinstance(error, CareCoordError)
    assert error.field == field
    assert f".{field.split('[')[0]}" in str(error)
    for value in (SECRET, *hidden):
        assert value not in str(error)


# ---------------------------------------------------- strategies are valid


@pytest.mark.parametrize("cls", list(ENTITY_STRATEGIES), ids=lambda c: c.__name__)
def test_generated_entities_are_valid(cls: type) -> None:
    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(ENTITY_STRATEGIES[cls])
    def check(obj: Any) -> None:
        actual: type = type(obj)
        assert actual is cls
        attrs.validate(obj)
        assert attrs.evolve(obj) == obj  # re-runs every validator and post-init check

    check()


# ------------------------------------------------------------- valid builds


def test_valid_constructions() -> None:
    p = patient()
    assert p.language == "en"
    assert p.contacts[0].id == "c1"
    s = staff("s1", supervisor="s0")
    assert s.active
    assert s.time_zone == "UTC"
    t = team()
    assert t.status.value == "proposed"
    cp = plan()
    assert cp.status.value == "draft"
    assert cp.goal(GoalId("g1")).description == "walk daily"
    assert cp.intervention(InterventionId("i1")).status is TaskStatus.READY
    a = Assessment(
        id=AssessmentId("a1"),
        patient_id=PATIENT,
        performed_by=STAFF,
        performed_at=T0,
        findings=(finding("f1"),),
        needs=(need("n1", "f1"),),
    )
    assert a.domains == frozenset({AssessmentDomain.SOCIAL})
    r = Referral(
        id=ReferralId("ref-1"),
        patient_id=PATIENT,
        requested_by=STAFF,
        created_at=T0,
        target_kind=ReferralTargetKind.TRANSPORT,
        target_name="Rides",
        service="transport",
    )
    assert not r.is_closed
    assert r.last_changed_at == T0
    ap = Appointment(
        id=AppointmentId("ap-1"),
        patient_id=PATIENT,
        start=T0,
        end=T0 + timedelta(hours=1),
        provider="clinic",
        location="room 1",
    )
    assert ap.end > ap.start
    assert not barrier().is_resolved
    assert review().on_time is None
    assert note().contact_id is None
    d = PatientDecision(
        id=DecisionId("d1"),
        patient_id=PATIENT,
        at=T0,
        recorded_by=STAFF,
        recommendation="physio",
        outcome=DecisionOutcome.DEFERRED,
    )
    assert d.patient_words is None
    assert consent().status is ConsentStatus.ACTIVE


# -------------------------------------------------------- field validation


@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda v: HumanName(family=v), "family"),
        (lambda v: Identifier(system="urn:oid:1.2.3", value=v), "value"),
        (lambda v: ContactPoint(channel=ContactChannel.SMS, value=v), "value"),
        (lambda v: Goal(id=GoalId("g"), description=v), "description"),
        (lambda v: intervention(description=v), "description"),
        (lambda v: plan(title=v), "title"),
        (lambda v: Finding(id=FindingId("f"), domain=AssessmentDomain.MEDICAL, text=v), "text"),
        (lambda v: note(summary=v), "summary"),
        (lambda v: barrier(description=v), "description"),
        (lambda v: review(summary=v), "summary"),
    ],
)
def test_blank_text_is_rejected(build: Any, field: str, blank: str) -> None:
    with pytest.raises(ValidationError) as info:
        build(blank)
    _assert_names_field(info.value, field)
    assert "blank" in str(info.value)


def test_too_long_text_is_rejected_without_echo() -> None:
    with pytest.raises(ValidationError) as info:
        Goal(id=GoalId("g"), description=SECRET * 300)
    _assert_names_field(info.value, "description")
    assert "2000" in str(info.value)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: patient(id=SECRET), "id"),
        (lambda: patient(id=StaffId(SECRET)), "id"),
        (lambda: patient(name=SECRET), "name"),
        (lambda: patient(birth_date=SECRET), "birth_date"),
        (lambda: patient(birth_date=datetime(1950, 1, 1, tzinfo=UTC)), "birth_date"),
        (lambda: patient(time_zone="Mars/" + SECRET), "time_zone"),
        (lambda: patient(time_zone=5), "time_zone"),
        (lambda: patient(language=SECRET + "!"), "language"),
        (lambda: patient(contacts=[contact()]), "contacts"),
        (lambda: patient(contacts=(SECRET,)), "contacts[0]"),
        (lambda: patient(contacts=(contact("c1"), contact("c1"))), "contacts"),
        (lambda: plan(patient_id=SECRET), "patient_id"),
        (lambda: plan(author_id=PatientId(SECRET)), "author_id"),
        (lambda: plan(status=SECRET), "status"),
        (lambda: plan(status="draft"), "status"),
        (lambda: intervention(goal_ids=(SECRET,)), "goal_ids[0]"),
        (lambda: intervention(goal_ids=(GoalId("g"), GoalId("g"))), "goal_ids"),
        (lambda: StaffMember(id=StaffId("s"), name=name(), roles=()), "roles"),
        (
            lambda: StaffMember(id=StaffId("s"), name=name(), roles=("nurse",)),  # type: ignore[arg-type]
            "roles[0]",
        ),
        (
            lambda: StaffMember(
                id=StaffId("s"),
                name=name(),
                roles=(CareTeamRole.NURSE,),
                active=1,  # type: ignore[arg-type]
            ),
            "active",
        ),
        (lambda: consent(contact_ids=(), categories=("appointments",)), "categories"),
        (lambda: consent(scope=ConsentScope.TREATMENT), "contact_ids"),
        (lambda: consent(policy_rule="OPTIN"), "policy_rule"),
        (lambda: consent(custodians=(ExternalRef(reference="Patient/p"),)), "custodians"),
        (lambda: review(goal_outcomes=(SECRET,)), "goal_outcomes[0]"),
        (lambda: barrier(kind=SECRET), "kind"),
    ],
)
def test_wrong_types_and_values_are_rejected(build: Any, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        build()
    _assert_names_field(info.value, field)


def test_staff_cannot_supervise_themselves() -> None:
    with pytest.raises(ValidationError) as info:
        staff("s1", supervisor="s1")
    assert info.value.field == "supervisor_id"


def test_plain_str_is_not_a_typed_id() -> None:
    with pytest.raises(ValidationError) as info:
        plan(id="plan-1")
    assert info.value.field == "id"
    assert "CarePlan.id must be CarePlanId" in str(info.value)


def test_bool_is_not_a_number() -> None:
    from carecoord import Quantity

    with pytest.raises(ValidationError):
        Quantity(value=True, unit="kg")
    with pytest.raises(ValidationError):
        Quantity(value=float("nan"), unit="kg")
    assert Quantity(value=3, unit="kg").value == 3


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda naive: plan(created_at=naive), "created_at"),
        (lambda naive: plan(next_review_at=naive), "next_review_at"),
        (lambda naive: patient(enrolled_at=naive), "enrolled_at"),
        (lambda naive: Period(start=naive), "start"),
        (lambda naive: Period(start=T0, end=naive), "end"),
        (lambda naive: intervention(due=naive), "due"),
        (lambda naive: review(due_at=naive), "due_at"),
        (lambda naive: note(at=naive), "at"),
        (lambda naive: consent(recorded_at=naive), "recorded_at"),
        (lambda naive: barrier(identified_at=naive), "identified_at"),
    ],
)
def test_naive_datetimes_are_rejected(build: Any, field: str) -> None:
    naive = datetime(2025, 3, 3, 9, 0)
    with pytest.raises(NaiveDatetimeError) as info:
        build(naive)
    _assert_names_field(info.value, field)
    assert "naive" in str(info.value)


def test_datetime_where_date_expected_and_date_where_datetime_expected() -> None:
    with pytest.raises(ValidationError):
        plan(created_at=date(2025, 3, 3))
    with pytest.raises(ValidationError):
        Goal(id=GoalId("g"), description="x", start=T0)


# ------------------------------------------------------------------ period


def test_period_end_before_start() -> None:
    with pytest.raises(ValidationError) as info:
        Period(start=T0, end=T0 - timedelta(seconds=1))
    assert info.value.field == "end"
    assert Period(start=T0, end=T0).end == T0


def test_period_compares_instants_across_zones() -> None:
    # 15:00 in Berlin is 09:00 in New York (winter): the same instant.
    same = T0.astimezone(BERLIN)
    assert Period(start=T0, end=same).end == T0
    with pytest.raises(ValidationError):
        Period(start=T0, end=same - timedelta(minutes=1))


def test_period_contains_is_half_open() -> None:
    p = Period(start=T0, end=T0 + DAY)
    assert p.contains(T0)
    assert p.contains(T0 + DAY - timedelta(microseconds=1))
    assert not p.contains(T0 + DAY)
    assert not p.contains(T0 - timedelta(microseconds=1))
    assert Period(start=T0).contains(T0 + 10_000 * DAY)
    with pytest.raises(NaiveDatetimeError):
        p.contains(datetime(2025, 3, 3, 12))


def test_period_across_fall_back_hour() -> None:
    # Datetimes of one zone compare by wall clock in Python, ignoring fold; the
    # model compares instants, so a period across the fall-back hour is valid.
    start = datetime(2025, 11, 2, 1, 50, tzinfo=NY)  # EDT, the first 01:50
    end = datetime(2025, 11, 2, 1, 10, fold=1, tzinfo=NY)  # EST, 20 minutes later
    assert end.timestamp() - start.timestamp() == 20 * 60
    period = Period(start=start, end=end)
    assert period.contains(start)
    assert period.contains(datetime(2025, 11, 2, 1, 5, fold=1, tzinfo=NY))
    assert not period.contains(end)


# ---------------------------------------------------------------- care team


def test_care_team_lead_must_be_member() -> None:
    with pytest.raises(ValidationError) as info:
        team(membership("nurse"), lead="someone-else")
    assert info.value.field == "lead_id"
    assert "someone-else" not in str(info.value)


def test_care_team_overlapping_memberships_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        team(
            membership("lead", start=T0, end=T0 + 10 * DAY),
            membership("lead", start=T0 + 5 * DAY),
        )
    assert info.value.field == "members"


def test_care_team_open_ended_memberships_overlap() -> None:
    with pytest.raises(ValidationError):
        team(membership("lead", start=T0 + 5 * DAY), membership("lead", start=T0))


def test_care_team_touching_or_different_role_memberships_are_fine() -> None:
    t = team(
        membership("lead", start=T0, end=T0 + 10 * DAY),
        membership("lead", start=T0 + 10 * DAY),
        membership("lead", CareTeamRole.SOCIAL_WORKER, start=T0),
    )
    assert len(t.members) == 3
    assert t.roles_of(StaffId("lead"), T0 + 12 * DAY) == frozenset(
        {CareTeamRole.NURSE, CareTeamRole.SOCIAL_WORKER}
    )


def test_active_members_and_roles_of() -> None:
    t = team(
        membership("lead", CareTeamRole.CARE_COORDINATOR),
        membership("nurse", start=T0 + DAY, end=T0 + 5 * DAY),
    )
    assert {m.staff_id for m in t.active_members(T0)} == {"lead"}
    assert {m.staff_id for m in t.active_members(T0 + 2 * DAY)} == {"lead", "nurse"}
    assert {m.staff_id for m in t.active_members(T0 + 5 * DAY)} == {"lead"}
    assert t.roles_of(StaffId("nurse"), T0 + 2 * DAY) == frozenset({CareTeamRole.NURSE})
    assert t.roles_of(StaffId("nurse"), T0) == frozenset()
    assert t.roles_of(StaffId("nobody"), T0 + 2 * DAY) == frozenset()
    assert t.is_active_member(StaffId("nurse"), T0 + 2 * DAY)
    assert not t.is_active_member(StaffId("nurse"), T0 + 6 * DAY)


def test_end_membership() -> None:
    t = team()
    ended = t.end_membership(StaffId("nurse"), T0 + 3 * DAY)
    nurse = next(m for m in ended.members if m.staff_id == "nurse")
    assert nurse.period.end == T0 + 3 * DAY
    assert ended.is_active_member(StaffId("nurse"), T0 + DAY)
    assert not ended.is_active_member(StaffId("nurse"), T0 + 3 * DAY)
    assert t.is_active_member(StaffId("nurse"), T0 + 3 * DAY)  # the original is untouched
    with pytest.raises(NotFoundError):
        ended.end_membership(StaffId("nurse"), T0 + 4 * DAY)
    with pytest.raises(NotFoundError):
        t.end_membership(StaffId("nobody"), T0)
    with pytest.raises(NaiveDatetimeError):
        t.end_membership(StaffId("nurse"), datetime(2025, 3, 4))


def test_lead_cannot_leave_until_handed_over() -> None:
    t = team()
    with pytest.raises(ValidationError):
        t.end_membership(StaffId("lead"), T0 + DAY)
    handed = t.with_lead(StaffId("nurse"), T0 + DAY)
    assert handed.lead_id == "nurse"
    left = handed.end_membership(StaffId("lead"), T0 + DAY)
    assert not left.is_active_member(StaffId("lead"), T0 + DAY)


def test_with_lead_requires_active_member() -> None:
    t = team(membership("lead"), membership("nurse", start=T0 + 5 * DAY))
    with pytest.raises(ValidationError):
        t.with_lead(StaffId("nurse"), T0)
    with pytest.raises(ValidationError):
        t.with_lead(StaffId("nobody"), T0)
    assert t.with_lead(StaffId("nurse"), T0 + 5 * DAY).lead_id == "nurse"


def test_with_member_is_validated() -> None:
    t = team()
    with pytest.raises(ValidationError):
        t.with_member(membership("nurse", start=T0 + DAY))
    assert len(t.with_member(membership("pharm", CareTeamRole.PHARMACIST)).members) == 3


# ------------------------------------------------------------- supervision


def test_supervision_chain_order() -> None:
    people = {s.id: s for s in (staff("a", "b"), staff("b", "c"), staff("c"), staff("d", "a"))}
    assert supervision_chain(StaffId("d"), people) == ["a", "b", "c"]
    assert supervision_chain(StaffId("a"), people) == ["b", "c"]
    assert supervision_chain(StaffId("c"), people) == []


def test_supervision_chain_stops_at_unknown_supervisor() -> None:
    people = {s.id: s for s in (staff("a", "b"), staff("b", "outside"))}
    assert supervision_chain(StaffId("a"), people) == ["b", "outside"]


@pytest.mark.parametrize(
    "members",
    [
        [("a", "b"), ("b", "a")],
        [("a", "b"), ("b", "c"), ("c", "a")],
        [("x", "a"), ("a", "b"), ("b", "a")],
    ],
)
def test_supervision_chain_cycle(members: list[tuple[str, str]]) -> None:
    people = {s.id: s for s in (staff(sid, sup) for sid, sup in members)}
    with pytest.raises(ValidationError) as info:
        supervision_chain(StaffId(members[0][0]), people)
    assert "cycle" in str(info.value)


def test_supervision_chain_unknown_staff() -> None:
    with pytest.raises(NotFoundError):
        supervision_chain(StaffId("ghost"), {})


# ------------------------------------------------------------- quiet hours


def test_quiet_hours_across_midnight() -> None:
    quiet = QuietHours(start=time(22, 0), end=time(7, 0))
    zone = "Europe/Berlin"

    def at(hour: int, minute: int = 0) -> datetime:
        return datetime(2025, 1, 10, hour, minute, tzinfo=BERLIN)

    assert quiet.contains(at(22), zone)
    assert quiet.contains(at(23, 30), zone)
    assert quiet.contains(at(0), zone)
    assert quiet.contains(at(6, 59), zone)
    assert not quiet.contains(at(7), zone)
    assert not quiet.contains(at(12), zone)
    assert not quiet.contains(at(21, 59), zone)


def test_quiet_hours_within_a_day() -> None:
    quiet = QuietHours(start=time(12, 0), end=time(13, 0))
    assert quiet.contains(datetime(2025, 1, 10, 12, 30, tzinfo=NY), "America/New_York")
    assert not quiet.contains(datetime(2025, 1, 10, 13, 0, tzinfo=NY), "America/New_York")
    assert not quiet.contains(datetime(2025, 1, 10, 0, 30, tzinfo=NY), "America/New_York")


def test_quiet_hours_read_in_the_persons_zone() -> None:
    quiet = QuietHours(start=time(22, 0), end=time(7, 0))
    moment = datetime(2025, 1, 10, 21, 30, tzinfo=UTC)  # 22:30 Berlin, 16:30 New York
    assert quiet.contains(moment, "Europe/Berlin")
    assert not quiet.contains(moment, "America/New_York")
    # 03:00 in Kolkata is 21:30 UTC the day before: quiet there.
    assert quiet.contains(datetime(2025, 1, 10, 3, 0, tzinfo=KOLKATA), "Asia/Kolkata")
    assert not quiet.contains(datetime(2025, 1, 10, 3, 0, tzinfo=KOLKATA), "America/New_York")


def test_quiet_hours_next_allowed() -> None:
    quiet = QuietHours(start=time(22, 0), end=time(7, 0))
    late = datetime(2025, 1, 10, 23, 30, tzinfo=BERLIN)
    assert quiet.next_allowed(late, "Europe/Berlin") == datetime(2025, 1, 11, 7, 0, tzinfo=BERLIN)
    early = datetime(2025, 1, 11, 6, 0, tzinfo=BERLIN)
    assert quiet.next_allowed(early, "Europe/Berlin") == datetime(2025, 1, 11, 7, 0, tzinfo=BERLIN)
    noon = datetime(2025, 1, 11, 12, 0, tzinfo=BERLIN)
    assert quiet.next_allowed(noon, "Europe/Berlin") is noon
    result = quiet.next_allowed(late, "Europe/Berlin")
    assert isinstance(result.tzinfo, ZoneInfo)
    assert result.tzinfo.key == "Europe/Berlin"


def test_quiet_hours_next_allowed_from_another_zone() -> None:
    quiet = QuietHours(start=time(22, 0), end=time(7, 0))
    moment = datetime(2025, 1, 10, 23, 0, tzinfo=UTC)  # 18:00 New York, 04:30 Kolkata
    assert quiet.next_allowed(moment, "America/New_York") is moment
    allowed = quiet.next_allowed(moment, "Asia/Kolkata")
    assert allowed == datetime(2025, 1, 11, 7, 0, tzinfo=KOLKATA)
    assert allowed > moment


def test_quiet_hours_ending_in_dst_gap() -> None:
    # 02:30 does not exist in New York on 2025-03-09: the window ends at 03:30 EDT.
    quiet = QuietHours(start=time(22, 0), end=time(2, 30))
    allowed = quiet.next_allowed(datetime(2025, 3, 8, 23, 0, tzinfo=NY), "America/New_York")
    assert allowed == datetime(2025, 3, 9, 7, 30, tzinfo=UTC)
    assert allowed.utcoffset() == timedelta(hours=-4)


def test_quiet_hours_validation() -> None:
    with pytest.raises(ValidationError) as info:
        QuietHours(start=time(8, 0), end=time(8, 0))
    assert info.value.field == "end"
    with pytest.raises(ValidationError):
        QuietHours(start=time(22, 0, tzinfo=UTC), end=time(7, 0))
    with pytest.raises(ValidationError):
        QuietHours(start=datetime(2025, 1, 1, 22), end=time(7, 0))  # type: ignore[arg-type]
    with pytest.raises(NaiveDatetimeError):
        QuietHours(start=time(22), end=time(7)).contains(datetime(2025, 1, 1, 23), "UTC")


def test_contact_preferences_channels_unique() -> None:
    with pytest.raises(ValidationError):
        ContactPreferences(channels=(ContactChannel.SMS, ContactChannel.SMS))
    assert ContactPreferences(channels=(ContactChannel.SMS,)).quiet_hours is None


# ----------------------------------------------------------------- patient


def test_patient_contact_lookup() -> None:
    p = patient()
    assert p.contact(ContactId("c1")).relationship is ContactRelationship.CHILD
    with pytest.raises(NotFoundError):
        p.contact(ContactId("c2"))


def test_patient_with_contact_adds_and_replaces() -> None:
    p = patient()
    added = p.with_contact(contact("c2"))
    assert [c.id for c in added.contacts] == ["c1", "c2"]
    assert [c.id for c in p.contacts] == ["c1"]
    updated = attrs.evolve(contact("c1"), may_receive_information=True)
    replaced = added.with_contact(updated)
    assert len(replaced.contacts) == 2
    assert replaced.contact(ContactId("c1")).may_receive_information


def test_patient_age_on() -> None:
    p = patient(birth_date=date(2000, 2, 29))
    assert p.age_on(date(2025, 2, 28)) == 24
    assert p.age_on(date(2025, 3, 1)) == 25
    assert p.age_on(date(2024, 2, 29)) == 24
    assert p.age_on(date(2000, 2, 29)) == 0
    q = patient(birth_date=date(1950, 6, 15))
    assert q.age_on(date(2025, 6, 14)) == 74
    assert q.age_on(date(2025, 6, 15)) == 75


def test_patient_language_and_zone() -> None:
    assert patient(language="pt-BR").language == "pt-BR"
    assert patient(time_zone="Australia/Lord_Howe").time_zone == "Australia/Lord_Howe"
    with pytest.raises(ValidationError):
        patient(language="english please")


def test_human_name_given_parts() -> None:
    with pytest.raises(ValidationError):
        HumanName(family="Doe", given=("Jane", " "))
    with pytest.raises(ValidationError):
        HumanName(family="Doe", given=["Jane"])  # type: ignore[arg-type]


# -------------------------------------------------------------- assessment


def test_assessment_needs_must_refer_to_its_findings() -> None:
    with pytest.raises(ValidationError) as info:
        Assessment(
            id=AssessmentId("a1"),
            patient_id=PATIENT,
            performed_by=STAFF,
            performed_at=T0,
            findings=(finding("f1"),),
            needs=(need("n1", "f1", "f2"),),
        )
    assert info.value.field == "needs"


def test_assessment_duplicate_finding_ids() -> None:
    with pytest.raises(ValidationError) as info:
        Assessment(
            id=AssessmentId("a1"),
            patient_id=PATIENT,
            performed_by=STAFF,
            performed_at=T0,
            findings=(finding("f1"), finding("f1")),
        )
    assert info.value.field == "findings"


def test_assessment_needs_by_priority() -> None:
    a = Assessment(
        id=AssessmentId("a1"),
        patient_id=PATIENT,
        performed_by=STAFF,
        performed_at=T0,
        needs=(
            need("low", priority=NeedPriority.LOW),
            need("high", priority=NeedPriority.HIGH),
            need("mid", priority=NeedPriority.MEDIUM),
            need("high2", priority=NeedPriority.HIGH),
        ),
    )
    assert [n.id for n in a.needs_by_priority()] == ["high", "high2", "mid", "low"]


# --------------------------------------------------------------- care plan


def test_plan_goals_must_address_plan_needs() -> None:
    with pytest.raises(ValidationError) as info:
        plan(goals=(goal("g1", ("n1", "n9")),))
    assert info.value.field == "goals"


def test_plan_interventions_must_link_plan_goals() -> None:
    with pytest.raises(ValidationError) as info:
        plan(interventions=(intervention("i1", "g1", "g9"),))
    assert info.value.field == "interventions"


def test_plan_duplicate_goal_ids() -> None:
    with pytest.raises(ValidationError) as info:
        plan(goals=(goal("g1"), goal("g1")))
    assert info.value.field == "goals"


def test_plan_with_goal_upserts() -> None:
    p = plan()
    added = p.with_goal(goal("g2"))
    assert [g.id for g in added.goals] == ["g1", "g2"]
    changed = attrs.evolve(goal("g1", ("n1",)), description="walk twice a day")
    replaced = added.with_goal(changed)
    assert [g.id for g in replaced.goals] == ["g1", "g2"]
    assert replaced.goal(GoalId("g1")).description == "walk twice a day"
    with pytest.raises(ValidationError):
        p.with_goal(goal("g3", ("unknown-need",)))
    assert p.addressing(NeedId("n2")).with_goal(goal("g3", ("n2",))).goal(GoalId("g3"))


def test_plan_with_intervention_upserts() -> None:
    p = plan(goals=(goal("g1", ("n1",)), goal("g2")))
    added = p.with_intervention(intervention("i2", "g2"))
    assert [i.id for i in added.interventions] == ["i1", "i2"]
    replaced = added.with_intervention(intervention("i1", "g1", "g2", description="new"))
    assert [i.id for i in replaced.interventions] == ["i1", "i2"]
    assert replaced.intervention(InterventionId("i1")).goal_ids == ("g1", "g2")
    with pytest.raises(ValidationError):
        p.with_intervention(intervention("i3", "g-missing"))


def test_plan_lookups() -> None:
    p = plan()
    with pytest.raises(NotFoundError):
        p.goal(GoalId("nope"))
    with pytest.raises(NotFoundError):
        p.intervention(InterventionId("nope"))


def test_plan_addressing_merges() -> None:
    p = plan().addressing(NeedId("n2"), NeedId("n1"), NeedId("n3"))
    assert p.addresses == ("n1", "n2", "n3")


# ------------------------------------------------------------ intervention


def test_intervention_due_and_window_are_exclusive() -> None:
    with pytest.raises(ValidationError) as info:
        intervention(due=T0 + DAY, window=Period(start=T0, end=T0 + DAY))
    assert info.value.field == "window"
    assert intervention(due=T0 + DAY).due_at == T0 + DAY
    assert intervention(window=Period(start=T0, end=T0 + 2 * DAY)).due_at == T0 + 2 * DAY
    assert intervention(window=Period(start=T0)).due_at is None
    assert intervention().due_at is None


def test_intervention_is_overdue() -> None:
    item = intervention(due=T0 + DAY)
    assert not item.is_overdue(T0)
    assert not item.is_overdue(T0 + DAY)
    assert item.is_overdue(T0 + DAY + timedelta(seconds=1))
    windowed = intervention(window=Period(start=T0, end=T0 + DAY))
    assert windowed.is_overdue(T0 + 2 * DAY)
    assert not intervention().is_overdue(T0 + 1000 * DAY)
    started = item.transition("in-progress", by=STAFF, at=T0)
    assert started.is_overdue(T0 + 2 * DAY)
    done = started.transition("completed", by=STAFF, at=T0)
    assert not done.is_overdue(T0 + 2 * DAY)
    cancelled = item.transition("cancelled", by=STAFF, at=T0, reason="not needed")
    assert not cancelled.is_overdue(T0 + 2 * DAY)
    with pytest.raises(NaiveDatetimeError):
        item.is_overdue(datetime(2025, 3, 10))


def test_intervention_overdue_across_zones() -> None:
    item = intervention(due=datetime(2025, 3, 3, 17, 0, tzinfo=BERLIN))  # 11:00 New York
    assert not item.is_overdue(datetime(2025, 3, 3, 10, 59, tzinfo=NY))
    assert item.is_overdue(datetime(2025, 3, 3, 11, 1, tzinfo=NY))


def test_intervention_assign() -> None:
    item = intervention()
    assigned = item.assign(StaffId("s2"))
    assert assigned.assignee_id == "s2"
    assert type(assigned.assignee_id) is StaffId
    done = assigned.transition("in-progress", by=STAFF, at=T0).transition(
        "completed", by=STAFF, at=T0
    )
    with pytest.raises(ValidationError) as info:
        done.assign(StaffId("s3"))
    assert info.value.field == "assignee_id"
    failed = item.transition("cancelled", by=STAFF, at=T0, reason="dup")
    with pytest.raises(ValidationError):
        failed.assign(StaffId("s3"))


# ---------------------------------------------------------------- barriers


def test_barrier_resolve() -> None:
    b = barrier(description="no car")
    resolved = b.resolve("volunteer driver", by=STAFF, at=T0 + DAY)
    assert resolved.is_resolved
    assert resolved.resolution is not None
    assert resolved.resolution.at == T0 + DAY
    assert resolved.resolution.by == STAFF
    assert not b.is_resolved
    with pytest.raises(ValidationError) as info:
        resolved.resolve("again", by=STAFF, at=T0 + 2 * DAY)
    assert info.value.field == "resolution"


def test_barrier_cannot_be_resolved_before_identified() -> None:
    with pytest.raises(ValidationError) as info:
        barrier().resolve("done", by=STAFF, at=T0 - DAY)
    assert info.value.field == "resolution"
    with pytest.raises(ValidationError):
        barrier().resolve("   ", by=STAFF, at=T0 + DAY)
    with pytest.raises(NaiveDatetimeError):
        barrier().resolve("done", by=STAFF, at=datetime(2025, 3, 4))


# ----------------------------------------------------------------- reviews


def test_review_next_after_reviewed() -> None:
    with pytest.raises(ValidationError) as info:
        review(next_review_at=T0)
    assert info.value.field == "next_review_at"
    with pytest.raises(ValidationError):
        review(next_review_at=T0 - DAY)
    assert review(next_review_at=T0 + timedelta(seconds=1)).next_review_at > T0


def test_review_on_time() -> None:
    assert review(due_at=T0).on_time is True
    assert review(due_at=T0 + DAY).on_time is True
    assert review(due_at=T0 - timedelta(seconds=1)).on_time is False
    assert review().on_time is None
    # Due 14:00 Berlin == 08:00 New York: a 09:00 New York review is late.
    assert review(due_at=datetime(2025, 3, 3, 14, 0, tzinfo=BERLIN)).on_time is False


def test_review_one_outcome_per_goal() -> None:
    outcome = GoalOutcome(
        goal_id=GoalId("g1"),
        achievement=GoalAchievementStatus.IMPROVING,
        decision=ReviewDecision.CONTINUE,
    )
    with pytest.raises(ValidationError) as info:
        review(goal_outcomes=(outcome, outcome))
    assert info.value.field == "goal_outcomes"
    assert review(goal_outcomes=(outcome,)).goal_outcomes == (outcome,)


# ------------------------------------------------------- notes and consent


def test_family_note_names_contact() -> None:
    with pytest.raises(ValidationError) as info:
        note(party=InteractionParty.FAMILY)
    assert info.value.field == "contact_id"
    ok = note(party=InteractionParty.FAMILY, contact_id=ContactId("c1"))
    assert ok.contact_id == "c1"


def test_consent_permits() -> None:
    c = consent(
        contact_ids=(ContactId("c1"), ContactId("c2")),
        categories=("appointments",),
        period=Period(start=T0, end=T0 + 30 * DAY),
    )
    inside = T0 + DAY
    assert c.permits(ContactId("c1"), "appointments", inside)
    assert c.permits(ContactId("c2"), "appointments", inside)
    assert not c.permits(ContactId("c3"), "appointments", inside)
    assert not c.permits(ContactId("c1"), "care-plan", inside)
    assert not c.permits(ContactId("c1"), "appointments", T0 - DAY)
    assert not c.permits(ContactId("c1"), "appointments", T0 + 30 * DAY)
    assert c.permits(ContactId("c1"), "appointments", T0)
    for status in (ConsentStatus.INACTIVE, ConsentStatus.DRAFT, ConsentStatus.REJECTED):
        assert not attrs.evolve(c, status=status).permits(ContactId("c1"), "appointments", inside)
    withdrawn = c.transition("inactive", by=STAFF, at=inside)
    assert not withdrawn.permits(ContactId("c1"), "appointments", inside)
    with pytest.raises(NaiveDatetimeError):
        c.permits(ContactId("c1"), "appointments", datetime(2025, 3, 4))


def test_consent_without_categories_or_period_permits_everything() -> None:
    c = consent()
    assert c.permits(ContactId("c1"), "anything", T0 + 3650 * DAY)
    assert c.permits(ContactId("c1"), "care-plan", T0 - 3650 * DAY)


def test_consent_categories_unique() -> None:
    with pytest.raises(ValidationError):
        consent(categories=("a", "a"))


def test_a_consent_naming_no_contact_permits_no_contact_anything() -> None:
    # as another system writes it: scope and policy as given, no provision
    general = consent(contact_ids=(), policy_rule=None)
    assert not general.permits(ContactId("c1"), "anything", T0 + DAY)
    research = consent(contact_ids=(), scope=ConsentScope.RESEARCH)
    assert research.status is ConsentStatus.ACTIVE
    assert not research.permits(ContactId("c1"), "anything", T0 + DAY)


# ------------------------------------------------------------- identifiers


@pytest.mark.parametrize(
    "raw",
    [
        "",
        " ",
        "a b",
        " p-1",
        "p-1 ",
        "x" * 65,
        "caf\u00e9",
        "tab\there",
        "line\n",
        "p-1\n",
        "\x00",
        "\x7f",
        # Nothing that could leave a folder when the id names a file.
        ".",
        "..",
        "a/b",
        "/abs",
        "../../escaped",
        "..\\escaped",
        "a\\b",
        # Nothing else outside A-Z a-z 0-9 . _ : -
        "p<1>",
        "p&1",
        "p%2F1",
        "p?1",
        "p#1",
        "p*1",
        "p~1",
        "p'1",
        'p"1',
    ],
)
def test_entity_id_rejects_bad_strings(raw: str) -> None:
    with pytest.raises(ValidationError) as info:
        PatientId(raw)
    assert isinstance(info.value, CareCoordError)
    assert info.value.field == "PatientId"
    if raw.strip(" ."):
        assert raw not in str(info.value)  # the value is never echoed


def test_entity_id_rule_is_documented_in_the_error() -> None:
    with pytest.raises(ValidationError) as info:
        StaffId("../x")
    assert str(info.value) == (
        "StaffId must be 1-64 characters from A-Z a-z 0-9 . _ : - (and not '.' or '..')"
    )
    assert info.value.field == "StaffId"


@pytest.mark.parametrize("cls", [*EntityId.__subclasses__(), EntityId], ids=lambda c: c.__name__)
def test_every_id_type_applies_the_rule(cls: type[EntityId]) -> None:
    for raw in ("../p", "a/b", "..", "a b"):
        with pytest.raises(ValidationError):
            cls(raw)
    assert cls("p-1.x_y:z") == "p-1.x_y:z"


@pytest.mark.parametrize("raw", [5, None, b"abc", 1.5, ["a"]])
def test_entity_id_rejects_non_strings(raw: Any) -> None:
    with pytest.raises(ValidationError) as info:
        GoalId(raw)
    assert "GoalId must be a string" in str(info.value)


def test_entity_id_accepts_valid_strings() -> None:
    assert PatientId("x" * 64) == "x" * 64
    assert PatientId("a-b_c.d:e") == "a-b_c.d:e"
    for ok in ("p-1", "cc-1", "plan-1", "P_1", "...", ".hidden", "a..b", "urn:uuid:1-2"):
        assert PatientId(ok) == ok
    text_form = str(uuid.uuid4())
    assert PatientId(text_form) == text_form
    pid = PatientId("p-1")
    assert repr(pid) == "PatientId('p-1')"
    assert str(pid) == "p-1"
    fresh = {PatientId.new() for _ in range(5)}
    assert len(fresh) == 5
    assert all(type(f) is PatientId and len(f) == 32 for f in fresh)


def test_typed_ids_are_distinct_types() -> None:
    id_types = list(EntityId.__subclasses__())
    assert len(id_types) >= 17
    assert len(set(id_types)) == len(id_types)
    for a in id_types:
        for b in id_types:
            if a is not b:
                assert not issubclass(a, b)
                assert not isinstance(a("x"), b)
    assert type(PatientId("x")) is PatientId
    assert type(StaffId(PatientId("x"))) is StaffId
    # One id class is not accepted where another is required.
    with pytest.raises(ValidationError):
        plan(patient_id=StaffId("p-1"))
    with pytest.raises(ValidationError):
        intervention(goal_ids=(NeedId("g1"),))


# ------------------------------------------- names, addresses, gender (issue 13)


def test_current_name_prefers_names_in_use_then_usual_then_official() -> None:
    from carecoord import HumanName, Period
    from carecoord.model import NameUse, current_name

    t0 = datetime(2000, 1, 1, tzinfo=UTC)
    old = HumanName(family="A", use=NameUse.OLD)
    ended = HumanName(family="B", use=NameUse.USUAL, period=Period(t0, t0 + timedelta(days=1)))
    official = HumanName(family="C", use=NameUse.OFFICIAL, period=Period(t0))
    usual = HumanName(family="D", use=NameUse.USUAL)
    plain, plain_too = HumanName(family="E"), HumanName(family="F")
    assert current_name([old, ended, official]) is official
    assert current_name([official, usual]) is usual
    assert current_name([plain, plain_too]) is plain  # ties: the first listed
    assert current_name([old, ended]) is ended  # none in use: the use decides
    assert not ended.in_use and official.in_use
    with pytest.raises(ValidationError):
        current_name([])


def test_a_patient_name_must_be_the_current_one_of_its_history() -> None:
    from carecoord import HumanName
    from carecoord.model import NameUse

    current = HumanName(family="Windsor", use=NameUse.OFFICIAL)
    old = HumanName(family="Chalmers", use=NameUse.OLD)
    patient = Patient(
        id=PatientId("p-1"),
        name=current,
        other_names=(old,),
        birth_date=date(1974, 12, 25),
        time_zone="UTC",
    )
    assert patient.other_names == (old,)
    with pytest.raises(ValidationError, match=r"Patient\.name must be the current name") as info:
        attrs.evolve(patient, name=old, other_names=(current,))
    assert "Windsor" not in str(info.value) and "Chalmers" not in str(info.value)


def test_name_parts_and_addresses_are_validated_and_hidden() -> None:
    from carecoord import Address, AdministrativeGender, HumanName
    from carecoord.model import AddressUse

    with pytest.raises(ValidationError, match=r"HumanName\.suffix parts"):
        HumanName(family="X", suffix=(" ",))
    with pytest.raises(ValidationError, match=r"HumanName\.prefix must be a tuple"):
        HumanName(family="X", prefix=["Dr"])  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="Address needs at least one of"):
        Address(use=AddressUse.HOME)
    with pytest.raises(ValidationError):
        Address(city=" ")
    home = Address(use=AddressUse.HOME, lines=("1 Secret Lane",), city="Hiddenville")
    patient = Patient(
        id=PatientId("p-1"),
        name=HumanName(family="Doe", suffix=("Jr",)),
        birth_date=date(1950, 1, 2),
        time_zone="UTC",
        gender=AdministrativeGender.FEMALE,
        addresses=(home,),
    )
    for text in (repr(patient), repr(home), repr(patient.name)):
        for secret in ("Secret", "Hiddenville", "Jr", "female"):
            assert secret not in text
    assert "home" in repr(home)


def test_patient_payloads_written_before_names_and_addresses_still_load() -> None:
    from carecoord import dumps, loads
    from carecoord.storage import MemoryStore, RecordWrite, UnitOfWork

    # a schema-version-1 payload as carecoord wrote it before issue 13
    old = (
        '{"data":{"birth_date":"1950-01-02","contacts":[],"enrolled_at":null,'
        '"id":"p-1","identifiers":[],"language":"en","name":{"family":"Doe","given":["Pat"]},'
        '"preferences":{"channels":[],"quiet_hours":null},"telecom":[],"time_zone":"UTC"},'
        '"schema_version":1,"type":"Patient"}'
    )
    patient = loads(old, Patient)
    assert (patient.gender, patient.addresses, patient.other_names) == (None, (), ())
    assert (patient.name.use, patient.name.period, patient.name.suffix) == (None, None, ())
    store = MemoryStore()  # the storage path reads with the fast trusted decoder
    store.write(
        [RecordWrite(kind="Patient", id="p-1", expected_version=0, payload=old, patient_id="p-1")]
    )
    with UnitOfWork(store) as uow:
        assert uow.get(Patient, "p-1") == patient
    assert loads(dumps(patient), Patient) == patient


def test_referral_and_consent_payloads_written_before_external_references_still_load() -> None:
    import json

    from carecoord import Referral, ReferralId, ReferralTargetKind
    from carecoord.model import ConsentPolicyRule
    from carecoord.serialization import dumps, from_payload, loads

    referral = Referral(
        id=ReferralId("r-1"),
        patient_id=PATIENT,
        requested_by=STAFF,
        created_at=T0,
        target_kind=ReferralTargetKind.OTHER,
        target_name="Food bank",
        service="Parcels",
    )
    old_consent = consent()
    for record, added in (
        (referral, ("target", "outcome_refs", "concern_ids", "reason_refs")),
        (old_consent, ("scope", "policy_rule", "custodians")),
    ):
        payload = json.loads(dumps(record))
        for key in added:
            del payload["data"][key]
        assert from_payload(payload, type(record)) == record  # the validated path
        assert loads(json.dumps(payload), type(record)) == record  # the fast codec
    assert old_consent.scope is ConsentScope.PATIENT_PRIVACY
    assert old_consent.policy_rule is ConsentPolicyRule.OPTIN
