"""The staffing model and its pure rules: duty, rota gaps across DST and midnight, patterns,
slots, competency currency, protocol compliance."""

from __future__ import annotations

import importlib
import inspect
import itertools
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carecoord.errors import SlotTakenError
from carecoord.model import (
    AppointmentId,
    Cadence,
    CareTeamRole,
    InterventionKind,
    NaiveDatetimeError,
    PatientId,
    StaffId,
    ValidationError,
)
from carecoord.model.scheduling import (
    Schedule,
    ScheduleId,
    SessionPattern,
    Slot,
    SlotId,
    SlotStatus,
)
from carecoord.model.training import (
    Competency,
    CompetencyId,
    CompetencyRequirement,
    OnboardingChecklist,
    Protocol,
    ProtocolId,
    ProtocolStep,
    ProtocolStepId,
    StaffingPolicy,
    TrainingRecord,
    TrainingRecordId,
)
from carecoord.model.workforce import (
    LocationId,
    Rota,
    RotaId,
    Shift,
    ShiftId,
    ShiftKind,
    ShiftPattern,
    TimeOff,
    TimeOffId,
)
from carecoord.workforce import (
    Absence,
    CompetencyStatus,
    DutySpan,
    absence_of,
    competency_standing,
    compliance_rate,
    coverage_gaps,
    credential_of,
    is_on_duty,
    least_loaded,
    missing_competencies,
    on_duty,
    protocol_complete,
    shifts_from_pattern,
    slots_from_schedule,
    span_of,
)

NY = ZoneInfo("America/New_York")
ED = LocationId("ed")
NURSE = CareTeamRole.NURSE
HOUR = timedelta(hours=1)


def three_shift_rota(
    first: datetime, last: datetime, *, skip: frozenset[str] = frozenset()
) -> list[Shift]:
    """Day 07-15, evening 15-23 and night 23-07 (New York wall clock), every day."""
    patterns = [
        ShiftPattern(
            id=ShiftId(name),
            staff_id=StaffId(f"nurse-{name}"),
            role=NURSE,
            location_id=ED,
            cadence=Cadence.days(1, datetime(2026, 1, 1, begin, tzinfo=NY)),
            ends=time(end),
        )
        for name, begin, end in (("day", 7, 15), ("eve", 15, 23), ("night", 23, 7))
    ]
    shifts = [s for p in patterns for s in shifts_from_pattern(p, first, last)]
    return [s for s in shifts if s.id not in skip]


def spans(shifts: list[Shift]) -> list[DutySpan]:
    return [span for s in shifts if (span := span_of(s)) is not None]


# ---------------------------------------------------------------- DST and midnight


@pytest.mark.parametrize(
    ("night", "hours"),
    [
        (datetime(2026, 3, 7, 23, tzinfo=NY), 7),  # spring forward: 02:00 -> 03:00
        (datetime(2026, 10, 31, 23, tzinfo=NY), 9),  # fall back: 02:00 -> 01:00
        (datetime(2026, 6, 1, 23, tzinfo=NY), 8),
    ],
)
def test_night_shift_keeps_its_wall_times_across_dst(night: datetime, hours: int) -> None:
    shifts = three_shift_rota(night - 2 * HOUR, night + HOUR)
    (shift,) = [s for s in shifts if s.staff_id == "nurse-night"]
    assert shift.start == night
    assert shift.end.astimezone(NY).time() == time(7)
    assert shift.end.astimezone(NY).date() == night.date() + timedelta(days=1)
    assert shift.end.astimezone(UTC) - shift.start.astimezone(UTC) == timedelta(hours=hours)


@pytest.mark.parametrize(
    "week_start", [datetime(2026, 3, 5, 7, tzinfo=NY), datetime(2026, 10, 29, 7, tzinfo=NY)]
)
def test_a_three_shift_rota_has_no_gap_across_a_dst_change(week_start: datetime) -> None:
    end = week_start + timedelta(days=7)
    assert coverage_gaps(spans(three_shift_rota(week_start, end)), [], week_start, end) == []


