"""PostgresStore against a real server: the shipped contract, migrations, errors, processes.

Needs ``CARECOORD_TEST_POSTGRES_DSN``; skipped without it unless
``CARECOORD_REQUIRE_POSTGRES=1`` (see ``_pg.py``). Every store lives in its own
throw-away schema.
"""

from __future__ import annotations

import json
import multiprocessing
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg_pool import ConnectionPool

from _pg import (
    ThrowawayStore,
    counter_write,
    drop_run_schemas,
    drop_schema,
    intervention,
    new_schema_name,
    plan,
    postgres_dsn,
    process_worker,
    raw_connection,
)
from carecoord import CarePlan, ConflictError, StorageError, ValidationError
from carecoord.model.audit import AuditEntry, AuditHead
from carecoord.notify import Notification
from carecoord.service import CareCoordinator
from carecoord.storage import (
    IndexRow,
    PostgresStore,
    RecordWrite,
    Store,
    UnitOfWork,
    WorkQuery,
)
from carecoord.storage.postgres import LATEST_SCHEMA
from carecoord.testing import FixedClock
from carecoord.testing.store import StoreContract, make_stateful_test
from world import COORD, NURSE, PLAN, T0, populate


@pytest.fixture(scope="module", autouse=True)
def dsn() -> Iterator[str]:
    """The server (skip or fail without one); drops this run's leftovers at the end."""
    found = postgres_dsn()
    yield found
    drop_run_schemas(found)


@pytest.fixture
def store(dsn: str) -> Iterator[ThrowawayStore]:
    made = ThrowawayStore(dsn)
    yield made
    made.close()


@pytest.fixture
def schema(dsn: str) -> Iterator[str]:
    """A fresh schema name, dropped after the test (it does not exist yet)."""
    name = new_schema_name()
    yield name
    drop_schema(dsn, name)


def write(record_id: str, expected: int = 0, *, kind: str = "Thing", **extra: Any) -> RecordWrite:
    return RecordWrite(
        kind=kind,
        id=record_id,
        expected_version=expected,
        payload=json.dumps({"id": record_id}),
        **extra,
    )


# ---------------------------------------------------------------- the contract
class TestPostgresStore(StoreContract):
    def make_store(self) -> Store:
        return ThrowawayStore(postgres_dsn())


def postgres_store() -> Store:
    return ThrowawayStore(postgres_dsn(), max_size=1)


TestPostgresStoreStateful = make_stateful_test(postgres_store).TestCase


# ------------------------------------------------------------------ migrations
def test_construction_touches_nothing_and_use_needs_migrate(dsn: str, schema: str) -> None:
    made = PostgresStore(dsn, schema=schema)
    try:
        with pytest.raises(StorageError, match=r"no carecoord tables; run PostgresStore.migrate"):
            made.read("Patient", "p-1")
        with pytest.raises(StorageError, match="migrate"):
            made.write([write("a")])
        with raw_connection(dsn) as conn:
            found = conn.execute(
                "SELECT count(*) FROM pg_namespace WHERE nspname = %s", (schema,)
            ).fetchone()
        assert found == (0,)
        assert made.schema_version == 0
        assert made.migrate() == LATEST_SCHEMA
        assert made.schema_version == LATEST_SCHEMA
        made.write([write("a")])
        stored = made.read("Thing", "a")
        assert stored is not None and stored.version == 1
    finally:
        made.close()


def test_migrate_is_idempotent_and_creates_the_tables(dsn: str, schema: str) -> None:
    made = PostgresStore(dsn, schema=schema)
    try:
        made.migrate()
        made.write([write("a")])
        assert made.migrate() == LATEST_SCHEMA  # again: a no-op that keeps the data
        assert made.read("Thing", "a") is not None
    finally:
        made.close()
    with raw_connection(dsn) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            )
        }
        versions = conn.execute(
            sql.SQL("SELECT version FROM {} ORDER BY version").format(
                sql.Identifier(schema, "carecoord_schema")
            )
        ).fetchall()
    assert tables == {"carecoord_schema", "records", "work_index"}
    assert versions == [(version,) for version in range(1, LATEST_SCHEMA + 1)]


