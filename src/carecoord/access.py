"""Access control: who may do what to which patient's records. Pure rules over the model.

The default :class:`CareTeamPolicy` follows "minimum necessary":

* patient records are open only to active members of one of the patient's
  care teams (team status proposed or active), with what their roles on that
  team allow (:data:`ROLE_PERMISSIONS`) — a medical assistant, for example,
  does not change a plan's goals;
* a supervisor may *read* the records of patients their direct or indirect
  reports care for;
* staff-wide operations (enrolling a patient, forming a team, registering
  staff, viewing de-identified quality metrics) depend on the actor's own
  roles (:data:`STAFF_PERMISSIONS`);
* an emergency grant (break the glass, purpose ETREAT) lets its holder read
  and document until it expires; every such access is marked ETREAT in the
  audit; one holds at most :data:`MAX_ACTIVE_EMERGENCY_GRANTS` at once;
* staff administration is bounded (:func:`staff_change_problem`): nobody
  administers themselves, nobody grants a role above their own
  (:data:`GRANTABLE_ROLES`) or manages someone who outranks them, and the
  last active administrator stays.

Hosts replace the policy by passing any object with a ``decide`` method.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

import attrs

from .model import (
    CareCoordError,
    CareTeam,
    CareTeamRole,
    CareTeamStatus,
    Membership,
    PatientId,
    StaffId,
    StaffMember,
    supervision_chain,
)
from .model.access import EmergencyAccess
from .model.audit import PurposeOfUse

__all__ = [
    "EMERGENCY_PERMISSIONS",
    "GRANTABLE_ROLES",
    "MAX_ACTIVE_EMERGENCY_GRANTS",
    "ROLE_PERMISSIONS",
    "STAFF_PERMISSIONS",
    "AccessDecision",
    "AccessPolicy",
    "AccessRequest",
    "CareTeamPolicy",
    "Permission",
    "TeamMembership",
    "grantable_roles",
    "is_administrator",
    "staff_change_problem",
    "team_memberships",
]


class Permission(StrEnum):
    """What an operation needs."""

    READ = "read"
    EDIT_PATIENT = "edit-patient"
    MANAGE_TEAM = "manage-team"
    RECORD_ASSESSMENT = "record-assessment"
    EDIT_PLAN = "edit-plan"
    EDIT_GOALS = "edit-goals"
    UPDATE_INTERVENTION = "update-intervention"
    RECORD_PROGRESS = "record-progress"
    REVIEW_PLAN = "review-plan"
    MANAGE_REFERRALS = "manage-referrals"
    MANAGE_APPOINTMENTS = "manage-appointments"
    RECORD_BARRIER = "record-barrier"
    DOCUMENT = "document"
    RECORD_CONSENT = "record-consent"
    READ_AUDIT = "read-audit"
    # staff-wide
    ENROL = "enrol"
    FORM_TEAM = "form-team"
    MANAGE_STAFF = "manage-staff"
    VIEW_CASELOADS = "view-caseloads"
    VIEW_METRICS = "view-metrics"


_P = Permission
_ALL_PATIENT = frozenset(
    {
        _P.READ,
        _P.EDIT_PATIENT,
        _P.MANAGE_TEAM,
        _P.RECORD_ASSESSMENT,
        _P.EDIT_PLAN,
        _P.EDIT_GOALS,
        _P.UPDATE_INTERVENTION,
        _P.RECORD_PROGRESS,
        _P.REVIEW_PLAN,
        _P.MANAGE_REFERRALS,
        _P.MANAGE_APPOINTMENTS,
        _P.RECORD_BARRIER,
        _P.DOCUMENT,
        _P.RECORD_CONSENT,
        _P.READ_AUDIT,
    }
)
_CLINICAL = _ALL_PATIENT - {_P.MANAGE_TEAM, _P.READ_AUDIT}

ROLE_PERMISSIONS: Mapping[CareTeamRole, frozenset[Permission]] = {
    CareTeamRole.CARE_COORDINATOR: _ALL_PATIENT,
    CareTeamRole.CASE_MANAGER: _ALL_PATIENT,
    CareTeamRole.PRIMARY_CARE_PROVIDER: _CLINICAL,
    CareTeamRole.NURSE: _CLINICAL - {_P.EDIT_PATIENT},
    CareTeamRole.SOCIAL_WORKER: frozenset(
        {
            _P.READ,
            _P.RECORD_ASSESSMENT,
            _P.EDIT_PLAN,
            _P.UPDATE_INTERVENTION,
            _P.RECORD_PROGRESS,
            _P.MANAGE_REFERRALS,
            _P.RECORD_BARRIER,
            _P.DOCUMENT,
            _P.RECORD_CONSENT,
        }
    ),
    CareTeamRole.LEAD_MEDICAL_ASSISTANT: frozenset(
        {
            _P.READ,
            _P.EDIT_PATIENT,
            _P.RECORD_ASSESSMENT,
            _P.UPDATE_INTERVENTION,
            _P.RECORD_PROGRESS,
            _P.MANAGE_REFERRALS,
            _P.MANAGE_APPOINTMENTS,
            _P.RECORD_BARRIER,
            _P.DOCUMENT,
        }
    ),
    CareTeamRole.MEDICAL_ASSISTANT: frozenset(
        {
            _P.READ,
            _P.UPDATE_INTERVENTION,
            _P.RECORD_PROGRESS,
            _P.MANAGE_APPOINTMENTS,
            _P.RECORD_BARRIER,
            _P.DOCUMENT,
        }
    ),
    CareTeamRole.COMMUNITY_HEALTH_WORKER: frozenset(
        {_P.READ, _P.UPDATE_INTERVENTION, _P.MANAGE_APPOINTMENTS, _P.RECORD_BARRIER, _P.DOCUMENT}
    ),
    CareTeamRole.SPECIALIST: frozenset(
        {_P.READ, _P.UPDATE_INTERVENTION, _P.RECORD_PROGRESS, _P.DOCUMENT}
    ),
    CareTeamRole.PHARMACIST: frozenset(
        {_P.READ, _P.UPDATE_INTERVENTION, _P.RECORD_PROGRESS, _P.DOCUMENT}
    ),
    CareTeamRole.FAMILY_CAREGIVER: frozenset({_P.READ}),
}
"""What each care-team role allows on the patients of that team."""

STAFF_PERMISSIONS: Mapping[CareTeamRole, frozenset[Permission]] = {
    CareTeamRole.CARE_COORDINATOR: frozenset(
        {_P.ENROL, _P.FORM_TEAM, _P.MANAGE_STAFF, _P.VIEW_CASELOADS, _P.VIEW_METRICS}
    ),
    CareTeamRole.CASE_MANAGER: frozenset(
        {_P.ENROL, _P.FORM_TEAM, _P.MANAGE_STAFF, _P.VIEW_CASELOADS, _P.VIEW_METRICS}
    ),
    CareTeamRole.LEAD_MEDICAL_ASSISTANT: frozenset({_P.ENROL, _P.MANAGE_STAFF}),
    CareTeamRole.PRIMARY_CARE_PROVIDER: frozenset({_P.ENROL}),
    CareTeamRole.NURSE: frozenset({_P.ENROL}),
    CareTeamRole.SOCIAL_WORKER: frozenset({_P.ENROL}),
}
"""What a staff member's own roles allow, independent of any patient."""

