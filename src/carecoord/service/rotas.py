"""Rota use cases: rotas, shifts (one by one or from a pattern), time off, who is on duty,
rota gaps.

Editing a member's shifts or time off is for their leads and supervisors
(:func:`~carecoord.service._staffing.manage_member`); who is on duty, a
member's shifts and a rota's gaps are shared with every active staff member
(audited HOPERAT). Who is on duty and the gaps are answered from the
``duty`` and ``time-off`` index rows alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import attrs

from .. import events as ev
from ..access import Permission
from ..model import CareTeamRole, NotFoundError, StaffId, ValidationError
from ..model._base import ensure_aware, instant
from ..model.audit import AuditAction, PurposeOfUse
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
from ..storage.port import WorkQuery
from ..storage.uow import UnitOfWork
from ..workforce import DutySpan, RotaGap, TimeOffReport, coverage_gaps, shifts_from_pattern
from ..workforce import on_duty as duty_at
from . import _access
from ._staffing import (
    TICK,
    absences_of,
    duty_spans,
    manage_member,
    open_items,
    registered,
    shift_query,
)
from ._util import check, code
from .runner import Context, operation

__all__ = [
    "cancel_shift",
    "cancel_time_off",
    "gaps_of",
    "on_duty",
    "record_shifts",
    "record_time_off",
    "rota_gaps",
    "save_rota",
    "schedule_shifts",
    "shifts_of",
    "time_off_of",
]


def _window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    ensure_aware(start, "start")
    ensure_aware(end, "end")
    if instant(end) <= instant(start):
        raise ValidationError("end must be after start", field="end")
    return start, end


# ------------------------------------------------------------------- rotas


@operation(AuditAction.UPDATE)
def save_rota(ctx: Context, rota: Rota) -> Rota:
    """Create or replace a rota (staff-wide ``manage-staff``); its owner must be registered."""
    check(rota, Rota)
    ctx.allow_staff(Permission.MANAGE_STAFF, f"Rota/{rota.id}")
    registered(ctx.uow, rota.owner_id, "rota owner")
    if ctx.uow.find(Rota, rota.id) is None:
        ctx.action = AuditAction.CREATE
        ctx.uow.add(rota)
    else:
        ctx.uow.save(rota)
    return rota


# ------------------------------------------------------------------ shifts


def _check_shift(ctx: Context, shift: Shift, rotas: dict[RotaId, Rota]) -> None:
    """The member is registered, active and holds the role; a rota named matches the shift."""
    member = registered(ctx.uow, shift.staff_id)
    if shift.role not in member.roles:
        raise ValidationError(f"staff member {shift.staff_id} does not hold the shift's role")
    owner = None
    if shift.rota_id is not None:
        rota = rotas.get(shift.rota_id) or ctx.uow.get(Rota, shift.rota_id)
        rotas[shift.rota_id] = rota
        if (rota.role, rota.location_id, rota.kind) != (shift.role, shift.location_id, shift.kind):
            raise ValidationError(
                f"shift {shift.id} does not match the role, location and kind of its rota"
            )
        owner = rota.owner_id
    manage_member(ctx, shift.staff_id, owner=owner)


def _store_shifts(ctx: Context, shifts: Sequence[Shift], *, replace: bool) -> list[Shift]:
    """Check and write ``shifts``; existing ones are replaced (``replace``) or kept."""
    rotas: dict[RotaId, Rota] = {}
    if not shifts:
        ctx.grant(PurposeOfUse.HOPERAT, entity="Shift")
        return []
    stored = []
    seen: set[ShiftId] = set()
    for shift in shifts:
        check(shift, Shift)
        if shift.id in seen:
            raise ValidationError(f"shift {shift.id} is given twice", field="shifts")
        seen.add(shift.id)
        _check_shift(ctx, shift, rotas)
        if ctx.uow.find(Shift, shift.id) is None:
            ctx.uow.add(shift)
        elif replace:
            ctx.uow.save(shift)
        else:
            continue
        stored.append(shift)
    ctx.entity = f"Shift/{shifts[0].id}" if len(shifts) == 1 else "Shift"
    return stored


@operation(AuditAction.UPDATE)
def record_shifts(ctx: Context, shifts: Sequence[Shift]) -> list[Shift]:
    """Add or replace shifts (one unit of work: all or none).

    Each member must be registered, active and hold the shift's role; a shift
    naming a rota must match its role, location and kind. The actor must be
    a lead or supervisor of every member concerned (or own the rota).
    """
    return _store_shifts(ctx, list(shifts), replace=True)


@operation(AuditAction.CREATE)
def schedule_shifts(
    ctx: Context, pattern: ShiftPattern, start: datetime, end: datetime
) -> list[Shift]:
    """Make the shifts of ``pattern`` starting in ``[start, end)``; returns those that were new.

    Shifts made before (same id: same pattern and start) are kept as they
    are, so running it again, or for an overlapping window, adds only what
    is missing.
    """
    check(pattern, ShiftPattern)
    _window(start, end)
    return _store_shifts(ctx, shifts_from_pattern(pattern, start, end), replace=False)


@operation(AuditAction.UPDATE)
def cancel_shift(ctx: Context, shift_id: ShiftId) -> Shift:
    """Cancel a shift (it stays on record, covering nothing)."""
    shift = ctx.uow.find(Shift, shift_id)
    if shift is None:
        raise NotFoundError(f"shift {shift_id} not found")
    owner = None
    if shift.rota_id is not None:
        rota = ctx.uow.find(Rota, shift.rota_id)
        owner = None if rota is None else rota.owner_id
    manage_member(ctx, shift.staff_id, owner=owner)
    ctx.entity = f"Shift/{shift.id}"
    cancelled = shift.cancelled()
    ctx.uow.save(cancelled)
    return cancelled


@operation(AuditAction.READ)
def shifts_of(ctx: Context, staff_id: StaffId, start: datetime, end: datetime) -> list[Shift]:
    """The shifts (cancelled ones too) of ``staff_id`` overlapping ``[start, end)``, in order.

    The rota is shared: any active staff member may read it.
    """
    lo, hi = _window(start, end)
    ctx.grant(PurposeOfUse.HOPERAT, entity=f"StaffMember/{staff_id}")
    query = shift_query("shift", lo, hi, (str(staff_id),), open_only=False)
    found = [ctx.uow.get(Shift, hit.record_id) for hit in ctx.uow.query(query)]
    return sorted(found, key=lambda s: (instant(s.start), s.id))


@operation(AuditAction.READ)
def on_duty(
    ctx: Context,
    at: datetime | None = None,
    role: CareTeamRole | str | None = None,
    location_id: LocationId | None = None,
    kind: ShiftKind | str | None = None,
) -> list[DutySpan]:
    """Who is on duty (on site or on call) at ``at`` (default now), per role and location.

    Standing shifts covering the moment, less anyone on time off then,
    ordered by staff id. Read from the index rows only; shared with every
    active staff member.
    """
    moment = ensure_aware(at, "at") if at is not None else ctx.now
    wanted = None if role is None else code(CareTeamRole, role, "role")
    shift_kind = None if kind is None else code(ShiftKind, kind, "kind")
    ctx.grant(PurposeOfUse.HOPERAT, entity="Shift")
    spans = duty_spans(
        ctx.uow, moment, moment + TICK, location_id=location_id, role=wanted, kind=shift_kind
    )
    away = absences_of(ctx.uow, {s.staff_id for s in spans}, moment, moment + TICK)
    return duty_at(spans, away, moment)


def gaps_of(
    uow: UnitOfWork, rota: Rota, start: datetime, end: datetime, zone: ZoneInfo
) -> list[RotaGap]:
    """The gaps of ``rota`` in ``[start, end)`` from the index rows, times on ``zone``."""
    spans = duty_spans(
        uow, start, end, location_id=rota.location_id, role=rota.role, kind=rota.kind
    )
    away = absences_of(uow, {s.staff_id for s in spans}, start, end)
    return [
        RotaGap(
            rota_id=rota.id,
            role=rota.role,
            location_id=rota.location_id,
            kind=rota.kind,
            start=gap.start.astimezone(zone),
            end=gap.end.astimezone(zone),
            staffed=gap.staffed,
            needed=gap.needed,
        )
        for gap in coverage_gaps(spans, away, start, end, minimum=rota.minimum)
    ]


@operation(AuditAction.READ)
def rota_gaps(ctx: Context, rota_id: RotaId, start: datetime, end: datetime) -> list[RotaGap]:
    """The stretches of ``[start, end)`` in which ``rota_id`` has fewer on duty than it needs
    (times on the actor's zone). Shared with every active staff member."""
    lo, hi = _window(start, end)
    rota = ctx.uow.find(Rota, rota_id)
    if rota is None:
        raise NotFoundError(f"rota {rota_id} not found")
    ctx.grant(PurposeOfUse.HOPERAT, entity=f"Rota/{rota.id}")
    if not rota.active:
        return []
    return gaps_of(ctx.uow, rota, lo, hi, ZoneInfo(ctx.actor.time_zone))


# ---------------------------------------------------------------- time off


@operation(AuditAction.CREATE)
def record_time_off(ctx: Context, time_off: TimeOff) -> TimeOffReport:
    """Record time off and list the absent member's open work due in it.

    For a lead or supervisor of the member; a covering member must be
    registered and active. The open interventions due in the time off are
    listed (of patients the actor may read; the others are counted in
    ``hidden``) for reassignment; nothing is reassigned here (see
    :meth:`CareCoordinator.record_time_off` for the cover rule).
    """
    check(time_off, TimeOff)
    manage_member(ctx, time_off.staff_id)
    ctx.entity = f"TimeOff/{time_off.id}"
    uow = ctx.uow
    registered(uow, time_off.staff_id)
    if time_off.covered_by is not None:
        registered(uow, time_off.covered_by, "covering member")
    if uow.find(TimeOff, time_off.id) is not None:
        raise ValidationError(f"time off {time_off.id} already exists", field="id")
    uow.add(time_off)
    items = (
        []
        if time_off.cancelled
        else open_items(uow, time_off.staff_id, time_off.start, time_off.end)
    )
    can_read = _access.readable(ctx)
    shown = tuple(i for i in items if can_read(str(i.patient_id)))
    ctx.emit(
        ev.TimeOffRecorded(
            at=ctx.now,
            actor=str(ctx.actor_id),
            patient_id=None,
            time_off_id=str(time_off.id),
            owner_id=str(time_off.staff_id),
            start=time_off.start,
            end=time_off.end,
            covered_by=None if time_off.covered_by is None else str(time_off.covered_by),
            open_items=len(items),
        )
    )
    return TimeOffReport(time_off=time_off, open_items=shown, hidden=len(items) - len(shown))


@operation(AuditAction.UPDATE)
def cancel_time_off(ctx: Context, time_off_id: TimeOffId) -> TimeOff:
    """Cancel time off (the member is back on their shifts)."""
    found = ctx.uow.find(TimeOff, time_off_id)
    if found is None:
        raise NotFoundError(f"time off {time_off_id} not found")
    manage_member(ctx, found.staff_id)
    ctx.entity = f"TimeOff/{found.id}"
    cancelled = attrs.evolve(found, cancelled=True)
    ctx.uow.save(cancelled)
    return cancelled


@operation(AuditAction.READ)
def time_off_of(ctx: Context, staff_id: StaffId, start: datetime, end: datetime) -> list[TimeOff]:
    """The time off (cancelled too) of ``staff_id`` overlapping ``[start, end)``: for the member,
    their leads and supervisors, or ``manage-staff``."""
    lo, hi = _window(start, end)
    _access.self_or_report(ctx, staff_id, Permission.MANAGE_STAFF)
    query = WorkQuery(
        category="time-off",
        owner_ids=(str(staff_id),),
        open_only=False,
        due_from=lo + TICK,
        changed_before=hi,
    )
    found = [ctx.uow.get(TimeOff, hit.record_id) for hit in ctx.uow.query(query)]
    return sorted(found, key=lambda t: (instant(t.start), t.id))
