"""One sample of every plan-template record kind, for the PHI walk (tests/test_phi.py),
the plain ``str`` fields of those records that are not PHI, and the diabetes protocol the
template tests share.

A template is protocol data, not about a patient; a :class:`TemplateInstance` belongs to
a patient but holds only ids, keys, versions and a time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from carecoord import (
    CarePlanId,
    CareTeamRole,
    Comparator,
    GoalPriority,
    InterventionKind,
    PatientId,
    Quantity,
    StaffId,
    TaskPriority,
)
from carecoord.model.cadence import CadenceUnit
from carecoord.model.templates import (
    GoalTemplate,
    InterventionTemplate,
    Offset,
    PlanTemplate,
    PlanTemplateId,
    Recurrence,
    TargetTemplate,
    TemplateInstance,
    TemplateKey,
    TemplateLink,
    TemplateMigration,
)

__all__ = ["DIABETES", "TEMPLATE_NOT_PHI", "TEMPLATE_SAMPLES", "diabetes"]

DIABETES = PlanTemplateId("diabetes")


def diabetes(version: int = 1) -> PlanTemplate:
    """Version 1 of a diabetes protocol: an HbA1c goal (< 7.5 % within 6 months), a
    coordinator's call after 1 month, a nurse's monthly check, a social worker's housing
    screen within 14 days (09:00 local), and a quarterly review."""
    return PlanTemplate(
        template_id=DIABETES,
        version=version,
        title="Diabetes management",
        description="Adult type 2 diabetes, first year",
        goals=(
            GoalTemplate(
                TemplateKey("hba1c"),
                "Bring HbA1c below 7.5 %",
                GoalPriority.HIGH,
                (TargetTemplate("HbA1c", Quantity(7.5, "%", Comparator.LT), within=Offset(6)),),
            ),
        ),
        interventions=(
            InterventionTemplate(
                TemplateKey("call"),
                InterventionKind.COMMUNICATION,
                "Follow-up call about medication",
                CareTeamRole.CARE_COORDINATOR,
                due=Offset(months=1),
                goal_keys=(TemplateKey("hba1c"),),
            ),
            InterventionTemplate(
                TemplateKey("check"),
                InterventionKind.MONITORING,
                "Blood glucose log review",
                CareTeamRole.NURSE,
                recurrence=Recurrence(1, CadenceUnit.MONTHS),
                priority=TaskPriority.URGENT,
                goal_keys=(TemplateKey("hba1c"),),
            ),
            InterventionTemplate(
                TemplateKey("housing"),
                InterventionKind.RESOURCE_COORDINATION,
                "Housing screen",
                CareTeamRole.SOCIAL_WORKER,
                due=Offset(days=14, at=time(9)),
            ),
        ),
        review=Recurrence(3, CadenceUnit.MONTHS),
    )


def _instance() -> TemplateInstance:
    at = datetime(2025, 1, 31, 9, tzinfo=ZoneInfo("America/New_York"))
    return TemplateInstance(
        plan_id=CarePlanId("plan-1"),
        patient_id=PatientId("p-1"),
        template_id=DIABETES,
        version=2,
        anchor=at,
        goals=(TemplateLink(TemplateKey("hba1c"), "g-1"),),
        interventions=(TemplateLink(TemplateKey("call"), "i-1"),),
        history=(TemplateMigration(1, 2, at, StaffId("coord")),),
    )


TEMPLATE_SAMPLES: dict[str, Callable[[], Any]] = {
    "PlanTemplate": diabetes,
    "TemplateInstance": _instance,
}
"""A sample of every plan-template record kind, by kind."""

_PROTOCOL = "care protocol data: a template describes no patient"
TEMPLATE_NOT_PHI: dict[str, str] = {
    "TargetTemplate.measure": _PROTOCOL,
    "TemplateLink.item_id": "the id of a goal or intervention",
}
"""``str`` fields of the plan-template records that are not PHI (free text, titles and
descriptions, is kept out of ``repr``)."""
