"""The benchmark script runs end to end on a tiny data set (correctness only, never timing)."""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from carecoord import CarePlan, CarePlanStatus, Patient
from carecoord.storage import MemoryStore, UnitOfWork, WorkQuery

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
PATIENTS = 50


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("carecoord_benchmarks_run", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_script()


@pytest.fixture(scope="module")
def outcome(
    bench: ModuleType, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], Path, Path]:
    where = tmp_path_factory.mktemp("bench")
    out, db_dir = where / "results.json", where / "db"
    argv = [
        "--patients",
        str(PATIENTS),
        "--staff",
        "3",
        "--seed",
        "5",
        "--batch-size",
        "7",
        "--repeat",
        "3",
        "--round-seconds",
        "0.001",
        "--import-runs",
        "1",
        "--memory-patients",
        "20",
        "--out",
        str(out),
        "--db-dir",
        str(db_dir),
    ]
    results: dict[str, Any] = bench.main(argv)
    return results, out, db_dir


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def test_json_holds_what_main_returned(outcome: tuple[dict[str, Any], Path, Path]) -> None:
    results, out, _ = outcome
    assert json.loads(out.read_text()) == results
    assert results["sizes"] == {
        "patients": PATIENTS,
        "interventions_per_patient": 10,
        "staff": 3,
        "seed": 5,
        "now": "2026-11-23T18:00:00+00:00",
    }
    assert set(results["machine"]) >= {"python", "cpu_count", "sqlite", "date", "platform"}
    assert results["machine"]["python"] == ".".join(map(str, sys.version_info[:3]))


def test_every_figure_is_present_and_sane(outcome: tuple[dict[str, Any], Path, Path]) -> None:
    results = outcome[0]
    load = results["bulk_load"]
    for key in (
        "generate_s",
        "prepare_s",
        "store_write_s",
        "raw_write_s",
        "raw_batched_write_s",
        "ratio",
        "batched_ratio",
        "wall_s",
    ):
        assert is_number(load[key]) and load[key] > 0, key
    assert load["end_to_end_ratio"] > load["ratio"]
    work = results["worklist"]
    for key in ("store_ms", "raw_ms", "ratio"):
        assert is_number(work[key]) and work[key] > 0, key
    ser = results["serialization"]
    for key in ("unstructure_us", "structure_us", "carecoord_us", "json_us", "with_json_us"):
        assert is_number(ser[key]) and ser[key] > 0, key
    assert (ser["goals"], ser["interventions"]) == (3, 10)
    assert ser["payload_bytes"] > 1000
    fhir = ser["fhir_resources"]  # fhir.resources is part of the test extra
    assert fhir["activities"] == 10
    assert fhir["parse_us"] > 0 and fhir["round_trip_us"] >= fhir["parse_us"] * 0.5
    imp = results["import"]
    assert is_number(imp["import_ms"]) and imp["interpreter_ms"] > 0
    assert imp["with_import_ms"] > 0 and imp["carecoord_modules"] >= 10
    assert imp["importtime_cumulative_ms"] > 0
    mem = results["memory"]
    assert (mem["patients"], mem["records"]) == (20, 40)
    assert mem["bytes"] > 0 and mem["bytes_per_intervention"] > 0
    assert set(results["targets_met"]) == set(results["targets"])
    assert all(isinstance(v, bool) for v in results["targets_met"].values())


def test_store_and_raw_databases_hold_the_same_rows(
    bench: ModuleType, outcome: tuple[dict[str, Any], Path, Path]
) -> None:
    results, _, db_dir = outcome
    load = results["bulk_load"]
    chunks = list(bench.generate(PATIENTS, 10, 5, bench.staff_ids(3)))
    plans = [r for chunk in chunks for r in chunk if isinstance(r, CarePlan)]
    interventions = sum(len(p.interventions) for p in plans)
    assert (load["patients"], load["plans"], load["interventions"]) == (50, 50, interventions)
    # one review row per plan, one per goal (2 each) and one per intervention
    assert load["index_rows"] == interventions + 50 + 100
    expected = {"records": 100, "index_rows": load["index_rows"]}
    assert load["row_counts"] == {"store": expected, "raw": expected, "raw_batched": expected}
    assert load["batches"] == 100 // 7 + 1  # one chunk of 100 records, in batches of 7
    tables = {}
    for name in ("store", "raw", "raw_batched"):
        with sqlite3.connect(db_dir / f"{name}.sqlite3") as conn:
            tables[name] = (
                conn.execute(
                    "SELECT kind, id, version, patient_id, payload FROM records ORDER BY 1, 2"
                ).fetchall(),
                conn.execute("SELECT * FROM work_index ORDER BY 1, 2, 3, 4").fetchall(),
            )
        conn.close()
    assert tables["store"] == tables["raw"] == tables["raw_batched"]
    assert len(tables["store"][0]) == 100


