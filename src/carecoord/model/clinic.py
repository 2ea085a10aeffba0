"""Clinic operations, patient flow: clinics, their locations, and a visit's day states.

A :class:`Clinic` keeps its IANA time zone (its day board runs from local
midnight to local midnight), its locations (each with the staff member who
owns its inventory), the staff who work its board, its flow lead (who owns
the "stuck" worklist) and the host-set :class:`WaitLimit` per state.

A :class:`Visit` is one patient's visit on the day: booked (or a walk-in,
opened as arrived), then arrived, checked in, roomed, with the provider,
checked out; or no-show, left without being seen, cancelled. Every move is a
:class:`~carecoord.Transition` (who and when) checked by :data:`VISIT_MACHINE`;
moves are in time order, by instant, so a visit over a daylight-saving change
keeps its true waiting times.

Pure: no I/O. Identifiers, codes and times only; nothing here is free text
except a transition's ``reason`` (hidden from ``repr``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import attrs

from ._base import (
    AppointmentId,
    EntityId,
    PatientId,
    StaffId,
    aware,
    ensure_aware,
    instant,
    of_type,
    optional,
    positive_int,
    revision_field,
    tuple_of,
    unique_ids,
    zone_name,
)
from ._errors import ValidationError
from .machine import StateMachine, Transition
from .workforce import LocationId

__all__ = [
    "DEFAULT_WAIT_LIMITS",
    "FLOW_STATES",
    "IN_CLINIC",
    "VISIT_MACHINE",
    "Clinic",
    "ClinicId",
    "ClinicLocation",
    "RoomId",
    "Visit",
    "VisitFacts",
    "VisitId",
    "VisitState",
    "WaitLimit",
]


class ClinicId(EntityId):
    """Identifier of a :class:`Clinic`."""

    __slots__ = ()


class VisitId(EntityId):
    """Identifier of a :class:`Visit`."""

    __slots__ = ()


class RoomId(EntityId):
    """An exam room's code (``exam-3``): where a roomed patient waits."""

    __slots__ = ()


class VisitState(StrEnum):
    """Where a patient is in the day's flow."""

    BOOKED = "booked"
    ARRIVED = "arrived"
    CHECKED_IN = "checked-in"
    ROOMED = "roomed"
    WITH_PROVIDER = "with-provider"
    CHECKED_OUT = "checked-out"
    NO_SHOW = "no-show"
    LEFT_WITHOUT_BEING_SEEN = "left-without-being-seen"
    CANCELLED = "cancelled"


_V = VisitState
VISIT_MACHINE: StateMachine[VisitState] = StateMachine(
    "Visit",
    VisitState,
    {
        _V.BOOKED: (_V.ARRIVED, _V.CHECKED_IN, _V.NO_SHOW, _V.CANCELLED),
        _V.ARRIVED: (_V.CHECKED_IN, _V.LEFT_WITHOUT_BEING_SEEN),
        _V.CHECKED_IN: (_V.ROOMED, _V.LEFT_WITHOUT_BEING_SEEN),
        _V.ROOMED: (_V.WITH_PROVIDER, _V.CHECKED_OUT, _V.LEFT_WITHOUT_BEING_SEEN),
        _V.WITH_PROVIDER: (_V.CHECKED_OUT,),
    },
    needs_reason=(_V.CANCELLED,),
)
"""The day's flow: a kiosk check-in may stand for arrival, a nurse visit may check out
from the room; no-show, left without being seen, checked out and cancelled are final."""

IN_CLINIC = frozenset({_V.ARRIVED, _V.CHECKED_IN, _V.ROOMED, _V.WITH_PROVIDER})
"""The states of a patient who is in the building (the open rows of the board)."""

FLOW_STATES: tuple[VisitState, ...] = (
    _V.ARRIVED,
    _V.CHECKED_IN,
    _V.ROOMED,
    _V.WITH_PROVIDER,
    _V.CHECKED_OUT,
)
"""The states whose first entry time a visit's facts keep (for waiting times)."""

_FIRST = (_V.BOOKED, _V.ARRIVED)


