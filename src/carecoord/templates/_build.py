"""Building blocks of the template rules: derived ids, assignment by role, goals and
interventions built from their templates. Pure: imports only the model."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import attrs

from ..model import (
    CarePlanId,
    CareTeam,
    CareTeamRole,
    Goal,
    GoalId,
    GoalLifecycleStatus,
    Intervention,
    InterventionId,
    StaffId,
)
from ..model._base import instant
from ..model.templates import GoalTemplate, InterventionTemplate, TemplateKey

__all__ = [
    "Problem",
    "Unassigned",
    "build_goal",
    "build_intervention",
    "choose_assignee",
    "derived_id",
    "no_problem",
    "role_holders",
]

Problem = Callable[[StaffId, InterventionTemplate, datetime | None], str]
"""``problem(staff_id, item, due)``: what stands against giving ``item`` (due at ``due``)
to ``staff_id`` (``"competency"``, ``"off-duty"``), or ``""`` when nothing does."""


def no_problem(staff_id: StaffId, item: InterventionTemplate, due: datetime | None) -> str:
    """The :data:`Problem` that finds none (no staffing data to check)."""
    return ""


@attrs.frozen
class Unassigned:
    """An intervention nobody in its ``role`` could take: ``reason`` is ``no-holder``
    (nobody holds the role), ``competency`` or ``off-duty`` (the holders cannot do it)
    or ``no-team`` (the patient has no active care team). ``given_to`` is the team lead
    who got it instead, ``None`` when the lead cannot take it either (then it has no
    assignee)."""

    key: TemplateKey
    intervention_id: InterventionId
    role: CareTeamRole
    reason: str
    given_to: StaffId | None


def derived_id(plan_id: CarePlanId | str, part: str, key: TemplateKey | str, version: int) -> str:
    """The id of the goal or intervention (``part``) ``key`` becomes in plan ``plan_id``
    at template ``version``: a stable UUID 5 (hex), the same in a preview and its apply."""
    import uuid  # on first use: uuid is not needed to import carecoord

    return uuid.uuid5(uuid.NAMESPACE_URL, f"carecoord:{plan_id}/{part}/{key}/{version}").hex


def role_holders(team: CareTeam | None, role: CareTeamRole, moment: datetime) -> list[StaffId]:
    """The members of ``team`` holding ``role`` at ``moment``: the lead first, then by
    membership start, then by staff id."""
    if team is None:
        return []
    found = sorted(
        (m for m in team.active_members(moment) if m.role is role),
        key=lambda m: (m.staff_id != team.lead_id, instant(m.period.start), str(m.staff_id)),
    )
    return list(dict.fromkeys(m.staff_id for m in found))


def choose_assignee(
    team: CareTeam | None,
    item: InterventionTemplate,
    due: datetime | None,
    moment: datetime,
    problem: Problem = no_problem,
) -> tuple[StaffId | None, str]:
    """Who does ``item`` (see the module documentation), and why it is not a role holder
    (``""`` when it is)."""
    if team is None:
        return None, "no-team"
    holders = role_holders(team, item.role, moment)
    reason = "no-holder"
    for staff_id in holders:
        found = problem(staff_id, item, due)
        if not found:
            return staff_id, ""
        if reason == "no-holder":
            reason = found
    lead = team.lead_id
    if lead not in holders and not problem(lead, item, due):
        return lead, reason
    return None, reason


def build_goal(
    template: GoalTemplate,
    goal_id: GoalId,
    anchor: datetime,
    *,
    by: StaffId,
    now: datetime,
    active: bool = True,
) -> Goal:
    """The goal ``template`` becomes from ``anchor`` (local); ``active`` moves it from
    ``proposed`` to ``active`` at ``now`` (by ``by``, recorded in its history)."""
    goal = Goal(
        id=goal_id,
        description=template.description,
        priority=template.priority,
        targets=tuple(t.target(anchor) for t in template.targets),
        start=anchor.date(),
    )
    return goal.transition(GoalLifecycleStatus.ACTIVE, by=by, at=now) if active else goal


def build_intervention(
    template: InterventionTemplate,
    intervention_id: InterventionId,
    anchor: datetime,
    *,
    now: datetime,
    goal_ids: tuple[GoalId, ...],
    assignee: StaffId | None,
) -> Intervention:
    """The intervention ``template`` becomes from ``anchor`` (local), created ``now``."""
    recurrence = template.recurrence
    return Intervention(
        id=intervention_id,
        kind=template.kind,
        description=template.description,
        created_at=now,
        assignee_id=assignee,
        priority=template.priority,
        due=template.due_from(anchor),
        cadence=None if recurrence is None else recurrence.cadence(anchor),
        goal_ids=goal_ids,
    )
