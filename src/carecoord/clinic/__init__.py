"""Pure clinic-operations rules: the day board, waiting times, goal readings, stock.

Imports only the model (and the metric values of :mod:`carecoord.metrics`);
nothing here does I/O. The service reads what these rules need from the
store's index rows (a visit as a :class:`VisitSnapshot`, an item's balance,
its lots' expiry dates) and never decodes a visit or a movement to build a
board or a worklist; :func:`snapshot_of` turns a visit into the same value,
for hosts and tests. The values the clinic use cases return
(:class:`DayBoard`, :class:`MeasurementReport`, :class:`ReorderLine`, ...)
are defined here too.

Waiting times are taken between instants, days are the clinic's local days;
lots are usable through their expiry date on the clinic's calendar.
"""

from __future__ import annotations

from ._flow import (
    WAIT_INTERVALS,
    board_entry,
    day_bounds,
    snapshot_of,
    stuck_entries,
    wait_metrics,
)
from ._readings import default_range, goal_readings, with_defaults
from ._stock import allocate, crossed_reorder_point, expiring, post, reorder_lines
from ._views import (
    BoardEntry,
    DayBoard,
    ExpiringLot,
    GoalReading,
    LedgerLine,
    MeasurementAlert,
    MeasurementReport,
    ReorderLine,
    SkippedTarget,
    VisitSnapshot,
)

__all__ = [
    "WAIT_INTERVALS",
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
    "allocate",
    "board_entry",
    "crossed_reorder_point",
    "day_bounds",
    "default_range",
    "expiring",
    "goal_readings",
    "post",
    "reorder_lines",
    "snapshot_of",
    "stuck_entries",
    "wait_metrics",
    "with_defaults",
]
