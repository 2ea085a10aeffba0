"""Small helpers the handlers share: input checks, code parsing, the assignment event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol, Self, TypeVar

from .. import events as ev
from ..model import (
    Appointment,
    AppointmentStatus,
    CarePlan,
    CarePlanId,
    Goal,
    Intervention,
    PatientId,
    Period,
    ValidationError,
)
from ..model._base import instant

if TYPE_CHECKING:
    from ..access import Permission
    from .runner import Context

__all__ = [
    "Startable",
    "announce_booking",
    "assigned",
    "check",
    "code",
    "goal_revised",
    "overlaps",
    "started",
    "update",
]

E = TypeVar("E", bound=Enum)
R = TypeVar("R")


class Startable(Protocol):
    """A record with a state machine: ``transition`` returns a moved copy (history kept)."""

    def transition(
        self, to: Any, *, by: Any, at: datetime, reason: str | None = None
    ) -> Self:  # pragma: no cover - protocol
        """A copy moved to ``to``, the move recorded."""
        ...


S = TypeVar("S", bound=Startable)


def started(ctx: Context, record: S, status: object | None) -> S:
    """``record`` as created with ``status``: one legal step from the state it holds.

    ``None`` leaves the record as given. Otherwise the record's own state
    machine checks the move (an illegal one raises
    :class:`~carecoord.InvalidTransitionError`, an unknown code
    :class:`ValidationError`) and the step is recorded in its ``history``,
    by the actor, at the operation's time.
    """
    if status is None:
        return record
    return record.transition(status, by=ctx.actor_id, at=ctx.now)


def check(value: object, cls: type[Any]) -> None:
    """``value`` must be a ``cls``; ValidationError (not echoing it) otherwise."""
    if not isinstance(value, cls):
        raise ValidationError(f"expected a {cls.__name__}")


def code(enum: type[E], value: object, what: str) -> E:
    """``value`` as a member of ``enum``; ValidationError (not echoing it) otherwise."""
    try:
        return enum(value)
    except ValueError:
        raise ValidationError(f"unknown {what} code", field=what) from None


def overlaps(a: Period, b: Period) -> bool:
    """Whether two periods share an instant."""
    return (b.end is None or instant(a.start) < instant(b.end)) and (
        a.end is None or instant(b.start) < instant(a.end)
    )


def assigned(common: dict[str, Any], plan: CarePlan, item: Intervention) -> ev.InterventionAssigned:
    """The event announcing that ``item`` of ``plan`` is assigned."""
    assert item.assignee_id is not None
    return ev.InterventionAssigned(
        **common,
        plan_id=str(plan.id),
        intervention_id=str(item.id),
        assignee_id=str(item.assignee_id),
        due_at=item.due_at,
        priority=item.priority.value,
    )


def goal_revised(
    ctx: Context, patient_id: PatientId, plan_id: CarePlanId | None, old: Goal, new: Goal
) -> ev.GoalRevised:
    """The event announcing that ``old`` was revised into ``new`` (of a plan, or the patient's)."""
    changed = new.targets != old.targets
    return ev.GoalRevised(
        **ctx.common(patient_id),
        plan_id=None if plan_id is None else str(plan_id),
        goal_id=str(new.id),
        reason=new.revisions[-1].reason.value,
        targets_changed=changed,
        achievement=(
            None if not changed or new.achievement_status is None else new.achievement_status.value
        ),
    )


def update(
    ctx: Context, cls: type[R], record_id: str, permission: Permission, edit: Callable[[R], R]
) -> tuple[R, R]:
    """Read a patient's record, check ``permission`` on its patient, edit it and save it.

    A missing record is refused like a forbidden one (see :meth:`Context.load`).

    The shared shape of every "change one record" use case; returns
    ``(old, new)``. The save is checked against the version read, so a
    concurrent change makes the runner retry the whole operation.
    """
    old = ctx.load(cls, record_id, permission)
    new = edit(old)
    ctx.uow.save(new)
    return old, new


def announce_booking(ctx: Context, appointment: Appointment) -> None:
    """Emit :class:`~carecoord.events.AppointmentBooked` when ``appointment`` is booked."""
    if appointment.status is AppointmentStatus.BOOKED:
        ctx.emit(
            ev.AppointmentBooked(
                **ctx.common(appointment.patient_id),
                appointment_id=str(appointment.id),
                start=appointment.start,
                transport_needed=appointment.transport_needed,
            )
        )
