"""Cadence: anchored recurrences, month ends, leap years, DST in three hemispheres' zones.

Transition dates used below (2026):

* America/New_York: spring forward Mar 8 02:00 -> 03:00 (-05 -> -04); fall back
  Nov 1 02:00 -> 01:00.
* Europe/Berlin: spring forward Mar 29 02:00 -> 03:00 (+01 -> +02); fall back
  Oct 25 03:00 -> 02:00.
* Australia/Sydney: fall back Apr 5 03:00 -> 02:00 (+11 -> +10); spring forward Oct 4
  02:00 -> 03:00 (+10 -> +11).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carecoord import Cadence, CadenceUnit, NaiveDatetimeError, ValidationError
from carecoord.errors import CareCoordError
from carecoord.model import localize

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
SYDNEY = ZoneInfo("Australia/Sydney")
H = timedelta(hours=1)


def _days(c: Cadence, ks: range) -> list[date]:
    return [c.occurrence(k).date() for k in ks]


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# ----------------------------------------------------------------- month ends


def test_month_end_anchor_does_not_drift() -> None:
    c = Cadence.months(1, datetime(2026, 1, 31, 9, tzinfo=NY))
    assert _days(c, range(7)) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
        date(2026, 6, 30),
        date(2026, 7, 31),
    ]
    # Iterating "previous + 1 month" would give Mar 28, Apr 28, ...: not so here.
    assert c.next_after(c.occurrence(1)) == datetime(2026, 3, 31, 9, tzinfo=NY)
    assert c.occurrence(12) == datetime(2027, 1, 31, 9, tzinfo=NY)
    assert all(c.occurrence(k).time() == time(9) for k in range(13))


def test_occurrence_zero_is_the_anchor_and_negative_ones_precede_it() -> None:
    anchor = datetime(2026, 1, 31, 9, tzinfo=NY)
    c = Cadence.months(1, anchor)
    assert c.occurrence(0) == anchor
    assert c.occurrence(-1) == datetime(2025, 12, 31, 9, tzinfo=NY)
    assert c.occurrence(-2) == datetime(2025, 11, 30, 9, tzinfo=NY)
    assert c.occurrence(-11) == datetime(2025, 2, 28, 9, tzinfo=NY)


def test_every_two_months_from_the_31st() -> None:
    c = Cadence.months(2, datetime(2025, 12, 31, 17, 45, tzinfo=BERLIN))
    assert _days(c, range(4)) == [
        date(2025, 12, 31),
        date(2026, 2, 28),
        date(2026, 4, 30),
        date(2026, 6, 30),
    ]


def test_quarters_are_three_calendar_months_from_the_anchor() -> None:
    c = Cadence.quarters(1, datetime(2025, 11, 30, 10, tzinfo=NY))
    assert c.unit is CadenceUnit.QUARTERS
    assert _days(c, range(5)) == [
        date(2025, 11, 30),
        date(2026, 2, 28),
        date(2026, 5, 30),
        date(2026, 8, 30),
        date(2026, 11, 30),
    ]
    half = Cadence.quarters(2, datetime(2026, 8, 31, 10, tzinfo=NY))
    assert _days(half, range(3)) == [date(2026, 8, 31), date(2027, 2, 28), date(2027, 8, 31)]


# ----------------------------------------------------------------- leap years


def test_feb_29_anchor_yearly() -> None:
    c = Cadence.years(1, datetime(2024, 2, 29, 8, tzinfo=NY))
    assert _days(c, range(6)) == [
        date(2024, 2, 29),
        date(2025, 2, 28),
        date(2026, 2, 28),
        date(2027, 2, 28),
        date(2028, 2, 29),
        date(2029, 2, 28),
    ]
    assert c.occurrence(-4) == datetime(2020, 2, 29, 8, tzinfo=NY)
    # 2100 is not a leap year (divisible by 100, not by 400); 2400 is.
    assert c.occurrence(76).date() == date(2100, 2, 28)
    assert c.occurrence(376).date() == date(2400, 2, 29)


def test_monthly_from_jan_31_in_a_leap_year() -> None:
    c = Cadence.months(1, datetime(2028, 1, 31, 9, tzinfo=NY))
    assert _days(c, range(3)) == [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31)]


def test_every_four_years_from_feb_29_keeps_feb_29() -> None:
    c = Cadence.years(4, datetime(2024, 2, 29, 8, tzinfo=UTC))
    assert _days(c, range(3)) == [date(2024, 2, 29), date(2028, 2, 29), date(2032, 2, 29)]


# ---------------------------------------------------------- days, weeks, units


def test_days_cross_month_and_year_ends() -> None:
    c = Cadence.days(3, datetime(2025, 12, 28, 7, 15, tzinfo=SYDNEY))
    assert c.unit is CadenceUnit.DAYS
    assert _days(c, range(4)) == [
        date(2025, 12, 28),
        date(2025, 12, 31),
        date(2026, 1, 3),
        date(2026, 1, 6),
    ]
    leap = Cadence.days(1, datetime(2028, 2, 28, tzinfo=UTC))
    assert _days(leap, range(3)) == [date(2028, 2, 28), date(2028, 2, 29), date(2028, 3, 1)]


def test_weeks_keep_the_weekday() -> None:
    c = Cadence.weeks(2, datetime(2026, 1, 5, 9, tzinfo=NY))  # a Monday
    assert c.unit is CadenceUnit.WEEKS
    got = _days(c, range(5))
    assert got == [
        date(2026, 1, 5),
        date(2026, 1, 19),
        date(2026, 2, 2),
        date(2026, 2, 16),
        date(2026, 3, 2),
    ]
    assert {d.weekday() for d in got} == {0}


def test_constructor_and_factories_agree() -> None:
    anchor = datetime(2026, 1, 1, 9, tzinfo=NY)
    assert Cadence(every=1, unit="years", anchor=anchor) == Cadence.years(1, anchor)
    assert Cadence(every=2, unit=CadenceUnit.MONTHS, anchor=anchor) == Cadence.months(2, anchor)
    assert Cadence.days(1, anchor).zone == NY


# ------------------------------------------------- next_after / between / ...


def test_next_after_is_strict_and_next_on_or_after_is_not() -> None:
    c = Cadence.months(1, datetime(2026, 1, 31, 9, tzinfo=NY))
    feb = datetime(2026, 2, 28, 9, tzinfo=NY)
    mar = datetime(2026, 3, 31, 9, tzinfo=NY)
    assert c.next_after(feb) == mar
    assert c.next_on_or_after(feb) == feb
    assert c.next_after(feb - timedelta(microseconds=1)) == feb
    assert c.next_on_or_after(feb + timedelta(microseconds=1)) == mar
    # Long before the anchor and long after it.
    assert c.next_after(datetime(2020, 6, 15, tzinfo=NY)) == datetime(2020, 6, 30, 9, tzinfo=NY)
    assert c.next_after(datetime(2040, 2, 29, 9, tzinfo=NY)) == datetime(2040, 3, 31, 9, tzinfo=NY)


def test_next_after_compares_instants_across_zones() -> None:
    weekly = Cadence.weeks(1, datetime(2026, 3, 2, 9, tzinfo=NY))
    # Mon Mar 9 09:00 EDT is 13:00 UTC (it would be 14:00 UTC if EST were kept).
    assert weekly.next_on_or_after(_utc(2026, 3, 9, 13)) == datetime(2026, 3, 9, 9, tzinfo=NY)
    assert weekly.next_after(_utc(2026, 3, 9, 13)) == datetime(2026, 3, 16, 9, tzinfo=NY)
    assert weekly.next_after(_utc(2026, 3, 9, 12, 59)) == datetime(2026, 3, 9, 9, tzinfo=NY)
    # Same instant given in Berlin (still CET on Mar 9: 14:00 +01).
    berlin = datetime(2026, 3, 9, 14, tzinfo=BERLIN)
    assert weekly.next_on_or_after(berlin) == datetime(2026, 3, 9, 9, tzinfo=NY)
    # The result stays in the cadence's zone.
    assert weekly.next_after(berlin).tzinfo is NY


def test_between_is_half_open_and_ordered() -> None:
    c = Cadence.weeks(1, datetime(2026, 3, 2, 9, tzinfo=NY))
    occ = [c.occurrence(k) for k in range(6)]
    assert list(c.between(occ[1], occ[4])) == occ[1:4]
    assert list(c.between(occ[1] + timedelta(seconds=1), occ[4] + timedelta(seconds=1))) == occ[2:5]
    assert list(c.between(occ[3], occ[3])) == []
    assert list(c.between(occ[4], occ[1])) == []
    # Before the anchor too (negative occurrences).
    assert list(c.between(datetime(2026, 2, 16, tzinfo=NY), occ[1])) == [
        datetime(2026, 2, 16, 9, tzinfo=NY),
        datetime(2026, 2, 23, 9, tzinfo=NY),
        occ[0],
    ]


def test_between_a_year_of_monthly_reviews() -> None:
    c = Cadence.months(1, datetime(2026, 1, 31, 9, tzinfo=BERLIN))
    got = list(c.between(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)))
    assert [d.day for d in got] == [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    assert {(d.hour, d.minute) for d in got} == {(9, 0)}


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.next_after(datetime(2026, 3, 1)),
        lambda c: c.next_on_or_after(datetime(2026, 3, 1)),
        lambda c: list(c.between(datetime(2026, 3, 1), datetime(2026, 4, 1, tzinfo=UTC))),
        lambda c: list(c.between(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1))),
    ],
)
def test_naive_moments_are_refused(call: Callable[[Cadence], object]) -> None:
    c = Cadence.weeks(1, datetime(2026, 3, 2, 9, tzinfo=NY))
    with pytest.raises(NaiveDatetimeError):
        call(c)


@pytest.mark.parametrize("index", [1.0, "1", True, None])
def test_occurrence_index_must_be_an_int(index: object) -> None:
    c = Cadence.weeks(1, datetime(2026, 3, 2, 9, tzinfo=NY))
    with pytest.raises(ValidationError):
        c.occurrence(index)  # type: ignore[arg-type]


# ------------------------------------------------------------------------ DST


@pytest.mark.parametrize(
    ("zone", "first", "offsets"),
    [
        # Spring forward and fall back, northern hemisphere.
        (NY, datetime(2026, 3, 2, 9), (-5, -4)),
        (NY, datetime(2026, 10, 26, 9), (-4, -5)),
        (BERLIN, datetime(2026, 3, 23, 9), (1, 2)),
        (BERLIN, datetime(2026, 10, 19, 9), (2, 1)),
        # Southern hemisphere: summer time ends in April, starts in October.
        (SYDNEY, datetime(2026, 3, 30, 9), (11, 10)),
        (SYDNEY, datetime(2026, 9, 28, 9), (10, 11)),
    ],
)
def test_weekly_review_stays_at_nine_local(
    zone: ZoneInfo, first: datetime, offsets: tuple[int, int]
) -> None:
    c = Cadence.weeks(1, first.replace(tzinfo=zone))
    before, after = c.occurrence(0), c.occurrence(1)
    assert before.replace(tzinfo=None) == first
    assert after.replace(tzinfo=None) == first + timedelta(days=7)
    assert before.utcoffset() == offsets[0] * H
    assert after.utcoffset() == offsets[1] * H
    # So the two reviews are a week +- one hour apart in real time.
    elapsed = after.astimezone(UTC) - before.astimezone(UTC)
    assert elapsed == timedelta(days=7) - (offsets[1] - offsets[0]) * H


def test_monthly_review_in_new_york_keeps_wall_time_through_the_year() -> None:
    c = Cadence.months(1, datetime(2026, 1, 15, 9, tzinfo=NY))
    utc_hours = [c.occurrence(k).astimezone(UTC).hour for k in range(12)]
    # EST (14:00 UTC) Jan-Feb and Nov-Dec; EDT (13:00 UTC) Mar 15 - Oct 15.
    assert utc_hours == [14, 14, 13, 13, 13, 13, 13, 13, 13, 13, 14, 14]


@pytest.mark.parametrize(
    ("zone", "anchor_day", "gap_day", "utc_at_gap", "offset_after"),
    [
        (NY, date(2026, 3, 6), date(2026, 3, 8), _utc(2026, 3, 8, 7, 30), -4),
        (BERLIN, date(2026, 3, 27), date(2026, 3, 29), _utc(2026, 3, 29, 1, 30), 2),
        (SYDNEY, date(2026, 10, 2), date(2026, 10, 4), _utc(2026, 10, 3, 16, 30), 11),
    ],
)
def test_wall_time_in_the_spring_forward_gap_is_shifted_forward(
    zone: ZoneInfo, anchor_day: date, gap_day: date, utc_at_gap: datetime, offset_after: int
) -> None:
    c = Cadence.days(1, datetime.combine(anchor_day, time(2, 30), tzinfo=zone))
    on_gap_day = c.occurrence((gap_day - anchor_day).days)
    # 02:30 does not exist that night: it becomes 03:30 in the new offset.
    assert on_gap_day.replace(tzinfo=None) == datetime.combine(gap_day, time(3, 30))
    assert on_gap_day.utcoffset() == offset_after * H
    assert on_gap_day.astimezone(UTC) == utc_at_gap
    assert on_gap_day.fold == 0
    # The day before and the day after are back on 02:30.
    day_before = c.occurrence((gap_day - anchor_day).days - 1)
    day_after = c.occurrence((gap_day - anchor_day).days + 1)
    assert day_before.time() == time(2, 30)
    assert day_after.time() == time(2, 30)
    assert day_after.utcoffset() == offset_after * H
    assert c.next_after(day_before) == on_gap_day
    assert c.next_after(on_gap_day) == day_after


def test_weekly_sunday_0230_in_new_york_across_the_gap() -> None:
    c = Cadence.weeks(1, datetime(2026, 3, 1, 2, 30, tzinfo=NY))
    assert [c.occurrence(k).replace(tzinfo=None) for k in range(3)] == [
        datetime(2026, 3, 1, 2, 30),
        datetime(2026, 3, 8, 3, 30),
        datetime(2026, 3, 15, 2, 30),
    ]
    assert [c.occurrence(k).astimezone(UTC) for k in range(3)] == [
        _utc(2026, 3, 1, 7, 30),
        _utc(2026, 3, 8, 7, 30),
        _utc(2026, 3, 15, 6, 30),
    ]


@pytest.mark.parametrize(
    ("zone", "anchor", "fall_back_day", "first_utc", "offset"),
    [
        (NY, datetime(2026, 10, 30, 1, 30), date(2026, 11, 1), _utc(2026, 11, 1, 5, 30), -4),
        (BERLIN, datetime(2026, 10, 23, 2, 30), date(2026, 10, 25), _utc(2026, 10, 25, 0, 30), 2),
        (SYDNEY, datetime(2026, 4, 3, 2, 30), date(2026, 4, 5), _utc(2026, 4, 4, 15, 30), 11),
    ],
)
def test_ambiguous_wall_time_resolves_to_the_first_instant(
    zone: ZoneInfo, anchor: datetime, fall_back_day: date, first_utc: datetime, offset: int
) -> None:
    c = Cadence.days(1, anchor.replace(tzinfo=zone))
    k = (fall_back_day - anchor.date()).days
    twice = c.occurrence(k)
    assert twice.replace(tzinfo=None) == datetime.combine(fall_back_day, anchor.time())
    assert twice.fold == 0
    assert twice.utcoffset() == offset * H
    assert twice.astimezone(UTC) == first_utc
    # The second 01:30 / 02:30 of that night is not an occurrence.
    second = twice.replace(fold=1)
    assert second.astimezone(UTC) == first_utc + H
    assert c.next_after(twice) == c.occurrence(k + 1)
    assert c.next_after(second) == c.occurrence(k + 1)
    assert list(c.between(twice, c.occurrence(k + 1))) == [twice]


def test_localize_follows_the_same_rule() -> None:
    assert localize(datetime(2026, 3, 8, 2, 30), NY) == datetime(2026, 3, 8, 3, 30, tzinfo=NY)
    assert localize(datetime(2026, 11, 1, 1, 30), NY).utcoffset() == -4 * H
    assert localize(datetime(2026, 7, 1, 12), BERLIN).utcoffset() == 2 * H
    with pytest.raises(ValidationError):
        localize(datetime(2026, 7, 1, 12, tzinfo=BERLIN), BERLIN)


# ------------------------------------------------------------ construction


@pytest.mark.parametrize("every", [0, -1, -7, True, False, 1.5, "2", None, 10_001])
def test_every_must_be_a_positive_int_within_bounds(every: object) -> None:
    with pytest.raises(ValidationError) as caught:
        Cadence(every=every, unit="weeks", anchor=datetime(2026, 1, 1, tzinfo=NY))  # type: ignore[arg-type]
    assert caught.value.field == "every"


def test_every_upper_bound_is_inclusive() -> None:
    c = Cadence(every=10_000, unit="days", anchor=datetime(2026, 1, 1, tzinfo=NY))
    assert c.occurrence(1).date() == date(2026, 1, 1) + timedelta(days=10_000)


@pytest.mark.parametrize("unit", ["fortnights", "", "Weeks", 7, None])
def test_unit_must_be_a_cadence_unit(unit: object) -> None:
    with pytest.raises(ValidationError) as caught:
        Cadence(every=1, unit=unit, anchor=datetime(2026, 1, 1, tzinfo=NY))
    assert isinstance(caught.value, CareCoordError)
    assert caught.value.field == "unit"


def test_anchor_must_be_aware() -> None:
    with pytest.raises(NaiveDatetimeError) as caught:
        Cadence.weeks(1, datetime(2026, 1, 1, 9))
    assert caught.value.field == "anchor"


def test_anchor_must_name_an_iana_zone() -> None:
    with pytest.raises(ValidationError) as caught:
        Cadence.weeks(1, datetime(2026, 1, 1, 9, tzinfo=timezone(timedelta(hours=2))))
    assert not isinstance(caught.value, NaiveDatetimeError)
    assert caught.value.field == "anchor"
    with pytest.raises(ValidationError):
        Cadence.weeks(1, date(2026, 1, 1))  # type: ignore[arg-type]


def test_utc_anchor_becomes_the_utc_zone() -> None:
    c = Cadence.days(1, datetime(2026, 1, 1, 9, tzinfo=UTC))
    assert c.zone == ZoneInfo("UTC")
    assert c.occurrence(1) == _utc(2026, 1, 2, 9)


def test_cadence_is_immutable() -> None:
    c = Cadence.days(1, datetime(2026, 1, 1, 9, tzinfo=UTC))
    with pytest.raises(AttributeError):
        c.every = 2  # type: ignore[misc]


# ------------------------------------------------------------------ properties

ZONES = [
    ZoneInfo("America/New_York"),
    ZoneInfo("Europe/Berlin"),
    ZoneInfo("Australia/Sydney"),
    ZoneInfo("Australia/Lord_Howe"),  # 30-minute DST shift
    ZoneInfo("UTC"),
]


@st.composite
def cadences(draw: st.DrawFn) -> Cadence:
    zone = draw(st.sampled_from(ZONES))
    wall = draw(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 12, 31)))
    # Favour the small hours, where the DST changes happen.
    hour = draw(st.one_of(st.sampled_from([1, 2, 3]), st.integers(0, 23)))
    wall = wall.replace(hour=hour, fold=0)
    unit = draw(st.sampled_from(list(CadenceUnit)))
    every = draw(st.integers(1, 12))
    return Cadence(every=every, unit=unit, anchor=wall.replace(tzinfo=zone))


def _exists(wall: datetime, zone: ZoneInfo) -> bool:
    there = wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)
    return there.replace(tzinfo=None) == wall


@settings(max_examples=100, deadline=None)
@given(c=cadences())
def test_occurrences_increase_and_keep_the_anchor_wall_time(c: Cadence) -> None:
    zone = c.zone
    anchor_time = c.anchor.replace(tzinfo=None).time()
    occurrences = [c.occurrence(k) for k in range(-3, 25)]
    instants = [o.astimezone(UTC) for o in occurrences]
    assert all(a < b for a, b in itertools.pairwise(instants))
    for occ in occurrences:
        assert occ.tzinfo is zone
        intended = datetime.combine(occ.date(), anchor_time)
        wall = occ.replace(tzinfo=None)
        if wall == intended:
            assert occ.fold == 0
            continue
        # Only a wall time that does not exist may move: forward by the gap's length.
        assert not _exists(intended, zone)
        before = intended.replace(tzinfo=zone, fold=0).utcoffset()
        after = intended.replace(tzinfo=zone, fold=1).utcoffset()
        assert before is not None and after is not None
        gap = after - before
        assert gap > timedelta(0)
        assert wall == intended + gap


@settings(max_examples=100, deadline=None)
@given(c=cadences(), shift=st.integers(-600 * 24 * 60, 600 * 24 * 60))
def test_next_after_agrees_with_a_search_over_occurrences(c: Cadence, shift: int) -> None:
    moment = c.anchor.astimezone(UTC) + timedelta(minutes=shift)
    approx_days = {"days": 1, "weeks": 7, "months": 28, "quarters": 89, "years": 365}[c.unit]
    limit = 601 // (c.every * approx_days) + 3
    ks = range(-limit, limit + 1)
    occ = [c.occurrence(k).astimezone(UTC) for k in ks]
    after = bisect.bisect_right(occ, moment)
    on_or_after = bisect.bisect_left(occ, moment)
    assert 0 < on_or_after <= after < len(occ)
    assert c.next_after(moment).astimezone(UTC) == occ[after]
    assert c.next_on_or_after(moment).astimezone(UTC) == occ[on_or_after]
    window = list(c.between(moment, occ[after] + timedelta(microseconds=1)))
    assert [w.astimezone(UTC) for w in window] == occ[on_or_after : after + 1]
