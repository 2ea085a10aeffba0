"""The writer ``tests/test_crash.py`` runs in a child process and SIGKILLs.

Usage: ``python tests/_crash_child.py DB ROUND SEED``.

It opens :class:`~carecoord.storage.SQLiteStore` on ``DB``, finishes whatever
part of the shared world (``tests/world.py``) an earlier, killed child left
undone, then writes through :class:`~carecoord.service.CareCoordinator` until
it is killed: care plans, interventions, notes and intervention status moves,
every id derived from ``ROUND`` so no two children ever pick the same one.

After each operation *returns* it writes one JSON line to stdout and flushes
(one ``write`` of less than ``PIPE_BUF`` bytes, so a line is whole or absent):
what the parent reads is exactly what was acknowledged. The first line,
``{"op": "ready"}``, comes before the store is opened.
"""

from __future__ import annotations

import json
import random
import sys
import time
from datetime import datetime, timedelta
from typing import Any

from carecoord import (
    CarePlan,
    CarePlanId,
    CareTeam,
    CareTeamStatus,
    ContactChannel,
    Intervention,
    InterventionId,
    InterventionKind,
    Note,
    NoteId,
    Patient,
    StaffId,
    StaffMember,
    TaskPriority,
    TaskStatus,
)
from carecoord.model import Direction, InteractionParty
from carecoord.service import CareCoordinator
from carecoord.storage import SQLiteStore, UnitOfWork
from world import (
    BOSS,
    COORD,
    LEAD_MA,
    MA,
    NURSE,
    PATIENT,
    STAFF,
    T0,
    TEAM,
    make_patient,
    make_team,
)

ACTOR = COORD
"""Who performs the plan and note operations (the team lead: never notified of own work)."""

ASSIGNEES: tuple[StaffId | None, ...] = (NURSE, MA, LEAD_MA, COORD, None)
PLAN_SIZE = 25
"""Interventions per plan before the child starts a new plan (keeps plan records small)."""

# Each status move takes an intervention one step along this walk.
NEXT_STATUS: dict[TaskStatus, TaskStatus] = {
    TaskStatus.READY: TaskStatus.IN_PROGRESS,
    TaskStatus.IN_PROGRESS: TaskStatus.ON_HOLD,
    TaskStatus.ON_HOLD: TaskStatus.IN_PROGRESS,
}
COMPLETE_AFTER = 3
"""An intervention moved this many times is completed with its next move."""


class RoundClock:
    """Real elapsed time from ``T0`` plus an hour per round: moves forward across children."""

    def __init__(self, round_no: int) -> None:
        self._base = T0 + timedelta(hours=round_no)
        self._start = time.monotonic()

    def now(self) -> datetime:
        return self._base + timedelta(seconds=time.monotonic() - self._start)


def ack(op: str, **fields: Any) -> None:
    """Acknowledge an operation that returned: one whole line, flushed."""
    sys.stdout.write(json.dumps({"op": op, **fields}, sort_keys=True) + "\n")
    sys.stdout.flush()


def finish_world(service: CareCoordinator, store: SQLiteStore) -> None:
    """``world.populate`` minus the plan, resumable: each step runs unless already done."""

    def exists(cls: type[Any], record_id: str) -> Any:
        with UnitOfWork(store) as uow:
            return uow.find(cls, record_id)

    for member in STAFF:
        if exists(StaffMember, member.id) is None:
            service.register_staff(member, actor=BOSS)
            ack("register_staff", entity=f"StaffMember/{member.id}")
    if exists(Patient, PATIENT) is None:
        service.enrol_patient(make_patient(), actor=COORD)
        ack("enrol_patient", entity=f"Patient/{PATIENT}")
    team: CareTeam | None = exists(CareTeam, TEAM)
    if team is None:
        team = service.form_care_team(make_team(), actor=COORD)
        ack("form_care_team", entity=f"CareTeam/{TEAM}")
    if team.status is not CareTeamStatus.ACTIVE:
        service.set_team_status(TEAM, "active", actor=COORD)
        ack("set_team_status", entity=f"CareTeam/{TEAM}")


