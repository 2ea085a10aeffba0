"""Template migration: what moving a running plan to another template version changes.

Pure: imports only the model. :func:`migrate` matches the old and the new version's goals
and interventions by their stable keys, through the plan's
:class:`~carecoord.model.templates.TemplateInstance`:

* a key only in the new version is **added** (a new goal, or an intervention assigned by
  role at ``now``, its due time computed from the instance's anchor);
* a key only in the old version is **removed**: its open goal or open work is cancelled
  (with the reason "removed in template version N"), so its history stays;
* a key in both whose template differs is **changed**: the open goal or open work takes
  the new description, priority, targets, kind, due time (recomputed from the anchor),
  cadence and goal links, and a new assignee when the role or competency changed.

Completed (closed) work is never changed: it is reported **kept** with its status, and so
is started work (``in-progress``, ``on-hold``) that a removal cannot cancel. Recurring
work is followed through its occurrences: completing one adds the next with the same
cadence, and the open occurrence is the one changed (its due time the new cadence's
first occurrence at or after its creation).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import attrs

from ..model import (
    TASK_MACHINE,
    CarePlan,
    CarePlanId,
    CareTeam,
    Goal,
    GoalId,
    GoalLifecycleStatus,
    Intervention,
    InterventionId,
    PatientId,
    StaffId,
    TaskStatus,
    ValidationError,
)
from ..model.templates import (
    InterventionTemplate,
    PlanTemplate,
    PlanTemplateId,
    TemplateInstance,
    TemplateKey,
    TemplateLink,
    TemplateMigration,
)
from ._build import (
    Problem,
    Unassigned,
    build_goal,
    build_intervention,
    choose_assignee,
    derived_id,
    no_problem,
)

__all__ = ["ChangeKind", "Migration", "MigrationPreview", "TemplateChange", "migrate"]

_CLOSED_GOAL = frozenset(
    {
        GoalLifecycleStatus.COMPLETED,
        GoalLifecycleStatus.CANCELLED,
        GoalLifecycleStatus.REJECTED,
        GoalLifecycleStatus.ENTERED_IN_ERROR,
    }
)
_GOAL_FIELDS = ("description", "priority", "targets")
_ITEM_FIELDS = ("kind", "description", "role", "due", "recurrence", "priority", "competency")


class ChangeKind(StrEnum):
    """What a migration does to one goal or intervention."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    KEPT = "kept"


@attrs.frozen
class TemplateChange:
    """One line of a migration preview: the goal or intervention (``part``) of template
    ``key``, plan item ``item_id``, and what happens to it. ``fields`` names what changes
    (template field names, and ``goal_keys`` for goal links); ``reason`` says why work is
    kept (its status) or, for added work that no role holder could take, why
    (``no-holder``, ...). ``due_before``/``due_after`` show a moved due time.
    Identifiers, codes and times only: no free text."""

    part: str
    key: TemplateKey
    change: ChangeKind
    item_id: str
    fields: tuple[str, ...] = ()
    reason: str | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None


@attrs.frozen
class MigrationPreview:
    """What moving plan ``plan_id`` from ``from_version`` to ``to_version`` of template
    ``template_id`` would change. ``plan_version`` is the stored version of the plan the
    preview was computed on: applying it with that version fails with
    :class:`~carecoord.ConflictError` if the plan changed since."""

    plan_id: CarePlanId
    patient_id: PatientId
    template_id: PlanTemplateId
    from_version: int
    to_version: int
    plan_version: int
    changes: tuple[TemplateChange, ...]

    @property
    def has_changes(self) -> bool:
        """Whether applying it changes the plan (something added, removed or changed)."""
        return any(c.change is not ChangeKind.KEPT for c in self.changes)


@attrs.frozen
class Migration:
    """The migrated plan and instance, the preview, and added or reassigned work that
    went to the lead (or to nobody)."""

    plan: CarePlan
    instance: TemplateInstance
    preview: MigrationPreview
    unassigned: tuple[Unassigned, ...] = ()


