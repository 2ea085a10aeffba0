"""What works: quality metrics per community resource and per care program, and their
monthly series (de-identified aggregates, from indexed metric facts).

Like :mod:`.reporting`, a report over the patients the actor may see: the actor
needs the staff-wide ``view-metrics`` permission, which covers every patient's
records in aggregate; the figures hold counts, rates, medians and directory or
program ids only. Each call writes one audit entry (action ``R``).

Nothing is decoded: the referral and goal facts come from the ``metric-referral``
and ``metric-plan`` index rows of the period (:func:`collect_what_works_facts`),
a program's enrolment periods from its enrolment index rows; the counting is
:mod:`carecoord.what_works`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from ..access import Permission
from ..metrics import Metric, MetricReport
from ..model import NotFoundError, Period, ValidationError
from ..model._base import ensure_aware, instant
from ..model.audit import AuditAction
from ..model.programs import CareProgram, CareProgramId
from ..storage.port import WorkQuery, from_micros
from ..storage.records import collect_what_works_facts
from ..storage.uow import UnitOfWork
from ..what_works import (
    MetricSeries,
    WhatWorksFacts,
    month_periods,
    monthly_series,
    program_metrics_from_facts,
    resource_metrics_from_facts,
)
from ._util import check
from .runner import Context, operation

__all__ = ["metric_series", "program_metrics", "resource_metrics"]

ENROLMENT = "program-enrolment"
"""The index category of a program enrolment (as ``storage._care_program_rows`` writes
it: owner the program, ``changed_at`` when enrolled, ``due_at`` when disenrolled)."""
_DAY = timedelta(days=1)


def _services(services: Iterable[str] | None) -> tuple[str, ...] | None:
    if services is None:
        return None
    if isinstance(services, str):
        raise ValidationError("services must be a collection of ids", field="services")
    chosen = tuple(services)
    if not all(isinstance(s, str) for s in chosen):
        raise ValidationError("services must be a collection of ids", field="services")
    return chosen


def _period(start: datetime, end: datetime) -> Period:
    return Period(start=ensure_aware(start, "start"), end=ensure_aware(end, "end"))


@operation(AuditAction.READ)
def resource_metrics(
    ctx: Context, start: datetime, end: datetime, services: Iterable[str] | None = None
) -> MetricReport:
    """Per directory service, over ``[start, end)``: the referral loop closure rate and
    the median days to close (see :meth:`CareCoordinator.resource_metrics`)."""
    ctx.allow_staff(Permission.VIEW_METRICS, entity="HealthcareService")
    chosen = _services(services)
    period = _period(start, end)
    facts = collect_what_works_facts(ctx.uow.query_details, period.start, end)
    metrics = resource_metrics_from_facts(facts, period, services=chosen)
    return MetricReport(period=period, metrics=metrics)


@operation(AuditAction.READ)
def program_metrics(
    ctx: Context, program: CareProgramId, start: datetime, end: datetime
) -> MetricReport:
    """A program's figures over ``[start, end)`` for its enrolled patients and for the
    patients not enrolled (see :meth:`CareCoordinator.program_metrics`)."""
    check(program, CareProgramId)
    ctx.allow_staff(Permission.VIEW_METRICS, entity=f"CareProgram/{program}")
    _known(ctx.uow, program)
    period = _period(start, end)
    facts = collect_what_works_facts(ctx.uow.query_details, period.start, end)
    enrolled = _enrolments(ctx.uow, program, facts, period.start, end)
    metrics = program_metrics_from_facts(str(program), enrolled, facts, period)
    return MetricReport(period=period, metrics=metrics)


@operation(AuditAction.READ)
def metric_series(
    ctx: Context,
    first: date,
    last: date,
    zone: str,
    program: CareProgramId | None = None,
    services: Iterable[str] | None = None,
) -> tuple[MetricSeries, ...]:
    """Monthly series of the per-service figures and, with ``program``, of the
    program's (see :meth:`CareCoordinator.metric_series`)."""
    if program is not None:
        check(program, CareProgramId)
    entity = "HealthcareService" if program is None else f"CareProgram/{program}"
    ctx.allow_staff(Permission.VIEW_METRICS, entity=entity)
    if program is not None:
        _known(ctx.uow, program)
    chosen = _services(services)
    months = month_periods(first, last, zone)
    end = months[-1].end
    assert end is not None  # every month has an end
    facts = collect_what_works_facts(ctx.uow.query_details, months[0].start, end)
    if chosen is None:  # every service referred to in the span, in every month
        chosen = tuple(sorted({f[2] for _, f in facts.referrals if f[2] is not None}))
    enrolled = (
        None if program is None else _enrolments(ctx.uow, program, facts, months[0].start, end)
    )
    per_month: list[Sequence[Metric]] = []
    for month in months:
        metrics = resource_metrics_from_facts(facts, month, services=chosen)
        if program is not None and enrolled is not None:
            metrics += program_metrics_from_facts(str(program), enrolled, facts, month)
        per_month.append(metrics)
    return monthly_series(per_month, zone)


def _known(uow: UnitOfWork, program: CareProgramId) -> None:
    if uow.find(CareProgram, str(program)) is None:
        raise NotFoundError(f"care program {program} not found")


def _enrolments(
    uow: UnitOfWork, program: CareProgramId, facts: WhatWorksFacts, start: datetime, end: datetime
) -> dict[str, list[Period]]:
    """The program's enrolment periods that can decide a fact of ``facts`` (those
    overlapping from the earliest referral sent, or a day before ``start``, to two days
    after ``end``: a goal's due date ends up to 25 hours after the period), read from
    its ``program-enrolment`` index rows (two queries: still enrolled, disenrolled)."""
    earliest = instant(start) - _DAY
    if facts.referrals:
        earliest = min(earliest, from_micros(min(f[0] for _, f in facts.referrals)))
    until = instant(end) + 2 * _DAY  # a due date starting before the end lasts up to 25 h
    owner = (str(program),)
    hits = [
        *uow.query(WorkQuery(category=ENROLMENT, owner_ids=owner, changed_before=until)),
        *uow.query(
            WorkQuery(
                category=ENROLMENT,
                owner_ids=owner,
                statuses=("disenrolled",),
                open_only=False,
                changed_before=until,
                due_from=earliest,
            )
        ),
    ]
    periods: dict[str, list[Period]] = {}
    for hit in hits:
        row = hit.row
        if row.patient_id is None or row.changed_at is None:
            continue
        periods.setdefault(row.patient_id, []).append(Period(start=row.changed_at, end=row.due_at))
    return periods
