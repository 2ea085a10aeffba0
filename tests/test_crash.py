"""Crash safety: a writer SIGKILLed at random moments loses and tears nothing.

A child process (``tests/_crash_child.py``) writes through
:class:`~carecoord.service.CareCoordinator` on a :class:`~carecoord.storage.SQLiteStore`
file — it finishes the shared world of ``tests/world.py``, then adds
interventions, records notes and moves intervention statuses, all with known
ids — and prints one line per operation once the operation has returned. The
test kills it with SIGKILL after a random delay, starts a new child on the
same file, and repeats. Afterwards, on a fresh store over the file:

* no acknowledged commit is lost: every operation a child printed is in the
  database;
* no record is torn: every record of every kind in ``RECORD_TYPES`` decodes,
  every record's worklist index rows are exactly those of its stored version,
  and ``PRAGMA integrity_check`` passes;
* every committed operation has exactly one successful audit entry, and no
  audit entry lacks its operation (counted from the stored state, so commits
  the child made but had no time to print count too); the sealed audit chain
  verifies;
* the outbox matches the business writes: every committed assigned
  intervention (assignee other than the actor) has exactly one
  ``InterventionAssigned`` notification to its assignee, and every
  notification names an intervention and patient that exist.

The default is 20 kills (about 15 s). For a long run::

    CARECOORD_CRASH_KILLS=200 .venv/bin/python -m pytest tests/test_crash.py

``CARECOORD_CRASH_SEED`` fixes the seed of the kill delays and the children's
choices (a failure prints the seed it ran with; kill timing stays real time).
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from carecoord import (
    CarePlan,
    CarePlanStatus,
    CareTeam,
    CareTeamStatus,
    Note,
    Patient,
    StaffMember,
)
from carecoord.model.audit import AuditEntry, AuditOutcome
from carecoord.notify import Notification
from carecoord.service import CareCoordinator
from carecoord.storage import RECORD_TYPES, SQLiteStore, UnitOfWork, WorkQuery, index_rows
from carecoord.testing import FixedClock
from world import BOSS, COORD, T0

pytestmark = pytest.mark.skipif(
    not hasattr(signal, "SIGKILL"), reason="needs SIGKILL to kill the writer hard"
)

CHILD = Path(__file__).with_name("_crash_child.py")
KILLS = int(os.environ.get("CARECOORD_CRASH_KILLS", "20"))
SEED = int(os.environ.get("CARECOORD_CRASH_SEED", str(random.SystemRandom().randrange(2**32))))
MAX_DELAY = 0.5
"""Seconds after the child's ``ready`` line (imports done, store not yet open) to kill it."""
READY_TIMEOUT = 60.0
WORK_OPS = frozenset({"add_intervention", "set_intervention_status", "record_note"})
"""The operations of the child's work loop (after the world is set up)."""
ACTOR = COORD  # the child's actor for plans and notes (see _crash_child.ACTOR)

CATEGORIES = (
    "review",
    "intervention",
    "goal",
    "referral",
    "barrier",
    "appointment",
    "contact",
    "outbox",
    "audit",
    "emergency",
    "member",
    "staff",
)
Records = dict[str, list[Any]]
"""Every decoded record, by kind."""
Acks = list[dict[str, Any]]
"""The operations the children acknowledged, one JSON object each."""
ASSIGNED = re.compile(r"Intervention (\S+) in care plan (\S+) is assigned")


@attrs.define
class Round:
    """What one child did before it was killed."""

    number: int
    delay: float
    acks: Acks
    returncode: int
    stderr: str


def run_round(db: Path, number: int, rng: random.Random, tmp: Path) -> Round:
    """Start a child on ``db``, SIGKILL it ``delay`` seconds after it is ready."""
    delay = rng.uniform(0.0, MAX_DELAY)
    errors = tmp / f"child-{number}.err"
    lines: list[str] = []
    ready = threading.Event()
    with errors.open("w") as err:
        child = subprocess.Popen(
            [sys.executable, str(CHILD), str(db), str(number), str(rng.randrange(2**32))],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            bufsize=1,
        )
        assert child.stdout is not None
        out = child.stdout

        def read() -> None:
            for line in out:
                lines.append(line)
                ready.set()
            ready.set()  # EOF: the child died (or never started)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            if ready.wait(READY_TIMEOUT) and child.poll() is None:
                time.sleep(delay)
        finally:
            if child.poll() is None:
                child.send_signal(signal.SIGKILL)
            child.wait(timeout=60)
            reader.join(timeout=60)
            out.close()
    # A line cut by the kill (no newline) was never acknowledged.
    acks = [json.loads(line) for line in lines if line.endswith("\n")]
    return Round(number, delay, acks, child.returncode, errors.read_text())


