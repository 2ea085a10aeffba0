"""A lead's staffing views: the staffing worklist, the supervision view, protocol compliance.

Also recording a protocol checklist with the work it belongs to. Every view is
for the lead themselves, anyone above them on the reporting line, or
``view-caseloads`` (:func:`~carecoord.service._access.caseload_access`), and
runs on index rows: rotas, duty, time off, training, interventions, care-team
memberships and protocol completions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ..access import Permission
from ..model import (
    CarePlan,
    CarePlanId,
    InterventionId,
    StaffId,
    StaffMember,
    TaskStatus,
    ValidationError,
)
from ..model._base import ensure_aware, instant
from ..model.audit import AuditAction
from ..model.training import ProtocolCompletion, ProtocolCompletionId, ProtocolStepId
from ..model.workforce import Rota
from ..storage.port import WorkQuery
from ..workforce import (
    CompetencyStatus,
    ComplianceRate,
    ComplianceReport,
    StaffingCategory,
    StaffingItem,
    StaffingWorklist,
    SupervisedMember,
    compliance_rate,
    protocol_complete,
)
from . import _access, plans
from ._staffing import policy_of, reports_of
from .rotas import gaps_of
from .runner import Context, operation
from .training import onboarding_needs, standings

__all__ = [
    "complete_with_protocol",
    "protocol_compliance",
    "staffing_worklist",
    "supervision",
]

_STARTABLE = frozenset({TaskStatus.READY, TaskStatus.ACCEPTED, TaskStatus.ON_HOLD})
"""Statuses from which recording the work first starts it (``in-progress``)."""

_ATTENTION = {
    CompetencyStatus.EXPIRING: StaffingCategory.COMPETENCY_EXPIRING,
    CompetencyStatus.EXPIRED: StaffingCategory.COMPETENCY_EXPIRED,
    CompetencyStatus.AWAITING_SIGN_OFF: StaffingCategory.AWAITING_SIGN_OFF,
}


def _members(ctx: Context, staff_ids: Iterable[StaffId]) -> dict[StaffId, StaffMember]:
    found = {}
    for staff_id in staff_ids:
        member = ctx.uow.find(StaffMember, staff_id)
        if member is not None:
            found[staff_id] = member
    return found


@operation(AuditAction.READ)
def staffing_worklist(
    ctx: Context, staff_id: StaffId, until: datetime | None = None
) -> StaffingWorklist:
    """The staffing work of ``staff_id`` now: gaps until ``until`` (default two weeks) in the
    active rotas they own, then, for everyone reporting to them, competencies expiring,
    expired or awaiting sign-off, and onboarding competencies still missing."""
    _access.caseload_access(ctx, staff_id)
    uow = ctx.uow
    now = ctx.now
    horizon = ensure_aware(until, "until") if until is not None else now + timedelta(days=14)
    if instant(horizon) <= instant(now):
        raise ValidationError("until must be after now", field="until")
    owner = uow.find(StaffMember, staff_id)
    zone = ZoneInfo(owner.time_zone if owner is not None else ctx.actor.time_zone)
    gaps = []
    for hit in uow.query(WorkQuery(category="rota", owner_ids=(str(staff_id),))):
        gaps += gaps_of(uow, uow.get(Rota, hit.record_id), now, horizon, zone)
    gaps.sort(key=lambda g: (instant(g.start), g.rota_id))
    items = [
        StaffingItem(
            category=StaffingCategory.ROTA_GAP,
            start=gap.start,
            end=gap.end,
            rota_id=gap.rota_id,
            staffed=gap.staffed,
            needed=gap.needed,
        )
        for gap in gaps
    ]
    policy = policy_of(uow)
    members = _members(ctx, reports_of(uow, staff_id))
    needs = {s: onboarding_needs(m.roles, policy) for s, m in members.items()}
    found = standings(uow, list(members), policy, now, roles=needs)
    for report, held in found.items():
        for standing in held:
            category = _ATTENTION.get(standing.status)
            if category is None and standing.status is CompetencyStatus.MISSING:
                category = StaffingCategory.ONBOARDING
            if category is None:
                continue
            items.append(
                StaffingItem(
                    category=category,
                    end=standing.expires_at,
                    staff_id=report,
                    competency_id=standing.competency_id,
                )
            )
    return StaffingWorklist(staff_id=staff_id, as_of=now, until=horizon, items=tuple(items))


@operation(AuditAction.READ)
def supervision(ctx: Context, lead_id: StaffId) -> list[SupervisedMember]:
    """Everyone reporting to ``lead_id`` (directly or not), ordered by staff id: caseload
    size, open and overdue interventions, competencies and onboarding, as of now."""
    _access.caseload_access(ctx, lead_id)
    uow, now = ctx.uow, ctx.now
    reports = sorted(reports_of(uow, lead_id))
    if not reports:
        return []
    owners = tuple(map(str, reports))
    patients: dict[str, set[str]] = {r: set() for r in owners}
    for hit in uow.query(WorkQuery(category="member", owner_ids=owners)):
        row = hit.row
        started = row.changed_at is None or instant(row.changed_at) <= instant(now)
        ended = row.due_at is not None and instant(row.due_at) <= instant(now)
        if started and not ended and row.patient_id and row.owner_id in patients:
            patients[row.owner_id].add(row.patient_id)
    open_count = dict.fromkeys(owners, 0)
    overdue = dict.fromkeys(owners, 0)
    for hit in uow.query(WorkQuery(category="intervention", owner_ids=owners)):
        owner = hit.row.owner_id or ""
        if owner in open_count:
            open_count[owner] += 1
            due = hit.row.due_at
            overdue[owner] += due is not None and instant(due) < instant(now)
    members = _members(ctx, reports)
    policy = policy_of(uow)
    needs = {s: onboarding_needs(m.roles, policy) for s, m in members.items()}
    held = standings(uow, reports, policy, now, roles=needs)
    result = []
    for report in reports:
        mine = held.get(report, ())
        current = {s.competency_id for s in mine if s.is_current}
        result.append(
            SupervisedMember(
                staff_id=report,
                caseload=len(patients[str(report)]),
                open_items=open_count[str(report)],
                overdue_items=overdue[str(report)],
                competencies=mine,
                onboarding_missing=tuple(c for c in needs.get(report, ()) if c not in current),
            )
        )
    return result


def _completion_id(plan_id: CarePlanId, intervention_id: InterventionId) -> ProtocolCompletionId:
    digest = hashlib.sha256(f"{plan_id}/{intervention_id}".encode()).hexdigest()[:40]
    return ProtocolCompletionId(f"pc-{digest}")


@operation(AuditAction.UPDATE)
def complete_with_protocol(
    ctx: Context,
    plan_id: CarePlanId,
    intervention_id: InterventionId,
    steps_done: Iterable[ProtocolStepId],
) -> ProtocolCompletion:
    """Complete an intervention and record its protocol checklist, in one unit of work.

    The intervention moves to ``completed`` (through ``in-progress`` when it
    was not started) as :func:`~carecoord.service.plans.set_intervention_status`
    moves it (same access: ``update-intervention`` on the patient); its kind must
    have a protocol in the staffing policy. The checklist counts as complete
    when every required step was done; it is credited to the assignee (the
    actor when nobody is assigned).
    """
    done = tuple(dict.fromkeys(steps_done))
    before = ctx.load(CarePlan, plan_id, Permission.UPDATE_INTERVENTION).intervention(
        intervention_id
    )
    protocol = policy_of(ctx.uow).protocol_for(before.kind)
    if protocol is None:
        raise ValidationError(f"no protocol is attached to {before.kind.value} work", field="kind")
    if before.status in _STARTABLE:
        plans.set_intervention_status(ctx, plan_id, intervention_id, TaskStatus.IN_PROGRESS)
    plan = plans.set_intervention_status(ctx, plan_id, intervention_id, TaskStatus.COMPLETED)
    item = plan.intervention(intervention_id)
    record = ProtocolCompletion(
        id=_completion_id(plan.id, item.id),
        patient_id=plan.patient_id,
        plan_id=plan.id,
        intervention_id=item.id,
        protocol_id=protocol.id,
        kind=item.kind,
        staff_id=item.assignee_id or ctx.actor_id,
        at=ctx.now,
        steps_done=done,
        complete=protocol_complete(protocol, done),
    )
    ctx.uow.add(record)
    return record


@operation(AuditAction.READ)
def protocol_compliance(
    ctx: Context, lead_id: StaffId, start: datetime, end: datetime
) -> ComplianceReport:
    """Protocol compliance of ``lead_id`` and everyone reporting to them over ``[start, end)``.

    Per member: the denominator counts the interventions of a kind with a
    protocol that are assigned to them and were completed in the period; the
    numerator those of them whose checklist was recorded complete with the
    work. The team's rate adds the members' counts up.
    """
    _access.caseload_access(ctx, lead_id)
    lo, hi = ensure_aware(start, "start"), ensure_aware(end, "end")
    if instant(hi) <= instant(lo):
        raise ValidationError("end must be after start", field="end")
    uow = ctx.uow
    team = [lead_id, *sorted(reports_of(uow, lead_id))]
    owners = tuple(map(str, team))
    kinds = {p.kind.value for p in policy_of(uow).protocols}
    completed: dict[str, list[tuple[str, datetime]]] = {o: [] for o in owners}
    complete: set[str] = set()
    # One owner per query, each a range of the period (completed work and its
    # checklists carry their instant as a due time): the cost follows the
    # period's work, not the team's history.
    for owner in owners:
        done = WorkQuery(
            category="completed", owner_ids=(owner,), open_only=False, due_from=lo, due_before=hi
        )
        for hit in uow.query(done):
            row = hit.row
            if row.detail in kinds and row.due_at is not None:
                completed[owner].append((f"{hit.record_id}/{row.item_id}", row.due_at))
        checklists = WorkQuery(
            category="protocol",
            owner_ids=(owner,),
            statuses=("complete",),
            open_only=False,
            due_from=lo,
            due_before=hi,
        )
        for hit in uow.query(checklists):
            complete.add(f"{hit.row.detail or ''}/{hit.row.item_id}")
    members = tuple(compliance_rate(s, completed[str(s)], complete, lo, hi) for s in team)
    total = ComplianceRate(
        staff_id=None,
        numerator=sum(m.numerator for m in members),
        denominator=sum(m.denominator for m in members),
        start=lo,
        end=hi,
    )
    return ComplianceReport(lead_id=lead_id, start=lo, end=hi, members=members, team=total)
