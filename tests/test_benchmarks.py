"""The benchmark scripts run end to end on tiny data sets (correctness only, never timing)."""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from carecoord import CarePlan, CarePlanStatus, Patient, PatientId, TaskStatus
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
    active = sum(p.status is CarePlanStatus.ACTIVE for p in plans)
    completed = sum(
        i.status is TaskStatus.COMPLETED and i.assignee_id is not None and bool(i.history)
        for p in plans
        for i in p.interventions
    )
    # one review row per plan, one per goal (2 each) and one per intervention, one more
    # per completed intervention; metric facts: one row per patient and per plan, one
    # more per plan that became active; one eligibility row (the birth date) per patient
    assert completed > 0
    rows = interventions + completed + 50 + 100 + 50 + 50 + active + 50
    assert load["index_rows"] == rows
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


# ------------------------------------------------------- benchmarks/service.py
SERVICE_SCRIPT = SCRIPT.with_name("service.py")


def load_service_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("carecoord_benchmarks_service", SERVICE_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def service_bench() -> ModuleType:
    return load_service_script()


@pytest.fixture(scope="module")
def service_outcome(
    service_bench: ModuleType, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("service-bench") / "service-results.json"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(service_bench.DSN_ENV, raising=False)
        results: dict[str, Any] = service_bench.main(["--quick", "--out", str(out)])
    return results, out


def test_service_quick_run_measures_every_figure_on_sqlite(
    service_bench: ModuleType, service_outcome: tuple[dict[str, Any], Path]
) -> None:
    results, out = service_outcome
    assert json.loads(out.read_text()) == results
    sizes = results["sizes"]
    assert sizes["patients"] == list(service_bench.QUICK_SIZES)
    assert sizes["ops"] == service_bench.QUICK_OPS and sizes["quick"] is True
    stages = results["sqlite"]["stages"]
    assert [s["patients"] for s in stages] == sizes["patients"]
    for stage in stages:
        measured = stage["measured"]
        for figure in service_bench.FIGURES:
            for side in ("carecoord", "floor"):
                part = measured[figure][side]
                assert part["ops"] == sizes["ops"], (figure, side)
                assert part["failures"] == 0 and part["errors"] == {}, (figure, side)
                assert is_number(part["ops_per_s"]) and part["ops_per_s"] > 0
                assert part["p50_us"] <= part["p95_us"]
            assert is_number(measured[figure]["ratio"]) and measured[figure]["ratio"] > 0
        written = measured["enrol"]["rows_written"]
        assert written["transactions"] == 3  # one unit of work per operation
        assert written["kinds"]["AuditEntry"] == 3  # one audit entry per operation
        assert {"Patient", "CareTeam", "CarePlan"} <= set(written["kinds"])
        assert measured["enrol"]["floor_all_rows"]["failures"] == 0
        # every operation appended an audit entry, and seal_audit() chained them all
        assert measured["seal_audit"]["entries"] >= 3 * sizes["ops"] + 5 * sizes["ops"]
        load = stage["load"]
        assert load["records"] == 5 * load["added"] + (100 if stage is stages[0] else 0)
    assert set(results["sqlite"]["scaling"]) == set(service_bench.FIGURES)


def test_service_quick_run_skips_postgres_and_judges_every_target(
    service_bench: ModuleType,
    service_outcome: tuple[dict[str, Any], Path],
) -> None:
    results = service_outcome[0]
    assert "is not set" in results["postgres"]["skipped"]
    assert results["sizes"]["processes"] == []
    assert set(results["targets_met"]) == set(service_bench.TARGETS)
    assert all(isinstance(v, bool) for v in results["targets_met"].values())
    # read and enrol ratio at each size, scaling for each figure
    assert len(results["checks"]) == 2 * 2 + 3
    text = service_bench.table(results)
    verdicts = [row for row in text.splitlines() if row.startswith("target ")]
    assert len(verdicts) == len(service_bench.TARGETS)
    assert all(": met (" in row or ": not met (" in row for row in verdicts)
    assert "PostgreSQL skipped" in text


def test_service_background_feeds_the_service(service_bench: ModuleType) -> None:
    from carecoord.service import CareCoordinator

    first = service_bench.background(service_bench.patient_rng(3, 7), 7)
    assert first == service_bench.background(service_bench.patient_rng(3, 7), 7)
    assert [type(r).__name__ for r in first] == ["Patient", "CareTeam", "CarePlan", "Note", "Note"]
    store = MemoryStore()
    times = service_bench.load_range(store, 3, 0, 12, 7, staff=True)
    assert times.records == 100 + 5 * 12
    service = CareCoordinator(store)
    patient = service_bench.patient_id(7)
    read = service.patient(patient, actor=service_bench.coordinator_of(7))
    assert read == service_bench.raw_read(store, patient)
    work = service_bench.Workload(12, 3, "t")
    note, actor = work.note(1)
    assert service.record_note(note, actor=actor) == note
    enrolment = work.enrolment(1)
    service_bench.enrol(service, enrolment)
    plan = service.care_plan(enrolment.plan.id, actor=enrolment.actor)
    assert len(plan.interventions) == 10


def test_service_rows_like_are_new_valid_records(service_bench: ModuleType) -> None:
    from carecoord.service import CareCoordinator

    store = MemoryStore()
    service_bench.load_range(store, 3, 0, 4, 50, staff=True)
    recording = service_bench.Recording(store)
    work = service_bench.Workload(4, 3, "t")
    service_bench.enrol(CareCoordinator(recording), work.enrolment(0))
    sample = [w for batch in recording.batches for w in batch]
    copies = service_bench.rows_like(sample, PatientId("copy-1"), "copy-1")
    assert [w.kind for w in copies] == [w.kind for w in sample]
    assert {w.id for w in copies}.isdisjoint({w.id for w in sample})
    assert all(w.patient_id == "copy-1" for w in copies)
    assert [len(w.index) for w in copies] == [len(w.index) for w in sample]
    store.write(copies)
    with UnitOfWork(store) as uow:
        assert uow.get(Patient, "copy-1").id == "copy-1"
    assert CareCoordinator(store).seal_audit().sealed == 6  # the originals and the copies


def test_service_rejects_nonsense_options(
    service_bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (["--ops", "0"], ["--sizes", "10,0"], ["--processes", "x"]):
        with pytest.raises(SystemExit) as info:
            service_bench.parse_args(argv)
        assert info.value.code == 2
    assert capsys.readouterr().err.count("error") == 3
    args = service_bench.parse_args(["--sizes", "100_000,1000,1000", "--ops", "3"])
    assert args.sizes == (1000, 100_000) and args.ops == 3


def test_service_quick_run_on_postgres_in_processes(
    service_bench: ModuleType, tmp_path: Path
) -> None:
    from _pg import postgres_dsn, raw_connection

    dsn = postgres_dsn()  # skips without a server
    schema = f"cc_test_bench_{uuid.uuid4().hex[:10]}"
    argv = ["--quick", "--postgres-dsn", dsn, "--postgres-schema", schema]
    results = service_bench.main([*argv, "--out", str(tmp_path / "out.json")])
    assert results["sizes"]["processes"] == list(service_bench.QUICK_PROCESSES)
    assert results["machine"]["postgresql"]
    stages = results["postgres"]["stages"]
    assert [s["patients"] for s in stages] == list(service_bench.QUICK_SIZES)
    for stage in stages:
        for figure in service_bench.FIGURES:
            assert stage["measured"][figure]["carecoord"]["failures"] == 0
        assert [run["processes"] for run in stage["processes"]] == [1, 2]
        for run in stage["processes"]:
            assert run["errors"] == []
            for figure in service_bench.FIGURES:
                assert run[figure]["failures"] == 0
                assert run[figure]["ops"] == run["processes"] * run["ops_per_process"]
                assert run[figure]["ops_per_s"] > 0
    assert {c["backend"] for c in results["checks"]} == {"sqlite", "postgres"}
    with raw_connection(dsn) as conn:  # the throw-away schema is gone
        gone = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
        assert gone.fetchone() is None
