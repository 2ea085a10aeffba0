"""Deprecated: use :mod:`carecoord.caseload` (the one worklist API).

``WorkItem`` is now :class:`carecoord.caseload.DueIntervention`; the pure
``interventions_due(plans, ...)``, which decodes whole plans, is replaced by
:meth:`CareCoordinator.interventions_due <carecoord.CareCoordinator.interventions_due>`
and :meth:`CareCoordinator.worklist <carecoord.CareCoordinator.worklist>`, which
read index rows. Both names still work here for one minor version, with a
``DeprecationWarning``; they will be removed in 0.3.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from .caseload import DueIntervention as _WorkItem
from .model import CarePlan, StaffId
from .model._base import ensure_aware

__all__: list[str] = []

_MOVED = {
    "WorkItem": "carecoord.caseload.DueIntervention",
    "interventions_due": "CareCoordinator.interventions_due or CareCoordinator.worklist",
}


def __getattr__(name: str) -> Any:
    """The deprecated names, with a ``DeprecationWarning`` naming their replacement."""
    if name not in _MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(
        f"carecoord.worklist.{name} is deprecated; use {_MOVED[name]}",
        DeprecationWarning,
        stacklevel=2,
    )
    return _WorkItem if name == "WorkItem" else _interventions_due


def _interventions_due(
    plans: Iterable[CarePlan], assignee_id: StaffId, now: datetime, *, until: datetime | None = None
) -> list[_WorkItem]:
    """Open interventions of ``assignee_id`` due by ``until`` (default: ``now``), most urgent first.

    Urgency is priority (stat first), then how late (earliest due first).
    Interventions without a due time are listed after those with one.
    """
    ensure_aware(now, "now")
    horizon = ensure_aware(until, "until") if until is not None else now
    items: list[_WorkItem] = []
    for plan in plans:
        for item in plan.interventions:
            due = item.due_at
            if item.assignee_id != assignee_id or not item.is_open:
                continue
            if due is not None and due > horizon:
                continue
            items.append(_WorkItem(plan.patient_id, plan.id, item, item.is_overdue(now)))
    return sorted(
        items,
        key=lambda w: (
            -w.priority.rank,
            w.intervention.due_at is None,
            w.intervention.due_at.timestamp() if w.intervention.due_at else 0.0,
        ),
    )
