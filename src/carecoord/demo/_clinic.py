"""The demo's clinic part: the morning's patient-flow board, an HbA1c that feeds a goal, and
one low-stock item.

All invented; printed as identifiers, codes and times only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ..model import PatientId, StaffId
from ..model.clinic import Clinic, ClinicId, ClinicLocation, RoomId, Visit, VisitId, VisitState
from ..model.measurements import (
    LoincCode,
    MeasuredValue,
    Measurement,
    MeasurementCategory,
    MeasurementId,
)
from ..model.supplies import LotNumber, SupplyCode, SupplyItem, SupplyItemId
from ..model.workforce import LocationId
from ..service import CareCoordinator

__all__ = ["show_clinic"]

CLINIC_ID = ClinicId("clinic-main")
SITE = LocationId("clinic-main")
STRIPS = SupplyItemId("glucose-strips")


def _hm(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%H:%M")


def _minutes(value: timedelta | None) -> str:
    return "-" if value is None else f"{int(value.total_seconds() // 60)} min"


def show_clinic(
    service: CareCoordinator,
    now: datetime,
    *,
    coordinator: StaffId,
    lead: StaffId,
    nurse: StaffId,
    patients: Sequence[PatientId],
    out: Callable[[str], None],
) -> None:
    """Set up the clinic, move three visits through the morning, record an HbA1c and a blood
    pressure, use glucose strips down to their reorder point; print the board, the stuck
    list, the goal reading, the review worklist and the low-stock item."""
    zone = ZoneInfo("America/Chicago")
    day = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)

    def at(h: int, m: int) -> datetime:
        return day.replace(hour=h, minute=m)

    service.save_clinic(
        Clinic(
            id=CLINIC_ID,
            time_zone="America/Chicago",
            lead_id=lead,
            locations=(ClinicLocation(SITE, inventory_owner_id=lead),),
            staff_ids=(nurse,),
        ),
        actor=coordinator,
    )
    plan: list[tuple[str, datetime, list[tuple[VisitState, datetime, dict[str, object]]]]] = [
        (
            "visit-1",
            at(8, 0),
            [
                (VisitState.ARRIVED, at(7, 52), {}),
                (VisitState.CHECKED_IN, at(7, 55), {}),
                (VisitState.ROOMED, at(8, 5), {"room": RoomId("exam-1")}),
                (VisitState.WITH_PROVIDER, at(8, 15), {"provider_id": nurse}),
            ],
        ),
        (
            "visit-2",
            at(8, 15),
            [(VisitState.ARRIVED, at(8, 2), {}), (VisitState.CHECKED_IN, at(8, 4), {})],
        ),
        ("visit-3", at(9, 0), []),
    ]
    for (vid, start, moves), patient in zip(plan, patients, strict=False):
        service.open_visit(
            Visit(
                id=VisitId(vid),
                patient_id=patient,
                clinic_id=CLINIC_ID,
                location_id=SITE,
                scheduled_start=start,
                opened_at=at(6, 0),
                opened_by=lead,
            ),
            actor=lead,
        )
        for state, when, extra in moves:
            service.move_visit(VisitId(vid), state, at=when, actor=lead, **extra)  # type: ignore[arg-type]
    board = service.day_board(CLINIC_ID, actor=lead)
    out(f"Board of {CLINIC_ID} on {board.day.isoformat()} at {_hm(now, zone)} ({board.time_zone}):")
    for e in board.entries:
        flag = "STUCK" if e.stuck else "     "
        out(
            f"  {flag} {_hm(e.scheduled_start, zone)}  {e.visit_id:<8} {e.patient_id or '-':<10} "
            f"{e.state.value:<14} since {_hm(e.since, zone)}  waiting {_minutes(e.waiting):<7} "
            f"room {e.room or '-'}"
        )
    stuck = service.stuck_visits(CLINIC_ID, actor=lead)
    out(f"  stuck: {', '.join(f'{e.visit_id} ({e.state.value})' for e in stuck) or 'none'}")

    taken = now - timedelta(minutes=20)
    report = service.record_measurement(
        Measurement(
            id=MeasurementId("a1c-visit-1"),
            patient_id=patients[0],
            code=LoincCode("4548-4"),
            category=MeasurementCategory.LABORATORY,
            taken_at=taken,
            taken_by=lead,
            value=7.4,
            unit="%",
            visit_id=VisitId("visit-1"),
        ),
        actor=lead,
    )
    for made in report.readings:
        out(f"HbA1c 7.4 % at visit-1 became a reading of {made.goal_id} (care plan {made.plan_id})")
    service.record_measurement(
        Measurement(
            id=MeasurementId("bp-visit-1"),
            patient_id=patients[0],
            code=LoincCode("85354-9"),
            category=MeasurementCategory.VITAL_SIGNS,
            taken_at=taken,
            taken_by=lead,
            components=(
                MeasuredValue(LoincCode("8480-6"), 168, "mm[Hg]"),
                MeasuredValue(LoincCode("8462-4"), 94, "mm[Hg]"),
            ),
            visit_id=VisitId("visit-1"),
        ),
        actor=lead,
    )
    for alert in service.measurement_alerts(coordinator, actor=coordinator):
        out(
            f"  to review by {coordinator}: {alert.measurement_id} ({alert.code}) "
            f"flagged {alert.interpretation.value} for {alert.patient_id}"
        )

    service.save_supply_item(
        SupplyItem(
            id=STRIPS,
            clinic_id=CLINIC_ID,
            location_id=SITE,
            code=SupplyCode("glucose-strip"),
            unit="{strip}",
            par_level=100,
            reorder_point=25,
            description="Blood glucose test strips",
        ),
        actor=lead,
    )
    service.receive_stock(STRIPS, 40, LotNumber("S-1042"), expires_on=date(2027, 2, 28), actor=lead)
    service.use_supply(STRIPS, 16, visit_id=VisitId("visit-1"), actor=lead)
    for line in service.reorder_list(CLINIC_ID, actor=lead):
        out(
            f"Low stock at {line.location_id}: {line.item_id} {line.usable} usable "
            f"(reorder point {line.reorder_point}, par {line.par_level}): order {line.suggested}"
        )
