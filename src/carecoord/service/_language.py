"""The patient's language for the outbox: contacts' languages and the interpreter need.

Read from the patient's :class:`~carecoord.model.social.CommunicationNeeds`
(one record, found by the patient's id) while notifications are planned.
"""

from __future__ import annotations

from typing import Any

from ..model import ContactId, Patient
from ..model.social import CommunicationNeeds
from ..storage.uow import UnitOfWork

__all__ = ["contact_languages", "language_context"]


def contact_languages(uow: UnitOfWork, patient: Patient) -> dict[ContactId, str]:
    """The language recorded for each of ``patient``'s contacts that has one."""
    needs = uow.find(CommunicationNeeds, str(patient.id))
    if needs is None:
        return {}
    return {entry.contact_id: str(entry.language) for entry in needs.contacts}


def language_context(uow: UnitOfWork, patient_id: str | None) -> dict[str, Any]:
    """The context placeholders of an event about ``patient_id``: ``interpreter`` is the
    language an interpreter for the patient must speak, ``None`` when none is needed."""
    if not patient_id:
        return {}
    needs = uow.find(CommunicationNeeds, patient_id)
    if needs is None or not needs.interpreter_needed:
        return {"interpreter": None}
    patient = uow.find(Patient, patient_id)
    language = patient.language if patient is not None else "und"
    return {"interpreter": str(needs.interpreter_for_patient(language))}
