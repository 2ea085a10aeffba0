"""Plan templates (care protocols): versioned blueprints of care plans.

A :class:`PlanTemplate` is one *version* of a protocol (``template_id`` and an integer
``version``): its :class:`GoalTemplate` s (targets relative to the moment the plan is
instantiated, "HbA1c < 7.5 % within 6 months"), its :class:`InterventionTemplate` s
(kind, the :class:`~carecoord.CareTeamRole` that does the work, when it is due, priority,
the competency it needs) and a review :class:`Recurrence`. A changed protocol is a new
version, a new immutable record; older versions stay readable.

Times are relative to an *anchor*, the instantiation moment in the patient's IANA zone:
an :class:`Offset` moves it on the local calendar (months clamped to month ends, Jan 31
+ 1 month is Feb 28; wall-clock times kept across daylight-saving changes, by the DST
rule of :mod:`carecoord.model.cadence`), a :class:`Recurrence` becomes a
:class:`~carecoord.model.cadence.Cadence` anchored there.

A :class:`TemplateInstance` records which template version a care plan came from and
which goal and intervention each template key became (a separate small record: the
:class:`~carecoord.CarePlan` itself is unchanged). Descriptions and titles are free text
and kept out of ``repr``. Pure: no I/O.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from ._base import (
    CarePlanId,
    EntityId,
    GoalId,
    InterventionId,
    PatientId,
    StaffId,
    a_time,
    aware,
    non_negative_int,
    of_type,
    optional,
    positive_int,
    text,
    tuple_of,
    zone_of,
)
from ._errors import NotFoundError, ValidationError
from .cadence import Cadence, CadenceUnit, _add_months, localize
from .codes import CareTeamRole, GoalPriority, InterventionKind, TaskPriority
from .goals import Quantity, Range, Target
from .training import CompetencyId

__all__ = [
    "GoalTemplate",
    "InterventionTemplate",
    "Offset",
    "PlanTemplate",
    "PlanTemplateId",
    "Recurrence",
    "TargetTemplate",
    "TemplateInstance",
    "TemplateKey",
    "TemplateLink",
    "TemplateMigration",
    "template_record_id",
]

MAX_MONTHS = 1200
"""An :class:`Offset` reaches at most this many months (100 years) ahead."""
MAX_DAYS = 36_600
"""An :class:`Offset` reaches at most this many days ahead."""
MAX_VERSION = 999_999
"""The highest template version."""


class PlanTemplateId(EntityId):
    """Identifier of a plan template (the same for every version of it)."""

    __slots__ = ()


class TemplateKey(EntityId):
    """The stable key of a goal or intervention within a template, kept across versions
    (``hba1c``, ``foot-exam``): a migration matches old and new items by it."""

    __slots__ = ()


def template_record_id(template_id: PlanTemplateId | str, version: int) -> str:
    """The stored record id of one template version: ``<template id>@<version>``,
    the version zero-padded so ids sort in version order."""
    return f"{template_id}@{version:06d}"


def _bounded(limit: int) -> Any:
    def check(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
        non_negative_int(inst, attr, value)
        if value > limit:
            raise ValidationError(
                f"{type(inst).__name__}.{attr.name} must be at most {limit}", field=attr.name
            )

    return check


def _local(anchor: datetime) -> tuple[datetime, ZoneInfo]:
    """``anchor`` as a wall time in its own IANA zone, and the zone."""
    zone = zone_of(anchor, "anchor")
    return anchor.astimezone(zone), zone


@attrs.frozen
class Offset:
    """How long after the anchor: ``months`` calendar months, then ``days`` days, on the
    anchor's local calendar; at the local time ``at`` (default: the anchor's time of day).

    ``Offset(months=1)`` from Jan 31 09:00 is Feb 28 09:00; ``Offset(days=1)`` from the
    day before a daylight-saving change keeps 09:00 local (23 or 25 hours later). A wall
    time that does not exist or happens twice follows the DST rule of
    :mod:`carecoord.model.cadence`.
    """

    months: int = attrs.field(default=0, validator=_bounded(MAX_MONTHS))
    days: int = attrs.field(default=0, validator=_bounded(MAX_DAYS))
    at: time | None = attrs.field(default=None, validator=optional(a_time))

    def after(self, anchor: datetime) -> datetime:
        """The moment this offset names from ``anchor`` (aware, with an IANA zone), in
        the anchor's zone."""
        local, zone = _local(anchor)
        wall = _add_months(local.replace(tzinfo=None, fold=0), self.months)
        wall += timedelta(days=self.days)
        if self.at is not None:
            wall = datetime.combine(wall.date(), self.at)
        return localize(wall, zone)


def _to_unit(value: Any) -> CadenceUnit:
    try:
        return CadenceUnit(value)
    except ValueError:
        raise ValidationError("Recurrence.unit must be a CadenceUnit", field="unit") from None


