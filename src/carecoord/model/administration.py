"""Insurance coverage and prior authorisations.

A :class:`Coverage` is one insurance a patient holds (FHIR Coverage): payer,
plan, member id, the patient's relationship to the subscriber, the period it
covers, its status and its order of benefit (1 = primary). A
:class:`PriorAuthorization` is a request to a payer to approve a service
before it is given: who asked, by when it must be submitted, when the payer
should decide, and the decision (approved units and period, or a denial with
a reason). It moves through :data:`AUTHORIZATION_MACHINE`.

Pure: no I/O. Payer and plan names, member ids, the service asked for and the
payer's reference are PHI or may be and are kept out of ``repr``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Self

import attrs

from ._base import (
    CarePlanId,
    EntityId,
    PatientId,
    ReferralId,
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
from .people import Period

__all__ = [
    "AUTHORIZATION_MACHINE",
    "AuthorizationStatus",
    "Coverage",
    "CoverageId",
    "CoverageStatus",
    "PriorAuthorization",
    "PriorAuthorizationId",
    "SubscriberRelationship",
]


class CoverageId(EntityId):
    """Identifier of a :class:`Coverage`."""

    __slots__ = ()


class PriorAuthorizationId(EntityId):
    """Identifier of a :class:`PriorAuthorization`."""

    __slots__ = ()


class CoverageStatus(StrEnum):
    """FHIR financial resource status (Coverage.status)."""

    ACTIVE = "active"
    CANCELLED = "cancelled"
    DRAFT = "draft"
    ENTERED_IN_ERROR = "entered-in-error"


class SubscriberRelationship(StrEnum):
    """FHIR subscriber-relationship (Coverage.relationship): the patient to the subscriber."""

    SELF = "self"
    SPOUSE = "spouse"
    CHILD = "child"
    PARENT = "parent"
    COMMON = "common"
    INJURED = "injured"
    OTHER = "other"


@attrs.frozen
class Coverage:
    """One insurance coverage of a patient (FHIR Coverage).

    ``order`` is the order of benefit: 1 pays first. ``payer`` and
    ``plan_name`` name the insurer and its plan; ``member_id`` is the
    patient's id with the payer and ``subscriber_id`` the subscriber's when
    the patient is not the subscriber (all PHI, out of ``repr``).
    """

    id: CoverageId = attrs.field(validator=of_type(CoverageId))
    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    payer: str = attrs.field(validator=text(max_len=200), repr=False)
    member_id: str = attrs.field(validator=text(max_len=100), repr=False)
    period: Period = attrs.field(validator=of_type(Period))
    recorded_at: datetime = attrs.field(validator=aware)
    recorded_by: StaffId = attrs.field(validator=of_type(StaffId))
    plan_name: str | None = attrs.field(
        default=None, validator=optional(text(max_len=200)), repr=False
    )
    relationship: SubscriberRelationship = attrs.field(
        default=SubscriberRelationship.SELF, validator=of_type(SubscriberRelationship)
    )
    subscriber_id: str | None = attrs.field(
        default=None, validator=optional(text(max_len=100)), repr=False
    )
    status: CoverageStatus = attrs.field(
        default=CoverageStatus.ACTIVE, validator=of_type(CoverageStatus)
    )
    order: int = attrs.field(default=1, validator=positive_int)

    def covers(self, moment: datetime) -> bool:
        """Whether the coverage is active and its period holds ``moment``."""
        return self.status is CoverageStatus.ACTIVE and self.period.contains(moment)


class AuthorizationStatus(StrEnum):
    """Where a prior authorisation stands with the payer."""

    DRAFT = "draft"
    """Being prepared; not sent to the payer yet."""
    SUBMITTED = "submitted"
    """Sent; waiting for the payer's decision."""
    APPROVED = "approved"
    """Approved, for ``approved_units`` within ``approved_period``."""
    DENIED = "denied"
    """Refused by the payer (the reason is in the transition)."""
    CANCELLED = "cancelled"
    """No longer needed."""
    ENTERED_IN_ERROR = "entered-in-error"


_A = AuthorizationStatus
AUTHORIZATION_MACHINE: StateMachine[AuthorizationStatus] = StateMachine(
    "PriorAuthorization",
    AuthorizationStatus,
    {
        _A.DRAFT: (_A.SUBMITTED, _A.CANCELLED),
        _A.SUBMITTED: (_A.APPROVED, _A.DENIED, _A.CANCELLED),
        _A.DENIED: (_A.SUBMITTED,),  # an appeal is a new submission
        _A.APPROVED: (_A.CANCELLED,),
    },
    from_any=(_A.ENTERED_IN_ERROR,),
    needs_reason=(_A.DENIED, _A.CANCELLED, _A.ENTERED_IN_ERROR),
)
"""draft -> submitted -> approved or denied (a denial may be appealed: submitted again)."""

PENDING_AUTHORIZATION = frozenset({_A.DRAFT, _A.SUBMITTED})
"""The statuses of an authorisation still waiting for the payer (or to be sent)."""


