"""Forms and paperwork, and payment plans: use cases.

Both are work that removes barriers to care, so both need ``record-barrier``
(medical assistants and community health workers may help). A form's steps
are announced (:class:`~carecoord.events.FormStatusChanged`) to the staff
member helping; overdue forms and missed instalments are on the
administration worklist (:mod:`.admin_worklist`).
"""

from __future__ import annotations

from datetime import datetime

from .. import events as ev
from ..access import Permission
from ..model import (
    Barrier,
    BarrierKind,
    NotFoundError,
    PatientId,
    StaffMember,
    ValidationError,
)
from ..model._base import ensure_aware, instant
from ..model.audit import AuditAction
from ..model.paperwork import (
    DocumentAttachment,
    FormId,
    FormStatus,
    PatientForm,
    PaymentPlan,
    PaymentPlanId,
)
from ._admin_util import create, listed
from ._util import check, update
from .runner import Context, operation

__all__ = [
    "add_form",
    "agree_payment_plan",
    "attach_form_document",
    "forms_of",
    "payment_plans_of",
    "record_instalment_paid",
    "set_form_status",
]

PAYABLE_BARRIERS = frozenset({BarrierKind.COST, BarrierKind.INSURANCE})
"""The barrier kinds a payment plan can resolve."""


@operation(AuditAction.CREATE)
def add_form(ctx: Context, form: PatientForm) -> PatientForm:
    """Put a form on the patient's paperwork checklist (status ``needed``)."""
    check(form, PatientForm)
    if form.status is not FormStatus.NEEDED or form.history:
        raise ValidationError("a new form starts as needed", field="status")
    patient = create(ctx, form, PatientForm, Permission.RECORD_BARRIER)
    if form.helper_contact_id is not None:
        patient.contact(form.helper_contact_id)
    if form.helper_id is not None and ctx.uow.find(StaffMember, form.helper_id) is None:
        raise NotFoundError(f"helper {form.helper_id} is not registered")
    return form


@operation(AuditAction.UPDATE)
def set_form_status(
    ctx: Context, form_id: FormId, status: FormStatus | str, reason: str | None = None
) -> PatientForm:
    """Move a form (in progress, submitted, accepted, rejected with a reason, ...)."""
    old, new = update(
        ctx,
        PatientForm,
        form_id,
        Permission.RECORD_BARRIER,
        lambda old: old.transition(status, by=ctx.actor_id, at=ctx.now, reason=reason),
    )
    ctx.emit(
        ev.FormStatusChanged(
            **ctx.common(new.patient_id),
            form_id=str(new.id),
            owner_id=None if new.helper_id is None else str(new.helper_id),
            from_status=old.status.value,
            to_status=new.status.value,
        )
    )
    return new


@operation(AuditAction.UPDATE)
def attach_form_document(
    ctx: Context, form_id: FormId, document: DocumentAttachment
) -> PatientForm:
    """Attach the completed document (by reference: the host keeps the file)."""
    check(document, DocumentAttachment)
    return update(
        ctx, PatientForm, form_id, Permission.RECORD_BARRIER, lambda f: f.attach(document)
    )[1]


@operation(AuditAction.READ)
def forms_of(ctx: Context, patient_id: PatientId) -> list[PatientForm]:
    """The patient's paperwork checklist, oldest first."""
    found = listed(ctx, PatientForm, "form", patient_id)
    return sorted(found, key=lambda f: (instant(f.created_at), f.id))


@operation(AuditAction.CREATE)
def agree_payment_plan(ctx: Context, plan: PaymentPlan) -> PaymentPlan:
    """Record an agreed payment plan as the resolution of the patient's open cost (or
    insurance) barrier ``plan.barrier_id``: both in one unit of work."""
    check(plan, PaymentPlan)
    if plan.cancelled_at is not None or any(i.is_paid for i in plan.instalments):
        raise ValidationError("a new payment plan has nothing paid or cancelled yet")
    create(ctx, plan, PaymentPlan, Permission.RECORD_BARRIER)
    barrier = ctx.uow.find(Barrier, str(plan.barrier_id))
    if barrier is None or barrier.patient_id != plan.patient_id:
        raise NotFoundError(f"barrier {plan.barrier_id} not found for the patient")
    if barrier.kind not in PAYABLE_BARRIERS:
        raise ValidationError(
            "a payment plan resolves a cost or insurance barrier", field="barrier_id"
        )
    summary = f"Payment plan {plan.id} agreed ({len(plan.instalments)} instalments)"
    ctx.uow.save(barrier.resolve(summary, by=ctx.actor_id, at=ctx.now))
    common = ctx.common(plan.patient_id)
    ctx.emit(
        ev.PaymentPlanAgreed(
            **common,
            payment_plan_id=str(plan.id),
            barrier_id=str(plan.barrier_id),
            instalments=len(plan.instalments),
        ),
        ev.BarrierResolved(**common, barrier_id=str(plan.barrier_id)),
    )
    return plan


@operation(AuditAction.UPDATE)
def record_instalment_paid(
    ctx: Context, plan_id: PaymentPlanId, number: int, paid_at: datetime | None = None
) -> PaymentPlan:
    """Record that instalment ``number`` was paid (at ``paid_at``, default now)."""
    moment = ctx.now if paid_at is None else ensure_aware(paid_at, "paid_at")
    new = update(
        ctx,
        PaymentPlan,
        plan_id,
        Permission.RECORD_BARRIER,
        lambda plan: plan.record_payment(number, moment),
    )[1]
    ctx.emit(
        ev.InstalmentPaid(**ctx.common(new.patient_id), payment_plan_id=str(new.id), number=number)
    )
    return new


@operation(AuditAction.READ)
def payment_plans_of(ctx: Context, patient_id: PatientId) -> list[PaymentPlan]:
    """The patient's payment plans, oldest first."""
    found = listed(ctx, PaymentPlan, "instalment", patient_id)
    unique = {plan.id: plan for plan in found}
    return sorted(unique.values(), key=lambda p: (instant(p.agreed_at), p.id))
