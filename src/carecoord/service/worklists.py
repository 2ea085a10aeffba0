"""Caseload use cases: interventions and reviews due, the caseload worklist.

Served by the store's index rows: only records that hold due items are read,
and of a care plan only the interventions shown are decoded. Items of patients
the actor may not read are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..caseload import (
    DueIntervention,
    Worklist,
    WorklistCategory,
    WorklistItem,
    WorklistScope,
    barrier_work_done,
    contact_due,
    goal_at_risk,
    local_day_end,
    referral_category,
    work_item,
    worklist_scope,
)
from ..model import CarePlan, Intervention, InterventionId, Patient, StaffId, ValidationError
from ..model._base import ensure_aware, instant
from ..model.audit import AuditAction
from ..storage.port import IndexHit, WorkQuery
from ..storage.uow import RecordPart, UnitOfWork
from . import _access
from .runner import Context, operation

__all__ = ["interventions_due", "reviews_due", "worklist"]

_CONTACT_PARTIES = {"patient", "family"}


@operation(AuditAction.READ)
def interventions_due(
    ctx: Context, staff_id: StaffId, until: datetime | None = None
) -> list[DueIntervention]:
    """Open interventions of ``staff_id`` due by ``until`` (default now), most urgent first."""
    _access.caseload_access(ctx, staff_id)
    horizon = ensure_aware(until, "until") if until is not None else ctx.now
    hits = ctx.uow.query(
        WorkQuery(category="intervention", owner_ids=(str(staff_id),), due_before=horizon)
    )
    can_read = _access.readable(ctx)
    can_read.prefetch(hit.row.patient_id for hit in hits)
    items = []
    for hit in hits:
        if not can_read(hit.row.patient_id or ""):
            continue
        # Only the intervention shown is decoded, not its whole plan.
        part = ctx.uow.find_part(
            CarePlan, hit.record_id, "interventions", hit.row.item_id, Intervention
        )
        if part is None:  # gone since the query ran: what reading the plan says
            plan = ctx.uow.get(CarePlan, hit.record_id)
            item = plan.intervention(InterventionId(hit.row.item_id))
            part = RecordPart(plan.id, plan.patient_id, item)
        item = part.item
        items.append(
            DueIntervention(part.patient_id, part.record_id, item, item.is_overdue(ctx.now))
        )
    return items


@operation(AuditAction.READ)
def reviews_due(ctx: Context, until: datetime | None = None) -> list[CarePlan]:
    """Active plans the actor may read with a review due before ``until`` (default now)."""
    horizon = ensure_aware(until, "until") if until is not None else ctx.now
    can_read = _access.readable(ctx)
    # Every plan is filtered by the actor's own READ right: the filter is the decision.
    ctx.grant(ctx.purpose)
    hits = ctx.uow.query(WorkQuery(category="review", due_before=horizon))
    can_read.prefetch(h.row.patient_id for h in hits)
    return [ctx.uow.get(CarePlan, h.record_id) for h in hits if can_read(h.row.patient_id or "")]


@operation(AuditAction.READ)
def worklist(
    ctx: Context,
    staff_id: StaffId,
    now: datetime | None = None,
    scope: WorklistScope | str = WorklistScope.SELF,
    until: datetime | None = None,
    stalled_after: timedelta | None = None,
    no_contact_after: timedelta = timedelta(days=30),
) -> Worklist:
    """The caseload worklist of ``staff_id`` (see :meth:`CareCoordinator.worklist`)."""
    kind = worklist_scope(scope)
    _access.caseload_access(ctx, staff_id)
    moment = ensure_aware(now, "now") if now is not None else ctx.now
    zone = ZoneInfo(ctx.actor.time_zone)
    horizon = ensure_aware(until, "until") if until is not None else local_day_end(moment, zone)
    stall = stalled_after if stalled_after is not None else ctx.settings.stalled_referral_after
    uow = ctx.uow
    owners = _reports_of(uow, staff_id) if kind is WorklistScope.SUPERVISOR else (str(staff_id),)
    caseload = _caseload_patients(uow, owners, moment)

    can_read = _access.readable(ctx)

    def query(category: str, **filters: Any) -> Sequence[IndexHit]:
        if kind is WorklistScope.TEAM:
            if not caseload:
                return ()
            hits = uow.query(WorkQuery(category=category, patient_ids=caseload, **filters))
        else:
            hits = uow.query(WorkQuery(category=category, owner_ids=owners, **filters))
        can_read.prefetch(hit.row.patient_id for hit in hits)  # a few queries, not one each
        return hits

    try:
        as_of = moment.astimezone(zone)
    except OverflowError:  # near year 1 or 9999 the local time does not exist
        raise ValidationError(
            "now has no local time in the staff member's time zone (out of range)", field="now"
        ) from None
    items: list[WorklistItem] = []

    def add(category: WorklistCategory, hit: IndexHit, due: datetime | None) -> None:
        row = hit.row
        items.append(
            work_item(
                category,
                patient_id=row.patient_id or "",
                item_id=row.item_id,
                record_id=hit.record_id,
                status=row.status,
                now=as_of,
                due=due,
                priority=row.priority,
                owner_id=row.owner_id,
                detail=row.detail,
            )
        )

    for hit in query("intervention", due_before=horizon):
        if can_read(hit.row.patient_id or ""):
            add(WorklistCategory.INTERVENTION, hit, hit.row.due_at)
    for hit in query("review", due_before=horizon):
        if can_read(hit.row.patient_id or ""):
            add(WorklistCategory.REVIEW, hit, hit.row.due_at)
    for hit in query("referral"):
        row = hit.row
        category = referral_category(row.status, row.changed_at, moment, stall)
        if category is None or not can_read(row.patient_id or ""):
            continue
        changed = row.changed_at
        if category is WorklistCategory.REFERRAL_STALLED and changed is not None:
            add(category, hit, changed + stall)
        else:
            add(category, hit, changed)
    for hit in query("goal"):
        row = hit.row
        if goal_at_risk(row.detail, row.due_at, moment) and can_read(row.patient_id or ""):
            add(WorklistCategory.GOAL_AT_RISK, hit, row.due_at)
    barriers = [h for h in query("barrier") if can_read(h.row.patient_id or "")]
    done = _barrier_work_done(uow, barriers)
    for hit in barriers:
        finished = done.get(hit.row.item_id)
        if finished is None:
            add(WorklistCategory.BARRIER, hit, hit.row.changed_at)
        else:
            add(WorklistCategory.BARRIER_TO_CONFIRM, hit, finished)
    if kind is not WorklistScope.TEAM:  # grants to review are the reviewer's own work
        for hit in query("emergency-review"):
            add(WorklistCategory.EMERGENCY_REVIEW, hit, hit.row.due_at)
    items.extend(_no_contact(uow, caseload, moment, as_of, no_contact_after, can_read))
    return Worklist(staff_id=staff_id, as_of=as_of, items=tuple(items), scope=kind)


def _reports_of(uow: UnitOfWork, staff_id: StaffId) -> tuple[str, ...]:
    """``staff_id`` and everyone reporting to them, directly or not (from the staff index)."""
    found = [str(staff_id)]
    frontier = [str(staff_id)]
    while frontier:
        # inactive members are walked too: their reports and open work still count
        hits = uow.query(WorkQuery(category="staff", owner_ids=tuple(frontier), open_only=False))
        frontier = [h.row.item_id for h in hits if h.row.item_id not in found]
        found.extend(dict.fromkeys(frontier))
    return tuple(found)


def _barrier_work_done(uow: UnitOfWork, barriers: Sequence[IndexHit]) -> dict[str, datetime]:
    """Open barriers whose linked work is all done, and when (see ``barrier_work_done``).

    One query over the ``barrier-work`` rows of the barriers' patients.
    """
    patients = tuple(sorted({h.row.patient_id for h in barriers if h.row.patient_id}))
    if not patients:
        return {}
    wanted = {h.row.item_id for h in barriers}
    work: dict[str, list[tuple[str, datetime | None]]] = {}
    hits = uow.query(WorkQuery(category="barrier-work", patient_ids=patients, open_only=False))
    for hit in hits:
        if hit.row.item_id in wanted:
            work.setdefault(hit.row.item_id, []).append((hit.row.status, hit.row.changed_at))
    found = {barrier: barrier_work_done(items) for barrier, items in work.items()}
    return {barrier: at for barrier, at in found.items() if at is not None}


def _caseload_patients(
    uow: UnitOfWork, owners: tuple[str, ...], moment: datetime
) -> tuple[str, ...]:
    """Patients on whose open care teams one of ``owners`` holds a membership at ``moment``."""
    patients: set[str] = set()
    for hit in uow.query(WorkQuery(category="member", owner_ids=owners)):
        row = hit.row
        started = row.changed_at is None or instant(row.changed_at) <= instant(moment)
        ended = row.due_at is not None and instant(row.due_at) <= instant(moment)
        if started and not ended and row.patient_id is not None:
            patients.add(row.patient_id)
    return tuple(sorted(patients))


def _no_contact(
    uow: UnitOfWork,
    caseload: tuple[str, ...],
    moment: datetime,
    as_of: datetime,
    after: timedelta,
    can_read: _access.Readable,
) -> list[WorklistItem]:
    """Caseload patients without a completed patient or family contact for ``after``."""
    if not caseload:
        return []
    last: dict[str, datetime] = {}
    hits = uow.query(
        WorkQuery(
            category="contact", patient_ids=caseload, open_only=False, statuses=("completed",)
        )
    )
    for hit in hits:
        row = hit.row
        at = row.changed_at
        if row.detail not in _CONTACT_PARTIES or at is None or row.patient_id is None:
            continue
        if instant(at) > instant(moment):
            continue
        known = last.get(row.patient_id)
        if known is None or instant(at) > instant(known):
            last[row.patient_id] = at
    items = []
    can_read.prefetch(caseload)
    for patient_id in caseload:
        if not can_read(patient_id):
            continue
        seen = last.get(patient_id)
        enrolled = None
        if seen is None:
            patient = uow.find(Patient, patient_id)
            enrolled = None if patient is None else patient.enrolled_at
        due = contact_due(seen, enrolled, after)
        if due is not None and instant(due) > instant(moment):
            continue
        items.append(
            work_item(
                WorklistCategory.NO_CONTACT,
                patient_id=patient_id,
                item_id=patient_id,
                record_id=patient_id,
                status="never-contacted" if seen is None else "contacted",
                now=as_of,
                due=due,
            )
        )
    return items