@attrs.frozen
class Recurrence:
    """Every ``every`` ``unit`` (a :class:`~carecoord.model.cadence.Cadence` without its
    anchor). Anchored at instantiation, shifted by ``start`` when given: the first
    occurrence is then ``start`` after the anchor, else one step after it."""

    every: int = attrs.field(validator=positive_int)
    unit: CadenceUnit = attrs.field(converter=_to_unit)
    start: Offset | None = attrs.field(default=None, validator=optional(of_type(Offset)))

    def cadence(self, anchor: datetime) -> Cadence:
        """The cadence this recurrence follows from ``anchor`` (in the anchor's zone)."""
        local, _ = _local(anchor)
        first = self.start.after(local) if self.start is not None else local
        return Cadence(every=self.every, unit=self.unit, anchor=first)

    def first(self, anchor: datetime) -> datetime:
        """The first due time from ``anchor``: ``start`` after it, else one step after."""
        cadence = self.cadence(anchor)
        return cadence.occurrence(0 if self.start is not None else 1)


@attrs.frozen
class TargetTemplate:
    """A goal target relative to the anchor: ``measure`` with exactly one of ``quantity``
    or ``range`` (as in :class:`~carecoord.Target`), due ``within`` after the anchor."""

    measure: str = attrs.field(validator=text(max_len=200))
    quantity: Quantity | None = attrs.field(default=None, validator=optional(of_type(Quantity)))
    range: Range | None = attrs.field(default=None, validator=optional(of_type(Range)))
    within: Offset | None = attrs.field(default=None, validator=optional(of_type(Offset)))

    def __attrs_post_init__(self) -> None:
        if (self.quantity is None) == (self.range is None):
            raise ValidationError(
                "TargetTemplate needs exactly one of quantity or range", field="quantity"
            )

    def target(self, anchor: datetime) -> Target:
        """The :class:`~carecoord.Target` from ``anchor``: due on the local date
        ``within`` after it."""
        due = None if self.within is None else self.within.after(anchor).date()
        return Target(self.measure, self.quantity, self.range, due)


@attrs.frozen
class GoalTemplate:
    """A goal of a template; ``description`` is free text (kept out of ``repr``)."""

    key: TemplateKey = attrs.field(validator=of_type(TemplateKey))
    description: str = attrs.field(validator=text(max_len=2000), repr=False)
    priority: GoalPriority = attrs.field(
        default=GoalPriority.MEDIUM, validator=of_type(GoalPriority)
    )
    targets: tuple[TargetTemplate, ...] = attrs.field(
        default=(), validator=tuple_of(TargetTemplate)
    )


@attrs.frozen
class InterventionTemplate:
    """An intervention of a template: what (``kind``), who (the care-team ``role``),
    when (``due`` after the anchor, or a ``recurrence``; neither: no due time), how
    urgent, and the ``competency`` its assignee must be current in (on top of what the
    staffing policy requires for the kind). ``goal_keys`` link the template's goals.
    ``description`` is free text (kept out of ``repr``)."""

    key: TemplateKey = attrs.field(validator=of_type(TemplateKey))
    kind: InterventionKind = attrs.field(validator=of_type(InterventionKind))
    description: str = attrs.field(validator=text(max_len=2000), repr=False)
    role: CareTeamRole = attrs.field(validator=of_type(CareTeamRole))
    due: Offset | None = attrs.field(default=None, validator=optional(of_type(Offset)))
    recurrence: Recurrence | None = attrs.field(
        default=None, validator=optional(of_type(Recurrence))
    )
    priority: TaskPriority = attrs.field(
        default=TaskPriority.ROUTINE, validator=of_type(TaskPriority)
    )
    competency: CompetencyId | None = attrs.field(
        default=None, validator=optional(of_type(CompetencyId))
    )
    goal_keys: tuple[TemplateKey, ...] = attrs.field(
        default=(), validator=tuple_of(TemplateKey, unique=True)
    )

    def __attrs_post_init__(self) -> None:
        if self.due is not None and self.recurrence is not None:
            raise ValidationError(
                "InterventionTemplate has either a due offset or a recurrence", field="recurrence"
            )

    def due_from(self, anchor: datetime) -> datetime | None:
        """When the (first) work is due from ``anchor``."""
        if self.recurrence is not None:
            return self.recurrence.first(anchor)
        return None if self.due is None else self.due.after(anchor)


