"""The individual quality metric calculations behind :mod:`carecoord.metrics`.

One function per metric (each re-exported by :mod:`carecoord.metrics`), built
on the shared counting rules of :mod:`carecoord._metric_counting`. Pure: imports
only the model. :mod:`carecoord.metrics` imports this module at load time, so
:class:`~carecoord.metrics.Metric` and :class:`~carecoord.metrics.MetricKind`
are imported here only when a metric is built.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ._metric_counting import (
    _DAY,
    _TICK,
    _cutoff,
    _day_start,
    _days,
    _end,
    _in,
    _initial,
    _live_plans,
    _reached_at,
    _status_at,
)
from .model import (
    CarePlan,
    CarePlanStatus,
    CareTeam,
    CareTeamRole,
    CareTeamStatus,
    CommunicationStatus,
    Encounter,
    GoalAchievementStatus,
    GoalLifecycleStatus,
    InteractionParty,
    Note,
    Patient,
    PatientId,
    Period,
    Referral,
    ReferralStatus,
    Review,
    SurveyResponse,
    TaskStatus,
    derive_achievement,
)
from .model._base import instant

if TYPE_CHECKING:
    from .metrics import Metric

__all__ = [
    "caseload_sizes",
    "days_to_active_plan",
    "days_to_first_contact",
    "goal_attainment_rate",
    "interventions_on_time",
    "patient_satisfaction",
    "readmission_rate",
    "referral_days_to_close",
    "referral_loop_closure_rate",
    "review_timeliness",
]

_MET = frozenset({GoalAchievementStatus.ACHIEVED, GoalAchievementStatus.SUSTAINING})
_NOT_PURSUED = frozenset(
    {
        GoalLifecycleStatus.PROPOSED,
        GoalLifecycleStatus.CANCELLED,
        GoalLifecycleStatus.REJECTED,
        GoalLifecycleStatus.ENTERED_IN_ERROR,
    }
)
_WITHDRAWN_TASK = frozenset(
    {TaskStatus.CANCELLED, TaskStatus.REJECTED, TaskStatus.ENTERED_IN_ERROR}
)
_CONTACT_PARTIES = frozenset({InteractionParty.PATIENT, InteractionParty.FAMILY})
_OPEN_TEAM = frozenset({CareTeamStatus.PROPOSED, CareTeamStatus.ACTIVE})


# ------------------------------------------------------------------- helpers


def _rate(
    name: str, numerator: int, denominator: int, period: Period, unit: str, definition: str
) -> Metric:
    from .metrics import Metric, MetricKind  # metrics imports this module

    return Metric(
        name=name,
        kind=MetricKind.RATE,
        period=period,
        numerator=numerator,
        denominator=denominator,
        value=numerator / denominator if denominator else None,
        unit=unit,
        definition=definition,
    )


def _median(name: str, values: Sequence[float], period: Period, definition: str) -> Metric:
    from .metrics import Metric, MetricKind  # metrics imports this module

    return Metric(
        name=name,
        kind=MetricKind.MEDIAN,
        period=period,
        numerator=None,
        denominator=len(values),
        value=float(statistics.median(values)) if values else None,
        unit="days",
        definition=definition,
    )


# ------------------------------------------------------------------- metrics


def goal_attainment_rate(plans: Iterable[CarePlan], period: Period) -> Metric:
    """Goals met by their due date, of the goals due in the period.

    Denominator: goals whose due date (:attr:`~carecoord.Goal.due`) falls in
    the period and that were being pursued at the end of that day (not
    proposed, cancelled, rejected or entered in error, by their history).
    Numerator: those whose targets were met (achieved or sustaining) by the
    readings taken before the end of the due date.
    """
    _end(period)
    zone = period.start.tzinfo
    numerator = denominator = 0
    for plan in _live_plans(plans):
        for goal in plan.goals:
            due = goal.due
            if due is None or goal.lifecycle_status is GoalLifecycleStatus.ENTERED_IN_ERROR:
                continue
            if not _in(_day_start(due, zone), period):
                continue
            deadline = _day_start(due + _DAY, zone)
            if _status_at(goal.lifecycle_status, goal.history, deadline - _TICK) in _NOT_PURSUED:
                continue
            denominator += 1
            readings = [r for r in goal.readings if instant(r.at) < instant(deadline)]
            if derive_achievement(goal.targets, readings, due) in _MET:
                numerator += 1
    return _rate(
        "goal_attainment_rate",
        numerator,
        denominator,
        period,
        "goals met / goals due",
        "goals whose targets were met by their due date / goals due in the period "
        "(being pursued at the due date)",
    )


def review_timeliness(
    reviews: Iterable[Review],
    period: Period,
    *,
    plans: Iterable[CarePlan] = (),
    as_of: datetime | None = None,
) -> Metric:
    """Reviews done on time, of the reviews that fell due in the period.

    Denominator: recorded reviews whose ``due_at`` is in the period, plus
    active or on-hold plans whose ``next_review_at`` is in the period and
    before ``as_of`` (due and not yet reviewed). Numerator: recorded reviews
    due in the period and done by their due time.
    """
    cutoff = _cutoff(period, as_of)
    numerator = denominator = 0
    for review in reviews:
        if not _in(review.due_at, period):
            continue
        denominator += 1
        if review.on_time:
            numerator += 1
    for plan in plans:
        due = plan.next_review_at
        if plan.status not in (CarePlanStatus.ACTIVE, CarePlanStatus.ON_HOLD):
            continue
        if _in(due, period) and due is not None and instant(due) < cutoff:
            denominator += 1
    return _rate(
        "review_timeliness",
        numerator,
        denominator,
        period,
        "reviews on time / reviews due",
        "reviews done by their due time / reviews due in the period "
        "(recorded ones plus those still outstanding)",
    )


def _sent_at(referral: Referral) -> datetime | None:
    if _initial(referral.status, referral.history) is not ReferralStatus.DRAFT:
        return referral.created_at
    times = [s.at for s in referral.history if s.to_status is ReferralStatus.SENT]
    return min(times, key=instant) if times else None


def _closed_at(referral: Referral) -> datetime | None:
    times = [s.at for s in referral.history if s.to_status is ReferralStatus.RESULT_RECEIVED]
    return min(times, key=instant) if times else None


def _live_referrals(referrals: Iterable[Referral]) -> list[Referral]:
    return [r for r in referrals if r.status is not ReferralStatus.ENTERED_IN_ERROR]


def referral_loop_closure_rate(referrals: Iterable[Referral], period: Period) -> Metric:
    """Referrals sent in the period whose result came back before the period ended.

    Denominator: referrals first sent in the period. Numerator: those whose
    result was received (the loop closed) before ``period.end``.
    """
    end = instant(_end(period))
    numerator = denominator = 0
    for referral in _live_referrals(referrals):
        if not _in(_sent_at(referral), period):
            continue
        denominator += 1
        closed = _closed_at(referral)
        if closed is not None and instant(closed) < end:
            numerator += 1
    return _rate(
        "referral_loop_closure_rate",
        numerator,
        denominator,
        period,
        "loops closed / referrals sent",
        "referrals sent in the period with their result received before the period "
        "ended / referrals sent in the period",
    )


def referral_days_to_close(referrals: Iterable[Referral], period: Period) -> Metric:
    """Median days from sending a referral to its result, over loops closed in the period."""
    days = []
    for referral in _live_referrals(referrals):
        closed = _closed_at(referral)
        sent = _sent_at(referral)
        if sent is not None and _in(closed, period):
            assert closed is not None
            days.append(_days(sent, closed))
    return _median(
        "referral_days_to_close",
        days,
        period,
        "median days from sent to result received, over referrals whose result "
        "came back in the period (denominator: how many)",
    )


def days_to_first_contact(
    patients: Iterable[Patient], notes: Iterable[Note], period: Period
) -> Metric:
    """Median days from enrolment to the first completed contact with the patient or family.

    Over patients whose first contact at or after enrolment happened in the
    period.
    """
    firsts: dict[PatientId, list[datetime]] = defaultdict(list)
    for note in notes:
        if note.status is CommunicationStatus.COMPLETED and note.party in _CONTACT_PARTIES:
            firsts[note.patient_id].append(note.at)
    days = []
    for patient in patients:
        enrolled = patient.enrolled_at
        if enrolled is None:
            continue
        after = [t for t in firsts.get(patient.id, ()) if instant(t) >= instant(enrolled)]
        if not after:
            continue
        first = min(after, key=instant)
        if _in(first, period):
            days.append(_days(enrolled, first))
    return _median(
        "days_to_first_contact",
        days,
        period,
        "median days from enrolment to the first completed patient or family "
        "contact, over patients first contacted in the period",
    )


def _activated_at(plan: CarePlan) -> datetime | None:
    return _reached_at(plan.status, plan.history, CarePlanStatus.ACTIVE, plan.created_at)


def days_to_active_plan(
    patients: Iterable[Patient], plans: Iterable[CarePlan], period: Period
) -> Metric:
    """Median days from enrolment to the patient's first active care plan.

    Over patients whose first plan activation happened in the period.
    """
    first: dict[PatientId, datetime] = {}
    for plan in _live_plans(plans):
        at = _activated_at(plan)
        if at is None:
            continue
        known = first.get(plan.patient_id)
        if known is None or instant(at) < instant(known):
            first[plan.patient_id] = at
    days = []
    for patient in patients:
        enrolled = patient.enrolled_at
        at = first.get(patient.id)
        if enrolled is None or at is None or not _in(at, period):
            continue
        days.append(max(0.0, _days(enrolled, at)))
    return _median(
        "days_to_active_plan",
        days,
        period,
        "median days from enrolment to the first active care plan, over patients "
        "whose first plan became active in the period",
    )


def interventions_on_time(
    plans: Iterable[CarePlan], period: Period, *, as_of: datetime | None = None
) -> Metric:
    """Interventions completed by their due time, of those due in the period.

    Denominator: interventions whose due time is in the period and before
    ``as_of``, not cancelled, rejected or entered in error by then.
    Numerator: those completed at or before their due time.
    """
    cutoff = _cutoff(period, as_of)
    numerator = denominator = 0
    for plan in _live_plans(plans):
        for item in plan.interventions:
            due = item.due_at
            if due is None or item.status is TaskStatus.ENTERED_IN_ERROR:
                continue
            if not _in(due, period) or instant(due) >= cutoff:
                continue
            if _status_at(item.status, item.history, due) in _WITHDRAWN_TASK:
                continue
            denominator += 1
            done = _reached_at(item.status, item.history, TaskStatus.COMPLETED, item.created_at)
            if done is not None and instant(done) <= instant(due):
                numerator += 1
    return _rate(
        "interventions_on_time",
        numerator,
        denominator,
        period,
        "completed on time / due",
        "interventions completed by their due time / interventions due in the period "
        "(not withdrawn by then)",
    )


def caseload_sizes(
    teams: Iterable[CareTeam],
    period: Period,
    *,
    as_of: datetime | None = None,
    roles: Iterable[CareTeamRole] = (CareTeamRole.CARE_COORDINATOR,),
) -> tuple[Metric, ...]:
    """Patients per coordinator at the end of the period (or at ``as_of``).

    A patient is on a staff member's caseload when the staff member holds a
    membership in one of ``roles`` covering that moment on a care team of the
    patient that was proposed or active then. Returns the mean over
    coordinators (subject ``None``) followed by one count per coordinator.
    """
    from .metrics import Metric, MetricKind  # metrics imports this module

    moment = _cutoff(period, as_of) - _TICK
    wanted = frozenset(roles)
    caseloads: dict[str, set[str]] = defaultdict(set)
    for team in teams:
        if _status_at(team.status, team.history, moment) not in _OPEN_TEAM:
            continue
        for member in team.members:
            if member.role in wanted and member.active_at(moment):
                caseloads[str(member.staff_id)].add(str(team.patient_id))
    total = sum(len(p) for p in caseloads.values())
    overall = Metric(
        name="caseload_size",
        kind=MetricKind.MEAN,
        period=period,
        numerator=total,
        denominator=len(caseloads),
        value=total / len(caseloads) if caseloads else None,
        unit="patients per coordinator",
        definition="patients on coordinators' caseloads at the end of the period / "
        "coordinators with a caseload",
    )
    each = tuple(
        Metric(
            name="caseload_size",
            kind=MetricKind.COUNT,
            period=period,
            numerator=len(caseloads[staff]),
            denominator=None,
            value=float(len(caseloads[staff])),
            unit="patients",
            definition="patients on this coordinator's caseload at the end of the period",
            subject=staff,
        )
        for staff in sorted(caseloads)
    )
    return (overall, *each)


def readmission_rate(
    encounters: Iterable[Encounter], period: Period, *, window: timedelta = timedelta(days=30)
) -> Metric:
    """Inpatient discharges in the period followed by an unplanned readmission within ``window``.

    Denominator: inpatient encounters discharged in the period. Numerator:
    those after which the same patient had another, unplanned inpatient
    admission within ``window`` (30 days) of the discharge.
    """
    _end(period)
    stays: dict[PatientId, list[Encounter]] = defaultdict(list)
    for encounter in encounters:
        if encounter.is_inpatient:
            stays[encounter.patient_id].append(encounter)
    numerator = denominator = 0
    for patient_stays in stays.values():
        for stay in patient_stays:
            out = stay.discharged_at
            if out is None or not _in(out, period):
                continue
            denominator += 1
            if any(
                other.id != stay.id
                and not other.planned
                and instant(out) <= instant(other.admitted_at) <= instant(out) + window
                for other in patient_stays
            ):
                numerator += 1
    days = window / _DAY
    return _rate(
        "readmission_rate",
        numerator,
        denominator,
        period,
        "readmissions / discharges",
        f"inpatient discharges in the period followed by an unplanned inpatient "
        f"admission within {days:g} days / inpatient discharges in the period",
    )


def patient_satisfaction(
    responses: Iterable[SurveyResponse], period: Period, *, instrument: str | None = None
) -> Metric:
    """Mean survey score in the period, as a fraction of each response's scale (0 to 1)."""
    from .metrics import Metric, MetricKind  # metrics imports this module

    scores = [
        r.normalised
        for r in responses
        if _in(r.at, period) and (instrument is None or r.instrument == instrument)
    ]
    return Metric(
        name="patient_satisfaction",
        kind=MetricKind.MEAN,
        period=period,
        numerator=sum(scores) if scores else 0,
        denominator=len(scores),
        value=sum(scores) / len(scores) if scores else None,
        unit="fraction of scale (0-1)",
        definition="sum of survey scores scaled to 0-1 / survey responses in the period"
        + ("" if instrument is None else f" (instrument {instrument})"),
    )
