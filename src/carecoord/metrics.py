"""Quality metrics: pure functions from recorded entities to :class:`Metric` values.

Pure: imports only the model (and the display helpers, which import only the
model). Every function takes the entities and a reporting :class:`~carecoord.Period`
``[start, end)`` (``end`` is required) and returns a :class:`Metric` with an
explicit numerator, denominator, value, unit and one-line definition.

Metrics are computed from what the records say happened and when: status
changes come from the ``history`` of :class:`~carecoord.Transition` s, not
from current statuses, so a metric for a past period comes out the same when
computed again later. Two things can still move a past figure: records
entered late with earlier timestamps, and the readmission rate, whose
numerator looks 30 days past the period (it is final 30 days after ``end``).
Records marked ``entered-in-error`` are left out everywhere.

Counting rules shared by all metrics:

* an instant ``t`` is in the period when ``start <= t < end``;
* a calendar date (a goal's due date) is in the period when the local day
  starts in it, in the zone of ``period.start``;
* ``as_of`` (default ``end``) is "now" for a period still running: work not
  yet due at ``as_of`` is not counted as late.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import attrs

from .display import html_table, records_to_dataframe
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
    NotFoundError,
    Patient,
    PatientId,
    Period,
    Referral,
    ReferralStatus,
    Review,
    StaffId,
    SurveyResponse,
    TaskStatus,
    Transition,
    ValidationError,
    derive_achievement,
    localize,
)
from .model._base import ensure_aware, instant, of_type, optional, text

__all__ = [
    "Metric",
    "MetricKind",
    "MetricReport",
    "caseload_sizes",
    "compute_metrics",
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

S = TypeVar("S")

_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)
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


class MetricKind(StrEnum):
    """How a metric's value relates to its numerator and denominator."""

    RATE = "rate"
    """value = numerator / denominator (``None`` when the denominator is 0)."""
    MEDIAN = "median"
    """value = the median of ``denominator`` measurements; no numerator."""
    MEAN = "mean"
    """value = numerator (a sum) / denominator (a count)."""
    COUNT = "count"
    """value = numerator; no denominator."""


