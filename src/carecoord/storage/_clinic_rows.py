"""The clinic-operations record kinds and their index rows (registered in :mod:`.records`).

Pure: imports only the model. The board, the waiting times, the stuck list,
the review worklist, the reorder and expiring-lots worklists and the ledger
run on these rows; none decodes a visit, a measurement or a movement:

=====================  ==============  ==================================================
category               ``owner_id``    row
=====================  ==============  ==================================================
``visit``              the clinic      ``status`` the state, open while the patient is in
                                       the clinic, ``due_at`` the scheduled start,
                                       ``changed_at`` since when in the state, ``detail``
                                       the :class:`~carecoord.model.clinic.VisitFacts`
``measurement-review`` the reviewer    an out-of-range measurement: ``status`` its flag,
                                       open until acknowledged, ``changed_at`` taken,
                                       ``detail`` the LOINC code
``supply-item``        the location    open while active, ``detail``
                                       ``on hand|reorder point|par level``
``stock-lot``          the location    a lot with stock and an expiry date: ``item_id``
                                       ``item|lot``, ``due_at`` the expiry date as UTC
                                       midnight (``expiry_key``), ``detail`` on hand
``stock-movement``     the item        ``item_id`` the movement, ``status`` its kind,
                                       ``due_at`` and ``changed_at`` when, ``patient_id``
                                       whom a use served, ``detail``
                                       ``sequence|quantity|lot|item balance``
``supply-order``       the location    ``status`` the order status, open while draft,
                                       ordered or partly received
``on-order``           the location    an open order's line with units to come:
                                       ``item_id`` ``order|item``, ``detail`` how many
=====================  ==============  ==================================================
"""

from __future__ import annotations

from typing import Any

from .._fastcodec import builder
from ..model.clinic import Clinic, Visit, VisitFacts
from ..model.measurements import Interpretation, Measurement
from ..model.supplies import (
    StockMovement,
    SupplyItem,
    SupplyOrder,
    SupplyOrderStatus,
    expiry_key,
)
from .port import IndexRow

__all__ = ["CLINIC_RECORD_TYPES", "clinic_rows"]

CLINIC_RECORD_TYPES: tuple[type[Any], ...] = (
    Clinic,
    Visit,
    Measurement,
    SupplyItem,
    StockMovement,
    SupplyOrder,
)
"""The clinic-operations record kinds (part of :data:`~carecoord.storage.RECORD_TYPES`)."""

_OPEN_ORDER = frozenset(
    {SupplyOrderStatus.DRAFT, SupplyOrderStatus.ORDERED, SupplyOrderStatus.PARTLY_RECEIVED}
)
_FLAG_RANK = {Interpretation.ABNORMAL: 1, Interpretation.LOW: 1, Interpretation.HIGH: 1}


def clinic_rows(record: object) -> tuple[IndexRow, ...]:
    """The index rows of a clinic-operations record (empty for any other record)."""
    row = builder(IndexRow)  # every datetime here is a model one (aware)
    match record:
        case Visit():
            return (
                row(
                    category="visit",
                    item_id=str(record.id),
                    patient_id=str(record.patient_id),
                    owner_id=str(record.clinic_id),
                    status=record.state._value_,
                    is_open=record.in_clinic,
                    priority=0,
                    due_at=record.scheduled_start,
                    changed_at=record.since,
                    detail=VisitFacts.of(record).to_detail(),
                ),
            )
        case Measurement():
            if not record.out_of_range:
                return ()
            flags = [record.interpretation, *(c.interpretation for c in record.components)]
            worst = next(f for f in flags if f is not None and f.out_of_range)
            return (
                row(
                    category="measurement-review",
                    item_id=str(record.id),
                    patient_id=str(record.patient_id),
                    owner_id=None if record.review_by is None else str(record.review_by),
                    status=worst._value_,
                    is_open=record.acknowledged_at is None,
                    priority=_FLAG_RANK.get(worst, 0),
                    due_at=None,
                    changed_at=record.taken_at,
                    detail=str(record.code),
                ),
            )
        case SupplyItem():
            return _item_rows(record)
        case StockMovement():
            return (
                row(
                    category="stock-movement",
                    item_id=str(record.id),
                    patient_id=None if record.patient_id is None else str(record.patient_id),
                    owner_id=str(record.item_id),
                    status=record.kind._value_,
                    is_open=False,
                    priority=0,
                    due_at=record.at,
                    changed_at=record.at,
                    detail=f"{record.sequence}|{record.quantity}|{record.lot_number}|"
                    f"{record.item_balance}",
                ),
            )
        case SupplyOrder():
            return _order_rows(record)
        case _:
            return ()


def _item_rows(item: SupplyItem) -> tuple[IndexRow, ...]:
    row = builder(IndexRow)
    location = str(item.location_id)
    rows = [
        row(
            category="supply-item",
            item_id=str(item.id),
            patient_id=None,
            owner_id=location,
            status="active" if item.active else "inactive",
            is_open=item.active,
            priority=0,
            due_at=None,
            changed_at=None,
            detail=f"{item.on_hand}|{item.reorder_point}|{item.par_level}",
        )
    ]
    for lot in item.lots:
        if lot.on_hand and lot.expires_on is not None:
            rows.append(
                row(
                    category="stock-lot",
                    item_id=f"{item.id}|{lot.number}",
                    patient_id=None,
                    owner_id=location,
                    status="stocked",
                    is_open=item.active,
                    priority=0,
                    due_at=expiry_key(lot.expires_on),
                    changed_at=None,
                    detail=str(lot.on_hand),
                )
            )
    return tuple(rows)


def _order_rows(order: SupplyOrder) -> tuple[IndexRow, ...]:
    row = builder(IndexRow)
    location = str(order.location_id)
    rows = [
        row(
            category="supply-order",
            item_id=str(order.id),
            patient_id=None,
            owner_id=location,
            status=order.status._value_,
            is_open=order.status in _OPEN_ORDER,
            priority=0,
            due_at=None,
            changed_at=order.last_changed_at,
            detail=None,
        )
    ]
    if order.is_open:
        rows.extend(
            row(
                category="on-order",
                item_id=f"{order.id}|{line.item_id}",
                patient_id=None,
                owner_id=location,
                status=order.status._value_,
                is_open=True,
                priority=0,
                due_at=None,
                changed_at=order.last_changed_at,
                detail=str(line.outstanding),
            )
            for line in order.lines
            if line.outstanding
        )
    return tuple(rows)