def _limit_state(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    of_type(VisitState)(inst, attr, value)
    if value not in IN_CLINIC and value is not _V.BOOKED:
        raise ValidationError(
            "WaitLimit.state must be booked or a state of a patient in the clinic", field="state"
        )


@attrs.frozen
class WaitLimit:
    """A visit in ``state`` longer than ``minutes`` is stuck.

    For ``booked`` the clock starts at the scheduled start (the patient is
    late); for the other states, when the visit entered the state.
    """

    state: VisitState = attrs.field(validator=_limit_state)
    minutes: int = attrs.field(validator=positive_int)


DEFAULT_WAIT_LIMITS: tuple[WaitLimit, ...] = (
    WaitLimit(_V.ARRIVED, 15),
    WaitLimit(_V.CHECKED_IN, 20),
    WaitLimit(_V.ROOMED, 15),
    WaitLimit(_V.WITH_PROVIDER, 60),
)
"""The limits a clinic starts with (no limit for a late ``booked`` patient)."""


def _unique_states(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    states = [limit.state for limit in value]
    if len(set(states)) != len(states):
        raise ValidationError("Clinic.wait_limits names a state twice", field=attr.name)


@attrs.frozen
class ClinicLocation:
    """A location of a clinic (a site, a suite) and who owns its inventory, if anyone."""

    id: LocationId = attrs.field(validator=of_type(LocationId))
    inventory_owner_id: StaffId | None = attrs.field(
        default=None, validator=optional(of_type(StaffId))
    )


@attrs.frozen
class Clinic:
    """A clinic: its time zone, locations, board staff, flow lead and wait limits.

    ``lead_id`` (the lead medical assistant) owns the stuck-visits worklist;
    ``staff_ids`` work the board and use supplies. ``revision`` guards
    updates against stale copies (see :func:`~carecoord.model._base.revision_field`).
    """

    id: ClinicId = attrs.field(validator=of_type(ClinicId))
    time_zone: str = attrs.field(validator=zone_name)
    lead_id: StaffId = attrs.field(validator=of_type(StaffId))
    locations: tuple[ClinicLocation, ...] = attrs.field(
        validator=[tuple_of(ClinicLocation), unique_ids]
    )
    staff_ids: tuple[StaffId, ...] = attrs.field(
        default=(), validator=tuple_of(StaffId, unique=True)
    )
    wait_limits: tuple[WaitLimit, ...] = attrs.field(
        default=DEFAULT_WAIT_LIMITS, validator=[tuple_of(WaitLimit), _unique_states]
    )
    active: bool = attrs.field(default=True, validator=of_type(bool))
    revision: int = revision_field()

    def __attrs_post_init__(self) -> None:
        if not self.locations:
            raise ValidationError("Clinic.locations must name a location", field="locations")

    def location(self, location_id: LocationId | str) -> ClinicLocation:
        """The clinic's location ``location_id``; ValidationError when it has none such."""
        for found in self.locations:
            if found.id == location_id:
                return found
        raise ValidationError("the location is not one of the clinic's", field="location_id")

    def limit(self, state: VisitState) -> int | None:
        """The wait limit of ``state`` in minutes, or ``None``."""
        for limit in self.wait_limits:
            if limit.state is state:
                return limit.minutes
        return None

    def works_here(self, staff_id: StaffId | str) -> bool:
        """Whether ``staff_id`` is the lead, on the board staff, or owns a location's stock."""
        return (
            staff_id == self.lead_id
            or staff_id in self.staff_ids
            or any(loc.inventory_owner_id == staff_id for loc in self.locations)
        )


@attrs.frozen
class Visit:
    """One patient's visit on the day, and every move through :data:`VISIT_MACHINE`.

    ``opened_at`` is when the visit was put on the board, in the state
    :attr:`opened_as` (``booked``, or ``arrived`` for a walk-in). ``scheduled_start``
    places it on a day's board (a walk-in's is its arrival). ``room`` is where
    the patient was roomed; ``provider_id`` who sees them.
    """

    id: VisitId = attrs.field(validator=of_type(VisitId))
    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    clinic_id: ClinicId = attrs.field(validator=of_type(ClinicId))
    location_id: LocationId = attrs.field(validator=of_type(LocationId))
    scheduled_start: datetime = attrs.field(validator=aware)
    opened_at: datetime = attrs.field(validator=aware)
    opened_by: StaffId = attrs.field(validator=of_type(StaffId))
    state: VisitState = attrs.field(default=_V.BOOKED, validator=of_type(VisitState))
    appointment_id: AppointmentId | None = attrs.field(
        default=None, validator=optional(of_type(AppointmentId))
    )
    provider_id: StaffId | None = attrs.field(default=None, validator=optional(of_type(StaffId)))
    room: RoomId | None = attrs.field(default=None, validator=optional(of_type(RoomId)))
    history: tuple[Transition[VisitState], ...] = attrs.field(
        default=(), validator=tuple_of(Transition)
    )

    def __attrs_post_init__(self) -> None:
        state = self.history[0].from_status if self.history else self.state
        if state not in _FIRST:
            raise ValidationError("a visit opens booked or arrived (a walk-in)", field="state")
        last = instant(self.opened_at)
        for step in self.history:
            if step.from_status is not state or not VISIT_MACHINE.can(state, step.to_status):
                raise ValidationError("Visit.history is not a legal walk", field="history")
            if instant(step.at) < last:
                raise ValidationError("Visit.history is not in time order", field="history")
            state, last = step.to_status, instant(step.at)
        if state is not self.state:
            raise ValidationError("Visit.state must be where its history ends", field="state")

    @property
    def opened_as(self) -> VisitState:
        """The state the visit was opened in (booked, or arrived for a walk-in)."""
        return self.history[0].from_status if self.history else self.state

    @property
    def since(self) -> datetime:
        """When the visit entered its current state."""
        return self.history[-1].at if self.history else self.opened_at

    @property
    def in_clinic(self) -> bool:
        """Whether the patient is in the building (arrived and not gone)."""
        return self.state in IN_CLINIC

    @property
    def is_final(self) -> bool:
        """Whether nothing can follow (checked out, no-show, left, cancelled)."""
        return VISIT_MACHINE.is_terminal(self.state)

    def entered(self, state: VisitState) -> datetime | None:
        """When the visit first entered ``state`` (``None``: never)."""
        if self.opened_as is state:
            return self.opened_at
        for step in self.history:
            if step.to_status is state:
                return step.at
        return None

    def moved(
        self,
        to: VisitState | str,
        *,
        by: StaffId,
        at: datetime,
        reason: str | None = None,
        room: RoomId | None = None,
        provider_id: StaffId | None = None,
    ) -> Visit:
        """A copy moved to ``to`` at ``at`` (not before the last move), with the move recorded.

        ``room`` is kept when given (rooming); ``provider_id`` likewise.
        """
        ensure_aware(at, "at")
        if instant(at) < instant(self.since):
            raise ValidationError("a move cannot be before the visit's last move", field="at")
        step = VISIT_MACHINE.transition(self.state, to, by=by, at=at, reason=reason)
        return attrs.evolve(
            self,
            state=step.to_status,
            history=(*self.history, step),
            room=self.room if room is None else room,
            provider_id=self.provider_id if provider_id is None else provider_id,
        )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def _micros(moment: datetime | None) -> str:
    return "" if moment is None else str((moment - _EPOCH) // _MICRO)


def _moment(raw: str) -> datetime | None:
    return None if raw == "" else _EPOCH + int(raw) * _MICRO


@attrs.frozen
class VisitFacts:
    """What a visit's index row keeps beside its state and times: the location, room,
    provider, appointment and when each of :data:`FLOW_STATES` was first entered (UTC).

    Written as a short ``|``-separated code (:meth:`to_detail`), so the board, the
    waiting times and the stuck list never decode a visit.
    """

    location_id: LocationId
    room: RoomId | None
    provider_id: StaffId | None
    appointment_id: AppointmentId | None
    entered: tuple[datetime | None, ...]

    @classmethod
    def of(cls, visit: Visit) -> VisitFacts:
        """The facts of ``visit``."""
        return cls(
            location_id=visit.location_id,
            room=visit.room,
            provider_id=visit.provider_id,
            appointment_id=visit.appointment_id,
            entered=tuple(visit.entered(state) for state in FLOW_STATES),
        )

    def at(self, state: VisitState) -> datetime | None:
        """When the visit first entered ``state`` (one of :data:`FLOW_STATES`)."""
        return self.entered[FLOW_STATES.index(state)]

    @property
    def arrived_at(self) -> datetime | None:
        """Arrival: the first of arrived and checked in (a kiosk check-in is an arrival)."""
        times = [t for t in self.entered[:2] if t is not None]
        return min(times, key=instant) if times else None

    def to_detail(self) -> str:
        """The facts as the index row's ``detail`` (ids cannot hold ``|`` or ``,``)."""
        parts = [self.location_id, self.room, self.provider_id, self.appointment_id]
        times = ",".join(_micros(t) for t in self.entered)
        return "|".join("" if p is None else str(p) for p in parts) + "|" + times

    @classmethod
    def from_detail(cls, detail: str) -> VisitFacts:
        """Read :meth:`to_detail`'s text back; ValidationError when it is not that."""
        try:
            location, room, provider, appointment, times = detail.split("|")
            entered = tuple(_moment(t) for t in times.split(","))
            if len(entered) != len(FLOW_STATES):
                raise ValueError
            return cls(
                location_id=LocationId(location),
                room=RoomId(room) if room else None,
                provider_id=StaffId(provider) if provider else None,
                appointment_id=AppointmentId(appointment) if appointment else None,
                entered=entered,
            )
        except (ValueError, OverflowError):
            raise ValidationError("not the facts of a visit", field="detail") from None