def test_a_missing_night_over_spring_forward_is_one_gap_across_midnight() -> None:
    start, end = datetime(2026, 3, 6, 7, tzinfo=NY), datetime(2026, 3, 10, 7, tzinfo=NY)
    missing = ShiftId("night.20260308T0400Z")  # 2026-03-07 23:00 EST
    shifts = three_shift_rota(start, end, skip=frozenset({missing}))
    (gap,) = coverage_gaps(spans(shifts), [], start, end)
    assert gap.start.astimezone(NY) == datetime(2026, 3, 7, 23, tzinfo=NY)
    assert gap.end.astimezone(NY).replace(tzinfo=None) == datetime(2026, 3, 8, 7)
    assert gap.length == timedelta(hours=7)  # the clocks skipped an hour
    assert (gap.staffed, gap.needed) == (0, 1)


def test_a_missing_night_over_fall_back_is_nine_hours() -> None:
    start, end = datetime(2026, 10, 30, 7, tzinfo=NY), datetime(2026, 11, 3, 7, tzinfo=NY)
    shifts = three_shift_rota(start, end, skip=frozenset({ShiftId("night.20261101T0300Z")}))
    (gap,) = coverage_gaps(spans(shifts), [], start, end)
    assert gap.length == timedelta(hours=9)
    # Both 01:30s of the repeated hour fall in the gap: nobody is on duty at either.
    for fold in (0, 1):
        moment = datetime(2026, 11, 1, 1, 30, tzinfo=NY, fold=fold)
        assert on_duty(spans(shifts), [], moment) == []


def test_both_repeated_hours_are_covered_by_the_fall_back_night() -> None:
    start, end = datetime(2026, 10, 30, 7, tzinfo=NY), datetime(2026, 11, 3, 7, tzinfo=NY)
    duty = spans(three_shift_rota(start, end))
    for fold in (0, 1):
        moment = datetime(2026, 11, 1, 1, 30, tzinfo=NY, fold=fold)
        assert [s.staff_id for s in on_duty(duty, [], moment)] == ["nurse-night"]


def test_on_call_over_midnight() -> None:
    shift = Shift(
        id=ShiftId("oc-1"),
        staff_id=StaffId("manager"),
        role=CareTeamRole.CASE_MANAGER,
        location_id=ED,
        start=datetime(2026, 5, 4, 22, tzinfo=NY),
        end=datetime(2026, 5, 5, 6, tzinfo=NY),
        kind=ShiftKind.ON_CALL,
    )
    duty = spans([shift])
    for inside in ((2026, 5, 4, 23, 59), (2026, 5, 5, 0, 0), (2026, 5, 5, 5, 59)):
        assert on_duty(duty, [], datetime(*inside, tzinfo=NY), kind=ShiftKind.ON_CALL) == duty
    for outside in ((2026, 5, 4, 21, 59), (2026, 5, 5, 6, 0)):
        assert on_duty(duty, [], datetime(*outside, tzinfo=NY)) == []
    assert on_duty(duty, [], datetime(2026, 5, 5, 1, tzinfo=NY), kind=ShiftKind.ON_SITE) == []
    assert on_duty(duty, [], datetime(2026, 5, 5, 1, tzinfo=NY), role=NURSE) == []


