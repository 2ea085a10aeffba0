"""The data set of ``benchmarks/floors.py``: staff, patients and everything around them.

Each patient ``n`` is generated from ``random.Random(f"{seed}:{n}")`` alone, so
the first ``k`` patients never depend on how many there are, and any patient can
be rebuilt on its own. Per patient: the patient, an active care team of three
(a coordinator, a nurse, a medical assistant), one care plan (2 or 3 goals with
targets and readings, 5 to 15 interventions with their history, a monthly
review cadence), two notes, a review (70% of patients) and a referral (50%).
Intervention due times are spread over 30 days either side of :data:`NOW`;
most past work is done, some is overdue.

``_floors_build`` writes them into the stores; the bulk-load figure loads the
first patients again through the unit of work.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs

from carecoord import (
    Cadence,
    CarePlan,
    CarePlanId,
    CarePlanStatus,
    CareTeam,
    CareTeamId,
    CareTeamRole,
    CareTeamStatus,
    Comparator,
    ContactChannel,
    ContactPoint,
    ContactPreferences,
    Goal,
    GoalId,
    GoalLifecycleStatus,
    GoalPriority,
    HumanName,
    Intervention,
    InterventionId,
    InterventionKind,
    Membership,
    NeedId,
    Note,
    NoteId,
    Patient,
    PatientId,
    Period,
    ProgressReading,
    Quantity,
    Referral,
    ReferralId,
    ReferralTargetKind,
    Review,
    ReviewId,
    StaffId,
    StaffMember,
    Target,
    TaskPriority,
    TaskStatus,
    Transition,
)
from carecoord.model import Direction, InteractionParty

__all__ = [
    "GENERATOR",
    "NOW",
    "Staff",
    "full_plan",
    "patient_records",
    "records",
]

GENERATOR = 2
"""Bumped whenever the generated records change: a kept data set is then rebuilt."""

NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
"""The fixed "now" of the data set (a Monday)."""

NEW_YORK = ZoneInfo("America/New_York")
_ZONES = ("America/Chicago", "America/New_York", "America/Denver", "America/Los_Angeles")
_FAMILY = ("Garcia", "Smith", "Nguyen", "Johnson", "Okafor", "Kowalski", "Haddad", "Lee")
_GIVEN = ("Ana", "James", "Mai", "Robert", "Chidi", "Ewa", "Omar", "Grace")
_TASKS = (
    "Call to review medication list and refill dates",
    "Arrange transport to the cardiology appointment",
    "Send diabetes self-management education material",
    "Confirm food bank enrolment and pick-up day",
    "Follow up on home blood pressure readings",
    "Complete the housing assistance application with the patient",
)
_KINDS = tuple(InterventionKind)
_PRIORITIES = (TaskPriority.ROUTINE, TaskPriority.URGENT, TaskPriority.ASAP, TaskPriority.STAT)
_PRIORITY_WEIGHTS = (70, 20, 8, 2)
_TARGET_KINDS = tuple(ReferralTargetKind)
_MINUTES_30_DAYS = 30 * 24 * 60


class Staff:
    """The staff: 5 case managers supervising ``coordinators`` coordinators, 25 nurses and
    30 medical assistants. Patient ``n``'s care team is led by coordinator ``n % coordinators``.
    """

    def __init__(self, coordinators: int = 40) -> None:
        self.managers = tuple(StaffId(f"mgr-{n:02d}") for n in range(5))
        self.coordinators = tuple(StaffId(f"cc-{n:03d}") for n in range(coordinators))
        self.nurses = tuple(StaffId(f"rn-{n:02d}") for n in range(25))
        self.assistants = tuple(StaffId(f"ma-{n:02d}") for n in range(30))

    def members(self) -> list[StaffMember]:
        """Every staff member, as the store keeps them."""
        members = []
        for group, role in (
            (self.managers, CareTeamRole.CASE_MANAGER),
            (self.coordinators, CareTeamRole.CARE_COORDINATOR),
            (self.nurses, CareTeamRole.NURSE),
            (self.assistants, CareTeamRole.MEDICAL_ASSISTANT),
        ):
            for number, staff_id in enumerate(group):
                members.append(
                    StaffMember(
                        id=staff_id,
                        name=HumanName(family=_FAMILY[number % 8], given=(_GIVEN[number % 8],)),
                        roles=(role,),
                        time_zone=_ZONES[number % 4],
                        supervisor_id=(
                            None
                            if group is self.managers
                            else self.managers[number % len(self.managers)]
                        ),
                        telecom=(ContactPoint(ContactChannel.SMS, f"+1 555 02{number:02d}"),),
                        preferences=ContactPreferences(channels=(ContactChannel.SMS,)),
                    )
                )
        return members

    def team_of(self, number: int, rng: random.Random) -> tuple[StaffId, StaffId, StaffId]:
        """Patient ``number``'s coordinator, nurse and medical assistant."""
        coordinator = self.coordinators[number % len(self.coordinators)]
        return coordinator, rng.choice(self.nurses), rng.choice(self.assistants)