def test_concurrent_migrations_both_succeed(dsn: str, schema: str) -> None:
    stores = [PostgresStore(dsn, schema=schema) for _ in range(3)]
    outcomes: list[object] = []
    barrier = threading.Barrier(len(stores))

    def run(made: PostgresStore) -> None:
        barrier.wait()
        try:
            outcomes.append(made.migrate())
        except Exception as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for made in stores:
        made.close()
    assert outcomes == [LATEST_SCHEMA] * 3


def test_a_newer_schema_is_refused(store: ThrowawayStore, dsn: str) -> None:
    store.write([write("a")])
    with raw_connection(dsn) as conn:
        conn.execute(
            sql.SQL("INSERT INTO {} (version) VALUES (%s)").format(
                sql.Identifier(store.schema, "carecoord_schema")
            ),
            (LATEST_SCHEMA + 1,),
        )
    fresh = PostgresStore(dsn, schema=store.schema)
    try:
        with pytest.raises(StorageError, match="newer than this carecoord understands"):
            fresh.read("Thing", "a")
        with pytest.raises(StorageError, match="upgrade carecoord"):
            fresh.migrate()
        assert fresh.schema_version == LATEST_SCHEMA + 1
    finally:
        fresh.close()


@pytest.mark.parametrize("name", ["", "1abc", "a-b", 'x"; DROP TABLE t; --', "a" * 64, "é"])
def test_schema_names_are_checked(name: str) -> None:
    with pytest.raises(ValidationError) as info:
        PostgresStore("postgresql://unused", schema=name)
    assert info.value.field == "schema"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"retries": -1}, "retries"),
        ({"retries": True}, "retries"),
        ({"min_size": -1}, "min_size"),
        ({"min_size": 3, "max_size": 2}, "max_size"),
        ({"min_size": 0, "max_size": 0}, "max_size"),
        ({"timeout": 0}, "timeout"),
    ],
)
def test_pool_options_are_checked(options: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        PostgresStore("postgresql://unused", **options)
    assert info.value.field == field


def test_exactly_one_connection_source(dsn: str) -> None:
    with pytest.raises(ValidationError):
        PostgresStore()
    with pytest.raises(ValidationError):
        PostgresStore(dsn, connect=lambda: psycopg.connect(dsn))


# -------------------------------------------------------------------- storage
def test_payload_is_kept_as_text_and_as_jsonb(store: ThrowawayStore, dsn: str) -> None:
    exact = '{"b": 1,  "a": [1.50, "caf\\u00e9"]}'
    nul = '{"text":"a\\u0000b"}'  # valid JSON, but jsonb rejects \u0000
    store.write(
        [
            RecordWrite(kind="Note", id="n-1", expected_version=0, payload=exact),
            RecordWrite(kind="Note", id="n-2", expected_version=0, payload=nul),
        ]
    )
    store.write([RecordWrite(kind="Note", id="n-1", expected_version=1, payload='{"v": 2}')])
    assert [r.payload for r in store.read_all("Note")] == ['{"v": 2}', nul]
    with raw_connection(dsn) as conn:
        rows = conn.execute(
            sql.SQL("SELECT id, document->>'v', document IS NULL FROM {} ORDER BY id").format(
                sql.Identifier(store.schema, "records")
            )
        ).fetchall()
    assert rows == [("n-1", "2", False), ("n-2", None, True)]


def _count_try_jsonb_calls(dsn: str, schema: str) -> None:
    """Make ``carecoord_try_jsonb`` count its calls in the sequence ``try_jsonb_calls``."""
    with raw_connection(dsn) as conn:
        conn.execute(
            sql.SQL("CREATE SEQUENCE {}").format(sql.Identifier(schema, "try_jsonb_calls"))
        )
        conn.execute(
            sql.SQL(
                "CREATE OR REPLACE FUNCTION {fn}(payload text) RETURNS jsonb LANGUAGE plpgsql "
                "AS $$ BEGIN PERFORM nextval({seq}); RETURN payload::jsonb; "
                "EXCEPTION WHEN others THEN RETURN NULL; END $$"
            ).format(
                fn=sql.Identifier(schema, "carecoord_try_jsonb"),
                seq=sql.Literal(f"{schema}.try_jsonb_calls"),
            )
        )


def _try_jsonb_calls(dsn: str, schema: str) -> int:
    with raw_connection(dsn) as conn:
        found = conn.execute(
            sql.SQL("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {}").format(
                sql.Identifier(schema, "try_jsonb_calls")
            )
        ).fetchone()
    assert found is not None
    return int(found[0])


def test_valid_payloads_are_written_without_a_subtransaction_per_record(
    store: ThrowawayStore, dsn: str
) -> None:
    """``document`` is a plain cast; the exception-catching function runs only for a batch
    holding a payload jsonb refuses (and then stores NULL for that one alone)."""
    _count_try_jsonb_calls(dsn, store.schema)
    store.write([write(f"t-{n:03d}") for n in range(200)])
    store.write([write(f"t-{n:03d}", 1) for n in range(0, 200, 2)])
    assert _try_jsonb_calls(dsn, store.schema) == 0
    odd = [
        RecordWrite(kind="Note", id="bad", expected_version=0, payload="not json"),
        RecordWrite(kind="Note", id="good", expected_version=0, payload='{"v": 1}'),
        RecordWrite(kind="Note", id="nul", expected_version=0, payload='{"t":"\\u0000"}'),
    ]
    store.write(odd)
    assert _try_jsonb_calls(dsn, store.schema) == 3  # the careful second attempt
    assert [r.payload for r in store.read_all("Note")] == [w.payload for w in odd]
    with raw_connection(dsn) as conn:
        rows = conn.execute(
            sql.SQL("SELECT id, document FROM {} WHERE kind = 'Note' ORDER BY id").format(
                sql.Identifier(store.schema, "records")
            )
        ).fetchall()
    assert rows == [("bad", None), ("good", {"v": 1}), ("nul", None)]
    store.write([RecordWrite(kind="Note", id="bad", expected_version=1, payload="[1]")])
    with raw_connection(dsn) as conn:
        document = conn.execute(
            sql.SQL("SELECT document FROM {} WHERE kind = 'Note' AND id = 'bad'").format(
                sql.Identifier(store.schema, "records")
            )
        ).fetchone()
    assert document == ([1],)


def test_a_batch_is_checked_before_its_index_rows_are_written(store: ThrowawayStore) -> None:
    """A stale update of a record that does not exist is a conflict (not a broken reference)."""
    row = IndexRow(
        category="intervention",
        item_id="i",
        patient_id=None,
        owner_id="o",
        status="ready",
        is_open=True,
    )
    store.write([write("b")])
    with pytest.raises(ConflictError) as info:
        store.write([write("a", index=(row,)), write("b", 1), write("z", 4, index=(row,))])
    assert (info.value.kind, info.value.record_id, info.value.expected) == ("Thing", "z", 4)
    with pytest.raises(ConflictError) as info:
        store.write([write("a"), write("b"), write("c", 2)])  # the first refused, in order
    assert (info.value.record_id, info.value.expected) == ("b", 0)
    assert [r.id for r in store.read_all("Thing")] == ["b"]
    assert not store.query(WorkQuery(category="intervention", open_only=False))


def test_ids_sort_by_code_point_whatever_the_collation(store: ThrowawayStore) -> None:
    ids = ["b", "B", "a-2", "a_1", "a1", "é", "Z", "a 3", "ä"]
    store.write([write(i) for i in ids])
    # Python's order (code points), which en_US-style collations would not give.
    expected = ["B", "Z", "a 3", "a-2", "a1", "a_1", "b", "ä", "é"]
    assert sorted(ids) == expected
    assert [r.id for r in store.read_all("Thing")] == expected


def test_times_are_instants_whatever_the_session_zone(store: ThrowawayStore, dsn: str) -> None:
    due = datetime(2026, 3, 29, 1, 30, tzinfo=ZoneInfo("Australia/Lord_Howe"))
    row = IndexRow(
        category="intervention",
        item_id="t-1",
        patient_id="p-1",
        owner_id="ma-1",
        status="ready",
        is_open=True,
        due_at=due,
        changed_at=due - timedelta(microseconds=1),
    )
    store.write([write("plan", kind="CarePlan", index=(row,))])
    tokyo = PostgresStore(
        connect=lambda: psycopg.connect(dsn, options="-c TimeZone=Asia/Tokyo"),
        schema=store.schema,
    )
    try:
        (hit,) = tokyo.query(WorkQuery(category="intervention", due_before=due + timedelta(1)))
        assert hit.row == row
        assert hit.row.due_at is not None and hit.row.due_at.tzinfo is UTC
        assert tokyo.query(WorkQuery(category="intervention", due_from=due))
        assert not tokyo.query(
            WorkQuery(category="intervention", due_from=due + timedelta(microseconds=1))
        )
    finally:
        tokyo.close()
    with raw_connection(dsn) as conn:
        column = conn.execute(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = 'work_index' AND column_name = 'due_at'",
            (store.schema,),
        ).fetchone()
    assert column == ("timestamp with time zone",)


def test_a_host_pool_and_a_connection_factory_work(store: ThrowawayStore, dsn: str) -> None:
    pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
        dsn, min_size=1, max_size=2, open=True
    )
    try:
        pooled = PostgresStore(pool=pool, schema=store.schema)
        pooled.write([write("a")])
        pooled.write([write("a", 1)])
        pooled.close()
        assert not pool.closed  # the host's pool stays the host's
        with pool.connection() as conn:  # and its connections are left idle, not in a transaction
            assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    finally:
        pool.close()
    factory = PostgresStore(connect=lambda: psycopg.connect(dsn), schema=store.schema)
    try:
        got = factory.read("Thing", "a")
        assert got is not None and got.version == 2
        factory.write([write("b")])
    finally:
        factory.close()
    assert [r.id for r in store.read_all("Thing")] == ["a", "b"]


