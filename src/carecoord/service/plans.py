"""Care-plan use cases: plans, goals and progress, interventions, reviews."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import attrs

from .. import events as ev
from ..access import Permission
from ..model import (
    Assessment,
    CarePlan,
    CarePlanId,
    CarePlanStatus,
    ConflictError,
    Goal,
    GoalAchievementStatus,
    GoalId,
    GoalLifecycleStatus,
    GoalRevisionReason,
    Intervention,
    InterventionId,
    NeedId,
    NotFoundError,
    Patient,
    PatientId,
    ProgressReading,
    Review,
    ReviewDecision,
    StaffId,
    StaffMember,
    Target,
    TaskStatus,
    ValidationError,
)
from ..model._base import instant
from ..model.audit import AuditAction
from ._assignment import check_assignment
from ._util import assigned, check, goal_revised, started, update
from .runner import Context, operation

__all__ = [
    "add_goal",
    "add_intervention",
    "assign_intervention",
    "care_plan",
    "care_plans_of",
    "create_care_plan",
    "record_progress",
    "record_review",
    "reviews_of",
    "revise_goal",
    "set_goal_status",
    "set_intervention_status",
    "set_plan_status",
]

_ACHIEVED = {GoalAchievementStatus.ACHIEVED, GoalAchievementStatus.SUSTAINING}

Edit = Callable[[CarePlan], tuple[CarePlan, list[ev.DomainEvent]]]


@operation(AuditAction.CREATE)
def create_care_plan(ctx: Context, plan: CarePlan) -> CarePlan:
    """Create a care plan; the needs it addresses must come from the patient's assessments."""
    check(plan, CarePlan)
    uow = ctx.uow
    ctx.allow(plan.patient_id, Permission.EDIT_PLAN, f"CarePlan/{plan.id}")
    uow.get(Patient, plan.patient_id)
    if plan.goals:
        ctx.allow(plan.patient_id, Permission.EDIT_GOALS)
    if plan.addresses:
        known: set[NeedId] = {
            n.id for a in uow.all(Assessment, patient_id=str(plan.patient_id)) for n in a.needs
        }
        missing = [n for n in plan.addresses if n not in known]
        if missing:
            raise NotFoundError(f"need {missing[0]} is not in this patient's assessments")
    for item in plan.interventions:
        if item.assignee_id is not None:
            if uow.find(StaffMember, item.assignee_id) is None:
                raise NotFoundError(f"assignee {item.assignee_id} is not registered")
            check_assignment(ctx, plan, item)  # competencies and duty, as for add/assign
    uow.add(plan)
    common = ctx.common(plan.patient_id)
    ctx.emit(ev.CarePlanCreated(**common, plan_id=str(plan.id)))
    if plan.status is CarePlanStatus.ACTIVE:
        for item in plan.interventions:
            if item.assignee_id is not None and item.is_open:
                ctx.emit(assigned(common, plan, item))
    return plan


@operation(AuditAction.READ)
def care_plan(ctx: Context, plan_id: CarePlanId) -> CarePlan:
    """Read a care plan."""
    return ctx.load(CarePlan, plan_id, Permission.READ)


@operation(AuditAction.READ)
def care_plans_of(ctx: Context, patient_id: PatientId) -> list[CarePlan]:
    """Every care plan of a patient."""
    ctx.allow(patient_id, Permission.READ, f"Patient/{patient_id}")
    return ctx.uow.all(CarePlan, patient_id=str(patient_id))


def _change(ctx: Context, plan_id: CarePlanId, permission: Permission, edit: Edit) -> CarePlan:
    """Read the plan, check ``permission``, apply ``edit`` and save (retried on a race)."""
    happened: list[ev.DomainEvent] = []

    def apply(old: CarePlan) -> CarePlan:
        plan, events = edit(old)
        happened.extend(events)
        return plan

    plan = update(ctx, CarePlan, plan_id, permission, apply)[1]
    ctx.emit(*happened)
    return plan