@attrs.frozen
class PriorAuthorization:
    """A request for the payer's approval of a service before it is given.

    ``submit_by`` is when it must be sent, ``decision_due`` when the payer
    should have decided. Once approved, ``approved_units`` of the service may
    be given within ``approved_period``; it *expires* at the period's end.
    ``service`` (what is asked for) and ``payer_reference`` (the payer's
    authorisation number) stay out of ``repr``.
    """

    id: PriorAuthorizationId = attrs.field(validator=of_type(PriorAuthorizationId))
    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    coverage_id: CoverageId = attrs.field(validator=of_type(CoverageId))
    service: str = attrs.field(validator=text(max_len=500), repr=False)
    requested_by: StaffId = attrs.field(validator=of_type(StaffId))
    created_at: datetime = attrs.field(validator=aware)
    requested_units: int | None = attrs.field(default=None, validator=optional(positive_int))
    submit_by: datetime | None = attrs.field(default=None, validator=optional(aware))
    decision_due: datetime | None = attrs.field(default=None, validator=optional(aware))
    submitted_at: datetime | None = attrs.field(default=None, validator=optional(aware))
    decided_at: datetime | None = attrs.field(default=None, validator=optional(aware))
    approved_units: int | None = attrs.field(default=None, validator=optional(positive_int))
    approved_period: Period | None = attrs.field(default=None, validator=optional(of_type(Period)))
    payer_reference: str | None = attrs.field(
        default=None, validator=optional(text(max_len=100)), repr=False
    )
    plan_id: CarePlanId | None = attrs.field(default=None, validator=optional(of_type(CarePlanId)))
    referral_id: ReferralId | None = attrs.field(
        default=None, validator=optional(of_type(ReferralId))
    )
    status: AuthorizationStatus = attrs.field(
        default=AuthorizationStatus.DRAFT, validator=of_type(AuthorizationStatus)
    )
    history: tuple[Transition[AuthorizationStatus], ...] = attrs.field(
        default=(), validator=tuple_of(Transition)
    )

    def __attrs_post_init__(self) -> None:
        approved = self.status is AuthorizationStatus.APPROVED
        if approved and (self.approved_period is None or self.approved_period.end is None):
            raise ValidationError(
                "an approved authorisation needs an approved period with an end",
                field="approved_period",
            )
        if self.approved_units is not None and self.approved_period is None:
            raise ValidationError("approved units need an approved period", field="approved_period")

    @property
    def is_pending(self) -> bool:
        """Whether it still waits to be sent or for the payer's decision."""
        return self.status in PENDING_AUTHORIZATION

    @property
    def expires_at(self) -> datetime | None:
        """When an approved authorisation runs out (the approved period's end)."""
        if self.status is not AuthorizationStatus.APPROVED or self.approved_period is None:
            return None
        return self.approved_period.end

    @property
    def next_due(self) -> datetime | None:
        """What the coordinator must watch next: the submission deadline of a draft, the
        decision due of a submitted request, the expiry of an approved one."""
        match self.status:
            case AuthorizationStatus.DRAFT:
                return self.submit_by
            case AuthorizationStatus.SUBMITTED:
                return self.decision_due
            case AuthorizationStatus.APPROVED:
                return self.expires_at
            case _:
                return None

    def is_expired(self, moment: datetime) -> bool:
        """Whether an approved authorisation has run out at ``moment``."""
        end = self.expires_at
        return end is not None and instant(end) <= instant(moment)

    def _step(
        self, to: AuthorizationStatus, by: StaffId, at: datetime, reason: str | None
    ) -> Transition[AuthorizationStatus]:
        return AUTHORIZATION_MACHINE.transition(self.status, to, by=by, at=at, reason=reason)

    def submit(
        self,
        *,
        by: StaffId,
        at: datetime,
        decision_due: datetime | None = None,
        payer_reference: str | None = None,
    ) -> Self:
        """A copy sent to the payer at ``at`` (again, after a denial: an appeal)."""
        step = self._step(AuthorizationStatus.SUBMITTED, by, at, None)
        return attrs.evolve(
            self,
            status=step.to_status,
            submitted_at=at,
            decision_due=decision_due if decision_due is not None else self.decision_due,
            payer_reference=payer_reference or self.payer_reference,
            history=(*self.history, step),
        )

    def approve(
        self, period: Period, *, by: StaffId, at: datetime, units: int | None = None
    ) -> Self:
        """A copy approved for ``units`` (``None``: as many as needed) within ``period``."""
        step = self._step(AuthorizationStatus.APPROVED, by, at, None)
        return attrs.evolve(
            self,
            status=step.to_status,
            decided_at=at,
            approved_units=units,
            approved_period=period,
            history=(*self.history, step),
        )

    def deny(self, reason: str, *, by: StaffId, at: datetime) -> Self:
        """A copy denied by the payer, with the reason they gave."""
        step = self._step(AuthorizationStatus.DENIED, by, at, reason)
        return attrs.evolve(
            self, status=step.to_status, decided_at=at, history=(*self.history, step)
        )

    def transition(
        self, to: AuthorizationStatus | str, *, by: StaffId, at: datetime, reason: str | None = None
    ) -> Self:
        """A copy moved to ``to`` (cancel, entered-in-error); use :meth:`submit`,
        :meth:`approve` and :meth:`deny` for the payer's steps."""
        step = AUTHORIZATION_MACHINE.transition(self.status, to, by=by, at=at, reason=reason)
        if step.to_status in (_A.SUBMITTED, _A.APPROVED, _A.DENIED):
            raise ValidationError(f"use {step.to_status.value} through its own method")
        return attrs.evolve(self, status=step.to_status, history=(*self.history, step))
