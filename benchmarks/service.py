"""carecoord service benchmarks: CareCoordinator operations per second, each next to its floor.

Run from the repository root, with the project's virtual environment::

    .venv/bin/python benchmarks/service.py                      # 1,000 / 10,000 / 100,000 patients
    .venv/bin/python benchmarks/service.py --sizes 1000,10000   # a quicker look
    CARECOORD_BENCH_POSTGRES_DSN=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python benchmarks/service.py                  # SQLite and PostgreSQL

For each size it bulk-loads background patients (patient, care team of three,
care plan with a goal and 3 to 5 interventions, two notes) straight into the
store with ``store.write`` batches of ``encode_record`` results (not through the
service; PostgreSQL is loaded by ``--load-workers`` processes at the same time
as SQLite), runs ``store.optimize()`` (and, on PostgreSQL, VACUUM and a
CHECKPOINT, so that autovacuum does not run mid-measurement), then measures
``--ops`` operations of each kind through
:class:`~carecoord.service.CareCoordinator`, each call taking turns with its
floor so that load changes hit both alike:

* a read: ``patient()`` of a random background patient by a coordinator on
  their team, against a raw ``UnitOfWork(store).get(Patient, id)``;
* a small write: ``record_note()``, against ``store.write`` of the encoded note;
* an enrolment: ``enrol_patient`` + ``form_care_team`` + ``create_care_plan``
  with 10 interventions, against ``store.write`` of the same three records
  (encoded beforehand) in one transaction; and, for context, against
  ``store.write`` of every row the service writes for it (its audit entries
  and outbox notifications too), re-keyed, in one transaction.

Figures are mean costs (ops/s = operations / time spent in them); the JSON also
keeps p50 and p95. Each size also reports cost at the largest size over cost at
the smallest, per operation (and the floor's own growth, for context).

SQLite is a file in a temporary directory. With a PostgreSQL DSN
(``--postgres-dsn`` or ``$CARECOORD_BENCH_POSTGRES_DSN``) the same is measured
on PostgreSQL in a throw-away schema, then with 1, 2, 4 and 8 forked processes
(each its own store and CareCoordinator, ``--ops`` per figure shared between
them, started together at a barrier): total ops/s and failures. The stores grow
from one size to the next. After each phase ``seal_audit()`` chains the audit
entries the operations appended.

It prints a table and a met/not met line per target, and writes every figure,
the sizes and the machine to ``--out`` (default ``benchmarks/service-results.json``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import multiprocessing
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from carecoord import (
    AuditEntry,
    CarePlan,
    CarePlanId,
    CarePlanStatus,
    CareTeam,
    CareTeamId,
    CareTeamRole,
    CareTeamStatus,
    ContactChannel,
    ContactPoint,
    ContactPreferences,
    Goal,
    GoalId,
    GoalLifecycleStatus,
    HumanName,
    Intervention,
    InterventionId,
    InterventionKind,
    Membership,
    Note,
    NoteId,
    Patient,
    PatientId,
    Period,
    StaffId,
    StaffMember,
    TaskPriority,
    TaskStatus,
)
from carecoord.model import Direction, InteractionParty
from carecoord.model.audit import AuditAction, AuditOutcome, new_audit_entry_id
from carecoord.progress import Progress
from carecoord.service import CareCoordinator
from carecoord.storage import (
    RECORD_TYPES,
    RecordWrite,
    SQLiteStore,
    Store,
    StoredRecord,
    UnitOfWork,
)
from carecoord.storage._codec import decode_record, encode_record
from carecoord.testing import ForwardingStore

if TYPE_CHECKING:
    from carecoord.storage.postgres import PostgresStore

__all__ = ["FIGURES", "NOW", "TARGETS", "background", "main", "parse_args", "staff_members"]

NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
"""The fixed "now" of the background data (the service itself runs on the real clock)."""

DSN_ENV = "CARECOORD_BENCH_POSTGRES_DSN"

TARGETS = {
    "read_ratio": 5.0,
    "enrol_ratio": 4.0,
    "scaling_ratio": 1.3,
}
"""At most: patient() / UnitOfWork.get, enrolment / raw store.write, cost largest / smallest."""

FIGURES = ("read", "note", "enrol")
"""The measured operations, in the order they run."""

LABELS = {
    "read": "patient()",
    "note": "record_note()",
    "enrol": "enrol + team + plan(10)",
}
FLOOR_LABELS = {
    "read": "UnitOfWork.get(Patient)",
    "note": "store.write(note)",
    "enrol": "store.write(3 records, 1 tx)",
}

QUICK_SIZES = (20, 60)
QUICK_OPS = 4
QUICK_PROCESSES = (1, 2)

# ------------------------------------------------------------------ staff
MANAGERS = tuple(StaffId(f"staff-{n:03d}") for n in range(0, 5))
COORDINATORS = tuple(StaffId(f"staff-{n:03d}") for n in range(5, 45))
NURSES = tuple(StaffId(f"staff-{n:03d}") for n in range(45, 70))
ASSISTANTS = tuple(StaffId(f"staff-{n:03d}") for n in range(70, 100))

_FAMILY = ("Garcia", "Smith", "Nguyen", "Johnson", "Okafor", "Kowalski", "Haddad", "Lee")
_GIVEN = ("Ana", "James", "Mai", "Robert", "Chidi", "Ewa", "Omar", "Grace")
_ZONES = ("America/Chicago", "America/New_York", "America/Denver", "America/Los_Angeles")
_TASKS = (
    "Call to review medication list and refill dates",
    "Arrange transport to the cardiology appointment",
    "Send diabetes self-management education material",
    "Confirm food bank enrolment and pick-up day",
    "Follow up on home blood pressure readings",
    "Complete the housing assistance application with the patient",
)
_KINDS = tuple(InterventionKind)
_PRIORITIES = (TaskPriority.ROUTINE, TaskPriority.URGENT, TaskPriority.ASAP)


def staff_members() -> list[StaffMember]:
    """100 staff: 5 case managers, who supervise 40 coordinators, 25 nurses and 30 assistants."""
    members = []
    for group, role in (
        (MANAGERS, CareTeamRole.CASE_MANAGER),
        (COORDINATORS, CareTeamRole.CARE_COORDINATOR),
        (NURSES, CareTeamRole.NURSE),
        (ASSISTANTS, CareTeamRole.MEDICAL_ASSISTANT),
    ):
        for number, staff_id in enumerate(group):
            members.append(
                StaffMember(
                    id=staff_id,
                    name=HumanName(family=_FAMILY[number % 8], given=(_GIVEN[number % 8],)),
                    roles=(role,),
                    time_zone=_ZONES[number % 4],
                    supervisor_id=None if group is MANAGERS else MANAGERS[number % 5],
                    telecom=(ContactPoint(ContactChannel.SMS, f"+1 555 01{number:02d}"),),
                    preferences=ContactPreferences(channels=(ContactChannel.SMS,)),
                )
            )
    return members


def coordinator_of(number: int) -> StaffId:
    """The coordinator who leads background patient ``number``'s care team."""
    return COORDINATORS[number % len(COORDINATORS)]