@operation(AuditAction.UPDATE)
def set_plan_status(
    ctx: Context, plan_id: CarePlanId, status: CarePlanStatus | str, reason: str | None = None
) -> CarePlan:
    """Move a plan to ``status`` (activate, hold, complete, revoke, ...).

    Activating a plan announces the assignments of its open interventions.
    """

    def edit(plan: CarePlan) -> tuple[CarePlan, list[ev.DomainEvent]]:
        new = plan.transition(status, by=ctx.actor_id, at=ctx.now, reason=reason)
        common = ctx.common(plan.patient_id)
        happened: list[ev.DomainEvent] = [
            ev.CarePlanStatusChanged(
                **common,
                plan_id=str(plan.id),
                from_status=plan.status.value,
                to_status=new.status.value,
            )
        ]
        if new.status is CarePlanStatus.ACTIVE and plan.status is not CarePlanStatus.ON_HOLD:
            happened.extend(
                assigned(common, new, i)
                for i in new.interventions
                if i.assignee_id is not None and i.is_open
            )
        return new, happened

    return _change(ctx, plan_id, Permission.EDIT_PLAN, edit)


@operation(AuditAction.UPDATE)
def add_goal(
    ctx: Context,
    plan_id: CarePlanId,
    goal: Goal,
    *,
    status: GoalLifecycleStatus | str | None = None,
) -> CarePlan:
    """Add a goal to a plan (its id must be new in the plan).

    ``status`` (for example ``"active"``) adds the goal and moves it from the
    lifecycle status it holds (``proposed`` by default) in the same
    operation; the move must be legal in the goal state machine and is kept
    in the goal's ``history``.
    """
    check(goal, Goal)

    def edit(plan: CarePlan) -> tuple[CarePlan, list[ev.DomainEvent]]:
        if any(g.id == goal.id for g in plan.goals):
            raise ValidationError(f"goal {goal.id} is already in plan {plan.id}")
        event = ev.GoalAdded(
            **ctx.common(plan.patient_id), plan_id=str(plan.id), goal_id=str(goal.id)
        )
        return plan.with_goal(started(ctx, goal, status)), [event]

    return _change(ctx, plan_id, Permission.EDIT_GOALS, edit)


@operation(AuditAction.UPDATE)
def set_goal_status(
    ctx: Context,
    plan_id: CarePlanId,
    goal_id: GoalId,
    status: GoalLifecycleStatus | str,
    reason: str | None = None,
) -> CarePlan:
    """Move a goal to lifecycle ``status`` (FHIR goal-status)."""

    def edit(plan: CarePlan) -> tuple[CarePlan, list[ev.DomainEvent]]:
        goal = plan.goal(goal_id)
        new_goal = goal.transition(status, by=ctx.actor_id, at=ctx.now, reason=reason)
        event = ev.GoalStatusChanged(
            **ctx.common(plan.patient_id),
            plan_id=str(plan.id),
            goal_id=str(goal.id),
            from_status=goal.lifecycle_status.value,
            to_status=new_goal.lifecycle_status.value,
        )
        return plan.with_goal(new_goal), [event]

    return _change(ctx, plan_id, Permission.EDIT_GOALS, edit)


@operation(AuditAction.UPDATE)
def revise_goal(
    ctx: Context,
    plan_id: CarePlanId,
    goal_id: GoalId,
    *,
    reason: GoalRevisionReason | str,
    description: str | None = None,
    targets: Iterable[Target] | None = None,
    reason_text: str | None = None,
    expected_version: int | None = None,
) -> CarePlan:
    """Revise a goal's description and/or targets, keeping the earlier ones in its history.

    See :meth:`~carecoord.Goal.revise`: the goal's ``revisions`` gain what it
    was (who, when, ``reason`` code, ``reason_text``); new targets re-derive
    its achievement status. A closed goal raises
    :class:`~carecoord.GoalClosedError`. Needs ``edit-goals``; emits
    :class:`~carecoord.events.GoalRevised`. With ``expected_version`` (the
    plan's version when the user saw the goal) a plan changed since raises
    :class:`~carecoord.ConflictError` instead of being revised on top.
    """
    wanted = None if targets is None else tuple(targets)
    for target in wanted or ():
        check(target, Target)

    def edit(plan: CarePlan) -> tuple[CarePlan, list[ev.DomainEvent]]:
        current = ctx.uow.version_of(CarePlan, plan.id)
        if expected_version is not None and expected_version != current:
            raise ConflictError("CarePlan", str(plan.id), expected_version)
        goal = plan.goal(goal_id)
        new_goal = goal.revise(
            by=ctx.actor_id,
            at=ctx.now,
            reason=reason,
            description=description,
            targets=wanted,
            reason_text=reason_text,
        )
        event = goal_revised(ctx, plan.patient_id, plan.id, goal, new_goal)
        return plan.with_goal(new_goal), [event]

    return _change(ctx, plan_id, Permission.EDIT_GOALS, edit)