def _differs(old: object, new: object, names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(n for n in names if getattr(old, n) != getattr(new, n))


def _occurrences(plan: CarePlan, item_id: str) -> list[Intervention]:
    """The intervention ``item_id`` and, when it recurs, its later occurrences (same kind
    and cadence: completing an occurrence adds the next as a copy of it)."""
    first = next((i for i in plan.interventions if i.id == item_id), None)
    if first is None:
        return []
    if first.cadence is None:
        return [first]
    return [
        i
        for i in plan.interventions
        if i.id == first.id or (i.cadence == first.cadence and i.kind is first.kind)
    ]


class _Run:
    """One migration's working state (the plan as it is being changed, the report)."""

    def __init__(
        self,
        plan: CarePlan,
        instance: TemplateInstance,
        new: PlanTemplate,
        team: CareTeam | None,
        now: datetime,
        by: StaffId,
        problem: Problem,
    ) -> None:
        self.plan, self.instance, self.new = plan, instance, new
        self.team, self.now, self.by, self.problem = team, now, by, problem
        self.anchor = instance.anchor
        self.changes: list[TemplateChange] = []
        self.unassigned: list[Unassigned] = []
        self.goal_links = {link.key: link.item_id for link in instance.goals}
        self.item_links = {link.key: link.item_id for link in instance.interventions}
        self.reason = f"removed in template version {new.version}"

    def note(
        self, part: str, key: TemplateKey, change: ChangeKind, item_id: str, **kw: object
    ) -> None:
        self.changes.append(TemplateChange(part, key, change, item_id, **kw))  # type: ignore[arg-type]

    # ------------------------------------------------------------------ goals
    def goals(self, old: PlanTemplate) -> None:
        new_keys = {g.key for g in self.new.goals}
        for tmpl in old.goals:
            goal = self._goal(tmpl.key)
            if goal is None:
                continue
            if tmpl.key not in new_keys:
                if goal.lifecycle_status in _CLOSED_GOAL:
                    self.note(
                        "goal",
                        tmpl.key,
                        ChangeKind.KEPT,
                        goal.id,
                        reason=goal.lifecycle_status.value,
                    )
                    continue
                moved = goal.transition(
                    GoalLifecycleStatus.CANCELLED, by=self.by, at=self.now, reason=self.reason
                )
                self.plan = self.plan.with_goal(moved)
                self.note("goal", tmpl.key, ChangeKind.REMOVED, goal.id)
                continue
            target = self.new.goal(tmpl.key)
            fields = _differs(tmpl, target, _GOAL_FIELDS)
            if not fields:
                continue
            if goal.lifecycle_status in _CLOSED_GOAL:
                self.note(
                    "goal",
                    tmpl.key,
                    ChangeKind.KEPT,
                    goal.id,
                    fields=fields,
                    reason=goal.lifecycle_status.value,
                )
                continue
            fresh = build_goal(target, goal.id, self.anchor, by=self.by, now=self.now)
            changed = attrs.evolve(
                goal, description=fresh.description, priority=fresh.priority, targets=fresh.targets
            )
            self.plan = self.plan.with_goal(changed)
            self.note("goal", tmpl.key, ChangeKind.CHANGED, goal.id, fields=fields)
        old_keys = {g.key for g in old.goals}
        for tmpl in self.new.goals:
            if tmpl.key in old_keys and self._goal(tmpl.key) is not None:
                continue
            goal_id = GoalId(derived_id(self.plan.id, "goal", tmpl.key, self.new.version))
            self.plan = self.plan.with_goal(
                build_goal(tmpl, goal_id, self.anchor, by=self.by, now=self.now)
            )
            self.goal_links[tmpl.key] = str(goal_id)
            self.note("goal", tmpl.key, ChangeKind.ADDED, goal_id)

    def _goal(self, key: TemplateKey) -> Goal | None:
        goal_id = self.goal_links.get(key)
        return next((g for g in self.plan.goals if g.id == goal_id), None)

    def _goal_ids(self, item: InterventionTemplate) -> tuple[GoalId, ...]:
        return tuple(GoalId(self.goal_links[k]) for k in item.goal_keys if k in self.goal_links)

    # ---------------------------------------------------------- interventions
    def interventions(self, old: PlanTemplate) -> None:
        new_keys = {i.key for i in self.new.interventions}
        for tmpl in old.interventions:
            found = _occurrences(self.plan, self.item_links.get(tmpl.key, ""))
            if not found:
                continue
            if tmpl.key not in new_keys:
                self._remove(tmpl.key, found)
            else:
                self._change(tmpl, self.new.intervention(tmpl.key), found)
        old_keys = {i.key for i in old.interventions}
        for tmpl in self.new.interventions:
            if tmpl.key in old_keys and _occurrences(self.plan, self.item_links.get(tmpl.key, "")):
                continue
            item_id = InterventionId(
                derived_id(self.plan.id, "intervention", tmpl.key, self.new.version)
            )
            due = tmpl.due_from(self.anchor)
            assignee, why = self._assignee(tmpl, item_id, due)
            item = build_intervention(
                tmpl,
                item_id,
                self.anchor,
                now=self.now,
                goal_ids=self._goal_ids(tmpl),
                assignee=assignee,
            )
            self.plan = self.plan.with_intervention(item)
            self.item_links[tmpl.key] = str(item_id)
            self.note(
                "intervention",
                tmpl.key,
                ChangeKind.ADDED,
                item_id,
                reason=why or None,
                due_after=item.due_at,
            )

    def _assignee(
        self, tmpl: InterventionTemplate, item_id: InterventionId, due: datetime | None
    ) -> tuple[StaffId | None, str]:
        assignee, why = choose_assignee(self.team, tmpl, due, self.now, self.problem)
        if why:
            self.unassigned.append(Unassigned(tmpl.key, item_id, tmpl.role, why, assignee))
        return assignee, why

    def _remove(self, key: TemplateKey, found: list[Intervention]) -> None:
        for item in found:
            if not item.is_open:
                if item.status is not TaskStatus.CANCELLED:
                    self.note(
                        "intervention", key, ChangeKind.KEPT, item.id, reason=item.status.value
                    )
                continue
            if not TASK_MACHINE.can(item.status, TaskStatus.CANCELLED):
                self.note("intervention", key, ChangeKind.KEPT, item.id, reason=item.status.value)
                continue
            moved = item.transition(
                TaskStatus.CANCELLED, by=self.by, at=self.now, reason=self.reason
            )
            self.plan = self.plan.with_intervention(moved)
            self.note("intervention", key, ChangeKind.REMOVED, item.id, due_before=item.due_at)

    def _change(
        self, old: InterventionTemplate, new: InterventionTemplate, found: list[Intervention]
    ) -> None:
        fields = _differs(old, new, _ITEM_FIELDS)
        if old.goal_keys != new.goal_keys:
            fields = (*fields, "goal_keys")
        if not fields:
            return
        original = self.item_links[old.key]
        for item in found:
            if not item.is_open:
                self.note(
                    "intervention",
                    old.key,
                    ChangeKind.KEPT,
                    item.id,
                    fields=fields,
                    reason=item.status.value,
                )
                continue
            due = self._due(new, item, first=item.id == original)
            recurrence = new.recurrence
            assignee, why = item.assignee_id, ""
            if "role" in fields or "competency" in fields or "kind" in fields:
                assignee, why = self._assignee(new, item.id, due)
            changed = attrs.evolve(
                item,
                kind=new.kind,
                description=new.description,
                priority=new.priority,
                due=due,
                window=None,
                cadence=None if recurrence is None else recurrence.cadence(self.anchor),
                goal_ids=self._goal_ids(new),
                assignee_id=assignee,
            )
            self.plan = self.plan.with_intervention(changed)
            moved = item.due_at != changed.due_at
            self.note(
                "intervention",
                old.key,
                ChangeKind.CHANGED,
                item.id,
                fields=fields,
                reason=why or None,
                due_before=item.due_at if moved else None,
                due_after=changed.due_at if moved else None,
            )

    def _due(
        self, new: InterventionTemplate, item: Intervention, *, first: bool
    ) -> datetime | None:
        if new.recurrence is None or first:
            return new.due_from(self.anchor)
        return new.recurrence.cadence(self.anchor).next_on_or_after(item.created_at)

    def instance_after(self, from_version: int) -> TemplateInstance:
        return attrs.evolve(
            self.instance,
            version=self.new.version,
            goals=tuple(TemplateLink(TemplateKey(k), v) for k, v in self.goal_links.items()),
            interventions=tuple(
                TemplateLink(TemplateKey(k), v) for k, v in self.item_links.items()
            ),
            history=(
                *self.instance.history,
                TemplateMigration(from_version, self.new.version, self.now, self.by),
            ),
        )


def migrate(
    plan: CarePlan,
    instance: TemplateInstance,
    old: PlanTemplate,
    new: PlanTemplate,
    *,
    team: CareTeam | None,
    now: datetime,
    by: StaffId,
    problem: Problem = no_problem,
    plan_version: int = 0,
) -> Migration:
    """Move ``plan`` (on ``old``, as ``instance`` records) to template version ``new``:
    the migrated plan and instance and the preview of the changes (see the module
    documentation). ``plan_version`` is the plan's stored version, kept in the preview."""
    if (
        plan.id != instance.plan_id
        or old.version != instance.version
        or not old.template_id == new.template_id == instance.template_id
    ):
        raise ValidationError("the plan, its template instance and the templates do not match")
    run = _Run(plan, instance, new, team, now, by, problem)
    run.goals(old)
    run.interventions(old)
    preview = MigrationPreview(
        plan_id=plan.id,
        patient_id=plan.patient_id,
        template_id=new.template_id,
        from_version=old.version,
        to_version=new.version,
        plan_version=plan_version,
        changes=tuple(run.changes),
    )
    return Migration(run.plan, run.instance_after(old.version), preview, tuple(run.unassigned))