def test_time_off_takes_someone_off_duty_and_opens_a_gap() -> None:
    start, end = datetime(2026, 6, 1, 7, tzinfo=NY), datetime(2026, 6, 2, 7, tzinfo=NY)
    duty = spans(three_shift_rota(start, end))
    sick = TimeOff(
        id=TimeOffId("to-1"),
        staff_id=StaffId("nurse-eve"),
        start=datetime(2026, 6, 1, 18, tzinfo=NY),
        end=datetime(2026, 6, 3, tzinfo=NY),
    )
    away = [a for a in [absence_of(sick)] if a is not None]
    assert is_on_duty(StaffId("nurse-eve"), duty, [], datetime(2026, 6, 1, 19, tzinfo=NY))
    assert not is_on_duty(StaffId("nurse-eve"), duty, away, datetime(2026, 6, 1, 19, tzinfo=NY))
    (gap,) = coverage_gaps(duty, away, start, end)
    assert (gap.start, gap.end) == (sick.start.astimezone(UTC), datetime(2026, 6, 1, 23, tzinfo=NY))
    assert (
        absence_of(
            TimeOff(
                id=sick.id, staff_id=sick.staff_id, start=sick.start, end=sick.end, cancelled=True
            )
        )
        is None
    )


def test_a_minimum_of_two_counts_heads() -> None:
    start = datetime(2026, 6, 1, 7, tzinfo=NY)
    end = start + timedelta(days=1)
    duty = spans(three_shift_rota(start, end))
    extra = DutySpan(
        StaffId("float"),
        ShiftId("f"),
        NURSE,
        ED,
        ShiftKind.ON_SITE,
        start + 2 * HOUR,
        start + 4 * HOUR,
    )
    gaps = coverage_gaps([*duty, extra], [], start, end, minimum=2)
    assert [(g.start, g.end, g.staffed) for g in gaps] == [
        (start.astimezone(UTC), (start + 2 * HOUR).astimezone(UTC), 1),
        ((start + 4 * HOUR).astimezone(UTC), end.astimezone(UTC), 1),
    ]
    with pytest.raises(ValidationError):
        coverage_gaps(duty, [], start, end, minimum=0)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 47), st.integers(1, 30)), max_size=6),
    st.lists(st.tuples(st.integers(0, 47), st.integers(1, 12)), max_size=2),
    st.integers(1, 2),
)
def test_gaps_are_exactly_the_short_staffed_hours(
    shifts: list[tuple[int, int]], leave: list[tuple[int, int]], minimum: int
) -> None:
    base = datetime(2026, 3, 7, tzinfo=NY)  # over the spring-forward night

    def at(hours: int) -> datetime:
        return (base.astimezone(UTC) + timedelta(hours=hours)).astimezone(NY)

    duty = [
        DutySpan(
            StaffId(f"s{i % 3}"),
            ShiftId(f"x{i}"),
            NURSE,
            ED,
            ShiftKind.ON_SITE,
            at(begin),
            at(begin + length),
        )
        for i, (begin, length) in enumerate(shifts)
    ]
    away = [Absence(StaffId("s0"), at(b), at(b + n)) for b, n in leave]
    gaps = coverage_gaps(duty, away, at(0), at(48), minimum=minimum)
    for hour in range(48):
        moment = at(hour)
        heads = len(on_duty(duty, away, moment))
        in_gap = any(g.start <= moment.astimezone(UTC) < g.end for g in gaps)
        assert in_gap == (heads < minimum), hour
    for first, second in itertools.pairwise(gaps):
        assert first.end < second.start  # merged: never adjacent


# ------------------------------------------------------------------- the model


