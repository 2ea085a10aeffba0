"""Quality metrics over a period (de-identified aggregates), from indexed metric facts.

Every record keeps its metric facts in index rows written with it (see
:mod:`carecoord.storage.records`), so a period's metrics run a few index
queries and count facts with the rules of :mod:`carecoord.metrics`: no care
plan, nor any other patient record, is decoded.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import attrs

from ..access import Permission
from ..metrics import READMISSION_WINDOW, MetricFacts, MetricReport, metrics_from_facts
from ..model import Period, StaffId
from ..model._base import ensure_aware, instant
from ..model.audit import AuditAction
from ..storage.port import WorkQuery
from ..storage.records import collect_metric_facts
from ..storage.uow import UnitOfWork
from .runner import Context, operation

__all__ = ["metrics", "paused_gc"]

_SCOPE = 500
"""Patients per query when counting one coordinator's patients (bounded ``IN`` lists)."""


@operation(AuditAction.READ)
def metrics(
    ctx: Context, start: datetime, end: datetime, coordinator: StaffId | None = None
) -> MetricReport:
    """Quality metrics over ``[start, end)`` (see :meth:`CareCoordinator.metrics`)."""
    ctx.allow_staff(
        Permission.VIEW_METRICS,
        entity=None if coordinator is None else f"StaffMember/{coordinator}",
    )
    begins, ends = ensure_aware(start, "start"), ensure_aware(end, "end")
    period = Period(start=begins, end=ends)
    uow = ctx.uow
    scopes: list[tuple[str, ...] | None] = [None]
    if coordinator is not None:
        patients = _patients_of(uow, coordinator, period)
        scopes = [patients[i : i + _SCOPE] for i in range(0, len(patients), _SCOPE)]
    facts = MetricFacts()
    with paused_gc():  # millions of small acyclic lists and tuples: see paused_gc
        for scope in scopes:
            collect_metric_facts(
                facts,
                uow.query_details,
                begins,
                ends,
                ctx.now,
                window=READMISSION_WINDOW,
                patient_ids=scope,
            )
        report = metrics_from_facts(period, facts, as_of=ctx.now, coordinator=coordinator)
        del facts  # freed before the collector runs again, so it never walks them
    if coordinator is not None:
        kept = tuple(
            m for m in report.metrics if m.subject is None or m.subject == str(coordinator)
        )
        report = attrs.evolve(report, metrics=kept)
    return report


def _patients_of(uow: UnitOfWork, coordinator: StaffId, period: Period) -> tuple[str, ...]:
    """Patients on whose care teams ``coordinator`` held a membership (any role, any
    team status) at some time in ``period``: membership rows start before the end
    and do not end by the start."""
    assert period.end is not None
    found: set[str] = set()
    hits = uow.query(
        WorkQuery(
            category="member",
            owner_ids=(str(coordinator),),
            open_only=False,
            changed_before=instant(period.end),
        )
    )
    begins = instant(period.start)
    for hit in hits:
        row = hit.row
        if row.patient_id is not None and (row.due_at is None or begins < instant(row.due_at)):
            found.add(row.patient_id)
    return tuple(sorted(found))


class _Pauses:
    """How many :func:`paused_gc` blocks run now, and whether the collector ran before them."""

    lock = threading.Lock()
    running = 0
    was_enabled = False


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the block (nested and threaded
    blocks alike: it runs again, if it ran before, when the last one ends).

    A period's metrics build a few million small lists and tuples (rows, parsed
    facts), none of them part of a cycle; with the collector on, every few
    hundred of them start a collection that walks the ones already built, about
    as long as the reading itself. Nothing cyclic is made, so no memory waits
    for the collector.
    """
    with _Pauses.lock:
        if _Pauses.running == 0:
            _Pauses.was_enabled = gc.isenabled()
            gc.disable()
        _Pauses.running += 1
    try:
        yield
    finally:
        with _Pauses.lock:
            _Pauses.running -= 1
            if _Pauses.running == 0 and _Pauses.was_enabled:
                gc.enable()