# --------------------------------------------------------------------- errors
def test_an_unreachable_server_is_a_storage_error() -> None:
    refused = PostgresStore(
        connect=lambda: psycopg.connect("postgresql://postgres@127.0.0.1:1/x", connect_timeout=2)
    )
    with pytest.raises(StorageError, match="OperationalError") as info:
        refused.read("Patient", "p-1")
    assert isinstance(info.value.__cause__, psycopg.OperationalError)
    refused.close()
    pooled = PostgresStore("postgresql://postgres@127.0.0.1:1/x?connect_timeout=1", timeout=0.3)
    try:
        with pytest.raises(StorageError, match="no connection within") as pool_info:
            pooled.write([write("a")])
        assert pool_info.value.__cause__ is not None
    finally:
        pooled.close()


def test_a_pooled_connection_the_server_closed_is_replaced_on_checkout(dsn: str) -> None:
    """Checkout skips the round trip for a quiet connection, not for one the server closed."""
    name = f"cc-{new_schema_name()[-12:]}"
    made = ThrowawayStore(make_conninfo(dsn, application_name=name), min_size=1, max_size=1)
    try:
        made.write([write("a")])
        with raw_connection(dsn) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s",
                (name,),
            )
            for _ in range(100):
                left = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (name,)
                ).fetchone()
                if left == (0,):
                    break
                time.sleep(0.05)
        got = made.read("Thing", "a")  # no StorageError: the pool opened a new connection
        assert got is not None and got.version == 1
    finally:
        made.close()


