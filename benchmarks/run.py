"""carecoord benchmarks: the SQLite store, the overdue worklist, serialization and import.

Run from the repository root, with the project's virtual environment::

    .venv/bin/python benchmarks/run.py                 # 100,000 patients, ~1,000,000 interventions
    .venv/bin/python benchmarks/run.py --patients 5000 # a quick look

It generates a deterministic data set (``random.Random(seed)``), measures every
figure against its floor (raw :mod:`sqlite3`, :mod:`json`) in one run, prints a
table and writes the figures, sizes and machine details to ``--out`` (JSON).
See ``benchmarks/README.md`` for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from carecoord import (
    Cadence,
    CarePlan,
    CarePlanId,
    CarePlanStatus,
    ContactChannel,
    ContactPoint,
    ContactPreferences,
    Goal,
    GoalId,
    GoalLifecycleStatus,
    GoalPriority,
    HumanName,
    Intervention,
    InterventionId,
    InterventionKind,
    NeedId,
    Patient,
    PatientId,
    Period,
    ProgressReading,
    Quantity,
    StaffId,
    Target,
    TaskPriority,
    TaskStatus,
)
from carecoord.progress import Progress
from carecoord.serialization import from_payload, to_payload
from carecoord.storage import MemoryStore, RecordWrite, WorkQuery
from carecoord.storage._codec import encode_record
from carecoord.storage._sqlite_sql import INSERT_INDEX, index_params
from carecoord.storage.port import to_micros
from carecoord.storage.sqlite import MIGRATIONS, SQLiteStore

__all__ = ["NOW", "generate", "main", "record_write"]

NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
"""The fixed "now" of the data set: due times are spread +/- 30 days around it."""

TARGETS = {
    "bulk_load_ratio": 2.0,
    "worklist_ms": 20.0,
    "worklist_ratio": 3.0,
    "import_ms": 150.0,
}
"""The targets of the issue: at most these values."""

_ZONES = tuple(
    ZoneInfo(z)
    for z in ("America/Chicago", "America/New_York", "America/Denver", "America/Los_Angeles")
)
_FAMILY = ("Garcia", "Smith", "Nguyen", "Johnson", "Okafor", "Kowalski", "Haddad", "Lee")
_GIVEN = ("Ana", "James", "Mai", "Robert", "Chidi", "Ewa", "Omar", "Grace")
_TASKS = (
    "Call to review medication list and refill dates",
    "Arrange transport to the cardiology appointment",
    "Send diabetes self-management education material",
    "Confirm food bank enrolment and pick-up day",
    "Follow up on home blood pressure readings",
    "Complete the housing assistance application with the patient",
)
_KINDS = tuple(InterventionKind)
_PRIORITIES = (TaskPriority.ROUTINE, TaskPriority.URGENT, TaskPriority.ASAP, TaskPriority.STAT)
_PRIORITY_WEIGHTS = (70, 20, 8, 2)

Records = list[Patient | CarePlan]


# ------------------------------------------------------------------ data set
def staff_ids(count: int) -> tuple[StaffId, ...]:
    """The coordinators and medical assistants interventions are assigned to."""
    return tuple(StaffId(f"staff-{n:03d}") for n in range(count))


def _transitions(
    item: Intervention, path: Sequence[TaskStatus], by: StaffId, at: datetime
) -> Intervention:
    for step, status in enumerate(path):
        reason = "no longer needed" if status is TaskStatus.CANCELLED else None
        item = item.transition(status, by=by, at=at + timedelta(hours=step), reason=reason)
    return item


def _intervention(
    rng: random.Random, plan_id: str, number: int, staff: Sequence[StaffId], created: datetime
) -> Intervention:
    due = NOW + timedelta(minutes=rng.randint(-30 * 24 * 60, 30 * 24 * 60))
    assignee = rng.choice(staff)
    item = Intervention(
        id=InterventionId(f"{plan_id}-i{number:02d}"),
        kind=rng.choice(_KINDS),
        description=rng.choice(_TASKS),
        created_at=created,
        assignee_id=assignee,
        priority=rng.choices(_PRIORITIES, _PRIORITY_WEIGHTS)[0],
        due=due,
    )
    roll = rng.random()
    if due < NOW:  # most past work is done; some is overdue
        if roll < 0.80:
            path: tuple[TaskStatus, ...] = (TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED)
        elif roll < 0.85:
            path = (TaskStatus.CANCELLED,)
        elif roll < 0.95:
            path = ()
        else:
            path = (TaskStatus.IN_PROGRESS,)
    elif roll < 0.85:
        path = ()
    elif roll < 0.95:
        path = (TaskStatus.IN_PROGRESS,)
    else:
        path = (TaskStatus.IN_PROGRESS, TaskStatus.ON_HOLD)
    return _transitions(item, path, assignee, created + timedelta(days=1))


def _goal(rng: random.Random, plan_id: str, number: int, author: StaffId) -> Goal:
    return Goal(
        id=GoalId(f"{plan_id}-g{number}"),
        description="Keep HbA1c below 7% and walk 30 minutes a day",
        priority=rng.choice(tuple(GoalPriority)),
        lifecycle_status=GoalLifecycleStatus.ACTIVE,
        targets=(
            Target(
                measure="HbA1c",
                quantity=Quantity(value=7.0, unit="%"),
                due=(NOW + timedelta(days=rng.randint(30, 180))).date(),
            ),
        ),
        addresses=(NeedId(f"{plan_id}-n{number}"),),
    )


def _patient(rng: random.Random, number: int) -> Patient:
    return Patient(
        id=PatientId(f"pat-{number:06d}"),
        name=HumanName(family=rng.choice(_FAMILY), given=(rng.choice(_GIVEN),)),
        birth_date=date(1930, 1, 1) + timedelta(days=rng.randint(0, 75 * 365)),
        time_zone=rng.choice(_ZONES).key,
        telecom=(ContactPoint(ContactChannel.SMS, f"+1 555 {number % 10000:04d}"),),
        preferences=ContactPreferences(channels=(ContactChannel.SMS,)),
        enrolled_at=NOW - timedelta(days=rng.randint(60, 720)),
    )


def _plan(
    rng: random.Random, patient: Patient, per_patient: int, staff: Sequence[StaffId]
) -> CarePlan:
    plan_id = f"plan-{patient.id.removeprefix('pat-')}"
    author = rng.choice(staff)
    created = NOW - timedelta(days=rng.randint(40, 365))
    count = rng.randint(max(per_patient - 5, 1), per_patient + 5)  # mean per_patient
    goals = tuple(_goal(rng, plan_id, n, author) for n in range(2))
    roll = rng.random()
    status = (
        CarePlanStatus.ACTIVE
        if roll < 0.90
        else CarePlanStatus.DRAFT
        if roll < 0.95
        else CarePlanStatus.COMPLETED
    )
    return CarePlan(
        id=CarePlanId(plan_id),
        patient_id=patient.id,
        author_id=author,
        created_at=created,
        status=status,
        period=Period(start=created),
        addresses=tuple(need for goal in goals for need in goal.addresses),
        goals=goals,
        interventions=tuple(_intervention(rng, plan_id, n, staff, created) for n in range(count)),
        next_review_at=NOW + timedelta(minutes=rng.randint(-30 * 24 * 60, 30 * 24 * 60)),
    )


def generate(
    patients: int, per_patient: int, seed: int, staff: Sequence[StaffId], chunk: int = 500
) -> Iterator[Records]:
    """Yield the data set in chunks of ``chunk`` patients (each patient, then its plan).

    Deterministic: the same arguments give the same records, and the first
    ``k`` patients do not depend on ``patients``.
    """
    rng = random.Random(seed)
    records: Records = []
    for number in range(patients):
        patient = _patient(rng, number)
        records.append(patient)
        records.append(_plan(rng, patient, per_patient, staff))
        if len(records) >= 2 * chunk:
            yield records
            records = []
    if records:
        yield records


def record_write(record: object) -> RecordWrite:
    """The write a :class:`~carecoord.storage.UnitOfWork` commits for a new record."""
    return encode_record(record, 0)


def raw_rows(batch: Sequence[RecordWrite]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The same rows as plain tuples, ready for ``executemany`` (the floor's input)."""
    records = [(w.kind, w.id, 1, w.patient_id, w.payload) for w in batch]
    return records, index_params(batch)


