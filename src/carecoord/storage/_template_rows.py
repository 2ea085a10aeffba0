"""The plan-template record kinds and their index rows (registered in :mod:`.records`).

Pure: imports only the model. "The latest version of template T" and "the plans on
version N of template T" are one indexed query each, never a scan:

=====================  ================  ==================================================
category               ``owner_id``      row
=====================  ================  ==================================================
``plan-template``      the template id   one per saved version: ``item_id`` the record id,
                                         ``priority`` the version (so the latest comes
                                         first), ``status`` the version, ``changed_at``
                                         when it was saved
``template-instance``  the template id   one per plan made from the template: ``item_id``
                                         the plan, ``patient_id``, ``status`` the version
                                         the plan is on (``priority`` too),
                                         ``changed_at`` the anchor
=====================  ================  ==================================================
"""

from __future__ import annotations

from typing import Any

from ..model.templates import PlanTemplate, TemplateInstance
from .port import IndexRow

__all__ = [
    "TEMPLATE_CATEGORY",
    "TEMPLATE_INSTANCE",
    "TEMPLATE_RECORD_TYPES",
    "template_rows",
]

TEMPLATE_RECORD_TYPES: tuple[type[Any], ...] = (PlanTemplate, TemplateInstance)
"""The plan-template record kinds (part of :data:`~carecoord.storage.RECORD_TYPES`)."""

TEMPLATE_CATEGORY = "plan-template"
"""The index category of a template version's row."""
TEMPLATE_INSTANCE = "template-instance"
"""The index category of a plan's template-instance row."""


def template_rows(record: object) -> tuple[IndexRow, ...]:
    """The index rows of a plan-template record (empty for any other record)."""
    match record:
        case PlanTemplate():
            return (
                IndexRow(
                    category=TEMPLATE_CATEGORY,
                    item_id=record.id,
                    patient_id=None,
                    owner_id=str(record.template_id),
                    status=str(record.version),
                    is_open=True,
                    priority=record.version,
                    changed_at=record.saved_at,
                ),
            )
        case TemplateInstance():
            return (
                IndexRow(
                    category=TEMPLATE_INSTANCE,
                    item_id=str(record.plan_id),
                    patient_id=str(record.patient_id),
                    owner_id=str(record.template_id),
                    status=str(record.version),
                    is_open=True,
                    priority=record.version,
                    changed_at=record.anchor,
                ),
            )
        case _:
            return ()
