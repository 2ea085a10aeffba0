"""The command line: demo, worklist, metrics, verify-audit (in-process and as a real process)."""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from carecoord.cli import EXIT_ERROR, EXIT_OK, EXIT_TAMPERED, EXIT_USAGE, main

COORD = "staff-coordinator"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("cli") / "demo.sqlite3"
    assert main(["demo", "--db", str(db)], out=io.StringIO()) == EXIT_OK
    return db


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_worklist_table_in_the_viewers_zone(demo_db: Path) -> None:
    code, text = run(
        "worklist",
        "--db",
        str(demo_db),
        "--staff",
        COORD,
        "--at",
        "2026-11-23T09:00",
        "--zone",
        "America/Chicago",
    )
    assert code == EXIT_OK
    lines = text.splitlines()
    assert lines[0].startswith(f"Worklist of {COORD} (self) as of 2026-11-23 09:00 CST")
    assert "category" in lines[1] and "days_late" in lines[1]
    body = "\n".join(lines[2:])
    # The urgent transport task first; the education tasks overdue by 3, 2 and 1 days.
    assert lines[2].split()[:3] == ["intervention", "patient-3", "intervention-3-transport"]
    assert "2026-11-20 08:30" in body  # due shown in Chicago time
    assert "Doe" not in text and "Sample" not in text


def test_worklist_json_is_plain_records(demo_db: Path) -> None:
    code, text = run(
        "worklist",
        "--db",
        str(demo_db),
        "--staff",
        COORD,
        "--at",
        "2026-11-23T09:00-06:00",
        "--format",
        "json",
    )
    assert code == EXIT_OK
    records = json.loads(text)
    overdue = [r for r in records if r["category"] == "intervention" and r["days_late"]]
    assert sorted(r["patient_id"] for r in overdue) == ["patient-1", "patient-2", "patient-3"]
    assert all(set(r) >= {"category", "patient_id", "item_id", "due"} for r in records)


def test_metrics_table_and_json(demo_db: Path) -> None:
    args = ["metrics", "--db", str(demo_db), "--actor", COORD]
    period = ["--from", "2026-10-01", "--to", "2026-12-01", "--zone", "America/Chicago"]
    code, text = run(*args, *period)
    assert code == EXIT_OK
    assert text.startswith("Metrics for [2026-10-01, 2026-12-01)")
    code, text = run(*args, *period, "--format", "json")
    records = json.loads(text)
    caseload = [r for r in records if r["name"] == "caseload_size" and r["subject"] == COORD]
    assert len(caseload) == 1 and caseload[0]["numerator"] == 3


def test_verify_audit_detects_tampering(demo_db: Path, tmp_path: Path) -> None:
    code, text = run("verify-audit", "--db", str(demo_db), "--actor", COORD)
    assert code == EXIT_OK and "intact" in text
    copy = tmp_path / "tampered.sqlite3"
    copy.write_bytes(demo_db.read_bytes())
    with sqlite3.connect(copy) as conn:
        record_id, payload = conn.execute(
            "SELECT id, payload FROM records WHERE kind = 'AuditEntry' ORDER BY id LIMIT 1"
        ).fetchone()
        forged = payload.replace('"operation":"', '"operation":"x', 1)
        assert forged != payload
        conn.execute(
            "UPDATE records SET payload = ? WHERE kind = 'AuditEntry' AND id = ?",
            (forged, record_id),
        )
    code, text = run("verify-audit", "--db", str(copy), "--actor", COORD)
    assert code == EXIT_TAMPERED and "TAMPERED" in text


def test_errors_are_typed_and_phi_free(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run("worklist", "--db", str(demo_db), "--staff", COORD, "--actor", "nobody")
    assert code == EXIT_ERROR
    err = capsys.readouterr().err
    assert "NotFoundError" in err and "nobody" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["worklist", "--db", "missing.sqlite3", "--staff", COORD],
        ["worklist", "--db", "{db}", "--staff", COORD, "--zone", "Mars/Olympus"],
        ["worklist", "--db", "{db}", "--staff", COORD, "--at", "yesterday"],
        ["metrics", "--db", "{db}", "--actor", COORD, "--from", "2026-13-01", "--to", "2027-01-01"],
    ],
)
def test_bad_arguments_exit_with_usage(demo_db: Path, argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main([a.replace("{db}", str(demo_db)) for a in argv], out=io.StringIO())
    assert caught.value.code == EXIT_USAGE


def test_the_installed_command_runs_as_a_process(tmp_path: Path) -> None:
    db = tmp_path / "demo.sqlite3"
    result = subprocess.run(
        [sys.executable, "-m", "carecoord", "demo", "--db", str(db)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert "Worklist for staff-coordinator" in result.stdout
    result = subprocess.run(
        [sys.executable, "-m", "carecoord", "verify-audit", "--db", str(db), "--actor", COORD],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == EXIT_OK, result.stderr


def test_export_writes_fhir_bundles_that_import_back(demo_db: Path, tmp_path: Path) -> None:
    from carecoord.fhir import PatientRecord, import_bundle
    from carecoord.storage import SQLiteStore

    out_dir = tmp_path / "fhir"
    code, text = run("export", "--db", str(demo_db), "--actor", COORD, "--out-dir", str(out_dir))
    assert code == EXIT_OK and "exported 3 patient record(s)" in text
    files = sorted(p.name for p in out_dir.iterdir())
    assert files == ["patient-1.fhir.json", "patient-2.fhir.json", "patient-3.fhir.json"]
    bundle = json.loads((out_dir / "patient-2.fhir.json").read_text(encoding="utf-8"))
    assert bundle["resourceType"] == "Bundle"
    store = SQLiteStore(demo_db)
    try:
        expected = PatientRecord.from_store(store, "patient-2")
    finally:
        store.close()
    assert import_bundle(bundle).record == expected


def test_export_skips_patients_off_the_caseload(tmp_path: Path) -> None:
    from carecoord import CareTeamRole, HumanName, StaffId, StaffMember
    from carecoord.service import CareCoordinator
    from carecoord.storage import SQLiteStore

    db = tmp_path / "demo.sqlite3"
    assert main(["demo", "--db", str(db)], out=io.StringIO()) == EXIT_OK
    service = CareCoordinator(store=SQLiteStore(db))
    try:
        service.register_staff(
            StaffMember(
                id=StaffId("outsider"),
                name=HumanName(family="Else"),
                roles=(CareTeamRole.CARE_COORDINATOR,),
            ),
            actor=StaffId(COORD),
        )
    finally:
        service.store.close()
    out_dir = tmp_path / "out"
    code, text = run("export", "--db", str(db), "--actor", "outsider", "--out-dir", str(out_dir))
    assert code == EXIT_OK
    assert "exported 0 patient record(s)" in text and "3 not on outsider's caseload" in text
    assert list(out_dir.iterdir()) == []
    code, _ = run(
        "export",
        "--db",
        str(db),
        "--actor",
        "outsider",
        "--out-dir",
        str(out_dir),
        "--patient",
        "patient-1",
    )
    assert code == EXIT_ERROR
