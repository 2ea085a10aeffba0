"""The health-concern and patient-goal operations of the audit table (tests/test_service_audit.py).

Operation name -> (call as the allowed actor, call as someone denied). Order
matters: a concern and a goal are recorded before their status changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from carecoord import (
    Goal,
    GoalId,
    HealthConcern,
    HealthConcernId,
    PatientGoal,
    ProgressReading,
    Quantity,
    Target,
)
from carecoord.model import Coding, ConcernCategory
from carecoord.model.codes import Comparator
from carecoord.service import CareCoordinator
from world import OUTSIDER, PATIENT, T0

__all__ = ["CONCERN_OPERATIONS"]

Call = Callable[[CareCoordinator, Any], Any]
CONCERN = HealthConcernId("hc-1")
OWN = GoalId("own-1")


def _concern(n: str) -> HealthConcern:
    return HealthConcern(
        id=HealthConcernId(n),
        patient_id=PATIENT,
        codings=(Coding("http://snomed.info/sct", "733423003"),),
        categories=(ConcernCategory.HEALTH_CONCERN,),
        sdoh_categories=("food-insecurity",),
        recorded_at=T0,
    )


def _goal(n: str) -> PatientGoal:
    return PatientGoal(
        patient_id=PATIENT,
        goal=Goal(
            id=GoalId(n),
            description="Enough food",
            targets=(Target("missed meals", quantity=Quantity(1, "/wk", Comparator.LE)),),
        ),
        concern_ids=(CONCERN,),
    )


def _reading(by: Any) -> ProgressReading:
    return ProgressReading(measure="missed meals", value=2, unit="/wk", at=T0, recorded_by=by)


CONCERN_OPERATIONS: dict[str, tuple[Call, Call | None]] = {
    "record_health_concern": (
        lambda s, a: s.record_health_concern(_concern("hc-1"), actor=a),
        lambda s, a: s.record_health_concern(_concern("hc-2"), actor=OUTSIDER),
    ),
    "set_health_concern_status": (
        lambda s, a: s.set_health_concern_status(CONCERN, "resolved", actor=a, abated_at=T0),
        lambda s, a: s.set_health_concern_status(CONCERN, "active", actor=OUTSIDER),
    ),
    "health_concerns_of": (
        lambda s, a: s.health_concerns_of(PATIENT, actor=a),
        lambda s, a: s.health_concerns_of(PATIENT, actor=OUTSIDER),
    ),
    "record_patient_goal": (
        lambda s, a: s.record_patient_goal(_goal("own-1"), actor=a),
        lambda s, a: s.record_patient_goal(_goal("own-2"), actor=OUTSIDER),
    ),
    "set_patient_goal_status": (
        lambda s, a: s.set_patient_goal_status(OWN, "active", actor=a),
        lambda s, a: s.set_patient_goal_status(OWN, "on-hold", actor=OUTSIDER),
    ),
    "record_patient_goal_progress": (
        lambda s, a: s.record_patient_goal_progress(OWN, _reading(a), actor=a),
        lambda s, a: s.record_patient_goal_progress(OWN, _reading(OUTSIDER), actor=OUTSIDER),
    ),
    "revise_patient_goal": (
        lambda s, a: s.revise_patient_goal(OWN, actor=a, reason="clarification", description="Eat"),
        lambda s, a: s.revise_patient_goal(OWN, actor=OUTSIDER, reason="other", description="x"),
    ),
    "patient_goals_of": (
        lambda s, a: s.patient_goals_of(PATIENT, actor=a),
        lambda s, a: s.patient_goals_of(PATIENT, actor=OUTSIDER),
    ),
}
