"""Decision table for the default access policy: roles x membership x permission,
supervision, emergency access (break the glass)."""

from __future__ import annotations

from collections.abc import Mapping
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
    TeamMembership,
    team_memberships,
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
    actor: StaffMember,
    permission: Permission,
    *,
    patient_id: PatientId | None = None,
    memberships: tuple[TeamMembership, ...] = (),
    staff: Mapping[StaffId, StaffMember] | None = None,
    emergency: tuple[EmergencyAccess, ...] = (),
) -> tuple[bool, PurposeOfUse]:
    request = AccessRequest(
        actor=actor,
        permission=permission,
        at=NOW,
        patient_id=patient_id,
        memberships=memberships,
        staff={} if staff is None else staff,
        emergency=emergency,
    )
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
    allowed, purpose = decide(
        actor, permission, patient_id=PATIENT, memberships=team_memberships(team([("a-1", role)]))
    )
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
    assert (
        decide(actor, Permission.READ, patient_id=PATIENT, memberships=team_memberships(t))[0]
        is expected
    )


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
    assert (
        decide(actor, Permission.READ, patient_id=PATIENT, memberships=team_memberships(t))[0]
        is expected
    )


def test_member_of_another_patients_team_is_denied() -> None:
    actor = staff("a-1", CareTeamRole.CARE_COORDINATOR)
    other = team([("a-1", CareTeamRole.CARE_COORDINATOR)], patient=OTHER_PATIENT)
    assert (
        decide(actor, Permission.READ, patient_id=PATIENT, memberships=team_memberships(other))[0]
        is False
    )


def test_non_member_is_denied_everything() -> None:
    actor = staff("stranger", CareTeamRole.CARE_COORDINATOR)
    t = team([("a-1", CareTeamRole.NURSE)])
    for permission in PATIENT_PERMISSIONS:
        assert (
            decide(actor, permission, patient_id=PATIENT, memberships=team_memberships(t))[0]
            is False
        )


def test_inactive_actor_is_denied() -> None:
    actor = staff("a-1", CareTeamRole.CARE_COORDINATOR, active=False)
    t = team([("a-1", CareTeamRole.CARE_COORDINATOR)])
    assert (
        decide(actor, Permission.READ, patient_id=PATIENT, memberships=team_memberships(t))[0]
        is False
    )


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
    assert (
        decide(actor, Permission.EDIT_GOALS, patient_id=PATIENT, memberships=team_memberships(t1))[
            0
        ]
        is False
    )
    assert (
        decide(
            actor, Permission.EDIT_GOALS, patient_id=PATIENT, memberships=team_memberships(t1, t2)
        )[0]
        is True
    )


