"""benchmarks/floors.py runs end to end on a tiny data set (correctness only, never timing).

Each figure's carecoord side and its floor must return the same rows or results;
no assertion looks at a time.
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import sys
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from carecoord import Cadence, CarePlan
from carecoord.metrics import compute_metrics
from carecoord.model import Period
from carecoord.serialization import from_payload
from carecoord.storage import RECORD_TYPES, index_rows

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPT = BENCHMARKS / "floors.py"
PATIENTS = 40
LIMIT = 5

TINY = [
    "--patients",
    str(PATIENTS),
    "--coordinators",
    "2",
    "--load-patients",
    "12",
    "--batch-size",
    "7",
    "--limit",
    str(LIMIT),
    "--repeat",
    "2",
    "--due-rows",
    "6",
    "--due-repeat",
    "1",
    "--metrics-floor-repeat",
    "1",
    "--rounds",
    "1",
    "--round-seconds",
    "0.001",
    "--cadence-years",
    "2",
    "--import-runs",
    "1",
    "--build-workers",
    "0",
    "--build-batch",
    "25",
    "--seed",
    "5",
]
"""Every figure at a tiny size (a few seconds in all)."""


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("carecoord_benchmarks_floors", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def floors() -> ModuleType:
    return load_script()


def helper(name: str) -> ModuleType:
    """One of the script's helper modules (importable once the script is loaded)."""
    module = sys.modules[name]
    assert str(BENCHMARKS) in sys.path
    return module


@pytest.fixture(scope="module")
def outcome(
    floors: ModuleType, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], Path, Path]:
    where = tmp_path_factory.mktemp("floors")
    out, db_dir = where / "floors-results.json", where / "db"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(floors.DSN_ENV, raising=False)
        results: dict[str, Any] = floors.main([*TINY, "--out", str(out), "--db-dir", str(db_dir)])
    return results, out, db_dir


def by_key(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["key"]: f for f in results["figures"]}


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def test_json_holds_what_main_returned(outcome: tuple[dict[str, Any], Path, Path]) -> None:
    results, out, _ = outcome
    assert json.loads(out.read_text()) == results
    assert results["errors"] == {}
    assert results["sizes"]["patients"] == PATIENTS
    assert results["sizes"]["now"] == "2026-11-23T18:00:00+00:00"
    assert set(results["machine"]) >= {"python", "cpu_count", "sqlite", "orjson", "date"}
    assert results["machine"]["python"] == ".".join(map(str, sys.version_info[:3]))
    counts = results["dataset"]["counts"]
    assert counts["patients"] == PATIENTS and counts["interventions"] >= 5 * PATIENTS


def test_every_figure_has_its_floor_ratio_and_verdict(
    outcome: tuple[dict[str, Any], Path, Path],
) -> None:
    results = outcome[0]
    figures = by_key(results)
    expected = {
        "codec_orjson",
        "codec_stdlib",
        "codec_text_orjson",
        "codec_text_stdlib",
        "cadence",
        "import",
        "bulk_load",
        "worklist_sqlite",
        "interventions_due",
        "metrics",
    }
    assert set(figures) == expected  # PostgreSQL is skipped without a DSN
    for key, fig in figures.items():
        assert is_number(fig["carecoord_s"]) and fig["carecoord_s"] > 0, key
        assert is_number(fig["floor_s"]) and fig["floor_s"] > 0, key
        assert fig["ratio"] == pytest.approx(fig["carecoord_s"] / fig["floor_s"]), key
        assert fig["floor_label"] and fig["target"], key
        if fig["target_ratio"] is None and fig["target_value"] is None:
            assert fig["met"] is None, key
        else:
            assert isinstance(fig["met"], bool), key
            assert results["targets_met"][key] == fig["met"]
    assert {k for k, f in figures.items() if f["met"] is not None} == set(results["targets_met"])
    assert [figures[k]["target_ratio"] for k in ("codec_orjson", "codec_stdlib")] == [3.0, 6.0]
    codec_text = ("codec_text_orjson", "codec_text_stdlib")
    assert [figures[k]["target_ratio"] for k in codec_text] == [3.0, 6.0]
    for key in ("orjson", "stdlib"):  # the same floor, measured in the same rounds
        assert figures[f"codec_text_{key}"]["floor_s"] == figures[f"codec_{key}"]["floor_s"]
    assert figures["worklist_sqlite"]["target_value"] == 0.001
    assert (figures["cadence"]["target_ratio"], figures["bulk_load"]["target_ratio"]) == (2, 2)
    assert figures["import"]["target_ratio"] == 1.3