def test_a_driver_error_mid_batch_writes_nothing(store: ThrowawayStore) -> None:
    with pytest.raises(StorageError) as info:
        store.write([write("a-good"), write("b-bad\x00secret")])  # text cannot hold NUL
    assert isinstance(info.value.__cause__, psycopg.Error)
    assert "secret" not in str(info.value)
    assert store.read("Thing", "a-good") is None
    store.write([write("a-good")])  # the connection is usable afterwards
    assert store.read("Thing", "a-good") is not None


def _flaky_trigger(dsn: str, schema: str, failures: int) -> None:
    """Make inserts of kind 'Flaky' fail with a serialization failure ``failures`` times."""
    with raw_connection(dsn) as conn:
        conn.execute(sql.SQL("CREATE SEQUENCE {}").format(sql.Identifier(schema, "flaky_attempts")))
        conn.execute(
            sql.SQL(
                "CREATE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF nextval({seq}) <= {failures} THEN "
                "RAISE EXCEPTION 'forced' USING ERRCODE = 'serialization_failure'; END IF; "
                "RETURN NEW; END $$"
            ).format(
                fn=sql.Identifier(schema, "flaky"),
                seq=sql.Literal(f"{schema}.flaky_attempts"),
                failures=sql.Literal(failures),
            )
        )
        conn.execute(
            sql.SQL(
                "CREATE TRIGGER flaky BEFORE INSERT ON {records} FOR EACH ROW "
                "WHEN (NEW.kind = 'Flaky') EXECUTE FUNCTION {fn}()"
            ).format(records=sql.Identifier(schema, "records"), fn=sql.Identifier(schema, "flaky"))
        )