def patient_id(number: int) -> PatientId:
    """The id of background patient ``number``."""
    return PatientId(f"pat-{number:06d}")


# --------------------------------------------------------------- records
def _patient(pid: PatientId, rng: random.Random, enrolled: datetime) -> Patient:
    return Patient(
        id=pid,
        name=HumanName(family=rng.choice(_FAMILY), given=(rng.choice(_GIVEN),)),
        birth_date=date(1930, 1, 1) + timedelta(days=rng.randint(0, 75 * 365)),
        time_zone=rng.choice(_ZONES),
        telecom=(ContactPoint(ContactChannel.SMS, f"+1 555 {rng.randrange(10_000):04d}"),),
        preferences=ContactPreferences(channels=(ContactChannel.SMS,)),
        enrolled_at=enrolled,
    )


def _team(
    team_id: CareTeamId, pid: PatientId, members: Sequence[StaffId], start: datetime
) -> CareTeam:
    roles = (CareTeamRole.CARE_COORDINATOR, CareTeamRole.NURSE, CareTeamRole.MEDICAL_ASSISTANT)
    return CareTeam(
        id=team_id,
        patient_id=pid,
        lead_id=members[0],
        members=tuple(
            Membership(staff_id=staff, role=role, period=Period(start=start))
            for staff, role in zip(members, roles, strict=True)
        ),
        status=CareTeamStatus.ACTIVE,
    )


def _intervention(
    rng: random.Random, plan_id: str, number: int, assignee: StaffId, created: datetime
) -> Intervention:
    due = NOW + timedelta(minutes=rng.randint(-30 * 24 * 60, 30 * 24 * 60))
    item = Intervention(
        id=InterventionId(f"{plan_id}-i{number:02d}"),
        kind=rng.choice(_KINDS),
        description=rng.choice(_TASKS),
        created_at=created,
        assignee_id=assignee,
        priority=rng.choice(_PRIORITIES),
        due=due,
    )
    if due < NOW and rng.random() < 0.8:  # most past work is done
        at = created + timedelta(days=1)
        item = item.transition(TaskStatus.IN_PROGRESS, by=assignee, at=at)
        item = item.transition(TaskStatus.COMPLETED, by=assignee, at=at + timedelta(hours=2))
    return item


def _plan(
    rng: random.Random,
    plan_id: CarePlanId,
    pid: PatientId,
    team: Sequence[StaffId],
    created: datetime,
    interventions: int,
) -> CarePlan:
    goal = Goal(
        id=GoalId(f"{plan_id}-g1"),
        description="Keep HbA1c below 7% and walk 30 minutes a day",
        lifecycle_status=GoalLifecycleStatus.ACTIVE,
    )
    return CarePlan(
        id=plan_id,
        patient_id=pid,
        author_id=team[0],
        created_at=created,
        status=CarePlanStatus.ACTIVE,
        period=Period(start=created),
        goals=(goal,),
        interventions=tuple(
            _intervention(rng, str(plan_id), n, team[n % len(team)], created)
            for n in range(interventions)
        ),
        next_review_at=NOW + timedelta(days=rng.randint(-30, 30)),
    )


def _note(note_id: NoteId, pid: PatientId, author: StaffId, at: datetime) -> Note:
    return Note(
        id=note_id,
        patient_id=pid,
        at=at,
        author_id=author,
        channel=ContactChannel.PHONE,
        direction=Direction.OUTBOUND,
        party=InteractionParty.PATIENT,
        summary="Called to check on medication refills; patient doing well.",
    )


def background(rng: random.Random, number: int) -> list[object]:
    """Background patient ``number``: the patient, an active 3-member care team, an
    active plan with one goal and 3 to 5 interventions, and two notes (5 records)."""
    pid = patient_id(number)
    enrolled = NOW - timedelta(days=rng.randint(60, 720))
    team = (coordinator_of(number), rng.choice(NURSES), rng.choice(ASSISTANTS))
    created = enrolled + timedelta(days=1)
    return [
        _patient(pid, rng, enrolled),
        _team(CareTeamId(f"team-{number:06d}"), pid, team, enrolled),
        _plan(rng, CarePlanId(f"plan-{number:06d}"), pid, team, created, rng.randint(3, 5)),
        *(
            _note(NoteId(f"note-{number:06d}-{k}"), pid, team[k], created + timedelta(days=k))
            for k in range(2)
        ),
    ]


