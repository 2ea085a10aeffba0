"""Quickstart: a coordinator enrols a patient, builds a plan and reads a worklist.

Run with ``python examples/quickstart.py``; it keeps its data in a temporary SQLite file.
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from carecoord import (
    Assessment,
    AssessmentDomain,
    AssessmentId,
    Cadence,
    CarePlan,
    CarePlanId,
    CareTeam,
    CareTeamId,
    CareTeamRole,
    Comparator,
    Goal,
    GoalId,
    HumanName,
    Intervention,
    InterventionId,
    InterventionKind,
    Membership,
    Need,
    NeedId,
    NeedPriority,
    Patient,
    PatientId,
    Period,
    ProgressReading,
    Quantity,
    StaffId,
    StaffMember,
    Target,
    TaskPriority,
)
from carecoord.service import CareCoordinator
from carecoord.storage import SQLiteStore
from carecoord.testing import FixedClock


def main() -> list[str]:
    """Run the example; returns the worklist lines it printed."""
    tz = ZoneInfo("America/Chicago")
    now = datetime(2026, 11, 23, 9, tzinfo=tz)
    cc = StaffId("cc-1")
    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteStore(Path(folder) / "care.sqlite3")
        service = CareCoordinator(store=store, clock=FixedClock(now))
        service.register_staff(
            StaffMember(
                id=cc, name=HumanName(family="Rivera"), roles=(CareTeamRole.CARE_COORDINATOR,)
            ),
            actor=cc,
        )
        patient = service.enrol_patient(
            Patient(
                id=PatientId("p-1"),
                name=HumanName(family="Example", given=("Pat",)),
                birth_date=date(1948, 5, 17),
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
        need = Need(
            id=NeedId("need-1"),
            domain=AssessmentDomain.MEDICAL,
            description="Blood pressure above target",
            priority=NeedPriority.HIGH,
        )
        service.record_assessment(
            Assessment(
                id=AssessmentId("a-1"),
                patient_id=patient.id,
                performed_by=cc,
                performed_at=now,
                needs=(need,),
            ),
            actor=cc,
        )
        goal = Goal(
            id=GoalId("g-1"),
            description="Systolic pressure under 130",
            targets=(
                Target(
                    measure="systolic-bp",
                    quantity=Quantity(130, "mm[Hg]", Comparator.LT),
                    due=date(2027, 3, 1),
                ),
            ),
            addresses=(need.id,),
        )
        plan = CarePlan(
            id=CarePlanId("plan-1"),
            patient_id=patient.id,
            author_id=cc,
            created_at=now,
            addresses=(need.id,),
            goals=(goal,),
            review_cadence=Cadence.months(1, now),
        )
        service.create_care_plan(plan, actor=cc)
        service.set_plan_status(plan.id, "active", actor=cc)
        service.add_intervention(
            plan.id,
            Intervention(
                id=InterventionId("i-1"),
                kind=InterventionKind.MONITORING,
                description="Home blood pressure log review",
                created_at=now,
                assignee_id=cc,
                priority=TaskPriority.URGENT,
                due=now + timedelta(hours=3),
                cadence=Cadence.weeks(1, now + timedelta(hours=3)),
            ),
            actor=cc,
        )
        service.record_progress(
            plan.id,
            goal.id,
            ProgressReading(
                measure="systolic-bp", value=142, unit="mm[Hg]", at=now, recorded_by=cc
            ),
            actor=cc,
        )
        lines = [
            f"{item.intervention.kind.value} for {item.patient_id} due {item.intervention.due_at}"
            for item in service.interventions_due(cc, actor=cc, until=now + timedelta(days=1))
        ]
        store.close()
    for line in lines:
        print(line)
    return lines


if __name__ == "__main__":
    main()