def test_killed_writers_lose_and_tear_nothing(tmp_path: Path) -> None:
    db = tmp_path / "crash.sqlite3"
    rng = random.Random(SEED)
    context = f"seed {SEED} (CARECOORD_CRASH_SEED={SEED} replays the choices)"
    acks: Acks = []
    mid_work = 0
    for number in range(KILLS):
        done = run_round(db, number, rng, tmp_path)
        assert done.returncode == -signal.SIGKILL, (
            f"round {number}: the child exited with {done.returncode} instead of being "
            f"killed; {context}\n{done.stderr}"
        )
        assert done.acks[:1] == [{"op": "ready"}], (number, done.acks[:3], done.stderr)
        work = done.acks[1:]
        mid_work += any(a["op"] in WORK_OPS for a in work)
        acks.extend(work)
    # The delays are meant to land in the work loop: make sure some did.
    assert mid_work > 0, f"no kill landed after a write was acknowledged; {context}"
    assert any(a["op"] == "add_intervention" for a in acks), context

    store = SQLiteStore(db)
    try:
        check_store(store, db, acks, context)
    finally:
        store.close()


def check_store(store: SQLiteStore, path: Path, acks: Acks, context: str) -> None:
    assert store.integrity_check() is True, context
    records = decode_everything(store, path, context)
    check_index_rows(store, records, context)
    check_acknowledged(records, acks, context)
    check_audit_counts(records, acks, context)
    check_outbox(records, acks, context)
    check_audit_chain(store, records, context)


# ------------------------------------------------------------------ no tears
def decode_everything(store: SQLiteStore, path: Path, context: str) -> dict[str, list[Any]]:
    """Every record of every kind, decoded; the file holds no record of another kind."""
    with UnitOfWork(store) as uow:
        records = {kind: uow.all(cls) for kind, cls in RECORD_TYPES.items()}
    raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        stored = dict(raw.execute("SELECT kind, COUNT(*) FROM records GROUP BY kind").fetchall())
    finally:
        raw.close()
    decoded = {kind: len(found) for kind, found in records.items() if found}
    assert decoded == stored, context
    return records


def check_index_rows(store: SQLiteStore, records: Records, context: str) -> None:
    """Each record's index rows are exactly those of its stored version (written together)."""
    versions = {(kind, r.id): r.version for kind in RECORD_TYPES for r in store.read_all(kind)}
    expected: Counter[tuple[str, str, int, Any]] = Counter()
    for kind, found in records.items():
        for record in found:
            for row in index_rows(record):
                expected[(kind, str(record.id), versions[(kind, str(record.id))], row)] += 1
    categories = set(CATEGORIES) | {key[3].category for key in expected}
    actual: Counter[tuple[str, str, int, Any]] = Counter(
        (hit.kind, hit.record_id, hit.version, hit.row)
        for category in sorted(categories)
        for hit in store.query(WorkQuery(category=category, open_only=False))
    )
    assert actual == expected, (
        f"index rows out of step with their records; {context}: "
        f"missing {list((expected - actual).elements())[:5]}, "
        f"extra {list((actual - expected).elements())[:5]}"
    )


# ---------------------------------------------------------------- no losses
def check_acknowledged(records: Records, acks: Acks, context: str) -> None:
    """Every acknowledged operation's write is in the database."""
    by_key = {(kind, str(r.id)): r for kind, found in records.items() for r in found}
    plans: dict[str, CarePlan] = {str(p.id): p for p in records["CarePlan"]}
    reasons = Counter(
        (str(plan.id), str(item.id), step.reason, step.to_status.value)
        for plan in plans.values()
        for item in plan.interventions
        for step in item.history
    )
    lost = []
    for ack in acks:
        kind, _, record_id = ack["entity"].partition("/")
        record = by_key.get((kind, record_id))
        if record is None:
            lost.append(ack)
            continue
        match ack["op"]:
            case "set_team_status":
                assert isinstance(record, CareTeam)
                ok = record.status is CareTeamStatus.ACTIVE
            case "set_plan_status":
                assert isinstance(record, CarePlan)
                ok = record.status is CarePlanStatus.ACTIVE
            case "add_intervention":
                assert isinstance(record, CarePlan)
                items = [i for i in record.interventions if i.id == ack["id"]]
                ok = len(items) == 1 and items[0].assignee_id == ack["assignee"]
            case "set_intervention_status":
                ok = reasons[(ack["plan"], ack["item"], ack["id"], ack["to"])] == 1
            case _:
                ok = True
        if not ok:
            lost.append(ack)
    assert not lost, f"{len(lost)} acknowledged operations lost, e.g. {lost[:5]}; {context}"


