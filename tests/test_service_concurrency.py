"""The service under concurrency: stale copies, racing writers, many threads and processes.

* A stale copy of a patient or staff member never overwrites a newer edit, on
  every store.
* Two writers changing different interventions of one plan at the same moment
  both succeed (the runner retries the commit that lost the race).
* The soak: ``WORKERS`` workers run ``OPS`` mixed operations each — reads,
  interventions, status changes, notes, patient edits — on their own patient
  and on one patient they all share, from threads on one SQLite file, from
  processes on one SQLite file and from processes on one PostgreSQL schema.
  Nothing untyped escapes, no read fails, no write on a worker's own patient
  surfaces a conflict, no accepted change is lost, and the audit log holds
  exactly one entry per call and verifies after sealing. A write on the shared
  patient may surface a ConflictError (a stale patient copy, or a plan write
  whose retries were all lost to other workers): the worker repeats it, as a
  host would, and every such call is counted and audited as a failure.

``CARECOORD_SOAK=1`` runs ten times as many operations.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import random
import threading
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import attrs
import pytest

from _pg import ThrowawayStore, postgres_dsn
from carecoord import (
    AuditEntry,
    CareCoordError,
    CareCoordinator,
    CarePlan,
    CarePlanId,
    CareTeam,
    CareTeamId,
    CareTeamRole,
    ConflictError,
    ContactChannel,
    HumanName,
    Identifier,
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
    TaskStatus,
)
from carecoord.model import AuditOutcome, Direction, InteractionParty
from carecoord.storage import (
    IndexHit,
    MemoryStore,
    PostgresStore,
    RecordWrite,
    SQLiteStore,
    Store,
    StoredRecord,
    UnitOfWork,
    WorkQuery,
)
from carecoord.testing import FixedClock, ForwardingStore
from world import BOSS, COORD, NURSE, PATIENT, PLAN, T0, populate, staff_member

T = TypeVar("T")

SOAK = os.environ.get("CARECOORD_SOAK") == "1"
WORKERS = 10
OPS = 1000 if SOAK else 100
EDIT_SYSTEM = "urn:carecoord-test:edit"


# ================================================================ stale copies


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def each_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A MemoryStore, a SQLite file and (when a server is configured) a PostgreSQL schema."""
    made: Store
    if request.param == "memory":
        made = MemoryStore()
    elif request.param == "sqlite":
        made = SQLiteStore(tmp_path / "stale.db")
    else:
        made = ThrowawayStore(postgres_dsn())
    try:
        yield made
    finally:
        made.close()


def populated(store: Store) -> CareCoordinator:
    clock = FixedClock(T0)
    service = CareCoordinator(store=store, clock=clock)
    populate(service, clock)
    return service


def test_a_stale_patient_copy_never_overwrites_a_newer_edit(each_store: Store) -> None:
    service = populated(each_store)
    first = service.patient(PATIENT, actor=COORD)
    second = service.patient(PATIENT, actor=COORD)
    assert first.revision == second.revision >= 1

    updated = service.update_patient(
        attrs.evolve(first, name=HumanName(family="First")), actor=COORD
    )
    assert updated.revision == first.revision + 1
    assert updated.name.family == "First"

    with pytest.raises(ConflictError) as info:
        service.update_patient(attrs.evolve(second, name=HumanName(family="Second")), actor=COORD)
    assert (info.value.kind, info.value.record_id) == ("Patient", str(PATIENT))
    assert info.value.expected == second.revision

    stored = service.patient(PATIENT, actor=COORD)
    assert stored.name.family == "First"
    assert stored.revision == updated.revision
    # the copy update_patient returned is current: it can be edited again
    again = service.update_patient(attrs.evolve(updated, language="es"), actor=COORD)
    assert again.revision == updated.revision + 1
    final = service.patient(PATIENT, actor=COORD)
    assert (final.name.family, final.language) == ("First", "es")
    record = each_store.read("Patient", str(PATIENT))
    assert record is not None and record.version == again.revision


