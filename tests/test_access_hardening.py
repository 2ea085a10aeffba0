"""Access-control hardening: staff administration rights, no existence oracle, bounded
break-glass with review, no birth dates in the future."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import attrs
import pytest

from carecoord import (
    AccessDeniedError,
    BarrierId,
    CarePlanId,
    CareTeamId,
    CareTeamRole,
    ContactChannel,
    ContactPoint,
    HumanName,
    PatientId,
    ReferralId,
    StaffId,
    StaffMember,
    ValidationError,
)
from carecoord.access import MAX_ACTIVE_EMERGENCY_GRANTS, staff_change_problem
from carecoord.caseload import WorklistCategory
from carecoord.model.audit import AuditEntry, AuditOutcome
from carecoord.service import CareCoordinator
from carecoord.service import staff as staff_handlers
from carecoord.storage import MemoryStore, UnitOfWork
from carecoord.testing import FixedClock
from world import BOSS, COORD, LEAD_MA, MA, NURSE, OUTSIDER, PATIENT, PLAN, T0, TEAM, populate


@pytest.fixture
def world() -> tuple[CareCoordinator, FixedClock]:
    clock = FixedClock(T0)
    service = CareCoordinator(store=MemoryStore(), clock=clock)
    populate(service, clock)
    return service, clock


def last_entry(service: CareCoordinator) -> AuditEntry:
    with UnitOfWork(service.store) as uow:
        return uow.all(AuditEntry)[-1]


def newcomer(sid: str, role: CareTeamRole, supervisor: StaffId | None = None) -> StaffMember:
    return StaffMember(
        id=StaffId(sid), name=HumanName(family="New"), roles=(role,), supervisor_id=supervisor
    )


# ------------------------------------------------------------ staff administration
Change = Callable[[CareCoordinator], StaffMember]


def _read(service: CareCoordinator, sid: StaffId) -> StaffMember:
    return service.staff_member(sid, actor=BOSS)


DECISIONS: list[tuple[str, StaffId, Change, str | None]] = [
    # (case, actor, the member to register, the reason it is refused or None)
    (
        "lead MA adds a medical assistant",
        LEAD_MA,
        lambda s: newcomer("ma-2", CareTeamRole.MEDICAL_ASSISTANT),
        None,
    ),
    (
        "lead MA adds a lead MA",
        LEAD_MA,
        lambda s: newcomer("lma-2", CareTeamRole.LEAD_MEDICAL_ASSISTANT),
        None,
    ),
    (
        "lead MA adds a nurse",
        LEAD_MA,
        lambda s: newcomer("n-2", CareTeamRole.NURSE),
        "role-above-own",
    ),
    (
        "lead MA adds a coordinator",
        LEAD_MA,
        lambda s: newcomer("cc-2", CareTeamRole.CARE_COORDINATOR),
        "role-above-own",
    ),
    (
        "lead MA makes itself coordinator",
        LEAD_MA,
        lambda s: attrs.evolve(_read(s, LEAD_MA), roles=(CareTeamRole.CARE_COORDINATOR,)),
        "self-administration",
    ),
    (
        "lead MA changes its own supervisor",
        LEAD_MA,
        lambda s: attrs.evolve(_read(s, LEAD_MA), supervisor_id=BOSS),
        "self-administration",
    ),
    (
        "lead MA deactivates itself",
        LEAD_MA,
        lambda s: attrs.evolve(_read(s, LEAD_MA), active=False),
        "self-administration",
    ),
    (
        "lead MA changes its own phone",
        LEAD_MA,
        lambda s: attrs.evolve(
            _read(s, LEAD_MA), telecom=(ContactPoint(ContactChannel.SMS, "+1 555 0199"),)
        ),
        None,
    ),
    (
        "lead MA deactivates a coordinator",
        LEAD_MA,
        lambda s: attrs.evolve(_read(s, COORD), active=False),
        "outranks-actor",
    ),
    (
        "lead MA supervises a nurse",
        LEAD_MA,
        lambda s: attrs.evolve(_read(s, NURSE), supervisor_id=LEAD_MA),
        "outranks-actor",
    ),
    (
        "lead MA deactivates a medical assistant",
        LEAD_MA,
        lambda s: attrs.evolve(_read(s, MA), active=False),
        None,
    ),
    (
        "lead MA makes an MA a nurse",
        LEAD_MA,
        lambda s: attrs.evolve(_read(s, MA), roles=(CareTeamRole.NURSE,)),
        "role-above-own",
    ),
    (
        "coordinator makes a nurse coordinator",
        COORD,
        lambda s: attrs.evolve(_read(s, NURSE), roles=(CareTeamRole.CARE_COORDINATOR,)),
        None,
    ),
    (
        "coordinator deactivates a lead MA",
        COORD,
        lambda s: attrs.evolve(_read(s, LEAD_MA), active=False),
        None,
    ),
    (
        "coordinator deactivates itself",
        COORD,
        lambda s: attrs.evolve(_read(s, COORD), active=False),
        "self-administration",
    ),
    (
        "case manager deactivates a coordinator",
        BOSS,
        lambda s: attrs.evolve(_read(s, COORD), active=False),
        None,
    ),
]


@pytest.mark.parametrize(
    ("case", "actor", "change", "refused"), DECISIONS, ids=[d[0] for d in DECISIONS]
)
def test_staff_administration_decision_table(
    world: tuple[CareCoordinator, FixedClock],
    case: str,
    actor: StaffId,
    change: Change,
    refused: str | None,
) -> None:
    service, _ = world
    member = change(service)
    if refused is None:
        stored = service.register_staff(member, actor=actor)
        assert service.staff_member(stored.id, actor=BOSS).revision == stored.revision
        return
    with UnitOfWork(service.store) as uow:
        before = {m.id: (m.roles, m.active, m.supervisor_id) for m in uow.all(StaffMember)}
    with pytest.raises(AccessDeniedError, match=refused):
        service.register_staff(member, actor=actor)
    with UnitOfWork(service.store) as uow:
        after = {m.id: (m.roles, m.active, m.supervisor_id) for m in uow.all(StaffMember)}
    assert after == before, case
    entry = last_entry(service)
    assert (entry.operation, entry.outcome, entry.detail) == (
        "register_staff",
        AuditOutcome.MINOR_FAILURE,
        "AccessDeniedError",
    )


def test_staff_without_manage_staff_register_nobody(
    world: tuple[CareCoordinator, FixedClock],
) -> None:
    service, _ = world
    with pytest.raises(AccessDeniedError, match="manage-staff"):
        service.register_staff(newcomer("ma-3", CareTeamRole.MEDICAL_ASSISTANT), actor=NURSE)


def test_the_rules_are_a_pure_function() -> None:
    lead = newcomer("lead", CareTeamRole.LEAD_MEDICAL_ASSISTANT)
    ma = newcomer("ma", CareTeamRole.MEDICAL_ASSISTANT)
    assert staff_change_problem(lead, None, ma) is None
    assert staff_change_problem(lead, None, lead) == "self-administration"
    assert staff_change_problem(lead, ma, attrs.evolve(ma, roles=(CareTeamRole.NURSE,))) == (
        "role-above-own"
    )


def test_a_supervisor_must_be_active(world: tuple[CareCoordinator, FixedClock]) -> None:
    service, _ = world
    service.register_staff(attrs.evolve(_read(service, OUTSIDER), active=False), actor=BOSS)
    with pytest.raises(ValidationError, match="supervisor"):
        service.register_staff(
            newcomer("ma-4", CareTeamRole.MEDICAL_ASSISTANT, supervisor=OUTSIDER), actor=BOSS
        )


def test_the_last_active_administrator_stays(
    world: tuple[CareCoordinator, FixedClock], monkeypatch: pytest.MonkeyPatch
) -> None:
    service, _ = world
    # With the default rules nobody can remove the last administrator (only
    # administrators manage administrators, and never themselves). The check
    # also holds when a host loosens those rules.
    monkeypatch.setattr(staff_handlers, "staff_change_problem", lambda actor, before, after: None)
    for sid in (COORD, OUTSIDER):
        service.register_staff(attrs.evolve(_read(service, sid), active=False), actor=BOSS)
    with pytest.raises(AccessDeniedError, match="last-administrator"):
        service.register_staff(attrs.evolve(_read(service, BOSS), active=False), actor=BOSS)
    assert _read(service, BOSS).active


# ------------------------------------------------------------------ existence oracle
OUTSIDER_CALLS: list[tuple[str, Callable[[CareCoordinator, str], object]]] = [
    ("care_plan", lambda s, i: s.care_plan(CarePlanId(i), actor=OUTSIDER)),
    ("set_plan_status", lambda s, i: s.set_plan_status(CarePlanId(i), "on-hold", actor=OUTSIDER)),
    ("care_team", lambda s, i: s.care_team(CareTeamId(i), actor=OUTSIDER)),
    ("referral", lambda s, i: s.referral(ReferralId(i), actor=OUTSIDER)),
    ("resolve_barrier", lambda s, i: s.resolve_barrier(BarrierId(i), "x", actor=OUTSIDER)),
    ("patient", lambda s, i: s.patient(PatientId(i), actor=OUTSIDER)),
    ("reviews_of", lambda s, i: s.reviews_of(CarePlanId(i), actor=OUTSIDER)),
]
EXISTING = {
    "care_plan": str(PLAN),
    "set_plan_status": str(PLAN),
    "care_team": str(TEAM),
    "referral": "r-1",
    "resolve_barrier": "b-1",
    "patient": str(PATIENT),
    "reviews_of": str(PLAN),
}


@pytest.mark.parametrize(("name", "call"), OUTSIDER_CALLS, ids=[c[0] for c in OUTSIDER_CALLS])
def test_outsiders_cannot_tell_missing_from_forbidden(
    world: tuple[CareCoordinator, FixedClock],
    name: str,
    call: Callable[[CareCoordinator, str], object],
) -> None:
    from carecoord import Barrier, BarrierKind, Referral, ReferralTargetKind

    service, _ = world
    service.create_referral(
        Referral(
            id=ReferralId("r-1"),
            patient_id=PATIENT,
            requested_by=COORD,
            created_at=T0,
            target_kind=ReferralTargetKind.COMMUNITY_RESOURCE,
            target_name="Food bank",
            service="Food parcels",
        ),
        actor=COORD,
    )
    service.record_barrier(
        Barrier(
            id=BarrierId("b-1"),
            patient_id=PATIENT,
            kind=BarrierKind.TRANSPORT,
            identified_at=T0,
            identified_by=COORD,
        ),
        actor=COORD,
    )
    existing, missing = EXISTING[name], "zz-missing"
    with pytest.raises(AccessDeniedError) as real:
        call(service, existing)
    with pytest.raises(AccessDeniedError) as ghost:
        call(service, missing)
    assert type(real.value) is type(ghost.value)
    assert str(real.value).replace(existing, "ID") == str(ghost.value).replace(missing, "ID")
    assert str(PATIENT) not in str(real.value) or name == "patient"
    entry = last_entry(service)
    assert (entry.outcome, entry.detail) == (AuditOutcome.MINOR_FAILURE, "AccessDeniedError")


# ---------------------------------------------------------------------- break glass
def test_break_glass_is_capped_and_waits_for_review(
    world: tuple[CareCoordinator, FixedClock],
) -> None:
    from carecoord import Patient

    service, clock = world
    for n in range(MAX_ACTIVE_EMERGENCY_GRANTS + 1):
        service.enrol_patient(
            Patient(
                id=PatientId(f"p-e{n}"),
                name=HumanName(family="E"),
                birth_date=date(1960, 1, 1),
                time_zone="UTC",
            ),
            actor=COORD,
        )
    grants = [
        service.break_glass(PatientId(f"p-e{n}"), "ED: unconscious", actor=MA)
        for n in range(MAX_ACTIVE_EMERGENCY_GRANTS)
    ]
    with pytest.raises(AccessDeniedError, match="emergency-grant-limit"):
        service.break_glass(PatientId(f"p-e{MAX_ACTIVE_EMERGENCY_GRANTS}"), "again", actor=MA)
    assert last_entry(service).outcome is AuditOutcome.MINOR_FAILURE
    # MA's supervisor (the lead MA) has every grant to review on their worklist.
    assert {g.reviewer_id for g in grants} == {LEAD_MA}
    todo = service.worklist(LEAD_MA, actor=LEAD_MA)
    reviews = [i for i in todo.items if i.category is WorklistCategory.EMERGENCY_REVIEW]
    assert sorted(i.record_id for i in reviews) == sorted(g.id for g in grants)
    assert all(i.detail == str(MA) for i in reviews)
    with pytest.raises(AccessDeniedError):  # only the reviewer reviews
        service.review_emergency_access(grants[0].id, actor=NURSE)
    done = service.review_emergency_access(grants[0].id, actor=LEAD_MA)
    assert done.reviewed_by == LEAD_MA and done.reviewed_at == clock.now()
    with pytest.raises(ValidationError):  # once
        service.review_emergency_access(grants[0].id, actor=LEAD_MA)
    left = service.worklist(LEAD_MA, actor=LEAD_MA).items
    assert grants[0].id not in {i.record_id for i in left}
    # Once grants expire the cap frees up again.
    clock.advance(timedelta(hours=5))
    service.break_glass(PatientId(f"p-e{MAX_ACTIVE_EMERGENCY_GRANTS}"), "again", actor=MA)


def test_a_grant_without_supervisor_goes_to_the_team_lead(
    world: tuple[CareCoordinator, FixedClock],
) -> None:
    service, _ = world
    grant = service.break_glass(PATIENT, "ED: unconscious", actor=OUTSIDER)
    assert grant.reviewer_id == COORD  # the team lead; OUTSIDER reports to nobody


# ---------------------------------------------------------------------- birth dates
def test_a_birth_date_in_the_future_is_refused(world: tuple[CareCoordinator, FixedClock]) -> None:
    from carecoord import Patient

    service, clock = world
    today = clock.now().astimezone(__import__("zoneinfo").ZoneInfo("Pacific/Kiritimati")).date()
    tomorrow = Patient(
        id=PatientId("p-born"),
        name=HumanName(family="Future"),
        birth_date=today + timedelta(days=1),
        time_zone="Pacific/Kiritimati",
    )
    with pytest.raises(ValidationError) as caught:
        service.enrol_patient(tomorrow, actor=COORD)
    assert caught.value.field == "birth_date"
    born_today = service.enrol_patient(attrs.evolve(tomorrow, birth_date=today), actor=COORD)
    later = attrs.evolve(
        service.patient(PATIENT, actor=COORD), birth_date=date.today() + timedelta(days=400)
    )
    with pytest.raises(ValidationError):
        service.update_patient(later, actor=COORD)
    assert born_today.birth_date == today
