"""Forms and paperwork, and payment plans.

A :class:`PatientForm` is one document on a patient's paperwork checklist: its
type, what it is for, who helps (a staff member, a contact), when it is due,
and where it stands (:data:`FORM_MACHINE`: needed, in progress, submitted,
accepted, or rejected with a reason and worked on again). The document
itself is kept by the host; the form holds a :class:`DocumentAttachment`
reference to it.

A :class:`PaymentPlan` records an arrangement the patient agreed (an amount
paid in instalments on set dates) as the resolution of a cost barrier. It is
no billing engine: it records what was arranged and which instalments were
paid, so a missed one shows on the worklist.

Pure: no I/O. Purposes, titles, references and creditor names stay out of ``repr``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Self

import attrs

from ._base import (
    BarrierId,
    ContactId,
    EntityId,
    PatientId,
    StaffId,
    aware,
    instant,
    of_type,
    optional,
    positive_int,
    text,
    tuple_of,
)
from ._errors import ValidationError
from .machine import StateMachine, Transition

__all__ = [
    "FORM_MACHINE",
    "DocumentAttachment",
    "FormId",
    "FormStatus",
    "FormType",
    "Instalment",
    "PatientForm",
    "PaymentPlan",
    "PaymentPlanId",
]


class FormId(EntityId):
    """Identifier of a :class:`PatientForm`."""

    __slots__ = ()


class PaymentPlanId(EntityId):
    """Identifier of a :class:`PaymentPlan`."""

    __slots__ = ()


class FormType(StrEnum):
    """What kind of document a form is."""

    INSURANCE_APPLICATION = "insurance-application"
    PRIOR_AUTHORIZATION = "prior-authorization"
    FINANCIAL_ASSISTANCE = "financial-assistance"
    DISABILITY = "disability"
    FAMILY_LEAVE = "family-leave"
    ADVANCE_DIRECTIVE = "advance-directive"
    RELEASE_OF_INFORMATION = "release-of-information"
    TRANSPORT_APPLICATION = "transport-application"
    HOUSING_APPLICATION = "housing-application"
    OTHER = "other"


class FormStatus(StrEnum):
    """Where a form stands."""

    NEEDED = "needed"
    IN_PROGRESS = "in-progress"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    ENTERED_IN_ERROR = "entered-in-error"


_F = FormStatus
FORM_MACHINE: StateMachine[FormStatus] = StateMachine(
    "PatientForm",
    FormStatus,
    {
        _F.NEEDED: (_F.IN_PROGRESS, _F.SUBMITTED, _F.CANCELLED),
        _F.IN_PROGRESS: (_F.SUBMITTED, _F.CANCELLED),
        _F.SUBMITTED: (_F.ACCEPTED, _F.REJECTED),
        _F.REJECTED: (_F.IN_PROGRESS, _F.SUBMITTED, _F.CANCELLED),
    },
    from_any=(_F.ENTERED_IN_ERROR,),
    needs_reason=(_F.REJECTED, _F.CANCELLED, _F.ENTERED_IN_ERROR),
)
"""needed -> in progress -> submitted -> accepted, or rejected (with the reason) and worked
on again; accepted and cancelled are final."""

OPEN_FORM = frozenset({_F.NEEDED, _F.IN_PROGRESS, _F.SUBMITTED, _F.REJECTED})
"""The statuses of a form still to be dealt with."""


@attrs.frozen
class DocumentAttachment:
    """Where the host keeps a document: ``reference`` (a URL or the host's own key).

    ``title`` and ``reference`` may name the patient and stay out of ``repr``;
    ``content_type`` is a MIME type such as ``application/pdf``.
    """

    reference: str = attrs.field(validator=text(max_len=2000), repr=False)
    content_type: str = attrs.field(validator=text(max_len=100), repr=False)
    attached_at: datetime = attrs.field(validator=aware)
    attached_by: StaffId = attrs.field(validator=of_type(StaffId))
    title: str | None = attrs.field(default=None, validator=optional(text(max_len=200)), repr=False)


@attrs.frozen
class PatientForm:
    """One document the patient needs, on their paperwork checklist.

    ``helper_id`` is the staff member helping (whose worklist it is on) and
    ``helper_contact_id`` a contact helping at home. ``purpose`` (what the form
    is for) is free text. The reason of a rejection is in the transition
    (:attr:`rejection_reason`).
    """

    id: FormId = attrs.field(validator=of_type(FormId))
    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    form_type: FormType = attrs.field(validator=of_type(FormType))
    purpose: str = attrs.field(validator=text(max_len=1000), repr=False)
    created_at: datetime = attrs.field(validator=aware)
    created_by: StaffId = attrs.field(validator=of_type(StaffId))
    due: datetime | None = attrs.field(default=None, validator=optional(aware))
    helper_id: StaffId | None = attrs.field(default=None, validator=optional(of_type(StaffId)))
    helper_contact_id: ContactId | None = attrs.field(
        default=None, validator=optional(of_type(ContactId))
    )
    status: FormStatus = attrs.field(default=FormStatus.NEEDED, validator=of_type(FormStatus))
    document: DocumentAttachment | None = attrs.field(
        default=None, validator=optional(of_type(DocumentAttachment))
    )
    history: tuple[Transition[FormStatus], ...] = attrs.field(
        default=(), validator=tuple_of(Transition)
    )

    @property
    def is_open(self) -> bool:
        """Whether the form still needs dealing with."""
        return self.status in OPEN_FORM

    def is_overdue(self, moment: datetime) -> bool:
        """Past its due time and not submitted (needed, in progress or rejected)."""
        return (
            self.due is not None
            and self.status in (_F.NEEDED, _F.IN_PROGRESS, _F.REJECTED)
            and instant(self.due) <= instant(moment)
        )

    @property
    def rejection_reason(self) -> str | None:
        """Why the form was last rejected (``None`` unless it is rejected now)."""
        if self.status is not FormStatus.REJECTED or not self.history:
            return None
        return self.history[-1].reason

    def transition(
        self, to: FormStatus | str, *, by: StaffId, at: datetime, reason: str | None = None
    ) -> Self:
        """A copy moved to ``to`` (:data:`FORM_MACHINE`); rejecting needs a reason."""
        step = FORM_MACHINE.transition(self.status, to, by=by, at=at, reason=reason)
        return attrs.evolve(self, status=step.to_status, history=(*self.history, step))

    def attach(self, document: DocumentAttachment) -> Self:
        """A copy with ``document`` attached (replacing an earlier one)."""
        if self.status in (FormStatus.ACCEPTED, FormStatus.CANCELLED):
            raise ValidationError("a closed form takes no document", field="document")
        return attrs.evolve(self, document=document)


# ------------------------------------------------------------ payment plans


def _currency(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if not (isinstance(value, str) and len(value) == 3 and value.isascii() and value.isupper()):
        raise ValidationError(
            f"{type(inst).__name__}.{attr.name} must be an ISO 4217 code", field=attr.name
        )


@attrs.frozen
class Instalment:
    """One agreed payment: ``amount`` in minor units (cents) due at ``due_at``."""

    number: int = attrs.field(validator=positive_int)
    due_at: datetime = attrs.field(validator=aware)
    amount: int = attrs.field(validator=positive_int)
    paid_at: datetime | None = attrs.field(default=None, validator=optional(aware))

    @property
    def is_paid(self) -> bool:
        """Whether it was recorded as paid."""
        return self.paid_at is not None

    def is_missed(self, moment: datetime) -> bool:
        """Past due at ``moment`` and not paid."""
        return self.paid_at is None and instant(self.due_at) <= instant(moment)


@attrs.frozen
class PaymentPlan:
    """An arrangement the patient agreed to pay ``total`` in ``instalments``.

    Recorded as the resolution of the cost barrier ``barrier_id``. Amounts are
    integers in the minor unit of ``currency`` (cents for ``USD``); the
    instalments add up to ``total`` and are numbered 1, 2, ... in due order.
    ``creditor`` (who is owed) stays out of ``repr``. ``cancelled_at`` ends
    the plan: its unpaid instalments are no longer due.
    """

    id: PaymentPlanId = attrs.field(validator=of_type(PaymentPlanId))
    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    barrier_id: BarrierId = attrs.field(validator=of_type(BarrierId))
    creditor: str = attrs.field(validator=text(max_len=200), repr=False)
    total: int = attrs.field(validator=positive_int)
    currency: str = attrs.field(validator=_currency)
    instalments: tuple[Instalment, ...] = attrs.field(validator=tuple_of(Instalment))
    agreed_at: datetime = attrs.field(validator=aware)
    agreed_by: StaffId = attrs.field(validator=of_type(StaffId))
    cancelled_at: datetime | None = attrs.field(default=None, validator=optional(aware))

    def __attrs_post_init__(self) -> None:
        if not self.instalments:
            raise ValidationError("a payment plan needs instalments", field="instalments")
        if [i.number for i in self.instalments] != list(range(1, len(self.instalments) + 1)):
            raise ValidationError(
                "instalments are numbered 1, 2, ... in order", field="instalments"
            )
        dues = [instant(i.due_at) for i in self.instalments]
        if dues != sorted(dues):
            raise ValidationError("instalments are in due order", field="instalments")
        if sum(i.amount for i in self.instalments) != self.total:
            raise ValidationError("the instalments must add up to the total", field="total")

    @property
    def is_active(self) -> bool:
        """Not cancelled and not fully paid."""
        return self.cancelled_at is None and not all(i.is_paid for i in self.instalments)

    @property
    def paid(self) -> int:
        """The amount paid so far (minor units)."""
        return sum(i.amount for i in self.instalments if i.is_paid)

    def missed(self, moment: datetime) -> tuple[Instalment, ...]:
        """The instalments past due and unpaid at ``moment`` (none once cancelled)."""
        if self.cancelled_at is not None:
            return ()
        return tuple(i for i in self.instalments if i.is_missed(moment))

    def instalment(self, number: int) -> Instalment:
        """Instalment ``number`` or :class:`ValidationError`."""
        for item in self.instalments:
            if item.number == number:
                return item
        raise ValidationError(f"payment plan has no instalment {number}", field="number")

    def record_payment(self, number: int, at: datetime) -> Self:
        """A copy with instalment ``number`` paid at ``at`` (once)."""
        if self.cancelled_at is not None:
            raise ValidationError("the payment plan is cancelled", field="cancelled_at")
        item = self.instalment(number)
        if item.paid_at is not None:
            raise ValidationError(f"instalment {number} is already paid", field="paid_at")
        paid = attrs.evolve(item, paid_at=at)
        return attrs.evolve(
            self, instalments=tuple(paid if i.number == number else i for i in self.instalments)
        )
