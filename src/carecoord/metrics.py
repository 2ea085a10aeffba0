"""Quality metrics: pure functions from recorded entities to :class:`Metric` values.

Pure: imports only the model (and the display helpers, which import only the
model). Every function takes the entities and a reporting :class:`~carecoord.Period`
``[start, end)`` (``end`` is required) and returns a :class:`Metric` with an
explicit numerator, denominator, value, unit and one-line definition.

Each metric has one implementation, over *metric facts*: the few values of
each record that the metrics need whatever the period (``_metric_facts``).
The functions here take the facts from the entities and call the rule of
``_metric_rules``; the service reads the same facts from the store's index
rows (written with each record) and calls the same rules through
:func:`metrics_from_facts`, so it never decodes a care plan. The counting
helpers live in ``_metric_counting``.

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

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import attrs

from . import _metric_rules as rules
from ._metric_counting import _end
from ._metric_facts import MetricFacts
from ._metric_rules import READMISSION_WINDOW
from .display import compact_moment, html_table, records_to_dataframe
from .model import (
    CarePlan,
    CareTeam,
    CareTeamRole,
    Encounter,
    Note,
    NotFoundError,
    Patient,
    Period,
    Referral,
    Review,
    StaffId,
    SurveyResponse,
    ValidationError,
)
from .model._base import of_type, optional, text

__all__ = [
    "READMISSION_WINDOW",
    "Metric",
    "MetricFacts",
    "MetricKind",
    "MetricReport",
    "caseload_sizes",
    "compute_metrics",
    "days_to_active_plan",
    "days_to_first_contact",
    "goal_attainment_rate",
    "interventions_on_time",
    "metrics_from_facts",
    "patient_satisfaction",
    "readmission_rate",
    "referral_days_to_close",
    "referral_loop_closure_rate",
    "review_timeliness",
]


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
    down by (a coordinator for ``caseload_size``; ``service:<id>``,
    ``program:<id>`` or ``not-in-program:<id>`` for the "what works" figures
    of :mod:`carecoord.what_works`).
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
    subject: str | None = attrs.field(default=None, validator=optional(text(max_len=100)))

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
        end = compact_moment(self.period.end) if self.period.end is not None else ""
        scope = f" for {self.coordinator}" if self.coordinator is not None else ""
        caption = f"Metrics {compact_moment(self.period.start)} to {end}{scope}"
        return html_table(self.to_records(), Metric.COLUMNS, caption=caption)


# ------------------------------------------------------- one metric, from entities


def goal_attainment_rate(plans: Iterable[CarePlan], period: Period) -> Metric:
    """Goals met by their due date, of the goals due in the period.

    Denominator: goals whose due date (:attr:`~carecoord.Goal.due`) falls in
    the period and that were being pursued at the end of that day (not
    proposed, cancelled, rejected or entered in error, by their history).
    Numerator: those whose targets were met (achieved or sustaining) by the
    readings taken before the end of the due date.
    """
    return rules.goal_attainment_rate(MetricFacts.of(plans=plans).goals, period)


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
    facts = MetricFacts.of(reviews=reviews, plans=plans)
    return rules.review_timeliness(
        facts.reviews, period, outstanding=facts.plan_reviews, as_of=as_of
    )


def referral_loop_closure_rate(referrals: Iterable[Referral], period: Period) -> Metric:
    """Referrals sent in the period whose result came back before the period ended.

    Denominator: referrals first sent in the period. Numerator: those whose
    result was received (the loop closed) before ``period.end``.
    """
    return rules.referral_loop_closure_rate(MetricFacts.of(referrals=referrals).referrals, period)


def referral_days_to_close(referrals: Iterable[Referral], period: Period) -> Metric:
    """Median days from sending a referral to its result, over loops closed in the period."""
    return rules.referral_days_to_close(MetricFacts.of(referrals=referrals).referrals, period)


def days_to_first_contact(
    patients: Iterable[Patient], notes: Iterable[Note], period: Period
) -> Metric:
    """Median days from enrolment to the first completed contact with the patient or family.

    Over patients whose first contact at or after enrolment happened in the
    period.
    """
    facts = MetricFacts.of(patients=patients, notes=notes)
    return rules.days_to_first_contact(facts.enrolments, facts.contacts, period)


def days_to_active_plan(
    patients: Iterable[Patient], plans: Iterable[CarePlan], period: Period
) -> Metric:
    """Median days from enrolment to the patient's first active care plan.

    Over patients whose first plan activation happened in the period.
    """
    facts = MetricFacts.of(patients=patients, plans=plans)
    return rules.days_to_active_plan(facts.enrolments, facts.activations, period)


def interventions_on_time(
    plans: Iterable[CarePlan], period: Period, *, as_of: datetime | None = None
) -> Metric:
    """Interventions completed by their due time, of those due in the period.

    Denominator: interventions whose due time is in the period and before
    ``as_of``, not cancelled, rejected or entered in error by then.
    Numerator: those completed at or before their due time.
    """
    facts = MetricFacts.of(plans=plans)
    return rules.interventions_on_time(facts.on_time, facts.late, period, as_of=as_of)


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
    facts = MetricFacts.of(teams=teams)
    return rules.caseload_sizes(facts.teams, period, as_of=as_of, roles=roles)


def readmission_rate(
    encounters: Iterable[Encounter], period: Period, *, window: timedelta = READMISSION_WINDOW
) -> Metric:
    """Inpatient discharges in the period followed by an unplanned readmission within ``window``.

    Denominator: inpatient encounters discharged in the period. Numerator:
    those after which the same patient had another, unplanned inpatient
    admission within ``window`` (30 days) of the discharge.
    """
    facts = MetricFacts.of(encounters=encounters)
    return rules.readmission_rate(facts.encounters, period, window=window)


def patient_satisfaction(
    responses: Iterable[SurveyResponse], period: Period, *, instrument: str | None = None
) -> Metric:
    """Mean survey score in the period, as a fraction of each response's scale (0 to 1)."""
    facts = MetricFacts.of(survey_responses=responses)
    return rules.patient_satisfaction(facts.surveys, period, instrument=instrument)


# ------------------------------------------------------------------ every metric


def metrics_from_facts(
    period: Period,
    facts: MetricFacts,
    *,
    as_of: datetime | None = None,
    coordinator: StaffId | None = None,
) -> MetricReport:
    """Every metric over ``period``, counted from ``facts`` (see :class:`MetricFacts`)."""
    _end(period)
    metrics = (
        rules.goal_attainment_rate(facts.goals, period),
        rules.review_timeliness(facts.reviews, period, outstanding=facts.plan_reviews, as_of=as_of),
        rules.referral_loop_closure_rate(facts.referrals, period),
        rules.referral_days_to_close(facts.referrals, period),
        rules.days_to_first_contact(facts.enrolments, facts.contacts, period),
        rules.days_to_active_plan(facts.enrolments, facts.activations, period),
        rules.interventions_on_time(facts.on_time, facts.late, period, as_of=as_of),
        *rules.caseload_sizes(facts.teams, period, as_of=as_of),
        rules.readmission_rate(facts.encounters, period),
        rules.patient_satisfaction(facts.surveys, period),
    )
    return MetricReport(period=period, metrics=metrics, coordinator=coordinator)


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
    facts = MetricFacts.of(
        plans=plans,
        referrals=referrals,
        reviews=reviews,
        patients=patients,
        notes=notes,
        teams=teams,
        encounters=encounters,
        survey_responses=survey_responses,
    )
    return metrics_from_facts(period, facts, as_of=as_of, coordinator=coordinator)