def new_plan(service: CareCoordinator, clock: RoundClock, plan_id: CarePlanId) -> None:
    plan = CarePlan(id=plan_id, patient_id=PATIENT, author_id=ACTOR, created_at=clock.now())
    service.create_care_plan(plan, actor=ACTOR)
    ack("create_care_plan", entity=f"CarePlan/{plan_id}", plan=plan_id)
    service.set_plan_status(plan_id, "active", actor=ACTOR)
    ack("set_plan_status", entity=f"CarePlan/{plan_id}", plan=plan_id)


def work(service: CareCoordinator, clock: RoundClock, round_no: int, rng: random.Random) -> None:
    """Write until killed (or, as a safety net, for a minute)."""
    deadline = time.monotonic() + 60
    plans = 0
    plan_id = CarePlanId(f"plan-r{round_no}-{plans}")
    new_plan(service, clock, plan_id)
    in_plan = 0
    # Interventions of this child's current plan, still open: id -> (status, moves so far).
    open_items: dict[InterventionId, tuple[TaskStatus, int]] = {}
    n = 0
    while time.monotonic() < deadline:
        n += 1
        choice = rng.random()
        if choice < 0.35 or (choice < 0.65 and not open_items):
            if in_plan >= PLAN_SIZE:
                plans += 1
                plan_id = CarePlanId(f"plan-r{round_no}-{plans}")
                new_plan(service, clock, plan_id)
                in_plan = 0
                open_items.clear()
            item_id = InterventionId(f"i-r{round_no}-{n}")
            assignee = rng.choice(ASSIGNEES)
            service.add_intervention(
                plan_id,
                Intervention(
                    id=item_id,
                    kind=InterventionKind.COMMUNICATION,
                    description=f"crash test task {item_id}",
                    created_at=clock.now(),
                    assignee_id=assignee,
                    priority=rng.choice(list(TaskPriority)),
                    due=clock.now() + timedelta(days=rng.randint(1, 30)),
                ),
                actor=ACTOR,
            )
            in_plan += 1
            open_items[item_id] = (TaskStatus.READY, 0)
            ack(
                "add_intervention",
                entity=f"CarePlan/{plan_id}",
                plan=plan_id,
                id=item_id,
                assignee=assignee,
            )
        elif choice < 0.65:
            item_id = rng.choice(sorted(open_items))
            status, moves = open_items[item_id]
            target = (
                TaskStatus.COMPLETED
                if moves >= COMPLETE_AFTER and status is TaskStatus.IN_PROGRESS
                else NEXT_STATUS[status]
            )
            op_id = f"s-r{round_no}-{n}"
            service.set_intervention_status(plan_id, item_id, target, actor=ACTOR, reason=op_id)
            if target is TaskStatus.COMPLETED:
                del open_items[item_id]
            else:
                open_items[item_id] = (target, moves + 1)
            ack(
                "set_intervention_status",
                entity=f"CarePlan/{plan_id}",
                plan=plan_id,
                id=op_id,
                item=item_id,
                to=target.value,
            )
        else:
            note_id = NoteId(f"n-r{round_no}-{n}")
            service.record_note(
                Note(
                    id=note_id,
                    patient_id=PATIENT,
                    at=clock.now(),
                    author_id=ACTOR,
                    channel=rng.choice((ContactChannel.PHONE, ContactChannel.SMS)),
                    direction=Direction.OUTBOUND,
                    party=InteractionParty.PATIENT,
                    summary=f"crash test note {note_id} " + "x" * rng.randint(0, 2000),
                ),
                actor=ACTOR,
            )
            ack("record_note", entity=f"Note/{note_id}", id=note_id)


def main(argv: list[str]) -> None:
    path, round_no, seed = argv[0], int(argv[1]), int(argv[2])
    ack("ready")
    rng = random.Random(seed)
    clock = RoundClock(round_no)
    store = SQLiteStore(path)
    service = CareCoordinator(store=store, clock=clock)
    finish_world(service, store)
    work(service, clock, round_no, rng)
    store.close()


if __name__ == "__main__":
    main(sys.argv[1:])