# -------------------------------------------------------------------- records
def _at(minutes_from_now: int) -> datetime:
    return NOW + timedelta(minutes=minutes_from_now)


def _intervention(
    rng: random.Random,
    plan_id: str,
    number: int,
    team: Sequence[StaffId],
    created: datetime,
    goal_ids: Sequence[GoalId],
) -> Intervention:
    due = _at(rng.randint(-_MINUTES_30_DAYS, _MINUTES_30_DAYS))
    assignee = team[0] if rng.random() < 0.5 else rng.choice(team[1:])
    kind, description = rng.choice(_KINDS), rng.choice(_TASKS)
    priority = rng.choices(_PRIORITIES, _PRIORITY_WEIGHTS)[0]
    goal_id = rng.choice(goal_ids)
    roll = rng.random()
    done = due - timedelta(hours=rng.randint(-48, 72))  # some work is done late
    if due < NOW:  # most past work is done; some is overdue
        if roll < 0.80:
            path: tuple[TaskStatus, ...] = (TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED)
        elif roll < 0.85:
            path = (TaskStatus.CANCELLED,)
        elif roll < 0.95:
            path = ()
        else:
            path = (TaskStatus.IN_PROGRESS,)
    elif roll < 0.85:
        path = ()
    elif roll < 0.95:
        path = (TaskStatus.IN_PROGRESS,)
    else:
        path = (TaskStatus.IN_PROGRESS, TaskStatus.ON_HOLD)
    # The history the task machine records, built directly (the same records as a
    # transition() per step, without a copy per step).
    at = min(max(done, created + timedelta(hours=1)), NOW - timedelta(hours=3))
    history = []
    status = TaskStatus.READY
    for step, to in enumerate(path):
        reason = "no longer needed" if to is TaskStatus.CANCELLED else None
        history.append(Transition(status, to, at + timedelta(hours=step), assignee, reason))
        status = to
    return Intervention(
        id=InterventionId(f"{plan_id}-i{number:02d}"),
        kind=kind,
        description=description,
        created_at=created,
        assignee_id=assignee,
        priority=priority,
        status=status,
        due=due,
        goal_ids=(goal_id,),
        history=tuple(history),
    )


def _goal(rng: random.Random, plan_id: str, number: int, author: StaffId) -> Goal:
    goal = Goal(
        id=GoalId(f"{plan_id}-g{number}"),
        description="Keep HbA1c below 7% and walk 30 minutes a day",
        priority=rng.choice(tuple(GoalPriority)),
        lifecycle_status=GoalLifecycleStatus.ACTIVE,
        targets=(
            Target(
                measure="HbA1c",
                quantity=Quantity(value=7.0, unit="%", comparator=Comparator.LT),
                due=(NOW + timedelta(days=rng.randint(-40, 120))).date(),
            ),
        ),
        addresses=(NeedId(f"{plan_id}-n{number}"),),
    )
    start = 7.4 + rng.random() * 2
    readings = [
        ProgressReading(
            measure="HbA1c",
            value=round(start - k * (0.2 + 0.5 * rng.random()), 1),
            unit="%",
            at=NOW - timedelta(days=100 - 30 * k, hours=rng.randint(0, 48)),
            recorded_by=author,
        )
        for k in range(rng.randint(2, 4))
    ]
    # The last reading through with_reading(): it derives the achievement status.
    goal = attrs.evolve(goal, readings=tuple(readings[:-1])).with_reading(readings[-1])
    return goal


