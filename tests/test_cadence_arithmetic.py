"""Cadence arithmetic is stdlib-only: checked against dateutil.relativedelta and the old rule.

carecoord computes month steps with plain :mod:`datetime` and settles wall
times with ``zoneinfo``'s ``utcoffset``/``fromutc``. These tests compare that
with a reference built the way cadences used to be computed: the anchor's wall
time plus a :class:`~dateutil.relativedelta.relativedelta`, attached to the
zone with ``fold=0`` and normalised by a round trip through UTC, and a linear
search over occurrences for ``next_after`` / ``between``.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, available_timezones

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from carecoord import Cadence, CadenceUnit
from carecoord.model import cadence as cadence_module
from carecoord.model import localize
from carecoord.model.cadence import _add_months, _month_length

# Zones with unusual transitions besides the usual northern/southern DST.
_SPECIAL_ZONES = [
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
    "Australia/Lord_Howe",  # 30-minute DST
    "Pacific/Apia",  # skipped Dec 30, 2011 entirely (a 24-hour gap)
    "Pacific/Kiritimati",  # skipped Dec 31, 1994
    "Antarctica/Troll",  # 2-hour DST
    "Africa/Casablanca",  # DST suspended for Ramadan (negative in tzdata)
    "Europe/Dublin",  # negative DST in tzdata
    "America/St_Johns",  # half-hour offset, DST at 00:01 in some years
    "Asia/Kathmandu",  # +05:45
    "America/Santiago",  # DST changes at midnight
    "UTC",
]
_ALL_ZONES = sorted(available_timezones())
ZONE_NAMES = [*_SPECIAL_ZONES, *[z for z in _ALL_ZONES if z not in _SPECIAL_ZONES][::7]]

_MONTHS_PER = {CadenceUnit.MONTHS: 1, CadenceUnit.QUARTERS: 3, CadenceUnit.YEARS: 12}
_APPROX_DAYS = {
    CadenceUnit.DAYS: 1.0,
    CadenceUnit.WEEKS: 7.0,
    CadenceUnit.MONTHS: 30.436875,
    CadenceUnit.QUARTERS: 91.310625,
    CadenceUnit.YEARS: 365.2425,
}


# ---------------------------------------------------------------- reference


def _ref_step(unit: CadenceUnit, n: int) -> relativedelta:
    if unit is CadenceUnit.DAYS:
        return relativedelta(days=n)
    if unit is CadenceUnit.WEEKS:
        return relativedelta(weeks=n)
    return relativedelta(months=_MONTHS_PER[unit] * n)


def _ref_localize(wall: datetime, zone: ZoneInfo) -> datetime:
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone)


def _ref_occurrence(c: Cadence, index: int) -> datetime:
    wall = c.anchor.replace(tzinfo=None) + _ref_step(c.unit, c.every * index)
    return _ref_localize(wall, c.zone)


def _ref_first(c: Cadence, moment: datetime, *, strict: bool) -> int:
    """Index of the first occurrence after ``moment``, by a linear walk from well before it."""
    elapsed_days = (moment - c.anchor) / timedelta(days=1)
    index = math.floor(elapsed_days / (c.every * _APPROX_DAYS[c.unit])) - 5
    m = moment.astimezone(UTC)
    assert _ref_occurrence(c, index).astimezone(UTC) < m  # the walk starts early enough
    while True:
        o = _ref_occurrence(c, index).astimezone(UTC)
        if (o > m) if strict else (o >= m):
            return index
        index += 1


def _ref_between(c: Cadence, start: datetime, end: datetime) -> list[datetime]:
    index = _ref_first(c, start, strict=False)
    out = []
    while (o := _ref_occurrence(c, index)).astimezone(UTC) < end.astimezone(UTC):
        out.append(o)
        index += 1
    return out


def _same(a: datetime, b: datetime) -> bool:
    """Identical, not just equal: wall time, zone object, fold."""
    return (
        a.replace(tzinfo=None) == b.replace(tzinfo=None)
        and a.tzinfo is b.tzinfo
        and a.fold == b.fold
        and type(a) is type(b)
    )


# ------------------------------------------------------------- month adding


def test_month_length_matches_calendar_for_every_year() -> None:
    for year in range(1, 10_000):
        for month in range(1, 13):
            assert _month_length(year, month) == calendar.monthrange(year, month)[1]


@settings(max_examples=300)
@given(
    value=st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)),
    months=st.integers(-12 * 10_000, 12 * 10_000),
)
def test_add_months_matches_relativedelta(value: datetime, months: int) -> None:
    try:
        expected: datetime | None = value + relativedelta(months=months)
    except (ValueError, OverflowError):
        expected = None
    if expected is None:
        with pytest.raises((ValueError, OverflowError)):
            _add_months(value, months)
    else:
        assert _add_months(value, months) == expected


@settings(max_examples=150)
@given(
    value=st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
    years=st.integers(-200, 200),
)
def test_adding_years_as_months_matches_relativedelta_years(value: datetime, years: int) -> None:
    try:
        expected: datetime | None = value + relativedelta(years=years)
    except (ValueError, OverflowError):
        expected = None
    if expected is None:
        with pytest.raises((ValueError, OverflowError)):
            _add_months(value, 12 * years)
    else:
        assert _add_months(value, 12 * years) == expected


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (datetime(2025, 1, 31), 1, datetime(2025, 2, 28)),
        (datetime(2024, 1, 31), 1, datetime(2024, 2, 29)),
        (datetime(2025, 1, 31), 2, datetime(2025, 3, 31)),
        (datetime(2024, 2, 29), 12, datetime(2025, 2, 28)),
        (datetime(2024, 2, 29), 48, datetime(2028, 2, 29)),
        (datetime(2024, 2, 29), 12 * 76, datetime(2100, 2, 28)),
        (datetime(2025, 3, 31), -1, datetime(2025, 2, 28)),
        (datetime(2025, 1, 15), -13, datetime(2023, 12, 15)),
        (
            datetime(2025, 12, 31, 23, 59, 59, 999_999),
            1,
            datetime(2026, 1, 31, 23, 59, 59, 999_999),
        ),
    ],
)
def test_add_months_examples(start: datetime, months: int, expected: datetime) -> None:
    assert _add_months(start, months) == expected


def test_add_months_keeps_tzinfo_and_fold() -> None:
    ny = ZoneInfo("America/New_York")
    moved = _add_months(datetime(2026, 1, 31, 1, 30, tzinfo=ny, fold=1), 10)
    assert moved.tzinfo is ny
    assert moved.fold == 1
    assert moved.replace(tzinfo=None) == datetime(2026, 11, 30, 1, 30)


@pytest.mark.parametrize("months", [12 * 8000, -12 * 2100])
def test_add_months_out_of_range_raises_like_relativedelta(months: int) -> None:
    value = datetime(2026, 1, 31)
    with pytest.raises(ValueError, match="out of range"):
        value + relativedelta(months=months)
    with pytest.raises(ValueError, match="out of range"):
        _add_months(value, months)


# ----------------------------------------------------------------- localize


@settings(max_examples=250)
@given(
    zone_name=st.sampled_from(ZONE_NAMES),
    wall=st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 12, 31)),
    fold=st.sampled_from([0, 1]),
)
def test_localize_matches_the_round_trip_rule(zone_name: str, wall: datetime, fold: int) -> None:
    zone = ZoneInfo(zone_name)
    wall = wall.replace(fold=fold)
    assert _same(localize(wall, zone), _ref_localize(wall, zone))


def test_localize_near_transitions_matches_the_round_trip_rule() -> None:
    # Every minute around this year's transitions in a few zones.
    for name in ("America/New_York", "Australia/Lord_Howe", "Europe/Dublin", "Antarctica/Troll"):
        zone = ZoneInfo(name)
        wall = datetime(2026, 1, 1)
        while wall.year == 2026:
            here = wall.replace(tzinfo=zone)
            if here.utcoffset() != here.replace(fold=1).utcoffset():
                for minute in range(-150, 150, 5):
                    w = wall + timedelta(minutes=minute)
                    assert _same(localize(w, zone), _ref_localize(w, zone))
            wall += timedelta(minutes=30)


def test_localize_with_another_tzinfo_uses_the_general_route() -> None:
    plus2 = timezone(timedelta(hours=2))
    got = localize(datetime(2026, 7, 1, 12), plus2)  # type: ignore[arg-type]
    assert got == datetime(2026, 7, 1, 12, tzinfo=plus2)
    assert got.tzinfo is plus2


class _MyDatetime(datetime):
    pass


def test_localize_keeps_a_datetime_subclass() -> None:
    ny = ZoneInfo("America/New_York")
    got = localize(_MyDatetime(2026, 3, 8, 2, 30), ny)
    assert type(got) is _MyDatetime
    assert got == datetime(2026, 3, 8, 3, 30, tzinfo=ny)


# -------------------------------------------------------------- occurrences


@st.composite
def cadences(draw: st.DrawFn, years: tuple[int, int] = (1900, 2100)) -> Cadence:
    zone = ZoneInfo(draw(st.sampled_from(ZONE_NAMES)))
    wall = draw(
        st.datetimes(min_value=datetime(years[0], 1, 1), max_value=datetime(years[1], 12, 31))
    )
    # Favour the small hours (DST changes), month ends and Feb 29.
    hour = draw(st.one_of(st.sampled_from([0, 1, 2, 3]), st.integers(0, 23)))
    wall = wall.replace(hour=hour, fold=draw(st.sampled_from([0, 1])))
    if draw(st.booleans()):
        month = draw(st.integers(1, 12))
        wall = wall.replace(month=month, day=_month_length(wall.year, month))
    unit = draw(st.sampled_from(list(CadenceUnit)))
    every = draw(st.one_of(st.integers(1, 12), st.integers(1, 10_000)))
    return Cadence(every=every, unit=unit, anchor=wall.replace(tzinfo=zone))


def _indices(c: Cadence) -> Iterator[int]:
    yield from range(-3, 30)
    # A few far ones, kept inside years 1..9999.
    for k in (100, 1_000, 10_000, -100, -1_000):
        try:
            _ref_occurrence(c, k)
        except (ValueError, OverflowError):
            continue
        yield k


@settings(max_examples=150, deadline=None)
@given(c=cadences())
def test_occurrence_matches_relativedelta_and_the_round_trip_rule(c: Cadence) -> None:
    for k in _indices(c):
        try:
            expected = _ref_occurrence(c, k)
        except (ValueError, OverflowError):
            with pytest.raises((ValueError, OverflowError)):
                c.occurrence(k)
            continue
        assert _same(c.occurrence(k), expected), k


@settings(max_examples=150, deadline=None)
@given(
    c=cadences(years=(1950, 2050)),
    minutes=st.one_of(
        st.integers(-3 * 24 * 60, 3 * 24 * 60),
        st.integers(-200 * 366 * 24 * 60, 200 * 366 * 24 * 60),
    ),
    span_minutes=st.integers(0, 2 * 366 * 24 * 60),
)
def test_next_and_between_match_a_linear_search(
    c: Cadence, minutes: int, span_minutes: int
) -> None:
    moment = c.anchor.astimezone(UTC) + timedelta(minutes=minutes)
    try:
        after = _ref_occurrence(c, _ref_first(c, moment, strict=True))
        on_or_after = _ref_occurrence(c, _ref_first(c, moment, strict=False))
        end = moment + timedelta(minutes=span_minutes)
        window = _ref_between(c, moment, end)
    except (ValueError, OverflowError):
        return  # the reference leaves years 1..9999; nothing to compare
    assert _same(c.next_after(moment), after)
    assert _same(c.next_on_or_after(moment), on_or_after)
    # The moment in another zone names the same instant.
    berlin = moment.astimezone(ZoneInfo("Europe/Berlin"))
    assert _same(c.next_after(berlin), after)
    got = list(c.between(moment, end))
    assert len(got) == len(window)
    assert all(_same(g, w) for g, w in zip(got, window, strict=True))


def test_samoa_skipped_day() -> None:
    # Pacific/Apia went from Dec 29, 2011 23:59:59 (-10) to Dec 31 00:00 (+14).
    apia = ZoneInfo("Pacific/Apia")
    c = Cadence.days(1, datetime(2011, 12, 27, 9, tzinfo=apia))
    got = [c.occurrence(k) for k in range(6)]
    assert got == [_ref_occurrence(c, k) for k in range(6)]
    # The 30th does not exist: its 09:00 is shifted by the 24-hour gap onto the 31st.
    assert [g.day for g in got] == [27, 28, 29, 31, 31, 1]
    start = datetime(2011, 12, 29, 12, tzinfo=apia)
    assert c.next_after(start) == datetime(2011, 12, 31, 9, tzinfo=apia)
    assert list(c.between(start, datetime(2012, 1, 2, tzinfo=apia))) == got[3:6]


# ----------------------------------------- each occurrence is computed once


class _CountingLocate:
    def __init__(self) -> None:
        self.indices: list[int] = []
        self._real = cadence_module._locate

    def __call__(
        self, anchor: datetime, days: int, months: int, index: int
    ) -> tuple[datetime, datetime]:
        self.indices.append(index)
        return self._real(anchor, days, months, index)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> _CountingLocate:
    counter = _CountingLocate()
    monkeypatch.setattr(cadence_module, "_locate", counter)
    return counter


@pytest.mark.parametrize("unit", list(CadenceUnit))
@pytest.mark.parametrize("years_away", [-150, 0, 1, 40, 300])
def test_between_computes_each_occurrence_once(
    counting: _CountingLocate, unit: CadenceUnit, years_away: int
) -> None:
    ny = ZoneInfo("America/New_York")
    c = Cadence(every=1, unit=unit, anchor=datetime(2026, 1, 31, 9, tzinfo=ny))
    start = datetime(2026 + years_away, 3, 15, tzinfo=ny)
    end = _add_months(start, 36)
    got = list(c.between(start, end))
    assert got
    # Every index at most once; besides the ones yielded, at most one before
    # the range (to prove the first is first) and a couple at the ends.
    assert len(counting.indices) == len(set(counting.indices))
    assert len(counting.indices) <= len(got) + 3
    # No walk from the anchor: nothing far before the range is looked at.
    assert min(counting.indices) >= counting.indices[0] - 2


@pytest.mark.parametrize("unit", list(CadenceUnit))
def test_next_after_far_from_the_anchor_looks_at_a_few_occurrences(
    counting: _CountingLocate, unit: CadenceUnit
) -> None:
    ny = ZoneInfo("America/New_York")
    c = Cadence(every=3, unit=unit, anchor=datetime(2026, 1, 31, 2, 30, tzinfo=ny))
    for moment in (
        datetime(2526, 3, 8, 2, 45, tzinfo=ny),
        datetime(1826, 11, 1, 1, 30, tzinfo=ny),
        datetime(2026, 1, 31, 2, 30, tzinfo=ny),
    ):
        counting.indices.clear()
        assert c.next_after(moment) == _ref_occurrence(c, _ref_first(c, moment, strict=True))
        assert len(counting.indices) <= 3
        assert len(counting.indices) == len(set(counting.indices))


def test_a_gap_across_midnight_moves_an_occurrence_onto_the_next_day() -> None:
    # America/Nuuk, Mar 30, 2024: 23:00 -> 24:00 (-02 -> -01). A daily 23:30
    # that night becomes 00:30 on the 31st, the day of the next occurrence.
    nuuk = ZoneInfo("America/Nuuk")
    c = Cadence.days(1, datetime(2024, 3, 28, 23, 30, tzinfo=nuuk))
    shifted, next_one = c.occurrence(2), c.occurrence(3)
    assert shifted == datetime(2024, 3, 31, 0, 30, tzinfo=nuuk)
    assert next_one == datetime(2024, 3, 31, 23, 30, tzinfo=nuuk)
    assert [c.occurrence(k) for k in range(5)] == [_ref_occurrence(c, k) for k in range(5)]
    assert c.next_after(shifted) == next_one
    assert c.next_on_or_after(shifted) == shifted
    assert c.next_after(shifted - timedelta(microseconds=1)) == shifted
    assert list(c.between(shifted, next_one)) == [shifted]
    assert list(c.between(shifted + timedelta(microseconds=1), next_one)) == []


def test_searches_near_year_1_and_year_9999() -> None:
    # Occurrence -1 lies in year 2; occurrence -2 would be before year 1.
    c = Cadence.days(10_000, datetime(30, 1, 1, 9, tzinfo=UTC))
    first = c.occurrence(-1)
    assert first.year == 2
    with pytest.raises(OverflowError):
        c.occurrence(-2)
    moment = datetime(1, 6, 1, tzinfo=UTC)
    assert c.next_on_or_after(moment) == first
    assert c.next_after(moment) == first
    assert list(c.between(moment, datetime(40, 1, 1, tzinfo=UTC))) == [first, c.occurrence(0)]
    # At the other end the occurrence after the last one does not exist.
    yearly = Cadence.years(1, datetime(9990, 3, 1, tzinfo=UTC))
    got = list(yearly.between(datetime(9995, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC)))
    assert [o.year for o in got] == [9995, 9996, 9997, 9998, 9999]
    with pytest.raises(ValueError, match="out of range"):
        yearly.next_after(datetime(9999, 6, 1, tzinfo=UTC))
