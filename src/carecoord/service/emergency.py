"""Emergency access ("break the glass"): time-limited, reasoned, audited, announced."""

from __future__ import annotations

from datetime import timedelta

from .. import events as ev
from ..access import MAX_ACTIVE_EMERGENCY_GRANTS
from ..model import (
    AccessDeniedError,
    CareTeam,
    CareTeamStatus,
    Patient,
    PatientId,
    StaffId,
    ValidationError,
)
from ..model.access import EmergencyAccess
from ..model.audit import AuditAction, PurposeOfUse
from ..model.outbox import stable_id
from ..storage.port import WorkQuery
from .runner import Context, operation

__all__ = ["MAX_EMERGENCY_ACCESS", "break_glass", "review_emergency_access"]

MAX_EMERGENCY_ACCESS = timedelta(hours=24)
"""The longest an emergency grant may last."""


def _reviewer(ctx: Context, patient_id: PatientId) -> StaffId | None:
    """Who reviews the grant: the grantee's supervisor, else a lead of the patient's teams."""
    if ctx.actor.supervisor_id is not None:
        return ctx.actor.supervisor_id
    for team in ctx.uow.all(CareTeam, patient_id=str(patient_id)):
        if team.status in (CareTeamStatus.ACTIVE, CareTeamStatus.PROPOSED) and (
            team.lead_id != ctx.actor_id
        ):
            return team.lead_id
    return None


@operation(AuditAction.UPDATE)
def review_emergency_access(ctx: Context, grant_id: str) -> EmergencyAccess:
    """Mark an emergency grant reviewed; only its reviewer may (it leaves their worklist)."""
    grant = ctx.uow.find(EmergencyAccess, grant_id)
    entity = f"EmergencyAccess/{grant_id}"
    if grant is None or grant.reviewer_id != ctx.actor_id:
        raise AccessDeniedError(
            f"{ctx.actor_id} may not review {entity} (not found or not permitted)"
        )
    ctx.grant(PurposeOfUse.HOPERAT, entity=entity, patient_id=grant.patient_id)
    reviewed = grant.reviewed(ctx.actor_id, ctx.now)
    ctx.uow.save(reviewed)
    return reviewed


@operation(AuditAction.EXECUTE)
def break_glass(
    ctx: Context, patient_id: PatientId, reason: str, duration: timedelta = timedelta(hours=4)
) -> EmergencyAccess:
    """Grant the actor emergency access (purpose ETREAT) to a patient they do not care for.

    Any active staff member may break the glass; it needs a reason, lasts
    ``duration`` (at most 24 hours), lets the actor read and document, and
    every access under it is audited with purpose ETREAT; the patient's team
    leads are notified. One holds at most
    :data:`~carecoord.access.MAX_ACTIVE_EMERGENCY_GRANTS` unexpired grants, and
    each grant waits on the grantee's supervisor's (or the team lead's)
    worklist until reviewed with :func:`review_emergency_access`.
    """
    if not isinstance(duration, timedelta) or not timedelta(0) < duration <= MAX_EMERGENCY_ACCESS:
        raise ValidationError(
            "duration must be more than zero and at most 24 hours", field="duration"
        )
    if ctx.uow.find(Patient, patient_id) is None:  # refused like an outsider's read
        raise AccessDeniedError(
            f"{ctx.actor_id} may not break the glass for Patient/{patient_id} "
            "(not found or not permitted)"
        )
    active = ctx.uow.query(
        WorkQuery(category="emergency", owner_ids=(str(ctx.actor_id),), due_from=ctx.now)
    )
    if len({hit.record_id for hit in active}) >= MAX_ACTIVE_EMERGENCY_GRANTS:
        raise AccessDeniedError(
            f"{ctx.actor_id} already holds {MAX_ACTIVE_EMERGENCY_GRANTS} active emergency "
            "grants (emergency-grant-limit)"
        )
    grant = EmergencyAccess(
        id=stable_id("EmergencyAccess", str(ctx.actor_id), str(patient_id), ctx.now.isoformat()),
        staff_id=ctx.actor_id,
        patient_id=patient_id,
        reason=reason,
        granted_at=ctx.now,
        expires_at=ctx.now + duration,
        reviewer_id=_reviewer(ctx, patient_id),
    )
    ctx.grant(PurposeOfUse.ETREAT, entity=f"EmergencyAccess/{grant.id}", patient_id=patient_id)
    ctx.uow.add(grant)
    ctx.emit(
        ev.EmergencyAccessGranted(
            **ctx.common(patient_id),
            grant_id=grant.id,
            staff_id=str(ctx.actor_id),
            expires_at=grant.expires_at,
        )
    )
    return grant
