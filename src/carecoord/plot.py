"""Charts for notebooks: a goal's readings against its target, overdue work per coordinator.

Needs matplotlib, the ``plot`` extra (``pip install 'carecoord[plot]'``). It is
imported on the first call, never at import; without it the functions raise
:class:`~carecoord.MissingExtraError` naming the extra.

* :func:`plot_goal` draws a goal's progress readings of one measure as a line,
  its target as a shaded band (a line for an exact target) and its due date as
  a dashed vertical line.
* :func:`plot_overdue_by_coordinator` draws how many worklist items each owner
  has past due, stacked by category.

Both return the matplotlib ``Axes`` they drew on (a new figure unless ``ax=``
is given) so a caller can restyle or save it. Times are shown in the display
zone (:func:`carecoord.display.set_display_zone`; by default the zone of the
values). PHI: the charts show ids, measure codes, units, values and times,
never a goal's description or a patient's details.

An edge module: it imports the model and the pure rules; nothing in carecoord
imports it.
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from types import ModuleType
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from .caseload import Worklist, WorklistCategory, WorklistItem
from .display import compact_date, compact_moment, in_display_zone
from .model import (
    Comparator,
    Goal,
    MissingExtraError,
    PatientGoal,
    ProgressReading,
    Target,
    ValidationError,
    localize,
)
from .model._base import instant

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["UNASSIGNED", "plot_goal", "plot_overdue_by_coordinator"]

UNASSIGNED = "unassigned"
"""The bar label of overdue items that have no owner."""

_FIGSIZE = (8.0, 4.0)


def _matplotlib(*modules: str) -> list[ModuleType]:
    """``matplotlib`` then each of ``modules`` (``"pyplot"``, ...), or MissingExtraError."""
    try:
        importlib.import_module("matplotlib")
        return [importlib.import_module(f"matplotlib.{m}") for m in modules]
    except ImportError as exc:
        raise MissingExtraError("plot", "matplotlib") from exc


def _axes(ax: Axes | None) -> Axes:
    """``ax``, or the axes of a new pyplot figure."""
    if ax is not None:
        return ax
    (pyplot,) = _matplotlib("pyplot")
    _, made = pyplot.subplots(figsize=_FIGSIZE)
    axes: Axes = made
    return axes


# ----------------------------------------------------------------------- goals


def _readings_of(
    goal: Goal | PatientGoal | Iterable[ProgressReading],
) -> tuple[str | None, tuple[Target, ...], tuple[ProgressReading, ...]]:
    """(goal id or None, targets, readings) of what :func:`plot_goal` was given."""
    if isinstance(goal, PatientGoal):
        goal = goal.goal
    if isinstance(goal, Goal):
        return str(goal.id), goal.targets, goal.readings
    if isinstance(goal, str | bytes) or not isinstance(goal, Iterable):
        raise ValidationError("plot_goal needs a Goal, a PatientGoal or progress readings")
    readings = tuple(goal)
    for i, reading in enumerate(readings):
        if not isinstance(reading, ProgressReading):
            raise ValidationError(f"readings[{i}] must be a ProgressReading", field="readings")
    return None, (), readings


def _choose(
    targets: tuple[Target, ...],
    readings: tuple[ProgressReading, ...],
    measure: str | None,
    target: Target | None,
) -> tuple[str | None, Target | None]:
    """The measure to draw and its target (if any)."""
    if target is not None:
        if not isinstance(target, Target):
            raise ValidationError("target must be a Target", field="target")
        if measure is not None and measure != target.measure:
            raise ValidationError("measure and target.measure differ", field="measure")
        return target.measure, target
    if measure is not None:
        return measure, next((t for t in targets if t.measure == measure), None)
    if targets:
        return targets[0].measure, targets[0]
    measures = {r.measure for r in readings}
    if len(measures) > 1:
        raise ValidationError("the readings have several measures: pass measure=", field="measure")
    return (measures.pop() if measures else None), None


def _plot_zone(readings: tuple[ProgressReading, ...], zone: str | tzinfo | None) -> tzinfo:
    """The zone the chart's times are shown in: ``zone``, the display zone, the readings'."""
    sample = readings[0].at if readings else datetime.now(UTC)
    shown = in_display_zone(sample, zone)
    tz = shown.tzinfo
    assert tz is not None  # in_display_zone refuses naive datetimes
    return tz


def _band(target: Target) -> tuple[float | None, float | None]:
    """The target as (low, high) bounds of the values that meet it; ``None`` is open."""
    if target.range is not None:
        return target.range.low, target.range.high
    quantity = target.quantity
    assert quantity is not None  # a Target has exactly one of quantity or range
    match quantity.comparator:
        case Comparator.LT | Comparator.LE:
            return None, quantity.value
        case Comparator.GT | Comparator.GE:
            return quantity.value, None
        case _:
            return quantity.value, quantity.value


def _target_label(target: Target) -> str:
    low, high = _band(target)
    unit = target.unit
    if target.range is not None:
        if low is not None and high is not None:
            return f"target {low:g}-{high:g} {unit}"
        return f"target >= {low:g} {unit}" if low is not None else f"target <= {high:g} {unit}"
    quantity = target.quantity
    assert quantity is not None
    sign = "=" if quantity.comparator is None else quantity.comparator.value
    return f"target {sign} {quantity.value:g} {unit}"


def _y_limits(values: list[float]) -> tuple[float, float]:
    """Limits showing ``values`` with a margin (a unit around a single value)."""
    low, high = min(values), max(values)
    pad = (high - low) * 0.15 if high > low else max(abs(high) * 0.1, 1.0)
    return low - pad, high + pad


def _due_line(due: date, tz: tzinfo) -> datetime:
    """The end of the due date in ``tz``: readings up to then count towards the target."""
    wall = datetime.combine(due + timedelta(days=1), time.min)
    if isinstance(tz, ZoneInfo):
        return localize(wall, tz)
    return wall.replace(tzinfo=tz)


def plot_goal(
    goal: Goal | PatientGoal | Iterable[ProgressReading],
    *,
    measure: str | None = None,
    target: Target | None = None,
    zone: str | tzinfo | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Draw a goal's readings of one measure against its target and due date.

    ``goal`` is a :class:`~carecoord.Goal`, a :class:`~carecoord.PatientGoal`,
    or progress readings (then pass ``target=`` to draw one). The measure is
    ``measure``, else the target's, else the first target's, else the one
    measure of the readings. Drawn: the readings of that measure (and the
    target's unit) as a line with markers (gid ``"readings"``); the values that
    meet the target as a shaded band (gid ``"target-band"``; open bounds reach
    the edge of the plot) or, for an exact target, a line (gid
    ``"target-line"``); the end of the target's due date as a dashed vertical
    line (gid ``"due-date"``). Times are shown in ``zone`` (default: the
    display zone, else the readings' own zone).

    Returns the ``Axes`` (a new figure's unless ``ax`` is given). Raises
    :class:`~carecoord.ValidationError` for a bad argument and
    :class:`~carecoord.MissingExtraError` without matplotlib.
    """
    goal_id, targets, readings = _readings_of(goal)
    chosen, tgt = _choose(targets, readings, measure, target)
    unit = tgt.unit if tgt is not None else None
    mine = sorted(
        (r for r in readings if r.measure == chosen and (unit is None or r.unit == unit)),
        key=lambda r: instant(r.at),
    )
    unit = unit if unit is not None else (mine[0].unit if mine else "")
    tz = _plot_zone(tuple(mine), zone)
    (dates,) = _matplotlib("dates")
    axes = _axes(ax)
    # matplotlib's stubs take numbers; its unit machinery converts datetimes (kept as data)
    xs: list[Any] = [r.at.astimezone(tz) for r in mine]
    ys = [r.value for r in mine]
    if mine:
        axes.plot(xs, ys, marker="o", label=f"{chosen} ({unit})", gid="readings")
    values = list(ys)
    if tgt is not None:
        low, high = _band(tgt)
        values += [v for v in (low, high) if v is not None]
        bottom, top = _y_limits(values)
        if low is not None and low == high:
            axes.axhline(low, color="tab:green", label=_target_label(tgt), gid="target-line")
        else:
            axes.axhspan(
                bottom if low is None else low,
                top if high is None else high,
                color="tab:green",
                alpha=0.15,
                label=_target_label(tgt),
                gid="target-band",
            )
        axes.set_ylim(bottom, top)
        if tgt.due is not None:
            due_at: Any = _due_line(tgt.due, tz)
            axes.axvline(
                due_at,
                color="tab:red",
                linestyle="--",
                label=f"due {compact_date(tgt.due)}",
                gid="due-date",
            )
    locator = dates.AutoDateLocator(tz=tz)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(dates.ConciseDateFormatter(locator, tz=tz))
    axes.set_ylabel(unit)
    name = chosen if chosen is not None else "readings"
    axes.set_title(title if title is not None else (f"{goal_id}: {name}" if goal_id else name))
    if axes.get_legend_handles_labels()[0]:
        axes.legend(loc="best")
    return axes


