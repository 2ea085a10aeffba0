"""Referral use cases: the closed loop from draft to result."""

from __future__ import annotations

from collections.abc import Callable

from .. import events as ev
from ..access import Permission
from ..model import (
    CarePlan,
    Patient,
    PatientId,
    Referral,
    ReferralId,
    ReferralStatus,
    ValidationError,
)
from ..model.audit import AuditAction
from ..model.directory import DirectoryService, target_service_id
from ._util import check, update
from .runner import Context, operation

__all__ = [
    "create_referral",
    "record_referral_result",
    "referral",
    "referrals_of",
    "set_referral_status",
]


@operation(AuditAction.CREATE)
def create_referral(ctx: Context, referral: Referral) -> Referral:
    """Create a referral (usually in ``draft``; send it with :func:`set_referral_status`).

    A ``target`` naming a directory service (``HealthcareService/<id>``, see
    :func:`~carecoord.model.directory.directory_target`) must name one that exists
    (NotFoundError) and is active (ValidationError)."""
    check(referral, Referral)
    uow = ctx.uow
    ctx.allow(referral.patient_id, Permission.MANAGE_REFERRALS, f"Referral/{referral.id}")
    uow.get(Patient, referral.patient_id)
    if referral.plan_id is not None:
        plan = uow.get(CarePlan, referral.plan_id)
        if plan.patient_id != referral.patient_id:
            raise ValidationError("the referral's plan belongs to another patient")
    service_id = target_service_id(referral.target)
    if service_id is not None and not uow.get(DirectoryService, service_id).active:
        raise ValidationError("the referral's directory service has closed", field="target")
    uow.add(referral)
    ctx.emit(ev.ReferralCreated(**ctx.common(referral.patient_id), referral_id=str(referral.id)))
    return referral


def _change(
    ctx: Context, referral_id: ReferralId, edit: Callable[[Referral], Referral]
) -> Referral:
    old, new = update(ctx, Referral, referral_id, Permission.MANAGE_REFERRALS, edit)
    common = ctx.common(old.patient_id)
    ctx.emit(
        ev.ReferralStatusChanged(
            **common,
            referral_id=str(old.id),
            from_status=old.status.value,
            to_status=new.status.value,
        )
    )
    if new.status is ReferralStatus.RESULT_RECEIVED:
        ctx.emit(ev.ReferralResultReceived(**common, referral_id=str(old.id)))
    return new


@operation(AuditAction.UPDATE)
def set_referral_status(
    ctx: Context, referral_id: ReferralId, status: ReferralStatus | str, reason: str | None = None
) -> Referral:
    """Move a referral along its closed loop (sent, accepted, scheduled, ...)."""
    return _change(
        ctx,
        referral_id,
        lambda old: old.transition(status, by=ctx.actor_id, at=ctx.now, reason=reason),
    )


@operation(AuditAction.UPDATE)
def record_referral_result(ctx: Context, referral_id: ReferralId, outcome: str) -> Referral:
    """Record the result that came back: the referral's loop is closed."""
    return _change(
        ctx, referral_id, lambda old: old.record_result(outcome, by=ctx.actor_id, at=ctx.now)
    )


@operation(AuditAction.READ)
def referral(ctx: Context, referral_id: ReferralId) -> Referral:
    """Read a referral."""
    return ctx.load(Referral, referral_id, Permission.READ)


@operation(AuditAction.READ)
def referrals_of(ctx: Context, patient_id: PatientId) -> list[Referral]:
    """Every referral of a patient."""
    ctx.allow(patient_id, Permission.READ, f"Patient/{patient_id}")
    return ctx.uow.all(Referral, patient_id=str(patient_id))
