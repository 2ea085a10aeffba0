"""Supplies: inventory items per location, lots with expiry, the stock ledger, orders.

Stock moves only through the ledger: each :class:`StockMovement` (received,
used, wasted, adjusted, transferred out or in) is a record of its own,
written once and never changed, numbered per item (``sequence`` 1, 2, ...)
and carrying the lot's and the item's balance after it. The on-hand figures are
derived from the ledger and kept as a running balance on the
:class:`SupplyItem` (its :class:`Lot` s), updated in the same atomic write as
the movement; a lot's ``on_hand`` is a non-negative integer, so no posting
can drive stock below zero. Because every posting rewrites the item against
the version it read, two people taking the last unit race on that version:
the store accepts one and refuses the other whole.

A :class:`SupplyOrder` (draft, ordered, partly received, received,
cancelled) lists what was ordered per item and how much has arrived; its
receipts post ``received`` movements.

Pure: no I/O. Codes, counts, dates and times; the free text (an item's
description, a supplier) is hidden from ``repr``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any, Self

import attrs

from ._base import (
    CarePlanId,
    EntityId,
    InterventionId,
    PatientId,
    StaffId,
    a_date,
    aware,
    non_negative_int,
    of_type,
    optional,
    positive_int,
    text,
    tuple_of,
)
from ._errors import LotExpiredError, OutOfStockError, ValidationError
from .clinic import ClinicId, VisitId
from .machine import StateMachine, Transition
from .workforce import LocationId

__all__ = [
    "ORDER_MACHINE",
    "Lot",
    "LotExpiredError",
    "LotNumber",
    "MovementId",
    "MovementKind",
    "MovementReason",
    "OrderLine",
    "OutOfStockError",
    "StockMovement",
    "SupplyCode",
    "SupplyItem",
    "SupplyItemId",
    "SupplyOrder",
    "SupplyOrderId",
    "SupplyOrderStatus",
    "SupplyReceipt",
    "expiry_key",
]


class SupplyItemId(EntityId):
    """Identifier of a :class:`SupplyItem`."""

    __slots__ = ()


class SupplyCode(EntityId):
    """A catalogue code of a product (a GTIN, a supplier's or the host's own code)."""

    __slots__ = ()


class LotNumber(EntityId):
    """A manufacturer's lot (batch) number."""

    __slots__ = ()


class MovementId(EntityId):
    """Identifier of a :class:`StockMovement` (random: see :class:`StockMovement`)."""

    __slots__ = ()


class SupplyOrderId(EntityId):
    """Identifier of a :class:`SupplyOrder`."""

    __slots__ = ()


class MovementKind(StrEnum):
    """What a ledger movement did."""

    RECEIVED = "received"
    USED = "used"
    WASTED = "wasted"
    ADJUSTED = "adjusted"
    TRANSFERRED_OUT = "transferred-out"
    TRANSFERRED_IN = "transferred-in"


_INTO = frozenset({MovementKind.RECEIVED, MovementKind.TRANSFERRED_IN})
_OUT_OF = frozenset({MovementKind.USED, MovementKind.WASTED, MovementKind.TRANSFERRED_OUT})


class MovementReason(StrEnum):
    """Why stock was wasted or adjusted (a code, never free text)."""

    EXPIRED = "expired"
    DAMAGED = "damaged"
    CONTAMINATED = "contaminated"
    COUNT_CORRECTION = "count-correction"
    OTHER = "other"


def expiry_key(day: date) -> datetime:
    """A calendar date as an instant: its midnight in UTC (the ``due_at`` of a lot's row).

    Dates compare exactly this way whatever the clinic's zone; "expiring by
    the clinic's today + n days" turns that local date into the same key.
    """
    return datetime.combine(day, time.min, UTC)


