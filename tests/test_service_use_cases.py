"""CareCoordinator use cases end to end, on every built-in store.

Each use case is checked for what it stores, what it returns and the domain
events it hands on. Every failure case checks that nothing but the audit trail
changed (a failed operation writes its audit entry on purpose) and that no
event reached the handlers.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import attrs
import pytest

from carecoord import (
    AccessDeniedError,
    Appointment,
    AppointmentId,
    AppointmentStatus,
    Assessment,
    AssessmentDomain,
    AssessmentId,
    AuditEntry,
    Barrier,
    BarrierId,
    BarrierKind,
    Cadence,
    CarePlan,
    CarePlanId,
    CarePlanStatus,
    CareTeam,
    CareTeamId,
    CareTeamRole,
    CareTeamStatus,
    Comparator,
    ConflictError,
    Consent,
    ConsentId,
    ConsentStatus,
    ContactChannel,
    ContactId,
    DecisionId,
    DecisionOutcome,
    Finding,
    FindingId,
    Goal,
    GoalAchievementStatus,
    GoalId,
    GoalLifecycleStatus,
    GoalOutcome,
    HumanName,
    Intervention,
    InterventionId,
    InterventionKind,
    InvalidTransitionError,
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
    ProgressReading,
    Quantity,
    ReasonRequiredError,
    Referral,
    ReferralId,
    ReferralStatus,
    ReferralTargetKind,
    Review,
    ReviewDecision,
    ReviewId,
    StaffId,
    Target,
    TaskPriority,
    TaskStatus,
    ValidationError,
)
from carecoord import events as ev
from carecoord.model import AuditOutcome, Direction, InteractionParty
from carecoord.service import CareCoordinator, SystemClock
from carecoord.storage import (
    RECORD_TYPES,
    IndexHit,
    MemoryStore,
    RecordWrite,
    Store,
    StoredRecord,
    UnitOfWork,
    WorkQuery,
)
from carecoord.testing import FixedClock, RecordingEventSink
from world import (
    BOSS,
    CHICAGO,
    COORD,
    DAUGHTER,
    LEAD_MA,
    MA,
    NURSE,
    OUTSIDER,
    PATIENT,
    PLAN,
    T0,
    TEAM,
    make_patient,
    populate,
)

AUDIT_KINDS = {"AuditEntry", "AuditHead", "AuditCheckpoint"}
P = str(PATIENT)


@attrs.define
class World:
    service: CareCoordinator
    store: Store
    clock: FixedClock
    sink: RecordingEventSink

    def take(self) -> list[object]:
        """The events handed on since the last call."""
        found = list(self.sink.events)
        self.sink.clear()
        return found


@pytest.fixture
def w(any_store: Store) -> World:
    clock = FixedClock(T0)
    sink = RecordingEventSink()
    service = CareCoordinator(store=any_store, clock=clock, event_handlers=[sink])
    populate(service, clock)
    sink.clear()
    return World(service, any_store, clock, sink)


def snapshot(store: Store) -> dict[str, list[tuple[str, int, str]]]:
    """Every stored record except the audit trail: (id, version, payload) per kind."""
    return {
        kind: [(r.id, r.version, r.payload) for r in store.read_all(kind)]
        for kind in RECORD_TYPES
        if kind not in AUDIT_KINDS
    }


def audit(store: Store) -> list[AuditEntry]:
    with UnitOfWork(store) as uow:
        return uow.all(AuditEntry)  # ids sort in append order (see new_audit_entry_id)


def fails(
    w: World,
    error: type[Exception],
    call: Callable[[], object],
    *,
    operation: str | None = None,
    actor: str = str(COORD),
    check_audit: bool = True,
) -> Exception:
    """Run ``call``, expect exactly ``error``; nothing but one audit entry may change.

    ``check_audit=False`` leaves the audit trail unchecked (failures that happen
    before the operation has a valid actor or time).
    """
    before = snapshot(w.store)
    trail_before = len(audit(w.store))
    events_before = len(w.sink.events)
    with pytest.raises(error) as caught:
        call()
    assert type(caught.value) is error
    assert snapshot(w.store) == before
    assert len(w.sink.events) == events_before, "a failed operation handed on events"
    trail = audit(w.store)
    if check_audit:
        assert len(trail) == trail_before + 1
        last = trail[-1]
        assert last.outcome is not AuditOutcome.SUCCESS
        assert last.detail == type(caught.value).__name__
        assert last.actor == actor
        if operation is not None:
            assert last.operation == operation
    return caught.value


def stored_plan(w: World, plan_id: str = str(PLAN)) -> CarePlan:
    with UnitOfWork(w.store) as uow:
        return uow.get(CarePlan, plan_id)


def stored(w: World, cls: type[object], record_id: str) -> object:
    with UnitOfWork(w.store) as uow:
        return uow.get(cls, record_id)


def common(w: World, actor: StaffId = COORD) -> dict[str, Any]:
    return {"at": w.clock.now(), "actor": str(actor), "patient_id": P}


def goal(n: str = "g-1", *, addresses: tuple[NeedId, ...] = ()) -> Goal:
    return Goal(
        id=GoalId(n),
        description="Walk every day",
        targets=(Target(measure="steps", quantity=Quantity(3000, "/d", Comparator.GE)),),
        addresses=addresses,
    )


def task(
    n: str,
    assignee: StaffId | None = MA,
    *,
    due: datetime | None = None,
    cadence: Cadence | None = None,
    priority: TaskPriority = TaskPriority.ROUTINE,
) -> Intervention:
    return Intervention(
        id=InterventionId(n),
        kind=InterventionKind.EDUCATION,
        description="Teach self-monitoring",
        created_at=T0,
        assignee_id=assignee,
        priority=priority,
        due=due if due is not None else T0 + timedelta(days=1),
        cadence=cadence,
    )


def referral(n: str = "r-1", *, plan: CarePlanId | None = PLAN) -> Referral:
    return Referral(
        id=ReferralId(n),
        patient_id=PATIENT,
        requested_by=COORD,
        created_at=T0,
        target_kind=ReferralTargetKind.COMMUNITY_RESOURCE,
        target_name="Food bank",
        service="Food parcels",
        plan_id=plan,
    )


def appointment(n: str, *, days: int = 2, referral_id: ReferralId | None = None) -> Appointment:
    return Appointment(
        id=AppointmentId(n),
        patient_id=PATIENT,
        start=T0 + timedelta(days=days),
        end=T0 + timedelta(days=days, hours=1),
        provider="Clinic",
        location="Room 1",
        transport_needed=True,
        referral_id=referral_id,
    )


def barrier(n: str = "b-1") -> Barrier:
    return Barrier(
        id=BarrierId(n),
        patient_id=PATIENT,
        kind=BarrierKind.TRANSPORT,
        identified_at=T0,
        identified_by=COORD,
    )


# ---------------------------------------------------------------------- enrol
def test_enrol_stores_the_patient_with_enrolled_at_defaulting_to_now(w: World) -> None:
    new = Patient(
        id=PatientId("p-2"),
        name=HumanName(family="Second"),
        birth_date=date(1970, 5, 6),
        time_zone="UTC",
    )
    enrolled = w.service.enrol_patient(new, actor=COORD)
    assert enrolled == attrs.evolve(new, enrolled_at=T0)
    assert stored(w, Patient, "p-2") == enrolled
    assert w.take() == [ev.PatientEnrolled(at=T0, actor="coord", patient_id="p-2")]
    given = attrs.evolve(new, id=PatientId("p-3"), enrolled_at=T0 - timedelta(days=3))
    assert w.service.enrol_patient(given, actor=COORD).enrolled_at == T0 - timedelta(days=3)


def test_enrolling_a_patient_twice_is_a_conflict_and_changes_nothing(w: World) -> None:
    other = attrs.evolve(make_patient(), name=HumanName(family="Impostor"))
    error = fails(
        w,
        ConflictError,
        lambda: w.service.enrol_patient(other, actor=COORD),
        operation="enrol_patient",
    )
    assert isinstance(error, ConflictError)
    assert (error.kind, error.record_id, error.expected) == ("Patient", P, 0)
    assert stored(w, Patient, P) == attrs.evolve(make_patient(), enrolled_at=T0)


# ------------------------------------------------------------------ care team
def test_add_a_member_end_a_membership_and_change_the_lead(w: World) -> None:
    w.clock.advance(timedelta(hours=1))
    now = w.clock.now()
    team = w.service.add_team_member(TEAM, OUTSIDER, CareTeamRole.SOCIAL_WORKER, actor=COORD)
    assert team.is_active_member(OUTSIDER, now)
    assert team.roles_of(OUTSIDER, now) == frozenset({CareTeamRole.SOCIAL_WORKER})
    assert team.members[-1].period.start == now and team.members[-1].period.end is None
    assert w.take() == [
        ev.CareTeamChanged(
            **common(w), team_id="team-1", change="member-added", staff_id="outsider"
        )
    ]
    w.clock.advance(timedelta(hours=1))
    team = w.service.end_team_membership(TEAM, NURSE, actor=COORD)
    nurse = [m for m in team.members if m.staff_id == NURSE]
    assert [m.period.end for m in nurse] == [w.clock.now()]
    assert not team.is_active_member(NURSE, w.clock.now())
    assert w.take() == [
        ev.CareTeamChanged(**common(w), team_id="team-1", change="member-left", staff_id="nurse")
    ]
    team = w.service.change_team_lead(TEAM, LEAD_MA, actor=COORD)
    assert team.lead_id == LEAD_MA
    assert stored(w, CareTeam, str(TEAM)) == team
    assert w.take() == [
        ev.CareTeamChanged(**common(w), team_id="team-1", change="lead-changed", staff_id="lead-ma")
    ]


def test_team_status_moves_are_recorded(w: World) -> None:
    team = w.service.set_team_status(TEAM, "suspended", actor=COORD, reason="Patient abroad")
    assert team.status is CareTeamStatus.SUSPENDED
    step = team.history[-1]
    assert (step.from_status, step.to_status, step.by, step.at, step.reason) == (
        CareTeamStatus.ACTIVE,
        CareTeamStatus.SUSPENDED,
        COORD,
        T0,
        "Patient abroad",
    )
    assert w.take() == [
        ev.CareTeamChanged(**common(w), team_id="team-1", change="status:suspended", staff_id=None)
    ]


@pytest.mark.parametrize(
    ("error", "call"),
    [
        (
            NotFoundError,
            lambda s: s.add_team_member(TEAM, StaffId("ghost"), CareTeamRole.NURSE, actor=COORD),
        ),
        (NotFoundError, lambda s: s.end_team_membership(TEAM, OUTSIDER, actor=COORD)),
        (ValidationError, lambda s: s.end_team_membership(TEAM, COORD, actor=COORD)),  # the lead
        (ValidationError, lambda s: s.change_team_lead(TEAM, OUTSIDER, actor=COORD)),
        (ReasonRequiredError, lambda s: s.set_team_status(TEAM, "suspended", actor=COORD)),
        (InvalidTransitionError, lambda s: s.set_team_status(TEAM, "proposed", actor=COORD)),
        # a missing team is refused like a forbidden one (no existence oracle)
        (AccessDeniedError, lambda s: s.change_team_lead(CareTeamId("nope"), MA, actor=COORD)),
    ],
    ids=[
        "unknown-staff",
        "not-a-member",
        "lead-leaves",
        "lead-not-member",
        "no-reason",
        "illegal-move",
        "unknown-team",
    ],
)
def test_care_team_changes_that_fail_change_nothing(
    w: World, error: type[Exception], call: Callable[[CareCoordinator], object]
) -> None:
    fails(w, error, lambda: call(w.service))


# ----------------------------------------------------------------- assessment
def _assessment(n: str = "as-1", *, at: datetime = T0) -> Assessment:
    return Assessment(
        id=AssessmentId(n),
        patient_id=PATIENT,
        performed_by=COORD,
        performed_at=at,
        findings=(
            Finding(id=FindingId("f-1"), domain=AssessmentDomain.MEDICAL, text="HbA1c 8.9 %"),
        ),
        needs=(
            Need(
                id=NeedId(f"need-{n}"),
                domain=AssessmentDomain.MEDICAL,
                description="Blood sugar above target",
                priority=NeedPriority.HIGH,
                finding_ids=(FindingId("f-1"),),
            ),
        ),
    )


def test_record_assessment(w: World) -> None:
    later = w.service.record_assessment(_assessment("as-2", at=T0), actor=COORD)
    earlier = w.service.record_assessment(
        _assessment("as-1", at=T0 - timedelta(days=2)), actor=COORD
    )
    assert stored(w, Assessment, "as-2") == later
    assert w.take() == [
        ev.AssessmentRecorded(**common(w), assessment_id="as-2", need_ids=("need-as-2",)),
        ev.AssessmentRecorded(**common(w), assessment_id="as-1", need_ids=("need-as-1",)),
    ]
    assert w.service.assessments_of(PATIENT, actor=COORD) == [earlier, later]


def test_assessment_of_an_unknown_patient_or_twice_fails(w: World) -> None:
    w.service.record_assessment(_assessment(), actor=COORD)
    w.take()
    unknown = attrs.evolve(_assessment("as-9"), patient_id=PatientId("p-404"))
    fails(w, AccessDeniedError, lambda: w.service.record_assessment(unknown, actor=COORD))
    fails(w, ConflictError, lambda: w.service.record_assessment(_assessment(), actor=COORD))


# ---------------------------------------------------------------------- plans
def test_create_then_activate_a_plan_announces_assignments_once(w: World) -> None:
    w.service.record_assessment(_assessment(), actor=COORD)
    w.take()
    need = NeedId("need-as-1")
    plan = CarePlan(
        id=CarePlanId("plan-2"),
        patient_id=PATIENT,
        author_id=COORD,
        created_at=T0,
        addresses=(need,),
        goals=(goal(addresses=(need,)),),
        interventions=(task("i-1", MA), task("i-2", None)),
        review_cadence=Cadence.months(1, T0),
    )
    created = w.service.create_care_plan(plan, actor=COORD)
    assert created == plan and stored_plan(w, "plan-2") == plan
    assert w.take() == [ev.CarePlanCreated(**common(w), plan_id="plan-2")]  # a draft assigns no one

    active = w.service.set_plan_status(CarePlanId("plan-2"), "active", actor=COORD)
    assert active.status is CarePlanStatus.ACTIVE
    assert active.next_review_at == datetime(2026, 12, 23, 12, tzinfo=CHICAGO)
    assert (active.history[-1].from_status, active.history[-1].to_status) == (
        CarePlanStatus.DRAFT,
        CarePlanStatus.ACTIVE,
    )
    assert stored_plan(w, "plan-2") == active
    assert w.take() == [
        ev.CarePlanStatusChanged(
            **common(w), plan_id="plan-2", from_status="draft", to_status="active"
        ),
        ev.InterventionAssigned(
            **common(w),
            plan_id="plan-2",
            intervention_id="i-1",
            assignee_id="ma",
            due_at=T0 + timedelta(days=1),
            priority="routine",
        ),
    ]
    # Coming back from hold does not announce the same assignments again.
    w.service.set_plan_status(CarePlanId("plan-2"), "on-hold", actor=COORD)
    w.service.set_plan_status(CarePlanId("plan-2"), "active", actor=COORD)
    assert [type(e) for e in w.take()] == [ev.CarePlanStatusChanged, ev.CarePlanStatusChanged]


def test_creating_an_active_plan_announces_its_assignments(w: World) -> None:
    plan = CarePlan(
        id=CarePlanId("plan-2"),
        patient_id=PATIENT,
        author_id=COORD,
        created_at=T0,
        status=CarePlanStatus.ACTIVE,
        interventions=(task("i-1", NURSE),),
    )
    w.service.create_care_plan(plan, actor=COORD)
    assert [(type(e), getattr(e, "assignee_id", None)) for e in w.take()] == [
        (ev.CarePlanCreated, None),
        (ev.InterventionAssigned, "nurse"),
    ]


def _draft(n: str = "plan-2", **changes: Any) -> CarePlan:
    plan = CarePlan(id=CarePlanId(n), patient_id=PATIENT, author_id=COORD, created_at=T0)
    return attrs.evolve(plan, **changes)


@pytest.mark.parametrize(
    ("error", "call"),
    [
        (
            NotFoundError,
            lambda s: s.create_care_plan(_draft(addresses=(NeedId("need-x"),)), actor=COORD),
        ),
        (
            NotFoundError,
            lambda s: s.create_care_plan(
                _draft(interventions=(task("i-1", StaffId("ghost")),)), actor=COORD
            ),
        ),
        (
            AccessDeniedError,
            lambda s: s.create_care_plan(_draft(patient_id=PatientId("p-404")), actor=COORD),
        ),
        (ConflictError, lambda s: s.create_care_plan(_draft("plan-1"), actor=COORD)),
        (InvalidTransitionError, lambda s: s.set_plan_status(PLAN, "draft", actor=COORD)),
        (ReasonRequiredError, lambda s: s.set_plan_status(PLAN, "revoked", actor=COORD)),
        (
            AccessDeniedError,
            lambda s: s.set_plan_status(CarePlanId("nope"), "active", actor=COORD),
        ),
    ],
    ids=[
        "unknown-need",
        "unknown-assignee",
        "unknown-patient",
        "duplicate-id",
        "illegal-move",
        "no-reason",
        "unknown-plan",
    ],
)
def test_plan_operations_that_fail_change_nothing(
    w: World, error: type[Exception], call: Callable[[CareCoordinator], object]
) -> None:
    fails(w, error, lambda: call(w.service))


# ---------------------------------------------------------------------- goals
def test_add_goal_and_move_its_status(w: World) -> None:
    plan = w.service.add_goal(PLAN, goal(), actor=COORD)
    assert plan.goal(GoalId("g-1")).lifecycle_status is GoalLifecycleStatus.PROPOSED
    assert w.take() == [ev.GoalAdded(**common(w), plan_id="plan-1", goal_id="g-1")]
    plan = w.service.set_goal_status(PLAN, GoalId("g-1"), "active", actor=COORD)
    moved = plan.goal(GoalId("g-1"))
    assert moved.lifecycle_status is GoalLifecycleStatus.ACTIVE
    assert (moved.history[-1].by, moved.history[-1].at) == (COORD, T0)
    assert stored_plan(w) == plan
    assert w.take() == [
        ev.GoalStatusChanged(
            **common(w), plan_id="plan-1", goal_id="g-1", from_status="proposed", to_status="active"
        )
    ]
    fails(w, ValidationError, lambda: w.service.add_goal(PLAN, goal(), actor=COORD))
    fails(
        w,
        InvalidTransitionError,
        lambda: w.service.set_goal_status(PLAN, GoalId("g-1"), "proposed", actor=COORD),
    )
    fails(
        w,
        ReasonRequiredError,
        lambda: w.service.set_goal_status(PLAN, GoalId("g-1"), "cancelled", actor=COORD),
    )
    fails(
        w,
        NotFoundError,
        lambda: w.service.set_goal_status(PLAN, GoalId("g-404"), "active", actor=COORD),
    )


def _reading(value: float, day: int, unit: str = "/d") -> ProgressReading:
    return ProgressReading(
        measure="steps", value=value, unit=unit, at=T0 + timedelta(days=day), recorded_by=COORD
    )


def test_record_progress_rederives_achievement_and_announces_it_once(w: World) -> None:
    w.service.add_goal(PLAN, goal(), actor=COORD)
    w.take()
    expected = [
        (1000, "in-progress", False),  # a single miss
        (2000, "improving", False),  # the gap shrinks
        (3500, "achieved", True),  # met for the first time
        (4000, "sustaining", False),  # met again: still achieved, not announced again
    ]
    for day, (value, achievement, announced) in enumerate(expected, start=1):
        plan = w.service.record_progress(PLAN, GoalId("g-1"), _reading(value, day), actor=COORD)
        g = plan.goal(GoalId("g-1"))
        assert g.achievement_status == GoalAchievementStatus(achievement)
        assert [r.value for r in g.readings][-1] == value
        progress = ev.ProgressRecorded(
            **common(w), plan_id="plan-1", goal_id="g-1", achievement=achievement
        )
        achieved = ev.GoalAchieved(**common(w), plan_id="plan-1", goal_id="g-1")
        assert w.take() == ([progress, achieved] if announced else [progress])
    assert len(stored_plan(w).goal(GoalId("g-1")).readings) == 4


def test_progress_that_does_not_fit_the_goal_changes_nothing(w: World) -> None:
    w.service.add_goal(PLAN, goal(), actor=COORD)
    fails(
        w,
        ValidationError,
        lambda: w.service.record_progress(
            PLAN, GoalId("g-1"), _reading(10, 1, unit="km"), actor=COORD
        ),
    )
    fails(
        w,
        NotFoundError,
        lambda: w.service.record_progress(PLAN, GoalId("g-404"), _reading(10, 1), actor=COORD),
    )


# -------------------------------------------------------------- interventions
def test_add_and_assign_an_intervention(w: World) -> None:
    plan = w.service.add_intervention(PLAN, task("i-1", MA), actor=COORD)
    assert plan.intervention(InterventionId("i-1")) == task("i-1", MA)
    assigned = ev.InterventionAssigned(
        **common(w),
        plan_id="plan-1",
        intervention_id="i-1",
        assignee_id="ma",
        due_at=T0 + timedelta(days=1),
        priority="routine",
    )
    assert w.take() == [
        ev.InterventionAdded(**common(w), plan_id="plan-1", intervention_id="i-1"),
        assigned,
    ]
    plan = w.service.assign_intervention(PLAN, InterventionId("i-1"), NURSE, actor=COORD)
    assert plan.intervention(InterventionId("i-1")).assignee_id == NURSE
    assert stored_plan(w) == plan
    assert w.take() == [attrs.evolve(assigned, assignee_id="nurse")]
    w.service.add_intervention(PLAN, task("i-2", None), actor=COORD)  # unassigned: no one told
    assert [type(e) for e in w.take()] == [ev.InterventionAdded]


def test_intervention_changes_that_fail_change_nothing(w: World) -> None:
    w.service.add_intervention(PLAN, task("i-1", MA), actor=COORD)
    w.take()
    fails(w, ValidationError, lambda: w.service.add_intervention(PLAN, task("i-1"), actor=COORD))
    fails(
        w,
        NotFoundError,
        lambda: w.service.add_intervention(PLAN, task("i-2", StaffId("ghost")), actor=COORD),
    )
    fails(
        w,
        NotFoundError,
        lambda: w.service.assign_intervention(
            PLAN, InterventionId("i-1"), StaffId("ghost"), actor=COORD
        ),
    )
    fails(
        w,
        NotFoundError,
        lambda: w.service.assign_intervention(PLAN, InterventionId("i-404"), MA, actor=COORD),
    )
    w.service.set_intervention_status(
        PLAN, InterventionId("i-1"), "cancelled", actor=COORD, reason="No longer needed"
    )
    fails(  # a closed intervention is not reassigned
        w,
        ValidationError,
        lambda: w.service.assign_intervention(PLAN, InterventionId("i-1"), NURSE, actor=COORD),
    )


def test_an_intervention_moves_through_its_states(w: World) -> None:
    w.service.add_intervention(PLAN, task("i-1", MA), actor=COORD)
    w.take()
    path = ["in-progress", "on-hold", "in-progress", "completed"]
    previous = "ready"
    for n, status in enumerate(path, start=1):
        w.clock.advance(timedelta(minutes=10))
        plan = w.service.set_intervention_status(PLAN, InterventionId("i-1"), status, actor=COORD)
        item = plan.intervention(InterventionId("i-1"))
        assert item.status is TaskStatus(status)
        assert len(item.history) == n
        assert (item.history[-1].by, item.history[-1].at) == (COORD, w.clock.now())
        assert w.take() == [
            ev.InterventionStatusChanged(
                **common(w),
                plan_id="plan-1",
                intervention_id="i-1",
                from_status=previous,
                to_status=status,
            )
        ]
        previous = status
    assert not stored_plan(w).intervention(InterventionId("i-1")).is_open
    assert len(stored_plan(w).interventions) == 1  # not recurring: nothing follows


def test_an_illegal_intervention_move_changes_nothing_but_is_audited(w: World) -> None:
    w.service.add_intervention(PLAN, task("i-1", MA), actor=COORD)
    w.take()
    error = fails(
        w,
        InvalidTransitionError,
        lambda: w.service.set_intervention_status(
            PLAN, InterventionId("i-1"), "completed", actor=COORD
        ),
        operation="set_intervention_status",
    )
    assert isinstance(error, InvalidTransitionError)
    assert (error.from_state, error.to_state) == ("ready", "completed")
    last = audit(w.store)[-1]
    assert (last.patient_id, last.entity) == (P, "CarePlan/plan-1")
    fails(
        w,
        ReasonRequiredError,
        lambda: w.service.set_intervention_status(
            PLAN, InterventionId("i-1"), "cancelled", actor=COORD
        ),
    )
    assert stored_plan(w).intervention(InterventionId("i-1")).status is TaskStatus.READY


def _complete(w: World, item_id: str) -> CarePlan:
    w.service.set_intervention_status(PLAN, InterventionId(item_id), "in-progress", actor=COORD)
    return w.service.set_intervention_status(
        PLAN, InterventionId(item_id), "completed", actor=COORD
    )


def test_completing_a_recurring_intervention_schedules_the_next_one(w: World) -> None:
    # Monthly from Oct 31, 09:00 Chicago: the Nov occurrence is Nov 30 (month end),
    # the next Dec 31, still 09:00 on the wall clock after DST ended on Nov 1.
    monthly = Cadence.months(1, datetime(2026, 10, 31, 9, tzinfo=CHICAGO))
    first = task(
        "i-1",
        NURSE,
        due=datetime(2026, 11, 30, 9, tzinfo=CHICAGO),
        cadence=monthly,
        priority=TaskPriority.URGENT,
    )
    w.service.add_intervention(PLAN, first, actor=COORD)
    w.take()
    plan = _complete(w, "i-1")  # done early, on Nov 23
    assert plan.interventions[0].id == "i-1"
    assert len(plan.interventions) == 2
    follow = plan.interventions[1]
    assert follow.id != first.id
    assert follow.due == datetime(2026, 12, 31, 9, tzinfo=CHICAGO)
    assert follow.due is not None and follow.due.astimezone(CHICAGO).hour == 9
    assert (follow.status, follow.assignee_id, follow.priority) == (
        TaskStatus.READY,
        NURSE,
        TaskPriority.URGENT,
    )
    assert (follow.kind, follow.description, follow.cadence) == (
        first.kind,
        first.description,
        monthly,
    )
    assert follow.created_at == T0 and follow.history == ()
    assert stored_plan(w) == plan
    happened = w.take()
    assert [type(e) for e in happened] == [
        ev.InterventionStatusChanged,  # in-progress
        ev.InterventionStatusChanged,  # completed
        ev.InterventionAdded,
        ev.InterventionAssigned,
    ]
    assert happened[2] == ev.InterventionAdded(
        **common(w), plan_id="plan-1", intervention_id=str(follow.id)
    )
    assert happened[3] == ev.InterventionAssigned(
        **common(w),
        plan_id="plan-1",
        intervention_id=str(follow.id),
        assignee_id="nurse",
        due_at=datetime(2026, 12, 31, 9, tzinfo=CHICAGO),
        priority="urgent",
    )


def test_a_late_completion_schedules_from_now_not_from_the_old_due_time(w: World) -> None:
    weekly = Cadence.weeks(1, T0)  # Mondays 12:00 Chicago: Nov 23, 30, Dec 7, 14, ...
    w.service.add_intervention(
        PLAN, task("i-1", MA, due=T0 + timedelta(days=7), cadence=weekly), actor=COORD
    )
    w.clock.set(datetime(2026, 12, 9, 15, tzinfo=CHICAGO))  # done 9 days late
    plan = _complete(w, "i-1")
    assert plan.interventions[1].due == datetime(2026, 12, 14, 12, tzinfo=CHICAGO)


def test_cancelling_a_recurring_intervention_schedules_nothing(w: World) -> None:
    weekly = Cadence.weeks(1, T0)
    w.service.add_intervention(PLAN, task("i-1", MA, cadence=weekly), actor=COORD)
    plan = w.service.set_intervention_status(
        PLAN, InterventionId("i-1"), "cancelled", actor=COORD, reason="Moved to another clinic"
    )
    assert [i.id for i in plan.interventions] == ["i-1"]


# -------------------------------------------------------------------- reviews
def _review(n: str, *, day: int, next_day: int, outcomes: tuple[GoalOutcome, ...] = ()) -> Review:
    return Review(
        id=ReviewId(n),
        plan_id=PLAN,
        patient_id=PATIENT,
        reviewed_at=T0 + timedelta(days=day),
        reviewed_by=COORD,
        next_review_at=T0 + timedelta(days=next_day),
        goal_outcomes=outcomes,
    )


def test_record_review_moves_the_next_review_and_cancels_discontinued_goals(w: World) -> None:
    for n in ("g-1", "g-2"):
        w.service.add_goal(PLAN, goal(n), actor=COORD)
        w.service.set_goal_status(PLAN, GoalId(n), "active", actor=COORD)
    w.take()
    first = _review(
        "rv-1",
        day=1,
        next_day=31,
        outcomes=(
            GoalOutcome(
                goal_id=GoalId("g-1"),
                achievement=GoalAchievementStatus.IMPROVING,
                decision=ReviewDecision.CONTINUE,
            ),
            GoalOutcome(
                goal_id=GoalId("g-2"),
                achievement=GoalAchievementStatus.NOT_ACHIEVED,
                decision=ReviewDecision.DISCONTINUE,
            ),
        ),
    )
    recorded = w.service.record_review(first, actor=COORD)
    assert recorded == first and recorded.on_time is None  # the plan had no review due yet
    plan = stored_plan(w)
    assert plan.next_review_at == T0 + timedelta(days=31)
    kept, dropped = plan.goal(GoalId("g-1")), plan.goal(GoalId("g-2"))
    assert kept.lifecycle_status is GoalLifecycleStatus.ACTIVE
    assert kept.achievement_status is GoalAchievementStatus.IMPROVING
    assert dropped.lifecycle_status is GoalLifecycleStatus.CANCELLED
    assert dropped.achievement_status is GoalAchievementStatus.NOT_ACHIEVED
    step = dropped.history[-1]
    assert (step.by, step.at, step.reason) == (
        COORD,
        T0 + timedelta(days=1),
        "discontinued at review rv-1",
    )
    assert stored(w, Review, "rv-1") == first
    assert w.take() == [
        ev.ReviewRecorded(
            **common(w),
            plan_id="plan-1",
            review_id="rv-1",
            next_review_at=T0 + timedelta(days=31),
            on_time=None,
        )
    ]
    # The next review is due when the first one said; a late one is recorded as late.
    late = w.service.record_review(_review("rv-2", day=40, next_day=70), actor=COORD)
    assert late.due_at == T0 + timedelta(days=31)
    assert late.on_time is False
    on_time = w.service.record_review(_review("rv-3", day=69, next_day=99), actor=COORD)
    assert (on_time.due_at, on_time.on_time) == (T0 + timedelta(days=70), True)
    assert [r.id for r in w.service.reviews_of(PLAN, actor=COORD)] == ["rv-1", "rv-2", "rv-3"]


def test_reviews_that_fail_change_nothing(w: World) -> None:
    w.service.create_care_plan(_draft(), actor=COORD)
    w.take()
    draft_review = attrs.evolve(_review("rv-1", day=1, next_day=31), plan_id=CarePlanId("plan-2"))
    fails(w, ValidationError, lambda: w.service.record_review(draft_review, actor=COORD))
    other_patient = attrs.evolve(_review("rv-1", day=1, next_day=31), patient_id=PatientId("p-2"))
    fails(w, ValidationError, lambda: w.service.record_review(other_patient, actor=COORD))
    unknown_goal = _review(
        "rv-1",
        day=1,
        next_day=31,
        outcomes=(
            GoalOutcome(
                goal_id=GoalId("g-404"),
                achievement=GoalAchievementStatus.IN_PROGRESS,
                decision=ReviewDecision.CONTINUE,
            ),
        ),
    )
    fails(w, NotFoundError, lambda: w.service.record_review(unknown_goal, actor=COORD))
    w.service.record_review(_review("rv-1", day=1, next_day=31), actor=COORD)
    w.take()
    fails(
        w,
        ConflictError,
        lambda: w.service.record_review(_review("rv-1", day=2, next_day=32), actor=COORD),
    )


# ------------------------------------------------------------------ referrals
def test_a_referral_loop_is_closed_by_its_result(w: World) -> None:
    created = w.service.create_referral(referral(), actor=COORD)
    assert created.status is ReferralStatus.DRAFT
    assert w.take() == [ev.ReferralCreated(**common(w), referral_id="r-1")]
    previous = "draft"
    for status in ("sent", "accepted", "scheduled", "completed"):
        w.clock.advance(timedelta(days=1))
        moved = w.service.set_referral_status(ReferralId("r-1"), status, actor=COORD)
        assert moved.status is ReferralStatus(status) and not moved.is_closed
        assert moved.last_changed_at == w.clock.now()
        assert w.take() == [
            ev.ReferralStatusChanged(
                **common(w), referral_id="r-1", from_status=previous, to_status=status
            )
        ]
        previous = status
    closed = w.service.record_referral_result(ReferralId("r-1"), "Enrolled in program", actor=COORD)
    assert closed.status is ReferralStatus.RESULT_RECEIVED
    assert closed.outcome == "Enrolled in program" and closed.is_closed
    assert len(closed.history) == 5
    assert stored(w, Referral, "r-1") == closed
    assert w.take() == [
        ev.ReferralStatusChanged(
            **common(w), referral_id="r-1", from_status="completed", to_status="result-received"
        ),
        ev.ReferralResultReceived(**common(w), referral_id="r-1"),
    ]
    assert w.service.referrals_of(PATIENT, actor=COORD) == [closed]


def test_referral_changes_that_fail_change_nothing(w: World) -> None:
    w.service.create_referral(referral(), actor=COORD)
    w.take()
    fails(
        w,
        InvalidTransitionError,
        lambda: w.service.record_referral_result(ReferralId("r-1"), "Too early", actor=COORD),
    )
    fails(
        w,
        ReasonRequiredError,
        lambda: w.service.set_referral_status(ReferralId("r-1"), "cancelled", actor=COORD),
    )
    for status in ("sent", "accepted", "scheduled", "completed"):
        w.service.set_referral_status(ReferralId("r-1"), status, actor=COORD)
    w.take()
    fails(  # the result comes in through record_referral_result only
        w,
        ValidationError,
        lambda: w.service.set_referral_status(ReferralId("r-1"), "result-received", actor=COORD),
    )
    fails(
        w,
        NotFoundError,
        lambda: w.service.create_referral(
            referral("r-2", plan=CarePlanId("plan-404")), actor=COORD
        ),
    )
    fails(w, ConflictError, lambda: w.service.create_referral(referral(), actor=COORD))


# --------------------------------------------------------------- appointments
def test_appointments_are_scheduled_and_moved(w: World) -> None:
    w.service.create_referral(referral(), actor=COORD)
    w.take()
    later = w.service.schedule_appointment(
        appointment("ap-1", days=5, referral_id=ReferralId("r-1")), actor=COORD
    )
    assert w.take() == [
        ev.AppointmentScheduled(
            **common(w),
            appointment_id="ap-1",
            start=T0 + timedelta(days=5),
            transport_needed=True,
        )
    ]
    sooner = w.service.schedule_appointment(appointment("ap-2", days=1), actor=COORD)
    w.take()
    assert w.service.appointments_of(PATIENT, actor=COORD) == [sooner, later]
    previous = "proposed"
    for status in ("booked", "arrived", "fulfilled"):
        moved = w.service.set_appointment_status(AppointmentId("ap-1"), status, actor=COORD)
        assert moved.status is AppointmentStatus(status)
        booked = [
            ev.AppointmentBooked(
                **common(w),
                appointment_id="ap-1",
                start=T0 + timedelta(days=5),
                transport_needed=True,
            )
        ]
        assert w.take() == [
            ev.AppointmentStatusChanged(
                **common(w), appointment_id="ap-1", from_status=previous, to_status=status
            ),
            *(booked if status == "booked" else []),
        ]
        previous = status
    fails(
        w,
        InvalidTransitionError,
        lambda: w.service.set_appointment_status(AppointmentId("ap-1"), "booked", actor=COORD),
    )
    fails(
        w,
        ReasonRequiredError,
        lambda: w.service.set_appointment_status(AppointmentId("ap-2"), "cancelled", actor=COORD),
    )
    fails(
        w,
        NotFoundError,
        lambda: w.service.schedule_appointment(
            appointment("ap-3", referral_id=ReferralId("r-404")), actor=COORD
        ),
    )


# ------------------------------------------------------------------- barriers
def test_barriers_are_recorded_and_resolved_once(w: World) -> None:
    recorded = w.service.record_barrier(barrier(), actor=COORD)
    assert stored(w, Barrier, "b-1") == recorded and not recorded.is_resolved
    assert w.take() == [ev.BarrierRecorded(**common(w), barrier_id="b-1", kind="transport")]
    w.clock.advance(timedelta(hours=3))
    resolved = w.service.resolve_barrier(BarrierId("b-1"), "Bus pass arranged", actor=LEAD_MA)
    assert resolved.resolution is not None
    assert (resolved.resolution.at, resolved.resolution.by, resolved.resolution.summary) == (
        T0 + timedelta(hours=3),
        LEAD_MA,
        "Bus pass arranged",
    )
    assert stored(w, Barrier, "b-1") == resolved
    assert w.take() == [ev.BarrierResolved(**common(w, LEAD_MA), barrier_id="b-1")]
    fails(
        w,
        ValidationError,
        lambda: w.service.resolve_barrier(BarrierId("b-1"), "Again", actor=COORD),
    )
    fails(
        w,
        AccessDeniedError,
        lambda: w.service.resolve_barrier(BarrierId("b-404"), "x", actor=COORD),
    )


# ------------------------------------------------- notes, decisions, consents
def _note(n: str, *, minutes: int = 0, contact: ContactId | None = DAUGHTER) -> Note:
    return Note(
        id=NoteId(n),
        patient_id=PATIENT,
        at=T0 + timedelta(minutes=minutes),
        author_id=COORD,
        channel=ContactChannel.PHONE,
        direction=Direction.OUTBOUND,
        party=InteractionParty.FAMILY,
        summary="Discussed transport",
        contact_id=contact,
    )


def test_notes_are_recorded_and_listed_oldest_first(w: World) -> None:
    later = w.service.record_note(_note("n-1", minutes=30), actor=COORD)
    earlier = w.service.record_note(_note("n-2", minutes=5), actor=COORD)
    assert stored(w, Note, "n-1") == later
    assert w.take()[0] == ev.NoteRecorded(
        **common(w), note_id="n-1", party="family", channel="phone"
    )
    assert w.service.notes_of(PATIENT, actor=COORD) == [earlier, later]
    fails(
        w,
        NotFoundError,
        lambda: w.service.record_note(_note("n-3", contact=ContactId("c-404")), actor=COORD),
    )


def test_decisions_are_recorded(w: World) -> None:
    decision = PatientDecision(
        id=DecisionId("d-1"),
        patient_id=PATIENT,
        at=T0,
        recorded_by=COORD,
        recommendation="Physiotherapy",
        outcome=DecisionOutcome.DECLINED,
        patient_words="Not now",
    )
    assert w.service.record_decision(decision, actor=COORD) == decision
    assert stored(w, PatientDecision, "d-1") == decision
    assert w.take() == [ev.DecisionRecorded(**common(w), decision_id="d-1", outcome="declined")]
    assert w.service.decisions_of(PATIENT, actor=COORD) == [decision]
    fails(w, ConflictError, lambda: w.service.record_decision(decision, actor=COORD))


def test_consents_are_recorded_and_withdrawn(w: World) -> None:
    consent = Consent(
        id=ConsentId("cs-1"),
        patient_id=PATIENT,
        recorded_at=T0,
        recorded_by=COORD,
        contact_ids=(DAUGHTER,),
        categories=("appointments",),
    )
    assert w.service.record_consent(consent, actor=COORD) == consent
    assert w.take() == [ev.ConsentRecorded(**common(w), consent_id="cs-1")]
    withdrawn = w.service.set_consent_status(ConsentId("cs-1"), "inactive", actor=COORD)
    assert withdrawn.status is ConsentStatus.INACTIVE
    assert not withdrawn.permits(DAUGHTER, "appointments", T0)
    assert stored(w, Consent, "cs-1") == withdrawn
    assert w.take() == [
        ev.ConsentStatusChanged(
            **common(w), consent_id="cs-1", from_status="active", to_status="inactive"
        )
    ]
    assert w.service.consents_of(PATIENT, actor=COORD) == [withdrawn]
    fails(
        w,
        InvalidTransitionError,
        lambda: w.service.set_consent_status(ConsentId("cs-1"), "active", actor=COORD),
    )
    unknown_contact = attrs.evolve(consent, id=ConsentId("cs-2"), contact_ids=(ContactId("c-x"),))
    fails(w, NotFoundError, lambda: w.service.record_consent(unknown_contact, actor=COORD))


# --------------------------------------------------------------------- events
def test_handlers_run_after_commit_and_see_the_committed_data(any_store: Store) -> None:
    clock = FixedClock(T0)
    seen: list[tuple[str, int | None]] = []

    def handler(event: ev.DomainEvent) -> None:
        if isinstance(event, ev.BarrierRecorded):
            record = any_store.read("Barrier", event.barrier_id)
            seen.append((event.barrier_id, None if record is None else record.version))

    service = CareCoordinator(store=any_store, clock=clock, event_handlers=[handler])
    populate(service, clock)
    service.record_barrier(barrier(), actor=COORD)
    assert seen == [("b-1", 1)]


def test_a_failing_handler_does_not_undo_the_commit(
    any_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FixedClock(T0)
    sink = RecordingEventSink()
    calls: list[str] = []

    def broken(event: ev.DomainEvent) -> None:
        calls.append(event.name)
        raise RuntimeError("handler bug")

    service = CareCoordinator(store=any_store, clock=clock, event_handlers=[broken])
    service.subscribe(sink)  # a later handler still gets every event
    populate(service, clock)
    sink.clear()
    calls.clear()
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="carecoord"):
        result = service.record_barrier(barrier(), actor=COORD)
    assert result == barrier()
    assert any_store.read("Barrier", "b-1") is not None
    assert calls == ["BarrierRecorded"]
    assert sink.events == [
        ev.BarrierRecorded(at=T0, actor="coord", patient_id=P, barrier_id="b-1", kind="transport")
    ]
    failures = [r for r in caplog.records if r.name == "carecoord" and r.levelno == logging.ERROR]
    assert len(failures) == 1
    assert "BarrierRecorded" in failures[0].getMessage()
    assert audit(any_store)[-1].outcome is AuditOutcome.SUCCESS


def test_events_arrive_in_the_order_they_happened_across_operations(w: World) -> None:
    w.service.record_barrier(barrier(), actor=COORD)
    w.service.resolve_barrier(BarrierId("b-1"), "Fixed", actor=COORD)
    w.service.record_barrier(barrier("b-2"), actor=COORD)
    assert [(type(e).__name__, getattr(e, "barrier_id", None)) for e in w.take()] == [
        ("BarrierRecorded", "b-1"),
        ("BarrierResolved", "b-1"),
        ("BarrierRecorded", "b-2"),
    ]


# ------------------------------------------------------------ lazy defaults
class SpyStore:
    """A store that records every call made to it."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def read(self, kind: str, record_id: str) -> StoredRecord | None:
        self.calls.append("read")
        return None

    def read_all(self, kind: str, *, patient_id: str | None = None) -> Sequence[StoredRecord]:
        self.calls.append("read_all")
        return []

    def write(self, batch: Sequence[RecordWrite]) -> None:
        self.calls.append("write")

    def query(self, query: WorkQuery) -> Sequence[IndexHit]:
        self.calls.append("query")
        return []

    def close(self) -> None:
        self.calls.append("close")


