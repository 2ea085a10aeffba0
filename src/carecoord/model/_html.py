"""PHI-safe HTML and plain records for notebook display (pure: stdlib ``html`` only).

Every value is HTML-escaped. A patient shows as its id, an age band
(``"70-79"``; ages over 89 as ``"90+"``), time zone, language and enrolment
time, never a name, birth date, identifier or contact detail. A plan shows
ids, codes, statuses and dates, never its title or any goal or intervention
description. :class:`~carecoord.Patient` and :class:`~carecoord.CarePlan` call
these from their ``_repr_html_``; :mod:`carecoord.display` re-exports them.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from .people import Patient
    from .plan import CarePlan

__all__ = [
    "age_band",
    "care_plan_html",
    "care_plan_records",
    "html_table",
    "patient_html",
    "patient_record",
]


def _cell(value: object) -> str:
    """One value as escaped HTML text."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return html.escape(value.isoformat(timespec="minutes"))
    if isinstance(value, timedelta):
        return html.escape(f"{value.total_seconds() / 86400:.1f} d")
    if isinstance(value, float):
        return html.escape(f"{value:.4g}")
    return html.escape(str(value))


def html_table(
    records: Sequence[Mapping[str, object]],
    columns: Sequence[str],
    *,
    caption: str | None = None,
) -> str:
    """An HTML table of ``records`` (one row each) with ``columns``; everything is escaped."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(r.get(c))}</td>" for c in columns) + "</tr>" for r in records
    )
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (
        f'<table class="carecoord">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


# ------------------------------------------------------------------ patients


def age_band(birth_date: date, on: date) -> str:
    """A PHI-safe age band: ``"0-17"``, ``"18-29"``, then decades, ``"90+"`` over 89."""
    years = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    if years < 18:
        return "0-17"
    if years < 30:
        return "18-29"
    if years >= 90:
        return "90+"
    low = years - years % 10
    return f"{low}-{low + 9}"


def _today_in(zone: str) -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(zone)).date()


_PATIENT_COLUMNS = ("patient_id", "age_band", "time_zone", "language", "enrolled_at")


def patient_record(patient: Patient, *, on: date | None = None) -> dict[str, object]:
    """A patient as a PHI-safe record: id, age band on ``on`` (default today), zone, language."""
    day = on if on is not None else _today_in(patient.time_zone)
    return {
        "patient_id": str(patient.id),
        "age_band": age_band(patient.birth_date, day),
        "time_zone": patient.time_zone,
        "language": patient.language,
        "enrolled_at": patient.enrolled_at,
    }


def patient_html(patient: Patient, *, on: date | None = None) -> str:
    """A patient as a PHI-safe HTML table (see :func:`patient_record`)."""
    return html_table([patient_record(patient, on=on)], _PATIENT_COLUMNS, caption="Patient")


# --------------------------------------------------------------------- plans

_PLAN_COLUMNS = (
    "plan_id",
    "patient_id",
    "author_id",
    "status",
    "intent",
    "created_at",
    "next_review_at",
)
_GOAL_COLUMNS = ("goal_id", "priority", "lifecycle_status", "achievement_status", "due")
_INTERVENTION_COLUMNS = (
    "intervention_id",
    "kind",
    "status",
    "priority",
    "assignee_id",
    "due_at",
)


def care_plan_records(plan: CarePlan) -> dict[str, list[dict[str, object]]]:
    """A plan as PHI-safe records: ``{"plan": [...], "goals": [...], "interventions": [...]}``."""
    return {
        "plan": [
            {
                "plan_id": str(plan.id),
                "patient_id": str(plan.patient_id),
                "author_id": str(plan.author_id),
                "status": plan.status.value,
                "intent": plan.intent.value,
                "created_at": plan.created_at,
                "next_review_at": plan.next_review_at,
            }
        ],
        "goals": [
            {
                "goal_id": str(g.id),
                "priority": g.priority.value,
                "lifecycle_status": g.lifecycle_status.value,
                "achievement_status": None
                if g.achievement_status is None
                else g.achievement_status.value,
                "due": g.due,
            }
            for g in plan.goals
        ],
        "interventions": [
            {
                "intervention_id": str(i.id),
                "kind": i.kind.value,
                "status": i.status.value,
                "priority": i.priority.value,
                "assignee_id": None if i.assignee_id is None else str(i.assignee_id),
                "due_at": i.due_at,
            }
            for i in plan.interventions
        ],
    }


def care_plan_html(plan: CarePlan) -> str:
    """A plan as PHI-safe HTML: a header table, then its goals and interventions."""
    parts = care_plan_records(plan)
    return "".join(
        (
            html_table(parts["plan"], _PLAN_COLUMNS, caption="Care plan"),
            html_table(parts["goals"], _GOAL_COLUMNS, caption="Goals"),
            html_table(parts["interventions"], _INTERVENTION_COLUMNS, caption="Interventions"),
        )
    )