@operation(AuditAction.UPDATE)
def record_progress(
    ctx: Context, plan_id: CarePlanId, goal_id: GoalId, reading: ProgressReading
) -> CarePlan:
    """Record a progress reading; the goal's achievement status is re-derived."""
    check(reading, ProgressReading)

    def edit(plan: CarePlan) -> tuple[CarePlan, list[ev.DomainEvent]]:
        goal = plan.goal(goal_id)
        new_goal = goal.with_reading(reading)
        common = ctx.common(plan.patient_id)
        happened: list[ev.DomainEvent] = [
            ev.ProgressRecorded(
                **common,
                plan_id=str(plan.id),
                goal_id=str(goal.id),
                achievement=str(new_goal.achievement_status),
            )
        ]
        if new_goal.achievement_status in _ACHIEVED and goal.achievement_status not in _ACHIEVED:
            happened.append(ev.GoalAchieved(**common, plan_id=str(plan.id), goal_id=str(goal.id)))
        return plan.with_goal(new_goal), happened

    return _change(ctx, plan_id, Permission.RECORD_PROGRESS, edit)


@operation(AuditAction.UPDATE)
def add_intervention(ctx: Context, plan_id: CarePlanId, intervention: Intervention) -> CarePlan:
    """Add an intervention to a plan; an assignee must be a registered staff member."""
    check(intervention, Intervention)

    def edit(plan: CarePlan) -> tuple[CarePlan, list[ev.DomainEvent]]:
        if any(i.id == intervention.id for i in plan.interventions):
            raise ValidationError(f"intervention {intervention.id} is already in plan {plan.id}")
        common = ctx.common(plan.patient_id)
        happened: list[ev.DomainEvent] = [
            ev.InterventionAdded(
                **common, plan_id=str(plan.id), intervention_id=str(intervention.id)
            )
        ]
        if intervention.assignee_id is not None:
            if ctx.uow.find(StaffMember, intervention.assignee_id) is None:
                raise NotFoundError(f"assignee {intervention.assignee_id} is not registered")
            check_assignment(ctx, plan, intervention)
            if plan.status is CarePlanStatus.ACTIVE and intervention.is_open:
                happened.append(assigned(common, plan, intervention))
        return plan.with_intervention(intervention), happened

    return _change(ctx, plan_id, Permission.EDIT_PLAN, edit)


@operation(AuditAction.UPDATE)
def assign_intervention(
    ctx: Context,
    plan_id: CarePlanId,
    intervention_id: InterventionId,
    assignee_id: StaffId,
) -> CarePlan:
    """Assign (or reassign) an open intervention."""

    def edit(plan: CarePlan) -> tuple[CarePlan, list[ev.DomainEvent]]:
        if ctx.uow.find(StaffMember, assignee_id) is None:
            raise NotFoundError(f"assignee {assignee_id} is not registered")
        item = plan.intervention(intervention_id).assign(assignee_id)
        check_assignment(ctx, plan, item)
        # As in add_intervention: a draft plan's work is announced when it is activated.
        announce = plan.status is CarePlanStatus.ACTIVE and item.is_open
        happened: list[ev.DomainEvent] = (
            [assigned(ctx.common(plan.patient_id), plan, item)] if announce else []
        )
        return plan.with_intervention(item), happened

    return _change(ctx, plan_id, Permission.EDIT_PLAN, edit)