def test_shift_rules() -> None:
    start = datetime(2026, 6, 1, 7, tzinfo=NY)
    base: dict[str, Any] = {
        "id": ShiftId("s"),
        "staff_id": StaffId("a"),
        "role": NURSE,
        "location_id": ED,
    }
    with pytest.raises(NaiveDatetimeError):
        Shift(**base, start=datetime(2026, 6, 1, 7), end=start + HOUR)
    with pytest.raises(ValidationError, match="after"):
        Shift(**base, start=start, end=start)
    with pytest.raises(ValidationError, match="longer"):
        Shift(**base, start=start, end=start + timedelta(hours=73))
    shift = Shift(**base, start=start, end=start + timedelta(hours=72))
    assert shift.covers(start) and not shift.cancelled().covers(start)
    assert span_of(shift.cancelled()) is None
    assert "nurse" in repr(shift)  # codes and ids stay visible
    with pytest.raises(ValidationError):
        TimeOff(
            id=TimeOffId("t"),
            staff_id=StaffId("a"),
            start=start,
            end=start + HOUR,
            covered_by=StaffId("a"),
        )
    with pytest.raises(ValidationError):
        Rota(id=RotaId("r"), owner_id=StaffId("lead"), role=NURSE, location_id=ED, minimum=0)
    with pytest.raises(ValidationError):
        ShiftPattern(
            id=ShiftId("p" * 47),
            staff_id=StaffId("a"),
            role=NURSE,
            location_id=ED,
            cadence=Cadence.days(1, start),
            ends=time(15),
        )


def test_slot_taken_error_is_a_conflict_naming_the_slot() -> None:
    error = SlotTakenError("sch.20260601T1300Z")
    assert "sch.20260601T1300Z" in str(error) and "not free" in str(error)
    assert error.kind == "Slot"


# ----------------------------------------------------------------------- slots


def clinic(**changes: object) -> Schedule:
    monday = datetime(2026, 3, 2, 9, tzinfo=NY)
    session = SessionPattern(cadence=Cadence.weeks(1, monday), ends=time(12), slot_minutes=20)
    values: dict[str, object] = {
        "id": ScheduleId("dr-a"),
        "provider_id": StaffId("dr-a"),
        "location_id": LocationId("clinic"),
        "sessions": (session,),
    }
    values.update(changes)
    return Schedule(**values)  # type: ignore[arg-type]


def test_slots_from_a_weekly_session_stay_at_nine_across_dst() -> None:
    slots = slots_from_schedule(
        clinic(), datetime(2026, 3, 1, tzinfo=NY), datetime(2026, 3, 15, tzinfo=NY)
    )
    assert len(slots) == 18  # two Mondays, 9 slots of 20 minutes each
    assert {s.start.astimezone(NY).time() for s in slots[::9]} == {time(9)}
    assert slots[9].id == SlotId("dr-a.20260309T1300Z")  # 09:00 EDT after the change
    assert slots[0].id == SlotId("dr-a.20260302T1400Z")  # 09:00 EST before it
    assert slots[8].end.astimezone(NY).time() == time(12)
    assert all(s.status is SlotStatus.FREE for s in slots)
    assert slots_from_schedule(clinic(active=False), slots[0].start, slots[-1].end) == []


def test_session_rules_and_until() -> None:
    monday = datetime(2026, 3, 2, 9, tzinfo=NY)
    with pytest.raises(ValidationError):
        SessionPattern(cadence=Cadence.weeks(1, monday), ends=time(9), slot_minutes=20)
    short = SessionPattern(
        cadence=Cadence.weeks(1, monday),
        ends=time(9, 50),
        slot_minutes=20,
        until=datetime(2026, 3, 9).date(),
    )
    slots = slots_from_schedule(clinic(sessions=(short,)), monday, monday + timedelta(days=30))
    assert len(slots) == 4  # two 20-minute slots per session (the last 10 minutes are none)


def test_slot_booking_rules() -> None:
    (slot, *_) = slots_from_schedule(
        clinic(), datetime(2026, 3, 2, tzinfo=NY), datetime(2026, 3, 3, tzinfo=NY)
    )
    busy = slot.booked(AppointmentId("ap-1"), PatientId("p-1"))
    assert busy.status is SlotStatus.BUSY and not busy.is_free
    with pytest.raises(ValidationError):
        busy.booked(AppointmentId("ap-2"), PatientId("p-2"))
    assert busy.freed() == slot
    with pytest.raises(ValidationError):
        Slot(
            id=slot.id,
            schedule_id=slot.schedule_id,
            provider_id=slot.provider_id,
            location_id=slot.location_id,
            start=slot.start,
            end=slot.end,
            status=SlotStatus.BUSY,
        )