@pytest.mark.parametrize("permission", PATIENT_PERMISSIONS)
def test_supervisor_may_read_reports_patients_only(permission: Permission) -> None:
    boss = staff("boss", CareTeamRole.CASE_MANAGER)
    middle = staff("middle", CareTeamRole.LEAD_MEDICAL_ASSISTANT, supervisor="boss")
    worker = staff("worker", CareTeamRole.MEDICAL_ASSISTANT, supervisor="middle")
    t = team([("worker", CareTeamRole.MEDICAL_ASSISTANT)])
    directory = {s.id: s for s in (boss, middle, worker)}
    for supervisor in (boss, middle):  # direct and indirect
        allowed, purpose = decide(
            supervisor,
            permission,
            patient_id=PATIENT,
            memberships=team_memberships(t),
            staff=directory,
        )
        assert allowed is (permission is Permission.READ)
        if allowed:
            assert purpose is PurposeOfUse.HOPERAT
    # the worker does not supervise the boss: no upward reading
    t_boss = team([("boss", CareTeamRole.CASE_MANAGER)])
    assert (
        decide(
            worker,
            Permission.READ,
            patient_id=PATIENT,
            memberships=team_memberships(t_boss),
            staff=directory,
        )[0]
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
        decide(
            boss,
            Permission.READ,
            patient_id=PATIENT,
            memberships=team_memberships(t),
            staff=directory,
        )[0]
        is False
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


# --- TeamMembership and team_memberships -------------------------------------------------

OPEN_STATUSES = {CareTeamStatus.PROPOSED, CareTeamStatus.ACTIVE}

PERIODS = [
    pytest.param(Period(start=NOW - timedelta(days=1)), True, id="open-ended"),
    pytest.param(
        Period(start=NOW - timedelta(days=1), end=NOW + timedelta(days=1)), True, id="covering"
    ),
    pytest.param(Period(start=NOW), True, id="starts-now"),  # start is inclusive
    pytest.param(
        Period(start=NOW - timedelta(days=9), end=NOW - timedelta(days=1)), False, id="ended"
    ),
    pytest.param(Period(start=NOW - timedelta(days=1), end=NOW), False, id="ends-now"),  # exclusive
    pytest.param(Period(start=NOW + timedelta(days=1)), False, id="not-started"),
]


def row(
    staff_id: str = "a-1",
    role: CareTeamRole = CareTeamRole.CARE_COORDINATOR,
    *,
    status: CareTeamStatus = CareTeamStatus.ACTIVE,
    period: Period | None = None,
    patient: PatientId = PATIENT,
    team_id: str = "t-1",
) -> TeamMembership:
    """A membership row as the service reads it from the index."""
    return TeamMembership(
        team_id=team_id,
        patient_id=patient,
        team_status=status,
        membership=Membership(
            staff_id=StaffId(staff_id),
            role=role,
            period=period or Period(start=NOW - timedelta(days=10)),
        ),
    )


@pytest.mark.parametrize("status", list(CareTeamStatus))
@pytest.mark.parametrize(("period", "covers"), PERIODS)
def test_team_membership_active_at_needs_open_team_and_covering_period(
    status: CareTeamStatus, period: Period, covers: bool
) -> None:
    m = row(status=status, period=period)
    assert m.active_at(NOW) is (status in OPEN_STATUSES and covers)
    # the membership alone ignores the team's status
    assert m.membership.active_at(NOW) is covers


def test_team_membership_active_at_compares_instants_across_zones() -> None:
    utc = ZoneInfo("UTC")
    m = row(
        period=Period(start=NOW.astimezone(utc), end=(NOW + timedelta(hours=1)).astimezone(utc))
    )
    assert m.active_at(NOW) is True
    assert m.active_at(NOW - timedelta(seconds=1)) is False
    assert m.active_at(NOW + timedelta(hours=1)) is False


def test_team_membership_exposes_member_and_role() -> None:
    m = row("a-7", CareTeamRole.PHARMACIST)
    assert m.staff_id == StaffId("a-7")
    assert m.role is CareTeamRole.PHARMACIST


def test_team_memberships_of_no_teams_is_empty() -> None:
    assert team_memberships() == ()


def test_team_memberships_flattens_teams_in_order() -> None:
    t1 = team(
        [("lead", CareTeamRole.CARE_COORDINATOR), ("a-1", CareTeamRole.NURSE)],
        status=CareTeamStatus.PROPOSED,
    )
    t2 = team(
        [("a-2", CareTeamRole.SOCIAL_WORKER)],
        status=CareTeamStatus.SUSPENDED,
        patient=OTHER_PATIENT,
    )
    rows = team_memberships(t1, t2)
    assert rows == (
        TeamMembership(
            team_id="t-p-1",
            patient_id=PATIENT,
            team_status=CareTeamStatus.PROPOSED,
            membership=t1.members[0],
        ),
        TeamMembership(
            team_id="t-p-1",
            patient_id=PATIENT,
            team_status=CareTeamStatus.PROPOSED,
            membership=t1.members[1],
        ),
        TeamMembership(
            team_id="t-p-2",
            patient_id=OTHER_PATIENT,
            team_status=CareTeamStatus.SUSPENDED,
            membership=t2.members[0],
        ),
    )
    assert [(r.staff_id, r.role) for r in rows] == [
        (StaffId("lead"), CareTeamRole.CARE_COORDINATOR),
        (StaffId("a-1"), CareTeamRole.NURSE),
        (StaffId("a-2"), CareTeamRole.SOCIAL_WORKER),
    ]
    assert all(type(r.team_id) is str for r in rows)


def test_team_memberships_keeps_every_period_of_a_member() -> None:
    t = CareTeam(
        id=CareTeamId("t-1"),
        patient_id=PATIENT,
        lead_id=StaffId("a-1"),
        members=(
            Membership(
                staff_id=StaffId("a-1"),
                role=CareTeamRole.NURSE,
                period=Period(start=NOW - timedelta(days=9), end=NOW - timedelta(days=5)),
            ),
            Membership(
                staff_id=StaffId("a-1"),
                role=CareTeamRole.NURSE,
                period=Period(start=NOW - timedelta(days=1)),
            ),
        ),
        status=CareTeamStatus.ACTIVE,
    )
    rows = team_memberships(t)
    assert [r.membership for r in rows] == list(t.members)
    assert [r.active_at(NOW) for r in rows] == [False, True]


# --- the policy over membership rows (as the service passes them) ------------------------


def test_policy_decides_from_rows_built_without_a_care_team() -> None:
    actor = staff("a-1", CareTeamRole.NURSE)
    rows = (row("a-1", CareTeamRole.NURSE),)
    assert decide(actor, Permission.EDIT_GOALS, patient_id=PATIENT, memberships=rows) == (
        True,
        PurposeOfUse.TREAT,
    )
    assert decide(actor, Permission.EDIT_PATIENT, patient_id=PATIENT, memberships=rows)[0] is False


def test_rows_of_a_closed_team_do_not_count_but_an_open_teams_do() -> None:
    actor = staff("a-1", CareTeamRole.NURSE)
    closed = row("a-1", CareTeamRole.CARE_COORDINATOR, status=CareTeamStatus.INACTIVE)
    open_ = row("a-1", CareTeamRole.MEDICAL_ASSISTANT, team_id="t-2")

    def allowed(permission: Permission, *rows: TeamMembership) -> bool:
        return decide(actor, permission, patient_id=PATIENT, memberships=rows)[0]

    # the closed team's coordinator role grants nothing, not even reading...
    assert allowed(Permission.READ, closed) is False
    assert allowed(Permission.MANAGE_TEAM, closed) is False
    # ...so beside an open team only that team's medical-assistant role counts
    assert allowed(Permission.READ, closed, open_) is True
    assert allowed(Permission.MANAGE_TEAM, closed, open_) is False


def test_rows_for_another_patient_are_ignored_even_when_mixed_in() -> None:
    actor = staff("a-1", CareTeamRole.CARE_COORDINATOR)
    mine = row("a-1", CareTeamRole.FAMILY_CAREGIVER)
    other = row("a-1", CareTeamRole.CARE_COORDINATOR, patient=OTHER_PATIENT, team_id="t-2")
    rows = (mine, other)
    assert decide(actor, Permission.READ, patient_id=PATIENT, memberships=rows)[0] is True
    assert decide(actor, Permission.DOCUMENT, patient_id=PATIENT, memberships=rows)[0] is False


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
def test_supervisor_reads_only_through_open_teams(status: CareTeamStatus, expected: bool) -> None:
    boss = staff("boss", CareTeamRole.CASE_MANAGER)
    worker = staff("worker", CareTeamRole.MEDICAL_ASSISTANT, supervisor="boss")
    directory = {s.id: s for s in (boss, worker)}
    rows = (row("worker", CareTeamRole.MEDICAL_ASSISTANT, status=status),)
    allowed = decide(boss, Permission.READ, patient_id=PATIENT, memberships=rows, staff=directory)
    assert allowed[0] is expected


def test_supervisor_of_a_member_of_another_patients_team_is_denied() -> None:
    boss = staff("boss", CareTeamRole.CASE_MANAGER)
    worker = staff("worker", CareTeamRole.MEDICAL_ASSISTANT, supervisor="boss")
    directory = {s.id: s for s in (boss, worker)}
    rows = (row("worker", CareTeamRole.MEDICAL_ASSISTANT, patient=OTHER_PATIENT),)
    assert (
        decide(boss, Permission.READ, patient_id=PATIENT, memberships=rows, staff=directory)[0]
        is False
    )
