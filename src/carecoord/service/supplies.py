"""Supply use cases: items, the stock ledger (receive, use, waste, adjust, transfer), worklists.

Every change of stock posts movements to the ledger and rewrites the item's
running balance in one unit of work, against the item's version as read. Two
people taking the last unit both read it on hand; the store accepts one
batch and refuses the other whole, the runner runs the loser again on fresh
data, and it finds nothing left: :class:`~carecoord.model.supplies.OutOfStockError`.
So the ledger never goes below zero on any store.

Using stock (and wasting it) is for the clinic's staff; receiving, adjusting,
transferring and keeping the items is for the location's stock keepers (see
:mod:`._clinic_access`). A use linked to a visit or an intervention needs
``document`` on that patient instead. The reorder and expiring-lots worklists
and the ledger are read from index rows only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from .. import events as ev
from ..access import Permission
from ..clinic import (
    ExpiringLot,
    LedgerLine,
    ReorderLine,
    allocate,
    crossed_reorder_point,
    expiring,
    post,
    reorder_lines,
)
from ..model import (
    CarePlan,
    CarePlanId,
    InterventionId,
    PatientId,
    StorageError,
    ValidationError,
)
from ..model.audit import AuditAction
from ..model.clinic import Clinic, ClinicId, Visit, VisitId
from ..model.supplies import (
    LotNumber,
    MovementId,
    MovementKind,
    MovementReason,
    StockMovement,
    SupplyItem,
    SupplyItemId,
    expiry_key,
)
from ..model.workforce import LocationId
from ..storage.port import WorkQuery
from . import _access
from ._clinic_access import (
    check_window,
    clinic_access,
    get_clinic,
    get_item,
    ints,
    local_today,
    stock_access,
)
from ._util import check, code
from .runner import Context, operation

__all__ = [
    "adjust_stock",
    "commit_postings",
    "expiring_lots",
    "receive_stock",
    "reorder_list",
    "save_supply_item",
    "stock_ledger",
    "supply_item",
    "transfer_stock",
    "use_supply",
    "waste_stock",
]


def _no_patient(ctx: Context) -> dict[str, Any]:
    return {"at": ctx.now, "actor": str(ctx.actor_id), "patient_id": None}


def commit_postings(
    ctx: Context,
    place: Clinic,
    before: SupplyItem,
    after: SupplyItem,
    movements: Sequence[StockMovement],
) -> None:
    """Save ``after`` (checked against the version read) before adding its movements, and
    announce low stock when the postings took usable stock to the reorder point or below."""
    ctx.uow.save(after)
    for movement in movements:
        ctx.uow.add(movement)
    today = local_today(place, ctx.now)
    usable = after.usable(today)
    if crossed_reorder_point(before.usable(today), usable, after.reorder_point):
        owner = place.location(after.location_id).inventory_owner_id
        ctx.emit(
            ev.StockLow(
                **_no_patient(ctx),
                item_id=str(after.id),
                location_id=str(after.location_id),
                usable=usable,
                reorder_point=after.reorder_point,
                owner_id=None if owner is None else str(owner),
            )
        )


@operation(AuditAction.UPDATE)
def save_supply_item(ctx: Context, item: SupplyItem) -> SupplyItem:
    """Create an item at a clinic's location, or change its code, description, levels and
    whether it is stocked (stock keepers). Its lots change only through the ledger: a new
    item has none, an update keeps the stored ones."""
    check(item, SupplyItem)
    uow = ctx.uow
    place = get_clinic(uow, item.clinic_id)
    place.location(item.location_id)
    stock_access(ctx, place, item.location_id, f"SupplyItem/{item.id}")
    stored = uow.find(SupplyItem, item.id)
    if stored is None:
        if item.lots or item.sequence:
            raise ValidationError("a new item has no stock yet: receive into it", field="lots")
        ctx.action = AuditAction.CREATE
        uow.add(item)
        return item
    if (stored.clinic_id, stored.location_id, stored.unit) != (
        item.clinic_id,
        item.location_id,
        item.unit,
    ):
        raise ValidationError("an item keeps its clinic, location and unit", field="unit")
    kept = attrs.evolve(item, lots=stored.lots, sequence=stored.sequence)
    uow.save(kept)
    return kept


@operation(AuditAction.READ)
def supply_item(ctx: Context, item_id: SupplyItemId) -> SupplyItem:
    """Read an item with its lots and running balance (the clinic's staff)."""
    item = get_item(ctx.uow, item_id)
    clinic_access(ctx, get_clinic(ctx.uow, item.clinic_id))
    ctx.entity = f"SupplyItem/{item.id}"
    return item


@operation(AuditAction.UPDATE)
def receive_stock(
    ctx: Context,
    item_id: SupplyItemId,
    quantity: int,
    lot: LotNumber,
    expires_on: date | None = None,
) -> StockMovement:
    """Receive stock that came without an order (stock keepers); see also
    :func:`~carecoord.service.supply_orders.receive_supply_order`."""
    item = get_item(ctx.uow, item_id)
    place = get_clinic(ctx.uow, item.clinic_id)
    stock_access(ctx, place, item.location_id, f"SupplyItem/{item.id}")
    _positive(quantity)
    after, movement = post(
        item,
        kind=MovementKind.RECEIVED,
        lot_number=LotNumber(lot),
        quantity=quantity,
        at=ctx.now,
        by=ctx.actor_id,
        expires_on=expires_on,
    )
    commit_postings(ctx, place, item, after, [movement])
    return movement


def _positive(quantity: object) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise ValidationError("quantity must be a positive integer", field="quantity")
    return quantity


def _links(
    ctx: Context,
    item: SupplyItem,
    visit_id: VisitId | None,
    plan_id: CarePlanId | None,
    intervention_id: InterventionId | None,
) -> dict[str, Any]:
    """The patient links of a use, access checked (``document`` on the patient)."""
    links: dict[str, Any] = {}
    patient: PatientId | None = None
    if visit_id is not None:
        seen = ctx.load(Visit, visit_id, Permission.DOCUMENT)
        if seen.clinic_id != item.clinic_id:
            raise ValidationError("the visit is at another clinic", field="visit_id")
        patient, links["visit_id"] = seen.patient_id, seen.id
    if (plan_id is None) != (intervention_id is None):
        raise ValidationError("name both the plan and the intervention", field="intervention_id")
    if plan_id is not None and intervention_id is not None:
        plan = ctx.load(CarePlan, plan_id, Permission.DOCUMENT)
        plan.intervention(intervention_id)
        if patient is not None and plan.patient_id != patient:
            raise ValidationError("the visit and the intervention are of different patients")
        patient = plan.patient_id
        links["plan_id"], links["intervention_id"] = plan.id, intervention_id
    if patient is not None:
        links["patient_id"] = patient
    return links


def _take(
    ctx: Context,
    item_id: SupplyItemId,
    quantity: int,
    lot: LotNumber | None,
    kind: MovementKind,
    **links: Any,
) -> list[StockMovement]:
    item = get_item(ctx.uow, item_id)
    place = get_clinic(ctx.uow, item.clinic_id)
    today = local_today(place, ctx.now)
    after = item
    movements = []
    for number, taken in allocate(item, _positive(quantity), today, lot):
        after, movement = post(
            after,
            kind=kind,
            lot_number=number,
            quantity=-taken,
            at=ctx.now,
            by=ctx.actor_id,
            **links,
        )
        movements.append(movement)
    commit_postings(ctx, place, item, after, movements)
    return movements


@operation(AuditAction.UPDATE)
def use_supply(
    ctx: Context,
    item_id: SupplyItemId,
    quantity: int,
    lot: LotNumber | None = None,
    visit_id: VisitId | None = None,
    plan_id: CarePlanId | None = None,
    intervention_id: InterventionId | None = None,
) -> list[StockMovement]:
    """Use ``quantity`` units: from ``lot``, or first expiry first over the lots not past
    their date. Linked to a visit or an intervention (``document`` on its patient), else
    for the clinic's staff. Not enough usable stock raises OutOfStockError."""
    item = get_item(ctx.uow, item_id)
    links = _links(ctx, item, visit_id, plan_id, intervention_id)
    if "patient_id" not in links:
        clinic_access(ctx, get_clinic(ctx.uow, item.clinic_id))
    ctx.entity = f"SupplyItem/{item.id}"
    return _take(ctx, item.id, quantity, lot, MovementKind.USED, **links)


@operation(AuditAction.UPDATE)
def waste_stock(
    ctx: Context,
    item_id: SupplyItemId,
    lot: LotNumber,
    quantity: int,
    reason: MovementReason | str,
) -> StockMovement:
    """Take ``quantity`` units of a lot out of stock as waste (expired ones too), with why
    (the clinic's staff)."""
    why = code(MovementReason, reason, "reason")
    item = get_item(ctx.uow, item_id)
    place = get_clinic(ctx.uow, item.clinic_id)
    clinic_access(ctx, place)
    ctx.entity = f"SupplyItem/{item.id}"
    after, movement = post(
        item,
        kind=MovementKind.WASTED,
        lot_number=LotNumber(lot),
        quantity=-_positive(quantity),
        at=ctx.now,
        by=ctx.actor_id,
        reason=why,
    )
    commit_postings(ctx, place, item, after, [movement])
    return movement


@operation(AuditAction.UPDATE)
def adjust_stock(
    ctx: Context,
    item_id: SupplyItemId,
    lot: LotNumber,
    quantity: int,
    reason: MovementReason | str,
    expires_on: date | None = None,
) -> StockMovement:
    """Correct a lot's count by ``quantity`` (signed) after a stock take, with why (stock
    keepers); a count cannot go below zero."""
    why = code(MovementReason, reason, "reason")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity == 0:
        raise ValidationError("quantity must be a non-zero integer", field="quantity")
    item = get_item(ctx.uow, item_id)
    place = get_clinic(ctx.uow, item.clinic_id)
    stock_access(ctx, place, item.location_id, f"SupplyItem/{item.id}")
    after, movement = post(
        item,
        kind=MovementKind.ADJUSTED,
        lot_number=LotNumber(lot),
        quantity=quantity,
        at=ctx.now,
        by=ctx.actor_id,
        expires_on=expires_on,
        reason=why,
    )
    commit_postings(ctx, place, item, after, [movement])
    return movement


@operation(AuditAction.UPDATE)
def transfer_stock(
    ctx: Context,
    from_item_id: SupplyItemId,
    to_item_id: SupplyItemId,
    quantity: int,
    lot: LotNumber | None = None,
) -> list[StockMovement]:
    """Move ``quantity`` units of the same product (same code and unit) from one location's
    item to another's, lot by lot (first expiry first unless ``lot``), keeping lot numbers
    and expiry dates: a transfer-out and a transfer-in per lot, naming each other (stock
    keepers of the sending location)."""
    source = get_item(ctx.uow, from_item_id)
    target = get_item(ctx.uow, to_item_id)
    place = get_clinic(ctx.uow, source.clinic_id)
    stock_access(ctx, place, source.location_id, f"SupplyItem/{source.id}")
    if source.id == target.id:
        raise ValidationError("a transfer goes to another item", field="to_item_id")
    if (source.code, source.unit) != (target.code, target.unit):
        raise ValidationError("a transfer keeps the product and its unit", field="to_item_id")
    today = local_today(place, ctx.now)
    out, into = source, target
    sent: list[StockMovement] = []
    came: list[StockMovement] = []
    for number, taken in allocate(source, _positive(quantity), today, lot):
        expiry = out.lot(number).expires_on  # type: ignore[union-attr]
        out, gone = post(
            out,
            kind=MovementKind.TRANSFERRED_OUT,
            lot_number=number,
            quantity=-taken,
            at=ctx.now,
            by=ctx.actor_id,
        )
        into, arrived = post(
            into,
            kind=MovementKind.TRANSFERRED_IN,
            lot_number=number,
            quantity=taken,
            at=ctx.now,
            by=ctx.actor_id,
            expires_on=expiry,
            counterpart=gone.id,
        )
        sent.append(attrs.evolve(gone, counterpart=arrived.id))
        came.append(arrived)
    commit_postings(ctx, place, source, out, sent)
    commit_postings(ctx, get_clinic(ctx.uow, target.clinic_id), target, into, came)
    return [*sent, *came]


def _locations(place: Clinic, location_id: LocationId | None) -> list[LocationId]:
    if location_id is not None:
        return [place.location(location_id).id]
    return [loc.id for loc in place.locations]


@operation(AuditAction.READ)
def reorder_list(
    ctx: Context, clinic_id: ClinicId, location_id: LocationId | None = None
) -> list[ReorderLine]:
    """Items of a clinic (or one location) at or below their reorder point, counting usable
    stock (not past expiry today) and what is on order, with the quantity back to par."""
    place = get_clinic(ctx.uow, clinic_id)
    clinic_access(ctx, place)
    today_key = expiry_key(local_today(place, ctx.now))
    lines: list[ReorderLine] = []
    for loc in _locations(place, location_id):
        owner = (str(loc),)
        items = []
        for hit in ctx.uow.query(WorkQuery(category="supply-item", owner_ids=owner)):
            on_hand, point, par = ints(hit.row.detail, 3, f"SupplyItem {hit.record_id}")
            items.append((SupplyItemId(hit.record_id), loc, on_hand, point, par))
        expired: dict[SupplyItemId, int] = {}
        lots = WorkQuery(category="stock-lot", owner_ids=owner, due_before=today_key)
        for hit in ctx.uow.query(lots):
            key = SupplyItemId(hit.record_id)
            expired[key] = expired.get(key, 0) + ints(hit.row.detail, 1, "a lot")[0]
        coming: dict[SupplyItemId, int] = {}
        for hit in ctx.uow.query(WorkQuery(category="on-order", owner_ids=owner)):
            key = SupplyItemId(hit.row.item_id.split("|")[-1])
            coming[key] = coming.get(key, 0) + ints(hit.row.detail, 1, "an order line")[0]
        lines += reorder_lines(items, expired, coming)
    return lines


@operation(AuditAction.READ)
def expiring_lots(
    ctx: Context,
    clinic_id: ClinicId,
    within_days: int = 30,
    location_id: LocationId | None = None,
) -> list[ExpiringLot]:
    """Lots with stock at a clinic (or one location) past their expiry date or reaching it
    within ``within_days`` of the clinic's today, soonest first."""
    if isinstance(within_days, bool) or not isinstance(within_days, int) or within_days < 0:
        raise ValidationError("within_days must be a non-negative integer", field="within_days")
    place = get_clinic(ctx.uow, clinic_id)
    clinic_access(ctx, place)
    today = local_today(place, ctx.now)
    until = expiry_key(today + timedelta(days=within_days + 1))
    found = []
    for loc in _locations(place, location_id):
        query = WorkQuery(category="stock-lot", owner_ids=(str(loc),), due_before=until)
        for hit in ctx.uow.query(query):
            row = hit.row
            item, _, number = row.item_id.partition("|")
            if row.due_at is None or not number:
                raise StorageError(f"index row of SupplyItem {hit.record_id} is invalid")
            on_hand = ints(row.detail, 1, f"SupplyItem {hit.record_id}")[0]
            found.append((SupplyItemId(item), LotNumber(number), loc, row.due_at.date(), on_hand))
    return expiring(found, today)


@operation(AuditAction.READ)
def stock_ledger(
    ctx: Context, item_id: SupplyItemId, start: datetime, end: datetime
) -> list[LedgerLine]:
    """An item's movements in ``[start, end)`` in ledger order (the clinic's staff); a use's
    patient is shown only to those who may read that patient."""
    check_window(start, end)
    item = get_item(ctx.uow, item_id)
    clinic_access(ctx, get_clinic(ctx.uow, item.clinic_id))
    ctx.entity = f"SupplyItem/{item.id}"
    query = WorkQuery(
        category="stock-movement",
        owner_ids=(str(item.id),),
        open_only=False,
        due_from=start,
        due_before=end,
    )
    hits = list(ctx.uow.query(query))
    can_read = _access.readable(ctx)
    can_read.prefetch(h.row.patient_id for h in hits)
    lines = []
    for hit in hits:
        row = hit.row
        parts = (row.detail or "").split("|")
        if len(parts) != 4 or row.due_at is None:
            raise StorageError(f"index row of StockMovement {hit.record_id} is invalid")
        sequence, quantity, balance = ints("|".join(parts[:2] + parts[3:]), 3, "a movement")
        patient = row.patient_id
        lines.append(
            LedgerLine(
                movement_id=MovementId(row.item_id),
                sequence=sequence,
                kind=MovementKind(row.status),
                quantity=quantity,
                lot_number=LotNumber(parts[2]),
                item_balance=balance,
                at=row.due_at,
                patient_id=PatientId(patient) if patient and can_read(patient) else None,
            )
        )
    return sorted(lines, key=lambda line: line.sequence)
