"""What works, the pure rules: per-service and per-program figures worked out by hand on
the world of tests/_what_works_world.py, monthly periods across DST changes and month
ends, and the monthly series value (records, DataFrame, HTML)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _what_works_world import ENROLMENTS, MARCH, NY, P1, PROGRAM, ny, plans, referrals
from carecoord import Metric, NotFoundError, Period, ValidationError
from carecoord.metrics import referral_loop_closure_rate
from carecoord.model._base import instant
from carecoord.what_works import (
    MetricSeries,
    WhatWorksFacts,
    month_periods,
    monthly_series,
    program_metrics,
    program_metrics_from_facts,
    resource_metrics,
    resource_metrics_from_facts,
)


def figures(metrics: tuple[Metric, ...]) -> dict[tuple[str, str | None], tuple[object, ...]]:
    return {(m.name, m.subject): (m.numerator, m.denominator, m.value) for m in metrics}


# ------------------------------------------------------------------ resources


def test_per_service_figures_by_hand() -> None:
    found = resource_metrics(referrals(), MARCH)
    assert [(m.name, m.subject) for m in found] == [
        ("referral_loop_closure_rate", "service:meals"),
        ("referral_days_to_close", "service:meals"),
        ("referral_loop_closure_rate", "service:pantry"),
        ("referral_days_to_close", "service:pantry"),
    ]
    assert figures(found) == {
        # meals: r5 sent in March, result only on 2 April; r4 (sent in Feb) closed on 2 March
        ("referral_loop_closure_rate", "service:meals"): (0, 1, 0.0),
        ("referral_days_to_close", "service:meals"): (None, 1, 10.0),
        # pantry: r1, r2, r3 and r7 (23:30 on 31 March, local) sent; r1 and r2 closed
        ("referral_loop_closure_rate", "service:pantry"): (2, 4, 0.5),
        ("referral_days_to_close", "service:pantry"): (None, 2, 7.25),  # 4.5 and 10 days
    }
    assert all(m.period == MARCH for m in found)
    assert all("referrals to the directory service" in m.definition for m in found)


def test_services_asked_for_are_reported_even_without_referrals() -> None:
    found = resource_metrics(referrals(), MARCH, services=["pantry", "library"])
    assert figures(found) == {
        ("referral_loop_closure_rate", "service:library"): (0, 0, None),
        ("referral_days_to_close", "service:library"): (None, 0, None),
        ("referral_loop_closure_rate", "service:pantry"): (2, 4, 0.5),
        ("referral_days_to_close", "service:pantry"): (None, 2, 7.25),
    }


def test_a_service_figure_is_the_overall_rule_over_its_referrals() -> None:
    pantry = [
        r for r in referrals() if r.target and r.target.reference == "HealthcareService/pantry"
    ]
    overall = referral_loop_closure_rate(pantry, MARCH)
    (mine,) = [m for m in resource_metrics(referrals(), MARCH) if m.subject == "service:pantry"][:1]
    assert (mine.numerator, mine.denominator, mine.value) == (
        overall.numerator,
        overall.denominator,
        overall.value,
    )


# ------------------------------------------------------------------- programs


def test_program_figures_by_hand() -> None:
    found = program_metrics(PROGRAM, ENROLMENTS, MARCH, plans=plans(), referrals=referrals())
    assert [(m.name, m.subject) for m in found] == [
        ("goal_attainment_rate", "program:diabetes"),
        ("goal_attainment_rate", "not-in-program:diabetes"),
        ("referral_loop_closure_rate", "program:diabetes"),
        ("referral_loop_closure_rate", "not-in-program:diabetes"),
        ("referral_days_to_close", "program:diabetes"),
        ("referral_days_to_close", "not-in-program:diabetes"),
    ]
    assert figures(found) == {
        # enrolled at the end of the due date: g1 (met), g3 (met), g4 (not met)
        ("goal_attainment_rate", "program:diabetes"): (2, 3, 2 / 3),
        # g2 (p1 left on 15 March; not met), g5 (p3, met); g6 is due in April
        ("goal_attainment_rate", "not-in-program:diabetes"): (1, 2, 0.5),
        # sent while enrolled and in March: r1, r2, both closed
        ("referral_loop_closure_rate", "program:diabetes"): (2, 2, 1.0),
        # r3, r5 (p2 enrolled only from 8 March), r6, r7: r6 closed
        ("referral_loop_closure_rate", "not-in-program:diabetes"): (1, 4, 0.25),
        # closed in March, sent while enrolled: r1 4.5, r2 10, r4 10 days
        ("referral_days_to_close", "program:diabetes"): (None, 3, 10.0),
        ("referral_days_to_close", "not-in-program:diabetes"): (None, 1, 2.0),  # r6
    }
    assert "patients not enrolled" in found[1].definition


def test_enrolled_and_not_enrolled_split_every_goal_and_referral() -> None:
    """Whatever the enrolments, the two groups add up to the overall figures."""
    for enrolments in ({}, ENROLMENTS, {str(P1): [Period(start=ny(1, 1))]}):
        found = program_metrics(PROGRAM, enrolments, MARCH, plans=plans(), referrals=referrals())
        goals = [m for m in found if m.name == "goal_attainment_rate"]
        assert sum(m.denominator or 0 for m in goals) == 5
        assert sum(int(m.numerator or 0) for m in goals) == 3
        closure = [m for m in found if m.name == "referral_loop_closure_rate"]
        assert sum(m.denominator or 0 for m in closure) == 6


def test_the_goal_moment_follows_the_period_zone() -> None:
    """g4 is due on 8 March; p2 joined at 10:00 New York time that day. Reported in
    Tokyo, 8 March ends at 00:00 JST on 9 March = 15:00 UTC = 10:00 EST, exactly when
    p2 joined: at the day's last instant (a microsecond earlier) p2 was not enrolled."""
    tokyo = ZoneInfo("Asia/Tokyo")
    march_tokyo = Period(
        start=datetime(2025, 3, 1, tzinfo=tokyo), end=datetime(2025, 4, 1, tzinfo=tokyo)
    )
    found = figures(program_metrics(PROGRAM, ENROLMENTS, march_tokyo, plans=plans()))
    assert found[("goal_attainment_rate", "program:diabetes")] == (2, 2, 1.0)
    assert found[("goal_attainment_rate", "not-in-program:diabetes")] == (1, 3, 1 / 3)


