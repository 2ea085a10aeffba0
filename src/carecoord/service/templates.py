"""Plan-template (care protocol) use cases: keep template versions, instantiate one for a
patient, preview and apply a migration to another version.

Templates are protocol data, not PHI: every active staff member may read them; saving a
version needs the staff-wide ``manage-staff`` permission (like the directory). A saved
version is immutable: saving different content under an existing version raises
:class:`~carecoord.ConflictError`, and a new version must be the next number.

Instantiating creates the plan through :func:`~carecoord.service.plans.create_care_plan`
(the same access, assignment checks, audit and events as a plan made by hand) and stores
its :class:`~carecoord.model.templates.TemplateInstance`. Assignment by role respects the
staffing policy: a role holder who is not current in the competencies the work needs
(the policy's for the kind, and the template's own), or who is off duty when it is due
under a policy that refuses that, is passed over, and the work goes to the team lead
(reported :class:`~carecoord.templates.Unassigned`; it is on the lead's own worklist).

A migration preview lists, per plan the actor may read, what moving it to another
version would change; plans of patients the actor may not read are only counted
(``hidden``). Applying one plan's migration is optimistic: given the preview's
``plan_version``, a plan changed since raises :class:`~carecoord.ConflictError`.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from .. import events as ev
from ..access import Permission
from ..model import (
    CarePlan,
    CarePlanId,
    CarePlanStatus,
    CareTeam,
    CareTeamId,
    CareTeamStatus,
    ConflictError,
    GoalId,
    InterventionId,
    NotFoundError,
    Patient,
    PatientId,
    StaffId,
    ValidationError,
)
from ..model._base import ensure_aware
from ..model.audit import AuditAction, PurposeOfUse
from ..model.templates import (
    InterventionTemplate,
    PlanTemplate,
    PlanTemplateId,
    TemplateInstance,
    template_record_id,
)
from ..model.training import CompetencyRequirement, OffDutyRule, StaffingPolicy
from ..storage.port import WorkQuery
from ..storage.uow import UnitOfWork
from ..templates import ChangeKind, Instantiation, Migration, MigrationPreview, Problem
from ..templates import instantiate as build_plan
from ..templates import migrate as migrate_plan
from . import _access, plans
from ._assignment import assignment_problem, check_assignment
from ._staffing import policy_of
from ._util import assigned, check
from .runner import Context, operation

__all__ = [
    "TemplateMigrationReport",
    "apply_template_migration",
    "instantiate_template",
    "plan_template",
    "preview_template_migration",
    "save_template",
]

TEMPLATE_CATEGORY = "plan-template"
"""The index category of a template version (as ``storage._template_rows`` writes it)."""
TEMPLATE_INSTANCE = "template-instance"
"""The index category of a plan's template instance."""
_RUNNING = frozenset({CarePlanStatus.DRAFT, CarePlanStatus.ACTIVE, CarePlanStatus.ON_HOLD})


@attrs.frozen
class TemplateMigrationReport:
    """The previews of moving the plans of template ``template_id`` to ``to_version``:
    one per running plan the actor may read and not on that version yet. ``hidden``
    counts the plans of patients the actor may not read (nothing else of them is
    shown), ``closed`` the completed or revoked plans left alone."""

    template_id: PlanTemplateId
    to_version: int
    previews: tuple[MigrationPreview, ...]
    hidden: int = 0
    closed: int = 0


def _latest(uow: UnitOfWork, template_id: PlanTemplateId | str) -> int:
    """The latest saved version of ``template_id`` (0: none), from its index rows."""
    hits = uow.query(
        WorkQuery(category=TEMPLATE_CATEGORY, owner_ids=(str(template_id),), open_only=False)
    )
    return max((hit.row.priority for hit in hits), default=0)


def _template(uow: UnitOfWork, template_id: PlanTemplateId, version: int | None) -> PlanTemplate:
    wanted = _latest(uow, template_id) if version is None else version
    found = uow.find(PlanTemplate, template_record_id(template_id, wanted)) if wanted else None
    if found is None:
        raise NotFoundError(f"plan template {template_id} version {version or 'latest'} not found")
    return found


def _policy_for(policy: StaffingPolicy, item: InterventionTemplate) -> StaffingPolicy | None:
    """``policy`` with the template's own competency added to the kind's requirement;
    ``None`` when that competency is no longer in the policy's catalogue."""
    needed = policy.required_for(item.kind)
    if item.competency is None or item.competency in needed:
        return policy
    if item.competency not in {c.id for c in policy.competencies}:
        return None
    others = tuple(r for r in policy.requirements if r.kind is not item.kind)
    requirement = CompetencyRequirement(item.kind, (*needed, item.competency))
    return attrs.evolve(policy, requirements=(*others, requirement))