def test_carecoord_and_floor_return_the_same_results(
    outcome: tuple[dict[str, Any], Path, Path],
) -> None:
    results = outcome[0]
    for fig in results["figures"]:
        if fig["key"] not in ("import", "metrics"):
            assert fig["same_results"] is True, fig["key"]
    assert results["all_same_results"] is True
    designs = by_key(results)["worklist_sqlite"]["details"]["same_results_per_design"]
    assert designs == {"plain_sql": True, "covering_index": True, "clustered": True}


def test_skips_postgres_without_a_dsn(
    floors: ModuleType, outcome: tuple[dict[str, Any], Path, Path]
) -> None:
    results = outcome[0]
    assert floors.DSN_ENV in results["skipped"]["worklist_postgres"]
    assert "skipped worklist_postgres" in floors.table(results["figures"], results["skipped"])


def test_worklist_is_the_first_overdue_rows_of_the_coordinator(
    outcome: tuple[dict[str, Any], Path, Path],
) -> None:
    data = helper("_floors_data")
    staff = data.Staff(2)
    coordinator = str(staff.coordinators[0])
    rows = [
        row
        for number in range(PATIENTS)
        for record in data.patient_records(number, 5, staff)
        if isinstance(record, CarePlan)
        for row in index_rows(record)
        if row.category == "intervention"
        and row.owner_id == coordinator
        and row.is_open
        and row.due_at is not None
        and row.due_at < data.NOW
    ]
    rows.sort(key=lambda r: (-r.priority, r.due_at, r.patient_id, r.item_id))
    assert len(rows) > LIMIT  # the tiny data set still has more overdue work than the limit
    work = by_key(outcome[0])["worklist_sqlite"]["details"]
    assert work["rows"] == LIMIT
    assert work["item_ids"] == [r.item_id for r in rows[:LIMIT]]


def test_interventions_due_returns_the_rows_of_the_query(
    outcome: tuple[dict[str, Any], Path, Path],
) -> None:
    due = by_key(outcome[0])["interventions_due"]
    assert due["same_results"] is True
    assert due["details"]["rows"] == 6


def test_metrics_floor_reads_every_record_and_the_report_is_the_pure_one(
    outcome: tuple[dict[str, Any], Path, Path],
) -> None:
    results, _, db_dir = outcome
    details = by_key(results)["metrics"]["details"]
    assert details["payloads_loaded"] >= results["dataset"]["counts"]["records"]
    conn = sqlite3.connect(db_dir / "floors.sqlite3")
    try:
        stored = conn.execute("SELECT kind, payload FROM records").fetchall()
    finally:
        conn.close()
    loaded: dict[str, list[Any]] = {}
    for kind, payload in stored:
        loaded.setdefault(kind, []).append(from_payload(json.loads(payload), RECORD_TYPES[kind]))
    start, end = (datetime.fromisoformat(t) for t in details["period"])
    report = compute_metrics(
        Period(start=start, end=end),
        plans=loaded["CarePlan"],
        referrals=loaded["Referral"],
        reviews=loaded["Review"],
        patients=loaded["Patient"],
        notes=loaded["Note"],
        teams=loaded["CareTeam"],
        as_of=helper("_floors_data").NOW,
    )
    expected = {
        m.name: {"numerator": m.numerator, "denominator": m.denominator, "value": m.value}
        for m in report.metrics
        if m.subject is None
    }
    assert details["metrics"] == expected
    # a realistic month: most measures have something to count
    assert sum(1 for m in expected.values() if m["denominator"]) >= 5