EMERGENCY_PERMISSIONS = frozenset({_P.READ, _P.DOCUMENT})
"""What an active emergency grant allows."""

MAX_ACTIVE_EMERGENCY_GRANTS = 3
"""How many unexpired emergency grants one staff member may hold at once."""

_ALL_ROLES = frozenset(CareTeamRole)
GRANTABLE_ROLES: Mapping[CareTeamRole, frozenset[CareTeamRole]] = {
    CareTeamRole.CARE_COORDINATOR: _ALL_ROLES,
    CareTeamRole.CASE_MANAGER: _ALL_ROLES,
    CareTeamRole.LEAD_MEDICAL_ASSISTANT: frozenset(
        {
            CareTeamRole.LEAD_MEDICAL_ASSISTANT,
            CareTeamRole.MEDICAL_ASSISTANT,
            CareTeamRole.COMMUNITY_HEALTH_WORKER,
        }
    ),
}
"""Which roles a staff member with ``manage-staff`` may grant, by their own role.

Never a role above one's own: a lead medical assistant manages medical
assistants, community health workers and other lead medical assistants; care
coordinators and case managers (the *administrators*) manage everyone.
"""


def grantable_roles(actor: StaffMember) -> frozenset[CareTeamRole]:
    """Every role ``actor`` may grant (the union over the actor's own roles)."""
    return frozenset().union(*(GRANTABLE_ROLES.get(r, frozenset()) for r in actor.roles))


def is_administrator(member: StaffMember) -> bool:
    """An active staff member who may grant every role."""
    return member.active and grantable_roles(member) == _ALL_ROLES


def staff_change_problem(
    actor: StaffMember, before: StaffMember | None, after: StaffMember
) -> str | None:
    """Why ``actor`` may not register ``after`` (replacing ``before``), or ``None``.

    The rules (on top of the staff-wide ``manage-staff`` permission):

    * nobody administers themselves: one's own roles, active flag and
      supervisor are changed by someone else (contact details and
      preferences one may change oneself) — ``self-administration``;
    * one manages only staff all of whose roles one may grant: no
      deactivating, re-rolling or re-lining someone above one's own role —
      ``outranks-actor``;
    * one grants only roles one may grant — ``role-above-own``.

    Keeping at least one active administrator needs the whole directory and is
    checked by the service (``last-administrator``).
    """
    if after.id == actor.id:
        if before is None:
            return "self-administration"
        if (
            set(before.roles) != set(after.roles)
            or before.active != after.active
            or before.supervisor_id != after.supervisor_id
        ):
            return "self-administration"
        return None
    allowed = grantable_roles(actor)
    if before is not None and not set(before.roles) <= allowed:
        return "outranks-actor"
    if not set(after.roles) <= allowed:
        return "role-above-own"
    return None


