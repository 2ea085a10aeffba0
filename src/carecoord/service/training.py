"""Training use cases: the staffing policy, training records and sign-off, competencies.

The staffing policy (catalogue, requirements, onboarding checklists,
protocols, off-duty rule) is set by administrators and read by everyone.
Training is recorded by the trainee or their leads; it counts once a lead or
supervisor of the trainee (never the trainee) signs it off, until it expires.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from ..access import Permission, is_administrator
from ..model import (
    AccessDeniedError,
    CareTeamRole,
    ConflictError,
    NotFoundError,
    StaffId,
    ValidationError,
)
from ..model._base import ensure_aware, instant
from ..model.audit import AuditAction, PurposeOfUse
from ..model.training import (
    STAFFING_POLICY_ID,
    CompetencyId,
    StaffingPolicy,
    TrainingRecord,
    TrainingRecordId,
)
from ..storage.port import WorkQuery
from ..storage.uow import UnitOfWork
from ..workforce import CompetencyStanding, competency_standing
from . import _access
from ._staffing import credentials_of, manage_member, policy_of, registered
from ._util import check
from .runner import Context, operation

__all__ = [
    "competencies_of",
    "onboarding_needs",
    "record_training",
    "set_staffing_policy",
    "sign_off_training",
    "staffing_policy",
    "standings",
    "training_records_of",
]


@operation(AuditAction.UPDATE)
def set_staffing_policy(ctx: Context, policy: StaffingPolicy) -> StaffingPolicy:
    """Store the staffing policy (administrators: care coordinators and case managers).

    The first one has ``revision`` 0; a later one passes a copy read with
    :func:`staffing_policy` and raises :class:`~carecoord.ConflictError` when
    it is stale. Returns the stored copy with its new ``revision``.
    """
    check(policy, StaffingPolicy)
    ctx.allow_staff(Permission.MANAGE_STAFF, f"StaffingPolicy/{STAFFING_POLICY_ID}")
    if not is_administrator(ctx.actor):
        raise AccessDeniedError(f"{ctx.actor_id} may not set the staffing policy (administrators)")
    uow = ctx.uow
    current = uow.find(StaffingPolicy, STAFFING_POLICY_ID)
    stored = 0 if current is None else uow.version_of(StaffingPolicy, STAFFING_POLICY_ID)
    if policy.revision != stored:
        raise ConflictError("StaffingPolicy", str(STAFFING_POLICY_ID), policy.revision)
    if current is None:
        ctx.action = AuditAction.CREATE
        uow.add(policy)
    else:
        uow.save(policy, expected_version=stored)
    return attrs.evolve(policy, revision=stored + 1)


@operation(AuditAction.READ)
def staffing_policy(ctx: Context) -> StaffingPolicy:
    """The staffing policy (the default, empty one when none is stored); shared with all staff."""
    ctx.grant(PurposeOfUse.HOPERAT, entity=f"StaffingPolicy/{STAFFING_POLICY_ID}")
    return policy_of(ctx.uow)


@operation(AuditAction.CREATE)
def record_training(ctx: Context, record: TrainingRecord) -> TrainingRecord:
    """Record completed training (not signed off yet) in a catalogued competency.

    The trainee records their own; their leads and supervisors (or
    ``manage-staff``) record anyone's. Sign it off with :func:`sign_off_training`.
    """
    check(record, TrainingRecord)
    if record.is_signed_off:
        raise ValidationError("record training unsigned, then sign it off", field="signed_off_by")
    if record.staff_id == ctx.actor_id:
        ctx.grant(PurposeOfUse.HOPERAT, entity=f"StaffMember/{record.staff_id}")
    else:
        manage_member(ctx, record.staff_id)
    ctx.entity = f"TrainingRecord/{record.id}"
    registered(ctx.uow, record.staff_id)
    policy_of(ctx.uow).competency(record.competency_id)
    if instant(record.completed_at) > instant(ctx.now):
        raise ValidationError("training cannot be completed in the future", field="completed_at")
    ctx.uow.add(record)
    return record


@operation(AuditAction.UPDATE)
def sign_off_training(ctx: Context, record_id: TrainingRecordId) -> TrainingRecord:
    """Sign training off now: for the trainee's leads and supervisors (or ``manage-staff``),
    never the trainee. Its expiry follows from the catalogue's validity."""
    record = ctx.uow.find(TrainingRecord, record_id)
    if record is None:
        raise NotFoundError(f"training record {record_id} not found")
    if record.staff_id == ctx.actor_id:
        raise AccessDeniedError(f"{ctx.actor_id} may not sign off their own training")
    manage_member(ctx, record.staff_id)
    ctx.entity = f"TrainingRecord/{record.id}"
    competency = policy_of(ctx.uow).competency(record.competency_id)
    signed = record.signed_off(ctx.actor_id, ctx.now, competency)
    ctx.uow.save(signed)
    return signed


def standings(
    uow: UnitOfWork,
    staff_ids: list[StaffId],
    policy: StaffingPolicy,
    moment: datetime,
    *,
    roles: dict[StaffId, tuple[CompetencyId, ...]] | None = None,
) -> dict[StaffId, tuple[CompetencyStanding, ...]]:
    """Each member's standing in every catalogued competency they hold a record of, or that
    ``roles`` (their onboarding checklists) names, in catalogue order (from index rows)."""
    credentials = credentials_of(uow, staff_ids)
    found: dict[StaffId, tuple[CompetencyStanding, ...]] = {}
    for staff_id in staff_ids:
        held = {c.competency_id for c in credentials if c.staff_id == staff_id}
        needed = set((roles or {}).get(staff_id, ()))
        found[staff_id] = tuple(
            competency_standing(staff_id, entry, credentials, moment)
            for entry in policy.competencies
            if entry.id in held or entry.id in needed
        )
    return found


def onboarding_needs(
    member_roles: tuple[CareTeamRole, ...], policy: StaffingPolicy
) -> tuple[CompetencyId, ...]:
    """Every competency the onboarding checklists of ``member_roles`` name (in order, once)."""
    found: dict[CompetencyId, None] = {}
    for role in member_roles:
        found.update(dict.fromkeys(policy.checklist_for(role)))
    return tuple(found)


@operation(AuditAction.READ)
def competencies_of(
    ctx: Context, staff_id: StaffId, at: datetime | None = None
) -> tuple[CompetencyStanding, ...]:
    """Where ``staff_id`` stands at ``at`` (default now) in every competency they hold or
    their onboarding checklist names: for the member, their leads and supervisors, or
    ``manage-staff``."""
    _access.self_or_report(ctx, staff_id, Permission.MANAGE_STAFF)
    moment = ensure_aware(at, "at") if at is not None else ctx.now
    member = registered(ctx.uow, staff_id)
    policy = policy_of(ctx.uow)
    needs = {staff_id: onboarding_needs(member.roles, policy)}
    return standings(ctx.uow, [staff_id], policy, moment, roles=needs)[staff_id]


@operation(AuditAction.READ)
def training_records_of(ctx: Context, staff_id: StaffId) -> list[TrainingRecord]:
    """Every training record of ``staff_id``, oldest first (same access as
    :func:`competencies_of`)."""
    _access.self_or_report(ctx, staff_id, Permission.MANAGE_STAFF)
    query = WorkQuery(category="training", owner_ids=(str(staff_id),), open_only=False)
    found = [ctx.uow.get(TrainingRecord, hit.record_id) for hit in ctx.uow.query(query)]
    return sorted(found, key=lambda r: (instant(r.completed_at), r.id))
