"""The clinic-operations operations of the audit table (tests/test_service_audit.py).

Operation name -> (call as the allowed actor, call as someone denied, or None when every
active staff member may call it). Order matters: later calls use what earlier ones made.
Each call makes exactly one audit entry; setup that must not be audited (the annex's item
a transfer goes to) is written straight to the store. The outsider broke the glass for the
patient earlier in the table (read and document), so denials of patient records use
permissions an emergency grant does not give, or a record that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from carecoord import PatientId
from carecoord.model.clinic import Clinic, ClinicId, ClinicLocation, Visit, VisitId
from carecoord.model.measurements import LoincCode, Measurement, MeasurementCategory, MeasurementId
from carecoord.model.supplies import (
    LotNumber,
    OrderLine,
    SupplyCode,
    SupplyItem,
    SupplyItemId,
    SupplyOrder,
    SupplyOrderId,
    SupplyReceipt,
)
from carecoord.model.workforce import LocationId
from carecoord.service import CareCoordinator
from carecoord.storage import UnitOfWork
from world import COORD, LEAD_MA, MA, NURSE, OUTSIDER, PATIENT, T0

__all__ = ["CLINIC_OPERATIONS"]

Call = Callable[[CareCoordinator, Any], Any]
CLINIC = ClinicId("audit-clinic")
MAIN, ANNEX = LocationId("audit-main"), LocationId("audit-annex")
PLACE = Clinic(
    id=CLINIC,
    time_zone="America/Chicago",
    lead_id=LEAD_MA,
    locations=(ClinicLocation(MAIN, inventory_owner_id=LEAD_MA), ClinicLocation(ANNEX)),
    staff_ids=(MA,),
)
VISIT = VisitId("audit-visit")
GLOVES, GLOVES_ANNEX = SupplyItemId("audit-gloves"), SupplyItemId("audit-gloves-annex")
L1 = LotNumber("L1")
ORDER = SupplyOrderId("audit-po")
DAY = (T0 - timedelta(days=1), T0 + timedelta(days=1))


def _visit(vid: VisitId) -> Visit:
    return Visit(
        id=vid,
        patient_id=PATIENT,
        clinic_id=CLINIC,
        location_id=MAIN,
        scheduled_start=T0 + timedelta(hours=1),
        opened_at=T0,
        opened_by=MA,
    )


def _item(iid: SupplyItemId, location: LocationId) -> SupplyItem:
    return SupplyItem(
        id=iid,
        clinic_id=CLINIC,
        location_id=location,
        code=SupplyCode("gloves-m"),
        unit="{pair}",
        par_level=20,
        reorder_point=5,
    )


def _a1c(mid: str) -> Measurement:
    return Measurement(
        id=MeasurementId(mid),
        patient_id=PATIENT,
        code=LoincCode("4548-4"),
        category=MeasurementCategory.LABORATORY,
        taken_at=T0,
        taken_by=MA,
        value=9.5,
        unit="%",
    )


def _annex(service: CareCoordinator) -> SupplyItemId:
    """The annex's item, written straight to the store (no audit entry)."""
    with UnitOfWork(service.store) as uow:
        if uow.find(SupplyItem, GLOVES_ANNEX) is None:
            uow.add(_item(GLOVES_ANNEX, ANNEX))
    return GLOVES_ANNEX


def _order(oid: str) -> SupplyOrder:
    return SupplyOrder(
        id=SupplyOrderId(oid),
        clinic_id=CLINIC,
        location_id=MAIN,
        created_at=T0,
        created_by=LEAD_MA,
        lines=(OrderLine(GLOVES, 10),),
    )


