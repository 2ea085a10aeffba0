"""A host's own operation: a patient's open goals, checked and audited like any built-in one.

``open_goal_count`` is a plain handler turned into an operation by
:func:`carecoord.operation`. Run with :meth:`CareCoordinator.run`, it goes
through the same pipeline as every built-in use case: the actor must be an
active staff member, the handler decides access before it returns, it reads
through one unit of work, and exactly one audit entry records the access,
allowed or denied.

Run with ``python examples/custom_operation.py``; it keeps its data in memory.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from carecoord import (
    AccessDeniedError,
    AuditAction,
    CarePlan,
    CarePlanId,
    CarePlanStatus,
    CareTeam,
    CareTeamId,
    CareTeamRole,
    Context,
    Goal,
    GoalId,
    GoalLifecycleStatus,
    HumanName,
    Membership,
    Patient,
    PatientId,
    Period,
    StaffId,
    StaffMember,
    operation,
)
from carecoord.access import Permission
from carecoord.model import AuditOutcome
from carecoord.service import CareCoordinator
from carecoord.storage import MemoryStore
from carecoord.testing import FixedClock

CLOSED_GOALS = frozenset(
    {
        GoalLifecycleStatus.COMPLETED,
        GoalLifecycleStatus.CANCELLED,
        GoalLifecycleStatus.ENTERED_IN_ERROR,
        GoalLifecycleStatus.REJECTED,
    }
)


@operation(AuditAction.READ)
def open_goal_count(ctx: Context, patient_id: PatientId) -> int:
    """How many goals of the patient's active care plans are still open."""
    # 1. Decide access before anything is returned: the policy must let the
    #    actor read this patient. A refusal raises AccessDeniedError (audited).
    ctx.allow(patient_id, Permission.READ, entity=f"Patient/{patient_id}")
    # 2. Read through the operation's unit of work.
    plans = ctx.uow.all(CarePlan, patient_id=str(patient_id))
    return sum(
        1
        for plan in plans
        if plan.status is CarePlanStatus.ACTIVE
        for goal in plan.goals
        if goal.lifecycle_status not in CLOSED_GOALS
    )


def main() -> int:
    """Run the example; returns the count it printed."""
    now = datetime(2026, 11, 23, 9, tzinfo=ZoneInfo("America/Chicago"))
    service = CareCoordinator(store=MemoryStore(), clock=FixedClock(now))
    cc, ma = StaffId("cc-1"), StaffId("ma-9")
    service.register_staff(
        StaffMember(id=cc, name=HumanName(family="Rivera"), roles=(CareTeamRole.CARE_COORDINATOR,)),
        actor=cc,
    )
    service.register_staff(  # registered, but on none of the patient's care teams
        StaffMember(
            id=ma, name=HumanName(family="Okafor"), roles=(CareTeamRole.MEDICAL_ASSISTANT,)
        ),
        actor=cc,
    )
    patient = service.enrol_patient(
        Patient(
            id=PatientId("p-1"),
            name=HumanName(family="Example"),
            birth_date=date(1950, 3, 4),
            time_zone="America/Chicago",
        ),
        actor=cc,
    )
    service.form_care_team(
        CareTeam(
            id=CareTeamId("team-1"),
            patient_id=patient.id,
            lead_id=cc,
            members=(
                Membership(
                    staff_id=cc, role=CareTeamRole.CARE_COORDINATOR, period=Period(start=now)
                ),
            ),
        ),
        actor=cc,
    )
    plan = service.create_care_plan(
        CarePlan(
            id=CarePlanId("plan-1"),
            patient_id=patient.id,
            author_id=cc,
            created_at=now,
            goals=(
                Goal(id=GoalId("g-1"), description="Walk 20 minutes a day"),
                Goal(id=GoalId("g-2"), description="Take the evening dose every day"),
                Goal(id=GoalId("g-3"), description="Stop smoking"),
            ),
        ),
        actor=cc,
    )
    service.set_plan_status(plan.id, "active", actor=cc)
    service.set_goal_status(
        plan.id, GoalId("g-3"), "cancelled", actor=cc, reason="patient declined"
    )

    # The host's own operation, run like any other: actor named, access checked, audited.
    count = service.run(open_goal_count, patient.id, actor=cc)
    print(f"open goals of {patient.id}: {count}")
    assert count == 2

    # Someone who is not on the patient's care team is refused (and that is audited too).
    try:
        service.run(open_goal_count, patient.id, actor=ma)
    except AccessDeniedError:
        print(f"{ma} may not read {patient.id}: denied")
    else:
        raise AssertionError("a staff member off the care team must be refused")

    # Both runs are in the patient's audit trail, under the operation's name.
    trail = service.audit_trail(patient_id=patient.id, actor=cc)
    ours = [entry for entry in trail if entry.operation == "open_goal_count"]
    for entry in ours:
        print(f"audit: {entry.actor} {entry.action.name} {entry.entity} -> {entry.outcome.name}")
    assert [(e.actor, e.action, e.outcome) for e in ours] == [
        ("cc-1", AuditAction.READ, AuditOutcome.SUCCESS),
        ("ma-9", AuditAction.READ, AuditOutcome.MINOR_FAILURE),
    ]

    # Sealed into the hash chain like every other entry (tick() seals in production).
    service.seal_audit()
    assert service.verify_audit(actor=cc).intact
    return count


if __name__ == "__main__":
    main()