def _plan(
    rng: random.Random, number: int, team: Sequence[StaffId], created: datetime, items: int
) -> CarePlan:
    plan_id = f"plan-{number:06d}"
    author = team[0]
    goals = tuple(_goal(rng, plan_id, n, author) for n in range(rng.randint(2, 3)))
    goal_ids = [g.id for g in goals]
    activated = created + timedelta(days=rng.randint(0, 6), hours=rng.randint(1, 8))
    plan = CarePlan(
        id=CarePlanId(plan_id),
        patient_id=PatientId(f"pat-{number:06d}"),
        author_id=author,
        created_at=created,
        period=Period(start=created),
        addresses=tuple(need for goal in goals for need in goal.addresses),
        goals=goals,
        interventions=tuple(
            _intervention(rng, plan_id, n, team, created, goal_ids) for n in range(items)
        ),
        review_cadence=Cadence.months(1, created.astimezone(NEW_YORK)),
        next_review_at=_at(rng.randint(-_MINUTES_30_DAYS, _MINUTES_30_DAYS)),
    )
    if rng.random() < 0.95:
        plan = plan.transition(CarePlanStatus.ACTIVE, by=author, at=min(activated, NOW))
        if rng.random() < 0.04:
            plan = plan.transition(CarePlanStatus.ON_HOLD, by=author, at=NOW - timedelta(days=2))
    return plan


def _review(rng: random.Random, number: int, plan: CarePlan, by: StaffId) -> Review:
    due = NOW - timedelta(days=rng.randint(1, 50))
    reviewed = due + timedelta(hours=rng.randint(-72, 96))
    return Review(
        id=ReviewId(f"rev-{number:06d}"),
        plan_id=plan.id,
        patient_id=plan.patient_id,
        reviewed_at=reviewed,
        reviewed_by=by,
        next_review_at=reviewed + timedelta(days=30),
        participants=(by,),
        patient_participated=rng.random() < 0.6,
        summary="Reviewed goals and open work with the patient.",
        due_at=due,
    )


def _referral(rng: random.Random, number: int, by: StaffId, plan: CarePlan) -> Referral:
    created = NOW - timedelta(days=rng.randint(2, 80), hours=rng.randint(0, 23))
    referral = Referral(
        id=ReferralId(f"ref-{number:06d}"),
        patient_id=plan.patient_id,
        requested_by=by,
        created_at=created,
        target_kind=rng.choice(_TARGET_KINDS),
        target_name="Community food bank",
        service="Weekly parcels",
        plan_id=plan.id,
    )
    sent = created + timedelta(hours=rng.randint(1, 30))
    referral = referral.transition("sent", by=by, at=min(sent, NOW))
    roll = rng.random()
    step = sent
    if roll < 0.8:
        for status in ("accepted", "scheduled", "completed"):
            step += timedelta(days=rng.randint(1, 6))
            if step >= NOW:
                return referral
            referral = referral.transition(status, by=by, at=step)
        step += timedelta(days=rng.randint(1, 8))
        if roll < 0.65 and step < NOW:
            referral = referral.record_result("Enrolled; first parcel collected", by=by, at=step)
    elif roll < 0.9:
        step += timedelta(days=rng.randint(1, 10))
        if step < NOW:
            referral = referral.transition("declined", by=by, at=step, reason="no capacity")
    return referral


def _note(
    number: int, k: int, pid: PatientId, author: StaffId, at: datetime, rng: random.Random
) -> Note:
    return Note(
        id=NoteId(f"note-{number:06d}-{k}"),
        patient_id=pid,
        at=at,
        author_id=author,
        channel=rng.choice((ContactChannel.PHONE, ContactChannel.SMS, ContactChannel.IN_PERSON)),
        direction=Direction.OUTBOUND,
        party=InteractionParty.PATIENT,
        summary="Called to check on medication refills and transport; patient doing well.",
    )


