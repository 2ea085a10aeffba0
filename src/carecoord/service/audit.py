"""Audit use cases: the trail of a patient or actor, verification, the sealed head."""

from __future__ import annotations

from ..access import Permission
from ..model import PatientId, StaffId, ValidationError
from ..model.audit import (
    AUDIT_HEAD_ID,
    AuditAction,
    AuditEntry,
    AuditHead,
    AuditVerification,
    ChainBreak,
)
from ..storage.port import WorkQuery
from .runner import Context, operation
from .sealing import verify_audit_log

__all__ = ["audit_head", "audit_trail", "verify_audit", "verify_audit_trail"]


@operation(AuditAction.READ)
def audit_trail(
    ctx: Context,
    patient_id: PatientId | None = None,
    actor_id: StaffId | None = None,
    limit: int | None = None,
) -> list[AuditEntry]:
    """Audit entries of one patient (needs ``read-audit`` on them) and/or one actor.

    Without ``patient_id`` the actor needs the staff-wide ``view-caseloads``
    permission. Sealed entries come in chain order, then the entries not
    sealed yet, oldest first; ``limit`` keeps the newest.
    """
    if patient_id is not None:
        ctx.allow(patient_id, Permission.READ_AUDIT, f"Patient/{patient_id}")
    else:
        ctx.allow_staff(Permission.VIEW_CASELOADS)
    hits = ctx.uow.query(
        WorkQuery(
            category="audit",
            open_only=False,
            patient_ids=None if patient_id is None else (str(patient_id),),
            owner_ids=None if actor_id is None else (str(actor_id),),
        )
    )
    entries = [ctx.uow.get(AuditEntry, h.record_id) for h in hits]
    entries.sort(key=lambda e: (e.sequence is None, e.sequence or 0, e.at.timestamp(), e.id))
    if limit is None:
        return entries
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ValidationError("limit must be an int >= 0", field="limit")
    return entries[len(entries) - limit :]


@operation(AuditAction.EXECUTE)
def verify_audit(ctx: Context, checkpoint: str | None = None) -> AuditVerification:
    """Verify the sealed chain, its checkpoints and every audit index row.

    Needs ``view-caseloads``. Entries not sealed yet are counted in
    ``unsealed`` (the window verification does not cover yet).
    """
    ctx.allow_staff(Permission.VIEW_CASELOADS)
    return verify_audit_log(ctx.uow, key=ctx.settings.audit_key, checkpoint=checkpoint)


@operation(AuditAction.EXECUTE)
def verify_audit_trail(ctx: Context, checkpoint: str | None = None) -> tuple[ChainBreak, ...]:
    """The breaks :func:`verify_audit` finds (empty: intact)."""
    return verify_audit.handler(ctx, checkpoint).breaks


@operation(AuditAction.READ)
def audit_head(ctx: Context) -> str:
    """The hash of the newest sealed entry, to keep outside the database."""
    ctx.allow_staff(Permission.VIEW_CASELOADS)
    head = ctx.uow.find(AuditHead, AUDIT_HEAD_ID)
    return head.hash if head else AuditHead().hash