def test_worklist_matches_the_model(
    bench: ModuleType, outcome: tuple[dict[str, Any], Path, Path]
) -> None:
    work = outcome[0]["worklist"]
    assert work["coordinator"] == "staff-000"
    assert work["same_results"] is True
    staff = bench.staff_ids(3)
    overdue = [
        (-item.priority.rank, item.due_at, str(plan.patient_id), str(item.id))
        for chunk in bench.generate(PATIENTS, 10, 5, staff)
        for plan in chunk
        if isinstance(plan, CarePlan) and plan.status is CarePlanStatus.ACTIVE
        for item in plan.interventions
        if item.assignee_id == "staff-000" and item.is_overdue(bench.NOW)
    ]
    assert len(overdue) > 0  # the tiny data set still has overdue work for staff-000
    assert work["item_ids"] == [key[3] for key in sorted(overdue)]
    assert work["rows"] == len(overdue)


def test_data_set_is_deterministic(bench: ModuleType) -> None:
    staff = bench.staff_ids(4)
    first = [r for chunk in bench.generate(6, 3, 11, staff, chunk=2) for r in chunk]
    again = [r for chunk in bench.generate(6, 3, 11, staff) for r in chunk]
    longer = [r for chunk in bench.generate(9, 3, 11, staff) for r in chunk]
    other_seed = [r for chunk in bench.generate(6, 3, 12, staff) for r in chunk]
    assert first == again
    assert longer[:12] == first
    assert other_seed != first
    assert [type(r) for r in first[:2]] == [Patient, CarePlan]
    plans = [r for r in first if isinstance(r, CarePlan)]
    assert all(1 <= len(p.interventions) <= 8 for p in plans)
    assert {i.assignee_id for p in plans for i in p.interventions} <= set(staff)


def test_record_write_is_what_a_unit_of_work_writes(bench: ModuleType) -> None:
    record = next(iter(bench.generate(1, 2, 3, bench.staff_ids(2))))[1]
    assert isinstance(record, CarePlan)
    store = MemoryStore()
    with UnitOfWork(store) as uow:
        uow.add(record)
    stored = store.read("CarePlan", str(record.id))
    write = bench.record_write(record)
    assert stored is not None and stored.payload == write.payload
    assert stored.patient_id == write.patient_id == str(record.patient_id)
    hits = store.query(WorkQuery(category="intervention", open_only=False))
    assert len(hits) == len(record.interventions)
    assert {h.row for h in hits} == {r for r in write.index if r.category == "intervention"}


def test_table_names_every_figure(
    bench: ModuleType, outcome: tuple[dict[str, Any], Path, Path]
) -> None:
    results = outcome[0]
    lines = bench.table(results).splitlines()
    assert lines[0].startswith(f"carecoord benchmarks: {PATIENTS} patients, ")
    assert lines[2].split() == ["figure", "carecoord", "floor", "ratio", "target", "met"]
    labels = [line[:34].strip() for line in lines[4:]]
    assert labels == [
        "bulk load (SQLiteStore.write)",
        "vs raw in the same batches",
        "+ serialize and index (UoW)",
        f"overdue worklist ({results['worklist']['rows']} rows)",
        "full plan structure+unstructure",
        "vs fhir.resources R4B CarePlan",
        "import carecoord",
        "MemoryStore per intervention",
    ]


def test_rejects_nonsense_sizes(bench: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        bench.parse_args(["--patients", "0"])
    assert info.value.code == 2
    assert "--patients" in capsys.readouterr().err
