"""PHI-safe HTML and plain records for notebook display (pure: stdlib ``html`` only).

Every value is HTML-escaped. A patient shows as its id, an age band
(``"70-79"``; ages over 89 as ``"90+"``), time zone, language and enrolment
time, never a name, birth date, identifier or contact detail. A plan shows
ids, codes, statuses and dates, never its title or any goal or intervention
description. :class:`~carecoord.Patient` and :class:`~carecoord.CarePlan` call
these from their ``_repr_html_``; :mod:`carecoord.display` re-exports them.

Times are shown compactly (``"Tue 1 Dec 14:05"``; the year only when it is
not the current one) in the *display zone*: the zone chosen with
:func:`set_display_zone` or :func:`display_zone` (``"local"`` for the zone of
the machine running the notebook), or by default each value's own zone. The
full timestamp is the cell's tooltip, and the table's caption names the zones
shown. Records and data frames keep the datetimes themselves.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ._errors import NaiveDatetimeError, ValidationError

if TYPE_CHECKING:
    from .people import Patient
    from .plan import CarePlan

__all__ = [
    "age_band",
    "care_plan_html",
    "care_plan_records",
    "compact_date",
    "compact_moment",
    "display_zone",
    "get_display_zone",
    "html_table",
    "in_display_zone",
    "patient_html",
    "patient_record",
    "set_display_zone",
]

# ------------------------------------------------------------- display zone

LOCAL: Final = "local"
"""The display-zone name that means the zone of the machine running the code."""

_DisplayZone = tzinfo | Literal["local"] | None
# a display zone: a tzinfo (usually a ZoneInfo), "local", or None (each value's own zone)

_zone: _DisplayZone = None

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _as_zone(zone: str | tzinfo | None) -> _DisplayZone:
    """``zone`` checked: an IANA name or ``"local"``, a ``tzinfo``, or ``None``."""
    if zone is None or isinstance(zone, tzinfo):
        return zone
    if not isinstance(zone, str):
        raise ValidationError("display zone must be an IANA zone name, a tzinfo or None")
    if zone == LOCAL:
        return LOCAL
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError("display zone is not a known IANA time zone") from None


def set_display_zone(zone: str | tzinfo | None) -> None:
    """Show times in ``zone`` from now on (process-wide, like a notebook setting).

    ``zone``: an IANA name (``"Europe/Paris"``), a ``tzinfo``, ``"local"`` (the
    zone of the machine running the code), or ``None`` to go back to the
    default (each value in its own zone). An unknown name raises
    :class:`~carecoord.ValidationError` and changes nothing.
    """
    global _zone
    _zone = _as_zone(zone)


def get_display_zone() -> _DisplayZone:
    """The display zone in force: a ``tzinfo``, ``"local"``, or ``None`` (each value's own)."""
    return _zone


@contextmanager
def display_zone(zone: str | tzinfo | None) -> Iterator[_DisplayZone]:
    """Show times in ``zone`` inside a ``with`` block; the previous zone comes back after it.

    Takes what :func:`set_display_zone` takes and yields the checked zone.
    """
    global _zone
    checked = _as_zone(zone)
    before, _zone = _zone, checked
    try:
        yield checked
    finally:
        _zone = before


def in_display_zone(value: datetime, zone: str | tzinfo | None = None) -> datetime:
    """``value`` converted to ``zone`` (default: the display zone in force).

    With neither (the default display zone ``None``) the value keeps its own
    zone. A naive datetime raises :class:`~carecoord.NaiveDatetimeError`.
    """
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise NaiveDatetimeError("a displayed datetime must be timezone-aware (got a naive one)")
    target = _zone if zone is None else _as_zone(zone)
    if target is None:
        return value
    if isinstance(target, str):  # "local"
        return value.astimezone()
    return value.astimezone(target)


def _zone_label(value: datetime) -> str:
    """The name of ``value``'s zone: the IANA key, else its abbreviation."""
    tz = value.tzinfo
    if isinstance(tz, ZoneInfo):
        return tz.key
    if tz is UTC:
        return "UTC"
    return value.tzname() or value.strftime("%z")


def _this_year(shown: datetime) -> int:
    return datetime.now(UTC).astimezone(shown.tzinfo).year


def compact_date(value: date, *, this_year: int | None = None) -> str:
    """A date as ``"Tue 1 Dec"``, with the year when it is not ``this_year`` (default: today's)."""
    year = datetime.now(UTC).year if this_year is None else this_year
    text = f"{_DAYS[value.weekday()]} {value.day} {_MONTHS[value.month - 1]}"
    return text if value.year == year else f"{text} {value.year}"


def compact_moment(
    value: datetime, zone: str | tzinfo | None = None, *, this_year: int | None = None
) -> str:
    """A moment as ``"Tue 1 Dec 14:05"`` in ``zone`` (default: the display zone in force).

    The year is shown only when it is not ``this_year`` (default: the current
    year in that zone): ``"Fri 1 Jan 2027 09:00"``. See :func:`in_display_zone`.
    """
    shown = in_display_zone(value, zone)
    year = _this_year(shown) if this_year is None else this_year
    return f"{compact_date(shown.date(), this_year=year)} {shown:%H:%M}"


# -------------------------------------------------------------------- tables


def _cell(value: object, zones: set[str]) -> str:
    """One value as an escaped HTML cell; the zone of a shown time is added to ``zones``."""
    if value is None:
        return "<td></td>"
    if isinstance(value, datetime):
        shown = in_display_zone(value)
        zones.add(_zone_label(shown))
        full = html.escape(shown.isoformat(timespec="minutes"))
        return f'<td title="{full}">{html.escape(compact_moment(shown, shown.tzinfo))}</td>'
    if isinstance(value, date):
        return f'<td title="{value.isoformat()}">{html.escape(compact_date(value))}</td>'
    if isinstance(value, timedelta):
        text = f"{value.total_seconds() / 86400:.1f} d"
    elif isinstance(value, float):
        text = f"{value:.4g}"
    else:
        text = str(value)
    return f"<td>{html.escape(text)}</td>"


def html_table(
    records: Sequence[Mapping[str, object]],
    columns: Sequence[str],
    *,
    caption: str | None = None,
) -> str:
    """An HTML table of ``records`` (one row each) with ``columns``; everything is escaped.

    Datetimes show compactly in the display zone (see :func:`compact_moment`)
    with the full timestamp as the tooltip; the caption then ends with the
    zone(s) shown (``"times in America/Chicago"``). Dates show as ``"Tue 1 Dec"``.
    """
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    zones: set[str] = set()
    body = "".join(
        "<tr>" + "".join(_cell(r.get(c), zones) for c in columns) + "</tr>" for r in records
    )
    if zones:
        note = "times in " + ", ".join(sorted(zones))
        caption = f"{caption} ({note})" if caption else note[0].upper() + note[1:]
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