def patient_records(number: int, seed: int, staff: Staff) -> list[object]:
    """Every record of patient ``number`` (the patient first, then team, plan, notes, ...)."""
    rng = random.Random(f"{seed}:{number}")
    pid = PatientId(f"pat-{number:06d}")
    enrolled = NOW - timedelta(days=rng.randint(20, 720), hours=rng.randint(0, 23))
    team = staff.team_of(number, rng)
    patient = Patient(
        id=pid,
        name=HumanName(family=rng.choice(_FAMILY), given=(rng.choice(_GIVEN),)),
        birth_date=date(1930, 1, 1) + timedelta(days=rng.randint(0, 75 * 365)),
        time_zone=rng.choice(_ZONES),
        telecom=(ContactPoint(ContactChannel.SMS, f"+1 555 {number % 10_000:04d}"),),
        preferences=ContactPreferences(channels=(ContactChannel.SMS,)),
        enrolled_at=enrolled,
    )
    roles = (CareTeamRole.CARE_COORDINATOR, CareTeamRole.NURSE, CareTeamRole.MEDICAL_ASSISTANT)
    care_team = CareTeam(
        id=CareTeamId(f"team-{number:06d}"),
        patient_id=pid,
        lead_id=team[0],
        members=tuple(
            Membership(staff_id=s, role=r, period=Period(start=enrolled))
            for s, r in zip(team, roles, strict=True)
        ),
        status=CareTeamStatus.ACTIVE,
    )
    created = min(enrolled + timedelta(days=rng.randint(0, 10)), NOW - timedelta(hours=12))
    plan = _plan(rng, number, team, created, rng.randint(5, 15))
    first_contact = min(enrolled + timedelta(days=rng.randint(0, 12)), NOW - timedelta(hours=1))
    out: list[object] = [
        patient,
        care_team,
        plan,
        _note(number, 0, pid, team[0], first_contact, rng),
        _note(number, 1, pid, rng.choice(team), NOW - timedelta(hours=rng.randint(1, 900)), rng),
    ]
    if rng.random() < 0.7 and plan.status is not CarePlanStatus.DRAFT:
        out.append(_review(rng, number, plan, team[0]))
    if rng.random() < 0.5:
        out.append(_referral(rng, number, team[0], plan))
    return out


def records(
    patients: int, seed: int, staff: Staff, *, start: int = 0, chunk: int = 200
) -> Iterator[list[object]]:
    """Patients ``start`` to ``patients - 1`` in chunks of ``chunk`` patients' records."""
    batch: list[object] = []
    for number in range(start, patients):
        batch.extend(patient_records(number, seed, staff))
        if (number + 1) % chunk == 0:
            yield batch
            batch = []
    if batch:
        yield batch


def full_plan(staff: Staff) -> CarePlan:
    """A full care plan (~6.7 KB stored): 3 goals with 4 readings, 10 interventions with
    history, a monthly review cadence."""
    rng = random.Random(7)
    team = staff.team_of(1, rng)
    created = NOW - timedelta(days=88)
    goals = []
    for number in range(3):
        goal = _goal(rng, "plan-full", number, team[0])
        while len(goal.readings) < 4:
            goal = goal.with_reading(
                ProgressReading(
                    measure="HbA1c",
                    value=7.5,
                    unit="%",
                    at=NOW - timedelta(days=len(goal.readings)),
                    recorded_by=team[0],
                )
            )
        goals.append(goal)
    goal_ids = [g.id for g in goals]
    items = [_intervention(rng, "plan-full", n, team, created, goal_ids) for n in range(10)]
    return CarePlan(
        id=CarePlanId("plan-full"),
        patient_id=PatientId("pat-full"),
        author_id=team[0],
        created_at=created,
        status=CarePlanStatus.ACTIVE,
        period=Period(start=created),
        addresses=tuple(need for g in goals for need in g.addresses),
        goals=tuple(goals),
        interventions=tuple(items),
        review_cadence=Cadence.months(1, created.astimezone(NEW_YORK)),
        next_review_at=NOW + timedelta(days=5),
    )
