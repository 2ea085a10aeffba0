"""Pure worklist rules over model objects (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import attrs

from .model import CarePlan, CarePlanId, Intervention, PatientId, StaffId, TaskPriority
from .model._base import ensure_aware

__all__ = ["WorkItem", "interventions_due"]


@attrs.frozen
class WorkItem:
    """One open intervention on somebody's worklist (identifiers only, no PHI)."""

    patient_id: PatientId
    plan_id: CarePlanId
    intervention: Intervention
    overdue: bool

    @property
    def priority(self) -> TaskPriority:
        """The intervention's priority."""
        return self.intervention.priority


def interventions_due(
    plans: Iterable[CarePlan], assignee_id: StaffId, now: datetime, *, until: datetime | None = None
) -> list[WorkItem]:
    """Open interventions of ``assignee_id`` due by ``until`` (default: ``now``), most urgent first.

    Urgency is priority (stat first), then how late (earliest due first).
    Interventions without a due time are listed after those with one.
    """
    ensure_aware(now, "now")
    horizon = ensure_aware(until, "until") if until is not None else now
    items: list[WorkItem] = []
    for plan in plans:
        for item in plan.interventions:
            due = item.due_at
            if item.assignee_id != assignee_id or not item.is_open:
                continue
            if due is not None and due > horizon:
                continue
            items.append(WorkItem(plan.patient_id, plan.id, item, item.is_overdue(now)))
    return sorted(
        items,
        key=lambda w: (
            -w.priority.rank,
            w.intervention.due_at is None,
            w.intervention.due_at.timestamp() if w.intervention.due_at else 0.0,
        ),
    )