def test_bulk_load_wrote_the_same_rows_through_the_unit_of_work_and_raw(
    outcome: tuple[dict[str, Any], Path, Path],
) -> None:
    results, _, db_dir = outcome
    load = by_key(results)["bulk_load"]["details"]
    assert load["batches"] == -(-load["records"] // 7)
    tables = {}
    for name in ("load-store", "load-raw"):
        conn = sqlite3.connect(db_dir / f"{name}.sqlite3")
        try:
            tables[name] = (
                conn.execute("SELECT * FROM records ORDER BY kind, id").fetchall(),
                conn.execute(
                    "SELECT * FROM work_index ORDER BY kind, record_id, category, item_id"
                ).fetchall(),
            )
        finally:
            conn.close()
    assert tables["load-store"] == tables["load-raw"]
    assert len(tables["load-store"][0]) == load["records"] > 0


def test_codec_figures_run_on_the_backend_they_name(
    outcome: tuple[dict[str, Any], Path, Path],
) -> None:
    figures = by_key(outcome[0])
    assert figures["codec_orjson"]["details"]["payload_bytes"] > 5000
    stdlib = figures["codec_stdlib"]["details"]["backend"]
    assert stdlib.startswith("stdlib")
    assert figures["codec_text_stdlib"]["details"]["backend"] == stdlib
    json_module = sys.modules.get("carecoord._json")
    if json_module is not None and hasattr(json_module, "backend"):
        assert figures["codec_orjson"]["details"]["backend"] == "orjson"


def test_cadence_floors_follow_the_dst_rule() -> None:
    codec = helper("_floors_codec")
    new_york = ZoneInfo("America/New_York")
    for anchor in [*codec.anchors(), datetime(2024, 2, 29, 1, 30, tzinfo=new_york)]:
        end = anchor + timedelta(days=3 * 365)
        expected = list(Cadence.months(1, anchor).between(anchor, end))
        for floor in (codec.monthly_floor, codec.monthly_floor_tight):
            got = floor(anchor, end)
            assert [(o.isoformat(), o.tzinfo) for o in got] == [
                (o.isoformat(), o.tzinfo) for o in expected
            ]
    gap = codec.monthly_floor(
        datetime(2026, 2, 8, 2, 30, tzinfo=new_york), datetime(2026, 4, 1, tzinfo=new_york)
    )
    assert [o.isoformat() for o in gap] == [
        "2026-02-08T02:30:00-05:00",
        "2026-03-08T03:30:00-04:00",
    ]


def test_a_kept_data_set_is_reused(
    floors: ModuleType, outcome: tuple[dict[str, Any], Path, Path], tmp_path: Path
) -> None:
    _, _, db_dir = outcome
    argv = [*TINY, "--only", "worklist", "--out", str(tmp_path / "again.json")]
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(floors.DSN_ENV, raising=False)
        again: dict[str, Any] = floors.main([*argv, "--db-dir", str(db_dir)])
    assert again["dataset"]["reused_sqlite"] is True
    assert [f["key"] for f in again["figures"]] == ["worklist_sqlite"]
    assert again["figures"][0]["same_results"] is True


def test_rejects_nonsense_options(floors: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--patients", "0"], ["--only", "nothing"], ["--round-seconds", "0"]):
        with pytest.raises(SystemExit) as info:
            floors.parse_args(argv)
        assert info.value.code == 2
    assert capsys.readouterr().err.count("error") == 3


def test_postgres_worklist_returns_the_rows_of_raw_psycopg(
    floors: ModuleType, tmp_path: Path
) -> None:
    from _pg import new_schema_name, postgres_dsn, raw_connection

    dsn = postgres_dsn()  # skips without a server
    schema = new_schema_name()
    argv = [*TINY, "--only", "worklist", "--pg-dsn", dsn, "--pg-schema", schema]
    results: dict[str, Any] = floors.main([*argv, "--out", str(tmp_path / "pg.json")])
    figures = by_key(results)
    assert set(figures) == {"worklist_sqlite", "worklist_postgres"}
    pg = figures["worklist_postgres"]
    assert pg["same_results"] is True and pg["details"]["rows"] == LIMIT
    assert pg["details"]["item_ids"] == figures["worklist_sqlite"]["details"]["item_ids"]
    assert isinstance(pg["met"], bool) and pg["floor_s"] > 0
    assert results["machine"]["postgresql"]
    with raw_connection(dsn) as conn:  # without --db-dir the schema is dropped
        gone = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
        assert gone.fetchone() is None