# ----------------------------------------------------------------- bulk load
_RAW_INSERT_RECORD = (
    "INSERT INTO records (kind, id, version, patient_id, payload) VALUES (?, ?, ?, ?, ?)"
)
_RAW_INSERT_INDEX = INSERT_INDEX


def _raw_database(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 database with the store's tables, indexes and pragmas."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("BEGIN")
    for _, statements in MIGRATIONS:
        for statement in statements:
            conn.execute(statement)
    conn.execute("COMMIT")
    return conn


def bulk_load(args: argparse.Namespace, db_dir: Path, staff: Sequence[StaffId]) -> dict[str, Any]:
    """Load the data set through the SQLite store and through raw sqlite3; time both."""
    store_path, raw_path = db_dir / "store.sqlite3", db_dir / "raw.sqlite3"
    for path in db_dir.glob("*.sqlite3*"):
        path.unlink()
    store = SQLiteStore(store_path)
    raw = _raw_database(raw_path)
    raw_batched = _raw_database(db_dir / "raw_batched.sqlite3")
    prep = store_write = raw_write = raw_batched_write = 0.0
    patients = plans = interventions = index_total = batches = 0
    generating = 0.0
    raw.execute("BEGIN")
    started = time.perf_counter()
    with Progress(args.patients, "load") as bar:
        chunks = generate(args.patients, args.interventions_per_patient, args.seed, staff)
        while True:
            t0 = time.perf_counter()
            records = next(chunks, None)
            generating += time.perf_counter() - t0
            if records is None:
                break
            t0 = time.perf_counter()
            writes = [record_write(r) for r in records]
            prep += time.perf_counter() - t0
            record_rows, index_rows_ = raw_rows(writes)
            for start in range(0, len(writes), args.batch_size):
                batch = writes[start : start + args.batch_size]
                t0 = time.perf_counter()
                store.write(batch)
                store_write += time.perf_counter() - t0
                batches += 1
                batch_records, batch_index = raw_rows(batch)
                t0 = time.perf_counter()
                raw_batched.execute("BEGIN IMMEDIATE")
                raw_batched.executemany(_RAW_INSERT_RECORD, batch_records)
                raw_batched.executemany(_RAW_INSERT_INDEX, batch_index)
                raw_batched.execute("COMMIT")
                raw_batched_write += time.perf_counter() - t0
            t0 = time.perf_counter()
            raw.executemany(_RAW_INSERT_RECORD, record_rows)
            raw.executemany(_RAW_INSERT_INDEX, index_rows_)
            raw_write += time.perf_counter() - t0
            for record in records:
                if isinstance(record, CarePlan):
                    plans += 1
                    interventions += len(record.interventions)
                else:
                    patients += 1
            index_total += len(index_rows_)
            bar.update(sum(isinstance(r, Patient) for r in records))
    t0 = time.perf_counter()
    raw.execute("COMMIT")
    raw_write += time.perf_counter() - t0
    wall = time.perf_counter() - started
    counts = {}
    for name, conn in (
        ("store", sqlite3.connect(store_path)),
        ("raw", raw),
        ("raw_batched", raw_batched),
    ):
        counts[name] = {
            "records": conn.execute("SELECT COUNT(*) FROM records").fetchone()[0],
            "index_rows": conn.execute("SELECT COUNT(*) FROM work_index").fetchone()[0],
        }
        conn.close()
    store.close()
    return {
        "patients": patients,
        "plans": plans,
        "interventions": interventions,
        "index_rows": index_total,
        "batch_size": args.batch_size,
        "batches": batches,
        "generate_s": generating,
        "prepare_s": prep,
        "store_write_s": store_write,
        "raw_write_s": raw_write,
        "raw_batched_write_s": raw_batched_write,
        "ratio": store_write / raw_write if raw_write else None,
        "batched_ratio": store_write / raw_batched_write if raw_batched_write else None,
        "end_to_end_ratio": (prep + store_write) / raw_write if raw_write else None,
        "wall_s": wall,
        "row_counts": counts,
        "store_db_mb": store_path.stat().st_size / 1e6,
    }


# ------------------------------------------------------------------ worklist
_RAW_OVERDUE = (
    # The walk of the store's covering index in its own order (no sort of the matches).
    "SELECT w.kind, w.record_id, w.record_version, w.category, w.item_id, w.patient_id, "
    "w.owner_id, w.status, w.is_open, w.priority, w.due_at, w.changed_at, w.detail "
    "FROM work_index AS w INDEXED BY work_by_owner "
    "WHERE w.category = 'intervention' AND w.owner_id = ? AND w.is_open = 1 AND w.due_key < ? "
    "ORDER BY w.priority DESC, w.due_key, w.patient_id, w.item_id"
)


def _median_ms(calls: Sequence[Callable[[], object]], repeat: int) -> list[float]:
    """Median milliseconds of each call; the calls take turns, so load changes hit all alike."""
    for call in calls:
        call()  # warm the page cache and statement cache
    times: list[list[float]] = [[] for _ in calls]
    for _ in range(repeat):
        for call, spent in zip(calls, times, strict=True):
            t0 = time.perf_counter()
            call()
            spent.append(time.perf_counter() - t0)
    return [statistics.median(spent) * 1000 for spent in times]


def worklist(args: argparse.Namespace, db_dir: Path, coordinator: StaffId) -> dict[str, Any]:
    """Median time of "overdue for one coordinator" via the store and via raw SQL."""
    store = SQLiteStore(db_dir / "store.sqlite3")
    query = WorkQuery(
        category="intervention", owner_ids=(str(coordinator),), due_before=NOW, open_only=True
    )  # every row (the hard floors with a limit of 100 are in floors.py)
    conn = sqlite3.connect(db_dir / "store.sqlite3")
    raw_db = sqlite3.connect(db_dir / "raw.sqlite3")
    params = (str(coordinator), to_micros(NOW))
    try:
        hits = store.query(query)
        raw_hits = conn.execute(_RAW_OVERDUE, params).fetchall()
        floor_hits = raw_db.execute(_RAW_OVERDUE, params).fetchall()
        store_ms, raw_ms = _median_ms(
            [
                lambda: store.query(query),
                lambda: conn.execute(_RAW_OVERDUE, params).fetchall(),
            ],
            args.repeat,
        )
    finally:
        store.close()
        conn.close()
        raw_db.close()
    ids = [(h.kind, h.record_id, h.row.item_id) for h in hits]
    return {
        "coordinator": str(coordinator),
        "rows": len(hits),
        "repeat": args.repeat,
        "store_ms": store_ms,
        "raw_ms": raw_ms,
        "ratio": store_ms / raw_ms if raw_ms else None,
        "same_results": ids == [(r[0], r[1], r[4]) for r in raw_hits]
        and ids == [(r[0], r[1], r[4]) for r in floor_hits],
        "item_ids": [i[2] for i in ids] if args.patients <= 1000 else None,
    }


# ------------------------------------------------------------- serialization
def full_plan(staff: Sequence[StaffId]) -> CarePlan:
    """A full care plan: 3 goals with targets and readings, 10 interventions with history."""
    rng = random.Random(7)
    patient = _patient(rng, 1)
    plan = _plan(rng, patient, 10, staff)
    author = plan.author_id
    goals = []
    for number in range(3):
        goal = _goal(rng, str(plan.id), number, author)
        for day in range(4):
            goal = goal.with_reading(
                ProgressReading(
                    measure="HbA1c",
                    value=8.5 - day * 0.3,
                    unit="%",
                    at=NOW - timedelta(days=90 - 30 * day),
                    recorded_by=author,
                )
            )
        goals.append(goal)
    items = [_intervention(rng, str(plan.id), n, staff, plan.created_at) for n in range(10)]
    return CarePlan(
        id=plan.id,
        patient_id=plan.patient_id,
        author_id=author,
        created_at=plan.created_at,
        status=CarePlanStatus.ACTIVE,
        period=plan.period,
        addresses=tuple(n for g in goals for n in g.addresses),
        goals=tuple(goals),
        interventions=tuple(items),
        review_cadence=Cadence(every=30, unit="days", anchor=plan.created_at.astimezone(_ZONES[0])),
        next_review_at=plan.next_review_at,
    )


_FHIR_STATUS = {
    "ready": "not-started",
    "in-progress": "in-progress",
    "on-hold": "on-hold",
    "completed": "completed",
    "cancelled": "cancelled",
}


def fhir_care_plan(plan: CarePlan) -> dict[str, Any]:
    """A comparable FHIR R4B CarePlan: contained Goals, one activity detail per intervention."""
    return {
        "resourceType": "CarePlan",
        "id": str(plan.id),
        "status": plan.status.value,
        "intent": plan.intent.value,
        "title": plan.title,
        "subject": {"reference": f"Patient/{plan.patient_id}"},
        "created": plan.created_at.isoformat(),
        "author": {"reference": f"Practitioner/{plan.author_id}"},
        "period": {"start": plan.created_at.isoformat()},
        "contained": [
            {
                "resourceType": "Goal",
                "id": str(goal.id),
                "lifecycleStatus": goal.lifecycle_status.value,
                "description": {"text": goal.description},
                "subject": {"reference": f"Patient/{plan.patient_id}"},
                "target": [
                    {
                        "measure": {"text": t.measure},
                        "detailQuantity": {
                            "value": t.quantity.value if t.quantity else None,
                            "unit": t.quantity.unit if t.quantity else None,
                        },
                        "dueDate": t.due.isoformat() if t.due else None,
                    }
                    for t in goal.targets
                ],
            }
            for goal in plan.goals
        ],
        "goal": [{"reference": f"#{goal.id}"} for goal in plan.goals],
        "activity": [
            {
                "detail": {
                    "kind": "Task",
                    "code": {"text": item.kind.value},
                    "status": _FHIR_STATUS.get(item.status.value, "unknown"),
                    "description": item.description,
                    "scheduledPeriod": {"end": item.due_at.isoformat() if item.due_at else None},
                    "performer": [{"reference": f"Practitioner/{item.assignee_id}"}],
                }
            }
            for item in plan.interventions
        ],
    }


def _per_call_us(call: Callable[[], object], budget: float, repeat: int = 5) -> float:
    """Median per-call time in microseconds over ``repeat`` rounds of about ``budget`` seconds."""
    t0 = time.perf_counter()
    call()  # warm up, and calibrate the number of calls per round
    number = max(1, int(budget / max(time.perf_counter() - t0, 1e-7)))
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            call()
        times.append((time.perf_counter() - t0) / number)
    return statistics.median(times) * 1e6


def serialization(args: argparse.Namespace, staff: Sequence[StaffId]) -> dict[str, Any]:
    """A full plan's unstructure + structure, against json dumps + loads of the same dict."""
    plan = full_plan(staff)
    payload = to_payload(plan)
    text = json.dumps(payload)
    assert from_payload(json.loads(text), CarePlan) == plan
    budget = args.round_seconds

    def carecoord_round() -> object:
        return from_payload(to_payload(plan), CarePlan)

    def json_round() -> object:
        return json.loads(json.dumps(payload))

    def stored_round() -> object:
        return from_payload(json.loads(json.dumps(to_payload(plan))), CarePlan)

    result: dict[str, Any] = {
        "goals": len(plan.goals),
        "interventions": len(plan.interventions),
        "payload_bytes": len(text.encode()),
        "unstructure_us": _per_call_us(lambda: to_payload(plan), budget),
        "structure_us": _per_call_us(lambda: from_payload(payload, CarePlan), budget),
        "carecoord_us": _per_call_us(carecoord_round, budget),
        "json_us": _per_call_us(json_round, budget),
        "with_json_us": _per_call_us(stored_round, budget),
    }
    result["ratio"] = result["carecoord_us"] / result["json_us"]
    result["fhir_resources"] = None
    try:
        import fhir.resources
        from fhir.resources.R4B.careplan import CarePlan as FhirCarePlan
    except ImportError:
        return result
    resource = fhir_care_plan(plan)
    parsed = FhirCarePlan.model_validate(resource)

    def fhir_round() -> object:
        return FhirCarePlan.model_validate(resource).model_dump()

    result["fhir_resources"] = {
        "version": fhir.resources.__version__,
        "activities": len(parsed.activity or ()),
        "parse_us": _per_call_us(lambda: FhirCarePlan.model_validate(resource), budget),
        "round_trip_us": _per_call_us(fhir_round, budget),
    }
    result["fhir_resources"]["ratio"] = (
        result["carecoord_us"] / result["fhir_resources"]["round_trip_us"]
    )
    return result


# ------------------------------------------------------------ import, memory
def _run_ms(argv: Sequence[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return (time.perf_counter() - t0) * 1000


def import_time(args: argparse.Namespace) -> dict[str, Any]:
    """Every public name of carecoord in a fresh interpreter: median wall time minus a bare start.

    ``import carecoord`` alone loads the model lazily, so the figure takes
    ``from carecoord import *`` (every class built), the cost a program pays.
    """
    python = sys.executable
    runs = args.import_runs
    everything = "from carecoord import *"
    _run_ms([python, "-c", everything])  # warm the OS file cache and .pyc files
    bare = statistics.median(_run_ms([python, "-c", "pass"]) for _ in range(runs))
    full = statistics.median(_run_ms([python, "-c", everything]) for _ in range(runs))
    done = subprocess.run(
        [python, "-X", "importtime", "-c", everything],
        check=True,
        capture_output=True,
        text=True,
    )
    cumulative_us = None
    modules = 0
    for line in done.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2].startswith("carecoord"):
            modules += 1
            if parts[2] == "carecoord":
                cumulative_us = int(parts[1])
    return {
        "runs": runs,
        "interpreter_ms": bare,
        "with_import_ms": full,
        "import_ms": full - bare,
        "importtime_cumulative_ms": None if cumulative_us is None else cumulative_us / 1000,
        "carecoord_modules": modules,
    }


def memory(args: argparse.Namespace, staff: Sequence[StaffId]) -> dict[str, Any]:
    """Traced bytes a MemoryStore holds per intervention (first ``--memory-patients`` patients)."""
    sample = min(args.patients, args.memory_patients)
    record_write(full_plan(staff))  # warm converter caches outside the measurement
    store = MemoryStore()
    interventions = records = 0
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for chunk in generate(sample, args.interventions_per_patient, args.seed, staff):
        interventions += sum(len(r.interventions) for r in chunk if isinstance(r, CarePlan))
        records += len(chunk)
        store.write([record_write(r) for r in chunk])
        del chunk
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert len(store.read_all("CarePlan")) == sample
    return {
        "patients": sample,
        "records": records,
        "interventions": interventions,
        "bytes": held,
        "bytes_per_intervention": held / interventions if interventions else None,
        "bytes_per_record": held / records if records else None,
    }


# --------------------------------------------------------------------- report
def machine() -> dict[str, Any]:
    """Where the figures were taken."""
    import carecoord

    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
        "carecoord": getattr(carecoord, "__version__", None),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _fmt(value: float | None, unit: str, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f} {unit}".strip()


def table(results: dict[str, Any]) -> str:
    """The figures as a plain-text table."""
    load, work = results["bulk_load"], results["worklist"]
    ser, imp, mem = results["serialization"], results["import"], results["memory"]
    met = results["targets_met"]

    def yes(key: str) -> str:
        return "yes" if met[key] else "NO"

    rows = [
        ("figure", "carecoord", "floor", "ratio", "target", "met"),
        (
            "bulk load (SQLiteStore.write)",
            _fmt(load["store_write_s"], "s", 2),
            _fmt(load["raw_write_s"], "s", 2) + " raw",
            _fmt(load["ratio"], "x", 2),
            "<= 2x",
            yes("bulk_load_ratio"),
        ),
        (
            "  vs raw in the same batches",
            _fmt(load["store_write_s"], "s", 2),
            _fmt(load["raw_batched_write_s"], "s", 2) + " raw",
            _fmt(load["batched_ratio"], "x", 2),
            "",
            "",
        ),
        (
            "  + serialize and index (UoW)",
            _fmt(load["prepare_s"] + load["store_write_s"], "s", 2),
            _fmt(load["raw_write_s"], "s", 2) + " raw",
            _fmt(load["end_to_end_ratio"], "x", 2),
            "",
            "",
        ),
        (
            f"overdue worklist ({work['rows']:,} rows)",
            _fmt(work["store_ms"], "ms", 2),
            _fmt(work["raw_ms"], "ms", 2) + " raw",
            _fmt(work["ratio"], "x", 2),
            "< 20 ms, <= 3x",
            f"{yes('worklist_ms')}, {yes('worklist_ratio')}",
        ),
        (
            "full plan structure+unstructure",
            _fmt(ser["carecoord_us"], "us"),
            _fmt(ser["json_us"], "us") + " json",
            _fmt(ser["ratio"], "x", 2),
            "",
            "",
        ),
    ]
    fhir = ser["fhir_resources"]
    if fhir is not None:
        rows.append(
            (
                "  vs fhir.resources R4B CarePlan",
                _fmt(ser["carecoord_us"], "us"),
                _fmt(fhir["round_trip_us"], "us") + " fhir",
                _fmt(fhir["ratio"], "x", 2),
                "",
                "",
            )
        )
    rows += [
        (
            "import carecoord",
            _fmt(imp["import_ms"], "ms"),
            _fmt(imp["interpreter_ms"], "ms") + " bare",
            "",
            "< 150 ms",
            yes("import_ms"),
        ),
        (
            "MemoryStore per intervention",
            _fmt(mem["bytes_per_intervention"], "B", 0),
            "",
            "",
            "",
            "",
        ),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    head = (
        f"carecoord benchmarks: {load['patients']:,} patients, {load['interventions']:,} "
        f"interventions, {load['index_rows']:,} index rows, seed {results['sizes']['seed']}; "
        f"Python {results['machine']['python']}, {results['machine']['cpu_count']} CPUs, "
        f"SQLite {results['machine']['sqlite']}"
    )
    return "\n".join([head, "", *lines])


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--interventions-per-patient", type=int, default=10)
    parser.add_argument("--staff", type=int, default=100, help="assignees (default 100)")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--batch-size", type=int, default=1000, help="records per store write")
    parser.add_argument("--repeat", type=int, default=50, help="worklist runs (median)")
    parser.add_argument(
        "--round-seconds", type=float, default=0.2, help="length of a serialization timing round"
    )
    parser.add_argument("--import-runs", type=int, default=7)
    parser.add_argument("--memory-patients", type=int, default=10_000)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent / "results.json"
    )
    parser.add_argument(
        "--db-dir", type=Path, default=None, help="keep the databases here (default: a temp dir)"
    )
    args = parser.parse_args(argv)
    if args.patients < 1 or args.interventions_per_patient < 1 or args.staff < 1:
        parser.error("--patients, --interventions-per-patient and --staff must be >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run every benchmark, print the table, write the JSON; return the results."""
    args = parse_args(argv)
    staff = staff_ids(args.staff)
    temporary = args.db_dir is None
    db_dir = Path(tempfile.mkdtemp(prefix="carecoord-bench-")) if temporary else args.db_dir
    db_dir.mkdir(parents=True, exist_ok=True)
    try:
        load = bulk_load(args, db_dir, staff)
        work = worklist(args, db_dir, staff[0])
    finally:
        if temporary:
            shutil.rmtree(db_dir, ignore_errors=True)
    results: dict[str, Any] = {
        "sizes": {
            "patients": args.patients,
            "interventions_per_patient": args.interventions_per_patient,
            "staff": args.staff,
            "seed": args.seed,
            "now": NOW.isoformat(),
        },
        "machine": machine(),
        "bulk_load": load,
        "worklist": work,
        "serialization": serialization(args, staff),
        "import": import_time(args),
        "memory": memory(args, staff),
        "targets": TARGETS,
    }
    results["targets_met"] = {
        "bulk_load_ratio": load["ratio"] is not None
        and load["ratio"] <= TARGETS["bulk_load_ratio"],
        "worklist_ms": work["store_ms"] < TARGETS["worklist_ms"],
        "worklist_ratio": work["ratio"] is not None and work["ratio"] <= TARGETS["worklist_ratio"],
        "import_ms": results["import"]["import_ms"] < TARGETS["import_ms"],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\nfigures written to {args.out}")
    return results


if __name__ == "__main__":
    main()
