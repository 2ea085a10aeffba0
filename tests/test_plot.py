"""The plot helpers (``carecoord.plot``): what they draw, checked on the Agg backend."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from carecoord import (
    CareCoordError,
    Comparator,
    Goal,
    GoalId,
    MissingExtraError,
    PatientGoal,
    PatientId,
    ProgressReading,
    Quantity,
    Range,
    StaffId,
    Target,
    ValidationError,
    Worklist,
    WorklistCategory,
)
from carecoord.caseload import WorklistItem, work_item
from carecoord.display import display_zone
from carecoord.plot import UNASSIGNED, plot_goal, plot_overdue_by_coordinator

CHI = ZoneInfo("America/Chicago")
TOKYO = ZoneInfo("Asia/Tokyo")
T0 = datetime(2026, 9, 1, 9, tzinfo=CHI)
DUE = date(2027, 2, 21)
SECRET = "ZZSECRET42"
NURSE = StaffId("nurse")


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def reading(value: float, days: int, measure: str = "hba1c", unit: str = "%") -> ProgressReading:
    return ProgressReading(
        measure=measure, value=value, unit=unit, at=T0 + timedelta(days=days), recorded_by=NURSE
    )


def goal(*targets: Target, values: tuple[float, ...] = (8.9, 8.4, 7.9, 7.2)) -> Goal:
    made = Goal(id=GoalId("goal-1"), description=f"{SECRET} description", targets=targets)
    for i, value in enumerate(values):
        made = made.with_reading(reading(value, 30 * i))
    return made


def below_7() -> Target:
    return Target(measure="hba1c", quantity=Quantity(7.0, "%", Comparator.LT), due=DUE)


def by_gid(ax: Axes, gid: str) -> list[Any]:
    return [a for a in (*ax.get_lines(), *ax.patches) if a.get_gid() == gid]


def band(ax: Axes) -> tuple[float, float]:
    (patch,) = by_gid(ax, "target-band")
    assert isinstance(patch, Rectangle)
    return patch.get_y(), patch.get_y() + patch.get_height()


def new_axes() -> Axes:
    return Figure().subplots()


# ------------------------------------------------------------------------ goals


def test_goal_readings_band_and_due_date() -> None:
    ax = plot_goal(goal(below_7()))
    (line,) = by_gid(ax, "readings")
    assert list(line.get_xdata()) == [T0 + timedelta(days=30 * i) for i in range(4)]
    assert list(line.get_ydata()) == [8.9, 8.4, 7.9, 7.2]
    low, high = band(ax)
    bottom, top = ax.get_ylim()
    assert high == pytest.approx(7.0)  # "< 7 %": the band ends at 7
    assert low == pytest.approx(bottom)  # open below: it reaches the edge
    assert bottom < 7.0 and top > 8.9  # everything drawn is in view
    (due,) = by_gid(ax, "due-date")
    # the end of the due date in the readings' zone: readings until then count
    assert list(due.get_xdata()) == [datetime(2027, 2, 22, tzinfo=CHI)] * 2
    assert due.get_linestyle() == "--"
    labels = ax.get_legend_handles_labels()[1]
    assert labels == ["hba1c (%)", "target < 7 %", "due Sun 21 Feb 2027"]
    assert ax.get_title() == "goal-1: hba1c"
    assert ax.get_ylabel() == "%"


def test_goal_chart_shows_no_free_text() -> None:
    ax = plot_goal(goal(below_7()))
    texts = [ax.get_title(), ax.get_ylabel(), *ax.get_legend_handles_labels()[1]]
    assert all(SECRET not in t for t in texts)


def test_range_target_band_is_the_range() -> None:
    target = Target(measure="hba1c", range=Range(low=6.0, high=7.5, unit="%"))
    ax = plot_goal(goal(target))
    low, high = band(ax)
    assert (low, high) == (6.0, 7.5)
    assert not by_gid(ax, "due-date")  # no due date, no line
    assert "target 6-7.5 %" in ax.get_legend_handles_labels()[1]


def test_open_range_and_greater_than_reach_the_top() -> None:
    for target in (
        Target(measure="hba1c", range=Range(low=7.5, unit="%")),
        Target(measure="hba1c", quantity=Quantity(7.5, "%", Comparator.GE)),
    ):
        ax = plot_goal(goal(target), ax=new_axes())
        low, high = band(ax)
        assert low == pytest.approx(7.5)
        assert high == pytest.approx(ax.get_ylim()[1])


def test_exact_target_is_a_line() -> None:
    ax = plot_goal(goal(Target(measure="hba1c", quantity=Quantity(7.0, "%"))))
    assert not by_gid(ax, "target-band")
    (line,) = by_gid(ax, "target-line")
    assert list(line.get_ydata()) == [7.0, 7.0]


def test_only_the_measure_and_unit_of_the_target_are_drawn() -> None:
    weight = Target(measure="weight", quantity=Quantity(80.0, "kg", Comparator.LE))
    g = goal(below_7(), weight).with_reading(reading(92.0, 5, "weight", "kg"))
    (line,) = by_gid(plot_goal(g), "readings")
    assert list(line.get_ydata()) == [8.9, 8.4, 7.9, 7.2]
    (line,) = by_gid(plot_goal(g, measure="weight", ax=new_axes()), "readings")
    assert list(line.get_ydata()) == [92.0]


def test_patient_goal_and_plain_readings() -> None:
    g = goal(below_7(), values=(8.0, 7.5))
    held = PatientGoal(patient_id=PatientId("p-1"), goal=g)
    (line,) = by_gid(plot_goal(held), "readings")
    assert list(line.get_ydata()) == [8.0, 7.5]
    # readings out of order are drawn in time order; a target may be passed
    ax = plot_goal([reading(7.5, 10), reading(8.0, 0)], target=below_7(), ax=new_axes())
    (line,) = by_gid(ax, "readings")
    assert list(line.get_ydata()) == [8.0, 7.5]
    assert band(ax)[1] == pytest.approx(7.0)
    assert ax.get_title() == "hba1c"


def test_readings_of_several_measures_need_a_measure() -> None:
    mixed = [reading(7.5, 0), reading(92.0, 1, "weight", "kg")]
    with pytest.raises(ValidationError, match="several measures"):
        plot_goal(mixed)
    (line,) = by_gid(plot_goal(mixed, measure="weight"), "readings")
    assert list(line.get_ydata()) == [92.0]


def test_bad_arguments_are_validation_errors() -> None:
    with pytest.raises(ValidationError):
        plot_goal("hba1c")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"readings\[1\]"):
        plot_goal([reading(7.0, 0), 7.0])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="differ"):
        plot_goal(goal(below_7()), measure="weight", target=below_7())


def test_times_in_the_chosen_zone() -> None:
    ax = plot_goal(goal(below_7()), zone="Asia/Tokyo")
    (line,) = by_gid(ax, "readings")
    first = line.get_xdata()[0]
    assert first.tzinfo == TOKYO and first == T0
    (due,) = by_gid(ax, "due-date")
    assert due.get_xdata()[0] == datetime(2027, 2, 22, tzinfo=TOKYO)  # Tokyo's end of the day
    with display_zone("Asia/Tokyo"):
        ax = plot_goal(goal(below_7()), ax=new_axes())
    assert by_gid(ax, "readings")[0].get_xdata()[0].tzinfo == TOKYO
    with pytest.raises(ValidationError):
        plot_goal(goal(below_7()), zone="Mars/Olympus")


def test_given_axes_are_drawn_on() -> None:
    ax = new_axes()
    before = plt.get_fignums()
    assert plot_goal(goal(below_7()), ax=ax) is ax
    assert plot_overdue_by_coordinator([], ax=ax) is ax
    assert plt.get_fignums() == before  # no pyplot figure made


def test_a_goal_without_readings_still_shows_its_target() -> None:
    ax = plot_goal(goal(below_7(), values=()))
    assert not by_gid(ax, "readings")
    assert band(ax)[1] == pytest.approx(7.0)
    assert by_gid(ax, "due-date")


# -------------------------------------------------------------------- worklists

NOW = datetime(2026, 12, 1, 14, 5, tzinfo=CHI)


def item(owner: str | None, category: WorklistCategory, late_hours: int, n: int) -> WorklistItem:
    return work_item(
        category,
        patient_id=f"p-{n}",
        item_id=f"i-{n}",
        record_id=f"r-{n}",
        status="open",
        now=NOW,
        due=NOW - timedelta(hours=late_hours),
        owner_id=owner,
    )


def drawn(ax: Axes) -> dict[tuple[str, str], int]:
    """(owner, category) -> bar height, from the bars on ``ax``."""
    owners = [t.get_text() for t in ax.get_xticklabels()]
    found: dict[tuple[str, str], int] = {}
    for container in ax.containers:
        assert isinstance(container, BarContainer)
        for owner, bar in zip(owners, container.patches, strict=True):
            if bar.get_height():
                found[(owner, str(container.get_label()))] = int(bar.get_height())
    return found


def test_overdue_per_owner_stacked_by_category() -> None:
    items = [
        item("ma", WorklistCategory.INTERVENTION, 30, 1),
        item("ma", WorklistCategory.INTERVENTION, 2, 2),
        item("ma", WorklistCategory.REVIEW, 50, 3),
        item("nurse", WorklistCategory.BARRIER, 1, 4),
        item(None, WorklistCategory.BARRIER, 1, 5),
        item("coord", WorklistCategory.INTERVENTION, -5, 6),  # not yet due: not drawn
    ]
    worklist = Worklist(staff_id=StaffId("coord"), as_of=NOW, items=tuple(items))
    ax = plot_overdue_by_coordinator(worklist)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["ma", "nurse", UNASSIGNED]
    assert drawn(ax) == {
        ("ma", "intervention"): 2,
        ("ma", "review"): 1,
        ("nurse", "barrier"): 1,
        (UNASSIGNED, "barrier"): 1,
    }
    # stacked: the review bar of "ma" sits on its interventions
    review = next(c for c in ax.containers if c.get_label() == "review")
    assert isinstance(review, BarContainer)
    assert review.patches[0].get_y() == 2
    assert ax.get_title() == "Overdue items per owner as of Tue 1 Dec 14:05"


def test_no_overdue_items() -> None:
    ax = plot_overdue_by_coordinator([item("ma", WorklistCategory.REVIEW, -1, 1)])
    assert not ax.containers
    assert [t.get_text() for t in ax.texts] == ["no overdue items"]


def test_only_worklist_items() -> None:
    with pytest.raises(ValidationError, match=r"items\[0\]"):
        plot_overdue_by_coordinator(["ma"])  # type: ignore[list-item]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", None]),
            st.sampled_from(list(WorklistCategory)),
            st.integers(-48, 48),
        ),
        max_size=25,
    )
)
def test_bars_count_the_overdue_items(rows: list[tuple[str | None, WorklistCategory, int]]) -> None:
    items = [item(owner, cat, late, n) for n, (owner, cat, late) in enumerate(rows)]
    expected = Counter(
        (UNASSIGNED if owner is None else owner, cat.value) for owner, cat, late in rows if late > 0
    )
    ax = plot_overdue_by_coordinator(items, ax=new_axes())
    assert drawn(ax) == dict(expected)
    totals: Counter[str] = Counter()
    for (owner, _), n in expected.items():
        totals[owner] += n
    assert [t.get_text() for t in ax.get_xticklabels()] == sorted(
        totals, key=lambda o: (-totals[o], o)
    )


# ------------------------------------------------------------ the missing extra


def test_missing_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    draws: list[Callable[[], Axes]] = [
        lambda: plot_goal(goal(below_7())),
        lambda: plot_overdue_by_coordinator([]),
    ]
    for draw in draws:
        with pytest.raises(MissingExtraError) as caught:
            draw()
        assert caught.value.extra == "plot"
        assert caught.value.module == "matplotlib"
        assert "carecoord[plot]" in str(caught.value)
        assert isinstance(caught.value, ImportError)
        assert isinstance(caught.value, CareCoordError)
    # bad input is still reported as such without matplotlib
    with pytest.raises(ValidationError):
        plot_overdue_by_coordinator([1])  # type: ignore[list-item]
