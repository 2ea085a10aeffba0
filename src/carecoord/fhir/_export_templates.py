"""FHIR R4 export of a plan template as a ``PlanDefinition`` (type ``clinical-protocol``).

Not part of :func:`~carecoord.fhir.export_bundle`: a template is protocol data, not a
patient's record. :func:`plan_definition` writes one version: ``url`` and ``version``
name it (the template id under the carecoord canonical base, the version number), each
goal template is a ``goal`` (``description``, ``priority``, each target's ``measure``,
``detailQuantity`` or ``detailRange`` and ``due`` as a ``Duration``), each intervention
template an ``action`` (``id`` its stable key, or a stable UUID of it when the key
is no FHIR id, ``title``, ``priority``, ``code`` its
kind, ``participant`` its care-team role, ``goalId``, and its timing: ``timingDuration``
after instantiation, or a ``timingTiming`` repeat). Offsets of months and days are
written in the larger unit only when exact (months, else days); a local time of day has
no R4 element and is left out.
"""

from __future__ import annotations

import re
from typing import Any, Final

from ..model.cadence import CadenceUnit
from ..model.templates import InterventionTemplate, Offset, PlanTemplate, Recurrence
from ._common import CODE_SYSTEM_BASE, id_system, stable_uuid

__all__ = ["PLAN_TYPE", "plan_definition"]

PLAN_TYPE: Final = "http://terminology.hl7.org/CodeSystem/plan-definition-type"
"""R4's code system of PlanDefinition types (``clinical-protocol``).

No canonical ``url`` is written: a template is the host's protocol, not a resource
carecoord publishes; the template id travels as an identifier and ``version`` names
the version."""
_GOAL_PRIORITY: Final = "http://terminology.hl7.org/CodeSystem/goal-priority"
_UCUM: Final = "http://unitsofmeasure.org"
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_REPEAT = {
    CadenceUnit.DAYS: (1, "d"),
    CadenceUnit.WEEKS: (1, "wk"),
    CadenceUnit.MONTHS: (1, "mo"),
    CadenceUnit.QUARTERS: (3, "mo"),
    CadenceUnit.YEARS: (1, "a"),
}


def _fhir_id(*parts: str) -> str:
    """``parts`` joined by ``-`` when that is a FHIR id, else a stable UUID of them."""
    text = "-".join(parts)
    return text if _FHIR_ID.fullmatch(text) else stable_uuid("plan-template", *parts)


def _duration(offset: Offset) -> dict[str, Any]:
    if offset.days == 0 and offset.months:
        value, unit = offset.months, "mo"
    else:
        value, unit = offset.months * 30 + offset.days, "d"  # approximate for months + days
    return {"value": value, "unit": unit, "system": _UCUM, "code": unit}


def _timing(recurrence: Recurrence) -> dict[str, Any]:
    factor, unit = _REPEAT[recurrence.unit]
    return {"repeat": {"frequency": 1, "period": recurrence.every * factor, "periodUnit": unit}}


def _quantity(value: float, unit: str, comparator: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"value": value, "unit": unit}
    if comparator is not None:
        found["comparator"] = comparator
    return found


def _action(item: InterventionTemplate) -> dict[str, Any]:
    action: dict[str, Any] = {
        "id": _fhir_id(item.key),
        "title": item.description,
        "priority": item.priority.value,
        "code": [
            {
                "coding": [
                    {"system": CODE_SYSTEM_BASE + "intervention-kind", "code": item.kind.value}
                ]
            }
        ],
        "participant": [
            {
                "type": "practitioner",
                "role": {
                    "coding": [
                        {"system": CODE_SYSTEM_BASE + "care-team-role", "code": item.role.value}
                    ]
                },
            }
        ],
    }
    if item.goal_keys:
        action["goalId"] = [_fhir_id(k) for k in item.goal_keys]
    if item.due is not None:
        action["timingDuration"] = _duration(item.due)
    elif item.recurrence is not None:
        action["timingTiming"] = _timing(item.recurrence)
    return action


def plan_definition(template: PlanTemplate) -> dict[str, Any]:
    """One template version as a FHIR R4 PlanDefinition (a JSON-ready dict, stable)."""
    goals = []
    for goal in template.goals:
        targets = []
        for target in goal.targets:
            entry: dict[str, Any] = {"measure": {"text": target.measure}}
            if target.quantity is not None:
                q = target.quantity
                comparator = None if q.comparator is None else q.comparator.value
                entry["detailQuantity"] = _quantity(q.value, q.unit, comparator)
            elif target.range is not None:
                r = target.range
                entry["detailRange"] = {
                    key: _quantity(value, r.unit)
                    for key, value in (("low", r.low), ("high", r.high))
                    if value is not None
                }
            if target.within is not None:
                entry["due"] = _duration(target.within)
            targets.append(entry)
        found: dict[str, Any] = {
            "id": _fhir_id(goal.key),
            "description": {"text": goal.description},
            "priority": {"coding": [{"system": _GOAL_PRIORITY, "code": goal.priority.value}]},
        }
        if targets:
            found["target"] = targets
        goals.append(found)
    resource: dict[str, Any] = {
        "resourceType": "PlanDefinition",
        "id": _fhir_id(template.template_id, str(template.version)),
        "identifier": [{"system": id_system("plan-template"), "value": str(template.template_id)}],
        "version": str(template.version),
        "title": template.title,
        "type": {"coding": [{"system": PLAN_TYPE, "code": "clinical-protocol"}]},
        "status": "active",
    }
    if template.saved_at is not None:
        resource["date"] = template.saved_at.isoformat()
    if template.description is not None:
        resource["description"] = template.description
    if goals:
        resource["goal"] = goals
    actions = [_action(item) for item in template.interventions]
    if actions:
        resource["action"] = actions
    return resource