def test_serialization_failures_are_retried(store: ThrowawayStore, dsn: str) -> None:
    _flaky_trigger(dsn, store.schema, failures=2)
    store.write([write("a", kind="Flaky"), write("b")])
    got = store.read("Flaky", "a")
    assert got is not None and got.version == 1


def test_an_exhausted_race_names_a_record_the_batch_updates(dsn: str) -> None:
    """The runner retries a conflict on an update; a create-only name would stop it."""
    made = ThrowawayStore(dsn, retries=0)
    try:
        made.write([write("z")])
        _flaky_trigger(dsn, made.schema, failures=5)
        with pytest.raises(ConflictError) as info:  # "Flaky/a" sorts first, but is a create
            made.write([write("a", kind="Flaky"), write("z", expected=1)])
        assert (info.value.kind, info.value.record_id, info.value.expected) == ("Thing", "z", 1)
    finally:
        made.close()


def test_serialization_failures_beyond_the_retries_are_conflicts(dsn: str) -> None:
    made = ThrowawayStore(dsn, retries=1)
    try:
        _flaky_trigger(dsn, made.schema, failures=5)
        with pytest.raises(ConflictError) as info:
            made.write([write("b"), write("a", kind="Flaky")])
        assert isinstance(info.value.__cause__, psycopg.errors.SerializationFailure)
        assert made.read("Thing", "b") is None  # nothing of the batch
        with raw_connection(dsn) as conn:
            used = conn.execute(
                sql.SQL("SELECT last_value FROM {}").format(
                    sql.Identifier(made.schema, "flaky_attempts")
                )
            ).fetchone()
        assert used == (2,)  # the first try and one retry
    finally:
        made.close()


# ----------------------------------------------------- outbox and audit trail
def test_change_notification_and_audit_entry_commit_together(
    store: ThrowawayStore, dsn: str
) -> None:
    clock = FixedClock(T0)
    service = CareCoordinator(store=store, clock=clock)
    populate(service, clock)
    before = {kind: len(store.read_all(kind)) for kind in ("Notification", "AuditEntry")}

    service.add_intervention(PLAN, intervention("i-1", NURSE), actor=COORD)
    notes = [n for n in _all(store, Notification) if n.event == "InterventionAssigned"]
    assert [(n.recipient_id, n.patient_id) for n in notes] == [(str(NURSE), "p-1")]
    audits = _all(store, AuditEntry)
    assert len(audits) == before["AuditEntry"] + 1
    assert audits[-1].operation == "add_intervention"
    assert len(store.read_all("Notification")) == before["Notification"] + 1

    # Break the audit write: the change and its notification must not appear either.
    with raw_connection(dsn) as conn:
        conn.execute(
            sql.SQL(
                "CREATE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "RAISE EXCEPTION 'no audit' USING ERRCODE = 'check_violation'; END $$"
            ).format(fn=sql.Identifier(store.schema, "no_audit"))
        )
        conn.execute(
            sql.SQL(
                "CREATE TRIGGER no_audit BEFORE INSERT ON {records} FOR EACH ROW "
                "WHEN (NEW.kind = 'AuditEntry') EXECUTE FUNCTION {fn}()"
            ).format(
                records=sql.Identifier(store.schema, "records"),
                fn=sql.Identifier(store.schema, "no_audit"),
            )
        )
    plan_before = store.read("CarePlan", str(PLAN))
    counts = {kind: len(store.read_all(kind)) for kind in ("Notification", "AuditEntry")}
    with pytest.raises(StorageError):
        service.add_intervention(PLAN, intervention("i-2", NURSE), actor=COORD)
    assert store.read("CarePlan", str(PLAN)) == plan_before
    assert {kind: len(store.read_all(kind)) for kind in counts} == counts
    with raw_connection(dsn) as conn:
        conn.execute(
            sql.SQL("DROP TRIGGER no_audit ON {}").format(sql.Identifier(store.schema, "records"))
        )
    assert service.verify_audit_trail(actor=COORD) == ()
    # Nothing was appended while auditing was broken; verifying appended one entry.
    assert len(_all(store, AuditEntry)) == counts["AuditEntry"] + 1
    assert service.seal_audit().head_sequence == counts["AuditEntry"] + 1
    assert [h.sequence for h in _all(store, AuditHead)] == [counts["AuditEntry"] + 1]


