"""What works: quality metrics per community resource and per care program.

Pure: imports only the model and the metric rules. The figures are the
existing metrics of :mod:`carecoord.metrics`, counted over a part of the facts
and labelled with a ``subject``:

* per directory service (subject ``service:<id>``): the referral loop closure
  rate and the median days to close, of the referrals whose ``target`` is that
  service (``HealthcareService/<id>``);
* per care program (subject ``program:<id>``): the goal attainment rate, the
  referral loop closure rate and the median days to close of the patients
  *enrolled* in the program, against the same figures for the patients *not
  enrolled* (subject ``not-in-program:<id>``), over the same period and the
  same population. A referral counts for the program when the patient was
  enrolled when it was sent; a goal when the patient was enrolled at the end of
  its due date (in the zone of ``period.start``, like the due date itself).

Each metric keeps its explicit numerator and denominator; one implementation
of each count (:mod:`carecoord._metric_rules`). Enrolment periods come as
plain data: patient id to the :class:`~carecoord.Period` s they were enrolled
(``end`` ``None`` while still enrolled).

For trends, :func:`month_periods` cuts a span into calendar months of an IANA
zone (each month starts at local midnight of its first day, so months are 743,
744 or 745 hours around daylight-saving changes) and :class:`MetricSeries`
holds one metric's monthly values (month -> :class:`~carecoord.metrics.Metric`),
exportable as records and DataFrames.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from . import _metric_rules as rules
from ._metric_counting import Instant, _day_start_us, _end, _micros
from ._metric_facts import GoalFact, ReferralFact, WhatWorksFacts
from .display import html_table, records_to_dataframe
from .metrics import Metric
from .model import CarePlan, NotFoundError, Period, Referral, ValidationError, localize
from .model._base import optional, text, zone_name

__all__ = [
    "MAX_MONTHS",
    "MetricSeries",
    "WhatWorksFacts",
    "month_periods",
    "monthly_series",
    "outside_program_subject",
    "program_metrics",
    "program_metrics_from_facts",
    "program_subject",
    "resource_metrics",
    "resource_metrics_from_facts",
    "service_subject",
]

MAX_MONTHS = 1200
"""The longest monthly series (100 years)."""

Enrolments = Mapping[str, Iterable[Period]]
"""Patient id -> the periods the patient was enrolled in one program."""


def service_subject(service_id: str) -> str:
    """The ``subject`` of a directory service's metrics: ``service:<id>``."""
    return f"service:{service_id}"


def program_subject(program_id: str) -> str:
    """The ``subject`` of a program's metrics over its enrolled patients: ``program:<id>``."""
    return f"program:{program_id}"


def outside_program_subject(program_id: str) -> str:
    """The ``subject`` of the comparison figures, over the patients not enrolled in
    the program: ``not-in-program:<id>``."""
    return f"not-in-program:{program_id}"


def _about(metric: Metric, subject: str, scope: str) -> Metric:
    return attrs.evolve(metric, subject=subject, definition=f"{metric.definition}; {scope}")


# ------------------------------------------------------------------ resources


def resource_metrics_from_facts(
    facts: WhatWorksFacts, period: Period, *, services: Iterable[str] | None = None
) -> tuple[Metric, ...]:
    """Per directory service: ``referral_loop_closure_rate`` and ``referral_days_to_close``
    (subject ``service:<id>``) of the referrals to it, in service id order.

    ``services`` (ids) lists the services to report, with zero denominators for
    those without referrals; by default every service a referral went to.
    Referrals to no directory service are left out.
    """
    _end(period)
    by_service: dict[str, list[ReferralFact]] = defaultdict(list)
    for _, fact in facts.referrals:
        service = fact[2]
        if service is not None:
            by_service[service].append(fact)
    chosen = sorted(by_service) if services is None else sorted(set(map(str, services)))
    found: list[Metric] = []
    for service in chosen:
        referrals = by_service.get(service, [])
        subject = service_subject(service)
        scope = "referrals to the directory service"
        found.append(_about(rules.referral_loop_closure_rate(referrals, period), subject, scope))
        found.append(_about(rules.referral_days_to_close(referrals, period), subject, scope))
    return tuple(found)


def resource_metrics(
    referrals: Iterable[Referral], period: Period, *, services: Iterable[str] | None = None
) -> tuple[Metric, ...]:
    """:func:`resource_metrics_from_facts` over the facts of ``referrals``."""
    return resource_metrics_from_facts(
        WhatWorksFacts.of(referrals=referrals), period, services=services
    )


