"""Strategies for care planning (part of :mod:`carecoord.testing.strategies`).

Assessments (findings and needs), care plans with their goals (targets,
readings) and interventions, and cadences.
"""

from __future__ import annotations

from datetime import datetime

from hypothesis import strategies as st

from carecoord import (
    Assessment,
    AssessmentDomain,
    AssessmentId,
    BarrierId,
    Cadence,
    CadenceUnit,
    CarePlan,
    CarePlanId,
    CarePlanIntent,
    CarePlanStatus,
    Comparator,
    Finding,
    FindingId,
    Goal,
    GoalAchievementStatus,
    GoalId,
    GoalLifecycleStatus,
    GoalPriority,
    Intervention,
    InterventionId,
    InterventionKind,
    Need,
    NeedId,
    NeedPriority,
    NeedStatus,
    PatientId,
    Period,
    ProgressReading,
    Quantity,
    Range,
    StaffId,
    Target,
    TaskPriority,
    TaskStatus,
)
from carecoord.model import (
    CARE_PLAN_MACHINE,
    GOAL_MACHINE,
    TASK_MACHINE,
    GoalRevision,
    GoalRevisionReason,
)

from ._strategies_common import (
    AWARE_DATETIMES,
    DATES,
    FLOATS,
    MAX,
    codes,
    histories,
    ids,
    optional,
    periods,
    texts,
    unique_ids,
)


@st.composite
def cadences(draw: st.DrawFn) -> Cadence:
    """A cadence every 1-12 units from an aware anchor."""
    return Cadence(
        every=draw(st.integers(1, 12)), unit=draw(codes(CadenceUnit)), anchor=draw(AWARE_DATETIMES)
    )


@st.composite
def assessments(draw: st.DrawFn) -> Assessment:
    """An assessment whose needs only refer to its own findings."""
    finding_ids = draw(unique_ids(FindingId))
    findings = tuple(
        Finding(
            id=fid,
            domain=draw(codes(AssessmentDomain)),
            text=draw(texts()),
            code=draw(optional(texts())),
        )
        for fid in finding_ids
    )
    needs: list[Need] = []
    for need_id in draw(unique_ids(NeedId)):
        refs_ = (
            draw(st.lists(st.sampled_from(finding_ids), max_size=MAX, unique=True))
            if finding_ids
            else []
        )
        needs.append(
            Need(
                id=need_id,
                domain=draw(codes(AssessmentDomain)),
                description=draw(texts()),
                priority=draw(codes(NeedPriority)),
                status=draw(codes(NeedStatus)),
                finding_ids=tuple(refs_),
                code=draw(optional(texts())),
            )
        )
    return Assessment(
        id=draw(ids(AssessmentId)),
        patient_id=draw(ids(PatientId)),
        performed_by=draw(ids(StaffId)),
        performed_at=draw(AWARE_DATETIMES),
        findings=findings,
        needs=tuple(needs),
    )


@st.composite
def quantities(draw: st.DrawFn) -> Quantity:
    return Quantity(
        value=draw(FLOATS),
        unit=draw(texts(max_size=5)),
        comparator=draw(optional(codes(Comparator))),
    )


@st.composite
def ranges(draw: st.DrawFn) -> Range:
    low, high = draw(st.tuples(optional(FLOATS), optional(FLOATS)))
    if low is None and high is None:
        low = draw(FLOATS)
    if low is not None and high is not None and low > high:
        low, high = high, low
    return Range(low=low, high=high, unit=draw(texts(max_size=5)))


@st.composite
def targets(draw: st.DrawFn) -> Target:
    measure = draw(texts())
    due = draw(optional(DATES))
    if draw(st.booleans()):
        return Target(measure=measure, quantity=draw(quantities()), due=due)
    return Target(measure=measure, range=draw(ranges()), due=due)


