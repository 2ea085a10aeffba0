"""Plan templates (care protocols): time arithmetic, instantiation across zones and month
ends, role-based assignment, versions, migration preview and apply, access."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _template_samples import DIABETES, diabetes
from carecoord import (
    AccessDeniedError,
    CarePlanId,
    CareTeam,
    CareTeamId,
    CareTeamRole,
    ConflictError,
    GoalLifecycleStatus,
    InterventionId,
    InterventionKind,
    Membership,
    NotFoundError,
    PatientId,
    Period,
    StaffId,
    TaskStatus,
    ValidationError,
)
from carecoord.events import CarePlanCreated, InterventionAssigned
from carecoord.model.cadence import CadenceUnit
from carecoord.model.templates import (
    InterventionTemplate,
    Offset,
    PlanTemplate,
    Recurrence,
    TemplateInstance,
    TemplateKey,
)
from carecoord.model.training import (
    Competency,
    CompetencyId,
    CompetencyRequirement,
    StaffingPolicy,
)
from carecoord.serialization import from_payload, to_payload
from carecoord.service import CareCoordinator
from carecoord.templates import ChangeKind, choose_assignee, instantiate
from carecoord.testing import FixedClock, RecordingEventSink
from carecoord.testing.strategies import ENTITY_STRATEGIES, ZONES
from world import COORD, MA, NURSE, OUTSIDER, PATIENT, T0, TEAM, populate

NY = ZoneInfo("America/New_York")
KEY = TemplateKey


# ----------------------------------------------------------------- time arithmetic


@pytest.mark.parametrize(
    ("start", "offset", "expected"),
    [
        (datetime(2025, 1, 31, 9), Offset(months=1), datetime(2025, 2, 28, 9)),
        (datetime(2024, 1, 31, 9), Offset(months=1), datetime(2024, 2, 29, 9)),
        (datetime(2025, 3, 31, 9), Offset(months=1), datetime(2025, 4, 30, 9)),
        (datetime(2024, 2, 29, 9), Offset(months=12), datetime(2025, 2, 28, 9)),
        (datetime(2025, 1, 31, 9), Offset(months=1, days=1), datetime(2025, 3, 1, 9)),
        (datetime(2025, 1, 31, 18), Offset(days=14, at=time(9)), datetime(2025, 2, 14, 9)),
    ],
)
def test_offsets_clamp_month_ends(start: datetime, offset: Offset, expected: datetime) -> None:
    assert offset.after(start.replace(tzinfo=NY)) == expected.replace(tzinfo=NY)


def test_offsets_keep_the_wall_clock_across_dst() -> None:
    before_spring = datetime(2025, 3, 8, 9, tzinfo=NY)
    after = Offset(days=1).after(before_spring)
    assert after == datetime(2025, 3, 9, 9, tzinfo=NY)
    assert after.astimezone(UTC) - before_spring.astimezone(UTC) == timedelta(hours=23)
    before_fall = datetime(2025, 11, 1, 9, tzinfo=NY)
    assert Offset(days=1).after(before_fall).astimezone(UTC) - before_fall.astimezone(
        UTC
    ) == timedelta(hours=25)
    # 02:30 does not exist on 9 March 2025 in New York: shifted forward by the gap
    gap = Offset(days=1, at=time(2, 30)).after(before_spring)
    assert (gap.hour, gap.minute, gap.utcoffset()) == (3, 30, timedelta(hours=-4))
    with pytest.raises(ValidationError, match="IANA zone"):
        Offset(days=1).after(datetime(2025, 3, 8, 9, tzinfo=timezone(timedelta(hours=-5))))


def _oracle(anchor: datetime, offset: Offset) -> datetime:
    """Plain-Python calendar arithmetic: months clamped, then days, then the DST rule
    (a wall time read with fold=0, normalised through UTC)."""
    zone = anchor.tzinfo
    assert isinstance(zone, ZoneInfo)
    total = anchor.month - 1 + offset.months
    year, month = anchor.year + total // 12, total % 12 + 1
    day = min(anchor.day, calendar.monthrange(year, month)[1])
    wall = anchor.replace(tzinfo=None, year=year, month=month, day=day, fold=0)
    wall += timedelta(days=offset.days)
    if offset.at is not None:
        wall = datetime.combine(wall.date(), offset.at)
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone)


@settings(max_examples=300, deadline=None)
@given(
    anchor=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1)),
    zone=st.sampled_from(ZONES),
    months=st.integers(0, 36),
    days=st.integers(0, 400),
    at=st.none() | st.times(),
)
def test_offsets_match_plain_calendar_arithmetic(
    anchor: datetime, zone: ZoneInfo, months: int, days: int, at: time | None
) -> None:
    start = anchor.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)
    offset = Offset(months, days, at)
    got = offset.after(start)
    want = _oracle(start, offset)
    assert (got, got.utcoffset()) == (want, want.utcoffset())


def test_recurrences_anchor_at_instantiation() -> None:
    anchor = datetime(2025, 1, 31, 9, tzinfo=NY)
    monthly = Recurrence(1, CadenceUnit.MONTHS)
    assert monthly.first(anchor) == datetime(2025, 2, 28, 9, tzinfo=NY)
    assert monthly.cadence(anchor).occurrence(2) == datetime(2025, 3, 31, 9, tzinfo=NY)
    later = Recurrence(2, "weeks", start=Offset(days=3, at=time(8)))
    assert later.first(anchor) == datetime(2025, 2, 3, 8, tzinfo=NY)
    assert later.cadence(anchor).occurrence(1) == datetime(2025, 2, 17, 8, tzinfo=NY)
    with pytest.raises(ValidationError):
        Recurrence(1, "fortnights")


# ------------------------------------------------------------------ instantiation


def _team(*members: tuple[str, CareTeamRole], lead: str = "coord") -> CareTeam:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    return CareTeam(
        id=CareTeamId("t"),
        patient_id=PatientId("p"),
        lead_id=StaffId(lead),
        members=tuple(Membership(StaffId(s), r, Period(start=start)) for s, r in members),
    )


TEAM_WITHOUT_SOCIAL_WORKER = _team(
    ("coord", CareTeamRole.CARE_COORDINATOR), ("nurse", CareTeamRole.NURSE)
)


@pytest.mark.parametrize(
    ("zone", "call", "target", "housing"),
    [
        # one instant, 2025-01-31 23:30 UTC, is a different local day in each zone
        ("America/New_York", "2025-02-28T18:30-05:00", "2025-07-31", "2025-02-14T09:00-05:00"),
        ("America/Los_Angeles", "2025-02-28T15:30-08:00", "2025-07-31", "2025-02-14T09:00-08:00"),
        ("Europe/London", "2025-02-28T23:30+00:00", "2025-07-31", "2025-02-14T09:00+00:00"),
        ("Australia/Sydney", "2025-03-01T10:30+11:00", "2025-08-01", "2025-02-15T09:00+11:00"),
        ("Asia/Kolkata", "2025-03-01T05:00+05:30", "2025-08-01", "2025-02-15T09:00+05:30"),
    ],
)
def test_instantiation_computes_due_times_in_the_patient_zone(
    zone: str, call: str, target: str, housing: str
) -> None:
    anchor = datetime(2025, 1, 31, 23, 30, tzinfo=UTC)
    made = instantiate(
        diabetes(),
        plan_id=CarePlanId("plan"),
        patient_id=PatientId("p"),
        author_id=StaffId("coord"),
        anchor=anchor,
        zone=zone,
        now=anchor,
        team=TEAM_WITHOUT_SOCIAL_WORKER,
    )
    plan, instance = made.plan, made.instance
    by_key = {link.key: plan.intervention(link.item_id) for link in instance.interventions}  # type: ignore[arg-type]
    assert by_key[KEY("call")].due == datetime.fromisoformat(call)
    assert by_key[KEY("call")].due.tzinfo == ZoneInfo(zone)  # type: ignore[union-attr]
    assert by_key[KEY("housing")].due == datetime.fromisoformat(housing)
    assert plan.goals[0].targets[0].due.isoformat() == target  # type: ignore[union-attr]
    assert plan.goals[0].lifecycle_status is GoalLifecycleStatus.ACTIVE
    assert instance.anchor == anchor and instance.anchor.tzinfo == ZoneInfo(zone)
    assert plan.status.value == "active"
    # the quarterly review from the local anchor, the monthly check a month after it
    assert plan.next_review_at == plan.review_cadence.occurrence(1)  # type: ignore[union-attr]
    check = by_key[KEY("check")]
    assert check.cadence is not None and check.due == check.cadence.occurrence(1)


def test_instantiation_on_dst_days_keeps_local_times() -> None:
    # anchored on the day clocks spring forward in New York: 14 days on is 09:00 EDT
    anchor = datetime(2025, 3, 9, 12, tzinfo=NY)
    made = instantiate(
        diabetes(),
        plan_id=CarePlanId("plan"),
        patient_id=PatientId("p"),
        author_id=StaffId("coord"),
        anchor=anchor,
        zone="America/New_York",
        now=anchor,
        team=TEAM_WITHOUT_SOCIAL_WORKER,
    )
    housing_id = made.instance.intervention_id("housing")
    assert housing_id is not None
    housing = made.plan.intervention(housing_id)
    assert housing.due == datetime(2025, 3, 23, 9, tzinfo=NY)
    assert housing.due.utcoffset() == timedelta(hours=-4)
    call_id = made.instance.intervention_id("call")
    assert call_id is not None
    call = made.plan.intervention(call_id)
    assert call.due == datetime(2025, 4, 9, 12, tzinfo=NY)


def test_missing_role_goes_to_the_lead_and_is_reported() -> None:
    anchor = datetime(2025, 1, 31, 9, tzinfo=NY)
    made = instantiate(
        diabetes(),
        plan_id=CarePlanId("plan"),
        patient_id=PatientId("p"),
        author_id=StaffId("coord"),
        anchor=anchor,
        zone="America/New_York",
        now=anchor,
        team=TEAM_WITHOUT_SOCIAL_WORKER,
    )
    assignees = {
        link.key: made.plan.intervention(link.item_id).assignee_id  # type: ignore[arg-type]
        for link in made.instance.interventions
    }
    assert assignees == {"call": "coord", "check": "nurse", "housing": "coord"}
    (unassigned,) = made.unassigned
    assert (unassigned.key, unassigned.role, unassigned.reason, unassigned.given_to) == (
        "housing",
        CareTeamRole.SOCIAL_WORKER,
        "no-holder",
        "coord",
    )


def test_assignment_rules() -> None:
    item = InterventionTemplate(
        KEY("draw"), InterventionKind.CLINICAL_PROCEDURE, "Draw", CareTeamRole.MEDICAL_ASSISTANT
    )
    now = datetime(2025, 1, 1, tzinfo=UTC)
    team = _team(
        ("coord", CareTeamRole.CARE_COORDINATOR),
        ("ma-2", CareTeamRole.MEDICAL_ASSISTANT),
        ("ma-1", CareTeamRole.MEDICAL_ASSISTANT),
    )
    assert choose_assignee(team, item, None, now) == ("ma-1", "")  # same start: by staff id

    def unqualified(*who: str):  # type: ignore[no-untyped-def]
        return lambda staff, _item, _due: "competency" if staff in who else ""

    assert choose_assignee(team, item, None, now, unqualified("ma-1")) == ("ma-2", "")
    assert choose_assignee(team, item, None, now, unqualified("ma-1", "ma-2")) == (
        "coord",
        "competency",
    )
    everyone = unqualified("ma-1", "ma-2", "coord")
    assert choose_assignee(team, item, None, now, everyone) == (None, "competency")
    assert choose_assignee(None, item, None, now) == (None, "no-team")
    ended = attrs.evolve(
        team,
        members=(
            team.members[0],
            attrs.evolve(
                team.members[1], period=Period(start=team.members[1].period.start, end=now)
            ),
            team.members[2],
        ),
    )
    assert choose_assignee(ended, item, None, now, unqualified("ma-1")) == ("coord", "competency")


# --------------------------------------------------------------------- the service


@pytest.fixture
def setup() -> tuple[CareCoordinator, FixedClock, RecordingEventSink]:
    clock = FixedClock(T0)
    sink = RecordingEventSink()
    service = CareCoordinator(clock=clock, event_handlers=[sink])
    populate(service, clock)
    return service, clock, sink


def test_versions_are_immutable_and_numbered(
    setup: tuple[CareCoordinator, FixedClock, RecordingEventSink],
) -> None:
    service, clock, _ = setup
    first = service.save_template(diabetes(1), actor=COORD)
    assert (first.saved_at, first.saved_by) == (T0, COORD)
    assert service.save_template(diabetes(1), actor=COORD) == first  # same content: idempotent
    with pytest.raises(ConflictError):
        service.save_template(attrs.evolve(diabetes(1), title="Changed"), actor=COORD)
    with pytest.raises(ValidationError, match=r"next version .* is 2"):
        service.save_template(diabetes(3), actor=COORD)
    with pytest.raises(AccessDeniedError):
        service.save_template(diabetes(2), actor=NURSE)
    unknown = attrs.evolve(
        diabetes(2),
        interventions=(attrs.evolve(diabetes().interventions[0], competency=CompetencyId("x")),),
    )
    with pytest.raises(NotFoundError, match="competency x"):
        service.save_template(unknown, actor=COORD)
    clock.advance(timedelta(days=1))
    second = service.save_template(attrs.evolve(diabetes(2), title="Diabetes v2"), actor=COORD)
    assert service.plan_template(DIABETES, actor=MA) == second
    assert service.plan_template(DIABETES, 1, actor=MA) == first
    with pytest.raises(NotFoundError):
        service.plan_template(DIABETES, 7, actor=MA)


def test_instantiation_creates_the_plan_like_a_hand_made_one(
    setup: tuple[CareCoordinator, FixedClock, RecordingEventSink],
) -> None:
    service, _, sink = setup
    service.save_template(diabetes(), actor=COORD)
    sink.events.clear()
    made = service.instantiate_template(PATIENT, DIABETES, plan_id=CarePlanId("dm"), actor=COORD)
    assert service.care_plan(CarePlanId("dm"), actor=NURSE) == made.plan
    assert made.instance.anchor.tzinfo == ZoneInfo("America/Chicago")  # the patient's zone
    kinds = [type(e) for e in sink.events]
    assert kinds.count(CarePlanCreated) == 1 and kinds.count(InterventionAssigned) == 3
    # nobody on the team is a social worker: the housing screen is the lead's work
    (missing,) = made.unassigned
    assert (missing.key, missing.reason, missing.given_to) == ("housing", "no-holder", COORD)
    housing_id = made.instance.intervention_id("housing")
    worklist = service.worklist(COORD, until=T0 + timedelta(days=20), actor=COORD)
    assert housing_id in {item.item_id for item in worklist.items}
    with pytest.raises(AccessDeniedError):
        service.instantiate_template(PATIENT, DIABETES, actor=OUTSIDER)
    with pytest.raises(ConflictError):  # one plan per id, as by hand
        service.instantiate_template(PATIENT, DIABETES, plan_id=CarePlanId("dm"), actor=COORD)


def test_competency_passes_over_unqualified_holders(
    setup: tuple[CareCoordinator, FixedClock, RecordingEventSink],
) -> None:
    service, _, _ = setup
    service.set_staffing_policy(
        StaffingPolicy(
            competencies=(Competency(CompetencyId("phlebotomy"), "Phlebotomy"),),
            requirements=(
                CompetencyRequirement(
                    InterventionKind.CLINICAL_PROCEDURE, (CompetencyId("phlebotomy"),)
                ),
            ),
        ),
        actor=COORD,
    )
    draw = InterventionTemplate(
        KEY("draw"),
        InterventionKind.CLINICAL_PROCEDURE,
        "Blood draw",
        CareTeamRole.MEDICAL_ASSISTANT,
        due=Offset(days=7),
    )
    service.save_template(PlanTemplate(DIABETES, 1, "Labs", interventions=(draw,)), actor=COORD)
    made = service.instantiate_template(PATIENT, DIABETES, actor=COORD)
    (item,) = made.plan.interventions
    # neither the medical assistant nor the lead holds phlebotomy: nobody is assigned,
    # and the work shows (without an owner) on the team's worklist
    assert item.assignee_id is None
    assert [(u.reason, u.given_to) for u in made.unassigned] == [("competency", None)]
    team_list = service.worklist(COORD, scope="team", until=T0 + timedelta(days=8), actor=COORD)
    assert [(i.item_id, i.owner_id) for i in team_list.items if i.item_id == item.id] == [
        (item.id, None)
    ]


def _complete(service: CareCoordinator, plan_id: CarePlanId, item_id: str) -> None:
    for status in (TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED):
        service.set_intervention_status(plan_id, item_id, status, actor=COORD)  # type: ignore[arg-type]


def _version_2() -> PlanTemplate:
    v1 = diabetes()
    call, check, _housing = v1.interventions
    foot = InterventionTemplate(
        KEY("foot"), InterventionKind.MONITORING, "Foot exam", CareTeamRole.NURSE, due=Offset(2)
    )
    return attrs.evolve(
        v1,
        version=2,
        interventions=(
            attrs.evolve(call, due=Offset(months=2)),  # changed due (but completed below)
            attrs.evolve(check, recurrence=Recurrence(2, CadenceUnit.WEEKS)),  # changed
            foot,  # added; the housing screen is removed
        ),
    )


def test_migration_preview_and_apply(
    setup: tuple[CareCoordinator, FixedClock, RecordingEventSink],
) -> None:
    service, clock, _ = setup
    service.save_template(diabetes(), actor=COORD)
    made = service.instantiate_template(PATIENT, DIABETES, plan_id=CarePlanId("dm"), actor=COORD)
    ids = {link.key: InterventionId(link.item_id) for link in made.instance.interventions}
    clock.advance(timedelta(days=3))
    _complete(service, CarePlanId("dm"), ids[KEY("call")])
    done_call = service.care_plan(CarePlanId("dm"), actor=COORD).intervention(ids[KEY("call")])
    service.save_template(_version_2(), actor=COORD)

    report = service.preview_template_migration(DIABETES, actor=COORD)
    assert (report.to_version, report.hidden, report.closed) == (2, 0, 0)
    (preview,) = report.previews
    assert (preview.patient_id, preview.from_version, preview.to_version) == (PATIENT, 1, 2)
    changes = {(c.part, c.key): c for c in preview.changes}
    assert changes["intervention", KEY("call")].change is ChangeKind.KEPT
    assert changes["intervention", KEY("call")].reason == "completed"
    check = changes["intervention", KEY("check")]
    assert (check.change, check.fields) == (ChangeKind.CHANGED, ("recurrence",))
    anchor = made.instance.anchor
    assert check.due_before == datetime(2026, 12, 23, 12, tzinfo=anchor.tzinfo)
    assert check.due_after == datetime(2026, 12, 7, 12, tzinfo=anchor.tzinfo)
    assert changes["intervention", KEY("housing")].change is ChangeKind.REMOVED
    foot = changes["intervention", KEY("foot")]
    assert foot.change is ChangeKind.ADDED and foot.due_after == datetime(
        2027, 1, 23, 12, tzinfo=anchor.tzinfo
    )
    assert ("goal", KEY("hba1c")) not in changes  # the goal did not change

    applied = service.apply_template_migration(
        CarePlanId("dm"), 2, expected_version=preview.plan_version, actor=COORD
    )
    assert applied.preview.changes == preview.changes  # the apply does what the preview said
    plan = service.care_plan(CarePlanId("dm"), actor=COORD)
    assert plan.intervention(ids[KEY("call")]) == done_call  # completed work untouched
    housing = plan.intervention(ids[KEY("housing")])
    assert housing.status is TaskStatus.CANCELLED and housing.history[-1].by == COORD
    assert plan.intervention(foot.item_id).assignee_id == NURSE  # type: ignore[arg-type]
    assert (
        applied.instance.version == 2 and applied.instance.intervention_id("foot") == foot.item_id
    )
    assert [(m.from_version, m.to_version) for m in applied.instance.history] == [(1, 2)]
    # the plan is on version 2 now: nothing left to preview
    assert service.preview_template_migration(DIABETES, actor=COORD).previews == ()
    with pytest.raises(ConflictError):  # the plan changed since that preview
        service.apply_template_migration(
            CarePlanId("dm"), 1, expected_version=preview.plan_version, actor=COORD
        )


def test_migration_follows_recurring_occurrences(
    setup: tuple[CareCoordinator, FixedClock, RecordingEventSink],
) -> None:
    service, clock, _ = setup
    service.save_template(diabetes(), actor=COORD)
    made = service.instantiate_template(PATIENT, DIABETES, plan_id=CarePlanId("dm"), actor=COORD)
    first = made.instance.intervention_id("check")
    assert first is not None
    clock.advance(timedelta(days=2))
    _complete(service, CarePlanId("dm"), first)
    plan = service.care_plan(CarePlanId("dm"), actor=COORD)
    (follow,) = [i for i in plan.interventions if i.cadence is not None and i.id != first]
    service.save_template(_version_2(), actor=COORD)
    (preview,) = service.preview_template_migration(DIABETES, actor=COORD).previews
    check = [c for c in preview.changes if c.key == "check"]
    assert [(c.item_id, c.change) for c in check] == [
        (first, ChangeKind.KEPT),
        (follow.id, ChangeKind.CHANGED),
    ]
    # the open occurrence: the new cadence's first occurrence at or after its creation
    assert check[1].due_after == datetime(2026, 12, 7, 12, tzinfo=made.instance.anchor.tzinfo)


def test_previews_hide_patients_the_actor_may_not_read(
    setup: tuple[CareCoordinator, FixedClock, RecordingEventSink],
) -> None:
    service, _, _ = setup
    service.save_template(diabetes(), actor=COORD)
    service.instantiate_template(PATIENT, DIABETES, plan_id=CarePlanId("dm"), actor=COORD)
    service.save_template(_version_2(), actor=COORD)
    outside = service.preview_template_migration(DIABETES, actor=OUTSIDER)
    assert (outside.previews, outside.hidden) == ((), 1)
    with pytest.raises(AccessDeniedError):
        service.apply_template_migration(CarePlanId("dm"), actor=OUTSIDER)
    mine = service.preview_template_migration(DIABETES, patient_id=PATIENT, actor=NURSE)
    assert [p.plan_id for p in mine.previews] == ["dm"]
    with pytest.raises(NotFoundError, match="not made from a plan template"):
        service.apply_template_migration(CarePlanId("plan-1"), actor=COORD)


def test_an_unknown_team_or_several_active_teams_are_refused(
    setup: tuple[CareCoordinator, FixedClock, RecordingEventSink],
) -> None:
    service, _, _ = setup
    service.save_template(diabetes(), actor=COORD)
    with pytest.raises(NotFoundError):
        service.instantiate_template(PATIENT, DIABETES, team_id=CareTeamId("nope"), actor=COORD)
    made = service.instantiate_template(PATIENT, DIABETES, team_id=TEAM, actor=COORD)
    assert made.plan.patient_id == PATIENT


# ------------------------------------------------------------ records and strategies


@settings(max_examples=40, deadline=None)
@given(record=st.one_of(ENTITY_STRATEGIES[PlanTemplate], ENTITY_STRATEGIES[TemplateInstance]))
def test_generated_records_survive_the_codec(record: object) -> None:
    assert from_payload(to_payload(record), type(record)) == record


def test_free_text_stays_out_of_repr() -> None:
    text = repr(diabetes())
    for secret in ("Diabetes management", "Bring HbA1c", "Housing screen", "Adult type 2"):
        assert secret not in text
