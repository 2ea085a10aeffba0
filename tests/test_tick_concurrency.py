"""Several hosts calling ``tick`` at once: each timed event is announced once, the log seals once.

``tick`` announces through marker records (a second create of the same marker
conflicts) and then seals the audit log (one sealer wins each batch). Run by
threads on one SQLite file and by processes on one PostgreSQL schema.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from carecoord import Intervention, InterventionId, InterventionKind, TaskPriority
from carecoord.model.audit import AuditEntry
from carecoord.model.outbox import Notification, TimedEventMarker
from carecoord.service import CareCoordinator
from carecoord.storage import SQLiteStore, Store, UnitOfWork
from carecoord.testing import FixedClock
from world import COORD, MA, PLAN, T0, populate

TASKS = 12
WORKERS = 4
TICKS = 3
LATER = T0 + timedelta(days=5)  # every task is overdue and escalated by then


def seed(store: Store) -> int:
    """The shared world plus ``TASKS`` interventions due soon; the audit entries so far."""
    clock = FixedClock(T0)
    service = CareCoordinator(store=store, clock=clock)
    populate(service, clock)
    for n in range(TASKS):
        service.add_intervention(
            PLAN,
            Intervention(
                id=InterventionId(f"tick-{n}"),
                kind=InterventionKind.COMMUNICATION,
                description="announce me once",
                created_at=T0,
                assignee_id=MA,
                priority=TaskPriority.URGENT,
                due=T0 + timedelta(hours=1),
            ),
            actor=COORD,
        )
    with UnitOfWork(store) as uow:
        return len(uow.all(AuditEntry))


def ticks(store: Store, now: datetime) -> dict[str, int]:
    """``TICKS`` ticks of one host; what they announced and sealed."""
    service = CareCoordinator(store=store, clock=FixedClock(now))
    totals: Counter[str] = Counter()
    for _ in range(TICKS):
        report = service.tick()
        totals.update(
            overdue=report.overdue, escalated=report.escalated, sealed=report.sealed, ticks=1
        )
    return dict(totals)


def reference_outbox() -> Counter[str]:
    """Notifications per event when one host ticks alone (what concurrent hosts must match)."""
    from carecoord.storage import MemoryStore

    alone = MemoryStore()
    seed(alone)
    ticks(alone, LATER)
    with UnitOfWork(alone) as uow:
        return Counter(n.event for n in uow.all(Notification))


def check(store: Store, before: int, totals: Counter[str]) -> None:
    assert totals["overdue"] == TASKS and totals["escalated"] == TASKS
    with UnitOfWork(store) as uow:
        markers = uow.all(TimedEventMarker)
        notes = uow.all(Notification)
        entries = uow.all(AuditEntry)
    assert len(markers) == 2 * TASKS  # overdue + escalated, each once
    assert len({m.subject_id + m.event for m in markers}) == len(markers)
    assert Counter(n.event for n in notes) == reference_outbox(), "an event announced twice"
    assert len(entries) == before + totals["ticks"]  # one audit entry per tick, no more
    service = CareCoordinator(store=store, clock=FixedClock(LATER))
    service.seal_audit()
    verification = service.verify_audit(actor=COORD)
    assert verification.intact, verification.breaks
    assert verification.sealed == len(entries)


def test_ticks_from_threads_on_one_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "tick.db"
    store = SQLiteStore(path)
    try:
        before = seed(store)
        totals: Counter[str] = Counter()
        errors: list[BaseException] = []
        lock = threading.Lock()

        def host() -> None:
            own = SQLiteStore(path)
            try:
                found = ticks(own, LATER)
                with lock:
                    totals.update(found)
            except BaseException as exc:
                errors.append(exc)
            finally:
                own.close()

        threads = [threading.Thread(target=host) for _ in range(WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        check(store, before, totals)
    finally:
        store.close()


def process_host(dsn: str, schema: str, start: Any, results: Any) -> None:
    """One OS process calling ``tick``; its totals (or its error) go on ``results``."""
    from carecoord.storage import PostgresStore

    report: dict[str, Any] = {"error": None, "totals": {}}
    store = PostgresStore(dsn, schema=schema, min_size=1, max_size=1)
    try:
        start.wait(timeout=60)
        report["totals"] = ticks(store, LATER)
    except BaseException as exc:  # reported to the test, in the parent process
        report["error"] = f"{type(exc).__name__}: {exc}"
        start.abort()
    finally:
        store.close()
        results.put(report)


def test_ticks_from_processes_on_postgres() -> None:
    from _pg import ThrowawayStore, postgres_dsn

    dsn = postgres_dsn()
    store = ThrowawayStore(dsn)
    try:
        before = seed(store)
        context = multiprocessing.get_context("spawn")
        start = context.Barrier(WORKERS)
        results = context.Queue()
        processes = [
            context.Process(target=process_host, args=(dsn, store.schema, start, results))
            for _ in range(WORKERS)
        ]
        for process in processes:
            process.start()
        try:
            reports = [results.get(timeout=120) for _ in processes]
        finally:
            for process in processes:
                process.join(timeout=30)
                if process.is_alive():
                    process.kill()
        assert [r["error"] for r in reports] == [None] * WORKERS
        totals: Counter[str] = Counter()
        for report in reports:
            totals.update(report["totals"])
        check(store, before, totals)
    finally:
        store.close()


@pytest.mark.parametrize("hosts", [1, 2])
def test_sealing_counts_add_up(tmp_path: Path, hosts: int) -> None:
    store = SQLiteStore(tmp_path / "seal.db")
    try:
        before = seed(store)
        sealed = sum(ticks(store, LATER)["sealed"] for _ in range(hosts))
        assert sealed == before + hosts * TICKS  # every entry sealed once, by some tick
    finally:
        store.close()