def test_constructing_a_coordinator_touches_nothing() -> None:
    spy = SpyStore()
    service = CareCoordinator(store=spy)
    assert spy.calls == []
    assert service.store is spy
    default = CareCoordinator()
    assert default.store is default.store  # made once, on first use
    assert isinstance(default.clock, SystemClock)
    assert default.access_policy is default.access_policy


def test_the_default_store_is_made_on_first_use_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import carecoord.storage.memory as memory_module

    made: list[MemoryStore] = []

    def counting() -> MemoryStore:
        store = MemoryStore()
        made.append(store)
        return store

    monkeypatch.setattr(memory_module, "MemoryStore", counting)
    service = CareCoordinator()
    assert made == []
    first = service.store
    assert made == [first]
    assert service.store is first
    assert made == [first]


def test_importing_the_service_does_not_load_sqlite() -> None:
    script = textwrap.dedent(
        """
        import sys
        import carecoord.service
        assert "sqlite3" not in sys.modules, "imported by carecoord.service"
        from carecoord import CareTeamRole, HumanName, StaffId, StaffMember
        service = carecoord.service.CareCoordinator()
        boss = StaffMember(id=StaffId("boss"), name=HumanName(family="B"),
                           roles=(CareTeamRole.CASE_MANAGER,))
        service.register_staff(boss, actor=StaffId("boss"))
        assert type(service.store).__name__ == "MemoryStore"
        assert service.store.read("StaffMember", "boss") is not None
        assert "sqlite3" not in sys.modules, "imported by using the default store"
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


# ------------------------------------------------------- time and actors
class NaiveClock:
    def now(self) -> datetime:
        return datetime(2026, 11, 23, 12)  # no tzinfo


def test_naive_datetimes_are_rejected(w: World) -> None:
    naive = datetime(2026, 11, 30, 12)
    fails(
        w,
        NaiveDatetimeError,
        lambda: w.service.interventions_due(MA, actor=COORD, until=naive),
        operation="interventions_due",
    )
    fails(
        w,
        NaiveDatetimeError,
        lambda: w.service.reviews_due(actor=COORD, until=naive),
        operation="reviews_due",
    )
    fails(w, NaiveDatetimeError, lambda: w.service.tick(naive), check_audit=False)
    with pytest.raises(NaiveDatetimeError):
        ProgressReading(measure="steps", value=1, unit="/d", at=naive, recorded_by=COORD)


def test_a_clock_that_returns_naive_time_is_rejected(w: World) -> None:
    broken = CareCoordinator(store=w.store, clock=NaiveClock())
    fails(
        w,
        NaiveDatetimeError,
        lambda: broken.record_barrier(barrier(), actor=COORD),
        check_audit=False,  # there is no valid time to audit with
    )


def test_an_unknown_or_inactive_actor_is_not_found(w: World) -> None:
    fails(
        w,
        NotFoundError,
        lambda: w.service.record_barrier(barrier(), actor=StaffId("ghost")),
        actor="ghost",
        operation="record_barrier",
    )
    retired = attrs.evolve(w.service.staff_member(OUTSIDER, actor=BOSS), active=False)
    w.service.register_staff(retired, actor=BOSS)
    w.take()
    fails(
        w,
        NotFoundError,
        lambda: w.service.enrol_patient(
            attrs.evolve(make_patient(), id=PatientId("p-9")), actor=OUTSIDER
        ),
        actor="outsider",
    )


def test_an_actor_must_be_a_staff_id(w: World) -> None:
    fails(
        w,
        ValidationError,
        lambda: w.service.record_barrier(barrier(), actor="coord"),  # type: ignore[arg-type]
        check_audit=False,
    )


# ------------------------------------------------ fixes found in review
def test_an_unknown_role_code_is_a_validation_error_and_audited(w: World) -> None:
    fails(
        w,
        ValidationError,
        lambda: w.service.add_team_member(TEAM, OUTSIDER, "wizard", actor=COORD),  # type: ignore[arg-type]
        operation="add_team_member",
    )


def test_an_unknown_team_status_is_a_validation_error_and_audited(w: World) -> None:
    fails(
        w,
        ValidationError,
        lambda: w.service.set_team_status(TEAM, "sleeping", actor=COORD),
        operation="set_team_status",
    )


def test_assigning_on_a_draft_plan_is_announced_once_on_activation(w: World) -> None:
    draft = CarePlanId("plan-draft")
    w.service.create_care_plan(
        CarePlan(id=draft, patient_id=PATIENT, author_id=COORD, created_at=T0), actor=COORD
    )
    w.service.add_intervention(draft, task("d-1", None), actor=COORD)
    w.service.assign_intervention(draft, InterventionId("d-1"), NURSE, actor=COORD)
    assert not [e for e in w.take() if isinstance(e, ev.InterventionAssigned)]
    w.service.set_plan_status(draft, "active", actor=COORD)
    assigned = [e for e in w.take() if isinstance(e, ev.InterventionAssigned)]
    assert [(e.intervention_id, e.assignee_id) for e in assigned] == [("d-1", str(NURSE))]


def test_an_illegal_transition_is_audited_as_a_minor_failure(w: World) -> None:
    w.service.add_intervention(PLAN, task("t-x"), actor=COORD)
    fails(
        w,
        InvalidTransitionError,
        lambda: w.service.set_intervention_status(
            PLAN, InterventionId("t-x"), "draft", actor=COORD
        ),
    )
    assert audit(w.store)[-1].outcome is AuditOutcome.MINOR_FAILURE


def test_first_staff_member_bootstraps_then_registration_needs_permission() -> None:
    from carecoord import AccessDeniedError, CareTeamRole, HumanName, StaffMember
    from carecoord.model.audit import AuditAction, PurposeOfUse

    store = MemoryStore()
    service = CareCoordinator(store=store, clock=FixedClock(T0))

    def person(sid: str, role: CareTeamRole) -> StaffMember:
        return StaffMember(id=StaffId(sid), name=HumanName(family="X"), roles=(role,))

    with pytest.raises(NotFoundError):  # someone else cannot bootstrap on another's behalf
        service.register_staff(person("first", CareTeamRole.CASE_MANAGER), actor=StaffId("x"))
    service.register_staff(person("first", CareTeamRole.CASE_MANAGER), actor=StaffId("first"))
    with pytest.raises(NotFoundError):  # the store is no longer empty
        service.register_staff(person("second", CareTeamRole.NURSE), actor=StaffId("second"))
    nurse = service.register_staff(person("nurse", CareTeamRole.NURSE), actor=StaffId("first"))
    assert nurse.revision == 1
    with pytest.raises(AccessDeniedError):  # a nurse may not manage staff
        service.register_staff(person("third", CareTeamRole.NURSE), actor=StaffId("nurse"))
    moved = service.register_staff(
        attrs.evolve(nurse, roles=(CareTeamRole.MEDICAL_ASSISTANT,)), actor=StaffId("first")
    )
    assert moved.revision == 2
    with pytest.raises(ConflictError):  # a stale copy never overwrites the newer edit
        service.register_staff(attrs.evolve(nurse, active=False), actor=StaffId("first"))
    with pytest.raises(ConflictError):  # a new registration of a taken id
        service.register_staff(person("nurse", CareTeamRole.NURSE), actor=StaffId("first"))
    assert service.staff_member(StaffId("nurse"), actor=StaffId("first")).roles == (
        CareTeamRole.MEDICAL_ASSISTANT,
    )
    trail = [e for e in audit(store) if e.operation == "register_staff"]
    assert [(e.actor, e.action, e.outcome.value) for e in trail] == [
        ("x", AuditAction.UPDATE, "4"),
        ("first", AuditAction.CREATE, "0"),
        ("second", AuditAction.UPDATE, "4"),
        ("first", AuditAction.CREATE, "0"),
        ("nurse", AuditAction.UPDATE, "4"),
        ("first", AuditAction.UPDATE, "0"),
        ("first", AuditAction.UPDATE, "4"),
        ("first", AuditAction.UPDATE, "4"),
    ]
    assert {e.purpose for e in trail if e.outcome.value == "0"} == {PurposeOfUse.HOPERAT}
