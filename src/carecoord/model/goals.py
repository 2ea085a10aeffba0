"""Goals of a care plan: measurable targets, progress readings, derived achievement.

A :class:`Goal` holds its :class:`Target` s (a :class:`Quantity` or a
:class:`Range`, with a due date) and the :class:`ProgressReading` s recorded
towards them; :func:`derive_achievement` turns those into the FHIR
goal-achievement status. :meth:`Goal.revise` changes a goal's description or
targets and keeps what they were in a :class:`GoalRevision`. Re-exported by
:mod:`carecoord.model.plan`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Self

import attrs

from ._base import (
    GoalId,
    NeedId,
    StaffId,
    a_date,
    aware,
    finite,
    instant,
    of_type,
    optional,
    tuple_of,
)
from ._base import (
    text as _text,
)
from ._errors import GoalClosedError, ValidationError
from .codes import (
    Comparator,
    GoalAchievementStatus,
    GoalLifecycleStatus,
    GoalPriority,
)
from .machine import GOAL_MACHINE, Transition

__all__ = [
    "Goal",
    "GoalRevision",
    "GoalRevisionReason",
    "ProgressReading",
    "Quantity",
    "Range",
    "Target",
    "derive_achievement",
]


@attrs.frozen
class Quantity:
    """A measured amount with a unit (UCUM) and an optional comparator.

    As a target, ``Quantity(7.0, "%", Comparator.LT)`` means "below 7 %"; with no
    comparator the target is the exact value.
    """

    value: float = attrs.field(validator=finite)
    unit: str = attrs.field(validator=_text(max_len=50))
    comparator: Comparator | None = attrs.field(
        default=None, validator=optional(of_type(Comparator))
    )


@attrs.frozen
class Range:
    """An inclusive range; either bound may be open. Bounds share one unit."""

    low: float | None = attrs.field(default=None, validator=optional(finite))
    high: float | None = attrs.field(default=None, validator=optional(finite))
    unit: str = attrs.field(default="1", validator=_text(max_len=50))

    def __attrs_post_init__(self) -> None:
        if self.low is None and self.high is None:
            raise ValidationError("Range needs a low or a high bound", field="low")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValidationError("Range.low must not exceed Range.high", field="high")


@attrs.frozen
class Target:
    """A measurable target of a goal: a measure, exactly one of quantity or range, a due date."""

    measure: str = attrs.field(validator=_text(max_len=200))
    quantity: Quantity | None = attrs.field(default=None, validator=optional(of_type(Quantity)))
    range: Range | None = attrs.field(default=None, validator=optional(of_type(Range)))
    due: date | None = attrs.field(default=None, validator=optional(a_date))

    def __attrs_post_init__(self) -> None:
        if (self.quantity is None) == (self.range is None):
            raise ValidationError("Target needs exactly one of quantity or range", field="quantity")

    @property
    def unit(self) -> str:
        """The unit readings must be in."""
        return self.quantity.unit if self.quantity is not None else self.range.unit  # type: ignore[union-attr]

    def gap(self, value: float) -> float:
        """How far ``value`` is from meeting the target (0 when met or on a strict boundary)."""
        if self.range is not None:
            if self.range.low is not None and value < self.range.low:
                return self.range.low - value
            if self.range.high is not None and value > self.range.high:
                return value - self.range.high
            return 0.0
        q = self.quantity
        assert q is not None
        match q.comparator:
            case None:
                return abs(value - q.value)
            case Comparator.LT | Comparator.LE:
                return max(0.0, value - q.value)
            case Comparator.GT | Comparator.GE:
                return max(0.0, q.value - value)

    def is_met(self, value: float) -> bool:
        """Whether ``value`` meets the target (strict for ``<`` and ``>``)."""
        if self.quantity is not None:
            match self.quantity.comparator:
                case Comparator.LT:
                    return value < self.quantity.value
                case Comparator.GT:
                    return value > self.quantity.value
                case _:
                    pass
        return self.gap(value) == 0.0


@attrs.frozen
class ProgressReading:
    """One recorded measurement towards a goal's target."""

    measure: str = attrs.field(validator=_text(max_len=200))
    value: float = attrs.field(validator=finite)
    unit: str = attrs.field(validator=_text(max_len=50))
    at: datetime = attrs.field(validator=aware)
    recorded_by: StaffId = attrs.field(validator=of_type(StaffId))