def _number(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    of_type(int, float)(inst, attr, value)


def _metric_kind(value: Any) -> MetricKind:
    try:
        return MetricKind(value)
    except ValueError:
        raise ValidationError("Metric.kind must be a MetricKind", field="kind") from None


@attrs.frozen
class Metric:
    """One quality measure over a reporting period.

    ``subject`` is ``None`` for an overall figure, or the id it is broken
    down by (a coordinator for ``caseload_size``).
    """

    COLUMNS = (
        "name",
        "subject",
        "kind",
        "numerator",
        "denominator",
        "value",
        "unit",
        "period_start",
        "period_end",
        "definition",
    )
    """The keys of :meth:`to_record`, in order."""

    name: str = attrs.field(validator=text(max_len=100))
    kind: MetricKind = attrs.field(converter=_metric_kind)
    period: Period = attrs.field(validator=of_type(Period))
    numerator: int | float | None = attrs.field(validator=optional(_number))
    denominator: int | None = attrs.field(validator=optional(of_type(int)))
    value: float | None = attrs.field(validator=optional(_number))
    unit: str = attrs.field(validator=text(max_len=100))
    definition: str = attrs.field(validator=text(max_len=1000))
    subject: str | None = attrs.field(default=None, validator=optional(text(max_len=64)))

    def to_record(self) -> dict[str, object]:
        """The metric as a plain dict (keys of :attr:`COLUMNS`)."""
        return {
            "name": self.name,
            "subject": self.subject,
            "kind": self.kind.value,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "value": self.value,
            "unit": self.unit,
            "period_start": self.period.start,
            "period_end": self.period.end,
            "definition": self.definition,
        }

    def to_records(self) -> list[dict[str, object]]:
        """``[self.to_record()]``, for symmetry with :class:`MetricReport`."""
        return [self.to_record()]

    def to_dataframe(self) -> Any:
        """A one-row ``pandas.DataFrame`` (needs the ``dataframe`` extra)."""
        return records_to_dataframe(self.to_records(), self.COLUMNS)

    def _repr_html_(self) -> str:
        return html_table(self.to_records(), self.COLUMNS, caption=f"Metric {self.name}")


@attrs.frozen
class MetricReport:
    """Every metric of one period (optionally for one coordinator's patients)."""

    period: Period = attrs.field(validator=of_type(Period))
    metrics: tuple[Metric, ...] = attrs.field(default=())
    coordinator: StaffId | None = attrs.field(default=None, validator=optional(of_type(StaffId)))

    def __iter__(self) -> Iterator[Metric]:
        return iter(self.metrics)

    def __len__(self) -> int:
        return len(self.metrics)

    def get(self, name: str, subject: str | None = None) -> Metric:
        """The metric called ``name`` (for ``subject``), or :class:`~carecoord.NotFoundError`."""
        for metric in self.metrics:
            if metric.name == name and metric.subject == subject:
                return metric
        raise NotFoundError(f"metric {name} not in the report")

    def to_records(self) -> list[dict[str, object]]:
        """One plain dict per metric (keys of :attr:`Metric.COLUMNS`)."""
        return [m.to_record() for m in self.metrics]

    def to_dataframe(self) -> Any:
        """The metrics as a ``pandas.DataFrame`` (needs the ``dataframe`` extra)."""
        return records_to_dataframe(self.to_records(), Metric.COLUMNS)

    def _repr_html_(self) -> str:
        end = self.period.end.isoformat() if self.period.end is not None else ""
        scope = f" for {self.coordinator}" if self.coordinator is not None else ""
        caption = f"Metrics {self.period.start.isoformat()} to {end}{scope}"
        return html_table(self.to_records(), Metric.COLUMNS, caption=caption)


# ------------------------------------------------------------------- helpers


def _end(period: Period) -> datetime:
    if not isinstance(period, Period):
        raise ValidationError("period must be a Period", field="period")
    if period.end is None:
        raise ValidationError("a reporting period needs an end", field="period.end")
    return period.end


def _cutoff(period: Period, as_of: datetime | None) -> datetime:
    end = _end(period)
    if as_of is None:
        return instant(end)
    return min(instant(end), instant(ensure_aware(as_of, "as_of")))


def _in(moment: datetime | None, period: Period) -> bool:
    if moment is None:
        return False
    return instant(period.start) <= instant(moment) < instant(_end(period))


def _day_start(day: date, tz: tzinfo | None) -> datetime:
    if isinstance(tz, ZoneInfo):
        return localize(datetime.combine(day, time.min), tz)
    return datetime.combine(day, time.min, tz)


def _initial(current: S, history: Sequence[Transition[Any]]) -> S:
    first: S = history[0].from_status if history else current
    return first


def _status_at(current: S, history: Sequence[Transition[Any]], moment: datetime) -> S:
    """The status at ``moment`` (transitions at or before it applied)."""
    status = _initial(current, history)
    for step in history:
        if instant(step.at) <= instant(moment):
            status = step.to_status
    return status


def _reached_at(
    current: S, history: Sequence[Transition[Any]], status: S, created_at: datetime
) -> datetime | None:
    """When ``status`` was first entered (``created_at`` if the record started in it)."""
    if _initial(current, history) == status:
        return created_at
    times = [step.at for step in history if step.to_status == status]
    return min(times, key=instant) if times else None


def _days(start: datetime, end: datetime) -> float:
    return (instant(end) - instant(start)) / _DAY


def _rate(
    name: str, numerator: int, denominator: int, period: Period, unit: str, definition: str
) -> Metric:
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


def _live_plans(plans: Iterable[CarePlan]) -> list[CarePlan]:
    return [p for p in plans if p.status is not CarePlanStatus.ENTERED_IN_ERROR]


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


def compute_metrics(
    period: Period,
    *,
    plans: Iterable[CarePlan] = (),
    referrals: Iterable[Referral] = (),
    reviews: Iterable[Review] = (),
    patients: Iterable[Patient] = (),
    notes: Iterable[Note] = (),
    teams: Iterable[CareTeam] = (),
    encounters: Iterable[Encounter] = (),
    survey_responses: Iterable[SurveyResponse] = (),
    as_of: datetime | None = None,
    coordinator: StaffId | None = None,
) -> MetricReport:
    """Every metric of this module over ``period``, as one :class:`MetricReport`."""
    _end(period)
    plan_list = list(plans)
    referral_list = list(referrals)
    patient_list = list(patients)
    metrics = (
        goal_attainment_rate(plan_list, period),
        review_timeliness(reviews, period, plans=plan_list, as_of=as_of),
        referral_loop_closure_rate(referral_list, period),
        referral_days_to_close(referral_list, period),
        days_to_first_contact(patient_list, notes, period),
        days_to_active_plan(patient_list, plan_list, period),
        interventions_on_time(plan_list, period, as_of=as_of),
        *caseload_sizes(teams, period, as_of=as_of),
        readmission_rate(encounters, period),
        patient_satisfaction(survey_responses, period),
    )
    return MetricReport(period=period, metrics=metrics, coordinator=coordinator)
