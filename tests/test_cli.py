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
    assert "category" in lines[1] and "late" in lines[1] and "days_late" not in lines[1]
    body = "\n".join(lines[2:])
    # The urgent transport task first; the education tasks overdue by 3, 2 and 1 days.
    assert lines[2].split()[:3] == ["intervention", "patient-3", "intervention-3-transport"]
    assert "2026-11-20 08:30" in body  # due shown in Chicago time
    assert "3 d late" in body  # lateness as a coordinator reads it
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
    overdue = [r for r in records if r["category"] == "intervention" and r["overdue"]]
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


# ------------------------------------------------------- files it must not touch
def _usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``argv``, expect exit code 2, return what went to stderr."""
    with pytest.raises(SystemExit) as caught:
        main(argv, out=io.StringIO())
    assert caught.value.code == EXIT_USAGE
    return capsys.readouterr().err


def _foreign_sqlite(path: Path) -> Path:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (number TEXT, amount REAL)")
        conn.execute("INSERT INTO invoices VALUES ('2026-1', 99.5)")
    conn.close()
    return path


def _tables(path: Path) -> list[str]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("SELECT name FROM sqlite_master ORDER BY name")]
    finally:
        conn.close()


@pytest.mark.parametrize("kind", ["text", "sqlite", "empty"])
def test_demo_does_not_replace_a_file_that_is_not_a_carecoord_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    path = tmp_path / "precious.db"
    if kind == "sqlite":
        _foreign_sqlite(path)
    else:
        path.write_text("" if kind == "empty" else "my notes\n", encoding="utf-8")
    before = path.read_bytes()
    err = _usage_error(["demo", "--db", str(path)], capsys)
    assert "is not a carecoord database" in err and "--force" in err
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious.db"]
    # --force replaces it.
    assert main(["demo", "--db", str(path), "--force"], out=io.StringIO()) == EXIT_OK
    assert "carecoord_schema" in _tables(path)


def test_demo_replaces_an_earlier_carecoord_database_but_never_a_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "demo.sqlite3"
    assert main(["demo", "--db", str(path)], out=io.StringIO()) == EXIT_OK
    assert main(["demo", "--db", str(path)], out=io.StringIO()) == EXIT_OK
    folder = tmp_path / "folder"
    (folder / "inside").mkdir(parents=True)
    for extra in ([], ["--force"]):
        assert "is a folder" in _usage_error(["demo", "--db", str(folder), *extra], capsys)
    assert (folder / "inside").is_dir()


def test_run_demo_refuses_too(tmp_path: Path) -> None:
    from carecoord.demo import is_carecoord_database, run_demo

    path = tmp_path / "notes.txt"
    path.write_text("keep me", encoding="utf-8")
    with pytest.raises(FileExistsError):
        run_demo(path, out=lambda _: None)
    assert path.read_text(encoding="utf-8") == "keep me"
    assert not is_carecoord_database(path)
    assert not is_carecoord_database(tmp_path / "missing.sqlite3")
    assert not is_carecoord_database(tmp_path)
    assert not (tmp_path / "missing.sqlite3").exists()


READERS = [
    ["worklist", "--staff", COORD],
    ["metrics", "--actor", COORD, "--from", "2026-10-01", "--to", "2026-12-01"],
    ["verify-audit", "--actor", COORD],
    ["export", "--actor", COORD, "--out-dir", "{out}"],
    ["bulk-export", "--actor", COORD, "--out-dir", "{out}"],
    ["bulk-import", "--actor", COORD, "--in-dir", "{out}"],
]


@pytest.mark.parametrize("argv", READERS, ids=lambda a: a[0])
def test_readers_leave_a_database_that_is_not_carecoords_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    path = _foreign_sqlite(tmp_path / "invoices.sqlite3")
    before = path.read_bytes()
    out = tmp_path / "out"
    args = [argv[0], "--db", str(path), *(a.replace("{out}", str(out)) for a in argv[1:])]
    err = _usage_error(args, capsys)
    assert "not a carecoord database" in err
    assert path.read_bytes() == before
    assert _tables(path) == ["invoices"]
    assert not out.exists()
    # A file that is not SQLite at all, and a folder, are refused the same way.
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database " * 50, encoding="utf-8")
    args[2] = str(notes)
    assert "not a carecoord database" in _usage_error(args, capsys)
    args[2] = str(tmp_path)
    assert "no database file" in _usage_error(args, capsys)


# ----------------------------------------------------------------- verify-audit
@pytest.mark.parametrize(
    "checkpoint", ["abc", "", "A" * 64, "g" * 64, "a" * 63, "a" * 65, " " + "a" * 64]
)
def test_a_malformed_checkpoint_is_a_usage_error(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], checkpoint: str
) -> None:
    copy = tmp_path / "copy.sqlite3"
    copy.write_bytes(demo_db.read_bytes())
    argv = ["verify-audit", "--db", str(copy), "--actor", COORD, "--checkpoint", checkpoint]
    err = _usage_error(argv, capsys)
    assert "64 lowercase hex digits" in err and "TAMPERED" not in err
    assert copy.read_bytes() == demo_db.read_bytes()  # nothing sealed either


def test_breaks_are_printed_readably(demo_db: Path, tmp_path: Path) -> None:
    code, text = run("verify-audit", "--db", str(demo_db), "--actor", COORD, "--no-seal")
    head = text.rsplit("head ", 1)[1].strip()
    assert code == EXIT_OK and len(head) == 64
    code, text = run(
        "verify-audit", "--db", str(demo_db), "--actor", COORD, "--checkpoint", head, "--no-seal"
    )
    assert code == EXIT_OK
    # A well-formed head hash that is not in the chain: tampered, said plainly.
    code, text = run(
        "verify-audit", "--db", str(demo_db), "--actor", COORD, "--checkpoint", "f" * 64
    )
    assert code == EXIT_TAMPERED
    assert "  sequence -, entry -: the kept checkpoint is not in the chain" in text
    assert "ChainBreak" not in text
    # An edited entry: its sequence, id and problem.
    copy = tmp_path / "tampered.sqlite3"
    copy.write_bytes(demo_db.read_bytes())
    with sqlite3.connect(copy) as conn:
        record_id, payload = conn.execute(
            "SELECT id, payload FROM records WHERE kind = 'AuditEntry' ORDER BY id LIMIT 1"
        ).fetchone()
        conn.execute(
            "UPDATE records SET payload = ? WHERE kind = 'AuditEntry' AND id = ?",
            (payload.replace('"operation":"', '"operation":"x', 1), record_id),
        )
    conn.close()
    code, text = run("verify-audit", "--db", str(copy), "--actor", COORD)
    assert code == EXIT_TAMPERED
    assert f"  sequence 1, entry {record_id}: content does not match its hash" in text
    assert "ChainBreak" not in text


# ----------------------------------------------------------------------- export
def test_export_to_a_place_it_cannot_write_is_a_clear_error(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["export", "--db", str(demo_db), "--actor", COORD, "--out-dir"]
    a_file = tmp_path / "a-file"
    a_file.write_text("x", encoding="utf-8")
    blocked = tmp_path / "blocked"
    (blocked / "patient-2.fhir.json").mkdir(parents=True)  # a folder where a file goes
    for out_dir, message in [
        (a_file, f"--out-dir {a_file} exists and is not a folder"),
        (a_file / "sub", f"cannot create the folder {a_file / 'sub'}: "),
        (
            blocked,
            f"cannot write {blocked.resolve() / 'patient-2.fhir.json'}: Is a directory "
            "(1 patient file(s) written before this one)",
        ),
    ]:
        code, _ = run(*args, str(out_dir))
        err = capsys.readouterr().err
        assert code == EXIT_ERROR
        assert err.startswith(f"carecoord export: {message}"), err
        assert "Traceback" not in err


def test_export_never_writes_outside_the_out_dir(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A patient whose stored id would climb out of --out-dir (written past the model).
    db = tmp_path / "db" / "care.sqlite3"
    db.parent.mkdir()
    db.write_bytes(demo_db.read_bytes())
    escaped = "../../escaped"
    with sqlite3.connect(db) as conn:
        (payload,) = conn.execute(
            "SELECT payload FROM records WHERE kind = 'Patient' AND id = 'patient-1'"
        ).fetchone()
        conn.execute(
            "INSERT INTO records (kind, id, version, patient_id, payload) VALUES (?, ?, 1, ?, ?)",
            ("Patient", escaped, escaped, payload.replace('"patient-1"', json.dumps(escaped))),
        )
    conn.close()
    out_dir = tmp_path / "a" / "b" / "out"
    code, _ = run("export", "--db", str(db), "--actor", COORD, "--out-dir", str(out_dir))
    assert code == EXIT_ERROR
    assert "PatientId must be" in capsys.readouterr().err
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.json")) == []
    # Asked for by name: a usage error, nothing written.
    argv = ["export", "--db", str(demo_db), "--actor", COORD, "--out-dir", str(out_dir)]
    err = _usage_error([*argv, "--patient", escaped], capsys)
    assert "--patient: PatientId must be" in err
    assert list(tmp_path.rglob("*.json")) == []


def test_export_file_names_stay_in_the_folder(tmp_path: Path) -> None:
    from carecoord.cli import _CommandError, _export_path

    folder = (tmp_path / "out").resolve()
    folder.mkdir()
    assert _export_path(folder, "patient-1") == folder / "patient-1.fhir.json"
    for unsafe in ("../../escaped", "a/b", "/etc/x", "../out"):
        with pytest.raises(_CommandError):
            _export_path(folder, unsafe)  # a plain str: past the PatientId rule
    # A symbolic link planted in the folder is not written through.
    elsewhere = tmp_path / "elsewhere.json"
    (folder / "patient-2.fhir.json").symlink_to(elsewhere)
    with pytest.raises(_CommandError):
        _export_path(folder, "patient-2")


def test_an_imported_identifier_cannot_carry_a_path(demo_db: Path) -> None:
    from carecoord import FhirImportError
    from carecoord.fhir import PatientRecord, export_bundle, import_bundle
    from carecoord.storage import SQLiteStore

    store = SQLiteStore(demo_db)
    try:
        bundle = export_bundle(PatientRecord.from_store(store, "patient-1"))
    finally:
        store.close()

    def retarget(node: object) -> None:
        # Every carecoord patient identifier, in the Patient and in every reference to it.
        if isinstance(node, dict):
            if str(node.get("system", "")).endswith("/id/patient"):
                node["value"] = "../../escaped"
            for value in node.values():
                retarget(value)
        elif isinstance(node, list):
            for value in node:
                retarget(value)

    retarget(bundle)
    with pytest.raises(FhirImportError) as caught:
        import_bundle(bundle)
    assert "not a valid carecoord id" in str(caught.value)
    assert "escaped" not in str(caught.value)


def test_unusable_paths_are_reported_not_raised(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    too_long = str(tmp_path / ("n" * 300))
    for argv in (
        ["demo", "--db", too_long],
        ["worklist", "--db", too_long, "--staff", COORD],
        ["export", "--db", too_long, "--actor", COORD, "--out-dir", str(tmp_path / "out")],
    ):
        assert "carecoord" in _usage_error(argv, capsys)
    for out_dir in (too_long, str(tmp_path / "nul\x00")):
        code, _ = run("export", "--db", str(demo_db), "--actor", COORD, "--out-dir", out_dir)
        assert code == EXIT_ERROR
        assert capsys.readouterr().err.startswith("carecoord export: cannot create the folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# ------------------------------------------------------------------ bulk NDJSON
def test_bulk_export_and_import_through_the_command_line(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from carecoord.demo import build_demo_data
    from carecoord.fhir import PatientRecord
    from carecoord.service import CareCoordinator
    from carecoord.storage import SQLiteStore

    out_dir = tmp_path / "ndjson"
    export = ["bulk-export", "--db", str(demo_db), "--actor", COORD, "--out-dir", str(out_dir)]
    code, text = run(*export)
    assert code == EXIT_OK
    assert text.startswith(f"exported 3 patient record(s) as FHIR NDJSON to {out_dir} (")
    assert (out_dir / "manifest.json").is_file() and (out_dir / "Patient.ndjson").is_file()
    code, _ = run(*export)  # never over an earlier export
    assert code == EXIT_ERROR and "holds an export already" in capsys.readouterr().err
    code, text = run(*export[:-1], str(tmp_path / "nurse"), "--caseload", "staff-nurse")
    assert code == EXIT_OK and text.startswith("exported 3 patient record(s)")

    target = tmp_path / "target.sqlite3"
    service = CareCoordinator(store=SQLiteStore(target))
    try:  # a new database holding only the importing coordinator
        coordinator = build_demo_data().staff[0]
        service.register_staff(coordinator, actor=coordinator.id)
    finally:
        service.store.close()
    load = ["bulk-import", "--db", str(target), "--actor", COORD, "--in-dir", str(out_dir)]
    code, text = run(*load)
    assert (code, text) == (
        EXIT_OK,
        f"imported 3 patient record(s) from {out_dir}; 0 already stored, unchanged; 0 failed\n",
    )
    code, text = run(*load)
    assert code == EXIT_OK and "imported 0 patient record(s)" in text and "3 already stored" in text
    source, copy = SQLiteStore(demo_db), SQLiteStore(target)
    try:
        for patient_id in ("patient-1", "patient-2", "patient-3"):
            expected = PatientRecord.from_store(source, patient_id)
            assert PatientRecord.from_store(copy, patient_id) == expected
    finally:
        source.close()
        copy.close()

    # a damaged line: named by file and line, nothing imported; a refused value: listed
    goals = out_dir / "Goal.ndjson"
    lines = goals.read_bytes().splitlines(keepends=True)
    goals.write_bytes(b"".join([lines[0], lines[1][:30] + b"\n", lines[2]]))
    code, _ = run(*load)
    err = capsys.readouterr().err
    assert code == EXIT_ERROR
    assert err == "carecoord bulk-import: FhirImportError: Goal.ndjson:2: not valid JSON\n"
    goals.write_bytes(b"".join([lines[0], lines[1].replace(b'"active"', b'"soon"'), lines[2]]))
    code, text = run(*load)
    assert code == EXIT_ERROR
    assert "2 already stored, unchanged; 1 failed\n  Patient/patient-2: FhirImportError at " in text
    assert "Goal.ndjson:2 resource(Goal/" in text and "soon" not in text