# ---------------------------------------------------------------- competencies

T0 = datetime(2026, 1, 10, 9, tzinfo=NY)
PHLEB = Competency(id=CompetencyId("phlebotomy"), title="Phlebotomy", valid_for_days=365)
PRIVACY = Competency(id=CompetencyId("privacy"), title="Privacy training")
MA = StaffId("ma-1")


def trained(
    record: str, competency: Competency, at: datetime, *, signed: bool = True
) -> TrainingRecord:
    done = TrainingRecord(
        id=TrainingRecordId(record), staff_id=MA, competency_id=competency.id, completed_at=at
    )
    return done.signed_off(StaffId("lead"), at, competency) if signed else done


def test_competency_standing_through_its_life() -> None:
    record = trained("tr-1", PHLEB, T0)
    assert record.expires_at == T0 + timedelta(days=365)
    creds = [credential_of(record)]
    assert competency_standing(MA, PHLEB, [], T0).status is CompetencyStatus.MISSING
    assert competency_standing(MA, PHLEB, creds, T0 + timedelta(days=100)).status is (
        CompetencyStatus.CURRENT
    )
    expiring = competency_standing(MA, PHLEB, creds, T0 + timedelta(days=340))
    assert expiring.status is CompetencyStatus.EXPIRING and expiring.is_current
    assert expiring.record_id == "tr-1"
    expired = competency_standing(MA, PHLEB, creds, T0 + timedelta(days=365))
    assert expired.status is CompetencyStatus.EXPIRED and not expired.is_current
    renewed = [*creds, credential_of(trained("tr-2", PHLEB, T0 + timedelta(days=360)))]
    assert competency_standing(MA, PHLEB, renewed, T0 + timedelta(days=366)).record_id == "tr-2"
    waiting = [credential_of(trained("tr-3", PRIVACY, T0, signed=False))]
    assert competency_standing(MA, PRIVACY, waiting, T0).status is (
        CompetencyStatus.AWAITING_SIGN_OFF
    )
    assert missing_competencies(
        MA, [PHLEB.id, PRIVACY.id], renewed + waiting, T0 + timedelta(days=1)
    ) == (PRIVACY.id,)


def test_training_record_rules() -> None:
    with pytest.raises(ValidationError, match="own"):
        TrainingRecord(
            id=TrainingRecordId("x"),
            staff_id=MA,
            competency_id=PHLEB.id,
            completed_at=T0,
            signed_off_by=MA,
            signed_off_at=T0,
        )
    with pytest.raises(ValidationError):
        TrainingRecord(
            id=TrainingRecordId("x"),
            staff_id=MA,
            competency_id=PHLEB.id,
            completed_at=T0,
            signed_off_by=StaffId("lead"),
        )
    with pytest.raises(ValidationError, match="already"):
        trained("x", PHLEB, T0).signed_off(StaffId("lead"), T0, PHLEB)
    with pytest.raises(ValidationError):
        trained("x", PHLEB, T0, signed=False).signed_off(StaffId("lead"), T0, PRIVACY)
    assert trained("x", PRIVACY, T0).expires_at is None


def test_staffing_policy_rules() -> None:
    policy = StaffingPolicy(
        competencies=(PHLEB, PRIVACY),
        requirements=(
            CompetencyRequirement(
                kind=InterventionKind.CLINICAL_PROCEDURE, competency_ids=(PHLEB.id,)
            ),
        ),
        onboarding=(
            OnboardingChecklist(
                role=CareTeamRole.MEDICAL_ASSISTANT, competency_ids=(PHLEB.id, PRIVACY.id)
            ),
        ),
    )
    assert policy.required_for(InterventionKind.CLINICAL_PROCEDURE) == (PHLEB.id,)
    assert policy.required_for(InterventionKind.EDUCATION) == ()
    assert policy.checklist_for(CareTeamRole.MEDICAL_ASSISTANT) == (PHLEB.id, PRIVACY.id)
    assert policy.protocol_for(InterventionKind.EDUCATION) is None
    with pytest.raises(ValidationError, match="catalogue"):
        StaffingPolicy(requirements=policy.requirements)
    with pytest.raises(ValidationError, match="two"):
        StaffingPolicy(competencies=(PHLEB,), requirements=policy.requirements * 2)
    assert "Phlebotomy" not in repr(policy)


