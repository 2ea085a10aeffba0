"""A small, fixed, fictional data set and the demo that prints a coordinator's worklist.

All names and details here are invented. The demo prints identifiers and codes only.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import attrs

from ..model import (
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
    ContactChannel,
    ContactPreferences,
    Finding,
    FindingId,
    Goal,
    GoalId,
    GoalPriority,
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
    Quantity,
    QuietHours,
    StaffId,
    StaffMember,
    Target,
    TaskPriority,
)
from ..service import CareCoordinator
from ._administration import show_administration
from ._clinic import show_clinic
from ._programs import show_programs
from ._staffing import show_staffing

__all__ = [
    "DEFAULT_DB",
    "DemoData",
    "build_demo_data",
    "is_carecoord_database",
    "load_demo",
    "run_demo",
]

DEFAULT_DB = "carecoord-demo.sqlite3"
"""The file the demo writes (and replaces on every run) in the current directory."""

ZONE = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 23, 8, 30, tzinfo=ZONE)
COORDINATOR = StaffId("staff-coordinator")
LEAD_MA = StaffId("staff-lead-ma")
NURSE = StaffId("staff-nurse")


@attrs.frozen
class DemoData:
    """Everything the demo creates."""

    staff: tuple[StaffMember, ...]
    patients: tuple[Patient, ...]
    teams: tuple[CareTeam, ...]
    assessments: tuple[Assessment, ...]
    plans: tuple[CarePlan, ...]
    now: datetime


def build_demo_data(now: datetime = NOW) -> DemoData:
    """Three fictional patients with teams, assessments and active care plans."""
    start = now - timedelta(days=30)
    staff = (
        StaffMember(
            id=COORDINATOR,
            name=HumanName(family="Rivera", given=("Ana",)),
            roles=(CareTeamRole.CARE_COORDINATOR,),
            time_zone="America/Chicago",
            supervisor_id=None,
        ),
        StaffMember(
            id=LEAD_MA,
            name=HumanName(family="Okafor", given=("Jo",)),
            roles=(CareTeamRole.LEAD_MEDICAL_ASSISTANT,),
            time_zone="America/Chicago",
            supervisor_id=COORDINATOR,
        ),
        StaffMember(
            id=NURSE,
            name=HumanName(family="Lindqvist", given=("Mia",)),
            roles=(CareTeamRole.NURSE,),
            time_zone="America/Chicago",
            supervisor_id=COORDINATOR,
        ),
    )
    patients, teams, assessments, plans = [], [], [], []
    for n, (family, zone) in enumerate(
        [("Doe", "America/Chicago"), ("Roe", "America/New_York"), ("Poe", "America/Denver")],
        start=1,
    ):
        pid = PatientId(f"patient-{n}")
        patients.append(
            Patient(
                id=pid,
                name=HumanName(family=family, given=("Pat",)),
                birth_date=date(1950 + n, n, 10 + n),
                time_zone=zone,
                preferences=ContactPreferences(
                    channels=(ContactChannel.PHONE, ContactChannel.SMS),
                    quiet_hours=QuietHours(start=time(21), end=time(8)),
                ),
                enrolled_at=start,
            )
        )
        member: Callable[[StaffId, CareTeamRole], Membership] = lambda s, r: Membership(  # noqa: E731
            staff_id=s, role=r, period=Period(start=start)
        )
        teams.append(
            CareTeam(
                id=CareTeamId(f"team-{n}"),
                patient_id=pid,
                lead_id=COORDINATOR,
                members=(
                    member(COORDINATOR, CareTeamRole.CARE_COORDINATOR),
                    member(LEAD_MA, CareTeamRole.LEAD_MEDICAL_ASSISTANT),
                    member(NURSE, CareTeamRole.NURSE),
                ),
            ).transition("active", by=COORDINATOR, at=start)
        )
        need = Need(
            id=NeedId(f"need-{n}"),
            domain=AssessmentDomain.MEDICAL,
            description="Blood sugar above target",
            priority=NeedPriority.HIGH,
            finding_ids=(FindingId(f"finding-{n}"),),
        )
        assessments.append(
            Assessment(
                id=AssessmentId(f"assessment-{n}"),
                patient_id=pid,
                performed_by=COORDINATOR,
                performed_at=start,
                findings=(
                    Finding(
                        id=FindingId(f"finding-{n}"),
                        domain=AssessmentDomain.MEDICAL,
                        text="HbA1c 8.9 % at intake",
                    ),
                ),
                needs=(need,),
            )
        )
        goal = Goal(
            id=GoalId(f"goal-{n}"),
            description="Bring HbA1c under 7 %",
            priority=GoalPriority.HIGH,
            targets=(
                Target(
                    measure="hba1c",
                    quantity=Quantity(7.0, "%", Comparator.LT),
                    due=(now + timedelta(days=90)).date(),
                ),
            ),
            addresses=(need.id,),
        ).transition("active", by=COORDINATOR, at=start)
        interventions = (
            Intervention(
                id=InterventionId(f"intervention-{n}-education"),
                kind=InterventionKind.EDUCATION,
                description="Teach glucose self-monitoring",
                created_at=start,
                assignee_id=COORDINATOR,
                priority=TaskPriority.ROUTINE,
                due=now - timedelta(days=n),
                goal_ids=(goal.id,),
            ),
            Intervention(
                id=InterventionId(f"intervention-{n}-transport"),
                kind=InterventionKind.RESOURCE_COORDINATION,
                description="Arrange transport to the lab",
                created_at=start,
                assignee_id=COORDINATOR if n != 2 else LEAD_MA,
                priority=TaskPriority.URGENT if n == 3 else TaskPriority.ROUTINE,
                due=now + timedelta(hours=4 * n),
                goal_ids=(goal.id,),
            ),
            Intervention(
                id=InterventionId(f"intervention-{n}-monitoring"),
                kind=InterventionKind.MONITORING,
                description="Weekly glucose log check",
                created_at=start,
                assignee_id=NURSE,
                cadence=Cadence.weeks(1, start),
                due=now + timedelta(days=2),
                goal_ids=(goal.id,),
            ),
        )
        plans.append(
            CarePlan(
                id=CarePlanId(f"plan-{n}"),
                patient_id=pid,
                author_id=COORDINATOR,
                created_at=start,
                addresses=(need.id,),
                goals=(goal,),
                interventions=interventions,
                review_cadence=Cadence.months(1, start),
            ).transition("active", by=COORDINATOR, at=start)
        )
    return DemoData(
        staff=staff,
        patients=tuple(patients),
        teams=tuple(teams),
        assessments=tuple(assessments),
        plans=tuple(plans),
        now=now,
    )


def load_demo(service: CareCoordinator, data: DemoData) -> None:
    """Register the demo's staff, enrol its patients and create their teams and plans."""
    for member in data.staff:
        service.register_staff(member, actor=COORDINATOR)
    for patient in data.patients:
        service.enrol_patient(patient, actor=COORDINATOR)
    for team in data.teams:
        service.form_care_team(team, actor=COORDINATOR)
    for assessment in data.assessments:
        service.record_assessment(assessment, actor=COORDINATOR)
    for plan in data.plans:
        service.create_care_plan(plan, actor=COORDINATOR)


