"""PostgreSQL test helpers: the server from the environment, throw-away schemas, workers.

``CARECOORD_TEST_POSTGRES_DSN`` names the server. Without it (or when the server
cannot be reached) PostgreSQL tests are skipped, unless
``CARECOORD_REQUIRE_POSTGRES=1`` (CI), where that is a failure.

Every store made here lives in its own uniquely named schema, dropped when the
store is closed; a session fixture drops whatever this run left behind.
"""

from __future__ import annotations

import functools
import json
import os
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from psycopg import sql

from carecoord import (
    CarePlan,
    CarePlanId,
    CarePlanStatus,
    ConflictError,
    Intervention,
    InterventionId,
    InterventionKind,
    PatientId,
    StaffId,
)
from carecoord.storage import PostgresStore, RecordWrite, UnitOfWork
from carecoord.storage.postgres import Connection

DSN_ENV = "CARECOORD_TEST_POSTGRES_DSN"
REQUIRE_ENV = "CARECOORD_REQUIRE_POSTGRES"
RUN_PREFIX = f"cc_test_{uuid.uuid4().hex[:10]}"
"""Every schema of this test run starts with it (one run never drops another's)."""


@functools.cache
def _availability() -> tuple[str | None, str | None]:
    """(dsn, None) when the server answers, else (None, why not)."""
    dsn = os.environ.get(DSN_ENV, "").strip()
    if not dsn:
        return None, f"{DSN_ENV} is not set, so the PostgreSQL tests cannot run"
    try:
        with psycopg.connect(dsn, connect_timeout=5, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return None, f"the PostgreSQL server in {DSN_ENV} is unreachable ({type(exc).__name__})"
    return dsn, None


def postgres_dsn() -> str:
    """The test server's DSN; skips the test, or fails it when a server is required."""
    dsn, problem = _availability()
    if dsn is None:
        assert problem is not None
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{problem} and {REQUIRE_ENV}=1 requires it", pytrace=False)
        pytest.skip(problem)
    return dsn


def new_schema_name() -> str:
    """A schema name no other test (or run) uses."""
    return f"{RUN_PREFIX}_{uuid.uuid4().hex[:12]}"


def drop_schema(dsn: str, schema: str) -> None:
    """Drop ``schema`` and everything in it (no error when it does not exist)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def drop_run_schemas(dsn: str) -> None:
    """Drop every schema this test run created and left behind."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", (RUN_PREFIX,)
            )
        ]
        for name in names:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


def raw_connection(dsn: str) -> Connection:
    """A plain autocommit connection, outside any store."""
    return psycopg.connect(dsn, autocommit=True)


class ThrowawayStore(PostgresStore):
    """A PostgresStore in a fresh, migrated schema that is dropped when it is closed."""

    def __init__(self, dsn: str, **options: Any) -> None:
        schema = options.pop("schema", None) or new_schema_name()
        super().__init__(dsn, schema=schema, max_size=options.pop("max_size", 4), **options)
        self._dsn = dsn
        self._dropped = False
        try:
            self.migrate()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        super().close()
        if not self._dropped:
            self._dropped = True
            drop_schema(self._dsn, self.schema)


# --------------------------------------------------------------- the workers
T0 = datetime(2026, 11, 23, 9, tzinfo=UTC)


def intervention(task_id: str, assignee: StaffId) -> Intervention:
    return Intervention(
        id=InterventionId(task_id),
        kind=InterventionKind.COMMUNICATION,
        description="multi-process task",
        created_at=T0,
        assignee_id=assignee,
    )


def plan(plan_id: str) -> CarePlan:
    return CarePlan(
        id=CarePlanId(plan_id),
        patient_id=PatientId("p-1"),
        author_id=StaffId("author"),
        created_at=T0,
        status=CarePlanStatus.ACTIVE,
    )


def counter_write(record_id: str, expected: int, payload: object) -> RecordWrite:
    return RecordWrite(
        kind="Counter", id=record_id, expected_version=expected, payload=json.dumps(payload)
    )


def process_worker(
    dsn: str,
    schema: str,
    number: int,
    lockstep_rounds: int,
    free_updates: int,
    plan_attempts: int,
    barrier: Any,
    results: Any,
) -> None:
    """One OS process of the multi-process test; puts its report dict on ``results``.

    1. Lockstep: every worker reads ``Counter/lockstep``, waits for the others,
       then writes against the version it read: exactly one wins each round.
    2. Free-running: increments ``Counter/free`` (retrying on conflict) and its
       own ``Counter/own-N`` (never contended).
    3. Units of work: adds interventions to the shared plan (one attempt each)
       and to its own plan.
    """
    report: dict[str, Any] = {"number": number, "lockstep_won": [], "lockstep_conflicts": 0}
    store = PostgresStore(dsn, schema=schema, min_size=1, max_size=1)
    try:
        for round_number in range(lockstep_rounds):
            current = store.read("Counter", "lockstep")
            assert current is not None
            barrier.wait(timeout=60)
            tokens = [*json.loads(current.payload)["tokens"], f"{number}-{round_number}"]
            try:
                store.write([counter_write("lockstep", current.version, {"tokens": tokens})])
                report["lockstep_won"].append(f"{number}-{round_number}")
            except ConflictError:
                report["lockstep_conflicts"] += 1
            barrier.wait(timeout=60)

        free_conflicts = 0
        own = f"own-{number}"
        store.write([counter_write(own, 0, {"count": 0})])
        for step in range(free_updates):
            while True:
                current = store.read("Counter", "free")
                assert current is not None
                count = json.loads(current.payload)["count"]
                try:
                    store.write([counter_write("free", current.version, {"count": count + 1})])
                    break
                except ConflictError:
                    free_conflicts += 1
            store.write([counter_write(own, step + 1, {"count": step + 1})])
        report["free_conflicts"] = free_conflicts

        shared_won: list[str] = []
        shared_conflicts = 0
        for attempt in range(plan_attempts):
            for plan_id in ("plan-shared", f"plan-{number}"):
                task_id = f"t-{number}-{attempt}"
                try:
                    with UnitOfWork(store) as uow:
                        plan = uow.get(CarePlan, plan_id)
                        uow.save(plan.with_intervention(intervention(task_id, StaffId("ma"))))
                    if plan_id == "plan-shared":
                        shared_won.append(task_id)
                except ConflictError:
                    if plan_id != "plan-shared":
                        raise
                    shared_conflicts += 1
        report["shared_won"] = shared_won
        report["shared_conflicts"] = shared_conflicts
        report["error"] = None
    except BaseException as exc:  # reported to the test, in the parent process
        report["error"] = f"{type(exc).__name__}: {exc}"
        barrier.abort()
    finally:
        store.close()
        results.put(report)
