"""Assessments and needs, interventions, care plans.

The goal types (:class:`Goal`, :class:`Target`, :class:`Quantity`,
:class:`Range`, :class:`ProgressReading`, :func:`derive_achievement`) live in
:mod:`carecoord.model.goals` and are re-exported here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

import attrs

from ._base import (
    AssessmentId,
    BarrierId,
    CarePlanId,
    FindingId,
    GoalId,
    InterventionId,
    NeedId,
    PatientId,
    StaffId,
    aware,
    ensure_aware,
    instant,
    of_type,
    optional,
    tuple_of,
    unique_ids,
)
from ._base import (
    text as _text,
)
from ._errors import NotFoundError, ValidationError
from .cadence import Cadence
from .codes import (
    AssessmentDomain,
    CarePlanIntent,
    CarePlanStatus,
    InterventionKind,
    NeedPriority,
    NeedStatus,
    TaskPriority,
    TaskStatus,
)
from .goals import Goal, ProgressReading, Quantity, Range, Target, derive_achievement
from .machine import CARE_PLAN_MACHINE, TASK_MACHINE, Transition
from .people import Period

__all__ = [
    "Assessment",
    "CarePlan",
    "Finding",
    "Goal",
    "Intervention",
    "Need",
    "ProgressReading",
    "Quantity",
    "Range",
    "Target",
    "derive_achievement",
]


# ----------------------------------------------------------------- assessment


@attrs.frozen
class Finding:
    """One observation made during an assessment, in one domain.

    ``code`` is an optional coded concept (for example a LOINC or SNOMED code,
    written ``system|code``); ``text`` is free text and PHI.
    """

    id: FindingId = attrs.field(validator=of_type(FindingId))
    domain: AssessmentDomain = attrs.field(validator=of_type(AssessmentDomain))
    text: str = attrs.field(validator=_text(max_len=4000), repr=False)
    code: str | None = attrs.field(default=None, validator=optional(_text(max_len=200)))


@attrs.frozen
class Need:
    """A need / problem / health concern identified by an assessment."""

    id: NeedId = attrs.field(validator=of_type(NeedId))
    domain: AssessmentDomain = attrs.field(validator=of_type(AssessmentDomain))
    description: str = attrs.field(validator=_text(max_len=2000), repr=False)
    priority: NeedPriority = attrs.field(validator=of_type(NeedPriority))
    status: NeedStatus = attrs.field(default=NeedStatus.ACTIVE, validator=of_type(NeedStatus))
    finding_ids: tuple[FindingId, ...] = attrs.field(
        default=(), validator=tuple_of(FindingId, unique=True)
    )
    code: str | None = attrs.field(default=None, validator=optional(_text(max_len=200)))


@attrs.frozen
class Assessment:
    """An assessment of a patient: findings by domain, and the needs they reveal."""

    id: AssessmentId = attrs.field(validator=of_type(AssessmentId))
    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    performed_by: StaffId = attrs.field(validator=of_type(StaffId))
    performed_at: datetime = attrs.field(validator=aware)
    findings: tuple[Finding, ...] = attrs.field(
        default=(), validator=[tuple_of(Finding), unique_ids]
    )
    needs: tuple[Need, ...] = attrs.field(default=(), validator=[tuple_of(Need), unique_ids])

    def __attrs_post_init__(self) -> None:
        known = {f.id for f in self.findings}
        for need in self.needs:
            if not set(need.finding_ids) <= known:
                raise ValidationError(
                    "Assessment.needs refer to findings the assessment does not hold",
                    field="needs",
                )

    @property
    def domains(self) -> frozenset[AssessmentDomain]:
        """The domains the findings cover."""
        return frozenset(f.domain for f in self.findings)

    def needs_by_priority(self) -> tuple[Need, ...]:
        """Needs, highest priority first (stable)."""
        order = list(NeedPriority)
        return tuple(sorted(self.needs, key=lambda n: order.index(n.priority)))


# -------------------------------------------------------------- interventions


@attrs.frozen
class Intervention:
    """A piece of work in a care plan (a FHIR Task).

    Status follows the FHIR task-status state machine (:data:`TASK_MACHINE`);
    every move is recorded in ``history`` with who, when and why. Work inside a
    team normally starts at ``ready``; work handed to another organisation goes
    through ``requested``/``received``/``accepted``.
    """

    id: InterventionId = attrs.field(validator=of_type(InterventionId))
    kind: InterventionKind = attrs.field(validator=of_type(InterventionKind))
    description: str = attrs.field(validator=_text(max_len=2000), repr=False)
    created_at: datetime = attrs.field(validator=aware)
    assignee_id: StaffId | None = attrs.field(default=None, validator=optional(of_type(StaffId)))
    priority: TaskPriority = attrs.field(
        default=TaskPriority.ROUTINE, validator=of_type(TaskPriority)
    )
    status: TaskStatus = attrs.field(default=TaskStatus.READY, validator=of_type(TaskStatus))
    due: datetime | None = attrs.field(default=None, validator=optional(aware))
    window: Period | None = attrs.field(default=None, validator=optional(of_type(Period)))
    cadence: Cadence | None = attrs.field(default=None, validator=optional(of_type(Cadence)))
    goal_ids: tuple[GoalId, ...] = attrs.field(default=(), validator=tuple_of(GoalId, unique=True))
    barrier_ids: tuple[BarrierId, ...] = attrs.field(
        default=(), validator=tuple_of(BarrierId, unique=True)
    )
    history: tuple[Transition[TaskStatus], ...] = attrs.field(
        default=(), validator=tuple_of(Transition)
    )

    def __attrs_post_init__(self) -> None:
        if self.due is not None and self.window is not None:
            raise ValidationError("Intervention has either a due time or a window", field="window")

    @property
    def due_at(self) -> datetime | None:
        """When the work is due: ``due``, or the end of ``window``."""
        if self.due is not None:
            return self.due
        return self.window.end if self.window is not None else None

    @property
    def is_open(self) -> bool:
        """Whether work remains (not completed, failed, cancelled, rejected or in error)."""
        return (
            not TASK_MACHINE.is_terminal(self.status)
            and self.status is not TaskStatus.ENTERED_IN_ERROR
        )

    def is_overdue(self, now: datetime) -> bool:
        """Open and past its due time at ``now``."""
        ensure_aware(now, "now")
        due = self.due_at
        return self.is_open and due is not None and instant(due) < instant(now)

    def transition(
        self, to: TaskStatus | str, *, by: StaffId, at: datetime, reason: str | None = None
    ) -> Self:
        """A copy moved to status ``to``; illegal moves raise InvalidTransitionError."""
        step = TASK_MACHINE.transition(self.status, to, by=by, at=at, reason=reason)
        return attrs.evolve(self, status=step.to_status, history=(*self.history, step))

    def assign(self, assignee_id: StaffId) -> Self:
        """A copy assigned to ``assignee_id`` (only while the work is open)."""
        if not self.is_open:
            raise ValidationError("a closed intervention cannot be reassigned", field="assignee_id")
        return attrs.evolve(self, assignee_id=StaffId(assignee_id))

    def next_occurrence(self, after: datetime) -> datetime | None:
        """For a recurring intervention, the next due time strictly after ``after``."""
        return self.cadence.next_after(after) if self.cadence is not None else None


# ------------------------------------------------------------------ care plan


@attrs.frozen
class CarePlan:
    """A patient's personalised care plan (FHIR CarePlan, request-status).

    Holds its goals and interventions; interventions may only link goals of the
    same plan, and goals may only address needs the plan addresses.
    ``next_review_at`` is when the plan is next due for review (see
    :class:`~carecoord.Review` and ``review_cadence``).
    """

    id: CarePlanId = attrs.field(validator=of_type(CarePlanId))
    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    author_id: StaffId = attrs.field(validator=of_type(StaffId))
    created_at: datetime = attrs.field(validator=aware)
    title: str = attrs.field(default="Care plan", validator=_text(max_len=200), repr=False)
    status: CarePlanStatus = attrs.field(
        default=CarePlanStatus.DRAFT, validator=of_type(CarePlanStatus)
    )
    intent: CarePlanIntent = attrs.field(
        default=CarePlanIntent.PLAN, validator=of_type(CarePlanIntent)
    )
    period: Period | None = attrs.field(default=None, validator=optional(of_type(Period)))
    addresses: tuple[NeedId, ...] = attrs.field(default=(), validator=tuple_of(NeedId, unique=True))
    goals: tuple[Goal, ...] = attrs.field(default=(), validator=[tuple_of(Goal), unique_ids])
    interventions: tuple[Intervention, ...] = attrs.field(
        default=(), validator=[tuple_of(Intervention), unique_ids]
    )
    review_cadence: Cadence | None = attrs.field(default=None, validator=optional(of_type(Cadence)))
    next_review_at: datetime | None = attrs.field(default=None, validator=optional(aware))
    history: tuple[Transition[CarePlanStatus], ...] = attrs.field(
        default=(), validator=tuple_of(Transition)
    )

    def __attrs_post_init__(self) -> None:
        needs = set(self.addresses)
        for goal in self.goals:
            if not set(goal.addresses) <= needs:
                raise ValidationError(
                    "CarePlan.goals address needs the plan does not address", field="goals"
                )
        goals = {g.id for g in self.goals}
        for item in self.interventions:
            if not set(item.goal_ids) <= goals:
                raise ValidationError(
                    "CarePlan.interventions link goals that are not in the plan",
                    field="interventions",
                )

    def goal(self, goal_id: GoalId) -> Goal:
        """The goal with ``goal_id`` or :class:`NotFoundError`."""
        for goal in self.goals:
            if goal.id == goal_id:
                return goal
        raise NotFoundError(f"goal {goal_id} not found in care plan {self.id}")

    def intervention(self, intervention_id: InterventionId) -> Intervention:
        """The intervention with ``intervention_id`` or :class:`NotFoundError`."""
        for item in self.interventions:
            if item.id == intervention_id:
                return item
        raise NotFoundError(f"intervention {intervention_id} not found in care plan {self.id}")

    def with_goal(self, goal: Goal) -> Self:
        """A copy with ``goal`` added, or replaced when its id is already present."""
        return attrs.evolve(self, goals=_upsert(self.goals, goal))

    def with_intervention(self, intervention: Intervention) -> Self:
        """A copy with ``intervention`` added, or replaced when its id is already present."""
        return attrs.evolve(self, interventions=_upsert(self.interventions, intervention))

    def addressing(self, *need_ids: NeedId) -> Self:
        """A copy that also addresses ``need_ids``."""
        merged = tuple(dict.fromkeys((*self.addresses, *need_ids)))
        return attrs.evolve(self, addresses=merged)

    def transition(
        self, to: CarePlanStatus | str, *, by: StaffId, at: datetime, reason: str | None = None
    ) -> Self:
        """A copy moved to status ``to`` (FHIR request-status), with the move recorded.

        Activating a plan with a review cadence and no ``next_review_at`` sets it
        to the cadence's first occurrence after ``at``.
        """
        step = CARE_PLAN_MACHINE.transition(self.status, to, by=by, at=at, reason=reason)
        changes: dict[str, Any] = {"status": step.to_status, "history": (*self.history, step)}
        if (
            step.to_status is CarePlanStatus.ACTIVE
            and self.review_cadence is not None
            and self.next_review_at is None
        ):
            changes["next_review_at"] = self.review_cadence.next_after(at)
        return attrs.evolve(self, **changes)

    def open_interventions(self) -> tuple[Intervention, ...]:
        """Interventions with work remaining."""
        return tuple(i for i in self.interventions if i.is_open)

    def _repr_html_(self) -> str:
        """PHI-safe HTML for notebooks: ids, codes, statuses and dates (no free text)."""
        from ._html import care_plan_html

        return care_plan_html(self)


_Item = Any


def _upsert(items: tuple[_Item, ...], item: _Item) -> tuple[_Item, ...]:
    for i, existing in enumerate(items):
        if existing.id == item.id:
            return (*items[:i], item, *items[i + 1 :])
    return (*items, item)
