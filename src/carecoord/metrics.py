"""Quality metrics: pure functions from recorded entities to :class:`Metric` values.

Pure: imports only the model (and the display helpers, which import only the
model). Every function takes the entities and a reporting :class:`~carecoord.Period`
``[start, end)`` (``end`` is required) and returns a :class:`Metric` with an
explicit numerator, denominator, value, unit and one-line definition.
The calculations live in private modules: one function per metric in
``_metric_rules`` (each re-exported here), and the counting rules below in
``_metric_counting``.

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
from datetime import datetime
from enum import StrEnum
from typing import Any

import attrs

from ._metric_counting import _end
from ._metric_rules import (
    caseload_sizes,
    days_to_active_plan,
    days_to_first_contact,
    goal_attainment_rate,
    interventions_on_time,
    patient_satisfaction,
    readmission_rate,
    referral_days_to_close,
    referral_loop_closure_rate,
    review_timeliness,
)
from .display import html_table, records_to_dataframe
from .model import (
    CarePlan,
    CareTeam,
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