def _unique_keys(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    keys = [item.key for item in value]
    if len(set(keys)) != len(keys):
        raise ValidationError(f"PlanTemplate.{attr.name} repeats a key", field=attr.name)


@attrs.frozen
class PlanTemplate:
    """One version of a care protocol (see the module documentation).

    ``template_id`` names the protocol, ``version`` (1, 2, ...) this version of it; the
    stored record's :attr:`id` is :func:`template_record_id`. ``review`` is the plan's
    review cadence. ``saved_at`` and ``saved_by`` are set by the store when the version
    is saved. ``title`` and ``description`` are free text (kept out of ``repr``).
    """

    template_id: PlanTemplateId = attrs.field(validator=of_type(PlanTemplateId))
    version: int = attrs.field(validator=positive_int)
    title: str = attrs.field(validator=text(max_len=200), repr=False)
    goals: tuple[GoalTemplate, ...] = attrs.field(
        default=(), validator=[tuple_of(GoalTemplate), _unique_keys]
    )
    interventions: tuple[InterventionTemplate, ...] = attrs.field(
        default=(), validator=[tuple_of(InterventionTemplate), _unique_keys]
    )
    review: Recurrence | None = attrs.field(default=None, validator=optional(of_type(Recurrence)))
    description: str | None = attrs.field(
        default=None, validator=optional(text(max_len=4000)), repr=False
    )
    saved_at: datetime | None = attrs.field(default=None, validator=optional(aware))
    saved_by: StaffId | None = attrs.field(default=None, validator=optional(of_type(StaffId)))

    def __attrs_post_init__(self) -> None:
        if self.version > MAX_VERSION:
            raise ValidationError(
                f"PlanTemplate.version must be at most {MAX_VERSION}", field="version"
            )
        goals = {g.key for g in self.goals}
        for item in self.interventions:
            if not set(item.goal_keys) <= goals:
                raise ValidationError(
                    "PlanTemplate.interventions link goal keys the template does not hold",
                    field="interventions",
                )

    @property
    def id(self) -> str:
        """The stored record id (:func:`template_record_id`)."""
        return template_record_id(self.template_id, self.version)

    def goal(self, key: TemplateKey | str) -> GoalTemplate:
        """The goal template with ``key`` or :class:`NotFoundError`."""
        for goal in self.goals:
            if goal.key == key:
                return goal
        raise NotFoundError(f"goal key {key} not found in template {self.id}")

    def intervention(self, key: TemplateKey | str) -> InterventionTemplate:
        """The intervention template with ``key`` or :class:`NotFoundError`."""
        for item in self.interventions:
            if item.key == key:
                return item
        raise NotFoundError(f"intervention key {key} not found in template {self.id}")

    def same_content(self, other: PlanTemplate) -> bool:
        """Whether ``other`` holds the same protocol (``saved_at``/``saved_by`` aside)."""
        return attrs.evolve(self, saved_at=None, saved_by=None) == attrs.evolve(
            other, saved_at=None, saved_by=None
        )


@attrs.frozen
class TemplateLink:
    """Template ``key`` became the plan's goal or intervention ``item_id``."""

    key: TemplateKey = attrs.field(validator=of_type(TemplateKey))
    item_id: str = attrs.field(validator=text(max_len=64))


@attrs.frozen
class TemplateMigration:
    """A plan moved from template version ``from_version`` to ``to_version``."""

    from_version: int = attrs.field(validator=positive_int)
    to_version: int = attrs.field(validator=positive_int)
    at: datetime = attrs.field(validator=aware)
    by: StaffId = attrs.field(validator=of_type(StaffId))


def _anchor(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    aware(inst, attr, value)
    if not isinstance(value.tzinfo, ZoneInfo):
        raise ValidationError(
            "TemplateInstance.anchor must carry an IANA zone (zoneinfo.ZoneInfo)", field="anchor"
        )


def _unique_links(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    tuple_of(TemplateLink)(inst, attr, value)
    keys = [link.key for link in value]
    items = [link.item_id for link in value]
    if len(set(keys)) != len(keys) or len(set(items)) != len(items):
        raise ValidationError(
            f"TemplateInstance.{attr.name} links a key or an item twice", field=attr.name
        )


@attrs.frozen
class TemplateInstance:
    """Which template version care plan ``plan_id`` follows, from which ``anchor`` (the
    instantiation moment in the patient's zone), and which goal and intervention each
    template key became. One per plan; its record id is the plan's. ``history`` lists
    the migrations applied to it."""

    plan_id: CarePlanId = attrs.field(validator=of_type(CarePlanId))
    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    template_id: PlanTemplateId = attrs.field(validator=of_type(PlanTemplateId))
    version: int = attrs.field(validator=positive_int)
    anchor: datetime = attrs.field(validator=_anchor)
    goals: tuple[TemplateLink, ...] = attrs.field(default=(), validator=_unique_links)
    interventions: tuple[TemplateLink, ...] = attrs.field(default=(), validator=_unique_links)
    history: tuple[TemplateMigration, ...] = attrs.field(
        default=(), validator=tuple_of(TemplateMigration)
    )

    @property
    def id(self) -> CarePlanId:
        """The record id: the plan's."""
        return self.plan_id

    def goal_id(self, key: TemplateKey | str) -> GoalId | None:
        """The goal template ``key`` became, if any."""
        found = next((link.item_id for link in self.goals if link.key == key), None)
        return None if found is None else GoalId(found)

    def intervention_id(self, key: TemplateKey | str) -> InterventionId | None:
        """The intervention template ``key`` became, if any."""
        found = next((link.item_id for link in self.interventions if link.key == key), None)
        return None if found is None else InterventionId(found)
