"""The command line for hosts: worker, tick, dispatch, --dsn/--db, migrate, copy, the version."""

from __future__ import annotations

import importlib.metadata
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import carecoord
from carecoord import ContactChannel, StorageError
from carecoord.cli import EXIT_ERROR, EXIT_OK, EXIT_USAGE, main
from carecoord.cli._notifiers import Routes, notifier
from carecoord.cli._worker import HEALTH_FIELDS, _cycle
from carecoord.model import DeliveryStatus, RecipientKind
from carecoord.notify import LoggingNotifier, OutgoingMessage
from carecoord.outbox import Dispatcher
from carecoord.storage import SQLiteStore, Store
from carecoord.storage.records import RECORD_TYPES

ROOT = Path(__file__).resolve().parents[1]
COORD = "staff-coordinator"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("cli-worker") / "demo.sqlite3"
    assert main(["demo", "--db", str(db)], out=io.StringIO()) == EXIT_OK
    return db


@pytest.fixture
def fresh_db(demo_db: Path, tmp_path: Path) -> Path:
    """A copy of the demo database the test may change."""
    copy = tmp_path / "work.sqlite3"
    copy.write_bytes(demo_db.read_bytes())
    return copy


@pytest.fixture(autouse=True)
def _no_store_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CARECOORD_DSN", "CARECOORD_SCHEMA", "CARECOORD_AUDIT_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as caught:
        main(argv, out=io.StringIO())
    assert caught.value.code == EXIT_USAGE
    return capsys.readouterr().err