@st.composite
def goal_revisions(draw: st.DrawFn) -> GoalRevision:
    """A revision of a goal: the description and targets it had, who, when, why."""
    return GoalRevision(
        revised_at=draw(AWARE_DATETIMES),
        revised_by=draw(ids(StaffId)),
        reason=draw(codes(GoalRevisionReason)),
        previous_description=draw(texts()),
        previous_targets=tuple(draw(st.lists(targets(), max_size=MAX))),
        reason_text=draw(optional(texts())),
    )


@st.composite
def goals(draw: st.DrawFn, need_ids: tuple[NeedId, ...] = ()) -> Goal:
    """A goal with targets, readings (on its targets' measures), a legal history and
    revisions (earlier descriptions and targets)."""
    goal_targets = tuple(draw(st.lists(targets(), max_size=MAX)))
    readings = []
    for _ in range(draw(st.integers(0, MAX if goal_targets else 0))):
        target = draw(st.sampled_from(goal_targets))
        readings.append(
            ProgressReading(
                measure=target.measure,
                value=draw(FLOATS),
                unit=target.unit,
                at=draw(AWARE_DATETIMES),
                recorded_by=draw(ids(StaffId)),
            )
        )
    addresses = (
        draw(st.lists(st.sampled_from(need_ids), max_size=MAX, unique=True)) if need_ids else []
    )
    status, history = draw(histories(GOAL_MACHINE, GoalLifecycleStatus.PROPOSED))
    return Goal(
        id=draw(ids(GoalId)),
        description=draw(texts()),
        priority=draw(codes(GoalPriority)),
        lifecycle_status=status,
        achievement_status=draw(optional(codes(GoalAchievementStatus))),
        targets=goal_targets,
        readings=tuple(readings),
        addresses=tuple(addresses),
        start=draw(optional(DATES)),
        history=history,
        revisions=tuple(draw(st.lists(goal_revisions(), max_size=MAX))),
    )


@st.composite
def interventions(draw: st.DrawFn, goal_ids: tuple[GoalId, ...] = ()) -> Intervention:
    """An intervention with a due time, a window or neither, linking only ``goal_ids``."""
    due: datetime | None = None
    window: Period | None = None
    match draw(st.sampled_from(["due", "window", "none"])):
        case "due":
            due = draw(AWARE_DATETIMES)
        case "window":
            window = draw(periods())
        case _:
            pass
    links = draw(st.lists(st.sampled_from(goal_ids), max_size=MAX, unique=True)) if goal_ids else []
    status, history = draw(histories(TASK_MACHINE, TaskStatus.READY))
    return Intervention(
        id=draw(ids(InterventionId)),
        kind=draw(codes(InterventionKind)),
        description=draw(texts()),
        created_at=draw(AWARE_DATETIMES),
        assignee_id=draw(optional(ids(StaffId))),
        priority=draw(codes(TaskPriority)),
        status=status,
        due=due,
        window=window,
        cadence=draw(optional(cadences())),
        goal_ids=tuple(links),
        barrier_ids=draw(unique_ids(BarrierId)),
        history=history,
    )


@st.composite
def care_plans(draw: st.DrawFn) -> CarePlan:
    """A plan whose goals address its needs and whose interventions link its goals."""
    need_ids = draw(unique_ids(NeedId))
    plan_goals = tuple(draw(st.lists(goals(need_ids), max_size=MAX, unique_by=lambda g: g.id)))
    goal_ids = tuple(g.id for g in plan_goals)
    plan_interventions = tuple(
        draw(st.lists(interventions(goal_ids), max_size=MAX, unique_by=lambda i: i.id))
    )
    status, history = draw(histories(CARE_PLAN_MACHINE, CarePlanStatus.DRAFT))
    return CarePlan(
        id=draw(ids(CarePlanId)),
        patient_id=draw(ids(PatientId)),
        author_id=draw(ids(StaffId)),
        created_at=draw(AWARE_DATETIMES),
        title=draw(texts()),
        status=status,
        intent=draw(codes(CarePlanIntent)),
        period=draw(optional(periods())),
        addresses=need_ids,
        goals=plan_goals,
        interventions=plan_interventions,
        review_cadence=draw(optional(cadences())),
        next_review_at=draw(optional(AWARE_DATETIMES)),
        history=history,
    )
