"""Reading the facts of the "what works" metrics from the metric-fact index rows.

The per-service and per-program figures of :mod:`carecoord.what_works` count the
same ``metric-referral`` and ``metric-plan`` rows as the quality metrics
(:mod:`._metric_rows`), with the patient of each row: a period's rows are read
with the same bounds, never a record. A referral row keeps the directory service
the referral went to; rows written before that (two values instead of
:data:`~carecoord._metric_facts.REFERRAL_FACT_SIZE`) raise
:class:`~carecoord.StorageError` asking for the index rows to be derived again
(:func:`carecoord.storage.reindex`). Re-exported by :mod:`carecoord.storage.records`;
pure: imports only the model and its facts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from .._metric_facts import REFERRAL_FACT_SIZE, WhatWorksFacts
from ..model import StorageError
from ..model._base import instant
from ._metric_rows import DetailRun, _patients, _Reader, _shifted, _values

__all__ = ["collect_what_works_facts"]

_DAY = timedelta(days=1)


def collect_what_works_facts(
    run: DetailRun, start: datetime, end: datetime, *, patient_ids: Sequence[str] | None = None
) -> WhatWorksFacts:
    """The referral and goal facts, with their patients, that can count in ``[start, end)``.

    ``run`` answers index queries with lean rows (``UnitOfWork.query_details``, as
    for the quality metrics); ``patient_ids`` (when
    given) the patients to count. Two queries: the referrals sent or closed in the
    period, and the plans with a goal due around it. Rows that do not count may
    come back (the rules decide exactly); none that does is missed.
    """
    begins, ends = instant(start), instant(end)
    read = _Reader.of_details(run, None if patient_ids is None else tuple(patient_ids))
    facts = WhatWorksFacts()
    referrals = read.rows("metric-referral", changed_before=ends, due_from=begins)
    values = _values("metric-referral", referrals)
    if any(len(value) < REFERRAL_FACT_SIZE for value in values):
        raise StorageError(
            "stored metric-referral facts predate the directory service id: "
            "derive the index rows again (carecoord.storage.reindex)"
        )
    facts.referrals = list(zip(_patients(referrals), values, strict=True))
    # Any zone's midnight lies within a day of the UTC one, where a plan row puts a goal.
    plans = read.rows(
        "metric-plan", changed_before=_shifted(ends, _DAY), due_from=_shifted(begins, -_DAY)
    )
    for patient, plan in zip(_patients(plans), _values("metric-plan", plans), strict=True):
        facts.goals += [(patient, goal) for goal in plan[0]]
    return facts
