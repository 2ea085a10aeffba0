"""Measurement rules: default action limits, flags, and the goal readings a measurement makes.

A measurement's value becomes a reading of a goal when the value's LOINC code
is one the goal target's ``measure`` names (:func:`~carecoord.model.measurements.target_codes`:
``loinc:<code>``, a bare code, or a documented alias such as ``hba1c``) and
its unit is the target's or converts to it by :data:`~carecoord.model.measurements.CATALOGUE`'s
linear factors (pounds to kilograms, mmol/L to mg/dL of glucose). A match
whose unit does not convert is reported as skipped, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from ..model import (
    GOAL_MACHINE,
    CarePlan,
    CarePlanId,
    CarePlanStatus,
    Goal,
    GoalLifecycleStatus,
    PatientGoal,
    ProgressReading,
)
from ..model.measurements import (
    CATALOGUE,
    LoincCode,
    MeasuredValue,
    Measurement,
    ReferenceRange,
    convert,
    target_codes,
)
from ._views import GoalReading, SkippedTarget

__all__ = ["default_range", "goal_readings", "with_defaults"]

_FEEDS = frozenset({CarePlanStatus.DRAFT, CarePlanStatus.ACTIVE, CarePlanStatus.ON_HOLD})
"""Plans whose goals take readings (not completed, revoked or in error)."""


def default_range(code: LoincCode, unit: str) -> ReferenceRange | None:
    """:data:`CATALOGUE`'s action limits of ``code`` in ``unit`` (``None``: none known)."""
    definition = CATALOGUE.get(code)
    if definition is None or definition.limits is None or definition.unit is None:
        return None
    limits = definition.limits
    low = None if limits.low is None else convert(code, limits.low, definition.unit, unit)
    high = None if limits.high is None else convert(code, limits.high, definition.unit, unit)
    if (limits.low is not None and low is None) or (limits.high is not None and high is None):
        return None
    return ReferenceRange(low=low, high=high)


def _part(part: MeasuredValue) -> MeasuredValue:
    if part.reference_range is not None:
        return part
    return attrs.evolve(part, reference_range=default_range(part.code, part.unit))


def with_defaults(measurement: Measurement) -> Measurement:
    """``measurement`` with the default limits where it has no range, every value flagged."""
    found = measurement
    if found.value is not None and found.unit is not None and found.reference_range is None:
        found = attrs.evolve(found, reference_range=default_range(found.code, found.unit))
    found = attrs.evolve(found, components=tuple(_part(c) for c in found.components))
    return found.interpreted()


def _pursued(status: GoalLifecycleStatus) -> bool:
    return (
        not GOAL_MACHINE.is_terminal(status) and status is not GoalLifecycleStatus.ENTERED_IN_ERROR
    )


def goal_readings(
    measurement: Measurement,
    plans: Iterable[CarePlan],
    patient_goals: Iterable[PatientGoal] = (),
) -> tuple[tuple[GoalReading, ...], tuple[SkippedTarget, ...]]:
    """The readings ``measurement`` makes for the goals of ``plans`` and the patient's own
    goals (``patient_goals``), and the matching targets it could not feed. One reading
    per target; goals of plans that are completed, revoked or in error, and goals no
    longer pursued, take none."""
    made: list[GoalReading] = []
    skipped: list[SkippedTarget] = []
    values = list(measurement.values())
    goals: list[tuple[CarePlanId | None, Goal]] = [
        (plan.id, goal)
        for plan in plans
        if plan.patient_id == measurement.patient_id and plan.status in _FEEDS
        for goal in plan.goals
    ]
    goals += [(None, g.goal) for g in patient_goals if g.patient_id == measurement.patient_id]
    for plan_id, goal in goals:
        if not _pursued(goal.lifecycle_status):
            continue
        for target in goal.targets:
            codes = target_codes(target.measure)
            matching = [v for v in values if v[0] in codes]
            if not matching:
                continue
            converted = [convert(code, value, unit, target.unit) for code, value, unit in matching]
            usable = [c for c in converted if c is not None]
            if not usable:
                skipped.append(SkippedTarget(plan_id, goal.id, target.measure, "unit"))
                continue
            reading = ProgressReading(
                measure=target.measure,
                value=usable[0],
                unit=target.unit,
                at=measurement.taken_at,
                recorded_by=measurement.taken_by,
            )
            made.append(GoalReading(plan_id, goal.id, reading))
    return tuple(made), tuple(skipped)
