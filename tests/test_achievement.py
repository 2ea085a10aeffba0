"""derive_achievement and Goal.derived_achievement: hand-computed cases for every status.

The documented rules (model/goals.py): per target, readings of the same measure
and unit in time order; no reading -> in-progress (not-achieved once overdue);
latest meets -> achieved (sustaining when the one before met too); overdue ->
not-achieved; one missing reading -> in-progress; else the last two gaps give
improving / worsening / no-change. Targets combine to the worst of
not-achieved, worsening, no-change, in-progress, improving, achieved, sustaining.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carecoord import (
    Comparator,
    Goal,
    GoalAchievementStatus,
    GoalId,
    ProgressReading,
    Quantity,
    Range,
    StaffId,
    Target,
    ValidationError,
)
from carecoord.model import derive_achievement

S = GoalAchievementStatus
NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")
BY = StaffId("nurse-1")
DAY0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
AS_OF = date(2026, 6, 1)
DUE = date(2026, 6, 30)

# HbA1c below 7 %, due end of June.
A1C = Target(measure="hba1c", quantity=Quantity(7.0, "%", Comparator.LT), due=DUE)


def reading(
    value: float,
    day: int = 0,
    *,
    measure: str = "hba1c",
    unit: str = "%",
    at: datetime | None = None,
) -> ProgressReading:
    when = at if at is not None else DAY0 + timedelta(days=day)
    return ProgressReading(measure=measure, value=value, unit=unit, at=when, recorded_by=BY)


def series(*values: float, measure: str = "hba1c", unit: str = "%") -> list[ProgressReading]:
    return [reading(v, 7 * i, measure=measure, unit=unit) for i, v in enumerate(values)]


# ------------------------------------------------------- one target, all statuses


def test_no_targets_is_in_progress() -> None:
    assert derive_achievement([], [], AS_OF) is S.IN_PROGRESS
    assert derive_achievement([], series(6.0), AS_OF) is S.IN_PROGRESS


def test_no_readings() -> None:
    assert derive_achievement([A1C], [], AS_OF) is S.IN_PROGRESS
    assert derive_achievement([A1C], [], DUE) is S.IN_PROGRESS  # due today: not yet overdue
    assert derive_achievement([A1C], [], DUE + timedelta(days=1)) is S.NOT_ACHIEVED
    undated = Target(measure="hba1c", quantity=Quantity(7.0, "%", Comparator.LT))
    assert derive_achievement([undated], [], date(2099, 1, 1)) is S.IN_PROGRESS


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ((8.0,), S.IN_PROGRESS),  # a single reading that misses
        ((6.5,), S.ACHIEVED),  # a single reading that meets
        ((8.0, 6.5), S.ACHIEVED),  # just met
        ((6.5, 6.8), S.SUSTAINING),  # met twice in a row
        ((9.0, 6.5, 6.0), S.SUSTAINING),
        ((6.5, 8.0, 6.0), S.ACHIEVED),  # only the latest two count
        ((9.0, 8.0), S.IMPROVING),  # gap 2.0 -> 1.0
        ((8.0, 9.0), S.WORSENING),  # gap 1.0 -> 2.0
        ((8.0, 8.0), S.NO_CHANGE),
        ((6.5, 8.0), S.WORSENING),  # met (gap 0) then missed (gap 1)
        ((10.0, 6.0, 9.0, 8.5), S.IMPROVING),  # last two: 9.0 -> 8.5
        ((8.0, 7.0), S.IMPROVING),  # 7.0 is on the strict boundary: gap 0 but not met
        ((7.0, 7.0), S.NO_CHANGE),
    ],
)
def test_single_target_before_due(
    values: tuple[float, ...], expected: GoalAchievementStatus
) -> None:
    assert derive_achievement([A1C], series(*values), AS_OF) is expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ((9.0, 8.0), S.NOT_ACHIEVED),  # improving, but too late
        ((8.0,), S.NOT_ACHIEVED),
        ((8.0, 8.0), S.NOT_ACHIEVED),
        ((8.0, 6.5), S.ACHIEVED),  # met counts even after the due date
        ((6.5, 6.0), S.SUSTAINING),
    ],
)
def test_single_target_after_due(
    values: tuple[float, ...], expected: GoalAchievementStatus
) -> None:
    assert derive_achievement([A1C], series(*values), DUE + timedelta(days=1)) is expected
    # On the due date itself the target is not overdue yet.
    on_due = derive_achievement([A1C], series(*values), DUE)
    assert on_due is derive_achievement([A1C], series(*values), AS_OF)


# ------------------------------------------------------------------ comparators


@pytest.mark.parametrize(
    ("comparator", "target", "value", "met", "gap"),
    [
        (Comparator.LT, 7.0, 6.9, True, 0.0),
        (Comparator.LT, 7.0, 7.0, False, 0.0),  # strict boundary
        (Comparator.LT, 7.0, 7.5, False, 0.5),
        (Comparator.LE, 7.0, 7.0, True, 0.0),
        (Comparator.LE, 7.0, 7.5, False, 0.5),
        (Comparator.LE, 7.0, 3.0, True, 0.0),
        (Comparator.GT, 30.0, 30.5, True, 0.0),
        (Comparator.GT, 30.0, 30.0, False, 0.0),  # strict boundary
        (Comparator.GT, 30.0, 20.0, False, 10.0),
        (Comparator.GE, 30.0, 30.0, True, 0.0),
        (Comparator.GE, 30.0, 29.0, False, 1.0),
        (Comparator.GE, 30.0, 45.0, True, 0.0),
        (None, 5.0, 5.0, True, 0.0),  # exact
        (None, 5.0, 5.5, False, 0.5),
        (None, 5.0, 4.0, False, 1.0),
    ],
)
def test_comparators(
    comparator: Comparator | None, target: float, value: float, met: bool, gap: float
) -> None:
    t = Target(measure="m", quantity=Quantity(target, "1", comparator))
    assert t.is_met(value) is met
    assert t.gap(value) == pytest.approx(gap)
    one = derive_achievement([t], [reading(value, measure="m", unit="1")], AS_OF)
    assert one is (S.ACHIEVED if met else S.IN_PROGRESS)


@pytest.mark.parametrize(
    ("comparator", "target", "values", "expected"),
    [
        (Comparator.GT, 30.0, (20.0, 25.0), S.IMPROVING),
        (Comparator.GT, 30.0, (25.0, 20.0), S.WORSENING),
        (Comparator.GT, 30.0, (29.0, 30.0), S.IMPROVING),  # reaches the boundary, not met
        (Comparator.GT, 30.0, (30.0, 31.0), S.ACHIEVED),
        (Comparator.GE, 30.0, (29.0, 30.0), S.ACHIEVED),
        (Comparator.GE, 30.0, (30.0, 40.0), S.SUSTAINING),
        (Comparator.LE, 140.0, (150.0, 145.0), S.IMPROVING),
        (Comparator.LE, 140.0, (140.0, 120.0), S.SUSTAINING),
        (None, 5.0, (4.0, 6.0), S.NO_CHANGE),  # 1 below, then 1 above: same gap
        (None, 5.0, (4.0, 5.5), S.IMPROVING),
        (None, 5.0, (5.0, 5.0), S.SUSTAINING),
        (None, 5.0, (5.0, 5.2), S.WORSENING),
    ],
)
def test_comparator_trends(
    comparator: Comparator | None,
    target: float,
    values: tuple[float, ...],
    expected: GoalAchievementStatus,
) -> None:
    t = Target(measure="m", quantity=Quantity(target, "1", comparator))
    assert derive_achievement([t], series(*values, measure="m", unit="1"), AS_OF) is expected


# ------------------------------------------------------------------ range targets

GLUCOSE = Target(measure="glucose", range=Range(low=4.0, high=7.0, unit="mmol/L"))


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ((4.0,), S.ACHIEVED),  # bounds are inclusive
        ((7.0,), S.ACHIEVED),
        ((3.9,), S.IN_PROGRESS),
        ((7.1,), S.IN_PROGRESS),
        ((10.0, 8.0), S.IMPROVING),  # gap 3 -> 1 from above
        ((2.0, 3.0), S.IMPROVING),  # gap 2 -> 1 from below
        ((3.0, 9.0), S.WORSENING),  # gap 1 -> 2, crossing the range
        ((3.0, 8.0), S.NO_CHANGE),  # gap 1 -> 1 on the other side
        ((5.0, 6.5), S.SUSTAINING),
        ((8.0, 5.0), S.ACHIEVED),
        ((5.0, 7.5), S.WORSENING),
    ],
)
def test_range_target(values: tuple[float, ...], expected: GoalAchievementStatus) -> None:
    got = derive_achievement([GLUCOSE], series(*values, measure="glucose", unit="mmol/L"), AS_OF)
    assert got is expected


def test_open_ended_ranges() -> None:
    at_least = Target(measure="walk", range=Range(low=150.0, unit="min/wk"))
    at_most = Target(measure="bmi", range=Range(high=25.0, unit="kg/m2"))
    assert at_least.unit == "min/wk"
    assert at_least.is_met(150.0) and at_least.is_met(1000.0) and not at_least.is_met(149.0)
    assert at_most.is_met(25.0) and at_most.is_met(-1.0) and not at_most.is_met(25.5)
    walks = series(60.0, 90.0, measure="walk", unit="min/wk")
    assert derive_achievement([at_least], walks, AS_OF) is S.IMPROVING
    bmis = series(27.0, 28.0, measure="bmi", unit="kg/m2")
    assert derive_achievement([at_most], bmis, AS_OF) is S.WORSENING


def test_target_and_range_validation() -> None:
    with pytest.raises(ValidationError):
        Range()
    with pytest.raises(ValidationError):
        Range(low=7.0, high=4.0)
    with pytest.raises(ValidationError):
        Target(measure="m")
    with pytest.raises(ValidationError):
        Target(measure="m", quantity=Quantity(1.0, "1"), range=Range(low=0.0))
    with pytest.raises(ValidationError):
        Quantity(float("nan"), "1")


# --------------------------------------------------------------- several targets

# One target per status, each with its own measure; readings for all of them.
_PER_STATUS: dict[GoalAchievementStatus, tuple[float, ...]] = {
    S.NOT_ACHIEVED: (8.0,),  # its due date has passed
    S.WORSENING: (8.0, 9.0),
    S.NO_CHANGE: (8.0, 8.0),
    S.IN_PROGRESS: (),
    S.IMPROVING: (9.0, 8.0),
    S.ACHIEVED: (8.0, 6.0),
    S.SUSTAINING: (6.0, 6.0),
}
WORST_FIRST = list(_PER_STATUS)


def _target_for(
    status: GoalAchievementStatus, suffix: str = ""
) -> tuple[Target, list[ProgressReading]]:
    measure = f"m-{status.value}{suffix}"
    due = AS_OF - timedelta(days=1) if status is S.NOT_ACHIEVED else None
    t = Target(measure=measure, quantity=Quantity(7.0, "1", Comparator.LT), due=due)
    return t, series(*_PER_STATUS[status], measure=measure, unit="1")


@pytest.mark.parametrize("status", WORST_FIRST)
def test_each_fixture_target_alone(status: GoalAchievementStatus) -> None:
    t, rs = _target_for(status)
    assert derive_achievement([t], rs, AS_OF) is status


@pytest.mark.parametrize(
    ("a", "b"), list(itertools.product(WORST_FIRST, repeat=2)), ids=lambda s: str(s)
)
def test_two_targets_combine_to_the_worst(
    a: GoalAchievementStatus, b: GoalAchievementStatus
) -> None:
    ta, ra = _target_for(a)
    tb, rb = _target_for(b, suffix="-2")
    expected = WORST_FIRST[min(WORST_FIRST.index(a), WORST_FIRST.index(b))]
    assert derive_achievement([ta, tb], [*ra, *rb], AS_OF) is expected
    assert derive_achievement([tb, ta], [*rb, *ra], AS_OF) is expected


def test_multiple_targets_hand_cases() -> None:
    bp = Target(measure="sbp", quantity=Quantity(140.0, "mm[Hg]", Comparator.LE))
    both_met = [*series(6.5, 6.2), *series(150.0, 135.0, measure="sbp", unit="mm[Hg]")]
    # HbA1c sustaining, blood pressure just achieved: achieved, not sustaining.
    assert derive_achievement([A1C, bp], both_met, AS_OF) is S.ACHIEVED
    both_sustained = [*series(6.5, 6.2), *series(130.0, 135.0, measure="sbp", unit="mm[Hg]")]
    assert derive_achievement([A1C, bp], both_sustained, AS_OF) is S.SUSTAINING
    # One target without readings keeps the goal in progress.
    assert derive_achievement([A1C, bp], series(6.5, 6.2), AS_OF) is S.IN_PROGRESS
    # ... until A1C's due date passes with A1C unmet.
    a1c_unmet = [*series(8.0), *series(130.0, 135.0, measure="sbp", unit="mm[Hg]")]
    assert derive_achievement([A1C, bp], a1c_unmet, DUE + timedelta(days=1)) is S.NOT_ACHIEVED


def test_two_targets_on_one_measure_in_different_units() -> None:
    percent = Target(measure="hba1c", quantity=Quantity(7.0, "%", Comparator.LT))
    ifcc = Target(measure="hba1c", quantity=Quantity(53.0, "mmol/mol", Comparator.LT))
    rs = [*series(6.5, 6.0), *series(60.0, 58.0, unit="mmol/mol")]
    assert derive_achievement([percent], rs, AS_OF) is S.SUSTAINING
    assert derive_achievement([ifcc], rs, AS_OF) is S.IMPROVING
    assert derive_achievement([percent, ifcc], rs, AS_OF) is S.IMPROVING


# ------------------------------------------------ other units / measures, order


def test_readings_in_other_units_or_measures_are_ignored() -> None:
    noise = [
        reading(100.0, 30, unit="mmol/mol"),  # same measure, other unit
        reading(1.0, 31, measure="ldl", unit="%"),  # other measure, same unit
    ]
    assert derive_achievement([A1C], noise, AS_OF) is S.IN_PROGRESS
    assert derive_achievement([A1C], [*series(9.0, 8.0), *noise], AS_OF) is S.IMPROVING
    assert derive_achievement([A1C], [*series(6.5), *noise], DUE + timedelta(days=1)) is S.ACHIEVED


def test_readings_are_ordered_by_instant_across_zones() -> None:
    # 10:00 in Berlin (09:00 UTC) is before 08:00 in New York (13:00 UTC) that day,
    # and 20:00 in Tokyo (11:00 UTC) lies between them.
    berlin = reading(9.0, at=datetime(2026, 3, 3, 10, tzinfo=BERLIN))
    tokyo = reading(8.5, at=datetime(2026, 3, 3, 20, tzinfo=TOKYO))
    new_york = reading(8.0, at=datetime(2026, 3, 3, 8, tzinfo=NY))
    for order in itertools.permutations([berlin, tokyo, new_york]):
        assert derive_achievement([A1C], order, AS_OF) is S.IMPROVING  # 8.5 -> 8.0
    assert derive_achievement([A1C], [new_york, berlin], AS_OF) is S.IMPROVING  # 9.0 -> 8.0
    assert derive_achievement([A1C], [berlin, tokyo], AS_OF) is S.IMPROVING  # 9.0 -> 8.5
    late_met = reading(6.0, at=datetime(2026, 3, 3, 14, 30, tzinfo=UTC))
    assert derive_achievement([A1C], [late_met, new_york, berlin], AS_OF) is S.ACHIEVED


def test_readings_on_a_fall_back_night_are_ordered_by_instant() -> None:
    # 01:50 EDT (05:50 UTC) comes before 01:10 EST (06:10 UTC, fold=1) although
    # its wall clock reads later: the comparison must use instants.
    first = reading(10.0, at=datetime(2026, 11, 1, 1, 50, tzinfo=NY))
    second = reading(6.0, at=datetime(2026, 11, 1, 1, 10, tzinfo=NY, fold=1))
    assert derive_achievement([A1C], [first, second], AS_OF) is S.ACHIEVED
    assert derive_achievement([A1C], [second, first], AS_OF) is S.ACHIEVED
    goal = _goal(A1C).with_reading(second).with_reading(first)
    assert goal.achievement_status is S.ACHIEVED


# --------------------------------------------------------------------- the Goal


def _goal(*targets: Target) -> Goal:
    return Goal(id=GoalId("g-1"), description="Better glucose control", targets=targets)


def test_goal_derived_achievement_uses_its_targets_and_readings() -> None:
    goal = _goal(A1C, GLUCOSE)
    assert goal.derived_achievement(AS_OF) is S.IN_PROGRESS
    assert goal.due == DUE
    for r in series(9.0, 8.0):
        goal = goal.with_reading(r)
    for r in series(5.0, 6.0, measure="glucose", unit="mmol/L"):
        goal = goal.with_reading(r)
    assert goal.derived_achievement(AS_OF) is S.IMPROVING
    assert goal.derived_achievement(DUE + timedelta(days=1)) is S.NOT_ACHIEVED
    assert goal.derived_achievement(AS_OF) is derive_achievement(goal.targets, goal.readings, AS_OF)
    assert len(goal.readings) == 4


def test_with_reading_rederives_the_stored_status() -> None:
    goal = _goal(A1C)
    assert goal.achievement_status is None
    g1 = goal.with_reading(reading(9.0, 0))
    assert g1.achievement_status is S.IN_PROGRESS
    g2 = g1.with_reading(reading(8.0, 7))
    assert g2.achievement_status is S.IMPROVING
    g3 = g2.with_reading(reading(6.5, 14))
    assert g3.achievement_status is S.ACHIEVED
    g4 = g3.with_reading(reading(6.4, 21))
    assert g4.achievement_status is S.SUSTAINING
    # The original goals are untouched.
    assert goal.readings == () and g1.achievement_status is S.IN_PROGRESS
    # A reading taken after the due date is judged on its own date.
    late = g2.with_reading(reading(7.5, at=datetime(2026, 7, 2, 9, tzinfo=NY)))
    assert late.achievement_status is S.NOT_ACHIEVED


def test_with_reading_rejects_other_measures_and_units() -> None:
    goal = _goal(A1C)
    with pytest.raises(ValidationError):
        goal.with_reading(reading(5.0, measure="ldl"))
    with pytest.raises(ValidationError) as caught:
        goal.with_reading(reading(48.0, unit="mmol/mol"))
    assert caught.value.field == "unit"
    with pytest.raises(ValidationError):
        goal.with_reading("6.5 %")  # type: ignore[arg-type]
    assert goal.readings == ()


def test_goal_without_targets() -> None:
    goal = Goal(id=GoalId("g-2"), description="Feel less isolated")
    assert goal.derived_achievement(AS_OF) is S.IN_PROGRESS
    assert goal.due is None
    with pytest.raises(ValidationError):
        goal.with_reading(reading(1.0))


# -------------------------------------------------------------------- properties

PRODUCED = {
    S.NOT_ACHIEVED,
    S.WORSENING,
    S.NO_CHANGE,
    S.IN_PROGRESS,
    S.IMPROVING,
    S.ACHIEVED,
    S.SUSTAINING,
}

_ZONES = [UTC, NY, BERLIN, TOKYO]


@st.composite
def _readings(draw: st.DrawFn) -> list[ProgressReading]:
    # Distinct instants: readings taken at the very same instant keep their input order.
    stamps = draw(st.lists(st.integers(0, 60 * 24 * 120), max_size=6, unique=True))
    out = []
    for minutes in stamps:
        zone = draw(st.sampled_from(_ZONES))
        at = (DAY0 + timedelta(minutes=minutes)).astimezone(zone)
        value = draw(st.sampled_from([5.0, 6.0, 6.9, 7.0, 7.5, 8.0, 9.0]))
        unit = draw(st.sampled_from(["%", "%", "%", "mmol/mol"]))
        out.append(reading(value, at=at, unit=unit))
    return out


@settings(max_examples=100, deadline=None)
@given(rs=_readings(), as_of=st.dates(date(2026, 1, 1), date(2026, 12, 31)), data=st.data())
def test_result_is_a_documented_status_and_order_free(
    rs: list[ProgressReading], as_of: date, data: st.DataObject
) -> None:
    got = derive_achievement([A1C], rs, as_of)
    assert got in PRODUCED
    shuffled = data.draw(st.permutations(rs))
    assert derive_achievement([A1C], shuffled, as_of) is got
    # The status depends only on the latest two matching readings by instant.
    mine = sorted((r for r in rs if r.unit == "%"), key=lambda r: r.at.astimezone(UTC))
    assert derive_achievement([A1C], mine[-2:], as_of) is got