# ------------------------------------------------------------------- programs


class _Enrolled:
    """Whether a patient was enrolled at an instant (periods as ``[start, end)``)."""

    def __init__(self, enrolments: Enrolments) -> None:
        self._spans: dict[str, list[tuple[Instant, Instant | None]]] = {}
        for patient, periods in enrolments.items():
            spans = self._spans.setdefault(str(patient), [])
            for span in periods:
                if not isinstance(span, Period):
                    raise ValidationError("enrolment periods must be Periods", field="enrolments")
                spans.append((_micros(span.start), None if span.end is None else _micros(span.end)))

    def __call__(self, patient: str, moment: Instant) -> bool:
        return any(
            start <= moment and (end is None or moment < end)
            for start, end in self._spans.get(patient, ())
        )


def program_metrics_from_facts(
    program_id: str, enrolments: Enrolments, facts: WhatWorksFacts, period: Period
) -> tuple[Metric, ...]:
    """A program's figures for its enrolled patients (subject ``program:<id>``) and the
    same figures for the patients not enrolled (subject ``not-in-program:<id>``).

    In order: ``goal_attainment_rate``, ``referral_loop_closure_rate`` and
    ``referral_days_to_close``, each for the enrolled then the not enrolled. A goal
    belongs to the enrolled group when its patient was enrolled at the last instant
    of its due date (in the zone of ``period.start``); a referral when its patient
    was enrolled when it was sent. ``enrolments`` maps each enrolled patient to the
    periods of enrolment in this program.
    """
    _end(period)
    enrolled = _Enrolled(enrolments)
    zone = period.start.tzinfo
    starts: dict[int, Instant] = {}
    goals: tuple[list[GoalFact], list[GoalFact]] = ([], [])
    for patient, goal in facts.goals:
        last = _day_start_us(goal[0] + 1, zone, starts) - 1  # the due date's last instant
        goals[0 if enrolled(patient, last) else 1].append(goal)
    referrals: tuple[list[ReferralFact], list[ReferralFact]] = ([], [])
    for patient, referral in facts.referrals:
        referrals[0 if enrolled(patient, referral[0]) else 1].append(referral)
    inside, outside = program_subject(program_id), outside_program_subject(program_id)
    scopes = (
        (inside, "patients enrolled in the program"),
        (outside, "patients not enrolled in the program"),
    )
    found: list[Metric] = []
    for group, (subject, scope) in enumerate(scopes):
        found.append(_about(rules.goal_attainment_rate(goals[group], period), subject, scope))
    for group, (subject, scope) in enumerate(scopes):
        metric = rules.referral_loop_closure_rate(referrals[group], period)
        found.append(_about(metric, subject, scope))
    for group, (subject, scope) in enumerate(scopes):
        found.append(_about(rules.referral_days_to_close(referrals[group], period), subject, scope))
    return tuple(found)


def program_metrics(
    program_id: str,
    enrolments: Enrolments,
    period: Period,
    *,
    plans: Iterable[CarePlan] = (),
    referrals: Iterable[Referral] = (),
) -> tuple[Metric, ...]:
    """:func:`program_metrics_from_facts` over the facts of ``plans`` and ``referrals``
    (of the enrolled patients and of the comparison population alike)."""
    facts = WhatWorksFacts.of(plans=plans, referrals=referrals)
    return program_metrics_from_facts(program_id, enrolments, facts, period)


# --------------------------------------------------------------------- months


def _zone(name: str) -> ZoneInfo:
    if not isinstance(name, str):
        raise ValidationError("zone must be an IANA zone name", field="zone")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError("zone is not a known IANA time zone", field="zone") from None


def _month_index(day: date, what: str) -> int:
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValidationError(f"{what} must be a date (any day of the month)", field=what)
    return day.year * 12 + day.month - 1


def _month_start(index: int, zone: ZoneInfo) -> datetime:
    year, month = divmod(index, 12)
    return localize(datetime(year, month + 1, 1), zone)


