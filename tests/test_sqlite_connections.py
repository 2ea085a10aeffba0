"""SQLiteStore's connections are bounded: threads come and go, connections do not pile up.

The store once kept one connection per thread until ``close()``: after 1,500
short-lived threads 3,009 file descriptors were open, and under
``ulimit -n 1024`` every call failed from the 509th thread on. Now a call
checks a connection out of a pool of at most ``max_connections`` and hands it
back when it ends.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from carecoord import ConflictError, StorageError, ValidationError
from carecoord.storage import RecordWrite, SQLiteStore

FD_DIR = Path("/proc/self/fd")


def write(record_id: str, expected: int = 0, payload: str = "{}") -> list[RecordWrite]:
    return [RecordWrite(kind="Thing", id=record_id, expected_version=expected, payload=payload)]


def open_fds() -> int:
    return len(os.listdir(FD_DIR))


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every sqlite3.connect call, as the calling thread's id."""
    calls: list[int] = []
    real = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        calls.append(threading.get_ident())
        conn: sqlite3.Connection = real(*args, **kwargs)
        return conn

    monkeypatch.setattr(sqlite3, "connect", connect)
    return calls


def run_short_lived_threads(store: SQLiteStore, count: int, wave: int) -> tuple[int, list[str]]:
    """``count`` threads, ``wave`` at a time, each reading and writing once.

    Returns the most connections seen open from inside a thread, and errors.
    """
    peak = 0
    errors: list[str] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        nonlocal peak
        try:
            store.read("Thing", f"t-{n - 1}")
            store.write(write(f"t-{n}"))
            seen = store.open_connections
            with lock:
                peak = max(peak, seen)
        except BaseException as exc:  # reported by the test
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")

    for start in range(0, count, wave):
        threads = [threading.Thread(target=work, args=(n,)) for n in range(start, start + wave)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    return peak, errors


# ------------------------------------------------------------ the reported bug
@pytest.mark.skipif(not FD_DIR.is_dir(), reason="counts file descriptors in /proc")
@pytest.mark.parametrize("max_connections", [8, 3])
def test_1500_short_lived_threads_leave_at_most_the_bound_open(
    tmp_path: Path, connects: list[int], max_connections: int
) -> None:
    store = SQLiteStore(tmp_path / "t.db", max_connections=max_connections)
    try:
        before = open_fds()
        peak, errors = run_short_lived_threads(store, 1500, wave=50)
        after = open_fds()
        assert errors == []
        assert len(store.read_all("Thing")) == 1500
        assert 1 <= peak <= max_connections
        assert store.open_connections <= max_connections
        # connections are reused, never made per thread (the opening one included)
        assert len(connects) <= max_connections
        # a file connection holds the database, its WAL and the shared memory:
        # the bug left two descriptors per thread, 3,000 here
        assert after - before <= 3 * max_connections + 4
    finally:
        store.close()
    assert store.open_connections == 0


@pytest.mark.skipif(sys.platform != "linux", reason="lowers RLIMIT_NOFILE, Linux only")
def test_many_threads_work_under_a_low_file_descriptor_limit(tmp_path: Path) -> None:
    script = """
import resource, sys, threading
from carecoord.storage import RecordWrite, SQLiteStore

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (128, hard))
store = SQLiteStore(sys.argv[1])
errors = []

def work(n):
    try:
        store.read("Thing", f"t-{n}")
        store.write([RecordWrite(kind="Thing", id=f"t-{n}", expected_version=0, payload="{}")])
    except BaseException as exc:
        errors.append(type(exc).__name__)

for start in range(0, 600, 20):
    threads = [threading.Thread(target=work, args=(n,)) for n in range(start, start + 20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
print(len(errors), len(store.read_all("Thing")), store.open_connections)
store.close()
"""
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "limited.db")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    errors, rows, open_now = (int(x) for x in done.stdout.split())
    # one connection per thread would need 1,200 descriptors here
    assert (errors, rows) == (0, 600)
    assert open_now <= 8


# ----------------------------------------------------------------- the bound
def test_a_call_waits_for_a_free_connection_up_to_the_timeout(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "t.db", max_connections=1, timeout=0.2)
    try:
        store.write(write("a"))
        outcome: list[object] = []
        with store._guard("hold the only connection"):
            reader = threading.Thread(target=lambda: outcome.append(_read(store, "a")))
            started = time.monotonic()
            reader.start()
            reader.join(timeout=10)
            waited = time.monotonic() - started
        (error,) = outcome
        assert isinstance(error, StorageError)
        assert "no SQLite connection came free" in str(error) and "0.2" in str(error)
        assert waited >= 0.15
        assert store.open_connections == 1

        # released in time, the waiting call goes ahead
        release = threading.Event()
        late: list[object] = []

        def hold() -> None:
            with store._guard("hold it briefly"):
                release.set()
                time.sleep(0.05)

        holder = threading.Thread(target=hold)
        holder.start()
        release.wait(10)
        late.append(_read(store, "a"))
        holder.join(10)
        assert late[0] == "ok"
    finally:
        store.close()


def _read(store: SQLiteStore, record_id: str) -> object:
    try:
        found = store.read("Thing", record_id)
    except StorageError as exc:
        return exc
    return "ok" if found is not None else "missing"


