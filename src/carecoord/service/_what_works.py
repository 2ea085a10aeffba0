"""The "what works" part of the :class:`~carecoord.CareCoordinator` facade: quality
metrics per community resource and per care program, and their monthly series
(:mod:`.what_works`). Each method runs one handler through the operation runner."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from ..metrics import MetricReport
from ..model import StaffId
from ..model.programs import CareProgramId
from ..what_works import MetricSeries
from . import what_works
from .runner import OperationRunner

__all__ = ["WhatWorksMethods"]


class WhatWorksMethods:
    """What-works use cases (mixed into :class:`~carecoord.CareCoordinator`).

    Reports over the patients the actor may see: the staff-wide ``view-metrics``
    permission (care coordinators and case managers have it) covers every patient's
    records in aggregate. The results hold counts, rates, medians and directory or
    program ids only; each call writes one audit entry (action ``R``).
    """

    _runner: OperationRunner

    def resource_metrics(
        self,
        start: datetime,
        end: datetime,
        *,
        actor: StaffId,
        services: Iterable[str] | None = None,
    ) -> MetricReport:
        """Per community directory service, over ``[start, end)``:
        ``referral_loop_closure_rate`` (referrals to it sent in the period, and of them
        those whose result came back before the end) and ``referral_days_to_close``
        (median days, over its referrals closed in the period), subject
        ``service:<id>``. ``services`` (ids) lists the services to report, with zero
        denominators for those without referrals; by default each service referred
        to in the period. Computed from index rows; see :mod:`carecoord.what_works`.
        """
        return self._runner.run(what_works.resource_metrics, actor, start, end, services)

    def program_metrics(
        self, program: CareProgramId, start: datetime, end: datetime, *, actor: StaffId
    ) -> MetricReport:
        """A care program's figures over ``[start, end)``: ``goal_attainment_rate``,
        ``referral_loop_closure_rate`` and ``referral_days_to_close`` of the patients
        enrolled (subject ``program:<id>``) against the same figures of every other
        patient the report covers (subject ``not-in-program:<id>``). A goal counts as
        enrolled when its patient was enrolled at the end of its due date (in the zone
        of ``start``), a referral when its patient was enrolled when it was sent.
        NotFoundError for an unknown program.
        """
        return self._runner.run(what_works.program_metrics, actor, program, start, end)

    def metric_series(
        self,
        first: date,
        last: date,
        zone: str,
        *,
        actor: StaffId,
        program: CareProgramId | None = None,
        services: Iterable[str] | None = None,
    ) -> tuple[MetricSeries, ...]:
        """Monthly series, from ``first``'s month to ``last``'s (any day of each; both
        included), of the per-service figures of :meth:`resource_metrics` (every service
        referred to in the span, or ``services``) and, with ``program``, of
        :meth:`program_metrics`: one :class:`~carecoord.what_works.MetricSeries` per
        metric and subject, each month from local midnight of its first day in the IANA
        ``zone`` (daylight-saving changes respected).
        """
        return self._runner.run(
            what_works.metric_series, actor, first, last, zone, program, services
        )
