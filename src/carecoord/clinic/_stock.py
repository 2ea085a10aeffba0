"""Stock rules: posting to the ledger, first-expiry-first-out, reorder and expiry lists.

:func:`post` is the only way stock changes: it returns the item with its lot's
new balance and the :class:`~carecoord.model.supplies.StockMovement` that
records the change, or raises :class:`~carecoord.model.supplies.OutOfStockError`
when the lot would go below zero. A lot is usable through its expiry date,
read on the clinic's local calendar.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from ..model import StaffId, ValidationError
from ..model.supplies import (
    Lot,
    LotExpiredError,
    LotNumber,
    MovementId,
    MovementKind,
    OutOfStockError,
    StockMovement,
    SupplyItem,
    SupplyItemId,
)
from ..model.workforce import LocationId
from ._views import ExpiringLot, ReorderLine

__all__ = [
    "allocate",
    "crossed_reorder_point",
    "expiring",
    "post",
    "reorder_lines",
]


def allocate(
    item: SupplyItem, quantity: int, today: date, lot: LotNumber | None = None
) -> list[tuple[LotNumber, int]]:
    """Which lots ``quantity`` units come from: ``lot`` when named, else first expiry first.

    A named lot past its expiry raises :class:`LotExpiredError`; too little
    usable stock raises :class:`OutOfStockError`. Lots without an expiry date
    go last; ties by lot number.
    """
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise ValidationError("quantity must be a positive integer", field="quantity")
    if lot is not None:
        found = item.lot(lot)
        if found is not None and found.expired(today):
            raise LotExpiredError("the lot is past its expiry date", field="lot")
        if found is None or found.on_hand < quantity:
            raise OutOfStockError(str(item.id))
        return [(found.number, quantity)]
    usable = sorted(
        (x for x in item.lots if not x.expired(today) and x.on_hand),
        key=lambda x: (x.expires_on is None, x.expires_on or today, x.number),
    )
    taken: list[tuple[LotNumber, int]] = []
    left = quantity
    for found in usable:
        take = min(left, found.on_hand)
        taken.append((found.number, take))
        left -= take
        if not left:
            return taken
    raise OutOfStockError(str(item.id))


def post(
    item: SupplyItem,
    *,
    kind: MovementKind,
    lot_number: LotNumber,
    quantity: int,
    at: datetime,
    by: StaffId,
    expires_on: date | None = None,
    **links: Any,
) -> tuple[SupplyItem, StockMovement]:
    """Post ``quantity`` (signed: positive into stock) of lot ``lot_number`` to ``item``.

    A new lot needs units coming in; an existing lot keeps its expiry date
    (``expires_on``, if given, must be the same). ``links`` are the movement's
    optional fields (``reason``, ``patient_id``, ``visit_id``, ``plan_id``,
    ``intervention_id``, ``order_id``, ``counterpart``).
    """
    if not item.active:
        raise ValidationError("the item is not stocked any more", field="item_id")
    lot = item.lot(lot_number)
    if lot is not None and expires_on is not None and lot.expires_on != expires_on:
        raise ValidationError("a lot has one expiry date", field="expires_on")
    before = 0 if lot is None else lot.on_hand
    after = before + quantity
    if after < 0:
        raise OutOfStockError(str(item.id))
    expiry = lot.expires_on if lot is not None else expires_on
    moved = item.with_lot(Lot(number=lot_number, on_hand=after, expires_on=expiry))
    movement = StockMovement(
        id=MovementId.new(),
        item_id=item.id,
        location_id=item.location_id,
        sequence=moved.sequence,
        kind=kind,
        lot_number=lot_number,
        quantity=quantity,
        lot_balance=after,
        item_balance=moved.on_hand,
        at=at,
        by=by,
        expires_on=expiry,
        **links,
    )
    return moved, movement


def crossed_reorder_point(before: int, after: int, reorder_point: int) -> bool:
    """Whether usable stock went from above the reorder point to at or below it."""
    return before > reorder_point >= after


def reorder_lines(
    items: Iterable[tuple[SupplyItemId, LocationId, int, int, int]],
    expired: Mapping[SupplyItemId, int],
    on_order: Mapping[SupplyItemId, int],
) -> list[ReorderLine]:
    """The items to reorder: ``(item, location, on hand, reorder point, par level)`` each,
    less the units in expired lots, plus the units on order, at or below the reorder point
    with something to order (``suggested`` > 0)."""
    lines = []
    for item_id, location_id, on_hand, reorder_point, par_level in items:
        usable = max(on_hand - expired.get(item_id, 0), 0)
        coming = on_order.get(item_id, 0)
        suggested = par_level - usable - coming
        if usable + coming <= reorder_point and suggested > 0:
            lines.append(
                ReorderLine(
                    item_id=item_id,
                    location_id=location_id,
                    usable=usable,
                    on_order=coming,
                    reorder_point=reorder_point,
                    par_level=par_level,
                    suggested=suggested,
                )
            )
    return sorted(lines, key=lambda x: (x.usable - x.reorder_point, x.item_id))


def expiring(
    lots: Iterable[tuple[SupplyItemId, LotNumber, LocationId, date, int]], today: date
) -> list[ExpiringLot]:
    """The lots ``(item, lot, location, expires on, on hand)`` as worklist lines, soonest
    first, each marked expired when past its date on ``today``."""
    found = [
        ExpiringLot(
            item_id=item_id,
            lot_number=number,
            location_id=location_id,
            expires_on=expires_on,
            on_hand=on_hand,
            expired=today > expires_on,
        )
        for item_id, number, location_id, expires_on, on_hand in lots
    ]
    return sorted(found, key=lambda x: (x.expires_on, x.item_id, x.lot_number))