def test_connections_come_back_after_conflicts_and_errors(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "t.db", max_connections=2)
    try:
        store.write(write("a"))
        for _ in range(50):
            with pytest.raises(ConflictError):
                store.write(write("a"))  # exists already
        with pytest.raises(StorageError):
            store.write([*write("b"), *write("b")])  # one record twice
        assert store.open_connections <= 2
        assert store._pool.idle_connections == store.open_connections
        store.write(write("c"))
        assert [r.id for r in store.read_all("Thing")] == ["a", "c"]
    finally:
        store.close()


def test_a_connection_left_in_a_transaction_is_rolled_back_on_return(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    store = SQLiteStore(db, max_connections=1, timeout=0.5)
    other = SQLiteStore(db, timeout=0.5)
    try:
        with store._guard("leave a transaction open") as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO records (kind, id, version, payload) VALUES ('Thing', 'x', 1, '{}')"
            )
        assert other.read("Thing", "x") is None  # never committed
        other.write(write("y"))  # and the write lock was let go
        store.write(write("z"))
        assert [r.id for r in store.read_all("Thing")] == ["y", "z"]
    finally:
        store.close()
        other.close()


def test_pooled_connections_keep_wal_and_the_busy_timeout(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "t.db", max_connections=3, timeout=2.5)
    try:
        seen = []
        with (
            store._guard("a") as first,
            store._guard("b") as second,
            store._guard("c") as third,
        ):
            for conn in (first, second, third):
                mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
                busy = conn.execute("PRAGMA busy_timeout").fetchone()[0]
                sync = conn.execute("PRAGMA synchronous").fetchone()[0]
                seen.append((mode, busy, sync))
        assert seen == [("wal", 2500, 1)] * 3
        assert store.open_connections == 3
    finally:
        store.close()


def test_close_closes_idle_connections_now_and_busy_ones_on_return(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "t.db", max_connections=2)
    with store._guard("stay busy across close") as conn:
        with store._guard("another"):
            pass
        assert store.open_connections == 2
        store.close()
        assert store.open_connections == 1  # the busy one finishes its call
        conn.execute("SELECT 1")
    assert store.open_connections == 0
    with pytest.raises(sqlite3.ProgrammingError):
        conn.execute("SELECT 1")  # closed on return
    with pytest.raises(StorageError, match="closed"):
        store.read("Thing", "a")


def test_a_waiting_call_fails_when_the_store_is_closed(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "t.db", max_connections=1, timeout=10)
    outcome: list[object] = []
    with store._guard("hold"):
        waiter = threading.Thread(target=lambda: outcome.append(_read(store, "a")))
        waiter.start()
        time.sleep(0.05)
        store.close()
        waiter.join(timeout=5)
    assert not waiter.is_alive()
    (error,) = outcome
    assert isinstance(error, StorageError) and "closed" in str(error)


def test_a_connection_that_fails_to_open_frees_its_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SQLiteStore(tmp_path / "t.db", max_connections=1)
    try:
        with store._guard("hold the first"):
            pass
        store._pool._idle.clear()  # as if the idle one were gone: the next call opens one
        store._pool._discard()
        real = sqlite3.connect

        def refuse(*args: Any, **kwargs: Any) -> sqlite3.Connection:
            raise sqlite3.OperationalError("unable to open database file")

        monkeypatch.setattr(sqlite3, "connect", refuse)
        with pytest.raises(StorageError) as caught:
            store.read("Thing", "a")
        assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
        assert store.open_connections == 0
        monkeypatch.setattr(sqlite3, "connect", real)
        store.write(write("a"))  # its place was given back
        assert store.open_connections == 1
    finally:
        store.close()


# ----------------------------------------------------------------- in memory
def test_an_in_memory_store_uses_one_connection_for_every_thread(connects: list[int]) -> None:
    store = SQLiteStore(":memory:", max_connections=8)
    try:
        assert store.max_connections == 1
        peak, errors = run_short_lived_threads(store, 200, wave=20)
        assert errors == []
        assert peak == 1 and store.open_connections == 1
        assert len(connects) == 1
        assert len(store.read_all("Thing")) == 200
    finally:
        store.close()


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize("value", [0, -1, True, 2.5, "8", None])
def test_max_connections_is_validated(tmp_path: Path, value: Any) -> None:
    with pytest.raises(ValidationError) as info:
        SQLiteStore(tmp_path / "t.db", max_connections=value)
    assert info.value.field == "max_connections"
    assert not (tmp_path / "t.db").exists()  # refused before opening anything


def test_defaults(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "t.db")
    try:
        assert store.max_connections == 8
        assert store.open_connections == 1  # the one that ran the migrations, now idle
    finally:
        store.close()


@pytest.fixture
def many_threads_store(tmp_path: Path) -> Iterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "t.db", max_connections=4, timeout=30)
    yield store
    store.close()


def test_concurrent_writers_and_readers_share_the_bound(many_threads_store: SQLiteStore) -> None:
    store = many_threads_store
    store.write(write("counter", payload="0"))
    errors: list[BaseException] = []
    start = threading.Barrier(16)

    def work() -> None:
        try:
            start.wait(10)
            for _ in range(10):
                while True:
                    current = store.read("Thing", "counter")
                    assert current is not None
                    try:
                        store.write(
                            write("counter", current.version, str(int(current.payload) + 1))
                        )
                        break
                    except ConflictError:
                        continue
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    final = store.read("Thing", "counter")
    assert final is not None and final.payload == "160"
    assert store.open_connections <= 4