def test_a_stale_staff_copy_never_overwrites_a_newer_edit(each_store: Store) -> None:
    service = populated(each_store)
    first = service.staff_member(NURSE, actor=BOSS)
    second = service.staff_member(NURSE, actor=BOSS)
    assert first.revision == second.revision >= 1

    updated = service.register_staff(attrs.evolve(first, time_zone="Europe/Paris"), actor=BOSS)
    assert updated.revision == first.revision + 1

    with pytest.raises(ConflictError) as info:
        service.register_staff(attrs.evolve(second, time_zone="Asia/Tokyo"), actor=BOSS)
    assert (info.value.kind, info.value.record_id) == ("StaffMember", str(NURSE))
    assert info.value.expected == second.revision

    # a brand-new copy (revision 0) of a registered id is a conflict too
    fresh = staff_member(NURSE, CareTeamRole.NURSE, supervisor=COORD, zone="America/Denver")
    assert fresh.revision == 0
    with pytest.raises(ConflictError) as info:
        service.register_staff(fresh, actor=BOSS)
    assert info.value.expected == 0

    stored = service.staff_member(NURSE, actor=BOSS)
    assert stored.time_zone == "Europe/Paris"
    assert stored.revision == updated.revision
    again = service.register_staff(attrs.evolve(updated, active=False), actor=BOSS)
    assert again.revision == updated.revision + 1
    record = each_store.read("StaffMember", str(NURSE))
    assert record is not None and record.version == again.revision


# ============================================== two writers, one plan, one moment


class RendezvousStore(ForwardingStore):
    """A Store delegating to ``inner``; each thread's first care-plan write waits for all.

    So every party has read the plan before any of them commits: all but one
    commit lose the race. Conflicts the inner store raised are kept.
    """

    def __init__(self, inner: Store, parties: int) -> None:
        super().__init__(inner)
        self.barrier = threading.Barrier(parties)
        self.conflicts: list[ConflictError] = []
        self._waited: set[int] = set()
        self._lock = threading.Lock()

    def write(self, batch: Sequence[RecordWrite]) -> None:
        me = threading.get_ident()
        if any(w.kind == "CarePlan" for w in batch):
            with self._lock:
                first = me not in self._waited
                self._waited.add(me)
            if first:
                self.barrier.wait(timeout=30)
        try:
            self.inner.write(batch)
        except ConflictError as exc:
            with self._lock:
                self.conflicts.append(exc)
            raise