@attrs.frozen
class Enrolment:
    """One enrolment: a new patient, their first care team, a plan of 10 interventions."""

    actor: StaffId
    patient: Patient
    team: CareTeam
    plan: CarePlan

    def records(self) -> list[object]:
        """The three records, in the order the service writes them."""
        return [self.patient, self.team, self.plan]


class Workload:
    """The inputs of the measured operations: random background patients, new records.

    ``tag`` makes every new id unique to one measurement (and process).
    """

    def __init__(self, patients: int, seed: int, tag: str) -> None:
        self.patients = patients
        self.tag = tag
        self.rng = random.Random(f"{seed}/{tag}")

    def pick(self) -> tuple[PatientId, StaffId]:
        """A random background patient and the coordinator on their care team."""
        number = self.rng.randrange(self.patients)
        return patient_id(number), coordinator_of(number)

    def note(self, number: int, prefix: str = "n") -> tuple[Note, StaffId]:
        """A new note on a random background patient, by that patient's coordinator."""
        pid, actor = self.pick()
        return _note(NoteId(f"{self.tag}-{prefix}{number}"), pid, actor, NOW), actor

    def enrolment(self, number: int, prefix: str = "e") -> Enrolment:
        """A new patient with a care team and an active plan of 10 interventions."""
        key = f"{self.tag}-{prefix}{number}"
        pid = PatientId(key)
        actor = COORDINATORS[number % len(COORDINATORS)]
        team = (actor, self.rng.choice(NURSES), self.rng.choice(ASSISTANTS))
        return Enrolment(
            actor=actor,
            patient=_patient(pid, self.rng, NOW),
            team=_team(CareTeamId(f"{key}-t"), pid, team, NOW),
            plan=_plan(self.rng, CarePlanId(f"{key}-c"), pid, team, NOW, 10),
        )


def raw_read(store: Store, pid: PatientId) -> Patient:
    """The read floor: a fresh unit of work decodes one patient (no access check, no audit)."""
    return UnitOfWork(store).get(Patient, pid)


def raw_audited_read(store: Store, pid: PatientId, actor: StaffId) -> Patient:
    """The read floor with the audit row every service read must write (one more transaction)."""
    found = raw_read(store, pid)
    entry = AuditEntry.create(
        at=datetime.now(UTC),
        actor=str(actor),
        action=AuditAction.READ,
        operation="patient",
        outcome=AuditOutcome.SUCCESS,
        patient_id=str(pid),
        entity=f"Patient/{pid}",
    )
    store.write([encode_record(entry, 0)])
    return found


def enrol(service: CareCoordinator, enrolment: Enrolment) -> None:
    """The measured enrolment: three service operations."""
    actor = enrolment.actor
    service.enrol_patient(enrolment.patient, actor=actor)
    service.form_care_team(enrolment.team, actor=actor)
    service.create_care_plan(enrolment.plan, actor=actor)


# --------------------------------------------------------------- loading
def patient_rng(seed: int, number: int) -> random.Random:
    """Each background patient's own generator: any process can build any patient."""
    return random.Random(seed * 1_000_003 + number)


@attrs.define
class LoadTimes:
    """Where the time of loading one range of patients went (seconds)."""

    generate: float = 0.0
    encode: float = 0.0
    write: float = 0.0
    records: int = 0
    index_rows: int = 0


def load_range(
    store: Store,
    seed: int,
    start: int,
    stop: int,
    batch_size: int,
    *,
    staff: bool,
    progress: Progress | None = None,
    chunk: int = 200,
) -> LoadTimes:
    """Write background patients ``start`` to ``stop`` (and the staff) with ``store.write``.

    Records are encoded with ``encode_record`` (what a UnitOfWork commits for a
    new record) and written in atomic batches of ``batch_size`` records.
    """
    times = LoadTimes()

    def write(writes: Sequence[RecordWrite]) -> None:
        times.records += len(writes)
        times.index_rows += sum(len(w.index) for w in writes)
        t0 = time.perf_counter()
        for first in range(0, len(writes), batch_size):
            store.write(writes[first : first + batch_size])
        times.write += time.perf_counter() - t0

    if staff:
        write([encode_record(member, 0) for member in staff_members()])
    for low in range(start, stop, chunk):
        high = min(low + chunk, stop)
        t0 = time.perf_counter()
        made = [r for n in range(low, high) for r in background(patient_rng(seed, n), n)]
        t1 = time.perf_counter()
        writes = [encode_record(record, 0) for record in made]
        times.generate += t1 - t0
        times.encode += time.perf_counter() - t1
        write(writes)
        if progress is not None:
            progress.update(high - low)
    return times


def _load_worker(
    dsn: str,
    schema: str,
    seed: int,
    start: int,
    stop: int,
    batch_size: int,
    staff: bool,
    results: Any,
) -> None:
    """A PostgreSQL loader process: its own store, one range of patients."""
    from carecoord.storage import PostgresStore

    try:
        store = PostgresStore(dsn, schema=schema, min_size=1, max_size=1)
        try:
            times = load_range(store, seed, start, stop, batch_size, staff=staff)
        finally:
            store.close()
        results.put(attrs.asdict(times))
    except BaseException as exc:  # reported in the parent
        results.put({"error": f"{type(exc).__name__}: {exc}"})


