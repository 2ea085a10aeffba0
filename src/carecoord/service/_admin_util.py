"""Helpers the patient administration handlers share: create a patient's record, list them."""

from __future__ import annotations

from typing import TypeVar

from ..access import Permission
from ..model import NotFoundError, Patient, PatientId
from ..storage.port import WorkQuery
from ._util import check
from .runner import Context

__all__ = ["create", "listed", "registered_patient"]

R = TypeVar("R")


def registered_patient(ctx: Context, patient_id: PatientId) -> Patient:
    """The patient (after the access check), or :class:`NotFoundError`."""
    patient = ctx.uow.find(Patient, patient_id)
    if patient is None:
        raise NotFoundError(f"patient {patient_id} not found")
    return patient


def create(ctx: Context, record: R, cls: type[R], permission: Permission) -> Patient:
    """Check ``permission`` on the record's patient, add ``record``; returns the patient."""
    check(record, cls)
    patient_id: PatientId = record.patient_id  # type: ignore[attr-defined]
    ctx.allow(patient_id, permission, f"{cls.__name__}/{record.id}")  # type: ignore[attr-defined]
    patient = registered_patient(ctx, patient_id)
    ctx.uow.add(record)
    return patient


def listed(ctx: Context, cls: type[R], category: str, patient_id: PatientId) -> list[R]:
    """The patient's records of ``cls`` (their ``category`` index rows), after a read check."""
    ctx.allow(patient_id, Permission.READ, f"Patient/{patient_id}")
    query = WorkQuery(category=category, patient_ids=(str(patient_id),), open_only=False)
    return [ctx.uow.get(cls, hit.record_id) for hit in ctx.uow.query(query)]
