"""Domain events of staffing, clinic operations and patient administration.

Part of :mod:`carecoord.events` (import them from there).
"""

from __future__ import annotations

from datetime import datetime

import attrs

from ._base import DomainEvent

__all__ = [
    "AssignedOffDuty",
    "AuthorizationRequested",
    "AuthorizationStatusChanged",
    "CompetencyExpired",
    "CompetencyExpiring",
    "CoverageRecorded",
    "EducationRecorded",
    "FormStatusChanged",
    "InstalmentPaid",
    "MeasurementOutOfRange",
    "MeasurementRecorded",
    "PaymentPlanAgreed",
    "ScreeningRecorded",
    "ShiftReminder",
    "StockLow",
    "SupplyOrderStatusChanged",
    "TimeOffRecorded",
    "VisitStateChanged",
]

# ------------------------------------------------------------------ staffing


@attrs.frozen(kw_only=True)
class AssignedOffDuty(DomainEvent):
    """Work was assigned to someone off duty at its due time (the staffing policy warns)."""

    plan_id: str
    intervention_id: str
    assignee_id: str
    due_at: datetime


@attrs.frozen(kw_only=True)
class TimeOffRecorded(DomainEvent):
    """A staff member (``owner_id``) is off duty for a period; ``open_items`` of their work
    fall in it."""

    time_off_id: str
    owner_id: str
    start: datetime
    end: datetime
    covered_by: str | None
    open_items: int


@attrs.frozen(kw_only=True)
class ShiftReminder(DomainEvent):
    """Time-driven: ``owner_id``'s shift starts soon (announced once per shift and start)."""

    shift_id: str
    owner_id: str
    role: str
    location_id: str
    kind: str
    start: datetime
    end: datetime


@attrs.frozen(kw_only=True)
class CompetencyExpiring(DomainEvent):
    """Time-driven: ``owner_id``'s competency expires within its warning window."""

    competency_id: str
    owner_id: str
    expires_at: datetime


@attrs.frozen(kw_only=True)
class CompetencyExpired(DomainEvent):
    """Time-driven: ``owner_id``'s competency expired and was not renewed."""

    competency_id: str
    owner_id: str
    expired_at: datetime


# --------------------------------------------------------- clinic operations


@attrs.frozen(kw_only=True)
class VisitStateChanged(DomainEvent):
    """A clinic visit moved through the day's flow (``owner_id``: its provider, if any)."""

    visit_id: str
    clinic_id: str
    from_state: str
    to_state: str
    owner_id: str | None


@attrs.frozen(kw_only=True)
class MeasurementRecorded(DomainEvent):
    """A measurement was recorded; it made ``readings`` goal readings."""

    measurement_id: str
    code: str
    readings: int


@attrs.frozen(kw_only=True)
class MeasurementOutOfRange(DomainEvent):
    """An out-of-range measurement waits on ``owner_id``'s review worklist."""

    measurement_id: str
    code: str
    interpretation: str
    owner_id: str | None


@attrs.frozen(kw_only=True)
class StockLow(DomainEvent):
    """An item's usable stock fell to its reorder point or below (``owner_id``: who owns
    the location's inventory)."""

    item_id: str
    location_id: str
    usable: int
    reorder_point: int
    owner_id: str | None


@attrs.frozen(kw_only=True)
class SupplyOrderStatusChanged(DomainEvent):
    """A supply order moved (placed, received in part or whole, cancelled)."""

    order_id: str
    location_id: str
    from_status: str
    to_status: str


# ------------------------------------------------------- patient administration


@attrs.frozen(kw_only=True)
class CoverageRecorded(DomainEvent):
    """An insurance coverage of the patient was recorded or changed."""

    coverage_id: str
    status: str


@attrs.frozen(kw_only=True)
class AuthorizationRequested(DomainEvent):
    """A prior authorisation request was created (``owner_id``: who requested it)."""

    authorization_id: str
    owner_id: str


@attrs.frozen(kw_only=True)
class AuthorizationStatusChanged(DomainEvent):
    """A prior authorisation was submitted, approved, denied or cancelled."""

    authorization_id: str
    owner_id: str
    from_status: str
    to_status: str


@attrs.frozen(kw_only=True)
class FormStatusChanged(DomainEvent):
    """A form of the patient's paperwork moved (``owner_id``: the staff member helping)."""

    form_id: str
    owner_id: str | None
    from_status: str
    to_status: str


@attrs.frozen(kw_only=True)
class EducationRecorded(DomainEvent):
    """Education was given; ``result`` is the teach-back result, ``follow_up_id`` the
    intervention scheduled when it was not understood."""

    education_id: str
    material_id: str
    result: str
    follow_up_id: str | None


@attrs.frozen(kw_only=True)
class ScreeningRecorded(DomainEvent):
    """A social needs screening was recorded, with the barriers and needs it raised."""

    screening_id: str
    barrier_ids: tuple[str, ...]
    need_ids: tuple[str, ...]


@attrs.frozen(kw_only=True)
class PaymentPlanAgreed(DomainEvent):
    """A payment plan was agreed, resolving the cost barrier ``barrier_id``."""

    payment_plan_id: str
    barrier_id: str
    instalments: int


@attrs.frozen(kw_only=True)
class InstalmentPaid(DomainEvent):
    """An instalment of a payment plan was recorded as paid."""

    payment_plan_id: str
    number: int
