"""Strategies for the clinic-operations records: clinics, visits, measurements, supply
items, stock movements and supply orders (import from :mod:`.strategies`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from carecoord.model import AppointmentId, PatientId, StaffId
from carecoord.model.clinic import (
    VISIT_MACHINE,
    Clinic,
    ClinicId,
    ClinicLocation,
    RoomId,
    Visit,
    VisitId,
    VisitState,
    WaitLimit,
)
from carecoord.model.measurements import (
    CATALOGUE,
    Interpretation,
    MeasuredValue,
    Measurement,
    MeasurementId,
    ReferenceRange,
)
from carecoord.model.supplies import (
    Lot,
    LotNumber,
    MovementId,
    MovementKind,
    MovementReason,
    OrderLine,
    StockMovement,
    SupplyCode,
    SupplyItem,
    SupplyItemId,
    SupplyOrder,
    SupplyOrderId,
    SupplyOrderStatus,
)
from carecoord.model.workforce import LocationId

from ._strategies_common import (
    AWARE_DATETIMES,
    DATES,
    MAX,
    ZONE_NAMES,
    codes,
    ids,
    later,
    optional,
    texts,
    unique_ids,
)

__all__ = [
    "CLINIC_STRATEGIES",
    "clinics",
    "measurements",
    "stock_movements",
    "supply_items",
    "supply_orders",
    "visits",
]

_STEP = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=3))
_SMALL = st.integers(min_value=0, max_value=1000)
_VALUES = st.floats(min_value=-1000, max_value=1000, allow_nan=False, allow_infinity=False)
_UNITS = st.sampled_from(["kg", "%", "mm[Hg]", "mg/dL", "/min", "{pair}"])
_CODES = st.sampled_from(sorted(CATALOGUE))


@st.composite
def clinics(draw: st.DrawFn) -> Clinic:
    """A clinic with one to three locations and some wait limits."""
    places = draw(unique_ids(LocationId, min_size=1))
    limited = draw(st.lists(st.sampled_from(sorted(VisitState)), unique=True, max_size=MAX))
    allowed = [
        s for s in limited if s in (VisitState.BOOKED, VisitState.ARRIVED, VisitState.ROOMED)
    ]
    return Clinic(
        id=draw(ids(ClinicId)),
        time_zone=draw(st.sampled_from(ZONE_NAMES)),
        lead_id=draw(ids(StaffId)),
        locations=tuple(
            ClinicLocation(p, inventory_owner_id=draw(optional(ids(StaffId)))) for p in places
        ),
        staff_ids=draw(unique_ids(StaffId)),
        wait_limits=tuple(WaitLimit(s, draw(st.integers(1, 240))) for s in allowed),
        active=draw(st.booleans()),
    )


@st.composite
def visits(draw: st.DrawFn) -> Visit:
    """A visit opened booked or as a walk-in, moved legally forward in time."""
    opened = draw(AWARE_DATETIMES)
    walk_in = draw(st.booleans())
    visit = Visit(
        id=draw(ids(VisitId)),
        patient_id=draw(ids(PatientId)),
        clinic_id=draw(ids(ClinicId)),
        location_id=draw(ids(LocationId)),
        scheduled_start=opened if walk_in else later(opened, draw(_STEP)),
        opened_at=opened,
        opened_by=draw(ids(StaffId)),
        state=VisitState.ARRIVED if walk_in else VisitState.BOOKED,
        appointment_id=draw(optional(ids(AppointmentId))),
        provider_id=draw(optional(ids(StaffId))),
    )
    at = opened
    for _ in range(draw(st.integers(0, 5))):
        targets = sorted(VISIT_MACHINE.targets(visit.state))
        if not targets:
            break
        to = draw(st.sampled_from(targets))
        at = later(at, draw(_STEP))
        reason = draw(texts()) if to in VISIT_MACHINE.needs_reason else None
        room = draw(optional(ids(RoomId))) if to is VisitState.ROOMED else None
        visit = visit.moved(to, by=draw(ids(StaffId)), at=at, reason=reason, room=room)
    return visit


@st.composite
def _ranges(draw: st.DrawFn) -> ReferenceRange:
    low, high = sorted(draw(st.lists(_VALUES, min_size=2, max_size=2)))
    keep = draw(st.sampled_from(["both", "low", "high"]))
    return ReferenceRange(low=None if keep == "high" else low, high=None if keep == "low" else high)


@st.composite
def measurements(draw: st.DrawFn) -> Measurement:
    """A measurement with a value, with panel parts, or neither (a procedure), flagged."""
    code = draw(_CODES)
    shape = draw(st.sampled_from(["value", "parts", "done"]))
    value = draw(_VALUES) if shape == "value" else None
    parts: tuple[MeasuredValue, ...] = ()
    if shape == "parts":
        others = [c for c in sorted(CATALOGUE) if c != code]
        chosen = draw(st.lists(st.sampled_from(others), unique=True, min_size=1, max_size=2))
        parts = tuple(
            MeasuredValue(c, draw(_VALUES), draw(_UNITS), draw(optional(_ranges()))).interpreted()
            for c in chosen
        )
    taken = draw(AWARE_DATETIMES)
    acknowledged = draw(st.booleans())
    made = Measurement(
        id=draw(ids(MeasurementId)),
        patient_id=draw(ids(PatientId)),
        code=code,
        category=CATALOGUE[code].category,
        taken_at=taken,
        taken_by=draw(ids(StaffId)),
        value=value,
        unit=None if value is None else draw(_UNITS),
        reference_range=None if value is None else draw(optional(_ranges())),
        components=parts,
        interpretation=draw(optional(codes(Interpretation))) if shape == "done" else None,
        visit_id=draw(optional(ids(VisitId))),
        review_by=draw(optional(ids(StaffId))),
        acknowledged_by=draw(ids(StaffId)) if acknowledged else None,
        acknowledged_at=later(taken, draw(_STEP)) if acknowledged else None,
    )
    return made.interpreted()


@st.composite
def supply_items(draw: st.DrawFn) -> SupplyItem:
    """An item with up to three lots (empty lots are never kept)."""
    par = draw(_SMALL)
    numbers = draw(unique_ids(LotNumber))
    return SupplyItem(
        id=draw(ids(SupplyItemId)),
        clinic_id=draw(ids(ClinicId)),
        location_id=draw(ids(LocationId)),
        code=draw(ids(SupplyCode)),
        unit=draw(_UNITS),
        par_level=par,
        reorder_point=draw(st.integers(0, par)),
        description=draw(optional(texts())),
        lots=tuple(Lot(n, draw(st.integers(1, 500)), draw(optional(DATES))) for n in numbers),
        sequence=draw(_SMALL),
        active=draw(st.booleans()),
    )


_INTO = (MovementKind.RECEIVED, MovementKind.TRANSFERRED_IN)


@st.composite
def stock_movements(draw: st.DrawFn) -> StockMovement:
    """A movement whose quantity's sign fits its kind, linked to a patient or not."""
    kind = draw(codes(MovementKind))
    size = draw(st.integers(1, 100))
    negative = kind not in _INTO and (kind is not MovementKind.ADJUSTED or draw(st.booleans()))
    linked = draw(st.booleans())
    return StockMovement(
        id=draw(ids(MovementId)),
        item_id=draw(ids(SupplyItemId)),
        location_id=draw(ids(LocationId)),
        sequence=draw(st.integers(1, 10_000)),
        kind=kind,
        lot_number=draw(ids(LotNumber)),
        quantity=-size if negative else size,
        lot_balance=draw(_SMALL),
        item_balance=draw(_SMALL),
        at=draw(AWARE_DATETIMES),
        by=draw(ids(StaffId)),
        expires_on=draw(optional(DATES)),
        reason=draw(optional(codes(MovementReason))),
        patient_id=draw(ids(PatientId)) if linked else None,
        visit_id=draw(ids(VisitId)) if linked else None,
        order_id=draw(optional(ids(SupplyOrderId))),
        counterpart=draw(optional(ids(MovementId))),
    )


