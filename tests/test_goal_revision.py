"""Revising a goal's description or targets, with history (issue 17).

The model keeps what a goal was in a :class:`GoalRevision` on every revision
and re-derives the achievement status from the new targets; the service's
``revise_goal`` / ``revise_patient_goal`` are audited, announced
(``GoalRevised``), refuse closed goals and stale versions; the codecs and FHIR
keep the history.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carecoord import (
    AccessDeniedError,
    Comparator,
    ConflictError,
    Goal,
    GoalAchievementStatus,
    GoalClosedError,
    GoalId,
    GoalLifecycleStatus,
    NaiveDatetimeError,
    PatientGoal,
    ProgressReading,
    Quantity,
    Range,
    StaffId,
    Target,
    ValidationError,
)
from carecoord.events import GoalRevised
from carecoord.fhir import PatientRecord, export_bundle, import_bundle
from carecoord.model import (
    GOAL_MACHINE,
    GoalRevision,
    GoalRevisionReason,
    derive_achievement,
)
from carecoord.model.audit import AuditEntry, AuditOutcome
from carecoord.serialization import dumps, from_payload, loads, to_payload
from carecoord.service import CareCoordinator
from carecoord.storage import MemoryStore, UnitOfWork
from carecoord.testing import FixedClock, RecordingEventSink
from carecoord.testing import strategies as cs
from world import COORD, MA, OUTSIDER, PATIENT, PLAN, T0, populate

SECRET = "PHI-SECRET-walk-to-the-church"
BY = StaffId("s-1")
STEPS = Target("steps", quantity=Quantity(3000, "/d", Comparator.GE), due=date(2026, 12, 31))
MORE_STEPS = Target("steps", quantity=Quantity(5000, "/d", Comparator.GE), due=date(2027, 3, 31))
GOAL = GoalId("g-walk")


def _goal(status: GoalLifecycleStatus = GoalLifecycleStatus.ACTIVE) -> Goal:
    return Goal(id=GOAL, description="Walk daily", lifecycle_status=status, targets=(STEPS,))


def _reading(value: float, at: datetime = T0) -> ProgressReading:
    return ProgressReading(measure="steps", value=value, unit="/d", at=at, recorded_by=BY)


# ---------------------------------------------------------------------- model
def test_a_revision_keeps_what_the_goal_was() -> None:
    goal = _goal().with_reading(_reading(4000))
    assert goal.achievement_status is GoalAchievementStatus.ACHIEVED
    revised = goal.revise(
        by=BY, at=T0, reason="target-reached", targets=(MORE_STEPS,), reason_text=SECRET
    )
    assert revised.targets == (MORE_STEPS,) and revised.description == "Walk daily"
    (rev,) = revised.revisions
    assert rev == GoalRevision(
        revised_at=T0,
        revised_by=BY,
        reason=GoalRevisionReason.TARGET_REACHED,
        previous_description="Walk daily",
        previous_targets=(STEPS,),
        reason_text=SECRET,
    )
    # 4000 steps met the old target, not the new one: achievement re-derived
    assert revised.achievement_status is GoalAchievementStatus.IN_PROGRESS
    assert revised.readings == goal.readings
    again = revised.revise(
        by=BY, at=T0 + timedelta(days=1), reason="clarification", description="Walk"
    )
    assert [r.previous_description for r in again.revisions] == ["Walk daily", "Walk daily"]
    assert again.revisions[1].previous_targets == (MORE_STEPS,)
    assert again.achievement_status is revised.achievement_status  # description only: kept


def test_a_description_revision_keeps_an_achievement_a_review_concluded() -> None:
    goal = attrs.evolve(_goal(), achievement_status=GoalAchievementStatus.NOT_ATTAINABLE)
    revised = goal.revise(by=BY, at=T0, reason="clarification", description="Walk to the shop")
    assert revised.achievement_status is GoalAchievementStatus.NOT_ATTAINABLE


def test_readings_of_a_measure_no_target_keeps_stay_but_no_longer_count() -> None:
    goal = _goal().with_reading(_reading(100))
    weight = Target("weight", range=Range(low=60, high=70, unit="kg"))
    revised = goal.revise(by=BY, at=T0, reason="clinical-change", targets=(weight,))
    assert revised.readings == goal.readings
    assert revised.achievement_status is GoalAchievementStatus.IN_PROGRESS
    with pytest.raises(ValidationError):
        revised.with_reading(_reading(200))  # steps is no target any more
    kg = ProgressReading(measure="weight", value=65, unit="kg", at=T0, recorded_by=BY)
    assert revised.with_reading(kg).achievement_status is GoalAchievementStatus.ACHIEVED


@pytest.mark.parametrize(
    "status", [s for s in GoalLifecycleStatus if GOAL_MACHINE.is_terminal(s)], ids=str
)
def test_a_closed_goal_cannot_be_revised(status: GoalLifecycleStatus) -> None:
    with pytest.raises(GoalClosedError) as caught:
        _goal(status).revise(by=BY, at=T0, reason="other", description=SECRET)
    assert (caught.value.goal_id, caught.value.status) == (GOAL, status.value)
    assert isinstance(caught.value, ValidationError)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    "status", [s for s in GoalLifecycleStatus if not GOAL_MACHINE.is_terminal(s)], ids=str
)
def test_an_open_goal_can_be_revised(status: GoalLifecycleStatus) -> None:
    assert not _goal(status).is_closed
    assert _goal(status).revise(by=BY, at=T0, reason="other", description="x").description == "x"


def test_bad_revisions_are_refused_without_echo() -> None:
    goal = _goal()
    with pytest.raises(ValidationError, match="must change"):
        goal.revise(by=BY, at=T0, reason="other", description="Walk daily", targets=(STEPS,))
    with pytest.raises(ValidationError, match="reason") as caught:
        goal.revise(by=BY, at=T0, reason=SECRET, description="x")
    assert SECRET not in str(caught.value)
    with pytest.raises(NaiveDatetimeError):
        goal.revise(by=BY, at=datetime(2026, 1, 1), reason="other", description="x")
    with pytest.raises(ValidationError):
        goal.revise(by=BY, at=T0, reason="other", description="   ")
    with pytest.raises(ValidationError):
        goal.revise(by=BY, at=T0, reason="other", targets=("steps",))  # type: ignore[arg-type]


def test_repr_hides_the_earlier_description_and_the_reason_text() -> None:
    goal = attrs.evolve(_goal(), description=SECRET)
    revised = goal.revise(by=BY, at=T0, reason="correction", description="New", reason_text=SECRET)
    for shown in (repr(revised), str(revised), repr(revised.revisions[0])):
        assert SECRET not in shown
    assert "correction" in repr(revised.revisions[0])
    assert SECRET in dumps(revised)  # really there, only hidden


@given(
    cs.goals().filter(lambda g: not g.is_closed),
    st.lists(cs.targets(), max_size=3).map(tuple),
    cs.AWARE_DATETIMES,
)
def test_revising_targets_derives_achievement_as_derive_achievement(
    goal: Goal, targets: tuple[Target, ...], at: datetime
) -> None:
    if targets == goal.targets:
        with pytest.raises(ValidationError):
            goal.revise(by=BY, at=at, reason="other", targets=targets)
        return
    revised = goal.revise(by=BY, at=at, reason="other", targets=targets)
    assert revised.targets == targets
    assert revised.achievement_status is derive_achievement(targets, goal.readings, at.date())
    assert revised.revisions == (
        *goal.revisions,
        GoalRevision(at, BY, GoalRevisionReason.OTHER, goal.description, goal.targets),
    )
    assert attrs.evolve(revised, targets=goal.targets, revisions=goal.revisions) == attrs.evolve(
        goal, achievement_status=revised.achievement_status
    )


# --------------------------------------------------------------------- codecs
@given(cs.goals())
def test_revisions_survive_both_codecs(goal: Goal) -> None:
    assert loads(dumps(goal), Goal) == goal
    assert from_payload(to_payload(goal), Goal) == goal


def test_a_goal_stored_before_revisions_existed_still_decodes() -> None:
    payload = to_payload(_goal())
    del payload["data"]["revisions"]
    assert from_payload(payload, Goal) == _goal()
    store = MemoryStore()
    plan_goal = PatientGoal(patient_id=PATIENT, goal=_goal())
    uow = UnitOfWork(store)
    uow.add(plan_goal)
    uow.commit()
    stored = store.read("PatientGoal", GOAL)
    assert stored is not None and '"revisions"' in stored.payload
    old_text = stored.payload.replace(',"revisions":[]', "").replace('"revisions":[],', "")
    assert '"revisions"' not in old_text
    assert loads(old_text, PatientGoal) == plan_goal


# -------------------------------------------------------------------- service
def _service() -> tuple[CareCoordinator, MemoryStore, FixedClock, RecordingEventSink]:
    store = MemoryStore()
    clock = FixedClock(T0)
    sink = RecordingEventSink()
    service = CareCoordinator(store, clock=clock, event_handlers=[sink])
    populate(service, clock)
    goal = Goal(id=GOAL, description="Walk daily", targets=(STEPS,))
    service.add_goal(PLAN, goal, actor=COORD, status="active")
    return service, store, clock, sink


def _audit(store: MemoryStore, operation: str) -> list[AuditEntry]:
    return [e for e in UnitOfWork(store).all(AuditEntry) if e.operation == operation]


def test_revise_goal_keeps_history_announces_and_audits_once() -> None:
    service, store, clock, sink = _service()
    service.record_progress(PLAN, GOAL, _reading(4000), actor=COORD)
    clock.advance(timedelta(hours=1))
    plan = service.revise_goal(
        PLAN, GOAL, actor=COORD, reason="target-reached", targets=[MORE_STEPS], reason_text=SECRET
    )
    goal = plan.goal(GOAL)
    assert goal.targets == (MORE_STEPS,)
    assert (goal.revisions[0].revised_by, goal.revisions[0].revised_at) == (COORD, clock.now())
    assert service.care_plan(PLAN, actor=COORD).goal(GOAL) == goal
    (event,) = sink.of_type(GoalRevised)
    assert event == GoalRevised(
        at=clock.now(),
        actor=str(COORD),
        patient_id=str(PATIENT),
        plan_id=str(PLAN),
        goal_id=str(GOAL),
        reason="target-reached",
        targets_changed=True,
        achievement="in-progress",
    )
    (entry,) = _audit(store, "revise_goal")
    assert entry.outcome is AuditOutcome.SUCCESS and entry.entity == f"CarePlan/{PLAN}"
    assert SECRET not in repr(event)
    # readings now count against the new target
    later = service.record_progress(PLAN, GOAL, _reading(6000, clock.now()), actor=COORD)
    assert later.goal(GOAL).achievement_status is GoalAchievementStatus.ACHIEVED


def test_revise_goal_needs_edit_goals() -> None:
    service, store, _, sink = _service()
    for actor in (MA, OUTSIDER):
        with pytest.raises(AccessDeniedError):
            service.revise_goal(PLAN, GOAL, actor=actor, reason="other", description="Swim")
    assert service.care_plan(PLAN, actor=COORD).goal(GOAL).revisions == ()
    assert not sink.of_type(GoalRevised)
    assert [e.outcome for e in _audit(store, "revise_goal")] == [AuditOutcome.MINOR_FAILURE] * 2


def test_revise_goal_refuses_a_closed_goal() -> None:
    service, store, _, sink = _service()
    service.set_goal_status(PLAN, GOAL, "cancelled", actor=COORD, reason="Moved away")
    with pytest.raises(GoalClosedError):
        service.revise_goal(PLAN, GOAL, actor=COORD, reason="other", description="Swim")
    assert not sink.of_type(GoalRevised)
    assert [e.outcome for e in _audit(store, "revise_goal")] == [AuditOutcome.MINOR_FAILURE]


def test_revise_goal_with_a_stale_version_is_a_conflict() -> None:
    service, store, _, _ = _service()
    seen = UnitOfWork(store)
    seen.get(type(service.care_plan(PLAN, actor=COORD)), PLAN)
    version = seen.version_of(type(service.care_plan(PLAN, actor=COORD)), PLAN)
    plan = service.revise_goal(
        PLAN, GOAL, actor=COORD, reason="clarification", description="A", expected_version=version
    )
    assert plan.goal(GOAL).description == "A"
    with pytest.raises(ConflictError) as caught:  # the version the user saw is gone now
        service.revise_goal(
            PLAN,
            GOAL,
            actor=COORD,
            reason="clarification",
            description="B",
            expected_version=version,
        )
    assert caught.value.expected == version
    assert service.care_plan(PLAN, actor=COORD).goal(GOAL).description == "A"


def test_revise_goal_refuses_targets_that_are_not_targets() -> None:
    service, _, _, _ = _service()
    with pytest.raises(ValidationError):
        service.revise_goal(PLAN, GOAL, actor=COORD, reason="other", targets=["steps"])  # type: ignore[list-item]


def test_a_patients_own_goal_is_revised_the_same_way() -> None:
    service, store, _, sink = _service()
    own = PatientGoal(
        patient_id=PATIENT, goal=Goal(id=GoalId("own"), description="Cook", targets=(STEPS,))
    )
    service.record_patient_goal(own, actor=COORD)
    revised = service.revise_patient_goal(
        GoalId("own"), actor=COORD, reason="patient-preference", description="Cook twice a week"
    )
    assert revised.goal.description == "Cook twice a week"
    assert revised.goal.revisions[0].previous_description == "Cook"
    (event,) = sink.of_type(GoalRevised)
    assert isinstance(event, GoalRevised)
    assert (event.plan_id, event.targets_changed, event.achievement) == (None, False, None)
    service.set_patient_goal_status(GoalId("own"), "entered-in-error", actor=COORD, reason="dup")
    with pytest.raises(GoalClosedError):
        service.revise_patient_goal(GoalId("own"), actor=COORD, reason="other", description="x")
    with pytest.raises(AccessDeniedError):
        service.revise_patient_goal(GoalId("own"), actor=OUTSIDER, reason="other", description="y")
    assert len(_audit(store, "revise_patient_goal")) == 3


# ----------------------------------------------------------------------- FHIR
def test_fhir_goal_carries_the_current_goal_and_its_revisions() -> None:
    service, _, _, _ = _service()
    service.revise_goal(
        PLAN, GOAL, actor=COORD, reason="target-unrealistic", targets=[MORE_STEPS], reason_text="r"
    )
    record = PatientRecord(
        patient=service.patient(PATIENT, actor=COORD),
        plans=(service.care_plan(PLAN, actor=COORD),),
    )
    bundle = export_bundle(record)
    (goal,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Goal"]
    assert goal["description"] == {"text": "Walk daily"}
    assert goal["target"][0]["detailQuantity"]["value"] == 5000
    assert goal["target"][0]["dueDate"] == "2027-03-31"
    (revision,) = [e for e in goal["extension"] if e["url"].endswith("/goal-revision")]
    parts = {p["url"]: p for p in revision["extension"]}
    assert parts["reason"]["valueCoding"]["code"] == "target-unrealistic"
    assert parts["previous-description"]["valueString"] == "Walk daily"
    previous = {p["url"]: p for p in parts["previous-target"]["extension"]}
    assert previous["quantity"]["valueQuantity"] == {
        "value": 3000,
        "unit": "/d",
        "comparator": ">=",
    }
    assert previous["due"]["valueDate"] == "2026-12-31"
    assert import_bundle(bundle).record.plans == record.plans
