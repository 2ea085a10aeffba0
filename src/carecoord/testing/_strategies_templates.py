"""Strategies for the plan-template records: template versions with goals, interventions
(offsets, recurrences, competencies) and a review recurrence, and the template instances
of plans (import from :mod:`.strategies`)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from carecoord import (
    CarePlanId,
    CareTeamRole,
    GoalPriority,
    InterventionKind,
    PatientId,
    StaffId,
    TaskPriority,
)
from carecoord.model.cadence import CadenceUnit
from carecoord.model.templates import (
    GoalTemplate,
    InterventionTemplate,
    Offset,
    PlanTemplate,
    PlanTemplateId,
    Recurrence,
    TargetTemplate,
    TemplateInstance,
    TemplateKey,
    TemplateLink,
    TemplateMigration,
)
from carecoord.model.training import CompetencyId

from ._strategies_common import AWARE_DATETIMES, ZONES, codes, ids, optional, texts
from ._strategies_plans import quantities, ranges

__all__ = [
    "TEMPLATE_STRATEGIES",
    "offsets",
    "plan_templates",
    "recurrences",
    "template_instances",
]

_KEYS = st.lists(ids(TemplateKey), unique=True, max_size=3)


@st.composite
def offsets(draw: st.DrawFn) -> Offset:
    """An offset of up to 2 years and 400 days, at a local time or not."""
    at = draw(optional(st.times().map(lambda t: t.replace(tzinfo=None))))
    return Offset(draw(st.integers(0, 24)), draw(st.integers(0, 400)), at)


@st.composite
def recurrences(draw: st.DrawFn) -> Recurrence:
    """Every 1-12 units, starting one step after the anchor or at an offset."""
    return Recurrence(
        draw(st.integers(1, 12)), draw(st.sampled_from(CadenceUnit)), draw(optional(offsets()))
    )


@st.composite
def _target_templates(draw: st.DrawFn) -> TargetTemplate:
    within = draw(optional(offsets()))
    if draw(st.booleans()):
        return TargetTemplate(draw(texts()), quantity=draw(quantities()), within=within)
    return TargetTemplate(draw(texts()), range=draw(ranges()), within=within)


@st.composite
def plan_templates(draw: st.DrawFn) -> PlanTemplate:
    """A template version: up to three goals and three interventions linking them."""
    goal_keys = draw(_KEYS)
    goals = tuple(
        GoalTemplate(
            key,
            draw(texts(40)),
            draw(codes(GoalPriority)),
            tuple(draw(st.lists(_target_templates(), max_size=2))),
        )
        for key in goal_keys
    )
    items = []
    for key in draw(_KEYS):
        timing = draw(st.sampled_from(("due", "recurrence", "none")))
        items.append(
            InterventionTemplate(
                key,
                draw(codes(InterventionKind)),
                draw(texts(40)),
                draw(codes(CareTeamRole)),
                due=draw(offsets()) if timing == "due" else None,
                recurrence=draw(recurrences()) if timing == "recurrence" else None,
                priority=draw(codes(TaskPriority)),
                competency=draw(optional(ids(CompetencyId))),
                goal_keys=tuple(draw(st.lists(st.sampled_from(goal_keys), unique=True)))
                if goal_keys
                else (),
            )
        )
    return PlanTemplate(
        template_id=draw(ids(PlanTemplateId)),
        version=draw(st.integers(1, 50)),
        title=draw(texts(40)),
        goals=goals,
        interventions=tuple(items),
        review=draw(optional(recurrences())),
        description=draw(optional(texts(60))),
        saved_at=draw(optional(AWARE_DATETIMES)),
        saved_by=draw(optional(ids(StaffId))),
    )


def _links(draw: st.DrawFn) -> tuple[TemplateLink, ...]:
    keys = draw(_KEYS)
    items = draw(st.lists(ids(CarePlanId).map(str), unique=True, min_size=len(keys)))
    return tuple(TemplateLink(k, i) for k, i in zip(keys, items, strict=False))


@st.composite
def template_instances(draw: st.DrawFn) -> TemplateInstance:
    """A plan's template instance, anchored in one of the test zones."""
    anchor = draw(AWARE_DATETIMES).replace(tzinfo=draw(st.sampled_from(ZONES)))
    return TemplateInstance(
        plan_id=draw(ids(CarePlanId)),
        patient_id=draw(ids(PatientId)),
        template_id=draw(ids(PlanTemplateId)),
        version=draw(st.integers(1, 50)),
        anchor=anchor,
        goals=_links(draw),
        interventions=_links(draw),
        history=tuple(
            TemplateMigration(a, b, anchor, draw(ids(StaffId)))
            for a, b in draw(st.lists(st.tuples(st.integers(1, 9), st.integers(1, 9)), max_size=2))
        ),
    )


TEMPLATE_STRATEGIES: dict[type, SearchStrategy[Any]] = {
    PlanTemplate: plan_templates(),
    TemplateInstance: template_instances(),
}
"""The plan-template record kinds' strategies (part of ``ENTITY_STRATEGIES``)."""