def derive_achievement(
    targets: Iterable[Target], readings: Iterable[ProgressReading], as_of: date
) -> GoalAchievementStatus:
    """Derive a goal's FHIR achievement status from its readings. Pure.

    For each target, its readings (same measure and unit) are taken in time order:

    * no reading: ``in-progress`` (or ``not-achieved`` once the due date has passed);
    * the latest reading meets the target: ``achieved``, or ``sustaining`` when
      the reading before it met the target too;
    * otherwise, past the due date: ``not-achieved``;
    * otherwise the latest two readings are compared by their gap to the target:
      ``improving`` (smaller gap), ``worsening`` (larger) or ``no-change``;
      a single reading that misses gives ``in-progress``.

    Several targets combine to the worst: not-achieved, worsening, no-change,
    in-progress, improving, then achieved/sustaining (sustaining only if all sustain).
    """
    ts = tuple(targets)
    rs = tuple(readings)
    if not ts:
        return GoalAchievementStatus.IN_PROGRESS
    per_target = [_one_target(t, rs, as_of) for t in ts]
    worst_first = [
        GoalAchievementStatus.NOT_ACHIEVED,
        GoalAchievementStatus.WORSENING,
        GoalAchievementStatus.NO_CHANGE,
        GoalAchievementStatus.IN_PROGRESS,
        GoalAchievementStatus.IMPROVING,
        GoalAchievementStatus.ACHIEVED,
        GoalAchievementStatus.SUSTAINING,
    ]
    return min(per_target, key=worst_first.index)


def _one_target(
    target: Target, readings: tuple[ProgressReading, ...], as_of: date
) -> GoalAchievementStatus:
    mine = sorted(
        (r for r in readings if r.measure == target.measure and r.unit == target.unit),
        key=lambda r: instant(r.at),
    )
    overdue = target.due is not None and as_of > target.due
    if not mine:
        return GoalAchievementStatus.NOT_ACHIEVED if overdue else GoalAchievementStatus.IN_PROGRESS
    latest = mine[-1]
    if target.is_met(latest.value):
        if len(mine) > 1 and target.is_met(mine[-2].value):
            return GoalAchievementStatus.SUSTAINING
        return GoalAchievementStatus.ACHIEVED
    if overdue:
        return GoalAchievementStatus.NOT_ACHIEVED
    if len(mine) == 1:
        return GoalAchievementStatus.IN_PROGRESS
    before, now = target.gap(mine[-2].value), target.gap(latest.value)
    if now < before:
        return GoalAchievementStatus.IMPROVING
    if now > before:
        return GoalAchievementStatus.WORSENING
    return GoalAchievementStatus.NO_CHANGE


class GoalRevisionReason(StrEnum):
    """Why a goal's description or targets were revised (code system ``goal-revision-reason``)."""

    PATIENT_PREFERENCE = "patient-preference"
    """The patient asked for a different goal or target."""
    CLINICAL_CHANGE = "clinical-change"
    """The patient's condition or circumstances changed."""
    TARGET_UNREALISTIC = "target-unrealistic"
    """The target proved out of reach in the time given."""
    TARGET_REACHED = "target-reached"
    """The target was reached early and a further one set."""
    CLARIFICATION = "clarification"
    """The wording was made clearer; the goal means what it meant."""
    CORRECTION = "correction"
    """What was recorded was wrong."""
    OTHER = "other"
    """Another reason (say which in the revision's ``reason_text``)."""


@attrs.frozen
class GoalRevision:
    """One revision of a goal: what its description and targets were before it, who
    revised them, when and why.

    ``previous_description`` and ``reason_text`` are free text and PHI: kept out of
    ``repr``. The goal's current description and targets are on the goal itself;
    its ``revisions`` list the earlier ones, oldest first.
    """

    revised_at: datetime = attrs.field(validator=aware)
    revised_by: StaffId = attrs.field(validator=of_type(StaffId))
    reason: GoalRevisionReason = attrs.field(validator=of_type(GoalRevisionReason))
    previous_description: str = attrs.field(validator=_text(max_len=2000), repr=False)
    previous_targets: tuple[Target, ...] = attrs.field(default=(), validator=tuple_of(Target))
    reason_text: str | None = attrs.field(
        default=None, validator=optional(_text(max_len=2000)), repr=False
    )


def _reason(value: Any) -> GoalRevisionReason:
    try:
        return GoalRevisionReason(value)
    except ValueError:
        raise ValidationError("unknown goal revision reason code", field="reason") from None