def _settle_postgres(dsn: str, schema: str) -> dict[str, float]:
    """``store.optimize()``, then VACUUM and a CHECKPOINT: what autovacuum and time would
    have done to a database that grew to this size (so they do not run mid-measurement)."""
    import psycopg
    from psycopg import sql

    spent: dict[str, float] = {}
    t0 = time.perf_counter()
    store = _open_postgres(dsn, schema)
    try:
        store.optimize()
    finally:
        store.close()
    spent["optimize_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in ("records", "work_index"):
            conn.execute(
                sql.SQL("VACUUM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
            )
        with contextlib.suppress(psycopg.Error):  # needs superuser or pg_checkpoint
            conn.execute("CHECKPOINT")
    spent["vacuum_checkpoint_s"] = time.perf_counter() - t0
    return spent


class Loader:
    """Grows the stores to a number of background patients, never through the service.

    SQLite is loaded in this process; PostgreSQL by ``workers`` forked processes
    at the same time, each writing its share of the new patients (PostgreSQL
    writes are round trips, so parallel writers load it faster). Both get the
    same records: each patient comes from its own seeded generator.
    """

    def __init__(
        self,
        sqlite: SQLiteStore,
        postgres: tuple[str, str] | None,
        *,
        seed: int,
        batch_size: int,
        workers: int,
    ) -> None:
        self.sqlite = sqlite
        self.postgres = postgres
        self.seed = seed
        self.batch_size = batch_size
        self.workers = workers
        self.loaded = 0

    def grow(self, patients: int) -> dict[str, Any]:
        """Load background patients up to ``patients``; then optimize (SQLite: ANALYZE)."""
        start, stop = self.loaded, max(patients, self.loaded)
        started = time.perf_counter()
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        loaders = []
        if self.postgres is not None:
            dsn, schema = self.postgres
            cuts = [start + (stop - start) * k // self.workers for k in range(self.workers + 1)]
            for k in range(self.workers):
                loaders.append(
                    context.Process(
                        target=_load_worker,
                        args=(
                            dsn,
                            schema,
                            self.seed,
                            cuts[k],
                            cuts[k + 1],
                            self.batch_size,
                            start == 0 and k == 0,
                            queue,
                        ),
                    )
                )
            for process in loaders:
                process.start()
        with Progress(stop - start, f"load {patients:,}") as bar:
            mine = load_range(
                self.sqlite, self.seed, start, stop, self.batch_size, staff=start == 0, progress=bar
            )
        sqlite_done = time.perf_counter() - started
        t0 = time.perf_counter()
        self.sqlite.optimize()
        result: dict[str, Any] = {
            "patients": patients,
            "added": stop - start,
            "records": mine.records,
            "index_rows": mine.index_rows,
            "sqlite": {
                "generate_s": mine.generate,
                "encode_s": mine.encode,
                "write_s": mine.write,
                "optimize_s": time.perf_counter() - t0,
                "wall_s": sqlite_done,
            },
        }
        if self.postgres is not None:
            parts = [queue.get(timeout=3600) for _ in loaders]
            for process in loaders:
                process.join(timeout=60)
            errors = [p["error"] for p in parts if "error" in p]
            if errors:
                raise RuntimeError(f"a PostgreSQL loader failed: {errors[0]}")
            loaded = time.perf_counter() - started
            result["postgres"] = {
                "workers": self.workers,
                "generate_s": sum(p["generate"] for p in parts),
                "encode_s": sum(p["encode"] for p in parts),
                "write_s": sum(p["write"] for p in parts),
                "wall_s": loaded,
                **_settle_postgres(*self.postgres),
            }
        result["wall_s"] = time.perf_counter() - started
        result["patients_per_s"] = (stop - start) / result["wall_s"] if result["wall_s"] else None
        self.loaded = stop
        return result


# ------------------------------------------------------------- measuring
class Recording(ForwardingStore):
    """A store that passes everything on and keeps the batches written (to learn the rows)."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.batches: list[list[RecordWrite]] = []

    def write(self, batch: Sequence[RecordWrite]) -> None:
        self.batches.append(list(batch))
        super().write(batch)


def _stats(
    times: Sequence[float], failures: int = 0, errors: Counter[str] | None = None
) -> dict[str, Any]:
    total = sum(times)
    ordered = sorted(times)
    return {
        "ops": len(times),
        "seconds": total,
        "ops_per_s": len(times) / total if total else None,
        "mean_us": total / len(times) * 1e6 if times else None,
        "p50_us": statistics.median(ordered) * 1e6 if times else None,
        "p95_us": ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)] * 1e6
        if times
        else None,
        "failures": failures,
        "errors": dict(errors or {}),
    }


class _Timer:
    """Times calls; a failing call counts as a failure (its time still counts)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.failures = 0
        self.errors: Counter[str] = Counter()

    def __call__(self, call: Callable[[], object]) -> None:
        t0 = time.perf_counter()
        try:
            call()
        except Exception as exc:
            self.failures += 1
            self.errors[type(exc).__name__] += 1
        finally:
            self.times.append(time.perf_counter() - t0)

    def stats(self) -> dict[str, Any]:
        return _stats(self.times, self.failures, self.errors)


def rows_like(sample: Sequence[RecordWrite], pid: PatientId, key: str) -> list[RecordWrite]:
    """The rows of ``sample`` as new records: fresh ids, patient ``pid``, same content.

    ``sample`` is what the service wrote for one enrolment (patient, team, plan,
    audit entries, outbox notifications); the copies are valid records of their
    kind (the sealer and dispatchers can handle them), encoded like the originals.
    """
    rows = []
    for number, write in enumerate(sample):
        stored = StoredRecord(
            kind=write.kind, id=write.id, version=1, payload=write.payload, patient_id=None
        )
        record: Any = decode_record(stored, RECORD_TYPES[write.kind])
        if isinstance(record, AuditEntry):
            new_id: str = new_audit_entry_id(record.at)
        elif isinstance(record, Patient):
            new_id = pid
        else:
            new_id = f"{key}-{number}"
        changes: dict[str, Any] = {"id": type(record.id)(new_id)}
        if getattr(record, "patient_id", None) is not None:
            changes["patient_id"] = type(record.patient_id)(pid)
        rows.append(encode_record(attrs.evolve(record, **changes), 0))
    return rows


def _ratio(part: dict[str, Any], floor: dict[str, Any]) -> float | None:
    mine, base = part["mean_us"], floor["mean_us"]
    return mine / base if mine is not None and base else None


def measure(store: Store, *, patients: int, ops: int, seed: int, tag: str) -> dict[str, Any]:
    """Every figure and its floor in this process; service call and floor take turns."""
    service = CareCoordinator(store)
    work = Workload(patients, seed, tag)
    warm = max(2, min(20, ops // 10))
    # Warm-up (statement caches, converters), and the rows one enrolment writes.
    recording = Recording(store)
    recorder = CareCoordinator(recording)
    enrol(recorder, work.enrolment(0, "sample"))
    sample = [w for batch in recording.batches for w in batch]
    for n in range(warm):
        pid, actor = work.pick()
        service.patient(pid, actor=actor)
        raw_read(store, pid)
        note, actor = work.note(n, "wn")
        service.record_note(note, actor=actor)
        store.write([encode_record(work.note(n, "wf")[0], 0)])
        enrol(service, work.enrolment(n, "we"))
        store.write([encode_record(r, 0) for r in work.enrolment(n, "wf").records()])

    result: dict[str, Any] = {"warmup_ops": warm, "ops": ops}
    mine, floor, audited = _Timer(), _Timer(), _Timer()
    for _ in range(ops):
        pid, actor = work.pick()
        mine(partial(service.patient, pid, actor=actor))
        other, other_actor = work.pick()
        floor(partial(raw_read, store, other))
        other, other_actor = work.pick()
        audited(partial(raw_audited_read, store, other, other_actor))
    result["read"] = {
        "carecoord": mine.stats(),
        "floor": floor.stats(),
        "floor_with_audit": audited.stats(),
    }

    mine, floor = _Timer(), _Timer()
    for n in range(ops):
        note, actor = work.note(n)
        raw = [encode_record(work.note(n, "f")[0], 0)]
        mine(partial(service.record_note, note, actor=actor))
        floor(partial(store.write, raw))
    result["note"] = {"carecoord": mine.stats(), "floor": floor.stats()}

    mine, floor, floor_all = _Timer(), _Timer(), _Timer()
    for n in range(ops):
        enrolment = work.enrolment(n)
        raw = [encode_record(r, 0) for r in work.enrolment(n, "f").records()]
        rows = rows_like(sample, PatientId(f"{tag}-a{n}"), f"{tag}-a{n}")
        mine(partial(enrol, service, enrolment))
        floor(partial(store.write, raw))
        floor_all(partial(store.write, rows))
    result["enrol"] = {
        "carecoord": mine.stats(),
        "floor": floor.stats(),
        "floor_all_rows": floor_all.stats(),
        "rows_written": {
            "records": len(sample),
            "index_rows": sum(len(w.index) for w in sample),
            "kinds": dict(Counter(w.kind for w in sample)),
            "transactions": len(recording.batches),
        },
    }
    for figure in FIGURES:
        entry = result[figure]
        entry["ratio"] = _ratio(entry["carecoord"], entry["floor"])
    result["read"]["ratio_with_audit"] = _ratio(
        result["read"]["carecoord"], result["read"]["floor_with_audit"]
    )
    result["enrol"]["ratio_all_rows"] = _ratio(
        result["enrol"]["carecoord"], result["enrol"]["floor_all_rows"]
    )
    t0 = time.perf_counter()
    sealed = service.seal_audit()
    spent = time.perf_counter() - t0
    result["seal_audit"] = {
        "entries": sealed.sealed,
        "seconds": spent,
        "entries_per_s": sealed.sealed / spent if spent else None,
    }
    return result


# ------------------------------------------------------------ PostgreSQL
@attrs.frozen
class WorkerJob:
    """What one PostgreSQL worker process does."""

    dsn: str
    schema: str
    patients: int
    ops: int
    seed: int
    tag: str
    timeout: float = 600.0


def worker(job: WorkerJob, barrier: Any, results: Any) -> None:
    """One process of the multi-process run: its own store and CareCoordinator.

    Warms up, then runs each figure's share of operations after every process
    has reached the barrier; puts start and end times (monotonic, comparable
    between processes), operation counts and failures on ``results``.
    """
    from carecoord.storage import PostgresStore

    report: dict[str, Any] = {"tag": job.tag, "error": None}
    store: Store | None = None
    try:
        store = PostgresStore(job.dsn, schema=job.schema, min_size=1, max_size=1)
        service = CareCoordinator(store)
        work = Workload(job.patients, job.seed, job.tag)
        for n in range(3):
            pid, actor = work.pick()
            service.patient(pid, actor=actor)
            note, actor = work.note(n, "wn")
            service.record_note(note, actor=actor)
            enrol(service, work.enrolment(n, "we"))
        calls: dict[str, Callable[[int], None]] = {
            "read": lambda n: _read(service, work),
            "note": lambda n: _write_note(service, work, n),
            "enrol": lambda n: enrol(service, work.enrolment(n)),
        }
        for figure in FIGURES:
            barrier.wait(timeout=job.timeout)
            failures = 0
            errors: Counter[str] = Counter()
            start = time.monotonic()
            for n in range(job.ops):
                try:
                    calls[figure](n)
                except Exception as exc:
                    failures += 1
                    errors[type(exc).__name__] += 1
            end = time.monotonic()
            report[figure] = {
                "start": start,
                "end": end,
                "ops": job.ops,
                "failures": failures,
                "errors": dict(errors),
            }
    except BaseException as exc:  # reported in the parent
        report["error"] = f"{type(exc).__name__}: {exc}"
        barrier.abort()
    finally:
        if store is not None:
            store.close()
        results.put(report)


def _read(service: CareCoordinator, work: Workload) -> None:
    pid, actor = work.pick()
    service.patient(pid, actor=actor)


def _write_note(service: CareCoordinator, work: Workload, number: int) -> None:
    note, actor = work.note(number)
    service.record_note(note, actor=actor)


def run_processes(
    dsn: str, schema: str, *, patients: int, processes: int, ops: int, seed: int, tag: str
) -> dict[str, Any]:
    """``ops`` operations per figure shared by ``processes`` processes; total ops/s, failures."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(processes)
    queue = context.Queue()
    share = math.ceil(ops / processes)
    jobs = [
        WorkerJob(dsn=dsn, schema=schema, patients=patients, ops=share, seed=seed, tag=f"{tag}w{k}")
        for k in range(processes)
    ]
    started = [context.Process(target=worker, args=(job, barrier, queue)) for job in jobs]
    for process in started:
        process.start()
    reports = [queue.get(timeout=jobs[0].timeout * (len(FIGURES) + 1)) for _ in started]
    for process in started:
        process.join(timeout=60)
    errors = [r["error"] for r in reports if r["error"]]
    result: dict[str, Any] = {"processes": processes, "ops_per_process": share, "errors": errors}
    for figure in FIGURES:
        parts = [r[figure] for r in reports if figure in r]
        if not parts:
            result[figure] = None
            continue
        window = max(p["end"] for p in parts) - min(p["start"] for p in parts)
        total = sum(p["ops"] for p in parts)
        failures = sum(p["failures"] for p in parts)
        kinds: Counter[str] = Counter()
        for p in parts:
            kinds.update(p["errors"])
        result[figure] = {
            "ops": total,
            "seconds": window,
            "ops_per_s": (total - failures) / window if window else None,
            "failures": failures,
            "errors": dict(kinds),
            "slowest_process_s": max(p["end"] - p["start"] for p in parts),
        }
    return result


def _postgres_version(dsn: str) -> str | None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return None if row is None else str(row[0])


def _schema_exists(dsn: str, schema: str) -> bool:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
    return row is not None


def _drop_schema(dsn: str, schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


# ------------------------------------------------------------------ report
def machine(dsn: str | None) -> dict[str, Any]:
    """Where the figures were taken."""
    import carecoord

    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": _postgres_version(dsn) if dsn else None,
        "carecoord": getattr(carecoord, "__version__", None),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _scaling(stages: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Cost per operation at the largest size over the cost at the smallest (and the floor's)."""
    if len(stages) < 2:
        return {}
    small, large = stages[0], stages[-1]
    result = {}
    for figure in FIGURES:
        low = small["measured"][figure]["carecoord"]["mean_us"]
        high = large["measured"][figure]["carecoord"]["mean_us"]
        floor_low = small["measured"][figure]["floor"]["mean_us"]
        floor_high = large["measured"][figure]["floor"]["mean_us"]
        result[figure] = {
            "small": small["patients"],
            "large": large["patients"],
            "small_us": low,
            "large_us": high,
            "ratio": high / low if low else None,
            "floor_small_us": floor_low,
            "floor_large_us": floor_high,
            "floor_ratio": floor_high / floor_low if floor_low else None,
        }
    return result


def _checks(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per target and place it applies to."""
    checks = []
    for backend in ("sqlite", "postgres"):
        part = results.get(backend)
        if not part or "stages" not in part:
            continue
        for stage in part["stages"]:
            for target, figure in (("read_ratio", "read"), ("enrol_ratio", "enrol")):
                value = stage["measured"][figure]["ratio"]
                checks.append(
                    {
                        "target": target,
                        "backend": backend,
                        "patients": stage["patients"],
                        "figure": figure,
                        "value": value,
                        "met": value is not None and value <= TARGETS[target],
                    }
                )
        for figure, scale in part["scaling"].items():
            checks.append(
                {
                    "target": "scaling_ratio",
                    "backend": backend,
                    "patients": scale["large"],
                    "figure": figure,
                    "value": scale["ratio"],
                    "met": scale["ratio"] is not None
                    and scale["ratio"] <= TARGETS["scaling_ratio"],
                }
            )
    return checks


def _num(value: float | None, digits: int = 0, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}{unit}"


def _us(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value / 1000:,.2f} ms" if value >= 1000 else f"{value:,.0f} us"


def _grid(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
_TARGET_TEXT = {
    "read_ratio": "patient() within 5x of UnitOfWork.get(Patient)",
    "enrol_ratio": "enrol+team+plan within 4x of raw store.write (1 tx)",
    "scaling_ratio": "cost at the largest size <= 1.3x the cost at the smallest",
}


def table(results: dict[str, Any]) -> str:
    """The figures as plain text: floors, scaling, processes, then a line per target."""
    sizes = results["sizes"]
    mach = results["machine"]
    head = (
        f"carecoord service benchmarks: {', '.join(f'{s:,}' for s in sizes['patients'])} "
        f"patients, {sizes['ops']:,} ops per figure, seed {sizes['seed']}; Python "
        f"{mach['python']}, {mach['cpu_count']} CPUs, SQLite {mach['sqlite']}"
        + (f", PostgreSQL {mach['postgresql']}" if mach["postgresql"] else "")
    )
    out = [head, ""]
    rows: list[list[str]] = [["figure", "carecoord", "floor", "ratio", "target", "met"]]
    for backend in ("sqlite", "postgres"):
        part = results.get(backend)
        if not part or "stages" not in part:
            continue
        name = _NAMES[backend]
        for stage in part["stages"]:
            size = f"{stage['patients']:,}"
            for figure in FIGURES:
                entry = stage["measured"][figure]
                mine, floor = entry["carecoord"], entry["floor"]
                target = {"read": "read_ratio", "enrol": "enrol_ratio"}.get(figure)
                rows.append(
                    [
                        f"{name} {size}: {LABELS[figure]}",
                        f"{_num(mine['ops_per_s'])}/s ({_us(mine['mean_us'])})",
                        f"{_num(floor['ops_per_s'])}/s {FLOOR_LABELS[figure]}",
                        _num(entry["ratio"], 2, "x"),
                        f"<= {TARGETS[target]:g}x" if target else "",
                        ("yes" if entry["ratio"] <= TARGETS[target] else "NO") if target else "",
                    ]
                )
            read = stage["measured"]["read"]
            rows.append(
                [
                    f"{name} {size}:   read + its audit row",
                    "",
                    f"{_num(read['floor_with_audit']['ops_per_s'])}/s (get, then 1 audit write)",
                    _num(read["ratio_with_audit"], 2, "x"),
                    "",
                    "",
                ]
            )
            rows.append(
                [
                    f"{name} {size}:   same rows as the service",
                    "",
                    f"{_num(stage['measured']['enrol']['floor_all_rows']['ops_per_s'])}/s "
                    f"({stage['measured']['enrol']['rows_written']['records']} records)",
                    _num(stage["measured"]["enrol"]["ratio_all_rows"], 2, "x"),
                    "",
                    "",
                ]
            )
        for figure, scale in part["scaling"].items():
            rows.append(
                [
                    f"{name} {LABELS[figure]}: {scale['large']:,} vs {scale['small']:,}",
                    f"{_us(scale['large_us'])} vs {_us(scale['small_us'])}",
                    f"floor itself {_num(scale['floor_ratio'], 2, 'x')}",
                    _num(scale["ratio"], 2, "x"),
                    f"<= {TARGETS['scaling_ratio']:g}x",
                    "yes" if scale["ratio"] <= TARGETS["scaling_ratio"] else "NO",
                ]
            )
    out += _grid(rows)
    postgres = results.get("postgres")
    if postgres and "stages" in postgres:
        out += ["", "PostgreSQL, N processes (total ops/s; failures)", ""]
        procs = results["sizes"]["processes"]
        grid = [["figure", *(f"{p} proc" for p in procs)]]
        for stage in postgres["stages"]:
            for figure in FIGURES:
                cells = []
                for run in stage["processes"]:
                    entry = run[figure]
                    cells.append(
                        "failed"
                        if entry is None
                        else f"{_num(entry['ops_per_s'])}/s; {entry['failures']}"
                    )
                grid.append([f"{stage['patients']:,}: {LABELS[figure]}", *cells])
        out += _grid(grid)
        for stage in postgres["stages"]:
            for run in stage["processes"]:
                for error in run["errors"]:
                    out.append(f"worker error ({run['processes']} processes): {error}")
    elif postgres:
        out += ["", f"PostgreSQL skipped: {postgres['skipped']}"]
    out.append("")
    for target, text in _TARGET_TEXT.items():
        mine = [c for c in results["checks"] if c["target"] == target]
        if not mine:
            out.append(f"target {text}: not measured")
            continue
        verdict = "met" if all(c["met"] for c in mine) else "not met"
        where = "; ".join(
            f"{_NAMES[c['backend']]} {c['patients']:,} {c['figure']} {_num(c['value'], 2, 'x')}"
            for c in mine
        )
        out.append(f"target {text}: {verdict} ({where})")
    for backend in ("sqlite", "postgres"):
        part = results.get(backend)
        if not part or "stages" not in part:
            continue
        loads = [stage["load"] for stage in part["stages"]]
        detail = [load[backend] for load in loads]
        out.append(
            f"bulk load into {_NAMES[backend]}, {loads[-1]['patients']:,} patients: "
            f"{sum(d['wall_s'] for d in detail):,.1f} s wall "
            f"(store.write {sum(d['write_s'] for d in detail):,.1f} s, "
            f"encode_record {sum(d['encode_s'] for d in detail):,.1f} s"
            + (f", {detail[0]['workers']} processes" if backend == "postgres" else "")
            + ")"
        )
    return "\n".join(out)


# ------------------------------------------------------------------- main
def _ints(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("every value must be >= 1")
    return values


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--sizes", type=_ints, default=(1_000, 10_000, 100_000), help="background patients"
    )
    parser.add_argument("--ops", type=int, default=400, help="operations per figure and size")
    parser.add_argument(
        "--processes", type=_ints, default=(1, 2, 4, 8), help="PostgreSQL process counts"
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes and counts (a smoke test, not figures)"
    )
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--batch-size", type=int, default=1000, help="records per store write")
    parser.add_argument(
        "--load-workers", type=int, default=2, help="processes loading PostgreSQL (default 2)"
    )
    parser.add_argument(
        "--postgres-dsn",
        default=os.environ.get(DSN_ENV, "").strip() or None,
        help=f"PostgreSQL server (default: ${DSN_ENV}; PostgreSQL is skipped without one)",
    )
    parser.add_argument(
        "--postgres-schema",
        default=None,
        help="the throw-away schema to create, use and drop (default: a random name)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent / "service-results.json"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.ops, args.processes = QUICK_SIZES, QUICK_OPS, QUICK_PROCESSES
    if args.ops < 1 or args.batch_size < 1 or args.load_workers < 1:
        parser.error("--ops, --batch-size and --load-workers must be >= 1")
    args.sizes = tuple(sorted(set(args.sizes)))
    return args


def _open_postgres(dsn: str, schema: str) -> PostgresStore:
    from carecoord.storage.postgres import PostgresStore

    return PostgresStore(dsn, schema=schema, min_size=1, max_size=1)


def run(args: argparse.Namespace, db_dir: Path, schema: str | None) -> dict[str, Any]:
    """Load each size, measure SQLite, then PostgreSQL in one and in N processes."""
    dsn = args.postgres_dsn
    target = (dsn, schema) if dsn is not None and schema is not None else None
    if target is not None:
        store = _open_postgres(*target)
        try:
            store.migrate()
        finally:
            store.close()
    sqlite_store = SQLiteStore(db_dir / "bench.sqlite3")
    loader = Loader(
        sqlite_store,
        target,
        seed=args.seed,
        batch_size=args.batch_size,
        workers=args.load_workers,
    )
    sqlite_stages: list[dict[str, Any]] = []
    pg_stages: list[dict[str, Any]] = []
    try:
        for size in args.sizes:
            load = loader.grow(size)
            _say(f"loaded {size:,} patients ({load['added']:,} new) in {load['wall_s']:.1f} s")
            measured = measure(
                sqlite_store, patients=size, ops=args.ops, seed=args.seed, tag=f"s{size}"
            )
            measured["db_mb"] = (db_dir / "bench.sqlite3").stat().st_size / 1e6
            sqlite_stages.append({"patients": size, "load": load, "measured": measured})
            _say(f"measured SQLite at {size:,}")
            if target is None:
                continue
            # Forked workers must not inherit a live pool: each phase opens and closes its own.
            store = _open_postgres(*target)
            try:
                measured = measure(
                    store, patients=size, ops=args.ops, seed=args.seed, tag=f"p{size}"
                )
            finally:
                store.close()
            runs = [
                run_processes(
                    *target,
                    patients=size,
                    processes=count,
                    ops=args.ops,
                    seed=args.seed,
                    tag=f"m{size}n{count}",
                )
                for count in args.processes
            ]
            store = _open_postgres(*target)
            try:
                measured["sealed_after_processes"] = CareCoordinator(store).seal_audit().sealed
            finally:
                store.close()
            pg_stages.append(
                {"patients": size, "load": load, "measured": measured, "processes": runs}
            )
            _say(f"measured PostgreSQL at {size:,}")
    finally:
        sqlite_store.close()
    return {
        "sqlite": {"stages": sqlite_stages, "scaling": _scaling(sqlite_stages)},
        "postgres": (
            {"stages": pg_stages, "scaling": _scaling(pg_stages)}
            if target is not None
            else {"skipped": f"{DSN_ENV} is not set (or pass --postgres-dsn)"}
        ),
    }


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run every benchmark, print the table, write the JSON; return the results."""
    args = parse_args(argv)
    if args.postgres_dsn is None:
        print(f"PostgreSQL skipped: {DSN_ENV} is not set (or pass --postgres-dsn)")
    schema = None
    if args.postgres_dsn:
        schema = args.postgres_schema or f"carecoord_bench_{uuid.uuid4().hex[:10]}"
        if _schema_exists(args.postgres_dsn, schema):
            raise SystemExit(f"schema {schema} exists; the benchmark makes and drops its own")
    db_dir = Path(tempfile.mkdtemp(prefix="carecoord-service-bench-"))
    started = time.perf_counter()
    try:
        measured = run(args, db_dir, schema)
    finally:
        shutil.rmtree(db_dir, ignore_errors=True)
        if args.postgres_dsn and schema:
            _drop_schema(args.postgres_dsn, schema)
    results: dict[str, Any] = {
        "sizes": {
            "patients": list(args.sizes),
            "ops": args.ops,
            "processes": list(args.processes) if args.postgres_dsn else [],
            "seed": args.seed,
            "batch_size": args.batch_size,
            "staff": len(staff_members()),
            "quick": args.quick,
            "now": NOW.isoformat(),
        },
        "machine": machine(args.postgres_dsn),
        "targets": TARGETS,
        **measured,
    }
    results["checks"] = _checks(results)
    results["targets_met"] = {
        target: all(c["met"] for c in results["checks"] if c["target"] == target)
        if any(c["target"] == target for c in results["checks"])
        else None
        for target in TARGETS
    }
    results["wall_s"] = time.perf_counter() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\nfigures written to {args.out} ({results['wall_s']:.0f} s)")
    return results


if __name__ == "__main__":
    main()
