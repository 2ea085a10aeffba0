"""Notebook display: PHI-safe, escaped HTML; plain records; pandas frames and the missing extra."""

from __future__ import annotations

import sys
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from carecoord import (
    CareCoordError,
    CarePlan,
    CarePlanId,
    ContactChannel,
    ContactPoint,
    Goal,
    GoalId,
    HumanName,
    Identifier,
    Intervention,
    InterventionId,
    InterventionKind,
    Metric,
    MetricReport,
    Patient,
    PatientId,
    Period,
    StaffId,
    Worklist,
)
from carecoord.caseload import work_item
from carecoord.display import (
    MissingExtraError,
    age_band,
    care_plan_records,
    html_table,
    patient_record,
    records_to_dataframe,
)
from carecoord.metrics import compute_metrics, readmission_rate

CHI = ZoneInfo("America/Chicago")
T0 = datetime(2026, 11, 23, 12, tzinfo=CHI)
SECRET = "ZZSECRET42"
PERIOD = Period(start=datetime(2026, 10, 1, tzinfo=CHI), end=datetime(2027, 1, 1, tzinfo=CHI))


def patient() -> Patient:
    return Patient(
        id=PatientId("p-1"),
        name=HumanName(family=f"{SECRET}family", given=(f"{SECRET}given",)),
        birth_date=date(1946, 6, 15),
        time_zone="America/Chicago",
        identifiers=(Identifier(system="urn:oid:1.2.3", value=f"{SECRET}mrn"),),
        telecom=(ContactPoint(ContactChannel.SMS, f"{SECRET}phone"),),
        enrolled_at=T0,
    )


def plan() -> CarePlan:
    return CarePlan(
        id=CarePlanId("plan-1"),
        patient_id=PatientId("p-1"),
        author_id=StaffId("coord"),
        created_at=T0,
        title=f"{SECRET}title",
        goals=(Goal(id=GoalId("g-1"), description=f"{SECRET}goal"),),
        interventions=(
            Intervention(
                id=InterventionId("i-1"),
                kind=InterventionKind.EDUCATION,
                description=f"{SECRET}task",
                created_at=T0,
                due=T0 + timedelta(days=1),
            ),
        ),
    )


def worklist() -> Worklist:
    return Worklist(
        staff_id=StaffId("ma"),
        as_of=T0,
        items=(
            work_item(
                "intervention",
                patient_id="p-1",
                item_id="i-1",
                record_id="plan-<script>",  # ids cannot hold markup; other text is escaped
                status="ready",
                now=T0,
                due=T0 - timedelta(days=2),
                priority=1,
            ),
            work_item(
                "barrier",
                patient_id="p-2",
                item_id="b-1",
                record_id="b-1",
                status="open",
                now=T0,
                due=T0 - timedelta(days=1),
            ),
        ),
    )


# ---------------------------------------------------------------------- helpers


def test_html_table_escapes_everything() -> None:
    page = html_table(
        [{"a": "<script>alert(1)</script>", "b": None, "c": 0.123456}],
        ["a", "b", "c"],
        caption="x & <y>",
    )
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<caption>x &amp; &lt;y&gt;</caption>" in page
    assert "<td></td>" in page  # None is an empty cell
    assert "<td>0.1235</td>" in page
    assert page.count("<tr>") == 2


@pytest.mark.parametrize(
    ("born", "on", "band"),
    [
        (date(2010, 6, 15), date(2028, 6, 14), "0-17"),
        (date(2010, 6, 15), date(2028, 6, 15), "18-29"),
        (date(1997, 1, 1), date(2026, 12, 31), "18-29"),
        (date(1996, 1, 1), date(2026, 1, 1), "30-39"),
        (date(1946, 6, 15), date(2026, 6, 14), "70-79"),
        (date(1946, 6, 15), date(2026, 6, 15), "80-89"),
        (date(1937, 1, 2), date(2027, 1, 1), "80-89"),
        (date(1937, 1, 1), date(2027, 1, 1), "90+"),
    ],
)
def test_age_band(born: date, on: date, band: str) -> None:
    assert age_band(born, on) == band