@attrs.frozen
class Goal:
    """A goal of a care plan.

    ``lifecycle_status`` (FHIR goal-status) and ``achievement_status`` (FHIR
    goal-achievement) are kept apart: the first says whether the goal is being
    pursued, the second how it is going (see :func:`derive_achievement`).
    ``description`` is free text and PHI. ``revisions`` keep the earlier
    descriptions and targets, oldest first (see :meth:`revise`).
    """

    id: GoalId = attrs.field(validator=of_type(GoalId))
    description: str = attrs.field(validator=_text(max_len=2000), repr=False)
    priority: GoalPriority = attrs.field(
        default=GoalPriority.MEDIUM, validator=of_type(GoalPriority)
    )
    lifecycle_status: GoalLifecycleStatus = attrs.field(
        default=GoalLifecycleStatus.PROPOSED, validator=of_type(GoalLifecycleStatus)
    )
    achievement_status: GoalAchievementStatus | None = attrs.field(
        default=None, validator=optional(of_type(GoalAchievementStatus))
    )
    targets: tuple[Target, ...] = attrs.field(default=(), validator=tuple_of(Target))
    readings: tuple[ProgressReading, ...] = attrs.field(
        default=(), validator=tuple_of(ProgressReading)
    )
    addresses: tuple[NeedId, ...] = attrs.field(default=(), validator=tuple_of(NeedId, unique=True))
    start: date | None = attrs.field(default=None, validator=optional(a_date))
    history: tuple[Transition[GoalLifecycleStatus], ...] = attrs.field(
        default=(), validator=tuple_of(Transition)
    )
    revisions: tuple[GoalRevision, ...] = attrs.field(default=(), validator=tuple_of(GoalRevision))

    @property
    def is_closed(self) -> bool:
        """Whether the goal is completed, cancelled, rejected or entered in error."""
        return GOAL_MACHINE.is_terminal(self.lifecycle_status)

    def revise(
        self,
        *,
        by: StaffId,
        at: datetime,
        reason: GoalRevisionReason | str,
        description: str | None = None,
        targets: Iterable[Target] | None = None,
        reason_text: str | None = None,
    ) -> Self:
        """A copy with a new ``description`` and/or new ``targets`` (``None`` keeps one).

        The description and targets it had are kept in a :class:`GoalRevision`
        appended to ``revisions`` (who, when, ``reason`` code, optional
        ``reason_text``). New targets re-derive the achievement status on
        ``at``'s date from the readings recorded so far (readings of a measure
        or unit no target has any more stay in ``readings`` and no longer
        count). A closed goal (see :attr:`is_closed`) raises
        :class:`~carecoord.GoalClosedError`; a revision that changes nothing
        raises :class:`ValidationError`.
        """
        if self.is_closed:
            raise GoalClosedError(str(self.id), self.lifecycle_status.value)
        code = _reason(reason)
        new_description = self.description if description is None else description
        new_targets = self.targets if targets is None else tuple(targets)
        if new_description == self.description and new_targets == self.targets:
            raise ValidationError(
                "a goal revision must change the description or the targets", field="description"
            )
        revision = GoalRevision(
            revised_at=at,
            revised_by=by,
            reason=code,
            previous_description=self.description,
            previous_targets=self.targets,
            reason_text=reason_text,
        )
        revised = attrs.evolve(  # validates the new description and targets
            self,
            description=new_description,
            targets=new_targets,
            revisions=(*self.revisions, revision),
        )
        if new_targets == self.targets:
            return revised
        status = derive_achievement(new_targets, self.readings, at.date())
        return attrs.evolve(revised, achievement_status=status)

    def with_reading(self, reading: ProgressReading) -> Self:
        """A copy with ``reading`` recorded and the achievement status re-derived.

        The reading's measure must be one of the goal's targets and its unit must
        match that target's unit.
        """
        if not isinstance(reading, ProgressReading):
            raise ValidationError("reading must be a ProgressReading")
        units = {t.measure: t.unit for t in self.targets}
        if reading.measure not in units:
            raise ValidationError("reading's measure is not one of the goal's targets")
        if units[reading.measure] != reading.unit:
            raise ValidationError("reading's unit does not match the target's unit", field="unit")
        readings = (*self.readings, reading)
        status = derive_achievement(self.targets, readings, reading.at.date())
        return attrs.evolve(self, readings=readings, achievement_status=status)

    def derived_achievement(self, as_of: date) -> GoalAchievementStatus:
        """The achievement status :func:`derive_achievement` gives on ``as_of``."""
        return derive_achievement(self.targets, self.readings, as_of)

    def transition(
        self,
        to: GoalLifecycleStatus | str,
        *,
        by: StaffId,
        at: datetime,
        reason: str | None = None,
    ) -> Self:
        """A copy moved to lifecycle status ``to``, with the move recorded."""
        step = GOAL_MACHINE.transition(self.lifecycle_status, to, by=by, at=at, reason=reason)
        return attrs.evolve(self, lifecycle_status=step.to_status, history=(*self.history, step))

    @property
    def due(self) -> date | None:
        """The latest target due date, if any."""
        dues = [t.due for t in self.targets if t.due is not None]
        return max(dues) if dues else None