def test_enrolment_periods_must_be_periods() -> None:
    with pytest.raises(ValidationError):
        program_metrics(PROGRAM, {"p1": [(ny(1, 1), None)]}, MARCH)  # type: ignore[list-item]
    with pytest.raises(ValidationError):
        program_metrics(PROGRAM, {}, Period(start=MARCH.start))


# --------------------------------------------------------------------- months


def test_months_start_at_local_midnight_across_dst() -> None:
    feb, mar, apr = month_periods(date(2025, 2, 14), date(2025, 4, 30), "America/New_York")
    assert [p.start for p in (feb, mar, apr)] == [ny(2, 1, 0), ny(3, 1, 0), ny(4, 1, 0)]
    assert feb.end == mar.start and mar.end == apr.start
    assert apr.end == datetime(2025, 5, 1, tzinfo=NY)
    assert mar.end is not None and apr.end is not None
    assert instant(mar.end) - instant(mar.start) == timedelta(days=31, hours=-1)  # spring forward
    (nov,) = month_periods(date(2025, 11, 1), date(2025, 11, 1), "America/New_York")
    assert nov.end is not None
    assert instant(nov.end) - instant(nov.start) == timedelta(days=30, hours=1)  # fall back
    dec, jan = month_periods(date(2025, 12, 31), date(2026, 1, 1), "UTC")
    assert (dec.start.month, dec.start.year, jan.start.year) == (12, 2025, 2026)


def test_month_periods_reject_bad_input() -> None:
    with pytest.raises(ValidationError):
        month_periods(date(2025, 3, 1), date(2025, 2, 1), "UTC")
    with pytest.raises(ValidationError):
        month_periods(date(2025, 3, 1), date(2025, 3, 1), "Mars/Olympus")
    with pytest.raises(ValidationError):
        month_periods(datetime(2025, 3, 1), date(2025, 3, 1), "UTC")
    with pytest.raises(ValidationError):
        month_periods(date(1900, 1, 1), date(2100, 12, 1), "UTC")  # too long


