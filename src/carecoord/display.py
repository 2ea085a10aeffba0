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

``to_dataframe()`` needs pandas (the ``dataframe`` extra). Without it,
:class:`MissingExtraError` names the extra to install.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any

from .model import MissingExtraError
from .model._html import (
    age_band,
    care_plan_html,
    care_plan_records,
    html_table,
    patient_html,
    patient_record,
)

__all__ = [
    "MissingExtraError",
    "age_band",
    "care_plan_html",
    "care_plan_records",
    "html_table",
    "patient_html",
    "patient_record",
    "records_to_dataframe",
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
