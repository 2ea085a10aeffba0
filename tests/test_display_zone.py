"""Notebook tables show times compactly in the display zone (``carecoord.display``)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carecoord import (
    MetricReport,
    NaiveDatetimeError,
    Period,
    StaffId,
    ValidationError,
    Worklist,
)
from carecoord.caseload import work_item
from carecoord.display import (
    compact_date,
    compact_moment,
    display_zone,
    get_display_zone,
    html_table,
    in_display_zone,
    set_display_zone,
)

CHI = ZoneInfo("America/Chicago")
TOKYO = ZoneInfo("Asia/Tokyo")
MOMENT = datetime(2026, 12, 1, 14, 5, tzinfo=CHI)  # a Tuesday
ZONES = ["UTC", "America/Chicago", "Asia/Tokyo", "Australia/Lord_Howe", "Asia/Kolkata"]


@pytest.fixture(autouse=True)
def _default_zone() -> Iterator[None]:
    set_display_zone(None)
    yield
    set_display_zone(None)


def test_compact_moment() -> None:
    assert compact_moment(MOMENT, this_year=2026) == "Tue 1 Dec 14:05"
    assert compact_moment(MOMENT, this_year=2027) == "Tue 1 Dec 2026 14:05"
    assert compact_moment(MOMENT, "Asia/Tokyo", this_year=2026) == "Wed 2 Dec 05:05"
    assert compact_moment(MOMENT.astimezone(UTC), CHI, this_year=2026) == "Tue 1 Dec 14:05"
    assert compact_date(date(2027, 1, 1), this_year=2026) == "Fri 1 Jan 2027"
    assert compact_date(date(2026, 3, 9), this_year=2026) == "Mon 9 Mar"


def test_the_year_shows_only_when_not_the_current_one() -> None:
    now = datetime.now(CHI)
    assert str(now.year) not in compact_moment(now)
    assert str(now.year + 1) in compact_moment(now + timedelta(days=366))


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 2), max_value=datetime(2200, 12, 30), timezones=st.just(UTC)
    ),
    st.sampled_from(ZONES),
)
def test_compact_moment_reads_back_as_the_local_time(moment: datetime, zone: str) -> None:
    text = compact_moment(moment, zone, this_year=1)  # year 1: the year is always shown
    local = moment.astimezone(ZoneInfo(zone))
    parsed = datetime.strptime(text, "%a %d %b %Y %H:%M")  # C locale names
    assert parsed == local.replace(second=0, microsecond=0, tzinfo=None)
    assert text.split()[0] == local.strftime("%a")
    assert text.split()[1] == str(local.day)  # no leading zero


def test_default_is_each_values_own_zone() -> None:
    assert get_display_zone() is None
    assert in_display_zone(MOMENT) is MOMENT
    page = html_table([{"at": MOMENT}, {"at": MOMENT.astimezone(TOKYO)}], ["at"], caption="Visits")
    assert ">Tue 1 Dec" in page and "14:05</td>" in page
    assert ">Wed 2 Dec" in page and "05:05</td>" in page
    assert "<caption>Visits (times in America/Chicago, Asia/Tokyo)</caption>" in page
    assert 'title="2026-12-01T14:05-06:00"' in page  # the full time on hover


def test_set_display_zone_converts_every_table() -> None:
    set_display_zone("Asia/Tokyo")
    assert get_display_zone() == TOKYO
    page = html_table([{"at": MOMENT}, {"at": MOMENT.astimezone(UTC)}], ["at"])
    assert page.count("Wed 2 Dec") == 2
    assert "<caption>Times in Asia/Tokyo</caption>" in page
    assert 'title="2026-12-02T05:05+09:00"' in page
    assert "14:05" not in page


def test_dates_and_other_values() -> None:
    page = html_table([{"d": date(2026, 12, 1), "n": 3, "x": None}], ["d", "n", "x"])
    assert '<td title="2026-12-01">Tue 1 Dec' in page
    assert "<td>3</td><td></td>" in page
    assert "<caption>" not in page  # no times shown: no zone note


def test_context_manager_restores_the_zone() -> None:
    set_display_zone("America/Chicago")
    with display_zone("Asia/Tokyo") as zone:
        assert zone == TOKYO
        assert compact_moment(MOMENT, this_year=2026) == "Wed 2 Dec 05:05"
    assert get_display_zone() == CHI
    with pytest.raises(RuntimeError), display_zone("UTC"):
        raise RuntimeError
    assert get_display_zone() == CHI


def test_local_is_the_machines_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        set_display_zone("local")
        assert get_display_zone() == "local"
        assert compact_moment(MOMENT, this_year=2026) == "Wed 2 Dec 01:35"
        shown = in_display_zone(MOMENT)
        assert shown.utcoffset() == timedelta(hours=5, minutes=30)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_bad_zones_and_naive_datetimes() -> None:
    set_display_zone("Asia/Tokyo")
    for bad in ("Mars/Olympus", "", "../etc/passwd", 3):
        with pytest.raises(ValidationError):
            set_display_zone(bad)  # type: ignore[arg-type]
    assert get_display_zone() == TOKYO  # unchanged
    with pytest.raises(ValidationError), display_zone("nowhere"):
        pass
    with pytest.raises(NaiveDatetimeError):
        compact_moment(datetime(2026, 12, 1, 14, 5))
    with pytest.raises(NaiveDatetimeError):
        html_table([{"at": datetime(2026, 12, 1)}], ["at"])


def test_worklist_and_metric_captions_are_compact() -> None:
    worklist = Worklist(
        staff_id=StaffId("ma"),
        as_of=MOMENT,
        items=(
            work_item(
                "barrier",
                patient_id="p-1",
                item_id="b-1",
                record_id="b-1",
                status="open",
                now=MOMENT,
                due=MOMENT - timedelta(hours=22),
            ),
        ),
    )
    with display_zone("Asia/Tokyo"):
        page = worklist._repr_html_()
    year = "" if datetime.now(TOKYO).year == 2026 else " 2026"
    assert f"as of Wed 2 Dec{year} 05:05: 1 items (times in Asia/Tokyo)" in page
    assert re.search(rf">Tue 1 Dec{year} 07:05</td>", page)
    # records keep the datetime itself
    assert worklist.to_records()[0]["due"] == MOMENT - timedelta(hours=22)
    report = MetricReport(
        period=Period(start=datetime(2026, 10, 1, tzinfo=CHI), end=datetime(2027, 1, 1, tzinfo=CHI))
    )
    caption = re.search(r"<caption>(.*)</caption>", report._repr_html_())
    assert caption is not None
    assert "Thu 1 Oct" in caption.group(1) and "Fri 1 Jan" in caption.group(1)