@settings(max_examples=60, deadline=None)
@given(
    first=st.dates(min_value=date(1970, 1, 1), max_value=date(2100, 1, 1)),
    span=st.integers(min_value=0, max_value=40),
    zone=st.sampled_from(["America/New_York", "Europe/London", "Australia/Sydney", "UTC"]),
)
def test_months_tile_the_span(first: date, span: int, zone: str) -> None:
    """Oracle: consecutive months, each starting at local midnight of day 1."""
    last_index = first.year * 12 + first.month - 1 + span
    last = date(last_index // 12, last_index % 12 + 1, 1)
    months = month_periods(first, last, zone)
    assert len(months) == span + 1
    tz = ZoneInfo(zone)
    for k, month in enumerate(months):
        index = first.year * 12 + first.month - 1 + k
        local = month.start.astimezone(tz)
        assert (local.year, local.month, local.day, local.hour) == (
            index // 12,
            index % 12 + 1,
            1,
            0,
        )
        if k:
            assert months[k - 1].end == month.start


# --------------------------------------------------------------------- series


def _series() -> tuple[MetricSeries, ...]:
    months = month_periods(date(2025, 2, 1), date(2025, 4, 1), "America/New_York")
    facts = WhatWorksFacts.of(plans=plans(), referrals=referrals())
    per_month = [
        resource_metrics_from_facts(facts, m, services=["meals", "pantry"])
        + program_metrics_from_facts(PROGRAM, ENROLMENTS, facts, m)
        for m in months
    ]
    return monthly_series(per_month, "America/New_York")


def test_monthly_series_by_hand() -> None:
    series = {(s.name, s.subject): s for s in _series()}
    assert len(series) == 4 + 6
    pantry = series[("referral_loop_closure_rate", "service:pantry")]
    assert pantry.months == (date(2025, 2, 1), date(2025, 3, 1), date(2025, 4, 1))
    assert pantry.values == (None, 0.5, None)  # r7 (31 March 23:30 local) is March's
    meals = series[("referral_loop_closure_rate", "service:meals")]
    assert [(m.numerator, m.denominator) for m in meals.points] == [(0, 1), (0, 1), (0, 0)]
    days = series[("referral_days_to_close", "service:meals")]
    # r5: sent 5 March 09:00 EST, result 2 April 09:00 EDT: 28 days less the lost hour
    assert days.values == (None, 10.0, 28 - 1 / 24)
    assert days[date(2025, 4, 17)] is days.points[2]
    goals = series[("goal_attainment_rate", "program:diabetes")]
    assert [(m.numerator, m.denominator) for m in goals.points] == [(0, 0), (2, 3), (0, 0)]
    others = series[("goal_attainment_rate", "not-in-program:diabetes")]
    # g6, due 1 April: p1 left the program on 15 March
    assert [(m.numerator, m.denominator) for m in others.points] == [(0, 0), (1, 2), (1, 1)]


def test_month_ends_follow_the_zone() -> None:
    """r7 was sent at 23:30 on 31 March in New York, 03:30 on 1 April in UTC."""
    facts = WhatWorksFacts.of(referrals=referrals())
    mar, apr = month_periods(date(2025, 3, 1), date(2025, 4, 1), "UTC")
    in_utc = [resource_metrics_from_facts(facts, m, services=["pantry"])[0] for m in (mar, apr)]
    assert [(m.numerator, m.denominator) for m in in_utc] == [(2, 3), (0, 1)]


def test_series_export_and_lookup() -> None:
    pytest.importorskip("pandas")
    (pantry,) = [s for s in _series() if s.subject == "service:pantry" and s.name.endswith("rate")]
    records = pantry.to_records()
    assert [r["month"] for r in records] == ["2025-02", "2025-03", "2025-04"]
    assert list(records[1]) == list(MetricSeries.COLUMNS)
    assert (records[1]["numerator"], records[1]["denominator"]) == (2, 4)
    frame = pantry.to_dataframe()
    assert list(frame.columns) == list(MetricSeries.COLUMNS)
    assert frame["denominator"].tolist() == [0, 4, 0]
    assert list(pantry) == list(pantry.months) and len(pantry) == 3
    html = pantry._repr_html_()
    assert "service:pantry" in html and "2025-03" in html
    with pytest.raises(NotFoundError):
        pantry.get(date(2025, 5, 1))


def test_a_series_holds_one_metric() -> None:
    (first, second, *_) = _series()
    with pytest.raises(ValidationError):
        MetricSeries(
            first.name, first.subject, "America/New_York", (*first.points, second.points[0])
        )
    with pytest.raises(ValidationError):
        MetricSeries(first.name, first.subject, "Nowhere/Else", first.points)
    open_ended = attrs.evolve(first.points[0], period=Period(start=MARCH.start))
    with pytest.raises(ValidationError):
        MetricSeries(first.name, first.subject, "UTC", (open_ended,))