# -------------------------------------------------------------------- worklists


def plot_overdue_by_coordinator(
    items: Worklist | Iterable[WorklistItem],
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Draw how many items each owner has past due, one bar per owner, stacked by category.

    ``items`` is a :class:`~carecoord.caseload.Worklist` (a supervisor's or a
    team's gathers several owners) or its items. Only overdue items count;
    items without an owner are drawn as :data:`UNASSIGNED`. Owners are sorted
    by their count, largest first (ties by id); each category with overdue
    items is one bar series labelled with the category code. Without overdue
    items the axes say so and hold no bars.

    Returns the ``Axes`` (a new figure's unless ``ax`` is given). Raises
    :class:`~carecoord.ValidationError` for an item that is not a
    :class:`~carecoord.caseload.WorklistItem` and
    :class:`~carecoord.MissingExtraError` without matplotlib.
    """
    found = tuple(items)
    for i, item in enumerate(found):
        if not isinstance(item, WorklistItem):
            raise ValidationError(f"items[{i}] must be a WorklistItem", field="items")
    counts: Counter[tuple[str, WorklistCategory]] = Counter(
        (UNASSIGNED if i.owner_id is None else str(i.owner_id), i.category)
        for i in found
        if i.overdue
    )
    (ticker,) = _matplotlib("ticker")
    axes = _axes(ax)
    totals: Counter[str] = Counter()
    for (owner, _), n in counts.items():
        totals[owner] += n
    owners = sorted(totals, key=lambda o: (-totals[o], o))
    bottoms = [0] * len(owners)
    for category in WorklistCategory:
        heights = [counts[(o, category)] for o in owners]
        if not any(heights):
            continue
        axes.bar(owners, heights, bottom=bottoms, label=category.value, gid=category.value)
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    if owners:
        axes.legend(loc="best", title="category")
        axes.yaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        if len(owners) > 4:
            axes.tick_params(axis="x", labelrotation=30)
    else:
        axes.text(0.5, 0.5, "no overdue items", ha="center", va="center", transform=axes.transAxes)
        axes.set_xticks([])
        axes.set_yticks([])
    axes.set_ylabel("overdue items")
    axes.set_xlabel("owner")
    if title is None:
        title = "Overdue items per owner"
        if isinstance(items, Worklist):
            title += f" as of {compact_moment(items.as_of)}"
    axes.set_title(title)
    return axes