def health_lines(text: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    for line in lines:
        assert list(line) == list(HEALTH_FIELDS)
    return lines


# ---------------------------------------------------------------- the version
def test_version_comes_from_the_package_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    installed = importlib.metadata.version("carecoord")
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out == f"carecoord {installed}\n"
    assert carecoord.__version__ == installed
    assert "__version__" in carecoord.__all__


def test_the_version_is_written_down_once() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["version"] == importlib.metadata.version("carecoord")
    assert "version" not in project.get("dynamic", [])
    literal = re.compile(rf"""["']{re.escape(project["version"])}["']""")
    assignment = re.compile(r"^\s*__version__\s*=", re.MULTILINE)
    copies = [
        str(path.relative_to(ROOT))
        for folder in ("src/carecoord", "tests", "docs", "examples")
        for path in sorted((ROOT / folder).rglob("*"))
        if path.suffix in {".py", ".md", ".toml", ".cfg", ".txt", ".ipynb"}
        and (
            literal.search(text := path.read_text(encoding="utf-8", errors="replace"))
            or assignment.search(text)
        )
    ]
    assert copies == []


# ----------------------------------------------------------- --db and --dsn
def test_db_and_dsn_exclude_each_other(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["tick", "--db", str(demo_db), "--dsn", "postgresql://localhost/x"]
    assert "not allowed with argument --db" in usage_error(argv, capsys)


def test_a_database_must_be_named(capsys: pytest.CaptureFixture[str]) -> None:
    err = usage_error(["worklist", "--staff", COORD], capsys)
    assert "--db FILE (SQLite), or --dsn or $CARECOORD_DSN (PostgreSQL)" in err
    err = usage_error(["tick", "--db", "x.sqlite3", "--schema", "other"], capsys)
    assert "--schema names a PostgreSQL schema" in err


def test_carecoord_dsn_is_read_unless_db_is_given(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "host=localhost password=hunter2 bogus"
    monkeypatch.setenv("CARECOORD_DSN", secret)
    err = usage_error(["tick"], capsys)
    assert "--dsn is not a valid PostgreSQL connection string" in err
    assert "hunter2" not in err  # a connection string is never printed
    # --db on the command line wins over the environment
    code, text = run("worklist", "--db", str(demo_db), "--staff", COORD, "--at", "2026-11-23")
    assert code == EXIT_OK and text.startswith(f"Worklist of {COORD}")


def test_dsn_without_the_postgres_extra_names_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delitem(sys.modules, "carecoord.storage.postgres", raising=False)
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now fails
    err = usage_error(["tick", "--dsn", "postgresql://localhost/x"], capsys)
    assert "pip install 'carecoord[postgres]'" in err


def test_the_audit_key_file_must_hold_a_key(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    short = tmp_path / "short.key"
    short.write_bytes(b"too short")
    argv = ["tick", "--db", str(demo_db), "--audit-key-file"]
    assert "fewer than 16 bytes" in usage_error([*argv, str(short)], capsys)
    missing = str(tmp_path / "missing.key")
    assert "cannot read the audit key file" in usage_error([*argv, missing], capsys)


def test_the_audit_key_file_keys_the_seals(tmp_path: Path) -> None:
    from carecoord import CareTeamRole, HumanName, StaffId, StaffMember
    from carecoord.service import CareCoordinator

    key = tmp_path / "audit.key"
    key.write_bytes(b"k" * 32)
    fresh = tmp_path / "fresh.sqlite3"
    assert run("migrate", "--db", str(fresh))[0] == EXIT_OK
    store = SQLiteStore(fresh)
    try:  # one staff member, registered with the key: an audit entry to seal
        service = CareCoordinator(store=store, audit_key=b"k" * 32)
        service.register_staff(
            StaffMember(
                id=StaffId(COORD),
                name=HumanName(family="Example"),
                roles=(CareTeamRole.CARE_COORDINATOR,),
            ),
            actor=StaffId(COORD),
        )
    finally:
        store.close()
    argv = ["--db", str(fresh), "--audit-key-file", str(key)]
    assert json.loads(run("tick", *argv, "--format", "json")[1])["sealed"] > 0
    code, text = run("verify-audit", *argv, "--actor", COORD)
    assert code == EXIT_OK and "audit trail intact" in text
    code, text = run("verify-audit", "--db", str(fresh), "--actor", COORD)
    assert code != EXIT_OK and "TAMPERED" in text  # without the key the seals do not verify


# ------------------------------------------------------------------ --zone
def test_zone_defaults_to_the_actors_time_zone(demo_db: Path) -> None:
    argv = ["worklist", "--db", str(demo_db), "--staff", COORD, "--at", "2026-11-23T09:00"]
    _, text = run(*argv)  # the coordinator is registered in America/Chicago
    assert text.startswith(f"Worklist of {COORD} (self) as of 2026-11-23 09:00 CST")
    _, text = run(*argv, "--zone", "UTC")
    assert text.startswith(f"Worklist of {COORD} (self) as of 2026-11-23 09:00 UTC")
    code, text = run(
        "metrics",
        "--db",
        str(demo_db),
        "--actor",
        COORD,
        "--from",
        "2026-10-01",
        "--to",
        "2026-12-01",
    )
    assert code == EXIT_OK and text.startswith("Metrics for [2026-10-01, 2026-12-01)")


def test_the_help_says_what_the_zone_defaults_to(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["worklist", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "default: the time zone of the acting staff member" in help_text


# -------------------------------------------------- tick, dispatch, worker
def _store_counts(db: Path) -> tuple[dict[DeliveryStatus, int], int]:
    store = SQLiteStore(db)
    try:
        return _counts(store)
    finally:
        store.close()


def _counts(store: Store) -> tuple[dict[DeliveryStatus, int], int]:
    """Notifications by status, and announcement markers (one per announcement ever)."""
    return Dispatcher(store, LoggingNotifier()).counts(), len(store.read_all("TimedEventMarker"))


def test_tick_and_dispatch_run_once_each(fresh_db: Path) -> None:
    code, text = run("tick", "--db", str(fresh_db), "--format", "json")
    assert code == EXIT_OK
    ticked = json.loads(text)
    assert ticked["announced"] > 0
    assert ticked["announced"] == sum(
        ticked[k] for k in ("overdue", "escalated", "reviews_due", "referrals_stalled")
    )
    code, text = run("tick", "--db", str(fresh_db))
    assert text.startswith("tick: announced 0 (")  # each announcement once, ever
    code, text = run("dispatch", "--db", str(fresh_db), "--format", "json")
    assert code == EXIT_OK
    dispatched = json.loads(text)
    statuses, markers = _store_counts(fresh_db)
    assert markers == ticked["announced"]
    assert dispatched["delivered"] == statuses[DeliveryStatus.DELIVERED] > 0
    assert dispatched["failed"] == statuses[DeliveryStatus.FAILED]


def test_worker_once_prints_one_health_line(fresh_db: Path) -> None:
    code, text = run("worker", "--db", str(fresh_db), "--once", "--worker-id", "w-1")
    assert code == EXIT_OK
    [health] = health_lines(text)
    assert health["worker"] == "w-1" and health["cycle"] == 1 and health["last_error"] is None
    assert health["ticked"] > 0 and health["dispatched"] > 0 and health["sealed"] > 0
    assert isinstance(health["duration_s"], float) and health["duration_s"] >= 0
    assert health["at"].endswith("+00:00")
    statuses, markers = _store_counts(fresh_db)
    assert (health["ticked"], health["dispatched"]) == (
        markers,
        statuses[DeliveryStatus.DELIVERED],
    )
    code, text = run("verify-audit", "--db", str(fresh_db), "--actor", COORD, "--no-seal")
    assert code == EXIT_OK and "0 not yet sealed" in text  # the worker sealed everything
    _, again = run("worker", "--db", str(fresh_db), "--once")
    assert health_lines(again)[0]["ticked"] == 0


def test_worker_rejects_bad_configuration(
    fresh_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["worker", "--db", str(fresh_db), "--once"]
    assert "--interval must be" in usage_error([*base, "--interval", "0"], capsys)
    assert "--notifier must be" in usage_error([*base, "--notifier", "pigeon"], capsys)
    err = usage_error([*base, "--notifier", "apprise"], capsys)
    assert "needs --apprise-url or $CARECOORD_APPRISE_URL" in err
    assert "needs --notifier apprise" in usage_error([*base, "--apprise-url", "json://x"], capsys)
    assert "timeout" in usage_error([*base, "--timeout", "-1"], capsys)


def test_a_failing_step_is_reported_and_the_next_one_runs() -> None:
    ran: list[str] = []

    def broken(health: dict[str, Any]) -> None:
        ran.append("broken")
        raise StorageError("the database is busy")

    def fine(health: dict[str, Any]) -> None:
        ran.append("fine")
        health["sealed"] += 2

    err = io.StringIO()
    health = _cycle(7, "w", [("tick", broken), ("seal", fine)], threading.Event(), err)
    assert ran == ["broken", "fine"]
    assert (health["cycle"], health["sealed"], health["last_error"]) == (7, 2, "StorageError")
    assert err.getvalue() == "carecoord worker: tick: StorageError: the database is busy\n"

    def bug(health: dict[str, Any]) -> None:
        raise KeyError("a bug")

    with pytest.raises(KeyError):  # not a carecoord error: the worker stops, loudly
        _cycle(1, "w", [("tick", bug)], threading.Event(), err)


def test_a_stop_lets_the_running_step_finish_and_skips_the_rest() -> None:
    stop = threading.Event()
    ran: list[str] = []

    def first(health: dict[str, Any]) -> None:
        stop.set()  # the signal arrives during this step
        ran.append("first")
        health["ticked"] += 1

    def second(health: dict[str, Any]) -> None:
        ran.append("second")

    health = _cycle(1, "w", [("tick", first), ("dispatch", second)], stop, io.StringIO())
    assert ran == ["first"] and health["ticked"] == 1


def _start_worker(*argv: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARECOORD_")}
    return subprocess.Popen(
        [sys.executable, "-m", "carecoord", "worker", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_a_signal_stops_the_worker_cleanly(fresh_db: Path, signum: int) -> None:
    worker = _start_worker("--db", str(fresh_db), "--interval", "60")
    try:
        assert worker.stdout is not None
        first = json.loads(worker.stdout.readline())  # the first cycle is done
        started = time.monotonic()
        worker.send_signal(signum)
        out, err = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == EXIT_OK, err
    assert time.monotonic() - started < 15  # woken from its 60 s wait, not after it
    assert first["cycle"] == 1 and first["last_error"] is None
    assert out == "" and "Traceback" not in err


def _run_workers(count: int, seconds: float, *argv: str) -> list[list[dict[str, Any]]]:
    """``count`` workers running side by side for ``seconds``, then stopped; their lines."""
    workers = [
        _start_worker(*argv, "--interval", "0.05", "--worker-id", f"w-{n}") for n in range(count)
    ]
    try:
        # Signals before the first health line would find the default handlers.
        firsts = [worker.stdout.readline() if worker.stdout else "" for worker in workers]
        time.sleep(seconds)
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        results = [
            (first + out, err)
            for first, (out, err) in zip(
                firsts, (worker.communicate(timeout=60) for worker in workers), strict=True
            )
        ]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    for worker, (_, err) in zip(workers, results, strict=True):
        assert worker.returncode == EXIT_OK, err
    return [health_lines(out) for out, _ in results]


def _check_shared_work(lines: list[list[dict[str, Any]]], store: Store) -> None:
    """Every announcement made once and every delivery recorded once, across the workers."""
    every = [line for worker in lines for line in worker]
    assert all(len(worker) >= 2 for worker in lines)  # each ran several cycles
    assert all(line["last_error"] is None for line in every)
    statuses, markers = _counts(store)
    assert sum(line["ticked"] for line in every) == markers > 0
    assert sum(line["dispatched"] for line in every) == statuses[DeliveryStatus.DELIVERED] > 0
    assert sum(line["failed"] for line in every) == statuses[DeliveryStatus.FAILED]


def test_two_workers_share_one_sqlite_file(fresh_db: Path) -> None:
    lines = _run_workers(2, 1.5, "--db", str(fresh_db))
    store = SQLiteStore(fresh_db)
    try:
        _check_shared_work(lines, store)
    finally:
        store.close()
    code, text = run("verify-audit", "--db", str(fresh_db), "--actor", COORD)
    assert code == EXIT_OK and "audit trail intact" in text


@pytest.fixture
def pg_schema(demo_db: Path) -> Iterator[tuple[str, str]]:
    """The demo copied into a throw-away PostgreSQL schema: (dsn, schema)."""
    from _pg import drop_schema, new_schema_name, postgres_dsn

    dsn = postgres_dsn()
    schema = new_schema_name()
    try:
        code, text = run("copy", "--db", str(demo_db), "--to-dsn", dsn, "--to-schema", schema)
        assert code == EXIT_OK and text.startswith("copy: ")
        yield dsn, schema
    finally:
        drop_schema(dsn, schema)


def test_two_workers_share_one_postgresql_schema(
    pg_schema: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from carecoord.storage import PostgresStore

    dsn, schema = pg_schema
    lines = _run_workers(2, 1.5, "--dsn", dsn, "--schema", schema)
    store = PostgresStore(dsn, schema=schema)
    try:
        _check_shared_work(lines, store)
    finally:
        store.close()
    monkeypatch.setenv("CARECOORD_DSN", dsn)  # the connection string from the environment
    code, text = run("verify-audit", "--schema", schema, "--actor", COORD)
    assert code == EXIT_OK and "audit trail intact" in text, text


# ------------------------------------------------------------ migrate, copy
def test_migrate_and_copy_between_sqlite_files(demo_db: Path, tmp_path: Path) -> None:
    target = tmp_path / "copy.sqlite3"
    code, text = run("migrate", "--db", str(target))
    assert code == EXIT_OK and text.startswith("migrate: the store is at schema version ")
    code, text = run("copy", "--db", str(demo_db), "--to-db", str(target))
    assert code == EXIT_OK
    source = SQLiteStore(demo_db)
    try:
        expected = sum(len(source.read_all(kind)) for kind in RECORD_TYPES)
    finally:
        source.close()
    assert text.startswith(f"copy: {expected} record(s) of ") and expected > 0
    code, _ = run("copy", "--db", str(demo_db), "--to-db", str(target))
    assert code == EXIT_ERROR  # the target is not empty: nothing copied twice
    code, text = run("verify-audit", "--db", str(target), "--actor", COORD)
    assert code == EXIT_OK and "audit trail intact" in text


# ---------------------------------------------------------------- notifiers
def _message(channel: ContactChannel, address: str | None) -> OutgoingMessage:
    return OutgoingMessage(
        idempotency_key="k",
        recipient_kind=RecipientKind.STAFF,
        recipient_id="staff-1",
        channel=channel,
        subject="s",
        body="b",
        address=address,
    )


def test_apprise_routes_by_channel_and_fill_in_the_address() -> None:
    routes = Routes(
        [
            "email=mailtos://relay.example?to={address}",
            "sms=json://gateway.example/sms?to={address}",
            "json://ops.example/all",
        ]
    )
    email = routes.urls_for(_message(ContactChannel.EMAIL, "a+b@example.org"))
    assert email == ["mailtos://relay.example?to=a+b@example.org", "json://ops.example/all"]
    sms = routes.urls_for(_message(ContactChannel.SMS, "+1 555 0100"))
    assert sms == ["json://gateway.example/sms?to=+1%20555%200100", "json://ops.example/all"]
    # no address for a templated URL: that URL is skipped
    assert routes.urls_for(_message(ContactChannel.SMS, None)) == ["json://ops.example/all"]
    assert Routes(["email=x://{address}"]).urls_for(_message(ContactChannel.PORTAL, None)) == []


def test_the_notifier_is_chosen_by_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    from carecoord.notify.apprise import AppriseNotifier

    def options(**given: Any) -> Any:
        import argparse

        return argparse.Namespace(**{"notifier": "logging", "apprise_url": None, **given})

    assert isinstance(notifier(options()), LoggingNotifier)
    assert isinstance(notifier(options(notifier="json://localhost/x")), AppriseNotifier)
    monkeypatch.setenv("CARECOORD_APPRISE_URL", "json://localhost/a json://localhost/b")
    assert isinstance(notifier(options(notifier="apprise")), AppriseNotifier)