# --------------------------------------------------------------------- patients


def test_patient_displays_without_phi() -> None:
    p = patient()
    page = p._repr_html_()
    assert SECRET not in page
    assert "1946" not in page
    assert "p-1" in page
    assert "America/Chicago" in page
    record = patient_record(p, on=date(2026, 11, 23))
    assert record == {
        "patient_id": "p-1",
        "age_band": "80-89",
        "time_zone": "America/Chicago",
        "language": "en",
        "enrolled_at": T0,
    }


def test_plan_displays_without_phi() -> None:
    page = plan()._repr_html_()
    assert SECRET not in page
    for shown in ("plan-1", "p-1", "coord", "g-1", "i-1", "education", "ready", "draft"):
        assert shown in page, shown
    records = care_plan_records(plan())
    assert records["goals"] == [
        {
            "goal_id": "g-1",
            "priority": "medium-priority",
            "lifecycle_status": "proposed",
            "achievement_status": None,
            "due": None,
        }
    ]
    assert records["interventions"][0]["due_at"] == T0 + timedelta(days=1)
    assert SECRET not in repr(records)


# -------------------------------------------------------------------- worklists


def test_worklist_html_and_records() -> None:
    w = worklist()
    page = w._repr_html_()
    assert "<script>" not in page
    assert "plan-&lt;script&gt;" in page
    assert "2 items" in page
    assert page.index("i-1") < page.index("b-1")  # priority 1 sorts first
    records = w.to_records()
    assert [r["item_id"] for r in records] == ["i-1", "b-1"]
    assert records[1] == {
        "category": "barrier",
        "patient_id": "p-2",
        "item_id": "b-1",
        "record_id": "b-1",
        "owner_id": None,
        "status": "open",
        "priority": 0,
        "due": T0 - timedelta(days=1),
        "overdue": True,
        "late": "24 h late",
        "late_by": timedelta(days=1),
        "days_late": 1,
        "detail": None,
    }


def test_worklist_to_dataframe() -> None:
    frame = worklist().to_dataframe()
    assert list(frame.columns) == list(Worklist.COLUMNS)
    assert list(frame["item_id"]) == ["i-1", "b-1"]
    assert list(frame["days_late"]) == [2, 1]
    empty = Worklist(staff_id=StaffId("ma"), as_of=T0).to_dataframe()
    assert list(empty.columns) == list(Worklist.COLUMNS)
    assert len(empty) == 0


# ---------------------------------------------------------------------- metrics


def test_metric_and_report_display() -> None:
    metric = readmission_rate([], PERIOD)
    page = metric._repr_html_()
    assert "readmission_rate" in page
    assert "readmissions / discharges" in page
    report = compute_metrics(PERIOD, coordinator=StaffId("c-1"))
    page = report._repr_html_()
    assert "c-1" in page
    assert page.count("<tr>") == 1 + len(report)
    frame = report.to_dataframe()
    assert list(frame.columns) == list(Metric.COLUMNS)
    assert frame["name"].iloc[0] == "goal_attainment_rate"
    assert metric.to_dataframe().shape == (1, len(Metric.COLUMNS))
    assert isinstance(report, MetricReport)


# ------------------------------------------------------------ the missing extra


def test_missing_pandas_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` fail
    for export in (
        worklist().to_dataframe,
        compute_metrics(PERIOD).to_dataframe,
        readmission_rate([], PERIOD).to_dataframe,
        lambda: records_to_dataframe([], ["a"]),
    ):
        with pytest.raises(MissingExtraError) as caught:
            export()
        assert caught.value.extra == "dataframe"
        assert "carecoord[dataframe]" in str(caught.value)
        assert isinstance(caught.value, ImportError)
        assert isinstance(caught.value, CareCoordError)
    # records still work without pandas
    assert len(worklist().to_records()) == 2