@operation(AuditAction.UPDATE)
def set_intervention_status(
    ctx: Context,
    plan_id: CarePlanId,
    intervention_id: InterventionId,
    status: TaskStatus | str,
    reason: str | None = None,
) -> CarePlan:
    """Move an intervention through FHIR task-status.

    Completing a recurring intervention (one with a cadence) adds its next
    occurrence as a new ``ready`` intervention, due at the cadence's first
    occurrence after the later of the completed one's due time and now.
    """

    def edit(plan: CarePlan) -> tuple[CarePlan, list[ev.DomainEvent]]:
        item = plan.intervention(intervention_id)
        moved = item.transition(status, by=ctx.actor_id, at=ctx.now, reason=reason)
        common = ctx.common(plan.patient_id)
        happened: list[ev.DomainEvent] = [
            ev.InterventionStatusChanged(
                **common,
                plan_id=str(plan.id),
                intervention_id=str(item.id),
                from_status=item.status.value,
                to_status=moved.status.value,
            )
        ]
        new_plan = plan.with_intervention(moved)
        if moved.status is TaskStatus.COMPLETED and moved.cadence is not None:
            follow = Intervention(
                id=InterventionId.new(),
                kind=moved.kind,
                description=moved.description,
                created_at=ctx.now,
                assignee_id=moved.assignee_id,
                priority=moved.priority,
                due=moved.cadence.next_after(max(moved.due_at or ctx.now, ctx.now, key=instant)),
                cadence=moved.cadence,
                goal_ids=moved.goal_ids,
                barrier_ids=moved.barrier_ids,
            )
            new_plan = new_plan.with_intervention(follow)
            happened.append(
                ev.InterventionAdded(**common, plan_id=str(plan.id), intervention_id=str(follow.id))
            )
            if follow.assignee_id is not None:
                happened.append(assigned(common, plan, follow))
        return new_plan, happened

    return _change(ctx, plan_id, Permission.UPDATE_INTERVENTION, edit)


@operation(AuditAction.CREATE)
def record_review(ctx: Context, review: Review) -> Review:
    """Record a plan review.

    The plan's ``next_review_at`` moves to the review's; a review without a
    ``due_at`` gets the plan's previous ``next_review_at`` (for timeliness).
    Goals the review discontinues are cancelled with the review as reason;
    each goal's achievement status becomes the one the review concluded.
    """
    check(review, Review)
    uow = ctx.uow
    plan = ctx.load(CarePlan, review.plan_id, Permission.REVIEW_PLAN)
    ctx.entity = f"Review/{review.id}"
    if plan.patient_id != review.patient_id:
        raise ValidationError("the review's patient is not the plan's patient")
    if plan.status not in (CarePlanStatus.ACTIVE, CarePlanStatus.ON_HOLD):
        raise ValidationError(
            f"plan {plan.id} is {plan.status.value}; only active or on-hold plans are reviewed"
        )
    recorded = review
    if review.due_at is None and plan.next_review_at is not None:
        recorded = attrs.evolve(review, due_at=plan.next_review_at)
    for outcome in review.goal_outcomes:
        goal = plan.goal(outcome.goal_id)
        if outcome.decision is ReviewDecision.DISCONTINUE and goal.lifecycle_status not in (
            GoalLifecycleStatus.CANCELLED,
            GoalLifecycleStatus.COMPLETED,
        ):
            goal = goal.transition(
                GoalLifecycleStatus.CANCELLED,
                by=ctx.actor_id,
                at=review.reviewed_at,
                reason=f"discontinued at review {review.id}",
            )
        plan = plan.with_goal(attrs.evolve(goal, achievement_status=outcome.achievement))
    uow.save(attrs.evolve(plan, next_review_at=review.next_review_at))
    uow.add(recorded)
    ctx.emit(
        ev.ReviewRecorded(
            **ctx.common(plan.patient_id),
            plan_id=str(plan.id),
            review_id=str(review.id),
            next_review_at=review.next_review_at,
            on_time=recorded.on_time,
        )
    )
    return recorded


@operation(AuditAction.READ)
def reviews_of(ctx: Context, plan_id: CarePlanId) -> list[Review]:
    """Every review of a plan, oldest first."""
    plan = ctx.load(CarePlan, plan_id, Permission.READ)
    found = [
        r for r in ctx.uow.all(Review, patient_id=str(plan.patient_id)) if r.plan_id == plan_id
    ]
    return sorted(found, key=lambda r: r.reviewed_at)
