"""Small helpers the handlers share: input checks, code parsing, the assignment event."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

from .. import events as ev
from ..model import CarePlan, Intervention, Period, ValidationError
from ..model._base import instant

if TYPE_CHECKING:
    from ..access import Permission
    from .runner import Context

__all__ = ["assigned", "check", "code", "overlaps", "update"]

E = TypeVar("E", bound=Enum)
R = TypeVar("R")


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
