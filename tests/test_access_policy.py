"""Decision table for the default access policy: roles x membership x permission,
supervision, emergency access (break the glass)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from carecoord.access import (
    EMERGENCY_PERMISSIONS,
    ROLE_PERMISSIONS,
    STAFF_PERMISSIONS,
    AccessRequest,
    CareTeamPolicy,
    Permission,
)
from carecoord.model import (
    CareTeam,
    CareTeamId,
    CareTeamRole,
    CareTeamStatus,
    HumanName,
    Membership,
    PatientId,
    Period,
    PurposeOfUse,
    StaffId,
    StaffMember,
)
from carecoord.model.access import EmergencyAccess

NOW = datetime(2026, 11, 23, 9, tzinfo=ZoneInfo("America/Chicago"))
PATIENT = PatientId("p-1")
OTHER_PATIENT = PatientId("p-2")
PATIENT_PERMISSIONS = [
    p
    for p in Permission
    if p
    not in {
        Permission.ENROL,
        Permission.FORM_TEAM,
        Permission.MANAGE_STAFF,
        Permission.VIEW_CASELOADS,
        Permission.VIEW_METRICS,
    }
]

# The expected table, written out independently of the implementation.
EXPECTED: dict[CareTeamRole, set[str]] = {
    CareTeamRole.CARE_COORDINATOR: {p.value for p in PATIENT_PERMISSIONS},
    CareTeamRole.CASE_MANAGER: {p.value for p in PATIENT_PERMISSIONS},
    CareTeamRole.PRIMARY_CARE_PROVIDER: {p.value for p in PATIENT_PERMISSIONS}
    - {"manage-team", "read-audit"},
    CareTeamRole.NURSE: {p.value for p in PATIENT_PERMISSIONS}
    - {"manage-team", "read-audit", "edit-patient"},
    CareTeamRole.SOCIAL_WORKER: {
        "read",
        "record-assessment",
        "edit-plan",
        "update-intervention",
        "record-progress",
        "manage-referrals",
        "record-barrier",
        "document",
        "record-consent",
    },
    CareTeamRole.LEAD_MEDICAL_ASSISTANT: {
        "read",
        "edit-patient",
        "record-assessment",
        "update-intervention",
        "record-progress",
        "manage-referrals",
        "manage-appointments",
        "record-barrier",
        "document",
    },
    CareTeamRole.MEDICAL_ASSISTANT: {
        "read",
        "update-intervention",
        "record-progress",
        "manage-appointments",
        "record-barrier",
        "document",
    },
    CareTeamRole.COMMUNITY_HEALTH_WORKER: {
        "read",
        "update-intervention",
        "manage-appointments",
        "record-barrier",
        "document",
    },
    CareTeamRole.SPECIALIST: {"read", "update-intervention", "record-progress", "document"},
    CareTeamRole.PHARMACIST: {"read", "update-intervention", "record-progress", "document"},
    CareTeamRole.FAMILY_CAREGIVER: {"read"},
}


def staff(
    sid: str, *roles: CareTeamRole, supervisor: str | None = None, active: bool = True
) -> StaffMember:
    return StaffMember(
        id=StaffId(sid),
        name=HumanName(family="X"),
        roles=roles or (CareTeamRole.NURSE,),
        supervisor_id=None if supervisor is None else StaffId(supervisor),
        active=active,
    )


def team(
    members: list[tuple[str, CareTeamRole]],
    *,
    status: CareTeamStatus = CareTeamStatus.ACTIVE,
    start: datetime = NOW - timedelta(days=10),
    end: datetime | None = None,
    patient: PatientId = PATIENT,
) -> CareTeam:
    return CareTeam(
        id=CareTeamId("t-" + patient),
        patient_id=patient,
        lead_id=StaffId(members[0][0]),
        members=tuple(
            Membership(staff_id=StaffId(s), role=r, period=Period(start=start, end=end))
            for s, r in members
        ),
        status=status,
    )


def decide(
    actor: StaffMember, permission: Permission, **kwargs: object
) -> tuple[bool, PurposeOfUse]:
    request = AccessRequest(actor=actor, permission=permission, at=NOW, **kwargs)  # type: ignore[arg-type]
    decision = CareTeamPolicy().decide(request)
    return decision.allowed, decision.purpose


def test_expected_table_matches_published_table() -> None:
    assert {r: {p.value for p in ps} for r, ps in ROLE_PERMISSIONS.items()} == EXPECTED


@pytest.mark.parametrize("role", list(CareTeamRole))
@pytest.mark.parametrize("permission", PATIENT_PERMISSIONS)
def test_active_member_gets_exactly_their_roles_permissions(
    role: CareTeamRole, permission: Permission
) -> None:
    actor = staff("a-1", role)
    allowed, purpose = decide(actor, permission, patient_id=PATIENT, teams=(team([("a-1", role)]),))
    assert allowed is (permission.value in EXPECTED[role])
    if allowed:
        assert purpose is PurposeOfUse.TREAT


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (CareTeamStatus.ACTIVE, True),
        (CareTeamStatus.PROPOSED, True),
        (CareTeamStatus.SUSPENDED, False),
        (CareTeamStatus.INACTIVE, False),
        (CareTeamStatus.ENTERED_IN_ERROR, False),
    ],
)
def test_team_status_decides(status: CareTeamStatus, expected: bool) -> None:
    actor = staff("a-1", CareTeamRole.CARE_COORDINATOR)
    t = team([("a-1", CareTeamRole.CARE_COORDINATOR)], status=status)
    assert decide(actor, Permission.READ, patient_id=PATIENT, teams=(t,))[0] is expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (NOW - timedelta(days=1), None, True),
        (NOW - timedelta(days=9), NOW - timedelta(days=1), False),  # membership ended
        (NOW + timedelta(days=1), None, False),  # not started yet
        (NOW - timedelta(days=1), NOW + timedelta(days=1), True),
    ],
)
def test_membership_period_decides(start: datetime, end: datetime | None, expected: bool) -> None:
    actor = staff("a-1", CareTeamRole.CARE_COORDINATOR)
    t = team(
        [("lead", CareTeamRole.NURSE), ("a-1", CareTeamRole.CARE_COORDINATOR)],
        start=start,
        end=end,
    )
    # the lead shares the same period; only a-1 matters here
    assert decide(actor, Permission.READ, patient_id=PATIENT, teams=(t,))[0] is expected


def test_member_of_another_patients_team_is_denied() -> None:
    actor = staff("a-1", CareTeamRole.CARE_COORDINATOR)
    other = team([("a-1", CareTeamRole.CARE_COORDINATOR)], patient=OTHER_PATIENT)
    assert decide(actor, Permission.READ, patient_id=PATIENT, teams=(other,))[0] is False


def test_non_member_is_denied_everything() -> None:
    actor = staff("stranger", CareTeamRole.CARE_COORDINATOR)
    t = team([("a-1", CareTeamRole.NURSE)])
    for permission in PATIENT_PERMISSIONS:
        assert decide(actor, permission, patient_id=PATIENT, teams=(t,))[0] is False


def test_inactive_actor_is_denied() -> None:
    actor = staff("a-1", CareTeamRole.CARE_COORDINATOR, active=False)
    t = team([("a-1", CareTeamRole.CARE_COORDINATOR)])
    assert decide(actor, Permission.READ, patient_id=PATIENT, teams=(t,))[0] is False


def test_roles_on_several_teams_combine() -> None:
    actor = staff("a-1", CareTeamRole.MEDICAL_ASSISTANT)
    t1 = team([("a-1", CareTeamRole.MEDICAL_ASSISTANT)])
    t2 = CareTeam(
        id=CareTeamId("t-2"),
        patient_id=PATIENT,
        lead_id=StaffId("a-1"),
        members=(
            Membership(
                staff_id=StaffId("a-1"),
                role=CareTeamRole.NURSE,
                period=Period(start=NOW - timedelta(days=1)),
            ),
        ),
        status=CareTeamStatus.ACTIVE,
    )
    assert decide(actor, Permission.EDIT_GOALS, patient_id=PATIENT, teams=(t1,))[0] is False
    assert decide(actor, Permission.EDIT_GOALS, patient_id=PATIENT, teams=(t1, t2))[0] is True


@pytest.mark.parametrize("permission", PATIENT_PERMISSIONS)
def test_supervisor_may_read_reports_patients_only(permission: Permission) -> None:
    boss = staff("boss", CareTeamRole.CASE_MANAGER)
    middle = staff("middle", CareTeamRole.LEAD_MEDICAL_ASSISTANT, supervisor="boss")
    worker = staff("worker", CareTeamRole.MEDICAL_ASSISTANT, supervisor="middle")
    t = team([("worker", CareTeamRole.MEDICAL_ASSISTANT)])
    directory = {s.id: s for s in (boss, middle, worker)}
    for supervisor in (boss, middle):  # direct and indirect
        allowed, purpose = decide(
            supervisor, permission, patient_id=PATIENT, teams=(t,), staff=directory
        )
        assert allowed is (permission is Permission.READ)
        if allowed:
            assert purpose is PurposeOfUse.HOPERAT
    # the worker does not supervise the boss: no upward reading
    t_boss = team([("boss", CareTeamRole.CASE_MANAGER)])
    assert (
        decide(worker, Permission.READ, patient_id=PATIENT, teams=(t_boss,), staff=directory)[0]
        is False
    )


def test_supervisor_of_a_former_member_is_denied() -> None:
    boss = staff("boss", CareTeamRole.CASE_MANAGER)
    worker = staff("worker", CareTeamRole.MEDICAL_ASSISTANT, supervisor="boss")
    t = team(
        [("worker", CareTeamRole.MEDICAL_ASSISTANT)],
        start=NOW - timedelta(days=9),
        end=NOW - timedelta(days=1),
    )
    directory = {s.id: s for s in (boss, worker)}
    assert (
        decide(boss, Permission.READ, patient_id=PATIENT, teams=(t,), staff=directory)[0] is False
    )


def grant(
    staff_id: str, *, patient: PatientId = PATIENT, start: datetime, hours: int = 4
) -> EmergencyAccess:
    return EmergencyAccess(
        id="g-1",
        staff_id=StaffId(staff_id),
        patient_id=patient,
        reason="Unconscious in ED, team unreachable",
        granted_at=start,
        expires_at=start + timedelta(hours=hours),
    )


@pytest.mark.parametrize("permission", PATIENT_PERMISSIONS)
def test_break_glass_allows_read_and_document_marked_etreat(permission: Permission) -> None:
    er = staff("er-doc", CareTeamRole.PRIMARY_CARE_PROVIDER)
    g = grant("er-doc", start=NOW - timedelta(hours=1))
    allowed, purpose = decide(er, permission, patient_id=PATIENT, emergency=(g,))
    assert allowed is (permission in EMERGENCY_PERMISSIONS)
    if allowed:
        assert purpose is PurposeOfUse.ETREAT


@pytest.mark.parametrize(
    ("grant_for", "patient", "start", "expected"),
    [
        ("er-doc", PATIENT, NOW - timedelta(hours=1), True),
        ("er-doc", PATIENT, NOW - timedelta(hours=5), False),  # expired
        ("er-doc", PATIENT, NOW + timedelta(minutes=5), False),  # not yet valid
        ("someone-else", PATIENT, NOW - timedelta(hours=1), False),  # not the actor's
        ("er-doc", OTHER_PATIENT, NOW - timedelta(hours=1), False),  # another patient
    ],
)
def test_break_glass_scope(
    grant_for: str, patient: PatientId, start: datetime, expected: bool
) -> None:
    er = staff("er-doc", CareTeamRole.PRIMARY_CARE_PROVIDER)
    g = grant(grant_for, patient=patient, start=start)
    assert decide(er, Permission.READ, patient_id=PATIENT, emergency=(g,))[0] is expected


@pytest.mark.parametrize("role", list(CareTeamRole))
@pytest.mark.parametrize(
    "permission",
    [
        Permission.ENROL,
        Permission.FORM_TEAM,
        Permission.MANAGE_STAFF,
        Permission.VIEW_CASELOADS,
        Permission.VIEW_METRICS,
    ],
)
def test_staff_wide_permissions_follow_own_roles(
    role: CareTeamRole, permission: Permission
) -> None:
    actor = staff("a-1", role)
    allowed, purpose = decide(actor, permission)
    assert allowed is (permission in STAFF_PERMISSIONS.get(role, frozenset()))
    if allowed:
        assert purpose is PurposeOfUse.HOPERAT


def test_staff_wide_expectations_written_out() -> None:
    coordinator = staff("c", CareTeamRole.CARE_COORDINATOR)
    ma = staff("m", CareTeamRole.MEDICAL_ASSISTANT)
    assert decide(coordinator, Permission.ENROL)[0]
    assert decide(coordinator, Permission.VIEW_CASELOADS)[0]
    assert decide(coordinator, Permission.VIEW_METRICS)[0]
    assert not decide(ma, Permission.VIEW_METRICS)[0]
    assert not decide(ma, Permission.ENROL)[0]
    assert not decide(ma, Permission.MANAGE_STAFF)[0]
