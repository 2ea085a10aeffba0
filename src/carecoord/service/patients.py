"""Patient use cases: enrol, update and read a patient."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import attrs

from .. import events as ev
from ..access import Permission
from ..model import (
    CareTeam,
    CareTeamId,
    CareTeamRole,
    CareTeamStatus,
    ConflictError,
    Membership,
    NotFoundError,
    Patient,
    PatientId,
    Period,
    ValidationError,
)
from ..model.audit import AuditAction
from ._util import check
from .runner import Context, operation
from .teams import form_team

__all__ = ["enrol_patient", "patient", "update_patient"]


def _born(ctx: Context, patient: Patient) -> None:
    """A birth date may not lie after today in the patient's own time zone."""
    today = ctx.now.astimezone(ZoneInfo(patient.time_zone)).date()
    if patient.birth_date > today:
        raise ValidationError("the birth date is in the future", field="birth_date")


@operation(AuditAction.CREATE)
def enrol_patient(ctx: Context, patient: Patient, *, team: CareTeam | bool = False) -> Patient:
    """Enrol a new patient (``enrolled_at`` defaults to now). Needs staff-wide ``enrol``.

    A birth date after today (in the patient's time zone) is refused.

    Without a care team nobody may read the patient back (records are open to
    the patient's care team). ``team`` forms the first team in the same
    operation, under the rules of :func:`~carecoord.service.teams.form_care_team`
    for a first team (the actor also needs ``form-team`` and must be on it):

    * ``True``: an ``active`` team of one, the enrolling staff member, as lead,
      in the case-manager role if that is one of their roles and they are not
      a care coordinator, otherwise in the care-coordinator role;
    * a :class:`~carecoord.CareTeam` of this patient: formed as given.

    The operation is audited once (the patient's creation); the team's
    formation is announced with a ``CareTeamFormed`` event, as when formed apart.
    """
    check(patient, Patient)
    ctx.allow_staff(Permission.ENROL, entity=f"Patient/{patient.id}")
    ctx.patient_id = str(patient.id)
    _born(ctx, patient)
    first = _first_team(ctx, patient, team)
    enrolled = patient if patient.enrolled_at else attrs.evolve(patient, enrolled_at=ctx.now)
    ctx.uow.add(enrolled)
    ctx.emit(ev.PatientEnrolled(**ctx.common(patient.id)))
    if first is not None:
        form_team(ctx, first[0], first[1])
        ctx.entity = f"Patient/{patient.id}"
    return attrs.evolve(enrolled, revision=1)


def _first_team(
    ctx: Context, patient: Patient, team: object
) -> tuple[CareTeam, CareTeamStatus | None] | None:
    """The team ``enrol_patient(team=...)`` forms, and the status to start it in."""
    if team is False:
        return None
    if team is True:
        roles = ctx.actor.roles
        role = (
            CareTeamRole.CASE_MANAGER
            if CareTeamRole.CASE_MANAGER in roles and CareTeamRole.CARE_COORDINATOR not in roles
            else CareTeamRole.CARE_COORDINATOR
        )
        me = Membership(staff_id=ctx.actor_id, role=role, period=Period(start=ctx.now))
        formed = CareTeam(
            id=CareTeamId.new(), patient_id=patient.id, lead_id=ctx.actor_id, members=(me,)
        )
        return formed, CareTeamStatus.ACTIVE
    if not isinstance(team, CareTeam):
        raise ValidationError("team must be True, False or a CareTeam", field="team")
    if team.patient_id != patient.id:
        raise ValidationError("the team is of another patient", field="team")
    return team, None


@operation(AuditAction.UPDATE)
def update_patient(ctx: Context, patient: Patient) -> Patient:
    """Replace a patient's demographics, preferences and contacts.

    ``patient`` must be a copy read from the service (its ``revision`` is the
    stored version it was read at). If the patient changed since,
    :class:`ConflictError` is raised and nothing changes: read it again,
    re-apply the edit and retry.
    """
    check(patient, Patient)
    ctx.allow(patient.id, Permission.EDIT_PATIENT, f"Patient/{patient.id}")
    _born(ctx, patient)
    if ctx.uow.find(Patient, patient.id) is None:
        raise NotFoundError(f"Patient {patient.id} not found")
    current = ctx.uow.version_of(Patient, patient.id)
    if patient.revision != current:
        raise ConflictError("Patient", str(patient.id), patient.revision)
    ctx.uow.save(patient)
    ctx.emit(ev.PatientUpdated(**ctx.common(patient.id)))
    return attrs.evolve(patient, revision=current + 1)


@operation(AuditAction.READ)
def patient(ctx: Context, patient_id: PatientId) -> Patient:
    """Read a patient (the copy carries its ``revision``, for :func:`update_patient`)."""
    return ctx.load(Patient, patient_id, Permission.READ)