def month_periods(first: date, last: date, zone: str) -> tuple[Period, ...]:
    """The calendar months from ``first``'s month to ``last``'s (both included), each
    ``[local midnight of its first day, local midnight of the next month's)`` in the
    IANA ``zone``. Months are compared by instants, so a month with a
    daylight-saving change is an hour shorter or longer than 24 hours a day."""
    tz = _zone(zone)
    low, high = _month_index(first, "first"), _month_index(last, "last")
    if high < low:
        raise ValidationError("last must not be before first", field="last")
    if high - low >= MAX_MONTHS:
        raise ValidationError(f"a series has at most {MAX_MONTHS} months", field="last")
    if high >= date.max.year * 12 + 11:
        raise ValidationError("last is past the last representable month", field="last")
    return tuple(
        Period(start=_month_start(k, tz), end=_month_start(k + 1, tz)) for k in range(low, high + 1)
    )


# --------------------------------------------------------------------- series


def _metrics(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, tuple) or not all(isinstance(m, Metric) for m in value):
        raise ValidationError("MetricSeries.points must be a tuple of Metric", field=attr.name)
    if any(m.name != inst.name or m.subject != inst.subject for m in value):
        raise ValidationError("every point of a series is the same metric", field=attr.name)
    if any(m.period.end is None for m in value):
        raise ValidationError("every point of a series has a period end", field=attr.name)


@attrs.frozen
class MetricSeries:
    """One metric (``name``, ``subject``) month by month: month -> :class:`Metric`.

    ``points`` are the monthly metrics in time order, each over one calendar month
    of ``zone`` (see :func:`month_periods`). A month is named by its first day
    (a :class:`~datetime.date`); :meth:`get` and ``series[month]`` take any day of it.
    """

    COLUMNS = ("month", *Metric.COLUMNS)
    """The keys of :meth:`to_records`: ``month`` (``YYYY-MM``) then the metric's."""

    name: str = attrs.field(validator=text(max_len=100))
    subject: str | None = attrs.field(validator=optional(text(max_len=100)))
    zone: str = attrs.field(validator=zone_name)
    points: tuple[Metric, ...] = attrs.field(default=(), validator=_metrics)

    def month_of(self, metric: Metric) -> date:
        """The month (its first day, in :attr:`zone`) a point covers."""
        return metric.period.start.astimezone(ZoneInfo(self.zone)).date().replace(day=1)

    @property
    def months(self) -> tuple[date, ...]:
        """The months of the series, in order (their first days)."""
        return tuple(self.month_of(m) for m in self.points)

    @property
    def values(self) -> tuple[float | None, ...]:
        """Each month's value, in order (``None`` where nothing was counted)."""
        return tuple(m.value for m in self.points)

    def items(self) -> Iterator[tuple[date, Metric]]:
        """``(month, metric)`` pairs, in order."""
        return zip(self.months, self.points, strict=True)

    def get(self, month: date) -> Metric:
        """The metric of the month ``month`` falls in, or :class:`~carecoord.NotFoundError`."""
        wanted = _month_index(month, "month")
        for point in self.points:
            if _month_index(self.month_of(point), "month") == wanted:
                return point
        raise NotFoundError(f"month {month.year:04d}-{month.month:02d} not in the series")

    def __getitem__(self, month: date) -> Metric:
        return self.get(month)

    def __iter__(self) -> Iterator[date]:
        return iter(self.months)

    def __len__(self) -> int:
        return len(self.points)

    def to_records(self) -> list[dict[str, object]]:
        """One plain dict per month (keys of :attr:`COLUMNS`)."""
        return [{"month": f"{month:%Y-%m}", **metric.to_record()} for month, metric in self.items()]

    def to_dataframe(self) -> Any:
        """The series as a ``pandas.DataFrame`` (needs the ``dataframe`` extra)."""
        return records_to_dataframe(self.to_records(), self.COLUMNS)

    def _repr_html_(self) -> str:
        who = "" if self.subject is None else f" for {self.subject}"
        caption = f"Monthly {self.name}{who} ({self.zone})"
        return html_table(self.to_records(), self.COLUMNS, caption=caption)


def monthly_series(months: Sequence[Iterable[Metric]], zone: str) -> tuple[MetricSeries, ...]:
    """One :class:`MetricSeries` per (name, subject), from each month's metrics (in time
    order; a metric missing from a month is missing from its series). Series come in
    the order their metrics first appear."""
    grouped: dict[tuple[str, str | None], list[Metric]] = {}
    for metrics in months:
        for metric in metrics:
            grouped.setdefault((metric.name, metric.subject), []).append(metric)
    return tuple(
        MetricSeries(name=name, subject=subject, zone=zone, points=tuple(points))
        for (name, subject), points in grouped.items()
    )
