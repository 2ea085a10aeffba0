"""Plan-template rules: instantiate a template into a care plan, migrate a plan between
template versions.

Pure: imports only the model. The service layer (:mod:`carecoord.service.templates`)
reads the template, the patient's care team and the staffing data, and stores what these
rules return.

* :func:`instantiate` builds the patient's :class:`~carecoord.CarePlan` and its
  :class:`~carecoord.model.templates.TemplateInstance` from one template version at an
  anchor moment in the patient's IANA zone: goal targets and intervention due times are
  computed on that zone's calendar (month ends clamp, wall-clock times hold across
  daylight-saving changes), recurring work gets a cadence anchored there.
* :func:`choose_assignee` gives each intervention to the member of the care team who
  holds its role at the anchor (or now, when the anchor is past): the lead first when
  the lead holds it, then the earliest membership, then by staff id; and can do it.
  When nobody can, the work goes to the team's lead and is reported
  :class:`Unassigned` (if the lead cannot take it either, it has no assignee).
* :func:`migrate` (in :mod:`carecoord.templates._migration`) compares a plan on one
  version with another version and returns the per-plan preview and the migrated plan.

Goal and intervention ids are derived from the plan id, the template key and the
version (UUID 5), so a preview names the very ids its apply creates.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import attrs

from ..model import (
    CarePlan,
    CarePlanId,
    CarePlanStatus,
    CareTeam,
    GoalId,
    InterventionId,
    PatientId,
    Period,
    StaffId,
)
from ..model._base import ensure_aware, instant
from ..model.templates import PlanTemplate, TemplateInstance, TemplateLink
from ._build import (
    Problem,
    Unassigned,
    build_goal,
    build_intervention,
    choose_assignee,
    derived_id,
    no_problem,
    role_holders,
)
from ._migration import ChangeKind, Migration, MigrationPreview, TemplateChange, migrate

__all__ = [
    "ChangeKind",
    "Instantiation",
    "Migration",
    "MigrationPreview",
    "Problem",
    "TemplateChange",
    "Unassigned",
    "build_goal",
    "build_intervention",
    "choose_assignee",
    "derived_id",
    "instantiate",
    "migrate",
    "no_problem",
    "role_holders",
]


@attrs.frozen
class Instantiation:
    """What :func:`instantiate` made: the plan, its template instance, and the
    interventions that went to the lead (or to nobody) instead of a role holder."""

    plan: CarePlan
    instance: TemplateInstance
    unassigned: tuple[Unassigned, ...] = ()


def instantiate(
    template: PlanTemplate,
    *,
    plan_id: CarePlanId,
    patient_id: PatientId,
    author_id: StaffId,
    anchor: datetime,
    zone: str,
    now: datetime,
    team: CareTeam | None,
    problem: Problem = no_problem,
    activate: bool = True,
) -> Instantiation:
    """The care plan ``template`` gives patient ``patient_id`` from ``anchor`` (an aware
    moment, read in the patient's IANA ``zone``), created by ``author_id`` at ``now``.

    Goals start on the anchor's local date; an active plan (``activate``) has its goals
    active, its first review at the review recurrence's first occurrence, and each
    intervention assigned by :func:`choose_assignee` at the anchor, or at ``now`` for an
    anchor in the past (a backdated plan goes to the team as it is today).
    """
    ensure_aware(now, "now")
    local = ensure_aware(anchor, "anchor").astimezone(ZoneInfo(zone))
    staffed_at = max(local, now, key=instant)  # a backdated plan goes to today's team
    goal_links = tuple(
        TemplateLink(g.key, derived_id(plan_id, "goal", g.key, template.version))
        for g in template.goals
    )
    goal_ids = {link.key: GoalId(link.item_id) for link in goal_links}
    goals = tuple(
        build_goal(g, goal_ids[g.key], local, by=author_id, now=now, active=activate)
        for g in template.goals
    )
    interventions = []
    links = []
    unassigned = []
    for item in template.interventions:
        item_id = InterventionId(derived_id(plan_id, "intervention", item.key, template.version))
        due = item.due_from(local)
        assignee, reason = choose_assignee(team, item, due, staffed_at, problem)
        if reason:
            unassigned.append(Unassigned(item.key, item_id, item.role, reason, assignee))
        interventions.append(
            build_intervention(
                item,
                item_id,
                local,
                now=now,
                goal_ids=tuple(goal_ids[k] for k in item.goal_keys),
                assignee=assignee,
            )
        )
        links.append(TemplateLink(item.key, str(item_id)))
    review = template.review
    plan = CarePlan(
        id=plan_id,
        patient_id=patient_id,
        author_id=author_id,
        created_at=now,
        title=template.title,
        period=Period(start=local),
        goals=goals,
        interventions=tuple(interventions),
        review_cadence=None if review is None else review.cadence(local),
        next_review_at=None if review is None else review.first(local),
    )
    if activate:
        plan = plan.transition(CarePlanStatus.ACTIVE, by=author_id, at=now)
    instance = TemplateInstance(
        plan_id=plan_id,
        patient_id=patient_id,
        template_id=template.template_id,
        version=template.version,
        anchor=local,
        goals=goal_links,
        interventions=tuple(links),
    )
    return Instantiation(plan, instance, tuple(unassigned))
