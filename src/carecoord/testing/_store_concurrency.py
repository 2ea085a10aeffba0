"""Storage conformance tests: concurrent writers on several threads.

Part of :class:`carecoord.testing.store.StoreContract` (subclass that): one of
two writers of a version wins, read-modify-write with retries loses no update,
and units of work on different plans run side by side. The thread and round
counts are :attr:`~carecoord.testing.store.StoreContract.threads` and
:attr:`~carecoord.testing.store.StoreContract.updates_per_thread`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

from ..model import CarePlan, ConflictError
from ..storage.port import Store, WorkQuery
from ..storage.uow import UnitOfWork
from ._store_data import _T0, ContractHarness, _plan, _task, _write


class ConcurrencyContract(ContractHarness):
    """Concurrent writers (``threads`` threads, ``updates_per_thread`` rounds each)."""

    def _run_threads(self, target: Callable[[int], None], count: int) -> None:
        errors: list[BaseException] = []
        barrier = threading.Barrier(count)

        def run(number: int) -> None:
            try:
                barrier.wait()
                target(number)
            except BaseException as exc:  # reported below, in the test's thread
                errors.append(exc)

        workers = [threading.Thread(target=run, args=(n,)) for n in range(count)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
        assert not any(w.is_alive() for w in workers), "a writer thread hung"
        if errors:
            raise errors[0]

    def test_two_writers_of_one_version_one_wins(self, store: Store) -> None:
        store.write([_write("CarePlan", "plan", 0)])
        outcomes: list[str] = []
        lock = threading.Lock()

        def writer(number: int) -> None:
            try:
                store.write([_write("CarePlan", "plan", 1, {"by": number})])
                result = "won"
            except ConflictError:
                result = "conflict"
            with lock:
                outcomes.append(result)

        self._run_threads(writer, 2)
        assert sorted(outcomes) == ["conflict", "won"]
        got = store.read("CarePlan", "plan")
        assert got is not None and got.version == 2

    def test_concurrent_updates_lose_nothing(self, store: Store) -> None:
        store.write([_write("Counter", "shared", 0, {"count": 0})])
        conflicts: list[ConflictError] = []
        lock = threading.Lock()

        def worker(number: int) -> None:
            own = f"own-{number}"
            store.write([_write("Counter", own, 0, {"count": 0})])
            for _ in range(self.updates_per_thread):
                while True:  # read-modify-write with retry on conflict
                    current = store.read("Counter", "shared")
                    assert current is not None
                    count = json.loads(current.payload)["count"]
                    try:
                        store.write(
                            [_write("Counter", "shared", current.version, {"count": count + 1})]
                        )
                        break
                    except ConflictError as exc:
                        with lock:
                            conflicts.append(exc)
                mine = store.read("Counter", own)
                assert mine is not None
                value = json.loads(mine.payload)["count"] + 1
                store.write([_write("Counter", own, mine.version, {"count": value})])

        self._run_threads(worker, self.threads)
        total = self.threads * self.updates_per_thread
        shared = store.read("Counter", "shared")
        assert shared is not None
        assert json.loads(shared.payload)["count"] == total
        assert shared.version == total + 1
        for number in range(self.threads):
            own = store.read("Counter", f"own-{number}")
            assert own is not None
            assert json.loads(own.payload)["count"] == self.updates_per_thread
        assert all(c.kind == "Counter" and c.record_id == "shared" for c in conflicts)

    def test_concurrent_units_of_work_on_different_plans(self, store: Store) -> None:
        with UnitOfWork(store) as uow:
            for number in range(self.threads):
                uow.add(_plan(f"plan-{number}", f"p-{number}"))

        def worker(number: int) -> None:
            for step in range(self.updates_per_thread):
                with UnitOfWork(store) as uow:
                    plan = uow.get(CarePlan, f"plan-{number}")
                    task = _task(f"t-{number}-{step}", f"ma-{number}", _T0)
                    uow.save(plan.with_intervention(task))

        self._run_threads(worker, self.threads)
        for number in range(self.threads):
            hits = store.query(WorkQuery(category="intervention", owner_ids=(f"ma-{number}",)))
            assert len(hits) == self.updates_per_thread
            assert {h.version for h in hits} == {self.updates_per_thread + 1}