_TEAM_OPEN = {CareTeamStatus.PROPOSED, CareTeamStatus.ACTIVE}


@attrs.frozen
class TeamMembership:
    """One membership on one of a patient's care teams, as an access decision sees it.

    The service reads these from the store's index (one row per membership),
    so deciding an access never loads and decodes whole care teams.
    """

    team_id: str
    patient_id: PatientId
    team_status: CareTeamStatus
    membership: Membership

    @property
    def staff_id(self) -> StaffId:
        """The member."""
        return self.membership.staff_id

    @property
    def role(self) -> CareTeamRole:
        """The member's role on the team."""
        return self.membership.role

    def active_at(self, moment: datetime) -> bool:
        """Whether the team is open (proposed or active) and the membership covers ``moment``."""
        return self.team_status in _TEAM_OPEN and self.membership.active_at(moment)


def team_memberships(*teams: CareTeam) -> tuple[TeamMembership, ...]:
    """Every membership of ``teams`` as :class:`TeamMembership` (for policies and tests)."""
    return tuple(
        TeamMembership(
            team_id=str(team.id), patient_id=team.patient_id, team_status=team.status, membership=m
        )
        for team in teams
        for m in team.members
    )


@attrs.frozen
class AccessRequest:
    """Everything a policy needs to decide one access.

    ``memberships`` are the memberships on the patient's care teams (empty
    for staff-wide operations), ``staff`` the staff directory entries the
    service loaded (the actor, the active members of those teams and their
    supervisors), ``emergency`` the actor's unexpired emergency grants for
    this patient. The service fills ``staff`` and ``emergency`` lazily: they
    are read from the store only if the policy looks at them, through the
    operation's unit of work, so a policy reads them inside ``decide``.
    """

    actor: StaffMember
    permission: Permission
    at: datetime
    patient_id: PatientId | None = None
    memberships: tuple[TeamMembership, ...] = ()
    staff: Mapping[StaffId, StaffMember] = attrs.field(factory=dict)
    emergency: Sequence[EmergencyAccess] = ()


@attrs.frozen
class AccessDecision:
    """A policy's answer: allowed or not, the purpose of use to audit, and why (a code)."""

    allowed: bool
    purpose: PurposeOfUse = PurposeOfUse.TREAT
    reason: str = ""


@runtime_checkable
class AccessPolicy(Protocol):
    """Decides whether an access is allowed. Must be pure and fast."""

    def decide(self, request: AccessRequest) -> AccessDecision:
        """Allow or deny ``request``."""
        ...


class CareTeamPolicy:
    """The default policy (see the module documentation)."""

    def decide(self, request: AccessRequest) -> AccessDecision:
        """Allow or deny ``request``."""
        actor = request.actor
        if not actor.active:
            return AccessDecision(False, reason="inactive-actor")
        if request.patient_id is None:
            granted = frozenset().union(
                *(STAFF_PERMISSIONS.get(r, frozenset()) for r in actor.roles)
            )
            if request.permission in granted:
                return AccessDecision(True, PurposeOfUse.HOPERAT, "staff-role")
            return AccessDecision(False, reason="role-does-not-allow")
        roles = {
            m.role
            for m in request.memberships
            if m.patient_id == request.patient_id
            and m.staff_id == actor.id
            and m.active_at(request.at)
        }
        if roles:
            granted = frozenset().union(*(ROLE_PERMISSIONS.get(r, frozenset()) for r in roles))
            if request.permission in granted:
                return AccessDecision(True, PurposeOfUse.TREAT, "care-team-member")
            return AccessDecision(False, reason="role-does-not-allow")
        if request.permission is Permission.READ and self._supervises_a_member(request):
            return AccessDecision(True, PurposeOfUse.HOPERAT, "supervisor")
        for grant in request.emergency:
            if (
                grant.staff_id == actor.id
                and grant.patient_id == request.patient_id
                and grant.active_at(request.at)
                and request.permission in EMERGENCY_PERMISSIONS
            ):
                return AccessDecision(True, PurposeOfUse.ETREAT, "emergency-access")
        return AccessDecision(False, reason="not-on-care-team")

    @staticmethod
    def _supervises_a_member(request: AccessRequest) -> bool:
        for membership in request.memberships:
            if membership.patient_id != request.patient_id or not membership.active_at(request.at):
                continue
            if membership.staff_id not in request.staff:
                continue
            try:
                chain = supervision_chain(membership.staff_id, request.staff)
            except CareCoordError:  # a broken reporting line grants nothing
                continue
            if request.actor.id in chain:
                return True
        return False
