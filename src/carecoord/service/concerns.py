"""Health concerns and the patient's own goals: what is recorded outside any care plan.

A health concern (a problem, diagnosis or SDOH concern) is recorded like an
assessment's finding (``record-assessment``); a patient's goal is set and
followed like a plan's goal (``edit-goals``, readings with
``record-progress``). Reads need ``read`` on the patient. The needs,
barriers and health concerns a record links must be the patient's.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ..access import Permission
from ..model import (
    Assessment,
    Barrier,
    ConditionClinicalStatus,
    ConditionVerificationStatus,
    GoalId,
    GoalLifecycleStatus,
    GoalRevisionReason,
    HealthConcern,
    HealthConcernId,
    NeedId,
    NotFoundError,
    Patient,
    PatientGoal,
    PatientId,
    ProgressReading,
    Target,
)
from ..model.audit import AuditAction
from ..storage.uow import UnitOfWork
from ._util import check, goal_revised, update
from .runner import Context, operation

__all__ = [
    "health_concerns_of",
    "patient_goals_of",
    "record_health_concern",
    "record_patient_goal",
    "record_patient_goal_progress",
    "revise_patient_goal",
    "set_health_concern_status",
    "set_patient_goal_status",
]


def _known_needs(uow: UnitOfWork, patient_id: PatientId, wanted: Iterable[NeedId]) -> None:
    wanted = tuple(wanted)
    if not wanted:
        return
    known = {n.id for a in uow.all(Assessment, patient_id=str(patient_id)) for n in a.needs}
    for need_id in wanted:
        if need_id not in known:
            raise NotFoundError(f"need {need_id} is not in this patient's assessments")


def _owned(
    uow: UnitOfWork,
    cls: type[Barrier] | type[HealthConcern],
    ids: Iterable[str],
    patient_id: PatientId,
) -> None:
    for rid in ids:
        found = uow.find(cls, rid)
        if found is None or found.patient_id != patient_id:
            raise NotFoundError(f"{cls.__name__} {rid} is not one of this patient's")


@operation(AuditAction.CREATE)
def record_health_concern(ctx: Context, concern: HealthConcern) -> HealthConcern:
    """Record a health concern; the needs and barriers it links must be the patient's."""
    check(concern, HealthConcern)
    ctx.allow(concern.patient_id, Permission.RECORD_ASSESSMENT, f"HealthConcern/{concern.id}")
    ctx.uow.get(Patient, concern.patient_id)
    _known_needs(ctx.uow, concern.patient_id, concern.need_ids)
    _owned(ctx.uow, Barrier, concern.barrier_ids, concern.patient_id)
    ctx.uow.add(concern)
    return concern


@operation(AuditAction.UPDATE)
def set_health_concern_status(
    ctx: Context,
    concern_id: HealthConcernId,
    clinical_status: ConditionClinicalStatus | str | None,
    verification_status: ConditionVerificationStatus | str | None = None,
    abated_at: datetime | None = None,
) -> HealthConcern:
    """Change a concern's clinical status (and its verification status, when given).

    ``None`` as ``verification_status`` keeps the one recorded. The FHIR rules
    apply (see :meth:`~carecoord.HealthConcern.with_status`): a concern
    entered in error has no clinical status, an abated one is inactive, in
    remission or resolved (``abated_at`` says when it abated).
    """

    def edit(old: HealthConcern) -> HealthConcern:
        if verification_status is None:
            return old.with_status(clinical_status, abated_at=abated_at)
        return old.with_status(
            clinical_status, verification_status=verification_status, abated_at=abated_at
        )

    return update(ctx, HealthConcern, concern_id, Permission.RECORD_ASSESSMENT, edit)[1]


@operation(AuditAction.READ)
def health_concerns_of(ctx: Context, patient_id: PatientId) -> list[HealthConcern]:
    """Every health concern of a patient, active ones first, then by id."""
    ctx.allow(patient_id, Permission.READ, f"Patient/{patient_id}")
    found = ctx.uow.all(HealthConcern, patient_id=str(patient_id))
    return sorted(found, key=lambda c: (not c.is_active, str(c.id)))


@operation(AuditAction.CREATE)
def record_patient_goal(ctx: Context, goal: PatientGoal) -> PatientGoal:
    """Record a goal of the patient outside any care plan.

    The needs it addresses must come from the patient's assessments, the
    health concerns it addresses must be the patient's.
    """
    check(goal, PatientGoal)
    ctx.allow(goal.patient_id, Permission.EDIT_GOALS, f"PatientGoal/{goal.id}")
    ctx.uow.get(Patient, goal.patient_id)
    _known_needs(ctx.uow, goal.patient_id, goal.goal.addresses)
    _owned(ctx.uow, HealthConcern, goal.concern_ids, goal.patient_id)
    ctx.uow.add(goal)
    return goal


@operation(AuditAction.UPDATE)
def set_patient_goal_status(
    ctx: Context, goal_id: GoalId, status: GoalLifecycleStatus | str, reason: str | None = None
) -> PatientGoal:
    """Move a patient's goal to lifecycle ``status`` (FHIR goal-status)."""
    return update(
        ctx,
        PatientGoal,
        goal_id,
        Permission.EDIT_GOALS,
        lambda old: old.transition(status, by=ctx.actor_id, at=ctx.now, reason=reason),
    )[1]


@operation(AuditAction.UPDATE)
def record_patient_goal_progress(
    ctx: Context, goal_id: GoalId, reading: ProgressReading
) -> PatientGoal:
    """Record a reading towards a patient's goal; its achievement status is re-derived."""
    check(reading, ProgressReading)
    return update(
        ctx, PatientGoal, goal_id, Permission.RECORD_PROGRESS, lambda old: old.with_reading(reading)
    )[1]


@operation(AuditAction.UPDATE)
def revise_patient_goal(
    ctx: Context,
    goal_id: GoalId,
    *,
    reason: GoalRevisionReason | str,
    description: str | None = None,
    targets: Iterable[Target] | None = None,
    reason_text: str | None = None,
) -> PatientGoal:
    """Revise a patient's goal's description and/or targets (see :func:`.plans.revise_goal`).

    Needs ``edit-goals``; a closed goal raises :class:`~carecoord.GoalClosedError`;
    emits :class:`~carecoord.events.GoalRevised` (without a plan).
    """
    wanted = None if targets is None else tuple(targets)
    for target in wanted or ():
        check(target, Target)

    def edit(old: PatientGoal) -> PatientGoal:
        return old.revise(
            by=ctx.actor_id,
            at=ctx.now,
            reason=reason,
            description=description,
            targets=wanted,
            reason_text=reason_text,
        )

    old, new = update(ctx, PatientGoal, goal_id, Permission.EDIT_GOALS, edit)
    ctx.emit(goal_revised(ctx, new.patient_id, None, old.goal, new.goal))
    return new


@operation(AuditAction.READ)
def patient_goals_of(ctx: Context, patient_id: PatientId) -> list[PatientGoal]:
    """Every goal of a patient outside the care plans, by id."""
    ctx.allow(patient_id, Permission.READ, f"Patient/{patient_id}")
    return ctx.uow.all(PatientGoal, patient_id=str(patient_id))
