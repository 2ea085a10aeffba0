"""Emergency access ("break the glass"): time-limited, reasoned, audited, announced."""

from __future__ import annotations

from datetime import timedelta

from .. import events as ev
from ..model import Patient, PatientId, ValidationError
from ..model.access import EmergencyAccess
from ..model.audit import AuditAction, PurposeOfUse
from ..model.outbox import stable_id
from .runner import Context, operation

__all__ = ["MAX_EMERGENCY_ACCESS", "break_glass"]

MAX_EMERGENCY_ACCESS = timedelta(hours=24)
"""The longest an emergency grant may last."""


@operation(AuditAction.EXECUTE)
def break_glass(
    ctx: Context, patient_id: PatientId, reason: str, duration: timedelta = timedelta(hours=4)
) -> EmergencyAccess:
    """Grant the actor emergency access (purpose ETREAT) to a patient they do not care for.

    Any active staff member may break the glass; it needs a reason, lasts
    ``duration`` (at most 24 hours), lets the actor read and document, and
    every access under it is audited with purpose ETREAT; the patient's team
    leads are notified.
    """
    if not isinstance(duration, timedelta) or not timedelta(0) < duration <= MAX_EMERGENCY_ACCESS:
        raise ValidationError(
            "duration must be more than zero and at most 24 hours", field="duration"
        )
    ctx.uow.get(Patient, patient_id)
    grant = EmergencyAccess(
        id=stable_id("EmergencyAccess", str(ctx.actor_id), str(patient_id), ctx.now.isoformat()),
        staff_id=ctx.actor_id,
        patient_id=patient_id,
        reason=reason,
        granted_at=ctx.now,
        expires_at=ctx.now + duration,
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
