"""Insurance coverage and prior authorisation use cases.

Coverage is part of the patient's administrative record (``edit-patient``);
authorisations are requests to a payer, handled like referrals
(``manage-referrals``). Every step of an authorisation is announced
(:class:`~carecoord.events.AuthorizationStatusChanged`), so whoever requested
it hears of the payer's decision; pending and expiring ones are on the
administration worklist (:mod:`.admin_worklist`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from .. import events as ev
from ..access import Permission
from ..model import NotFoundError, PatientId, Period, ValidationError
from ..model._base import ensure_aware
from ..model.administration import (
    AuthorizationStatus,
    Coverage,
    PriorAuthorization,
    PriorAuthorizationId,
)
from ..model.audit import AuditAction
from ._admin_util import create, listed, registered_patient
from ._util import check, update
from .runner import Context, operation

__all__ = [
    "authorizations_of",
    "cancel_authorization",
    "coverages_of",
    "decide_authorization",
    "record_coverage",
    "request_authorization",
    "submit_authorization",
]


@operation(AuditAction.UPDATE)
def record_coverage(ctx: Context, coverage: Coverage) -> Coverage:
    """Record a coverage of a patient, or replace it (same id): ``edit-patient``."""
    check(coverage, Coverage)
    ctx.allow(coverage.patient_id, Permission.EDIT_PATIENT, f"Coverage/{coverage.id}")
    registered_patient(ctx, coverage.patient_id)
    stored = ctx.uow.find(Coverage, str(coverage.id))
    if stored is None:
        ctx.action = AuditAction.CREATE
        ctx.uow.add(coverage)
    elif stored.patient_id != coverage.patient_id:
        raise ValidationError("a coverage cannot move to another patient", field="patient_id")
    else:
        ctx.uow.save(coverage)
    ctx.emit(
        ev.CoverageRecorded(
            **ctx.common(coverage.patient_id),
            coverage_id=str(coverage.id),
            status=coverage.status.value,
        )
    )
    return coverage


@operation(AuditAction.READ)
def coverages_of(ctx: Context, patient_id: PatientId) -> list[Coverage]:
    """Every coverage of a patient, in order of benefit (primary first)."""
    found = listed(ctx, Coverage, "coverage", patient_id)
    return sorted(found, key=lambda c: (c.order, c.id))


@operation(AuditAction.CREATE)
def request_authorization(ctx: Context, authorization: PriorAuthorization) -> PriorAuthorization:
    """Start a prior authorisation (a draft) under one of the patient's coverages."""
    check(authorization, PriorAuthorization)
    if authorization.status is not AuthorizationStatus.DRAFT or authorization.history:
        raise ValidationError("a new authorisation starts as a draft", field="status")
    create(ctx, authorization, PriorAuthorization, Permission.MANAGE_REFERRALS)
    coverage = ctx.uow.find(Coverage, str(authorization.coverage_id))
    if coverage is None or coverage.patient_id != authorization.patient_id:
        raise NotFoundError(f"coverage {authorization.coverage_id} not found for the patient")
    ctx.emit(
        ev.AuthorizationRequested(
            **ctx.common(authorization.patient_id),
            authorization_id=str(authorization.id),
            owner_id=str(authorization.requested_by),
        )
    )
    return authorization


def _change(
    ctx: Context,
    authorization_id: PriorAuthorizationId,
    edit: Callable[[PriorAuthorization], PriorAuthorization],
) -> PriorAuthorization:
    old, new = update(ctx, PriorAuthorization, authorization_id, Permission.MANAGE_REFERRALS, edit)
    ctx.emit(
        ev.AuthorizationStatusChanged(
            **ctx.common(new.patient_id),
            authorization_id=str(new.id),
            owner_id=str(new.requested_by),
            from_status=old.status.value,
            to_status=new.status.value,
        )
    )
    return new


@operation(AuditAction.UPDATE)
def submit_authorization(
    ctx: Context,
    authorization_id: PriorAuthorizationId,
    decision_due: datetime | None = None,
    payer_reference: str | None = None,
) -> PriorAuthorization:
    """Record that the request was sent to the payer now (again after a denial: an appeal)."""
    due = None if decision_due is None else ensure_aware(decision_due, "decision_due")
    return _change(
        ctx,
        authorization_id,
        lambda old: old.submit(
            by=ctx.actor_id, at=ctx.now, decision_due=due, payer_reference=payer_reference
        ),
    )


@operation(AuditAction.UPDATE)
def decide_authorization(
    ctx: Context,
    authorization_id: PriorAuthorizationId,
    approved: bool,
    period: Period | None = None,
    units: int | None = None,
    reason: str | None = None,
) -> PriorAuthorization:
    """Record the payer's decision: approved for ``units`` within ``period`` (which must
    end), or denied with the payer's ``reason``."""
    if approved:
        if period is None:
            raise ValidationError("an approval needs the approved period", field="period")
        return _change(
            ctx,
            authorization_id,
            lambda old: old.approve(period, by=ctx.actor_id, at=ctx.now, units=units),
        )
    return _change(
        ctx,
        authorization_id,
        lambda old: old.deny(reason or "", by=ctx.actor_id, at=ctx.now),
    )


@operation(AuditAction.UPDATE)
def cancel_authorization(
    ctx: Context, authorization_id: PriorAuthorizationId, reason: str
) -> PriorAuthorization:
    """Cancel an authorisation that is no longer needed (with a reason)."""
    return _change(
        ctx,
        authorization_id,
        lambda old: old.transition(
            AuthorizationStatus.CANCELLED, by=ctx.actor_id, at=ctx.now, reason=reason
        ),
    )


@operation(AuditAction.READ)
def authorizations_of(ctx: Context, patient_id: PatientId) -> list[PriorAuthorization]:
    """Every prior authorisation of a patient, oldest first."""
    found = listed(ctx, PriorAuthorization, "authorization", patient_id)
    return sorted(found, key=lambda a: (a.created_at, a.id))
