"""The workforce half of the :class:`~carecoord.CareCoordinator` facade.

Rotas, shifts and time off (:mod:`.rotas`), assignment suggestions and the
cover rule (:mod:`._assignment`), the staffing policy and training
(:mod:`.training`), the staffing worklist, supervision view and protocol
compliance (:mod:`.supervision`), schedules, slots and booking
(:mod:`.slots`), and the time-driven staffing announcements. Each method
runs one handler through the operation runner, like every other facade method.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import attrs

from ..model import (
    Appointment,
    CarePlanId,
    CareTeamRole,
    ConflictError,
    InterventionId,
    InterventionKind,
    StaffId,
    ValidationError,
)
from ..model._base import ensure_aware
from ..model.scheduling import Schedule, ScheduleId, Slot, SlotId
from ..model.training import (
    ProtocolCompletion,
    ProtocolStepId,
    StaffingPolicy,
    TrainingRecord,
    TrainingRecordId,
)
from ..model.workforce import (
    LocationId,
    Rota,
    RotaId,
    Shift,
    ShiftId,
    ShiftKind,
    ShiftPattern,
    TimeOff,
    TimeOffId,
)
from ..workforce import (
    CalendarEntry,
    CompetencyStanding,
    ComplianceReport,
    DutySpan,
    RotaGap,
    StaffingWorklist,
    Suggestion,
    SupervisedMember,
    TimeOffReport,
)
from . import _assignment, rotas, slots, supervision, training
from ._staffing_tick import StaffingReport, announce_staffing
from .runner import OperationRunner

if TYPE_CHECKING:
    from ..storage.port import Store
    from .runner import Settings

__all__ = ["WorkforceMethods"]


class WorkforceMethods:
    """Staffing use cases (mixed into :class:`~carecoord.CareCoordinator`)."""

    _runner: OperationRunner

    if TYPE_CHECKING:

        @property
        def store(self) -> Store:
            """The store (defined by the facade)."""
            ...

        def _settings(self) -> Settings: ...

    # ---------------------------------------------------------------- rotas
    def save_rota(self, rota: Rota, *, actor: StaffId) -> Rota:
        """Create or replace a 24/7 rota (staff-wide ``manage-staff``)."""
        return self._runner.run(rotas.save_rota, actor, rota)

    def record_shifts(self, shifts: Sequence[Shift], *, actor: StaffId) -> list[Shift]:
        """Add or replace shifts, all or none: for the members' leads and supervisors, or the
        owner of the rota they staff."""
        return self._runner.run(rotas.record_shifts, actor, shifts)

    def schedule_shifts(
        self, pattern: ShiftPattern, start: datetime, end: datetime, *, actor: StaffId
    ) -> list[Shift]:
        """Make the shifts of a recurring pattern starting in ``[start, end)``; returns the
        new ones (shifts made before are kept)."""
        return self._runner.run(rotas.schedule_shifts, actor, pattern, start, end)

    def cancel_shift(self, shift_id: ShiftId, *, actor: StaffId) -> Shift:
        """Cancel a shift."""
        return self._runner.run(rotas.cancel_shift, actor, shift_id)

    def shifts_of(
        self, staff_id: StaffId, start: datetime, end: datetime, *, actor: StaffId
    ) -> list[Shift]:
        """A member's shifts overlapping ``[start, end)`` (the rota is shared with all staff)."""
        return self._runner.run(rotas.shifts_of, actor, staff_id, start, end)

    def on_duty(
        self,
        *,
        actor: StaffId,
        at: datetime | None = None,
        role: CareTeamRole | str | None = None,
        location_id: LocationId | None = None,
        kind: ShiftKind | str | None = None,
    ) -> list[DutySpan]:
        """Who is on duty (on site or on call) at ``at`` (default now), per role and location,
        less anyone on time off; from the index rows only."""
        return self._runner.run(rotas.on_duty, actor, at, role, location_id, kind)

    def rota_gaps(
        self, rota_id: RotaId, start: datetime, end: datetime, *, actor: StaffId
    ) -> list[RotaGap]:
        """The stretches of ``[start, end)`` in which a rota is short-staffed."""
        return self._runner.run(rotas.rota_gaps, actor, rota_id, start, end)

    def record_time_off(self, time_off: TimeOff, *, actor: StaffId) -> TimeOffReport:
        """Record time off; returns the absent member's open work due in it.

        When the staffing policy's ``reassign_to_cover`` is on and the time off
        names a covering member, each such intervention is then reassigned to
        them, one audited operation each
        (:func:`~carecoord.service._assignment.reassign_for_cover`); the report
        says which were reassigned and which were kept, and why.
        """
        report = self._runner.run(rotas.record_time_off, actor, time_off)
        if report.time_off.covered_by is None or report.time_off.cancelled:
            return report
        pending = self._runner.run(_assignment.cover_list, actor, report.time_off.id)
        moved: list[InterventionId] = []
        kept: list[tuple[InterventionId, str]] = []
        for plan_id, item_id in pending:
            try:
                outcome = self._runner.run(
                    _assignment.reassign_for_cover, actor, report.time_off.id, plan_id, item_id
                )
            except ConflictError:
                outcome = "conflict"
            if outcome == "reassigned":
                moved.append(item_id)
            else:
                kept.append((item_id, outcome))
        return attrs.evolve(report, reassigned=tuple(moved), kept=tuple(kept))

    def cancel_time_off(self, time_off_id: TimeOffId, *, actor: StaffId) -> TimeOff:
        """Cancel time off."""
        return self._runner.run(rotas.cancel_time_off, actor, time_off_id)

    def time_off_of(
        self, staff_id: StaffId, start: datetime, end: datetime, *, actor: StaffId
    ) -> list[TimeOff]:
        """A member's time off overlapping ``[start, end)`` (the member, leads, supervisors)."""
        return self._runner.run(rotas.time_off_of, actor, staff_id, start, end)

    def suggest_assignees(
        self,
        kind: InterventionKind | str,
        *,
        actor: StaffId,
        at: datetime | None = None,
        role: CareTeamRole | str | None = None,
        location_id: LocationId | None = None,
        limit: int = 5,
    ) -> list[Suggestion]:
        """Qualified members on duty at ``at`` for work of ``kind``, least loaded first."""
        return self._runner.run(
            _assignment.suggest_assignees, actor, kind, at, role, location_id, limit
        )

    # ------------------------------------------------------------- training
    def set_staffing_policy(self, policy: StaffingPolicy, *, actor: StaffId) -> StaffingPolicy:
        """Store the staffing policy (administrators); stale copies raise ConflictError."""
        return self._runner.run(training.set_staffing_policy, actor, policy)

    def staffing_policy(self, *, actor: StaffId) -> StaffingPolicy:
        """The staffing policy (an empty default until one is stored)."""
        return self._runner.run(training.staffing_policy, actor)

    def record_training(self, record: TrainingRecord, *, actor: StaffId) -> TrainingRecord:
        """Record completed training (unsigned): the trainee, or their leads and supervisors."""
        return self._runner.run(training.record_training, actor, record)

    def sign_off_training(self, record_id: TrainingRecordId, *, actor: StaffId) -> TrainingRecord:
        """Sign training off (a lead or supervisor of the trainee, never the trainee)."""
        return self._runner.run(training.sign_off_training, actor, record_id)

    def competencies_of(
        self, staff_id: StaffId, *, actor: StaffId, at: datetime | None = None
    ) -> tuple[CompetencyStanding, ...]:
        """Where a member stands in every competency they hold or their onboarding needs."""
        return self._runner.run(training.competencies_of, actor, staff_id, at)

    def training_records_of(self, staff_id: StaffId, *, actor: StaffId) -> list[TrainingRecord]:
        """Every training record of a member, oldest first."""
        return self._runner.run(training.training_records_of, actor, staff_id)

    # ---------------------------------------------------------- supervision
    def staffing_worklist(
        self, staff_id: StaffId, *, actor: StaffId, until: datetime | None = None
    ) -> StaffingWorklist:
        """Rota gaps of the rotas ``staff_id`` owns, and their reports' competencies that need
        attention."""
        return self._runner.run(supervision.staffing_worklist, actor, staff_id, until)

    def supervision(self, lead_id: StaffId, *, actor: StaffId) -> list[SupervisedMember]:
        """A lead's reports: caseload size, open and overdue work, competencies."""
        return self._runner.run(supervision.supervision, actor, lead_id)

    def complete_with_protocol(
        self,
        plan_id: CarePlanId,
        intervention_id: InterventionId,
        steps_done: Iterable[ProtocolStepId],
        *,
        actor: StaffId,
    ) -> ProtocolCompletion:
        """Complete an intervention and record its protocol checklist with it."""
        return self._runner.run(
            supervision.complete_with_protocol, actor, plan_id, intervention_id, tuple(steps_done)
        )

    def protocol_compliance(
        self, lead_id: StaffId, start: datetime, end: datetime, *, actor: StaffId
    ) -> ComplianceReport:
        """Protocol compliance of a lead's team over ``[start, end)``: numerator, denominator,
        rate per member and for the team."""
        return self._runner.run(supervision.protocol_compliance, actor, lead_id, start, end)

    # ---------------------------------------------------------------- slots
    def save_schedule(self, schedule: Schedule, *, actor: StaffId) -> Schedule:
        """Create or replace a provider's schedule (FHIR Schedule)."""
        return self._runner.run(slots.save_schedule, actor, schedule)

    def publish_slots(
        self, schedule_id: ScheduleId, start: datetime, end: datetime, *, actor: StaffId
    ) -> list[Slot]:
        """Store a schedule's slots starting in ``[start, end)``; returns the new ones."""
        return self._runner.run(slots.publish_slots, actor, schedule_id, start, end)

    def free_slots(
        self, provider_id: StaffId, start: datetime, end: datetime, *, actor: StaffId
    ) -> list[CalendarEntry]:
        """A provider's free slots starting in ``[start, end)``."""
        return self._runner.run(slots.free_slots, actor, provider_id, start, end)

    def calendar(
        self,
        start: datetime,
        end: datetime,
        *,
        actor: StaffId,
        provider_id: StaffId | None = None,
        location_id: LocationId | None = None,
        free_only: bool = False,
    ) -> list[CalendarEntry]:
        """The slots of a provider or a location starting in ``[start, end)``."""
        return self._runner.run(
            slots.calendar, actor, start, end, provider_id, location_id, free_only
        )

    def day_calendar(
        self,
        day: date,
        *,
        actor: StaffId,
        provider_id: StaffId | None = None,
        location_id: LocationId | None = None,
        time_zone: str | None = None,
    ) -> list[CalendarEntry]:
        """The day's calendar of a provider or a location (local day, default actor's zone)."""
        return self._runner.run(slots.day_calendar, actor, day, provider_id, location_id, time_zone)

    def book_slot(
        self, slot_id: SlotId, appointment: Appointment, *, actor: StaffId
    ) -> Appointment:
        """Book an appointment into a free slot (only one of concurrent bookers wins)."""
        return self._runner.run(slots.book_slot, actor, slot_id, appointment)

    def cancel_booking(self, slot_id: SlotId, reason: str, *, actor: StaffId) -> Appointment:
        """Cancel the appointment booked in a slot and free the slot."""
        return self._runner.run(slots.cancel_booking, actor, slot_id, reason)

    # ----------------------------------------------------------------- tick
    def announce_staffing(
        self,
        now: datetime | None = None,
        *,
        remind_before: timedelta = timedelta(hours=12),
        expired_within: timedelta = timedelta(days=30),
    ) -> StaffingReport:
        """Announce, once each: shifts starting within ``remind_before``, competencies in
        their warning window, and competencies expired within ``expired_within`` and not
        renewed. Their notifications go through the outbox; run it next to :meth:`tick`."""
        moment = ensure_aware(now, "now") if now is not None else self._runner.now()
        if remind_before < timedelta(0) or expired_within < timedelta(0):
            raise ValidationError("remind_before and expired_within must not be negative")
        return announce_staffing(
            self._runner,
            self.store,
            self._settings(),
            moment,
            remind_before=remind_before,
            expired_within=expired_within,
        )
