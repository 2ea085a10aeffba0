"""FHIR R4 PlanDefinition export of plan templates, validated by the ``fhir.resources``
R4B PlanDefinition model (R4B leaves PlanDefinition as in R4) and checked by hand."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings

from _template_samples import diabetes
from carecoord.fhir import plan_definition
from carecoord.model.templates import PlanTemplate
from carecoord.testing.strategies import ENTITY_STRATEGIES


def _valid(resource: dict[str, Any]) -> None:
    from fhir.resources.R4B.plandefinition import PlanDefinition

    text = json.loads(json.dumps(resource))
    PlanDefinition.model_validate(copy.deepcopy(text))


def test_the_diabetes_protocol_is_a_valid_plan_definition() -> None:
    resource = plan_definition(diabetes(2))
    _valid(resource)
    assert (resource["version"], resource["type"]["coding"][0]["code"]) == (
        "2",
        "clinical-protocol",
    )
    assert "url" not in resource  # the host's protocol: carecoord publishes no canonical
    (goal,) = resource["goal"]
    assert goal["target"][0]["detailQuantity"] == {"value": 7.5, "unit": "%", "comparator": "<"}
    assert goal["target"][0]["due"]["value"] == 6 and goal["target"][0]["due"]["code"] == "mo"
    call, check, housing = resource["action"]
    assert call["timingDuration"]["code"] == "mo" and call["goalId"] == ["hba1c"]
    assert check["timingTiming"] == {"repeat": {"frequency": 1, "period": 1, "periodUnit": "mo"}}
    assert housing["timingDuration"]["value"] == 14
    assert housing["participant"][0]["role"]["coding"][0]["code"] == "social-worker"
    assert plan_definition(diabetes(2)) == resource  # stable


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=ENTITY_STRATEGIES[PlanTemplate])
def test_generated_templates_export_valid_plan_definitions(template: PlanTemplate) -> None:
    _valid(plan_definition(template))
