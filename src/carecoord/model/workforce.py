"""Staffing: shifts, recurring shift patterns, on-call rotas and time off.

A :class:`Shift` is one staff member's duty in one role at one location, from
an aware ``start`` to an aware ``end``, on site or on call. A
:class:`ShiftPattern` makes shifts from a :class:`~carecoord.Cadence` (each
occurrence starts one, on the wall clock of the cadence's zone, so a 07:00
shift stays at 07:00 across daylight-saving changes). A :class:`Rota` is the
requirement that a role be staffed at a location around the clock (24/7) by at
least ``minimum`` people; its ``owner_id`` is the lead who fills its gaps.
:class:`TimeOff` takes a staff member off duty for a period (whatever shifts
they hold), optionally naming who covers their work.

Pure: no I/O. Identifiers, codes and times only; nothing here is free text.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any

import attrs

from ._base import (
    EntityId,
    StaffId,
    a_time,
    aware,
    ensure_aware,
    instant,
    of_type,
    optional,
    positive_int,
)
from ._errors import ValidationError
from .cadence import Cadence
from .codes import CareTeamRole

__all__ = [
    "MAX_SHIFT",
    "LocationId",
    "Rota",
    "RotaId",
    "Shift",
    "ShiftId",
    "ShiftKind",
    "ShiftPattern",
    "ShiftStatus",
    "TimeOff",
    "TimeOffId",
    "TimeOffKind",
]

MAX_SHIFT = timedelta(hours=72)
"""The longest a single shift may last (a weekend on call); longer duty is several shifts."""

_PREFIX_MAX = 46
"""The longest id a pattern or schedule may have: derived ids append 18 characters."""


class LocationId(EntityId):
    """Identifier of a location (a clinic, a ward, a site) shifts and slots are held at."""

    __slots__ = ()


class ShiftId(EntityId):
    """Identifier of a :class:`Shift` (or the prefix of the shifts a pattern makes)."""

    __slots__ = ()


class RotaId(EntityId):
    """Identifier of a :class:`Rota`."""

    __slots__ = ()


class TimeOffId(EntityId):
    """Identifier of a :class:`TimeOff`."""

    __slots__ = ()


class ShiftKind(StrEnum):
    """Whether the staff member is on site or on call (reachable, called in when needed)."""

    ON_SITE = "on-site"
    ON_CALL = "on-call"


class ShiftStatus(StrEnum):
    """A shift is planned until it is cancelled."""

    PLANNED = "planned"
    CANCELLED = "cancelled"


class TimeOffKind(StrEnum):
    """Why a staff member is off duty (a code, never free text)."""

    ANNUAL_LEAVE = "annual-leave"
    SICK_LEAVE = "sick-leave"
    TRAINING = "training"
    PARENTAL_LEAVE = "parental-leave"
    OTHER = "other"


def _to_kind(value: Any) -> ShiftKind:
    try:
        return ShiftKind(value)
    except ValueError:
        raise ValidationError("kind must be a ShiftKind", field="kind") from None


def _span(cls: str, start: datetime, end: datetime, longest: timedelta | None) -> None:
    """``end`` after ``start`` (by instant) and, with ``longest``, not more than that after."""
    length = instant(end) - instant(start)
    if length <= timedelta(0):
        raise ValidationError(f"{cls}.end must be after {cls}.start", field="end")
    if longest is not None and length > longest:
        raise ValidationError(f"{cls} must not last longer than {longest}", field="end")


def _prefix(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    """Validator: an id short enough to prefix derived ids (see :func:`derived_id`)."""
    of_type(type(value) if isinstance(value, EntityId) else EntityId)(inst, attr, value)
    if len(value) > _PREFIX_MAX:
        raise ValidationError(
            f"{type(inst).__name__}.{attr.name} must be at most {_PREFIX_MAX} characters",
            field=attr.name,
        )


def derived_id(prefix: str, moment: datetime) -> str:
    """``prefix`` and ``moment``'s UTC minute: the stable id of a generated shift or slot."""
    return f"{prefix}.{instant(moment).strftime('%Y%m%dT%H%MZ')}"


