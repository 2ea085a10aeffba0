"""Staff use cases: register, update and read staff members."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from .. import events as ev
from ..access import Permission, is_administrator, staff_change_problem
from ..model import (
    AccessDeniedError,
    ConflictError,
    NotFoundError,
    StaffId,
    StaffMember,
    ValidationError,
    supervision_chain,
)
from ..model.audit import AuditAction, PurposeOfUse
from ..storage.port import WorkQuery
from ..storage.uow import UnitOfWork
from . import _access
from ._util import check
from .runner import Context, operation

__all__ = ["register_staff", "staff_member", "staff_members"]


def _first_member(uow: UnitOfWork, actor_id: StaffId, member: object) -> StaffMember | None:
    """The very first staff member of an empty store may register themselves."""
    if not isinstance(member, StaffMember) or member.id != actor_id:
        return None
    anyone = uow.query(WorkQuery(category="staff", open_only=False, limit=1))
    return None if anyone else member


@operation(AuditAction.UPDATE, bootstrap=_first_member)
def register_staff(ctx: Context, member: StaffMember) -> StaffMember:
    """Register a new staff member (``revision`` 0), or update one read earlier.

    An update passes a copy read through :func:`staff_member` (or returned by
    an earlier registration): its ``revision`` must still be the stored one,
    otherwise :class:`ConflictError` and nothing changes. The first staff
    member of an empty store registers themselves; after that the actor needs
    the staff-wide ``manage-staff`` permission.
    """
    check(member, StaffMember)
    uow = ctx.uow
    entity = f"StaffMember/{member.id}"
    existing = uow.find(StaffMember, member.id)
    if ctx.bootstrap:
        ctx.grant(PurposeOfUse.HOPERAT, entity=entity)
    else:
        ctx.allow_staff(Permission.MANAGE_STAFF, entity=entity)
        _check_change(ctx, existing, member)
    ctx.purpose = PurposeOfUse.HOPERAT
    supervisor = member.supervisor_id
    if supervisor is not None:
        above = uow.find(StaffMember, supervisor)
        if above is None:
            raise NotFoundError(f"supervisor {supervisor} is not registered")
        if not above.active:
            raise ValidationError("the supervisor is not active", field="supervisor_id")
    if existing is None:
        if member.revision:
            raise NotFoundError(f"staff member {member.id} is not registered")
        uow.add(member)
    else:
        current = uow.version_of(StaffMember, member.id)
        if member.revision != current:
            # 0: a new registration of a taken id; otherwise a stale copy.
            raise ConflictError("StaffMember", str(member.id), member.revision)
        uow.save(member)
    if supervisor is not None:
        directory: dict[StaffId, StaffMember] = {}
        _access.load_line(uow, supervisor, directory)
        directory[member.id] = member
        supervision_chain(member.id, directory)  # rejects cycles
    ctx.action = AuditAction.CREATE if existing is None else AuditAction.UPDATE
    ctx.emit(
        ev.StaffRegistered(
            at=ctx.now, actor=str(ctx.actor_id), patient_id=None, staff_id=str(member.id)
        )
    )
    return attrs.evolve(member, revision=uow.version_of(StaffMember, member.id) + 1)


def _check_change(ctx: Context, before: StaffMember | None, after: StaffMember) -> None:
    """The staff administration rules (see :func:`carecoord.access.staff_change_problem`)."""
    problem = staff_change_problem(ctx.actor, before, after)
    if (
        problem is None
        and before is not None
        and is_administrator(before)
        and not is_administrator(after)
        and not any(is_administrator(m) for m in ctx.uow.all(StaffMember) if m.id != before.id)
    ):
        problem = "last-administrator"
    if problem is not None:
        raise AccessDeniedError(
            f"{ctx.actor_id} may not make this change to StaffMember/{after.id} ({problem})"
        )


@operation(AuditAction.READ)
def staff_member(ctx: Context, staff_id: StaffId) -> StaffMember:
    """Read a staff member: oneself, one's reports, or anyone with ``manage-staff``."""
    _access.self_or_report(ctx, staff_id, Permission.MANAGE_STAFF, own=PurposeOfUse.HOPERAT)
    return ctx.uow.get(StaffMember, staff_id)


@operation(AuditAction.READ)
def staff_members(
    ctx: Context, staff_ids: Iterable[StaffId] | None = None, *, include_inactive: bool = False
) -> list[StaffMember]:
    """The staff directory: every active staff member (or those of ``staff_ids``), by id.

    Any active staff member may read it (audited as a staff-wide read, purpose
    HOPERAT): ids, names, roles, zones and reporting lines, enough for
    :func:`~carecoord.model.supervision_chain`. Contact details (``telecom``,
    ``preferences``) are blanked unless the actor may read the member in
    full (:func:`staff_member`: oneself, one's reports, or ``manage-staff``).
    ``include_inactive`` lists those who left too; unknown ids are skipped.
    Reads the ``staff`` index rows, then each listed member.
    """
    ctx.grant(PurposeOfUse.HOPERAT, entity="StaffMember")
    if staff_ids is None:
        hits = ctx.uow.query(WorkQuery(category="staff", open_only=not include_inactive))
        wanted = [StaffId(hit.record_id) for hit in hits]
    else:
        wanted = [StaffId(str(s)) for s in dict.fromkeys(staff_ids)]
    full = _access.decide(
        ctx.uow, ctx.policy, ctx.actor, Permission.MANAGE_STAFF, None, ctx.now
    ).allowed
    below: dict[StaffId, StaffMember] = {}
    found: list[StaffMember] = []
    for staff_id in sorted(wanted):
        member = ctx.uow.find(StaffMember, staff_id)
        if member is None or not (member.active or include_inactive):
            continue
        found.append(member if full or _mine(ctx, member, below) else _listed(member))
    return found


def _mine(ctx: Context, member: StaffMember, seen: dict[StaffId, StaffMember]) -> bool:
    """Whether ``member`` is the actor or reports to them (directly or not)."""
    if member.id == ctx.actor_id:
        return True
    _access.load_line(ctx.uow, member.id, seen)
    try:
        return ctx.actor_id in supervision_chain(member.id, seen)
    except (NotFoundError, ValidationError):  # a broken reporting line grants nothing
        return False


def _listed(member: StaffMember) -> StaffMember:
    """``member`` as the directory shows it to colleagues: no contact details."""
    return attrs.evolve(member, telecom=(), preferences=type(member.preferences)())
