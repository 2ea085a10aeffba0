"""The plan-template operations of the audit table (tests/test_service_audit.py).

Operation name -> (call as the allowed actor, call as someone denied, or None when every
active staff member may call it). Order matters: later calls use what earlier ones made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from _template_samples import DIABETES, diabetes
from carecoord import CarePlanId
from carecoord.service import CareCoordinator
from world import NURSE, OUTSIDER, PATIENT

__all__ = ["TEMPLATE_OPERATIONS"]

Call = Callable[[CareCoordinator, Any], Any]
AUDIT_PLAN = CarePlanId("audit-template-plan")

TEMPLATE_OPERATIONS: dict[str, tuple[Call, Call | None]] = {
    "save_template": (
        lambda s, a: s.save_template(diabetes(1), actor=a),
        lambda s, a: s.save_template(diabetes(2), actor=NURSE),
    ),
    "plan_template": (lambda s, a: s.plan_template(DIABETES, actor=a), None),
    "instantiate_template": (
        lambda s, a: s.instantiate_template(PATIENT, DIABETES, plan_id=AUDIT_PLAN, actor=a),
        lambda s, a: s.instantiate_template(
            PATIENT, DIABETES, plan_id=CarePlanId("other"), actor=OUTSIDER
        ),
    ),
    # every active staff member may ask; plans they may not read are only counted
    "preview_template_migration": (
        lambda s, a: s.preview_template_migration(DIABETES, actor=a),
        None,
    ),
    "apply_template_migration": (
        lambda s, a: s.apply_template_migration(AUDIT_PLAN, actor=a),
        lambda s, a: s.apply_template_migration(AUDIT_PLAN, actor=OUTSIDER),
    ),
}