def _all(store: Store, cls: type[Any]) -> list[Any]:
    with UnitOfWork(store) as uow:
        found = uow.all(cls)
    return found


# ------------------------------------------------------------------ processes
WORKERS = 4
LOCKSTEP_ROUNDS = 4
FREE_UPDATES = 8
PLAN_ATTEMPTS = 4


def test_several_processes_lose_no_accepted_update(store: ThrowawayStore, dsn: str) -> None:
    store.write([counter_write("lockstep", 0, {"tokens": []})])
    store.write([counter_write("free", 0, {"count": 0})])
    with UnitOfWork(store) as uow:
        uow.add(plan("plan-shared"))
        for number in range(WORKERS):
            uow.add(plan(f"plan-{number}"))

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WORKERS)
    results = context.Queue()
    workers = [
        context.Process(
            target=process_worker,
            args=(
                dsn,
                store.schema,
                number,
                LOCKSTEP_ROUNDS,
                FREE_UPDATES,
                PLAN_ATTEMPTS,
                barrier,
                results,
            ),
        )
        for number in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    reports = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    assert [r["error"] for r in reports] == [None] * WORKERS
    assert all(w.exitcode == 0 for w in workers)

    # Lockstep: all read the same version, so exactly one write per round won.
    won = [token for r in reports for token in r["lockstep_won"]]
    assert len(won) == LOCKSTEP_ROUNDS
    assert sum(r["lockstep_conflicts"] for r in reports) == LOCKSTEP_ROUNDS * (WORKERS - 1)
    lockstep = store.read("Counter", "lockstep")
    assert lockstep is not None and lockstep.version == LOCKSTEP_ROUNDS + 1
    assert sorted(json.loads(lockstep.payload)["tokens"]) == sorted(won)

    # Free-running increments with retries: every accepted one is counted.
    free = store.read("Counter", "free")
    assert free is not None
    assert json.loads(free.payload) == {"count": WORKERS * FREE_UPDATES}
    assert free.version == WORKERS * FREE_UPDATES + 1
    for number in range(WORKERS):
        own = store.read("Counter", f"own-{number}")
        assert own is not None and json.loads(own.payload) == {"count": FREE_UPDATES}
        assert own.version == FREE_UPDATES + 1

    # Units of work: the shared plan holds exactly the accepted interventions.
    shared_won = {task for r in reports for task in r["shared_won"]}
    attempts = WORKERS * PLAN_ATTEMPTS
    assert len(shared_won) + sum(r["shared_conflicts"] for r in reports) == attempts
    with UnitOfWork(store) as uow:
        shared = uow.get(CarePlan, "plan-shared")
        own_plans = [uow.get(CarePlan, f"plan-{number}") for number in range(WORKERS)]
    assert {str(i.id) for i in shared.interventions} == shared_won
    stored_shared = store.read("CarePlan", "plan-shared")
    assert stored_shared is not None and stored_shared.version == len(shared_won) + 1
    for number, own_plan in enumerate(own_plans):
        assert [str(i.id) for i in own_plan.interventions] == [
            f"t-{number}-{attempt}" for attempt in range(PLAN_ATTEMPTS)
        ]


def test_a_connection_lost_while_committing_says_the_outcome_is_unknown(
    store: ThrowawayStore, dsn: str
) -> None:
    # A deferred trigger runs at COMMIT and kills its own backend: the client
    # cannot know whether the commit happened, and must not be told "not written".
    with raw_connection(dsn) as conn:
        conn.execute(
            sql.SQL(
                "CREATE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NULL; END $$"
            ).format(fn=sql.Identifier(store.schema, "die"))
        )
        conn.execute(
            sql.SQL(
                "CREATE CONSTRAINT TRIGGER die AFTER INSERT ON {records} "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                "WHEN (NEW.kind = 'Doomed') EXECUTE FUNCTION {fn}()"
            ).format(
                records=sql.Identifier(store.schema, "records"),
                fn=sql.Identifier(store.schema, "die"),
            )
        )
    with pytest.raises(StorageError, match="may or may not have been written") as info:
        store.write([write("a", kind="Doomed")])
    assert isinstance(info.value.__cause__, psycopg.OperationalError)
    store.write([write("b")])  # the pool replaced the broken connection
    assert store.read("Thing", "b") is not None
