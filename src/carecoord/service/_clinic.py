"""The clinic-operations part of the :class:`~carecoord.CareCoordinator` facade.

Patient flow, the day board, the stuck list and waiting times
(:mod:`.flow`); measurements, goal readings and the review worklist
(:mod:`.measurements`); supplies, the stock ledger and its worklists
(:mod:`.supplies`); supply orders (:mod:`.supply_orders`). Each method runs
one handler through the operation runner, like every other facade method.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from ..clinic import (
    BoardEntry,
    DayBoard,
    ExpiringLot,
    LedgerLine,
    MeasurementAlert,
    MeasurementReport,
    ReorderLine,
)
from ..metrics import MetricReport
from ..model import CarePlanId, InterventionId, PatientId, StaffId
from ..model.clinic import Clinic, ClinicId, RoomId, Visit, VisitId, VisitState
from ..model.measurements import LoincCode, Measurement, MeasurementId
from ..model.supplies import (
    LotNumber,
    MovementReason,
    StockMovement,
    SupplyItem,
    SupplyItemId,
    SupplyOrder,
    SupplyOrderId,
    SupplyReceipt,
)
from ..model.workforce import LocationId
from . import flow, measurements, supplies, supply_orders
from .runner import OperationRunner

__all__ = ["ClinicMethods"]


class ClinicMethods:
    """Clinic-operations use cases (mixed into :class:`~carecoord.CareCoordinator`)."""

    _runner: OperationRunner

    # ---------------------------------------------------------- patient flow
    def save_clinic(self, clinic: Clinic, *, actor: StaffId) -> Clinic:
        """Create a clinic (``manage-staff``) or replace it (its lead or ``manage-staff``);
        returns the stored copy with its new ``revision`` (a stale copy raises ConflictError)."""
        return self._runner.run(flow.save_clinic, actor, clinic)

    def clinic(self, clinic_id: ClinicId, *, actor: StaffId) -> Clinic:
        """Read a clinic (shared with every active staff member)."""
        return self._runner.run(flow.clinic, actor, clinic_id)

    def open_visit(self, visit: Visit, *, actor: StaffId) -> Visit:
        """Put a visit on the day board: booked, or arrived for a walk-in."""
        return self._runner.run(flow.open_visit, actor, visit)

    def move_visit(
        self,
        visit_id: VisitId,
        to: VisitState | str,
        *,
        actor: StaffId,
        at: datetime | None = None,
        room: RoomId | None = None,
        provider_id: StaffId | None = None,
        reason: str | None = None,
    ) -> Visit:
        """Move a visit through the day (arrived, checked in, roomed, with the provider,
        checked out; no-show, left without being seen, cancelled); its appointment follows."""
        return self._runner.run(flow.move_visit, actor, visit_id, to, at, room, provider_id, reason)

    def visit(self, visit_id: VisitId, *, actor: StaffId) -> Visit:
        """Read a visit with its moves."""
        return self._runner.run(flow.visit, actor, visit_id)

    def day_board(
        self,
        clinic_id: ClinicId,
        *,
        actor: StaffId,
        day: date | None = None,
        location_id: LocationId | None = None,
    ) -> DayBoard:
        """A clinic's (or location's) board of a local day (default today on its zone)."""
        return self._runner.run(flow.day_board, actor, clinic_id, day, location_id)

    def stuck_visits(
        self, clinic_id: ClinicId, *, actor: StaffId, location_id: LocationId | None = None
    ) -> list[BoardEntry]:
        """Visits waiting longer than the clinic's limit for their state, longest over first."""
        return self._runner.run(flow.stuck_visits, actor, clinic_id, location_id)

    def wait_times(
        self, clinic_id: ClinicId, start: datetime, end: datetime, *, actor: StaffId
    ) -> MetricReport:
        """Waiting-time metrics of the visits scheduled in ``[start, end)``."""
        return self._runner.run(flow.wait_times, actor, clinic_id, start, end)

    # ---------------------------------------------------------- measurements
    def record_measurement(self, measurement: Measurement, *, actor: StaffId) -> MeasurementReport:
        """Record a vital sign or point-of-care result; matching goals get readings."""
        return self._runner.run(measurements.record_measurement, actor, measurement)

    def measurements_of(
        self, patient_id: PatientId, *, actor: StaffId, code: LoincCode | None = None
    ) -> list[Measurement]:
        """A patient's measurements (of one LOINC code), oldest first."""
        return self._runner.run(measurements.measurements_of, actor, patient_id, code)

    def measurement_alerts(
        self, staff_id: StaffId, *, actor: StaffId, include_acknowledged: bool = False
    ) -> list[MeasurementAlert]:
        """Out-of-range results on a reviewer's worklist, newest first."""
        return self._runner.run(
            measurements.measurement_alerts, actor, staff_id, include_acknowledged
        )

    def acknowledge_measurement(
        self, measurement_id: MeasurementId, *, actor: StaffId
    ) -> Measurement:
        """Take an out-of-range result off the review worklist."""
        return self._runner.run(measurements.acknowledge_measurement, actor, measurement_id)

    # -------------------------------------------------------------- supplies
    def save_supply_item(self, item: SupplyItem, *, actor: StaffId) -> SupplyItem:
        """Create a stocked item at a location, or change its levels (stock keepers)."""
        return self._runner.run(supplies.save_supply_item, actor, item)

    def supply_item(self, item_id: SupplyItemId, *, actor: StaffId) -> SupplyItem:
        """Read an item with its lots and running balance."""
        return self._runner.run(supplies.supply_item, actor, item_id)

    def receive_stock(
        self,
        item_id: SupplyItemId,
        quantity: int,
        lot: LotNumber,
        *,
        actor: StaffId,
        expires_on: date | None = None,
    ) -> StockMovement:
        """Receive stock that came without an order."""
        return self._runner.run(supplies.receive_stock, actor, item_id, quantity, lot, expires_on)

    def use_supply(
        self,
        item_id: SupplyItemId,
        quantity: int,
        *,
        actor: StaffId,
        lot: LotNumber | None = None,
        visit_id: VisitId | None = None,
        plan_id: CarePlanId | None = None,
        intervention_id: InterventionId | None = None,
    ) -> list[StockMovement]:
        """Use stock (first expiry first unless ``lot``), linked to a visit or intervention."""
        return self._runner.run(
            supplies.use_supply, actor, item_id, quantity, lot, visit_id, plan_id, intervention_id
        )

    def waste_stock(
        self,
        item_id: SupplyItemId,
        lot: LotNumber,
        quantity: int,
        reason: MovementReason | str,
        *,
        actor: StaffId,
    ) -> StockMovement:
        """Take units of a lot out of stock as waste (expired, damaged, ...)."""
        return self._runner.run(supplies.waste_stock, actor, item_id, lot, quantity, reason)

    def adjust_stock(
        self,
        item_id: SupplyItemId,
        lot: LotNumber,
        quantity: int,
        reason: MovementReason | str,
        *,
        actor: StaffId,
        expires_on: date | None = None,
    ) -> StockMovement:
        """Correct a lot's count (signed) after a stock take."""
        return self._runner.run(
            supplies.adjust_stock, actor, item_id, lot, quantity, reason, expires_on
        )

    def transfer_stock(
        self,
        from_item_id: SupplyItemId,
        to_item_id: SupplyItemId,
        quantity: int,
        *,
        actor: StaffId,
        lot: LotNumber | None = None,
    ) -> list[StockMovement]:
        """Move stock of one product from one location's item to another's."""
        return self._runner.run(
            supplies.transfer_stock, actor, from_item_id, to_item_id, quantity, lot
        )

    def stock_ledger(
        self, item_id: SupplyItemId, start: datetime, end: datetime, *, actor: StaffId
    ) -> list[LedgerLine]:
        """An item's movements in ``[start, end)``, in ledger order."""
        return self._runner.run(supplies.stock_ledger, actor, item_id, start, end)

    def reorder_list(
        self, clinic_id: ClinicId, *, actor: StaffId, location_id: LocationId | None = None
    ) -> list[ReorderLine]:
        """Items at or below their reorder point (usable stock plus stock on order)."""
        return self._runner.run(supplies.reorder_list, actor, clinic_id, location_id)

    def expiring_lots(
        self,
        clinic_id: ClinicId,
        *,
        actor: StaffId,
        within_days: int = 30,
        location_id: LocationId | None = None,
    ) -> list[ExpiringLot]:
        """Lots with stock expired or expiring within ``within_days``, soonest first."""
        return self._runner.run(supplies.expiring_lots, actor, clinic_id, within_days, location_id)

    # ---------------------------------------------------------------- orders
    def create_supply_order(self, order: SupplyOrder, *, actor: StaffId) -> SupplyOrder:
        """Draft a supply order for a location."""
        return self._runner.run(supply_orders.create_supply_order, actor, order)

    def place_supply_order(self, order_id: SupplyOrderId, *, actor: StaffId) -> SupplyOrder:
        """Place a drafted order."""
        return self._runner.run(supply_orders.place_supply_order, actor, order_id)

    def receive_supply_order(
        self, order_id: SupplyOrderId, receipts: Sequence[SupplyReceipt], *, actor: StaffId
    ) -> tuple[SupplyOrder, list[StockMovement]]:
        """Receive goods for an order (in part or whole): they are posted to the ledger."""
        return self._runner.run(supply_orders.receive_supply_order, actor, order_id, receipts)

    def cancel_supply_order(
        self, order_id: SupplyOrderId, reason: str, *, actor: StaffId
    ) -> SupplyOrder:
        """Cancel an order (what arrived stays)."""
        return self._runner.run(supply_orders.cancel_supply_order, actor, order_id, reason)

    def supply_orders(
        self,
        clinic_id: ClinicId,
        *,
        actor: StaffId,
        location_id: LocationId | None = None,
        open_only: bool = True,
    ) -> list[SupplyOrder]:
        """A clinic's (or location's) supply orders, most recently changed first."""
        return self._runner.run(
            supply_orders.supply_orders, actor, clinic_id, location_id, open_only
        )
