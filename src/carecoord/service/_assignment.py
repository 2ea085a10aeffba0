"""Assignment that respects schedules and competencies.

* :func:`check_assignment` runs whenever an intervention is assigned
  (``assign_intervention``, ``add_intervention`` with an assignee): the
  assignee must be current in every competency the staffing policy requires
  for the work's kind, at assignment and at the due time
  (:class:`~carecoord.model.workforce.CompetencyMissingError`); and when the
  work is due while the assignee is off duty, the policy's
  :class:`~carecoord.model.training.OffDutyRule` refuses
  (:class:`~carecoord.model.workforce.OffDutyError`), warns
  (:class:`~carecoord.events.AssignedOffDuty`) or allows it.
* :func:`suggest_assignees`: the qualified members on duty, least loaded first.
* :func:`reassign_for_cover`: the cover rule, one intervention at a time.

Everything is read from index rows; without a stored staffing policy nothing
is checked.
"""

from __future__ import annotations

from datetime import datetime

from .. import events as ev
from ..model import (
    CarePlan,
    CarePlanId,
    CarePlanStatus,
    CareTeamRole,
    Intervention,
    InterventionId,
    InterventionKind,
    NotFoundError,
    StaffId,
)
from ..model._base import ensure_aware, instant
from ..model._errors import CompetencyMissingError, OffDutyError
from ..model.audit import AuditAction, PurposeOfUse
from ..model.training import OffDutyRule, StaffingPolicy
from ..model.workforce import LocationId, TimeOff, TimeOffId
from ..storage.port import WorkQuery
from ..storage.uow import UnitOfWork
from ..workforce import (
    DutySpan,
    Suggestion,
    is_on_duty,
    least_loaded,
    missing_competencies,
    on_duty,
)
from ._staffing import (
    TICK,
    absences_of,
    credentials_of,
    duty_spans,
    manage_member,
    open_items,
    policy_of,
    spans_of_staff,
)
from ._util import assigned, code
from .runner import Context, operation

__all__ = [
    "assignment_problem",
    "check_assignment",
    "cover_list",
    "reassign_for_cover",
    "suggest_assignees",
]


def assignment_problem(
    uow: UnitOfWork,
    policy: StaffingPolicy,
    kind: InterventionKind,
    assignee: StaffId,
    due: datetime | None,
    now: datetime,
    *,
    duty: bool = True,
) -> tuple[str, str | None]:
    """What stands against assigning work of ``kind`` due at ``due`` to ``assignee``.

    ``("competency", id)`` for a competency not current now or at ``due``;
    with ``duty``, ``("off-duty", None)`` when due while off duty (whatever
    the rule); ``("", None)`` otherwise.
    """
    required = policy.required_for(kind)
    if required:
        credentials = credentials_of(uow, [assignee], required)
        moments = [now] if due is None or instant(due) <= instant(now) else [now, due]
        for moment in moments:
            missing = missing_competencies(assignee, required, credentials, moment)
            if missing:
                return "competency", str(missing[0])
    if duty and due is not None:
        spans = spans_of_staff(uow, [assignee], due, due + TICK)
        away = absences_of(uow, [assignee], due, due + TICK) if spans else []
        if not is_on_duty(assignee, spans, away, due):
            return "off-duty", None
    return "", None


def check_assignment(ctx: Context, plan: CarePlan, item: Intervention) -> None:
    """The staffing checks of assigning ``item`` of ``plan`` (see the module documentation)."""
    assignee = item.assignee_id
    if assignee is None:
        return
    policy = policy_of(ctx.uow)
    if not policy.required_for(item.kind) and policy.off_duty is OffDutyRule.ALLOW:
        return
    duty = policy.off_duty is not OffDutyRule.ALLOW
    problem, competency = assignment_problem(
        ctx.uow, policy, item.kind, assignee, item.due_at, ctx.now, duty=duty
    )
    if problem == "competency":
        assert competency is not None
        raise CompetencyMissingError(
            f"assignee {assignee} is not current in {competency}, "
            f"which {item.kind.value} work needs",
            competency_id=competency,
        )
    if problem == "off-duty":
        assert item.due_at is not None
        if policy.off_duty is OffDutyRule.REFUSE:
            raise OffDutyError(
                f"assignee {assignee} is off duty when intervention {item.id} is due",
                field="assignee_id",
            )
        ctx.emit(
            ev.AssignedOffDuty(
                **ctx.common(plan.patient_id),
                plan_id=str(plan.id),
                intervention_id=str(item.id),
                assignee_id=str(assignee),
                due_at=item.due_at,
            )
        )