def is_carecoord_database(db_path: str | os.PathLike[str]) -> bool:
    """Whether ``db_path`` is an existing SQLite file holding carecoord's ``carecoord_schema``.

    The file is opened read-only (``mode=ro``): nothing is created, changed or
    migrated. A missing file, a folder, or a file that is not an SQLite database
    (or is one without carecoord's tables) gives ``False``.
    """
    path = Path(db_path)
    try:
        if not path.is_file():
            return False
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except (OSError, ValueError, sqlite3.Error):
        return False
    try:
        row = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'carecoord_schema'"
        ).fetchone()
    except sqlite3.Error:  # not a database, encrypted, locked ...
        return False
    finally:
        conn.close()
    return row is not None


def run_demo(
    db_path: str | os.PathLike[str] = DEFAULT_DB,
    out: Callable[[str], None] = print,
    *,
    force: bool = False,
) -> DemoData:
    """Create the demo database (replacing an earlier demo file) and print a worklist,
    a small rota and a booked slot.

    An existing file at ``db_path`` is replaced only when it is a carecoord
    database (:func:`is_carecoord_database`) or ``force`` is true; otherwise
    :class:`FileExistsError` is raised and nothing is touched. A folder is
    never replaced (:class:`IsADirectoryError`).
    """
    from ..storage.sqlite import SQLiteStore
    from ..testing import FixedClock

    path = Path(db_path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder, not a database file")
    if path.exists() and not force and not is_carecoord_database(path):
        raise FileExistsError(
            f"{path} exists and is not a carecoord database; not replacing it "
            "(pass force=True, or --force on the command line, to replace it)"
        )
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    data = build_demo_data()
    store = SQLiteStore(path)
    try:
        service = CareCoordinator(store=store, clock=FixedClock(data.now))
        load_demo(service, data)
        service.seal_audit()  # chain what was recorded (a host does this from tick)
        out(f"Created {path} with {len(data.patients)} patients and {len(data.plans)} care plans.")
        end_of_day = data.now.replace(hour=23, minute=59)
        items = service.interventions_due(COORDINATOR, actor=COORDINATOR, until=end_of_day)
        out(f"Worklist for {COORDINATOR} on {data.now.date().isoformat()} ({len(items)} items):")
        for item in items:
            due = item.intervention.due_at
            flag = "OVERDUE" if item.overdue else "due    "
            when = due.astimezone(ZONE).strftime("%Y-%m-%d %H:%M") if due else "-"
            out(
                f"  {flag} {when}  {item.priority.value:<8} "
                f"{item.intervention.kind.value:<22} {item.patient_id}"
            )
        show_staffing(
            service,
            data.now,
            coordinator=COORDINATOR,
            lead=LEAD_MA,
            nurse=NURSE,
            patient=data.patients[0].id,
            out=out,
        )
        show_administration(
            service,
            data.now,
            coordinator=COORDINATOR,
            nurse=NURSE,
            patient=data.patients[1].id,
            out=out,
        )
        show_clinic(
            service,
            data.now,
            coordinator=COORDINATOR,
            lead=LEAD_MA,
            nurse=NURSE,
            patients=[p.id for p in data.patients],
            out=out,
        )
        show_programs(
            service,
            data.now,
            coordinator=COORDINATOR,
            nurse=NURSE,
            patients=[p.id for p in data.patients],
            out=out,
        )
        service.seal_audit()
    finally:
        store.close()
    return data
