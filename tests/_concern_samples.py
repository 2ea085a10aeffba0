"""One sample of each record kept outside a care plan, for the PHI walk (tests/test_phi.py).

A health concern with its text, codings (with displays), the source's
identifiers and a recorder another system holds (with a display), and a
patient's own goal (revised once): the PHI test plants its marker in every hidden field of
them and checks that it never shows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from carecoord import (
    Goal,
    GoalId,
    HealthConcern,
    HealthConcernId,
    Identifier,
    PatientGoal,
    PatientId,
    StaffId,
)
from carecoord.model import Coding, ConcernCategory, ExternalRef

__all__ = ["CONCERN_SAMPLES"]

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=ZoneInfo("America/New_York"))
PATIENT = PatientId("patient-1")


def _concern() -> HealthConcern:
    return HealthConcern(
        id=HealthConcernId("hc-1"),
        patient_id=PATIENT,
        codings=(Coding("http://snomed.info/sct", "733423003", "Food insecurity"),),
        text="Skips meals at the end of the month",
        categories=(ConcernCategory.HEALTH_CONCERN,),
        sdoh_categories=("food-insecurity",),
        onset=T0,
        recorded_at=T0,
        recorder=ExternalRef(reference="PractitionerRole/r-1", display="Dr Water"),
        asserted_by=StaffId("staff-1"),
        identifiers=(Identifier("https://ehr.example.org/condition", "C-77"),),
    )


def _goal() -> PatientGoal:
    return PatientGoal(
        patient_id=PATIENT,
        goal=Goal(id=GoalId("own-1"), description="Enough food").revise(
            by=StaffId("staff-1"),
            at=T0,
            reason="clarification",
            description="Enough food every day",
            reason_text="Said so at the visit",
        ),
        concern_ids=(HealthConcernId("hc-1"),),
        expressed_by_patient=True,
        identifiers=(Identifier("https://ehr.example.org/goal", "G-5"),),
    )


CONCERN_SAMPLES: dict[str, Callable[[], Any]] = {
    "HealthConcern": _concern,
    "PatientGoal": _goal,
}