# ------------------------------------------------------------------- audit
def check_audit_counts(records: Records, acks: Acks, context: str) -> None:
    """One successful audit entry per committed operation, none without one, no failures."""
    entries: list[AuditEntry] = records["AuditEntry"]
    failed = [e for e in entries if e.outcome is not AuditOutcome.SUCCESS]
    assert not failed, f"failed operations audited: {failed[:5]}; {context}"
    actual = Counter((e.operation, e.entity) for e in entries)
    # What the stored state says was committed, acknowledged or not.
    expected: Counter[tuple[str, str | None]] = Counter()
    for member in records["StaffMember"]:
        assert isinstance(member, StaffMember)
        expected[("register_staff", f"StaffMember/{member.id}")] += 1
    for patient in records["Patient"]:
        assert isinstance(patient, Patient)
        expected[("enrol_patient", f"Patient/{patient.id}")] += 1
    for team in records["CareTeam"]:
        assert isinstance(team, CareTeam)
        expected[("form_care_team", f"CareTeam/{team.id}")] += 1
        expected[("set_team_status", f"CareTeam/{team.id}")] += len(team.history)
    for plan in records["CarePlan"]:
        assert isinstance(plan, CarePlan)
        entity = f"CarePlan/{plan.id}"
        expected[("create_care_plan", entity)] += 1
        expected[("set_plan_status", entity)] += len(plan.history)
        expected[("add_intervention", entity)] += len(plan.interventions)
        expected[("set_intervention_status", entity)] += sum(
            len(i.history) for i in plan.interventions
        )
    for note in records["Note"]:
        assert isinstance(note, Note)
        expected[("record_note", f"Note/{note.id}")] += 1
    expected = +expected
    assert actual == expected, (
        f"audit entries do not match the committed operations; {context}: "
        f"missing {dict(expected - actual)}, extra {dict(actual - expected)}"
    )
    # Operations with an entity of their own: exactly one entry each.
    for ack in acks:
        if ack["op"] not in ("add_intervention", "set_intervention_status", "set_plan_status"):
            assert actual[(ack["op"], ack["entity"])] == 1, (ack, context)


def check_audit_chain(store: SQLiteStore, records: Records, context: str) -> None:
    """Seal everything, then the chain, checkpoints, head and index rows verify."""
    service = CareCoordinator(store=store, clock=FixedClock(T0 + timedelta(days=90)))
    service.seal_audit()
    verification = service.verify_audit(actor=BOSS)
    assert verification.intact, f"{verification.breaks[:5]}; {context}"
    assert verification.unsealed == 0, context
    assert verification.sealed == len(records["AuditEntry"]), context


# ------------------------------------------------------------------ outbox
def check_outbox(records: Records, acks: Acks, context: str) -> None:
    """Assignment notifications exist exactly for the committed assignments."""
    patients = {str(p.id) for p in records["Patient"]}
    plans: dict[str, CarePlan] = {str(p.id): p for p in records["CarePlan"]}
    notes: list[Notification] = records["Notification"]
    found: Counter[tuple[str, str, str]] = Counter()
    for note in notes:
        assert note.patient_id in patients, (note, context)
        assert note.event == "InterventionAssigned", (note, context)
        match = ASSIGNED.search(note.body)
        assert match is not None, (note, context)
        item_id, plan_id = match.groups()
        plan = plans.get(plan_id)
        assert plan is not None, f"{note} names a plan that was never committed; {context}"
        items = [i for i in plan.interventions if i.id == item_id]
        assert len(items) == 1, f"{note} names an intervention never committed; {context}"
        assert items[0].assignee_id == note.recipient_id, (note, context)
        found[(plan_id, item_id, note.recipient_id)] += 1
    expected = Counter(
        (str(plan.id), str(item.id), str(item.assignee_id))
        for plan in plans.values()
        for item in plan.interventions
        if item.assignee_id is not None and item.assignee_id != ACTOR
    )
    assert found == expected, (
        f"outbox out of step with the assignments; {context}: "
        f"missing {dict(expected - found)}, extra {dict(found - expected)}"
    )
    for ack in acks:
        if ack["op"] == "add_intervention" and ack["assignee"] not in (None, ACTOR):
            assert found[(ack["plan"], ack["id"], ack["assignee"])] == 1, (ack, context)