@st.composite
def supply_orders(draw: st.DrawFn) -> SupplyOrder:
    """A draft, placed, partly received or received order (cancelled ones keep history)."""
    created = draw(AWARE_DATETIMES)
    by = draw(ids(StaffId))
    lines = tuple(
        OrderLine(item, draw(st.integers(1, 100)))
        for item in draw(unique_ids(SupplyItemId, min_size=1))
    )
    order = SupplyOrder(
        id=draw(ids(SupplyOrderId)),
        clinic_id=draw(ids(ClinicId)),
        location_id=draw(ids(LocationId)),
        created_at=created,
        created_by=by,
        lines=lines,
        supplier=draw(optional(texts())),
    )
    stage = draw(st.sampled_from(["draft", "ordered", "received", "cancelled"]))
    if stage == "draft":
        return order
    order = order.transition(SupplyOrderStatus.ORDERED, by=by, at=later(created, draw(_STEP)))
    if stage == "received":
        got = [(x.item_id, draw(st.integers(1, x.quantity))) for x in lines]
        order = order.received(got, by=by, at=later(created, draw(_STEP)))
    if stage == "cancelled":
        order = order.transition(
            SupplyOrderStatus.CANCELLED, by=by, at=later(created, draw(_STEP)), reason=draw(texts())
        )
    return order


CLINIC_STRATEGIES: dict[type, SearchStrategy[Any]] = {
    Clinic: clinics(),
    Visit: visits(),
    Measurement: measurements(),
    SupplyItem: supply_items(),
    StockMovement: stock_movements(),
    SupplyOrder: supply_orders(),
}
"""One strategy per clinic-operations record kind (part of ``ENTITY_STRATEGIES``)."""
