"""What the staffing use cases return: plain values, identifiers, codes and times only.

No free text and no names: a rota gap, a suggestion, a calendar entry or a
supervision row can be logged or shown on a board as it is.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import attrs

from ..model import (
    AppointmentId,
    CarePlanId,
    CareTeamRole,
    InterventionId,
    InterventionKind,
    PatientId,
    StaffId,
)
from ..model.scheduling import ScheduleId, SlotId, SlotStatus
from ..model.training import CompetencyId
from ..model.workforce import LocationId, RotaId, ShiftId, ShiftKind, TimeOff
from ._competence import CompetencyStanding, ComplianceRate

__all__ = [
    "CalendarEntry",
    "ComplianceReport",
    "OpenItem",
    "RotaGap",
    "StaffingCategory",
    "StaffingItem",
    "StaffingWorklist",
    "Suggestion",
    "SupervisedMember",
    "TimeOffReport",
]


@attrs.frozen
class OpenItem:
    """An open intervention of someone's, as the index has it (no clinical detail)."""

    patient_id: PatientId
    plan_id: CarePlanId
    intervention_id: InterventionId
    kind: InterventionKind
    due_at: datetime | None
    priority: int


@attrs.frozen
class TimeOffReport:
    """What recording time off found: the open work due in it, and what was reassigned.

    ``open_items`` are the absent member's open interventions due in the
    time off, of patients the recorder may read; ``hidden`` counts the
    others. ``reassigned`` went to the covering member under the policy's
    cover rule; ``kept`` stayed, each with why (``access``, ``competency``,
    ``off-duty``, ``conflict``, ``closed``), for reassigning by hand.
    """

    time_off: TimeOff
    open_items: tuple[OpenItem, ...]
    hidden: int = 0
    reassigned: tuple[InterventionId, ...] = ()
    kept: tuple[tuple[InterventionId, str], ...] = ()


@attrs.frozen
class RotaGap:
    """A stretch ``[start, end)`` of a rota with ``staffed`` people on duty where it needs
    ``needed`` (times on the rota owner's zone)."""

    rota_id: RotaId
    role: CareTeamRole
    location_id: LocationId
    kind: ShiftKind
    start: datetime
    end: datetime
    staffed: int
    needed: int


@attrs.frozen
class Suggestion:
    """A qualified member on duty for a piece of work, with how much open work they hold."""

    staff_id: StaffId
    open_items: int
    shift_id: ShiftId
    role: CareTeamRole
    location_id: LocationId
    kind: ShiftKind
    until: datetime


@attrs.frozen
class CalendarEntry:
    """One slot of a calendar: free or busy, and what is booked in it.

    ``patient_id`` is shown only to staff who may read that patient.
    """

    slot_id: SlotId
    schedule_id: ScheduleId
    provider_id: StaffId
    location_id: LocationId
    start: datetime
    end: datetime
    status: SlotStatus
    appointment_id: AppointmentId | None = None
    patient_id: PatientId | None = None


@attrs.frozen
class SupervisedMember:
    """One report as their lead sees them.

    ``caseload``: patients on whose open care teams they hold a membership
    now; ``open_items`` and ``overdue_items``: their open interventions, and
    those past due; ``competencies``: their standing in every competency
    they hold or their onboarding needs; ``onboarding_missing``: what their
    roles' onboarding checklists still need.
    """

    staff_id: StaffId
    caseload: int
    open_items: int
    overdue_items: int
    competencies: tuple[CompetencyStanding, ...]
    onboarding_missing: tuple[CompetencyId, ...]

    @property
    def onboarded(self) -> bool:
        """Whether every onboarding competency is current."""
        return not self.onboarding_missing


class StaffingCategory(StrEnum):
    """What a staffing worklist item stands for."""

    ROTA_GAP = "rota-gap"
    COMPETENCY_EXPIRING = "competency-expiring"
    COMPETENCY_EXPIRED = "competency-expired"
    AWAITING_SIGN_OFF = "awaiting-sign-off"
    ONBOARDING = "onboarding"


@attrs.frozen
class StaffingItem:
    """One thing on a lead's staffing worklist.

    A rota gap names the rota (``rota_id``) and its ``start``/``end``; a
    competency item names the report (``staff_id``), the ``competency_id``
    and, for expiring and expired ones, the expiry (``end``).
    """

    category: StaffingCategory
    start: datetime | None = None
    end: datetime | None = None
    rota_id: RotaId | None = None
    staff_id: StaffId | None = None
    competency_id: CompetencyId | None = None
    staffed: int | None = None
    needed: int | None = None


@attrs.frozen
class StaffingWorklist:
    """A lead's staffing work as of ``as_of``: rota gaps up to ``until``, then the
    competencies of their reports that need attention."""

    staff_id: StaffId
    as_of: datetime
    until: datetime
    items: tuple[StaffingItem, ...]

    def of(self, category: StaffingCategory | str) -> tuple[StaffingItem, ...]:
        """The items of one category."""
        wanted = StaffingCategory(category)
        return tuple(i for i in self.items if i.category is wanted)


@attrs.frozen
class ComplianceReport:
    """Protocol compliance of a team over ``[start, end)``: each member's, and the team's.

    The team total adds up the members' numerators and denominators (it is
    not an average of their rates).
    """

    lead_id: StaffId
    start: datetime
    end: datetime
    members: tuple[ComplianceRate, ...]
    team: ComplianceRate
