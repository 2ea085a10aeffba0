"""Care-team use cases: form a team, change its members, lead and status, read teams."""

from __future__ import annotations

from collections.abc import Callable

from .. import events as ev
from ..access import Permission
from ..model import (
    AccessDeniedError,
    CareTeam,
    CareTeamId,
    CareTeamRole,
    CareTeamStatus,
    Membership,
    NotFoundError,
    Patient,
    PatientId,
    Period,
    StaffId,
    StaffMember,
)
from ..model.audit import AuditAction, PurposeOfUse
from ._util import check, code, started, update
from .runner import Context, operation

__all__ = [
    "add_team_member",
    "care_team",
    "care_teams_of",
    "change_team_lead",
    "end_team_membership",
    "form_care_team",
    "form_team",
    "set_team_status",
]


@operation(AuditAction.CREATE)
def form_care_team(
    ctx: Context, team: CareTeam, *, status: CareTeamStatus | str | None = None
) -> CareTeam:
    """Form a care team; the patient and every member must be registered.

    The actor needs the ``manage-team`` permission on the patient — or, for
    the patient's first team, to be a care coordinator or case manager who
    is on the new team. ``status`` (for example ``"active"``) forms the team
    and moves it from its start state (``proposed``) in the same operation;
    the move must be legal in the care-team state machine and is recorded
    in the team's ``history``.
    """
    check(team, CareTeam)
    return form_team(ctx, team, status)


def form_team(ctx: Context, team: CareTeam, status: CareTeamStatus | str | None) -> CareTeam:
    """The work of :func:`form_care_team`, shared with enrolment (``enrol_patient(team=...)``)."""
    uow = ctx.uow
    uow.get(Patient, team.patient_id)
    entity = f"CareTeam/{team.id}"
    if uow.all(CareTeam, patient_id=str(team.patient_id)):
        ctx.allow(team.patient_id, Permission.MANAGE_TEAM, entity)
    else:
        ctx.patient_id = str(team.patient_id)
        ctx.allow_staff(Permission.FORM_TEAM, entity)
        if not any(m.staff_id == ctx.actor_id for m in team.members):
            raise AccessDeniedError(
                f"{ctx.actor_id} may only form a first team they are a member of"
            )
        ctx.purpose = PurposeOfUse.TREAT
    for staff_id in {m.staff_id for m in team.members}:
        if uow.find(StaffMember, staff_id) is None:
            raise NotFoundError(f"team member {staff_id} is not registered")
    team = started(ctx, team, status)
    uow.add(team)
    ctx.emit(
        ev.CareTeamFormed(
            **ctx.common(team.patient_id), team_id=str(team.id), lead_id=str(team.lead_id)
        )
    )
    return team


def _change(
    ctx: Context,
    team_id: CareTeamId,
    change: str | Callable[[CareTeam], str],
    staff_id: StaffId | None,
    edit: Callable[[CareTeam], CareTeam],
) -> CareTeam:

    def checked(old: CareTeam) -> CareTeam:
        if staff_id is not None and ctx.uow.find(StaffMember, staff_id) is None:
            raise NotFoundError(f"staff member {staff_id} is not registered")
        return edit(old)

    team = update(ctx, CareTeam, team_id, Permission.MANAGE_TEAM, checked)[1]
    ctx.emit(
        ev.CareTeamChanged(
            **ctx.common(team.patient_id),
            team_id=str(team.id),
            change=change if isinstance(change, str) else change(team),
            staff_id=None if staff_id is None else str(staff_id),
        )
    )
    return team


@operation(AuditAction.UPDATE)
def add_team_member(
    ctx: Context, team_id: CareTeamId, staff_id: StaffId, role: CareTeamRole
) -> CareTeam:
    """Add ``staff_id`` to the team in ``role`` from now on."""
    member_role = code(CareTeamRole, role, "role")
    return _change(
        ctx,
        team_id,
        "member-added",
        staff_id,
        lambda team: team.with_member(
            Membership(staff_id=staff_id, role=member_role, period=Period(start=ctx.now))
        ),
    )


@operation(AuditAction.UPDATE)
def end_team_membership(ctx: Context, team_id: CareTeamId, staff_id: StaffId) -> CareTeam:
    """End every open membership of ``staff_id`` on the team, now."""
    return _change(
        ctx, team_id, "member-left", staff_id, lambda team: team.end_membership(staff_id, ctx.now)
    )


@operation(AuditAction.UPDATE)
def change_team_lead(ctx: Context, team_id: CareTeamId, staff_id: StaffId) -> CareTeam:
    """Hand the lead to ``staff_id`` (an active member)."""
    return _change(
        ctx, team_id, "lead-changed", staff_id, lambda team: team.with_lead(staff_id, ctx.now)
    )


@operation(AuditAction.UPDATE)
def set_team_status(
    ctx: Context, team_id: CareTeamId, status: CareTeamStatus | str, reason: str | None = None
) -> CareTeam:
    """Move the team to ``status`` (FHIR care-team-status)."""
    return _change(
        ctx,
        team_id,
        lambda team: f"status:{team.status.value}",
        None,
        lambda team: team.transition(status, by=ctx.actor_id, at=ctx.now, reason=reason),
    )


@operation(AuditAction.READ)
def care_team(ctx: Context, team_id: CareTeamId) -> CareTeam:
    """Read a care team."""
    return ctx.load(CareTeam, team_id, Permission.READ)


@operation(AuditAction.READ)
def care_teams_of(ctx: Context, patient_id: PatientId) -> list[CareTeam]:
    """Every care team of a patient."""
    ctx.allow(patient_id, Permission.READ, f"Patient/{patient_id}")
    return ctx.uow.all(CareTeam, patient_id=str(patient_id))
