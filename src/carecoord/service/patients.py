"""Patient use cases: enrol, update and read a patient."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import attrs

from .. import events as ev
from ..access import Permission
from ..model import ConflictError, NotFoundError, Patient, PatientId, ValidationError
from ..model.audit import AuditAction
from ._util import check
from .runner import Context, operation

__all__ = ["enrol_patient", "patient", "update_patient"]


def _born(ctx: Context, patient: Patient) -> None:
    """A birth date may not lie after today in the patient's own time zone."""
    today = ctx.now.astimezone(ZoneInfo(patient.time_zone)).date()
    if patient.birth_date > today:
        raise ValidationError("the birth date is in the future", field="birth_date")


@operation(AuditAction.CREATE)
def enrol_patient(ctx: Context, patient: Patient) -> Patient:
    """Enrol a new patient (``enrolled_at`` defaults to now). Needs staff-wide ``enrol``.

    A birth date after today (in the patient's time zone) is refused.
    """
    check(patient, Patient)
    ctx.allow_staff(Permission.ENROL, entity=f"Patient/{patient.id}")
    ctx.patient_id = str(patient.id)
    _born(ctx, patient)
    enrolled = patient if patient.enrolled_at else attrs.evolve(patient, enrolled_at=ctx.now)
    ctx.uow.add(enrolled)
    ctx.emit(ev.PatientEnrolled(**ctx.common(patient.id)))
    return attrs.evolve(enrolled, revision=1)


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
