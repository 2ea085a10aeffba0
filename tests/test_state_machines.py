"""Every legal and every illegal move of every state machine, through the entities.

The expected tables below are written out by hand from docs/state-machines.md
and the FHIR R4 value sets (shared reference), not read from the machines, so
a changed machine table makes these tests fail.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest

from carecoord import (
    Appointment,
    AppointmentId,
    AppointmentStatus,
    Cadence,
    CarePlan,
    CarePlanId,
    CarePlanStatus,
    CareTeam,
    CareTeamId,
    CareTeamRole,
    CareTeamStatus,
    Consent,
    ConsentId,
    ConsentStatus,
    ContactId,
    Goal,
    GoalId,
    GoalLifecycleStatus,
    Intervention,
    InterventionId,
    InterventionKind,
    InvalidTransitionError,
    Membership,
    NaiveDatetimeError,
    PatientId,
    Period,
    ReasonRequiredError,
    Referral,
    ReferralId,
    ReferralStatus,
    ReferralTargetKind,
    StaffId,
    TaskStatus,
    Transition,
    ValidationError,
)
from carecoord.errors import CareCoordError
from carecoord.model import (
    APPOINTMENT_MACHINE,
    CARE_PLAN_MACHINE,
    CARE_TEAM_MACHINE,
    CONSENT_MACHINE,
    GOAL_MACHINE,
    REFERRAL_MACHINE,
    TASK_MACHINE,
    StateMachine,
)

NY = ZoneInfo("America/New_York")
CREATED = datetime(2026, 1, 5, 9, 0, tzinfo=NY)
AT = datetime(2026, 2, 10, 14, 30, tzinfo=NY)
BY = StaffId("cc-1")
PATIENT = PatientId("p-1")
REASON = "Moved out of the service area"
EIE = "entered-in-error"

# ------------------------------------------------------------- expected tables
# Own moves per state; entered-in-error is added from every other state below.

TASK_MOVES: dict[str, set[str]] = {
    "draft": {"ready", "requested", "cancelled"},
    "requested": {"received", "accepted", "rejected", "cancelled"},
    "received": {"accepted", "rejected", "cancelled"},
    "accepted": {"in-progress", "cancelled"},
    "ready": {"in-progress", "cancelled"},
    "in-progress": {"on-hold", "completed", "failed"},
    "on-hold": {"in-progress"},
    "completed": set(),
    "failed": set(),
    "cancelled": set(),
    "rejected": set(),
    "entered-in-error": set(),
}
CARE_PLAN_MOVES: dict[str, set[str]] = {
    "draft": {"active", "revoked"},
    "active": {"on-hold", "completed", "revoked"},
    "on-hold": {"active", "revoked"},
    "unknown": {"active", "on-hold", "completed", "revoked"},
    "revoked": set(),
    "completed": set(),
    "entered-in-error": set(),
}
GOAL_MOVES: dict[str, set[str]] = {
    "proposed": {"planned", "accepted", "active", "rejected", "cancelled"},
    "planned": {"accepted", "active", "cancelled"},
    "accepted": {"active", "cancelled"},
    "active": {"on-hold", "completed", "cancelled"},
    "on-hold": {"active", "cancelled"},
    "completed": set(),
    "cancelled": set(),
    "rejected": set(),
    "entered-in-error": set(),
}
CARE_TEAM_MOVES: dict[str, set[str]] = {
    "proposed": {"active", "inactive"},
    "active": {"suspended", "inactive"},
    "suspended": {"active", "inactive"},
    "inactive": {"active"},
    "entered-in-error": set(),
}
REFERRAL_MOVES: dict[str, set[str]] = {
    "draft": {"sent", "cancelled"},
    "sent": {"received", "accepted", "declined", "cancelled", "failed"},
    "received": {"accepted", "declined", "cancelled"},
    "accepted": {"scheduled", "in-progress", "cancelled", "failed"},
    "scheduled": {"in-progress", "completed", "cancelled", "failed"},
    "in-progress": {"completed", "failed"},
    "completed": {"result-received"},
    "result-received": set(),
    "declined": set(),
    "cancelled": set(),
    "failed": set(),
    "entered-in-error": set(),
}
APPOINTMENT_MOVES: dict[str, set[str]] = {
    "proposed": {"pending", "booked", "waitlist", "cancelled"},
    "pending": {"booked", "waitlist", "cancelled"},
    "waitlist": {"booked", "cancelled"},
    "booked": {"checked-in", "arrived", "fulfilled", "noshow", "cancelled"},
    "checked-in": {"arrived", "fulfilled"},
    "arrived": {"fulfilled"},
    "fulfilled": set(),
    "cancelled": set(),
    "noshow": set(),
    "entered-in-error": set(),
}
CONSENT_MOVES: dict[str, set[str]] = {
    "draft": {"proposed", "active", "rejected"},
    "proposed": {"active", "rejected"},
    "active": {"inactive"},
    "rejected": set(),
    "inactive": set(),
    "entered-in-error": set(),
}


def _codes(text: str) -> set[str]:
    return set(text.split())


# FHIR R4 (4.0.1) value sets, copied from the shared reference.
FHIR_VALUE_SETS: dict[str, set[str]] = {
    "Task": _codes(
        "draft requested received accepted rejected ready cancelled in-progress on-hold "
        "failed completed entered-in-error"
    ),
    "CarePlan": _codes("draft active on-hold revoked completed entered-in-error unknown"),
    "Goal": _codes(
        "proposed planned accepted active on-hold completed cancelled entered-in-error rejected"
    ),
    "CareTeam": _codes("proposed active suspended inactive entered-in-error"),
    "Appointment": _codes(
        "proposed pending booked arrived fulfilled cancelled noshow entered-in-error "
        "checked-in waitlist"
    ),
    "Consent": _codes("draft proposed active rejected inactive entered-in-error"),
    # Referral has no FHIR value set of its own: the closed-loop states are ours.
    "Referral": _codes(
        "draft sent received accepted scheduled in-progress completed result-received "
        "declined cancelled failed entered-in-error"
    ),
}

NEEDS_REASON: dict[str, set[str]] = {
    "Task": {"cancelled", "failed", "rejected", EIE},
    "CarePlan": {"revoked", EIE},
    "Goal": {"cancelled", "rejected", EIE},
    "CareTeam": {"suspended", EIE},
    "Referral": {"declined", "cancelled", "failed", EIE},
    "Appointment": {"cancelled", EIE},
    "Consent": {EIE},
}


def _with_error_correction(moves: dict[str, set[str]]) -> dict[str, frozenset[str]]:
    return {s: frozenset(t | ({EIE} if s != EIE else set())) for s, t in moves.items()}


EXPECTED: dict[str, dict[str, frozenset[str]]] = {
    "Task": _with_error_correction(TASK_MOVES),
    "CarePlan": _with_error_correction(CARE_PLAN_MOVES),
    "Goal": _with_error_correction(GOAL_MOVES),
    "CareTeam": _with_error_correction(CARE_TEAM_MOVES),
    "Referral": _with_error_correction(REFERRAL_MOVES),
    "Appointment": _with_error_correction(APPOINTMENT_MOVES),
    "Consent": _with_error_correction(CONSENT_MOVES),
}

MACHINES: dict[str, StateMachine[Any]] = {
    "Task": TASK_MACHINE,
    "CarePlan": CARE_PLAN_MACHINE,
    "Goal": GOAL_MACHINE,
    "CareTeam": CARE_TEAM_MACHINE,
    "Referral": REFERRAL_MACHINE,
    "Appointment": APPOINTMENT_MACHINE,
    "Consent": CONSENT_MACHINE,
}

ENUMS: dict[str, type[StrEnum]] = {
    "Task": TaskStatus,
    "CarePlan": CarePlanStatus,
    "Goal": GoalLifecycleStatus,
    "CareTeam": CareTeamStatus,
    "Referral": ReferralStatus,
    "Appointment": AppointmentStatus,
    "Consent": ConsentStatus,
}

# ------------------------------------------------------------ entity builders


def _intervention(status: str) -> Intervention:
    return Intervention(
        id=InterventionId("t-1"),
        kind=InterventionKind.PAPERWORK,
        description="Disability form",
        created_at=CREATED,
        status=TaskStatus(status),
    )


def _care_plan(status: str) -> CarePlan:
    return CarePlan(
        id=CarePlanId("cp-1"),
        patient_id=PATIENT,
        author_id=BY,
        created_at=CREATED,
        status=CarePlanStatus(status),
    )


def _goal(status: str) -> Goal:
    return Goal(
        id=GoalId("g-1"),
        description="Walk every day",
        lifecycle_status=GoalLifecycleStatus(status),
    )


def _care_team(status: str) -> CareTeam:
    return CareTeam(
        id=CareTeamId("team-1"),
        patient_id=PATIENT,
        lead_id=BY,
        members=(Membership(BY, CareTeamRole.CARE_COORDINATOR, Period(start=CREATED)),),
        status=CareTeamStatus(status),
    )


def _referral(status: str) -> Referral:
    outcome = "Seen; plan sent back" if status == "result-received" else None
    return Referral(
        id=ReferralId("r-1"),
        patient_id=PATIENT,
        requested_by=BY,
        created_at=CREATED,
        target_kind=ReferralTargetKind.SPECIALIST,
        target_name="Cardiology clinic",
        service="Cardiology consult",
        status=ReferralStatus(status),
        outcome=outcome,
    )


def _appointment(status: str) -> Appointment:
    return Appointment(
        id=AppointmentId("a-1"),
        patient_id=PATIENT,
        start=datetime(2026, 3, 1, 10, tzinfo=NY),
        end=datetime(2026, 3, 1, 10, 30, tzinfo=NY),
        provider="Dr Who",
        location="Clinic room 4",
        status=AppointmentStatus(status),
    )


def _consent(status: str) -> Consent:
    return Consent(
        id=ConsentId("consent-1"),
        patient_id=PATIENT,
        recorded_at=CREATED,
        recorded_by=BY,
        contact_ids=(ContactId("c-1"),),
        status=ConsentStatus(status),
    )


BUILDERS: dict[str, Callable[[str], Any]] = {
    "Task": _intervention,
    "CarePlan": _care_plan,
    "Goal": _goal,
    "CareTeam": _care_team,
    "Referral": _referral,
    "Appointment": _appointment,
    "Consent": _consent,
}


def _status(entity: Any) -> StrEnum:
    value = entity.lifecycle_status if isinstance(entity, Goal) else entity.status
    assert isinstance(value, StrEnum)
    return value


def _move(entity: Any, to: str, *, at: datetime = AT, reason: str | None = None) -> Any:
    """Move ``entity`` through its own API (record_result for result-received)."""
    if isinstance(entity, Referral) and to == "result-received":
        return entity.record_result("Seen; plan sent back", by=BY, at=at)
    return entity.transition(to, by=BY, at=at, reason=reason)


LEGAL = [
    pytest.param(name, src, dst, id=f"{name}:{src}->{dst}")
    for name, table in EXPECTED.items()
    for src, targets in table.items()
    for dst in sorted(targets)
]
ILLEGAL = [
    pytest.param(name, src, dst, id=f"{name}:{src}->{dst}")
    for name, table in EXPECTED.items()
    for src, targets in table.items()
    for dst in sorted(set(table) - targets)
]
NEEDING_REASON = [
    pytest.param(name, src, dst, id=f"{name}:{src}->{dst}")
    for name, table in EXPECTED.items()
    for src, targets in table.items()
    for dst in sorted(targets & NEEDS_REASON[name])
]


# ------------------------------------------------------------------ the tables


def test_parametrization_covers_every_pair() -> None:
    for name, table in EXPECTED.items():
        n = len(table)
        legal = [p for p in LEGAL if p.values[0] == name]
        illegal = [p for p in ILLEGAL if p.values[0] == name]
        assert len(legal) + len(illegal) == n * n
    assert len(LEGAL) == 149
    assert len(ILLEGAL) == 430


@pytest.mark.parametrize("name", sorted(MACHINES))
def test_machine_states_are_the_value_set(name: str) -> None:
    machine = MACHINES[name]
    assert machine.name == name
    assert machine.states is ENUMS[name]
    assert {s.value for s in machine.states} == FHIR_VALUE_SETS[name]
    assert set(EXPECTED[name]) == FHIR_VALUE_SETS[name]


@pytest.mark.parametrize("name", sorted(MACHINES))
def test_machine_table_matches_documented_table(name: str) -> None:
    machine = MACHINES[name]
    for state in machine.states:
        assert {t.value for t in machine.targets(state)} == EXPECTED[name][state.value], state
    assert {s.value for s in machine.needs_reason} == NEEDS_REASON[name]


def test_task_machine_follows_the_fhir_task_lifecycle_drawing() -> None:
    """The edges drawn for FHIR Task in the shared reference, rule by rule."""
    edges = {(s.value, t.value) for s in TaskStatus for t in TASK_MACHINE.targets(s)}
    drawn = {
        ("draft", "ready"),
        ("draft", "requested"),
        ("requested", "received"),
        ("requested", "accepted"),
        ("requested", "rejected"),
        ("received", "accepted"),
        ("received", "rejected"),
        ("ready", "in-progress"),
        ("accepted", "in-progress"),
        ("in-progress", "on-hold"),
        ("on-hold", "in-progress"),
        ("in-progress", "completed"),
        ("in-progress", "failed"),
    }
    before_in_progress = {"draft", "requested", "received", "accepted", "ready"}
    drawn |= {(s, "cancelled") for s in before_in_progress}
    drawn |= {(s.value, EIE) for s in TaskStatus if s.value != EIE}
    assert edges == drawn
    for terminal in ("completed", "failed", "cancelled", "rejected", EIE):
        assert TASK_MACHINE.is_terminal(TaskStatus(terminal))
    for open_state in before_in_progress | {"in-progress", "on-hold"}:
        assert not TASK_MACHINE.is_terminal(TaskStatus(open_state))


@pytest.mark.parametrize("name", sorted(MACHINES))
def test_entered_in_error_reachable_from_everywhere_but_itself(name: str) -> None:
    machine = MACHINES[name]
    eie = machine.states(EIE)
    for state in machine.states:
        assert machine.can(state, eie) is (state is not eie)
    assert machine.targets(eie) == frozenset()


# ------------------------------------------------------- moves via the entities


@pytest.mark.parametrize(("name", "src", "dst"), LEGAL)
def test_every_legal_move_succeeds_and_is_recorded(name: str, src: str, dst: str) -> None:
    entity = BUILDERS[name](src)
    reason = REASON if dst in NEEDS_REASON[name] else None
    moved = _move(entity, dst, reason=reason)

    assert _status(moved).value == dst
    assert type(_status(moved)) is ENUMS[name]
    assert len(moved.history) == 1
    step = moved.history[-1]
    assert isinstance(step, Transition)
    assert (step.from_status.value, step.to_status.value) == (src, dst)
    assert step.by == BY
    assert step.at == AT
    assert step.reason == reason
    # The original is untouched (frozen entities, new copy returned).
    assert _status(entity).value == src
    assert entity.history == ()
    assert moved.id == entity.id


@pytest.mark.parametrize(("name", "src", "dst"), ILLEGAL)
def test_every_illegal_move_is_refused(name: str, src: str, dst: str) -> None:
    entity = BUILDERS[name](src)
    before = attrs.asdict(entity, recurse=False)
    with pytest.raises(InvalidTransitionError) as caught:
        _move(entity, dst, reason=REASON)
    err = caught.value
    assert (err.machine, err.from_state, err.to_state) == (name, src, dst)
    message = str(err)
    assert f"'{src}'" in message
    assert f"'{dst}'" in message
    assert name in message
    assert REASON not in message
    assert attrs.asdict(entity, recurse=False) == before


@pytest.mark.parametrize(("name", "src", "dst"), NEEDING_REASON)
@pytest.mark.parametrize("reason", [None, "", "   \t\n"])
def test_reason_required(name: str, src: str, dst: str, reason: str | None) -> None:
    entity = BUILDERS[name](src)
    with pytest.raises(ReasonRequiredError) as caught:
        entity.transition(dst, by=BY, at=AT, reason=reason)
    assert caught.value.field == "reason"
    assert dst in str(caught.value)
    assert _status(entity).value == src
    assert entity.history == ()


def test_reason_required_for_cancel_and_fail_everywhere() -> None:
    # Consent "rejected" is the patient's refusal and needs no reason (see table).
    for name, codes in NEEDS_REASON.items():
        values = {s.value for s in ENUMS[name]}
        for code in ("cancelled", "failed", "declined", "revoked", EIE):
            if code in values:
                assert code in codes, (name, code)


@pytest.mark.parametrize(("name", "src", "dst"), LEGAL)
def test_naive_at_is_refused(name: str, src: str, dst: str) -> None:
    entity = BUILDERS[name](src)
    with pytest.raises(NaiveDatetimeError):
        _move(entity, dst, at=datetime(2026, 2, 10, 14, 30), reason=REASON)
    assert _status(entity).value == src


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_unknown_target_is_a_validation_error(name: str) -> None:
    first = next(iter(EXPECTED[name]))
    entity = BUILDERS[name](first)
    with pytest.raises(ValidationError) as caught:
        entity.transition("no-such-state", by=BY, at=AT, reason=REASON)
    assert not isinstance(caught.value, InvalidTransitionError)
    assert "no-such-state" not in str(caught.value)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_by_must_be_a_staff_id(name: str) -> None:
    src = next(iter(EXPECTED[name]))
    dst = sorted(EXPECTED[name][src])[0]
    entity = BUILDERS[name](src)
    with pytest.raises(ValidationError):
        entity.transition(dst, by="cc-1", at=AT, reason=REASON)


def test_transition_accepts_enum_members_and_codes_alike() -> None:
    task = _intervention("ready")
    by_enum = task.transition(TaskStatus.IN_PROGRESS, by=BY, at=AT)
    by_code = task.transition("in-progress", by=BY, at=AT)
    assert by_enum == by_code
    assert by_enum.status is TaskStatus.IN_PROGRESS


def test_reason_is_kept_out_of_repr() -> None:
    moved = _intervention("ready").transition("cancelled", by=BY, at=AT, reason=REASON)
    assert REASON not in repr(moved)
    assert REASON not in repr(moved.history[0])
    assert moved.history[0].reason == REASON


def test_errors_are_carecoord_errors() -> None:
    assert issubclass(InvalidTransitionError, CareCoordError)
    assert issubclass(ReasonRequiredError, ValidationError)
    assert issubclass(NaiveDatetimeError, ValidationError)


# -------------------------------------------------------------- longer stories


def test_task_walk_records_every_step_in_order() -> None:
    t0 = datetime(2026, 1, 6, 8, tzinfo=UTC)
    task = _intervention("draft")
    for i, to in enumerate(["ready", "in-progress", "on-hold", "in-progress", "completed"]):
        task = task.transition(to, by=StaffId(f"s-{i}"), at=t0 + timedelta(hours=i))
    assert task.status is TaskStatus.COMPLETED
    assert [(h.from_status.value, h.to_status.value) for h in task.history] == [
        ("draft", "ready"),
        ("ready", "in-progress"),
        ("in-progress", "on-hold"),
        ("on-hold", "in-progress"),
        ("in-progress", "completed"),
    ]
    assert [h.by for h in task.history] == [StaffId(f"s-{i}") for i in range(5)]
    assert [h.at for h in task.history] == [t0 + timedelta(hours=i) for i in range(5)]
    assert not task.is_open
    with pytest.raises(InvalidTransitionError):
        task.transition("in-progress", by=BY, at=AT)
    # A record made by mistake can still be marked so, with a reason.
    assert task.transition(EIE, by=BY, at=AT, reason="Wrong patient").status.value == EIE


def test_referral_closes_only_through_record_result() -> None:
    referral = _referral("completed")
    assert not referral.is_closed
    with pytest.raises(ValidationError):
        referral.transition("result-received", by=BY, at=AT)
    closed = referral.record_result("Seen; plan sent back", by=BY, at=AT)
    assert closed.status is ReferralStatus.RESULT_RECEIVED
    assert closed.is_closed
    assert closed.outcome == "Seen; plan sent back"
    assert closed.last_changed_at == AT
    with pytest.raises(InvalidTransitionError):
        _referral("scheduled").record_result("Too early", by=BY, at=AT)


def test_referral_closed_states() -> None:
    closed = {s.value for s in ReferralStatus if _referral(s.value).is_closed}
    assert closed == {"result-received", "declined", "cancelled", "failed", EIE}


def test_activating_a_plan_with_a_cadence_schedules_the_first_review() -> None:
    cadence = Cadence.months(3, datetime(2026, 1, 31, 9, tzinfo=NY))
    plan = attrs.evolve(_care_plan("draft"), review_cadence=cadence)
    active = plan.transition("active", by=BY, at=datetime(2026, 2, 2, 12, tzinfo=NY))
    assert active.next_review_at == datetime(2026, 4, 30, 9, tzinfo=NY)
    held = active.transition("on-hold", by=BY, at=datetime(2026, 3, 1, tzinfo=NY))
    again = held.transition("active", by=BY, at=datetime(2026, 6, 1, tzinfo=NY))
    # Already scheduled: reactivation keeps the existing review date.
    assert again.next_review_at == datetime(2026, 4, 30, 9, tzinfo=NY)
    assert plan.next_review_at is None


def test_transition_record_validates_its_own_fields() -> None:
    with pytest.raises(NaiveDatetimeError):
        Transition(TaskStatus.READY, TaskStatus.IN_PROGRESS, datetime(2026, 1, 1), BY)
    with pytest.raises(ValidationError):
        Transition(TaskStatus.READY, TaskStatus.CANCELLED, AT, BY, reason="x" * 2001)