@attrs.frozen
class Lot:
    """A lot of an item at its location: number, expiry date (if any) and how many are left."""

    number: LotNumber = attrs.field(validator=of_type(LotNumber))
    on_hand: int = attrs.field(validator=non_negative_int)
    expires_on: date | None = attrs.field(default=None, validator=optional(a_date))

    def expired(self, today: date) -> bool:
        """Whether the lot is past its expiry date on ``today`` (usable through that date)."""
        return self.expires_on is not None and today > self.expires_on


def _lots(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    tuple_of(Lot)(inst, attr, value)
    numbers = [lot.number for lot in value]
    if len(set(numbers)) != len(numbers):
        raise ValidationError("SupplyItem.lots repeat a lot number", field=attr.name)


@attrs.frozen
class SupplyItem:
    """A stocked product at one location of a clinic, and its running balance.

    ``par_level`` is how many the location should hold after a delivery,
    ``reorder_point`` the level at or below which it is reordered. ``lots``
    hold the stock; ``sequence`` counts the movements posted so far (the
    ledger's length). Stock changes only by posting movements: create an item
    without lots and receive into it.
    """

    id: SupplyItemId = attrs.field(validator=of_type(SupplyItemId))
    clinic_id: ClinicId = attrs.field(validator=of_type(ClinicId))
    location_id: LocationId = attrs.field(validator=of_type(LocationId))
    code: SupplyCode = attrs.field(validator=of_type(SupplyCode))
    unit: str = attrs.field(validator=text(max_len=30))
    par_level: int = attrs.field(validator=non_negative_int)
    reorder_point: int = attrs.field(validator=non_negative_int)
    description: str | None = attrs.field(
        default=None, validator=optional(text(max_len=200)), repr=False
    )
    lots: tuple[Lot, ...] = attrs.field(default=(), validator=_lots)
    sequence: int = attrs.field(default=0, validator=non_negative_int)
    active: bool = attrs.field(default=True, validator=of_type(bool))

    def __attrs_post_init__(self) -> None:
        if self.reorder_point > self.par_level:
            raise ValidationError(
                "SupplyItem.reorder_point must not exceed par_level", field="reorder_point"
            )

    @property
    def on_hand(self) -> int:
        """Units on hand, expired or not."""
        return sum(lot.on_hand for lot in self.lots)

    def usable(self, today: date) -> int:
        """Units on hand in lots not past their expiry on ``today``."""
        return sum(lot.on_hand for lot in self.lots if not lot.expired(today))

    def lot(self, number: LotNumber | str) -> Lot | None:
        """The lot ``number``, or ``None``."""
        for lot in self.lots:
            if lot.number == number:
                return lot
        return None

    def with_lot(self, lot: Lot) -> SupplyItem:
        """A copy with ``lot`` replacing the lot of that number (or added), one movement on.

        An empty lot is dropped (its history stays in the ledger).
        """
        lots = [lot if old.number == lot.number else old for old in self.lots]
        if self.lot(lot.number) is None:
            lots.append(lot)
        kept = tuple(x for x in lots if x.on_hand)
        return attrs.evolve(self, lots=kept, sequence=self.sequence + 1)


def _signed(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value == 0:
        raise ValidationError("StockMovement.quantity must be a non-zero integer", field=attr.name)


@attrs.frozen
class StockMovement:
    """One posting to an item's ledger: never changed once written.

    ``quantity`` is signed (positive into stock); its sign follows ``kind``
    (an adjustment may go either way). ``lot_balance`` and ``item_balance``
    are the lot's and the item's on-hand after this movement. A use may name
    the ``visit_id`` or the intervention (``plan_id`` and ``intervention_id``)
    it served, with that record's ``patient_id``; a receipt its ``order_id``; a
    transfer the movement on the other side (``counterpart``).

    ``sequence`` numbers the item's movements 1, 2, ... (the item's own
    ``sequence`` after the posting). The ``id`` is random, so two writers racing
    for the same sequence number collide on the item's version alone, and the
    loser is run again on fresh data.
    """

    id: MovementId = attrs.field(validator=of_type(MovementId))
    item_id: SupplyItemId = attrs.field(validator=of_type(SupplyItemId))
    location_id: LocationId = attrs.field(validator=of_type(LocationId))
    sequence: int = attrs.field(validator=positive_int)
    kind: MovementKind = attrs.field(validator=of_type(MovementKind))
    lot_number: LotNumber = attrs.field(validator=of_type(LotNumber))
    quantity: int = attrs.field(validator=_signed)
    lot_balance: int = attrs.field(validator=non_negative_int)
    item_balance: int = attrs.field(validator=non_negative_int)
    at: datetime = attrs.field(validator=aware)
    by: StaffId = attrs.field(validator=of_type(StaffId))
    expires_on: date | None = attrs.field(default=None, validator=optional(a_date))
    reason: MovementReason | None = attrs.field(
        default=None, validator=optional(of_type(MovementReason))
    )
    patient_id: PatientId | None = attrs.field(default=None, validator=optional(of_type(PatientId)))
    visit_id: VisitId | None = attrs.field(default=None, validator=optional(of_type(VisitId)))
    plan_id: CarePlanId | None = attrs.field(default=None, validator=optional(of_type(CarePlanId)))
    intervention_id: InterventionId | None = attrs.field(
        default=None, validator=optional(of_type(InterventionId))
    )
    order_id: SupplyOrderId | None = attrs.field(
        default=None, validator=optional(of_type(SupplyOrderId))
    )
    counterpart: MovementId | None = attrs.field(
        default=None, validator=optional(of_type(MovementId))
    )

    def __attrs_post_init__(self) -> None:
        if (self.kind in _INTO and self.quantity < 0) or (
            self.kind in _OUT_OF and self.quantity > 0
        ):
            raise ValidationError("the quantity's sign does not fit the kind", field="quantity")
        if (self.plan_id is None) != (self.intervention_id is None):
            raise ValidationError(
                "plan_id and intervention_id go together", field="intervention_id"
            )
        linked = self.visit_id is not None or self.intervention_id is not None
        if linked != (self.patient_id is not None):
            raise ValidationError(
                "a movement names a patient exactly when it names a visit or intervention",
                field="patient_id",
            )


class SupplyOrderStatus(StrEnum):
    """Where a supply order is."""

    DRAFT = "draft"
    ORDERED = "ordered"
    PARTLY_RECEIVED = "partly-received"
    RECEIVED = "received"
    CANCELLED = "cancelled"


_O = SupplyOrderStatus
ORDER_MACHINE: StateMachine[SupplyOrderStatus] = StateMachine(
    "SupplyOrder",
    SupplyOrderStatus,
    {
        _O.DRAFT: (_O.ORDERED, _O.CANCELLED),
        _O.ORDERED: (_O.PARTLY_RECEIVED, _O.RECEIVED, _O.CANCELLED),
        _O.PARTLY_RECEIVED: (_O.PARTLY_RECEIVED, _O.RECEIVED, _O.CANCELLED),
    },
    needs_reason=(_O.CANCELLED,),
)
"""A supply order: cancelling a partly received one keeps what arrived."""


@attrs.frozen
class OrderLine:
    """``quantity`` of an item ordered, ``received`` of it so far."""

    item_id: SupplyItemId = attrs.field(validator=of_type(SupplyItemId))
    quantity: int = attrs.field(validator=positive_int)
    received: int = attrs.field(default=0, validator=non_negative_int)

    def __attrs_post_init__(self) -> None:
        if self.received > self.quantity:
            raise ValidationError("OrderLine.received must not exceed quantity", field="received")

    @property
    def outstanding(self) -> int:
        """How many are still to come."""
        return self.quantity - self.received


def _lines(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    tuple_of(OrderLine)(inst, attr, value)
    items = [line.item_id for line in value]
    if not items or len(set(items)) != len(items):
        raise ValidationError(
            "SupplyOrder.lines must name at least one item, each once", field=attr.name
        )


@attrs.frozen
class SupplyOrder:
    """An order of supplies for one location of a clinic.

    ``supplier`` is free text (hidden from ``repr``). Receipts raise the lines'
    ``received``; the status follows (partly received, received).
    """

    id: SupplyOrderId = attrs.field(validator=of_type(SupplyOrderId))
    clinic_id: ClinicId = attrs.field(validator=of_type(ClinicId))
    location_id: LocationId = attrs.field(validator=of_type(LocationId))
    created_at: datetime = attrs.field(validator=aware)
    created_by: StaffId = attrs.field(validator=of_type(StaffId))
    lines: tuple[OrderLine, ...] = attrs.field(validator=_lines)
    status: SupplyOrderStatus = attrs.field(default=_O.DRAFT, validator=of_type(SupplyOrderStatus))
    supplier: str | None = attrs.field(
        default=None, validator=optional(text(max_len=200)), repr=False
    )
    history: tuple[Transition[SupplyOrderStatus], ...] = attrs.field(
        default=(), validator=tuple_of(Transition)
    )

    @property
    def is_open(self) -> bool:
        """Whether more may still arrive (ordered or partly received)."""
        return self.status in (_O.ORDERED, _O.PARTLY_RECEIVED)

    @property
    def ordered_at(self) -> datetime | None:
        """When the order was placed."""
        for step in self.history:
            if step.to_status is _O.ORDERED:
                return step.at
        return None

    @property
    def last_changed_at(self) -> datetime:
        """When the status last changed (creation time when it never did)."""
        return self.history[-1].at if self.history else self.created_at

    def line(self, item_id: SupplyItemId | str) -> OrderLine:
        """The line of ``item_id``; ValidationError when the order has none."""
        for line in self.lines:
            if line.item_id == item_id:
                return line
        raise ValidationError("the item is not on this order", field="item_id")

    def transition(
        self, to: SupplyOrderStatus | str, *, by: StaffId, at: datetime, reason: str | None = None
    ) -> Self:
        """A copy moved to ``to`` (receipts move it with :meth:`received`)."""
        step = ORDER_MACHINE.transition(self.status, to, by=by, at=at, reason=reason)
        if step.to_status in (_O.PARTLY_RECEIVED, _O.RECEIVED):
            raise ValidationError("receive the goods to move an order to received")
        return attrs.evolve(self, status=step.to_status, history=(*self.history, step))

    def received(
        self, quantities: Iterable[tuple[SupplyItemId, int]], *, by: StaffId, at: datetime
    ) -> Self:
        """A copy with the ``(item, quantity)`` of one delivery received (each at most what is
        outstanding of its line): one step of history, to partly received or received."""
        lines = {line.item_id: line for line in self.lines}
        for item_id, quantity in quantities:
            line = lines.get(item_id)
            if line is None:
                raise ValidationError("the item is not on this order", field="item_id")
            if quantity < 1 or quantity > line.outstanding:
                raise ValidationError(
                    "a receipt must be between 1 and what is outstanding", field="quantity"
                )
            lines[item_id] = attrs.evolve(line, received=line.received + quantity)
        done = all(x.outstanding == 0 for x in lines.values())
        target = _O.RECEIVED if done else _O.PARTLY_RECEIVED
        step = ORDER_MACHINE.transition(self.status, target, by=by, at=at)
        return attrs.evolve(
            self, lines=tuple(lines.values()), status=target, history=(*self.history, step)
        )


@attrs.frozen
class SupplyReceipt:
    """Goods that arrived for an order: ``quantity`` of ``item_id`` from one lot."""

    item_id: SupplyItemId = attrs.field(validator=of_type(SupplyItemId))
    quantity: int = attrs.field(validator=positive_int)
    lot_number: LotNumber = attrs.field(validator=of_type(LotNumber))
    expires_on: date | None = attrs.field(default=None, validator=optional(a_date))
