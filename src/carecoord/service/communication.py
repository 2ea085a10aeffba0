"""The patient's language and communication needs: interpreter, contacts' languages.

Kept in one :class:`~carecoord.model.social.CommunicationNeeds` record per
patient; notifications to the patient and their contacts are written in the
language it and the patient's ``language`` give (see :mod:`carecoord.notify.rules`).
"""

from __future__ import annotations

from .. import events as ev
from ..access import Permission
from ..model import PatientId
from ..model.audit import AuditAction
from ..model.social import CommunicationNeeds
from ._admin_util import registered_patient
from ._util import check
from .runner import Context, operation

__all__ = ["communication_needs_of", "set_communication_needs"]


@operation(AuditAction.UPDATE)
def set_communication_needs(ctx: Context, needs: CommunicationNeeds) -> CommunicationNeeds:
    """Record (or replace) how to talk to a patient and their contacts (``edit-patient``).

    Every contact it names must be one of the patient's.
    """
    check(needs, CommunicationNeeds)
    ctx.allow(needs.patient_id, Permission.EDIT_PATIENT, f"CommunicationNeeds/{needs.id}")
    patient = registered_patient(ctx, needs.patient_id)
    for entry in needs.contacts:
        patient.contact(entry.contact_id)
    if ctx.uow.find(CommunicationNeeds, str(needs.id)) is None:
        ctx.action = AuditAction.CREATE
        ctx.uow.add(needs)
    else:
        ctx.uow.save(needs)
    ctx.emit(ev.PatientUpdated(**ctx.common(needs.patient_id)))
    return needs


@operation(AuditAction.READ)
def communication_needs_of(ctx: Context, patient_id: PatientId) -> CommunicationNeeds | None:
    """The patient's communication needs, ``None`` when none are recorded."""
    ctx.allow(patient_id, Permission.READ, f"CommunicationNeeds/{patient_id}")
    return ctx.uow.find(CommunicationNeeds, str(patient_id))