@attrs.frozen
class Shift:
    """One staff member's duty in ``role`` at ``location_id`` from ``start`` to ``end``.

    ``kind`` says on site or on call; ``rota_id`` the rota the shift staffs,
    if any. A shift lasts at most :data:`MAX_SHIFT`. A cancelled shift stays
    on record but covers nothing.
    """

    id: ShiftId = attrs.field(validator=of_type(ShiftId))
    staff_id: StaffId = attrs.field(validator=of_type(StaffId))
    role: CareTeamRole = attrs.field(validator=of_type(CareTeamRole))
    location_id: LocationId = attrs.field(validator=of_type(LocationId))
    start: datetime = attrs.field(validator=aware)
    end: datetime = attrs.field(validator=aware)
    kind: ShiftKind = attrs.field(default=ShiftKind.ON_SITE, validator=of_type(ShiftKind))
    rota_id: RotaId | None = attrs.field(default=None, validator=optional(of_type(RotaId)))
    status: ShiftStatus = attrs.field(default=ShiftStatus.PLANNED, validator=of_type(ShiftStatus))

    def __attrs_post_init__(self) -> None:
        _span("Shift", self.start, self.end, MAX_SHIFT)

    @property
    def is_planned(self) -> bool:
        """Whether the shift still stands (not cancelled)."""
        return self.status is ShiftStatus.PLANNED

    def covers(self, moment: datetime) -> bool:
        """Whether the shift stands and ``moment`` lies in ``[start, end)``."""
        now = instant(ensure_aware(moment, "moment"))
        return self.is_planned and instant(self.start) <= now < instant(self.end)

    def cancelled(self) -> Shift:
        """A cancelled copy."""
        return attrs.evolve(self, status=ShiftStatus.CANCELLED)


@attrs.frozen
class ShiftPattern:
    """Recurring shifts: each occurrence of ``cadence`` starts one, ending at wall time ``ends``.

    ``ends`` is read on the wall clock of the cadence's zone: the first such
    time after the start (the next day when it is not later than the start's
    time of day, so ``23:00``-``07:00`` is a night shift and ``08:00``-``08:00`` a
    24-hour one). A night shift over a spring-forward change is an hour
    shorter, over a fall-back change an hour longer; the wall times stay.
    Shifts made from the pattern have the id ``<id>.<UTC start, YYYYMMDDTHHMMZ>``,
    so making the same window twice makes the same shifts.
    """

    id: ShiftId = attrs.field(validator=_prefix)
    staff_id: StaffId = attrs.field(validator=of_type(StaffId))
    role: CareTeamRole = attrs.field(validator=of_type(CareTeamRole))
    location_id: LocationId = attrs.field(validator=of_type(LocationId))
    cadence: Cadence = attrs.field(validator=of_type(Cadence))
    ends: time = attrs.field(validator=a_time)
    kind: ShiftKind = attrs.field(default=ShiftKind.ON_SITE, converter=_to_kind)
    rota_id: RotaId | None = attrs.field(default=None, validator=optional(of_type(RotaId)))


@attrs.frozen
class Rota:
    """A 24/7 staffing requirement: ``role`` at ``location_id``, ``minimum`` people at all times.

    Shifts of that role, location and ``kind`` staff it; every stretch of
    time with fewer than ``minimum`` of them on duty (after time off) is a gap
    on the worklist of ``owner_id`` (shown in the owner's time zone).
    """

    id: RotaId = attrs.field(validator=of_type(RotaId))
    owner_id: StaffId = attrs.field(validator=of_type(StaffId))
    role: CareTeamRole = attrs.field(validator=of_type(CareTeamRole))
    location_id: LocationId = attrs.field(validator=of_type(LocationId))
    kind: ShiftKind = attrs.field(default=ShiftKind.ON_SITE, validator=of_type(ShiftKind))
    minimum: int = attrs.field(default=1, validator=positive_int)
    active: bool = attrs.field(default=True, validator=of_type(bool))


@attrs.frozen
class TimeOff:
    """``staff_id`` is off duty from ``start`` to ``end``, whatever shifts they hold.

    ``covered_by`` names the staff member who takes over their work, if
    anyone (see :meth:`CareCoordinator.record_time_off`).
    """

    id: TimeOffId = attrs.field(validator=of_type(TimeOffId))
    staff_id: StaffId = attrs.field(validator=of_type(StaffId))
    start: datetime = attrs.field(validator=aware)
    end: datetime = attrs.field(validator=aware)
    kind: TimeOffKind = attrs.field(
        default=TimeOffKind.ANNUAL_LEAVE, validator=of_type(TimeOffKind)
    )
    covered_by: StaffId | None = attrs.field(default=None, validator=optional(of_type(StaffId)))
    cancelled: bool = attrs.field(default=False, validator=of_type(bool))

    def __attrs_post_init__(self) -> None:
        _span("TimeOff", self.start, self.end, None)
        if self.covered_by == self.staff_id:
            raise ValidationError(
                "TimeOff cannot be covered by the absent member", field="covered_by"
            )

    def covers(self, moment: datetime) -> bool:
        """Whether the time off stands and ``moment`` lies in ``[start, end)``."""
        now = instant(ensure_aware(moment, "moment"))
        return not self.cancelled and instant(self.start) <= now < instant(self.end)