# ------------------------------------------------------------------ compliance


def test_protocol_completion_and_the_compliance_rate_by_hand() -> None:
    protocol = Protocol(
        id=ProtocolId("blood-draw"),
        kind=InterventionKind.CLINICAL_PROCEDURE,
        title="Venous blood draw",
        steps=(
            ProtocolStep(id=ProtocolStepId("identify"), title="Two identifiers"),
            ProtocolStep(id=ProtocolStepId("label"), title="Label at bedside"),
            ProtocolStep(id=ProtocolStepId("coffee"), title="Optional", required=False),
        ),
    )
    assert protocol_complete(protocol, [ProtocolStepId("identify"), ProtocolStepId("label")])
    assert not protocol_complete(protocol, [ProtocolStepId("identify"), ProtocolStepId("coffee")])
    with pytest.raises(ValidationError):
        protocol_complete(protocol, [ProtocolStepId("unknown")])
    start, end = datetime(2026, 4, 1, tzinfo=NY), datetime(2026, 5, 1, tzinfo=NY)
    completed = [
        ("i1", datetime(2026, 4, 2, 10, tzinfo=NY)),
        ("i2", datetime(2026, 4, 15, 10, tzinfo=NY)),
        ("i3", datetime(2026, 4, 30, 23, 59, tzinfo=NY)),
        ("i4", datetime(2026, 5, 1, tzinfo=NY)),  # the period's end is excluded
        ("i5", datetime(2026, 3, 31, 23, 59, tzinfo=NY)),  # before it
    ]
    rate = compliance_rate(MA, completed, ["i1", "i3", "i4", "i5"], start, end)
    # by hand: completed in April = i1, i2, i3 (3); of those complete = i1, i3 (2)
    assert (rate.numerator, rate.denominator, rate.rate) == (2, 3, 2 / 3)
    assert compliance_rate(None, [], [], start, end).rate is None


def test_least_loaded_orders_by_open_work_then_id() -> None:
    loads = {StaffId("b"): 2, StaffId("c"): 0}
    assert least_loaded([StaffId("b"), StaffId("a"), StaffId("c")], loads) == [
        (StaffId("a"), 0),
        (StaffId("c"), 0),
        (StaffId("b"), 2),
    ]


# ----------------------------------------------------------------- public names


@pytest.mark.parametrize(
    "name",
    [
        "carecoord.workforce",
        "carecoord.model.workforce",
        "carecoord.model.training",
        "carecoord.model.scheduling",
    ],
)
def test_module_all_is_explicit_unique_and_resolvable(name: str) -> None:
    module = importlib.import_module(name)
    names = module.__all__
    assert len(names) == len(set(names))
    for public in names:
        assert not public.startswith("_")
        value = getattr(module, public)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__doc__, public
            assert value.__module__.startswith(name), public


def test_pure_rules_import_only_the_model() -> None:
    from test_layers import PACKAGE, _imports

    files = [
        *sorted((PACKAGE / "workforce").glob("*.py")),
        *(PACKAGE / "model" / f"{name}.py" for name in ("workforce", "training", "scheduling")),
    ]
    for path in files:
        for target in _imports(path):
            assert target == "carecoord.model" or target.startswith(
                ("carecoord.model.", "carecoord.workforce")
            ), (path.name, target)
            if path.parent.name == "model":
                assert target.startswith("carecoord.model"), (path.name, target)