def _problem(ctx: Context) -> Problem:
    """What stands against a staff member doing a template's work: the staffing checks
    of :func:`~carecoord.service._assignment.assignment_problem` (off duty only when the
    policy refuses that), with the template's competency added."""
    policy = policy_of(ctx.uow)
    duty = policy.off_duty is OffDutyRule.REFUSE

    def problem(staff_id: StaffId, item: InterventionTemplate, due: datetime | None) -> str:
        effective = _policy_for(policy, item)
        if effective is None:
            return "competency"
        found, _ = assignment_problem(
            ctx.uow, effective, item.kind, staff_id, due, ctx.now, duty=duty
        )
        return found

    return problem


def _team(uow: UnitOfWork, patient_id: PatientId, team_id: CareTeamId | None) -> CareTeam | None:
    """The care team work is assigned in: ``team_id`` (the patient's), else the patient's
    one active team (``None`` without one)."""
    if team_id is not None:
        team = uow.find(CareTeam, team_id)
        if team is None or team.patient_id != patient_id:
            raise NotFoundError(f"care team {team_id} of this patient not found")
        return team
    active = [
        t
        for t in uow.all(CareTeam, patient_id=str(patient_id))
        if t.status is CareTeamStatus.ACTIVE
    ]
    if len(active) > 1:
        raise ValidationError("the patient has several active care teams; name one (team_id)")
    return active[0] if active else None


@operation(AuditAction.UPDATE)
def save_template(ctx: Context, template: PlanTemplate) -> PlanTemplate:
    """Save a new template version (``manage-staff``): version 1 of a new template, or
    the next version of an existing one. Saving an existing version again with the same
    content returns the stored one; with other content raises ConflictError. A named
    competency must be in the staffing policy's catalogue (NotFoundError)."""
    check(template, PlanTemplate)
    ctx.allow_staff(Permission.MANAGE_STAFF, entity=f"PlanTemplate/{template.id}")
    uow = ctx.uow
    stored = uow.find(PlanTemplate, template.id)
    if stored is not None:
        if not stored.same_content(template):
            raise ConflictError("PlanTemplate", template.id, 0)
        ctx.action = AuditAction.READ
        return stored
    latest = _latest(uow, template.template_id)
    if template.version != latest + 1:
        raise ValidationError(
            f"the next version of plan template {template.template_id} is {latest + 1}",
            field="version",
        )
    policy = policy_of(uow)
    for item in template.interventions:
        if item.competency is not None:
            policy.competency(item.competency)
    saved = attrs.evolve(template, saved_at=ctx.now, saved_by=ctx.actor_id)
    ctx.action = AuditAction.CREATE
    uow.add(saved)
    return saved


@operation(AuditAction.READ)
def plan_template(
    ctx: Context, template_id: PlanTemplateId, version: int | None = None
) -> PlanTemplate:
    """A template version (the latest when ``version`` is ``None``); shared with every
    active staff member (protocol data, no patient data)."""
    ctx.grant(PurposeOfUse.HOPERAT, entity=f"PlanTemplate/{template_id}")
    return _template(ctx.uow, template_id, version)


@operation(AuditAction.CREATE)
def instantiate_template(
    ctx: Context,
    patient_id: PatientId,
    template_id: PlanTemplateId,
    version: int | None = None,
    at: datetime | None = None,
    plan_id: CarePlanId | None = None,
    team_id: CareTeamId | None = None,
    activate: bool = True,
) -> Instantiation:
    """Create ``patient_id``'s care plan from a template version (latest by default),
    anchored at ``at`` (default now) in the patient's time zone; see
    :func:`carecoord.templates.instantiate` and the module documentation."""
    plan_id = CarePlanId.new() if plan_id is None else CarePlanId(plan_id)
    ctx.allow(patient_id, Permission.EDIT_PLAN, f"CarePlan/{plan_id}")
    anchor = ctx.now if at is None else ensure_aware(at, "at")
    uow = ctx.uow
    template = _template(uow, template_id, version)
    patient = uow.get(Patient, patient_id)
    made = build_plan(
        template,
        plan_id=plan_id,
        patient_id=patient.id,
        author_id=ctx.actor_id,
        anchor=anchor,
        zone=patient.time_zone,
        now=ctx.now,
        team=_team(uow, patient.id, team_id),
        problem=_problem(ctx),
        activate=activate,
    )
    plans.create_care_plan(ctx, made.plan)
    uow.add(made.instance)
    return made


