"""One sample of every clinic-operations record kind, for the PHI walk (tests/test_phi.py),
and the plain ``str`` fields of those records that are not PHI.

The free text (an item's description, a supplier, a transition's reason) is filled in;
the PHI test plants its marker there and checks it never shows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from carecoord.model import PatientId, StaffId, Transition
from carecoord.model.clinic import Clinic, ClinicId, ClinicLocation, RoomId, Visit, VisitId
from carecoord.model.clinic import VisitState as V
from carecoord.model.measurements import (
    Interpretation,
    LoincCode,
    MeasuredValue,
    Measurement,
    MeasurementCategory,
    MeasurementId,
    ReferenceRange,
)
from carecoord.model.supplies import (
    Lot,
    LotNumber,
    MovementId,
    MovementKind,
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

__all__ = ["CLINIC_NOT_PHI", "CLINIC_SAMPLES"]

NY = ZoneInfo("America/New_York")
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=NY)
STAFF = StaffId("staff-1")
PATIENT = PatientId("patient-1")
CLINIC = ClinicId("clinic-1")
SITE = LocationId("site-1")
ITEM = SupplyItemId("gloves-1")


def _visit() -> Visit:
    booked = Visit(
        id=VisitId("v-1"),
        patient_id=PATIENT,
        clinic_id=CLINIC,
        location_id=SITE,
        scheduled_start=T0,
        opened_at=T0 - timedelta(days=1),
        opened_by=STAFF,
    )
    arrived = booked.moved(V.ARRIVED, by=STAFF, at=T0)
    checked_in = arrived.moved(V.CHECKED_IN, by=STAFF, at=T0 + timedelta(minutes=5))
    roomed = checked_in.moved(
        V.ROOMED, by=STAFF, at=T0 + timedelta(minutes=20), room=RoomId("exam-1")
    )
    return roomed.moved(
        V.LEFT_WITHOUT_BEING_SEEN, by=STAFF, at=T0 + timedelta(hours=1), reason="waited too long"
    )


def _order() -> SupplyOrder:
    return SupplyOrder(
        id=SupplyOrderId("po-1"),
        clinic_id=CLINIC,
        location_id=SITE,
        created_at=T0,
        created_by=STAFF,
        lines=(OrderLine(ITEM, 10, 4),),
        status=SupplyOrderStatus.CANCELLED,
        supplier="Acme Medical",
        history=(
            Transition(SupplyOrderStatus.DRAFT, SupplyOrderStatus.ORDERED, at=T0, by=STAFF),
            Transition(
                SupplyOrderStatus.ORDERED,
                SupplyOrderStatus.CANCELLED,
                at=T0,
                by=STAFF,
                reason="supplier out of stock",
            ),
        ),
    )


CLINIC_SAMPLES: dict[str, Callable[[], Any]] = {
    "Clinic": lambda: Clinic(
        id=CLINIC,
        time_zone="America/New_York",
        lead_id=STAFF,
        locations=(ClinicLocation(SITE, inventory_owner_id=STAFF),),
        staff_ids=(StaffId("staff-2"),),
    ),
    "Visit": _visit,
    "Measurement": lambda: Measurement(
        id=MeasurementId("m-1"),
        patient_id=PATIENT,
        code=LoincCode("85354-9"),
        category=MeasurementCategory.VITAL_SIGNS,
        taken_at=T0,
        taken_by=STAFF,
        components=(
            MeasuredValue(
                LoincCode("8480-6"),
                172,
                "mm[Hg]",
                ReferenceRange(90, 160),
                Interpretation.HIGH,
            ),
        ),
        visit_id=VisitId("v-1"),
        review_by=STAFF,
    ),
    "SupplyItem": lambda: SupplyItem(
        id=ITEM,
        clinic_id=CLINIC,
        location_id=SITE,
        code=SupplyCode("gloves-m"),
        unit="{pair}",
        par_level=20,
        reorder_point=5,
        description="Nitrile gloves, medium",
        lots=(Lot(LotNumber("L1"), 8, date(2026, 1, 31)),),
        sequence=3,
    ),
    "StockMovement": lambda: StockMovement(
        id=MovementId("mv-1"),
        item_id=ITEM,
        location_id=SITE,
        sequence=3,
        kind=MovementKind.USED,
        lot_number=LotNumber("L1"),
        quantity=-2,
        lot_balance=8,
        item_balance=8,
        at=T0,
        by=STAFF,
        patient_id=PATIENT,
        visit_id=VisitId("v-1"),
    ),
    "SupplyOrder": _order,
}
"""A sample of every clinic-operations record kind, by kind."""

CLINIC_NOT_PHI: dict[str, str] = {
    "Clinic.time_zone": "IANA zone name",
    "Measurement.unit": "UCUM unit code",
    "MeasuredValue.unit": "UCUM unit code",
    "SupplyItem.unit": "unit of issue code",
    "MeasureDefinition.display": "the name of a LOINC measure in the shipped catalogue",
    "MeasureDefinition.unit": "UCUM unit code",
    "MeasureDefinition.factors": "unit conversion factors of the shipped catalogue",
}
"""``str`` fields of the clinic records that are not PHI (``Class.field`` -> what it is)."""
