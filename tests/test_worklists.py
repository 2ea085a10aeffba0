"""Caseload worklists: pure rules, the value object, and CareCoordinator.worklist.

Every expectation is worked out by hand from the world below (T0 is Monday
2026-11-23 12:00 in Chicago, 18:00 UTC).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import attrs
import pytest

from carecoord import (
    AccessDeniedError,
    AuditAction,
    Barrier,
    BarrierId,
    BarrierKind,
    CarePlan,
    CarePlanId,
    CareTeamId,
    CareTeamRole,
    Comparator,
    ContactChannel,
    Goal,
    GoalId,
    GoalPriority,
    Intervention,
    InterventionId,
    InterventionKind,
    Membership,
    Note,
    NoteId,
    PatientId,
    Period,
    ProgressReading,
    Quantity,
    Referral,
    ReferralId,
    ReferralTargetKind,
    StaffId,
    Target,
    TaskPriority,
    ValidationError,
    Worklist,
    WorklistCategory,
    WorklistItem,
    WorklistScope,
)
from carecoord.caseload import (
    contact_due,
    goal_at_risk,
    local_day_end,
    referral_category,
    work_item,
)
from carecoord.model import Direction, InteractionParty
from carecoord.service import CareCoordinator
from carecoord.storage import IndexHit, MemoryStore, Store, WorkQuery
from carecoord.testing import FixedClock
from world import (
    BOSS,
    CHICAGO,
    COORD,
    LEAD_MA,
    MA,
    NURSE,
    OUTSIDER,
    PATIENT,
    PLAN,
    T0,
    make_patient,
    make_team,
    populate,
)

TOKYO = ZoneInfo("Asia/Tokyo")
PLAN_2 = CarePlanId("plan-2")
DAY = timedelta(days=1)


# ------------------------------------------------------------------ pure rules


def test_local_day_end_follows_the_viewers_zone() -> None:
    # 18:00 UTC on Nov 23 is noon in Chicago and 03:00 on Nov 24 in Tokyo.
    assert local_day_end(T0, CHICAGO) == datetime(2026, 11, 24, tzinfo=CHICAGO)
    assert local_day_end(T0, "Asia/Tokyo") == datetime(2026, 11, 25, tzinfo=TOKYO)
    assert local_day_end(T0, "Asia/Tokyo").astimezone(UTC) == datetime(2026, 11, 24, 15, tzinfo=UTC)


def test_local_day_end_on_daylight_saving_days() -> None:
    # 2026-03-08: clocks spring forward in Chicago, the day has 23 hours.
    spring = datetime(2026, 3, 8, 1, 30, tzinfo=CHICAGO)
    end = local_day_end(spring, CHICAGO)
    assert end == datetime(2026, 3, 9, tzinfo=CHICAGO)
    assert end.astimezone(UTC) - datetime(2026, 3, 8, tzinfo=CHICAGO).astimezone(UTC) == timedelta(
        hours=23
    )
    # 2026-11-01: clocks fall back, the day has 25 hours; 01:30 happens twice.
    fall = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=CHICAGO)
    end = local_day_end(fall, CHICAGO)
    assert end.astimezone(UTC) == datetime(2026, 11, 2, 6, tzinfo=UTC)


def test_goal_at_risk_rules() -> None:
    due = datetime(2026, 11, 21, tzinfo=UTC)
    assert goal_at_risk("worsening", None, T0)
    assert goal_at_risk("not-achieved", None, T0)
    assert goal_at_risk(None, due, T0)  # past due, no reading
    assert goal_at_risk("improving", due, T0)  # past due and not met
    assert not goal_at_risk("achieved", due, T0)
    assert not goal_at_risk("sustaining", due, T0)
    assert not goal_at_risk("improving", T0 + DAY, T0)
    assert goal_at_risk("in-progress", T0, T0)  # due at exactly now counts as past due
    assert not goal_at_risk(None, None, T0)


def test_referral_category_threshold_is_inclusive() -> None:
    fourteen = timedelta(days=14)
    changed = T0 - fourteen
    assert referral_category("sent", changed, T0, fourteen) is WorklistCategory.REFERRAL_STALLED
    just_inside = changed + timedelta(microseconds=1)
    assert referral_category("sent", just_inside, T0, fourteen) is None
    assert (
        referral_category("completed", just_inside, T0, fourteen)
        is WorklistCategory.REFERRAL_NO_OUTCOME
    )
    # a stalled completed referral is listed once, as stalled
    assert (
        referral_category("completed", changed, T0, fourteen) is WorklistCategory.REFERRAL_STALLED
    )


def test_contact_due() -> None:
    thirty = timedelta(days=30)
    assert contact_due(T0, T0 - 100 * DAY, thirty) == T0 + thirty
    assert contact_due(None, T0, thirty) == T0 + thirty
    assert contact_due(None, None, thirty) is None


def test_work_item_lateness_and_zone() -> None:
    as_of = T0.astimezone(TOKYO)
    late = work_item(
        "intervention",
        patient_id="p",
        item_id="i",
        record_id="r",
        status="ready",
        now=as_of,
        due=T0 - timedelta(days=2, hours=5),
    )
    assert late.overdue
    assert late.days_late == 2
    assert late.lateness == timedelta(days=2, hours=5)
    assert late.due is not None and late.due.tzinfo is TOKYO
    early = work_item(
        "review", patient_id="p", item_id="i", record_id="r", status="active", now=T0, due=T0
    )
    assert not early.overdue
    assert early.days_late == 0
    undated = work_item(
        "no-contact", patient_id="p", item_id="p", record_id="p", status="x", now=T0
    )
    assert undated.days_late is None
    assert not undated.overdue


def _item(
    item_id: str, priority: int, due: datetime | None, category: str = "intervention"
) -> WorklistItem:
    return work_item(
        category,
        patient_id="p",
        item_id=item_id,
        record_id="r",
        status="ready",
        now=T0,
        due=due,
        priority=priority,
    )


def test_worklist_sorts_by_priority_then_lateness() -> None:
    items = (
        _item("routine-late", 0, T0 - 5 * DAY),
        _item("no-due", 3, None),
        _item("stat-today", 3, T0 + timedelta(hours=1)),
        _item("stat-late", 3, T0 - DAY),
        _item("routine-later", 0, T0 - DAY),
        _item("barrier", 0, T0 - 5 * DAY, "barrier"),
    )
    worklist = Worklist(staff_id=StaffId("s"), as_of=T0, items=items)
    assert [i.item_id for i in worklist] == [
        "stat-late",
        "stat-today",
        "no-due",
        "barrier",  # same due as routine-late: ties break on patient, then category
        "routine-late",
        "routine-later",
    ]
    assert len(worklist) == 6
    assert [i.item_id for i in worklist.of("barrier")] == ["barrier"]
    assert [i.item_id for i in worklist.overdue] == [
        "stat-late",
        "barrier",
        "routine-late",
        "routine-later",
    ]
    counts = worklist.counts()
    assert counts["intervention"] == 5
    assert counts["barrier"] == 1
    assert counts["no-contact"] == 0
    assert list(counts) == [c.value for c in WorklistCategory]
    record = worklist.to_records()[0]
    assert list(record) == list(Worklist.COLUMNS)
    assert record["item_id"] == "stat-late"
    assert record["days_late"] == 1
    assert record["overdue"] is True


def test_worklist_rejects_foreign_items() -> None:
    with pytest.raises(ValidationError):
        Worklist(staff_id=StaffId("s"), as_of=T0, items=("x",))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="scope"):
        Worklist(staff_id=StaffId("s"), as_of=T0, scope="everyone")
    with pytest.raises(ValidationError, match="category"):
        work_item("chores", patient_id="p", item_id="i", record_id="r", status="x", now=T0)


# --------------------------------------------------------------- service world


def _task(
    n: str,
    due: datetime | None,
    *,
    assignee: StaffId = MA,
    priority: TaskPriority = TaskPriority.ROUTINE,
) -> Intervention:
    return Intervention(
        id=InterventionId(n),
        kind=InterventionKind.COMMUNICATION,
        description="Call",
        created_at=T0 - 30 * DAY,
        assignee_id=assignee,
        priority=priority,
        due=due,
    )


def _referral(n: str) -> Referral:
    return Referral(
        id=ReferralId(n),
        patient_id=PATIENT,
        requested_by=COORD,
        created_at=T0 - 30 * DAY,
        target_kind=ReferralTargetKind.COMMUNITY_RESOURCE,
        target_name="Food bank",
        service="Parcels",
    )


def _goal(n: str, due: date, priority: GoalPriority, readings: tuple[float, ...]) -> Goal:
    goal = Goal(
        id=GoalId(n),
        description="HbA1c",
        priority=priority,
        targets=(Target(measure="hba1c", quantity=Quantity(7.0, "%", Comparator.LT), due=due),),
    ).transition("active", by=COORD, at=T0 - 30 * DAY)
    for k, value in enumerate(readings):
        goal = goal.with_reading(
            ProgressReading(
                measure="hba1c",
                value=value,
                unit="%",
                at=T0 - timedelta(days=20 - 5 * k),
                recorded_by=COORD,
            )
        )
    return goal


def build(service: CareCoordinator, clock: FixedClock) -> None:
    """The worklist world (see the module docstring for T0)."""
    populate(service, clock)
    add = service.add_intervention
    add(PLAN, _task("i-stat", T0 + timedelta(hours=1), priority=TaskPriority.STAT), actor=COORD)
    add(PLAN, _task("i-late", T0 - 2 * DAY), actor=COORD)
    add(PLAN, _task("i-tonight", datetime(2026, 11, 23, 23, 30, tzinfo=CHICAGO)), actor=COORD)
    add(PLAN, _task("i-utc", datetime(2026, 11, 24, 10, tzinfo=UTC)), actor=COORD)
    add(PLAN, _task("i-later", T0 + 5 * DAY), actor=COORD)
    add(PLAN, _task("i-undated", None), actor=COORD)
    nurse_task = _task("i-nurse", T0 - DAY, assignee=NURSE, priority=TaskPriority.URGENT)
    add(PLAN, nurse_task, actor=COORD)
    add(PLAN, _task("i-outsider", T0 - timedelta(hours=1), assignee=OUTSIDER), actor=COORD)
    service.add_goal(PLAN, _goal("g-past", date(2026, 11, 20), GoalPriority.HIGH, ()), actor=COORD)
    worse = _goal("g-worse", date(2027, 3, 1), GoalPriority.MEDIUM, (8.0, 8.5))
    service.add_goal(PLAN, worse, actor=COORD)
    fine = _goal("g-fine", date(2027, 3, 1), GoalPriority.LOW, (8.5, 8.0))
    service.add_goal(PLAN, fine, actor=COORD)
    service.record_barrier(
        Barrier(
            id=BarrierId("b-1"),
            patient_id=PATIENT,
            kind=BarrierKind.TRANSPORT,
            identified_at=T0 - 3 * DAY,
            identified_by=MA,
        ),
        actor=MA,
    )
    service.create_care_plan(
        CarePlan(
            id=PLAN_2,
            patient_id=PATIENT,
            author_id=COORD,
            created_at=T0 - 10 * DAY,
            next_review_at=T0 - DAY,
        ),
        actor=COORD,
    )
    service.set_plan_status(PLAN_2, "active", actor=COORD)
    clock.set(T0 - 20 * DAY)
    service.create_referral(_referral("r-stalled"), actor=COORD)
    service.set_referral_status(ReferralId("r-stalled"), "sent", actor=COORD)
    clock.set(T0 - 2 * DAY)
    service.create_referral(_referral("r-done"), actor=COORD)
    for status in ("sent", "accepted", "scheduled", "completed"):
        service.set_referral_status(ReferralId("r-done"), status, actor=COORD)
    clock.set(T0 - DAY)
    service.create_referral(_referral("r-fresh"), actor=COORD)
    service.set_referral_status(ReferralId("r-fresh"), "sent", actor=COORD)
    clock.set(T0)


@pytest.fixture
def world() -> tuple[CareCoordinator, FixedClock]:
    clock = FixedClock(T0)
    service = CareCoordinator(clock=clock)
    build(service, clock)
    return service, clock


def ids(worklist: Worklist) -> list[str]:
    return [i.item_id for i in worklist]


def test_own_worklist_in_chicago(world: tuple[CareCoordinator, FixedClock]) -> None:
    service, _ = world
    mine = service.worklist(MA, actor=MA)
    # stat first; then by how late: barrier (3 days), i-late (2 days), due tonight.
    assert ids(mine) == ["i-stat", "b-1", "i-late", "i-tonight"]
    assert mine.as_of == T0
    assert mine.scope is WorklistScope.SELF
    late = mine.items[2]
    assert (late.category, late.overdue, late.days_late, late.priority) == (
        WorklistCategory.INTERVENTION,
        True,
        2,
        0,
    )
    assert late.record_id == str(PLAN)
    assert late.detail == "communication"
    stat = mine.items[0]
    assert (stat.overdue, stat.days_late, stat.priority) == (False, 0, 3)
    barrier = mine.items[1]
    assert (barrier.category, barrier.days_late, barrier.detail) == ("barrier", 3, "transport")


def test_the_viewers_time_zone_sets_today(world: tuple[CareCoordinator, FixedClock]) -> None:
    service, _ = world
    service.register_staff(
        attrs.evolve(service.staff_member(MA, actor=BOSS), time_zone="Asia/Tokyo"), actor=BOSS
    )
    mine = service.worklist(MA, actor=MA)
    # In Tokyo it is already 03:00 on Nov 24, so i-utc (10:00 UTC Nov 24) is due today.
    assert ids(mine) == ["i-stat", "b-1", "i-late", "i-tonight", "i-utc"]
    assert mine.as_of.tzinfo == TOKYO
    assert (mine.as_of.day, mine.as_of.hour) == (24, 3)
    assert all(i.due is None or i.due.tzinfo == TOKYO for i in mine)


def test_until_overrides_the_horizon(world: tuple[CareCoordinator, FixedClock]) -> None:
    service, _ = world
    mine = service.worklist(MA, actor=MA, until=T0 + 6 * DAY)
    assert ids(mine) == ["i-stat", "b-1", "i-late", "i-tonight", "i-utc", "i-later"]


def test_coordinators_own_items(world: tuple[CareCoordinator, FixedClock]) -> None:
    service, _ = world
    mine = service.worklist(COORD, actor=COORD)
    assert ids(mine) == ["g-past", "g-worse", "r-stalled", "r-done", str(PLAN_2)]
    by_id = {i.item_id: i for i in mine}
    # goal due Nov 20 is past due from Nov 21 00:00 UTC: 2 days 18 hours late at T0.
    assert by_id["g-past"].category is WorklistCategory.GOAL_AT_RISK
    assert by_id["g-past"].days_late == 2
    assert by_id["g-past"].priority == 2
    assert by_id["g-worse"].detail == "worsening"
    assert not by_id["g-worse"].overdue
    # sent 20 days ago, stalled after 14: stalled for 6 days.
    assert by_id["r-stalled"].category is WorklistCategory.REFERRAL_STALLED
    assert by_id["r-stalled"].days_late == 6
    assert by_id["r-done"].category is WorklistCategory.REFERRAL_NO_OUTCOME
    assert by_id["r-done"].days_late == 2
    review = by_id[str(PLAN_2)]
    assert (review.category, review.days_late, review.record_id) == ("review", 1, str(PLAN_2))


def test_stalled_threshold_is_a_parameter(world: tuple[CareCoordinator, FixedClock]) -> None:
    service, _ = world
    mine = service.worklist(COORD, actor=COORD, stalled_after=timedelta(days=1))
    stalled = {i.item_id: i.days_late for i in mine.of("referral-stalled")}
    assert stalled == {"r-stalled": 19, "r-done": 1, "r-fresh": 0}


def test_supervisor_scope_covers_the_reporting_line(
    world: tuple[CareCoordinator, FixedClock],
) -> None:
    service, _ = world
    line = service.worklist(COORD, actor=COORD, scope="supervisor")
    assert ids(line) == [
        "i-stat",
        "g-past",
        "i-nurse",
        "g-worse",
        "r-stalled",
        "b-1",
        "i-late",  # ties with r-done on due time: category order breaks the tie
        "r-done",
        str(PLAN_2),
        "i-tonight",
    ]
    assert line.scope is WorklistScope.SUPERVISOR
    assert {i.owner_id for i in line} == {COORD, MA, NURSE}
    # MA reports to LEAD_MA; an inactive LEAD_MA does not hide MA's work from COORD.
    lead = service.staff_member(LEAD_MA, actor=BOSS)
    service.register_staff(attrs.evolve(lead, active=False), actor=BOSS)
    assert ids(service.worklist(COORD, actor=COORD, scope="supervisor")) == ids(line)
    assert "i-late" not in ids(service.worklist(NURSE, actor=NURSE, scope="supervisor"))


def test_team_scope_covers_every_owner_on_the_caseload(
    world: tuple[CareCoordinator, FixedClock],
) -> None:
    service, _ = world
    team = service.worklist(NURSE, actor=NURSE, scope=WorklistScope.TEAM)
    assert "i-outsider" in ids(team)  # owned by someone outside the reporting line
    assert set(ids(team)) == {
        "i-stat",
        "g-past",
        "i-nurse",
        "g-worse",
        "r-stalled",
        "b-1",
        "i-late",
        "r-done",
        str(PLAN_2),
        "i-tonight",
        "i-outsider",
    }
    assert ids(service.worklist(NURSE, actor=NURSE)) == ["i-nurse"]


def test_no_contact_after_thirty_days(world: tuple[CareCoordinator, FixedClock]) -> None:
    service, clock = world
    # enrolled at T0, never contacted: due a contact from T0 + 30 days.
    assert service.worklist(MA, actor=MA, now=T0 + 29 * DAY).of("no-contact") == ()
    (item,) = service.worklist(MA, actor=MA, now=T0 + 31 * DAY).of("no-contact")
    assert (item.patient_id, item.status, item.days_late) == (PATIENT, "never-contacted", 1)
    assert item.due == T0 + 30 * DAY

    def note(n: str, at: datetime, party: InteractionParty) -> Note:
        return Note(
            id=NoteId(n),
            patient_id=PATIENT,
            at=at,
            author_id=MA,
            channel=ContactChannel.PHONE,
            direction=Direction.OUTBOUND,
            party=party,
            summary="Called",
        )

    service.record_note(note("n-team", T0 + 10 * DAY, InteractionParty.CARE_TEAM), actor=MA)
    assert len(service.worklist(MA, actor=MA, now=T0 + 31 * DAY).of("no-contact")) == 1
    service.record_note(note("n-patient", T0 + 10 * DAY, InteractionParty.PATIENT), actor=MA)
    assert service.worklist(MA, actor=MA, now=T0 + 31 * DAY).of("no-contact") == ()
    (item,) = service.worklist(MA, actor=MA, now=T0 + 45 * DAY).of("no-contact")
    assert (item.status, item.days_late) == ("contacted", 5)
    # a contact after the worklist's time is not known yet then
    assert (
        len(service.worklist(MA, actor=MA, now=T0 + 9 * DAY, no_contact_after=DAY).of("no-contact"))
        == 1
    )
    assert clock.now() == T0


def test_access_and_phi_filtering(world: tuple[CareCoordinator, FixedClock]) -> None:
    service, _ = world
    with pytest.raises(AccessDeniedError):
        service.worklist(MA, actor=NURSE)  # neither a supervisor nor allowed to view caseloads
    assert ids(service.worklist(MA, actor=BOSS)) == ["i-stat", "b-1", "i-late", "i-tonight"]
    # OUTSIDER may view caseloads but may not read the patient: nothing is shown.
    assert len(service.worklist(MA, actor=OUTSIDER)) == 0
    assert len(service.worklist(OUTSIDER, actor=OUTSIDER)) == 0
    assert len(service.worklist(OUTSIDER, actor=OUTSIDER, scope="team")) == 0  # no caseload
    with pytest.raises(ValidationError):
        service.worklist(MA, actor=MA, scope="everyone")
    trail = service.audit_trail(actor=COORD, actor_id=OUTSIDER)
    assert [(e.operation, e.action, e.entity) for e in trail[-3:]] == [
        ("worklist", AuditAction.READ, f"StaffMember/{MA}"),
        ("worklist", AuditAction.READ, f"StaffMember/{OUTSIDER}"),
        ("worklist", AuditAction.READ, f"StaffMember/{OUTSIDER}"),
    ]


def test_closed_work_leaves_the_list(world: tuple[CareCoordinator, FixedClock]) -> None:
    service, _ = world
    service.set_intervention_status(
        PLAN, InterventionId("i-late"), "cancelled", actor=COORD, reason="x"
    )
    service.resolve_barrier(BarrierId("b-1"), "Bus pass", actor=MA)
    assert ids(service.worklist(MA, actor=MA)) == ["i-stat", "i-tonight"]
    service.set_plan_status(PLAN, "on-hold", actor=COORD)  # a paused plan's work is not due
    assert ids(service.worklist(MA, actor=MA)) == []


def test_same_worklist_from_every_store(any_store: Store) -> None:
    clock = FixedClock(T0)
    service = CareCoordinator(store=any_store, clock=clock)
    build(service, clock)
    line = service.worklist(COORD, actor=COORD, scope="supervisor")
    assert ids(line)[:4] == ["i-stat", "g-past", "i-nurse", "g-worse"]
    assert len(line) == 10
    assert line.to_records()[0]["patient_id"] == str(PatientId("p-1"))


def test_a_worklist_at_the_start_of_year_one_is_a_validation_error(tmp_path: Path) -> None:
    """Found by the CLI fuzz: ``--at 0001-01-01`` has no local time west of UTC."""
    from carecoord.cli import main

    out = io.StringIO()
    db = tmp_path / "demo.sqlite3"
    assert main(["demo", "--db", str(db)], out=io.StringIO()) == 0
    code = main(
        ["worklist", "--staff", "staff-coordinator", "--at", "0001-01-01", "--db", str(db)],
        out=out,
    )
    assert code != 0
    assert "Traceback" not in out.getvalue()


class _CountingStore(MemoryStore):
    """A memory store counting the ``member`` index queries (care-team lookups)."""

    def __init__(self) -> None:
        super().__init__()
        self.member_queries = 0

    def query(self, query: WorkQuery) -> Sequence[IndexHit]:
        if query.category == "member":
            self.member_queries += 1
        return super().query(query)


def test_worklists_check_access_in_a_few_queries_not_one_per_patient() -> None:
    """Twelve patients with work for MA, OUTSIDER on the teams of ten of them: the access
    checks read care teams in one batch, and decide as one by one would."""
    clock = FixedClock(T0)
    store = _CountingStore()
    service = CareCoordinator(store=store, clock=clock)
    populate(service, clock)
    readable = {f"p-{n}" for n in range(2, 14) if n % 6}
    for n in range(2, 14):
        patient = attrs.evolve(make_patient(), id=PatientId(f"p-{n}"), contacts=())
        service.enrol_patient(patient, actor=COORD)
        members = make_team().members
        if str(patient.id) in readable:
            outsider = Membership(OUTSIDER, CareTeamRole.NURSE, Period(start=T0 - 30 * DAY))
            members = (*members, outsider)
        team = attrs.evolve(
            make_team(), id=CareTeamId(f"team-{n}"), patient_id=patient.id, members=members
        )
        service.form_care_team(team, actor=COORD)
        service.set_team_status(team.id, "active", actor=COORD)
        plan = CarePlanId(f"plan-{n}")
        service.create_care_plan(
            CarePlan(id=plan, patient_id=patient.id, author_id=COORD, created_at=T0), actor=COORD
        )
        service.set_plan_status(plan, "active", actor=COORD)
        service.add_intervention(plan, _task(f"i-{n}", T0 - DAY), actor=COORD)
    store.member_queries = 0
    own = service.interventions_due(MA, actor=MA)
    assert sorted(str(i.intervention.id) for i in own) == sorted(f"i-{n}" for n in range(2, 14))
    assert store.member_queries <= 2  # one batch (and the caseload check), not twelve
    store.member_queries = 0
    seen = service.interventions_due(MA, actor=OUTSIDER)
    assert {str(i.patient_id) for i in seen} == readable
    assert store.member_queries <= 2
    store.member_queries = 0
    listed = service.worklist(MA, actor=OUTSIDER)
    assert {i.patient_id for i in listed} == readable
    assert store.member_queries <= 12  # a few per worklist category, not one per patient
