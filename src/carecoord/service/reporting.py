"""Quality metrics over a period (de-identified aggregates)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from ..access import Permission
from ..metrics import MetricReport, compute_metrics
from ..model import (
    CarePlan,
    CareTeam,
    Encounter,
    Note,
    Patient,
    Period,
    Referral,
    Review,
    StaffId,
    SurveyResponse,
)
from ..model._base import ensure_aware
from ..model.audit import AuditAction
from ._util import overlaps
from .runner import Context, operation

__all__ = ["metrics"]

_KINDS = (CarePlan, Referral, Review, Note, Encounter, SurveyResponse)


@operation(AuditAction.READ)
def metrics(
    ctx: Context, start: datetime, end: datetime, coordinator: StaffId | None = None
) -> MetricReport:
    """Quality metrics over ``[start, end)`` (see :meth:`CareCoordinator.metrics`)."""
    ctx.allow_staff(
        Permission.VIEW_METRICS,
        entity=None if coordinator is None else f"StaffMember/{coordinator}",
    )
    period = Period(start=ensure_aware(start, "start"), end=ensure_aware(end, "end"))
    uow = ctx.uow
    teams = uow.all(CareTeam)
    if coordinator is None:
        patients = uow.all(Patient)
        loaded: dict[type[Any], list[Any]] = {cls: uow.all(cls) for cls in _KINDS}
    else:
        ids = sorted(
            {
                str(t.patient_id)
                for t in teams
                if any(m.staff_id == coordinator and overlaps(m.period, period) for m in t.members)
            }
        )
        teams = [t for t in teams if str(t.patient_id) in ids]
        patients = [p for pid in ids if (p := uow.find(Patient, pid)) is not None]
        loaded = {cls: [r for pid in ids for r in uow.all(cls, patient_id=pid)] for cls in _KINDS}
    report = compute_metrics(
        period,
        plans=loaded[CarePlan],
        referrals=loaded[Referral],
        reviews=loaded[Review],
        patients=patients,
        notes=loaded[Note],
        teams=teams,
        encounters=loaded[Encounter],
        survey_responses=loaded[SurveyResponse],
        as_of=ctx.now,
        coordinator=coordinator,
    )
    if coordinator is not None:
        kept = tuple(
            m for m in report.metrics if m.subject is None or m.subject == str(coordinator)
        )
        report = attrs.evolve(report, metrics=kept)
    return report