@operation(AuditAction.READ)
def suggest_assignees(
    ctx: Context,
    kind: InterventionKind | str,
    at: datetime | None = None,
    role: CareTeamRole | str | None = None,
    location_id: LocationId | None = None,
    limit: int = 5,
) -> list[Suggestion]:
    """Members on duty at ``at`` (default now) and current in what work of ``kind`` needs,
    the least loaded (fewest open interventions) first; of ``role`` and ``location_id``
    when given. Shared with every active staff member (counts only, no patient data)."""
    work = code(InterventionKind, kind, "kind")
    wanted = None if role is None else code(CareTeamRole, role, "role")
    moment = ensure_aware(at, "at") if at is not None else ctx.now
    ctx.grant(PurposeOfUse.HOPERAT, entity="Shift")
    uow = ctx.uow
    spans = duty_spans(uow, moment, moment + TICK, location_id=location_id, role=wanted)
    away = absences_of(uow, {s.staff_id for s in spans}, moment, moment + TICK)
    first: dict[StaffId, DutySpan] = {}
    for span in on_duty(spans, away, moment):
        first.setdefault(span.staff_id, span)
    required = policy_of(uow).required_for(work)
    credentials = credentials_of(uow, list(first), required) if required else []
    qualified = [s for s in first if not missing_competencies(s, required, credentials, moment)]
    loads: dict[StaffId, int] = {}
    if qualified:
        query = WorkQuery(category="intervention", owner_ids=tuple(map(str, qualified)))
        for hit in uow.query(query):
            owner = StaffId(hit.row.owner_id or "")
            loads[owner] = loads.get(owner, 0) + 1
    found = []
    for staff_id, load in least_loaded(qualified, loads)[: max(limit, 0)]:
        span = first[staff_id]
        found.append(
            Suggestion(
                staff_id=staff_id,
                open_items=load,
                shift_id=span.shift_id,
                role=span.role,
                location_id=span.location_id,
                kind=span.kind,
                until=span.end,
            )
        )
    return found


# ------------------------------------------------------------------- cover


def _cover_of(ctx: Context, time_off_id: TimeOffId) -> TimeOff:
    time_off = ctx.uow.find(TimeOff, time_off_id)
    if time_off is None:
        raise NotFoundError(f"time off {time_off_id} not found")
    manage_member(ctx, time_off.staff_id)
    ctx.entity = f"TimeOff/{time_off.id}"
    return time_off


@operation(AuditAction.READ)
def cover_list(ctx: Context, time_off_id: TimeOffId) -> list[tuple[CarePlanId, InterventionId]]:
    """The interventions the cover rule would hand to the covering member (all of the absent
    member's open work due in the time off), empty when the rule is off or nobody covers."""
    time_off = _cover_of(ctx, time_off_id)
    if time_off.cancelled or time_off.covered_by is None:
        return []
    if not policy_of(ctx.uow).reassign_to_cover:
        return []
    items = open_items(ctx.uow, time_off.staff_id, time_off.start, time_off.end)
    return [(i.plan_id, i.intervention_id) for i in items]


@operation(AuditAction.UPDATE)
def reassign_for_cover(
    ctx: Context, time_off_id: TimeOffId, plan_id: CarePlanId, intervention_id: InterventionId
) -> str:
    """The cover rule for one intervention: reassign it to the time off's covering member.

    Allowed for whoever may record the time off (the absent member's leads
    and supervisors), as a staffing action on the policy's authority
    (``reassign_to_cover``); audited against the patient, purpose HOPERAT.
    Returns ``reassigned``, or why not: ``closed`` (no longer open, assigned
    to someone else or not due in the time off), ``competency`` (the cover
    is not qualified) or ``off-duty`` (the cover is off duty then and the
    policy refuses that); ``no-cover`` when the rule does not apply.
    """
    time_off = _cover_of(ctx, time_off_id)
    cover = time_off.covered_by
    policy = policy_of(ctx.uow)
    if time_off.cancelled or cover is None or not policy.reassign_to_cover:
        return "no-cover"
    plan = ctx.uow.find(CarePlan, plan_id)
    if plan is None:
        return "closed"
    ctx.patient_id = str(plan.patient_id)
    ctx.entity = f"CarePlan/{plan.id}"
    ctx.purpose = PurposeOfUse.HOPERAT
    try:
        item = plan.intervention(intervention_id)
    except NotFoundError:
        return "closed"
    due = item.due_at
    if (
        not item.is_open
        or item.assignee_id != time_off.staff_id
        or due is None
        or not instant(time_off.start) <= instant(due) < instant(time_off.end)
    ):
        return "closed"
    problem, _ = assignment_problem(ctx.uow, policy, item.kind, cover, due, ctx.now)
    if problem == "competency" or (problem == "off-duty" and policy.off_duty is OffDutyRule.REFUSE):
        return problem
    moved = item.assign(cover)
    ctx.uow.save(plan.with_intervention(moved))
    if plan.status is CarePlanStatus.ACTIVE:
        ctx.emit(assigned(ctx.common(plan.patient_id), plan, moved))
    return "reassigned"
