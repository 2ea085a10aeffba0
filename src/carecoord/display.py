"""Notebook display and tabular export: HTML tables, plain records, pandas frames.

Design: the PHI-safe HTML renderers are pure functions of the model
(``carecoord.model._html``, re-exported here); :class:`~carecoord.Patient` and
:class:`~carecoord.CarePlan` call them from their own ``_repr_html_``.
:class:`~carecoord.caseload.Worklist` and the metric value objects
(:mod:`carecoord.metrics`) use the same helpers for their ``_repr_html_``,
``to_records()`` and ``to_dataframe()``.

PHI: a patient shows as its id, an age band (``"70-79"``; ages over 89 are
shown as ``"90+"``), time zone and language; never a name, birth date,
identifier or contact detail. A plan shows ids, codes, statuses and dates,
never its title or any goal or intervention description.

Times in the HTML tables show compactly (``"Tue 1 Dec 14:05"``) in the
display zone: by default each value's own zone (a worklist's times are
already in the viewer's zone); :func:`set_display_zone` (or the
:func:`display_zone` context manager) chooses one zone for every table,
``"local"`` meaning the zone of the machine running the notebook. Records and
data frames keep the datetimes unchanged.

``to_dataframe()`` needs pandas (the ``dataframe`` extra). Without it,
:class:`MissingExtraError` names the extra to install.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from .model import MissingExtraError
from .model._html import (
    age_band,
    care_plan_html,
    care_plan_records,
    compact_date,
    compact_moment,
    display_zone,
    get_display_zone,
    html_table,
    in_display_zone,
    patient_html,
    patient_record,
    set_display_zone,
)

__all__ = [
    "MissingExtraError",
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
    "records_to_dataframe",
    "set_display_zone",
]


def records_to_dataframe(records: Sequence[Mapping[str, object]], columns: Sequence[str]) -> Any:
    """A ``pandas.DataFrame`` of ``records`` with ``columns`` (kept even when empty).

    Raises :class:`MissingExtraError` naming the ``dataframe`` extra when pandas
    is not installed.
    """
    try:
        pandas = importlib.import_module("pandas")
    except ImportError as exc:
        raise MissingExtraError("dataframe", "pandas") from exc
    return pandas.DataFrame.from_records(list(records), columns=list(columns))


def lateness_text(late_by: timedelta | None) -> str:
    """How late something is, as a coordinator reads it; ``""`` when not late or undated.

    Under an hour in minutes (``"40 min late"``, at least 1), under two days in
    hours (``"22 h late"``), else in days (``"3 d late"``); always rounded down.
    """
    if late_by is None or late_by <= timedelta(0):
        return ""
    if late_by < timedelta(hours=1):
        return f"{max(1, late_by // timedelta(minutes=1))} min late"
    if late_by < timedelta(days=2):
        return f"{late_by // timedelta(hours=1)} h late"
    return f"{late_by.days} d late"
