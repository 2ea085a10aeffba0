"""Provider schedules and bookable slots (FHIR Schedule and Slot).

A :class:`Schedule` is one provider's bookable time at one location: recurring
:class:`SessionPattern` s (a clinic session every Monday 09:00-12:00, cut into
20-minute slots). Publishing a window of a schedule stores one :class:`Slot`
per slot; booking an appointment takes a free slot (it becomes ``busy`` and
names the appointment), cancelling the booking frees it. A slot is its own
record, so two people booking it at once race on its version and only one
wins.

Pure: no I/O. Identifiers, codes and times only.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

import attrs

from ._base import (
    AppointmentId,
    EntityId,
    PatientId,
    StaffId,
    a_date,
    a_time,
    aware,
    instant,
    of_type,
    optional,
    positive_int,
    tuple_of,
)
from ._errors import ValidationError
from .cadence import Cadence
from .workforce import LocationId, _prefix, _span

__all__ = [
    "Schedule",
    "ScheduleId",
    "SessionPattern",
    "Slot",
    "SlotId",
    "SlotStatus",
]

_DAY_MINUTES = 24 * 60


class ScheduleId(EntityId):
    """Identifier of a :class:`Schedule` (at most 46 characters: slot ids extend it)."""

    __slots__ = ()


class SlotId(EntityId):
    """Identifier of a :class:`Slot`: ``<schedule id>.<UTC start, YYYYMMDDTHHMMZ>``."""

    __slots__ = ()


class SlotStatus(StrEnum):
    """FHIR R4 slotstatus."""

    FREE = "free"
    BUSY = "busy"
    BUSY_UNAVAILABLE = "busy-unavailable"
    BUSY_TENTATIVE = "busy-tentative"
    ENTERED_IN_ERROR = "entered-in-error"


def _slot_minutes(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    positive_int(inst, attr, value)
    if value > _DAY_MINUTES:
        raise ValidationError("SessionPattern.slot_minutes must be at most a day", field=attr.name)


@attrs.frozen
class SessionPattern:
    """A recurring session: each occurrence of ``cadence`` starts one, ending at wall time ``ends``.

    The session (on the wall clock of the cadence's zone, same local day) is
    cut into back-to-back slots of ``slot_minutes``; a last piece shorter than
    that is not a slot. ``until`` (a local date, inclusive) ends the pattern.
    """

    cadence: Cadence = attrs.field(validator=of_type(Cadence))
    ends: time = attrs.field(validator=a_time)
    slot_minutes: int = attrs.field(validator=_slot_minutes)
    until: date | None = attrs.field(default=None, validator=optional(a_date))

    def __attrs_post_init__(self) -> None:
        if self.ends <= self.cadence.anchor.time().replace(tzinfo=None):
            raise ValidationError(
                "SessionPattern.ends must be later in the day than the sessions start",
                field="ends",
            )


@attrs.frozen
class Schedule:
    """A provider's bookable time at one location (FHIR Schedule).

    ``sessions`` make its slots; an inactive schedule publishes none.
    """

    id: ScheduleId = attrs.field(validator=_prefix)
    provider_id: StaffId = attrs.field(validator=of_type(StaffId))
    location_id: LocationId = attrs.field(validator=of_type(LocationId))
    sessions: tuple[SessionPattern, ...] = attrs.field(validator=tuple_of(SessionPattern))
    active: bool = attrs.field(default=True, validator=of_type(bool))


@attrs.frozen
class Slot:
    """One bookable slot of a schedule (FHIR Slot).

    A ``busy`` slot names the ``appointment_id`` booked in it and the
    patient it is ``booked_for``; a slot of any other status names neither.
    """

    id: SlotId = attrs.field(validator=of_type(SlotId))
    schedule_id: ScheduleId = attrs.field(validator=of_type(ScheduleId))
    provider_id: StaffId = attrs.field(validator=of_type(StaffId))
    location_id: LocationId = attrs.field(validator=of_type(LocationId))
    start: datetime = attrs.field(validator=aware)
    end: datetime = attrs.field(validator=aware)
    status: SlotStatus = attrs.field(default=SlotStatus.FREE, validator=of_type(SlotStatus))
    appointment_id: AppointmentId | None = attrs.field(
        default=None, validator=optional(of_type(AppointmentId))
    )
    booked_for: PatientId | None = attrs.field(default=None, validator=optional(of_type(PatientId)))

    def __attrs_post_init__(self) -> None:
        _span("Slot", self.start, self.end, None)
        booked = self.appointment_id is not None and self.booked_for is not None
        if (self.status is SlotStatus.BUSY) != booked or (
            not booked and (self.appointment_id is not None or self.booked_for is not None)
        ):
            raise ValidationError(
                "a busy Slot names its appointment and patient; any other names neither",
                field="appointment_id",
            )

    @property
    def is_free(self) -> bool:
        """Whether the slot can be booked."""
        return self.status is SlotStatus.FREE

    def booked(self, appointment_id: AppointmentId, patient_id: PatientId) -> Slot:
        """A busy copy holding ``appointment_id`` for ``patient_id`` (the slot must be free)."""
        if not self.is_free:
            raise ValidationError(f"slot {self.id} is not free", field="status")
        return attrs.evolve(
            self, status=SlotStatus.BUSY, appointment_id=appointment_id, booked_for=patient_id
        )

    def freed(self) -> Slot:
        """A free copy (its booking removed)."""
        return attrs.evolve(self, status=SlotStatus.FREE, appointment_id=None, booked_for=None)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Whether the slot shares an instant with ``[start, end)``."""
        return instant(self.start) < instant(end) and instant(start) < instant(self.end)
