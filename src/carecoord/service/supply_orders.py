"""Supply-order use cases: draft, place, receive (in part or whole), cancel, list.

Orders belong to a clinic's location and are kept by its stock keepers (see
:mod:`._clinic_access`). A receipt posts ``received`` movements to the items'
ledgers and raises the order's received counts in the same unit of work, so
the stock and the order never disagree; the order becomes partly received or
received accordingly.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from .. import events as ev
from ..clinic import post
from ..model import NotFoundError, StorageError, ValidationError
from ..model._base import instant
from ..model.audit import AuditAction
from ..model.clinic import Clinic, ClinicId
from ..model.supplies import (
    MovementKind,
    StockMovement,
    SupplyItem,
    SupplyOrder,
    SupplyOrderId,
    SupplyOrderStatus,
    SupplyReceipt,
)
from ..model.workforce import LocationId
from ..storage.port import WorkQuery
from ._clinic_access import clinic_access, get_clinic, get_item, stock_access
from .runner import Context, operation
from .supplies import commit_postings

__all__ = [
    "cancel_supply_order",
    "create_supply_order",
    "place_supply_order",
    "receive_supply_order",
    "supply_orders",
]


def _order(ctx: Context, order_id: SupplyOrderId) -> tuple[SupplyOrder, Clinic]:
    found = ctx.uow.find(SupplyOrder, str(order_id))
    if found is None:
        raise NotFoundError(f"supply order {order_id} not found")
    place = get_clinic(ctx.uow, found.clinic_id)
    stock_access(ctx, place, found.location_id, f"SupplyOrder/{found.id}")
    return found, place


def _moved(ctx: Context, old: SupplyOrder, new: SupplyOrder) -> None:
    ctx.uow.save(new)
    ctx.emit(
        ev.SupplyOrderStatusChanged(
            at=ctx.now,
            actor=str(ctx.actor_id),
            patient_id=None,
            order_id=str(new.id),
            location_id=str(new.location_id),
            from_status=old.status.value,
            to_status=new.status.value,
        )
    )


@operation(AuditAction.CREATE)
def create_supply_order(ctx: Context, order: SupplyOrder) -> SupplyOrder:
    """Draft an order (stock keepers of its location); it is stamped as created by the
    actor, now. Every line's item must be stocked at that location."""
    if not isinstance(order, SupplyOrder):
        raise ValidationError("expected a SupplyOrder")
    place = get_clinic(ctx.uow, order.clinic_id)
    place.location(order.location_id)
    stock_access(ctx, place, order.location_id, f"SupplyOrder/{order.id}")
    if order.status is not SupplyOrderStatus.DRAFT or order.history:
        raise ValidationError("a new order is a draft", field="status")
    for line in order.lines:
        item = get_item(ctx.uow, line.item_id)
        if item.location_id != order.location_id or not item.active:
            raise ValidationError("an order line's item is not stocked here", field="lines")
        if line.received:
            raise ValidationError("a new order has received nothing", field="lines")
    made = attrs.evolve(order, created_by=ctx.actor_id, created_at=ctx.now)
    ctx.uow.add(made)
    return made


@operation(AuditAction.UPDATE)
def place_supply_order(ctx: Context, order_id: SupplyOrderId) -> SupplyOrder:
    """Place a drafted order with its supplier (draft to ordered)."""
    old, _ = _order(ctx, order_id)
    new = old.transition(SupplyOrderStatus.ORDERED, by=ctx.actor_id, at=ctx.now)
    _moved(ctx, old, new)
    return new


@operation(AuditAction.UPDATE)
def cancel_supply_order(ctx: Context, order_id: SupplyOrderId, reason: str) -> SupplyOrder:
    """Cancel an order (what arrived before stays in stock); a reason is required."""
    old, _ = _order(ctx, order_id)
    new = old.transition(SupplyOrderStatus.CANCELLED, by=ctx.actor_id, at=ctx.now, reason=reason)
    _moved(ctx, old, new)
    return new


@operation(AuditAction.UPDATE)
def receive_supply_order(
    ctx: Context, order_id: SupplyOrderId, receipts: Sequence[SupplyReceipt]
) -> tuple[SupplyOrder, list[StockMovement]]:
    """Receive goods for a placed order: each receipt posts a ``received`` movement of its
    lot to the item's ledger and counts against its line (never more than outstanding).
    Returns the order (partly received or received) and the movements."""
    receipts = tuple(receipts)
    if not receipts or not all(isinstance(r, SupplyReceipt) for r in receipts):
        raise ValidationError("receive at least one SupplyReceipt", field="receipts")
    old, place = _order(ctx, order_id)
    if not old.is_open:
        raise ValidationError("only a placed order receives goods", field="status")
    order = old.received([(r.item_id, r.quantity) for r in receipts], by=ctx.actor_id, at=ctx.now)
    before: dict[str, SupplyItem] = {}
    after: dict[str, SupplyItem] = {}
    movements: dict[str, list[StockMovement]] = {}
    for receipt in receipts:
        key = str(receipt.item_id)
        if key not in before:
            before[key] = after[key] = get_item(ctx.uow, key)
        after[key], movement = post(
            after[key],
            kind=MovementKind.RECEIVED,
            lot_number=receipt.lot_number,
            quantity=receipt.quantity,
            at=ctx.now,
            by=ctx.actor_id,
            expires_on=receipt.expires_on,
            order_id=order.id,
        )
        movements.setdefault(key, []).append(movement)
    for key, item in after.items():
        commit_postings(ctx, place, before[key], item, movements[key])
    _moved(ctx, old, order)
    return order, [m for key in after for m in movements[key]]


@operation(AuditAction.READ)
def supply_orders(
    ctx: Context,
    clinic_id: ClinicId,
    location_id: LocationId | None = None,
    open_only: bool = True,
) -> list[SupplyOrder]:
    """The orders of a clinic (or one location), open ones only unless ``open_only`` is
    false, most recently changed first (the clinic's staff)."""
    place = get_clinic(ctx.uow, clinic_id)
    clinic_access(ctx, place)
    places = [location_id] if location_id is not None else [loc.id for loc in place.locations]
    if location_id is not None:
        place.location(location_id)
    query = WorkQuery(
        category="supply-order", owner_ids=tuple(str(p) for p in places), open_only=open_only
    )
    found = []
    for hit in ctx.uow.query(query):
        order = ctx.uow.find(SupplyOrder, hit.record_id)
        if order is None:
            raise StorageError(f"index row of SupplyOrder {hit.record_id} has no record")
        found.append(order)
    return sorted(found, key=lambda o: (instant(o.last_changed_at), o.id), reverse=True)