@operation(AuditAction.READ)
def preview_template_migration(
    ctx: Context,
    template_id: PlanTemplateId,
    to_version: int | None = None,
    patient_id: PatientId | None = None,
) -> TemplateMigrationReport:
    """What moving each running plan of ``template_id`` (of ``patient_id`` only, when
    given) to ``to_version`` (latest by default) would change. Plans are found from the
    ``template-instance`` rows; each plan is filtered by the actor's own READ right (the
    filter is the decision), the others are counted in ``hidden``."""
    ctx.grant(ctx.purpose, entity=f"PlanTemplate/{template_id}")
    uow = ctx.uow
    target = _template(uow, template_id, to_version)
    hits = uow.query(
        WorkQuery(
            category=TEMPLATE_INSTANCE,
            owner_ids=(str(template_id),),
            patient_ids=None if patient_id is None else (str(patient_id),),
            open_only=False,
        )
    )
    can_read = _access.readable(ctx)
    can_read.prefetch(hit.row.patient_id for hit in hits)
    previews, hidden, closed = [], 0, 0
    problem = _problem(ctx)
    for hit in hits:
        if hit.row.status == str(target.version):
            continue
        if not can_read(hit.row.patient_id or ""):
            hidden += 1
            continue
        plan = uow.get(CarePlan, hit.row.item_id)
        if plan.status not in _RUNNING:
            closed += 1
            continue
        instance = uow.get(TemplateInstance, hit.row.item_id)
        previews.append(_migration(ctx, plan, instance, target, problem).preview)
    return TemplateMigrationReport(template_id, target.version, tuple(previews), hidden, closed)


def _migration(
    ctx: Context, plan: CarePlan, instance: TemplateInstance, target: PlanTemplate, problem: Problem
) -> Migration:
    uow = ctx.uow
    old = _template(uow, instance.template_id, instance.version)
    return migrate_plan(
        plan,
        instance,
        old,
        target,
        team=_team(uow, plan.patient_id, None),
        now=ctx.now,
        by=ctx.actor_id,
        problem=problem,
        plan_version=uow.version_of(CarePlan, plan.id),
    )


@operation(AuditAction.UPDATE)
def apply_template_migration(
    ctx: Context,
    plan_id: CarePlanId,
    to_version: int | None = None,
    expected_version: int | None = None,
) -> Migration:
    """Move plan ``plan_id`` to template version ``to_version`` (latest by default), as
    its preview says. With ``expected_version`` (a preview's ``plan_version``) a plan
    changed since raises ConflictError; without it, the migration is computed on the
    plan as it is. Needs ``edit-plan`` (and ``edit-goals`` when goals change)."""
    plan = ctx.load(CarePlan, plan_id, Permission.EDIT_PLAN)
    uow = ctx.uow
    instance = uow.find(TemplateInstance, plan_id)
    if instance is None:
        raise NotFoundError(f"care plan {plan_id} was not made from a plan template")
    current = uow.version_of(CarePlan, plan_id)
    if expected_version is not None and expected_version != current:
        raise ConflictError("CarePlan", str(plan_id), expected_version)
    if plan.status not in _RUNNING:
        raise ValidationError(f"plan {plan_id} is {plan.status.value}; only running plans migrate")
    target = _template(uow, instance.template_id, to_version)
    done = _migration(ctx, plan, instance, target, _problem(ctx))
    if any(c.part == "goal" and c.change is not ChangeKind.KEPT for c in done.preview.changes):
        ctx.allow(plan.patient_id, Permission.EDIT_GOALS)
    _announce(ctx, plan, done)
    uow.save(done.plan)
    uow.save(done.instance)
    return done


def _announce(ctx: Context, before: CarePlan, done: Migration) -> None:
    """Check the new assignments and emit the events a hand edit would."""
    plan = done.plan
    common = ctx.common(plan.patient_id)
    old_items = {i.id: i for i in before.interventions}
    for change in done.preview.changes:
        if change.change is ChangeKind.KEPT:
            continue
        if change.part == "goal":
            if change.change is ChangeKind.ADDED:
                ctx.emit(ev.GoalAdded(**common, plan_id=str(plan.id), goal_id=change.item_id))
            elif change.change is ChangeKind.REMOVED:
                ctx.emit(
                    ev.GoalStatusChanged(
                        **common,
                        plan_id=str(plan.id),
                        goal_id=change.item_id,
                        from_status=before.goal(GoalId(change.item_id)).lifecycle_status.value,
                        to_status="cancelled",
                    )
                )
            continue
        item = plan.intervention(InterventionId(change.item_id))
        was = old_items.get(item.id)
        if change.change is ChangeKind.ADDED:
            ctx.emit(
                ev.InterventionAdded(**common, plan_id=str(plan.id), intervention_id=str(item.id))
            )
        elif change.change is ChangeKind.REMOVED and was is not None:
            ctx.emit(
                ev.InterventionStatusChanged(
                    **common,
                    plan_id=str(plan.id),
                    intervention_id=str(item.id),
                    from_status=was.status.value,
                    to_status=item.status.value,
                )
            )
        if (
            item.assignee_id is not None
            and item.is_open
            and (was is None or was.assignee_id != item.assignee_id)
        ):
            check_assignment(ctx, plan, item)
            if plan.status is CarePlanStatus.ACTIVE:
                ctx.emit(assigned(common, plan, item))
