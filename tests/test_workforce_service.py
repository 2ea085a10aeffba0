"""Staffing through the service: rotas and duty, access, competency and off-duty checks at
assignment, time off and the cover rule, suggestions, the staffing worklist, supervision,
protocol compliance by hand, announcements and audit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from carecoord import (
    AccessDeniedError,
    Cadence,
    CareCoordinator,
    CarePlan,
    CarePlanId,
    CareTeamRole,
    ConflictError,
    Intervention,
    InterventionId,
    InterventionKind,
    StaffId,
    TaskStatus,
)
from carecoord.errors import CompetencyMissingError, OffDutyError
from carecoord.events import AssignedOffDuty, TimeOffRecorded
from carecoord.model import Notification
from carecoord.model.training import (
    Competency,
    CompetencyId,
    CompetencyRequirement,
    OffDutyRule,
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
from carecoord.storage import MemoryStore, SQLiteStore, Store, UnitOfWork
from carecoord.testing import FixedClock, RecordingEventSink
from carecoord.workforce import CompetencyStatus, StaffingCategory
from world import BOSS, COORD, LEAD_MA, MA, NURSE, OUTSIDER, PATIENT, PLAN, T0, populate

CLINIC = LocationId("clinic")
MA_ROLE = CareTeamRole.MEDICAL_ASSISTANT
PHLEB = CompetencyId("phlebotomy")
PRIVACY = CompetencyId("privacy")
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
BLOOD_DRAW = Protocol(
    id=ProtocolId("blood-draw"),
    kind=InterventionKind.CLINICAL_PROCEDURE,
    title="Venous blood draw",
    steps=(
        ProtocolStep(id=ProtocolStepId("identify"), title="Two identifiers"),
        ProtocolStep(id=ProtocolStepId("label"), title="Label at the chair"),
        ProtocolStep(id=ProtocolStepId("debrief"), title="Optional debrief", required=False),
    ),
)


def policy(**changes: Any) -> StaffingPolicy:
    base = StaffingPolicy(
        competencies=(
            Competency(id=PHLEB, title="Phlebotomy", valid_for_days=365, warn_days=30),
            Competency(id=PRIVACY, title="Privacy training"),
        ),
        requirements=(
            CompetencyRequirement(
                kind=InterventionKind.CLINICAL_PROCEDURE, competency_ids=(PHLEB,)
            ),
        ),
        onboarding=(OnboardingChecklist(role=MA_ROLE, competency_ids=(PHLEB, PRIVACY)),),
        protocols=(BLOOD_DRAW,),
    )
    return attrs.evolve(base, **changes)


@attrs.define
class Setup:
    service: CareCoordinator
    clock: FixedClock
    events: RecordingEventSink
    store: Store


@pytest.fixture
def world() -> Setup:
    clock = FixedClock(T0)
    events = RecordingEventSink()
    store = MemoryStore()
    service = CareCoordinator(store=store, clock=clock, event_handlers=[events])
    populate(service, clock)
    return Setup(service, clock, events, store)


def ma_days(service: CareCoordinator, days: int = 3, *, actor: StaffId = LEAD_MA) -> list[Shift]:
    pattern = ShiftPattern(
        id=ShiftId("ma-day"),
        staff_id=MA,
        role=MA_ROLE,
        location_id=CLINIC,
        cadence=Cadence.days(1, T0.replace(hour=8)),
        ends=time(16),
    )
    return service.schedule_shifts(pattern, T0, T0 + days * DAY, actor=actor)


def task(
    tid: str, kind: InterventionKind, due: datetime | None, assignee: StaffId | None = None
) -> Intervention:
    return Intervention(
        id=InterventionId(tid),
        kind=kind,
        description="work",
        created_at=T0,
        assignee_id=assignee,
        due=due,
    )


def assignee_of(service: CareCoordinator, tid: str) -> StaffId | None:
    return service.care_plan(PLAN, actor=COORD).intervention(InterventionId(tid)).assignee_id


# -------------------------------------------------------------------- duty


@pytest.fixture(params=["memory", "sqlite"])
def stored(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CareCoordinator]:
    store: Store = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "s.db")
    clock = FixedClock(T0)
    service = CareCoordinator(store=store, clock=clock)
    populate(service, clock)
    yield service
    store.close()


def test_schedule_on_duty_and_gaps_from_the_index(stored: CareCoordinator) -> None:
    made = ma_days(stored)
    assert [s.start for s in made] == [T0.replace(hour=8) + n * DAY for n in (1, 2, 3)]
    assert ma_days(stored) == []  # the same window again adds nothing
    on_call = Shift(
        id=ShiftId("nurse-night"),
        staff_id=NURSE,
        role=CareTeamRole.NURSE,
        location_id=CLINIC,
        start=T0 + DAY + 8 * HOUR,  # 20:00 to 06:00 over midnight
        end=T0 + 2 * DAY - 6 * HOUR,
        kind=ShiftKind.ON_CALL,
    )
    stored.record_shifts([on_call], actor=COORD)
    morning = T0 + DAY - 2 * HOUR  # 10:00 the next day
    assert [s.staff_id for s in stored.on_duty(actor=OUTSIDER, at=morning)] == [MA]
    midnight = T0.replace(hour=0) + 2 * DAY
    duty = stored.on_duty(actor=MA, at=midnight, location_id=CLINIC)
    assert [(s.staff_id, s.kind) for s in duty] == [(NURSE, ShiftKind.ON_CALL)]
    assert stored.on_duty(actor=MA, at=midnight, kind="on-site") == []
    assert stored.on_duty(actor=MA, at=morning, role="nurse", location_id=CLINIC) == []
    rota = Rota(id=RotaId("ma-rota"), owner_id=LEAD_MA, role=MA_ROLE, location_id=CLINIC)
    stored.save_rota(rota, actor=COORD)
    gaps = stored.rota_gaps(rota.id, T0 + DAY, T0 + 2 * DAY, actor=MA)
    # 12:00 day 1 .. 12:00 day 2; the MA works 08:00-16:00 (the nurse's on-call night
    # is another role and kind): one gap, 16:00 to 08:00 over midnight
    assert [(g.start.hour, g.end.hour) for g in gaps] == [(16, 8)]
    assert (gaps[0].staffed, gaps[0].needed) == (0, 1)
    stored.cancel_shift(made[0].id, actor=LEAD_MA)
    assert stored.on_duty(actor=MA, at=morning) == []
    assert [s.id for s in stored.shifts_of(MA, T0, T0 + 5 * DAY, actor=NURSE)] == [
        s.id for s in made
    ]


def test_only_leads_supervisors_and_rota_owners_edit_a_rota(world: Setup) -> None:
    service = world.service
    with pytest.raises(AccessDeniedError):
        ma_days(service, actor=NURSE)  # a colleague, not above the MA
    with pytest.raises(AccessDeniedError):
        service.save_rota(
            Rota(id=RotaId("r"), owner_id=MA, role=MA_ROLE, location_id=CLINIC), actor=MA
        )
    assert ma_days(service, actor=COORD)  # above the MA on the reporting line
    rota = Rota(id=RotaId("ma-rota"), owner_id=NURSE, role=MA_ROLE, location_id=CLINIC)
    service.save_rota(rota, actor=BOSS)
    shift = Shift(
        id=ShiftId("m1"),
        staff_id=MA,
        role=MA_ROLE,
        location_id=CLINIC,
        start=T0 + DAY,
        end=T0 + DAY + 8 * HOUR,
        rota_id=rota.id,
    )
    service.record_shifts([shift], actor=NURSE)  # the rota's owner, not the MA's lead
    with pytest.raises(AccessDeniedError):
        service.record_shifts([attrs.evolve(shift, rota_id=None)], actor=NURSE)
    with pytest.raises(ValueError, match="rota"):
        service.record_shifts([attrs.evolve(shift, kind=ShiftKind.ON_CALL)], actor=NURSE)
    wrong_role = attrs.evolve(shift, id=ShiftId("m2"), role=CareTeamRole.NURSE, rota_id=None)
    with pytest.raises(ValueError, match="role"):
        service.record_shifts([wrong_role], actor=COORD)
    trail = service.audit_trail(actor=BOSS, actor_id=NURSE)
    outcomes = [(e.operation, e.outcome.value) for e in trail if "shifts" in e.operation]
    assert outcomes[:2] == [("schedule_shifts", "4"), ("record_shifts", "0")]


# ----------------------------------------------------------- competencies


def test_competency_is_checked_at_assignment(world: Setup) -> None:
    service, clock = world.service, world.clock
    service.set_staffing_policy(policy(), actor=BOSS)
    draw = task("draw", InterventionKind.CLINICAL_PROCEDURE, T0 + 2 * HOUR)
    service.add_intervention(PLAN, draw, actor=COORD)
    with pytest.raises(CompetencyMissingError) as info:
        service.assign_intervention(PLAN, draw.id, MA, actor=COORD)
    assert info.value.competency_id == "phlebotomy" and info.value.field == "assignee_id"
    with pytest.raises(CompetencyMissingError):  # adding it assigned is checked the same way
        service.add_intervention(PLAN, task("d2", draw.kind, None, MA), actor=COORD)
    plan = CarePlan(
        id=CarePlanId("plan-2"),
        patient_id=PATIENT,
        author_id=COORD,
        created_at=T0,
        interventions=(task("d3", draw.kind, None, MA),),
    )
    with pytest.raises(CompetencyMissingError):  # and so is a new plan's assigned work
        service.create_care_plan(plan, actor=COORD)
    record = TrainingRecord(
        id=TrainingRecordId("tr-1"), staff_id=MA, competency_id=PHLEB, completed_at=T0 - DAY
    )
    service.record_training(record, actor=MA)  # the trainee records it
    with pytest.raises(CompetencyMissingError):  # not signed off yet
        service.assign_intervention(PLAN, draw.id, MA, actor=COORD)
    with pytest.raises(AccessDeniedError):
        service.sign_off_training(record.id, actor=MA)
    with pytest.raises(AccessDeniedError):
        service.sign_off_training(record.id, actor=NURSE)
    signed = service.sign_off_training(record.id, actor=LEAD_MA)
    assert signed.expires_at == record.completed_at + timedelta(days=365)
    service.assign_intervention(PLAN, draw.id, MA, actor=COORD)
    assert assignee_of(service, "draw") == MA
    education = task("teach", InterventionKind.EDUCATION, None)
    service.add_intervention(PLAN, education, actor=COORD)
    service.assign_intervention(PLAN, education.id, NURSE, actor=COORD)  # needs nothing
    late = task("late", draw.kind, signed.expires_at + DAY)  # due after it expires
    service.add_intervention(PLAN, late, actor=COORD)
    with pytest.raises(CompetencyMissingError):
        service.assign_intervention(PLAN, late.id, MA, actor=COORD)
    clock.set(signed.expires_at)
    standing = {s.competency_id: s.status for s in service.competencies_of(MA, actor=LEAD_MA)}
    assert standing == {PHLEB: CompetencyStatus.EXPIRED, PRIVACY: CompetencyStatus.MISSING}
    with pytest.raises(AccessDeniedError):
        service.competencies_of(MA, actor=NURSE)


def test_the_staffing_policy_is_for_administrators_and_versioned(world: Setup) -> None:
    service = world.service
    with pytest.raises(AccessDeniedError):
        service.set_staffing_policy(policy(), actor=LEAD_MA)  # manage-staff, not an admin
    first = service.set_staffing_policy(policy(), actor=COORD)
    assert first.revision == 1
    read = service.staffing_policy(actor=MA)
    assert read.revision == 1 and read == first
    second = service.set_staffing_policy(attrs.evolve(read, off_duty=OffDutyRule.WARN), actor=BOSS)
    with pytest.raises(ConflictError):
        service.set_staffing_policy(read, actor=BOSS)
    assert service.staffing_policy(actor=MA).off_duty is OffDutyRule.WARN == second.off_duty


# ---------------------------------------------------------------- off duty


def test_off_duty_assignment_is_refused_warned_or_allowed(world: Setup) -> None:
    service, events = world.service, world.events
    ma_days(service)
    on_shift = T0 + DAY - 2 * HOUR  # 10:00 the next day
    off_shift = T0 + DAY + 8 * HOUR  # 20:00 the next day
    for tid, due in (("on", on_shift), ("off", off_shift), ("off2", off_shift)):
        service.add_intervention(PLAN, task(tid, InterventionKind.EDUCATION, due), actor=COORD)
    service.assign_intervention(PLAN, InterventionId("off"), MA, actor=COORD)  # no policy: allowed
    service.set_staffing_policy(policy(off_duty=OffDutyRule.REFUSE), actor=BOSS)
    with pytest.raises(OffDutyError):
        service.assign_intervention(PLAN, InterventionId("off2"), MA, actor=COORD)
    service.assign_intervention(PLAN, InterventionId("on"), MA, actor=COORD)
    away = TimeOff(id=TimeOffId("sick"), staff_id=MA, start=on_shift - HOUR, end=on_shift + HOUR)
    service.record_time_off(away, actor=LEAD_MA)
    service.add_intervention(PLAN, task("on2", InterventionKind.EDUCATION, on_shift), actor=COORD)
    with pytest.raises(OffDutyError):  # on a shift, but on time off then
        service.assign_intervention(PLAN, InterventionId("on2"), MA, actor=COORD)
    current = service.staffing_policy(actor=BOSS)
    service.set_staffing_policy(attrs.evolve(current, off_duty=OffDutyRule.WARN), actor=BOSS)
    service.assign_intervention(PLAN, InterventionId("off2"), MA, actor=COORD)
    assert assignee_of(service, "off2") == MA
    (warning,) = [e for e in events.events if isinstance(e, AssignedOffDuty)]
    assert (warning.assignee_id, warning.intervention_id, warning.due_at) == (MA, "off2", off_shift)
    with UnitOfWork(world.store) as uow:
        notes = [n for n in uow.all(Notification) if n.event == "AssignedOffDuty"]
    assert [n.recipient_id for n in notes] == [LEAD_MA]  # the MA's supervisor


# ----------------------------------------------------------------- time off


def test_time_off_lists_open_work_and_the_cover_rule_reassigns_it(world: Setup) -> None:
    service, events = world.service, world.events
    service.set_staffing_policy(policy(reassign_to_cover=True), actor=BOSS)
    start, end = T0 + DAY, T0 + 3 * DAY
    for tid, kind, due in (
        ("in-1", InterventionKind.EDUCATION, start + HOUR),
        ("in-2", InterventionKind.CLINICAL_PROCEDURE, end - HOUR),
        ("out", InterventionKind.EDUCATION, end + HOUR),
        ("nodue", InterventionKind.EDUCATION, None),
    ):
        service.add_intervention(PLAN, task(tid, kind, due), actor=COORD)
        if kind is InterventionKind.CLINICAL_PROCEDURE:
            service.record_training(
                TrainingRecord(
                    id=TrainingRecordId("tr-ma"), staff_id=MA, competency_id=PHLEB, completed_at=T0
                ),
                actor=LEAD_MA,
            )
            service.sign_off_training(TrainingRecordId("tr-ma"), actor=LEAD_MA)
        service.assign_intervention(PLAN, InterventionId(tid), MA, actor=COORD)
    away = TimeOff(id=TimeOffId("leave"), staff_id=MA, start=start, end=end, covered_by=NURSE)
    with pytest.raises(AccessDeniedError):
        service.record_time_off(away, actor=NURSE)
    report = service.record_time_off(away, actor=LEAD_MA)
    assert sorted(i.intervention_id for i in report.open_items) == ["in-1", "in-2"]
    assert report.hidden == 0
    # The nurse covers the education; the blood draw needs phlebotomy, which she lacks.
    assert report.reassigned == ("in-1",)
    assert report.kept == (("in-2", "competency"),)
    assert [assignee_of(service, t) for t in ("in-1", "in-2", "out", "nodue")] == [
        NURSE,
        MA,
        MA,
        MA,
    ]
    (recorded,) = [e for e in events.events if isinstance(e, TimeOffRecorded)]
    assert (recorded.owner_id, recorded.open_items, recorded.covered_by) == (MA, 2, NURSE)
    trail = service.audit_trail(actor=BOSS, actor_id=LEAD_MA)
    covers = [e for e in trail if e.operation == "reassign_for_cover"]
    assert len(covers) == 2 and {e.patient_id for e in covers} == {"p-1"}
    assert [t.id for t in service.time_off_of(MA, T0, end, actor=MA)] == ["leave"]
    cancelled = service.cancel_time_off(away.id, actor=COORD)
    assert cancelled.cancelled


def test_without_the_rule_time_off_only_lists(world: Setup) -> None:
    service = world.service
    service.add_intervention(PLAN, task("x", InterventionKind.EDUCATION, T0 + DAY, MA), actor=COORD)
    away = TimeOff(id=TimeOffId("l"), staff_id=MA, start=T0, end=T0 + 2 * DAY, covered_by=NURSE)
    report = service.record_time_off(away, actor=OUTSIDER)  # manage-staff, not on the team
    assert (report.open_items, report.hidden, report.reassigned) == ((), 1, ())
    assert assignee_of(service, "x") == MA


# -------------------------------------------------------------- suggestions


def test_suggestions_are_the_least_loaded_qualified_members_on_duty(world: Setup) -> None:
    service = world.service
    service.set_staffing_policy(policy(), actor=BOSS)
    moment = T0 + DAY - 2 * HOUR
    shifts = [
        Shift(
            id=ShiftId(f"s-{who}"),
            staff_id=who,
            role=role,
            location_id=CLINIC,
            start=moment - 2 * HOUR,
            end=moment + 6 * HOUR,
        )
        for who, role in (
            (MA, MA_ROLE),
            (LEAD_MA, CareTeamRole.LEAD_MEDICAL_ASSISTANT),
            (NURSE, CareTeamRole.NURSE),
        )
    ]
    service.record_shifts(shifts, actor=COORD)
    for tid in ("a", "b"):
        service.add_intervention(PLAN, task(tid, InterventionKind.EDUCATION, None, MA), actor=COORD)
    service.add_intervention(PLAN, task("c", InterventionKind.EDUCATION, None, NURSE), actor=COORD)
    found = service.suggest_assignees("education", actor=MA, at=moment)
    assert [(s.staff_id, s.open_items) for s in found] == [(LEAD_MA, 0), (NURSE, 1), (MA, 2)]
    assert [
        s.staff_id
        for s in service.suggest_assignees("education", actor=MA, at=moment, role=MA_ROLE)
    ] == [MA]
    for who in (MA, NURSE):
        tid = TrainingRecordId(f"tr-{who}")
        service.record_training(
            TrainingRecord(id=tid, staff_id=who, competency_id=PHLEB, completed_at=T0), actor=COORD
        )
        service.sign_off_training(tid, actor=COORD)
    qualified = service.suggest_assignees("clinical-procedure", actor=MA, at=moment)
    assert [s.staff_id for s in qualified] == [NURSE, MA]
    away = TimeOff(id=TimeOffId("t"), staff_id=NURSE, start=moment - HOUR, end=moment + HOUR)
    service.record_time_off(away, actor=COORD)
    assert [
        s.staff_id for s in service.suggest_assignees("clinical-procedure", actor=MA, at=moment)
    ] == [MA]
    assert service.suggest_assignees("education", actor=MA, at=moment + 7 * HOUR) == []


# -------------------------------------------------------- worklist, supervision


def test_the_staffing_worklist_holds_gaps_and_competencies(world: Setup) -> None:
    service, clock = world.service, world.clock
    service.set_staffing_policy(policy(), actor=BOSS)
    ma_days(service, days=2)
    rota = Rota(id=RotaId("ma-rota"), owner_id=LEAD_MA, role=MA_ROLE, location_id=CLINIC)
    service.save_rota(rota, actor=COORD)
    record = TrainingRecord(
        id=TrainingRecordId("tr"), staff_id=MA, competency_id=PHLEB, completed_at=T0 - 350 * DAY
    )
    service.record_training(record, actor=LEAD_MA)
    clock.set(T0 - 349 * DAY)
    service.sign_off_training(record.id, actor=LEAD_MA)
    clock.set(T0)
    work = service.staffing_worklist(LEAD_MA, actor=LEAD_MA, until=T0 + 2 * DAY)
    gaps = work.of(StaffingCategory.ROTA_GAP)
    assert [(g.start and g.start.hour, g.end and g.end.hour) for g in gaps] == [(12, 8), (16, 8)]
    assert all(g.rota_id == rota.id and g.needed == 1 for g in gaps)
    (expiring,) = work.of("competency-expiring")
    assert (expiring.staff_id, expiring.competency_id) == (MA, PHLEB)
    assert expiring.end == record.completed_at + 365 * DAY
    assert [(i.staff_id, i.competency_id) for i in work.of("onboarding")] == [(MA, PRIVACY)]
    assert service.staffing_worklist(LEAD_MA, actor=COORD).items  # a supervisor of the lead
    with pytest.raises(AccessDeniedError):
        service.staffing_worklist(LEAD_MA, actor=NURSE)
    (row,) = service.supervision(LEAD_MA, actor=LEAD_MA)
    assert (row.staff_id, row.caseload, row.onboarding_missing) == (MA, 1, (PRIVACY,))
    assert not row.onboarded


def test_supervision_counts_caseload_open_and_overdue_work(world: Setup) -> None:
    service = world.service
    for tid, due in (("late", T0 - HOUR), ("soon", T0 + HOUR), ("none", None)):
        service.add_intervention(PLAN, task(tid, InterventionKind.EDUCATION, due, MA), actor=COORD)
    service.add_intervention(
        PLAN, task("n", InterventionKind.EDUCATION, T0 - DAY, NURSE), actor=COORD
    )
    rows = {r.staff_id: r for r in service.supervision(COORD, actor=BOSS)}
    assert set(rows) == {LEAD_MA, MA, NURSE}
    assert (rows[MA].caseload, rows[MA].open_items, rows[MA].overdue_items) == (1, 3, 1)
    assert (rows[NURSE].open_items, rows[NURSE].overdue_items) == (1, 1)
    assert rows[LEAD_MA].open_items == 0
    assert service.supervision(MA, actor=MA) == []


# ----------------------------------------------------------------- compliance


def test_the_compliance_metric_computed_by_hand(world: Setup) -> None:
    service, clock = world.service, world.clock
    service.set_staffing_policy(policy(), actor=BOSS)
    tid = TrainingRecordId("tr")
    service.record_training(
        TrainingRecord(id=tid, staff_id=MA, competency_id=PHLEB, completed_at=T0 - DAY), actor=MA
    )
    service.sign_off_training(tid, actor=LEAD_MA)
    for name in ("d1", "d2", "d3", "d4", "d5"):
        service.add_intervention(
            PLAN, task(name, InterventionKind.CLINICAL_PROCEDURE, None, MA), actor=COORD
        )
    service.add_intervention(PLAN, task("e", InterventionKind.EDUCATION, None, MA), actor=COORD)
    everything = [ProtocolStepId("identify"), ProtocolStepId("label")]
    clock.set(T0 + HOUR)
    done = service.complete_with_protocol(PLAN, InterventionId("d1"), everything, actor=MA)
    assert done.complete and done.staff_id == MA
    half = service.complete_with_protocol(
        PLAN, InterventionId("d2"), [ProtocolStepId("identify")], actor=MA
    )
    assert not half.complete
    for name in ("d3", "e"):
        for status in (TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED):
            service.set_intervention_status(PLAN, InterventionId(name), status, actor=MA)
    with pytest.raises(ValueError, match="protocol"):  # education has no protocol
        service.complete_with_protocol(PLAN, InterventionId("e"), [], actor=MA)
    clock.set(T0 + 3 * DAY)  # after the period
    service.complete_with_protocol(PLAN, InterventionId("d4"), everything, actor=MA)
    assert service.care_plan(PLAN, actor=COORD).intervention(InterventionId("d1")).status is (
        TaskStatus.COMPLETED
    )
    report = service.protocol_compliance(LEAD_MA, T0, T0 + 2 * DAY, actor=COORD)
    # By hand, MA in [T0, T0 + 2 days): blood draws completed d1, d2, d3 (3; d4 is after the
    # period, d5 is open, the education has no protocol); checklists complete: d1 (1).
    by_member = {m.staff_id: (m.numerator, m.denominator) for m in report.members}
    assert by_member == {LEAD_MA: (0, 0), MA: (1, 3)}
    assert (report.team.numerator, report.team.denominator) == (1, 3)
    assert report.team.rate == pytest.approx(1 / 3)
    assert (report.start, report.end) == (T0, T0 + 2 * DAY)
    whole = service.protocol_compliance(LEAD_MA, T0, T0 + 4 * DAY, actor=LEAD_MA)
    assert (whole.team.numerator, whole.team.denominator) == (2, 4)
    with pytest.raises(AccessDeniedError):
        service.protocol_compliance(LEAD_MA, T0, T0 + DAY, actor=NURSE)


# ------------------------------------------------------------- announcements


def test_shift_reminders_and_expiring_competencies_are_announced_once(world: Setup) -> None:
    service, clock = world.service, world.clock
    service.set_staffing_policy(policy(), actor=BOSS)
    ma_days(service, days=1)  # 08:00-16:00 tomorrow
    tid = TrainingRecordId("tr")
    service.record_training(
        TrainingRecord(id=tid, staff_id=MA, competency_id=PHLEB, completed_at=T0 - 340 * DAY),
        actor=LEAD_MA,
    )
    service.sign_off_training(tid, actor=LEAD_MA)
    report = service.announce_staffing(remind_before=timedelta(hours=24))
    assert (report.shift_reminders, report.competencies_expiring, report.total) == (1, 1, 2)
    assert service.announce_staffing(remind_before=timedelta(hours=24)).total == 0
    with UnitOfWork(world.store) as uow:
        notes = {(n.event, n.recipient_id) for n in uow.all(Notification)}
    assert {
        ("ShiftReminder", MA),
        ("CompetencyExpiring", MA),
        ("CompetencyExpiring", LEAD_MA),
    } <= notes
    clock.set(T0 + 30 * DAY)
    later = service.announce_staffing()
    assert later.competencies_expired == 1
    entries = [e.operation for e in service.audit_trail(actor=BOSS, actor_id=StaffId("system"))]
    assert entries.count("announce_staffing") == 3