class CountingStore:
    """A Store delegating to ``inner`` that counts the conflicts its writes raised."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.conflicts = 0
        self._lock = threading.Lock()

    def read(self, kind: str, record_id: str) -> StoredRecord | None:
        return self.inner.read(kind, record_id)

    def read_all(self, kind: str, *, patient_id: str | None = None) -> Sequence[StoredRecord]:
        return self.inner.read_all(kind, patient_id=patient_id)

    def query(self, query: WorkQuery) -> Sequence[IndexHit]:
        return self.inner.query(query)

    def close(self) -> None:
        self.inner.close()

    def write(self, batch: Sequence[RecordWrite]) -> None:
        try:
            self.inner.write(batch)
        except ConflictError:
            with self._lock:
                self.conflicts += 1
            raise


def simple_task(task_id: str, assignee: StaffId | None) -> Intervention:
    return Intervention(
        id=InterventionId(task_id),
        kind=InterventionKind.COMMUNICATION,
        description=f"task {task_id}",
        created_at=T0,
        assignee_id=assignee,
        due=T0 + timedelta(days=2),
    )


def test_two_workers_change_different_interventions_of_one_plan_at_once(tmp_path: Path) -> None:
    sqlite = SQLiteStore(tmp_path / "two.db")
    store = RendezvousStore(sqlite, parties=2)
    try:
        clock = FixedClock(T0)
        setup = CareCoordinator(store=sqlite, clock=clock)
        populate(setup, clock)
        for task_id in ("i-a", "i-b"):
            setup.add_intervention(PLAN, simple_task(task_id, NURSE), actor=COORD)
        before = sqlite.read("CarePlan", str(PLAN))
        assert before is not None
        service = CareCoordinator(store=store, clock=clock)
        entries_before = len(sqlite.read_all("AuditEntry"))

        rounds = 20
        errors: list[str] = []

        def worker(task_id: str) -> None:
            try:
                service.set_intervention_status(
                    PLAN, InterventionId(task_id), "in-progress", actor=COORD
                )
                for step in range(rounds):
                    status = "on-hold" if step % 2 == 0 else "in-progress"
                    service.set_intervention_status(
                        PLAN, InterventionId(task_id), status, actor=COORD
                    )
            except BaseException:
                errors.append(traceback.format_exc())
                store.barrier.abort()

        threads = [threading.Thread(target=worker, args=(t,)) for t in ("i-a", "i-b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        # both read the plan at one version, so the first commit made the other lose
        assert store.conflicts, "the two first writes did not race"
        assert store.conflicts[0].kind == "CarePlan"
        assert store.conflicts[0].expected == before.version

        after = sqlite.read("CarePlan", str(PLAN))
        assert after is not None
        assert after.version == before.version + 2 * (rounds + 1)
        with UnitOfWork(sqlite) as uow:
            plan = uow.get(CarePlan, PLAN)
        for task_id in ("i-a", "i-b"):
            item = plan.intervention(InterventionId(task_id))
            assert item.status is TaskStatus.IN_PROGRESS
            assert len(item.history) == rounds + 1
        entries = sqlite.read_all("AuditEntry")
        assert len(entries) == entries_before + 2 * (rounds + 1)
    finally:
        store.close()


# ====================================================================== the soak


def worker_id(number: int) -> StaffId:
    return StaffId(f"w{number}")


def own_patient(number: int) -> PatientId:
    return PatientId(f"p-{number}")


def own_plan(number: int) -> CarePlanId:
    return CarePlanId(f"plan-{number}")


SHARED_PATIENT = PatientId("p-shared")
SHARED_PLAN = CarePlanId("plan-shared")


def soak_patient(patient_id: PatientId) -> Patient:
    return Patient(
        id=patient_id,
        name=HumanName(family=f"Patient {patient_id}"),
        birth_date=date(1950, 1, 1),
        time_zone="America/Chicago",
    )


def soak_team(team_id: str, patient_id: PatientId, staff: Sequence[StaffId]) -> CareTeam:
    start = T0 - timedelta(days=30)
    return CareTeam(
        id=CareTeamId(team_id),
        patient_id=patient_id,
        lead_id=staff[0],
        members=tuple(
            Membership(staff_id=s, role=CareTeamRole.CARE_COORDINATOR, period=Period(start=start))
            for s in staff
        ),
    )


def build_soak_world(service: CareCoordinator, workers: int) -> None:
    """A case manager, ``workers`` coordinators, a patient and plan each, and a shared one."""
    service.register_staff(staff_member(BOSS, CareTeamRole.CASE_MANAGER), actor=BOSS)
    for number in range(workers):
        service.register_staff(
            staff_member(worker_id(number), CareTeamRole.CARE_COORDINATOR, supervisor=BOSS),
            actor=BOSS,
        )
    everyone = [worker_id(n) for n in range(workers)]
    setups: list[tuple[PatientId, CarePlanId, str, list[StaffId]]] = [
        (SHARED_PATIENT, SHARED_PLAN, "team-shared", everyone)
    ]
    setups += [(own_patient(n), own_plan(n), f"team-{n}", [worker_id(n)]) for n in range(workers)]
    for patient_id, plan_id, team_id, staff in setups:
        service.enrol_patient(soak_patient(patient_id), actor=BOSS)
        service.form_care_team(soak_team(team_id, patient_id, staff), actor=staff[0])
        service.set_team_status(CareTeamId(team_id), "active", actor=staff[0])
        service.create_care_plan(
            CarePlan(id=plan_id, patient_id=patient_id, author_id=staff[0], created_at=T0),
            actor=staff[0],
        )
        service.set_plan_status(plan_id, "active", actor=staff[0])


HOST_RETRIES = 100
"""How often a worker repeats a write on the shared patient that surfaced a ConflictError."""


@attrs.define
class Worker:
    """One worker's run: what it did and what it saw, as plain data for the parent.

    ``calls`` counts every service call (each leaves one audit entry),
    ``failed_calls`` those that raised. A write on the shared patient or plan
    that surfaces a :class:`ConflictError` (the runner's retries were used up,
    or a stale patient copy) is repeated, as a host would, and counted; on the
    worker's own patient a ConflictError is a failure (nobody else writes there).
    """

    service: CareCoordinator
    number: int
    calls: int = 0
    failed_calls: int = 0
    untyped: list[str] = attrs.field(factory=list)
    read_failures: list[str] = attrs.field(factory=list)
    unexpected: list[str] = attrs.field(factory=list)
    own_conflicts: list[str] = attrs.field(factory=list)
    shared_write_conflicts: int = 0
    shared_update_conflicts: int = 0
    plan_writes: dict[str, int] = attrs.field(factory=dict)
    interventions: dict[str, dict[str, str]] = attrs.field(factory=dict)
    notes: dict[str, list[str]] = attrs.field(factory=dict)
    edits: dict[str, list[str]] = attrs.field(factory=dict)

    @property
    def me(self) -> StaffId:
        return worker_id(self.number)

    def report(self) -> dict[str, Any]:
        fields = attrs.asdict(self, filter=lambda a, _: a.name != "service")
        return {"error": None, **fields}

    def call(
        self, what: str, work: Callable[[], T], *, read: bool = False
    ) -> T | ConflictError | None:
        """One service call: its result, the ConflictError it raised, or None (recorded)."""
        self.calls += 1
        try:
            return work()
        except ConflictError as exc:
            self.failed_calls += 1
            if read:
                self.read_failures.append(f"{what}: {exc!r}")
                return None
            return exc
        except CareCoordError as exc:
            self.failed_calls += 1
            problem = f"{what}: {type(exc).__name__}: {exc}"
            (self.read_failures if read else self.unexpected).append(problem)
            return None
        except Exception:
            self.failed_calls += 1
            self.untyped.append(f"{what}: {traceback.format_exc()}")
            return None

    def write(self, what: str, target: str, work: Callable[[], T]) -> T | None:
        """A write call; on the shared patient a surfaced ConflictError is retried."""
        shared = target in (str(SHARED_PATIENT), str(SHARED_PLAN))
        for _ in range(HOST_RETRIES):
            result = self.call(f"{what} on {target}", work)
            if not isinstance(result, ConflictError):
                return result
            if not shared:
                self.own_conflicts.append(f"{what} on {target}: {result}")
                return None
            self.shared_write_conflicts += 1
        self.unexpected.append(f"{what} on {target}: still conflicting after {HOST_RETRIES}")
        return None

    def wrote(self, plan_id: CarePlanId) -> None:
        self.plan_writes[str(plan_id)] = self.plan_writes.get(str(plan_id), 0) + 1

    # ------------------------------------------------------------ operations
    def read_patient(self, patient_id: PatientId) -> None:
        self.call(
            f"patient {patient_id}",
            lambda: self.service.patient(patient_id, actor=self.me),
            read=True,
        )

    def read_plan(self, plan_id: CarePlanId) -> None:
        self.call(
            f"care_plan {plan_id}",
            lambda: self.service.care_plan(plan_id, actor=self.me),
            read=True,
        )

    def add_intervention(self, plan_id: CarePlanId, step: int) -> None:
        task_id = f"i-{self.number}-{step}"
        task = simple_task(task_id, self.me)
        result = self.write(
            f"add_intervention {task_id}",
            str(plan_id),
            lambda: self.service.add_intervention(plan_id, task, actor=self.me),
        )
        if result is not None:
            self.interventions.setdefault(str(plan_id), {})[task_id] = TaskStatus.READY.value
            self.wrote(plan_id)

    def move_intervention(self, plan_id: CarePlanId, rng: random.Random) -> bool:
        mine = self.interventions.get(str(plan_id), {})
        movable = sorted(t for t, s in mine.items() if s in ("ready", "in-progress"))
        if not movable:
            return False
        task_id = rng.choice(movable)
        status = "in-progress" if mine[task_id] == "ready" else "completed"
        result = self.write(
            f"set_intervention_status {task_id}",
            str(plan_id),
            lambda: self.service.set_intervention_status(
                plan_id, InterventionId(task_id), status, actor=self.me
            ),
        )
        if result is not None:
            mine[task_id] = status
            self.wrote(plan_id)
        return True

    def record_note(self, patient_id: PatientId, step: int) -> None:
        note_id = f"n-{self.number}-{step}"
        note = Note(
            id=NoteId(note_id),
            patient_id=patient_id,
            at=T0,
            author_id=self.me,
            channel=ContactChannel.PHONE,
            direction=Direction.OUTBOUND,
            party=InteractionParty.PATIENT,
            summary=f"call {note_id}",
        )
        result = self.write(
            f"record_note {note_id}",
            str(patient_id),
            lambda: self.service.record_note(note, actor=self.me),
        )
        if result is not None:
            self.notes.setdefault(str(patient_id), []).append(note_id)

    def update_patient(self, patient_id: PatientId, step: int) -> None:
        """Read a fresh copy, add an identifier, update; on a conflict read again (as a host)."""
        value = f"{self.number}-{step}"
        for _ in range(HOST_RETRIES):
            fresh = self.call(
                f"patient {patient_id}",
                lambda: self.service.patient(patient_id, actor=self.me),
                read=True,
            )
            if not isinstance(fresh, Patient):
                return
            edited = attrs.evolve(
                fresh, identifiers=(*fresh.identifiers, Identifier(EDIT_SYSTEM, value))
            )
            result = self.call(
                f"update_patient {patient_id}",
                functools.partial(self.service.update_patient, edited, actor=self.me),
            )
            if isinstance(result, ConflictError):
                if patient_id != SHARED_PATIENT:
                    self.own_conflicts.append(f"update_patient on {patient_id}: {result}")
                    return
                self.shared_update_conflicts += 1
                continue
            if isinstance(result, Patient):
                if result.revision != fresh.revision + 1:
                    self.unexpected.append(
                        f"update_patient returned revision {result.revision}, "
                        f"read at {fresh.revision}"
                    )
                self.edits.setdefault(str(patient_id), []).append(value)
            return
        self.unexpected.append(f"update_patient {patient_id}: still conflicting")

    def run(self, ops: int, seed: int) -> None:
        """``ops`` operations, mostly on the worker's own patient, some on the shared one."""
        rng = random.Random(seed)
        patient, plan = own_patient(self.number), own_plan(self.number)
        for step in range(ops):
            shared = rng.random() < 0.2
            target_patient = SHARED_PATIENT if shared else patient
            target_plan = SHARED_PLAN if shared else plan
            roll = rng.random()
            if roll < 0.2:
                self.read_patient(target_patient)
            elif roll < 0.4:
                self.read_plan(target_plan)
            elif roll < 0.6:
                self.add_intervention(target_plan, step)
            elif roll < 0.75:
                if not self.move_intervention(target_plan, rng):
                    self.add_intervention(target_plan, step)
            elif roll < 0.9:
                self.record_note(target_patient, step)
            else:
                self.update_patient(target_patient, step)


