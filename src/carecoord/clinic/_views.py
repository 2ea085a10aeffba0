"""What the clinic-operations use cases return: plain values, identifiers, codes, times.

No free text and no names: a board line, a review item, a reorder line or a
ledger line can be logged or shown on a screen as it is. A patient's id is
left out (``None``) where the viewer may not read that patient.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import attrs

from ..model import AppointmentId, CarePlanId, GoalId, PatientId, ProgressReading, StaffId
from ..model.clinic import ClinicId, RoomId, VisitFacts, VisitId, VisitState
from ..model.measurements import Interpretation, LoincCode, Measurement, MeasurementId
from ..model.supplies import LotNumber, MovementId, MovementKind, SupplyItemId
from ..model.workforce import LocationId

__all__ = [
    "BoardEntry",
    "DayBoard",
    "ExpiringLot",
    "GoalReading",
    "LedgerLine",
    "MeasurementAlert",
    "MeasurementReport",
    "ReorderLine",
    "SkippedTarget",
    "VisitSnapshot",
]


@attrs.frozen
class VisitSnapshot:
    """A visit as its index row has it: state, times and :class:`VisitFacts`."""

    visit_id: VisitId
    patient_id: PatientId
    clinic_id: ClinicId
    state: VisitState
    scheduled_start: datetime
    since: datetime
    facts: VisitFacts


@attrs.frozen
class BoardEntry:
    """One line of the day's board, times on the clinic's zone.

    ``waiting`` is how long the patient has been in the current state (for a
    patient in the clinic; for a late ``booked`` one, since the scheduled
    start); ``limit`` the clinic's wait limit for the state; ``stuck`` whether
    ``waiting`` is over it.
    """

    visit_id: VisitId
    patient_id: PatientId | None
    state: VisitState
    scheduled_start: datetime
    since: datetime
    location_id: LocationId
    room: RoomId | None
    provider_id: StaffId | None
    appointment_id: AppointmentId | None
    arrived_at: datetime | None
    waiting: timedelta | None
    limit: timedelta | None
    stuck: bool


@attrs.frozen
class DayBoard:
    """A clinic's (or one location's) board of a local day ``[start, end)`` as of ``as_of``.

    ``hidden`` counts entries whose patient id is not shown to this viewer.
    """

    clinic_id: ClinicId
    location_id: LocationId | None
    day: date
    time_zone: str
    start: datetime
    end: datetime
    as_of: datetime
    entries: tuple[BoardEntry, ...]
    hidden: int = 0

    def count(self, state: VisitState) -> int:
        """How many visits of the board are in ``state``."""
        return sum(1 for e in self.entries if e.state is state)

    @property
    def stuck(self) -> tuple[BoardEntry, ...]:
        """The entries waiting longer than their state's limit."""
        return tuple(e for e in self.entries if e.stuck)


@attrs.frozen
class GoalReading:
    """A reading a measurement made for a goal's target (``plan_id`` ``None``: a goal of
    the patient's own, outside any care plan)."""

    plan_id: CarePlanId | None
    goal_id: GoalId
    reading: ProgressReading


@attrs.frozen
class SkippedTarget:
    """A goal target a measurement's code matched but could not feed, and why (a code:
    ``unit`` when the measurement's unit cannot be converted to the target's; ``plan_id``
    ``None``: a goal of the patient's own)."""

    plan_id: CarePlanId | None
    goal_id: GoalId
    measure: str
    reason: str


@attrs.frozen
class MeasurementReport:
    """A recorded measurement (flags and reviewer set) and the goal readings it made."""

    measurement: Measurement
    readings: tuple[GoalReading, ...] = ()
    skipped: tuple[SkippedTarget, ...] = ()


@attrs.frozen
class MeasurementAlert:
    """An out-of-range measurement on a reviewer's worklist."""

    measurement_id: MeasurementId
    patient_id: PatientId | None
    code: LoincCode
    interpretation: Interpretation
    taken_at: datetime
    review_by: StaffId | None
    acknowledged: bool


@attrs.frozen
class ReorderLine:
    """An item at or below its reorder point, counting usable stock and stock on order.

    ``suggested`` brings it back to par: ``par_level - usable - on_order``.
    """

    item_id: SupplyItemId
    location_id: LocationId
    usable: int
    on_order: int
    reorder_point: int
    par_level: int
    suggested: int


@attrs.frozen
class ExpiringLot:
    """A lot with stock that expires soon (or has: ``expired``)."""

    item_id: SupplyItemId
    lot_number: LotNumber
    location_id: LocationId
    expires_on: date
    on_hand: int
    expired: bool


@attrs.frozen
class LedgerLine:
    """One movement of an item's ledger, as its index row has it."""

    movement_id: MovementId
    sequence: int
    kind: MovementKind
    quantity: int
    lot_number: LotNumber
    item_balance: int
    at: datetime
    patient_id: PatientId | None