CLINIC_OPERATIONS: dict[str, tuple[Call, Call | None]] = {
    "save_clinic": (
        lambda s, a: s.save_clinic(PLACE, actor=a),
        lambda s, a: s.save_clinic(PLACE, actor=NURSE),
    ),
    "clinic": (lambda s, a: s.clinic(CLINIC, actor=a), None),
    "open_visit": (
        lambda s, a: s.open_visit(_visit(VISIT), actor=a),
        lambda s, a: s.open_visit(_visit(VisitId("audit-visit-2")), actor=OUTSIDER),
    ),
    "move_visit": (
        lambda s, a: s.move_visit(VISIT, "arrived", actor=a),
        lambda s, a: s.move_visit(VISIT, "checked-in", actor=OUTSIDER),
    ),
    "visit": (
        lambda s, a: s.visit(VISIT, actor=a),
        lambda s, a: s.visit(VisitId("audit-nowhere"), actor=MA),
    ),
    "day_board": (
        lambda s, a: s.day_board(CLINIC, actor=a),
        lambda s, a: s.day_board(CLINIC, actor=NURSE),
    ),
    "stuck_visits": (
        lambda s, a: s.stuck_visits(CLINIC, actor=a),
        lambda s, a: s.stuck_visits(CLINIC, actor=NURSE),
    ),
    "wait_times": (
        lambda s, a: s.wait_times(CLINIC, *DAY, actor=a),
        lambda s, a: s.wait_times(CLINIC, *DAY, actor=NURSE),
    ),
    "record_measurement": (
        lambda s, a: s.record_measurement(_a1c("audit-m"), actor=a),
        lambda s, a: s.record_measurement(_a1c("audit-m-2"), actor=OUTSIDER),
    ),
    "measurements_of": (
        lambda s, a: s.measurements_of(PATIENT, actor=a),
        lambda s, a: s.measurements_of(PatientId("p-elsewhere"), actor=MA),
    ),
    "measurement_alerts": (
        lambda s, a: s.measurement_alerts(COORD, actor=a),
        lambda s, a: s.measurement_alerts(COORD, actor=MA),
    ),
    "acknowledge_measurement": (
        lambda s, a: s.acknowledge_measurement(MeasurementId("audit-m"), actor=a),
        lambda s, a: s.acknowledge_measurement(MeasurementId("audit-none"), actor=MA),
    ),
    "save_supply_item": (
        lambda s, a: s.save_supply_item(_item(GLOVES, MAIN), actor=a),
        lambda s, a: s.save_supply_item(_item(GLOVES, MAIN), actor=MA),
    ),
    "supply_item": (
        lambda s, a: s.supply_item(GLOVES, actor=a),
        lambda s, a: s.supply_item(GLOVES, actor=NURSE),
    ),
    "receive_stock": (
        lambda s, a: s.receive_stock(GLOVES, 8, L1, expires_on=date(2027, 1, 31), actor=a),
        lambda s, a: s.receive_stock(GLOVES, 8, L1, actor=MA),
    ),
    "use_supply": (
        lambda s, a: s.use_supply(GLOVES, 1, actor=a),
        lambda s, a: s.use_supply(GLOVES, 1, actor=NURSE),
    ),
    "waste_stock": (
        lambda s, a: s.waste_stock(GLOVES, L1, 1, "damaged", actor=a),
        lambda s, a: s.waste_stock(GLOVES, L1, 1, "damaged", actor=NURSE),
    ),
    "adjust_stock": (
        lambda s, a: s.adjust_stock(GLOVES, L1, 1, "count-correction", actor=a),
        lambda s, a: s.adjust_stock(GLOVES, L1, 1, "count-correction", actor=MA),
    ),
    "transfer_stock": (
        lambda s, a: s.transfer_stock(GLOVES, _annex(s), 2, actor=a),
        lambda s, a: s.transfer_stock(GLOVES, _annex(s), 1, actor=MA),
    ),
    "stock_ledger": (
        lambda s, a: s.stock_ledger(GLOVES, *DAY, actor=a),
        lambda s, a: s.stock_ledger(GLOVES, *DAY, actor=NURSE),
    ),
    "reorder_list": (
        lambda s, a: s.reorder_list(CLINIC, actor=a),
        lambda s, a: s.reorder_list(CLINIC, actor=NURSE),
    ),
    "expiring_lots": (
        lambda s, a: s.expiring_lots(CLINIC, actor=a),
        lambda s, a: s.expiring_lots(CLINIC, actor=NURSE),
    ),
    "create_supply_order": (
        lambda s, a: s.create_supply_order(_order("audit-po"), actor=a),
        lambda s, a: s.create_supply_order(_order("audit-po-2"), actor=MA),
    ),
    "place_supply_order": (
        lambda s, a: s.place_supply_order(ORDER, actor=a),
        lambda s, a: s.place_supply_order(ORDER, actor=MA),
    ),
    "receive_supply_order": (
        lambda s, a: s.receive_supply_order(ORDER, [SupplyReceipt(GLOVES, 4, L1)], actor=a),
        lambda s, a: s.receive_supply_order(ORDER, [SupplyReceipt(GLOVES, 1, L1)], actor=MA),
    ),
    "cancel_supply_order": (
        lambda s, a: s.cancel_supply_order(ORDER, "supplier out", actor=a),
        lambda s, a: s.cancel_supply_order(ORDER, "supplier out", actor=MA),
    ),
    "supply_orders": (
        lambda s, a: s.supply_orders(CLINIC, open_only=False, actor=a),
        lambda s, a: s.supply_orders(CLINIC, actor=NURSE),
    ),
}
"""The clinic operations, in an order in which each one's call succeeds."""