def run_worker(service: CareCoordinator, number: int, ops: int) -> dict[str, Any]:
    worker = Worker(service, number)
    worker.run(ops, seed=1000 + number)
    return worker.report()


def process_worker(
    backend: str, target: str, schema: str | None, number: int, ops: int, start: Any, results: Any
) -> None:
    """One OS process of the soak: its own store and coordinator; puts its report on results."""
    report: dict[str, Any] = {"number": number}
    store: CountingStore | None = None
    try:
        store = CountingStore(
            SQLiteStore(target)
            if backend == "sqlite"
            else PostgresStore(target, schema=schema or "", min_size=1, max_size=1)
        )
        service = CareCoordinator(store=store, clock=FixedClock(T0))
        start.wait(timeout=120)
        report = run_worker(service, number, ops)
        report["commit_conflicts"] = store.conflicts
    except BaseException:
        report["error"] = traceback.format_exc()
        start.abort()
    finally:
        if store is not None:
            store.close()
        results.put(report)


def run_threads(service: CareCoordinator, workers: int, ops: int) -> list[dict[str, Any]]:
    start = threading.Barrier(workers)
    reports: list[dict[str, Any]] = []
    lock = threading.Lock()

    def body(number: int) -> None:
        report: dict[str, Any] = {"number": number}
        try:
            start.wait(timeout=60)
            report = run_worker(service, number, ops)
        except BaseException:
            report["error"] = traceback.format_exc()
            start.abort()
        with lock:
            reports.append(report)

    threads = [threading.Thread(target=body, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    return reports


def run_processes(
    backend: str, target: str, schema: str | None, workers: int, ops: int
) -> list[dict[str, Any]]:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(workers)
    results = context.Queue()
    processes = [
        context.Process(
            target=process_worker, args=(backend, target, schema, n, ops, start, results)
        )
        for n in range(workers)
    ]
    for process in processes:
        process.start()
    try:
        reports = [results.get(timeout=600) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=60)
            if process.is_alive():
                process.kill()
                process.join()
    assert all(p.exitcode == 0 for p in processes), [p.exitcode for p in processes]
    return reports


def check_soak(
    service: CareCoordinator, store: Store, setup: Counter[str], reports: list[dict[str, Any]]
) -> None:
    """Every claim of the soak, against what the workers report and the store holds."""
    baseline = setup.total()
    reports = sorted(reports, key=lambda r: r["number"])
    assert [r.get("error") for r in reports] == [None] * WORKERS
    stats = {
        key: sum(r[key] for r in reports)
        for key in (
            "calls",
            "failed_calls",
            "commit_conflicts",
            "shared_write_conflicts",
            "shared_update_conflicts",
        )
    }
    print(f"soak: {stats}")  # shown with pytest -s
    untyped = [u for r in reports for u in r["untyped"]]
    assert untyped == [], "untyped errors escaped:\n" + "\n".join(untyped[:5])
    read_failures = [f for r in reports for f in r["read_failures"]]
    assert read_failures == [], read_failures[:10]
    unexpected = [f for r in reports for f in r["unexpected"]]
    assert unexpected == [], unexpected[:10]
    own_conflicts = [f for r in reports for f in r["own_conflicts"]]
    assert own_conflicts == [], own_conflicts[:10]

    calls = sum(r["calls"] for r in reports)
    failed = sum(r["failed_calls"] for r in reports)
    # the only failed calls are conflicts on the shared patient, repeated by the worker
    assert failed == sum(
        r["shared_update_conflicts"] + r["shared_write_conflicts"] for r in reports
    )

    with UnitOfWork(store) as uow:
        patient_ids = [SHARED_PATIENT, *(own_patient(n) for n in range(WORKERS))]
        plan_ids = [SHARED_PLAN, *(own_plan(n) for n in range(WORKERS))]
        patients = {str(p): uow.get(Patient, p) for p in patient_ids}
        plans = {str(p): uow.get(CarePlan, p) for p in plan_ids}
        notes = {
            str(p): sorted(str(n.id) for n in uow.all(Note, patient_id=str(p))) for p in patient_ids
        }
        entries = uow.all(AuditEntry)

    # no lost update: every accepted intervention, status change, note and edit is there
    for plan_id, plan in plans.items():
        expected = {
            task: status
            for r in reports
            for task, status in r["interventions"].get(plan_id, {}).items()
        }
        stored_plan = {str(i.id): i.status.value for i in plan.interventions}
        assert stored_plan == expected, plan_id
        writes = sum(r["plan_writes"].get(plan_id, 0) for r in reports)
        record = store.read("CarePlan", plan_id)
        assert record is not None and record.version == 2 + writes, plan_id  # create, activate
    for patient_id, patient in patients.items():
        expected_notes = sorted(n for r in reports for n in r["notes"].get(patient_id, []))
        assert notes[patient_id] == expected_notes, patient_id
        edits = sorted(e for r in reports for e in r["edits"].get(patient_id, []))
        stored_edits = sorted(i.value for i in patient.identifiers if i.system == EDIT_SYSTEM)
        assert stored_edits == edits, patient_id
        assert patient.revision == 1 + len(edits), patient_id

    # one audit entry per call, successful or not; the failures are the conflicts
    assert len(entries) == baseline + calls
    by_actor = Counter(e.actor for e in entries)
    by_actor.subtract(setup)
    assert +by_actor == Counter({str(worker_id(r["number"])): r["calls"] for r in reports})
    failures = [e for e in entries if e.outcome is not AuditOutcome.SUCCESS]
    assert len(failures) == failed
    assert {e.detail for e in failures} <= {"ConflictError"}
    # the runner's retry path was taken (commits lost races) without extra entries
    assert stats["commit_conflicts"] > 0, stats
    sealed = service.seal_audit()
    assert sealed.head_sequence == baseline + calls
    verification = service.verify_audit(actor=BOSS)
    assert verification.intact, verification.breaks[:5]
    assert verification.unsealed == 0
    assert verification.sealed == baseline + calls
    # verifying is an operation too: it appended its own entry
    assert len(store.read_all("AuditEntry")) == baseline + calls + 1


def soak_service(store: Store) -> tuple[CareCoordinator, Counter[str]]:
    """The soak world in ``store``, and its setup's audit entries per actor."""
    service = CareCoordinator(store=store, clock=FixedClock(T0))
    build_soak_world(service, WORKERS)
    with UnitOfWork(store) as uow:
        setup = Counter(e.actor for e in uow.all(AuditEntry))
    return service, setup


def test_soak_threads_on_one_sqlite_file(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "soak.db")
    try:
        service, setup = soak_service(store)
        counting = CountingStore(store)
        shared = CareCoordinator(store=counting, clock=FixedClock(T0))
        reports = run_threads(shared, WORKERS, OPS)
        for report in reports:
            report["commit_conflicts"] = counting.conflicts if report["number"] == 0 else 0
        check_soak(service, store, setup, reports)
    finally:
        store.close()


def test_soak_processes_on_one_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "soak.db"
    store = SQLiteStore(path)
    try:
        service, setup = soak_service(store)
        reports = run_processes("sqlite", str(path), None, WORKERS, OPS)
        check_soak(service, store, setup, reports)
    finally:
        store.close()


def test_soak_processes_on_postgres() -> None:
    dsn = postgres_dsn()
    store = ThrowawayStore(dsn)
    try:
        service, setup = soak_service(store)
        reports = run_processes("postgres", dsn, store.schema, WORKERS, OPS)
        check_soak(service, store, setup, reports)
    finally:
        store.close()


def test_soak_world_gives_each_worker_only_its_own_patient() -> None:
    """The soak's premise: a worker is on its own team and the shared one, nobody else's."""
    service = CareCoordinator(store=MemoryStore(), clock=FixedClock(T0))
    build_soak_world(service, 3)
    assert service.patient(own_patient(0), actor=worker_id(0)).id == own_patient(0)
    assert service.patient(SHARED_PATIENT, actor=worker_id(2)).id == SHARED_PATIENT
    with pytest.raises(CareCoordError):
        service.patient(own_patient(1), actor=worker_id(0))
    member = service.staff_member(worker_id(1), actor=BOSS)
    assert isinstance(member, StaffMember) and member.supervisor_id == BOSS
