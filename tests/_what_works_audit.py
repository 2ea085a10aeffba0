"""The "what works" operations of the audit table (tests/test_service_audit.py).

Operation name -> (call as the allowed actor, call as someone denied). Every one is a
report needing the staff-wide ``view-metrics`` permission, which a medical assistant
lacks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from carecoord.model.programs import CareProgram, CareProgramId, Criterion, Eligibility
from carecoord.service import CareCoordinator
from carecoord.storage import UnitOfWork
from world import COORD, MA, T0

__all__ = ["AUDIT_PROGRAM", "WHAT_WORKS_OPERATIONS", "seed_program"]

Call = Callable[[CareCoordinator, Any], Any]
AUDIT_PROGRAM = CareProgramId("audit-what-works")


def seed_program(service: CareCoordinator, program: CareProgramId = AUDIT_PROGRAM) -> None:
    """A care program written straight to the store (no audit entry)."""
    with UnitOfWork(service.store) as uow:
        if uow.find(CareProgram, program) is None:
            uow.add(
                CareProgram(
                    id=program,
                    name="Diabetes management",
                    owner_id=COORD,
                    eligibility=Eligibility(all_of=(Criterion.condition("E11"),)),
                )
            )


def _program_metrics(service: CareCoordinator, actor: Any) -> Any:
    seed_program(service)
    return service.program_metrics(AUDIT_PROGRAM, T0 - timedelta(days=30), T0, actor=actor)


WHAT_WORKS_OPERATIONS: dict[str, tuple[Call, Call | None]] = {
    "resource_metrics": (
        lambda s, a: s.resource_metrics(T0 - timedelta(days=30), T0, actor=a),
        lambda s, a: s.resource_metrics(T0 - timedelta(days=30), T0, actor=MA),
    ),
    "program_metrics": (_program_metrics, lambda s, a: _program_metrics(s, MA)),
    "metric_series": (
        lambda s, a: s.metric_series(date(2026, 9, 1), date(2026, 11, 1), "UTC", actor=a),
        lambda s, a: s.metric_series(date(2026, 9, 1), date(2026, 11, 1), "UTC", actor=MA),
    ),
}
