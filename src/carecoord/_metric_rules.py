"""The quality metric calculations behind :mod:`carecoord.metrics`, over metric facts.

One function per metric, each counting the facts of
:mod:`carecoord._metric_facts` over a reporting period: the one
implementation of each metric, whether the facts were taken from entities
(the functions of :mod:`carecoord.metrics`) or read from the store's index
rows (the service). What a record says whatever the period is settled in the
facts; everything that depends on the period (is an instant in it, where a
due date's day starts in the zone of ``period.start``, the ``as_of`` cutoff)
is decided here, from the stored instants.

Pure: imports only the model. :mod:`carecoord.metrics` imports this module
at load time, so :class:`~carecoord.metrics.Metric` and
:class:`~carecoord.metrics.MetricKind` are imported here only when a metric is
built.
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ._metric_counting import (
    _TICK,
    Instant,
    _bounds,
    _cutoff_us,
    _day_start_us,
    _days_us,
    _step_value_at,
)
from ._metric_facts import (
    EncounterFact,
    GoalFact,
    ReferralFact,
    ReviewFact,
    SurveyFact,
    TeamFact,
)
from .model import CareTeamRole, Period

if TYPE_CHECKING:
    from .metrics import Metric

__all__ = [
    "READMISSION_WINDOW",
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

READMISSION_WINDOW = timedelta(days=30)
"""How long after a discharge an unplanned admission counts as a readmission."""


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


def goal_attainment_rate(goals: Iterable[GoalFact], period: Period) -> Metric:
    """Goals met by their due date, of the goals due in the period.

    Denominator: goals whose due date starts (in the zone of ``period.start``)
    in the period and that were being pursued at the end of that day.
    Numerator: those whose targets were met by the readings taken before the
    end of the due date.
    """
    start, end = _bounds(period)
    zone = period.start.tzinfo
    starts: dict[int, Instant] = {}
    numerator = denominator = 0
    for due, pursued, steps, flips in goals:
        if not start <= _day_start_us(due, zone, starts) < end:
            continue
        deadline = _day_start_us(due + 1, zone, starts)
        if not _step_value_at(pursued, steps, deadline - 1):
            continue
        denominator += 1
        if bisect_left(flips, deadline) % 2:  # flipped to "met" by the readings before it
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
    reviews: Iterable[ReviewFact],
    period: Period,
    *,
    outstanding: Iterable[Instant] = (),
    as_of: datetime | None = None,
) -> Metric:
    """Reviews done on time, of the reviews that fell due in the period.

    Denominator: recorded reviews due in the period, plus reviews of active or
    on-hold plans (``outstanding``: when due) due in the period and before
    ``as_of``. Numerator: recorded reviews due in the period and done by then.
    """
    cutoff = _cutoff_us(period, as_of)
    start, end = _bounds(period)
    numerator = denominator = 0
    for due, on_time in reviews:
        if start <= due < end:
            denominator += 1
            if on_time:
                numerator += 1
    denominator += sum(1 for due in outstanding if start <= due < end and due < cutoff)
    return _rate(
        "review_timeliness",
        numerator,
        denominator,
        period,
        "reviews on time / reviews due",
        "reviews done by their due time / reviews due in the period "
        "(recorded ones plus those still outstanding)",
    )


def referral_loop_closure_rate(referrals: Iterable[ReferralFact], period: Period) -> Metric:
    """Referrals sent in the period whose result came back before the period ended."""
    start, end = _bounds(period)
    numerator = denominator = 0
    for sent, closed, *_ in referrals:  # rows written before the service id hold two
        if start <= sent < end:
            denominator += 1
            if closed is not None and closed < end:
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


def referral_days_to_close(referrals: Iterable[ReferralFact], period: Period) -> Metric:
    """Median days from sending a referral to its result, over loops closed in the period."""
    start, end = _bounds(period)
    days = [
        _days_us(sent, closed)
        for sent, closed, *_ in referrals
        if closed is not None and start <= closed < end
    ]
    return _median(
        "referral_days_to_close",
        days,
        period,
        "median days from sent to result received, over referrals whose result "
        "came back in the period (denominator: how many)",
    )


def days_to_first_contact(
    enrolments: Iterable[tuple[str, Instant]],
    contacts: Iterable[tuple[str, Instant]],
    period: Period,
) -> Metric:
    """Median days from enrolment to the first completed contact with the patient or family.

    Over patients whose first contact at or after enrolment happened in the period.
    """
    start, end = _bounds(period)
    seen: dict[str, list[Instant]] = defaultdict(list)
    for patient, at in contacts:
        seen[patient].append(at)
    days = []
    for patient, enrolled in enrolments:
        after = [t for t in seen.get(patient, ()) if t >= enrolled]
        if after and start <= (first := min(after)) < end:
            days.append(_days_us(enrolled, first))
    return _median(
        "days_to_first_contact",
        days,
        period,
        "median days from enrolment to the first completed patient or family "
        "contact, over patients first contacted in the period",
    )


def days_to_active_plan(
    enrolments: Iterable[tuple[str, Instant]],
    activations: Iterable[tuple[str, Instant]],
    period: Period,
) -> Metric:
    """Median days from enrolment to the patient's first active care plan.

    Over patients whose first plan activation happened in the period.
    """
    start, end = _bounds(period)
    first: dict[str, Instant] = {}
    for patient, at in activations:
        known = first.get(patient)
        if known is None or at < known:
            first[patient] = at
    days = []
    for patient, enrolled in enrolments:
        active = first.get(patient)
        if active is not None and start <= active < end:
            days.append(max(0.0, _days_us(enrolled, active)))
    return _median(
        "days_to_active_plan",
        days,
        period,
        "median days from enrolment to the first active care plan, over patients "
        "whose first plan became active in the period",
    )


def interventions_on_time(
    on_time: Iterable[Instant],
    late: Iterable[Instant],
    period: Period,
    *,
    as_of: datetime | None = None,
) -> Metric:
    """Interventions completed by their due time, of those due in the period.

    ``on_time`` and ``late`` are due times of interventions not withdrawn by
    then, done by then or not. Counted: those due in the period and before ``as_of``.
    """
    cutoff = _cutoff_us(period, as_of)
    start, end = _bounds(period)
    until = min(end, cutoff)
    numerator = sum(1 for due in on_time if start <= due < until)
    denominator = numerator + sum(1 for due in late if start <= due < until)
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
    teams: Iterable[tuple[str, TeamFact]],
    period: Period,
    *,
    as_of: datetime | None = None,
    roles: Iterable[CareTeamRole | str] = (CareTeamRole.CARE_COORDINATOR,),
) -> tuple[Metric, ...]:
    """Patients per coordinator at the end of the period (or at ``as_of``).

    A patient is on a staff member's caseload when the staff member holds a
    membership in one of ``roles`` covering that moment on a care team of the
    patient that was open (proposed or active) then. Returns the mean over
    coordinators (subject ``None``) followed by one count per coordinator.
    """
    from .metrics import Metric, MetricKind  # metrics imports this module

    moment = _cutoff_us(period, as_of) - 1  # the last instant before the cutoff
    wanted = frozenset(str(getattr(role, "value", role)) for role in roles)
    caseloads: dict[str, set[str]] = defaultdict(set)
    for patient, (is_open, steps, members) in teams:
        if not _step_value_at(is_open, steps, moment):
            continue
        for staff, role, begins, ends in members:
            if role in wanted and begins <= moment and (ends is None or moment < ends):
                caseloads[staff].add(patient)
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
    encounters: Iterable[tuple[str, str, EncounterFact]],
    period: Period,
    *,
    window: timedelta = READMISSION_WINDOW,
) -> Metric:
    """Inpatient discharges in the period followed by an unplanned readmission within ``window``.

    Denominator: inpatient stays discharged in the period. Numerator: those
    after which the same patient had another, unplanned inpatient admission
    within ``window`` (30 days) of the discharge.
    """
    start, end = _bounds(period)
    reach = window // _TICK
    stays: dict[str, list[tuple[str, EncounterFact]]] = defaultdict(list)
    for patient, stay_id, stay in encounters:
        stays[patient].append((stay_id, stay))
    numerator = denominator = 0
    for patient_stays in stays.values():
        for stay_id, (_, out, _) in patient_stays:
            if out is None or not start <= out < end:
                continue
            denominator += 1
            if any(
                other_id != stay_id and not planned and out <= admitted <= out + reach
                for other_id, (admitted, _, planned) in patient_stays
            ):
                numerator += 1
    days = window / timedelta(days=1)
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
    responses: Iterable[SurveyFact], period: Period, *, instrument: str | None = None
) -> Metric:
    """Mean survey score in the period, as a fraction of each response's scale (0 to 1).

    The sum is exact then rounded once (:func:`math.fsum`), so it does not
    depend on the order of the responses.
    """
    from .metrics import Metric, MetricKind  # metrics imports this module

    start, end = _bounds(period)
    scores = [
        score
        for at, score, code in responses
        if start <= at < end and (instrument is None or code == instrument)
    ]
    total = math.fsum(scores)
    return Metric(
        name="patient_satisfaction",
        kind=MetricKind.MEAN,
        period=period,
        numerator=total if scores else 0,
        denominator=len(scores),
        value=total / len(scores) if scores else None,
        unit="fraction of scale (0-1)",
        definition="sum of survey scores scaled to 0-1 / survey responses in the period"
        + ("" if instrument is None else f" (instrument {instrument})"),
    )
